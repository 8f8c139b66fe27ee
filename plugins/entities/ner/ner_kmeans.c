/* ner_kmeans.c - word clusters for the tagger, from unlabelled text (each
 * frequent word described by the counts of the frequent words just left and
 * right of it) or from word vectors (the text format `fasttext skipgram`
 * writes: a "count dim" line, then "word v1 .. vD").
 * Hierarchical k-means on unit vectors: K1 top clusters, each split into K2,
 * each of those into K3, so every word gets three nested ids (coarse to
 * fine), like prefixes of Brown cluster paths. Deterministic for a seed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "ner_internal.h"

#define K1 32
#define K2 16
#define K3 8
#define ITERS 10

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* k-means (cosine) of the rows idx[0..n) of vec (dim d); writes the cluster
 * of each into out[idx[i]]. */
static int kmeans(const float *vec, size_t d, const size_t *idx, size_t n, unsigned k,
                  uint64_t *rng, uint16_t *out)
{
    if (n == 0)
        return 0;
    if (k > n)
        k = (unsigned)n;
    float *cent = malloc((size_t)k * d * sizeof *cent);
    double *sum = malloc((size_t)k * d * sizeof *sum);
    size_t *cnt = malloc(k * sizeof *cnt);
    if (!cent || !sum || !cnt) {
        free(cent);
        free(sum);
        free(cnt);
        return NAHR_ENOMEM;
    }
    /* seeds: random words (a repeated pick only costs an empty cluster,
     * which is reseeded below) */
    for (unsigned c = 0; c < k; c++)
        memcpy(cent + (size_t)c * d, vec + idx[rng_next(rng) % n] * d, d * sizeof *cent);
    for (int it = 0; it < ITERS; it++) {
        memset(sum, 0, (size_t)k * d * sizeof *sum);
        memset(cnt, 0, k * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            const float *v = vec + idx[i] * d;
            unsigned best = 0;
            float bs = -INFINITY;
            for (unsigned c = 0; c < k; c++) {
                const float *ce = cent + (size_t)c * d;
                float s = 0;
                for (size_t j = 0; j < d; j++)
                    s += v[j] * ce[j];
                if (s > bs) {
                    bs = s;
                    best = c;
                }
            }
            out[idx[i]] = (uint16_t)best;
            cnt[best]++;
            double *su = sum + (size_t)best * d;
            for (size_t j = 0; j < d; j++)
                su[j] += v[j];
        }
        for (unsigned c = 0; c < k; c++) {
            if (!cnt[c]) { /* empty: reseed on a random word */
                memcpy(cent + (size_t)c * d, vec + idx[rng_next(rng) % n] * d, d * sizeof *cent);
                continue;
            }
            double norm = 0;
            for (size_t j = 0; j < d; j++)
                norm += sum[(size_t)c * d + j] * sum[(size_t)c * d + j];
            norm = norm > 0 ? sqrt(norm) : 1;
            for (size_t j = 0; j < d; j++)
                cent[(size_t)c * d + j] = (float)(sum[(size_t)c * d + j] / norm);
        }
    }
    free(cent);
    free(sum);
    free(cnt);
    return 0;
}

/* Hierarchical k-means of the unit rows vec[0..n) (dim d) into m->clusters,
 * keyed by hash[i]. c1..c3, idx, tmp: n+1 entries of scratch each. */
static long cluster_rows(ner_model *m, const float *vec, const uint32_t *hash, size_t n, size_t d,
                         uint64_t seed, uint16_t *c1, uint16_t *c2, uint16_t *c3, size_t *idx,
                         size_t *tmp)
{
    long rc;
    uint64_t rng = seed ^ 0x636c757374657273ull;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if ((rc = kmeans(vec, d, idx, n, K1, &rng, c1)) != 0)
        return rc;
    for (unsigned a = 0; a < K1; a++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (c1[i] == a)
                tmp[k++] = i;
        if ((rc = kmeans(vec, d, tmp, k, K2, &rng, c2)) != 0)
            return rc;
        for (unsigned b = 0; b < K2; b++) {
            size_t l = 0;
            for (size_t i = 0; i < k; i++)
                if (c2[tmp[i]] == b)
                    idx[l++] = tmp[i];
            if ((rc = kmeans(vec, d, idx, l, K3, &rng, c3)) != 0)
                return rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t v = (uint64_t)c1[i] | (uint64_t)(c1[i] * K2 + c2[i]) << 16 |
                     (uint64_t)((c1[i] * K2 + c2[i]) * K3 + c3[i]) << 32;
        if (ner_set_get(&m->clusters, hash[i]))
            continue; /* a more frequent spelling came first */
        if (ner_set_put(&m->clusters, hash[i], v, 0) != 0) {
            return NAHR_ENOMEM;
        }
    }
    return (long)n;
}

long ner_clusters_from_vectors(ner_model *m, const char *path, size_t maxwords, uint64_t seed,
                               char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open vectors %s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    size_t count = 0, d = 0;
    if (fscanf(f, "%zu %zu", &count, &d) != 2 || d == 0 || d > 4096) {
        fclose(f);
        snprintf(err, errlen, "%s: expected a 'count dim' first line (fasttext .vec format)", path);
        return NAHR_EFORMAT;
    }
    if (count > maxwords)
        count = maxwords;
    float *vec = malloc((count ? count : 1) * d * sizeof *vec);
    uint32_t *hash = malloc((count ? count : 1) * sizeof *hash);
    uint16_t *c1 = calloc(count + 1, 2), *c2 = calloc(count + 1, 2), *c3 = calloc(count + 1, 2);
    size_t *idx = malloc((count + 1) * sizeof *idx), *tmp = malloc((count + 1) * sizeof *tmp);
    long rc = NAHR_ENOMEM;
    if (!vec || !hash || !c1 || !c2 || !c3 || !idx || !tmp)
        goto done;
    size_t n = 0;
    char word[1024];
    while (n < count && fscanf(f, "%1023s", word) == 1) {
        float *v = vec + n * d;
        double norm = 0;
        for (size_t j = 0; j < d; j++) {
            if (fscanf(f, "%f", &v[j]) != 1) {
                snprintf(err, errlen, "%s: word %zu: expected %zu numbers", path, n + 1, d);
                rc = NAHR_EFORMAT;
                goto done;
            }
            norm += (double)v[j] * v[j];
        }
        norm = norm > 0 ? sqrt(norm) : 1;
        for (size_t j = 0; j < d; j++)
            v[j] = (float)(v[j] / norm);
        size_t wl = strlen(word);
        if (nahr_utf8_check(word, wl) != wl || !strcmp(word, "</s>"))
            continue;
        hash[n++] = ner_word_hash(word, wl, NULL, NULL);
    }
    rc = cluster_rows(m, vec, hash, n, d, seed, c1, c2, c3, idx, tmp);
    if (rc < 0)
        goto done;
    rc = (long)n;
done:
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory clustering %s", path);
    fclose(f);
    free(vec);
    free(hash);
    free(c1);
    free(c2);
    free(c3);
    free(idx);
    free(tmp);
    return rc;
}

/* ---- distributional clusters from unlabelled text ---- */

typedef struct counted {
    uint32_t hash;
    uint64_t count;
} counted;

static int cmp_counted(const void *a, const void *b)
{
    const counted *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* Calls fn(hashes, n, arg) for the word tokens of each article of each file
 * (JSON Lines with a "text" key, or plain text: one article per line). */
int ner_for_each_article(const char *const *files, size_t nfiles, ner_article_fn fn, void *arg,
                         char *err, size_t errlen)
{
    nahr_token *toks = NULL;
    uint32_t *hs = NULL;
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    int rc = 0;
    for (size_t fi = 0; fi < nfiles && rc == 0; fi++) {
        FILE *f = fopen(files[fi], "r");
        if (!f) {
            snprintf(err, errlen, "cannot open %s: %s", files[fi], strerror(errno));
            rc = NAHR_EIO;
            break;
        }
        size_t flen = strlen(files[fi]);
        int jsonl = flen > 6 && !strcmp(files[fi] + flen - 6, ".jsonl");
        ssize_t len;
        while (rc == 0 && (len = getline(&line, &lcap, f)) > 0) {
            const char *text = line;
            size_t n = (size_t)len;
            json_t *root = NULL;
            if (jsonl) {
                root = json_loadb(line, n, 0, NULL);
                const char *t = root ? json_string_value(json_object_get(root, "text")) : NULL;
                if (!t) {
                    json_decref(root);
                    continue;
                }
                text = t;
                n = strlen(t);
            }
            size_t nt = nahr_tokenize(text, n, NULL, 0);
            if (nt > cap) {
                cap = nt + nt / 2;
                nahr_token *nt2 = realloc(toks, cap * sizeof *toks);
                if (nt2)
                    toks = nt2;
                uint32_t *nh = realloc(hs, cap * sizeof *hs);
                if (nh)
                    hs = nh;
                if (!nt2 || !nh) {
                    json_decref(root);
                    rc = NAHR_ENOMEM;
                    snprintf(err, errlen, "out of memory reading %s", files[fi]);
                    break;
                }
            }
            nahr_tokenize(text, n, toks, nt);
            for (size_t i = 0; i < nt; i++)
                hs[i] = ner_word_hash(text + toks[i].start, toks[i].end - toks[i].start, NULL,
                                      NULL);
            rc = fn(text, toks, hs, nt, arg);
            json_decref(root);
        }
        fclose(f);
    }
    free(line);
    free(toks);
    free(hs);
    return rc;
}

static int count_words(const char *text, const nahr_token *toks, const uint32_t *h, size_t n,
                       void *arg)
{
    (void)text;
    (void)toks;
    ner_set *s = arg;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *v = ner_set_get(s, h[i]);
        if (ner_set_put(s, h[i], v ? *v + 1 : 1, 0) != 0)
            return NAHR_ENOMEM;
    }
    return 0;
}

typedef struct ctx_counts {
    ner_set vocab, ctx; /* hash -> index + 1 */
    size_t nctx;
    float *vec; /* vocab x (2 * nctx) */
} ctx_counts;

static int count_contexts(const char *text, const nahr_token *toks, const uint32_t *h, size_t n,
                          void *arg)
{
    (void)text;
    (void)toks;
    ctx_counts *cc = arg;
    size_t d = 2 * cc->nctx;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *v = ner_set_get(&cc->vocab, h[i]);
        if (!v)
            continue;
        float *row = cc->vec + (size_t)(*v - 1) * d;
        if (i > 0) {
            const uint64_t *l = ner_set_get(&cc->ctx, h[i - 1]);
            if (l)
                row[*l - 1] += 1;
        }
        if (i + 1 < n) {
            const uint64_t *r = ner_set_get(&cc->ctx, h[i + 1]);
            if (r)
                row[cc->nctx + *r - 1] += 1;
        }
    }
    return 0;
}

long ner_clusters_from_text(ner_model *m, const char *const *files, size_t nfiles,
                            size_t maxwords, size_t ncontexts, uint64_t seed, char *err,
                            size_t errlen)
{
    ner_set freq = {0};
    ctx_counts cc = {0};
    counted *all = NULL;
    uint32_t *hash = NULL;
    uint16_t *c1 = NULL, *c2 = NULL, *c3 = NULL;
    size_t *idx = NULL, *tmp = NULL;
    long rc = ner_for_each_article(files, nfiles, count_words, &freq, err, errlen);
    if (rc != 0)
        goto done;
    rc = NAHR_ENOMEM;
    all = malloc((freq.n + 1) * sizeof *all);
    if (!all)
        goto done;
    size_t nall = 0;
    for (size_t i = 0; freq.mask && i <= freq.mask; i++)
        if (freq.keys[i]) {
            all[nall].hash = freq.keys[i];
            all[nall++].count = freq.vals[i];
        }
    qsort(all, nall, sizeof *all, cmp_counted);
    size_t nv = 0;
    while (nv < nall && nv < maxwords && all[nv].count >= 3)
        nv++;
    cc.nctx = ncontexts < nall ? ncontexts : nall;
    size_t d = 2 * cc.nctx;
    if (nv == 0 || d == 0) {
        snprintf(err, errlen, "no words in the unlabelled text");
        rc = NAHR_EINVAL;
        goto done;
    }
    cc.vec = calloc(nv * d, sizeof *cc.vec);
    hash = malloc(nv * sizeof *hash);
    c1 = calloc(nv + 1, 2), c2 = calloc(nv + 1, 2), c3 = calloc(nv + 1, 2);
    idx = malloc((nv + 1) * sizeof *idx), tmp = malloc((nv + 1) * sizeof *tmp);
    if (!cc.vec || !hash || !c1 || !c2 || !c3 || !idx || !tmp)
        goto done;
    for (size_t i = 0; i < nv; i++) {
        hash[i] = all[i].hash;
        if (ner_set_put(&cc.vocab, all[i].hash, i + 1, 0) != 0)
            goto done;
    }
    for (size_t i = 0; i < cc.nctx; i++)
        if (ner_set_put(&cc.ctx, all[i].hash, i + 1, 0) != 0)
            goto done;
    if ((rc = ner_for_each_article(files, nfiles, count_contexts, &cc, err, errlen)) != 0)
        goto done;
    /* Hellinger-style: square roots of the counts, then unit length */
    for (size_t i = 0; i < nv; i++) {
        float *row = cc.vec + i * d;
        double norm = 0;
        for (size_t j = 0; j < d; j++) {
            row[j] = sqrtf(row[j]);
            norm += (double)row[j] * row[j];
        }
        norm = norm > 0 ? sqrt(norm) : 1;
        for (size_t j = 0; j < d; j++)
            row[j] = (float)(row[j] / norm);
    }
    rc = cluster_rows(m, cc.vec, hash, nv, d, seed, c1, c2, c3, idx, tmp);
done:
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory clustering the unlabelled text");
    ner_set_free(&freq);
    ner_set_free(&cc.vocab);
    ner_set_free(&cc.ctx);
    free(cc.vec);
    free(all);
    free(hash);
    free(c1);
    free(c2);
    free(c3);
    free(idx);
    free(tmp);
    return rc;
}

/* ---- unlabelled text as tokens, for external word-vector tools ---- */

static int write_tokens(const char *text, const nahr_token *toks, const uint32_t *h, size_t n,
                        void *arg)
{
    FILE *out = arg;
    char norm[NER_MAXTOKB + 1];
    (void)h;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        ner_word_hash(text + toks[i].start, toks[i].end - toks[i].start, norm, &k);
        for (size_t j = 0; j < k; j++) /* a token never holds white space */
            if (norm[j] == ' ' || norm[j] == '\t' || norm[j] == '\n' || norm[j] == '\r')
                norm[j] = '_';
        if (k && fwrite(norm, 1, k, out) != k)
            return NAHR_EIO;
        if (fputc(i + 1 < n ? ' ' : '\n', out) == EOF)
            return NAHR_EIO;
    }
    return 0;
}

long ner_unlabelled_write(const char *const *files, size_t nfiles, FILE *out, char *err,
                          size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    int rc = ner_for_each_article(files, nfiles, write_tokens, out, err, errlen);
    if (rc == NAHR_EIO && errlen && !err[0])
        snprintf(err, errlen, "cannot write the token file");
    return rc;
}
