/* internal.h - libnahr internals shared by the core sources. Never included by plugins. */
#ifndef NAHR_INTERNAL_H
#define NAHR_INTERNAL_H

#include <nahr/nahr.h>
#include <libconfig.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define NAHR_INTERNAL NAHR_EXPORT /* internal functions are exported for the runner and tests */

/* ---- JSON strings ---- */

/* Length of the longest prefix of s[0..n) that a JSON string holds as is: no
 * control byte (< 0x20), no '"' and no '\\'. Eight bytes at a time: in news
 * text such runs are hundreds of bytes long. Used by the parser (where such a
 * byte ends the fast path) and by the writer (where it needs escaping). */
static inline size_t nahr__json_plain_len(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
#if defined(__SSE2__)
    /* sixteen bytes at a time; the mask gives the first byte that stops */
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                          _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v)); /* <= 0x1F */
        unsigned m = (unsigned)_mm_movemask_epi8(stop);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
        /* per byte: below 0x20, or equal to '"' or '\\' (the classic has-zero-byte test) */
        if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
    }
    return i;
}

/* ---- text ---- */
/* nahr_utf8_check(str, n) that also copies str[0..n) to dst (room for n
 * bytes) in the same pass; dst holds the copy only when the result is n. */
NAHR_INTERNAL size_t nahr__utf8_check_copy(const char *str, size_t n, char *dst);

/* ---- values ---- */
/* The JSON writer reads values directly (doc.c builds them). */
struct nahr_value {
    nahr_value_type type;
    union {
        int b;
        int64_t i;
        struct {
            double x;
            const char *text; /* a number read from JSON: its text, written back as read */
        } d;
        struct {
            char *s;
            size_t n;
        } s;
        struct {
            nahr_value **items;
            const char **keys; /* objects only */
            size_t len, cap;
        } c;
    } u;
};

/* ---- arena ---- */
typedef struct arena_chunk arena_chunk;
typedef struct nahr_arena {
    arena_chunk *head;  /* current chunk; chunks linked to older ones */
    size_t first_size;  /* size of the chunk kept across resets */
} nahr_arena;

NAHR_INTERNAL void *nahr__arena_alloc(nahr_arena *a, size_t n);
NAHR_INTERNAL void nahr__arena_reset(nahr_arena *a);
NAHR_INTERNAL void nahr__arena_free(nahr_arena *a);

/* ---- document ---- */
enum { META_ID, META_TITLE, META_URL, META_DATE, META_SOURCE, META_COUNT };

typedef enum { RAW_NONE, RAW_JSONL, RAW_TEXT, RAW_HTML } raw_kind;
typedef enum { DOC_PENDING = 0, DOC_OK, DOC_SKIPPED, DOC_FAILED } doc_status;

/* How the writer settles a message source's acknowledgement token (see
 * runner.h): RETRY = not durable (redeliver), DONE = exported after every
 * sink's sync(), DEAD = failed: record/len is its dead-letter record. */
typedef enum { NAHR_SETTLE_RETRY = 0, NAHR_SETTLE_DONE = 1, NAHR_SETTLE_DEAD = 2 } nahr_settle_outcome;
typedef void (*nahr_settle_fn)(void *token, nahr_settle_outcome how, const char *record, size_t len);

typedef struct doc_field {
    const char *key;
    nahr_value *value;
} doc_field;

#define NAHR__MAX_PREPARED 4 /* ORDERED_POST stages with a prepare() hook used */

struct nahr_doc {
    nahr_arena arena;
    char *text;
    size_t text_len;
    char *norm;        /* nahr_doc_normalized() cache, NULL until asked */
    size_t norm_len;
    size_t *norm_map;
    nahr_token *toks;  /* nahr_doc_tokens() cache, NULL until asked */
    size_t ntoks;
    const char *meta[META_COUNT];
    doc_field *fields;
    size_t nfields, capfields;
    nahr_span *spans;
    size_t nspans, capspans;
    /* the last span attribute keys copied into the arena (nahr_span_set_attr):
     * a plugin sets the same few keys on every span of an article */
    const char *attr_keys[4];
    unsigned attr_keys_next;
    /* strings of up to 64 bytes copied into the arena (span types, canonical
     * forms, object keys, string values: the same few recur in an article),
     * the last one of each slot, by length and end bytes (strndup_recent in
     * doc.c); len 0: the slot is empty */
    struct {
        const char *s;
        size_t len;
    } recent[32];
    const char *origin;
    uint64_t seq;

    /* runner state */
    nahr_buf raw;         /* the input record as read (JSONL line or file content) */
    raw_kind kind;
    size_t raw_total;     /* real size of the input record (raw may hold a prefix) */
    bool raw_truncated;
    bool prepared;
    doc_status status;
    const char *fail_stage; /* "reader", a plugin name, ... */
    char *fail_reason;      /* arena */
    char id_hint[256];      /* id from the file name for .txt/.html */
    void *ack_token;        /* message sources: settled by the writer (runner.h) */
    nahr_settle_fn settle;
    bool settle_dead_letter; /* with settle: the source takes the dead-letter record, not the file */
    char origin_buf[512];
    /* bytes the prepare() of ORDERED_POST stages made on the worker thread
     * (pipeline.c); prep_ok bit k: prep[k] holds this article's */
    nahr_buf prep[NAHR__MAX_PREPARED];
    unsigned prep_ok;
};

NAHR_INTERNAL void nahr__doc_set_failed(nahr_doc *d, const char *stage, const char *fmt, ...)
    NAHR_PRINTF(3, 4);
/* Turns doc->raw into text/metadata/fields. encoding: the input's encoding
 * when it is not UTF-8 (converted first), else NULL. On failure marks the
 * doc failed. */
NAHR_INTERNAL int nahr__doc_prepare(nahr_doc *d, bool utf8_repair, const char *encoding);
/* encoding.c: 1 for UTF-8 (or NULL/""), 2 for "auto", 0 for another
 * encoding iconv can convert from, -1 for a name it does not know, -2 for
 * one that does not write ASCII as ASCII (UTF-16, UTF-32: JSONL records
 * cannot be split in it). */
NAHR_INTERNAL int nahr__encoding_kind(const char *name);
/* "WINDOWS-1256" or "ISO-8859-6" when s (not valid UTF-8) reads as Arabic
 * in one of them and not in the other, else NULL. */
NAHR_INTERNAL const char *nahr__guess_arabic_encoding(const char *s, size_t n);
/* Appends s[0..n) in encoding enc converted to UTF-8 to out. NAHR_EFORMAT
 * with *bad_at = the byte offset of the first byte that is not valid in
 * enc (or of an incomplete sequence at the end). */
/* The charset an HTML page declares in its first 2 KiB (<meta charset=...>,
 * or charset= in a Content-Type meta), copied to out; its length, 0 if none. */
NAHR_INTERNAL size_t nahr__html_charset(const char *s, size_t n, char *out, size_t outlen);
NAHR_INTERNAL int nahr__to_utf8(const char *enc, const char *s, size_t n, nahr_buf *out, size_t *bad_at);
/* Parses one JSONL record (valid UTF-8) into d; marks d failed on error. */
NAHR_INTERNAL int nahr__parse_record(nahr_doc *d, const char *line, size_t len);
/* Parses any JSON value (valid UTF-8) into d's arena; NULL + message on error. */
/* A number read from JSON: its value, and its text (copied) that the
 * writer gives back unchanged (no digits lost to double precision). */
NAHR_INTERNAL nahr_value *nahr__value_number(nahr_doc *d, double x, const char *text, size_t n);
/* The text of such a number, NULL for numbers made by plugins. */
NAHR_INTERNAL const char *nahr__value_number_text(const nahr_value *v);
NAHR_INTERNAL nahr_value *nahr__parse_json(nahr_doc *d, const char *text, size_t len, char *err, size_t errlen);
/* Writes a dead-letter record for a failed/oversized doc (one line, with \n). */
NAHR_INTERNAL int nahr__doc_write_dead_letter(const nahr_doc *d, nahr_buf *out);

/* ---- helpers ---- */
NAHR_INTERNAL size_t nahr__levenshtein(const char *a, const char *b);
/* The name in names[0..n) closest to key, or NULL when none is close enough
 * to suggest ("did you mean ...?"). */
NAHR_INTERNAL const char *nahr__nearest(const char *key, const char *const *names, size_t n);
NAHR_INTERNAL double nahr__now(void); /* monotonic seconds */

/* ---- logging (common.c) ----
 * --log-format kv: every event is one line "level=L msg=\"...\" key=value ..."
 * (logfmt; values with spaces, quotes or control characters quoted and
 * escaped), for journald and log shippers. nahr_log() events get level and
 * msg; nahr__log_kv() adds the event's fields, built with nahr__kv_*(). In
 * the default text format the fields are not printed: the message alone is
 * the line scripts rely on ("nahr: warning: ..."). */
typedef struct nahr_kv {
    char s[1536];
    size_t n;
} nahr_kv;
NAHR_INTERNAL void nahr__log_set_format(bool kv);    /* run --log-format */
NAHR_INTERNAL void nahr__log_config_format(bool kv); /* pipeline.log_format, unless --log-format was given */
NAHR_INTERNAL bool nahr__log_is_kv(void);
NAHR_INTERNAL void nahr__kv_str(nahr_kv *k, const char *key, const char *value);
NAHR_INTERNAL void nahr__kv_int(nahr_kv *k, const char *key, long long value);
NAHR_INTERNAL void nahr__log_kv(int level, const char *fields, const char *fmt, ...) NAHR_PRINTF(3, 4);
NAHR_INTERNAL void nahr__log_kvv(int level, const char *fields, const char *fmt, va_list ap);

#endif
