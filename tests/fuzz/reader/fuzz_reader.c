/* fuzz_reader.c - libFuzzer harness for the input side of the core: record
 * preparation (nahr__doc_prepare: encodings, UTF-8 check and repair,
 * byte-order marks), the JSONL record parser (jsonparse.c), the document
 * model (doc.c) and the JSON writer (json.c). Build and run: README.md here.
 *
 * The first input byte picks the kind of record (JSONL, .txt, .html), UTF-8
 * repair on/off and the encoding (UTF-8, auto, windows-1256), or (0x20) the
 * JSONL stream reader (reader.c) on the rest as a file, with a small
 * max_article_bytes (0x40); the rest is the record's bytes. Properties:
 *  - a record that prepares is written as JSON that is valid UTF-8 and is
 *    itself a record that prepares, into the same document: writing the
 *    second gives the same bytes (round trip);
 *  - a record that fails gives a dead-letter line that is valid JSON,
 *    keeps the input (made valid UTF-8) and, when that replaced anything,
 *    the exact bytes in base64 (nothing lost);
 *  - the stream reader makes one article of each line that is not blank
 *    (none lost, none made up), gives back every doc it does not submit,
 *    and keeps at most max_article_bytes of a line (more: a failed doc
 *    with a prefix); each article then goes through the checks above. */
#include "../fuzz_common.h"

#include <sys/mman.h>
#include <unistd.h>

static void set_raw(nahr_doc *d, raw_kind kind, const char *s, size_t n)
{
    d->kind = kind;
    d->origin = "fuzz:1";
    snprintf(d->id_hint, sizeof d->id_hint, "fuzzid");
    if (nahr_buf_append(&d->raw, s, n) < 0)
        abort();
    d->raw_total = n;
}

static void check_dead_letter(nahr_doc *d)
{
    nahr_buf dl = {0};
    FUZZ_CHECK(nahr__doc_write_dead_letter(d, &dl) == NAHR_OK, "dead-letter write failed");
    FUZZ_CHECK(dl.len && dl.data[dl.len - 1] == '\n', "dead-letter record without its newline");
    FUZZ_CHECK(nahr_utf8_check(dl.data, dl.len - 1) == dl.len - 1, "dead-letter record not valid UTF-8");
    nahr_doc *p = nahr_doc_new();
    char err[200];
    nahr_value *v = nahr__parse_json(p, dl.data, dl.len - 1, err, sizeof err);
    FUZZ_CHECK(v && nahr_value_kind(v) == NAHR_V_OBJECT, "dead-letter record is not a JSON object: %s", err);
    size_t il;
    const char *in = nahr_value_as_string(nahr_value_get(v, "input"), &il);
    FUZZ_CHECK(in != NULL, "dead-letter record without 'input'");
    nahr_buf fixed = {0};
    size_t nbad = 0;
    nahr_utf8_repair(d->raw.data ? d->raw.data : "", d->raw.len, &fixed, &nbad);
    FUZZ_CHECK(il == fixed.len && (il == 0 || memcmp(in, fixed.data, il) == 0), "dead-letter 'input' differs");
    FUZZ_CHECK(!nbad == !nahr_value_get(v, "input_base64"), "input_base64 present iff bytes were replaced");
    nahr_buf_free(&fixed);
    nahr_doc_free(p);
    nahr_buf_free(&dl);
}

/* Prepares d (raw set) and checks the properties above; frees d. */
static void check_record(nahr_doc *d, bool repair, const char *enc)
{
    int rc = nahr__doc_prepare(d, repair, enc);
    if (rc != NAHR_OK) {
        FUZZ_CHECK(d->status == DOC_FAILED && d->fail_reason, "prepare returned %d without failing the doc", rc);
        check_dead_letter(d);
        nahr_doc_free(d);
        return;
    }
    size_t tl;
    const char *text = nahr_doc_text(d, &tl);
    FUZZ_CHECK(text && nahr_utf8_check(text, tl) == tl, "prepared text is not valid UTF-8");
    FUZZ_CHECK(text[tl] == '\0', "prepared text not NUL-terminated");
    FUZZ_CHECK(nahr_doc_get(d, "id") && *nahr_doc_get(d, "id"), "prepared doc without an id");

    nahr_buf w1 = {0}, w2 = {0};
    FUZZ_CHECK(nahr_doc_write_json(d, &w1) == NAHR_OK, "write_json failed");
    FUZZ_CHECK(nahr_utf8_check(w1.data, w1.len) == w1.len, "written JSON not valid UTF-8");
    FUZZ_CHECK(memchr(w1.data, '\n', w1.len) == NULL, "written record holds a raw newline");

    nahr_doc *d2 = nahr_doc_new();
    set_raw(d2, RAW_JSONL, w1.data, w1.len);
    rc = nahr__doc_prepare(d2, false, NULL);
    FUZZ_CHECK(rc == NAHR_OK, "our own output does not read back: %s", d2->fail_reason ? d2->fail_reason : "?");
    size_t tl2;
    const char *text2 = nahr_doc_text(d2, &tl2);
    FUZZ_CHECK(tl2 == tl && memcmp(text, text2, tl) == 0, "text changed in the round trip");
    FUZZ_CHECK(nahr_doc_field_count(d2) == nahr_doc_field_count(d), "field count %zu -> %zu",
               nahr_doc_field_count(d), nahr_doc_field_count(d2));
    FUZZ_CHECK(nahr_doc_write_json(d2, &w2) == NAHR_OK, "write_json (2) failed");
    FUZZ_CHECK(w1.len == w2.len && memcmp(w1.data, w2.data, w1.len) == 0, "round trip differs:\n%.*s\n%.*s",
               (int)w1.len, w1.data, (int)w2.len, w2.data);

    /* the cached views of the document on the same text */
    size_t nl, ntok;
    const size_t *map;
    const char *norm = nahr_doc_normalized(d2, &nl, &map);
    FUZZ_CHECK(norm && nl <= tl && map[nl] == tl, "normalized view");
    const nahr_token *toks = nahr_doc_tokens(d2, 0, &ntok);
    FUZZ_CHECK(toks != NULL, "tokens");
    for (size_t i = 0; i < ntok; i++)
        FUZZ_CHECK(toks[i].start < toks[i].end && toks[i].end <= tl, "token %zu", i);
    /* a span over each token, then the writer again */
    for (size_t i = 0; i < ntok && i < 64; i++)
        FUZZ_CHECK(nahr_doc_add_span(d2, "T", toks[i].start, toks[i].end) >= 0, "add_span on token %zu", i);
    fuzz_check_spans(d2);
    fuzz_check_json(d2);

    nahr_buf_free(&w1);
    nahr_buf_free(&w2);
    nahr_doc_free(d2);
    nahr_doc_free(d);
}

/* ---- the JSONL stream reader (reader.c) over a memory file ---- */

/* Lines that are records: not empty, not only spaces and tabs (and a final
 * '\r'), the last one with or without its newline; and any line longer
 * than max_bytes (refused whole, never skipped). */
static size_t count_records(const char *s, size_t n, size_t max_bytes)
{
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n, len = e - i;
        if (len && s[i + len - 1] == '\r')
            len--;
        bool blank = true;
        for (size_t k = 0; k < len && blank; k++)
            blank = s[i + k] == ' ' || s[i + k] == '\t';
        count += !blank || e - i > max_bytes;
        i = e + 1;
    }
    return count;
}

static void check_stream(const char *s, size_t n, size_t max_bytes, bool repair, const char *enc)
{
    int fd = memfd_create("fuzz_reader", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "memfd_create");
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, s + off, n - off);
        FUZZ_CHECK(w > 0, "write to memfd");
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    static volatile int no_stop;
    collect c = {0};
    reader_sink sink = {.acquire = c_acquire, .submit = c_submit, .release = c_release, .ctx = &c,
                        .max_bytes = max_bytes, .stop = &no_stop};
    int rc = nahr__read_jsonl_fd(fd, "fuzz.jsonl", &sink);
    close(fd);
    bool utf16 = n >= 2 && (((unsigned char)s[0] == 0xFF && (unsigned char)s[1] == 0xFE) ||
                            ((unsigned char)s[0] == 0xFE && (unsigned char)s[1] == 0xFF));
    FUZZ_CHECK(rc == NAHR_OK || utf16, "read_jsonl_fd returned %d", rc);
    FUZZ_CHECK(c.acquired == c.n + c.released, "%zu docs acquired, %zu submitted, %zu given back", c.acquired,
               c.n, c.released);
    if (!utf16) /* every record line is one article: none lost, none made up */
        FUZZ_CHECK(c.n == count_records(s, n, max_bytes), "%zu records read from %zu lines", c.n, count_records(s, n, max_bytes));
    for (size_t i = 0; i < c.n; i++) {
        nahr_doc *d = c.docs[i];
        FUZZ_CHECK(d->raw_truncated ? d->status == DOC_FAILED && d->raw.len <= d->raw_total
                                    : d->raw.len <= max_bytes, "record %zu: %zu bytes kept of %zu", i, d->raw.len,
                   d->raw_total);
        check_record(d, repair, enc); /* frees d */
    }
    free(c.docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const raw_kind kinds[4] = {RAW_JSONL, RAW_JSONL, RAW_TEXT, RAW_HTML};
    static const char *const encs[4] = {NULL, NULL, "auto", "WINDOWS-1256"};
    if (size == 0)
        return 0;
    nahr_log_set_level(-1); /* quiet: a warning or an error per input is expected here */
    unsigned sel = data[0];
    const char *rec = (const char *)data + 1;
    size_t n = size - 1;
    bool repair = !(sel & 4);
    const char *enc = encs[(sel >> 3) & 3];
    if (sel & 0x20) { /* the whole input as a JSONL stream; a small max_article_bytes with 0x40 */
        check_stream(rec, n, sel & 0x40 ? 64 + (sel & 0x80) : 1u << 20, repair, enc);
        return 0;
    }
    nahr_doc *d = nahr_doc_new();
    set_raw(d, kinds[sel & 3], rec, n);
    check_record(d, repair, enc);
    return 0;
}
