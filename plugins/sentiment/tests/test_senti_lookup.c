/* test_senti_lookup.c - the word lookup's fast paths against their plain
 * ones (analyze.c is included to reach its static functions):
 *  - split_bound() is at least every proclitic split nahr_ar_proclitic_splits()
 *    offers, and every split is an even offset;
 *  - the stem filter never rejects a key the table holds;
 *  - lookup_word() (the stem filter, then the full lookup) gives what
 *    lookup_stems() (the full lookup) gives: entry, strip, words consumed
 *    and context, on lexicon words with proclitics, suffixes and marks,
 *    phrases, random Arabic words, Latin, digits and invalid bytes;
 *    and the filter does reject most random words (else it saves nothing);
 *  - senti_token_weights() (features and weights in one pass) against
 *    senti_token_features() and the rows added one by one;
 *  - the word cache and the cached number entry against the uncached path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../analyze.c"

#include "senti_test_data.h"

static unsigned next_rand(unsigned *r)
{
    *r = *r * 1103515245u + 12345u;
    return *r >> 8;
}

/* A random word: Arabic letters (with a mark now and then), Latin,
 * digits, a stray continuation byte; starting with proclitic letters half
 * of the time. */
static size_t random_word(unsigned *r, char *w)
{
    static const char *const starts[] = {"و",   "ف",   "ب",  "ك",   "ل",  "ال",
                                         "وال", "بال", "لل", "ولل", "فب", "وَ"};
    size_t n = 0;
    if (next_rand(r) % 2) {
        const char *s = starts[next_rand(r) % (sizeof starts / sizeof starts[0])];
        memcpy(w, s, strlen(s));
        n = strlen(s);
    }
    size_t len = next_rand(r) % 9;
    for (size_t i = 0; i < len; i++) {
        unsigned x = next_rand(r) % 100;
        if (x < 85) {
            unsigned cp = 0x621 + next_rand(r) % 42; /* U+0621..U+064A */
            w[n++] = (char)(0xC0 | (cp >> 6));
            w[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (x < 90) {
            unsigned cp = 0x64B + next_rand(r) % 8; /* a mark */
            w[n++] = (char)(0xC0 | (cp >> 6));
            w[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (x < 96) {
            w[n++] = (char)('a' + next_rand(r) % 26);
        } else if (x < 99) {
            w[n++] = (char)('0' + next_rand(r) % 10);
        } else {
            w[n++] = (char)0x80;
        }
    }
    return n;
}

/* Every proclitic split of a word is even and within split_bound(). */
static void t_split_bound_covers_splits(void **state)
{
    (void)state;
    unsigned r = 99;
    size_t with_splits = 0;
    for (int round = 0; round < 200000; round++) {
        char w[64];
        size_t n = random_word(&r, w);
        size_t splits[8];
        size_t ns = nahr_ar_proclitic_splits(w, n, splits, 8);
        size_t bound = split_bound((const unsigned char *)w, n);
        for (size_t k = 0; k < ns; k++) {
            assert_true(splits[k] <= bound);
            assert_int_equal(splits[k] % 2, 0);
        }
        with_splits += ns > 1;
    }
    assert_true(with_splits > 10000);
}

/* No key of the table is rejected by the stem filter. */
static void t_stem_filter_no_false_rejects(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    size_t keys = 0;
    for (size_t s = 0; s <= lx->mask; s++) {
        const senti_entry *e = &lx->slots[s];
        if (!e->hash)
            continue;
        assert_true(senti_lexicon_stem_maybe(lx, senti_stem_hash(lx->pool + e->key_off, e->key_len)));
        keys++;
    }
    assert_true(keys > 5000);
    senti_lexicon_free(lx);
}

typedef struct lookup_out {
    const senti_entry *e;
    size_t consumed, strip;
    int context;
} lookup_out;

/* lookup_word() and lookup_stems() of w as token 0 of "w next...". */
static void compare_lookups(const senti_lexicon *lx, const char *w, size_t n, const char *next, size_t *found,
                            size_t *rejected)
{
    char text[512];
    size_t tl = (size_t)snprintf(text, sizeof text, "%.*s %s", (int)n, w, next);
    assert_true(tl < sizeof text);
    nahr_token toks[32];
    size_t ntok = nahr_tokenize(text, tl, toks, 32);
    assert_true(ntok <= 32);
    scan sc = {text, toks, ntok, 0, NULL};
    lookup_out a = {NULL, 1, 0, 0}, b = {NULL, 1, 0, 0};
    a.e = lookup_word(lx, &sc, 0, w, n, &a.consumed, &a.strip, &a.context);
    b.e = lookup_stems(lx, &sc, 0, w, n, &b.consumed, &b.strip, &b.context);
    assert_ptr_equal(a.e, b.e);
    assert_int_equal(a.consumed, b.consumed);
    assert_int_equal(a.strip, b.strip);
    assert_int_equal(a.context, b.context);
    *found += b.e != NULL || b.context;
    *rejected += !lexicon_may_match(lx, w, n);
}

static void t_lookup_word_same_as_plain(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    static const char *const pre[] = {"",    "و",   "ف",   "ب",  "ك",   "ل",   "ال", "وال",
                                      "بال", "فال", "كال", "لل", "ولل", "فلل", "وَ", "بِال"};
    static const char *const suf[] = {"", "ات", "ون", "ين", "ا", "ه"};
    static const char *const next[] = {"إطلاق النار", "جيدا جدا", ".", "النار", "x"};
    unsigned r = 2024;
    size_t found = 0, rejected = 0, total = 0;
    /* the table's one-word keys, as they are and with proclitics, suffixes,
     * their first or last byte changed */
    for (size_t s = 0; s <= lx->mask; s++) {
        const senti_entry *e = &lx->slots[s];
        const char *key = lx->pool + e->key_off;
        if (!e->hash || memchr(key, ' ', e->key_len))
            continue;
        for (int v = 0; v < 4; v++) {
            char w[600];
            const char *p = pre[next_rand(&r) % (sizeof pre / sizeof pre[0])];
            const char *x = suf[next_rand(&r) % (sizeof suf / sizeof suf[0])];
            size_t n = (size_t)snprintf(w, sizeof w, "%s%.*s%s", v == 0 ? "" : p, (int)e->key_len, key,
                                        v == 0 ? "" : x);
            if (v == 3)
                w[next_rand(&r) % 2 ? 0 : n - 1] ^= 1;
            compare_lookups(lx, w, n, next[next_rand(&r) % (sizeof next / sizeof next[0])], &found, &rejected);
            total++;
        }
    }
    size_t lex_found = found;
    assert_true(lex_found > total / 2); /* the variants of lexicon words do match */
    /* random words, raw and normalised */
    found = rejected = 0;
    for (int round = 0; round < 100000; round++) {
        char w[64], norm[64];
        size_t n = random_word(&r, w);
        const char *nx = next[next_rand(&r) % (sizeof next / sizeof next[0])];
        compare_lookups(lx, w, n, nx, &found, &rejected);
        size_t nl = senti_normalize(w, n, norm);
        compare_lookups(lx, norm, nl, nx, &found, &rejected);
    }
    assert_true(found > 1000);         /* some random words hit an entry */
    assert_true(rejected > 2 * 80000); /* and the filter turns most away */
    senti_lexicon_free(lx);
}

/* senti_token_weights() against senti_token_features() (prev 0) and the
 * rows added one by one: same count, unigram hash and bit-identical sums,
 * for the shipped model (its unrolled path up to 160 bytes, the general
 * one beyond) and for other n-gram ranges (the general path). Words of
 * 0..200 bytes: Arabic, Latin, digits, 3- and 4-byte sequences, stray
 * continuation bytes, over-long runs of continuation bytes. */
static void t_token_weights_same(void **state)
{
    (void)state;
    senti_model *model = NULL;
    char path[4096];
    senti_error err;
    snprintf(path, sizeof path, "%s/astd.model", data_dir);
    if (senti_model_load(path, &model, &err) != NAHR_OK)
        fail_msg("%s", err.msg);
    const senti_featcfg cfgs[] = {model->fc, {16, 2, 1, 3}, {16, 1, 3, 5}, {16, 2, 0, 0}};
    unsigned r = 31337;
    size_t fast = 0;
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
        senti_model m = *model;
        m.fc = cfgs[c];
        for (int round = 0; round < 30000; round++) {
            char w[260];
            size_t n = 0, target = next_rand(&r) % (round % 10 == 0 ? 201 : 24);
            while (n < target) {
                unsigned x = next_rand(&r) % 100;
                if (x < 70 && n + 2 <= target) {
                    unsigned cp = 0x621 + next_rand(&r) % 50;
                    w[n++] = (char)(0xC0 | (cp >> 6));
                    w[n++] = (char)(0x80 | (cp & 0x3F));
                } else if (x < 80) {
                    w[n++] = (char)('a' + next_rand(&r) % 26);
                } else if (x < 85 && n + 3 <= target) {
                    memcpy(w + n, "\xe2\x80\x99", 3);
                    n += 3;
                } else if (x < 88 && n + 4 <= target) {
                    memcpy(w + n, "\xf0\x9f\x98\x80", 4);
                    n += 4;
                } else if (x < 95) {
                    w[n++] = (char)(0x80 + next_rand(&r) % 64); /* continuation bytes, runs of them */
                } else {
                    w[n++] = (char)('0' + next_rand(&r) % 10);
                }
            }
            uint32_t feats[SENTI_MAX_TOKEN_FEATURES];
            uint64_t u1 = 0, u2 = 0;
            size_t k1 = senti_token_features(&m.fc, w, n, 0, &u1, feats, SENTI_MAX_TOKEN_FEATURES);
            float plain[3];
            add_weights(m.w, feats, k1, SIZE_MAX, plain);
            float fused[3] = {9, 9, 9};
            size_t k2 = senti_token_weights(&m, w, n, &u2, fused);
            assert_int_equal(k1, k2);
            assert_true(u1 == u2);
            assert_memory_equal(plain, fused, sizeof plain);
            fast += c == 0 && n > 0 && n <= 160;
        }
    }
    assert_true(fast > 20000);
    senti_model_free(model);
}

static void no_sink(void *arg, const uint32_t *feats, size_t k)
{
    (void)arg;
    (void)feats;
    (void)k;
}

/* The word cache (and the cached number entry) against no cache at all:
 * a config with a feature sink runs without the cache, and with a model
 * the sink is never called, so both score with the model, the second on
 * the plain path. Texts of random words, numbers, lexicon words and
 * punctuation: bit-identical sentence sums and scores. */
static void t_cached_same_as_uncached(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    senti_model *model = NULL;
    char path[4096];
    senti_error err;
    snprintf(path, sizeof path, "%s/astd.model", data_dir);
    if (senti_model_load(path, &model, &err) != NAHR_OK)
        fail_msg("%s", err.msg);
    senti_config a = {0};
    a.lex = lx;
    a.model = model;
    a.model_weight = 0.4;
    a.neutral_band = 0.2;
    a.length_damping = 0.02;
    a.negation_window = 3;
    senti_config b = a;
    b.feature_sink = no_sink;
    b.sink_fc = &model->fc;
    static const char *const fixed[] = {"نجاح", "لم يكن جيدا",     "2024", "3.5", "١٢",
                                        "وقف إطلاق النار", ".", "، ", "!"};
    unsigned r = 5;
    senti_worker wa = {0}, wb = {0};
    size_t numbers = 0;
    for (int round = 0; round < 300; round++) {
        char text[8192];
        size_t o = 0;
        while (o < sizeof text - 200) {
            unsigned x = next_rand(&r) % 10;
            if (x < 3) {
                const char *f = fixed[next_rand(&r) % (sizeof fixed / sizeof fixed[0])];
                memcpy(text + o, f, strlen(f));
                o += strlen(f);
            } else if (x < 4) {
                o += (size_t)snprintf(text + o, 32, "%u", next_rand(&r) % 100000);
                numbers++;
            } else {
                o += random_word(&r, text + o);
            }
            text[o++] = ' ';
        }
        senti_result ra, rb;
        assert_int_equal(senti_analyze(&a, &wa, text, o, &ra), NAHR_OK);
        assert_non_null(wa.cache);
        assert_int_equal(senti_analyze(&b, &wb, text, o, &rb), NAHR_OK);
        assert_null(wb.cache);
        assert_int_equal(ra.nsent, rb.nsent);
        assert_int_equal(ra.nhits, rb.nhits);
        assert_memory_equal(&ra.score, &rb.score, sizeof ra.score);
        assert_memory_equal(&ra.model_score, &rb.model_score, sizeof ra.model_score);
        for (size_t k = 0; k < ra.nsent; k++) {
            assert_int_equal(ra.sents[k].nfeat, rb.sents[k].nfeat);
            assert_memory_equal(ra.sents[k].sums, rb.sents[k].sums, 3 * sizeof(float));
        }
    }
    assert_true(numbers > 1000);
    senti_worker_free(&wa);
    senti_worker_free(&wb);
    senti_model_free(model);
    senti_lexicon_free(lx);
}

int main(void)
{
    const char *src = getenv("NAHR_SOURCE_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/plugins/sentiment/data", src && *src ? src : ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_split_bound_covers_splits),
        cmocka_unit_test(t_stem_filter_no_false_rejects),
        cmocka_unit_test(t_lookup_word_same_as_plain),
        cmocka_unit_test(t_token_weights_same),
        cmocka_unit_test(t_cached_same_as_uncached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
