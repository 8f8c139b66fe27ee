/* nats.c - format = "nats": each article is published as one JSON message
 * (the JSONL record) to a subject that a JetStream stream captures, with the
 * article id as message id (the server de-duplicates a redelivered article
 * published twice). sync() waits for the server's acknowledgements, so the
 * runner acknowledges an input message only once its output is stored. */
#include "nats_publish.h"
#include "sink.h"

#include <stdlib.h>
#include <string.h>

typedef struct nats_sink {
    export_sink base;
    nats_pub *pub;
    nahr_buf buf;
} nats_sink;

static int nats_open(const export_config *cfg, export_sink **out, char *err, size_t errsize)
{
    nats_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    s->base.ops = &export_nats_ops;
    s->base.cfg = cfg;
    int rc = nats_pub_open(cfg->url, cfg->subject, &s->pub, err, errsize);
    if (rc < 0) {
        free(s);
        return rc;
    }
    *out = &s->base;
    return NAHR_OK;
}

static int nats_write(export_sink *base, nahr_doc *doc)
{
    nats_sink *s = (nats_sink *)base;
    nahr_buf_reset(&s->buf);
    if (nahr_doc_write_json(doc, &s->buf) < 0)
        return sink_fail(base, NAHR_ENOMEM, "out of memory");
    const char *id = nahr_doc_get(doc, "id");
    int rc = nats_pub_send(s->pub, s->buf.data, s->buf.len, id && *id ? id : NULL, base->err, sizeof base->err);
    if (rc < 0)
        return rc;
    base->written++;
    return NAHR_OK;
}

static int nats_sync(export_sink *base)
{
    nats_sink *s = (nats_sink *)base;
    return nats_pub_sync(s->pub, base->err, sizeof base->err);
}

static void nats_close(export_sink *base)
{
    nats_sink *s = (nats_sink *)base;
    if (!s)
        return;
    nats_pub_close(s->pub);
    nahr_buf_free(&s->buf);
    free(s);
}

const export_sink_ops export_nats_ops = {
    .format = "nats",
    .open = nats_open,
    .write = nats_write,
    .flush = nats_sync,
    .sync = nats_sync,
    .reopen = NULL,
    .close = nats_close,
};
