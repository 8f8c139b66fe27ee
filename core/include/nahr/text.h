/* nahr/text.h - UTF-8 helpers and the shared Arabic normaliser.
 *
 * All functions are pure and thread-safe. Offsets are bytes.
 */
#ifndef NAHR_TEXT_H
#define NAHR_TEXT_H

#include "common.h"

#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* memcmp(a, b, n) == 0 for the short keys of per-worker token caches, with
 * loads that stay inside both: eight bytes at a time and one word ending at
 * the last byte (overlapping), two overlapping fours below eight bytes (a
 * call to memcmp costs more than the compare on these hot paths). */
static inline int nahr_bytes_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x, y, u, v;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&u, a + n - 4, 4);
        memcpy(&v, b + n - 4, 4);
        return x == y && u == v;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* A fast 64-bit hash of the bytes s[0..n) for per-worker caches keyed by a
 * token's bytes (not for anything stored or compared across builds): eight
 * bytes per multiply; seed mixes in what else tells entries apart (the
 * length, a token kind). Inline: the callers are per-token hot paths. */
static inline uint64_t nahr_hash_bytes(const char *s, size_t n, uint64_t seed)
{
    uint64_t h = seed * 0x9E3779B97F4A7C15ull, v;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* the 1..7 last bytes, zero-extended, from two overlapping loads
         * (a memcpy of a variable length compiled to a byte loop) */
        if (n >= 4) {
            uint32_t lo, hi;
            memcpy(&lo, s, 4);
            memcpy(&hi, s + n - 4, 4);
            v = (uint64_t)lo | (((uint64_t)hi >> (8 * (8 - n))) << 32);
        } else {
            const unsigned char *u = (const unsigned char *)s;
            v = (uint64_t)u[0] | ((uint64_t)u[n >> 1] << (8 * (n >> 1))) | ((uint64_t)u[n - 1] << (8 * (n - 1)));
        }
#else
        v = 0;
        memcpy(&v, s, n);
#endif
        h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    }
    return h ^ (h >> 29);
}

/* Decodes one code point at s[*i] (n = total length), advances *i.
 * Returns the code point, or -1 for an invalid/truncated sequence (then *i
 * advances by one byte). Rejects overlongs, surrogates and > U+10FFFF. */
NAHR_EXPORT int32_t nahr_utf8_next(const char *s, size_t n, size_t *i);
/* Writes cp as UTF-8 into out (>= 4 bytes). Returns bytes written (0 if invalid). */
NAHR_EXPORT size_t nahr_utf8_put(uint32_t cp, char *out);
/* Byte offset of the first invalid sequence, or n if s is valid UTF-8.
 * NUL bytes count as invalid (text never contains NUL). */
NAHR_EXPORT size_t nahr_utf8_check(const char *s, size_t n);
/* Number of code points in s[0..n) (s must be valid UTF-8). */
NAHR_EXPORT size_t nahr_utf8_count(const char *s, size_t n);
/* Appends s to out, replacing every invalid sequence and NUL by U+FFFD.
 * *bad (if not NULL) gets the number of replacements. */
NAHR_EXPORT int nahr_utf8_repair(const char *s, size_t n, nahr_buf *out, size_t *bad);

/* Arabic matching normalisation, for lookups (gazetteers, lexicons), never
 * for the output text:
 *   أ إ آ ٱ -> ا ;  ى -> ي ;  ة -> ه ;  ؤ -> و ;  ئ -> ي ;
 *   tashkeel (U+064B..U+065F, U+0670) and tatweel (U+0640) removed;
 *   Arabic-Indic and Persian digits -> ASCII digits; ASCII letters lowered.
 * The output is never longer than the input: out needs n+1 bytes. Returns
 * the output length; out is NUL-terminated. map, if not NULL (n+1 entries),
 * receives for each output byte the input byte offset it came from, and
 * map[outlen] = n, so an output span [a,b) maps to input [map[a], map[b]).
 * Invalid UTF-8 bytes are copied through unchanged. */
NAHR_EXPORT size_t nahr_ar_normalize(const char *in, size_t n, char *out, size_t *map);

/* 1 for Arabic letters (U+0621..U+064A, U+0671..U+06D3, U+06FA..U+06FF). */
NAHR_EXPORT int nahr_ar_is_letter(int32_t cp);
/* 1 for Arabic diacritics/tatweel that nahr_ar_normalize drops. */
NAHR_EXPORT int nahr_ar_is_mark(int32_t cp);

#ifdef __cplusplus
}
#endif
#endif
