/* export - writes each article to one sink: JSON Lines (plain, .gz, .zst),
 * CSV (articles + mentions), SQLite or PostgreSQL. One pipeline writes
 * several sinks by listing several export stages (give each a `name`).
 *
 * This file holds the option table (the one place options are declared),
 * checks that format-specific options are only set for their format, and
 * dispatches to the format's sink (jsonl.c, csv.c, sqlite.c, postgres.c,
 * behind the vtable in sink.h). Runs NAHR_THREAD_ORDERED_POST: one thread,
 * input order. */
#include "sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const nahr_option export_options[] = {
    {"format", NAHR_OPT_STRING, "jsonl", "output format (nats: when built with libnats)", "jsonl|csv|sqlite|postgres|nats"},
    {"path", NAHR_OPT_STRING, "-",
     "output file (jsonl, csv: \"-\" = stdout) or database file (sqlite); relative to the working directory",
     NULL},
    {"append", NAHR_OPT_BOOL, "false", "jsonl, csv: append to existing files instead of replacing them", NULL},
    {"fsync", NAHR_OPT_BOOL, "false", "jsonl, csv: fsync the files at the end of the run and at each sync point", NULL},
    {"batch_bytes", NAHR_OPT_INT, "65536", "jsonl, csv: write in batches of about this many bytes (whole records)",
     "0:67108864"},
    {"compress", NAHR_OPT_STRING, "auto", "jsonl: compression; auto = gzip for .gz, zstd for .zst, else none",
     "auto|none|gzip|zstd"},
    {"compress_level", NAHR_OPT_INT, "0", "jsonl: compression level; 0 = fast default (gzip 1, zstd 3)", "0:22"},
    {"layer", NAHR_OPT_STRING, "entities", "csv, sqlite, postgres: span layer written as mentions and entities",
     NULL},
    {"mentions_path", NAHR_OPT_STRING, NULL,
     "csv: mentions file (default: PATH with .csv replaced by .mentions.csv; \"none\" = no mentions file)", NULL},
    {"bom", NAHR_OPT_BOOL, "false", "csv: start new files with a UTF-8 byte-order mark (for spreadsheets)", NULL},
    {"fields", NAHR_OPT_LIST, NULL,
     "csv: document fields written as extra article columns, dotted paths (\"sentiment.label\")", NULL},
    {"batch", NAHR_OPT_INT, "1000", "sqlite, postgres: articles per transaction", "1:1000000"},
    {"synchronous", NAHR_OPT_STRING, "normal", "sqlite: PRAGMA synchronous (full = durable at each commit)",
     "off|normal|full"},
    {"busy_timeout_ms", NAHR_OPT_INT, "5000", "sqlite: wait this long for a locked database", "0:3600000"},
    {"conninfo", NAHR_OPT_STRING, "",
     "postgres: libpq connection string or URI; empty = the PG* environment variables", NULL},
    {"schema", NAHR_OPT_STRING, "public", "postgres: schema holding the tables (created if missing)", NULL},
    {"retries", NAHR_OPT_INT, "8", "postgres: reconnect attempts per batch after a lost connection", "0:1000"},
    {"retry_delay_ms", NAHR_OPT_INT, "200", "postgres: first reconnect delay; doubles up to 10 s", "1:60000"},
    {"url", NAHR_OPT_STRING, "nats://127.0.0.1:4222", "nats: server URL (comma-separated for a cluster)", NULL},
    {"subject", NAHR_OPT_STRING, "nahr.out", "nats: subject to publish to (an existing JetStream stream must capture it)",
     NULL},
    NAHR_OPTIONS_END,
};

/* Which formats each option applies to (options absent here apply to all). */
enum { F_JSONL = 1, F_CSV = 2, F_SQLITE = 4, F_PG = 8, F_NATS = 16 };
static const struct {
    const char *name;
    unsigned formats;
} option_scope[] = {
    {"path", F_JSONL | F_CSV | F_SQLITE},
    {"append", F_JSONL | F_CSV},
    {"fsync", F_JSONL | F_CSV},
    {"batch_bytes", F_JSONL | F_CSV},
    {"compress", F_JSONL},
    {"compress_level", F_JSONL},
    {"layer", F_CSV | F_SQLITE | F_PG},
    {"mentions_path", F_CSV},
    {"bom", F_CSV},
    {"fields", F_CSV},
    {"batch", F_SQLITE | F_PG},
    {"synchronous", F_SQLITE},
    {"busy_timeout_ms", F_SQLITE},
    {"conninfo", F_PG},
    {"schema", F_PG},
    {"retries", F_PG},
    {"retry_delay_ms", F_PG},
    {"url", F_NATS},
    {"subject", F_NATS},
};

static const struct {
    const char *name;
    unsigned bit;
    const export_sink_ops *ops;
} formats[] = {
    {"jsonl", F_JSONL, &export_jsonl_ops},
    {"csv", F_CSV, &export_csv_ops},
    {"sqlite", F_SQLITE, &export_sqlite_ops},
    {"postgres", F_PG, &export_postgres_ops},
#ifdef EXPORT_HAVE_NATS
    {"nats", F_NATS, &export_nats_ops},
#endif
};

typedef struct export_state {
    export_config cfg;
    export_sink *sink;
    int index; /* stage number, for the closing log line */
    uint64_t busy_ns;  /* time spent in the sink (monotonic clock: a vDSO call, not a system call per article) */
} export_state;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *formats_of(unsigned mask, char *buf, size_t n)
{
    buf[0] = 0;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (mask & formats[i].bit) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", l ? ", " : "", formats[i].name);
        }
    return buf;
}

static int export_init(const nahr_stage *st, void **out)
{
    const char *format = nahr_stage_str(st, "format");
    size_t fi = 0;
    while (fi < sizeof formats / sizeof *formats && strcmp(formats[fi].name, format) != 0)
        fi++;
    if (fi == sizeof formats / sizeof *formats)
        return nahr_stage_error(st, "format", "format '%s' is not available (this build has: jsonl, csv, sqlite, postgres%s)",
                                format,
#ifdef EXPORT_HAVE_NATS
                                ", nats"
#else
                                "; nats needs libnats-dev at build time"
#endif
        );
    for (size_t i = 0; i < sizeof option_scope / sizeof *option_scope; i++)
        if (nahr_stage_is_set(st, option_scope[i].name) && !(option_scope[i].formats & formats[fi].bit)) {
            char b[64];
            return nahr_stage_error(st, option_scope[i].name, "does not apply to format \"%s\" (only to %s)", format,
                                    formats_of(option_scope[i].formats, b, sizeof b));
        }

    export_state *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    export_config *c = &s->cfg;
    c->format = format;
    c->path = nahr_stage_str(st, "path");
    c->append = nahr_stage_bool(st, "append");
    c->fsync = nahr_stage_bool(st, "fsync");
    c->batch_bytes = (size_t)nahr_stage_int(st, "batch_bytes");
    c->compress = nahr_stage_str(st, "compress");
    c->compress_level = (int)nahr_stage_int(st, "compress_level");
    c->layer = nahr_stage_str(st, "layer");
    c->mentions_path = nahr_stage_is_set(st, "mentions_path") ? nahr_stage_str(st, "mentions_path") : NULL;
    c->bom = nahr_stage_bool(st, "bom");
    c->ncsv_fields = nahr_stage_list_len(st, "fields");
    c->batch = (size_t)nahr_stage_int(st, "batch");
    c->synchronous = nahr_stage_str(st, "synchronous");
    c->busy_timeout_ms = (int)nahr_stage_int(st, "busy_timeout_ms");
    c->conninfo = nahr_stage_str(st, "conninfo");
    c->schema = nahr_stage_str(st, "schema");
    c->retries = (int)nahr_stage_int(st, "retries");
    c->retry_delay_ms = (int)nahr_stage_int(st, "retry_delay_ms");
    c->url = nahr_stage_str(st, "url");
    c->subject = nahr_stage_str(st, "subject");

    int rc;
    if (!c->path || !*c->path) {
        rc = nahr_stage_error(st, "path", "must not be empty (use \"-\" for stdout)");
        goto fail;
    }
    if (!c->layer || !*c->layer) {
        rc = nahr_stage_error(st, "layer", "must not be empty");
        goto fail;
    }
    if (c->ncsv_fields > EXPORT_MAX_CSV_FIELDS) {
        rc = nahr_stage_error(st, "fields", "at most %d columns", EXPORT_MAX_CSV_FIELDS);
        goto fail;
    }
    for (size_t i = 0; i < c->ncsv_fields; i++) {
        c->csv_fields[i] = nahr_stage_list_at(st, "fields", i);
        if (!c->csv_fields[i] || !*c->csv_fields[i]) {
            rc = nahr_stage_error(st, "fields", "item %zu is empty", i + 1);
            goto fail;
        }
    }
    if (formats[fi].bit == F_JSONL && c->compress_level > 9) {
        size_t pl = strlen(c->path);
        bool zst = strcmp(c->compress, "zstd") == 0 ||
                   (strcmp(c->compress, "auto") == 0 && pl >= 4 && strcmp(c->path + pl - 4, ".zst") == 0);
        if (!zst) {
            rc = nahr_stage_error(st, "compress_level", "%d is above 9, the highest gzip level (zstd goes to 22)",
                                  c->compress_level);
            goto fail;
        }
    }
    if (formats[fi].bit == F_SQLITE && strcmp(c->path, "-") == 0) {
        rc = nahr_stage_error(st, "path", "format \"sqlite\" needs a database file, not stdout");
        goto fail;
    }
    if (formats[fi].bit == F_PG && (!c->schema || !*c->schema)) {
        rc = nahr_stage_error(st, "schema", "must not be empty");
        goto fail;
    }
    char err[1024] = "";
    rc = formats[fi].ops->open(c, &s->sink, err, sizeof err);
    if (rc < 0) {
        const char *key = formats[fi].bit == F_PG ? "conninfo" : formats[fi].bit == F_NATS ? "url" : "path";
        if (rc == NAHR_ECONFIG && strstr(err, "mentions_path"))
            key = "mentions_path";
        rc = nahr_stage_error(st, key, "%s", *err ? err : nahr_strerror(rc));
        goto fail;
    }
    s->index = nahr_stage_index(st);
    *out = s;
    return NAHR_OK;
fail:
    free(s);
    return rc;
}

/* On a worker thread: the record, for formats that can make it apart from
 * writing it (jsonl); the others write the article in export_process. */
static int export_prepare(void *inst, const nahr_doc *doc, nahr_buf *out, nahr_ctx *ctx)
{
    const export_state *s = inst;
    if (!s->sink->ops->make_record)
        return NAHR_OK;
    if (s->sink->ops->make_record(s->sink, doc, out) < 0)
        return nahr_ctx_error(ctx, "out of memory while formatting the record");
    return NAHR_OK;
}

static int export_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    (void)worker;
    export_state *s = inst;
    uint64_t t0 = now_ns();
    size_t len;
    const char *rec = s->sink->ops->write_record ? nahr_ctx_prepared(ctx, &len) : NULL;
    int rc = rec ? s->sink->ops->write_record(s->sink, rec, len) : s->sink->ops->write(s->sink, doc);
    s->busy_ns += now_ns() - t0;
    if (rc < 0)
        return nahr_ctx_error(ctx, "%s", s->sink->err);
    s->sink->written++;
    return NAHR_OK;
}

static int export_flush(void *inst, nahr_ctx *ctx)
{
    export_state *s = inst;
    uint64_t t0 = now_ns();
    int rc = s->sink->ops->flush(s->sink);
    s->busy_ns += now_ns() - t0;
    if (rc < 0)
        return nahr_ctx_error(ctx, "%s", s->sink->err);
    if (s->sink->written) {
        double ms = (double)s->busy_ns / 1e6;
        nahr_log(NAHR_LOG_INFO, "stage %d (export %s): %llu articles, %.1f ms in the sink (%.0f articles/s)", s->index,
                 s->cfg.format, (unsigned long long)s->sink->written, ms,
                 ms > 0 ? (double)s->sink->written / (ms / 1000) : 0.0);
    }
    return NAHR_OK;
}

static int export_sync(void *inst, nahr_ctx *ctx)
{
    export_state *s = inst;
    uint64_t t0 = now_ns();
    int rc = s->sink->ops->sync(s->sink);
    s->busy_ns += now_ns() - t0;
    return rc < 0 ? nahr_ctx_error(ctx, "%s", s->sink->err) : NAHR_OK;
}

static int export_reopen(void *inst)
{
    export_state *s = inst;
    if (!s->sink->ops->reopen)
        return NAHR_OK;
    int rc = s->sink->ops->reopen(s->sink);
    if (rc < 0)
        nahr_log(NAHR_LOG_ERROR, "export (%s): %s", s->cfg.format, s->sink->err);
    return rc;
}

static void export_destroy(void *inst)
{
    export_state *s = inst;
    if (!s)
        return;
    if (s->sink)
        s->sink->ops->close(s->sink);
    free(s);
}

static const nahr_plugin export_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "export",
    .version = "0.2.0",
    .description = "write articles in input order: JSON Lines (.gz/.zst), CSV, SQLite, PostgreSQL or NATS",
    .options = export_options,
    .thread_model = NAHR_THREAD_ORDERED_POST,
    .flags = NAHR_PLUGIN_SINK,
    .init = export_init,
    .destroy = export_destroy,
    .process = export_process,
    .flush = export_flush,
    .reopen = export_reopen,
    .sync = export_sync,
    .prepare = export_prepare,
};

NAHR_PLUGIN_DEFINE(export_plugin)
