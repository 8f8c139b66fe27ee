/* fuzz_streams.c - libFuzzer harness for the reader's input streams
 * (core/src/reader.c: .jsonl.gz through zlib, .jsonl.zst through zstd,
 * UTF-16 files with a byte-order mark through iconv): the input's JSONL
 * text is encoded by the harness (gzip members or zstd frames of a chosen
 * size, zstd checksums on or off, UTF-16 LE or BE), written to a file,
 * damaged, and read with nahr__read_path. Build and run: README.md here.
 *
 * Byte 0: stream kind (gzip, zstd, UTF-16), damage (none, cut, a flipped
 * byte, garbage appended), checksum, UTF-16 byte order; bytes 1-2: where
 * the damage goes; byte 3: frame size (1-255 bytes of text per gzip member
 * or zstd frame; 0 = one). The rest is the text (made valid UTF-8 for
 * UTF-16). Properties (the "records" of a text are its lines that are not
 * empty or blanks, without their "\n" and one final "\r"):
 *  - every doc acquired is submitted or given back (none lost);
 *  - no damage: the records of the text, exactly, and NAHR_OK;
 *  - cut at a frame, member or character boundary: the records of what
 *    the complete frames hold (the last, cut line included), NAHR_OK;
 *  - cut elsewhere: NAHR_EIO; every doc but the last is a record of the
 *    text, in order, at least every record the complete frames hold; the
 *    last doc is failed with "read error" (the damage reported, the cut
 *    record dead-lettered);
 *  - garbage appended: every newline-ended record of the text first,
 *    exactly; then NAHR_OK (zlib ignores data after a gzip member) or
 *    NAHR_EIO with the last doc failed;
 *  - a flipped byte: NAHR_OK, or NAHR_EIO with the last doc failed. */
#include "../fuzz_common.h"

#include <iconv.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>


/* ---- the records of a text ---- */
typedef struct rec {
    size_t off, len;
    bool newline; /* ended by '\n' (not by the end of the text) */
} rec;

static size_t records_of(const char *s, size_t n, rec *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - s) : n, len = e - i;
        if (len && s[i + len - 1] == '\r')
            len--;
        bool blank = true; /* empty, or spaces and tabs only: skipped */
        for (size_t j = 0; j < len && blank; j++)
            blank = s[i + j] == ' ' || s[i + j] == '\t';
        if (!blank && k < max)
            out[k++] = (rec){i, len, nl != NULL};
        i = e + 1;
    }
    return k;
}

static bool doc_is(nahr_doc *d, const char *s, const rec *r)
{
    return d->status != DOC_FAILED && d->raw.len == r->len && (r->len == 0 || memcmp(d->raw.data, s + r->off, r->len) == 0);
}

/* ---- encoders ---- */
/* Appends the gzip member of p[0..n) to out. */
static void gzip_member(const char *p, size_t n, nahr_buf *out)
{
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t bound = deflateBound(&z, n) + 32;
    if (nahr_buf_reserve(out, bound) < 0)
        abort();
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

static void zstd_frame(const char *p, size_t n, bool checksum, nahr_buf *out)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
    size_t bound = ZSTD_compressBound(n);
    if (!c || nahr_buf_reserve(out, bound) < 0)
        abort();
    size_t r = ZSTD_compress2(c, out->data + out->len, bound, p, n);
    if (ZSTD_isError(r))
        abort();
    out->len += r;
    ZSTD_freeCCtx(c);
}

static char g_dir[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    if (!g_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(g_dir, sizeof g_dir, "%s/nahr_fuzz_streams.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(g_dir))
            abort();
        nahr_log_set_level(-1); /* the read errors are the point: checked below, not logged */
    }
    unsigned kind = data[0] % 3, damage = (data[0] >> 2) % 4;
    bool checksum = (data[0] >> 4) & 1, be = (data[0] >> 5) & 1;
    size_t where = data[1] | (size_t)data[2] << 8, fsize = data[3];
    nahr_buf text = {0}, enc = {0};
    /* frame ends: compressed offset, text offset (kind 0/1); for UTF-16, every character */
    size_t nb = 0, *cend = NULL, *tend = NULL;
    if (kind == 2) {
        size_t bad;
        if (nahr_utf8_repair((const char *)data + 4, size - 4, &text, &bad) < 0)
            abort();
        iconv_t cv = iconv_open(be ? "UTF-16BE" : "UTF-16LE", "UTF-8");
        if (cv == (iconv_t)-1)
            abort();
        nahr_buf_append(&enc, be ? "\xFE\xFF" : "\xFF\xFE", 2);
        cend = malloc((text.len + 1) * sizeof *cend);
        tend = malloc((text.len + 1) * sizeof *tend);
        cend[nb] = 2, tend[nb++] = 0;
        for (size_t i = 0; i < text.len;) { /* one character at a time: its end in both */
            size_t k = 1;
            while (i + k < text.len && ((unsigned char)text.data[i + k] & 0xC0) == 0x80)
                k++;
            char u[8], *in = text.data + i, *o = u;
            size_t il = k, ol = sizeof u;
            if (iconv(cv, &in, &il, &o, &ol) == (size_t)-1)
                abort();
            nahr_buf_append(&enc, u, sizeof u - ol);
            i += k;
            cend[nb] = enc.len, tend[nb++] = i;
        }
        iconv_close(cv);
    } else {
        nahr_buf_append(&text, (const char *)data + 4, size - 4);
        size_t step = fsize ? fsize : (text.len ? text.len : 1);
        cend = malloc((text.len / step + 2) * sizeof *cend);
        tend = malloc((text.len / step + 2) * sizeof *tend);
        cend[nb] = 0, tend[nb++] = 0;
        for (size_t i = 0; i < text.len || i == 0; i += step) {
            size_t k = text.len - i < step ? text.len - i : step;
            if (kind == 0)
                gzip_member(text.data ? text.data + i : "", k, &enc);
            else
                zstd_frame(text.data ? text.data + i : "", k, checksum, &enc);
            cend[nb] = enc.len, tend[nb++] = i + k;
            if (!text.len)
                break;
        }
    }
    const char *tx = text.data ? text.data : "";
    /* damage */
    size_t cut = enc.len;
    if (damage == 1) {
        cut = where % (enc.len + 1);
    } else if (damage == 2 && enc.len) {
        enc.data[where % enc.len] ^= (char)(fsize | 1);
    } else if (damage == 3) {
        nahr_buf_append(&enc, (const char *)data + 1, 3);
    }
    char path[320];
    snprintf(path, sizeof path, "%s/in.%s", g_dir, kind == 0 ? "jsonl.gz" : kind == 1 ? "jsonl.zst" : "jsonl");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(enc.data ? enc.data : "", 1, damage == 1 ? cut : enc.len, f) != (damage == 1 ? cut : enc.len) ||
        fclose(f) != 0)
        abort();

    collect c = {0};
    volatile int stop = 0;
    reader_sink s = {.acquire = c_acquire, .submit = c_submit, .release = c_release, .ctx = &c, .max_bytes = 1u << 20,
                     .stop = &stop};
    int rc = nahr__read_path(path, &s);
    unlink(path);

    FUZZ_CHECK(c.acquired == c.n + c.released, "%zu docs acquired, %zu submitted, %zu given back", c.acquired, c.n,
               c.released);
    rec *all = malloc((text.len + 1) * sizeof *all);
    size_t nall = records_of(tx, text.len, all, text.len + 1);
    nahr_doc *last = c.n ? c.docs[c.n - 1] : NULL;
    bool last_failed = last && last->status == DOC_FAILED && last->fail_reason && strstr(last->fail_reason, "read error");
    if (damage == 0) {
        FUZZ_CHECK(rc == NAHR_OK, "undamaged stream: rc %d", rc);
        FUZZ_CHECK(c.n == nall, "undamaged stream: %zu docs, %zu records", c.n, nall);
        for (size_t i = 0; i < nall; i++)
            FUZZ_CHECK(doc_is(c.docs[i], tx, &all[i]), "undamaged stream: doc %zu differs", i);
    } else if (damage == 1 && !(kind == 2 && cut < 2)) { /* (a cut byte-order mark is another file) */
        size_t k = 0; /* complete frames (characters) */
        while (k + 1 < nb && cend[k + 1] <= cut)
            k++;
        size_t ulen = tend[k];
        bool clean = cend[k] == cut;
        rec *pre = malloc((ulen + 1) * sizeof *pre);
        size_t npre = records_of(tx, ulen, pre, ulen + 1);
        if (clean) {
            FUZZ_CHECK(rc == NAHR_OK, "cut at a boundary (%zu of %zu): rc %d", cut, enc.len, rc);
            FUZZ_CHECK(c.n == npre, "cut at a boundary: %zu docs, %zu records", c.n, npre);
            for (size_t i = 0; i < npre; i++)
                FUZZ_CHECK(doc_is(c.docs[i], tx, &pre[i]), "cut at a boundary: doc %zu differs", i);
        } else {
            FUZZ_CHECK(rc == NAHR_EIO, "%s cut inside a frame (%zu of %zu bytes): rc %d, %zu docs", path, cut, enc.len, rc,
                       c.n);
            FUZZ_CHECK(last_failed, "cut inside a frame: the last doc is not a failed read");
            size_t whole = 0; /* records the complete frames hold, ended by their newline */
            while (whole < npre && pre[whole].newline)
                whole++;
            FUZZ_CHECK(c.n - 1 >= whole, "cut: %zu records before the damage, %zu read", whole, c.n - 1);
            for (size_t i = 0; i + 1 < c.n; i++)
                FUZZ_CHECK(i < nall && doc_is(c.docs[i], tx, &all[i]), "cut: doc %zu is not record %zu", i, i);
        }
        free(pre);
    } else if (damage == 3) {
        size_t whole = 0;
        while (whole < nall && all[whole].newline)
            whole++;
        FUZZ_CHECK(c.n >= whole, "garbage appended: %zu docs, %zu records before it", c.n, whole);
        for (size_t i = 0; i < whole; i++)
            FUZZ_CHECK(doc_is(c.docs[i], tx, &all[i]), "garbage appended: doc %zu differs", i);
        FUZZ_CHECK(rc == NAHR_OK || (rc == NAHR_EIO && last_failed), "garbage appended: rc %d", rc);
    } else {
        FUZZ_CHECK(rc == NAHR_OK || (rc == NAHR_EIO && last_failed), "damaged stream: rc %d", rc);
    }
    for (size_t i = 0; i < c.n; i++)
        nahr_doc_free(c.docs[i]);
    free(c.docs);
    free(all);
    free(cend);
    free(tend);
    nahr_buf_free(&text);
    nahr_buf_free(&enc);
    return 0;
}
