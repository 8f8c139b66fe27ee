/* ner_cache.h - a per-thread cache for the NER tagger.
 *
 * Most tokens of news text are frequent words. What the tagger needs of a
 * token's bytes alone (normalised word, stem and shape hashes, clitic strips,
 * word cluster, the summed weights of the features that depend on the token
 * alone, and of those it gives its neighbours at -2, -1, +1 and +2) is kept
 * in a bounded 4-way set-associative table (65,536 tokens of 256 bytes:
 * 16 MB, its pages touched as it fills; least recently used entries are
 * replaced), so a word seen before by the same thread is not analysed again.
 * The cache also keeps per-model tables that replace the hashing of some
 * context features (with a model of the article topic, NER_F_TOPIC, a memo
 * of up to 2 MB of the topic features per word). One cache per worker
 * thread, never shared between threads; tagging with a cache gives exactly
 * the tags of ner_model_tag().
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
/* The same with room for at least `slots` tokens (rounded up to a power of
 * two, at least 4): tests use a tiny cache to exercise replacement. */
ner_cache *ner_cache_new_slots(size_t slots);
void ner_cache_free(ner_cache *c);
/* Forgets every entry. Needed only when a model is freed and another one is
 * then used with the same cache: a change of model is otherwise noticed by
 * its address. */
void ner_cache_reset(ner_cache *c);

/* ner_model_tag() through the cache c (NULL = none): same arguments, same
 * scratch size (ner_model_scratch_size), same tags. */
int ner_model_tag_cached(const ner_model *m, ner_cache *c, const char *text,
                         const nahr_token *toks, size_t ntok, void *scratch, uint8_t *tags);
/* The same, and margin[i] (ntok floats) = how strongly token i's own
 * features prefer O: its emission score for O minus its best other tag's
 * (first pass; negative when an entity tag scores higher). The entities
 * plugin's model veto reads it. */
int ner_model_tag_margin(const ner_model *m, ner_cache *c, const char *text, const nahr_token *toks,
                         size_t ntok, void *scratch, uint8_t *tags, float *margin);

#ifdef __cplusplus
}
#endif
#endif
