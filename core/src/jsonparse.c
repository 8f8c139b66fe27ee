/* jsonparse.c - the JSONL record parser.
 *
 * Why not jansson: on ../shared/data/news (78 MB) jansson's parse took about
 * half of all CPU of a pass-through run and capped it near 25 MB/s on two
 * workers (perf, docs/benchmarks.md). This parser builds nahr_values straight
 * into the document's arena, decodes strings in one pass, and relies on the
 * caller having validated UTF-8 for the whole line first (nahr_utf8_check),
 * so it never re-validates. It accepts exactly RFC 8259 JSON. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jp {
    const char *s, *p, *end;
    nahr_doc *d;
    int depth;
    char err[160];
} jp;

static void jp_fail(jp *j, const char *what)
{
    if (j->err[0])
        return;
    size_t col = nahr_utf8_count(j->s, (size_t)(j->p - j->s)) + 1;
    if (j->p >= j->end)
        snprintf(j->err, sizeof j->err, "invalid JSON at column %zu: %s (the line ends too early)", col, what);
    else
        snprintf(j->err, sizeof j->err, "invalid JSON at column %zu: %s", col, what);
}

static void skip_ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* Parses a string at j->p (on the opening quote) into arena memory. */
static char *parse_string(jp *j, size_t *len)
{
    j->p++; /* opening quote */
    const char *start = j->p;
    /* fast scan: most strings have no escapes */
    const char *q = start + nahr__json_plain_len(start, (size_t)(j->end - start));
    if (q < j->end && *q == '"') {
        j->p = q + 1;
        *len = (size_t)(q - start);
        return nahr_doc_strndup(j->d, start, *len);
    }
    /* slow path: decode escapes; output is never longer than input */
    char *out = nahr_doc_alloc(j->d, (size_t)(j->end - start) + 1);
    if (!out) {
        jp_fail(j, "out of memory");
        return NULL;
    }
    size_t o = (size_t)(q - start);
    memcpy(out, start, o);
    j->p = q;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            out[o] = '\0';
            *len = o;
            return out;
        }
        if (c < 0x20) {
            jp_fail(j, "control character in a string (escape it)");
            return NULL;
        }
        if (c != '\\') {
            /* a run of plain bytes up to the next quote, escape or control byte */
            size_t k = nahr__json_plain_len(j->p, (size_t)(j->end - j->p));
            if (k == 0)
                k = 1; /* cannot happen: c is none of those */
            memcpy(out + o, j->p, k);
            o += k;
            j->p += k;
            continue;
        }
        if (j->p + 1 >= j->end)
            break;
        char e = j->p[1];
        j->p += 2;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            if (j->end - j->p < 4 || hex4(j->p) < 0) {
                jp_fail(j, "bad \\u escape");
                return NULL;
            }
            uint32_t cp = (uint32_t)hex4(j->p);
            j->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' &&
                hex4(j->p + 2) >= 0xDC00 && hex4(j->p + 2) <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)hex4(j->p + 2) - 0xDC00);
                j->p += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD; /* lone surrogate: not representable in UTF-8 */
            }
            if (cp == 0) {
                jp_fail(j, "\\u0000 (NUL) is not allowed in text");
                return NULL;
            }
            /* \uXXXX is 6 bytes of input, at most 4 of output (pairs: 12 -> 4) */
            o += nahr_utf8_put(cp, out + o);
            break;
        }
        default: jp_fail(j, "unknown escape in a string"); return NULL;
        }
    }
    jp_fail(j, "unterminated string");
    return NULL;
}

static nahr_value *parse_value(jp *j);

static const char *parse_number_span(jp *j, bool *is_int)
{
    const char *p = j->p;
    *is_int = true;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || !(*p >= '0' && *p <= '9')) {
        jp_fail(j, "expected a value");
        return NULL;
    }
    if (*p == '0')
        p++;
    else
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    if (p < j->end && *p == '.') {
        *is_int = false;
        p++;
        if (p >= j->end || !(*p >= '0' && *p <= '9')) {
            jp_fail(j, "bad number");
            return NULL;
        }
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        *is_int = false;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || !(*p >= '0' && *p <= '9')) {
            jp_fail(j, "bad number");
            return NULL;
        }
        while (p < j->end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static nahr_value *parse_number(jp *j)
{
    bool is_int;
    const char *e = parse_number_span(j, &is_int);
    if (!e)
        return NULL;
    char tmp[64];
    size_t n = (size_t)(e - j->p);
    if (n >= sizeof tmp) {
        jp_fail(j, "number too long");
        return NULL;
    }
    memcpy(tmp, j->p, n);
    tmp[n] = '\0';
    j->p = e;
    if (is_int) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == 0)
            return nahr_value_int(j->d, v);
    }
    /* a fraction, an exponent or an integer beyond int64: kept as written,
     * so that a field passes through unchanged */
    return nahr__value_number(j->d, strtod(tmp, NULL), tmp, n);
}

static bool lit(jp *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
        j->p += n;
        return true;
    }
    return false;
}

/* After a member or element of a list closed by `close`: 1 when a ',' says
 * another one follows, 0 when the list ends (both consumed), -1 (error set)
 * otherwise. */
static int list_next(jp *j, char close)
{
    skip_ws(j);
    if (j->p < j->end && (*j->p == ',' || *j->p == close))
        return *j->p++ == ',';
    jp_fail(j, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    return -1;
}

static nahr_value *parse_array(jp *j)
{
    nahr_value *a = nahr_value_array(j->d);
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return a;
    }
    for (;;) {
        nahr_value *v = parse_value(j);
        if (!v || nahr_value_push(j->d, a, v) < 0)
            return NULL;
        int more = list_next(j, ']');
        if (more <= 0)
            return more == 0 ? a : NULL;
    }
}

/* Calls member(j, key, ctx) for each key with j->p on its value; member parses the value. */
typedef bool (*member_fn)(jp *j, const char *key, void *ctx);

static bool parse_members(jp *j, member_fn member, void *ctx)
{
    j->p++; /* { */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') {
            jp_fail(j, "expected a key in quotes");
            return false;
        }
        size_t kl;
        char *key = parse_string(j, &kl);
        if (!key)
            return false;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            jp_fail(j, "expected ':' after a key");
            return false;
        }
        j->p++;
        skip_ws(j);
        if (!member(j, key, ctx))
            return false;
        int more = list_next(j, '}');
        if (more <= 0)
            return more == 0;
    }
}

static bool object_member(jp *j, const char *key, void *ctx)
{
    nahr_value *v = parse_value(j);
    return v && nahr_value_put(j->d, ctx, key, v) == NAHR_OK;
}

static nahr_value *parse_value(jp *j)
{
    skip_ws(j);
    if (j->p >= j->end) {
        jp_fail(j, "expected a value");
        return NULL;
    }
    if (++j->depth > 64) {
        jp_fail(j, "nested deeper than 64 levels");
        return NULL;
    }
    nahr_value *v = NULL;
    size_t n;
    switch (*j->p) {
    case '{':
        v = nahr_value_object(j->d);
        if (!v || !parse_members(j, object_member, v))
            v = NULL;
        break;
    case '[': v = parse_array(j); break;
    case '"': {
        char *s = parse_string(j, &n);
        if (s)
            v = nahr_value_string(j->d, s, n);
        break;
    }
    case 't': v = lit(j, "true") ? nahr_value_bool(j->d, 1) : NULL; break;
    case 'f': v = lit(j, "false") ? nahr_value_bool(j->d, 0) : NULL; break;
    case 'n': v = lit(j, "null") ? nahr_value_null(j->d) : NULL; break;
    default: v = parse_number(j); break;
    }
    if (!v)
        jp_fail(j, "expected a value");
    j->depth--;
    return v;
}

/* ---- the record: top-level keys of an article ---- */
static const char *const meta_keys[META_COUNT] = {"id", "title", "url", "date", "source"};

typedef struct record_ctx {
    bool have_text;
    char *bad_key;
    const char *bad_why;
} record_ctx;

static bool record_member(jp *j, const char *key, void *vctx)
{
    record_ctx *rc = vctx;
    nahr_doc *d = j->d;
    if (strcmp(key, "text") == 0) {
        if (*j->p != '"') {
            if (!parse_value(j))
                return false;
            rc->bad_why = "'text' must be a string";
            return true;
        }
        size_t n;
        char *s = parse_string(j, &n);
        if (!s)
            return false;
        d->text = s;
        d->text_len = n;
        rc->have_text = true;
        return true;
    }
    for (int i = 0; i < META_COUNT; i++) {
        if (strcmp(key, meta_keys[i]) != 0)
            continue;
        if (*j->p == '"') {
            size_t n;
            char *s = parse_string(j, &n);
            if (!s)
                return false;
            d->meta[i] = s;
            return true;
        }
        if (*j->p == 'n' && lit(j, "null"))
            return true;
        const char *start = j->p;
        bool is_int;
        const char *e = (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) ? parse_number_span(j, &is_int) : NULL;
        if (e) {
            d->meta[i] = nahr_doc_strndup(d, start, (size_t)(e - start));
            j->p = e;
            return true;
        }
        j->err[0] = '\0';
        if (!parse_value(j))
            return false;
        if (!rc->bad_why) {
            rc->bad_key = nahr_doc_strndup(d, key, strlen(key));
            rc->bad_why = "must be a string or a number";
        }
        return true;
    }
    if (strcmp(key, "entities") == 0) /* our own output fed back in: recomputed, not kept */
        return parse_value(j) != NULL;
    nahr_value *v = parse_value(j);
    if (!v)
        return false;
    return nahr_doc_set_field(d, key, v) == NAHR_OK || (jp_fail(j, "cannot keep a field"), false);
}

int nahr__parse_record(nahr_doc *d, const char *line, size_t len)
{
    jp j = {.s = line, .p = line, .end = line + len, .d = d};
    record_ctx rc = {0};
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{') {
        if (j.p < j.end && (*j.p == '[' || *j.p == '"' || *j.p == '-' || (*j.p >= '0' && *j.p <= '9')))
            nahr__doc_set_failed(d, "reader", "a JSONL record must be an object");
        else {
            jp_fail(&j, "expected '{'");
            nahr__doc_set_failed(d, "reader", "%s", j.err);
        }
        return NAHR_EFORMAT;
    }
    if (!parse_members(&j, record_member, &rc)) {
        nahr__doc_set_failed(d, "reader", "%s", j.err[0] ? j.err : "invalid JSON");
        return NAHR_EFORMAT;
    }
    skip_ws(&j);
    if (j.p != j.end) {
        jp_fail(&j, "unexpected characters after the record");
        nahr__doc_set_failed(d, "reader", "%s", j.err);
        return NAHR_EFORMAT;
    }
    if (rc.bad_why) {
        if (rc.bad_key)
            nahr__doc_set_failed(d, "reader", "'%s' %s", rc.bad_key, rc.bad_why);
        else
            nahr__doc_set_failed(d, "reader", "%s", rc.bad_why);
        return NAHR_EFORMAT;
    }
    if (!rc.have_text) {
        nahr__doc_set_failed(d, "reader", "missing 'text'");
        return NAHR_EFORMAT;
    }
    return NAHR_OK;
}

nahr_value *nahr__parse_json(nahr_doc *d, const char *text, size_t len, char *err, size_t errlen)
{
    jp j = {.s = text, .p = text, .end = text + len, .d = d};
    nahr_value *v = parse_value(&j);
    skip_ws(&j);
    if (v && j.p != j.end) {
        jp_fail(&j, "unexpected characters after the value");
        v = NULL;
    }
    if (!v && err)
        snprintf(err, errlen, "%s", j.err[0] ? j.err : "invalid JSON");
    return v;
}
