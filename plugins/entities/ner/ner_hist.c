/* ner_hist.c - document consistency for the NER tagger: a table of how each
 * word was tagged earlier in the same article, read as features by the later
 * mentions ("prediction history", Ratinov & Roth 2009). A name is often
 * written in full with a title the first time and bare afterwards; the first
 * mention is the easy one.
 *
 * Run time (ner_model_tag): one article per call, the table grows sentence
 * by sentence.
 * Training and corpus evaluation: ANERcorp has no article marks, so the
 * corpus is cut into pseudo-articles of m->hist_window sentences (stored in
 * the model) and a sentence sees the sentences before it in its block: the
 * first sentence of a block has no history, like the first sentence of an
 * article. In training the history holds the predictions of a
 * first model that did not see the sentence (10-fold jackknife, see
 * ner_train.c), so it is as noisy as the tagger's own history. */
#include <stdlib.h>
#include <string.h>

#include "ner_internal.h"

#define STEM_SALT 0x57e4u

void ner_hist_reset(ner_hist *h)
{
    memset(h->key, 0, sizeof h->key);
    h->n = 0;
}

static size_t hist_slot(const ner_hist *h, uint32_t key)
{
    size_t j = key & (NER_HIST_CAP - 1);
    while (h->key[j] && h->key[j] != key)
        j = (j + 1) & (NER_HIST_CAP - 1);
    return j;
}

static void hist_or(ner_hist *h, uint32_t key, uint8_t bits)
{
    if (!key)
        key = 1;
    size_t j = hist_slot(h, key);
    if (!h->key[j]) {
        if ((h->n + 1) * 4 > NER_HIST_CAP * 3)
            return; /* full: keep the probes short */
        h->key[j] = key;
        h->val[j] = 0;
        h->n++;
    }
    h->val[j] |= bits;
}

static uint8_t hist_get(const ner_hist *h, uint32_t key)
{
    if (!key)
        key = 1;
    size_t j = hist_slot(h, key);
    return h->key[j] ? h->val[j] : 0;
}

void ner_hist_put(ner_hist *h, uint32_t word, uint32_t stem, unsigned tag)
{
    uint8_t bits = tag ? (uint8_t)(1u << ((tag + 1) / 2 - 1)) : NER_HIST_O;
    hist_or(h, word, bits);
    hist_or(h, ner_mix(stem, STEM_SALT), bits);
}

void ner_hist_add(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!d[i].punct)
            ner_hist_put(h, d[i].word, d[i].stem, tags[i]);
}

void ner_hist_mark(const ner_hist *h, size_t n, ner_tokdesc *d)
{
    if (!h->n)
        return;
    for (size_t i = 0; i < n; i++) {
        if (d[i].punct)
            continue;
        d[i].hist = hist_get(h, d[i].word);
        d[i].hist_stem = hist_get(h, ner_mix(d[i].stem, STEM_SALT));
    }
}

/* ---- tagging with the history ---- */

/* At run time ner_model_tag runs the history itself for a NER_F_HIST model
 * (its scratch holds the table). The corpus evaluation below rebuilds the
 * history per sentence from a window of pseudo-article sentences. */

/* One sentence: describe, read the history, score, decode, and (update)
 * record the result. */
static void tag_sentence_hist(const ner_model *m, const char *text, const nahr_token *toks,
                              size_t n, ner_tokdesc *d, float *emit, uint8_t *bp, uint8_t *tags,
                              ner_hist *h, int update)
{
    ner_describe(m, text, toks, n, d);
    ner_hist_mark(h, n, d);
    ner_emissions(m, d, n, emit);
    ner_viterbi(emit, (const float(*)[NER_NTAGS])m->trans, n, bp, tags);
    if (update)
        ner_hist_add(h, d, tags, n);
}

int ner_tag_corpus_doc(const ner_model *m, const ner_corpus *c, uint8_t *pred)
{
    if (!(m->flags & NER_F_HIST))
        return ner_tag_corpus(m, c, pred);
    size_t maxlen = 1;
    for (size_t k = 0; k < c->nsent; k++)
        if (c->sent[k + 1] - c->sent[k] > maxlen)
            maxlen = c->sent[k + 1] - c->sent[k];
    ner_hist *h = malloc(sizeof *h);
    ner_tokdesc *d = malloc(maxlen * sizeof *d);
    float *emit = malloc(maxlen * NER_NTAGS * sizeof *emit);
    uint8_t *bp = malloc(maxlen * NER_NTAGS);
    /* word and stem hashes of every token, for rebuilding the window */
    uint32_t *word = malloc((c->ntok + 1) * sizeof *word);
    uint32_t *stem = malloc((c->ntok + 1) * sizeof *stem);
    uint8_t *punct = malloc(c->ntok + 1);
    int rc = NAHR_ENOMEM;
    if (!h || !d || !emit || !bp || !word || !stem || !punct)
        goto done;
    for (size_t k = 0; k < c->nsent; k++) {
        size_t a = c->sent[k], n = c->sent[k + 1] - a;
        size_t w0 = m->hist_window ? k - k % m->hist_window : k;
        ner_hist_reset(h);
        for (size_t j = c->sent[w0]; j < a; j++)
            if (!punct[j])
                ner_hist_put(h, word[j], stem[j], pred[j]);
        tag_sentence_hist(m, c->text, c->toks + a, n, d, emit, bp, pred + a, h, 0);
        for (size_t i = 0; i < n; i++) {
            word[a + i] = d[i].word;
            stem[a + i] = d[i].stem;
            punct[a + i] = d[i].punct;
        }
    }
    rc = 0;
done:
    free(h);
    free(d);
    free(emit);
    free(bp);
    free(word);
    free(stem);
    free(punct);
    return rc;
}
