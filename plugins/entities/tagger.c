/* tagger.c - gazetteer matching, context rules, dates, numbers, coreference.
 *
 * One pass builds per-token facts (normalised word ids for each proclitic
 * split, word classes); a left-to-right scan then picks, at each token, the
 * longest of: a gazetteer match, a title+name, an organisation head with its
 * complement, a location trigger, a first name with its family name, a date
 * or a numeric expression. Coreference and the optional model fill the gaps
 * afterwards. All scratch lives in the document arena.
 */
#include "lexicon_internal.h"
#include "ner/lru4.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAXC 6      /* proclitic split candidates per token */
#define WORD_MAX 240 /* longer tokens are never looked up */

typedef struct cand {
    int32_t id;   /* word id, -1 = unknown */
    uint32_t h;   /* ent_word_hash() of the normalised candidate (lookup; coreference of unknown words) */
    uint16_t off; /* bytes stripped from the token start (< WORD_MAX) */
    uint8_t ll;   /* 1 when "لل" was stripped and "ال" restored */
    uint8_t groot; /* the word starts a gazetteer phrase (the trie's root has it as a child) */
} cand;
_Static_assert(sizeof(cand) == 12, "groot in the padding: tokinfo keeps its size");

enum { END_MAQSURA = 1, END_HA = 2 }; /* tokinfo.ending */
enum { WL_WORD = 1, WL_GROOT = 2 };     /* tokinfo.wordlike (read as a truth value but in gaz_match) */

typedef struct tokinfo {
    uint32_t flags; /* classes of the least-stripped candidate that has any */
    uint16_t info;
    uint8_t ncand;
    uint8_t fcand;    /* candidate that gave flags */
    uint8_t wordlike; /* Arabic or Latin word: WL_WORD, | WL_GROOT when a candidate starts a phrase */
    uint8_t verbish;  /* looks like an imperfect verb */
    uint8_t waw;      /* starts with the conjunction و / ف and the rest is not a known name */
    uint8_t prep_al;  /* starts with بال/لل/كال/فال/وال-type clitics (not a name part) */
    uint8_t def;      /* (after clitics) starts with ال */
    uint8_t ending;   /* END_MAQSURA: ends with ى (the preposition على، إلى, not the name علي);
                       * END_HA: ends with ه (ناديه "his club", not the name نادية) */
    uint8_t gazloc;   /* the word alone is a LOC/ORG gazetteer entry */
    uint8_t oneletter; /* a single letter (with marks/tatweel) */
    double num;       /* value for NUMBER tokens */
    cand c[MAXC];
} tokinfo;

typedef struct espan {
    size_t start, end;  /* bytes */
    uint32_t ta, tb;    /* tokens [ta, tb) */
    uint8_t type;
    uint8_t src;        /* 0 gazetteer, 1 rule, 2 coref, 3 model */
    uint8_t strong;     /* a rule span good enough to seed coreference */
    const char *canon;  /* NUL-terminated, arena or lexicon pool */
    double value;       /* numbers; NAN = none */
    const char *vstr;   /* dates: normalised value */
    const char *unit;
    const char *calendar;
} espan;

typedef struct tagger {
    const ent_lexicon *lx;
    const ent_opts *o;
    nahr_doc *doc;
    const char *text;
    size_t len;
    const nahr_token *tok;
    /* ti[k]: token k's facts, in the worker's cache slot of its word (which
     * stays put until the next article: see token_facts_cached()) or in own[k] */
    const tokinfo **ti;
    tokinfo *own;
    size_t n;
    espan *sp;
    size_t nsp, capsp;
    int32_t *cover; /* span index covering token, -1 */
    const uint8_t *mtags; /* the model's tags per token (merge_model), or NULL */
    const float *margin;  /* and its O margins (model_veto), or NULL */
} tagger;

int ent_test_plain_paths = 0;

void ent_opts_default(ent_opts *o)
{
    memset(o, 0, sizeof *o);
    o->types = 0;
    for (int t = ENT_PER; t < ENT_NTYPES; t++)
        o->types |= 1u << t;
    o->rules = 1;
    o->coref = 1;
    o->numbers = 1;
    o->money_first = 1;
    o->dates = 1;
    o->max_tokens = 4000000;
    o->model_first = 1;
    o->model_veto = ENT_MODEL_VETO;
    o->model_veto_loc = ENT_MODEL_VETO_LOC;
    o->model_veto_org = ENT_MODEL_VETO_ORG;
    o->layer = "entities";
}

/* ---- helpers on normalised strings ---- */

#define U_ALEF "\xD8\xA7"
#define U_LAM "\xD9\x84"
#define U_YA "\xD9\x8A"
#define U_TA "\xD8\xAA"
#define U_NUN "\xD9\x86"
#define U_SIN "\xD8\xB3"
#define U_HA "\xD9\x87"
#define U_WAW "\xD9\x88"
#define U_FA "\xD9\x81"
#define U_BA "\xD8\xA8"
#define U_KAF "\xD9\x83"

static int starts2(const char *s, size_t n, const char *a)
{
    return n >= 2 && s[0] == a[0] && s[1] == a[1];
}

/* The first four bytes of s as one word, in the machine's byte order (only
 * ever compared with another load4()). */
static inline uint32_t load4(const char *s)
{
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

static int starts_al(const char *s, size_t n)
{
    /* one 4-byte compare: GCC called memcmp() here (69 k calls on 7 MB) */
    return n >= 4 && load4(s) == load4(U_ALEF U_LAM);
}

static const char *word_str(const ent_lexicon *lx, int32_t id, size_t *n)
{
    *n = lx->words[id].len;
    return lx->pool + lx->words[id].off;
}

static double parse_number(const char *s, size_t n)
{
    /* s is normalised: ASCII digits, '.', ',', U+066B (decimal), U+066C (thousands) */
    double v = 0, frac = 0, scale = 1;
    int in_frac = 0;
    size_t i = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= '0' && c <= '9') {
            if (in_frac) {
                scale /= 10;
                frac += (c - '0') * scale;
            } else {
                v = v * 10 + (c - '0');
            }
        } else if (c == '.') {
            in_frac = 1;
        } else if (c == ',') {
            /* thousands separator (1,000): the tokeniser keeps it inside */
        } else if (c == 0xD9 && i + 1 < n && (unsigned char)s[i + 1] == 0xAB) { /* ٫ decimal */
            in_frac = 1;
            i++;
        } else if (c == 0xD9 && i + 1 < n && (unsigned char)s[i + 1] == 0xAC) { /* ٬ thousands */
            i++;
        }
    }
    return v + frac;
}

/* ---- per-token facts ---- */

/* Normalised form of candidate c of token k into buf (WORD_MAX + 8 bytes). */
static size_t cand_norm(const tagger *t, size_t k, const cand *c, char *buf)
{
    const char *w = t->text + t->tok[k].start;
    size_t wl = t->tok[k].end - t->tok[k].start;
    if (wl > WORD_MAX)
        return 0;
    if (c->ll) {
        memcpy(buf, "\xD8\xA7\xD9\x84", 4);
        return 4 + nahr_ar_normalize(w + c->off, wl - c->off, buf + 4, NULL);
    }
    return nahr_ar_normalize(w + c->off, wl - c->off, buf, NULL);
}

/* *ti = {0} but num = NAN. Six 16-byte stores: the compiler's memset of the
 * 96 bytes is a `rep stos`, a dozen instructions more. */
static inline void tokinfo_clear(tokinfo *ti)
{
#if defined(__SSE2__)
    _Static_assert(sizeof(tokinfo) == 96, "six 16-byte stores");
    char *p = (char *)ti;
    const __m128i z = _mm_setzero_si128();
    _mm_storeu_si128((__m128i *)(void *)p, z);
    _mm_storeu_si128((__m128i *)(void *)(p + 16), z);
    _mm_storeu_si128((__m128i *)(void *)(p + 32), z);
    _mm_storeu_si128((__m128i *)(void *)(p + 48), z);
    _mm_storeu_si128((__m128i *)(void *)(p + 64), z);
    _mm_storeu_si128((__m128i *)(void *)(p + 80), z);
    ti->num = NAN;
#else
    *ti = (tokinfo){.num = NAN};
#endif
}

/* The facts of token k into *ti. */
static void token_facts(const tagger *t, size_t k, tokinfo *ti)
{
    const ent_lexicon *lx = t->lx;
    const nahr_token *tk = &t->tok[k];
    const char *w = t->text + tk->start;
    size_t wl = tk->end - tk->start;
    size_t splits[MAXC];
    size_t ns, s, wm;
    char buf[WORD_MAX + 8], whole[WORD_MAX + 8];
    size_t map[WORD_MAX + 8];

    tokinfo_clear(ti);
    if (tk->kind == NAHR_TOK_NUMBER) {
        size_t m;
        if (wl < WORD_MAX) {
            m = nahr_ar_normalize(w, wl, buf, NULL);
            ti->num = parse_number(buf, m);
        }
        return;
    }
    if (tk->kind != NAHR_TOK_WORD && tk->kind != NAHR_TOK_LATIN) {
        if (tk->kind == NAHR_TOK_PUNCT && wl < WORD_MAX) {
            /* "د." and similar one-letter abbreviations are words; punctuation ids
             * let rules recognise "%" and "/" */
            size_t m = nahr_ar_normalize(w, wl, buf, NULL);
            ti->c[0].id = ent_lex_find(lx, buf, m);
            ti->ncand = 1;
        }
        return;
    }
    ti->wordlike = WL_WORD;
    if (wl > WORD_MAX) {
        ti->c[0].id = -1;
        ti->ncand = 1;
        return;
    }
    ns = tk->kind == NAHR_TOK_WORD ? nahr_ar_proclitic_splits(w, wl, splits, MAXC) : 1;
    if (tk->kind != NAHR_TOK_WORD)
        splits[0] = 0;
    /* normalise the word once; each stem's normalised form is a suffix of it
     * (normalisation works code point by code point); the map from its
     * bytes to the token's is needed for stems after a proclitic only */
    wm = nahr_ar_normalize(w, wl, whole, ns > 1 ? map : NULL);
    ti->oneletter = wm <= 2;
    /* suf[o] = ent_word_hash(whole + o, wm - o): every stem's hash from one pass */
    uint32_t suf[WORD_MAX + 9];
    {
        /* two bytes a step (a letter, most of the time) */
        uint32_t h = ENT_WORD_HASH_BASIS;
        size_t q = wm;
        suf[q] = h;
        if (q & 1) {
            q--;
            suf[q] = h = ent_word_hash_step(h, (unsigned char)whole[q]);
        }
        for (; q > 0; q -= 2) {
            suf[q - 1] = h = ent_word_hash_step(h, (unsigned char)whole[q - 1]);
            suf[q - 2] = h = ent_word_hash_step(h, (unsigned char)whole[q - 2]);
        }
    }
    for (s = 0; s < ns; s++) {
        size_t off = splits[s], m, o = 0;
        cand *c = &ti->c[ti->ncand];
        const char *norm;
        /* لل: the article's alef dropped after ل; look up "ال" + stem */
        int ll = 0;
        if (off >= 4) {
            /* the two letters before the stem are ل ل (marks may sit between) */
            size_t q = off;
            int lams = 0;
            while (q >= 2 && lams < 2) {
                if (w[q - 2] == U_LAM[0] && w[q - 1] == U_LAM[1]) {
                    lams++;
                    q -= 2;
                } else if ((unsigned char)w[q - 2] == 0xD9 && (unsigned char)w[q - 1] >= 0x8B &&
                           (unsigned char)w[q - 1] <= 0x9F) {
                    q -= 2; /* a mark */
                } else {
                    break;
                }
            }
            ll = lams == 2;
        }
        while (off && o < wm && map[o] < off)
            o++;
        if (ll) {
            memcpy(buf, U_ALEF U_LAM, 4);
            memcpy(buf + 4, whole + o, wm - o);
            m = 4 + wm - o;
            norm = buf;
            c->h = suf[o];
            for (size_t q = 4; q > 0; q--) /* "ال" before the stem */
                c->h = ent_word_hash_step(c->h, (unsigned char)buf[q - 1]);
        } else {
            norm = whole + o;
            m = wm - o;
            c->h = suf[o];
        }
        c->id = m ? ent_lex_find_inline(lx, norm, m, c->h) : -1;
        c->off = (uint16_t)off;
        c->ll = (uint8_t)ll;
        /* a stem after a stripped article (الـ) is never looked up: names
         * that take the article are listed with it (الأسد), and "المالي"
         * (financial) is not "مالي" (Mali) */
        if (!ll && off >= 4 && w[off - 4] == U_ALEF[0] && w[off - 3] == U_ALEF[1] && w[off - 2] == U_LAM[0] &&
            w[off - 1] == U_LAM[1])
            c->id = -1;
        if (s == 0) {
            /* shape facts on the whole normalised word */
            size_t letters = m / 2;
            if ((starts2(norm, m, U_YA) || starts2(norm, m, U_TA) || starts2(norm, m, U_NUN)) && letters >= 4)
                ti->verbish = 1;
            if (starts2(norm, m, U_SIN) && m >= 4 && (starts2(norm + 2, m - 2, U_YA) || starts2(norm + 2, m - 2, U_TA)) &&
                letters >= 5)
                ti->verbish = 1;
            if (wl >= 2 && (unsigned char)w[wl - 2] == 0xD9 && (unsigned char)w[wl - 1] == 0x89)
                ti->ending = END_MAQSURA;
            if (wl >= 2 && (unsigned char)w[wl - 2] == 0xD9 && (unsigned char)w[wl - 1] == 0x87)
                ti->ending = END_HA;
        }
        ti->ncand++;
        if (c->id >= 0 && !ti->flags) {
            uint32_t fl = lx->words[c->id].flags;
            /* a short stem after a clitic is too weak for a name: وجود is not و + جود */
            if (off > 0 && m < 8)
                fl &= ~(W_FIRST | W_LAST);
            if (!fl)
                continue;
            ti->flags = fl;
            ti->info = lx->words[c->id].info;
            ti->fcand = (uint8_t)(ti->ncand - 1);
        }
    }
    if (ti->flags & (W_FIRST | W_LAST))
        ti->verbish = 0;
    /* clitic shape of the word */
    if (ns > 1 && !(ti->c[0].id >= 0 && (lx->words[ti->c[0].id].flags & (W_FIRST | W_LAST)))) {
        if (starts2(w, wl, U_WAW) || starts2(w, wl, U_FA))
            ti->waw = 1;
        {
            size_t p = (starts2(w, wl, U_WAW) || starts2(w, wl, U_FA)) ? 2 : 0;
            if ((starts2(w + p, wl - p, U_BA) || starts2(w + p, wl - p, U_KAF) || starts2(w + p, wl - p, U_LAM)) &&
                (starts_al(w + p + 2, wl - p - 2) || starts2(w + p + 2, wl - p - 2, U_LAM)))
                ti->prep_al = 1;
        }
    }
    {
        /* definiteness after the conjunction/preposition */
        size_t p = 0;
        if (starts2(w, wl, U_WAW) || starts2(w, wl, U_FA))
            p = 2;
        if (starts_al(w, wl) || starts_al(w + p, wl - p))
            ti->def = 1;
        if (ti->c[ti->fcand].off > 0 && ti->prep_al)
            ti->def = 1;
    }
    /* the candidates that gaz_match() follows into the trie */
    for (s = 0; s < ti->ncand; s++) {
        ti->c[s].groot = ti->c[s].id >= 0 && ent_trie_root(lx, (uint32_t)ti->c[s].id) > 0;
        if (ti->c[s].groot)
            ti->wordlike |= WL_GROOT;
    }
    /* a single word that is itself a LOC/ORG entry */
    if (ti->c[ti->fcand].id >= 0) {
        int32_t node = ent_trie_root(lx, (uint32_t)ti->c[ti->fcand].id);
        if (node > 0 && (lx->nodes[node].type == ENT_LOC || lx->nodes[node].type == ENT_ORG))
            ti->gazloc = 1;
    }
}

/* ---- per-thread token cache ---- */

/* 4-way set-associative with least-recently-used replacement: 65,536 slots
 * of 128 bytes (8 MB, touched as they fill), kept across articles. A set's
 * tags (the hash's high half, never 0; 0 = empty way) share one 16-byte
 * line, so that a lookup reads the slot of the matching way only. The
 * direct-mapped table of 8,192 slots it replaced missed 16.0 % of the tokens
 * of the first 8 MB of the news files (1,565 articles), this one 6.1 %; on a
 * 2 MB sample read 4 times, 30.7 % and 6.3 % (the first occurrences). */
#define EC_WAYS 4u
#define EC_SETS 16384u
#define EC_KEY 30         /* longer tokens are not cached; a slot is 128 bytes */
#define EC_RING 16u       /* hashes of the tokens between the prefetch and the lookup */
#define EC_AHEAD 8u       /* the slot of token i + EC_AHEAD is asked for before token i is read */
/* Tokens of one byte, or of one two-byte UTF-8 character (punctuation such
 * as ، ؛ ؟, single letters, digits ٣): 13 % of the tokens of the news files.
 * They have a table of their own, indexed by kind and bytes, where an entry
 * is filled once and never replaced: no hash, no search, no key compare. */
#define EC_SMALL_KIND (256u + 30u * 64u) /* bytes 0..255, then lead 0xC2..0xDF x continuation */
#define EC_SMALL (4u * EC_SMALL_KIND)     /* kinds 1..4 (NAHR_TOK_WORD .. NAHR_TOK_LATIN) */
#define EC_SMALL_FLAG (1ull << 62)        /* cache_hash() of a small token: this | index */

typedef struct ec_slot {
    uint8_t klen; /* meaningful when the way's tag is not 0 */
    uint8_t kind;
    char key[EC_KEY];
    tokinfo ti;
} ec_slot;
_Static_assert(sizeof(ec_slot) == 128, "two cache lines per slot");

struct ent_cache {
    const ent_lexicon *lx; /* the lexicon the facts were computed with (NULL: the tags not cleared yet) */
    /* per-article arrays, reused: they grow to the largest article seen */
    void *buf[4];          /* the tokens' facts pointers, tokinfo, spans, cover */
    size_t cap[4];         /* bytes */
    uint32_t article;      /* counts the articles tagged (wraps) */
    uint8_t age[EC_SETS];  /* 2 bits per way: 0 most recently used .. 3 least */
    _Alignas(16) uint32_t tag[EC_SETS][EC_WAYS];
    /* the value of `article` when the way was last used: a way the current
     * article uses is not replaced (its tokens point into it) */
    uint32_t used[EC_SETS][EC_WAYS];
    uint8_t small_set[EC_SMALL]; /* small[i] holds its token's facts */
    tokinfo small[EC_SMALL];
    _Alignas(64) ec_slot slot[EC_SETS][EC_WAYS]; /* never cleared: read only under a tag */
};

ent_cache *ent_cache_new(void)
{
    /* 2 MB aligned and marked for a transparent huge page: the slots are
     * read at random, and with 4 KB pages nearly every access also missed
     * the TLB (madvise is only a hint; without huge pages nothing changes) */
    size_t align = (size_t)2 << 20, size = (sizeof(ent_cache) + align - 1) & ~(align - 1);
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0)
        return NULL;
    madvise(p, size, MADV_HUGEPAGE);
    /* lx NULL: the first ent_tag_cached() clears the tags and ages */
    memset(p, 0, offsetof(ent_cache, age));
    return p;
}

void ent_cache_free(ent_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < 4; i++)
        free(c->buf[i]);
    free(c);
}

/* Forgets every entry (facts computed with another lexicon). */
static void cache_clear(ent_cache *c, const ent_lexicon *lx)
{
    memset(c->tag, 0, sizeof c->tag);
    memset(c->age, LRU4_INIT, sizeof c->age);
    memset(c->used, 0, sizeof c->used);
    memset(c->small_set, 0, sizeof c->small_set);
    c->article = 0;
    c->lx = lx;
}

/* n bytes of scratch number `which`: the worker's reusable buffer when there
 * is a cache, else the document's arena. NULL on out-of-memory. */
static void *scratch(ent_cache *c, nahr_doc *doc, int which, size_t n)
{
    if (!c)
        return nahr_doc_alloc(doc, n);
    if (c->cap[which] < n) {
        size_t cap = n + n / 2 + 4096;
        /* nothing in it outlives an article: a new buffer, not realloc()'s copy */
        void *p = malloc(cap);
        if (!p)
            return NULL;
        free(c->buf[which]);
        c->buf[which] = p;
        c->cap[which] = cap;
    }
    return c->buf[which];
}

/* The index in the small table of a token of n bytes and kind `kind`,
 * SIZE_MAX for a token it does not hold. */
static inline size_t ec_small_index(const char *s, size_t n, unsigned kind)
{
    const unsigned char *u = (const unsigned char *)s;
    if (kind - 1u >= 4u || n - 1u >= 2u)
        return SIZE_MAX;
    if (n == 1)
        return (kind - 1u) * EC_SMALL_KIND + u[0];
    if (u[0] < 0xC2 || u[0] > 0xDF || (u[1] & 0xC0) != 0x80)
        return SIZE_MAX;
    return (kind - 1u) * EC_SMALL_KIND + 256u + (u[0] - 0xC2u) * 64u + (u[1] & 0x3Fu);
}

/* The hash of token k's key (bit 63 set), EC_SMALL_FLAG | its index for a
 * token of the small table, 0 for a token the cache does not hold. */
static inline uint64_t cache_hash(const tagger *t, size_t k)
{
    const nahr_token *tk = &t->tok[k];
    size_t n = tk->end - tk->start;
    if (n > EC_KEY)
        return 0;
    if (n <= 2) {
        const size_t x = ec_small_index(t->text + tk->start, n, tk->kind);
        if (x != SIZE_MAX)
            return EC_SMALL_FLAG | x;
    }
    return ent_key_hash(t->text + tk->start, n, tk->start, (uint64_t)n << 8 | tk->kind) | (1ull << 63);
}

static inline size_t ec_set(uint64_t h) { return (size_t)h & (EC_SETS - 1); }
static inline uint32_t ec_tag(uint64_t h) { return (uint32_t)(h >> 32); } /* bit 63 set: never 0 */

size_t ent_cache_set_of(const char *s, size_t n, int kind)
{
    if (n > EC_KEY || ec_small_index(s, n, (unsigned)kind) != SIZE_MAX)
        return SIZE_MAX;
    return ec_set(ent_key_hash_plain(s, n, (uint64_t)n << 8 | (unsigned)kind) | (1ull << 63));
}

/* The ways of set whose tag is tag, as bits. */
static inline unsigned ec_match(const ent_cache *c, size_t set, uint32_t tag)
{
    const uint32_t *tg = c->tag[set];
#if defined(__SSE2__)
    _Static_assert(EC_WAYS == 4, "one 16-byte compare");
    const __m128i t4 = _mm_load_si128((const __m128i *)(const void *)tg);
    return (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(t4, _mm_set1_epi32((int)tag))));
#else
    unsigned m = 0;
    for (unsigned k = 0; k < EC_WAYS; k++)
        m |= (unsigned)(tg[k] == tag) << k;
    return m;
#endif
}

/* Starts loading the slot of the token with hash h (the loop below reads it
 * EC_AHEAD tokens later: a slot is rarely in the CPU cache, and waiting for
 * it was the tagger's largest single cost). Returns the way it asked for
 * (EC_WAYS: none), the lookup's first guess. */
static inline unsigned cache_prefetch(const ent_cache *c, uint64_t h)
{
    if (!(h >> 63)) /* not in the sets */
        return EC_WAYS;
    const size_t set = ec_set(h);
    const unsigned m = ec_match(c, set, ec_tag(h));
    if (!m)
        return EC_WAYS;
    const unsigned way = (unsigned)__builtin_ctz(m);
    const char *e = (const char *)&c->slot[set][way];
    __builtin_prefetch(e);
    __builtin_prefetch(e + 64);
    return way;
}

/* token_facts() through the cache (h: cache_hash() of token k): the facts
 * depend on the token's bytes and kind only. Sets t->ti[k] to the facts in
 * the slot of the token's word, or in t->own[k] for a token the cache does
 * not hold. hint: the way cache_prefetch() found for h (EC_WAYS: none),
 * tried first; the tokens since may have replaced it, and then the set is
 * searched as without it (a key is in at most one way of its set, so the
 * way found is the same).
 *
 * The facts are not copied out of the slot: a way the current article has
 * used (used[][] == article) is never replaced, so that every pointer of
 * t->ti stays valid until the article is tagged. When the least recently
 * used way of the set is such a way, all four are (LRU order), and the
 * token's facts go to own[k] without entering the cache. */
static __attribute__((noinline)) void token_facts_miss(tagger *t, ent_cache *c, size_t k, size_t set, uint32_t tag)
{
    const nahr_token *tk = &t->tok[k];
    const size_t n = tk->end - tk->start;
    const unsigned way = lru4_oldest(c->age[set]);
    if (c->used[set][way] == c->article) {
        token_facts(t, k, &t->own[k]);
        t->ti[k] = &t->own[k];
        return;
    }
    ec_slot *e = &c->slot[set][way];
    token_facts(t, k, &e->ti);
    c->tag[set][way] = tag;
    e->klen = (uint8_t)n;
    e->kind = (uint8_t)tk->kind;
    ent_key_copy(e->key, t->text + tk->start, n);
    t->ti[k] = &e->ti;
    c->used[set][way] = c->article;
    c->age[set] = lru4_touch(c->age[set], way);
}

/* Inline: the hit, with no call (most tokens). */
static inline void token_facts_cached(tagger *t, ent_cache *c, size_t k, uint64_t h, unsigned hint)
{
    const nahr_token *tk = &t->tok[k];
    size_t n = tk->end - tk->start;
    const char *w = t->text + tk->start;
    if (!(h >> 63)) {
        if (h) {
            const size_t x = (size_t)(h & (EC_SMALL_FLAG - 1));
            if (!c->small_set[x]) {
                token_facts(t, k, &c->small[x]);
                c->small_set[x] = 1;
            }
            t->ti[k] = &c->small[x];
        } else {
            token_facts(t, k, &t->own[k]);
            t->ti[k] = &t->own[k];
        }
        return;
    }
    const size_t set = ec_set(h);
    const uint32_t tag = ec_tag(h);
    unsigned way = EC_WAYS;
    if (hint < EC_WAYS && c->tag[set][hint] == tag) {
        const ec_slot *e = &c->slot[set][hint];
        if (e->klen == n && e->kind == tk->kind && ent_key_eq(e->key, w, n))
            way = hint;
    }
    for (unsigned m = way < EC_WAYS ? 0 : ec_match(c, set, tag); m; m &= m - 1) {
        const unsigned q = (unsigned)__builtin_ctz(m);
        const ec_slot *e = &c->slot[set][q];
        if (e->klen == n && e->kind == tk->kind && ent_key_eq(e->key, w, n)) {
            way = q;
            break;
        }
    }
    if (way == EC_WAYS) {
        token_facts_miss(t, c, k, set, tag);
        return;
    }
    t->ti[k] = &c->slot[set][way].ti;
    c->used[set][way] = c->article;
    c->age[set] = lru4_touch(c->age[set], way);
}

/* ---- spans ---- */

static espan *span_new(tagger *t, uint8_t type, uint8_t src, size_t ta, size_t tb, size_t start)
{
    espan *s;
    size_t k;
    if (t->nsp == t->capsp)
        return NULL;
    for (k = ta; k < tb; k++)
        if (t->cover[k] >= 0)
            return NULL; /* spans never overlap: the first one found wins */
    s = &t->sp[t->nsp];
    memset(s, 0, sizeof *s);
    s->type = type;
    s->src = src;
    s->ta = (uint32_t)ta;
    s->tb = (uint32_t)tb;
    s->start = start;
    s->end = t->tok[tb - 1].end;
    s->value = NAN;
    for (k = ta; k < tb; k++)
        t->cover[k] = (int32_t)t->nsp;
    t->nsp++;
    return s;
}

static size_t tok_start(const tagger *t, size_t k, size_t ci)
{
    return t->tok[k].start + t->ti[k]->c[ci].off;
}

/* same sentence between token a and token b (a < b) */
/* Whether token a and the token after it are in one sentence. a = k - 1 of
 * the first token (k = 0) wraps to SIZE_MAX: nothing comes before the text,
 * as nothing before a sentence start (the callers' "joined(t, k - 1)" read
 * the token array out of bounds there: rule_number() with a scale word such
 * as "مليون" as the text's first token gave a span or not by chance). */
static int joined(const tagger *t, size_t a)
{
    return a < t->n && !(t->tok[a].flags & NAHR_TOK_SENT_END);
}

static int32_t id0(const tagger *t, size_t k)
{
    return t->ti[k]->ncand ? t->ti[k]->c[0].id : -1;
}

static int is_word(const tagger *t, size_t k, const char *w)
{
    int32_t id = id0(t, k);
    size_t n;
    const char *s;
    if (id < 0)
        return 0;
    s = word_str(t->lx, id, &n);
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* ---- gazetteer ---- */

typedef struct gmatch {
    size_t end; /* token index after the match, 0 = none */
    size_t cand;
    int32_t node;
} gmatch;

/* gaz_match() of a token with a candidate that starts a phrase. */
static __attribute__((noinline)) gmatch gaz_follow(const tagger *t, size_t i)
{
    gmatch best = {0, 0, -1};
    const tokinfo *ti = t->ti[i];
    size_t c;
    for (c = 0; c < ti->ncand; c++) {
        int32_t node;
        size_t k;
        if (!ti->c[c].groot) /* no phrase starts with it (or no word id) */
            continue;
        node = ent_trie_root(t->lx, (uint32_t)ti->c[c].id);
        k = i + 1;
        while (node > 0) {
            if (t->lx->nodes[node].type != ENT_NONE && k > best.end) {
                best.end = k;
                best.cand = c;
                best.node = node;
            }
            if (k >= t->n || !joined(t, k - 1) || id0(t, k) < 0)
                break;
            node = ent_trie_child(t->lx, (uint32_t)node, (uint32_t)id0(t, k));
            k++;
        }
    }
    return best;
}

/* The longest gazetteer phrase starting at token i (end 0: none). Inline:
 * called for nearly every word, and most start no phrase (WL_GROOT: some
 * candidate of a word has groot). */
static inline gmatch gaz_match(const tagger *t, size_t i)
{
    if (t->ti[i]->wordlike & WL_GROOT)
        return gaz_follow(t, i);
    return (gmatch){0, 0, -1};
}

static size_t connector_tail(const tagger *t, size_t e);

static espan *emit_gaz(tagger *t, size_t i, gmatch g)
{
    const ent_node *nd = &t->lx->nodes[g.node];
    espan *s;
    if (nd->type == ENT_PER)
        g.end = connector_tail(t, g.end); /* خليفة بن زايد + آل نهيان */
    s = span_new(t, nd->type, 0, i, g.end, tok_start(t, i, g.cand));
    if (s && nd->canon != UINT32_MAX)
        s->canon = t->lx->pool + nd->canon;
    return s;
}

/* ---- persons ---- */

#define BLOCK_NAME (W_TITLE | W_NATION | W_MONTH | W_WEEKDAY | W_ORGHEAD | W_LOCTRIG | W_CURRENCY | W_UNIT | \
                    W_SCALE | W_GENERIC | W_TITLEPOST | W_PERCENTW | W_YEARW | W_DAYW | W_MONTHW | W_ORGHEAD_DEF)

static int name_part_known(const tokinfo *ti)
{
    /* على (preposition) normalises like the name علي, ناديه (his club) like
     * the name نادية: the spelling decides */
    return (ti->flags & (W_FIRST | W_LAST)) && !(ti->ending == END_MAQSURA && (ti->flags & W_STOP)) &&
           !(ti->ending == END_HA && (ti->flags & W_TAMARBUTA));
}

/* can token k start or continue a name as an unknown word? */
static int unknown_name_word(const tagger *t, size_t k)
{
    const tokinfo *ti = t->ti[k];
    if (!ti->wordlike || ti->verbish || ti->waw || ti->prep_al || ti->gazloc)
        return 0;
    if (ti->oneletter) /* (ب أ), initials, لـ */
        return 0;
    if (ti->flags & (BLOCK_NAME | W_STOP | W_CONNECT | W_EVENT))
        return 0;
    return 1;
}

/* End (token index) of a person name starting at j, or j when none.
 * max_unknown: how many words no list knows may be part of it. */
static size_t name_extent(const tagger *t, size_t j, int max_unknown)
{
    size_t k;
    int unknown = 0;
    const tokinfo *ti;
    if (j >= t->n)
        return j;
    ti = t->ti[j];
    if (!ti->wordlike)
        return j;
    if (name_part_known(ti) && !(ti->flags & BLOCK_NAME) && !(ti->flags & W_STOP && ti->waw)) {
        /* known name part */
    } else if ((ti->flags & W_CONNECT) && j + 1 < t->n && t->ti[j + 1]->wordlike) {
        /* أبو محمد */
    } else if (unknown_name_word(t, j) && max_unknown > 0) {
        unknown++;
    } else {
        return j;
    }
    k = j + 1;
    while (k < t->n && k - j < 5 && joined(t, k - 1)) {
        const tokinfo *tk = t->ti[k];
        if (!tk->wordlike)
            break;
        if ((tk->flags & W_CONNECT) && k + 1 < t->n && joined(t, k) && t->ti[k + 1]->wordlike &&
            !(t->ti[k + 1]->flags & W_STOP && !name_part_known(t->ti[k + 1]))) {
            k += 2;
            continue;
        }
        if (name_part_known(tk) && !(tk->flags & BLOCK_NAME) && !tk->waw) {
            k++;
            continue;
        }
        if (unknown < max_unknown && unknown_name_word(t, k)) {
            unknown++;
            k++;
            continue;
        }
        break;
    }
    if (k == j + 1 && (ti->flags & W_CONNECT))
        return j; /* بن، ابن alone are no name */
    return k;
}

static void set_surface_canon(tagger *t, espan *s);
static int is_punct(const tagger *t, size_t k, const char *p);

/* "آل نهيان", "بن راشد" continuing a name that ends at e */
static size_t connector_tail(const tagger *t, size_t e)
{
    while (e + 1 < t->n && joined(t, e - 1) && joined(t, e) && (t->ti[e]->flags & W_CONNECT) && !t->ti[e]->waw &&
           t->ti[e + 1]->wordlike && !(t->ti[e + 1]->flags & (W_STOP | BLOCK_NAME)) && !t->ti[e + 1]->verbish &&
           !t->ti[e + 1]->waw)
        e += 2;
    return e;
}



/* title + complements + name. Returns the token after what it consumed, or i. */
static size_t rule_title(tagger *t, size_t i)
{
    size_t j = i + 1, steps = 0, e;
    while (j < t->n && steps < 5 && joined(t, j - 1)) {
        const tokinfo *tj = t->ti[j];
        gmatch g;
        if (tj->wordlike && (tj->flags & (W_TITLEPOST | W_NATION)) && !(tj->flags & (W_FIRST))) {
            j++;
            steps++;
            continue;
        }
        if (is_word(t, j, "باسم") && j + 1 < t->n) {
            /* المتحدث باسم الرئاسة الروسية: the body named is not the person */
            gmatch gb = gaz_match(t, j + 1);
            if (gb.end) {
                if (t->lx->nodes[gb.node].type != ENT_PER)
                    emit_gaz(t, j + 1, gb);
                j = gb.end;
            } else {
                j += 2;
            }
            steps++;
            continue;
        }
        if (t->ti[j]->oneletter && j + 1 < t->n) {
            j++;
            steps++;
            continue;
        }
        /* an adjective agreeing with the complement: رئيس المجلس المحلي */
        if (steps > 0 && tj->wordlike && tj->def && !name_part_known(tj) && !tj->waw) {
            const char *w = t->text + t->tok[j].start;
            size_t wl = t->tok[j].end - t->tok[j].start;
            if ((wl >= 6 && memcmp(w + wl - 4, "\xD9\x8A\xD8\xA9", 4) == 0) || memcmp(w + wl - 2, "\xD9\x8A", 2) == 0) {
                j++;
                steps++;
                continue;
            }
        }
        g = gaz_match(t, j);
        if (g.end && t->lx->nodes[g.node].type != ENT_PER && t->lx->nodes[g.node].type != ENT_MISC) {
            emit_gaz(t, j, g);
            j = g.end;
            steps++;
            continue;
        }
        break;
    }
    if (j >= t->n || !joined(t, j - 1))
        return j;
    {
        gmatch g = gaz_match(t, j);
        if (g.end && t->lx->nodes[g.node].type == ENT_PER) {
            /* extend a listed first name with a family name */
            size_t e2 = g.end == j + 1 && (t->ti[j]->flags & W_FIRST) ? name_extent(t, j, 1) : g.end;
            if (e2 > g.end) {
                espan *s = span_new(t, ENT_PER, 1, j, e2, tok_start(t, j, t->ti[j]->fcand));
                if (s)
                    set_surface_canon(t, s);
                return e2;
            }
            emit_gaz(t, j, g);
            return g.end;
        }
    }
    /* a word with the article no list knows is the complement of the title
     * (مدير المركز الإعلامي، رئيس الجمعية الوطنية، الرئيس القادم), not a name */
    if (t->ti[j]->def && !name_part_known(t->ti[j]))
        return j;
    e = name_extent(t, j, name_part_known(t->ti[j]) ? 1 : 2);
    if (e == j + 1 && (t->ti[j]->flags & W_STOP))
        return j; /* a common word that is also a name part, alone (لاعب جديد) */
    if (e > j) {
        espan *s = span_new(t, ENT_PER, 1, j, e, tok_start(t, j, t->ti[j]->fcand));
        if (s) {
            set_surface_canon(t, s);
            s->strong = name_part_known(t->ti[j]) || name_part_known(t->ti[e - 1]);
        }
        return e;
    }
    return j;
}

/* verb of saying + name + إن/أن/، : the speaker is a person ("وقال كوفي
 * أنان إن ..."). Returns the end of the name or i. */
static size_t rule_say(const tagger *t, size_t i)
{
    size_t j = i + 1, e;
    if (!(t->ti[i]->flags & W_SAY) || j >= t->n || !joined(t, i))
        return i;
    if (!t->ti[j]->wordlike || (t->ti[j]->flags & (W_TITLE | W_SAY)))
        return i;
    e = name_extent(t, j, 2);
    if (e == j || e >= t->n || !joined(t, e - 1))
        return i;
    /* one word with the article no list knows is a body or a thing that speaks
     * (وأضافت الصحيفة أن، أعلن المستشفى أن), not a person */
    if (e == j + 1 && t->ti[j]->def && !name_part_known(t->ti[j]))
        return i;
    if ((t->ti[e]->flags & W_THAT) || is_punct(t, e, "\xD8\x8C") || is_punct(t, e, ",") || is_punct(t, e, ":"))
        return e;
    return i;
}

/* a first name followed by name parts; returns the end or i */
static size_t rule_first_name(const tagger *t, size_t i)
{
    const tokinfo *ti = t->ti[i];
    size_t e;
    if (!(ti->flags & W_FIRST) || !name_part_known(ti) || (ti->flags & BLOCK_NAME))
        return i;
    if (ti->flags & W_STOP) {
        /* ambiguous (أمل، سلام): only before a known name part */
        if (i + 1 >= t->n || !joined(t, i) || !name_part_known(t->ti[i + 1]))
            return i;
    }
    e = name_extent(t, i, 1);
    return e;
}

/* ---- organisations ---- */

static int is_relative(const tagger *t, size_t k)
{
    return is_word(t, k, "الذي") || is_word(t, k, "التي") || is_word(t, k, "الذين") || is_word(t, k, "اللذين") ||
           is_word(t, k, "اللتين") || is_word(t, k, "اللواتي") || is_word(t, k, "اللاتي");
}

/* token k ends like a nisba adjective with the article: ال…ية / ال…ي (at least 3 letters between) */
static int nisba_def(const tagger *t, size_t k)
{
    const char *w = t->text + t->tok[k].start;
    size_t wl = t->tok[k].end - t->tok[k].start;
    if (wl >= 12 && memcmp(w + wl - 4, "\xD9\x8A\xD8\xA9", 4) == 0)
        return 1;
    return wl >= 10 && memcmp(w + wl - 2, "\xD9\x8A", 2) == 0;
}

static size_t rule_org(const tagger *t, size_t i)
{
    const tokinfo *ti = t->ti[i];
    size_t j = i + 1, ncomp = 0;
    int last_def;
    if (j >= t->n || !joined(t, i) || !t->ti[j]->wordlike)
        return i;
    if (ti->flags & W_ORGHEAD_DEF && !(ti->flags & W_ORGHEAD)) {
        /* الجيش السوري، الحزب الشيوعي */
        while (j < t->n && j - i < 4 && joined(t, j - 1) && (t->ti[j]->flags & (W_NATION | W_GENERIC)) &&
               t->ti[j]->def && !t->ti[j]->waw)
            j++;
        return j - i >= 2 ? j : i;
    }
    if (!(ti->flags & W_ORGHEAD))
        return i;
    {
        gmatch g = gaz_match(t, j);
        const tokinfo *tj = t->ti[j];
        if (g.end) {
            /* a listed organisation or person after the head stands alone
             * (حركة [حماس]); a place completes it (جامعة دمشق) */
            if (t->lx->nodes[g.node].type != ENT_LOC)
                return i;
            j = g.end;
            last_def = 1;
        } else if ((tj->flags & W_STOP && (!tj->def || is_relative(t, j))) ||
                   (tj->flags & (W_TITLE | W_MONTH | W_WEEKDAY | W_SCALE | W_CURRENCY | W_UNIT | W_LOCTRIG)) || tj->verbish ||
                   tj->waw || (tj->flags & W_ORGHEAD && !tj->def)) {
            return i;
        } else {
            /* an indefinite nisba adjective (قوات دولية) does not make a name */
            const char *w = t->text + t->tok[j].start;
            size_t wl = t->tok[j].end - t->tok[j].start;
            if (!tj->def && wl >= 4 &&
                ((wl >= 6 && memcmp(w + wl - 4, "\xD9\x8A\xD8\xA9", 4) == 0) || memcmp(w + wl - 2, "\xD9\x8A", 2) == 0) &&
                !tj->gazloc)
                return i;
            last_def = tj->def;
            j++;
        }
        ncomp = 1;
    }
    while (j < t->n && ncomp < 5 && joined(t, j - 1)) {
        const tokinfo *tj = t->ti[j];
        if (!tj->wordlike || tj->waw)
            break;
        if (tj->def && !tj->prep_al && (tj->flags & (W_GENERIC | W_NATION))) {
            j++;
            ncomp++;
            last_def = 1;
            continue;
        }
        if (last_def && tj->def && !tj->prep_al && !(tj->flags & (W_STOP | W_MONTH | W_WEEKDAY | W_TITLE)) &&
            nisba_def(t, j)) {
            /* a nisba adjective agreeing with the name (وزارة الشؤون الاجتماعية، وزارة التعليم العالي) */
            j++;
            ncomp++;
            continue;
        }
        if (!last_def && tj->def && !tj->prep_al && !(tj->flags & (W_STOP | W_MONTH | W_WEEKDAY)) &&
            !tj->verbish) {
            j++;
            ncomp++;
            last_def = 1;
            continue;
        }
        /* للمياه، للنفط: ل + article fused */
        if (tj->prep_al && starts2(t->text + t->tok[j].start, t->tok[j].end - t->tok[j].start, U_LAM) &&
            starts2(t->text + t->tok[j].start + 2, t->tok[j].end - t->tok[j].start - 2, U_LAM) &&
            !(tj->flags & W_STOP)) {
            j++;
            ncomp++;
            last_def = 1;
            continue;
        }
        /* لحقوق الإنسان، للأغذية: a ل-phrase completing the name */
        if (tj->prep_al == 0 && starts2(t->text + t->tok[j].start, t->tok[j].end - t->tok[j].start, U_LAM) &&
            !(tj->flags & (W_STOP)) && j + 1 < t->n && joined(t, j) && t->ti[j + 1]->def &&
            !(t->ti[j + 1]->flags & W_STOP) && !t->ti[j + 1]->waw && t->ti[j + 1]->wordlike) {
            j += 2;
            ncomp += 2;
            last_def = 1;
            continue;
        }
        break;
    }
    return j;
}

/* ---- locations ---- */

static const char *const loc_prefixes[] = {"كفر", "دير", "تل", "عين", "بئر", "بيت", "ابو", "راس", "خان",
                                           "مرج", "برج", "قلعه", "جسر", "ام", "سيدي", "بني", "وادي", "جبل",
                                           "شرم", "سان", "سانت", "نيو", "لوس", "بور", "حمام", "عرب", NULL};

static int is_loc_prefix(const tagger *t, size_t k)
{
    size_t i;
    for (i = 0; loc_prefixes[i]; i++)
        if (is_word(t, k, loc_prefixes[i]))
            return 1;
    return 0;
}

/* returns the end of what it consumed (trigger + name) or i; emits the span */
static size_t rule_loc(tagger *t, size_t i)
{
    size_t j = i + 1, e;
    const tokinfo *tj;
    gmatch g;
    if (!(t->ti[i]->flags & W_LOCTRIG))
        return i;
    if (j < t->n && joined(t, i) && (t->ti[j]->flags & W_NATION))
        j++;
    if (j >= t->n || !joined(t, j - 1))
        return i;
    g = gaz_match(t, j);
    if (g.end) {
        if (t->lx->nodes[g.node].type == ENT_LOC) {
            emit_gaz(t, j, g);
            return g.end;
        }
        return i;
    }
    tj = t->ti[j];
    if (!unknown_name_word(t, j) || tj->def > 1)
        return i;
    if (t->ti[i]->def && tj->def && j == i + 1)
        return i; /* after a trigger with the article, a word with it no list knows agrees with it:
                   * an adjective (المدينة القديمة، القرية الواحدة), not a name */
    {
        /* adjectives (عازلة، الحدودية) are not names */
        size_t n;
        const char *s;
        if (tj->c[0].id >= 0 && (t->lx->words[tj->c[0].id].flags & W_STOP))
            return i;
        s = t->text + t->tok[j].start;
        n = t->tok[j].end - t->tok[j].start;
        if (n >= 4 && ((unsigned char)s[n - 2] == 0xD8 && (unsigned char)s[n - 1] == 0xA9) && n >= 6 &&
            (unsigned char)s[n - 4] == 0xD9 && (unsigned char)s[n - 3] == 0x8A)
            return i; /* ...ية */
        if (tj->def && n >= 2 && (unsigned char)s[n - 2] == 0xD9 && (unsigned char)s[n - 1] == 0x8A)
            return i; /* ال...ي */
    }
    e = j + 1;
    if (is_loc_prefix(t, j) && e < t->n && joined(t, j) && t->ti[e]->wordlike && !(t->ti[e]->flags & W_STOP))
        e++;
    {
        espan *s = span_new(t, ENT_LOC, 1, j, e, tok_start(t, j, 0));
        if (s)
            set_surface_canon(t, s);
    }
    return e;
}

/* ---- dates ---- */

/* Month at k (one or two words). Returns words used (0 = none), *month. */
static size_t month_at(const tagger *t, size_t k, int *month, int *hijri, int *ambig)
{
    const tokinfo *ti;
    if (k >= t->n)
        return 0;
    ti = t->ti[k];
    if (!(ti->flags & W_MONTH))
        return 0;
    *hijri = (ti->flags & W_HIJRI) != 0;
    *ambig = (ti->flags & W_AMBIG) != 0;
    if (ti->info < 0x100) {
        *month = ti->info;
        return 1;
    }
    if (k + 1 >= t->n || !joined(t, k))
        return 0;
    {
        int first = is_word(t, k + 1, "الاول") || is_word(t, k + 1, "الاولي");
        int second = is_word(t, k + 1, "الثاني") || is_word(t, k + 1, "الثانيه") || is_word(t, k + 1, "الاخر") ||
                     is_word(t, k + 1, "الاخره");
        switch (ti->info) {
        case 0x101: /* كانون */
            if (first || second) {
                *month = first ? 12 : 1;
                return 2;
            }
            return 0;
        case 0x102: /* تشرين */
            if (first || second) {
                *month = first ? 10 : 11;
                return 2;
            }
            return 0;
        case 0x103: /* ربيع */
            if (first || second) {
                *month = first ? 3 : 4;
                return 2;
            }
            return 0;
        case 0x104: /* جمادى */
            if (first || second) {
                *month = first ? 5 : 6;
                return 2;
            }
            return 0;
        case 0x105: /* ذو/ذي القعدة، الحجة */
            if (is_word(t, k + 1, "القعده")) {
                *month = 11;
                return 2;
            }
            if (is_word(t, k + 1, "الحجه")) {
                *month = 12;
                return 2;
            }
            return 0;
        }
    }
    return 0;
}

static int is_int_tok(const tagger *t, size_t k, double lo, double hi)
{
    double v;
    if (k >= t->n || t->tok[k].kind != NAHR_TOK_NUMBER)
        return 0;
    v = t->ti[k]->num;
    return !isnan(v) && v >= lo && v <= hi && v == floor(v);
}

static int is_punct(const tagger *t, size_t k, const char *p)
{
    size_t n = strlen(p);
    return k < t->n && t->tok[k].kind == NAHR_TOK_PUNCT && t->tok[k].end - t->tok[k].start == n &&
           memcmp(t->text + t->tok[k].start, p, n) == 0;
}

/* Whether rule_date() may find a date at token i: it starts with a number or
 * a word of one of these classes (else it returns i at once). KEEP IN STEP
 * with rule_date(): called for nearly every token, so the test is inline. */
#define DATE_START (W_DAYW | W_WEEKDAY | W_MONTHW | W_MONTH | W_YEARW)
static inline int date_may_start(const tagger *t, size_t i)
{
    return t->tok[i].kind == NAHR_TOK_NUMBER || (t->ti[i]->flags & DATE_START) != 0;
}

static size_t rule_date(tagger *t, size_t i)
{
    size_t k = i, start_tok = i;
    int day = 0, month = 0, year = 0, hijri = 0, ambig = 0, weekday = 0, strong = 0;
    size_t used;
    espan *s;
    char *v;

    /* numeric dd/mm/yyyy or yyyy-mm-dd */
    if (is_int_tok(t, i, 1, 9999) && i + 4 < t->n && t->tok[i + 1].end == t->tok[i + 2].start &&
        t->tok[i].end == t->tok[i + 1].start && t->tok[i + 3].end == t->tok[i + 4].start &&
        t->tok[i + 2].end == t->tok[i + 3].start) {
        int sep_slash = is_punct(t, i + 1, "/") && is_punct(t, i + 3, "/");
        int sep_dash = is_punct(t, i + 1, "-") && is_punct(t, i + 3, "-");
        int sep_dot = is_punct(t, i + 1, ".") && is_punct(t, i + 3, ".");
        if ((sep_slash || sep_dash || sep_dot) && is_int_tok(t, i + 2, 1, 12) && is_int_tok(t, i + 4, 1, 9999)) {
            double a = t->ti[i]->num, c = t->ti[i + 4]->num;
            int mo = (int)t->ti[i + 2]->num;
            if (a >= 1000 && a <= 2100 && c >= 1 && c <= 31) {
                year = (int)a, month = mo, day = (int)c;
            } else if (a >= 1 && a <= 31 && c >= 1000 && c <= 2100) {
                day = (int)a, month = mo, year = (int)c;
            }
            if (year) {
                s = span_new(t, ENT_DATE, 1, i, i + 5, t->tok[i].start);
                if (s && (v = nahr_doc_alloc(t->doc, 16)) != NULL) {
                    snprintf(v, 16, "%04d-%02d-%02d", year, month, day);
                    s->vstr = v;
                }
                return i + 5;
            }
        }
    }
    if (t->ti[k]->flags & W_DAYW && k + 1 < t->n && (t->ti[k + 1]->flags & W_WEEKDAY)) {
        weekday = t->ti[k + 1]->info;
        k += 2;
        strong = 1;
    } else if (t->ti[k]->flags & W_WEEKDAY) {
        weekday = t->ti[k]->info;
        k++;
    }
    if (weekday && k + 1 < t->n && (is_punct(t, k, "\xD8\x8C") || is_punct(t, k, ","))) { /* ، , */
        int m0, h0, a0;
        /* only when a day or a month follows: "يوم الجمعة، 3 آذار" */
        if (is_int_tok(t, k + 1, 1, 31) || month_at(t, k + 1, &m0, &h0, &a0))
            k++;
    }
    if (t->ti[k < t->n ? k : i]->flags & W_MONTHW && k + 1 < t->n && (t->ti[k + 1]->flags & W_MONTH)) {
        k++;
        strong = 1;
    }
    if (is_int_tok(t, k, 1, 31) && (used = month_at(t, k + 1, &month, &hijri, &ambig)) > 0) {
        day = (int)t->ti[k]->num;
        k += 1 + used;
        strong = 1;
    } else if ((used = month_at(t, k, &month, &hijri, &ambig)) > 0) {
        k += used;
        /* يناير 21, 2025 (month first, as some sites print dates) */
        if (is_int_tok(t, k, 1, 31) && joined(t, k - 1) &&
            ((k + 1 < t->n && (is_punct(t, k + 1, ",") || is_punct(t, k + 1, "\xD8\x8C")) &&
              is_int_tok(t, k + 2, 1000, 2100)) ||
             is_int_tok(t, k + 1, 1000, 2100))) {
            day = (int)t->ti[k]->num;
            k += is_int_tok(t, k + 1, 1000, 2100) ? 1 : 2;
            strong = 1;
        }
    }
    if (month) {
        /* "سبتمبر/أيلول": a second month name of the other system */
        if (k + 1 < t->n && is_punct(t, k, "/") && (t->ti[k + 1]->flags & W_MONTH)) {
            int m2, h2, a2;
            size_t u2 = month_at(t, k + 1, &m2, &h2, &a2);
            if (u2 && m2 == month) {
                k += 1 + u2;
                strong = 1;
            }
        }
        if (is_int_tok(t, k, 1000, 2100) || (hijri && is_int_tok(t, k, 1300, 1600))) {
            year = (int)t->ti[k]->num;
            k++;
            strong = 1;
            /* هـ / م after the year */
            if (k < t->n && (is_word(t, k, "ه") || is_word(t, k, "م")) && t->tok[k].start <= t->tok[k - 1].end + 1)
                k++;
        }
        if (ambig && !strong)
            return i;
    } else if (!weekday) {
        /* عام 2015، سنة 1445 هـ */
        if ((t->ti[i]->flags & W_YEARW) && is_int_tok(t, i + 1, 1000, 2100) && joined(t, i)) {
            year = (int)t->ti[i + 1]->num;
            k = i + 2;
        } else {
            return i;
        }
    }
    if (k <= start_tok)
        return i;
    s = span_new(t, ENT_DATE, 1, start_tok, k, tok_start(t, start_tok, t->ti[start_tok]->fcand));
    if (s && (v = nahr_doc_alloc(t->doc, 24)) != NULL) {
        if (year && month && day)
            snprintf(v, 24, "%04d-%02d-%02d", year, month, day);
        else if (year && month)
            snprintf(v, 24, "%04d-%02d", year, month);
        else if (month && day)
            snprintf(v, 24, "--%02d-%02d", month, day);
        else if (month)
            snprintf(v, 24, "--%02d", month);
        else if (year)
            snprintf(v, 24, "%04d", year);
        else
            snprintf(v, 24, "weekday-%d", weekday);
        s->vstr = v;
        if (hijri)
            s->calendar = "hijri";
    }
    return k;
}

/* ---- numbers ---- */

static size_t rule_number(tagger *t, size_t i)
{
    size_t k = i;
    double v;
    int have_num = 0, scaled = 0;
    const char *unit = NULL;
    uint8_t type = ENT_QUANTITY;
    espan *s;

    if (t->tok[i].kind == NAHR_TOK_NUMBER) {
        v = t->ti[i]->num;
        if (isnan(v))
            return i;
        have_num = 1;
        k++;
        /* 90% / ٪ */
        if (k < t->n && (is_punct(t, k, "%") || is_punct(t, k, "\xD9\xAA"))) {
            s = span_new(t, ENT_PERCENT, 1, i, k + 1, t->tok[i].start);
            if (s)
                s->value = v;
            return k + 1;
        }
        if (k < t->n && (t->ti[k]->flags & W_PERCENTW) && t->ti[k]->fcand > 0) { /* بالمئة */
            s = span_new(t, ENT_PERCENT, 1, i, k + 1, t->tok[i].start);
            if (s)
                s->value = v;
            return k + 1;
        }
        if (k + 1 < t->n && is_word(t, k, "في") && (t->ti[k + 1]->flags & W_PERCENTW) && joined(t, k)) {
            s = span_new(t, ENT_PERCENT, 1, i, k + 2, t->tok[i].start);
            if (s)
                s->value = v;
            return k + 2;
        }
    } else if (t->ti[i]->wordlike && (t->ti[i]->flags & W_SCALE) && t->ti[i]->fcand == 0 && t->ti[i]->info >= 6) {
        v = 1; /* مليون طن */
    } else {
        return i;
    }
    while (k < t->n && joined(t, k - 1) && (t->ti[k]->flags & W_SCALE) && t->ti[k]->fcand == 0) {
        v *= pow(10, t->ti[k]->info);
        scaled = 1;
        k++;
    }
    if (k < t->n && joined(t, k - 1) && t->ti[k]->wordlike && (t->ti[k]->flags & (W_CURRENCY | W_UNIT))) {
        size_t n;
        int32_t id = t->ti[k]->c[t->ti[k]->fcand].id;
        type = (t->ti[k]->flags & W_CURRENCY) ? ENT_MONEY : ENT_QUANTITY;
        unit = id >= 0 ? word_str(t->lx, id, &n) : NULL;
        k++;
        /* دولار أمريكي */
        if (type == ENT_MONEY && k < t->n && joined(t, k - 1) && (t->ti[k]->flags & W_NATION) && !t->ti[k]->def)
            k++;
    } else if (!scaled) {
        return i;
    }
    if (!have_num && !scaled)
        return i;
    s = span_new(t, type, 1, i, k, t->tok[i].start);
    if (s) {
        s->value = v;
        s->unit = unit;
    }
    return k;
}

/* ---- canonical forms ---- */

/* Whether the n bytes at p (valid UTF-8) hold no tashkeel or tatweel
 * (U+064B..U+065F, U+0670, U+0640: 0xD9 then 0x8B..0x9F, 0xB0 or 0x80; 0xD9
 * is never a continuation byte) and no newline, tab or carriage return: the
 * surface form is then the bytes themselves. */
static int surface_plain(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char b = (unsigned char)p[i];
        if (b == '\n' || b == '\t' || b == '\r')
            return 0;
        if (b == 0xD9 && i + 1 < n) {
            const unsigned char c = (unsigned char)p[i + 1];
            if ((c >= 0x8B && c <= 0x9F) || c == 0xB0 || c == 0x80)
                return 0;
        }
    }
    return 1;
}

/* surface text of the span without tashkeel/tatweel, in the arena */
static void set_surface_canon(tagger *t, espan *s)
{
    size_t n = s->end - s->start, i = 0, o = 0;
    char *out = nahr_doc_alloc(t->doc, n + 1);
    const char *p = t->text + s->start;
    if (!out)
        return;
    if (surface_plain(p, n)) { /* the common case: nothing to drop */
        memcpy(out, p, n);
        out[n] = 0;
        s->canon = out;
        return;
    }
    while (i < n) {
        size_t j = i;
        int32_t c = nahr_utf8_next(p, n, &j);
        if (c >= 0 && nahr_ar_is_mark(c)) {
            i = j;
            continue;
        }
        if (c == '\n' || c == '\t' || c == '\r') {
            out[o++] = ' ';
            i = j;
            continue;
        }
        memcpy(out + o, p + i, j - i);
        o += j - i;
        i = j;
    }
    out[o] = 0;
    s->canon = out;
}

/* ---- institutions and places named after a person ----
 * مركز الملك سلمان، جامعة الملك عبدالعزيز، مطار الملك خالد، طريق الأمير
 * سلطان: a person's name after an organisation head or a place word and a
 * royal or religious title is the name of the institution or the place, not a
 * mention of the person. The person span (the model's or a rule's) grows
 * over the head and the title and takes the head's type. */
static const char *const named_titles[] = {"الملك", "الامير", "الملكه", "الاميره", "السلطان", "الشيخ", "الامام", NULL};
static const char *const named_places[] = {"طريق", "شارع", "ملعب", "استاد", "جامع", "مسجد", "جسر", "ميدان", "قاعه",
                                           "مطار", "ميناء", "حي", "مدينه", NULL};

static int word_in(const tagger *t, size_t k, const char *const *words)
{
    const tokinfo *ti = t->ti[k];
    for (size_t c = 0; c < ti->ncand; c++) {
        size_t n;
        const char *w = ti->c[c].id >= 0 ? word_str(t->lx, ti->c[c].id, &n) : NULL;
        for (size_t q = 0; w && words[q]; q++)
            if (strlen(words[q]) == n && memcmp(w, words[q], n) == 0)
                return (int)c + 1;
    }
    return 0;
}

/* Whether the spans are in text order (ta ascending): so they are when
 * only the scan of ent_tag_cached() made them (lists, rules), and the loops
 * over the tokens that look for span starts may go over the spans instead. */
static int spans_in_order(const tagger *t)
{
    if (ent_test_plain_paths)
        return 0;
    for (size_t s = 1; s < t->nsp; s++)
        if (t->sp[s].ta <= t->sp[s - 1].ta)
            return 0;
    return 1;
}

/* named_after() of the person span si that starts at token k (>= 1). */
static void named_after_at(tagger *t, size_t k, int32_t si)
{
    if (joined(t, k - 1) && (t->ti[k - 1]->flags & W_LOCTRIG) && !(t->ti[k - 1]->flags & W_TITLE) &&
        !t->ti[k - 1]->def && t->ti[k - 1]->ending != END_HA) {
        /* a person right after a place word is the place's name (بلدة ضهر البيدر، بمحافظة أبو عريش);
         * not after one with the article, a title's complement (محافظ العاصمة خالد أبو زيد),
         * nor after ولائه "his allegiance", which normalises as ولاية */
        t->sp[si].type = ENT_LOC;
        t->sp[si].strong = 0;
        return;
    }
    if (k < 2)
        return;
    size_t h = k - 2;
    if (t->cover[h] >= 0 || t->cover[h + 1] >= 0 || !joined(t, h) || !joined(t, h + 1) ||
        !word_in(t, h + 1, named_titles))
        return;
    const tokinfo *th = t->ti[h];
    int c = word_in(t, h, named_places);
    uint8_t type;
    if (c)
        type = ENT_LOC;
    else if (th->flags & W_ORGHEAD)
        type = ENT_ORG, c = th->fcand + 1;
    else
        return;
    espan *sp = &t->sp[si];
    /* what completes the name: للإغاثة (والتقنية), الدولي */
    size_t e = sp->tb;
    if (e < t->n && joined(t, e - 1) && t->cover[e] < 0 && t->ti[e]->wordlike) {
        const char *w = t->text + t->tok[e].start;
        size_t wl = t->tok[e].end - t->tok[e].start;
        if (type == ENT_ORG && t->ti[e]->prep_al && starts2(w, wl, U_LAM) && starts2(w + 2, wl - 2, U_LAM) &&
            !(t->ti[e]->flags & W_STOP)) {
            e++;
            if (e < t->n && joined(t, e - 1) && t->cover[e] < 0 && t->ti[e]->waw && wl >= 2 &&
                t->tok[e].end - t->tok[e].start >= 8 &&
                !memcmp(t->text + t->tok[e].start + 2, U_ALEF U_LAM, 4))
                e++;
        } else if (t->ti[e]->def && !t->ti[e]->prep_al && nisba_def(t, e) && !(t->ti[e]->flags & W_STOP)) {
            e++;
        }
    }
    for (size_t q = sp->tb; q < e; q++)
        t->cover[q] = si;
    if (e > sp->tb) {
        sp->tb = (uint32_t)e;
        sp->end = t->tok[e - 1].end;
    }
    sp->type = type;
    sp->src = 1;
    sp->strong = 0;
    sp->ta = (uint32_t)h;
    sp->start = tok_start(t, h, (size_t)c - 1);
    t->cover[h] = t->cover[h + 1] = si;
    set_surface_canon(t, sp);
}

/* Renames the persons named after a place or an organisation. In text order
 * of the spans' starts: a span may grow over the tokens after it. */
static void named_after(tagger *t)
{
    if (spans_in_order(t)) {
        for (size_t s = 0; s < t->nsp; s++) {
            size_t k = t->sp[s].ta;
            if (k >= 1 && t->cover[k] == (int32_t)s && t->sp[s].type == ENT_PER)
                named_after_at(t, k, (int32_t)s);
        }
        return;
    }
    for (size_t k = 1; k < t->n; k++) {
        int32_t si = t->cover[k];
        if (si < 0 || t->sp[si].ta != k || t->sp[si].type != ENT_PER)
            continue;
        named_after_at(t, k, si);
    }
}

/* ---- coreference ---- */

typedef struct corefent {
    uint32_t h;
    int used;
    const char *key; /* normalised family name */
    size_t keylen;
    const char *canon;
} corefent;

static corefent *coref_find(corefent *keys, size_t cap, uint32_t h, const char *s, size_t n)
{
    size_t slot = h & (cap - 1);
    while (keys[slot].used) {
        if (keys[slot].h == h && keys[slot].keylen == n && memcmp(keys[slot].key, s, n) == 0)
            return &keys[slot];
        slot = (slot + 1) & (cap - 1);
    }
    return &keys[slot]; /* empty slot */
}

/* The bit of hash h in the 64-bit summary of coref()'s keys: a candidate
 * whose bit is clear has no key with its hash (coref_lookup() gives NULL). */
static inline uint64_t coref_bit(uint32_t h) { return 1ull << ((h >> 26) & 63u); }

/* the key entry for candidate c of token k, or NULL */
static const corefent *coref_lookup(const tagger *t, corefent *keys, size_t cap, size_t k, const cand *c)
{
    char buf[WORD_MAX + 8];
    size_t slot = c->h & (cap - 1), m;
    corefent *e;
    /* cheap test first: is there any key with this hash? */
    while (keys[slot].used && keys[slot].h != c->h)
        slot = (slot + 1) & (cap - 1);
    if (!keys[slot].used)
        return NULL;
    m = cand_norm(t, k, c, buf);
    e = coref_find(keys, cap, c->h, buf, m);
    return e->used ? e : NULL;
}

/* Whether span s may give coreference a key: a full person name (of a list,
 * or a strong rule span) whose last word is a word that is no stop word,
 * connector or non-name class. */
static int coref_source(const tagger *t, const espan *s)
{
    if (s->type != ENT_PER || s->tb - s->ta < 2 || (s->src == 1 && !s->strong))
        return 0;
    const tokinfo *tl = t->ti[s->tb - 1];
    return tl->wordlike && tl->ncand && !(tl->flags & (W_STOP | W_CONNECT | BLOCK_NAME));
}

static void coref(tagger *t)
{
    size_t cap = 16, nk = 0, i, k, nsrc = 0;
    corefent *keys;
    size_t nsp0 = t->nsp;
    uint64_t bits = 0; /* coref_bit() of every key */
    /* the key table is sized for the spans that may give a key, and neither
     * allocated nor cleared when none may (most articles) */
    for (i = 0; i < nsp0; i++)
        nsrc += (size_t)coref_source(t, &t->sp[i]);
    if (!nsrc)
        return;
    while (cap < nsrc * 2 + 16)
        cap *= 2;
    keys = nahr_doc_alloc(t->doc, cap * sizeof *keys);
    if (!keys)
        return;
    memset(keys, 0, cap * sizeof *keys);
    /* family names of full person names, in document order (first wins) */
    for (i = 0; i < nsp0; i++) {
        espan *s = &t->sp[i];
        size_t last = s->tb - 1, m;
        const tokinfo *tl;
        char buf[WORD_MAX + 8], *key;
        corefent *e;
        if (!coref_source(t, s))
            continue;
        tl = t->ti[last];
        if (!s->canon)
            set_surface_canon(t, s);
        if (!s->canon)
            continue;
        m = cand_norm(t, last, &tl->c[0], buf);
        if (m < 4)
            continue;
        e = coref_find(keys, cap, tl->c[0].h, buf, m);
        if (e->used)
            continue;
        key = nahr_doc_strndup(t->doc, buf, m);
        if (!key)
            return;
        e->used = 1;
        e->h = tl->c[0].h;
        bits |= coref_bit(e->h);
        e->key = key;
        e->keylen = m;
        e->canon = s->canon;
        nk++;
    }
    if (!nk)
        return;
    for (k = 0; k < t->n; k++) {
        const tokinfo *ti = t->ti[k];
        size_t c;
        if (!ti->wordlike)
            continue;
        if (t->cover[k] >= 0) {
            espan *s = &t->sp[t->cover[k]];
            /* a one-word person mention: adopt the full name */
            if (s->type == ENT_PER && s->tb - s->ta == 1) {
                for (c = 0; c < ti->ncand; c++) {
                    if (!(bits & coref_bit(ti->c[c].h)))
                        continue;
                    const corefent *e = coref_lookup(t, keys, cap, k, &ti->c[c]);
                    if (e) {
                        s->canon = e->canon;
                        break;
                    }
                }
            }
            continue;
        }
        if (ti->flags & (W_STOP | BLOCK_NAME))
            continue;
        for (c = 0; c < ti->ncand; c++) {
            if (!(bits & coref_bit(ti->c[c].h)))
                continue;
            const corefent *e = coref_lookup(t, keys, cap, k, &ti->c[c]);
            if (e) {
                espan *s = span_new(t, ENT_PER, 2, k, k + 1, tok_start(t, k, c));
                if (s)
                    s->canon = e->canon;
                break;
            }
        }
    }
}

/* ---- model ---- */

/* Word classes that name a thing (a name part, a trigger or head, a title,
 * a nationality, a month ...): a stem with one of them is a word of its
 * own, so a model span drops the proclitic before it. Function words,
 * connectors, units and the rules' cue words are not among them: "له",
 * "أين", "أبا", "طن" are too short and too common to tell a clitic from a
 * first letter (لله, كائن, بابا, فطن), and "وعلى" is no "و" + "علي". */
#define W_CONTENT (W_FIRST | W_LAST | W_TITLE | W_ORGHEAD | W_ORGHEAD_DEF | W_LOCTRIG | W_NATION | W_GENERIC | \
                   W_TITLEPOST | W_EVENT | W_MONTH | W_WEEKDAY)

/* 1 when the lexicon knows candidate c as the first word of a gazetteer
 * entry or a name part, or (unless "ال" was restored after "لل": the span
 * would lose the article) with a W_CONTENT class. */
static int lex_known(const ent_lexicon *lx, const cand *c)
{
    uint32_t fl;
    if (c->id < 0)
        return 0;
    fl = lx->words[c->id].flags;
    if ((fl & (W_FIRST | W_LAST)) || ent_trie_root(lx, (uint32_t)c->id) > 0)
        return 1;
    return !c->ll && (fl & W_CONTENT);
}

/* Token k is a common word (common_words.txt) and no name part or list entry. */
static int common_word(const tagger *t, size_t k)
{
    const tokinfo *ti = t->ti[k];
    if (!(ti->flags & W_STOP) || (ti->flags & (W_FIRST | W_LAST)) || ti->gazloc || ti->c[ti->fcand].off)
        return 0; /* the whole word, not a stem after a clitic (فورد is not ف + ورد) */
    return ti->c[ti->fcand].id < 0 || ent_trie_root(t->lx, (uint32_t)ti->c[ti->fcand].id) <= 0;
}

/* Token k follows an amount: a number or ألف/مليون, with at most one
 * punctuation token between ((362.796.000) ريال). */
static int after_amount(const tagger *t, size_t k)
{
    for (size_t back = 1; back <= 2 && back <= k; back++) {
        const size_t j = k - back;
        if (t->tok[j].kind == NAHR_TOK_NUMBER || (t->ti[j]->flags & W_SCALE))
            return 1;
        if (t->tok[j].kind != NAHR_TOK_PUNCT)
            return 0;
    }
    return 0;
}

/* Token k alone cannot be an entity of this type: an organisation head or a
 * place trigger without its complement (جامعة، منظمة، منطقة), a title, a
 * currency as a place or person, or as an organisation after an amount
 * (مليون ريال "riyal"; ريال alone may be the club). */
static int not_alone(const tagger *t, size_t k, uint8_t type)
{
    const tokinfo *ti = t->ti[k];
    if (ti->c[ti->fcand].off || ti->gazloc)
        return 0;
    if (ti->flags & (W_ORGHEAD | W_LOCTRIG | W_TITLE))
        return 1;
    if (!(ti->flags & W_CURRENCY) || type == ENT_MISC)
        return 0;
    return type != ENT_ORG || after_amount(t, k);
}

/* model_veto: a person's name that rules or coreference found is dropped
 * when the model tagged every token of it O and was sure of it (O margin >=
 * veto). Organisations only when the name after the head is all indefinite
 * words no list knows (مركز خدمة، شبكة مجرمين، تنظيم رحلات: a common noun
 * phrase, model_veto_org); not the rules' other organisations: their heads
 * with a definite complement (وزارة الصحة، مجلس الشعب) are names in today's
 * news that the ANERcorp model, trained on annotations that often left them
 * out, is sure are not. Places after a location trigger with the article
 * (المنطقة [خاصة]) at model_veto_loc. List matches never: the lists are
 * features of the model already. Figures in docs/ner.md. */
static int vetoed(const tagger *t, const espan *s)
{
    double th;
    if (!t->margin || (s->src != 1 && s->src != 2))
        return 0;
    if (s->type == ENT_PER) {
        th = t->o->model_veto;
    } else if (s->type == ENT_LOC && s->src == 1) {
        /* only after a trigger with the article (المنطقة [خاصة]، المدينة [بشكل]): a
         * name there is an apposition the model knows (العاصمة طهران); after one
         * without it the name completes the trigger (محافظة القنفذة، حي النسيم),
         * and the model, which has not seen most of the region's places, is
         * sure of O for many right ones (news-021: 13 of a random 40) */
        size_t g = s->ta;
        th = t->o->model_veto_loc;
        if (g > 0 && (t->ti[g - 1]->flags & W_NATION) && !(t->ti[g - 1]->flags & W_LOCTRIG))
            g--; /* العاصمة الإريترية أسمرا */
        if (g == 0 || !(t->ti[g - 1]->flags & W_LOCTRIG) || !t->ti[g - 1]->def)
            th = 0;
    } else if (s->type == ENT_ORG && s->src == 1 && s->tb > s->ta + 1) {
        th = t->o->model_veto_org;
        for (size_t c = s->ta + 1; c < s->tb && th > 0; c++)
            if (t->ti[c]->def || t->ti[c]->prep_al || (t->ti[c]->flags & (W_FIRST | W_LAST)) || gaz_match(t, c).end)
                th = 0; /* a definite or known word makes a name (وزارة الصحة); an unknown
                         * proper noun (كلية سلون) is the model's call */
    } else {
        return 0;
    }
    if (!(th > 0))
        return 0;
    for (size_t q = s->ta; q < s->tb; q++)
        if (t->mtags[q] || t->margin[q] < th)
            return 0;
    return 1;
}

static void merge_model(tagger *t, const ent_model_hook *m)
{
    static const uint8_t tag_type[] = {ENT_NONE, ENT_PER, ENT_PER, ENT_LOC, ENT_LOC, ENT_ORG, ENT_ORG, ENT_MISC, ENT_MISC};
    uint8_t *tags = nahr_doc_alloc(t->doc, t->n + 1);
    void *scratch = NULL;
    size_t k;
    if (!tags)
        return;
    if (m->scratch_size) {
        size_t ss = m->scratch_size(m->model, t->n);
        if (ss && !(scratch = nahr_doc_alloc(t->doc, ss)))
            return;
    }
    memset(tags, 0, t->n);
    if ((t->o->model_veto > 0 || t->o->model_veto_loc > 0 || t->o->model_veto_org > 0) && m->tag_margin) {
        float *margin = nahr_doc_alloc(t->doc, (t->n + 1) * sizeof *margin);
        if (!margin || m->tag_margin(m->model, t->text, t->tok, t->n, scratch, tags, margin) != 0)
            return;
        t->margin = margin;
    } else if (m->tag(m->model, t->text, t->tok, t->n, scratch, tags) != 0) {
        return;
    }
    t->mtags = tags;
    k = 0;
    while (k < t->n) {
        size_t e;
        uint8_t type;
        int free_run = 1;
        if (tags[k] == 0 || tags[k] > 8) {
            k++;
            continue;
        }
        type = tag_type[tags[k]];
        e = k + 1;
        while (e < t->n && tags[e] == tags[k] + ((tags[k] & 1) ? 1 : 0) && (tags[e] & 1) == 0)
            e++;
        {
            /* a person's name does not go on into a title (محمد بن سلمان [ولي ولي
             * العهد]): the model's span stops before the first one */
            size_t full = e;
            for (size_t q = k + 1; type == ENT_PER && q < e; q++)
                if ((t->ti[q]->flags & W_TITLE) && !t->ti[q]->def && !(t->ti[q]->flags & (W_FIRST | W_LAST)) &&
                    !t->ti[q]->c[t->ti[q]->fcand].off)
                    e = q; /* (a title with the article may be a family name: السيد، القاضي) */
            if (e < full) {
                /* the tokens cut off are left to the rules */
                for (size_t q = e; q < full; q++)
                    tags[q] = 0;
            }
        }
        for (size_t q = k; q < e; q++)
            if (t->cover[q] >= 0)
                free_run = 0;
        if (free_run && e == k + 1 && (common_word(t, k) || not_alone(t, k, type)))
            free_run = 0; /* a common word alone is no name (أسعار، المرأة، جديد) */
        if (free_run && t->o->numbers && t->o->money_first && k > 0 && joined(t, k - 1) && (t->ti[k]->flags & W_CURRENCY) &&
            (t->tok[k - 1].kind == NAHR_TOK_NUMBER || (t->ti[k - 1]->flags & W_SCALE)))
            free_run = 0; /* 1.5 مليار [دولار]: an amount's currency is the MONEY rule's, not a MISC */
        if (free_run && type == ENT_MISC && t->ti[k]->wordlike) {
            /* MISC over the words of a listed place, person or organisation:
             * the list's type (تبوك is a city) */
            gmatch g = gaz_match(t, k);
            if (g.end == e && t->lx->nodes[g.node].type != ENT_NONE)
                type = t->lx->nodes[g.node].type;
        }
        if (free_run) {
            /* the model tags whole tokens: drop the proclitics. A form the
             * lexicon knows decides, as a gazetteer entry or a name part
             * (لموسكو -> موسكو) or as a rule word: a trigger, a head, a
             * title, an event (لبطولة -> بطولة, بحي -> حي; ولاية keeps its
             * و); otherwise only و and a preposition before ال go (فيروس
             * keeps its ف) */
            const tokinfo *ti = t->ti[k];
            size_t off = 0, c;
            int decided = lex_known(t->lx, &ti->c[0]);
            for (c = 1; c < ti->ncand && !decided; c++) {
                if (lex_known(t->lx, &ti->c[c])) {
                    off = ti->c[c].off;
                    decided = 1;
                }
            }
            for (c = 1; c < ti->ncand && !decided; c++) {
                const char *w = t->text + t->tok[k].start + ti->c[c].off;
                size_t rest = t->tok[k].end - t->tok[k].start - ti->c[c].off;
                if (starts_al(w, rest) ||
                    (ti->c[c].off == 2 && starts2(t->text + t->tok[k].start, 2, U_WAW) && rest >= 6))
                    off = ti->c[c].off;
            }
            {
                espan *s = span_new(t, type, 3, k, e, t->tok[k].start + off);
                if (s)
                    set_surface_canon(t, s);
            }
        }
        k = e;
    }
}

/* ---- driver ---- */

int ent_tag(const ent_lexicon *lx, const ent_opts *o, const ent_model_hook *model, nahr_doc *doc)
{
    return ent_tag_cached(lx, o, model, NULL, doc);
}

int ent_tag_cached(const ent_lexicon *lx, const ent_opts *o, const ent_model_hook *model, ent_cache *cache,
                   nahr_doc *doc)
{
    tagger t;
    size_t i, n;
    memset(&t, 0, sizeof t);
    t.lx = lx;
    t.o = o;
    t.doc = doc;
    t.text = nahr_doc_text(doc, &t.len);
    if (!t.text || t.len == 0)
        return NAHR_OK;
    /* the document's tokens: tokenised once for all the plugins */
    t.tok = nahr_doc_tokens(doc, o->max_tokens, &n);
    if (!t.tok)
        return n > o->max_tokens ? NAHR_ELIMIT : NAHR_ENOMEM;
    if (n == 0)
        return NAHR_OK;
    t.n = n;
    t.ti = scratch(cache, doc, 0, n * sizeof *t.ti);
    t.own = scratch(cache, doc, 1, n * sizeof *t.own);
    t.capsp = n + 1;
    t.sp = scratch(cache, doc, 2, t.capsp * sizeof *t.sp);
    t.cover = scratch(cache, doc, 3, n * sizeof *t.cover);
    if (!t.ti || !t.own || !t.sp || !t.cover)
        return NAHR_ENOMEM;
    if (cache && cache->lx != lx)
        cache_clear(cache, lx);
    if (cache) {
        uint64_t ring[EC_RING]; /* cache_hash() of tokens i .. i + EC_AHEAD */
        uint8_t hint[EC_RING];  /* and cache_prefetch()'s way */
        const size_t ahead = n > EC_AHEAD ? n - EC_AHEAD : 0; /* tokens with one EC_AHEAD after them */
        /* wraps after 2^32 articles: a way last used 2^32 articles before then
         * counts as used, and is kept for one article more */
        cache->article++;
        for (i = 0; i < EC_AHEAD && i < n; i++) {
            ring[i] = cache_hash(&t, i);
            hint[i] = EC_WAYS;
        }
        for (i = 0; i < ahead; i++) {
            uint64_t h = cache_hash(&t, i + EC_AHEAD);
            ring[(i + EC_AHEAD) % EC_RING] = h;
            hint[(i + EC_AHEAD) % EC_RING] = (uint8_t)cache_prefetch(cache, h);
            token_facts_cached(&t, cache, i, ring[i % EC_RING], hint[i % EC_RING]);
            t.cover[i] = -1;
        }
        for (; i < n; i++) {
            token_facts_cached(&t, cache, i, ring[i % EC_RING], hint[i % EC_RING]);
            t.cover[i] = -1;
        }
    } else {
        for (i = 0; i < n; i++) {
            token_facts(&t, i, &t.own[i]);
            t.ti[i] = &t.own[i];
            t.cover[i] = -1;
        }
    }

    /* model first: its entities win, lists and rules fill the gaps */
    if (model && model->tag && o->model_first)
        merge_model(&t, model);

    i = 0;
    const int plain = ent_test_plain_paths;
    if (!o->dates && !o->numbers && !o->rules && !plain) {
        /* lists only: the loop below with its tests folded (a number or a
         * word without a phrase starting at it is passed over) */
        while (i < n) {
            gmatch g;
            /* WL_GROOT: a word (wordlike) with a candidate that starts a phrase */
            const tokinfo *const *const ti = t.ti;
            while (i < n && !(ti[i]->wordlike & WL_GROOT))
                i++;
            if (i == n)
                break;
            if (t.cover[i] >= 0) {
                i++;
                continue;
            }
            g = gaz_follow(&t, i);
            if (!g.end) {
                i++;
                continue;
            }
            emit_gaz(&t, i, g);
            i = g.end;
        }
    }
    /* The classes of a word at which a rule of the loop below may start
     * (date_may_start(), rule_number(), rule_title(), rule_org(),
     * rule_first_name(), rule_say(), rule_loc()): a word with none of them and
     * no phrase starting at it (no WL_GROOT) gets i++ from the whole body, and
     * is passed over at once (most words). KEEP IN STEP with the loop. */
    const uint32_t start_classes = (o->dates ? DATE_START : 0) | (o->numbers ? W_SCALE : 0) |
                                   (o->rules ? W_TITLE | W_ORGHEAD | W_ORGHEAD_DEF | W_FIRST | W_SAY | W_LOCTRIG : 0);
    while (i < n) {
        gmatch g;
        size_t best = i, e;
        int which = 0; /* 1 gaz 2 org 3 first-name 4 date 5 number */
        if (!plain && !(t.ti[i]->flags & start_classes) && !(t.ti[i]->wordlike & WL_GROOT) &&
            t.tok[i].kind != NAHR_TOK_NUMBER) {
            i++;
            continue;
        }
        if ((!t.ti[i]->wordlike && t.tok[i].kind != NAHR_TOK_NUMBER) || t.cover[i] >= 0) {
            i++;
            continue;
        }
        if (o->dates && date_may_start(&t, i)) {
            e = rule_date(&t, i);
            if (e > i) {
                i = e;
                continue;
            }
        }
        if (o->numbers) {
            e = rule_number(&t, i);
            if (e > i) {
                i = e;
                continue;
            }
        }
        if (!t.ti[i]->wordlike) {
            i++;
            continue;
        }
        g = gaz_match(&t, i);
        if (g.end) {
            best = g.end;
            which = 1;
        }
        if (o->rules) {
            if ((t.ti[i]->flags & W_TITLE) && best <= i + 1 && !(which == 1 && lx->nodes[g.node].type == ENT_PER)) {
                e = rule_title(&t, i);
                if (e > i) {
                    i = e;
                    continue;
                }
            }
            /* rule_org() gives i for a word that is no head: no call for most words */
            e = plain || (t.ti[i]->flags & (W_ORGHEAD | W_ORGHEAD_DEF)) ? rule_org(&t, i) : i;
            if (e > best) {
                best = e;
                which = 2;
            }
            if (which == 1 && lx->nodes[g.node].type == ENT_PER && g.end == i + 1 && (t.ti[i]->flags & W_FIRST)) {
                /* a listed name extended by a family name: محمد + الخالدي */
                e = name_extent(&t, i, 1);
                if (e > best) {
                    best = e;
                    which = 3;
                }
            } else if (!which) {
                e = rule_first_name(&t, i);
                if (e > best) {
                    best = e;
                    which = 3;
                }
            }
            if (!which && (t.ti[i]->flags & W_SAY)) {
                /* the speaker after a verb of saying */
                e = rule_say(&t, i);
                if (e > i + 1) {
                    gmatch g2 = gaz_match(&t, i + 1);
                    if (g2.end) {
                        emit_gaz(&t, i + 1, g2);
                        i = g2.end;
                    } else {
                        espan *s = span_new(&t, ENT_PER, 1, i + 1, e, tok_start(&t, i + 1, t.ti[i + 1]->fcand));
                        if (s)
                            set_surface_canon(&t, s);
                        i = e;
                    }
                    continue;
                }
            }
            if (!which && (t.ti[i]->flags & W_LOCTRIG)) {
                e = rule_loc(&t, i);
                if (e > i) {
                    i = e;
                    continue;
                }
            }
        }
        if (which == 1) {
            emit_gaz(&t, i, g);
        } else if (which == 2 || which == 3) {
            espan *s = span_new(&t, which == 2 ? ENT_ORG : ENT_PER, 1, i, best, tok_start(&t, i, t.ti[i]->fcand));
            if (s) {
                set_surface_canon(&t, s);
                s->strong = which == 3; /* a known first name + family name */
            }
        } else {
            i++;
            continue;
        }
        i = best;
    }
    named_after(&t);
    if (o->coref)
        coref(&t);
    if (model && model->tag && !o->model_first)
        merge_model(&t, model);

    /* emit in text order: the spans in their order when it is that, else
     * each one found at its first token */
    const int in_order = spans_in_order(&t);
    for (i = 0; i < (in_order ? t.nsp : n); i++) {
        espan *s;
        int idx;
        nahr_span *ns;
        if (in_order) {
            s = &t.sp[i];
            if (t.cover[s->ta] != (int32_t)i)
                continue;
        } else {
            if (t.cover[i] < 0)
                continue;
            s = &t.sp[t.cover[i]];
            if (s->ta != i)
                continue;
        }
        if (!(o->types & (1u << s->type)))
            continue;
        if (vetoed(&t, s))
            continue;
        idx = nahr_doc_add_span_in(doc, o->layer, ent_type_name[s->type], s->start, s->end);
        if (idx < 0)
            return idx == NAHR_ENOMEM ? NAHR_ENOMEM : NAHR_OK;
        if (s->canon && nahr_span_set_canonical(doc, (size_t)idx, s->canon) == NAHR_ENOMEM)
            return NAHR_ENOMEM;
        ns = nahr_doc_span(doc, (size_t)idx);
        if (ns)
            ns->score = s->src == 0 ? 0.9 : s->src == 2 ? 0.8 : 0.6;
        if (!isnan(s->value)) {
            nahr_value *v = s->value == floor(s->value) && fabs(s->value) < 9e15 ? nahr_value_int(doc, (int64_t)s->value)
                                                                                : nahr_value_double(doc, s->value);
            if (v)
                nahr_span_set_attr(doc, (size_t)idx, "value", v);
        }
        if (s->vstr)
            nahr_span_set_attr(doc, (size_t)idx, "value", nahr_value_cstr(doc, s->vstr));
        if (s->unit)
            nahr_span_set_attr(doc, (size_t)idx, "unit", nahr_value_cstr(doc, s->unit));
        if (s->calendar)
            nahr_span_set_attr(doc, (size_t)idx, "calendar", nahr_value_cstr(doc, s->calendar));
    }
    return NAHR_OK;
}
