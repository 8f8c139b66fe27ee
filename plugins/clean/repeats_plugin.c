/* repeats_plugin.c - the "clean_repeats" plugin: a line that recurs in many
 * articles of the same source is boilerplate (site slogans, "follow us"
 * lines, fixed bylines) even when no phrase list knows it.
 *
 * Why a separate plugin: the decision depends on the articles seen before,
 * so it must run in input order on one thread to give the same output for
 * any worker count (NAHR_THREAD_ORDERED_PRE, before the workers). The
 * per-article cleaning stays parallel in "clean". One .so = one descriptor,
 * so this folder builds two plugins.
 *
 * Memory is bounded: a fixed open-addressing table of 64-bit line hashes
 * (source hash mixed in), `table_size` entries of 16 bytes. When a probe
 * window is full, the entry with the lowest count is replaced, so frequent
 * lines survive and one-off lines are forgotten. Counts are per article
 * (a line repeated inside one article counts once).
 * Lines longer than max_line_bytes are never touched (story paragraphs).
 * The first min_articles-1 articles that carry a line keep it: the stage
 * cannot know the future without buffering the whole stream. */
#include "clean.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key;     /* 0 = empty */
    uint32_t count;   /* articles seen with this line */
    uint32_t last;    /* number (1-based, wrapping) of the last article counted */
} rep_entry;

typedef struct {
    rep_entry *tab;
    size_t mask;
    int min_articles;
    size_t max_line_bytes, min_line_bytes;
    bool per_source, keep_removed;
    nahr_buf out;
    char *norm;
    size_t normcap;
    uint64_t removed_lines;
    uint32_t articles; /* articles seen: this stage sees each one once, in order */
} rep_instance;

#define PROBE 8

static const nahr_option rep_options[] = {
    {"min_articles", NAHR_OPT_INT, "5", "a line seen in this many articles of one source is removed (from that article on)", "2:"},
    {"max_line_bytes", NAHR_OPT_INT, "300", "longer lines are never treated as repeats", "8:100000"},
    {"min_line_bytes", NAHR_OPT_INT, "4", "shorter lines (after normalisation) are ignored", "1:1000"},
    {"table_size", NAHR_OPT_INT, "262144", "line-hash table entries (16 bytes each; rounded up to a power of two)", "1024:67108864"},
    {"per_source", NAHR_OPT_BOOL, "true", "count repeats per 'source' (false: across the whole stream)", NULL},
    {"keep_removed", NAHR_OPT_BOOL, "false", "export removed lines in the field 'removed' (reason 'repeat')", NULL},
    NAHR_OPTIONS_END};

/* FNV-1a 64 then a final mix; deterministic across runs and platforms. */
static uint64_t hash64(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static void rep_destroy(void *inst)
{
    rep_instance *r = inst;
    if (!r) return;
    free(r->tab);
    free(r->norm);
    nahr_buf_free(&r->out);
    if (r->removed_lines) nahr_log(NAHR_LOG_INFO, "clean_repeats: %llu repeated lines removed", (unsigned long long)r->removed_lines);
    free(r);
}

static int rep_init(const nahr_stage *st, void **instance)
{
    rep_instance *r = calloc(1, sizeof *r);
    if (!r) return nahr_stage_error(st, NULL, "out of memory");
    size_t want = (size_t)nahr_stage_int(st, "table_size"), sz = 1024;
    while (sz < want) sz <<= 1;
    r->tab = calloc(sz, sizeof *r->tab);
    if (!r->tab) {
        free(r);
        return nahr_stage_error(st, "table_size", "cannot allocate %zu entries", sz);
    }
    r->mask = sz - 1;
    r->min_articles = (int)nahr_stage_int(st, "min_articles");
    r->max_line_bytes = (size_t)nahr_stage_int(st, "max_line_bytes");
    r->min_line_bytes = (size_t)nahr_stage_int(st, "min_line_bytes");
    r->per_source = nahr_stage_bool(st, "per_source");
    r->keep_removed = nahr_stage_bool(st, "keep_removed");
    r->normcap = r->max_line_bytes + 1;
    r->norm = malloc(r->normcap);
    if (!r->norm) {
        rep_destroy(r);
        return nahr_stage_error(st, NULL, "out of memory");
    }
    *instance = r;
    return NAHR_OK;
}

/* Counts the line for this article; returns its count after the update. */
static uint32_t rep_count(rep_instance *r, uint64_t key, uint32_t seq1)
{
    size_t i = (size_t)key & r->mask, victim = i;
    uint32_t vmin = UINT32_MAX;
    for (int p = 0; p < PROBE; p++) {
        rep_entry *e = &r->tab[(i + (size_t)p) & r->mask];
        if (e->key == key) {
            if (e->last != seq1) {
                e->count++;
                e->last = seq1;
            }
            return e->count;
        }
        if (e->key == 0) {
            e->key = key;
            e->count = 1;
            e->last = seq1;
            return 1;
        }
        if (e->count < vmin) {
            vmin = e->count;
            victim = (i + (size_t)p) & r->mask;
        }
    }
    rep_entry *e = &r->tab[victim];
    e->key = key;
    e->count = 1;
    e->last = seq1;
    return 1;
}

static int rep_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    (void)worker;
    rep_instance *r = inst;
    size_t n = 0;
    const char *text = nahr_doc_text(doc, &n);
    if (!text || n == 0 || clean_html_sniff(text, n)) return NAHR_OK;
    const char *src = r->per_source ? nahr_doc_get(doc, "source") : NULL;
    if (r->per_source && (!src || !*src))
        return NAHR_OK; /* no source: nothing says two articles share a site's template */
    uint64_t seed = hash64(src ? src : "", src ? strlen(src) : 0, 0xcbf29ce484222325ULL);
    uint32_t seq1 = ++r->articles;
    if (seq1 == 0) seq1 = ++r->articles; /* 0 never marks an article */
    nahr_buf_reset(&r->out);
    size_t removed = 0, copied_to = 0;
    for (size_t i = 0; i < n;) {
        const char *e = memchr(text + i, '\n', n - i);
        size_t le = e ? (size_t)(e - text) : n;
        size_t len = le - i;
        if (len >= r->min_line_bytes && len <= r->max_line_bytes) {
            size_t m = clean_match_norm(text + i, len, r->norm);
            if (m >= r->min_line_bytes && rep_count(r, hash64(r->norm, m, seed), seq1) >= (uint32_t)r->min_articles) {
                /* drop the line (and its newline) */
                if (nahr_buf_append(&r->out, text + copied_to, i - copied_to)) return nahr_ctx_error(ctx, "clean_repeats: out of memory");
                if (r->keep_removed && clean_report_removed(doc, text + i, len, CR_REPEAT))
                    return nahr_ctx_error(ctx, "clean_repeats: out of memory");
                copied_to = e ? le + 1 : n;
                removed++;
            }
        }
        if (!e) break;
        i = le + 1;
    }
    if (!removed) return NAHR_OK;
    if (nahr_buf_append(&r->out, text + copied_to, n - copied_to)) return nahr_ctx_error(ctx, "clean_repeats: out of memory");
    bool left = false;
    for (size_t i = 0; i < r->out.len && !left; i++)
        left = r->out.data[i] != ' ' && r->out.data[i] != '\n' && r->out.data[i] != '\t' && r->out.data[i] != '\r';
    if (!left) { /* every line recurs: a template-only stream, or the same story again; keep it */
        if (r->keep_removed)
            nahr_doc_set_field(doc, "removed", NULL); /* this stage runs first: only its own reports are there */
        return NAHR_OK;
    }
    r->removed_lines += removed;
    if (nahr_doc_set_text(doc, r->out.data, r->out.len)) return nahr_ctx_error(ctx, "clean_repeats: cannot set text");
    return NAHR_OK;
}

static const nahr_plugin repeats_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "clean_repeats",
    .version = "0.1.0",
    .description = "drops lines that recur in many articles of one source (ordered, bounded memory)",
    .options = rep_options,
    .thread_model = NAHR_THREAD_ORDERED_PRE,
    .flags = NAHR_PLUGIN_REWRITES_TEXT,
    .init = rep_init,
    .destroy = rep_destroy,
    .process = rep_process,
};

#ifndef CLEAN_NO_DESCRIPTOR
NAHR_PLUGIN_DEFINE(repeats_plugin)
#else
const nahr_plugin *repeats_test_descriptor(void);
const nahr_plugin *repeats_test_descriptor(void) { return &repeats_plugin; }
#endif
