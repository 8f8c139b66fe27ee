/* encoding.c - input in a legacy encoding (pipeline.encoding, run --encoding).
 *
 * Arabic news archives older than the web's move to UTF-8 are often in
 * Windows-1256 or ISO-8859-6. The reader converts such input to UTF-8 with
 * the C library's iconv (glibc knows both, and every other common
 * encoding), before the UTF-8 checks every record goes through. The
 * dead-letter record of a failed article keeps the bytes as read. */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

int nahr__encoding_kind(const char *name)
{
    if (!name || !*name || strcasecmp(name, "UTF-8") == 0 || strcasecmp(name, "UTF8") == 0)
        return 1;
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return -1;
    iconv_close(cd);
    return 0;
}

int nahr__to_utf8(const char *enc, const char *s, size_t n, nahr_buf *out, size_t *bad_at)
{
    iconv_t cd = iconv_open("UTF-8", enc);
    if (cd == (iconv_t)-1)
        return NAHR_EINVAL;
    int rc = NAHR_OK;
    char *in = (char *)s; /* iconv's prototype; it does not write there */
    size_t left = n;
    while (left) {
        /* Arabic letters take 1 byte in the legacy encodings, 2 in UTF-8 */
        if (nahr_buf_reserve(out, 2 * left + 16) < 0) {
            rc = NAHR_ENOMEM;
            break;
        }
        char *o = out->data + out->len;
        size_t room = out->cap - out->len - 1;
        size_t r = iconv(cd, &in, &left, &o, &room);
        out->len = (size_t)(o - out->data);
        if (r == (size_t)-1 && errno != E2BIG) { /* EILSEQ, or EINVAL: cut short at the end */
            *bad_at = n - left;
            rc = NAHR_EFORMAT;
            break;
        }
    }
    if (out->data)
        out->data[out->len] = '\0';
    iconv_close(cd);
    return rc;
}
