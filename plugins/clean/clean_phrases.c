/* clean_phrases.c - boilerplate phrase families as one Aho-Corasick automaton
 * over the matching form of the text (nahr_ar_normalize + punctuation folded
 * to spaces), so "اقرأ أيضاً:" and "اقرا ايضا" are the same phrase. Built once
 * at init, read-only afterwards (shared by all workers). */
#include "clean.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t next[256]; /* trie edges while adding, -1 = none */
    int32_t out;       /* first phrase ending here, -1 */
} ac_node;

typedef struct {
    uint32_t family, mode, len;
    int32_t next_same; /* next phrase ending at the same node */
} ac_phrase;

struct clean_phrases {
    ac_node *nodes;    /* while adding: the trie with 256-wide rows; freed by build */
    size_t nnodes, capnodes;
    ac_phrase *ph;
    size_t nph, capph;
    int built;
    /* After build, the automaton in compact form: bytes that occur in no
     * phrase share class 0 (from any state they lead back to the root), so a
     * row has one entry per byte class (~70) instead of 256, and the output
     * links live in their own small arrays. Scanning a line touches a few
     * hot rows instead of a 1 KB node per byte (the 4 MB table missed the
     * CPU caches on almost every byte). */
    uint8_t used[256]; /* byte occurs in some phrase */
    uint16_t cls[256]; /* byte -> class */
    size_t ncls;
    uint32_t *delta;   /* nnodes * ncls transitions: the row (rank * ncls) of the next
                        * state, so the scan needs one load per byte and no multiplication */
    uint32_t out_row;  /* rows from here on are states where some phrase ends: states are
                        * ranked so that those come last */
    int32_t *report;   /* by rank: first node on the fail chain (itself included) where a
                        * phrase ends, -1 */
    int32_t *dict;     /* by node: nearest node on the fail chain with out >= 0, -1 */
    int32_t *out;      /* by node: first phrase ending there, -1 */
};

static int32_t node_new(clean_phrases *p)
{
    if (p->nnodes == p->capnodes) {
        size_t c = p->capnodes ? p->capnodes * 2 : 64;
        ac_node *q = realloc(p->nodes, c * sizeof *q);
        if (!q) return -1;
        p->nodes = q;
        p->capnodes = c;
    }
    ac_node *n = &p->nodes[p->nnodes];
    memset(n->next, 0xFF, sizeof n->next); /* -1: no edge */
    n->out = -1;
    return (int32_t)p->nnodes++;
}

clean_phrases *clean_phrases_new(void)
{
    clean_phrases *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (node_new(p) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

void clean_phrases_free(clean_phrases *p)
{
    if (!p) return;
    free(p->nodes);
    free(p->ph);
    free(p->delta);
    free(p->report);
    free(p->dict);
    free(p->out);
    free(p);
}

size_t clean_phrases_count(const clean_phrases *p) { return p->nph; }

/* 1 when cp separates words for matching (punctuation, symbols, spaces). */
static inline int is_sep(int32_t cp)
{
    if (cp < 0x80) return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return 1;
    if (cp == 0x060C || cp == 0x061B || cp == 0x061F || (cp >= 0x066A && cp <= 0x066D) || cp == 0x06D4)
        return 1;
    if (cp >= 0x2000 && cp <= 0x2BFF) return 1;
    if (cp >= 0x3000 && cp <= 0x303F) return 1;
    if (cp >= 0xFE10 && cp <= 0xFE6F) return 1;
    if (cp >= 0xFF00 && cp <= 0xFF0F) return 1;
    if (cp >= 0x1F000) return 1; /* emoji and pictographs */
    return 0;
}

/* clean_match_norm() in one pass for text of ASCII and U+0600..U+067F only
 * (nearly every news line): nahr_ar_normalize()'s mapping of those code
 * points (text.h: أ إ آ -> ا, ى ئ -> ي, ة -> ه, ؤ -> و, tashkeel and tatweel
 * dropped, Arabic-Indic digits -> ASCII, A-Z lowered, NUL dropped) and the
 * separator folding below, read from two tables; any other code point is
 * normalised and folded alone. Returns (size_t)-1 at invalid UTF-8: the
 * caller then takes the two-step path. test_clean compares both paths. */
enum { MN_DROP = 0, MN_ONE = 1, MN_TWO = 2, MN_SEP = 3, MN_SLOW = 4 };
typedef struct {
    _Alignas(4) unsigned char b[2]; /* output bytes (MN_ONE: b[0] only); 4-byte
                                     * entries are one scaled index away */
    unsigned char kind; /* MN_* */
} mn_entry;
/* ASCII: alphanumerics (lowered) are kept, NUL dropped, the rest separates */
static const mn_entry mn_ascii[128] = {
    {{0x00, 0x00}, 0}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x30, 0x00}, 1}, {{0x31, 0x00}, 1}, {{0x32, 0x00}, 1}, {{0x33, 0x00}, 1}, {{0x34, 0x00}, 1}, {{0x35, 0x00}, 1}, {{0x36, 0x00}, 1}, {{0x37, 0x00}, 1},
    {{0x38, 0x00}, 1}, {{0x39, 0x00}, 1}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x61, 0x00}, 1}, {{0x62, 0x00}, 1}, {{0x63, 0x00}, 1}, {{0x64, 0x00}, 1}, {{0x65, 0x00}, 1}, {{0x66, 0x00}, 1}, {{0x67, 0x00}, 1},
    {{0x68, 0x00}, 1}, {{0x69, 0x00}, 1}, {{0x6A, 0x00}, 1}, {{0x6B, 0x00}, 1}, {{0x6C, 0x00}, 1}, {{0x6D, 0x00}, 1}, {{0x6E, 0x00}, 1}, {{0x6F, 0x00}, 1},
    {{0x70, 0x00}, 1}, {{0x71, 0x00}, 1}, {{0x72, 0x00}, 1}, {{0x73, 0x00}, 1}, {{0x74, 0x00}, 1}, {{0x75, 0x00}, 1}, {{0x76, 0x00}, 1}, {{0x77, 0x00}, 1},
    {{0x78, 0x00}, 1}, {{0x79, 0x00}, 1}, {{0x7A, 0x00}, 1}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
    {{0x00, 0x00}, 3}, {{0x61, 0x00}, 1}, {{0x62, 0x00}, 1}, {{0x63, 0x00}, 1}, {{0x64, 0x00}, 1}, {{0x65, 0x00}, 1}, {{0x66, 0x00}, 1}, {{0x67, 0x00}, 1},
    {{0x68, 0x00}, 1}, {{0x69, 0x00}, 1}, {{0x6A, 0x00}, 1}, {{0x6B, 0x00}, 1}, {{0x6C, 0x00}, 1}, {{0x6D, 0x00}, 1}, {{0x6E, 0x00}, 1}, {{0x6F, 0x00}, 1},
    {{0x70, 0x00}, 1}, {{0x71, 0x00}, 1}, {{0x72, 0x00}, 1}, {{0x73, 0x00}, 1}, {{0x74, 0x00}, 1}, {{0x75, 0x00}, 1}, {{0x76, 0x00}, 1}, {{0x77, 0x00}, 1},
    {{0x78, 0x00}, 1}, {{0x79, 0x00}, 1}, {{0x7A, 0x00}, 1}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3},
};
/* U+0600..U+067F, indexed by cp - 0x600 */
static const mn_entry mn_ar[128] = {
    {{0xD8, 0x80}, 2}, {{0xD8, 0x81}, 2}, {{0xD8, 0x82}, 2}, {{0xD8, 0x83}, 2}, {{0xD8, 0x84}, 2}, {{0xD8, 0x85}, 2}, {{0xD8, 0x86}, 2}, {{0xD8, 0x87}, 2},
    {{0xD8, 0x88}, 2}, {{0xD8, 0x89}, 2}, {{0xD8, 0x8A}, 2}, {{0xD8, 0x8B}, 2}, {{0x00, 0x00}, 3}, {{0xD8, 0x8D}, 2}, {{0xD8, 0x8E}, 2}, {{0xD8, 0x8F}, 2},
    {{0xD8, 0x90}, 2}, {{0xD8, 0x91}, 2}, {{0xD8, 0x92}, 2}, {{0xD8, 0x93}, 2}, {{0xD8, 0x94}, 2}, {{0xD8, 0x95}, 2}, {{0xD8, 0x96}, 2}, {{0xD8, 0x97}, 2},
    {{0xD8, 0x98}, 2}, {{0xD8, 0x99}, 2}, {{0xD8, 0x9A}, 2}, {{0x00, 0x00}, 3}, {{0xD8, 0x9C}, 2}, {{0xD8, 0x9D}, 2}, {{0xD8, 0x9E}, 2}, {{0x00, 0x00}, 3},
    {{0xD8, 0xA0}, 2}, {{0xD8, 0xA1}, 2}, {{0xD8, 0xA7}, 2}, {{0xD8, 0xA7}, 2}, {{0xD9, 0x88}, 2}, {{0xD8, 0xA7}, 2}, {{0xD9, 0x8A}, 2}, {{0xD8, 0xA7}, 2},
    {{0xD8, 0xA8}, 2}, {{0xD9, 0x87}, 2}, {{0xD8, 0xAA}, 2}, {{0xD8, 0xAB}, 2}, {{0xD8, 0xAC}, 2}, {{0xD8, 0xAD}, 2}, {{0xD8, 0xAE}, 2}, {{0xD8, 0xAF}, 2},
    {{0xD8, 0xB0}, 2}, {{0xD8, 0xB1}, 2}, {{0xD8, 0xB2}, 2}, {{0xD8, 0xB3}, 2}, {{0xD8, 0xB4}, 2}, {{0xD8, 0xB5}, 2}, {{0xD8, 0xB6}, 2}, {{0xD8, 0xB7}, 2},
    {{0xD8, 0xB8}, 2}, {{0xD8, 0xB9}, 2}, {{0xD8, 0xBA}, 2}, {{0xD8, 0xBB}, 2}, {{0xD8, 0xBC}, 2}, {{0xD8, 0xBD}, 2}, {{0xD8, 0xBE}, 2}, {{0xD8, 0xBF}, 2},
    {{0x00, 0x00}, 0}, {{0xD9, 0x81}, 2}, {{0xD9, 0x82}, 2}, {{0xD9, 0x83}, 2}, {{0xD9, 0x84}, 2}, {{0xD9, 0x85}, 2}, {{0xD9, 0x86}, 2}, {{0xD9, 0x87}, 2},
    {{0xD9, 0x88}, 2}, {{0xD9, 0x8A}, 2}, {{0xD9, 0x8A}, 2}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0},
    {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0},
    {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0}, {{0x00, 0x00}, 0},
    {{0x30, 0x00}, 1}, {{0x31, 0x00}, 1}, {{0x32, 0x00}, 1}, {{0x33, 0x00}, 1}, {{0x34, 0x00}, 1}, {{0x35, 0x00}, 1}, {{0x36, 0x00}, 1}, {{0x37, 0x00}, 1},
    {{0x38, 0x00}, 1}, {{0x39, 0x00}, 1}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0x00, 0x00}, 3}, {{0xD9, 0xAE}, 2}, {{0xD9, 0xAF}, 2},
    {{0x00, 0x00}, 0}, {{0x00, 0x00}, 4}, {{0xD9, 0xB2}, 2}, {{0xD9, 0xB3}, 2}, {{0xD9, 0xB4}, 2}, {{0xD9, 0xB5}, 2}, {{0xD9, 0xB6}, 2}, {{0xD9, 0xB7}, 2},
    {{0xD9, 0xB8}, 2}, {{0xD9, 0xB9}, 2}, {{0xD9, 0xBA}, 2}, {{0xD9, 0xBB}, 2}, {{0xD9, 0xBC}, 2}, {{0xD9, 0xBD}, 2}, {{0xD9, 0xBE}, 2}, {{0xD9, 0xBF}, 2},
};

/* One valid code point outside the tables at s[*i]: normalised alone (the
 * mapping is per code point) and folded like the two-step path does.
 * Advances *i past it; -1 at an invalid sequence (then the whole line goes
 * the two-step way, which treats invalid bytes in its own manner). */
static int match_norm_other(const char *s, size_t n, size_t *i, char *out, size_t *w, int *sp)
{
    size_t j = *i;
    if (nahr_utf8_next(s, n, &j) < 0) return -1;
    char tmp[8];
    size_t m = nahr_ar_normalize(s + *i, j - *i, tmp, NULL);
    for (size_t k = 0; k < m;) {
        size_t st = k;
        int32_t cp = nahr_utf8_next(tmp, m, &k);
        if (cp < 0 || is_sep(cp)) {
            if (!*sp) {
                out[(*w)++] = ' ';
                *sp = 1;
            }
        } else {
            while (st < k) out[(*w)++] = tmp[st++];
            *sp = 0;
        }
    }
    *i = j;
    return 0;
}

/* The next two bytes of a line, one native 16-bit load, as an index of
 * mn_pair (built once per process from mn_ar; the byte order of the index
 * does not matter, the table is built through the same load):
 *   0..0x7F         a U+0600..U+067F character whose mn_ar entry writes two
 *                   bytes (MN_TWO: nearly every letter), mn_ar index
 *   0x80 | index    a U+0600..U+067F character of another kind
 *   MP_ASCII        the first byte is ASCII: mn_ascii
 *   MP_OTHER        anything else (match_norm_other) */
enum { MP_ASCII = 0xFE, MP_OTHER = 0xFF };
static uint8_t mn_pair[65536];
static pthread_once_t mn_pair_once = PTHREAD_ONCE_INIT;

static void mn_pair_init(void)
{
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            const unsigned char pair[2] = {(unsigned char)a, (unsigned char)b};
            unsigned v = MP_OTHER;
            if (a < 0x80) {
                v = MP_ASCII;
            } else if ((a & 0xFEu) == 0xD8u && (b & 0xC0u) == 0x80u) {
                unsigned k = ((a & 1u) << 6) | (b & 0x3Fu);
                if (mn_ar[k].kind == MN_TWO) v = k;
                else if (mn_ar[k].kind != MN_SLOW) v = 0x80 | k;
            }
            mn_pair[clean_pair_at(pair, 0)] = (uint8_t)v;
        }
}

#if defined(__SSE2__)
/* How many bytes of s[0..16) a letter run copies as they are (reads
 * s[0..17)): letters whose mn_ar entry is themselves (U+0621, U+0627,
 * U+0628, U+062A..U+063F, U+0641..U+0648, U+064A: all but the hamza
 * carriers, ta marbuta, alef maqsura and the tatweel), and single spaces
 * before such a letter (the run's "one space between two words"). */
static inline size_t ident_block(const unsigned char *s)
{
    __m128i a = _mm_loadu_si128((const __m128i *)s), b = _mm_loadu_si128((const __m128i *)(s + 1));
    __m128i d8 = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8((char)0xA9)), clean_sse_in(b, 0xA7, 0xBF)),
                              _mm_cmpeq_epi8(b, _mm_set1_epi8((char)0xA1)));
    __m128i d9 = _mm_andnot_si128(_mm_cmpeq_epi8(b, _mm_set1_epi8((char)0x89)), clean_sse_in(b, 0x81, 0x8A));
    __m128i lead = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD8)), d8),
                                _mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD9)), d9));
    __m128i sp = _mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8(' ')), _mm_srli_si128(lead, 1));
    __m128i good = _mm_or_si128(_mm_or_si128(lead, _mm_slli_si128(lead, 1)), sp);
    return clean_sse_take((unsigned)_mm_movemask_epi8(good), (unsigned)_mm_movemask_epi8(lead));
}
#endif

static size_t match_norm_fast(const char *s, size_t n, char *out)
{
    pthread_once(&mn_pair_once, mn_pair_init);
    const unsigned char *u = (const unsigned char *)s;
    size_t w = 0, i = 0, last = n - 1; /* last: a pair starts before it */
    int sp = 1;
    while (i < n) {
        unsigned v = i < last ? mn_pair[clean_pair_at(u, i)] : u[i] < 0x80 ? MP_ASCII : MP_OTHER;
        if (v < 0x80) {
            for (;;) {
                /* a run of letters: two bytes in, two bytes out */
                do {
                    memcpy(out + w, mn_ar[v].b, 2);
                    w += 2;
                    i += 2;
#if defined(__SSE2__)
                    /* then 16 bytes a step while they copy as they are: the
                     * store fits, as w <= i and out has n + 1 bytes */
                    while (i + 17 <= n) {
                        size_t f = ident_block(u + i);
                        _mm_storeu_si128((__m128i *)(void *)(out + w), _mm_loadu_si128((const __m128i *)(u + i)));
                        w += f;
                        i += f;
                        if (f < 15) break;
                    }
#endif
                } while (i < last && (v = mn_pair[clean_pair_at(u, i)]) < 0x80);
                /* one space between two words: a separator after a letter
                 * (sp is 0), and the next run goes on at once */
                if (i + 1 < last && u[i] == ' ' && (v = mn_pair[clean_pair_at(u, i + 1)]) < 0x80) {
                    out[w++] = ' ';
                    i++;
                    continue;
                }
                break;
            }
            sp = 0;
            continue;
        }
        const mn_entry *e;
        if (v == MP_ASCII) {
            e = &mn_ascii[u[i]];
            i++;
        } else if (v == MP_OTHER) {
            if (match_norm_other(s, n, &i, out, &w, &sp) < 0) return (size_t)-1;
            continue;
        } else {
            e = &mn_ar[v & 0x7Fu];
            i += 2;
        }
        if (e->kind <= MN_TWO) {
            if (e->kind) {
                /* two bytes written whatever the kind: the output never
                 * outgrows the input, so they fit */
                memcpy(out + w, e->b, 2);
                w += e->kind;
                sp = 0;
            }
        } else if (!sp) { /* MN_SEP */
            out[w++] = ' ';
            sp = 1;
        }
    }
    if (w && out[w - 1] == ' ') w--;
    out[w] = '\0';
    return w;
}

size_t clean_match_norm(const char *s, size_t n, char *out)
{
    size_t fast = match_norm_fast(s, n, out);
    if (fast != (size_t)-1) return fast;
    size_t m = nahr_ar_normalize(s, n, out, NULL);
    /* fold separators to single spaces, in place (output never grows) */
    size_t i = 0, w = 0;
    int sp = 1; /* at start: drop leading separators */
    while (i < m) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x80) {
            i++;
            if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                out[w++] = (char)c;
                sp = 0;
            } else if (!sp) {
                out[w++] = ' ';
                sp = 1;
            }
            continue;
        }
        if (c >= 0xD8 && c <= 0xDB && i + 1 < m && ((unsigned char)out[i + 1] & 0xC0) == 0x80) {
            /* U+0600..U+06FF (nearly every byte of an Arabic text): is_sep() inline */
            int32_t cp = (int32_t)(((c & 0x1Fu) << 6) | ((unsigned char)out[i + 1] & 0x3Fu));
            if (cp == 0x060C || cp == 0x061B || cp == 0x061F || (cp >= 0x066A && cp <= 0x066D) || cp == 0x06D4) {
                if (!sp) {
                    out[w++] = ' ';
                    sp = 1;
                }
            } else {
                out[w] = (char)c;
                out[w + 1] = out[i + 1];
                w += 2;
                sp = 0;
            }
            i += 2;
            continue;
        }
        size_t st = i;
        int32_t cp;
        if (c >= 0xC2 && c <= 0xDF && i + 1 < m && ((unsigned char)out[i + 1] & 0xC0) == 0x80) {
            cp = (int32_t)(((c & 0x1Fu) << 6) | ((unsigned char)out[i + 1] & 0x3Fu)); /* inline: two bytes */
            i += 2;
        } else {
            cp = nahr_utf8_next(out, m, &i);
        }
        if (cp < 0 || is_sep(cp)) {
            if (!sp) {
                out[w++] = ' ';
                sp = 1;
            }
            continue;
        }
        while (st < i) out[w++] = out[st++];
        sp = 0;
    }
    if (w && out[w - 1] == ' ') w--;
    out[w] = '\0';
    return w;
}

int clean_phrases_add(clean_phrases *p, int family, int mode, const char *s, size_t n)
{
    if (p->built || family <= 0 || family >= CR_NREASONS) return NAHR_EINVAL;
    char *norm = malloc(n + 1);
    if (!norm) return NAHR_ENOMEM;
    size_t m = clean_match_norm(s, n, norm);
    if (m == 0) {
        free(norm);
        return NAHR_EINVAL;
    }
    int32_t cur = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)norm[i];
        int32_t nx = p->nodes[cur].next[c];
        p->used[c] = 1;
        if (nx < 0) {
            nx = node_new(p);
            if (nx < 0) {
                free(norm);
                return NAHR_ENOMEM;
            }
            p->nodes[cur].next[c] = nx;
        }
        cur = nx;
    }
    free(norm);
    if (p->nph == p->capph) {
        size_t c = p->capph ? p->capph * 2 : 64;
        ac_phrase *q = realloc(p->ph, c * sizeof *q);
        if (!q) return NAHR_ENOMEM;
        p->ph = q;
        p->capph = c;
    }
    ac_phrase *ph = &p->ph[p->nph];
    ph->family = (uint32_t)family;
    ph->mode = (uint32_t)mode;
    ph->len = (uint32_t)m;
    ph->next_same = p->nodes[cur].out;
    p->nodes[cur].out = (int32_t)p->nph++;
    return NAHR_OK;
}

int clean_phrases_load(clean_phrases *p, int family, const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "cannot open phrase file '%s': %s", path, strerror(errno));
        return NAHR_EIO;
    }
    char line[1024];
    int lineno = 0, rc = NAHR_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        const char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') continue;
        int mode = CM_SHORT;
        switch (*s) {
        case '=': mode = CM_EXACT; s++; break;
        case '^': mode = CM_START; s++; break;
        case '~': mode = CM_SHORT; s++; break;
        case '*': mode = CM_ANY; s++; break;
        default: break;
        }
        if (nahr_utf8_check(s, strlen(s)) != strlen(s)) {
            snprintf(err, errsz, "%s:%d: invalid UTF-8", path, lineno);
            rc = NAHR_EFORMAT;
            break;
        }
        int r = clean_phrases_add(p, family, mode, s, strlen(s));
        if (r == NAHR_EINVAL) continue; /* only punctuation: nothing to match */
        if (r) {
            snprintf(err, errsz, "%s:%d: %s", path, lineno, nahr_strerror(r));
            rc = r;
            break;
        }
    }
    fclose(f);
    return rc;
}

int clean_phrases_build(clean_phrases *p)
{
    if (p->built) return NAHR_OK;
    /* byte classes: bytes of no phrase share class 0, which leads back to
     * the root from any state (no trie edge carries it) */
    size_t ncls = 1, nn = p->nnodes;
    for (int c = 0; c < 256; c++)
        p->cls[c] = p->used[c] ? (uint16_t)ncls++ : 0;
    if (nn * ncls > UINT32_MAX) return NAHR_ELIMIT;
    /* the goto function on classes (the 256-wide trie rows are dropped
     * here), then failure links breadth-first, one column per class */
    int32_t *go = malloc(nn * ncls * sizeof *go);
    int32_t *fail = malloc(nn * sizeof *fail);
    int32_t *queue = malloc(nn * sizeof *queue);
    uint32_t *rank = malloc(nn * sizeof *rank);
    p->report = malloc(nn * sizeof *p->report);
    p->dict = malloc(nn * sizeof *p->dict);
    p->out = malloc(nn * sizeof *p->out);
    p->delta = malloc(nn * ncls * sizeof *p->delta);
    int rc = NAHR_ENOMEM;
    if (!go || !fail || !queue || !rank || !p->report || !p->dict || !p->out || !p->delta) goto done;
    ac_node *nd = p->nodes;
    unsigned char bytes[256]; /* the byte of each class from 1 on */
    for (int c = 0; c < 256; c++)
        if (p->used[c]) bytes[p->cls[c]] = (unsigned char)c;
    for (size_t u = 0; u < nn; u++) {
        int32_t *row = go + u * ncls;
        row[0] = -1;
        for (size_t c = 1; c < ncls; c++) row[c] = nd[u].next[bytes[c]];
        p->out[u] = nd[u].out;
        p->dict[u] = -1;
    }
    size_t qh = 0, qt = 0;
    for (size_t c = 0; c < ncls; c++) {
        int32_t nx = go[c];
        if (nx < 0) {
            go[c] = 0;
        } else {
            fail[nx] = 0;
            queue[qt++] = nx;
        }
    }
    while (qh < qt) {
        int32_t u = queue[qh++];
        int32_t f = fail[u];
        p->dict[u] = p->out[f] >= 0 ? f : p->dict[f];
        int32_t *row = go + (size_t)u * ncls;
        const int32_t *frow = go + (size_t)f * ncls;
        for (size_t c = 0; c < ncls; c++) {
            int32_t v = row[c];
            if (v < 0) {
                row[c] = frow[c];
            } else {
                fail[v] = frow[c];
                queue[qt++] = v;
            }
        }
    }
    /* rows renumbered so that the states where some phrase ends (report
     * >= 0) come last: the scan tests one compare (row >= out_row) */
    size_t nplain = 0, nrep = 0;
    for (size_t u = 0; u < nn; u++) nplain += p->out[u] < 0 && p->dict[u] < 0;
    for (size_t u = 0; u < nn; u++) {
        int rep = p->out[u] >= 0 || p->dict[u] >= 0;
        rank[u] = rep ? (uint32_t)(nplain + nrep++) : (uint32_t)(u - nrep);
    }
    /* report indexed by rank: the first node on the fail chain (itself
     * included) where a phrase ends; dict and out stay by node */
    for (size_t u = 0; u < nn; u++) {
        int32_t r = p->out[u] >= 0 ? (int32_t)u : p->dict[u];
        queue[rank[u]] = r;
    }
    memcpy(p->report, queue, nn * sizeof *p->report);
    for (size_t u = 0; u < nn; u++) {
        uint32_t *drow = p->delta + (size_t)rank[u] * ncls;
        const int32_t *row = go + u * ncls;
        for (size_t c = 0; c < ncls; c++) drow[c] = rank[row[c]] * (uint32_t)ncls;
    }
    p->ncls = ncls;
    p->out_row = (uint32_t)(nplain * ncls);
    free(p->nodes);
    p->nodes = NULL;
    p->built = 1;
    rc = NAHR_OK;
done:
    if (rc != NAHR_OK) { /* the trie stays; a later build starts over */
        free(p->report);
        free(p->dict);
        free(p->out);
        free(p->delta);
        p->report = p->dict = p->out = NULL;
        p->delta = NULL;
    }
    free(go);
    free(fail);
    free(queue);
    free(rank);
    return rc;
}

static int accept(const ac_phrase *ph, const char *s, size_t n, size_t end)
{
    size_t start = end - ph->len;
    int lb = start == 0 || s[start - 1] == ' ';
    int rb = end == n || s[end] == ' ';
    switch (ph->mode) {
    case CM_EXACT: return start == 0 && end == n;
    case CM_START: return start == 0;
    default: return lb && rb;
    }
}

/* Steps the automaton from *row over s[i..n) (i < n) and stops after the first
 * byte that leads to a state where some phrase ends; returns the offset
 * after that byte, or n. Kept apart from the match handling so that the
 * loop holds its few values in registers. */
static inline size_t ac_scan(const clean_phrases *p, const unsigned char *s, size_t i, size_t n, size_t *row)
{
    const uint32_t *delta = p->delta;
    const uint16_t *cls = p->cls;
    const size_t out_row = p->out_row;
    const unsigned char *q = s + i, *end = s + n, *end1 = end - 1; /* i < n */
    size_t r = *row;
    /* two bytes a step (one loop test for both) */
    while (q < end1) {
        r = delta[r + cls[q[0]]];
        if (r >= out_row) {
            q++;
            goto stop;
        }
        r = delta[r + cls[q[1]]];
        q += 2;
        if (r >= out_row) goto stop;
    }
    if (q < end) r = delta[r + cls[*q++]];
stop:
    *row = r;
    return (size_t)(q - s);
}

size_t clean_phrases_find(const clean_phrases *p, const char *s, size_t n, clean_match *out, size_t max)
{
    if (!p->built) return 0;
    size_t found = 0, row = 0; /* row: the state's row in delta */
    for (size_t end = 0; end < n;) {
        end = ac_scan(p, (const unsigned char *)s, end, n, &row);
        if (row < p->out_row) break; /* the end of the line, no phrase ends there */
        for (int32_t v = p->report[row / p->ncls]; v >= 0; v = p->dict[v]) {
            for (int32_t k = p->out[v]; k >= 0; k = p->ph[k].next_same) {
                const ac_phrase *ph = &p->ph[k];
                if (!accept(ph, s, n, end)) continue;
                if (found < max) {
                    out[found].family = ph->family;
                    out[found].mode = ph->mode;
                    out[found].start = end - ph->len;
                    out[found].end = end;
                }
                found++;
            }
        }
    }
    return found;
}

int clean_phrases_load_dir(clean_phrases *p, const char *dir, char *err, size_t errsz)
{
    int loaded = 0;
    for (int fam = 1; fam < CR_NREASONS; fam++) {
        const char *name = fam == CR_BYLINE ? "byline" : fam < CR_NFAMILIES ? clean_reason_name(fam) : NULL;
        if (!name) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.txt", dir, name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        fclose(f);
        int rc = clean_phrases_load(p, fam, path, err, errsz);
        if (rc) return rc;
        loaded++;
    }
    if (!loaded) {
        snprintf(err, errsz, "no phrase files (<family>.txt) in '%s'", dir);
        return NAHR_ENOENT;
    }
    return loaded;
}
