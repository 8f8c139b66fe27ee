/* lexicon_internal.h - the lexicon's layout, shared by lexicon.c, rules.c
 * and tagger.c only. */
#ifndef NAHR_ENTITIES_LEXICON_INTERNAL_H
#define NAHR_ENTITIES_LEXICON_INTERNAL_H

#include "ent.h"

typedef struct ent_word {
    uint32_t off, len; /* normalised form in pool */
    uint32_t hash;
    uint32_t flags;    /* W_* classes */
    uint32_t root;     /* the trie node of the phrases that start with this word (the root's
                        * child by this word), 0 = none: ent_trie_root() */
    uint16_t info;     /* month number (1-12, Hijri 1-12), weekday, scale exponent ... */
} ent_word;

typedef struct ent_node {
    uint32_t canon;    /* canonical form in pool, UINT32_MAX = none */
    uint8_t type;      /* ENT_NONE when no entry ends here */
    uint8_t nwords;
} ent_node;

typedef struct ent_wslot {
    uint32_t hash;
    uint32_t id1; /* word id + 1, 0 = empty */
} ent_wslot;

typedef struct ent_edge {
    uint64_t key;      /* (parent << 32) | word id */
    uint32_t child;    /* 0 = empty slot (the root is never a child) */
} ent_edge;

struct ent_lexicon {
    char *pool;
    size_t pool_len, pool_cap;
    ent_word *words;
    size_t nwords, words_cap;
    ent_wslot *wtab;
    size_t wtab_cap;
    ent_edge *etab;
    size_t etab_cap, nedges;
    ent_node *nodes;
    size_t nnodes, nodes_cap;
    size_t nentries;
    int finished;
};

/* The hash of a normalised word in the word table: FNV-1a over its bytes
 * from the last to the first, so that one pass from the end of a token gives
 * the hash of every suffix (the stems after proclitics) as it goes:
 * ent_word_hash(s, n) = ent_word_hash_step(ent_word_hash(s + 1, n - 1), s[0]). */
#define ENT_WORD_HASH_BASIS 2166136261u
static inline uint32_t ent_word_hash_step(uint32_t h, unsigned char c) { return (h ^ c) * 16777619u; }
static inline uint32_t ent_word_hash(const char *s, size_t n)
{
    uint32_t h = ENT_WORD_HASH_BASIS;
    while (n > 0)
        h = ent_word_hash_step(h, (unsigned char)s[--n]);
    return h;
}

/* Word id of a normalised string, or -1. */
int32_t ent_lex_find(const ent_lexicon *lx, const char *s, size_t n);
/* Same with ent_word_hash(s, n) already computed (the tagger has it). */
int32_t ent_lex_find_h(const ent_lexicon *lx, const char *s, size_t n, uint32_t h);
/* ent_lex_find_h() inline, for the tagger's per-candidate lookups. */
static inline int32_t ent_lex_find_inline(const ent_lexicon *lx, const char *s, size_t n, uint32_t h)
{
    const size_t mask = lx->wtab_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const uint32_t id1 = lx->wtab[i].id1;
        if (id1 == 0)
            return -1;
        if (lx->wtab[i].hash == h) {
            const ent_word *w = &lx->words[id1 - 1];
            if (w->len == n && memcmp(lx->pool + w->off, s, n) == 0)
                return (int32_t)(id1 - 1);
        }
    }
}
/* Child of node by word id, or -1. */
int32_t ent_trie_child(const ent_lexicon *lx, uint32_t node, uint32_t word);
/* ent_trie_child(lx, 0, word) read from the word itself, no hash probe (word < nwords). */
static inline int32_t ent_trie_root(const ent_lexicon *lx, uint32_t word)
{
    const uint32_t c = lx->words[word].root;
    return c ? (int32_t)c : -1;
}
/* Interns w (surface form, normalised here), ORs flags, sets info. */
int ent_lexicon_set_info(ent_lexicon *lx, const char *w, uint32_t flags, uint16_t info);

/* Tests only (0 otherwise): nonzero makes the tagger take its general loops
 * where a fast path would apply (the lists-only scan, the spans in text
 * order), so that a test can compare the two. */
extern int ent_test_plain_paths;

#endif
