/* test_text.c - UTF-8 helpers, JSON string escaping and the Arabic normaliser. */
#include "testutil.h"
#include <nahr/nahr.h>
#include "internal.h"

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

/* Byte-at-a-time strict UTF-8 check (RFC 3629), the reference for the
 * word-at-a-time nahr_utf8_check: offset of the first invalid byte, or n. */
static size_t ref_utf8_check(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) k = 1, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) k = 2, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) k = 3, cp = c & 0x07, min = 0x10000;
        else return i;
        if (i + k >= n)
            return i;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += k + 1;
    }
    return n;
}

/* Every mix of ASCII, Arabic, other and broken sequences at every offset of
 * the 8-byte words nahr_utf8_check reads at once. */
static void test_utf8_check_words(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a", " ", "\xD8\xA7", "\xD9\x84", "\xC2\x80", "\xDF\xBF",
                                         "\xE2\x80\x8F", "\xF0\x9F\x98\x80", "\x80", "\xC0\x80", "\xC1\xBF",
                                         "\xD8", "\xED\xA0\x80", "\xE0\x80\x80", "\xFF", "\xF4\x90\x80\x80",
                                         "\xE0\xA0\x80", "\xF5\x80\x80\x80", "\x7F"};
    const size_t np = sizeof pieces / sizeof *pieces;
    uint64_t seed = 42;
    unsigned char buf[64];
    for (int it = 0; it < 200000; it++) {
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = (size_t)(seed >> 58); /* 0..63 bytes */
        int broken_one_in = 1 + (int)((seed >> 20) % 64);
        while (n < want) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            size_t k = r % (unsigned)broken_one_in == 0 ? (r >> 8) % np : (r >> 8) % 4;
            size_t len = strlen(pieces[k]);
            if (n + len > sizeof buf)
                break;
            memcpy(buf + n, pieces[k], len);
            n += len;
        }
        size_t got = nahr_utf8_check((const char *)buf, n), ref = ref_utf8_check(buf, n);
        if (got != ref)
            fail_msg("case %d (%zu bytes): nahr_utf8_check %zu, reference %zu", it, n, got, ref);
    }
}

/* The sixteen-byte path: one bad byte or sequence (NUL included) at every
 * offset of Arabic, ASCII or mixed text 40 to 72 bytes long, and a lead
 * byte on each block boundary; the reference decides. */
static void test_utf8_check_blocks(void **state)
{
    (void)state;
    static const char *const bases[] = {"\xD8\xA7", "a", "\xD9\x84 ", "\xE2\x80\x8F\xD8\xA8"};
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {{"\0", 1}, {"\x80", 1}, {"\xC0\x80", 2}, {"\xC1\xBF", 2}, {"\xD8", 1}, {"\xD8 ", 2},
               {"\xE0\x80\x80", 3}, {"\xED\xA0\x80", 3}, {"\xFF", 1}, {"\xF5\x80\x80\x80", 4},
               {"\xE2\x80\x8F", 3}, {"\xF0\x9F\x98\x80", 4}, {"\xC2\x80", 2}, {"\x7F", 1}};
    unsigned char buf[96];
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++)
        for (size_t len = 40; len <= 72; len++) {
            size_t bl = strlen(bases[b]), n = 0;
            while (n + bl <= len) {
                memcpy(buf + n, bases[b], bl);
                n += bl;
            }
            for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
                for (size_t at = 0; at + bad[k].n <= n; at++) {
                    unsigned char t[96];
                    memcpy(t, buf, n);
                    memcpy(t + at, bad[k].s, bad[k].n);
                    size_t got = nahr_utf8_check((const char *)t, n), ref = ref_utf8_check(t, n);
                    if (got != ref)
                        fail_msg("base %zu, %zu bytes, piece %zu at %zu: nahr_utf8_check %zu, reference %zu", b, n,
                                 k, at, got, ref);
                }
        }
}

/* nahr_utf8_next on every one- and two-byte input: the code point and the
 * step of the plain rules (a lead whose sequence is cut or broken is one
 * invalid byte). */
static void test_utf8_next_short(void **state)
{
    (void)state;
    for (unsigned b0 = 0; b0 < 256; b0++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (size_t n = 1; n <= 2; n++) {
                const char in[2] = {(char)b0, (char)b1};
                size_t i = 0;
                int32_t cp = nahr_utf8_next(in, n, &i);
                int32_t want = -1;
                size_t step = 1;
                if (b0 < 0x80) {
                    want = (int32_t)b0;
                } else if (b0 >= 0xC2 && b0 <= 0xDF && n == 2 && (b1 & 0xC0) == 0x80) {
                    want = (int32_t)(((b0 & 0x1F) << 6) | (b1 & 0x3F));
                    step = 2;
                }
                if (cp != want || i != step)
                    fail_msg("%02x %02x (n %zu): %d step %zu, want %d step %zu", b0, b1, n, cp, i, want, step);
            }
}

/* The check that copies as it goes (nahr_doc_set_text): the same answer
 * as nahr_utf8_check on random mixes of Arabic runs, ASCII, three- and
 * four-byte characters and broken sequences, and, for valid text, a copy
 * of every byte (none written past n). */
static void test_utf8_check_copy(void **state)
{
    (void)state;
    static const char *const pieces[] = {"\xD8\xA7\xD9\x84\xD9\x85\xD8\xAF\xD9\x8A\xD9\x86\xD8\xA9 ", "a", "\n",
                                         "\xE2\x80\x9C", "\xF0\x9F\x98\x80", "\xD8", "\x80", "\xC0\xAF", "\xED\xA0\x80"};
    uint64_t seed = 77;
    for (int it = 0; it < 30000; it++) {
        char src[300], dst[300 + 16];
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = (size_t)(seed >> 33) % 280;
        int broken = (seed >> 20) % 4 == 0;
        while (n < want) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            size_t k = r % 16 == 0 ? 1 + (r >> 4) % (broken ? 8 : 4) : 0;
            size_t len = strlen(pieces[k]);
            if (n + len > sizeof src)
                break;
            memcpy(src + n, pieces[k], len);
            n += len;
        }
        memset(dst, 0x5A, sizeof dst);
        size_t got = nahr__utf8_check_copy(src, n, dst), ref = nahr_utf8_check(src, n);
        if (got != ref)
            fail_msg("case %d (%zu bytes): copying check %zu, check %zu", it, n, got, ref);
        if (got == n)
            assert_memory_equal(dst, src, n);
        for (size_t k = n; k < sizeof dst; k++)
            assert_int_equal((unsigned char)dst[k], 0x5A);
    }
}

/* nahr_hash_bytes() reads the tail with overlapping loads: the values are
 * those of the plain definition (a zero-extended copy of the last bytes) for
 * every length and alignment. */
static uint64_t ref_hash_bytes(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = seed * 0x9E3779B97F4A7C15ull, v;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (n) {
        v = 0;
        memcpy(&v, s, n);
        h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    }
    return h ^ (h >> 29);
}

static void test_hash_bytes(void **state)
{
    (void)state;
    char buf[64];
    uint64_t seed = 3;
    for (int it = 0; it < 2000; it++)
        for (size_t n = 0; n <= 40; n++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t off = (size_t)(seed >> 61);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                buf[off + i] = (char)(seed >> 56);
            }
            if (nahr_hash_bytes(buf + off, n, n) != ref_hash_bytes(buf + off, n, n))
                fail_msg("length %zu, offset %zu: hash differs from the reference", n, off);
        }
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

/* An escape at every position of a longer string (the writer copies plain
 * bytes sixteen or eight at a time); the bytes around the limits (space,
 * DEL, 0x80) stay as they are. */
static void test_json_string_runs(void **state)
{
    (void)state;
    static const char *const esc[][2] = {{"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"},
                                         {"\x1f", "\\u001f"}, {"\x01", "\\u0001"}, {" ", " "},
                                         {"\x7f", "\x7f"}, {"!", "!"}, {"]", "]"}};
    for (size_t e = 0; e < sizeof esc / sizeof *esc; e++)
        for (size_t at = 0; at < 40; at++) {
            char in[48], want[96];
            memset(in, 'x', 40);
            memcpy(in + 40, "\xD9\x85", 2); /* م, bytes >= 0x80 stay as they are */
            in[at] = esc[e][0][0];
            size_t w = 0;
            want[w++] = '"';
            for (size_t i = 0; i < 42; i++) {
                if (i == at) {
                    memcpy(want + w, esc[e][1], strlen(esc[e][1]));
                    w += strlen(esc[e][1]);
                } else {
                    want[w++] = in[i];
                }
            }
            want[w++] = '"';
            want[w] = '\0';
            nahr_buf b = {0};
            assert_int_equal(nahr_buf_json_string(&b, in, 42), NAHR_OK);
            assert_string_equal(b.data, want);
            nahr_buf_free(&b);
        }
}

/* The escaping written plainly, one byte at a time. */
static size_t ref_json_string(const unsigned char *s, size_t n, char *out)
{
    size_t w = 0;
    out[w++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[w++] = '\\';
            out[w++] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            out[w++] = '\\';
            out[w++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
        } else if (c < 0x20) {
            w += (size_t)sprintf(out + w, "\\u%04x", c);
        } else {
            out[w++] = (char)c;
        }
    }
    out[w++] = '"';
    out[w] = '\0';
    return w;
}

/* Random strings of every byte value, lengths 0..80, few or many escapes,
 * appended to a buffer that already holds text (of every length, so the
 * output starts at every alignment and the buffer grows at every point):
 * the writer's output is the plain escaping's. */
static void test_json_string_random(void **state)
{
    (void)state;
    uint64_t seed = 3;
    nahr_buf b = {0};
    for (int it = 0; it < 20000; it++) {
        unsigned char in[80];
        char want[80 * 6 + 3];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = (size_t)(seed >> 33) % 81, dense = (size_t)(seed >> 50) % 4;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            if (r % 16 < dense * 3) /* an escaped byte */
                in[i] = (unsigned char)("\"\\\n\x01\x1f\t\r\b\f"[(r >> 4) % 9]);
            else
                in[i] = (unsigned char)(r >> 8);
        }
        size_t w = ref_json_string(in, n, want);
        if (it % 50 == 0)
            nahr_buf_free(&b);
        size_t before = b.len;
        assert_int_equal(nahr_buf_json_string(&b, (const char *)in, n), NAHR_OK);
        assert_int_equal(b.len, before + w);
        assert_memory_equal(b.data + before, want, w + 1); /* with the terminator */
    }
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

/* The normaliser written plainly: one code point at a time through
 * nahr_utf8_next() and documented_norm(); invalid bytes are copied. */
static size_t ref_normalize(const char *in, size_t n, char *out, size_t *map)
{
    size_t i = 0, k = 0;
    while (i < n) {
        size_t at = i;
        int32_t cp = nahr_utf8_next(in, n, &i);
        if (cp < 0) {
            map[k] = at;
            out[k++] = in[at];
            continue;
        }
        int32_t nc = documented_norm(cp);
        if (!nc)
            continue;
        size_t m = nahr_utf8_put((uint32_t)nc, out + k);
        for (size_t j = 0; j < m; j++)
            map[k + j] = at;
        k += m;
    }
    map[k] = n;
    out[k] = '\0';
    return k;
}

/* Random words of the Arabic block (every code point of it), marks, ASCII,
 * other two-, three- and four-byte characters and broken sequences: output
 * and map are the plain definition's, with and without the map. */
static void test_normalize_random(void **state)
{
    (void)state;
    static const char *const other[] = {"A", "z", " ", "\xC3\x89", "\xE2\x80\x8C", "\xF0\x9F\x98\x80", "\xD8",
                                        "\x80", "\xD9\xC0", "\xDA", "\xFF", "\xDB\xB0"};
    uint64_t seed = 9;
    for (int it = 0; it < 50000; it++) {
        char in[200], out[201], want[201];
        size_t map[201], want_map[201], n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t pieces = (size_t)(seed >> 59) + 1;
        for (size_t p = 0; p < pieces; p++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(seed >> 33);
            if (r % 8) {
                n += nahr_utf8_put(0x0600 + (r >> 3) % 0x100, in + n);
            } else {
                const char *o = other[(r >> 3) % (sizeof other / sizeof *other)];
                memcpy(in + n, o, strlen(o));
                n += strlen(o);
            }
        }
        size_t w = ref_normalize(in, n, want, want_map);
        memset(map, 0xAB, sizeof map);
        assert_int_equal(nahr_ar_normalize(in, n, out, map), w);
        assert_memory_equal(out, want, w + 1);
        assert_memory_equal(map, want_map, (w + 1) * sizeof *map);
        assert_int_equal(nahr_ar_normalize(in, n, out, NULL), w);
        assert_memory_equal(out, want, w + 1);
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
        cmocka_unit_test(test_utf8_check_words), cmocka_unit_test(test_utf8_check_copy), cmocka_unit_test(test_utf8_next_short),
        cmocka_unit_test(test_utf8_check_blocks),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_hash_bytes),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_json_string_runs), cmocka_unit_test(test_json_string_random),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_every_code_point),
        cmocka_unit_test(test_normalize_invalid), cmocka_unit_test(test_normalize_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
