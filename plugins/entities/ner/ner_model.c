/* ner_model.c - features, Viterbi decoding and the model file of the NER
 * tagger. The model is read-only after load; every per-call buffer lives in
 * the caller's scratch. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "lru4.h"
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
 * keys): their values must never change. ner_hash_bytes and
 * ner_set_get are defined inline here so that the per-token loops of this
 * file (ner_describe, ner_features, tagging) do not pay a call for each of
 * the ~40 features of a token; the header's declarations keep them external. */
#define NER_HOT __attribute__((always_inline)) inline

NER_HOT uint32_t ner_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return ner_fmix32(h ^ (uint32_t)n);
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

/* nahr_utf8_next() with ASCII and the 2-byte sequences decoded inline (the
 * same values and steps). */
static inline int32_t utf8_next_inline(const char *str, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)str;
    const size_t p = *i;
    if (u[p] < 0x80) {
        *i = p + 1;
        return u[p];
    }
    if (u[p] >= 0xC2 && u[p] <= 0xDF && p + 1 < n && (u[p + 1] & 0xC0) == 0x80) {
        *i = p + 2;
        return (int32_t)((u[p] & 0x1Fu) << 6 | (u[p + 1] & 0x3Fu));
    }
    return nahr_utf8_next(str, n, i);
}

static NER_HOT uint32_t shape_of(const char *s, size_t n, const char *orig, size_t on, int *punct,
                                 const int fast)
{
    unsigned cls = 0, ncp = 0;
    size_t i = 0;
    while (i < n) {
        int32_t cp = fast ? utf8_next_inline(s, n, &i) : nahr_utf8_next(s, n, &i);
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
/* Marks the gazetteer phrases that start at token i with the form first
 * (the word or one of its proclitic strips) and go on with the words after. */
static inline void mark_phrases_at(const ner_model *m, size_t n, ner_tokdesc *d, size_t i, uint32_t first)
{
    uint32_t h = ner_phrase_step(0, first);
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

static void mark_gazetteers(const ner_model *m, size_t n, ner_tokdesc *d)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d[i].nsplit; k++) {
            mark_phrases_at(m, n, d, i, k ? d[i].stm[k] : d[i].word);
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

size_t ner_lex_trigram_hashes(const char *s, size_t n, uint32_t *out)
{
    char buf[NER_MAXTOKB + 2];
    size_t cp[NER_MAXTOKB + 3], ncp = 0;
    if (n > NER_MAXTOKB)
        n = NER_MAXTOKB;
    buf[0] = '^';
    memcpy(buf + 1, s, n);
    buf[n + 1] = '$';
    for (size_t i = 0; i < n + 2; i++)
        if (((unsigned char)buf[i] & 0xC0u) != 0x80u)
            cp[ncp++] = i;
    cp[ncp] = n + 2;
    size_t k = 0;
    for (; k + 3 <= ncp; k++)
        out[k] = ner_hash_bytes(buf + cp[k], cp[k + 3] - cp[k]);
    return k;
}

unsigned ner_lex_spell_bucket(const ner_model *m, const char *s, size_t n)
{
    uint32_t th[NER_MAXTOKB + 2];
    size_t nt = ner_lex_trigram_hashes(s, n, th);
    if (nt == 0)
        return 0;
    long sum = 0;
    for (size_t k = 0; k < nt; k++) {
        const uint64_t *v = ner_set_get(&m->lex, NER_LEX_TRI_KEY(th[k]));
        if (v && *v >= NER_LEX_TRI_BASE)
            sum += (long)*v - (long)(NER_LEX_TRI_BASE + 100);
    }
    /* the mean, in eighths of a unit of log-odds */
    static const long edge[5] = {-12, -6, 0, 6, 12};
    unsigned b = 1;
    while (b <= 5 && sum >= edge[b - 1] * (long)nt)
        b++;
    return b;
}

/* The FNV-1a state of ner_hash_bytes() after each of the first i bytes of
 * s, i = 0..n, in st[i]. */
static inline void fnv_states(const char *s, size_t n, uint32_t *st)
{
    uint32_t h = 2166136261u;
    st[0] = h;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
        st[i + 1] = h;
    }
}

/* ner_hash_bytes() of n bytes from the FNV-1a state h after them. */
static inline uint32_t hash_end(uint32_t h, size_t n) { return ner_fmix32(h ^ (uint32_t)n); }

/* The code point starts of s[0..n) as cp_prefix() and cp_suffix() step over
 * them: 0, and every later byte that is not a continuation byte. */
static inline size_t cp_starts(const char *s, size_t n, uint8_t *cps)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || ((unsigned char)s[i] & 0xC0) != 0x80)
            cps[k++] = (uint8_t)i;
    return k;
}

/* ner_describe_token(); fast: the code point offsets from one pass
 * (cp_starts) and the shape's characters decoded inline, else the plain
 * helpers (ner_describe_token_plain, for the tests). */
static NER_HOT void describe_token(const ner_model *m, const char *w, size_t wn, ner_tokdesc *t,
                                   const int fast)
{
    char norm[NER_MAXTOKB + 1];
    size_t nlen;
    memset(t, 0, sizeof *t);
    /* fast: the FNV-1a state after every byte of the word (hw) and of the
     * stem (hs), so that the word's prefixes (pfx, pre) and the stem's
     * (stem_pfx) cost no pass of their own: ner_hash_bytes(s, p) is
     * hash_end(state after p bytes of s, p) */
    uint32_t hw[NER_MAXTOKB + 1], hs[NER_MAXTOKB + 1];
    if (fast) {
        nlen = nahr_ar_normalize(w, wn > NER_MAXTOKB ? NER_MAXTOKB : wn, norm, NULL);
        fnv_states(norm, nlen, hw);
        t->word = hash_end(hw[nlen], nlen);
    } else {
        t->word = ner_word_hash(w, wn, norm, &nlen);
    }
    int punct;
    t->shape = shape_of(norm, nlen, w, wn, &punct, fast);
    t->punct = punct != 0;
    uint8_t cps[NER_MAXTOKB + 2];
    const size_t ncp = fast ? cp_starts(norm, nlen, cps) : 0;
    for (unsigned k = 0; k < 3; k++) {
        size_t p, s;
        if (fast) {
            p = k + 1 < ncp ? cps[k + 1] : nlen;
            s = k + 1 <= ncp ? cps[ncp - (k + 1)] : 0;
            t->pfx[k] = p < nlen ? hash_end(hw[p], p) : 0;
        } else {
            p = cp_prefix(norm, nlen, k + 1);
            s = cp_suffix(norm, nlen, k + 1);
            t->pfx[k] = p < nlen ? ner_hash_bytes(norm, p) : 0;
        }
        t->sfx[k] = s > 0 ? ner_hash_bytes(norm + s, nlen - s) : 0;
    }
    size_t splits[NER_MAXSPLIT];
    size_t ns = nahr_ar_proclitic_splits(norm, nlen, splits, NER_MAXSPLIT);
    if (ns == 0)
        ns = 1, splits[0] = 0;
    t->nsplit = ns & 0xFu; /* ns <= NER_MAXSPLIT */
    size_t st = splits[ns - 1];
    if (fast) {
        for (size_t k = 1; k + 1 < ns; k++) {
            t->pre[k] = hash_end(hw[splits[k]], splits[k]);
            t->stm[k] = ner_hash_bytes(norm + splits[k], nlen - splits[k]);
        }
        if (ns > 1) { /* the stem: its states kept for stem_pfx */
            t->pre[ns - 1] = hash_end(hw[st], st);
            fnv_states(norm + st, nlen - st, hs);
            t->stm[ns - 1] = hash_end(hs[nlen - st], nlen - st);
        }
    } else {
        for (size_t k = 1; k < ns; k++) {
            t->pre[k] = ner_hash_bytes(norm, splits[k]);
            t->stm[k] = ner_hash_bytes(norm + splits[k], nlen - splits[k]);
        }
    }
    t->stem = ns > 1 ? t->stm[ns - 1] : t->word;
    /* the stem's code points: those of the word from st on, when st starts one */
    size_t q = 0;
    while (fast && q < ncp && cps[q] < st)
        q++;
    const int stem_cps = fast && (q < ncp ? cps[q] == st : st == nlen);
    const size_t nsub = ncp - q;
    for (unsigned k = 0; k < 2; k++) {
        size_t s, p;
        if (stem_cps) {
            s = k + 1 <= nsub ? cps[ncp - (k + 1)] - st : 0;
            p = k + 2 < nsub ? cps[q + k + 2] - st : nlen - st;
            /* a suffix of the stem shorter than it is the word's suffix of
             * as many code points (sfx[k]) */
            t->stem_sfx[k] = s > 0 ? t->sfx[k] : 0;
            t->stem_pfx[k] = p < nlen - st ? hash_end(ns > 1 ? hs[p] : hw[p], p) : 0;
            continue;
        }
        s = cp_suffix(norm + st, nlen - st, k + 1);
        p = cp_prefix(norm + st, nlen - st, k + 2);
        t->stem_sfx[k] = s > 0 ? ner_hash_bytes(norm + st + s, nlen - st - s) : 0;
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
    if (m->flags & NER_F_NEWS) { /* how the news tagged the word and its stem */
        const uint64_t *v = ner_set_get(&m->news, t->word);
        t->news = v ? (uint8_t)*v : NER_NEWS_ABSENT;
        v = ner_set_get(&m->news, NER_NEWS_STEM_KEY(t->stem));
        t->news_stem = v ? (uint8_t)*v : NER_NEWS_ABSENT;
    }
    if (m->flags & NER_F_LEX) { /* spelling-dictionary class of the word and its stem */
        const uint64_t *v = ner_set_get(&m->lex, t->word);
        t->lex = v && *v < NER_LEX_TRI_BASE ? *v & 3u : NER_LEX_UNKNOWN;
        v = ns > 1 ? ner_set_get(&m->lex, t->stem) : v;
        t->lex_stem = v && *v < NER_LEX_TRI_BASE ? *v & 3u : NER_LEX_UNKNOWN;
        if (m->flags & NER_F_LEXSP)
            t->lex_sp = ner_lex_spell_bucket(m, norm + st, nlen - st) & 7u;
    }
}

void ner_describe_token(const ner_model *m, const char *w, size_t wn, ner_tokdesc *t)
{
    describe_token(m, w, wn, t, 1);
}

void ner_describe_token_plain(const ner_model *m, const char *w, size_t wn, ner_tokdesc *t)
{
    describe_token(m, w, wn, t, 0);
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
    T_QUOTE, T_QTRIG, T_CLM2, T_CLP2, T_CLBIG, T_CLSFX,
    T_NEWS0, T_NEWSS0, T_NEWST, T_NEWSM1 = T_NEWST + NER_NTYPES, T_NEWSP1,
    T_DOCA0, T_DOCAS0, T_LEX0, T_LEXS0, T_LEXM1, T_LEXP1, T_LEXSP, T_LEXSPC,
    T_ACTXW, T_ACTXWC, T_ACTXS, T_ACTXSC, T_ACTXM1, T_ACTXP1,
    T_TOPB, T_TOPGB, T_TOPGI, T_TOPCL, T_TOPW, T_TOPS, T_TOPM1, T_TOPP1
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
    if (m->flags & NER_F_NEWS) { /* the news buckets: all types together, then each type */
        f[k++] = ner_mix(T_NEWS0, t->news);
        f[k++] = ner_mix(T_NEWSS0, t->news_stem);
        if (t->news != NER_NEWS_ABSENT)
            for (unsigned ty = 0; ty < NER_NTYPES; ty++)
                f[k++] = ner_mix(T_NEWST + ty, (t->news >> (2 * ty)) & 3u);
    }
    if (m->flags & NER_F_LEX) { /* spelling-dictionary classes of the word and its stem */
        f[k++] = ner_mix(T_LEX0, t->lex);
        f[k++] = ner_mix(T_LEXS0, t->lex_stem);
        if (m->flags & NER_F_LEXSP) { /* the trigram score, alone and with the class */
            f[k++] = ner_mix(T_LEXSP, t->lex_sp);
            f[k++] = ner_mix(T_LEXSPC, ner_mix(t->lex_sp, t->lex));
        }
    }
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
        if (m->flags & NER_F_NEWS)
            f[k++] = ner_mix(left ? T_NEWSM1 : T_NEWSP1, t ? t->news : edge);
        if (m->flags & NER_F_LEX)
            f[k++] = ner_mix(left ? T_LEXM1 : T_LEXP1, t ? t->lex : edge);
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

/* NER_F_ACTX (ner_actx.c): one feature per fact of the word and of its stem,
 * their mention counts (0: no feature), and one per fact of the words -1 and
 * +1. The cached path adds rows that cache_bind sums from the same features:
 * KEEP IN STEP with emissions_cached(). */
static size_t actx_features(const ner_tokdesc *t, const ner_tokdesc *l1, const ner_tokdesc *r1,
                            uint32_t *f)
{
    size_t k = 0;
    for (unsigned b = t->actx; b; b &= b - 1)
        f[k++] = ner_mix(T_ACTXW, (uint32_t)__builtin_ctz(b));
    for (unsigned b = t->actx_stem; b; b &= b - 1)
        f[k++] = ner_mix(T_ACTXS, (uint32_t)__builtin_ctz(b));
    if (t->actx_cnt)
        f[k++] = ner_mix(T_ACTXWC, t->actx_cnt);
    if (t->actx_scnt)
        f[k++] = ner_mix(T_ACTXSC, t->actx_scnt);
    for (unsigned b = l1 ? l1->actx : 0; b; b &= b - 1)
        f[k++] = ner_mix(T_ACTXM1, (uint32_t)__builtin_ctz(b));
    for (unsigned b = r1 ? r1->actx : 0; b; b &= b - 1)
        f[k++] = ner_mix(T_ACTXP1, (uint32_t)__builtin_ctz(b));
    return k;
}

/* NER_F_TOPIC, a token of a sports article (t->topic): the topic alone, and
 * conjoined with what makes a word look like a place or a name (its
 * gazetteer begin / inside types, its middle cluster), with the word and
 * the stem themselves (a club's name learns its own weight) and with the
 * stems -1 and +1 (فاز على X, مدرب X). Nothing when the bit is clear. The
 * cached path adds rows instead, from a memo per word, stem and cluster and
 * from per-type rows (topic_rows). KEEP IN STEP with it. */
static size_t topic_features(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i,
                             uint32_t *f)
{
    const ner_tokdesc *t = &d[i];
    size_t k = 0;
    if (!t->topic)
        return 0;
    f[k++] = ner_mix(T_TOPB, 0);
    for (unsigned b = t->gaz_b; b; b &= b - 1)
        f[k++] = ner_mix(T_TOPGB, (uint32_t)__builtin_ctz(b));
    for (unsigned b = t->gaz_i; b; b &= b - 1)
        f[k++] = ner_mix(T_TOPGI, (uint32_t)__builtin_ctz(b));
    if (m->flags & NER_F_CLUSTERS) /* cl[1]: the one the token table keeps */
        f[k++] = ner_mix(T_TOPCL, t->has_cl ? t->cl[1] + 1 : 0);
    f[k++] = ner_mix(T_TOPW, t->word);
    f[k++] = ner_mix(T_TOPS, t->stem);
    f[k++] = ner_mix(T_TOPM1, i >= 1 ? d[i - 1].stem : BOS(1));
    f[k++] = ner_mix(T_TOPP1, i + 1 < n ? d[i + 1].stem : EOS(1));
    return k;
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
    if (m->flags & NER_F_DOC2) { /* entity types the words got later (second pass), not before */
        if (t->after)
            f[k++] = ner_mix(T_DOCA0, t->after);
        if (t->after_stem)
            f[k++] = ner_mix(T_DOCAS0, t->after_stem);
    }
    if (m->flags & NER_F_ACTX) /* facts of all mentions of the word in the article */
        k += actx_features(t, l1, r1, f + k);
    if (m->flags & NER_F_TOPIC) /* a sports article */
        k += topic_features(m, d, n, i, f + k);
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
    float s[NER_NTAGS + 1][NER_NTAGS]; /* the same as scalars */
    /* viterbi_scores: the B-X tags and the I-X tags as lanes of a vector,
     * X = PER, LOC, ORG, MISC */
    ner_v4f bx[NER_NTAGS]; /* [prev]: to B-X */
    ner_v4f bi, ii;        /* B-X to I-X, I-X to I-X */
    ner_v4f bo, io;        /* B-X to O, I-X to O */
    float oo;              /* O to O */
    /* the way back of viterbi_scores: [cur], from the four B-X and from the
     * four I-X (the columns of s in the score layout) */
    ner_v4f cx[NER_NTAGS], cy[NER_NTAGS];
} ner_trans_masked;

_Static_assert(NER_NTAGS == 9 && NER_O == 0, "tags: O, then B-X and I-X for 4 types");

static void trans_masked(const float trans[NER_NTAGS + 1][NER_NTAGS], ner_trans_masked *mt)
{
    for (unsigned p = 0; p <= NER_NTAGS; p++) {
        float row[NER_TV * 4];
        for (unsigned t = 0; t < NER_TV * 4; t++)
            row[t] = t < NER_NTAGS && ner_bio_allowed(p, t) ? trans[p][t] : -INFINITY;
        memcpy(mt->t[p], row, sizeof row);
        memcpy(mt->s[p], row, sizeof mt->s[p]);
        if (p < NER_NTAGS) {
            const ner_v4f b = {row[1], row[3], row[5], row[7]};
            mt->bx[p] = b;
        }
    }
    for (unsigned x = 0; x < 4; x++) {
        const unsigned b = 2 * x + 1, i = b + 1;
        mt->bi[x] = mt->s[b][i];
        mt->ii[x] = mt->s[i][i];
        mt->bo[x] = mt->s[b][NER_O];
        mt->io[x] = mt->s[i][NER_O];
    }
    mt->oo = mt->s[NER_O][NER_O];
    for (unsigned t = 0; t < NER_NTAGS; t++) {
        const ner_v4f cx = {mt->s[1][t], mt->s[3][t], mt->s[5][t], mt->s[7][t]};
        const ner_v4f cy = {mt->s[2][t], mt->s[4][t], mt->s[6][t], mt->s[8][t]};
        mt->cx[t] = cx;
        mt->cy[t] = cy;
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

/* The larger of two score vectors, lane by lane. Only the value matters
 * (which operand a tie returns can differ only in the sign of a zero, which
 * no later sum or comparison tells apart). */
static inline ner_v4f v4_max(ner_v4f a, ner_v4f b)
{
#if defined(__SSE__)
    return _mm_max_ps(a, b);
#else
    ner_v4i gt = a > b;
    return (ner_v4f)(((ner_v4i)a & gt) | ((ner_v4i)b & ~gt));
#endif
}

/* Where viterbi_scores() keeps the score of tag t in a row: O, then the
 * B-X lanes, then the I-X lanes. */
static const uint8_t vpos[NER_NTAGS] = {0, 1, 5, 2, 6, 3, 7, 4, 8};

static inline ner_v4f v4_lane(ner_v4f v, int k)
{
    const ner_v4i mask = {k, k, k, k};
    return __builtin_shuffle(v, mask);
}

#if defined(__SSE__)
/* The best predecessor of tag t (O or B-X: every tag may precede it) at a
 * position whose previous scores are a (score layout): the lowest tag p
 * with the largest a[vpos[p]] + s[p][t], as the scalar loop of
 * viterbi_scores() finds it (strict >: the first of equal sums), in two
 * 4-lane sums. The sums are never NaN (finite or -inf), so the maximum is
 * the same whatever the order, and == finds every tag that reaches it. */
static inline unsigned back_any(const float *a, const ner_trans_masked *mt, unsigned t)
{
    /* bit k of a 4-bit mask moved to bit 2k */
    static const uint8_t spread[16] = {0, 1, 4, 5, 16, 17, 20, 21, 64, 65, 68, 69, 80, 81, 84, 85};
    ner_v4f ax, ay;
    memcpy(&ax, a + 1, sizeof ax);
    memcpy(&ay, a + 5, sizeof ay);
    const ner_v4f sx = ax + mt->cx[t], sy = ay + mt->cy[t]; /* from B-X, from I-X */
    const float so = a[0] + mt->s[NER_O][t];
    const ner_v4i swap2 = {2, 3, 0, 1}, swap1 = {1, 0, 3, 2};
    ner_v4f mx = v4_max(sx, sy);
    mx = v4_max(mx, __builtin_shuffle(mx, swap2));
    mx = v4_max(mx, __builtin_shuffle(mx, swap1));
    if (!(mx[0] > so))
        return NER_O;
    const ner_v4f m4 = {mx[0], mx[0], mx[0], mx[0]};
    const unsigned bx = (unsigned)_mm_movemask_ps(_mm_cmpeq_ps(sx, m4));
    const unsigned by = (unsigned)_mm_movemask_ps(_mm_cmpeq_ps(sy, m4));
    /* lane k of sx is tag 2k + 1, of sy tag 2k + 2 */
    return (unsigned)__builtin_ctz((unsigned)spread[bx] << 1 | (unsigned)spread[by] << 2);
}
#endif

/* viterbi_masked without back-pointers and with the BIO constraint in its
 * layout. The scores of a position are kept as O, a vector of the four B-X
 * and a vector of the four I-X: B-X may follow any tag (9 vector steps),
 * I-X only B-X or I-X (one step: two sums and a max, lane by lane), O any
 * tag (two vector sums and a horizontal max). Row i of emit is overwritten
 * with the scores of position i in that order (vpos). The way back looks
 * for the best previous tag of the chosen tag only, with the same float
 * sums and the same tie-breaking as the reference (the lowest previous tag
 * wins): the maxima are the same values whatever the order they are taken
 * in, so the tags are those of viterbi_masked and of ner_viterbi. */
static void viterbi_scores(float *emit, const ner_trans_masked *mt, size_t n, uint8_t *out)
{
    if (n == 0)
        return;
    float a0[NER_NTAGS];
    for (unsigned t = 0; t < NER_NTAGS; t++)
        a0[t] = mt->s[NER_NTAGS][t] + emit[t];
    float o = a0[0];
    ner_v4f x = {a0[1], a0[3], a0[5], a0[7]}, y = {a0[2], a0[4], a0[6], a0[8]};
    emit[0] = o;
    memcpy(emit + 1, &x, sizeof x);
    memcpy(emit + 5, &y, sizeof y);
    for (size_t i = 1; i < n; i++) {
        float *e = emit + i * NER_NTAGS;
        ner_v4f v0, v1;
        memcpy(&v0, e + 1, sizeof v0); /* B-PER I-PER B-LOC I-LOC */
        memcpy(&v1, e + 5, sizeof v1); /* B-ORG I-ORG B-MISC I-MISC */
        const ner_v4i even = {0, 2, 4, 6}, odd = {1, 3, 5, 7};
        const ner_v4f ex = __builtin_shuffle(v0, v1, even), ey = __builtin_shuffle(v0, v1, odd);
        const float eo = e[0];
        /* to B-X: from every tag */
        const ner_v4f po = {o, o, o, o};
        ner_v4f nx = po + mt->bx[0];
        nx = v4_max(nx, v4_lane(x, 0) + mt->bx[1]);
        nx = v4_max(nx, v4_lane(y, 0) + mt->bx[2]);
        nx = v4_max(nx, v4_lane(x, 1) + mt->bx[3]);
        nx = v4_max(nx, v4_lane(y, 1) + mt->bx[4]);
        nx = v4_max(nx, v4_lane(x, 2) + mt->bx[5]);
        nx = v4_max(nx, v4_lane(y, 2) + mt->bx[6]);
        nx = v4_max(nx, v4_lane(x, 3) + mt->bx[7]);
        nx = v4_max(nx, v4_lane(y, 3) + mt->bx[8]);
        /* to I-X: from B-X or I-X */
        const ner_v4f ny = v4_max(x + mt->bi, y + mt->ii);
        /* to O: from every tag */
        ner_v4f to = v4_max(x + mt->bo, y + mt->io);
        const ner_v4i swap2 = {2, 3, 0, 1}, swap1 = {1, 0, 3, 2};
        to = v4_max(to, __builtin_shuffle(to, swap2));
        to = v4_max(to, __builtin_shuffle(to, swap1));
        const float oo = o + mt->oo, no = to[0] > oo ? to[0] : oo;
        o = no + eo;
        x = nx + ex;
        y = ny + ey;
        e[0] = o;
        memcpy(e + 1, &x, sizeof x);
        memcpy(e + 5, &y, sizeof y);
    }
    const float *last = emit + (n - 1) * NER_NTAGS;
    unsigned best = 0;
    for (unsigned t = 1; t < NER_NTAGS; t++)
        if (last[vpos[t]] > last[vpos[best]])
            best = t;
    out[n - 1] = (uint8_t)best;
    for (size_t i = n - 1; i > 0; i--) {
        const float *a = emit + (i - 1) * NER_NTAGS;
        const unsigned t = out[i];
        float bs = -INFINITY;
        unsigned arg = 0;
        if (t && !(t & 1u)) { /* I-X: only B-X (t - 1) and I-X may precede it */
            float s0 = a[vpos[t - 1]] + mt->s[t - 1][t], s1 = a[vpos[t]] + mt->s[t][t];
            if (s0 > bs) {
                bs = s0;
                arg = t - 1;
            }
            if (s1 > bs)
                arg = t;
        } else {
#if defined(__SSE__)
            arg = back_any(a, mt, t);
#else
#pragma GCC unroll 9
            for (unsigned p = 0; p < NER_NTAGS; p++) {
                float sc = a[vpos[p]] + mt->s[p][t];
                if (sc > bs) {
                    bs = sc;
                    arg = p;
                }
            }
#endif
        }
        out[i - 1] = (uint8_t)arg;
    }
}

/* ner_viterbi through viterbi_scores (emit is overwritten): for the tests. */
void ner_viterbi_inplace(float *emit, const float trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                         uint8_t *out)
{
    ner_trans_masked mt;
    trans_masked(trans, &mt);
    viterbi_scores(emit, &mt, n, out);
}

/* ---- hash sets ---- */

static void *table_alloc(size_t size);

/* A zeroed array of n elements of size bytes for a set: in huge pages from
 * 2 MB up (table_alloc), so loading a model with ~300 k set entries takes a
 * few page faults instead of thousands (they were a third of the start-up),
 * and lookups at run time miss the TLB less. Freed with free(). */
static void *set_calloc(size_t n, size_t size)
{
    void *p = table_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

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
    s->keys = set_calloc(cap, sizeof *s->keys);
    s->vals = set_calloc(cap, sizeof *s->vals);
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
        uint32_t *nk = set_calloc(cap, sizeof *nk);
        uint64_t *nv = set_calloc(cap, sizeof *nv);
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
    if (m) {
        m->gaz_maxlen = 1;
        ner_actx_triggers(m);
    }
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
    ner_set_free(&m->news);
    ner_set_free(&m->lex);
    free(m);
}

/* The key filter: most features of a rare word are not in the table, and
 * their probes are cache misses in a table of megabytes. A Bloom filter of
 * 64-bit words (3 bits in one word per key, 10 to 21 bits per key: at most
 * about 2% false positives) answers "surely absent" from ~128 KB instead. It never
 * answers absent for a key of the table, so the sums are the same. (The
 * blocked filter before it, 3 bits in one 64-byte block, took 3 loads and
 * ~30 instructions a test for 1.5% false positives; the filter itself:
 * +20% instructions, -15% L2 misses, +6..8% tagging speed, measured.) */
static inline uint64_t filter_bits(const ner_model *m, uint32_t key, size_t *word)
{
    const uint64_t x = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    *word = (size_t)(x >> 40) & (m->filter_blocks * 8 - 1);
    return 1ull << (x & 63u) | 1ull << ((x >> 6) & 63u) | 1ull << ((x >> 12) & 63u);
}

static inline int filter_maybe(const ner_model *m, uint32_t key)
{
    size_t w;
    const uint64_t bits = filter_bits(m, key, &w);
    return (m->filter[w] & bits) == bits;
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
        size_t w;
        const uint64_t bits = filter_bits(m, key, &w);
        f[w] |= bits;
    }
    m->filter_for = m->slots;
}

static void neighbour_sums(const ner_model *m, const ner_tokdesc *t, int32_t nb[4][NER_NTAGS]);

/* Memory for a table of megabytes read at random (the weights, the token
 * cache): 64-byte aligned, and from 2 MB up in 2 MB-aligned huge pages
 * where the kernel gives them on request (one TLB entry instead of 512).
 * Not cleared; freed with free(). */
static void *table_alloc(size_t size)
{
    const size_t huge = (size_t)2 << 20;
    if (size < huge)
        return aligned_alloc(64, (size + 63) & ~(size_t)63);
    size = (size + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, size);
#ifdef MADV_HUGEPAGE
    if (p)
        (void)madvise(p, size, MADV_HUGEPAGE); /* a hint: without it, only slower */
#endif
    return p;
}

int ner_model_set_weights(ner_model *m, const uint32_t *keys, const int16_t *w, size_t nfeat,
                          float scale)
{
    size_t cap = pow2_at_least(nfeat + nfeat / 2 + 1);
    ner_slot *slots = table_alloc(cap * sizeof *slots);
    if (!slots)
        return NAHR_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
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
#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

/* Sentences are decoded in pieces of at most NER_MAX_SENT tokens (a longer
 * run without a sentence end is cut), so scratch stays bounded whatever the
 * article size. */
#define NER_MAX_SENT 1024

/* ---- token caches ----
 * A token's description (hashes of its normalised form, affixes, clitic
 * strips, shape, clusters) depends on its bytes alone; only the gazetteer
 * marks, quotations and history bits depend on the sentence. Most tokens of
 * news text repeat a word seen before, so a table keyed by the token's bytes
 * keeps, per word, what the rest of the tagging reads of its description
 * and the summed weights of its unary features (ner_features_unary) and of
 * the features it gives its neighbours as the word at -2, -1, +1 and +2
 * (ner_features_neighbour): a token's emission is the sum of its unary row,
 * of its neighbours' rows for their offsets (constant rows at the sentence
 * edges), and of the weights of the remaining context features
 * (ner_features_rest), the only ones computed per occurrence. The
 * sentence-level fields are redone per sentence.
 *
 * Two tables of the same slots: per call (ner_model_tag: direct-mapped, at
 * most NER_TC_MAX slots in the caller's scratch) and per thread (ner_cache:
 * 4-way set-associative with least-recently-used replacement, kept across
 * calls). A slot's 32-bit tag lives in a separate array, so a lookup reads
 * the slots of a set only where a tag matches. */
#define NER_TC_KEY 24   /* longer tokens (0.03 % of news tokens) are described every time */
#define NER_TC_MAX 64u /* slots at most per call (a power of two): scratch < 200 KB without history */

typedef struct tc_slot {
    uint8_t len, punct, nsplit;
    uint8_t gz; /* bit k: proclitic strip k (0: the word) starts a gazetteer phrase or prefix */
    uint8_t trig;  /* NER_F_ARTICLE: ner_actx_trig() of word and stem */
    uint32_t skey; /* NER_F_ARTICLE: ner_actx_stem_key() of stem */
    uint32_t word, stem, shape;
    uint32_t clv;                     /* has_cl ? cl[1] + 1 : 0 */
    uint32_t stm[NER_MAXSPLIT - 1];   /* ner_tokdesc.stm[1..nsplit) */
    uint64_t key[NER_TC_KEY / 8];     /* the token's bytes, zero-padded (tc_key) */
    int32_t unary[NER_NTAGS];         /* summed weights of its ner_features_unary() */
    int32_t nb[4][NER_NTAGS];         /* of its ner_features_neighbour() at -2, -1, +1, +2 */
} __attribute__((aligned(64))) tc_slot;

_Static_assert(sizeof(tc_slot) <= 256, "a token cache slot should stay within 4 cache lines");

/* A table of slots: sets of `ways` slots, tag[set * ways + k] the tag of
 * slot[set * ways + k] (0: empty), age[set] the 2-bit ages of a 4-way set's
 * slots (0: the most recently used). */
typedef struct tc_table {
    tc_slot *slot;
    uint32_t *tag;
    uint8_t *age; /* NULL when ways == 1 */
    size_t setmask;
    unsigned ways;
} tc_table;

/* The per-thread cache (ner_cache.h): 65,536 slots of 256 bytes (16 MB, in
 * huge pages where the kernel gives them), 4 ways. On the news corpus it
 * misses 9.4 % of the tokens once warm (15.1 % of news-000, where 14.6 % are
 * first occurrences); the direct-mapped table of 8,192 slots it replaced
 * missed 37-40 %. */
#define NER_CACHE_WAYS 4u
#define NER_CACHE_SLOTS 65536u /* ner_cache_new() */

/* A memo of the weight-table slot of a feature made of three values (the
 * shape trigram, the cluster bigram): v = 0 empty, 1 absent from the table,
 * else the slot index + 2. Direct-mapped. */
typedef struct memo_ent {
    uint32_t x, y, z, v;
} memo_ent;
#define NER_MEMO 4096u /* entries at most (fewer in a small cache, so that tests see conflicts) */
/* The word-bigram memo: per pair of words (x, y) the slots of T_BIG_L of y
 * (z) and of T_BIG_R of x (v), as memo values. Direct-mapped, NER_BMEMO
 * entries at most (1 MB; fewer in a small cache). */
#define NER_BMEMO 65536u

/* NER_F_TOPIC: a memo of the topic features a token of a sports article
 * owes to its word, stem and middle cluster alone (topic_features): the sum
 * for itself, and the sums of the features its stem gives the tokens after
 * and before it. Direct-mapped, NER_TOPIC_MEMO entries at most (fewer in a
 * small cache, so that tests see conflicts: 2 MB); full = 0: empty. */
#define NER_TOPIC_MEMO 16384u
typedef struct topic_ent {
    uint32_t word, stem, clv, full;
    int32_t self[NER_NTAGS];  /* T_TOPB, T_TOPCL, T_TOPW, T_TOPS */
    int32_t left[NER_NTAGS];  /* T_TOPM1 of its stem (in the row of the token after it) */
    int32_t right[NER_NTAGS]; /* T_TOPP1 of its stem (in the row of the token before it) */
} topic_ent;

/* Index of the weight rows of the features whose values come from a small
 * set (ner_features_rest): the history bits (a uint8, or the sentence edge
 * at NER_ROW_EDGE), the gazetteer type bits, the quotation position. */
#define NER_ROW_EDGE 256u

struct ner_cache {
    const ner_model *model; /* the entries hold its descriptions and weights */
    const ner_slot *model_slots;
    uint32_t model_flags;
    size_t sets;   /* a power of two */
    tc_slot *slot; /* sets * NER_CACHE_WAYS, 64-byte aligned */
    uint32_t *tag; /* sets * NER_CACHE_WAYS */
    uint8_t *age;  /* sets */
    size_t memomask;
    memo_ent *memo; /* 2 x (memomask + 1): shape trigrams, then cluster bigrams */
    size_t bmemomask;
    memo_ent *bmemo; /* bmemomask + 1: word bigrams */
    int32_t hist[4][NER_ROW_EDGE + 1][NER_NTAGS]; /* T_HIST0, T_HISTS0, T_HISTM1, T_HISTP1 */
    int32_t gaz[4][8][NER_NTAGS];                 /* T_GAZB, T_GAZI, T_GAZP1, T_GAZM1 */
    int32_t quote[3][NER_NTAGS];                  /* T_QUOTE 1, 2 */
    int32_t after[2][16][NER_NTAGS];              /* T_DOCA0, T_DOCAS0 */
    /* NER_F_ACTX, summed over the set bits of the value: T_ACTXW, T_ACTXS,
     * T_ACTXM1, T_ACTXP1; then T_ACTXWC, T_ACTXSC (values 0..3) */
    int32_t actx[4][256][NER_NTAGS];
    int32_t actxc[2][4][NER_NTAGS];
    /* the same for the word and the stem with their counts: actx[r][v] +
     * actxc[r][count], one row per token instead of two */
    int32_t actxwc[2][4][256][NER_NTAGS];
    /* NER_F_TOPIC: the memo (topicmask + 1 entries, NULL until a model with
     * the flag is bound), T_TOPGB and T_TOPGI per type, and T_TOPM1 of the
     * sentence start and T_TOPP1 of its end */
    topic_ent *topic;
    size_t topicmask;
    int32_t topgaz[2][8][NER_NTAGS];
    int32_t topedge[2][NER_NTAGS];
    /* NER_F_HIST: the prediction history of the call, kept here so that the
     * next call clears the slots of its keys only (htab.used = htab_used),
     * not the whole table as one in the scratch */
    ner_hist htab;
    uint16_t htab_used[NER_HIST_CAP];
};

ner_cache *ner_cache_new_slots(size_t slots)
{
    size_t sets = 1;
    while (sets * NER_CACHE_WAYS < slots && sets < ((size_t)1 << 24))
        sets <<= 1;
    ner_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sets = sets;
    c->memomask = (sets * NER_CACHE_WAYS < NER_MEMO ? sets * NER_CACHE_WAYS : NER_MEMO) - 1;
    c->topicmask =
        (sets * NER_CACHE_WAYS < NER_TOPIC_MEMO ? sets * NER_CACHE_WAYS : NER_TOPIC_MEMO) - 1;
    c->bmemomask = (sets * NER_CACHE_WAYS < NER_BMEMO ? sets * NER_CACHE_WAYS : NER_BMEMO) - 1;
    /* not cleared: a slot is read only after its tag was set */
    c->slot = table_alloc(sets * NER_CACHE_WAYS * sizeof(tc_slot));
    c->tag = calloc(sets * NER_CACHE_WAYS, sizeof *c->tag);
    c->age = malloc(sets);
    c->memo = calloc(2 * (c->memomask + 1), sizeof *c->memo);
    c->bmemo = calloc(c->bmemomask + 1, sizeof *c->bmemo);
    if (!c->slot || !c->tag || !c->age || !c->memo || !c->bmemo) {
        ner_cache_free(c);
        return NULL;
    }
    memset(c->age, LRU4_INIT, sets);
    c->htab.used = c->htab_used; /* calloc: an empty table */
    return c;
}

ner_cache *ner_cache_new(void)
{
    return ner_cache_new_slots(NER_CACHE_SLOTS);
}

void ner_cache_free(ner_cache *c)
{
    if (!c)
        return;
    free(c->slot);
    free(c->tag);
    free(c->age);
    free(c->memo);
    free(c->bmemo);
    free(c->topic);
    free(c);
}

void ner_cache_reset(ner_cache *c)
{
    if (!c)
        return;
    c->model = NULL;
    c->model_slots = NULL;
    memset(c->tag, 0, c->sets * NER_CACHE_WAYS * sizeof *c->tag);
    memset(c->age, LRU4_INIT, c->sets);
    memset(c->memo, 0, 2 * (c->memomask + 1) * sizeof *c->memo);
    memset(c->bmemo, 0, (c->bmemomask + 1) * sizeof *c->bmemo);
    if (c->topic)
        memset(c->topic, 0, (c->topicmask + 1) * sizeof *c->topic);
}

static size_t tc_slots(size_t ntok)
{
    size_t c = 16;
    while (c < ntok && c < NER_TC_MAX)
        c <<= 1;
    return c;
}

/* A 64-bit hash of a token's key words (tc_key): bits 0..31 choose the
 * set, bits 32..63 (never 0) are the tag. */
static inline uint64_t tc_hash(const uint64_t key[NER_TC_KEY / 8], size_t wn)
{
    uint64_t h = ((uint64_t)wn + 1) * 0x9E3779B97F4A7C15ull;
    h = (h ^ key[0]) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 32) ^ key[1]) * 0xc4ceb9fe1a85ec53ull;
    h = (h ^ (h >> 32) ^ key[2]) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h | (1ull << 32);
}

/* The bytes of a token of at most NER_TC_KEY bytes as zero-padded words
 * (the key a slot is compared with), and their tc_hash(). `before`: how
 * many bytes before w may be read (the token's offset in its text): when
 * the last partial word has 8 readable bytes ending with it, a
 * little-endian target takes it with one load and a shift. */
static inline uint64_t tc_key(const char *w, size_t wn, size_t before,
                              uint64_t key[NER_TC_KEY / 8])
{
    size_t i = 0;
    key[0] = key[1] = key[2] = 0;
    for (; i + 8 <= wn; i += 8)
        memcpy(&key[i / 8], w + i, 8);
    if (i < wn) {
        uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (before + wn >= 8) { /* bytes wn-8 .. wn-1 (from before w when wn < 8) */
            memcpy(&v, w + wn - 8, 8);
            key[i / 8] = v >> (8 * (8 - (wn - i)));
            return tc_hash(key, wn);
        }
#endif
        for (size_t j = wn; j > i; j--)
            v = v << 8 | (unsigned char)w[j - 1];
        key[i / 8] = v;
    }
    return tc_hash(key, wn);
}

static inline uint32_t tc_tag(uint64_t h) { return (uint32_t)(h >> 32); }

/* The slot of a token in tc: its entry (*hit = 1), or the slot now tagged
 * for it, which the caller fills (*hit = 0). */
static inline tc_slot *tc_lookup(const tc_table *tc, uint64_t h, const uint64_t *key, size_t wn,
                                 int *hit)
{
    const uint32_t tag = tc_tag(h);
    const size_t set = (size_t)h & tc->setmask;
    uint32_t *tg = tc->tag + set * tc->ways;
    tc_slot *s = tc->slot + set * tc->ways;
    unsigned k, match; /* bit k: tg[k] == tag */
#if defined(__SSE2__)
    if (tc->ways == 4) {
        __m128i t4 = _mm_loadu_si128((const __m128i *)(const void *)tg);
        match = (unsigned)_mm_movemask_ps(
            _mm_castsi128_ps(_mm_cmpeq_epi32(t4, _mm_set1_epi32((int)tag))));
    } else
#endif
    {
        match = 0;
        for (k = 0; k < tc->ways; k++)
            match |= (unsigned)(tg[k] == tag) << k;
    }
    for (k = tc->ways; match; match &= match - 1) {
        unsigned q = (unsigned)__builtin_ctz(match);
        if (s[q].len == wn && s[q].key[0] == key[0] && s[q].key[1] == key[1] &&
            s[q].key[2] == key[2]) {
            k = q;
            break;
        }
    }
    *hit = k < tc->ways;
    if (tc->ways == 1) {
        tg[0] = tag;
        return s;
    }
    if (!*hit) {
        k = lru4_oldest(tc->age[set]);
        tg[k] = tag;
    }
    tc->age[set] = lru4_touch(tc->age[set], k);
    return &s[k];
}

/* Asks for the slot lines of a token whose tag is in the table. */
static inline void tc_prefetch(const tc_table *tc, uint64_t h)
{
    const uint32_t tag = tc_tag(h);
    const size_t set = (size_t)h & tc->setmask;
    const uint32_t *tg = tc->tag + set * tc->ways;
    for (unsigned k = 0; k < tc->ways; k++)
        if (tg[k] == tag) {
            const char *e = (const char *)&tc->slot[set * tc->ways + k];
            for (size_t o = 0; o < sizeof(tc_slot); o += 64)
                __builtin_prefetch(e + o);
            return;
        }
}

/* A row of NER_NTAGS sums: 8 int32 lanes and tag 8 as a scalar; a weight
 * row: 8 int16 lanes widened to int32, + tag 8. */
typedef int16_t ner_v8s __attribute__((vector_size(16)));
typedef int32_t ner_v8i __attribute__((vector_size(32)));
typedef float ner_v8f __attribute__((vector_size(32)));
_Static_assert(NER_NTAGS == 9, "rows are 8 vector lanes + 1");

/* The 8 lanes of a row being summed (tag 8 is a scalar beside it). With
 * SSE2, two registers: GCC keeps a 32-byte vector in memory without AVX, and
 * stored it back after every addition. */
#if defined(__SSE2__)
typedef struct ner_acc {
    __m128i lo, hi;
} ner_acc;

static inline void acc_load(ner_acc *a, const void *p)
{
    a->lo = _mm_loadu_si128((const __m128i *)p);
    a->hi = _mm_loadu_si128((const __m128i *)p + 1);
}

static inline void acc_store(void *p, const ner_acc *a)
{
    _mm_storeu_si128((__m128i *)p, a->lo);
    _mm_storeu_si128((__m128i *)p + 1, a->hi);
}

/* e[0..8) = (float)a * scale, lane by lane (= ner_v8f arithmetic) */
static inline void acc_scaled(float *e, const ner_acc *a, float scale)
{
    const __m128 s = _mm_set1_ps(scale);
    _mm_storeu_ps(e, _mm_mul_ps(_mm_cvtepi32_ps(a->lo), s));
    _mm_storeu_ps(e + 4, _mm_mul_ps(_mm_cvtepi32_ps(a->hi), s));
}

/* (a8, a9) += the int32 row r */
static inline void row9_add(ner_acc *a8, int32_t *a9, const int32_t *r)
{
    a8->lo = _mm_add_epi32(a8->lo, _mm_loadu_si128((const __m128i *)(const void *)r));
    a8->hi = _mm_add_epi32(a8->hi, _mm_loadu_si128((const __m128i *)(const void *)(r + 4)));
    *a9 += r[8];
}

/* (a8, a9) += the int16 weights w of a table slot (each lane doubled into a
 * 32-bit lane and shifted back down: sign-extended) */
static inline void row9_add16(ner_acc *a8, int32_t *a9, const int16_t *w)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)w);
    a8->lo = _mm_add_epi32(a8->lo, _mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16));
    a8->hi = _mm_add_epi32(a8->hi, _mm_srai_epi32(_mm_unpackhi_epi16(v, v), 16));
    *a9 += w[8];
}
#else
typedef ner_v8i ner_acc;

static inline void acc_load(ner_acc *a, const void *p) { memcpy(a, p, sizeof *a); }

static inline void acc_store(void *p, const ner_acc *a) { memcpy(p, a, sizeof *a); }

static inline void acc_scaled(float *e, const ner_acc *a, float scale)
{
    const ner_v8f sc = __builtin_convertvector(*a, ner_v8f) * scale;
    memcpy(e, &sc, sizeof sc);
}

/* (a8, a9) += the int32 row r */
static inline void row9_add(ner_acc *a8, int32_t *a9, const int32_t *r)
{
    ner_v8i v;
    memcpy(&v, r, sizeof v);
    *a8 += v;
    *a9 += r[8];
}

/* (a8, a9) += the int16 weights w of a table slot */
static inline void row9_add16(ner_acc *a8, int32_t *a9, const int16_t *w)
{
    ner_v8s v;
    memcpy(&v, w, sizeof v);
    *a8 += __builtin_convertvector(v, ner_v8i);
    *a9 += w[8];
}
#endif

static void sum_weights(const ner_model *m, const uint32_t *f, size_t nf, int32_t *acc);
static inline void sum_rows(const ner_model *m, const uint32_t *f, size_t nf, ner_acc *a8,
                            int32_t *a9);
static inline void prefetch_slots(const ner_model *m, const uint32_t *f, size_t nf);

/* ner_features_neighbour() offset of tc_slot.nb[r] and edge rows */
static const int nb_offset[4] = {-2, -1, 1, 2};

/* The summed weights of the features token t (NULL: the sentence edge) gives
 * its neighbours: nb[r] for offset nb_offset[r]. */
/* The features of neighbour_sums() (nf[r] in f[r] for offset nb_offset[r]),
 * their weight slots asked for. */
static void neighbour_features(const ner_model *m, const ner_tokdesc *t, uint32_t f[4][NER_MAXF],
                               size_t nf[4])
{
    /* a copy the feature arrays cannot alias, and the offsets as constants:
     * the compiler may then hash a value the four offsets share only once */
    if (t) {
        const ner_tokdesc tl = *t;
        nf[0] = features_neighbour(m, &tl, -2, f[0]);
        nf[1] = features_neighbour(m, &tl, -1, f[1]);
        nf[2] = features_neighbour(m, &tl, 1, f[2]);
        nf[3] = features_neighbour(m, &tl, 2, f[3]);
    } else {
        for (unsigned r = 0; r < 4; r++)
            nf[r] = features_neighbour(m, NULL, nb_offset[r], f[r]);
    }
    for (unsigned r = 0; r < 4; r++)
        prefetch_slots(m, f[r], nf[r]);
}

/* nb[r] = the summed weights of the features of neighbour_features() */
static void neighbour_add(const ner_model *m, const uint32_t f[4][NER_MAXF], const size_t nf[4],
                          int32_t nb[4][NER_NTAGS])
{
    for (unsigned r = 0; r < 4; r++) {
        memset(nb[r], 0, sizeof nb[r]);
        sum_weights(m, f[r], nf[r], nb[r]);
    }
}

static void neighbour_sums(const ner_model *m, const ner_tokdesc *t, int32_t nb[4][NER_NTAGS])
{
    uint32_t f[4][NER_MAXF];
    size_t nf[4];
    neighbour_features(m, t, f, nf);
    neighbour_add(m, (const uint32_t(*)[NER_MAXF])f, nf, nb);
}

/* row (int32 sums kept in a float emission row) += v */
static inline void row_add(float *row, const int32_t *v)
{
    ner_v8i a, b;
    int32_t a9;
    memcpy(&a, row, sizeof a);
    memcpy(&b, v, sizeof b);
    a += b;
    memcpy(row, &a, sizeof a);
    memcpy(&a9, row + 8, sizeof a9);
    a9 += v[8];
    memcpy(row + 8, &a9, sizeof a9);
}

/* ner_mix(a, b) == mix_outer(a, mix_inner(b)) (the same arithmetic, split):
 * the inner half of a value several features use is computed once. */
static inline uint32_t mix_inner(uint32_t b) { return ner_fmix32(b + 0x7f4a7c15u); }

static inline uint32_t mix_outer(uint32_t a, uint32_t inner)
{
    uint32_t h = ner_fmix32(a * 0x9e3779b1u + inner);
    return h ? h : 1u;
}

/* ner_features_unary(m, t, f) and, in fn[r] (nn[r] of them),
 * ner_features_neighbour(m, t, nb_offset[r]): the same keys in the same
 * order, with the inner half of ner_mix (mix_inner) of each value that
 * several of them mix (word, stem, shape, the suffix and prefix of two code
 * points, clusters, news and dictionary classes) computed once, and that of
 * the values 0..3 folded to constants. Returns the number of unary keys. */
size_t ner_features_token(const ner_model *m, const ner_tokdesc *t, uint32_t *f,
                          uint32_t fn[4][NER_MAXF], size_t nn[4])
{
    const uint32_t in03[4] = {mix_inner(0), mix_inner(1), mix_inner(2), mix_inner(3)};
    const int cl = (m->flags & NER_F_CLUSTERS) != 0, clx = cl && (m->flags & NER_F_CLX);
    const int news = (m->flags & NER_F_NEWS) != 0, lex = (m->flags & NER_F_LEX) != 0;
    const uint32_t iw = mix_inner(t->word);
    const uint32_t is = t->stem == t->word ? iw : mix_inner(t->stem);
    const uint32_t ish = mix_inner(t->shape);
    uint32_t isf[3], ipf1 = mix_inner(t->pfx[1]);
    for (unsigned s = 0; s < 3; s++)
        isf[s] = mix_inner(t->sfx[s]);
    uint32_t icl[NER_NCL] = {0}, inews = 0, ilex = 0;
    if (cl)
        for (unsigned c = 0; c < NER_NCL; c++)
            icl[c] = mix_inner(t->has_cl ? t->cl[c] + 1 : 0);
    if (news)
        inews = mix_inner(t->news);
    if (lex)
        ilex = in03[t->lex];
    size_t k = 0;
    f[k++] = ner_mix(T_BIAS, 0);
    f[k++] = mix_outer(T_W0, iw);
    f[k++] = mix_outer(T_STEM0, is);
    for (unsigned s = 1; s < t->nsplit; s++) {
        f[k++] = ner_mix(T_PRE, t->pre[s]);
        f[k++] = mix_outer(T_STM, t->stm[s] == t->stem ? is : mix_inner(t->stm[s]));
    }
    for (unsigned s = 0; s < 3; s++) {
        if (t->pfx[s])
            f[k++] = s == 1 ? mix_outer(T_PFX + 1, ipf1) : ner_mix(T_PFX + s, t->pfx[s]);
        if (t->sfx[s])
            f[k++] = mix_outer(T_SFX + s, isf[s]);
    }
    for (unsigned s = 0; s < 2; s++)
        if (t->stem_sfx[s])
            f[k++] = mix_outer(T_SSFX + s, t->stem_sfx[s] == t->sfx[s] ? isf[s] : mix_inner(t->stem_sfx[s]));
    f[k++] = mix_outer(T_SHAPE0, ish);
    for (unsigned s = 0; s < 2; s++)
        if (t->stem_pfx[s])
            f[k++] = ner_mix(T_SPFX + s, t->stem_pfx[s]);
    if (cl)
        for (unsigned c = 0; c < NER_NCL; c++)
            f[k++] = mix_outer(T_CL0 + c, icl[c]);
    if (clx)
        f[k++] = ner_mix(T_CLSFX, ner_mix(t->has_cl ? t->cl[1] + 1 : 0, t->stem_sfx[1]));
    if (news) {
        f[k++] = mix_outer(T_NEWS0, inews);
        f[k++] = mix_outer(T_NEWSS0, t->news_stem == t->news ? inews : mix_inner(t->news_stem));
        if (t->news != NER_NEWS_ABSENT)
            for (unsigned ty = 0; ty < NER_NTYPES; ty++)
                f[k++] = mix_outer(T_NEWST + ty, in03[(t->news >> (2 * ty)) & 3u]);
    }
    if (lex) {
        f[k++] = mix_outer(T_LEX0, ilex);
        f[k++] = mix_outer(T_LEXS0, in03[t->lex_stem]);
        if (m->flags & NER_F_LEXSP) {
            f[k++] = ner_mix(T_LEXSP, t->lex_sp);
            f[k++] = ner_mix(T_LEXSPC, ner_mix(t->lex_sp, t->lex));
        }
    }
    /* the neighbours: features_neighbour() with t at -2, -1, +1, +2 */
    for (unsigned r = 0; r < 4; r++) {
        uint32_t *g = fn[r];
        size_t q = 0;
        if (r == 0 || r == 3) {
            const int left = r == 0;
            g[q++] = mix_outer(left ? T_WM2 : T_WP2, iw);
            if (clx)
                g[q++] = mix_outer(left ? T_CLM2 : T_CLP2, icl[1]);
        } else {
            const int left = r == 1;
            g[q++] = mix_outer(left ? T_WM1 : T_WP1, iw);
            g[q++] = mix_outer(left ? T_STEMM1 : T_STEMP1, is);
            g[q++] = mix_outer(left ? T_SHAPEM1 : T_SHAPEP1, ish);
            g[q++] = mix_outer(left ? T_SFXM1 : T_SFXP1, isf[1]);
            g[q++] = mix_outer(left ? T_PFXM1 : T_PFXP1, ipf1);
            if (cl)
                for (unsigned c = 0; c < NER_NCL; c++)
                    g[q++] = mix_outer((left ? T_CLM1 : T_CLP1) + c, icl[c]);
            if (news)
                g[q++] = mix_outer(left ? T_NEWSM1 : T_NEWSP1, inews);
            if (lex)
                g[q++] = mix_outer(left ? T_LEXM1 : T_LEXP1, ilex);
        }
        nn[r] = q;
    }
    return k;
}

/* row = v (NULL: zeros), as row_add() keeps int32 sums in a float row */
static inline void row_set(float *row, const int32_t *v)
{
    if (v)
        memcpy(row, v, NER_NTAGS * sizeof *v);
    else
        memset(row, 0, NER_NTAGS * sizeof *row);
}

/* Fills the slot e of a token described in full as t. */
static NER_HOT void tc_fill(const ner_model *m, tc_slot *e, const uint64_t *key, size_t wn,
                            const ner_tokdesc *t)
{
    e->len = (uint8_t)wn;
    memcpy(e->key, key, sizeof e->key);
    e->punct = t->punct;
    e->nsplit = t->nsplit;
    e->word = t->word;
    e->stem = t->stem;
    e->shape = t->shape;
    e->clv = t->has_cl ? t->cl[1] + 1 : 0;
    if (m->flags & NER_F_ARTICLE) {
        e->trig = ner_actx_trig(m, t->word, t->stem);
        e->skey = ner_actx_stem_key(t->stem);
    }
    for (unsigned k = 1; k < NER_MAXSPLIT; k++)
        e->stm[k - 1] = k < t->nsplit ? t->stm[k] : 0;
    /* all the weight slots first, so that their cache misses overlap */
    uint32_t f[NER_MAXF], fn[4][NER_MAXF];
    size_t nn[4];
    const size_t nu = ner_features_token(m, t, f, fn, nn);
    prefetch_slots(m, f, nu);
    for (unsigned r = 0; r < 4; r++)
        prefetch_slots(m, fn[r], nn[r]);
    /* mark_gazetteers stops at once for a strip whose one-word phrase is not
     * in the set (not even as a prefix) */
    e->gz = 0;
    if (m->gaz.n)
        for (unsigned k = 0; k < t->nsplit; k++)
            if (ner_set_get(&m->gaz, ner_phrase_step(0, k ? t->stm[k] : t->word)))
                e->gz |= (uint8_t)(1u << k);
    memset(e->unary, 0, sizeof e->unary);
    sum_weights(m, f, nu, e->unary);
    neighbour_add(m, (const uint32_t(*)[NER_MAXF])fn, nn, e->nb);
}

/* What the tagging reads of a cached token's description: the fields the
 * context features, the gazetteer and quotation marks and the history use;
 * the sentence-level ones cleared. (The other fields are read only for a
 * token described in full.) */
static inline void tc_unpack(const tc_slot *e, ner_tokdesc *t)
{
    t->word = e->word;
    t->stem = e->stem;
    t->shape = e->shape;
    t->punct = e->punct;
    t->nsplit = e->nsplit;
    for (unsigned k = 1; k < NER_MAXSPLIT; k++)
        t->stm[k] = e->stm[k - 1];
    t->has_cl = e->clv != 0;
    t->cl[1] = e->clv - 1;
    t->gaz_b = t->gaz_i = 0;
    t->hist = t->hist_stem = 0;
    t->after = t->after_stem = 0;
    t->quote = 0;
    t->qtrig = 0;
    t->actx = t->actx_stem = 0;
    t->actx_cnt = t->actx_scnt = 0;
    t->topic = 0;
}

/* mark_gazetteers() for a sentence whose tokens' gz masks are known (0xFF:
 * try every strip): only the strips that start a phrase are followed. */
static void mark_gazetteers_gz(const ner_model *m, size_t n, ner_tokdesc *d, const uint8_t *gz)
{
    for (size_t i = 0; i < n; i++) {
        if (!gz[i])
            continue;
        for (size_t k = 0; k < d[i].nsplit; k++) {
            if (!((gz[i] >> k) & 1u))
                continue;
            mark_phrases_at(m, n, d, i, k ? d[i].stm[k] : d[i].word);
        }
    }
}

/* The per-sentence arrays of ner_model_tag, all in the caller's scratch. */
typedef struct sent_bufs {
    ner_tokdesc *d;
    float *emit;     /* int32 sums (describe_cached), then scores, then Viterbi scores */
    uint64_t *key;   /* NER_TC_KEY / 8 words per token */
    uint8_t *cached; /* per token: its sums came from the cache */
    uint8_t *gz;     /* per token: tc_slot.gz */
    size_t uncached; /* tokens of the sentence with cached[i] == 0 */
    uint16_t *aslot; /* NER_F_ARTICLE, the call described whole: the tokens' slots in the
                      * article-context table (ner_actx_add_key) */
} sent_bufs;

/* The arrays of b from token s on. */
static inline sent_bufs sent_view(const sent_bufs *b, size_t s)
{
    sent_bufs v = *b;
    v.d += s;
    v.emit += s * NER_NTAGS;
    v.key += s * (NER_TC_KEY / 8);
    v.cached += s;
    v.gz += s;
    if (v.aslot)
        v.aslot += 2 * s;
    return v;
}

/* ner_describe() of a sentence through the table tc (NULL: none), and the
 * pre-summed part of every emission row (s->emit, n x NER_NTAGS floats
 * holding int32 sums: the emissions read them back before they write the
 * scores): the edge rows (edge[r]: a missing neighbour at nb_offset[r]), and
 * for a token in the table (found or added; cached[i] = 1) its unary sums in
 * its own row and its neighbour sums in the rows of the tokens at -2..+2.
 * cached[i] = 0 for a token described without the table: the emissions hash
 * all its features, and those it gives its neighbours. With ax (NULL:
 * none), the tokens are also recorded in the article-context table (the
 * pass of actx_pass, with the entry at hand), their slots at s->aslot.
 * Inlined in its two callers, so that the one without ax keeps its code. */
static NER_HOT void describe_cached(const ner_model *m, const tc_table *tc,
                                    const int32_t edge[4][NER_NTAGS], const char *text,
                                    const nahr_token *toks, size_t n, sent_bufs *s,
                                    ner_actx *ax)
{
    const int use = tc && m->slots;
    ner_tokdesc *d = s->d;
    float *usum = s->emit;
    /* the per-thread table is larger than the caches: ask for the entries of
     * the whole sentence first, so that their misses overlap; 32 tokens at a
     * time, first the tag lines of their sets, then (the tags loaded by then)
     * the slot of each token found there: reading the tags at once made the
     * slot lookups below wait for them (perf: the tagger's largest stall) */
    if (use)
        for (size_t i0 = 0; i0 < n; i0 += 32) {
            uint64_t hs[32];
            const size_t m32 = n - i0 < 32 ? n - i0 : 32;
            for (size_t j = 0; j < m32; j++) {
                const size_t i = i0 + j;
                const size_t wn = toks[i].end - toks[i].start;
                hs[j] = 0;
                if (wn <= NER_TC_KEY) {
                    hs[j] = tc_key(text + toks[i].start, wn, toks[i].start, s->key + i * (NER_TC_KEY / 8));
                    __builtin_prefetch(tc->tag + ((size_t)hs[j] & tc->setmask) * tc->ways);
                }
            }
            for (size_t j = 0; j < m32; j++)
                if (toks[i0 + j].end - toks[i0 + j].start <= NER_TC_KEY)
                    tc_prefetch(tc, hs[j]);
        }
    /* the rows are not cleared first: row i + 2 is written (not added to) at
     * token i, with token i's sums for it or zeros, rows 0 and 1 before the
     * loop with the left edge's; the right edge's are added after it (exact
     * integer sums: the order does not change them) */
    s->uncached = 0;
    const int edges = m->slots != NULL; /* rows 0 and 1 miss their left neighbours, n-1 and n-2 the right */
    if (n) {
        row_set(usum, edges ? edge[0] : NULL);
        if (edges)
            row_add(usum, edge[1]);
        if (n > 1)
            row_set(usum + NER_NTAGS, edges ? edge[0] : NULL);
    }
    for (size_t i = 0; i < n; i++) {
        const char *w = text + toks[i].start;
        size_t wn = toks[i].end - toks[i].start;
        s->cached[i] = 0;
        if (!use || wn > NER_TC_KEY) {
            ner_describe_token(m, w, wn, d + i);
            s->gz[i] = 0xFF;
            s->uncached++;
            if (i + 2 < n)
                row_set(usum + (i + 2) * NER_NTAGS, NULL);
            if (ax)
                ner_actx_add_key(ax, d[i].word, ner_actx_stem_key(d[i].stem),
                                 ner_actx_trig(m, d[i].word, d[i].stem), d[i].punct,
                                 s->aslot + 2 * i);
            continue;
        }
        const uint64_t *key = s->key + i * (NER_TC_KEY / 8);
        int hit;
        tc_slot *e = tc_lookup(tc, tc_hash(key, wn), key, wn, &hit);
        if (hit) {
            tc_unpack(e, d + i);
        } else {
            ner_describe_token(m, w, wn, d + i);
            tc_fill(m, e, key, wn, d + i);
        }
        s->cached[i] = 1;
        s->gz[i] = e->gz;
        if (ax)
            ner_actx_add_key(ax, e->word, e->skey, e->trig, e->punct, s->aslot + 2 * i);
        row_add(usum + i * NER_NTAGS, e->unary);
        if (i + 2 < n)
            row_set(usum + (i + 2) * NER_NTAGS, e->nb[0]);
        if (i + 1 < n)
            row_add(usum + (i + 1) * NER_NTAGS, e->nb[1]);
        if (i >= 1)
            row_add(usum + (i - 1) * NER_NTAGS, e->nb[2]);
        if (i >= 2)
            row_add(usum + (i - 2) * NER_NTAGS, e->nb[3]);
    }
    if (edges && n) {
        row_add(usum + (n - 1) * NER_NTAGS, edge[2]);
        row_add(usum + (n - 1) * NER_NTAGS, edge[3]);
        if (n > 1)
            row_add(usum + (n - 2) * NER_NTAGS, edge[3]);
    }
    if (ax)
        ner_actx_sentence(ax);
    /* = ner_describe_sentence() */
    if (m->gaz.n)
        mark_gazetteers_gz(m, n, d, s->gz);
    if (m->flags & NER_F_QUOTE)
        mark_quotes(text, toks, n, d);
}

/* NER_F_DOC2: the second pass keeps the history slots and the emission sums
 * of every token of the call (40 bytes each), so it runs on calls of at most
 * NER_DOC_MAXTOK tokens (a longer article keeps the tags of the first pass). */
#define NER_DOC_MAXTOK 16384u

static int doc_pass(const ner_model *m, size_t ntok)
{
    return m && (m->flags & NER_F_DOC2) && (m->flags & NER_F_HIST) && ntok <= NER_DOC_MAXTOK;
}

/* NER_F_ARTICLE: a call of at most NER_DOC_MAXTOK tokens is described
 * whole before it is tagged (the per-sentence arrays hold the whole call:
 * about 180 bytes a token), and the article-context pass records every
 * token as it is described, with its table entry at hand. A longer call
 * takes a separate pass (actx_pass) that looks every token up once more. */
static int art_desc(const ner_model *m, size_t ntok)
{
    return m && (m->flags & NER_F_ARTICLE) && ntok <= NER_DOC_MAXTOK;
}

/* The longest sentence of a call of ntok tokens (tag_tokens cuts at
 * NER_MAX_SENT tokens): the length of tag_state's hkey and hslot / 2. */
static size_t hist_sent(size_t ntok) { return ntok < NER_MAX_SENT ? ntok : NER_MAX_SENT; }

size_t ner_model_scratch_size(const ner_model *m, size_t ntok)
{
    if (ntok == 0)
        ntok = 1;
    size_t sent = ntok > NER_MAX_SENT && !art_desc(m, ntok) ? NER_MAX_SENT : ntok;
    size_t ntc = tc_slots(ntok);
    size_t hist = m && (m->flags & NER_F_HIST)
                      ? ALIGN16(sizeof(ner_hist)) + ALIGN16(hist_sent(ntok) * 2 * sizeof(uint32_t)) +
                            ALIGN16(hist_sent(ntok) * 2 * sizeof(uint16_t))
                      : 0;
    if (m && (m->flags & NER_F_ARTICLE))
        hist += ALIGN16(sizeof(ner_actx)) + ALIGN16(ntok * 2 * sizeof(uint16_t));
    if (doc_pass(m, ntok))
        hist += ALIGN16(sizeof(ner_doc)) + ALIGN16(ntok * 2 * sizeof(uint16_t)) +
                ALIGN16(ntok * NER_NTAGS * sizeof(int32_t));
    return 64 + hist + ALIGN64(ntc * sizeof(tc_slot)) + ALIGN16(ntc * sizeof(uint32_t)) +
           ALIGN16(sent * sizeof(ner_tokdesc)) + ALIGN16(sent * NER_NTAGS * sizeof(float)) +
           ALIGN16(sent * NER_TC_KEY) + 2 * ALIGN16(sent);
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

/* Adds the weight rows of nf features to acc[0..NER_NTAGS). Exact integer
 * sums: the order does not matter. (Choosing the row without branches, from
 * the first two probes, was tried: 20% more instructions for 30% fewer
 * mispredicted branches, no faster.) */
static inline void sum_rows(const ner_model *m, const uint32_t *f, size_t nf, ner_acc *a8,
                            int32_t *a9)
{
    const ner_slot *slots = m->slots;
    const size_t mask = m->mask;
    for (size_t k = 0; k < nf; k++) {
        const uint32_t key = f[k];
        size_t j = key & mask;
        while (slots[j].key != key) {
            if (!slots[j].key)
                goto next;
            j = (j + 1) & mask;
        }
        row9_add16(a8, a9, slots[j].w);
next:;
    }
}

static inline void sum_weights(const ner_model *m, const uint32_t *f, size_t nf, int32_t *acc)
{
    static const int32_t zero[8];
    ner_acc acc8;
    acc_load(&acc8, zero);
    int32_t last = 0;
    sum_rows(m, f, nf, &acc8, &last);
    int32_t lanes[8];
    acc_store(lanes, &acc8);
    for (unsigned t = 0; t < 8; t++)
        acc[t] += lanes[t];
    acc[8] += last;
}

/* The memo value (see memo_ent) of feature key: its slot index + 2, or 1
 * when the table does not have it. Inline: the word-bigram memo misses on
 * most new word pairs and asks twice (a call was ~6 of its ~34 instructions). */
static inline __attribute__((always_inline)) uint32_t slot_ref(const ner_model *m, int filter,
                                                               uint32_t key)
{
    if (filter && !filter_maybe(m, key))
        return 1;
    for (size_t j = key & m->mask; m->slots[j].key; j = (j + 1) & m->mask)
        if (m->slots[j].key == key)
            return (uint32_t)j + 2;
    return 1;
}

static inline size_t memo_index(const ner_cache *c, uint32_t x, uint32_t y, uint32_t z)
{
    uint32_t h = (x * 0x9E3779B1u) ^ (y * 0x85EBCA6Bu) ^ (z * 0xC2B2AE35u);
    return (h ^ (h >> 17)) & c->memomask;
}

/* The bmemo entry of the word pair (x, y) (filled on a miss): z = the memo
 * value of T_BIG_L of the second word, v = that of T_BIG_R of the first. */
static inline size_t bmemo_index(const ner_cache *c, uint32_t x, uint32_t y)
{
    uint32_t h = (x * 0x9E3779B1u) ^ (y * 0x85EBCA6Bu);
    return (h ^ (h >> 15)) & c->bmemomask;
}

static inline const memo_ent *bigram_refs(const ner_model *m, ner_cache *c, int filter, uint32_t x,
                                          uint32_t y)
{
    memo_ent *me = &c->bmemo[bmemo_index(c, x, y)];
    if (!(me->v && me->x == x && me->y == y)) {
        const uint32_t g = mix_inner(mix_outer(x, mix_inner(y))); /* = mix_inner(ner_mix(x, y)) */
        me->x = x;
        me->y = y;
        me->z = slot_ref(m, filter, mix_outer(T_BIG_L, g));
        me->v = slot_ref(m, filter, mix_outer(T_BIG_R, g));
    }
    return me;
}

/* (a8, a9) += the weights of the slot a memo value names (none for 1) */
static inline void add_ref(const ner_model *m, uint32_t v, ner_acc *a8, int32_t *a9)
{
    if (v >= 2)
        row9_add16(a8, a9, m->slots[v - 2].w);
}

/* Makes c hold m's data: forgets the entries of another model (or of other
 * weights or flags), and sums the rows of the features with few values. */
static void cache_bind(ner_cache *c, const ner_model *m)
{
    ner_cache_reset(c);
    c->model = m;
    c->model_slots = m->slots;
    c->model_flags = m->flags;
    memset(c->hist, 0, sizeof c->hist);
    memset(c->gaz, 0, sizeof c->gaz);
    memset(c->quote, 0, sizeof c->quote);
    memset(c->after, 0, sizeof c->after);
    memset(c->actx, 0, sizeof c->actx);
    memset(c->actxc, 0, sizeof c->actxc);
    memset(c->actxwc, 0, sizeof c->actxwc);
    memset(c->topgaz, 0, sizeof c->topgaz);
    memset(c->topedge, 0, sizeof c->topedge);
    if (!m->slots)
        return;
    if ((m->flags & NER_F_TOPIC) && !c->topic) /* zeroed: every entry empty */
        c->topic = set_calloc(c->topicmask + 1, sizeof *c->topic);
    if (m->flags & NER_F_TOPIC) {
        for (uint32_t ty = 0; ty < 8; ty++) {
            uint32_t f[2] = {ner_mix(T_TOPGB, ty), ner_mix(T_TOPGI, ty)};
            sum_weights(m, &f[0], 1, c->topgaz[0][ty]);
            sum_weights(m, &f[1], 1, c->topgaz[1][ty]);
        }
        uint32_t f[2] = {ner_mix(T_TOPM1, BOS(1)), ner_mix(T_TOPP1, EOS(1))};
        sum_weights(m, &f[0], 1, c->topedge[0]);
        sum_weights(m, &f[1], 1, c->topedge[1]);
    }
    if (m->flags & NER_F_ACTX) {
        static const uint32_t at[4] = {T_ACTXW, T_ACTXS, T_ACTXM1, T_ACTXP1};
        for (unsigned r = 0; r < 4; r++)
            for (uint32_t v = 1; v < 256; v++)
                for (uint32_t b = v; b; b &= b - 1) {
                    uint32_t f = ner_mix(at[r], (uint32_t)__builtin_ctz(b));
                    sum_weights(m, &f, 1, c->actx[r][v]);
                }
        for (uint32_t v = 1; v < 4; v++) {
            uint32_t f[2] = {ner_mix(T_ACTXWC, v), ner_mix(T_ACTXSC, v)};
            sum_weights(m, &f[0], 1, c->actxc[0][v]);
            sum_weights(m, &f[1], 1, c->actxc[1][v]);
        }
        for (unsigned r = 0; r < 2; r++)
            for (unsigned cnt = 0; cnt < 4; cnt++)
                for (unsigned v = 0; v < 256; v++)
                    for (unsigned t = 0; t < NER_NTAGS; t++)
                        c->actxwc[r][cnt][v][t] = c->actx[r][v][t] + c->actxc[r][cnt][t];
    }
    static const uint32_t ht[4] = {T_HIST0, T_HISTS0, T_HISTM1, T_HISTP1};
    static const uint32_t gt[4] = {T_GAZB, T_GAZI, T_GAZP1, T_GAZM1};
    for (unsigned r = 0; r < 4; r++) {
        for (uint32_t v = 0; v <= NER_ROW_EDGE; v++) {
            uint32_t f = ner_mix(ht[r], v < NER_ROW_EDGE ? v : r == 3 ? EOS(1) : BOS(1));
            sum_weights(m, &f, 1, c->hist[r][v]);
        }
        for (uint32_t ty = 0; ty < 8; ty++) {
            uint32_t f = ner_mix(gt[r], ty);
            sum_weights(m, &f, 1, c->gaz[r][ty]);
        }
    }
    for (uint32_t q = 1; q < 3; q++) {
        uint32_t f = ner_mix(T_QUOTE, q);
        sum_weights(m, &f, 1, c->quote[q]);
    }
    for (uint32_t v = 1; v < 16; v++) {
        uint32_t f[2] = {ner_mix(T_DOCA0, v), ner_mix(T_DOCAS0, v)};
        sum_weights(m, &f[0], 1, c->after[0][v]);
        sum_weights(m, &f[1], 1, c->after[1][v]);
    }
}

#define NER_PF_AHEAD 2 /* tokens whose weight slots are requested before they are summed */
#define NER_BM_AHEAD 4 /* tokens whose word-bigram memo entry is requested before it is read */

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
                      float *emit, int32_t *sums)
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
        if (sums)
            memcpy(sums + j * NER_NTAGS, acc, sizeof acc);
        for (unsigned t = 0; t < NER_NTAGS; t++)
            e[t] = (float)acc[t] * m->scale;
        e[NER_O] -= m->o_penalty;
    }
}

void ner_emissions(const ner_model *m, const ner_tokdesc *d, size_t n, float *emit)
{
    emissions(m, d, n, NULL, emit, NULL);
}

/* emissions() of a sentence described through the per-thread cache c
 * (bound to m; m->slots not NULL): the features of ner_features_rest() are
 * not all hashed and looked up. Those with few possible values (history
 * bits, gazetteer types, quotation position) take their weight rows from
 * c's tables; the shape trigram and the cluster bigram take their slot from
 * a memo keyed by their three values; the word bigrams (T_BIG_R of a word
 * and T_BIG_L of the next) theirs from a memo keyed by the pair of words.
 * The features that remain (quotation trigger, everything of a token not
 * cached) go through the key filter and the prefetched lookups of
 * emissions().
 * KEEP IN STEP with ner_features_rest(): tests/plugins/test_ner_fast.c
 * compares the tags with a tagger that calls it. */
static inline __attribute__((always_inline)) void
emissions_cached_body(const ner_model *m, ner_cache *c, const ner_tokdesc *d, size_t n, const uint8_t *cached,
                      size_t uncached, float *emit, int32_t *sums, const int filter, const int gazf,
                      const int clbig, const int hist, const int doc2, const int actx, const int topic)
{
    uint32_t f[NER_PF_AHEAD + 1][NER_MAXF];
    size_t nf[NER_PF_AHEAD + 1] = {0};
    uint32_t v3[NER_PF_AHEAD + 1] = {0}, vc[NER_PF_AHEAD + 1] = {0};
    uint32_t vbl[NER_PF_AHEAD + 1] = {0}, vbr[NER_PF_AHEAD + 1] = {0};
    /* the memo value of T_BIG_L of token i (the pair of words i-1, i) */
    uint32_t bl = n ? bigram_refs(m, c, filter, BOS(1), d[0].word)->z : 0;
    /* bi = i % (NER_PF_AHEAD + 1), the buffer of token i; token j = i -
     * NER_PF_AHEAD is summed from buffer (i + 1) % (NER_PF_AHEAD + 1) */
    for (size_t i = 0, bi = 0; i < n + NER_PF_AHEAD; i++, bi = bi == NER_PF_AHEAD ? 0 : bi + 1) {
        if (i < n) {
            const size_t b = bi;
            const ner_tokdesc *t = &d[i];
            size_t k = 0;
            /* the word-bigram memo (1 MB, read at random) of the pair NER_BM_AHEAD
             * tokens on: waiting for it was half of this loop's time (perf) */
            if (i + NER_BM_AHEAD + 1 < n)
                __builtin_prefetch(&c->bmemo[bmemo_index(c, d[i + NER_BM_AHEAD].word, d[i + NER_BM_AHEAD + 1].word)]);
            if (uncached) {
                k = cached[i] ? 0 : ner_features_unary(m, t, f[b]);
                for (unsigned r = 0; r < 4; r++) {
                    size_t j = i + (size_t)(ptrdiff_t)nb_offset[r]; /* wraps below 0: >= n */
                    if (j < n && !cached[j])
                        k += features_neighbour(m, &d[j], nb_offset[r], f[b] + k);
                }
            }
            /* T_BIG_L, T_BIG_R: their slots from the word-bigram memo */
            const memo_ent *bp = bigram_refs(m, c, filter, t->word, i + 1 < n ? d[i + 1].word : EOS(1));
            vbl[b] = bl;
            vbr[b] = bp->v;
            bl = bp->z;
            if (vbl[b] >= 2)
                __builtin_prefetch(&m->slots[vbl[b] - 2]);
            if (vbr[b] >= 2)
                __builtin_prefetch(&m->slots[vbr[b] - 2]);
            if (t->quote) {
                if (t->quote > 2)
                    f[b][k++] = ner_mix(T_QUOTE, t->quote);
                f[b][k++] = ner_mix(T_QTRIG, ner_mix(t->qtrig, t->quote));
            }
            if (topic) /* a sports article: hashed as ner_features_rest */
                k += topic_features(m, d, n, i, f[b] + k);
            if (filter) { /* drop the features surely not in the table */
                size_t kept = 0;
                for (size_t q = 0; q < k; q++) {
                    f[b][kept] = f[b][q];
                    kept += (size_t)filter_maybe(m, f[b][q]);
                }
                k = kept;
            }
            nf[b] = k;
            prefetch_slots(m, f[b], k);
            /* T_SHAPE3 */
            const uint32_t shl = i >= 1 ? d[i - 1].shape : BOS(1);
            const uint32_t shr = i + 1 < n ? d[i + 1].shape : EOS(1);
            memo_ent *me = &c->memo[memo_index(c, shl, t->shape, shr)];
            if (!(me->v && me->x == shl && me->y == t->shape && me->z == shr)) {
                me->x = shl;
                me->y = t->shape;
                me->z = shr;
                me->v = slot_ref(m, filter, ner_mix(T_SHAPE3, ner_mix(ner_mix(shl, t->shape), shr)));
            }
            v3[b] = me->v;
            if (clbig) { /* T_CLBIG */
                const uint32_t c0 = t->has_cl ? t->cl[1] + 1 : 0;
                const uint32_t cl1 =
                    i >= 1 ? (d[i - 1].has_cl ? d[i - 1].cl[1] + 1 : 0) : BOS(1);
                me = &c->memo[c->memomask + 1 + memo_index(c, cl1, c0, 0)];
                if (!(me->v && me->x == cl1 && me->y == c0)) {
                    me->x = cl1;
                    me->y = c0;
                    me->z = 0;
                    me->v = slot_ref(m, filter, ner_mix(T_CLBIG, ner_mix(cl1, c0)));
                }
                vc[b] = me->v;
            }
        }
        if (i < NER_PF_AHEAD)
            continue;
        const size_t j = i - NER_PF_AHEAD, b = bi == NER_PF_AHEAD ? 0 : bi + 1;
        const ner_tokdesc *t = &d[j];
        float *e = emit + j * NER_NTAGS;
        ner_acc a8;
        acc_load(&a8, e);
        int32_t a9;
        memcpy(&a9, e + 8, sizeof a9);
        sum_rows(m, f[b], nf[b], &a8, &a9);
        add_ref(m, vbl[b], &a8, &a9);
        add_ref(m, vbr[b], &a8, &a9);
        add_ref(m, v3[b], &a8, &a9);
        if (clbig)
            add_ref(m, vc[b], &a8, &a9);
        if (gazf) {
            const unsigned lm = j >= 1 ? (unsigned)(d[j - 1].gaz_b | d[j - 1].gaz_i) : 0;
            const unsigned rb = j + 1 < n ? d[j + 1].gaz_b : 0;
            for (unsigned bits = t->gaz_b | t->gaz_i | lm | rb; bits; bits &= bits - 1) {
                const unsigned ty = (unsigned)__builtin_ctz(bits), bit = 1u << ty;
                if (t->gaz_b & bit)
                    row9_add(&a8, &a9, c->gaz[0][ty]);
                if (t->gaz_i & bit)
                    row9_add(&a8, &a9, c->gaz[1][ty]);
                if (rb & bit)
                    row9_add(&a8, &a9, c->gaz[2][ty]);
                if (lm & bit)
                    row9_add(&a8, &a9, c->gaz[3][ty]);
            }
        }
        if (t->quote && t->quote <= 2)
            row9_add(&a8, &a9, c->quote[t->quote]);
        if (hist) {
            row9_add(&a8, &a9, c->hist[0][t->punct ? 0x40u : t->hist]);
            row9_add(&a8, &a9, c->hist[1][t->hist_stem]);
            row9_add(&a8, &a9, c->hist[2][j >= 1 ? d[j - 1].hist : NER_ROW_EDGE]);
            row9_add(&a8, &a9, c->hist[3][j + 1 < n ? d[j + 1].hist : NER_ROW_EDGE]);
        }
        if (doc2 && (t->after | t->after_stem)) { /* 0: no feature (row 0 stays zero) */
            row9_add(&a8, &a9, c->after[0][t->after & 15u]);
            row9_add(&a8, &a9, c->after[1][t->after_stem & 15u]);
        }
        if (__builtin_expect(actx, 0)) { /* = actx_features(); rows of value 0 are zero */
            row9_add(&a8, &a9, c->actxwc[0][t->actx_cnt][t->actx]);
            row9_add(&a8, &a9, c->actxwc[1][t->actx_scnt][t->actx_stem]);
            if (j >= 1)
                row9_add(&a8, &a9, c->actx[2][d[j - 1].actx]);
            if (j + 1 < n)
                row9_add(&a8, &a9, c->actx[3][d[j + 1].actx]);
        }
        if (sums) {
            acc_store(sums + j * NER_NTAGS, &a8);
            sums[j * NER_NTAGS + 8] = a9;
        }
        /* the same float operations as emissions(): (float)sum * scale */
        acc_scaled(e, &a8, m->scale);
        e[8] = (float)a9 * m->scale;
        e[NER_O] -= m->o_penalty;
    }
}

static void emissions_cached(const ner_model *m, ner_cache *c, const ner_tokdesc *d, size_t n,
                             const uint8_t *cached, size_t uncached, float *emit, int32_t *sums)
{
    const int filter = m->filter && m->filter_for == m->slots;
    const int gazf = (m->flags & (NER_F_GAZ | NER_F_DICT)) != 0;
    const int clbig = (m->flags & NER_F_CLX) && (m->flags & NER_F_CLUSTERS);
    const int hist = (m->flags & NER_F_HIST) != 0;
    const int doc2 = (m->flags & NER_F_DOC2) != 0;
    const int actx = (m->flags & NER_F_ACTX) != 0;
    /* NER_F_TOPIC: rows from c's memo (topic_rows), else hashed here */
    const int topic = (m->flags & NER_F_TOPIC) && !c->topic;
    /* the shipped model's kind (gazetteers, history, no cluster bigram,
     * two-sided history or article context) gets a copy of the loop with
     * these tests folded (378 M -> 348 M instructions on the 7.9 MB sample) */
    if (filter && gazf && hist && !clbig && !doc2 && !actx && !topic)
        emissions_cached_body(m, c, d, n, cached, uncached, emit, sums, 1, 1, 0, 1, 0, 0, 0);
    else
        emissions_cached_body(m, c, d, n, cached, uncached, emit, sums, filter, gazf, clbig, hist, doc2,
                              actx, topic);
}

/* The memo entry of token t's topic features (filled on a miss). */
static inline const topic_ent *topic_entry(const ner_model *m, ner_cache *c, const ner_tokdesc *t)
{
    const uint32_t clv =
        (m->flags & NER_F_CLUSTERS) ? (t->has_cl ? t->cl[1] + 1 : 0) : 0;
    uint32_t h = (t->word * 0x9E3779B1u) ^ (t->stem * 0x85EBCA6Bu) ^ (clv * 0xC2B2AE35u);
    topic_ent *te = &c->topic[(h ^ (h >> 17)) & c->topicmask];
    if (te->full && te->word == t->word && te->stem == t->stem && te->clv == clv)
        return te;
    /* ner_mix(T, v) = mix_outer(T, mix_inner(v)): the stem's inner half once */
    const uint32_t is = mix_inner(t->stem);
    uint32_t f[4];
    size_t k = 0;
    f[k++] = ner_mix(T_TOPB, 0);
    if (m->flags & NER_F_CLUSTERS)
        f[k++] = ner_mix(T_TOPCL, clv);
    f[k++] = ner_mix(T_TOPW, t->word);
    f[k++] = mix_outer(T_TOPS, is);
    memset(te->self, 0, sizeof te->self);
    sum_weights(m, f, k, te->self);
    f[0] = mix_outer(T_TOPM1, is);
    f[1] = mix_outer(T_TOPP1, is);
    memset(te->left, 0, sizeof te->left);
    memset(te->right, 0, sizeof te->right);
    sum_weights(m, &f[0], 1, te->left);
    sum_weights(m, &f[1], 1, te->right);
    te->word = t->word;
    te->stem = t->stem;
    te->clv = clv;
    te->full = 1;
    return te;
}

/* NER_F_TOPIC, a sentence of a sports article, through the cache c: the
 * weights of topic_features() of every token added to its emission row
 * (int32 sums, before emissions_cached), from c's memo and rows instead of
 * hashed. KEEP IN STEP with topic_features(). */
static void topic_rows(const ner_model *m, ner_cache *c, const ner_tokdesc *d, size_t n,
                       float *emit)
{
    row_add(emit, c->topedge[0]);
    row_add(emit + (n - 1) * NER_NTAGS, c->topedge[1]);
    for (size_t i = 0; i < n; i++) {
        const topic_ent *te = topic_entry(m, c, &d[i]);
        float *e = emit + i * NER_NTAGS;
        row_add(e, te->self);
        if (i + 1 < n)
            row_add(e + NER_NTAGS, te->left);
        if (i >= 1)
            row_add(e - NER_NTAGS, te->right);
        for (unsigned b = d[i].gaz_b; b; b &= b - 1)
            row_add(e, c->topgaz[0][__builtin_ctz(b)]);
        for (unsigned b = d[i].gaz_i; b; b &= b - 1)
            row_add(e, c->topgaz[1][__builtin_ctz(b)]);
    }
}

/* Per-call state of ner_model_tag, all in the caller's scratch. */
typedef struct tag_state {
    ner_trans_masked mt;
    ner_hist *hist;  /* NULL unless the model has NER_F_HIST */
    uint32_t *hkey;  /* with hist: per token of a sentence, the keys of ner_hist_mark_keys */
    uint16_t *hslot; /* and their slots */
    ner_actx *actx;  /* NULL unless the model has NER_F_ACTX or NER_F_TOPIC */
    uint16_t *aslot; /* with actx: per token of the call, its two slots in it */
    ner_cache *c;    /* the per-thread cache, or NULL */
    uint16_t *slot;  /* NER_F_DOC2: history slots of word and stem per token (ner_hist_add_doc) */
    int32_t *sums;   /* NER_F_DOC2: the first pass's int32 emission sums, NER_NTAGS per token */
    tc_table tc;
    sent_bufs s;
    int32_t edge[4][NER_NTAGS]; /* neighbour sums of the sentence edges (neighbour_sums) */
} tag_state;

/* Tags one sentence: describe the tokens (through the cache; sb
 * already described when `described`), read the history, score, decode,
 * record the result in the history (with slot, for the second pass: as
 * sentence `sent`, the tokens' table slots at slot and their emission sums
 * at sums). aslot: the tokens' article-context slots (with st->actx). */
static void tag_sentence(const ner_model *m, tag_state *st, sent_bufs *sb, int described,
                         const char *text, const nahr_token *toks, size_t n, uint8_t *tags,
                         uint16_t *slot, int32_t *sums, unsigned sent, float *margin,
                         const uint16_t *aslot)
{
    if (!described) {
        describe_cached(m, &st->tc, (const int32_t(*)[NER_NTAGS])st->edge, text, toks, n, sb,
                        NULL);
    } else {
        sb->uncached = 0;
        for (size_t j = 0; j < n; j++)
            sb->uncached += !sb->cached[j];
    }
    if (st->hist)
        ner_hist_mark_keys(st->hist, n, sb->d, st->hkey, st->hslot);
    if (st->actx)
        ner_actx_mark_slots(st->actx, n, aslot, sb->d);
    if (st->c && m->slots && st->c->topic && (m->flags & NER_F_TOPIC) && sb->d[0].topic)
        topic_rows(m, st->c, sb->d, n, sb->emit);
    if (st->c && m->slots)
        emissions_cached(m, st->c, sb->d, n, sb->cached, sb->uncached, sb->emit, sums);
    else
        emissions(m, sb->d, n, sb->cached, sb->emit, sums);
    for (size_t j = 0; margin && j < n; j++) {
        const float *e = sb->emit + j * NER_NTAGS;
        margin[j] = e[NER_O] - ner_best_entity(e);
    }
    viterbi_scores(sb->emit, &st->mt, n, tags);
    if (!st->hist)
        return;
    if (slot) {
        st->hist->sent = sent;
        ner_hist_add_doc(st->hist, sb->d, tags, n, slot);
    } else {
        ner_hist_add_keys(st->hist, sb->d, tags, n, st->hkey, st->hslot);
    }
}

/* NER_F_DOC2, after the first pass over the call: the sentences where a word
 * (or stem) got an entity type in a later sentence that it had not got
 * before are decoded again, with the weights of those types as its "after"
 * features (T_DOCA0, T_DOCAS0) added to the first pass's emission sums: the
 * other features of the second pass are those of the first (the history
 * bits set before the sentence), and in a sentence without after bits all
 * of them are, so its tags stay. */
static void second_pass(const ner_model *m, tag_state *st, const nahr_token *toks, size_t ntok,
                        uint8_t *tags)
{
    const ner_cache *c = st->c && m->slots ? st->c : NULL;
    const uint16_t *lim = st->hist->doc->lim;
    float *emit = st->s.emit;
    size_t s = 0;
    unsigned sent = 0;
    for (size_t i = 0; i < ntok; i++) {
        if (!((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == ntok || i + 1 - s == NER_MAX_SENT))
            continue;
        int changed = 0;
        for (size_t k = 2 * s; k < 2 * (i + 1); k++) /* = some ner_doc_after() != 0 */
            changed |= st->slot[k] != NER_HIST_NONE && sent < lim[st->slot[k]];
        if (changed) {
            for (size_t j = s; j <= i; j++) {
                int32_t acc[NER_NTAGS];
                memcpy(acc, st->sums + j * NER_NTAGS, sizeof acc);
                const unsigned a = ner_doc_after(st->hist, st->slot[2 * j], sent);
                const unsigned as = ner_doc_after(st->hist, st->slot[2 * j + 1], sent);
                if ((a | as) && c) {
                    for (unsigned t = 0; t < NER_NTAGS; t++)
                        acc[t] += c->after[0][a][t] + c->after[1][as][t];
                } else if ((a | as) && m->slots) {
                    uint32_t f[2];
                    size_t nf = 0;
                    if (a)
                        f[nf++] = ner_mix(T_DOCA0, a);
                    if (as)
                        f[nf++] = ner_mix(T_DOCAS0, as);
                    sum_weights(m, f, nf, acc);
                }
                float *e = emit + (j - s) * NER_NTAGS;
                for (unsigned t = 0; t < NER_NTAGS; t++)
                    e[t] = (float)acc[t] * m->scale;
                e[NER_O] -= m->o_penalty;
            }
            viterbi_scores(emit, &st->mt, i + 1 - s, tags + s);
        }
        s = i + 1;
        sent++;
    }
}

/* NER_F_ACTX, NER_F_TOPIC, a call too long to be described whole
 * (art_desc): the article-context pass over every token of the call, before
 * the tagging (the sentences as tag_tokens cuts them). A token's word and
 * stem come from its entry in the token table (added on a miss), else from
 * ner_describe_token. Not inlined: a model without the flag keeps the
 * code of tag_tokens it had. */
static __attribute__((noinline)) void actx_pass(const ner_model *m, tag_state *st, const char *text,
                                   const nahr_token *toks, size_t ntok)
{
    const int use = m->slots != NULL;
    ner_tokdesc t;
    uint64_t key[NER_TC_KEY / 8];
    size_t s = 0;
    ner_actx_reset(st->actx);
    for (size_t i = 0; i < ntok; i++) {
        const char *w = text + toks[i].start;
        size_t wn = toks[i].end - toks[i].start;
        if (use && wn <= NER_TC_KEY) { /* the entry, filled on a miss as describe_cached would */
            int hit;
            const uint64_t h = tc_key(w, wn, toks[i].start, key);
            tc_slot *e = tc_lookup(&st->tc, h, key, wn, &hit);
            if (!hit) {
                ner_describe_token(m, w, wn, &t);
                tc_fill(m, e, key, wn, &t);
            }
            ner_actx_add_key(st->actx, e->word, e->skey, e->trig, e->punct, st->aslot + 2 * i);
        } else {
            ner_describe_token(m, w, wn, &t);
            ner_actx_add_key(st->actx, t.word, ner_actx_stem_key(t.stem),
                             ner_actx_trig(m, t.word, t.stem), t.punct, st->aslot + 2 * i);
        }
        if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == ntok || i + 1 - s == NER_MAX_SENT) {
            ner_actx_sentence(st->actx);
            s = i + 1;
        }
    }
}

/* ner_model_tag with the token cache c (NULL: a per-call one in scratch). */
static int tag_tokens(const ner_model *m, ner_cache *c, const char *text, const nahr_token *toks,
                      size_t ntok, void *scratch, uint8_t *tags, float *margin)
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
    const int whole = art_desc(m, ntok); /* the call described whole first */
    size_t cap = ntok > NER_MAX_SENT && !whole ? NER_MAX_SENT : ntok, ntc = tc_slots(ntok);
    char *p = (char *)ALIGN64((uintptr_t)scratch);
    tc_slot *slots = (tc_slot *)p;
    p += ALIGN64(ntc * sizeof(tc_slot));
    uint32_t *tags_tc = (uint32_t *)p;
    p += ALIGN16(ntc * sizeof(uint32_t));
    st.hist = NULL;
    st.slot = NULL;
    st.sums = NULL;
    st.hkey = NULL;
    st.hslot = NULL;
    if (m->flags & NER_F_HIST) {
        st.hist = (ner_hist *)p; /* the scratch's table, or the cache's */
        p += ALIGN16(sizeof(ner_hist));
        if (c) {
            st.hist = &c->htab;
            ner_hist_clear(st.hist);
        } else {
            ner_hist_reset(st.hist);
        }
        st.hkey = (uint32_t *)p;
        p += ALIGN16(hist_sent(ntok) * 2 * sizeof(uint32_t));
        st.hslot = (uint16_t *)p;
        p += ALIGN16(hist_sent(ntok) * 2 * sizeof(uint16_t));
        if (doc_pass(m, ntok)) {
            st.hist->doc = (ner_doc *)p;
            p += ALIGN16(sizeof(ner_doc));
            st.slot = (uint16_t *)p;
            p += ALIGN16(ntok * 2 * sizeof(uint16_t));
            st.sums = (int32_t *)p;
            p += ALIGN16(ntok * NER_NTAGS * sizeof(int32_t));
        }
    }
    st.actx = NULL;
    st.aslot = NULL;
    if (m->flags & NER_F_ARTICLE) {
        st.actx = (ner_actx *)p;
        p += ALIGN16(sizeof(ner_actx));
        st.aslot = (uint16_t *)p;
        p += ALIGN16(ntok * 2 * sizeof(uint16_t));
    }
    st.c = c;
    if (c) {
        if (c->model != m || c->model_slots != m->slots || c->model_flags != m->flags)
            cache_bind(c, m); /* descriptions hold the model's clusters, sums its weights */
        st.tc = (tc_table){c->slot, c->tag, c->age, c->sets - 1, NER_CACHE_WAYS};
    } else {
        memset(tags_tc, 0, ntc * sizeof *tags_tc);
        st.tc = (tc_table){slots, tags_tc, NULL, ntc - 1, 1};
    }
    st.s.d = (ner_tokdesc *)p;
    p += ALIGN16(cap * sizeof(ner_tokdesc));
    st.s.emit = (float *)p;
    p += ALIGN16(cap * NER_NTAGS * sizeof(float));
    st.s.key = (uint64_t *)p;
    p += ALIGN16(cap * NER_TC_KEY);
    st.s.cached = (uint8_t *)p;
    p += ALIGN16(cap);
    st.s.gz = (uint8_t *)p;
    st.s.aslot = NULL;
    trans_masked((const float(*)[NER_NTAGS])m->trans, &st.mt);
    if (m->slots && m->edge_for == m->slots && m->edge_flags == m->flags)
        memcpy(st.edge, m->edge, sizeof st.edge);
    else if (m->slots) /* the trainer's tables, or flags changed after loading */
        neighbour_sums(m, NULL, st.edge);
    if (st.actx && whole) { /* describe every sentence, recording the article's context */
        ner_actx_reset(st.actx);
        st.s.aslot = st.aslot;
        for (size_t i = 0, s = 0; i < ntok; i++)
            if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == ntok || i + 1 - s == NER_MAX_SENT) {
                sent_bufs v = sent_view(&st.s, s);
                describe_cached(m, &st.tc, (const int32_t(*)[NER_NTAGS])st.edge, text, toks + s,
                                i + 1 - s, &v, st.actx);
                s = i + 1;
            }
    } else if (st.actx) {
        actx_pass(m, &st, text, toks, ntok);
    }
    size_t s = 0;
    unsigned sent = 0;
    for (size_t i = 0; i < ntok; i++) {
        if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == ntok || i + 1 - s == NER_MAX_SENT) {
            sent_bufs v = whole ? sent_view(&st.s, s) : st.s;
            tag_sentence(m, &st, &v, whole, text, toks + s, i + 1 - s, tags + s,
                         st.slot ? st.slot + 2 * s : NULL,
                         st.slot ? st.sums + s * NER_NTAGS : NULL, sent, margin ? margin + s : NULL,
                         st.aslot ? st.aslot + 2 * s : NULL);
            s = i + 1;
            sent++;
        }
    }
    if (st.slot)
        second_pass(m, &st, toks, ntok, tags);
    return 0;
}

int ner_model_tag(const ner_model *m, const char *text, const nahr_token *toks, size_t ntok,
                  void *scratch, uint8_t *tags)
{
    return tag_tokens(m, NULL, text, toks, ntok, scratch, tags, NULL);
}

int ner_model_tag_cached(const ner_model *m, ner_cache *c, const char *text,
                         const nahr_token *toks, size_t ntok, void *scratch, uint8_t *tags)
{
    return tag_tokens(m, c, text, toks, ntok, scratch, tags, NULL);
}

int ner_model_tag_margin(const ner_model *m, ner_cache *c, const char *text, const nahr_token *toks,
                         size_t ntok, void *scratch, uint8_t *tags, float *margin)
{
    return tag_tokens(m, c, text, toks, ntok, scratch, tags, margin);
}

int ner_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return NAHR_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

size_t ner_sent_maxlen(const size_t *sent, size_t nsent)
{
    size_t maxlen = 1;
    for (size_t k = 0; k < nsent; k++)
        if (sent[k + 1] - sent[k] > maxlen)
            maxlen = sent[k + 1] - sent[k];
    return maxlen;
}

size_t ner_corpus_maxlen(const ner_corpus *c) { return ner_sent_maxlen(c->sent, c->nsent); }

int ner_tag_corpus(const ner_model *m, const ner_corpus *c, uint8_t *pred)
{
    size_t maxlen = ner_corpus_maxlen(c);
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
