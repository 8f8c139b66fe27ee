/* nahr/common.h - return codes, logging and a growable byte buffer.
 *
 * Conventions used by every public nahr function:
 *  - 0 (NAHR_OK) means success, a negative NAHR_E* code means failure;
 *    nahr_strerror() turns a code into a static string.
 *  - Text is UTF-8. Offsets are BYTE offsets unless a comment says otherwise;
 *    code points appear only at the JSON boundary (exporters).
 */
#ifndef NAHR_COMMON_H
#define NAHR_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NAHR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define NAHR_EXPORT __attribute__((visibility("default")))
#else
#define NAHR_PRINTF(f, a)
#define NAHR_EXPORT
#endif

enum {
    NAHR_OK = 0,
    NAHR_EINVAL = -1,   /* bad argument or value */
    NAHR_ENOMEM = -2,   /* out of memory */
    NAHR_EIO = -3,      /* read/write failed (errno has details) */
    NAHR_ECONFIG = -4,  /* configuration error */
    NAHR_EABI = -5,     /* plugin built for another ABI */
    NAHR_ELIMIT = -6,   /* a configured limit was reached */
    NAHR_EBUSY = -7,    /* operation not allowed in this state */
    NAHR_ENOENT = -8,   /* not found */
    NAHR_EFORMAT = -9   /* malformed input (JSON, UTF-8, model file) */
};

/* Static, never NULL. */
NAHR_EXPORT const char *nahr_strerror(int code);

/* Log levels. Logs go to stderr, never stdout. Thread-safe. */
enum { NAHR_LOG_ERROR = 0, NAHR_LOG_WARN = 1, NAHR_LOG_INFO = 2, NAHR_LOG_DEBUG = 3 };
NAHR_EXPORT void nahr_log(int level, const char *fmt, ...) NAHR_PRINTF(2, 3);
NAHR_EXPORT void nahr_log_set_level(int level);

/* A growable byte buffer, always NUL-terminated when data != NULL.
 * Zero-initialise it ({0}) before use; nahr_buf_free() releases it.
 * The caller owns it. Not thread-safe (use one per thread). */
typedef struct nahr_buf {
    char *data;
    size_t len;
    size_t cap;
} nahr_buf;

NAHR_EXPORT int nahr_buf_reserve(nahr_buf *b, size_t extra);
NAHR_EXPORT int nahr_buf_append(nahr_buf *b, const void *p, size_t n);
NAHR_EXPORT int nahr_buf_puts(nahr_buf *b, const char *s);
NAHR_EXPORT int nahr_buf_putc(nahr_buf *b, char c);
NAHR_EXPORT int nahr_buf_printf(nahr_buf *b, const char *fmt, ...) NAHR_PRINTF(2, 3);
/* Appends s as a JSON string literal (with quotes), escaping as RFC 8259 needs. */
NAHR_EXPORT int nahr_buf_json_string(nahr_buf *b, const char *s, size_t n);
NAHR_EXPORT void nahr_buf_reset(nahr_buf *b); /* len = 0, keeps memory */
NAHR_EXPORT void nahr_buf_free(nahr_buf *b);

#ifdef __cplusplus
}
#endif
#endif
