/* fuzz_common.h - shared by the libFuzzer harnesses under tests/fuzz/ (not
 * the clean one, which predates it):
 *  - FUZZ_CHECK: a property that does not hold aborts with a message (the
 *    fuzzer then keeps the input);
 *  - fuzz_stage_*: a configured stage built from a plugin's option table
 *    (defaults, plus overrides), so a harness calls the plugin's own init()
 *    and process() as the runner does;
 *  - fuzz_text_from_bytes: arbitrary bytes mapped to valid UTF-8 text that
 *    is mostly Arabic (letters, marks, digits, punctuation, whole words of a
 *    plugin's own lists), so the fuzzer reaches the taggers' deep paths;
 *  - the replay driver: built without NAHR_LIBFUZZER (gcc, ctest), main()
 *    runs LLVMFuzzerTestOneInput on every file named on the command line or
 *    found in a directory named there (the seed corpus and regressions/).
 * Test code: it includes the core's internal headers. */
#ifndef NAHR_FUZZ_COMMON_H
#define NAHR_FUZZ_COMMON_H

#include "runner.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* struct nahr_ctx (the runner's per-call context) comes from runner.h. */

/* A stage of plugin desc with every option at its default; data_dir is the
 * plugin's data folder (nahr_stage_path resolves defaults against it). */
/* A reader sink that keeps every submitted document in order (seq = its
 * index) and counts the documents taken and given back, for the harnesses
 * that drive the stream readers; the caller frees docs[] and the array. */
typedef struct collect {
    nahr_doc **docs;
    size_t n, acquired, released;
} collect;

static inline nahr_doc *c_acquire(void *ctx)
{
    ((collect *)ctx)->acquired++;
    return nahr_doc_new();
}

static inline void c_submit(void *ctx, nahr_doc *d)
{
    collect *c = ctx;
    c->docs = realloc(c->docs, (c->n + 1) * sizeof *c->docs);
    if (!c->docs)
        abort();
    d->seq = c->n;
    c->docs[c->n++] = d;
}

static inline void c_release(void *ctx, nahr_doc *d)
{
    ((collect *)ctx)->released++;
    nahr_doc_free(d);
}

/* The fuzzer's input read a byte at a time (0 once it is used up), for
 * harnesses that build structured input (documents, article sequences). */
typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static inline unsigned take8(rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static inline void fuzz_stage_init(nahr_stage *st, const nahr_plugin *desc, const char *data_dir)
{
    memset(st, 0, sizeof *st);
    st->index = 1;
    st->plugin = st->label = (char *)desc->name;
    st->desc = desc;
    st->data_dir = strdup(data_dir);
    st->cfg_file = "fuzz.cfg";
    st->cfg_dir = st->data_dir;
    st->workers = 1;
    size_t n = 0;
    while (desc->options && desc->options[n].name)
        n++;
    st->opts = calloc(n ? n : 1, sizeof *st->opts);
    if (!st->data_dir || !st->opts)
        abort();
    st->nopts = n;
    for (size_t i = 0; i < n; i++) {
        opt_value *v = &st->opts[i];
        const char *d = desc->options[i].default_value;
        v->opt = &desc->options[i];
        switch (v->opt->type) {
        case NAHR_OPT_STRING: v->str = d ? strdup(d) : NULL; break;
        case NAHR_OPT_INT: v->i = d ? strtoll(d, NULL, 0) : 0; break;
        case NAHR_OPT_FLOAT: v->f = d ? strtod(d, NULL) : 0; break;
        case NAHR_OPT_BOOL: v->b = d && (strcmp(d, "true") == 0 || strcmp(d, "1") == 0); break;
        case NAHR_OPT_LIST:
            for (const char *s = d; s && *s;) {
                const char *e = strchr(s, ',');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                v->list = realloc(v->list, (v->nlist + 1) * sizeof *v->list);
                if (!v->list || !(v->list[v->nlist++] = strndup(s, len)))
                    abort();
                s = e ? e + 1 : NULL;
            }
            break;
        }
    }
}

static inline opt_value *fuzz_stage_opt(nahr_stage *st, const char *key)
{
    for (size_t i = 0; i < st->nopts; i++)
        if (strcmp(st->opts[i].opt->name, key) == 0)
            return &st->opts[i];
    fprintf(stderr, "fuzz: no option '%s' in plugin %s\n", key, st->desc->name);
    abort();
}

static inline void fuzz_stage_set_str(nahr_stage *st, const char *key, const char *value)
{
    opt_value *v = fuzz_stage_opt(st, key);
    free(v->str);
    v->str = strdup(value);
    v->set = true;
}

/* The plugin's data folder: NAHR_SOURCE_DIR/rel (the replay ctest sets
 * NAHR_SOURCE_DIR; by hand, run from the repository root). */
static inline const char *fuzz_data_dir(const char *rel, char *buf, size_t n)
{
    const char *src = getenv("NAHR_SOURCE_DIR");
    snprintf(buf, n, "%s/%s", src && *src ? src : ".", rel);
    return buf;
}

/* ---- input mapping: bytes -> mostly-Arabic valid UTF-8 ---- */

typedef struct fuzz_words {
    char **w;
    size_t n;
} fuzz_words;

/* Adds the first column (up to a tab) of each line of path, at most max
 * lines; a missing file adds nothing. */
static inline void fuzz_words_load(fuzz_words *fw, const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t got = 0;
    if (!f)
        return;
    while (got < max && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\t\r\n");
        if (!len || line[0] == '#')
            continue;
        fw->w = realloc(fw->w, (fw->n + 1) * sizeof *fw->w);
        if (!fw->w || !(fw->w[fw->n] = strndup(line, len)))
            abort();
        fw->n++;
        got++;
    }
    fclose(f);
}

static inline void fuzz_put_cp(nahr_buf *b, uint32_t cp)
{
    char u[4];
    size_t k = nahr_utf8_put(cp, u);
    if (nahr_buf_append(b, u, k) < 0)
        abort();
}

/* One code point or word per input byte:
 *   00-7F  an Arabic letter (U+0621..U+063A, U+0641..U+064A; the bulk)
 *   80-8B  space   8C-8F  newline   90  blank line
 *   91-9A  ASCII digit   9B-A4  Arabic-Indic digit
 *   A5-B6  punctuation (. ، ؛ ؟ ! : ( ) " « » - / % $ , ٫ ٬)
 *   B7-C6  marks: tashkeel U+064B..U+0652, U+0670, tatweel, U+0653..U+0655
 *   C7-DA  Latin letters   DB-DF  U+00A0, ZWNJ, RLM, U+FFFD, an emoji
 *   E0-FF  a whole word of fw (next byte picks it too), then a space */
static inline void fuzz_text_from_bytes(const uint8_t *p, size_t n, const fuzz_words *fw, nahr_buf *out)
{
    static const uint16_t punct[] = {'.', 0x060C, 0x061B, 0x061F, '!', ':', '(', ')', '"',
                                     0x00AB, 0x00BB, '-', '/', '%', '$', ',', 0x066B, 0x066C};
    static const uint32_t odd[] = {0x00A0, 0x200C, 0x200F, 0xFFFD, 0x1F600};
    for (size_t i = 0; i < n; i++) {
        unsigned b = p[i];
        if (b < 0x80) {
            unsigned k = b % 36;
            fuzz_put_cp(out, k < 26 ? 0x0621 + k : 0x0641 + (k - 26));
        } else if (b < 0x8C) {
            fuzz_put_cp(out, ' ');
        } else if (b < 0x90) {
            fuzz_put_cp(out, '\n');
        } else if (b == 0x90) {
            nahr_buf_append(out, "\n\n", 2);
        } else if (b < 0x9B) {
            fuzz_put_cp(out, '0' + (b - 0x91));
        } else if (b < 0xA5) {
            fuzz_put_cp(out, 0x0660 + (b - 0x9B));
        } else if (b < 0xB7) {
            fuzz_put_cp(out, punct[b - 0xA5]);
        } else if (b < 0xC7) {
            unsigned k = b - 0xB7;
            fuzz_put_cp(out, k < 8 ? 0x064B + k : k == 8 ? 0x0670 : k == 9 ? 0x0640 : 0x0653 + (k - 10) % 3);
        } else if (b < 0xDB) {
            unsigned k = b - 0xC7;
            fuzz_put_cp(out, k < 14 ? 'a' + k : 'A' + (k - 14));
        } else if (b < 0xE0) {
            fuzz_put_cp(out, odd[b - 0xDB]);
        } else if (fw && fw->n) {
            size_t k = (size_t)(b - 0xE0) * 256 + (i + 1 < n ? p[++i] : 0);
            const char *w = fw->w[k % fw->n];
            if (nahr_buf_append(out, w, strlen(w)) < 0 || nahr_buf_putc(out, ' ') < 0)
                abort();
        }
    }
}

/* Spans of one layer in text order: each in bounds, on character
 * boundaries, start <= end, and starts non-decreasing. */
static inline void fuzz_check_spans(nahr_doc *d)
{
    size_t n;
    const char *t = nahr_doc_text(d, &n);
    size_t ns = nahr_doc_span_count(d);
    for (size_t i = 0; i < ns; i++) {
        const nahr_span *s = nahr_doc_span(d, i);
        FUZZ_CHECK(s->start <= s->end && s->end <= n, "span %zu [%zu,%zu) of a %zu-byte text", i, s->start,
                   s->end, n);
        FUZZ_CHECK(s->start == n || ((unsigned char)t[s->start] & 0xC0) != 0x80, "span %zu starts mid-character",
                   i);
        FUZZ_CHECK(s->end == n || ((unsigned char)t[s->end] & 0xC0) != 0x80, "span %zu ends mid-character", i);
        FUZZ_CHECK(s->type && s->layer, "span %zu without type or layer", i);
        FUZZ_CHECK(!(s->score > 1), "span %zu score %g", i, s->score);
        for (size_t j = i; j-- > 0;) {
            const nahr_span *p = nahr_doc_span(d, j);
            if (strcmp(p->layer, s->layer) != 0)
                continue;
            FUZZ_CHECK(p->start <= s->start, "layer %s: span %zu [%zu,%zu) before span %zu [%zu,%zu)", s->layer,
                       i, s->start, s->end, j, p->start, p->end);
            break;
        }
    }
}

/* The article as JSON must be valid UTF-8 and parse back. */
static inline void fuzz_check_json(nahr_doc *d)
{
    nahr_buf js = {0};
    FUZZ_CHECK(nahr_doc_write_json(d, &js) == NAHR_OK, "write_json failed");
    FUZZ_CHECK(nahr_utf8_check(js.data, js.len) == js.len, "output JSON not valid UTF-8");
    nahr_doc *back = nahr_doc_new();
    char err[200];
    FUZZ_CHECK(nahr__parse_json(back, js.data, js.len, err, sizeof err) != NULL, "output JSON does not parse: %s",
               err);
    nahr_doc_free(back);
    nahr_buf_free(&js);
}

#ifndef NAHR_LIBFUZZER
/* Replay driver: every file given, or in a directory given (one level). */
static int fuzz_replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    nahr_buf b = {0};
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (nahr_buf_append(&b, chunk, r) < 0)
            abort();
    fclose(f);
    /* a copy of exactly the input's size, so ASan sees a read past it */
    uint8_t *data = malloc(b.len ? b.len : 1);
    if (!data)
        abort();
    if (b.len)
        memcpy(data, b.data, b.len);
    LLVMFuzzerTestOneInput(data, b.len);
    free(data);
    nahr_buf_free(&b);
    return 0;
}

static int fuzz_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    size_t ran = 0;
    int bad = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "%s: not found\n", argv[a]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            bad |= fuzz_replay_file(argv[a]);
            ran++;
            continue;
        }
        DIR *dir = opendir(argv[a]);
        struct dirent *e;
        char **names = NULL;
        size_t nn = 0;
        while (dir && (e = readdir(dir))) {
            if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
                continue;
            names = realloc(names, (nn + 1) * sizeof *names);
            if (!names || !(names[nn++] = strdup(e->d_name)))
                abort();
        }
        if (dir)
            closedir(dir);
        if (nn)
            qsort(names, nn, sizeof *names, fuzz_name_cmp);
        for (size_t i = 0; i < nn; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], names[i]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                bad |= fuzz_replay_file(path);
                ran++;
            }
            free(names[i]);
        }
        free(names);
    }
    printf("replayed %zu input(s)\n", ran);
    return bad || ran == 0;
}
#endif
#endif
