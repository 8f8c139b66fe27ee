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
 * ner_train.c), so it is as noisy as the tagger's own history.
 *
 * Two-sided (NER_F_DOC2, "--doc2"): the history can only pass on what an
 * earlier sentence found. After the first pass over the article, a token
 * also sees the entity types its word (stem) got in later sentences and not
 * before ("after" bits, features T_DOCA0/T_DOCAS0), and the sentences that
 * have such bits are decoded again. The table records, per slot and type, the
 * first and last sentence that gave it; the second pass needs no second
 * table. In training the after bits come from the same jackknifed first-pass
 * tags as the history, over the later sentences of the pseudo-article. */
#include <stdlib.h>
#include <string.h>

#include "ner_internal.h"

#define STEM_SALT 0x57e4u

void ner_hist_reset(ner_hist *h)
{
    memset(h->key, 0, sizeof h->key);
    h->n = 0;
    h->doc = NULL;
    h->sent = 0;
    h->used = NULL;
}

void ner_hist_clear(ner_hist *h)
{
    for (size_t k = 0; k < h->n; k++)
        h->key[h->used[k]] = 0;
    h->n = 0;
    h->doc = NULL;
    h->sent = 0;
}

static size_t hist_slot(const ner_hist *h, uint32_t key) { return ner_probe(h->key, NER_HIST_CAP, key); }

/* hist_slot() of a nonzero key from slot j on: j is on the key's probe path
 * (every slot from its home to j held another key when j was found), and
 * keys are never removed, so the probe goes on from there. */
static inline size_t hist_slot_from(const ner_hist *h, uint32_t key, size_t j)
{
    while (h->key[j] && h->key[j] != key)
        j = (j + 1) & (NER_HIST_CAP - 1);
    return j;
}

/* hist_or() of a nonzero key whose probe starts at slot j (see
 * hist_slot_from). */
static inline unsigned hist_or_from(ner_hist *h, uint32_t key, size_t j, uint8_t bits)
{
    j = hist_slot_from(h, key, j);
    if (!h->key[j]) {
        if ((h->n + 1) * 4 > NER_HIST_CAP * 3)
            return NER_HIST_NONE; /* full: keep the probes short */
        h->key[j] = key;
        h->val[j] = 0;
        if (h->used)
            h->used[h->n] = (uint16_t)j;
        h->n++;
        if (h->doc)
            h->doc->lim[j] = 0;
    }
    if (h->doc) {
        /* type b has after bits in the sentences s <= first (first < last)
         * or s < first (first == last): lim = the largest such bound */
        ner_doc *dc = h->doc;
        for (unsigned tb = bits & 0x0Fu; tb; tb &= tb - 1) {
            unsigned b = (unsigned)__builtin_ctz(tb), lim;
            if (!(h->val[j] & (1u << b)))
                dc->first[j][b] = (uint16_t)h->sent;
            lim = dc->first[j][b] + (h->sent > dc->first[j][b]);
            dc->last[j][b] = (uint16_t)h->sent;
            if (lim > dc->lim[j])
                dc->lim[j] = (uint16_t)lim;
        }
    }
    h->val[j] |= bits;
    return (unsigned)j;
}

/* ORs bits into the entry of key; returns its slot, NER_HIST_NONE when the
 * table is full. With h->doc, records the sentence h->sent as the first (if
 * new) and the last one of each entity type in bits, and the slot's lim. */
static unsigned hist_or(ner_hist *h, uint32_t key, uint8_t bits)
{
    if (!key)
        key = 1;
    return hist_or_from(h, key, key & (NER_HIST_CAP - 1), bits);
}

static uint8_t hist_get(const ner_hist *h, uint32_t key)
{
    if (!key)
        key = 1;
    size_t j = hist_slot(h, key);
    return h->key[j] ? h->val[j] : 0;
}

static uint8_t tag_bits(unsigned tag)
{
    return tag ? (uint8_t)(1u << ((tag + 1) / 2 - 1)) : NER_HIST_O;
}

void ner_hist_refill(ner_hist *h, const uint32_t *word, const uint32_t *stem, const uint8_t *punct,
                     const uint8_t *tags, size_t from, size_t to)
{
    ner_hist_reset(h);
    for (size_t j = from; j < to; j++)
        if (!punct[j])
            ner_hist_put(h, word[j], stem[j], tags[j]);
}

void ner_hist_put(ner_hist *h, uint32_t word, uint32_t stem, unsigned tag)
{
    uint8_t bits = tag_bits(tag);
    hist_or(h, word, bits);
    hist_or(h, ner_mix(stem, STEM_SALT), bits);
}

void ner_hist_add(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!d[i].punct)
            ner_hist_put(h, d[i].word, d[i].stem, tags[i]);
}

void ner_hist_add_doc(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n,
                      uint16_t *slot)
{
    for (size_t i = 0; i < n; i++) {
        slot[2 * i] = slot[2 * i + 1] = NER_HIST_NONE;
        if (d[i].punct)
            continue;
        uint8_t bits = tag_bits(tags[i]);
        slot[2 * i] = (uint16_t)hist_or(h, d[i].word, bits);
        slot[2 * i + 1] = (uint16_t)hist_or(h, ner_mix(d[i].stem, STEM_SALT), bits);
    }
}

uint8_t ner_doc_after(const ner_hist *h, unsigned j, unsigned s)
{
    if (j == NER_HIST_NONE || s >= h->doc->lim[j])
        return 0;
    unsigned v = 0; /* first <= last: a type set after s and not before */
    for (unsigned b = 0; b < NER_NTYPES; b++)
        v |= (unsigned)((h->val[j] >> b) & 1u && h->doc->last[j][b] > s &&
                        h->doc->first[j][b] >= s)
             << b;
    return (uint8_t)v;
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

void ner_hist_mark_keys(const ner_hist *h, size_t n, ner_tokdesc *d, uint32_t *key, uint16_t *slot)
{
    for (size_t i = 0; i < n; i++) {
        if (d[i].punct)
            continue;
        const uint32_t kw = d[i].word ? d[i].word : 1, ks = ner_mix(d[i].stem, STEM_SALT);
        const size_t jw = hist_slot(h, kw), js = hist_slot(h, ks);
        key[2 * i] = kw;
        key[2 * i + 1] = ks;
        slot[2 * i] = (uint16_t)jw;
        slot[2 * i + 1] = (uint16_t)js;
        if (h->n) { /* = ner_hist_mark */
            d[i].hist = h->key[jw] ? h->val[jw] : 0;
            d[i].hist_stem = h->key[js] ? h->val[js] : 0;
        }
    }
}

void ner_hist_add_keys(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n,
                       const uint32_t *key, const uint16_t *slot)
{
    for (size_t i = 0; i < n; i++) {
        if (d[i].punct)
            continue;
        const uint8_t bits = tag_bits(tags[i]); /* = ner_hist_put */
        hist_or_from(h, key[2 * i], slot[2 * i], bits);
        hist_or_from(h, key[2 * i + 1], slot[2 * i + 1], bits);
    }
}

void ner_hist_mark_after(const ner_hist *later, size_t n, ner_tokdesc *d)
{
    if (!later->n)
        return;
    for (size_t i = 0; i < n; i++) {
        if (d[i].punct)
            continue;
        d[i].after = hist_get(later, d[i].word) & ~d[i].hist & 0x0Fu;
        d[i].after_stem = hist_get(later, ner_mix(d[i].stem, STEM_SALT)) & ~d[i].hist_stem & 0x0Fu;
    }
}

/* ---- tagging with the history ---- */

/* At run time ner_model_tag runs the history itself for a NER_F_HIST model
 * (its scratch holds the table). The corpus evaluation below rebuilds the
 * history per sentence from a window of pseudo-article sentences. */

/* One sentence of ner_tag_corpus_doc: score with the model, decode. */
typedef struct hist_tagging {
    const ner_model *m;
    float *emit;
    uint8_t *bp;
} hist_tagging;

static int hist_tag_sentence(void *arg, const ner_tokdesc *d, size_t n, uint8_t *tags)
{
    hist_tagging *t = arg;
    ner_emissions(t->m, d, n, t->emit);
    ner_viterbi(t->emit, (const float(*)[NER_NTAGS])t->m->trans, n, t->bp, tags);
    return 0;
}

int ner_hist_walk(const ner_model *m, const ner_corpus *c, int hist, uint8_t *pred,
                  int (*tag)(void *arg, const ner_tokdesc *d, size_t n, uint8_t *tags),
                  void *arg)
{
    size_t maxlen = ner_corpus_maxlen(c);
    ner_hist *h = malloc(sizeof *h);
    ner_tokdesc *d = malloc(maxlen * sizeof *d);
    /* word and stem hashes of every token, for rebuilding the window */
    uint32_t *word = malloc((c->ntok + 1) * sizeof *word);
    uint32_t *stem = malloc((c->ntok + 1) * sizeof *stem);
    uint8_t *punct = malloc(c->ntok + 1);
    int rc = NAHR_ENOMEM;
    if (!h || !d || !word || !stem || !punct)
        goto done;
    for (size_t k = 0; k < c->nsent; k++) {
        size_t a = c->sent[k], n = c->sent[k + 1] - a;
        ner_describe(m, c->text, c->toks + a, n, d);
        if (hist) {
            size_t w0 = m->hist_window ? k - k % m->hist_window : k;
            ner_hist_refill(h, word, stem, punct, pred, c->sent[w0], a);
            ner_hist_mark(h, n, d);
        }
        if ((rc = tag(arg, d, n, pred + a)) != 0)
            goto done;
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
    free(word);
    free(stem);
    free(punct);
    return rc;
}

/* A two-sided model (NER_F_DOC2) or one with the article context or topic
 * (NER_F_ACTX, NER_F_TOPIC): each pseudo-article is one ner_model_tag call, the path of
 * the run time (both passes; the article-context pass first). */
static int tag_corpus_windows(const ner_model *m, const ner_corpus *c, uint8_t *pred)
{
    size_t w = m->hist_window, maxtok = 1;
    for (size_t k = 0; k < c->nsent; k += w) {
        size_t e = k + w < c->nsent ? k + w : c->nsent;
        if (c->sent[e] - c->sent[k] > maxtok)
            maxtok = c->sent[e] - c->sent[k];
    }
    void *scratch = malloc(ner_model_scratch_size(m, maxtok));
    if (!scratch)
        return NAHR_ENOMEM;
    int rc = 0;
    for (size_t k = 0; k < c->nsent && rc == 0; k += w) {
        size_t e = k + w < c->nsent ? k + w : c->nsent;
        rc = ner_model_tag(m, c->text, c->toks + c->sent[k], c->sent[e] - c->sent[k], scratch,
                           pred + c->sent[k]);
    }
    free(scratch);
    return rc;
}

int ner_tag_corpus_doc(const ner_model *m, const ner_corpus *c, uint8_t *pred)
{
    if (!(m->flags & (NER_F_HIST | NER_F_ARTICLE)) ||
        ((m->flags & (NER_F_DOC2 | NER_F_ARTICLE)) && !m->hist_window))
        return ner_tag_corpus(m, c, pred);
    if (m->flags & (NER_F_DOC2 | NER_F_ARTICLE))
        return tag_corpus_windows(m, c, pred);
    size_t maxlen = ner_corpus_maxlen(c);
    hist_tagging t = {m, malloc(maxlen * NER_NTAGS * sizeof *t.emit), malloc(maxlen * NER_NTAGS)};
    int rc = t.emit && t.bp ? ner_hist_walk(m, c, 1, pred, hist_tag_sentence, &t) : NAHR_ENOMEM;
    free(t.emit);
    free(t.bp);
    return rc;
}
