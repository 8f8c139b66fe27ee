/* test_ner.c - the NER tagger: scorer, CoNLL reader, model file round trip
 * and errors, training on a tiny fixture, tagging through the shared
 * tokeniser, robustness. The Arabic fixture sentences are the team's own. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ner_cache.h"
#include "ner_internal.h"

/* ---- fixture ---- */

static const char *const FIXTURE =
    "زار\tO\nالرئيس\tO\nأحمد\tB-PERS\nسالم\tI-PERS\nمدينة\tO\nالقاهرة\tB-LOC\nأمس\tO\n.\tO\n\n"
    "قال\tO\nوزير\tO\nالخارجية\tO\nخالد\tB-PERS\nمنصور\tI-PERS\nإن\tO\nالأمم\tB-ORG\nالمتحدة\tI-ORG\n"
    "تدعم\tO\nالحوار\tO\n.\tO\n\n"
    "وصل\tO\nسالم\tB-PERS\nإلى\tO\nبيروت\tB-LOC\nقادما\tO\nمن\tO\nدمشق\tB-LOC\n.\tO\n\n"
    "أعلنت\tO\nجامعة\tB-ORG\nالخرطوم\tI-ORG\nعن\tO\nبرنامج\tO\nجديد\tO\n.\tO\n\n"
    "التقى\tO\nخالد\tB-PERS\nمنصور\tI-PERS\nبنظيره\tO\nفي\tO\nباريس\tB-LOC\n.\tO\n\n"
    "شارك\tO\nفريق\tO\nالهلال\tB-ORG\nفي\tO\nكأس\tB-MISC\nالعالم\tI-MISC\n.\tO\n\n"
    "تحدث\tO\nأحمد\tB-PERS\nسالم\tI-PERS\nعن\tO\nالاقتصاد\tO\nفي\tO\nتونس\tB-LOC\n.\tO\n\n"
    "نشرت\tO\nصحيفة\tO\nالأهرام\tB-ORG\nتقريرا\tO\nعن\tO\nالمغرب\tB-LOC\n.\tO\n\n"
    "سافر\tO\nمنصور\tB-PERS\nإلى\tO\nالقاهرة\tB-LOC\nثم\tO\nإلى\tO\nبيروت\tB-LOC\n.\tO\n\n"
    "استقبل\tO\nالملك\tO\nسعيد\tB-PERS\nالعلي\tI-PERS\nوفدا\tO\nمن\tO\nالأمم\tB-ORG\nالمتحدة\tI-ORG\n"
    "في\tO\nعمان\tB-LOC\n.\tO\n\n"
    "وقال\tO\nسعيد\tB-PERS\nالعلي\tI-PERS\nإن\tO\nتونس\tB-LOC\nوالمغرب\tB-LOC\nشريكان\tO\n.\tO\n";

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_ner.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void parse_fixture(ner_corpus *c)
{
    char err[256];
    assert_int_equal(ner_conll_parse(FIXTURE, strlen(FIXTURE), "fixture", c, err, sizeof err), 0);
}

static ner_model *train_fixture(int epochs, uint64_t seed)
{
    ner_corpus c;
    parse_fixture(&c);
    ner_model *m = ner_model_new();
    assert_non_null(m);
    ner_train_opts o = {.epochs = epochs, .seed = seed, .dev_fraction = 0};
    assert_int_equal(ner_train(&c, &o, m, NULL), 0);
    ner_corpus_free(&c);
    return m;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(1 << 22);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 22, f);
    fclose(f);
    return buf;
}

/* F1 (all types) of the tags pred of c's tokens against c's gold. */
static double corpus_f1(const ner_corpus *c, const uint8_t *pred)
{
    ner_score s = {0};
    for (size_t k = 0; k < c->nsent; k++)
        ner_score_add(&s, c->gold + c->sent[k], pred + c->sent[k], c->sent[k + 1] - c->sent[k]);
    return ner_score_prf(&s, 0, NULL, NULL);
}

/* tags[0..n) is a valid BIO sequence from a sentence start. */
static void assert_valid_bio(const uint8_t *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(tags[i] < NER_NTAGS);
        assert_true(ner_bio_allowed(i ? tags[i - 1] : NER_NTAGS, tags[i]));
    }
}

/* m and m2 (trained alike) saved to the temporary files name and name2 are
 * the same bytes; returns those of name (*n of them), path its path. */
static unsigned char *save_same_bytes(const ner_model *m, const ner_model *m2, const char *name,
                                      const char *name2, char path[300], size_t *n)
{
    char path2[300], err[256];
    tmp_path(path, 300, name);
    tmp_path(path2, sizeof path2, name2);
    assert_int_equal(ner_model_save(m, path, err, sizeof err), 0);
    assert_int_equal(ner_model_save(m2, path2, err, sizeof err), 0);
    size_t n2;
    unsigned char *b1 = read_file(path, n), *b2 = read_file(path2, &n2);
    assert_int_equal(*n, n2);
    assert_memory_equal(b1, b2, n2);
    free(b2);
    return b1;
}

/* m and l tag c alike (ner_tag_corpus_doc); returns m's tags. */
static uint8_t *same_corpus_tags(const ner_model *m, const ner_model *l, const ner_corpus *c)
{
    uint8_t *a = malloc(c->ntok), *b = malloc(c->ntok);
    assert_true(a && b);
    assert_int_equal(ner_tag_corpus_doc(m, c, a), 0);
    assert_int_equal(ner_tag_corpus_doc(l, c, b), 0);
    assert_memory_equal(a, b, c->ntok);
    free(b);
    return a;
}

/* The same keys with the same values in a and b. */
static void assert_same_set(const ner_set *a, const ner_set *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i <= a->mask; i++) {
        if (!a->keys[i])
            continue;
        const uint64_t *v = ner_set_get(b, a->keys[i]);
        assert_non_null(v);
        assert_int_equal(*v, a->vals[i]);
    }
}

/* ---- tags and scorer ---- */

static void test_tag_parse(void **state)
{
    (void)state;
    assert_int_equal(ner_tag_parse("O", 1), NER_O);
    assert_int_equal(ner_tag_parse("B-PERS", 6), NER_B_PER);
    assert_int_equal(ner_tag_parse("B-PER", 5), NER_B_PER);
    assert_int_equal(ner_tag_parse("I-PERS", 6), NER_I_PER);
    assert_int_equal(ner_tag_parse("I-LOC", 5), NER_I_LOC);
    assert_int_equal(ner_tag_parse("B-ORG", 5), NER_B_ORG);
    assert_int_equal(ner_tag_parse("I-MISC", 6), NER_I_MISC);
    assert_int_equal(ner_tag_parse("B-DATE", 6), -1);
    /* the names and schemes of other corpora: any case, IOBES, BILOU */
    assert_int_equal(ner_tag_parse("B-PERSON", 8), NER_B_PER);
    assert_int_equal(ner_tag_parse("b-per", 5), NER_B_PER);
    assert_int_equal(ner_tag_parse("S-GPE", 5), NER_B_LOC);
    assert_int_equal(ner_tag_parse("E-ORGANIZATION", 14), NER_I_ORG);
    assert_int_equal(ner_tag_parse("U-MISC", 6), NER_B_MISC);
    assert_int_equal(ner_tag_parse("L-LOCATION", 10), NER_I_LOC);
    assert_int_equal(ner_tag_parse("I_ORG", 5), NER_I_ORG);
    assert_int_equal(ner_tag_parse("o", 1), NER_O);
    assert_int_equal(ner_tag_parse("X-PER", 5), -1);
    assert_int_equal(ner_tag_parse("B-PERSONS", 9), -1);
    ner_conll_unknown_as_o(1); /* --unknown-tags o: other types are O, not-a-tag stays an error */
    assert_int_equal(ner_tag_parse("B-DATE", 6), NER_O);
    assert_int_equal(ner_tag_parse("I-NORP", 6), NER_O);
    assert_int_equal(ner_tag_parse("B-PER", 5), NER_B_PER);
    assert_int_equal(ner_tag_parse("X", 1), -1);
    ner_conll_unknown_as_o(0);
    assert_int_equal(ner_tag_parse("X", 1), -1);
    assert_int_equal(ner_tag_parse("B-", 2), -1);
    assert_string_equal(ner_tag_name(NER_I_ORG), "I-ORG");
    assert_null(ner_tag_name(9));
    assert_string_equal(ner_tag_type(NER_I_PER), "PER");
    assert_string_equal(ner_tag_type(NER_B_MISC), "MISC");
    assert_null(ner_tag_type(NER_O));
}

#define T(...) ((const uint8_t[]){__VA_ARGS__})
enum { O_ = NER_O, BP = NER_B_PER, IP = NER_I_PER, BL = NER_B_LOC, IL = NER_I_LOC,
       BO = NER_B_ORG, IO = NER_I_ORG, BM = NER_B_MISC, IM = NER_I_MISC };

static void test_scorer_exact(void **state)
{
    (void)state;
    ner_score s = {0};
    ner_score_add(&s, T(BP, IP, O_, BL), T(BP, IP, O_, BL), 4);
    assert_int_equal(s.tp[0], 2);
    assert_int_equal(s.fp[0], 0);
    assert_int_equal(s.fn[0], 0);
    double p, r;
    assert_true(ner_score_prf(&s, 0, &p, &r) == 1.0);
    assert_true(p == 1.0 && r == 1.0);
}

static void test_scorer_partial_is_wrong(void **state)
{
    (void)state;
    ner_score s = {0};
    /* the prediction covers only the first word of the person: one FP and one FN */
    ner_score_add(&s, T(BP, IP, O_, BL), T(BP, O_, O_, BL), 4);
    assert_int_equal(s.tp[0], 1);
    assert_int_equal(s.fp[0], 1);
    assert_int_equal(s.fn[0], 1);
    assert_int_equal(s.tp[2], 1); /* LOC */
    assert_int_equal(s.fp[1], 1); /* PER */
    assert_int_equal(s.fn[1], 1);
    /* too long is wrong too */
    ner_score t = {0};
    ner_score_add(&t, T(BL, O_), T(BL, IL), 2);
    assert_int_equal(t.tp[0], 0);
    assert_int_equal(t.fp[2], 1);
    assert_int_equal(t.fn[2], 1);
    double p, r, f = ner_score_prf(&s, 0, &p, &r);
    assert_true(p > 0.4999 && p < 0.5001);
    assert_true(r > 0.4999 && r < 0.5001);
    assert_true(f > 0.4999 && f < 0.5001);
}

static void test_scorer_wrong_type(void **state)
{
    (void)state;
    ner_score s = {0};
    ner_score_add(&s, T(O_, BL, IL), T(O_, BO, IO), 3);
    assert_int_equal(s.tp[0], 0);
    assert_int_equal(s.fn[2], 1); /* LOC missed */
    assert_int_equal(s.fp[3], 1); /* ORG invented */
    assert_true(ner_score_prf(&s, 0, NULL, NULL) == 0.0);
    assert_true(ner_score_prf(&s, 4, NULL, NULL) == 0.0); /* no MISC at all: 0, not NaN */
}

static void test_scorer_conlleval_chunks(void **state)
{
    (void)state;
    ner_score s = {0};
    /* orphan I-PER starts a chunk: gold chunk [1,3) matches B-PER I-PER */
    ner_score_add(&s, T(O_, IP, IP), T(O_, BP, IP), 3);
    assert_int_equal(s.tp[1], 1);
    assert_int_equal(s.fp[0] + s.fn[0], 0);
    /* I-LOC after B-PER: two chunks, PER [0,1) and LOC [1,2) */
    ner_score t = {0};
    ner_score_add(&t, T(BP, IL), T(BP, BL), 2);
    assert_int_equal(t.tp[0], 2);
    /* B-X B-X: two chunks; predicting one long chunk gets both wrong */
    ner_score u = {0};
    ner_score_add(&u, T(BL, BL), T(BL, IL), 2);
    assert_int_equal(u.tp[0], 0);
    assert_int_equal(u.fn[0], 2);
    assert_int_equal(u.fp[0], 1);
    /* chunks do not cross sentences: each call is one sentence */
    ner_score v = {0};
    ner_score_add(&v, T(BM), T(BM), 1);
    ner_score_add(&v, T(IM), T(BM), 1);
    assert_int_equal(v.tp[4], 2);
}

/* ---- CoNLL reader ---- */

static void test_conll_parse(void **state)
{
    (void)state;
    ner_corpus c;
    char err[256];
    parse_fixture(&c);
    assert_int_equal(c.nsent, 11);
    assert_int_equal(c.sent[1], 8);
    assert_int_equal(c.gold[2], NER_B_PER);
    assert_int_equal(c.gold[3], NER_I_PER);
    assert_true(c.toks[7].flags & NAHR_TOK_SENT_END);
    assert_false(c.toks[6].flags & NAHR_TOK_SENT_END);
    assert_memory_equal(c.text + c.toks[5].start, "القاهرة", strlen("القاهرة"));
    ner_corpus_free(&c);

    /* spaces as separators, extra blank lines, CRLF, no final newline */
    const char *loose = "\n\nسالم B-PER\r\nيزور O\r\n\n\n\nعمان  B-LOC";
    assert_int_equal(ner_conll_parse(loose, strlen(loose), "loose", &c, err, sizeof err), 0);
    assert_int_equal(c.nsent, 2);
    assert_int_equal(c.ntok, 3);
    assert_int_equal(c.gold[2], NER_B_LOC);
    ner_corpus_free(&c);

    const char *badtag = "سالم\tB-PER\nيزور\tO\nعمان\tB-CITY\n";
    assert_int_not_equal(ner_conll_parse(badtag, strlen(badtag), "bad.txt", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "bad.txt:3:"));
    assert_non_null(strstr(err, "B-CITY"));
    const char *nofield = "سالم\n";
    assert_int_not_equal(ner_conll_parse(nofield, strlen(nofield), "one.txt", &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "one.txt:1:"));

    char path[300];
    tmp_path(path, sizeof path, "absent.txt");
    assert_int_not_equal(ner_conll_read(path, &c, err, sizeof err), 0);
    assert_non_null(strstr(err, "absent.txt"));
}

/* ---- training, save/load ---- */

static void test_train_fits_fixture(void **state)
{
    (void)state;
    ner_model *m = train_fixture(8, 7);
    ner_corpus c;
    parse_fixture(&c);
    uint8_t *pred = malloc(c.ntok);
    assert_int_equal(ner_tag_corpus(m, &c, pred), 0);
    assert_true(corpus_f1(&c, pred) > 0.95);
    free(pred);
    ner_corpus_free(&c);
    ner_model_free(m);
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    char path[300], err[256];
    tmp_path(path, sizeof path, "m.bin");
    ner_model *m = train_fixture(5, 3);
    assert_true(m->nfeat > 50);
    m->o_penalty = 2.5f;
    assert_int_equal(ner_model_save(m, path, err, sizeof err), 0);
    ner_model *l = NULL;
    assert_int_equal(ner_model_load(path, &l, err, sizeof err), 0);
    assert_non_null(l);
    assert_int_equal(l->nfeat, m->nfeat);
    assert_true(l->scale == m->scale);
    assert_true(l->o_penalty == 2.5f);
    assert_memory_equal(l->trans, m->trans, sizeof m->trans);
    for (size_t i = 0; i <= m->mask; i++) {
        if (!m->slots[i].key)
            continue;
        const ner_slot *s = ner_model_find(l, m->slots[i].key);
        assert_non_null(s);
        assert_memory_equal(s->w, m->slots[i].w, sizeof s->w);
    }
    /* same tags from both */
    ner_corpus c;
    parse_fixture(&c);
    uint8_t *a = malloc(c.ntok), *b = malloc(c.ntok);
    assert_int_equal(ner_tag_corpus(m, &c, a), 0);
    assert_int_equal(ner_tag_corpus(l, &c, b), 0);
    assert_memory_equal(a, b, c.ntok);
    /* a huge O penalty leaves no O at all (and still valid BIO) */
    l->o_penalty = 1e9f;
    assert_int_equal(ner_tag_corpus(l, &c, b), 0);
    for (size_t i = 0; i < c.ntok; i++)
        assert_int_not_equal(b[i], NER_O);
    free(a);
    free(b);
    ner_corpus_free(&c);

    /* same seed -> the same bytes; another seed -> another shuffle */
    ner_model *m2 = train_fixture(5, 3);
    m2->o_penalty = 2.5f;
    size_t n1;
    free(save_same_bytes(m, m2, "m.bin", "m2.bin", path, &n1));
    ner_model_free(m2);
    ner_model_free(l);
    ner_model_free(m);
}

static void expect_load_error(const char *path, const char *needle)
{
    ner_model *l = (ner_model *)(uintptr_t)1;
    char err[512] = "";
    assert_int_not_equal(ner_model_load(path, &l, err, sizeof err), 0);
    assert_null(l);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

/* An optional model-file section (count in header byte count_off, flag bit
 * flag_bit in header byte flag_off) cut short by cut bytes, with a count
 * larger than the file, and with entries but not the flag: each a one-line
 * load error. */
static void expect_section_errors(const unsigned char *b1, size_t n1, const char *bad, size_t cut, size_t count_off,
                                  size_t flag_off, unsigned flag_bit)
{
    write_file(bad, b1, n1 - 8 - cut);
    expect_load_error(bad, "truncated");
    unsigned char *copy = malloc(n1);
    assert_non_null(copy);
    memcpy(copy, b1, n1);
    copy[count_off] = (unsigned char)(copy[count_off] + 4);
    write_file(bad, copy, n1);
    expect_load_error(bad, "truncated");
    memcpy(copy, b1, n1);
    copy[flag_off] &= (unsigned char)~flag_bit;
    write_file(bad, copy, n1);
    expect_load_error(bad, "corrupt header");
    free(copy);
}

static void test_load_errors(void **state)
{
    (void)state;
    char path[300], bad[300], err[256];
    tmp_path(path, sizeof path, "good.bin");
    tmp_path(bad, sizeof bad, "bad.bin");
    ner_model *m = train_fixture(3, 1);
    assert_int_equal(ner_model_save(m, path, err, sizeof err), 0);
    ner_model_free(m);
    size_t n;
    unsigned char *buf = read_file(path, &n);

    expect_load_error("/nonexistent/dir/model.bin", "cannot open");
    write_file(bad, "", 0);
    expect_load_error(bad, "not a nahr NER model");
    write_file(bad, "hello, this is a text file and not a model at all....................", 70);
    expect_load_error(bad, "bad magic");
    write_file(bad, buf, 20); /* magic, then cut inside the header */
    expect_load_error(bad, "truncated");
    write_file(bad, buf, n - 100);
    expect_load_error(bad, "truncated");
    write_file(bad, buf, n - 1);
    expect_load_error(bad, "truncated");

    unsigned char *copy = malloc(n + 4);
    memcpy(copy, buf, n);
    memset(copy + n, 0, 4);
    write_file(bad, copy, n + 4);
    expect_load_error(bad, "trailing");

    memcpy(copy, buf, n);
    copy[n / 2] ^= 0x40; /* a weight bit flips */
    write_file(bad, copy, n);
    expect_load_error(bad, "checksum");

    memcpy(copy, buf, n);
    copy[8] = 99; /* format version */
    write_file(bad, copy, n);
    expect_load_error(bad, "version 99");

    memcpy(copy, buf, n);
    copy[20] = 0xff, copy[21] = 0xff, copy[22] = 0xff, copy[23] = 0x7f; /* absurd nfeat */
    write_file(bad, copy, n);
    expect_load_error(bad, "corrupt header");

    /* NULL err buffer is allowed */
    ner_model *l = NULL;
    assert_int_not_equal(ner_model_load(bad, &l, NULL, 0), 0);
    free(copy);
    free(buf);
}

/* ---- tagging real text through the shared tokeniser ---- */

static size_t tokenize(const char *text, nahr_token *toks, size_t max)
{
    size_t n = nahr_tokenize(text, strlen(text), toks, max);
    assert_true(n <= max);
    return n;
}

static int find_tok(const char *text, const nahr_token *toks, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (toks[i].end - toks[i].start == strlen(w) && !memcmp(text + toks[i].start, w, strlen(w)))
            return (int)i;
    fail_msg("token %s not found", w);
    return -1;
}

/* s written `times` times into b, tokenised: *n tokens. */
static nahr_token *repeat_tokens(nahr_buf *b, const char *s, int times, size_t *n)
{
    for (int i = 0; i < times; i++)
        assert_int_equal(nahr_buf_puts(b, s), 0);
    *n = nahr_tokenize(b->data, b->len, NULL, 0);
    nahr_token *toks = malloc(*n * sizeof *toks);
    assert_non_null(toks);
    assert_int_equal(nahr_tokenize(b->data, b->len, toks, *n), *n);
    return toks;
}

static void test_tag_new_text(void **state)
{
    (void)state;
    ner_model *m = train_fixture(20, 7);
    /* a new sentence with names the fixture taught, in a new order */
    const char *text = "وفي بيروت، التقى خالد منصور مع أحمد سالم. ثم غادر إلى القاهرة";
    nahr_token toks[64];
    size_t n = tokenize(text, toks, 64);
    uint8_t tags[64];
    void *scratch = malloc(ner_model_scratch_size(m, n));
    assert_int_equal(ner_model_tag(m, text, toks, n, scratch, tags), 0);
    assert_int_equal(tags[find_tok(text, toks, n, "بيروت")], NER_B_LOC);
    assert_int_equal(tags[find_tok(text, toks, n, "خالد")], NER_B_PER);
    assert_int_equal(tags[find_tok(text, toks, n, "منصور")], NER_I_PER);
    assert_int_equal(tags[find_tok(text, toks, n, "القاهرة")], NER_B_LOC);
    assert_int_equal(tags[find_tok(text, toks, n, "التقى")], NER_O);
    assert_int_equal(tags[find_tok(text, toks, n, "ثم")], NER_O);
    assert_valid_bio(tags, n); /* always */
    free(scratch);
    ner_model_free(m);
}

static void test_tag_odd_input(void **state)
{
    (void)state;
    ner_model *m = train_fixture(2, 1);
    uint8_t tags[8];
    /* no tokens */
    assert_int_equal(ner_model_tag(m, "", NULL, 0, NULL, NULL), 0);
    /* bad arguments */
    nahr_token t1 = {.start = 3, .end = 1};
    char sc[4096];
    assert_int_equal(ner_model_tag(m, "abcd", &t1, 1, sc, tags), NAHR_EINVAL);
    assert_int_equal(ner_model_tag(NULL, "abcd", &t1, 1, sc, tags), NAHR_EINVAL);
    /* empty tokens, a huge token, invalid bytes, unaligned scratch */
    size_t big = 100000;
    char *text = malloc(big + 64);
    memset(text, 'x', big);
    memcpy(text + big, " \xff\xfe \xd8 \xd8\xa7", 9);
    text[big + 9] = 0;
    nahr_token toks[5] = {{0, 0, 1, 0}, {0, big, 4, 0}, {big + 1, big + 3, 3, 0},
                          {big + 4, big + 5, 3, 0}, {big + 6, big + 8, 1, NAHR_TOK_SENT_END}};
    size_t need = ner_model_scratch_size(m, 5);
    char *scratch = malloc(need + 1);
    assert_int_equal(ner_model_tag(m, text, toks, 5, scratch + 1, tags), 0);
    assert_valid_bio(tags, 5);
    free(scratch);
    free(text);
    ner_model_free(m);
}

static void test_long_article(void **state)
{
    (void)state;
    ner_model *m = train_fixture(3, 1);
    /* 20,000 sentences in one call; sentence ends split decoding */
    nahr_buf b = {0};
    size_t n;
    nahr_token *toks = repeat_tokens(&b, "زار أحمد سالم مدينة بيروت أمس. ", 20000, &n);
    uint8_t *tags = malloc(n);
    size_t need = ner_model_scratch_size(m, n);
    assert_true(need < 200000); /* bounded, not proportional to the article */
    void *scratch = malloc(need);
    clock_t t0 = clock();
    assert_int_equal(ner_model_tag(m, b.data, toks, n, scratch, tags), 0);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    print_message("tagged %zu tokens (%zu bytes) in %.3f s\n", n, b.len, secs);
    /* every sentence is tagged the same way */
    for (size_t i = 7; i < n; i++)
        assert_int_equal(tags[i], tags[i % 7]);
    free(scratch);
    free(tags);
    free(toks);
    nahr_buf_free(&b);
    ner_model_free(m);
}

/* a long run of tokens without any sentence end: cut into pieces, bounded scratch */
static void test_no_sentence_end(void **state)
{
    (void)state;
    ner_model *m = train_fixture(3, 1);
    nahr_buf b = {0};
    size_t n;
    nahr_token *toks = repeat_tokens(&b, "زار أحمد سالم مدينة بيروت ", 3000, &n);
    for (size_t i = 0; i < n; i++)
        toks[i].flags &= (uint16_t)~NAHR_TOK_SENT_END;
    uint8_t *tags = malloc(n);
    size_t need = ner_model_scratch_size(m, n);
    assert_int_equal(need, ner_model_scratch_size(m, 5000));
    void *scratch = malloc(need);
    assert_int_equal(ner_model_tag(m, b.data, toks, n, scratch, tags), 0);
    size_t loc = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(ner_bio_allowed(i % 1024 ? tags[i - 1] : NER_NTAGS, tags[i]));
        loc += tags[i] == NER_B_LOC;
    }
    assert_true(loc > 2500); /* بيروت, nearly everywhere */
    free(scratch);
    free(tags);
    free(toks);
    nahr_buf_free(&b);
    ner_model_free(m);
}

/* gazetteer and cluster features stored in the model */
static void test_aux_features(void **state)
{
    (void)state;
    char gpath[300], cpath[300], mpath[300], err[256];
    tmp_path(gpath, sizeof gpath, "loc.txt");
    tmp_path(cpath, sizeof cpath, "clusters.txt");
    tmp_path(mpath, sizeof mpath, "aux.bin");
    const char *gaz = "القاهرة\nبيروت\nالدار البيضاء\n\n";
    write_file(gpath, gaz, strlen(gaz));
    const char *cl = "القاهره\t1 17 300\nبيروت\t1 17 301\n\nسالم\t2 40 900\n";
    write_file(cpath, cl, strlen(cl));
    ner_model *m = ner_model_new();
    assert_int_equal(ner_gaz_load(m, gpath, 2, err, sizeof err), 3);
    assert_int_equal(m->gaz_maxlen, 2);
    assert_int_equal(ner_clusters_load(m, cpath, err, sizeof err), 3);
    m->flags = NER_F_GAZ | NER_F_CLUSTERS;
    /* the phrase matches after the proclitic و, the word after normalisation */
    const char *text = "زار والدار البيضاء وبيروت";
    nahr_token toks[8];
    size_t n = tokenize(text, toks, 8);
    assert_int_equal(n, 4);
    ner_tokdesc d[8];
    ner_describe(m, text, toks, n, d);
    assert_int_equal(d[1].gaz_b, 2);
    assert_int_equal(d[2].gaz_i, 2);
    assert_int_equal(d[3].gaz_b, 2);
    assert_int_equal(d[0].gaz_b | d[0].gaz_i, 0);
    assert_true(d[3].has_cl); /* via the stem بيروت */
    assert_int_equal(d[3].cl[2], 301);
    assert_false(d[0].has_cl);
    /* the data survive a save/load round trip */
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 2, .seed = 1};
    assert_int_equal(ner_train(&c, &o, m, NULL), 0);
    assert_int_equal(ner_model_save(m, mpath, err, sizeof err), 0);
    ner_model *l;
    assert_int_equal(ner_model_load(mpath, &l, err, sizeof err), 0);
    assert_int_equal(l->flags, m->flags);
    assert_int_equal(l->gaz.n, 4); /* 3 phrases + the prefix الدار */
    assert_int_equal(l->clusters.n, 3);
    ner_tokdesc e[8];
    ner_describe(l, text, toks, n, e);
    assert_memory_equal(d, e, n * sizeof d[0]);
    /* a file that is not a cluster file: clear error with the line */
    assert_true(ner_clusters_load(m, gpath, err, sizeof err) < 0);
    assert_non_null(strstr(err, "loc.txt:1:"));
    const char *big = "word\t1 2 70000\n";
    write_file(cpath, big, strlen(big));
    assert_true(ner_clusters_load(m, cpath, err, sizeof err) < 0);
    ner_corpus_free(&c);
    ner_model_free(l);
    ner_model_free(m);
}

/* word clusters learned from unlabelled text */
static void test_clusters_from_text(void **state)
{
    (void)state;
    char jpath[300], tpath[300], err[256];
    tmp_path(jpath, sizeof jpath, "news.jsonl");
    tmp_path(tpath, sizeof tpath, "news.txt");
    FILE *f = fopen(jpath, "w");
    assert_non_null(f);
    for (int i = 0; i < 20; i++) {
        fprintf(f, "{\"id\": \"a%d\", \"text\": \"زار الوزير القاهرة أمس، وزار الرئيس بيروت اليوم.\"}\n", i);
        fprintf(f, "not json at all\n{\"id\": \"no text\"}\n");
    }
    fclose(f);
    f = fopen(tpath, "w");
    assert_non_null(f);
    for (int i = 0; i < 10; i++)
        fprintf(f, "زار الوزير دمشق أمس\nكلمة نادرة\n");
    fclose(f);
    const char *files[2] = {jpath, tpath};
    ner_model *a = ner_model_new(), *b = ner_model_new();
    long n = ner_clusters_from_text(a, files, 2, 1000, 5, 42, err, sizeof err);
    /* words seen >= 3 times: زار الوزير القاهرة أمس ، وزار الرئيس بيروت اليوم . دمشق كلمة نادرة */
    assert_int_equal(n, 13);
    assert_int_equal(a->clusters.n, 13);
    assert_int_equal(ner_clusters_from_text(b, files, 2, 1000, 5, 42, err, sizeof err), 13);
    for (size_t i = 0; i <= a->clusters.mask; i++) {
        if (!a->clusters.keys[i])
            continue;
        uint64_t v = a->clusters.vals[i];
        const uint64_t *w = ner_set_get(&b->clusters, a->clusters.keys[i]);
        assert_non_null(w);
        assert_true(*w == v); /* deterministic */
        unsigned c0 = v & 0xFFFF, c1 = (v >> 16) & 0xFFFF, c2 = (v >> 32) & 0xFFFF;
        assert_int_equal(c1 / 16, c0); /* nested ids */
        assert_int_equal(c2 / 8, c1);
    }
    const uint64_t *cairo = ner_set_get(&a->clusters, ner_word_hash("القاهرة", strlen("القاهرة"), NULL, NULL));
    assert_non_null(cairo);
    /* only the most frequent words: maxwords 3 */
    ner_model *c = ner_model_new();
    assert_int_equal(ner_clusters_from_text(c, files, 2, 3, 5, 42, err, sizeof err), 3);
    /* missing file: clear error */
    const char *missing[1] = {"/nonexistent/news.jsonl"};
    assert_true(ner_clusters_from_text(c, missing, 1, 10, 5, 1, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/nonexistent/news.jsonl"));
    /* word vectors in fasttext's .vec text format */
    char vpath[300];
    tmp_path(vpath, sizeof vpath, "w.vec");
    const char *vec = "5 3\nالقاهرة 1 0 0\nبيروت 0.9 0.1 0\nقال 0 0 1\nأعلن 0 0.1 0.9\n</s> 1 1 1\n";
    write_file(vpath, vec, strlen(vec));
    ner_model *v = ner_model_new();
    assert_int_equal(ner_clusters_from_vectors(v, vpath, 100, 1, err, sizeof err), 4);
    const uint64_t *x = ner_set_get(&v->clusters, ner_word_hash("القاهرة", strlen("القاهرة"), NULL, NULL));
    const uint64_t *y = ner_set_get(&v->clusters, ner_word_hash("قال", strlen("قال"), NULL, NULL));
    assert_non_null(x);
    assert_non_null(y);
    const char *badvec = "2 3\nكلمة 1 2\n";
    write_file(vpath, badvec, strlen(badvec));
    assert_true(ner_clusters_from_vectors(v, vpath, 100, 1, err, sizeof err) < 0);
    assert_non_null(strstr(err, "expected 3 numbers"));
    write_file(vpath, "hello\n", 6);
    assert_true(ner_clusters_from_vectors(v, vpath, 100, 1, err, sizeof err) < 0);
    ner_model_free(v);
    ner_model_free(a);
    ner_model_free(b);
    ner_model_free(c);
}

/* normalised forms share features */
static void test_normalised_words(void **state)
{
    (void)state;
    assert_int_equal(ner_word_hash("أحمد", strlen("أحمد"), NULL, NULL),
                     ner_word_hash("احمد", strlen("احمد"), NULL, NULL));
    assert_int_equal(ner_word_hash("القاهرة", strlen("القاهرة"), NULL, NULL),
                     ner_word_hash("القاهره", strlen("القاهره"), NULL, NULL));
    assert_int_not_equal(ner_word_hash("سالم", strlen("سالم"), NULL, NULL),
                         ner_word_hash("سليم", strlen("سليم"), NULL, NULL));
}

/* ---- document consistency (prediction history) ---- */

/* the table: how a word and its stem were tagged, bounded in size */
static void test_history_table(void **state)
{
    (void)state;
    ner_model *m = ner_model_new();
    const char *text = "قال سالم إن وسالم سافر ثم قال";
    nahr_token toks[16];
    size_t n = tokenize(text, toks, 16);
    assert_int_equal(n, 7);
    ner_tokdesc d[16];
    ner_describe(m, text, toks, n, d);
    ner_hist *h = malloc(sizeof *h);
    assert_non_null(h);
    ner_hist_reset(h);
    uint8_t tags[16] = {NER_O, NER_B_PER, NER_O, NER_O, NER_O, NER_O, NER_O};
    ner_hist_add(h, d, tags, 2); /* "قال سالم" */
    ner_tokdesc e[16];
    ner_describe(m, text, toks, n, e);
    ner_hist_mark(h, n, e);
    assert_int_equal(e[1].hist, 1u);          /* سالم: PER before */
    assert_int_equal(e[3].hist, 0);           /* وسالم: another word... */
    assert_int_equal(e[3].hist_stem, 1u);     /* ...with the same stem */
    assert_int_equal(e[6].hist, NER_HIST_O);  /* قال: outside an entity */
    assert_int_equal(e[4].hist | e[4].hist_stem, 0); /* سافر: not seen */
    /* both types are kept */
    ner_hist_put(h, d[1].word, d[1].stem, NER_I_LOC);
    ner_hist_mark(h, n, e);
    assert_int_equal(e[1].hist, 1u | 2u);
    /* full: new words are dropped, old ones still answer, no endless probe */
    for (uint32_t w = 1; w < 3 * NER_HIST_CAP; w++)
        ner_hist_put(h, ner_mix(w, 99), ner_mix(w, 98), NER_B_ORG);
    assert_true(h->n <= NER_HIST_CAP * 3 / 4);
    ner_hist_mark(h, n, e);
    assert_int_equal(e[1].hist, 1u | 2u);
    free(h);
    ner_model_free(m);
}

/* training with the history: the flag, the window in the file, the
 * determinism, and tagging an article through ner_model_tag (the history runs over the call) */
static void test_history_model(void **state)
{
    (void)state;
    char path[300], path2[300], err[256];
    tmp_path(path2, sizeof path2, "hist2.bin");
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 4, .seed = 5, .dev_fraction = 0.2, .refit = 1, .hist_window = 3};
    ner_model *m = ner_model_new(), *m2 = ner_model_new();
    assert_int_equal(ner_train(&c, &o, m, NULL), 0);
    assert_true(m->flags & NER_F_HIST);
    assert_int_equal(m->hist_window, 3);
    assert_int_equal(ner_train(&c, &o, m2, NULL), 0);
    size_t n1;
    unsigned char *b1 = save_same_bytes(m, m2, "hist.bin", "hist2.bin", path, &n1); /* same seed */
    ner_model *l;
    assert_int_equal(ner_model_load(path, &l, err, sizeof err), 0);
    assert_int_equal(l->hist_window, 3);
    assert_int_equal(l->flags, m->flags);
    uint8_t *a = same_corpus_tags(m, l, &c);
    assert_true(corpus_f1(&c, a) > 0.9);
    /* an article: the doc scratch holds the table, output is valid BIO */
    const char *text = "وصل سالم إلى بيروت. وقال سالم إن تونس شريك.";
    nahr_token toks[32];
    size_t n = tokenize(text, toks, 32);
    void *scratch = malloc(ner_model_scratch_size(l, n)); /* holds the history table too */
    uint8_t tags[32];
    assert_int_equal(ner_model_tag(l, text, toks, n, scratch, tags), 0);
    assert_valid_bio(tags, n);
    assert_int_equal(tags[find_tok(text, toks, n, "بيروت")], NER_B_LOC);
    assert_int_equal(ner_model_tag(l, text, toks, 0, NULL, NULL), 0);
    nahr_token bad = {.start = 3, .end = 1};
    assert_int_equal(ner_model_tag(l, text, &bad, 1, scratch, tags), NAHR_EINVAL);
    /* a file claiming an unknown feature flag is refused */
    b1[19] |= 0x40;
    write_file(path2, b1, n1);
    ner_model *x = NULL;
    assert_true(ner_model_load(path2, &x, err, sizeof err) < 0);
    free(scratch);
    free(a);
    free(b1);
    ner_corpus_free(&c);
    ner_model_free(l);
    ner_model_free(m);
    ner_model_free(m2);
}

/* The key of the one feature of token i that is there with d[i] changed by
 * set() and not without (the difference of the two feature lists). */
static uint32_t new_feature(const ner_model *m, ner_tokdesc *d, size_t n, size_t i,
                            void (*set)(ner_tokdesc *))
{
    uint32_t f0[NER_MAXF], f1[NER_MAXF];
    ner_tokdesc keep = d[i];
    size_t k0 = ner_features(m, d, n, i, f0);
    set(&d[i]);
    size_t k1 = ner_features(m, d, n, i, f1);
    d[i] = keep;
    assert_int_equal(k1, k0 + 1);
    for (size_t k = 0; k < k1; k++) {
        size_t j = 0;
        while (j < k0 && f0[j] != f1[k])
            j++;
        if (j == k0)
            return f1[k];
    }
    fail();
    return 0;
}

static void set_after_per(ner_tokdesc *t) { t->after = 1u; }

/* The second pass (NER_F_DOC2) on a hand-made model: a word after الوزير is
 * a person; a word tagged PER in a later sentence and not before is too. The
 * bare سالم of the first sentence is a person only if the second pass runs
 * and reads the later sentences; the one of the third sentence is PER before
 * and after it, so it has no "after" bit and stays O (the evidence is only
 * what the history lacks). */
static void test_doc2_second_pass(void **state)
{
    (void)state;
    const char *text = "قال سالم إنه مسرور . شكر الوزير سالم الحضور . ثم غادر سالم القاعة . "
                       "ورحب الوزير سالم بالضيوف .";
    nahr_token toks[32];
    size_t n = tokenize(text, toks, 32);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++)
        if (text[toks[i].start] == '.')
            toks[i].flags |= NAHR_TOK_SENT_END;
    ner_model *m = ner_model_new();
    m->flags = NER_F_HIST | NER_F_DOC2;
    ner_tokdesc d[32];
    ner_describe(m, text, toks, n, d);
    size_t s1 = (size_t)find_tok(text, toks, n, "سالم"); /* 1, then 7, 12 and 17 */
    uint32_t keys[2];
    /* الوزير as the word at -1 */
    uint32_t fn[NER_MAXF];
    assert_true(ner_features_neighbour(m, &d[6], -1, fn) > 0);
    keys[0] = fn[0];
    keys[1] = new_feature(m, d + 5, 5, 2, set_after_per); /* after bit PER of a word */
    int16_t w[2 * NER_NTAGS] = {0};
    w[0 * NER_NTAGS + NER_B_PER] = 100;
    w[1 * NER_NTAGS + NER_B_PER] = 100;
    assert_int_equal(ner_model_set_weights(m, keys, w, 2, 0.01f), 0);
    uint8_t one[32], two[32];
    void *scratch = malloc(ner_model_scratch_size(m, n));
    assert_non_null(scratch);
    m->flags &= ~NER_F_DOC2; /* one-sided: the first pass alone */
    assert_int_equal(ner_model_tag(m, text, toks, n, scratch, one), 0);
    m->flags |= NER_F_DOC2;
    free(scratch);
    scratch = malloc(ner_model_scratch_size(m, n));
    assert_non_null(scratch);
    assert_int_equal(ner_model_tag(m, text, toks, n, scratch, two), 0);
    assert_int_equal(s1, 1);
    assert_int_equal(one[1], NER_O);
    assert_int_equal(one[7], NER_B_PER);
    assert_int_equal(one[12], NER_O);
    assert_int_equal(one[17], NER_B_PER);
    assert_int_equal(two[1], NER_B_PER); /* from the later sentences */
    assert_int_equal(two[7], NER_B_PER);
    assert_int_equal(two[12], NER_O); /* PER before: no after bit */
    for (size_t i = 0; i < n; i++)
        if (i != 1)
            assert_int_equal(one[i], two[i]);
    /* the same through the per-thread cache */
    ner_cache *cache = ner_cache_new();
    assert_non_null(cache);
    memset(two, 0xFF, sizeof two);
    assert_int_equal(ner_model_tag_cached(m, cache, text, toks, n, scratch, two), 0);
    assert_int_equal(two[1], NER_B_PER);
    assert_int_equal(two[12], NER_O);
    ner_cache_free(cache);
    /* one sentence per call: nothing later to read */
    assert_int_equal(ner_model_tag(m, text, toks, 5, scratch, two), 0);
    assert_int_equal(two[1], NER_O);
    free(scratch);
    ner_model_free(m);
}

/* Trains the fixture twice with o (flags, when not 0, set on the models
 * beforehand with the history window of o), checks that both files are
 * (name, name2 in the test directory) byte-identical, loads one and checks that its flags are kept, that its
 * description holds needle and that the corpus tagging (ner_tag_corpus_doc)
 * is the run-time tagging of pseudo-articles of 3 sentences. Returns the
 * loaded model; *f1 = the fixture F1 of its tags. */
static ner_model *train_twice_and_load(ner_corpus *c, const ner_train_opts *o, uint32_t flags,
                                       const char *name, const char *name2, const char *needle,
                                       double *f1)
{
    char path[300], err[256];
    ner_model *m = ner_model_new(), *m2 = ner_model_new();
    assert_true(m && m2);
    if (flags) {
        m->flags = m2->flags = flags;
        m->hist_window = m2->hist_window = (unsigned)o->hist_window;
    }
    assert_int_equal(ner_train(c, o, m, NULL), 0);
    assert_int_equal(ner_train(c, o, m2, NULL), 0);
    size_t n1;
    free(save_same_bytes(m, m2, name, name2, path, &n1));
    ner_model *l = NULL;
    assert_int_equal(ner_model_load(path, &l, err, sizeof err), 0);
    assert_int_equal(l->flags, m->flags);
    char desc[512];
    ner_model_describe(l, desc, sizeof desc);
    assert_non_null(strstr(desc, needle));
    uint8_t *a = malloc(c->ntok), *b = malloc(c->ntok);
    assert_true(a && b);
    assert_int_equal(ner_tag_corpus_doc(l, c, a), 0);
    void *scratch = malloc(ner_model_scratch_size(l, c->ntok));
    assert_non_null(scratch);
    for (size_t k = 0; k < c->nsent; k += 3) {
        size_t e = k + 3 < c->nsent ? k + 3 : c->nsent;
        assert_int_equal(ner_model_tag(l, c->text, c->toks + c->sent[k], c->sent[e] - c->sent[k],
                                       scratch, b + c->sent[k]),
                         0);
    }
    assert_memory_equal(a, b, c->ntok);
    *f1 = corpus_f1(c, a);
    free(scratch);
    free(a);
    free(b);
    ner_model_free(m);
    ner_model_free(m2);
    return l;
}

/* trained with --doc2: the flag in the file, determinism, the corpus
 * evaluation = one ner_model_tag call per pseudo-article */
static void test_doc2_model(void **state)
{
    (void)state;
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 4, .seed = 5, .dev_fraction = 0.2, .refit = 1, .dict = 1,
                        .hist_window = 3, .doc2 = 1};
    double f1;
    ner_model *l = train_twice_and_load(&c, &o, 0, "doc2.bin", "doc2b.bin", "two-sided", &f1);
    assert_int_equal(l->flags & (NER_F_HIST | NER_F_DOC2), NER_F_HIST | NER_F_DOC2);
    assert_true(f1 > 0.9);
    ner_corpus_free(&c);
    ner_model_free(l);
}

/* ---- article context (NER_F_ACTX) ---- */

/* The facts of every mention of a word in a hand-made article. */
static const char *const ACTX_ARTICLE =
    "قال المدرب خالد منصور إن اللاعبين جاهزون . "
    "وأكد منصور أن نادي الهلال سيفوز في الرياض . "
    "ووصل فيصل بن سلمان إلى الرياض . "
    "وقال منصور إن والهلال قوي . "
    "والتقى فيصل بن سلمان الفريق .";

/* The context pass over text (its sentences cut at the full stops, as
 * ner_model_tag cuts them) and the marks of its n tokens (at most 63). */
static void context_describe(const ner_model *m, ner_actx *ax, const char *text, ner_tokdesc *d,
                             nahr_token *toks, size_t *n)
{
    *n = nahr_tokenize(text, strlen(text), toks, 64);
    assert_true(*n < 64);
    ner_describe(m, text, toks, *n, d);
    ner_actx_reset(ax);
    size_t s = 0;
    for (size_t i = 0; i < *n; i++)
        if (d[i].punct) { /* a sentence ends at each full stop */
            ner_actx_add_sentence(ax, m, d + s, i + 1 - s);
            s = i + 1;
        }
    ner_actx_mark(ax, *n, d);
}

/* index of the k-th (0-based) occurrence of word w */
static size_t actx_find(const nahr_token *toks, size_t n, const char *w, unsigned k)
{
    for (size_t i = 0; i < n; i++)
        if (toks[i].end - toks[i].start == strlen(w) &&
            memcmp(ACTX_ARTICLE + toks[i].start, w, strlen(w)) == 0 && k-- == 0)
            return i;
    fail_msg("word %s not found", w);
    return 0;
}

static void test_actx_pass(void **state)
{
    (void)state;
    ner_model *m = ner_model_new();
    assert_non_null(m);
    m->flags = NER_F_ACTX;
    ner_actx *ax = malloc(sizeof *ax);
    ner_tokdesc d[64];
    nahr_token toks[64];
    size_t n;
    assert_non_null(ax);
    context_describe(m, ax, ACTX_ARTICLE, d, toks, &n);
    /* خالد follows a person title; منصور, three mentions, never does */
    size_t i = actx_find(toks, n, "خالد", 0);
    assert_true(d[i].actx & NER_ACTX_PER);
    assert_int_equal(d[i].actx_cnt, 1);
    for (unsigned k = 0; k < 3; k++) {
        i = actx_find(toks, n, "منصور", k);
        assert_int_equal(d[i].actx & (NER_ACTX_PER | NER_ACTX_LOC | NER_ACTX_ORG), 0);
        assert_int_equal(d[i].actx_cnt, 2); /* 2-3 mentions */
    }
    /* الهلال follows an organisation head once; the bare stem's other form
     * (والهلال) shares the stem facts, and the stem has two forms */
    i = actx_find(toks, n, "الهلال", 0);
    assert_true(d[i].actx & NER_ACTX_ORG);
    assert_true(d[i].actx_stem & NER_ACTX_FORMS);
    assert_false(d[i].actx & NER_ACTX_FORMS); /* a word fact only of stems */
    i = actx_find(toks, n, "والهلال", 0);
    assert_false(d[i].actx & NER_ACTX_ORG); /* the word: its one mention has no head */
    assert_true(d[i].actx_stem & NER_ACTX_ORG);
    assert_int_equal(d[i].actx_scnt, 2);
    /* الرياض follows في and إلى: a place preposition, one form */
    i = actx_find(toks, n, "الرياض", 1);
    assert_true(d[i].actx & NER_ACTX_PREP);
    assert_false(d[i].actx_stem & NER_ACTX_FORMS);
    /* فيصل is followed by بن; "فيصل بن" and "بن سلمان" come twice */
    i = actx_find(toks, n, "فيصل", 0);
    assert_true(d[i].actx & NER_ACTX_BIN);
    assert_true(d[i].actx & NER_ACTX_BIG1);
    assert_false(d[i].actx & NER_ACTX_BIG2);
    i = actx_find(toks, n, "سلمان", 0);
    assert_false(d[i].actx & NER_ACTX_BIN);
    assert_true(d[i].actx & NER_ACTX_BIG2);
    assert_true(d[actx_find(toks, n, "بن", 0)].actx & (NER_ACTX_BIG1 | NER_ACTX_BIG2));
    /* a word seen once with none of the contexts; punctuation has nothing */
    i = actx_find(toks, n, "جاهزون", 0);
    assert_int_equal(d[i].actx, 0);
    assert_int_equal(d[i].actx_cnt, 1);
    i = actx_find(toks, n, ".", 0);
    assert_int_equal(d[i].actx | d[i].actx_stem | d[i].actx_cnt | d[i].actx_scnt, 0);
    /* the features: one per fact and per count, only with the flag */
    i = actx_find(toks, n, "منصور", 2);
    uint32_t f1[NER_MAXF], f0[NER_MAXF];
    size_t n1 = ner_features(m, d, n, i, f1);
    m->flags &= ~NER_F_ACTX;
    size_t n0 = ner_features(m, d, n, i, f0);
    m->flags |= NER_F_ACTX;
    size_t want = (size_t)__builtin_popcount(d[i].actx) + (size_t)__builtin_popcount(d[i].actx_stem) +
                  (d[i].actx_cnt > 0) + (d[i].actx_scnt > 0) +
                  (size_t)__builtin_popcount(d[i - 1].actx) + (size_t)__builtin_popcount(d[i + 1].actx);
    assert_true(want >= 3);
    assert_int_equal(n1, n0 + want);
    assert_memory_equal(f1, f0, n0 * sizeof *f0); /* the other features unchanged, first */
    /* a full table: new words get no facts, the pass goes on */
    ner_actx_reset(ax);
    for (uint32_t w = 1; w < 5 * NER_ACTX_CAP; w++)
        ner_actx_add(ax, m, w * 2654435761u, w * 40503u, 0);
    assert_true(ax->n * 4 <= NER_ACTX_CAP * 3);
    ner_actx_mark(ax, n, d);
    assert_int_equal(d[actx_find(toks, n, "جاهزون", 0)].actx_cnt, 0);
    free(ax);
    ner_model_free(m);
}

/* ---- article topic (NER_F_TOPIC) ---- */

/* Two hand-made articles: a match report (many words of the sports
 * vocabulary) and a political report with one of them (فوز). */
static const char *const TOPIC_SPORT =
    "فاز فريق ليون على ضيفه بورتو بهدفين في مباراة الدوري . "
    "وقال مدرب ليون إن اللاعبين قدموا شوطا جيدا .";
static const char *const TOPIC_POLITICS =
    "وصل الرئيس إلى ليون بعد فوز حزبه في الانتخابات . "
    "وقال الوزير إن الحكومة ستعقد اجتماعا في بورتو .";

static void test_topic_pass(void **state)
{
    (void)state;
    ner_model *m = ner_model_new();
    assert_non_null(m);
    m->flags = NER_F_TOPIC;
    ner_actx *ax = malloc(sizeof *ax);
    ner_tokdesc d[64];
    nahr_token toks[64];
    size_t n;
    assert_non_null(ax);
    /* the match report: the bit on every token */
    context_describe(m, ax, TOPIC_SPORT, d, toks, &n);
    assert_true(ax->sport >= NER_TOPIC_MIN);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(d[i].topic, 1);
    /* the topic features of ليون (token 2) fire with the flag alone, after
     * the others, and not the article-context facts (NER_F_ACTX clear) */
    uint32_t f1[NER_MAXF], f0[NER_MAXF];
    size_t n1 = ner_features(m, d, n, 2, f1);
    m->flags &= ~NER_F_TOPIC;
    size_t n0 = ner_features(m, d, n, 2, f0);
    assert_true(n1 > n0);
    assert_memory_equal(f1, f0, n0 * sizeof *f0);
    /* a gazetteer type of the word adds one topic feature more: the
     * conjunction with the place-like marks */
    m->flags = NER_F_TOPIC | NER_F_GAZ;
    size_t g0 = ner_features(m, d, n, 2, f0);
    d[2].gaz_b = 1u << 1;
    size_t g1 = ner_features(m, d, n, 2, f1);
    m->flags = NER_F_GAZ;
    size_t p1 = ner_features(m, d, n, 2, f0);
    d[2].gaz_b = 0;
    size_t p0 = ner_features(m, d, n, 2, f0);
    assert_int_equal(p1, p0 + 1);           /* the plain gazetteer feature */
    assert_int_equal(g1 - g0, p1 - p0 + 1); /* and its topic twin */
    /* the political report: one sports word, no bit, no topic features */
    m->flags = NER_F_TOPIC;
    context_describe(m, ax, TOPIC_POLITICS, d, toks, &n);
    assert_true(ax->sport > 0 && ax->sport < NER_TOPIC_MIN);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(d[i].topic, 0);
        m->flags = NER_F_TOPIC;
        n1 = ner_features(m, d, n, i, f1);
        m->flags = 0;
        n0 = ner_features(m, d, n, i, f0);
        assert_int_equal(n1, n0);
        assert_memory_equal(f1, f0, n0 * sizeof *f0);
    }
    free(ax);
    ner_model_free(m);
}

/* A model trained with the article context: deterministic, its file keeps
 * the flag, the corpus tagging is the run-time tagging of pseudo-articles. */
static void test_actx_model(void **state)
{
    (void)state;
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 4, .seed = 5, .dev_fraction = 0.2, .refit = 1, .dict = 1,
                        .hist_window = 3};
    double f1;
    ner_model *l = train_twice_and_load(&c, &o, NER_F_ACTX, "actx.bin", "actxb.bin", "article context",
                                        &f1);
    assert_int_equal(l->flags & (NER_F_HIST | NER_F_ACTX), NER_F_HIST | NER_F_ACTX);
    print_message("article-context model: fixture F1 %.3f\n", f1);
    assert_true(f1 > 0.8);
    uint8_t *a = malloc(c.ntok), *b = malloc(c.ntok);
    void *scratch = malloc(ner_model_scratch_size(l, c.ntok));
    assert_true(a && b && scratch);
    /* the facts have weights: without the flag the scores change */
    float *g1 = malloc(c.ntok * sizeof *g1), *g0 = malloc(c.ntok * sizeof *g0);
    assert_true(g1 && g0);
    assert_int_equal(ner_model_tag_margin(l, NULL, c.text, c.toks, c.ntok, scratch, a, g1), 0);
    l->flags &= ~NER_F_ACTX;
    assert_int_equal(ner_model_tag_margin(l, NULL, c.text, c.toks, c.ntok, scratch, b, g0), 0);
    size_t changed = 0;
    for (size_t i = 0; i < c.ntok; i++)
        changed += g1[i] != g0[i];
    assert_true(changed > c.ntok / 4);
    free(g1);
    free(g0);
    free(scratch);
    free(a);
    free(b);
    ner_corpus_free(&c);
    ner_model_free(l);
}

/* a mean of several perceptrons: fits, is deterministic, differs from one */
static void test_ensemble(void **state)
{
    (void)state;
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 4, .seed = 9, .ensemble = 3};
    ner_model *a = ner_model_new(), *b = ner_model_new(), *one = ner_model_new();
    assert_int_equal(ner_train(&c, &o, a, NULL), 0);
    assert_int_equal(ner_train(&c, &o, b, NULL), 0);
    o.ensemble = 1;
    assert_int_equal(ner_train(&c, &o, one, NULL), 0);
    assert_int_equal(a->nfeat, b->nfeat);
    assert_true(a->scale == b->scale);
    assert_memory_equal(a->trans, b->trans, sizeof a->trans);
    int differs = a->scale != one->scale || memcmp(a->trans, one->trans, sizeof a->trans) != 0;
    for (size_t i = 0; i <= a->mask; i++) {
        if (!a->slots[i].key)
            continue;
        const ner_slot *x = ner_model_find(b, a->slots[i].key);
        assert_non_null(x);
        assert_memory_equal(x->w, a->slots[i].w, sizeof x->w);
    }
    assert_true(differs);
    uint8_t *pred = malloc(c.ntok);
    assert_int_equal(ner_tag_corpus(a, &c, pred), 0);
    assert_true(corpus_f1(&c, pred) > 0.95);
    free(pred);
    ner_corpus_free(&c);
    ner_model_free(a);
    ner_model_free(b);
    ner_model_free(one);
}

/* short quotations and the word before them */
static void test_quotes(void **state)
{
    (void)state;
    ner_model *m = ner_model_new();
    m->flags = NER_F_QUOTE;
    const char *text = "قدم برنامج « حوار من القلب » أمس و\" كلمة \" ثم « غير مغلق";
    nahr_token toks[32];
    size_t n = tokenize(text, toks, 32);
    ner_tokdesc d[32];
    ner_describe(m, text, toks, n, d);
    int i = find_tok(text, toks, n, "حوار");
    assert_int_equal(d[i].quote, 1);
    assert_int_equal(d[i + 1].quote, 2);
    assert_int_equal(d[i + 2].quote, 2);
    assert_int_equal(d[i].qtrig, d[find_tok(text, toks, n, "برنامج")].stem);
    assert_int_equal(d[i + 3].quote, 0); /* the closing mark */
    assert_int_equal(d[find_tok(text, toks, n, "أمس")].quote, 0);
    assert_int_equal(d[find_tok(text, toks, n, "كلمة")].quote, 1); /* straight quotes */
    assert_int_equal(d[find_tok(text, toks, n, "مغلق")].quote, 0); /* never closed */
    /* the features exist only with the flag */
    uint32_t f1[NER_MAXF], f2[NER_MAXF];
    size_t k1 = ner_features(m, d, n, (size_t)i, f1);
    m->flags = 0;
    ner_describe(m, text, toks, n, d);
    assert_int_equal(d[i].quote, 0);
    size_t k2 = ner_features(m, d, n, (size_t)i, f2);
    assert_int_equal(k1, k2 + 2);
    /* more than 8 words: not a title */
    const char *lng = "« ا ب ت ث ج ح خ د ذ »";
    n = tokenize(lng, toks, 32);
    m->flags = NER_F_QUOTE;
    ner_describe(m, lng, toks, n, d);
    for (size_t j = 0; j < n; j++)
        assert_int_equal(d[j].quote, 0);
    ner_model_free(m);
}

/* unlabelled text written as the tagger tokenises and normalises it */
static void test_write_tokens(void **state)
{
    (void)state;
    char jpath[300], opath[300], err[256];
    tmp_path(jpath, sizeof jpath, "tok.jsonl");
    tmp_path(opath, sizeof opath, "tok.txt");
    const char *j = "{\"text\": \"زار أحمد القاهرة، أمس.\"}\n{\"id\": 2}\n{\"text\": \"قال\"}\n";
    write_file(jpath, j, strlen(j));
    FILE *f = fopen(opath, "w");
    assert_non_null(f);
    const char *files[1] = {jpath};
    assert_int_equal(ner_unlabelled_write(files, 1, f, err, sizeof err), 0);
    fclose(f);
    size_t n;
    unsigned char *out = read_file(opath, &n);
    const char *want = "زار احمد القاهره ، امس .\nقال\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    free(out);
    const char *missing[1] = {"/nonexistent/x.jsonl"};
    f = fopen(opath, "w");
    assert_true(ner_unlabelled_write(missing, 1, f, err, sizeof err) < 0);
    fclose(f);
    assert_non_null(strstr(err, "/nonexistent/x.jsonl"));
}

/* ---- news evidence (NER_F_NEWS) ---- */

static void test_news_pack(void **state)
{
    (void)state;
    assert_int_equal(sizeof(ner_tokdesc), 116); /* one per token of a sentence in the scratch
                                                 * (108 before the NER_F_DOC2 after bits, 112
                                                 * before the NER_F_ACTX facts) */
    const uint32_t c1[NER_NTYPES + 1] = {10, 7, 0, 1, 3}; /* PER .7, LOC 0, ORG .1, MISC .3 */
    assert_int_equal(ner_news_pack(c1), 3u | 0u << 2 | 1u << 4 | 2u << 6);
    const uint32_t c2[NER_NTYPES + 1] = {100, 9, 29, 59, 0}; /* just under every threshold */
    assert_int_equal(ner_news_pack(c2), 0u | 1u << 2 | 2u << 4);
    const uint32_t c3[NER_NTYPES + 1] = {0, 0, 0, 0, 0};
    assert_int_equal(ner_news_pack(c3), 0);
    /* lower thresholds (0.03, 0.15, 0.5): 0.09 -> 1, 0.29 -> 2, 0.59 -> 3 */
    assert_int_equal(ner_news_pack_at(c2, ner_news_thresholds_low), 1u | 2u << 2 | 3u << 4);
}

/* news articles of our own: known names in contexts the fixture model knows */
static const char *const NEWS_JSONL =
    "{\"text\": \"زار الرئيس أحمد سالم مدينة القاهرة أمس. وصل سالم إلى بيروت قادما من دمشق.\"}\n"
    "{\"text\": \"التقى خالد منصور بنظيره في باريس. سافر منصور إلى القاهرة ثم إلى بيروت.\"}\n"
    "{\"text\": \"تحدث أحمد سالم عن الاقتصاد في تونس. وصل سالم إلى القاهرة.\"}\n"
    "{\"id\": 4}\n"
    "{\"text\": \"زار الرئيس أحمد سالم مدينة القاهرة أمس. وحيدة\"}\n";

static ner_news *load_news(void)
{
    char path[300], err[256];
    tmp_path(path, sizeof path, "news.jsonl");
    write_file(path, NEWS_JSONL, strlen(NEWS_JSONL));
    const char *files[1] = {path};
    ner_news *nw = NULL;
    assert_int_equal(ner_news_load(files, 1, &nw, err, sizeof err), 0);
    assert_non_null(nw);
    return nw;
}

static uint32_t whash(const char *w) { return ner_word_hash(w, strlen(w), NULL, NULL); }

static void test_news_table(void **state)
{
    (void)state;
    char err[256];
    ner_news *nw = load_news();
    assert_true(ner_news_bytes(nw) > 100);
    ner_model *m = train_fixture(8, 7);
    ner_set tab = {0};
    assert_int_equal(ner_news_table(m, nw, 2, ner_news_thresholds, &tab), 0);
    const uint64_t *v = ner_set_get(&tab, whash("سالم")); /* 5 times, a name every time */
    assert_non_null(v);
    assert_int_equal(*v & 3u, 3u);                 /* PER >= 0.6 */
    assert_int_equal((*v >> 2) & 0x3Fu, 0);       /* never LOC, ORG, MISC */
    v = ner_set_get(&tab, whash("القاهرة"));
    assert_non_null(v);
    assert_int_equal((*v >> 2) & 3u, 3u); /* LOC */
    v = ner_set_get(&tab, whash("إلى")); /* frequent, never an entity */
    assert_non_null(v);
    assert_int_equal(*v, 0);
    assert_null(ner_set_get(&tab, whash("وحيدة"))); /* once: below the minimum count */
    /* stems: والقاهرة and القاهرة share one */
    ner_tokdesc d;
    ner_describe_token(m, "القاهرة", strlen("القاهرة"), &d);
    v = ner_set_get(&tab, NER_NEWS_STEM_KEY(d.stem));
    assert_non_null(v);
    assert_int_equal((*v >> 2) & 3u, 3u);
    /* the table reaches the token descriptions */
    m->news = tab;
    m->flags |= NER_F_NEWS;
    ner_describe_token(m, "سالم", strlen("سالم"), &d);
    assert_int_equal(d.news, 3u);
    ner_describe_token(m, "غائبة", strlen("غائبة"), &d);
    assert_int_equal(d.news, NER_NEWS_ABSENT);
    /* missing file: the error names it */
    const char *missing[1] = {"/nonexistent/news.jsonl"};
    ner_news *x = (ner_news *)(uintptr_t)1;
    assert_true(ner_news_load(missing, 1, &x, err, sizeof err) < 0);
    assert_null(x);
    assert_non_null(strstr(err, "/nonexistent/news.jsonl"));
    ner_model_free(m); /* frees tab */
    ner_news_free(nw);
}

/* self-training (--self-train): the tags of several models kept per news
 * token, and the sentences they all tagged alike, with an entity */
static void test_news_agree_select(void **state)
{
    (void)state;
    ner_news *nw = load_news();
    ner_model *m = train_fixture(8, 7);
    size_t nt = ner_news_ntok(nw);
    assert_true(nt > 40);
    uint8_t *agree = malloc(nt);
    assert_non_null(agree);
    memset(agree, NER_AGREE_UNSET, nt);
    ner_set tab = {0};
    assert_int_equal(ner_news_tables(m, nw, 2, ner_news_thresholds, &tab, agree), 0);
    size_t ent = 0;
    for (size_t i = 0; i < nt; i++) {
        assert_true(agree[i] < NER_NTAGS); /* one model: every token has its tag */
        ent += agree[i] != 0;
    }
    assert_true(ent > 0);
    /* the same model again agrees everywhere */
    assert_int_equal(ner_news_tables(m, nw, 2, ner_news_thresholds, &tab, agree), 0);
    ner_corpus x;
    assert_int_equal(ner_news_select(nw, agree, 1000, NULL, &x), 0);
    assert_true(x.nsent >= 2);
    for (size_t s = 0; s < x.nsent; s++) {
        size_t a = x.sent[s], b = x.sent[s + 1], e = 0;
        assert_true(b - a >= 5 && b - a <= 100);
        for (size_t i = a; i < b; i++) {
            assert_true(x.gold[i] < NER_NTAGS);
            e += x.gold[i] != 0;
            assert_int_equal((x.toks[i].flags & NAHR_TOK_SENT_END) != 0, i + 1 == b);
            assert_true(x.toks[i].end <= x.textlen);
        }
        assert_true(e > 0);
    }
    /* the tokens' text is the news text: the first sentence of the news */
    assert_int_equal(memcmp(x.text, "زار الرئيس أحمد سالم", strlen("زار الرئيس أحمد سالم")), 0);
    size_t all = x.nsent;
    ner_corpus_free(&x);
    /* at most max, spread over the news */
    assert_int_equal(ner_news_select(nw, agree, 1, NULL, &x), 0);
    assert_int_equal(x.nsent, 1);
    ner_corpus_free(&x);
    /* every word known: no sentence has an entity with an unseen word */
    ner_set known = {0};
    const char *words[] = {"أحمد", "سالم", "القاهرة", "بيروت", "دمشق", "خالد", "منصور",
                           "باريس", "تونس", "مدينة", "الرئيس"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        assert_int_equal(ner_set_put(&known, whash(words[i]), 1, 0), 0);
    size_t with_known;
    assert_int_equal(ner_news_select(nw, agree, 1000, &known, &x), 0);
    with_known = x.nsent;
    ner_corpus_free(&x);
    assert_true(with_known < all);
    /* a second model that disagrees somewhere: fewer sentences, none at all
     * when every token was disputed */
    memset(agree, NER_AGREE_NO, nt);
    assert_int_equal(ner_news_select(nw, agree, 1000, NULL, &x), 0);
    assert_int_equal(x.nsent, 0);
    ner_corpus_free(&x);
    ner_set_free(&known);
    ner_set_free(&tab);
    free(agree);
    ner_model_free(m);
    ner_news_free(nw);
}

/* the training options of the tried news variants (docs/ner.md: not kept):
 * a second round of news evidence, self-training; deterministic, and each
 * changes the model */
static void test_news_rounds_self_train(void **state)
{
    (void)state;
    char path[300];
    tmp_path(path, sizeof path, "selftrain.log");
    ner_news *nw = load_news();
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 4, .seed = 5, .dev_fraction = 0.2, .refit = 1, .dict = 1,
                        .hist_window = 3, .news = nw, .news_min = 2};
    ner_model *m1 = ner_model_new();
    assert_int_equal(ner_train(&c, &o, m1, NULL), 0);
    /* self-training: the log says how many news sentences were added */
    o.self_train = 100;
    FILE *log = fopen(path, "w+");
    assert_non_null(log);
    ner_model *ms = ner_model_new(), *ms2 = ner_model_new();
    assert_int_equal(ner_train(&c, &o, ms, log), 0);
    assert_int_equal(ner_train(&c, &o, ms2, NULL), 0);
    rewind(log);
    char line[512];
    size_t added = 0;
    int seen = 0;
    while (fgets(line, sizeof line, log))
        if (sscanf(line, "self-training: %zu news sentences", &added) == 1)
            seen = 1;
    fclose(log);
    assert_true(seen);
    assert_true(added > 0);
    assert_int_equal(ms->nfeat, ms2->nfeat); /* deterministic */
    assert_memory_equal(ms->slots, ms2->slots, (ms->mask + 1) * sizeof *ms->slots);
    /* the news sentences bring features the training sentences lack */
    int differs = ms->nfeat != m1->nfeat || ms->mask != m1->mask ||
                  memcmp(ms->slots, m1->slots, (ms->mask + 1) * sizeof *ms->slots) != 0;
    assert_true(differs);
    /* a second round (with or without the history in its fold models):
     * its table is the one the model keeps; deterministic */
    o.self_train = 0;
    o.news_rounds = 2;
    ner_model *mr = ner_model_new(), *mr2 = ner_model_new();
    log = fopen(path, "w+");
    assert_non_null(log);
    assert_int_equal(ner_train(&c, &o, mr, log), 0);
    rewind(log);
    size_t rounds = 0, entries = 0, changed = 0;
    while (fgets(line, sizeof line, log))
        if (sscanf(line, "news round: %zu words and stems, %zu", &entries, &changed) == 2) {
            rounds++;
            assert_int_equal(entries, mr->news.n); /* the table the model keeps */
            assert_true(changed <= entries);
        }
    fclose(log);
    assert_int_equal(rounds, 2); /* the dev run and the refit */
    o.news_round_plain = 1;
    assert_int_equal(ner_train(&c, &o, mr2, NULL), 0);
    assert_true(mr->flags & NER_F_NEWS);
    assert_true(mr->news.n > 5);
    ner_model *m3 = ner_model_new(); /* the same again: the same table */
    assert_int_equal(ner_train(&c, &o, m3, NULL), 0);
    assert_int_equal(m3->news.n, mr2->news.n);
    for (size_t i = 0; i <= mr2->news.mask; i++) {
        if (!mr2->news.keys[i])
            continue;
        const uint64_t *v = ner_set_get(&m3->news, mr2->news.keys[i]);
        assert_non_null(v);
        assert_int_equal(*v, mr2->news.vals[i]);
    }
    assert_int_equal(m3->nfeat, mr2->nfeat);
    assert_memory_equal(m3->slots, mr2->slots, (m3->mask + 1) * sizeof *m3->slots);
    ner_model_free(m3);
    /* --news-round-keep: the second round keeps the first round's tables
     * (its models only vote for self-training): without self-training the
     * model of one round, to the byte */
    o.news_round_plain = 0;
    o.news_round_keep = 1;
    ner_model *mk = ner_model_new(), *m1b = ner_model_new();
    assert_int_equal(ner_train(&c, &o, mk, NULL), 0);
    o.news_rounds = 1;
    assert_int_equal(ner_train(&c, &o, m1b, NULL), 0);
    assert_int_equal(mk->news.n, m1b->news.n);
    assert_int_equal(mk->nfeat, m1b->nfeat);
    assert_int_equal(mk->mask, m1b->mask);
    assert_memory_equal(mk->slots, m1b->slots, (mk->mask + 1) * sizeof *mk->slots);
    /* with self-training, the second round's models choose the sentences */
    o.news_rounds = 2;
    o.self_train = 100;
    log = fopen(path, "w+");
    assert_non_null(log);
    ner_model *mk2 = ner_model_new();
    assert_int_equal(ner_train(&c, &o, mk2, log), 0);
    rewind(log);
    seen = 0;
    while (fgets(line, sizeof line, log))
        if (sscanf(line, "self-training: %zu news sentences", &added) == 1)
            seen = 1;
    fclose(log);
    assert_true(seen && added > 0);
    ner_model_free(mk2);
    ner_model_free(mk);
    ner_model_free(m1b);
    ner_model_free(m1);
    ner_model_free(ms);
    ner_model_free(ms2);
    ner_model_free(mr);
    ner_model_free(mr2);
    ner_corpus_free(&c);
    ner_news_free(nw);
}

/* trained with news evidence: flag, table, features, file round trip,
 * determinism, truncated or inconsistent news section */
static void test_news_model(void **state)
{
    (void)state;
    char path[300], path2[300], bad[300], err[256];
    tmp_path(path2, sizeof path2, "news2.bin");
    tmp_path(bad, sizeof bad, "newsbad.bin");
    ner_news *nw = load_news();
    ner_corpus c;
    parse_fixture(&c);
    ner_train_opts o = {.epochs = 4, .seed = 5, .dev_fraction = 0.2, .refit = 1, .dict = 1,
                        .hist_window = 3, .news = nw, .news_min = 2};
    ner_model *m = ner_model_new(), *m2 = ner_model_new();
    assert_int_equal(ner_train(&c, &o, m, NULL), 0);
    assert_true(m->flags & NER_F_NEWS);
    assert_true(m->news.n > 5);
    assert_non_null(ner_set_get(&m->news, whash("سالم")));
    /* the news features: 6 of the word, one for each neighbour at -1 / +1 */
    ner_tokdesc d[3];
    const char *text = "وصل سالم أمس";
    nahr_token toks[8];
    size_t n = tokenize(text, toks, 8);
    assert_int_equal(n, 3);
    ner_describe(m, text, toks, n, d);
    assert_int_not_equal(d[1].news, NER_NEWS_ABSENT);
    uint32_t f1[NER_MAXF], f2[NER_MAXF];
    size_t k1 = ner_features(m, d, n, 1, f1);
    m->flags &= ~NER_F_NEWS;
    size_t k2 = ner_features(m, d, n, 1, f2);
    m->flags |= NER_F_NEWS;
    assert_int_equal(k1, k2 + 6 + 2);
    /* same seed, same bytes; the loaded model has the same table and tags */
    assert_int_equal(ner_train(&c, &o, m2, NULL), 0);
    size_t n1, n2;
    unsigned char *b1 = save_same_bytes(m, m2, "news.bin", "news2.bin", path, &n1);
    ner_model *l = NULL;
    assert_int_equal(ner_model_load(path, &l, err, sizeof err), 0);
    assert_int_equal(l->flags, m->flags);
    assert_same_set(&m->news, &l->news);
    {
        /* the log line names the parts that are on, with their sizes */
        char desc[512], want[64];
        size_t need = ner_model_describe(l, desc, sizeof desc);
        assert_int_equal(need, strlen(desc));
        snprintf(want, sizeof want, "news evidence (%zu words and stems)", l->news.n);
        assert_non_null(strstr(desc, want));
        assert_non_null(strstr(desc, "features"));
        assert_int_equal(strstr(desc, "prediction history") != NULL, (l->flags & NER_F_HIST) != 0);
        assert_int_equal(strstr(desc, "quotations") != NULL, (l->flags & NER_F_QUOTE) != 0);
        char small[8];
        assert_int_equal(ner_model_describe(l, small, sizeof small), need);
        assert_int_equal(strlen(small), sizeof small - 1);
    }
    uint8_t *a = same_corpus_tags(m, l, &c);
    /* the news section cut short, or a count larger than the file */
    expect_section_errors(b1, n1, bad, 3, 48, 16, NER_F_NEWS);
    /* a model without the flag has no news section: the file of before */
    m2->flags &= ~NER_F_NEWS;
    assert_int_equal(ner_model_save(m2, path2, err, sizeof err), 0);
    unsigned char *b2 = read_file(path2, &n2);
    assert_true(n2 < n1);
    assert_int_equal(b2[48] | b2[49] | b2[50] | b2[51], 0);
    free(a);
    free(b1);
    free(b2);
    ner_corpus_free(&c);
    ner_model_free(l);
    ner_model_free(m);
    ner_model_free(m2);
    ner_news_free(nw);
}

/* ---- spelling-dictionary classes (NER_F_LEX) ---- */

/* a hand-made dictionary: common words, hamza spelled */
static int toy_spell(const char *w, void *arg)
{
    static const char *const words[] = {"زار", "الرئيس", "مدينة", "القاهرة", "أمس", "وصل",
                                        "إلى", "قادما", "من", "دمشق", "في", "عن", "الاقتصاد"};
    int *calls = arg;
    (*calls)++;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i]) == 0)
            return 1;
    return 0;
}

static const char *const LEX_TEXT =
    "زار الرئيس ميركل مدينة القاهرة أمس، وصل ميركل الى دمشق 2015\n"
    "زار ميركل والقاهرة ثم وصل إلى دمشق قادما من بيروت\n"
    "وزار ميركل والقاهرة 2015\n";

static unsigned lex_class(const ner_model *m, const char *w)
{
    const uint64_t *v = ner_set_get(&m->lex, whash(w));
    return v ? (unsigned)*v : NER_LEX_UNKNOWN;
}

static void test_lex_table(void **state)
{
    (void)state;
    char path[300], err[512];
    tmp_path(path, sizeof path, "lex.txt");
    write_file(path, LEX_TEXT, strlen(LEX_TEXT));
    const char *files[1] = {path};
    ner_model *m = ner_model_new();
    int calls = 0;
    long got = ner_lex_build(m, toy_spell, &calls, files, 1, 2, err, sizeof err);
    assert_int_equal(got, (long)m->lex.n);
    assert_int_equal(lex_class(m, "ميركل"), NER_LEX_OUT);       /* 4 times, not a word */
    assert_int_equal(lex_class(m, "والقاهرة"), NER_LEX_STEMIN); /* القاهرة is */
    assert_int_equal(lex_class(m, "القاهرة"), NER_LEX_UNKNOWN); /* seen once: not kept */
    assert_int_equal(lex_class(m, "زار"), NER_LEX_IN);
    /* الى and إلى are one normalised word: in, as its best-spelled form */
    assert_int_equal(lex_class(m, "الى"), NER_LEX_IN);
    assert_int_equal(lex_class(m, "إلى"), NER_LEX_IN);
    assert_int_equal(lex_class(m, "دمشق"), NER_LEX_IN);
    assert_int_equal(lex_class(m, "2015"), NER_LEX_UNKNOWN); /* not Arabic: no class */
    assert_int_equal(lex_class(m, "بيروت"), NER_LEX_UNKNOWN);
    size_t want = 0;
    for (size_t i = 0; i <= m->lex.mask; i++)
        want += m->lex.keys[i] != 0;
    assert_int_equal(want, m->lex.n);
    assert_true(calls > 0);
    /* min 1: every Arabic type; the words seen once come in */
    assert_true(ner_lex_build(m, toy_spell, &calls, files, 1, 1, err, sizeof err) > (long)want);
    assert_int_equal(lex_class(m, "بيروت"), NER_LEX_OUT);
    assert_int_equal(lex_class(m, "القاهرة"), NER_LEX_IN);
    /* letter-trigram scores (NER_F_LEXSP): entries apart from the classes */
    size_t nwords = m->lex.n;
    long ntri = ner_lex_trigrams(m, files, 1, err, sizeof err);
    assert_true(ntri >= 0);
    assert_int_equal(m->lex.n, nwords + (size_t)ntri);
    for (size_t i = 0; i <= m->lex.mask; i++)
        if (m->lex.keys[i])
            assert_true(m->lex.vals[i] <= NER_LEX_OUT ||
                        (m->lex.vals[i] >= NER_LEX_TRI_BASE &&
                         m->lex.vals[i] <= NER_LEX_TRI_BASE + 200));
    /* "^زار$": three trigrams; the score's bucket follows the trigrams' log-odds */
    uint32_t th[NER_MAXTOKB + 2];
    assert_int_equal(ner_lex_trigram_hashes("زار", strlen("زار"), th), 3);
    assert_int_equal(ner_lex_trigram_hashes("", 0, th), 0);
    ner_model *t = ner_model_new();
    assert_int_equal(ner_lex_spell_bucket(t, "زار", strlen("زار")), 4); /* no trigram known */
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(ner_set_put(&t->lex, NER_LEX_TRI_KEY(th[k]), NER_LEX_TRI_BASE + 60, 0), 0);
    assert_int_equal(ner_lex_spell_bucket(t, "زار", strlen("زار")), 1); /* mean -40: "in" */
    size_t nm = ner_lex_trigram_hashes("ميركل", strlen("ميركل"), th);
    assert_int_equal(nm, 5);
    for (size_t k = 0; k < nm; k++)
        assert_int_equal(ner_set_put(&t->lex, NER_LEX_TRI_KEY(th[k]), NER_LEX_TRI_BASE + 140, 0), 0);
    assert_int_equal(ner_lex_spell_bucket(t, "ميركل", strlen("ميركل")), 6); /* mean +40 */
    ner_model_free(t);
    /* a missing file is an error naming it */
    const char *missing[1] = {"/nonexistent/lex.txt"};
    assert_true(ner_lex_build(m, toy_spell, &calls, missing, 1, 1, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/nonexistent/lex.txt"));
    /* no dictionary in the directory: a message saying what to install */
    assert_true(ner_lex_build_hunspell(m, "/nonexistent", files, 1, 1, err, sizeof err) < 0);
    assert_true(strstr(err, "hunspell-ar") != NULL || strstr(err, "libhunspell") != NULL);
    /* the real dictionary (Debian hunspell-ar), when this machine has it */
    if (access("/usr/share/hunspell/ar.aff", R_OK) != 0) {
        print_message("skipped the real dictionary: no /usr/share/hunspell/ar.aff\n");
    } else if (ner_lex_build_hunspell(m, "/usr/share/hunspell", files, 1, 2, err, sizeof err) < 0) {
        print_message("skipped the real dictionary: %s\n", err);
        assert_non_null(strstr(err, "libhunspell"));
    } else {
        assert_int_equal(lex_class(m, "ميركل"), NER_LEX_OUT);
        assert_int_equal(lex_class(m, "زار"), NER_LEX_IN);
        assert_int_equal(lex_class(m, "دمشق"), NER_LEX_IN);
        assert_int_not_equal(lex_class(m, "والقاهرة"), NER_LEX_OUT);
    }
    ner_model_free(m);
}

/* trained with dictionary classes: features, file round trip, truncated or
 * inconsistent section, the file of before without the flag */
static void test_lex_model(void **state)
{
    (void)state;
    char path[300], path2[300], bad[300], lpath[300], err[512];
    tmp_path(path, sizeof path, "lex.bin");
    tmp_path(path2, sizeof path2, "lex2.bin");
    tmp_path(bad, sizeof bad, "lexbad.bin");
    tmp_path(lpath, sizeof lpath, "lex.txt");
    write_file(lpath, LEX_TEXT, strlen(LEX_TEXT));
    const char *files[1] = {lpath};
    ner_news *nw = load_news();
    ner_corpus c;
    parse_fixture(&c);
    /* with news evidence too: its fold models must see the classes */
    ner_train_opts o = {.epochs = 4, .seed = 5, .dev_fraction = 0.2, .refit = 1, .dict = 1,
                        .hist_window = 3, .news = nw, .news_min = 2};
    ner_model *m = ner_model_new();
    int calls = 0;
    assert_true(ner_lex_build(m, toy_spell, &calls, files, 1, 1, err, sizeof err) > 5);
    m->flags |= NER_F_LEX;
    assert_int_equal(ner_train(&c, &o, m, NULL), 0);
    assert_true(m->flags & NER_F_LEX);
    /* the features: word and stem at 0, the word at -1 and at +1 */
    ner_tokdesc d[3];
    const char *text = "وصل ميركل دمشق";
    nahr_token toks[8];
    size_t n = tokenize(text, toks, 8);
    assert_int_equal(n, 3);
    ner_describe(m, text, toks, n, d);
    assert_int_equal(d[0].lex, NER_LEX_IN);
    assert_int_equal(d[1].lex, NER_LEX_OUT);
    assert_int_equal(d[1].lex_stem, NER_LEX_OUT);
    uint32_t f1[NER_MAXF], f2[NER_MAXF];
    size_t k1 = ner_features(m, d, n, 1, f1);
    m->flags &= ~NER_F_LEX;
    size_t k2 = ner_features(m, d, n, 1, f2);
    m->flags |= NER_F_LEX;
    assert_int_equal(k1, k2 + 2 + 2);
    /* the four are the features f2 lacks; training gave some of them weights */
    int nonzero = 0;
    for (size_t i = 0; i < k1; i++) {
        int in2 = 0;
        for (size_t j = 0; j < k2; j++)
            in2 |= f1[i] == f2[j];
        nonzero |= !in2 && ner_model_find(m, f1[i]) != NULL;
    }
    assert_true(nonzero);
    /* round trip: the same table and tags */
    assert_int_equal(ner_model_save(m, path, err, sizeof err), 0);
    ner_model *l = NULL;
    assert_int_equal(ner_model_load(path, &l, err, sizeof err), 0);
    assert_int_equal(l->flags, m->flags);
    assert_same_set(&m->lex, &l->lex);
    {
        char desc[512], want[64];
        ner_model_describe(l, desc, sizeof desc);
        snprintf(want, sizeof want, "spelling-dictionary classes (%zu words)", l->lex.n);
        assert_non_null(strstr(desc, want));
    }
    uint8_t *a = same_corpus_tags(m, l, &c);
    /* the section cut short, a count larger than the file, entries
     * without the flag */
    size_t n1;
    unsigned char *b1 = read_file(path, &n1);
    expect_section_errors(b1, n1, bad, 2, 52, 17, NER_F_LEX >> 8);
    /* without the flag: no section, header word 52 zero, as files of before */
    m->flags &= ~NER_F_LEX;
    assert_int_equal(ner_model_save(m, path2, err, sizeof err), 0);
    size_t n2;
    unsigned char *b2 = read_file(path2, &n2);
    assert_int_equal(n2, n1 - 4 * m->lex.n - ((m->lex.n + 3) & ~(size_t)3));
    assert_int_equal(b2[52] | b2[53] | b2[54] | b2[55], 0);
    free(a);
    free(b1);
    free(b2);
    ner_corpus_free(&c);
    ner_model_free(l);
    ner_model_free(m);
    ner_news_free(nw);
}

/* The shipped model: loads fast and tags a sentence of our own. */
/* ---- the linear-chain CRF (--learner crf) ---- */

static double lcg_unit(uint64_t *s) /* deterministic numbers in [-1, 1) */
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / (double)(1ull << 52) - 1.0;
}

/* log of the sum over every valid BIO sequence of exp(score), by brute force */
static double brute_logz(const double *emit, const double trans[NER_NTAGS + 1][NER_NTAGS],
                         size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total *= NER_NTAGS;
    double z = 0;
    for (size_t code = 0; code < total; code++) {
        size_t c = code;
        unsigned prev = NER_NTAGS;
        double sc = 0;
        int ok = 1;
        for (size_t i = 0; i < n && ok; i++) {
            unsigned t = (unsigned)(c % NER_NTAGS);
            c /= NER_NTAGS;
            ok = ner_bio_allowed(prev, t);
            sc += emit[i * NER_NTAGS + t] + trans[prev][t];
            prev = t;
        }
        if (ok)
            z += exp(sc);
    }
    return log(z);
}

/* The CRF's log-likelihood against brute force, its marginals, and its
 * gradient against finite differences, on hand-made sentences. */
static void test_crf_gradient(void **state)
{
    (void)state;
    static const uint8_t g1[] = {NER_B_PER, NER_I_PER, NER_O, NER_B_LOC};
    static const uint8_t g2[] = {NER_O, NER_B_ORG, NER_I_ORG, NER_I_ORG, NER_O};
    static const uint8_t g3[] = {NER_B_MISC};
    const uint8_t *golds[] = {g1, g2, g3};
    const size_t lens[] = {4, 5, 1};
    uint64_t seed = 42;
    for (int k = 0; k < 3; k++) {
        size_t n = lens[k];
        const uint8_t *gold = golds[k];
        double emit[5 * NER_NTAGS], trans[NER_NTAGS + 1][NER_NTAGS];
        double marg[5 * NER_NTAGS], pair[NER_NTAGS + 1][NER_NTAGS], work[5 * (2 * NER_NTAGS + 1)];
        for (size_t i = 0; i < n * NER_NTAGS; i++)
            emit[i] = 3 * lcg_unit(&seed);
        for (unsigned a = 0; a <= NER_NTAGS; a++)
            for (unsigned b = 0; b < NER_NTAGS; b++)
                trans[a][b] = 2 * lcg_unit(&seed);
        memset(pair, 0, sizeof pair);
        double ll = ner_crf_loglik(emit, (const double(*)[NER_NTAGS])trans, n, gold, marg, pair,
                                   work);
        double sc = 0;
        for (size_t i = 0; i < n; i++)
            sc += emit[i * NER_NTAGS + gold[i]] + trans[i ? gold[i - 1] : NER_NTAGS][gold[i]];
        double want = sc - brute_logz(emit, (const double(*)[NER_NTAGS])trans, n);
        assert_true(ll < 0);
        assert_true(fabs(ll - want) < 1e-9);
        double ptot = 0;
        for (size_t i = 0; i < n; i++) {
            double sum = 0;
            for (unsigned t = 0; t < NER_NTAGS; t++)
                sum += marg[i * NER_NTAGS + t];
            assert_true(fabs(sum - 1) < 1e-9);
        }
        for (unsigned a = 0; a <= NER_NTAGS; a++)
            for (unsigned b = 0; b < NER_NTAGS; b++) {
                if (!ner_bio_allowed(a, b))
                    assert_true(pair[a][b] == 0); /* never decoded: no mass */
                ptot += pair[a][b];
            }
        assert_true(fabs(ptot - (double)n) < 1e-9); /* one transition per token */
        /* d ll / d emit[i][t] = [gold == t] - marg, by central differences */
        const double h = 1e-5;
        double m2[5 * NER_NTAGS], p2[NER_NTAGS + 1][NER_NTAGS];
        for (size_t i = 0; i < n * NER_NTAGS; i++) {
            double keep = emit[i];
            emit[i] = keep + h;
            double up = ner_crf_loglik(emit, (const double(*)[NER_NTAGS])trans, n, gold, m2, p2,
                                       work);
            emit[i] = keep - h;
            double down = ner_crf_loglik(emit, (const double(*)[NER_NTAGS])trans, n, gold, m2,
                                         p2, work);
            emit[i] = keep;
            double grad = (gold[i / NER_NTAGS] == i % NER_NTAGS) - marg[i];
            assert_true(fabs((up - down) / (2 * h) - grad) < 1e-6);
        }
        /* d ll / d trans[a][b] = gold count - expected count */
        for (unsigned a = 0; a <= NER_NTAGS; a++)
            for (unsigned b = 0; b < NER_NTAGS; b++) {
                double keep = trans[a][b], cnt = 0;
                trans[a][b] = keep + h;
                double up = ner_crf_loglik(emit, (const double(*)[NER_NTAGS])trans, n, gold, m2,
                                           p2, work);
                trans[a][b] = keep - h;
                double down = ner_crf_loglik(emit, (const double(*)[NER_NTAGS])trans, n, gold,
                                             m2, p2, work);
                trans[a][b] = keep;
                for (size_t i = 0; i < n; i++)
                    cnt += (i ? gold[i - 1] : NER_NTAGS) == a && gold[i] == b;
                assert_true(fabs((up - down) / (2 * h) - (cnt - pair[a][b])) < 1e-6);
            }
    }
}

static ner_model *train_crf(const ner_corpus *c, uint64_t seed, int epochs, double c2)
{
    ner_model *m = ner_model_new();
    assert_non_null(m);
    ner_train_opts o = {.epochs = epochs, .seed = seed, .learner = NER_LEARN_CRF, .crf_c2 = c2};
    assert_int_equal(ner_train(c, &o, m, NULL), 0);
    return m;
}

static int same_weights(const ner_model *a, const ner_model *b)
{
    if (a->nfeat != b->nfeat || a->scale != b->scale ||
        memcmp(a->trans, b->trans, sizeof a->trans) != 0)
        return 0;
    for (size_t i = 0; i <= a->mask; i++) {
        if (!a->slots[i].key)
            continue;
        const ner_slot *x = ner_model_find(b, a->slots[i].key);
        if (!x || memcmp(x->w, a->slots[i].w, sizeof x->w) != 0)
            return 0;
    }
    return 1;
}

/* A CRF learns the (separable) fixture exactly, the same model for the same
 * seed, another one for another seed, and not the perceptron's; so does a
 * mix of perceptrons and a CRF. */
static void test_crf_train(void **state)
{
    (void)state;
    ner_corpus c;
    parse_fixture(&c);
    ner_model *a = train_crf(&c, 5, 20, 0.01), *b = train_crf(&c, 5, 20, 0.01);
    ner_model *other = train_crf(&c, 6, 20, 0.01), *strong = train_crf(&c, 5, 20, 100);
    ner_model *perc = train_fixture(20, 5);
    assert_true(same_weights(a, b));
    assert_false(same_weights(a, other));
    assert_false(same_weights(a, perc));
    uint8_t *pred = malloc(c.ntok);
    assert_int_equal(ner_tag_corpus(a, &c, pred), 0);
    for (size_t i = 0; i < c.ntok; i++)
        assert_int_equal(pred[i], c.gold[i]);
    /* a strong L2 term keeps the weights small: the unscaled largest weight */
    assert_true(strong->scale * 32767 < a->scale * 32767 / 4);
    /* mix: two perceptrons and a CRF, deterministic, neither of its parts */
    ner_train_opts o = {.epochs = 20, .seed = 5, .learner = NER_LEARN_MIX, .ensemble = 2,
                        .crf_c2 = 0.01};
    ner_model *mx = ner_model_new(), *my = ner_model_new();
    assert_int_equal(ner_train(&c, &o, mx, NULL), 0);
    assert_int_equal(ner_train(&c, &o, my, NULL), 0);
    assert_true(same_weights(mx, my));
    assert_false(same_weights(mx, a));
    assert_false(same_weights(mx, perc));
    assert_int_equal(ner_tag_corpus(mx, &c, pred), 0);
    for (size_t i = 0; i < c.ntok; i++)
        assert_int_equal(pred[i], c.gold[i]);
    ner_model_free(mx);
    ner_model_free(my);
    /* the last SGD weights (--crf-plain) are not their mean, and fit too */
    ner_train_opts op = {.epochs = 20, .seed = 5, .learner = NER_LEARN_CRF, .crf_c2 = 0.01,
                         .crf_plain = 1};
    ner_model *pl = ner_model_new();
    assert_int_equal(ner_train(&c, &op, pl, NULL), 0);
    assert_false(same_weights(pl, a));
    assert_int_equal(ner_tag_corpus(pl, &c, pred), 0);
    for (size_t i = 0; i < c.ntok; i++)
        assert_int_equal(pred[i], c.gold[i]);
    ner_model_free(pl);
    free(pred);
    ner_corpus_free(&c);
    ner_model_free(a);
    ner_model_free(b);
    ner_model_free(other);
    ner_model_free(strong);
    ner_model_free(perc);
}

/* Runs nahr-train-ner with args (skips the test when the tool is not built)
 * and checks that it exits with status 2 and prints msg. */
static void expect_train_cli_error(const char *args, const char *msg)
{
    const char *bd = getenv("NAHR_BUILD_DIR");
    char exe[1024], cmd[1400], out[512];
    snprintf(exe, sizeof exe, "%s/nahr-train-ner", bd ? bd : ".");
    if (access(exe, X_OK) != 0) {
        print_message("skipped: no %s\n", exe);
        skip();
    }
    snprintf(cmd, sizeof cmd, "'%s' --train /nonexistent -o /nonexistent %s 2>&1", exe, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    assert_non_null(strstr(out, msg));
}

/* nahr-train-ner rejects a bad --learner / --crf-c2 / --crf-eta with a clear error */
static void test_crf_options(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"--learner svm", "--learner must be perceptron, crf or mix, got 'svm'"},
        {"--crf-c2 -1", "--crf-c2 must be a number in (0, 1e6]"},
        {"--crf-c2 x", "--crf-c2 must be a number in (0, 1e6]"},
        {"--crf-eta 0", "--crf-eta must be a number in (0, 100]"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        expect_train_cli_error(bad[k][0], bad[k][1]);
}

/* ---- BILOU tags (--bilou, an experiment) ---- */

static void test_bilou_convert(void **state)
{
    (void)state;
    /* O B-PER O | B-LOC I-LOC I-LOC | B-LOC (adjacent, same type) | B-LOC I-LOC | B-ORG at the end */
    static const uint8_t bio[] = {0, 1, 0, 3, 4, 4, 3, 3, 4, 5};
    /* PER 1..4, LOC 5..8, ORG 9..12, MISC 13..16 (B I L U) */
    static const uint8_t want[] = {0, 4, 0, 5, 6, 7, 8, 5, 7, 12};
    uint8_t out[16], back[16];
    ner_bilou_from_bio(bio, sizeof bio, out);
    assert_memory_equal(out, want, sizeof want);
    ner_bilou_to_bio(out, sizeof bio, back);
    assert_memory_equal(back, bio, sizeof bio);
    /* one-word sentences, and an entity that ends the sentence */
    static const uint8_t one[] = {7}, two[] = {0, 7, 8};
    ner_bilou_from_bio(one, 1, out);
    assert_int_equal(out[0], 16); /* U-MISC */
    ner_bilou_from_bio(two, 3, out);
    assert_int_equal(out[1], 13); /* B-MISC */
    assert_int_equal(out[2], 15); /* L-MISC */
    /* orphan I-: O I-PER I-PER | I-LOC after an ORG | I-ORG alone at the start */
    static const uint8_t orphan[] = {0, 2, 2, 5, 4, 0};
    static const uint8_t orphan_bilou[] = {0, 1, 3, 12, 8, 0};
    static const uint8_t orphan_bio[] = {0, 1, 2, 5, 3, 0}; /* as the scorer reads it */
    ner_bilou_from_bio(orphan, sizeof orphan, out);
    assert_memory_equal(out, orphan_bilou, sizeof orphan_bilou);
    ner_bilou_to_bio(out, sizeof orphan, back);
    assert_memory_equal(back, orphan_bio, sizeof orphan_bio);
    static const uint8_t lead[] = {6};
    ner_bilou_from_bio(lead, 1, out);
    assert_int_equal(out[0], 12); /* U-ORG */
}

/* Does the BILOU sequence t[0..n) satisfy the constraint? */
static int bilou_valid(const uint8_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ner_bilou_allowed(i ? t[i - 1] : NER_BILOU_NTAGS, t[i]))
            return 0;
    return n == 0 || ner_bilou_final(t[n - 1]);
}

static void test_bilou_constraint(void **state)
{
    (void)state;
    const unsigned S = NER_BILOU_NTAGS;
    /* after the start, O, L-X or U-X: O, B-Y, U-Y only */
    static const unsigned closed[] = {17, 0, 3, 4, 7, 16};
    for (size_t k = 0; k < sizeof closed / sizeof closed[0]; k++)
        for (unsigned c = 0; c < S; c++) {
            int want = c == 0 || (c - 1) % 4 == 0 || (c - 1) % 4 == 3;
            assert_int_equal(ner_bilou_allowed(closed[k], c), want);
        }
    /* after B-X or I-X: I-X or L-X only */
    for (unsigned p = 1; p < S; p++) {
        if ((p - 1) % 4 > 1)
            continue;
        for (unsigned c = 0; c < S; c++) {
            int want = c && (c + 3) / 4 == (p + 3) / 4 && ((c - 1) % 4 == 1 || (c - 1) % 4 == 2);
            assert_int_equal(ner_bilou_allowed(p, c), want);
        }
    }
    assert_true(ner_bilou_final(0) && ner_bilou_final(3) && ner_bilou_final(4));
    assert_false(ner_bilou_final(1) || ner_bilou_final(2));
    /* every BIO sequence of up to 4 tags (orphans included) converts to a
     * valid BILOU sequence that reads back as the scorer reads the BIO one */
    uint8_t bio[4], bl[4], back[4];
    for (size_t n = 1; n <= 4; n++) {
        unsigned total = 1;
        for (size_t i = 0; i < n; i++)
            total *= NER_NTAGS;
        for (unsigned code = 0; code < total; code++) {
            unsigned v = code;
            for (size_t i = 0; i < n && i < sizeof bio; i++, v /= NER_NTAGS) /* the bound for gcc -O3 */
                bio[i] = (uint8_t)(v % NER_NTAGS);
            ner_bilou_from_bio(bio, n, bl);
            assert_true(bilou_valid(bl, n));
            ner_bilou_to_bio(bl, n, back);
            ner_score sa = {0}, sb = {0};
            ner_score_add(&sa, bio, back, n); /* back read against bio: every chunk exact */
            ner_score_add(&sb, back, bio, n);
            assert_int_equal(sa.fp[0] + sa.fn[0] + sb.fp[0] + sb.fn[0], 0);
            for (size_t i = 0; i < n; i++) /* and back is valid BIO */
                assert_true(ner_bio_allowed(i ? back[i - 1] : NER_NTAGS, back[i]));
        }
    }
    /* Viterbi: the best valid sequence, by brute force over 17^3 */
    float emit[3 * 17], trans[18][17];
    uint8_t bp[3 * 17], out[3];
    uint64_t rng = 12345;
    for (int trial = 0; trial < 20; trial++) {
        for (size_t i = 0; i < 3 * S; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            emit[i] = (float)((rng >> 40) % 2001) / 100.0f - 10.0f;
        }
        for (unsigned a = 0; a <= S; a++)
            for (unsigned b = 0; b < S; b++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                trans[a][b] = (float)((rng >> 40) % 2001) / 100.0f - 10.0f;
            }
        if (trial == 0) /* the emissions alone would choose an invalid I-PER B-PER I-PER */
            for (size_t i = 0; i < 3; i++)
                emit[i * S + (i == 1 ? 1 : 2)] = 100;
        ner_bilou_viterbi(emit, (const float(*)[17])trans, 3, bp, out);
        assert_true(bilou_valid(out, 3));
        double best = -1e30;
        uint8_t arg[3] = {0, 0, 0};
        for (unsigned a = 0; a < S; a++)
            for (unsigned b = 0; b < S; b++)
                for (unsigned c = 0; c < S; c++) {
                    uint8_t t[3] = {(uint8_t)a, (uint8_t)b, (uint8_t)c};
                    if (!bilou_valid(t, 3))
                        continue;
                    double sc = (double)trans[S][a] + emit[a] + trans[a][b] + emit[S + b] +
                                trans[b][c] + emit[2 * S + c];
                    if (sc > best + 1e-4) {
                        best = sc;
                        memcpy(arg, t, 3);
                    }
                }
        assert_memory_equal(out, arg, 3);
    }
}

/* The dev F1 of each epoch in a training log ("... F1 0.xxxx ..."). */
static size_t log_f1s(const char *log, double *f, size_t max)
{
    size_t n = 0;
    for (const char *p = strstr(log, "dev epoch"); p && n < max; p = strstr(p + 1, "dev epoch")) {
        const char *q = strstr(p, " F1 ");
        assert_non_null(q);
        f[n++] = atof(q + 4);
    }
    return n;
}

static char *train_log(const char *data, const ner_train_opts *o, int *rc)
{
    ner_corpus c;
    char err[256], *buf = NULL;
    size_t len = 0;
    assert_int_equal(ner_conll_parse(data, strlen(data), "fixture", &c, err, sizeof err), 0);
    ner_model *m = ner_model_new();
    FILE *log = open_memstream(&buf, &len);
    assert_non_null(log);
    *rc = ner_train(&c, o, m, log);
    assert_int_equal(fclose(log), 0);
    ner_model_free(m);
    ner_corpus_free(&c);
    return buf;
}

static void test_bilou_train(void **state)
{
    (void)state;
    int rc;
    double fa[32], fb[32];
    /* --bilou-check (BIO tags through the experiment's code) scores dev as
     * the model path does, epoch by epoch */
    ner_train_opts o = {.epochs = 6, .seed = 3, .dev_fraction = 0.2, .ensemble = 2};
    char *a = train_log(FIXTURE, &o, &rc);
    assert_int_equal(rc, 0);
    o.bilou = NER_BILOU_CHECK;
    char *b = train_log(FIXTURE, &o, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(b, "rows x 9 tags"));
    size_t na = log_f1s(a, fa, 32), nb = log_f1s(b, fb, 32);
    assert_int_equal(na, 6);
    assert_int_equal(nb, 6);
    for (size_t i = 0; i < na; i++)
        assert_true(fabs(fa[i] - fb[i]) < 1e-9);
    free(a);
    free(b);
    /* BILOU learns a tiny corpus: dev = a copy of the training half */
    size_t fl = strlen(FIXTURE);
    char *twice = malloc(2 * fl + 3);
    assert_non_null(twice);
    snprintf(twice, 2 * fl + 3, "%s\n\n%s", FIXTURE, FIXTURE);
    static const int modes[] = {NER_BILOU_TAGS, NER_BILOU_SHARE};
    for (size_t k = 0; k < 2; k++) {
        ner_train_opts ob = {.epochs = 20, .seed = 5, .dev_fraction = 0.5, .bilou = modes[k]};
        char *l = train_log(twice, &ob, &rc);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(l, "rows x 17 tags"));
        assert_int_equal(log_f1s(l, fa, 32), 20);
        assert_true(fa[19] == 1.0);
        free(l);
    }
    free(twice);
    /* dev-only experiment: no refit, no dev-less training */
    ner_train_opts bad = {.epochs = 2, .seed = 1, .dev_fraction = 0.2, .bilou = 1, .refit = 1};
    char *l = train_log(FIXTURE, &bad, &rc);
    assert_int_equal(rc, NAHR_EINVAL);
    free(l);
    bad.refit = 0;
    bad.dev_fraction = 0;
    l = train_log(FIXTURE, &bad, &rc);
    assert_int_equal(rc, NAHR_EINVAL);
    free(l);
}

/* nahr-train-ner refuses the BILOU experiment where it cannot apply */
static void test_bilou_options(void **state)
{
    (void)state;
    static const char *const bad[] = {"--bilou --refit", "--bilou-share --dev-fraction 0",
                                      "--bilou-check --learner crf"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        expect_train_cli_error(bad[k], "--bilou-check score dev only: not with --refit");
}

static void test_shipped_model(void **state)
{
    (void)state;
    const char *src = getenv("NAHR_SOURCE_DIR");
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/plugins/entities/ner/data/anercorp.nermodel", src ? src : ".");
    if (access(path, R_OK) != 0) {
        print_message("skipped: no shipped model at %s\n", path);
        skip();
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ner_model *m;
    assert_int_equal(ner_model_load(path, &m, err, sizeof err), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    /* printed, not asserted: tests never assert times (the load time is
     * measured by bench/run.sh's start-up line) */
    print_message("shipped model: %zu features, loaded in %.1f ms\n", m->nfeat, ms);
    const char *text = "وصل وزير الخارجية المصري إلى العاصمة الفرنسية باريس أمس في زيارة رسمية.";
    nahr_token toks[64];
    size_t n = tokenize(text, toks, 64);
    uint8_t tags[64];
    void *scratch = malloc(ner_model_scratch_size(m, n));
    assert_int_equal(ner_model_tag(m, text, toks, n, scratch, tags), 0);
    assert_int_equal(tags[find_tok(text, toks, n, "باريس")], NER_B_LOC);
    assert_int_equal(tags[find_tok(text, toks, n, "زيارة")], NER_O);
    free(scratch);
    ner_model_free(m);
}

/* ner_describe_token() (code point offsets from one pass, characters decoded
 * inline) describes every token as ner_describe_token_plain(): random tokens
 * of Arabic letters and clitics, marks, tatweel, Latin, digits, punctuation,
 * 3- and 4-byte characters, invalid and cut sequences, up to 90 bytes. */
static void test_describe_token_same(void **state)
{
    static const char *const pieces[] = {
        "و", "ب", "ال", "لل", "ف", "ك", "س", "م", "ح", "د", "ة", "ى", "ي", "ء", "أ", "إ", "آ", "ـ", "\xD9\x8E",
        "\xD9\x91", "a", "Z", "Q", "7", "٣", "-", ".", "،", "%", "\xE2\x80\x8F", "\xE2\x80\x9C", "😀", "\x80",
        "\xC0\xAF", "\xFF", "\xD8", "\xE2\x80", "\xD9\x4A"};
    ner_model *m = ner_model_new();
    char w[128];
    uint32_t x = 4242;
    (void)state;
    assert_non_null(m);
    for (int it = 0; it < 100000; it++) {
        size_t n = 0;
        x = x * 1103515245u + 12345u;
        int parts = 1 + (int)((x >> 16) % (it % 10 == 0 ? 40 : 8));
        for (int k = 0; k < parts; k++) {
            x = x * 1103515245u + 12345u;
            const char *p = pieces[(x >> 12) % (sizeof pieces / sizeof pieces[0])];
            if (n + strlen(p) > 90)
                break;
            memcpy(w + n, p, strlen(p));
            n += strlen(p);
        }
        ner_tokdesc a, b;
        ner_describe_token(m, w, n, &a);
        ner_describe_token_plain(m, w, n, &b);
        assert_memory_equal(&a, &b, sizeof a);
    }
    ner_model_free(m);
}

/* ner_best_entity() (4 lanes at a time) is ner_best_entity_plain() on rows
 * of random scores, ties at every position, infinities and equal rows. */
static void test_best_entity_same(void **state)
{
    (void)state;
    float e[NER_NTAGS];
    uint32_t x = 2463534242u;
    for (int it = 0; it < 200000; it++) {
        for (unsigned t = 0; t < NER_NTAGS; t++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            e[t] = (float)((int)(x % 2001u) - 1000) * 0.37f;
        }
        if (it % 5 == 1) /* a tie for the maximum at two random positions */
            e[1 + x % 8] = e[1 + (x >> 8) % 8] = 500.0f;
        if (it % 7 == 2)
            e[1 + x % 8] = (x >> 4) & 1 ? INFINITY : -INFINITY;
        if (it % 11 == 3)
            for (unsigned t = 1; t < NER_NTAGS; t++)
                e[t] = -3.5f;
        float plain = ner_best_entity_plain(e), fast = ner_best_entity(e);
        assert_memory_equal(&plain, &fast, sizeof plain);
        /* and the maximum is one of the entity tags' scores */
        int found = 0;
        for (unsigned t = 1; t < NER_NTAGS; t++)
            found |= e[t] == fast;
        assert_true(found);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tag_parse),
        cmocka_unit_test(test_scorer_exact),
        cmocka_unit_test(test_scorer_partial_is_wrong),
        cmocka_unit_test(test_scorer_wrong_type),
        cmocka_unit_test(test_scorer_conlleval_chunks),
        cmocka_unit_test(test_conll_parse),
        cmocka_unit_test(test_normalised_words),
        cmocka_unit_test(test_train_fits_fixture),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_tag_new_text),
        cmocka_unit_test(test_tag_odd_input),
        cmocka_unit_test(test_long_article),
        cmocka_unit_test(test_no_sentence_end),
        cmocka_unit_test(test_aux_features),
        cmocka_unit_test(test_clusters_from_text),
        cmocka_unit_test(test_history_table),
        cmocka_unit_test(test_history_model),
        cmocka_unit_test(test_doc2_second_pass),
        cmocka_unit_test(test_doc2_model),
        cmocka_unit_test(test_actx_pass),
        cmocka_unit_test(test_topic_pass),
        cmocka_unit_test(test_actx_model),
        cmocka_unit_test(test_ensemble),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_write_tokens),
        cmocka_unit_test(test_news_pack),
        cmocka_unit_test(test_news_table),
        cmocka_unit_test(test_news_model),
        cmocka_unit_test(test_news_agree_select),
        cmocka_unit_test(test_news_rounds_self_train),
        cmocka_unit_test(test_lex_table),
        cmocka_unit_test(test_lex_model),
        cmocka_unit_test(test_crf_gradient),
        cmocka_unit_test(test_crf_train),
        cmocka_unit_test(test_crf_options),
        cmocka_unit_test(test_bilou_convert),
        cmocka_unit_test(test_bilou_constraint),
        cmocka_unit_test(test_bilou_train),
        cmocka_unit_test(test_bilou_options),
        cmocka_unit_test(test_shipped_model),
        cmocka_unit_test(test_best_entity_same),
        cmocka_unit_test(test_describe_token_same),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
