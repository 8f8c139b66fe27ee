/* test_clean_fast.c - the clean plugin's table-driven fast paths against
 * their plain definitions, on random texts built from the pieces each fast
 * path tells apart (plain letters, marks, spaces, line breaks, ASCII,
 * characters outside the tables, ends of the buffer in the middle of a
 * character pair).
 *
 * The sources are included so that the static parts (line features, the
 * phrase trie's compact form, the ICU trigger table) can be checked:
 *   - clean_unicode_run(): the copy-as-is runs (run_step table, eight
 *     characters a step) against the per-character path alone
 *     (no_run_copy), for every option set;
 *   - clean_unicode_run(): ICU on the stretch around each mark against
 *     ICU on the whole marked line (whole_lines);
 *   - the quick-check trigger table from ICU's property ranges against
 *     unorm2_quickCheck() on each BMP code point;
 *   - clean_match_norm(): the one-pass form (mn_pair table, letter runs,
 *     16-byte copies of letters with SSE2) against the two-step form on
 *     random lines;
 *   - features(): word/URL/digit counts (with SSE2 a word of letters in one
 *     step), also with a word cap, against a per-code-point definition
 *     written here;
 *   - clean_sse_in(), the byte range test of the 16-byte steps;
 *   - clean_phrases_find(): the trie walked at the words the first-word
 *     filter passes (and the matches put in order) against a brute-force
 *     search of every phrase at every offset;
 *   - crumb_seps(): the memchr prefilter against memmem alone;
 *   - clean_date_parse(): the quick rejection of lines with fewer than five
 *     digits against the full parse, on random datelines;
 *   - clean_doc(): an article the cleaner leaves as it is keeps its text
 *     (no second copy), a changed one gets the new text, and a document
 *     with spans is refused as before;
 *   - clean_lines_run(): the word count capped on long lines against every
 *     word counted (exact_words), on random articles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean_unicode.c"
#include "clean_phrases.c"
#include "clean_lines.c"
#include "clean_date.c"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11) % n;
}

/* Pieces of text, valid UTF-8 each: Arabic letters (plain), hamza forms,
 * ta marbuta, alef maqsura, tatweel, harakat and shadda (combining marks),
 * the Arabic letter mark, Arabic comma/question mark, Arabic-Indic and
 * Persian digits, U+0671, ASCII letters/digits/punctuation, ':' and URL
 * pieces, spaces (one, several, NBSP, tab), line breaks (\n, \r\n, U+2028),
 * zero-width and bidi controls, presentation forms, Latin-1 letters, a
 * quotation mark, an ellipsis, an emoji; and two invalid sequences (a
 * stray byte, a lone lead byte) for the repair path. */
static const char *const pieces[] = {
    "\xD8\xA8", "\xD9\x84", "\xD9\x85", "\xD9\x86", "\xD8\xA7", "\xD9\x8A", "\xD9\x88", "\xD8\xB9", "\xD8\xB3",
    "\xD8\xA3", "\xD8\xA5", "\xD8\xA2", "\xD8\xA9", "\xD9\x89", "\xD8\xA4", "\xD8\xA6", "\xD8\xA1",
    "\xD9\x80", "\xD9\x8E", "\xD9\x91", "\xD9\x90", "\xD9\x92", "\xD9\xB0", "\xD8\x9C",
    "\xD8\x8C", "\xD8\x9F", "\xD9\xA3", "\xDB\xB5", "\xD9\xB1", "\xDA\xA9", "\xDB\x8C",
    "a", "Z", "q", "7", "0", ".", ",", "-", "!", ":", "|", "\"", "http://", "https://x.", "www.", "/",
    " ", " ", " ", "  ", "\xC2\xA0", "\t", "\n", "\n\n", "\r\n", "\xE2\x80\xA8",
    "\xE2\x80\x8B", "\xE2\x80\x8F", "\xEF\xBB\xBF", "\xEF\xBB\xBB", "\xEF\xBA\x8D", "\xC3\xA9", "\xC2\xBB",
    "\xE2\x80\xA6", "\xF0\x9F\x98\x80", "\xFF", "\xD8",
};
#define NPIECES (sizeof pieces / sizeof *pieces)

/* A heap copy of s[0..n) without a terminator, so that ASan sees a read
 * past the end (the fast paths load two bytes at a time). */
static char *exact_copy(const char *s, size_t n)
{
    char *c = malloc(n ? n : 1);
    assert_non_null(c);
    memcpy(c, s, n);
    return c;
}

/* Appends random pieces to buf until about len bytes; returns the length. */
static size_t random_text(char *buf, size_t cap, size_t len)
{
    size_t n = 0;
    while (n < len) {
        const char *p = pieces[rnd(NPIECES)];
        size_t l = strlen(p);
        if (n + l >= cap) break;
        memcpy(buf + n, p, l);
        n += l;
    }
    buf[n] = '\0';
    return n;
}

/* Like random_text(), mostly words of Arabic letters (every code point of
 * U+0620..U+064B: the letters, the tatweel and a neighbour on each side)
 * between single spaces, so that the 16-byte steps of the fast paths
 * (SSE2) see whole blocks of letters and stop at every offset of a block;
 * one piece in eight is any other piece. */
static size_t random_words(char *buf, size_t cap, size_t len)
{
    size_t n = 0;
    while (n < len) {
        char tmp[4];
        const char *p = tmp;
        size_t l;
        uint32_t r = rnd(8);
        if (r == 0) {
            p = pieces[rnd(NPIECES)];
            l = strlen(p);
        } else if (r == 1) {
            p = " ";
            l = 1;
        } else {
            l = nahr_utf8_put(0x0620 + rnd(0x2C), tmp);
        }
        if (n + l >= cap) break;
        memcpy(buf + n, p, l);
        n += l;
    }
    buf[n] = '\0';
    return n;
}

#if defined(__SSE2__)
/* clean_sse_in() against the plain range test, every byte value. */
static void test_sse_in(void **state)
{
    (void)state;
    static const unsigned char ranges[][2] = {{0x21, 0x7E}, {0xA1, 0xBF}, {0x80, 0x8A}, {0x81, 0x8A}, {0xA7, 0xBF},
                                              {0, 0}, {0, 0xFE}, {1, 0xFF}, {0x7F, 0x80}, {0xFF, 0xFF}};
    for (size_t k = 0; k < sizeof ranges / sizeof *ranges; k++)
        for (unsigned v = 0; v < 256; v += 16) {
            unsigned char in[16], out[16];
            for (unsigned j = 0; j < 16; j++) in[j] = (unsigned char)(v + j);
            _mm_storeu_si128((__m128i *)(void *)out,
                             clean_sse_in(_mm_loadu_si128((const __m128i *)(const void *)in), ranges[k][0], ranges[k][1]));
            for (unsigned j = 0; j < 16; j++) {
                int want = in[j] >= ranges[k][0] && in[j] <= ranges[k][1];
                if ((out[j] == 0xFF) != want || (out[j] != 0 && out[j] != 0xFF))
                    fail_msg("byte %02X in [%02X, %02X]: got %02X", in[j], ranges[k][0], ranges[k][1], out[j]);
            }
        }
}
#endif

/* ------------------------------------------------------------ unicode */

static void test_unicode_runs_same(void **state)
{
    (void)state;
    static const clean_unicode_opts sets[] = {
        {.form = 1, .remove_tatweel = true},
        {.form = 0},
        {.form = 2, .remove_diacritics = true},
        {.form = 1, .ascii_digits = true, .remove_diacritics = true, .remove_tatweel = true},
    };
    char err[256], text[600];
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
        clean_unicode_opts slow = sets[k];
        slow.no_run_copy = true;
        clean_unicode *fast_u = clean_unicode_new(&sets[k], err, sizeof err);
        clean_unicode *slow_u = clean_unicode_new(&slow, err, sizeof err);
        assert_non_null(fast_u);
        assert_non_null(slow_u);
        clean_scratch sa = {0}, sb = {0};
        nahr_buf a = {0}, b = {0};
        for (int t = 0; t < 20000; t++) {
            /* half of them mostly letters: long copy-as-is runs */
            size_t len = 1 + rnd(t % 10000 < 1000 ? 8 : 400);
            size_t n = t < 10000 ? random_text(text, sizeof text, len) : random_words(text, sizeof text, len);
            size_t bada = 0, badb = 0;
            char *in = exact_copy(text, n);
            assert_int_equal(clean_unicode_run(fast_u, &sa, in, n, &a, &bada), 0);
            assert_int_equal(clean_unicode_run(slow_u, &sb, in, n, &b, &badb), 0);
            free(in);
            if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
                fail_msg("options %zu, text '%s': runs '%.*s', per character '%.*s'", k, text, (int)a.len, a.data,
                         (int)b.len, b.data);
            assert_int_equal(bada, badb);
        }
        nahr_buf_free(&a);
        nahr_buf_free(&b);
        clean_scratch_free(&sa);
        clean_scratch_free(&sb);
        clean_unicode_free(fast_u);
        clean_unicode_free(slow_u);
    }
}

/* Pieces where normalisation acts across characters: alef/waw/ya/heh goal/
 * yeh barree before hamza or madda above/below (they compose), harakat and
 * shadda in both orders, Latin letters with combining accents in and out of
 * canonical order, a singleton (angstrom), composition exclusions (U+0958,
 * U+0F73), Hangul jamo that compose and a syllable that takes a final, the
 * Arabic presentation forms (lam-alef with hamza, U+FDFA with spaces),
 * compatibility characters (fi ligature, one half, superscript two), a
 * supplementary character with a decomposition, and plain letters, spaces
 * and line breaks between them. */
static const char *const nf_pieces[] = {
    "\xD8\xA7", "\xD9\x88", "\xD9\x8A", "\xDB\x81", "\xDB\x92", "\xD9\x94", "\xD9\x93", "\xD9\x95", "\xD9\x91",
    "\xD9\x8E", "\xD9\x90", "\xD9\x8F", "\xD9\x80", "\xD8\xA8", "\xD9\x84", "e", "A", "D", "\xCC\x81", "\xCC\xA7",
    "\xCC\x8A", "\xCC\xA3", "\xCC\x96", "\xE2\x84\xAB", "\xE0\xA5\x98", "\xE0\xA4\x95", "\xE0\xA4\xBC", "\xE0\xBD\xB3",
    "\xE1\x84\x80", "\xE1\x85\xA1", "\xEA\xB0\x80", "\xE1\x86\xA8", "\xE1\xB8\x8A", "\xEF\xBB\xB7", "\xEF\xBB\xBB",
    "\xEF\xBA\x8D", "\xEF\xB7\xBA", "\xEF\xAD\x90", "\xEF\xAC\x81", "\xC2\xBD", "\xC2\xB2", "\xCD\x84",
    "\xF0\x9D\x85\x9E", "\xF0\xAF\xA0\x80", " ", " ", "\n", "\n\n", "x", ".",
};

/* ICU on the stretch around each mark against ICU on the whole marked line
 * (whole_lines), for the forms and options; the texts must compose some
 * hamza forms (alef + U+0654 -> U+0623) for the test to mean anything. */
static void test_unicode_stretches_same(void **state)
{
    (void)state;
    static const clean_unicode_opts sets[] = {
        {.form = 1, .remove_tatweel = true},
        {.form = 2},
        {.form = 1, .remove_diacritics = true, .ascii_digits = true},
        {.form = 2, .remove_tatweel = true, .remove_diacritics = true},
    };
    char err[256], text[700];
    size_t composed = 0;
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++) {
        clean_unicode_opts whole = sets[k];
        whole.whole_lines = true;
        clean_unicode *seg_u = clean_unicode_new(&sets[k], err, sizeof err);
        clean_unicode *whole_u = clean_unicode_new(&whole, err, sizeof err);
        assert_non_null(seg_u);
        assert_non_null(whole_u);
        clean_scratch sa = {0}, sb = {0};
        nahr_buf a = {0}, b = {0};
        for (int t = 0; t < 20000; t++) {
            size_t n = 0, want = 1 + rnd(t % 4 ? 12 : 120);
            for (size_t j = 0; j < want; j++) {
                const char *p = rnd(5) ? nf_pieces[rnd(sizeof nf_pieces / sizeof *nf_pieces)] : pieces[rnd(NPIECES)];
                size_t l = strlen(p);
                if (n + l >= sizeof text) break;
                memcpy(text + n, p, l);
                n += l;
            }
            text[n] = '\0';
            char *in = exact_copy(text, n);
            size_t bada = 0, badb = 0;
            assert_int_equal(clean_unicode_run(seg_u, &sa, in, n, &a, &bada), 0);
            assert_int_equal(clean_unicode_run(whole_u, &sb, in, n, &b, &badb), 0);
            free(in);
            if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
                fail_msg("options %zu, text '%s': stretches '%.*s', whole lines '%.*s'", k, text, (int)a.len, a.data,
                         (int)b.len, b.data);
            assert_int_equal(bada, badb);
            composed += a.len && memmem(a.data, a.len, "\xD8\xA3", 2) && !strstr(text, "\xD8\xA3");
        }
        nahr_buf_free(&a);
        nahr_buf_free(&b);
        clean_scratch_free(&sa);
        clean_scratch_free(&sb);
        clean_unicode_free(seg_u);
        clean_unicode_free(whole_u);
    }
    assert_true(composed > 1000);
}

/* The trigger table (from the quick-check property's ranges) is what
 * unorm2_quickCheck() says of every BMP code point alone. */
static void test_unicode_trigger_table(void **state)
{
    (void)state;
    char err[256];
    for (int form = 1; form <= 2; form++) {
        clean_unicode_opts o = {.form = form};
        clean_unicode *u = clean_unicode_new(&o, err, sizeof err);
        assert_non_null(u);
        for (uint32_t cp = 0x80; cp < 0x10000; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            UChar c = (UChar)cp;
            UErrorCode ec = U_ZERO_ERROR;
            int want = unorm2_quickCheck(u->form, &c, 1, &ec) != UNORM_YES;
            if (bit_get(u->trigger, cp) != want)
                fail_msg("form %d: U+%04X trigger %d, quick-check says %d", form, (unsigned)cp, bit_get(u->trigger, cp), want);
        }
        clean_unicode_free(u);
    }
}

/* ------------------------------------------------------------ matching form */

static void test_match_norm_random(void **state)
{
    (void)state;
    char line[700], a[700], b[700];
    for (int t = 0; t < 100000; t++) {
        /* half of them mostly letters: the 16-byte copy of a letter run */
        size_t len = 1 + rnd(t % 50000 < 5000 ? 6 : 300);
        size_t n = t < 50000 ? random_text(line, sizeof line - 1, len) : random_words(line, sizeof line - 1, len);
        char *in = exact_copy(line, n);
        char *out = malloc(n + 1); /* what the caller must give: ASan sees a store past it */
        assert_non_null(out);
        size_t na = clean_match_norm(in, n, out);
        memcpy(a, out, na + 1);
        free(out);
        free(in);
        line[n] = '\xFF'; /* an invalid byte: the two-step path */
        size_t nb = clean_match_norm(line, n + 1, b);
        line[n] = '\0';
        if (na != nb || memcmp(a, b, na) != 0)
            fail_msg("'%s': one pass '%.*s', two steps '%.*s'", line, (int)na, a, (int)nb, b);
        assert_int_equal(a[na], '\0');
    }
}

/* ------------------------------------------------------------ line features */

/* The per-code-point definition of features() (without the line-end part,
 * which is shared); *letters gets the number of letters, which features()
 * does not keep: a line has letters exactly when it has words. */
static void features_plain(const char *s, size_t n, cline *L, int *letters)
{
    size_t i = 0, tok_start = 0;
    int in_word = 0, has_letter = 0;
    while (i <= n) {
        size_t st = i;
        int32_t cp = ' ';
        if (i < n) cp = nahr_utf8_next(s, n, &i);
        else i++;
        if (cp == ' ') {
            if (in_word) {
                L->words += has_letter;
                size_t tl = st - tok_start;
                const char *t = s + tok_start;
                if ((tl > 7 && (memcmp(t, "http://", 7) == 0 || memcmp(t, "https://", 8) == 0)) ||
                    (tl > 4 && memcmp(t, "www.", 4) == 0)) {
                    L->url_bytes += tl;
                } else if (tl > 10 && memchr(t, ':', tl)) {
                    const char *h = memmem(t, tl, "http", 4);
                    if (h && (size_t)(t + tl - h) > 8 && memmem(h, (size_t)(t + tl - h), "://", 3))
                        L->url_bytes += (size_t)(t + tl - h);
                }
            }
            in_word = 0;
            continue;
        }
        if (!in_word) {
            in_word = 1;
            has_letter = 0;
            tok_start = st;
        }
        if ((cp >= '0' && cp <= '9') || (cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9)) L->digits = 1;
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= 0x0621 && cp <= 0x064A) ||
            (cp >= 0x0671 && cp <= 0x06D3) || (cp >= 0x06FA && cp <= 0x06FF) ||
            (cp >= 0xC0 && cp < 0x2000 && cp != 0xD7 && cp != 0xF7)) {
            (*letters)++;
            has_letter = 1;
        }
    }
}

/* features() with a word cap against the same line read whole (want):
 * the same words up to the cap, more than the cap past it; the same URL
 * bytes and line end always; the same digits up to the cap. */
static void check_capped(const cline *line, const cline *want)
{
    int cap = (int)rnd((uint32_t)want->words + 3);
    cline got = {.s = line->s, .n = line->n};
    features(&got, cap);
    if (want->words <= cap ? got.words != want->words || got.digits != want->digits : got.words <= cap)
        fail_msg("'%.*s': cap %d: words %d/%d digits %u/%u", (int)line->n, line->s, cap, got.words, want->words,
                 got.digits, want->digits);
    if (got.url_bytes != want->url_bytes || got.ends_sentence != want->ends_sentence ||
        got.ends_ellipsis != want->ends_ellipsis)
        fail_msg("'%.*s': cap %d: url %zu/%zu end %u%u/%u%u", (int)line->n, line->s, cap, got.url_bytes,
                 want->url_bytes, got.ends_sentence, got.ends_ellipsis, want->ends_sentence, want->ends_ellipsis);
}

/* A random line of at least len bytes into out: one step in 16 a piece of
 * the list (no invalid ones), spaces - 1 in 16 a space, else a character of
 * U+base..U+base+range-1; line breaks made spaces. Returns its length. */
static size_t random_line(char *out, size_t len, uint32_t spaces, uint32_t base, uint32_t range)
{
    size_t n = 0;
    while (n < len) {
        uint32_t r = rnd(16);
        const char *p = r == 0 ? pieces[rnd(NPIECES - 2)] : r < spaces ? " " : NULL;
        if (p) {
            memcpy(out + n, p, strlen(p));
            n += strlen(p);
        } else {
            n += nahr_utf8_put(base + rnd(range), out + n);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
    return n;
}
static void test_features_random(void **state)
{
    (void)state;
    char raw[600];
    clean_scratch sc = {0};
    nahr_buf norm = {0};
    char err[256];
    clean_unicode_opts o = {.form = 1, .remove_tatweel = false};
    clean_unicode *u = clean_unicode_new(&o, err, sizeof err);
    assert_non_null(u);
    pthread_once(&ar_letter_once, ar_letter_init);
    for (int t = 0; t < 100000; t++) {
        /* features() sees lines of the normalised text: no line breaks,
         * single spaces, valid UTF-8; half of them mostly words of letters
         * (the 16-byte word step, the 32-byte step over words) */
        size_t len = 1 + rnd(t % 50000 < 5000 ? 6 : 300);
        size_t n = t < 50000 ? random_text(raw, sizeof raw, len) : random_words(raw, sizeof raw, len);
        assert_int_equal(clean_unicode_run(u, &sc, raw, n, &norm, NULL), 0);
        for (size_t i = 0; i < norm.len;) {
            const char *nl = memchr(norm.data + i, '\n', norm.len - i);
            size_t le = nl ? (size_t)(nl - norm.data) : norm.len;
            char *in = exact_copy(norm.data + i, le - i);
            cline got = {.s = in, .n = le - i}, want = got;
            int letters = 0;
            features(&got, INT_MAX);
            features_plain(want.s, want.n, &want, &letters);
            if (got.words != want.words || (letters > 0) != (got.words > 0) || got.url_bytes != want.url_bytes ||
                got.digits != want.digits)
                fail_msg("'%.*s': words %d/%d (letters %d) url %zu/%zu digits %u/%u", (int)got.n, got.s, got.words,
                         want.words, letters, got.url_bytes, want.url_bytes, got.digits, want.digits);
            check_capped(&got, &got);
            free(in);
            i = le + 1;
        }
    }
    /* lines as features() may see them, not normalised: words of every
     * character of U+0600..U+06FF (letters, marks, the Arabic-Indic and
     * Persian digits, punctuation) between spaces, now and then a piece of
     * the list, for the 32-byte step over words of two-byte characters */
    for (int t = 0; t < 20000; t++) {
        size_t len = 20 + rnd(200);
        size_t n = random_line(raw, len, 4, 0x0600, 0x100);
        char *in = exact_copy(raw, n);
        cline got = {.s = in, .n = n}, want = got;
        int letters = 0;
        features(&got, INT_MAX);
        features_plain(want.s, want.n, &want, &letters);
        if (got.words != want.words || got.url_bytes != want.url_bytes || got.digits != want.digits)
            fail_msg("'%.*s': words %d/%d url %zu/%zu digits %u/%u", (int)got.n, got.s, got.words, want.words,
                     got.url_bytes, want.url_bytes, got.digits, want.digits);
        check_capped(&got, &got);
        free(in);
    }
    /* long lines as clean_lines_run() caps them (story paragraphs): words
     * of letters and single spaces, now and then a digit, and with one line
     * in two a URL piece, an 'h' or a 'w' somewhere, most often past the
     * cap, so that the rest of the line is skipped or read */
    static const char *const latin[] = {"http://a.b/c", "https://x.y", "www.z.com", "see:http://q.r/s", "h", "w",
                                        "ah:b", "7", "\xD9\xA3"};
    char *big = malloc(4000);
    assert_non_null(big);
    for (int t = 0; t < 20000; t++) {
        size_t len = 400 + rnd(2000);
        size_t n = random_line(big, len, 3, 0x0620, 0x2C);
        for (uint32_t k = rnd(2) ? 1 + rnd(3) : 0; k; k--) {
            const char *p = latin[rnd(sizeof latin / sizeof *latin)];
            size_t at = rnd(2) ? n - rnd((uint32_t)(n < 200 ? n : 200)) : rnd((uint32_t)n);
            while (at > 0 && big[at - 1] != ' ') at--; /* a token's start */
            size_t l = strlen(p);
            memmove(big + at + l + 1, big + at, n - at);
            memcpy(big + at, p, l);
            big[at + l] = ' ';
            n += l + 1;
        }
        char *in = exact_copy(big, n);
        cline got = {.s = in, .n = n}, want = got;
        int letters = 0;
        features(&got, INT_MAX);
        features_plain(want.s, want.n, &want, &letters);
        if (got.words != want.words || got.url_bytes != want.url_bytes || got.digits != want.digits)
            fail_msg("long line %d: words %d/%d url %zu/%zu digits %u/%u", t, got.words, want.words, got.url_bytes,
                     want.url_bytes, got.digits, want.digits);
        for (int r = 0; r < 4; r++) check_capped(&got, &got);
        free(in);
    }
    free(big);
    nahr_buf_free(&norm);
    clean_scratch_free(&sc);
    clean_unicode_free(u);
}

/* ------------------------------------------------------------ phrases */

/* Phrases (already in matching form) that share prefixes and suffixes, so
 * that fail links and output chains (a phrase ending inside another) are
 * exercised. */
static const struct {
    int family, mode;
    const char *s;
} fast_phrases[] = {
    {CR_NAV, CM_SHORT, "\xd8\xa7\xd9\x84\xd8\xb1\xd9\x8a\xd9\x8a\xd8\xb3\xd9\x8a\xd9\x87"},
    {CR_SHARE, CM_ANY, "share"},
    {CR_SHARE, CM_SHORT, "share this"},
    {CR_RELATED, CM_START, "read also"},
    {CR_RELATED, CM_SHORT, "also"},
    {CR_ADS, CM_EXACT, "ad"},
    {CR_ADS, CM_ANY, "ads"},
    {CR_PROMO, CM_SHORT, "a"},
    {CR_COMMENTS, CM_SHORT, "hare"},
    {CR_COPYRIGHT, CM_ANY, "\xd9\x84 \xd9\x85"},
    {CR_CAPTION, CM_START, "\xd9\x84"},
    {CR_SUBSCRIBE, CM_SHORT, "share"}, /* a second phrase on the same state */
    {CR_RELATED, CM_SHORT, "also share this"}, /* ends after "share", which starts later */
    {CR_EMBED, CM_ANY, "this"},
};

static int phrase_accepts(int mode, const char *s, size_t n, size_t start, size_t end)
{
    int lb = start == 0 || s[start - 1] == ' ';
    int rb = end == n || s[end] == ' ';
    if (mode == CM_EXACT) return start == 0 && end == n;
    if (mode == CM_START) return start == 0;
    return lb && rb;
}

/* The order clean_phrases_find() reports in: by end, then the longer
 * first (the fail chain), then the phrase added last first (the list of a
 * state); the brute force records the phrase's index in mode's high bits. */
static int match_order_cmp(const void *a, const void *b)
{
    const clean_match *x = a, *y = b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->mode >> 8) > (y->mode >> 8) ? -1 : (x->mode >> 8) < (y->mode >> 8);
}

static int match_cmp(const void *a, const void *b)
{
    const clean_match *x = a, *y = b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->family != y->family) return x->family < y->family ? -1 : 1;
    return x->mode < y->mode ? -1 : x->mode > y->mode;
}

static void test_phrases_brute_force(void **state)
{
    (void)state;
    clean_phrases *p = clean_phrases_new();
    assert_non_null(p);
    size_t np = sizeof fast_phrases / sizeof *fast_phrases;
    for (size_t k = 0; k < np; k++)
        assert_int_equal(clean_phrases_add(p, fast_phrases[k].family, fast_phrases[k].mode, fast_phrases[k].s,
                                           strlen(fast_phrases[k].s)),
                         NAHR_OK);
    assert_int_equal(clean_phrases_build(p), NAHR_OK);
    static const char *const words[] = {"share", "this", "read", "also", "ad", "ads", "a", "hare", "x",
                                        "\xd9\x84", "\xd9\x85", "\xd8\xa7\xd9\x84\xd8\xb1\xd9\x8a\xd9\x8a\xd8\xb3\xd9\x8a\xd9\x87",
                                        "sharea", "\xd9\x84\xd9\x85"};
    char line[400];
    clean_match got[64], want[64];
    for (int t = 0; t < 30000; t++) {
        size_t n = 0, nw = 1 + rnd(8);
        for (size_t w = 0; w < nw; w++) {
            const char *x = words[rnd(sizeof words / sizeof *words)];
            if (w && rnd(5) != 0) line[n++] = ' '; /* words glued now and then */
            memcpy(line + n, x, strlen(x));
            n += strlen(x);
        }
        line[n] = '\0';
        char *in = exact_copy(line, n);
        size_t ng = clean_phrases_find(p, in, n, got, 64), nwant = 0;
        free(in);
        for (size_t k = 0; k < np; k++) {
            size_t l = strlen(fast_phrases[k].s);
            for (size_t st = 0; st + l <= n; st++)
                if (memcmp(line + st, fast_phrases[k].s, l) == 0 &&
                    phrase_accepts(fast_phrases[k].mode, line, n, st, st + l)) {
                    assert_true(nwant < 64);
                    want[nwant++] = (clean_match){(uint32_t)fast_phrases[k].family,
                                                  (uint32_t)fast_phrases[k].mode | (uint32_t)k << 8, st, st + l};
                }
        }
        assert_true(ng <= 64);
        if (ng != nwant) fail_msg("'%s': %zu matches, brute force %zu", line, ng, nwant);
        /* the same matches in the same order (the classification takes
         * the first one that applies) */
        qsort(want, nwant, sizeof *want, match_order_cmp);
        for (size_t k = 0; k < nwant; k++) want[k].mode &= 0xFFu;
        for (size_t k = 0; k < ng; k++)
            if (match_cmp(&got[k], &want[k]) != 0)
                fail_msg("'%s': match %zu is %zu..%zu family %u, brute force %zu..%zu family %u", line, k, got[k].start,
                         got[k].end, got[k].family, want[k].start, want[k].end, want[k].family);
        /* room for fewer: the same count, the first ones written */
        size_t room = rnd(4);
        clean_match guard;
        memset(&guard, 0xAB, sizeof guard);
        got[room] = guard; /* nothing past the room is written */
        in = exact_copy(line, n);
        assert_int_equal(clean_phrases_find(p, in, n, got, room), nwant);
        free(in);
        assert_memory_equal(&got[room], &guard, sizeof guard);
        for (size_t k = 0; k < room && k < nwant; k++)
            if (match_cmp(&got[k], &want[k]) != 0) fail_msg("'%s': room %zu: match %zu differs", line, room, k);
    }
    clean_phrases_free(p);
}

/* crumb_seps(): the memchr prefilter against memmem alone, on random lines
 * of separators, guillemets, spaces, letters and other pieces. */
static void test_crumb_seps_quick(void **state)
{
    (void)state;
    static const char *const crumb_pieces[] = {
        "\xC2\xBB", "\xC2\xAB", "\xE2\x80\xBA", "\xE2\x80\xB9", "\xE2\x80\x93", ">", "/", "|", " ", " ", " ", "a",
        "\xD8\xA3\xD8\xAE\xD8\xA8\xD8\xA7\xD8\xB1", "\xD9\x81\xD9\x8A\xD8\xAF\xD9\x8A\xD9\x88", "\xC2", "\xE2", "\xBB",
    };
    char line[300];
    size_t counted = 0;
    for (int t = 0; t < 50000; t++) {
        size_t n = 0, want = (size_t)rnd(40);
        for (size_t k = 0; k < want; k++) {
            const char *p = rnd(8) ? crumb_pieces[rnd(sizeof crumb_pieces / sizeof *crumb_pieces)] : pieces[rnd(NPIECES)];
            size_t l = strlen(p);
            if (n + l >= sizeof line) break;
            memcpy(line + n, p, l);
            n += l;
        }
        char *c = exact_copy(line, n);
        int q = crumb_seps(c, n, 1), p = crumb_seps(c, n, 0);
        if (q != p) fail_msg("'%.*s': quick %d, memmem %d", (int)n, line, q, p);
        counted += p >= 2;
        free(c);
    }
    assert_true(counted > 1000);
}

/* ------------------------------------------------------------ dates */

/* Pieces of datelines: day and year numbers in ASCII, Arabic-Indic and
 * Persian digits (one to five digits), month names (hamza forms and the
 * two-word Levantine ones), weekdays, fillers, separators, other words. */
static const char *const date_pieces[] = {
    "1", "7", "21", "31", "32", "0", "2025", "1999", "12345", "\xD9\xA2\xD9\xA7", "\xD9\xA2\xD9\xA0\xD9\xA2\xD9\xA1",
    "\xDB\xB1\xDB\xB4\xDB\xB0\xDB\xB2", "\xDB\xB5", "\xD9\xA9", "يناير", "أبريل", "مايو", "آذار", "كانون الثاني",
    "تشرين الأول", "January", "sept", "Dec", "الثلاثاء", "السبت", "Monday", "نشر في", "بتاريخ", "الساعة", "ص", "GMT",
    "10:30", "2025-01-21", "21/01/2025", "01.02.2024", "-", "/", ",", "، ", ":", " ", " ", " ", "  ", "الخبر", "قال", "news",
    "\xD8", "\xD9", "\xDB", "\xFF",
};

/* The quick rejection in clean_date_parse() (fewer than five digits: no
 * date) against the full parse: same result, date and coverage, on random
 * lines of dateline pieces; both found and not found must occur. */
static void test_date_quick_reject(void **state)
{
    (void)state;
    char line[512];
    size_t found = 0, rejected = 0;
    for (int iter = 0; iter < 60000; iter++) {
        size_t n = 0, want = 1 + rnd(12);
        for (size_t k = 0; k < want; k++) {
            const char *p = rnd(6) ? date_pieces[rnd(sizeof date_pieces / sizeof *date_pieces)] : pieces[rnd(NPIECES)];
            size_t l = strlen(p);
            if (n + l + 1 >= sizeof line) break;
            memcpy(line + n, p, l);
            n += l;
            if (rnd(3)) line[n++] = ' ';
        }
        char *c = exact_copy(line, n);
        char iso_q[11] = "x", iso_p[11] = "x";
        int cov_q = -1, cov_p = -1;
        int rq = date_parse(c, n, iso_q, &cov_q, 1), rp = date_parse(c, n, iso_p, &cov_p, 0);
        if (rq != rp || cov_q != cov_p || (rp && strcmp(iso_q, iso_p) != 0))
            fail_msg("'%.*s': quick %d %s %d, full %d %s %d", (int)n, line, rq, iso_q, cov_q, rp, iso_p, cov_p);
        found += rp;
        rejected += !rp && digits_of((const unsigned char *)c, n) < 5;
        free(c);
    }
    /* long lines: no date either way */
    memset(line, '1', 450);
    char iso[11];
    int cov = 7;
    assert_int_equal(clean_date_parse(line, 450, iso, &cov), 0);
    assert_int_equal(cov, 0);
    assert_true(found > 1000);
    assert_true(rejected > 1000);
    /* the fewest digits a date can have: a one-digit day and a year */
    static const char five[] = "5 مايو 2024";
    assert_int_equal(clean_date_parse(five, strlen(five), iso, &cov), 1);
    assert_string_equal(iso, "2024-05-05");
}

/* ------------------------------------------------------------ clean_doc */

static void test_doc_unchanged_text(void **state)
{
    (void)state;
    clean_config cfg;
    clean_config_defaults(&cfg);
    char err[512], dir[4200];
    clean_unicode_opts uo = {.form = 1, .remove_tatweel = true};
    cfg.uni = clean_unicode_new(&uo, err, sizeof err);
    assert_non_null(cfg.uni);
    cfg.phrases = clean_phrases_new();
    const char *src = getenv("NAHR_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/plugins/clean/data/phrases", src ? src : ".");
    if (clean_phrases_load_dir(cfg.phrases, dir, err, sizeof err) < 0) fail_msg("%s", err);
    assert_int_equal(clean_phrases_build(cfg.phrases), 0);
    clean_scratch sc = {0};
    const char *why = NULL;
    /* one story paragraph (14 words, a full stop): nothing to clean */
    static const char story[] = "ذهب الطلاب إلى المدرسة صباح اليوم وقرأوا كتبا كثيرة عن تاريخ المدينة القديمة وأسواقها.";
    nahr_doc *d = nahr_doc_new();
    assert_non_null(d);
    assert_int_equal(nahr_doc_set_text(d, story, strlen(story)), 0);
    const char *before = nahr_doc_text(d, NULL);
    assert_int_equal(clean_doc(&cfg, &sc, d, &why), CLEAN_OK);
    assert_ptr_equal(nahr_doc_text(d, NULL), before);
    assert_string_equal(nahr_doc_text(d, NULL), story);
    nahr_doc_free(d);
    /* the same with a doubled space: a new text, the space collapsed */
    char spaced[sizeof story + 1];
    const char *sp = strchr(story, ' ');
    size_t k = (size_t)(sp - story);
    memcpy(spaced, story, k);
    spaced[k] = ' ';
    memcpy(spaced + k + 1, story + k, sizeof story - k);
    d = nahr_doc_new();
    assert_non_null(d);
    assert_int_equal(nahr_doc_set_text(d, spaced, strlen(spaced)), 0);
    assert_int_equal(clean_doc(&cfg, &sc, d, &why), CLEAN_OK);
    assert_string_equal(nahr_doc_text(d, NULL), story);
    nahr_doc_free(d);
    /* a document with a span: the text cannot be set, unchanged or not */
    d = nahr_doc_new();
    assert_non_null(d);
    assert_int_equal(nahr_doc_set_text(d, story, strlen(story)), 0);
    assert_int_equal(nahr_doc_add_span(d, "X", 0, 6), 0);
    assert_int_equal(clean_doc(&cfg, &sc, d, &why), NAHR_EBUSY);
    nahr_doc_free(d);
    clean_scratch_free(&sc);
    clean_phrases_free(cfg.phrases);
    clean_unicode_free(cfg.uni);
}

/* clean_lines_run() with the word cap of long lines against every word
 * counted (exact_words): the same kept text, metadata and removed lines with
 * their reasons, on random articles of short lines (phrases of the data
 * files, bylines, dates, menus, URLs) and long lines (400-1,500 bytes, 10-60
 * words, around the cap and the headline's 40, ending a sentence or not),
 * with the default options and small min_story_words/short_line_words. */
/* The default clean configuration with the shipped phrase lists and the
 * removed lines reported (the clean_lines_run() tests below). */
static clean_config lines_config(void)
{
    clean_config cfg;
    clean_config_defaults(&cfg);
    char err[512], dir[4200];
    cfg.phrases = clean_phrases_new();
    const char *src = getenv("NAHR_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/plugins/clean/data/phrases", src ? src : ".");
    if (clean_phrases_load_dir(cfg.phrases, dir, err, sizeof err) < 0) fail_msg("%s", err);
    assert_int_equal(clean_phrases_build(cfg.phrases), 0);
    cfg.keep_removed = true;
    return cfg;
}

/* clean_lines_run() of text[0..n) with the word cap into doc a and out_cap,
 * and with every word counted (exact_words) into doc b and out_all. */
static void run_capped_and_whole(clean_config *cfg, const char *text, size_t n, nahr_doc *a, nahr_buf *out_cap,
                                 nahr_doc *b, nahr_buf *out_all)
{
    cfg->exact_words = false;
    assert_int_equal(clean_lines_run(cfg, a, text, n, out_cap), 0);
    cfg->exact_words = true;
    assert_int_equal(clean_lines_run(cfg, b, text, n, out_all), 0);
}

/* The floor of 5 in clean_lines_run()'s word cap: with min_story_words 2
 * and short_line_words 1 the cap would otherwise be 4, and a byline
 * qualifier (a "~" phrase: a byline at most 5 words) in a line over
 * CRUMB_MAX_LINE bytes of 7 long words would read as a byline. */
static void test_lines_word_cap_floor(void **state)
{
    (void)state;
    clean_config cfg = lines_config();
    cfg.min_story_words = 2;
    cfg.short_line_words = 1;
    char text[2048];
    size_t n = 0;
    memcpy(text, "خاص", strlen("خاص"));
    n += strlen("خاص");
    for (int w = 0; w < 7; w++) { /* seven words of 64 bytes: no 'h', no 'w' */
        text[n++] = ' ';
        for (int k = 0; k < 8; k++) {
            memcpy(text + n, "كتاب", strlen("كتاب"));
            n += strlen("كتاب");
        }
    }
    assert_true(n > CRUMB_MAX_LINE && n < 800);
    const char *story = "\nذهب الطلاب إلى المدرسة صباح اليوم وقرأوا عن تاريخ المدينة القديمة.";
    memcpy(text + n, story, strlen(story));
    n += strlen(story);
    nahr_buf out_cap = {0}, out_all = {0};
    nahr_doc *a = nahr_doc_new(), *b = nahr_doc_new();
    assert_non_null(a);
    assert_non_null(b);
    run_capped_and_whole(&cfg, text, n, a, &out_cap, b, &out_all);
    assert_int_equal(out_all.len, n); /* nothing removed: 8 words are no byline */
    assert_int_equal(out_cap.len, out_all.len);
    assert_memory_equal(out_cap.data, out_all.data, out_all.len);
    nahr_doc_free(a);
    nahr_doc_free(b);
    nahr_buf_free(&out_cap);
    nahr_buf_free(&out_all);
    clean_phrases_free(cfg.phrases);
}

static void test_lines_word_cap_same(void **state)
{
    (void)state;
    static const char *const short_lines[] = {
        "اقرأ أيضا", "شارك", "الرئيسية » أخبار » سياسة", "كتب: محمد علي", "هاشتاغ – خاص", "الثلاثاء 21 يناير 2025",
        "https://example.com/a/b/c", "اشترك في النشرة", "أخبار | رياضة | فيديو", "تعليقات", "مواضيع ذات صلة",
        "news-details", "123 456", "المصدر: وكالات", "...", "ذهب الطلاب إلى المدرسة…", "By John Smith",
    };
    static const char *const words[] = {"ذهب", "الطلاب", "إلى", "المدرسة", "صباح", "اليوم", "وقرأوا", "كتبا", "عن",
                                        "تاريخ", "المدينة", "القديمة", "2025", "شارك", "أيضا", "اقرأ", "،"};
    /* an 'h' or a 'w' past the cap makes the rest of the line read: one
     * long line in four holds one of these */
    static const char *const latin[] = {"www.x.com", "http://a.b/c", "the", "news", "ok"};
    static const char *const ends[] = {".", "", "!", "؟", "…", ":", "\"", ""};
    clean_config cfg = lines_config();
    char *text = malloc(40000);
    assert_non_null(text);
    nahr_buf out_cap = {0}, out_all = {0}, js_cap = {0}, js_all = {0};
    size_t changed = 0;
    for (int t = 0; t < 3000; t++) {
        cfg.min_story_words = t % 3 ? 12 : 2 + (int)rnd(10);
        cfg.short_line_words = t % 3 ? 12 : 1 + (int)rnd(30);
        size_t n = 0, nl = 1 + rnd(14);
        for (size_t l = 0; l < nl; l++) {
            if (l) {
                text[n++] = '\n';
                if (rnd(4) == 0) text[n++] = '\n';
            }
            if (rnd(2)) {
                const char *p = short_lines[rnd(sizeof short_lines / sizeof *short_lines)];
                memcpy(text + n, p, strlen(p));
                n += strlen(p);
                continue;
            }
            /* one long line in four of long tokens (a few words over 400
             * bytes: the counts of 5 and less) */
            size_t glue = rnd(4) ? 1 : 12, nw = glue > 1 ? 1 + rnd(8) : 10 + rnd(51), start = n;
            size_t lw = rnd(4) ? SIZE_MAX : rnd((uint32_t)nw);
            for (size_t w = 0; w < nw || n - start <= CRUMB_MAX_LINE; w++) {
                if (w) text[n++] = ' ';
                for (size_t g = 0; g < glue; g++) {
                    const char *p = w == lw ? latin[rnd(sizeof latin / sizeof *latin)] : words[rnd(sizeof words / sizeof *words)];
                    memcpy(text + n, p, strlen(p));
                    n += strlen(p);
                }
            }
            const char *e = ends[rnd(sizeof ends / sizeof *ends)];
            memcpy(text + n, e, strlen(e));
            n += strlen(e);
        }
        nahr_doc *a = nahr_doc_new(), *b = nahr_doc_new();
        assert_non_null(a);
        assert_non_null(b);
        run_capped_and_whole(&cfg, text, n, a, &out_cap, b, &out_all);
        nahr_buf_reset(&js_cap);
        nahr_buf_reset(&js_all);
        assert_int_equal(nahr_doc_write_json(a, &js_cap), 0);
        assert_int_equal(nahr_doc_write_json(b, &js_all), 0);
        if (out_cap.len != out_all.len || memcmp(out_cap.data, out_all.data, out_cap.len) != 0 ||
            js_cap.len != js_all.len || memcmp(js_cap.data, js_all.data, js_cap.len) != 0)
            fail_msg("article %d differs:\n%.*s\n--- capped: %.*s\n--- whole: %.*s", t, (int)n, text, (int)js_cap.len,
                     js_cap.data, (int)js_all.len, js_all.data);
        changed += out_cap.len < n; /* something removed */
        nahr_doc_free(a);
        nahr_doc_free(b);
    }
    assert_true(changed > 1000);
    nahr_buf_free(&out_cap);
    nahr_buf_free(&out_all);
    nahr_buf_free(&js_cap);
    nahr_buf_free(&js_all);
    free(text);
    clean_phrases_free(cfg.phrases);
}

/* On random texts (invalid bytes, NUL, controls, presentation forms,
 * combining marks) every text clean_doc() sets is valid UTF-8 (the
 * document model refuses anything else: the article would be lost). */
static void test_doc_output_valid(void **state)
{
    (void)state;
    clean_config cfg;
    clean_config_defaults(&cfg);
    char err[512], dir[4200], text[900];
    clean_unicode_opts uo = {.form = 1, .remove_tatweel = true};
    cfg.uni = clean_unicode_new(&uo, err, sizeof err);
    assert_non_null(cfg.uni);
    cfg.phrases = clean_phrases_new();
    const char *src = getenv("NAHR_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/plugins/clean/data/phrases", src ? src : ".");
    if (clean_phrases_load_dir(cfg.phrases, dir, err, sizeof err) < 0) fail_msg("%s", err);
    assert_int_equal(clean_phrases_build(cfg.phrases), 0);
    clean_scratch sc = {0};
    size_t set = 0;
    for (int t = 0; t < 4000; t++) {
        size_t n = 0;
        while (n < 200 + (size_t)rnd(500)) {
            const char *p = rnd(3) ? pieces[rnd(NPIECES)] : rnd(2) ? nf_pieces[rnd(sizeof nf_pieces / sizeof *nf_pieces)] : "\0";
            size_t l = *p ? strlen(p) : 1;
            if (n + l >= sizeof text) break;
            memcpy(text + n, p, l);
            n += l;
        }
        /* a doc's text is valid UTF-8 (the core repairs or refuses the
         * input), the unicode pass's input need not be (HTML pages) */
        nahr_doc *d = nahr_doc_new();
        assert_non_null(d);
        nahr_buf fixed = {0};
        assert_int_equal(nahr_utf8_repair(text, n, &fixed, NULL), 0);
        assert_int_equal(nahr_doc_set_text(d, fixed.data, fixed.len), 0);
        nahr_buf_free(&fixed);
        const char *why = NULL;
        int rc = clean_unicode_run(cfg.uni, &sc, text, n, &sc.norm, NULL);
        assert_int_equal(rc, 0);
        assert_int_equal(nahr_utf8_check(sc.norm.data ? sc.norm.data : "", sc.norm.len), sc.norm.len);
        rc = clean_doc(&cfg, &sc, d, &why);
        assert_true(rc == CLEAN_OK || rc == CLEAN_EMPTY);
        size_t tl = 0;
        const char *out = nahr_doc_text(d, &tl);
        assert_int_equal(nahr_utf8_check(out, tl), tl);
        set += rc == CLEAN_OK;
        nahr_doc_free(d);
    }
    assert_true(set > 100);
    clean_scratch_free(&sc);
    clean_phrases_free(cfg.phrases);
    clean_unicode_free(cfg.uni);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#if defined(__SSE2__)
        cmocka_unit_test(test_sse_in),
#endif
        cmocka_unit_test(test_unicode_runs_same),
        cmocka_unit_test(test_unicode_stretches_same),
        cmocka_unit_test(test_unicode_trigger_table),
        cmocka_unit_test(test_match_norm_random),
        cmocka_unit_test(test_features_random),
        cmocka_unit_test(test_phrases_brute_force),
        cmocka_unit_test(test_crumb_seps_quick),
        cmocka_unit_test(test_date_quick_reject),
        cmocka_unit_test(test_doc_unchanged_text),
        cmocka_unit_test(test_doc_output_valid),
        cmocka_unit_test(test_lines_word_cap_same),
        cmocka_unit_test(test_lines_word_cap_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
