/* fuzz_clean.c - libFuzzer harness for the clean plugin's whole per-article
 * path (HTML sniff/extract, UTF-8 repair, normalisation, line classifier,
 * dates, metadata). Build and run: see tests/fuzz/clean/README.md.
 * The first input byte picks options (form, html mode, diacritics, digits,
 * keep_removed) so every branch is reachable. */
#include "clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clean_config cfg[3];
static clean_scratch scratch;

static void init_once(void)
{
    static int done;
    if (done) return;
    done = 1;
    const char *src = getenv("NAHR_SOURCE_DIR");
    char dir[4096], err[512];
    snprintf(dir, sizeof dir, "%s/plugins/clean/data/phrases", src ? src : ".");
    for (int f = 0; f < 3; f++) {
        clean_config_defaults(&cfg[f]);
        clean_unicode_opts uo = {.form = f, .remove_tatweel = true, .remove_diacritics = f == 2, .ascii_digits = f == 1};
        cfg[f].uni = clean_unicode_new(&uo, err, sizeof err);
        cfg[f].phrases = clean_phrases_new();
        if (!cfg[f].uni || clean_phrases_load_dir(cfg[f].phrases, dir, err, sizeof err) < 0) {
            fprintf(stderr, "fuzz_clean: %s (set NAHR_SOURCE_DIR)\n", err);
            abort();
        }
        clean_phrases_build(cfg[f].phrases);
    }
    clean_html_global_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size == 0) return 0;
    unsigned sel = data[0];
    clean_config *c = &cfg[sel % 3];
    c->html_mode = (int)((sel >> 2) % 3);
    c->keep_removed = (sel >> 4) & 1;
    c->tail_cut = !((sel >> 5) & 1);
    c->date_from_embeds = (sel >> 6) & 1;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    nahr_doc *d = nahr_doc_new();
    /* the reader hands over valid UTF-8; the cleaner must also survive the rest */
    nahr_buf fixed = {0};
    nahr_utf8_repair(text, n, &fixed, NULL);
    if (nahr_doc_set_text(d, fixed.data ? fixed.data : "", fixed.len) == 0) {
        if (sel & 0x80) nahr_doc_set(d, "title", "عنوان");
        const char *why;
        int rc = clean_doc(c, &scratch, d, &why);
        if (rc == CLEAN_OK) {
            size_t tl;
            const char *t = nahr_doc_text(d, &tl);
            if (nahr_utf8_check(t, tl) != tl) abort(); /* output must be valid UTF-8 */
        } else if (rc != CLEAN_EMPTY) {
            abort(); /* only out-of-memory could get here */
        }
    }
    /* raw bytes straight into the normaliser too */
    nahr_buf out = {0};
    size_t bad;
    if (clean_unicode_run(c->uni, &scratch, text, n, &out, &bad) == 0 && out.len &&
        nahr_utf8_check(out.data, out.len) != out.len)
        abort();
    char iso[11];
    int cov;
    clean_date_parse(text, n, iso, &cov);
    nahr_buf_free(&out);
    nahr_buf_free(&fixed);
    nahr_doc_free(d);
    return 0;
}
