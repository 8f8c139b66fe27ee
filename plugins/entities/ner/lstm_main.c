/* nahr-nn-ner - the BiLSTM tagger experiment (ner_lstm.h, docs/ner-lstm.md):
 * train it, score it alone and combined with the perceptron, time it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ner_lstm.h"

#define LAMBDA_MAX 32

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nahr-nn-ner train --ner-model MODEL --vectors FILE.vec --train FILE\n"
            "                         --out FILE\n"
            "                         [--hidden N] [--cdim N] [--rows-log2 N] [--epochs N]\n"
            "                         [--batch N] [--lr X] [--dropout X] [--clip X]\n"
            "                         [--holdout X] [--seed N] [--no-word-rows] [--crf]\n"
            "       nahr-nn-ner eval --ner-model MODEL --model FILE --test FILE [--lambda L,...]\n"
            "                        [--output FILE]\n"
            "       nahr-nn-ner speed --ner-model MODEL --model FILE FILE.jsonl...\n"
            "  --ner-model MODEL  perceptron model (nahr-train-ner): its gazetteers describe the\n"
            "                     tokens; eval combines its emissions with the BiLSTM's\n"
            "  --vectors FILE     fasttext .vec of normalised words (frozen inputs)\n"
            "  --hidden N         LSTM units per direction (default 64)\n"
            "  --cdim N           dimensions of the affix embeddings (default 32)\n"
            "  --rows-log2 N      rows of the affix table = 2^N (default 15)\n"
            "  --epochs N         (default 15)  --batch N  sentences per update (default 8)\n"
            "  --lr X             Adam step (default 0.001)\n"
            "  --dropout X        on inputs and LSTM outputs (default 0.5)\n"
            "  --clip X           gradient-norm clipping, 0 = none (default 5)\n"
            "  --holdout X        last fraction of the training sentences held out; the\n"
            "                     weights of the best epoch there are kept (default 0.1)\n"
            "  --seed N           (default 1; training is deterministic for a seed)\n"
            "  --no-word-rows     no learned rows for the word and the stem (affixes only)\n"
            "  --crf              a CRF layer (learned transitions) instead of the softmax; eval\n"
            "                     and the combination use its log tag marginals\n"
            "  --lambda L,...     eval: the perceptron's emissions + L x log p_lstm, tagged as\n"
            "                     nahr-eval-ner does (pseudo-articles with the history);\n"
            "                     default 0\n"
            "  --output FILE      eval: 'token gold lstm' lines of the BiLSTM alone\n");
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_ulong(const char *opt, const char *s, unsigned long lo, unsigned long hi,
                       unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end || v < lo || v > hi) {
        fprintf(stderr, "nahr-nn-ner: --%s must be an integer %lu..%lu, not '%s'\n", opt, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "nahr-nn-ner: --%s must be a number in [%g, %g], not '%s'\n", opt, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The BiLSTM inputs of every token of c, described with m. */
static ner_nn_tok *corpus_tokens(const ner_nn_lstm *L, const ner_model *m, const ner_corpus *c)
{
    ner_nn_tok *t = malloc((c->ntok + 1) * sizeof *t);
    ner_tokdesc *d = malloc(ner_corpus_maxlen(c) * sizeof *d);
    if (t && d)
        for (size_t s = 0; s < c->nsent; s++) {
            size_t a = c->sent[s], n = c->sent[s + 1] - a;
            ner_describe(m, c->text, c->toks + a, n, d);
            ner_nn_tokens(L, d, n, t + a);
        }
    else {
        free(t);
        t = NULL;
    }
    free(d);
    return t;
}

static int load_corpus(const char *path, ner_corpus *c)
{
    char err[512];
    if (ner_conll_read(path, c, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-nn-ner: %s\n", err);
        return -1;
    }
    return 0;
}

static int cmd_train(const ner_model *m, const char *vectors, const char *train, const char *out,
                     const ner_nn_opts *o)
{
    char err[512];
    ner_nn_vectors v;
    if (ner_nn_vectors_load(vectors, &v, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-nn-ner: %s\n", err);
        return 1;
    }
    ner_corpus c;
    if (load_corpus(train, &c) != 0) {
        ner_nn_vectors_free(&v);
        return 1;
    }
    int rc = 1;
    double t0 = cpu_now();
    ner_nn_lstm *L = ner_nn_lstm_new(o, &v);
    ner_nn_tok *t = L ? corpus_tokens(L, m, &c) : NULL;
    if (!t) {
        fprintf(stderr, "nahr-nn-ner: out of memory\n");
        goto done;
    }
    size_t vw = 0, vs = 0;
    for (size_t i = 0; i < c.ntok; i++)
        vw += t[i].bits[16] != 0.0f, vs += t[i].bits[17] != 0.0f;
    printf("%s: %zu sentences, %zu tokens (%.1f%% with a word vector, %.1f%% more through the "
           "stem); %zu parameters (H %u); inputs in %.1f CPU s\n",
           train, c.nsent, c.ntok, 100.0 * vw / c.ntok, 100.0 * vs / c.ntok, ner_nn_lstm_nparams(L),
           o->hidden, cpu_now() - t0);
    fflush(stdout);
    ner_nn_data d = {t, c.gold, c.sent, c.nsent};
    if (ner_nn_train(L, o, &d, stdout) != 0) {
        fprintf(stderr, "nahr-nn-ner: out of memory\n");
        goto done;
    }
    if (ner_nn_lstm_save(L, out, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-nn-ner: %s\n", err);
        goto done;
    }
    printf("wrote %s; training took %.1f CPU s\n", out, cpu_now() - t0);
    rc = 0;
done:
    free(t);
    ner_nn_lstm_free(L);
    ner_nn_vectors_free(&v);
    ner_corpus_free(&c);
    return rc;
}

/* One sentence of the combined walk: the perceptron's emissions plus lambda
 * times the BiLSTM's log-probabilities (precomputed, sentence by sentence
 * in corpus order), decoded with the perceptron's transitions. */
typedef struct comb {
    const ner_model *m;
    const float *lp; /* ntok x 9 */
    const size_t *sent;
    size_t k; /* the sentence the walk is at */
    float lambda;
    float *emit;
    uint8_t *bp;
} comb;

static int comb_tag(void *arg, const ner_tokdesc *d, size_t n, uint8_t *tags)
{
    comb *cb = arg;
    ner_emissions(cb->m, d, n, cb->emit);
    if (cb->lambda != 0.0f) {
        const float *lp = cb->lp + cb->sent[cb->k] * NER_NTAGS;
        for (size_t i = 0; i < n * NER_NTAGS; i++)
            cb->emit[i] += cb->lambda * lp[i];
    }
    cb->k++;
    ner_viterbi(cb->emit, (const float(*)[NER_NTAGS])cb->m->trans, n, cb->bp, tags);
    return 0;
}

static void print_line(const char *what, const ner_score *sc)
{
    double p, r, f = ner_score_prf(sc, 0, &p, &r);
    printf("%-24s P %.4f R %.4f F1 %.4f (", what, p, r, f);
    for (unsigned t = 1; t <= NER_NTYPES; t++)
        printf("%s%s %.4f", t > 1 ? " " : "", ner_type_names[t], ner_score_prf(sc, t, NULL, NULL));
    printf(")\n");
}

static void score_corpus(const ner_corpus *c, const uint8_t *pred, ner_score *sc)
{
    memset(sc, 0, sizeof *sc);
    for (size_t s = 0; s < c->nsent; s++)
        ner_score_add(sc, c->gold + c->sent[s], pred + c->sent[s], c->sent[s + 1] - c->sent[s]);
}

static int cmd_eval(const ner_model *m, const char *model, const char *test, const double *lambda,
                    size_t nl, const char *output)
{
    char err[512];
    ner_nn_lstm *L;
    if (ner_nn_lstm_load(model, &L, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-nn-ner: %s\n", err);
        return 1;
    }
    ner_corpus c;
    if (load_corpus(test, &c) != 0) {
        ner_nn_lstm_free(L);
        return 1;
    }
    int rc = 1;
    size_t mx = ner_corpus_maxlen(&c);
    ner_nn_tok *t = corpus_tokens(L, m, &c);
    float *lp = malloc((c.ntok + 1) * NER_NTAGS * sizeof *lp);
    float *work = malloc(ner_nn_work_size(L, mx) * sizeof *work);
    float *emit = malloc(mx * NER_NTAGS * sizeof *emit);
    uint8_t *bp = malloc(mx * NER_NTAGS), *pred = malloc(c.ntok + 1), *ref = malloc(c.ntok + 1);
    if (!t || !lp || !work || !emit || !bp || !pred || !ref) {
        fprintf(stderr, "nahr-nn-ner: out of memory\n");
        goto done;
    }
    /* the BiLSTM alone */
    double t0 = cpu_now();
    for (size_t s = 0; s < c.nsent; s++) {
        size_t a = c.sent[s], n = c.sent[s + 1] - a;
        ner_nn_logprobs(L, t + a, n, work, lp + a * NER_NTAGS);
        ner_nn_decode(lp + a * NER_NTAGS, n, bp, pred + a);
    }
    double t1 = cpu_now();
    ner_score sc;
    score_corpus(&c, pred, &sc);
    printf("test %s: %zu sentences, %zu tokens; BiLSTM (H %u) %.0f tokens/CPU s\n", test, c.nsent,
           c.ntok, ner_nn_lstm_hidden(L), c.ntok / (t1 - t0 + 1e-9));
    print_line("bilstm alone", &sc);
    if (output) {
        FILE *f = fopen(output, "w");
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
        fclose(f);
    }
    /* the perceptron as nahr-eval-ner tags, then the combinations */
    if (ner_tag_corpus_doc(m, &c, ref) != 0) {
        fprintf(stderr, "nahr-nn-ner: tagging failed\n");
        goto done;
    }
    score_corpus(&c, ref, &sc);
    print_line("perceptron (eval-ner)", &sc);
    for (size_t q = 0; q < nl; q++) {
        comb cb = {m, lp, c.sent, 0, (float)lambda[q], emit, bp};
        if (ner_hist_walk(m, &c, (m->flags & NER_F_HIST) != 0, pred, comb_tag, &cb) != 0) {
            fprintf(stderr, "nahr-nn-ner: tagging failed\n");
            goto done;
        }
        score_corpus(&c, pred, &sc);
        char what[64];
        snprintf(what, sizeof what, "lambda %g", lambda[q]);
        print_line(what, &sc);
        if (lambda[q] == 0) {
            size_t diff = 0;
            for (size_t i = 0; i < c.ntok; i++)
                diff += pred[i] != ref[i];
            printf("lambda 0 against nahr-eval-ner's tags: %zu of %zu tokens differ\n", diff,
                   c.ntok);
        }
    }
    rc = 0;
done:
    free(t);
    free(lp);
    free(work);
    free(emit);
    free(bp);
    free(pred);
    free(ref);
    ner_corpus_free(&c);
    ner_nn_lstm_free(L);
    return rc;
}

/* Tags the "text" of JSON Lines files sentence by sentence (tokeniser
 * sentence ends): describe with the perceptron model, then the BiLSTM and
 * decoding; CPU time of the two parts. */
static int cmd_speed(const ner_model *m, const char *model, char **files, int nfiles)
{
    char err[512];
    ner_nn_lstm *L;
    if (ner_nn_lstm_load(model, &L, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-nn-ner: %s\n", err);
        return 1;
    }
    nahr_token *toks = NULL;
    ner_tokdesc *d = NULL;
    ner_nn_tok *t = NULL;
    float *work = NULL, *lp = NULL;
    uint8_t *bp = NULL, *tags = NULL;
    size_t cap = 0, bytes = 0, ntoks = 0;
    double c_desc = 0, c_nn = 0;
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
        while (rc == 0 && getline(&line, &lcap, f) > 0) {
            json_t *root = json_loads(line, 0, NULL);
            const char *text = root ? json_string_value(json_object_get(root, "text")) : NULL;
            if (!text) {
                json_decref(root);
                continue;
            }
            size_t n = strlen(text), nt = nahr_tokenize(text, n, toks, cap);
            if (nt > cap) {
                cap = nt * 2;
                free(toks), free(d), free(t), free(work), free(lp), free(bp), free(tags);
                toks = malloc(cap * sizeof *toks);
                d = malloc(cap * sizeof *d);
                t = malloc(cap * sizeof *t);
                work = malloc(ner_nn_work_size(L, cap) * sizeof *work);
                lp = malloc(cap * NER_NTAGS * sizeof *lp);
                bp = malloc(cap * NER_NTAGS);
                tags = malloc(cap);
                if (!toks || !d || !t || !work || !lp || !bp || !tags) {
                    fprintf(stderr, "nahr-nn-ner: out of memory\n");
                    rc = 1;
                    json_decref(root);
                    break;
                }
                nahr_tokenize(text, n, toks, cap);
            }
            for (size_t a = 0; a < nt;) {
                size_t e = a + 1;
                while (e < nt && !(toks[e - 1].flags & NAHR_TOK_SENT_END))
                    e++;
                double c0 = cpu_now();
                ner_describe(m, text, toks + a, e - a, d);
                double c1 = cpu_now();
                ner_nn_tokens(L, d, e - a, t);
                ner_nn_logprobs(L, t, e - a, work, lp);
                ner_nn_decode(lp, e - a, bp, tags);
                c_nn += cpu_now() - c1;
                c_desc += c1 - c0;
                a = e;
            }
            bytes += n;
            ntoks += nt;
            json_decref(root);
        }
        fclose(f);
    }
    if (rc == 0)
        printf("%.2f MB, %zu tokens: BiLSTM (H %u) %.2f CPU s = %.3f MB/s, %.0f tokens/s, "
               "%.2f CPU s per MB; describing the tokens %.2f CPU s more\n",
               bytes / 1e6, ntoks, ner_nn_lstm_hidden(L), c_nn, bytes / (c_nn + 1e-9) / 1e6,
               ntoks / (c_nn + 1e-9), c_nn / (bytes / 1e6 + 1e-12), c_desc);
    free(line), free(toks), free(d), free(t), free(work), free(lp), free(bp), free(tags);
    ner_nn_lstm_free(L);
    return rc;
}

static size_t parse_lambdas(const char *s, double *out)
{
    size_t n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == LAMBDA_MAX || parse_double("lambda", tok, 0, 100, &out[n]) != 0)
            return 0;
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"ner-model", required_argument, NULL, 'M'},
                                             {"vectors", required_argument, NULL, 'V'},
                                             {"train", required_argument, NULL, 'r'},
                                             {"out", required_argument, NULL, 'O'},
                                             {"model", required_argument, NULL, 'm'},
                                             {"test", required_argument, NULL, 't'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"lambda", required_argument, NULL, 'L'},
                                             {"hidden", required_argument, NULL, 'H'},
                                             {"cdim", required_argument, NULL, 'C'},
                                             {"rows-log2", required_argument, NULL, 'R'},
                                             {"epochs", required_argument, NULL, 'e'},
                                             {"batch", required_argument, NULL, 'b'},
                                             {"lr", required_argument, NULL, 'l'},
                                             {"dropout", required_argument, NULL, 'd'},
                                             {"clip", required_argument, NULL, 'c'},
                                             {"holdout", required_argument, NULL, 'x'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"no-word-rows", no_argument, NULL, 'W'},
                                             {"crf", no_argument, NULL, 'F'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "train") && strcmp(cmd, "eval") && strcmp(cmd, "speed")) {
        fprintf(stderr, "nahr-nn-ner: unknown command '%s' (train, eval or speed)\n", cmd);
        return 2;
    }
    ner_nn_opts o;
    ner_nn_opts_default(&o);
    const char *pmodel = NULL, *vectors = NULL, *train = NULL, *out = NULL, *model = NULL,
               *test = NULL, *output = NULL;
    double lambda[LAMBDA_MAX] = {0};
    size_t nl = 1;
    unsigned long u;
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'M': pmodel = optarg; break;
        case 'V': vectors = optarg; break;
        case 'r': train = optarg; break;
        case 'O': out = optarg; break;
        case 'm': model = optarg; break;
        case 't': test = optarg; break;
        case 'o': output = optarg; break;
        case 'L':
            if (!(nl = parse_lambdas(optarg, lambda))) {
                fprintf(stderr,
                        "nahr-nn-ner: --lambda takes 1..%d numbers 0..100, comma-separated\n",
                        LAMBDA_MAX);
                return 2;
            }
            break;
        case 'H':
            if (parse_ulong("hidden", optarg, 1, 1024, &u))
                return 2;
            o.hidden = (unsigned)u;
            break;
        case 'C':
            if (parse_ulong("cdim", optarg, 1, 1024, &u))
                return 2;
            o.cdim = (unsigned)u;
            break;
        case 'R':
            if (parse_ulong("rows-log2", optarg, 4, 24, &u))
                return 2;
            o.rows_log2 = (unsigned)u;
            break;
        case 'e':
            if (parse_ulong("epochs", optarg, 1, 1000, &u))
                return 2;
            o.epochs = (unsigned)u;
            break;
        case 'b':
            if (parse_ulong("batch", optarg, 1, 100000, &u))
                return 2;
            o.batch = (unsigned)u;
            break;
        case 's':
            if (parse_ulong("seed", optarg, 0, 0xFFFFFFFFul, &u))
                return 2;
            o.seed = u;
            break;
        case 'l':
            if (parse_double("lr", optarg, 1e-6, 10, &o.lr))
                return 2;
            break;
        case 'd':
            if (parse_double("dropout", optarg, 0, 0.9, &o.dropout))
                return 2;
            break;
        case 'c':
            if (parse_double("clip", optarg, 0, 1e6, &o.clip))
                return 2;
            break;
        case 'x':
            if (parse_double("holdout", optarg, 0, 0.5, &o.holdout))
                return 2;
            break;
        case 'W': o.no_word_rows = 1; break;
        case 'F': o.crf = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *missing = !pmodel                             ? "--ner-model"
                          : !strcmp(cmd, "train") && !vectors ? "--vectors"
                          : !strcmp(cmd, "train") && !train   ? "--train"
                          : !strcmp(cmd, "train") && !out     ? "--out"
                          : strcmp(cmd, "train") && !model    ? "--model"
                          : !strcmp(cmd, "eval") && !test     ? "--test"
                                                              : NULL;
    if (missing) {
        fprintf(stderr, "nahr-nn-ner %s: %s is required (--help)\n", cmd, missing);
        return 2;
    }
    if (strcmp(cmd, "speed") ? optind != argc : optind == argc) {
        fprintf(stderr, "nahr-nn-ner %s: %s\n", cmd,
                strcmp(cmd, "speed") ? "unexpected argument" : "JSON Lines files expected");
        return 2;
    }
    char err[512];
    ner_model *m;
    if (ner_model_load(pmodel, &m, err, sizeof err) != 0) {
        fprintf(stderr, "nahr-nn-ner: %s\n", err);
        return 1;
    }
    int rc = !strcmp(cmd, "train")  ? cmd_train(m, vectors, train, out, &o)
             : !strcmp(cmd, "eval") ? cmd_eval(m, model, test, lambda, nl, output)
                                    : cmd_speed(m, model, argv + optind, argc - optind);
    ner_model_free(m);
    return rc;
}
