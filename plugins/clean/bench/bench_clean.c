/* bench_clean.c - clean-only throughput on JSON Lines news files.
 *
 *   bench_clean [-p PHRASE_DIR] [-f nfc|nfkc|none] [-r ROUNDS] [-d DUMP] FILE.jsonl...
 *
 * Loads every article (text, title, source) into memory first, then times
 * clean_doc() alone on one thread and prints input MB/s (per core). -d writes
 * the concatenated input texts to DUMP so `uconv -x NFKC` can be timed over
 * the same bytes (bench/run.sh does both). */
#include "clean.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *text, *title, *source;
    size_t n;
} article;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: per-core speed, robust to a busy machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *dup_field(json_t *o, const char *k, size_t *n)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return NULL;
    size_t l = json_string_length(v);
    char *s = malloc(l + 1);
    memcpy(s, json_string_value(v), l);
    s[l] = '\0';
    if (n) *n = l;
    return s;
}

int main(int argc, char **argv)
{
    const char *phrase_dir = NULL, *dump = NULL, *form = "nfc";
    int rounds = 1, opt;
    while ((opt = getopt(argc, argv, "p:f:r:d:")) != -1) {
        switch (opt) {
        case 'p': phrase_dir = optarg; break;
        case 'f': form = optarg; break;
        case 'r': rounds = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 'd': dump = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-p PHRASE_DIR] [-f nfc|nfkc|none] [-r ROUNDS] [-d DUMP] FILE.jsonl...\n", argv[0]);
            return 2;
        }
    }
    char defdir[4096];
    if (!phrase_dir) {
        const char *src = getenv("NAHR_SOURCE_DIR");
        snprintf(defdir, sizeof defdir, "%s/plugins/clean/data/phrases", src ? src : ".");
        phrase_dir = defdir;
    }
    article *a = NULL;
    size_t na = 0, cap = 0, bytes = 0;
    for (int i = optind; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        char *line = NULL;
        size_t lcap = 0;
        ssize_t l;
        while ((l = getline(&line, &lcap, f)) > 0) {
            json_error_t je;
            json_t *o = json_loadb(line, (size_t)l, 0, &je);
            if (!o) continue;
            if (na == cap) {
                cap = cap ? cap * 2 : 1024;
                a = realloc(a, cap * sizeof *a);
            }
            article *x = &a[na];
            x->text = dup_field(o, "text", &x->n);
            x->title = dup_field(o, "title", NULL);
            x->source = dup_field(o, "source", NULL);
            json_decref(o);
            if (!x->text) continue;
            bytes += x->n;
            na++;
        }
        free(line);
        fclose(f);
    }
    if (!na) {
        fprintf(stderr, "no articles\n");
        return 1;
    }
    if (dump) {
        FILE *d = fopen(dump, "w");
        for (size_t i = 0; d && i < na; i++) {
            fwrite(a[i].text, 1, a[i].n, d);
            fputc('\n', d);
        }
        if (d) fclose(d);
    }
    char err[512];
    clean_config cfg;
    clean_config_defaults(&cfg);
    clean_unicode_opts uo = {.form = !strcmp(form, "none") ? 0 : !strcmp(form, "nfkc") ? 2 : 1, .remove_tatweel = true};
    cfg.uni = clean_unicode_new(&uo, err, sizeof err);
    cfg.phrases = clean_phrases_new();
    if (!cfg.uni || clean_phrases_load_dir(cfg.phrases, phrase_dir, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    clean_phrases_build(cfg.phrases);
    clean_scratch sc = {0};
    nahr_doc *d = nahr_doc_new();
    size_t ok = 0, empty = 0, out_bytes = 0;
    double best = 1e30;
    for (int r = 0; r < rounds; r++) {
        double t = 0;
        ok = empty = out_bytes = 0;
        for (size_t i = 0; i < na; i++) {
            nahr_doc_reset(d);
            nahr_doc_set_text(d, a[i].text, a[i].n);
            if (a[i].title) nahr_doc_set(d, "title", a[i].title);
            if (a[i].source) nahr_doc_set(d, "source", a[i].source);
            const char *why;
            double t0 = now();
            int rc = clean_doc(&cfg, &sc, d, &why);
            t += now() - t0;
            if (rc == CLEAN_OK) {
                ok++;
                size_t n;
                nahr_doc_text(d, &n);
                out_bytes += n;
            } else {
                empty++;
            }
        }
        if (t < best) best = t;
    }
    printf("articles %zu  input %.1f MB  kept %zu  empty %zu  output %.1f MB (%.1f%%)\n", na, bytes / 1e6, ok, empty,
           out_bytes / 1e6, 100.0 * (double)out_bytes / (double)bytes);
    printf("clean_doc: %.3f s  %.1f MB/s per core  (%.0f articles/s)  [best of %d, form %s]\n", best,
           bytes / 1e6 / best, na / best, rounds, form);
    nahr_doc_free(d);
    clean_scratch_free(&sc);
    clean_unicode_free(cfg.uni);
    clean_phrases_free(cfg.phrases);
    for (size_t i = 0; i < na; i++) {
        free(a[i].text);
        free(a[i].title);
        free(a[i].source);
    }
    free(a);
    return 0;
}
