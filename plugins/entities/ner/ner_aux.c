/* ner_aux.c - auxiliary feature data stored in the model: gazetteer
 * phrases and word clusters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ner_internal.h"

static int blank(char c) { return c == ' ' || c == '\r' || c == '\n'; }

int ner_gaz_add(ner_set *gaz, const uint32_t *words, size_t n, uint32_t bits)
{
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++) {
        h = ner_phrase_step(i ? h : 0, words[i]);
        if (ner_set_put(gaz, h, i + 1 == n ? bits : NER_GAZ_PREFIX, 1) != 0)
            return NAHR_ENOMEM;
    }
    return 0;
}

long ner_gaz_load(ner_model *m, const char *path, unsigned type, char *err, size_t errlen)
{
    if (type < 1 || type > NER_NTYPES) {
        snprintf(err, errlen, "bad gazetteer type %u", type);
        return NAHR_EINVAL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open gazetteer %s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    char line[4096];
    long n = 0;
    while (fgets(line, sizeof line, f)) {
        uint32_t wh[NER_GAZ_MAXLEN + 1];
        unsigned words = 0;
        char *p = line;
        if (line[0] == '#') /* comment */
            continue;
        char *tab = strchr(line, '\t'); /* "variant<TAB>canonical": the variant */
        if (tab)
            *tab = '\0';
        while (*p) {
            while (*p && blank(*p))
                p++;
            char *w = p;
            while (*p && !blank(*p))
                p++;
            if (p == w)
                break;
            if (nahr_utf8_check(w, (size_t)(p - w)) != (size_t)(p - w) || words > NER_GAZ_MAXLEN) {
                words = NER_GAZ_MAXLEN + 1;
                break;
            }
            wh[words++] = ner_word_hash(w, (size_t)(p - w), NULL, NULL);
        }
        if (words == 0 || words > NER_GAZ_MAXLEN)
            continue;
        if (ner_gaz_add(&m->gaz, wh, words, 1u << (type - 1)) != 0) {
            fclose(f);
            snprintf(err, errlen, "out of memory loading %s", path);
            return NAHR_ENOMEM;
        }
        if (words > m->gaz_maxlen)
            m->gaz_maxlen = words;
        n++;
    }
    fclose(f);
    return n;
}

long ner_clusters_load(ner_model *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open cluster file %s: %s", path, strerror(errno));
        return NAHR_EIO;
    }
    char line[4096];
    long n = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            fclose(f);
            snprintf(err, errlen, "%s:%ld: expected word<TAB>%d cluster ids", path, lineno,
                     NER_NCL);
            return NAHR_EFORMAT;
        }
        uint64_t v = 0;
        char *p = tab + 1, *end;
        for (unsigned k = 0; k < NER_NCL; k++) {
            unsigned long id = strtoul(p, &end, 10);
            if (end == p || id > 65535) {
                fclose(f);
                snprintf(err, errlen, "%s:%ld: expected word<TAB>%d cluster ids < 65536", path,
                         lineno, NER_NCL);
                return NAHR_EFORMAT;
            }
            v |= (uint64_t)id << (16 * k);
            p = end;
        }
        uint32_t h = ner_word_hash(line, (size_t)(tab - line), NULL, NULL);
        if (ner_set_put(&m->clusters, h, v, 0) != 0) {
            fclose(f);
            snprintf(err, errlen, "out of memory loading %s", path);
            return NAHR_ENOMEM;
        }
        n++;
    }
    fclose(f);
    return n;
}
