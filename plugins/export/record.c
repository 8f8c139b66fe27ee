/* record.c - what every format needs from an article: the mentions of one
 * span layer with code-point offsets and sentence numbers, the distinct
 * entities with counts, field lookups and field-to-text conversion. */
#include "sink.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sink_fail(export_sink *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return code < 0 ? code : NAHR_EIO;
}

int export_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return NAHR_EIO;
        if (w == 0) {
            errno = ENOSPC;
            return NAHR_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return NAHR_OK;
}

typedef struct offset_ref {
    size_t byte;
    size_t slot; /* 2*mention (+1 for the end) */
} offset_ref;

static int cmp_ref(const void *a, const void *b)
{
    const offset_ref *x = a, *y = b;
    if (x->byte != y->byte)
        return x->byte < y->byte ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

static bool same_layer(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* Sentence-final marks at s[i]: . ! ? and U+061F ؟, U+2026 …; returns the
 * mark's byte length, 0 when none. A '.' between digits (3.5) is not one. */
static size_t final_mark(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '!' || c == '?')
        return 1;
    if (c == '.') {
        bool digit_before = i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9';
        bool digit_after = i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9';
        return digit_before && digit_after ? 0 : 1;
    }
    if (c == 0xD8 && i + 1 < n && (unsigned char)s[i + 1] == 0x9F)
        return 2;
    if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0xA6)
        return 3;
    return 0;
}

/* Fills code-point offsets and sentence numbers in one pass over the text.
 * Sentences end as the shared tokeniser ends them (NAHR_TOK_SENT_END): after
 * a run of final marks, or at a blank line; counting them inline costs far
 * less than tokenising every article again on the exporter's thread. */
static int offsets_and_sentences(nahr_doc *doc, const char *text, size_t n, export_mention *m, size_t nm)
{
    offset_ref *refs = nahr_doc_alloc(doc, 2 * nm * sizeof *refs);
    if (!refs)
        return NAHR_ENOMEM;
    for (size_t i = 0; i < nm; i++) {
        nahr_span *sp = nahr_doc_span(doc, m[i].span);
        refs[2 * i] = (offset_ref){sp->start, 2 * i};
        refs[2 * i + 1] = (offset_ref){sp->end, 2 * i + 1};
    }
    qsort(refs, 2 * nm, sizeof *refs, cmp_ref);

    size_t byte = 0, cp = 0, newlines = 0;
    long sent = 0;
    bool seen = false, after_final = false;
    for (size_t k = 0; k < 2 * nm; k++) {
        size_t target = refs[k].byte < n ? refs[k].byte : n;
        for (; byte < target; byte++) {
            unsigned char c = (unsigned char)text[byte];
            if ((c & 0xC0) == 0x80)
                continue;
            cp++;
            if (c == '\n') {
                newlines++;
            } else if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') {
                bool fin = final_mark(text, n, byte) != 0;
                if (seen && (newlines >= 2 || (after_final && !(fin && newlines == 0))))
                    sent++;
                after_final = fin;
                seen = true;
                newlines = 0;
            }
        }
        export_mention *mm = &m[refs[k].slot / 2];
        if (refs[k].slot % 2) {
            mm->cp_end = cp;
        } else {
            /* the mention's first character opens a new sentence when the
             * previous one just ended: peek at it without consuming it */
            long s2 = sent;
            if (target < n && seen && (after_final || newlines >= 2) && !final_mark(text, n, target))
                s2++;
            mm->cp_start = cp;
            mm->sentence = s2;
        }
    }
    return NAHR_OK;
}

static void mention_sentiment(export_mention *m)
{
    m->sentiment = NULL;
    m->sentiment_score = NAN;
    const nahr_value *v = m->attrs ? nahr_value_get(m->attrs, "sentiment") : NULL;
    if (!v)
        return;
    if (nahr_value_kind(v) == NAHR_V_STRING) {
        m->sentiment = nahr_value_as_string(v, NULL);
    } else if (nahr_value_kind(v) == NAHR_V_OBJECT) {
        const nahr_value *l = nahr_value_get(v, "label");
        const nahr_value *s = nahr_value_get(v, "score");
        if (l && nahr_value_kind(l) == NAHR_V_STRING)
            m->sentiment = nahr_value_as_string(l, NULL);
        if (s && (nahr_value_kind(s) == NAHR_V_DOUBLE || nahr_value_kind(s) == NAHR_V_INT))
            m->sentiment_score = nahr_value_as_double(s);
    } else if (nahr_value_kind(v) == NAHR_V_DOUBLE || nahr_value_kind(v) == NAHR_V_INT) {
        m->sentiment_score = nahr_value_as_double(v);
    }
}

int record_build(nahr_doc *doc, const char *layer, export_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->id = nahr_doc_get(doc, "id");
    if (!rec->id || !*rec->id)
        rec->id = nahr_doc_origin(doc);
    if (!rec->id || !*rec->id) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "#%llu", (unsigned long long)nahr_doc_seq(doc));
        rec->id = nahr_doc_strndup(doc, tmp, strlen(tmp));
        if (!rec->id)
            return NAHR_ENOMEM;
    }
    size_t n;
    const char *text = nahr_doc_text(doc, &n);
    if (!text)
        text = "", n = 0;
    size_t ns = nahr_doc_span_count(doc), nm = 0;
    for (size_t i = 0; i < ns; i++)
        if (same_layer(nahr_doc_span(doc, i)->layer, layer))
            nm++;
    if (!nm)
        return NAHR_OK;
    export_mention *m = nahr_doc_alloc(doc, nm * sizeof *m);
    export_entity *e = nahr_doc_alloc(doc, nm * sizeof *e);
    if (!m || !e)
        return NAHR_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < ns; i++) {
        const nahr_span *sp = nahr_doc_span(doc, i);
        if (!same_layer(sp->layer, layer))
            continue;
        size_t st = sp->start <= n ? sp->start : n, en = sp->end <= n ? sp->end : n;
        if (en < st)
            en = st;
        m[k] = (export_mention){.span = i,
                                .type = sp->type ? sp->type : "",
                                .text = text + st,
                                .text_len = en - st,
                                .canonical = sp->canonical,
                                .score = sp->score,
                                .attrs = sp->attrs};
        mention_sentiment(&m[k]);
        k++;
    }
    if (offsets_and_sentences(doc, text, n, m, nm) < 0)
        return NAHR_ENOMEM;

    /* distinct (type, canonical): few mentions per article, so a linear
     * search beats hashing */
    size_t ne = 0;
    for (size_t i = 0; i < nm; i++) {
        const char *c = m[i].canonical ? m[i].canonical : m[i].text;
        size_t cl = m[i].canonical ? strlen(m[i].canonical) : m[i].text_len;
        size_t j = 0;
        for (; j < ne; j++)
            if (e[j].canonical_len == cl && strcmp(e[j].type, m[i].type) == 0 && memcmp(e[j].canonical, c, cl) == 0)
                break;
        if (j < ne) {
            e[j].count++;
        } else {
            e[ne++] = (export_entity){.type = m[i].type, .canonical = c, .canonical_len = cl, .count = 1,
                                      .first_mention = i};
        }
    }
    rec->mentions = m;
    rec->nmentions = nm;
    rec->entities = e;
    rec->nentities = ne;
    return NAHR_OK;
}

const nahr_value *record_field_path(const nahr_doc *doc, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return nahr_doc_field(doc, path);
    char head[256];
    size_t hl = (size_t)(dot - path);
    if (hl >= sizeof head)
        return NULL;
    memcpy(head, path, hl);
    head[hl] = 0;
    const nahr_value *v = nahr_doc_field(doc, head);
    const char *p = dot + 1;
    while (v && *p) {
        const char *nd = strchr(p, '.');
        size_t l = nd ? (size_t)(nd - p) : strlen(p);
        if (l >= sizeof head || nahr_value_kind(v) != NAHR_V_OBJECT)
            return NULL;
        memcpy(head, p, l);
        head[l] = 0;
        v = nahr_value_get(v, head);
        p = nd ? nd + 1 : p + l;
    }
    return v;
}

int record_value_text(const nahr_value *v, nahr_buf *out)
{
    if (!v)
        return NAHR_OK;
    size_t n;
    const char *s;
    switch (nahr_value_kind(v)) {
    case NAHR_V_NULL: return NAHR_OK;
    case NAHR_V_STRING:
        s = nahr_value_as_string(v, &n);
        return nahr_buf_append(out, s, n);
    case NAHR_V_BOOL: return nahr_buf_puts(out, nahr_value_as_bool(v) ? "true" : "false");
    default: return nahr_value_write_json(v, out);
    }
}

int record_fields_json(const nahr_doc *doc, nahr_buf *out)
{
    int rc = nahr_buf_putc(out, '{');
    size_t nf = nahr_doc_field_count(doc);
    for (size_t i = 0; i < nf; i++) {
        const char *key;
        const nahr_value *v = nahr_doc_field_at(doc, i, &key);
        if (i)
            rc |= nahr_buf_putc(out, ',');
        rc |= nahr_buf_json_string(out, key, strlen(key));
        rc |= nahr_buf_putc(out, ':');
        rc |= nahr_value_write_json(v, out);
    }
    rc |= nahr_buf_putc(out, '}');
    return rc ? NAHR_ENOMEM : NAHR_OK;
}
