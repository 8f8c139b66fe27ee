/* ent.h - internals of the entities plugin (not a public header).
 *
 * Two parts:
 *  - ent_lexicon: every word the tagger knows (gazetteer tokens, rule
 *    vocabulary) interned once at init as normalised strings with a bit set
 *    of word classes, plus one trie over token ids holding the gazetteer
 *    entries (longest match, multi-word). Built once, read-only after, shared
 *    by all workers.
 *  - ent_tag(): tags one text with the lexicon and the context rules and
 *    writes spans into a nahr_doc. Uses only the doc arena for scratch.
 */
#ifndef NAHR_ENTITIES_ENT_H
#define NAHR_ENTITIES_ENT_H

#include "nahr/nahr.h"

#include <stdint.h>
#include <string.h>

/* entity types (index into ent_type_name) */
enum {
    ENT_NONE = 0,
    ENT_PER,
    ENT_LOC,
    ENT_ORG,
    ENT_MISC,
    ENT_DATE,
    ENT_PERCENT,
    ENT_MONEY,
    ENT_QUANTITY,
    ENT_NTYPES
};
extern const char *const ent_type_name[ENT_NTYPES];
/* "PER" -> ENT_PER ...; also accepts "PERS", "PERSON", "LOCATION", "GPE",
 * "ORGANIZATION", "MISCELLANEOUS", any case. ENT_NONE when unknown. */
int ent_type_from_name(const char *s, size_t n);

/* word classes (bits) */
#define W_FIRST 0x1u      /* a first name */
#define W_LAST 0x2u       /* a family name / other part of a person name */
#define W_TITLE 0x4u      /* title or role before a person: الرئيس، الوزير */
#define W_ORGHEAD 0x8u    /* head of an organisation name: وزارة، حزب */
#define W_LOCTRIG 0x10u   /* location trigger: مدينة، محافظة */
#define W_NATION 0x20u    /* nationality adjective: السوري، الروسية */
#define W_STOP 0x40u      /* function word / common word, never a name */
#define W_MONTH 0x80u     /* month name (Gregorian, Levantine, Maghreb, Hijri) */
#define W_WEEKDAY 0x100u  /* weekday (with or without ال) */
#define W_SCALE 0x200u    /* ألف، مليون، مليار */
#define W_CURRENCY 0x400u /* دولار، يورو ... */
#define W_UNIT 0x800u     /* طن، برميل، كيلومتر ... */
#define W_CONNECT 0x1000u /* بن، ابن، أبو، عبد، آل inside names */
#define W_AMBIG 0x2000u   /* first name that is also a common word: needs context */
#define W_PERCENTW 0x4000u /* المئة / المائة (في المئة) */
#define W_YEARW 0x8000u   /* عام، سنة، العام */
#define W_TITLEPOST 0x10000u /* complement of a title: الخارجية (وزير الخارجية) */
#define W_LOCVERB 0x20000u   /* words that end a name: verbs like قال، أكد */
#define W_DAYW 0x40000u      /* يوم */
#define W_MONTHW 0x80000u    /* شهر */
#define W_ORGHEAD_DEF 0x100000u /* head that is an entity with its own ال: الجيش، الحرس */
#define W_HIJRI 0x200000u    /* a Hijri month */
#define W_GENERIC 0x400000u  /* a generic noun completing an organisation name */
#define W_SAY 0x800000u      /* verb of saying before a speaker: قال، أضاف */
#define W_THAT 0x1000000u    /* إن، أن، بأن after a speaker's name */
#define W_EVENT 0x2000000u   /* head of an event name: بطولة، مهرجان (known words for proclitic stripping) */
#define W_TAMARBUTA 0x4000000u /* a name part listed with final ة: the same letters ending in ه are a word
                                * with the pronoun suffix (ناديه "his club", أمنه "its security") */

typedef struct ent_lexicon ent_lexicon;

ent_lexicon *ent_lexicon_new(void);
void ent_lexicon_free(ent_lexicon *lx);

/* Adds the built-in rule vocabulary (titles, triggers, months ...). */
int ent_lexicon_add_rules(ent_lexicon *lx);

/* Loads a gazetteer file: one entry per line, "entry" or
 * "entry<TAB>canonical"; '#' starts a comment line; blank lines skipped.
 * type is ENT_PER/LOC/ORG/MISC. A line with invalid UTF-8, a NUL, more than
 * one TAB, an empty side or more than 16 words is an error: err gets
 * "path:LINE: reason" and NAHR_EFORMAT is returned (NAHR_EIO when the file
 * cannot be read). Later entries override the type of earlier ones. */
int ent_lexicon_load_gazetteer(ent_lexicon *lx, int type, const char *path, char *err, size_t errlen);
/* Loads a word list and ORs `flags` into each word's classes (same format,
 * one word per line; a TAB and anything after it is ignored). */
int ent_lexicon_load_words(ent_lexicon *lx, uint32_t flags, const char *path, char *err, size_t errlen);
/* Adds one gazetteer entry from memory (tests). */
int ent_lexicon_add_entry(ent_lexicon *lx, int type, const char *entry, size_t n, const char *canonical);
/* Adds a word with classes. */
int ent_lexicon_add_word(ent_lexicon *lx, const char *w, uint32_t flags);
/* Prepares the read-only structures; call once after loading. */
int ent_lexicon_finish(ent_lexicon *lx);
size_t ent_lexicon_entry_count(const ent_lexicon *lx);
size_t ent_lexicon_word_count(const ent_lexicon *lx);

/* tagging options */
typedef struct ent_opts {
    unsigned types;   /* bit (1u << ENT_x) for each type to report */
    int rules;        /* context rules (titles, heads, triggers, first names) */
    int coref;        /* in-document coreference of person names */
    int numbers;      /* PERCENT / MONEY / QUANTITY */
    int money_first;  /* with numbers and a model: an amount's currency is the MONEY span's
                       * (1.5 مليار دولار), not a MISC of the model (ANERcorp's convention) */
    int dates;        /* DATE */
    size_t max_tokens; /* per article; more -> NAHR_ELIMIT */
    int model_first;  /* with a model: its spans win over lists and rules (else the reverse) */
    double model_veto; /* > 0, with a model giving margins: a person span of the rules or
                        * coreference is dropped when the model tags every token of it O
                        * with an O margin of at least this (it is sure it is no name) */
    double model_veto_loc; /* > 0, the same for a place a location trigger with the
                            * article found (المنطقة [خاصة]) */
    double model_veto_org; /* > 0, the same for an organisation of the rules whose words after
                            * the head all lack the article and are in no list (مركز خدمة) */
    const char *layer; /* span layer, "entities" */
} ent_opts;
void ent_opts_default(ent_opts *o);
/* The default model_veto, chosen on the ANERcorp dev block (docs/ner.md) */
#define ENT_MODEL_VETO 32.0
#define ENT_MODEL_VETO_TEXT "32"
/* The defaults of model_veto_loc and model_veto_org, chosen on the four ANERcorp dev blocks */
#define ENT_MODEL_VETO_LOC 8.0
#define ENT_MODEL_VETO_LOC_TEXT "8"
#define ENT_MODEL_VETO_ORG 8.0
#define ENT_MODEL_VETO_ORG_TEXT "8"

/* Token-level result for callers that need BIO tags (evaluation, model
 * merging): when `tags_out` is not NULL it receives, for each token of
 * nahr_tokenize(text), type*2-1 for B and type*2 for I (0 = outside),
 * restricted to PER/LOC/ORG/MISC. */
typedef struct ent_model_hook {
    /* Optional statistical tagger: returns 0 and fills tags (0=O 1=B-PER
     * 2=I-PER 3=B-LOC 4=I-LOC 5=B-ORG 6=I-ORG 7=B-MISC 8=I-MISC) */
    int (*tag)(const void *model, const char *text, const nahr_token *toks, size_t ntok, void *scratch,
               uint8_t *tags);
    /* Optional: the same, and margin[i] = O's emission score minus the best
     * other tag's for token i (ner_model_tag_margin); used by model_veto */
    int (*tag_margin)(const void *model, const char *text, const nahr_token *toks, size_t ntok, void *scratch,
                      uint8_t *tags, float *margin);
    size_t (*scratch_size)(const void *model, size_t ntok);
    const void *model;
} ent_model_hook;

/* Tags doc's text and adds spans to doc. Returns NAHR_OK, NAHR_ELIMIT when
 * the article has more than opts->max_tokens tokens, NAHR_ENOMEM. */
int ent_tag(const ent_lexicon *lx, const ent_opts *opts, const ent_model_hook *model, nahr_doc *doc);

/* Per-thread cache of the per-token facts (proclitic splits, normalised
 * word ids, word classes), which depend on a token's bytes alone: frequent
 * words are analysed once per thread instead of once per occurrence. Bounded
 * (65,536 tokens, and a table of the 8,704 possible tokens of one byte or
 * one two-byte character: 9.3 MB, touched as it fills), one per worker,
 * never shared between threads. The tagger reads the facts where the cache
 * holds them; an entry the current article uses is not replaced before the
 * article is tagged. Tagging with a cache gives exactly the same spans as
 * without. */
typedef struct ent_cache ent_cache;
ent_cache *ent_cache_new(void);
void ent_cache_free(ent_cache *c);
/* ent_tag() with a cache (NULL = none). */
int ent_tag_cached(const ent_lexicon *lx, const ent_opts *opts, const ent_model_hook *model, ent_cache *cache,
                   nahr_doc *doc);

/* The set of the cache (tests: tokens that compete for one set) a token of
 * n bytes and kind `kind` goes to; SIZE_MAX for a token no set holds (more
 * than 30 bytes, or one of the small table: one byte or one two-byte
 * character). */
size_t ent_cache_set_of(const char *s, size_t n, int kind);

/* memcmp(a, b, n) == 0 for the cache's keys (n <= 30): nahr_bytes_eq
 * (nahr/text.h); a name of its own for the tests. */
static inline int ent_key_eq(const char *a, const char *b, size_t n) { return nahr_bytes_eq(a, b, n); }

/* memcpy(d, s, n) for a cache key of 1 <= n <= 32 bytes, with no call: two
 * overlapping copies of the largest of 16, 8 or 4 bytes that fits in n (a
 * byte at a time below 4). Writes d[0..n) only. */
static inline void ent_key_copy(char *d, const char *s, size_t n)
{
    if (n >= 16) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n > 0) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* The 128-bit product of a and b folded to 64 bits (its two halves xored),
 * from 32-bit halves: the definition of ent_mum(). */
static inline uint64_t ent_mum_portable(uint64_t a, uint64_t b)
{
    const uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    const uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    const uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    const uint64_t lo = (mid << 32) | (uint32_t)ll;
    const uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
}

/* ent_mum_portable() in one multiply where the compiler has 128-bit integers:
 * every bit of a and b reaches every bit of the result. */
static inline uint64_t ent_mum(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    const unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    return ent_mum_portable(a, b);
#endif
}

/* The token cache's 64-bit hash of a key of n <= 32 bytes, seed mixing in
 * what else tells keys apart; the low bits choose the set, the high half is
 * the tag. The definition: the key's bytes, zero-extended when n < 8, as one
 * to four little-endian words (bytes 0..7 and n-8..n-1; with n > 16 also
 * 8..15 and n-16..n-9), w[0] and w[1] (w[1] = 0 with one word) xored with
 * constants and the seed and multiplied (ent_mum), w[2] and w[3] the same and
 * the two products xored. */
static inline uint64_t ent_key_hash_words(uint64_t seed, const uint64_t *w, size_t nw)
{
    uint64_t h = ent_mum(w[0] ^ 0xa0761d6478bd642full, (nw > 1 ? w[1] : 0) ^ seed ^ 0xe7037ed1a0b428dbull);
    if (nw > 2)
        h ^= ent_mum(w[2] ^ 0x8ebc6af09c88c6e3ull, w[3] ^ 0x589965cc75374cc3ull);
    return h;
}

/* ent_key_hash() from the key alone (no byte outside it is read). */
static inline uint64_t ent_key_hash_plain(const char *s, size_t n, uint64_t seed)
{
    uint64_t w[4] = {0, 0, 0, 0};
    size_t nw = 1;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            w[0] |= (uint64_t)(unsigned char)s[i] << (8 * i);
        return ent_key_hash_words(seed, w, nw);
    }
    for (size_t i = 0; i < 8; i++) {
        w[0] |= (uint64_t)(unsigned char)s[i] << (8 * i);
        w[1] |= (uint64_t)(unsigned char)s[n - 8 + i] << (8 * i);
    }
    nw = 2;
    if (n > 16) {
        for (size_t i = 0; i < 8; i++) {
            w[2] |= (uint64_t)(unsigned char)s[8 + i] << (8 * i);
            w[3] |= (uint64_t)(unsigned char)s[n - 16 + i] << (8 * i);
        }
        nw = 4;
    }
    return ent_key_hash_words(seed, w, nw);
}

/* ent_key_hash_plain() of s[0..n), where `before` bytes before s may be read
 * too (the key's offset in its text): a key of 1..7 bytes with 8 readable
 * bytes ending with it is one load and a shift on a little-endian target. */
static inline uint64_t ent_key_hash(const char *s, size_t n, size_t before, uint64_t seed)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w[4];
    if (n >= 8) {
        memcpy(&w[0], s, 8);
        memcpy(&w[1], s + n - 8, 8);
        if (n <= 16)
            return ent_key_hash_words(seed, w, 2);
        memcpy(&w[2], s + 8, 8);
        memcpy(&w[3], s + n - 16, 8);
        return ent_key_hash_words(seed, w, 4);
    }
    if (n > 0 && before + n >= 8) {
        memcpy(&w[0], s + n - 8, 8);
        w[0] >>= 8 * (8 - n);
        return ent_key_hash_words(seed, w, 1);
    }
#else
    (void)before;
#endif
    return ent_key_hash_plain(s, n, seed);
}

#endif
