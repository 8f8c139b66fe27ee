/* pipeline.c - the streaming runner:
 *
 *   reader thread --(bounded work queue)--> N workers --(reorder ring)--> writer (main thread)
 *
 * A fixed pool of P documents bounds memory: the reader blocks when all P are
 * in flight, so at most P articles (each at most max_article_bytes) exist at
 * once, whatever the corpus size. Sequence numbers are given at submit time;
 * in-flight sequence numbers always lie in [written, written + P), so the
 * reorder ring slot seq % P is never shared and output order = input order.
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int nahr_ctx_error(nahr_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    c->has_msg = true;
    return NAHR_ERROR;
}

int nahr_ctx_worker(const nahr_ctx *c) { return c->worker; }

const char *nahr_ctx_prepared(const nahr_ctx *c, size_t *len)
{
    if (!c || !c->prepared) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = c->prepared->len;
    return c->prepared->data ? c->prepared->data : "";
}

/* Ids of articles that crashed a stage in an earlier run (from the dead-letter file). */
typedef struct poison_list {
    char **ids;
    char **stages;
    size_t n;
} poison_list;

typedef struct stage_rt {
    nahr_stage *st;
    const nahr_plugin *p;
    void **inst;  /* per worker (PER_WORKER) or inst[0] shared */
    void **wst;   /* worker_init states, per worker; ordered stages use wst[0] */
    size_t ninst, nwst;
    int prep; /* ORDERED_POST: index of its prepare() bytes in the doc (nahr_doc.prep), -1: none */
    _Atomic uint64_t ns;    /* time in process() and prepare(), summed over workers */
    _Atomic uint64_t calls; /* process() calls */
    _Atomic uint64_t skipped, dead; /* articles this stage skipped / failed (writer thread) */
} stage_rt;

typedef struct runner {
    nahr_config *c;
    const run_options *o;
    stage_rt *rt;
    size_t n, pre_end, post_start; /* [0,pre_end) ordered pre, [pre_end,post_start) workers, rest post */
    int nworkers;
    size_t P;
    nahr_doc **all;
    nahr_doc **freelist;
    size_t nfree;
    nahr_doc **queue;
    size_t qhead, qlen;
    nahr_doc **slots;
    uint64_t next_seq, write_seq;
    bool reader_done;
    _Atomic bool stopping; /* written under mu; the reader also reads it without */
    pthread_mutex_t mu;
    pthread_cond_t cv_pool, cv_queue, cv_slots;
    /* who sleeps (under mu): a condition is signalled only when someone
     * waits for it, and the reader only once a few docs are free again, so
     * a busy pipeline does not pay a wake-up per article */
    bool reader_waiting, writer_waiting;
    uint64_t writer_batch; /* articles done before a waiting writer is woken (see worker_main) */
    _Atomic int idle_workers; /* written under mu; the reader also reads it without */
    size_t pool_wake; /* free docs that wake a waiting reader */
    /* Hand-over in batches: the lock is taken once per batch of documents,
     * not several times per article (with one lock per step, the reader,
     * a worker and the writer met on it so often that the futex calls of
     * the contention cost more CPU than reading, parsing and writing the
     * JSON). The reader thread alone uses stash (free documents taken from
     * the pool at once), pend (documents read, not yet queued: queued when
     * rbatch are, when a worker idles, and before the reader may block) and
     * reader_seq; a worker takes up to wbatch documents at once. */
    nahr_doc **stash, **pend;
    size_t nstash, npend, rbatch, wbatch;
    uint64_t reader_seq;
    _Atomic size_t held_free, held_read; /* nstash, npend: for the metrics thread */

    /* accounting (written by the writer thread; atomics so that the metrics
     * thread can read them) */
    _Atomic uint64_t n_read, n_exported, n_skipped, n_dead;
    _Atomic uint64_t n_dead_source; /* of n_dead: records handed to the message source (dead_letter_subject) */
    _Atomic uint64_t n_dead_reader, n_dead_other; /* of n_dead: failed by the reader / the source, not a stage */
    /* articles the sinks accepted but have not confirmed durable (sync) yet,
     * and those a failed sync or flush lost: an article counts as exported
     * only once every sink with a sync() confirmed it */
    _Atomic uint64_t n_unsynced, n_lost;
    _Atomic uint64_t n_syncs, n_sync_failures;
    nahr_source_stats src_stats;
    nahr_metrics *metrics;
    double wall0; /* CLOCK_REALTIME at start, for nahr_start_time_seconds */
    bool sinks_sync;
    double last_sync;
    uint64_t bytes;
    bool sink_failed, flush_failed, source_failed;
    FILE *dead;
    const char *dead_path;
    const char *encoding; /* the input's encoding when not UTF-8, else NULL */
    nahr_buf dlbuf;
    double t0;
    bool progress;
    poison_list poison;
    /* message acknowledgements waiting for the sinks' sync() (writer thread only) */
    struct pending_ack {
        void *token;
        nahr_settle_fn settle;
        char *record; /* dead-letter record the source stores (malloc'd), or NULL */
        size_t len;
    } *pending;
    size_t npending, cappending;
} runner;

#define WBATCH_MAX 32  /* most documents a worker or the writer takes at once */
#define ACK_BATCH 256    /* sync sinks and settle messages at least every this many articles */
#define IDLE_SYNC_S 0.05 /* ... and when the writer waits, at most this often */

static volatile sig_atomic_t g_stop, g_hup;

/* ---- crash reporting ----
 * Each thread records which stage runs on which article. If a plugin crashes
 * (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) the handler names both on stderr
 * and appends a dead-letter record with "crashed": true, using only
 * async-signal-safe calls. The next run reads those records and dead-letters
 * the same article ids up front instead of running the plugin on them again
 * (see load_poison). The process still dies: a crashed plugin's state cannot
 * be trusted. */
typedef struct running {
    const char *stage;
    const char *origin;
    const char *id;
} running;
static _Thread_local running g_running;
static char g_dead_path[4096];
static volatile sig_atomic_t g_log_kv; /* --log-format kv, for the crash handler */

static size_t cat(char *buf, size_t at, size_t cap, const char *s, bool json)
{
    static const char hex[] = "0123456789abcdef";
    for (; s && *s && at + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (json && (c == '"' || c == '\\')) {
            buf[at++] = '\\';
            buf[at++] = (char)c;
        } else if (json && c < 0x20) {
            memcpy(buf + at, "\\u00", 4);
            at += 4;
            buf[at++] = hex[c >> 4];
            buf[at++] = hex[c & 15];
        } else {
            buf[at++] = (char)c;
        }
    }
    return at;
}

static void on_crash(int sig)
{
    static char buf[8192];
    char num[16];
    int k = 0, v = sig;
    char rev[16];
    do {
        rev[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < 15);
    for (int i = 0; i < k; i++)
        num[i] = rev[k - 1 - i];
    num[k] = '\0';
    const running r = g_running;
    size_t n = 0;
    if (g_log_kv) { /* the same event as one logfmt line */
        n = cat(buf, n, sizeof buf, "level=error msg=\"", false);
        n = cat(buf, n, sizeof buf, r.stage ? "stage crashed" : "crashed outside any plugin (a bug in nahr)", false);
        n = cat(buf, n, sizeof buf, "\" event=crash signal=", false);
        n = cat(buf, n, sizeof buf, num, false);
        if (r.stage) {
            n = cat(buf, n, sizeof buf, " stage=\"", false);
            n = cat(buf, n, sizeof buf, r.stage, true);
            n = cat(buf, n, sizeof buf, "\" id=\"", false);
            n = cat(buf, n, sizeof buf, r.id ? r.id : "", true);
            n = cat(buf, n, sizeof buf, "\" origin=\"", false);
            n = cat(buf, n, sizeof buf, r.origin ? r.origin : "", true);
            n = cat(buf, n, sizeof buf, "\" recorded_in=\"", false);
            n = cat(buf, n, sizeof buf, g_dead_path, true);
            n = cat(buf, n, sizeof buf, "\"", false);
        }
        n = cat(buf, n, sizeof buf, "\n", false);
    } else if (r.stage) {
        n = cat(buf, n, sizeof buf, "nahr: fatal: stage '", false);
        n = cat(buf, n, sizeof buf, r.stage, false);
        n = cat(buf, n, sizeof buf, "' crashed with signal ", false);
        n = cat(buf, n, sizeof buf, num, false);
        n = cat(buf, n, sizeof buf, " on article '", false);
        n = cat(buf, n, sizeof buf, r.id ? r.id : "?", false);
        n = cat(buf, n, sizeof buf, "' (", false);
        n = cat(buf, n, sizeof buf, r.origin ? r.origin : "?", false);
        n = cat(buf, n, sizeof buf, "); recorded in ", false);
        n = cat(buf, n, sizeof buf, g_dead_path, false);
        n = cat(buf, n, sizeof buf, ": the next run dead-letters this article instead of running the stage on it\n", false);
    } else {
        n = cat(buf, n, sizeof buf, "nahr: fatal: crashed with signal ", false);
        n = cat(buf, n, sizeof buf, num, false);
        n = cat(buf, n, sizeof buf, " outside any plugin (a bug in nahr: please report it)\n", false);
    }
    if (write(2, buf, n) < 0) { /* nothing more to do */
    }
    if (r.stage && g_dead_path[0]) {
        int fd = open(g_dead_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            n = cat(buf, 0, sizeof buf, "{\"origin\":\"", false);
            n = cat(buf, n, sizeof buf, r.origin ? r.origin : "", true);
            n = cat(buf, n, sizeof buf, "\",\"id\":\"", false);
            n = cat(buf, n, sizeof buf, r.id ? r.id : "", true);
            n = cat(buf, n, sizeof buf, "\",\"stage\":\"", false);
            n = cat(buf, n, sizeof buf, r.stage, true);
            n = cat(buf, n, sizeof buf, "\",\"reason\":\"plugin crashed with signal ", false);
            n = cat(buf, n, sizeof buf, num, false);
            n = cat(buf, n, sizeof buf, "\",\"crashed\":true}\n", false);
            if (write(fd, buf, n) < 0) {
            }
            close(fd);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}


static void load_poison(poison_list *pl, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    nahr_doc *d = nahr_doc_new();
    while (d && (len = getline(&line, &cap, f)) > 0) {
        if (!strstr(line, "\"crashed\":true"))
            continue;
        nahr_doc_reset(d);
        if (nahr_utf8_check(line, (size_t)len) != (size_t)len)
            continue;
        nahr_value *v = nahr__parse_json(d, line, (size_t)len, NULL, 0);
        const char *id = nahr_value_as_string(nahr_value_get(v, "id"), NULL);
        const char *stage = nahr_value_as_string(nahr_value_get(v, "stage"), NULL);
        if (!id || !stage || !*id)
            continue;
        char **ni = realloc(pl->ids, (pl->n + 1) * sizeof *ni);
        if (ni)
            pl->ids = ni;
        char **ns = realloc(pl->stages, (pl->n + 1) * sizeof *ns);
        if (ns)
            pl->stages = ns;
        if (!ni || !ns)
            break;
        pl->ids[pl->n] = strdup(id);
        pl->stages[pl->n] = strdup(stage);
        pl->n++;
    }
    nahr_doc_free(d);
    free(line);
    fclose(f);
    if (pl->n)
        nahr_log(NAHR_LOG_WARN, "%s: %zu article(s) crashed a stage in an earlier run; they will be dead-lettered "
                 "without running that stage", path, pl->n);
}

static void free_poison(poison_list *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->ids[i]);
        free(pl->stages[i]);
    }
    free(pl->ids);
    free(pl->stages);
}

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = 1;
}

/* ---- stages ---- */
static void *inst_for(stage_rt *s, int w) { return s->ninst > 1 ? s->inst[w < 0 ? 0 : w] : s->inst[0]; }
static void *wst_for(stage_rt *s, int w) { return s->nwst ? s->wst[w < 0 ? 0 : w] : NULL; }

/* true (and d failed) when d crashed stage s in an earlier run */
static bool poisoned(runner *r, stage_rt *s, nahr_doc *d)
{
    const char *id = d->meta[META_ID];
    for (size_t k = 0; id && k < r->poison.n; k++)
        if (strcmp(r->poison.ids[k], id) == 0 && strcmp(r->poison.stages[k], s->st->label) == 0) {
            nahr__doc_set_failed(d, s->st->label,
                                 "article crashed this stage in an earlier run; not run again (remove its "
                                 "\"crashed\" record from %s to retry)",
                                 r->dead_path);
            return true;
        }
    return false;
}

static void add_ns(stage_rt *s, const struct timespec *a, const struct timespec *b)
{
    atomic_fetch_add_explicit(&s->ns, (uint64_t)((b->tv_sec - a->tv_sec) * 1000000000ll + (b->tv_nsec - a->tv_nsec)),
                              memory_order_relaxed);
}

/* Runs stages [from, to) on d. Returns false when the doc left the chain. */
static bool run_stages(runner *r, size_t from, size_t to, int w, nahr_doc *d)
{
    for (size_t i = from; i < to && d->status == DOC_PENDING; i++) {
        stage_rt *s = &r->rt[i];
        if (poisoned(r, s, d))
            return false;
        nahr_ctx ctx = {.worker = w};
        if (s->prep >= 0 && (d->prep_ok >> s->prep & 1u))
            ctx.prepared = &d->prep[s->prep];
        struct timespec a, b;
        g_running = (running){s->st->label, d->origin, d->meta[META_ID]};
        clock_gettime(CLOCK_MONOTONIC, &a);
        int rc = s->p->process(inst_for(s, w), wst_for(s, w), d, &ctx);
        clock_gettime(CLOCK_MONOTONIC, &b);
        g_running.stage = NULL;
        add_ns(s, &a, &b);
        atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
        if (rc == NAHR_OK)
            continue;
        if (rc == NAHR_SKIP) {
            d->status = DOC_SKIPPED;
            d->fail_stage = s->st->label;
        } else {
            nahr__doc_set_failed(d, s->st->label, "%s", ctx.has_msg ? ctx.msg : "plugin returned an error without a message");
            if (s->p->flags & NAHR_PLUGIN_SINK)
                r->sink_failed = true;
        }
    }
    return d->status == DOC_PENDING;
}

/* On worker w, after the parallel stages: the prepare() hooks of the
 * ORDERED_POST stages (stages_init chose which), so that their per-article
 * work runs in parallel; process() gets the bytes in input order. */
static void run_prepare(runner *r, int w, nahr_doc *d)
{
    for (size_t i = r->post_start; i < r->n && d->status == DOC_PENDING; i++) {
        stage_rt *s = &r->rt[i];
        if (s->prep < 0 || poisoned(r, s, d))
            continue;
        nahr_buf *out = &d->prep[s->prep];
        nahr_buf_reset(out);
        nahr_ctx ctx = {.worker = w};
        struct timespec a, b;
        g_running = (running){s->st->label, d->origin, d->meta[META_ID]};
        clock_gettime(CLOCK_MONOTONIC, &a);
        int rc = s->p->prepare(inst_for(s, -1), d, out, &ctx);
        clock_gettime(CLOCK_MONOTONIC, &b);
        g_running.stage = NULL;
        add_ns(s, &a, &b);
        if (rc == NAHR_OK)
            d->prep_ok |= 1u << s->prep;
        else
            nahr__doc_set_failed(d, s->st->label, "%s",
                                 ctx.has_msg ? ctx.msg : "plugin's prepare() returned an error without a message");
    }
}

static void stages_destroy(runner *r)
{
    for (size_t i = 0; i < r->n; i++) {
        stage_rt *s = &r->rt[i];
        for (size_t k = 0; k < s->nwst; k++)
            if (s->p->worker_destroy && s->wst[k])
                s->p->worker_destroy(inst_for(s, (int)k), s->wst[k]);
        for (size_t k = 0; k < s->ninst; k++)
            if (s->p->destroy && s->inst[k])
                s->p->destroy(s->inst[k]);
        free(s->inst);
        free(s->wst);
    }
    free(r->rt);
    r->rt = NULL;
}

static int stage_init_fail(nahr_stage *st, int rc, nahr_buf *err)
{
    if (st->err[0])
        nahr_buf_printf(err, "%s\n", st->err);
    else
        nahr_buf_printf(err, "%s:%d: stage %d (%s): init failed: %s\n", st->cfg_file, st->line, st->index, st->label,
                        nahr_strerror(rc));
    return NAHR_ECONFIG;
}

/* nworkers = 0: `check` mode, one instance of everything. */
static int stages_init(runner *r, int nworkers, nahr_buf *err)
{
    nahr_config *c = r->c;
    r->n = c->nstages;
    r->rt = calloc(r->n, sizeof *r->rt);
    if (!r->rt)
        return NAHR_ENOMEM;
    r->pre_end = 0;
    while (r->pre_end < r->n && c->stages[r->pre_end].desc->thread_model == NAHR_THREAD_ORDERED_PRE)
        r->pre_end++;
    r->post_start = r->n;
    while (r->post_start > r->pre_end && c->stages[r->post_start - 1].desc->thread_model == NAHR_THREAD_ORDERED_POST)
        r->post_start--;
    for (size_t i = 0; i < r->n; i++) {
        stage_rt *s = &r->rt[i];
        s->st = &c->stages[i];
        s->p = s->st->desc;
        s->st->workers = nworkers ? nworkers : 1;
        bool parallel = i >= r->pre_end && i < r->post_start;
        size_t nw = parallel && nworkers ? (size_t)nworkers : 1;
        s->ninst = parallel && s->p->thread_model == NAHR_THREAD_PER_WORKER ? nw : 1;
        s->inst = calloc(s->ninst, sizeof *s->inst);
        s->wst = calloc(nw, sizeof *s->wst);
        if (!s->inst || !s->wst)
            return NAHR_ENOMEM;
        for (size_t k = 0; k < s->ninst; k++) {
            s->st->err[0] = '\0';
            int rc = s->p->init(s->st, &s->inst[k]);
            if (rc < 0)
                return stage_init_fail(s->st, rc, err);
        }
        s->prep = -1;
        if (s->p->worker_init) {
            s->nwst = nw;
            for (size_t k = 0; k < nw; k++) {
                s->st->err[0] = '\0';
                int rc = s->p->worker_init(inst_for(s, (int)k), &s->wst[k]);
                if (rc < 0)
                    return stage_init_fail(s->st, rc, err);
            }
        }
    }
    /* prepare() of an ORDERED_POST stage runs on the workers, before the
     * ordered stages: only while every ordered stage before it is a sink,
     * which leaves the article as it is (nworkers 0: `check`, no articles) */
    int nprep = 0;
    for (size_t i = r->post_start; i < r->n && nworkers; i++) {
        stage_rt *s = &r->rt[i];
        if (s->p->prepare && nprep < NAHR__MAX_PREPARED)
            s->prep = nprep++;
        if (!(s->p->flags & NAHR_PLUGIN_SINK))
            break;
    }
    return NAHR_OK;
}

int nahr__check_init(nahr_config *c, nahr_buf *err)
{
    runner r = {.c = c};
    int rc = stages_init(&r, 0, err);
    stages_destroy(&r);
    return rc;
}

/* ---- reader side ---- */
/* Queues the documents the reader has read (under mu). Returns how many
 * idle workers to wake: the caller wakes them with wake_workers() after
 * unlocking mu (a thread woken while the waker holds mu would only block
 * on mu at once and need a second wake-up: on this kind of VM each futex
 * wake-up costs a trip through the hypervisor). */
static int queue_pending(runner *r)
{
    size_t n = r->npend;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        r->queue[(r->qhead + r->qlen + i) % r->P] = r->pend[i];
    r->qlen += n;
    r->next_seq = r->reader_seq;
    r->npend = 0;
    atomic_store_explicit(&r->held_read, 0, memory_order_relaxed);
    int idle = atomic_load_explicit(&r->idle_workers, memory_order_relaxed);
    return idle < (int)n ? idle : (int)n;
}

static void wake_workers(runner *r, int n)
{
    if (n > 1)
        pthread_cond_broadcast(&r->cv_queue);
    else if (n == 1)
        pthread_cond_signal(&r->cv_queue);
}

/* reader_sink.flush: the reader may block next (a read of the input, a
 * message fetch): what it has read goes to the workers now. */
static void flush_read(void *ctx)
{
    runner *r = ctx;
    if (r->npend == 0)
        return;
    pthread_mutex_lock(&r->mu);
    int wake = queue_pending(r);
    pthread_mutex_unlock(&r->mu);
    wake_workers(r, wake);
}

static nahr_doc *acquire(void *ctx)
{
    runner *r = ctx;
    if (g_stop || atomic_load_explicit(&r->stopping, memory_order_relaxed))
        return NULL;
    if (r->nstash == 0) {
        pthread_mutex_lock(&r->mu);
        int wake = queue_pending(r); /* before waiting: the pool may wait for these */
        if (wake && r->nfree == 0) { /* about to wait: wake them now */
            pthread_mutex_unlock(&r->mu);
            wake_workers(r, wake);
            wake = 0;
            pthread_mutex_lock(&r->mu);
        }
        while (r->nfree == 0 && !r->stopping && !g_stop) {
            r->reader_waiting = true;
            pthread_cond_wait(&r->cv_pool, &r->mu);
            r->reader_waiting = false;
        }
        bool stop = r->stopping || g_stop;
        while (!stop && r->nfree > 0 && r->nstash < r->rbatch)
            r->stash[r->nstash++] = r->freelist[--r->nfree];
        pthread_mutex_unlock(&r->mu);
        wake_workers(r, wake);
        if (stop)
            return NULL;
    }
    nahr_doc *d = r->stash[--r->nstash];
    atomic_store_explicit(&r->held_free, r->nstash, memory_order_relaxed);
    return d;
}

static void release(void *ctx, nahr_doc *d)
{
    runner *r = ctx;
    nahr_doc_reset(d);
    if (r->nstash < r->rbatch) { /* it came from the stash: back there */
        r->stash[r->nstash++] = d;
        atomic_store_explicit(&r->held_free, r->nstash, memory_order_relaxed);
        return;
    }
    pthread_mutex_lock(&r->mu);
    r->freelist[r->nfree++] = d;
    if (r->reader_waiting)
        pthread_cond_signal(&r->cv_pool);
    pthread_mutex_unlock(&r->mu);
}

static void submit(void *ctx, nahr_doc *d)
{
    runner *r = ctx;
    d->seq = r->reader_seq++; /* only the reader thread numbers documents */
    if (r->pre_end > 0) {
        /* ordered stages before the workers need a parsed document */
        if (!d->prepared)
            nahr__doc_prepare(d, r->c->utf8_repair, r->encoding);
        run_stages(r, 0, r->pre_end, -1, d);
    }
    r->pend[r->npend++] = d;
    atomic_store_explicit(&r->held_read, r->npend, memory_order_relaxed);
    /* a worker waiting for work gets it at once (an idle stream, or the
     * workers outrun the reader); busy workers get it in a batch */
    if (r->npend >= r->rbatch || atomic_load_explicit(&r->idle_workers, memory_order_relaxed) > 0)
        flush_read(r);
}

typedef struct reader_args {
    runner *r;
    char **inputs;
    size_t ninputs;
} reader_args;

static void *reader_main(void *arg)
{
    reader_args *a = arg;
    runner *r = a->r;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* signals interrupt this thread's blocking reads */
    reader_sink s = {.acquire = acquire, .submit = submit, .release = release, .flush = flush_read, .ctx = r,
                     .max_bytes = r->c->max_article_bytes, .stop = (volatile int *)&g_stop,
                     .idle_timeout = r->o->until_idle};
    if (r->o->nats_input) {
        if (nahr__nats_read(r->o->nats_input, &s, &r->src_stats) < 0)
            r->source_failed = true;
    }
    for (size_t i = 0; i < a->ninputs && !g_stop; i++) {
        int rrc = nahr__read_path(a->inputs[i], &s);
        if (rrc == NAHR_EBUSY)
            break;
        if (rrc == NAHR_EIO) /* logged by the reader; the run goes on with the next input */
            r->source_failed = true;
    }
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_mutex_lock(&r->mu);
    (void)queue_pending(r); /* every worker is woken below */
    r->reader_done = true;
    pthread_cond_broadcast(&r->cv_queue);
    pthread_cond_broadcast(&r->cv_slots);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- workers ---- */
typedef struct worker_args {
    runner *r;
    int id;
} worker_args;

static void *worker_main(void *arg)
{
    worker_args *a = arg;
    runner *r = a->r;
    nahr_doc *batch[WBATCH_MAX];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (r->qlen == 0 && !r->reader_done) {
            r->idle_workers++;
            pthread_cond_wait(&r->cv_queue, &r->mu);
            r->idle_workers--;
        }
        if (r->qlen == 0) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        /* a fair share of the queue, at most wbatch: the others get theirs */
        size_t k = r->qlen / (size_t)r->nworkers;
        k = k < 1 ? 1 : k > r->wbatch ? r->wbatch : k;
        for (size_t j = 0; j < k; j++) {
            batch[j] = r->queue[r->qhead];
            r->qhead = (r->qhead + 1) % r->P;
        }
        r->qlen -= k;
        pthread_mutex_unlock(&r->mu);

        for (size_t j = 0; j < k; j++) {
            nahr_doc *d = batch[j];
            if (!d->prepared)
                nahr__doc_prepare(d, r->c->utf8_repair, r->encoding);
            if (run_stages(r, r->pre_end, r->post_start, a->id, d))
                run_prepare(r, a->id, d);
        }

        pthread_mutex_lock(&r->mu);
        for (size_t j = 0; j < k; j++)
            r->slots[batch[j]->seq % r->P] = batch[j];
        /* Wake the writer once the article it waits for is ready and either a
         * batch of articles after it is done too, or the workers are about to
         * run dry (empty queue, or the reader finished): under load the
         * writer then takes several articles per wake-up (a futex wake is
         * costly, ~4 % of CPU with one wake per article), and an idle stream
         * still gets each article written at once. A reader blocked on a full
         * pool needs no special case: the workers empty the queue, which
         * wakes the writer, which frees documents. */
        bool wake = r->writer_waiting && r->slots[r->write_seq % r->P] &&
                    (batch[k - 1]->seq + 1 - r->write_seq >= r->writer_batch || r->qlen == 0 || r->reader_done);
        pthread_mutex_unlock(&r->mu);
        if (wake) /* after unlocking: see queue_pending() */
            pthread_cond_signal(&r->cv_slots);
    }
}

/* ---- writer side ---- */
/* The stage whose label is label (docs point at the stage's own string). */
static stage_rt *stage_of(runner *r, const char *label)
{
    for (size_t i = 0; label && i < r->n; i++)
        if (r->rt[i].st->label == label)
            return &r->rt[i];
    return NULL;
}

/* Logs a failed doc and writes its dead-letter record: into the file, or,
 * when its message source takes the record, into a malloc'd copy returned in
 * *record (NULL if it cannot be built: the message is then redelivered). */
static void dead_letter(runner *r, nahr_doc *d, char **record, size_t *len)
{
    nahr_kv kv = {0};
    nahr__kv_str(&kv, "event", "dead_letter");
    nahr__kv_str(&kv, "origin", d->origin);
    if (d->meta[META_ID])
        nahr__kv_str(&kv, "id", d->meta[META_ID]);
    nahr__kv_str(&kv, "stage", d->fail_stage ? d->fail_stage : "?");
    nahr__kv_str(&kv, "reason", d->fail_reason ? d->fail_reason : "?");
    nahr__kv_str(&kv, "to", d->settle && d->settle_dead_letter ? "subject" : r->dead_path);
    nahr__log_kv(NAHR_LOG_WARN, kv.s, "%s: dead-lettered by %s: %s", d->origin, d->fail_stage ? d->fail_stage : "?",
                 d->fail_reason ? d->fail_reason : "?");
    if (d->settle && d->settle_dead_letter) {
        r->n_dead_source++;
        nahr_buf_reset(&r->dlbuf);
        if (nahr__doc_write_dead_letter(d, &r->dlbuf) == 0 && (*record = malloc(r->dlbuf.len + 1))) {
            memcpy(*record, r->dlbuf.data, r->dlbuf.len + 1);
            *len = r->dlbuf.len;
        } else {
            nahr_log(NAHR_LOG_ERROR, "%s: out of memory for the dead-letter record (the message is redelivered)",
                     d->origin);
        }
        return;
    }
    if (!r->dead) {
        r->dead = fopen(r->dead_path, "a");
        if (!r->dead) {
            nahr_log(NAHR_LOG_ERROR, "%s: cannot open dead-letter file: %s", r->dead_path, strerror(errno));
            return;
        }
    }
    nahr_buf_reset(&r->dlbuf);
    if (nahr__doc_write_dead_letter(d, &r->dlbuf) < 0 || fwrite(r->dlbuf.data, 1, r->dlbuf.len, r->dead) != r->dlbuf.len ||
        fflush(r->dead) != 0)
        nahr_log(NAHR_LOG_ERROR, "%s: cannot write dead-letter record: %s", r->dead_path, strerror(errno));
}

static void progress_line(runner *r, bool final)
{
    double t = nahr__now() - r->t0;
    double mb = (double)r->bytes / 1e6;
    fprintf(stderr, "\rnahr: %llu articles, %.1f MB, %.1f MB/s, %llu dead-lettered%s",
            (unsigned long long)r->n_read, mb, t > 0 ? mb / t : 0.0, (unsigned long long)r->n_dead,
            final ? "\n" : "   ");
}

static void reopen_outputs(runner *r)
{
    g_hup = 0;
    nahr_log(NAHR_LOG_INFO, "SIGHUP: reopening output files");
    for (size_t i = 0; i < r->n; i++)
        if (r->rt[i].p->reopen) {
            for (size_t k = 0; k < r->rt[i].ninst; k++)
                if (r->rt[i].p->reopen(r->rt[i].inst[k]) < 0)
                    nahr_log(NAHR_LOG_ERROR, "stage %d (%s): reopen failed", r->rt[i].st->index, r->rt[i].st->label);
        }
    if (r->dead) {
        fclose(r->dead);
        r->dead = NULL; /* reopened at the next failure */
    }
}

/* Makes every sink durable, then settles the pending messages: acknowledged
 * when all sinks synced, left for redelivery otherwise. */
static void settle_pending(runner *r, bool ok)
{
    r->last_sync = nahr__now();
    if (!r->npending && !r->n_unsynced)
        return;
    for (size_t i = r->post_start; ok && i < r->n; i++) {
        stage_rt *s = &r->rt[i];
        if (!s->p->sync)
            continue;
        nahr_ctx ctx = {.worker = -1};
        if (s->p->sync(s->inst[0], &ctx) < 0) {
            nahr_kv kv = {0};
            nahr__kv_str(&kv, "event", "sync_failed");
            nahr__kv_int(&kv, "stage", s->st->index);
            nahr__kv_str(&kv, "plugin", s->st->label);
            nahr__kv_str(&kv, "reason", ctx.has_msg ? ctx.msg : "no message");
            nahr__kv_int(&kv, "not_acked", (long long)r->npending);
            nahr__log_kv(NAHR_LOG_ERROR, kv.s,
                         "stage %d (%s): sync failed: %s; %zu message(s) not acknowledged (they will be "
                         "redelivered)", s->st->index, s->st->label, ctx.has_msg ? ctx.msg : "no message", r->npending);
            r->n_sync_failures++;
            ok = false;
            r->sink_failed = true;
        }
    }
    if (ok && r->dead && fflush(r->dead) != 0)
        ok = false;
    r->n_syncs++;
    if (ok) {
        r->n_exported += r->n_unsynced;
    } else if (r->n_unsynced) {
        nahr_log(NAHR_LOG_ERROR, "%llu article(s) handed to the exporters were not confirmed written; they are not "
                 "counted as exported (run the input again)", (unsigned long long)r->n_unsynced);
        r->n_lost += r->n_unsynced;
    }
    r->n_unsynced = 0;
    for (size_t i = 0; i < r->npending; i++) {
        struct pending_ack *p = &r->pending[i];
        p->settle(p->token, !ok ? NAHR_SETTLE_RETRY : p->record ? NAHR_SETTLE_DEAD : NAHR_SETTLE_DONE, p->record,
                  p->len);
        free(p->record);
    }
    r->npending = 0;
}

/* Remembers d's message until the next sync. failed: d was dead-lettered
 * (record: what the source stores, NULL when the file took it). */
static void add_pending(runner *r, nahr_doc *d, bool failed, char *record, size_t len)
{
    if (!d->settle)
        return;
    if (failed && d->settle_dead_letter && !record) { /* no record to store: redeliver */
        d->settle(d->ack_token, NAHR_SETTLE_RETRY, NULL, 0);
        return;
    }
    if (r->npending == r->cappending) {
        size_t cap = r->cappending ? r->cappending * 2 : ACK_BATCH;
        struct pending_ack *p = realloc(r->pending, cap * sizeof *p);
        if (!p) { /* cannot remember it: leave it for redelivery rather than acknowledge too early */
            d->settle(d->ack_token, NAHR_SETTLE_RETRY, NULL, 0);
            free(record);
            return;
        }
        r->pending = p;
        r->cappending = cap;
    }
    r->pending[r->npending++] = (struct pending_ack){d->ack_token, d->settle, record, len};
}

/* The writer's part for one document in input order: post stages, the
 * accounting, the dead letter, the acknowledgement. true: the run must stop
 * (on_error = "fail" after a failure, or an exporter failed). */
static bool write_one(runner *r, nahr_doc *d)
{
    if (d->status == DOC_PENDING)
        run_stages(r, r->post_start, r->n, -1, d);
    r->n_read++;
    r->bytes += d->raw_total ? d->raw_total : d->raw.len;
    char *record = NULL;
    size_t reclen = 0;
    bool failed = false;
    if (d->status == DOC_PENDING || d->status == DOC_OK) {
        if (r->sinks_sync)
            r->n_unsynced++;
        else
            r->n_exported++;
    } else if (d->status == DOC_SKIPPED) {
        r->n_skipped++;
        stage_rt *st = stage_of(r, d->fail_stage);
        if (st)
            st->skipped++;
    } else {
        r->n_dead++;
        stage_rt *st = stage_of(r, d->fail_stage);
        if (st)
            st->dead++;
        else if (d->fail_stage && strcmp(d->fail_stage, "reader") == 0)
            r->n_dead_reader++;
        else
            r->n_dead_other++;
        failed = true;
        dead_letter(r, d, &record, &reclen);
    }
    bool stop = (r->c->on_error_fail && r->n_dead > 0) || r->sink_failed;
    add_pending(r, d, failed, record, reclen);
    if (r->npending + r->n_unsynced >= ACK_BATCH)
        settle_pending(r, true);
    nahr_doc_reset(d);
    return stop;
}

/* Stops the run at the first failure that asks for it: what is in flight
 * is finished, nothing more is read. */
static void request_stop(runner *r)
{
    pthread_mutex_lock(&r->mu);
    if (!r->stopping) {
        r->stopping = true;
        nahr_kv kv = {0};
        nahr__kv_str(&kv, "event", "stopping");
        nahr__kv_str(&kv, "reason", r->sink_failed ? "exporter_failed" : "on_error_fail");
        nahr__log_kv(NAHR_LOG_ERROR, kv.s,
                     "%s: stopping the run: in-flight articles are finished, nothing more is read",
                     r->sink_failed ? "an exporter failed" : "on_error = \"fail\"");
        pthread_cond_broadcast(&r->cv_pool);
    }
    pthread_mutex_unlock(&r->mu);
}

static void writer_loop(runner *r)
{
    double last_progress = nahr__now();
    nahr_doc *batch[WBATCH_MAX];
    for (;;) {
        pthread_mutex_lock(&r->mu);
        nahr_doc *d;
        while (!(d = r->slots[r->write_seq % r->P])) {
            if (r->reader_done && r->write_seq == r->next_seq)
                break;
            if ((r->npending || r->n_unsynced) && nahr__now() - r->last_sync >= IDLE_SYNC_S) {
                /* idle: a good moment to make outputs durable */
                pthread_mutex_unlock(&r->mu);
                settle_pending(r, true);
                pthread_mutex_lock(&r->mu);
                continue;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            r->writer_waiting = true;
            pthread_cond_timedwait(&r->cv_slots, &r->mu, &ts);
            r->writer_waiting = false;
            if (g_stop || r->stopping)
                pthread_cond_broadcast(&r->cv_pool); /* wake a reader blocked in acquire() */
        }
        if (!d) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        /* every ready document in input order, up to WBATCH_MAX, in one go */
        size_t k = 0;
        while (k < WBATCH_MAX && (d = r->slots[(r->write_seq + k) % r->P])) {
            r->slots[(r->write_seq + k) % r->P] = NULL;
            batch[k++] = d;
        }
        pthread_mutex_unlock(&r->mu);

        if (g_hup)
            reopen_outputs(r);
        bool stop = false;
        for (size_t j = 0; j < k; j++)
            if (write_one(r, batch[j]) && !stop) {
                stop = true;
                request_stop(r);
            }
        pthread_mutex_lock(&r->mu);
        r->write_seq += k;
        for (size_t j = 0; j < k; j++)
            r->freelist[r->nfree++] = batch[j];
        bool wake = !r->stopping && r->reader_waiting && (r->nfree >= r->pool_wake || r->write_seq == r->next_seq);
        pthread_mutex_unlock(&r->mu);
        if (wake) /* after unlocking: see queue_pending() */
            pthread_cond_signal(&r->cv_pool);
        if (r->progress && nahr__now() - last_progress > 0.5) {
            last_progress = nahr__now();
            progress_line(r, false);
        }
    }
}

/* ---- metrics (Prometheus text exposition, rendered on the HTTP thread) ---- */
static void label_value(nahr_buf *b, const char *v)
{
    nahr_buf_putc(b, '"');
    for (; v && *v; v++) {
        if (*v == '"' || *v == '\\')
            nahr_buf_putc(b, '\\');
        if (*v == '\n')
            nahr_buf_puts(b, "\\n");
        else
            nahr_buf_putc(b, *v);
    }
    nahr_buf_putc(b, '"');
}

static void metric_head(nahr_buf *b, const char *name, const char *type, const char *help)
{
    nahr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* a sample value: counts as integers, times with microseconds */
static void sample(nahr_buf *b, double v)
{
    if (v == (double)(uint64_t)v && v < 1e18)
        nahr_buf_printf(b, " %llu\n", (unsigned long long)v);
    else
        nahr_buf_printf(b, " %.6f\n", v);
}

static void metric(nahr_buf *b, const char *name, const char *type, const char *help, double v)
{
    metric_head(b, name, type, help);
    nahr_buf_puts(b, name);
    sample(b, v);
}

/* name{stage="label",index="i"} v for every stage; get(s) gives v */
static void per_stage(nahr_buf *b, runner *r, const char *name, const char *type, const char *help,
                      double (*get)(stage_rt *s))
{
    metric_head(b, name, type, help);
    for (size_t i = 0; i < r->n; i++) {
        nahr_buf_printf(b, "%s{stage=", name);
        label_value(b, r->rt[i].st->label);
        nahr_buf_printf(b, ",index=\"%d\"}", r->rt[i].st->index);
        sample(b, get(&r->rt[i]));
    }
}

static double get_seconds(stage_rt *s) { return (double)atomic_load_explicit(&s->ns, memory_order_relaxed) / 1e9; }
static double get_calls(stage_rt *s) { return (double)atomic_load_explicit(&s->calls, memory_order_relaxed); }
static double get_skipped(stage_rt *s) { return (double)atomic_load_explicit(&s->skipped, memory_order_relaxed); }
static double get_dead(stage_rt *s) { return (double)atomic_load_explicit(&s->dead, memory_order_relaxed); }

#define LOAD(x) ((double)atomic_load_explicit(&(x), memory_order_relaxed))

static void render_metrics(void *ctx, nahr_buf *b)
{
    runner *r = ctx;
    pthread_mutex_lock(&r->mu);
    /* documents the reader holds: free ones count as free, read ones as queued */
    size_t held_free = atomic_load_explicit(&r->held_free, memory_order_relaxed);
    size_t held_read = atomic_load_explicit(&r->held_read, memory_order_relaxed);
    size_t qlen = r->qlen + held_read;
    /* held_free is stored after the reader's lock round: never below 0 */
    size_t in_flight = r->P > r->nfree + held_free ? r->P - r->nfree - held_free : 0;
    pthread_mutex_unlock(&r->mu);
    metric_head(b, "nahr_build_info", "gauge", "nahr version (value 1).");
    nahr_buf_printf(b, "nahr_build_info{version=\"%s\"} 1\n", nahr_version());
    metric(b, "nahr_start_time_seconds", "gauge", "Start of the run, seconds since the Unix epoch.", r->wall0);
    metric(b, "nahr_workers", "gauge", "Worker threads.", r->nworkers);
    metric(b, "nahr_articles_read_total", "counter",
           "Articles read from the input (each ends exported, skipped or dead-lettered).", LOAD(r->n_read));
    metric(b, "nahr_articles_exported_total", "counter",
           "Articles exported and confirmed durable by every exporter's sync().", LOAD(r->n_exported));
    metric(b, "nahr_articles_unconfirmed", "gauge", "Articles handed to the exporters, waiting for their sync().",
           LOAD(r->n_unsynced));
    metric(b, "nahr_articles_not_written_total", "counter",
           "Articles an exporter failed to confirm (sync or flush failed).", LOAD(r->n_lost));
    metric(b, "nahr_articles_skipped_total", "counter", "Articles skipped on purpose by a stage.", LOAD(r->n_skipped));
    metric(b, "nahr_articles_dead_lettered_total", "counter", "Articles dead-lettered (file or dead_letter_subject).",
           LOAD(r->n_dead));
    per_stage(b, r, "nahr_stage_articles_total", "counter", "Articles processed by each stage.", get_calls);
    per_stage(b, r, "nahr_stage_seconds_total", "counter",
              "Time spent in each stage's process(), summed over workers (divide by nahr_stage_articles_total for the "
              "mean latency).", get_seconds);
    per_stage(b, r, "nahr_stage_skipped_total", "counter", "Articles each stage skipped.", get_skipped);
    per_stage(b, r, "nahr_stage_dead_lettered_total", "counter", "Articles dead-lettered because of each stage.",
              get_dead);
    metric(b, "nahr_reader_dead_lettered_total", "counter",
           "Articles dead-lettered by the reader (bad JSON, not text, too large, ...).", LOAD(r->n_dead_reader));
    metric(b, "nahr_source_dead_lettered_total", "counter",
           "Articles dead-lettered by the message source (delivered more than max_deliver times).",
           LOAD(r->n_dead_other));
    metric(b, "nahr_queue_depth", "gauge", "Articles read and waiting for a worker.", (double)qlen);
    metric(b, "nahr_articles_in_flight", "gauge", "Articles between reader and writer (of nahr_pool_size).",
           (double)in_flight);
    metric(b, "nahr_pool_size", "gauge", "Articles that may be in flight at once.", (double)r->P);
    metric(b, "nahr_exporter_syncs_total", "counter", "Sync points (every exporter's sync(), then acknowledgements).",
           LOAD(r->n_syncs));
    metric(b, "nahr_exporter_sync_failures_total", "counter", "Failed exporter sync() calls.",
           LOAD(r->n_sync_failures));
    if (r->o->nats_input) {
        nahr_source_stats *st = &r->src_stats;
        metric(b, "nahr_nats_messages_fetched_total", "counter", "Messages fetched from the JetStream consumer.",
               LOAD(st->fetched));
        metric(b, "nahr_nats_acked_total", "counter", "Messages acknowledged (exported or dead-lettered).",
               LOAD(st->acked));
        metric(b, "nahr_nats_naked_total", "counter", "Messages given back for redelivery (nak).", LOAD(st->naked));
        metric(b, "nahr_nats_dead_letter_published_total", "counter",
               "Dead-letter records stored on dead_letter_subject.", LOAD(st->dead_published));
        metric(b, "nahr_nats_dead_letter_failed_total", "counter",
               "Dead-letter records that could not be published (their message was nak'ed).", LOAD(st->dead_failed));
        metric(b, "nahr_nats_prefetched", "gauge", "Messages fetched ahead, not yet handed to the pipeline.",
               LOAD(st->prefetched));
    }
}

static void summary(runner *r, double secs)
{
    double mb = (double)r->bytes / 1e6;
    char lost[64] = "";
    if (r->n_lost)
        snprintf(lost, sizeof lost, ", %llu not written (exporter failed)", (unsigned long long)r->n_lost);
    if (nahr__log_is_kv()) {
        nahr_kv kv = {0};
        nahr__kv_str(&kv, "event", "summary");
        nahr__kv_int(&kv, "read", (long long)r->n_read);
        nahr__kv_int(&kv, "exported", (long long)r->n_exported);
        nahr__kv_int(&kv, "skipped", (long long)r->n_skipped);
        nahr__kv_int(&kv, "dead_lettered", (long long)r->n_dead);
        nahr__kv_int(&kv, "not_written", (long long)r->n_lost);
        char v[64];
        snprintf(v, sizeof v, "%.2f", mb);
        nahr__kv_str(&kv, "mb", v);
        snprintf(v, sizeof v, "%.3f", secs);
        nahr__kv_str(&kv, "seconds", v);
        nahr__log_kv(NAHR_LOG_INFO, kv.s, "summary");
        for (size_t i = 0; i < r->n; i++) {
            nahr_kv k2 = {0};
            nahr__kv_str(&k2, "event", "stage_time");
            nahr__kv_int(&k2, "stage", r->rt[i].st->index);
            nahr__kv_str(&k2, "plugin", r->rt[i].st->label);
            snprintf(v, sizeof v, "%.1f", (double)atomic_load(&r->rt[i].ns) / 1e6);
            nahr__kv_str(&k2, "ms", v);
            nahr__kv_int(&k2, "articles", (long long)atomic_load(&r->rt[i].calls));
            nahr__log_kv(NAHR_LOG_INFO, k2.s, "stage time");
        }
        return;
    }
    bool in_file = r->n_dead > r->n_dead_source;
    const char *where = in_file ? r->dead_path : r->n_dead ? "the input's dead_letter_subject" : "";
    fprintf(stderr,
            "nahr: %llu read, %llu exported, %llu skipped, %llu dead-lettered%s%s%s%s; %.2f MB in %.2f s "
            "(%.1f MB/s, %.0f articles/s)\n",
            (unsigned long long)r->n_read, (unsigned long long)r->n_exported, (unsigned long long)r->n_skipped,
            (unsigned long long)r->n_dead, r->n_dead ? " (see " : "", where, r->n_dead ? ")" : "", lost, mb, secs,
            secs > 0 ? mb / secs : 0.0, secs > 0 ? (double)r->n_read / secs : 0.0);
    fprintf(stderr, "nahr: stage time (summed over workers):");
    for (size_t i = 0; i < r->n; i++)
        fprintf(stderr, "%s %s %.1f ms", i ? "," : "", r->rt[i].st->label,
                (double)atomic_load(&r->rt[i].ns) / 1e6);
    fputc('\n', stderr);
}

int nahr__run(nahr_config *c, const run_options *o)
{
    runner rr = {.c = c, .o = o};
    runner *r = &rr;
    nahr_buf err = {0};
    int exit_code = 2;
    pthread_t reader;
    pthread_t *workers = NULL;
    worker_args *wargs = NULL;
    int started = 0;
    bool reader_started = false;

    r->nworkers = o->workers >= 0 ? (o->workers == 0 ? (int)sysconf(_SC_NPROCESSORS_ONLN) : o->workers) : c->workers;
    if (r->nworkers < 1)
        r->nworkers = 1;
    r->P = c->queue_depth > 0 ? (size_t)c->queue_depth : (size_t)(8 * r->nworkers + 8);
    if (r->P < (size_t)r->nworkers + 1)
        r->P = (size_t)r->nworkers + 1;
    r->dead_path = o->dead_letter ? o->dead_letter : c->dead_letter;
    r->encoding = o->encoding ? (nahr__encoding_kind(o->encoding) == 1 ? NULL : o->encoding) : c->encoding;
    r->progress = o->progress >= 0 ? o->progress : (c->progress || isatty(2));
    if (o->quiet || (nahr__log_is_kv() && o->progress != 1))
        r->progress = false; /* a \r progress line has no place in a one-event-per-line log */

    if (stages_init(r, r->nworkers, &err) < 0) {
        fputs(err.data ? err.data : "nahr: stage init failed\n", stderr);
        goto done;
    }

    for (size_t i = r->post_start; i < r->n; i++)
        r->sinks_sync |= r->rt[i].p->sync != NULL;
    pthread_mutex_init(&r->mu, NULL);
    r->pool_wake = r->P / 2 > 0 ? r->P / 2 : 1;
    r->writer_batch = r->P / 2 > 0 ? (r->P / 2 < WBATCH_MAX ? r->P / 2 : WBATCH_MAX) : 1;
    r->rbatch = r->P / 4 > 0 ? (r->P / 4 < WBATCH_MAX ? r->P / 4 : WBATCH_MAX) : 1;
    r->wbatch = r->P / (4 * (size_t)r->nworkers);
    r->wbatch = r->wbatch < 1 ? 1 : r->wbatch > WBATCH_MAX ? WBATCH_MAX : r->wbatch;
    pthread_cond_init(&r->cv_pool, NULL);
    pthread_cond_init(&r->cv_queue, NULL);
    pthread_cond_init(&r->cv_slots, NULL);
    r->all = calloc(r->P, sizeof *r->all);
    r->freelist = calloc(r->P, sizeof *r->freelist);
    r->queue = calloc(r->P, sizeof *r->queue);
    r->slots = calloc(r->P, sizeof *r->slots);
    r->stash = calloc(r->rbatch, sizeof *r->stash);
    r->pend = calloc(r->rbatch, sizeof *r->pend);
    if (!r->all || !r->freelist || !r->queue || !r->slots || !r->stash || !r->pend)
        goto done;
    for (size_t i = 0; i < r->P; i++) {
        if (!(r->all[i] = nahr_doc_new()))
            goto done;
        r->freelist[r->nfree++] = r->all[i];
    }

    /* signals: handled by the reader thread only (it unblocks them), so a
     * blocking read() on stdin is interrupted; no SA_RESTART on purpose */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    snprintf(g_dead_path, sizeof g_dead_path, "%s", r->dead_path);
    g_log_kv = nahr__log_is_kv();
    load_poison(&r->poison, r->dead_path);
    struct sigaction crash;
    memset(&crash, 0, sizeof crash);
    crash.sa_handler = on_crash;
    sigemptyset(&crash.sa_mask);
    crash.sa_flags = SA_RESETHAND;
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        sigaction(fatal[i], &crash, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    /* the HTTP thread starts with the stop signals blocked, like the workers */
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    r->wall0 = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
    if (o->metrics) {
        nahr_metrics_addr ma;
        if (nahr__metrics_parse(o->metrics, &ma, &err) < 0 ||
            nahr__metrics_start(&ma, render_metrics, r, &r->metrics, &err) < 0) {
            nahr_log(NAHR_LOG_ERROR, "%s", err.data ? err.data : "--metrics: cannot start");
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            goto done;
        }
    }

    r->t0 = nahr__now();
    workers = calloc((size_t)r->nworkers, sizeof *workers);
    wargs = calloc((size_t)r->nworkers, sizeof *wargs);
    if (!workers || !wargs)
        goto done;
    for (int i = 0; i < r->nworkers; i++) {
        wargs[i] = (worker_args){r, i};
        if (pthread_create(&workers[i], NULL, worker_main, &wargs[i]) != 0)
            break;
        started++;
    }
    reader_args ra = {r, o->inputs, o->ninputs};
    if (started == r->nworkers && pthread_create(&reader, NULL, reader_main, &ra) == 0)
        reader_started = true;
    if (!reader_started) {
        nahr_log(NAHR_LOG_ERROR, "cannot start threads: %s", strerror(errno));
        pthread_mutex_lock(&r->mu);
        r->reader_done = true;
        pthread_cond_broadcast(&r->cv_queue);
        pthread_mutex_unlock(&r->mu);
    } else {
        writer_loop(r);
        pthread_join(reader, NULL);
    }
    for (int i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    if (g_hup)
        reopen_outputs(r);

    /* end of stream: every stage flushes, in chain order */
    for (size_t i = 0; i < r->n; i++) {
        stage_rt *s = &r->rt[i];
        if (!s->p->flush)
            continue;
        for (size_t k = 0; k < s->ninst; k++) {
            nahr_ctx ctx = {.worker = -1};
            if (s->p->flush(s->inst[k], &ctx) < 0) {
                nahr_log(NAHR_LOG_ERROR, "stage %d (%s): flush failed: %s", s->st->index, s->st->label,
                         ctx.has_msg ? ctx.msg : "no message");
                r->flush_failed = true;
            }
        }
    }
    settle_pending(r, !r->flush_failed);
    double secs = nahr__now() - r->t0;
    if (r->progress)
        progress_line(r, true);
    if (g_stop)
        nahr_log(NAHR_LOG_INFO, "interrupted: stopped reading; every article read was finished");
    if (!o->quiet)
        summary(r, secs);
    exit_code = (r->n_dead || r->n_lost || r->flush_failed || r->source_failed || !reader_started) ? 1 : 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);

done:
    nahr__metrics_stop(r->metrics); /* before the state it reads goes away */
    free_poison(&r->poison);
    for (size_t i = 0; i < r->npending; i++) { /* only on early failure paths */
        r->pending[i].settle(r->pending[i].token, NAHR_SETTLE_RETRY, NULL, 0);
        free(r->pending[i].record);
    }
    free(r->pending);
    if (r->dead)
        fclose(r->dead);
    nahr_buf_free(&r->dlbuf);
    stages_destroy(r);
    if (r->all)
        for (size_t i = 0; i < r->P; i++)
            nahr_doc_free(r->all[i]);
    free(r->all);
    free(r->freelist);
    free(r->queue);
    free(r->slots);
    free(r->stash);
    free(r->pend);
    free(workers);
    free(wargs);
    nahr_buf_free(&err);
    return exit_code;
}
