/* ner_news.c - evidence from unlabelled news for the NER tagger (NER_F_NEWS):
 * an automatic gazetteer. Names that nobody annotated occur many times in
 * the news, often in contexts a model recognises (after a title, in a
 * list of clubs); tagging the news with a first model and counting, for
 * each frequent word and stem, how often it came out inside an entity of
 * each type gives a per-word feature that carries those easy mentions over
 * to the hard ones (a bare club name, a bare first name).
 *
 * The trainer jackknifes it (ner_train.c): the training sentences of fold k
 * see the table made by a model that never saw fold k, so the feature is as
 * reliable in training as on new text. This file keeps the news in memory
 * (read and tokenised once) and makes one table per model. */
#include <stdlib.h>
#include <string.h>

#include "ner_cache.h"
#include "ner_internal.h"

struct ner_news {
    char *text;          /* the articles' texts, one after the other */
    size_t textlen, textcap;
    nahr_token *toks;    /* offsets relative to the article's text */
    size_t ntok, tokcap;
    size_t *art_text;    /* article k: text from art_text[k] ... */
    size_t *art_tok;     /* ... tokens [art_tok[k], art_tok[k + 1]) */
    size_t nart, artcap, atcap;
    uint32_t *wid;       /* per token: word id */
    size_t widcap;
    uint32_t *whash;     /* per word id: normalised word hash */
    uint32_t *sid;       /* per word id: stem id */
    size_t sidcap;
    uint32_t *shash;     /* per stem id: stem hash */
    size_t nword, wcap, nstem, scap;
    ner_set wmap, smap;  /* hash -> id */
    size_t maxart;       /* tokens of the longest article */
};

/* Id of a stem hash, added when new. */
static long stem_id(ner_news *nw, uint32_t h)
{
    const uint64_t *v = ner_set_get(&nw->smap, h);
    if (v)
        return (long)*v;
    if (ner_grow((void **)&nw->shash, &nw->scap, nw->nstem + 1, sizeof *nw->shash) != 0 ||
        ner_set_put(&nw->smap, h, nw->nstem, 0) != 0)
        return NAHR_ENOMEM;
    nw->shash[nw->nstem] = h;
    return (long)nw->nstem++;
}

static int add_article(const char *text, const nahr_token *toks, const uint32_t *h, size_t n,
                       void *arg)
{
    ner_news *nw = arg;
    if (n == 0)
        return 0;
    size_t len = toks[n - 1].end;
    if (ner_grow((void **)&nw->text, &nw->textcap, nw->textlen + len, 1) != 0 ||
        ner_grow((void **)&nw->toks, &nw->tokcap, nw->ntok + n, sizeof *nw->toks) != 0 ||
        ner_grow((void **)&nw->wid, &nw->widcap, nw->ntok + n, sizeof *nw->wid) != 0 ||
        ner_grow((void **)&nw->art_text, &nw->artcap, nw->nart + 1, sizeof *nw->art_text) != 0 ||
        ner_grow((void **)&nw->art_tok, &nw->atcap, nw->nart + 2, sizeof *nw->art_tok) != 0)
        return NAHR_ENOMEM;
    memcpy(nw->text + nw->textlen, text, len);
    memcpy(nw->toks + nw->ntok, toks, n * sizeof *toks);
    for (size_t i = 0; i < n; i++) {
        const uint64_t *v = ner_set_get(&nw->wmap, h[i]);
        if (!v) { /* a new word: its stem, as the tagger computes it */
            static const ner_model plain; /* no clusters, no tables */
            ner_tokdesc d;
            ner_describe_token(&plain, text + toks[i].start, toks[i].end - toks[i].start, &d);
            long s = stem_id(nw, d.stem);
            if (s < 0 ||
                ner_grow((void **)&nw->whash, &nw->wcap, nw->nword + 1, sizeof *nw->whash) != 0 ||
                ner_grow((void **)&nw->sid, &nw->sidcap, nw->nword + 1, sizeof *nw->sid) != 0 ||
                ner_set_put(&nw->wmap, h[i], nw->nword, 0) != 0)
                return NAHR_ENOMEM;
            nw->whash[nw->nword] = h[i];
            nw->sid[nw->nword] = (uint32_t)s;
            nw->nword++;
            v = ner_set_get(&nw->wmap, h[i]);
        }
        nw->wid[nw->ntok + i] = (uint32_t)*v;
    }
    nw->art_text[nw->nart] = nw->textlen;
    nw->art_tok[nw->nart] = nw->ntok;
    nw->nart++;
    nw->textlen += len;
    nw->ntok += n;
    nw->art_tok[nw->nart] = nw->ntok;
    if (n > nw->maxart)
        nw->maxart = n;
    return 0;
}

void ner_news_free(ner_news *nw)
{
    if (!nw)
        return;
    free(nw->text);
    free(nw->toks);
    free(nw->art_text);
    free(nw->art_tok);
    free(nw->wid);
    free(nw->whash);
    free(nw->sid);
    free(nw->shash);
    ner_set_free(&nw->wmap);
    ner_set_free(&nw->smap);
    free(nw);
}

int ner_news_load(const char *const *files, size_t nfiles, ner_news **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    ner_news *nw = calloc(1, sizeof *nw);
    if (!nw) {
        snprintf(err, errlen, "out of memory reading the news");
        return NAHR_ENOMEM;
    }
    if (errlen)
        err[0] = '\0';
    int rc = ner_for_each_article(files, nfiles, add_article, nw, err, errlen);
    if (rc != 0) {
        if (errlen && !err[0])
            snprintf(err, errlen, "out of memory reading the news");
        ner_news_free(nw);
        return rc;
    }
    *out = nw;
    return 0;
}

size_t ner_news_bytes(const ner_news *nw) { return nw ? nw->textlen : 0; }

const uint16_t ner_news_thresholds[3] = {100, 300, 600};
const uint16_t ner_news_thresholds_low[3] = {30, 150, 500};

/* 0..3: k / n below thr[0], at least thr[0], thr[1], thr[2] (per mille) */
static unsigned bucket(uint32_t k, uint32_t n, const uint16_t thr[3])
{
    uint64_t k1000 = (uint64_t)k * 1000;
    unsigned b = 0;
    while (b < 3 && k1000 >= (uint64_t)n * thr[b])
        b++;
    return b;
}

uint8_t ner_news_pack_at(const uint32_t cnt[NER_NTYPES + 1], const uint16_t thr[3])
{
    unsigned v = 0;
    if (cnt[0] == 0)
        return 0;
    for (unsigned t = 1; t <= NER_NTYPES; t++)
        v |= bucket(cnt[t], cnt[0], thr) << (2 * (t - 1));
    return (uint8_t)v;
}

uint8_t ner_news_pack(const uint32_t cnt[NER_NTYPES + 1])
{
    return ner_news_pack_at(cnt, ner_news_thresholds);
}

/* Counts of word ids (or stem ids) with at least min occurrences into table. */
static int put_counts(ner_set *table, const uint32_t (*cnt)[NER_NTYPES + 1], const uint32_t *hash,
                      size_t n, unsigned min, const uint16_t thr[3], int stems)
{
    for (size_t i = 0; i < n; i++) {
        if (cnt[i][0] < min || cnt[i][0] == 0)
            continue;
        uint32_t key = stems ? NER_NEWS_STEM_KEY(hash[i]) : hash[i];
        if (ner_set_put(table, key, ner_news_pack_at(cnt[i], thr), 0) != 0)
            return NAHR_ENOMEM;
    }
    return 0;
}

int ner_news_table(const ner_model *m, const ner_news *nw, unsigned min_count,
                   const uint16_t thr[3], ner_set *table)
{
    return ner_news_tables(m, nw, min_count, thr, table, NULL);
}

int ner_news_tables(const ner_model *m, const ner_news *nw, unsigned min_count,
                    const uint16_t thr[3], ner_set *table, uint8_t *agree)
{
    ner_set_free(table);
    uint32_t(*wc)[NER_NTYPES + 1] = calloc(nw->nword + 1, sizeof *wc);
    uint32_t(*sc)[NER_NTYPES + 1] = calloc(nw->nstem + 1, sizeof *sc);
    uint8_t *tags = malloc(nw->maxart + 1);
    void *scratch = malloc(ner_model_scratch_size(m, nw->maxart));
    ner_cache *cache = ner_cache_new();
    int rc = NAHR_ENOMEM;
    if (!wc || !sc || !tags || !scratch || !cache)
        goto fail;
    for (size_t k = 0; k < nw->nart; k++) {
        size_t a = nw->art_tok[k], n = nw->art_tok[k + 1] - a;
        if ((rc = ner_model_tag_cached(m, cache, nw->text + nw->art_text[k], nw->toks + a, n,
                                       scratch, tags)) != 0)
            goto fail;
        for (size_t i = 0; agree && i < n; i++)
            if (agree[a + i] == NER_AGREE_UNSET)
                agree[a + i] = tags[i];
            else if (agree[a + i] != tags[i])
                agree[a + i] = NER_AGREE_NO;
        for (size_t i = 0; i < n; i++) {
            uint32_t w = nw->wid[a + i], s = nw->sid[w];
            unsigned ty = tags[i] ? (tags[i] + 1u) / 2u : 0;
            wc[w][0]++;
            sc[s][0]++;
            if (ty) {
                wc[w][ty]++;
                sc[s][ty]++;
            }
        }
    }
    if ((rc = put_counts(table, (const uint32_t(*)[NER_NTYPES + 1])wc, nw->whash, nw->nword,
                         min_count, thr, 0)) != 0 ||
        (rc = put_counts(table, (const uint32_t(*)[NER_NTYPES + 1])sc, nw->shash, nw->nstem,
                         min_count, thr, 1)) != 0)
        goto fail;
    rc = 0;
fail:
    if (rc != 0)
        ner_set_free(table);
    free(wc);
    free(sc);
    free(tags);
    free(scratch);
    ner_cache_free(cache);
    return rc;
}

size_t ner_news_ntok(const ner_news *nw) { return nw ? nw->ntok : 0; }

/* Sentence [a, b) of the news qualifies for ner_news_select. */
static int agreed(const ner_news *nw, const uint8_t *agree, const ner_set *known, size_t a,
                  size_t b)
{
    if (b - a < 5 || b - a > 100)
        return 0;
    int ent = 0;
    for (size_t i = a; i < b; i++) {
        if (agree[i] >= NER_NTAGS)
            return 0;
        if (agree[i] && (!known || !ner_set_get(known, nw->whash[nw->wid[i]])))
            ent = 1;
    }
    return ent;
}

/* Counts the qualifying sentences (out NULL), or copies every step-th of
 * them, at most max, into out and counts those. */
static size_t each_agreed(const ner_news *nw, const uint8_t *agree, const ner_set *known,
                          size_t step, size_t max, ner_corpus *out)
{
    size_t found = 0, taken = 0, tl = 0;
    for (size_t k = 0; k < nw->nart; k++) {
        size_t a = nw->art_tok[k], e = nw->art_tok[k + 1];
        for (size_t i = a; i < e;) {
            size_t j = i;
            while (j + 1 < e && !(nw->toks[j].flags & NAHR_TOK_SENT_END))
                j++;
            j++; /* sentence [i, j) */
            if (agreed(nw, agree, known, i, j) && found++ % step == 0 && taken < max) {
                if (out) {
                    const char *text = nw->text + nw->art_text[k];
                    out->sent[taken] = out->ntok;
                    for (size_t t = i; t < j; t++) {
                        size_t len = nw->toks[t].end - nw->toks[t].start;
                        memcpy(out->text + tl, text + nw->toks[t].start, len);
                        out->toks[out->ntok] = (nahr_token){.start = tl, .end = tl + len};
                        out->gold[out->ntok++] = agree[t];
                        tl += len;
                        out->text[tl++] = t + 1 < j ? ' ' : '\n';
                    }
                    out->toks[out->ntok - 1].flags = NAHR_TOK_SENT_END;
                    out->sent[taken + 1] = out->ntok;
                    out->textlen = tl;
                }
                taken++;
            }
            i = j;
        }
    }
    return out ? taken : found;
}

int ner_news_select(const ner_news *nw, const uint8_t *agree, size_t max, const ner_set *known,
                    ner_corpus *out)
{
    memset(out, 0, sizeof *out);
    size_t found = each_agreed(nw, agree, known, 1, SIZE_MAX, NULL);
    if (found == 0 || max == 0)
        return 0;
    size_t step = found > max ? (found + max - 1) / max : 1; /* spread over the news */
    out->text = malloc(nw->textlen + nw->ntok + 1);
    out->toks = malloc((nw->ntok + 1) * sizeof *out->toks);
    out->gold = malloc(nw->ntok + 1);
    out->sent = malloc((max + 2) * sizeof *out->sent);
    if (!out->text || !out->toks || !out->gold || !out->sent) {
        ner_corpus_free(out);
        return NAHR_ENOMEM;
    }
    out->sent[0] = 0;
    out->nsent = each_agreed(nw, agree, known, step, max, out);
    return 0;
}
