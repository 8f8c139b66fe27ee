/* keywords_bg - builds the background document-frequency list of the keywords
 * plugin from plain text, one document per line on stdin:
 *   python3 -c 'import json,sys;[print(json.loads(l)["text"].replace("\n"," ")) for l in sys.stdin]' \
 *       < corpus.jsonl | ./keywords_bg 3 > background.tsv
 * Terms are counted exactly as the plugin counts them (terms.h). Keeps terms
 * seen in at least MIN_DF documents (argument, default 3). */
#include "terms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *term;
    uint32_t df, last_doc;
} entry;

static entry *tab;
static size_t cap = 1 << 20, used;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

int main(int argc, char **argv)
{
    unsigned min_df = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
    tab = calloc(cap, sizeof *tab);
    char *line = NULL;
    size_t lcap = 0, toks_cap = 0;
    ssize_t len;
    uint32_t docs = 0;
    nahr_token *toks = NULL;
    while ((len = getline(&line, &lcap, stdin)) > 0) {
        docs++;
        size_t n = (size_t)len;
        if (nahr_utf8_check(line, n) != n)
            continue;
        size_t ntok = nahr_tokenize(line, n, NULL, 0);
        if (ntok > toks_cap) {
            toks_cap = ntok * 2;
            toks = realloc(toks, toks_cap * sizeof *toks);
        }
        nahr_tokenize(line, n, toks, ntok);
        for (size_t t = 0; t < ntok; t++) {
            char term[KW_MAX_TERM];
            size_t surf, tl = kw_term(line, &toks[t], term, &surf);
            if (!tl)
                continue;
            size_t i = hash(term, tl) & (cap - 1);
            while (tab[i].term && strcmp(tab[i].term, term) != 0)
                i = (i + 1) & (cap - 1);
            if (!tab[i].term) {
                if (used * 2 > cap) /* table full: keep counting what we have */
                    continue;
                tab[i].term = strdup(term);
                used++;
            }
            if (tab[i].last_doc != docs) {
                tab[i].df++;
                tab[i].last_doc = docs;
            }
        }
    }
    printf("#docs\t%u\n", docs);
    for (size_t i = 0; i < cap; i++)
        if (tab[i].term && tab[i].df >= min_df)
            printf("%s\t%u\n", tab[i].term, tab[i].df);
    return 0;
}
