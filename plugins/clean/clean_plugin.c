/* clean_plugin.c - the "clean" plugin: HTML -> text, Unicode normalisation,
 * boilerplate removal and metadata recovery, per article, in parallel
 * (NAHR_THREAD_SHARED: phrase trie and ICU tables are read-only after
 * init; each worker owns its buffers). */
#include "clean.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    clean_scratch sc;
} clean_worker;

static void worker_free(clean_worker *w)
{
    if (!w) return;
    clean_scratch_free(&w->sc);
    free(w);
}

/* Publication date from HTML metadata ("2025-01-21T10:00:00+03:00"). */
static int iso_from_meta(const char *v, char iso[11])
{
    if (strlen(v) >= 10 && v[4] == '-' && v[7] == '-') {
        for (int i = 0; i < 10; i++)
            if (i != 4 && i != 7 && (v[i] < '0' || v[i] > '9')) goto parse;
        memcpy(iso, v, 10);
        iso[10] = '\0';
        return 1;
    }
parse:;
    int cov;
    return clean_date_parse(v, strlen(v), iso, &cov);
}

int clean_doc(const clean_config *cfg, clean_scratch *sc, nahr_doc *doc, const char **why)
{
    static const char *const r_empty = "empty article";
    static const char *const r_only = "only boilerplate";
    static const char *const r_html = "HTML page without text";
    *why = NULL;
    size_t n = 0;
    const char *text = nahr_doc_text(doc, &n);
    if (!text || n == 0) {
        *why = r_empty;
        return CLEAN_EMPTY;
    }
    clean_scratch *w = sc;
    int rc;
    if (cfg->html_mode == 2 || (cfg->html_mode == 1 && clean_html_sniff(text, n))) {
        rc = clean_html_extract(text, n, &w->html);
        if (rc == NAHR_ENOMEM) return rc;
        if (rc) {
            *why = r_html;
            return CLEAN_EMPTY;
        }
        char iso[11];
        if (cfg->recover_date && w->html.date[0] && !nahr_doc_get(doc, "date") && iso_from_meta(w->html.date, iso))
            if (nahr_doc_set(doc, "date", iso)) return NAHR_ENOMEM;
        if (cfg->recover_source && w->html.site[0] && !nahr_doc_get(doc, "source"))
            if (nahr_doc_set(doc, "source", w->html.site)) return NAHR_ENOMEM;
        if (w->html.title[0] && !nahr_doc_get(doc, "title")) {
            /* normalise the title like the text, so the headline line matches it */
            rc = clean_unicode_run(cfg->uni, sc, w->html.title, strlen(w->html.title), &w->out, NULL);
            if (rc) return rc;
            if (cfg->recover_title && w->out.len && nahr_doc_set(doc, "title", w->out.data)) return NAHR_ENOMEM;
        }
        text = w->html.text.data;
        n = w->html.text.len;
    }
    size_t bad = 0;
    rc = clean_unicode_run(cfg->uni, sc, text, n, &w->norm, &bad);
    if (rc) return rc;
    if (bad && cfg->keep_removed) {
        nahr_value *v = nahr_value_int(doc, (int64_t)bad);
        if (!v || nahr_doc_set_field(doc, "invalid_utf8_repaired", v)) return NAHR_ENOMEM;
    }
    rc = clean_lines_run(cfg, doc, w->norm.data ? w->norm.data : "", w->norm.len, &w->out);
    if (rc) return rc;
    if (w->out.len == 0) {
        *why = w->norm.len ? r_only : r_empty;
        return CLEAN_EMPTY;
    }
    /* nothing changed (about one article in five of plain news): keep the
     * text, and the tokens or normal form a stage may have cached for it,
     * instead of checking and copying the same bytes again */
    size_t cur_n = 0;
    const char *cur = nahr_doc_text(doc, &cur_n);
    if (cur && cur_n == w->out.len && nahr_doc_span_count(doc) == 0 && memcmp(cur, w->out.data, cur_n) == 0)
        return NAHR_OK;
    rc = nahr_doc_set_text(doc, w->out.data, w->out.len);
    return rc;
}

void clean_config_defaults(clean_config *c)
{
    memset(c, 0, sizeof *c);
    c->html_mode = 1;
    c->remove_boilerplate = c->tail_cut = true;
    c->recover_title = c->recover_date = c->recover_source = true;
    c->short_line_words = 12;
    c->min_story_words = 12;
    c->max_url_share = 0.3;
}

/* ---------------- plugin glue ---------------- */

static const nahr_option clean_options[] = {
    {"html", NAHR_OPT_STRING, "auto", "treat the text as an HTML page: auto (sniff), always, never", "auto|always|never"},
    {"normal_form", NAHR_OPT_STRING, "nfc", "Unicode normal form of the output text (ICU)", "nfc|nfkc|none"},
    {"remove_tatweel", NAHR_OPT_BOOL, "true", "remove tatweel/kashida (U+0640)", NULL},
    {"remove_diacritics", NAHR_OPT_BOOL, "false", "remove Arabic diacritics (harakat, shadda, sukun, superscript alef)", NULL},
    {"ascii_digits", NAHR_OPT_BOOL, "false", "map Arabic-Indic and Persian digits to 0-9", NULL},
    {"remove_boilerplate", NAHR_OPT_BOOL, "true", "classify lines and drop navigation, ads, promos, related lists...", NULL},
    {"tail_cut", NAHR_OPT_BOOL, "true", "drop everything after a related/comments marker that follows the last story paragraph", NULL},
    {"recover_title", NAHR_OPT_BOOL, "true", "set 'title' from the headline line (or HTML) when the input has none", NULL},
    {"recover_date", NAHR_OPT_BOOL, "true", "set 'date' (ISO 8601) from a dateline when the input has none", NULL},
    {"recover_source", NAHR_OPT_BOOL, "true", "set 'source' from a byline/site signature when the input has none", NULL},
    {"date_from_embeds", NAHR_OPT_BOOL, "false", "when no dateline exists, take 'date' from an embedded post's footer (\"posted by X on DATE\"): that is the post's date, not always the article's", NULL},
    {"keep_title_in_text", NAHR_OPT_BOOL, "false", "keep the headline line in the text as well as in 'title'", NULL},
    {"keep_removed", NAHR_OPT_BOOL, "false", "export removed lines with their reason in the field 'removed'", NULL},
    {"on_empty", NAHR_OPT_STRING, "skip", "article with no story left: skip it (counted), send it to dead-letter (error), or keep it empty", "skip|error|keep"},
    {"phrase_dir", NAHR_OPT_STRING, "phrases", "folder of phrase-family files <family>.txt", NULL},
    {"extra_phrases", NAHR_OPT_LIST, NULL, "more phrase files: \"family=path\" or a path named <family>.txt", NULL},
    {"short_line_words", NAHR_OPT_INT, "12", "a line of at most this many words is 'short' (for ~phrases)", "1:200"},
    {"min_story_words", NAHR_OPT_INT, "12", "words for a line to count as a story paragraph", "2:200"},
    {"max_url_share", NAHR_OPT_FLOAT, "0.3", "lines whose URL bytes exceed this share are dropped", "0:1"},
    NAHR_OPTIONS_END};

typedef struct {
    clean_config cfg;
    int on_empty;
} clean_instance;

static void clean_destroy(void *inst)
{
    clean_instance *ci = inst;
    if (!ci) return;
    clean_phrases_free(ci->cfg.phrases);
    clean_unicode_free(ci->cfg.uni);
    free(ci);
}

static int clean_init(const nahr_stage *st, void **instance)
{
    char err[512], path[PATH_MAX];
    clean_instance *ci = calloc(1, sizeof *ci);
    if (!ci) return nahr_stage_error(st, NULL, "out of memory");
    clean_config *c = &ci->cfg;
    const char *html = nahr_stage_str(st, "html");
    c->html_mode = !strcmp(html, "never") ? 0 : !strcmp(html, "always") ? 2 : 1;
    const char *nf = nahr_stage_str(st, "normal_form");
    clean_unicode_opts uo = {
        .form = !strcmp(nf, "none") ? 0 : !strcmp(nf, "nfkc") ? 2 : 1,
        .remove_tatweel = nahr_stage_bool(st, "remove_tatweel"),
        .remove_diacritics = nahr_stage_bool(st, "remove_diacritics"),
        .ascii_digits = nahr_stage_bool(st, "ascii_digits"),
    };
    c->uni = clean_unicode_new(&uo, err, sizeof err);
    if (!c->uni) {
        int rc = nahr_stage_error(st, "normal_form", "%s", err);
        clean_destroy(ci);
        return rc;
    }
    c->remove_boilerplate = nahr_stage_bool(st, "remove_boilerplate");
    c->tail_cut = nahr_stage_bool(st, "tail_cut");
    c->recover_title = nahr_stage_bool(st, "recover_title");
    c->recover_date = nahr_stage_bool(st, "recover_date");
    c->recover_source = nahr_stage_bool(st, "recover_source");
    c->keep_title_in_text = nahr_stage_bool(st, "keep_title_in_text");
    c->date_from_embeds = nahr_stage_bool(st, "date_from_embeds");
    c->keep_removed = nahr_stage_bool(st, "keep_removed");
    const char *oe = nahr_stage_str(st, "on_empty");
    c->on_empty = !strcmp(oe, "error") ? 1 : !strcmp(oe, "keep") ? 2 : 0;
    c->short_line_words = (int)nahr_stage_int(st, "short_line_words");
    c->min_story_words = (int)nahr_stage_int(st, "min_story_words");
    c->max_url_share = nahr_stage_float(st, "max_url_share");
    c->phrases = clean_phrases_new();
    if (!c->phrases) {
        clean_destroy(ci);
        return nahr_stage_error(st, NULL, "out of memory");
    }
    int rc;
    if (nahr_stage_path(st, nahr_stage_str(st, "phrase_dir"), nahr_stage_is_set(st, "phrase_dir"), path, sizeof path)) {
        clean_destroy(ci);
        return nahr_stage_error(st, "phrase_dir", "path too long");
    }
    rc = clean_phrases_load_dir(c->phrases, path, err, sizeof err);
    if (rc < 0) {
        clean_destroy(ci);
        return nahr_stage_error(st, "phrase_dir", "%s", err);
    }
    size_t ne = nahr_stage_list_len(st, "extra_phrases");
    for (size_t i = 0; i < ne; i++) {
        const char *e = nahr_stage_list_at(st, "extra_phrases", i);
        const char *eq = strchr(e, '=');
        const char *file = eq ? eq + 1 : e;
        const char *fname = eq ? e : (strrchr(e, '/') ? strrchr(e, '/') + 1 : e);
        size_t fl = eq ? (size_t)(eq - e) : strlen(fname);
        if (!eq && fl > 4 && !strcmp(fname + fl - 4, ".txt")) fl -= 4;
        int fam = clean_family_from_name(fname, fl);
        if (!fam) {
            clean_destroy(ci);
            return nahr_stage_error(st, "extra_phrases", "'%s': unknown phrase family '%.*s' (known: nav share subscribe cookies comments related copyright ads embed promo caption byline)", e, (int)fl, fname);
        }
        if (nahr_stage_path(st, file, 1, path, sizeof path) ||
            (rc = clean_phrases_load(c->phrases, fam, path, err, sizeof err)) != 0) {
            clean_destroy(ci);
            return nahr_stage_error(st, "extra_phrases", "%s", err);
        }
    }
    if (clean_phrases_build(c->phrases)) {
        clean_destroy(ci);
        return nahr_stage_error(st, NULL, "out of memory");
    }
    clean_html_global_init();
    *instance = ci;
    return NAHR_OK;
}

static int clean_worker_init(void *inst, void **worker)
{
    (void)inst;
    clean_worker *w = calloc(1, sizeof *w);
    if (!w) return NAHR_ENOMEM;
    *worker = w;
    return NAHR_OK;
}

static void clean_worker_destroy(void *inst, void *worker)
{
    (void)inst;
    worker_free(worker);
}

static int clean_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    clean_instance *ci = inst;
    clean_worker *w = worker;
    const char *why = NULL;
    int rc = clean_doc(&ci->cfg, &w->sc, doc, &why);
    if (rc == CLEAN_OK) return NAHR_OK;
    if (rc == CLEAN_EMPTY) {
        if (ci->cfg.on_empty == 2) return nahr_doc_set_text(doc, "", 0) ? nahr_ctx_error(ctx, "cannot set text") : NAHR_OK;
        if (ci->cfg.on_empty == 1) return nahr_ctx_error(ctx, "%s", why);
        nahr_value *v = nahr_value_cstr(doc, why);
        if (v) nahr_doc_set_field(doc, "skip_reason", v);
        nahr_log(NAHR_LOG_DEBUG, "clean: %s skipped: %s", nahr_doc_origin(doc), why);
        return NAHR_SKIP;
    }
    return nahr_ctx_error(ctx, "%s", nahr_strerror(rc));
}

static const nahr_plugin clean_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "clean",
    .version = "0.1.0",
    .description = "HTML to text, Unicode/Arabic normalisation, boilerplate removal, title/date/source recovery",
    .options = clean_options,
    .thread_model = NAHR_THREAD_SHARED,
    .flags = NAHR_PLUGIN_REWRITES_TEXT,
    .init = clean_init,
    .destroy = clean_destroy,
    .worker_init = clean_worker_init,
    .worker_destroy = clean_worker_destroy,
    .process = clean_process,
};

#ifndef CLEAN_NO_DESCRIPTOR
NAHR_PLUGIN_DEFINE(clean_plugin)
#else
const nahr_plugin *clean_test_descriptor(void);
const nahr_plugin *clean_test_descriptor(void) { return &clean_plugin; }
#endif
