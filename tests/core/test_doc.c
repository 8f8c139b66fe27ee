/* test_doc.c - the document model: spans, fields, values, JSON output. */
#include "testutil.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

static json_t *to_json(nahr_doc *d)
{
    nahr_buf b = {0};
    assert_int_equal(nahr_doc_write_json(d, &b), NAHR_OK);
    json_error_t err;
    json_t *j = json_loads(b.data, 0, &err);
    if (!j)
        fail_msg("invalid JSON output: %s: %s", err.text, b.data);
    nahr_buf_free(&b);
    return j;
}

/* Numbers are written as snprintf("%.6g") writes them (the writer formats
 * the usual short decimals itself); integers exactly. */
static void test_numbers_in_json(void **state)
{
    (void)state;
    static const double xs[] = {0.6, 0.9, 0.8, -0.054, 0.006, 0.0001, 0.00012, 0.00009999, 1e-5, 0.1 + 0.2, 1.0 / 3,
                                2.5, -7, 10, 100000, 123456, 999999.4, 999999.6, 1234567, 1e15, 1e300, -1e-300,
                                0.873, -0.999, 5e-324, 0.5, 4096.25, 12.000001, 0.0, -0.0};
    nahr_doc *d = nahr_doc_new();
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        nahr_buf b = {0};
        char want[64];
        snprintf(want, sizeof want, "%.6g", xs[i]);
        assert_int_equal(nahr_value_write_json(nahr_value_double(d, xs[i]), &b), NAHR_OK);
        assert_string_equal(b.data, want);
        nahr_buf_free(&b);
    }
    for (int k = -1000; k <= 1000; k++) { /* every score the plugins round to 3 decimals */
        nahr_buf b = {0};
        char want[64];
        double x = round(k) / 1000.0;
        snprintf(want, sizeof want, "%.6g", x);
        assert_int_equal(nahr_value_write_json(nahr_value_double(d, x), &b), NAHR_OK);
        assert_string_equal(b.data, want);
        nahr_buf_free(&b);
    }
    /* decimals of one to six digits with zero to nine places (the writer's
     * own path), and random doubles (most through snprintf) */
    uint64_t seed = 21;
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    for (int it = 0; it < 30000; it++) {
        nahr_buf b = {0};
        char want[64];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        double x;
        if (it % 4) {
            static const unsigned long long lim[] = {10, 100, 1000, 10000, 100000, 1000000};
            unsigned long long dd = (seed >> 20) % lim[(seed >> 8) % 6];
            x = (double)dd / p10[(seed >> 12) % 10];
        } else {
            uint64_t bits = 0x3F00000000000000ull + (seed >> 20) % 0x0130000000000000ull; /* about 1e-5 .. 1e7 */
            memcpy(&x, &bits, sizeof x);
        }
        if (seed >> 63)
            x = -x;
        snprintf(want, sizeof want, "%.6g", x);
        assert_int_equal(nahr_value_write_json(nahr_value_double(d, x), &b), NAHR_OK);
        assert_string_equal(b.data, want);
        nahr_buf_free(&b);
    }
    /* integers (and span offsets) through the two-digits-a-step formatter:
     * every value below 100000, then random ones of every length */
    for (int64_t k = -100; k < 100000; k++) {
        nahr_buf b = {0};
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)k);
        assert_int_equal(nahr_value_write_json(nahr_value_int(d, k), &b), NAHR_OK);
        assert_string_equal(b.data, want);
        nahr_buf_free(&b);
    }
    for (int it = 0; it < 20000; it++) {
        nahr_buf b = {0};
        char want[32];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        int64_t k = (int64_t)(seed >> (seed % 63));
        snprintf(want, sizeof want, "%lld", (long long)k);
        assert_int_equal(nahr_value_write_json(nahr_value_int(d, k), &b), NAHR_OK);
        assert_string_equal(b.data, want);
        nahr_buf_free(&b);
    }
    static const int64_t ns[] = {0, 7, -1, 1234567890123LL, INT64_MAX, INT64_MIN};
    static const char *const nw[] = {"0", "7", "-1", "1234567890123", "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
        nahr_buf b = {0};
        assert_int_equal(nahr_value_write_json(nahr_value_int(d, ns[i]), &b), NAHR_OK);
        assert_string_equal(b.data, nw[i]);
        nahr_buf_free(&b);
    }
    nahr_buf b = {0};
    assert_int_equal(nahr_value_write_json(nahr_value_double(d, NAN), &b), NAHR_OK);
    assert_string_equal(b.data, "null");
    nahr_buf_free(&b);
    nahr_doc_free(d);
}

static void test_spans_use_codepoints_in_json(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    const char *t = "زار بوتين موسكو amid talks";
    assert_int_equal(nahr_doc_set_text(d, t, strlen(t)), NAHR_OK);
    nahr_doc_set(d, "id", "x1");
    const char *m = strstr(t, "موسكو");
    size_t s = (size_t)(m - t), e = s + strlen("موسكو");
    int i = nahr_doc_add_span(d, "LOC", s, e);
    assert_int_equal(i, 0);
    assert_int_equal(nahr_span_set_canonical(d, 0, "موسكو"), NAHR_OK);
    /* a later span in another layer, and one earlier in the text */
    assert_int_equal(nahr_doc_add_span_in(d, "sentences", "sentence", 0, strlen(t)), 1);
    assert_int_equal(nahr_doc_add_span(d, "PER", strlen("زار "), strlen("زار بوتين")), 2);
    json_t *j = to_json(d);
    json_t *ents = json_object_get(j, "entities");
    assert_int_equal(json_array_size(ents), 2);
    json_t *loc = json_array_get(ents, 0);
    /* "زار " = 4 code points, "بوتين " = 6 */
    assert_int_equal(json_integer_value(json_object_get(loc, "start")), 10);
    assert_int_equal(json_integer_value(json_object_get(loc, "end")), 15);
    assert_string_equal(json_string_value(json_object_get(loc, "text")), "موسكو");
    assert_string_equal(json_string_value(json_object_get(loc, "canonical")), "موسكو");
    assert_null(json_object_get(loc, "score"));
    json_t *per = json_array_get(ents, 1);
    assert_int_equal(json_integer_value(json_object_get(per, "start")), 4);
    assert_int_equal(json_integer_value(json_object_get(per, "end")), 9);
    json_t *sent = json_array_get(json_object_get(j, "sentences"), 0);
    assert_int_equal(json_integer_value(json_object_get(sent, "end")), (json_int_t)nahr_utf8_count(t, strlen(t)));
    json_decref(j);
    nahr_doc_free(d);
}

/* Long texts (past the 4080 bytes the writer counts in one vector sum)
 * of one- to four-byte characters, spans at random character starts: each
 * span's code-point offsets are nahr_utf8_count() of its byte offsets. */
static void test_span_codepoints_long_text(void **state)
{
    (void)state;
    static const char *const chars[] = {"a", " ", "\xD8\xA7", "\xD9\x84", "\xE2\x80\x8C", "\xF0\x9F\x98\x80", "\n"};
    uint64_t seed = 17;
    for (int it = 0; it < 24; it++) {
        size_t cap = 12000, n = 0, starts[12000], nstarts = 0;
        char *t = malloc(cap + 4);
        assert_non_null(t);
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = it % 3 == 2 ? cap - 100 : 100 + (size_t)(seed >> 33) % (cap - 100);
        while (n < want) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            /* every third text of three- and four-byte characters only:
             * mostly continuation bytes */
            const char *c = it % 3 == 2 ? chars[4 + (seed >> 33) % 2] : chars[(seed >> 33) % (sizeof chars / sizeof *chars)];
            starts[nstarts++] = n;
            memcpy(t + n, c, strlen(c));
            n += strlen(c);
        }
        starts[nstarts] = n;
        nahr_doc *d = nahr_doc_new();
        assert_int_equal(nahr_doc_set_text(d, t, n), NAHR_OK);
        nahr_doc_set(d, "id", "long");
        size_t span_s[40], span_e[40];
        for (int k = 0; k < 40; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t a = (seed >> 33) % (nstarts + 1), b = (seed >> 12) % (nstarts + 1);
            if (it % 2 == 0) /* in text order, as most articles' spans come */
                a = b = (nstarts * (size_t)k) / 40 + a % 8;
            else if (it % 4 == 3) /* all near the end: one long count before the first */
                a = b = nstarts - 1 - a % (nstarts / 16 + 1);
            if (a > nstarts)
                a = nstarts;
            if (b < a)
                b = a;
            span_s[k] = starts[a];
            span_e[k] = starts[b + (b < nstarts)];
            assert_int_equal(nahr_doc_add_span(d, "X", span_s[k], span_e[k]), k);
        }
        json_t *j = to_json(d);
        json_t *ents = json_object_get(j, "entities");
        assert_int_equal(json_array_size(ents), 40);
        for (size_t k = 0; k < 40; k++) {
            json_t *e = json_array_get(ents, k);
            assert_int_equal(json_integer_value(json_object_get(e, "start")),
                             (json_int_t)nahr_utf8_count(t, span_s[k]));
            assert_int_equal(json_integer_value(json_object_get(e, "end")), (json_int_t)nahr_utf8_count(t, span_e[k]));
        }
        json_decref(j);
        nahr_doc_free(d);
        free(t);
    }
}

/* Keys and span types of every length around the writer's inline limit
 * (24 bytes), with and without a byte to escape: the JSON reads back the
 * same strings. */
static void test_keys_and_types_escaped(void **state)
{
    (void)state;
    for (size_t len = 1; len <= 30; len++)
        for (size_t at = 0; at <= len; at++) { /* at == len: nothing to escape */
            char key[40], type[40];
            for (size_t i = 0; i < len; i++) {
                key[i] = (char)('a' + i % 26);
                type[i] = (char)('A' + i % 26);
            }
            key[len] = type[len] = '\0';
            if (at < len) {
                key[at] = at % 2 ? '"' : '\n';
                type[at] = at % 2 ? '\\' : '\t';
            }
            nahr_doc *d = nahr_doc_new();
            assert_int_equal(nahr_doc_set_text(d, "abc def", 7), NAHR_OK);
            nahr_doc_set(d, "id", "k");
            assert_int_equal(nahr_doc_add_span(d, type, 0, 3), 0);
            assert_int_equal(nahr_span_set_attr(d, 0, key, nahr_value_int(d, 5)), NAHR_OK);
            assert_int_equal(nahr_doc_set_field(d, key, nahr_value_int(d, 7)), NAHR_OK);
            json_t *j = to_json(d);
            assert_int_equal(json_integer_value(json_object_get(j, key)), 7);
            json_t *e = json_array_get(json_object_get(j, "entities"), 0);
            assert_string_equal(json_string_value(json_object_get(e, "type")), type);
            assert_int_equal(json_integer_value(json_object_get(e, key)), 5);
            json_decref(j);
            nahr_doc_free(d);
        }
}

/* Strings a plugin hands the model that are not UTF-8 (a value cut inside a
 * character, a key or type from binary data) are stored with U+FFFD for
 * each invalid sequence, NUL bytes kept: the JSON line stays valid. */
static void test_invalid_utf8_strings_repaired(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    assert_int_equal(nahr_doc_set_text(d, "\xd9\x85\xd8\xb5\xd8\xb1 x", 8), NAHR_OK);
    nahr_value *v = nahr_value_string(d, "a\xd8", 2);
    assert_non_null(v);
    size_t n;
    const char *s = nahr_value_as_string(v, &n);
    assert_int_equal(n, 4);
    assert_memory_equal(s, "a\xef\xbf\xbd", 4);
    v = nahr_value_string(d, "b\0c\xff", 4); /* NUL kept, 0xFF replaced */
    s = nahr_value_as_string(v, &n);
    assert_int_equal(n, 6);
    assert_memory_equal(s, "b\0c\xef\xbf\xbd", 6);
    assert_int_equal(nahr_doc_set_field(d, "f\xc3", nahr_value_string(d, "a\xd8", 2)), NAHR_OK);
    assert_int_equal(nahr_doc_add_span(d, "P\xe2\x82", 0, 6), NAHR_OK);
    assert_int_equal(nahr_span_set_canonical(d, 0, "\xd8\xd8"), NAHR_OK);
    assert_int_equal(nahr_span_set_attr(d, 0, "k\x80", nahr_value_cstr(d, "\xc0\xaf")), NAHR_OK);
    json_t *j = to_json(d); /* fails on invalid UTF-8 */
    json_t *f = json_object_get(j, "f\xef\xbf\xbd");
    assert_non_null(f);
    assert_string_equal(json_string_value(f), "a\xef\xbf\xbd");
    json_t *e = json_array_get(json_object_get(j, "entities"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "type")), "P\xef\xbf\xbd\xef\xbf\xbd"); /* as nahr_utf8_repair: per byte */
    assert_string_equal(json_string_value(json_object_get(e, "canonical")), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_non_null(json_object_get(e, "k\xef\xbf\xbd"));
    json_decref(j);
    nahr_doc_free(d);
}

/* The plain definition of a document string: s[0..n) with each invalid
 * UTF-8 sequence between NUL bytes replaced by U+FFFD (nahr_utf8_repair). */
static void ref_doc_string(const char *s, size_t n, nahr_buf *out)
{
    nahr_buf_reset(out);
    for (size_t a = 0; a <= n;) {
        const char *z = memchr(s + a, '\0', n - a);
        size_t e = z ? (size_t)(z - s) : n;
        assert_int_equal(nahr_utf8_repair(s + a, e - a, out, NULL), NAHR_OK);
        if (z)
            nahr_buf_append(out, "", 1);
        a = e + 1;
    }
}

/* Strings the model copied before are handed out again (d->recent): the
 * result is still the plain definition's, for strings that share a slot
 * (same length and end bytes), strings repaired (never handed out for the
 * original), NUL inside, and after a reset that reuses the arena. */
static void test_recent_strings_same_as_copies(void **state)
{
    (void)state;
    static const char *const pool[] = {"PER", "LOC", "ORG", "PXR", "P\xffR", "P\0R", "label", "score", "lbbel",
                                       "\xd8\xa7\xd9\x84\xd9\x85\xd9\x85\xd9\x84\xd9\x83\xd8\xa9",
                                       "\xd8\xa7\xd9\x84\xd9\x85\xd8\xaf\xd9\x8a\xd9\x86\xd8\xa9", "\xd8\xa7\xd8", "a",
                                       "b\xd8", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz",
                                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz", "",
                                       "PERk",          /* the slot of "PER", which it starts with */
                                       "\xef\x41\xbd", /* repaired, starts like the next: same slot */
                                       "\xef\xbf\xbd"};
    static const size_t lens[] = {3, 3, 3, 3, 3, 3, 5, 5, 5, 14, 14, 3, 1, 2, 65, 64, 0, 4, 3, 3};
    const size_t npool = sizeof pool / sizeof *pool;
    nahr_doc *d = nahr_doc_new();
    nahr_buf want = {0};
    uint64_t seed = 99;
    for (int round = 0; round < 40; round++) {
        nahr_doc_reset(d); /* the arena is reused: nothing from before may come back */
        assert_int_equal(nahr_doc_set_text(d, "\xd9\x85\xd8\xb5\xd8\xb1 x", 8), NAHR_OK);
        nahr_value *obj = nahr_value_object(d);
        for (int it = 0; it < 200; it++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t k = (size_t)(seed >> 33) % npool, n = lens[k];
            const char *src = pool[k];
            size_t gl;
            const char *got;
            switch ((seed >> 20) % 4) {
            case 0: { /* string values, NUL kept */
                nahr_value *v = nahr_value_string(d, src, n);
                assert_non_null(v);
                got = nahr_value_as_string(v, &gl);
                ref_doc_string(src, n, &want);
                break;
            }
            case 1: { /* span types and canonical forms (C strings) */
                int sp = nahr_doc_add_span(d, src, 0, 2);
                assert_true(sp >= 0);
                assert_int_equal(nahr_span_set_canonical(d, (size_t)sp, src), NAHR_OK);
                const nahr_span *span = nahr_doc_span(d, (size_t)sp);
                ref_doc_string(src, strlen(src), &want);
                assert_string_equal(span->type, want.data);
                got = span->canonical;
                gl = strlen(got);
                break;
            }
            default: { /* object keys */
                if (!*src)
                    continue;
                assert_int_equal(nahr_value_put(d, obj, src, nahr_value_null(d)), NAHR_OK);
                ref_doc_string(src, strlen(src), &want);
                got = NULL;
                for (size_t i = 0; i < nahr_value_len(obj) && !got; i++)
                    if (strcmp(nahr_value_key_at(obj, i), want.data) == 0)
                        got = nahr_value_key_at(obj, i);
                assert_non_null(got);
                gl = strlen(got);
                break;
            }
            }
            if (gl != want.len || memcmp(got, want.data, gl) != 0)
                fail_msg("round %d step %d: string %zu came out as %zu bytes, not %zu", round, it, k, gl, want.len);
        }
    }
    nahr_buf_free(&want);
    nahr_doc_free(d);
}

static void test_span_validation(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    const char *t = "سلام";
    nahr_doc_set_text(d, t, strlen(t));
    assert_int_equal(nahr_doc_add_span(d, "X", 1, 2), NAHR_EINVAL); /* inside a character */
    assert_int_equal(nahr_doc_add_span(d, "X", 2, 1), NAHR_EINVAL); /* reversed */
    assert_int_equal(nahr_doc_add_span(d, "X", 0, 99), NAHR_EINVAL); /* past the end */
    assert_int_equal(nahr_doc_add_span(d, "X", 0, 2), 0);
    /* layers: not a metadata key, "text" nor a field's name */
    static const char *const reserved[] = {"id", "title", "url", "date", "source", "text", "lang"};
    static const char *const fine[] = {"ids", "t", "sentences", "dates", "u", "entities", "x", "texts"};
    assert_int_equal(nahr_doc_set_field(d, "lang", nahr_value_cstr(d, "ar")), NAHR_OK);
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        assert_int_equal(nahr_doc_add_span_in(d, reserved[i], "X", 0, 2), NAHR_EINVAL);
    for (size_t i = 0; i < sizeof fine / sizeof *fine; i++)
        assert_true(nahr_doc_add_span_in(d, fine[i], "X", 0, 2) >= 0);
    /* text cannot change once spans exist */
    assert_int_equal(nahr_doc_set_text(d, "x", 1), NAHR_EBUSY);
    nahr_doc_free(d);
}

/* Span attributes: reserved keys refused, a key set twice replaced, keys
 * copied by content (the caller's buffer may change between calls; the
 * document reuses its copy of a key it saw on an earlier span). */
static void test_span_attrs(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    assert_int_equal(nahr_doc_set_text(d, "abc def ghi", 11), NAHR_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nahr_doc_add_span(d, "PER", (size_t)i * 4, (size_t)i * 4 + 3), i);
    static const char *const reserved[] = {"type", "text", "start", "end", "canonical"};
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(nahr_span_set_attr(d, 0, reserved[k], nahr_value_int(d, 1)), NAHR_EINVAL);
    assert_int_equal(nahr_span_set_attr(d, 0, "score", NULL), NAHR_EINVAL);
    assert_int_equal(nahr_span_set_attr(d, 3, "score", nahr_value_int(d, 1)), NAHR_EINVAL);
    char key[16];
    for (int i = 0; i < 3; i++) {
        strcpy(key, "score");
        assert_int_equal(nahr_span_set_attr(d, (size_t)i, key, nahr_value_int(d, i)), NAHR_OK);
        strcpy(key, i == 1 ? "tally" : "source");
        assert_int_equal(nahr_span_set_attr(d, (size_t)i, key, nahr_value_int(d, 10 + i)), NAHR_OK);
        strcpy(key, "XXXXXX");
    }
    /* six more keys than the document remembers, then the first again */
    for (int k = 0; k < 6; k++) {
        snprintf(key, sizeof key, "k%d", k);
        assert_int_equal(nahr_span_set_attr(d, 2, key, nahr_value_int(d, k)), NAHR_OK);
    }
    assert_int_equal(nahr_span_set_attr(d, 2, "score", nahr_value_int(d, 7)), NAHR_OK);
    assert_int_equal(nahr_span_set_attr(d, 1, "tal", nahr_value_int(d, 5)), NAHR_OK);
    json_t *j = to_json(d);
    json_t *sp = json_object_get(j, "entities");
    assert_non_null(sp);
    assert_int_equal(json_array_size(sp), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 0), "score")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 0), "source")), 10);
    assert_null(json_object_get(json_array_get(sp, 0), "tally"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 1), "tally")), 11);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 1), "tal")), 5);
    assert_null(json_object_get(json_array_get(sp, 1), "source"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 2), "score")), 7);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 2), "k5")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sp, 2), "k0")), 0);
    assert_null(json_object_get(json_array_get(sp, 2), "XXXXXX"));
    json_decref(j);
    nahr_doc_free(d);
}

static void test_fields_and_values(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    nahr_doc_set_text(d, "abc", 3);
    nahr_doc_set(d, "id", "a\"b\n");
    nahr_value *o = nahr_value_object(d);
    assert_int_equal(nahr_value_put(d, o, "label", nahr_value_cstr(d, "positive")), NAHR_OK);
    assert_int_equal(nahr_value_put(d, o, "score", nahr_value_double(d, 0.25)), NAHR_OK);
    assert_int_equal(nahr_value_put(d, o, "score", nahr_value_double(d, 0.5)), NAHR_OK); /* replaces */
    assert_int_equal(nahr_value_len(o), 2);
    assert_int_equal(nahr_doc_set_field(d, "sentiment", o), NAHR_OK);
    assert_int_equal(nahr_doc_set_field(d, "id", o), NAHR_EINVAL);
    assert_int_equal(nahr_doc_set_field(d, "text", o), NAHR_EINVAL);
    assert_int_equal(nahr_doc_set_field(d, "entities", o), NAHR_EINVAL);
    nahr_value *a = nahr_value_array(d);
    for (int i = 0; i < 100; i++)
        assert_int_equal(nahr_value_push(d, a, nahr_value_int(d, i)), NAHR_OK);
    nahr_doc_set_field(d, "numbers", a);
    nahr_doc_set_field(d, "bad", nahr_value_double(d, 1.0 / 0.0));
    json_t *j = to_json(d);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "a\"b\n");
    json_t *s = json_object_get(j, "sentiment");
    assert_string_equal(json_string_value(json_object_get(s, "label")), "positive");
    assert_true(json_real_value(json_object_get(s, "score")) == 0.5);
    assert_int_equal(json_array_size(json_object_get(j, "numbers")), 100);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(j, "numbers"), 99)), 99);
    assert_true(json_is_null(json_object_get(j, "bad")));
    json_decref(j);
    nahr_doc_free(d);
}

static void test_normalized_cache(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    const char *t = "وصلت الوزيرة إلى القاهرة";
    nahr_doc_set_text(d, t, strlen(t));
    size_t n;
    const char *a = nahr_doc_normalized(d, &n, NULL);
    assert_string_equal(a, "وصلت الوزيره الي القاهره");
    assert_ptr_equal(nahr_doc_normalized(d, NULL, NULL), a); /* cached */
    const size_t *map;
    const char *b = nahr_doc_normalized(d, &n, &map);
    assert_non_null(map);
    assert_int_equal(map[n], strlen(t));
    const char *w = strstr(b, "القاهره");
    assert_memory_equal(t + map[w - b], "القاهرة", strlen("القاهرة"));
    nahr_doc_set_text(d, "أ", 2); /* new text: new normal form */
    assert_string_equal(nahr_doc_normalized(d, NULL, NULL), "ا");
    nahr_doc_free(d);
}

static void test_tokens_cache(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    size_t n = 99;
    const nahr_token *e = nahr_doc_tokens(d, 0, &n); /* empty text */
    assert_non_null(e);
    assert_int_equal(n, 0);
    /* dense in tokens: more than the first guess (a token per 4 bytes) */
    const char *t = "قال: ١٢٣، و«نعم»!..؟ a,b,c,d,e,f,g,h";
    nahr_doc_set_text(d, t, strlen(t));
    nahr_token ref[64];
    size_t nref = nahr_tokenize(t, strlen(t), ref, 64);
    assert_true(nref > strlen(t) / 4 + 1);
    const nahr_token *a = nahr_doc_tokens(d, 0, &n);
    assert_non_null(a);
    assert_int_equal(n, nref);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].start, ref[i].start);
        assert_int_equal(a[i].end, ref[i].end);
        assert_int_equal(a[i].kind, ref[i].kind);
        assert_int_equal(a[i].flags, ref[i].flags);
    }
    assert_ptr_equal(nahr_doc_tokens(d, 0, &n), a); /* cached */
    /* over the limit: NULL with the count, cached or not */
    assert_null(nahr_doc_tokens(d, 3, &n));
    assert_int_equal(n, nref);
    nahr_doc_set_text(d, t, strlen(t));
    assert_null(nahr_doc_tokens(d, 3, &n));
    assert_int_equal(n, nref);
    assert_non_null(nahr_doc_tokens(d, nref, &n)); /* exactly at the limit */
    /* a new text gets new tokens; so does a reset document */
    nahr_doc_set_text(d, "كلمة", strlen("كلمة"));
    a = nahr_doc_tokens(d, 0, &n);
    assert_int_equal(n, 1);
    assert_int_equal(a[0].end, strlen("كلمة"));
    nahr_doc_reset(d);
    a = nahr_doc_tokens(d, 0, &n);
    assert_non_null(a);
    assert_int_equal(n, 0);
    nahr_doc_free(d);
}

static void test_reset_and_arena_reuse(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    for (int round = 0; round < 50; round++) {
        char *big = nahr_doc_alloc(d, 1 << 20); /* larger than the first chunk */
        assert_non_null(big);
        memset(big, 'x', 1 << 20);
        nahr_doc_set_text(d, "abc", 3);
        nahr_doc_add_span(d, "X", 0, 1);
        nahr_doc_set(d, "title", "t");
        nahr_doc_reset(d);
        assert_int_equal(nahr_doc_span_count(d), 0);
        assert_null(nahr_doc_get(d, "title"));
        size_t n;
        nahr_doc_text(d, &n);
        assert_int_equal(n, 0);
    }
    nahr_doc_free(d);
}

/* Texts of Arabic, ASCII, quotes, backslashes, newlines and other control
 * bytes, written by the JSON writer and read back by the parser (plain runs
 * of every length between escapes): the same bytes. */
static void test_prepare_jsonl_escapes_round_trip(void **state)
{
    (void)state;
    static const char *const pieces[] = {"\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7", " ", "word", "\"", "\\", "\n",
                                         "\t", "\x01", "/", "\xE2\x80\x9C"};
    nahr_doc *d = nahr_doc_new();
    uint64_t seed = 31;
    for (int it = 0; it < 3000; it++) {
        char text[400];
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = 1 + (size_t)(seed >> 33) % 300;
        text[n++] = 'x'; /* never only whitespace */
        while (n < want) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            const char *pc = pieces[r % 4 ? r % 3 : (r >> 4) % (sizeof pieces / sizeof *pieces)];
            size_t len = strlen(pc);
            if (n + len > sizeof text - 1)
                break;
            memcpy(text + n, pc, len);
            n += len;
        }
        nahr_buf line = {0};
        nahr_buf_append(&line, "{\"id\":\"r\",\"text\":", 17);
        nahr_buf_json_string(&line, text, n);
        nahr_buf_append(&line, "}", 1);
        nahr_doc_reset(d);
        nahr_buf_append(&d->raw, line.data, line.len);
        d->kind = RAW_JSONL;
        d->origin = "t.jsonl:1";
        assert_int_equal(nahr__doc_prepare(d, true, NULL), NAHR_OK);
        size_t tl;
        const char *got = nahr_doc_text(d, &tl);
        assert_int_equal(tl, n);
        assert_memory_equal(got, text, n);
        nahr_buf_free(&line);
    }
    nahr_doc_free(d);
}

static void test_prepare_jsonl(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    const char *line = "{\"id\": 42, \"text\": \"نص\", \"title\": \"ع\", \"tags\": [\"a\", 1, null], \"lang\": \"ar\"}";
    nahr_buf_append(&d->raw, line, strlen(line));
    d->kind = RAW_JSONL;
    d->origin = "t.jsonl:1";
    assert_int_equal(nahr__doc_prepare(d, true, NULL), NAHR_OK);
    assert_string_equal(nahr_doc_get(d, "id"), "42");
    assert_string_equal(nahr_doc_get(d, "title"), "ع");
    assert_string_equal(nahr_doc_get(d, "lang"), "ar"); /* extra keys travel as fields */
    assert_int_equal(nahr_value_len(nahr_doc_field(d, "tags")), 3);

    /* escapes amid long plain runs (the parser copies those eight bytes at a time) */
    nahr_doc_reset(d);
    line = "{\"id\":\"e\",\"text\":\"abcdefghijk\\nسطر ثان طويل\\\"قول\\\" \\u0041\\/\\\\ \\ud83d\\ude00 end\"}";
    nahr_buf_append(&d->raw, line, strlen(line));
    d->kind = RAW_JSONL;
    d->origin = "t.jsonl:1";
    assert_int_equal(nahr__doc_prepare(d, true, NULL), NAHR_OK);
    size_t tl;
    assert_string_equal(nahr_doc_text(d, &tl), "abcdefghijk\nسطر ثان طويل\"قول\" A/\\ \xF0\x9F\x98\x80 end");

    const char *bad[] = {"[1,2]", "{\"id\":\"x\"}", "{\"id\":\"x\",\"text\":5}", "{\"id\":\"x\",\"text\":\"\"}",
                         "{\"id\":\"x\",\"text\":\"a\\u0000b\"}", "{\"id\":[1],\"text\":\"a\"}", "{\"id\":"};
    const char *why[] = {"must be an object", "missing 'text'", "must be a string", "empty article", "NUL",
                         "'id' must be", "invalid JSON"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nahr_doc_reset(d);
        nahr_buf_append(&d->raw, bad[i], strlen(bad[i]));
        d->kind = RAW_JSONL;
        d->origin = "t.jsonl:2";
        assert_true(nahr__doc_prepare(d, true, NULL) < 0);
        assert_int_equal(d->status, DOC_FAILED);
        if (!strstr(d->fail_reason, why[i]))
            fail_msg("case %zu: reason '%s' lacks '%s'", i, d->fail_reason, why[i]);
        nahr_buf b = {0};
        assert_int_equal(nahr__doc_write_dead_letter(d, &b), NAHR_OK);
        json_t *j = json_loads(b.data, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "input")), bad[i]);
        assert_string_equal(json_string_value(json_object_get(j, "origin")), "t.jsonl:2");
        json_decref(j);
        nahr_buf_free(&b);
    }
    nahr_doc_free(d);
}

static void test_prepare_utf8_policy(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    const char txt[] = "good text \xff with one bad byte and enough other bytes to stay text";
    nahr_buf_append(&d->raw, txt, sizeof txt - 1);
    d->kind = RAW_TEXT;
    strcpy(d->id_hint, "f");
    d->origin = "f.txt";
    assert_int_equal(nahr__doc_prepare(d, true, NULL), NAHR_OK);
    assert_non_null(strstr(nahr_doc_text(d, NULL), "\xEF\xBF\xBD"));
    assert_string_equal(nahr_doc_get(d, "id"), "f");

    nahr_doc_reset(d);
    nahr_buf_append(&d->raw, txt, sizeof txt - 1);
    d->kind = RAW_TEXT;
    d->origin = "f.txt";
    assert_true(nahr__doc_prepare(d, false, NULL) < 0);
    assert_non_null(strstr(d->fail_reason, "invalid UTF-8 at byte 10"));

    /* binary junk is not text */
    nahr_doc_reset(d);
    unsigned char junk[4096];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(rand() & 0xff);
    nahr_buf_append(&d->raw, junk, sizeof junk);
    d->kind = RAW_TEXT;
    d->origin = "junk.txt";
    assert_true(nahr__doc_prepare(d, true, NULL) < 0);
    assert_non_null(strstr(d->fail_reason, "not text"));
    nahr_buf b = {0};
    assert_int_equal(nahr__doc_write_dead_letter(d, &b), NAHR_OK);
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    nahr_buf_free(&b);
    nahr_doc_free(d);
}

/* input in a legacy encoding: converted to UTF-8 first; a byte the encoding
 * does not define fails the record with its offset, and the dead-letter
 * record keeps the bytes as read */
static void test_prepare_legacy_encoding(void **state)
{
    (void)state;
    assert_int_equal(nahr__encoding_kind(NULL), 1);
    assert_int_equal(nahr__encoding_kind("utf8"), 1);
    assert_int_equal(nahr__encoding_kind("windows-1256"), 0);
    assert_int_equal(nahr__encoding_kind("ISO-8859-6"), 0);
    assert_int_equal(nahr__encoding_kind("NO-SUCH-CHARSET-7"), -1);
    assert_int_equal(nahr__encoding_kind("UTF-16"), -2);
    assert_int_equal(nahr__encoding_kind("UTF-32LE"), -2);
    assert_int_equal(nahr__encoding_kind("auto"), 2);

    nahr_doc *d = nahr_doc_new();
    /* {"id":"k","text":"سلام"} in Windows-1256: one byte per letter */
    const char cp[] = "{\"id\":\"k\",\"text\":\"\xD3\xE1\xC7\xE3\"}";
    nahr_buf_append(&d->raw, cp, sizeof cp - 1);
    d->kind = RAW_JSONL;
    d->origin = "old.jsonl:1";
    assert_int_equal(nahr__doc_prepare(d, true, "WINDOWS-1256"), NAHR_OK);
    assert_string_equal(nahr_doc_text(d, NULL), "سلام");
    assert_string_equal(nahr_doc_get(d, "id"), "k");

    /* the same word in ISO-8859-6 (ل and م sit elsewhere there) */
    nahr_doc_reset(d);
    const char iso[] = "\xD3\xE4\xC7\xE5";
    nahr_buf_append(&d->raw, iso, sizeof iso - 1);
    d->kind = RAW_TEXT;
    strcpy(d->id_hint, "iso");
    d->origin = "iso.txt";
    assert_int_equal(nahr__doc_prepare(d, true, "ISO-8859-6"), NAHR_OK);
    assert_string_equal(nahr_doc_text(d, NULL), "سلام");

    /* 0xA1 is not defined in ISO-8859-6 */
    nahr_doc_reset(d);
    const char bad[] = "\xD3\xE4\xA1\xE5";
    nahr_buf_append(&d->raw, bad, sizeof bad - 1);
    d->kind = RAW_TEXT;
    strcpy(d->id_hint, "bad");
    d->origin = "bad.txt";
    assert_true(nahr__doc_prepare(d, true, "ISO-8859-6") < 0);
    assert_non_null(strstr(d->fail_reason, "not valid ISO-8859-6 at byte 2"));
    nahr_buf b = {0};
    assert_int_equal(nahr__doc_write_dead_letter(d, &b), NAHR_OK);
    json_t *j = json_loads(b.data, 0, NULL);
    assert_non_null(j);
    /* base64 of D3 E4 A1 E5 */
    assert_string_equal(json_string_value(json_object_get(j, "input_base64")), "0+Sh5Q==");
    json_decref(j);
    nahr_buf_free(&b);
    nahr_doc_free(d);
}

/* numbers read from JSON keep their text; reading one beyond int64 as an
 * integer saturates (no undefined conversion) */
static void test_parsed_numbers(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    char err[128];
    nahr_value *v = nahr__parse_json(d, "[1e400,-1e400,12345678901234567890123,2.50,7]", 45, err, sizeof err);
    assert_non_null(v);
    assert_int_equal(nahr_value_as_int(nahr_value_at(v, 0)), INT64_MAX);
    assert_int_equal(nahr_value_as_int(nahr_value_at(v, 1)), INT64_MIN);
    assert_true(nahr_value_as_double(nahr_value_at(v, 2)) > 1.2e22);
    assert_int_equal(nahr_value_as_int(nahr_value_at(v, 3)), 2);
    assert_int_equal(nahr_value_kind(nahr_value_at(v, 4)), NAHR_V_INT);
    nahr_buf b = {0};
    assert_int_equal(nahr_value_write_json(v, &b), NAHR_OK);
    assert_string_equal(b.data, "[1e400,-1e400,12345678901234567890123,2.50,7]");
    nahr_buf_free(&b);
    nahr_doc_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_in_json),
        cmocka_unit_test(test_parsed_numbers),
        cmocka_unit_test(test_spans_use_codepoints_in_json), cmocka_unit_test(test_span_codepoints_long_text), cmocka_unit_test(test_keys_and_types_escaped),
        cmocka_unit_test(test_prepare_jsonl_escapes_round_trip),
        cmocka_unit_test(test_invalid_utf8_strings_repaired),
        cmocka_unit_test(test_recent_strings_same_as_copies),
        cmocka_unit_test(test_span_validation),
        cmocka_unit_test(test_fields_and_values),
        cmocka_unit_test(test_normalized_cache),
        cmocka_unit_test(test_tokens_cache),
        cmocka_unit_test(test_reset_and_arena_reuse),
        cmocka_unit_test(test_span_attrs),
        cmocka_unit_test(test_prepare_jsonl),
        cmocka_unit_test(test_prepare_utf8_policy),
        cmocka_unit_test(test_prepare_legacy_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
