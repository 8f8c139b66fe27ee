/* model.c - hashed n-gram features and the linear model file.
 *
 * Features of one word token (text already normalised with
 * nahr_ar_normalize):
 *   - the word itself (unigram),
 *   - the pair (previous word, word) when word_ngrams >= 2,
 *   - the character n-grams (char_min..char_max code points) of "<word>",
 * each hashed (FNV-1a, per-kind seed) into [0, 2^bits). A text's vector is
 * the count of each feature divided by sqrt(total occurrences), so scoring is
 * a running sum of weights (no sort, no per-feature allocation) and the
 * trainer builds exactly the same vector.
 *
 * Model file (text, UTF-8/ASCII), written by sentiment-train:
 *   nahr-sentiment-model 1
 *   bits <10..24>
 *   word_ngrams <1|2>
 *   char_ngrams <min> <max>        (0 0 = none)
 *   classes negative neutral positive
 *   bias <b_neg> <b_neu> <b_pos>
 *   features <count>
 *   <index> <w_neg> <w_neu> <w_pos>   (count lines, index < 2^bits)
 *   end
 */
#include "senti.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *const senti_label_names[3] = {"negative", "neutral", "positive"};

int senti_label_parse(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int cls;
    } map[] = {{"positive", SENTI_POS}, {"pos", SENTI_POS},     {"negative", SENTI_NEG},
               {"neg", SENTI_NEG},      {"neutral", SENTI_NEU}, {"neu", SENTI_NEU},
               {"mixed", SENTI_NEU},    {"objective", SENTI_NEU}, {"obj", SENTI_NEU},
               {"none", SENTI_NEU}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].name) == n && strncasecmp(s, map[i].name, n) == 0)
            return map[i].cls;
    return -1;
}


size_t senti_token_features(const senti_featcfg *fc, const char *word, size_t n, uint64_t prev,
                            uint64_t *uni, uint32_t *out, size_t max)
{
    size_t k = 0;
    uint64_t h = senti_word_hash(word, n);
    *uni = h;
    if (k < max)
        out[k++] = senti_fold(h, fc->bits);
    if (fc->word_ngrams >= 2 && prev && k < max)
        out[k++] = senti_bigram_feature(fc, prev, h);
    if (fc->char_min <= 0 || fc->char_max < fc->char_min)
        return k;
    /* "<word>" as code points, each packed from its UTF-8 bytes; n-grams
     * hash code points (not bytes), so each step is one multiply */
    uint32_t cps[256];
    size_t nc = 0, wl = n > 250 ? 250 : n;
    cps[nc++] = '<';
    for (size_t i = 0; i < wl;) {
        uint32_t v = (unsigned char)word[i++];
        while (i < wl && ((unsigned char)word[i] & 0xC0) == 0x80 && v < (1u << 24))
            v = (v << 8) | (unsigned char)word[i++];
        cps[nc++] = v;
    }
    cps[nc++] = '>';
    size_t cmin = (size_t)fc->char_min, cmax = (size_t)fc->char_max;
    const uint64_t basis = 1469598103934665603ull ^ 0x2545F4914F6CDD1Dull, prime = 1099511628211ull;
    if (cmin == 2 && cmax == 4 && k + nc * 3 <= max) {
        /* the shipped model's n-grams, 2..4 code points: the loop below
         * with each start's three lengths unrolled; same indices, same order */
        const uint64_t mask = (1ull << fc->bits) - 1;
        for (size_t s = 0; s + 1 < nc; s++) {
            size_t lmax = nc - s < 4 ? nc - s : 4;
            if (s == 0 && lmax == nc)
                lmax--; /* "<word>" whole is not a feature */
            if (lmax < 2)
                break; /* s == 0 and nc == 2: "<>" */
            uint64_t g = (basis ^ cps[s]) * prime;
            g = (g ^ cps[s + 1]) * prime;
            out[k++] = senti_fold_mask(g + 2, mask);
            if (lmax < 3)
                continue;
            g = (g ^ cps[s + 2]) * prime;
            out[k++] = senti_fold_mask(g + 3, mask);
            if (lmax < 4)
                continue;
            g = (g ^ cps[s + 3]) * prime;
            out[k++] = senti_fold_mask(g + 4, mask);
        }
        return k;
    }
    if (k + nc * cmax <= max) {
        /* room for every n-gram (the common case): the loop below without
         * its bound checks, the fold's mask hoisted; same indices, same order */
        const uint64_t mask = (1ull << fc->bits) - 1;
        for (size_t s = 0; s < nc; s++) {
            uint64_t g = 1469598103934665603ull ^ 0x2545F4914F6CDD1Dull;
            size_t lmax = nc - s < cmax ? nc - s : cmax, len = 1;
            if (s == 0 && lmax == nc)
                lmax--; /* "<word>" whole is not a feature */
            for (; len < cmin && len <= lmax; len++)
                g = (g ^ cps[s + len - 1]) * 1099511628211ull;
            for (; len <= lmax; len++) {
                g = (g ^ cps[s + len - 1]) * 1099511628211ull;
                out[k++] = senti_fold_mask(g + (uint64_t)len, mask);
            }
        }
        return k;
    }
    for (size_t s = 0; s < nc && k < max; s++) {
        uint64_t g = 1469598103934665603ull ^ 0x2545F4914F6CDD1Dull;
        for (int len = 1; len <= fc->char_max && s + (size_t)len <= nc; len++) {
            g = (g ^ cps[s + (size_t)len - 1]) * 1099511628211ull;
            if (len >= fc->char_min && k < max && !(s == 0 && s + (size_t)len == nc))
                out[k++] = senti_fold(g + (uint64_t)len, fc->bits);
        }
    }
    return k;
}

/* The weights of a row, added to a, b, c. */
#define ADD_ROW(idx)                                                                                               \
    do {                                                                                                           \
        const float *r_ = w + (size_t)(idx) * 3;                                                                   \
        a += r_[0];                                                                                                \
        b += r_[1];                                                                                                \
        c += r_[2];                                                                                                \
    } while (0)

size_t senti_token_weights(const senti_model *m, const char *word, size_t n, uint64_t *uni, float *sum)
{
    const senti_featcfg *fc = &m->fc;
    const float *w = m->w;
    float a = 0, b = 0, c = 0;
    size_t k = 0;
    /* the shipped model's features (2..4 code points) of a word short
     * enough for senti_token_features() to take its unrolled loop (room for
     * three n-grams per code point) */
    if (fc->char_min == 2 && fc->char_max == 4 && n <= 160 && n > 0) {
        const uint64_t mask = (1ull << fc->bits) - 1;
        const unsigned char *u = (const unsigned char *)word;
        uint64_t h = senti_word_hash(word, n);
        *uni = h;
        ADD_ROW(senti_fold_mask(h, mask));
        k = 1;
        uint32_t cps[256];
        size_t nc = 0;
        cps[nc++] = '<';
        for (size_t i = 0; i < n;) {
            uint32_t v = u[i++];
            if (i < n && (u[i] & 0xC0) == 0x80) { /* two bytes (or more) */
                v = (v << 8) | u[i++];
                while (i < n && (u[i] & 0xC0) == 0x80 && v < (1u << 24))
                    v = (v << 8) | u[i++];
            }
            cps[nc++] = v;
        }
        cps[nc++] = '>';
        const uint64_t basis = 1469598103934665603ull ^ 0x2545F4914F6CDD1Dull, prime = 1099511628211ull;
        for (size_t s = 0; s + 1 < nc; s++) {
            size_t lmax = nc - s < 4 ? nc - s : 4;
            if (s == 0 && lmax == nc)
                lmax--; /* "<word>" whole is not a feature */
            if (lmax < 2)
                break;
            uint64_t g = (basis ^ cps[s]) * prime;
            g = (g ^ cps[s + 1]) * prime;
            ADD_ROW(senti_fold_mask(g + 2, mask));
            k++;
            if (lmax < 3)
                continue;
            g = (g ^ cps[s + 2]) * prime;
            ADD_ROW(senti_fold_mask(g + 3, mask));
            k++;
            if (lmax < 4)
                continue;
            g = (g ^ cps[s + 3]) * prime;
            ADD_ROW(senti_fold_mask(g + 4, mask));
            k++;
        }
    } else {
        uint32_t feats[SENTI_MAX_TOKEN_FEATURES];
        k = senti_token_features(fc, word, n, 0, uni, feats, SENTI_MAX_TOKEN_FEATURES);
        for (size_t f = 0; f < k; f++)
            ADD_ROW(feats[f]);
    }
    sum[0] = a;
    sum[1] = b;
    sum[2] = c;
    return k;
}
#undef ADD_ROW

void senti_model_free(senti_model *m)
{
    if (!m)
        return;
    free(m->w);
    free(m);
}

void senti_model_probs(const senti_model *m, const float *sums, uint32_t nfeat, double *probs)
{
    double scale = nfeat ? 1.0 / sqrt((double)nfeat) : 0.0, tot = 0;
    for (int c = 0; c < m->nr_class; c++) {
        double dec = sums[c] * scale + m->bias[c];
        probs[c] = 1.0 / (1.0 + exp(-dec));
        tot += probs[c];
    }
    for (int c = 0; c < m->nr_class; c++)
        probs[c] = tot > 0 ? probs[c] / tot : 1.0 / m->nr_class;
}

int senti_model_save(const senti_model *m, const char *path, double prune)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return NAHR_EIO;
    size_t dim = (size_t)1 << m->fc.bits, count = 0;
    for (size_t i = 0; i < dim; i++) {
        const float *r = m->w + i * (size_t)m->nr_class;
        int keep = 0;
        for (int c = 0; c < m->nr_class; c++)
            keep |= fabs(r[c]) > prune && r[c] != 0;
        count += keep;
    }
    fprintf(f, "nahr-sentiment-model 1\nbits %d\nword_ngrams %d\nchar_ngrams %d %d\n", m->fc.bits,
            m->fc.word_ngrams, m->fc.char_min, m->fc.char_max);
    fprintf(f, "classes negative neutral positive\nbias %.6g %.6g %.6g\nfeatures %zu\n", m->bias[0],
            m->bias[1], m->bias[2], count);
    for (size_t i = 0; i < dim; i++) {
        const float *r = m->w + i * (size_t)m->nr_class;
        int keep = 0;
        for (int c = 0; c < m->nr_class; c++)
            keep |= fabs(r[c]) > prune && r[c] != 0;
        if (keep)
            fprintf(f, "%zu %.4g %.4g %.4g\n", i, r[0], r[1], r[2]);
    }
    fprintf(f, "end\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return NAHR_EIO;
    return NAHR_OK;
}

/* The model file read in 64 KB blocks and cut into lines in place (a
 * getline() call per line cost more than parsing the line: 57,000 lines). */
typedef struct line_reader {
    FILE *f;
    char *buf; /* buf[pos..len): bytes not returned yet; cap > len (cap > 0) */
    size_t cap, pos, len;
    int eof;
} line_reader;

/* The next line, without its trailing '\n' and '\r' bytes, NUL-terminated
 * in the reader's buffer (valid until the next call): its length, or -1 at
 * the end of the file (or when a line does not fit in memory), as getline()
 * gave. */
static ssize_t next_line(line_reader *r, char **line, long *lineno)
{
    for (;;) {
        char *s = r->buf + r->pos;
        char *nl = r->len > r->pos ? memchr(s, '\n', r->len - r->pos) : NULL;
        if (nl || (r->eof && r->len > r->pos)) {
            size_t n = nl ? (size_t)(nl - s) : r->len - r->pos;
            r->pos += n + (nl != NULL);
            while (n && s[n - 1] == '\r')
                n--;
            s[n] = '\0'; /* at the '\n', or at len < cap */
            (*lineno)++;
            *line = s;
            return (ssize_t)n;
        }
        if (r->eof)
            return -1;
        /* the partial line to the front, more room when it fills the buffer */
        memmove(r->buf, s, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
        if (r->len + 1 >= r->cap) {
            size_t ncap = r->cap * 2;
            char *nb = realloc(r->buf, ncap);
            if (!nb)
                return -1;
            r->buf = nb;
            r->cap = ncap;
        }
        size_t got = fread(r->buf + r->len, 1, r->cap - 1 - r->len, r->f);
        r->len += got;
        r->eof = got == 0;
    }
}

/* "INDEX W_NEG W_NEU W_POS" and nothing after: what sscanf("%lu %lf %lf
 * %lf%n") accepts, with strtoul/strtod directly (sscanf dominated the
 * start-up: 57,000 lines). 0 or -1. */
/* strtod() for the plain decimals model files hold ("-0.0989", "3"): at
 * most 15 significant digits and 22 decimals, no exponent. Then the mantissa
 * and 10^decimals are exact doubles and their quotient is correctly rounded,
 * so the result is strtod()'s, bit for bit. Anything else (exponent, inf,
 * hex, longer numbers) goes to strtod(). */
static double parse_weight(const char *p, char **end)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *s = p;
    while (*s == ' ' || *s == '\t')
        s++;
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    uint64_t m = 0;
    unsigned d;
    const char *first = s;
    for (; (d = (unsigned)(unsigned char)*s - '0') <= 9; s++)
        m = m * 10 + d;
    size_t digits = (size_t)(s - first), decimals = 0;
    if (*s == '.') {
        const char *point = s++;
        for (; (d = (unsigned)(unsigned char)*s - '0') <= 9; s++)
            m = m * 10 + d;
        decimals = (size_t)(s - point - 1);
        digits += decimals;
    }
    if (digits == 0 || digits > 15 || decimals > 22 || (*s != '\0' && *s != ' ' && *s != '\t'))
        return strtod(p, end);
    *end = (char *)s;
    double v = (double)m / pow10[decimals];
    return neg ? -v : v;
}

static int parse_feature_line(const char *line, unsigned long *idx, double *w)
{
    char *end;
    const char *p = line;
    if (*p >= '0' && *p <= '9') { /* plain digits, as sentiment-train writes them: strtoul() inline */
        unsigned long v = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
            v = v * 10 + (unsigned long)(*p - '0');
        if (*p >= '0' && *p <= '9') {
            *idx = strtoul(line, &end, 10); /* longer than 9 digits */
            p = end;
        } else {
            *idx = v;
        }
    } else {
        *idx = strtoul(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
    }
    for (int c = 0; c < 3; c++) {
        w[c] = parse_weight(p, &end);
        if (end == p)
            return -1;
        p = end;
    }
    return *p == '\0' ? 0 : -1;
}

int senti_model_load(const char *path, senti_model **out, senti_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot open model: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    senti_model *m = calloc(1, sizeof *m);
    line_reader rd = {f, malloc(65536), 65536, 0, 0, 0};
    char *line = NULL;
    size_t count = 0;
    long lineno = 0;
    int version = 0;
    char c1[32], c2[32], c3[32];
    const char *what = NULL;
    if (!m || !rd.buf)
        goto nomem;
    m->nr_class = 3;
#define EXPECT(cond, msg)                                                                      \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            what = (msg);                                                                      \
            goto bad;                                                                          \
        }                                                                                      \
    } while (0)
    EXPECT(next_line(&rd, &line, &lineno) >= 0 &&
               sscanf(line, "nahr-sentiment-model %d", &version) == 1,
           "not a nahr sentiment model (first line must be 'nahr-sentiment-model 1')");
    EXPECT(version == 1, "unsupported model version");
    EXPECT(next_line(&rd, &line, &lineno) >= 0 && sscanf(line, "bits %d", &m->fc.bits) == 1 &&
               m->fc.bits >= 10 && m->fc.bits <= 24,
           "expected 'bits N' with N in 10..24");
    EXPECT(next_line(&rd, &line, &lineno) >= 0 &&
               sscanf(line, "word_ngrams %d", &m->fc.word_ngrams) == 1 && m->fc.word_ngrams >= 1 &&
               m->fc.word_ngrams <= 2,
           "expected 'word_ngrams 1' or 'word_ngrams 2'");
    EXPECT(next_line(&rd, &line, &lineno) >= 0 &&
               sscanf(line, "char_ngrams %d %d", &m->fc.char_min, &m->fc.char_max) == 2 &&
               m->fc.char_min >= 0 && m->fc.char_max <= 8 &&
               (m->fc.char_min == 0 ? m->fc.char_max == 0 : m->fc.char_max >= m->fc.char_min),
           "expected 'char_ngrams MIN MAX' (0 0, or 1 <= MIN <= MAX <= 8)");
    EXPECT(next_line(&rd, &line, &lineno) >= 0 && sscanf(line, "classes %31s %31s %31s", c1, c2, c3) == 3 &&
               !strcmp(c1, "negative") && !strcmp(c2, "neutral") && !strcmp(c3, "positive"),
           "expected 'classes negative neutral positive'");
    {
        double b[3];
        EXPECT(next_line(&rd, &line, &lineno) >= 0 &&
                   sscanf(line, "bias %lf %lf %lf", &b[0], &b[1], &b[2]) == 3 && isfinite(b[0]) &&
                   isfinite(b[1]) && isfinite(b[2]),
               "expected 'bias B_NEG B_NEU B_POS'");
        for (int c = 0; c < 3; c++)
            m->bias[c] = (float)b[c];
    }
    EXPECT(next_line(&rd, &line, &lineno) >= 0 && sscanf(line, "features %zu", &count) == 1,
           "expected 'features COUNT'");
    size_t dim = (size_t)1 << m->fc.bits;
    EXPECT(count <= dim, "feature count larger than 2^bits");
    {
        /* the weight rows are read at random (one or two per word): 2 MB
         * aligned and marked for a transparent huge page to spare TLB misses
         * (madvise is only a hint) */
        size_t bytes = dim * 3 * sizeof *m->w, align = (size_t)2 << 20;
        void *p = NULL;
        if (posix_memalign(&p, align, (bytes + align - 1) & ~(align - 1)) != 0)
            goto nomem;
        madvise(p, (bytes + align - 1) & ~(align - 1), MADV_HUGEPAGE);
        memset(p, 0, bytes);
        m->w = p;
    }
    for (size_t i = 0; i < count; i++) {
        unsigned long idx;
        double w[3];
        EXPECT(next_line(&rd, &line, &lineno) >= 0, "file ends before all features were read");
        EXPECT(parse_feature_line(line, &idx, w) == 0, "expected 'INDEX W_NEG W_NEU W_POS'");
        EXPECT(idx < dim, "feature index out of range (>= 2^bits)");
        EXPECT(isfinite(w[0]) && isfinite(w[1]) && isfinite(w[2]), "weight is not a finite number");
        for (int c = 0; c < 3; c++)
            m->w[idx * 3 + (size_t)c] = (float)w[c];
    }
    EXPECT(next_line(&rd, &line, &lineno) >= 0 && strcmp(line, "end") == 0,
           "expected 'end' after the features (truncated file?)");
#undef EXPECT
    free(rd.buf);
    fclose(f);
    *out = m;
    return NAHR_OK;
bad:
    snprintf(err->msg, sizeof err->msg, "%s:%ld: %s", path, lineno ? lineno : 1, what);
    free(rd.buf);
    fclose(f);
    senti_model_free(m);
    return NAHR_EFORMAT;
nomem:
    snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
    free(rd.buf);
    fclose(f);
    senti_model_free(m);
    return NAHR_ENOMEM;
}
