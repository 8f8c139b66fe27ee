/* clean_unicode.c - character-level normalisation of the article text.
 *
 * One linear pass over the (repaired) UTF-8 does the filtering, space and
 * line-break unification and the options; ICU's normaliser is then called
 * only on the lines that hold a character that is not already stable under
 * the chosen form (a 64 Kbit table built once at init from ICU's own data:
 * combining class != 0 or quick-check != YES). Plain Arabic news text rarely
 * hits ICU at all, which is how this stays faster than `uconv -x NFKC`.
 */
#include "clean.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uset.h>
#include <unicode/ustring.h>

struct clean_unicode {
    clean_unicode_opts o;
    const UNormalizer2 *form;  /* NULL for form 0 */
    const UNormalizer2 *nfc;   /* recomposes presentation-form decompositions */
    const UNormalizer2 *nfkc;  /* decomposes presentation forms */
    uint8_t trigger[65536 / 8];/* BMP code points whose quick-check is not YES */
    uint8_t ccc[65536];        /* canonical combining class (0 for most) */
    /* U+0600..U+06FF copied as they are by the fast path: not dropped or
     * changed by an option, stable under the form, combining class 0 */
    uint8_t plain_ar[256];
    /* The copy-as-is run of clean_unicode_run() steps through this table,
     * indexed by the next two bytes as one native 16-bit load (clean_pair_at): the
     * number of bytes to step over, RUN_AR (2) for a plain_ar character,
     * RUN_ONE (1) for printable ASCII or for a space before printable ASCII
     * or before a U+0600..U+06FF lead byte, RUN_STOP (0) for anything else.
     * The space before a lead byte is taken on trust: when the run stops
     * right after it, the run gives it back. One load and one test per
     * character instead of byte tests. */
    uint8_t run_step[65536];
    bool run_sse; /* run_sse_take() may be used: plain_ar holds all its letters */
};

enum { RUN_STOP = 0, RUN_ONE = 1, RUN_AR = 2 };

#if defined(__SSE2__)
/* How many of the 16 bytes at s (s[16] is read too) the copy-as-is run
 * takes at once: printable ASCII, a space before printable ASCII or before
 * a U+0600..U+06FF lead byte, and the Arabic letters U+0621..U+063A and
 * U+0641..U+064A, which plain_ar holds for every option set (checked in
 * clean_unicode_new(), else run_sse is off). That is a subset of what
 * run_step takes, so the run ends where the pair steps end it; the pair
 * steps take a byte this does not (punctuation, digits, other plain
 * characters) one at a time. The run is a chain of dependent table loads,
 * one per character; this tests 16 bytes without one. */
static inline size_t run_sse_take(const unsigned char *s)
{
    const __m128i a = _mm_loadu_si128((const __m128i *)s), b = _mm_loadu_si128((const __m128i *)(s + 1));
    const __m128i lead =
        _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD8)), clean_sse_in(b, 0xA1, 0xBA)),
                     _mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD9)), clean_sse_in(b, 0x81, 0x8A)));
    const __m128i space = _mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8(' ')),
                                        _mm_or_si128(clean_sse_in(b, 0x21, 0x7E), clean_sse_in(b, 0xD8, 0xDB)));
    const __m128i good = _mm_or_si128(_mm_or_si128(clean_sse_in(a, 0x21, 0x7E), space),
                                      _mm_or_si128(lead, _mm_slli_si128(lead, 1)));
    return clean_sse_take((unsigned)_mm_movemask_epi8(good), (unsigned)_mm_movemask_epi8(lead));
}
#endif

static inline int bit_get(const uint8_t *t, uint32_t cp) { return (t[cp >> 3] >> (cp & 7)) & 1; }

/* Sets the bit of every BMP code point from U+0080 whose quick-check
 * property (UCHAR_NFC_QUICK_CHECK or UCHAR_NFKC_QUICK_CHECK) is not YES,
 * from ICU's ranges of that property instead of one unorm2_quickCheck()
 * call per code point (63 K calls, ~12 M instructions at start-up). For
 * one character both give the same answer: test_clean_fast checks it for
 * every BMP code point. */
static int trigger_fill(uint8_t *trigger, UProperty qc)
{
    UErrorCode ec = U_ZERO_ERROR;
    USet *set = uset_openEmpty(), *maybe = uset_openEmpty();
    if (set && maybe) {
        uset_applyIntPropertyValue(set, qc, UNORM_NO, &ec);
        uset_applyIntPropertyValue(maybe, qc, UNORM_MAYBE, &ec);
        uset_addAll(set, maybe);
    }
    int rc = !set || !maybe || U_FAILURE(ec);
    for (int32_t k = 0, nr = rc ? 0 : uset_getItemCount(set); k < nr; k++) {
        UChar32 a, b;
        ec = U_ZERO_ERROR;
        if (uset_getItem(set, k, &a, &b, NULL, 0, &ec) != 0) continue; /* a string, not a range */
        for (UChar32 cp = a < 0x80 ? 0x80 : a; cp <= b && cp < 0x10000; cp++)
            if (cp < 0xD800 || cp > 0xDFFF) trigger[cp >> 3] |= (uint8_t)(1u << (cp & 7));
    }
    uset_close(set);
    uset_close(maybe);
    return rc;
}

clean_unicode *clean_unicode_new(const clean_unicode_opts *o, char *err, size_t errsz)
{
    clean_unicode *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    u->o = *o;
    UErrorCode ec = U_ZERO_ERROR;
    u->nfc = unorm2_getNFCInstance(&ec);
    if (U_SUCCESS(ec)) u->nfkc = unorm2_getNFKCInstance(&ec);
    if (U_FAILURE(ec)) {
        snprintf(err, errsz, "ICU normaliser unavailable: %s", u_errorName(ec));
        free(u);
        return NULL;
    }
    u->form = o->form == 1 ? u->nfc : o->form == 2 ? u->nfkc : NULL;
    if (u->form) {
        for (uint32_t cp = 0x80; cp < 0x10000; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            u->ccc[cp] = unorm2_getCombiningClass(u->form, (UChar32)cp);
        }
        if (trigger_fill(u->trigger, o->form == 1 ? UCHAR_NFC_QUICK_CHECK : UCHAR_NFKC_QUICK_CHECK)) {
            snprintf(err, errsz, "ICU normaliser unavailable: no quick-check property");
            free(u);
            return NULL;
        }
    }
    for (uint32_t cp = 0x0600; cp <= 0x06FF; cp++) {
        int plain = cp != 0x061C; /* the Arabic letter mark is dropped */
        if (cp == 0x0640 && o->remove_tatweel) plain = 0;
        if (o->remove_diacritics && ((cp >= 0x064B && cp <= 0x065F) || cp == 0x0670)) plain = 0;
        if (o->ascii_digits && ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9))) plain = 0;
        if (u->form && (bit_get(u->trigger, cp) || u->ccc[cp])) plain = 0;
        u->plain_ar[cp - 0x0600] = (uint8_t)plain;
    }
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            const unsigned char pair[2] = {(unsigned char)a, (unsigned char)b};
            uint8_t t = RUN_STOP;
            if (a - 0x21u < 0x5Eu || (a == ' ' && (b - 0x21u < 0x5Eu || (b & 0xFCu) == 0xD8u))) t = RUN_ONE;
            else if ((a & 0xFCu) == 0xD8u && (b & 0xC0u) == 0x80u && u->plain_ar[((a & 3u) << 6) | (b & 0x3Fu)]) t = RUN_AR;
            u->run_step[clean_pair_at(pair, 0)] = t;
        }
    u->run_sse = !o->no_run_copy;
    for (uint32_t cp = 0x0621; cp <= 0x064A; cp++)
        if ((cp <= 0x063A || cp >= 0x0641) && !u->plain_ar[cp - 0x0600]) u->run_sse = false;
    return u;
}

void clean_unicode_free(clean_unicode *u) { free(u); }

void clean_scratch_free(clean_scratch *s)
{
    nahr_buf_free(&s->a);
    nahr_buf_free(&s->b);
    free(s->u16);
    free(s->u16b);
    nahr_buf_free(&s->norm);
    nahr_buf_free(&s->out);
    nahr_buf_free(&s->html.text);
    memset(s, 0, sizeof *s);
}

/* Decodes one code point; returns UINT32_MAX for an invalid or truncated
 * sequence, overlongs, surrogates and NUL (the caller then repairs). */
static inline uint32_t dec_checked(const unsigned char *s, size_t n, size_t *i)
{
    unsigned c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c ? c : UINT32_MAX;
    }
    if (c < 0xC2 || c > 0xF4) return UINT32_MAX;
    if (c < 0xE0) {
        if (*i + 1 >= n || (s[*i + 1] & 0xC0) != 0x80) return UINT32_MAX;
        uint32_t cp = ((c & 0x1Fu) << 6) | (s[*i + 1] & 0x3Fu);
        *i += 2;
        return cp;
    }
    if (c < 0xF0) {
        if (*i + 2 >= n || (s[*i + 1] & 0xC0) != 0x80 || (s[*i + 2] & 0xC0) != 0x80) return UINT32_MAX;
        uint32_t cp = ((c & 0x0Fu) << 12) | ((s[*i + 1] & 0x3Fu) << 6) | (s[*i + 2] & 0x3Fu);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return UINT32_MAX;
        *i += 3;
        return cp;
    }
    if (*i + 3 >= n || (s[*i + 1] & 0xC0) != 0x80 || (s[*i + 2] & 0xC0) != 0x80 || (s[*i + 3] & 0xC0) != 0x80)
        return UINT32_MAX;
    uint32_t cp = ((c & 0x07u) << 18) | ((s[*i + 1] & 0x3Fu) << 12) | ((s[*i + 2] & 0x3Fu) << 6) | (s[*i + 3] & 0x3Fu);
    if (cp < 0x10000 || cp > 0x10FFFF) return UINT32_MAX;
    *i += 4;
    return cp;
}

static int is_dropped(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) return 1; /* controls (\t \n handled before) */
    switch (cp) {
    case 0x00AD: case 0x061C: case 0x180E: case 0xFEFF: case 0x200B: case 0x200C: case 0x200D:
    case 0x200E: case 0x200F: case 0xFFFE:
        return 1;
    default: break;
    }
    if (cp >= 0x202A && cp <= 0x202E) return 1;
    if (cp >= 0x2060 && cp <= 0x2069) return 1;
    return 0;
}

static int is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static int is_break(uint32_t cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x85 || cp == 0x2028 ||
           cp == 0x2029;
}

/* Output state of the pass: collapses spaces and blank lines. */
typedef struct {
    nahr_buf *o;
    int pending_space;
    int newlines;      /* line breaks seen since the last character */
    size_t line_start; /* offset in o of the current line */
    nahr_buf *marks;   /* size_t pairs: [start, end) in o of what needs ICU */
    int err;
} emitter;

/* Appends k bytes without the per-call overhead of nahr_buf_append; the
 * buffer is NUL-terminated once at the end of the pass. */
static inline void put(emitter *e, const void *p, size_t k)
{
    nahr_buf *b = e->o;
    if (b->len + k + 1 > b->cap && nahr_buf_reserve(b, k + 1)) {
        e->err = NAHR_ENOMEM;
        return;
    }
    memcpy(b->data + b->len, p, k);
    b->len += k;
}

static inline void emit_begin(emitter *e)
{
    if (e->newlines) {
        if (e->o->len) {
            put(e, "\n\n", e->newlines >= 2 ? 2 : 1);
            e->line_start = e->o->len;
        }
        e->newlines = 0;
        e->pending_space = 0;
    } else if (e->pending_space) {
        if (e->o->len && e->o->len != e->line_start) put(e, " ", 1);
        e->pending_space = 0;
    }
}

/* Notes that o[start, end) (whole characters just written) needs ICU. */
static inline void emit_mark(emitter *e, size_t start, size_t end)
{
    const size_t m[2] = {start, end};
    if (nahr_buf_append(e->marks, m, sizeof m)) e->err = NAHR_ENOMEM;
}

/* 1 when the normaliser may split the text before t[p] (p < n): the
 * character there never interacts with the ones before it. */
static int boundary_at(const UNormalizer2 *norm, const char *t, size_t p)
{
    return unorm2_hasBoundaryBefore(norm, clean_dec(t, &p));
}

static int utf16_grow(uint16_t **p, size_t *cap, size_t need)
{
    if (*cap >= need) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    uint16_t *q = realloc(*p, c * sizeof(uint16_t));
    if (!q) return NAHR_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* Normalises line s[0..n) with norm and appends it to out. */
static int icu_line(const UNormalizer2 *norm, clean_scratch *sc, const char *s, size_t n, nahr_buf *out)
{
    UErrorCode ec = U_ZERO_ERROR;
    int32_t len16 = 0;
    if (n > (size_t)INT32_MAX / 2) return nahr_buf_append(out, s, n); /* beyond ICU's int32 */
    if (utf16_grow(&sc->u16, &sc->u16cap, n + 1)) return NAHR_ENOMEM;
    u_strFromUTF8(sc->u16, (int32_t)sc->u16cap, &len16, s, (int32_t)n, &ec);
    if (U_FAILURE(ec)) return nahr_buf_append(out, s, n);
    size_t cap = (size_t)len16 * 2 + 16;
    for (int tries = 0; tries < 3; tries++) {
        if (utf16_grow(&sc->u16b, &sc->u16bcap, cap)) return NAHR_ENOMEM;
        ec = U_ZERO_ERROR;
        int32_t l2 = unorm2_normalize(norm, sc->u16, len16, sc->u16b, (int32_t)sc->u16bcap, &ec);
        if (ec == U_BUFFER_OVERFLOW_ERROR) {
            cap = (size_t)l2 + 16;
            continue;
        }
        if (U_FAILURE(ec)) return nahr_buf_append(out, s, n);
        int32_t l8 = 0;
        ec = U_ZERO_ERROR;
        u_strToUTF8(NULL, 0, &l8, sc->u16b, l2, &ec);
        if (nahr_buf_reserve(out, (size_t)l8 + 1)) return NAHR_ENOMEM;
        ec = U_ZERO_ERROR;
        u_strToUTF8(out->data + out->len, (int32_t)(out->cap - out->len), &l8, sc->u16b, l2, &ec);
        if (U_FAILURE(ec) && ec != U_STRING_NOT_TERMINATED_WARNING) return nahr_buf_append(out, s, n);
        out->len += (size_t)l8;
        out->data[out->len] = '\0';
        return 0;
    }
    return nahr_buf_append(out, s, n);
}

int clean_unicode_run(const clean_unicode *u, clean_scratch *sc, const char *in, size_t n,
                      nahr_buf *out, size_t *bad)
{
    size_t nbad = 0;
    int repaired = 0;
    nahr_buf_reset(out);
    if (bad) *bad = 0;
restart:;
    nahr_buf marks = {0};
    nahr_buf_reset(&sc->b);
    if (nahr_buf_reserve(&sc->b, n + 1)) return NAHR_ENOMEM;
    emitter e = {.o = &sc->b, .marks = &marks};
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0;
    char tmp[64];
    unsigned prev_ccc = 0;
    while (i < n && !e.err) {
        unsigned c = s[i];
        /* fast path: a run of printable ASCII and plain Arabic letters (see
         * plain_ar), with single spaces between them, is copied as it is */
        if (!u->o.no_run_copy && (c - 0x21u < 0x5Eu || (i + 1 < n && u->run_step[clean_pair_at(s, i)] == RUN_AR))) {
            emit_begin(&e);
            size_t j = i, last = n - 1;
            unsigned t;
#if defined(__SSE2__)
            if (u->run_sse)
                while (j + 17 <= n) {
                    size_t k = run_sse_take(s + j);
                    if (k) {
                        j += k;
                        continue;
                    }
                    /* a byte it does not take: one pair step */
                    if ((t = u->run_step[clean_pair_at(s, j)]) == RUN_STOP) goto run_end;
                    j += t;
                }
#endif
            /* eight characters a step while all eight pairs are inside the
             * text (a step is at most 2 bytes; one loop test for eight),
             * then two */
            while (j + 15 < n)
                for (int k = 0; k < 8; k++) {
                    if ((t = u->run_step[clean_pair_at(s, j)]) == RUN_STOP) goto run_end;
                    j += t;
                }
            while (j + 3 < n) {
                if ((t = u->run_step[clean_pair_at(s, j)]) == RUN_STOP) goto run_end;
                j += t;
                if ((t = u->run_step[clean_pair_at(s, j)]) == RUN_STOP) goto run_end;
                j += t;
            }
            while (j < last && (t = u->run_step[clean_pair_at(s, j)]) != RUN_STOP) j += t;
        run_end:
            if (j == last && s[j] - 0x21u < 0x5Eu) j++; /* the last byte: printable ASCII only */
            if (s[j - 1] == ' ') j--; /* a space before a character that is not plain Arabic */
            put(&e, s + i, j - i);
            i = j;
            prev_ccc = 0;
            continue;
        }
        uint32_t cp;
        if (c == '\r') {
            i++;
            if (i < n && s[i] == '\n') i++;
            e.newlines++;
            e.pending_space = 0;
            continue;
        }
        size_t cstart = i;
        cp = dec_checked(s, n, &i);
        if (cp == UINT32_MAX) {
            /* invalid UTF-8 or NUL: repair the whole input (U+FFFD, the core's
             * choice) and start again; happens at most once */
            nahr_buf_free(&marks);
            if (repaired) return NAHR_EFORMAT;
            nahr_buf_reset(&sc->a);
            if (nahr_utf8_repair(in, n, &sc->a, &nbad)) return NAHR_ENOMEM;
            if (bad) *bad = nbad;
            in = sc->a.data;
            n = sc->a.len;
            repaired = 1;
            goto restart;
        }
        if (is_break(cp)) {
            e.newlines++;
            e.pending_space = 0;
            prev_ccc = 0;
            continue;
        }
        if (is_space(cp)) {
            if (!e.newlines) e.pending_space = 1;
            prev_ccc = 0;
            continue;
        }
        if (is_dropped(cp)) continue;
        if (cp == 0x0640 && u->o.remove_tatweel) continue;
        if (u->o.remove_diacritics && ((cp >= 0x064B && cp <= 0x065F) || cp == 0x0670)) continue;
        int mapped = 0;
        if (u->o.ascii_digits) {
            if (cp >= 0x0660 && cp <= 0x0669) cp = '0' + (cp - 0x0660), mapped = 1;
            else if (cp >= 0x06F0 && cp <= 0x06F9) cp = '0' + (cp - 0x06F0), mapped = 1;
        }
        emit_begin(&e);
        if ((cp >= 0xFB50 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFC)) {
            /* Arabic presentation forms -> letters (compatibility decomposition),
             * then the line is recomposed (NFC) so hamza forms come back. */
            UChar dst[32];
            UErrorCode ec = U_ZERO_ERROR;
            int32_t l = unorm2_getDecomposition(u->nfkc, (UChar32)cp, dst, 32, &ec);
            if (U_SUCCESS(ec) && l > 0) {
                int32_t l8 = 0;
                ec = U_ZERO_ERROR;
                u_strToUTF8(tmp, (int32_t)sizeof tmp, &l8, dst, l, &ec);
                if (U_SUCCESS(ec) || ec == U_STRING_NOT_TERMINATED_WARNING) {
                    /* the decomposition may hold spaces (e.g. U+FDFA) */
                    size_t at = e.o->len;
                    put(&e, tmp, (size_t)l8);
                    emit_mark(&e, at, e.o->len);
                    continue;
                }
            }
        }
        int mark = 0;
        if (u->form) {
            /* ICU is needed for a character whose quick-check is not YES, or
             * for combining marks out of canonical order (shadda + fatha) */
            if (cp >= 0x10000 || bit_get(u->trigger, cp)) mark = 1;
            else {
                unsigned cc = u->ccc[cp];
                if (cc && prev_ccc > cc) mark = 1;
                prev_ccc = cc;
            }
        }
        size_t at = e.o->len;
        if (mapped) put(&e, tmp, nahr_utf8_put(cp, tmp));
        else put(&e, s + cstart, i - cstart); /* unchanged: copy the source bytes */
        if (mark) emit_mark(&e, at, e.o->len);
    }
    if (!e.err && e.o->data) e.o->data[e.o->len] = '\0';
    if (e.err) {
        nahr_buf_free(&marks);
        return e.err;
    }
    size_t nm = marks.len / (2 * sizeof(size_t));
    if (nm == 0) {
        nahr_buf t = *out; /* hand the pass's buffer over, keep the other for next time */
        *out = sc->b;
        sc->b = t;
        nahr_buf_reset(&sc->b);
        nahr_buf_free(&marks);
        return 0;
    }
    const UNormalizer2 *norm = u->form ? u->form : u->nfc;
    const size_t *mk = (const size_t *)(void *)marks.data;
    const char *t = sc->b.data;
    size_t tn = sc->b.len, pos = 0;
    int rc = nahr_buf_reserve(out, tn + 16);
    if (!u->form || u->o.whole_lines) {
        /* the whole line of each mark: with no form, the presentation forms'
         * letters are recomposed by NFC, which may change other characters of
         * the line too (nothing told the pass that they were NFC already) */
        for (size_t k = 0; k < nm && !rc; k++) {
            if (mk[2 * k] < pos) continue; /* on the line just normalised */
            size_t ls = mk[2 * k];
            while (ls > 0 && t[ls - 1] != '\n') ls--;
            const char *nl = memchr(t + mk[2 * k], '\n', tn - mk[2 * k]);
            size_t le = nl ? (size_t)(nl - t) : tn;
            rc = nahr_buf_append(out, t + pos, ls - pos);
            if (!rc) rc = icu_line(norm, sc, t + ls, le - ls, out);
            pos = le;
        }
    } else {
        /* Only the stretch around each mark, from the normaliser's boundary
         * before it to the one after it: outside the marks every character's
         * quick-check is YES and the combining marks are in canonical order
         * (else the pass marked them), so the text there is in the form
         * already, and a text split at boundaries normalises piece by piece.
         * A news paragraph of 2 KB with one presentation form converts ~10
         * bytes to UTF-16 and back instead of the paragraph. */
        for (size_t k = 0; k < nm && !rc;) {
            size_t s0 = mk[2 * k], e0 = mk[2 * k + 1];
            k++;
            while (s0 > pos && !boundary_at(norm, t, s0)) {
                s0--;
                while (s0 > pos && ((unsigned char)t[s0] & 0xC0) == 0x80) s0--;
            }
            for (;;) {
                while (e0 < tn && !boundary_at(norm, t, e0)) clean_dec(t, &e0);
                if (k < nm && mk[2 * k] <= e0) { /* the next mark joins the stretch */
                    if (mk[2 * k + 1] > e0) e0 = mk[2 * k + 1];
                    k++;
                    continue;
                }
                break;
            }
            rc = nahr_buf_append(out, t + pos, s0 - pos);
            if (!rc) rc = icu_line(norm, sc, t + s0, e0 - s0, out);
            pos = e0;
        }
    }
    if (!rc) rc = nahr_buf_append(out, t + pos, tn - pos);
    nahr_buf_free(&marks);
    return rc;
}
