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

/* Writes the escape of byte c (a control byte, '"' or '\\') at o; returns
 * its length. */
static size_t json_escape(unsigned char c, char *o)
{
    static const char hex[] = "0123456789abcdef";
    o[0] = '\\';
    switch (c) {
    case '"': o[1] = '"'; return 2;
    case '\\': o[1] = '\\'; return 2;
    case '\n': o[1] = 'n'; return 2;
    case '\r': o[1] = 'r'; return 2;
    case '\t': o[1] = 't'; return 2;
    case '\b': o[1] = 'b'; return 2;
    case '\f': o[1] = 'f'; return 2;
    default:
        memcpy(o + 1, "u00", 3);
        o[4] = hex[c >> 4];
        o[5] = hex[c & 15];
        return 6;
    }
}

int nahr_buf_json_string(nahr_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    /* worst case every byte becomes \u00XX */
    if (b->len + n * 6 + 3 > b->cap && nahr_buf_reserve(b, n * 6 + 2) < 0)
        return NAHR_ENOMEM;
    char *o = b->data + b->len;
    size_t i = 0;
    *o++ = '"';
    /* Blocks are stored before they are checked, and o advances only over
     * the plain bytes: the room reserved for six bytes per input byte covers
     * a whole block as long as one is left in the input. */
    for (;;) {
#if defined(__SSE2__)
        while (i + 16 <= n) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
            const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                           _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                              _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v)); /* <= 0x1F */
            unsigned m = (unsigned)_mm_movemask_epi8(stop);
            _mm_storeu_si128((__m128i *)(void *)o, v);
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                o += k;
                i += k;
                goto escape;
            }
            o += 16;
            i += 16;
        }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, u + i, 8);
            memcpy(o, &v, 8);
            uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
            /* per byte: below 0x20, or equal to '"' or '\\' (the classic has-zero-byte test) */
            uint64_t m = (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
            if (m) {
                /* the lowest flagged byte is a true one (borrows only run upwards) */
                unsigned k = (unsigned)__builtin_ctzll(m) / 8;
                o += k;
                i += k;
                goto escape;
            }
            o += 8;
            i += 8;
        }
        if (i < n) {
            /* the last 1..7 bytes as the low bytes of one word: the eight
             * bytes that end the string shifted down, or (shorter strings)
             * two overlapping four-byte loads or single bytes */
            size_t r = n - i;
            uint64_t v = 0;
            if (n >= 8) {
                memcpy(&v, u + n - 8, 8);
                v >>= 8 * (8 - r);
            } else if (r >= 4) {
                uint32_t lo, hi;
                memcpy(&lo, u + i, 4);
                memcpy(&hi, u + n - 4, 4);
                v = lo | (uint64_t)hi << (8 * (r - 4));
            } else {
                for (size_t k = 0; k < r; k++)
                    v |= (uint64_t)u[i + k] << (8 * k);
            }
            uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
            uint64_t m = (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & (highs >> (8 * (8 - r)));
            memcpy(o, &v, 8);
            if (m) {
                unsigned k = (unsigned)__builtin_ctzll(m) / 8;
                o += k;
                i += k;
                goto escape;
            }
            o += r;
            i = n;
        }
#endif
        for (; i < n; i++) {
            unsigned char c = u[i];
            if (c < 0x20 || c == '"' || c == '\\')
                goto escape;
            *o++ = (char)c;
        }
        break;
    escape:
        o += json_escape(u[i], o);
        i++;
    }
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
