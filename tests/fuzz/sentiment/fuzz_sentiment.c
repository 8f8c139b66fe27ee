/* fuzz_sentiment.c - libFuzzer harness for the sentiment plugin as shipped:
 * its own init() with its lexicons and n-gram model, then process() on text
 * made from the input (fuzz_text_from_bytes: mostly Arabic, with whole terms
 * of the plugin's lexicons), with a title and with entity spans on some
 * words (some after a proclitic, some empty) so the per-entity path runs. Build and run: README.md here.
 *
 * The first input byte picks the instance (lexicons + model with every
 * sentence span, or lexicons only with polar sentences), the title and
 * which words become entities. Properties: process() succeeds; the
 * document field "sentiment" has a known label and a score in [-1, 1];
 * sentence spans are in bounds, in order, not overlapping, with a label and
 * a score in [-1, 1]; every entity span gets a "sentiment" attribute; the
 * JSON output parses; the same input again gives the same output. */
#include "../fuzz_common.h"

#include <math.h>

const nahr_plugin *nahr_plugin_descriptor(void);

static const nahr_plugin *desc;
static nahr_stage stages[2]; /* kept: an instance may point into its stage */
static void *inst[2], *wst[2];
static fuzz_words words;

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    nahr_log_set_level(NAHR_LOG_ERROR);
    char dir[4096], path[4200];
    fuzz_data_dir("plugins/sentiment/data", dir, sizeof dir);
    desc = nahr_plugin_descriptor();
    for (int k = 0; k < 2; k++) {
        nahr_stage *st = &stages[k];
        fuzz_stage_init(st, desc, dir);
        fuzz_stage_set_str(st, "sentences", k ? "polar" : "all");
        if (k == 1)
            fuzz_stage_set_str(st, "model", "");
        if (desc->init(st, &inst[k]) != NAHR_OK || desc->worker_init(inst[k], &wst[k]) != NAHR_OK) {
            fprintf(stderr, "fuzz_sentiment: init: %s (set NAHR_SOURCE_DIR to the repository)\n", st->err);
            abort();
        }
    }
    static const char *const lists[] = {"nileulex.tsv", "news_cues.tsv", "modifiers.tsv"};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, lists[i]);
        fuzz_words_load(&words, path, 2500);
    }
}

static void check_result(const nahr_value *v, const char *what)
{
    FUZZ_CHECK(nahr_value_kind(v) == NAHR_V_OBJECT, "%s: not an object", what);
    const char *label = nahr_value_as_string(nahr_value_get(v, "label"), NULL);
    FUZZ_CHECK(label && (!strcmp(label, "negative") || !strcmp(label, "neutral") || !strcmp(label, "positive")),
               "%s: label %s", what, label ? label : "(none)");
    double score = nahr_value_as_double(nahr_value_get(v, "score"));
    FUZZ_CHECK(fabs(score) <= 1, "%s: score %g", what, score);
}

static void run(int k, unsigned sel, const nahr_buf *text, nahr_buf *json)
{
    nahr_doc *d = nahr_doc_new();
    struct nahr_ctx ctx = {0};
    FUZZ_CHECK(nahr_doc_set_text(d, text->data, text->len) == NAHR_OK, "set_text");
    if (sel & 2) { /* the title: the text's first line, cut to 200 bytes on a character boundary */
        size_t n = strcspn(text->data, "\n");
        if (n > 200)
            n = 200;
        while (n && ((unsigned char)text->data[n] & 0xC0) == 0x80)
            n--;
        char *t = nahr_doc_strndup(d, text->data, n);
        FUZZ_CHECK(t && nahr_doc_set(d, "title", t) == NAHR_OK, "set title");
    }
    size_t ntok;
    const nahr_token *toks = nahr_doc_tokens(d, 0, &ntok);
    FUZZ_CHECK(toks != NULL, "tokens");
    size_t step = 2 + (sel >> 2) % 6, nent = 0;
    for (size_t i = 0; i < ntok; i += step) /* some words (and runs of two) become entities */
        if (toks[i].kind == NAHR_TOK_WORD) {
            size_t start = toks[i].start, end = toks[i].end, m = i / step;
            if (i + 1 < ntok && toks[i + 1].kind == NAHR_TOK_WORD && (i & 1))
                end = toks[i + 1].end;
            if (m % 5 == 4) { /* after a proclitic, as the entities plugin reports */
                size_t sp[4];
                size_t ns = nahr_ar_proclitic_splits(text->data + start, toks[i].end - start, sp, 4);
                start += sp[ns - 1];
            }
            if (m % 11 == 10) /* an empty span, which the document model allows */
                end = start;
            int s = nahr_doc_add_span(d, m % 3 ? "PER" : "LOC", start, end);
            FUZZ_CHECK(s >= 0, "add entity span");
            if (i % 4 == 0)
                nahr_span_set_canonical(d, (size_t)s, "كيان");
            nent++;
        }
    int rc = desc->process(inst[k], wst[k], d, &ctx);
    FUZZ_CHECK(rc == NAHR_OK, "process returned %d: %s", rc, ctx.msg);
    check_result(nahr_doc_field(d, "sentiment"), "document");
    fuzz_check_spans(d);
    size_t prev_end = 0, nsent = 0, nseen = 0;
    for (size_t i = 0; i < nahr_doc_span_count(d); i++) {
        const nahr_span *s = nahr_doc_span(d, i);
        if (!strcmp(s->layer, "entities")) {
            check_result(nahr_value_get(s->attrs, "sentiment"), "entity");
            nseen++;
            continue;
        }
        FUZZ_CHECK(!strcmp(s->layer, "sentences"), "span in layer %s", s->layer);
        FUZZ_CHECK(s->start < s->end && (nsent == 0 || s->start >= prev_end), "sentence %zu [%zu,%zu) after end %zu",
                   nsent, s->start, s->end, prev_end);
        check_result(s->attrs, "sentence");
        prev_end = s->end;
        nsent++;
    }
    FUZZ_CHECK(nseen == nent, "%zu entity spans before, %zu after", nent, nseen);
    fuzz_check_json(d);
    FUZZ_CHECK(nahr_doc_write_json(d, json) == NAHR_OK, "write_json");
    nahr_doc_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    int k = sel & 1;
    nahr_buf text = {0}, j1 = {0}, j2 = {0};
    fuzz_text_from_bytes(data + 1, size - 1, &words, &text);
    if (!text.data)
        return 0;
    run(k, sel, &text, &j1);
    run(k, sel, &text, &j2);
    FUZZ_CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0, "the same input twice differs");
    nahr_buf_free(&j1);
    nahr_buf_free(&j2);
    nahr_buf_free(&text);
    return 0;
}
