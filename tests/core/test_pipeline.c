/* test_pipeline.c - the runner: work queue, reorder ring and accounting, driven
 * through nahr__run with a plugin that finishes articles out of order. */
#include "testutil.h"
#include "runner.h"

#include <fcntl.h>

static char build[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(build, sizeof build, "%s", tu_env("NAHR_BUILD_DIR", "build"));
    return 0;
}

/* Loads the config text and runs it on one input file; returns nahr__run's status. */
static int run_config(const char *cfgtext, char *in)
{
    const char *cfgpath = tu_write_temp(".cfg", cfgtext, strlen(cfgtext));
    nahr_config *c = NULL;
    nahr_buf err = {0};
    if (nahr__config_load(cfgpath, &c, &err) < 0)
        fail_msg("%s", err.data);
    char *inputs[] = {in};
    run_options o = {.inputs = inputs, .ninputs = 1, .workers = -1, .progress = 0, .quiet = true};
    int rc = nahr__run(c, &o);
    nahr__config_free(c);
    nahr_buf_free(&err);
    return rc;
}

/* Runs `n` articles (every 97th a poison, every 89th a skip) through
 * tp_jitter + export with the given workers and queue depth; checks order
 * and accounting. */
static void run_case(int workers, int depth, int n)
{
    char out[256], dl[256], in[256];
    snprintf(out, sizeof out, "/tmp/nahr-pl-out-%d-%d.jsonl", workers, depth);
    snprintf(dl, sizeof dl, "/tmp/nahr-pl-dl-%d-%d.jsonl", workers, depth);
    unlink(dl);
    nahr_buf b = {0};
    int expect_ok = 0, expect_skip = 0, expect_dead = 0;
    for (int i = 0; i < n; i++) {
        const char *kind = i % 97 == 5 ? "poison" : i % 89 == 7 ? "skip" : "doc";
        expect_dead += kind[0] == 'p';
        expect_skip += kind[0] == 's';
        expect_ok += kind[0] == 'd';
        nahr_buf_printf(&b, "{\"id\":\"%s-%d\",\"text\":\"نص nahr رقم %d\"}\n", kind, i, i);
    }
    snprintf(in, sizeof in, "%s", tu_write_temp(".jsonl", b.data, b.len));
    nahr_buf_free(&b);

    char cfgtext[8192];
    snprintf(cfgtext, sizeof cfgtext,
             "pipeline: { workers = %d; queue_depth = %d; dead_letter = \"%s\";\n"
             "  plugin_path = [\"%s/testplugins\", \"%s/plugins\"];\n"
             "  stages = ( { plugin = \"tp_jitter\"; }, { plugin = \"export\"; path = \"%s\"; } ); };\n",
             workers, depth, dl, build, build, out);
    assert_int_equal(run_config(cfgtext, in), expect_dead ? 1 : 0);

    /* exported: exactly the "doc-" ids, in input order */
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char line[4096];
    int next = 0, got = 0;
    while (fgets(line, sizeof line, f)) {
        int id;
        assert_int_equal(sscanf(line, "{\"id\":\"doc-%d\"", &id), 1);
        while (next % 97 == 5 || next % 89 == 7)
            next++;
        assert_int_equal(id, next);
        next++;
        got++;
    }
    fclose(f);
    assert_int_equal(got, expect_ok);
    int dead = 0;
    if ((f = fopen(dl, "r"))) {
        while (fgets(line, sizeof line, f))
            dead += strstr(line, "\"stage\":\"tp_jitter\"") != NULL;
        fclose(f);
    }
    assert_int_equal(dead, expect_dead);
    (void)expect_skip;
    unlink(out);
    unlink(dl);
}

static void test_one_worker_depth_one(void **state) { (void)state; run_case(1, 1, 300); }
static void test_two_workers_small_ring(void **state) { (void)state; run_case(2, 3, 2000); }
static void test_many_workers(void **state) { (void)state; run_case(8, 64, 3000); }

/* Reads the lines "ID w=W o=O" / "ID none o=O" of a tp_prep* output file
 * into ids (in file order) and checks every line was (or was not) prepared
 * on a worker and written on the ordered thread. Returns the line count. */
static int read_prep(const char *path, int prepared, int ids[], int max)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        int id, w = -2, o = -2;
        if (prepared) {
            assert_int_equal(sscanf(line, "doc-%d w=%d o=%d", &id, &w, &o), 3);
            assert_true(w >= 0 && w < 2); /* prepare() ran on a worker */
        } else {
            assert_int_equal(sscanf(line, "doc-%d none o=%d", &id, &o), 2);
        }
        assert_int_equal(o, -1); /* process() on the ordered thread */
        assert_true(n < max);
        ids[n++] = id;
    }
    fclose(f);
    return n;
}

/* prepare() of ORDERED_POST stages: run on the workers for the first
 * ordered stage and for those after sinks only; its bytes reach process()
 * in input order; a failed prepare() dead-letters the article with the
 * stage's name and no ordered stage sees it. */
static void test_prepare(void **state)
{
    (void)state;
    char pa[] = "/tmp/nahr-prep-a.txt", pb[] = "/tmp/nahr-prep-b.txt", pc[] = "/tmp/nahr-prep-c.txt";
    char dl[] = "/tmp/nahr-prep-dl.jsonl";
    unlink(pa), unlink(pb), unlink(pc), unlink(dl);
    nahr_buf b = {0};
    const int n = 400;
    for (int i = 0; i < n; i++)
        nahr_buf_printf(&b, "{\"id\":\"%s-%d\",\"text\":\"nahr %d\"}\n", i % 50 == 3 ? "prepfail" : "doc", i, i);
    char in[256];
    snprintf(in, sizeof in, "%s", tu_write_temp(".jsonl", b.data, b.len));
    nahr_buf_free(&b);
    /* a sink, a non-sink (still prepared: only sinks before it), a sink after the non-sink (not prepared) */
    char cfgtext[4096];
    snprintf(cfgtext, sizeof cfgtext,
             "pipeline: { workers = 2; dead_letter = \"%s\";\n"
             "  plugin_path = [\"%s/testplugins\"];\n"
             "  stages = ( { plugin = \"tp_jitter\"; }, { plugin = \"tp_prepsink\"; word = \"%s\"; },\n"
             "    { plugin = \"tp_preppost\"; word = \"%s\"; }, { plugin = \"tp_prepsink\"; word = \"%s\"; } ); };\n",
             dl, build, pa, pb, pc);
    assert_int_equal(run_config(cfgtext, in), 1); /* dead letters: exit status 1 */

    int ids[3][400], got[3];
    got[0] = read_prep(pa, 1, ids[0], n);
    got[1] = read_prep(pb, 1, ids[1], n);
    got[2] = read_prep(pc, 0, ids[2], n);
    int expect = 0;
    for (int i = 0; i < n; i++) {
        if (i % 50 == 3)
            continue;
        for (int k = 0; k < 3; k++)
            assert_int_equal(ids[k][expect], i); /* input order, no prepfail article */
        expect++;
    }
    for (int k = 0; k < 3; k++)
        assert_int_equal(got[k], expect);
    FILE *f = fopen(dl, "r");
    assert_non_null(f);
    char line[4096];
    int dead = 0;
    while (fgets(line, sizeof line, f)) {
        assert_non_null(strstr(line, "\"stage\":\"tp_prepsink\""));
        assert_non_null(strstr(line, "cannot format article prepfail-"));
        dead++;
    }
    fclose(f);
    assert_int_equal(dead, n / 50);
    unlink(pa), unlink(pb), unlink(pc), unlink(dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_worker_depth_one),
        cmocka_unit_test(test_two_workers_small_ring),
        cmocka_unit_test(test_many_workers),
        cmocka_unit_test(test_prepare),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
