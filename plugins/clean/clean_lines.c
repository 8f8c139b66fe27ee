/* clean_lines.c - line classification: which lines of a scraped article are
 * the story, which are chrome, and what metadata hides in the chrome.
 *
 * Signals, in the order they are applied:
 *  1. phrase families (data files, a trie on the matching form), each
 *     with a mode: whole line, line start, short line, anywhere;
 *  2. shape: URL share, lines without letters, CSS-class-like slugs;
 *  3. story paragraphs: long lines (min_story_words) that end a sentence, or
 *     very long lines. They anchor the head zone (before the first) and the
 *     tail zone (after the last). A story paragraph is never removed by a
 *     "short line" phrase, so the same words inside a sentence are safe;
 *  4. head zone: dateline -> date, headline -> title, short menu words,
 *     truncated copies of the headline ("…"), bylines -> source;
 *  5. tail zone: a "related / comments / you may like" marker after the last
 *     story paragraph drops everything after it; a short last line is the
 *     site signature -> source;
 *  6. embeds: "posted by X on DATE" lines and the truncated caption above.
 */
#include "clean.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <stdio.h>

static const char *const reason_names[CR_NREASONS] = {
    "keep", "nav", "share", "subscribe", "cookies", "comments", "related", "copyright", "ads",
    "embed", "promo", "caption", "breadcrumb", "menu", "truncated_copy", "title", "date", "source", "byline",
    "tail", "url", "junk", "embed_caption", "repeat", "html_chrome",
};

const char *clean_reason_name(int r) { return r >= 0 && r < CR_NREASONS ? reason_names[r] : "?"; }

int clean_family_from_name(const char *name, size_t n)
{
    for (int r = 1; r < CR_NFAMILIES; r++)
        if (strlen(reason_names[r]) == n && memcmp(reason_names[r], name, n) == 0) return r;
    if (n == 6 && memcmp(name, "byline", 6) == 0) return CR_BYLINE;
    return 0;
}

int clean_report_removed(nahr_doc *doc, const char *line, size_t n, int reason)
{
    nahr_value *arr = nahr_doc_field(doc, "removed");
    if (!arr) {
        arr = nahr_value_array(doc);
        if (!arr || nahr_doc_set_field(doc, "removed", arr)) return NAHR_ENOMEM;
    }
    nahr_value *o = nahr_value_object(doc);
    if (!o) return NAHR_ENOMEM;
    if (n > 2000) n = 2000; /* enough to audit; keep on a character boundary */
    while (n && ((unsigned char)line[n] & 0xC0) == 0x80) n--;
    nahr_value *l = nahr_value_string(doc, line, n);
    nahr_value *r = nahr_value_cstr(doc, clean_reason_name(reason));
    if (!l || !r || nahr_value_put(doc, o, "line", l) || nahr_value_put(doc, o, "reason", r))
        return NAHR_ENOMEM;
    return nahr_value_push(doc, arr, o);
}

typedef struct {
    const char *s;
    size_t n;
    char *norm;     /* matching form, NULL for very long lines */
    size_t nn;
    int words;      /* tokens holding a letter */
    size_t url_bytes;
    unsigned para;  /* a blank line precedes it */
    unsigned ends_sentence;
    unsigned ends_ellipsis;
    unsigned story;
    int reason;
    int soft;       /* family of a ~phrase found in a story-like line */
    unsigned crumb; /* breadcrumb shape (acted on in the head zone only) */
    unsigned digits;/* holds a digit */
} cline;

/* Lines longer than this are story paragraphs or garbage: no phrase search
 * (a cookie banner of 001's kind is ~450 bytes). */
#define MAX_NORM_LINE 800
/* Lines longer than this are never breadcrumbs. */
#define CRUMB_MAX_LINE 400

static int is_terminal(int32_t cp) { return cp == '.' || cp == '!' || cp == '?' || cp == 0x061F || cp == 0x2026 || cp == 0x06D4; }
static int is_closer(int32_t cp)
{
    return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201D || cp == 0x2019 ||
           cp == 0xBB || cp == 0x201C || cp == 0xAB;
}

/* ar_letter_pair[k] is 1 when the two bytes read as k by one native 16-bit
 * load are an Arabic letter U+0621..U+064A (D8 A1..BF, D9 80..8A): one load
 * and one test per letter in features(). Built once per process. */
static uint8_t ar_letter_pair[65536];
static pthread_once_t ar_letter_once = PTHREAD_ONCE_INIT;

static void ar_letter_init(void)
{
    for (unsigned cp = 0x0621; cp <= 0x064A; cp++) {
        const unsigned char b[2] = {(unsigned char)(0xC0 | cp >> 6), (unsigned char)(0x80 | (cp & 0x3F))};
        ar_letter_pair[clean_pair_at(b, 0)] = 1;
    }
}

/* 1 when s[i..] (i + 1 < n) starts with an Arabic letter U+0621..U+064A. */
static inline int ar_letter_at(const unsigned char *s, size_t i) { return ar_letter_pair[clean_pair_at(s, i)]; }

/* The end of token t[0..tl): counts it as a word when it holds a letter,
 * and its URL bytes. */
static inline void token_end(cline *L, const char *t, size_t tl, int has_letter, int has_colon)
{
    L->words += has_letter;
    if (tl > 4 && (*t == 'h' || *t == 'w') &&
        ((tl > 7 && (memcmp(t, "http://", 7) == 0 || memcmp(t, "https://", 8) == 0)) || memcmp(t, "www.", 4) == 0)) {
        L->url_bytes += tl;
    } else if (tl > 10 && has_colon) {
        const char *h = memmem(t, tl, "http", 4);
        if (h && (size_t)(t + tl - h) > 8 && memmem(h, (size_t)(t + tl - h), "://", 3))
            L->url_bytes += (size_t)(t + tl - h);
    }
}

#if defined(__SSE2__)
/* The run of Arabic letters (as ar_letter_at() reads them) at the start of
 * s[0..16), in bytes (reads s[0..17)); *spaces gets the spaces of the
 * block (bit k = byte k). */
static inline size_t ar_letter_run(const unsigned char *s, unsigned *spaces)
{
    __m128i a = _mm_loadu_si128((const __m128i *)s), b = _mm_loadu_si128((const __m128i *)(s + 1));
    __m128i lead = _mm_or_si128(_mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD8)), clean_sse_in(b, 0xA1, 0xBF)),
                                _mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD9)), clean_sse_in(b, 0x80, 0x8A)));
    *spaces = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, _mm_set1_epi8(' ')));
    return clean_sse_take((unsigned)_mm_movemask_epi8(_mm_or_si128(lead, _mm_slli_si128(lead, 1))),
                          (unsigned)_mm_movemask_epi8(lead));
}

/* Population count of a 32-bit word (x86-64's baseline has no POPCNT:
 * __builtin_popcount() would be a libgcc call). */
static inline unsigned popcount32(uint32_t v)
{
    v -= (v >> 1) & 0x55555555u;
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    return (v * 0x01010101u) >> 24;
}

/* The 32 bytes at s (reads s[0..33)) as masks, bit k = byte k, for the
 * word count of features(): returns the bytes that are neither a space
 * (*sp gets those) nor part of a two-byte character of U+0600..U+06FF
 * other than U+0660..U+066F (the Arabic-Indic digits, led by D9 and
 * A0..AF) and U+06C0..U+06FF (led by DB, where the Persian digits are).
 * Each such character is a letter for features() (U+0621..U+064A through
 * ar_letter_at(), the rest through the range 0xC0..0x1FFF), and none is a
 * digit, a colon or the start of a URL. A lead in byte 31 is taken with its
 * second byte, past the block. */
static inline uint32_t other_bytes32(const unsigned char *s, uint32_t *sp)
{
    uint32_t ar = 0, spaces = 0;
    for (int h = 0; h < 2; h++) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(s + 16 * h)),
                      b = _mm_loadu_si128((const __m128i *)(s + 16 * h + 1));
        const __m128i lead = _mm_cmpeq_epi8(_mm_and_si128(a, _mm_set1_epi8((char)0xFC)), _mm_set1_epi8((char)0xD8));
        const __m128i dig = _mm_or_si128(
            _mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xDB)),
            _mm_and_si128(_mm_cmpeq_epi8(a, _mm_set1_epi8((char)0xD9)),
                          _mm_cmpeq_epi8(_mm_and_si128(b, _mm_set1_epi8((char)0xF0)), _mm_set1_epi8((char)0xA0))));
        ar |= (uint32_t)_mm_movemask_epi8(_mm_andnot_si128(dig, lead)) << (16 * h);
        spaces |= (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, _mm_set1_epi8(' '))) << (16 * h);
    }
    *sp = spaces;
    return ~(ar | ar << 1 | spaces);
}
#endif

/* The line's words (tokens holding a letter), URL bytes, digits and end.
 * cap: once more than cap words are counted, the rest of the line is only
 * read for URLs, and only when it holds an 'h' or a 'w' (every URL token
 * does, see token_end()): words is then some count above cap, and digits
 * may miss the digits of the part not read. The classification tells no
 * count above its largest threshold apart (the cap of clean_lines_run()),
 * and reads digits only for lines of at most 4 words. */
static void features(cline *L, int cap)
{
    const char *s = L->s;
    const unsigned char *u = (const unsigned char *)s;
    size_t n = L->n, i = 0, last = n ? n - 1 : 0; /* last: a pair starts before it */
    /* tokens are separated by ' ' only (0x20 is never inside a character) */
    while (i < n) {
        if (u[i] == ' ') {
            i++;
            continue;
        }
        if (L->words > cap) {
            /* at a token's start: the tokens left hold no URL without an
             * 'h' or a 'w' (memchr reads 32 bytes a step) */
            if (!memchr(u + i, 'h', n - i) && !memchr(u + i, 'w', n - i)) break;
            cap = INT_MAX; /* they may: read them all */
        }
#if defined(__SSE2__)
        /* the words of Arabic text between spaces (most of a line), 32
         * bytes a step: every token that ends at a space before the first
         * other byte of the block is a word (token_end() would only count
         * it) */
        if (i + 33 <= n) {
            uint32_t sp, other = other_bytes32(u + i, &sp);
            uint32_t in = sp & (other ? (other & (0u - other)) - 1 : 0xFFFFFFFFu); /* spaces before it */
            if (in) {
                unsigned at = 31u - (unsigned)__builtin_clz(in); /* the last of them */
                /* token starts: a non-space after a space, or byte 0 (i is one) */
                L->words += (int)popcount32(~sp & ((sp << 1) | 1u) & ((1u << at) - 1u));
                i += at + 1;
                continue;
            }
        }
#endif
        size_t tok_start = i;
        int has_letter = 0, has_colon = 0;
#if defined(__SSE2__)
        /* the token's first letters 16 bytes at a time */
        if (i + 17 <= n) {
            unsigned spaces;
            size_t run = ar_letter_run(u + i, &spaces);
            if (run) {
                i += run;
                if ((spaces >> run) & 1) { /* a word of letters: token_end() would only count it */
                    L->words++;
                    continue;
                }
                has_letter = 1;
            }
        }
#endif
        for (;;) {
            if (i < last && ar_letter_at(u, i)) {
                /* a run of Arabic letters: most of the text */
                do i += 2;
                while (i < last && ar_letter_at(u, i));
                has_letter = 1;
            }
            if (i >= n || u[i] == ' ') break;
            int32_t cp = clean_dec(s, &i);
            if (cp == ':') has_colon = 1;
            if ((cp >= '0' && cp <= '9') || (cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9)) L->digits = 1;
            /* a letter (U+0621..U+064A never gets here: the run above) */
            if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= 0x0671 && cp <= 0x06D3) ||
                (cp >= 0x06FA && cp <= 0x06FF) || (cp >= 0xC0 && cp < 0x2000 && cp != 0xD7 && cp != 0xF7))
                has_letter = 1;
        }
        token_end(L, s + tok_start, i - tok_start, has_letter, has_colon);
    }
    /* last meaningful character */
    size_t e = n;
    while (e > 0) {
        size_t b = e - 1;
        while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        size_t j = b;
        int32_t cp = nahr_utf8_next(s, n, &j);
        if (is_closer(cp) || cp == ' ') {
            e = b;
            continue;
        }
        L->ends_sentence = is_terminal(cp);
        L->ends_ellipsis = cp == 0x2026 || (cp == '.' && b >= 2 && s[b - 1] == '.' && s[b - 2] == '.');
        break;
    }
}

static int has_sep_qualifier(const cline *L)
{
    /* "name – qualifier": a dash, colon or bar inside a short line */
    return memmem(L->s, L->n, "\xE2\x80\x93", 3) || memmem(L->s, L->n, "\xE2\x80\x94", 3) ||
           memchr(L->s, '-', L->n) || memchr(L->s, ':', L->n) || memchr(L->s, '|', L->n);
}

/* Site name from a signature or byline line: the text before a dash/colon
 * when a qualifier follows, else the whole line. Written to buf. */
static void signature_name(const cline *L, char *buf, size_t bufsz)
{
    static const char *const seps[] = {" \xE2\x80\x93 ", " \xE2\x80\x94 ", " - ", " | ", "\xE2\x80\x93", " : "};
    size_t cut = L->n;
    for (size_t k = 0; k < sizeof seps / sizeof *seps; k++) {
        const char *p = memmem(L->s, L->n, seps[k], strlen(seps[k]));
        if (p && (size_t)(p - L->s) < cut) cut = (size_t)(p - L->s);
    }
    while (cut && L->s[cut - 1] == ' ') cut--;
    if (cut == 0) cut = L->n;
    if (cut >= bufsz) cut = bufsz - 1;
    while (cut && ((unsigned char)L->s[cut] & 0xC0) == 0x80) cut--;
    memcpy(buf, L->s, cut);
    buf[cut] = '\0';
}

/* Breadcrumb separators in s[0..n): each of », ›, " > ", " / ", " | " and
 * "|" counted apart, left to right without overlapping itself (so " | "
 * counts twice); » not when the line holds « (it closes a quotation then).
 * quick: a pattern is looked for (memmem, ~400 instructions a call on such
 * a line) only when memchr finds a byte every occurrence holds, which is
 * rare; the test compares both ways. */
static int crumb_seps(const char *s, size_t n, int quick)
{
    static const struct {
        const char *s;
        size_t n;
        unsigned char key;
    } bc[] = {{"\xC2\xBB", 2, 0xC2}, {"\xE2\x80\xBA", 3, 0xE2}, {" > ", 3, '>'},
              {" / ", 3, '/'}, {" | ", 3, '|'}, {"|", 1, '|'}};
    int seps = 0;
    int guillemets = (!quick || memchr(s, 0xC2, n)) && memmem(s, n, "\xC2\xAB", 2) != NULL;
    for (size_t b = guillemets ? 1 : 0; b < sizeof bc / sizeof *bc; b++) {
        if (quick && !memchr(s, bc[b].key, n)) continue;
        for (const char *q = s; (q = memmem(q, (size_t)(s + n - q), bc[b].s, bc[b].n)) != NULL; q += bc[b].n) seps++;
    }
    return seps;
}

static int is_slug(const cline *L)
{
    /* "news-details", "spot_img": one Latin token of [a-z0-9_-] with - or _ */
    if (L->n == 0 || L->n > 64 || memchr(L->s, ' ', L->n)) return 0;
    int sep = 0;
    for (size_t i = 0; i < L->n; i++) {
        char c = L->s[i];
        if (c == '-' || c == '_') sep = 1;
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return 0;
    }
    return sep;
}

/* "كتب: فلان", "بقلم فلان", "By Name": an author byline; returns the byte
 * offset of the name in the line, or 0 when the line is not of that shape. */
static size_t author_offset(const cline *c)
{
    static const char *const lead[] = {"كتب ", "كتبت ", "بقلم ", "اعداد ", "تحرير ", "by ", "written by "};
    if (!c->norm) return 0;
    for (size_t k = 0; k < sizeof lead / sizeof *lead; k++) {
        size_t l = strlen(lead[k]);
        if (c->nn > l && memcmp(c->norm, lead[k], l) == 0) {
            /* skip the lead word(s) and separators in the original line */
            size_t words = 1 + (k == 6), i = 0;
            while (i < c->n && words) {
                while (i < c->n && c->s[i] != ' ' && c->s[i] != ':') i++;
                while (i < c->n && (c->s[i] == ' ' || c->s[i] == ':')) i++;
                words--;
            }
            return i < c->n ? i : 0;
        }
    }
    return 0;
}

static int set_byline(nahr_doc *doc, const clean_config *cfg, const cline *c, int *source_set)
{
    size_t a = author_offset(c);
    if (a) {
        if (!nahr_doc_get(doc, "author")) {
            char nm[256];
            size_t l = c->n - a < sizeof nm - 1 ? c->n - a : sizeof nm - 1;
            while (l && ((unsigned char)c->s[a + l] & 0xC0) == 0x80) l--;
            memcpy(nm, c->s + a, l);
            nm[l] = '\0';
            if (nahr_doc_set(doc, "author", nm)) return NAHR_ENOMEM;
        }
        return NAHR_OK;
    }
    if (cfg->recover_source && !*source_set && has_sep_qualifier(c)) {
        char nm[256];
        signature_name(c, nm, sizeof nm);
        if (nm[0] && nahr_doc_set(doc, "source", nm)) return NAHR_ENOMEM;
        *source_set = 1;
    }
    return NAHR_OK;
}

/* 1 when b (a line ending with an ellipsis) is a truncated copy of title t. */
static int truncated_copy_of(const cline *b, const char *t, size_t tn)
{
    if (!b->norm || !t || tn == 0 || b->nn < 12) return 0;
    /* the last 24 bytes before the ellipsis must appear in the title */
    size_t take = b->nn < 24 ? b->nn : 24;
    const char *tail = b->norm + b->nn - take;
    while (take && ((unsigned char)*tail & 0xC0) == 0x80) tail++, take--;
    return take >= 8 && memmem(t, tn, tail, take) != NULL;
}

int clean_lines_run(const clean_config *cfg, nahr_doc *doc, const char *text, size_t n, nahr_buf *out)
{
    nahr_buf_reset(out);
    pthread_once(&ar_letter_once, ar_letter_init); /* for features() */
    size_t nl = 1;
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + n - p))) != NULL; p++) nl++;
    cline *L = nahr_doc_alloc(doc, nl * sizeof *L);
    if (!L) return NAHR_ENOMEM;
    size_t cnt = 0;
    unsigned blank = 0;
    for (size_t i = 0; i <= n;) {
        const char *e = memchr(text + i, '\n', n - i);
        size_t le = e ? (size_t)(e - text) : n;
        if (le == i) {
            blank = 1;
        } else {
            cline *c = &L[cnt++];
            memset(c, 0, sizeof *c);
            c->s = text + i;
            c->n = le - i;
            c->para = blank;
            blank = 0;
        }
        if (!e) break;
        i = le + 1;
    }
    clean_match m[16];
    /* the largest word count the classification below tells apart from a
     * larger one: min_story_words twice, short_line_words, the 5 of bylines
     * and story lines of the second pass. The headline's "at most 40 words"
     * needs no more: a line without a reason and with 2 * min_story_words
     * words or more is a story paragraph of the first pass, and the headline
     * is looked for above the first one. Lines up to CRUMB_MAX_LINE bytes are
     * counted whole (the breadcrumb shape compares the words with the
     * separators). */
    int cap = 5;
    if (2 * cfg->min_story_words > cap) cap = 2 * cfg->min_story_words;
    if (cfg->short_line_words > cap) cap = cfg->short_line_words;
    /* 1-2: phrases and shape */
    for (size_t k = 0; k < cnt; k++) {
        cline *c = &L[k];
        features(c, c->n > CRUMB_MAX_LINE && !cfg->exact_words ? cap : INT_MAX);
        if (c->n <= MAX_NORM_LINE) {
            c->norm = nahr_doc_alloc(doc, c->n + 1);
            if (!c->norm) return NAHR_ENOMEM;
            c->nn = clean_match_norm(c->s, c->n, c->norm);
        }
        if (!cfg->remove_boilerplate) continue;
        if (c->words == 0) { /* no letter: every letter is in a token, which makes a word */
            c->reason = CR_JUNK;
            continue;
        }
        if (is_slug(c)) {
            c->reason = CR_JUNK;
            continue;
        }
        if (c->url_bytes && (double)c->url_bytes > cfg->max_url_share * (double)c->n &&
            !(c->words >= cfg->min_story_words && c->ends_sentence)) {
            c->reason = CR_URL;
            continue;
        }
        if (!c->norm) continue;
        size_t nm = clean_phrases_find(cfg->phrases, c->norm, c->nn, m, 16);
        if (nm > 16) nm = 16;
        /* a complete sentence (a truncated "…" line is not one) */
        int storyish = c->words >= cfg->min_story_words && c->ends_sentence && !c->ends_ellipsis;
        for (size_t j = 0; j < nm && !c->reason; j++) {
            int fam = (int)m[j].family;
            switch (m[j].mode) {
            case CM_START:
                if (!storyish) c->reason = fam == CR_NAV ? CR_BREADCRUMB : fam;
                break;
            case CM_EXACT:
            case CM_ANY:
                c->reason = fam;
                break;
            case CM_SHORT:
                if (fam == CR_BYLINE || fam == CR_CAPTION) {
                    /* qualifiers such as "خاص", "تصوير" are common words: only
                     * a line of at most 5 words is a byline or a photo credit */
                    if (c->words <= 5 && !c->ends_sentence) c->reason = fam;
                } else if (c->words <= cfg->short_line_words && !storyish) {
                    c->reason = fam;
                } else if (!c->soft) {
                    c->soft = fam;
                }
                break;
            default: break;
            }
        }
        if (!c->reason && c->n <= CRUMB_MAX_LINE && !c->ends_sentence) {
            /* "الرئيسية » أخبار » سياسة", "أخبار مصر | فيديو | رياضة": short
             * segments (at most 3 words each) between separators */
            int seps = crumb_seps(c->s, c->n, 1);
            if (seps >= 2 && c->words <= 3 * (seps + 1)) c->crumb = 1;
        }
    }
    /* a long line holding a ~phrase goes with its block: when the line just
     * before or after was removed for the same family (newsletter boxes,
     * cookie banners spread over several lines) */
    for (int dir = 0; dir < 2; dir++)
        for (size_t t = 0; t < cnt; t++) {
            size_t k = dir ? cnt - 1 - t : t;
            cline *c = &L[k];
            if (!c->soft || c->reason) continue;
            if ((k > 0 && L[k - 1].reason == c->soft) || (k + 1 < cnt && L[k + 1].reason == c->soft)) c->reason = c->soft;
        }
    /* 3: story paragraphs among the lines still unclassified */
    long first = -1, last = -1;
    int pass = 0;
    for (; pass < 3 && first < 0; pass++) {
        for (size_t k = 0; k < cnt; k++) {
            cline *c = &L[k];
            if (c->reason) continue;
            int s = pass == 0 ? (c->words >= cfg->min_story_words && (c->ends_sentence || c->words >= 2 * cfg->min_story_words))
                  : pass == 1 ? c->words >= 5
                              : c->words >= 1;
            if (s) {
                c->story = 1;
                if (first < 0) first = (long)k;
                last = (long)k;
            }
        }
    }
    if (first < 0) {
        /* nothing but boilerplate */
        if (cfg->keep_removed)
            for (size_t k = 0; k < cnt; k++)
                if (clean_report_removed(doc, L[k].s, L[k].n, L[k].reason ? L[k].reason : CR_JUNK)) return NAHR_ENOMEM;
        return NAHR_OK;
    }
    /* inside the story: a byline qualifier ("خاص", "كتب") in a short line is a
     * subhead, and a line of figures is content */
    for (long k = first + 1; k < last; k++)
        if (L[k].reason == CR_BYLINE || (L[k].reason == CR_JUNK && L[k].digits)) L[k].reason = CR_KEEP;
    int strong_story = pass == 1; /* found by the first (strict) rule */
    const char *have_title = nahr_doc_get(doc, "title");
    char *tnorm = NULL;
    size_t tnn = 0;
    if (have_title && *have_title) {
        size_t tl = strlen(have_title);
        if (tl > MAX_NORM_LINE) tl = MAX_NORM_LINE;
        tnorm = nahr_doc_alloc(doc, tl + 1);
        if (!tnorm) return NAHR_ENOMEM;
        tnn = clean_match_norm(have_title, tl, tnorm);
    }
    int date_set = nahr_doc_get(doc, "date") != NULL;
    int source_set = nahr_doc_get(doc, "source") != NULL;
    char iso[11];
    int cov;
    if (cfg->remove_boilerplate) {
        /* 4: head zone */
        long title_idx = -1;
        if (tnorm) {
            for (long k = 0; k < first; k++)
                if (!L[k].reason && L[k].norm && L[k].nn == tnn && memcmp(L[k].norm, tnorm, tnn) == 0) {
                    L[k].reason = CR_TITLE;
                    title_idx = k;
                }
            /* the headline may also open the text as the first "story" line */
            if (strong_story && L[first].norm && L[first].nn == tnn && memcmp(L[first].norm, tnorm, tnn) == 0 &&
                !L[first].ends_sentence) {
                L[first].reason = CR_TITLE;
                L[first].story = 0;
                title_idx = first;
            }
        }
        for (long k = 0; k < first; k++) {
            cline *c = &L[k];
            if (c->reason == CR_BYLINE || c->reason) continue;
            if (clean_date_parse(c->s, c->n, iso, &cov) && cov >= 70) {
                c->reason = CR_DATE;
                if (cfg->recover_date && !date_set) {
                    if (nahr_doc_set(doc, "date", iso)) return NAHR_ENOMEM;
                    date_set = 1;
                }
            }
        }
        if (title_idx < 0 && !tnorm) {
            for (long k = first - 1; k >= 0; k--) {
                cline *c = &L[k];
                if (c->reason || c->words < 3 || c->words > 40 || c->url_bytes) continue;
                if (c->ends_sentence && !c->ends_ellipsis && c->s[c->n - 1] == '.') continue;
                if (c->ends_ellipsis) continue;
                title_idx = k;
                break;
            }
            if (title_idx >= 0) {
                cline *c = &L[title_idx];
                if (cfg->recover_title) {
                    char *t = nahr_doc_strndup(doc, c->s, c->n);
                    if (!t || nahr_doc_set(doc, "title", t)) return NAHR_ENOMEM;
                }
                tnorm = c->norm;
                tnn = c->nn;
                if (!cfg->keep_title_in_text) c->reason = CR_TITLE;
            }
        }
        for (long k = 0; k < first; k++) {
            cline *c = &L[k];
            if (k == title_idx) continue;
            if (c->reason == CR_BYLINE) {
                if (set_byline(doc, cfg, c, &source_set)) return NAHR_ENOMEM;
                continue;
            }
            if (c->reason) continue;
            if (c->ends_ellipsis && truncated_copy_of(c, tnorm, tnn)) c->reason = CR_TRUNCATED_COPY;
            else if (c->crumb) c->reason = CR_BREADCRUMB;
            else if (k < title_idx && c->words <= 4 && !c->ends_sentence) c->reason = CR_MENU; /* above the headline */
        }
        /* 5: tail zone */
        long cut = -1;
        for (long k = first + 1; k < (long)cnt; k++) {
            if ((L[k].reason == CR_RELATED || L[k].reason == CR_COMMENTS) && L[k].words <= cfg->short_line_words) {
                int story_after = 0;
                for (long j = k + 1; j < (long)cnt; j++)
                    if (L[j].story) {
                        story_after = 1;
                        break;
                    }
                if (!story_after) {
                    cut = k;
                    break;
                }
            }
        }
        if (cut >= 0 && cfg->tail_cut)
            for (long k = cut + 1; k < (long)cnt; k++) {
                if (!L[k].reason) L[k].reason = CR_TAIL;
                L[k].story = 0;
            }
        long end = cut >= 0 ? cut : (long)cnt;
        long free_lines = 0;
        for (long k = last + 1; k < end; k++) free_lines += !L[k].reason && !(clean_date_parse(L[k].s, L[k].n, iso, &cov) && cov >= 70);
        for (long k = last + 1; k < end; k++) {
            cline *c = &L[k];
            if (c->reason == CR_BYLINE) {
                if (set_byline(doc, cfg, c, &source_set)) return NAHR_ENOMEM;
                continue;
            }
            if (c->reason) continue;
            if (clean_date_parse(c->s, c->n, iso, &cov) && cov >= 70) {
                c->reason = CR_DATE;
                if (cfg->recover_date && !date_set) {
                    if (nahr_doc_set(doc, "date", iso)) return NAHR_ENOMEM;
                    date_set = 1;
                }
            } else if (c->words <= 4 && !c->ends_sentence && c->n < 80 &&
                       !c->digits && (memchr(c->s, '|', c->n) || c->crumb)) {
                c->reason = CR_MENU; /* a list of tags or categories, not a name */
            } else if (free_lines == 1 && c->words <= 4 && !c->ends_sentence && !c->digits && c->n < 80 &&
                       last >= 0 && L[last].words >= cfg->min_story_words && !L[last].soft) {
                /* the last line, right after a story paragraph: a site signature
                 * (a short line after short lines is more likely a verse) */
                c->reason = CR_SOURCE;
                if (cfg->recover_source && !source_set) {
                    char nm[256];
                    signature_name(c, nm, sizeof nm);
                    if (nm[0] && nahr_doc_set(doc, "source", nm)) return NAHR_ENOMEM;
                    source_set = 1;
                }
            }
        }
        /* 6: embeds: the caption above a "posted by ... on DATE" line */
        for (size_t k = 1; k < cnt; k++) {
            if (L[k].reason != CR_EMBED) continue;
            long j = (long)k - 1;
            while (j >= 0 && L[j].reason) j--;
            if (j >= 0 && (L[j].ends_ellipsis || L[j].url_bytes)) L[j].reason = CR_EMBED_CAPTION;
            /* the embed's date is the post's, not the article's: only on request */
            if (cfg->date_from_embeds && cfg->recover_date && !date_set &&
                clean_date_parse(L[k].s, L[k].n, iso, &cov)) {
                if (nahr_doc_set(doc, "date", iso)) return NAHR_ENOMEM;
                date_set = 1;
            }
        }
    }
    /* output */
    int started = 0, para = 0;
    for (size_t k = 0; k < cnt; k++) {
        cline *c = &L[k];
        if (c->para) para = 1;
        if (c->reason) {
            if (cfg->keep_removed && clean_report_removed(doc, c->s, c->n, c->reason)) return NAHR_ENOMEM;
            continue;
        }
        if (started && nahr_buf_append(out, para ? "\n\n" : "\n", para ? 2 : 1)) return NAHR_ENOMEM;
        if (nahr_buf_append(out, c->s, c->n)) return NAHR_ENOMEM;
        started = 1;
        para = 0;
    }
    if (!out->data && nahr_buf_reserve(out, 1)) return NAHR_ENOMEM;
    return NAHR_OK;
}
