/* test_reader.c - the input readers, fed through a collecting sink. */
#include "testutil.h"
#include "runner.h"

#include <fcntl.h>
#include <sys/stat.h>

#define MAXDOCS 64
typedef struct collect {
    nahr_doc *docs[MAXDOCS];
    size_t n, acquired, released;
} collect;

static nahr_doc *c_acquire(void *ctx)
{
    collect *c = ctx;
    c->acquired++;
    return nahr_doc_new();
}
static void c_submit(void *ctx, nahr_doc *d)
{
    collect *c = ctx;
    assert_true(c->n < MAXDOCS);
    d->seq = c->n;
    c->docs[c->n++] = d;
}
static void c_release(void *ctx, nahr_doc *d)
{
    collect *c = ctx;
    c->released++;
    nahr_doc_free(d);
}

static volatile int no_stop;

static void run_reader(const char *path, size_t max_bytes, collect *c)
{
    memset(c, 0, sizeof *c);
    reader_sink s = {.acquire = c_acquire, .submit = c_submit, .release = c_release, .ctx = c,
                     .max_bytes = max_bytes, .stop = &no_stop};
    assert_int_equal(nahr__read_path(path, &s), NAHR_OK);
    /* every acquired doc was either submitted or released */
    assert_int_equal(c->acquired, c->n + c->released);
    for (size_t i = 0; i < c->n; i++)
        if (!c->docs[i]->prepared)
            nahr__doc_prepare(c->docs[i], true, NULL);
}

static void free_all(collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        nahr_doc_free(c->docs[i]);
}

static void test_jsonl_lines_and_origins(void **state)
{
    (void)state;
    const char *in = "{\"id\":\"a\",\"text\":\"أ\"}\r\n"
                     "\n"
                     "   \n"
                     "{\"id\":\"b\",\"text\":\n"
                     "{\"id\":\"c\",\"text\":\"ج\"}"; /* no final newline */
    const char *p = tu_write_temp(".jsonl", in, strlen(in));
    collect c;
    run_reader(p, 1 << 20, &c);
    assert_int_equal(c.n, 3);
    assert_string_equal(nahr_doc_get(c.docs[0], "id"), "a");
    assert_int_equal(c.docs[0]->status, DOC_PENDING);
    assert_non_null(strstr(c.docs[1]->origin, ".jsonl:4"));
    assert_int_equal(c.docs[1]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[1]->fail_reason, "invalid JSON"));
    assert_non_null(strstr(c.docs[2]->origin, ".jsonl:5"));
    assert_string_equal(nahr_doc_text(c.docs[2], NULL), "ج");
    free_all(&c);
}

static void test_jsonl_list_separators(void **state)
{
    (void)state;
    const char *in = "{\"id\":\"x\",\"text\":\"t\",\"tags\":[\"a\" \"b\"]}\n"
                     "{\"id\":\"y\" \"text\":\"t\"}\n"
                     "{\"id\":\"z\",\"text\":\"t\",\"meta\":{\"a\":[1, 2 ,{\"b\":[]}],\"c\":{}}}\n"
                     "{\"id\":\"w\",\"text\":\"t\",\"tags\":[1,]}\n";
    const char *p = tu_write_temp(".jsonl", in, strlen(in));
    collect c;
    run_reader(p, 1 << 20, &c);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.docs[0]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[0]->fail_reason, "column 34: expected ',' or ']'"));
    assert_int_equal(c.docs[1]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[1]->fail_reason, "column 11: expected ',' or '}'"));
    assert_int_equal(c.docs[2]->status, DOC_PENDING);
    assert_string_equal(nahr_doc_get(c.docs[2], "id"), "z");
    assert_int_equal(c.docs[3]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[3]->fail_reason, "expected a value"));
    free_all(&c);
}

static void test_jsonl_oversized_line(void **state)
{
    (void)state;
    size_t big = 3 * 256 * 1024 + 100; /* spans several read chunks */
    char *in = malloc(big + 200);
    int n = sprintf(in, "{\"id\":\"ok1\",\"text\":\"x\"}\n{\"id\":\"big\",\"text\":\"");
    memset(in + n, 'y', big);
    n += (int)big;
    n += sprintf(in + n, "\"}\n{\"id\":\"ok2\",\"text\":\"z\"}\n");
    const char *p = tu_write_temp(".jsonl", in, (size_t)n);
    free(in);
    collect c;
    run_reader(p, 100000, &c);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.docs[1]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[1]->fail_reason, "exceeds max_article_bytes (100000)"));
    assert_true(c.docs[1]->raw_truncated);
    assert_true(c.docs[1]->raw.len <= 4096);
    assert_int_equal(c.docs[2]->status, DOC_PENDING);
    assert_string_equal(nahr_doc_get(c.docs[2], "id"), "ok2");
    free_all(&c);
}

/* An oversized record cut by a read error (here a UTF-16 file that ends
 * inside a character): its dead-letter record gives the bytes read of it,
 * not 0 (found by tests/fuzz/reader). */
static void test_jsonl_oversized_record_cut_by_read_error(void **state)
{
    (void)state;
    char in[2 + 2 * 400 + 1];
    size_t n = 0;
    in[n++] = '\xFF', in[n++] = '\xFE'; /* UTF-16LE byte-order mark */
    for (int i = 0; i < 400; i++) /* 400 ASCII characters, no newline */
        in[n++] = i < 9 ? "{\"text\":\""[i] : 'a', in[n++] = 0;
    in[n++] = 'b'; /* half a character */
    const char *p = tu_write_temp(".jsonl", in, n);
    collect c = {0};
    reader_sink s = {.acquire = c_acquire, .submit = c_submit, .release = c_release, .ctx = &c,
                     .max_bytes = 100, .stop = &no_stop};
    assert_int_equal(nahr__read_path(p, &s), NAHR_EIO);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.docs[0]->status, DOC_FAILED);
    assert_true(c.docs[0]->raw_truncated);
    assert_int_equal(c.docs[0]->raw_total, 400);
    nahr_buf dl = {0};
    assert_int_equal(nahr__doc_write_dead_letter(c.docs[0], &dl), NAHR_OK);
    assert_non_null(strstr(dl.data, "\"input_truncated\":true,\"input_bytes\":400"));
    nahr_buf_free(&dl);
    free_all(&c);
}

/* A .jsonl.gz that does not start with a gzip header (cut to its first
 * bytes, damaged, or never compressed): zlib would hand its bytes out as
 * they are, so made-up records came out and the damage went unreported
 * (tests/fuzz/streams/regressions/gzip_cut_to_first_byte). Now a read
 * error: NAHR_EIO, one failed doc. */
static void test_gzip_without_header_is_a_read_error(void **state)
{
    (void)state;
    static const char *const bodies[] = {"\x1f", "{\"text\":\"a\"}\n"};
    for (int k = 0; k < 2; k++) {
        const char *p = tu_write_temp(".jsonl.gz", bodies[k], strlen(bodies[k]));
        collect c = {0};
        reader_sink s = {.acquire = c_acquire, .submit = c_submit, .release = c_release, .ctx = &c,
                         .max_bytes = 1 << 20, .stop = &no_stop};
        assert_int_equal(nahr__read_path(p, &s), NAHR_EIO);
        assert_int_equal(c.acquired, c.n + c.released);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.docs[0]->status, DOC_FAILED);
        assert_non_null(strstr(c.docs[0]->fail_reason, "not gzip data"));
        free_all(&c);
    }
}

/* What follows the last complete gzip member must be another whole member:
 * a file cut one byte into its next member, or with garbage appended, is a
 * read error after the records before it (zlib's gzread took both as a
 * clean end). m1: `printf '{"text":"a"}\n' | gzip -n`. */
static void test_gzip_tail_after_member_is_a_read_error(void **state)
{
    (void)state;
    static const unsigned char m1[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56,
                                       0x2a, 0x49, 0xad, 0x28, 0x51, 0xb2, 0x52, 0x4a, 0x54, 0xaa, 0xe5, 0x02,
                                       0x00, 0x77, 0x4c, 0xc2, 0x38, 0x0d, 0x00, 0x00, 0x00};
    char body[64];
    const size_t tails[] = {1, 3}; /* 0x1f alone; "xyz" */
    for (int k = 0; k < 2; k++) {
        memcpy(body, m1, sizeof m1);
        memcpy(body + sizeof m1, k == 0 ? "\x1f" : "xyz", tails[k]);
        const char *p = tu_write_temp(".jsonl.gz", body, sizeof m1 + tails[k]);
        collect c = {0};
        reader_sink s = {.acquire = c_acquire, .submit = c_submit, .release = c_release, .ctx = &c,
                         .max_bytes = 1 << 20, .stop = &no_stop};
        assert_int_equal(nahr__read_path(p, &s), NAHR_EIO);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.docs[0]->status, DOC_PENDING);
        assert_int_equal(c.docs[1]->status, DOC_FAILED);
        assert_non_null(strstr(c.docs[1]->fail_reason, k == 0 ? "cut short" : "not gzip"));
        free_all(&c);
    }
}

static void test_text_file_id_and_oversize(void **state)
{
    (void)state;
    char dir[] = "/tmp/nahr-rd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/article_7.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("\xEF\xBB\xBFنص الخبر", f);
    fclose(f);
    collect c;
    run_reader(path, 1 << 20, &c);
    assert_int_equal(c.n, 1);
    assert_string_equal(nahr_doc_get(c.docs[0], "id"), "article_7");
    assert_string_equal(nahr_doc_text(c.docs[0], NULL), "نص الخبر"); /* BOM dropped */
    free_all(&c);
    run_reader(path, 5, &c);
    assert_int_equal(c.docs[0]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[0]->fail_reason, "exceeds max_article_bytes"));
    free_all(&c);
}

static void test_directory_recursive_sorted(void **state)
{
    (void)state;
    char dir[] = "/tmp/nahr-rd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[512];
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    const char *files[][2] = {{"b.txt", "ب"}, {"a.html", "<p>أ</p>"}, {"sub/c.jsonl", "{\"id\":\"c1\",\"text\":\"ج\"}\n{\"id\":\"c2\",\"text\":\"د\"}\n"},
                              {"notes.md", "ignored"}, {".hidden.txt", "ignored"}};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(p, "w");
        fputs(files[i][1], f);
        fclose(f);
    }
    collect c;
    run_reader(dir, 1 << 20, &c);
    assert_int_equal(c.n, 4);
    assert_string_equal(nahr_doc_get(c.docs[0], "id"), "a");
    assert_string_equal(nahr_value_as_string(nahr_doc_field(c.docs[0], "content_type"), NULL), "text/html");
    assert_string_equal(nahr_doc_get(c.docs[1], "id"), "b");
    assert_string_equal(nahr_doc_get(c.docs[2], "id"), "c1");
    assert_string_equal(nahr_doc_get(c.docs[3], "id"), "c2");
    free_all(&c);
}

static void test_missing_and_empty_files(void **state)
{
    (void)state;
    collect c;
    run_reader("/tmp/nahr-definitely-missing.txt", 1 << 20, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.docs[0]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[0]->fail_reason, "cannot open"));
    free_all(&c);
    const char *p = tu_write_temp(".txt", "  \n\t ", 5);
    run_reader(p, 1 << 20, &c);
    assert_int_equal(c.docs[0]->status, DOC_FAILED);
    assert_non_null(strstr(c.docs[0]->fail_reason, "empty article"));
    free_all(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_lines_and_origins),   cmocka_unit_test(test_jsonl_list_separators),   cmocka_unit_test(test_jsonl_oversized_line),
        cmocka_unit_test(test_text_file_id_and_oversize), cmocka_unit_test(test_directory_recursive_sorted),
        cmocka_unit_test(test_missing_and_empty_files),
        cmocka_unit_test(test_jsonl_oversized_record_cut_by_read_error),
        cmocka_unit_test(test_gzip_without_header_is_a_read_error),
        cmocka_unit_test(test_gzip_tail_after_member_is_a_read_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
