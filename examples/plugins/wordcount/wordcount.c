/* wordcount - a complete nahr plugin built out of tree:
 *
 *   cc -shared -fPIC -o wordcount.so wordcount.c $(pkg-config --cflags --libs nahr)
 *
 * Adds a document-level field "wordcount": {"words": N, "long_words": M},
 * where long words have at least `min_letters` letters. Every exporter
 * writes the field without knowing this plugin. */
#include <nahr/nahr.h>

#include <stdlib.h>

static const nahr_option wc_options[] = {
    {"min_letters", NAHR_OPT_INT, "6", "letters a word needs to count as long", "1:100"},
    NAHR_OPTIONS_END,
};

typedef struct wc {
    int64_t min_letters; /* read-only after init: shared by all workers */
} wc;

static int wc_init(const nahr_stage *st, void **out)
{
    wc *w = malloc(sizeof *w);
    if (!w)
        return NAHR_ENOMEM;
    w->min_letters = nahr_stage_int(st, "min_letters");
    *out = w;
    return NAHR_OK;
}

static void wc_destroy(void *inst) { free(inst); }

static int wc_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    (void)worker;
    const wc *w = inst;
    size_t n;
    const char *text = nahr_doc_text(doc, &n);
    int64_t words = 0, long_words = 0, letters = 0;
    for (size_t i = 0; i <= n;) {
        int32_t cp = i < n ? nahr_utf8_next(text, n, &i) : (i++, -1); /* -1 ends the last word */
        if (cp > 0 && (nahr_ar_is_letter(cp) || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))) {
            letters++;
        } else if (letters) {
            words++;
            long_words += letters >= w->min_letters;
            letters = 0;
        }
    }
    nahr_value *o = nahr_value_object(doc);
    if (!o || nahr_value_put(doc, o, "words", nahr_value_int(doc, words)) < 0 ||
        nahr_value_put(doc, o, "long_words", nahr_value_int(doc, long_words)) < 0 ||
        nahr_doc_set_field(doc, "wordcount", o) < 0)
        return nahr_ctx_error(ctx, "out of memory");
    return NAHR_OK;
}

static const nahr_plugin wc_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "wordcount",
    .version = "1.0.0",
    .description = "count words and long words (example plugin)",
    .options = wc_options,
    .thread_model = NAHR_THREAD_SHARED,
    .init = wc_init,
    .destroy = wc_destroy,
    .process = wc_process,
};

NAHR_PLUGIN_DEFINE(wc_plugin)
