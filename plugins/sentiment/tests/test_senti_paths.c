/* test_senti_paths.c - the sentiment plugin's fast paths against their
 * plain ones:
 *  - the lexicon's pair filter never rejects a phrase the table holds;
 *  - the word cache (four-way sets, most recent first) gives bit-identical
 *    results when words are evicted and promoted within a set;
 *  - the per-entity aggregation orders mentions without a sort when spans
 *    come in text order, with qsort otherwise: same order either way;
 *  - entity groups share a result value only when it is written the same;
 *  - the model loader's block reader: lines across blocks, CRLF, a line
 *    longer than a block, no final newline;
 *  - the unrolled character n-grams (2..4) against the bounded loop;
 *  - a mention's sentence looked for from the previous one's
 *    (find_sentence_near()) against the binary search;
 *  - only spans of layer "entities" get a sentiment, with spans of other
 *    layers between them (the layer compared as a pointer once known).
 * The plugin source is included to reach its static functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "../sentiment.c"

#include "senti_test_data.h"

/* Every key "K W..." of the table: the filter bit of (K, "W...") is set;
 * and the filter rejects nearly all random words after a phrase start. */
static void t_pair_filter_no_false_rejects(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    size_t splits = 0;
    const senti_entry *start = NULL;
    for (size_t s = 0; s <= lx->mask; s++) {
        const senti_entry *e = &lx->slots[s];
        if (!e->hash)
            continue;
        const char *key = lx->pool + e->key_off;
        for (size_t i = 0; i < e->key_len; i++) {
            if (key[i] != ' ')
                continue;
            const senti_entry *k = senti_lexicon_get(lx, key, i);
            assert_non_null(k); /* every phrase prefix is a key */
            assert_true(k->prefix);
            uint64_t wh = senti_word_hash(key + i + 1, e->key_len - i - 1);
            assert_true(senti_lexicon_pair_maybe(lx, k, wh));
            splits++;
            start = k;
        }
    }
    assert_true(splits > 1000); /* the shipped lexicons have ~1,000 phrases */
    assert_non_null(start);
    size_t rejected = 0;
    unsigned r = 77;
    for (int k = 0; k < 1000; k++) {
        char w[16];
        for (int c = 0; c < 5; c++) {
            r = r * 1103515245u + 12345u;
            unsigned cp = 0x628 + (r >> 16) % 19; /* U+0628..U+063A */
            w[2 * c] = (char)(0xC0 | (cp >> 6));
            w[2 * c + 1] = (char)(0x80 | (cp & 0x3F));
        }
        rejected += !senti_lexicon_pair_maybe(lx, start, senti_word_hash(w, 10));
    }
    assert_true(rejected >= 900); /* a few thousand bits of 65,536 are set */
    senti_lexicon_free(lx);
}

/* A text of n words drawn from a vocabulary of v random Arabic words, plus
 * lexicon words and phrases, sentence ends now and then. */
static char *make_text(size_t n, size_t v, unsigned seed, size_t *len)
{
    static const char *const fixed[] = {"وقف إطلاق النار", "نجاح", "لا يزال",
                                        "لم يكن جيدا",     "في",   "القتل"};
    size_t cap = n * 40 + 64, o = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    unsigned r = seed;
    for (size_t i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        unsigned x = (r >> 8) % 1000;
        if (x < 150) {
            const char *f = fixed[x % 6];
            size_t fl = strlen(f);
            memcpy(t + o, f, fl);
            o += fl;
        } else {
            /* word w of the vocabulary: 2..9 letters from U+0628..U+064A */
            unsigned w = ((r >> 4) ^ (r >> 19)) % (unsigned)v, h = w * 2654435761u;
            size_t letters = 2 + w % 8;
            for (size_t k = 0; k < letters; k++, h = h * 1664525u + 1013904223u) {
                unsigned cp = 0x628 + (h >> 24) % 0x23;
                if (cp >= 0x63B && cp <= 0x640)
                    cp = 0x645; /* skip the unassigned and tatweel */
                t[o++] = (char)(0xC0 | (cp >> 6));
                t[o++] = (char)(0x80 | (cp & 0x3F));
            }
        }
        t[o++] = (x % 37 == 0) ? '.' : ' ';
        if (x % 37 == 0)
            t[o++] = ' ';
    }
    t[o] = '\0';
    *len = o;
    return t;
}

/* Texts over a vocabulary larger than the cache (evictions, promotions
 * within sets): a warm worker gives what a fresh one does, bit for bit. */
static void t_cache_sets_same_results(void **state)
{
    (void)state;
    senti_lexicon *lx = shipped_lexicon();
    senti_model *model = shipped_model();
    for (int with_model = 0; with_model < 2; with_model++) {
        senti_config cfg = {0};
        cfg.lex = lx;
        cfg.model = with_model ? model : NULL;
        cfg.model_weight = 0.4;
        cfg.neutral_band = 0.2;
        cfg.length_damping = 0.02;
        cfg.negation_window = 3;
        senti_worker warm = {0};
        size_t nhits = 0;
        for (unsigned round = 0; round < 4; round++) {
            size_t len;
            /* 60,000 words of a 90,000-word vocabulary, then of a 2,000-word one */
            char *text = make_text(round < 2 ? 60000 : 20000, round < 2 ? 90000 : 2000, 7 + round, &len);
            senti_result a, b;
            senti_worker fresh = {0};
            assert_int_equal(senti_analyze(&cfg, &fresh, text, len, &a), NAHR_OK);
            senti_sentence s0 = a.sents[0];
            assert_int_equal(senti_analyze(&cfg, &warm, text, len, &b), NAHR_OK);
            assert_totals_same(&a, &b);
            assert_memory_equal(s0.sums, b.sents[0].sums, sizeof s0.sums);
            /* and the same worker once more: every word now cached */
            assert_int_equal(senti_analyze(&cfg, &fresh, text, len, &b), NAHR_OK);
            assert_totals_same(&a, &b);
            nhits += a.nhits;
            senti_worker_free(&fresh);
            free(text);
        }
        assert_true(nhits > 1000);
        senti_worker_free(&warm);
    }
    senti_model_free(model);
    senti_lexicon_free(lx);
}

/* sort_mentions(): the lists laid end to end against qsort, on random
 * groups whose mentions come in span and sentence order. */
static void t_mentions_order(void **state)
{
    (void)state;
    enum { N = 400 };
    mention m[N], a[N], b[N];
    size_t tail[N];
    unsigned r = 12345;
    for (int round = 0; round < 200; round++) {
        size_t ne = 1 + (size_t)round * 2 % N, sent = 0;
        size_t ngroups = 1 + (size_t)round % 23;
        size_t head[23];
        for (size_t g = 0; g < 23; g++)
            head[g] = NO_NEXT;
        for (size_t i = 0; i < ne; i++) {
            r = r * 1103515245u + 12345u;
            sent += (r >> 16) % 3 == 0; /* spans in text order: sentences do not go back */
            size_t g = (r >> 8) % ngroups;
            m[i].key = g;
            m[i].span = i * 2 + 1; /* span indices need not be dense */
            m[i].sent = sent;
            m[i].next = NO_NEXT;
            if (head[g] == NO_NEXT) {
                head[g] = i;
                m[i].group = m[i].span;
            } else {
                m[i].group = m[head[g]].group;
                m[tail[g]].next = i;
            }
            tail[g] = i;
        }
        sort_mentions(m, ne, 1, a);
        sort_mentions(m, ne, 0, b);
        for (size_t i = 0; i < ne; i++) {
            assert_int_equal(a[i].span, b[i].span);
            assert_int_equal(a[i].group, b[i].group);
            assert_int_equal(a[i].sent, b[i].sent);
        }
    }
}

/* A lexicon-only instance with per-entity sentiment (the weights these
 * tests were written with) and the shipped lexicons. */
static instance entities_instance(void)
{
    instance in = {0};
    in.lex = shipped_lexicon();
    in.cfg.lex = in.lex;
    in.cfg.model_weight = 0.4;
    in.cfg.neutral_band = 0.2;
    in.cfg.length_damping = 0.02;
    in.cfg.negation_window = 3;
    in.entities = 1;
    in.title_weight = 2;
    return in;
}

/* Through process(): entity spans added out of text order (the qsort
 * path) give each mention what the same spans added in order do. */
static void t_entities_any_span_order(void **state)
{
    (void)state;
    instance in = entities_instance();
    void *w = NULL;
    assert_int_equal(worker_init(&in, &w), NAHR_OK);
    const char *text = "قتل عشرة في حلب. نجاح كبير في مصر. حلب ومصر جيدة جدا.";
    const char *names[2] = {"حلب", "مصر"};
    size_t at[4];
    at[0] = (size_t)(strstr(text, names[0]) - text);
    at[1] = (size_t)(strstr(text, names[1]) - text);
    at[2] = (size_t)(strstr(text + at[0] + 1, names[0]) - text);
    at[3] = (size_t)(strstr(text + at[1] + 1, names[1]) - text);
    static const int orders[2][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}};
    double score[2][4];
    for (int o = 0; o < 2; o++) {
        nahr_doc *d = nahr_doc_new();
        assert_non_null(d);
        assert_int_equal(nahr_doc_set_text(d, text, strlen(text)), NAHR_OK);
        for (int k = 0; k < 4; k++) {
            int s = orders[o][k];
            assert_true(nahr_doc_add_span(d, "LOC", at[s], at[s] + strlen(names[s % 2])) >= 0);
        }
        assert_int_equal(process(&in, w, d, NULL), NAHR_OK);
        for (size_t i = 0; i < nahr_doc_span_count(d); i++) {
            const nahr_span *sp = nahr_doc_span(d, i);
            int s = orders[o][i];
            assert_int_equal(sp->start, at[s]);
            nahr_value *v = sp->attrs ? nahr_value_get(sp->attrs, "sentiment") : NULL;
            assert_non_null(v);
            score[o][s] = nahr_value_as_double(nahr_value_get(v, "score"));
        }
        nahr_doc_free(d);
    }
    for (int s = 0; s < 4; s++)
        assert_memory_equal(&score[0][s], &score[1][s], sizeof(double));
    assert_memory_equal(&score[0][0], &score[0][2], sizeof(double)); /* one aggregate per entity */
    assert_true(score[0][0] != score[0][1]);
    worker_destroy(&in, w);
    senti_lexicon_free(in.lex);
}

/* 1 when every byte of w starts a code point of its own or is the second
 * byte of a two-byte letter (so the word has one code point per letter) */
static int one_cp_per_letter(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)w[i] == 0x80 && (i == 0 || ((unsigned char)w[i - 1] & 0xE0) != 0xC0))
            return 0;
    return 1;
}

static char *value_json(nahr_value *v)
{
    nahr_buf b = {0};
    assert_int_equal(nahr_value_write_json(v, &b), NAHR_OK);
    char *s = strndup(b.data, b.len);
    nahr_buf_free(&b);
    return s;
}

/* group_value(): one value per written (label, score); -0 and 0 differ. */
static void t_group_values_shared_when_same(void **state)
{
    (void)state;
    nahr_doc *d = nahr_doc_new();
    assert_non_null(d);
    value_cache vc;
    memset(&vc, 0, sizeof vc);
    static const struct {
        int label;
        double score;
    } cases[] = {{SENTI_NEU, 0.0001}, {SENTI_NEU, -0.0001}, {SENTI_NEU, 0.0}, {SENTI_NEU, -0.0},
                 {SENTI_POS, 0.25},   {SENTI_NEU, 0.25},    {SENTI_POS, 0.2504}, {SENTI_POS, 0.2506},
                 {SENTI_NEG, -1.0},   {SENTI_NEG, -0.9996}, {SENTI_POS, 1.0},    {SENTI_NEU, 0.1999}};
    enum { NC = sizeof cases / sizeof cases[0] };
    nahr_value *v[NC];
    char *js[NC];
    for (size_t round = 0; round < 2; round++)
        for (size_t i = 0; i < NC; i++) {
            nahr_value *x = group_value(&vc, d, cases[i].label, cases[i].score);
            assert_non_null(x);
            char *j = value_json(x);
            char *plain = value_json(result_value(d, NULL, cases[i].label, cases[i].score));
            assert_string_equal(j, plain); /* what the value would be unshared */
            free(plain);
            if (round == 0) {
                v[i] = x;
                js[i] = j;
            } else {
                assert_string_equal(j, js[i]);
                free(j);
            }
        }
    for (size_t i = 0; i < NC; i++)
        for (size_t k = 0; k < NC; k++)
            if (strcmp(js[i], js[k]) != 0)
                assert_ptr_not_equal(v[i], v[k]);
    assert_ptr_equal(v[0], v[2]);     /* 0.0001 is written 0 */
    assert_ptr_not_equal(v[1], v[2]); /* -0.0001 is written -0 */
    assert_ptr_equal(v[1], v[3]);
    assert_ptr_equal(v[4], v[6]);     /* 0.2504 is written 0.25 */
    for (size_t i = 0; i < NC; i++)
        free(js[i]);
    nahr_doc_free(d);
}

/* A model of 12,000 features (about 5 blocks of the reader), CRLF line
 * ends, a 200 KB first line (sscanf reads its start only), no newline after
 * "end": every weight as strtod() reads it, and a cut file still fails at
 * the line where it ends. */
static void t_model_reader_blocks(void **state)
{
    (void)state;
    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/test_senti_paths_%ld.model", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    enum { NF = 12000 };
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("nahr-sentiment-model 1", f);
    for (int i = 0; i < 200000; i++)
        fputc(i % 2 ? ' ' : 'x', f);
    fprintf(f, "\r\nbits 16\r\nword_ngrams 2\r\nchar_ngrams 2 4\r\nclasses negative neutral positive\r\n"
               "bias -1.5 0.25 0.125\r\nfeatures %d\r\n",
            NF);
    static char ws[NF][3][24];
    unsigned r = 99;
    for (int i = 0; i < NF; i++) {
        for (int c = 0; c < 3; c++) {
            r = r * 1103515245u + 12345u;
            snprintf(ws[i][c], sizeof ws[i][c], "%s0.%0*u", (r >> 30) ? "-" : "", (int)(1 + (r >> 8) % 7),
                     (r >> 4) % 1000000u);
        }
        fprintf(f, "%d %s %s %s\r\n", i * 5, ws[i][0], ws[i][1], ws[i][2]);
    }
    fputs("end", f);
    assert_int_equal(fclose(f), 0);
    senti_model *m = NULL;
    senti_error err;
    if (senti_model_load(path, &m, &err) != NAHR_OK)
        fail_msg("%s", err.msg);
    assert_true(m->bias[0] == -1.5f && m->bias[2] == 0.125f);
    for (int i = 0; i < NF; i++)
        for (int c = 0; c < 3; c++)
            assert_true(m->w[(size_t)i * 5 * 3 + (size_t)c] == (float)strtod(ws[i][c], NULL));
    senti_model_free(m);

    /* cut in the middle of feature line 100: the error names line 8 + 100 */
    f = fopen(path, "rb");
    assert_non_null(f);
    char *all = malloc(1 << 22);
    assert_non_null(all);
    size_t n = fread(all, 1, 1 << 22, f);
    fclose(f);
    const char *at = all;
    for (int line = 0; line < 7 + 100; line++)
        at = memchr(at, '\n', n - (size_t)(at - all)) + 1;
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(all, 1, (size_t)(at - all) + 3, f);
    fclose(f);
    free(all);
    assert_int_equal(senti_model_load(path, &m, &err), NAHR_EFORMAT);
    assert_non_null(strstr(err.msg, ".model:108: expected 'INDEX"));
    remove(path);
}

/* senti_token_features() with room for all (the 2..4 path) against the
 * same call given exactly as much room as it fills (the bounded loop):
 * same indices in the same order, for words of 0..40 code points (Arabic
 * letters, Latin, digits, a stray continuation byte), with and without a
 * previous word. */
static void t_char_ngrams_paths(void **state)
{
    (void)state;
    senti_featcfg fc = {16, 2, 2, 4};
    uint32_t a[SENTI_MAX_TOKEN_FEATURES], b[SENTI_MAX_TOKEN_FEATURES];
    unsigned r = 4242;
    for (int round = 0; round < 20000; round++) {
        char w[256];
        size_t n = 0, letters = (size_t)round % 41;
        for (size_t i = 0; i < letters; i++) {
            r = r * 1103515245u + 12345u;
            unsigned x = (r >> 8) % 100;
            if (x < 80) { /* U+0621..U+064A */
                unsigned cp = 0x621 + (r >> 16) % 42;
                w[n++] = (char)(0xC0 | (cp >> 6));
                w[n++] = (char)(0x80 | (cp & 0x3F));
            } else if (x < 95) {
                w[n++] = (char)('a' + (r >> 16) % 26);
            } else if (x < 99) {
                w[n++] = (char)('0' + (r >> 16) % 10);
            } else {
                w[n++] = (char)0x80;
            }
        }
        uint64_t u1, u2, prev = round % 3 ? 0 : 0x1234567ull + (uint64_t)round;
        size_t na = senti_token_features(&fc, w, n, prev, &u1, a, SENTI_MAX_TOKEN_FEATURES);
        size_t nb = senti_token_features(&fc, w, n, prev, &u2, b, na);
        assert_int_equal(na, nb);
        assert_true(u1 == u2);
        assert_memory_equal(a, b, na * sizeof *a);
        if (letters >= 5 && one_cp_per_letter(w, n))
            assert_int_equal(na, 1 + (prev != 0) + 3 * (letters + 2) - 6);
    }
}

/* find_sentence_near() against find_sentence() for every hint, on random
 * sentence starts (gaps, equal starts, a first sentence after byte 0) and
 * positions before, inside and past them. */
static void t_find_sentence_near(void **state)
{
    (void)state;
    enum { NS = 40 };
    senti_sentence sents[NS];
    memset(sents, 0, sizeof sents);
    unsigned r = 2024;
    size_t near_hits = 0;
    for (int round = 0; round < 300; round++) {
        size_t ns = 1 + (size_t)round % NS, at = (size_t)round % 3;
        for (size_t k = 0; k < ns; k++) {
            r = r * 1103515245u + 12345u;
            at += (r >> 16) % 4 == 0 ? 0 : (r >> 8) % 20; /* equal starts now and then */
            sents[k].start = at;
        }
        senti_result res = {0};
        res.sents = sents;
        res.nsent = ns;
        for (size_t pos = 0; pos < at + 25; pos++) {
            size_t want = find_sentence(&res, pos);
            for (size_t hint = 0; hint < ns; hint++) {
                size_t got = find_sentence_near(&res, pos, hint);
                assert_int_equal(got, want);
                near_hits += hint == want;
            }
        }
    }
    assert_true(near_hits > 1000);
}

/* Spans of other layers (some added first, so the first span is not an
 * entity) between the entity spans: every entity span gets a sentiment
 * and no other span does, and the entity scores are those of a document
 * with the entity spans alone. */
static void t_entities_layer_only(void **state)
{
    (void)state;
    instance in = entities_instance();
    void *w = NULL;
    assert_int_equal(worker_init(&in, &w), NAHR_OK);
    const char *text = "قتل عشرة في حلب. نجاح كبير في مصر. حلب ومصر جيدة جدا. فشل ذريع في حمص.";
    static const char *const names[] = {"حلب", "مصر", "حمص"};
    static const char *const others[] = {"places", "entities_x", "entitie", "topics"};
    double alone[5] = {0};
    for (int mixed = 0; mixed < 2; mixed++) {
        nahr_doc *d = nahr_doc_new();
        assert_non_null(d);
        assert_int_equal(nahr_doc_set_text(d, text, strlen(text)), NAHR_OK);
        if (mixed) { /* two of one layer in a row */
            assert_true(nahr_doc_add_span_in(d, others[0], "X", 0, 4) >= 0);
            assert_true(nahr_doc_add_span_in(d, others[0], "X", 0, 2) >= 0);
        }
        int n = 0;
        for (const char *at = text; *at; at++)
            for (int k = 0; k < 3; k++)
                if (strncmp(at, names[k], strlen(names[k])) == 0) {
                    size_t st = (size_t)(at - text);
                    assert_true(nahr_doc_add_span(d, "LOC", st, st + strlen(names[k])) >= 0);
                    if (mixed) {
                        assert_true(nahr_doc_add_span_in(d, others[(n + 1) % 4], "X", st, st + 2) >= 0);
                        assert_true(nahr_doc_add_span_in(d, others[(n + 1) % 4], "X", st + 2, st + 4) >= 0);
                    }
                    n++;
                }
        assert_int_equal(n, 5);
        assert_int_equal(process(&in, w, d, NULL), NAHR_OK);
        int ent = 0;
        for (size_t i = 0; i < nahr_doc_span_count(d); i++) {
            const nahr_span *sp = nahr_doc_span(d, i);
            nahr_value *v = sp->attrs ? nahr_value_get(sp->attrs, "sentiment") : NULL;
            if (strcmp(sp->layer, "entities") != 0) {
                assert_null(v);
                continue;
            }
            assert_non_null(v);
            double sc = nahr_value_as_double(nahr_value_get(v, "score"));
            if (!mixed)
                alone[ent] = sc;
            else
                assert_memory_equal(&sc, &alone[ent], sizeof sc);
            ent++;
        }
        assert_int_equal(ent, 5);
        nahr_doc_free(d);
    }
    assert_true(alone[0] != alone[4]); /* حلب and حمص: not one aggregate */
    worker_destroy(&in, w);
    senti_lexicon_free(in.lex);
}

int main(void)
{
    set_data_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_pair_filter_no_false_rejects),
        cmocka_unit_test(t_cache_sets_same_results),
        cmocka_unit_test(t_mentions_order),
        cmocka_unit_test(t_entities_any_span_order),
        cmocka_unit_test(t_group_values_shared_when_same),
        cmocka_unit_test(t_model_reader_blocks),
        cmocka_unit_test(t_char_ngrams_paths),
        cmocka_unit_test(t_find_sentence_near),
        cmocka_unit_test(t_entities_layer_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
