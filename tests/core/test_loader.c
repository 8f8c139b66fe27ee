/* test_loader.c - finding and opening plugins; ABI and symbol checks. */
#include "testutil.h"
#include "runner.h"

static char dir[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/testplugins", tu_env("NAHR_BUILD_DIR", "build"));
    return 0;
}

static int open_named(const char *name, const nahr_plugin **p, nahr_buf *err)
{
    char *dirs[] = {dir};
    void *dl = NULL;
    char *so = NULL;
    nahr_buf_reset(err);
    int rc = nahr__plugin_open(name, dirs, 1, &dl, p, &so, err);
    free(so);
    return rc;
}

static void test_good_plugin(void **state)
{
    (void)state;
    const nahr_plugin *p = NULL;
    nahr_buf err = {0};
    assert_int_equal(open_named("tp_good", &p, &err), NAHR_OK);
    assert_string_equal(p->name, "tp_good");
    assert_int_equal(p->abi_version, NAHR_ABI_VERSION);
    free((void *)p);
    nahr_buf_free(&err);
}

static void test_wrong_abi(void **state)
{
    (void)state;
    const nahr_plugin *p = NULL;
    nahr_buf err = {0};
    assert_true(open_named("tp_badabi", &p, &err) < 0);
    assert_non_null(strstr(err.data, "tp_badabi.so"));
    assert_non_null(strstr(err.data, "ABI version 999"));
    assert_non_null(strstr(err.data, "this nahr has ABI version 1"));
    nahr_buf_free(&err);
}

static void test_missing_symbol(void **state)
{
    (void)state;
    const nahr_plugin *p = NULL;
    nahr_buf err = {0};
    assert_true(open_named("tp_nosym", &p, &err) < 0);
    assert_non_null(strstr(err.data, "tp_nosym.so: not a nahr plugin: symbol 'nahr_plugin_descriptor' not found"));
    nahr_buf_free(&err);
}

static void test_not_found_lists_dirs(void **state)
{
    (void)state;
    const nahr_plugin *p = NULL;
    nahr_buf err = {0};
    assert_int_equal(open_named("absent", &p, &err), NAHR_ENOENT);
    assert_non_null(strstr(err.data, "plugin 'absent' not found"));
    assert_non_null(strstr(err.data, dir));
    nahr_buf_free(&err);
}

static void test_descriptor_checks(void **state)
{
    (void)state;
    nahr_buf err = {0};
    nahr_plugin p = {NAHR_PLUGIN_INIT, .name = "x"};
    assert_int_equal(nahr__plugin_check(&p, "x.so", &err), NAHR_EABI); /* no init/process */
    assert_non_null(strstr(err.data, "lacks an init function"));
    nahr_buf_reset(&err);
    p.struct_size = 8;
    assert_int_equal(nahr__plugin_check(&p, "x.so", &err), NAHR_EABI);
    assert_non_null(strstr(err.data, "not binary compatible"));
    nahr_buf_reset(&err);
    assert_int_equal(nahr__plugin_check(NULL, "x.so", &err), NAHR_EABI);
    nahr_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plugin),          cmocka_unit_test(test_wrong_abi),
        cmocka_unit_test(test_missing_symbol),       cmocka_unit_test(test_not_found_lists_dirs),
        cmocka_unit_test(test_descriptor_checks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
