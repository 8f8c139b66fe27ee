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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_check),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_normalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
