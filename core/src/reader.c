/* reader.c - input readers: .txt/.html files, JSONL files and stdin, directories. */
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define KEEP_PREFIX 4096 /* bytes of an oversized record kept for the dead-letter output */
#define READ_CHUNK (256 * 1024)

typedef enum { FMT_UNKNOWN, FMT_TEXT, FMT_HTML, FMT_JSONL, FMT_JSONL_GZ, FMT_JSONL_ZST } file_format;

static file_format format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return FMT_UNKNOWN;
    bool gz = strcasecmp(dot, ".gz") == 0, zst = strcasecmp(dot, ".zst") == 0;
    if (gz || zst) { /* corpus dumps (and nahr's own output): name.jsonl.gz, name.ndjson.zst */
        size_t n = (size_t)(dot - path);
        if ((n >= 6 && strncasecmp(dot - 6, ".jsonl", 6) == 0) || (n >= 7 && strncasecmp(dot - 7, ".ndjson", 7) == 0))
            return gz ? FMT_JSONL_GZ : FMT_JSONL_ZST;
        return FMT_UNKNOWN;
    }
    if (strcasecmp(dot, ".txt") == 0)
        return FMT_TEXT;
    if (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0)
        return FMT_HTML;
    if (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0)
        return FMT_JSONL;
    return FMT_UNKNOWN;
}

/* '?' for each byte of s that is not part of valid UTF-8 (file names need
 * not be UTF-8, and a name cut by a fixed buffer may end inside a
 * character): origins and ids go into logs and JSON output. */
static void mask_invalid_utf8(char *s)
{
    size_t n = strlen(s), i = 0;
    while ((i += nahr_utf8_check(s + i, n - i)) < n)
        s[i++] = '?';
}

static void set_origin(nahr_doc *d, const char *name, size_t line)
{
    if (line)
        snprintf(d->origin_buf, sizeof d->origin_buf, "%s:%zu", name, line);
    else
        snprintf(d->origin_buf, sizeof d->origin_buf, "%s", name);
    mask_invalid_utf8(d->origin_buf);
    d->origin = d->origin_buf;
}

/* A whole file as one article; id = file name without extension. */
static int read_whole(const char *path, file_format fmt, reader_sink *s)
{
    nahr_doc *d = s->acquire(s->ctx);
    if (!d)
        return NAHR_EBUSY;
    set_origin(d, path, 0);
    d->kind = fmt == FMT_HTML ? RAW_HTML : RAW_TEXT;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= sizeof d->id_hint)
        n = sizeof d->id_hint - 1;
    memcpy(d->id_hint, base, n);
    d->id_hint[n] = '\0';
    mask_invalid_utf8(d->id_hint);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        nahr__doc_set_failed(d, "reader", "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        s->submit(s->ctx, d);
        return NAHR_OK;
    }
    size_t want = (size_t)st.st_size;
    bool over = want > s->max_bytes;
    if (over) {
        d->raw_truncated = true;
        d->raw_total = want;
        want = KEEP_PREFIX;
    }
    if (nahr_buf_reserve(&d->raw, want) < 0) {
        nahr__doc_set_failed(d, "reader", "out of memory");
        close(fd);
        s->submit(s->ctx, d);
        return NAHR_OK;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, d->raw.data + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r < 0)
                nahr__doc_set_failed(d, "reader", "read error: %s", strerror(errno));
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    d->raw.len = got;
    d->raw.data[got] = '\0';
    if (!d->raw_truncated)
        d->raw_total = got;
    if (over)
        nahr__doc_set_failed(d, "reader", "article of %zu bytes exceeds max_article_bytes (%zu)", 
                             d->raw_total, s->max_bytes);
    s->submit(s->ctx, d);
    return NAHR_OK;
}

/* Where JSONL bytes come from: a plain descriptor (files, stdin: read(2),
 * so that a signal interrupts a blocked read of stdin), a gzip file or a
 * zstd file (the formats the export plugin writes). */
typedef struct jsonl_src {
    int fd;
    z_stream *gz;   /* gzip: compressed bytes read from fd into zin, inflated member by member */
    bool in_member; /* gzip: inside a member (its end not seen yet) */
    size_t members; /* gzip: members read to their end */
    ZSTD_DCtx *zd;  /* zstd: compressed bytes read from fd into zin */
    char *zin;
    ZSTD_inBuffer in;
    size_t frame_left; /* ZSTD_decompressStream's last hint: 0 = between frames */
    bool zeof;
    bool sniffed; /* plain input: its first bytes were checked for a UTF-16 byte-order mark */
    iconv_t cv; /* UTF-16 input (byte-order mark): converted as it is read */
    char *cin;  /* its bytes read, cin[cpos..clen) not converted yet */
    size_t cpos, clen;
} jsonl_src;

#define NO_ICONV ((iconv_t)-1)

/* UTF-16 (PowerShell's "> file.jsonl" writes it): fills buf with UTF-8 */
static ssize_t utf16_read(jsonl_src *src, char *buf, size_t n, const char **why)
{
    char *out = buf;
    size_t room = n;
    while (out == buf) {
        if (!src->zeof && src->clen - src->cpos < 4) { /* 4: a surrogate pair */
            memmove(src->cin, src->cin + src->cpos, src->clen - src->cpos);
            src->clen -= src->cpos;
            src->cpos = 0;
            ssize_t r = read(src->fd, src->cin + src->clen, READ_CHUNK - src->clen);
            if (r < 0)
                return -1;
            src->zeof = r == 0;
            src->clen += (size_t)r;
        }
        if (src->zeof && src->cpos == src->clen)
            return 0;
        char *in = src->cin + src->cpos;
        size_t left = src->clen - src->cpos;
        size_t rc = iconv(src->cv, &in, &left, &out, &room);
        src->cpos = (size_t)(in - src->cin);
        /* an error is reported once what came before it is handed out */
        if (rc == (size_t)-1 && errno == EILSEQ && out == buf) {
            *why = "not valid UTF-16 (the file starts with a UTF-16 byte-order mark)";
            errno = EIO;
            return -1;
        }
        if (rc == (size_t)-1 && errno == EINVAL && src->zeof && out == buf) {
            *why = "UTF-16 file cut inside a character";
            errno = EIO;
            return -1;
        }
    }
    return out - buf;
}

/* zstd: fills buf with up to n decompressed bytes */
static ssize_t zst_read(jsonl_src *src, char *buf, size_t n, const char **why)
{
    ZSTD_outBuffer out = {buf, n, 0};
    while (out.pos == 0) {
        if (src->in.pos == src->in.size && !src->zeof) {
            ssize_t r = read(src->fd, src->zin, ZSTD_DStreamInSize());
            if (r < 0)
                return -1;
            src->in = (ZSTD_inBuffer){src->zin, (size_t)r, 0};
            src->zeof = r == 0;
        }
        if (src->in.pos == src->in.size && src->zeof) {
            if (src->frame_left) {
                *why = "zstd file cut short";
                errno = EIO;
                return -1;
            }
            return 0;
        }
        size_t rc = ZSTD_decompressStream(src->zd, &out, &src->in);
        if (ZSTD_isError(rc)) {
            *why = ZSTD_getErrorName(rc);
            errno = EIO;
            return -1;
        }
        src->frame_left = rc;
    }
    return (ssize_t)out.pos;
}

/* gzip through inflate() rather than gzread(): zlib's gzread ignores what
 * follows a member when it does not start like another member (a file cut
 * one byte into its next member, or garbage appended, would read as whole;
 * found by tests/fuzz/streams), and reads a file without a gzip header as
 * plain text. Here every byte must belong to a member. */
static ssize_t gz_read(jsonl_src *src, char *buf, size_t n, const char **why)
{
    z_stream *z = src->gz;
    uInt room = n > UINT_MAX ? UINT_MAX : (uInt)n;
    z->next_out = (Bytef *)buf;
    z->avail_out = room;
    while (z->avail_out == room) {
        if (z->avail_in == 0 && !src->zeof) {
            ssize_t r = read(src->fd, src->zin, READ_CHUNK);
            if (r < 0)
                return -1; /* EINTR: the caller retries */
            z->next_in = (Bytef *)src->zin;
            z->avail_in = (uInt)r;
            src->zeof = r == 0;
        }
        if (z->avail_in == 0 && src->zeof) {
            if (!src->in_member)
                return 0;
            *why = !src->members && z->total_in < 10 /* a gzip header's size */
                       ? "not gzip data (the file is cut or damaged at its start, or not compressed)"
                       : "gzip file cut short";
            errno = EIO;
            return -1;
        }
        if (!src->in_member) {
            if (src->members && inflateReset(z) != Z_OK) {
                *why = "gzip: cannot start the next member";
                errno = EIO;
                return -1;
            }
            src->in_member = true;
        }
        int zr = inflate(z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            src->in_member = false;
            src->members++;
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            *why = zr == Z_MEM_ERROR                    ? "out of memory"
                   : !src->members && z->total_out == 0 ? "not gzip data (the file is cut or damaged at its start, or not compressed)"
                   : src->members && z->total_out == 0  ? "data after the last gzip member is not gzip (garbage appended, or the file is damaged)"
                   : z->msg                             ? z->msg
                                                        : "corrupt gzip data";
            errno = EIO;
            return -1;
        }
    }
    return (ssize_t)(room - z->avail_out);
}

/* Plain input, first read: UTF-16 with a byte-order mark (PowerShell's
 * "> file.jsonl", also on stdin) is converted from then on. */
static ssize_t sniff_read(jsonl_src *src, char *buf, size_t n, const char **why)
{
    ssize_t got = 0;
    while (got < 2) { /* a pipe may hand out one byte first */
        ssize_t r = read(src->fd, buf + got, n - (size_t)got);
        if (r < 0 && !got)
            return -1; /* EINTR: the caller retries, still unsniffed */
        if (r <= 0)
            break;
        got += r;
    }
    src->sniffed = true;
    unsigned char a = got >= 2 ? (unsigned char)buf[0] : 0, b = got >= 2 ? (unsigned char)buf[1] : 0;
    if (!((a == 0xFF && b == 0xFE) || (a == 0xFE && b == 0xFF)))
        return got;
    if ((src->cv = iconv_open("UTF-8", "UTF-16")) == NO_ICONV || !(src->cin = malloc(READ_CHUNK))) {
        *why = "out of memory";
        errno = ENOMEM;
        return -1;
    }
    memcpy(src->cin, buf, (size_t)got); /* got <= n <= READ_CHUNK */
    src->clen = (size_t)got;
    return utf16_read(src, buf, n, why);
}

/* Like read(2); a gzip/zstd error (a corrupt or cut file) is -1 with *why set. */
static ssize_t src_read(jsonl_src *src, char *buf, size_t n, const char **why)
{
    if (src->zd)
        return zst_read(src, buf, n, why);
    if (src->cv != NO_ICONV)
        return utf16_read(src, buf, n, why);
    if (!src->gz && !src->sniffed)
        return sniff_read(src, buf, n, why);
    if (!src->gz)
        return read(src->fd, buf, n);
    return gz_read(src, buf, n, why);
}

static int read_jsonl(jsonl_src *src, const char *name, reader_sink *s)
{
    char *buf = malloc(READ_CHUNK);
    if (!buf)
        return NAHR_ENOMEM;
    size_t line = 0;
    nahr_doc *d = NULL; /* the record being assembled */
    bool skipping = false; /* inside an oversized line */
    size_t linelen = 0;
    int rc = NAHR_OK;
    char ioerr[160] = ""; /* a read error: what it was */
    for (;;) {
        if (*s->stop)
            break;
        const char *why = NULL;
        if (s->flush) /* the read may block (a pipe, a terminal): what was read goes on first */
            s->flush(s->ctx);
        ssize_t r = src_read(src, buf, READ_CHUNK, &why);
        if (r < 0 && errno == EINTR && !why)
            continue;
        if (r < 0) {
            snprintf(ioerr, sizeof ioerr, "%s", why ? why : strerror(errno));
            nahr_log(NAHR_LOG_ERROR, "%s: read error after line %zu: %s", name, line, ioerr);
            rc = NAHR_EIO;
            break; /* a record cut by the error is dead-lettered below */
        }
        size_t n = (size_t)r;
        size_t p = 0;
        while (p < n || (r == 0 && (d || skipping))) {
            const char *nl = p < n ? memchr(buf + p, '\n', n - p) : NULL;
            size_t seg = nl ? (size_t)(nl - (buf + p)) : n - p;
            if (!d && !skipping) {
                if (nl && seg == 0) { /* empty line: not an article */
                    line++;
                    p++;
                    continue;
                }
                if (!(d = s->acquire(s->ctx))) {
                    rc = NAHR_EBUSY;
                    goto out;
                }
                d->kind = RAW_JSONL;
                linelen = 0;
            }
            linelen += seg;
            if (!skipping && d->raw.len + seg > s->max_bytes) {
                /* keep a prefix for the dead-letter record, drop the rest of the line */
                size_t keep = d->raw.len < KEEP_PREFIX ? KEEP_PREFIX - d->raw.len : 0;
                nahr_buf_append(&d->raw, buf + p, keep < seg ? keep : seg);
                d->raw_truncated = true;
                skipping = true;
            } else if (!skipping) {
                if (nahr_buf_append(&d->raw, buf + p, seg) < 0) {
                    rc = NAHR_ENOMEM;
                    goto out;
                }
            }
            p += seg;
            bool end = nl != NULL || r == 0;
            if (nl)
                p++;
            if (!end)
                break;
            line++;
            set_origin(d, name, line);
            d->raw_total = linelen;
            if (d->raw.len && d->raw.data[d->raw.len - 1] == '\r')
                d->raw.data[--d->raw.len] = '\0';
            bool blank = true;
            for (size_t i = 0; i < d->raw.len && blank; i++)
                blank = d->raw.data[i] == ' ' || d->raw.data[i] == '\t';
            if (skipping)
                nahr__doc_set_failed(d, "reader", "record of %zu bytes exceeds max_article_bytes (%zu)", linelen, s->max_bytes);
            if (blank && !skipping) {
                /* whitespace-only line: give the doc back as skipped-by-reader */
                nahr_doc_reset(d);
                d->kind = RAW_JSONL;
                linelen = 0;
                if (r == 0)
                    break;
                continue;
            }
            s->submit(s->ctx, d);
            d = NULL;
            skipping = false;
            if (r == 0)
                break;
        }
        if (r == 0)
            break;
    }
out:
    if (d) /* a record cut short: its bytes read so far (an oversized one keeps only a prefix in raw) */
        d->raw_total = linelen;
    if (!d && rc == NAHR_EIO) /* the error's own record: what follows it was not read */
        d = s->acquire(s->ctx);
    if (d) {
        if (d->raw.len || d->status == DOC_FAILED || rc == NAHR_EIO) {
            /* stopped mid-record or by a read error: never drop silently */
            set_origin(d, name, line + 1);
            if (rc == NAHR_EIO)
                nahr__doc_set_failed(d, "reader", "read error: %s; the rest of the input was not read", ioerr);
            else
                nahr__doc_set_failed(d, "reader", "input ended inside a record");
            s->submit(s->ctx, d);
        } else {
            s->release(s->ctx, d); /* acquired for a record that never came */
        }
    }
    free(buf);
    return rc;
}

/* Frees what src set up for UTF-16 input. */
static void src_conv_free(jsonl_src *src)
{
    if (src->cv != NO_ICONV)
        iconv_close(src->cv);
    free(src->cin);
}

int nahr__read_jsonl_fd(int fd, const char *name, reader_sink *s)
{
    jsonl_src src = {.fd = fd, .cv = NO_ICONV};
    int rc = read_jsonl(&src, name, s);
    src_conv_free(&src);
    return rc;
}

static int read_jsonl_file(const char *path, file_format f, reader_sink *s)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    jsonl_src src = {.fd = fd, .cv = NO_ICONV};
    if (fd >= 0 && f == FMT_JSONL_GZ &&
        (!(src.gz = calloc(1, sizeof *src.gz)) || !(src.zin = malloc(READ_CHUNK)) ||
         inflateInit2(src.gz, 15 + 16) != Z_OK)) { /* 15 + 16: gzip members only */
        free(src.gz);
        src.gz = NULL;
        free(src.zin);
        src.zin = NULL;
        close(fd);
        fd = -1;
        errno = ENOMEM;
    }
    if (fd >= 0 && f == FMT_JSONL_ZST &&
        (!(src.zd = ZSTD_createDCtx()) || !(src.zin = malloc(ZSTD_DStreamInSize())))) {
        ZSTD_freeDCtx(src.zd);
        src.zd = NULL;
        close(fd);
        fd = -1;
        errno = ENOMEM;
    }
    if (fd < 0) {
        nahr_doc *d = s->acquire(s->ctx);
        if (!d)
            return NAHR_EBUSY;
        set_origin(d, path, 0);
        nahr__doc_set_failed(d, "reader", "cannot open: %s", strerror(errno));
        s->submit(s->ctx, d);
        return NAHR_OK;
    }
    int rc = read_jsonl(&src, path, s);
    ZSTD_freeDCtx(src.zd);
    free(src.zin);
    src_conv_free(&src);
    if (src.gz) {
        inflateEnd(src.gz);
        free(src.gz);
    }
    close(fd);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int read_dir(const char *path, reader_sink *s, int depth)
{
    if (depth > 64) {
        nahr_log(NAHR_LOG_WARN, "directories nested too deep, skipped");
        return NAHR_OK;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        nahr_log(NAHR_LOG_ERROR, "cannot open directory: %s", strerror(errno));
        return NAHR_EIO;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue; /* hidden files, . and .. */
        if (strcmp(e->d_name, "CMakeLists.txt") == 0)
            continue; /* a build file (e.g. examples/plugins/), not an article */
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = NAHR_OK;
    for (size_t i = 0; i < n && rc != NAHR_EBUSY; i++) {
        char child[4096];
        snprintf(child, sizeof child, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        struct stat st;
        if (stat(child, &st) != 0)
            continue;
        int crc = NAHR_OK;
        if (S_ISDIR(st.st_mode)) {
            crc = read_dir(child, s, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            file_format f = format_of(child);
            if (f == FMT_UNKNOWN)
                nahr_log(NAHR_LOG_DEBUG, "%s: not .txt/.html/.jsonl(.gz/.zst), skipped", child);
            else if (f == FMT_JSONL || f == FMT_JSONL_GZ || f == FMT_JSONL_ZST)
                crc = read_jsonl_file(child, f, s);
            else
                crc = read_whole(child, f, s);
        }
        if (crc == NAHR_EBUSY || (crc != NAHR_OK && rc == NAHR_OK)) /* a read error stays reported */
            rc = crc;
        if (*s->stop)
            break;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int nahr__read_path(const char *path, reader_sink *s)
{
    if (strcmp(path, "-") == 0)
        return nahr__read_jsonl_fd(0, "<stdin>", s);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return read_dir(path, s, 0);
    file_format f = format_of(path);
    if (f == FMT_JSONL || f == FMT_JSONL_GZ || f == FMT_JSONL_ZST)
        return read_jsonl_file(path, f, s);
    return read_whole(path, f == FMT_HTML ? FMT_HTML : FMT_TEXT, s);
}
