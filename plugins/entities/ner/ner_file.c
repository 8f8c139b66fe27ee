/* ner_file.c - the model file: a versioned little-endian binary.
 *
 *   offset size
 *   0      8    magic "NAHRNER\0"
 *   8      4    format version (NER_FORMAT_VERSION)
 *   12     4    number of tags (9)
 *   16     4    feature flags (NER_F_*)
 *   20     4    nfeat: weight rows
 *   24     4    ngaz: gazetteer phrase hashes
 *   28     4    gazetteer max phrase length (words)
 *   32     4    ncl: cluster entries
 *   36     4    weight scale (float32)
 *   40     4    O penalty (float32): subtracted from the score of tag O
 *   44     4    pseudo-article length in sentences (NER_F_HIST on a corpus
 *               without article marks; ner_tag_corpus_doc), version 2
 *   48     4    nnews: news-evidence entries (NER_F_NEWS; 0 otherwise)
 *   52     4    nlex: spelling-dictionary entries (NER_F_LEX; 0 otherwise)
 *   56     8    reserved, zero
 *   64          transitions: (9+1) x 9 float32, row 9 = sentence start
 *               keys: nfeat uint32, then weights: nfeat x 9 int16 (+2 bytes
 *               padding when nfeat is odd)
 *               gazetteer: ngaz x (uint32 hash, uint32 type mask)
 *               clusters: ncl x (uint32 word hash, uint32 lo, uint32 hi)
 *               news evidence: nnews uint32 keys (word hash or stem key),
 *               then nnews uint8 packed buckets (padded to 4 bytes)
 *               dictionary classes: nlex uint32 normalised word hashes, then
 *               nlex uint8 NER_LEX_* classes (padded to 4 bytes)
 *   end-8  8    FNV-1a 64 checksum of every byte before it
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ner_internal.h"

#define HEADER_SIZE 64u
#define MAX_COUNT (1u << 26)

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t fnv64(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t file_size_for(size_t nfeat, size_t ngaz, size_t ncl, size_t nnews, size_t nlex)
{
    size_t wbytes = nfeat * NER_NTAGS * 2;
    wbytes = (wbytes + 3) & ~(size_t)3;
    return HEADER_SIZE + (NER_NTAGS + 1) * NER_NTAGS * 4 + nfeat * 4 + wbytes + ngaz * 8 +
           ncl * 12 + nnews * 4 + ((nnews + 3) & ~(size_t)3) + nlex * 4 +
           ((nlex + 3) & ~(size_t)3) + 8;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted keys of a set (for a canonical file). */
static uint32_t *sorted_keys(const uint32_t *keys, size_t cap, size_t n, size_t stride)
{
    uint32_t *out = malloc((n ? n : 1) * sizeof *out);
    if (!out)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < cap && k < n; i++) {
        uint32_t key = *(const uint32_t *)((const char *)keys + i * stride);
        if (key)
            out[k++] = key;
    }
    qsort(out, k, sizeof *out, cmp_u32);
    return out;
}

int ner_model_save(const ner_model *m, const char *path, char *err, size_t errlen)
{
    size_t nfeat = m->nfeat, ngaz = m->gaz.n, ncl = m->clusters.n;
    size_t nnews = (m->flags & NER_F_NEWS) ? m->news.n : 0;
    size_t nlex = (m->flags & NER_F_LEX) ? m->lex.n : 0;
    size_t size = file_size_for(nfeat, ngaz, ncl, nnews, nlex);
    unsigned char *buf = calloc(1, size);
    uint32_t *fk = NULL, *gk = NULL, *ck = NULL, *nk = NULL, *lk = NULL;
    int rc = NAHR_ENOMEM;
    if (!buf)
        goto fail;
    fk = sorted_keys(m->slots ? &m->slots[0].key : NULL, m->slots ? m->mask + 1 : 0, nfeat,
                    sizeof(ner_slot));
    gk = sorted_keys(m->gaz.keys, m->gaz.mask ? m->gaz.mask + 1 : 0, ngaz, 4);
    ck = sorted_keys(m->clusters.keys, m->clusters.mask ? m->clusters.mask + 1 : 0, ncl, 4);
    nk = sorted_keys(m->news.keys, nnews ? m->news.mask + 1 : 0, nnews, 4);
    lk = sorted_keys(m->lex.keys, nlex ? m->lex.mask + 1 : 0, nlex, 4);
    if (!fk || !gk || !ck || !nk || !lk)
        goto fail;
    memcpy(buf, NER_MAGIC, NER_MAGIC_LEN);
    put32(buf + 8, NER_FORMAT_VERSION);
    put32(buf + 12, NER_NTAGS);
    put32(buf + 16, m->flags);
    put32(buf + 20, (uint32_t)nfeat);
    put32(buf + 24, (uint32_t)ngaz);
    put32(buf + 28, m->gaz_maxlen);
    put32(buf + 32, (uint32_t)ncl);
    put32(buf + 36, float_bits(m->scale));
    put32(buf + 40, float_bits(m->o_penalty));
    put32(buf + 44, m->hist_window);
    put32(buf + 48, (uint32_t)nnews);
    put32(buf + 52, (uint32_t)nlex);
    unsigned char *p = buf + HEADER_SIZE;
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++, p += 4)
            put32(p, float_bits(m->trans[a][b]));
    for (size_t i = 0; i < nfeat; i++, p += 4)
        put32(p, fk[i]);
    for (size_t i = 0; i < nfeat; i++) {
        const ner_slot *s = ner_model_find(m, fk[i]);
        for (unsigned t = 0; t < NER_NTAGS; t++, p += 2) {
            uint16_t v = (uint16_t)s->w[t];
            p[0] = (unsigned char)v;
            p[1] = (unsigned char)(v >> 8);
        }
    }
    if ((nfeat * NER_NTAGS) & 1)
        p += 2;
    for (size_t i = 0; i < ngaz; i++, p += 8) {
        put32(p, gk[i]);
        put32(p + 4, (uint32_t)*ner_set_get(&m->gaz, gk[i]));
    }
    for (size_t i = 0; i < ncl; i++, p += 12) {
        uint64_t v = *ner_set_get(&m->clusters, ck[i]);
        put32(p, ck[i]);
        put32(p + 4, (uint32_t)v);
        put32(p + 8, (uint32_t)(v >> 32));
    }
    for (size_t i = 0; i < nnews; i++, p += 4)
        put32(p, nk[i]);
    for (size_t i = 0; i < nnews; i++)
        *p++ = (unsigned char)*ner_set_get(&m->news, nk[i]);
    p += ((nnews + 3) & ~(size_t)3) - nnews;
    for (size_t i = 0; i < nlex; i++, p += 4)
        put32(p, lk[i]);
    for (size_t i = 0; i < nlex; i++)
        *p++ = (unsigned char)*ner_set_get(&m->lex, lk[i]);
    p += ((nlex + 3) & ~(size_t)3) - nlex;
    uint64_t sum = fnv64(buf, size - 8);
    put32(p, (uint32_t)sum);
    put32(p + 4, (uint32_t)(sum >> 32));

    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = NAHR_EIO;
        goto fail;
    }
    size_t wr = fwrite(buf, 1, size, f);
    if (fclose(f) != 0 || wr != size) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        rc = NAHR_EIO;
        goto fail;
    }
    rc = 0;
fail:
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory writing %s", path);
    free(buf);
    free(fk);
    free(gk);
    free(ck);
    free(nk);
    free(lk);
    return rc;
}

int ner_model_load(const char *path, ner_model **out, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    *out = NULL;
    unsigned char *buf = NULL;
    uint32_t *keys = NULL;
    int16_t *w = NULL;
    ner_model *m = NULL;
    int rc = NAHR_EFORMAT;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open NER model %s: %s", path, strerror(errno));
        return errno == ENOENT ? NAHR_ENOENT : NAHR_EIO;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot read NER model %s: not a regular file", path);
        fclose(f);
        return NAHR_EIO;
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory loading %s", path);
        return NAHR_ENOMEM;
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        snprintf(err, errlen, "cannot read NER model %s", path);
        rc = NAHR_EIO;
        goto fail;
    }
    if ((size_t)size < HEADER_SIZE || memcmp(buf, NER_MAGIC, NER_MAGIC_LEN) != 0) {
        if ((size_t)size >= NER_MAGIC_LEN && memcmp(buf, NER_MAGIC, NER_MAGIC_LEN) == 0)
            snprintf(err, errlen, "NER model %s is truncated (%ld bytes, header needs %u)", path,
                     size, HEADER_SIZE);
        else
            snprintf(err, errlen, "%s is not a nahr NER model (bad magic)", path);
        goto fail;
    }
    uint32_t version = get32(buf + 8), ntags = get32(buf + 12);
    if (version != NER_FORMAT_VERSION) {
        snprintf(err, errlen, "NER model %s has format version %u; this build reads version %u",
                 path, version, NER_FORMAT_VERSION);
        goto fail;
    }
    if (ntags != NER_NTAGS) {
        snprintf(err, errlen, "NER model %s has %u tags, expected %u", path, ntags, NER_NTAGS);
        goto fail;
    }
    uint32_t flags = get32(buf + 16), nfeat = get32(buf + 20), ngaz = get32(buf + 24);
    uint32_t gmax = get32(buf + 28), ncl = get32(buf + 32), nnews = get32(buf + 48);
    uint32_t nlex = get32(buf + 52);
    if (nfeat > MAX_COUNT || ngaz > MAX_COUNT || ncl > MAX_COUNT || gmax > NER_GAZ_MAXLEN ||
        nnews > MAX_COUNT || (nnews && !(flags & NER_F_NEWS)) || nlex > MAX_COUNT ||
        (nlex && !(flags & NER_F_LEX)) || (flags & ~(uint32_t)NER_F_ALL)) {
        snprintf(err, errlen, "NER model %s has a corrupt header", path);
        goto fail;
    }
    size_t want = file_size_for(nfeat, ngaz, ncl, nnews, nlex);
    if ((size_t)size != want) {
        snprintf(err, errlen, "NER model %s is %s (%ld bytes, header says %zu)", path,
                 (size_t)size < want ? "truncated" : "corrupt: trailing bytes", size, want);
        goto fail;
    }
    uint64_t sum = (uint64_t)get32(buf + want - 8) | (uint64_t)get32(buf + want - 4) << 32;
    if (sum != fnv64(buf, want - 8)) {
        snprintf(err, errlen, "NER model %s is corrupt (checksum mismatch)", path);
        goto fail;
    }
    rc = NAHR_ENOMEM;
    m = ner_model_new();
    keys = malloc((nfeat ? nfeat : 1) * sizeof *keys);
    w = malloc((nfeat ? nfeat : 1) * NER_NTAGS * sizeof *w);
    if (!m || !keys || !w)
        goto fail;
    m->flags = flags;
    m->o_penalty = bits_float(get32(buf + 40));
    m->hist_window = get32(buf + 44);
    m->gaz_maxlen = gmax ? gmax : 1;
    const unsigned char *p = buf + HEADER_SIZE;
    for (unsigned a = 0; a <= NER_NTAGS; a++)
        for (unsigned b = 0; b < NER_NTAGS; b++, p += 4)
            m->trans[a][b] = bits_float(get32(p));
    for (size_t i = 0; i < nfeat; i++, p += 4)
        keys[i] = get32(p);
    for (size_t i = 0; i < (size_t)nfeat * NER_NTAGS; i++, p += 2)
        w[i] = (int16_t)(uint16_t)(p[0] | p[1] << 8);
    if (((size_t)nfeat * NER_NTAGS) & 1)
        p += 2;
    if (ner_model_set_weights(m, keys, w, nfeat, bits_float(get32(buf + 36))) != 0)
        goto fail;
    if (ner_set_reserve(&m->gaz, ngaz) != 0 || ner_set_reserve(&m->clusters, ncl) != 0 ||
        ner_set_reserve(&m->news, nnews) != 0 || ner_set_reserve(&m->lex, nlex) != 0)
        goto fail;
    for (size_t i = 0; i < ngaz; i++, p += 8)
        if (ner_set_put(&m->gaz, get32(p), get32(p + 4), 0) != 0)
            goto fail;
    for (size_t i = 0; i < ncl; i++, p += 12)
        if (ner_set_put(&m->clusters, get32(p),
                        (uint64_t)get32(p + 4) | (uint64_t)get32(p + 8) << 32, 0) != 0)
            goto fail;
    for (size_t i = 0; i < nnews; i++)
        if (ner_set_put(&m->news, get32(p + 4 * i), p[4 * (size_t)nnews + i], 0) != 0)
            goto fail;
    p += 4 * (size_t)nnews + (((size_t)nnews + 3) & ~(size_t)3);
    for (size_t i = 0; i < nlex; i++) {
        unsigned cls = p[4 * (size_t)nlex + i];
        if (cls < NER_LEX_IN || (cls > NER_LEX_OUT && cls < NER_LEX_TRI_BASE) ||
            cls > NER_LEX_TRI_BASE + 200) {
            snprintf(err, errlen, "NER model %s is corrupt (dictionary class %u)", path, cls);
            rc = NAHR_EFORMAT;
            goto fail;
        }
        if (ner_set_put(&m->lex, get32(p + 4 * i), cls, 0) != 0)
            goto fail;
    }
    free(buf);
    free(keys);
    free(w);
    *out = m;
    return 0;
fail:
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory loading %s", path);
    free(buf);
    free(keys);
    free(w);
    ner_model_free(m);
    return rc;
}

size_t ner_model_describe(const ner_model *m, char *buf, size_t len)
{
    char tmp[512];
    size_t n = 0;
#define ADD(...)                                                                  \
    do {                                                                          \
        int k_ = snprintf(tmp + n, sizeof tmp - n, __VA_ARGS__);                  \
        if (k_ > 0)                                                               \
            n = n + (size_t)k_ < sizeof tmp ? n + (size_t)k_ : sizeof tmp - 1;    \
    } while (0)
    ADD("%zu features", m->nfeat);
    if (m->flags & (NER_F_GAZ | NER_F_DICT))
        ADD("; %s%s%s (%zu phrases)", (m->flags & NER_F_GAZ) ? "gazetteers" : "",
            (m->flags & NER_F_GAZ) && (m->flags & NER_F_DICT) ? " + " : "",
            (m->flags & NER_F_DICT) ? "training dictionary" : "", m->gaz.n);
    if (m->flags & NER_F_CLUSTERS)
        ADD("; word clusters (%zu words)%s", m->clusters.n, (m->flags & NER_F_CLX) ? " with extra templates" : "");
    if (m->flags & NER_F_HIST)
        ADD("; prediction history%s (pseudo-articles of %u sentences in training)",
            (m->flags & NER_F_DOC2) ? ", two-sided (second pass)" : "", m->hist_window);
    if (m->flags & NER_F_QUOTE)
        ADD("; quotations");
    if (m->flags & NER_F_NEWS)
        ADD("; news evidence (%zu words and stems)", m->news.n);
    if (m->flags & NER_F_LEX)
        ADD((m->flags & NER_F_LEXSP)
                ? "; spelling-dictionary classes and trigram scores (%zu entries)"
                : "; spelling-dictionary classes (%zu words)",
            m->lex.n);
    if (m->flags & NER_F_ACTX)
        ADD("; article context of every mention");
    if (m->flags & NER_F_TOPIC)
        ADD("; article topic (sport)");
#undef ADD
    if (len) {
        size_t c = n < len - 1 ? n : len - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return n;
}
