/* nats_publish.c - JetStream publisher for the export plugin (see nats_publish.h). */
#include "nats_publish.h"

#include <nahr/common.h>
#include <nats/nats.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nats_pub {
    char *subject;
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    pthread_mutex_t mu; /* guards the fields below: libnats calls ack_handler on its own thread */
    unsigned long long sent, acked, resent, failed;
    unsigned long long failed_at_sync; /* failures already reported */
    long retry_budget;                 /* transient-error resends left until the next good sync */
    char first_error[256];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) NAHR_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *status_text(natsStatus st)
{
    const char *last = nats_GetLastError(NULL);
    return last && *last ? last : natsStatus_GetText(st);
}

static bool transient(natsStatus st)
{
    return st == NATS_TIMEOUT || st == NATS_NO_RESPONDERS || st == NATS_CONNECTION_DISCONNECTED ||
           st == NATS_CONNECTION_CLOSED;
}

/* libnats' thread: one call per published message, positive or negative. */
static void ack_handler(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    nats_pub *p = closure;
    pthread_mutex_lock(&p->mu);
    if (pa) {
        p->acked++; /* pa->Duplicate: stored before (same id), fine */
    } else if (pae) {
        bool resend = transient(pae->Err) && p->retry_budget > 0;
        if (resend) {
            p->retry_budget--;
            pthread_mutex_unlock(&p->mu);
            natsStatus st = js_PublishMsgAsync(js, &msg, NULL); /* clears msg on success */
            pthread_mutex_lock(&p->mu);
            if (st == NATS_OK)
                p->resent++;
            else
                resend = false;
        }
        if (!resend) {
            p->failed++;
            if (!p->first_error[0])
                snprintf(p->first_error, sizeof p->first_error, "%s%s%s", natsStatus_GetText(pae->Err),
                         pae->ErrText ? ": " : "", pae->ErrText ? pae->ErrText : "");
        }
    }
    pthread_mutex_unlock(&p->mu);
    natsMsg_Destroy(msg);
}

/* Asks the server whether some stream captures subject ($JS.API.STREAM.NAMES). */
static int check_stream(nats_pub *p, char *err, size_t errlen)
{
    char req[600];
    snprintf(req, sizeof req, "{\"subject\":\"%s\"}", p->subject);
    natsMsg *reply = NULL;
    natsStatus st = natsConnection_RequestString(&reply, p->nc, "$JS.API.STREAM.NAMES", req, 5000);
    if (st != NATS_OK) {
        set_err(err, errlen, "nats: no JetStream answer from the server (is it started with -js?): %s",
                status_text(st));
        return NAHR_EIO;
    }
    const char *data = natsMsg_GetData(reply);
    const char *total = data ? strstr(data, "\"total\":") : NULL;
    long n = total ? strtol(total + 8, NULL, 10) : -1;
    int rc = NAHR_OK;
    if (n == 0) {
        set_err(err, errlen,
                "nats: no JetStream stream captures subject '%s'; create one first, e.g. "
                "nats stream add OUT --subjects '%s' --storage file --defaults",
                p->subject, p->subject);
        rc = NAHR_ECONFIG;
    } else if (n < 0) {
        set_err(err, errlen, "nats: unexpected answer to a stream lookup: %.200s", data ? data : "(empty)");
        rc = NAHR_EIO;
    }
    natsMsg_Destroy(reply);
    return rc;
}

static bool valid_subject(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *c = s; *c; c++)
        if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n' || *c == '*' || *c == '>' || *c == '"' ||
            *c == '\\' || (*c == '.' && (c == s || c[1] == '.' || c[1] == '\0')))
            return false;
    return strlen(s) < 512;
}

int nats_pub_open(const char *url, const char *subject, nats_pub **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!url || !*url) {
        set_err(err, errlen, "nats: 'url' must not be empty (e.g. \"nats://127.0.0.1:4222\")");
        return NAHR_EINVAL;
    }
    if (!valid_subject(subject)) {
        set_err(err, errlen, "nats: '%s' is not a subject to publish to (tokens separated by '.', no wildcards, "
                "no spaces)", subject ? subject : "");
        return NAHR_EINVAL;
    }
    nats_pub *p = calloc(1, sizeof *p);
    if (!p || !(p->subject = strdup(subject))) {
        free(p);
        set_err(err, errlen, "out of memory");
        return NAHR_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    p->retry_budget = (long)NATS_PUB_RETRIES * NATS_PUB_MAX_PENDING;
    int rc = NAHR_EIO;
    /* libnats starts threads: keep the process' stop signals for nahr's own threads */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    natsStatus st = nats_Open(-1);
    if (st == NATS_OK)
        st = natsOptions_Create(&p->opts);
    if (st == NATS_OK)
        st = natsOptions_SetURL(p->opts, url);
    if (st == NATS_OK)
        st = natsOptions_SetName(p->opts, "nahr-export");
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(p->opts, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(p->opts, 1000);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectBufSize(p->opts, 64 * 1024 * 1024);
    if (st != NATS_OK) {
        set_err(err, errlen, "nats: bad options (url=%s): %s", url, status_text(st));
        rc = NAHR_EINVAL;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        goto fail;
    }
    st = natsConnection_Connect(&p->nc, p->opts);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st != NATS_OK) {
        set_err(err, errlen, "nats: cannot connect url=%s: %s", url, status_text(st));
        goto fail;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    jo.PublishAsync.MaxPending = NATS_PUB_MAX_PENDING;
    jo.PublishAsync.AckHandler = ack_handler;
    jo.PublishAsync.AckHandlerClosure = p;
    jo.PublishAsync.StallWait = NATS_PUB_SYNC_TIMEOUT_MS;
    st = natsConnection_JetStream(&p->js, p->nc, &jo);
    if (st != NATS_OK) {
        set_err(err, errlen, "nats: no JetStream context: %s", status_text(st));
        goto fail;
    }
    if ((rc = check_stream(p, err, errlen)) != NAHR_OK)
        goto fail;
    *out = p;
    return NAHR_OK;
fail:
    nats_pub_close(p);
    return rc;
}

int nats_pub_send(nats_pub *p, const char *data, size_t len, const char *msg_id, char *err, size_t errlen)
{
    if (len > (size_t)64 * 1024 * 1024) {
        set_err(err, errlen, "nats: message of %zu bytes is larger than NATS allows", len);
        return NAHR_ELIMIT;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id && *msg_id ? msg_id : NULL;
    natsStatus st = js_PublishAsync(p->js, p->subject, data, (int)len, &po);
    if (st == NATS_TIMEOUT) { /* stalled: NATS_PUB_MAX_PENDING unacknowledged; wait for them and try once more */
        int rc = nats_pub_sync(p, err, errlen);
        if (rc < 0)
            return rc;
        st = js_PublishAsync(p->js, p->subject, data, (int)len, &po);
    }
    if (st != NATS_OK) {
        set_err(err, errlen, "nats: publish to '%s' failed: %s", p->subject, status_text(st));
        return NAHR_EIO;
    }
    pthread_mutex_lock(&p->mu);
    p->sent++;
    pthread_mutex_unlock(&p->mu);
    return NAHR_OK;
}

int nats_pub_sync(nats_pub *p, char *err, size_t errlen)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = NATS_PUB_SYNC_TIMEOUT_MS;
    natsStatus st = NATS_OK;
    for (int round = 0; round <= NATS_PUB_RETRIES; round++) {
        st = js_PublishAsyncComplete(p->js, &po);
        if (st != NATS_TIMEOUT)
            break;
        if (round == NATS_PUB_RETRIES)
            break;
        /* acknowledgements lost (e.g. a reconnect): send the pending ones again, same ids */
        natsMsgList pending = {0};
        if (js_PublishAsyncGetPendingList(&pending, p->js) == NATS_OK) {
            for (int i = 0; i < pending.Count; i++)
                if (js_PublishMsgAsync(p->js, &pending.Msgs[i], NULL) == NATS_OK) {
                    pthread_mutex_lock(&p->mu);
                    p->resent++;
                    pthread_mutex_unlock(&p->mu);
                }
            natsMsgList_Destroy(&pending);
        }
    }
    pthread_mutex_lock(&p->mu);
    int rc = NAHR_OK;
    if (st != NATS_OK) {
        set_err(err, errlen, "nats: publish acknowledgements from '%s' did not arrive: %s", p->subject,
                natsStatus_GetText(st));
        rc = NAHR_EIO;
    } else if (p->failed > p->failed_at_sync) {
        set_err(err, errlen, "nats: %llu message(s) to '%s' were not stored: %s", p->failed - p->failed_at_sync,
                p->subject, p->first_error[0] ? p->first_error : "unknown error");
        p->failed_at_sync = p->failed;
        p->first_error[0] = '\0';
        rc = NAHR_EIO;
    } else {
        p->retry_budget = (long)NATS_PUB_RETRIES * NATS_PUB_MAX_PENDING;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void nats_pub_stats(const nats_pub *p, unsigned long long *sent, unsigned long long *acked,
                    unsigned long long *resent, unsigned long long *failed)
{
    nats_pub *m = (nats_pub *)p;
    pthread_mutex_lock(&m->mu);
    if (sent)
        *sent = p->sent;
    if (acked)
        *acked = p->acked;
    if (resent)
        *resent = p->resent;
    if (failed)
        *failed = p->failed;
    pthread_mutex_unlock(&m->mu);
}

void nats_pub_close(nats_pub *p)
{
    if (!p)
        return;
    if (p->nc)
        natsConnection_Close(p->nc); /* stops the ack handler before p goes away */
    jsCtx_Destroy(p->js);
    natsConnection_Destroy(p->nc);
    natsOptions_Destroy(p->opts);
    pthread_mutex_destroy(&p->mu);
    free(p->subject);
    free(p);
}
