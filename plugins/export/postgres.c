/* postgres.c - PostgreSQL sink (libpq): the SQLite schema (docs/export.md)
 * with jsonb for JSON columns, written with COPY.
 *
 * Articles of a batch are kept in memory as COPY text until the batch is
 * committed; committing COPYs them into session-local staging tables and
 * merges them into the real tables in one transaction (upsert of articles,
 * delete + insert of their mentions, entities and fields). So:
 *  - a crash or kill leaves whole articles only; a re-run completes it
 *    without duplicates (upsert by id);
 *  - a lost connection is retried with exponential backoff, replaying the
 *    batch, which is still in memory: nothing is lost, and a batch whose
 *    COMMIT did reach the server before the connection broke is merely
 *    written again (idempotent).
 * The connection string comes from `conninfo`, or from the PG* environment
 * (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD...) when it is empty. */
#include "sink.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { T_ARTICLES, T_MENTIONS, T_ENTITIES, T_FIELDS, T_COUNT };
static const char *const stage_table[T_COUNT] = {"nahr_stage_articles", "nahr_stage_mentions",
                                                 "nahr_stage_entities", "nahr_stage_fields"};

typedef struct pg_sink {
    export_sink base;
    PGconn *conn;
    char *schema_q; /* quoted identifier */
    nahr_buf copy[T_COUNT];
    size_t pending; /* articles in the copy buffers */
    nahr_buf tmp;
    unsigned reconnects;
    /* ids in the batch: open addressing over offsets into id_text (+1, so
     * 0 = empty); a repeated id commits the batch first */
    size_t *id_slots;
    size_t id_cap;
    nahr_buf id_text;
} pg_sink;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 1 when id is already in the batch, 0 after adding it, <0 on no memory. */
static int batch_id_add(pg_sink *s, const char *id)
{
    if (s->id_cap < 2 * (s->pending + 1)) {
        size_t cap = 64;
        while (cap < 4 * (s->pending + 1))
            cap *= 2;
        size_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return NAHR_ENOMEM;
        for (size_t i = 0; i < s->id_cap; i++)
            if (s->id_slots[i]) {
                size_t k = hash_str(s->id_text.data + s->id_slots[i] - 1) & (cap - 1);
                while (slots[k])
                    k = (k + 1) & (cap - 1);
                slots[k] = s->id_slots[i];
            }
        free(s->id_slots);
        s->id_slots = slots;
        s->id_cap = cap;
    }
    size_t k = hash_str(id) & (s->id_cap - 1);
    for (; s->id_slots[k]; k = (k + 1) & (s->id_cap - 1))
        if (strcmp(s->id_text.data + s->id_slots[k] - 1, id) == 0)
            return 1;
    size_t off = s->id_text.len;
    if (nahr_buf_append(&s->id_text, id, strlen(id) + 1) < 0)
        return NAHR_ENOMEM;
    s->id_slots[k] = off + 1;
    return 0;
}

static const char schema_tables[] =
    "CREATE TABLE IF NOT EXISTS nahr_meta(key text PRIMARY KEY, value text NOT NULL);\n"
    "INSERT INTO nahr_meta VALUES('schema_version','1') ON CONFLICT DO NOTHING;\n"
    "CREATE TABLE IF NOT EXISTS articles(id text PRIMARY KEY, title text, url text, date text, source text,"
    " text text NOT NULL, n_mentions integer NOT NULL, fields jsonb NOT NULL, updated_at timestamptz NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS mentions(article_id text NOT NULL, idx integer NOT NULL, type text NOT NULL,"
    " text text NOT NULL, canonical text, char_start integer NOT NULL, char_end integer NOT NULL,"
    " sentence integer, sentiment text, sentiment_score double precision, score double precision, attrs jsonb,"
    " PRIMARY KEY(article_id, idx));\n"
    "CREATE TABLE IF NOT EXISTS entities(article_id text NOT NULL, type text NOT NULL, canonical text NOT NULL,"
    " count integer NOT NULL, first_start integer NOT NULL, sentiment text,"
    " PRIMARY KEY(article_id, type, canonical));\n"
    "CREATE TABLE IF NOT EXISTS fields(article_id text NOT NULL, key text NOT NULL, value jsonb NOT NULL,"
    " PRIMARY KEY(article_id, key));\n"
    "CREATE INDEX IF NOT EXISTS entities_by_canonical ON entities(canonical, type);\n"
    "CREATE INDEX IF NOT EXISTS entities_by_type ON entities(type, canonical);\n"
    "CREATE INDEX IF NOT EXISTS fields_by_key ON fields(key);\n"
    "CREATE INDEX IF NOT EXISTS articles_by_date ON articles(date);\n";

static const char staging_tables[] =
    "CREATE TEMP TABLE IF NOT EXISTS nahr_stage_articles(id text, title text, url text, date text,"
    " source text, text text, n_mentions integer, fields jsonb) ON COMMIT DELETE ROWS;\n"
    "CREATE TEMP TABLE IF NOT EXISTS nahr_stage_mentions(article_id text, idx integer, type text,"
    " text text, canonical text, char_start integer, char_end integer, sentence integer, sentiment text,"
    " sentiment_score double precision, score double precision, attrs jsonb) ON COMMIT DELETE ROWS;\n"
    "CREATE TEMP TABLE IF NOT EXISTS nahr_stage_entities(article_id text, type text,"
    " canonical text, count integer, first_start integer, sentiment text) ON COMMIT DELETE ROWS;\n"
    "CREATE TEMP TABLE IF NOT EXISTS nahr_stage_fields(article_id text, key text, value jsonb)"
    " ON COMMIT DELETE ROWS;\n";

/* A batch never holds the same article id twice (pg_write commits first),
 * so the merge needs no join between staging tables. */
static const char merge_sql[] =
    /* the staging tables are never analysed: without this the planner may
     * hash-join them against a full scan of mentions/entities/fields, which
     * grows with the table; index probes stay constant per article */
    "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;\n"
    "INSERT INTO articles(id,title,url,date,source,text,n_mentions,fields,updated_at)"
    " SELECT id,title,url,date,source,text,n_mentions,fields,now() FROM nahr_stage_articles"
    " ON CONFLICT (id) DO UPDATE SET title=excluded.title, url=excluded.url, date=excluded.date,"
    " source=excluded.source, text=excluded.text, n_mentions=excluded.n_mentions, fields=excluded.fields,"
    " updated_at=excluded.updated_at;\n"
    "DELETE FROM mentions WHERE article_id IN (SELECT id FROM nahr_stage_articles);\n"
    "DELETE FROM entities WHERE article_id IN (SELECT id FROM nahr_stage_articles);\n"
    "DELETE FROM fields WHERE article_id IN (SELECT id FROM nahr_stage_articles);\n"
    "INSERT INTO mentions SELECT * FROM nahr_stage_mentions;\n"
    "INSERT INTO entities SELECT * FROM nahr_stage_entities;\n"
    "INSERT INTO fields SELECT * FROM nahr_stage_fields;\n"
    "COMMIT;\n";

static int commit(pg_sink *s);

/* ---- COPY text format ---- */
static int copy_text(nahr_buf *b, const char *s, size_t n)
{
    if (!s)
        return nahr_buf_puts(b, "\\N");
    int rc = 0;
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        char e = 0;
        switch (s[i]) {
        case '\\': e = '\\'; break;
        case '\t': e = 't'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        default: continue;
        }
        rc |= nahr_buf_append(b, s + from, i - from);
        rc |= nahr_buf_putc(b, '\\');
        rc |= nahr_buf_putc(b, e);
        from = i + 1;
    }
    rc |= nahr_buf_append(b, s + from, n - from);
    return rc;
}
static int copy_cstr(nahr_buf *b, const char *s) { return copy_text(b, s, s ? strlen(s) : 0); }
static int copy_real(nahr_buf *b, double x)
{
    return isnan(x) ? nahr_buf_puts(b, "\\N") : nahr_buf_printf(b, "%.17g", x);
}

/* ---- connection ---- */
static int exec_ok(PGconn *c, const char *sql, char *err, size_t errsize)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errsize, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? NAHR_OK : NAHR_EIO;
}

static void chomp(char *s)
{
    size_t l = strlen(s);
    while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
        s[--l] = 0;
}

/* (Re)connects unless keep and the connection is up, then sets the
 * session up: encoding, schema, tables, staging tables. */
static int pg_connect(pg_sink *s, bool keep, char *err, size_t errsize)
{
    if (!keep || !s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        if (s->conn)
            PQfinish(s->conn);
        s->conn = PQconnectdb(s->base.cfg->conninfo ? s->base.cfg->conninfo : "");
        if (!s->conn) {
            snprintf(err, errsize, "out of memory");
            return NAHR_ENOMEM;
        }
        if (PQstatus(s->conn) != CONNECTION_OK) {
            snprintf(err, errsize, "cannot connect to PostgreSQL: %s", PQerrorMessage(s->conn));
            chomp(err);
            return NAHR_EIO;
        }
    }
    if (PQsetClientEncoding(s->conn, "UTF8") != 0) {
        snprintf(err, errsize, "cannot set client encoding UTF8: %s", PQerrorMessage(s->conn));
        chomp(err);
        return NAHR_EIO;
    }
    char sql[1024], e[768];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS %s; SET search_path = %s",
             s->schema_q, s->schema_q);
    if (exec_ok(s->conn, sql, e, sizeof e) < 0 || exec_ok(s->conn, schema_tables, e, sizeof e) < 0 ||
        exec_ok(s->conn, staging_tables, e, sizeof e) < 0) {
        chomp(e);
        snprintf(err, errsize, "cannot create the schema: %s", e);
        return NAHR_EIO;
    }
    return NAHR_OK;
}

static void pg_close(export_sink *b)
{
    pg_sink *s = (pg_sink *)b;
    if (s->conn && s->pending && commit(s) < 0)
        nahr_log(NAHR_LOG_ERROR, "export (postgres): %s", s->base.err);
    if (s->conn)
        PQfinish(s->conn);
    for (int i = 0; i < T_COUNT; i++)
        nahr_buf_free(&s->copy[i]);
    nahr_buf_free(&s->tmp);
    free(s->id_slots);
    nahr_buf_free(&s->id_text);
    PQfreemem(s->schema_q);
    free(s);
}

static int pg_open(const export_config *cfg, export_sink **out, char *err, size_t errsize)
{
    pg_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    s->base.ops = &export_postgres_ops;
    s->base.cfg = cfg;
    /* quote the schema name with a throw-away connection object's escaping:
     * PQescapeIdentifier needs a connection, so connect first */
    s->conn = PQconnectdb(cfg->conninfo ? cfg->conninfo : "");
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        snprintf(err, errsize, "cannot connect to PostgreSQL: %s", s->conn ? PQerrorMessage(s->conn) : "out of memory");
        chomp(err);
        pg_close(&s->base);
        return NAHR_EIO;
    }
    s->schema_q = PQescapeIdentifier(s->conn, cfg->schema, strlen(cfg->schema));
    if (!s->schema_q) {
        snprintf(err, errsize, "bad schema name: %s", PQerrorMessage(s->conn));
        chomp(err);
        pg_close(&s->base);
        return NAHR_EINVAL;
    }
    int rc = pg_connect(s, true, err, errsize);
    if (rc < 0) {
        pg_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return NAHR_OK;
}

/* Sends one COPY buffer. */
static int copy_in(pg_sink *s, int t, char *err, size_t errsize)
{
    char sql[128];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", stage_table[t]);
    PGresult *r = PQexec(s->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        snprintf(err, errsize, "%s", PQresultErrorMessage(r));
        PQclear(r);
        return NAHR_EIO;
    }
    PQclear(r);
    const char *p = s->copy[t].data;
    size_t n = s->copy[t].len;
    while (n) {
        int chunk = n > (1u << 20) ? (1 << 20) : (int)n;
        if (PQputCopyData(s->conn, p, chunk) != 1) {
            snprintf(err, errsize, "%s", PQerrorMessage(s->conn));
            return NAHR_EIO;
        }
        p += chunk;
        n -= (size_t)chunk;
    }
    if (PQputCopyEnd(s->conn, NULL) != 1) {
        snprintf(err, errsize, "%s", PQerrorMessage(s->conn));
        return NAHR_EIO;
    }
    int ok = 1;
    while ((r = PQgetResult(s->conn))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            if (ok)
                snprintf(err, errsize, "%s", PQresultErrorMessage(r));
            ok = 0;
        }
        PQclear(r);
    }
    return ok ? NAHR_OK : NAHR_EIO;
}

static int send_batch(pg_sink *s, char *err, size_t errsize)
{
    if (exec_ok(s->conn, "BEGIN", err, errsize) < 0)
        return NAHR_EIO;
    for (int t = 0; t < T_COUNT; t++)
        if (s->copy[t].len && copy_in(s, t, err, errsize) < 0)
            goto fail;
    if (exec_ok(s->conn, merge_sql, err, errsize) < 0)
        goto fail;
    return NAHR_OK;
fail:
    if (PQstatus(s->conn) == CONNECTION_OK) {
        char e2[256];
        exec_ok(s->conn, "ROLLBACK", e2, sizeof e2);
    }
    return NAHR_EIO;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void clear_batch(pg_sink *s)
{
    for (int t = 0; t < T_COUNT; t++)
        nahr_buf_reset(&s->copy[t]);
    s->pending = 0;
    if (s->id_slots)
        memset(s->id_slots, 0, s->id_cap * sizeof *s->id_slots);
    nahr_buf_reset(&s->id_text);
}

/* Commits the batch; on a lost connection reconnects with backoff and
 * replays it. */
static int commit(pg_sink *s)
{
    if (!s->pending)
        return NAHR_OK;
    char err[768] = "";
    long delay = s->base.cfg->retry_delay_ms;
    for (int attempt = 0;; attempt++) {
        if (PQstatus(s->conn) == CONNECTION_OK && send_batch(s, err, sizeof err) == NAHR_OK) {
            clear_batch(s);
            return NAHR_OK;
        }
        bool lost = PQstatus(s->conn) != CONNECTION_OK;
        chomp(err);
        if (!lost || attempt >= s->base.cfg->retries) {
            size_t n = s->pending;
            clear_batch(s);
            return sink_fail(&s->base, NAHR_EIO,
                             "PostgreSQL: %s%s (the last %zu articles were not written)",
                             lost ? "connection lost, retries exhausted: " : "", err, n);
        }
        nahr_log(NAHR_LOG_WARN, "export (postgres): connection lost (%s); reconnecting in %ld ms (attempt %d of %d)",
                 *err ? err : "no message", delay, attempt + 1, s->base.cfg->retries);
        sleep_ms(delay);
        delay = delay * 2 > 10000 ? 10000 : delay * 2;
        if (pg_connect(s, false, err, sizeof err) == NAHR_OK)
            s->reconnects++;
    }
}

static int pg_write(export_sink *b, nahr_doc *doc)
{
    pg_sink *s = (pg_sink *)b;
    export_record rec;
    if (record_build(doc, b->cfg->layer, &rec) < 0)
        return sink_fail(b, NAHR_ENOMEM, "out of memory while building the record");
    int dup = batch_id_add(s, rec.id);
    if (dup > 0) {
        /* the same id twice in one batch: commit the first, then go on */
        if (commit(s) < 0)
            return NAHR_EIO;
        dup = batch_id_add(s, rec.id);
    }
    if (dup < 0)
        return sink_fail(b, NAHR_ENOMEM, "out of memory");
    size_t before[T_COUNT];
    for (int t = 0; t < T_COUNT; t++)
        before[t] = s->copy[t].len;
    size_t tl;
    const char *text = nahr_doc_text(doc, &tl);
    int rc = 0;
    nahr_buf *a = &s->copy[T_ARTICLES];
        rc |= copy_cstr(a, rec.id);
    static const char *const meta[] = {"title", "url", "date", "source"};
    for (int i = 0; i < 4; i++) {
        rc |= nahr_buf_putc(a, '\t');
        rc |= copy_cstr(a, nahr_doc_get(doc, meta[i]));
    }
    rc |= nahr_buf_putc(a, '\t');
    rc |= copy_text(a, text ? text : "", text ? tl : 0);
    rc |= nahr_buf_printf(a, "\t%zu\t", rec.nmentions);
    nahr_buf_reset(&s->tmp);
    rc |= record_fields_json(doc, &s->tmp);
    rc |= copy_text(a, s->tmp.data ? s->tmp.data : "{}", s->tmp.data ? s->tmp.len : 2);
    rc |= nahr_buf_putc(a, '\n');

    nahr_buf *m = &s->copy[T_MENTIONS];
    for (size_t i = 0; i < rec.nmentions && !rc; i++) {
        const export_mention *mm = &rec.mentions[i];
                rc |= copy_cstr(m, rec.id);
        rc |= nahr_buf_printf(m, "\t%zu\t", i);
        rc |= copy_cstr(m, mm->type);
        rc |= nahr_buf_putc(m, '\t');
        rc |= copy_text(m, mm->text, mm->text_len);
        rc |= nahr_buf_putc(m, '\t');
        rc |= copy_cstr(m, mm->canonical);
        rc |= nahr_buf_printf(m, "\t%zu\t%zu\t%ld\t", mm->cp_start, mm->cp_end, mm->sentence);
        rc |= copy_cstr(m, mm->sentiment);
        rc |= nahr_buf_putc(m, '\t');
        rc |= copy_real(m, mm->sentiment_score);
        rc |= nahr_buf_putc(m, '\t');
        rc |= copy_real(m, mm->score >= 0 ? mm->score : NAN);
        rc |= nahr_buf_putc(m, '\t');
        if (mm->attrs && nahr_value_len(mm->attrs)) {
            nahr_buf_reset(&s->tmp);
            rc |= nahr_value_write_json(mm->attrs, &s->tmp);
            rc |= copy_text(m, s->tmp.data, s->tmp.len);
        } else {
            rc |= nahr_buf_puts(m, "\\N");
        }
        rc |= nahr_buf_putc(m, '\n');
    }
    nahr_buf *e = &s->copy[T_ENTITIES];
    for (size_t i = 0; i < rec.nentities && !rc; i++) {
        const export_entity *en = &rec.entities[i];
        const export_mention *fm = &rec.mentions[en->first_mention];
                rc |= copy_cstr(e, rec.id);
        rc |= nahr_buf_putc(e, '\t');
        rc |= copy_cstr(e, en->type);
        rc |= nahr_buf_putc(e, '\t');
        rc |= copy_text(e, en->canonical, en->canonical_len);
        rc |= nahr_buf_printf(e, "\t%zu\t%zu\t", en->count, fm->cp_start);
        rc |= copy_cstr(e, fm->sentiment);
        rc |= nahr_buf_putc(e, '\n');
    }
    nahr_buf *f = &s->copy[T_FIELDS];
    size_t nf = nahr_doc_field_count(doc);
    for (size_t i = 0; i < nf && !rc; i++) {
        const char *key;
        const nahr_value *v = nahr_doc_field_at(doc, i, &key);
                rc |= copy_cstr(f, rec.id);
        rc |= nahr_buf_putc(f, '\t');
        rc |= copy_cstr(f, key);
        rc |= nahr_buf_putc(f, '\t');
        nahr_buf_reset(&s->tmp);
        rc |= nahr_value_write_json(v, &s->tmp);
        rc |= copy_text(f, s->tmp.data, s->tmp.len);
        rc |= nahr_buf_putc(f, '\n');
    }
    if (rc) {
        for (int t = 0; t < T_COUNT; t++)
            s->copy[t].len = before[t];
        return sink_fail(b, NAHR_ENOMEM, "out of memory while writing the record");
    }
    s->pending++;
    if (s->pending >= b->cfg->batch)
        return commit(s);
    return NAHR_OK;
}

static int pg_flush(export_sink *b) { return commit((pg_sink *)b); }

const export_sink_ops export_postgres_ops = {
    .format = "postgres",
    .open = pg_open,
    .write = pg_write,
    .flush = pg_flush,
    .sync = pg_flush,
    .reopen = NULL,
    .close = pg_close,
};
