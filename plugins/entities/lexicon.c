/* lexicon.c - interned normalised words with classes, and the gazetteer trie.
 *
 * Words: a string pool plus an open-addressing hash table (ent_word_hash:
 * FNV-1a from the last byte) mapping a normalised word to its id. Trie: node
 * 0 is the root; an edge is the pair
 * (parent node, word id) in a second hash table, so a lookup costs one hash
 * probe per token and matching never compares strings after the first
 * lookup of each token.
 */
#include "ent.h"
#include "lexicon_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ent_type_name[ENT_NTYPES] = {"",     "PER",     "LOC",   "ORG",     "MISC",
                                               "DATE", "PERCENT", "MONEY", "QUANTITY"};

int ent_type_from_name(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int type;
    } names[] = {{"PER", ENT_PER},      {"PERS", ENT_PER},         {"PERSON", ENT_PER},
                 {"LOC", ENT_LOC},      {"LOCATION", ENT_LOC},     {"ORG", ENT_ORG},
                 {"ORGANIZATION", ENT_ORG}, {"ORGANISATION", ENT_ORG}, {"MISC", ENT_MISC},
                 {"MISCELLANEOUS", ENT_MISC}, {"GPE", ENT_LOC},
                 {"DATE", ENT_DATE},    {"PERCENT", ENT_PERCENT},  {"MONEY", ENT_MONEY},
                 {"QUANTITY", ENT_QUANTITY}};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && strncasecmp(names[i].name, s, n) == 0)
            return names[i].type;
    return ENT_NONE;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

ent_lexicon *ent_lexicon_new(void)
{
    ent_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx)
        return NULL;
    lx->wtab_cap = 1024;
    lx->wtab = calloc(lx->wtab_cap, sizeof *lx->wtab);
    lx->etab_cap = 1024;
    lx->etab = calloc(lx->etab_cap, sizeof *lx->etab);
    lx->nodes_cap = 256;
    lx->nodes = calloc(lx->nodes_cap, sizeof *lx->nodes);
    if (!lx->wtab || !lx->etab || !lx->nodes) {
        ent_lexicon_free(lx);
        return NULL;
    }
    lx->nnodes = 1; /* root */
    lx->nodes[0].canon = UINT32_MAX;
    return lx;
}

void ent_lexicon_free(ent_lexicon *lx)
{
    if (!lx)
        return;
    free(lx->pool);
    free(lx->words);
    free(lx->wtab);
    free(lx->etab);
    free(lx->nodes);
    free(lx);
}

static int pool_add(ent_lexicon *lx, const char *s, size_t n, uint32_t *off)
{
    if (lx->pool_len + n + 1 > lx->pool_cap) {
        size_t cap = lx->pool_cap ? lx->pool_cap * 2 : 65536;
        char *p;
        while (cap < lx->pool_len + n + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return NAHR_ELIMIT;
        p = realloc(lx->pool, cap);
        if (!p)
            return NAHR_ENOMEM;
        lx->pool = p;
        lx->pool_cap = cap;
    }
    memcpy(lx->pool + lx->pool_len, s, n);
    lx->pool[lx->pool_len + n] = 0;
    *off = (uint32_t)lx->pool_len;
    lx->pool_len += n + 1;
    return NAHR_OK;
}

int32_t ent_lex_find(const ent_lexicon *lx, const char *s, size_t n)
{
    return ent_lex_find_h(lx, s, n, ent_word_hash(s, n));
}

int32_t ent_lex_find_h(const ent_lexicon *lx, const char *s, size_t n, uint32_t h)
{
    return ent_lex_find_inline(lx, s, n, h);
}

static int wtab_grow(ent_lexicon *lx)
{
    size_t cap = lx->wtab_cap * 2, i;
    ent_wslot *t = calloc(cap, sizeof *t);
    if (!t)
        return NAHR_ENOMEM;
    for (i = 0; i < lx->nwords; i++) {
        size_t j = lx->words[i].hash & (cap - 1);
        while (t[j].id1)
            j = (j + 1) & (cap - 1);
        t[j].id1 = (uint32_t)(i + 1);
        t[j].hash = lx->words[i].hash;
    }
    free(lx->wtab);
    lx->wtab = t;
    lx->wtab_cap = cap;
    return NAHR_OK;
}

/* Interns an already normalised word; returns its id or a negative error. */
static int32_t intern_norm(ent_lexicon *lx, const char *s, size_t n)
{
    int32_t id = ent_lex_find(lx, s, n);
    size_t j;
    ent_word *w;
    int rc;
    if (id >= 0)
        return id;
    if (n == 0 || n > 255)
        return NAHR_EINVAL;
    if ((lx->nwords + 1) * 2 > lx->wtab_cap && (rc = wtab_grow(lx)) != NAHR_OK)
        return rc;
    if (lx->nwords == lx->words_cap) {
        size_t cap = lx->words_cap ? lx->words_cap * 2 : 1024;
        ent_word *p = realloc(lx->words, cap * sizeof *p);
        if (!p)
            return NAHR_ENOMEM;
        lx->words = p;
        lx->words_cap = cap;
    }
    w = &lx->words[lx->nwords];
    memset(w, 0, sizeof *w);
    if ((rc = pool_add(lx, s, n, &w->off)) != NAHR_OK)
        return rc;
    w->len = (uint32_t)n;
    w->hash = ent_word_hash(s, n);
    j = w->hash & (lx->wtab_cap - 1);
    while (lx->wtab[j].id1)
        j = (j + 1) & (lx->wtab_cap - 1);
    lx->wtab[j].id1 = (uint32_t)(lx->nwords + 1);
    lx->wtab[j].hash = w->hash;
    return (int32_t)lx->nwords++;
}

/* Normalises one surface word and interns it. */
static int32_t intern_surface(ent_lexicon *lx, const char *s, size_t n)
{
    char buf[1024];
    size_t m;
    if (n >= sizeof buf)
        return NAHR_EINVAL;
    m = nahr_ar_normalize(s, n, buf, NULL);
    return intern_norm(lx, buf, m);
}

int ent_lexicon_add_word(ent_lexicon *lx, const char *w, uint32_t flags)
{
    int32_t id = intern_surface(lx, w, strlen(w));
    if (id < 0)
        return id;
    lx->words[id].flags |= flags;
    return NAHR_OK;
}

int ent_lexicon_set_info(ent_lexicon *lx, const char *w, uint32_t flags, uint16_t info)
{
    int32_t id = intern_surface(lx, w, strlen(w));
    if (id < 0)
        return id;
    lx->words[id].flags |= flags;
    lx->words[id].info = info;
    return NAHR_OK;
}

/* ---- trie ---- */

int32_t ent_trie_child(const ent_lexicon *lx, uint32_t node, uint32_t word)
{
    uint64_t key = ((uint64_t)node << 32) | word;
    size_t mask = lx->etab_cap - 1, i = mix64(key) & mask;
    for (;;) {
        const ent_edge *e = &lx->etab[i];
        if (e->child == 0)
            return -1;
        if (e->key == key)
            return (int32_t)e->child;
        i = (i + 1) & mask;
    }
}

static int etab_grow(ent_lexicon *lx)
{
    size_t cap = lx->etab_cap * 2, i;
    ent_edge *t = calloc(cap, sizeof *t);
    if (!t)
        return NAHR_ENOMEM;
    for (i = 0; i < lx->etab_cap; i++) {
        size_t j;
        if (!lx->etab[i].child)
            continue;
        j = mix64(lx->etab[i].key) & (cap - 1);
        while (t[j].child)
            j = (j + 1) & (cap - 1);
        t[j] = lx->etab[i];
    }
    free(lx->etab);
    lx->etab = t;
    lx->etab_cap = cap;
    return NAHR_OK;
}

static int32_t trie_add_child(ent_lexicon *lx, uint32_t node, uint32_t word)
{
    int32_t c = ent_trie_child(lx, node, word);
    uint64_t key;
    size_t j;
    int rc;
    if (c >= 0)
        return c;
    if ((lx->nedges + 1) * 2 > lx->etab_cap && (rc = etab_grow(lx)) != NAHR_OK)
        return rc;
    if (lx->nnodes == lx->nodes_cap) {
        size_t cap = lx->nodes_cap * 2;
        ent_node *p = realloc(lx->nodes, cap * sizeof *p);
        if (!p)
            return NAHR_ENOMEM;
        lx->nodes = p;
        lx->nodes_cap = cap;
    }
    memset(&lx->nodes[lx->nnodes], 0, sizeof lx->nodes[0]);
    lx->nodes[lx->nnodes].canon = UINT32_MAX;
    key = ((uint64_t)node << 32) | word;
    j = mix64(key) & (lx->etab_cap - 1);
    while (lx->etab[j].child)
        j = (j + 1) & (lx->etab_cap - 1);
    lx->etab[j].key = key;
    lx->etab[j].child = (uint32_t)lx->nnodes;
    lx->nedges++;
    if (node == 0)
        lx->words[word].root = (uint32_t)lx->nnodes; /* ent_trie_root() */
    return (int32_t)lx->nnodes++;
}

#define MAX_ENTRY_WORDS 16

/* W_TAMARBUTA for a name part spelled with final ة (normalisation makes it ه) */
static uint32_t name_spelling(const char *w, size_t n)
{
    return n >= 2 && (unsigned char)w[n - 2] == 0xD8 && (unsigned char)w[n - 1] == 0xA9 ? W_TAMARBUTA : 0;
}

int ent_lexicon_add_entry(ent_lexicon *lx, int type, const char *entry, size_t n, const char *canonical)
{
    nahr_token toks[MAX_ENTRY_WORDS + 1];
    size_t nt = nahr_tokenize(entry, n, toks, MAX_ENTRY_WORDS + 1), i;
    uint32_t node = 0;
    int32_t ids[MAX_ENTRY_WORDS];
    int rc;

    if (nt == 0 || nt > MAX_ENTRY_WORDS || type <= ENT_NONE || type > ENT_MISC)
        return NAHR_EINVAL;
    for (i = 0; i < nt; i++) {
        ids[i] = intern_surface(lx, entry + toks[i].start, toks[i].end - toks[i].start);
        if (ids[i] < 0)
            return ids[i];
    }
    for (i = 0; i < nt; i++) {
        int32_t c = trie_add_child(lx, node, (uint32_t)ids[i]);
        if (c < 0)
            return c;
        node = (uint32_t)c;
        /* name parts help the person rules */
        if (type == ENT_PER && toks[i].kind == NAHR_TOK_WORD)
            lx->words[ids[i]].flags |= ((i == 0 && nt > 1) ? W_FIRST : W_LAST) |
                                       name_spelling(entry + toks[i].start, toks[i].end - toks[i].start);
    }
    if (lx->nodes[node].type == ENT_NONE)
        lx->nentries++;
    lx->nodes[node].type = (uint8_t)type;
    lx->nodes[node].nwords = (uint8_t)nt;
    if (canonical && *canonical) {
        if ((rc = pool_add(lx, canonical, strlen(canonical), &lx->nodes[node].canon)) != NAHR_OK)
            return rc;
    } else {
        /* the entry as written, words joined by one space */
        char buf[1024];
        size_t len = 0;
        for (i = 0; i < nt; i++) {
            size_t wl = toks[i].end - toks[i].start;
            if (len + wl + 2 > sizeof buf)
                return NAHR_EINVAL;
            if (i && toks[i].start > toks[i - 1].end)
                buf[len++] = ' ';
            memcpy(buf + len, entry + toks[i].start, wl);
            len += wl;
        }
        if ((rc = pool_add(lx, buf, len, &lx->nodes[node].canon)) != NAHR_OK)
            return rc;
    }
    return NAHR_OK;
}

/* ---- files ---- */

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NAHR_EIO;
    for (;;) {
        size_t got;
        if (cap - n < 65536) {
            char *p;
            cap = cap ? cap * 2 : 131072;
            p = realloc(buf, cap + 1);
            if (!p) {
                free(buf);
                fclose(f);
                return NAHR_ENOMEM;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NAHR_EIO;
    }
    fclose(f);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return NAHR_OK;
}

/* Calls fn for each non-comment line, split at the first TAB. */
typedef int (*line_fn)(ent_lexicon *lx, void *arg, const char *a, size_t an, const char *b, size_t bn,
                       const char **why);

static int for_each_line(ent_lexicon *lx, const char *path, line_fn fn, void *arg, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0, pos = 0, lineno = 0;
    int rc = read_file(path, &data, &len);
    if (rc != NAHR_OK) {
        snprintf(err, errlen, "%s: cannot read: %s", path, rc == NAHR_EIO ? strerror(errno) : nahr_strerror(rc));
        return rc;
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* BOM */
    while (pos < len) {
        const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        const char *tab, *why = NULL;
        size_t an, bn = 0, bad;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        if (ll && line[ll - 1] == '\r')
            ll--;
        bad = nahr_utf8_check(line, ll);
        if (bad != ll) {
            snprintf(err, errlen, "%s:%zu: invalid UTF-8 at byte %zu of the line", path, lineno, bad + 1);
            free(data);
            return NAHR_EFORMAT;
        }
        /* spaces around are ignored; a TAB is a separator, never trimmed */
        while (ll && line[0] == ' ') {
            line++;
            ll--;
        }
        while (ll && line[ll - 1] == ' ')
            ll--;
        if (ll == 0 || line[0] == '#')
            continue;
        tab = memchr(line, '\t', ll);
        an = tab ? (size_t)(tab - line) : ll;
        if (tab) {
            bn = ll - an - 1;
            if (memchr(tab + 1, '\t', bn)) {
                snprintf(err, errlen, "%s:%zu: more than one TAB (expected \"entry<TAB>canonical\")", path,
                         lineno);
                free(data);
                return NAHR_EFORMAT;
            }
        }
        rc = fn(lx, arg, line, an, tab ? tab + 1 : NULL, bn, &why);
        if (rc != NAHR_OK) {
            snprintf(err, errlen, "%s:%zu: %s", path, lineno, why ? why : nahr_strerror(rc));
            free(data);
            return rc == NAHR_ENOMEM ? rc : NAHR_EFORMAT;
        }
    }
    free(data);
    return NAHR_OK;
}

static int has_word_char(const char *s, size_t n)
{
    nahr_token t[MAX_ENTRY_WORDS + 1];
    size_t nt = nahr_tokenize(s, n, t, MAX_ENTRY_WORDS + 1), i;
    for (i = 0; i < nt && i <= MAX_ENTRY_WORDS; i++)
        if (t[i].kind != NAHR_TOK_PUNCT)
            return 1;
    return 0;
}

static int gaz_line(ent_lexicon *lx, void *arg, const char *a, size_t an, const char *b, size_t bn,
                    const char **why)
{
    int type = *(int *)arg;
    char canon[1024];
    nahr_token toks[MAX_ENTRY_WORDS + 1];
    size_t nt;
    int rc;
    while (an && a[an - 1] == ' ')
        an--;
    if (an == 0 || !has_word_char(a, an)) {
        *why = "empty entry";
        return NAHR_EFORMAT;
    }
    nt = nahr_tokenize(a, an, toks, MAX_ENTRY_WORDS + 1);
    if (nt > MAX_ENTRY_WORDS) {
        *why = "entry has more than 16 words";
        return NAHR_EFORMAT;
    }
    if (b) {
        while (bn && *b == ' ') {
            b++;
            bn--;
        }
        if (bn == 0) {
            *why = "empty canonical form after the TAB";
            return NAHR_EFORMAT;
        }
        if (bn >= sizeof canon) {
            *why = "canonical form too long";
            return NAHR_EFORMAT;
        }
        memcpy(canon, b, bn);
        canon[bn] = 0;
    }
    if (an >= 1000) {
        *why = "entry too long";
        return NAHR_EFORMAT;
    }
    rc = ent_lexicon_add_entry(lx, type, a, an, b ? canon : NULL);
    if (rc == NAHR_EINVAL)
        *why = "entry cannot be indexed (a word longer than 255 bytes?)";
    return rc;
}

int ent_lexicon_load_gazetteer(ent_lexicon *lx, int type, const char *path, char *err, size_t errlen)
{
    return for_each_line(lx, path, gaz_line, &type, err, errlen);
}

static int word_line(ent_lexicon *lx, void *arg, const char *a, size_t an, const char *b, size_t bn,
                     const char **why)
{
    uint32_t flags = *(uint32_t *)arg;
    nahr_token toks[2];
    size_t nt = nahr_tokenize(a, an, toks, 2);
    int32_t id;
    (void)b;
    (void)bn;
    if (nt != 1 || toks[0].kind == NAHR_TOK_PUNCT) {
        *why = nt == 0 ? "empty entry" : "expected one word";
        return NAHR_EFORMAT;
    }
    id = intern_surface(lx, a + toks[0].start, toks[0].end - toks[0].start);
    if (id < 0) {
        *why = "word too long";
        return NAHR_EFORMAT;
    }
    if (flags & (W_FIRST | W_LAST))
        flags |= name_spelling(a + toks[0].start, toks[0].end - toks[0].start);
    lx->words[id].flags |= flags;
    return NAHR_OK;
}

int ent_lexicon_load_words(ent_lexicon *lx, uint32_t flags, const char *path, char *err, size_t errlen)
{
    return for_each_line(lx, path, word_line, &flags, err, errlen);
}

int ent_lexicon_finish(ent_lexicon *lx)
{
    size_t i;
    /* a first name that is also a common word needs context */
    for (i = 0; i < lx->nwords; i++) {
        ent_word *w = &lx->words[i];
        if ((w->flags & (W_FIRST | W_LAST)) && (w->flags & W_STOP))
            w->flags |= W_AMBIG;
    }
    lx->finished = 1;
    return NAHR_OK;
}

size_t ent_lexicon_entry_count(const ent_lexicon *lx)
{
    return lx->nentries;
}

size_t ent_lexicon_word_count(const ent_lexicon *lx)
{
    return lx->nwords;
}
