/* analyze.c - one pass of lexicon and model scoring over a text.
 *
 * The text is tokenised in chunks of at most CHUNK bytes (cut at a space),
 * so the token array stays bounded whatever the article size. Each word is
 * normalised into a stack buffer and looked up:
 *   1. the word as is, then with proclitics stripped (longest strip first,
 *      nahr_ar_proclitic_splits, as the entities plugin does), each
 *      candidate extended to the longest lexicon phrase starting there;
 *   2. failing that, the word and its longest strip with a plural suffix
 *      removed (ات ون ين, >= 4 letters left) or the tanween alef (ا, >= 3).
 * Negators flip (and damp by NEG_DAMP) the first polar word in the next
 * negation_window words, until punctuation. Modifiers multiply the polar
 * word just before them (within 2 words) or else the next one.
 *
 * Scores (documented in docs/sentiment.md):
 *   lexicon  = (P - N) / (P + N + 1 + beta * words)     in (-1, 1)
 *   model    = p(positive) - p(negative) per sentence; a text: word-weighted mean
 *   combined = (1 - w) * lexicon + w * model              (w = model_weight)
 *   label    = positive if combined >= band, negative if <= -band, else neutral
 */
#include "senti.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK SENTI_CHUNK
#define WORD_MAX 255
#define NEG_DAMP 0.8
#define MOD_REACH 2

static void cache_free(senti_wcache *c);

void senti_worker_free(senti_worker *w)
{
    if (!w)
        return;
    free(w->toks);
    free(w->sents);
    free(w->sets);
    cache_free(w->cache);
    w->toks = NULL;
    w->sents = NULL;
    w->cache = NULL;
    w->sets = NULL;
    w->tok_cap = w->sent_cap = w->sets_cap = 0;
}

int senti_label_of(const senti_config *cfg, double score)
{
    if (score >= cfg->neutral_band && score > 0)
        return SENTI_POS;
    if (score <= -cfg->neutral_band && score < 0)
        return SENTI_NEG;
    return SENTI_NEU;
}

double senti_combine(const senti_config *cfg, double pos, double neg, uint32_t nwords,
                     int has_model, double mscore, double *lex_score)
{
    double lex = (pos - neg) / (pos + neg + 1.0 + cfg->length_damping * nwords);
    double score = lex;
    if (cfg->model && has_model)
        score = (1.0 - cfg->model_weight) * lex + cfg->model_weight * mscore;
    if (score > 1)
        score = 1;
    if (score < -1)
        score = -1;
    if (lex_score)
        *lex_score = lex;
    return score;
}

/* ---- lexicon matching ---- */

/* Plural/feminine suffixes tried when nothing else matched. Only these:
 * pronoun suffixes and ه/ي collide with too many unrelated stems
 * (نسبة -> نسب, الذي -> الذ, مهرجان -> مهرج). */
static const char *const suffixes[] = {
    "\xd8\xa7\xd8\xaa", /* ات */
    "\xd9\x88\xd9\x86", /* ون */
    "\xd9\x8a\xd9\x86", /* ين */
    "\xd8\xa7",         /* ا (tanween al-fath: نجاحا, جيدا) */
};
static const unsigned char suffix_len[] = {4, 4, 4, 2};
static const unsigned char suffix_min_stem[] = {8, 8, 8, 6}; /* bytes left: 4, 4, 4, 3 letters */

typedef struct wc_entry wc_entry;

typedef struct scan {
    const char *text; /* chunk */
    const nahr_token *toks;
    size_t ntok;
    int chunk_cut; /* 1 when more text follows this chunk */
    const wc_entry *const *sets; /* the word cache set of each token (NULL: not cached), or NULL: no cache */
} scan;

static inline const wc_entry *next_entry(const scan *sc, size_t i, size_t j);
static inline uint64_t entry_word_hash(const wc_entry *ce);

/* The shared normaliser: its own fast path (the Arabic block from a table)
 * now does what an inline copy here used to. */
size_t senti_normalize(const char *s, size_t len, char *out)
{
    return nahr_ar_normalize(s, len, out, NULL);
}

static size_t norm_token(const char *text, const nahr_token *t, char *out)
{
    size_t len = t->end - t->start;
    if (len > WORD_MAX)
        len = WORD_MAX;
    return senti_normalize(text + t->start, len, out);
}

/* Normalises token t into norm unless *have says it is there already. */
static void need_norm(const scan *sc, const nahr_token *t, char *norm, int *have)
{
    if (!*have) {
        norm_token(sc->text, t, norm);
        *have = 1;
    }
}

static int is_wordish(const nahr_token *t)
{
    return t->kind == NAHR_TOK_WORD || t->kind == NAHR_TOK_LATIN;
}

/* Longest phrase starting with key (a candidate stem of token i). Returns the
 * entry (kind != 0) and sets *consumed, or NULL. */
/* The longest phrase starting with entry e (a candidate stem of token i
 * whose entry has prefix set): the stem (e's key) extended word by word. */
static inline __attribute__((always_inline)) const senti_entry *
extend_phrase(const senti_lexicon *lx, const scan *sc, size_t i, const senti_entry *e, size_t *consumed)
{
    const senti_entry *best = e->kind ? e : NULL;
    *consumed = 1;
    char key[4 * (WORD_MAX + 1)];
    size_t klen = e->key_len; /* key[0..klen) is e's key, copied there when first needed */
    const senti_entry *at = e; /* the entry of key[0..klen) */
    for (size_t j = i + 1, words = 1; j < sc->ntok && (int)words < lx->max_words; j++, words++) {
        if (!is_wordish(&sc->toks[j]) || (sc->toks[j - 1].flags & NAHR_TOK_SENT_END))
            break;
        if (klen + 1 + WORD_MAX + 1 > sizeof key)
            break;
        /* most phrase starts go no further: when word j is in the word
         * cache, its hash and the lexicon's pair filter usually say so
         * without normalising it and looking the longer key up */
        const wc_entry *ne = next_entry(sc, i, j);
        if (ne && !senti_lexicon_pair_maybe(lx, at, entry_word_hash(ne)))
            break;
        if (at == e)
            memcpy(key, lx->pool + e->key_off, klen);
        key[klen++] = ' ';
        klen += norm_token(sc->text, &sc->toks[j], key + klen);
        const senti_entry *p = senti_lexicon_get(lx, key, klen);
        if (!p)
            break;
        at = p;
        if (p->kind) {
            best = p;
            *consumed = j - i + 1;
        }
        if (!p->prefix)
            break;
    }
    return best;
}

/* Longest phrase starting with key (a candidate stem of token i). Returns the
 * entry (kind != 0) and sets *consumed, or NULL. *context is set when a
 * phrase may start there (the result depends on the next words). */
static const senti_entry *match_from(const senti_lexicon *lx, const scan *sc, size_t i,
                                     const char *stem, size_t slen, size_t *consumed, int *context)
{
    const senti_entry *e = senti_lexicon_get(lx, stem, slen);
    if (!e)
        return NULL;
    *consumed = 1;
    if (!e->prefix)
        return e->kind ? e : NULL;
    *context = 1;
    return extend_phrase(lx, sc, i, e, consumed);
}

/* Lookup order of a word's candidate stems: as is, then longest strip
 * first. Returns how many offsets were written to order (<= 8). */
static size_t stem_order(const char *w, size_t n, size_t *order)
{
    size_t splits[8];
    size_t ns = nahr_ar_proclitic_splits(w, n, splits, 8), no = 0;
    if (ns == 0) {
        splits[0] = 0;
        ns = 1;
    }
    order[no++] = 0;
    for (size_t k = ns; k-- > 0;)
        if (splits[k] != 0)
            order[no++] = splits[k];
    return no;
}

/* The suffix fallback: the word and its longest strip without a plural
 * suffix. Context-free. */
static const senti_entry *suffix_match(const senti_lexicon *lx, const char *w, size_t n, const size_t *order,
                                       size_t no, size_t *strip)
{
    for (size_t k = 0; k < no && k < 2; k++) {
        const char *s = w + order[k];
        size_t sl = n - order[k];
        for (size_t x = 0; x < sizeof suffixes / sizeof suffixes[0]; x++) {
            size_t xl = suffix_len[x];
            if (sl < xl + suffix_min_stem[x] || s[sl - 1] != suffixes[x][xl - 1] ||
                memcmp(s + sl - xl, suffixes[x], xl) != 0)
                continue;
            const senti_entry *e = senti_lexicon_get(lx, s, sl - xl);
            if (e && e->kind) {
                *strip = order[k];
                return e;
            }
        }
    }
    return NULL;
}

/* 1 for the two bytes of a proclitic letter: و ف ب ك ل ا. */
static inline int proclitic_letter(unsigned c, unsigned d)
{
    if (c == 0xD9)
        return d == 0x88 || d == 0x81 || d == 0x83 || d == 0x84;
    return c == 0xD8 && (d == 0xA8 || d == 0xA7);
}

/* 1 when u[i..i+2) (i + 2 <= n) is a mark: U+064B..U+065F, U+0670, tatweel. */
static inline int is_mark_at(const unsigned char *u, size_t i, size_t n)
{
    return i + 1 < n && u[i] == 0xD9 &&
           ((u[i + 1] >= 0x8B && u[i + 1] <= 0x9F) || u[i + 1] == 0xB0 || u[i + 1] == 0x80);
}

/* Bounds of the proclitic splits of w[0..n): a split steps over at most
 * four proclitic letters (conjunction, preposition or لل, article), each
 * with the marks after it, two bytes each. So every split is an even
 * offset in [*lo, split_bound()], and there is none when this is 0 (the
 * first letter is not one of them: most words). A word that starts with
 * alef has one split at most, after its article ال (and the marks): *lo
 * is 4 and the bound the end of the lam with its marks. Else *lo is 2. */
static inline size_t split_bound(const unsigned char *u, size_t n, size_t *lo)
{
    size_t i = 0;
    *lo = 2;
    if (n < 4 || !proclitic_letter(u[0], u[1]))
        return 0;
    if (u[0] == 0xD8 && u[1] == 0xA7) { /* alef: the article or nothing */
        for (i = 2; is_mark_at(u, i, n); i += 2)
            ;
        if (!(i + 1 < n && u[i] == 0xD9 && u[i + 1] == 0x84)) /* ل */
            return 0;
        for (i += 2; is_mark_at(u, i, n); i += 2)
            ;
        *lo = 4;
        return i;
    }
    for (int letters = 0; letters < 4 && i + 1 < n && proclitic_letter(u[i], u[i + 1]); letters++) {
        i += 2;
        while (is_mark_at(u, i, n))
            i += 2;
    }
    return i;
}

/* 1 when the stem filter lets one of w[0..end) and w[o..end), o even in
 * [lo, bound], through, for candidates of at least min_len (>= 1) bytes;
 * a strip leaves at least two letters, so two bytes. */
static inline int stems_maybe(const senti_lexicon *lx, const char *w, size_t end, size_t lo, size_t bound,
                              size_t min_len)
{
    if (end >= min_len && senti_lexicon_stem_maybe(lx, senti_stem_hash(w, end)))
        return 1;
    size_t strip_min = min_len > 2 ? min_len : 2;
    for (size_t o = lo; o <= bound && end >= o + strip_min; o += 2)
        if (senti_lexicon_stem_maybe(lx, senti_stem_hash(w + o, end - o)))
            return 1;
    return 0;
}

/* 0 when none of the strings lookup_stems() looks up is a key of the
 * lexicon: the word, each proclitic strip (split_bound()), and for the
 * suffix fallback the same without the plural/tanween suffix the word ends
 * with. Then lookup_stems() gives NULL and leaves *context alone. A few
 * O(1) filter tests instead of the proclitic splits and a hash and lookup
 * per candidate: most words of a text match no entry. */
static inline __attribute__((always_inline)) int lexicon_may_match(const senti_lexicon *lx, const char *w,
                                                                   size_t n)
{
    const unsigned char *u = (const unsigned char *)w;
    size_t lo, bound = split_bound(u, n, &lo);
    if (stems_maybe(lx, w, n, lo, bound, 1))
        return 1;
    if (n < 2)
        return 0;
    unsigned last = u[n - 1];
    if (last != 0xA7 && last != 0xAA && last != 0x86) /* ends with none of ا ت ن: no suffix */
        return 0;
    for (size_t x = 0; x < sizeof suffixes / sizeof suffixes[0]; x++) {
        size_t xl = suffix_len[x];
        const unsigned char *sx = (const unsigned char *)suffixes[x];
        if (n < xl + suffix_min_stem[x] || last != sx[xl - 1] || u[n - 2] != sx[xl - 2] ||
            (xl == 4 && (u[n - 4] != sx[0] || u[n - 3] != sx[1])))
            continue;
        if (stems_maybe(lx, w, n - xl, lo, bound, suffix_min_stem[x]))
            return 1;
    }
    return 0;
}

/* *context is set to 1 when the result depends on the words that follow
 * (a phrase entry starts at one of the candidates); else it depends on w
 * alone and may be cached. The plain lookup: every candidate stem. */
static const senti_entry *lookup_stems(const senti_lexicon *lx, const scan *sc, size_t i,
                                       const char *w, size_t n, size_t *consumed, size_t *strip,
                                       int *context)
{
    size_t order[8];
    size_t no = stem_order(w, n, order);
    for (size_t k = 0; k < no; k++) {
        const senti_entry *e = match_from(lx, sc, i, w + order[k], n - order[k], consumed, context);
        if (e) {
            *strip = order[k];
            return e;
        }
    }
    const senti_entry *e = suffix_match(lx, w, n, order, no, strip);
    if (e)
        *consumed = 1;
    return e;
}

/* lookup_stems() behind the stem filter: the same results. */
static const senti_entry *lookup_word(const senti_lexicon *lx, const scan *sc, size_t i,
                                      const char *w, size_t n, size_t *consumed, size_t *strip,
                                      int *context)
{
    if (!lexicon_may_match(lx, w, n))
        return NULL;
    return lookup_stems(lx, sc, i, w, n, consumed, strip, context);
}

/* ---- per-thread word cache ----
 * Four-way set-associative on the token's bytes (a set: four 64-byte
 * entries, the most recently used first; a hit moves its entry to the
 * front, a miss drops the last), one cache line per entry: the model
 * weights of the word's own features (unigram and character n-grams,
 * summed in senti_token_features() order), its unigram hash (for the next
 * word's pair feature and the phrase filter) and, once looked up, the
 * lexicon match when it cannot depend on the following words. A hit costs
 * a memory access or two instead of normalising, hashing ~20 n-grams and
 * fetching ~20 weight rows. */
#define WC_SLOTS 65536
#define WC_WAYS 4
#define WC_SETS (WC_SLOTS / WC_WAYS)
#define WC_KEY 30 /* longer tokens are not cached */
#define WC_AHEAD 8 /* cache_prefetch() looks this many tokens ahead */

/* lex_state: what the lexicon gives for the word
 *   UNKNOWN  not looked up yet
 *   NONE     context-free: no match (most words; the token loop's fast
 *            path takes them with one compare)
 *   FREE     context-free: lex (a match), strip
 *   CONTEXT  a phrase may start at candidate strip with entry lex; when none
 *            does, the word gives rest (0 = none) at rest_strip
 *   PHRASE   CONTEXT where entry lex is only a phrase prefix (kind 0) and
 *            rest is 0: the word gives nothing unless a phrase goes on from
 *            it (common words that start a lexicon phrase: the fast path
 *            asks the pair filter about the next word)
 *   FULL     depends on the context in a way not cached: full lookup */
enum { WC_LEX_UNKNOWN = 0, WC_LEX_FREE = 1, WC_LEX_CONTEXT = 2, WC_LEX_FULL = 3, WC_LEX_NONE = 4, WC_LEX_PHRASE = 5 };

struct wc_entry {
    uint64_t uni;   /* senti_word_hash of the normalised word (the model's unigram hash);
                     * without a model 0 until entry_word_hash() makes it */
    float sum[3];   /* weights of the word's own features (model only) */
    uint32_t lex;   /* lexicon slot + 1, 0 = none (see lex_state) */
    uint32_t rest;  /* CONTEXT: lexicon slot + 1, 0 = none */
    uint8_t klen;   /* 0 = empty slot */
    uint8_t nlen;   /* length of the normalised word */
    uint8_t nfeat;  /* number of own features (0 without model) */
    uint8_t lex_state, strip, rest_strip;
    char key[WC_KEY];
};
_Static_assert(sizeof(wc_entry) == 64, "one cache line per entry");
_Static_assert(WC_WAYS == 4, "cache_get() moves three entries on a miss");

struct senti_wcache {
    const senti_lexicon *lex;
    const senti_model *model;
    wc_entry number; /* the model part of a number token (normalised "0"), when number.klen is 1 */
    wc_entry *slot; /* WC_SLOTS, 2 MB aligned */
    void *map;      /* the mapping holding slot */
    size_t map_len;
};

static senti_wcache *cache_new(void)
{
    senti_wcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* anonymous pages come zeroed (no memset of 8 MB, and only the pages a
     * text touches are ever backed); 2 MB aligned and marked for a
     * transparent huge page: entries are read at random, and with 4 KB pages
     * nearly every access also missed the TLB (madvise is only a hint) */
    size_t align = (size_t)2 << 20, size = (WC_SLOTS * sizeof(wc_entry) + align - 1) & ~(align - 1);
    c->map_len = size + align;
    c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->map == MAP_FAILED) {
        free(c);
        return NULL;
    }
    uintptr_t a = ((uintptr_t)c->map + align - 1) & ~(uintptr_t)(align - 1);
    c->slot = (wc_entry *)a;
    madvise(c->slot, size, MADV_HUGEPAGE);
    return c;
}

static void cache_free(senti_wcache *c)
{
    if (c)
        munmap(c->map, c->map_len);
    free(c);
}

/* The set index hash of a token's bytes (n <= WC_KEY): the first and the
 * last eight bytes (overlapping loads inside the token), the middle ones
 * of a longer token, and the length. Cheaper than nahr_hash_bytes() (one
 * multiply per eight bytes plus two): any hash works, the set's entries
 * are compared byte for byte. */
static inline uint64_t raw_hash(const char *s, size_t n)
{
    uint64_t a, b;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        for (size_t k = 8; k + 8 < n; k += 8) { /* n > 16: the bytes between */
            uint64_t v;
            memcpy(&v, s + k, 8);
            a = (a ^ v) * 0x9E3779B97F4A7C15ull;
        }
    } else if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        a = lo;
        b = hi;
    } else {
        const unsigned char *u = (const unsigned char *)s;
        a = n ? (uint64_t)u[0] | (uint64_t)u[n >> 1] << 8 | (uint64_t)u[n - 1] << 16 : 0;
        b = 0;
    }
    /* the top bits of a product depend on all bits of its factor */
    return ((a + n) * 0xff51afd7ed558ccdull ^ b * 0xc4ceb9fe1a85ec53ull) >> 50;
}

/* Model weights of feats[0..k) except index skip, added in order. */
static inline void add_weights(const float *wt, const uint32_t *feats, size_t k, size_t skip, float *sum)
{
    float a = 0, b = 0, c = 0;
    for (size_t f = 0; f < k; f++) {
        if (f == skip)
            continue;
        const float *r = wt + (size_t)feats[f] * 3;
        a += r[0];
        b += r[1];
        c += r[2];
    }
    sum[0] = a;
    sum[1] = b;
    sum[2] = c;
}

/* The set of raw[0..n) in the cache's entries slot: its first entry. */
static inline wc_entry *cache_set(wc_entry *slot, const char *raw, size_t n)
{
    return &slot[(raw_hash(raw, n) & (WC_SETS - 1)) * WC_WAYS];
}

/* The set of token t (whatever it holds now), NULL when t is not cached. */
static inline const wc_entry *cache_slot(wc_entry *slot, const char *text, const nahr_token *t)
{
    size_t n = t->end - t->start;
    if (n > WC_KEY || t->kind == NAHR_TOK_NUMBER)
        return NULL;
    return cache_set(slot, text + t->start, n);
}

/* key[0..n) == raw[0..n) for n <= WC_KEY (a cached token): overlapping
 * loads inside both, no loop (nahr_bytes_eq() loops over eight-byte
 * words): 17..30 bytes are the words at 0, 8, n - 16 and n - 8, 8..16 the
 * words at 0 and n - 8, 4..7 two fours, 1..3 the first, middle and last
 * byte. */
static inline int key_eq(const char *key, const char *raw, size_t n)
{
    if (n >= 8) {
        uint64_t a0, b0, a1, b1;
        memcpy(&a0, key, 8);
        memcpy(&b0, raw, 8);
        memcpy(&a1, key + n - 8, 8);
        memcpy(&b1, raw + n - 8, 8);
        uint64_t d = (a0 ^ b0) | (a1 ^ b1);
        if (n > 16) {
            uint64_t a2, b2, a3, b3;
            memcpy(&a2, key + 8, 8);
            memcpy(&b2, raw + 8, 8);
            memcpy(&a3, key + n - 16, 8);
            memcpy(&b3, raw + n - 16, 8);
            d |= (a2 ^ b2) | (a3 ^ b3);
        }
        return d == 0;
    }
    if (n >= 4) {
        uint32_t a0, b0, a1, b1;
        memcpy(&a0, key, 4);
        memcpy(&b0, raw, 4);
        memcpy(&a1, key + n - 4, 4);
        memcpy(&b1, raw + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n == 0)
        return 1;
    return key[0] == raw[0] && key[n >> 1] == raw[n >> 1] && key[n - 1] == raw[n - 1];
}

/* key[0..n) = raw[0..n) for n <= WC_KEY: two overlapping copies (a call
 * to memcpy cost more); key's bytes past n are left as they were. */
static inline void key_copy(char *key, const char *raw, size_t n)
{
    if (n >= 16) {
        memcpy(key, raw, 16);
        memcpy(key + n - 16, raw + n - 16, 16);
    } else if (n >= 8) {
        memcpy(key, raw, 8);
        memcpy(key + n - 8, raw + n - 8, 8);
    } else if (n >= 4) {
        memcpy(key, raw, 4);
        memcpy(key + n - 4, raw + n - 4, 4);
    } else if (n) {
        key[0] = raw[0];
        key[n >> 1] = raw[n >> 1];
        key[n - 1] = raw[n - 1];
    }
}

static inline int entry_is(const wc_entry *e, const char *raw, size_t n)
{
    return e->klen == n && key_eq(e->key, raw, n);
}

/* While token i is worked on, the cache entry of token j (i < j) when its
 * set holds that token, else NULL. */
static inline const wc_entry *next_entry(const scan *sc, size_t i, size_t j)
{
    (void)i;
    if (!sc->sets)
        return NULL;
    const wc_entry *set = sc->sets[j];
    const nahr_token *t = &sc->toks[j];
    const char *raw = sc->text + t->start;
    size_t n = t->end - t->start;
    if (!set)
        return NULL;
    for (int k = 0; k < WC_WAYS; k++)
        if (entry_is(&set[k], raw, n))
            return &set[k];
    return NULL;
}

/* The word hash of a lexicon-only entry, made when first asked for (0 =
 * not yet): from the entry's key, as cache_get() would have made it. */
static __attribute__((noinline)) uint64_t entry_word_hash_fill(wc_entry *ce)
{
    char norm[WC_KEY + 1];
    size_t nl = senti_normalize(ce->key, ce->klen, norm);
    ce->uni = senti_word_hash(norm, nl);
    return ce->uni;
}

/* (extend_phrase() comes before the entry's definition.) Without a model
 * only extend_phrase()'s pair filter wants it, after a phrase start: most
 * entries never need it, so it is made then (uni 0); a hash that is 0 is
 * made again each time, the same. */
static inline uint64_t entry_word_hash(const wc_entry *ce)
{
    return ce->uni ? ce->uni : entry_word_hash_fill((wc_entry *)ce);
}

/* Memory latency, not arithmetic, is what a token costs: its cache entry
 * and the weight row of its word pair are random accesses into tables
 * larger than the CPU caches. So the pass starts loading the entry of token
 * i + 8 and, from the entries of tokens i + 3 and i + 4 (loaded by then),
 * the pair weights of token i + 4, before working on token i. sets[j] is
 * token j's set (cache_sets()), all four entries of which are prefetched
 * (with the first two only, where most hits are, perf put a fifth of the
 * pass's time on loading the other two: a new word reads all four). Only
 * hints: nothing depends on them. */
static inline __attribute__((always_inline)) void
cache_prefetch(const senti_config *cfg, const scan *sc, size_t i, const wc_entry **sets, uint64_t pair_mask,
               const int has_model)
{
    (void)sc;
    const wc_entry *e = sets[i + WC_AHEAD]; /* NULL past the chunk's end (cache_sets()) */
    if (e) {
        __builtin_prefetch(e);
        __builtin_prefetch(e + 1);
        __builtin_prefetch(e + 2);
        __builtin_prefetch(e + 3);
    }
    /* the slots are not checked against the tokens: two key compares per
     * token cost more than the useless prefetch now and then from an entry
     * another word holds */
    const senti_model *m = cfg->model;
    if (has_model && m->fc.word_ngrams >= 2) {
        const wc_entry *a = sets[i + 3], *b = sets[i + 4];
        if (a && b && a->nfeat && b->nfeat)
            __builtin_prefetch(m->w + (size_t)senti_bigram_feature_mask(a->uni, b->uni, pair_mask) * 3);
    }
}

/* The set of every token of the chunk, before token 0, in a loop of its
 * own (in the token loop, with everything else live there, it cost twice
 * as much), and the first WC_AHEAD prefetched (cache_prefetch() does token
 * i + WC_AHEAD's while token i is worked on). sets has room for WC_AHEAD
 * more: NULL there, so that cache_prefetch() reads past the last token
 * without a bounds test. */
static void cache_sets(const senti_wcache *c, const scan *sc, const wc_entry **sets)
{
    const nahr_token *t = sc->toks;
    const char *text = sc->text;
    wc_entry *slot = c->slot; /* read once: the stores to sets could alias c->slot */
    for (size_t j = 0, n = sc->ntok; j < n; j++)
        sets[j] = cache_slot(slot, text, &t[j]);
    for (size_t j = 0; j < WC_AHEAD; j++)
        sets[sc->ntok + j] = NULL;
    for (size_t j = 0; j < WC_AHEAD && j < sc->ntok; j++)
        if (sets[j]) {
            __builtin_prefetch(sets[j]);
            __builtin_prefetch(sets[j] + 1);
            __builtin_prefetch(sets[j] + 2);
            __builtin_prefetch(sets[j] + 3);
        }
}

/* Entry k of a set to the front, the ones before it one way down: four
 * 16-byte moves an entry instead of a call to memmove. */
static inline void move_to_front(wc_entry *e, int k)
{
    _Static_assert(WC_WAYS == 4, "move_to_front() moves up to three entries");
    wc_entry t = e[k];
    switch (k) {
    case 3:
        e[3] = e[2];
        /* fall through */
    case 2:
        e[2] = e[1];
        /* fall through */
    default:
        e[1] = e[0];
    }
    e[0] = t;
}

/* The entry of raw[0..n) in its set e (cache_slot(): the token is
 * cacheable, and the set is the one cache_sets() found), or
 * NULL when it cannot be cached; the entry is then the first of its set.
 * On a miss the entry is filled and norm receives the normalised word
 * (*have_norm = 1); on a hit norm is untouched (*have_norm = 0). */
static inline __attribute__((always_inline)) wc_entry *cache_get(const senti_model *m, const char *raw, size_t n,
                                                                 char *norm, int *have_norm, wc_entry *e)
{
    *have_norm = 0;
    if (entry_is(&e[0], raw, n))
        return e;
    for (int k = 1; k < WC_WAYS; k++)
        if (entry_is(&e[k], raw, n)) {
            move_to_front(e, k);
            return e;
        }
    /* the last entry goes: the others one way down, every field of the
     * first is written below */
    e[3] = e[2];
    e[2] = e[1];
    e[1] = e[0];
    e->klen = 0;
    size_t nl = senti_normalize(raw, n, norm);
    *have_norm = 1;
    e->nlen = (uint8_t)nl;
    e->nfeat = 0;
    e->sum[0] = e->sum[1] = e->sum[2] = 0;
    if (m && nl) {
        size_t k = senti_token_weights(m, norm, nl, &e->uni, e->sum);
        if (k > 255)
            return NULL;
        e->nfeat = (uint8_t)k;
    } else {
        e->uni = 0; /* made when extend_phrase()'s pair filter asks (entry_word_hash()) */
    }
    e->lex_state = WC_LEX_UNKNOWN;
    e->lex = e->rest = 0;
    e->strip = e->rest_strip = 0;
    key_copy(e->key, raw, n);
    e->klen = (uint8_t)n;
    return e;
}

/* The model part of every number token (its normalised form is "0"), as
 * cache_get() would fill it: computed once per cache. Only its sum, nfeat
 * and uni are used (a number has no lexicon lookup). NULL when it has too
 * many features for an entry (it has a handful). */
static wc_entry *number_entry(const senti_model *m, senti_wcache *c)
{
    wc_entry *e = &c->number;
    if (e->klen == 1)
        return e;
    size_t k = senti_token_weights(m, "0", 1, &e->uni, e->sum);
    if (k > 255)
        return NULL;
    e->nfeat = (uint8_t)k;
    e->nlen = 1;
    e->klen = 1;
    return e;
}

/* Fills ce for a word whose lookup depends on the next words: the first
 * candidate stem (lookup order) whose entry starts a phrase, and what the
 * later candidates and the suffix fallback give when no phrase does. The
 * candidates before it give nothing (else the lookup would have stopped
 * there without looking at the context). */
static void context_info(const senti_lexicon *lx, const char *w, size_t n, wc_entry *ce)
{
    size_t order[8], k, strip = 0;
    size_t no = stem_order(w, n, order);
    const senti_entry *e = NULL;
    ce->lex_state = WC_LEX_FULL;
    for (k = 0; k < no; k++) {
        e = senti_lexicon_get(lx, w + order[k], n - order[k]);
        if (e && e->prefix)
            break;
        if (e && e->kind)
            return; /* not the expected shape: keep the full lookup */
    }
    if (k == no)
        return;
    ce->lex = (uint32_t)(e - lx->slots) + 1;
    ce->strip = (uint8_t)order[k];
    for (k++; k < no; k++) {
        const senti_entry *r = senti_lexicon_get(lx, w + order[k], n - order[k]);
        if (!r)
            continue;
        if (r->prefix)
            return; /* a second phrase start: full lookup */
        if (r->kind) {
            ce->rest = (uint32_t)(r - lx->slots) + 1;
            ce->rest_strip = (uint8_t)order[k];
            ce->lex_state = WC_LEX_CONTEXT;
            return;
        }
    }
    e = suffix_match(lx, w, n, order, no, &strip);
    ce->rest = e ? (uint32_t)(e - lx->slots) + 1 : 0;
    ce->rest_strip = (uint8_t)strip;
    ce->lex_state = !ce->rest && !lx->slots[ce->lex - 1].kind ? WC_LEX_PHRASE : WC_LEX_CONTEXT;
}

/* ---- the pass ---- */

typedef struct pass {
    const senti_config *cfg;
    senti_worker *w;
    senti_wcache *cache; /* NULL: no cache (out of memory, or training) */
    size_t nsent;
    senti_sentence *cur; /* w->sents[nsent - 1] (set where a sentence opens: the array moves only then) */
    int need_new;
    /* scopes, in words counted over the whole text */
    uint64_t word_idx;
    int neg_left;
    double last_val;
    uint64_t last_word;
    int last_valid, last_modified;
    double pending_mult;
    uint64_t pending_word;
    uint64_t prev_uni;
    uint64_t pair_mask; /* 2^bits - 1 of the model's feature space */
    size_t skip_until; /* token index (in chunk) up to which lexicon lookups are skipped */
    size_t nhits;
} pass;

static int grow_sents(senti_worker *w)
{
    size_t ncap = w->sent_cap ? w->sent_cap * 2 : 64;
    if (ncap > SENTI_MAX_SENTENCES)
        ncap = SENTI_MAX_SENTENCES;
    senti_sentence *ns = realloc(w->sents, ncap * sizeof *ns);
    if (!ns)
        return NAHR_ENOMEM;
    w->sents = ns;
    w->sent_cap = ncap;
    return NAHR_OK;
}

static void add_polar(pass *p, senti_sentence *s, double v)
{
    if (p->pending_mult > 0 && p->word_idx - p->pending_word <= MOD_REACH) {
        v *= p->pending_mult;
        p->pending_mult = 0;
        p->last_modified = 1;
    } else {
        p->last_modified = 0;
    }
    if (p->neg_left > 0) {
        v = -v * NEG_DAMP;
        p->neg_left = 0;
    }
    if (v > 0)
        s->pos += v;
    else
        s->neg -= v;
    p->last_val = v;
    p->last_word = p->word_idx;
    p->last_valid = 1;
    p->nhits++;
}

static void add_modifier(pass *p, senti_sentence *s, double m)
{
    if (p->last_valid && !p->last_modified && p->word_idx - p->last_word <= MOD_REACH) {
        double delta = p->last_val * (m - 1.0);
        if (p->last_val > 0)
            s->pos += delta;
        else
            s->neg -= delta;
        p->last_val += delta;
        p->last_modified = 1;
        return;
    }
    p->pending_mult = m;
    p->pending_word = p->word_idx;
}

/* Words after which a negator is not a negation: لا/ما زال (still), ما دام
 * (as long as), لا سيما (especially), لا بد (must), غير أن (however). */
static const char *const neg_stops[] = {
    "\xd8\xb2\xd8\xa7\xd9\x84",                 /* زال */
    "\xd9\x8a\xd8\xb2\xd8\xa7\xd9\x84",         /* يزال */
    "\xd8\xaa\xd8\xb2\xd8\xa7\xd9\x84",         /* تزال */
    "\xd8\xb2\xd8\xa7\xd9\x84\xd8\xaa",         /* زالت */
    "\xd8\xb2\xd8\xa7\xd9\x84\xd9\x88\xd8\xa7", /* زالوا */
    "\xd9\x8a\xd8\xb2\xd8\xa7\xd9\x84\xd9\x88\xd9\x86", /* يزالون */
    "\xd8\xaf\xd8\xa7\xd9\x85",                 /* دام */
    "\xd8\xb3\xd9\x8a\xd9\x85\xd8\xa7",         /* سيما */
    "\xd8\xa8\xd8\xaf",                         /* بد */
    "\xd8\xa7\xd9\x86",                         /* ان (أن, إن) */
};

static int followed_by_stop(const scan *sc, size_t i)
{
    if (i + 1 >= sc->ntok || !is_wordish(&sc->toks[i + 1]))
        return 0;
    char nx[WORD_MAX + 1];
    size_t nl = norm_token(sc->text, &sc->toks[i + 1], nx);
    for (size_t k = 0; k < sizeof neg_stops / sizeof neg_stops[0]; k++)
        if (strlen(neg_stops[k]) == nl && memcmp(neg_stops[k], nx, nl) == 0)
            return 1;
    return 0;
}

/* "ما" negates only at the start of a sentence or clause, or after the
 * conjunction و/ف (وما), never in كما/بما/لما/مما (as, with what, when). */
static int ma_is_negator(const scan *sc, size_t i, const char *w, size_t strip, uint32_t word_in_sent)
{
    if (strip > 0)
        return strip == 2 && (memcmp(w, "\xd9\x88", 2) == 0 || memcmp(w, "\xd9\x81", 2) == 0);
    return word_in_sent == 0 || (i > 0 && sc->toks[i - 1].kind == NAHR_TOK_PUNCT);
}

/* Inline in the token loop: a call per token cost more than its body's
 * shortest path (a cached word without lexicon match). slot: token i's
 * word cache set (cache_sets()), NULL when the token is not cached (too
 * long, a number, or no cache). has_model is a constant (cfg->model !=
 * NULL): the loop is compiled once with the model and once without. */
static inline __attribute__((always_inline)) void do_token(pass *p, const scan *sc, size_t i,
                                                           const char *chunk_base, size_t chunk_off,
                                                           wc_entry *slot, const int has_model)
{
    const nahr_token *t = &sc->toks[i];
    senti_worker *w = p->w;
    const senti_config *cfg = p->cfg;
    (void)chunk_base;
    if (p->need_new) { /* set at the start too, and while there is no sentence */
        if (p->nsent < w->sent_cap || (p->nsent < SENTI_MAX_SENTENCES && grow_sents(w) == NAHR_OK)) {
            senti_sentence *ns = &w->sents[p->nsent++];
            memset(ns, 0, sizeof *ns);
            ns->start = chunk_off + t->start;
            p->cur = ns;
        }
        p->need_new = p->nsent == 0;
        p->neg_left = 0;
        p->pending_mult = 0;
        p->last_valid = 0;
        p->prev_uni = 0;
    }
    if (p->nsent == 0)
        return; /* out of memory for the first sentence: nothing to score */
    senti_sentence *s = p->cur;
    /* a sentence's end is written at its last token: a sentence end, or
     * the last token of the chunk (a later chunk may move it on). The
     * tokeniser marks the last token of a chunk as a sentence end; a chunk
     * cut (at a space) is not one unless the token is punctuation */
    if ((t->flags & NAHR_TOK_SENT_END) || i + 1 == sc->ntok) {
        s->end = chunk_off + t->end;
        if ((t->flags & NAHR_TOK_SENT_END) && !(sc->chunk_cut && i + 1 == sc->ntok && t->kind != NAHR_TOK_PUNCT))
            p->need_new = 1;
    }

    char norm[WORD_MAX + 1];
    size_t nl;         /* length of the normalised word */
    int have_norm = 1; /* norm holds it (0 after a cache hit: made when needed) */
    wc_entry *ce = NULL;
    if (t->kind == NAHR_TOK_NUMBER) {
        norm[0] = '0';
        norm[1] = '\0';
        nl = 1;
        if (has_model && p->cache)
            ce = number_entry(cfg->model, p->cache);
    } else if (slot && (ce = cache_get(has_model ? cfg->model : NULL, sc->text + t->start, t->end - t->start, norm,
                                       &have_norm, slot)) != NULL) {
        nl = ce->nlen;
    } else {
        nl = norm_token(sc->text, t, norm);
    }

    /* model features. The word's own features are summed first and its pair
     * feature (previous word, word) last, so that the first part can be
     * cached per word and both paths give bit-identical sums. */
    const senti_featcfg *fc = has_model ? &cfg->model->fc : cfg->sink_fc;
    if (ce && has_model && nl) {
        float a = ce->sum[0], b = ce->sum[1], c = ce->sum[2];
        uint32_t k = ce->nfeat;
        if (fc->word_ngrams >= 2 && p->prev_uni) {
            uint32_t x = senti_bigram_feature_mask(p->prev_uni, ce->uni, p->pair_mask);
            const float *r = cfg->model->w + (size_t)x * 3;
            a += r[0];
            b += r[1];
            c += r[2];
            k++;
        }
        p->prev_uni = ce->uni;
        s->sums[0] += a;
        s->sums[1] += b;
        s->sums[2] += c;
        s->nfeat += k;
    } else if (fc && nl) {
        need_norm(sc, t, norm, &have_norm);
        uint32_t feats[SENTI_MAX_TOKEN_FEATURES];
        uint64_t uni = 0;
        size_t k = senti_token_features(fc, norm, nl, p->prev_uni, &uni, feats,
                                        SENTI_MAX_TOKEN_FEATURES);
        int pair = fc->word_ngrams >= 2 && p->prev_uni && k >= 2;
        p->prev_uni = uni;
        if (has_model) {
            float own[3];
            add_weights(cfg->model->w, feats, k, pair ? 1 : SIZE_MAX, own);
            if (pair) {
                const float *r = cfg->model->w + (size_t)feats[1] * 3;
                own[0] += r[0];
                own[1] += r[1];
                own[2] += r[2];
            }
            s->sums[0] += own[0];
            s->sums[1] += own[1];
            s->sums[2] += own[2];
        } else if (cfg->feature_sink) {
            cfg->feature_sink(cfg->sink_arg, feats, k);
        }
        s->nfeat += (uint32_t)k;
    }

    if (t->kind == NAHR_TOK_PUNCT) {
        p->neg_left = 0;
        p->pending_mult = 0;
        return;
    }
    uint32_t word_in_sent = s->nwords;
    s->nwords++;
    p->word_idx++;
    if (ce && ce->lex_state == WC_LEX_NONE) {
        /* a cached word without lexicon entry (most words): what the path
         * below does for it, whether or not a phrase covers it */
        if (p->neg_left > 0)
            p->neg_left--;
        return;
    }
    if (t->kind == NAHR_TOK_NUMBER || i < p->skip_until || !nl) {
        if (p->neg_left > 0)
            p->neg_left--;
        return;
    }
    size_t consumed = 1, strip = 0;
    const senti_entry *e;
    const senti_lexicon *lx = cfg->lex;
    if (ce && ce->lex_state == WC_LEX_FREE) {
        e = ce->lex ? lx->slots + ce->lex - 1 : NULL;
        strip = ce->strip;
    } else if (ce && (ce->lex_state == WC_LEX_CONTEXT || ce->lex_state == WC_LEX_PHRASE)) {
        e = extend_phrase(lx, sc, i, lx->slots + ce->lex - 1, &consumed);
        strip = ce->strip;
        if (!e) {
            e = ce->rest ? lx->slots + ce->rest - 1 : NULL;
            strip = ce->rest_strip;
        }
    } else {
        int context = 0;
        need_norm(sc, t, norm, &have_norm);
        e = lookup_word(lx, sc, i, norm, nl, &consumed, &strip, &context);
        if (ce && ce->lex_state == WC_LEX_UNKNOWN) {
            if (!context) {
                ce->lex_state = e ? WC_LEX_FREE : WC_LEX_NONE;
                ce->lex = e ? (uint32_t)(e - lx->slots) + 1 : 0;
                ce->strip = (uint8_t)strip;
            } else {
                context_info(lx, norm, nl, ce);
            }
        }
    }
    if (e && cfg->hit_counts)
        cfg->hit_counts[e - cfg->lex->slots]++;
    if (e && e->kind == SENTI_NEGATOR) {
        const char *key = cfg->lex->pool + e->key_off;
        int neg = !followed_by_stop(sc, i);
        if (neg && e->key_len == 4 && memcmp(key, "\xd9\x85\xd8\xa7", 4) == 0) { /* ما */
            need_norm(sc, t, norm, &have_norm);
            neg = ma_is_negator(sc, i, norm, strip, word_in_sent);
        }
        if (neg && cfg->negation_window > 0) {
            p->neg_left = cfg->negation_window;
            return;
        }
    } else if (e && e->kind == SENTI_MODIFIER) {
        add_modifier(p, s, e->value);
    } else if (e && e->kind == SENTI_POLAR) {
        add_polar(p, s, e->value);
        if (consumed > 1)
            p->skip_until = i + consumed;
    }
    if (p->neg_left > 0)
        p->neg_left--;
}

/* Tests set this to run every token through do_token() (the plain path),
 * to compare the fast path with it. */
static int fast_run_off;

/* The token loop over one chunk, compiled per value of has_model and of
 * cached (p->cache != NULL: not when training, or without memory).
 *
 * With the cache, a fast path: a token found in its set (a hit further
 * down is moved to the front, as cache_get() does) whose entry says the
 * lexicon has nothing for it (NONE), or that is punctuation, or a word
 * inside a phrase already matched, or a word that only starts phrases
 * (PHRASE) when the next token is no word or the pair filter turns it
 * away, only adds its cached model weights and pair feature and moves the
 * scope counters on: what do_token() does for it, without its sentence
 * and lookup checks. Without the model, a word whose entry is a
 * context-free polarity match (FREE, SENTI_POLAR) takes that path too,
 * with add_polar(). The rest (a sentence's first or last token, the
 * chunk's last token, a cache miss, a word with a lexicon entry or not
 * looked up yet) goes to do_token(). Not with a training feature sink
 * (sink_fc without a model: do_token() computes features there). */
static inline __attribute__((always_inline)) void scan_chunk(pass *p, const scan *sc, const wc_entry **sets,
                                                             const char *text, size_t off, const int has_model,
                                                             const int cached)
{
    size_t i = 0;
    if (cached)
        cache_sets(p->cache, sc, sets);
    if (cached && !fast_run_off && (has_model || !p->cfg->sink_fc) && sc->ntok > 0) {
        const nahr_token *toks = sc->toks;
        const char *tx = sc->text;
        const float *wt = has_model ? p->cfg->model->w : NULL;
        const int pairs = has_model && p->cfg->model->fc.word_ngrams >= 2;
        for (size_t last = sc->ntok - 1; i < last; i++) {
            cache_prefetch(p->cfg, sc, i, sets, p->pair_mask, has_model);
            const wc_entry *e = sets[i];
            const nahr_token *t = &toks[i];
            size_t n = t->end - t->start;
            if (e && !p->need_new && !(t->flags & NAHR_TOK_SENT_END)) {
                const char *raw = tx + t->start;
                if (!entry_is(e, raw, n)) {
                    /* further down the set: to the front, as cache_get()
                     * does on a hit; not there: a miss, do_token() */
                    int k = 1;
                    while (k < WC_WAYS && !entry_is(&e[k], raw, n))
                        k++;
                    if (k == WC_WAYS)
                        goto slow;
                    move_to_front((wc_entry *)e, k);
                }
                int punct = t->kind == NAHR_TOK_PUNCT;
                size_t nl = e->nlen;
                int plain = punct || e->lex_state == WC_LEX_NONE || !nl || i < p->skip_until;
                if (!plain && e->lex_state == WC_LEX_PHRASE) {
                    /* what extend_phrase() finds first: no phrase when
                     * the next token is not a word, or when the pair
                     * filter rejects it; then the word gives nothing */
                    if (!is_wordish(t + 1)) {
                        plain = 1;
                    } else {
                        const wc_entry *ne = next_entry(sc, i, i + 1);
                        const senti_lexicon *lx = p->cfg->lex;
                        plain = ne && !senti_lexicon_pair_maybe(lx, lx->slots + e->lex - 1, entry_word_hash(ne));
                    }
                }
                const senti_entry *polar = NULL;
                if (!has_model && !plain && e->lex_state == WC_LEX_FREE && !p->cfg->hit_counts) {
                    /* a polarity word whatever follows it (negators and
                     * modifiers take the path below). Lexicon-only: with
                     * the model this loop got slower (+0.5 M on s2) */
                    const senti_entry *x = p->cfg->lex->slots + e->lex - 1;
                    if (x->kind == SENTI_POLAR) {
                        polar = x;
                        plain = 1;
                    }
                }
                if (plain) {
                    senti_sentence *s = p->cur;
                    if (has_model && nl) {
                        float a = e->sum[0], b = e->sum[1], c = e->sum[2];
                        uint32_t k = e->nfeat;
                        if (pairs && p->prev_uni) {
                            uint32_t x = senti_bigram_feature_mask(p->prev_uni, e->uni, p->pair_mask);
                            const float *r = wt + (size_t)x * 3;
                            a += r[0];
                            b += r[1];
                            c += r[2];
                            k++;
                        }
                        p->prev_uni = e->uni;
                        s->sums[0] += a;
                        s->sums[1] += b;
                        s->sums[2] += c;
                        s->nfeat += k;
                    }
                    if (punct) {
                        p->neg_left = 0;
                        p->pending_mult = 0;
                    } else {
                        s->nwords++;
                        p->word_idx++;
                        if (polar)
                            add_polar(p, s, polar->value);
                        if (p->neg_left > 0)
                            p->neg_left--;
                    }
                    continue;
                }
            }
        slow:
            do_token(p, sc, i, text, off, (wc_entry *)e, has_model);
        }
    }
    for (; i < sc->ntok; i++) {
        wc_entry *slot = NULL;
        if (cached) {
            cache_prefetch(p->cfg, sc, i, sets, p->pair_mask, has_model);
            slot = (wc_entry *)sets[i]; /* token i's set (NULL when not cached) */
        }
        do_token(p, sc, i, text, off, slot, has_model);
    }
}

int senti_analyze(const senti_config *cfg, senti_worker *w, const char *text, size_t n,
                  senti_result *out)
{
    return senti_analyze_tokens(cfg, w, text, n, NULL, 0, out);
}

int senti_analyze_tokens(const senti_config *cfg, senti_worker *w, const char *text, size_t n,
                         const nahr_token *toks, size_t ntoks, senti_result *out)
{
    memset(out, 0, sizeof *out);
    pass p;
    memset(&p, 0, sizeof p);
    p.need_new = 1; /* the first token opens a sentence */
    p.cfg = cfg;
    p.w = w;
    if (cfg->model)
        p.pair_mask = (1ull << cfg->model->fc.bits) - 1;
    if (!cfg->feature_sink) { /* training sees every token's features: no cache there */
        if (!w->cache)
            w->cache = cache_new();
        if (w->cache && (w->cache->lex != cfg->lex || w->cache->model != cfg->model)) {
            if (w->cache->lex || w->cache->model)
                memset(w->cache->slot, 0, WC_SLOTS * sizeof(wc_entry));
            memset(&w->cache->number, 0, sizeof w->cache->number);
            w->cache->lex = cfg->lex;
            w->cache->model = cfg->model;
        }
        p.cache = w->cache;
    }
    size_t off = 0;
    while (off < n) {
        size_t end = n - off > CHUNK ? off + CHUNK : n;
        if (end < n) {
            /* cut after a space or newline in the second half of the chunk,
             * else at a UTF-8 boundary */
            size_t cut = end;
            while (cut > off + CHUNK / 2 && text[cut - 1] != ' ' && text[cut - 1] != '\n')
                cut--;
            if (cut == off + CHUNK / 2) {
                cut = end;
                while (cut > off + 1 && ((unsigned char)text[cut] & 0xC0) == 0x80)
                    cut--;
            }
            end = cut;
        }
        const nahr_token *tk = toks;
        size_t ntok = ntoks;
        if (!toks || off != 0 || end != n) {
            ntok = nahr_tokenize(text + off, end - off, w->toks, w->tok_cap);
            if (ntok > w->tok_cap) {
                size_t ncap = ntok + ntok / 4 + 16;
                nahr_token *nt = realloc(w->toks, ncap * sizeof *nt);
                if (!nt)
                    return NAHR_ENOMEM;
                w->toks = nt;
                w->tok_cap = ncap;
                ntok = nahr_tokenize(text + off, end - off, w->toks, w->tok_cap);
            }
            tk = w->toks;
        }
        const wc_entry **sets = NULL; /* the cache set of each token, in the worker */
        if (p.cache) {
            if (ntok + WC_AHEAD > w->sets_cap) { /* WC_AHEAD more: see cache_sets() */
                size_t ncap = ntok + ntok / 4 + 16 + WC_AHEAD;
                const wc_entry **ns = realloc(w->sets, ncap * sizeof *ns);
                if (ns) {
                    w->sets = ns;
                    w->sets_cap = ncap;
                }
            }
            if (ntok + WC_AHEAD <= w->sets_cap)
                sets = w->sets; /* else (out of memory) this chunk without the cache */
        }
        scan sc = {text + off, tk, ntok, end < n, sets};
        p.skip_until = 0;
        if (cfg->model && sets)
            scan_chunk(&p, &sc, sets, text, off, 1, 1);
        else if (cfg->model)
            scan_chunk(&p, &sc, sets, text, off, 1, 0);
        else if (sets)
            scan_chunk(&p, &sc, sets, text, off, 0, 1);
        else
            scan_chunk(&p, &sc, sets, text, off, 0, 0);
        if (p.nsent == 0 && ntok > 0)
            return NAHR_ENOMEM;
        off = end;
    }

    /* sentence and document scores. The model was trained on short texts
     * (tweets, sentences), so it scores each sentence; a longer text's model
     * score is the word-weighted mean of its sentences' scores. */
    double mw = 0, wsum = 0;
    for (size_t k = 0; k < p.nsent; k++) {
        senti_sentence *s = &w->sents[k];
        s->mscore = 0;
        if (cfg->model && s->nfeat) {
            double pr[SENTI_MAX_CLASSES];
            senti_model_probs(cfg->model, s->sums, s->nfeat, pr);
            s->mscore = pr[SENTI_POS] - pr[SENTI_NEG];
            double wt = s->nwords ? s->nwords : 1;
            mw += wt * s->mscore;
            wsum += wt;
        }
        s->score = senti_combine(cfg, s->pos, s->neg, s->nwords, s->nfeat > 0, s->mscore, NULL);
        s->label = senti_label_of(cfg, s->score);
        out->pos += s->pos;
        out->neg += s->neg;
        out->nwords += s->nwords;
    }
    out->model_score = wsum > 0 ? mw / wsum : 0;
    out->model_wsum = wsum;
    out->score = senti_combine(cfg, out->pos, out->neg, (uint32_t)out->nwords, wsum > 0,
                               out->model_score, &out->lex_score);
    out->label = senti_label_of(cfg, out->score);
    out->nhits = p.nhits;
    out->sents = w->sents;
    out->nsent = p.nsent;
    return NAHR_OK;
}
