/* ner_train.c - averaged structured perceptron training (Collins 2002)
 * with the lazy-averaging trick: w_avg = w - u / c, where every update d at
 * step c adds d to w and c*d to u; or (--learner crf) a linear-chain CRF
 * on the same features, trained by stochastic gradient descent on the
 * L2-regularised negative log-likelihood. Both end as the same weight
 * table (ner_model_set_weights), decoded by the same Viterbi. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ner_internal.h"

/* the --bilou experiment (below): BILOU tags at most; row BL_MAXT of its
 * transitions is the start */
#define BL_MAXT NER_BILOU_NTAGS
static unsigned bl_bio1(unsigned t);
static void bl_viterbi(unsigned nt, const float *emit, const float trans[BL_MAXT + 1][BL_MAXT],
                       size_t n, uint8_t *bp, uint8_t *out);

typedef struct trainer {
    ner_set index; /* feature -> row */
    int32_t *w;    /* rows x stride */
    int64_t *u;
    size_t rows, cap;
    /* transitions; row NER_NTAGS (BL_MAXT with bl) is the start */
    int32_t tw[BL_MAXT + 1][BL_MAXT];
    int64_t tu[BL_MAXT + 1][BL_MAXT];
    int64_t c; /* update step, starts at 1 */
    /* a perceptron of the --bilou experiment (bl set by run_epochs_bl): nt
     * tags (BL_MAXT, or NER_NTAGS for the check), decoded by bl_viterbi;
     * with share a feature also has one weight per BIO tag, added to the
     * weights of the BILOU tags it maps to (B, U: B-X; I, L: I-X) */
    int bl, share;
    unsigned nt, stride; /* tags; weights of a row: nt, or with share nt + NER_NTAGS */
    /* CRF (crf set): the weights are cs * cv (rows x NER_NTAGS) and cs * ct;
     * the L2 decay of every step multiplies the scale cs alone (Bottou's
     * trick: a step costs the features of the sentence, not all weights).
     * Step t has size eta0 / (1 + lam eta0 t), lam = c2 / N for N training
     * sentences (per-sentence share of the L2 term). With avg, the model
     * is the mean of the weights after every step (averaged SGD): with
     * cS = the sum of the scales so far, a change d of cv at a step when
     * cS was S adds d S to ca, and the mean is (cS cv - ca) / t (the
     * perceptron's lazy averaging with the scale in place of the step),
     * t_avg the steps averaged: those from the second epoch on (avg_from),
     * the first one's weights being far from the optimum. */
    int crf, avg;
    double *cv, *ca;
    double ct[NER_NTAGS + 1][NER_NTAGS], cta[NER_NTAGS + 1][NER_NTAGS];
    double cs, cS, eta0, lam;
    uint64_t t, t_avg, avg_from;
    double nll;   /* sum of the sentences' negative log-likelihoods this epoch */
    double *cbuf; /* scratch: emissions, marginals, forward-backward */
    long *crow;   /* scratch: the rows of a sentence's features */
    size_t cbuf_n, crow_n;
} trainer;

static double trainer_weight(const trainer *tr, size_t k)
{
    if (!tr->crf)
        return tr->w[k] - (double)tr->u[k] / (double)tr->c;
    if (!tr->avg)
        return tr->cs * tr->cv[k];
    return tr->t_avg ? (tr->cS * tr->cv[k] - tr->ca[k]) / (double)tr->t_avg : tr->cs * tr->cv[k];
}

static double trainer_trans(const trainer *tr, unsigned a, unsigned b)
{
    if (!tr->crf)
        return tr->tw[a][b] - (double)tr->tu[a][b] / (double)tr->c;
    if (!tr->avg)
        return tr->cs * tr->ct[a][b];
    return tr->t_avg ? (tr->cS * tr->ct[a][b] - tr->cta[a][b]) / (double)tr->t_avg
                     : tr->cs * tr->ct[a][b];
}

/* Adds d to row r's weight of tag t (with share, to its BIO tag's too). */
static inline void perceptron_update(trainer *tr, size_t r, unsigned t, int d)
{
    tr->w[r * tr->stride + t] += d;
    tr->u[r * tr->stride + t] += d * tr->c;
    if (tr->share) {
        tr->w[r * tr->stride + tr->nt + bl_bio1(t)] += d;
        tr->u[r * tr->stride + tr->nt + bl_bio1(t)] += d * tr->c;
    }
}

static void trainer_free(trainer *tr)
{
    ner_set_free(&tr->index);
    free(tr->w);
    free(tr->u);
    free(tr->cv);
    free(tr->ca);
    free(tr->cbuf);
    free(tr->crow);
    memset(tr, 0, sizeof *tr);
}

/* Empties tr for a new model of learner o->learner on nsent sentences. */
static void trainer_reset(trainer *tr, const ner_train_opts *o, size_t nsent)
{
    trainer_free(tr);
    tr->c = 1;
    tr->nt = tr->stride = NER_NTAGS;
    if (o->learner == NER_LEARN_CRF) {
        tr->crf = 1;
        tr->avg = !o->crf_plain;
        tr->avg_from = nsent;
        tr->cs = 1;
        tr->eta0 = o->crf_eta > 0 ? o->crf_eta : NER_CRF_ETA;
        tr->lam = (o->crf_c2 > 0 ? o->crf_c2 : NER_CRF_C2) / (double)(nsent ? nsent : 1);
    }
}

/* Row of feature key, created when create is set; -1 when absent. */
static long trainer_row(trainer *tr, uint32_t key, int create)
{
    const uint64_t *v = ner_set_get(&tr->index, key);
    if (v)
        return (long)*v;
    if (!create)
        return -1;
    if (tr->rows == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 65536;
        if (tr->crf) {
            double *cv = realloc(tr->cv, cap * NER_NTAGS * sizeof *cv);
            if (cv)
                tr->cv = cv;
            double *ca = tr->avg ? realloc(tr->ca, cap * NER_NTAGS * sizeof *ca) : NULL;
            if (ca)
                tr->ca = ca;
            if (!cv || (tr->avg && !ca))
                return -2;
        } else {
            int32_t *w = realloc(tr->w, cap * tr->stride * sizeof *w);
            if (w)
                tr->w = w;
            int64_t *u = realloc(tr->u, cap * tr->stride * sizeof *u);
            if (u)
                tr->u = u;
            if (!w || !u)
                return -2;
        }
        tr->cap = cap;
    }
    if (ner_set_put(&tr->index, key, tr->rows, 0) != 0)
        return -2;
    if (tr->crf) {
        memset(tr->cv + tr->rows * NER_NTAGS, 0, NER_NTAGS * sizeof *tr->cv);
        if (tr->avg)
            memset(tr->ca + tr->rows * NER_NTAGS, 0, NER_NTAGS * sizeof *tr->ca);
    } else {
        memset(tr->w + tr->rows * tr->stride, 0, tr->stride * sizeof *tr->w);
        memset(tr->u + tr->rows * tr->stride, 0, tr->stride * sizeof *tr->u);
    }
    return (long)tr->rows++;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Precomputed features of the corpus: token i has feats[off[i] .. off[i+1]). */
typedef struct featcache {
    uint32_t *feats;
    size_t *off;
} featcache;

/* Adds the entity chunks of sentences [s0, s1) to the dictionary bits of
 * gaz: the phrase as written, and with its first word's shortest proclitic
 * strip (so والمانيا also teaches المانيا). */
static int dict_add(ner_set *gaz, unsigned *maxlen, const ner_corpus *c, const uint8_t *gold,
                    size_t s0, size_t s1)
{
    char norm[NER_MAXTOKB + 1];
    for (size_t s = s0; s < s1; s++) {
        size_t a = c->sent[s], b = c->sent[s + 1];
        for (size_t i = a; i < b;) {
            unsigned ty = gold[i] ? (gold[i] + 1u) / 2u : 0;
            if (!ty) {
                i++;
                continue;
            }
            size_t j = i + 1;
            while (j < b && gold[j] && !(gold[j] & 1u) && (gold[j] + 1u) / 2u == ty)
                j++;
            if (j - i <= NER_GAZ_MAXLEN) {
                size_t nlen, splits[NER_MAXSPLIT];
                ner_word_hash(c->text + c->toks[i].start, c->toks[i].end - c->toks[i].start, norm,
                              &nlen);
                size_t ns = nahr_ar_proclitic_splits(norm, nlen, splits, NER_MAXSPLIT);
                uint32_t wh[NER_GAZ_MAXLEN];
                for (size_t t = i + 1; t < j; t++)
                    wh[t - i] = ner_word_hash(c->text + c->toks[t].start,
                                              c->toks[t].end - c->toks[t].start, NULL, NULL);
                for (size_t k = 0; k < (ns > 2 ? 2 : ns ? ns : 1); k++) {
                    size_t off = ns ? splits[k] : 0;
                    wh[0] = ner_hash_bytes(norm + off, nlen - off);
                    if (ner_gaz_add(gaz, wh, j - i, 16u << (ty - 1)) != 0)
                        return NAHR_ENOMEM;
                }
                if (j - i > *maxlen)
                    *maxlen = (unsigned)(j - i);
            }
            i = j;
        }
    }
    return 0;
}

/* The history of a sentence in training: the first-pass tags of the
 * sentences before it in its pseudo-article (the corpus cut into blocks of
 * `window` sentences, so that, as on real articles, the first sentences
 * have little or no history). NULL: no history features. */
typedef struct hist_src {
    const uint8_t *tags;
    const uint32_t *word, *stem;
    const uint8_t *punct;
    size_t window;
    ner_hist *h;
    ner_hist *later; /* doc2: the entity types of the sentences after */
    int doc2;    /* two-sided: also the entity types of the sentences after */
    size_t nfit; /* with doc2: a sentence before nfit sees no sentence from nfit on */
} hist_src;

static void hist_window(const ner_corpus *c, const hist_src *hs, size_t s)
{
    size_t w0 = s - s % hs->window;
    ner_hist_refill(hs->h, hs->word, hs->stem, hs->punct, hs->tags, c->sent[w0], c->sent[s]);
    if (!hs->doc2)
        return;
    /* what the second pass at run time reads (ner_doc_after): the entity
     * types of the later sentences of the pseudo-article (those the history
     * has are dropped by ner_hist_mark_after) */
    size_t w1 = w0 + hs->window, lim = s < hs->nfit ? hs->nfit : c->nsent;
    if (w1 > lim)
        w1 = lim;
    ner_hist_reset(hs->later);
    for (size_t j = c->sent[s + 1]; w1 > s + 1 && j < c->sent[w1]; j++)
        if (!hs->punct[j] && hs->tags[j])
            ner_hist_put(hs->later, hs->word[j], hs->stem[j], hs->tags[j]);
}

/* Features of sentences [s0, s1) appended to fc (k = next free slot). */
static int featcache_range(const ner_model *m, const ner_corpus *c, size_t s0, size_t s1,
                           featcache *fc, size_t *k, size_t *cap, ner_tokdesc *d,
                           const hist_src *hs)
{
    /* NER_F_ACTX, NER_F_TOPIC: the article context of the sentence's pseudo-article
     * (m->hist_window sentences, as ner_tag_corpus_doc cuts a corpus; 0: the
     * sentence alone), label-free: the run-time pass over those sentences */
    ner_actx *ax = NULL;
    size_t ablock = SIZE_MAX, aw = m->hist_window ? m->hist_window : 1;
    if ((m->flags & NER_F_ARTICLE) && !(ax = malloc(sizeof *ax)))
        return NAHR_ENOMEM;
    for (size_t s = s0; s < s1; s++) {
        size_t a = c->sent[s], n = c->sent[s + 1] - a;
        if (ax && s / aw != ablock) {
            ablock = s / aw;
            ner_actx_reset(ax);
            for (size_t q = ablock * aw; q < (ablock + 1) * aw && q < c->nsent; q++) {
                size_t qa = c->sent[q], qn = c->sent[q + 1] - qa;
                ner_describe(m, c->text, c->toks + qa, qn, d);
                ner_actx_add_sentence(ax, m, d, qn);
            }
        }
        ner_describe(m, c->text, c->toks + a, n, d);
        if (ax)
            ner_actx_mark(ax, n, d);
        if (hs) {
            hist_window(c, hs, s);
            ner_hist_mark(hs->h, n, d);
            if (hs->doc2)
                ner_hist_mark_after(hs->later, n, d);
        }
        for (size_t i = 0; i < n; i++) {
            if (*k + NER_MAXF > *cap) {
                *cap *= 2;
                uint32_t *nf = realloc(fc->feats, *cap * sizeof *nf);
                if (!nf) {
                    free(ax);
                    return NAHR_ENOMEM;
                }
                fc->feats = nf;
            }
            fc->off[a + i] = *k;
            *k += ner_features(m, d, n, i, fc->feats + *k);
        }
    }
    free(ax);
    return 0;
}

/* (Re)allocates fc's arrays for the tokens of c (*cap feature slots to start
 * with) and returns a description buffer for its longest sentence; NULL on
 * out-of-memory (fc->off or fc->feats may be NULL too: the caller checks). */
static ner_tokdesc *featcache_alloc(featcache *fc, const ner_corpus *c, size_t *cap)
{
    size_t maxlen = ner_corpus_maxlen(c);
    free(fc->off);
    free(fc->feats);
    fc->off = malloc((c->ntok + 1) * sizeof *fc->off);
    *cap = c->ntok * 40 + 64;
    fc->feats = malloc(*cap * sizeof *fc->feats);
    return malloc(maxlen * sizeof(ner_tokdesc));
}

/* Features of the whole corpus. With the dictionary, sentences [0, nfit)
 * are cut into NER_DICT_FOLDS contiguous folds and each fold sees the
 * dictionary of the other folds only (so the feature is as reliable in
 * training as on unseen text); sentences from nfit on, and the model m
 * afterwards, see the dictionary of all of [0, nfit). base = the
 * gazetteers without dictionary entries. */
static int featcache_build(ner_model *m, const ner_set *base, unsigned base_maxlen,
                           const ner_corpus *c, const uint8_t *gold, size_t nfit, int dict,
                           featcache *fc, const hist_src *hs, const ner_set *news)
{
    size_t cap, k = 0;
    ner_tokdesc *d = featcache_alloc(fc, c, &cap);
    int rc = NAHR_ENOMEM;
    if (!d || !fc->off || !fc->feats)
        goto done;
    if (dict || news) {
        /* news: news[f] for fold f, news[NER_DICT_FOLDS] for the rest (the
         * tables first_pass makes, over the same folds) */
        if (dict)
            m->flags |= NER_F_DICT;
        for (unsigned f = 0; f < NER_DICT_FOLDS; f++) {
            size_t a = nfit * f / NER_DICT_FOLDS, b = nfit * (f + 1) / NER_DICT_FOLDS;
            m->gaz_maxlen = base_maxlen;
            if (dict && ((rc = ner_set_copy(&m->gaz, base)) != 0 ||
                         (rc = dict_add(&m->gaz, &m->gaz_maxlen, c, gold, 0, a)) != 0 ||
                         (rc = dict_add(&m->gaz, &m->gaz_maxlen, c, gold, b, nfit)) != 0))
                goto done;
            if (news && (rc = ner_set_copy(&m->news, &news[f])) != 0)
                goto done;
            if ((rc = featcache_range(m, c, a, b, fc, &k, &cap, d, hs)) != 0)
                goto done;
        }
        m->gaz_maxlen = base_maxlen;
        if (dict && ((rc = ner_set_copy(&m->gaz, base)) != 0 ||
                     (rc = dict_add(&m->gaz, &m->gaz_maxlen, c, gold, 0, nfit)) != 0))
            goto done;
        if (news && (rc = ner_set_copy(&m->news, &news[NER_DICT_FOLDS])) != 0)
            goto done;
        if ((rc = featcache_range(m, c, nfit, c->nsent, fc, &k, &cap, d, hs)) != 0)
            goto done;
    } else if ((rc = featcache_range(m, c, 0, c->nsent, fc, &k, &cap, d, hs)) != 0) {
        goto done;
    }
    fc->off[c->ntok] = k;
    rc = 0;
done:
    free(d);
    return rc;
}

static int count_feats(ner_set *cnt, const uint32_t *f, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const uint64_t *v = ner_set_get(cnt, f[k]);
        if (ner_set_put(cnt, f[k], v ? *v + 1 : 1, 0) != 0)
            return NAHR_ENOMEM;
    }
    return 0;
}

static void keep_counted(const ner_set *cnt, featcache *fc, size_t ntok, unsigned mincount)
{
    size_t w = 0;
    for (size_t i = 0; i < ntok; i++) {
        size_t a = fc->off[i], b = fc->off[i + 1];
        fc->off[i] = w;
        for (size_t k = a; k < b; k++) {
            const uint64_t *v = ner_set_get(cnt, fc->feats[k]);
            if (v && *v >= mincount)
                fc->feats[w++] = fc->feats[k];
        }
    }
    fc->off[ntok] = w;
}

/* Drops from the cache every feature seen fewer than mincount times in the
 * tokens [0, ntok_fit) (and in the xntok tokens of xfc, which is filtered
 * the same way; NULL: none). */
static int featcache_min_count2(featcache *fc, size_t ntok, size_t ntok_fit, unsigned mincount,
                                featcache *xfc, size_t xntok)
{
    if (mincount <= 1)
        return 0;
    ner_set cnt = {0};
    if (count_feats(&cnt, fc->feats, fc->off[ntok_fit]) != 0 ||
        (xfc && count_feats(&cnt, xfc->feats, xfc->off[xntok]) != 0)) {
        ner_set_free(&cnt);
        return NAHR_ENOMEM;
    }
    keep_counted(&cnt, fc, ntok, mincount);
    if (xfc)
        keep_counted(&cnt, xfc, xntok, mincount);
    ner_set_free(&cnt);
    return 0;
}

static int featcache_min_count(featcache *fc, size_t ntok, size_t ntok_fit, unsigned mincount)
{
    return featcache_min_count2(fc, ntok, ntok_fit, mincount, NULL, 0);
}

/* Features of every sentence of x as m describes them (no history). */
static int featcache_plain(const ner_model *m, const ner_corpus *x, featcache *fc)
{
    size_t cap, k = 0;
    ner_tokdesc *d = featcache_alloc(fc, x, &cap);
    int rc = NAHR_ENOMEM;
    if (d && fc->off && fc->feats &&
        (rc = featcache_range(m, x, 0, x->nsent, fc, &k, &cap, d, NULL)) == 0)
        fc->off[x->ntok] = k;
    free(d);
    return rc;
}

static void featcache_free(featcache *fc)
{
    free(fc->feats);
    free(fc->off);
}

/* Writes the averaged weights of tr into m (quantised, pruned). */
static int trainer_export(const trainer *tr, ner_model *m, double prune)
{
    double maxabs = 0;
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++)
            m->trans[a][b] = (float)trainer_trans(tr, a, b);
    for (size_t r = 0; r < tr->rows * NER_NTAGS; r++) {
        double v = fabs(trainer_weight(tr, r));
        if (v > maxabs)
            maxabs = v;
    }
    float scale = maxabs > 0 ? (float)(maxabs / 32767.0) : 1.0f;
    uint32_t *keys = malloc((tr->rows + 1) * sizeof *keys);
    int16_t *w = malloc((tr->rows + 1) * NER_NTAGS * sizeof *w);
    if (!keys || !w) {
        free(keys);
        free(w);
        return NAHR_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i <= tr->index.mask && tr->index.mask; i++) {
        if (!tr->index.keys[i])
            continue;
        size_t r = (size_t)tr->index.vals[i];
        int keep = 0;
        for (unsigned t = 0; t < NER_NTAGS; t++) {
            double v = trainer_weight(tr, r * NER_NTAGS + t);
            long q = lrint(v / scale);
            if (q > 32767)
                q = 32767;
            if (q < -32767)
                q = -32767;
            w[n * NER_NTAGS + t] = (int16_t)q;
            if (q != 0 && fabs(v) >= prune)
                keep = 1;
        }
        if (keep)
            keys[n++] = tr->index.keys[i];
    }
    int rc = ner_model_set_weights(m, keys, w, n, scale);
    free(keys);
    free(w);
    return rc;
}

/* The mean of the averaged weights of k trainers (shuffled differently)
 * into m: a linear ensemble, as cheap to run as one model. coef (NULL: the
 * mean) weighs each trainer (--learner mix). */
static int trainers_export(const trainer *tr, int k, const double *coef, ner_model *m,
                           double prune)
{
    if (k == 1 && !coef)
        return trainer_export(tr, m, prune);
    ner_set idx = {0};
    size_t rows = 0, cap = 0;
    for (int e = 0; e < k; e++)
        cap += tr[e].rows;
    double *acc = calloc((cap + 1) * NER_NTAGS, sizeof *acc);
    uint32_t *keys = malloc((cap + 1) * sizeof *keys);
    int16_t *w = malloc((cap + 1) * NER_NTAGS * sizeof *w);
    int rc = NAHR_ENOMEM;
    if (!acc || !keys || !w || ner_set_reserve(&idx, cap + 1) != 0)
        goto done;
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++) {
            double t = 0;
            for (int e = 0; e < k; e++)
                t += coef ? trainer_trans(&tr[e], a, b) * coef[e] : trainer_trans(&tr[e], a, b);
            m->trans[a][b] = (float)(coef ? t : t / k);
        }
    for (int e = 0; e < k; e++) {
        for (size_t i = 0; tr[e].index.mask && i <= tr[e].index.mask; i++) {
            uint32_t key = tr[e].index.keys[i];
            if (!key)
                continue;
            const uint64_t *v = ner_set_get(&idx, key);
            size_t row;
            if (v) {
                row = (size_t)*v;
            } else {
                row = rows++;
                keys[row] = key;
                if (ner_set_put(&idx, key, row, 0) != 0)
                    goto done;
            }
            size_t r = (size_t)tr[e].index.vals[i];
            for (unsigned t = 0; t < NER_NTAGS; t++)
                acc[row * NER_NTAGS + t] += coef ? trainer_weight(&tr[e], r * NER_NTAGS + t) * coef[e]
                                                 : trainer_weight(&tr[e], r * NER_NTAGS + t) / k;
        }
    }
    double maxabs = 0;
    for (size_t i = 0; i < rows * NER_NTAGS; i++)
        if (fabs(acc[i]) > maxabs)
            maxabs = fabs(acc[i]);
    float scale = maxabs > 0 ? (float)(maxabs / 32767.0) : 1.0f;
    size_t n = 0;
    for (size_t r = 0; r < rows; r++) {
        int keep = 0;
        for (unsigned t = 0; t < NER_NTAGS; t++) {
            double v = acc[r * NER_NTAGS + t];
            long q = lrint(v / scale);
            q = q > 32767 ? 32767 : q < -32767 ? -32767 : q;
            w[n * NER_NTAGS + t] = (int16_t)q;
            if (q != 0 && fabs(v) >= prune)
                keep = 1;
        }
        if (keep)
            keys[n++] = keys[r];
    }
    rc = ner_model_set_weights(m, keys, w, n, scale);
done:
    ner_set_free(&idx);
    free(acc);
    free(keys);
    free(w);
    return rc;
}

/* --learner mix: how far apart the scores of the tags are under the mean
 * of trainers tr[0..k): the root of the mean over (a sample of) the tokens
 * [0, ntok) of fc of the variance of the tags' emission scores. A model's
 * decisions do not change with its scale; this puts two models on one. */
static double score_spread(const trainer *tr, int k, const featcache *fc, size_t ntok)
{
    double sum = 0;
    size_t step = ntok > 20000 ? ntok / 20000 : 1, cnt = 0;
    for (size_t i = 0; i < ntok; i += step, cnt++) {
        double e[NER_NTAGS] = {0}, mean = 0;
        for (int j = 0; j < k; j++)
            for (size_t f = fc->off[i]; f < fc->off[i + 1]; f++) {
                const uint64_t *r = ner_set_get(&tr[j].index, fc->feats[f]);
                for (unsigned t = 0; r && t < NER_NTAGS; t++)
                    e[t] += trainer_weight(&tr[j], (size_t)*r * NER_NTAGS + t) / k;
            }
        for (unsigned t = 0; t < NER_NTAGS; t++)
            mean += e[t] / NER_NTAGS;
        for (unsigned t = 0; t < NER_NTAGS; t++)
            sum += (e[t] - mean) * (e[t] - mean) / NER_NTAGS;
    }
    return cnt && sum > 0 ? sqrt(sum / (double)cnt) : 1;
}

static void score_trans(const trainer *tr, float t[NER_NTAGS + 1][NER_NTAGS])
{
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++)
            t[a][b] = (float)tr->tw[a][b];
}

double ner_crf_loglik(const double *emit, const double trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                      const uint8_t *gold, double *marg, double pair[NER_NTAGS + 1][NER_NTAGS],
                      double *work)
{
    enum { T = NER_NTAGS };
    double *alpha = work, *beta = work + n * T, *z = work + 2 * n * T;
    double et[T + 1][T], tmax = -HUGE_VAL;
    if (n == 0)
        return 0;
    /* every sequence has n transitions (the first from the start row):
     * taking the largest one out of all of them keeps exp() in range */
    for (unsigned a = 0; a <= T; a++)
        for (unsigned b = 0; b < T; b++)
            if (ner_bio_allowed(a, b) && trans[a][b] > tmax)
                tmax = trans[a][b];
    for (unsigned a = 0; a <= T; a++)
        for (unsigned b = 0; b < T; b++)
            et[a][b] = ner_bio_allowed(a, b) ? exp(trans[a][b] - tmax) : 0;
    /* forward, each alpha row normalised to sum 1 (z[i] = its sum before);
     * marg holds the emission potentials psi until the backward pass */
    double logz = 0;
    for (size_t i = 0; i < n; i++) {
        const double *e = emit + i * T;
        double mx = e[0], zi = 0;
        for (unsigned t = 1; t < T; t++)
            if (e[t] > mx)
                mx = e[t];
        for (unsigned b = 0; b < T; b++) {
            double psi = exp(e[b] - mx), s = 0;
            if (i == 0) {
                s = et[T][b];
            } else {
                for (unsigned a = 0; a < T; a++)
                    s += alpha[(i - 1) * T + a] * et[a][b];
            }
            marg[i * T + b] = psi;
            alpha[i * T + b] = s * psi;
            zi += s * psi;
        }
        z[i] = zi;
        for (unsigned b = 0; b < T; b++)
            alpha[i * T + b] /= zi;
        logz += log(zi) + mx + tmax;
    }
    /* backward, with the same normalisers: sum_t alpha[i][t] beta[i][t] = 1 */
    for (unsigned t = 0; t < T; t++)
        beta[(n - 1) * T + t] = 1;
    for (size_t i = n - 1; i > 0; i--) {
        const double *psi = marg + i * T, *bn = beta + i * T, *ap = alpha + (i - 1) * T;
        for (unsigned a = 0; a < T; a++) {
            double s = 0;
            for (unsigned b = 0; b < T; b++) {
                double q = et[a][b] * psi[b] * bn[b] / z[i];
                s += q;
                pair[a][b] += ap[a] * q;
            }
            beta[(i - 1) * T + a] = s;
        }
        for (unsigned t = 0; t < T; t++)
            marg[i * T + t] = alpha[i * T + t] * bn[t];
    }
    for (unsigned t = 0; t < T; t++) {
        marg[t] = alpha[t] * beta[t];
        pair[T][t] += marg[t];
    }
    double score = 0;
    for (size_t i = 0; i < n; i++)
        score += emit[i * T + gold[i]] + trans[i ? gold[i - 1] : T][gold[i]];
    return score - logz;
}

/* One SGD step of the CRF on sentence [a, a+n) (see trainer). Returns 1
 * when the tags of highest marginal differ from gold somewhere, 0 when
 * not, negative on error. */
static int crf_sentence(trainer *tr, const featcache *fc, const uint8_t *gold, size_t a, size_t n)
{
    enum { T = NER_NTAGS };
    size_t f0 = fc->off[a], nf = fc->off[a + n] - f0;
    if (ner_grow((void **)&tr->cbuf, &tr->cbuf_n, n * (4 * T + 1), sizeof *tr->cbuf) != 0 ||
        ner_grow((void **)&tr->crow, &tr->crow_n, nf + 1, sizeof *tr->crow) != 0)
        return NAHR_ENOMEM;
    double *emit = tr->cbuf, *marg = emit + n * T, *work = marg + n * T;
    for (size_t k = 0; k < nf; k++) { /* every feature gets a gradient: rows for all */
        long r = trainer_row(tr, fc->feats[f0 + k], 1);
        if (r < 0)
            return NAHR_ENOMEM;
        tr->crow[k] = r;
    }
    double trans[T + 1][T], pair[T + 1][T];
    for (unsigned x = 0; x <= T; x++)
        for (unsigned y = 0; y < T; y++) {
            trans[x][y] = tr->cs * tr->ct[x][y];
            pair[x][y] = 0;
        }
    for (size_t i = 0; i < n; i++) {
        double acc[T] = {0};
        for (size_t k = fc->off[a + i] - f0; k < fc->off[a + i + 1] - f0; k++) {
            const double *v = tr->cv + (size_t)tr->crow[k] * T;
            for (unsigned t = 0; t < T; t++)
                acc[t] += v[t];
        }
        for (unsigned t = 0; t < T; t++)
            emit[i * T + t] = tr->cs * acc[t];
    }
    tr->nll -= ner_crf_loglik(emit, (const double(*)[T])trans, n, gold + a, marg, pair, work);
    /* the step: decay (the scale), then the gradient of the log-likelihood */
    if (tr->avg && tr->t == tr->avg_from) { /* the mean starts here */
        memset(tr->ca, 0, tr->rows * T * sizeof *tr->ca);
        memset(tr->cta, 0, sizeof tr->cta);
        tr->cS = 0;
        tr->t_avg = 0;
    }
    tr->t_avg++;
    double eta = tr->eta0 / (1 + tr->lam * tr->eta0 * (double)tr->t++);
    tr->cs *= 1 - eta * tr->lam;
    if (tr->cs < 1e-9) { /* fold the scale into the weights */
        for (size_t k = 0; k < tr->rows * T; k++)
            tr->cv[k] *= tr->cs;
        for (unsigned x = 0; x <= T; x++)
            for (unsigned y = 0; y < T; y++)
                tr->ct[x][y] *= tr->cs;
        tr->cS /= tr->cs; /* the sum of the scales so far, in the new unit */
        tr->cs = 1;
    }
    double step = eta / tr->cs, sum = tr->cS; /* the scales before this step */
    tr->cS += tr->cs;
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned g = gold[a + i], best = 0;
        double d[T], big = 0;
        for (unsigned t = 0; t < T; t++) {
            d[t] = step * ((t == g) - marg[i * T + t]);
            big = fabs(d[t]) > big ? fabs(d[t]) : big;
            if (marg[i * T + t] > marg[i * T + best])
                best = t;
        }
        wrong |= best != g;
        if (big < 1e-7 * step)
            continue; /* the token is learnt: its gradient is too small to matter */
        for (size_t k = fc->off[a + i] - f0; k < fc->off[a + i + 1] - f0; k++) {
            double *v = tr->cv + (size_t)tr->crow[k] * T;
            for (unsigned t = 0; t < T; t++)
                v[t] += d[t];
            if (tr->avg) {
                double *u = tr->ca + (size_t)tr->crow[k] * T;
                for (unsigned t = 0; t < T; t++)
                    u[t] += d[t] * sum;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        pair[i ? gold[a + i - 1] : T][gold[a + i]] -= 1;
    for (unsigned x = 0; x <= T; x++)
        for (unsigned y = 0; y < T; y++) {
            tr->ct[x][y] -= step * pair[x][y];
            tr->cta[x][y] -= step * pair[x][y] * sum;
        }
    return wrong;
}

/* One epoch's order of the sentences: order[0..n) shuffled (Fisher-Yates) by rng. */
static void shuffle(size_t *order, size_t n, uint64_t *rng)
{
    for (size_t k = n; k > 1; k--) {
        size_t j = (size_t)(splitmix64(rng) % k), tmp = order[k - 1];
        order[k - 1] = order[j];
        order[j] = tmp;
    }
}

/* The dev sentences [ntrain, c->nsent) of c as a corpus (its sent holds
 * absolute token indices, pred and gold index c's tokens). */
static ner_corpus dev_part(const ner_corpus *c, size_t ntrain)
{
    ner_corpus dev = *c;
    dev.sent = c->sent + ntrain;
    dev.nsent = c->nsent - ntrain;
    return dev;
}

/* Scores the tags pred of the dev sentences [ntrain, c->nsent) against c's
 * gold into *sc; returns F1, P and R in *p, *r. */
static double dev_score(const ner_corpus *c, size_t ntrain, const uint8_t *pred, ner_score *sc,
                        double *p, double *r)
{
    memset(sc, 0, sizeof *sc);
    for (size_t s = ntrain; s < c->nsent; s++)
        ner_score_add(sc, c->gold + c->sent[s], pred + c->sent[s], c->sent[s + 1] - c->sent[s]);
    return ner_score_prf(sc, 0, p, r);
}

/* dev_score, and the epoch's line in log (size: the model's size). */
static double dev_report(const ner_corpus *c, size_t ntrain, const uint8_t *pred, FILE *log,
                         const char *label, int ep, size_t wrong, const char *size, double secs)
{
    ner_score sc;
    double p, r, f = dev_score(c, ntrain, pred, &sc, &p, &r);
    if (log)
        fprintf(log,
                "%s epoch %2d: %zu/%zu sentences wrong, %s, dev P %.4f R %.4f F1 %.4f (PER %.4f "
                "LOC %.4f ORG %.4f MISC %.4f) %.1fs\n",
                label, ep, wrong, ntrain, size, p, r, f, ner_score_prf(&sc, 1, NULL, NULL),
                ner_score_prf(&sc, 2, NULL, NULL), ner_score_prf(&sc, 3, NULL, NULL),
                ner_score_prf(&sc, 4, NULL, NULL), secs);
    return f;
}

/* One perceptron step on sentence [a, a+n) (gold: tags of tr's set).
 * Returns 1 when it was wrong, 0 when right, negative on error. */
static int train_sentence(trainer *tr, const featcache *fc, const uint8_t *gold, size_t a,
                          size_t n, float *emit, uint8_t *bp, uint8_t *pred)
{
    if (tr->crf)
        return crf_sentence(tr, fc, gold, a, n);
    const unsigned nt = tr->nt, start = tr->bl ? BL_MAXT : NER_NTAGS;
    for (size_t i = 0; i < n; i++) {
        int32_t acc[BL_MAXT] = {0};
        for (size_t k = fc->off[a + i]; k < fc->off[a + i + 1]; k++) {
            long r = trainer_row(tr, fc->feats[k], 0);
            if (r < 0)
                continue;
            const int32_t *w = tr->w + (size_t)r * tr->stride;
            if (nt == NER_NTAGS) { /* a constant count (the model's training); no share */
                for (unsigned t = 0; t < NER_NTAGS; t++)
                    acc[t] += w[t];
                continue;
            }
            for (unsigned t = 0; t < nt; t++)
                acc[t] += w[t];
            for (unsigned t = 0; tr->share && t < nt; t++)
                acc[t] += w[nt + bl_bio1(t)];
        }
        for (unsigned t = 0; t < nt; t++)
            emit[i * nt + t] = (float)acc[t];
    }
    if (tr->bl) {
        float trans[BL_MAXT + 1][BL_MAXT];
        for (unsigned x = 0; x <= BL_MAXT; x++)
            for (unsigned y = 0; y < BL_MAXT; y++)
                trans[x][y] = (float)tr->tw[x][y];
        bl_viterbi(nt, emit, (const float(*)[BL_MAXT])trans, n, bp, pred);
    } else {
        float trans[NER_NTAGS + 1][NER_NTAGS];
        score_trans(tr, trans);
        ner_viterbi(emit, (const float(*)[NER_NTAGS])trans, n, bp, pred);
    }
    int wrong = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned g = gold[a + i], p = pred[i];
        unsigned gp = i ? gold[a + i - 1] : start, pp = i ? pred[i - 1] : start;
        if (g != p) {
            wrong = 1;
            for (size_t k = fc->off[a + i]; k < fc->off[a + i + 1]; k++) {
                long r = trainer_row(tr, fc->feats[k], 1);
                if (r < 0)
                    return NAHR_ENOMEM;
                perceptron_update(tr, (size_t)r, g, 1);
                perceptron_update(tr, (size_t)r, p, -1);
            }
        }
        if (g != p || gp != pp) {
            tr->tw[gp][g] += 1;
            tr->tu[gp][g] += tr->c;
            tr->tw[pp][p] -= 1;
            tr->tu[pp][p] -= tr->c;
        }
    }
    tr->c++;
    return wrong;
}

/* Runs `epochs` epochs over sentences [0, ntrain); after each, when dev
 * sentences exist, exports the averaged model to m and scores the dev part.
 * *best_epoch gets the epoch with the best dev F1 (the last one without dev). */
static int run_epochs(const ner_corpus *c, const uint8_t *gold, const featcache *fc,
                      size_t ntrain, const ner_corpus *x, const featcache *xfc,
                      const ner_train_opts *o, int epochs, ner_model *m, FILE *log,
                      int *best_epoch, double *best_f1, const char *label)
{
    const size_t nx = x ? x->nsent : 0, nall = ntrain + nx;
    trainer tr[NER_MAX_ENSEMBLE + 1];
    memset(tr, 0, sizeof tr);
    int nens = o->ensemble > 1 ? (o->ensemble > NER_MAX_ENSEMBLE ? NER_MAX_ENSEMBLE : o->ensemble) : 1;
    /* mix: the nens perceptrons and one CRF after them, half and half */
    const int mix = o->learner == NER_LEARN_MIX, nmod = nens + mix;
    uint64_t rngs[NER_MAX_ENSEMBLE + 1];
    for (int e = 0; e < nmod; e++) {
        ner_train_opts oe = *o;
        if (mix)
            oe.learner = e < nens ? NER_LEARN_PERCEPTRON : NER_LEARN_CRF;
        trainer_reset(&tr[e], &oe, nall);
        rngs[e] = o->seed + 0x1000193ull * (uint64_t)e;
    }
    size_t maxlen = ner_corpus_maxlen(c);
    for (size_t k = 0; k < nx; k++)
        if (x->sent[k + 1] - x->sent[k] > maxlen)
            maxlen = x->sent[k + 1] - x->sent[k];
    float *emit = malloc(maxlen * NER_NTAGS * sizeof *emit);
    uint8_t *bp = malloc(maxlen * NER_NTAGS);
    uint8_t *pred = malloc((c->ntok > maxlen ? c->ntok : maxlen) + 1);
    size_t *order = malloc((nall + 1) * sizeof *order);
    ner_slot *best = NULL;
    size_t best_mask = 0, best_nfeat = 0;
    float best_trans[NER_NTAGS + 1][NER_NTAGS], best_scale = 1;
    int rc = NAHR_ENOMEM;
    if (!emit || !bp || !pred || !order)
        goto done;
    for (size_t k = 0; k < nall; k++)
        order[k] = k;
    *best_epoch = 0;
    *best_f1 = -1;
    for (int ep = 1; ep <= epochs; ep++) {
        clock_t t0 = clock();
        size_t wrong = 0;
        for (int e = 0; e < nmod; e++) {
            shuffle(order, nall, &rngs[e]);
            for (size_t k = 0; k < nall; k++) {
                size_t s = order[k];
                int r;
                if (s < ntrain) {
                    size_t a = c->sent[s], n = c->sent[s + 1] - a;
                    r = train_sentence(&tr[e], fc, gold, a, n, emit, bp, pred);
                } else { /* a self-training sentence of the news */
                    size_t a = x->sent[s - ntrain], n = x->sent[s - ntrain + 1] - a;
                    r = train_sentence(&tr[e], xfc, x->gold, a, n, emit, bp, pred);
                }
                if (r < 0)
                    goto done;
                if (e == 0)
                    wrong += (size_t)r;
            }
        }
        const trainer *cr = &tr[nmod - 1];
        if (cr->crf && log) { /* the objective, as the epoch went (a CRF of the set) */
            double n2 = 0;
            for (size_t k = 0; k < cr->rows * NER_NTAGS; k++)
                n2 += cr->cs * cr->cv[k] * cr->cs * cr->cv[k];
            fprintf(log, "%s epoch %2d: CRF negative log-likelihood %.1f, |w|^2 %.1f, %zu rows\n",
                    label, ep, cr->nll, n2, cr->rows);
        }
        for (int e = 0; e < nmod; e++)
            tr[e].nll = 0;
        double coef[NER_MAX_ENSEMBLE + 1];
        if (mix) {
            double sp = score_spread(tr, nens, fc, c->sent[ntrain]);
            double sc = score_spread(tr + nens, 1, fc, c->sent[ntrain]);
            for (int e = 0; e < nens; e++)
                coef[e] = 0.5 / (sp * nens);
            coef[nens] = 0.5 / sc;
            if (log)
                fprintf(log, "%s epoch %2d: mix, score spread perceptrons %.4g, CRF %.4g\n", label,
                        ep, sp, sc);
        }
        if ((rc = trainers_export(tr, nmod, mix ? coef : NULL, m, o->prune)) != 0)
            goto done;
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (ntrain < c->nsent) {
            ner_corpus dev = dev_part(c, ntrain);
            if ((rc = ner_tag_corpus_doc(m, &dev, pred)) != 0)
                goto done;
            char size[64];
            snprintf(size, sizeof size, "%zu features", m->nfeat);
            double f = dev_report(c, ntrain, pred, log, label, ep, wrong, size, secs);
            if (f > *best_f1) {
                *best_f1 = f;
                *best_epoch = ep;
                free(best);
                best = malloc((m->mask + 1) * sizeof *best);
                if (!best) {
                    rc = NAHR_ENOMEM;
                    goto done;
                }
                memcpy(best, m->slots, (m->mask + 1) * sizeof *best);
                best_mask = m->mask;
                best_nfeat = m->nfeat;
                best_scale = m->scale;
                memcpy(best_trans, m->trans, sizeof best_trans);
            }
        } else {
            *best_epoch = ep;
            if (log)
                fprintf(log, "%s epoch %2d: %zu/%zu sentences wrong, %zu features, %.1fs\n", label,
                        ep, wrong, ntrain, m->nfeat, secs);
        }
        if (log)
            fflush(log);
    }
    if (best) { /* keep the best dev epoch */
        free(m->slots);
        m->slots = best;
        best = NULL;
        m->mask = best_mask;
        m->nfeat = best_nfeat;
        m->scale = best_scale;
        memcpy(m->trans, best_trans, sizeof best_trans);
    }
    rc = 0;
done:
    free(best);
    free(emit);
    free(bp);
    free(pred);
    free(order);
    for (int e = 0; e <= NER_MAX_ENSEMBLE; e++)
        trainer_free(&tr[e]);
    return rc;
}

/* What the news-evidence tables need besides the fold models. */
typedef struct news_src {
    const ner_news *news;
    unsigned min_count;
    int low;
    const ner_model *m; /* flags and clusters of the model being trained */
    const ner_set *base; /* gazetteers without the training-data dictionary */
    unsigned base_maxlen;
    int dict;
    uint8_t *agree; /* self-training: the first-pass models' tags of the news (NULL: none) */
    int keep;       /* a later round keeps the first round's tables; its models vote */
    ner_set tab[NER_DICT_FOLDS + 1];
} news_src;

/* The news-evidence table of a model trained on sentences [0, a) and
 * [b, nfit): the averaged weights of tr with the gazetteers and the
 * dictionary of those sentences, tagging the news. In a later round (prev
 * not NULL) the fold model also has the history (when the model being
 * trained has it) and the news evidence of table prev. */
static int news_table_with(news_src *ns, const trainer *tr, const ner_corpus *c,
                           const uint8_t *gold, size_t a, size_t b, size_t nfit,
                           const ner_set *prev, ner_set *out)
{
    ner_model t = {0};
    t.flags = ns->m->flags & ~(NER_F_HIST | NER_F_NEWS | NER_F_DOC2);
    ner_actx_triggers(&t);
    if (prev) {
        t.flags |= NER_F_NEWS | (ns->m->flags & NER_F_HIST);
        t.hist_window = ns->m->hist_window;
    }
    t.clusters = ns->m->clusters; /* shared: not freed here */
    t.lex = ns->m->lex;           /* shared: not freed here */
    t.gaz_maxlen = ns->base_maxlen;
    int rc = ner_set_copy(&t.gaz, ns->base);
    if (rc == 0 && prev)
        rc = ner_set_copy(&t.news, prev);
    if (rc == 0 && ns->dict && ((rc = dict_add(&t.gaz, &t.gaz_maxlen, c, gold, 0, a)) != 0 ||
                                (rc = dict_add(&t.gaz, &t.gaz_maxlen, c, gold, b, nfit)) != 0))
        goto done;
    if (rc == 0 && (rc = trainer_export(tr, &t, 0)) == 0)
        rc = ner_news_tables(&t, ns->news, ns->min_count,
                             ns->low ? ner_news_thresholds_low : ner_news_thresholds, out,
                             prev && !ns->keep ? NULL : ns->agree);
done:
    free(t.slots);
    free(t.filter);
    ner_set_free(&t.gaz);
    ner_set_free(&t.news);
    return rc;
}

/* Trains one perceptron `epochs` epochs on the sentences order[0..no). */
static int train_folds_model(trainer *tr, const ner_corpus *c, const uint8_t *gold,
                             const featcache *fc, size_t *order, size_t no, uint64_t seed,
                             const ner_train_opts *o, int epochs, float *emit, uint8_t *bp,
                             uint8_t *pred)
{
    uint64_t rng = seed;
    trainer_reset(tr, o, no);
    for (int ep = 0; ep < epochs; ep++) {
        for (size_t k = no; k > 1; k--) {
            size_t j = (size_t)(splitmix64(&rng) % k), tmp = order[k - 1];
            order[k - 1] = order[j];
            order[j] = tmp;
        }
        for (size_t k = 0; k < no; k++) {
            size_t s = order[k];
            if (train_sentence(tr, fc, gold, c->sent[s], c->sent[s + 1] - c->sent[s], emit, bp,
                               pred) < 0)
                return NAHR_ENOMEM;
        }
    }
    return 0;
}

/* The buffers of a loop over fold models (first_pass, news_round): emission
 * scores, back-pointers and tags of the longest sentence of c, and an order
 * of the nfit training sentences. Freed with fold_bufs_free() also after a
 * failed fold_bufs_alloc(). */
typedef struct fold_bufs {
    float *emit;
    uint8_t *bp, *pred;
    size_t *order;
} fold_bufs;

static int fold_bufs_alloc(fold_bufs *fb, const ner_corpus *c, size_t nfit)
{
    size_t maxlen = ner_corpus_maxlen(c);
    fb->emit = malloc(maxlen * NER_NTAGS * sizeof *fb->emit);
    fb->bp = malloc(maxlen * NER_NTAGS);
    fb->pred = malloc(maxlen);
    fb->order = malloc((nfit + 1) * sizeof *fb->order);
    return fb->emit && fb->bp && fb->pred && fb->order ? 0 : NAHR_ENOMEM;
}

static void fold_bufs_free(fold_bufs *fb)
{
    free(fb->emit);
    free(fb->bp);
    free(fb->pred);
    free(fb->order);
}

/* First-pass tags of sentences [0, nfit) for the prediction history (fp,
 * may be NULL): each of NER_DICT_FOLDS contiguous folds is tagged by a model
 * trained `epochs` epochs on the other folds (cached features without
 * history, averaged weights), so the history of a training sentence is as
 * noisy as on new text. Sentences from nfit on get O. With ns, the same
 * fold models tag the news: ns->tab[f] for fold f, and ns->tab[NER_DICT_FOLDS]
 * from a model trained on all of [0, nfit) (for the sentences from nfit on
 * and the final model). */
static int first_pass(const ner_corpus *c, const uint8_t *gold, const featcache *fc, size_t nfit,
                      const ner_train_opts *o, int epochs, uint8_t *fp, news_src *ns)
{
    trainer tr = {0};
    fold_bufs fb;
    int rc = fold_bufs_alloc(&fb, c, nfit);
    if (rc != 0)
        goto done;
    float *emit = fb.emit;
    uint8_t *bp = fb.bp, *pred = fb.pred;
    size_t *order = fb.order;
    if (fp)
        memset(fp, 0, c->ntok);
    for (unsigned f = 0; f < NER_DICT_FOLDS; f++) {
        size_t a = nfit * f / NER_DICT_FOLDS, b = nfit * (f + 1) / NER_DICT_FOLDS, no = 0;
        for (size_t s = 0; s < nfit; s++)
            if (s < a || s >= b)
                order[no++] = s;
        if ((rc = train_folds_model(&tr, c, gold, fc, order, no, o->seed + f, o, epochs, emit,
                                    bp, pred)) != 0)
            goto done;
        if (ns && (rc = news_table_with(ns, &tr, c, gold, a, b, nfit, NULL, &ns->tab[f])) != 0)
            goto done;
        rc = NAHR_ENOMEM;
        if (!fp)
            continue;
        float trans[NER_NTAGS + 1][NER_NTAGS];
        for (unsigned x = 0; x <= NER_NTAGS; x++)
            for (unsigned y = 0; y < NER_NTAGS; y++)
                trans[x][y] = (float)trainer_trans(&tr, x, y);
        for (size_t s = a; s < b; s++) {
            size_t t0 = c->sent[s], n = c->sent[s + 1] - t0;
            for (size_t i = 0; i < n; i++) {
                double acc[NER_NTAGS] = {0};
                for (size_t k = fc->off[t0 + i]; k < fc->off[t0 + i + 1]; k++) {
                    long r = trainer_row(&tr, fc->feats[k], 0);
                    if (r >= 0)
                        for (unsigned t = 0; t < NER_NTAGS; t++)
                            acc[t] += trainer_weight(&tr, (size_t)r * NER_NTAGS + t);
                }
                for (unsigned t = 0; t < NER_NTAGS; t++)
                    emit[i * NER_NTAGS + t] = (float)acc[t];
            }
            ner_viterbi(emit, (const float(*)[NER_NTAGS])trans, n, bp, fp + t0);
        }
    }
    if (ns) {
        for (size_t s = 0; s < nfit; s++)
            order[s] = s;
        if ((rc = train_folds_model(&tr, c, gold, fc, order, nfit, o->seed + NER_DICT_FOLDS, o,
                                    epochs, emit, bp, pred)) != 0 ||
            (rc = news_table_with(ns, &tr, c, gold, nfit, nfit, nfit, NULL,
                                  &ns->tab[NER_DICT_FOLDS])) != 0)
            goto done;
    }
    rc = 0;
done:
    trainer_free(&tr);
    fold_bufs_free(&fb);
    return rc;
}

/* A second round of news evidence: fold models trained like first_pass's,
 * but on the features of the first round (history and news evidence, fc),
 * tag the news again, each with the first-round table of its own fold
 * (made by a model that never saw that fold); their tables replace
 * ns->tab. A name the first models found only in easy contexts now has
 * evidence in the hard ones too, and the second round can find it there. */
static int news_round(const ner_corpus *c, const uint8_t *gold, const featcache *fc, size_t nfit,
                      const ner_train_opts *o, int epochs, news_src *ns, FILE *log)
{
    trainer tr = {0};
    ner_set next[NER_DICT_FOLDS + 1];
    memset(next, 0, sizeof next);
    fold_bufs fb;
    int rc = fold_bufs_alloc(&fb, c, nfit);
    if (rc != 0)
        goto done;
    float *emit = fb.emit;
    uint8_t *bp = fb.bp, *pred = fb.pred;
    size_t *order = fb.order;
    for (unsigned f = 0; f <= NER_DICT_FOLDS; f++) {
        size_t a = nfit * f / NER_DICT_FOLDS, b = nfit * (f + 1) / NER_DICT_FOLDS, no = 0;
        if (f == NER_DICT_FOLDS)
            a = b = nfit; /* all of [0, nfit) */
        for (size_t s = 0; s < nfit; s++)
            if (s < a || s >= b)
                order[no++] = s;
        if ((rc = train_folds_model(&tr, c, gold, fc, order, no, o->seed + f, o, epochs, emit,
                                    bp, pred)) != 0 ||
            (rc = news_table_with(ns, &tr, c, gold, a, b, nfit, &ns->tab[f], &next[f])) != 0)
            goto done;
    }
    if (ns->keep) { /* the round only votes for self-training */
        rc = 0;
        goto done;
    }
    if (log) { /* how far the table of the model on all of [0, nfit) moved */
        const ner_set *old = &ns->tab[NER_DICT_FOLDS], *now = &next[NER_DICT_FOLDS];
        size_t changed = 0;
        for (size_t i = 0; now->mask && i <= now->mask; i++) {
            const uint64_t *v = now->keys[i] ? ner_set_get(old, now->keys[i]) : NULL;
            changed += now->keys[i] && (!v || *v != now->vals[i]);
        }
        fprintf(log, "news round: %zu words and stems, %zu of them new or changed\n", now->n,
                changed);
    }
    for (unsigned f = 0; f <= NER_DICT_FOLDS; f++) {
        ner_set_free(&ns->tab[f]);
        ns->tab[f] = next[f];
        memset(&next[f], 0, sizeof next[f]);
    }
    rc = 0;
done:
    for (unsigned f = 0; f <= NER_DICT_FOLDS; f++)
        ner_set_free(&next[f]);
    trainer_free(&tr);
    fold_bufs_free(&fb);
    return rc;
}

/* Features for training: without history, or (hist) with the history of
 * first-pass tags of the sentences [0, nfit). */
static int build_features(ner_model *m, const ner_set *base, unsigned base_maxlen,
                          const ner_corpus *c, const uint8_t *gold, size_t nfit,
                          const ner_train_opts *o, int pass1_epochs, hist_src *hs, featcache *fc,
                          ner_corpus *x, featcache *xfc, FILE *log)
{
    int rc;
    m->flags &= ~(NER_F_HIST | NER_F_NEWS | NER_F_DOC2);
    ner_set_free(&m->news);
    if ((rc = featcache_build(m, base, base_maxlen, c, gold, nfit, o->dict, fc, NULL, NULL)) !=
            0 ||
        (rc = featcache_min_count(fc, c->ntok, c->sent[nfit], o->min_count)) != 0)
        return rc;
    if (pass1_epochs == 0 || (!hs && !o->news))
        return 0;
    news_src ns = {.news = o->news, .min_count = o->news_min, .low = o->news_low, .m = m,
                   .base = base, .base_maxlen = base_maxlen, .dict = o->dict};
    if (x) {
        ner_corpus_free(x);
        if (o->news && o->self_train) {
            size_t nt = ner_news_ntok(o->news);
            if (!(ns.agree = malloc(nt + 1)))
                return NAHR_ENOMEM;
            memset(ns.agree, NER_AGREE_UNSET, nt + 1);
        }
    }
    rc = first_pass(c, gold, fc, nfit, o, pass1_epochs, hs ? (uint8_t *)hs->tags : NULL,
                    o->news ? &ns : NULL);
    if (rc == 0) {
        if (hs) {
            m->flags |= NER_F_HIST | (o->doc2 ? NER_F_DOC2 : 0);
            m->hist_window = (unsigned)hs->window;
            hs->doc2 = o->doc2;
            hs->nfit = nfit;
        }
        if (o->news)
            m->flags |= NER_F_NEWS;
        rc = featcache_build(m, base, base_maxlen, c, gold, nfit, o->dict, fc, hs,
                             o->news ? ns.tab : NULL);
        for (int r = 1; rc == 0 && o->news && r < o->news_rounds; r++) {
            /* plain: the fold models of the round have the news evidence but
             * not the history (like the first round's, plus the evidence) */
            const uint32_t flags = m->flags;
            if (o->news_round_plain) {
                m->flags &= ~NER_F_HIST;
                rc = featcache_build(m, base, base_maxlen, c, gold, nfit, o->dict, fc, NULL,
                                     ns.tab);
            }
            ns.keep = o->news_round_keep;
            if (ns.keep && ns.agree) /* only this round's models vote */
                memset(ns.agree, NER_AGREE_UNSET, ner_news_ntok(o->news) + 1);
            if (rc == 0 &&
                (rc = featcache_min_count(fc, c->ntok, c->sent[nfit], o->min_count)) == 0)
                rc = news_round(c, gold, fc, nfit, o, pass1_epochs, &ns, log);
            m->flags = flags;
            if (rc == 0)
                rc = featcache_build(m, base, base_maxlen, c, gold, nfit, o->dict, fc, hs, ns.tab);
        }
        /* self-training: the news sentences every first-pass model tagged
         * alike, described as the sentences from nfit on (m's tables now) */
        ner_set known = {0};
        for (size_t i = 0; rc == 0 && x && ns.agree && o->self_new && i < c->sent[nfit]; i++)
            rc = ner_set_put(&known,
                             ner_word_hash(c->text + c->toks[i].start,
                                           c->toks[i].end - c->toks[i].start, NULL, NULL),
                             1, 0);
        if (rc == 0 && x && ns.agree &&
            (rc = ner_news_select(o->news, ns.agree, o->self_train,
                                  o->self_new ? &known : NULL, x)) == 0)
            rc = featcache_plain(m, x, xfc);
        ner_set_free(&known);
        if (rc == 0)
            rc = featcache_min_count2(fc, c->ntok, c->sent[nfit], o->min_count,
                                      ns.agree ? xfc : NULL, ns.agree ? x->ntok : 0);
    }
    for (unsigned f = 0; f <= NER_DICT_FOLDS; f++)
        ner_set_free(&ns.tab[f]);
    free(ns.agree);
    return rc;
}

/* Word and stem hashes of every token (the history is keyed by them). */
static int hist_src_init(ner_model *m, const ner_corpus *c, size_t window, hist_src *hs)
{
    size_t maxlen = ner_corpus_maxlen(c);
    uint32_t *word = malloc((c->ntok + 1) * sizeof *word);
    uint32_t *stem = malloc((c->ntok + 1) * sizeof *stem);
    uint8_t *punct = malloc(c->ntok + 1), *tags = calloc(c->ntok + 1, 1);
    ner_hist *h = malloc(sizeof *h), *later = malloc(sizeof *later);
    ner_tokdesc *d = malloc(maxlen * sizeof *d);
    hs->later = later;
    hs->word = word;
    hs->stem = stem;
    hs->punct = punct;
    hs->tags = tags;
    hs->h = h;
    hs->window = window;
    if (!word || !stem || !punct || !tags || !h || !later || !d) {
        free(d);
        return NAHR_ENOMEM;
    }
    for (size_t s = 0; s < c->nsent; s++) {
        size_t a = c->sent[s], n = c->sent[s + 1] - a;
        ner_describe(m, c->text, c->toks + a, n, d);
        for (size_t i = 0; i < n; i++) {
            word[a + i] = d[i].word;
            stem[a + i] = d[i].stem;
            punct[a + i] = d[i].punct;
        }
    }
    free(d);
    return 0;
}

static void hist_src_free(hist_src *hs)
{
    free((void *)hs->word);
    free((void *)hs->stem);
    free((void *)hs->punct);
    free((void *)hs->tags);
    free(hs->h);
    free(hs->later);
}

/* ---- BILOU tags (--bilou; an experiment, see docs/ner.md) ----
 * The perceptrons of the dev run decode 17 tags: O, then B-X, I-X, L-X (the
 * last word of an entity of two words or more) and U-X (an entity of one
 * word) for X = PER LOC ORG MISC, tag 4 (X - 1) + 1 + kind. The first-pass
 * and fold models (history, news evidence) stay BIO, so only the final
 * model changes. The perceptrons are the trainers of the model (trainer,
 * train_sentence) with bl set: nt tags, bl_viterbi. Dev is tagged with
 * their own averaged weights through the walk of ner_tag_corpus_doc
 * (ner_hist_walk: same descriptions, features, history), the tags mapped
 * back to BIO before the history and the scorer see them, so the dev F1
 * compares with a BIO model's. NER_BILOU_SHARE gives each feature one
 * weight per BIO tag besides its 17, added to the scores of the BILOU tags
 * it maps to. NER_BILOU_CHECK runs the same code with the 9 BIO tags: the
 * check that this scorer scores as the model does (it differs only by the
 * model's 16-bit quantisation). The model written keeps the first pass's
 * weights: no run-time support. */
static unsigned bl_type(unsigned t) { return (t + 3) / 4; }
static unsigned bl_kind(unsigned t) { return (t - 1) % 4; } /* 0 B, 1 I, 2 L, 3 U */

/* May tag cur follow prev (BL_MAXT: the sentence start)? */
static int bl_allowed(unsigned nt, unsigned prev, unsigned cur)
{
    if (nt != BL_MAXT)
        return ner_bio_allowed(prev == BL_MAXT ? NER_NTAGS : prev, cur);
    int open = prev != BL_MAXT && prev != 0 && bl_kind(prev) <= 1; /* after B-X or I-X */
    if (open)
        return cur != 0 && bl_type(cur) == bl_type(prev) &&
               (bl_kind(cur) == 1 || bl_kind(cur) == 2);
    return cur == 0 || bl_kind(cur) == 0 || bl_kind(cur) == 3;
}

/* May a sentence end on tag t? */
static int bl_final(unsigned nt, unsigned t) { return nt != BL_MAXT || t == 0 || bl_kind(t) >= 2; }

/* BIO tags of one sentence to BILOU (nt = BL_MAXT) or a copy. An I-X that
 * does not continue an X entity starts one (as the scorer reads it). */
static void bl_from_bio(unsigned nt, const uint8_t *bio, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned t = bio[i];
        if (nt != BL_MAXT || t == 0) {
            out[i] = (uint8_t)t;
            continue;
        }
        unsigned x = (t + 1) / 2;
        int first = (t & 1u) || i == 0 || (unsigned)(bio[i - 1] + 1) / 2 != x;
        int more = i + 1 < n && bio[i + 1] == 2 * x; /* the next word continues it */
        unsigned kind = first ? (more ? 0u : 3u) : (more ? 1u : 2u);
        out[i] = (uint8_t)(4 * (x - 1) + 1 + kind);
    }
}

/* BILOU tags (or BIO: a copy) to BIO: B and U to B-X, I and L to I-X. */
static void bl_to_bio(unsigned nt, const uint8_t *tags, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned t = tags[i];
        if (nt != BL_MAXT || t == 0)
            out[i] = (uint8_t)t;
        else
            out[i] = (uint8_t)(2 * bl_type(t) - (bl_kind(t) == 0 || bl_kind(t) == 3 ? 1 : 0));
    }
}

/* First-order Viterbi over nt tags with the constraint of bl_allowed and
 * bl_final; emit n x nt, bp n x nt bytes. Ties: the lowest previous tag. */
static void bl_viterbi(unsigned nt, const float *emit, const float trans[BL_MAXT + 1][BL_MAXT],
                       size_t n, uint8_t *bp, uint8_t *out)
{
    float prev[BL_MAXT], cur[BL_MAXT];
    if (n == 0)
        return;
    for (unsigned t = 0; t < nt; t++)
        prev[t] = bl_allowed(nt, BL_MAXT, t) ? trans[BL_MAXT][t] + emit[t] : -INFINITY;
    for (size_t i = 1; i < n; i++) {
        for (unsigned t = 0; t < nt; t++) {
            float best = -INFINITY;
            unsigned arg = 0;
            for (unsigned p = 0; p < nt; p++) {
                if (!bl_allowed(nt, p, t))
                    continue;
                float sc = prev[p] + trans[p][t];
                if (sc > best) {
                    best = sc;
                    arg = p;
                }
            }
            cur[t] = best + emit[i * nt + t];
            bp[i * nt + t] = (uint8_t)arg;
        }
        memcpy(prev, cur, nt * sizeof *prev);
    }
    unsigned best = 0;
    for (unsigned t = 1; t < nt; t++)
        if (bl_final(nt, t) && prev[t] > prev[best])
            best = t;
    out[n - 1] = (uint8_t)best;
    for (size_t i = n - 1; i > 0; i--)
        out[i - 1] = bp[i * nt + out[i]];
}

void ner_bilou_from_bio(const uint8_t *bio, size_t n, uint8_t *out)
{
    bl_from_bio(BL_MAXT, bio, n, out);
}

void ner_bilou_to_bio(const uint8_t *tags, size_t n, uint8_t *out)
{
    bl_to_bio(BL_MAXT, tags, n, out);
}

int ner_bilou_allowed(unsigned prev, unsigned cur) { return bl_allowed(BL_MAXT, prev, cur); }

int ner_bilou_final(unsigned t) { return bl_final(BL_MAXT, t); }

void ner_bilou_viterbi(const float *emit, const float trans[NER_BILOU_NTAGS + 1][NER_BILOU_NTAGS],
                       size_t n, uint8_t *bp, uint8_t *out)
{
    bl_viterbi(BL_MAXT, emit, trans, n, bp, out);
}

/* The BIO tag of BILOU tag t. */
static unsigned bl_bio1(unsigned t)
{
    return t ? 2 * bl_type(t) - (bl_kind(t) == 0 || bl_kind(t) == 3) : 0;
}

/* Row r's averaged score of tag t (with share, the BIO tag's added). */
static double perceptron_score(const trainer *tr, size_t r, unsigned t)
{
    double v = trainer_weight(tr, r * tr->stride + t);
    return tr->share ? v + trainer_weight(tr, r * tr->stride + tr->nt + bl_bio1(t)) : v;
}

/* The dev scorer of --bilou: the mean of the averaged weights of
 * tr[0..k) in place of a model's table (ner_hist_walk's tag). */
typedef struct bl_tagging {
    const trainer *tr;
    int k;
    const ner_model *m;
    float *emit;
    uint8_t *bp, *tags;
    float trans[BL_MAXT + 1][BL_MAXT];
} bl_tagging;

static int bl_tag_sentence(void *arg, const ner_tokdesc *d, size_t n, uint8_t *out)
{
    const bl_tagging *b = arg;
    const unsigned nt = b->tr[0].nt;
    uint32_t f[NER_MAXF];
    for (size_t i = 0; i < n; i++) {
        double acc[BL_MAXT] = {0};
        size_t nf = ner_features(b->m, d, n, i, f);
        for (size_t j = 0; j < nf; j++)
            for (int e = 0; e < b->k; e++) {
                const uint64_t *r = ner_set_get(&b->tr[e].index, f[j]);
                for (unsigned t = 0; r && t < nt; t++)
                    acc[t] += perceptron_score(&b->tr[e], (size_t)*r, t) / b->k;
            }
        for (unsigned t = 0; t < nt; t++)
            b->emit[i * nt + t] = (float)acc[t];
        b->emit[i * nt + NER_O] -= b->m->o_penalty;
    }
    bl_viterbi(nt, b->emit, (const float(*)[BL_MAXT])b->trans, n, b->bp, b->tags);
    bl_to_bio(nt, b->tags, n, out);
    return 0;
}

/* ner_tag_corpus_doc (a model without two-sided history) with the mean of
 * the averaged weights of tr[0..k) in place of m's table; pred gets BIO. */
static int bl_tag_corpus(const trainer *tr, int k, const ner_model *m, const ner_corpus *c,
                         uint8_t *pred)
{
    size_t maxlen = ner_corpus_maxlen(c);
    bl_tagging b = {.tr = tr, .k = k, .m = m};
    b.emit = malloc(maxlen * BL_MAXT * sizeof *b.emit);
    b.bp = malloc(maxlen * BL_MAXT);
    b.tags = malloc(maxlen);
    int rc = NAHR_ENOMEM;
    if (b.emit && b.bp && b.tags) {
        for (unsigned x = 0; x <= BL_MAXT; x++)
            for (unsigned y = 0; y < BL_MAXT; y++) {
                double t = 0;
                for (int e = 0; e < k; e++)
                    t += trainer_trans(&tr[e], x, y);
                b.trans[x][y] = (float)(t / k);
            }
        rc = ner_hist_walk(m, c, (m->flags & NER_F_HIST) != 0, pred, bl_tag_sentence, &b);
    }
    free(b.emit);
    free(b.bp);
    free(b.tags);
    return rc;
}

/* run_epochs for the dev run of --bilou (perceptrons, no self-training):
 * the same shuffles, the trainers over BILOU (or BIO) tags, dev scored
 * through bl_tag_corpus. m is not changed. */
static int run_epochs_bl(const ner_corpus *c, const uint8_t *gold, const featcache *fc,
                         size_t ntrain, const ner_train_opts *o, int epochs, const ner_model *m,
                         FILE *log, int *best_epoch, double *best_f1, const char *label)
{
    const unsigned nt = o->bilou == NER_BILOU_CHECK ? NER_NTAGS : BL_MAXT;
    trainer tr[NER_MAX_ENSEMBLE];
    memset(tr, 0, sizeof tr);
    int nens = o->ensemble > NER_MAX_ENSEMBLE ? NER_MAX_ENSEMBLE : o->ensemble > 1 ? o->ensemble : 1;
    uint64_t rngs[NER_MAX_ENSEMBLE];
    for (int e = 0; e < nens; e++) {
        trainer_reset(&tr[e], o, ntrain);
        tr[e].bl = 1;
        tr[e].nt = nt;
        tr[e].share = o->bilou == NER_BILOU_SHARE;
        tr[e].stride = nt + (tr[e].share ? NER_NTAGS : 0);
        rngs[e] = o->seed + 0x1000193ull * (uint64_t)e;
    }
    size_t maxlen = ner_corpus_maxlen(c);
    float *emit = malloc(maxlen * BL_MAXT * sizeof *emit);
    uint8_t *bp = malloc(maxlen * BL_MAXT);
    uint8_t *pred = malloc(c->ntok + 1), *gb = malloc(c->ntok + 1);
    size_t *order = malloc((ntrain + 1) * sizeof *order);
    int rc = NAHR_ENOMEM;
    if (!emit || !bp || !pred || !gb || !order)
        goto done;
    for (size_t s = 0; s < c->nsent; s++)
        bl_from_bio(nt, gold + c->sent[s], c->sent[s + 1] - c->sent[s], gb + c->sent[s]);
    for (size_t k = 0; k < ntrain; k++)
        order[k] = k;
    *best_epoch = 0;
    *best_f1 = -1;
    for (int ep = 1; ep <= epochs; ep++) {
        clock_t t0 = clock();
        size_t wrong = 0;
        for (int e = 0; e < nens; e++) {
            shuffle(order, ntrain, &rngs[e]);
            for (size_t k = 0; k < ntrain; k++) {
                size_t s = order[k], a = c->sent[s];
                int r = train_sentence(&tr[e], fc, gb, a, c->sent[s + 1] - a, emit, bp, pred);
                if (r < 0)
                    goto done;
                if (e == 0)
                    wrong += (size_t)r;
            }
        }
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (ntrain < c->nsent) {
            ner_corpus dev = dev_part(c, ntrain);
            if ((rc = bl_tag_corpus(tr, nens, m, &dev, pred)) != 0)
                goto done;
            rc = NAHR_ENOMEM;
            char size[64];
            snprintf(size, sizeof size, "%zu rows x %u tags", tr[0].rows, nt);
            double f = dev_report(c, ntrain, pred, log, label, ep, wrong, size, secs);
            if (f > *best_f1) {
                *best_f1 = f;
                *best_epoch = ep;
            }
        } else {
            *best_epoch = ep;
        }
        if (log)
            fflush(log);
    }
    rc = 0;
done:
    free(emit);
    free(bp);
    free(pred);
    free(gb);
    free(order);
    for (int e = 0; e < NER_MAX_ENSEMBLE; e++)
        trainer_free(&tr[e]);
    return rc;
}

int ner_train(const ner_corpus *c, const ner_train_opts *o, ner_model *m, FILE *log)
{
    if (c->nsent == 0 || o->epochs < 1)
        return NAHR_EINVAL;
    if (o->bilou && (o->refit || o->tune_o || o->self_train || o->learner || o->doc2 ||
                     o->dev_fraction <= 0))
        return NAHR_EINVAL; /* the experiment scores dev only (train_main says so) */
    /* training targets: an orphan I-X (not continuing X) becomes B-X, which
     * is what the scorer reads it as, so every gold sequence is valid BIO */
    uint8_t *gold = malloc(c->ntok + 1);
    featcache fc = {0}, xfc = {0};
    ner_corpus x = {0}; /* self-training sentences of the news (none without --self-train) */
    ner_set base = {0};
    hist_src hs = {0}, *phs = NULL;
    unsigned base_maxlen = m->gaz_maxlen;
    int rc = NAHR_ENOMEM;
    if (!gold)
        goto done;
    for (size_t s = 0; s < c->nsent; s++)
        for (size_t i = c->sent[s]; i < c->sent[s + 1]; i++) {
            unsigned t = c->gold[i], prev = i > c->sent[s] ? gold[i - 1] : NER_NTAGS;
            gold[i] = (uint8_t)(ner_bio_allowed(prev, t) ? t : t - 1);
        }
    if ((rc = ner_set_copy(&base, &m->gaz)) != 0)
        goto done;
    size_t ndev = (size_t)floor((double)c->nsent * o->dev_fraction);
    if (o->dev_fraction > 0 && ndev == 0)
        ndev = 1;
    if (ndev >= c->nsent)
        ndev = c->nsent - 1;
    size_t ntrain = c->nsent - ndev;
    if ((rc = build_features(m, &base, base_maxlen, c, gold, ntrain, o, 0, NULL, &fc, NULL,
                             NULL, log)) != 0)
        goto done;
    if (log)
        fprintf(log, "training on %zu sentences (%zu tokens), dev %zu sentences (the last %.0f%%)\n",
                ntrain, c->sent[ntrain], ndev, o->dev_fraction * 100);
    int best_epoch, pass1_epochs = 0;
    double best_f1;
    if (o->hist_window || o->news) {
        /* first pass: the model without history (and news evidence), its
         * best epoch count is used for the jackknifed history tags and the
         * fold models that tag the news */
        if (o->hist_window) {
            if ((rc = hist_src_init(m, c, o->hist_window, &hs)) != 0)
                goto done;
            phs = &hs;
        }
        rc = run_epochs(c, gold, &fc, ntrain, NULL, NULL, o, o->epochs, m, log, &pass1_epochs,
                        &best_f1, "pass1");
        if (rc != 0)
            goto done;
        if (log && ndev > 0)
            fprintf(log, "pass1: best dev F1 %.4f at epoch %d (history of %u sentences%s next)\n",
                    best_f1, pass1_epochs, o->hist_window, o->news ? ", news evidence" : "");
        if ((rc = build_features(m, &base, base_maxlen, c, gold, ntrain, o, pass1_epochs, phs,
                                 &fc, &x, &xfc, log)) != 0)
            goto done;
        if (log && o->self_train)
            fprintf(log, "self-training: %zu news sentences (%zu tokens) all first-pass models "
                    "tagged alike\n", x.nsent, x.ntok);
    }
    if (o->bilou)
        rc = run_epochs_bl(c, gold, &fc, ntrain, o, o->epochs, m, log, &best_epoch, &best_f1,
                           "dev");
    else
        rc = run_epochs(c, gold, &fc, ntrain, &x, &xfc, o, o->epochs, m, log, &best_epoch,
                        &best_f1, "dev");
    if (rc != 0)
        goto done;
    if (ndev > 0 && log)
        fprintf(log, "best dev F1 %.4f at epoch %d\n", best_f1, best_epoch);
    float penalty = 0;
    if (ndev > 0 && o->tune_o) {
        /* the perceptron is conservative (precision well above recall):
         * choose on dev how much to lower the score of O */
        static const float grid[] = {1, 2, 4, 6, 8, 12, 16, 24, 32};
        uint8_t *pred = malloc(c->ntok + 1);
        if (!pred) {
            rc = NAHR_ENOMEM;
            goto done;
        }
        ner_corpus dev = dev_part(c, ntrain);
        double bf = best_f1;
        for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
            m->o_penalty = grid[g];
            ner_score sc;
            ner_tag_corpus_doc(m, &dev, pred);
            double p, r, f = dev_score(c, ntrain, pred, &sc, &p, &r);
            if (log)
                fprintf(log, "O penalty %.2f: dev P %.4f R %.4f F1 %.4f\n", grid[g], p, r, f);
            if (f > bf) {
                bf = f;
                penalty = grid[g];
            }
        }
        free(pred);
        if (log)
            fprintf(log, "O penalty chosen on dev: %.2f (dev F1 %.4f)\n", penalty, bf);
    }
    m->o_penalty = penalty;
    if (ndev > 0 && o->refit) {
        if (log)
            fprintf(log, "refit: training on all %zu sentences for %d epochs\n", c->nsent,
                    best_epoch);
        double f;
        int e;
        if (o->dict || phs || o->news) {
            if ((rc = build_features(m, &base, base_maxlen, c, gold, c->nsent, o, pass1_epochs,
                                     phs, &fc, &x, &xfc, log)) != 0)
                goto done;
        } else if ((rc = featcache_min_count(&fc, c->ntok, c->ntok, o->min_count)) != 0) {
            goto done;
        }
        rc = run_epochs(c, gold, &fc, c->nsent, &x, &xfc, o, best_epoch, m, log, &e, &f, "all");
        m->o_penalty = penalty;
    }
done:
    hist_src_free(&hs);
    ner_set_free(&base);
    featcache_free(&fc);
    featcache_free(&xfc);
    ner_corpus_free(&x);
    free(gold);
    return rc;
}
