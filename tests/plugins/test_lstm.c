/* Tests of the BiLSTM tagger (plugins/entities/ner/ner_lstm.c): the
 * gradient against finite differences, a tiny separable corpus learned,
 * determinism for a seed, model files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ner_lstm.h"

/* word vectors of dim 4 for a few words */
static void small_vectors(ner_nn_vectors *v)
{
    static const char *const words[] = {"محمد", "القاهرة", "شركة", "في", "ذهب"};
    const size_t n = sizeof words / sizeof *words;
    v->n = n;
    v->dim = 4;
    v->v = malloc(n * 4 * sizeof *v->v);
    v->key = malloc(n * sizeof *v->key);
    assert_non_null(v->v);
    assert_non_null(v->key);
    for (size_t i = 0; i < n; i++) {
        v->key[i] = ner_word_hash(words[i], strlen(words[i]), NULL, NULL);
        for (size_t k = 0; k < 4; k++)
            v->v[i * 4 + k] = (float)sin((double)(i * 4 + k + 1)) * 0.5f;
    }
}

static void small_opts(ner_nn_opts *o)
{
    ner_nn_opts_default(o);
    o->hidden = 5;
    o->cdim = 3;
    o->rows_log2 = 6;
    o->seed = 3;
}

static void check_gradient(int crf)
{
    ner_nn_opts o;
    small_opts(&o);
    o.crf = crf;
    ner_nn_vectors v;
    small_vectors(&v);
    ner_nn_lstm *L = ner_nn_lstm_new(&o, &v);
    assert_non_null(L);
    /* four tokens: known vectors, the unknown vector, affix rows, bits */
    ner_nn_tok t[4];
    memset(t, 0, sizeof t);
    const int32_t vec[4] = {0, -1, 2, 4};
    for (unsigned i = 0; i < 4; i++) {
        t[i].vec = vec[i];
        for (unsigned k = 0; k < NER_NN_NFEAT; k++)
            t[i].row[k] = k == 3 ? UINT32_MAX : (i * 7 + k * 5) % 64;
        t[i].bits[i] = 1.0f;
        t[i].bits[14] = 0.5f;
    }
    /* with the CRF, an orphan I-PER (read as B-PER) */
    const uint8_t gold[4] = {crf ? 0 : 1, 2, 0, 3};
    size_t np = ner_nn_lstm_nparams(L);
    float *g = calloc(np, sizeof *g), *work = malloc(ner_nn_work_size(L, 4) * sizeof *work);
    assert_non_null(g);
    assert_non_null(work);
    double loss = ner_nn_loss(L, t, gold, 4, 0, NULL, g, work);
    assert_true(loss > 0);
    float *p = ner_nn_lstm_params(L);
    size_t checked = 0, nonzero = 0;
    for (size_t i = 0; i < np; i++) {
        if (g[i] == 0.0f && i % 13 != 0)
            continue; /* every parameter with a gradient, and some without */
        const float eps = 1e-2f, keep = p[i];
        p[i] = keep + eps;
        double lp = ner_nn_loss(L, t, gold, 4, 0, NULL, NULL, work);
        p[i] = keep - eps;
        double lm = ner_nn_loss(L, t, gold, 4, 0, NULL, NULL, work);
        p[i] = keep;
        double num = (lp - lm) / (2.0 * eps);
        double tol = 2e-3 + 2e-2 * fabs(num);
        if (fabs(num - g[i]) > tol)
            fail_msg("parameter %zu: analytic %.6f, numeric %.6f", i, g[i], num);
        checked++;
        nonzero += fabs(num) > 1e-3;
    }
    assert_true(checked > 500);
    assert_true(nonzero > 300);
    free(g);
    free(work);
    ner_nn_lstm_free(L);
}

static void test_gradient(void **state)
{
    (void)state;
    check_gradient(0);
}

static void test_gradient_crf(void **state)
{
    (void)state;
    check_gradient(1);
}

/* "محمد" is a person, "القاهرة" a place, "شركة" + the next word an
 * organisation, everything else outside */
static const char corpus_text[] = "ذهب O\nمحمد B-PER\nفي O\nالقاهرة B-LOC\n\n"
                                  "شركة B-ORG\nالنور I-ORG\nفي O\nالقاهرة B-LOC\n\n"
                                  "محمد B-PER\nذهب O\nإلى O\nشركة B-ORG\nالأمل I-ORG\n\n"
                                  "في O\nالقاهرة B-LOC\nذهب O\nمحمد B-PER\n\n"
                                  "شركة B-ORG\nالفجر I-ORG\nذهب O\n\n";

typedef struct trained {
    ner_nn_lstm *L;
    double f1;
} trained;

static trained train_small(uint64_t seed, int crf)
{
    ner_corpus c;
    char err[256];
    assert_int_equal(ner_conll_parse(corpus_text, strlen(corpus_text), "tiny", &c, err, sizeof err),
                     0);
    ner_nn_opts o;
    small_opts(&o);
    o.seed = seed;
    o.crf = crf;
    o.epochs = 40;
    o.batch = 2;
    o.lr = 0.02;
    o.dropout = 0.1;
    o.holdout = 0;
    ner_nn_vectors v;
    small_vectors(&v);
    ner_nn_lstm *L = ner_nn_lstm_new(&o, &v);
    assert_non_null(L);
    ner_model *m = ner_model_new();
    assert_non_null(m);
    ner_nn_tok *t = malloc(c.ntok * sizeof *t);
    ner_tokdesc *d = malloc(ner_corpus_maxlen(&c) * sizeof *d);
    assert_non_null(t);
    assert_non_null(d);
    for (size_t s = 0; s < c.nsent; s++) {
        size_t a = c.sent[s], n = c.sent[s + 1] - a;
        ner_describe(m, c.text, c.toks + a, n, d);
        ner_nn_tokens(L, d, n, t + a);
    }
    ner_nn_data data = {t, c.gold, c.sent, c.nsent};
    double before = ner_nn_eval(L, &data, NULL);
    assert_int_equal(ner_nn_train(L, &o, &data, NULL), 0);
    trained r = {L, ner_nn_eval(L, &data, NULL)};
    assert_true(before < 1.0);
    free(t);
    free(d);
    ner_model_free(m);
    ner_corpus_free(&c);
    return r;
}

static void test_learns_tiny_corpus(void **state)
{
    (void)state;
    for (int crf = 0; crf < 2; crf++) {
        trained r = train_small(1, crf);
        assert_true(r.f1 == 1.0);
        ner_nn_lstm_free(r.L);
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    trained a = train_small(7, 0), b = train_small(7, 0), c = train_small(8, 0);
    size_t np = ner_nn_lstm_nparams(a.L);
    assert_int_equal(np, ner_nn_lstm_nparams(b.L));
    assert_memory_equal(ner_nn_lstm_params(a.L), ner_nn_lstm_params(b.L), np * sizeof(float));
    assert_memory_not_equal(ner_nn_lstm_params(a.L), ner_nn_lstm_params(c.L), np * sizeof(float));
    ner_nn_lstm_free(a.L);
    ner_nn_lstm_free(b.L);
    ner_nn_lstm_free(c.L);
}

static void test_model_file(void **state)
{
    (void)state;
    ner_nn_opts o;
    small_opts(&o);
    ner_nn_vectors v;
    small_vectors(&v);
    ner_nn_lstm *L = ner_nn_lstm_new(&o, &v), *back;
    assert_non_null(L);
    char path[] = "/tmp/test_lstm_XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ner_nn_lstm_save(L, path, err, sizeof err), 0);
    assert_int_equal(ner_nn_lstm_load(path, &back, err, sizeof err), 0);
    size_t np = ner_nn_lstm_nparams(L);
    assert_int_equal(ner_nn_lstm_nparams(back), np);
    assert_memory_equal(ner_nn_lstm_params(L), ner_nn_lstm_params(back), np * sizeof(float));
    ner_nn_lstm_free(back);
    /* truncated: a clear error, no model */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 60), 0);
    fclose(f);
    assert_true(ner_nn_lstm_load(path, &back, err, sizeof err) < 0);
    assert_null(back);
    assert_non_null(strstr(err, "truncated"));
    /* not a model */
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("NAHRNER\nxxxxxxxxxxxxxxxxxxxxxx", f);
    fclose(f);
    assert_true(ner_nn_lstm_load(path, &back, err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a BiLSTM model"));
    unlink(path);
    ner_nn_lstm_free(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient),           cmocka_unit_test(test_gradient_crf),
        cmocka_unit_test(test_learns_tiny_corpus), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_model_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
