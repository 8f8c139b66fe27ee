/* test_export.c - the export plugin's sinks, driven directly (no pipeline):
 * record building (code points, sentences, entity counts), CSV quoting,
 * JSONL gzip/zstd round trips and rotation, SQLite upsert, interrupted
 * batches, locked databases, full disks and unwritable paths. PostgreSQL and
 * whole runs are tested by tests/plugins/export/e2e.sh. */
#include "../testutil.h"
#include "sink.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

/* ---- helpers ---- */
static char tmpdir[256];

static int setup_dir(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nahr-export-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown_dir(void **st)
{
    (void)st;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    char *r = p[k++ % 4];
    snprintf(r, 512, "%s/%s", tmpdir, name);
    return r;
}

static export_config base_cfg(const char *format, const char *path)
{
    export_config c = {0};
    c.format = format;
    c.path = path;
    c.batch_bytes = 65536;
    c.compress = "auto";
    c.layer = "entities";
    c.batch = 1000;
    c.synchronous = "normal";
    c.busy_timeout_ms = 100;
    return c;
}

/* Adds the span whose text is the first occurrence of `word` after byte `from`. */
static int add_word_span(nahr_doc *d, const char *type, const char *word, size_t from, const char *canonical)
{
    const char *t = nahr_doc_text(d, NULL);
    const char *p = strstr(t + from, word);
    assert_non_null(p);
    int k = nahr_doc_add_span(d, type, (size_t)(p - t), (size_t)(p - t) + strlen(word));
    assert_true(k >= 0);
    if (canonical)
        assert_int_equal(nahr_span_set_canonical(d, (size_t)k, canonical), NAHR_OK);
    return k;
}

/* An article of our own: two sentences, Moscow twice (once with a
 * proclitic outside the span), a person, a comma, a quote and a newline in
 * the text, a sentiment field and a per-entity sentiment attribute. */
static nahr_doc *make_doc(const char *id, const char *title)
{
    nahr_doc *d = nahr_doc_new();
    assert_non_null(d);
    const char *text = "وصل الوزير سامي الخطيب إلى موسكو، صباح اليوم.\n"
                       "وقال \"إن الزيارة مهمة\", ثم غادر وموسكو تودعه.";
    assert_int_equal(nahr_doc_set_text(d, text, strlen(text)), NAHR_OK);
    assert_int_equal(nahr_doc_set(d, "id", id), NAHR_OK);
    if (title)
        assert_int_equal(nahr_doc_set(d, "title", title), NAHR_OK);
    int p = add_word_span(d, "PER", "سامي الخطيب", 0, NULL);
    add_word_span(d, "LOC", "موسكو", 0, "موسكو");
    int m2 = add_word_span(d, "LOC", "موسكو", strstr(text, "وموسكو") - text, "موسكو");
    nahr_value *sv = nahr_value_object(d);
    nahr_value_put(d, sv, "label", nahr_value_cstr(d, "positive"));
    nahr_value_put(d, sv, "score", nahr_value_double(d, 0.5));
    assert_int_equal(nahr_span_set_attr(d, (size_t)p, "sentiment", sv), NAHR_OK);
    (void)m2;
    nahr_value *f = nahr_value_object(d);
    nahr_value_put(d, f, "label", nahr_value_cstr(d, "neutral"));
    nahr_value_put(d, f, "score", nahr_value_double(d, 0.1));
    assert_int_equal(nahr_doc_set_field(d, "sentiment", f), NAHR_OK);
    nahr_value *arr = nahr_value_array(d);
    nahr_value_push(d, arr, nahr_value_cstr(d, "سطر، بفاصلة"));
    assert_int_equal(nahr_doc_set_field(d, "removed", arr), NAHR_OK);
    return d;
}

static export_sink *open_sink(const export_sink_ops *ops, const export_config *cfg)
{
    export_sink *s = NULL;
    char err[1024] = "";
    int rc = ops->open(cfg, &s, err, sizeof err);
    if (rc < 0)
        fail_msg("open %s failed: %s", cfg->path, err);
    return s;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    nahr_buf b = {0};
    char tmp[65536];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
        assert_int_equal(nahr_buf_append(&b, tmp, r), NAHR_OK);
    fclose(f);
    if (n)
        *n = b.len;
    if (!b.data)
        b.data = calloc(1, 1);
    return b.data;
}

static long count_lines(const char *s, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* ---- record ---- */
static void t_record_offsets_sentences_entities(void **st)
{
    (void)st;
    nahr_doc *d = make_doc("a1", NULL);
    export_record r;
    assert_int_equal(record_build(d, "entities", &r), NAHR_OK);
    assert_string_equal(r.id, "a1");
    assert_int_equal(r.nmentions, 3);
    /* code points: "وصل الوزير " is 11 code points */
    assert_int_equal(r.mentions[0].cp_start, 11);
    assert_int_equal(r.mentions[0].cp_end, 11 + 11);
    assert_int_equal(r.mentions[0].sentence, 0);
    assert_string_equal(r.mentions[0].sentiment, "positive");
    assert_true(fabs(r.mentions[0].sentiment_score - 0.5) < 1e-9);
    assert_null(r.mentions[1].sentiment);
    assert_true(isnan(r.mentions[1].sentiment_score));
    /* the second Moscow is in the second sentence, after the proclitic و */
    assert_int_equal(r.mentions[2].sentence, 1);
    assert_int_equal(r.mentions[2].text_len, strlen("موسكو"));
    assert_memory_equal(r.mentions[2].text, "موسكو", strlen("موسكو"));
    /* python-style check: text[start:end] == mention text, in code points */
    size_t n;
    const char *text = nahr_doc_text(d, &n);
    size_t cp = 0, bs = 0;
    for (size_t i = 0; i < n; i++) {
        if (cp == r.mentions[2].cp_start && ((unsigned char)text[i] & 0xC0) != 0x80) {
            bs = i;
            break;
        }
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            cp++;
    }
    assert_memory_equal(text + bs, "موسكو", strlen("موسكو"));
    /* entities: PER once, LOC موسكو twice */
    assert_int_equal(r.nentities, 2);
    assert_string_equal(r.entities[1].type, "LOC");
    assert_int_equal(r.entities[1].count, 2);
    assert_int_equal(r.entities[0].count, 1);
    assert_memory_equal(r.entities[0].canonical, "سامي الخطيب", r.entities[0].canonical_len);
    /* another layer: nothing */
    assert_int_equal(record_build(d, "sentences", &r), NAHR_OK);
    assert_int_equal(r.nmentions, 0);
    nahr_doc_free(d);
}

/* Sentence numbers agree with the shared tokeniser's NAHR_TOK_SENT_END on
 * every word of texts with the awkward cases: numbers with dots, runs of
 * marks, Arabic question marks, ellipses, blank lines, a text-initial
 * blank line. */
static void t_record_sentences_match_tokenizer(void **st)
{
    (void)st;
    static const char *const texts[] = {
        "قال الوزير إن النمو بلغ 3.5 في المئة. وأضاف: هل هذا كاف؟! لا أظن...\nثم غادر",
        "\n\nعنوان بلا نقطة\n\nفقرة أولى، وفيها كلام.فقرة ملتصقة…  وأخرى!\n\n\n. نقطة وحيدة",
        "سطر\nسطر آخر بلا نهاية ?! ؟ و 1.2.3 أرقام. نهاية",
    };
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        nahr_doc *d = nahr_doc_new();
        assert_int_equal(nahr_doc_set_text(d, texts[t], strlen(texts[t])), NAHR_OK);
        nahr_token toks[256];
        size_t nt = nahr_tokenize(texts[t], strlen(texts[t]), toks, 256);
        assert_true(nt < 256);
        long want[256];
        size_t nw = 0;
        long sent = 0;
        for (size_t i = 0; i < nt; i++) {
            if (toks[i].kind == NAHR_TOK_WORD || toks[i].kind == NAHR_TOK_NUMBER) {
                assert_true(nahr_doc_add_span(d, "W", toks[i].start, toks[i].end) >= 0);
                want[nw++] = sent;
            }
            if (toks[i].flags & NAHR_TOK_SENT_END)
                sent++;
        }
        export_record r;
        assert_int_equal(record_build(d, "entities", &r), NAHR_OK);
        assert_int_equal(r.nmentions, nw);
        for (size_t i = 0; i < nw; i++)
            if (r.mentions[i].sentence != want[i])
                fail_msg("text %zu, word %zu (%.*s): sentence %ld, tokeniser says %ld", t, i,
                         (int)r.mentions[i].text_len, r.mentions[i].text, r.mentions[i].sentence, want[i]);
        nahr_doc_free(d);
    }
}

static void t_record_empty_and_no_id(void **st)
{
    (void)st;
    nahr_doc *d = nahr_doc_new();
    export_record r;
    assert_int_equal(record_build(d, "entities", &r), NAHR_OK);
    assert_non_null(r.id);
    assert_true(strlen(r.id) > 0);
    assert_int_equal(r.nmentions, 0);
    nahr_doc_free(d);
}

static void t_record_field_path(void **st)
{
    (void)st;
    nahr_doc *d = make_doc("x", NULL);
    nahr_buf b = {0};
    assert_int_equal(record_value_text(record_field_path(d, "sentiment.label"), &b), NAHR_OK);
    assert_string_equal(b.data, "neutral");
    nahr_buf_reset(&b);
    assert_int_equal(record_value_text(record_field_path(d, "removed"), &b), NAHR_OK);
    assert_string_equal(b.data, "[\"سطر، بفاصلة\"]");
    assert_null(record_field_path(d, "sentiment.nothing"));
    assert_null(record_field_path(d, "nothing.at.all"));
    assert_null(record_field_path(d, "removed.x"));
    nahr_buf_reset(&b);
    assert_int_equal(record_fields_json(d, &b), NAHR_OK);
    assert_non_null(strstr(b.data, "\"sentiment\":{\"label\":\"neutral\""));
    nahr_buf_free(&b);
    nahr_doc_free(d);
}

/* ---- CSV ---- */
static void t_csv_quoting(void **st)
{
    (void)st;
    nahr_buf b = {0};
    csv_field(&b, "بسيط", strlen("بسيط"));
    assert_string_equal(b.data, "بسيط");
    nahr_buf_reset(&b);
    csv_field(&b, "أ,ب", strlen("أ,ب"));
    assert_string_equal(b.data, "\"أ,ب\"");
    nahr_buf_reset(&b);
    csv_field(&b, "قال \"نعم\"", strlen("قال \"نعم\""));
    assert_string_equal(b.data, "\"قال \"\"نعم\"\"\"");
    nahr_buf_reset(&b);
    csv_field(&b, "سطر\r\nثان", strlen("سطر\r\nثان"));
    assert_string_equal(b.data, "\"سطر\r\nثان\"");
    nahr_buf_reset(&b);
    csv_field(&b, "\"", 1);
    assert_string_equal(b.data, "\"\"\"\"");
    nahr_buf_free(&b);
}

static void t_csv_files(void **st)
{
    (void)st;
    export_config c = base_cfg("csv", tpath("out.csv"));
    c.bom = true;
    c.csv_fields[0] = "sentiment.label";
    c.csv_fields[1] = "removed";
    c.ncsv_fields = 2;
    export_sink *s = open_sink(&export_csv_ops, &c);
    nahr_doc *d = make_doc("a,1", "عنوان \"مقتبس\"");
    assert_int_equal(s->ops->write(s, d), NAHR_OK);
    assert_int_equal(s->ops->flush(s), NAHR_OK);
    s->ops->close(s);
    size_t n;
    char *a = slurp(tpath("out.csv"), &n);
    static const char hdr[] = "\xEF\xBB\xBFid,title,url,date,source,text,mentions,sentiment.label,removed\r\n";
    assert_memory_equal(a, hdr, sizeof hdr - 1);
    assert_non_null(strstr(a, "\"a,1\",\"عنوان \"\"مقتبس\"\"\",,,,\"وصل"));
    assert_non_null(strstr(a, ",3,neutral,\"[\"\"سطر، بفاصلة\"\"]\"\r\n"));
    free(a);
    char *m = slurp(tpath("out.mentions.csv"), &n);
    assert_non_null(strstr(m, "article_id,type,text,canonical,start,end,sentence,sentiment,sentiment_score,score\r\n"));
    assert_non_null(strstr(m, "\"a,1\",PER,سامي الخطيب,,11,22,0,positive,0.5,\r\n"));
    assert_int_equal(count_lines(m, n), 4);
    free(m);

    /* append: no second header, no BOM in the middle */
    c.append = true;
    s = open_sink(&export_csv_ops, &c);
    assert_int_equal(s->ops->write(s, d), NAHR_OK);
    s->ops->close(s); /* close without flush still writes */
    a = slurp(tpath("out.csv"), &n);
    assert_null(strstr(a + 3, "\xEF\xBB\xBF"));
    assert_ptr_equal(strstr(a + 3, "id,title"), a + 3);
    assert_null(strstr(a + 10, "id,title"));
    free(a);
    nahr_doc_free(d);
}

static void t_csv_stdout_needs_mentions_path(void **st)
{
    (void)st;
    export_config c = base_cfg("csv", "-");
    export_sink *s = NULL;
    char err[256] = "";
    assert_int_equal(export_csv_ops.open(&c, &s, err, sizeof err), NAHR_ECONFIG);
    assert_non_null(strstr(err, "mentions_path"));
    c.mentions_path = "none";
    c.path = tpath("no-mentions.csv");
    s = open_sink(&export_csv_ops, &c);
    s->ops->close(s);
}

/* ---- JSONL ---- */
static void expect_jsonl(const char *content, size_t n, long lines)
{
    assert_int_equal(count_lines(content, n), lines);
    assert_non_null(strstr(content, "{\"id\":\"j0\""));
    assert_non_null(strstr(content, "\"entities\":[{\"type\":\"PER\",\"text\":\"سامي الخطيب\",\"start\":11"));
}

static void write_docs(export_sink *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[32];
        snprintf(id, sizeof id, "j%d", i);
        nahr_doc *d = make_doc(id, NULL);
        assert_int_equal(s->ops->write(s, d), NAHR_OK);
        nahr_doc_free(d);
    }
}

static char *gunzip_file(const char *path, size_t *n)
{
    gzFile g = gzopen(path, "rb");
    assert_non_null(g);
    nahr_buf b = {0};
    char tmp[65536];
    int r;
    while ((r = gzread(g, tmp, sizeof tmp)) > 0)
        nahr_buf_append(&b, tmp, (size_t)r);
    assert_true(r == 0);
    gzclose(g);
    *n = b.len;
    return b.data;
}

static char *unzstd_file(const char *path, size_t *n)
{
    size_t zn;
    char *z = slurp(path, &zn);
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    nahr_buf b = {0};
    ZSTD_inBuffer in = {z, zn, 0};
    size_t last = 0;
    while (in.pos < in.size) {
        nahr_buf_reserve(&b, 65536);
        ZSTD_outBuffer out = {b.data + b.len, b.cap - b.len - 1, 0};
        last = ZSTD_decompressStream(dc, &out, &in);
        assert_false(ZSTD_isError(last));
        b.len += out.pos;
        b.data[b.len] = 0;
    }
    assert_int_equal(last, 0); /* ended on a complete frame */
    ZSTD_freeDCtx(dc);
    free(z);
    *n = b.len;
    return b.data;
}

static void t_jsonl_gzip_zstd_roundtrip(void **st)
{
    (void)st;
    const char *names[2] = {"o.jsonl.gz", "o.jsonl.zst"};
    for (int k = 0; k < 2; k++) {
        export_config c = base_cfg("jsonl", tpath(names[k]));
        c.batch_bytes = 1000; /* several flushed batches */
        export_sink *s = open_sink(&export_jsonl_ops, &c);
        write_docs(s, 0, 50);
        assert_int_equal(s->ops->flush(s), NAHR_OK);
        s->ops->close(s);
        size_t n;
        char *out = k == 0 ? gunzip_file(tpath(names[k]), &n) : unzstd_file(tpath(names[k]), &n);
        expect_jsonl(out, n, 50);
        free(out);
        /* compressed for real */
        struct stat sb;
        assert_int_equal(stat(tpath(names[k]), &sb), 0);
        assert_true((size_t)sb.st_size < n / 3);
    }
}

/* No article at all: the .gz/.zst files are still valid (empty) streams. */
static void t_jsonl_empty_compressed(void **st)
{
    (void)st;
    const char *names[2] = {"e.jsonl.gz", "e.jsonl.zst"};
    for (int k = 0; k < 2; k++) {
        export_config c = base_cfg("jsonl", tpath(names[k]));
        export_sink *s = open_sink(&export_jsonl_ops, &c);
        assert_int_equal(s->ops->flush(s), NAHR_OK);
        s->ops->close(s);
        size_t n, zn;
        free(slurp(tpath(names[k]), &zn));
        assert_true(zn > 0);
        char *out = k == 0 ? gunzip_file(tpath(names[k]), &n) : unzstd_file(tpath(names[k]), &n);
        assert_int_equal(n, 0);
        free(out);
    }
}

static void t_jsonl_rotation(void **st)
{
    (void)st;
    const char *names[3] = {"r.jsonl", "r.jsonl.gz", "r.jsonl.zst"};
    for (int k = 0; k < 3; k++) {
        char rotated[512];
        export_config c = base_cfg("jsonl", tpath(names[k]));
        snprintf(rotated, sizeof rotated, "%s.1", c.path);
        export_sink *s = open_sink(&export_jsonl_ops, &c);
        write_docs(s, 0, 3);
        assert_int_equal(rename(c.path, rotated), 0); /* logrotate */
        assert_int_equal(s->ops->reopen(s), NAHR_OK);
        write_docs(s, 3, 5);
        assert_int_equal(s->ops->flush(s), NAHR_OK);
        s->ops->close(s);
        size_t n1, n2;
        char *a = k == 0 ? slurp(rotated, &n1) : k == 1 ? gunzip_file(rotated, &n1) : unzstd_file(rotated, &n1);
        char *b = k == 0 ? slurp(c.path, &n2) : k == 1 ? gunzip_file(c.path, &n2) : unzstd_file(c.path, &n2);
        assert_int_equal(count_lines(a, n1), 3);
        assert_int_equal(count_lines(b, n2), 2);
        assert_non_null(strstr(b, "\"id\":\"j3\""));
        free(a);
        free(b);
    }
}

static void t_jsonl_append_gzip_members(void **st)
{
    (void)st;
    export_config c = base_cfg("jsonl", tpath("app.jsonl.gz"));
    for (int run = 0; run < 2; run++) {
        c.append = run > 0;
        export_sink *s = open_sink(&export_jsonl_ops, &c);
        write_docs(s, 0, 4);
        assert_int_equal(s->ops->flush(s), NAHR_OK);
        s->ops->close(s);
    }
    size_t n;
    char *out = gunzip_file(c.path, &n);
    assert_int_equal(count_lines(out, n), 8);
    free(out);
}

static void t_jsonl_disk_full_and_unwritable(void **st)
{
    (void)st;
    export_config c = base_cfg("jsonl", "/dev/full");
    c.batch_bytes = 0; /* write each record at once */
    export_sink *s = open_sink(&export_jsonl_ops, &c);
    nahr_doc *d = make_doc("full", NULL);
    assert_true(s->ops->write(s, d) < 0);
    assert_non_null(strstr(s->err, "No space left on device"));
    assert_non_null(strstr(s->err, "records of this batch not written: 1"));
    s->ops->close(s);
    nahr_doc_free(d);

    c = base_cfg("jsonl", "/nonexistent-dir/x.jsonl");
    char err[512] = "";
    assert_true(export_jsonl_ops.open(&c, &s, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot open '/nonexistent-dir/x.jsonl'"));
    assert_non_null(strstr(err, "No such file or directory"));
}

/* ---- SQLite ---- */
static long q_long(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *stm;
    if (sqlite3_prepare_v2(h, sql, -1, &stm, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(stm), SQLITE_ROW);
    long v = (long)sqlite3_column_int64(stm, 0);
    sqlite3_finalize(stm);
    sqlite3_close(h);
    return v;
}

static void t_sqlite_schema_and_upsert(void **st)
{
    (void)st;
    const char *db = tpath("u.db");
    export_config c = base_cfg("sqlite", db);
    c.batch = 2;
    for (int run = 0; run < 2; run++) {
        export_sink *s = open_sink(&export_sqlite_ops, &c);
        for (int i = 0; i < 5; i++) {
            char id[16];
            snprintf(id, sizeof id, "s%d", i);
            nahr_doc *d = make_doc(id, run ? "عنوان جديد" : "عنوان");
            assert_int_equal(s->ops->write(s, d), NAHR_OK);
            nahr_doc_free(d);
        }
        assert_int_equal(s->ops->flush(s), NAHR_OK);
        s->ops->close(s);
        assert_int_equal(q_long(db, "select count(*) from articles"), 5);
        assert_int_equal(q_long(db, "select count(*) from mentions"), 15);
        assert_int_equal(q_long(db, "select count(*) from entities"), 10);
        assert_int_equal(q_long(db, "select count(*) from fields"), 10);
    }
    assert_int_equal(q_long(db, "select count(*) from articles where title = 'عنوان جديد'"), 5);
    assert_int_equal(q_long(db, "select sum(count) from entities where canonical = 'موسكو' and type = 'LOC'"), 10);
    assert_int_equal(q_long(db, "select char_start from mentions where article_id='s1' and idx=0"), 11);
    assert_int_equal(q_long(db, "select sentence from mentions where article_id='s1' and idx=2"), 1);
    assert_int_equal(q_long(db, "select count(*) from mentions where sentiment = 'positive'"), 5);
    assert_int_equal(q_long(db, "select count(*) from fields where key='sentiment' and "
                                "json_extract(value,'$.label')='neutral'"),
                     5);
    assert_int_equal(q_long(db, "select count(*) from articles where json_extract(fields,'$.removed[0]') "
                                "= 'سطر، بفاصلة'"),
                     5);
    /* WAL mode, and indexes for the obvious queries */
    sqlite3 *h;
    sqlite3_open(db, &h);
    sqlite3_stmt *stm;
    sqlite3_prepare_v2(h, "pragma journal_mode", -1, &stm, NULL);
    assert_int_equal(sqlite3_step(stm), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stm, 0), "wal");
    sqlite3_finalize(stm);
    sqlite3_close(h);
    assert_int_equal(q_long(db, "select count(*) from sqlite_master where type='index' and name in "
                                "('entities_by_canonical','entities_by_type','fields_by_key')"),
                     3);
}

/* A child writes 5 articles in batches of 2 and dies without flushing: the
 * database holds exactly the 4 committed ones, whole; a re-run completes it. */
static void t_sqlite_interrupted_then_rerun(void **st)
{
    (void)st;
    const char *db = tpath("k.db");
    export_config c = base_cfg("sqlite", db);
    c.batch = 2;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        export_sink *s = open_sink(&export_sqlite_ops, &c);
        for (int i = 0; i < 5; i++) {
            char id[16];
            snprintf(id, sizeof id, "k%d", i);
            nahr_doc *d = make_doc(id, NULL);
            if (s->ops->write(s, d) < 0)
                _exit(3);
        }
        raise(SIGKILL);
        _exit(4);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(q_long(db, "select count(*) from articles"), 4);
    assert_int_equal(q_long(db, "select count(*) from mentions"), 12);
    assert_int_equal(q_long(db, "select count(*) from articles a where n_mentions = "
                                "(select count(*) from mentions m where m.article_id = a.id)"),
                     4);
    export_sink *s = open_sink(&export_sqlite_ops, &c);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "k%d", i);
        nahr_doc *d = make_doc(id, NULL);
        assert_int_equal(s->ops->write(s, d), NAHR_OK);
        nahr_doc_free(d);
    }
    assert_int_equal(s->ops->flush(s), NAHR_OK);
    s->ops->close(s);
    assert_int_equal(q_long(db, "select count(*) from articles"), 5);
    assert_int_equal(q_long(db, "select count(distinct id) from articles"), 5);
    assert_int_equal(q_long(db, "select count(*) from mentions"), 15);
}

/* sync() makes what was written visible and durable mid-stream. */
static void t_sync_mid_stream(void **st)
{
    (void)st;
    export_config c = base_cfg("sqlite", tpath("sync.db"));
    export_sink *s = open_sink(&export_sqlite_ops, &c);
    write_docs(s, 0, 3);
    assert_int_equal(q_long(c.path, "select count(*) from articles"), 0); /* batch still open */
    assert_int_equal(s->ops->sync(s), NAHR_OK);
    assert_int_equal(q_long(c.path, "select count(*) from articles"), 3);
    write_docs(s, 3, 4);
    assert_int_equal(s->ops->flush(s), NAHR_OK);
    s->ops->close(s);
    assert_int_equal(q_long(c.path, "select count(*) from articles"), 4);

    export_config j = base_cfg("jsonl", tpath("sync.jsonl.zst"));
    s = open_sink(&export_jsonl_ops, &j);
    write_docs(s, 0, 2);
    assert_int_equal(s->ops->sync(s), NAHR_OK);
    /* decodable so far, stream not ended */
    size_t zn;
    char *z = slurp(j.path, &zn);
    char out[65536];
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    ZSTD_inBuffer in = {z, zn, 0};
    ZSTD_outBuffer ob = {out, sizeof out, 0};
    size_t left = ZSTD_decompressStream(dc, &ob, &in);
    assert_false(ZSTD_isError(left));
    assert_true(left > 0); /* frame not finished */
    assert_int_equal(count_lines(out, ob.pos), 2);
    ZSTD_freeDCtx(dc);
    free(z);
    write_docs(s, 2, 3);
    assert_int_equal(s->ops->flush(s), NAHR_OK);
    s->ops->close(s);
    size_t n;
    char *all = unzstd_file(j.path, &n);
    assert_int_equal(count_lines(all, n), 3);
    free(all);
}

static void t_sqlite_locked(void **st)
{
    (void)st;
    const char *db = tpath("l.db");
    export_config c = base_cfg("sqlite", db);
    c.busy_timeout_ms = 50;
    export_sink *s = open_sink(&export_sqlite_ops, &c);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    nahr_doc *d = make_doc("locked", NULL);
    assert_true(s->ops->write(s, d) < 0);
    assert_non_null(strstr(s->err, "locked"));
    sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
    /* the lock is gone: the same article goes through */
    assert_int_equal(s->ops->write(s, d), NAHR_OK);
    assert_int_equal(s->ops->flush(s), NAHR_OK);
    s->ops->close(s);
    sqlite3_close(h);
    assert_int_equal(q_long(db, "select count(*) from articles"), 1);
    nahr_doc_free(d);
}

/* File size limit (like a full disk): a clear error naming the lost batch,
 * and the database keeps the articles committed before. */
static void t_sqlite_full(void **st)
{
    (void)st;
    const char *db = tpath("f.db");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        export_config c = base_cfg("sqlite", db);
        c.batch = 10;
        export_sink *s = open_sink(&export_sqlite_ops, &c);
        struct rlimit rl = {512 * 1024, 512 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        int failed = 0;
        for (int i = 0; i < 400 && !failed; i++) {
            char id[16];
            snprintf(id, sizeof id, "f%d", i);
            nahr_doc *d = make_doc(id, NULL);
            if (s->ops->write(s, d) < 0)
                failed = 1;
            nahr_doc_free(d);
        }
        if (!failed && s->ops->flush(s) < 0)
            failed = 1;
        int ok = failed && (strstr(s->err, "not written") != NULL);
        if (!ok)
            fprintf(stderr, "failed=%d err=%s\n", failed, s->err);
        s->ops->close(s);
        _exit(ok ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long n = q_long(db, "select count(*) from articles");
    assert_true(n < 400);
    assert_int_equal(q_long(db, "select count(*) from articles a where n_mentions = "
                                "(select count(*) from mentions m where m.article_id = a.id)"),
                     n);
}

static void t_sqlite_bad_path(void **st)
{
    (void)st;
    export_config c = base_cfg("sqlite", "/nonexistent-dir/x.db");
    export_sink *s = NULL;
    char err[512] = "";
    assert_true(export_sqlite_ops.open(&c, &s, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
    /* a file that is not a database */
    const char *p = tu_write_temp(".db", "this is not a database at all, just text.......", 48);
    c.path = p;
    assert_true(export_sqlite_ops.open(&c, &s, err, sizeof err) < 0);
    assert_non_null(strstr(err, "not a database"));
    unlink(p);
}

static void t_postgres_bad_conninfo(void **st)
{
    (void)st;
    export_config c = base_cfg("postgres", "-");
    c.conninfo = "host=127.0.0.1 port=1 dbname=nope connect_timeout=2";
    c.schema = "public";
    export_sink *s = NULL;
    char err[512] = "";
    assert_true(export_postgres_ops.open(&c, &s, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(t_record_offsets_sentences_entities),
        cmocka_unit_test(t_record_sentences_match_tokenizer),
        cmocka_unit_test(t_record_empty_and_no_id),
        cmocka_unit_test(t_record_field_path),
        cmocka_unit_test(t_csv_quoting),
        cmocka_unit_test(t_csv_files),
        cmocka_unit_test(t_csv_stdout_needs_mentions_path),
        cmocka_unit_test(t_jsonl_gzip_zstd_roundtrip),
        cmocka_unit_test(t_jsonl_empty_compressed),
        cmocka_unit_test(t_jsonl_rotation),
        cmocka_unit_test(t_jsonl_append_gzip_members),
        cmocka_unit_test(t_jsonl_disk_full_and_unwritable),
        cmocka_unit_test(t_sqlite_schema_and_upsert),
        cmocka_unit_test(t_sqlite_interrupted_then_rerun),
        cmocka_unit_test(t_sync_mid_stream),
        cmocka_unit_test(t_sqlite_locked),
        cmocka_unit_test(t_sqlite_full),
        cmocka_unit_test(t_sqlite_bad_path),
        cmocka_unit_test(t_postgres_bad_conninfo),
    };
    return cmocka_run_group_tests(t, setup_dir, teardown_dir);
}
