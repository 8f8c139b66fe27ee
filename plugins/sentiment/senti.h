/* senti.h - internals of the sentiment plugin, shared by the plugin, its
 * training tool and its evaluation tool (so all three score text the same
 * way). Not a public header.
 *
 * Pieces:
 *  - senti_lexicon: terms (words and phrases, normalised with
 *    nahr_ar_normalize) -> polarity weight, negator or modifier; an
 *    open-addressing hash, read-only after loading, safe to share.
 *  - senti_model: a linear classifier over hashed word and character
 *    n-grams (trained with liblinear by sentiment-train), read-only.
 *  - senti_analyze(): one pass over the text: tokens, sentences, lexicon
 *    hits with negation/modifier scopes, model decision values; gives the
 *    document score and per-sentence scores.
 * Offsets are bytes.
 */
#ifndef NAHR_SENTI_H
#define NAHR_SENTI_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <nahr/nahr.h>

/* ---------------------------------------------------------------- lexicon */
enum senti_kind {
    SENTI_POLAR = 1,    /* value = polarity weight (negative < 0 < positive) */
    SENTI_NEGATOR = 2,  /* flips the polarity of the next words */
    SENTI_MODIFIER = 3  /* value = multiplier (>1 intensifier, <1 diminisher) */
};

#define SENTI_BLOOM_BITS (1u << 16)
#define SENTI_PAIR_BITS (1u << 16)
#define SENTI_STEM_BITS (1u << 18)

typedef struct senti_entry {
    uint64_t hash;
    uint32_t key_off; /* into pool */
    uint16_t key_len;
    uint8_t kind;     /* 0 = only a phrase prefix, else enum senti_kind */
    uint8_t prefix;   /* 1 when a longer phrase starts with this key */
    float value;
} senti_entry;

typedef struct senti_lexicon {
    senti_entry *slots; /* capacity = mask + 1, hash 0 = empty */
    size_t mask;
    size_t count;       /* full entries (not counting prefix-only slots) */
    size_t used;        /* occupied slots */
    char *pool;
    size_t pool_len, pool_cap;
    int max_words;      /* longest phrase, in words */
    uint64_t bloom[SENTI_BLOOM_BITS / 64]; /* 1 bit per key hash: cheap rejects */
    /* 1 bit per split of a key at one of its spaces, "K W..." -> (hash of
     * key K, senti_word_hash of "W..."): a phrase cannot go on from K with
     * a word whose bit is clear (senti_lexicon_pair_maybe) */
    uint64_t pair_bloom[SENTI_PAIR_BITS / 64];
    /* 2 bits per key from senti_stem_hash(): a word's candidate stems are
     * tested here first (senti_lexicon_stem_maybe), most words have none */
    uint64_t stem_bloom[SENTI_STEM_BITS / 64];
} senti_lexicon;

/* Error location for loaders: "file:line: message". */
typedef struct senti_error {
    char msg[512];
} senti_error;

senti_lexicon *senti_lexicon_new(void);
void senti_lexicon_free(senti_lexicon *lx);
/* Loads a TSV lexicon file and adds (or replaces) its entries. Format, one
 * entry a line, '#' comments and blank lines ignored, extra columns ignored:
 *   term<TAB>value
 * value: a number (polarity weight, non-zero, |w| <= 5), positive, negative,
 * compound_pos, compound_neg (NileULex), "negator", "x<m>" for a
 * modifier with multiplier m in (0, 5] (x1.5 intensifier, x0.5 diminisher),
 * or "ignore" (removes a term an earlier file added).
 * A first line starting with "term<TAB>" is a header and is skipped.
 * Returns 0, or a negative NAHR_E* code with err filled ("path:line: ..."). */
int senti_lexicon_load(senti_lexicon *lx, const char *path, senti_error *err);
/* Adds one term (raw text, normalised here); kind 0 removes it. 0 or a
 * negative code. */
int senti_lexicon_add(senti_lexicon *lx, const char *term, size_t n, int kind, float value);
/* Looks a normalised key up; NULL when absent. */
const senti_entry *senti_lexicon_get(const senti_lexicon *lx, const char *key, size_t n);

/* FNV-1a of a normalised word (seed 1): the model's unigram hash, and the
 * word half of the lexicon's pair filter. */
static inline uint64_t senti_word_hash(const char *w, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)w[i];
        h *= 1099511628211ull;
    }
    return h;
}

static inline size_t senti_pair_bit(uint64_t key_hash, uint64_t word_hash)
{
    uint64_t h = key_hash ^ (word_hash * 0x9E3779B97F4A7C15ull);
    h ^= h >> 31;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    return (size_t)(h & (SENTI_PAIR_BITS - 1));
}

/* 0 when no key is "K W" with K the key of entry e (hash e->hash) and W the
 * word of hash word_hash (senti_word_hash of its normalised form): then
 * senti_lexicon_get(K + ' ' + W) is NULL for sure. 1 = maybe. */
static inline int senti_lexicon_pair_maybe(const senti_lexicon *lx, const senti_entry *e, uint64_t word_hash)
{
    size_t b = senti_pair_bit(e->hash, word_hash);
    return (lx->pair_bloom[b / 64] >> (b % 64)) & 1;
}

/* The stem filter's hash of a key s[0..n) (n >= 1): its length and its
 * first four and last eight bytes (overlapping loads inside s; fewer
 * below eight bytes). The bytes between do not count: two keys that
 * differ only there share bits, which makes a false "maybe", never a false
 * "no". O(1) whatever the length, so a word's candidate stems are checked
 * without hashing each. */
static inline uint64_t senti_stem_hash(const char *s, size_t n)
{
    uint64_t a, b;
    if (n >= 8) {
        uint32_t lo;
        memcpy(&lo, s, 4);
        memcpy(&b, s + n - 8, 8);
        a = lo;
    } else if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        a = lo;
        b = hi;
    } else {
        const unsigned char *u = (const unsigned char *)s;
        a = (uint64_t)u[0] | (uint64_t)u[n >> 1] << 8 | (uint64_t)u[n - 1] << 16;
        b = 0;
    }
    return (a + n * 0x9E3779B97F4A7C15ull) * 0xff51afd7ed558ccdull ^ b * 0xc4ceb9fe1a85ec53ull;
}

/* The two stem filter bits of a stem hash. */
static inline void senti_stem_bits(uint64_t h, size_t *a, size_t *b)
{
    *a = (size_t)(h >> 46) & (SENTI_STEM_BITS - 1);
    *b = (size_t)(h >> 20) & (SENTI_STEM_BITS - 1);
}

/* 0 when no key of the table has stem hash h (senti_stem_hash of the key):
 * senti_lexicon_get() of that string is NULL for sure. 1 = maybe. */
static inline int senti_lexicon_stem_maybe(const senti_lexicon *lx, uint64_t h)
{
    size_t a, b;
    senti_stem_bits(h, &a, &b);
    return (int)((lx->stem_bloom[a / 64] >> (a % 64)) & (lx->stem_bloom[b / 64] >> (b % 64)) & 1);
}

/* ------------------------------------------------------------------ model */
#define SENTI_MAX_CLASSES 8
/* Class order used everywhere: */
enum { SENTI_NEG = 0, SENTI_NEU = 1, SENTI_POS = 2 };
extern const char *const senti_label_names[3]; /* "negative","neutral","positive" */
/* Maps a dataset label to a 3-way class: positive/pos -> POS, negative/neg ->
 * NEG, neutral/mixed/objective/obj/none -> NEU; -1 when unknown. */
int senti_label_parse(const char *s, size_t n);

typedef struct senti_featcfg {
    int bits;       /* hash space = 1 << bits */
    int word_ngrams; /* 1 = unigrams, 2 = + bigrams */
    int char_min, char_max; /* character n-grams of "<word>", 0 0 = none */
} senti_featcfg;

typedef struct senti_model {
    senti_featcfg fc;
    int nr_class;                /* always 3 here, order NEG NEU POS */
    float *w;                    /* (1 << bits) * nr_class, row-major */
    float bias[SENTI_MAX_CLASSES];
} senti_model;

/* Hashes of one word token's features; writes at most max indices, returns
 * the number written. `word` is NORMALISED text; prev is the previous word's
 * unigram hash in the sentence (0 = none); *uni gets this word's unigram hash
 * (for the next call). Used by training and scoring alike. */
size_t senti_token_features(const senti_featcfg *fc, const char *word, size_t n, uint64_t prev,
                            uint64_t *uni, uint32_t *out, size_t max);
/* senti_token_features() with prev 0 (the word's own features), their
 * weight rows summed into sum[0..3) in that order (bit-identical to
 * fetching the indices and adding the rows one by one), without the index
 * array. Returns the number of features. */
size_t senti_token_weights(const senti_model *m, const char *word, size_t n, uint64_t *uni, float *sum);
/* A 64-bit feature hash folded into [0, mask] (mask = 2^bits - 1). */
static inline uint32_t senti_fold_mask(uint64_t h, uint64_t mask)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)(h & mask);
}
/* A 64-bit feature hash folded into [0, 2^bits). */
static inline uint32_t senti_fold(uint64_t h, int bits)
{
    return senti_fold_mask(h, (1ull << bits) - 1);
}
/* The word-pair feature of senti_token_features() (its second index when
 * prev != 0 and word_ngrams >= 2), for callers that cached the rest. */
static inline uint32_t senti_bigram_feature(const senti_featcfg *fc, uint64_t prev, uint64_t uni)
{
    return senti_fold(prev * 31 + uni + 0x51ed27, fc->bits);
}
/* The same with mask = 2^bits - 1 given (hoisted out of a token loop). */
static inline uint32_t senti_bigram_feature_mask(uint64_t prev, uint64_t uni, uint64_t mask)
{
    return senti_fold_mask(prev * 31 + uni + 0x51ed27, mask);
}
#define SENTI_MAX_TOKEN_FEATURES 512

/* Model file: text, see model.c. Errors name file and line. */
int senti_model_load(const char *path, senti_model **out, senti_error *err);
int senti_model_save(const senti_model *m, const char *path, double prune);
void senti_model_free(senti_model *m);
/* Class probabilities (one-vs-rest logistic, normalised) from decision
 * sums over nfeat feature occurrences: dec = sums / sqrt(nfeat) + bias. */
void senti_model_probs(const senti_model *m, const float *sums, uint32_t nfeat, double *probs);

/* --------------------------------------------------------------- analysis */
typedef struct senti_config {
    const senti_lexicon *lex;   /* required */
    const senti_model *model;   /* may be NULL */
    double model_weight;        /* 0..1, share of the model score */
    double neutral_band;        /* |score| < band -> neutral */
    double length_damping;      /* beta: per-word damping of the lexicon score */
    int negation_window;        /* words after a negator that it flips */
    /* Training only: when set (and model is NULL), every token's feature
     * indices under sink_fc are passed to feature_sink. */
    void (*feature_sink)(void *arg, const uint32_t *feats, size_t k);
    void *sink_arg;
    const senti_featcfg *sink_fc;
    /* Diagnostics only (sentiment-eval --hits): when set, hit_counts[slot]
     * counts matches of each lexicon slot. Not thread-safe. */
    uint32_t *hit_counts;
} senti_config;

typedef struct senti_sentence {
    size_t start, end;  /* bytes of the original text */
    double pos, neg;    /* lexicon mass (neg >= 0) */
    uint32_t nwords;
    uint32_t nfeat;
    float sums[SENTI_MAX_CLASSES];
    double mscore;      /* model: p(pos) - p(neg) of this sentence (0 without model) */
    double score;       /* combined, [-1, 1] */
    int label;          /* SENTI_NEG/NEU/POS */
} senti_sentence;

typedef struct senti_wcache senti_wcache;
struct wc_entry;

/* Per-thread state of senti_analyze(): zero-initialise, free with
 * senti_worker_free(). Besides the token and sentence buffers it keeps a
 * bounded cache of what does not depend on a word's context (normalised
 * form, model features, the lexicon match when no phrase can start there),
 * keyed by the token's bytes, so frequent words are normalised, hashed and
 * looked up once per thread instead of once per occurrence. */
typedef struct senti_worker {
    nahr_token *toks;
    size_t tok_cap;
    senti_sentence *sents;
    size_t sent_cap;
    senti_wcache *cache; /* allocated on first use (8 MB of address space, pages backed as used) */
    const struct wc_entry **sets; /* a chunk's tokens' cache sets (grows like toks) */
    size_t sets_cap;
} senti_worker;

typedef struct senti_result {
    double score, lex_score, model_score;
    int label;
    double pos, neg;     /* lexicon mass, whole text */
    double model_wsum;   /* words behind model_score (0 = no model score) */
    size_t nwords, nhits;
    senti_sentence *sents; /* in the worker; valid until the next analyze */
    size_t nsent;
} senti_result;

/* Max sentences kept per text: beyond it the rest joins the last sentence. */
#define SENTI_MAX_SENTENCES 100000
/* senti_analyze() tokenises a text in chunks of at most this many bytes (cut
 * at a space): the token array stays bounded whatever the text size. */
#define SENTI_CHUNK (256u * 1024u)

/* nahr_ar_normalize(s, len, out, NULL) (out needs len + 1 bytes). */
size_t senti_normalize(const char *s, size_t len, char *out);

void senti_worker_free(senti_worker *w);
int senti_analyze(const senti_config *cfg, senti_worker *w, const char *text, size_t n,
                  senti_result *out);
/* senti_analyze() with the text's tokens already made (nahr_tokenize() of
 * text[0..n), e.g. nahr_doc_tokens()): used when the text is one chunk
 * (n <= SENTI_CHUNK); else, or with toks NULL, the text is tokenised here
 * chunk by chunk. Same results either way. */
int senti_analyze_tokens(const senti_config *cfg, senti_worker *w, const char *text, size_t n,
                         const nahr_token *toks, size_t ntoks, senti_result *out);
/* Combined score of a lexicon mass over nwords words and a model score
 * (p(pos) - p(neg); ignored when has_model is 0 or cfg has no model). */
double senti_combine(const senti_config *cfg, double pos, double neg, uint32_t nwords,
                     int has_model, double mscore, double *lex_score);
int senti_label_of(const senti_config *cfg, double score);

#endif
