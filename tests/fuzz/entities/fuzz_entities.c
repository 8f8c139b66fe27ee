/* fuzz_entities.c - libFuzzer harness for the entities plugin as shipped:
 * its own init() with the default options (built-in gazetteers and word
 * lists, the ANERcorp NER model), then process() on text made from the
 * input (fuzz_text_from_bytes: mostly Arabic letters, marks, digits,
 * punctuation, Latin, and whole entries of the plugin's own lists).
 * Build and run: README.md here.
 *
 * The first input byte picks the instance (with the model; with the model,
 * rules first, money_first and the veto off; rules and lists only) and
 * whether the text gets a title. Properties: process()
 * succeeds; every span is in bounds, on character boundaries, of a known
 * type, in text order and not overlapping another of its layer; the JSON
 * output parses; the same text tagged again (warm caches) gives the same
 * spans. */
#include "../fuzz_common.h"
#include "ent.h"

const nahr_plugin *nahr_plugin_descriptor(void);

static const nahr_plugin *desc;
static nahr_stage stages[3]; /* kept: an instance may point into its stage */
static void *inst[3], *wst[3];
static fuzz_words words;

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    nahr_log_set_level(NAHR_LOG_ERROR);
    char dir[4096], path[4200];
    fuzz_data_dir("plugins/entities/data", dir, sizeof dir);
    desc = nahr_plugin_descriptor();
    for (int k = 0; k < 3; k++) {
        nahr_stage *st = &stages[k];
        fuzz_stage_init(st, desc, dir);
        if (k == 1) {
            fuzz_stage_set_str(st, "model", "");
        } else { /* the model ships in ner/data, the build copies it to data/ner */
            char model[4200];
            fuzz_data_dir("plugins/entities/ner/data/anercorp.nermodel", model, sizeof model);
            fuzz_stage_set_str(st, "model", model);
        }
        if (k == 2) { /* the other settings of the model merge */
            fuzz_stage_set_str(st, "model_precedence", "rules");
            fuzz_stage_opt(st, "money_first")->b = 0;
            fuzz_stage_opt(st, "model_veto")->f = 0;
        }
        if (desc->init(st, &inst[k]) != NAHR_OK || desc->worker_init(inst[k], &wst[k]) != NAHR_OK) {
            fprintf(stderr, "fuzz_entities: init: %s (set NAHR_SOURCE_DIR to the repository)\n", st->err);
            abort();
        }
    }
    /* the words the rules and the date/number taggers key on, a third of
     * the table, then entries of the plugin's own lists */
    static const char *const cues[] = {
        "الرئيس", "وزير", "الدكتور", "السيد", "اللواء", "المتحدث", "باسم", "شركة", "وزارة", "جامعة", "حزب",
        "البنك", "المجلس", "مدينة", "محافظة", "منطقة", "العاصمة", "بلدة", "قرية", "بن", "بنت", "أبو", "عبد",
        "آل", "ابن", "و", "في", "من", "إلى", "عن", "قال", "أعلن", "يوم", "الأحد", "الجمعة", "الخميس", "عام",
        "سنة", "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
        "نوفمبر", "ديسمبر", "كانون", "الثاني", "الأول", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز",
        "آب", "أيلول", "تشرين", "محرم", "رمضان", "شوال", "ذي", "الحجة", "هـ", "م", "بالمئة", "المئة", "بالمائة",
        "%", "مليون", "مليار", "ألف", "آلاف", "دولار", "ريال", "يورو", "جنيه", "دينار", "درهم", "كيلومتر",
        "طن", "برميل", "نحو", "حوالي", "أكثر", "مصري", "سعودي", "أمريكي", "الأمم", "المتحدة", "الأمريكية"};
    for (int r = 0; r < 16; r++)
        for (size_t i = 0; i < sizeof cues / sizeof *cues; i++) {
            words.w = realloc(words.w, (words.n + 1) * sizeof *words.w);
            if (!words.w)
                abort();
            words.w[words.n++] = (char *)cues[i];
        }
    static const char *const lists[] = {"loc.txt", "per.txt", "org.txt", "misc.txt", "first_names.txt",
                                        "last_names.txt", "common_words.txt"};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, lists[i]);
        fuzz_words_load(&words, path, 400);
    }
}

typedef struct span_copy {
    size_t start, end;
    char type[16];
} span_copy;

static nahr_doc *tag(int k, const char *text, size_t n, bool title)
{
    nahr_doc *d = nahr_doc_new();
    struct nahr_ctx ctx = {0};
    FUZZ_CHECK(nahr_doc_set_text(d, text, n) == NAHR_OK, "set_text");
    if (title)
        nahr_doc_set(d, "title", "عنوان الخبر");
    int rc = desc->process(inst[k], wst[k], d, &ctx);
    FUZZ_CHECK(rc == NAHR_OK, "process returned %d: %s", rc, ctx.msg);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size == 0)
        return 0;
    int k = (data[0] & 1) ? 1 : (data[0] & 4) ? 2 : 0;
    bool title = data[0] & 2;
    nahr_buf text = {0};
    fuzz_text_from_bytes(data + 1, size - 1, &words, &text);
    if (!text.data)
        return 0;
    FUZZ_CHECK(nahr_utf8_check(text.data, text.len) == text.len, "mapped text not valid UTF-8");

    nahr_doc *d = tag(k, text.data, text.len, title);
    fuzz_check_spans(d);
    size_t ns = nahr_doc_span_count(d);
    span_copy *first = calloc(ns + 1, sizeof *first);
    if (!first)
        abort();
    size_t prev_end = 0;
    for (size_t i = 0; i < ns; i++) {
        const nahr_span *s = nahr_doc_span(d, i);
        FUZZ_CHECK(ent_type_from_name(s->type, strlen(s->type)) != ENT_NONE, "span %zu type %s", i, s->type);
        FUZZ_CHECK(s->start < s->end, "empty entity %zu at %zu", i, s->start);
        FUZZ_CHECK(i == 0 || s->start >= prev_end, "entity %zu [%zu,%zu) overlaps the previous (end %zu)", i,
                   s->start, s->end, prev_end);
        prev_end = s->end;
        first[i].start = s->start;
        first[i].end = s->end;
        snprintf(first[i].type, sizeof first[i].type, "%s", s->type);
    }
    fuzz_check_json(d);
    nahr_doc_free(d);

    d = tag(k, text.data, text.len, title);
    FUZZ_CHECK(nahr_doc_span_count(d) == ns, "tagged again: %zu spans, first time %zu", nahr_doc_span_count(d), ns);
    for (size_t i = 0; i < ns; i++) {
        const nahr_span *s = nahr_doc_span(d, i);
        FUZZ_CHECK(s->start == first[i].start && s->end == first[i].end && strcmp(s->type, first[i].type) == 0,
                   "tagged again: span %zu differs", i);
    }
    nahr_doc_free(d);
    free(first);
    nahr_buf_free(&text);
    return 0;
}
