/* ner_model.c - features, Viterbi decoding and the model file of the NER
 * tagger. The model is read-only after load; every per-call buffer lives in
 * the caller's scratch. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

uint32_t ner_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return fmix32(h ^ (uint32_t)n);
}

uint32_t ner_mix(uint32_t a, uint32_t b)
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

void ner_describe(const ner_model *m, const char *text, const nahr_token *toks, size_t n,
                  ner_tokdesc *d)
{
    char norm[NER_MAXTOKB + 1];
    for (size_t i = 0; i < n; i++) {
        ner_tokdesc *t = &d[i];
        memset(t, 0, sizeof *t);
        const char *w = text + toks[i].start;
        size_t wn = toks[i].end - toks[i].start, nlen;
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
    if (m->gaz.n)
        mark_gazetteers(m, n, d);
}

/* Feature templates. A feature is ner_mix(template, value). */
enum {
    T_BIAS = 1, T_W0, T_WM1, T_WM2, T_WP1, T_WP2, T_STEM0, T_STEMM1, T_STEMP1, T_PRE, T_STM,
    T_PFX, T_SFX = T_PFX + 3, T_SSFX = T_SFX + 3, T_SHAPE0 = T_SSFX + 2, T_SHAPEM1, T_SHAPEP1,
    T_BIG_L, T_BIG_R, T_SHAPE3, T_SFXM1, T_SFXP1, T_GAZB, T_GAZI, T_GAZP1, T_GAZM1,
    T_CL0, T_CLM1 = T_CL0 + NER_NCL, T_CLP1 = T_CLM1 + NER_NCL, T_PFXP1 = T_CLP1 + NER_NCL,
    T_PFXM1, T_SPFX
};

#define BOS(k) (0xB0500000u + (k))
#define EOS(k) (0xE0500000u + (k))

size_t ner_features(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i, uint32_t *f)
{
    size_t k = 0;
    const ner_tokdesc *t = &d[i];
    const ner_tokdesc *l1 = i >= 1 ? &d[i - 1] : NULL, *l2 = i >= 2 ? &d[i - 2] : NULL;
    const ner_tokdesc *r1 = i + 1 < n ? &d[i + 1] : NULL, *r2 = i + 2 < n ? &d[i + 2] : NULL;
    uint32_t wl1 = l1 ? l1->word : BOS(1), wl2 = l2 ? l2->word : BOS(2);
    uint32_t wr1 = r1 ? r1->word : EOS(1), wr2 = r2 ? r2->word : EOS(2);

    f[k++] = ner_mix(T_BIAS, 0);
    f[k++] = ner_mix(T_W0, t->word);
    f[k++] = ner_mix(T_WM1, wl1);
    f[k++] = ner_mix(T_WM2, wl2);
    f[k++] = ner_mix(T_WP1, wr1);
    f[k++] = ner_mix(T_WP2, wr2);
    f[k++] = ner_mix(T_STEM0, t->stem);
    f[k++] = ner_mix(T_STEMM1, l1 ? l1->stem : BOS(1));
    f[k++] = ner_mix(T_STEMP1, r1 ? r1->stem : EOS(1));
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
    uint32_t shl = l1 ? l1->shape : BOS(1), shr = r1 ? r1->shape : EOS(1);
    f[k++] = ner_mix(T_SHAPE0, t->shape);
    f[k++] = ner_mix(T_SHAPEM1, shl);
    f[k++] = ner_mix(T_SHAPEP1, shr);
    f[k++] = ner_mix(T_SHAPE3, ner_mix(ner_mix(shl, t->shape), shr));
    f[k++] = ner_mix(T_BIG_L, ner_mix(wl1, t->word));
    f[k++] = ner_mix(T_BIG_R, ner_mix(t->word, wr1));
    f[k++] = ner_mix(T_SFXM1, l1 ? l1->sfx[1] : BOS(1));
    f[k++] = ner_mix(T_SFXP1, r1 ? r1->sfx[1] : EOS(1));
    f[k++] = ner_mix(T_PFXM1, l1 ? l1->pfx[1] : BOS(1));
    f[k++] = ner_mix(T_PFXP1, r1 ? r1->pfx[1] : EOS(1));
    for (unsigned s = 0; s < 2; s++)
        if (t->stem_pfx[s])
            f[k++] = ner_mix(T_SPFX + s, t->stem_pfx[s]);
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
    if (m->flags & NER_F_CLUSTERS) {
        for (unsigned c = 0; c < NER_NCL; c++) {
            f[k++] = ner_mix(T_CL0 + c, t->has_cl ? t->cl[c] + 1 : 0);
            f[k++] = ner_mix(T_CLM1 + c, l1 ? (l1->has_cl ? l1->cl[c] + 1 : 0) : BOS(1));
            f[k++] = ner_mix(T_CLP1 + c, r1 ? (r1->has_cl ? r1->cl[c] + 1 : 0) : EOS(1));
        }
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

void ner_viterbi(const float *emit, const float trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                 uint8_t *bp, uint8_t *out)
{
    float cur[NER_NTAGS], prev[NER_NTAGS];
    if (n == 0)
        return;
    for (unsigned t = 0; t < NER_NTAGS; t++)
        prev[t] = ner_bio_allowed(NER_NTAGS, t) ? trans[NER_NTAGS][t] + emit[t] : -INFINITY;
    for (size_t i = 1; i < n; i++) {
        const float *e = emit + i * NER_NTAGS;
        for (unsigned t = 0; t < NER_NTAGS; t++) {
            float best = -INFINITY;
            unsigned arg = 0;
            for (unsigned p = 0; p < NER_NTAGS; p++) {
                if (!ner_bio_allowed(p, t))
                    continue;
                float s = prev[p] + trans[p][t];
                if (s > best) {
                    best = s;
                    arg = p;
                }
            }
            cur[t] = best + e[t];
            bp[i * NER_NTAGS + t] = (uint8_t)arg;
        }
        memcpy(prev, cur, sizeof prev);
    }
    unsigned best = 0;
    for (unsigned t = 1; t < NER_NTAGS; t++)
        if (prev[t] > prev[best])
            best = t;
    out[n - 1] = (uint8_t)best;
    for (size_t i = n - 1; i > 0; i--)
        out[i - 1] = bp[i * NER_NTAGS + out[i]];
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

const uint64_t *ner_set_get(const ner_set *s, uint32_t key)
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
    ner_set_free(&m->gaz);
    ner_set_free(&m->clusters);
    free(m);
}

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

size_t ner_model_scratch_size(const ner_model *m, size_t ntok)
{
    (void)m;
    if (ntok == 0)
        ntok = 1;
    if (ntok > NER_MAX_SENT)
        ntok = NER_MAX_SENT;
    return 16 + ALIGN16(ntok * sizeof(ner_tokdesc)) + ALIGN16(ntok * NER_NTAGS * sizeof(float)) +
           ALIGN16(ntok * NER_NTAGS);
}

static void tag_sentence(const ner_model *m, const char *text, const nahr_token *toks, size_t n,
                         ner_tokdesc *d, float *emit, uint8_t *bp, uint8_t *tags)
{
    uint32_t f[NER_MAXF];
    ner_describe(m, text, toks, n, d);
    for (size_t i = 0; i < n; i++) {
        int32_t acc[NER_NTAGS] = {0};
        size_t nf = ner_features(m, d, n, i, f);
        /* the weight table is larger than the caches: ask for every slot
         * first, so the misses overlap instead of queueing one by one */
        if (m->slots)
            for (size_t k = 0; k < nf; k++)
                __builtin_prefetch(&m->slots[f[k] & m->mask]);
        for (size_t k = 0; k < nf; k++) {
            const ner_slot *s = ner_model_find(m, f[k]);
            if (s)
                for (unsigned t = 0; t < NER_NTAGS; t++)
                    acc[t] += s->w[t];
        }
        for (unsigned t = 0; t < NER_NTAGS; t++)
            emit[i * NER_NTAGS + t] = (float)acc[t] * m->scale;
        emit[i * NER_NTAGS + NER_O] -= m->o_penalty;
    }
    ner_viterbi(emit, (const float(*)[NER_NTAGS])m->trans, n, bp, tags);
}

int ner_model_tag(const ner_model *m, const char *text, const nahr_token *toks, size_t ntok,
                  void *scratch, uint8_t *tags)
{
    if (!m || (ntok && (!text || !toks || !scratch || !tags)))
        return NAHR_EINVAL;
    if (ntok == 0)
        return 0;
    size_t cap = ntok > NER_MAX_SENT ? NER_MAX_SENT : ntok;
    char *p = (char *)ALIGN16((uintptr_t)scratch);
    ner_tokdesc *d = (ner_tokdesc *)p;
    p += ALIGN16(cap * sizeof(ner_tokdesc));
    float *emit = (float *)p;
    p += ALIGN16(cap * NER_NTAGS * sizeof(float));
    uint8_t *bp = (uint8_t *)p;
    for (size_t i = 0; i < ntok; i++)
        if (toks[i].end < toks[i].start)
            return NAHR_EINVAL;
    size_t s = 0;
    for (size_t i = 0; i < ntok; i++) {
        if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == ntok || i + 1 - s == NER_MAX_SENT) {
            tag_sentence(m, text, toks + s, i + 1 - s, d, emit, bp, tags + s);
            s = i + 1;
        }
    }
    return 0;
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
