/* senti_test_data.h - the shipped data for the sentiment plugin's tests:
 * included by each test after the plugin source it tests. main() sets
 * data_dir (plugins/sentiment/data under NAHR_SOURCE_DIR). */
#ifndef SENTI_TEST_DATA_H
#define SENTI_TEST_DATA_H

static char data_dir[2048];

/* data_dir from NAHR_SOURCE_DIR (the working directory without it). */
static void set_data_dir(void)
{
    const char *src = getenv("NAHR_SOURCE_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/plugins/sentiment/data", src && *src ? src : ".");
}

/* The plugin's default lexicons, in its order. */
static senti_lexicon *shipped_lexicon(void)
{
    senti_lexicon *lx = senti_lexicon_new();
    assert_non_null(lx);
    const char *files[] = {"nileulex.tsv", "news_cues.tsv", "modifiers.tsv"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        senti_error err;
        snprintf(path, sizeof path, "%s/%s", data_dir, files[i]);
        if (senti_lexicon_load(lx, path, &err) != NAHR_OK)
            fail_msg("%s", err.msg);
    }
    return lx;
}

/* The plugin's default n-gram model. */
static senti_model *shipped_model(void)
{
    senti_model *model = NULL;
    char path[4096];
    senti_error err;
    snprintf(path, sizeof path, "%s/astd.model", data_dir);
    if (senti_model_load(path, &model, &err) != NAHR_OK)
        fail_msg("%s", err.msg);
    return model;
}

/* The document-level results of a and b are the same, bit for bit. */
static void assert_totals_same(const senti_result *a, const senti_result *b)
{
    assert_int_equal(a->nsent, b->nsent);
    assert_int_equal(a->nhits, b->nhits);
    assert_int_equal(a->nwords, b->nwords);
    assert_memory_equal(&a->score, &b->score, sizeof a->score);
    assert_memory_equal(&a->pos, &b->pos, sizeof a->pos);
    assert_memory_equal(&a->neg, &b->neg, sizeof a->neg);
    assert_memory_equal(&a->model_score, &b->model_score, sizeof a->model_score);
}

#endif
