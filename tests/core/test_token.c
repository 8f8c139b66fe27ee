/* test_token.c - the shared tokeniser and the proclitic splitter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nahr/nahr.h"

#define MAXT 256

static size_t tok(const char *s, nahr_token *t)
{
    return nahr_tokenize(s, strlen(s), t, MAXT);
}

static int tok_is(const char *s, const nahr_token *t, const char *want)
{
    size_t n = strlen(want);
    return t->end - t->start == n && memcmp(s + t->start, want, n) == 0;
}

static void test_words_and_punct(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    const char *s = "قال الرئيس، في دمشق؛ هل يأتي؟ نعم.";
    size_t n = tok(s, t);
    assert_int_equal(n, 11);
    assert_true(tok_is(s, &t[0], "قال"));
    assert_true(tok_is(s, &t[1], "الرئيس"));
    assert_true(tok_is(s, &t[2], "،"));
    assert_int_equal(t[2].kind, NAHR_TOK_PUNCT);
    assert_true(tok_is(s, &t[4], "دمشق"));
    assert_true(tok_is(s, &t[5], "؛"));
    assert_true(tok_is(s, &t[7], "يأتي"));
    assert_true(tok_is(s, &t[8], "؟"));
    assert_true(t[8].flags & NAHR_TOK_SENT_END);
    assert_false(t[7].flags & NAHR_TOK_SENT_END);
    assert_true(tok_is(s, &t[10], "."));
    assert_true(t[10].flags & NAHR_TOK_SENT_END);
    assert_true(t[0].flags & NAHR_TOK_PARA_START);
    assert_int_equal(t[0].kind, NAHR_TOK_WORD);
}

static void test_marks_stay_inside(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    /* tashkeel and tatweel inside a word */
    const char *s = "مُحَمَّد الـكبير";
    size_t n = tok(s, t);
    assert_int_equal(n, 2);
    assert_true(tok_is(s, &t[0], "مُحَمَّد"));
    assert_true(tok_is(s, &t[1], "الـكبير"));
    /* tatweel alone is not a word */
    n = tok("قال ـ أمس", t);
    assert_int_equal(n, 3);
    assert_int_equal(t[1].kind, NAHR_TOK_PUNCT);
}

static void test_numbers(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    const char *s = "ارتفع 3.5 و٢٠٢٤ و1,000 بنسبة 90% و٩٠٪ 12/3/2015";
    size_t n = tok(s, t);
    size_t i;
    int found_35 = 0, found_ar = 0, found_1000 = 0, found_pct = 0;
    for (i = 0; i < n && i < MAXT; i++) {
        if (tok_is(s, &t[i], "3.5"))
            found_35 = t[i].kind == NAHR_TOK_NUMBER;
        if (tok_is(s, &t[i], "٢٠٢٤"))
            found_ar = t[i].kind == NAHR_TOK_NUMBER;
        if (tok_is(s, &t[i], "1,000"))
            found_1000 = t[i].kind == NAHR_TOK_NUMBER;
        if (tok_is(s, &t[i], "%") || tok_is(s, &t[i], "٪"))
            found_pct += t[i].kind == NAHR_TOK_PUNCT;
    }
    assert_true(found_35);
    assert_true(found_ar);
    assert_true(found_1000);
    assert_int_equal(found_pct, 2);
    /* "و٢٠٢٤": the conjunction is a separate word token */
    for (i = 0; i < n; i++)
        if (tok_is(s, &t[i], "٢٠٢٤"))
            assert_true(tok_is(s, &t[i - 1], "و"));
    /* a date splits at slashes; "3.5." ends with a sentence period */
    n = tok("بلغ 3.5.", t);
    assert_int_equal(n, 3);
    assert_true(tok_is("بلغ 3.5.", &t[1], "3.5"));
}

static void test_latin_and_mixed(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    const char *s = "قالت CNN إن O'Brien زار G20 وBBC";
    size_t n = tok(s, t);
    assert_int_equal(n, 8);
    assert_true(tok_is(s, &t[1], "CNN"));
    assert_int_equal(t[1].kind, NAHR_TOK_LATIN);
    assert_true(tok_is(s, &t[3], "O'Brien"));
    assert_true(tok_is(s, &t[5], "G20"));
    assert_true(tok_is(s, &t[6], "و"));
    assert_true(tok_is(s, &t[7], "BBC"));
    /* Cyrillic is a word, not punctuation */
    n = tok("Москва", t);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].kind, NAHR_TOK_WORD);
}

static void test_paragraphs(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    const char *s = "عنوان الخبر\n\nنص الخبر هنا\nسطر ثان";
    size_t n = tok(s, t);
    assert_int_equal(n, 7);
    assert_true(t[0].flags & NAHR_TOK_PARA_START);
    assert_true(t[1].flags & NAHR_TOK_SENT_END);
    assert_true(t[2].flags & NAHR_TOK_PARA_START);
    assert_false(t[4].flags & NAHR_TOK_SENT_END); /* single newline: same paragraph */
    assert_false(t[5].flags & NAHR_TOK_PARA_START);
    assert_true(t[6].flags & NAHR_TOK_SENT_END);   /* end of text */
    /* runs of final marks: only the last one ends the sentence */
    s = "حقا؟! نعم...";
    n = tok(s, t);
    assert_int_equal(n, 7);
    assert_false(t[1].flags & NAHR_TOK_SENT_END);
    assert_true(t[2].flags & NAHR_TOK_SENT_END);
    assert_false(t[4].flags & NAHR_TOK_SENT_END);
    assert_true(t[6].flags & NAHR_TOK_SENT_END);
}

static void test_count_and_max(void **state)
{
    (void)state;
    nahr_token t[4];
    const char *s = "واحد اثنان ثلاثة أربعة خمسة ستة";
    size_t n = nahr_tokenize(s, strlen(s), t, 2);
    assert_int_equal(n, 6);
    assert_true(tok_is(s, &t[1], "اثنان"));
    assert_int_equal(nahr_tokenize(s, strlen(s), NULL, 0), 6);
    assert_int_equal(nahr_tokenize("", 0, t, 4), 0);
    assert_int_equal(nahr_tokenize(" \n\t \n", 5, t, 4), 0);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    const char s[] = "ab\xff\xfe" "c \xd8";
    size_t n = nahr_tokenize(s, sizeof s - 1, t, MAXT);
    size_t i, covered = 0;
    assert_true(n >= 4);
    for (i = 0; i < n; i++) {
        assert_true(t[i].start < t[i].end);
        assert_true(t[i].end <= sizeof s - 1);
        if (i)
            assert_true(t[i].start >= t[i - 1].end);
        covered += t[i].end - t[i].start;
    }
    assert_int_equal(covered, sizeof s - 1 - 1); /* all but the space */
}

static void test_bidi_controls(void **state)
{
    (void)state;
    nahr_token t[MAXT];
    const char *s = "\xE2\x80\x8F" "دمشق" "\xE2\x80\x8E" " حلب";
    size_t n = tok(s, t);
    assert_int_equal(n, 2);
    assert_true(tok_is(s, &t[0], "دمشق"));
}

/* ---- proclitics ---- */

static int has_split(const char *w, size_t off)
{
    size_t sp[16];
    size_t k = nahr_ar_proclitic_splits(w, strlen(w), sp, 16), i;
    for (i = 0; i < k; i++)
        if (sp[i] == off)
            return 1;
    return 0;
}

static int stem_is(const char *w, const char *stem)
{
    size_t lw = strlen(w), ls = strlen(stem);
    return ls <= lw && strcmp(w + lw - ls, stem) == 0 && has_split(w, lw - ls);
}

static void test_splits_basic(void **state)
{
    (void)state;
    size_t sp[16];
    size_t k = nahr_ar_proclitic_splits("وموسكو", strlen("وموسكو"), sp, 16);
    assert_true(k >= 2);
    assert_int_equal(sp[0], 0);
    assert_true(stem_is("وموسكو", "موسكو"));
    assert_true(stem_is("بسوريا", "سوريا"));
    assert_true(stem_is("لروسيا", "روسيا"));
    assert_true(stem_is("والأسد", "الأسد"));
    assert_true(stem_is("والأسد", "أسد"));
    assert_true(stem_is("بالقاهرة", "القاهرة"));
    assert_true(stem_is("فالرئيس", "الرئيس"));
    assert_true(stem_is("كالبحر", "البحر"));
    assert_true(stem_is("وللأمم", "أمم"));
    assert_true(stem_is("للحكومة", "حكومة"));
    assert_true(stem_is("وبسوريا", "سوريا"));
    assert_true(stem_is("ولروسيا", "روسيا"));
    assert_true(stem_is("الأسد", "أسد"));
    /* ascending order, shortest strip first */
    k = nahr_ar_proclitic_splits("وبالقاهرة", strlen("وبالقاهرة"), sp, 16);
    for (size_t i = 1; i < k; i++)
        assert_true(sp[i] > sp[i - 1]);
}

static void test_splits_limits(void **state)
{
    (void)state;
    size_t sp[16];
    /* at least two letters must remain */
    assert_false(has_split("وأ", 2));
    assert_false(has_split("بلد", 4)); /* ب + ل + د: "د" alone is too short */
    assert_true(has_split("بلد", 2)); /* ب + لد */
    assert_int_equal(nahr_ar_proclitic_splits("من", strlen("من"), sp, 16), 1);
    assert_int_equal(nahr_ar_proclitic_splits("", 0, sp, 16), 1);
    assert_int_equal(sp[0], 0);
    /* max respected */
    assert_int_equal(nahr_ar_proclitic_splits("وبالقاهرة", strlen("وبالقاهرة"), sp, 2), 2);
    assert_int_equal(sp[0], 0);
    assert_int_equal(nahr_ar_proclitic_splits("وبالقاهرة", strlen("وبالقاهرة"), sp, 0), 0);
    /* no split inside a non-clitic start */
    assert_int_equal(nahr_ar_proclitic_splits("دمشق", strlen("دمشق"), sp, 16), 1);
    /* with diacritics after the clitic */
    assert_true(stem_is("وَموسكو", "موسكو"));
    /* Latin word: nothing to strip */
    assert_int_equal(nahr_ar_proclitic_splits("Moscow", 6, sp, 16), 1);
}

static void test_huge_text(void **state)
{
    (void)state;
    size_t n = 1 << 20, i;
    char *s = malloc(n + 1);
    nahr_token *t;
    size_t want;
    assert_non_null(s);
    const char *unit = "كلمة طويلة ";
    size_t ul = strlen(unit);
    for (i = 0; i + ul <= n; i += ul)
        memcpy(s + i, unit, ul);
    for (; i < n; i++)
        s[i] = ' ';
    s[n] = 0;
    want = nahr_tokenize(s, n, NULL, 0);
    assert_true(want > 100000);
    assert_int_equal(want, 2 * (n / ul));
    t = malloc(want * sizeof *t);
    assert_non_null(t);
    assert_int_equal(nahr_tokenize(s, n, t, want), want);
    assert_true(t[want - 1].flags & NAHR_TOK_SENT_END);
    free(t);
    free(s);
}

/* The same bytes give the same tokens whatever was tokenised in between;
 * a smaller max gets the prefix and the full count; a text that changes in
 * place (same pointer and length) gives the tokens of its new bytes. */
static void test_same_tokens_any_max(void **state)
{
    (void)state;
    char a[] = "قال الوزير إن 3,5 مليون شخص. ثم غادر!\n\nفقرة ثانية";
    const char *b = "نص آخر، مختلف تماما؟ نعم.";
    const char *c = "ثالث";
    nahr_token first[MAXT], again[MAXT], small[3];
    size_t na = nahr_tokenize(a, strlen(a), first, MAXT);
    assert_true(na > 3);
    for (int round = 0; round < 3; round++) {
        nahr_token other[MAXT];
        nahr_tokenize(b, strlen(b), other, MAXT);
        if (round == 2)
            nahr_tokenize(c, strlen(c), other, MAXT);
        memset(again, 0xAB, sizeof again);
        assert_int_equal(nahr_tokenize(a, strlen(a), again, MAXT), na);
        assert_memory_equal(first, again, na * sizeof *first);
        assert_int_equal(nahr_tokenize(a, strlen(a), small, 3), na);
        assert_memory_equal(first, small, 3 * sizeof *first);
        assert_int_equal(nahr_tokenize(a, strlen(a), NULL, 0), na);
    }
    /* same buffer, same length, other bytes: "قال" -> "ثال" */
    a[0] = (char)0xD8;
    a[1] = (char)0xAB;
    assert_int_equal(nahr_tokenize(a, strlen(a), again, MAXT), na);
    assert_memory_equal(first, again, na * sizeof *first); /* same offsets and kinds */
    a[0] = '.';
    a[1] = ' ';
    size_t nb = nahr_tokenize(a, strlen(a), again, MAXT);
    assert_int_equal(nb, na + 1); /* "." and "ال" instead of "قال" */
    assert_int_equal(again[0].kind, NAHR_TOK_PUNCT);
    assert_int_equal(again[0].end, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_and_punct), cmocka_unit_test(test_marks_stay_inside),
        cmocka_unit_test(test_numbers),         cmocka_unit_test(test_latin_and_mixed),
        cmocka_unit_test(test_paragraphs),      cmocka_unit_test(test_count_and_max),
        cmocka_unit_test(test_invalid_utf8),    cmocka_unit_test(test_bidi_controls),
        cmocka_unit_test(test_splits_basic),    cmocka_unit_test(test_splits_limits),
        cmocka_unit_test(test_huge_text),       cmocka_unit_test(test_same_tokens_any_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
