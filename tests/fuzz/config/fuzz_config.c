/* fuzz_config.c - libFuzzer harness for the pipeline config: arbitrary
 * text as a config file through nahr__config_load (libconfig syntax,
 * pipeline keys, stage list, each plugin's option table, stage order) and,
 * when it loads, nahr__check_init (what `nahr check` runs: every stage's
 * init() with its options, so each plugin's own option checking).
 * Build and run: README.md here.
 *
 * Properties:
 *  - load gives NAHR_OK with no error text, or NAHR_ECONFIG with error text
 *    whose every line names the file and a line number ("FILE:N: ...");
 *  - a loaded config has stages, each with its plugin's descriptor and
 *    options; check_init gives OK, or an error naming the file and line;
 *  - nothing crashes, leaks (ASan) or hangs (libFuzzer -timeout).
 *
 * Plugins: the build's own (NAHR_BUILD_DIR/plugins, /testplugins: the
 * ordinary gcc builds, dlopen()ed). dlopen() is wrapped here so a config
 * cannot load any other shared object (plugin = "/usr/lib/...so", or a
 * plugin_path to a system folder). The harness works in a private temporary
 * folder (check_init runs with it as the working directory, so export
 * stages create their files there); inputs that would make
 * check_init touch files outside it (an option value starting with '/' or
 * holding "..", an `@include`: loaded, its files vetted, not initialised), connect to a server (export to postgres or
 * nats), run a nats input or initialise entities or sentiment with their
 * default options (seconds of data loading, checked elsewhere) are only
 * loaded, not initialised.
 *
 * libconfig 1.5 leaks a string token at some syntax errors (strbuf_append,
 * in the library): run with LSAN_OPTIONS=suppressions=lsan.supp (here). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../fuzz_common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

static char g_build[PATH_MAX];
static char g_tmp[PATH_MAX];
static char g_cfg[PATH_MAX + 16];

static const char *const allowed_so[] = {
    "plugins/clean.so",       "plugins/clean_repeats.so", "plugins/entities.so",     "plugins/sentiment.so",
    "plugins/export.so",      "testplugins/tp_good.so",   "testplugins/tp_badabi.so", "testplugins/tp_nosym.so",
    "testplugins/tp_initfail.so", "testplugins/tp_rewrite.so", "testplugins/tp_prepsink.so",
    "testplugins/tp_preppost.so",
};

/* Only the build's plugins (and what they need, loaded by the dynamic
 * linker itself, not through this symbol). */
void *dlopen(const char *file, int mode)
{
    static void *(*real)(const char *, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "dlopen");
    if (!file)
        return real(file, mode);
    char *abs = realpath(file, NULL);
    bool ok = false;
    for (size_t i = 0; abs && !ok && i < sizeof allowed_so / sizeof *allowed_so; i++) {
        char want[PATH_MAX + 64];
        snprintf(want, sizeof want, "%s/%s", g_build, allowed_so[i]);
        ok = strcmp(abs, want) == 0;
    }
    free(abs);
    return ok ? real(file, mode) : NULL;
}

static void clean_tmp(void)
{
    DIR *d = opendir(g_tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char p[PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", g_tmp, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

static void cleanup_at_exit(void)
{
    clean_tmp();
    rmdir(g_tmp);
}

static void setup(void)
{
    const char *b = getenv("NAHR_BUILD_DIR");
    char *abs = realpath(b && *b ? b : "build", NULL);
    if (!abs) {
        fprintf(stderr, "fuzz_config: no build folder (set NAHR_BUILD_DIR to the cmake build with the plugins)\n");
        abort();
    }
    snprintf(g_build, sizeof g_build, "%s", abs);
    free(abs);
    char pp[2 * PATH_MAX + 32];
    snprintf(pp, sizeof pp, "%s/plugins:%s/testplugins", g_build, g_build);
    setenv("NAHR_PLUGIN_PATH", pp, 1);
    const char *t = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/nahr_fuzz_config.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(g_tmp))
        abort();
    snprintf(g_cfg, sizeof g_cfg, "%s/fuzz.cfg", g_tmp);
    atexit(cleanup_at_exit);
}

/* Every line of err is "FILE:N: message" with N a number; FILE NULL: any
 * file (a config with @include names the included file of a setting). */
static void check_err_lines(const char *err, size_t len, const char *file)
{
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(err + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - err) : len;
        const char *l = err + i;
        size_t fl = 0;
        if (file) {
            fl = strlen(file);
            FUZZ_CHECK(e - i > fl + 2 && memcmp(l, file, fl) == 0 && l[fl] == ':',
                       "error line without the file: %.*s", (int)(e - i), l);
        } else { /* the first ":N:" ends the file name */
            while (fl < e - i && !(l[fl] == ':' && fl + 1 < e - i && l[fl + 1] >= '0' && l[fl + 1] <= '9'))
                fl++;
            FUZZ_CHECK(fl > 0 && fl < e - i, "error line without FILE:LINE: %.*s", (int)(e - i), l);
        }
        size_t k = fl + 1;
        while (i + k < e && l[k] >= '0' && l[k] <= '9')
            k++;
        FUZZ_CHECK(k > fl + 1 && i + k < e && l[k] == ':', "error line without a line number: %.*s", (int)(e - i),
                   l);
        i = e + 1;
    }
}

/* Would check_init reach outside the folder or the machine? */
static bool init_is_safe(const nahr_config *c)
{
    if (c->input_type && strcmp(c->input_type, "nats") == 0)
        return false;
    for (size_t i = 0; i < c->nstages; i++) {
        const nahr_stage *s = &c->stages[i];
        for (size_t k = 0; k < s->nopts; k++) {
            const opt_value *v = &s->opts[k];
            if (!v->set)
                continue;
            for (size_t j = 0; j < (v->opt->type == NAHR_OPT_LIST ? v->nlist : 1); j++) {
                const char *x = v->opt->type == NAHR_OPT_LIST ? v->list[j] : v->opt->type == NAHR_OPT_STRING ? v->str : NULL;
                if (x && (x[0] == '/' || strstr(x, "..")))
                    return false;
            }
        }
        /* entities and sentiment load megabytes of data in init(): only
         * when an option of theirs is set (their defaults are checked by
         * the CLI test of configs/default.cfg) */
        if (s->desc && (strcmp(s->desc->name, "entities") == 0 || strcmp(s->desc->name, "sentiment") == 0)) {
            bool any = false;
            for (size_t k = 0; k < s->nopts; k++)
                any |= s->opts[k].set;
            if (!any)
                return false;
        }
        if (s->desc && strcmp(s->desc->name, "export") == 0) {
            const char *f = nahr_stage_str(s, "format");
            if (f && strcmp(f, "jsonl") && strcmp(f, "csv") && strcmp(f, "sqlite"))
                return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup();
        ready = true;
    }
    /* @include can name any file: such a config is loaded (nahr vets each
     * included file, config_text.c) but not initialised */
    bool includes = memmem(data, size, "include", 7) != NULL;
    FILE *f = fopen(g_cfg, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    nahr_log_set_level(NAHR_LOG_ERROR);
    nahr__log_config_format(false);

    nahr_config *c = NULL;
    nahr_buf err = {0};
    int rc = nahr__config_load(g_cfg, &c, &err);
    nahr_log_set_level(NAHR_LOG_ERROR);
    nahr__log_config_format(false);
    if (getenv("FUZZ_CONFIG_VERBOSE")) /* what each input gives, for a look by hand */
        fprintf(stderr, "load: %d\n%s", rc, err.data ? err.data : "");
    if (rc == NAHR_OK) {
        FUZZ_CHECK(err.len == 0, "config loads, with error text: %s", err.data);
        FUZZ_CHECK(c->nstages > 0 && c->workers > 0, "loaded config with %zu stages, %d workers", c->nstages,
                   c->workers);
        for (size_t i = 0; i < c->nstages; i++)
            FUZZ_CHECK(c->stages[i].desc && c->stages[i].label && c->stages[i].data_dir, "stage %zu incomplete", i);
        if (!includes && init_is_safe(c)) {
            nahr_buf ierr = {0};
            /* in the folder (export paths are relative to the working
             * directory), then back: libFuzzer reads its corpus by relative
             * paths */
            int here = open(".", O_RDONLY | O_DIRECTORY);
            if (here < 0 || chdir(g_tmp) != 0)
                abort();
            rc = nahr__check_init(c, &ierr);
            if (fchdir(here) != 0)
                abort();
            close(here);
            if (getenv("FUZZ_CONFIG_VERBOSE"))
                fprintf(stderr, "check_init: %d\n%s", rc, ierr.data ? ierr.data : "");
            if (rc < 0) {
                FUZZ_CHECK(ierr.len > 0, "check_init failed without a message");
                check_err_lines(ierr.data, ierr.len, g_cfg);
            }
            nahr_buf_free(&ierr);
        }
    } else {
        FUZZ_CHECK(rc == NAHR_ECONFIG, "config_load returned %d", rc);
        FUZZ_CHECK(err.len > 0, "config refused without a message");
        check_err_lines(err.data, err.len, includes ? NULL : g_cfg);
    }
    nahr__config_free(c);
    nahr_buf_free(&err);
    clean_tmp();
    return 0;
}
