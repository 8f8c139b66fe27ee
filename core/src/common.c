/* common.c - return codes, logging, nahr_buf. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_level = NAHR_LOG_INFO;
static bool log_kv; /* --log-format kv */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"error", "warning", "info", "debug"};

const char *nahr_version(void) { return NAHR_VERSION_STRING; }

const char *nahr_strerror(int code)
{
    switch (code) {
    case NAHR_OK: return "success";
    case NAHR_EINVAL: return "invalid argument";
    case NAHR_ENOMEM: return "out of memory";
    case NAHR_EIO: return "input/output error";
    case NAHR_ECONFIG: return "configuration error";
    case NAHR_EABI: return "plugin ABI mismatch";
    case NAHR_ELIMIT: return "limit reached";
    case NAHR_EBUSY: return "not allowed in this state";
    case NAHR_ENOENT: return "not found";
    case NAHR_EFORMAT: return "malformed input";
    default: return "unknown error";
    }
}

void nahr_log_set_level(int level) { log_level = level; }

static bool log_kv_cli; /* set by run --log-format: the config's log_format does not override it */

void nahr__log_set_format(bool kv)
{
    log_kv = kv;
    log_kv_cli = true;
}

void nahr__log_config_format(bool kv)
{
    if (!log_kv_cli)
        log_kv = kv;
}
bool nahr__log_is_kv(void) { return log_kv; }

/* Appends value to b as a logfmt value: bare when it is a plain token,
 * otherwise in double quotes with \" \\ \n \r \t and \u00XX escapes, so an
 * event always stays on one line. */
static void kv_value(nahr_buf *b, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    bool plain = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p && plain; p++)
        plain = *p > ' ' && *p != '"' && *p != '=' && *p != '\\' && *p != 0x7f;
    if (plain) {
        nahr_buf_puts(b, v);
        return;
    }
    nahr_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        switch (*p) {
        case '"': nahr_buf_puts(b, "\\\""); break;
        case '\\': nahr_buf_puts(b, "\\\\"); break;
        case '\n': nahr_buf_puts(b, "\\n"); break;
        case '\r': nahr_buf_puts(b, "\\r"); break;
        case '\t': nahr_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char e[7] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0};
                nahr_buf_puts(b, e);
            } else {
                nahr_buf_putc(b, (char)*p);
            }
        }
    }
    nahr_buf_putc(b, '"');
}

void nahr__kv_str(nahr_kv *k, const char *key, const char *value)
{
    nahr_buf b = {0};
    nahr_buf_printf(&b, "%s%s=", k->n ? " " : "", key);
    kv_value(&b, value ? value : "");
    if (b.data && k->n + b.len < sizeof k->s) {
        memcpy(k->s + k->n, b.data, b.len + 1);
        k->n += b.len;
    }
    nahr_buf_free(&b);
}

void nahr__kv_int(nahr_kv *k, const char *key, long long value)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", value);
    nahr__kv_str(k, key, v);
}

/* One event = one line on stderr. text: "nahr: LEVEL: message" (unchanged
 * for scripts); kv: level=LEVEL msg="message" plus the event's fields. */
static void log_line(int level, const char *fields, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    if (level < 0)
        level = 0;
    if (level > 3)
        level = 3;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    nahr_buf b = {0};
    if (log_kv) {
        nahr_buf_printf(&b, "level=%s msg=", level_names[level]);
        kv_value(&b, msg);
        if (fields && *fields) {
            nahr_buf_putc(&b, ' ');
            nahr_buf_puts(&b, fields);
        }
    } else {
        nahr_buf_printf(&b, "nahr: %s: %s", level_names[level], msg);
    }
    nahr_buf_putc(&b, '\n');
    pthread_mutex_lock(&log_lock);
    if (b.data)
        fwrite(b.data, 1, b.len, stderr);
    pthread_mutex_unlock(&log_lock);
    nahr_buf_free(&b);
}

void nahr_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, NULL, fmt, ap);
    va_end(ap);
}

void nahr__log_kvv(int level, const char *fields, const char *fmt, va_list ap) { log_line(level, fields, fmt, ap); }

void nahr__log_kv(int level, const char *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, fields, fmt, ap);
    va_end(ap);
}

double nahr__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Edit distance with adjacent transpositions (optimal string alignment):
 * "wrod" is one edit from "word". Used for "did you mean" suggestions. */
size_t nahr__levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t m[65][65];
    for (size_t i = 0; i <= la; i++)
        m[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        m[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t v = m[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (m[i - 1][j] + 1 < v)
                v = m[i - 1][j] + 1;
            if (m[i][j - 1] + 1 < v)
                v = m[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && m[i - 2][j - 2] + 1 < v)
                v = m[i - 2][j - 2] + 1;
            m[i][j] = v;
        }
    return m[la][lb];
}

/* ---- nahr_buf ---- */
int nahr_buf_reserve(nahr_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return NAHR_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return NAHR_ENOMEM;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return NAHR_ENOMEM;
    b->data = p;
    b->cap = cap;
    return NAHR_OK;
}

int nahr_buf_append(nahr_buf *b, const void *p, size_t n)
{
    if (nahr_buf_reserve(b, n) < 0)
        return NAHR_ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return NAHR_OK;
}

int nahr_buf_puts(nahr_buf *b, const char *s) { return nahr_buf_append(b, s, strlen(s)); }

int nahr_buf_putc(nahr_buf *b, char c) { return nahr_buf_append(b, &c, 1); }

int nahr_buf_printf(nahr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || nahr_buf_reserve(b, (size_t)n) < 0)
        return NAHR_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return NAHR_OK;
}

int nahr_buf_json_string(nahr_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case every byte becomes \u00XX */
    if (nahr_buf_reserve(b, n * 6 + 2) < 0)
        return NAHR_ENOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    size_t run = 0; /* bytes copied verbatim in one memcpy */
    /* 1 = byte needs escaping */
    static const unsigned char esc[256] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        0, 0, 1 /* " */, ['\\'] = 1};
    for (size_t i = 0; i < n; i++) {
        size_t plain = nahr__json_plain_len(s + i, n - i); /* bytes copied as they are */
        i += plain;
        run += plain;
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (!esc[c]) {
            run++;
            continue;
        }
        memcpy(o, s + i - run, run);
        o += run;
        run = 0;
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u'; *o++ = '0'; *o++ = '0';
            *o++ = hex[c >> 4]; *o++ = hex[c & 15];
        }
    }
    memcpy(o, s + n - run, run);
    o += run;
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    return NAHR_OK;
}

void nahr_buf_reset(nahr_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void nahr_buf_free(nahr_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
