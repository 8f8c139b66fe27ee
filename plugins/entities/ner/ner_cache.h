/* ner_cache.h - a per-thread cache for the NER tagger.
 *
 * Most tokens of news text are frequent words. What the tagger computes for
 * a token from its bytes alone (normalised form, affix and clitic-strip
 * hashes, shape, word clusters, the summed weights of the features that
 * depend on the token alone, and of those it gives its neighbours at -2, -1,
 * +1 and +2) is kept in a bounded direct-mapped table (8192 tokens, about
 * 2.6 MB), so a word seen before by the same thread is not analysed again. One cache per worker thread, never shared between
 * threads; tagging with a cache gives exactly the tags of ner_model_tag().
 */
#ifndef NAHR_NER_CACHE_H
#define NAHR_NER_CACHE_H

#include "ner_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ner_cache ner_cache;

/* A new, empty cache (NULL when out of memory); free with ner_cache_free. */
ner_cache *ner_cache_new(void);
void ner_cache_free(ner_cache *c);
/* Forgets every entry. Needed only when a model is freed and another one is
 * then used with the same cache: a change of model is otherwise noticed by
 * its address. */
void ner_cache_reset(ner_cache *c);

/* ner_model_tag() through the cache c (NULL = none): same arguments, same
 * scratch size (ner_model_scratch_size), same tags. */
int ner_model_tag_cached(const ner_model *m, ner_cache *c, const char *text,
                         const nahr_token *toks, size_t ntok, void *scratch, uint8_t *tags);

#ifdef __cplusplus
}
#endif
#endif
