/* nahr/doc.h - the document model.
 *
 * A nahr_doc is one article on its way through the pipeline. It owns:
 *  - its text (UTF-8, NUL-terminated, valid UTF-8 guaranteed by the reader);
 *  - metadata: id, title, url, date, source (strings, may be NULL);
 *  - spans: typed annotations over the text, in BYTE offsets [start, end),
 *    grouped in layers ("entities" by default; exporters write each layer as
 *    one array of the output record);
 *  - fields: document-level results (sentiment, language, keywords, ...)
 *    and any extra input keys, as nahr_value trees. Exporters write them
 *    generically, so a new plugin's field reaches every exporter unchanged.
 *
 * Memory: everything a doc holds lives in a per-document arena that the core
 * resets between articles. Pointers obtained from a doc (text, strings,
 * values, spans) are valid until the plugin's process() returns for THAT
 * article only; never keep them across articles. nahr_doc_alloc() gives
 * plugins the same arena for their own per-article scratch (no free needed).
 *
 * Text rewriting rule: a stage that rewrites text (declares
 * NAHR_PLUGIN_REWRITES_TEXT) runs before every stage that adds spans;
 * `nahr check` refuses a chain that breaks this, and nahr_doc_set_text()
 * fails with NAHR_EBUSY once a span exists. So spans always index the final
 * text and no plugin adjusts offsets.
 *
 * Thread-safety: a doc is used by one thread at a time.
 */
#ifndef NAHR_DOC_H
#define NAHR_DOC_H

#include "common.h"
#include "token.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nahr_doc nahr_doc;
typedef struct nahr_value nahr_value;

/* ---- values: a small JSON-like tree allocated in the doc's arena ---- */
typedef enum {
    NAHR_V_NULL = 0,
    NAHR_V_BOOL,
    NAHR_V_INT,
    NAHR_V_DOUBLE,
    NAHR_V_STRING,
    NAHR_V_ARRAY,
    NAHR_V_OBJECT
} nahr_value_type;

/* Constructors copy their input into the arena. NULL on out-of-memory.
 * One value may be set in several places (the sentiment plugin gives all
 * mentions of one entity the same object): treat the values other stages
 * set as read-only, and to change one, build a new value and set it in its
 * place (nahr_doc_set_field, nahr_span_set_attr) instead of editing it. */
NAHR_EXPORT nahr_value *nahr_value_null(nahr_doc *d);
NAHR_EXPORT nahr_value *nahr_value_bool(nahr_doc *d, int b);
NAHR_EXPORT nahr_value *nahr_value_int(nahr_doc *d, int64_t i);
NAHR_EXPORT nahr_value *nahr_value_double(nahr_doc *d, double x);
NAHR_EXPORT nahr_value *nahr_value_string(nahr_doc *d, const char *s, size_t n);
NAHR_EXPORT nahr_value *nahr_value_cstr(nahr_doc *d, const char *s);
NAHR_EXPORT nahr_value *nahr_value_array(nahr_doc *d);
NAHR_EXPORT nahr_value *nahr_value_object(nahr_doc *d);
/* Appends item to an array. */
NAHR_EXPORT int nahr_value_push(nahr_doc *d, nahr_value *arr, nahr_value *item);
/* Sets key in an object, replacing an existing key. The key is copied. */
NAHR_EXPORT int nahr_value_put(nahr_doc *d, nahr_value *obj, const char *key, nahr_value *v);

NAHR_EXPORT nahr_value_type nahr_value_kind(const nahr_value *v);
NAHR_EXPORT int nahr_value_as_bool(const nahr_value *v);
NAHR_EXPORT int64_t nahr_value_as_int(const nahr_value *v);
NAHR_EXPORT double nahr_value_as_double(const nahr_value *v); /* ints convert */
NAHR_EXPORT const char *nahr_value_as_string(const nahr_value *v, size_t *len);
/* Number of items (array) or keys (object); 0 otherwise. */
NAHR_EXPORT size_t nahr_value_len(const nahr_value *v);
NAHR_EXPORT nahr_value *nahr_value_at(const nahr_value *v, size_t i);
NAHR_EXPORT const char *nahr_value_key_at(const nahr_value *v, size_t i);
NAHR_EXPORT nahr_value *nahr_value_get(const nahr_value *obj, const char *key);

/* ---- text and metadata ---- */
/* The text, NUL-terminated; *len (if not NULL) gets its byte length. */
NAHR_EXPORT const char *nahr_doc_text(const nahr_doc *d, size_t *len);
/* Replaces the text (copied). The new text must be valid UTF-8
 * (NAHR_EFORMAT otherwise). NAHR_EBUSY when spans already exist. */
NAHR_EXPORT int nahr_doc_set_text(nahr_doc *d, const char *text, size_t len);

/* The text after nahr_ar_normalize() (text.h), computed on first use and
 * cached in the document until the text changes, for plugins that match
 * across word boundaries (several plugins of a chain normalise the article
 * once between them). The shipped word-level plugins normalise per distinct
 * word instead, through their per-worker token caches: a word is normalised
 * once per worker, not once per occurrence or per article.
 * *len gets its length; map (if not NULL) gets the offset map: for each byte
 * of the normalised text the byte offset in nahr_doc_text() it came from,
 * with (*map)[*len] = text length. NULL on out-of-memory. */
NAHR_EXPORT const char *nahr_doc_normalized(nahr_doc *d, size_t *len, const size_t **map);

/* The tokens of nahr_doc_text() (nahr_tokenize(), token.h), computed on
 * first use and cached in the document until the text changes, so the
 * plugins that look words up tokenise each article once between them. *n
 * gets the count. Read-only: the array belongs to the document.
 * A text of more than max tokens (0: no limit) is not tokenised into memory:
 * NULL, with *n = its token count (memory stays bounded on pathological
 * input; the caller reports the limit). NULL with *n = 0: out of memory.
 * A text without tokens gives a valid pointer and *n = 0. */
NAHR_EXPORT const nahr_token *nahr_doc_tokens(nahr_doc *d, size_t max, size_t *n);

/* Metadata keys: "id", "title", "url", "date", "source". Any other key is a
 * field holding a string. Returns NULL when absent. */
NAHR_EXPORT const char *nahr_doc_get(const nahr_doc *d, const char *key);
/* Copies value; value NULL removes the key. */
NAHR_EXPORT int nahr_doc_set(nahr_doc *d, const char *key, const char *value);
/* Where the article came from, e.g. "in.jsonl:17" (for messages). */
NAHR_EXPORT const char *nahr_doc_origin(const nahr_doc *d);
/* Input sequence number, 0-based, in input order. */
NAHR_EXPORT uint64_t nahr_doc_seq(const nahr_doc *d);

/* ---- fields: document-level results ---- */
/* Sets (or replaces) a field; v must come from this doc's arena.
 * Reserved names (id, title, url, date, source, text and span layer names)
 * are refused with NAHR_EINVAL. */
NAHR_EXPORT int nahr_doc_set_field(nahr_doc *d, const char *key, nahr_value *v);
NAHR_EXPORT nahr_value *nahr_doc_field(const nahr_doc *d, const char *key);
NAHR_EXPORT size_t nahr_doc_field_count(const nahr_doc *d);
NAHR_EXPORT nahr_value *nahr_doc_field_at(const nahr_doc *d, size_t i, const char **key);

/* ---- spans ---- */
typedef struct nahr_span {
    const char *layer;     /* "entities" unless the plugin says otherwise */
    const char *type;      /* "PER", "LOC", "ORG", "MISC", "DATE", ... */
    size_t start, end;     /* BYTE offsets into the text, start <= end */
    const char *canonical; /* normalised/canonical form, or NULL */
    double score;          /* confidence in [0,1]; negative = not set (not exported);
                              an attribute named "score" replaces it in the output */
    nahr_value *attrs;     /* object of extra attributes, or NULL */
} nahr_span;

/* Adds a span in layer "entities". Type is copied. Returns the span's index
 * (>= 0) or a negative error (NAHR_EINVAL when start/end are out of range or
 * not on UTF-8 character boundaries). */
NAHR_EXPORT int nahr_doc_add_span(nahr_doc *d, const char *type, size_t start, size_t end);
/* Same, in a named layer (e.g. "sentences"). */
NAHR_EXPORT int nahr_doc_add_span_in(nahr_doc *d, const char *layer, const char *type,
                                     size_t start, size_t end);
NAHR_EXPORT size_t nahr_doc_span_count(const nahr_doc *d);
/* Pointer valid until the next nahr_doc_add_span*() on this doc. */
NAHR_EXPORT nahr_span *nahr_doc_span(nahr_doc *d, size_t i);
NAHR_EXPORT int nahr_span_set_canonical(nahr_doc *d, size_t i, const char *canonical);
NAHR_EXPORT int nahr_span_set_attr(nahr_doc *d, size_t i, const char *key, nahr_value *v);
/* Removes span i (keeps the order of the others). */
NAHR_EXPORT int nahr_doc_remove_span(nahr_doc *d, size_t i);

/* ---- arena ---- */
/* Per-article scratch memory, 16-byte aligned, freed when the article is done. */
NAHR_EXPORT void *nahr_doc_alloc(nahr_doc *d, size_t n);
NAHR_EXPORT char *nahr_doc_strndup(nahr_doc *d, const char *s, size_t n);

/* ---- serialisation ---- */
/* Appends the article as one JSON object (no newline) as DESIGN.md fixes:
 * id, title, url, date, source, text, one array per span layer with
 * code-point offsets, then every field. */
NAHR_EXPORT int nahr_doc_write_json(const nahr_doc *d, nahr_buf *out);
/* Appends one value as JSON. */
NAHR_EXPORT int nahr_value_write_json(const nahr_value *v, nahr_buf *out);

/* ---- documents outside the pipeline (tests, tools) ---- */
NAHR_EXPORT nahr_doc *nahr_doc_new(void);
NAHR_EXPORT void nahr_doc_reset(nahr_doc *d); /* empty it, keep memory */
NAHR_EXPORT void nahr_doc_free(nahr_doc *d);

#ifdef __cplusplus
}
#endif
#endif
