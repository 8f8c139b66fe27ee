/* text.c - UTF-8 helpers and the Arabic matching normaliser. */
#include "internal.h"

#include <string.h>

int32_t nahr_utf8_next(const char *str, size_t n, size_t *i)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t p = *i;
    unsigned char c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return c;
    }
    int32_t cp;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
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

size_t nahr_utf8_check(const char *str, size_t n)
{
    /* hot path of every input record: ASCII and 2-byte (Arabic) sequences
     * are decided inline; the rest goes through nahr_utf8_next */
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
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
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0)
                return i;
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
                i += 2;
                continue;
            }
            return i;
        }
        if (c >= 0xE0 && c <= 0xEF && i + 2 < n) {
            unsigned char c1 = s[i + 1], c2 = s[i + 2];
            if ((c1 & 0xC0) != 0x80 || (c2 & 0xC0) != 0x80 || (c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))
                return i;
            i += 3;
            continue;
        }
        size_t at = i;
        if (nahr_utf8_next(str, n, &i) < 0)
            return at;
    }
    return n;
}

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

/* norm_cp() of U+0600..U+06FF (0 = dropped), indexed by cp - 0x600: the
 * Arabic block in one load. Generated from norm_cp(); test_text checks
 * every code point against the mapping documented in text.h. */
static const uint16_t ar_norm[256] = {
    0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x606, 0x607, 0x608, 0x609, 0x60A, 0x60B, 0x60C, 0x60D, 0x60E, 0x60F,
    0x610, 0x611, 0x612, 0x613, 0x614, 0x615, 0x616, 0x617, 0x618, 0x619, 0x61A, 0x61B, 0x61C, 0x61D, 0x61E, 0x61F,
    0x620, 0x621, 0x627, 0x627, 0x648, 0x627, 0x64A, 0x627, 0x628, 0x647, 0x62A, 0x62B, 0x62C, 0x62D, 0x62E, 0x62F,
    0x630, 0x631, 0x632, 0x633, 0x634, 0x635, 0x636, 0x637, 0x638, 0x639, 0x63A, 0x63B, 0x63C, 0x63D, 0x63E, 0x63F,
    0x000, 0x641, 0x642, 0x643, 0x644, 0x645, 0x646, 0x647, 0x648, 0x64A, 0x64A, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000, 0x000,
    0x030, 0x031, 0x032, 0x033, 0x034, 0x035, 0x036, 0x037, 0x038, 0x039, 0x66A, 0x66B, 0x66C, 0x66D, 0x66E, 0x66F,
    0x000, 0x627, 0x672, 0x673, 0x674, 0x675, 0x676, 0x677, 0x678, 0x679, 0x67A, 0x67B, 0x67C, 0x67D, 0x67E, 0x67F,
    0x680, 0x681, 0x682, 0x683, 0x684, 0x685, 0x686, 0x687, 0x688, 0x689, 0x68A, 0x68B, 0x68C, 0x68D, 0x68E, 0x68F,
    0x690, 0x691, 0x692, 0x693, 0x694, 0x695, 0x696, 0x697, 0x698, 0x699, 0x69A, 0x69B, 0x69C, 0x69D, 0x69E, 0x69F,
    0x6A0, 0x6A1, 0x6A2, 0x6A3, 0x6A4, 0x6A5, 0x6A6, 0x6A7, 0x6A8, 0x643, 0x6AA, 0x6AB, 0x6AC, 0x6AD, 0x6AE, 0x6AF,
    0x6B0, 0x6B1, 0x6B2, 0x6B3, 0x6B4, 0x6B5, 0x6B6, 0x6B7, 0x6B8, 0x6B9, 0x6BA, 0x6BB, 0x6BC, 0x6BD, 0x6BE, 0x6BF,
    0x6C0, 0x6C1, 0x6C2, 0x6C3, 0x6C4, 0x6C5, 0x6C6, 0x6C7, 0x6C8, 0x6C9, 0x6CA, 0x6CB, 0x64A, 0x6CD, 0x6CE, 0x6CF,
    0x6D0, 0x6D1, 0x6D2, 0x6D3, 0x6D4, 0x6D5, 0x6D6, 0x6D7, 0x6D8, 0x6D9, 0x6DA, 0x6DB, 0x6DC, 0x6DD, 0x6DE, 0x6DF,
    0x6E0, 0x6E1, 0x6E2, 0x6E3, 0x6E4, 0x6E5, 0x6E6, 0x6E7, 0x6E8, 0x6E9, 0x6EA, 0x6EB, 0x6EC, 0x6ED, 0x6EE, 0x6EF,
    0x030, 0x031, 0x032, 0x033, 0x034, 0x035, 0x036, 0x037, 0x038, 0x039, 0x6FA, 0x6FB, 0x6FC, 0x6FD, 0x6FE, 0x6FF,
};

/* Hot path of every lookup (entities, sentiment, clean): ASCII and two-byte
 * sequences (the whole Arabic block) are decoded and re-encoded inline; only
 * 3- and 4-byte sequences and invalid bytes go through nahr_utf8_next. A
 * mapping never lengthens: every replacement is as short as its source. */
size_t nahr_ar_normalize(const char *in, size_t n, char *out, size_t *map)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    size_t i = 0, k = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            if (c) { /* NUL maps to "drop", like every other 0 of norm_cp() */
                if (map)
                    map[k] = i;
                o[k++] = (unsigned char)(c - 'A' < 26u ? c + 32 : c);
            }
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            int32_t nc = c >= 0xD8 && c <= 0xDB ? ar_norm[((c & 3u) << 6) | (s[i + 1] & 0x3Fu)]
                                                : norm_cp((int32_t)(((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu)));
            if (nc) {
                if (nc < 0x80) {
                    if (map)
                        map[k] = i;
                    o[k++] = (unsigned char)nc;
                } else {
                    if (map)
                        map[k] = map[k + 1] = i;
                    o[k] = (unsigned char)(0xC0 | (nc >> 6));
                    o[k + 1] = (unsigned char)(0x80 | (nc & 0x3F));
                    k += 2;
                }
            }
            i += 2;
            continue;
        }
        size_t at = i;
        int32_t cp = nahr_utf8_next(in, n, &i);
        if (cp < 0) {
            if (map)
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
            if (map)
                map[k] = at;
            o[k++] = (unsigned char)tmp[j];
        }
    }
    if (map)
        map[k] = n;
    o[k] = '\0';
    return k;
}
