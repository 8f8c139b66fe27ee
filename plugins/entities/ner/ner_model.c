/* ner_model.c - features, Viterbi decoding and the model file of the NER
 * tagger. The model is read-only after load; every per-call buffer lives in
 * the caller's scratch. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ner_cache.h"
#include "ner_internal.h"

static const char *const tag_names[NER_NTAGS] = {"O",     "B-PER", "I-PER",  "B-LOC", "I-LOC",
                                                  "B-ORG", "I-ORG", "B-MISC", "I-MISC"};
const char *const ner_type_names[NER_NTYPES + 1] = {"ALL", "PER", "LOC", "ORG", "MISC"};

const char *ner_tag_name(unsigned t) { return t < NER_NTAGS ? tag_names[t] : NULL; }

const char *ner_tag_type(unsigned t)
{
    return (t > 0 && t < NER_NTAGS) ? ner_type_names[(t + 1) / 2] : NULL;
}

/* ---- hashing ---- */

/* The hashes are part of the model file (feature keys, gazetteer and cluster
 * keys): their values must never change. ner_mix, ner_hash_bytes and
 * ner_set_get are defined inline here so that the per-token loops of this
 * file (ner_describe, ner_features, tagging) do not pay a call for each of
 * the ~40 features of a token; the header's declarations keep them external. */
#define NER_HOT __attribute__((always_inline)) inline

static inline uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

NER_HOT uint32_t ner_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return fmix32(h ^ (uint32_t)n);
}

NER_HOT uint32_t ner_mix(uint32_t a, uint32_t b)
{
    uint32_t h = fmix32(a * 0x9e3779b1u + fmix32(b + 0x7f4a7c15u));
    return h ? h : 1u; /* 0 marks an empty slot */
}

uint32_t ner_phrase_step(uint32_t h, uint32_t word) { return ner_mix(h ^ 0x5bd1e995u, word); }

uint32_t ner_word_hash(const char *s, size_t n, char *norm, size_t *nlen)
{
    char buf[NER_MAXTOKB + 1];
    char *out = norm ? norm : buf;
    if (n > NER_MAXTOKB)
        n = NER_MAXTOKB;
    size_t k = nahr_ar_normalize(s, n, out, NULL);
    if (nlen)
        *nlen = k;
    return ner_hash_bytes(out, k);
}

/* ---- token descriptions ---- */

enum { SH_AR = 1, SH_DIGIT = 2, SH_LATIN = 4, SH_UPPER = 8, SH_PUNCT = 16, SH_OTHER = 32 };

/* Byte offsets of the first k code points / of the last k code points. */
static size_t cp_prefix(const char *s, size_t n, unsigned k)
{
    size_t i = 0;
    while (k-- && i < n) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

static size_t cp_suffix(const char *s, size_t n, unsigned k)
{
    size_t i = n;
    while (k-- && i > 0) {
        i--;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
            i--;
    }
    return i;
}

static uint32_t shape_of(const char *s, size_t n, const char *orig, size_t on, int *punct)
{
    unsigned cls = 0, ncp = 0;
    size_t i = 0;
    while (i < n) {
        int32_t cp = nahr_utf8_next(s, n, &i);
        ncp++;
        if (cp >= '0' && cp <= '9')
            cls |= SH_DIGIT;
        else if ((cp >= 'a' && cp <= 'z'))
            cls |= SH_LATIN;
        else if (nahr_ar_is_letter(cp))
            cls |= SH_AR;
        else if (cp < 0x80 || (cp >= 0x2000 && cp <= 0x206F) || cp == 0x060C || cp == 0x061B ||
                 cp == 0x061F || cp == 0x066A || cp == 0x066B || cp == 0x066C || cp == 0x06D4 ||
                 cp == 0xAB || cp == 0xBB)
            cls |= SH_PUNCT;
        else
            cls |= SH_OTHER;
    }
    /* capitalised Latin word (the normaliser lowers ASCII, so look at the original) */
    if (on > 0 && orig[0] >= 'A' && orig[0] <= 'Z')
        cls |= SH_UPPER;
    unsigned len = ncp <= 4 ? ncp : ncp <= 6 ? 5 : ncp <= 9 ? 6 : 7;
    *punct = (cls == SH_PUNCT);
    return cls * 8 + len;
}

/* Marks gazetteer phrases over one sentence: a phrase may start with a
 * proclitic-stripped form of its first word. Every proper prefix of a
 * phrase is in the set with NER_GAZ_PREFIX, so the search stops as soon as
 * no phrase continues. */
static void mark_gazetteers(const ner_model *m, size_t n, ner_tokdesc *d)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d[i].nsplit; k++) {
            uint32_t h = ner_phrase_step(0, k ? d[i].stm[k] : d[i].word);
            for (size_t len = 1; len <= m->gaz_maxlen && i + len <= n; len++) {
                if (len > 1)
                    h = ner_phrase_step(h, d[i + len - 1].word);
                const uint64_t *v = ner_set_get(&m->gaz, h);
                if (!v)
                    break;
                uint8_t mask = (uint8_t)(*v & 0xFFu);
                if (mask) {
                    d[i].gaz_b |= mask;
                    for (size_t j = 1; j < len; j++)
                        d[i + j].gaz_i |= mask;
                }
            }
        }
    }
}

/* context values beyond the sentence ends */
#define BOS(k) (0xB0500000u + (k))
#define EOS(k) (0xE0500000u + (k))

/* 1 opening, 2 closing, 3 either (straight double quote), 0 other. */
static unsigned quote_kind(const char *w, size_t n)
{
    if (n == 1 && w[0] == '"')
        return 3;
    if (n == 2 && (unsigned char)w[0] == 0xC2)
        return (unsigned char)w[1] == 0xAB ? 1 : (unsigned char)w[1] == 0xBB ? 2 : 0;
    if (n == 3 && (unsigned char)w[0] == 0xE2 && (unsigned char)w[1] == 0x80)
        return (unsigned char)w[2] == 0x9C ? 1 : (unsigned char)w[2] == 0x9D ? 2 : 0;
    return 0;
}

/* Marks the words of short quotations (at most 8 words between a pair of
 * quotation marks of the sentence): names of programmes, books, car models
 * and newspapers are written so, often after a word saying what they are. */
static void mark_quotes(const char *text, const nahr_token *toks, size_t n, ner_tokdesc *d)
{
    size_t open = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!d[i].punct)
            continue;
        unsigned q = quote_kind(text + toks[i].start, toks[i].end - toks[i].start);
        if (!q)
            continue;
        if (open != SIZE_MAX && (q & 2u)) {
            if (i - open >= 2 && i - open <= 9) {
                uint32_t trig = open > 0 ? d[open - 1].stem : BOS(1);
                for (size_t j = open + 1; j < i; j++) {
                    d[j].quote = j == open + 1 ? 1 : 2;
                    d[j].qtrig = trig;
                }
            }
            open = SIZE_MAX;
        } else if (q & 1u) {
            open = i;
        }
    }
}

void ner_describe_token(const ner_model *m, const char *w, size_t wn, ner_tokdesc *t)
{
    char norm[NER_MAXTOKB + 1];
    size_t nlen;
    memset(t, 0, sizeof *t);
    t->word = ner_word_hash(w, wn, norm, &nlen);
    int punct;
    t->shape = shape_of(norm, nlen, w, wn, &punct);
    t->punct = (uint8_t)punct;
    for (unsigned k = 0; k < 3; k++) {
        size_t p = cp_prefix(norm, nlen, k + 1), s = cp_suffix(norm, nlen, k + 1);
        t->pfx[k] = p < nlen ? ner_hash_bytes(norm, p) : 0;
        t->sfx[k] = s > 0 ? ner_hash_bytes(norm + s, nlen - s) : 0;
    }
    size_t splits[NER_MAXSPLIT];
    size_t ns = nahr_ar_proclitic_splits(norm, nlen, splits, NER_MAXSPLIT);
    if (ns == 0)
        ns = 1, splits[0] = 0;
    t->nsplit = (uint8_t)ns;
    for (size_t k = 1; k < ns; k++) {
        t->pre[k] = ner_hash_bytes(norm, splits[k]);
        t->stm[k] = ner_hash_bytes(norm + splits[k], nlen - splits[k]);
    }
    size_t st = splits[ns - 1];
    t->stem = ns > 1 ? t->stm[ns - 1] : t->word;
    for (unsigned k = 0; k < 2; k++) {
        size_t s = cp_suffix(norm + st, nlen - st, k + 1);
        t->stem_sfx[k] = s > 0 ? ner_hash_bytes(norm + st + s, nlen - st - s) : 0;
        size_t p = cp_prefix(norm + st, nlen - st, k + 2);
        t->stem_pfx[k] = p < nlen - st ? ner_hash_bytes(norm + st, p) : 0;
    }
    if (m->clusters.n) {
        /* the word, else its shortest proclitic strip that is known */
        const uint64_t *v = ner_set_get(&m->clusters, t->word);
        for (size_t k = 1; !v && k < ns; k++)
            v = ner_set_get(&m->clusters, t->stm[k]);
        if (v) {
            t->has_cl = 1;
            for (unsigned k = 0; k < NER_NCL; k++)
                t->cl[k] = (uint32_t)((*v >> (16 * k)) & 0xFFFFu);
        }
    }
}

void ner_describe_sentence(const ner_model *m, const char *text, const nahr_token *toks, size_t n,
                           ner_tokdesc *d)
{
    if (m->gaz.n)
        mark_gazetteers(m, n, d);
    if (m->flags & NER_F_QUOTE)
        mark_quotes(text, toks, n, d);
}

void ner_describe(const ner_model *m, const char *text, const nahr_token *toks, size_t n,
                  ner_tokdesc *d)
{
    for (size_t i = 0; i < n; i++)
        ner_describe_token(m, text + toks[i].start, toks[i].end - toks[i].start, &d[i]);
    ner_describe_sentence(m, text, toks, n, d);
}

/* Feature templates. A feature is ner_mix(template, value). */
enum {
    T_BIAS = 1, T_W0, T_WM1, T_WM2, T_WP1, T_WP2, T_STEM0, T_STEMM1, T_STEMP1, T_PRE, T_STM,
    T_PFX, T_SFX = T_PFX + 3, T_SSFX = T_SFX + 3, T_SHAPE0 = T_SSFX + 2, T_SHAPEM1, T_SHAPEP1,
    T_BIG_L, T_BIG_R, T_SHAPE3, T_SFXM1, T_SFXP1, T_GAZB, T_GAZI, T_GAZP1, T_GAZM1,
    T_CL0, T_CLM1 = T_CL0 + NER_NCL, T_CLP1 = T_CLM1 + NER_NCL, T_PFXP1 = T_CLP1 + NER_NCL,
    T_PFXM1, T_SPFX, T_HIST0 = T_SPFX + 2, T_HISTS0, T_HISTM1, T_HISTP1,
    T_QUOTE, T_QTRIG, T_CLM2, T_CLP2, T_CLBIG, T_CLSFX
};



/* The features of token t that depend on t alone (its word, stem, clitics,
 * affixes, shape, clusters): the same for every occurrence of the word, so
 * the run-time path may cache their summed weights per distinct token.
 * Gazetteer, quotation and history bits depend on the sentence and the
 * article: they are context features (ner_features). */
size_t ner_features_unary(const ner_model *m, const ner_tokdesc *t, uint32_t *f)
{
    size_t k = 0;
    f[k++] = ner_mix(T_BIAS, 0);
    f[k++] = ner_mix(T_W0, t->word);
    f[k++] = ner_mix(T_STEM0, t->stem);
    for (unsigned s = 1; s < t->nsplit; s++) {
        f[k++] = ner_mix(T_PRE, t->pre[s]);
        f[k++] = ner_mix(T_STM, t->stm[s]);
    }
    for (unsigned s = 0; s < 3; s++) {
        if (t->pfx[s])
            f[k++] = ner_mix(T_PFX + s, t->pfx[s]);
        if (t->sfx[s])
            f[k++] = ner_mix(T_SFX + s, t->sfx[s]);
    }
    for (unsigned s = 0; s < 2; s++)
        if (t->stem_sfx[s])
            f[k++] = ner_mix(T_SSFX + s, t->stem_sfx[s]);
    f[k++] = ner_mix(T_SHAPE0, t->shape);
    for (unsigned s = 0; s < 2; s++)
        if (t->stem_pfx[s])
            f[k++] = ner_mix(T_SPFX + s, t->stem_pfx[s]);
    if (m->flags & NER_F_CLUSTERS)
        for (unsigned c = 0; c < NER_NCL; c++)
            f[k++] = ner_mix(T_CL0 + c, t->has_cl ? t->cl[c] + 1 : 0);
    if ((m->flags & NER_F_CLX) && (m->flags & NER_F_CLUSTERS))
        f[k++] = ner_mix(T_CLSFX, ner_mix(t->has_cl ? t->cl[1] + 1 : 0, t->stem_sfx[1]));
    return k;
}

/* Every feature of token i: ner_features_unary(d[i]) first, then the
 * features that look at the neighbours, the gazetteers, quotations and the
 * article's history. Weights are summed as integers, so the order of the
 * features does not change a score. */
size_t ner_features(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i, uint32_t *f)
{
    size_t k = ner_features_unary(m, &d[i], f);
    return k + ner_features_context(m, d, n, i, f + k);
}

/* The features a token t contributes to the token at -offset from it, i.e.
 * as its neighbour at offset -2, -1, +1 or +2 (t NULL: beyond the sentence
 * edge, the BOS/EOS constants stand for its values). They depend on t and the
 * offset alone, so the run-time path may cache their summed weights per
 * distinct token. */
static NER_HOT size_t features_neighbour(const ner_model *m, const ner_tokdesc *t, int offset,
                                         uint32_t *f)
{
    size_t k = 0;
    const int cl = (m->flags & NER_F_CLUSTERS) != 0;
    const int clx = cl && (m->flags & NER_F_CLX);
    switch (offset) {
    case -1:
    case 1: {
        const int left = offset < 0;
        const uint32_t edge = left ? BOS(1) : EOS(1);
        f[k++] = ner_mix(left ? T_WM1 : T_WP1, t ? t->word : edge);
        f[k++] = ner_mix(left ? T_STEMM1 : T_STEMP1, t ? t->stem : edge);
        f[k++] = ner_mix(left ? T_SHAPEM1 : T_SHAPEP1, t ? t->shape : edge);
        f[k++] = ner_mix(left ? T_SFXM1 : T_SFXP1, t ? t->sfx[1] : edge);
        f[k++] = ner_mix(left ? T_PFXM1 : T_PFXP1, t ? t->pfx[1] : edge);
        if (cl)
            for (unsigned c = 0; c < NER_NCL; c++)
                f[k++] = ner_mix((left ? T_CLM1 : T_CLP1) + c,
                                 t ? (t->has_cl ? t->cl[c] + 1 : 0) : edge);
        break;
    }
    case -2:
    case 2: {
        const int left = offset < 0;
        const uint32_t edge = left ? BOS(2) : EOS(2);
        f[k++] = ner_mix(left ? T_WM2 : T_WP2, t ? t->word : edge);
        if (clx)
            f[k++] = ner_mix(left ? T_CLM2 : T_CLP2, t ? (t->has_cl ? t->cl[1] + 1 : 0) : edge);
        break;
    }
    default:
        break;
    }
    return k;
}

size_t ner_features_neighbour(const ner_model *m, const ner_tokdesc *t, int offset, uint32_t *f)
{
    return features_neighbour(m, t, offset, f);
}

/* The context features of token i: those of its four neighbours
 * (ner_features_neighbour), then the rest (ner_features_rest). */
size_t ner_features_context(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i,
                            uint32_t *f)
{
    size_t k = 0;
    k += features_neighbour(m, i >= 2 ? &d[i - 2] : NULL, -2, f + k);
    k += features_neighbour(m, i >= 1 ? &d[i - 1] : NULL, -1, f + k);
    k += features_neighbour(m, i + 1 < n ? &d[i + 1] : NULL, 1, f + k);
    k += features_neighbour(m, i + 2 < n ? &d[i + 2] : NULL, 2, f + k);
    return k + ner_features_rest(m, d, n, i, f + k);
}

/* What the context features of token i owe to more than one token, to the
 * sentence or to the article: shape trigram, word bigrams, gazetteer marks,
 * cluster bigram, quotations, history bits (also the neighbours'). */
size_t ner_features_rest(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i, uint32_t *f)
{
    const ner_tokdesc *t = &d[i];
    size_t k = 0;
    const ner_tokdesc *l1 = i >= 1 ? &d[i - 1] : NULL;
    const ner_tokdesc *r1 = i + 1 < n ? &d[i + 1] : NULL;
    uint32_t wl1 = l1 ? l1->word : BOS(1), wr1 = r1 ? r1->word : EOS(1);
    uint32_t shl = l1 ? l1->shape : BOS(1), shr = r1 ? r1->shape : EOS(1);

    f[k++] = ner_mix(T_SHAPE3, ner_mix(ner_mix(shl, t->shape), shr));
    f[k++] = ner_mix(T_BIG_L, ner_mix(wl1, t->word));
    f[k++] = ner_mix(T_BIG_R, ner_mix(t->word, wr1));
    if (m->flags & (NER_F_GAZ | NER_F_DICT)) {
        uint8_t lm = l1 ? (uint8_t)(l1->gaz_b | l1->gaz_i) : 0, rb = r1 ? r1->gaz_b : 0;
        for (unsigned ty = 0; ty < 8; ty++) {
            unsigned bit = 1u << ty;
            if (t->gaz_b & bit)
                f[k++] = ner_mix(T_GAZB, ty);
            if (t->gaz_i & bit)
                f[k++] = ner_mix(T_GAZI, ty);
            if (rb & bit)
                f[k++] = ner_mix(T_GAZP1, ty);
            if (lm & bit)
                f[k++] = ner_mix(T_GAZM1, ty);
        }
    }
    if ((m->flags & NER_F_CLX) && (m->flags & NER_F_CLUSTERS)) {
        uint32_t c0 = t->has_cl ? t->cl[1] + 1 : 0;
        uint32_t cl1 = l1 ? (l1->has_cl ? l1->cl[1] + 1 : 0) : BOS(1);
        f[k++] = ner_mix(T_CLBIG, ner_mix(cl1, c0));
    }
    if (t->quote) { /* NER_F_QUOTE: a short quotation, and the word before it */
        f[k++] = ner_mix(T_QUOTE, t->quote);
        f[k++] = ner_mix(T_QTRIG, ner_mix(t->qtrig, t->quote));
    }
    if (m->flags & NER_F_HIST) { /* how the words were tagged earlier in the article */
        f[k++] = ner_mix(T_HIST0, t->punct ? 0x40u : t->hist);
        f[k++] = ner_mix(T_HISTS0, t->hist_stem);
        f[k++] = ner_mix(T_HISTM1, l1 ? l1->hist : BOS(1));
        f[k++] = ner_mix(T_HISTP1, r1 ? r1->hist : EOS(1));
    }
    return k;
}

/* ---- decoding ---- */

int ner_bio_allowed(unsigned prev, unsigned cur)
{
    if (cur == 0 || (cur & 1u))
        return 1; /* O and B-X may follow anything */
    /* I-X only continues B-X or I-X */
    return prev != NER_NTAGS && prev != 0 && (prev + 1) / 2 == (cur + 1) / 2;
}

/* Decoding keeps the 9 tag scores in NER_TV vectors of 4 lanes (GCC/Clang
 * vector extensions: SSE2 on x86-64, NEON on ARM, plain code elsewhere), so
 * each (prev, cur) step is a handful of vector operations. */
typedef float ner_v4f __attribute__((vector_size(16)));
typedef int32_t ner_v4i __attribute__((vector_size(16)));
#define NER_TV 3 /* 12 lanes: tags 0..8 + 3 never used */

/* The transitions with the BIO constraint folded in: a forbidden move scores
 * -inf, so decoding needs no test per (prev, cur) pair. -inf never wins a
 * strict comparison against the -inf a search starts from, so the result is
 * the same as skipping forbidden moves (ties: the lowest prev wins). */
typedef struct ner_trans_masked {
    ner_v4f t[NER_NTAGS + 1][NER_TV]; /* [prev][cur / 4], row NER_NTAGS = sentence start */
} ner_trans_masked;

static void trans_masked(const float trans[NER_NTAGS + 1][NER_NTAGS], ner_trans_masked *mt)
{
    for (unsigned p = 0; p <= NER_NTAGS; p++) {
        float row[NER_TV * 4];
        for (unsigned t = 0; t < NER_TV * 4; t++)
            row[t] = t < NER_NTAGS && ner_bio_allowed(p, t) ? trans[p][t] : -INFINITY;
        memcpy(mt->t[p], row, sizeof row);
    }
}

/* Viterbi over n tokens with masked transitions; emit is n x NER_NTAGS.
 * Same arithmetic and tie-breaking as the scalar loop over allowed pairs. */
static void viterbi_masked(const float *emit, const ner_trans_masked *mt, size_t n, uint8_t *bp,
                           uint8_t *out)
{
    float prev[NER_TV * 4];
    if (n == 0)
        return;
    memcpy(prev, mt->t[NER_NTAGS], sizeof prev);
    for (unsigned t = 0; t < NER_NTAGS; t++)
        prev[t] += emit[t];
    for (size_t i = 1; i < n; i++) {
        const ner_v4f ninf = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        ner_v4f b0 = ninf, b1 = ninf, b2 = ninf;
        ner_v4i a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0;
#pragma GCC unroll 9
        for (unsigned p = 0; p < NER_NTAGS; p++) {
            const ner_v4f pp = {prev[p], prev[p], prev[p], prev[p]};
            const ner_v4i pv = {(int32_t)p, (int32_t)p, (int32_t)p, (int32_t)p};
            /* lanes where prev p is strictly better take its score and index */
#define NER_VSTEP(b, a, v)                                                                      \
    do {                                                                                       \
        ner_v4f sc = pp + mt->t[p][v];                                                         \
        ner_v4i gt = sc > b;                                                                   \
        b = (ner_v4f)(((ner_v4i)sc & gt) | ((ner_v4i)b & ~gt));                                \
        a = (pv & gt) | (a & ~gt);                                                             \
    } while (0)
            NER_VSTEP(b0, a0, 0);
            NER_VSTEP(b1, a1, 1);
            NER_VSTEP(b2, a2, 2);
#undef NER_VSTEP
        }
        float b[NER_TV * 4];
        int32_t a[NER_TV * 4];
        memcpy(b, &b0, sizeof b0);
        memcpy(b + 4, &b1, sizeof b1);
        memcpy(b + 8, &b2, sizeof b2);
        memcpy(a, &a0, sizeof a0);
        memcpy(a + 4, &a1, sizeof a1);
        memcpy(a + 8, &a2, sizeof a2);
        const float *e = emit + i * NER_NTAGS;
        uint8_t *bpi = bp + i * NER_NTAGS;
        for (unsigned t = 0; t < NER_NTAGS; t++) {
            prev[t] = b[t] + e[t];
            bpi[t] = (uint8_t)a[t];
        }
    }
    unsigned best = 0;
    for (unsigned t = 1; t < NER_NTAGS; t++)
        if (prev[t] > prev[best])
            best = t;
    out[n - 1] = (uint8_t)best;
    for (size_t i = n - 1; i > 0; i--)
        out[i - 1] = bp[i * NER_NTAGS + out[i]];
}

void ner_viterbi(const float *emit, const float trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                 uint8_t *bp, uint8_t *out)
{
    ner_trans_masked mt;
    trans_masked(trans, &mt);
    viterbi_masked(emit, &mt, n, bp, out);
}

/* ---- hash sets ---- */

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

int ner_set_reserve(ner_set *s, size_t n)
{
    if (s->mask || n == 0)
        return 0;
    size_t cap = pow2_at_least(n * 2 + 16);
    s->keys = calloc(cap, sizeof *s->keys);
    s->vals = calloc(cap, sizeof *s->vals);
    if (!s->keys || !s->vals) {
        ner_set_free(s);
        return NAHR_ENOMEM;
    }
    s->mask = cap - 1;
    return 0;
}

int ner_set_put(ner_set *s, uint32_t key, uint64_t val, int or_into)
{
    if (key == 0)
        key = 1;
    if ((s->n + 1) * 4 >= (s->mask + 1) * 3 || s->mask == 0) {
        size_t cap = pow2_at_least((s->n + 1) * 2 + 16);
        uint32_t *nk = calloc(cap, sizeof *nk);
        uint64_t *nv = calloc(cap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return NAHR_ENOMEM;
        }
        if (s->mask) {
            for (size_t i = 0; i <= s->mask; i++) {
                if (!s->keys[i])
                    continue;
                size_t j = s->keys[i] & (cap - 1);
                while (nk[j])
                    j = (j + 1) & (cap - 1);
                nk[j] = s->keys[i];
                nv[j] = s->vals[i];
            }
        }
        free(s->keys);
        free(s->vals);
        s->keys = nk;
        s->vals = nv;
        s->mask = cap - 1;
    }
    size_t j = key & s->mask;
    while (s->keys[j] && s->keys[j] != key)
        j = (j + 1) & s->mask;
    if (!s->keys[j]) {
        s->keys[j] = key;
        s->vals[j] = val;
        s->n++;
    } else {
        s->vals[j] = or_into ? (s->vals[j] | val) : val;
    }
    return 0;
}

NER_HOT const uint64_t *ner_set_get(const ner_set *s, uint32_t key)
{
    if (!s->mask)
        return NULL;
    if (key == 0)
        key = 1;
    size_t j = key & s->mask;
    while (s->keys[j]) {
        if (s->keys[j] == key)
            return &s->vals[j];
        j = (j + 1) & s->mask;
    }
    return NULL;
}

int ner_set_copy(ner_set *dst, const ner_set *src)
{
    ner_set_free(dst);
    if (!src->mask)
        return 0;
    dst->keys = malloc((src->mask + 1) * sizeof *dst->keys);
    dst->vals = malloc((src->mask + 1) * sizeof *dst->vals);
    if (!dst->keys || !dst->vals) {
        ner_set_free(dst);
        return NAHR_ENOMEM;
    }
    memcpy(dst->keys, src->keys, (src->mask + 1) * sizeof *dst->keys);
    memcpy(dst->vals, src->vals, (src->mask + 1) * sizeof *dst->vals);
    dst->mask = src->mask;
    dst->n = src->n;
    return 0;
}

void ner_set_free(ner_set *s)
{
    free(s->keys);
    free(s->vals);
    memset(s, 0, sizeof *s);
}

/* ---- the model ---- */

ner_model *ner_model_new(void)
{
    ner_model *m = calloc(1, sizeof *m);
    if (m)
        m->gaz_maxlen = 1;
    return m;
}

void ner_model_free(ner_model *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m->filter);
    ner_set_free(&m->gaz);
    ner_set_free(&m->clusters);
    free(m);
}

/* The key filter: most features of a rare word are not in the table, and
 * their probes are cache misses in a table of megabytes. A blocked Bloom
 * filter (3 bits in one 64-byte block per key, 15 to 30 bits per key: about
 * 1% false positives) answers "surely absent" from ~128 KB instead. It never
 * answers absent for a key of the table, so the sums are the same. (+20%
 * instructions, -15% L2 misses, +6..8% tagging speed, measured.) */
static inline const uint64_t *filter_block(const ner_model *m, uint32_t key, uint64_t *x)
{
    *x = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return m->filter + ((*x >> 40) & (m->filter_blocks - 1)) * 8;
}

static inline int filter_maybe(const ner_model *m, uint32_t key)
{
    uint64_t x;
    const uint64_t *b = filter_block(m, key, &x);
    unsigned b1 = x & 511u, b2 = (x >> 9) & 511u, b3 = (x >> 18) & 511u;
    return (int)((b[b1 >> 6] >> (b1 & 63)) & (b[b2 >> 6] >> (b2 & 63)) & (b[b3 >> 6] >> (b3 & 63)) &
                 1u);
}

static void filter_build(ner_model *m)
{
    free(m->filter);
    m->filter = NULL;
    m->filter_for = NULL;
    size_t blocks = pow2_at_least(m->nfeat / 48 + 1);
    uint64_t *f = aligned_alloc(64, blocks * 64);
    if (!f)
        return; /* no filter: only slower */
    memset(f, 0, blocks * 64);
    m->filter = f;
    m->filter_blocks = blocks;
    for (size_t i = 0; i <= m->mask; i++) {
        uint32_t key = m->slots[i].key;
        if (!key)
            continue;
        uint64_t x, *b = (uint64_t *)filter_block(m, key, &x);
        unsigned b1 = x & 511u, b2 = (x >> 9) & 511u, b3 = (x >> 18) & 511u;
        b[b1 >> 6] |= 1ull << (b1 & 63);
        b[b2 >> 6] |= 1ull << (b2 & 63);
        b[b3 >> 6] |= 1ull << (b3 & 63);
    }
    m->filter_for = m->slots;
}

static void neighbour_sums(const ner_model *m, const ner_tokdesc *t, int32_t nb[4][NER_NTAGS]);

int ner_model_set_weights(ner_model *m, const uint32_t *keys, const int16_t *w, size_t nfeat,
                          float scale)
{
    size_t cap = pow2_at_least(nfeat + nfeat / 2 + 1);
    ner_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return NAHR_ENOMEM;
    size_t stored = 0;
    for (size_t i = 0; i < nfeat; i++) {
        uint32_t key = keys[i];
        if (!key)
            continue;
        size_t j = key & (cap - 1);
        while (slots[j].key && slots[j].key != key)
            j = (j + 1) & (cap - 1);
        if (!slots[j].key)
            stored++;
        slots[j].key = key;
        memcpy(slots[j].w, w + i * NER_NTAGS, sizeof slots[j].w);
    }
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    m->nfeat = stored;
    m->scale = scale;
    filter_build(m);
    neighbour_sums(m, NULL, m->edge);
    m->edge_for = m->slots;
    m->edge_flags = m->flags;
    return 0;
}

const ner_slot *ner_model_find(const ner_model *m, uint32_t key)
{
    if (!m->slots)
        return NULL;
    size_t j = key & m->mask;
    while (m->slots[j].key) {
        if (m->slots[j].key == key)
            return &m->slots[j];
        j = (j + 1) & m->mask;
    }
    return NULL;
}

/* ---- tagging ---- */

#define ALIGN16(x) (((x) + 15u) & ~(size_t)15u)

/* Sentences are decoded in pieces of at most NER_MAX_SENT tokens (a longer
 * run without a sentence end is cut), so scratch stays bounded whatever the
 * article size. */
#define NER_MAX_SENT 1024

/* ---- per-call token cache ----
 * A token's description (hashes of its normalised form, affixes, clitic
 * strips, shape, clusters) depends on its bytes alone; only the gazetteer
 * marks, quotations and history bits depend on the sentence. About half of the
 * tokens of a news article repeat an earlier token of the same article, so
 * the descriptions are kept in a direct-mapped table in the caller's scratch,
 * keyed by the token's bytes, with the summed weights of the token's unary
 * features (ner_features_unary) and of the features it gives its neighbours
 * as the word at -2, -1, +1 and +2 (ner_features_neighbour): a token's
 * emission is the sum of its unary row, of its neighbours' rows for their
 * offsets (constant rows at the sentence edges), and of the weights of the
 * remaining context features (ner_features_rest), the only ones hashed and
 * looked up per occurrence. The sentence-level fields are redone per
 * sentence. */
#define NER_TC_KEY 26   /* longer tokens are described every time */
#define NER_TC_MAX 128u /* slots at most (a power of two): scratch stays < 220 KB */

typedef struct tc_slot {
    uint32_t h; /* hash of the bytes, never 0; 0 = empty slot */
    uint8_t len;
    char key[NER_TC_KEY];
    ner_tokdesc d;             /* without the sentence-level fields */
    int32_t unary[NER_NTAGS]; /* summed weights of its ner_features_unary() */
    int32_t nb[4][NER_NTAGS]; /* of its ner_features_neighbour() at -2, -1, +1, +2 */
} tc_slot;

/* The per-thread cache (ner_cache.h): the same table, bigger (8192 x 320
 * bytes), kept across calls; valid for one model. */
#define NER_CACHE_SLOTS 8192u

struct ner_cache {
    const ner_model *model;
    tc_slot slot[NER_CACHE_SLOTS];
};

ner_cache *ner_cache_new(void)
{
    return calloc(1, sizeof(ner_cache));
}

void ner_cache_free(ner_cache *c)
{
    free(c);
}

void ner_cache_reset(ner_cache *c)
{
    if (!c)
        return;
    c->model = NULL;
    for (size_t i = 0; i < NER_CACHE_SLOTS; i++)
        c->slot[i].h = 0;
}

static size_t tc_slots(size_t ntok)
{
    size_t c = 16;
    while (c < ntok && c < NER_TC_MAX)
        c <<= 1;
    return c;
}

static inline uint32_t tc_hash(const char *s, size_t n)
{
    uint64_t h = (uint64_t)(n + 1) * 0x9E3779B97F4A7C15ull, v;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (n) {
        v = 0;
        memcpy(&v, s, n);
        h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    }
    h ^= h >> 29;
    return (uint32_t)h | 1u;
}

static void sum_weights(const ner_model *m, const uint32_t *f, size_t nf, int32_t *acc);
static inline void prefetch_slots(const ner_model *m, const uint32_t *f, size_t nf);

/* ner_features_neighbour() offset of tc_slot.nb[r] and edge rows */
static const int nb_offset[4] = {-2, -1, 1, 2};

/* The summed weights of the features token t (NULL: the sentence edge) gives
 * its neighbours: nb[r] for offset nb_offset[r]. */
static void neighbour_sums(const ner_model *m, const ner_tokdesc *t, int32_t nb[4][NER_NTAGS])
{
    uint32_t f[4][NER_MAXF];
    size_t nf[4];
    for (unsigned r = 0; r < 4; r++) {
        nf[r] = features_neighbour(m, t, nb_offset[r], f[r]);
        prefetch_slots(m, f[r], nf[r]);
    }
    for (unsigned r = 0; r < 4; r++) {
        memset(nb[r], 0, sizeof nb[r]);
        sum_weights(m, f[r], nf[r], nb[r]);
    }
}

/* row (int32 sums kept in a float emission row) += v */
static inline void row_add(float *row, const int32_t *v)
{
    int32_t a[NER_NTAGS];
    memcpy(a, row, sizeof a);
    for (unsigned t = 0; t < NER_NTAGS; t++)
        a[t] += v[t];
    memcpy(row, a, sizeof a);
}

/* ner_describe() of a sentence through the cache tc (NULL: no cache), and
 * the pre-summed part of every emission row (usum, n x NER_NTAGS floats
 * holding int32 sums: emissions() reads them back before it writes the
 * scores): the edge rows (edge[r]: a missing neighbour at nb_offset[r]), and
 * for a token in the cache (found or added; cached[i] = 1) its unary sums in
 * its own row and its neighbour sums in the rows of the tokens at -2..+2.
 * cached[i] = 0 for a token described without the cache: emissions() hashes
 * all its features, and those it gives its neighbours. */
static void describe_cached(const ner_model *m, tc_slot *tc, size_t tcmask,
                            const int32_t edge[4][NER_NTAGS], const char *text,
                            const nahr_token *toks, size_t n, ner_tokdesc *d, float *usum,
                            uint8_t *cached)
{
    /* the per-thread table is larger than the caches: ask for the entries of
     * the whole sentence first, so that their misses overlap */
    if (tc)
        for (size_t i = 0; i < n; i++) {
            size_t wn = toks[i].end - toks[i].start;
            if (wn <= NER_TC_KEY) {
                const char *e = (const char *)&tc[tc_hash(text + toks[i].start, wn) & tcmask];
                for (size_t o = 0; o < sizeof(tc_slot); o += 64)
                    __builtin_prefetch(e + o);
            }
        }
    memset(usum, 0, n * NER_NTAGS * sizeof *usum);
    if (m->slots && n) { /* rows 0 and 1 miss their left neighbours, n-1 and n-2 the right */
        row_add(usum, edge[0]);
        row_add(usum, edge[1]);
        row_add(usum + (n - 1) * NER_NTAGS, edge[2]);
        row_add(usum + (n - 1) * NER_NTAGS, edge[3]);
        if (n > 1) {
            row_add(usum + NER_NTAGS, edge[0]);
            row_add(usum + (n - 2) * NER_NTAGS, edge[3]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *w = text + toks[i].start;
        size_t wn = toks[i].end - toks[i].start;
        cached[i] = 0;
        if (!tc || wn > NER_TC_KEY || !m->slots) {
            ner_describe_token(m, w, wn, d + i);
            continue;
        }
        uint32_t h = tc_hash(w, wn);
        tc_slot *e = &tc[h & tcmask];
        if (e->h == h && e->len == wn && memcmp(e->key, w, wn) == 0) {
            d[i] = e->d;
        } else {
            ner_describe_token(m, w, wn, d + i);
            uint32_t f[NER_MAXF];
            size_t nu = ner_features_unary(m, d + i, f);
            e->h = h;
            e->len = (uint8_t)wn;
            memcpy(e->key, w, wn);
            e->d = d[i];
            memset(e->unary, 0, sizeof e->unary);
            sum_weights(m, f, nu, e->unary);
            neighbour_sums(m, d + i, e->nb);
        }
        cached[i] = 1;
        row_add(usum + i * NER_NTAGS, e->unary);
        if (i + 2 < n)
            row_add(usum + (i + 2) * NER_NTAGS, e->nb[0]);
        if (i + 1 < n)
            row_add(usum + (i + 1) * NER_NTAGS, e->nb[1]);
        if (i >= 1)
            row_add(usum + (i - 1) * NER_NTAGS, e->nb[2]);
        if (i >= 2)
            row_add(usum + (i - 2) * NER_NTAGS, e->nb[3]);
    }
    ner_describe_sentence(m, text, toks, n, d);
}

size_t ner_model_scratch_size(const ner_model *m, size_t ntok)
{
    if (ntok == 0)
        ntok = 1;
    size_t sent = ntok > NER_MAX_SENT ? NER_MAX_SENT : ntok;
    size_t hist = m && (m->flags & NER_F_HIST) ? ALIGN16(sizeof(ner_hist)) : 0;
    return 16 + hist + ALIGN16(tc_slots(ntok) * sizeof(tc_slot)) +
           ALIGN16(sent * sizeof(ner_tokdesc)) + ALIGN16(sent * NER_NTAGS * sizeof(float)) +
           ALIGN16(sent * NER_NTAGS) + ALIGN16(sent);
}

/* Asks for the cache lines of the weight slots of nf features: the table is
 * larger than the caches, so the misses of a whole token should overlap
 * instead of queueing one by one. A slot may straddle two lines. */
static inline void prefetch_slots(const ner_model *m, const uint32_t *f, size_t nf)
{
    for (size_t k = 0; k < nf; k++) {
        const char *s = (const char *)&m->slots[f[k] & m->mask];
        __builtin_prefetch(s);
        __builtin_prefetch(s + sizeof(ner_slot) - 1);
    }
}

/* A weight row: 8 int16 lanes widened to int32, + tag 8 as a scalar. */
typedef int16_t ner_v8s __attribute__((vector_size(16)));
typedef int32_t ner_v8i __attribute__((vector_size(32)));

/* Adds the weight rows of nf features to acc[0..NER_NTAGS). Exact integer
 * sums: the order does not matter. (Choosing the row without branches, from
 * the first two probes, was tried: 20% more instructions for 30% fewer
 * mispredicted branches, no faster.) */
static inline void sum_weights(const ner_model *m, const uint32_t *f, size_t nf, int32_t *acc)
{
    const ner_slot *slots = m->slots;
    const size_t mask = m->mask;
    ner_v8i acc8 = {0};
    int32_t last = 0;
    for (size_t k = 0; k < nf; k++) {
        const uint32_t key = f[k];
        size_t j = key & mask;
        while (slots[j].key != key) {
            if (!slots[j].key)
                goto next;
            j = (j + 1) & mask;
        }
        ner_v8s w;
        memcpy(&w, slots[j].w, sizeof w);
        acc8 += __builtin_convertvector(w, ner_v8i);
        last += slots[j].w[8];
next:;
    }
    int32_t lanes[8];
    memcpy(lanes, &acc8, sizeof lanes);
    for (unsigned t = 0; t < 8; t++)
        acc[t] += lanes[t];
    acc[8] += last;
}

#define NER_PF_AHEAD 2 /* tokens whose weight slots are requested before they are summed */

/* The features of token i that describe_cached() did not sum into its row:
 * its unary ones unless cached[i], those of its neighbours not cached, and
 * ner_features_rest. */
static size_t features_left(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i,
                            const uint8_t *cached, uint32_t *f)
{
    size_t k = cached[i] ? 0 : ner_features_unary(m, &d[i], f);
    for (unsigned r = 0; r < 4; r++) {
        size_t j = i + (size_t)(ptrdiff_t)nb_offset[r]; /* wraps below 0: >= n */
        if (j < n && !cached[j])
            k += features_neighbour(m, &d[j], nb_offset[r], f + k);
    }
    return k + ner_features_rest(m, d, n, i, f + k);
}

/* Emission scores of a described sentence. cached may be NULL (every
 * feature hashed and looked up); otherwise row i of emit holds (as int32)
 * the sums describe_cached() wrote, and only features_left() are hashed and
 * looked up. */
static void emissions(const ner_model *m, const ner_tokdesc *d, size_t n, const uint8_t *cached,
                      float *emit)
{
    uint32_t f[NER_PF_AHEAD + 1][NER_MAXF];
    size_t nf[NER_PF_AHEAD + 1] = {0};
    const int filter = m->filter && m->filter_for == m->slots;
    /* the features of token i + NER_PF_AHEAD are computed and their slots
     * prefetched before token i is summed, so that the cache misses of the
     * weight table overlap with the work of the tokens in between */
    for (size_t i = 0; i < n + NER_PF_AHEAD; i++) {
        if (i < n && m->slots) {
            size_t b = i % (NER_PF_AHEAD + 1);
            nf[b] = cached ? features_left(m, d, n, i, cached, f[b])
                           : ner_features(m, d, n, i, f[b]);
            if (filter) { /* drop the features surely not in the table */
                size_t kept = 0;
                for (size_t k = 0; k < nf[b]; k++) {
                    f[b][kept] = f[b][k];
                    kept += (size_t)filter_maybe(m, f[b][k]);
                }
                nf[b] = kept;
            }
            prefetch_slots(m, f[b], nf[b]);
        }
        if (i < NER_PF_AHEAD)
            continue;
        size_t j = i - NER_PF_AHEAD, b = j % (NER_PF_AHEAD + 1);
        float *e = emit + j * NER_NTAGS;
        int32_t acc[NER_NTAGS] = {0};
        if (m->slots) {
            if (cached)
                memcpy(acc, e, sizeof acc);
            sum_weights(m, f[b], nf[b], acc);
        }
        for (unsigned t = 0; t < NER_NTAGS; t++)
            e[t] = (float)acc[t] * m->scale;
        e[NER_O] -= m->o_penalty;
    }
}

void ner_emissions(const ner_model *m, const ner_tokdesc *d, size_t n, float *emit)
{
    emissions(m, d, n, NULL, emit);
}

/* Per-call state of ner_model_tag, all in the caller's scratch. */
typedef struct tag_state {
    ner_trans_masked mt;
    ner_hist *hist; /* NULL unless the model has NER_F_HIST */
    tc_slot *tc;
    size_t tcmask;
    ner_tokdesc *d;
    float *emit;
    uint8_t *bp;
    uint8_t *cached; /* per token of the sentence: its sums came from the cache */
    int32_t edge[4][NER_NTAGS]; /* neighbour sums of the sentence edges (neighbour_sums) */
} tag_state;

/* Tags one sentence: describe the tokens (through the cache), read the
 * history, score, decode, record the result in the history. */
static void tag_sentence(const ner_model *m, tag_state *st, const char *text,
                         const nahr_token *toks, size_t n, uint8_t *tags)
{
    describe_cached(m, st->tc, st->tcmask, (const int32_t(*)[NER_NTAGS])st->edge, text, toks, n,
                    st->d, st->emit, st->cached);
    if (st->hist)
        ner_hist_mark(st->hist, n, st->d);
    emissions(m, st->d, n, st->cached, st->emit);
    viterbi_masked(st->emit, &st->mt, n, st->bp, tags);
    if (st->hist)
        ner_hist_add(st->hist, st->d, tags, n);
}

/* ner_model_tag with the token cache c (NULL: a per-call one in scratch). */
static int tag_tokens(const ner_model *m, ner_cache *c, const char *text, const nahr_token *toks,
                      size_t ntok, void *scratch, uint8_t *tags)
{
    if (!m || (ntok && (!text || !toks || !scratch || !tags)))
        return NAHR_EINVAL;
    if (ntok == 0)
        return 0;
    for (size_t i = 0; i < ntok; i++)
        if (toks[i].end < toks[i].start)
            return NAHR_EINVAL;
    /* the layout ner_model_scratch_size() counts */
    tag_state st;
    size_t cap = ntok > NER_MAX_SENT ? NER_MAX_SENT : ntok, ntc = tc_slots(ntok);
    char *p = (char *)ALIGN16((uintptr_t)scratch);
    st.hist = NULL;
    if (m->flags & NER_F_HIST) {
        st.hist = (ner_hist *)p;
        p += ALIGN16(sizeof(ner_hist));
        ner_hist_reset(st.hist);
    }
    if (c) {
        if (c->model != m) { /* descriptions hold the model's clusters */
            ner_cache_reset(c);
            c->model = m;
        }
        st.tc = c->slot;
        st.tcmask = NER_CACHE_SLOTS - 1;
    } else {
        st.tc = (tc_slot *)p;
        st.tcmask = ntc - 1;
        for (size_t i = 0; i < ntc; i++)
            st.tc[i].h = 0;
    }
    p += ALIGN16(ntc * sizeof(tc_slot));
    st.d = (ner_tokdesc *)p;
    p += ALIGN16(cap * sizeof(ner_tokdesc));
    st.emit = (float *)p;
    p += ALIGN16(cap * NER_NTAGS * sizeof(float));
    st.bp = (uint8_t *)p;
    p += ALIGN16(cap * NER_NTAGS);
    st.cached = (uint8_t *)p;
    trans_masked((const float(*)[NER_NTAGS])m->trans, &st.mt);
    if (m->slots && m->edge_for == m->slots && m->edge_flags == m->flags)
        memcpy(st.edge, m->edge, sizeof st.edge);
    else if (m->slots) /* the trainer's tables, or flags changed after loading */
        neighbour_sums(m, NULL, st.edge);
    size_t s = 0;
    for (size_t i = 0; i < ntok; i++) {
        if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == ntok || i + 1 - s == NER_MAX_SENT) {
            tag_sentence(m, &st, text, toks + s, i + 1 - s, tags + s);
            s = i + 1;
        }
    }
    return 0;
}

int ner_model_tag(const ner_model *m, const char *text, const nahr_token *toks, size_t ntok,
                  void *scratch, uint8_t *tags)
{
    return tag_tokens(m, NULL, text, toks, ntok, scratch, tags);
}

int ner_model_tag_cached(const ner_model *m, ner_cache *c, const char *text,
                         const nahr_token *toks, size_t ntok, void *scratch, uint8_t *tags)
{
    return tag_tokens(m, c, text, toks, ntok, scratch, tags);
}

int ner_tag_corpus(const ner_model *m, const ner_corpus *c, uint8_t *pred)
{
    size_t maxlen = 1;
    for (size_t k = 0; k < c->nsent; k++)
        if (c->sent[k + 1] - c->sent[k] > maxlen)
            maxlen = c->sent[k + 1] - c->sent[k];
    void *scratch = malloc(ner_model_scratch_size(m, maxlen));
    if (!scratch)
        return NAHR_ENOMEM;
    int rc = 0;
    for (size_t k = 0; k < c->nsent && rc == 0; k++)
        rc = ner_model_tag(m, c->text, c->toks + c->sent[k], c->sent[k + 1] - c->sent[k], scratch,
                           pred + c->sent[k]);
    free(scratch);
    return rc;
}
