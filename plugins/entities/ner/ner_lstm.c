/* ner_lstm.c - the BiLSTM tagger of ner_lstm.h (an experiment beside the
 * perceptron; figures in docs/ner-lstm.md). Single precision, one thread;
 * the inner loops are contiguous so that gcc vectorises them, and the two
 * kernels are also compiled for AVX2 (picked at run time). */
#include "ner_lstm.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NER_NN_MAGIC "NAHRLSTM"
#define NER_NN_VERSION 1u

/* the input of a token: [word vector | affix embedding sum | bits] */
struct ner_nn_lstm {
    unsigned hidden, cdim, rows_log2;
    unsigned no_word_rows, crf; /* ner_nn_opts */
    size_t wdim, din;           /* din = wdim + cdim + NER_NN_NBITS */
    ner_nn_vectors vec;
    ner_set vocab; /* word hash -> row + 1 */
    float *p;
    size_t np;
    /* offsets into p */
    size_t o_unk, o_emb, o_wx[2], o_wh[2], o_b[2], o_wo, o_bo, o_tr; /* o_tr: crf */
};

/* ---- kernels ---- */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NER_NN_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NER_NN_CLONES
#endif

/* y[0..n) += a x[0..n) */
NER_NN_CLONES static void axpy(float *restrict y, float a, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* sum of a[i] b[i], in 8 partial sums (the order is fixed: deterministic) */
NER_NN_CLONES static float dot(const float *restrict a, const float *restrict b, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (unsigned k = 0; k < 8; k++)
            acc[k] += a[i + k] * b[i + k];
    float s = 0;
    for (; i < n; i++)
        s += a[i] * b[i];
    for (unsigned k = 0; k < 8; k++)
        s += acc[k];
    return s;
}

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float rng_unit(uint64_t *s) { return (float)(rng_next(s) >> 40) * (1.0f / 16777216.0f); }

/* ---- vectors ---- */

void ner_nn_vectors_free(ner_nn_vectors *v)
{
    free(v->v);
    free(v->key);
    memset(v, 0, sizeof *v);
}

int ner_nn_vectors_load(const char *path, ner_nn_vectors *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    char *line = NULL;
    size_t lcap = 0, n = 0, dim = 0, lineno = 1;
    int rc = NAHR_EINVAL;
    if (getline(&line, &lcap, f) <= 0 || sscanf(line, "%zu %zu", &n, &dim) != 2 || n == 0 ||
        n > 10000000 || dim == 0 || dim > NER_NN_MAXWDIM) {
        snprintf(err, errlen, "%s:1: expected a header 'count dim' (dim 1..%d)", path,
                 NER_NN_MAXWDIM);
        goto fail;
    }
    out->v = malloc(n * dim * sizeof *out->v);
    out->key = malloc(n * sizeof *out->key);
    out->dim = dim;
    if (!out->v || !out->key) {
        rc = NAHR_ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    while (out->n < n && getline(&line, &lcap, f) > 0) {
        lineno++;
        char *sp = strchr(line, ' ');
        if (!sp || sp == line) {
            snprintf(err, errlen, "%s:%zu: expected 'word v1 .. v%zu'", path, lineno, dim);
            goto fail;
        }
        out->key[out->n] = ner_word_hash(line, (size_t)(sp - line), NULL, NULL);
        char *s = sp, *end;
        float *row = out->v + out->n * dim;
        for (size_t k = 0; k < dim; k++, s = end) {
            row[k] = strtof(s, &end);
            if (end == s) {
                snprintf(err, errlen, "%s:%zu: %zu numbers expected after the word", path, lineno,
                         dim);
                goto fail;
            }
        }
        out->n++;
    }
    if (out->n < n) {
        snprintf(err, errlen, "%s: %zu vectors announced, %zu read", path, n, out->n);
        goto fail;
    }
    rc = 0;
fail:
    free(line);
    fclose(f);
    if (rc)
        ner_nn_vectors_free(out);
    return rc;
}

/* ---- the network ---- */

void ner_nn_opts_default(ner_nn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->hidden = 64;
    o->cdim = 32;
    o->rows_log2 = 15;
    o->epochs = 15;
    o->batch = 8;
    o->lr = 1e-3;
    o->dropout = 0.5;
    o->clip = 5.0;
    o->holdout = 0.1;
    o->seed = 1;
}

static void layout(ner_nn_lstm *L)
{
    size_t g = 4 * (size_t)L->hidden, k = 0;
    L->din = L->wdim + L->cdim + NER_NN_NBITS;
    L->o_unk = k, k += L->wdim;
    L->o_emb = k, k += ((size_t)1 << L->rows_log2) * L->cdim;
    for (int dir = 0; dir < 2; dir++) {
        L->o_wx[dir] = k, k += L->din * g;
        L->o_wh[dir] = k, k += L->hidden * g;
        L->o_b[dir] = k, k += g;
    }
    L->o_wo = k, k += 2 * (size_t)L->hidden * NER_NTAGS;
    L->o_bo = k, k += NER_NTAGS;
    L->o_tr = k, k += L->crf ? (NER_NTAGS + 1) * NER_NTAGS : 0;
    L->np = k;
}

static int vocab_build(ner_nn_lstm *L)
{
    if (ner_set_reserve(&L->vocab, L->vec.n) != 0)
        return NAHR_ENOMEM;
    for (size_t i = 0; i < L->vec.n; i++)
        if (!ner_set_get(&L->vocab, L->vec.key[i]) &&
            ner_set_put(&L->vocab, L->vec.key[i], i + 1, 0) != 0)
            return NAHR_ENOMEM;
    return 0;
}

static ner_nn_lstm *lstm_alloc(unsigned hidden, unsigned cdim, unsigned rows_log2,
                               unsigned no_word_rows, unsigned crf, ner_nn_vectors *v)
{
    ner_nn_lstm *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    L->no_word_rows = no_word_rows;
    L->crf = crf;
    L->hidden = hidden;
    L->cdim = cdim;
    L->rows_log2 = rows_log2;
    L->vec = *v;
    L->wdim = v->dim;
    memset(v, 0, sizeof *v);
    layout(L);
    L->p = calloc(L->np, sizeof *L->p);
    if (!L->p || vocab_build(L) != 0) {
        ner_nn_lstm_free(L);
        return NULL;
    }
    return L;
}

ner_nn_lstm *ner_nn_lstm_new(const ner_nn_opts *o, ner_nn_vectors *v)
{
    ner_nn_lstm *L =
        lstm_alloc(o->hidden, o->cdim, o->rows_log2, o->no_word_rows != 0, o->crf != 0, v);
    if (!L)
        return NULL;
    uint64_t rng = o->seed ^ 0x5eed1e57ull;
    size_t g = 4 * (size_t)L->hidden;
    float *p = L->p;
    for (size_t i = 0; i < L->o_wx[0]; i++) /* unknown vector, affix table */
        p[i] = 0.2f * rng_unit(&rng) - 0.1f;
    float a = 1.0f / sqrtf((float)L->hidden);
    for (int dir = 0; dir < 2; dir++) {
        for (size_t i = L->o_wx[dir]; i < L->o_b[dir]; i++)
            p[i] = a * (2.0f * rng_unit(&rng) - 1.0f);
        for (size_t j = 0; j < g; j++) /* forget gate bias 1 */
            p[L->o_b[dir] + j] = (j >= L->hidden && j < 2 * (size_t)L->hidden) ? 1.0f : 0.0f;
    }
    float ao = sqrtf(6.0f / (2.0f * (float)L->hidden + NER_NTAGS));
    for (size_t i = L->o_wo; i < L->o_bo; i++)
        p[i] = ao * (2.0f * rng_unit(&rng) - 1.0f);
    return L;
}

void ner_nn_lstm_free(ner_nn_lstm *L)
{
    if (!L)
        return;
    ner_nn_vectors_free(&L->vec);
    ner_set_free(&L->vocab);
    free(L->p);
    free(L);
}

size_t ner_nn_lstm_nparams(const ner_nn_lstm *L) { return L->np; }
float *ner_nn_lstm_params(ner_nn_lstm *L) { return L->p; }
unsigned ner_nn_lstm_hidden(const ner_nn_lstm *L) { return L->hidden; }

/* ---- inputs ---- */

static int32_t vec_row(const ner_nn_lstm *L, uint32_t key)
{
    const uint64_t *v = ner_set_get(&L->vocab, key);
    return v ? (int32_t)(*v - 1) : -1;
}

void ner_nn_tokens(const ner_nn_lstm *L, const ner_tokdesc *d, size_t n, ner_nn_tok *out)
{
    const uint32_t mask = (1u << L->rows_log2) - 1u;
    for (size_t i = 0; i < n; i++) {
        const ner_tokdesc *t = &d[i];
        ner_nn_tok *o = &out[i];
        memset(o, 0, sizeof *o);
        /* the word's vector, else that of its shortest known proclitic strip */
        o->vec = vec_row(L, t->word);
        int from_stem = 0;
        for (unsigned k = 1; o->vec < 0 && k < t->nsplit; k++)
            if ((o->vec = vec_row(L, t->stm[k])) >= 0)
                from_stem = 1;
        const uint32_t h[NER_NN_NFEAT] = {t->word,        t->stem,       t->pfx[0], t->pfx[1],
                                          t->pfx[2],      t->sfx[0],     t->sfx[1], t->sfx[2],
                                          t->stem_sfx[1], t->stem_pfx[0]};
        for (unsigned k = 0; k < NER_NN_NFEAT; k++)
            o->row[k] =
                h[k] && (k >= 2 || !L->no_word_rows) ? ner_mix(h[k], k + 1) & mask : UINT32_MAX;
        for (unsigned k = 0; k < NER_NTYPES; k++) {
            o->bits[k] = (float)((t->gaz_b >> k) & 1u); /* gazetteers only, not the dictionary */
            o->bits[4 + k] = (float)((t->gaz_i >> k) & 1u);
        }
        for (unsigned k = 0; k < 6; k++)
            o->bits[8 + k] = (float)((t->shape >> (3 + k)) & 1u);
        o->bits[14] = (float)(t->shape & 7u) / 7.0f;
        o->bits[15] = (float)t->punct;
        o->bits[16] = (float)(o->vec >= 0 && !from_stem);
        o->bits[17] = (float)from_stem;
    }
}

/* ---- forward and backward ---- */

/* scratch of one sentence of n tokens (floats) */
typedef struct ner_nn_work {
    float *x;                    /* n x din inputs (dropout applied) */
    float *xmask;                /* n x (wdim + cdim): dropout multipliers of the inputs */
    float *act[2];               /* n x 4H: i f o g after their nonlinearities */
    float *c[2], *tc[2], *h[2];  /* n x H */
    float *hmask;                /* n x 2H */
    float *prob;                 /* n x 9 */
    float *dh[2];                /* n x H: gradient reaching h from the output */
    float *dz, *dhn, *dcn, *dx;  /* 4H, H, H, din */
    float *zero;                 /* H zeros */
    double *emit, *marg, *cwork; /* crf: n x 9, n x 9, 2 n x 9 + n */
    uint8_t *ozero; /* crf: n zeros (tags O: the marginals do not depend on the gold tags) */
} ner_nn_work;

size_t ner_nn_work_size(const ner_nn_lstm *L, size_t n)
{
    size_t H = L->hidden;
    size_t crf = L->crf ? 2 * (n * (4 * NER_NTAGS + 1)) + 2 + n / 4 + 1 : 0; /* doubles, aligned */
    return n * (L->din + (L->wdim + L->cdim) + 2 * (4 * H + 3 * H) + 2 * H + NER_NTAGS + 2 * H) +
           4 * H + 3 * H + L->din + 16 + crf;
}

static void work_map(const ner_nn_lstm *L, size_t n, float *w, ner_nn_work *k)
{
    size_t H = L->hidden;
    k->x = w, w += n * L->din;
    k->xmask = w, w += n * (L->wdim + L->cdim);
    for (int d = 0; d < 2; d++) {
        k->act[d] = w, w += n * 4 * H;
        k->c[d] = w, w += n * H;
        k->tc[d] = w, w += n * H;
        k->h[d] = w, w += n * H;
    }
    k->hmask = w, w += n * 2 * H;
    k->prob = w, w += n * NER_NTAGS;
    k->dh[0] = w, w += n * H;
    k->dh[1] = w, w += n * H;
    k->dz = w, w += 4 * H;
    k->dhn = w, w += H;
    k->dcn = w, w += H;
    k->dx = w, w += L->din;
    k->zero = w, w += H;
    memset(k->zero, 0, H * sizeof *k->zero);
    if (L->crf) { /* doubles at an even float offset of a malloc'd block */
        w += ((uintptr_t)w % sizeof(double)) ? 1 : 0;
        k->emit = (double *)(void *)w;
        k->marg = k->emit + n * NER_NTAGS;
        k->cwork = k->marg + n * NER_NTAGS;
        k->ozero = (uint8_t *)(k->cwork + 2 * n * NER_NTAGS + n);
        memset(k->ozero, 0, n);
    }
}

/* inputs of token t into x (nm = wdim + cdim dropped-out dims) */
static void input_of(const ner_nn_lstm *L, const ner_nn_tok *t, const float *mask, float *x)
{
    const float *src = t->vec >= 0 ? L->vec.v + (size_t)t->vec * L->wdim : L->p + L->o_unk;
    memcpy(x, src, L->wdim * sizeof *x);
    float *e = x + L->wdim;
    memset(e, 0, L->cdim * sizeof *e);
    for (unsigned k = 0; k < NER_NN_NFEAT; k++)
        if (t->row[k] != UINT32_MAX)
            axpy(e, 1.0f, L->p + L->o_emb + (size_t)t->row[k] * L->cdim, L->cdim);
    if (mask)
        for (size_t j = 0; j < L->wdim + L->cdim; j++)
            x[j] *= mask[j];
    memcpy(x + L->wdim + L->cdim, t->bits, sizeof t->bits);
}

/* forward pass; with p > 0 dropout masks from *rng */
static void forward(const ner_nn_lstm *L, const ner_nn_tok *t, size_t n, double p, uint64_t *rng,
                    ner_nn_work *k)
{
    const size_t H = L->hidden, G = 4 * H, din = L->din, nm = L->wdim + L->cdim;
    const float keep = (float)(1.0 - p), scale = p > 0 ? 1.0f / keep : 1.0f;
    for (size_t i = 0; i < n; i++) {
        float *m = k->xmask + i * nm;
        for (size_t j = 0; j < nm; j++)
            m[j] = p > 0 ? (rng_unit(rng) < keep ? scale : 0.0f) : 1.0f;
        input_of(L, &t[i], m, k->x + i * din);
    }
    for (int d = 0; d < 2; d++) {
        const float *wx = L->p + L->o_wx[d], *wh = L->p + L->o_wh[d], *b = L->p + L->o_b[d];
        for (size_t s = 0; s < n; s++) {
            size_t i = d ? n - 1 - s : s;
            const float *hp = s ? k->h[d] + (d ? i + 1 : i - 1) * H : k->zero;
            const float *cp = s ? k->c[d] + (d ? i + 1 : i - 1) * H : k->zero;
            float *z = k->act[d] + i * G;
            const float *x = k->x + i * din;
            memcpy(z, b, G * sizeof *z);
            for (size_t j = 0; j < din; j++)
                if (x[j] != 0.0f)
                    axpy(z, x[j], wx + j * G, G);
            for (size_t j = 0; j < H; j++)
                if (hp[j] != 0.0f)
                    axpy(z, hp[j], wh + j * G, G);
            float *c = k->c[d] + i * H, *tc = k->tc[d] + i * H, *h = k->h[d] + i * H;
            for (size_t j = 0; j < H; j++) {
                float ig = sigm(z[j]), fg = sigm(z[H + j]), og = sigm(z[2 * H + j]);
                float gg = tanhf(z[3 * H + j]);
                z[j] = ig, z[H + j] = fg, z[2 * H + j] = og, z[3 * H + j] = gg;
                c[j] = fg * cp[j] + ig * gg;
                tc[j] = tanhf(c[j]);
                h[j] = og * tc[j];
            }
        }
    }
    const float *wo = L->p + L->o_wo, *bo = L->p + L->o_bo;
    for (size_t i = 0; i < n; i++) {
        float *hm = k->hmask + i * 2 * H, *pr = k->prob + i * NER_NTAGS;
        memcpy(pr, bo, NER_NTAGS * sizeof *pr);
        for (size_t j = 0; j < 2 * H; j++) {
            hm[j] = p > 0 ? (rng_unit(rng) < keep ? scale : 0.0f) : 1.0f;
            float v = (j < H ? k->h[0][i * H + j] : k->h[1][i * H + j - H]) * hm[j];
            if (v != 0.0f)
                axpy(pr, v, wo + j * NER_NTAGS, NER_NTAGS);
        }
        if (L->crf)
            continue; /* logits: the CRF's emissions */
        /* softmax in place (logits -> probabilities) */
        float mx = pr[0], sum = 0;
        for (unsigned a = 1; a < NER_NTAGS; a++)
            mx = pr[a] > mx ? pr[a] : mx;
        for (unsigned a = 0; a < NER_NTAGS; a++)
            sum += (pr[a] = expf(pr[a] - mx));
        for (unsigned a = 0; a < NER_NTAGS; a++)
            pr[a] /= sum;
    }
}

/* CRF: the log-likelihood of gold (valid BIO) under the logits k->prob and
 * the transitions; k->marg gets the tag marginals, pair (NULL: not wanted)
 * the expected transition counts added */
static double crf_run(const ner_nn_lstm *L, const uint8_t *gold, size_t n, ner_nn_work *k,
                      double pair[NER_NTAGS + 1][NER_NTAGS])
{
    double tr[NER_NTAGS + 1][NER_NTAGS], scratch[NER_NTAGS + 1][NER_NTAGS] = {{0}};
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++)
            tr[a][b] = L->p[L->o_tr + a * NER_NTAGS + b];
    for (size_t i = 0; i < n * NER_NTAGS; i++)
        k->emit[i] = k->prob[i];
    return ner_crf_loglik(k->emit, (const double(*)[NER_NTAGS])tr, n, gold, k->marg,
                          pair ? pair : scratch, k->cwork);
}

void ner_nn_logprobs(const ner_nn_lstm *L, const ner_nn_tok *t, size_t n, float *work, float *lp)
{
    ner_nn_work k;
    work_map(L, n, work, &k);
    forward(L, t, n, 0, NULL, &k);
    if (L->crf) {
        crf_run(L, k.ozero, n, &k, NULL);
        for (size_t i = 0; i < n * NER_NTAGS; i++)
            lp[i] = (float)log(k.marg[i] > 1e-30 ? k.marg[i] : 1e-30);
        return;
    }
    for (size_t i = 0; i < n * NER_NTAGS; i++)
        lp[i] = logf(k.prob[i] > 1e-30f ? k.prob[i] : 1e-30f);
}

void ner_nn_decode(const float *lp, size_t n, uint8_t *bp, uint8_t *out)
{
    static const float trans[NER_NTAGS + 1][NER_NTAGS]; /* 0: ner_viterbi forbids invalid moves */
    ner_viterbi(lp, trans, n, bp, out);
}

double ner_nn_loss(const ner_nn_lstm *L, const ner_nn_tok *t, const uint8_t *gold, size_t n,
                   double p, uint64_t *rng, float *grad, float *work)
{
    ner_nn_work k;
    work_map(L, n, work, &k);
    forward(L, t, n, p, rng, &k);
    double loss = 0;
    const uint8_t *g = gold;
    double pair[NER_NTAGS + 1][NER_NTAGS] = {{0}};
    if (L->crf) {
        /* the tags as the scorer reads them (an I-X not continuing X starts an
         * entity): the CRF sums over valid BIO sequences only */
        uint8_t *fix = k.ozero;
        for (size_t i = 0; i < n; i++) {
            unsigned x = gold[i];
            if (x && !(x & 1u) && (i == 0 || !ner_bio_allowed(fix[i - 1], x)))
                x--;
            fix[i] = (uint8_t)x;
        }
        g = fix;
        loss = -crf_run(L, g, n, &k, pair);
        for (size_t i = 0; i < n * NER_NTAGS; i++) /* the tag marginals, as probabilities */
            k.prob[i] = (float)k.marg[i];
    } else {
        for (size_t i = 0; i < n; i++) {
            float q = k.prob[i * NER_NTAGS + gold[i]];
            loss -= log(q > 1e-30f ? q : 1e-30f);
        }
    }
    if (!grad)
        return loss;
    const size_t H = L->hidden, G = 4 * H, din = L->din, nm = L->wdim + L->cdim;
    const float *wo = L->p + L->o_wo;
    float *gwo = grad + L->o_wo, *gbo = grad + L->o_bo;
    if (L->crf) { /* d loss / d trans = expected - gold transition counts */
        float *gtr = grad + L->o_tr;
        for (unsigned a = 0; a <= NER_NTAGS; a++)
            for (unsigned b = 0; b < NER_NTAGS; b++)
                gtr[a * NER_NTAGS + b] += (float)pair[a][b];
        for (size_t i = 0; i < n; i++)
            gtr[(i ? g[i - 1] : NER_NTAGS) * NER_NTAGS + g[i]] -= 1.0f;
    }
    /* output layer: d loss / d logits = p - [gold] (softmax or CRF marginals) */
    for (size_t i = 0; i < n; i++) {
        float dl[NER_NTAGS];
        for (unsigned a = 0; a < NER_NTAGS; a++)
            dl[a] = k.prob[i * NER_NTAGS + a] - (a == g[i] ? 1.0f : 0.0f);
        for (unsigned a = 0; a < NER_NTAGS; a++)
            gbo[a] += dl[a];
        const float *hm = k.hmask + i * 2 * H;
        for (size_t j = 0; j < 2 * H; j++) {
            float *hv = j < H ? &k.h[0][i * H + j] : &k.h[1][i * H + j - H];
            float *dh = j < H ? &k.dh[0][i * H + j] : &k.dh[1][i * H + j - H];
            if (hm[j] != 0.0f)
                axpy(gwo + j * NER_NTAGS, *hv * hm[j], dl, NER_NTAGS);
            *dh = hm[j] != 0.0f ? dot(wo + j * NER_NTAGS, dl, NER_NTAGS) * hm[j] : 0.0f;
        }
    }
    /* the two directions, back through time */
    for (int d = 0; d < 2; d++) {
        const float *wx = L->p + L->o_wx[d], *wh = L->p + L->o_wh[d];
        float *gwx = grad + L->o_wx[d], *gwh = grad + L->o_wh[d], *gb = grad + L->o_b[d];
        memset(k.dhn, 0, H * sizeof *k.dhn);
        memset(k.dcn, 0, H * sizeof *k.dcn);
        for (size_t s = n; s-- > 0;) {
            size_t i = d ? n - 1 - s : s;
            const float *hp = s ? k.h[d] + (d ? i + 1 : i - 1) * H : k.zero;
            const float *cp = s ? k.c[d] + (d ? i + 1 : i - 1) * H : k.zero;
            const float *a = k.act[d] + i * G, *tc = k.tc[d] + i * H;
            for (size_t j = 0; j < H; j++) {
                float ig = a[j], fg = a[H + j], og = a[2 * H + j], gg = a[3 * H + j];
                float dh = k.dh[d][i * H + j] + k.dhn[j];
                float dc = k.dcn[j] + dh * og * (1.0f - tc[j] * tc[j]);
                k.dz[j] = dc * gg * ig * (1.0f - ig);
                k.dz[H + j] = dc * cp[j] * fg * (1.0f - fg);
                k.dz[2 * H + j] = dh * tc[j] * og * (1.0f - og);
                k.dz[3 * H + j] = dc * ig * (1.0f - gg * gg);
                k.dcn[j] = dc * fg;
            }
            axpy(gb, 1.0f, k.dz, G);
            const float *x = k.x + i * din;
            for (size_t j = 0; j < din; j++)
                if (x[j] != 0.0f)
                    axpy(gwx + j * G, x[j], k.dz, G);
            for (size_t j = 0; j < H; j++) {
                if (hp[j] != 0.0f)
                    axpy(gwh + j * G, hp[j], k.dz, G);
                k.dhn[j] = dot(wh + j * G, k.dz, G);
            }
            /* into the learned inputs: the unknown vector and the affix table */
            float *dx = k.dx;
            const float *m = k.xmask + i * nm;
            size_t j0 = t[i].vec >= 0 ? L->wdim : 0;
            for (size_t j = j0; j < nm; j++)
                dx[j] = m[j] != 0.0f ? dot(wx + j * G, k.dz, G) * m[j] : 0.0f;
            if (t[i].vec < 0)
                axpy(grad + L->o_unk, 1.0f, dx, L->wdim);
            for (unsigned f = 0; f < NER_NN_NFEAT; f++)
                if (t[i].row[f] != UINT32_MAX)
                    axpy(grad + L->o_emb + (size_t)t[i].row[f] * L->cdim, 1.0f, dx + L->wdim,
                         L->cdim);
        }
    }
    return loss;
}

/* ---- evaluation and training ---- */

static size_t data_maxlen(const ner_nn_data *d) { return ner_sent_maxlen(d->sent, d->nsent); }

double ner_nn_eval(const ner_nn_lstm *L, const ner_nn_data *d, uint8_t *pred)
{
    size_t mx = data_maxlen(d);
    float *work = malloc(ner_nn_work_size(L, mx) * sizeof *work);
    float *lp = malloc(mx * NER_NTAGS * sizeof *lp);
    uint8_t *bp = malloc(mx * NER_NTAGS), *out = malloc(mx);
    ner_score sc = {0};
    double f1 = -1;
    if (work && lp && bp && out) {
        for (size_t s = 0; s < d->nsent; s++) {
            size_t a = d->sent[s], n = d->sent[s + 1] - a;
            ner_nn_logprobs(L, d->tok + a, n, work, lp);
            ner_nn_decode(lp, n, bp, out);
            ner_score_add(&sc, d->gold + a, out, n);
            if (pred)
                memcpy(pred + a, out, n);
        }
        f1 = ner_score_prf(&sc, 0, NULL, NULL);
    }
    free(work);
    free(lp);
    free(bp);
    free(out);
    return f1;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ner_nn_train(ner_nn_lstm *L, const ner_nn_opts *o, const ner_nn_data *d, FILE *log)
{
    size_t nhold = (size_t)(o->holdout * (double)d->nsent), ntrain = d->nsent - nhold;
    ner_nn_data hold = {d->tok, d->gold, d->sent + ntrain, nhold};
    size_t np = L->np, mx = data_maxlen(d);
    float *g = calloc(np, sizeof *g), *m1 = calloc(np, sizeof *m1), *m2 = calloc(np, sizeof *m2);
    float *best = nhold ? malloc(np * sizeof *best) : NULL;
    float *work = malloc(ner_nn_work_size(L, mx) * sizeof *work);
    size_t *order = malloc((ntrain + 1) * sizeof *order);
    int rc = NAHR_ENOMEM;
    if (!g || !m1 || !m2 || (nhold && !best) || !work || !order)
        goto fail;
    uint64_t rng = o->seed * 0x2545f4914f6cdd1dull + 7;
    for (size_t s = 0; s < ntrain; s++)
        order[s] = s;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double b1t = 1, b2t = 1, best_f1 = -1;
    unsigned best_epoch = 0;
    for (unsigned ep = 1; ep <= o->epochs; ep++) {
        double t0 = cpu_seconds(), loss = 0;
        for (size_t s = ntrain; s > 1; s--) { /* Fisher-Yates */
            size_t j = rng_next(&rng) % s, tmp = order[s - 1];
            order[s - 1] = order[j];
            order[j] = tmp;
        }
        for (size_t b0 = 0; b0 < ntrain; b0 += o->batch) {
            size_t b1e = b0 + o->batch < ntrain ? b0 + o->batch : ntrain;
            memset(g, 0, np * sizeof *g);
            for (size_t q = b0; q < b1e; q++) {
                size_t s = order[q], a = d->sent[s], n = d->sent[s + 1] - a;
                loss += ner_nn_loss(L, d->tok + a, d->gold + a, n, o->dropout, &rng, g, work);
            }
            double norm = 0, inv = 1.0 / (double)(b1e - b0);
            for (size_t i = 0; i < np; i++)
                norm += (double)g[i] * g[i];
            norm = sqrt(norm) * inv;
            double sc = inv * (o->clip > 0 && norm > o->clip ? o->clip / norm : 1.0);
            b1t *= b1;
            b2t *= b2;
            const float lr = (float)(o->lr * sqrt(1 - b2t) / (1 - b1t));
            for (size_t i = 0; i < np; i++) {
                float gi = (float)(g[i] * sc);
                m1[i] = (float)(b1 * m1[i] + (1 - b1) * gi);
                m2[i] = (float)(b2 * m2[i] + (1 - b2) * gi * gi);
                L->p[i] -= lr * m1[i] / (sqrtf(m2[i]) + (float)eps);
            }
        }
        double f1 = nhold ? ner_nn_eval(L, &hold, NULL) : 0;
        if (nhold && f1 > best_f1) {
            best_f1 = f1;
            best_epoch = ep;
            memcpy(best, L->p, np * sizeof *best);
        }
        if (log) {
            fprintf(log, "epoch %u: loss %.4f per token, holdout F1 %.4f, %.1f CPU s\n", ep,
                    loss / (double)(d->sent[ntrain] - d->sent[0]), f1, cpu_seconds() - t0);
            fflush(log);
        }
    }
    if (nhold) {
        memcpy(L->p, best, np * sizeof *best);
        if (log)
            fprintf(log, "best holdout F1 %.4f at epoch %u (%zu of %zu sentences held out)\n",
                    best_f1, best_epoch, nhold, d->nsent);
    }
    rc = 0;
fail:
    free(g);
    free(m1);
    free(m2);
    free(best);
    free(work);
    free(order);
    return rc;
}

/* ---- files ---- */

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "model files are little-endian");

int ner_nn_lstm_save(const ner_nn_lstm *L, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    uint32_t hdr[7] = {NER_NN_VERSION,    L->hidden,       L->cdim, L->rows_log2,
                       (uint32_t)L->wdim, L->no_word_rows, L->crf};
    uint64_t nv = L->vec.n, np = L->np;
    int ok = fwrite(NER_NN_MAGIC, 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
             fwrite(&nv, sizeof nv, 1, f) == 1 && fwrite(&np, sizeof np, 1, f) == 1 &&
             (nv == 0 || (fwrite(L->vec.key, sizeof *L->vec.key, nv, f) == nv &&
                          fwrite(L->vec.v, sizeof *L->vec.v * L->wdim, nv, f) == nv)) &&
             fwrite(L->p, sizeof *L->p, np, f) == np;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(err, errlen, "%s: write failed", path);
        return NAHR_EIO;
    }
    return 0;
}

int ner_nn_lstm_load(const char *path, ner_nn_lstm **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    char magic[8];
    uint32_t hdr[7];
    uint64_t nv, np;
    ner_nn_vectors v = {0};
    ner_nn_lstm *L = NULL;
    int rc = NAHR_EINVAL;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, NER_NN_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s: not a BiLSTM model (nahr-nn-ner train writes them)", path);
        goto fail;
    }
    if (fread(hdr, sizeof hdr, 1, f) != 1 || fread(&nv, sizeof nv, 1, f) != 1 ||
        fread(&np, sizeof np, 1, f) != 1) {
        snprintf(err, errlen, "%s: truncated header", path);
        goto fail;
    }
    if (hdr[0] != NER_NN_VERSION) {
        snprintf(err, errlen, "%s: model version %u, this build reads version %u", path, hdr[0],
                 NER_NN_VERSION);
        goto fail;
    }
    if (hdr[1] == 0 || hdr[1] > 1024 || hdr[2] == 0 || hdr[2] > 1024 || hdr[3] > 24 ||
        hdr[4] == 0 || hdr[4] > NER_NN_MAXWDIM || hdr[5] > 1 || hdr[6] > 1 || nv > 10000000) {
        snprintf(err, errlen, "%s: bad dimensions in the header", path);
        goto fail;
    }
    v.n = nv;
    v.dim = hdr[4];
    v.key = malloc((nv + 1) * sizeof *v.key);
    v.v = malloc((nv * v.dim + 1) * sizeof *v.v);
    if (!v.key || !v.v) {
        rc = NAHR_ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    if (fread(v.key, sizeof *v.key, nv, f) != nv || fread(v.v, sizeof *v.v * v.dim, nv, f) != nv) {
        snprintf(err, errlen, "%s: truncated (word vectors)", path);
        goto fail;
    }
    if (!(L = lstm_alloc(hdr[1], hdr[2], hdr[3], hdr[5], hdr[6], &v))) {
        rc = NAHR_ENOMEM;
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    if (np != L->np) {
        snprintf(err, errlen, "%s: %llu parameters, the dimensions need %zu", path,
                 (unsigned long long)np, L->np);
        goto fail;
    }
    if (fread(L->p, sizeof *L->p, np, f) != np) {
        snprintf(err, errlen, "%s: truncated (parameters)", path);
        goto fail;
    }
    if (fgetc(f) != EOF) {
        snprintf(err, errlen, "%s: trailing bytes after the parameters", path);
        goto fail;
    }
    rc = 0;
    *out = L;
    L = NULL;
fail:
    ner_nn_vectors_free(&v);
    ner_nn_lstm_free(L);
    fclose(f);
    return rc;
}
