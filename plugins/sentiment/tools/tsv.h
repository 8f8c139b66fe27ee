/* tsv.h - reading labelled TSV files (label<TAB>text) for the sentiment
 * tools. Header-only, tools only. */
#ifndef SENTI_TSV_H
#define SENTI_TSV_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "senti.h"

typedef struct tsv_row {
    int cls;    /* SENTI_NEG / NEU / POS */
    char *text; /* owned */
    size_t len;
} tsv_row;

typedef struct tsv_set {
    tsv_row *rows;
    size_t n, cap;
} tsv_set;

/* Appends the rows of path. Blank lines and lines starting with '#' are
 * skipped; an unknown label or a line without a tab is an error naming the
 * file and line. Returns 0 or -1 (message on stderr). */
static int tsv_load(tsv_set *set, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t n = (size_t)len;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        line[n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *tab = memchr(line, '\t', n);
        if (!tab) {
            fprintf(stderr, "%s:%ld: expected 'label<TAB>text'\n", path, lineno);
            rc = -1;
            break;
        }
        int cls = senti_label_parse(line, (size_t)(tab - line));
        if (cls < 0) {
            fprintf(stderr, "%s:%ld: unknown label '%.*s'\n", path, lineno, (int)(tab - line), line);
            rc = -1;
            break;
        }
        size_t tl = n - (size_t)(tab + 1 - line);
        if (nahr_utf8_check(tab + 1, tl) != tl) {
            fprintf(stderr, "%s:%ld: invalid UTF-8\n", path, lineno);
            rc = -1;
            break;
        }
        if (set->n == set->cap) {
            size_t nc = set->cap ? set->cap * 2 : 1024;
            tsv_row *nr = realloc(set->rows, nc * sizeof *nr);
            if (!nr) {
                rc = -1;
                break;
            }
            set->rows = nr;
            set->cap = nc;
        }
        char *t = malloc(tl + 1);
        if (!t) {
            rc = -1;
            break;
        }
        memcpy(t, tab + 1, tl);
        t[tl] = '\0';
        /* literal "\n" in a TSV cell stands for a line break (articles) */
        size_t o = 0;
        for (size_t i = 0; i < tl; i++) {
            if (t[i] == '\\' && i + 1 < tl && t[i + 1] == 'n') {
                t[o++] = '\n';
                i++;
            } else {
                t[o++] = t[i];
            }
        }
        t[o] = '\0';
        set->rows[set->n].cls = cls;
        set->rows[set->n].text = t;
        set->rows[set->n].len = o;
        set->n++;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

static void tsv_free(tsv_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->rows[i].text);
    free(set->rows);
    memset(set, 0, sizeof *set);
}

#endif
