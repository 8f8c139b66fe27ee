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
    if (strcasecmp(name, "auto") == 0)
        return 2;
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return -1;
    iconv_close(cd);
    /* records are split at '\n' and parsed as JSON before conversion: the
     * encoding must write ASCII as ASCII (UTF-16/32 do not; their files are
     * recognised by the byte-order mark instead) */
    static const char probe[] = "{\"id\": 7}\n";
    nahr_buf out = {0};
    size_t at = 0;
    int same = nahr__to_utf8(name, probe, sizeof probe - 1, &out, &at) == NAHR_OK && out.len == sizeof probe - 1 &&
               memcmp(out.data, probe, out.len) == 0;
    nahr_buf_free(&out);
    return same ? 0 : -2;
}

size_t nahr__html_charset(const char *s, size_t n, char *out, size_t outlen)
{
    /* where browsers look first: <meta charset="X"> or
     * <meta http-equiv="Content-Type" content="text/html; charset=X"> near the start */
    size_t lim = n < 2048 ? n : 2048;
    for (size_t i = 0; i + 8 <= lim; i++) {
        if (strncasecmp(s + i, "charset=", 8) != 0)
            continue;
        size_t j = i + 8;
        while (j < lim && (s[j] == '"' || s[j] == '\'' || s[j] == ' '))
            j++;
        size_t k = 0;
        while (j < lim && k + 1 < outlen &&
               ((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9') ||
                s[j] == '-' || s[j] == '_' || s[j] == ':' || s[j] == '.'))
            out[k++] = s[j++];
        out[k] = '\0';
        if (k)
            return k;
    }
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

/* How often the definite article "ال" (UTF-8 D8 A7 D9 84) occurs in the
 * first bytes of s read as enc: Arabic text has it every few words. */
static size_t article_count(const char *enc, const char *s, size_t n)
{
    nahr_buf out = {0};
    size_t at = 0, count = 0;
    if (nahr__to_utf8(enc, s, n < 65536 ? n : 65536, &out, &at) == NAHR_ENOMEM) {
        nahr_buf_free(&out);
        return 0;
    }
    for (size_t i = 0; i + 4 <= out.len; i++)
        if (memcmp(out.data + i, "\xD8\xA7\xD9\x84", 4) == 0)
            count++;
    nahr_buf_free(&out);
    return count;
}

const char *nahr__guess_arabic_encoding(const char *s, size_t n)
{
    /* the two legacy Arabic encodings put the letters on the same bytes in a
     * different order (ل is E1 in one, E4 in the other): the one that reads
     * as Arabic has the article; a cut at the 64 KiB sample is harmless */
    size_t w = article_count("WINDOWS-1256", s, n), i = article_count("ISO-8859-6", s, n);
    if (w >= 2 && w > i)
        return "WINDOWS-1256";
    if (i >= 2 && i > w)
        return "ISO-8859-6";
    return NULL;
}
