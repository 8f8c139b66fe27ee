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
static int32_t norm_cp(int32_t cp)
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
    if (nahr_ar_is_mark(cp))
        return 0;
    if (cp >= 0x0660 && cp <= 0x0669)
        return '0' + (cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9)
        return '0' + (cp - 0x06F0);
    return cp;
}

size_t nahr_ar_normalize(const char *in, size_t n, char *out, size_t *map)
{
    size_t i = 0, o = 0;
    while (i < n) {
        size_t at = i;
        int32_t cp = nahr_utf8_next(in, n, &i);
        if (cp < 0) {
            if (map)
                map[o] = at;
            out[o++] = in[at];
            continue;
        }
        int32_t nc = norm_cp(cp);
        if (!nc)
            continue;
        char tmp[4];
        size_t k = nahr_utf8_put((uint32_t)nc, tmp);
        /* a mapping never lengthens: every replacement is as short as its source */
        for (size_t j = 0; j < k; j++) {
            if (map)
                map[o] = at;
            out[o++] = tmp[j];
        }
    }
    if (map)
        map[o] = n;
    out[o] = '\0';
    return o;
}
