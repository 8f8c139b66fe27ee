/* text.c - UTF-8 helpers and the Arabic matching normaliser. */
#include "internal.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

int32_t nahr_utf8_next(const char *str, size_t n, size_t *i)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t p = *i;
    unsigned char c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) { /* two bytes (the Arabic block): no overlong or surrogate to refuse */
        if (p + 1 < n && (s[p + 1] & 0xC0) == 0x80) {
            *i = p + 2;
            return (int32_t)(((c & 0x1Fu) << 6) | (s[p + 1] & 0x3Fu));
        }
        *i = p + 1;
        return -1;
    }
    int32_t cp;
    size_t len;
    if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        *i = p + 1;
        return -1;
    }
    if (p + len > n) {
        *i = p + 1;
        return -1;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[p + k] & 0xC0) != 0x80) {
            *i = p + 1;
            return -1;
        }
        cp = (cp << 6) | (s[p + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        *i = p + 1;
        return -1;
    }
    *i = p + len;
    return cp;
}

size_t nahr_utf8_put(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

/* nahr_utf8_check(), and with dst (room for n bytes) a copy of str[0..n)
 * as well when it is valid: the sixteen-byte blocks are stored as they are
 * checked, the bytes the other paths took are copied in runs. Inlined twice
 * so the check alone stores nothing. */
static inline __attribute__((always_inline)) size_t utf8_check_run(const char *str, size_t n, char *dst)
{
    /* hot path of every input record: ASCII and 2-byte (Arabic) sequences
     * are decided inline; the rest goes through nahr_utf8_next */
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, copied = 0; /* dst[0..copied) holds str's bytes */
    while (i < n) {
#if defined(__SSE2__)
        if (dst && copied < i) {
            memcpy(dst + copied, str + copied, i - copied);
            copied = i;
        }
        /* sixteen bytes at a time while they hold only ASCII (no NUL) and
         * complete two-byte sequences with a lead in C2..DF. As signed
         * bytes: ASCII without NUL is 1..127, a continuation byte -128..-65,
         * a lead C2..DF -62..-33; bit k of each mask is byte k. A lead in
         * the last byte carries into bit 0 of the next block's expected
         * continuation bytes (and is taken back when the loop stops). */
        unsigned carry = 0;
        /* two blocks a step, their masks joined into 32 bits */
        while (i + 32 <= n) {
            const __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            const __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
            const __m128i lo = _mm_set1_epi8(-63), hi = _mm_set1_epi8(-32), c = _mm_set1_epi8(-64);
            uint32_t lead = (uint32_t)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v0, lo), _mm_cmplt_epi8(v0, hi))) |
                            (uint32_t)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v1, lo), _mm_cmplt_epi8(v1, hi)))
                                << 16;
            uint32_t cont = (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(v0, c)) |
                            (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(v1, c)) << 16;
            uint32_t ascii = (uint32_t)_mm_movemask_epi8(_mm_cmpgt_epi8(v0, _mm_setzero_si128())) |
                             (uint32_t)_mm_movemask_epi8(_mm_cmpgt_epi8(v1, _mm_setzero_si128())) << 16;
            if ((lead | cont | ascii) != 0xFFFFFFFFu || cont != ((lead << 1) | carry))
                break; /* the single blocks below find where */
            if (dst) {
                _mm_storeu_si128((__m128i *)(void *)(dst + i), v0);
                _mm_storeu_si128((__m128i *)(void *)(dst + i + 16), v1);
                copied = i + 32;
            }
            carry = lead >> 31;
            i += 32;
        }
        while (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            unsigned lead = (unsigned)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(-63)), _mm_cmplt_epi8(v, _mm_set1_epi8(-32))));
            unsigned cont = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(-64)));
            unsigned ascii = (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(v, _mm_setzero_si128()));
            if ((lead | cont | ascii) != 0xFFFFu || cont != (((lead << 1) | carry) & 0xFFFFu))
                break; /* NUL, C0, C1, E0..FF, a stray or missing continuation byte */
            if (dst) {
                _mm_storeu_si128((__m128i *)(void *)(dst + i), v);
                copied = i + 16;
            }
            carry = lead >> 15;
            i += 16;
        }
        i -= carry; /* the last lead's sequence is checked below */
#endif
        /* eight bytes at a time while they hold only ASCII (no NUL) and
         * complete two-byte sequences with a lead in C2..DF (the masks
         * assume byte k + 1 is the next higher byte of the word) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (i + 8 <= n) {
            const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
            uint64_t v;
            memcpy(&v, s + i, 8);
            uint64_t lead = v & (v << 1) & highs;  /* 11xxxxxx */
            uint64_t cont = v & ~(v << 1) & highs; /* 10xxxxxx */
            uint64_t c01 = (v & (ones * 0xFE)) ^ (ones * 0xC0); /* zero byte where C0 or C1 */
            size_t step = 8;
            if (lead >> 63) { /* a lead in the last byte: its sequence is checked next time */
                lead &= ~(1ull << 63);
                step = 7;
            }
            if (((v - ones) & ~v & highs) || (lead & (v << 2)) || cont != lead << 8 ||
                ((c01 - ones) & ~c01 & highs))
                break; /* NUL, a 3- or 4-byte lead, a stray continuation byte, C0/C1 */
            i += step;
        }
#endif
        if (i >= n)
            break;
        /* one character at a time: the one that stopped the steps above
         * (then back to them), or the last bytes, fewer than a step takes
         * (then to the end here: short strings, most keys and values of
         * the document model, do not go round the steps' tests per byte) */
        do {
            unsigned char c = s[i];
            if (c < 0x80) {
                if (c == 0)
                    return i;
                i++;
            } else if (c >= 0xC2 && c <= 0xDF) {
                if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                    return i;
                i += 2;
            } else if (c >= 0xE0 && c <= 0xEF && i + 2 < n) {
                unsigned char c1 = s[i + 1], c2 = s[i + 2];
                if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c == 0xE0 && c1 < 0xA0) ||
                    (c == 0xED && c1 >= 0xA0))
                    return i;
                i += 3;
            } else {
                size_t at = i;
                if (nahr_utf8_next(str, n, &i) < 0)
                    return at;
            }
        } while (i < n && n - i < 8);
    }
    if (dst && copied < n)
        memcpy(dst + copied, str + copied, n - copied);
    return n;
}

size_t nahr_utf8_check(const char *str, size_t n) { return utf8_check_run(str, n, NULL); }

size_t nahr__utf8_check_copy(const char *str, size_t n, char *dst) { return utf8_check_run(str, n, dst); }

size_t nahr_utf8_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

int nahr_utf8_repair(const char *s, size_t n, nahr_buf *out, size_t *bad)
{
    size_t nbad = 0, i = 0, good = 0;
    if (nahr_buf_reserve(out, n) < 0)
        return NAHR_ENOMEM;
    while (i < n) {
        size_t at = i;
        int32_t cp = s[i] == '\0' ? -1 : nahr_utf8_next(s, n, &i);
        if (s[at] == '\0')
            i = at + 1;
        if (cp >= 0)
            continue;
        if (nahr_buf_append(out, s + good, at - good) < 0 || nahr_buf_append(out, "\xEF\xBF\xBD", 3) < 0)
            return NAHR_ENOMEM;
        good = i;
        nbad++;
    }
    if (nahr_buf_append(out, s + good, n - good) < 0)
        return NAHR_ENOMEM;
    if (bad)
        *bad = nbad;
    return NAHR_OK;
}

int nahr_ar_is_letter(int32_t cp)
{
    return (cp >= 0x0621 && cp <= 0x064A) || (cp >= 0x0671 && cp <= 0x06D3) || (cp >= 0x06FA && cp <= 0x06FF);
}

int nahr_ar_is_mark(int32_t cp) { return (cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 || cp == 0x0640; }

/* The normalised form of cp, or 0 to drop it. */
static inline int32_t norm_cp(int32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    switch (cp) {
    case 0x0622: case 0x0623: case 0x0625: case 0x0671: return 0x0627; /* alef variants */
    case 0x0649: return 0x064A; /* alef maqsura -> ya */
    case 0x0629: return 0x0647; /* teh marbuta -> heh */
    case 0x0624: return 0x0648; /* waw hamza -> waw */
    case 0x0626: return 0x064A; /* ya hamza -> ya */
    case 0x06CC: return 0x064A; /* Farsi yeh */
    case 0x06A9: return 0x0643; /* keheh -> kaf */
    default: break;
    }
    if ((cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 || cp == 0x0640)
        return 0;
    if (cp >= 0x0660 && cp <= 0x0669)
        return '0' + (cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9)
        return '0' + (cp - 0x06F0);
    return cp;
}

/* norm_cp() of U+0600..U+06FF as UTF-8, indexed by cp - 0x600: the output
 * bytes and their count (0 = dropped), so the hot loop copies two bytes
 * instead of decoding, mapping and re-encoding. Generated from norm_cp();
 * test_text checks every code point against the mapping text.h documents. */
static const struct {
    unsigned char b[2];
    unsigned char len;
} ar_enc[256] = {
    {{0xD8, 0x80}, 2}, {{0xD8, 0x81}, 2}, {{0xD8, 0x82}, 2}, {{0xD8, 0x83}, 2}, {{0xD8, 0x84}, 2}, {{0xD8, 0x85}, 2}, {{0xD8, 0x86}, 2}, {{0xD8, 0x87}, 2},
    {{0xD8, 0x88}, 2}, {{0xD8, 0x89}, 2}, {{0xD8, 0x8A}, 2}, {{0xD8, 0x8B}, 2}, {{0xD8, 0x8C}, 2}, {{0xD8, 0x8D}, 2}, {{0xD8, 0x8E}, 2}, {{0xD8, 0x8F}, 2},
    {{0xD8, 0x90}, 2}, {{0xD8, 0x91}, 2}, {{0xD8, 0x92}, 2}, {{0xD8, 0x93}, 2}, {{0xD8, 0x94}, 2}, {{0xD8, 0x95}, 2}, {{0xD8, 0x96}, 2}, {{0xD8, 0x97}, 2},
    {{0xD8, 0x98}, 2}, {{0xD8, 0x99}, 2}, {{0xD8, 0x9A}, 2}, {{0xD8, 0x9B}, 2}, {{0xD8, 0x9C}, 2}, {{0xD8, 0x9D}, 2}, {{0xD8, 0x9E}, 2}, {{0xD8, 0x9F}, 2},
    {{0xD8, 0xA0}, 2}, {{0xD8, 0xA1}, 2}, {{0xD8, 0xA7}, 2}, {{0xD8, 0xA7}, 2}, {{0xD9, 0x88}, 2}, {{0xD8, 0xA7}, 2}, {{0xD9, 0x8A}, 2}, {{0xD8, 0xA7}, 2},
    {{0xD8, 0xA8}, 2}, {{0xD9, 0x87}, 2}, {{0xD8, 0xAA}, 2}, {{0xD8, 0xAB}, 2}, {{0xD8, 0xAC}, 2}, {{0xD8, 0xAD}, 2}, {{0xD8, 0xAE}, 2}, {{0xD8, 0xAF}, 2},
    {{0xD8, 0xB0}, 2}, {{0xD8, 0xB1}, 2}, {{0xD8, 0xB2}, 2}, {{0xD8, 0xB3}, 2}, {{0xD8, 0xB4}, 2}, {{0xD8, 0xB5}, 2}, {{0xD8, 0xB6}, 2}, {{0xD8, 0xB7}, 2},
    {{0xD8, 0xB8}, 2}, {{0xD8, 0xB9}, 2}, {{0xD8, 0xBA}, 2}, {{0xD8, 0xBB}, 2}, {{0xD8, 0xBC}, 2}, {{0xD8, 0xBD}, 2}, {{0xD8, 0xBE}, 2}, {{0xD8, 0xBF}, 2},
    {{0x00, 0x00}, 0}, {{0xD9, 0x81}, 2}, {{0xD9, 0x82}, 2}, {{0xD9, 0x83}, 2}, {{0xD9, 0x84}, 2}, {{0xD9, 0x85}, 2}, {{0xD9, 0x86}, 2}, {{0xD9, 0x87}, 2},
    {{0xD9, 0x88}, 2}, {{0xD9, 0x8A}, 2}, {{0xD9, 0x8A}, 2}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0},
    {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0},
    {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0},
    {{0x30, 0x00}, 1}, {{0x31, 0x00}, 1}, {{0x32, 0x00}, 1}, {{0x33, 0x00}, 1}, {{0x34, 0x00}, 1}, {{0x35, 0x00}, 1}, {{0x36, 0x00}, 1}, {{0x37, 0x00}, 1},
    {{0x38, 0x00}, 1}, {{0x39, 0x00}, 1}, {{0xD9, 0xAA}, 2}, {{0xD9, 0xAB}, 2}, {{0xD9, 0xAC}, 2}, {{0xD9, 0xAD}, 2}, {{0xD9, 0xAE}, 2}, {{0xD9, 0xAF}, 2},
    {{0x00, 0x00}, 0}, {{0xD8, 0xA7}, 2}, {{0xD9, 0xB2}, 2}, {{0xD9, 0xB3}, 2}, {{0xD9, 0xB4}, 2}, {{0xD9, 0xB5}, 2}, {{0xD9, 0xB6}, 2}, {{0xD9, 0xB7}, 2},
    {{0xD9, 0xB8}, 2}, {{0xD9, 0xB9}, 2}, {{0xD9, 0xBA}, 2}, {{0xD9, 0xBB}, 2}, {{0xD9, 0xBC}, 2}, {{0xD9, 0xBD}, 2}, {{0xD9, 0xBE}, 2}, {{0xD9, 0xBF}, 2},
    {{0xDA, 0x80}, 2}, {{0xDA, 0x81}, 2}, {{0xDA, 0x82}, 2}, {{0xDA, 0x83}, 2}, {{0xDA, 0x84}, 2}, {{0xDA, 0x85}, 2}, {{0xDA, 0x86}, 2}, {{0xDA, 0x87}, 2},
    {{0xDA, 0x88}, 2}, {{0xDA, 0x89}, 2}, {{0xDA, 0x8A}, 2}, {{0xDA, 0x8B}, 2}, {{0xDA, 0x8C}, 2}, {{0xDA, 0x8D}, 2}, {{0xDA, 0x8E}, 2}, {{0xDA, 0x8F}, 2},
    {{0xDA, 0x90}, 2}, {{0xDA, 0x91}, 2}, {{0xDA, 0x92}, 2}, {{0xDA, 0x93}, 2}, {{0xDA, 0x94}, 2}, {{0xDA, 0x95}, 2}, {{0xDA, 0x96}, 2}, {{0xDA, 0x97}, 2},
    {{0xDA, 0x98}, 2}, {{0xDA, 0x99}, 2}, {{0xDA, 0x9A}, 2}, {{0xDA, 0x9B}, 2}, {{0xDA, 0x9C}, 2}, {{0xDA, 0x9D}, 2}, {{0xDA, 0x9E}, 2}, {{0xDA, 0x9F}, 2},
    {{0xDA, 0xA0}, 2}, {{0xDA, 0xA1}, 2}, {{0xDA, 0xA2}, 2}, {{0xDA, 0xA3}, 2}, {{0xDA, 0xA4}, 2}, {{0xDA, 0xA5}, 2}, {{0xDA, 0xA6}, 2}, {{0xDA, 0xA7}, 2},
    {{0xDA, 0xA8}, 2}, {{0xD9, 0x83}, 2}, {{0xDA, 0xAA}, 2}, {{0xDA, 0xAB}, 2}, {{0xDA, 0xAC}, 2}, {{0xDA, 0xAD}, 2}, {{0xDA, 0xAE}, 2}, {{0xDA, 0xAF}, 2},
    {{0xDA, 0xB0}, 2}, {{0xDA, 0xB1}, 2}, {{0xDA, 0xB2}, 2}, {{0xDA, 0xB3}, 2}, {{0xDA, 0xB4}, 2}, {{0xDA, 0xB5}, 2}, {{0xDA, 0xB6}, 2}, {{0xDA, 0xB7}, 2},
    {{0xDA, 0xB8}, 2}, {{0xDA, 0xB9}, 2}, {{0xDA, 0xBA}, 2}, {{0xDA, 0xBB}, 2}, {{0xDA, 0xBC}, 2}, {{0xDA, 0xBD}, 2}, {{0xDA, 0xBE}, 2}, {{0xDA, 0xBF}, 2},
    {{0xDB, 0x80}, 2}, {{0xDB, 0x81}, 2}, {{0xDB, 0x82}, 2}, {{0xDB, 0x83}, 2}, {{0xDB, 0x84}, 2}, {{0xDB, 0x85}, 2}, {{0xDB, 0x86}, 2}, {{0xDB, 0x87}, 2},
    {{0xDB, 0x88}, 2}, {{0xDB, 0x89}, 2}, {{0xDB, 0x8A}, 2}, {{0xDB, 0x8B}, 2}, {{0xD9, 0x8A}, 2}, {{0xDB, 0x8D}, 2}, {{0xDB, 0x8E}, 2}, {{0xDB, 0x8F}, 2},
    {{0xDB, 0x90}, 2}, {{0xDB, 0x91}, 2}, {{0xDB, 0x92}, 2}, {{0xDB, 0x93}, 2}, {{0xDB, 0x94}, 2}, {{0xDB, 0x95}, 2}, {{0xDB, 0x96}, 2}, {{0xDB, 0x97}, 2},
    {{0xDB, 0x98}, 2}, {{0xDB, 0x99}, 2}, {{0xDB, 0x9A}, 2}, {{0xDB, 0x9B}, 2}, {{0xDB, 0x9C}, 2}, {{0xDB, 0x9D}, 2}, {{0xDB, 0x9E}, 2}, {{0xDB, 0x9F}, 2},
    {{0xDB, 0xA0}, 2}, {{0xDB, 0xA1}, 2}, {{0xDB, 0xA2}, 2}, {{0xDB, 0xA3}, 2}, {{0xDB, 0xA4}, 2}, {{0xDB, 0xA5}, 2}, {{0xDB, 0xA6}, 2}, {{0xDB, 0xA7}, 2},
    {{0xDB, 0xA8}, 2}, {{0xDB, 0xA9}, 2}, {{0xDB, 0xAA}, 2}, {{0xDB, 0xAB}, 2}, {{0xDB, 0xAC}, 2}, {{0xDB, 0xAD}, 2}, {{0xDB, 0xAE}, 2}, {{0xDB, 0xAF}, 2},
    {{0x30, 0x00}, 1}, {{0x31, 0x00}, 1}, {{0x32, 0x00}, 1}, {{0x33, 0x00}, 1}, {{0x34, 0x00}, 1}, {{0x35, 0x00}, 1}, {{0x36, 0x00}, 1}, {{0x37, 0x00}, 1},
    {{0x38, 0x00}, 1}, {{0x39, 0x00}, 1}, {{0xDB, 0xBA}, 2}, {{0xDB, 0xBB}, 2}, {{0xDB, 0xBC}, 2}, {{0xDB, 0xBD}, 2}, {{0xDB, 0xBE}, 2}, {{0xDB, 0xBF}, 2},
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* ar_enc as one 32-bit word per character (output bytes in the low 16 bits
 * in memory order, count in bits 16..23), indexed by the character's two
 * bytes as read in a little-endian word masked with 0x3F03: the lead's two
 * low bits and the continuation byte's six, so the hot loop finds a
 * character with one mask and one load instead of rebuilding the code
 * point's low byte. 64 KB, of which the 256 entries used sit in 64 cache
 * lines; filled from ar_enc when the library is loaded. */
#define AR_KEY_MASK 0x3F03u
static uint32_t ar_key[AR_KEY_MASK + 1];

__attribute__((constructor)) static void ar_key_init(void)
{
    for (unsigned cp = 0; cp < 256; cp++)
        ar_key[((cp & 0x3Fu) << 8) | (cp >> 6)] =
            (uint32_t)ar_enc[cp].b[0] | (uint32_t)ar_enc[cp].b[1] << 8 | (uint32_t)ar_enc[cp].len << 16;
}

/* Writes the two output bytes of entry e at o (the count may be less: the
 * caller advances by it) and returns the count. */
static inline size_t ar_key_put(unsigned char *o, uint32_t e)
{
    const uint16_t b = (uint16_t)e;
    memcpy(o, &b, 2);
    return e >> 16;
}
#endif

/* Hot path of every lookup (entities, sentiment, clean): ASCII and two-byte
 * sequences (the whole Arabic block) are decoded and re-encoded inline; only
 * 3- and 4-byte sequences and invalid bytes go through nahr_utf8_next. A
 * mapping never lengthens: every replacement is as short as its source.
 * Inlined twice (with and without map) so neither loop tests map per byte. */
static inline __attribute__((always_inline)) size_t normalize_run(const char *in, size_t n, char *out, size_t *map,
                                                                  const int with_map)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    size_t i = 0, k = 0;
    while (i < n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* two characters of U+0600..U+06FF a step (leads D8..DB, each
         * followed by a continuation byte): most of an Arabic word */
        while (i + 4 <= n) {
            uint32_t v;
            memcpy(&v, s + i, 4);
            if ((v & 0xC0FCC0FCu) != 0x80D880D8u)
                break;
            const uint32_t ea = ar_key[v & AR_KEY_MASK], eb = ar_key[(v >> 16) & AR_KEY_MASK];
            if (with_map)
                map[k] = map[k + 1] = i;
            k += ar_key_put(o + k, ea);
            if (with_map)
                map[k] = map[k + 1] = i + 2;
            k += ar_key_put(o + k, eb);
            i += 4;
        }
        if (i >= n)
            break;
#endif
        unsigned c = s[i];
        if ((c & 0xFCu) == 0xD8u && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            /* U+0600..U+06FF: two bytes are written whatever the length (the
             * output is never longer than the input, so they fit) */
            const unsigned idx = ((c & 3u) << 6) | (s[i + 1] & 0x3Fu);
            if (with_map)
                map[k] = map[k + 1] = i;
            memcpy(o + k, ar_enc[idx].b, 2);
            k += ar_enc[idx].len;
            i += 2;
            continue;
        }
        if (c < 0x80) {
            if (c) { /* NUL maps to "drop", like every other 0 of norm_cp() */
                if (with_map)
                    map[k] = i;
                o[k++] = (unsigned char)(c - 'A' < 26u ? c + 32 : c);
            }
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            int32_t nc = norm_cp((int32_t)(((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu)));
            if (nc) {
                if (nc < 0x80) {
                    if (with_map)
                        map[k] = i;
                    o[k++] = (unsigned char)nc;
                } else {
                    if (with_map)
                        map[k] = map[k + 1] = i;
                    o[k] = (unsigned char)(0xC0 | (nc >> 6));
                    o[k + 1] = (unsigned char)(0x80 | (nc & 0x3F));
                    k += 2;
                }
            }
            i += 2;
            continue;
        }
        size_t at = i, next = i;
        int32_t cp = nahr_utf8_next(in, n, &next);
        i = next; /* i itself stays out of memory */
        if (cp < 0) {
            if (with_map)
                map[k] = at;
            o[k++] = s[at];
            continue;
        }
        int32_t nc = norm_cp(cp);
        if (!nc)
            continue;
        char tmp[4];
        size_t m = nahr_utf8_put((uint32_t)nc, tmp);
        for (size_t j = 0; j < m; j++) {
            if (with_map)
                map[k] = at;
            o[k++] = (unsigned char)tmp[j];
        }
    }
    if (with_map)
        map[k] = n;
    o[k] = '\0';
    return k;
}

size_t nahr_ar_normalize(const char *in, size_t n, char *out, size_t *map)
{
    return map ? normalize_run(in, n, out, map, 1) : normalize_run(in, n, out, NULL, 0);
}
