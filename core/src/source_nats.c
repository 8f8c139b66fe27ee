/* source_nats.c - pipeline.input of type "nats": articles pulled from a NATS
 * JetStream stream through a durable pull consumer (libnats, nats.c 3.x).
 *
 * Delivery contract (at least once):
 *  - every message fetched becomes exactly one doc, carrying an ack token;
 *  - the writer settles the token (runner.h, nahr_settle_fn): durable -> Ack,
 *    not durable -> Nak with nak_delay_s, so the message is redelivered;
 *  - a message fetched but never submitted (the run is stopping) is Nak'ed
 *    at once so another worker takes it;
 *  - a message this process dies with is redelivered by the server after
 *    ack_wait_s;
 *  - a message delivered more than max_deliver times is not processed again:
 *    it becomes a failed doc, so the runner dead-letters it and acknowledges
 *    it (the consumer is created with MaxDeliver = max_deliver + 1 to leave
 *    room for that last delivery).
 * Several processes may share one durable consumer: the server gives each
 * message to one of them.
 *
 * Threads: nahr__nats_read runs on the reader thread; settle runs on the
 * writer thread. Each token holds a natsMsg and a reference to the source;
 * read() waits until every token it handed out has been settled before it
 * closes the subscription and the connection. */
#include "runner.h"

#include <nats/nats.h>

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEP_PREFIX 4096        /* bytes of an oversized message kept for the dead-letter record */
#define FETCH_TIMEOUT_MS 100    /* longest wait in one fetch: bounds the reaction time to a stop */
#define API_TIMEOUT_MS 5000     /* JetStream API requests (stream/consumer info, create) */

/* ---- configuration ---- */
typedef struct nats_conf {
    const char *url;
    const char *stream;
    const char **subjects; /* strings owned by the libconfig tree */
    int nsubjects;
    const char *durable;
    int batch;
    double ack_wait_s;
    int max_deliver;
    double nak_delay_s;
    double connect_timeout_s;
    const char *dead_letter_subject; /* NULL: dead letters go to the runner's file */
} nats_conf;

static const char *const input_keys[] = {"type",        "url",         "stream",     "subjects",          "durable",
                                         "batch",       "ack_wait_s",  "max_deliver", "nak_delay_s",
                                         "connect_timeout_s", "dead_letter_subject"};
#define NINPUT_KEYS (sizeof input_keys / sizeof *input_keys)

static const char *nearest_key(const char *key) { return nahr__nearest(key, input_keys, NINPUT_KEYS); }

static bool is_number(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double number_of(const config_setting_t *s)
{
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_FLOAT)
        return config_setting_get_float(s);
    return (double)config_setting_get_int64(s);
}

/* A durable or stream name: no whitespace, '.', '*', '>' (NATS rules), not empty. */
static bool valid_name(const char *v)
{
    if (!v || !*v || strlen(v) > 255)
        return false;
    for (const char *p = v; *p; p++)
        if (*p == '.' || *p == '*' || *p == '>' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '/' ||
            *p == '\\')
            return false;
    return true;
}

/* A subject: tokens separated by '.', none empty, '>' only as the last token. */
static bool valid_subject(const char *v)
{
    if (!v || !*v)
        return false;
    const char *tok = v;
    for (const char *p = v;; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            return false;
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - tok);
            if (n == 0)
                return false;
            if (memchr(tok, '>', n) && (n != 1 || *p != '\0'))
                return false;
            if (memchr(tok, '*', n) && n != 1)
                return false;
            if (*p == '\0')
                return true;
            tok = p + 1;
        }
    }
}

#define CERR(line, ...)                                                                                                \
    do {                                                                                                               \
        if (err) {                                                                                                     \
            nahr_buf_printf(err, "%s:%d: input: ", cfg_file, (line));                                                  \
            nahr_buf_printf(err, __VA_ARGS__);                                                                         \
            nahr_buf_putc(err, '\n');                                                                                  \
        }                                                                                                              \
        nerr++;                                                                                                        \
    } while (0)

/* Reads and validates pipeline.input into *c (defaults for absent keys).
 * c->subjects is malloc'ed (the strings are not). Returns the number of
 * errors, each appended to err (when not NULL) as one "file:line: ..." line. */
static int conf_read(config_setting_t *input, const char *cfg_file, nats_conf *c, nahr_buf *err)
{
    int nerr = 0;
    *c = (nats_conf){.url = "nats://127.0.0.1:4222", .stream = "ARTICLES", .durable = "nahr", .batch = 64,
                     .ack_wait_s = 30, .max_deliver = 5, .nak_delay_s = 5, .connect_timeout_s = 5};
    bool have_subjects = false;
    for (int k = 0; k < config_setting_length(input); k++) {
        config_setting_t *s = config_setting_get_elem(input, (unsigned)k);
        const char *key = config_setting_name(s);
        int line = config_setting_source_line(s);
        int t = config_setting_type(s);
        if (strcmp(key, "type") == 0) {
            continue; /* "nats", or config.c would not have called us */
        } else if (strcmp(key, "url") == 0 || strcmp(key, "stream") == 0 || strcmp(key, "durable") == 0) {
            const char *v = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
            if (!v) {
                CERR(line, "'%s' must be a string", key);
                continue;
            }
            if (key[0] == 'u') {
                if (!*v)
                    CERR(line, "'url' must not be empty (e.g. \"nats://127.0.0.1:4222\"; several servers: comma-separated)");
                c->url = v;
            } else if (!valid_name(v)) {
                CERR(line, "'%s' = \"%s\" is not a valid JetStream name (not empty, no '.', '*', '>', '/', '\\' or spaces)",
                     key, v);
            } else if (key[0] == 's') {
                c->stream = v;
            } else {
                c->durable = v;
            }
        } else if (strcmp(key, "dead_letter_subject") == 0) {
            const char *v = t == CONFIG_TYPE_STRING ? config_setting_get_string(s) : NULL;
            if (!v)
                CERR(line, "'dead_letter_subject' must be a string, like \"nahr.dead\"");
            else if (!valid_subject(v) || strpbrk(v, "*>"))
                CERR(line, "'dead_letter_subject' = \"%s\" is not a valid subject to publish to (tokens separated "
                           "by '.', no wildcards)", v);
            else
                c->dead_letter_subject = v;
        } else if (strcmp(key, "subjects") == 0) {
            have_subjects = true;
            if (t == CONFIG_TYPE_STRING) {
                free(c->subjects);
                c->subjects = malloc(sizeof *c->subjects);
                if (c->subjects) {
                    c->subjects[0] = config_setting_get_string(s);
                    c->nsubjects = 1;
                }
            } else if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
                int n = config_setting_length(s);
                free(c->subjects);
                c->subjects = calloc(n > 0 ? (size_t)n : 1, sizeof *c->subjects);
                c->nsubjects = 0;
                for (int i = 0; c->subjects && i < n; i++) {
                    const char *v = config_setting_get_string_elem(s, i);
                    if (!v) {
                        CERR(line, "'subjects' must be a string or a list of strings");
                        break;
                    }
                    c->subjects[c->nsubjects++] = v;
                }
                if (n == 0)
                    CERR(line, "'subjects' must not be empty");
            } else {
                CERR(line, "'subjects' must be a string or a list of strings, like \"articles.>\"");
                continue;
            }
            for (int i = 0; i < c->nsubjects; i++)
                if (!valid_subject(c->subjects[i]))
                    CERR(line, "'subjects': \"%s\" is not a valid subject (tokens separated by '.', wildcards '*' "
                               "and a final '>')", c->subjects[i]);
        } else if (strcmp(key, "batch") == 0 || strcmp(key, "max_deliver") == 0) {
            if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
                CERR(line, "'%s' must be an integer", key);
                continue;
            }
            long long v = config_setting_get_int64(s);
            if (key[0] == 'b') {
                if (v < 1 || v > 4096)
                    CERR(line, "'batch' = %lld is out of range 1..4096", v);
                else
                    c->batch = (int)v;
            } else {
                if (v < 1 || v > 1000)
                    CERR(line, "'max_deliver' = %lld is out of range 1..1000", v);
                else
                    c->max_deliver = (int)v;
            }
        } else if (strcmp(key, "ack_wait_s") == 0 || strcmp(key, "nak_delay_s") == 0 ||
                   strcmp(key, "connect_timeout_s") == 0) {
            if (!is_number(s)) {
                CERR(line, "'%s' must be a number of seconds", key);
                continue;
            }
            double v = number_of(s);
            if (strcmp(key, "ack_wait_s") == 0) {
                if (!(v >= 0.5 && v <= 86400))
                    CERR(line, "'ack_wait_s' = %g is out of range 0.5..86400 seconds", v);
                else
                    c->ack_wait_s = v;
            } else if (strcmp(key, "nak_delay_s") == 0) {
                if (!(v >= 0 && v <= 86400))
                    CERR(line, "'nak_delay_s' = %g is out of range 0..86400 seconds", v);
                else
                    c->nak_delay_s = v;
            } else {
                if (!(v >= 0.1 && v <= 600))
                    CERR(line, "'connect_timeout_s' = %g is out of range 0.1..600 seconds", v);
                else
                    c->connect_timeout_s = v;
            }
        } else {
            const char *near = nearest_key(key);
            CERR(line, "unknown key '%s'%s%s%s; valid keys for type \"nats\": type, url, stream, subjects, durable, "
                       "batch, ack_wait_s, max_deliver, nak_delay_s, connect_timeout_s, dead_letter_subject",
                 key, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        }
    }
    if (!have_subjects) {
        free(c->subjects);
        c->subjects = malloc(sizeof *c->subjects);
        if (c->subjects) {
            c->subjects[0] = "articles.>";
            c->nsubjects = 1;
        }
    }
    if (!c->subjects)
        CERR(config_setting_source_line(input), "out of memory");
    return nerr;
}

int nahr__nats_check(config_setting_t *input, const char *cfg_file, nahr_buf *err)
{
    nats_conf c;
    int nerr = conf_read(input, cfg_file, &c, err);
    free(c.subjects);
    return nerr;
}

/* A source event: the message, plus event/stream/consumer fields for
 * --log-format kv. */
static void nlog(int level, const nats_conf *c, const char *event, const char *fmt, ...) NAHR_PRINTF(4, 5);
static void nlog(int level, const nats_conf *c, const char *event, const char *fmt, ...)
{
    nahr_kv kv = {0};
    nahr__kv_str(&kv, "event", event);
    nahr__kv_str(&kv, "stream", c->stream);
    nahr__kv_str(&kv, "consumer", c->durable);
    va_list ap;
    va_start(ap, fmt);
    nahr__log_kvv(level, kv.s, fmt, ap);
    va_end(ap);
}

/* ---- the source ---- */
typedef struct nats_source {
    nats_conf conf;
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    pthread_mutex_t mu; /* guards the prefetch queue */
    pthread_cond_t cv;  /* queue changed, fetcher state changed, or the last token was settled */
    _Atomic size_t outstanding; /* tokens handed to the runner, not settled yet */
    _Atomic uint64_t n_settle_errors;
    nahr_source_stats *st; /* the runner's (metrics), or own */
    nahr_source_stats own;

    /* prefetch: the fetch thread keeps up to qcap fetched messages in a ring
     * that the reader thread hands to the pipeline, so fetching overlaps
     * processing */
    pthread_t fetcher;
    bool fetcher_started;
    natsMsg **q;
    size_t qcap, qhead, qlen;
    bool fetch_stop; /* reader -> fetcher: stop fetching */
    bool fetch_dead; /* fetcher -> reader: the connection is closed for good */
    double last_alive; /* last time a fetch failed: the source is unavailable, not idle */
} nats_source;

typedef struct ack_token {
    natsMsg *msg;
    nats_source *src;
    uint64_t seq; /* stream sequence */
} ack_token;

#define DEAD_PUBLISH_TRIES 3

/* Publishes a dead-letter record to dead_letter_subject and waits for the
 * JetStream acknowledgement, retrying a few times. The message id (input
 * stream and sequence) makes a second publish of the same record (after a
 * lost ack and a redelivery) a duplicate the server drops. */
static bool publish_dead(nats_source *src, const ack_token *t, const char *rec, size_t len)
{
    char id[320];
    snprintf(id, sizeof id, "nahr-dead:%s:%" PRIu64, src->conf.stream, t->seq);
    while (len && (rec[len - 1] == '\n' || rec[len - 1] == '\r'))
        len--;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    po.MaxWait = API_TIMEOUT_MS;
    natsStatus st = NATS_OK;
    jsErrCode jerr = 0;
    for (int i = 0; i < DEAD_PUBLISH_TRIES; i++) {
        if (i) {
            struct timespec pause = {0, 200 * 1000000L * i};
            nanosleep(&pause, NULL);
        }
        jsPubAck *pa = NULL;
        jerr = 0;
        st = js_Publish(&pa, src->js, src->conf.dead_letter_subject, rec, (int)len, &po, &jerr);
        jsPubAck_Destroy(pa);
        if (st == NATS_OK)
            return true;
    }
    const char *last = nats_GetLastError(NULL);
    nlog(NAHR_LOG_ERROR, &src->conf, "dead_letter_publish_failed",
             "nats: cannot publish the dead-letter record of nats:%s:%" PRIu64 " to subject=%s after %d tries: %s%s%s "
             "(JetStream error %d); the message is not acknowledged and comes back",
             src->conf.stream, t->seq, src->conf.dead_letter_subject, DEAD_PUBLISH_TRIES, natsStatus_GetText(st),
             last && *last ? ": " : "", last ? last : "", (int)jerr);
    return false;
}

static void settle(void *token, nahr_settle_outcome how, const char *record, size_t len)
{
    ack_token *t = token;
    nats_source *src = t->src;
    natsStatus st;
    int dead_published = -1; /* -1: no record to publish, 0 failed, 1 published */
    if (how == NAHR_SETTLE_DEAD && record && src->conf.dead_letter_subject) {
        dead_published = publish_dead(src, t, record, len);
        if (!dead_published)
            how = NAHR_SETTLE_RETRY;
    }
    bool ack = how != NAHR_SETTLE_RETRY;
    if (ack) {
        st = natsMsg_Ack(t->msg, NULL);
    } else if (src->conf.nak_delay_s > 0) {
        st = natsMsg_NakWithDelay(t->msg, (int64_t)(src->conf.nak_delay_s * 1000), NULL);
    } else {
        st = natsMsg_Nak(t->msg, NULL);
    }
    natsMsg_Destroy(t->msg);
    free(t);
    atomic_fetch_add_explicit(ack ? &src->st->acked : &src->st->naked, 1, memory_order_relaxed);
    if (dead_published >= 0)
        atomic_fetch_add_explicit(dead_published ? &src->st->dead_published : &src->st->dead_failed, 1,
                                  memory_order_relaxed);
    if (st != NATS_OK && atomic_fetch_add(&src->n_settle_errors, 1) < 5)
        nahr_log(NAHR_LOG_WARN, "nats: cannot %s a message: %s (the server redelivers it after ack_wait_s)",
                 ack ? "ack" : "nak", natsStatus_GetText(st));
    if (atomic_fetch_sub(&src->outstanding, 1) == 1) { /* the last one: source_close may be waiting */
        pthread_mutex_lock(&src->mu);
        pthread_cond_broadcast(&src->cv);
        pthread_mutex_unlock(&src->mu);
    }
}

static const char *js_error(natsStatus st, jsErrCode jerr, char *buf, size_t n)
{
    const char *last = nats_GetLastError(NULL);
    if (jerr)
        snprintf(buf, n, "%s (JetStream error %d%s%s)", natsStatus_GetText(st), (int)jerr, last ? ": " : "",
                 last ? last : "");
    else
        snprintf(buf, n, "%s%s%s", natsStatus_GetText(st), last && *last ? ": " : "", last ? last : "");
    return buf;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Subjects as a sorted, comma-separated list for comparison and messages. */
static void subjects_text(const char **subj, int n, char *buf, size_t cap)
{
    const char **v = malloc((n > 0 ? (size_t)n : 1) * sizeof *v);
    size_t at = 0;
    buf[0] = '\0';
    if (!v)
        return;
    memcpy(v, subj, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_cstr);
    for (int i = 0; i < n && at < cap; i++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", v[i]);
    free(v);
}

/* Creates the stream when missing; refuses an existing one whose subjects differ. */
static int ensure_stream(nats_source *src)
{
    nats_conf *c = &src->conf;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    char ebuf[512];
    natsStatus st = js_GetStreamInfo(&si, src->js, c->stream, NULL, &jerr);
    if (st == NATS_OK) {
        char want[1024], have[1024];
        subjects_text(c->subjects, c->nsubjects, want, sizeof want);
        subjects_text(si->Config->Subjects, si->Config->SubjectsLen, have, sizeof have);
        int rc = NAHR_OK;
        if (strcmp(want, have) != 0) {
            nahr_log(NAHR_LOG_ERROR,
                     "nats: stream=%s exists with subjects=[%s] but the config says subjects=[%s]; nahr never "
                     "changes an existing stream: fix 'subjects' in the config, or change the stream yourself "
                     "(nats stream edit %s)", c->stream, have, want, c->stream);
            rc = NAHR_ECONFIG;
        }
        jsStreamInfo_Destroy(si);
        return rc;
    }
    if (st != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot read stream=%s: %s", c->stream, js_error(st, jerr, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = c->stream;
    cfg.Subjects = c->subjects;
    cfg.SubjectsLen = c->nsubjects;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    jerr = 0;
    st = js_AddStream(&si, src->js, &cfg, NULL, &jerr);
    if (st != NATS_OK) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot create stream=%s: %s", c->stream, js_error(st, jerr, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    char have[1024];
    subjects_text(c->subjects, c->nsubjects, have, sizeof have);
    nlog(NAHR_LOG_INFO, c, "stream_created", "nats: created stream=%s subjects=[%s] storage=file retention=limits",
         c->stream, have);
    jsStreamInfo_Destroy(si);
    return NAHR_OK;
}

/* Creates the durable pull consumer when missing; refuses an existing one
 * that is not a pull consumer with explicit acks and our ack_wait / max_deliver. */
static int ensure_consumer(nats_source *src)
{
    nats_conf *c = &src->conf;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    char ebuf[512];
    int64_t ack_wait_ns = (int64_t)llround(c->ack_wait_s * 1e9);
    int64_t max_deliver = (int64_t)c->max_deliver + 1; /* + the delivery that dead-letters */
    natsStatus st = js_GetConsumerInfo(&ci, src->js, c->stream, c->durable, NULL, &jerr);
    if (st == NATS_OK) {
        jsConsumerConfig *cc = ci->Config;
        int rc = NAHR_OK;
        if (cc->DeliverSubject && *cc->DeliverSubject) {
            nahr_log(NAHR_LOG_ERROR, "nats: consumer=%s of stream=%s is a push consumer; nahr needs a pull consumer "
                     "(choose another 'durable')", c->durable, c->stream);
            rc = NAHR_ECONFIG;
        } else if (cc->AckPolicy != js_AckExplicit) {
            nahr_log(NAHR_LOG_ERROR, "nats: consumer=%s of stream=%s does not use explicit acks; nahr needs them "
                     "(choose another 'durable')", c->durable, c->stream);
            rc = NAHR_ECONFIG;
        } else if (cc->AckWait != ack_wait_ns || cc->MaxDeliver != max_deliver) {
            nahr_log(NAHR_LOG_ERROR,
                     "nats: consumer=%s of stream=%s exists with ack_wait=%.3gs max_deliver=%" PRId64
                     " but the config says ack_wait_s=%g max_deliver=%d (server value %" PRId64
                     " = max_deliver + 1, see docs/nats.md); nahr never changes an existing consumer: fix the "
                     "config or delete the consumer (nats consumer rm %s %s)",
                     c->durable, c->stream, (double)cc->AckWait / 1e9, cc->MaxDeliver - 1, c->ack_wait_s,
                     c->max_deliver, max_deliver, c->stream, c->durable);
            rc = NAHR_ECONFIG;
        }
        jsConsumerInfo_Destroy(ci);
        return rc;
    }
    if (st != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot read consumer=%s of stream=%s: %s", c->durable, c->stream,
                 js_error(st, jerr, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = c->durable;
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = ack_wait_ns;
    cfg.MaxDeliver = max_deliver;
    cfg.DeliverPolicy = js_DeliverAll;
    jerr = 0;
    st = js_AddConsumer(&ci, src->js, c->stream, &cfg, NULL, &jerr);
    if (st != NATS_OK) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot create consumer=%s of stream=%s: %s", c->durable, c->stream,
                 js_error(st, jerr, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    nlog(NAHR_LOG_INFO, c, "consumer_created",
         "nats: created durable pull consumer=%s stream=%s ack_wait_s=%g max_deliver=%d",
             c->durable, c->stream, c->ack_wait_s, c->max_deliver);
    jsConsumerInfo_Destroy(ci);
    return NAHR_OK;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    if (!natsConnection_IsClosed(nc)) /* not our own close at the end of the run */
        nahr_log(NAHR_LOG_WARN, "nats: disconnected; reconnecting");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)closure;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    nahr_log(NAHR_LOG_INFO, "nats: reconnected url=%s", url);
}

/* dead_letter_subject must be captured by a stream (nahr does not create
 * it: an operator chooses its retention), and not by the input stream, or
 * dead letters would come back as input. */
static int check_dead_letter_subject(nats_source *src)
{
    const char *subj = src->conf.dead_letter_subject;
    char req[600];
    snprintf(req, sizeof req, "{\"subject\":\"%s\"}", subj);
    natsMsg *reply = NULL;
    natsStatus st = natsConnection_RequestString(&reply, src->nc, "$JS.API.STREAM.NAMES", req, API_TIMEOUT_MS);
    if (st != NATS_OK) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot look up the stream of dead_letter_subject=%s: %s", subj,
                 natsStatus_GetText(st));
        return NAHR_EIO;
    }
    const char *data = natsMsg_GetData(reply);
    const char *total = data ? strstr(data, "\"total\":") : NULL;
    const char *streams = data ? strstr(data, "\"streams\":") : NULL;
    long n = total ? strtol(total + 8, NULL, 10) : -1;
    char quoted[300];
    snprintf(quoted, sizeof quoted, "\"%s\"", src->conf.stream);
    int rc = NAHR_OK;
    if (n < 0) {
        nahr_log(NAHR_LOG_ERROR, "nats: unexpected answer to a stream lookup for dead_letter_subject=%s: %.200s", subj,
                 data ? data : "(empty)");
        rc = NAHR_EIO;
    } else if (n == 0) {
        nahr_log(NAHR_LOG_ERROR,
                 "nats: no JetStream stream captures dead_letter_subject=%s; create one first (e.g. nats stream add "
                 "DEAD --subjects %s); nahr does not create dead-letter streams", subj, subj);
        rc = NAHR_ECONFIG;
    } else if (streams && strstr(streams, quoted)) {
        nahr_log(NAHR_LOG_ERROR,
                 "nats: dead_letter_subject=%s is captured by the input stream=%s: dead letters would come back as "
                 "input; choose a subject outside 'subjects'", subj, src->conf.stream);
        rc = NAHR_ECONFIG;
    } else {
        nahr_log(NAHR_LOG_INFO, "nats: dead letters go to subject=%s", subj);
    }
    natsMsg_Destroy(reply);
    return rc;
}

/* Connects, checks or creates the stream and the consumer, binds the pull subscription. */
static int source_open(nats_source *src)
{
    nats_conf *c = &src->conf;
    char ebuf[512];
    jsErrCode jerr = 0;
    /* libnats starts its threads here: keep the run's stop signals off them */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    natsStatus st = nats_Open(-1);
    if (st == NATS_OK)
        st = natsOptions_Create(&src->opts);
    if (st == NATS_OK)
        st = natsOptions_SetURL(src->opts, c->url);
    if (st == NATS_OK)
        st = natsOptions_SetName(src->opts, "nahr");
    if (st == NATS_OK)
        st = natsOptions_SetTimeout(src->opts, (int64_t)(c->connect_timeout_s * 1000));
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(src->opts, -1); /* a service waits for its server */
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(src->opts, 1000);
    if (st == NATS_OK)
        st = natsOptions_SetDisconnectedCB(src->opts, on_disconnected, NULL);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectedCB(src->opts, on_reconnected, NULL);
    if (st != NATS_OK) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        nahr_log(NAHR_LOG_ERROR, "nats: bad options (url=%s): %s", c->url, js_error(st, 0, ebuf, sizeof ebuf));
        return NAHR_ECONFIG;
    }
    st = natsConnection_Connect(&src->nc, src->opts);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st != NATS_OK) {
        nlog(NAHR_LOG_ERROR, c, "connect_failed", "nats: cannot connect url=%s: %s", c->url,
             js_error(st, 0, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = API_TIMEOUT_MS;
    st = natsConnection_JetStream(&src->js, src->nc, &jo);
    if (st != NATS_OK) {
        nahr_log(NAHR_LOG_ERROR, "nats: no JetStream context: %s", js_error(st, 0, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    int rc = ensure_stream(src);
    if (rc == NAHR_OK)
        rc = ensure_consumer(src);
    if (rc == NAHR_OK && c->dead_letter_subject)
        rc = check_dead_letter_subject(src);
    if (rc != NAHR_OK)
        return rc;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = c->stream;
    so.Consumer = c->durable;
    so.ManualAck = true;
    st = js_PullSubscribe(&src->sub, src->js, c->nsubjects == 1 ? c->subjects[0] : "", c->durable, NULL, &so, &jerr);
    if (st != NATS_OK) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot bind to consumer=%s stream=%s: %s", c->durable, c->stream,
                 js_error(st, jerr, ebuf, sizeof ebuf));
        return NAHR_EIO;
    }
    char url[256] = "";
    natsConnection_GetConnectedUrl(src->nc, url, sizeof url);
    nlog(NAHR_LOG_INFO, c, "reading", "nats: reading url=%s stream=%s consumer=%s batch=%d", url, c->stream, c->durable,
             c->batch);
    return NAHR_OK;
}

static void source_close(nats_source *src)
{
    /* every token handed out is settled first: acks need the subscription */
    pthread_mutex_lock(&src->mu);
    double t0 = nahr__now(), said = t0;
    while (atomic_load(&src->outstanding)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&src->cv, &src->mu, &ts);
        if (atomic_load(&src->outstanding) && nahr__now() - said > 10) {
            said = nahr__now();
            nahr_log(NAHR_LOG_INFO, "nats: waiting for %zu in-flight article(s) to be written (%.0f s)",
                     atomic_load(&src->outstanding), said - t0);
        }
    }
    pthread_mutex_unlock(&src->mu);
    if (src->nc && natsConnection_Status(src->nc) == NATS_CONN_STATUS_CONNECTED &&
        natsConnection_FlushTimeout(src->nc, 5000) != NATS_OK)
        nahr_log(NAHR_LOG_WARN, "nats: could not flush the last acknowledgements (those messages are redelivered)");
    /* Destroy, not Unsubscribe: the durable consumer must outlive this run */
    natsSubscription_Destroy(src->sub);
    jsCtx_Destroy(src->js);
    natsConnection_Destroy(src->nc);
    natsOptions_Destroy(src->opts);
    uint64_t dp = atomic_load(&src->st->dead_published), df = atomic_load(&src->st->dead_failed);
    uint64_t acked = atomic_load(&src->st->acked), naked = atomic_load(&src->st->naked);
    char dead[128] = "";
    nahr_kv kv = {0};
    nahr__kv_str(&kv, "event", "nats_closed");
    nahr__kv_str(&kv, "stream", src->conf.stream);
    nahr__kv_str(&kv, "consumer", src->conf.durable);
    nahr__kv_int(&kv, "acked", (long long)acked);
    nahr__kv_int(&kv, "nacked", (long long)naked);
    if (src->conf.dead_letter_subject) {
        snprintf(dead, sizeof dead, " dead_letter_published=%" PRIu64 " dead_letter_failed=%" PRIu64, dp, df);
        nahr__kv_int(&kv, "dead_letter_published", (long long)dp);
        nahr__kv_int(&kv, "dead_letter_failed", (long long)df);
    }
    nahr__log_kv(NAHR_LOG_INFO, kv.s, "nats: closed acked=%" PRIu64 " nacked=%" PRIu64 "%s", acked, naked, dead);
}

/* Fills d from msg; the doc always comes out submittable (failed when the
 * message cannot be processed). Returns the message's stream sequence. */
static uint64_t doc_from_msg(nats_source *src, reader_sink *s, nahr_doc *d, natsMsg *msg)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0, delivered = 1;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        delivered = meta->NumDelivered;
        jsMsgMetaData_Destroy(meta);
    }
    snprintf(d->origin_buf, sizeof d->origin_buf, "nats:%s:%" PRIu64, src->conf.stream, seq);
    d->origin = d->origin_buf;
    d->kind = RAW_JSONL;
    const char *data = natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    size_t n = len > 0 ? (size_t)len : 0;
    d->raw_total = n;
    if (n > s->max_bytes) {
        d->raw_truncated = true;
        if (nahr_buf_append(&d->raw, data, KEEP_PREFIX < n ? KEEP_PREFIX : n) < 0)
            nahr__doc_set_failed(d, "reader", "out of memory");
        else
            nahr__doc_set_failed(d, "reader", "message of %zu bytes exceeds max_article_bytes (%zu)", n, s->max_bytes);
    } else if (nahr_buf_append(&d->raw, data ? data : "", n) < 0) {
        nahr__doc_set_failed(d, "reader", "out of memory");
    }
    /* a trailing newline (publishers that send JSONL lines) is not part of the record */
    while (d->raw.len && (d->raw.data[d->raw.len - 1] == '\n' || d->raw.data[d->raw.len - 1] == '\r'))
        d->raw.data[--d->raw.len] = '\0';
    if (d->status != DOC_FAILED && d->raw.len == 0)
        nahr__doc_set_failed(d, "reader", "empty message");
    if (d->status != DOC_FAILED && delivered > (uint64_t)src->conf.max_deliver) {
        /* parsed first, so the dead-letter record names the article's id */
        if (nahr__doc_prepare(d, true, NULL) == NAHR_OK)
            nahr__doc_set_failed(d, "nats",
                             "delivered %" PRIu64 " times without being acknowledged (max_deliver = %d): "
                             "dead-lettered instead of processed again",
                             delivered, src->conf.max_deliver);
    }
    return seq;
}

/* The fetch thread: keeps the prefetch ring filled, one fetch of up to
 * 'batch' messages at a time, while there is room for a whole batch. */
static void *fetch_main(void *arg)
{
    nats_source *src = arg;
    int batch = src->conf.batch;
    double last_warn = 0;
    pthread_mutex_lock(&src->mu);
    for (;;) {
        while (!src->fetch_stop && src->qlen + (size_t)batch > src->qcap)
            pthread_cond_wait(&src->cv, &src->mu);
        if (src->fetch_stop)
            break;
        pthread_mutex_unlock(&src->mu);
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus st = natsSubscription_Fetch(&list, src->sub, batch, FETCH_TIMEOUT_MS, &jerr);
        if (st != NATS_OK && st != NATS_TIMEOUT && list.Count == 0) {
            natsMsgList_Destroy(&list);
            if (natsConnection_Status(src->nc) == NATS_CONN_STATUS_CLOSED) {
                nlog(NAHR_LOG_ERROR, &src->conf, "connection_closed", "nats: connection closed: %s",
                     natsStatus_GetText(st));
                pthread_mutex_lock(&src->mu);
                src->fetch_dead = true;
                pthread_cond_broadcast(&src->cv);
                break;
            }
            if (nahr__now() - last_warn > 10) {
                char ebuf[512];
                last_warn = nahr__now();
                nlog(NAHR_LOG_WARN, &src->conf, "fetch_failed", "nats: fetch failed: %s; retrying",
                     js_error(st, jerr, ebuf, sizeof ebuf));
            }
            struct timespec pause = {0, 200 * 1000000};
            nanosleep(&pause, NULL);
            pthread_mutex_lock(&src->mu);
            src->last_alive = nahr__now(); /* not idle time: the source is unavailable, not empty */
            continue;
        }
        pthread_mutex_lock(&src->mu);
        for (int i = 0; i < list.Count; i++) { /* room for a whole batch was checked above */
            src->q[(src->qhead + src->qlen) % src->qcap] = list.Msgs[i];
            src->qlen++;
            list.Msgs[i] = NULL;
        }
        atomic_fetch_add_explicit(&src->st->fetched, (uint64_t)(list.Count > 0 ? list.Count : 0), memory_order_relaxed);
        atomic_store_explicit(&src->st->prefetched, src->qlen, memory_order_relaxed);
        if (list.Count > 0)
            pthread_cond_broadcast(&src->cv);
        pthread_mutex_unlock(&src->mu);
        natsMsgList_Destroy(&list);
        pthread_mutex_lock(&src->mu);
    }
    pthread_mutex_unlock(&src->mu);
    return NULL;
}

static int fetcher_start(nats_source *src)
{
    src->qcap = 2 * (size_t)src->conf.batch;
    src->q = calloc(src->qcap, sizeof *src->q);
    if (!src->q)
        return NAHR_ENOMEM;
    /* the stop signals belong to the reader thread */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int e = pthread_create(&src->fetcher, NULL, fetch_main, src);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        nahr_log(NAHR_LOG_ERROR, "nats: cannot start the fetch thread: %s", strerror(e));
        return NAHR_EIO;
    }
    src->fetcher_started = true;
    return NAHR_OK;
}

/* Stops the fetch thread and gives back (nak, no delay) what it fetched
 * that was not handed over, so another worker takes it at once. */
static void fetcher_stop(nats_source *src)
{
    if (src->fetcher_started) {
        pthread_mutex_lock(&src->mu);
        src->fetch_stop = true;
        pthread_cond_broadcast(&src->cv);
        pthread_mutex_unlock(&src->mu);
        pthread_join(src->fetcher, NULL);
        src->fetcher_started = false;
    }
    for (; src->qlen; src->qlen--, src->qhead = (src->qhead + 1) % src->qcap) {
        natsMsg_Nak(src->q[src->qhead], NULL);
        natsMsg_Destroy(src->q[src->qhead]);
        atomic_fetch_add_explicit(&src->st->naked, 1, memory_order_relaxed);
    }
    free(src->q);
    src->q = NULL;
}

#define WAIT_SLICE_MS 100 /* the reader re-checks the stop flag at least this often */

int nahr__nats_read(config_setting_t *input, reader_sink *s, nahr_source_stats *stats)
{
    nats_source *src = calloc(1, sizeof *src);
    if (!src)
        return NAHR_ENOMEM;
    pthread_mutex_init(&src->mu, NULL);
    pthread_cond_init(&src->cv, NULL);
    src->st = stats ? stats : &src->own;
    int rc = NAHR_OK;
    nahr_buf err = {0};
    natsMsg **take = NULL;
    if (conf_read(input, "config", &src->conf, &err) > 0) { /* checked at load: only a changed tree gets here */
        nahr_log(NAHR_LOG_ERROR, "nats: %s", err.data ? err.data : "bad input settings");
        rc = NAHR_ECONFIG;
        goto fail;
    }
    if ((rc = source_open(src)) != NAHR_OK || (rc = fetcher_start(src)) != NAHR_OK)
        goto fail;
    take = malloc(src->qcap * sizeof *take);
    if (!take) {
        rc = NAHR_ENOMEM;
        goto fail;
    }

    double last_msg = nahr__now();
    bool stopping = false;
    while (!stopping && !*s->stop) {
        /* wait for prefetched messages, the idle limit, or a stop */
        size_t n = 0;
        pthread_mutex_lock(&src->mu);
        while (src->qlen == 0 && !src->fetch_dead && !*s->stop) {
            double since = src->last_alive > last_msg ? src->last_alive : last_msg;
            double idle = nahr__now() - since;
            if (s->idle_timeout > 0 && idle >= s->idle_timeout)
                break;
            double slice = WAIT_SLICE_MS / 1e3;
            if (s->idle_timeout > 0 && s->idle_timeout - idle < slice)
                slice = s->idle_timeout - idle;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long ns = ts.tv_nsec + (long)(slice * 1e9) + 1000000;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&src->cv, &src->mu, &ts);
        }
        for (; src->qlen; src->qlen--, src->qhead = (src->qhead + 1) % src->qcap)
            take[n++] = src->q[src->qhead];
        atomic_store_explicit(&src->st->prefetched, 0, memory_order_relaxed);
        bool dead = src->fetch_dead;
        if (n)
            pthread_cond_broadcast(&src->cv); /* room for the fetcher */
        pthread_mutex_unlock(&src->mu);
        if (n == 0) {
            if (dead) {
                rc = NAHR_EIO;
            } else if (!*s->stop) {
                nlog(NAHR_LOG_INFO, &src->conf, "idle_stop", "nats: nothing for %.1f s (--until-idle): stopping",
                     nahr__now() - last_msg);
            }
            break;
        }
        for (size_t i = 0; i < n; i++) {
            natsMsg *msg = take[i];
            nahr_doc *d = stopping ? NULL : s->acquire(s->ctx);
            ack_token *t = d ? malloc(sizeof *t) : NULL;
            if (!t) {
                /* stopping (or out of memory): give it back for another worker at once */
                natsMsg_Nak(msg, NULL);
                natsMsg_Destroy(msg);
                atomic_fetch_add_explicit(&src->st->naked, 1, memory_order_relaxed);
                if (d)
                    s->release(s->ctx, d);
                stopping = true;
                continue;
            }
            *t = (ack_token){msg, src, doc_from_msg(src, s, d, msg)};
            d->ack_token = t;
            d->settle = settle;
            d->settle_dead_letter = src->conf.dead_letter_subject != NULL;
            atomic_fetch_add_explicit(&src->outstanding, 1, memory_order_relaxed);
            s->submit(s->ctx, d);
        }
        if (s->flush) /* the next wait for messages may be long */
            s->flush(s->ctx);
        /* idle time counts from the end of the hand-over, which waits for the pipeline */
        last_msg = nahr__now();
    }
fail:
    fetcher_stop(src);
    free(take);
    if (src->nc || src->opts)
        source_close(src);
    free(src->conf.subjects);
    nahr_buf_free(&err);
    pthread_cond_destroy(&src->cv);
    pthread_mutex_destroy(&src->mu);
    free(src);
    return rc;
}
