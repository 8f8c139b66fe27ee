/* sink.h - the export plugin's internal contract: one sink per format
 * (jsonl.c, csv.c, sqlite.c, postgres.c) behind a small vtable, plus the
 * record helpers every format shares (record.c).
 *
 * Error reporting: sinks never see a nahr_ctx. They write a message into
 * sink->err (sink_fail()) and return a negative code; export.c hands the
 * message to nahr_stage_error() (open) or nahr_ctx_error() (write, flush).
 * This keeps the sinks testable without a running pipeline.
 *
 * Threading: the plugin runs NAHR_THREAD_ORDERED_POST, so a sink is used by
 * one thread, in input order; no locking anywhere in here. */
#ifndef EXPORT_SINK_H
#define EXPORT_SINK_H

#include <nahr/nahr.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPORT_MAX_CSV_FIELDS 64

/* The parsed options (export.c fills it from the stage; tests fill it by
 * hand). Paths are already resolved. */
typedef struct export_config {
    const char *format;        /* "jsonl" | "csv" | "sqlite" | "postgres" */
    const char *path;          /* file, "-" = stdout (jsonl/csv), database file (sqlite) */
    bool append;               /* jsonl, csv */
    bool fsync;                /* fsync at flush (jsonl, csv) */
    size_t batch_bytes;        /* jsonl, csv: write(2) in batches of about this size */
    const char *compress;      /* jsonl: "auto" | "none" | "gzip" | "zstd" */
    int compress_level;        /* jsonl: 0 = library default */
    const char *layer;         /* span layer written as mentions/entities (csv, sql) */
    const char *mentions_path; /* csv: mentions file; NULL = derived from path; "none" = off */
    bool bom;                  /* csv: UTF-8 byte-order mark at the start of new files */
    const char *csv_fields[EXPORT_MAX_CSV_FIELDS]; /* csv: declared field columns ("a.b" paths) */
    size_t ncsv_fields;
    size_t batch;              /* sqlite, postgres: articles per transaction */
    const char *synchronous;   /* sqlite: "off" | "normal" | "full" */
    int busy_timeout_ms;       /* sqlite */
    const char *conninfo;      /* postgres: libpq connection string, "" = PG* environment */
    const char *schema;        /* postgres: schema name for the tables */
    int retries;               /* postgres: reconnect attempts per batch */
    int retry_delay_ms;        /* postgres: first backoff delay (doubles, capped at 10 s) */
    const char *url;           /* nats: server URL(s) */
    const char *subject;       /* nats: subject a JetStream stream captures */
} export_config;

typedef struct export_sink export_sink;

typedef struct export_sink_ops {
    const char *format;
    /* Creates the sink in *out (allocated by the format). On failure returns
     * a negative code; the message is in err (errsize bytes). */
    int (*open)(const export_config *cfg, export_sink **out, char *err, size_t errsize);
    /* One article. NAHR_OK, or negative with sink->err set: the article was
     * NOT written (and, for batched sinks, sink->err says what else was
     * lost). */
    int (*write)(export_sink *s, nahr_doc *doc);
    /* Optional, both or neither: make_record() makes the article's record (on a
     * worker thread, concurrently: it must not change the sink), and
     * write_record() writes such a record as write() would write the
     * article. */
    int (*make_record)(const export_sink *s, const nahr_doc *doc, nahr_buf *out);
    int (*write_record)(export_sink *s, const char *rec, size_t len);
    /* End of stream: write out and finish everything (compressed streams
     * end, the last transaction commits). */
    int (*flush)(export_sink *s);
    /* Mid-stream durability point (the runner's sync(), before it
     * acknowledges input messages): write buffers out, commit the open
     * batch, fsync files when `fsync` is set; streams stay open. */
    int (*sync)(export_sink *s);
    /* SIGHUP: reopen files (NULL when the format has no files to rotate). */
    int (*reopen)(export_sink *s);
    void (*close)(export_sink *s);
} export_sink_ops;

/* Every format's state starts with this. */
struct export_sink {
    const export_sink_ops *ops;
    const export_config *cfg;
    char err[1024];
    uint64_t written; /* articles handed to write() that succeeded */
};

int sink_fail(export_sink *s, int code, const char *fmt, ...) NAHR_PRINTF(3, 4);

extern const export_sink_ops export_jsonl_ops;
extern const export_sink_ops export_csv_ops;
extern const export_sink_ops export_sqlite_ops;
extern const export_sink_ops export_postgres_ops;
#ifdef EXPORT_HAVE_NATS
extern const export_sink_ops export_nats_ops;
#endif

/* ---- record helpers (record.c) ---- */

/* One span of the exported layer, with code-point offsets and the
 * attributes the mention tables have columns for. */
typedef struct export_mention {
    size_t span;              /* index in the doc's spans */
    const char *type;
    const char *text;         /* points into the doc text, text_len bytes */
    size_t text_len;
    const char *canonical;    /* span canonical, or NULL */
    size_t cp_start, cp_end;  /* code points */
    long sentence;            /* 0-based sentence index in the text */
    const char *sentiment;    /* attrs.sentiment(.label), or NULL */
    double sentiment_score;   /* attrs.sentiment.score, NAN when absent */
    double score;             /* span score, negative = not set */
    const nahr_value *attrs;  /* all attributes (JSON column), may be NULL */
} export_mention;

/* Distinct (type, canonical-or-text) per article, with the mention count. */
typedef struct export_entity {
    const char *type;
    const char *canonical;
    size_t canonical_len;
    size_t count;
    size_t first_mention; /* index into the mention array */
} export_entity;

typedef struct export_record {
    const char *id;
    export_mention *mentions; /* in the doc's arena */
    size_t nmentions;
    export_entity *entities;  /* in the doc's arena, in order of first mention */
    size_t nentities;
} export_record;

/* Fills rec from doc for the given layer. Arrays live in the doc's arena.
 * Returns NAHR_OK or NAHR_ENOMEM. The article id is the doc's id, or its
 * origin, or "#<seq>" when both are absent. */
int record_build(nahr_doc *doc, const char *layer, export_record *rec);

/* Looks a dotted path ("sentiment.label") up in the doc's fields;
 * NULL when absent. */
const nahr_value *record_field_path(const nahr_doc *doc, const char *path);

/* Appends v as text: strings raw, numbers as numbers, null as nothing,
 * arrays/objects as JSON. */
int record_value_text(const nahr_value *v, nahr_buf *out);

/* All fields of the doc as one JSON object ("{}" when none). */
int record_fields_json(const nahr_doc *doc, nahr_buf *out);

/* Appends one CSV field with RFC 4180 quoting (csv.c). */
int csv_field(nahr_buf *out, const char *s, size_t n);

/* ---- small I/O helpers (record.c) ---- */
int export_write_all(int fd, const char *p, size_t n);

#endif
