/* sqlite.c - SQLite sink: the schema below (docs/export.md), WAL mode,
 * batched transactions, upsert by article id.
 *
 * Each article is written inside a SAVEPOINT of the open batch transaction:
 * an article that fails is rolled back alone (and dead-lettered) while the
 * batch goes on. The batch commits every `batch` articles and at flush, so
 * a crash loses at most the uncommitted batch and leaves whole articles
 * only; re-running the same input replaces each article's rows (delete +
 * insert of its mentions, entities and fields, upsert of the article), so
 * a re-run completes an interrupted one without duplicates. */
#include "sink.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION "1"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS nahr_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "INSERT OR IGNORE INTO nahr_meta VALUES('schema_version', '" SCHEMA_VERSION "');\n"
    "CREATE TABLE IF NOT EXISTS articles(\n"
    "  id TEXT PRIMARY KEY,\n"
    "  title TEXT, url TEXT, date TEXT, source TEXT,\n"
    "  text TEXT NOT NULL,\n"
    "  n_mentions INTEGER NOT NULL,\n"
    "  fields TEXT NOT NULL,\n" /* every document-level field, one JSON object */
    "  updated_at TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS mentions(\n"
    "  article_id TEXT NOT NULL, idx INTEGER NOT NULL,\n"
    "  type TEXT NOT NULL, text TEXT NOT NULL, canonical TEXT,\n"
    "  char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, sentence INTEGER,\n"
    "  sentiment TEXT, sentiment_score REAL, score REAL, attrs TEXT,\n"
    "  PRIMARY KEY(article_id, idx)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS entities(\n"
    "  article_id TEXT NOT NULL, type TEXT NOT NULL, canonical TEXT NOT NULL,\n"
    "  count INTEGER NOT NULL, first_start INTEGER NOT NULL, sentiment TEXT,\n"
    "  PRIMARY KEY(article_id, type, canonical)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS fields(\n"
    "  article_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,\n" /* JSON */
    "  PRIMARY KEY(article_id, key)) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS entities_by_canonical ON entities(canonical, type);\n"
    "CREATE INDEX IF NOT EXISTS entities_by_type ON entities(type, canonical);\n"
    "CREATE INDEX IF NOT EXISTS fields_by_key ON fields(key);\n"
    "CREATE INDEX IF NOT EXISTS articles_by_date ON articles(date);\n";

enum {
    ST_UPSERT,
    ST_DEL_MENTIONS,
    ST_DEL_ENTITIES,
    ST_DEL_FIELDS,
    ST_INS_MENTION,
    ST_INS_ENTITY,
    ST_INS_FIELD,
    ST_BEGIN,
    ST_COMMIT,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_UPSERT] = "INSERT INTO articles(id,title,url,date,source,text,n_mentions,fields,updated_at) "
                  "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,strftime('%Y-%m-%dT%H:%M:%fZ','now')) "
                  "ON CONFLICT(id) DO UPDATE SET title=excluded.title, url=excluded.url, date=excluded.date, "
                  "source=excluded.source, text=excluded.text, n_mentions=excluded.n_mentions, "
                  "fields=excluded.fields, updated_at=excluded.updated_at",
    [ST_DEL_MENTIONS] = "DELETE FROM mentions WHERE article_id=?1",
    [ST_DEL_ENTITIES] = "DELETE FROM entities WHERE article_id=?1",
    [ST_DEL_FIELDS] = "DELETE FROM fields WHERE article_id=?1",
    [ST_INS_MENTION] = "INSERT INTO mentions(article_id,idx,type,text,canonical,char_start,char_end,sentence,"
                       "sentiment,sentiment_score,score,attrs) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    [ST_INS_ENTITY] = "INSERT INTO entities(article_id,type,canonical,count,first_start,sentiment) "
                      "VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_INS_FIELD] = "INSERT INTO fields(article_id,key,value) VALUES(?1,?2,?3)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_SAVEPOINT] = "SAVEPOINT article",
    [ST_RELEASE] = "RELEASE article",
    [ST_ROLLBACK_TO] = "ROLLBACK TO article",
};

typedef struct sqlite_sink {
    export_sink base;
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    size_t pending; /* articles in the open transaction */
    nahr_buf json;
} sqlite_sink;

static int step(sqlite_sink *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? NAHR_OK : rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t n)
{
    if (s)
        sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_cstr(sqlite3_stmt *st, int i, const char *s) { bind_text(st, i, s, s ? strlen(s) : 0); }

static void bind_real(sqlite3_stmt *st, int i, double x)
{
    if (isnan(x) || x < -1e300)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, x);
}

static void sqlite_close(export_sink *b)
{
    sqlite_sink *s = (sqlite_sink *)b;
    if (s->db && s->pending && !sqlite3_get_autocommit(s->db))
        step(s, ST_COMMIT); /* destroy without flush: keep what was written */
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    nahr_buf_free(&s->json);
    free(s);
}

static int sqlite_open(const export_config *cfg, export_sink **out, char *err, size_t errsize)
{
    sqlite_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    s->base.ops = &export_sqlite_ops;
    s->base.cfg = cfg;
    const char *what = "open";
    int rc = sqlite3_open_v2(cfg->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, cfg->busy_timeout_ms);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-65536; PRAGMA temp_store=memory;",
             cfg->synchronous ? cfg->synchronous : "normal");
    what = "set WAL mode on";
    if ((rc = sqlite3_exec(s->db, pragmas, NULL, NULL, NULL)) != SQLITE_OK)
        goto fail;
    what = "create the schema in";
    if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        goto fail;
    if ((rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        snprintf(err, errsize, "cannot create the schema in '%s': %s", cfg->path, sqlite3_errmsg(s->db));
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite_close(&s->base);
        return NAHR_EIO;
    }
    what = "prepare statements for (existing tables with another schema?)";
    for (int i = 0; i < ST_COUNT; i++)
        if ((rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL)) !=
            SQLITE_OK)
            goto fail;
    *out = &s->base;
    return NAHR_OK;
fail:
    snprintf(err, errsize, "cannot %s SQLite database '%s': %s", what, cfg->path,
             s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    sqlite_close(&s->base);
    return NAHR_EIO;
}

static int commit(sqlite_sink *s)
{
    if (!s->pending && sqlite3_get_autocommit(s->db))
        return NAHR_OK;
    int rc = step(s, ST_COMMIT);
    if (rc != NAHR_OK) {
        size_t lost = s->pending;
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(s->db));
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->pending = 0;
        return sink_fail(&s->base, NAHR_EIO,
                         "SQLite commit to '%s' failed: %s (the last %zu articles were not written)",
                         s->base.cfg->path, msg, lost);
    }
    s->pending = 0;
    return NAHR_OK;
}

/* Writes the article's rows; called inside the savepoint. */
static int write_rows(sqlite_sink *s, nahr_doc *doc, const export_record *rec)
{
    sqlite3_stmt *st;
    int rc;
    size_t tl;
    const char *text = nahr_doc_text(doc, &tl);
    nahr_buf_reset(&s->json);
    if (record_fields_json(doc, &s->json) < 0)
        return SQLITE_NOMEM;

    st = s->st[ST_UPSERT];
    bind_cstr(st, 1, rec->id);
    bind_cstr(st, 2, nahr_doc_get(doc, "title"));
    bind_cstr(st, 3, nahr_doc_get(doc, "url"));
    bind_cstr(st, 4, nahr_doc_get(doc, "date"));
    bind_cstr(st, 5, nahr_doc_get(doc, "source"));
    bind_text(st, 6, text ? text : "", text ? tl : 0);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)rec->nmentions);
    bind_text(st, 8, s->json.data, s->json.len);
    if ((rc = step(s, ST_UPSERT)))
        return rc;
    for (int w = ST_DEL_MENTIONS; w <= ST_DEL_FIELDS; w++) {
        bind_cstr(s->st[w], 1, rec->id);
        if ((rc = step(s, w)))
            return rc;
    }

    st = s->st[ST_INS_MENTION];
    nahr_buf attrs = {0};
    for (size_t i = 0; i < rec->nmentions; i++) {
        const export_mention *m = &rec->mentions[i];
        bind_cstr(st, 1, rec->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        bind_cstr(st, 3, m->type);
        bind_text(st, 4, m->text, m->text_len);
        bind_cstr(st, 5, m->canonical);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)m->cp_start);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)m->cp_end);
        sqlite3_bind_int64(st, 8, m->sentence);
        bind_cstr(st, 9, m->sentiment);
        bind_real(st, 10, m->sentiment_score);
        bind_real(st, 11, m->score >= 0 ? m->score : NAN);
        nahr_buf_reset(&attrs);
        if (m->attrs && nahr_value_len(m->attrs)) {
            if (nahr_value_write_json(m->attrs, &attrs) < 0) {
                nahr_buf_free(&attrs);
                return SQLITE_NOMEM;
            }
            bind_text(st, 12, attrs.data, attrs.len);
        } else {
            sqlite3_bind_null(st, 12);
        }
        if ((rc = step(s, ST_INS_MENTION))) {
            nahr_buf_free(&attrs);
            return rc;
        }
    }
    nahr_buf_free(&attrs);

    st = s->st[ST_INS_ENTITY];
    for (size_t i = 0; i < rec->nentities; i++) {
        const export_entity *e = &rec->entities[i];
        const export_mention *m = &rec->mentions[e->first_mention];
        bind_cstr(st, 1, rec->id);
        bind_cstr(st, 2, e->type);
        bind_text(st, 3, e->canonical, e->canonical_len);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)e->count);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)m->cp_start);
        bind_cstr(st, 6, m->sentiment);
        if ((rc = step(s, ST_INS_ENTITY)))
            return rc;
    }

    st = s->st[ST_INS_FIELD];
    size_t nf = nahr_doc_field_count(doc);
    for (size_t i = 0; i < nf; i++) {
        const char *key;
        const nahr_value *v = nahr_doc_field_at(doc, i, &key);
        nahr_buf_reset(&s->json);
        if (nahr_value_write_json(v, &s->json) < 0)
            return SQLITE_NOMEM;
        bind_cstr(st, 1, rec->id);
        bind_cstr(st, 2, key);
        bind_text(st, 3, s->json.data, s->json.len);
        if ((rc = step(s, ST_INS_FIELD)))
            return rc;
    }
    return SQLITE_OK;
}

static int sqlite_write(export_sink *b, nahr_doc *doc)
{
    sqlite_sink *s = (sqlite_sink *)b;
    export_record rec;
    if (record_build(doc, b->cfg->layer, &rec) < 0)
        return sink_fail(b, NAHR_ENOMEM, "out of memory while building the record");
    int rc;
    if (sqlite3_get_autocommit(s->db)) {
        s->pending = 0;
        if ((rc = step(s, ST_BEGIN)))
            return sink_fail(b, NAHR_EIO, "cannot start a transaction on '%s': %s", b->cfg->path,
                             sqlite3_errmsg(s->db));
    }
    if ((rc = step(s, ST_SAVEPOINT)))
        return sink_fail(b, NAHR_EIO, "SQLite savepoint on '%s': %s", b->cfg->path, sqlite3_errmsg(s->db));
    rc = write_rows(s, doc, &rec);
    if (rc != SQLITE_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db));
        if (sqlite3_get_autocommit(s->db)) {
            /* SQLite rolled the whole transaction back (disk full, I/O error) */
            size_t lost = s->pending;
            s->pending = 0;
            return sink_fail(b, NAHR_EIO,
                             "SQLite write to '%s' failed: %s (this article and the %zu before it in the "
                             "uncommitted batch were not written)",
                             b->cfg->path, msg, lost);
        }
        step(s, ST_ROLLBACK_TO);
        step(s, ST_RELEASE);
        return sink_fail(b, NAHR_EIO, "SQLite write of article '%s' to '%s' failed: %s", rec.id, b->cfg->path,
                         msg);
    }
    if ((rc = step(s, ST_RELEASE)))
        return sink_fail(b, NAHR_EIO, "SQLite release on '%s': %s", b->cfg->path, sqlite3_errmsg(s->db));
    s->pending++;
    if (s->pending >= b->cfg->batch)
        return commit(s);
    return NAHR_OK;
}

/* Durability of a commit follows `synchronous` (normal: survives a crash of
 * nahr; full: also a power loss). */
static int sqlite_flush(export_sink *b) { return commit((sqlite_sink *)b); }

const export_sink_ops export_sqlite_ops = {
    .format = "sqlite",
    .open = sqlite_open,
    .write = sqlite_write,
    .flush = sqlite_flush,
    .sync = sqlite_flush,
    .reopen = NULL,
    .close = sqlite_close,
};
