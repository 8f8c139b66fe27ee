/* jsonl.c - JSON Lines (DESIGN.md's record), plain, gzip or zstd.
 *
 * Records are built whole in memory and handed to write(2) in batches that
 * end on a record boundary, so a crash never leaves half a line in a plain
 * file. Compressed output is flushed at each batch (Z_SYNC_FLUSH /
 * ZSTD_e_flush) so every batch written is decodable; the stream is finished
 * at flush, SIGHUP and close. SIGHUP finishes the stream, closes the file and
 * reopens it in append mode: a rotated-away .gz/.zst is complete, and a file
 * appended to gets a new gzip member / zstd frame (both formats allow
 * concatenation). */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum { COMP_NONE, COMP_GZIP, COMP_ZSTD };

typedef struct jsonl_sink {
    export_sink base;
    char path[4096];
    bool to_stdout;
    int fd;
    int comp;
    bool stream_open; /* a compressed stream was started and not finished */
    bool any_stream;  /* a stream was started in the current file */
    z_stream z;
    ZSTD_CCtx *zc;
    nahr_buf buf;  /* uncompressed records not yet written */
    nahr_buf zbuf; /* compressed bytes */
    size_t nbuf;   /* records in buf */
} jsonl_sink;

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int comp_start(jsonl_sink *s)
{
    int level = s->base.cfg->compress_level;
    if (s->comp == COMP_GZIP) {
        memset(&s->z, 0, sizeof s->z);
        if (deflateInit2(&s->z, level ? level : 1, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return NAHR_ENOMEM;
    } else if (s->comp == COMP_ZSTD) {
        if (!s->zc && !(s->zc = ZSTD_createCCtx()))
            return NAHR_ENOMEM;
        ZSTD_CCtx_reset(s->zc, ZSTD_reset_session_only);
        if (ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, level ? level : 3)))
            return NAHR_EINVAL;
    }
    s->stream_open = s->comp != COMP_NONE;
    s->any_stream = true;
    return NAHR_OK;
}

/* Compresses buf into zbuf; finish ends the stream. */
static int comp_run(jsonl_sink *s, bool finish)
{
    nahr_buf_reset(&s->zbuf);
    if (s->comp == COMP_GZIP) {
        s->z.next_in = (Bytef *)(s->buf.data ? s->buf.data : "");
        s->z.avail_in = (uInt)s->buf.len;
        int mode = finish ? Z_FINISH : Z_SYNC_FLUSH;
        for (;;) {
            if (nahr_buf_reserve(&s->zbuf, 65536) < 0)
                return NAHR_ENOMEM;
            s->z.next_out = (Bytef *)s->zbuf.data + s->zbuf.len;
            s->z.avail_out = (uInt)(s->zbuf.cap - s->zbuf.len - 1);
            size_t room = s->z.avail_out;
            int rc = deflate(&s->z, mode);
            s->zbuf.len += room - s->z.avail_out;
            if (rc == Z_STREAM_END)
                break;
            if (rc != Z_OK && rc != Z_BUF_ERROR)
                return NAHR_EIO;
            if (s->z.avail_in == 0 && s->z.avail_out > 0)
                break; /* sync flush done */
        }
        if (finish) {
            deflateEnd(&s->z);
            s->stream_open = false;
        }
    } else {
        ZSTD_inBuffer in = {s->buf.data ? s->buf.data : "", s->buf.len, 0};
        ZSTD_EndDirective mode = finish ? ZSTD_e_end : ZSTD_e_flush;
        for (;;) {
            if (nahr_buf_reserve(&s->zbuf, ZSTD_CStreamOutSize()) < 0)
                return NAHR_ENOMEM;
            ZSTD_outBuffer out = {s->zbuf.data + s->zbuf.len, s->zbuf.cap - s->zbuf.len - 1, 0};
            size_t left = ZSTD_compressStream2(s->zc, &out, &in, mode);
            if (ZSTD_isError(left))
                return NAHR_EIO;
            s->zbuf.len += out.pos;
            if (left == 0 && in.pos == in.size)
                break;
        }
        if (finish)
            s->stream_open = false;
    }
    return NAHR_OK;
}

/* Writes what is buffered; finish also ends a compressed stream. */
static int drain(jsonl_sink *s, bool finish)
{
    /* at the end, a compressed file gets at least one (empty) stream so
     * that decompressors accept it */
    bool empty_stream = finish && s->comp != COMP_NONE && !s->any_stream;
    if (!s->buf.len && !(finish && s->stream_open) && !empty_stream)
        return NAHR_OK;
    const char *p = s->buf.data;
    size_t n = s->buf.len;
    if (s->comp != COMP_NONE) {
        if (!s->stream_open && comp_start(s) < 0)
            return sink_fail(&s->base, NAHR_ENOMEM, "cannot start the %s stream",
                             s->comp == COMP_GZIP ? "gzip" : "zstd");
        if (comp_run(s, finish) < 0) {
            size_t lost = s->nbuf;
            nahr_buf_reset(&s->buf);
            s->nbuf = 0;
            return sink_fail(&s->base, NAHR_EIO, "compression failed (records not written: %zu)", lost);
        }
        p = s->zbuf.data;
        n = s->zbuf.len;
    }
    int rc = n ? export_write_all(s->fd, p, n) : NAHR_OK;
    size_t lost = s->nbuf;
    nahr_buf_reset(&s->buf);
    s->nbuf = 0;
    if (rc < 0)
        return sink_fail(&s->base, NAHR_EIO, "cannot write to %s: %s (records of this batch not written: %zu)",
                         s->to_stdout ? "stdout" : s->path, strerror(errno), lost);
    return NAHR_OK;
}

static int open_fd(jsonl_sink *s, bool append)
{
    if (s->to_stdout) {
        s->fd = STDOUT_FILENO;
        return NAHR_OK;
    }
    s->fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    s->any_stream = false;
    return s->fd < 0 ? NAHR_EIO : NAHR_OK;
}

static int jsonl_open(const export_config *cfg, export_sink **out, char *err, size_t errsize)
{
    jsonl_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    s->base.ops = &export_jsonl_ops;
    s->base.cfg = cfg;
    s->fd = -1;
    s->to_stdout = strcmp(cfg->path, "-") == 0;
    snprintf(s->path, sizeof s->path, "%s", cfg->path);
    const char *c = cfg->compress ? cfg->compress : "auto";
    if (strcmp(c, "gzip") == 0 || (strcmp(c, "auto") == 0 && ends_with(cfg->path, ".gz")))
        s->comp = COMP_GZIP;
    else if (strcmp(c, "zstd") == 0 || (strcmp(c, "auto") == 0 && ends_with(cfg->path, ".zst")))
        s->comp = COMP_ZSTD;
    if (open_fd(s, cfg->append) < 0) {
        snprintf(err, errsize, "cannot open '%s' for writing: %s", cfg->path, strerror(errno));
        free(s);
        return NAHR_EIO;
    }
    *out = &s->base;
    return NAHR_OK;
}

static int jsonl_format(const export_sink *b, const nahr_doc *doc, nahr_buf *out)
{
    (void)b;
    size_t before = out->len;
    if (nahr_doc_write_json(doc, out) < 0 || nahr_buf_putc(out, '\n') < 0) {
        out->len = before; /* drop the partial record */
        if (out->data)
            out->data[before] = 0;
        return NAHR_ENOMEM;
    }
    return NAHR_OK;
}

/* the record is in s->buf: count it, write a full batch out */
static int jsonl_added(jsonl_sink *s)
{
    s->nbuf++;
    if (s->buf.len >= s->base.cfg->batch_bytes)
        return drain(s, false);
    return NAHR_OK;
}

static int jsonl_write(export_sink *b, nahr_doc *doc)
{
    jsonl_sink *s = (jsonl_sink *)b;
    if (jsonl_format(b, doc, &s->buf) < 0)
        return sink_fail(b, NAHR_ENOMEM, "out of memory while writing the record");
    return jsonl_added(s);
}

static int jsonl_write_record(export_sink *b, const char *rec, size_t len)
{
    jsonl_sink *s = (jsonl_sink *)b;
    if (nahr_buf_append(&s->buf, rec, len) < 0)
        return sink_fail(b, NAHR_ENOMEM, "out of memory while writing the record");
    return jsonl_added(s);
}

static int jsonl_flush(export_sink *b)
{
    jsonl_sink *s = (jsonl_sink *)b;
    int rc = drain(s, true);
    if (rc == NAHR_OK && s->base.cfg->fsync && !s->to_stdout && fsync(s->fd) != 0)
        return sink_fail(b, NAHR_EIO, "fsync %s: %s", s->path, strerror(errno));
    return rc;
}

static int jsonl_sync(export_sink *b)
{
    jsonl_sink *s = (jsonl_sink *)b;
    int rc = drain(s, false);
    if (rc == NAHR_OK && s->base.cfg->fsync && !s->to_stdout && fsync(s->fd) != 0)
        return sink_fail(b, NAHR_EIO, "fsync %s: %s", s->path, strerror(errno));
    return rc;
}

static int jsonl_reopen(export_sink *b)
{
    jsonl_sink *s = (jsonl_sink *)b;
    if (s->to_stdout)
        return NAHR_OK;
    int rc = drain(s, true);
    close(s->fd);
    if (open_fd(s, true) < 0)
        return sink_fail(b, NAHR_EIO, "cannot reopen '%s': %s", s->path, strerror(errno));
    return rc;
}

static void jsonl_close(export_sink *b)
{
    jsonl_sink *s = (jsonl_sink *)b;
    if (s->fd >= 0)
        drain(s, true);
    if (s->stream_open && s->comp == COMP_GZIP)
        deflateEnd(&s->z);
    ZSTD_freeCCtx(s->zc);
    if (!s->to_stdout && s->fd >= 0)
        close(s->fd);
    nahr_buf_free(&s->buf);
    nahr_buf_free(&s->zbuf);
    free(s);
}

const export_sink_ops export_jsonl_ops = {
    .format = "jsonl",
    .open = jsonl_open,
    .write = jsonl_write,
    .make_record = jsonl_format,
    .write_record = jsonl_write_record,
    .flush = jsonl_flush,
    .sync = jsonl_sync,
    .reopen = jsonl_reopen,
    .close = jsonl_close,
};
