/* senti_test_data.h - the shipped data for the sentiment plugin's tests:
 * included by each test after the plugin source it tests. main() sets
 * data_dir (plugins/sentiment/data under NAHR_SOURCE_DIR). */
#ifndef SENTI_TEST_DATA_H
#define SENTI_TEST_DATA_H

static char data_dir[2048];

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

#endif
