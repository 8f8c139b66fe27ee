/* export - writes each article as one JSON Lines record (DESIGN.md's format),
 * to stdout (path "-") or a file.
 *
 * Records are written whole: they are built in memory and handed to write(2)
 * in batches that end on a record boundary, so a crash never leaves half a
 * line. Runs ordered, after the reorder buffer: records come out in input
 * order. SIGHUP (reopen) closes and reopens the file in append mode, for
 * logrotate. */
#include <nahr/nahr.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct export_state {
    char path[4096];
    bool to_stdout;
    bool append;
    bool fsync_on_flush;
    int fd;
    size_t batch_bytes;
    nahr_buf buf;
} export_state;

static const nahr_option export_options[] = {
    {"format", NAHR_OPT_STRING, "jsonl", "output format", "jsonl"},
    {"path", NAHR_OPT_STRING, "-", "output file; \"-\" = stdout (relative paths: from the working directory)", NULL},
    {"append", NAHR_OPT_BOOL, "false", "append to an existing file instead of replacing it", NULL},
    {"fsync", NAHR_OPT_BOOL, "false", "fsync the file at the end of the run (durability over speed)", NULL},
    {"batch_bytes", NAHR_OPT_INT, "65536", "write in batches of about this many bytes (whole records only)",
     "0:67108864"},
    NAHR_OPTIONS_END,
};

static int open_output(export_state *s, bool append)
{
    if (s->to_stdout) {
        s->fd = STDOUT_FILENO;
        return NAHR_OK;
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    s->fd = open(s->path, flags, 0644);
    return s->fd < 0 ? NAHR_EIO : NAHR_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return NAHR_EIO;
        p += w;
        n -= (size_t)w;
    }
    return NAHR_OK;
}

static int drain(export_state *s, nahr_ctx *ctx)
{
    if (!s->buf.len)
        return NAHR_OK;
    if (write_all(s->fd, s->buf.data, s->buf.len) < 0) {
        int e = errno;
        nahr_buf_reset(&s->buf);
        return nahr_ctx_error(ctx, "cannot write to %s: %s", s->to_stdout ? "stdout" : s->path, strerror(e));
    }
    nahr_buf_reset(&s->buf);
    return NAHR_OK;
}

static int export_init(const nahr_stage *st, void **out)
{
    export_state *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    const char *path = nahr_stage_str(st, "path");
    if (!path || !*path) {
        free(s);
        return nahr_stage_error(st, "path", "must not be empty (use \"-\" for stdout)");
    }
    s->to_stdout = strcmp(path, "-") == 0;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->append = nahr_stage_bool(st, "append");
    s->fsync_on_flush = nahr_stage_bool(st, "fsync");
    s->batch_bytes = (size_t)nahr_stage_int(st, "batch_bytes");
    if (open_output(s, s->append) < 0) {
        int e = errno;
        free(s);
        return nahr_stage_error(st, "path", "cannot open '%s' for writing: %s", path, strerror(e));
    }
    *out = s;
    return NAHR_OK;
}

static int export_process(void *inst, void *worker, nahr_doc *doc, nahr_ctx *ctx)
{
    (void)worker;
    export_state *s = inst;
    size_t before = s->buf.len;
    if (nahr_doc_write_json(doc, &s->buf) < 0 || nahr_buf_putc(&s->buf, '\n') < 0) {
        s->buf.len = before; /* drop the partial record */
        return nahr_ctx_error(ctx, "out of memory while writing the record");
    }
    if (s->buf.len >= s->batch_bytes)
        return drain(s, ctx);
    return NAHR_OK;
}

static int export_flush(void *inst, nahr_ctx *ctx)
{
    export_state *s = inst;
    int rc = drain(s, ctx);
    if (rc == NAHR_OK && s->fsync_on_flush && !s->to_stdout && fsync(s->fd) != 0)
        return nahr_ctx_error(ctx, "fsync %s: %s", s->path, strerror(errno));
    return rc;
}

static int export_reopen(void *inst)
{
    export_state *s = inst;
    if (s->to_stdout)
        return NAHR_OK;
    if (s->buf.len && write_all(s->fd, s->buf.data, s->buf.len) == NAHR_OK)
        nahr_buf_reset(&s->buf);
    close(s->fd);
    return open_output(s, true);
}

static void export_destroy(void *inst)
{
    export_state *s = inst;
    if (!s)
        return;
    if (s->buf.len)
        write_all(s->fd, s->buf.data, s->buf.len);
    if (!s->to_stdout && s->fd >= 0)
        close(s->fd);
    nahr_buf_free(&s->buf);
    free(s);
}

static const nahr_plugin export_plugin = {
    NAHR_PLUGIN_INIT,
    .name = "export",
    .version = "0.1.0",
    .description = "write articles as JSON Lines (stdout or a file), in input order",
    .options = export_options,
    .thread_model = NAHR_THREAD_ORDERED_POST,
    .flags = NAHR_PLUGIN_SINK,
    .init = export_init,
    .destroy = export_destroy,
    .process = export_process,
    .flush = export_flush,
    .reopen = export_reopen,
};

NAHR_PLUGIN_DEFINE(export_plugin)
