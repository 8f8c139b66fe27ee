/* config_text.c - reading the config file's text and vetting its @include
 * lines before libconfig sees them.
 *
 * libconfig 1.5 opens @include files itself and offers no hook: an @include
 * naming a FIFO blocks `nahr check` forever, one naming a directory makes its
 * flex scanner print "input in flex scanner failed" and exit the process, and
 * a missing one gives "cannot open include file" without saying which. So
 * every @include, nested ones too, is checked here first, read the way the
 * 1.5 scanner reads it: at the start of a line, `@include "PATH"` with the
 * escapes \\ and \", outside block comments; PATH as written, so a relative
 * one is relative to the working directory (libconfig's rule; setting its
 * include directory would prefix absolute paths too). The top file is read
 * into memory once, so a config given as a pipe (`-c <(...)`) works. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (16u << 20) /* a pipeline config is a few KB */
#define INCLUDE_MAX_DEPTH 10         /* libconfig's own limit */

/* Reads all of f (at most CONFIG_MAX_BYTES) into a NUL-terminated buffer. */
static int read_all(FILE *f, char **out, size_t *outlen, bool *too_big)
{
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    *too_big = false;
    if (!b)
        return NAHR_ENOMEM;
    for (;;) {
        if (cap - len < 2) {
            if (cap > CONFIG_MAX_BYTES) {
                *too_big = true;
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return NAHR_ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(b);
        return NAHR_EIO;
    }
    b[len] = '\0';
    *out = b;
    *outlen = len;
    return 0;
}

/* Opens and reads file path whole. Returns 0, NAHR_ENOMEM, or NAHR_ECONFIG
 * with *why saying what is wrong. */
static int read_text(const char *path, bool nonblock, char **out, size_t *outlen, const char **why)
{
    struct stat st;
    *out = NULL;
    /* an included file is read without blocking: a "regular" file of
     * /proc such as /proc/kmsg would wait for data forever */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
        return NAHR_ECONFIG;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        *why = "is a directory, not a file";
        return NAHR_ECONFIG;
    }
    bool too_big = false;
    int rc = read_all(f, out, outlen, &too_big);
    int read_errno = errno;
    fclose(f);
    if (rc == NAHR_EIO) {
        *why = read_errno == EAGAIN ? "read error: it has no data now (not a regular file's content)" : "read error";
        return NAHR_ECONFIG;
    }
    if (rc == 0 && too_big) {
        free(*out);
        *out = NULL;
        *why = "is larger than 16 MiB: not a config file";
        return NAHR_ECONFIG;
    }
    return rc;
}

static size_t line_of(const char *text, size_t pos)
{
    size_t line = 1;
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + pos - p))) != NULL; p++)
        line++;
    return line;
}

static int check_text(const char *file, const char *text, size_t len, int depth, nahr_buf *err);

/* One @include: the file must exist, be a regular file no larger than
 * CONFIG_MAX_BYTES and hold text; its own @include lines are checked too. */
static int check_include(const char *from, size_t line, const char *path, int depth, nahr_buf *err)
{
    struct stat st;
    const char *why = NULL;
    if (depth >= INCLUDE_MAX_DEPTH)
        why = "includes nested more than 10 deep";
    else if (path[0] == '\0')
        why = "empty file name";
    else if (stat(path, &st) != 0)
        why = path[0] == '/' ? strerror(errno) : errno == ENOENT ? "No such file or directory (a relative path is read from the working directory)" : strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "is a directory, not a file";
    else if (S_ISFIFO(st.st_mode))
        why = "is a FIFO, not a regular file (it could block the read forever)";
    else if (!S_ISREG(st.st_mode))
        why = "is a device or socket, not a regular file";
    else if ((unsigned long long)st.st_size > CONFIG_MAX_BYTES)
        why = "is larger than 16 MiB: not a config file";
    if (why) {
        nahr_buf_printf(err, "%s:%zu: @include \"", from, line);
        nahr__buf_put_printable(err, path, strlen(path));
        nahr_buf_printf(err, "\": %s\n", why);
        return NAHR_ECONFIG;
    }
    char *text = NULL;
    size_t n = 0;
    int rc = read_text(path, true, &text, &n, &why);
    if (rc == NAHR_ECONFIG) {
        nahr_buf_printf(err, "%s:%zu: @include \"", from, line);
        nahr__buf_put_printable(err, path, strlen(path));
        nahr_buf_printf(err, "\": %s\n", why);
    }
    if (rc < 0)
        return rc;
    rc = check_text(path, text, n, depth + 1, err);
    free(text);
    return rc;
}

/* Walks text as libconfig's scanner would for @include lines: strings,
 * line comments (# and //) and block comments are skipped. */
static int check_text(const char *file, const char *text, size_t len, int depth, nahr_buf *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        nahr_buf_printf(err, "%s:%zu: a NUL byte: not a text file\n", file, line_of(text, (size_t)(nul - text)));
        return NAHR_ECONFIG;
    }
    int rc = 0;
    bool line_start = true;
    size_t i = 0;
    while (i < len) {
        char ch = text[i];
        if (line_start) {
            size_t j = i;
            while (j < len && (text[j] == ' ' || text[j] == '\t'))
                j++;
            if (len - j > 8 && memcmp(text + j, "@include", 8) == 0 && (text[j + 8] == ' ' || text[j + 8] == '\t')) {
                j += 8;
                while (j < len && (text[j] == ' ' || text[j] == '\t'))
                    j++;
                if (j < len && text[j] == '"') {
                    nahr_buf path = {0};
                    size_t k = j + 1;
                    for (; k < len && text[k] != '"' && text[k] != '\n'; k++) {
                        if (text[k] == '\\' && k + 1 < len && (text[k + 1] == '\\' || text[k + 1] == '"'))
                            k++;
                        if (nahr_buf_putc(&path, text[k]) != 0) {
                            nahr_buf_free(&path);
                            return NAHR_ENOMEM;
                        }
                    }
                    if (k < len && text[k] == '"') { /* else libconfig reports the syntax error */
                        int r = check_include(file, line_of(text, i), path.data ? path.data : "", depth, err);
                        if (r == NAHR_ENOMEM) {
                            nahr_buf_free(&path);
                            return r;
                        }
                        if (r < 0)
                            rc = r;
                    }
                    nahr_buf_free(&path);
                    i = k < len && text[k] == '"' ? k + 1 : k;
                    line_start = false;
                    continue;
                }
            }
        }
        line_start = false;
        if (ch == '\n') {
            line_start = true;
            i++;
        } else if (ch == '"') {
            for (i++; i < len && text[i] != '"' && text[i] != '\n'; i++)
                if (text[i] == '\\' && i + 1 < len && text[i + 1] != '\n')
                    i++;
            if (i < len && text[i] == '"')
                i++;
        } else if (ch == '#' || (ch == '/' && i + 1 < len && text[i + 1] == '/')) {
            while (i < len && text[i] != '\n')
                i++;
        } else if (ch == '/' && i + 1 < len && text[i + 1] == '*') {
            const char *end = NULL;
            for (size_t k = i + 2; k + 1 < len; k++)
                if (text[k] == '*' && text[k + 1] == '/') {
                    end = text + k;
                    break;
                }
            i = end ? (size_t)(end - text) + 2 : len;
        } else {
            i++;
        }
    }
    return rc;
}

int nahr__config_text(const char *file, char **out, nahr_buf *err)
{
    char *text = NULL;
    size_t n = 0;
    const char *why = NULL;
    *out = NULL;
    int rc = read_text(file, false, &text, &n, &why);
    if (rc == NAHR_ECONFIG)
        nahr_buf_printf(err, "%s: cannot read config: %s\n", file, why);
    if (rc < 0)
        return rc;
    rc = check_text(file, text, n, 0, err);
    if (rc < 0) {
        free(text);
        return rc;
    }
    *out = text;
    return 0;
}
