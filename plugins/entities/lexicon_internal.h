/* lexicon_internal.h - the lexicon's layout, shared by lexicon.c, rules.c
 * and tagger.c only. */
#ifndef NAHR_ENTITIES_LEXICON_INTERNAL_H
#define NAHR_ENTITIES_LEXICON_INTERNAL_H

#include "ent.h"

typedef struct ent_word {
    uint32_t off, len; /* normalised form in pool */
    uint32_t hash;
    uint32_t flags;    /* W_* classes */
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

/* Word id of a normalised string, or -1. */
int32_t ent_lex_find(const ent_lexicon *lx, const char *s, size_t n);
/* Same with the FNV-1a hash of s already computed (the tagger has it). */
int32_t ent_lex_find_h(const ent_lexicon *lx, const char *s, size_t n, uint32_t h);
/* Child of node by word id, or -1. */
int32_t ent_trie_child(const ent_lexicon *lx, uint32_t node, uint32_t word);
/* Interns w (surface form, normalised here), ORs flags, sets info. */
int ent_lexicon_set_info(ent_lexicon *lx, const char *w, uint32_t flags, uint16_t info);

/* Tests only (0 otherwise): nonzero makes the tagger take its general loops
 * where a fast path would apply (the lists-only scan, the spans in text
 * order), so that a test can compare the two. */
extern int ent_test_plain_paths;

#endif
