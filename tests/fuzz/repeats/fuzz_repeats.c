/* fuzz_repeats.c - libFuzzer harness for the clean_repeats plugin
 * (plugins/clean/repeats_plugin.c) over a sequence of articles, against a
 * plain model of what it promises. Build and run: README.md here.
 *
 * The input sets the options (min_articles 2-5, min_line_bytes 1-8,
 * max_line_bytes 8-71, per_source, keep_removed; a table of 16384 entries,
 * where at most 288 lines never fill a probe window, so no entry is
 * evicted) and then 1-24 articles, each with a
 * source (one of three, or none) and lines: mostly lines of a small
 * vocabulary that normalise alike in different spellings (tashkeel,
 * tatweel, punctuation, case, spaces), plus raw bytes made valid UTF-8, an
 * HTML page now and then, a final newline or not, CRLF. Properties, per
 * article:
 *  - the plugin returns OK and the text stays valid UTF-8;
 *  - the text is exactly what the model gives: counting, per source (or
 *    over the stream), the articles holding each normalised line
 *    (clean_match_norm) of min..max bytes (a line repeated in one article
 *    counts once), every line whose count has reached min_articles is
 *    dropped with its newline, unless nothing but blanks would be left
 *    (then the article is kept whole); HTML and source-less articles
 *    (per_source) untouched and uncounted;
 *  - with keep_removed, the field "removed" lists exactly the lines dropped
 *    (reason "repeat"), and is absent when none were. */
#include "../fuzz_common.h"
#include "clean.h"

const nahr_plugin *repeats_test_descriptor(void);


/* Lines that normalise alike in pairs/triples, and a few that do not. */
static const char *const vocab[] = {
    "تابعونا على تويتر",
    "تَابِعُونَا عَلَى تويتر",
    "تابعونا  على تويتر!",
    "تـابعونا على تويـتر",
    "Follow us on Twitter",
    "follow us, on TWITTER.",
    "جميع الحقوق محفوظة © 2024",
    "جميع الحقوق محفوظة 2024",
    "اقرأ أيضا:",
    "اقرأ ايضا",
    "ab",
    "abc",
    "   ",
    "",
    "قال الوزير إن المفاوضات ستستأنف الأسبوع المقبل في العاصمة",
    "x\r",
    "x",
    "- - -",
    "٢٠٢٤",
    "2024",
};
#define NVOCAB (sizeof vocab / sizeof *vocab)

/* ---- the model ---- */
typedef struct mkey {
    char *key; /* source '\1' normalised line */
    unsigned count;
    unsigned last;
} mkey;

typedef struct model {
    mkey *k;
    size_t n;
    unsigned articles;
} model;

static mkey *model_get(model *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->k[i].key, key) == 0)
            return &m->k[i];
    m->k = realloc(m->k, (m->n + 1) * sizeof *m->k);
    if (!m->k)
        abort();
    m->k[m->n] = (mkey){strdup(key), 0, 0};
    return &m->k[m->n++];
}

typedef struct opts {
    unsigned min_articles;
    size_t min_line, max_line;
    bool per_source, keep_removed;
} opts;

/* Expected text of the article (out), and the lines dropped (dropped,
 * each followed by '\0'; ndropped). */
static void model_run(model *m, const opts *o, const char *text, size_t n, const char *src, nahr_buf *out,
                      nahr_buf *dropped, size_t *ndropped)
{
    nahr_buf_reset(out);
    nahr_buf_reset(dropped);
    *ndropped = 0;
    nahr_buf_append(out, text, n);
    if (n == 0 || clean_html_sniff(text, n))
        return;
    if (o->per_source && (!src || !*src))
        return;
    unsigned art = ++m->articles;
    nahr_buf res = {0}, drop = {0};
    size_t nd = 0;
    char *norm = malloc(o->max_line + 1);
    for (size_t i = 0; i < n;) {
        const char *e = memchr(text + i, '\n', n - i);
        size_t le = e ? (size_t)(e - text) : n, len = le - i, next = e ? le + 1 : n;
        bool gone = false;
        if (len >= o->min_line && len <= o->max_line) {
            size_t k = clean_match_norm(text + i, len, norm);
            if (k >= o->min_line) {
                nahr_buf key = {0};
                nahr_buf_printf(&key, "%s\1%.*s", o->per_source ? src : "", (int)k, norm);
                mkey *mk = model_get(m, key.data);
                if (mk->last != art) {
                    mk->count++;
                    mk->last = art;
                }
                gone = mk->count >= o->min_articles;
                nahr_buf_free(&key);
            }
        }
        if (gone) {
            nahr_buf_append(&drop, text + i, len);
            nahr_buf_putc(&drop, '\0');
            nd++;
        } else {
            nahr_buf_append(&res, text + i, next - i);
        }
        i = next;
        if (!e)
            break;
    }
    free(norm);
    bool left = false;
    for (size_t i = 0; i < res.len && !left; i++)
        left = res.data[i] != ' ' && res.data[i] != '\n' && res.data[i] != '\t' && res.data[i] != '\r';
    if (nd && left) {
        nahr_buf_reset(out);
        nahr_buf_append(out, res.data ? res.data : "", res.len);
        nahr_buf_append(dropped, drop.data, drop.len);
        *ndropped = nd;
    }
    nahr_buf_free(&res);
    nahr_buf_free(&drop);
}

/* ---- the run ---- */
static nahr_stage st;
static const nahr_plugin *desc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!desc) {
        desc = repeats_test_descriptor();
        char dir[1024];
        fuzz_stage_init(&st, desc, fuzz_data_dir("plugins/clean/data", dir, sizeof dir));
    }
    rd r = {data, size};
    unsigned b0 = take8(&r), b1 = take8(&r);
    opts o = {2 + b0 % 4, 1 + (b0 >> 2) % 8, 8 + b1 % 64, !((b0 >> 5) & 1), (b0 >> 6) & 1};
    fuzz_stage_opt(&st, "min_articles")->i = o.min_articles;
    fuzz_stage_opt(&st, "min_line_bytes")->i = (int64_t)o.min_line;
    fuzz_stage_opt(&st, "max_line_bytes")->i = (int64_t)o.max_line;
    fuzz_stage_opt(&st, "per_source")->b = o.per_source;
    fuzz_stage_opt(&st, "keep_removed")->b = o.keep_removed;
    fuzz_stage_opt(&st, "table_size")->i = 16384; /* <= 288 lines: no window of 8 fills up */
    void *inst = NULL;
    FUZZ_CHECK(desc->init(&st, &inst) == NAHR_OK, "init: %s", st.err);

    model m = {0};
    nahr_buf text = {0}, want = {0}, dropped = {0};
    static const char *const sources[] = {"a", "b", "مصدر"};
    for (unsigned a = 0; a < 24 && r.n; a++) {
        unsigned h = take8(&r);
        const char *src = (h & 3) == 3 ? NULL : sources[h & 3];
        nahr_buf_reset(&text);
        if (h & 4)
            nahr_buf_puts(&text, "<html><body><p>x</p>\n");
        unsigned nl = take8(&r) % 12;
        for (unsigned i = 0; i < nl; i++) {
            unsigned b = take8(&r);
            if (b < 0xE0) {
                nahr_buf_puts(&text, vocab[b % NVOCAB]);
            } else {
                size_t len = (b & 0x1F) < r.n ? (b & 0x1F) : r.n;
                size_t bad;
                if (nahr_utf8_repair((const char *)r.p, len, &text, &bad) < 0)
                    abort();
                r.p += len;
                r.n -= len;
            }
            if (i + 1 < nl || (h & 8))
                nahr_buf_puts(&text, h & 16 ? "\r\n" : "\n");
        }
        nahr_doc *d = nahr_doc_new();
        FUZZ_CHECK(nahr_doc_set_text(d, text.data ? text.data : "", text.len) == NAHR_OK, "set_text");
        if (src)
            nahr_doc_set(d, "source", src);
        size_t nd;
        model_run(&m, &o, text.data ? text.data : "", text.len, src, &want, &dropped, &nd);

        if (getenv("FUZZ_REPEATS_VERBOSE")) /* for a look by hand at what an input does */
            fprintf(stderr, "article %u (%s): %zu line(s) dropped\n", a, src ? src : "no source", nd);
        nahr_ctx ctx = {0};
        FUZZ_CHECK(desc->process(inst, NULL, d, &ctx) == NAHR_OK, "process failed");
        size_t tl;
        const char *got = nahr_doc_text(d, &tl);
        FUZZ_CHECK(nahr_utf8_check(got, tl) == tl, "text not valid UTF-8");
        FUZZ_CHECK(tl == want.len && memcmp(got, want.data, tl) == 0,
                   "article %u: text differs from the model:\n--- input\n%.*s\n--- got\n%.*s\n--- want\n%.*s", a,
                   (int)text.len, text.data, (int)tl, got, (int)want.len, want.data);
        const nahr_value *rem = nahr_doc_field(d, "removed");
        if (!o.keep_removed || !nd) {
            FUZZ_CHECK(rem == NULL, "article %u: 'removed' field without removed lines", a);
        } else {
            FUZZ_CHECK(rem && nahr_value_kind(rem) == NAHR_V_ARRAY && nahr_value_len(rem) == nd,
                       "article %u: 'removed' does not list the %zu dropped lines", a, nd);
            const char *p = dropped.data;
            for (size_t i = 0; i < nd; i++) {
                const nahr_value *e = nahr_value_at(rem, i);
                size_t ll;
                const char *line = nahr_value_as_string(nahr_value_get(e, "line"), &ll);
                const char *why = nahr_value_as_string(nahr_value_get(e, "reason"), NULL);
                FUZZ_CHECK(line && ll == strlen(p) && memcmp(line, p, ll) == 0, "removed line %zu differs", i);
                FUZZ_CHECK(why && strcmp(why, "repeat") == 0, "removed line %zu: reason %s", i, why ? why : "-");
                p += strlen(p) + 1;
            }
        }
        nahr_doc_free(d);
    }
    desc->destroy(inst);
    for (size_t i = 0; i < m.n; i++)
        free(m.k[i].key);
    free(m.k);
    nahr_buf_free(&text);
    nahr_buf_free(&want);
    nahr_buf_free(&dropped);
    return 0;
}
