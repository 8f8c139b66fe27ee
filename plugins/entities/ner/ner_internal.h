/* ner_internal.h - internals of the NER tagger shared by the model, the
 * trainer, the evaluation tool and the tests. Not part of the interface the
 * entities plugin uses (that is ner_model.h). */
#ifndef NAHR_NER_INTERNAL_H
#define NAHR_NER_INTERNAL_H

#include <stdio.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif
#include "ner_model.h"

#define NER_MAGIC "NAHRNER\0"
#define NER_MAGIC_LEN 8
#define NER_FORMAT_VERSION 2u
#define NER_MAXSPLIT 4     /* proclitic split candidates used (incl. the word itself) */
#define NER_MAXF 160 /* features per token, upper bound (102 used at most, 136 with NER_F_ACTX, \
                      * 158 with NER_F_TOPIC too) */
#define NER_MAXTOKB 64     /* bytes of a token used for features (longer: truncated) */
#define NER_NTYPES 4       /* PER LOC ORG MISC */
#define NER_NCL 3          /* cluster granularities per word */
#define NER_GAZ_MAXLEN 8   /* longest gazetteer phrase, in words */

/* feature groups (model flags) */
#define NER_F_GAZ 0x1u
#define NER_F_CLUSTERS 0x2u
#define NER_F_DICT 0x4u /* phrases annotated in the training data (type bits 4..7 of gaz) */
#define NER_F_HIST 0x8u /* prediction history: how a word was tagged earlier in the article */
#define NER_F_QUOTE 0x10u /* quotation features (titles of programmes, books, models) */
#define NER_F_CLX 0x20u   /* more cluster features: at -2/+2, bigram, x suffix */
#define NER_F_NEWS 0x40u  /* news evidence: how often a word was tagged as each type in news */
#define NER_F_DOC2 0x80u  /* with NER_F_HIST: two-sided history, a second pass over the article */
#define NER_F_LEX 0x100u  /* spelling-dictionary class of the word (ner_lex.c) */
#define NER_F_LEXSP 0x200u /* with NER_F_LEX: letter-trigram "not a dictionary word" score */
#define NER_F_ACTX 0x400u /* article context: facts about every mention of a word (ner_actx.c) */
#define NER_F_TOPIC 0x800u /* article topic: a sports article, conjoined with place-like features */
#define NER_F_ALL                                                                                  \
    (NER_F_GAZ | NER_F_CLUSTERS | NER_F_DICT | NER_F_HIST | NER_F_QUOTE | NER_F_CLX | NER_F_NEWS | \
     NER_F_DOC2 | NER_F_LEX | NER_F_LEXSP | NER_F_ACTX | NER_F_TOPIC)
/* the flags that need the label-free pass over the article (ner_actx.c) */
#define NER_F_ARTICLE (NER_F_ACTX | NER_F_TOPIC)
#define NER_DICT_FOLDS 10
#define NER_GAZ_PREFIX 0x100u /* gaz value bit: a longer phrase starts with this one */
#define NER_TRIG_CAP 1024u    /* slots of the trigger-word table (ner_actx.c) */

/* One slot of the weight table: a hashed feature and its weight per tag,
 * quantised (weight = w[t] * scale). key 0 = empty slot. */
typedef struct ner_slot {
    uint32_t key;
    int16_t w[NER_NTAGS];
    int16_t pad;
} ner_slot;

/* A hash set of uint32 keys (0 = empty) with a uint64 payload. */
typedef struct ner_set {
    uint32_t *keys;
    uint64_t *vals;
    size_t mask; /* capacity - 1 (capacity a power of two), 0 when empty */
    size_t n;
} ner_set;

struct ner_model {
    uint32_t flags;
    float scale;
    float o_penalty; /* subtracted from every O score: trades precision for recall */
    float trans[NER_NTAGS + 1][NER_NTAGS]; /* [prev][cur]; row NER_NTAGS = sentence start */
    ner_slot *slots;
    size_t mask; /* capacity - 1 */
    size_t nfeat;
    ner_set gaz; /* phrase hash -> type bits: 1 << (type-1) for gazetteers,
                  * 16 << (type-1) for the training-data dictionary */
    unsigned gaz_maxlen;
    ner_set clusters; /* word hash -> NER_NCL cluster ids of 16 bits each */
    unsigned hist_window; /* NER_F_HIST on a corpus without articles: pseudo-article length */
    ner_set news; /* NER_F_NEWS: word hash (or NER_NEWS_STEM_KEY of a stem hash) -> packed
                   * buckets of how often news tagged it as each type (ner_news.c) */
    ner_set lex; /* NER_F_LEX: normalised word hash -> NER_LEX_* class (ner_lex.c) */
    /* NER_F_ACTX: the trigger words of the article-context pass (ner_actx.c),
     * normalised word hash -> NER_TRIG_* bits; filled by ner_model_new */
    uint32_t trig_key[NER_TRIG_CAP];
    uint8_t trig_val[NER_TRIG_CAP];
    /* run time only: a Bloom filter of the weight-table keys (3 bits in one
     * 64-bit word per key), built by ner_model_set_weights (NULL = none;
     * filter_blocks * 8 words). Valid only while
     * slots == filter_for (the trainer swaps tables behind its back). */
    uint64_t *filter;
    size_t filter_blocks; /* a power of two, of 64 bytes (8 words) */
    const ner_slot *filter_for;
    /* run time only: the summed weights of the features the sentence edges
     * give a token as its missing neighbour at -2, -1, +1, +2
     * (ner_features_neighbour with t NULL), computed by ner_model_set_weights;
     * valid only while slots == edge_for and flags == edge_flags. */
    int32_t edge[4][NER_NTAGS];
    const ner_slot *edge_for;
    uint32_t edge_flags;
};

/* What the features need of one token, computed once per token. */
typedef struct ner_tokdesc {
    uint32_t word, stem, shape;
    uint32_t pfx[3], sfx[3], stem_sfx[2], stem_pfx[2];
    uint32_t pre[NER_MAXSPLIT], stm[NER_MAXSPLIT]; /* proclitic strips 1..nsplit-1 */
    uint32_t cl[NER_NCL];
    uint8_t nsplit : 4; /* <= NER_MAXSPLIT (bit fields: the struct stays 112 bytes) */
    uint8_t has_cl : 1;
    uint8_t punct : 1;
    uint8_t gaz_b, gaz_i; /* type bit masks: a gazetteer phrase starts / continues here */
    uint8_t hist, hist_stem; /* NER_HIST_* bits: how the word / stem was tagged before */
    uint8_t after, after_stem; /* NER_F_DOC2: entity types it got after, not before */
    uint8_t quote;           /* inside a short quotation: 1 first word, 2 later words */
    uint8_t news, news_stem; /* NER_F_NEWS: packed buckets of the word / its stem in
                              * m->news, NER_NEWS_ABSENT when not there */
    uint8_t lex : 2, lex_stem : 2; /* NER_F_LEX: NER_LEX_* class of the word / of its stem */
    uint8_t lex_sp : 3;            /* NER_F_LEXSP: bucket of the stem's trigram score (0: none) */
    uint32_t qtrig;          /* stem of the word before the opening quotation mark */
    uint8_t actx, actx_stem; /* NER_F_ACTX: NER_ACTX_* facts of all mentions of the word / stem */
    uint8_t actx_cnt : 2, actx_scnt : 2; /* their mention counts: 0 none, 1 once, 2 2-3, 3 >= 4 */
    uint8_t topic : 1;       /* NER_F_TOPIC: the article is about sport (ner_actx_mark) */
} ner_tokdesc;

/* ---- prediction history (document consistency) ----
 * While an article is tagged sentence by sentence, the table remembers how
 * each word (and each clitic-stripped stem) was tagged so far: bit 1 << (type
 * - 1) when inside an entity of that type, NER_HIST_O when outside one. The
 * bits are features of the later mentions. Fixed size, no allocation: once
 * full, new words are not added. */
#define NER_HIST_CAP 4096u
#define NER_HIST_O 0x10u
#define NER_HIST_NONE 0xFFFFu /* ner_hist_add_doc: no slot (punctuation, or the table full) */

/* NER_F_DOC2 (two-sided history): besides the history bits of the first
 * pass (the sentences before), the entity types a word got in the sentences
 * after and not before. Per slot of the history table and entity type, the
 * first and the last sentence of the article that gave it (first pass), and
 * the sentences s < lim of the slot are those with after bits. */
typedef struct ner_doc {
    uint16_t first[NER_HIST_CAP][NER_NTYPES];
    uint16_t last[NER_HIST_CAP][NER_NTYPES];
    uint16_t lim[NER_HIST_CAP];
} ner_doc;

typedef struct ner_hist {
    uint32_t key[NER_HIST_CAP];
    uint8_t val[NER_HIST_CAP];
    size_t n;
    ner_doc *doc; /* NULL unless two-sided (set after ner_hist_reset) */
    unsigned sent; /* with doc: the sentence being added (< NER_HIST_NONE) */
    uint16_t *used; /* NULL, or room for NER_HIST_CAP slots: the slots of the n keys (ner_hist_clear) */
} ner_hist;

/* Empties the table (doc = NULL, used = NULL). */
void ner_hist_reset(ner_hist *h);
/* Empties a table that records its slots in h->used (kept; doc = NULL):
 * only the slots of its keys are cleared, not the whole table. */
void ner_hist_clear(ner_hist *h);
/* Records how the word with these hashes was tagged. */
void ner_hist_put(ner_hist *h, uint32_t word, uint32_t stem, unsigned tag);
/* Empties the table and records tokens [from, to) of a corpus with their
 * word/stem hashes and tags, punctuation (punct[j] != 0) left out: the
 * history of a sentence from the earlier sentences of its pseudo-article. */
void ner_hist_refill(ner_hist *h, const uint32_t *word, const uint32_t *stem, const uint8_t *punct,
                     const uint8_t *tags, size_t from, size_t to);
/* Records a tagged sentence (punctuation is skipped). */
void ner_hist_add(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n);
/* The same with h->doc, as sentence h->sent: slot[2 i] and slot[2 i + 1] get
 * the table slots of the word and the stem of token i (NER_HIST_NONE: none). */
void ner_hist_add_doc(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n,
                      uint16_t *slot);
/* Sets d[i].hist / hist_stem from the table. */
void ner_hist_mark(const ner_hist *h, size_t n, ner_tokdesc *d);
/* ner_hist_mark(), and for the ner_hist_add_keys() of the same sentence the
 * table keys of the word and the stem of each token that is not punctuation
 * (key[2 i], key[2 i + 1]) and the slots where their probes ended (slot[2 i],
 * slot[2 i + 1]): the run time's tagging hashes and probes once per token. */
void ner_hist_mark_keys(const ner_hist *h, size_t n, ner_tokdesc *d, uint32_t *key, uint16_t *slot);
/* = ner_hist_add() after ner_hist_mark_keys() of the same sentence (and no
 * other change to h between the two): the probes start at those slots. */
void ner_hist_add_keys(ner_hist *h, const ner_tokdesc *d, const uint8_t *tags, size_t n,
                       const uint32_t *key, const uint16_t *slot);
/* Sets d[i].after / after_stem from a table of the later sentences: the
 * entity types there that d[i].hist / hist_stem do not have. */
void ner_hist_mark_after(const ner_hist *later, size_t n, ner_tokdesc *d);
/* After the first pass, for table slot j (NER_HIST_NONE: 0) and sentence s:
 * the entity types set after s that were not set before it (the "after"
 * bits of the second pass; 0: the token's features are those of the first
 * pass). Non-zero exactly when s < h->doc->lim[j]. */
uint8_t ner_doc_after(const ner_hist *h, unsigned j, unsigned s);

/* ---- article context (NER_F_ACTX, ner_actx.c) ----
 * Before an article is tagged, a label-free pass over all its tokens
 * collects, per normalised word and per clitic-stripped stem, facts about
 * every mention of it: some mention follows a person title, a place or an
 * organisation trigger word, a preposition of place; some mention is
 * followed by "bin"; the stem occurs in two word forms; a two-word sequence
 * it starts or ends occurs twice; how many mentions there are. The facts
 * are features of every mention, also of the ones with no such context. */
#define NER_ACTX_PER 0x01u   /* some mention follows a person title (الرئيس، المدرب) */
#define NER_ACTX_LOC 0x02u   /* ... a place trigger (مدينة، محافظة) */
#define NER_ACTX_ORG 0x04u   /* ... an organisation head (نادي، شركة) */
#define NER_ACTX_BIN 0x08u   /* some mention is followed by بن / ابن / بنت */
#define NER_ACTX_PREP 0x10u  /* some mention follows في / من / إلى */
#define NER_ACTX_FORMS 0x20u /* stem: mentions in at least two word forms (الأهلي، للأهلي) */
#define NER_ACTX_BIG1 0x40u  /* first word of a two-word sequence seen twice */
#define NER_ACTX_BIG2 0x80u  /* second word of a two-word sequence seen twice */
/* trigger classes of a word (m->trig_val) */
#define NER_TRIG_PER 0x01u
#define NER_TRIG_LOC 0x02u
#define NER_TRIG_ORG 0x04u
#define NER_TRIG_PREP 0x08u
#define NER_TRIG_BIN 0x10u
#define NER_TRIG_SPORT 0x20u /* a word of the sports vocabulary (NER_F_TOPIC) */
/* NER_F_TOPIC: an article with at least this many tokens of the sports
 * vocabulary (word or stem) is about sport */
#define NER_TOPIC_MIN 3u
#define NER_ACTX_CAP 4096u
#define NER_ACTX_NONE 0xFFFFu
typedef struct ner_actx {
    uint32_t key[NER_ACTX_CAP];
    uint32_t form[NER_ACTX_CAP]; /* stem entries: the first word form seen */
    uint8_t bits[NER_ACTX_CAP];
    uint8_t count[NER_ACTX_CAP]; /* mentions, saturating at 255 */
    size_t n;
    /* the token before, in the same sentence (ner_actx_add) */
    unsigned prev_w, prev_s; /* its slots (NER_ACTX_NONE: none) */
    uint32_t prev_word;
    uint8_t prev_trig;
    uint8_t has_prev;
    unsigned sport; /* NER_F_TOPIC: tokens of the sports vocabulary so far */
} ner_actx;
/* Fills the trigger table of m (called by ner_model_new). */
void ner_actx_triggers(ner_model *m);
void ner_actx_reset(ner_actx *a);
/* Starts a new sentence: the next token has no token before it. */
void ner_actx_sentence(ner_actx *a);
/* Records the next token of the article (in order). */
void ner_actx_add(ner_actx *a, const ner_model *m, uint32_t word, uint32_t stem, int punct);
/* Records the tokens of a described sentence (ner_actx_sentence first). */
void ner_actx_add_sentence(ner_actx *a, const ner_model *m, const ner_tokdesc *d, size_t n);
/* Sets d[i].actx, actx_stem, actx_cnt, actx_scnt from the table, and
 * d[i].topic (sport >= NER_TOPIC_MIN). */
void ner_actx_mark(const ner_actx *a, size_t n, ner_tokdesc *d);

/* The slot of key in an open-addressing table of nonzero uint32 keys
 * (cap a power of two, linear probing): where it is, or the empty slot
 * (key 0) where it would go. The tables must never be full. */
static inline size_t ner_probe(const uint32_t *keys, size_t cap, uint32_t key)
{
    size_t j = key & (cap - 1);
    while (keys[j] && keys[j] != key)
        j = (j + 1) & (cap - 1);
    return j;
}

/* hashing (values stored in model files: they must never change) */
uint32_t ner_hash_bytes(const void *p, size_t n);
/* murmur3's finaliser */
static inline uint32_t ner_fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}
/* Combines two hashes; never 0 (0 marks an empty slot). Inline: the tagger
 * and the article-context pass call it for every token. */
static inline uint32_t ner_mix(uint32_t a, uint32_t b)
{
    uint32_t h = ner_fmix32(a * 0x9e3779b1u + ner_fmix32(b + 0x7f4a7c15u));
    return h ? h : 1u;
}
/* Normalised word hash of a token (what gazetteers and clusters are keyed by);
 * also writes the normalised bytes to norm (NER_MAXTOKB + 1 bytes) and their
 * length to *nlen when norm is not NULL. */
uint32_t ner_word_hash(const char *s, size_t n, char *norm, size_t *nlen);
/* Chains word hashes into a phrase hash. */
uint32_t ner_phrase_step(uint32_t h, uint32_t word);
/* Adds a phrase (hashes of its normalised words) with type bits to a
 * gazetteer set, and its proper prefixes with NER_GAZ_PREFIX. */
int ner_gaz_add(ner_set *gaz, const uint32_t *words, size_t n, uint32_t bits);

/* features */
void ner_describe(const ner_model *m, const char *text, const nahr_token *toks, size_t n,
                  ner_tokdesc *d);
/* ner_describe in two parts: what a token's description owes to its own
 * bytes (and the model's clusters), with every sentence-level field 0 ... */
void ner_describe_token(const ner_model *m, const char *w, size_t wn, ner_tokdesc *t);
/* The same with the plain helpers (code points stepped over one call at a
 * time): what the tests compare ner_describe_token with. */
void ner_describe_token_plain(const ner_model *m, const char *w, size_t wn, ner_tokdesc *t);
/* ... and the sentence-level fields (gazetteer marks, quotations) of d[0..n)
 * described token by token. (History bits: ner_hist_mark.) */
void ner_describe_sentence(const ner_model *m, const char *text, const nahr_token *toks, size_t n,
                           ner_tokdesc *d);
size_t ner_features(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i, uint32_t *f);
/* the part of ner_features that depends on the token alone (cacheable per word) */
size_t ner_features_unary(const ner_model *m, const ner_tokdesc *t, uint32_t *f);
/* The rest of ner_features (= unary then context): neighbours, gazetteer,
 * quotation and history features of token i; = ner_features_neighbour of
 * d[i-2], d[i-1], d[i+1], d[i+2] then ner_features_rest. */
size_t ner_features_context(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i,
                            uint32_t *f);
/* The features token t gives the token at -offset from it as its neighbour
 * at offset -2, -1, 1 or 2 (t NULL: beyond the sentence edge); the same for
 * every occurrence of the word (cacheable per word and offset). */
size_t ner_features_neighbour(const ner_model *m, const ner_tokdesc *t, int offset, uint32_t *f);
/* ner_features_unary(m, t, f) (the count returned) and, for r = 0..3,
 * ner_features_neighbour(m, t, offset -2, -1, 1, 2) in fn[r] (nn[r] keys):
 * the same keys in the same order, computed together (the cached tagger's
 * path for a token it has not seen; t not NULL). */
size_t ner_features_token(const ner_model *m, const ner_tokdesc *t, uint32_t *f,
                          uint32_t fn[4][NER_MAXF], size_t nn[4]);
/* The context features that are not ner_features_neighbour's: shape trigram,
 * bigrams, gazetteer marks, cluster bigram, quotations, history. */
size_t ner_features_rest(const ner_model *m, const ner_tokdesc *d, size_t n, size_t i, uint32_t *f);

/* decoding: emit is n x NER_NTAGS, bp n x NER_NTAGS bytes of scratch */
void ner_viterbi(const float *emit, const float trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                 uint8_t *bp, uint8_t *out);
/* The same decoding without back-pointers, overwriting emit (the run-time path). */
void ner_viterbi_inplace(float *emit, const float trans[NER_NTAGS + 1][NER_NTAGS], size_t n, uint8_t *out);
int ner_bio_allowed(unsigned prev, unsigned cur); /* prev == NER_NTAGS: sentence start */
/* Emission scores (n x NER_NTAGS) of a described sentence: every feature's
 * weights summed, scaled, O penalty applied. The fast scoring path. */
void ner_emissions(const ner_model *m, const ner_tokdesc *d, size_t n, float *emit);

/* the model */
ner_model *ner_model_new(void);
/* Builds the weight table from nfeat keys and quantised rows. */
int ner_model_set_weights(ner_model *m, const uint32_t *keys, const int16_t *w, size_t nfeat,
                          float scale);
const ner_slot *ner_model_find(const ner_model *m, uint32_t key);
int ner_model_save(const ner_model *m, const char *path, char *err, size_t errlen);

/* hash sets */
int ner_set_put(ner_set *s, uint32_t key, uint64_t val, int or_into);
const uint64_t *ner_set_get(const ner_set *s, uint32_t key);
void ner_set_free(ner_set *s);

/* Sizes an empty set for n keys (no rehash while filling). */
int ner_set_reserve(ner_set *s, size_t n);
/* Copies a set (dst is freed first). */
int ner_set_copy(ner_set *dst, const ner_set *src);

/* Loads a gazetteer file (one entry per line, words separated by spaces;
 * '#' starts a comment line; in "variant<TAB>canonical" lines the variant
 * counts) into m->gaz with type 1..4. Returns the number of entries or a
 * negative code. */
long ner_gaz_load(ner_model *m, const char *path, unsigned type, char *err, size_t errlen);
/* Loads a cluster file: lines "word<TAB>id0 id1 id2" (ids < 65536). */
long ner_clusters_load(ner_model *m, const char *path, char *err, size_t errlen);
/* Clusters the first maxwords vectors of a fasttext .vec file (hierarchical
 * k-means, three nested levels) into m->clusters. Returns the word count. */
long ner_clusters_from_vectors(ner_model *m, const char *path, size_t maxwords, uint64_t seed,
                               char *err, size_t errlen);
/* Clusters the maxwords most frequent words (seen >= 3 times) of unlabelled
 * text by their left/right neighbours among the ncontexts most frequent
 * words. Files: .jsonl (the "text" of each line) or plain text (one article
 * per line), tokenised by nahr_tokenize. Returns the word count. */
long ner_clusters_from_text(ner_model *m, const char *const *files, size_t nfiles,
                            size_t maxwords, size_t ncontexts, uint64_t seed, char *err,
                            size_t errlen);

/* Writes the unlabelled text of files (as for ner_clusters_from_text) to out
 * tokenised and normalised as the tagger sees it: tokens separated by one
 * space, one article per line (the input of `fasttext skipgram`). */
long ner_unlabelled_write(const char *const *files, size_t nfiles, FILE *out, char *err,
                          size_t errlen);

/* ---- news evidence (NER_F_NEWS, ner_news.c) ----
 * An automatic gazetteer: unlabelled news tagged by a first model, and for
 * each frequent normalised word (and clitic-stripped stem) how often it was
 * inside an entity of each type. m->news maps the word hash, or
 * NER_NEWS_STEM_KEY(stem hash), to 4 x 2 bits: bucket of the fraction of its
 * occurrences tagged as type t (bits 2(t-1)..2(t-1)+1; 0: < 0.1, 1: >= 0.1,
 * 2: >= 0.3, 3: >= 0.6). */
#define NER_NEWS_STEM_KEY(stem) ner_mix((stem), 0x5e75e75u)
/* every type >= 0.6: never packed (the fractions sum to at most 1) */
#define NER_NEWS_ABSENT 0xFFu
typedef struct ner_news ner_news;
/* Reads and tokenises unlabelled news (files as for ner_clusters_from_text)
 * and keeps them in memory for ner_news_table. Free with ner_news_free. */
int ner_news_load(const char *const *files, size_t nfiles, ner_news **out, char *err,
                  size_t errlen);
void ner_news_free(ner_news *nw);
size_t ner_news_bytes(const ner_news *nw);
/* Tags the news with m (one call per article) and fills table (emptied
 * first) with the packed buckets (thresholds thr, per mille) of every word
 * and stem seen at least min_count times. */
int ner_news_table(const ner_model *m, const ner_news *nw, unsigned min_count,
                   const uint16_t thr[3], ner_set *table);
/* The same, and (agree not NULL) the tags of the news kept for
 * self-training: */
int ner_news_tables(const ner_model *m, const ner_news *nw, unsigned min_count,
                    const uint16_t thr[3], ner_set *table, uint8_t *agree);
/* ---- self-training on the news (--self-train) ----
 * agree (ner_news_ntok bytes, NER_AGREE_UNSET at first): ner_news_tables
 * writes each token's tag there, or NER_AGREE_NO once two models differed.
 * ner_news_select makes a corpus of at most max news sentences (5..100
 * tokens, spread evenly over the news) whose every token got the same tag
 * from every model and that hold at least one entity, tagged so. */
#define NER_AGREE_UNSET 0xFEu
#define NER_AGREE_NO 0xFFu
size_t ner_news_ntok(const ner_news *nw);
/* The packed buckets of counts cnt[0] = occurrences, cnt[t] = tagged type t:
 * with the default thresholds (0.1, 0.3, 0.6), or with thr (per mille). */
uint8_t ner_news_pack(const uint32_t cnt[NER_NTYPES + 1]);
uint8_t ner_news_pack_at(const uint32_t cnt[NER_NTYPES + 1], const uint16_t thr[3]);
extern const uint16_t ner_news_thresholds[3];     /* 100, 300, 600 */
extern const uint16_t ner_news_thresholds_low[3]; /* 30, 150, 500 (--news-low, tried) */
/* Calls fn for the tokens of each article of the files (JSON Lines with a
 * "text" key, or plain text, one article per line); h = normalised word
 * hashes. A non-zero return of fn stops the reading and is returned. */
typedef int (*ner_article_fn)(const char *text, const nahr_token *toks, const uint32_t *h,
                              size_t n, void *arg);
int ner_for_each_article(const char *const *files, size_t nfiles, ner_article_fn fn, void *arg,
                         char *err, size_t errlen);

/* ---- spelling-dictionary classes (NER_F_LEX, ner_lex.c) ----
 * m->lex maps a normalised word hash to the class of the word in a
 * spelling dictionary: NER_LEX_IN (some surface form of it is a word),
 * NER_LEX_STEMIN (none is, but a proclitic strip of one is), NER_LEX_OUT
 * (neither: often a transliterated foreign name). A word the table does not
 * hold is NER_LEX_UNKNOWN. A stem is looked up as a word. */
#define NER_LEX_UNKNOWN 0u
#define NER_LEX_IN 1u
#define NER_LEX_STEMIN 2u
#define NER_LEX_OUT 3u
/* NER_F_LEXSP: m->lex also maps NER_LEX_TRI_KEY(hash of a letter trigram of
 * a normalised stem, '^' and '$' marking its ends) to NER_LEX_TRI_BASE + 100
 * + q, q = 8 x the log-odds of the trigram in the stems of dictionary-out
 * against dictionary-in words (clipped to -100..100). */
#define NER_LEX_TRI_KEY(h) ner_mix((h), 0x7219a3c5u)
#define NER_LEX_TRI_BASE 16u
/* The bucket (1..6; 0: no trigram) of the mean trigram score of a
 * normalised stem s[0..n). */
unsigned ner_lex_spell_bucket(const ner_model *m, const char *s, size_t n);
/* The trigram hashes of "^" s "$" (code points); out has room for n + 2. */
size_t ner_lex_trigram_hashes(const char *s, size_t n, uint32_t *out);
/* Is the NUL-terminated UTF-8 word w spelled right? */
typedef int (*ner_lex_spell_fn)(const char *w, void *arg);
/* Fills m->lex (emptied first) with the class of every Arabic word type of
 * the files (as for ner_clusters_from_text) whose normalised form occurs at
 * least min_count times there. Returns the number of entries or a negative
 * code (err says why). */
long ner_lex_build(ner_model *m, ner_lex_spell_fn spell, void *arg, const char *const *files,
                   size_t nfiles, unsigned min_count, char *err, size_t errlen);
/* Adds the trigram scores (NER_F_LEXSP) of the stems of the words m->lex
 * classes in or out, from the same files. Returns the number of trigrams. */
long ner_lex_trigrams(ner_model *m, const char *const *files, size_t nfiles, char *err,
                      size_t errlen);
/* The same with libhunspell and DIR/ar.aff, DIR/ar.dic; a clear error when
 * the dictionary is absent or the build has no libhunspell. */
long ner_lex_build_hunspell(ner_model *m, const char *dir, const char *const *files,
                            size_t nfiles, unsigned min_count, char *err, size_t errlen);

/* ---- CoNLL corpora ---- */
typedef struct ner_corpus {
    char *text;         /* tokens joined by ' ', sentences by '\n' */
    size_t textlen;
    nahr_token *toks;   /* last token of each sentence flagged NAHR_TOK_SENT_END */
    uint8_t *gold;      /* tag ids as read (orphan I- tags kept) */
    size_t ntok;
    size_t *sent;       /* sentence k = tokens [sent[k], sent[k+1]) */
    size_t nsent;
} ner_corpus;

/* Grows the array *p (elem bytes each) to hold at least need elements,
 * doubling from 1024; 0, or NAHR_ENOMEM with *p unchanged. */
int ner_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Reads "token<TAB or SPACE>tag" lines, blank lines between sentences. Tags:
 * O, B-/I- with PER or PERS, LOC, ORG, MISC. Extra columns before the tag are
 * ignored (the tag is the last field). Errors name file and line. */
int ner_conll_read(const char *path, ner_corpus *c, char *err, size_t errlen);
int ner_conll_parse(const char *data, size_t len, const char *name, ner_corpus *c, char *err,
                    size_t errlen);
/* Tokens in the longest sentence of c (at least 1). */
size_t ner_corpus_maxlen(const ner_corpus *c);
/* The same for sentence bounds sent[0..nsent] (sentence k = [sent[k], sent[k+1])). */
size_t ner_sent_maxlen(const size_t *sent, size_t nsent);
void ner_corpus_free(ner_corpus *c);
/* The news sentences for self-training (see NER_AGREE_UNSET above); with
 * known (normalised word hashes, NULL: none), only sentences where some
 * word inside an entity is not in known. out is empty when none qualifies.
 * Free with ner_corpus_free. */
int ner_news_select(const ner_news *nw, const uint8_t *agree, size_t max, const ner_set *known,
                    ner_corpus *out);
/* tag id from text ("B-PERS", "I-LOC", "O"...), -1 if unknown */
int ner_tag_parse(const char *s, size_t n);
/* From now on ner_tag_parse() (and so ner_conll_parse) reads B-/I- tags of
 * entity types it does not know (B-DATE, B-NORP...) as O instead of
 * refusing them (the evaluation tools' --unknown-tags o). */
void ner_conll_unknown_as_o(int on);

/* ---- entity-level scoring (conlleval chunking) ---- */
typedef struct ner_score {
    size_t tp[NER_NTYPES + 1], fp[NER_NTYPES + 1], fn[NER_NTYPES + 1]; /* [0] = all types */
} ner_score;
/* Adds one sentence (chunks never cross calls). An I-X that does not
 * continue an X chunk starts a new chunk; only exact span+type matches count. */
void ner_score_add(ner_score *s, const uint8_t *gold, const uint8_t *pred, size_t n);
/* type 0 = micro over all types. Returns F1 (0 when undefined). */
double ner_score_prf(const ner_score *s, unsigned type, double *p, double *r);
void ner_score_print(const ner_score *s, FILE *out);
extern const char *const ner_type_names[NER_NTYPES + 1]; /* "ALL","PER","LOC","ORG","MISC" */

/* Tags every sentence of c into pred (c->ntok entries). */
int ner_tag_corpus(const ner_model *m, const ner_corpus *c, uint8_t *pred);
/* The same, with the prediction history of a NER_F_HIST model: a corpus has
 * no article marks, so it is cut into pseudo-articles of m->hist_window
 * sentences, and each sentence sees how the sentences before it in its
 * block were tagged (0: no history; ner_tag_corpus for other models). */
int ner_tag_corpus_doc(const ner_model *m, const ner_corpus *c, uint8_t *pred);
/* ner_tag_corpus_doc's walk with another scorer: every sentence of c in
 * order is described (m), given (hist set) the history of the sentences
 * before it in its block as pred has their tags, then tag(arg, d, n, tags)
 * writes its n tags to pred (BIO: the next sentences' history reads them).
 * 0, NAHR_ENOMEM, or what tag returned when not 0. */
int ner_hist_walk(const ner_model *m, const ner_corpus *c, int hist, uint8_t *pred,
                  int (*tag)(void *arg, const ner_tokdesc *d, size_t n, uint8_t *tags),
                  void *arg);

/* ---- training ---- */
typedef struct ner_train_opts {
    int epochs;
    uint64_t seed;
    double dev_fraction; /* last fraction of the sentences held out as dev */
    int refit;           /* after the dev run, retrain on all sentences for the best epoch count */
    int verbose;
    double prune;        /* drop features whose |averaged weight| < prune for all tags */
    int dict;            /* training-data dictionary features (jackknifed over folds) */
    int tune_o;          /* choose the O penalty on dev (needs dev_fraction > 0) */
    unsigned min_count;  /* features seen fewer times in training are not used (0/1 = all) */
    unsigned hist_window; /* > 0: prediction-history features; the corpus is cut into
                           * pseudo-articles of that many sentences (see ner_train.c) */
    int ensemble;         /* > 1: mean of that many perceptrons shuffled differently */
    const ner_news *news; /* non-NULL: news-evidence features (NER_F_NEWS), jackknifed */
    unsigned news_min;    /* words seen fewer times in the news are left out of the table */
    int news_low;         /* lower bucket thresholds (ner_news_thresholds_low) */
    int doc2;             /* with hist_window: two-sided history (NER_F_DOC2) */
    size_t self_train;    /* with news: at most that many news sentences the first-pass models
                           * all tagged alike added to the training sentences */
    int self_new;         /* self-training: only sentences with an entity word unseen in train */
    int news_rounds;      /* 2: the news tagged again by fold models that have the round-1
                           * evidence (and the history), jackknifed the same way; 0/1: once */
    int news_round_plain; /* the fold models of the later rounds without the history */
    int news_round_keep;  /* later rounds keep the first round's tables: their models only
                           * choose the --self-train sentences */
    int learner;          /* NER_LEARN_PERCEPTRON (0, the default) or NER_LEARN_CRF: every
                           * model of the training (first-pass folds, dev run, refit);
                           * NER_LEARN_MIX */
    double crf_c2;        /* CRF: L2 coefficient (objective: sum of the sentences' negative
                           * log-likelihoods + c2/2 |w|^2); 0 = NER_CRF_C2 */
    double crf_eta;       /* CRF: initial SGD step; 0 = NER_CRF_ETA */
    int crf_plain;        /* CRF: the last weights, not the mean over the steps (averaged SGD) */
    int bilou;            /* experiment (ner_train.c): the dev-run perceptrons over BILOU tags
                           * (NER_BILOU_TAGS; 1) or, as a check of the same code, over the BIO
                           * tags (NER_BILOU_CHECK); dev tagged with the trainers' weights, the
                           * model keeps the first pass's weights */
} ner_train_opts;
#define NER_MAX_ENSEMBLE 8
#define NER_LEARN_PERCEPTRON 0
#define NER_LEARN_CRF 1
#define NER_LEARN_MIX 2 /* the perceptron ensemble and one CRF, half and half (the fold
                         * models of the first pass: perceptrons) */
#define NER_CRF_C2 1.0
#define NER_CRF_ETA 0.1
#define NER_BILOU_TAGS 1
#define NER_BILOU_CHECK 2
#define NER_BILOU_SHARE 3 /* BILOU, each feature also with BIO weights added */
/* The BILOU tags of --bilou: 0 = O, then for type X = 1..4 (PER LOC ORG
 * MISC) 4 (X - 1) + 1 + kind, kind 0 B (first word of a longer entity), 1 I
 * (inside), 2 L (last word), 3 U (an entity of one word). */
#define NER_BILOU_NTAGS 17u
/* BIO tags of one sentence to BILOU (an I-X not continuing an X entity starts
 * one, as the scorer reads it), and back (B, U to B-X; I, L to I-X). */
void ner_bilou_from_bio(const uint8_t *bio, size_t n, uint8_t *out);
void ner_bilou_to_bio(const uint8_t *tags, size_t n, uint8_t *out);
/* May BILOU tag cur follow prev (NER_BILOU_NTAGS: the sentence start)? May
 * a sentence end on tag t? */
int ner_bilou_allowed(unsigned prev, unsigned cur);
int ner_bilou_final(unsigned t);
/* Viterbi over the BILOU tags under those constraints: emit n x 17, bp n x
 * 17 bytes of scratch, trans [prev][cur] with row 17 the start. Ties: the
 * lowest previous tag. */
void ner_bilou_viterbi(const float *emit, const float trans[NER_BILOU_NTAGS + 1][NER_BILOU_NTAGS],
                       size_t n, uint8_t *bp, uint8_t *out);

/* ---- linear-chain CRF (--learner crf) ----
 * The log-likelihood of the tags gold[0..n) of one sentence under the
 * scores emit (n x NER_NTAGS) and trans ([prev][cur], row NER_NTAGS = the
 * sentence start), the sum running over the valid BIO sequences only (the
 * ones Viterbi decodes). marg (n x NER_NTAGS) gets the tag marginals and
 * pair the expected transition counts (each entry added to, not set), so
 * d loglik / d emit[i][t] = [gold[i] == t] - marg[i][t] and
 * d loglik / d trans[a][b] = (gold count of a -> b) - pair[a][b].
 * work: 2 n x NER_NTAGS + n doubles. gold must be valid BIO. */
double ner_crf_loglik(const double *emit, const double trans[NER_NTAGS + 1][NER_NTAGS], size_t n,
                      const uint8_t *gold, double *marg, double pair[NER_NTAGS + 1][NER_NTAGS],
                      double *work);

/* Trains on c. m holds the auxiliary data (gazetteers, clusters) and
 * receives the weights. Progress goes to log (may be NULL). */
int ner_train(const ner_corpus *c, const ner_train_opts *o, ner_model *m, FILE *log);

/* ---- article context, the run-time path (ner_actx.c, ner_model.c) ----
 * The tagger keeps per token what ner_actx_add computes of the word alone
 * (its trigger bits and its stem's table key) and the table slots a token
 * was recorded at, so the pass and the marks look nothing up twice. */
#define NER_TRIG_WBIN 0x80u /* ner_actx_trig: the word itself (not its stem) is NER_TRIG_BIN */
/* The trigger bits of a token: those of its word and of its stem, and
 * NER_TRIG_WBIN. */
uint8_t ner_actx_trig(const ner_model *m, uint32_t word, uint32_t stem);
/* The table key of a stem (never 0). */
uint32_t ner_actx_stem_key(uint32_t stem);
/* ner_actx_add(a, m, word, stem, punct) with trig = ner_actx_trig(m, word,
 * stem) and skey = ner_actx_stem_key(stem) given (both unused for
 * punctuation); slot (NULL: not wanted) gets the slots of the word and of
 * the stem (NER_ACTX_NONE: none). */
void ner_actx_add_key(ner_actx *a, uint32_t word, uint32_t skey, uint8_t trig, int punct,
                      uint16_t *slot);
/* ner_actx_mark from the slots ner_actx_add_key gave the n tokens (2 per
 * token), once the article is recorded: the same marks, no lookup. */
void ner_actx_mark_slots(const ner_actx *a, size_t n, const uint16_t *slot, ner_tokdesc *d);

/* The highest score of the entity tags (1 .. NER_NTAGS - 1) of an emission
 * row e: the definition, one tag after the other. */
static inline float ner_best_entity_plain(const float *e)
{
    float best = e[1];
    for (unsigned t = 2; t < NER_NTAGS; t++)
        best = e[t] > best ? e[t] : best;
    return best;
}

/* The same, 4 lanes at a time: the maximum does not depend on the order for
 * scores that are not NaN (emission scores never are), except which of +0
 * and -0 a tie gives (scores are (float)int * scale: -0 only for scale < 0). */
static inline float ner_best_entity(const float *e)
{
#if defined(__SSE2__)
    _Static_assert(NER_NTAGS == 9, "tags 1..8: two vectors of 4");
    __m128 v = _mm_max_ps(_mm_loadu_ps(e + 1), _mm_loadu_ps(e + 5));
    v = _mm_max_ps(v, _mm_shuffle_ps(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_max_ps(v, _mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtss_f32(v);
#else
    return ner_best_entity_plain(e);
#endif
}

#endif
