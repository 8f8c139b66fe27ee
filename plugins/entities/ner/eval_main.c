/* nahr-eval-ner - entity-level evaluation (CoNLL chunking, exact span and
 * type) of the NER model on a CoNLL file, or of an already tagged file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ner_cache.h"
#include "ner_internal.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nahr-eval-ner --model MODEL --test FILE [--output FILE]\n"
            "       nahr-eval-ner --tagged FILE\n"
            "       nahr-eval-ner --model MODEL --speed FILE.jsonl...\n"
            "  --model MODEL   model written by nahr-train-ner\n"
            "  --test FILE     CoNLL file with gold tags (token<TAB>tag)\n"
            "  --output FILE   also write 'token gold predicted' lines (- = stdout)\n"
            "  --history N     a model with prediction history: the file is cut into pseudo-articles\n"
            "                  of N sentences (default: the length stored in the model; 0 = no\n"
            "                  history, as when every sentence is tagged on its own)\n"
            "  --one-pass      a two-sided model (nahr-train-ner --doc2): the first pass only\n"
            "  --tagged FILE   score a file whose last two columns are gold and predicted tags\n"
            "  --unknown-tags o|error  tags of other entity types (B-DATE, B-NORP...): read them as\n"
            "                  O, or refuse the file (default). Known: PER/PERS/PERSON, LOC/LOCATION/\n"
            "                  GPE, ORG/ORGANIZATION, MISC, any case; B-/I- (IOB2), S-/E- (IOBES),\n"
            "                  U-/L- (BILOU)\n"
            "  --speed         tag the \"text\" of JSON Lines files (tokenised by nahr_tokenize, one\n"
            "                  call per article, one thread) and print bytes/s and tokens/s\n"
            "Prints precision, recall and F1 per type and micro-averaged, conlleval rules.\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Tags every article of JSON Lines files the way the entities plugin does
 * (one call per article, a per-thread token cache); prints the speed (per
 * CPU second of this thread, so that other load on the machine does not
 * count, and per wall-clock second). */
static int speed(const ner_model *m, char **files, int nfiles)
{
    ner_cache *cache = ner_cache_new(); /* NULL: tagging without a cache */
    nahr_token *toks = NULL;
    uint8_t *tags = NULL;
    void *scratch = NULL;
    size_t cap = 0, bytes = 0, ntoks = 0, articles = 0;
    double t_tok = 0, t_tag = 0, c_tag = 0;
    char *line = NULL;
    size_t lcap = 0;
    int rc = 0;
    for (int fi = 0; fi < nfiles && rc == 0; fi++) {
        FILE *f = fopen(files[fi], "r");
        if (!f) {
            perror(files[fi]);
            rc = 1;
            break;
        }
        while (getline(&line, &lcap, f) > 0) {
            json_t *root = json_loads(line, 0, NULL);
            const char *text = root ? json_string_value(json_object_get(root, "text")) : NULL;
            if (!text) {
                json_decref(root);
                continue;
            }
            size_t n = strlen(text);
            double t0 = now();
            size_t nt = nahr_tokenize(text, n, toks, cap);
            if (nt > cap) {
                cap = nt * 2;
                free(toks);
                free(tags);
                free(scratch);
                toks = malloc(cap * sizeof *toks);
                tags = malloc(cap);
                scratch = malloc(ner_model_scratch_size(m, cap));
                if (!toks || !tags || !scratch) {
                    json_decref(root);
                    rc = 1;
                    break;
                }
                nahr_tokenize(text, n, toks, cap);
            }
            double t1 = now(), c1 = cpu_now();
            if (ner_model_tag_cached(m, cache, text, toks, nt, scratch, tags) != 0)
                rc = 1;
            double t2 = now();
            c_tag += cpu_now() - c1;
            t_tok += t1 - t0;
            t_tag += t2 - t1;
            bytes += n;
            ntoks += nt;
            articles++;
            json_decref(root);
        }
        fclose(f);
    }
    if (rc == 0)
        printf("%zu articles, %.1f MB, %zu tokens\n"
               "tagging: %.2f CPU s = %.2f MB/s, %.0f tokens/s per core "
               "(wall clock %.2f s = %.2f MB/s); tokenising took %.2f s more (wall)\n",
               articles, bytes / 1e6, ntoks, c_tag, bytes / (c_tag + 1e-9) / 1e6,
               ntoks / (c_tag + 1e-9), t_tag, bytes / (t_tag + 1e-9) / 1e6, t_tok);
    free(line);
    free(toks);
    free(tags);
    free(scratch);
    ner_cache_free(cache);
    return rc;
}

/* Scores a "... gold pred" file. */
static int score_tagged(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 1024, n = 0, lineno = 0;
    uint8_t *g = malloc(cap), *p = malloc(cap);
    ner_score sc = {0};
    char line[8192];
    int rc = 0;
    for (;;) {
        char *ok = fgets(line, sizeof line, f);
        lineno++;
        char *fields[64];
        int nf = 0;
        if (ok)
            for (char *s = strtok(line, " \t\r\n"); s && nf < 64; s = strtok(NULL, " \t\r\n"))
                fields[nf++] = s;
        if (nf == 0) {
            ner_score_add(&sc, g, p, n);
            n = 0;
            if (!ok)
                break;
            continue;
        }
        if (nf < 3) {
            fprintf(stderr, "%s:%zu: expected 'token gold predicted'\n", path, lineno);
            rc = 1;
            break;
        }
        int gt = ner_tag_parse(fields[nf - 2], strlen(fields[nf - 2]));
        int pt = ner_tag_parse(fields[nf - 1], strlen(fields[nf - 1]));
        if (gt < 0 || pt < 0) {
            fprintf(stderr, "%s:%zu: unknown tag '%s' (--unknown-tags o reads other entity types as O)\n",
                    path, lineno, gt < 0 ? fields[nf - 2] : fields[nf - 1]);
            rc = 1;
            break;
        }
        if (n == cap) {
            cap *= 2;
            uint8_t *ng = realloc(g, cap), *np = ng ? realloc(p, cap) : NULL;
            if (ng)
                g = ng;
            if (np)
                p = np;
            if (!ng || !np) {
                rc = 1;
                break;
            }
        }
        g[n] = (uint8_t)gt;
        p[n++] = (uint8_t)pt;
    }
    fclose(f);
    if (rc == 0)
        ner_score_print(&sc, stdout);
    free(g);
    free(p);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"model", required_argument, NULL, 'm'},
                                              {"test", required_argument, NULL, 't'},
                                              {"output", required_argument, NULL, 'o'},
                                              {"tagged", required_argument, NULL, 'T'},
                                              {"speed", no_argument, NULL, 'S'},
                                              {"history", required_argument, NULL, 'H'},
                                              {"one-pass", no_argument, NULL, '1'},
                                              {"unknown-tags", required_argument, NULL, 'U'},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    const char *model = NULL, *test = NULL, *output = NULL, *tagged = NULL;
    int ch, do_speed = 0, one_pass = 0;
    long hist = -1;
    char *end;
    while ((ch = getopt_long(argc, argv, "m:t:o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm': model = optarg; break;
        case 't': test = optarg; break;
        case 'o': output = optarg; break;
        case 'T': tagged = optarg; break;
        case 'S': do_speed = 1; break;
        case '1': one_pass = 1; break;
        case 'U':
            if (strcmp(optarg, "o") && strcmp(optarg, "error")) {
                fprintf(stderr, "nahr-eval-ner: --unknown-tags must be 'o' or 'error'\n");
                return 2;
            }
            ner_conll_unknown_as_o(!strcmp(optarg, "o"));
            break;
        case 'H':
            hist = strtol(optarg, &end, 10);
            if (*end || hist < 0 || hist > 100000) {
                fprintf(stderr, "nahr-eval-ner: --history must be 0..100000\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (do_speed) {
        char err[512];
        ner_model *m;
        if (!model || test || tagged || optind == argc) {
            usage(stderr);
            return 2;
        }
        if (ner_model_load(model, &m, err, sizeof err) != 0) {
            fprintf(stderr, "nahr-eval-ner: %s\n", err);
            return 1;
        }
        if (one_pass)
            m->flags &= ~(uint32_t)NER_F_DOC2;
        int rc = speed(m, argv + optind, argc - optind);
        ner_model_free(m);
        return rc;
    }
    if (optind != argc || (tagged ? (model || test) : (!model || !test))) {
        usage(stderr);
        return 2;
    }
    if (tagged)
        return score_tagged(tagged);

    char err[512];
    double t0 = now();
    ner_model *m;
    if (ner_model_load(model, &m, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-eval-ner: %s\n", err);
        return 1;
    }
    double t1 = now();
    if (hist >= 0)
        m->hist_window = (unsigned)hist;
    if (one_pass)
        m->flags &= ~(uint32_t)NER_F_DOC2;
    ner_corpus c;
    if (ner_conll_read(test, &c, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-eval-ner: %s\n", err);
        ner_model_free(m);
        return 1;
    }
    uint8_t *pred = malloc(c.ntok + 1);
    int rc = 1;
    if (!pred)
        goto done;
    double t2 = now();
    if (ner_tag_corpus_doc(m, &c, pred) != 0) {
        fprintf(stderr, "nahr-eval-ner: tagging failed\n");
        goto done;
    }
    double t3 = now();
    ner_score sc = {0};
    for (size_t s = 0; s < c.nsent; s++)
        ner_score_add(&sc, c.gold + c.sent[s], pred + c.sent[s], c.sent[s + 1] - c.sent[s]);
    if (output) {
        FILE *f = strcmp(output, "-") ? fopen(output, "w") : stdout;
        if (!f) {
            perror(output);
            goto done;
        }
        for (size_t s = 0; s < c.nsent; s++) {
            for (size_t i = c.sent[s]; i < c.sent[s + 1]; i++)
                fprintf(f, "%.*s\t%s\t%s\n", (int)(c.toks[i].end - c.toks[i].start),
                        c.text + c.toks[i].start, ner_tag_name(c.gold[i]), ner_tag_name(pred[i]));
            fputc('\n', f);
        }
        if (f != stdout)
            fclose(f);
    }
    FILE *rep = output && !strcmp(output, "-") ? stderr : stdout;
    {
        char desc[512];
        ner_model_describe(m, desc, sizeof desc);
        fprintf(rep, "model %s: %s; loaded in %.1f ms\n", model, desc, (t1 - t0) * 1e3);
    }
    fprintf(rep, "test %s: %zu sentences, %zu tokens, tagged in %.3f s (%.0f tokens/s, %.2f MB/s)\n",
            test, c.nsent, c.ntok, t3 - t2, c.ntok / (t3 - t2 + 1e-9),
            c.textlen / (t3 - t2 + 1e-9) / 1e6);
    ner_score_print(&sc, rep);
    rc = 0;
done:
    free(pred);
    ner_corpus_free(&c);
    ner_model_free(m);
    return rc;
}
