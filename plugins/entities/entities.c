/* entities.c - the "entities" plugin: options, init, process.
 *
 * Thread model SHARED: the lexicon (words, gazetteer trie) and the optional
 * NER model are built at init and read-only afterwards; process() keeps its
 * scratch in the document arena. The only per-worker state is two bounded
 * caches of per-token facts (ent_cache, see ent.h; the NER model's
 * ner_cache, see ner/ner_cache.h).
 */
#include "ent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ENT_HAVE_NER
#include "ner_cache.h"
#include "ner_model.h"
#endif

#define ALL_TYPES "PER,LOC,ORG,MISC,DATE,PERCENT,MONEY,QUANTITY"

static const nahr_option entity_options[] = {
    {"gazetteers", NAHR_OPT_LIST, NULL,
     "extra gazetteer files as \"TYPE:path\" (TYPE = PER, LOC, ORG or MISC; lines: entry[<TAB>canonical])", NULL},
    {"word_lists", NAHR_OPT_LIST, NULL,
     "extra rule word lists as \"CLASS:path\" (CLASS = first, last, title, orghead, loctrigger, nationality, stop)",
     NULL},
    {"builtin", NAHR_OPT_BOOL, "true", "load the gazetteers and word lists shipped with the plugin", NULL},
    {"types", NAHR_OPT_LIST, ALL_TYPES, "entity types to report (any of " ALL_TYPES ")", NULL},
    {"rules", NAHR_OPT_BOOL, "true",
     "context rules: titles before persons, organisation heads, location triggers, first names", NULL},
    {"coref", NAHR_OPT_BOOL, "true",
     "in-document coreference: a later family name alone gets the full name as canonical", NULL},
    {"dates", NAHR_OPT_BOOL, "true", "tag DATE expressions (Gregorian, Levantine, Maghreb and Hijri months)", NULL},
    {"numbers", NAHR_OPT_BOOL, "true", "tag PERCENT, MONEY and QUANTITY expressions with a numeric value", NULL},
    {"money_first", NAHR_OPT_BOOL, "true",
     "with numbers and a model: an amount's currency is part of the MONEY span (1.5 مليار دولار), not a MISC "
     "entity of the model; false follows ANERcorp, which tags the currency alone as MISC",
     NULL},
    {"model", NAHR_OPT_STRING, "ner/anercorp.nermodel",
     "statistical NER model file (from nahr-train-ner), merged with lists and rules; default: the shipped "
     "ANERcorp model; \"\" = off (4x faster, lower recall); a more accurate, slower model: "
     "NAHR_NER_ACCURATE=1 plugins/entities/ner/tools/train_model.sh (docs/ner.md)",
     NULL},
    {"model_precedence", NAHR_OPT_STRING, "model",
     "with a model: whose entities win where both find one (the other fills the gaps)", "model|rules"},
    {"model_veto", NAHR_OPT_FLOAT, ENT_MODEL_VETO_TEXT,
     "with a model: drop a person the rules found where the model is this sure there is none "
     "(its O score minus the best other tag's, on every word; 0 = off)",
     "0:"},
    {"model_veto_loc", NAHR_OPT_FLOAT, ENT_MODEL_VETO_LOC_TEXT,
     "with a model: drop a place found after a location trigger with the article (المنطقة X) where the "
     "model is this sure there is none (0 = off)",
     "0:"},
    {"model_veto_org", NAHR_OPT_FLOAT, ENT_MODEL_VETO_ORG_TEXT,
     "with a model: drop an organisation of the rules whose words after the head all lack the article and "
     "are in no list (مركز خدمة) where the model is this sure there is none (0 = off)",
     "0:"},
    {"layer", NAHR_OPT_STRING, "entities", "span layer the entities are written to", NULL},
    {"max_tokens", NAHR_OPT_INT, "4000000", "articles with more tokens go to the dead-letter output", "1:"},
    NAHR_OPTIONS_END};

typedef struct entities {
    ent_lexicon *lx;
    ent_opts opts;
    char layer[64];
#ifdef ENT_HAVE_NER
    ner_model *ner;
#endif
    ent_model_hook hook;
    int have_model;
} entities;

static void entities_destroy(void *inst)
{
    entities *e = inst;
    if (!e)
        return;
    ent_lexicon_free(e->lx);
#ifdef ENT_HAVE_NER
    ner_model_free(e->ner);
#endif
    free(e);
}

/* Per worker: the caches (a NULL one could not be allocated: tagging then
 * works without it). */
typedef struct ent_worker {
    ent_cache *tokens;
#ifdef ENT_HAVE_NER
    ner_cache *ner;
#endif
} ent_worker;

#ifdef ENT_HAVE_NER
/* What the model hook gets as its model: the shared model and the calling
 * worker's cache. */
typedef struct hook_ctx {
    const ner_model *m;
    ner_cache *cache;
} hook_ctx;

static int hook_tag(const void *model, const char *text, const nahr_token *toks, size_t ntok, void *scratch,
                    uint8_t *tags)
{
    const hook_ctx *h = model;
    return ner_model_tag_cached(h->m, h->cache, text, toks, ntok, scratch, tags);
}

static int hook_tag_margin(const void *model, const char *text, const nahr_token *toks, size_t ntok,
                           void *scratch, uint8_t *tags, float *margin)
{
    const hook_ctx *h = model;
    return ner_model_tag_margin(h->m, h->cache, text, toks, ntok, scratch, tags, margin);
}

static size_t hook_scratch(const void *model, size_t ntok)
{
    const hook_ctx *h = model;
    return ner_model_scratch_size(h->m, ntok);
}
#endif

/* built-in data: file name, type (gazetteer) or word class */
static const struct {
    const char *file;
    int type;
    uint32_t flags;
} builtin_files[] = {
    {"loc.txt", ENT_LOC, 0},           {"org.txt", ENT_ORG, 0},          {"misc.txt", ENT_MISC, 0},
    {"per.txt", ENT_PER, 0},           {"first_names.txt", 0, W_FIRST}, {"last_names.txt", 0, W_LAST},
    {"common_words.txt", 0, W_STOP},
};

static const struct {
    const char *name;
    uint32_t flags;
} word_classes[] = {{"first", W_FIRST},      {"last", W_LAST},       {"title", W_TITLE},
                    {"orghead", W_ORGHEAD},  {"loctrigger", W_LOCTRIG}, {"nationality", W_NATION},
                    {"stop", W_STOP}};

static int entities_init(const nahr_stage *st, void **instance)
{
    entities *e = calloc(1, sizeof *e);
    char path[4096], err[1024];
    size_t i, n;
    int rc;

    if (!e)
        return nahr_stage_error(st, NULL, "out of memory");
    ent_opts_default(&e->opts);
    e->lx = ent_lexicon_new();
    if (!e->lx) {
        rc = nahr_stage_error(st, NULL, "out of memory");
        goto fail;
    }
    if ((rc = ent_lexicon_add_rules(e->lx)) != NAHR_OK) {
        rc = nahr_stage_error(st, NULL, "cannot build the rule vocabulary: %s", nahr_strerror(rc));
        goto fail;
    }
    if (nahr_stage_bool(st, "builtin")) {
        for (i = 0; i < sizeof builtin_files / sizeof builtin_files[0]; i++) {
            if (nahr_stage_path(st, builtin_files[i].file, 0, path, sizeof path) != NAHR_OK) {
                rc = nahr_stage_error(st, "builtin", "data path too long");
                goto fail;
            }
            rc = builtin_files[i].type ? ent_lexicon_load_gazetteer(e->lx, builtin_files[i].type, path, err, sizeof err)
                                       : ent_lexicon_load_words(e->lx, builtin_files[i].flags, path, err, sizeof err);
            if (rc != NAHR_OK) {
                rc = nahr_stage_error(st, "builtin", "%s (the plugin's data folder is %s)", err,
                                      nahr_stage_data_dir(st));
                goto fail;
            }
        }
    }
    n = nahr_stage_list_len(st, "gazetteers");
    for (i = 0; i < n; i++) {
        const char *spec = nahr_stage_list_at(st, "gazetteers", i);
        const char *colon = spec ? strchr(spec, ':') : NULL;
        int type;
        if (!colon || (type = ent_type_from_name(spec, (size_t)(colon - spec))) < ENT_PER || type > ENT_MISC ||
            !colon[1]) {
            rc = nahr_stage_error(st, "gazetteers", "entry %zu \"%s\": expected \"TYPE:path\" with TYPE one of PER, LOC, ORG, MISC",
                                  i + 1, spec ? spec : "");
            goto fail;
        }
        if (nahr_stage_path(st, colon + 1, 1, path, sizeof path) != NAHR_OK) {
            rc = nahr_stage_error(st, "gazetteers", "path too long");
            goto fail;
        }
        if ((rc = ent_lexicon_load_gazetteer(e->lx, type, path, err, sizeof err)) != NAHR_OK) {
            rc = nahr_stage_error(st, "gazetteers", "%s", err);
            goto fail;
        }
    }
    n = nahr_stage_list_len(st, "word_lists");
    for (i = 0; i < n; i++) {
        const char *spec = nahr_stage_list_at(st, "word_lists", i);
        const char *colon = spec ? strchr(spec, ':') : NULL;
        uint32_t flags = 0;
        size_t c;
        for (c = 0; colon && c < sizeof word_classes / sizeof word_classes[0]; c++)
            if (strlen(word_classes[c].name) == (size_t)(colon - spec) &&
                strncmp(word_classes[c].name, spec, (size_t)(colon - spec)) == 0)
                flags = word_classes[c].flags;
        if (!flags || !colon[1]) {
            rc = nahr_stage_error(st, "word_lists",
                                  "entry %zu \"%s\": expected \"CLASS:path\" with CLASS one of first, last, title, "
                                  "orghead, loctrigger, nationality, stop",
                                  i + 1, spec ? spec : "");
            goto fail;
        }
        if (nahr_stage_path(st, colon + 1, 1, path, sizeof path) != NAHR_OK) {
            rc = nahr_stage_error(st, "word_lists", "path too long");
            goto fail;
        }
        if ((rc = ent_lexicon_load_words(e->lx, flags, path, err, sizeof err)) != NAHR_OK) {
            rc = nahr_stage_error(st, "word_lists", "%s", err);
            goto fail;
        }
    }
    ent_lexicon_finish(e->lx);

    /* types */
    n = nahr_stage_list_len(st, "types");
    e->opts.types = 0;
    for (i = 0; i < n; i++) {
        const char *ty = nahr_stage_list_at(st, "types", i);
        int t = ty ? ent_type_from_name(ty, strlen(ty)) : ENT_NONE;
        if (t == ENT_NONE) {
            rc = nahr_stage_error(st, "types", "unknown type \"%s\" (allowed: %s)", ty ? ty : "", ALL_TYPES);
            goto fail;
        }
        e->opts.types |= 1u << t;
    }
    e->opts.rules = nahr_stage_bool(st, "rules");
    e->opts.coref = nahr_stage_bool(st, "coref");
    e->opts.dates = nahr_stage_bool(st, "dates");
    e->opts.numbers = nahr_stage_bool(st, "numbers");
    e->opts.money_first = nahr_stage_bool(st, "money_first");
    e->opts.max_tokens = (size_t)nahr_stage_int(st, "max_tokens");
    e->opts.model_veto = nahr_stage_float(st, "model_veto");
    e->opts.model_veto_loc = nahr_stage_float(st, "model_veto_loc");
    e->opts.model_veto_org = nahr_stage_float(st, "model_veto_org");
    {
        const char *prec = nahr_stage_str(st, "model_precedence");
        e->opts.model_first = !(prec && strcmp(prec, "rules") == 0);
    }
    {
        const char *layer = nahr_stage_str(st, "layer");
        if (!layer || !*layer || strlen(layer) >= sizeof e->layer) {
            rc = nahr_stage_error(st, "layer", "must be a non-empty name of at most %zu bytes", sizeof e->layer - 1);
            goto fail;
        }
        strcpy(e->layer, layer);
        e->opts.layer = e->layer;
    }
    {
        const char *model = nahr_stage_str(st, "model");
        if (model && *model) {
#ifdef ENT_HAVE_NER
            if (nahr_stage_path(st, model, nahr_stage_is_set(st, "model"), path, sizeof path) != NAHR_OK) {
                rc = nahr_stage_error(st, "model", "path too long");
                goto fail;
            }
            if (ner_model_load(path, &e->ner, err, sizeof err) != 0) {
                rc = nahr_stage_error(st, "model", "%s", err);
                goto fail;
            }
            {
                char desc[512];
                ner_model_describe(e->ner, desc, sizeof desc);
                nahr_log(NAHR_LOG_DEBUG, "entities: NER model %s: %s", path, desc);
            }
            e->hook.tag = hook_tag;
            e->hook.tag_margin = hook_tag_margin;
            e->hook.scratch_size = hook_scratch;
            e->hook.model = NULL; /* a hook_ctx per call, see entities_process */
            e->have_model = 1;
#else
            if (nahr_stage_is_set(st, "model")) {
                rc = nahr_stage_error(st, "model", "this build of the entities plugin has no NER model support");
                goto fail;
            }
#endif
        }
    }
    nahr_log(NAHR_LOG_DEBUG, "entities: %zu gazetteer entries, %zu words", ent_lexicon_entry_count(e->lx),
             ent_lexicon_word_count(e->lx));
    *instance = e;
    return NAHR_OK;
fail:
    entities_destroy(e);
    return rc < 0 ? rc : NAHR_ECONFIG;
}

static int entities_worker_init(void *inst, void **worker)
{
    ent_worker *w = calloc(1, sizeof *w);
    (void)inst;
    if (w) {
        w->tokens = ent_cache_new();
#ifdef ENT_HAVE_NER
        w->ner = ner_cache_new();
#endif
    }
    *worker = w;
    return NAHR_OK;
}

static void entities_worker_destroy(void *inst, void *worker)
{
    ent_worker *w = worker;
    (void)inst;
    if (!w)
        return;
    ent_cache_free(w->tokens);
#ifdef ENT_HAVE_NER
    ner_cache_free(w->ner);
#endif
    free(w);
}

static int entities_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    entities *e = inst;
    ent_worker *w = worker;
    ent_model_hook hook = e->hook;
    int rc;
#ifdef ENT_HAVE_NER
    hook_ctx hc = {e->ner, w ? w->ner : NULL};
    hook.model = &hc;
#endif
    rc = ent_tag_cached(e->lx, &e->opts, e->have_model ? &hook : NULL, w ? w->tokens : NULL, doc);
    if (rc == NAHR_ELIMIT)
        return nahr_ctx_error(ctx, "entities: article has more than %zu tokens (option max_tokens)",
                              e->opts.max_tokens);
    if (rc != NAHR_OK)
        return nahr_ctx_error(ctx, "entities: %s", nahr_strerror(rc));
    return NAHR_OK;
}

static const nahr_plugin entities_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "entities",
    .version = "0.1.0",
    .description = "Arabic named entities (PER, LOC, ORG, MISC), dates and numbers: gazetteers, context rules, "
                   "coreference",
    .options = entity_options,
    .thread_model = NAHR_THREAD_SHARED,
    .flags = NAHR_PLUGIN_ADDS_SPANS,
    .init = entities_init,
    .destroy = entities_destroy,
    .worker_init = entities_worker_init,
    .worker_destroy = entities_worker_destroy,
    .process = entities_process,
};

NAHR_PLUGIN_DEFINE(entities_plugin)
