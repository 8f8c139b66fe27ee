/* fuzz_export.c - libFuzzer harness for the export plugin's file writers
 * (plugins/export: jsonl.c plain, gzip and zstd; csv.c with and without the
 * mentions file, byte-order mark, field columns) and the record helpers
 * they share (record.c), driven as test_export.c drives them: open, write
 * (or make_record + write_record), sync, flush, close. Build and run:
 * README.md here.
 *
 * The input builds 1-4 documents through the document API: text of any
 * bytes made valid UTF-8 (NUL, controls, quotes, commas, CR and LF
 * included: set_text refuses anything else), metadata, fields of every
 * value kind (doubles from raw bits: NaN, infinities, -0), spans in
 * several layers at any character boundary (empty, overlapping, out of
 * order) with canonical forms, scores and attributes. Strings the model
 * stores unchecked (field values, canonical, span types, keys) are made
 * valid UTF-8 too: the JSON writer copies their bytes as they are (see
 * README.md). Properties, after the sink is closed:
 *  - JSONL (decompressed): one line per document; each line parses as JSON
 *    (jansson, duplicate keys refused) into an object whose text, id and
 *    fields are the document's, with one array per span layer holding its
 *    spans' texts and code-point offsets;
 *  - CSV: both files parse under RFC 4180 (quoted fields with doubled
 *    quotes, CRLF records, no bare quote, CR or LF); every record has the
 *    header's number of fields; one article record per document with its
 *    id, text and mention count; one mention record per span of the layer
 *    with its text and code-point offsets; the byte-order mark exactly when
 *    asked for. */
#include "../fuzz_common.h"
#include "sink.h"

#include <jansson.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* ---- reading the input ---- */

static unsigned take16(rd *r) { return take8(r) | take8(r) << 8; }

static uint64_t take64(rd *r)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)take8(r) << (8 * i);
    return x;
}

/* Up to max bytes of the input made valid UTF-8 (NUL kept only if nul_ok),
 * as a NUL-terminated copy in the doc's arena; *len gets its length. */
static char *take_str(rd *r, nahr_doc *d, size_t max, bool nul_ok, size_t *len)
{
    size_t want = max > 255 ? take16(r) % (max + 1) : take8(r) % (max + 1);
    if (want > r->n)
        want = r->n;
    nahr_buf fixed = {0};
    size_t nbad = 0;
    if (nahr_utf8_repair((const char *)r->p, want, &fixed, &nbad) < 0)
        abort();
    r->p += want;
    r->n -= want;
    if (!nul_ok)
        for (size_t i = 0; i < fixed.len; i++)
            if (!fixed.data[i])
                fixed.data[i] = ' ';
    char *s = nahr_doc_strndup(d, fixed.data ? fixed.data : "", fixed.len);
    if (!s)
        abort();
    if (len)
        *len = fixed.len;
    nahr_buf_free(&fixed);
    return s;
}

static nahr_value *take_value(rd *r, nahr_doc *d, int depth)
{
    unsigned k = take8(r) % (depth < 3 ? 7 : 5);
    nahr_value *v = NULL;
    switch (k) {
    case 0: v = nahr_value_null(d); break;
    case 1: v = nahr_value_bool(d, take8(r) & 1); break;
    case 2: v = nahr_value_int(d, (int64_t)take64(r)); break;
    case 3: {
        uint64_t bits = take64(r);
        double x;
        memcpy(&x, &bits, sizeof x);
        v = nahr_value_double(d, x);
        break;
    }
    case 4: {
        size_t n;
        const char *s = take_str(r, d, 40, true, &n);
        v = nahr_value_string(d, s, n);
        break;
    }
    case 5:
        v = nahr_value_array(d);
        for (unsigned i = take8(r) % 4; v && i > 0; i--)
            if (nahr_value_push(d, v, take_value(r, d, depth + 1)) < 0)
                abort();
        break;
    default:
        v = nahr_value_object(d);
        for (unsigned i = take8(r) % 4; v && i > 0; i--) {
            const char *key = take_str(r, d, 12, false, NULL);
            if (nahr_value_put(d, v, key, take_value(r, d, depth + 1)) < 0)
                abort();
        }
        break;
    }
    if (!v)
        abort();
    return v;
}

static const char *const layers[] = {"entities", "entities", "sentences", "quotes"};
static const char *const types[] = {"PER", "LOC", "ORG", "MISC", "DATE"};

static nahr_doc *take_doc(rd *r, uint64_t seq)
{
    nahr_doc *d = nahr_doc_new();
    if (!d)
        abort();
    d->seq = seq;
    size_t tl;
    const char *text = take_str(r, d, 700, true, &tl);
    FUZZ_CHECK(nahr_doc_set_text(d, text, tl) == NAHR_OK, "set_text refused valid UTF-8");
    static const char *const meta[] = {"id", "title", "url", "date", "source"};
    unsigned mflags = take8(r);
    for (int i = 0; i < 5; i++)
        if (mflags & (1u << i))
            FUZZ_CHECK(nahr_doc_set(d, meta[i], take_str(r, d, 30, false, NULL)) == NAHR_OK, "set %s", meta[i]);
    for (unsigned nf = take8(r) % 4; nf > 0; nf--) {
        unsigned kk = take8(r);
        const char *key = kk < 64 ? "sentiment" : kk < 96 ? "f" : take_str(r, d, 12, false, NULL);
        nahr_value *v = take_value(r, d, 0);
        nahr_doc_set_field(d, key, v); /* reserved and empty keys refused: fine */
    }
    for (unsigned ns = take8(r) % 9; ns > 0; ns--) {
        unsigned b = take8(r);
        const char *layer = layers[b & 3];
        const char *type = b & 4 ? take_str(r, d, 10, false, NULL) : types[(b >> 3) % 5];
        size_t s = tl ? take16(r) % (tl + 1) : 0, e = tl ? take16(r) % (tl + 1) : 0;
        if (s > e) {
            size_t t = s;
            s = e;
            e = t;
        }
        while (s > 0 && ((unsigned char)text[s] & 0xC0) == 0x80)
            s--;
        while (e < tl && ((unsigned char)text[e] & 0xC0) == 0x80)
            e++;
        int k = nahr_doc_add_span_in(d, layer, type, s, e);
        if (k < 0)
            continue; /* a layer named like a field */
        unsigned a = take8(r);
        if (a & 1)
            FUZZ_CHECK(nahr_span_set_canonical(d, (size_t)k, take_str(r, d, 20, false, NULL)) == NAHR_OK, "canon");
        if (a & 2) {
            uint64_t bits = take64(r);
            memcpy(&nahr_doc_span(d, (size_t)k)->score, &bits, sizeof(double));
        }
        if (a & 4)
            nahr_span_set_attr(d, (size_t)k, "sentiment", take_value(r, d, 1));
        if (a & 8) {
            nahr_value *o = nahr_value_object(d);
            nahr_value_put(d, o, "label", nahr_value_cstr(d, a & 16 ? "positive" : "negative"));
            nahr_value_put(d, o, "score", take_value(r, d, 2));
            nahr_span_set_attr(d, (size_t)k, "sentiment", o);
        }
        if (a & 32)
            nahr_span_set_attr(d, (size_t)k, a & 64 ? "score" : take_str(r, d, 12, false, NULL), take_value(r, d, 1));
    }
    return d;
}

/* ---- helpers for the checks ---- */
static char g_dir[256];

static void slurp(const char *path, nahr_buf *out)
{
    FILE *f = fopen(path, "rb");
    FUZZ_CHECK(f != NULL, "output file %s missing", path);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (nahr_buf_append(out, chunk, n) < 0)
            abort();
    fclose(f);
}

static size_t cp_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* The spans of one layer, in the document's order. */
static size_t layer_spans(nahr_doc *d, const char *layer, const nahr_span **out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < nahr_doc_span_count(d); i++) {
        const nahr_span *s = nahr_doc_span(d, i);
        if (strcmp(s->layer, layer) == 0 && k < max)
            out[k++] = s;
    }
    return k;
}

/* ---- JSONL ---- */
static void decompress(const char *path, int comp, nahr_buf *out)
{
    if (comp == 2) { /* zstd: every frame */
        nahr_buf raw = {0};
        slurp(path, &raw);
        ZSTD_DCtx *z = ZSTD_createDCtx();
        ZSTD_inBuffer in = {raw.data, raw.len, 0};
        char chunk[65536];
        size_t rc = 0;
        while (in.pos < in.size) {
            ZSTD_outBuffer o = {chunk, sizeof chunk, 0};
            rc = ZSTD_decompressStream(z, &o, &in);
            FUZZ_CHECK(!ZSTD_isError(rc), "zstd output does not decode: %s", ZSTD_getErrorName(rc));
            if (nahr_buf_append(out, chunk, o.pos) < 0)
                abort();
            if (o.pos == 0 && rc != 0 && in.pos == in.size)
                break;
        }
        FUZZ_CHECK(rc == 0, "zstd output ends inside a frame");
        ZSTD_freeDCtx(z);
        nahr_buf_free(&raw);
        return;
    }
    gzFile g = gzopen(path, "rb"); /* gzip, every member (plain files pass through) */
    FUZZ_CHECK(g != NULL, "cannot open %s", path);
    char chunk[65536];
    int n;
    while ((n = gzread(g, chunk, sizeof chunk)) > 0)
        if (nahr_buf_append(out, chunk, (size_t)n) < 0)
            abort();
    int zerr;
    gzerror(g, &zerr);
    FUZZ_CHECK(n == 0 && (zerr == Z_OK || zerr == Z_BUF_ERROR), "gzip output does not decode");
    gzclose(g);
}

static void check_json_string(json_t *j, const char *s, size_t n, const char *what)
{
    FUZZ_CHECK(json_is_string(j), "%s is not a string", what);
    FUZZ_CHECK(json_string_length(j) == n && memcmp(json_string_value(j), s, n) == 0, "%s differs", what);
}

static void check_jsonl_line(const char *line, size_t len, nahr_doc *d)
{
    json_error_t e;
    json_t *o = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &e);
    FUZZ_CHECK(o != NULL, "JSONL line does not parse: %s (col %d): %.*s", e.text, e.column, (int)len, line);
    FUZZ_CHECK(json_is_object(o), "JSONL line is not an object");
    size_t tl;
    const char *text = nahr_doc_text(d, &tl);
    check_json_string(json_object_get(o, "text"), text, tl, "text");
    const char *id = nahr_doc_get(d, "id");
    check_json_string(json_object_get(o, "id"), id ? id : "", id ? strlen(id) : 0, "id");
    static const char *const meta[] = {"title", "url", "date", "source"};
    for (int i = 0; i < 4; i++) {
        const char *m = nahr_doc_get(d, meta[i]);
        if (m)
            check_json_string(json_object_get(o, meta[i]), m, strlen(m), meta[i]);
        else
            FUZZ_CHECK(!json_object_get(o, meta[i]), "%s made up", meta[i]);
    }
    for (size_t i = 0; i < nahr_doc_field_count(d); i++) {
        const char *key;
        nahr_doc_field_at(d, i, &key);
        FUZZ_CHECK(json_object_get(o, key) != NULL, "field '%s' lost", key);
    }
    /* every layer: its spans, in order */
    size_t nsp = nahr_doc_span_count(d), nkeys = 2 + nahr_doc_field_count(d);
    for (int i = 0; i < 4; i++)
        nkeys += nahr_doc_get(d, meta[i]) != NULL;
    const nahr_span *ls[64];
    for (size_t i = 0; i < nsp; i++) {
        const char *layer = nahr_doc_span(d, i)->layer;
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(nahr_doc_span(d, j)->layer, layer) != 0;
        if (!first)
            continue;
        nkeys++;
        size_t n = layer_spans(d, layer, ls, 64);
        json_t *arr = json_object_get(o, layer);
        FUZZ_CHECK(json_is_array(arr) && json_array_size(arr) == n, "layer %s: %zu spans expected", layer, n);
        for (size_t k = 0; k < n; k++) {
            json_t *js = json_array_get(arr, k);
            FUZZ_CHECK(json_is_object(js), "span not an object");
            check_json_string(json_object_get(js, "type"), ls[k]->type, strlen(ls[k]->type), "span type");
            check_json_string(json_object_get(js, "text"), text + ls[k]->start, ls[k]->end - ls[k]->start,
                              "span text");
            json_t *st = json_object_get(js, "start"), *en = json_object_get(js, "end");
            FUZZ_CHECK(json_is_integer(st) && json_is_integer(en), "span offsets not integers");
            FUZZ_CHECK((size_t)json_integer_value(st) == cp_count(text, ls[k]->start) &&
                           (size_t)json_integer_value(en) == cp_count(text, ls[k]->end),
                       "span code-point offsets");
            if (ls[k]->canonical)
                check_json_string(json_object_get(js, "canonical"), ls[k]->canonical, strlen(ls[k]->canonical),
                                  "canonical");
        }
    }
    FUZZ_CHECK(json_object_size(o) == nkeys, "JSONL object has %zu keys, %zu expected", json_object_size(o), nkeys);
    json_decref(o);
}

/* ---- CSV (RFC 4180) ---- */
typedef struct csv_rec {
    nahr_buf f[80];
    size_t n;
} csv_rec;

/* Parses the record at s[*i..n) into rec; aborts on anything RFC 4180
 * does not allow. */
static void csv_parse_record(const char *s, size_t n, size_t *i, csv_rec *rec)
{
    for (size_t k = 0; k < rec->n; k++)
        nahr_buf_reset(&rec->f[k]);
    rec->n = 0;
    for (;;) {
        FUZZ_CHECK(rec->n < 80, "CSV record with more than 80 fields");
        nahr_buf *f = &rec->f[rec->n++];
        nahr_buf_reset(f);
        if (nahr_buf_append(f, "", 0) < 0)
            abort();
        if (*i < n && s[*i] == '"') {
            (*i)++;
            for (;;) {
                FUZZ_CHECK(*i < n, "CSV quoted field not closed");
                if (s[*i] == '"') {
                    if (*i + 1 < n && s[*i + 1] == '"') {
                        nahr_buf_putc(f, '"');
                        *i += 2;
                        continue;
                    }
                    (*i)++;
                    break;
                }
                nahr_buf_putc(f, s[(*i)++]);
            }
        } else {
            while (*i < n && s[*i] != ',' && s[*i] != '\r') {
                FUZZ_CHECK(s[*i] != '"' && s[*i] != '\n', "CSV: bare quote or LF in an unquoted field");
                nahr_buf_putc(f, s[(*i)++]);
            }
        }
        FUZZ_CHECK(*i < n, "CSV record without its CRLF");
        if (s[*i] == ',') {
            (*i)++;
            continue;
        }
        FUZZ_CHECK(*i + 1 < n && s[*i] == '\r' && s[*i + 1] == '\n', "CSV: field not followed by , or CRLF");
        *i += 2;
        return;
    }
}

static bool field_is(const nahr_buf *f, const char *s, size_t n)
{
    return f->len == n && (n == 0 || memcmp(f->data, s, n) == 0);
}

static void check_csv(const export_config *cfg, bool mentions, nahr_doc **docs, size_t nd)
{
    char p[512];
    nahr_buf a = {0};
    snprintf(p, sizeof p, "%s/out.csv", g_dir);
    slurp(p, &a);
    size_t i = 0;
    if (cfg->bom) {
        FUZZ_CHECK(a.len >= 3 && memcmp(a.data, "\xEF\xBB\xBF", 3) == 0, "CSV without its byte-order mark");
        i = 3;
    }
    csv_rec *rec = calloc(1, sizeof *rec);
    csv_parse_record(a.data, a.len, &i, rec);
    size_t ncols = rec->n;
    FUZZ_CHECK(ncols == 7 + cfg->ncsv_fields, "CSV header: %zu columns", ncols);
    for (size_t k = 0; k < nd; k++) {
        FUZZ_CHECK(i < a.len, "CSV: %zu article records for %zu documents", k, nd);
        csv_parse_record(a.data, a.len, &i, rec);
        FUZZ_CHECK(rec->n == ncols, "CSV article record %zu: %zu fields, the header has %zu", k, rec->n, ncols);
        size_t tl;
        const char *text = nahr_doc_text(docs[k], &tl);
        FUZZ_CHECK(field_is(&rec->f[5], text, tl), "CSV article %zu: text differs", k);
        const char *id = nahr_doc_get(docs[k], "id");
        if (id && *id)
            FUZZ_CHECK(field_is(&rec->f[0], id, strlen(id)), "CSV article %zu: id differs", k);
        const nahr_span *ls[64];
        char num[32];
        snprintf(num, sizeof num, "%zu", layer_spans(docs[k], cfg->layer, ls, 64));
        FUZZ_CHECK(field_is(&rec->f[6], num, strlen(num)), "CSV article %zu: mention count", k);
    }
    FUZZ_CHECK(i == a.len, "CSV: bytes after the last article record");
    if (mentions) {
        nahr_buf m = {0};
        snprintf(p, sizeof p, "%s/out.mentions.csv", g_dir);
        slurp(p, &m);
        i = cfg->bom ? 3 : 0;
        FUZZ_CHECK(!cfg->bom || (m.len >= 3 && memcmp(m.data, "\xEF\xBB\xBF", 3) == 0), "mentions without BOM");
        csv_parse_record(m.data, m.len, &i, rec);
        FUZZ_CHECK(rec->n == 10, "mentions header: %zu columns", rec->n);
        for (size_t k = 0; k < nd; k++) {
            const nahr_span *ls[64];
            size_t n = layer_spans(docs[k], cfg->layer, ls, 64);
            size_t tl;
            const char *text = nahr_doc_text(docs[k], &tl);
            for (size_t j = 0; j < n; j++) {
                FUZZ_CHECK(i < m.len, "mentions: record missing (doc %zu, mention %zu)", k, j);
                csv_parse_record(m.data, m.len, &i, rec);
                FUZZ_CHECK(rec->n == 10, "mention record: %zu fields", rec->n);
                FUZZ_CHECK(field_is(&rec->f[2], text + ls[j]->start, ls[j]->end - ls[j]->start), "mention text");
                FUZZ_CHECK(field_is(&rec->f[1], ls[j]->type, strlen(ls[j]->type)), "mention type");
                char num[64];
                snprintf(num, sizeof num, "%zu", cp_count(text, ls[j]->start));
                FUZZ_CHECK(field_is(&rec->f[4], num, strlen(num)), "mention start");
                snprintf(num, sizeof num, "%zu", cp_count(text, ls[j]->end));
                FUZZ_CHECK(field_is(&rec->f[5], num, strlen(num)), "mention end");
            }
        }
        FUZZ_CHECK(i == m.len, "mentions: bytes after the last record");
        nahr_buf_free(&m);
    }
    for (size_t k = 0; k < 80; k++)
        nahr_buf_free(&rec->f[k]);
    free(rec);
    nahr_buf_free(&a);
}

/* ---- the run ---- */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(g_dir, sizeof g_dir, "%s/nahr_fuzz_export.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(g_dir))
            abort();
    }
    rd r = {data, size};
    unsigned b0 = take8(&r), b1 = take8(&r);
    bool csv = b0 & 1;
    int comp = (b0 >> 1) % 3; /* none, gzip, zstd */
    static const size_t batches[] = {0, 100, 65536, 1};
    char path[512], mpath[512];
    export_config cfg = {0};
    cfg.format = csv ? "csv" : "jsonl";
    cfg.batch_bytes = batches[(b0 >> 3) & 3];
    cfg.compress = comp == 0 ? "none" : comp == 1 ? "gzip" : "zstd";
    cfg.compress_level = (b0 >> 5) & 1 ? 0 : 1;
    cfg.layer = (b0 >> 6) & 1 ? "sentences" : "entities";
    cfg.bom = b1 & 1;
    bool mentions = !((b1 >> 1) & 1);
    snprintf(path, sizeof path, "%s/%s", g_dir, csv ? "out.csv" : "out.jsonl");
    snprintf(mpath, sizeof mpath, "%s/out.mentions.csv", g_dir);
    cfg.path = path;
    cfg.mentions_path = mentions ? NULL : "none";
    static const char *const fields[] = {"f", "sentiment", "sentiment.label", "sentiment.score", "f.a", "x"};
    cfg.ncsv_fields = (b1 >> 2) % 4;
    for (size_t i = 0; i < cfg.ncsv_fields; i++)
        cfg.csv_fields[i] = fields[(b1 >> (4 + i)) % 6];
    const export_sink_ops *ops = csv ? &export_csv_ops : &export_jsonl_ops;

    size_t nd = 1 + take8(&r) % 4;
    nahr_doc *docs[4];
    for (size_t i = 0; i < nd; i++)
        docs[i] = take_doc(&r, i);

    export_sink *s = NULL;
    char err[1024] = "";
    FUZZ_CHECK(ops->open(&cfg, &s, err, sizeof err) == NAHR_OK, "open: %s", err);
    unsigned how = take8(&r);
    for (size_t i = 0; i < nd; i++) {
        if (ops->make_record && (how >> i) & 1) {
            nahr_buf rec = {0};
            FUZZ_CHECK(ops->make_record(s, docs[i], &rec) == NAHR_OK, "make_record");
            FUZZ_CHECK(ops->write_record(s, rec.data, rec.len) == NAHR_OK, "write_record: %s", s->err);
            nahr_buf_free(&rec);
        } else {
            FUZZ_CHECK(ops->write(s, docs[i]) == NAHR_OK, "write: %s", s->err);
        }
        if ((how >> (4 + i)) & 1)
            FUZZ_CHECK(ops->sync(s) == NAHR_OK, "sync: %s", s->err);
    }
    FUZZ_CHECK(ops->flush(s) == NAHR_OK, "flush: %s", s->err);
    ops->close(s);

    if (csv) {
        check_csv(&cfg, mentions, docs, nd);
    } else {
        nahr_buf out = {0};
        decompress(path, comp, &out);
        size_t at = 0;
        for (size_t i = 0; i < nd; i++) {
            FUZZ_CHECK(at < out.len, "JSONL: %zu lines for %zu documents", i, nd);
            const char *nl = memchr(out.data + at, '\n', out.len - at);
            FUZZ_CHECK(nl != NULL, "JSONL: last line without its newline");
            check_jsonl_line(out.data + at, (size_t)(nl - (out.data + at)), docs[i]);
            at = (size_t)(nl - out.data) + 1;
        }
        FUZZ_CHECK(at == out.len, "JSONL: more lines than documents");
        nahr_buf_free(&out);
    }
    unlink(path);
    unlink(mpath);
    for (size_t i = 0; i < nd; i++)
        nahr_doc_free(docs[i]);
    return 0;
}
