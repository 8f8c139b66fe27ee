/* test_token.c - the shared tokeniser and the proclitic splitter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
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

/* Texts of Arabic letters, marks, punctuation, digits, Latin and spaces in
 * every order: the tokens (bytes and kind) are the runs a plain reading of
 * the rules gives. Covers the word loop's two-characters-a-step path and
 * its exits at every offset. */
static void test_arabic_runs(void **state)
{
    (void)state;
    /* class: L letter, M mark, P punctuation, D digit, A Latin, S space */
    static const struct {
        const char *s;
        char cls;
    } pc[] = {{"\xD8\xA8", 'L'}, {"\xD9\x85", 'L'}, {"\xD8\xA7", 'L'}, {"\xD9\x8A", 'L'}, {"\xD9\x8E", 'M'},
              {"\xD9\x80", 'M'}, {"\xD8\x8C", 'P'}, {"\xD8\x9F", 'P'}, {"\xD9\xA0", 'D'}, {"a", 'A'},
              {" ", 'S'}};
    const size_t np = sizeof pc / sizeof *pc;
    uint64_t seed = 11;
    for (int it = 0; it < 100000; it++) {
        char text[256];
        char cls[64];
        size_t off[65], n = 0, k = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = (size_t)(seed >> 59) + 1; /* 1..32 pieces */
        for (size_t p = 0; p < want; p++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            size_t q = r % 8 ? (r >> 3) % 6 : (r >> 3) % np; /* mostly letters and marks */
            off[k] = n;
            cls[k++] = pc[q].cls;
            memcpy(text + n, pc[q].s, strlen(pc[q].s));
            n += strlen(pc[q].s);
        }
        off[k] = n;
        /* the reference: runs of L/M (a word when it holds a letter), of D, of A; P alone */
        nahr_token ref[64];
        size_t nr = 0;
        for (size_t a = 0; a < k;) {
            size_t b = a + 1;
            char c = cls[a];
            if (c == 'S') {
                a = b;
                continue;
            }
            int letter = c == 'L';
            if (c == 'L' || c == 'M') {
                while (b < k && (cls[b] == 'L' || cls[b] == 'M'))
                    letter |= cls[b++] == 'L';
            } else if (c == 'D' || c == 'A') {
                while (b < k && cls[b] == c)
                    b++;
            }
            ref[nr].start = off[a];
            ref[nr].end = off[b];
            ref[nr++].kind = c == 'D' ? NAHR_TOK_NUMBER : c == 'A' ? NAHR_TOK_LATIN
                             : (c == 'L' || c == 'M') && letter ? NAHR_TOK_WORD : NAHR_TOK_PUNCT;
            a = b;
        }
        nahr_token t[64];
        size_t nt = nahr_tokenize(text, n, t, 64);
        if (nt != nr)
            fail_msg("case %d: %zu tokens, reference %zu", it, nt, nr);
        for (size_t j = 0; j < nt; j++)
            if (t[j].start != ref[j].start || t[j].end != ref[j].end || t[j].kind != ref[j].kind)
                fail_msg("case %d token %zu: [%zu,%zu) kind %u, reference [%zu,%zu) kind %u", it, j, t[j].start,
                         t[j].end, t[j].kind, ref[j].start, ref[j].end, ref[j].kind);
    }
}

/* ---- the tokeniser against a plain reference ---- */

/* The tokeniser's rules written plainly: one code point at a time through
 * nahr_utf8_next(), no tables, no multi-byte steps. */
enum { R_SPACE, R_NEWLINE, R_IGNORE, R_ARABIC, R_LATIN, R_LETTER, R_DIGIT, R_PUNCT };

static int ref_digit(int32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9);
}

static int ref_punct(int32_t c)
{
    if (c < 0x80)
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    if (c <= 0xBF)
        return c != 0xAA && c != 0xB5 && c != 0xBA;
    if (c == 0xD7 || c == 0xF7)
        return 1;
    if ((c >= 0x0600 && c <= 0x060F) || c == 0x061B || (c >= 0x061D && c <= 0x061F) ||
        (c >= 0x066A && c <= 0x066D) || c == 0x06D4 || c == 0x06DD || c == 0x06DE || c == 0x06E9 ||
        c == 0xFD3E || c == 0xFD3F)
        return 1;
    return (c >= 0x2010 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE10 && c <= 0xFE1F) ||
           (c >= 0xFE30 && c <= 0xFE6F) || (c >= 0xFF01 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
           (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) || (c >= 0x1F000 && c <= 0x1FAFF) ||
           (c >= 0xE000 && c <= 0xF8FF) || c == 0xFFFD || c == 0xFEFF;
}

static int ref_class(int32_t c)
{
    if (c < 0)
        return R_PUNCT;
    if (c == '\n' || c == 0x2029 || c == 0x2028 || c == 0x85)
        return R_NEWLINE;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 || c == 0x1680 ||
        (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000)
        return R_SPACE;
    if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
        c == 0x061C || c == 0xFEFF)
        return R_IGNORE;
    if (ref_digit(c))
        return R_DIGIT;
    if (c >= 0x0600 && c <= 0x06FF)
        return nahr_ar_is_letter(c) || nahr_ar_is_mark(c) || c == 0x0620 ? R_ARABIC : R_PUNCT;
    if ((c >= 0x0750 && c <= 0x077F) || (c >= 0x08A0 && c <= 0x08FF) || (c >= 0xFB50 && c <= 0xFDFF) ||
        (c >= 0xFE70 && c <= 0xFEFC))
        return ref_punct(c) ? R_PUNCT : R_ARABIC;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
        (c >= 0x1E00 && c <= 0x1EFF) || (c >= 0x0300 && c <= 0x036F))
        return R_LATIN;
    return ref_punct(c) ? R_PUNCT : R_LETTER;
}

static int32_t ref_at(const char *s, size_t n, size_t i, size_t *next)
{
    *next = i;
    return nahr_utf8_next(s, n, next);
}

static int ref_final(int32_t c)
{
    return c == '.' || c == '!' || c == '?' || c == 0x061F || c == 0x2026 || c == 0x06D4 || c == 0x203C ||
           c == 0x2047 || c == 0x2048 || c == 0x2049;
}

static size_t ref_tokenize(const char *s, size_t n, nahr_token *toks, size_t max)
{
    size_t count = 0, i = 0, next, after;
    int newlines = 0, prev_final = 0;
    while (i < n) {
        size_t start = i;
        int32_t c = ref_at(s, n, i, &next), d;
        int cc = ref_class(c), kind;
        i = next;
        if (cc == R_SPACE || cc == R_IGNORE)
            continue;
        if (cc == R_NEWLINE) {
            newlines++;
            continue;
        }
        if (cc == R_ARABIC || cc == R_LETTER) {
            int letter = cc == R_LETTER || !nahr_ar_is_mark(c);
            for (; i < n; i = next) {
                d = ref_at(s, n, i, &next);
                int dc = ref_class(d);
                if (dc == cc)
                    letter |= dc == R_ARABIC && !nahr_ar_is_mark(d);
                else if (!(d == 0x200C || d == 0x200D) && !(cc == R_LETTER && d >= 0x0300 && d <= 0x036F))
                    break;
            }
            /* drop trailing ZWNJ/ZWJ */
            while (i - start >= 3 &&
                   (memcmp(s + i - 3, "\xE2\x80\x8C", 3) == 0 || memcmp(s + i - 3, "\xE2\x80\x8D", 3) == 0))
                i -= 3;
            kind = letter ? NAHR_TOK_WORD : NAHR_TOK_PUNCT;
        } else if (cc == R_LATIN) {
            for (; i < n; i = next) {
                d = ref_at(s, n, i, &next);
                if (ref_class(d) == R_LATIN || (d >= '0' && d <= '9'))
                    continue;
                if ((d == '\'' || d == 0x2019) && next < n && ref_class(ref_at(s, n, next, &after)) == R_LATIN) {
                    next = after;
                    continue;
                }
                break;
            }
            kind = NAHR_TOK_LATIN;
        } else if (cc == R_DIGIT) {
            for (; i < n; i = next) {
                d = ref_at(s, n, i, &next);
                if (ref_digit(d))
                    continue;
                if ((d == '.' || d == ',' || d == 0x066B || d == 0x066C) && next < n &&
                    ref_digit(ref_at(s, n, next, &after))) {
                    next = after;
                    continue;
                }
                break;
            }
            kind = NAHR_TOK_NUMBER;
        } else {
            kind = NAHR_TOK_PUNCT;
        }
        int final = kind == NAHR_TOK_PUNCT && ref_final(c);
        if (count > 0 && count <= max && (newlines >= 2 || (prev_final && !(final && newlines == 0))))
            toks[count - 1].flags |= NAHR_TOK_SENT_END;
        if (count < max) {
            memset(&toks[count], 0, sizeof *toks);
            toks[count].start = start;
            toks[count].end = i;
            toks[count].kind = (uint16_t)kind;
            toks[count].flags = count == 0 || newlines >= 2 ? NAHR_TOK_PARA_START : 0;
        }
        count++;
        prev_final = final;
        newlines = 0;
    }
    if (count > 0 && count <= max)
        toks[count - 1].flags |= NAHR_TOK_SENT_END;
    return count;
}

/* Random texts of Arabic letters, marks, tatweel, digits of every kind,
 * Latin, punctuation, joiners, bidi controls, newlines, two-, three- and
 * four-byte characters and stray bytes: the tokeniser's tokens (offsets,
 * kinds, flags) are the reference's, for a big array and a small one. */
static void test_tokens_like_reference(void **state)
{
    (void)state;
    static const uint32_t cps[] = {
        ' ',    '\n',   '\t',   '\r',   '.',    ',',    '!',    '?',    '\'',   '-',    '0',    '7',    'a',
        'Z',    0xA0,   0xAA,   0xD7,   0xE9,   0x0301, 0x03B1, 0x0600, 0x060C, 0x061B, 0x061C, 0x061F, 0x0620,
        0x0627, 0x0628, 0x0644, 0x0648, 0x0640, 0x064E, 0x0651, 0x0660, 0x0669, 0x066B, 0x066C, 0x066E, 0x0670,
        0x0671, 0x067E, 0x0686, 0x06A9, 0x06CC, 0x06D4, 0x06F0, 0x06F9, 0x0750, 0x08A0, 0x0610, 0x0615, 0x200B,
        0x200C, 0x200D, 0x200F, 0x2019, 0x2026, 0x2028, 0x2029, 0x0085, 0x202A, 0x2066, 0x203C, 0x3000, 0xFB50,
        0xFD3E, 0xFE8D, 0xFEFF, 0xFFFD, 0xE000, 0x10000, 0x1F600, 0x1D400, 0x4E00};
    const size_t ncp = sizeof cps / sizeof *cps;
    uint64_t seed = 5;
    for (int it = 0; it < 40000; it++) {
        char text[512];
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = (size_t)(seed >> 58) + 1; /* 1..64 characters */
        for (size_t p = 0; p < want; p++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            uint32_t cp;
            if (r % 8 < 4) /* mostly the Arabic block, every code point of it */
                cp = 0x0600 + (r >> 3) % 0x100;
            else if (r % 8 < 7)
                cp = cps[(r >> 3) % ncp];
            else if ((r >> 3) % 4 == 0) { /* a stray byte now and then */
                text[n++] = (char)(0x80 + (r >> 5) % 0x80);
                continue;
            } else
                cp = (r >> 5) % 0x3000; /* any code point below U+3000 that is not a surrogate */
            n += nahr_utf8_put(cp, text + n);
        }
        nahr_token got[MAXT], want_t[MAXT], small_got[4], small_want[4];
        memset(got, 0xAB, sizeof got);
        memset(want_t, 0xCD, sizeof want_t);
        size_t ng = nahr_tokenize(text, n, got, MAXT), nw = ref_tokenize(text, n, want_t, MAXT);
        if (ng != nw)
            fail_msg("case %d: %zu tokens, reference %zu", it, ng, nw);
        for (size_t j = 0; j < ng; j++)
            if (memcmp(&got[j], &want_t[j], sizeof *got) != 0)
                fail_msg("case %d token %zu: [%zu,%zu) kind %u flags %u, reference [%zu,%zu) kind %u flags %u", it, j,
                         got[j].start, got[j].end, got[j].kind, got[j].flags, want_t[j].start, want_t[j].end,
                         want_t[j].kind, want_t[j].flags);
        size_t ms = (size_t)(seed >> 20) % 5;
        assert_int_equal(nahr_tokenize(text, n, small_got, ms), ng);
        assert_int_equal(ref_tokenize(text, n, small_want, ms), ng);
        assert_memory_equal(small_got, small_want, (ms < ng ? ms : ng) * sizeof *small_got);
    }
}

/* Every two-byte sequence inside and right after long runs of Arabic
 * letters, at every position of a sixteen-byte block (the word loop's fast
 * path takes such runs a block at a time), before a space, before other
 * bytes and at the end of the text: the tokens are the reference's. */
static void test_every_pair_in_long_words(void **state)
{
    (void)state;
    for (unsigned pair = 0; pair < 0x10000; pair++) {
        char text[64];
        size_t n = 0, before = (pair * 7 + pair / 256) % 12; /* letters before the pair: 0..11 */
        for (size_t k = 0; k < before; k++) {
            memcpy(text + n, k % 3 ? "\xD8\xA8" : "\xD9\x8E", 2); /* ba, fatha */
            n += 2;
        }
        text[n++] = (char)(pair & 0xFF);
        text[n++] = (char)(pair >> 8);
        if (pair % 5 != 4) { /* else the pair ends the text */
            for (size_t k = 0; k < 9; k++) {
                memcpy(text + n, "\xD9\x84", 2); /* lam */
                n += 2;
            }
            if (pair % 5 == 1)
                text[n++] = ' ';
            else if (pair % 5 == 2)
                n += (size_t)sprintf(text + n, "\xD8\x8C x");
        }
        nahr_token got[MAXT], want_t[MAXT];
        memset(got, 0xAB, sizeof got);
        memset(want_t, 0xCD, sizeof want_t);
        size_t ng = nahr_tokenize(text, n, got, MAXT), nw = ref_tokenize(text, n, want_t, MAXT);
        if (ng != nw)
            fail_msg("pair %04x: %zu tokens, reference %zu", pair, ng, nw);
        for (size_t j = 0; j < ng; j++)
            if (memcmp(&got[j], &want_t[j], sizeof *got) != 0)
                fail_msg("pair %04x token %zu: [%zu,%zu) kind %u flags %u, reference [%zu,%zu) kind %u flags %u",
                         pair, j, got[j].start, got[j].end, got[j].kind, got[j].flags, want_t[j].start,
                         want_t[j].end, want_t[j].kind, want_t[j].flags);
    }
}

/* Long texts of words one space apart, as news text is (the loop that
 * takes such words sixteen bytes at a time, and the test whether a word
 * ends before the character after it): words of the two-byte Arabic
 * letters and marks (runs of 1..20 characters, so that some fill a whole
 * block), now and then any character of U+0600..U+06FF, a ZWNJ or ZWJ, a
 * word-final Arabic comma, ASCII punctuation, a newline or a double space;
 * the tokens are the reference's, also with an array that fills up in the
 * middle. */
static void test_long_word_runs(void **state)
{
    (void)state;
    static const char *const extras[] = {"\xD8\x8C", "\xD8\x9C", "\xE2\x80\x8C", "\xE2\x80\x8D", ".", ",", "\"",
                                         "\n",       "\n\n",     " ",            "\xC2\xAB",     "7",  "x"};
    uint64_t seed = 11;
    static nahr_token got[1024], want_t[1024];
    for (int it = 0; it < 3000; it++) {
        char text[1200];
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = 100 + (size_t)(seed >> 33) % 1000;
        while (n + 48 < len) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            size_t chars = 1 + r % 20;
            for (size_t k = 0; k < chars; k++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                unsigned q = (unsigned)(seed >> 33);
                uint32_t cp;
                if (q % 16 == 0)
                    cp = 0x0600 + (q >> 4) % 0x100; /* any of the block */
                else if (q % 16 == 1)
                    cp = 0x064B + (q >> 4) % 0x15; /* a mark */
                else
                    cp = 0x0620 + (q >> 4) % 0x2B; /* a letter (and the tatweel) */
                n += nahr_utf8_put(cp, text + n);
            }
            if ((r >> 8) % 8 == 0) {
                const char *e = extras[(r >> 11) % (sizeof extras / sizeof *extras)];
                memcpy(text + n, e, strlen(e));
                n += strlen(e);
            }
            text[n++] = ' ';
        }
        size_t max = it % 3 == 0 ? (size_t)(seed >> 40) % 64 : sizeof got / sizeof *got;
        memset(got, 0xAB, sizeof got);
        memset(want_t, 0xCD, sizeof want_t);
        size_t ng = nahr_tokenize(text, n, got, max), nw = ref_tokenize(text, n, want_t, max);
        if (ng != nw)
            fail_msg("case %d: %zu tokens, reference %zu", it, ng, nw);
        for (size_t j = 0; j < ng && j < max; j++)
            if (memcmp(&got[j], &want_t[j], sizeof *got) != 0)
                fail_msg("case %d token %zu: [%zu,%zu) kind %u flags %u, reference [%zu,%zu) kind %u flags %u", it, j,
                         got[j].start, got[j].end, got[j].kind, got[j].flags, want_t[j].start, want_t[j].end,
                         want_t[j].kind, want_t[j].flags);
        if (max < sizeof got / sizeof *got)
            assert_int_equal((unsigned char)((char *)got)[max * sizeof *got], 0xAB); /* nothing past max */
    }
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

/* The splitter as it was before its helpers were inlined (decoding every
 * code point with nahr_utf8_next), the reference of test_splits_same. */
#define AR_WAW "\xD9\x88"
#define AR_FA "\xD9\x81"
#define AR_BA "\xD8\xA8"
#define AR_LAM "\xD9\x84"
#define AR_KAF "\xD9\x83"
#define AR_ALEF "\xD8\xA7"

static int ref_is_mark(int32_t c)
{
    return (c >= 0x064B && c <= 0x065F) || c == 0x0670 || c == 0x0640;
}

static int32_t ref_peek(const char *s, size_t n, size_t i, size_t *next)
{
    size_t j = i;
    int32_t cp = nahr_utf8_next(s, n, &j);
    *next = j;
    return cp;
}

static int ref_letter_at(const char *w, size_t n, size_t i, const char *letter)
{
    return i + 2 <= n && w[i] == letter[0] && w[i + 1] == letter[1];
}

/* Number of letters in w[i..n), counting at most 2 (all callers need is
 * "at least two letters remain"); marks do not count, other code points do
 * so Latin-script words are handled sanely. */
static size_t ref_letters_from(const char *w, size_t n, size_t i)
{
    size_t k = 0;
    while (i < n && k < 2) {
        int32_t c = ref_peek(w, n, i, &i);
        if (c >= 0 && ref_is_mark(c))
            continue;
        k++;
    }
    return k;
}

/* skips Arabic marks (tashkeel, tatweel) starting at i */
static size_t ref_skip_marks(const char *w, size_t n, size_t i)
{
    while (i < n) {
        size_t j;
        int32_t c = ref_peek(w, n, i, &j);
        if (c < 0 || !ref_is_mark(c))
            break;
        i = j;
    }
    return i;
}

static void ref_add_split(size_t *splits, size_t max, size_t *k, size_t off)
{
    size_t j;
    for (j = 0; j < *k; j++)
        if (splits[j] == off)
            return;
    if (*k < max)
        splits[(*k)++] = off;
}

static size_t ref_splits(const char *w, size_t n, size_t *splits, size_t max)
{
    size_t all[16];
    size_t k = 0;
    size_t conj_ends[2];
    size_t nconj = 0, c;
    const size_t cap = sizeof all / sizeof all[0];

    if (!splits || max == 0)
        return 0;
    all[k++] = 0;
    if (!w || n < 4) {
        splits[0] = 0;
        return 1;
    }

    /* conjunction: none, or و / ف */
    conj_ends[nconj++] = 0;
    if (ref_letter_at(w, n, 0, AR_WAW) || ref_letter_at(w, n, 0, AR_FA))
        conj_ends[nconj++] = ref_skip_marks(w, n, 2);

    /* Collect every split, then sort (the combinations are few). */
    for (c = 0; c < nconj; c++) {
        size_t p = conj_ends[c];
        size_t q;
        if (p > 0 && ref_letters_from(w, n, p) >= 2)
            ref_add_split(all, cap, &k, p);
        /* لل = ل + ال (the alef of the article drops) */
        if (ref_letter_at(w, n, p, AR_LAM)) {
            size_t p2 = ref_skip_marks(w, n, p + 2);
            if (ref_letter_at(w, n, p2, AR_LAM)) {
                size_t p3 = ref_skip_marks(w, n, p2 + 2);
                if (ref_letters_from(w, n, p3) >= 2)
                    ref_add_split(all, cap, &k, p3);
            }
        }
        /* preposition ب ك ل, then optionally ال */
        q = p;
        if (ref_letter_at(w, n, p, AR_BA) || ref_letter_at(w, n, p, AR_KAF) || ref_letter_at(w, n, p, AR_LAM)) {
            q = ref_skip_marks(w, n, p + 2);
            if (ref_letters_from(w, n, q) >= 2)
                ref_add_split(all, cap, &k, q);
        }
        /* article ال after the conjunction and/or preposition (not alone:
         * the word with its article is the form dictionaries list) */
        if (q > 0 && ref_letter_at(w, n, q, AR_ALEF)) {
            size_t a = ref_skip_marks(w, n, q + 2);
            if (ref_letter_at(w, n, a, AR_LAM)) {
                size_t r = ref_skip_marks(w, n, a + 2);
                if (ref_letters_from(w, n, r) >= 2)
                    ref_add_split(all, cap, &k, r);
            }
        }
        if (q == 0 && p == 0 && ref_letter_at(w, n, 0, AR_ALEF)) {
            size_t a = ref_skip_marks(w, n, 2);
            if (ref_letter_at(w, n, a, AR_LAM)) {
                size_t r = ref_skip_marks(w, n, a + 2);
                if (ref_letters_from(w, n, r) >= 2)
                    ref_add_split(all, cap, &k, r);
            }
        }
    }
    /* shortest strip first: offsets ascending (insertion sort, k <= ~8) */
    {
        size_t x, y;
        for (x = 1; x < k; x++) {
            size_t v = all[x];
            for (y = x; y > 0 && all[y - 1] > v; y--)
                all[y] = all[y - 1];
            all[y] = v;
        }
    }
    if (k > max)
        k = max;
    memcpy(splits, all, k * sizeof *splits);
    return k;
}

/* The splitter gives what the reference gives on random words made of
 * clitic letters, marks, other letters, Latin, longer and invalid
 * sequences, every max. */
static void test_splits_same(void **state)
{
    (void)state;
    static const char *const pieces[] = {AR_WAW, AR_FA, AR_BA, AR_LAM, AR_KAF, AR_ALEF, "\xD9\x8E", "\xD9\x80",
                                         "\xD9\xB0", "\xD9\x9F", "\xD9\x8A", "\xD9\x85", "\xD8\xAF", "a", "\xE2\x80\x8C",
                                         "\xD9", "\x80", "\xC3\xA9", "\xF0\x9F\x98\x80", "\xD9\xA0"};
    const size_t np = sizeof pieces / sizeof *pieces;
    uint64_t seed = 7;
    for (int it = 0; it < 200000; it++) {
        char w[64];
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = (size_t)(seed >> 60); /* 0..15 pieces */
        for (size_t p = 0; p < want; p++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            /* mostly clitic letters and marks: the interesting part */
            const char *pc = pieces[r % 4 ? (r >> 4) % 10 : (r >> 4) % np];
            memcpy(w + n, pc, strlen(pc));
            n += strlen(pc);
        }
        size_t max = (size_t)(seed >> 20) % 10, a[16], b[16];
        size_t ka = nahr_ar_proclitic_splits(w, n, a, max), kb = ref_splits(w, n, b, max);
        if (ka != kb || memcmp(a, b, ka * sizeof *a) != 0)
            fail_msg("case %d (%zu bytes, max %zu): %zu splits, reference %zu", it, n, max, ka, kb);
    }
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
        cmocka_unit_test(test_splits_same),     cmocka_unit_test(test_arabic_runs),
        cmocka_unit_test(test_huge_text),       cmocka_unit_test(test_same_tokens_any_max),
        cmocka_unit_test(test_tokens_like_reference), cmocka_unit_test(test_every_pair_in_long_words),
        cmocka_unit_test(test_long_word_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
