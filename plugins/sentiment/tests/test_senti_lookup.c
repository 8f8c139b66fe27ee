/* test_senti_lookup.c - the word lookup's fast paths against their plain
 * ones (analyze.c is included to reach its static functions):
 *  - split_bound()'s range holds every proclitic split nahr_ar_proclitic_splits()
 *    offers, and every split is an even offset;
 *  - the stem filter never rejects a key the table holds;
 *  - lookup_word() (the stem filter, then the full lookup) gives what
 *    lookup_stems() (the full lookup) gives: entry, strip, words consumed
 *    and context, on lexicon words with proclitics, suffixes and marks,
 *    phrases, random Arabic words, Latin, digits and invalid bytes;
 *    and the filter does reject most random words (else it saves nothing);
 *  - senti_token_weights() (features and weights in one pass) against
 *    senti_token_features() and the rows added one by one;
 *  - the word cache and the cached number entry against the uncached path;
 *  - key_eq() and key_copy() (the cache's key compare and copy) against
 *    memcmp() and memcpy();
 *  - a cache set's order (most recent first) after hits and misses;
 *  - the token loop's fast path against do_token() for every token
 *    (fast_run_off), with and without a model, on texts of lexicon words,
 *    phrase starts, negators, modifiers, punctuation and paragraph breaks;
 *  - the lexicon-only cache's word hash made on demand (entry_word_hash())
 *    against senti_word_hash() of the normalised key;
 *  - the chunk's cache-set array: WC_AHEAD NULL entries past its last
 *    token (cache_prefetch() reads them without a bounds test), whatever
 *    the chunks before it;
 *  - the lexicon hit counts (sentiment-eval --hits) the same with the fast
 *    path as through do_token() (the fast path leaves them to do_token()).
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
    static const char *const starts[] = {"و",   "ف",   "ب",  "ك",   "ل",  "ال",  "وال", "بال",
                                         "لل", "ولل", "فب", "وَ", "اَل", "الْ", "ا",  "اب"};
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

/* Every proclitic split of a word is even and within split_bound()'s
 * range (one split at most after an initial alef: its article). */
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
        size_t lo, bound = split_bound((const unsigned char *)w, n, &lo);
        for (size_t k = 0; k < ns; k++) {
            assert_true(splits[k] <= bound);
            assert_true(splits[k] == 0 || splits[k] >= lo);
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
    senti_model *model = shipped_model();
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
    senti_model *model = shipped_model();
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

/* key_eq() against memcmp() for 0..WC_KEY bytes: equal keys, and keys
 * that differ in one byte at each position (one bit, or a whole byte);
 * key_copy() against memcpy(). */
static void t_key_eq_copy_same_as_libc(void **state)
{
    (void)state;
    unsigned r = 77;
    size_t differ = 0;
    for (int round = 0; round < 20000; round++) {
        char a[WC_KEY + 8], b[WC_KEY + 8];
        size_t n = (size_t)round % (WC_KEY + 1);
        for (size_t k = 0; k < sizeof a; k++)
            a[k] = b[k] = (char)(next_rand(&r) % (round % 3 ? 256 : 3));
        if (round % 4) {
            size_t at = n ? next_rand(&r) % n : 0;
            if (n)
                b[at] ^= (char)(round % 8 == 1 ? 0xFF : 1u << (next_rand(&r) % 8));
        } else {
            /* a difference past n only: must not count */
            b[n] ^= 1;
        }
        int want = memcmp(a, b, n) == 0;
        assert_int_equal(key_eq(a, b, n), want);
        assert_int_equal(key_eq(b, a, n), want);
        differ += !want;
    }
    assert_true(differ > 10000);
    /* key_copy() copies exactly n bytes, for every length */
    for (size_t n = 0; n <= WC_KEY; n++)
        for (int round = 0; round < 50; round++) {
            char src[WC_KEY + 8], dst[WC_KEY + 8], want[WC_KEY + 8];
            for (size_t k = 0; k < sizeof src; k++) {
                src[k] = (char)next_rand(&r);
                dst[k] = want[k] = (char)next_rand(&r);
            }
            memcpy(want, src, n);
            key_copy(dst, src, n);
            assert_memory_equal(dst, want, sizeof dst);
        }
    /* every position of every length */
    for (size_t n = 1; n <= WC_KEY; n++)
        for (size_t at = 0; at < n; at++) {
            char a[WC_KEY], b[WC_KEY];
            memset(a, 'x', sizeof a);
            memset(b, 'x', sizeof b);
            b[at] = 'y';
            assert_false(key_eq(a, b, n));
            b[at] = 'x';
            assert_true(key_eq(a, b, n));
        }
}

/* A set of the word cache keeps the most recent first: a miss goes in
 * front and drops the last, a hit moves to the front. */
static void t_cache_set_order(void **state)
{
    (void)state;
    static wc_entry set[WC_WAYS] __attribute__((aligned(64)));
    static const char *const words[] = {"a", "bb", "ccc", "dddd", "eeeee"};
    char norm[WORD_MAX + 1];
    int have = 0;
    memset(set, 0, sizeof set);
    for (int k = 0; k < 4; k++)
        assert_ptr_equal(cache_get(NULL, words[k], strlen(words[k]), norm, &have, set), set);
    const char *want1[] = {"dddd", "ccc", "bb", "a"};
    for (int k = 0; k < 4; k++)
        assert_true(entry_is(&set[k], want1[k], strlen(want1[k])));
    assert_ptr_equal(cache_get(NULL, "bb", 2, norm, &have, set), set); /* a hit */
    assert_int_equal(have, 0);
    assert_ptr_equal(cache_get(NULL, "eeeee", 5, norm, &have, set), set); /* a miss */
    assert_int_equal(have, 1);
    const char *want2[] = {"eeeee", "bb", "dddd", "ccc"};
    for (int k = 0; k < 4; k++)
        assert_true(entry_is(&set[k], want2[k], strlen(want2[k])));
}

/* A text of lexicon words (one-word keys, with proclitics now and then,
 * negators and modifiers among them), the first words of phrase keys
 * (followed by the rest of the phrase or by another word), words of a
 * small vocabulary (so that most tokens hit the cache), numbers, tokens
 * longer than a cache key, punctuation and paragraph breaks. */
static size_t lexicon_text(const senti_lexicon *lx, unsigned *r, char *t, size_t cap)
{
    static const char *const pre[] = {"", "", "", "و", "ب", "ال", "وال", "لل"};
    static const char *const punct[] = {".", "،", "!", "؟", "\n\n", ":", "(", ")"};
    size_t o = 0;
    while (o + 700 < cap) {
        unsigned x = next_rand(r) % 100;
        if (x < 35) {
            /* a key of the table, or the first word of one */
            const senti_entry *e = NULL;
            while (!e) {
                const senti_entry *c = &lx->slots[next_rand(r) % (lx->mask + 1)];
                if (c->hash && c->key_len < 300)
                    e = c;
            }
            const char *key = lx->pool + e->key_off;
            const char *sp = memchr(key, ' ', e->key_len);
            size_t kl = e->key_len;
            if (sp && next_rand(r) % 2)
                kl = (size_t)(sp - key); /* the phrase start alone */
            const char *p = pre[next_rand(r) % (sizeof pre / sizeof pre[0])];
            memcpy(t + o, p, strlen(p));
            o += strlen(p);
            memcpy(t + o, key, kl);
            o += kl;
        } else if (x < 85) {
            o += random_word(r, t + o) % 24;
            if (next_rand(r) % 4) { /* a small vocabulary: hits */
                unsigned w = next_rand(r) % 300;
                o += (size_t)snprintf(t + o, 32, "\xd9\x83\xd9%c%c", (char)(0x80 + w % 10), "abc"[w % 3]);
            }
        } else if (x < 88) {
            o += (size_t)snprintf(t + o, 32, "%u", next_rand(r) % 1000);
        } else if (x < 90) {
            for (int k = 0; k < 20; k++) { /* 40 bytes: not cached */
                memcpy(t + o, "\xd8\xb3", 2);
                o += 2;
            }
        } else {
            const char *p = punct[next_rand(r) % (sizeof punct / sizeof punct[0])];
            memcpy(t + o, p, strlen(p));
            o += strlen(p);
        }
        t[o++] = ' ';
    }
    return o;
}

static void assert_results_same(const senti_result *a, const senti_result *b)
{
    assert_totals_same(a, b);
    for (size_t k = 0; k < a->nsent; k++) {
        const senti_sentence *x = &a->sents[k], *y = &b->sents[k];
        assert_int_equal(x->start, y->start);
        assert_int_equal(x->end, y->end);
        assert_int_equal(x->nwords, y->nwords);
        assert_int_equal(x->nfeat, y->nfeat);
        assert_int_equal(x->label, y->label);
        assert_memory_equal(&x->pos, &y->pos, sizeof x->pos);
        assert_memory_equal(&x->neg, &y->neg, sizeof x->neg);
        assert_memory_equal(x->sums, y->sums, sizeof x->sums);
        assert_memory_equal(&x->score, &y->score, sizeof x->score);
    }
}

/* The cache entries of a worker in each lexicon state. */
static void count_states(const senti_worker *w, size_t *states)
{
    for (size_t k = 0; k < WC_SLOTS; k++)
        if (w->cache->slot[k].klen)
            states[w->cache->slot[k].lex_state]++;
}

/* The token loop with its fast path against every token through
 * do_token(): bit-identical sentences and scores, with a fresh worker and
 * a warm one (every word cached), with and without a model. */
static void t_fast_path_same_as_do_token(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    senti_model *model = shipped_model();
    enum { CAP = 1 << 16 };
    char *text = malloc(CAP);
    assert_non_null(text);
    for (int with_model = 0; with_model < 2; with_model++) {
        senti_config cfg = {0};
        cfg.lex = lx;
        cfg.model = with_model ? model : NULL;
        cfg.model_weight = 0.4;
        cfg.neutral_band = 0.2;
        cfg.length_damping = 0.02;
        cfg.negation_window = 3;
        senti_worker fast = {0}, plain = {0};
        unsigned r = 4242 + (unsigned)with_model;
        size_t hits = 0, states[8] = {0};
        for (int round = 0; round < 60; round++) {
            size_t n = lexicon_text(lx, &r, text, CAP);
            senti_result a, b;
            for (int twice = 0; twice < 2; twice++) { /* the second time warm */
                fast_run_off = 0;
                assert_int_equal(senti_analyze(&cfg, &fast, text, n, &a), NAHR_OK);
                fast_run_off = 1;
                assert_int_equal(senti_analyze(&cfg, &plain, text, n, &b), NAHR_OK);
                fast_run_off = 0;
                assert_results_same(&a, &b);
            }
            hits += a.nhits;
        }
        count_states(&fast, states);
        assert_true(hits > 1000);
        assert_true(states[WC_LEX_NONE] > 1000);
        assert_true(states[WC_LEX_PHRASE] > 50);
        assert_true(states[WC_LEX_FREE] > 1000);
        senti_worker_free(&fast);
        senti_worker_free(&plain);
    }
    free(text);
    senti_model_free(model);
    senti_lexicon_free(lx);
}

/* Without a model a cache entry's word hash is made on demand: it equals
 * senti_word_hash() of the normalised key, as with the model (made at
 * once), for every entry of a worker that scored lexicon texts. */
static void t_entry_word_hash(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    senti_config cfg = {0};
    cfg.lex = lx;
    cfg.negation_window = 3;
    cfg.length_damping = 0.02;
    cfg.neutral_band = 0.2;
    enum { CAP = 1 << 16 };
    char *text = malloc(CAP);
    assert_non_null(text);
    senti_worker w = {0};
    unsigned r = 99;
    for (int round = 0; round < 10; round++) {
        size_t n = lexicon_text(lx, &r, text, CAP);
        senti_result res;
        assert_int_equal(senti_analyze(&cfg, &w, text, n, &res), NAHR_OK);
    }
    size_t lazy = 0, made = 0;
    for (size_t k = 0; k < WC_SLOTS; k++) {
        wc_entry *e = &w.cache->slot[k];
        if (!e->klen)
            continue;
        char norm[WC_KEY + 1];
        size_t nl = senti_normalize(e->key, e->klen, norm);
        uint64_t want = senti_word_hash(norm, nl);
        lazy += e->uni == 0;
        made += e->uni != 0;
        assert_true(e->uni == 0 || e->uni == want); /* made after a phrase start */
        assert_true(entry_word_hash(e) == want);
        assert_true(e->uni == want);
    }
    assert_true(lazy > 1000); /* most never needed it */
    assert_true(made > 10);
    senti_worker_free(&w);
    free(text);
    senti_lexicon_free(lx);
}

/* A text of ntok tokens: three-letter words of a small vocabulary and a
 * full stop now and then. */
static size_t text_of_tokens(char *t, size_t ntok, unsigned *r)
{
    size_t o = 0;
    for (size_t k = 0; k < ntok; k++) {
        if (next_rand(r) % 9 == 0) {
            t[o++] = '.';
        } else {
            unsigned w = next_rand(r) % 100;
            o += (size_t)sprintf(t + o, "\xd9\x83\xd8%c\xd8%c", (char)(0xa8 + w % 10), (char)(0xa8 + w / 10));
        }
        t[o++] = ' ';
    }
    return o;
}

/* After each analysis the worker's cache-set array has room for the
 * chunk's tokens and WC_AHEAD more, and those are NULL: token counts that
 * grow the array, that fill it to its capacity less 0..WC_AHEAD, and
 * shorter texts after longer ones (stale sets past the end). */
static void t_cache_sets_padding(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    senti_config cfg = {0};
    cfg.lex = lx;
    cfg.negation_window = 3;
    cfg.length_damping = 0.02;
    cfg.neutral_band = 0.2;
    enum { MAXTOK = 3000 };
    char *text = malloc(MAXTOK * 8 + 16);
    nahr_token *toks = malloc(MAXTOK * sizeof *toks);
    assert_non_null(text);
    assert_non_null(toks);
    senti_worker w = {0};
    unsigned r = 31;
    size_t checked = 0;
    for (int round = 0; round < 400; round++) {
        size_t want;
        if (round % 3 == 0)
            want = 1 + next_rand(&r) % MAXTOK;
        else if (round % 3 == 1 && w.sets_cap > WC_AHEAD)
            want = w.sets_cap - WC_AHEAD + next_rand(&r) % (WC_AHEAD + 1); /* at the capacity's edge */
        else
            want = 1 + next_rand(&r) % 40;
        if (want > MAXTOK)
            want = MAXTOK;
        size_t n = text_of_tokens(text, want, &r);
        size_t ntok = nahr_tokenize(text, n, toks, MAXTOK);
        assert_int_equal(ntok, want);
        senti_result res;
        assert_int_equal(senti_analyze(&cfg, &w, text, n, &res), NAHR_OK);
        assert_non_null(w.sets);
        assert_true(w.sets_cap >= ntok + WC_AHEAD);
        for (size_t j = 0; j < WC_AHEAD; j++)
            assert_null(w.sets[ntok + j]);
        checked++;
    }
    assert_true(checked == 400);
    senti_worker_free(&w);
    free(toks);
    free(text);
    senti_lexicon_free(lx);
}

/* sentiment-eval --hits: each lexicon slot's match count is the same with
 * the fast path as with every token through do_token(). */
static void t_hit_counts_same(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    size_t nslots = lx->mask + 1;
    uint32_t *ca = calloc(nslots, sizeof *ca), *cb = calloc(nslots, sizeof *cb);
    enum { CAP = 1 << 16 };
    char *text = malloc(CAP);
    assert_non_null(ca);
    assert_non_null(cb);
    assert_non_null(text);
    senti_config cfg = {0};
    cfg.lex = lx;
    cfg.negation_window = 3;
    cfg.length_damping = 0.02;
    cfg.neutral_band = 0.2;
    senti_worker fast = {0}, plain = {0};
    unsigned r = 4711;
    for (int round = 0; round < 20; round++) {
        size_t n = lexicon_text(lx, &r, text, CAP);
        senti_result a, b;
        for (int twice = 0; twice < 2; twice++) { /* the second time warm */
            cfg.hit_counts = ca;
            fast_run_off = 0;
            assert_int_equal(senti_analyze(&cfg, &fast, text, n, &a), NAHR_OK);
            cfg.hit_counts = cb;
            fast_run_off = 1;
            assert_int_equal(senti_analyze(&cfg, &plain, text, n, &b), NAHR_OK);
            fast_run_off = 0;
            assert_results_same(&a, &b);
        }
    }
    size_t total = 0;
    for (size_t k = 0; k < nslots; k++) {
        assert_int_equal(ca[k], cb[k]);
        total += ca[k];
    }
    assert_true(total > 1000);
    senti_worker_free(&fast);
    senti_worker_free(&plain);
    free(text);
    free(ca);
    free(cb);
    senti_lexicon_free(lx);
}

int main(void)
{
    set_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_split_bound_covers_splits),
        cmocka_unit_test(t_stem_filter_no_false_rejects),
        cmocka_unit_test(t_lookup_word_same_as_plain),
        cmocka_unit_test(t_token_weights_same),
        cmocka_unit_test(t_cached_same_as_uncached),
        cmocka_unit_test(t_key_eq_copy_same_as_libc),
        cmocka_unit_test(t_cache_set_order),
        cmocka_unit_test(t_fast_path_same_as_do_token),
        cmocka_unit_test(t_entry_word_hash),
        cmocka_unit_test(t_cache_sets_padding),
        cmocka_unit_test(t_hit_counts_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
