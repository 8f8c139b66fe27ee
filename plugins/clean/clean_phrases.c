/* clean_phrases.c - boilerplate phrase families matched on the matching form
 * of the text (nahr_ar_normalize + punctuation folded to spaces), so "اقرأ
 * أيضاً:" and "اقرا ايضا" are the same phrase. Built once at init, read-only
 * afterwards (shared by all workers).
 *
 * Every mode matches at a word's start only: "=" and "^" at the line's
 * start, "~" and "*" at any word's start as whole words. So a line is read
 * as words, not bytes: the phrases' trie is walked from the line's start
 * (every mode) and from each later word that is the first word of some "~"
 * or "*" phrase (a 64 Kbit filter of those first words, keyed by the word's
 * length and first and last four bytes, tells the others apart in one
 * test); the words are found 16 bytes a step. */
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
    /* first words of the "~" and "*" phrases: bit word_key() */
    uint8_t first_word[65536 / 8];
    uint32_t head_mask[4]; /* the first k bytes of a 32-bit load, in memory order */
    /* After build, the trie in compact form: bytes that occur in no phrase
     * share class 0 (no edge), so a row has one entry per byte class (~70)
     * instead of 256. */
    uint8_t used[256]; /* byte occurs in some phrase */
    uint16_t cls[256]; /* byte -> class */
    size_t ncls;
    uint32_t *child;   /* nnodes * ncls: the child node, 0 = none (the root is no child) */
    int32_t *out;      /* by node: first phrase ending there, -1 */
};

/* The filter key of a word w[0..len): its length, first four and last
 * four bytes (the first four letters of most Arabic words are "ال" and one
 * more: the end tells more), each as one native 32-bit load (memory
 * order); a word shorter than four bytes gives its bytes and zeros as head,
 * 0 as tail. */
static inline unsigned word_key(uint32_t head, uint32_t tail, size_t len)
{
    uint32_t x = (head * 0x9E3779B1u) ^ (tail * 0x85EBCA77u) ^ (uint32_t)len;
    return (x ^ x >> 16) & 0xFFFFu;
}

static inline unsigned word_key_of(const unsigned char *w, size_t len)
{
    uint32_t head = 0, tail = 0;
    memcpy(&head, w, len < 4 ? len : 4);
    if (len >= 4) memcpy(&tail, w + len - 4, 4);
    return word_key(head, tail, len);
}

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
    free(p->child);
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
    if (mode == CM_SHORT || mode == CM_ANY) {
        const char *sp = memchr(norm, ' ', m);
        size_t fl = sp ? (size_t)(sp - norm) : m;
        unsigned key = word_key_of((const unsigned char *)norm, fl);
        p->first_word[key >> 3] |= (uint8_t)(1u << (key & 7));
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
    /* byte classes: bytes of no phrase share class 0, which has no edge */
    size_t ncls = 1, nn = p->nnodes;
    for (int c = 0; c < 256; c++)
        p->cls[c] = p->used[c] ? (uint16_t)ncls++ : 0;
    if (nn * ncls > UINT32_MAX) return NAHR_ELIMIT;
    p->child = malloc(nn * ncls * sizeof *p->child);
    p->out = malloc(nn * sizeof *p->out);
    if (!p->child || !p->out) { /* the trie stays; a later build starts over */
        free(p->child);
        free(p->out);
        p->child = NULL;
        p->out = NULL;
        return NAHR_ENOMEM;
    }
    const ac_node *nd = p->nodes;
    unsigned char bytes[256]; /* the byte of each class from 1 on */
    for (int c = 0; c < 256; c++)
        if (p->used[c]) bytes[p->cls[c]] = (unsigned char)c;
    for (size_t u = 0; u < nn; u++) {
        uint32_t *row = p->child + u * ncls;
        row[0] = 0;
        for (size_t c = 1; c < ncls; c++) row[c] = nd[u].next[bytes[c]] < 0 ? 0 : (uint32_t)nd[u].next[bytes[c]];
        p->out[u] = nd[u].out;
    }
    for (size_t k = 0; k < 4; k++) {
        p->head_mask[k] = 0;
        memset(&p->head_mask[k], 0xFF, k);
    }
    p->ncls = ncls;
    free(p->nodes);
    p->nodes = NULL;
    p->built = 1;
    return NAHR_OK;
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

/* Puts a match into out[0..max), which stays ordered by end, then start
 * (the order of a left-to-right automaton: at one end the longer match
 * first), a match after those of the same end and start (the phrases of
 * one node in their list's order); past max the last ones drop. Returns
 * found + 1. */
static size_t match_put(clean_match *out, size_t max, size_t found, const ac_phrase *ph, size_t start, size_t end)
{
    size_t have = found < max ? found : max, j = have;
    while (j > 0 && (out[j - 1].end > end || (out[j - 1].end == end && out[j - 1].start > start))) j--;
    if (j < max) {
        size_t keep = have < max ? have : max - 1; /* entries j..keep move one up */
        memmove(out + j + 1, out + j, (keep - j) * sizeof *out);
        out[j] = (clean_match){ph->family, ph->mode, start, end};
    }
    return found + 1;
}

/* Walks the trie over s[start..n) and puts every phrase that ends on the way
 * and accept() takes. */
static size_t trie_walk(const clean_phrases *p, const char *s, size_t n, size_t start, clean_match *out,
                        size_t max, size_t found)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t node = 0;
    for (size_t i = start; i < n; i++) {
        unsigned c = p->cls[u[i]];
        if (!c || !(node = p->child[(size_t)node * p->ncls + c])) break;
        for (int32_t k = p->out[node]; k >= 0; k = p->ph[k].next_same)
            if (accept(&p->ph[k], s, n, i + 1)) found = match_put(out, max, found, &p->ph[k], start, i + 1);
    }
    return found;
}

/* The word s[ws..we) (ws > 0): walked when the filter says that a "~" or
 * "*" phrase may start with it. */
static inline size_t word_try(const clean_phrases *p, const char *s, size_t n, size_t ws, size_t we,
                              clean_match *out, size_t max, size_t found)
{
    const unsigned char *w = (const unsigned char *)s + ws;
    size_t len = we - ws;
    uint32_t head = 0, tail = 0;
    if (len >= 4) {
        memcpy(&head, w, 4);
        memcpy(&tail, w + len - 4, 4);
    } else if (ws + 4 <= n) { /* one load, the bytes past the word cleared */
        memcpy(&head, w, 4);
        head &= p->head_mask[len];
    } else {
        memcpy(&head, w, len);
    }
    unsigned key = word_key(head, tail, len);
    if (!((p->first_word[key >> 3] >> (key & 7)) & 1)) return found;
    return trie_walk(p, s, n, ws, out, max, found);
}

size_t clean_phrases_find(const clean_phrases *p, const char *s, size_t n, clean_match *out, size_t max)
{
    if (!p->built || n == 0) return 0;
    const unsigned char *u = (const unsigned char *)s;
    size_t found = trie_walk(p, s, n, 0, out, max, 0); /* the line's start: every mode */
    size_t ws = 0, i = 0; /* ws: the current word's start */
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(u + i)),
                                                                _mm_set1_epi8(' ')));
        while (m) {
            size_t q = i + (size_t)__builtin_ctz(m);
            m &= m - 1;
            if (ws && q > ws) found = word_try(p, s, n, ws, q, out, max, found);
            ws = q + 1;
        }
    }
#endif
    for (; i < n; i++)
        if (u[i] == ' ') {
            if (ws && i > ws) found = word_try(p, s, n, ws, i, out, max, found);
            ws = i + 1;
        }
    if (ws && ws < n) found = word_try(p, s, n, ws, n, out, max, found);
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
