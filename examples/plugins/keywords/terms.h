/* terms.h - how the keywords plugin and its background tool turn a token into
 * a term, so both count exactly the same way: the Arabic matching
 * normalisation of libnahr, with a definite-article prefix (ال and what
 * attaches before it: وال بال فال كال لل ...) stripped. */
#ifndef KEYWORDS_TERMS_H
#define KEYWORDS_TERMS_H

#include <nahr/nahr.h>
#include <string.h>

#define KW_MAX_TERM 96

/* Writes the term of token t into out (KW_MAX_TERM bytes); returns its length,
 * 0 when the token is not a keyword candidate (not a word, fewer than 3
 * letters, too long). *surf gets the byte offset where the term's surface
 * form starts in text (after the stripped prefix). */
static inline size_t kw_term(const char *text, const nahr_token *t, char *out, size_t *surf)
{
    if (t->kind != NAHR_TOK_WORD && t->kind != NAHR_TOK_LATIN)
        return 0;
    const char *w = text + t->start;
    size_t n = t->end - t->start;
    if (n >= KW_MAX_TERM)
        return 0;
    size_t splits[8], k = t->kind == NAHR_TOK_WORD ? nahr_ar_proclitic_splits(w, n, splits, 8) : 0;
    size_t cut = 0;
    for (size_t i = 0; i < k; i++) {
        size_t s = splits[i];
        /* only prefixes that end in the article: "ال" or "لل" */
        if (s >= 4 && (memcmp(w + s - 4, "\xD8\xA7\xD9\x84", 4) == 0 || memcmp(w + s - 4, "\xD9\x84\xD9\x84", 4) == 0))
            cut = s;
    }
    size_t len = nahr_ar_normalize(w + cut, n - cut, out, NULL);
    if (nahr_utf8_count(out, len) < 3)
        return 0;
    *surf = t->start + cut;
    return len;
}

#endif
