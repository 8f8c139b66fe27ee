/* csv.c - RFC 4180 CSV: one file of articles, one of mentions.
 *
 * Fields are quoted when they hold a comma, a double quote, CR or LF (quotes
 * doubled); records end with CRLF. UTF-8, with an optional byte-order mark
 * at the start of a new file (spreadsheets need it to guess UTF-8). A header
 * row starts every new or empty file; appending to a non-empty file adds
 * none. Batches are written on record boundaries, articles file first. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct csv_file {
    char path[4096];
    bool to_stdout;
    int fd;
    nahr_buf buf;
} csv_file;

typedef struct csv_sink {
    export_sink base;
    csv_file art, men;
    bool has_mentions;
    size_t nbuf; /* articles in the buffers */
    nahr_buf tmp;
} csv_sink;

static const char *const article_cols[] = {"id", "title", "url", "date", "source", "text", "mentions"};
static const char *const mention_cols[] = {"article_id", "type",     "text",     "canonical",       "start",
                                           "end",        "sentence", "sentiment", "sentiment_score", "score"};

int csv_field(nahr_buf *out, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return nahr_buf_append(out, s, n);
    int rc = nahr_buf_putc(out, '"');
    size_t from = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            rc |= nahr_buf_append(out, s + from, i + 1 - from); /* includes the quote */
            rc |= nahr_buf_putc(out, '"');
            from = i + 1;
        }
    rc |= nahr_buf_append(out, s + from, n - from);
    rc |= nahr_buf_putc(out, '"');
    return rc ? NAHR_ENOMEM : NAHR_OK;
}

static int csv_cstr(nahr_buf *out, const char *s) { return s ? csv_field(out, s, strlen(s)) : NAHR_OK; }

static int file_open(csv_sink *s, csv_file *f, bool append, const char *const *cols, size_t ncols)
{
    if (f->to_stdout) {
        f->fd = STDOUT_FILENO;
    } else {
        f->fd = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
        if (f->fd < 0)
            return NAHR_EIO;
    }
    struct stat st;
    bool empty = f->to_stdout || (fstat(f->fd, &st) == 0 && st.st_size == 0);
    if (!empty)
        return NAHR_OK;
    /* header: goes out with the first batch (or at flush) */
    nahr_buf hdr = {0};
    int rc = s->base.cfg->bom ? nahr_buf_puts(&hdr, "\xEF\xBB\xBF") : 0;
    for (size_t i = 0; i < ncols; i++) {
        if (i)
            rc |= nahr_buf_putc(&hdr, ',');
        rc |= csv_cstr(&hdr, cols[i]);
    }
    if (cols == article_cols)
        for (size_t i = 0; i < s->base.cfg->ncsv_fields; i++) {
            rc |= nahr_buf_putc(&hdr, ',');
            rc |= csv_cstr(&hdr, s->base.cfg->csv_fields[i]);
        }
    rc |= nahr_buf_puts(&hdr, "\r\n");
    if (rc == 0)
        rc = nahr_buf_append(&f->buf, hdr.data, hdr.len);
    nahr_buf_free(&hdr);
    return rc ? NAHR_ENOMEM : NAHR_OK;
}

static int drain_file(csv_sink *s, csv_file *f)
{
    if (!f->buf.len)
        return NAHR_OK;
    int rc = export_write_all(f->fd, f->buf.data, f->buf.len);
    nahr_buf_reset(&f->buf);
    if (rc < 0)
        return sink_fail(&s->base, NAHR_EIO, "cannot write to %s: %s (articles of this batch not written: %zu)",
                         f->to_stdout ? "stdout" : f->path, strerror(errno), s->nbuf);
    return NAHR_OK;
}

static int drain(csv_sink *s)
{
    int rc = drain_file(s, &s->art);
    if (rc == NAHR_OK && s->has_mentions)
        rc = drain_file(s, &s->men);
    else
        nahr_buf_reset(&s->men.buf);
    s->nbuf = 0;
    return rc;
}

static void file_close(csv_file *f)
{
    if (!f->to_stdout && f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    nahr_buf_free(&f->buf);
}

static void csv_close(export_sink *b)
{
    csv_sink *s = (csv_sink *)b;
    if (s->art.fd >= 0)
        drain(s);
    file_close(&s->art);
    file_close(&s->men);
    nahr_buf_free(&s->tmp);
    free(s);
}

static int csv_open(const export_config *cfg, export_sink **out, char *err, size_t errsize)
{
    csv_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NAHR_ENOMEM;
    s->base.ops = &export_csv_ops;
    s->base.cfg = cfg;
    s->art.fd = s->men.fd = -1;
    s->art.to_stdout = strcmp(cfg->path, "-") == 0;
    snprintf(s->art.path, sizeof s->art.path, "%s", cfg->path);
    const char *mp = cfg->mentions_path;
    if (mp && strcmp(mp, "none") == 0) {
        s->has_mentions = false;
    } else if (mp && *mp) {
        s->has_mentions = true;
        s->men.to_stdout = strcmp(mp, "-") == 0;
        snprintf(s->men.path, sizeof s->men.path, "%s", mp);
    } else if (s->art.to_stdout) {
        snprintf(err, errsize, "CSV to stdout: set mentions_path to a file (or \"none\")");
        free(s);
        return NAHR_ECONFIG;
    } else {
        /* out.csv -> out.mentions.csv; out -> out.mentions.csv */
        size_t l = strlen(cfg->path);
        if (l >= 4 && strcmp(cfg->path + l - 4, ".csv") == 0)
            l -= 4;
        if (l + 14 >= sizeof s->men.path) {
            snprintf(err, errsize, "path too long");
            free(s);
            return NAHR_ECONFIG;
        }
        snprintf(s->men.path, sizeof s->men.path, "%.*s.mentions.csv", (int)l, cfg->path);
        s->has_mentions = true;
    }
    if (s->has_mentions && s->art.to_stdout && s->men.to_stdout) {
        snprintf(err, errsize, "articles and mentions cannot both go to stdout");
        free(s);
        return NAHR_ECONFIG;
    }
    int rc = file_open(s, &s->art, cfg->append, article_cols, sizeof article_cols / sizeof *article_cols);
    if (rc == NAHR_OK && s->has_mentions)
        rc = file_open(s, &s->men, cfg->append, mention_cols, sizeof mention_cols / sizeof *mention_cols);
    if (rc < 0) {
        snprintf(err, errsize, "cannot open '%s' for writing: %s",
                 s->art.fd < 0 ? s->art.path : s->men.path, strerror(errno));
        csv_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return NAHR_OK;
}

static int put_num(nahr_buf *b, double x)
{
    if (isnan(x))
        return NAHR_OK;
    return nahr_buf_printf(b, "%.6g", x);
}

static int csv_write(export_sink *b, nahr_doc *doc)
{
    csv_sink *s = (csv_sink *)b;
    const export_config *cfg = b->cfg;
    export_record rec;
    if (record_build(doc, cfg->layer, &rec) < 0)
        return sink_fail(b, NAHR_ENOMEM, "out of memory while building the record");
    size_t abefore = s->art.buf.len, mbefore = s->men.buf.len;
    nahr_buf *a = &s->art.buf;
    size_t tl;
    const char *text = nahr_doc_text(doc, &tl);
    int rc = csv_cstr(a, rec.id);
    static const char *const meta[] = {"title", "url", "date", "source"};
    for (size_t i = 0; i < 4; i++) {
        rc |= nahr_buf_putc(a, ',');
        rc |= csv_cstr(a, nahr_doc_get(doc, meta[i]));
    }
    rc |= nahr_buf_putc(a, ',');
    rc |= csv_field(a, text ? text : "", text ? tl : 0);
    rc |= nahr_buf_printf(a, ",%zu", rec.nmentions);
    for (size_t i = 0; i < cfg->ncsv_fields; i++) {
        rc |= nahr_buf_putc(a, ',');
        nahr_buf_reset(&s->tmp);
        rc |= record_value_text(record_field_path(doc, cfg->csv_fields[i]), &s->tmp);
        rc |= csv_field(a, s->tmp.data ? s->tmp.data : "", s->tmp.len);
    }
    rc |= nahr_buf_puts(a, "\r\n");
    if (s->has_mentions) {
        nahr_buf *m = &s->men.buf;
        for (size_t i = 0; i < rec.nmentions; i++) {
            const export_mention *mm = &rec.mentions[i];
            rc |= csv_cstr(m, rec.id);
            rc |= nahr_buf_putc(m, ',');
            rc |= csv_cstr(m, mm->type);
            rc |= nahr_buf_putc(m, ',');
            rc |= csv_field(m, mm->text, mm->text_len);
            rc |= nahr_buf_putc(m, ',');
            rc |= csv_cstr(m, mm->canonical);
            rc |= nahr_buf_printf(m, ",%zu,%zu,%ld,", mm->cp_start, mm->cp_end, mm->sentence);
            rc |= csv_cstr(m, mm->sentiment);
            rc |= nahr_buf_putc(m, ',');
            rc |= put_num(m, mm->sentiment_score);
            rc |= nahr_buf_putc(m, ',');
            if (mm->score >= 0)
                rc |= put_num(m, mm->score);
            rc |= nahr_buf_puts(m, "\r\n");
        }
    }
    if (rc) {
        s->art.buf.len = abefore;
        s->men.buf.len = mbefore;
        return sink_fail(b, NAHR_ENOMEM, "out of memory while writing the record");
    }
    s->nbuf++;
    if (s->art.buf.len + s->men.buf.len >= cfg->batch_bytes)
        return drain(s);
    return NAHR_OK;
}

static int csv_flush(export_sink *b)
{
    csv_sink *s = (csv_sink *)b;
    int rc = drain(s);
    if (rc == NAHR_OK && b->cfg->fsync) {
        if (!s->art.to_stdout && fsync(s->art.fd) != 0)
            return sink_fail(b, NAHR_EIO, "fsync %s: %s", s->art.path, strerror(errno));
        if (s->has_mentions && !s->men.to_stdout && fsync(s->men.fd) != 0)
            return sink_fail(b, NAHR_EIO, "fsync %s: %s", s->men.path, strerror(errno));
    }
    return rc;
}

static int csv_reopen(export_sink *b)
{
    csv_sink *s = (csv_sink *)b;
    int rc = drain(s);
    csv_file *fs[2] = {&s->art, s->has_mentions ? &s->men : NULL};
    for (int i = 0; i < 2; i++) {
        csv_file *f = fs[i];
        if (!f || f->to_stdout)
            continue;
        close(f->fd);
        f->fd = -1;
        /* a rotated file starts again with a header */
        if (file_open(s, f, true, f == &s->art ? article_cols : mention_cols,
                      f == &s->art ? sizeof article_cols / sizeof *article_cols
                                   : sizeof mention_cols / sizeof *mention_cols) < 0)
            return sink_fail(b, NAHR_EIO, "cannot reopen '%s': %s", f->path, strerror(errno));
    }
    return rc;
}

const export_sink_ops export_csv_ops = {
    .format = "csv",
    .open = csv_open,
    .write = csv_write,
    .flush = csv_flush,
    .sync = csv_flush, /* no stream to finish: the same */
    .reopen = csv_reopen,
    .close = csv_close,
};
