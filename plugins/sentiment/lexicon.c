/* lexicon.c - polarity lexicon: an open-addressing hash over normalised
 * terms (words and phrases), loaded once, read-only afterwards. */
#include "senti.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERM 512

/* Eight bytes per step (FNV-1a took one): every word and phrase lookup
 * hashes its key. Never stored, so the table may use any hash. */
static uint64_t key_hash(const char *s, size_t n)
{
    uint64_t h = nahr_hash_bytes(s, n, n);
    return h ? h : 1;
}

senti_lexicon *senti_lexicon_new(void)
{
    senti_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx)
        return NULL;
    lx->mask = 1023;
    lx->slots = calloc(lx->mask + 1, sizeof *lx->slots);
    if (!lx->slots) {
        free(lx);
        return NULL;
    }
    return lx;
}

void senti_lexicon_free(senti_lexicon *lx)
{
    if (!lx)
        return;
    free(lx->slots);
    free(lx->pool);
    free(lx);
}

static senti_entry *find_slot(senti_entry *slots, size_t mask, const char *pool, uint64_t h,
                              const char *key, size_t n)
{
    size_t i = (size_t)h & mask;
    for (;;) {
        senti_entry *e = &slots[i];
        if (!e->hash)
            return e;
        if (e->hash == h && e->key_len == n && memcmp(pool + e->key_off, key, n) == 0)
            return e;
        i = (i + 1) & mask;
    }
}

static int grow(senti_lexicon *lx)
{
    size_t ncap = (lx->mask + 1) * 2;
    senti_entry *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return NAHR_ENOMEM;
    for (size_t i = 0; i <= lx->mask; i++) {
        senti_entry *e = &lx->slots[i];
        if (!e->hash)
            continue;
        size_t j = (size_t)e->hash & (ncap - 1);
        while (ns[j].hash)
            j = (j + 1) & (ncap - 1);
        ns[j] = *e;
    }
    free(lx->slots);
    lx->slots = ns;
    lx->mask = ncap - 1;
    return NAHR_OK;
}

/* The space after sp in key[0..n), NULL when none (memchr: most keys are
 * one word, and loading tested every byte of each up to three times). */
static const char *next_space(const char *key, size_t n, const char *sp)
{
    size_t at = (size_t)(sp - key) + 1;
    return at < n ? memchr(key + at, ' ', n - at) : NULL;
}

/* Inserts key (already normalised); returns the slot or NULL (ENOMEM). */
static senti_entry *put_key(senti_lexicon *lx, const char *key, size_t n)
{
    uint64_t h = key_hash(key, n);
    senti_entry *e = find_slot(lx->slots, lx->mask, lx->pool, h, key, n);
    if (e->hash)
        return e;
    if ((lx->pool_len + n + 1) > lx->pool_cap) {
        size_t ncap = lx->pool_cap ? lx->pool_cap * 2 : 4096;
        while (ncap < lx->pool_len + n + 1)
            ncap *= 2;
        char *np = realloc(lx->pool, ncap);
        if (!np)
            return NULL;
        lx->pool = np;
        lx->pool_cap = ncap;
    }
    memcpy(lx->pool + lx->pool_len, key, n);
    lx->pool[lx->pool_len + n] = '\0';
    e->hash = h;
    e->key_off = (uint32_t)lx->pool_len;
    e->key_len = (uint16_t)n;
    e->kind = 0;
    e->prefix = 0;
    e->value = 0;
    lx->pool_len += n + 1;
    lx->used++;
    lx->bloom[(h >> 20) % SENTI_BLOOM_BITS / 64] |= 1ull << ((h >> 20) % 64);
    size_t sa, sb;
    senti_stem_bits(senti_stem_hash(key, n), &sa, &sb);
    lx->stem_bloom[sa / 64] |= 1ull << (sa % 64);
    lx->stem_bloom[sb / 64] |= 1ull << (sb % 64);
    for (const char *sp = memchr(key, ' ', n); sp; sp = next_space(key, n, sp)) {
        size_t i = (size_t)(sp - key);
        size_t b = senti_pair_bit(key_hash(key, i), senti_word_hash(key + i + 1, n - i - 1));
        lx->pair_bloom[b / 64] |= 1ull << (b % 64);
    }
    return e;
}

/* Normalises term and collapses runs of whitespace to one ASCII space,
 * trimming both ends. Returns the length (0 = empty). */
static size_t normalise_term(const char *term, size_t n, char *out)
{
    char tmp[MAX_TERM + 1];
    size_t m = nahr_ar_normalize(term, n, tmp, NULL);
    if (strcspn(tmp, " \t\r\n") == m) { /* no whitespace (most terms): as it is */
        memcpy(out, tmp, m + 1);
        return m;
    }
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < m; i++) {
        char c = tmp[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = 1;
            continue;
        }
        if (space && o > 0)
            out[o++] = ' ';
        space = 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return o;
}

int senti_lexicon_add(senti_lexicon *lx, const char *term, size_t n, int kind, float value)
{
    char key[MAX_TERM + 1];
    if (n == 0 || n > MAX_TERM)
        return NAHR_EINVAL;
    size_t m = normalise_term(term, n, key);
    if (m == 0)
        return NAHR_EINVAL;
    /* keep the table at most half full (a phrase adds up to words-1 prefixes) */
    int words = 1;
    for (const char *sp = memchr(key, ' ', m); sp; sp = next_space(key, m, sp))
        words++;
    while ((lx->used + (size_t)words) * 2 + 16 > lx->mask + 1)
        if (grow(lx) != NAHR_OK)
            return NAHR_ENOMEM;
    /* prefixes of a phrase, at word boundaries */
    for (const char *sp = memchr(key, ' ', m); sp; sp = next_space(key, m, sp)) {
        senti_entry *p = put_key(lx, key, (size_t)(sp - key));
        if (!p)
            return NAHR_ENOMEM;
        p->prefix = 1;
    }
    senti_entry *e = put_key(lx, key, m);
    if (!e)
        return NAHR_ENOMEM;
    if (!e->kind && kind)
        lx->count++;
    else if (e->kind && !kind)
        lx->count--;
    e->kind = (uint8_t)kind;
    e->value = value;
    if (words > lx->max_words)
        lx->max_words = words;
    return NAHR_OK;
}

const senti_entry *senti_lexicon_get(const senti_lexicon *lx, const char *key, size_t n)
{
    if (!n || n > 0xffff)
        return NULL;
    uint64_t h = key_hash(key, n);
    if (!(lx->bloom[(h >> 20) % SENTI_BLOOM_BITS / 64] & (1ull << ((h >> 20) % 64))))
        return NULL;
    const senti_entry *e = find_slot(lx->slots, lx->mask, lx->pool, h, key, n);
    return e->hash ? e : NULL;
}

/* Parses the value column. Returns 0 and sets kind/value, or -1. */
static int parse_value(const char *v, size_t n, int *kind, float *value)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    static const struct {
        const char *name;
        int kind;
        float value;
    } names[] = {
        {"positive", SENTI_POLAR, 1.0f},     {"negative", SENTI_POLAR, -1.0f},
        {"compound_pos", SENTI_POLAR, 1.5f}, {"compound_neg", SENTI_POLAR, -1.5f},
        {"negator", SENTI_NEGATOR, 0.0f},     {"ignore", 0, 0.0f},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(buf, names[i].name) == 0) {
            *kind = names[i].kind;
            *value = names[i].value;
            return 0;
        }
    char *end = NULL;
    errno = 0;
    if (buf[0] == 'x') {
        double m = strtod(buf + 1, &end);
        if (errno || end == buf + 1 || *end || !(m > 0 && m <= 5))
            return -1;
        *kind = SENTI_MODIFIER;
        *value = (float)m;
        return 0;
    }
    double w = strtod(buf, &end);
    if (errno || end == buf || *end || !isfinite(w) || w == 0 || fabs(w) > 5)
        return -1;
    *kind = SENTI_POLAR;
    *value = (float)w;
    return 0;
}

int senti_lexicon_load(senti_lexicon *lx, const char *path, senti_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot open lexicon: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = NAHR_OK;
    size_t loaded = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        line[n] = '\0';
        if (lineno == 1 && n >= 3 && (unsigned char)line[0] == 0xEF &&
            (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF) {
            memmove(line, line + 3, n - 2);
            n -= 3;
        }
        size_t sp = 0;
        while (sp < n && (line[sp] == ' ' || line[sp] == '\t'))
            sp++;
        if (sp == n || line[sp] == '#')
            continue;
        if (strlen(line) != n || nahr_utf8_check(line, n) != n) {
            snprintf(err->msg, sizeof err->msg, "%s:%ld: invalid UTF-8 or NUL byte", path, lineno);
            rc = NAHR_EFORMAT;
            break;
        }
        if (loaded == 0 && strncmp(line, "term\t", 5) == 0)
            continue; /* header */
        char *tab = memchr(line, '\t', n);
        if (!tab) {
            snprintf(err->msg, sizeof err->msg, "%s:%ld: expected 'term<TAB>value'", path, lineno);
            rc = NAHR_EFORMAT;
            break;
        }
        size_t tlen = (size_t)(tab - line);
        const char *v = tab + 1;
        const char *vend = memchr(v, '\t', n - tlen - 1);
        size_t vlen = vend ? (size_t)(vend - v) : n - tlen - 1;
        while (vlen && v[vlen - 1] == ' ')
            vlen--;
        int kind = 0;
        float value = 0;
        if (parse_value(v, vlen, &kind, &value) != 0) {
            snprintf(err->msg, sizeof err->msg,
                     "%s:%ld: bad value '%.*s' (want a non-zero number in [-5,5], positive, negative, "
                     "compound_pos, compound_neg, negator, ignore or x<multiplier>)",
                     path, lineno, (int)(vlen > 40 ? 40 : vlen), v);
            rc = NAHR_EFORMAT;
            break;
        }
        if (tlen == 0 || tlen > MAX_TERM) {
            snprintf(err->msg, sizeof err->msg, "%s:%ld: term empty or longer than %d bytes", path,
                     lineno, MAX_TERM);
            rc = NAHR_EFORMAT;
            break;
        }
        int r = senti_lexicon_add(lx, line, tlen, kind, value);
        if (r == NAHR_EINVAL) {
            snprintf(err->msg, sizeof err->msg, "%s:%ld: term is empty after normalisation", path,
                     lineno);
            rc = NAHR_EFORMAT;
            break;
        }
        if (r != NAHR_OK) {
            snprintf(err->msg, sizeof err->msg, "%s:%ld: out of memory", path, lineno);
            rc = r;
            break;
        }
        loaded++;
    }
    if (rc == NAHR_OK && ferror(f)) {
        snprintf(err->msg, sizeof err->msg, "%s: read error: %s", path, strerror(errno));
        rc = NAHR_EIO;
    }
    if (rc == NAHR_OK && loaded == 0) {
        snprintf(err->msg, sizeof err->msg, "%s:%ld: no lexicon entries in file", path, lineno);
        rc = NAHR_EFORMAT;
    }
    free(line);
    fclose(f);
    return rc;
}
