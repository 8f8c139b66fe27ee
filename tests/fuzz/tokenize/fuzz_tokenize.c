/* fuzz_tokenize.c - libFuzzer harness for the shared text functions of
 * core/include/nahr/text.h and token.h, on arbitrary bytes (the tokeniser,
 * the normaliser and the UTF-8 helpers accept invalid UTF-8 by contract;
 * the proclitic splitter gets the word tokens of valid UTF-8 only, as the
 * plugins call it). Build and run: README.md here. Properties:
 *  - nahr_utf8_check / _next / _count / _repair agree with one another;
 *  - tokens are non-empty, in bounds, in order, not overlapping, on
 *    character boundaries (valid UTF-8), with a known kind; a smaller token
 *    array gets the same first tokens and the same total;
 *  - nahr_ar_normalize: never longer, NUL-terminated, its map in bounds and
 *    non-decreasing with map[len] = n; valid UTF-8 stays valid and a second
 *    pass changes nothing;
 *  - proclitic splits: splits[0] = 0, increasing, inside the word, on
 *    character boundaries, at most max. */
#include "../fuzz_common.h"

static void check_utf8(const char *s, size_t n, bool *valid)
{
    size_t first_bad = n, cps = 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        int32_t cp = nahr_utf8_next(s, n, &i);
        FUZZ_CHECK(i > at && i <= n && i - at <= 4, "utf8_next advanced %zu -> %zu of %zu", at, i, n);
        if (cp < 0)
            FUZZ_CHECK(i == at + 1, "invalid sequence at %zu skipped %zu bytes", at, i - at);
        if ((cp < 0 || cp == 0) && first_bad == n)
            first_bad = at;
        if (cp >= 0) {
            char u[4];
            size_t k = nahr_utf8_put((uint32_t)cp, u);
            FUZZ_CHECK(k == i - at && memcmp(u, s + at, k) == 0, "utf8_put does not give back U+%04X", (unsigned)cp);
        }
        cps++;
    }
    FUZZ_CHECK(nahr_utf8_check(s, n) == first_bad, "utf8_check %zu, first bad by utf8_next %zu",
               nahr_utf8_check(s, n), first_bad);
    *valid = first_bad == n;
    if (*valid)
        FUZZ_CHECK(nahr_utf8_count(s, n) == cps, "utf8_count %zu vs %zu", nahr_utf8_count(s, n), cps);
    nahr_buf rep = {0};
    size_t bad = 0;
    FUZZ_CHECK(nahr_utf8_repair(s, n, &rep, &bad) == NAHR_OK, "repair failed");
    FUZZ_CHECK(nahr_utf8_check(rep.data ? rep.data : "", rep.len) == rep.len, "repaired text not valid");
    FUZZ_CHECK(*valid == (bad == 0), "repair replaced %zu in %s input", bad, *valid ? "valid" : "invalid");
    if (*valid)
        FUZZ_CHECK(rep.len == n && (n == 0 || memcmp(rep.data, s, n) == 0), "repair changed valid text");
    nahr_buf_free(&rep);
}

static void check_tokens(const char *s, size_t n, bool valid, nahr_token *toks, size_t total)
{
    size_t prev_end = 0;
    for (size_t i = 0; i < total; i++) {
        const nahr_token *t = &toks[i];
        FUZZ_CHECK(t->start < t->end && t->end <= n, "token %zu [%zu,%zu) of %zu bytes", i, t->start, t->end, n);
        FUZZ_CHECK(t->start >= prev_end, "token %zu starts at %zu before the previous end %zu", i, t->start,
                   prev_end);
        FUZZ_CHECK(t->kind >= NAHR_TOK_WORD && t->kind <= NAHR_TOK_LATIN, "token %zu kind %u", i, t->kind);
        FUZZ_CHECK(!(t->flags & ~(NAHR_TOK_SENT_END | NAHR_TOK_PARA_START)), "token %zu flags %x", i, t->flags);
        if (valid) {
            FUZZ_CHECK(((unsigned char)s[t->start] & 0xC0) != 0x80, "token %zu starts mid-character", i);
            FUZZ_CHECK(t->end == n || ((unsigned char)s[t->end] & 0xC0) != 0x80, "token %zu ends mid-character", i);
        }
        prev_end = t->end;
    }
    if (total)
        FUZZ_CHECK(toks[0].flags & NAHR_TOK_PARA_START, "first token without PARA_START");
}

static void check_splits(const char *s, const nahr_token *t)
{
    size_t splits[8];
    const char *w = s + t->start;
    size_t n = t->end - t->start;
    for (size_t max = 1; max <= 8; max += 7) {
        size_t k = nahr_ar_proclitic_splits(w, n, splits, max);
        FUZZ_CHECK(k >= 1 && k <= max, "%zu splits with max %zu", k, max);
        FUZZ_CHECK(splits[0] == 0, "splits[0] = %zu", splits[0]);
        for (size_t i = 1; i < k; i++) {
            FUZZ_CHECK(splits[i] > splits[i - 1] && splits[i] < n, "split %zu = %zu in a %zu-byte word", i,
                       splits[i], n);
            FUZZ_CHECK(((unsigned char)w[splits[i]] & 0xC0) != 0x80, "split %zu mid-character", i);
        }
    }
}

static void check_normalize(const char *s, size_t n, bool valid)
{
    char *out = malloc(n + 1);
    size_t *map = malloc((n + 1) * sizeof *map);
    if (!out || !map)
        abort();
    size_t m = nahr_ar_normalize(s, n, out, map);
    FUZZ_CHECK(m <= n && out[m] == '\0', "normalize: %zu bytes from %zu", m, n);
    FUZZ_CHECK(map[m] == n, "map[%zu] = %zu, not %zu", m, map[m], n);
    for (size_t i = 0; i < m; i++)
        FUZZ_CHECK(map[i] < n && (i == 0 || map[i] >= map[i - 1]), "map[%zu] = %zu", i, map[i]);
    size_t m2 = nahr_ar_normalize(s, n, out, NULL); /* no map: same length */
    FUZZ_CHECK(m2 == m, "normalize without a map: %zu vs %zu", m2, m);
    if (valid) {
        FUZZ_CHECK(nahr_utf8_check(out, m) == m, "normalised valid UTF-8 is not valid");
        char *again = malloc(m + 1);
        if (!again)
            abort();
        size_t m3 = nahr_ar_normalize(out, m, again, NULL);
        FUZZ_CHECK(m3 == m && memcmp(again, out, m) == 0, "normalize is not idempotent");
        free(again);
    }
    free(out);
    free(map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy without a terminator: reads past n are caught */
    const char *s = (const char *)data;
    size_t n = size;
    bool valid;
    check_utf8(s, n, &valid);
    check_normalize(s, n, valid);

    size_t total = nahr_tokenize(s, n, NULL, 0);
    FUZZ_CHECK(total <= n, "%zu tokens in %zu bytes", total, n);
    nahr_token *toks = malloc((total + 1) * sizeof *toks);
    if (!toks)
        abort();
    FUZZ_CHECK(nahr_tokenize(s, n, toks, total) == total, "total changes with the array size");
    check_tokens(s, n, valid, toks, total);
    if (total > 1) {
        size_t half = total / 2;
        nahr_token *part = malloc(half * sizeof *part);
        if (!part)
            abort();
        FUZZ_CHECK(nahr_tokenize(s, n, part, half) == total, "total with a smaller array");
        for (size_t i = 0; i < half; i++)
            FUZZ_CHECK(part[i].start == toks[i].start && part[i].end == toks[i].end && part[i].kind == toks[i].kind,
                       "token %zu differs with a smaller array", i);
        free(part);
    }
    if (valid)
        for (size_t i = 0; i < total; i++)
            if (toks[i].kind == NAHR_TOK_WORD)
                check_splits(s, &toks[i]);
    free(toks);
    return 0;
}
