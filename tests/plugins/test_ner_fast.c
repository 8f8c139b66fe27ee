/* test_ner_fast.c - the NER tagger's fast run-time path (ner_model_tag:
 * inlined hashing, vectorised weight sums with prefetching, masked-transition
 * Viterbi without back-pointers, token caches per call and per thread, the
 * per-thread cache's tables and memos in place of some context features)
 * gives exactly the tags of a plain reference tagger written here the
 * obvious way: ner_describe on the whole sentence, ner_features per token,
 * one table lookup per feature, int32 sums, a Viterbi that tests every
 * (prev, cur) pair with ner_bio_allowed. The per-thread cache is checked
 * at its full size and at 16 slots, where entries are replaced all the time.
 *
 * Checked on a random model over real feature keys (every tag occurs, many
 * ties in the decoder), on the shipped model, on our own sentences, on a long
 * run without a sentence end, and on the shared data (ANERcorp test, news
 * articles) when it is there. The Arabic sentences are the team's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "ner_cache.h"
#include "ner_internal.h"

static const char *const OWN_TEXT =
    "زار الرئيس أحمد سالم مدينة القاهرة أمس. وقال وزير الخارجية خالد منصور إن الأمم المتحدة "
    "تدعم الحوار بين الطرفين. ووصل سالم إلى بيروت قادما من دمشق، ثم سافر إلى باريس ولندن. "
    "أعلنت جامعة الملك سعود عن برنامج جديد للطلاب بالتعاون مع شركة أرامكو السعودية. "
    "شارك فريق الهلال في كأس العالم للأندية 2025 وفاز على النصر 3-1! "
    "وتحدث الأمير فيصل بن سلمان عن الاقتصاد في الرياض وجدة والدمام؟ "
    "IBM و Google تفتتحان مكتبين في دبي. قال الدكتور عبدالله العلي: «الوضع مستقر». "
    "وعرضت القناة برنامج \"ليالي الخليج الطويلة\" وقال سالم إن \"الموسم\" بدأ.";

/* Sentences of one to five tokens with a token too long for the token
 * cache (described per occurrence) at every position, alone or beside
 * another one, among frequent words: the run-time path sums the weights a
 * cached token gives its neighbours once per word, those of an uncached one
 * per occurrence, and constants at the sentence edges. Built once. */
static const char *edge_text(void)
{
    static char buf[32768];
    static const char *const shortw[] = {"قال", "سالم", "في", "بيروت", "وزير", "الخارجية", "أمس",
                                         "إلى"};
    static const char *const longw[] = {"Antidisestablishmentarianism",
                                        "والمستشارونالاقتصاديونالجدد"};
    if (buf[0])
        return buf;
    size_t len = 0, r = 0;
    for (unsigned two = 0; two < 2; two++)
        for (unsigned l = 1; l <= 5; l++)
            for (unsigned p = 0; p < l; p++)
                for (unsigned v = 0; v < 4; v++) {
                    for (unsigned k = 0; k < l; k++) {
                        const char *w = k == p || (two && k == p + 1)
                                            ? longw[(v + k) % 2]
                                            : shortw[r++ % (sizeof shortw / sizeof shortw[0])];
                        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s ", w);
                    }
                    len += (size_t)snprintf(buf + len, sizeof buf - len, ". ");
                }
    assert_true(len < sizeof buf - 1);
    return buf;
}

/* ---- a small deterministic generator ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* ---- the reference tagger ---- */

/* Weights of the reference: sorted keys, NER_NTAGS int16 per key. When
 * keys is NULL the reference asks the model (ner_model_find). */
typedef struct ref_table {
    uint32_t *keys;
    int16_t *w;
    size_t n;
} ref_table;

static int cmp_key(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static const int16_t *ref_weights(const ner_model *m, const ref_table *rt, uint32_t key)
{
    if (!rt) {
        const ner_slot *s = ner_model_find(m, key);
        return s ? s->w : NULL;
    }
    const uint32_t *k = bsearch(&key, rt->keys, rt->n, sizeof key, cmp_key);
    return k ? rt->w + (size_t)(k - rt->keys) * NER_NTAGS : NULL;
}

static void ref_viterbi(const float *emit, const float trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                        uint8_t *out)
{
    float prev[NER_NTAGS], cur[NER_NTAGS];
    uint8_t *bp = malloc(n * NER_NTAGS);
    assert_non_null(bp);
    for (unsigned t = 0; t < NER_NTAGS; t++)
        prev[t] = ner_bio_allowed(NER_NTAGS, t) ? trans[NER_NTAGS][t] + emit[t] : -INFINITY;
    for (size_t i = 1; i < n; i++) {
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
            cur[t] = best + emit[i * NER_NTAGS + t];
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
    free(bp);
}

static void ref_sentence(const ner_model *m, const ref_table *rt, ner_hist *h,
                         const ner_hist *later, const ner_actx *ax, const char *text,
                         const nahr_token *toks, size_t n, uint8_t *tags)
{
    ner_tokdesc *d = malloc(n * sizeof *d);
    float *emit = calloc(n * NER_NTAGS, sizeof *emit);
    assert_true(n > 0 && d && emit);
    ner_describe(m, text, toks, n, d);
    if (h)
        ner_hist_mark(h, n, d);
    if (later)
        ner_hist_mark_after(later, n, d);
    if (ax)
        ner_actx_mark(ax, n, d);
    for (size_t i = 0; i < n; i++) {
        uint32_t f[NER_MAXF];
        int32_t acc[NER_NTAGS] = {0};
        size_t nf = ner_features(m, d, n, i, f);
        assert_true(nf <= NER_MAXF);
        for (size_t k = 0; k < nf; k++) {
            const int16_t *w = ref_weights(m, rt, f[k]);
            if (w)
                for (unsigned t = 0; t < NER_NTAGS; t++)
                    acc[t] += w[t];
        }
        for (unsigned t = 0; t < NER_NTAGS; t++)
            emit[i * NER_NTAGS + t] = (float)acc[t] * m->scale;
        emit[i * NER_NTAGS + NER_O] -= m->o_penalty;
    }
    ref_viterbi(emit, (const float(*)[NER_NTAGS])m->trans, n, tags);
    if (h)
        ner_hist_add(h, d, tags, n);
    free(d);
    free(emit);
}

/* Sentences as ner_model_tag cuts them: at NAHR_TOK_SENT_END, and after
 * 1024 tokens without one; with a history model, the history of the call. */
static void ref_tag(const ner_model *m, const ref_table *rt, const char *text,
                    const nahr_token *toks, size_t n, uint8_t *tags)
{
    ner_hist *h = NULL;
    if (m->flags & NER_F_HIST) {
        h = malloc(sizeof *h);
        assert_non_null(h);
        ner_hist_reset(h);
    }
    ner_actx *ax = NULL;
    size_t s = 0;
    if (m->flags & NER_F_ARTICLE) { /* the article context: every sentence of the call first */
        ax = malloc(sizeof *ax);
        ner_tokdesc *d = malloc(n * sizeof *d);
        assert_true(ax && d);
        ner_actx_reset(ax);
        for (size_t i = 0; i < n; i++)
            if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == n || i + 1 - s == 1024) {
                ner_describe(m, text, toks + s, i + 1 - s, d);
                ner_actx_add_sentence(ax, m, d, i + 1 - s);
                s = i + 1;
            }
        free(d);
        s = 0;
    }
    for (size_t i = 0; i < n; i++)
        if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == n || i + 1 - s == 1024) {
            ref_sentence(m, rt, h, NULL, ax, text, toks + s, i + 1 - s, tags + s);
            s = i + 1;
        }
    if (h && (m->flags & NER_F_DOC2) && n <= 16384) { /* longer calls: first pass only */
        /* the two-sided second pass the way training builds it: every
         * sentence again, its tables made afresh from the first-pass tags of
         * the sentences before (all bits) and after (entity types only) */
        uint8_t *p1 = malloc(n);
        ner_tokdesc *d = malloc(n * sizeof *d);
        ner_hist *later = malloc(sizeof *later);
        assert_true(p1 && d && later);
        memcpy(p1, tags, n);
        s = 0;
        for (size_t i = 0; i < n; i++)
            if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == n || i + 1 - s == 1024) {
                ner_describe(m, text, toks + s, i + 1 - s, d + s);
                s = i + 1;
            }
        s = 0;
        for (size_t i = 0; i < n; i++)
            if ((toks[i].flags & NAHR_TOK_SENT_END) || i + 1 == n || i + 1 - s == 1024) {
                ner_hist_reset(h);
                ner_hist_reset(later);
                for (size_t j = 0; j < n; j++)
                    if (!d[j].punct && j < s)
                        ner_hist_put(h, d[j].word, d[j].stem, p1[j]);
                    else if (!d[j].punct && j > i && p1[j])
                        ner_hist_put(later, d[j].word, d[j].stem, p1[j]);
                ref_sentence(m, rt, h, later, ax, text, toks + s, i + 1 - s, tags + s);
                s = i + 1;
            }
        free(later);
        free(p1);
        free(d);
    }
    free(h);
    free(ax);
}

/* The per-thread caches the checks share: they carry entries from text to
 * text (and from model to model) as a worker's does. tiny_cache has 16
 * slots (4 sets of 4): nearly every token replaces an entry, often one of
 * its own sentence. */
static ner_cache *thread_cache, *tiny_cache;

/* Tags text the fast way (without and with the per-thread cache) and the
 * reference way; returns the number of tokens (all equal, or the test fails
 * naming the first difference). tag_counts, when not NULL, counts the tags
 * given. */
static size_t check_text(const ner_model *m, const ref_table *rt, const char *text, size_t len,
                         size_t *tag_counts)
{
    size_t cap = nahr_tokenize(text, len, NULL, 0) + 1;
    nahr_token *toks = malloc(cap * sizeof *toks);
    uint8_t *fast = malloc(cap), *ref = malloc(cap);
    assert_true(toks && fast && ref);
    size_t n = nahr_tokenize(text, len, toks, cap);
    assert_true(n < cap);
    /* scratch exactly as large as promised, at an odd address */
    size_t ss = ner_model_scratch_size(m, n);
    char *scratch = malloc(ss + 1);
    assert_non_null(scratch);
    uint8_t *cached = malloc(cap), *tiny = malloc(cap);
    assert_true(cached && tiny);
    assert_int_equal(ner_model_tag(m, text, toks, n, scratch + 1, fast), 0);
    assert_int_equal(ner_model_tag_cached(m, thread_cache, text, toks, n, scratch + 1, cached), 0);
    assert_int_equal(ner_model_tag_cached(m, tiny_cache, text, toks, n, scratch + 1, tiny), 0);
    if (n)
        ref_tag(m, rt, text, toks, n, ref);
    for (size_t i = 0; i < n; i++) {
        if (cached[i] != fast[i])
            fail_msg("token %zu '%.*s': with the thread cache %s, without %s", i,
                     (int)(toks[i].end - toks[i].start), text + toks[i].start,
                     ner_tag_name(cached[i]), ner_tag_name(fast[i]));
        if (tiny[i] != fast[i])
            fail_msg("token %zu '%.*s': with a 16-slot thread cache %s, without %s", i,
                     (int)(toks[i].end - toks[i].start), text + toks[i].start,
                     ner_tag_name(tiny[i]), ner_tag_name(fast[i]));
        if (fast[i] != ref[i])
            fail_msg("token %zu '%.*s': fast tag %s, reference %s", i,
                     (int)(toks[i].end - toks[i].start), text + toks[i].start,
                     ner_tag_name(fast[i]), ner_tag_name(ref[i]));
        if (tag_counts)
            tag_counts[fast[i]]++;
    }
    free(scratch);
    free(toks);
    free(fast);
    free(cached);
    free(tiny);
    free(ref);
    return n;
}

/* ---- a random model over real feature keys ---- */

static void collect_keys(const ner_model *m, const char *text, uint32_t **keys, size_t *n,
                         size_t *cap)
{
    size_t tcap = nahr_tokenize(text, strlen(text), NULL, 0) + 1;
    nahr_token *toks = malloc(tcap * sizeof *toks);
    ner_tokdesc *d = malloc(tcap * sizeof *d);
    assert_true(toks && d);
    size_t nt = nahr_tokenize(text, strlen(text), toks, tcap);
    ner_describe(m, text, toks, nt, d);
    if (m->flags & NER_F_HIST) { /* a random history, so that history features get weights */
        ner_hist *h = malloc(sizeof *h);
        assert_non_null(h);
        ner_hist_reset(h);
        for (size_t i = 0; i < nt; i++)
            ner_hist_put(h, d[i].word, d[i].stem, rng() % NER_NTAGS);
        ner_hist_mark(h, nt, d);
        free(h);
        for (size_t i = 0; i < nt && (m->flags & NER_F_DOC2); i++) { /* and "after" bits */
            d[i].after = (uint8_t)(rng() % 16);
            d[i].after_stem = (uint8_t)(rng() % 16);
        }
    }
    if (m->flags & NER_F_ARTICLE) { /* the text as one article, so that the facts get weights */
        ner_actx *ax = malloc(sizeof *ax);
        assert_non_null(ax);
        ner_actx_reset(ax);
        ner_actx_add_sentence(ax, m, d, nt);
        ner_actx_mark(ax, nt, d);
        free(ax);
    }
    for (size_t i = 0; i < nt; i++) {
        uint32_t f[NER_MAXF];
        size_t nf = ner_features(m, d, nt, i, f);
        for (size_t k = 0; k < nf; k++) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 4096;
                *keys = realloc(*keys, *cap * sizeof **keys);
                assert_non_null(*keys);
            }
            (*keys)[(*n)++] = f[k];
        }
    }
    free(toks);
    free(d);
}

/* Up to max articles' "text" from a JSON Lines file, joined by '\n'
 * (NULL when the file is not there). */
static char *read_articles(const char *path, size_t max, size_t *narticles)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL, *out = NULL;
    size_t lcap = 0, len = 0;
    *narticles = 0;
    while (*narticles < max && getline(&line, &lcap, f) > 0) {
        json_t *root = json_loads(line, 0, NULL);
        const char *t = root ? json_string_value(json_object_get(root, "text")) : NULL;
        if (t) {
            size_t tl = strlen(t);
            out = realloc(out, len + tl + 2);
            assert_non_null(out);
            memcpy(out + len, t, tl);
            len += tl;
            out[len++] = '\n';
            out[len] = '\0';
            (*narticles)++;
        }
        json_decref(root);
    }
    free(line);
    fclose(f);
    return out;
}

static const char *shared_dir(void)
{
    const char *s = getenv("NAHR_SHARED_DIR");
    return s ? s : "../shared";
}

/* A model with random weights for ~3/4 of the keys text produces (the rest
 * miss), a few multi-word gazetteer phrases and word clusters, quotation
 * features and (for the second model) the prediction history, so that every
 * code path of describing, scoring and decoding is taken. */
static uint32_t random_extra_flags; /* more NER_F_* flags for random_model (NER_F_ACTX, TOPIC) */

static ner_model *random_model(const char *text, ref_table *rt, uint64_t fi_cluster)
{
    ner_model *m = ner_model_new();
    assert_non_null(m);
    m->flags = NER_F_GAZ | NER_F_CLUSTERS | NER_F_QUOTE | NER_F_CLX | NER_F_NEWS | NER_F_LEX | NER_F_LEXSP |
               (fi_cluster ? NER_F_HIST | NER_F_DOC2 : 0) | random_extra_flags;
    /* spelling-dictionary classes of a few words (NER_F_LEX: per-word features; a
     * stem is looked up as a word: "الرياض" gives "رياض" its class) */
    const char *lxw[] = {"سالم", "بيروت", "رياض", "في", "وزير", "ميركل", "الرياض"};
    for (size_t i = 0; i < sizeof lxw / sizeof lxw[0]; i++)
        assert_int_equal(ner_set_put(&m->lex, ner_word_hash(lxw[i], strlen(lxw[i]), NULL, NULL),
                                     NER_LEX_IN + i % 3, 0),
                         0);
    /* and trigram scores (NER_F_LEXSP) of some of their letters */
    for (size_t i = 0; i < sizeof lxw / sizeof lxw[0]; i++) {
        uint32_t th[NER_MAXTOKB + 2];
        size_t nt = ner_lex_trigram_hashes(lxw[i], strlen(lxw[i]), th);
        for (size_t k = 0; k < nt; k += 2)
            assert_int_equal(ner_set_put(&m->lex, NER_LEX_TRI_KEY(th[k]),
                                         NER_LEX_TRI_BASE + (i * 37 + k * 53) % 201, 0),
                             0);
    }
    /* news evidence of a few words and stems (NER_F_NEWS: per-word features) */
    const char *nww[] = {"سالم", "بيروت", "الرياض", "في", "وزير"};
    for (size_t i = 0; i < sizeof nww / sizeof nww[0]; i++) {
        ner_tokdesc t;
        ner_describe_token(m, nww[i], strlen(nww[i]), &t);
        assert_int_equal(ner_set_put(&m->news, t.word, (uint64_t)(i * 37 + 1) & 0xFFu, 0), 0);
        assert_int_equal(ner_set_put(&m->news, NER_NEWS_STEM_KEY(t.stem), (uint64_t)i * 11, 0), 0);
    }
    const char *phrases[][3] = {{"الأمم", "المتحدة", NULL}, {"القاهرة", NULL, NULL},
                                {"الملك", "سعود", NULL},   {"كأس", "العالم", "للأندية"},
                                {"باريس", NULL, NULL},     {"أحمد", "سالم", NULL}};
    for (size_t p = 0; p < sizeof phrases / sizeof phrases[0]; p++) {
        uint32_t wh[3];
        size_t nw = 0;
        while (nw < 3 && phrases[p][nw]) {
            wh[nw] = ner_word_hash(phrases[p][nw], strlen(phrases[p][nw]), NULL, NULL);
            nw++;
        }
        assert_int_equal(ner_gaz_add(&m->gaz, wh, nw, 1u << (p % NER_NTYPES)), 0);
        if (nw > m->gaz_maxlen)
            m->gaz_maxlen = (unsigned)nw;
    }
    const char *clw[] = {"سالم", "بيروت", "دمشق", "وزير", "الرياض", "في"};
    for (size_t i = 0; i < sizeof clw / sizeof clw[0]; i++)
        assert_int_equal(ner_set_put(&m->clusters,
                                     ner_word_hash(clw[i], strlen(clw[i]), NULL, NULL),
                                     (uint64_t)(i + 1) | (uint64_t)(i % 3) << 16, 0),
                         0);
    if (fi_cluster) /* another model: "في" in another cluster */
        assert_int_equal(ner_set_put(&m->clusters, ner_word_hash("في", strlen("في"), NULL, NULL),
                                     fi_cluster, 0),
                         0);
    uint32_t *keys = NULL;
    size_t n = 0, cap = 0;
    collect_keys(m, text, &keys, &n, &cap);
    collect_keys(m, edge_text(), &keys, &n, &cap); /* long tokens' keys too */
    qsort(keys, n, sizeof *keys, cmp_key);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if ((u == 0 || keys[i] != keys[u - 1]) && rng() % 4 != 0)
            keys[u++] = keys[i];
    int16_t *w = malloc((u ? u : 1) * NER_NTAGS * sizeof *w);
    assert_non_null(w);
    for (size_t i = 0; i < u * NER_NTAGS; i++)
        w[i] = (int16_t)((int)(rng() % 2001) - 1000);
    assert_int_equal(ner_model_set_weights(m, keys, w, u, 0.001f), 0);
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++)
            m->trans[a][b] = (float)((int)(rng() % 9) - 4) * 0.25f; /* coarse: ties happen */
    m->o_penalty = 0.5f;
    rt->keys = keys;
    rt->w = w;
    rt->n = u;
    return m;
}

/* ---- tests ---- */

/* ner_viterbi against the reference on random scores, coarse enough for
 * many ties, with -inf and odd lengths. */
static void test_viterbi_matches_reference(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    float trans[NER_NTAGS + 1][NER_NTAGS];
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = 1 + rng() % 40;
        float *emit = malloc(n * NER_NTAGS * sizeof *emit);
        uint8_t *bp = malloc(n * NER_NTAGS), fast[40], ref[40];
        assert_true(emit && bp);
        for (unsigned a = 0; a <= NER_NTAGS; a++)
            for (unsigned b = 0; b < NER_NTAGS; b++)
                trans[a][b] = (float)((int)(rng() % 5) - 2);
        for (size_t i = 0; i < n * NER_NTAGS; i++)
            emit[i] = trial % 3 ? (float)((int)(rng() % 7) - 3) : (float)(rng() % 1000) / 7.0f;
        ner_viterbi(emit, (const float(*)[NER_NTAGS])trans, n, bp, fast);
        ref_viterbi(emit, (const float(*)[NER_NTAGS])trans, n, ref);
        assert_memory_equal(fast, ref, n);
        ner_viterbi_inplace(emit, (const float(*)[NER_NTAGS])trans, n, fast);
        assert_memory_equal(fast, ref, n);
        for (size_t i = 0; i < n; i++)
            assert_true(ner_bio_allowed(i ? fast[i - 1] : NER_NTAGS, fast[i]));
        free(emit);
        free(bp);
    }
}

static void test_random_model_matches_reference(void **state)
{
    (void)state;
    rng_state = 12345;
    char path[1024];
    snprintf(path, sizeof path, "%s/data/news/news-000.jsonl", shared_dir());
    size_t na = 0;
    char *news = read_articles(path, 40, &na);
    if (!news)
        print_message("note: %s not found, own sentences only\n", path);
    ref_table rt;
    ner_model *m = random_model(news ? news : OWN_TEXT, &rt, 0);
    size_t counts[NER_NTAGS] = {0}, ntok = 0;
    ntok += check_text(m, &rt, OWN_TEXT, strlen(OWN_TEXT), counts);
    ntok += check_text(m, &rt, edge_text(), strlen(edge_text()), counts);
    /* the reference asking the model's table gives the same */
    check_text(m, NULL, OWN_TEXT, strlen(OWN_TEXT), NULL);
    if (news) {
        /* article by article, as the entities plugin calls it */
        for (char *a = news, *e; (e = strchr(a, '\n')); a = e + 1)
            ntok += check_text(m, &rt, a, (size_t)(e - a), counts);
    }
    /* a long run without any sentence end: cut at 1024 tokens */
    size_t reps = 300, ol = strlen("وزير الخارجية خالد منصور و ");
    char *run = malloc(reps * ol + 1);
    assert_non_null(run);
    for (size_t i = 0; i < reps; i++)
        memcpy(run + i * ol, "وزير الخارجية خالد منصور و ", ol);
    run[reps * ol] = '\0';
    ntok += check_text(m, &rt, run, reps * ol, counts);
    /* empty and punctuation-only input */
    check_text(m, &rt, "", 0, NULL);
    check_text(m, &rt, " . ، ! ", 7, NULL);
    print_message("random model: %zu keys, %zu tokens identical; tags O %zu B-PER %zu I-PER %zu "
                  "B-LOC %zu I-LOC %zu\n",
                  rt.n, ntok, counts[0], counts[1], counts[2], counts[3], counts[4]);
    for (unsigned t = 0; t < NER_NTAGS; t++)
        assert_true(counts[t] > 0); /* every path of the decoder was taken */
    /* two live models in turn through one thread cache: the cache notices
     * the switch (the second model's clusters give other descriptions) */
    ref_table rt2;
    ner_model *m2 = random_model(OWN_TEXT, &rt2, 77 | (uint64_t)78 << 16 | (uint64_t)79 << 32);
    for (int k = 0; k < 3; k++) {
        check_text(m2, &rt2, OWN_TEXT, strlen(OWN_TEXT), NULL);
        check_text(m, &rt, OWN_TEXT, strlen(OWN_TEXT), NULL);
    }
    /* a prediction-history model over the news articles: history bits of
     * every kind, at every sentence start and end */
    if (news) {
        ref_table rt3;
        ner_model *m3 = random_model(news, &rt3, 77 | (uint64_t)78 << 16 | (uint64_t)79 << 32);
        size_t n3 = 0;
        for (char *a = news, *e; (e = strchr(a, '\n')); a = e + 1)
            n3 += check_text(m3, &rt3, a, (size_t)(e - a), NULL);
        print_message("random history model: %zu keys, %zu tokens identical\n", rt3.n, n3);
        /* the same weights as a two-sided model (NER_F_DOC2): the second
         * pass retags only the sentences whose two-sided bits differ from
         * the first pass's; the reference retags every sentence */
        size_t cap3 = nahr_tokenize(news, strlen(news), NULL, 0) + 1, changed = 0;
        uint8_t *one = malloc(cap3), *two = malloc(cap3);
        nahr_token *tk = malloc(cap3 * sizeof *tk);
        assert_true(one && two && tk);
        size_t nn = 0;
        for (char *a = news, *e; (e = strchr(a, '\n')); a = e + 1) {
            size_t len = (size_t)(e - a), nt = nahr_tokenize(a, len, tk, cap3);
            void *sc = malloc(ner_model_scratch_size(m3, nt) + 1);
            assert_non_null(sc);
            m3->flags &= ~NER_F_DOC2;
            assert_int_equal(ner_model_tag(m3, a, tk, nt, sc, one + nn), 0);
            m3->flags |= NER_F_DOC2;
            free(sc);
            sc = malloc(ner_model_scratch_size(m3, nt) + 1);
            assert_non_null(sc);
            assert_int_equal(ner_model_tag(m3, a, tk, nt, (char *)sc + 1, two + nn), 0);
            free(sc);
            assert_int_equal(check_text(m3, &rt3, a, len, NULL), nt);
            nn += nt;
        }
        for (size_t i = 0; i < nn; i++)
            changed += one[i] != two[i];
        print_message("two-sided: %zu of %zu tokens tagged otherwise than one-sided\n", changed, nn);
        assert_true(changed > 0); /* the second pass ran and changed tags */
        free(one);
        free(two);
        free(tk);
        free(rt3.keys);
        free(rt3.w);
        ner_model_free(m3);
        ner_cache_reset(thread_cache);
        ner_cache_reset(tiny_cache);
    }
    free(run);
    free(news);
    free(rt.keys);
    free(rt.w);
    free(rt2.keys);
    free(rt2.w);
    ner_model_free(m);
    ner_model_free(m2);
    ner_cache_reset(thread_cache); /* the next model may get the same address */
    ner_cache_reset(tiny_cache);
}

/* A match report in our own words: more than NER_TOPIC_MIN words of the
 * sports vocabulary, so NER_F_TOPIC's features fire. */
static const char *const SPORT_TEXT =
    "فاز فريق بورتو على ضيفه ليون بهدفين في مباراة الدوري أمس. وسجل لاعب الوسط الهدف الأول "
    "في الشوط الثاني، وقال مدرب ليون إن المنتخب سيلعب في الملعب نفسه. وتعادل هامبورغ مع بريمن "
    "في الكأس.";

/* A random model with the article context (NER_F_ACTX), the article topic
 * (NER_F_TOPIC) or both, alone and with the prediction history, two sets of
 * random weights each: the fast paths (the context pass through the token
 * tables, the facts' rows of the thread cache, the topic rows of its memo)
 * give the reference's tags, on our text, a match report, the edge
 * sentences and news articles, then the match report and our text again
 * (memo entries made in other articles, with and without the sports bit),
 * and with both flags one call longer than the tagger describes whole
 * (16,384 tokens: the separate context pass). */
static void test_actx_model_matches_reference(void **state)
{
    (void)state;
    rng_state = 4242;
    char path[1024];
    snprintf(path, sizeof path, "%s/data/news/news-001.jsonl", shared_dir());
    size_t na = 0;
    char *news = read_articles(path, 25, &na);
    /* the text the random keys come from: the news (or our text) and the match report */
    const char *base = news ? news : OWN_TEXT;
    char *text = malloc(strlen(base) + strlen(SPORT_TEXT) + 2);
    assert_non_null(text);
    snprintf(text, strlen(base) + strlen(SPORT_TEXT) + 2, "%s\n%s", SPORT_TEXT, base);
    static const uint32_t variants[3] = {NER_F_ACTX, NER_F_TOPIC, NER_F_ACTX | NER_F_TOPIC};
    for (unsigned vh = 0; vh < 6; vh++) {
        const unsigned hist = vh % 2;
        for (unsigned seed = 0; seed < 2; seed++) {
            const uint32_t fl = variants[vh / 2];
            rng_state = 4242 + seed;
            random_extra_flags = fl;
            ref_table rt;
            ner_model *m = random_model(text, &rt, hist ? 91 | (uint64_t)92 << 16 : 0);
            random_extra_flags = 0;
            if (!hist)
                assert_int_equal(m->flags & NER_F_HIST, 0);
            size_t ntok = check_text(m, &rt, OWN_TEXT, strlen(OWN_TEXT), NULL);
            ntok += check_text(m, &rt, SPORT_TEXT, strlen(SPORT_TEXT), NULL);
            ntok += check_text(m, &rt, edge_text(), strlen(edge_text()), NULL);
            for (char *a = news, *e; a && (e = strchr(a, '\n')); a = e + 1)
                ntok += check_text(m, &rt, a, (size_t)(e - a), NULL);
            ntok += check_text(m, &rt, SPORT_TEXT, strlen(SPORT_TEXT), NULL);
            ntok += check_text(m, &rt, OWN_TEXT, strlen(OWN_TEXT), NULL);
            if (fl == (NER_F_ACTX | NER_F_TOPIC) && seed == 0) {
                /* the match report and the text, repeated past 16,384 tokens */
                size_t tl = strlen(text), reps = 1;
                while (reps * nahr_tokenize(text, tl, NULL, 0) <= 16384 + 1000)
                    reps++;
                char *big = malloc(reps * (tl + 1) + 1), *q = big;
                assert_non_null(big);
                for (size_t r = 0; r < reps; r++) {
                    memcpy(q, text, tl);
                    q += tl;
                    *q++ = '\n';
                }
                *q = 0;
                const size_t nb = check_text(m, &rt, big, (size_t)(q - big), NULL);
                assert_true(nb > 16384);
                ntok += nb;
                free(big);
            }
            /* the facts change tags: the same weights without the flag differ
             * (the match report and the text as one call each) */
            size_t differ = 0, ntt = 0;
            for (unsigned which = 0; which < 2; which++) {
                const char *x = which ? text : SPORT_TEXT;
                size_t cap = nahr_tokenize(x, strlen(x), NULL, 0) + 1;
                nahr_token *tk = malloc(cap * sizeof *tk);
                uint8_t *with = malloc(cap), *without = malloc(cap);
                assert_true(tk && with && without);
                size_t nt = nahr_tokenize(x, strlen(x), tk, cap);
                void *sc = malloc(ner_model_scratch_size(m, nt));
                assert_non_null(sc);
                assert_int_equal(ner_model_tag(m, x, tk, nt, sc, with), 0);
                m->flags &= ~fl;
                assert_int_equal(ner_model_tag(m, x, tk, nt, sc, without), 0);
                m->flags |= fl;
                for (size_t i = 0; i < nt; i++)
                    differ += with[i] != without[i];
                ntt += nt;
                free(sc);
                free(tk);
                free(with);
                free(without);
            }
            assert_true(differ > 0);
            print_message("%s%s, weights %u: %zu keys, %zu tokens identical, %zu of %zu tokens "
                          "tagged otherwise without it\n",
                          fl == NER_F_ACTX ? "article context"
                          : fl == NER_F_TOPIC ? "article topic"
                                              : "context + topic",
                          hist ? " + history" : "", seed, rt.n, ntok, differ, ntt);
            free(rt.keys);
            free(rt.w);
            ner_model_free(m);
            ner_cache_reset(thread_cache);
            ner_cache_reset(tiny_cache);
        }
    }
    free(text);
    free(news);
}

/* The model file at path on our sentences, the ANERcorp test split
 * (sentence by sentence, as nahr-eval-ner) and news articles (whole
 * articles). */
static void check_model_file(const char *file, const char *what)
{
    char path[1024], err[512];
    ner_model *m;
    if (ner_model_load(file, &m, err, sizeof err) != 0)
        fail_msg("%s", err);
    size_t ntok = check_text(m, NULL, OWN_TEXT, strlen(OWN_TEXT), NULL);
    ntok += check_text(m, NULL, edge_text(), strlen(edge_text()), NULL);
    snprintf(path, sizeof path, "%s/data/anercorp/test.txt", shared_dir());
    ner_corpus c;
    if (access(path, R_OK) == 0) {
        assert_int_equal(ner_conll_read(path, &c, err, sizeof err), 0);
        uint8_t *fast = malloc(c.ntok + 1), *ref = malloc(c.ntok + 1);
        assert_true(fast && ref);
        assert_int_equal(ner_tag_corpus(m, &c, fast), 0);
        for (size_t k = 0; k < c.nsent; k++)
            ref_tag(m, NULL, c.text, c.toks + c.sent[k], c.sent[k + 1] - c.sent[k],
                    ref + c.sent[k]);
        for (size_t i = 0; i < c.ntok; i++)
            if (fast[i] != ref[i])
                fail_msg("ANERcorp test token %zu: fast %s, reference %s", i,
                         ner_tag_name(fast[i]), ner_tag_name(ref[i]));
        ntok += c.ntok;
        free(fast);
        free(ref);
        ner_corpus_free(&c);
    } else {
        print_message("note: %s not found\n", path);
    }
    snprintf(path, sizeof path, "%s/data/news/news-001.jsonl", shared_dir());
    size_t na = 0;
    char *news = read_articles(path, 60, &na);
    if (news) {
        for (char *a = news, *e; (e = strchr(a, '\n')); a = e + 1)
            ntok += check_text(m, NULL, a, (size_t)(e - a), NULL);
        free(news);
    } else {
        print_message("note: %s not found\n", path);
    }
    print_message("%s: %zu tokens identical (%zu news articles)\n", what, ntok, na);
    ner_model_free(m);
    ner_cache_reset(thread_cache);
    ner_cache_reset(tiny_cache);
}

static void test_shipped_model_matches_reference(void **state)
{
    (void)state;
    const char *src = getenv("NAHR_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/plugins/entities/ner/data/anercorp.nermodel", src ? src : ".");
    if (access(path, R_OK) != 0) {
        print_message("skipped: no shipped model at %s\n", path);
        skip();
    }
    check_model_file(path, "shipped model");
}

/* Another trained model, e.g. the optional accurate one (--actx --topic,
 * not shipped): NAHR_NER_TEST_MODEL=FILE; skipped without it. */
static void test_other_model_matches_reference(void **state)
{
    (void)state;
    const char *path = getenv("NAHR_NER_TEST_MODEL");
    if (!path || !*path) {
        print_message("skipped: NAHR_NER_TEST_MODEL not set\n");
        skip();
    }
    check_model_file(path, path);
}

static int setup_cache(void **state)
{
    (void)state;
    thread_cache = ner_cache_new();
    tiny_cache = ner_cache_new_slots(16);
    return thread_cache && tiny_cache ? 0 : -1;
}

static int teardown_cache(void **state)
{
    (void)state;
    ner_cache_free(thread_cache);
    ner_cache_free(tiny_cache);
    return 0;
}

/* ner_features_token() (the cached tagger's features of a new token, the
 * values several features mix hashed once) gives ner_features_unary() and
 * ner_features_neighbour() at -2, -1, +1, +2, key for key in the same order:
 * random descriptions, with the equalities it takes shortcuts on (stem =
 * word, stm[k] = stem, stem suffix = word suffix, news of the stem = of the
 * word) half the time, zero affixes, absent news, every combination of the
 * flags that change the unary and neighbour features. */
static void test_features_token_matches_plain(void **state)
{
    (void)state;
    ner_model *m = ner_model_new();
    assert_non_null(m);
    static const uint32_t flagbits[] = {NER_F_CLUSTERS, NER_F_CLX, NER_F_NEWS, NER_F_LEX, NER_F_LEXSP};
    uint32_t x = 0x9E3779B9u;
#define RND() (x ^= x << 13, x ^= x >> 17, x ^= x << 5, x)
    for (int it = 0; it < 64000; it++) {
        uint32_t flags = 0;
        for (unsigned b = 0; b < sizeof flagbits / sizeof flagbits[0]; b++)
            if ((unsigned)it >> b & 1u)
                flags |= flagbits[b];
        m->flags = flags | NER_F_GAZ | NER_F_HIST;
        ner_tokdesc t;
        memset(&t, 0, sizeof t);
        /* small values collide often: 0 (no affix), equal fields */
        const uint32_t lim = it % 3 == 0 ? 4u : 0xFFFFFFFFu;
        t.word = RND() % lim;
        t.stem = RND() & 1u ? t.word : RND() % lim;
        t.shape = RND() % 512u;
        for (unsigned k = 0; k < 3; k++) {
            t.pfx[k] = RND() & 3u ? RND() % lim : 0;
            t.sfx[k] = RND() & 3u ? RND() % lim : 0;
        }
        for (unsigned k = 0; k < 2; k++) {
            const uint32_t r = RND();
            t.stem_sfx[k] = r & 1u ? t.sfx[k] : r & 2u ? 0 : RND() % lim;
            t.stem_pfx[k] = RND() & 3u ? RND() % lim : 0;
        }
        t.nsplit = (uint8_t)(1u + RND() % NER_MAXSPLIT);
        for (unsigned k = 1; k < t.nsplit; k++) {
            t.pre[k] = RND() % lim;
            t.stm[k] = RND() & 1u ? t.stem : RND() % lim;
        }
        t.has_cl = RND() & 1u;
        for (unsigned c = 0; c < NER_NCL; c++)
            t.cl[c] = RND() % 70000u;
        t.news = RND() & 3u ? (uint8_t)RND() : NER_NEWS_ABSENT;
        t.news_stem = RND() & 1u ? t.news : (uint8_t)RND();
        t.lex = RND() & 3u;
        t.lex_stem = RND() & 3u;
        t.lex_sp = RND() & 7u;
        uint32_t f[NER_MAXF], fn[4][NER_MAXF], g[NER_MAXF];
        size_t nn[4];
        const size_t nf = ner_features_token(m, &t, f, fn, nn);
        const size_t ng = ner_features_unary(m, &t, g);
        assert_int_equal(nf, ng);
        assert_memory_equal(f, g, nf * sizeof *f);
        static const int off[4] = {-2, -1, 1, 2};
        for (unsigned r = 0; r < 4; r++) {
            const size_t nb = ner_features_neighbour(m, &t, off[r], g);
            assert_int_equal(nn[r], nb);
            assert_memory_equal(fn[r], g, nb * sizeof *g);
        }
    }
#undef RND
    ner_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_viterbi_matches_reference),
        cmocka_unit_test(test_features_token_matches_plain),
        cmocka_unit_test(test_random_model_matches_reference),
        cmocka_unit_test(test_actx_model_matches_reference),
        cmocka_unit_test(test_shipped_model_matches_reference),
        cmocka_unit_test(test_other_model_matches_reference),
    };
    return cmocka_run_group_tests(tests, setup_cache, teardown_cache);
}
