/* testutil.h - helpers shared by the cmocka tests. */
#ifndef NAHR_TESTUTIL_H
#define NAHR_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static inline const char *tu_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* Writes content to a new temporary file with the given suffix; returns its
 * path (static buffer rotated over 8 slots). */
static inline const char *tu_write_temp(const char *suffix, const char *content, size_t len)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "/tmp/nahr-test-XXXXXX%s", suffix);
    int fd = mkstemps(p, (int)strlen(suffix));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return p;
}

#endif
