/* sentiment-eval - accuracy and macro-F1 of the sentiment plugin's scoring
 * on a labelled TSV (label<TAB>text), with the plugin's own code and
 * defaults; or of external predictions (--pred, e.g. fastText output).
 *
 *   sentiment-eval [--data DIR] [--lexicons a.tsv,b.tsv] [--model FILE|none]
 *                  [--model-weight W] [--band B] [--damping D] [--negation-window N]
 *                  [--argmax] [--pred PRED.txt] [--bench] TEST.tsv
 *
 * Defaults match the plugin's option defaults; --data defaults to
 * <dir of this program>/plugins/sentiment (the build tree's data copy).
 * --argmax: label = most probable model class (model only, no lexicon).
 * --pred: score a file of predicted labels, one per line (fastText's
 *   "__label__x" prefix accepted), instead of running the scorer.
 * --show N: print the first N examples with their scores.
 * --hits N: print the N lexicon entries matched most often.
 * --bench: also time the scorer over the texts and print MB/s.
 */
#include "senti.h"
#include "tsv.h"

#include <limits.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: sentiment-eval [--data DIR] [--lexicons a.tsv,b.tsv] [--model FILE|none]\n"
            "                      [--model-weight W] [--band B] [--damping D] [--negation-window N]\n"
            "                      [--argmax] [--pred PRED.txt] [--bench] [--show N] [--hits N] TEST.tsv\n");
}

static void report(const tsv_set *set, const int *pred)
{
    size_t conf[3][3] = {{0}};
    size_t ok = 0;
    for (size_t i = 0; i < set->n; i++) {
        conf[set->rows[i].cls][pred[i]]++;
        ok += set->rows[i].cls == pred[i];
    }
    double f1sum = 0;
    printf("examples: %zu\n", set->n);
    printf("class      precision recall  f1      support\n");
    for (int c = 0; c < 3; c++) {
        size_t tp = conf[c][c], fp = 0, fn = 0;
        for (int k = 0; k < 3; k++)
            if (k != c) {
                fp += conf[k][c];
                fn += conf[c][k];
            }
        double p = tp + fp ? (double)tp / (double)(tp + fp) : 0;
        double r = tp + fn ? (double)tp / (double)(tp + fn) : 0;
        double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
        f1sum += f;
        printf("%-10s %.4f    %.4f  %.4f  %zu\n", senti_label_names[c], p, r, f, tp + fn);
    }
    printf("confusion (rows gold neg/neu/pos, cols predicted):\n");
    for (int c = 0; c < 3; c++)
        printf("  %6zu %6zu %6zu\n", conf[c][0], conf[c][1], conf[c][2]);
    printf("accuracy: %.4f\nmacro-F1: %.4f\n", set->n ? (double)ok / (double)set->n : 0, f1sum / 3);
}

static int load_pred(const char *path, const tsv_set *set, int *pred)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, i = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            n--;
        const char *s = line;
        if (n >= 9 && !strncmp(s, "__label__", 9)) {
            s += 9;
            n -= 9;
        }
        int c = senti_label_parse(s, n);
        if (c < 0 || i >= set->n) {
            fprintf(stderr, "%s:%zu: %s\n", path, i + 1, c < 0 ? "unknown label" : "more lines than examples");
            rc = -1;
            break;
        }
        pred[i++] = c;
    }
    if (!rc && i != set->n) {
        fprintf(stderr, "%s: %zu predictions for %zu examples\n", path, i, set->n);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

int main(int argc, char **argv)
{
    char data[PATH_MAX + 64] = "";
    const char *lexicons = "nileulex.tsv,news_cues.tsv,modifiers.tsv", *model = "astd.model";
    const char *predfile = NULL, *test = NULL;
    senti_config cfg = {.model_weight = 0.4, .neutral_band = 0.2, .length_damping = 0.02,
                        .negation_window = 3};
    int argmax = 0, bench = 0, rc = 2;
    long show = 0, hits = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--data") && i + 1 < argc)
            snprintf(data, sizeof data, "%s", argv[++i]);
        else if (!strcmp(a, "--lexicons") && i + 1 < argc)
            lexicons = argv[++i];
        else if (!strcmp(a, "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(a, "--model-weight") && i + 1 < argc)
            cfg.model_weight = atof(argv[++i]);
        else if (!strcmp(a, "--band") && i + 1 < argc)
            cfg.neutral_band = atof(argv[++i]);
        else if (!strcmp(a, "--damping") && i + 1 < argc)
            cfg.length_damping = atof(argv[++i]);
        else if (!strcmp(a, "--negation-window") && i + 1 < argc)
            cfg.negation_window = atoi(argv[++i]);
        else if (!strcmp(a, "--argmax"))
            argmax = 1;
        else if (!strcmp(a, "--show") && i + 1 < argc)
            show = atol(argv[++i]);
        else if (!strcmp(a, "--hits") && i + 1 < argc)
            hits = atol(argv[++i]);
        else if (!strcmp(a, "--bench"))
            bench = 1;
        else if (!strcmp(a, "--pred") && i + 1 < argc)
            predfile = argv[++i];
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sentiment-eval: unknown option %s\n", a);
            usage();
            return 2;
        } else
            test = a;
    }
    if (!test) {
        usage();
        return 2;
    }
    if (!data[0]) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) {
            fprintf(stderr, "sentiment-eval: cannot find my directory; use --data\n");
            return 2;
        }
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(data, sizeof data, "%s/plugins/sentiment", exe);
    }
    tsv_set set = {0};
    int *pred = NULL;
    senti_lexicon *lex = senti_lexicon_new();
    senti_model *m = NULL;
    senti_worker w = {0};
    if (!lex || tsv_load(&set, test) != 0)
        goto done;
    pred = calloc(set.n ? set.n : 1, sizeof *pred);
    if (!pred)
        goto done;
    if (predfile) {
        if (load_pred(predfile, &set, pred) != 0)
            goto done;
        report(&set, pred);
        rc = 0;
        goto done;
    }
    /* lexicons: comma-separated, relative to --data unless absolute */
    char list[4096];
    snprintf(list, sizeof list, "%s", lexicons);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char path[PATH_MAX + 256];
        senti_error err;
        if (tok[0] == '/' || tok[0] == '.')
            snprintf(path, sizeof path, "%s", tok);
        else
            snprintf(path, sizeof path, "%s/%s", data, tok);
        if (senti_lexicon_load(lex, path, &err) != NAHR_OK) {
            fprintf(stderr, "sentiment-eval: %s\n", err.msg);
            goto done;
        }
    }
    if (strcmp(model, "none") && model[0]) {
        char path[PATH_MAX + 256];
        senti_error err;
        if (model[0] == '/' || model[0] == '.')
            snprintf(path, sizeof path, "%s", model);
        else
            snprintf(path, sizeof path, "%s/%s", data, model);
        if (senti_model_load(path, &m, &err) != NAHR_OK) {
            fprintf(stderr, "sentiment-eval: %s\n", err.msg);
            goto done;
        }
    }
    if (argmax && !m) {
        fprintf(stderr, "sentiment-eval: --argmax needs a model\n");
        goto done;
    }
    cfg.lex = lex;
    cfg.model = m;
    if (hits > 0 && !(cfg.hit_counts = calloc(lex->mask + 1, sizeof *cfg.hit_counts)))
        goto done;
    size_t bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (size_t i = 0; i < set.n; i++) {
        senti_result r;
        if (senti_analyze(&cfg, &w, set.rows[i].text, set.rows[i].len, &r) != NAHR_OK) {
            fprintf(stderr, "sentiment-eval: out of memory\n");
            goto done;
        }
        bytes += set.rows[i].len;
        pred[i] = r.label;
        if ((long)i < show) {
            int cut = 0;
            while (cut < 120 && (size_t)cut < set.rows[i].len) {
                size_t k = (size_t)cut;
                nahr_utf8_next(set.rows[i].text, set.rows[i].len, &k);
                if (k > 120)
                    break;
                cut = (int)k;
            }
            printf("%-8s gold=%-8s score=%+.3f lex=%+.3f model=%+.3f P=%.1f N=%.1f words=%zu | %.*s\n",
                   senti_label_names[r.label], senti_label_names[set.rows[i].cls], r.score, r.lex_score,
                   r.model_score, r.pos, r.neg, r.nwords, cut, set.rows[i].text);
        }
        if (argmax) {
            float sums[SENTI_MAX_CLASSES] = {0};
            uint32_t nf = 0;
            for (size_t k = 0; k < r.nsent; k++) {
                for (int c = 0; c < 3; c++)
                    sums[c] += r.sents[k].sums[c];
                nf += r.sents[k].nfeat;
            }
            double p[SENTI_MAX_CLASSES];
            senti_model_probs(m, sums, nf, p);
            pred[i] = p[0] >= p[1] && p[0] >= p[2] ? 0 : p[1] >= p[2] ? 1 : 2;
        }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    report(&set, pred);
    for (long h = 0; h < hits; h++) {
        size_t best = 0;
        for (size_t k = 0; k <= lex->mask; k++)
            if (cfg.hit_counts[k] > cfg.hit_counts[best])
                best = k;
        if (!cfg.hit_counts[best])
            break;
        const senti_entry *e = &lex->slots[best];
        printf("hit %6u  %-24s kind=%d value=%+.2f\n", cfg.hit_counts[best], lex->pool + e->key_off, e->kind,
               e->value);
        cfg.hit_counts[best] = 0;
    }
    if (bench) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("speed: %zu bytes in %.3f s = %.1f MB/s (CPU time, one thread)\n", bytes, s, s > 0 ? bytes / s / 1e6 : 0);
    }
    rc = 0;
done:
    free(cfg.hit_counts);
    senti_worker_free(&w);
    senti_model_free(m);
    senti_lexicon_free(lex);
    free(pred);
    tsv_free(&set);
    return rc;
}
