/* test_clean.c - unit and quality tests of the clean plugin (plugins/clean).
 *
 * The plugin's sources are compiled into this test (CLEAN_NO_DESCRIPTOR), so
 * the cleaner is driven directly: clean_doc() on nahr_docs built here.
 * Fixtures are our own articles in plugins/clean/tests/fixtures/; the seed
 * articles are read from $NAHR_SHARED_DIR/seeds/ (skipped when absent) and
 * every expectation about them is computed from the seed file at run time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"

/* the clean_repeats plugin is tested through its static functions */
#include "repeats_plugin.c"

static char src_dir[4096];

static const char *source_dir(void)
{
    const char *s = getenv("NAHR_SOURCE_DIR");
    snprintf(src_dir, sizeof src_dir, "%s", s ? s : ".");
    return src_dir;
}

typedef struct {
    clean_config cfg;
    clean_scratch sc;
} fixture;

static fixture *fx_new(int form)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    clean_config_defaults(&f->cfg);
    char err[512], dir[4200];
    clean_unicode_opts uo = {.form = form, .remove_tatweel = true};
    f->cfg.uni = clean_unicode_new(&uo, err, sizeof err);
    assert_non_null(f->cfg.uni);
    f->cfg.phrases = clean_phrases_new();
    snprintf(dir, sizeof dir, "%s/plugins/clean/data/phrases", source_dir());
    int rc = clean_phrases_load_dir(f->cfg.phrases, dir, err, sizeof err);
    if (rc < 0) fail_msg("%s", err);
    assert_int_equal(clean_phrases_build(f->cfg.phrases), 0);
    return f;
}

static void fx_free(fixture *f)
{
    clean_scratch_free(&f->sc);
    clean_unicode_free(f->cfg.uni);
    clean_phrases_free(f->cfg.phrases);
    free(f);
}

static int setup(void **state)
{
    *state = fx_new(1);
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    rewind(f);
    char *b = malloc((size_t)l + 1);
    if (b && fread(b, 1, (size_t)l, f) != (size_t)l) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[l] = '\0';
    if (n) *n = (size_t)l;
    return b;
}

static char *fixture_text(const char *name, size_t *n)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/plugins/clean/tests/fixtures/%s", source_dir(), name);
    char *t = read_file(path, n);
    if (!t) fail_msg("missing fixture %s", path);
    return t;
}

static nahr_doc *doc_of(const char *text, size_t n)
{
    nahr_doc *d = nahr_doc_new();
    assert_non_null(d);
    assert_int_equal(nahr_doc_set_text(d, text, n), 0);
    return d;
}

/* The cleaner's own normalisation of a string (for comparing seed lines). */
static char *norm_of(fixture *f, const char *s, size_t n)
{
    nahr_buf out = {0};
    assert_int_equal(clean_unicode_run(f->cfg.uni, &f->sc, s, n, &out, NULL), 0);
    char *r = strdup(out.data ? out.data : "");
    nahr_buf_free(&out);
    return r;
}

static const char *text_of(nahr_doc *d) { return nahr_doc_text(d, NULL); }

static int has_reason(nahr_doc *d, const char *reason, const char *needle)
{
    nahr_value *r = nahr_doc_field(d, "removed");
    for (size_t i = 0; r && i < nahr_value_len(r); i++) {
        nahr_value *o = nahr_value_at(r, i);
        const char *rs = nahr_value_as_string(nahr_value_get(o, "reason"), NULL);
        const char *ls = nahr_value_as_string(nahr_value_get(o, "line"), NULL);
        if (rs && !strcmp(rs, reason) && (!needle || (ls && strstr(ls, needle)))) return 1;
    }
    return 0;
}

static size_t count_paragraphs(const char *t)
{
    if (!*t) return 0;
    size_t n = 1;
    for (const char *p = t; (p = strstr(p, "\n\n")) != NULL; p += 2) n++;
    return n;
}

/* ------------------------------------------------------------------ unicode */

static char *uni(fixture *f, const char *in)
{
    return norm_of(f, in, strlen(in));
}

static void test_unicode_filtering(void **state)
{
    fixture *f = *state;
    char *s;
    /* ZWSP, ZWNJ, RLM, LRE..PDF, BOM, soft hyphen: removed */
    s = uni(f, "\xEF\xBB\xBF" "قال\xE2\x80\x8B" "ت\xE2\x80\x8F" "ه\xC2\xAD" "ا \xE2\x80\xAA" "x\xE2\x80\xAC");
    assert_string_equal(s, "قالتها x");
    free(s);
    /* NBSP, thin space, ideographic space, tabs -> one space; CRLF, CR, U+2028 -> \n */
    s = uni(f, "a\xC2\xA0\xC2\xA0" "b\xE2\x80\x89" "c\t\td\r\ne\rf\xE2\x80\xA8g");
    assert_string_equal(s, "a b c d\ne\nf\ng");
    free(s);
    /* blank lines (even made of NBSP) collapse to one paragraph break; lines trimmed */
    s = uni(f, "  first  \n \xC2\xA0 \n\n\n   second\n");
    assert_string_equal(s, "first\n\nsecond");
    free(s);
    /* tatweel removed by default, diacritics kept */
    s = uni(f, "جـــميل مُحَمَّد");
    assert_string_equal(s, "جميل مُحَمَّد");
    free(s);
    /* C0 controls (SUB from the news corpus) removed */
    s = uni(f, "ab\x1a" "c\x07");
    assert_string_equal(s, "abc");
    free(s);
}

static void test_unicode_presentation_forms_and_nfc(void **state)
{
    fixture *f = *state;
    /* U+FEFB lam-alef ligature, U+FE83 alef with hamza above (isolated),
     * U+FEE1 meem isolated */
    char *s = uni(f, "\xEF\xBB\xBB \xEF\xBA\x83\xEF\xBB\xA1");
    assert_string_equal(s, "لا أم");
    free(s);
    /* NFC: alef + combining hamza above (U+0654) composes to U+0623 */
    s = uni(f, "\xD8\xA7\xD9\x94");
    assert_string_equal(s, "\xD8\xA3");
    free(s);
    /* NFC canonical order: shadda (ccc 33) after fatha (ccc 30) */
    s = uni(f, "\xD9\x85\xD9\x91\xD9\x8E");
    assert_string_equal(s, "\xD9\x85\xD9\x8E\xD9\x91");
    free(s);
}

static void test_unicode_options(void **state)
{
    (void)state;
    char err[256];
    clean_unicode_opts uo = {.form = 2, .remove_tatweel = false, .remove_diacritics = true, .ascii_digits = true};
    clean_unicode *u = clean_unicode_new(&uo, err, sizeof err);
    assert_non_null(u);
    clean_scratch sc = {0};
    nahr_buf out = {0};
    const char *in = "مُـحَمَّد ٢٠٢١ ۴ \xEF\xAC\x81"; /* U+FB01 "fi" ligature: NFKC -> "fi" */
    assert_int_equal(clean_unicode_run(u, &sc, in, strlen(in), &out, NULL), 0);
    assert_string_equal(out.data, "مـحمد 2021 4 fi");
    clean_unicode_free(u);
    /* form none keeps a compatibility character */
    clean_unicode_opts u2 = {.form = 0};
    u = clean_unicode_new(&u2, err, sizeof err);
    assert_int_equal(clean_unicode_run(u, &sc, "\xEF\xAC\x81", 3, &out, NULL), 0);
    assert_string_equal(out.data, "\xEF\xAC\x81");
    clean_unicode_free(u);
    nahr_buf_free(&out);
    clean_scratch_free(&sc);
}

static void test_unicode_invalid_utf8_and_nul(void **state)
{
    fixture *f = *state;
    nahr_buf out = {0};
    size_t bad = 0;
    const char in[] = "ab\xC3" "c\xFF" "d\0e\xED\xA0\x80" "f"; /* truncated, 0xFF, NUL, surrogate */
    assert_int_equal(clean_unicode_run(f->cfg.uni, &f->sc, in, sizeof in - 1, &out, &bad), 0);
    assert_true(bad >= 4);
    assert_int_equal(nahr_utf8_check(out.data, out.len), out.len);
    assert_non_null(strstr(out.data, "\xEF\xBF\xBD"));
    assert_non_null(strchr(out.data, 'f'));
    nahr_buf_free(&out);
}

/* -------------------------------------------------------------- dates etc. */

static void test_dates(void **state)
{
    (void)state;
    char iso[11];
    int cov;
    assert_true(clean_date_parse("الثلاثاء, يناير 21, 2025", strlen("الثلاثاء, يناير 21, 2025"), iso, &cov));
    assert_string_equal(iso, "2025-01-21");
    assert_int_equal(cov, 100);
    const char *s = "السبت، ٢٧ مارس ٢٠٢١";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_string_equal(iso, "2021-03-27");
    s = "نشر في 3 تشرين الأول 2023 الساعة 10:45";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_string_equal(iso, "2023-10-03");
    assert_true(cov >= 70);
    s = "آب 9, 2020";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_string_equal(iso, "2020-08-09");
    s = "2024-02-29";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_string_equal(iso, "2024-02-29");
    s = "١٥/٠٦/٢٠١٩";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_string_equal(iso, "2019-06-15");
    s = "Published on January 5, 2022";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_string_equal(iso, "2022-01-05");
    /* a story sentence with a date: parsed, but low coverage */
    s = "وقال الوزير في 12 مايو 2020 إن الحكومة ستراجع الخطة الاقتصادية خلال الأشهر المقبلة";
    assert_true(clean_date_parse(s, strlen(s), iso, &cov));
    assert_true(cov < 50);
    /* no date */
    s = "لا تاريخ هنا 45 مرة";
    assert_false(clean_date_parse(s, strlen(s), iso, &cov));
    s = "32 يناير 2020";
    assert_false(clean_date_parse(s, strlen(s), iso, &cov));
}

static void test_phrase_modes(void **state)
{
    (void)state;
    clean_phrases *p = clean_phrases_new();
    assert_int_equal(clean_phrases_add(p, CR_RELATED, CM_EXACT, "مقالات ذات صلة", strlen("مقالات ذات صلة")), 0);
    assert_int_equal(clean_phrases_add(p, CR_NAV, CM_START, "الرئيسية", strlen("الرئيسية")), 0);
    assert_int_equal(clean_phrases_add(p, CR_SHARE, CM_SHORT, "شارك", strlen("شارك")), 0);
    assert_int_equal(clean_phrases_add(p, CR_COOKIES, CM_ANY, "cookies", 7), 0);
    assert_int_equal(clean_phrases_add(p, CR_ADS, CM_EXACT, "!!!", 3), NAHR_EINVAL); /* nothing to match */
    assert_int_equal(clean_phrases_build(p), 0);
    char norm[512];
    clean_match m[8];
    const char *s = "مقالاتٌ ذاتُ صلةٍ:";
    size_t n = clean_match_norm(s, strlen(s), norm);
    assert_int_equal(clean_phrases_find(p, norm, n, m, 8), 1);
    assert_int_equal(m[0].family, CR_RELATED);
    s = "وهذه مقالات ذات صلة بالموضوع";
    n = clean_match_norm(s, strlen(s), norm);
    assert_int_equal(clean_phrases_find(p, norm, n, m, 8), 0); /* not the whole line */
    s = "الرئيسيةأخبار";
    n = clean_match_norm(s, strlen(s), norm);
    assert_int_equal(clean_phrases_find(p, norm, n, m, 8), 1);
    s = "المشاركون";   /* no whole-word match for شارك */
    n = clean_match_norm(s, strlen(s), norm);
    assert_int_equal(clean_phrases_find(p, norm, n, m, 8), 0);
    s = "We use COOKIES.";
    n = clean_match_norm(s, strlen(s), norm);
    assert_int_equal(clean_phrases_find(p, norm, n, m, 8), 1);
    assert_int_equal(m[0].mode, CM_ANY);
    clean_phrases_free(p);
}

/* The one-pass matching form (ASCII and U+0600..U+067F from tables, other
 * code points one at a time) and the two-step one (nahr_ar_normalize of the
 * line, then separators folded) agree on every code point below U+0800 and
 * on a sample of the others, alone, inside a word and between separators. A
 * trailing invalid byte (a separator, trimmed at the end) sends the same
 * line down the two-step path. */
static void test_match_norm_paths(void **state)
{
    (void)state;
    static const char *const ctx[][2] = {{"", ""}, {"\xD8\xA8", "\xD8\xA8"}, {"a ", " b"}, {"\xD8\x8C", "1"}, {"X", "\xD9\x8E"}};
    for (uint32_t cp = 0; cp < 0x110000; cp = cp < 0x800 ? cp + 1 : cp + 97) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char ch[4];
        size_t cl = nahr_utf8_put(cp, ch);
        for (size_t k = 0; k < sizeof ctx / sizeof *ctx; k++) {
            char line[64], a[64], b[64];
            size_t n = 0;
            memcpy(line + n, ctx[k][0], strlen(ctx[k][0]));
            n += strlen(ctx[k][0]);
            memcpy(line + n, ch, cl);
            n += cl;
            memcpy(line + n, ctx[k][1], strlen(ctx[k][1]));
            n += strlen(ctx[k][1]);
            size_t na = clean_match_norm(line, n, a);
            line[n] = '\xFF';
            size_t nb = clean_match_norm(line, n + 1, b);
            if (na != nb || memcmp(a, b, na) != 0)
                fail_msg("U+%04X in context %zu: one pass '%.*s', two steps '%.*s'", (unsigned)cp, k, (int)na, a,
                         (int)nb, b);
            assert_int_equal(a[na], '\0');
        }
    }
}

/* ------------------------------------------------------------ own fixtures */

static nahr_doc *clean_fixture(fixture *f, const char *name, int *rc)
{
    size_t n;
    char *t = fixture_text(name, &n);
    nahr_doc *d = doc_of(t, n);
    free(t);
    const char *why;
    f->cfg.keep_removed = true;
    *rc = clean_doc(&f->cfg, &f->sc, d, &why);
    f->cfg.keep_removed = false;
    return d;
}

static void test_fixture_share_copyright_readalso(void **state)
{
    fixture *f = *state;
    int rc;
    nahr_doc *d = clean_fixture(f, "wadi_water.txt", &rc);
    assert_int_equal(rc, CLEAN_OK);
    const char *t = text_of(d);
    assert_string_equal(nahr_doc_get(d, "title"), "بلدية الوادي تطلق مشروعاً لتجديد شبكة المياه في الأحياء الشرقية");
    assert_string_equal(nahr_doc_get(d, "date"), "2024-01-14");
    assert_null(strstr(t, "الرئيسية"));
    assert_null(strstr(t, "فيسبوك"));
    assert_null(strstr(t, "https://"));
    assert_null(strstr(t, "الوسوم"));
    assert_null(strstr(t, "جميع الحقوق"));
    assert_null(strstr(t, "بلدية الوادي تطلق")); /* headline moved to title */
    assert_true(has_reason(d, "breadcrumb", NULL));
    assert_true(has_reason(d, "date", NULL));
    assert_true(has_reason(d, "copyright", NULL));
    assert_true(has_reason(d, "related", "اقرأ أيضاً"));
    /* the story, including "يقرأوا أيضاً" inside a sentence and the subhead */
    assert_non_null(strstr(t, "ودعا السكان إلى أن يقرأوا أيضاً النشرات"));
    assert_non_null(strstr(t, "\n\nمراحل التنفيذ\n\n"));
    assert_true(strncmp(t, "أعلنت بلدية مدينة الوادي،", strlen("أعلنت بلدية مدينة الوادي،")) == 0);
    const char *last = "ويأمل سكان الحي أن ينهي المشروع سنوات من الانقطاعات المتكررة في فصل الصيف.";
    assert_string_equal(t + strlen(t) - strlen(last), last);
    assert_int_equal(count_paragraphs(t), 6);
    assert_null(nahr_doc_get(d, "source")); /* a tags line is not a signature */
    nahr_doc_free(d);
}

static void test_fixture_english_chrome_tail(void **state)
{
    fixture *f = *state;
    int rc;
    nahr_doc *d = clean_fixture(f, "bread_prices.txt", &rc);
    assert_int_equal(rc, CLEAN_OK);
    const char *t = text_of(d);
    assert_null(strstr(t, "Home"));
    assert_null(strstr(t, "Share"));
    assert_null(strstr(t, "Follow"));
    assert_null(strstr(t, "cookies"));
    assert_null(strstr(t, "أسعار الخضار تتراجع")); /* related list after the marker */
    assert_true(has_reason(d, "tail", "الحكومة تدرس"));
    assert_true(has_reason(d, "comments", NULL));
    assert_int_equal(count_paragraphs(t), 4);
    assert_non_null(strstr(t, "وتتوقع غرفة التجارة أن تستقر الأسعار"));
    assert_string_equal(nahr_doc_get(d, "title"), "ارتفاع أسعار الخبز في الأسواق الشعبية للمرة الثالثة هذا العام");
    nahr_doc_free(d);
}

static void test_fixture_story_words_survive(void **state)
{
    fixture *f = *state;
    size_t n;
    char *orig = fixture_text("festival_words.txt", &n);
    int rc;
    nahr_doc *d = clean_fixture(f, "festival_words.txt", &rc);
    assert_int_equal(rc, CLEAN_OK);
    const char *t = text_of(d);
    /* every line but the headline is kept verbatim, in order */
    const char *p = strchr(orig, '\n') + 2;
    while (*p == '\n') p++;
    char *expect = strdup(p);
    size_t el = strlen(expect);
    while (el && expect[el - 1] == '\n') expect[--el] = '\0';
    assert_string_equal(t, expect);
    /* only the headline was removed (to 'title') */
    assert_int_equal(nahr_value_len(nahr_doc_field(d, "removed")), 1);
    assert_true(has_reason(d, "title", NULL));
    free(expect);
    free(orig);
    nahr_doc_free(d);
}

static void test_fixture_menu_author_caption(void **state)
{
    fixture *f = *state;
    int rc;
    nahr_doc *d = clean_fixture(f, "nile_metro.txt", &rc);
    assert_int_equal(rc, CLEAN_OK);
    const char *t = text_of(d);
    assert_string_equal(nahr_doc_get(d, "title"), "الحكومة تعلن موعد افتتاح الخط الجديد لمترو الأنفاق");
    assert_string_equal(nahr_doc_get(d, "date"), "2023-02-12");
    assert_string_equal(nahr_doc_get(d, "author"), "مراد الشافعي"); /* "كتب: ..." is an author */
    assert_null(nahr_doc_get(d, "source"));
    assert_true(has_reason(d, "breadcrumb", "| فيديو |")); /* a | menu of short segments */
    assert_true(has_reason(d, "caption", NULL));
    assert_true(has_reason(d, "share", "جوجل نيوز"));     /* removed in the body */
    assert_true(has_reason(d, "tail", "بالصور"));          /* after "شاهد أيضاً" */
    assert_true(has_reason(d, "promo", "حمّل تطبيق"));
    assert_int_equal(count_paragraphs(t), 3);
    assert_true(strncmp(t, "أعلنت وزارة النقل", strlen("أعلنت وزارة النقل")) == 0);
    const char *last = "لتخفيف الزحام على الطرق.";
    assert_string_equal(t + strlen(t) - strlen(last), last);
    nahr_doc_free(d);
}

static void test_fixture_only_boilerplate(void **state)
{
    fixture *f = *state;
    int rc;
    nahr_doc *d = clean_fixture(f, "only_chrome.txt", &rc);
    assert_int_equal(rc, CLEAN_EMPTY);
    nahr_doc_free(d);
}

static void test_fixture_html(void **state)
{
    fixture *f = *state;
    int rc;
    nahr_doc *d = clean_fixture(f, "port_page.html", &rc);
    assert_int_equal(rc, CLEAN_OK);
    const char *t = text_of(d);
    assert_string_equal(nahr_doc_get(d, "title"), "توسعة الميناء الجنوبي تبدأ الشهر المقبل");
    assert_string_equal(nahr_doc_get(d, "date"), "2024-03-09");
    assert_string_equal(nahr_doc_get(d, "source"), "موقع الساحل");
    assert_null(strstr(t, "tracking"));
    assert_null(strstr(t, "لا يجب أن يظهر"));
    assert_null(strstr(t, "color"));
    assert_null(strstr(t, "رياضة"));           /* nav */
    assert_null(strstr(t, "ميناء الشمال"));     /* related list */
    assert_null(strstr(t, "خبر آخر"));          /* aside */
    assert_null(strstr(t, "جميع الحقوق"));      /* footer */
    assert_null(strstr(t, "إرسال"));            /* comment form */
    assert_null(strstr(t, "<"));
    assert_non_null(strstr(t, "المشروع \"سيخفف الازدحام\""));      /* &quot; decoded */
    assert_non_null(strstr(t, "دولار تموّلها"));                   /* &nbsp; -> space */
    assert_non_null(strstr(t, "الأولى & مراجعة"));                 /* &amp; */
    assert_int_equal(count_paragraphs(t), 3);
    nahr_doc_free(d);
}

static void test_existing_metadata_kept(void **state)
{
    fixture *f = *state;
    const char *in = "خبر قديم عن السوق\n\nالجمعة 5 أيار 2023\n\nقالت وزارة الاقتصاد اليوم إن معدل التضخم تراجع للشهر الثاني على التوالي بفضل استقرار أسعار الغذاء والطاقة.\n\nوكالة الأنباء";
    nahr_doc *d = doc_of(in, strlen(in));
    nahr_doc_set(d, "title", "خبر قديم عن السوق");
    nahr_doc_set(d, "date", "2023-05-04");
    nahr_doc_set(d, "source", "alyaum");
    const char *why;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    assert_string_equal(nahr_doc_get(d, "date"), "2023-05-04"); /* never overwritten */
    assert_string_equal(nahr_doc_get(d, "source"), "alyaum");
    assert_string_equal(text_of(d), "قالت وزارة الاقتصاد اليوم إن معدل التضخم تراجع للشهر الثاني على التوالي بفضل استقرار أسعار الغذاء والطاقة.");
    nahr_doc_free(d);
}

static void test_options_off(void **state)
{
    fixture *f = *state;
    size_t n;
    char *t = fixture_text("wadi_water.txt", &n);
    nahr_doc *d = doc_of(t, n);
    const char *why;
    f->cfg.remove_boilerplate = false;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    f->cfg.remove_boilerplate = true;
    assert_non_null(strstr(text_of(d), "جميع الحقوق")); /* only normalised */
    assert_null(nahr_doc_get(d, "title"));
    nahr_doc_free(d);
    /* keep the headline in the text; no title/date recovery */
    d = doc_of(t, n);
    f->cfg.keep_title_in_text = true;
    f->cfg.recover_date = false;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    f->cfg.keep_title_in_text = false;
    f->cfg.recover_date = true;
    assert_non_null(strstr(text_of(d), "بلدية الوادي تطلق مشروعاً"));
    assert_null(nahr_doc_get(d, "date"));
    nahr_doc_free(d);
    /* no tail cut: the related titles stay */
    free(t);
    t = fixture_text("bread_prices.txt", &n);
    d = doc_of(t, n);
    f->cfg.tail_cut = false;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    f->cfg.tail_cut = true;
    assert_non_null(strstr(text_of(d), "الحكومة تدرس دعم الأفران الصغيرة"));
    nahr_doc_free(d);
    free(t);
}

/* -------------------------------------------------------------------- seeds */

typedef struct {
    char *text;
    size_t n;
    char **lines;
    size_t nlines;
} seed;

static int seed_load(const char *prefix, seed *s)
{
    const char *sh = getenv("NAHR_SHARED_DIR");
    if (!sh) return 0;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/seeds", sh);
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    struct dirent *e;
    char path[8400] = "";
    while ((e = readdir(dp)) != NULL)
        if (!strncmp(e->d_name, prefix, strlen(prefix))) snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    closedir(dp);
    if (!path[0]) return 0;
    s->text = read_file(path, &s->n);
    if (!s->text) return 0;
    char *copy = strdup(s->text);
    s->lines = calloc(s->n + 2, sizeof(char *));
    s->nlines = 0;
    for (char *tok = copy, *nl; tok; tok = nl) {
        nl = strchr(tok, '\n');
        if (nl) *nl++ = '\0';
        s->lines[s->nlines++] = tok;
    }
    return 1;
}

static void seed_free(seed *s)
{
    if (s->lines) free(s->lines[0]);
    free(s->lines);
    free(s->text);
}

static size_t words_in(const char *l)
{
    size_t w = 0;
    int in = 0;
    for (const char *p = l; *p; p++) {
        if (*p == ' ') in = 0;
        else if (!in) in = 1, w++;
    }
    return w;
}

#define SKIP_NO_SEEDS()                                                            \
    do {                                                                           \
        print_message("NAHR_SHARED_DIR/seeds not found: seed test skipped\n");     \
        skip();                                                                    \
    } while (0)

/* Cleans the seed; checks that every seed line of >= 15 words that the hand
 * review found to be story (all but those holding the listed chrome
 * markers) is present in the output, verbatim after normalisation. */
static nahr_doc *seed_clean(fixture *f, seed *s, const char *const *chrome, size_t *story_lines)
{
    nahr_doc *d = doc_of(s->text, s->n);
    const char *why;
    f->cfg.keep_removed = true;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    f->cfg.keep_removed = false;
    const char *t = text_of(d);
    const char *title = nahr_doc_get(d, "title");
    *story_lines = 0;
    for (size_t i = 0; i < s->nlines; i++) {
        const char *l = s->lines[i];
        if (words_in(l) < 15) continue;
        if (title && !strcmp(l, title)) continue; /* the headline went to 'title' */
        int is_chrome = 0;
        for (size_t k = 0; chrome && chrome[k]; k++)
            if (strstr(l, chrome[k])) is_chrome = 1;
        char *nl = norm_of(f, l, strlen(l));
        if (is_chrome) {
            if (strstr(t, nl)) fail_msg("seed line %zu (chrome) still in the output", i + 1);
        } else {
            if (!strstr(t, nl)) fail_msg("seed line %zu (story) missing from the output", i + 1);
            (*story_lines)++;
        }
        free(nl);
    }
    return d;
}

static void no_markers(const char *t)
{
    static const char *const markers[] = {"spot_img", "إعلان -", "الأكثر قراءة", "الرئيسيةأخبار", "مقالات ذات صلة",
                                          "t.me/", "https://", "اترك تعليق", "زر الذهاب", "قد يعجبك",
                                          "ملفات تعريف الارتباط", "اشترك", "الاشتراك", "التعليقات",
                                          "اضافة تعليق", "news-details", "تم النشر بواسطة", "اقرأ أيضاً", NULL};
    for (size_t k = 0; markers[k]; k++)
        if (strstr(t, markers[k])) fail_msg("boilerplate marker '%s' left in the text", markers[k]);
}

static void test_seed_000(void **state)
{
    fixture *f = *state;
    seed s = {0};
    if (!seed_load("000_", &s)) SKIP_NO_SEEDS();
    static const char *const chrome[] = {"t.me/", NULL};
    size_t story;
    nahr_doc *d = seed_clean(f, &s, chrome, &story);
    const char *t = text_of(d);
    no_markers(t);
    assert_int_equal(story, 10);               /* hand-verified: 10 story paragraphs */
    assert_int_equal(count_paragraphs(t), 10);
    char *title = norm_of(f, s.lines[7], strlen(s.lines[7])); /* the full headline, line 8 */
    assert_string_equal(nahr_doc_get(d, "title"), title);
    free(title);
    assert_string_equal(nahr_doc_get(d, "date"), "2025-01-21");
    /* byline "<site> – خاص" -> source = the site name */
    const char *dash = strstr(s.lines[9], " \xE2\x80\x93");
    assert_non_null(dash);
    assert_int_equal(strlen(nahr_doc_get(d, "source")), (size_t)(dash - s.lines[9]));
    assert_true(has_reason(d, "breadcrumb", NULL)); /* the truncated breadcrumb copy */
    assert_true(has_reason(d, "ads", NULL));
    assert_true(has_reason(d, "promo", NULL));
    nahr_doc_free(d);
    seed_free(&s);
}

static void test_seed_001(void **state)
{
    fixture *f = *state;
    seed s = {0};
    if (!seed_load("001_", &s)) SKIP_NO_SEEDS();
    /* chrome: the embedded post's caption (ends with "…"), newsletter, cookies */
    static const char *const chrome[] = {"\xE2\x80\xA6", "اشترك", "ملفات تعريف الارتباط", NULL};
    size_t story;
    nahr_doc *d = seed_clean(f, &s, chrome, &story);
    const char *t = text_of(d);
    no_markers(t);
    assert_int_equal(story, 29);
    /* hand count: 29 long story paragraphs + 2 subheads */
    assert_int_equal(count_paragraphs(t), 31);
    char *title = norm_of(f, s.lines[0], strlen(s.lines[0]));
    assert_string_equal(nahr_doc_get(d, "title"), title);
    free(title);
    assert_true(has_reason(d, "embed", NULL));
    assert_true(has_reason(d, "embed_caption", NULL));
    assert_true(has_reason(d, "cookies", NULL));
    /* the only date in the page is the embedded post's: not the article's */
    assert_null(nahr_doc_get(d, "date"));
    nahr_doc_free(d);
    /* ... unless asked for */
    f->cfg.date_from_embeds = true;
    d = doc_of(s.text, s.n);
    const char *why;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    f->cfg.date_from_embeds = false;
    assert_string_equal(nahr_doc_get(d, "date"), "2021-03-27");
    nahr_doc_free(d);
    seed_free(&s);
}

static void test_seed_002(void **state)
{
    fixture *f = *state;
    seed s = {0};
    if (!seed_load("002_", &s)) SKIP_NO_SEEDS();
    size_t story;
    nahr_doc *d = seed_clean(f, &s, NULL, &story);
    const char *t = text_of(d);
    no_markers(t);
    assert_int_equal(story, 12);
    /* hand count: 12 story blocks (one holds a second, shorter line) + 3 subheads */
    assert_int_equal(count_paragraphs(t), 15);
    char *title = norm_of(f, s.lines[2], strlen(s.lines[2]));
    assert_string_equal(nahr_doc_get(d, "title"), title);
    free(title);
    assert_true(has_reason(d, "menu", NULL));      /* glued category words */
    assert_true(has_reason(d, "related", NULL));   /* "read also" in the body */
    assert_true(has_reason(d, "comments", NULL));
    assert_non_null(nahr_doc_get(d, "source"));
    /* the subheads stay */
    assert_non_null(strstr(t, s.lines[14]));
    assert_non_null(strstr(t, s.lines[43]));
    nahr_doc_free(d);
    seed_free(&s);
}

static void test_seed_003(void **state)
{
    fixture *f = *state;
    seed s = {0};
    if (!seed_load("003_", &s)) SKIP_NO_SEEDS();
    size_t story;
    nahr_doc *d = seed_clean(f, &s, NULL, &story);
    const char *t = text_of(d);
    no_markers(t);
    assert_int_equal(story, 1);
    assert_int_equal(count_paragraphs(t), 1);
    nahr_doc_free(d);
    seed_free(&s);
}

static void test_seed_004(void **state)
{
    fixture *f = *state;
    seed s = {0};
    if (!seed_load("004_", &s)) SKIP_NO_SEEDS();
    size_t story;
    nahr_doc *d = seed_clean(f, &s, NULL, &story);
    const char *t = text_of(d);
    no_markers(t);
    assert_int_equal(story, 16);
    /* the site name, last line, goes to source */
    size_t last = s.nlines - 1;
    while (last && !s.lines[last][0]) last--;
    assert_string_equal(nahr_doc_get(d, "source"), s.lines[last]);
    assert_null(strstr(t, s.lines[last]));
    /* single-newline paragraphs keep their single newlines */
    assert_int_equal(count_paragraphs(t), 1);
    nahr_doc_free(d);
    seed_free(&s);
}

/* ---------------------------------------------------------------- bad input */

static void test_bad_empty(void **state)
{
    fixture *f = *state;
    nahr_doc *d = nahr_doc_new();
    const char *why;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_EMPTY);
    assert_string_equal(why, "empty article");
    nahr_doc_free(d);
    d = doc_of(" \n\xC2\xA0\n\xE2\x80\x8B\n", strlen(" \n\xC2\xA0\n\xE2\x80\x8B\n"));
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_EMPTY);
    nahr_doc_free(d);
}

static void test_bad_huge_single_line(void **state)
{
    fixture *f = *state;
    size_t n = 50u << 20; /* 50 MB, one line */
    char *big = malloc(n);
    assert_non_null(big);
    static const char w[] = "كلمة ";
    for (size_t i = 0; i < n; i++) big[i] = w[i % (sizeof w - 1)];
    n -= n % (sizeof w - 1);
    nahr_doc *d = doc_of(big, n);
    const char *why;
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    size_t tl;
    nahr_doc_text(d, &tl);
    assert_int_equal(tl, n - 1); /* trailing space trimmed, nothing else */
    nahr_doc_free(d);
    free(big);
}

static void test_bad_html(void **state)
{
    fixture *f = *state;
    const char *why;
    /* broken markup */
    const char *b = "<html><body><div><p>نص أول بلا إغلاق <b>عريض <i>مائل</p></div><p>فقرة ثانية &bogus; &#x0; &#99999999;</body>";
    nahr_doc *d = doc_of(b, strlen(b));
    int rc = clean_doc(&f->cfg, &f->sc, d, &why);
    assert_true(rc == CLEAN_OK || rc == CLEAN_EMPTY);
    if (rc == CLEAN_OK) {
        assert_null(strchr(text_of(d), '<'));
        assert_int_equal(nahr_utf8_check(text_of(d), strlen(text_of(d))), strlen(text_of(d)));
    }
    nahr_doc_free(d);
    /* 100000 nested divs */
    nahr_buf deep = {0};
    nahr_buf_puts(&deep, "<html><body>");
    for (int i = 0; i < 100000; i++) nahr_buf_puts(&deep, "<div>");
    nahr_buf_puts(&deep, "نص في العمق");
    d = doc_of(deep.data, deep.len);
    rc = clean_doc(&f->cfg, &f->sc, d, &why);
    assert_true(rc == CLEAN_OK || rc == CLEAN_EMPTY);
    nahr_doc_free(d);
    nahr_buf_free(&deep);
    /* title from <title> without the site name, when there is no og:title or h1 */
    const char *tt = "<html><head><title>الأمطار تعود إلى الساحل الأسبوع المقبل | موقع الطقس</title></head><body>"
                     "<p>تتوقع هيئة الأرصاد أن تعود الأمطار إلى المناطق الساحلية مطلع الأسبوع المقبل مع انخفاض في درجات الحرارة.</p>"
                     "<p>ودعت الهيئة الصيادين إلى متابعة النشرات البحرية قبل الخروج إلى البحر خلال الأيام الثلاثة المقبلة.</p></body></html>";
    d = doc_of(tt, strlen(tt));
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    assert_string_equal(nahr_doc_get(d, "title"), "الأمطار تعود إلى الساحل الأسبوع المقبل");
    assert_int_equal(count_paragraphs(text_of(d)), 2);
    nahr_doc_free(d);
    /* only chrome */
    const char *c = "<html><body><nav>الرئيسية</nav><script>x()</script><footer>حقوق</footer></body></html>";
    d = doc_of(c, strlen(c));
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_EMPTY);
    nahr_doc_free(d);
    /* html = never keeps markup as text */
    f->cfg.html_mode = 0;
    d = doc_of(b, strlen(b));
    assert_int_equal(clean_doc(&f->cfg, &f->sc, d, &why), CLEAN_OK);
    assert_non_null(strchr(text_of(d), '<'));
    f->cfg.html_mode = 1;
    nahr_doc_free(d);
}

/* ------------------------------------------------------------------ repeats */

static void test_repeats(void **state)
{
    (void)state;
    rep_instance r = {0};
    r.tab = calloc(1024, sizeof *r.tab);
    r.mask = 1023;
    r.min_articles = 3;
    r.max_line_bytes = 300;
    r.min_line_bytes = 4;
    r.per_source = true;
    r.keep_removed = true;
    r.normcap = 301;
    r.norm = malloc(r.normcap);
    const char *slogan = "تابعوا موقع المدينة اليوم";
    char text[1024];
    for (int i = 0; i < 5; i++) {
        nahr_doc *d = nahr_doc_new();
        snprintf(text, sizeof text, "خبر رقم %d عن موضوع مختلف تماما في كل مرة.\n%s\nسطر آخر %d", i, slogan, i);
        nahr_doc_set_text(d, text, strlen(text));
        nahr_doc_set(d, "source", "almadina");
        assert_int_equal(rep_process(&r, NULL, d, NULL), NAHR_OK);
        int present = strstr(text_of(d), "تابعوا موقع") != NULL;
        assert_int_equal(present, i < 2); /* 3rd article on: removed */
        if (i >= 2) assert_true(has_reason(d, "repeat", NULL));
        nahr_doc_free(d);
        /* another source with the same line is counted apart */
        d = nahr_doc_new();
        snprintf(text, sizeof text, "%s\nخبر محلي قصير رقم %d", slogan, i);
        nahr_doc_set_text(d, text, strlen(text));
        nahr_doc_set(d, "source", "okaz");
        assert_int_equal(rep_process(&r, NULL, d, NULL), NAHR_OK);
        assert_int_equal(strstr(text_of(d), "تابعوا موقع") != NULL, i < 2);
        nahr_doc_free(d);
    }
    /* an article made only of recurring lines is kept whole, without a report */
    nahr_doc *only = nahr_doc_new();
    nahr_doc_set_text(only, slogan, strlen(slogan));
    nahr_doc_set(only, "source", "almadina");
    assert_int_equal(rep_process(&r, NULL, only, NULL), NAHR_OK);
    assert_string_equal(text_of(only), slogan);
    assert_null(nahr_doc_field(only, "removed"));
    nahr_doc_free(only);
    /* no source: no grouping, nothing removed */
    for (int i = 0; i < 5; i++) {
        nahr_doc *d = nahr_doc_new();
        snprintf(text, sizeof text, "%s\nنص بلا مصدر %d", slogan, i);
        nahr_doc_set_text(d, text, strlen(text));
        assert_int_equal(rep_process(&r, NULL, d, NULL), NAHR_OK);
        assert_non_null(strstr(text_of(d), "تابعوا موقع"));
        nahr_doc_free(d);
    }
    /* a bounded table: flooding it with distinct lines does not grow memory or crash */
    for (int i = 0; i < 5000; i++) {
        nahr_doc *d = nahr_doc_new();
        snprintf(text, sizeof text, "سطر فريد رقم %d", i);
        nahr_doc_set_text(d, text, strlen(text));
        nahr_doc_set(d, "source", "flood");
        assert_int_equal(rep_process(&r, NULL, d, NULL), NAHR_OK);
        assert_string_equal(text_of(d), text);
        nahr_doc_free(d);
    }
    free(r.tab);
    free(r.norm);
    nahr_buf_free(&r.out);
}

static void test_descriptors(void **state)
{
    (void)state;
    extern const nahr_plugin *clean_test_descriptor(void);
    const nahr_plugin *p = clean_test_descriptor();
    assert_string_equal(p->name, "clean");
    assert_int_equal(p->thread_model, NAHR_THREAD_SHARED);
    assert_true(p->flags & NAHR_PLUGIN_REWRITES_TEXT);
    size_t k = 0;
    for (; p->options[k].name; k++) assert_non_null(p->options[k].help);
    assert_true(k >= 18);
    p = repeats_test_descriptor();
    assert_string_equal(p->name, "clean_repeats");
    assert_int_equal(p->thread_model, NAHR_THREAD_ORDERED_PRE);
    /* the README documents every option of both plugins */
    char path[4400];
    snprintf(path, sizeof path, "%s/plugins/clean/README.md", source_dir());
    char *readme = read_file(path, NULL);
    assert_non_null(readme);
    const nahr_plugin *both[] = {clean_test_descriptor(), repeats_test_descriptor()};
    for (int b = 0; b < 2; b++)
        for (const nahr_option *o = both[b]->options; o->name; o++) {
            char key[128];
            snprintf(key, sizeof key, "| `%s` |", o->name);
            if (!strstr(readme, key)) fail_msg("README.md does not document option '%s'", o->name);
        }
    free(readme);
}

/* ------------------------------------------- through the real plugin loader */

/* Runs build/nahr with a config holding `stage_opts` in the clean stage;
 * returns its stdout (malloc'd) or NULL when nahr is not built. */
static char *run_nahr(const char *stage_opts, const char *input, int *exit_code)
{
    const char *b = getenv("NAHR_BUILD_DIR");
    if (!b) return NULL;
    char nahr[4200], cfg[64] = "/tmp/test_clean_XXXXXX", cmd[9000];
    snprintf(nahr, sizeof nahr, "%s/nahr", b);
    static const char *const need[] = {"nahr", "plugins/clean.so", "plugins/clean_repeats.so", "plugins/export.so"};
    for (size_t k = 0; k < sizeof need / sizeof *need; k++) {
        char path[4300];
        snprintf(path, sizeof path, "%s/%s", b, need[k]);
        FILE *t = fopen(path, "r");
        if (!t) return NULL;
        fclose(t);
    }
    int fd = mkstemp(cfg);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "pipeline: { workers = 2; stages = ( { plugin = \"clean_repeats\"; }, { plugin = \"clean\"; %s }, "
               "{ plugin = \"export\"; format = \"jsonl\"; path = \"-\"; } ); };\n", stage_opts);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' run -c '%s' '%s' 2>/dev/null", nahr, cfg, input);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    nahr_buf out = {0};
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) nahr_buf_append(&out, buf, k);
    int st = pclose(p);
    *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    unlink(cfg);
    char *r = strdup(out.data ? out.data : "");
    nahr_buf_free(&out);
    return r;
}

static void test_pipeline_options(void **state)
{
    (void)state;
    char dir[4400], in[4500];
    snprintf(dir, sizeof dir, "%s/plugins/clean/tests/fixtures", source_dir());
    int code;
    char *out = run_nahr("keep_removed = true;", dir, &code);
    if (!out) {
        print_message("build/nahr or the clean/export plugins not built: pipeline test skipped\n");
        skip();
    }
    /* 6 fixtures: only_chrome.txt is skipped (counted), exit 0 */
    assert_int_equal(code, 0);
    size_t lines = 0;
    for (const char *q = out; (q = strchr(q, '\n')) != NULL; q++) lines++;
    assert_int_equal(lines, 5);
    assert_non_null(strstr(out, "\"removed\""));
    assert_non_null(strstr(out, "\"reason\":\"copyright\""));
    assert_non_null(strstr(out, "\"date\":\"2024-03-09\""));
    free(out);
    /* on_empty = error: the chrome-only article goes to dead-letter, exit 1 */
    snprintf(in, sizeof in, "%s/only_chrome.txt", dir);
    out = run_nahr("on_empty = \"error\";", in, &code);
    assert_int_equal(code, 1);
    free(out);
    /* on_empty = keep: exported with empty text */
    out = run_nahr("on_empty = \"keep\";", in, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"text\":\"\""));
    free(out);
    /* bad values are config errors (exit 2) */
    out = run_nahr("normal_form = \"nfd\";", in, &code);
    assert_int_equal(code, 2);
    free(out);
    out = run_nahr("extra_phrases = (\"bogus=/nonexistent.txt\");", in, &code);
    assert_int_equal(code, 2);
    free(out);
    out = run_nahr("phrase_dir = \"/nonexistent-dir\";", in, &code);
    assert_int_equal(code, 2);
    free(out);
    /* extra_phrases: a user family file removes a line the defaults keep */
    char xp[64] = "/tmp/test_clean_xp_XXXXXX", art[64] = "/tmp/test_clean_art_XXXXXX";
    int fd = mkstemp(xp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("=حكمة اليوم من الوادي\n", f);
    fclose(f);
    fd = mkstemp(art);
    f = fdopen(fd, "w");
    fputs("قالت غرفة التجارة اليوم إن حركة البيع في السوق المحلي ارتفعت خلال الأسبوع الماضي بنسبة كبيرة.\n\n"
          "حكمة اليوم من الوادي\n\n"
          "وأضافت أن التجار يتوقعون استمرار هذا الارتفاع حتى نهاية الموسم الحالي بحسب المؤشرات المتوفرة.\n", f);
    fclose(f);
    out = run_nahr("", art, &code);
    assert_non_null(strstr(out, "حكمة اليوم"));
    free(out);
    char opt[200];
    snprintf(opt, sizeof opt, "extra_phrases = (\"promo=%s\"); keep_removed = true;", xp);
    out = run_nahr(opt, art, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(out, "\"reason\":\"promo\""));
    assert_null(strstr(out, "\"text\":\"حكمة"));
    char *txt = strstr(out, "\"text\":");
    assert_non_null(txt);
    assert_null(strstr(txt, "حكمة اليوم من الوادي\\n"));
    free(out);
    /* remove_diacritics + ascii_digits through the option table */
    f = fopen(art, "w");
    fputs("قالَ الوزيرُ إن ٣ مشاريع جديدة ستبدأ هذا العام في المدينة بعد موافقة المجلس البلدي عليها.\n", f);
    fclose(f);
    out = run_nahr("remove_diacritics = true; ascii_digits = true;", art, &code);
    assert_non_null(strstr(out, "قال الوزير إن 3 مشاريع"));
    free(out);
    unlink(xp);
    unlink(art);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unicode_filtering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unicode_presentation_forms_and_nfc, setup, teardown),
        cmocka_unit_test(test_unicode_options),
        cmocka_unit_test_setup_teardown(test_unicode_invalid_utf8_and_nul, setup, teardown),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_phrase_modes),
        cmocka_unit_test(test_match_norm_paths),
        cmocka_unit_test_setup_teardown(test_fixture_share_copyright_readalso, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_english_chrome_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_story_words_survive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_menu_author_caption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_only_boilerplate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture_html, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_metadata_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_001, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_002, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_003, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_004, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_huge_single_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_html, setup, teardown),
        cmocka_unit_test(test_repeats),
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_pipeline_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
