/* nahr/plugin.h - the plugin contract.
 *
 * A plugin is a shared object exporting ONE symbol:
 *
 *     const nahr_plugin *nahr_plugin_descriptor(void);
 *
 * returning a static descriptor. The loader checks abi_version and
 * struct_size first and refuses a mismatch, naming the file and both
 * versions. Fill descriptors with NAHR_PLUGIN_INIT so both are set right.
 *
 * Lifecycle, per configured stage:
 *   init(stage, &instance)            once (or once per worker, see below)
 *   worker_init(instance, &worker)     once per worker thread (optional)
 *   process(instance, worker, doc, ctx)  per article
 *   prepare(instance, doc, out, ctx)   ORDERED_POST stages, per article, on
 *                                      the worker thread (optional, see below)
 *   flush(instance, ctx)               once at end of stream (optional)
 *   worker_destroy(worker), destroy(instance)
 *
 * Thread models:
 *   NAHR_THREAD_SHARED    init once; process() is called concurrently from
 *                         the worker threads with the same instance, so the
 *                         instance must be read-only after init (automata,
 *                         models, lexicons). Put mutable scratch in worker.
 *   NAHR_THREAD_PER_WORKER  init is called once per worker; each instance is
 *                         used by one thread only.
 *   NAHR_THREAD_ORDERED_PRE   one thread, articles in input order, BEFORE the
 *                         workers (cross-article statistics that must not
 *                         depend on the worker count).
 *   NAHR_THREAD_ORDERED_POST  one thread, input order, AFTER the reorder
 *                         buffer. Sinks (exporters) use this.
 * Ordered stages bound the pipeline's speed: keep them cheap. An
 * ORDERED_POST stage can move the part of its work that does not depend on
 * the order (formatting the output record) to the workers with prepare().
 *
 * process() returns NAHR_OK, NAHR_SKIP (drop the article on purpose; it is
 * counted) or NAHR_ERROR after nahr_ctx_error() (the article goes to the
 * dead-letter output with that message). A plugin never calls exit() and
 * never writes to stdout unless it is a sink told to (path "-").
 */
#ifndef NAHR_PLUGIN_H
#define NAHR_PLUGIN_H

#include "common.h"
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of nahr_plugin or of the functions a
 * plugin may call. Additions at the end of nahr_plugin (taking room from
 * `reserved`) keep the version and grow struct_size. */
#define NAHR_ABI_VERSION 1u
#define NAHR_PLUGIN_SYMBOL "nahr_plugin_descriptor"

/* process() results */
enum { NAHR_SKIP = 1, NAHR_ERROR = -1 };

typedef enum {
    NAHR_THREAD_SHARED = 0,
    NAHR_THREAD_PER_WORKER = 1,
    NAHR_THREAD_ORDERED_PRE = 2,
    NAHR_THREAD_ORDERED_POST = 3
} nahr_thread_model;

/* Descriptor flags */
#define NAHR_PLUGIN_REWRITES_TEXT 0x1u /* calls nahr_doc_set_text() */
#define NAHR_PLUGIN_ADDS_SPANS 0x2u    /* calls nahr_doc_add_span*() */
#define NAHR_PLUGIN_SINK 0x4u          /* writes articles out (exporter) */

/* ---- option schema ---- */
typedef enum {
    NAHR_OPT_STRING = 1,
    NAHR_OPT_INT,
    NAHR_OPT_FLOAT,
    NAHR_OPT_BOOL,
    NAHR_OPT_LIST /* list or array of strings: ( "a", "b" ) or [ "a", "b" ] */
} nahr_opt_type;

typedef struct nahr_option {
    const char *name;
    nahr_opt_type type;
    const char *default_value; /* as text: "10", "0.5", "true", "a,b"; NULL = no default */
    const char *help;          /* one line */
    /* For strings: "|"-separated allowed values ("jsonl|csv"), or NULL for any.
     * For numbers: "min:max" (either side may be empty), or NULL. */
    const char *allowed;
} nahr_option;
#define NAHR_OPTIONS_END { NULL, (nahr_opt_type)0, NULL, NULL, NULL }

/* ---- a configured stage, as the plugin sees it during init ---- */
typedef struct nahr_stage nahr_stage;

/* Option values, already validated against the schema; the schema default
 * applies when the config omits the key. Strings live as long as the stage. */
NAHR_EXPORT const char *nahr_stage_str(const nahr_stage *s, const char *key);
NAHR_EXPORT int64_t nahr_stage_int(const nahr_stage *s, const char *key);
NAHR_EXPORT double nahr_stage_float(const nahr_stage *s, const char *key);
NAHR_EXPORT int nahr_stage_bool(const nahr_stage *s, const char *key);
NAHR_EXPORT size_t nahr_stage_list_len(const nahr_stage *s, const char *key);
NAHR_EXPORT const char *nahr_stage_list_at(const nahr_stage *s, const char *key, size_t i);
/* 1 when the config file sets the key, 0 when the default applies. */
NAHR_EXPORT int nahr_stage_is_set(const nahr_stage *s, const char *key);
/* Resolves a path: absolute paths are returned as is; a path the user wrote
 * in the config is taken relative to the config file's directory; a default
 * is taken relative to the plugin's data directory (nahr_stage_data_dir).
 * Writes into buf; returns NAHR_OK or NAHR_ELIMIT when buf is too small. */
NAHR_EXPORT int nahr_stage_path(const nahr_stage *s, const char *path, int user_given,
                                char *buf, size_t bufsize);
/* Directory holding this plugin's data: "<dir of the .so>/<plugin name>". */
NAHR_EXPORT const char *nahr_stage_data_dir(const nahr_stage *s);
NAHR_EXPORT const char *nahr_stage_plugin_name(const nahr_stage *s);
NAHR_EXPORT int nahr_stage_index(const nahr_stage *s); /* 1-based */
NAHR_EXPORT int nahr_stage_workers(const nahr_stage *s);
/* Records an error for init() to return with: the core prints it as
 * "config.cfg:LINE: stage N (plugin): option 'key': message" (key may be
 * NULL for errors not tied to one option). Returns NAHR_ECONFIG. */
NAHR_EXPORT int nahr_stage_error(const nahr_stage *s, const char *key, const char *fmt, ...)
    NAHR_PRINTF(3, 4);

/* ---- per-call context ---- */
typedef struct nahr_ctx nahr_ctx;
/* Sets the message that goes with a NAHR_ERROR result. Returns NAHR_ERROR. */
NAHR_EXPORT int nahr_ctx_error(nahr_ctx *c, const char *fmt, ...) NAHR_PRINTF(2, 3);
NAHR_EXPORT int nahr_ctx_worker(const nahr_ctx *c); /* 0-based; -1 on ordered threads */
/* In process() of an ORDERED_POST stage: the bytes its prepare() appended for
 * this article (*len set), or NULL when prepare() did not run for it (no
 * hook, `nahr check`, or an ordered stage before it that is not a sink). */
NAHR_EXPORT const char *nahr_ctx_prepared(const nahr_ctx *c, size_t *len);

/* ---- the descriptor ---- */
typedef struct nahr_plugin {
    uint32_t abi_version; /* NAHR_ABI_VERSION */
    uint32_t struct_size; /* sizeof(nahr_plugin) */
    const char *name;     /* [a-z0-9_-]+, matches the .so file name */
    const char *version;  /* the plugin's own version */
    const char *description;
    const nahr_option *options; /* terminated by NAHR_OPTIONS_END; may be NULL */
    nahr_thread_model thread_model;
    uint32_t flags;

    /* Returns NAHR_OK and sets *instance, or a negative code after
     * nahr_stage_error(). Required. */
    int (*init)(const nahr_stage *stage, void **instance);
    void (*destroy)(void *instance);
    int (*worker_init)(void *instance, void **worker);
    void (*worker_destroy)(void *instance, void *worker);
    /* Required. */
    int (*process)(void *instance, void *worker, nahr_doc *doc, nahr_ctx *ctx);
    /* End of stream: write out what is buffered. NAHR_OK or NAHR_ERROR. */
    int (*flush)(void *instance, nahr_ctx *ctx);
    /* SIGHUP: reopen output files (logrotate). Called on the sink's thread. */
    int (*reopen)(void *instance);
    /* Sinks: make everything written so far durable (write buffers out,
     * commit a transaction, wait for a publish acknowledgement). The runner
     * calls it, for every kind of input, at least every 256 articles and
     * after a short idle time: an article counts as exported only once every
     * sink with a sync() confirmed it, and input messages (NATS) are
     * acknowledged only then. NAHR_OK or NAHR_ERROR (then the articles since
     * the last sync are counted as not written, and messages are left for
     * redelivery). */
    int (*sync)(void *instance, nahr_ctx *ctx);
    /* NAHR_THREAD_ORDERED_POST stages only, optional. Called on the worker
     * thread that ran the article, after the parallel stages and before the
     * reorder buffer, concurrently from several workers with the same
     * instance (use it read-only, as NAHR_THREAD_SHARED). It appends to out
     * what process() will need (a sink: the formatted record); process()
     * then runs in input order on the ordered thread and reads those bytes
     * with nahr_ctx_prepared(). So per-article work moves off the one
     * ordered thread, which otherwise bounds the speed of every worker
     * count. The core calls it only when every ORDERED_POST stage before
     * this one is a sink (NAHR_PLUGIN_SINK: sinks do not change articles),
     * so doc is what process() will see; otherwise, and in `nahr check`,
     * process() runs without prepared bytes (nahr_ctx_prepared() returns
     * NULL) and must do the whole work itself. Returns NAHR_OK, or
     * NAHR_ERROR after nahr_ctx_error(): the article goes to the dead-letter
     * output and no ORDERED_POST stage sees it. */
    int (*prepare)(void *instance, const nahr_doc *doc, nahr_buf *out, nahr_ctx *ctx);

    void *reserved[6]; /* room to grow without breaking the ABI; set to NULL */
} nahr_plugin;

#define NAHR_PLUGIN_INIT .abi_version = NAHR_ABI_VERSION, .struct_size = sizeof(nahr_plugin)

#ifdef __cplusplus
#define NAHR_EXTERN_C extern "C"
#else
#define NAHR_EXTERN_C
#endif

/* Define the exported symbol: NAHR_PLUGIN_DEFINE(my_descriptor); (C or C++) */
#define NAHR_PLUGIN_DEFINE(desc)                                                       \
    NAHR_EXTERN_C NAHR_EXPORT const nahr_plugin *nahr_plugin_descriptor(void);         \
    NAHR_EXTERN_C const nahr_plugin *nahr_plugin_descriptor(void) { return &(desc); }

#ifdef __cplusplus
}
#endif
#endif
