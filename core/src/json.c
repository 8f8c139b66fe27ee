/* json.c - the JSON boundary: preparing input records (the parser is in
 * jsonparse.c) and writing output records (hand-written: it also converts
 * byte offsets to code points in one pass). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- writing ---- */

/* nahr_buf_putc()/nahr_buf_puts() without a call when there is room: the
 * writer emits a few of these per span and per value. */
static inline int put_char(nahr_buf *out, char c)
{
    if (out->len + 2 <= out->cap) {
        out->data[out->len++] = c;
        out->data[out->len] = '\0';
        return NAHR_OK;
    }
    return nahr_buf_putc(out, c);
}

/* nahr_buf_append() of a few bytes without a call when there is room. */
static inline int put_bytes(nahr_buf *out, const char *s, size_t n)
{
    if (out->len + n + 1 <= out->cap) {
        char *o = out->data + out->len;
        for (size_t i = 0; i < n; i++)
            o[i] = s[i];
        o[n] = '\0';
        out->len += n;
        return NAHR_OK;
    }
    return nahr_buf_append(out, s, n);
}

static inline int put_str(nahr_buf *out, const char *s)
{
    size_t n = strlen(s);
    if (out->len + n + 1 <= out->cap) {
        memcpy(out->data + out->len, s, n + 1);
        out->len += n;
        return NAHR_OK;
    }
    return nahr_buf_append(out, s, n);
}

/* nahr_buf_json_string(out, s, strlen(s)) for the short C strings the
 * writer emits many of (keys, span types): one pass that copies, checks
 * and finds the end, inline. A longer string or one that needs escaping
 * goes to the general function. */
static inline int put_json_cstr(nahr_buf *out, const char *s)
{
    enum { SHORT = 24 };
    /* 1 = the byte ends the copy: NUL, another control byte, '"', '\\' */
    static const unsigned char stop[256] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        0, 0, 1 /* " */, ['\\'] = 1};
    if (out->len + SHORT + 3 <= out->cap) {
        char *o = out->data + out->len;
        *o++ = '"';
        for (size_t i = 0; i < SHORT; i++) {
            unsigned char c = (unsigned char)s[i];
            if (stop[c]) {
                if (c != 0)
                    break;
                o[i] = '"';
                o[i + 1] = '\0';
                out->len += i + 2;
                return NAHR_OK;
            }
            o[i] = (char)c;
        }
    }
    return nahr_buf_json_string(out, s, strlen(s));
}

/* Decimal digits of v into out (no terminator); returns the length. Two
 * digits a step from a table, right to left (span offsets: two numbers per
 * span, most of three to five digits). */
static size_t format_uint(unsigned long long v, char *out)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                   "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";
    char tmp[24];
    char *q = tmp + sizeof tmp;
    while (v >= 100) {
        const unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        q[0] = pairs[2 * r];
        q[1] = pairs[2 * r + 1];
    }
    if (v >= 10) {
        q -= 2;
        q[0] = pairs[2 * v];
        q[1] = pairs[2 * v + 1];
    } else {
        *--q = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof tmp - q);
    for (size_t i = 0; i < n; i++)
        out[i] = q[i];
    return n;
}

static int write_int(nahr_buf *out, long long x)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = (unsigned long long)x;
    if (x < 0) {
        tmp[n++] = '-';
        u = 0 - u;
    }
    n += format_uint(u, tmp + n);
    return put_bytes(out, tmp, n);
}

/* What snprintf("%.6g") writes for x, without snprintf, when x is the
 * double nearest to a decimal d / 10^p with at most 6 significant digits and
 * 1e-4 <= |x| < 1e6 (every score the plugins round to 3 decimals): then
 * "%.6g" is that decimal in fixed notation, trailing zeros dropped. Returns
 * the length, or 0 when x is not of that form (the caller uses snprintf). */
static size_t format_short_decimal(double x, char *out)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double a = fabs(x);
    if (!(a >= 1e-4 && a < 1e6))
        return 0;
    for (int p = 0; p <= 9; p++) {
        /* nearbyint() without the call: below 2^52 (a * 10^p < 1e15 here)
         * adding 2^52 rounds to the nearest integer, ties to even, in the
         * default rounding mode, and taking it off again is exact */
        double m = (a * pow10[p] + 0x1p52) - 0x1p52;
        if (m >= 1e6)
            return 0; /* more than 6 significant digits */
        if (m / pow10[p] != a)
            continue;
        unsigned long long d = (unsigned long long)m;
        if (d == 0)
            return 0;
        /* d / 10^p from the right: p fraction digits (leading zeros
         * included), the point, the integer part ("0" at least), the sign */
        char tmp[32];
        char *q = tmp + sizeof tmp;
        for (int k = 0; k < p; k++) {
            *--q = (char)('0' + d % 10);
            d /= 10;
        }
        if (p > 0)
            *--q = '.';
        do {
            *--q = (char)('0' + d % 10);
            d /= 10;
        } while (d);
        if (signbit(x))
            *--q = '-';
        size_t n = (size_t)(tmp + sizeof tmp - q);
        for (size_t i = 0; i < n; i++)
            out[i] = q[i];
        return n;
    }
    return 0;
}

static int write_number(nahr_buf *out, double x)
{
    if (!isfinite(x))
        return put_str(out, "null");
    /* the usual short decimal straight into the buffer (at most 12 bytes) */
    if (out->len + 16 > out->cap && nahr_buf_reserve(out, 15) < 0)
        return NAHR_ENOMEM;
    size_t n = format_short_decimal(x, out->data + out->len);
    if (n) {
        out->len += n;
        out->data[out->len] = '\0';
        return NAHR_OK;
    }
    if (x == 0)
        return put_str(out, signbit(x) ? "-0" : "0");
    char tmp[64];
    int k = snprintf(tmp, sizeof tmp, "%.6g", x);
    if (k < 0)
        return NAHR_EINVAL;
    /* keep it a JSON number (no "inf", and "1e+06" is fine JSON) */
    return put_bytes(out, tmp, (size_t)k);
}

int nahr_value_write_json(const nahr_value *v, nahr_buf *out)
{
    int rc = NAHR_OK;
    if (!v)
        return put_str(out, "null");
    switch (v->type) {
    case NAHR_V_NULL: return put_str(out, "null");
    case NAHR_V_BOOL: return put_str(out, v->u.b ? "true" : "false");
    case NAHR_V_INT: return write_int(out, (long long)v->u.i);
    case NAHR_V_DOUBLE: return v->u.d.text ? put_str(out, v->u.d.text) : write_number(out, v->u.d.x);
    case NAHR_V_STRING: return nahr_buf_json_string(out, v->u.s.s, v->u.s.n);
    case NAHR_V_ARRAY:
        rc |= put_char(out, '[');
        for (size_t i = 0; i < v->u.c.len; i++) {
            if (i)
                rc |= put_char(out, ',');
            rc |= nahr_value_write_json(v->u.c.items[i], out);
        }
        rc |= put_char(out, ']');
        return rc ? NAHR_ENOMEM : NAHR_OK;
    case NAHR_V_OBJECT:
        rc |= put_char(out, '{');
        for (size_t i = 0; i < v->u.c.len; i++) {
            if (i)
                rc |= put_char(out, ',');
            const char *k = v->u.c.keys[i];
            rc |= put_json_cstr(out, k);
            rc |= put_char(out, ':');
            rc |= nahr_value_write_json(v->u.c.items[i], out);
        }
        rc |= put_char(out, '}');
        return rc ? NAHR_ENOMEM : NAHR_OK;
    }
    return NAHR_EINVAL;
}

typedef struct offset_ref {
    size_t byte;
    size_t slot; /* index into the code-point result array */
} offset_ref;

static int cmp_ref(const void *a, const void *b)
{
    const offset_ref *x = a, *y = b;
    return x->byte < y->byte ? -1 : x->byte > y->byte;
}

/* cps[2*i], cps[2*i+1] = code-point start/end of span i. */
static int spans_to_codepoints(const nahr_doc *d, size_t *cps)
{
    size_t n = d->nspans * 2;
    offset_ref *refs = malloc(n * sizeof *refs);
    if (!refs)
        return NAHR_ENOMEM;
    for (size_t i = 0; i < d->nspans; i++) {
        refs[2 * i] = (offset_ref){d->spans[i].start, 2 * i};
        refs[2 * i + 1] = (offset_ref){d->spans[i].end, 2 * i + 1};
    }
    /* the spans of most articles come in text order without overlaps, so the
     * offsets are sorted already: sort only when they are not */
    for (size_t k = 1; k < n; k++)
        if (refs[k].byte < refs[k - 1].byte) {
            qsort(refs, n, sizeof *refs, cmp_ref);
            break;
        }
    size_t byte = 0, cp = 0;
    for (size_t k = 0; k < n; k++) {
        /* code points = bytes that are not continuation bytes (10xxxxxx),
         * counted sixteen or eight at a time */
#if defined(__SSE2__)
        while (byte + 16 <= refs[k].byte) {
            /* per byte lane, the continuation bytes of up to 255 blocks
             * (a compare gives -1 for each, subtracted), then summed */
            __m128i acc = _mm_setzero_si128();
            size_t blocks = 0;
            for (; byte + 16 <= refs[k].byte && blocks < 255; byte += 16, blocks++) {
                const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(d->text + byte));
                acc = _mm_sub_epi8(acc, _mm_cmplt_epi8(v, _mm_set1_epi8(-64))); /* 0x80..0xBF */
            }
            const __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
            size_t cont = (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
            cp += blocks * 16 - cont;
        }
#endif
        for (; byte + 8 <= refs[k].byte; byte += 8) {
            uint64_t v;
            memcpy(&v, d->text + byte, 8);
            uint64_t cont = (v & ~(v << 1) & 0x8080808080808080ull) >> 7; /* 1 per continuation byte */
            cp += 8 - (size_t)((cont * 0x0101010101010101ull) >> 56);
        }
        for (; byte < refs[k].byte; byte++)
            if (((unsigned char)d->text[byte] & 0xC0) != 0x80)
                cp++;
        cps[refs[k].slot] = cp;
    }
    free(refs);
    return NAHR_OK;
}

static int write_key(nahr_buf *out, const char *k)
{
    int rc = put_char(out, ',');
    rc |= put_json_cstr(out, k);
    rc |= put_char(out, ':');
    return rc;
}

static int write_span(const nahr_doc *d, const nahr_span *s, size_t cs, size_t ce, nahr_buf *out)
{
    int rc = put_str(out, "{\"type\":");
    rc |= put_json_cstr(out, s->type);
    rc |= put_str(out, ",\"text\":");
    rc |= nahr_buf_json_string(out, d->text + s->start, s->end - s->start);
    char num[64];
    size_t k = 0;
    memcpy(num, ",\"start\":", 9);
    k = 9 + format_uint(cs, num + 9);
    memcpy(num + k, ",\"end\":", 7);
    k += 7;
    k += format_uint(ce, num + k);
    rc |= nahr_buf_append(out, num, k);
    if (s->canonical) {
        rc |= put_str(out, ",\"canonical\":");
        rc |= nahr_buf_json_string(out, s->canonical, strlen(s->canonical));
    }
    const nahr_value *a = s->attrs && s->attrs->type == NAHR_V_OBJECT ? s->attrs : NULL;
    size_t na = a ? a->u.c.len : 0;
    if (s->score >= 0) {
        bool own = false; /* an attribute "score" (e.g. signed polarity) wins */
        for (size_t i = 0; i < na && !own; i++)
            own = strcmp(a->u.c.keys[i], "score") == 0;
        if (!own) {
            rc |= put_str(out, ",\"score\":");
            rc |= write_number(out, s->score);
        }
    }
    for (size_t i = 0; i < na; i++) {
        rc |= write_key(out, a->u.c.keys[i]);
        rc |= nahr_value_write_json(a->u.c.items[i], out);
    }
    rc |= put_char(out, '}');
    return rc;
}

int nahr_doc_write_json(const nahr_doc *d, nahr_buf *out)
{
    static const char *const names[META_COUNT] = {"id", "title", "url", "date", "source"};
    int rc = put_str(out, "{\"id\":");
    rc |= nahr_buf_json_string(out, d->meta[META_ID] ? d->meta[META_ID] : "",
                               d->meta[META_ID] ? strlen(d->meta[META_ID]) : 0);
    for (int i = 1; i < META_COUNT; i++)
        if (d->meta[i]) {
            rc |= write_key(out, names[i]);
            rc |= put_json_cstr(out, d->meta[i]);
        }
    rc |= write_key(out, "text");
    rc |= nahr_buf_json_string(out, d->text, d->text_len);

    if (d->nspans) {
        size_t *cps = malloc(d->nspans * 2 * sizeof *cps);
        if (!cps || spans_to_codepoints(d, cps) < 0) {
            free(cps);
            return NAHR_ENOMEM;
        }
        /* one array per layer, in order of first appearance. Spans of one layer
         * share one layer string (nahr_doc_add_span_in), so pointers compare;
         * there are few layers, so this is O(spans x layers). */
        const char *done[16];
        size_t ndone = 0;
        for (size_t i = 0; i < d->nspans; i++) {
            const char *layer = d->spans[i].layer;
            bool seen = false;
            for (size_t k = 0; k < ndone && !seen; k++)
                seen = done[k] == layer || strcmp(done[k], layer) == 0;
            if (seen)
                continue;
            if (ndone < sizeof done / sizeof *done)
                done[ndone++] = layer;
            else /* more than 16 layers: fall back to looking back over the spans */
                for (size_t j = 0; j < i && !seen; j++)
                    seen = strcmp(d->spans[j].layer, layer) == 0;
            if (seen)
                continue;
            rc |= write_key(out, layer);
            rc |= put_char(out, '[');
            bool first = true;
            for (size_t j = i; j < d->nspans; j++) {
                if (d->spans[j].layer != layer && strcmp(d->spans[j].layer, layer) != 0)
                    continue;
                if (!first)
                    rc |= put_char(out, ',');
                first = false;
                rc |= write_span(d, &d->spans[j], cps[2 * j], cps[2 * j + 1], out);
            }
            rc |= put_char(out, ']');
        }
        free(cps);
    }
    for (size_t i = 0; i < d->nfields; i++) {
        rc |= write_key(out, d->fields[i].key);
        rc |= nahr_value_write_json(d->fields[i].value, out);
    }
    rc |= put_char(out, '}');
    return rc ? NAHR_ENOMEM : NAHR_OK;
}

static bool has_nonspace(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t' && s[i] != '\f' && s[i] != '\v')
            return true;
    return false;
}

int nahr__doc_prepare(nahr_doc *d, bool utf8_repair, const char *encoding)
{
    d->prepared = true;
    if (d->status == DOC_FAILED)
        return NAHR_EFORMAT;
    const char *src = d->raw.data ? d->raw.data : "";
    size_t len = d->raw.len;
    nahr_buf fixed = {0};
    nahr_buf converted = {0};
    char declared[64];
    const char *why = "the input's encoding";
    if (encoding && strcasecmp(encoding, "auto") == 0) { /* UTF-8, else a legacy Arabic encoding */
        encoding = nahr_utf8_check(src, len) == len ? NULL : nahr__guess_arabic_encoding(src, len);
        why = "encoding = auto";
    }
    /* an HTML page that is not valid UTF-8 and declares another charset
     * (older Arabic sites: windows-1256) is read in that charset */
    if (!encoding && d->kind == RAW_HTML && nahr_utf8_check(src, len) != len &&
        nahr__html_charset(src, len, declared, sizeof declared) && nahr__encoding_kind(declared) == 0)
        encoding = declared, why = "the charset the page declares";
    /* a whole file with a UTF-16 byte-order mark (Windows editors' "Unicode") */
    if (!encoding && d->kind != RAW_JSONL && len >= 2 &&
        ((src[0] == '\xFF' && src[1] == '\xFE') || (src[0] == '\xFE' && src[1] == '\xFF')))
        encoding = "UTF-16", why = "the file starts with a UTF-16 byte-order mark"; /* iconv drops the mark */
    if (encoding) {
        size_t at = 0;
        int crc = nahr__to_utf8(encoding, src, len, &converted, &at);
        if (crc != NAHR_OK) {
            nahr_buf_free(&converted);
            if (crc == NAHR_EFORMAT)
                nahr__doc_set_failed(d, "reader", "not valid %s at byte %zu (%s)", encoding, at, why);
            else
                nahr__doc_set_failed(d, "reader", "cannot convert from %s", encoding);
            return crc;
        }
        src = converted.data ? converted.data : "";
        len = converted.len;
    }
    size_t bad = nahr_utf8_check(src, len);
    if (bad != len) {
        size_t nbad = 0;
        int frc = NAHR_OK;
        if (!utf8_repair) {
            nahr__doc_set_failed(d, "reader", "invalid UTF-8 at byte %zu (utf8 = \"reject\")", bad);
            frc = NAHR_EFORMAT;
        } else if (nahr_utf8_repair(src, len, &fixed, &nbad) < 0) {
            nahr__doc_set_failed(d, "reader", "out of memory");
            frc = NAHR_ENOMEM;
        } else if (nbad * 20 > len) { /* more than 1 bad sequence in 20 bytes: binary data, not text */
            nahr__doc_set_failed(d, "reader", "not text: %zu invalid UTF-8 sequences in %zu bytes", nbad, len);
            frc = NAHR_EFORMAT;
        }
        if (frc != NAHR_OK) {
            nahr_buf_free(&fixed);
            nahr_buf_free(&converted);
            return frc;
        }
        nahr_log(NAHR_LOG_WARN, "%s: replaced %zu invalid UTF-8 sequence(s) with U+FFFD (first at byte %zu)",
                 d->origin ? d->origin : "input", nbad, bad);
        src = fixed.data;
        len = fixed.len;
    }
    int rc = NAHR_OK;
    /* a UTF-8 byte-order mark (files saved by Windows tools) is no text */
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
        src += 3;
        len -= 3;
    }
    if (d->kind == RAW_JSONL) {
        rc = nahr__parse_record(d, src, len);
        /* a record without an id (or with an empty one) is named after where
         * it came from ("in.jsonl:7", "<stdin>:3", "nats:STREAM:SEQ"), never
         * "": exporters keyed by id (SQLite, PostgreSQL) would let such
         * articles overwrite one another */
        if (rc == NAHR_OK && (!d->meta[META_ID] || !d->meta[META_ID][0]) && d->origin) {
            d->meta[META_ID] = nahr_doc_strndup(d, d->origin, strlen(d->origin));
            if (!d->meta[META_ID]) {
                nahr__doc_set_failed(d, "reader", "out of memory");
                rc = NAHR_ENOMEM;
            }
        }
    } else {
        /* .txt / .html: the whole file is the text */
        d->text = nahr_doc_strndup(d, src, len);
        d->text_len = len;
        d->meta[META_ID] = nahr_doc_strndup(d, d->id_hint, strlen(d->id_hint));
        if (!d->text || !d->meta[META_ID]) {
            nahr__doc_set_failed(d, "reader", "out of memory");
            rc = NAHR_ENOMEM;
        } else if (d->kind == RAW_HTML) {
            nahr_doc_set_field(d, "content_type", nahr_value_cstr(d, "text/html"));
        }
    }
    nahr_buf_free(&fixed);
    nahr_buf_free(&converted);
    if (rc == NAHR_OK && !has_nonspace(d->text, d->text_len)) {
        nahr__doc_set_failed(d, "reader", "empty article (no text)");
        rc = NAHR_EFORMAT;
    }
    return rc;
}

/* Appends the standard base64 (RFC 4648, padded) of p[0..n) to out. */
static int put_base64(nahr_buf *out, const unsigned char *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (nahr_buf_reserve(out, (n + 2) / 3 * 4) < 0)
        return NAHR_ENOMEM;
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = abc[v >> 18];
        q[1] = abc[(v >> 12) & 63];
        q[2] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? abc[v & 63] : '=';
        if (nahr_buf_append(out, q, 4) < 0)
            return NAHR_ENOMEM;
    }
    return NAHR_OK;
}

int nahr__doc_write_dead_letter(const nahr_doc *d, nahr_buf *out)
{
    int rc = put_str(out, "{\"origin\":");
    rc |= nahr_buf_json_string(out, d->origin, strlen(d->origin));
    rc |= nahr_buf_printf(out, ",\"seq\":%llu", (unsigned long long)d->seq);
    const char *id = d->meta[META_ID] ? d->meta[META_ID] : (d->id_hint[0] ? d->id_hint : NULL);
    if (id) {
        rc |= put_str(out, ",\"id\":");
        rc |= nahr_buf_json_string(out, id, strlen(id));
    }
    const char *stage = d->fail_stage ? d->fail_stage : "unknown";
    const char *reason = d->fail_reason ? d->fail_reason : "unknown";
    rc |= put_str(out, ",\"stage\":");
    rc |= nahr_buf_json_string(out, stage, strlen(stage));
    rc |= put_str(out, ",\"reason\":");
    rc |= nahr_buf_json_string(out, reason, strlen(reason));
    rc |= put_str(out, ",\"input\":");
    /* the input as read, made valid UTF-8 so the record is valid JSON; when
     * that replaced anything (binary data, another encoding such as
     * Windows-1256), the exact bytes too, in base64, so nothing is lost */
    nahr_buf fixed = {0};
    size_t nbad = 0;
    rc |= nahr_utf8_repair(d->raw.data ? d->raw.data : "", d->raw.len, &fixed, &nbad);
    rc |= nahr_buf_json_string(out, fixed.data ? fixed.data : "", fixed.len);
    nahr_buf_free(&fixed);
    if (nbad) {
        rc |= put_str(out, ",\"input_base64\":\"");
        rc |= put_base64(out, (const unsigned char *)d->raw.data, d->raw.len);
        rc |= put_char(out, '"');
    }
    if (d->raw_truncated)
        rc |= nahr_buf_printf(out, ",\"input_truncated\":true,\"input_bytes\":%zu", d->raw_total);
    rc |= put_str(out, "}\n");
    return rc ? NAHR_ENOMEM : NAHR_OK;
}
