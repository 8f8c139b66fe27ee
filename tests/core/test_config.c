/* test_config.c - config validation: every error kind names file, line, stage and key. */
#include "testutil.h"
#include "runner.h"

static char plugdir[1024];

static int setup(void **state)
{
    (void)state;
    snprintf(plugdir, sizeof plugdir, "%s", tu_env("NAHR_BUILD_DIR", "build"));
    return 0;
}

/* Loads a config whose pipeline body is `body`; returns rc, error text in err. */
static int load(const char *body, nahr_config **c, nahr_buf *err)
{
    char text[4096];
    snprintf(text, sizeof text, "pipeline: {\n  plugin_path = [\"%s/testplugins\", \"%s/plugins\"];\n%s\n};\n",
             plugdir, plugdir, body);
    const char *path = tu_write_temp(".cfg", text, strlen(text));
    nahr_buf_reset(err);
    int rc = nahr__config_load(path, c, err);
    if (rc == NAHR_OK)
        assert_int_equal(err->len, 0);
    return rc;
}

static void expect_error(const char *body, const char *const *needles)
{
    nahr_config *c = NULL;
    nahr_buf err = {0};
    assert_int_equal(load(body, &c, &err), NAHR_ECONFIG);
    for (; *needles; needles++)
        if (!strstr(err.data, *needles))
            fail_msg("error message lacks '%s':\n%s", *needles, err.data);
    nahr__config_free(c);
    nahr_buf_free(&err);
}

static void test_valid_config_and_defaults(void **state)
{
    (void)state;
    nahr_config *c = NULL;
    nahr_buf err = {0};
    int rc = load("  workers = 3;\n  stages = ( { plugin = \"tp_good\"; count = 7; ratio = 1; lists = [\"x\", \"y\", \"z\"]; },\n"
                  "             { plugin = \"export\"; path = \"-\"; } );",
                  &c, &err);
    if (rc)
        fail_msg("%s", err.data);
    assert_int_equal(c->workers, 3);
    assert_int_equal(c->nstages, 2);
    nahr_stage *s = &c->stages[0];
    assert_string_equal(nahr_stage_str(s, "word"), "nahr"); /* default */
    assert_false(nahr_stage_is_set(s, "word"));
    assert_int_equal(nahr_stage_int(s, "count"), 7);
    assert_true(nahr_stage_is_set(s, "count"));
    assert_true(nahr_stage_float(s, "ratio") == 1.0); /* int accepted for float */
    assert_int_equal(nahr_stage_list_len(s, "lists"), 3);
    assert_string_equal(nahr_stage_list_at(s, "lists", 2), "z");
    assert_false(nahr_stage_bool(s, "flag"));
    char buf[256];
    assert_int_equal(nahr_stage_path(s, "data.txt", 0, buf, sizeof buf), NAHR_OK);
    assert_non_null(strstr(buf, "testplugins/tp_good/data.txt"));
    assert_int_equal(nahr_stage_path(s, "/abs/x", 1, buf, sizeof buf), NAHR_OK);
    assert_string_equal(buf, "/abs/x");
    assert_int_equal(nahr_stage_path(s, "x", 1, buf, 4), NAHR_ELIMIT);
    nahr__config_free(c);
    nahr_buf_free(&err);
}

static void test_unknown_option_suggests(void **state)
{
    (void)state;
    const char *n[] = {".cfg:5: stage 1 (tp_good): unknown option 'wrod'", "did you mean 'word'?",
                       "valid options: word, count", NULL};
    expect_error("  stages = (\n    { plugin = \"tp_good\";\n      wrod = \"x\"; } );", n);
}

static void test_wrong_types_and_ranges(void **state)
{
    (void)state;
    const char *n1[] = {":3: stage 1 (tp_good): option 'count': must be a integer, not a string", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; count = \"3\"; } );", n1);
    const char *n2[] = {"option 'count': must be in [1, 10]", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; count = 11; } );", n2);
    const char *n3[] = {"option 'mode': value \"medium\" is not one of: fast|slow", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; mode = \"medium\"; } );", n3);
    const char *n4[] = {"option 'lists': item 2 must be a string", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; lists = (\"a\", 2); } );", n4);
    const char *n5[] = {"option 'flag': must be a boolean, not a integer", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; flag = 1; } );", n5);
    const char *n6[] = {"option 'ratio': must be in [0, 1]", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; ratio = 1.5; } );", n6);
}

static void test_pipeline_keys(void **state)
{
    (void)state;
    const char *n1[] = {":3: pipeline: unknown key 'worker' (did you mean 'workers'?)", NULL};
    expect_error("  worker = 2;\n  stages = ( { plugin = \"tp_good\"; } );", n1);
    const char *n2[] = {":3: pipeline: 'on_error' must be \"dead-letter\" or \"fail\"", NULL};
    expect_error("  on_error = \"ignore\";\n  stages = ( { plugin = \"tp_good\"; } );", n2);
    const char *n3[] = {"pipeline: 'workers' must be an integer, not a string", NULL};
    expect_error("  workers = \"two\";\n  stages = ( { plugin = \"tp_good\"; } );", n3);
    const char *n4[] = {"missing 'stages", NULL};
    expect_error("  workers = 1;", n4);
    const char *n5[] = {"stage 1: missing 'plugin = \"NAME\";'", NULL};
    expect_error("  stages = ( { name = \"x\"; } );", n5);
    const char *n6[] = {"'max_article_bytes' must be in", NULL};
    expect_error("  max_article_bytes = 10;\n  stages = ( { plugin = \"tp_good\"; } );", n6);
}

static void test_missing_plugin_and_syntax(void **state)
{
    (void)state;
    const char *n1[] = {":3: stage 1 (nope): plugin 'nope' not found; searched:", "testplugins", NULL};
    expect_error("  stages = ( { plugin = \"nope\"; } );", n1);
    const char *n2[] = {":3: syntax error", NULL};
    expect_error("  stages = ( { plugin = \"tp_good\" } ;;", n2);
    const char *n3[] = {"not binary compatible", NULL};
    (void)n3;
    const char *n4[] = {"ABI version 999", "ABI version 1", "tp_badabi.so", NULL};
    expect_error("  stages = ( { plugin = \"tp_badabi\"; } );", n4);
}

static void test_stage_order(void **state)
{
    (void)state;
    const char *n1[] = {"stage 2 (tp_rewrite) rewrites the text but comes after stage 1 (tp_good), which adds spans",
                        NULL};
    expect_error("  stages = ( { plugin = \"tp_good\"; }, { plugin = \"tp_rewrite\"; } );", n1);
    const char *n2[] = {"stage 2 (tp_good) runs in the workers, so it cannot come after stage 1 (export)", NULL};
    expect_error("  stages = ( { plugin = \"export\"; }, { plugin = \"tp_good\"; } );", n2);
}

static void test_init_failure_is_reported(void **state)
{
    (void)state;
    nahr_config *c = NULL;
    nahr_buf err = {0};
    assert_int_equal(load("  stages = (\n { plugin = \"tp_initfail\";\n word = \"lexicon.txt\"; } );", &c, &err),
                     NAHR_OK);
    assert_int_equal(nahr__check_init(c, &err), NAHR_ECONFIG);
    if (!strstr(err.data, ":5: stage 1 (tp_initfail): option 'word': cannot load the word list 'lexicon.txt'"))
        fail_msg("%s", err.data);
    nahr__config_free(c);
    nahr_buf_free(&err);
}

/* Each message is one "FILE:LINE: ..." line, even when it echoes a value
 * holding control characters (written as \n, \t, \xNN): fuzz_config found
 * a value with a newline splitting its message in two
 * (tests/fuzz/config/regressions/value_newline_splits_message). */
static void expect_one_line(const char *err, const char *needle)
{
    if (!strstr(err, needle))
        fail_msg("error message lacks '%s':\n%s", needle, err);
    const char *nl = strchr(err, '\n');
    if (!nl || nl[1])
        fail_msg("not one line:\n%s", err);
}

static void test_messages_stay_one_line(void **state)
{
    (void)state;
    nahr_config *c = NULL;
    nahr_buf err = {0};
    assert_int_equal(load("  stages = ( { plugin = \"tp_good\"; mode = \"a\\nb\\tc\\x01\\x7f\"; } );", &c, &err),
                     NAHR_ECONFIG);
    expect_one_line(err.data, "option 'mode': value \"a\\nb\\tc\\x01\\x7F\" is not one of: fast|slow");
    nahr__config_free(c);
    assert_int_equal(load("  stages = ( { plugin = \"no\\r\\npe\"; } );", &c, &err), NAHR_ECONFIG);
    expect_one_line(err.data, "stage 1 (no\\r\\npe): plugin 'no\\r\\npe' not found");
    nahr__config_free(c);
    /* a stage name goes into every message of the stage: refused */
    assert_int_equal(load("  stages = ( { plugin = \"tp_good\"; name = \"x\\ny\"; } );", &c, &err), NAHR_ECONFIG);
    expect_one_line(err.data, ":3: stage 1 (tp_good): 'name' must not hold control characters: \"x\\ny\"");
    nahr__config_free(c);
    /* a plugin's own message through nahr_stage_error */
    assert_int_equal(load("  stages = (\n { plugin = \"tp_initfail\";\n word = \"w\\nx\"; } );", &c, &err), NAHR_OK);
    assert_int_equal(nahr__check_init(c, &err), NAHR_ECONFIG);
    expect_one_line(err.data, ":5: stage 1 (tp_initfail): option 'word': cannot load the word list 'w\\nx'");
    nahr__config_free(c);
    nahr_buf_free(&err);
}

/* @include lines are vetted as libconfig's scanner reads them (line start,
 * outside comments) and messages name the included file and its line. */
static void test_include_lines(void **state)
{
    (void)state;
    nahr_config *c = NULL;
    nahr_buf err = {0};
    const char *inc = tu_write_temp(".cfg", "workers = 3;\n", 12);
    char body[1024];
    snprintf(body, sizeof body,
             "  // @include \"/dev/null\"\n  # @include \"/dev/null\"\n  /* a block\n@include \"/dev/null\"\n*/\n"
             "  @include \"%s\"\n  stages = ( { plugin = \"tp_good\"; } );", inc);
    assert_int_equal(load(body, &c, &err), NAHR_OK);
    assert_int_equal(c->workers, 3);
    nahr__config_free(c);
    /* the same line outside a comment is refused, with the line */
    assert_int_equal(load("  stages = ( { plugin = \"tp_good\"; } );\n@include \"/dev/null\"", &c, &err), NAHR_ECONFIG);
    expect_one_line(err.data, ":4: @include \"/dev/null\": is a device or socket, not a regular file");
    nahr__config_free(c);
    /* a plugin's message about an option set in an included file names that file, also when the
     * stage itself is in another file */
    const char *stages = tu_write_temp(".cfg", "stages = (\n { plugin = \"tp_initfail\";\n word = \"w\"; } );\n", 56);
    snprintf(body, sizeof body, "  @include \"%s\"", stages);
    assert_int_equal(load(body, &c, &err), NAHR_OK);
    assert_int_equal(nahr__check_init(c, &err), NAHR_ECONFIG);
    char want[1200];
    snprintf(want, sizeof want, "%s:3: stage 1 (tp_initfail): option 'word': cannot load the word list 'w'", stages);
    expect_one_line(err.data, want);
    nahr__config_free(c);
    const char *opt = tu_write_temp(".cfg", "\nword = \"w\";\n", 13);
    snprintf(body, sizeof body, "  stages = ( { plugin = \"tp_initfail\";\n@include \"%s\"\n} );", opt);
    assert_int_equal(load(body, &c, &err), NAHR_OK);
    assert_int_equal(nahr__check_init(c, &err), NAHR_ECONFIG);
    snprintf(want, sizeof want, "%s:2: stage 1 (tp_initfail): option 'word': cannot load the word list 'w'", opt);
    expect_one_line(err.data, want);
    nahr__config_free(c);
    nahr_buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_config_and_defaults), cmocka_unit_test(test_unknown_option_suggests),
        cmocka_unit_test(test_wrong_types_and_ranges),    cmocka_unit_test(test_pipeline_keys),
        cmocka_unit_test(test_missing_plugin_and_syntax), cmocka_unit_test(test_stage_order),
        cmocka_unit_test(test_init_failure_is_reported),  cmocka_unit_test(test_messages_stay_one_line),
        cmocka_unit_test(test_include_lines),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
