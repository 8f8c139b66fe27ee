/* sentiment.c - the "sentiment" plugin: document, sentence and per-entity
 * sentiment from polarity lexicons and an optional linear n-gram model.
 *
 * Thread model SHARED: lexicon and model are loaded once in init() and only
 * read afterwards; each worker owns a senti_worker (token and sentence
 * buffers that grow to the largest article seen, never per token).
 */
#include "senti.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_CAP 4096

enum { SENT_NONE = 0, SENT_POLAR = 1, SENT_ALL = 2 };

typedef struct instance {
    senti_lexicon *lex;
    senti_model *model;
    senti_config cfg;
    int sentences; /* SENT_* */
    int entities;
    double title_weight;
} instance;

static const nahr_option options[] = {
    {"lexicons", NAHR_OPT_LIST, "nileulex.tsv,news_cues.tsv,modifiers.tsv",
     "lexicon TSV files (term<TAB>weight|positive|negative|negator|x<mult>); later files override", NULL},
    {"extra_lexicons", NAHR_OPT_LIST, NULL, "more lexicon files loaded after 'lexicons'", NULL},
    {"model", NAHR_OPT_STRING, "astd.model",
     "linear n-gram model file from sentiment-train; \"\" = lexicon only", NULL},
    {"model_weight", NAHR_OPT_FLOAT, "0.4", "share of the model score in the combined score", "0:1"},
    {"neutral_band", NAHR_OPT_FLOAT, "0.2", "|score| below this is labelled neutral", "0:1"},
    {"length_damping", NAHR_OPT_FLOAT, "0.02",
     "per-word damping of the lexicon score (longer texts need more evidence)", "0:10"},
    {"title_weight", NAHR_OPT_FLOAT, "2",
     "weight of a title word relative to a body word in the document score (0 = ignore the title)", "0:10"},
    {"negation_window", NAHR_OPT_INT, "3", "words after a negator whose polarity it flips", "0:10"},
    {"sentences", NAHR_OPT_STRING, "none",
     "per-sentence spans in layer 'sentences' with attributes label and score: none, polar or all",
     "none|polar|all"},
    {"entities", NAHR_OPT_BOOL, "true",
     "set attribute 'sentiment' on each span of layer 'entities' from the sentences mentioning it", NULL},
    NAHR_OPTIONS_END};

static void destroy(void *inst)
{
    instance *in = inst;
    if (!in)
        return;
    senti_lexicon_free(in->lex);
    senti_model_free(in->model);
    free(in);
}

static int load_lexicon_list(const nahr_stage *stage, instance *in, const char *key)
{
    size_t n = nahr_stage_list_len(stage, key);
    int user = nahr_stage_is_set(stage, key);
    for (size_t i = 0; i < n; i++) {
        const char *name = nahr_stage_list_at(stage, key, i);
        char path[PATH_CAP];
        senti_error err;
        if (!name || !*name)
            return nahr_stage_error(stage, key, "empty lexicon file name");
        if (nahr_stage_path(stage, name, user, path, sizeof path) != NAHR_OK)
            return nahr_stage_error(stage, key, "path too long: %s", name);
        if (senti_lexicon_load(in->lex, path, &err) != NAHR_OK)
            return nahr_stage_error(stage, key, "%s", err.msg);
    }
    return NAHR_OK;
}

static int init(const nahr_stage *stage, void **out)
{
    instance *in = calloc(1, sizeof *in);
    int rc;
    if (!in)
        return nahr_stage_error(stage, NULL, "out of memory");
    in->lex = senti_lexicon_new();
    if (!in->lex) {
        rc = nahr_stage_error(stage, NULL, "out of memory");
        goto fail;
    }
    if ((rc = load_lexicon_list(stage, in, "lexicons")) != NAHR_OK)
        goto fail;
    if ((rc = load_lexicon_list(stage, in, "extra_lexicons")) != NAHR_OK)
        goto fail;
    const char *model = nahr_stage_str(stage, "model");
    if (model && *model) {
        char path[PATH_CAP];
        senti_error err;
        if (nahr_stage_path(stage, model, nahr_stage_is_set(stage, "model"), path, sizeof path) !=
            NAHR_OK) {
            rc = nahr_stage_error(stage, "model", "path too long: %s", model);
            goto fail;
        }
        if (senti_model_load(path, &in->model, &err) != NAHR_OK) {
            rc = nahr_stage_error(stage, "model", "%s", err.msg);
            goto fail;
        }
    }
    in->cfg.lex = in->lex;
    in->cfg.model = in->model;
    in->cfg.model_weight = nahr_stage_float(stage, "model_weight");
    in->cfg.neutral_band = nahr_stage_float(stage, "neutral_band");
    in->cfg.length_damping = nahr_stage_float(stage, "length_damping");
    in->cfg.negation_window = (int)nahr_stage_int(stage, "negation_window");
    const char *sent = nahr_stage_str(stage, "sentences");
    in->sentences = !sent || !strcmp(sent, "none") ? SENT_NONE : !strcmp(sent, "all") ? SENT_ALL : SENT_POLAR;
    if (sent && strcmp(sent, "none") && strcmp(sent, "all") && strcmp(sent, "polar")) {
        rc = nahr_stage_error(stage, "sentences", "'%s' is not one of none, polar, all", sent);
        goto fail;
    }
    in->entities = nahr_stage_bool(stage, "entities");
    in->title_weight = nahr_stage_float(stage, "title_weight");
    *out = in;
    return NAHR_OK;
fail:
    destroy(in);
    return rc;
}

static int worker_init(void *inst, void **worker)
{
    (void)inst;
    senti_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NAHR_ENOMEM;
    *worker = w;
    return NAHR_OK;
}

static void worker_destroy(void *inst, void *worker)
{
    (void)inst;
    senti_worker_free(worker);
    free(worker);
}

static double round3(double x)
{
    return round(x * 1000.0) / 1000.0;
}

/* {"label": ..., "score": ...}. labels (NULL = none): the label strings
 * made so far for this document, shared (values are read-only once set). */
static nahr_value *result_value(nahr_doc *doc, nahr_value **labels, int label, double score)
{
    nahr_value *o = nahr_value_object(doc);
    nahr_value *l = labels && labels[label] ? labels[label] : nahr_value_cstr(doc, senti_label_names[label]);
    if (labels)
        labels[label] = l;
    if (!o || !l || nahr_value_put(doc, o, "label", l) != 0 ||
        nahr_value_put(doc, o, "score", nahr_value_double(doc, round3(score))) != 0)
        return NULL;
    return o;
}

/* Entity groups with the same label and written score share one value
 * (values are read-only once set): a small direct-mapped table per text. */
#define VALUE_CACHE 64
typedef struct value_cache {
    long key[VALUE_CACHE];
    nahr_value *v[VALUE_CACHE];
    nahr_value *labels[3];
} value_cache;

static nahr_value *group_value(value_cache *vc, nahr_doc *doc, int label, double score)
{
    if (!(fabs(score) <= 1)) /* senti_combine() clamps it; NaN is not shared */
        return result_value(doc, vc->labels, label, score);
    double shown = round(score * 1000.0); /* what round3() writes, times 1000 */
    /* the sign bit too: -0.0 is written "-0" */
    long key = ((long)shown * 2 + (signbit(shown) ? 1 : 0)) * 4 + label;
    size_t slot = (unsigned long)key % VALUE_CACHE;
    if (vc->v[slot] && vc->key[slot] == key)
        return vc->v[slot];
    vc->key[slot] = key;
    return vc->v[slot] = result_value(doc, vc->labels, label, score);
}

typedef struct mention {
    uint64_t key;  /* hash of the entity key */
    size_t group;  /* first span index with this key */
    size_t sent;   /* sentence index */
    size_t span;   /* span index */
    size_t next;   /* the group's next mention (index in the mention array), or NO_NEXT */
} mention;
#define NO_NEXT ((size_t)-1)

static int cmp_mention(const void *a, const void *b)
{
    const mention *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->sent != y->sent)
        return x->sent < y->sent ? -1 : 1;
    return x->span < y->span ? -1 : x->span > y->span;
}

/* Sentence containing byte offset pos (the last one starting at or before it). */
static size_t find_sentence(const senti_result *r, size_t pos)
{
    size_t lo = 0, hi = r->nsent;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->sents[mid].start <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* find_sentence() starting from hint (< r->nsent), the sentence of the
 * previous mention: mentions mostly come in text order, several to a
 * sentence, so pos is most often in that sentence or the next; else the
 * binary search. */
static size_t find_sentence_near(const senti_result *r, size_t pos, size_t hint)
{
    const senti_sentence *s = r->sents;
    size_t n = r->nsent;
    for (size_t k = hint; k < n && k < hint + 2 && s[k].start <= pos; k++)
        if (k + 1 == n || s[k + 1].start > pos)
            return k;
    return find_sentence(r, pos);
}

/* m[0..ne) in cmp_mention() order: by group, then sentence, then span.
 * The mentions come in span order, and each group's list (next, from its
 * first mention; tail = its last one) in that order too; when every list
 * is in sentence order as well (spans added in text order: the usual case)
 * the lists laid end to end, groups by first span, are that order and no
 * sort is needed. Else qsort. out: ne entries. */
static void sort_mentions(const mention *m, size_t ne, int in_order, mention *out)
{
    if (!in_order) {
        memcpy(out, m, ne * sizeof *m);
        qsort(out, ne, sizeof *out, cmp_mention);
        return;
    }
    size_t k = 0;
    for (size_t a = 0; a < ne; a++) {
        if (m[a].group != m[a].span)
            continue; /* not the first mention of its group */
        for (size_t x = a; x != NO_NEXT; x = m[x].next)
            out[k++] = m[x];
    }
}

static int entity_sentiment(const instance *in, nahr_doc *doc, const senti_result *r, nahr_ctx *ctx)
{
    size_t ns = nahr_doc_span_count(doc), ne = 0;
    if (!ns || !r->nsent)
        return NAHR_OK;
    mention *m = nahr_doc_alloc(doc, ns * sizeof *m);
    mention *sorted = nahr_doc_alloc(doc, ns * sizeof *sorted);
    size_t *tail = nahr_doc_alloc(doc, ns * sizeof *tail); /* by span index: a group's last mention */
    const char **keys = nahr_doc_alloc(doc, ns * sizeof *keys);
    size_t *klen = nahr_doc_alloc(doc, ns * sizeof *klen);
    size_t tsize = 16;
    while (tsize < ns * 2)
        tsize *= 2;
    size_t tmask = tsize - 1;
    size_t *table = nahr_doc_alloc(doc, tsize * sizeof *table);
    if (!m || !sorted || !tail || !keys || !klen || !table)
        return nahr_ctx_error(ctx, "sentiment: out of memory");
    int in_order = 1;
    memset(table, 0, tsize * sizeof *table);
    size_t tlen, sent = 0;
    const char *text = nahr_doc_text(doc, &tlen);
    const char *layer = NULL; /* the layer string last found to be "entities" (the document keeps one per name) */
    for (size_t i = 0; i < ns; i++) {
        const nahr_span *sp = nahr_doc_span(doc, i);
        if (!sp || !sp->layer || sp->end > tlen)
            continue;
        if (sp->layer != layer) {
            if (strcmp(sp->layer, "entities") != 0)
                continue;
            layer = sp->layer;
        }
        const char *k;
        size_t kl;
        if (sp->canonical && *sp->canonical) {
            k = sp->canonical;
            kl = strlen(k);
        } else {
            char *buf = nahr_doc_alloc(doc, sp->end - sp->start + 1);
            if (!buf)
                return nahr_ctx_error(ctx, "sentiment: out of memory");
            kl = nahr_ar_normalize(text + sp->start, sp->end - sp->start, buf, NULL);
            k = buf;
        }
        mention *x = &m[ne];
        x->key = nahr_hash_bytes(k, kl, kl); /* any hash: groups are decided by the keys' bytes */
        x->span = i;
        x->sent = sent = find_sentence_near(r, sp->start, sent);
        keys[i] = k;
        klen[i] = kl;
        /* group = first earlier mention with the same key (hash table in the arena) */
        x->group = i;
        x->next = NO_NEXT;
        for (size_t h = (size_t)x->key & tmask;; h = (h + 1) & tmask) {
            if (!table[h]) {
                table[h] = ne + 1;
                tail[i] = ne;
                break;
            }
            const mention *y = &m[table[h] - 1];
            if (y->key == x->key && klen[y->span] == kl && !memcmp(keys[y->span], k, kl)) {
                x->group = y->group;
                mention *last = &m[tail[y->group]];
                in_order &= last->sent <= x->sent;
                last->next = ne;
                tail[y->group] = ne;
                break;
            }
        }
        ne++;
    }
    if (!ne)
        return NAHR_OK;
    sort_mentions(m, ne, in_order, sorted);
    m = sorted;
    value_cache shared;
    memset(&shared, 0, sizeof shared);
    for (size_t a = 0; a < ne;) {
        size_t b = a;
        double pos = 0, neg = 0, mw = 0, wsum = 0;
        uint32_t nwords = 0;
        for (; b < ne && m[b].group == m[a].group; b++) {
            if (b > a && m[b].sent == m[b - 1].sent)
                continue; /* each sentence counts once */
            const senti_sentence *s = &r->sents[m[b].sent];
            pos += s->pos;
            neg += s->neg;
            nwords += s->nwords;
            if (s->nfeat) {
                double wt = s->nwords ? s->nwords : 1;
                mw += wt * s->mscore;
                wsum += wt;
            }
        }
        double score = senti_combine(&in->cfg, pos, neg, nwords, wsum > 0, wsum > 0 ? mw / wsum : 0, NULL);
        int label = senti_label_of(&in->cfg, score);
        nahr_value *v = group_value(&shared, doc, label, score); /* one value for the group */
        for (size_t k = a; k < b; k++)
            if (!v || nahr_span_set_attr(doc, m[k].span, "sentiment", v) != NAHR_OK)
                return nahr_ctx_error(ctx, "sentiment: cannot set entity attribute");
        a = b;
    }
    return NAHR_OK;
}

static int process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    instance *in = inst;
    senti_worker *w = worker;
    size_t n;
    const char *text = nahr_doc_text(doc, &n);
    senti_result r;
    if (!text)
        text = "", n = 0;
    /* the title (metadata) counts title_weight times per word */
    double tpos = 0, tneg = 0, twords = 0, tmw = 0, twsum = 0;
    const char *title = nahr_doc_get(doc, "title");
    if (in->title_weight > 0 && title && *title) {
        if (senti_analyze(&in->cfg, w, title, strlen(title), &r) != NAHR_OK)
            return nahr_ctx_error(ctx, "sentiment: out of memory analysing the title");
        tpos = in->title_weight * r.pos;
        tneg = in->title_weight * r.neg;
        twords = in->title_weight * (double)r.nwords;
        twsum = in->title_weight * r.model_wsum;
        tmw = twsum * r.model_score;
    }
    /* the document's tokens (shared with the other plugins) when the text
     * is one chunk of the analysis anyway */
    size_t ntok = 0;
    const nahr_token *toks = n <= SENTI_CHUNK ? nahr_doc_tokens(doc, 0, &ntok) : NULL;
    if (senti_analyze_tokens(&in->cfg, w, text, n, toks, ntok, &r) != NAHR_OK)
        return nahr_ctx_error(ctx, "sentiment: out of memory analysing %zu bytes", n);
    if (twords > 0 || twsum > 0) {
        double wsum = r.model_wsum + twsum;
        double ms = wsum > 0 ? (r.model_score * r.model_wsum + tmw) / wsum : 0;
        r.score = senti_combine(&in->cfg, r.pos + tpos, r.neg + tneg, (uint32_t)((double)r.nwords + twords),
                                wsum > 0, ms, NULL);
        r.label = senti_label_of(&in->cfg, r.score);
    }
    nahr_value *v = result_value(doc, NULL, r.label, r.score);
    if (!v || nahr_doc_set_field(doc, "sentiment", v) != NAHR_OK)
        return nahr_ctx_error(ctx, "sentiment: cannot set the document field");
    if (in->entities && entity_sentiment(in, doc, &r, ctx) != NAHR_OK)
        return NAHR_ERROR;
    if (in->sentences != SENT_NONE) {
        for (size_t i = 0; i < r.nsent; i++) {
            const senti_sentence *s = &r.sents[i];
            if (in->sentences == SENT_POLAR && s->label == SENTI_NEU)
                continue;
            int k = nahr_doc_add_span_in(doc, "sentences", "sentence", s->start, s->end);
            if (k < 0)
                return nahr_ctx_error(ctx, "sentiment: cannot add sentence span [%zu,%zu): %s",
                                      s->start, s->end, nahr_strerror(k));
            if (nahr_span_set_attr(doc, (size_t)k, "label",
                                   nahr_value_cstr(doc, senti_label_names[s->label])) != NAHR_OK ||
                nahr_span_set_attr(doc, (size_t)k, "score", nahr_value_double(doc, round3(s->score))) !=
                    NAHR_OK)
                return nahr_ctx_error(ctx, "sentiment: cannot set sentence attributes");
        }
    }
    return NAHR_OK;
}

static const nahr_plugin descriptor = {
    NAHR_PLUGIN_INIT,
    .name = "sentiment",
    .version = "0.1.0",
    .description = "document, sentence and per-entity sentiment (lexicon + linear n-gram model)",
    .options = options,
    .thread_model = NAHR_THREAD_SHARED,
    .flags = NAHR_PLUGIN_ADDS_SPANS,
    .init = init,
    .destroy = destroy,
    .worker_init = worker_init,
    .worker_destroy = worker_destroy,
    .process = process,
};

NAHR_PLUGIN_DEFINE(descriptor)
