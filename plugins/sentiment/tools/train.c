/* sentiment-train - trains the sentiment plugin's linear model with
 * liblinear on labelled TSV files (label<TAB>text; labels positive,
 * negative, neutral, mixed, objective; mixed/objective count as neutral).
 *
 *   sentiment-train -o MODEL [--bits N] [--word-ngrams 1|2] [--char MIN MAX]
 *                   [-C COST] [--solver lr|svm] [--balance] [--prune EPS] TRAIN.tsv...
 *
 * Features are extracted by the same code path the plugin uses to score
 * (senti_analyze with a feature sink), so training and scoring agree.
 */
#include "senti.h"
#include "tsv.h"

#include <linear.h>
#include <math.h>

typedef struct collect {
    uint32_t *f;
    size_t n, cap;
    int oom;
} collect;

static void sink(void *arg, const uint32_t *feats, size_t k)
{
    collect *c = arg;
    if (c->n + k > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 4096;
        while (nc < c->n + k)
            nc *= 2;
        uint32_t *nf = realloc(c->f, nc * sizeof *nf);
        if (!nf) {
            c->oom = 1;
            return;
        }
        c->f = nf;
        c->cap = nc;
    }
    memcpy(c->f + c->n, feats, k * sizeof *feats);
    c->n += k;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void quiet(const char *s)
{
    (void)s;
}

static void usage(void)
{
    fprintf(stderr, "usage: sentiment-train -o MODEL [--bits N] [--word-ngrams 1|2] [--char MIN MAX]\n"
                    "                       [-C COST] [--solver lr|svm] [--balance] [--prune EPS] TRAIN.tsv...\n");
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    senti_featcfg fc = {18, 2, 2, 5};
    double C = 1.0, prune = 1e-3;
    int solver = L2R_LR, balance = 0;
    tsv_set set = {0};
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(a, "--bits") && i + 1 < argc)
            fc.bits = atoi(argv[++i]);
        else if (!strcmp(a, "--word-ngrams") && i + 1 < argc)
            fc.word_ngrams = atoi(argv[++i]);
        else if (!strcmp(a, "--char") && i + 2 < argc) {
            fc.char_min = atoi(argv[++i]);
            fc.char_max = atoi(argv[++i]);
        } else if (!strcmp(a, "-C") && i + 1 < argc)
            C = atof(argv[++i]);
        else if (!strcmp(a, "--prune") && i + 1 < argc)
            prune = atof(argv[++i]);
        else if (!strcmp(a, "--balance"))
            balance = 1;
        else if (!strcmp(a, "--solver") && i + 1 < argc) {
            const char *s = argv[++i];
            if (!strcmp(s, "lr"))
                solver = L2R_LR;
            else if (!strcmp(s, "svm"))
                solver = L2R_L2LOSS_SVC_DUAL;
            else {
                usage();
                return 2;
            }
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sentiment-train: unknown option %s\n", a);
            usage();
            return 2;
        } else if (tsv_load(&set, a) != 0)
            goto done;
    }
    if (!out || set.n == 0 || fc.bits < 10 || fc.bits > 24 || fc.word_ngrams < 1 || fc.word_ngrams > 2 ||
        fc.char_min < 0 || fc.char_max > 8 || (fc.char_min > 0 && fc.char_max < fc.char_min) || !(C > 0)) {
        usage();
        goto done;
    }
    if (fc.char_min == 0)
        fc.char_max = 0;

    senti_lexicon *empty = senti_lexicon_new();
    collect col = {0};
    senti_config cfg = {.lex = empty, .feature_sink = sink, .sink_arg = &col, .sink_fc = &fc,
                        .negation_window = 3, .neutral_band = 0.15};
    senti_worker w = {0};
    struct problem prob = {0};
    prob.l = (int)set.n;
    prob.n = (1 << fc.bits) + 1; /* + bias feature */
    prob.bias = 1.0;
    prob.y = calloc(set.n, sizeof *prob.y);
    prob.x = calloc(set.n, sizeof *prob.x);
    size_t counts[3] = {0};
    for (size_t i = 0; i < set.n && prob.y && prob.x; i++) {
        senti_result r;
        col.n = 0;
        if (senti_analyze(&cfg, &w, set.rows[i].text, set.rows[i].len, &r) != NAHR_OK || col.oom) {
            fprintf(stderr, "sentiment-train: out of memory\n");
            goto done;
        }
        qsort(col.f, col.n, sizeof *col.f, cmp_u32);
        size_t uniq = 0;
        for (size_t k = 0; k < col.n; k++)
            uniq += k == 0 || col.f[k] != col.f[k - 1];
        struct feature_node *x = malloc((uniq + 2) * sizeof *x);
        if (!x)
            goto done;
        double scale = col.n ? 1.0 / sqrt((double)col.n) : 0;
        size_t o = 0;
        for (size_t k = 0; k < col.n;) {
            size_t e = k;
            while (e < col.n && col.f[e] == col.f[k])
                e++;
            x[o].index = (int)col.f[k] + 1;
            x[o].value = (double)(e - k) * scale;
            o++;
            k = e;
        }
        x[o].index = (int)(1u << fc.bits) + 1; /* bias */
        x[o].value = prob.bias;
        x[o + 1].index = -1;
        prob.x[i] = x;
        prob.y[i] = set.rows[i].cls;
        counts[set.rows[i].cls]++;
    }
    if (!prob.y || !prob.x)
        goto done;
    senti_lexicon_free(empty);
    senti_worker_free(&w);
    free(col.f);

    struct parameter param = {0};
    param.solver_type = solver;
    param.C = C;
    param.eps = solver == L2R_LR ? 0.01 : 0.1;
    int wl[3] = {SENTI_NEG, SENTI_NEU, SENTI_POS};
    double wt[3];
    if (balance) {
        for (int c = 0; c < 3; c++)
            wt[c] = counts[c] ? (double)set.n / (3.0 * (double)counts[c]) : 1.0;
        param.nr_weight = 3;
        param.weight_label = wl;
        param.weight = wt;
    }
    const char *perr = check_parameter(&prob, &param);
    if (perr) {
        fprintf(stderr, "sentiment-train: %s\n", perr);
        goto done;
    }
    set_print_string_function(quiet);
    fprintf(stderr, "sentiment-train: %zu examples (neg %zu, neu %zu, pos %zu), 2^%d features\n", set.n,
            counts[0], counts[1], counts[2], fc.bits);
    struct model *lm = train(&prob, &param);
    if (!lm)
        goto done;

    senti_model m = {0};
    m.fc = fc;
    m.nr_class = 3;
    size_t dim = (size_t)1 << fc.bits;
    m.w = calloc(dim * 3, sizeof *m.w);
    if (!m.w)
        goto done;
    int nr = get_nr_class(lm), labels[SENTI_MAX_CLASSES];
    get_labels(lm, labels);
    for (int li = 0; li < nr && li < SENTI_MAX_CLASSES; li++) {
        int cls = labels[li];
        if (cls < 0 || cls > 2)
            continue;
        if (nr == 2 && li == 1)
            break; /* binary: one weight vector for labels[0] */
        for (size_t f = 0; f < dim; f++)
            m.w[f * 3 + (size_t)cls] = (float)get_decfun_coef(lm, (int)f + 1, li);
        m.bias[cls] = (float)get_decfun_bias(lm, li);
    }
    if (nr == 2) {
        /* two classes only: make the second class the mirror of the first */
        for (size_t f = 0; f < dim; f++)
            m.w[f * 3 + (size_t)labels[1]] = -m.w[f * 3 + (size_t)labels[0]];
        m.bias[labels[1]] = -m.bias[labels[0]];
        for (int c = 0; c < 3; c++)
            if (c != labels[0] && c != labels[1])
                m.bias[c] = -20; /* never predicted */
    }
    if (senti_model_save(&m, out, prune) != NAHR_OK) {
        fprintf(stderr, "sentiment-train: cannot write %s\n", out);
        free(m.w);
        free_and_destroy_model(&lm);
        goto done;
    }
    fprintf(stderr, "sentiment-train: wrote %s\n", out);
    free(m.w);
    free_and_destroy_model(&lm);
    rc = 0;
done:
    if (prob.x)
        for (int i = 0; i < prob.l; i++)
            free(prob.x[i]);
    free(prob.x);
    free(prob.y);
    tsv_free(&set);
    return rc;
}
