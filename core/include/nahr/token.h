/* nahr/token.h - the shared Arabic-aware tokeniser and proclitic splitter.
 *
 * Used by every plugin that looks words up (entities, sentiment, ...), so
 * they segment text the same way. Pure functions, thread-safe, no allocation
 * (the caller provides the token array). Offsets are bytes into the text.
 */
#ifndef NAHR_TOKEN_H
#define NAHR_TOKEN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NAHR_TOK_WORD = 1,   /* letters (Arabic or other scripts), with inner marks */
    NAHR_TOK_NUMBER = 2, /* ASCII / Arabic-Indic digits, with inner . , ٫ ٬ */
    NAHR_TOK_PUNCT = 3,  /* one punctuation or symbol character */
    NAHR_TOK_LATIN = 4   /* a word in Latin letters */
} nahr_token_kind;

/* flags */
#define NAHR_TOK_SENT_END 0x1u  /* this token ends a sentence (. ! ? ؟ … or a paragraph break) */
#define NAHR_TOK_PARA_START 0x2u /* first token after a blank line / start of text */

typedef struct nahr_token {
    size_t start, end;  /* bytes [start, end) of the surface token */
    uint16_t kind;      /* nahr_token_kind */
    uint16_t flags;
} nahr_token;

/* Splits text[0..n) into tokens. Writes at most max tokens and returns the
 * TOTAL number of tokens in the text (call again with a bigger array when the
 * result exceeds max). Whitespace produces no token. Invalid UTF-8 bytes
 * are treated as punctuation. */
NAHR_EXPORT size_t nahr_tokenize(const char *text, size_t n, nahr_token *toks, size_t max);

/* Candidate stem starts of an Arabic word w[0..n) after proclitics
 * (و ف ب ل ك, ال, لل and combinations: وال بال فال كال ولل فلل ...).
 * Writes byte offsets into splits, shortest strip first; splits[0] is
 * always 0 (the word as is). A split is offered only when at least two
 * letters remain. Returns the number written (<= max). Matching code tries
 * each candidate against its dictionary and keeps the longest strip that
 * matches, so the reported span excludes the proclitic. */
NAHR_EXPORT size_t nahr_ar_proclitic_splits(const char *w, size_t n, size_t *splits, size_t max);

#ifdef __cplusplus
}
#endif
#endif
