/* ner_conll.c - CoNLL-style corpora and the entity-level scorer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ner_internal.h"

static int unknown_as_o; /* ner_conll_unknown_as_o() */

void ner_conll_unknown_as_o(int on) { unknown_as_o = on; }

/* the entity type of a tag's type name, case-insensitive, with the names
 * other corpora use (OntoNotes, CoNLL-2003, WikiFANE-style long names) */
static int type_of_name(const char *t, size_t n)
{
    static const struct {
        const char *name;
        int type;
    } names[] = {{"PER", 1},          {"PERS", 1},         {"PERSON", 1},        {"LOC", 2},
                 {"LOCATION", 2},     {"GPE", 2},          {"ORG", 3},           {"ORGANIZATION", 3},
                 {"ORGANISATION", 3}, {"MISC", 4},         {"MISCELLANEOUS", 4}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !strncasecmp(t, names[i].name, n))
            return names[i].type;
    return 0;
}

int ner_tag_parse(const char *s, size_t n)
{
    if (n == 1 && (s[0] == 'O' || s[0] == 'o'))
        return 0;
    /* B/I (IOB2), and S/U (one-token entity) = B, E/L (last token) = I (IOBES, BILOU) */
    const char *begin = "BSUbsu", *inside = "IELiel";
    if (n < 3 || (s[1] != '-' && s[1] != '_') || (!strchr(begin, s[0]) && !strchr(inside, s[0])) || !s[0])
        return -1;
    int type = type_of_name(s + 2, n - 2);
    if (!type)
        return unknown_as_o ? 0 : -1;
    return strchr(begin, s[0]) ? 2 * type - 1 : 2 * type;
}

void ner_corpus_free(ner_corpus *c)
{
    free(c->text);
    free(c->toks);
    free(c->gold);
    free(c->sent);
    memset(c, 0, sizeof *c);
}

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

int ner_conll_parse(const char *data, size_t len, const char *name, ner_corpus *c, char *err,
                    size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    c->text = malloc(len + 2);
    c->toks = malloc(lines * sizeof *c->toks);
    c->gold = malloc(lines);
    c->sent = malloc((lines + 2) * sizeof *c->sent);
    if (!c->text || !c->toks || !c->gold || !c->sent) {
        ner_corpus_free(c);
        snprintf(err, errlen, "out of memory reading %s", name);
        return NAHR_ENOMEM;
    }
    size_t tl = 0, lineno = 0, pos = 0;
    c->sent[0] = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && data[e] != '\n')
            e++;
        lineno++;
        size_t a = pos, b = e;
        pos = e + 1;
        while (a < b && is_space(data[a]))
            a++;
        while (b > a && is_space(data[b - 1]))
            b--;
        if (a == b) { /* sentence break */
            if (c->ntok > c->sent[c->nsent]) {
                c->toks[c->ntok - 1].flags |= NAHR_TOK_SENT_END;
                c->sent[++c->nsent] = c->ntok;
                if (tl > 0)
                    c->text[tl - 1] = '\n';
            }
            continue;
        }
        if (b - a >= 10 && !memcmp(data + a, "-DOCSTART-", 10))
            continue;
        size_t t = b; /* the tag is the last field */
        while (t > a && !is_space(data[t - 1]))
            t--;
        size_t ws = a, we = a; /* the token is the first field */
        while (we < b && !is_space(data[we]))
            we++;
        if (t == a || we > t) {
            snprintf(err, errlen, "%s:%zu: expected 'token<TAB>tag'", name, lineno);
            ner_corpus_free(c);
            return NAHR_EFORMAT;
        }
        int tag = ner_tag_parse(data + t, b - t);
        if (tag < 0) {
            snprintf(err, errlen,
                     "%s:%zu: unknown tag '%.*s' (expected O or B-/I-/S-/E- with PER(S)/PERSON, LOC/GPE, "
                     "ORG, MISC; --unknown-tags o reads other entity types as O)",
                     name, lineno, (int)(b - t > 40 ? 40 : b - t), data + t);
            ner_corpus_free(c);
            return NAHR_EFORMAT;
        }
        if (nahr_utf8_check(data + ws, we - ws) != we - ws) {
            snprintf(err, errlen, "%s:%zu: token is not valid UTF-8", name, lineno);
            ner_corpus_free(c);
            return NAHR_EFORMAT;
        }
        nahr_token *tk = &c->toks[c->ntok];
        tk->start = tl;
        memcpy(c->text + tl, data + ws, we - ws);
        tl += we - ws;
        tk->end = tl;
        c->text[tl++] = ' ';
        tk->kind = NAHR_TOK_WORD;
        tk->flags = 0;
        c->gold[c->ntok++] = (uint8_t)tag;
    }
    if (c->ntok > c->sent[c->nsent]) {
        c->toks[c->ntok - 1].flags |= NAHR_TOK_SENT_END;
        c->sent[++c->nsent] = c->ntok;
    }
    c->text[tl] = '\0';
    c->textlen = tl;
    return 0;
}

int ner_conll_read(const char *path, ner_corpus *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    nahr_buf b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = nahr_buf_append(&b, chunk, n)) != 0)
            break;
    if (ferror(f) && rc == 0)
        rc = NAHR_EIO;
    fclose(f);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read %s", path);
        nahr_buf_free(&b);
        return rc;
    }
    rc = ner_conll_parse(b.data ? b.data : "", b.len, path, c, err, errlen);
    nahr_buf_free(&b);
    return rc;
}

/* ---- scoring ---- */

typedef struct chunk {
    size_t start, end;
    unsigned type;
} chunk;

static unsigned tag_type(unsigned t) { return t ? (t + 1) / 2 : 0; }

/* conlleval chunking: a chunk starts at B-X, or at I-X that does not
 * continue an X chunk; it ends before the first tag that is not I-X. */
static size_t chunks_of(const uint8_t *tags, size_t n, chunk *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned ty = tag_type(tags[i]);
        if (!ty) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && tags[j] && !(tags[j] & 1u) && tag_type(tags[j]) == ty)
            j++;
        out[k].start = i;
        out[k].end = j;
        out[k].type = ty;
        k++;
        i = j;
    }
    return k;
}

void ner_score_add(ner_score *s, const uint8_t *gold, const uint8_t *pred, size_t n)
{
    enum { STACK = 256 };
    chunk gs[STACK], ps[STACK];
    chunk *g = n <= STACK ? gs : malloc(n * sizeof *g);
    chunk *p = n <= STACK ? ps : malloc(n * sizeof *p);
    if (!g || !p) {
        if (g != gs)
            free(g);
        if (p != ps)
            free(p);
        return;
    }
    size_t ng = chunks_of(gold, n, g), np = chunks_of(pred, n, p);
    size_t a = 0, b = 0;
    while (a < ng || b < np) {
        if (a < ng && b < np && g[a].start == p[b].start && g[a].end == p[b].end &&
            g[a].type == p[b].type) {
            s->tp[0]++, s->tp[g[a].type]++;
            a++, b++;
        } else if (b >= np || (a < ng && (g[a].start < p[b].start ||
                                          (g[a].start == p[b].start && g[a].end <= p[b].end)))) {
            s->fn[0]++, s->fn[g[a].type]++;
            a++;
        } else {
            s->fp[0]++, s->fp[p[b].type]++;
            b++;
        }
    }
    if (g != gs)
        free(g);
    if (p != ps)
        free(p);
}

double ner_score_prf(const ner_score *s, unsigned type, double *p, double *r)
{
    double tp = (double)s->tp[type], fp = (double)s->fp[type], fn = (double)s->fn[type];
    double pp = tp + fp > 0 ? tp / (tp + fp) : 0, rr = tp + fn > 0 ? tp / (tp + fn) : 0;
    if (p)
        *p = pp;
    if (r)
        *r = rr;
    return pp + rr > 0 ? 2 * pp * rr / (pp + rr) : 0;
}

void ner_score_print(const ner_score *s, FILE *out)
{
    fprintf(out, "%-5s %9s %9s %9s %7s %7s %7s\n", "type", "precision", "recall", "F1", "gold",
            "pred", "correct");
    for (unsigned t = 1; t <= NER_NTYPES + 1; t++) {
        unsigned ty = t == NER_NTYPES + 1 ? 0 : t;
        double p, r, f = ner_score_prf(s, ty, &p, &r);
        fprintf(out, "%-5s %9.4f %9.4f %9.4f %7zu %7zu %7zu\n", ty ? ner_type_names[ty] : "micro",
                p, r, f, s->tp[ty] + s->fn[ty], s->tp[ty] + s->fp[ty], s->tp[ty]);
    }
}
