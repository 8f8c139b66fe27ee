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
    const char *cfgpath = tu_write_temp(".cfg", cfgtext, strlen(cfgtext));
    nahr_config *c = NULL;
    nahr_buf err = {0};
    if (nahr__config_load(cfgpath, &c, &err) < 0)
        fail_msg("%s", err.data);
    char *inputs[] = {in};
    run_options o = {.inputs = inputs, .ninputs = 1, .workers = -1, .progress = 0, .quiet = true};
    assert_int_equal(nahr__run(c, &o), expect_dead ? 1 : 0);
    nahr__config_free(c);
    nahr_buf_free(&err);

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_worker_depth_one),
        cmocka_unit_test(test_two_workers_small_ring),
        cmocka_unit_test(test_many_workers),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
