/* eval_anercorp.c - quality and speed of the entities tagger.
 *
 *   nahr-eval-entities [--file CONLL] [--no-builtin] [--gazetteer TYPE:PATH]...
 *                      [--model PATH [--model-alone] [--veto X] [--veto-org X]
 *                      [--veto-loc X] [--anercorp-money]] [--output FILE] [--errors N] [--check]
 *   nahr-eval-entities --bench FILE.jsonl... [--repeat N]
 *
 * Quality: reads a CoNLL-like file (token<TAB>tag, blank line between
 * sentences; ANERcorp's tags O, B-/I-PERS, LOC, ORG, MISC), joins each
 * sentence's tokens with spaces, tags the text, maps the spans back onto the
 * tokens (a token overlapping a span is B- for the first, I- after) and scores
 * entity chunks the conlleval way (an I- tag that does not continue a chunk
 * of its type starts one). Default file: $NAHR_SHARED_DIR/data/anercorp/test.txt.
 * --check exits 1 when micro-F1 falls below a floor (a regression guard), and
 * 77 (skipped) when the data is absent. --model-alone scores the model's own
 * spans on the same documents (no lists, rules or filters), so the model
 * alone and the combination compare exactly; --output writes one
 * 'token gold predicted score' line per token (blank line between documents).
 * --anercorp-money sets money_first = false: a currency after an amount stays
 * the model's MISC, as ANERcorp annotates it (the default makes the amount a
 * MONEY span, which the scorer counts as O).
 *
 * Speed: --bench reads JSON Lines articles ("text") and reports MB/s of
 * ent_tag() alone on one core, and the lexicon build time.
 */
#include "ent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>

#ifdef ENT_HAVE_NER
#include "ner_cache.h"
#include "ner_model.h"

static int eval_tag_margin(const void *model, const char *text, const nahr_token *toks, size_t ntok,
                           void *scratch, uint8_t *tags, float *margin)
{
    return ner_model_tag_margin(model, NULL, text, toks, ntok, scratch, tags, margin);
}
#endif

#ifndef ENT_DATA_DIR
#define ENT_DATA_DIR "data"
#endif

#define CHECK_FLOOR 0.45 /* micro-F1 below this fails --check */

/* CPU time of this thread: per-core throughput, independent of other load
 * on the machine */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int build_lexicon(ent_lexicon **out, int builtin, char **gaz, int ngaz)
{
    static const struct {
        const char *file;
        int type;
        uint32_t flags;
    } files[] = {{"loc.txt", ENT_LOC, 0},           {"org.txt", ENT_ORG, 0},          {"misc.txt", ENT_MISC, 0},
                 {"per.txt", ENT_PER, 0},           {"first_names.txt", 0, W_FIRST}, {"last_names.txt", 0, W_LAST},
                 {"common_words.txt", 0, W_STOP}};
    ent_lexicon *lx = ent_lexicon_new();
    char path[4096], err[1024];
    size_t i;
    int k;
    if (!lx || ent_lexicon_add_rules(lx) != NAHR_OK)
        return -1;
    for (i = 0; builtin && i < sizeof files / sizeof files[0]; i++) {
        int rc;
        snprintf(path, sizeof path, "%s/%s", ENT_DATA_DIR, files[i].file);
        rc = files[i].type ? ent_lexicon_load_gazetteer(lx, files[i].type, path, err, sizeof err)
                           : ent_lexicon_load_words(lx, files[i].flags, path, err, sizeof err);
        if (rc != NAHR_OK) {
            fprintf(stderr, "%s\n", err);
            ent_lexicon_free(lx);
            return -1;
        }
    }
    for (k = 0; k < ngaz; k++) {
        const char *colon = strchr(gaz[k], ':');
        int type = colon ? ent_type_from_name(gaz[k], (size_t)(colon - gaz[k])) : 0;
        if (!type || ent_lexicon_load_gazetteer(lx, type, colon + 1, err, sizeof err) != NAHR_OK) {
            fprintf(stderr, "--gazetteer %s: %s\n", gaz[k], type ? err : "expected TYPE:PATH");
            ent_lexicon_free(lx);
            return -1;
        }
    }
    ent_lexicon_finish(lx);
    *out = lx;
    return 0;
}

static int unknown_as_o; /* --unknown-tags o */
static int model_alone;  /* --model-alone: the model's spans only, no lists, rules or filters */
static FILE *out_tokens; /* --output FILE: 'token gold predicted score' lines */

/* --model-alone: the model's BIO tags over the same tokens, as spans, so the
 * model alone and the combination are scored by the same scorer on the same
 * documents (the model's own nahr-eval-ner cuts its pseudo-articles its own way) */
static void tag_model_alone(const ent_model_hook *h, nahr_doc *doc)
{
    size_t n, len, k = 0;
    const char *text = nahr_doc_text(doc, &len);
    const nahr_token *tok = nahr_doc_tokens(doc, 4000000, &n);
    uint8_t *tags;
    void *scratch = NULL;
    if (!tok || !n || !(tags = calloc(n + 1, 1)))
        return;
    if (h->scratch_size && !(scratch = malloc(h->scratch_size(h->model, n) + 1))) {
        free(tags);
        return;
    }
    if (h->tag(h->model, text, tok, n, scratch, tags) == 0) {
        while (k < n) {
            size_t e = k + 1;
            if (tags[k] == 0 || tags[k] > 8) {
                k++;
                continue;
            }
            while (e < n && tags[e] == tags[k] + ((tags[k] & 1) ? 1 : 0) && (tags[e] & 1) == 0)
                e++;
            nahr_doc_add_span_in(doc, "entities", ent_type_name[(tags[k] + 1) / 2], tok[k].start, tok[e - 1].end);
            k = e;
        }
    }
    free(scratch);
    free(tags);
}

/* tags: 0 = O, type*2-1 = B, type*2 = I (type 1..4 = PER LOC ORG MISC); -1 =
 * not a tag. B-/I- (IOB2), S-/U- (one-token entity) as B-, E-/L- (last
 * token) as I-. DATE and the other types this plugin has but the scorer
 * does not count are O; an unknown type is an error unless --unknown-tags o. */
static int tag_code(const char *t)
{
    const char *begin = "BSUbsu", *inside = "IELiel";
    int type;
    if ((t[0] == 'O' || t[0] == 'o') && !t[1])
        return 0;
    if (!t[0] || (!strchr(begin, t[0]) && !strchr(inside, t[0])) || (t[1] != '-' && t[1] != '_'))
        return -1;
    type = ent_type_from_name(t + 2, strlen(t + 2));
    if (type == ENT_NONE)
        return unknown_as_o ? 0 : -1;
    if (type < ENT_PER || type > ENT_MISC)
        return 0;
    return strchr(begin, t[0]) ? type * 2 - 1 : type * 2;
}

typedef struct chunk {
    int start, end, type;
} chunk;

/* conlleval chunking */
static int chunks(const int *tags, int n, chunk *out)
{
    int k = 0, i = 0;
    while (i < n) {
        int t = tags[i], type, j;
        if (!t) {
            i++;
            continue;
        }
        type = (t + 1) / 2;
        j = i + 1;
        while (j < n && tags[j] == type * 2)
            j++;
        out[k].start = i;
        out[k].end = j;
        out[k].type = type;
        k++;
        i = j;
    }
    return k;
}

typedef struct counts {
    long tp[ENT_MISC + 1], fp[ENT_MISC + 1], fn[ENT_MISC + 1];
} counts;

static void prf(long tp, long fp, long fn, double *p, double *r, double *f)
{
    *p = tp + fp ? (double)tp / (tp + fp) : 0;
    *r = tp + fn ? (double)tp / (tp + fn) : 0;
    *f = *p + *r > 0 ? 2 * *p * *r / (*p + *r) : 0;
}

static int eval_file(const char *file, const ent_lexicon *lx, const ent_opts *o, const ent_model_hook *hook,
                     int show_errors, int group, double *micro_f1)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    nahr_buf text = {0};
    size_t cap = 4096, ntok = 0, nsent = 0, i;
    size_t *tstart = malloc(cap * sizeof *tstart), *tend = malloc(cap * sizeof *tend);
    int *gold = malloc(cap * sizeof *gold), *pred = malloc(cap * sizeof *pred);
    double *score = malloc(cap * sizeof *score);
    chunk *gc = malloc(cap * sizeof *gc), *pc = malloc(cap * sizeof *pc);
    counts c;
    nahr_doc *doc = nahr_doc_new();
    double t_tag = 0;
    size_t bytes = 0;
    int eof = 0, shown = 0, in_group = 0, pending_break = 0, rc = 0;
    size_t lineno = 0;

    memset(&c, 0, sizeof c);
    if (!f || !tstart || !tend || !gold || !pred || !score || !gc || !pc || !doc) {
        fprintf(stderr, "%s: cannot open or out of memory\n", file);
        rc = -1;
        goto out;
    }
    while (!eof) {
        char *got = fgets(line, sizeof line, f);
        size_t ll;
        if (!got)
            eof = 1;
        ll = got ? strcspn(line, "\r\n") : 0;
        line[ll] = 0;
        lineno += got != NULL;
        while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t'))
            line[--ll] = 0;
        if (got && ll > 0 && !strncmp(line, "-DOCSTART-", 10))
            continue;
        if (got && ll > 0) {
            /* the token is the first field, the tag the last (other columns: POS...) */
            char *tab = line + strcspn(line, " \t"), *tag = line + ll;
            while (tag > tab && tag[-1] != ' ' && tag[-1] != '\t')
                tag--;
            if (!*tab || tag <= tab) {
                fprintf(stderr, "%s:%zu: expected 'token<TAB>tag'\n", file, lineno);
                rc = -1;
                goto out;
            }
            *tab = 0;
            int code = tag_code(tag);
            if (code < 0) {
                fprintf(stderr,
                        "%s:%zu: unknown tag '%s' (expected O or B-/I-/S-/E- with PER(S)/PERSON, LOC/GPE, ORG, MISC; "
                        "--unknown-tags o reads other entity types as O)\n",
                        file, lineno, tag);
                rc = -1;
                goto out;
            }
            if (ntok == cap)
                continue; /* absurdly long sentence: ignore the rest */
            if (text.len)
                nahr_buf_puts(&text, pending_break ? "\n\n" : " ");
            pending_break = 0;
            tstart[ntok] = text.len;
            nahr_buf_puts(&text, line);
            tend[ntok] = text.len;
            gold[ntok] = code;
            ntok++;
            continue;
        }
        if (ntok == 0)
            continue;
        /* a sentence is complete; --group N tags N sentences as one document
         * (paragraphs), so in-document coreference can work */
        if (!eof && ++in_group < group) {
            pending_break = 1;
            continue;
        }
        in_group = 0;
        pending_break = 0;
        {
            double t0 = now();
            size_t ns, k;
            int ng, np, a, b;
            nahr_doc_reset(doc);
            if (nahr_doc_set_text(doc, text.data, text.len) != NAHR_OK) {
                fprintf(stderr, "%s: sentence %zu: bad text\n", file, nsent + 1);
                goto next;
            }
            if (model_alone && hook)
                tag_model_alone(hook, doc);
            else
                ent_tag(lx, o, hook, doc);
            t_tag += now() - t0;
            bytes += text.len;
            memset(pred, 0, ntok * sizeof *pred);
            ns = nahr_doc_span_count(doc);
            for (k = 0; k < ns; k++) {
                nahr_span *s = nahr_doc_span(doc, k);
                int type = ent_type_from_name(s->type, strlen(s->type));
                int first = 1;
                if (type < ENT_PER || type > ENT_MISC)
                    continue;
                for (i = 0; i < ntok; i++) {
                    if (tend[i] <= s->start || tstart[i] >= s->end)
                        continue;
                    pred[i] = first ? type * 2 - 1 : type * 2;
                    score[i] = s->score;
                    first = 0;
                }
            }
            for (i = 0; out_tokens && i < ntok; i++) {
                static const char *const bio[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"};
                fprintf(out_tokens, "%.*s %s %s %.1f\n", (int)(tend[i] - tstart[i]), text.data + tstart[i], bio[gold[i]],
                        bio[pred[i]], pred[i] ? score[i] : 0.0);
            }
            if (out_tokens)
                fputc('\n', out_tokens);
            ng = chunks(gold, (int)ntok, gc);
            np = chunks(pred, (int)ntok, pc);
            for (a = 0; a < ng; a++) {
                int hit = 0;
                for (b = 0; b < np; b++)
                    if (gc[a].start == pc[b].start && gc[a].end == pc[b].end && gc[a].type == pc[b].type)
                        hit = 1;
                if (hit)
                    c.tp[gc[a].type]++;
                else
                    c.fn[gc[a].type]++;
                if (!hit && shown < show_errors) {
                    printf("FN %-4s ", ent_type_name[gc[a].type]);
                    fwrite(text.data + tstart[gc[a].start], 1, tend[gc[a].end - 1] - tstart[gc[a].start], stdout);
                    printf("\n");
                    shown++;
                }
            }
            for (b = 0; b < np; b++) {
                int hit = 0;
                for (a = 0; a < ng; a++)
                    if (gc[a].start == pc[b].start && gc[a].end == pc[b].end && gc[a].type == pc[b].type)
                        hit = 1;
                if (!hit) {
                    c.fp[pc[b].type]++;
                    if (shown < show_errors) {
                        printf("FP %-4s ", ent_type_name[pc[b].type]);
                        fwrite(text.data + tstart[pc[b].start], 1, tend[pc[b].end - 1] - tstart[pc[b].start], stdout);
                        printf("\n");
                        shown++;
                    }
                }
            }
        }
    next:
        nsent++;
        ntok = 0;
        nahr_buf_reset(&text);
    }
    fclose(f);
    f = NULL;
    {
        long TP = 0, FP = 0, FN = 0;
        double p, r, fs;
        int t;
        printf("%-6s %7s %7s %7s %6s %6s\n", "type", "P", "R", "F1", "TP", "gold");
        for (t = ENT_PER; t <= ENT_MISC; t++) {
            prf(c.tp[t], c.fp[t], c.fn[t], &p, &r, &fs);
            printf("%-6s %7.2f %7.2f %7.2f %6ld %6ld\n", ent_type_name[t], 100 * p, 100 * r, 100 * fs, c.tp[t],
                   c.tp[t] + c.fn[t]);
            TP += c.tp[t];
            FP += c.fp[t];
            FN += c.fn[t];
        }
        prf(TP, FP, FN, &p, &r, &fs);
        printf("%-6s %7.2f %7.2f %7.2f %6ld %6ld\n", "micro", 100 * p, 100 * r, 100 * fs, TP, TP + FN);
        printf("documents %zu, %.1f MB tagged in %.3f s CPU (%.1f MB/s)\n", nsent, bytes / 1e6, t_tag,
               t_tag > 0 ? bytes / 1e6 / t_tag : 0);
        *micro_f1 = fs;
    }
out:
    if (f)
        fclose(f);
    nahr_doc_free(doc);
    nahr_buf_free(&text);
    free(tstart);
    free(tend);
    free(gold);
    free(pred);
    free(score);
    free(gc);
    free(pc);
    return rc;
}

/* --seeds GOLD: bag of distinct (type, canonical) per seed article. The gold
 * file has "prefix<TAB>TYPE<TAB>canonical" lines; the article is the file of
 * $NAHR_SHARED_DIR/seeds/ whose name starts with prefix. A predicted entity
 * counts by its canonical form (its text when it has none). */
typedef struct bag_item {
    char prefix[16];
    int type;
    char name[256];
    int hit;
} bag_item;

static int read_all(const char *path, nahr_buf *out)
{
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n;
    if (!f)
        return -1;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        nahr_buf_append(out, buf, n);
    fclose(f);
    return 0;
}

static int eval_seeds(const char *gold_path, const char *dir, const ent_lexicon *lx, const ent_opts *o,
                      const ent_model_hook *hook, int show)
{
    FILE *f = fopen(gold_path, "r");
    char line[1024];
    bag_item *gold = NULL;
    size_t ng = 0, capg = 0, i;
    long tp[ENT_MISC + 1] = {0}, fp[ENT_MISC + 1] = {0}, fn[ENT_MISC + 1] = {0};
    char done[64][16];
    int ndone = 0, t;
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", gold_path);
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        char *a = line, *b, *c;
        line[strcspn(line, "\r\n")] = 0;
        if (!*line || *line == '#' || !(b = strchr(a, '\t')) || !(c = strchr(b + 1, '\t')))
            continue;
        *b++ = 0;
        *c++ = 0;
        if (ng == capg) {
            capg = capg ? capg * 2 : 64;
            gold = realloc(gold, capg * sizeof *gold);
        }
        snprintf(gold[ng].prefix, sizeof gold[ng].prefix, "%.15s", a);
        gold[ng].type = ent_type_from_name(b, strlen(b));
        snprintf(gold[ng].name, sizeof gold[ng].name, "%.255s", c);
        gold[ng].hit = 0;
        ng++;
    }
    fclose(f);
    for (i = 0; i < ng; i++) {
        const char *prefix = gold[i].prefix;
        DIR *d;
        struct dirent *de;
        char path[4096] = "";
        nahr_buf text = {0};
        nahr_doc *doc;
        size_t k, nseen = 0;
        int seen_before = 0, q;
        char (*seen)[300];
        for (q = 0; q < ndone; q++)
            if (!strcmp(done[q], prefix))
                seen_before = 1;
        if (seen_before || ndone == 64)
            continue;
        snprintf(done[ndone++], 16, "%.15s", prefix);
        d = opendir(dir);
        while (d && (de = readdir(d)) != NULL)
            if (!strncmp(de->d_name, prefix, strlen(prefix)))
                snprintf(path, sizeof path, "%.3000s/%.255s", dir, de->d_name);
        if (d)
            closedir(d);
        if (!*path || read_all(path, &text) != 0) {
            fprintf(stderr, "seed %s: not found in %s\n", prefix, dir);
            continue;
        }
        doc = nahr_doc_new();
        nahr_doc_set_text(doc, text.data, text.len);
        ent_tag(lx, o, hook, doc);
        seen = calloc(nahr_doc_span_count(doc) + 1, sizeof *seen);
        for (k = 0; k < nahr_doc_span_count(doc); k++) {
            nahr_span *s = nahr_doc_span(doc, k);
            int type = ent_type_from_name(s->type, strlen(s->type)), dup = 0, hit = 0;
            char key[300];
            size_t g, z;
            if (type < ENT_PER || type > ENT_MISC)
                continue;
            if (s->canonical)
                snprintf(key, sizeof key, "%d%s", type, s->canonical);
            else
                snprintf(key, sizeof key, "%d%.*s", type, (int)(s->end - s->start), text.data + s->start);
            for (z = 0; z < nseen; z++)
                if (!strcmp(seen[z], key))
                    dup = 1;
            if (dup)
                continue;
            memcpy(seen[nseen++], key, sizeof key);
            for (g = 0; g < ng; g++)
                if (!strcmp(gold[g].prefix, prefix) && gold[g].type == type && !strcmp(gold[g].name, key + 1)) {
                    gold[g].hit = 1;
                    hit = 1;
                }
            if (hit)
                tp[type]++;
            else {
                fp[type]++;
                if (show)
                    printf("FP %s %s %s\n", prefix, ent_type_name[type], key + 1);
            }
        }
        free(seen);
        nahr_doc_free(doc);
        nahr_buf_free(&text);
    }
    for (i = 0; i < ng; i++)
        if (!gold[i].hit && gold[i].type >= ENT_PER && gold[i].type <= ENT_MISC) {
            fn[gold[i].type]++;
            if (show)
                printf("FN %s %s %s\n", gold[i].prefix, ent_type_name[gold[i].type], gold[i].name);
        }
    {
        long TP = 0, FP = 0, FN = 0;
        double p, r, fs;
        printf("seeds: %d articles, distinct entities by canonical form\n", ndone);
        printf("%-6s %7s %7s %7s %6s %6s\n", "type", "P", "R", "F1", "TP", "gold");
        for (t = ENT_PER; t <= ENT_MISC; t++) {
            prf(tp[t], fp[t], fn[t], &p, &r, &fs);
            printf("%-6s %7.2f %7.2f %7.2f %6ld %6ld\n", ent_type_name[t], 100 * p, 100 * r, 100 * fs, tp[t],
                   tp[t] + fn[t]);
            TP += tp[t];
            FP += fp[t];
            FN += fn[t];
        }
        prf(TP, FP, FN, &p, &r, &fs);
        printf("%-6s %7.2f %7.2f %7.2f %6ld %6ld\n", "micro", 100 * p, 100 * r, 100 * fs, TP, TP + FN);
    }
    free(gold);
    return 0;
}

/* --bench: "text" of each JSON line, unescaped by a minimal reader. */
static int bench(char **files, int nfiles, const ent_lexicon *lx, const ent_opts *o, const ent_model_hook *hook,
                 int repeat)
{
    nahr_buf all = {0};
    size_t *offs = NULL, noffs = 0, cap = 0, i;
    nahr_doc *doc = nahr_doc_new();
    double t0, dt;
    size_t spans = 0;
    int k, r;
    for (k = 0; k < nfiles; k++) {
        FILE *f = fopen(files[k], "r");
        char *line = NULL;
        size_t lcap = 0;
        ssize_t got;
        if (!f) {
            fprintf(stderr, "%s: cannot open\n", files[k]);
            return 1;
        }
        while ((got = getline(&line, &lcap, f)) > 0) {
            char *p = strstr(line, "\"text\"");
            if (!p)
                continue;
            p = strchr(p + 6, '"');
            if (!p)
                continue;
            p++;
            if (noffs + 2 > cap) {
                cap = cap ? cap * 2 : 1024;
                offs = realloc(offs, cap * sizeof *offs);
            }
            offs[noffs++] = all.len;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) {
                    p++;
                    if (*p == 'n')
                        nahr_buf_putc(&all, '\n');
                    else if (*p == 't')
                        nahr_buf_putc(&all, '\t');
                    else if (*p == 'u') {
                        unsigned cp = (unsigned)strtoul((char[5]){p[1], p[2], p[3], p[4], 0}, NULL, 16);
                        char u8[4];
                        size_t m = nahr_utf8_put(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp, u8);
                        nahr_buf_append(&all, u8, m);
                        p += 4;
                    } else
                        nahr_buf_putc(&all, *p);
                    p++;
                } else {
                    nahr_buf_putc(&all, *p++);
                }
            }
            nahr_buf_putc(&all, 0);
        }
        free(line);
        fclose(f);
    }
    if (!noffs) {
        fprintf(stderr, "no articles\n");
        return 1;
    }
    t0 = now();
    for (r = 0; r < repeat; r++) {
        for (i = 0; i < noffs; i++) {
            const char *s = all.data + offs[i];
            size_t n = strlen(s);
            nahr_doc_reset(doc);
            if (nahr_doc_set_text(doc, s, n) != NAHR_OK)
                continue;
            ent_tag(lx, o, hook, doc);
            spans += nahr_doc_span_count(doc);
        }
    }
    dt = now() - t0;
    printf("bench: %zu articles x %d, %.1f MB, %.3f s CPU, %.1f MB/s per core, %.1f spans/article\n", noffs, repeat,
           (all.len - noffs) * (double)repeat / 1e6, dt, (all.len - noffs) * (double)repeat / 1e6 / dt,
           (double)spans / noffs / repeat);
    nahr_doc_free(doc);
    nahr_buf_free(&all);
    free(offs);
    return 0;
}

#ifdef ENT_HAVE_NER
static ner_model *loaded_model;
static void free_model(void)
{
    ner_model_free(loaded_model);
}
#endif

int main(int argc, char **argv)
{
    const char *file = NULL, *model = NULL, *debug_text = NULL, *seeds = NULL;
    char defpath[4096];
    char *gaz[32], *benchf[64];
    int ngaz = 0, nbench = 0, builtin = 1, check = 0, show = 0, repeat = 1, group = 1, rules_first = 0, no_rules = 0, i, rc = 0;
    ent_lexicon *lx = NULL;
    ent_opts o;
    ent_model_hook hook, *hp = NULL;
#ifdef ENT_HAVE_NER
    ner_model *m = NULL;
#endif
    double t0, f1 = 0, veto = -1, vetox[2] = {-1, -1};
    int anercorp_money = 0; /* --anercorp-money: money_first = false, ANERcorp's convention */

    memset(&hook, 0, sizeof hook);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--file") && i + 1 < argc)
            file = argv[++i];
        else if (!strcmp(argv[i], "--no-builtin"))
            builtin = 0;
        else if (!strcmp(argv[i], "--gazetteer") && i + 1 < argc && ngaz < 32)
            gaz[ngaz++] = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "--errors") && i + 1 < argc)
            show = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = argv[++i];
        else if (!strcmp(argv[i], "--text") && i + 1 < argc)
            debug_text = argv[++i];
        else if (!strcmp(argv[i], "--group") && i + 1 < argc)
            group = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rules-first"))
            rules_first = 1;
        else if (!strcmp(argv[i], "--no-rules"))
            no_rules = 1;
        else if (!strcmp(argv[i], "--anercorp-money"))
            anercorp_money = 1;
        else if ((!strcmp(argv[i], "--veto-loc") || !strcmp(argv[i], "--veto-org")) && i + 1 < argc) {
            char *end;
            int org = argv[i][7] == 'o';
            vetox[org] = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(vetox[org] >= 0)) {
                fprintf(stderr, "%s: %s needs a number >= 0 (0 = off), not '%s'\n", argv[0], argv[i - 1], argv[i]);
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--model-alone"))
            model_alone = 1;
        else if (!strcmp(argv[i], "--output") && i + 1 < argc) {
            if (!(out_tokens = fopen(argv[++i], "w"))) {
                fprintf(stderr, "%s: --output %s: cannot write\n", argv[0], argv[i]);
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--check"))
            check = 1;
        else if (!strcmp(argv[i], "--veto") && i + 1 < argc) {
            char *end;
            veto = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(veto >= 0)) {
                fprintf(stderr, "%s: --veto needs a number >= 0 (0 = off), not '%s'\n", argv[0], argv[i]);
                return 2;
            }
        }
        else if (!strcmp(argv[i], "--unknown-tags") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "o") || !strcmp(argv[i + 1], "error")))
            unknown_as_o = !strcmp(argv[++i], "o");
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc) {
            while (i + 1 < argc && argv[i + 1][0] != '-' && nbench < 64)
                benchf[nbench++] = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--file CONLL] [--no-builtin] [--gazetteer TYPE:PATH]... [--model PATH [--rules-first]] [--no-rules] "
                            "[--errors N] [--group N] [--veto X] [--veto-loc X] [--veto-org X] [--anercorp-money] [--model-alone] [--output FILE] [--unknown-tags o|error] [--text TEXT] [--seeds GOLD.tsv] [--check] | --bench FILE.jsonl... [--repeat N]\n",
                    argv[0]);
            return 2;
        }
    }
    ent_opts_default(&o);
    if (veto >= 0)
        o.model_veto = veto;
    if (anercorp_money)
        o.money_first = 0;
    if (vetox[0] >= 0)
        o.model_veto_loc = vetox[0];
    if (vetox[1] >= 0)
        o.model_veto_org = vetox[1];
    if (rules_first)
        o.model_first = 0;
    if (no_rules)
        o.rules = 0;
    t0 = now();
    if (build_lexicon(&lx, builtin, gaz, ngaz) != 0)
        return 2;
    printf("lexicon: %zu entries, %zu words, built in %.1f ms CPU\n", ent_lexicon_entry_count(lx),
           ent_lexicon_word_count(lx), (now() - t0) * 1e3);
    if (model) {
#ifdef ENT_HAVE_NER
        char err[512];
        if (ner_model_load(model, &m, err, sizeof err) != 0) {
            fprintf(stderr, "--model: %s\n", err);
            return 2;
        }
        hook.tag = (int (*)(const void *, const char *, const nahr_token *, size_t, void *, uint8_t *))ner_model_tag;
        hook.tag_margin = eval_tag_margin;
        hook.scratch_size = (size_t(*)(const void *, size_t))ner_model_scratch_size;
        hook.model = m;
        hp = &hook;
        loaded_model = m;
        atexit(free_model);
#else
        fprintf(stderr, "--model: built without the NER model\n");
        return 2;
#endif
    }
    (void)hook;
    if (seeds) {
        const char *shared = getenv("NAHR_SHARED_DIR");
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/seeds", shared ? shared : "/work/shared");
        rc = eval_seeds(seeds, dir, lx, &o, hp, show);
        ent_lexicon_free(lx);
        return rc;
    }
    if (debug_text) {
        nahr_doc *d = nahr_doc_new();
        size_t k;
        nahr_doc_set_text(d, debug_text, strlen(debug_text));
        ent_tag(lx, &o, hp, d);
        for (k = 0; k < nahr_doc_span_count(d); k++) {
            nahr_span *s = nahr_doc_span(d, k);
            printf("%s\t%.*s\t%s\t%.1f\n", s->type, (int)(s->end - s->start), debug_text + s->start,
                   s->canonical ? s->canonical : "-", s->score);
        }
        nahr_doc_free(d);
        ent_lexicon_free(lx);
        return 0;
    }
    if (nbench) {
        rc = bench(benchf, nbench, lx, &o, hp, repeat > 0 ? repeat : 1);
        ent_lexicon_free(lx);
        return rc;
    }
    if (!file) {
        const char *shared = getenv("NAHR_SHARED_DIR");
        FILE *probe;
        snprintf(defpath, sizeof defpath, "%s/data/anercorp/test.txt", shared ? shared : "/work/shared");
        file = defpath;
        probe = fopen(file, "r");
        if (!probe) {
            printf("SKIP: %s not found (set NAHR_SHARED_DIR)\n", file);
            ent_lexicon_free(lx);
            return 77;
        }
        fclose(probe);
    }
    printf("file: %s\n", file);
    if (eval_file(file, lx, &o, hp, show, group > 0 ? group : 1, &f1) != 0)
        rc = 2;
    else if (check && f1 < CHECK_FLOOR) {
        printf("FAIL: micro-F1 %.2f below the floor %.2f\n", 100 * f1, 100 * CHECK_FLOOR);
        rc = 1;
    }
    if (out_tokens && fclose(out_tokens) != 0) {
        fprintf(stderr, "%s: --output: write error\n", argv[0]);
        rc = 2;
    }
    out_tokens = NULL;
    ent_lexicon_free(lx);
    return rc;
}
