/* ner_lex.c - evidence from a spelling dictionary for the NER tagger
 * (NER_F_LEX, --hunspell). Arabic has no capital letters; what comes
 * closest is that a transliterated foreign name (ساركوزي, ميركل) is not a
 * word of the language, while common words and many Arab names and places
 * are. At training time every Arabic word type of some unlabelled text
 * (the --news files, or --lex-text) seen often enough is looked up in a
 * spelling dictionary (Debian's hunspell-ar through libhunspell): its
 * surface forms, then their clitic-stripped stems. The model file keeps the
 * normalised word hash and one class byte per type (in / out but a stem in
 * / out), so run time needs neither libhunspell nor the dictionary: a word
 * the table does not hold (rare in that text, or not Arabic) is class 0,
 * "unknown", the same in training and at run time.
 *
 * libhunspell is a training-time dependency only (NAHR_HAVE_HUNSPELL, set
 * by CMake when pkg-config finds it); the table builder itself takes any
 * spelling function, so the tests use a hand-made word list. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ner_internal.h"

#ifdef NAHR_HAVE_HUNSPELL
#include <hunspell.h>
#endif

/* One distinct surface form: its bytes in the arena and its normalised
 * word hash. */
typedef struct lex_surf {
    size_t off;
    uint32_t len;
    uint32_t norm;
} lex_surf;

typedef struct lex_state {
    ner_set surfs;  /* hash of the surface bytes -> index in surf + 1 */
    ner_set counts; /* normalised word hash -> occurrences */
    lex_surf *surf;
    size_t nsurf, surfcap;
    char *arena;
    size_t alen, acap;
} lex_state;

/* Only words of Arabic letters (U+0600..U+06FF: UTF-8 lead bytes D8..DB)
 * get a class; digits, Latin and mixed tokens have their shape features. */
static int all_arabic(const char *w, size_t n)
{
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i += 2)
        if (i + 1 >= n || (unsigned char)w[i] < 0xD8 || (unsigned char)w[i] > 0xDB ||
            ((unsigned char)w[i + 1] & 0xC0) != 0x80)
            return 0;
    return 1;
}

static int add_article(const char *text, const nahr_token *toks, const uint32_t *h, size_t n,
                       void *arg)
{
    lex_state *st = arg;
    for (size_t i = 0; i < n; i++) {
        const char *w = text + toks[i].start;
        size_t wn = toks[i].end - toks[i].start;
        if (wn > NER_MAXTOKB || !all_arabic(w, wn))
            continue;
        const uint64_t *c = ner_set_get(&st->counts, h[i]);
        if (ner_set_put(&st->counts, h[i], c ? *c + 1 : 1, 0) != 0)
            return NAHR_ENOMEM;
        uint32_t sh = ner_hash_bytes(w, wn);
        /* a form seen before (or, rarely, another form with the same
         * 32-bit hash: that one is left out, its word keeps its other forms) */
        if (ner_set_get(&st->surfs, sh))
            continue;
        if (ner_grow((void **)&st->surf, &st->surfcap, st->nsurf + 1, sizeof *st->surf) != 0 ||
            ner_grow((void **)&st->arena, &st->acap, st->alen + wn, 1) != 0 ||
            ner_set_put(&st->surfs, sh, st->nsurf + 1, 0) != 0)
            return NAHR_ENOMEM;
        memcpy(st->arena + st->alen, w, wn);
        st->surf[st->nsurf++] = (lex_surf){.off = st->alen, .len = (uint32_t)wn, .norm = h[i]};
        st->alen += wn;
    }
    return 0;
}

/* The class of one surface form: in the dictionary, a proclitic strip of
 * it in the dictionary, or neither. */
static unsigned surface_class(const char *w, size_t n, ner_lex_spell_fn spell, void *arg)
{
    char buf[NER_MAXTOKB + 1];
    memcpy(buf, w, n);
    buf[n] = '\0';
    if (spell(buf, arg))
        return NER_LEX_IN;
    size_t splits[NER_MAXSPLIT];
    size_t ns = nahr_ar_proclitic_splits(w, n, splits, NER_MAXSPLIT);
    for (size_t k = ns; k-- > 1;) { /* the longest strip first */
        memcpy(buf, w + splits[k], n - splits[k]);
        buf[n - splits[k]] = '\0';
        if (spell(buf, arg))
            return NER_LEX_STEMIN;
    }
    return NER_LEX_OUT;
}

long ner_lex_build(ner_model *m, ner_lex_spell_fn spell, void *arg, const char *const *files,
                   size_t nfiles, unsigned min_count, char *err, size_t errlen)
{
    lex_state st = {0};
    ner_set_free(&m->lex);
    long rc = ner_for_each_article(files, nfiles, add_article, &st, err, errlen);
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory reading the --lex-text files");
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < st.nsurf; i++) {
        const lex_surf *e = &st.surf[i];
        if (*ner_set_get(&st.counts, e->norm) < (min_count ? min_count : 1))
            continue;
        const uint64_t *have = ner_set_get(&m->lex, e->norm);
        if (have && *have == NER_LEX_IN)
            continue; /* the best class already: another form is a word */
        unsigned cls = surface_class(st.arena + e->off, e->len, spell, arg);
        if (!have || cls < *have) /* the normalised word: the best class of its forms */
            if (ner_set_put(&m->lex, e->norm, cls, 0) != 0) {
                snprintf(err, errlen, "out of memory building the dictionary table");
                rc = NAHR_ENOMEM;
                goto done;
            }
    }
    rc = (long)m->lex.n;
done:
    ner_set_free(&st.surfs);
    ner_set_free(&st.counts);
    free(st.surf);
    free(st.arena);
    return rc;
}

#ifdef NAHR_HAVE_HUNSPELL
static int hunspell_spell(const char *w, void *arg) { return Hunspell_spell(arg, w) != 0; }
#endif

long ner_lex_build_hunspell(ner_model *m, const char *dir, const char *const *files,
                            size_t nfiles, unsigned min_count, char *err, size_t errlen)
{
#ifdef NAHR_HAVE_HUNSPELL
    char aff[4096], dic[4096];
    snprintf(aff, sizeof aff, "%s/ar.aff", dir);
    snprintf(dic, sizeof dic, "%s/ar.dic", dir);
    FILE *f = fopen(aff, "r"), *g = fopen(dic, "r");
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    if (!f || !g) {
        snprintf(err, errlen,
                 "--hunspell %s: no Arabic dictionary there (%s and %s; Debian: apt-get install "
                 "hunspell-ar)",
                 dir, aff, dic);
        return NAHR_ENOENT;
    }
    Hunhandle *h = Hunspell_create(aff, dic);
    if (!h) {
        snprintf(err, errlen, "--hunspell %s: libhunspell cannot read %s", dir, dic);
        return NAHR_EFORMAT;
    }
    long rc = ner_lex_build(m, hunspell_spell, h, files, nfiles, min_count, err, errlen);
    Hunspell_destroy(h);
    return rc;
#else
    (void)m, (void)files, (void)nfiles, (void)min_count;
    snprintf(err, errlen,
             "--hunspell %s: this build has no libhunspell (install libhunspell-dev and "
             "hunspell-ar, see plugins/entities/ner/packages.txt, and configure again)",
             dir);
    return NAHR_EINVAL;
#endif
}

/* ---- letter trigrams of the stems (NER_F_LEXSP) ----
 * A foreign name is not only absent from the dictionary: its letters run
 * otherwise (long vowels in a row, تش, غ for g, ...). Counting the trigrams
 * of the stems of the words the dictionary rejects against those it knows
 * gives every word a score, also the rare ones the table does not hold. */
typedef struct tri_state {
    const ner_model *m;
    ner_set done;  /* normalised word hashes counted */
    ner_set tri;   /* trigram hash -> out count << 32 | in count */
    uint64_t nout, nin;
} tri_state;

static int tri_article(const char *text, const nahr_token *toks, const uint32_t *h, size_t n,
                       void *arg)
{
    tri_state *st = arg;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = ner_set_get(&st->m->lex, h[i]);
        if (!c || (*c != NER_LEX_IN && *c != NER_LEX_OUT) || ner_set_get(&st->done, h[i]))
            continue;
        if (ner_set_put(&st->done, h[i], 1, 0) != 0)
            return NAHR_ENOMEM;
        char norm[NER_MAXTOKB + 1];
        size_t nlen, splits[NER_MAXSPLIT];
        ner_word_hash(text + toks[i].start, toks[i].end - toks[i].start, norm, &nlen);
        size_t ns = nahr_ar_proclitic_splits(norm, nlen, splits, NER_MAXSPLIT);
        size_t st0 = ns ? splits[ns - 1] : 0;
        uint32_t th[NER_MAXTOKB + 2];
        size_t nt = ner_lex_trigram_hashes(norm + st0, nlen - st0, th);
        const int out = *c == NER_LEX_OUT;
        for (size_t k = 0; k < nt; k++) {
            const uint64_t *v = ner_set_get(&st->tri, th[k]);
            uint64_t x = (v ? *v : 0) + (out ? (uint64_t)1 << 32 : 1u);
            if (ner_set_put(&st->tri, th[k], x, 0) != 0)
                return NAHR_ENOMEM;
        }
        if (out)
            st->nout++;
        else
            st->nin++;
    }
    return 0;
}

long ner_lex_trigrams(ner_model *m, const char *const *files, size_t nfiles, char *err,
                      size_t errlen)
{
    tri_state st = {.m = m};
    long rc = ner_for_each_article(files, nfiles, tri_article, &st, err, errlen);
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory counting trigrams");
    if (rc != 0)
        goto done;
    long added = 0;
    /* sorted trigram keys: the table does not depend on hash-set order */
    uint32_t *keys = malloc((st.tri.n ? st.tri.n : 1) * sizeof *keys);
    if (!keys) {
        rc = NAHR_ENOMEM;
        goto done;
    }
    size_t nk = 0;
    for (size_t i = 0; st.tri.mask && i <= st.tri.mask; i++)
        if (st.tri.keys[i])
            keys[nk++] = st.tri.keys[i];
    for (size_t i = 0; i < nk; i++) {
        uint64_t v = *ner_set_get(&st.tri, keys[i]);
        double o = (double)(v >> 32), in = (double)(v & 0xFFFFFFFFu);
        if (o + in < 3)
            continue;
        double lo = log((o + 0.5) / ((double)st.nout + 1)) - log((in + 0.5) / ((double)st.nin + 1));
        long q = lround(lo * 8);
        q = q < -100 ? -100 : q > 100 ? 100 : q;
        uint32_t key = NER_LEX_TRI_KEY(keys[i]);
        if (ner_set_get(&m->lex, key))
            continue; /* a word hash took the key (a collision): the trigram is left out */
        if (ner_set_put(&m->lex, key, (uint64_t)(NER_LEX_TRI_BASE + 100 + q), 0) != 0) {
            free(keys);
            rc = NAHR_ENOMEM;
            goto done;
        }
        added++;
    }
    free(keys);
    rc = added;
done:
    if (rc == NAHR_ENOMEM)
        snprintf(err, errlen, "out of memory counting trigrams");
    ner_set_free(&st.done);
    ner_set_free(&st.tri);
    return rc;
}
