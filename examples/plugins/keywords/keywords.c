/* keywords - top-k salient terms of each article by tf-idf against a
 * background document-frequency list; an example of a real plugin built out
 * of tree against the installed nahr SDK.
 *
 * Adds the field "keywords": [{"term": "...", "score": x}, ...], best first.
 * The term is the surface form of its first occurrence (article stripped).
 * The background list (background.tsv: a first line "#docs<TAB>N", then
 * "term<TAB>df") is loaded once into a hash table shared by every worker. */
#include "terms.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const nahr_option kw_options[] = {
    {"background", NAHR_OPT_STRING, "background.tsv", "document-frequency list (default: the one beside the plugin)", NULL},
    {"top", NAHR_OPT_INT, "5", "number of keywords per article", "1:100"},
    {"min_count", NAHR_OPT_INT, "1", "a term must occur at least this often in the article", "1:1000"},
    NAHR_OPTIONS_END,
};

typedef struct bg_entry {
    char *term; /* NULL = empty slot */
    uint32_t df;
} bg_entry;

typedef struct kw {
    bg_entry *tab;
    size_t mask;
    double ndocs;
    int64_t top, min_count;
} kw;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint32_t bg_df(const kw *k, const char *t, size_t n)
{
    for (size_t i = hash(t, n) & k->mask;; i = (i + 1) & k->mask) {
        if (!k->tab[i].term)
            return 0;
        if (strlen(k->tab[i].term) == n && memcmp(k->tab[i].term, t, n) == 0)
            return k->tab[i].df;
    }
}

static void kw_destroy(void *inst)
{
    kw *k = inst;
    if (!k)
        return;
    for (size_t i = 0; k->tab && i <= k->mask; i++)
        free(k->tab[i].term);
    free(k->tab);
    free(k);
}

static int kw_init(const nahr_stage *st, void **out)
{
    char path[4096];
    const char *bg = nahr_stage_str(st, "background");
    if (nahr_stage_path(st, bg, nahr_stage_is_set(st, "background"), path, sizeof path) < 0)
        return nahr_stage_error(st, "background", "path too long");
    FILE *f = fopen(path, "r");
    if (!f)
        return nahr_stage_error(st, "background", "cannot open '%s': %s", path, strerror(errno));
    kw *k = calloc(1, sizeof *k);
    size_t lines = 0;
    char line[512];
    while (fgets(line, sizeof line, f))
        lines++;
    rewind(f);
    size_t cap = 1024;
    while (cap < lines * 2)
        cap *= 2;
    k->tab = k ? calloc(cap, sizeof *k->tab) : NULL;
    if (!k || !k->tab) {
        fclose(f);
        kw_destroy(k);
        return NAHR_ENOMEM;
    }
    k->mask = cap - 1;
    k->top = nahr_stage_int(st, "top");
    k->min_count = nahr_stage_int(st, "min_count");
    size_t lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fclose(f);
            kw_destroy(k);
            return nahr_stage_error(st, "background", "%s:%zu: expected 'term<TAB>count'", path, lineno);
        }
        *tab = '\0';
        unsigned long v = strtoul(tab + 1, NULL, 10);
        if (lineno == 1 && strcmp(line, "#docs") == 0) {
            k->ndocs = (double)v;
            continue;
        }
        char norm[KW_MAX_TERM * 2];
        size_t n = strlen(line);
        if (n >= KW_MAX_TERM)
            continue;
        n = nahr_ar_normalize(line, n, norm, NULL);
        size_t i = hash(norm, n) & k->mask;
        while (k->tab[i].term && strcmp(k->tab[i].term, norm) != 0)
            i = (i + 1) & k->mask;
        if (!k->tab[i].term)
            k->tab[i].term = strdup(norm);
        k->tab[i].df += (uint32_t)v;
    }
    fclose(f);
    if (k->ndocs <= 0) {
        kw_destroy(k);
        return nahr_stage_error(st, "background", "%s: first line must be '#docs<TAB>N'", path);
    }
    *out = k;
    return NAHR_OK;
}

typedef struct term_count {
    const char *term; /* normalised, in the arena */
    size_t len;
    size_t surf, surf_end; /* first occurrence */
    int64_t count;
    double score;
} term_count;

static int by_score(const void *a, const void *b)
{
    const term_count *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->term, y->term, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int kw_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    (void)worker;
    const kw *k = inst;
    size_t n;
    const char *text = nahr_doc_text(doc, &n);
    size_t ntok;
    /* the article's tokens, shared with the other plugins of the chain */
    const nahr_token *toks = nahr_doc_tokens(doc, 0, &ntok);
    size_t cap = 16;
    while (cap < ntok * 2)
        cap *= 2;
    term_count *tab = nahr_doc_alloc(doc, cap * sizeof *tab);
    if (!toks || !tab)
        return nahr_ctx_error(ctx, "out of memory");
    memset(tab, 0, cap * sizeof *tab);
    size_t distinct = 0;
    char term[KW_MAX_TERM];
    for (size_t t = 0; t < ntok; t++) {
        size_t surf, len = kw_term(text, &toks[t], term, &surf);
        if (!len)
            continue;
        size_t i = hash(term, len) & (cap - 1);
        while (tab[i].term && !(tab[i].len == len && memcmp(tab[i].term, term, len) == 0))
            i = (i + 1) & (cap - 1);
        if (!tab[i].term) {
            tab[i] = (term_count){nahr_doc_strndup(doc, term, len), len, surf, toks[t].end, 0, 0};
            distinct++;
        }
        tab[i].count++;
    }
    /* compact, score, sort */
    size_t m = 0;
    for (size_t i = 0; i < cap; i++) {
        if (!tab[i].term || tab[i].count < k->min_count)
            continue;
        tab[i].score = (double)tab[i].count * log((k->ndocs + 1) / ((double)bg_df(k, tab[i].term, tab[i].len) + 1));
        tab[m++] = tab[i];
    }
    qsort(tab, m, sizeof *tab, by_score);
    nahr_value *arr = nahr_value_array(doc);
    if (!arr)
        return nahr_ctx_error(ctx, "out of memory");
    for (size_t i = 0; i < m && i < (size_t)k->top; i++) {
        nahr_value *o = nahr_value_object(doc);
        if (!o || nahr_value_put(doc, o, "term", nahr_value_string(doc, text + tab[i].surf, tab[i].surf_end - tab[i].surf)) < 0 ||
            nahr_value_put(doc, o, "score", nahr_value_double(doc, round(tab[i].score * 1000) / 1000)) < 0 ||
            nahr_value_push(doc, arr, o) < 0)
            return nahr_ctx_error(ctx, "out of memory");
    }
    (void)distinct;
    return nahr_doc_set_field(doc, "keywords", arr) < 0 ? nahr_ctx_error(ctx, "cannot set field") : NAHR_OK;
}

static const nahr_plugin kw_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "keywords",
    .version = "1.0.0",
    .description = "top-k salient terms by tf-idf against a background frequency list",
    .options = kw_options,
    .thread_model = NAHR_THREAD_SHARED,
    .init = kw_init,
    .destroy = kw_destroy,
    .process = kw_process,
};

NAHR_PLUGIN_DEFINE(kw_plugin)
