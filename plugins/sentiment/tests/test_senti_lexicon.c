/* test_senti_lexicon.c - the lexicon loader's fast paths against their
 * plain ones (lexicon.c is included to reach its static functions):
 *  - normalise_term() (a term without whitespace copied as it is) against
 *    the byte loop that collapses whitespace runs, on random terms;
 *  - senti_lexicon_add() (spaces found with memchr) against the byte loops
 *    it replaced: the shipped lexicons and random phrases (whitespace runs,
 *    repeats, removals) give the same table, pool and filters, byte for
 *    byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../lexicon.c"

#include "senti_test_data.h"

/* ---- the plain definitions (lexicon.c before the memchr paths) ---- */

static size_t plain_normalise_term(const char *term, size_t n, char *out)
{
    char tmp[MAX_TERM + 1];
    size_t m = nahr_ar_normalize(term, n, tmp, NULL);
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < m; i++) {
        char c = tmp[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = 1;
            continue;
        }
        if (space && o > 0)
            out[o++] = ' ';
        space = 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return o;
}

static senti_entry *plain_put_key(senti_lexicon *lx, const char *key, size_t n)
{
    uint64_t h = key_hash(key, n);
    senti_entry *e = find_slot(lx->slots, lx->mask, lx->pool, h, key, n);
    if (e->hash)
        return e;
    if ((lx->pool_len + n + 1) > lx->pool_cap) {
        size_t ncap = lx->pool_cap ? lx->pool_cap * 2 : 4096;
        while (ncap < lx->pool_len + n + 1)
            ncap *= 2;
        char *np = realloc(lx->pool, ncap);
        assert_non_null(np);
        lx->pool = np;
        lx->pool_cap = ncap;
    }
    memcpy(lx->pool + lx->pool_len, key, n);
    lx->pool[lx->pool_len + n] = '\0';
    e->hash = h;
    e->key_off = (uint32_t)lx->pool_len;
    e->key_len = (uint16_t)n;
    e->kind = 0;
    e->prefix = 0;
    e->value = 0;
    lx->pool_len += n + 1;
    lx->used++;
    lx->bloom[(h >> 20) % SENTI_BLOOM_BITS / 64] |= 1ull << ((h >> 20) % 64);
    size_t sa, sb;
    senti_stem_bits(senti_stem_hash(key, n), &sa, &sb);
    lx->stem_bloom[sa / 64] |= 1ull << (sa % 64);
    lx->stem_bloom[sb / 64] |= 1ull << (sb % 64);
    for (size_t i = 0; i < n; i++) {
        if (key[i] != ' ')
            continue;
        size_t b = senti_pair_bit(key_hash(key, i), senti_word_hash(key + i + 1, n - i - 1));
        lx->pair_bloom[b / 64] |= 1ull << (b % 64);
    }
    return e;
}

static int plain_add(senti_lexicon *lx, const char *term, size_t n, int kind, float value)
{
    char key[MAX_TERM + 1];
    if (n == 0 || n > MAX_TERM)
        return NAHR_EINVAL;
    size_t m = plain_normalise_term(term, n, key);
    if (m == 0)
        return NAHR_EINVAL;
    int words = 1;
    for (size_t i = 0; i < m; i++)
        words += key[i] == ' ';
    while ((lx->used + (size_t)words) * 2 + 16 > lx->mask + 1)
        assert_int_equal(grow(lx), NAHR_OK);
    for (size_t i = 0; i < m; i++) {
        if (key[i] != ' ')
            continue;
        senti_entry *p = plain_put_key(lx, key, i);
        p->prefix = 1;
    }
    senti_entry *e = plain_put_key(lx, key, m);
    if (!e->kind && kind)
        lx->count++;
    else if (e->kind && !kind)
        lx->count--;
    e->kind = (uint8_t)kind;
    e->value = value;
    if (words > lx->max_words)
        lx->max_words = words;
    return NAHR_OK;
}

/* ---- tests ---- */

static unsigned next_rand(unsigned *r)
{
    *r = *r * 1103515245u + 12345u;
    return *r >> 8;
}

/* A random term: Arabic letters (marks and tatweel now and then), Latin,
 * and whitespace runs (spaces, tabs, CR, LF) at either end and between
 * words, or none at all. */
static size_t random_term(unsigned *r, char *t, size_t cap)
{
    static const char *const ws[] = {" ", "  ", "\t", " \t ", "\r\n", "\n"};
    size_t o = 0;
    size_t words = 1 + next_rand(r) % 4;
    int spacey = next_rand(r) % 3 != 0;
    if (spacey && next_rand(r) % 4 == 0)
        o += (size_t)snprintf(t + o, cap - o, "%s", ws[next_rand(r) % 6]);
    for (size_t w = 0; w < words && o + 40 < cap; w++) {
        if (w > 0)
            o += (size_t)snprintf(t + o, cap - o, "%s", spacey ? ws[next_rand(r) % 6] : "");
        size_t len = 1 + next_rand(r) % 7;
        for (size_t k = 0; k < len; k++) {
            unsigned x = next_rand(r) % 20;
            if (x < 16) {
                unsigned cp = 0x621 + next_rand(r) % 42;
                t[o++] = (char)(0xC0 | (cp >> 6));
                t[o++] = (char)(0x80 | (cp & 0x3F));
            } else if (x < 18) {
                t[o++] = '\xd9';
                t[o++] = (char)(0x8b + next_rand(r) % 8); /* a mark: dropped */
            } else {
                t[o++] = (char)('A' + next_rand(r) % 26);
            }
        }
    }
    if (spacey && next_rand(r) % 4 == 0)
        o += (size_t)snprintf(t + o, cap - o, "%s", ws[next_rand(r) % 6]);
    t[o] = '\0';
    return o;
}

static void t_normalise_term_same(void **state)
{
    (void)state;
    unsigned r = 11;
    size_t with_space = 0, without = 0;
    for (int round = 0; round < 20000; round++) {
        char term[MAX_TERM + 1], a[MAX_TERM + 1], b[MAX_TERM + 1];
        size_t n = random_term(&r, term, 200);
        size_t na = normalise_term(term, n, a);
        size_t nb = plain_normalise_term(term, n, b);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na + 1);
        with_space += memchr(a, ' ', na) != NULL;
        without += memchr(a, ' ', na) == NULL;
    }
    assert_true(with_space > 1000);
    assert_true(without > 1000);
}

static void assert_lexicons_same(const senti_lexicon *a, const senti_lexicon *b)
{
    assert_int_equal(a->mask, b->mask);
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->used, b->used);
    assert_int_equal(a->max_words, b->max_words);
    assert_int_equal(a->pool_len, b->pool_len);
    assert_memory_equal(a->pool, b->pool, a->pool_len);
    assert_memory_equal(a->slots, b->slots, (a->mask + 1) * sizeof *a->slots);
    assert_memory_equal(a->bloom, b->bloom, sizeof a->bloom);
    assert_memory_equal(a->pair_bloom, b->pair_bloom, sizeof a->pair_bloom);
    assert_memory_equal(a->stem_bloom, b->stem_bloom, sizeof a->stem_bloom);
}

/* Each line "term<TAB>value" of a shipped lexicon file through add(). */
static void add_file(senti_lexicon *lx, const char *name, int (*add)(senti_lexicon *, const char *, size_t, int, float))
{
    char path[4096], line[4096];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab || line[0] == '#' || strncmp(line, "term\t", 5) == 0)
            continue;
        char *v = tab + 1;
        size_t vlen = strcspn(v, "\t");
        while (vlen && v[vlen - 1] == ' ')
            vlen--;
        int kind = 0;
        float value = 0;
        if (parse_value(v, vlen, &kind, &value) != 0)
            continue;
        assert_int_equal(add(lx, line, (size_t)(tab - line), kind, value), NAHR_OK);
    }
    fclose(f);
}

static void t_lexicon_same_as_plain(void **state)
{
    (void)state;
    senti_lexicon *a = senti_lexicon_new(), *b = senti_lexicon_new();
    assert_non_null(a);
    assert_non_null(b);
    static const char *const files[] = {"nileulex.tsv", "news_cues.tsv", "modifiers.tsv"};
    for (int i = 0; i < 3; i++) {
        add_file(a, files[i], senti_lexicon_add);
        add_file(b, files[i], plain_add);
    }
    assert_lexicons_same(a, b);
    assert_true(a->max_words >= 3);
    senti_lexicon *loaded = shipped_lexicon(); /* senti_lexicon_load(): the same */
    assert_lexicons_same(loaded, b);
    senti_lexicon_free(loaded);
    /* and the same scores with the model, on a text of lexicon words */
    senti_model *model = shipped_model();
    senti_config ca = {0};
    ca.model = model;
    ca.model_weight = 0.4;
    ca.neutral_band = 0.2;
    ca.length_damping = 0.02;
    ca.negation_window = 3;
    senti_config cb = ca;
    ca.lex = a;
    cb.lex = b;
    const char *text = "لم يكن الأداء جيدا. نجاح كبير جدا في وقف إطلاق النار، لكن الخسائر فادحة.";
    senti_worker wa = {0}, wb = {0};
    senti_result ra, rb;
    assert_int_equal(senti_analyze(&ca, &wa, text, strlen(text), &ra), NAHR_OK);
    assert_int_equal(senti_analyze(&cb, &wb, text, strlen(text), &rb), NAHR_OK);
    assert_totals_same(&ra, &rb);
    assert_true(ra.nhits > 0);
    senti_worker_free(&wa);
    senti_worker_free(&wb);
    senti_model_free(model);
    /* random phrases: repeats (a small vocabulary), removals (kind 0) */
    unsigned r = 5;
    for (int k = 0; k < 30000; k++) {
        char term[MAX_TERM + 1];
        size_t n = random_term(&r, term, 120);
        int kind = (int)(next_rand(&r) % 4);
        float value = (float)(next_rand(&r) % 9) - 4.0f;
        int got = senti_lexicon_add(a, term, n, kind, value);
        int want = plain_add(b, term, n, kind, value);
        assert_int_equal(got, want);
    }
    assert_lexicons_same(a, b);
    assert_true(a->mask > 16384);
    senti_lexicon_free(a);
    senti_lexicon_free(b);
}

int main(void)
{
    set_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_normalise_term_same),
        cmocka_unit_test(t_lexicon_same_as_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
