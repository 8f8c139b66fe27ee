/* clean.h - internals of the clean plugin (not a public header).
 *
 * The cleaner is split so that every part can be unit-tested without the
 * plugin loader:
 *   clean_unicode.c  UTF-8 repair, character filtering, NFC/NFKC (ICU)
 *   clean_phrases.c  phrase families (data files) as one trie, walked at word starts
 *   clean_date.c     Arabic/English date lines -> ISO 8601
 *   clean_lines.c    line classification, tail cut, metadata recovery
 *   clean_html.c     HTML -> text blocks (libxml2), title/date from <head>
 *   clean_plugin.c   the "clean" plugin (NAHR_THREAD_SHARED)
 *   repeats_plugin.c the "clean_repeats" plugin (NAHR_THREAD_ORDERED_PRE)
 *
 * Thread-safety: a clean_config is read-only after clean_config_load() and is
 * shared by all workers; a clean_scratch belongs to one thread.
 */
#ifndef NAHR_CLEAN_H
#define NAHR_CLEAN_H

#include <nahr/nahr.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The two bytes at s[i] as one native 16-bit load: the index of the
 * byte-pair tables of the fast paths (each table is built with the same
 * function, so byte order does not matter). The caller checks i + 1 < n. */
static inline unsigned clean_pair_at(const unsigned char *s, size_t i)
{
    uint16_t k;
    memcpy(&k, s + i, 2);
    return k;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* 16-byte steps of the fast paths (SSE2: the x86-64 baseline; other
 * targets keep the byte-pair steps alone). */

/* 0xFF in each byte of v within [lo, hi] (unsigned, hi - lo < 255), 0 in
 * the others: v - lo moved so that lo reads as -128, then one signed
 * compare against -128 + (hi - lo) + 1. */
static inline __m128i clean_sse_in(__m128i v, unsigned char lo, unsigned char hi)
{
    __m128i x = _mm_add_epi8(v, _mm_set1_epi8((char)(unsigned char)(0x80u - lo)));
    return _mm_cmplt_epi8(x, _mm_set1_epi8((char)(signed char)((int)(hi - lo) - 127)));
}

/* How many bytes of a 16-byte block a fast path takes at once: the bytes
 * before the first one not in good (bit k = byte k), less one when the
 * last taken byte starts a two-byte character (bit k of lead) whose second
 * byte is past the block. */
static inline size_t clean_sse_take(unsigned good, unsigned lead)
{
    size_t f = (size_t)__builtin_ctz(~good | 0x10000u);
    return f == 16 && (lead & 0x8000u) ? 15 : f;
}
#endif

/* Decodes one code point of text already known to be valid UTF-8 (the
 * cleaner's own output), advancing *i. */
static inline int32_t clean_dec(const char *str, size_t *i)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[*i];
    if (c < 0x80) { (*i)++; return (int32_t)c; }
    if (c < 0xE0) { int32_t cp = (int32_t)(((c & 0x1Fu) << 6) | (s[*i + 1] & 0x3Fu)); *i += 2; return cp; }
    if (c < 0xF0) {
        int32_t cp = (int32_t)(((c & 0x0Fu) << 12) | ((s[*i + 1] & 0x3Fu) << 6) | (s[*i + 2] & 0x3Fu));
        *i += 3;
        return cp;
    }
    int32_t cp = (int32_t)(((c & 0x07u) << 18) | ((s[*i + 1] & 0x3Fu) << 12) | ((s[*i + 2] & 0x3Fu) << 6) |
                           (s[*i + 3] & 0x3Fu));
    *i += 4;
    return cp;
}

/* ---- why a line was removed (exported with keep_removed) ---- */
typedef enum {
    CR_KEEP = 0,
    /* phrase families: order = data/phrases/<name>.txt, see clean_family_name() */
    CR_NAV, CR_SHARE, CR_SUBSCRIBE, CR_COOKIES, CR_COMMENTS, CR_RELATED,
    CR_COPYRIGHT, CR_ADS, CR_EMBED, CR_PROMO, CR_CAPTION,
    CR_NFAMILIES, /* number of phrase families + 1 */
    /* structural reasons */
    CR_BREADCRUMB = CR_NFAMILIES, CR_MENU, CR_TRUNCATED_COPY, CR_TITLE, CR_DATE,
    CR_SOURCE, CR_BYLINE, CR_TAIL, CR_URL, CR_JUNK, CR_EMBED_CAPTION, CR_REPEAT,
    CR_HTML_CHROME,
    CR_NREASONS
} clean_reason;

const char *clean_reason_name(int reason);
/* Family index (1..CR_NFAMILIES-1) of a data file name ("nav"), 0 if unknown. */
int clean_family_from_name(const char *name, size_t n);

/* ---- phrase trie ---- */
/* Match modes, written as a prefix in the data files:
 *   "=phrase"  the whole line is the phrase (ignoring punctuation/digits)
 *   "^phrase"  the line starts with the phrase (glued text allowed after it)
 *   "~phrase"  (default) the phrase, as whole words, in a SHORT line
 *   "*phrase"  the phrase, as whole words, in a line of any length */
enum { CM_EXACT = 1, CM_START = 2, CM_SHORT = 3, CM_ANY = 4 };

typedef struct clean_phrases clean_phrases;
typedef struct {
    uint32_t family;   /* clean_reason of the family */
    uint32_t mode;     /* CM_* */
    size_t start, end; /* bytes in the normalised line */
} clean_match;

clean_phrases *clean_phrases_new(void);
void clean_phrases_free(clean_phrases *p);
/* Adds one phrase (raw text, normalised here). Returns NAHR_OK or error. */
int clean_phrases_add(clean_phrases *p, int family, int mode, const char *s, size_t n);
/* Loads a data file: one phrase per line, '#' comments, mode prefix.
 * On error returns negative code and writes a message in err. */
int clean_phrases_load(clean_phrases *p, int family, const char *path, char *err, size_t errsz);
/* Freezes the trie (its compact form). No add after this. */
int clean_phrases_build(clean_phrases *p);
size_t clean_phrases_count(const clean_phrases *p);
/* Loads every <family>.txt present in dir. Returns the number of files
 * loaded (> 0) or a negative code with a message in err. */
int clean_phrases_load_dir(clean_phrases *p, const char *dir, char *err, size_t errsz);
/* Finds matches in an already-normalised line (see clean_match_norm);
 * returns how many were found (may exceed max; only the first max are
 * written). Order: by end, then start (at one end the longer first), then
 * the phrases of one text in reverse order of adding. */
size_t clean_phrases_find(const clean_phrases *p, const char *s, size_t n, clean_match *out,
                          size_t max);
/* Matching form of a line: nahr_ar_normalize + lower case + every
 * non-letter/non-digit run -> one space, trimmed. out needs n+1 bytes.
 * Returns output length. */
size_t clean_match_norm(const char *s, size_t n, char *out);

/* ---- dates ---- */
/* Parses a date in s[0..n): "الثلاثاء, يناير 21, 2025", "السبت، ٢٧ مارس ٢٠٢١",
 * "21 كانون الثاني 2025", "2025-01-21", "21/01/2025", "January 21, 2025".
 * Writes "YYYY-MM-DD" (11 bytes with NUL) into iso. *coverage gets the share
 * (0..100) of the line's words that belong to the date (weekday, month,
 * numbers, time, filler words such as "نشر في"). Returns 1 if found. */
int clean_date_parse(const char *s, size_t n, char iso[11], int *coverage);

/* ---- html ---- */
typedef struct {
    nahr_buf text;        /* blocks separated by "\n\n" (raw, not yet normalised) */
    char title[512];      /* <meta og:title> or <title> or <h1>, "" if none */
    char h1[512];
    char date[64];        /* article:published_time / <time datetime>, "" */
    char site[256];       /* og:site_name */
    size_t removed_blocks;/* chrome blocks dropped (nav, aside, ...) */
} clean_html_result;

/* 1 when the text looks like an HTML page (used by html = "auto"). */
int clean_html_sniff(const char *s, size_t n);
/* Parses HTML and extracts the main content. Returns NAHR_OK or
 * NAHR_EFORMAT (nothing usable). res->text must be zero-initialised or reset;
 * the caller frees it. */
int clean_html_extract(const char *s, size_t n, clean_html_result *res);
void clean_html_global_init(void);

/* ---- unicode ---- */
typedef struct clean_unicode clean_unicode;
typedef struct {
    int form;              /* 0 none, 1 NFC, 2 NFKC */
    bool remove_tatweel;   /* U+0640 */
    bool remove_diacritics;/* U+064B..U+065F, U+0670 */
    bool ascii_digits;     /* Arabic-Indic / Persian digits -> 0-9 */
    bool no_run_copy;      /* tests: no copy-as-is runs, every character goes
                            * the per-character way (same output) */
    bool whole_lines;      /* tests: ICU normalises each marked line whole
                            * instead of the stretch around the mark (same
                            * output) */
} clean_unicode_opts;

/* Returns NULL and fills err when ICU is unusable. */
clean_unicode *clean_unicode_new(const clean_unicode_opts *o, char *err, size_t errsz);
void clean_unicode_free(clean_unicode *u);

/* Per-thread scratch for the normaliser. Zero-initialise; free with
 * clean_scratch_free(). */
typedef struct {
    nahr_buf a, b;       /* byte buffers */
    uint16_t *u16;       /* UTF-16 scratch for ICU */
    size_t u16cap;
    uint16_t *u16b;
    size_t u16bcap;
    nahr_buf norm, out;  /* clean_doc: normalised text, kept lines */
    clean_html_result html;
} clean_scratch;
void clean_scratch_free(clean_scratch *s);

/* Normalises text into out (reset first): invalid UTF-8 and NUL -> U+FFFD
 * (the core's choice, nahr_utf8_repair), C0/C1 controls, bidi controls,
 * zero-width characters, BOM and soft hyphens removed; every space variant
 * -> ' ', every line break variant -> '\n'; Arabic presentation forms ->
 * letters; options above; NFC/NFKC; spaces collapsed, lines trimmed, runs of
 * blank lines -> one blank line (paragraph break). *bad gets the number of
 * invalid sequences repaired. */
int clean_unicode_run(const clean_unicode *u, clean_scratch *sc, const char *in, size_t n,
                      nahr_buf *out, size_t *bad);

/* ---- the whole cleaner ---- */
typedef struct clean_config {
    clean_unicode *uni;
    clean_phrases *phrases;
    int html_mode;            /* 0 never, 1 auto, 2 always */
    bool remove_boilerplate;
    bool recover_title, recover_date, recover_source;
    bool keep_title_in_text;
    bool keep_removed;
    bool tail_cut;
    bool date_from_embeds;    /* take 'date' from an embedded post's footer */
    int on_empty;             /* 0 skip, 1 error, 2 keep */
    int short_line_words;     /* "short line" for ~ phrases and menus */
    int head_lines, tail_lines;
    double max_url_share;     /* URL bytes / line bytes above which a line goes */
    int min_story_words;      /* words for a line to count as a story paragraph */
    bool exact_words;         /* tests: every line's words counted whole instead of
                               * up to the largest count the rules tell apart
                               * (same result) */
} clean_config;

/* Defaults of the option table (no unicode/phrases: the caller sets them). */
void clean_config_defaults(clean_config *c);

/* Outcome of cleaning one article. */
enum { CLEAN_OK = 0, CLEAN_EMPTY = 1 };

/* Cleans doc in place (text, title, date, source, field "removed").
 * Returns CLEAN_OK, CLEAN_EMPTY (nothing of the story left) or a negative
 * error; *why gets a static reason string when not OK. */
int clean_doc(const clean_config *cfg, clean_scratch *sc, nahr_doc *doc, const char **why);

/* Text-level pass (after unicode normalisation): classifies the lines of
 * text[0..n) and appends the kept ones to out. Metadata found goes to doc
 * (if the doc lacks it); removed lines go to the doc's "removed" field when
 * cfg->keep_removed. Exposed for tests. */
int clean_lines_run(const clean_config *cfg, nahr_doc *doc, const char *text, size_t n,
                    nahr_buf *out);

/* Appends {"line": ..., "reason": ...} to the doc's "removed" array field
 * (creating it). */
int clean_report_removed(nahr_doc *doc, const char *line, size_t n, int reason);

#endif
