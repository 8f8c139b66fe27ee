/* config.c - the libconfig pipeline file: validation before anything runs,
 * and the option accessors plugins use during init. */
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- suggestions ---- */
const char *nahr__nearest(const char *key, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = nahr__levenshtein(key, names[i]);
        if (d < bestd) {
            bestd = d;
            best = names[i];
        }
    }
    size_t len = strlen(key);
    return best && bestd <= (len < 5 ? 1 : len / 3 + 1) ? best : NULL;
}

/* Appends s (n bytes) with its control characters written as \n, \r, \t
 * or \xNN: messages echo values from the config file, and one message
 * must stay one "FILE:LINE: ..." line (fuzz_config found a "format" value
 * holding a newline splitting its message in two). Returns 0 or
 * NAHR_ENOMEM. */
int nahr__buf_put_printable(nahr_buf *b, const char *s, size_t n)
{
    int rc = 0;
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != 0x7F)
            continue;
        rc |= nahr_buf_append(b, s + from, i - from);
        if (ch == '\n' || ch == '\r' || ch == '\t')
            rc |= nahr_buf_printf(b, "\\%c", ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't');
        else
            rc |= nahr_buf_printf(b, "\\x%02X", ch);
        from = i + 1;
    }
    rc |= nahr_buf_append(b, s + from, n - from);
    return rc ? NAHR_ENOMEM : 0;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            return true;
    return false;
}

/* One message line "FILE:LINE: ...", the message made printable. FILE is the
 * file that holds the setting: the config, or a file it @includes. */
#define ERRAT(errbuf, file, line, ...)                                                                          \
    do {                                                                                                        \
        nahr_buf msg_ = {0};                                                                                    \
        nahr_buf_printf(&msg_, __VA_ARGS__);                                                                    \
        nahr_buf_printf(errbuf, "%s:%d: ", (file), (line));                                                     \
        nahr__buf_put_printable(errbuf, msg_.data ? msg_.data : "", msg_.len);                                  \
        nahr_buf_putc(errbuf, '\n');                                                                            \
        nahr_buf_free(&msg_);                                                                                   \
        nerr++;                                                                                                 \
    } while (0)
/* ... at setting S */
#define ERRS(errbuf, s, ...) ERRAT(errbuf, src_file(c, (s)), config_setting_source_line(s), __VA_ARGS__)

/* The file holding setting s: libconfig names included files; the top
 * config, parsed from memory, has no name there. */
static const char *src_file(const nahr_config *c, const config_setting_t *s)
{
    const char *f = config_setting_source_file((config_setting_t *)s);
    return f ? f : c->file;
}

static const char *type_name(int t)
{
    switch (t) {
    case CONFIG_TYPE_GROUP: return "group";
    case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "integer";
    case CONFIG_TYPE_FLOAT: return "float";
    case CONFIG_TYPE_STRING: return "string";
    case CONFIG_TYPE_BOOL: return "boolean";
    case CONFIG_TYPE_ARRAY: return "array";
    case CONFIG_TYPE_LIST: return "list";
    default: return "unknown";
    }
}

static const char *opt_type_name(nahr_opt_type t)
{
    switch (t) {
    case NAHR_OPT_STRING: return "string";
    case NAHR_OPT_INT: return "integer";
    case NAHR_OPT_FLOAT: return "float";
    case NAHR_OPT_BOOL: return "boolean";
    case NAHR_OPT_LIST: return "list of strings";
    }
    return "?";
}

/* "a,b" or a libconfig list/array of strings or one string -> vector */
static int split_list(const char *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char **v = realloc(*out, (*n + 1) * sizeof **out);
        if (!v)
            return NAHR_ENOMEM;
        *out = v;
        if (!(v[*n] = strndup(s, len)))
            return NAHR_ENOMEM;
        (*n)++;
        s = e ? e + 1 : NULL;
    }
    return NAHR_OK;
}

static bool in_allowed(const char *allowed, const char *v)
{
    size_t vl = strlen(v);
    const char *p = allowed;
    while (p) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == vl && strncmp(p, v, len) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

/* "min:max" range check; returns false and fills why when out of range */
static bool in_range(const char *allowed, double x, char *why, size_t whyn)
{
    const char *colon = allowed ? strchr(allowed, ':') : NULL;
    if (!colon)
        return true;
    char *end;
    double lo = strtod(allowed, &end);
    bool has_lo = end != allowed && end <= colon;
    double hi = strtod(colon + 1, &end);
    bool has_hi = end != colon + 1;
    if ((has_lo && x < lo) || (has_hi && x > hi)) {
        snprintf(why, whyn, "must be in [%.*s, %s]", has_lo ? (int)(colon - allowed) : 4,
                 has_lo ? allowed : "-inf", has_hi ? colon + 1 : "inf");
        return false;
    }
    return true;
}

/* Sets v from the option's default text. */
static int apply_default(opt_value *v)
{
    const char *d = v->opt->default_value;
    switch (v->opt->type) {
    case NAHR_OPT_STRING: v->str = d ? strdup(d) : NULL; return d && !v->str ? NAHR_ENOMEM : NAHR_OK;
    case NAHR_OPT_INT: v->i = d ? strtoll(d, NULL, 0) : 0; return NAHR_OK;
    case NAHR_OPT_FLOAT: v->f = d ? strtod(d, NULL) : 0; return NAHR_OK;
    case NAHR_OPT_BOOL: v->b = d && (strcmp(d, "true") == 0 || strcmp(d, "1") == 0); return NAHR_OK;
    case NAHR_OPT_LIST: return split_list(d, &v->list, &v->nlist);
    }
    return NAHR_EINVAL;
}

/* Reads one option from its config setting; message in why on type/value error. */
static int read_option(opt_value *v, config_setting_t *s, char *why, size_t whyn)
{
    int t = config_setting_type(s);
    const nahr_option *o = v->opt;
    v->set = true;
    v->line = config_setting_source_line(s);
    v->file = config_setting_source_file(s);
    switch (o->type) {
    case NAHR_OPT_STRING:
        if (t != CONFIG_TYPE_STRING)
            break;
        free(v->str);
        v->str = strdup(config_setting_get_string(s));
        if (o->allowed && !in_allowed(o->allowed, v->str)) {
            snprintf(why, whyn, "value \"%s\" is not one of: %s", v->str, o->allowed);
            return NAHR_ECONFIG;
        }
        return NAHR_OK;
    case NAHR_OPT_INT:
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
            break;
        v->i = config_setting_get_int64(s);
        return in_range(o->allowed, (double)v->i, why, whyn) ? NAHR_OK : NAHR_ECONFIG;
    case NAHR_OPT_FLOAT:
        if (t == CONFIG_TYPE_FLOAT)
            v->f = config_setting_get_float(s);
        else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
            v->f = (double)config_setting_get_int64(s);
        else
            break;
        if (!isfinite(v->f)) {
            snprintf(why, whyn, "must be a finite number");
            return NAHR_ECONFIG;
        }
        return in_range(o->allowed, v->f, why, whyn) ? NAHR_OK : NAHR_ECONFIG;
    case NAHR_OPT_BOOL:
        if (t != CONFIG_TYPE_BOOL)
            break;
        v->b = config_setting_get_bool(s);
        return NAHR_OK;
    case NAHR_OPT_LIST:
        nahr__strv_free(v->list, v->nlist);
        v->list = NULL;
        v->nlist = 0;
        if (t == CONFIG_TYPE_STRING) {
            v->list = malloc(sizeof *v->list);
            v->list[0] = strdup(config_setting_get_string(s));
            v->nlist = 1;
            return NAHR_OK;
        }
        if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
            break;
        v->nlist = (size_t)config_setting_length(s);
        v->list = calloc(v->nlist ? v->nlist : 1, sizeof *v->list);
        for (size_t i = 0; i < v->nlist; i++) {
            config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                snprintf(why, whyn, "item %zu must be a string, not a %s", i + 1, type_name(config_setting_type(e)));
                return NAHR_ECONFIG;
            }
            v->list[i] = strdup(config_setting_get_string(e));
        }
        return NAHR_OK;
    }
    snprintf(why, whyn, "must be a %s, not a %s", opt_type_name(o->type), type_name(t));
    return NAHR_ECONFIG;
}

static const char *const pipeline_keys[] = {"workers",     "on_error",    "dead_letter", "max_article_bytes",
                                            "queue_depth", "plugin_path", "utf8",        "input",
                                            "stages",      "progress",    "log_level",   "log_format",
                                            "encoding"};
#define NPIPELINE_KEYS (sizeof pipeline_keys / sizeof *pipeline_keys)

static char *dir_of(const char *file)
{
    char *abs = realpath(file, NULL);
    if (!abs)
        return strdup(".");
    char *slash = strrchr(abs, '/');
    if (slash == abs)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    return abs;
}

static char *path_in(const char *dir, const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, p);
    return s;
}

/* A string or a list/array of strings -> vector (caller frees with nahr__strv_free). */
static int read_strings(config_setting_t *s, char ***v, size_t *n)
{
    bool one = config_setting_type(s) == CONFIG_TYPE_STRING;
    if (!one && (!config_setting_is_aggregate(s) || config_setting_is_group(s)))
        return NAHR_EINVAL;
    *n = one ? 1 : (size_t)config_setting_length(s);
    *v = calloc(*n ? *n : 1, sizeof **v);
    if (!*v)
        return NAHR_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        config_setting_t *e = one ? s : config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return NAHR_EINVAL;
        if (!((*v)[i] = strdup(config_setting_get_string(e))))
            return NAHR_ENOMEM;
    }
    return NAHR_OK;
}

static int load_stage(nahr_config *c, nahr_stage *st, config_setting_t *g, nahr_buf *err)
{
    int nerr = 0;
    int line = config_setting_source_line(g);
    st->line = line;
    st->cfg_file = src_file(c, g);
    st->cfg_dir = c->dir;
    st->workers = c->workers;
    if (!config_setting_is_group(g)) {
        ERRAT(err, st->cfg_file, line, "stage %d: must be a group like { plugin = \"export\"; }", st->index);
        return nerr;
    }
    const char *plugin = NULL;
    config_setting_t *ps = config_setting_get_member(g, "plugin");
    if (!ps || !(plugin = config_setting_get_string(ps))) {
        ERRAT(err, st->cfg_file, line, "stage %d: missing 'plugin = \"NAME\";'", st->index);
        return nerr;
    }
    st->plugin = strdup(plugin);
    const char *name = NULL;
    config_setting_t *ns = config_setting_get_member(g, "name");
    if (ns && !(name = config_setting_get_string(ns)))
        ERRS(err, ns, "stage %d (%s): 'name' must be a string", st->index, plugin);
    /* the label goes into every message and log line of the stage */
    if (name && has_control(name)) {
        ERRS(err, ns, "stage %d (%s): 'name' must not hold control characters: \"%s\"",
            st->index, plugin, name);
        name = NULL;
    }
    nahr_buf perr = {0};
    if (nahr__plugin_open(plugin, c->search_dirs, c->nsearch, &st->dl, &st->desc, &st->so_path, &perr) < 0) {
        ERRS(err, ps, "stage %d (%s): %s", st->index, plugin, perr.data);
        nahr_buf_free(&perr);
        return nerr;
    }
    nahr_buf_free(&perr);
    st->label = strdup(name ? name : st->desc->name);
    /* data dir: <dir of .so>/<plugin name> */
    char *dir = dir_of(st->so_path);
    st->data_dir = path_in(dir, st->desc->name);
    free(dir);

    size_t nopt = 0;
    for (const nahr_option *o = st->desc->options; o && o->name; o++)
        nopt++;
    st->opts = calloc(nopt ? nopt : 1, sizeof *st->opts);
    st->nopts = nopt;
    const char **names = calloc(nopt + 2, sizeof *names);
    for (size_t i = 0; i < nopt; i++) {
        st->opts[i].opt = &st->desc->options[i];
        names[i] = st->desc->options[i].name;
        apply_default(&st->opts[i]);
    }
    names[nopt] = "name";
    names[nopt + 1] = "plugin";
    int n = config_setting_length(g);
    for (int k = 0; k < n; k++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
        const char *key = config_setting_name(s);
        if (strcmp(key, "plugin") == 0 || strcmp(key, "name") == 0)
            continue;
        opt_value *v = NULL;
        for (size_t i = 0; i < nopt; i++)
            if (strcmp(st->opts[i].opt->name, key) == 0)
                v = &st->opts[i];
        if (!v) {
            const char *near = nahr__nearest(key, names, nopt + 2);
            nahr_buf valid = {0};
            for (size_t i = 0; i < nopt; i++)
                nahr_buf_printf(&valid, "%s%s", i ? ", " : "", names[i]);
            ERRS(err, s, "stage %d (%s): unknown option '%s'%s%s%s; valid options: %s", st->index, st->label, key,
                near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "",
                valid.data ? valid.data : "(none)");
            nahr_buf_free(&valid);
            continue;
        }
        char why[256];
        if (read_option(v, s, why, sizeof why) < 0)
            ERRS(err, s, "stage %d (%s): option '%s': %s", st->index, st->label, key, why);
    }
    free(names);
    return nerr;
}

/* Stage order rules: ORDERED_PRE stages first, ORDERED_POST stages last, and
 * no text rewriting after a stage that adds spans. */
static int check_order(nahr_config *c, nahr_buf *err)
{
    int nerr = 0;
    for (size_t i = 0; i < c->nstages; i++) {
        nahr_stage *a = &c->stages[i];
        if (!a->desc)
            continue;
        for (size_t j = i + 1; j < c->nstages; j++) {
            nahr_stage *b = &c->stages[j];
            if (!b->desc)
                continue;
            if ((a->desc->flags & NAHR_PLUGIN_ADDS_SPANS) && (b->desc->flags & NAHR_PLUGIN_REWRITES_TEXT))
                ERRAT(err, b->cfg_file, b->line,
                    "stage %d (%s) rewrites the text but comes after stage %d (%s), which adds spans: "
                    "move it before",
                    b->index, b->label, a->index, a->label);
            if (b->desc->thread_model == NAHR_THREAD_ORDERED_PRE && a->desc->thread_model != NAHR_THREAD_ORDERED_PRE)
                ERRAT(err, b->cfg_file, b->line,
                    "stage %d (%s) runs in input order before the workers, so it cannot come after "
                    "stage %d (%s): move it up",
                    b->index, b->label, a->index, a->label);
            if (a->desc->thread_model == NAHR_THREAD_ORDERED_POST && b->desc->thread_model != NAHR_THREAD_ORDERED_POST)
                ERRAT(err, b->cfg_file, b->line,
                    "stage %d (%s) runs in the workers, so it cannot come after stage %d (%s), which runs "
                    "after them in input order (sinks go last)",
                    b->index, b->label, a->index, a->label);
        }
    }
    return nerr;
}

int nahr__config_load(const char *file, nahr_config **out, nahr_buf *err)
{
    int nerr = 0;
    nahr_config *c = calloc(1, sizeof *c);
    if (!c)
        return NAHR_ENOMEM;
    *out = c;
    c->file = strdup(file);
    c->dir = dir_of(file);
    c->workers = 2;
    c->max_article_bytes = 16u << 20;
    c->utf8_repair = true;
    c->progress = false;
    c->dead_letter = strdup("rejected.jsonl");
    config_init(&c->cfg);
    char *text = NULL;
    int trc = nahr__config_text(file, &text, err);
    if (trc < 0)
        return trc;
    int parsed = config_read_string(&c->cfg, text);
    free(text);
    if (parsed != CONFIG_TRUE) {
        nahr_buf_printf(err, "%s:%d: syntax error: %s\n", config_error_file(&c->cfg) ? config_error_file(&c->cfg) : file,
                        config_error_line(&c->cfg), config_error_text(&c->cfg));
        return NAHR_ECONFIG;
    }
    config_setting_t *root = config_root_setting(&c->cfg);
    for (int k = 0; k < config_setting_length(root); k++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)k);
        if (strcmp(config_setting_name(s), "pipeline") != 0)
            ERRS(err, s, "unknown top-level setting '%s' (everything goes in 'pipeline: { ... };')",
                config_setting_name(s));
    }
    config_setting_t *p = config_lookup(&c->cfg, "pipeline");
    if (!p || !config_setting_is_group(p)) {
        nahr_buf_printf(err, "%s:1: missing 'pipeline: { stages = ( ... ); };' group\n", file);
        return NAHR_ECONFIG;
    }
    char **extra_dirs = NULL;
    size_t nextra = 0;
    for (int k = 0; k < config_setting_length(p); k++) {
        config_setting_t *s = config_setting_get_elem(p, (unsigned)k);
        const char *key = config_setting_name(s);
        int t = config_setting_type(s);
        size_t ki = 0;
        while (ki < NPIPELINE_KEYS && strcmp(pipeline_keys[ki], key) != 0)
            ki++;
        if (ki == NPIPELINE_KEYS) {
            const char *near = nahr__nearest(key, pipeline_keys, NPIPELINE_KEYS);
            ERRS(err, s, "pipeline: unknown key '%s'%s%s%s; valid keys: workers, on_error, dead_letter, "
                           "max_article_bytes, queue_depth, plugin_path, utf8, encoding, progress, log_level, log_format, input, stages",
                key, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            continue;
        }
        if (strcmp(key, "workers") == 0 || strcmp(key, "queue_depth") == 0 || strcmp(key, "max_article_bytes") == 0) {
            if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
                ERRS(err, s, "pipeline: '%s' must be an integer, not a %s", key, type_name(t));
                continue;
            }
            long long v = config_setting_get_int64(s);
            if (key[0] == 'w') {
                if (v < 0 || v > 1024)
                    ERRS(err, s, "pipeline: 'workers' must be in [0, 1024] (0 = number of cores), not %lld", v);
                else
                    c->workers = (int)v;
            } else if (key[0] == 'q') {
                if (v < 1 || v > 65536)
                    ERRS(err, s, "pipeline: 'queue_depth' must be in [1, 65536], not %lld", v);
                else
                    c->queue_depth = (int)v;
            } else {
                if (v < 1024 || v > (1ll << 31))
                    ERRS(err, s, "pipeline: 'max_article_bytes' must be in [1024, 2147483648], not %lld", v);
                else
                    c->max_article_bytes = (size_t)v;
            }
        } else if (strcmp(key, "encoding") == 0) {
            const char *v = config_setting_get_string(s);
            int kind = v ? nahr__encoding_kind(v) : -1;
            if (!v)
                ERRS(err, s, "pipeline: 'encoding' must be a string, not a %s", type_name(t));
            else if (kind == -2)
                ERRS(err, s, "pipeline: 'encoding' \"%s\" does not keep ASCII bytes as ASCII, so records "
                               "cannot be split in it (UTF-16/UTF-32 files are recognised by their byte-order mark)", v);
            else if (kind < 0)
                ERRS(err, s, "pipeline: 'encoding' \"%s\" is not an encoding iconv knows "
                               "(e.g. \"UTF-8\", \"WINDOWS-1256\", \"ISO-8859-6\"; `iconv -l` lists them)", v);
            else if (kind != 1 && !(c->encoding = strdup(v)))
                ERRS(err, s, "pipeline: out of memory");
        } else if (strcmp(key, "on_error") == 0 || strcmp(key, "utf8") == 0 || strcmp(key, "dead_letter") == 0 ||
                   strcmp(key, "log_level") == 0 || strcmp(key, "log_format") == 0) {
            const char *v = config_setting_get_string(s);
            if (!v) {
                ERRS(err, s, "pipeline: '%s' must be a string, not a %s", key, type_name(t));
                continue;
            }
            if (strcmp(key, "on_error") == 0) {
                if (strcmp(v, "dead-letter") && strcmp(v, "fail"))
                    ERRS(err, s, "pipeline: 'on_error' must be \"dead-letter\" or \"fail\", not \"%s\"", v);
                c->on_error_fail = strcmp(v, "fail") == 0;
            } else if (strcmp(key, "utf8") == 0) {
                if (strcmp(v, "repair") && strcmp(v, "reject"))
                    ERRS(err, s, "pipeline: 'utf8' must be \"repair\" or \"reject\", not \"%s\"", v);
                c->utf8_repair = strcmp(v, "reject") != 0;
            } else if (strcmp(key, "log_format") == 0) {
                if (strcmp(v, "text") && strcmp(v, "kv"))
                    ERRS(err, s, "pipeline: 'log_format' must be \"text\" or \"kv\", not \"%s\"", v);
                else
                    nahr__log_config_format(strcmp(v, "kv") == 0); /* run --log-format wins */
            } else if (strcmp(key, "log_level") == 0) {
                static const char *const lv[] = {"error", "warning", "info", "debug"};
                int found = -1;
                for (int i = 0; i < 4; i++)
                    if (strcmp(v, lv[i]) == 0)
                        found = i;
                if (found < 0)
                    ERRS(err, s, "pipeline: 'log_level' must be error, warning, info or debug, not \"%s\"", v);
                else
                    nahr_log_set_level(found);
            } else {
                if (!*v || strcmp(v, "-") == 0)
                    ERRS(err, s, "pipeline: 'dead_letter' must be a file path (stdout carries data only)");
                free(c->dead_letter);
                c->dead_letter = strdup(v);
            }
        } else if (strcmp(key, "progress") == 0) {
            if (t != CONFIG_TYPE_BOOL)
                ERRS(err, s, "pipeline: 'progress' must be true or false, not a %s", type_name(t));
            else
                c->progress = config_setting_get_bool(s);
        } else if (strcmp(key, "plugin_path") == 0) {
            char **v = NULL;
            size_t n = 0;
            if (read_strings(s, &v, &n) < 0) {
                ERRS(err, s, "pipeline: 'plugin_path' must be a string or a list of strings");
            } else {
                for (size_t i = 0; i < n; i++) {
                    char *pth = path_in(c->dir, v[i]);
                    char **nv = realloc(extra_dirs, (nextra + 1) * sizeof *nv);
                    if (nv) {
                        extra_dirs = nv;
                        extra_dirs[nextra++] = pth;
                    }
                }
            }
            nahr__strv_free(v, n);
        } else if (strcmp(key, "input") == 0) {
            if (!config_setting_is_group(s)) {
                ERRS(err, s, "pipeline: 'input' must be a group like { type = \"files\"; paths = [ \"dir/\" ]; }");
                continue;
            }
            const char *itype = NULL;
            config_setting_lookup_string(s, "type", &itype);
            if (itype && strcmp(itype, "nats") == 0) {
                c->input_type = strdup("nats");
                c->input_setting = s;
                nerr += nahr__nats_check(s, src_file(c, s), err);
                continue;
            }
            for (int j = 0; j < config_setting_length(s); j++) {
                config_setting_t *is = config_setting_get_elem(s, (unsigned)j);
                const char *ik = config_setting_name(is);
                if (strcmp(ik, "type") == 0) {
                    const char *v = config_setting_get_string(is);
                    if (!v || (strcmp(v, "files") && strcmp(v, "stdin")))
                        ERRS(err, is, "input: 'type' must be \"files\", \"stdin\" or \"nats\"");
                    else
                        c->input_type = strdup(v);
                } else if (strcmp(ik, "paths") == 0) {
                    char **v = NULL;
                    size_t n = 0;
                    if (read_strings(is, &v, &n) < 0) {
                        ERRS(err, is, "input: 'paths' must be a string or a list of strings");
                        nahr__strv_free(v, n);
                    } else {
                        for (size_t i = 0; i < n; i++) {
                            char *pth = strcmp(v[i], "-") == 0 ? strdup("-") : path_in(c->dir, v[i]);
                            free(v[i]);
                            v[i] = pth;
                        }
                        c->inputs = v;
                        c->ninputs = n;
                    }
                } else {
                    ERRS(err, is, "input: unknown key '%s'; valid keys: type, paths", ik);
                }
            }
        }
    }
    if (c->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = n > 0 ? (int)n : 1;
    }
    if (nahr__search_path(extra_dirs, nextra, &c->search_dirs, &c->nsearch) < 0) {
        nahr__strv_free(extra_dirs, nextra);
        return NAHR_ENOMEM;
    }
    nahr__strv_free(extra_dirs, nextra);

    config_setting_t *stages = config_setting_get_member(p, "stages");
    if (!stages) {
        ERRS(err, p, "pipeline: missing 'stages = ( { plugin = \"...\"; }, ... );'");
    } else if (!config_setting_is_list(stages)) {
        ERRS(err, stages, "pipeline: 'stages' must be a list: ( { ... }, { ... } )");
    } else if (config_setting_length(stages) == 0) {
        ERRS(err, stages, "pipeline: 'stages' is empty");
    } else {
        c->nstages = (size_t)config_setting_length(stages);
        c->stages = calloc(c->nstages, sizeof *c->stages);
        for (size_t i = 0; i < c->nstages; i++) {
            c->stages[i].index = (int)i + 1;
            nerr += load_stage(c, &c->stages[i], config_setting_get_elem(stages, (unsigned)i), err);
        }
        nerr += check_order(c, err);
    }
    return nerr ? NAHR_ECONFIG : NAHR_OK;
}

void nahr__config_free(nahr_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nstages; i++) {
        nahr_stage *s = &c->stages[i];
        for (size_t k = 0; k < s->nopts; k++) {
            free(s->opts[k].str);
            nahr__strv_free(s->opts[k].list, s->opts[k].nlist);
        }
        free(s->opts);
        free(s->plugin);
        free(s->label);
        free(s->so_path);
        free(s->data_dir);
        free((void *)s->desc); /* the loader's copy of the descriptor */
        /* plugins are not dlclose()d: a plugin's threads or atexit handlers may still refer to it */
    }
    free(c->stages);
    nahr__strv_free(c->search_dirs, c->nsearch);
    nahr__strv_free(c->inputs, c->ninputs);
    free(c->input_type);
    free(c->dead_letter);
    free(c->encoding);
    config_destroy(&c->cfg);
    free(c->file);
    free(c->dir);
    free(c);
}

/* ---- stage accessors (public API) ---- */
static const opt_value *find_opt(const nahr_stage *s, const char *key, nahr_opt_type t)
{
    for (size_t i = 0; i < s->nopts; i++)
        if (strcmp(s->opts[i].opt->name, key) == 0)
            return s->opts[i].opt->type == t ? &s->opts[i] : NULL;
    nahr_log(NAHR_LOG_WARN, "plugin %s asked for option '%s', which is not in its option table", s->label, key);
    return NULL;
}

const char *nahr_stage_str(const nahr_stage *s, const char *key)
{
    const opt_value *v = find_opt(s, key, NAHR_OPT_STRING);
    return v ? v->str : NULL;
}

int64_t nahr_stage_int(const nahr_stage *s, const char *key)
{
    const opt_value *v = find_opt(s, key, NAHR_OPT_INT);
    return v ? v->i : 0;
}

double nahr_stage_float(const nahr_stage *s, const char *key)
{
    const opt_value *v = find_opt(s, key, NAHR_OPT_FLOAT);
    return v ? v->f : 0;
}

int nahr_stage_bool(const nahr_stage *s, const char *key)
{
    const opt_value *v = find_opt(s, key, NAHR_OPT_BOOL);
    return v ? v->b : 0;
}

size_t nahr_stage_list_len(const nahr_stage *s, const char *key)
{
    const opt_value *v = find_opt(s, key, NAHR_OPT_LIST);
    return v ? v->nlist : 0;
}

const char *nahr_stage_list_at(const nahr_stage *s, const char *key, size_t i)
{
    const opt_value *v = find_opt(s, key, NAHR_OPT_LIST);
    return v && i < v->nlist ? v->list[i] : NULL;
}

int nahr_stage_is_set(const nahr_stage *s, const char *key)
{
    for (size_t i = 0; i < s->nopts; i++)
        if (strcmp(s->opts[i].opt->name, key) == 0)
            return s->opts[i].set;
    return 0;
}

int nahr_stage_path(const nahr_stage *s, const char *path, int user_given, char *buf, size_t bufsize)
{
    int n;
    if (!path)
        return NAHR_EINVAL;
    if (path[0] == '/')
        n = snprintf(buf, bufsize, "%s", path);
    else
        n = snprintf(buf, bufsize, "%s/%s", user_given ? s->cfg_dir : s->data_dir, path);
    return n < 0 || (size_t)n >= bufsize ? NAHR_ELIMIT : NAHR_OK;
}

const char *nahr_stage_data_dir(const nahr_stage *s) { return s->data_dir; }
const char *nahr_stage_plugin_name(const nahr_stage *s) { return s->desc ? s->desc->name : s->plugin; }
int nahr_stage_index(const nahr_stage *s) { return s->index; }
int nahr_stage_workers(const nahr_stage *s) { return s->workers; }

int nahr_stage_error(const nahr_stage *s, const char *key, const char *fmt, ...)
{
    nahr_stage *m = (nahr_stage *)s; /* the error slot is the one mutable part */
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = s->line;
    const char *file = s->cfg_file;
    if (key)
        for (size_t i = 0; i < s->nopts; i++)
            if (strcmp(s->opts[i].opt->name, key) == 0 && s->opts[i].set) {
                line = s->opts[i].line;
                file = s->opts[i].file ? s->opts[i].file : s->cfg_file;
            }
    /* the plugin's message may echo an option's value: one line (nahr__buf_put_printable) */
    nahr_buf pm = {0};
    nahr__buf_put_printable(&pm, msg, strlen(msg));
    if (key)
        snprintf(m->err, sizeof m->err, "%s:%d: stage %d (%s): option '%s': %s", file, line, s->index,
                 s->label, key, pm.data ? pm.data : "");
    else
        snprintf(m->err, sizeof m->err, "%s:%d: stage %d (%s): %s", s->cfg_file, line, s->index, s->label,
                 pm.data ? pm.data : "");
    nahr_buf_free(&pm);
    return NAHR_ECONFIG;
}
