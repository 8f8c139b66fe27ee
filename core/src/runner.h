/* runner.h - configuration, plugin loading and the pipeline (internal). */
#ifndef NAHR_RUNNER_H
#define NAHR_RUNNER_H

#include "internal.h"

#include <stdatomic.h>
#include <sys/socket.h>

typedef struct opt_value {
    const nahr_option *opt;
    bool set;
    int line;
    const char *file; /* an @included file holding the option, else NULL (libconfig's string) */
    char *str;
    int64_t i;
    double f;
    int b;
    char **list;
    size_t nlist;
} opt_value;

/* What a plugin's process(), flush() or sync() gets as its nahr_ctx (the
 * plugin API only sees the accessors of nahr/plugin.h; tests/fuzz builds its
 * own from this definition). */
struct nahr_ctx {
    int worker;
    const nahr_buf *prepared; /* ORDERED_POST process(): what the stage's prepare() made */
    bool has_msg;
    char msg[1024];
};

struct nahr_stage {
    int index; /* 1-based */
    char *plugin;   /* as written in the config */
    char *label;    /* plugin name, or "name" key */
    const nahr_plugin *desc;
    void *dl;
    char *so_path;
    char *data_dir;
    int line;
    const char *cfg_file;
    const char *cfg_dir;
    opt_value *opts;
    size_t nopts;
    int workers;
    char err[1024];
};

typedef struct nahr_config {
    char *file;
    char *dir;
    config_t cfg;
    int workers;
    bool on_error_fail;
    char *dead_letter;
    size_t max_article_bytes;
    int queue_depth;
    bool utf8_repair;
    char *encoding; /* pipeline.encoding when not UTF-8 (NULL: UTF-8) */
    bool progress;
    char **search_dirs; /* plugin search path, in order */
    size_t nsearch;
    char **inputs; /* pipeline.input.paths */
    size_t ninputs;
    char *input_type;
    config_setting_t *input_setting; /* pipeline.input, for message sources */
    nahr_stage *stages;
    size_t nstages;
} nahr_config;

/* Loads and validates CONFIG: syntax, pipeline keys, plugins (found and ABI
 * checked), every stage option and the order of stages. On error returns
 * NAHR_ECONFIG with every message (one per line) in *err. */
NAHR_INTERNAL int nahr__config_load(const char *file, nahr_config **out, nahr_buf *err);
NAHR_INTERNAL void nahr__config_free(nahr_config *c);
/* Reads config FILE (a pipe too) into *text (NUL-terminated, caller frees) and
 * checks every @include line in it and in the files it includes (exists, a
 * regular file of text, at most 16 MiB, nested at most 10 deep): libconfig
 * would block on a FIFO or exit the process on a directory. NAHR_ECONFIG
 * with "FILE:LINE: ..." messages in *err. */
NAHR_INTERNAL int nahr__config_text(const char *file, char **text, nahr_buf *err);
/* Appends s (n bytes) to b with control characters escaped (\n, \xNN):
 * one message stays one line. */
NAHR_INTERNAL int nahr__buf_put_printable(nahr_buf *b, const char *s, size_t n);

/* Plugin search path without a config: NAHR_PLUGIN_PATH, beside the binary, install dir. */
NAHR_INTERNAL int nahr__search_path(char **extra, size_t nextra, char ***dirs, size_t *ndirs);
NAHR_INTERNAL void nahr__strv_free(char **v, size_t n);
/* Finds and opens plugin NAME (or a path containing '/'). *desc is a
 * malloc'd full-size copy of the plugin's descriptor: the caller frees it. */
NAHR_INTERNAL int nahr__plugin_open(const char *name, char *const *dirs, size_t ndirs, void **dl,
                                    const nahr_plugin **desc, char **so_path, nahr_buf *err);
/* Checks a descriptor (ABI version, struct size, required callbacks). */
NAHR_INTERNAL int nahr__plugin_check(const nahr_plugin *p, const char *so_path, nahr_buf *err);

typedef struct run_options {
    char **inputs;
    size_t ninputs;
    int workers;        /* -1 = from config */
    int progress;       /* -1 = auto (TTY) */
    double until_idle;  /* message sources: exit after this many idle seconds (0 = never) */
    config_setting_t *nats_input; /* read pipeline.input (type "nats") instead of inputs */
    bool quiet;
    const char *dead_letter; /* NULL = from config */
    const char *encoding;    /* --encoding, NULL = from config */
    const char *metrics;     /* --metrics [ADDR:]PORT, NULL = none */
} run_options;

/* Runs the pipeline. Returns the process exit code (0, 1 or 2). */
NAHR_INTERNAL int nahr__run(nahr_config *c, const run_options *o);
/* `nahr new-plugin NAME` (new_plugin.c); returns the exit code. */
NAHR_INTERNAL int nahr__new_plugin(const char *name);
/* Inits and destroys every stage (what `nahr check` does after loading). */
NAHR_INTERNAL int nahr__check_init(nahr_config *c, nahr_buf *err);



/* ---- metrics (metrics.c; the HTTP part needs libmicrohttpd) ---- */
typedef struct nahr_metrics_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int port;      /* 0 = any free port */
    char text[160]; /* as shown in messages: 127.0.0.1:9464, [::1]:9464 */
} nahr_metrics_addr;
typedef struct nahr_metrics nahr_metrics;
/* Renders the Prometheus text exposition; called on the HTTP thread. */
typedef void (*nahr_metrics_render_fn)(void *ctx, nahr_buf *out);
/* Parses "[ADDR:]PORT" (default address 127.0.0.1); NAHR_EINVAL with a message in err. */
NAHR_INTERNAL int nahr__metrics_parse(const char *spec, nahr_metrics_addr *a, nahr_buf *err);
/* Binds a and serves GET /metrics until stopped; errors (port in use, not
 * built in) as one message in err. */
NAHR_INTERNAL int nahr__metrics_start(const nahr_metrics_addr *a, nahr_metrics_render_fn render, void *ctx,
                                      nahr_metrics **out, nahr_buf *err);
NAHR_INTERNAL void nahr__metrics_stop(nahr_metrics *m);
NAHR_INTERNAL bool nahr__metrics_built_in(void);

/* Counters a message source keeps for the metrics (owned by the runner,
 * updated with relaxed atomics). */
typedef struct nahr_source_stats {
    _Atomic uint64_t fetched, acked, naked, dead_published, dead_failed;
    _Atomic uint64_t prefetched; /* gauge: fetched, not handed to the pipeline yet */
} nahr_source_stats;

/* ---- readers (reader.c) ----
 * A reader fills docs obtained from acquire() and hands them to submit(), in
 * input order. acquire() blocks while the pipeline is full and returns NULL
 * when the run is stopping. Every record read becomes exactly one doc: a bad
 * record becomes a doc already marked failed, so it is accounted for. */
typedef struct reader_sink {
    nahr_doc *(*acquire)(void *ctx);
    void (*submit)(void *ctx, nahr_doc *d);  /* assigns the sequence number */
    void (*release)(void *ctx, nahr_doc *d); /* gives back an unused doc */
    void (*flush)(void *ctx); /* the source may block next: hand on what was submitted (may be NULL) */
    void *ctx;
    size_t max_bytes;
    volatile int *stop; /* set by signal handlers: stop reading */
    double idle_timeout; /* message sources: stop after this many idle seconds (0 = never) */
} reader_sink;

/* A message source (NATS) sets, on each doc it submits, an acknowledgement
 * token and the function that settles it (nahr_settle_fn, internal.h). The
 * writer calls settle(token, how, record, len) in input order, on the writer
 * thread, once the article's fate is durable:
 *   NAHR_SETTLE_DONE   exported, after every sink's sync();
 *   NAHR_SETTLE_DEAD   failed; when the source set doc->settle_dead_letter,
 *                      record/len is the dead-letter record (one JSON line
 *                      with its '\n') and the source stores it (e.g. publishes
 *                      it) before it acknowledges the message; otherwise the
 *                      record went to the dead-letter file and record is NULL;
 *   NAHR_SETTLE_RETRY  not durable (a sync failed, or the run stops first):
 *                      the message must be redelivered.
 * record is only valid during the call. */

/* path: a file (.txt .html .htm .jsonl .ndjson), a directory (recursive,
 * sorted by name) or "-" (stdin, JSONL). Returns NAHR_OK, or NAHR_EBUSY when
 * acquire() returned NULL (stopping). */
NAHR_INTERNAL int nahr__read_path(const char *path, reader_sink *s);
/* JSONL from an open fd; name is used in origins ("name:LINE"). */
NAHR_INTERNAL int nahr__read_jsonl_fd(int fd, const char *name, reader_sink *s);

/* ---- NATS JetStream source (source_nats.c when libnats is available,
 * source_nats_stub.c otherwise) ----
 * check: validates pipeline.input of type "nats" (every key, with file:line
 * messages appended to err); returns the number of errors.
 * read: pulls messages and submits one doc per message, each with an
 * ack_token/settle pair, and keeps stats (may be NULL); returns when *s->stop is set or, with
 * s->idle_timeout > 0, after that long without a message. */
NAHR_INTERNAL int nahr__nats_check(config_setting_t *input, const char *cfg_file, nahr_buf *err);
NAHR_INTERNAL int nahr__nats_read(config_setting_t *input, reader_sink *s, nahr_source_stats *stats);


#endif
