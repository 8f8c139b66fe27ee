/* test_text.c - UTF-8 helpers, JSON string escaping and the Arabic normaliser. */
#include "testutil.h"
#include <nahr/nahr.h>

static void test_utf8_check(void **state)
{
    (void)state;
    assert_int_equal(nahr_utf8_check("abc", 3), 3);
    assert_int_equal(nahr_utf8_check("سلام", 8), 8);
    assert_int_equal(nahr_utf8_check("ab\xC0\xAF", 4), 2);            /* overlong */
    assert_int_equal(nahr_utf8_check("ab\xED\xA0\x80", 5), 2);        /* surrogate */
    assert_int_equal(nahr_utf8_check("abcdefghij\xD8", 11), 10);      /* truncated */
    assert_int_equal(nahr_utf8_check("abcdefgh\0ijk", 12), 8);        /* NUL */
    assert_int_equal(nahr_utf8_check("\xF4\x90\x80\x80", 4), 0);      /* > U+10FFFF */
    assert_int_equal(nahr_utf8_check("\xF0\x9F\x98\x80", 4), 4);      /* emoji */
}

static void test_utf8_repair(void **state)
{
    (void)state;
    nahr_buf b = {0};
    size_t bad = 0;
    assert_int_equal(nahr_utf8_repair("a\xff" "b\xC3", 4, &b, &bad), NAHR_OK);
    assert_int_equal(bad, 2);
    assert_string_equal(b.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    nahr_buf_free(&b);
}

static void test_json_string(void **state)
{
    (void)state;
    nahr_buf b = {0};
    nahr_buf_json_string(&b, "q\"\\\n\x01م", 7);
    assert_string_equal(b.data, "\"q\\\"\\\\\\n\\u0001م\"");
    nahr_buf_free(&b);
}

static void test_normalize(void **state)
{
    (void)state;
    const char *in = "أَحْمَدُ إلى مستشفى المدينة ١٢٣ الـقـاهرة";
    char out[256];
    size_t map[256];
    size_t n = nahr_ar_normalize(in, strlen(in), out, map);
    assert_string_equal(out, "احمد الي مستشفي المدينه 123 القاهره");
    assert_true(n <= strlen(in));
    /* map: the output word "المدينه" maps back to "المدينة" in the input */
    const char *o = strstr(out, "المدينه");
    size_t a = (size_t)(o - out), e = a + strlen("المدينه");
    assert_int_equal(map[e] - map[a], strlen("المدينة"));
    assert_memory_equal(in + map[a], "المدينة", strlen("المدينة"));
    assert_int_equal(map[n], strlen(in));
}

/* The mapping documented in text.h, code point by code point (0 = dropped). */
static int32_t documented_norm(int32_t cp)
{
    if (cp == 0) /* NUL never reaches text; the normaliser drops it */
        return 0;
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp == 0x0622 || cp == 0x0623 || cp == 0x0625 || cp == 0x0671)
        return 0x0627;
    if (cp == 0x0649 || cp == 0x0626 || cp == 0x06CC)
        return 0x064A;
    if (cp == 0x0629)
        return 0x0647;
    if (cp == 0x0624)
        return 0x0648;
    if (cp == 0x06A9)
        return 0x0643;
    if ((cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 || cp == 0x0640)
        return 0;
    if (cp >= 0x0660 && cp <= 0x0669)
        return '0' + (cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9)
        return '0' + (cp - 0x06F0);
    return cp;
}

/* Every code point through the fast paths (ASCII, two-byte, Arabic-block
 * table) and the general one, alone and between two letters, with the map. */
static void test_normalize_every_code_point(void **state)
{
    (void)state;
    for (int32_t cp = 0; cp <= 0x10FFFF; cp += cp < 0x3000 ? 1 : 97) {
        char in[16], out[16], want[16];
        size_t map[16];
        size_t k = nahr_utf8_put((uint32_t)cp, in + 1);
        if (k == 0)
            continue; /* surrogates */
        in[0] = 'b';
        in[k + 1] = 'Q';
        int32_t nc = documented_norm(cp);
        size_t wl = 0;
        want[wl++] = 'b';
        if (nc)
            wl += nahr_utf8_put((uint32_t)nc, want + wl);
        want[wl++] = 'q';
        size_t n = nahr_ar_normalize(in, k + 2, out, map);
        assert_int_equal(n, wl);
        assert_memory_equal(out, want, wl);
        assert_int_equal(out[n], '\0');
        for (size_t j = 1; j + 1 < n; j++)
            assert_int_equal(map[j], 1); /* every byte of the mapped character comes from its start */
        assert_int_equal(map[0], 0);
        assert_int_equal(map[n - 1], k + 1);
        assert_int_equal(map[n], k + 2);
        assert_int_equal(nahr_ar_normalize(in, k + 2, out, NULL), wl);
        assert_memory_equal(out, want, wl);
    }
}

/* Invalid bytes are copied through with their offsets; NUL is dropped. */
static void test_normalize_invalid(void **state)
{
    (void)state;
    static const char in[] = "A\xD8\xD9\x84\x80\0\xC3\xA9\xE0\x80\x80Z\xD9";
    char out[32];
    size_t map[32];
    size_t n = nahr_ar_normalize(in, sizeof in - 1, out, map);
    assert_int_equal(n, 12);
    assert_memory_equal(out, "a\xD8\xD9\x84\x80\xC3\xA9\xE0\x80\x80z\xD9", n);
    static const size_t want[] = {0, 1, 2, 2, 4, 6, 6, 8, 9, 10, 11, 12, 13};
    for (size_t j = 0; j <= n; j++)
        assert_int_equal(map[j], want[j]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_every_code_point),
        cmocka_unit_test(test_normalize_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
