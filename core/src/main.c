/* main.c - the nahr command line. */
#include "runner.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_main[] =
    "usage: nahr COMMAND [OPTIONS]\n"
    "\n"
    "Stream news articles through a chain of plugins configured in a file.\n"
    "\n"
    "commands:\n"
    "  run -c CONFIG [INPUT...]   process articles (INPUT: file, directory or - for stdin JSONL)\n"
    "  check -c CONFIG            validate the config and every plugin option, without running\n"
    "  plugins [-v] [--json] [--markdown] [-c CONFIG]  list the plugins found (-v: with their\n"
    "                             options; --json: machine-readable, every option; --markdown:\n"
    "                             the option tables of docs/config-reference.md)\n"
    "  new-plugin NAME            write a plugin skeleton into ./NAME/ (builds against the installed SDK)\n"
    "  --version                  print the version\n"
    "  --help                     this help; 'nahr run --help' for the run options\n"
    "\n"
    "exit status: 0 all articles exported, 1 some were dead-lettered or a stage failed,\n"
    "             2 usage or configuration error (nothing processed)\n";

static const char usage_run[] =
    "usage: nahr run -c CONFIG [OPTIONS] [INPUT...]\n"
    "\n"
    "INPUT is a .txt file (one article, id = file name), a .html/.htm file (one page),\n"
    "a .jsonl file (one article per line: id, text, optional title, url, date, source;\n"
    "also .ndjson, and either compressed: .jsonl.gz, .jsonl.zst),\n"
    "a directory (read recursively in name order) or - (JSONL on stdin).\n"
    "With no INPUT, the config's pipeline.input is used.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE      pipeline configuration (required)\n"
    "  -w, --workers N        worker threads (overrides pipeline.workers; 0 = cores)\n"
    "  -d, --dead-letter FILE where failed articles go (overrides pipeline.dead_letter)\n"
    "      --encoding NAME    the input's encoding when it is not UTF-8, e.g. WINDOWS-1256\n"
    "                         or ISO-8859-6, or auto (UTF-8, else whichever legacy Arabic\n"
    "                         encoding reads as Arabic); overrides pipeline.encoding\n"
    "      --until-idle SECS  message input: exit 0 once nothing arrived for SECS seconds\n"
    "      --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
    "                         (ADDR default 127.0.0.1; PORT 0 = any free port, logged)\n"
    "      --log-format text|kv  log lines as 'nahr: LEVEL: message' (default) or as\n"
    "                         'level=LEVEL msg=\"...\" key=value ...' (journald, log shippers)\n"
    "      --progress         show a progress line on stderr even when it is not a terminal\n"
    "      --no-progress      never show the progress line\n"
    "  -q, --quiet            no summary on stderr (errors are still printed)\n"
    "  -h, --help             this help\n"
    "\n"
    "stdout carries only data (from an exporter with path \"-\"); logs go to stderr.\n"
    "SIGINT/SIGTERM: stop reading, finish the articles in flight, flush, exit.\n"
    "SIGHUP: reopen output files (for logrotate).\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "nahr: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see 'nahr --help')\n");
    return 2;
}

static int load_config(const char *path, nahr_config **c)
{
    nahr_buf err = {0};
    int rc = nahr__config_load(path, c, &err);
    if (rc < 0) {
        fputs(err.data ? err.data : "config error\n", stderr);
        nahr_buf_free(&err);
        return 2;
    }
    nahr_buf_free(&err);
    return 0;
}

static const char *thread_model_name(nahr_thread_model t)
{
    switch (t) {
    case NAHR_THREAD_SHARED: return "parallel (shared instance)";
    case NAHR_THREAD_PER_WORKER: return "parallel (instance per worker)";
    case NAHR_THREAD_ORDERED_PRE: return "ordered, before the workers";
    case NAHR_THREAD_ORDERED_POST: return "ordered, after the workers";
    }
    return "?";
}

static const char *opt_type(nahr_opt_type t)
{
    switch (t) {
    case NAHR_OPT_STRING: return "string";
    case NAHR_OPT_INT: return "int";
    case NAHR_OPT_FLOAT: return "float";
    case NAHR_OPT_BOOL: return "bool";
    case NAHR_OPT_LIST: return "list";
    }
    return "?";
}

/* s for a Markdown table cell: '|' escaped (allowed values read "a|b|c") */
static void put_cell(const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            putchar('\\');
        putchar(*s);
    }
}

static void print_plugin_markdown(const nahr_plugin *p)
{
    printf("### %s\n\n%s. Runs %s.\n\n", p->name, p->description ? p->description : "",
           thread_model_name(p->thread_model));
    if (!p->options || !p->options->name) {
        printf("No options.\n\n");
        return;
    }
    printf("| option | type | default | allowed | meaning |\n|---|---|---|---|---|\n");
    for (const nahr_option *o = p->options; o && o->name; o++) {
        printf("| `%s` | %s | `", o->name, opt_type(o->type));
        put_cell(o->default_value);
        fputs("` | ", stdout);
        put_cell(o->allowed);
        fputs(" | ", stdout);
        put_cell(o->help);
        fputs(" |\n", stdout);
    }
    putchar('\n');
}

static void print_plugin_json(const nahr_plugin *p, const char *path, bool first)
{
    static const char *const models[] = {"shared", "per_worker", "ordered_pre", "ordered_post"};
    nahr_buf b = {0};
    nahr_buf_puts(&b, first ? "  {" : ",\n  {");
    nahr_buf_puts(&b, "\"name\":");
    nahr_buf_json_string(&b, p->name, strlen(p->name));
    nahr_buf_puts(&b, ",\"version\":");
    nahr_buf_json_string(&b, p->version ? p->version : "", p->version ? strlen(p->version) : 0);
    nahr_buf_puts(&b, ",\"description\":");
    nahr_buf_json_string(&b, p->description ? p->description : "", p->description ? strlen(p->description) : 0);
    nahr_buf_puts(&b, ",\"file\":");
    nahr_buf_json_string(&b, path, strlen(path));
    nahr_buf_printf(&b, ",\"abi_version\":%u,\"thread_model\":\"%s\"", p->abi_version, models[p->thread_model]);
    nahr_buf_printf(&b, ",\"rewrites_text\":%s,\"adds_spans\":%s,\"sink\":%s,\"options\":[",
                    p->flags & NAHR_PLUGIN_REWRITES_TEXT ? "true" : "false",
                    p->flags & NAHR_PLUGIN_ADDS_SPANS ? "true" : "false", p->flags & NAHR_PLUGIN_SINK ? "true" : "false");
    for (const nahr_option *o = p->options; o && o->name; o++) {
        nahr_buf_puts(&b, o == p->options ? "{\"name\":" : ",{\"name\":");
        nahr_buf_json_string(&b, o->name, strlen(o->name));
        nahr_buf_printf(&b, ",\"type\":\"%s\",\"default\":", opt_type(o->type));
        if (o->default_value)
            nahr_buf_json_string(&b, o->default_value, strlen(o->default_value));
        else
            nahr_buf_puts(&b, "null");
        nahr_buf_puts(&b, ",\"allowed\":");
        if (o->allowed)
            nahr_buf_json_string(&b, o->allowed, strlen(o->allowed));
        else
            nahr_buf_puts(&b, "null");
        nahr_buf_puts(&b, ",\"help\":");
        nahr_buf_json_string(&b, o->help ? o->help : "", o->help ? strlen(o->help) : 0);
        nahr_buf_putc(&b, '}');
    }
    nahr_buf_puts(&b, "]}");
    fputs(b.data, stdout);
    nahr_buf_free(&b);
}

static void print_plugin(const nahr_plugin *p, const char *path, bool verbose)
{
    printf("%-12s %-8s %s\n", p->name, p->version ? p->version : "?", p->description ? p->description : "");
    if (!verbose)
        return;
    printf("    file: %s\n    runs: %s%s%s%s\n", path, thread_model_name(p->thread_model),
           p->flags & NAHR_PLUGIN_REWRITES_TEXT ? ", rewrites text" : "",
           p->flags & NAHR_PLUGIN_ADDS_SPANS ? ", adds spans" : "", p->flags & NAHR_PLUGIN_SINK ? ", sink" : "");
    if (!p->options || !p->options->name)
        printf("    options: none\n");
    for (const nahr_option *o = p->options; o && o->name; o++) {
        printf("    %-18s %-6s default %-14s %s", o->name, opt_type(o->type),
               o->default_value ? o->default_value : "(none)", o->help ? o->help : "");
        if (o->allowed)
            printf(" [%s]", o->allowed);
        putchar('\n');
    }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmd_plugins(int argc, char **argv)
{
    bool verbose = false, markdown = false, json = false;
    const char *cfg = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--markdown") == 0)
            markdown = true;
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            cfg = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: nahr plugins [-v] [--json] [--markdown] [-c CONFIG]\nLists the plugins on the search path "
                   "(config plugin_path, NAHR_PLUGIN_PATH, beside the binary, install dir).\n");
            return 0;
        } else
            return usage_error("plugins: unknown argument '%s'", argv[i]);
    }
    char **dirs = NULL;
    size_t ndirs = 0;
    nahr_config *c = NULL;
    if (cfg) {
        nahr_buf err = {0};
        if (nahr__config_load(cfg, &c, &err) < 0 && !c) {
            fputs(err.data ? err.data : "", stderr);
            nahr_buf_free(&err);
            return 2;
        }
        nahr_buf_free(&err);
        dirs = c->search_dirs;
        ndirs = c->nsearch;
    } else if (nahr__search_path(NULL, 0, &dirs, &ndirs) < 0) {
        return 2;
    }
    char **seen = NULL;
    size_t nseen = 0;
    int found = 0;
    if (json)
        fputs("[\n", stdout);
    for (size_t i = 0; i < ndirs; i++) {
        DIR *dir = opendir(dirs[i]);
        if (!dir)
            continue;
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t l = strlen(e->d_name);
            if (l > 3 && strcmp(e->d_name + l - 3, ".so") == 0) {
                names = realloc(names, (n + 1) * sizeof *names);
                names[n++] = strdup(e->d_name);
            }
        }
        closedir(dir);
        if (n)
            qsort(names, n, sizeof *names, cmp_str);
        for (size_t k = 0; k < n; k++) {
            bool dup = false;
            for (size_t s = 0; s < nseen && !dup; s++)
                dup = strcmp(seen[s], names[k]) == 0;
            if (dup) { /* an earlier directory wins, as when loading */
                free(names[k]);
                continue;
            }
            seen = realloc(seen, (nseen + 1) * sizeof *seen);
            seen[nseen++] = names[k];
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dirs[i], names[k]);
            void *dl;
            const nahr_plugin *p;
            char *so = NULL;
            nahr_buf err = {0};
            if (nahr__plugin_open(path, NULL, 0, &dl, &p, &so, &err) < 0) {
                fprintf(stderr, "nahr: warning: %s\n", err.data ? err.data : path);
            } else {
                if (json)
                    print_plugin_json(p, so, found == 0);
                else if (markdown)
                    print_plugin_markdown(p);
                else
                    print_plugin(p, so, verbose);
                found++;
                free((void *)p);
            }
            free(so);
            nahr_buf_free(&err);
        }
        free(names);
    }
    for (size_t s = 0; s < nseen; s++)
        free(seen[s]);
    free(seen);
    if (json)
        fputs(found ? "\n]\n" : "]\n", stdout);
    if (!found) {
        fprintf(stderr, "nahr: no plugins found; searched:");
        for (size_t i = 0; i < ndirs; i++)
            fprintf(stderr, " %s", dirs[i]);
        fputc('\n', stderr);
    }
    if (c)
        nahr__config_free(c);
    else
        nahr__strv_free(dirs, ndirs);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    const char *cfg = NULL;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            cfg = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: nahr check -c CONFIG\nValidates the config, loads every plugin, checks every option "
                   "and initialises each stage once (data files included), without reading any article.\n");
            return 0;
        } else
            return usage_error("check: unknown argument '%s'", argv[i]);
    }
    if (!cfg)
        return usage_error("%s", "check: missing -c CONFIG");
    nahr_config *c = NULL;
    int rc = load_config(cfg, &c);
    if (rc == 0) {
        nahr_buf err = {0};
        if (nahr__check_init(c, &err) < 0) {
            fputs(err.data ? err.data : "stage init failed\n", stderr);
            rc = 2;
        } else {
            fprintf(stderr, "%s: OK, %zu stage(s):", cfg, c->nstages);
            for (size_t i = 0; i < c->nstages; i++)
                fprintf(stderr, "%s %s", i ? " ->" : "", c->stages[i].label);
            fprintf(stderr, "; %d worker(s)\n", c->workers);
        }
        nahr_buf_free(&err);
    }
    nahr__config_free(c);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    run_options o = {.workers = -1, .progress = -1};
    const char *cfg = NULL;
    char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    size_t ninputs = 0;
    bool only_inputs = false;
    int rc = 2;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_inputs || a[0] != '-' || strcmp(a, "-") == 0) {
            inputs[ninputs++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_inputs = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_run, stdout);
            free(inputs);
            return 0;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc)
                goto missing;
            cfg = argv[++i];
        } else if (strcmp(a, "-w") == 0 || strcmp(a, "--workers") == 0) {
            if (i + 1 >= argc)
                goto missing;
            char *end;
            long w = strtol(argv[++i], &end, 10);
            if (*end || w < 0 || w > 1024) {
                rc = usage_error("run: --workers wants a number in [0, 1024], not '%s'", argv[i]);
                goto out;
            }
            o.workers = (int)w;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--dead-letter") == 0) {
            if (i + 1 >= argc)
                goto missing;
            o.dead_letter = argv[++i];
        } else if (strcmp(a, "--encoding") == 0) {
            if (i + 1 >= argc)
                goto missing;
            int kind = nahr__encoding_kind(argv[++i]);
            if (kind == -2) {
                rc = usage_error("run: --encoding: '%s' does not keep ASCII bytes as ASCII, so records cannot be "
                                 "split in it (UTF-16/UTF-32 files are recognised by their byte-order mark)", argv[i]);
                goto out;
            }
            if (kind < 0) {
                rc = usage_error("run: --encoding: '%s' is not an encoding iconv knows (e.g. UTF-8, WINDOWS-1256, "
                                 "ISO-8859-6; 'iconv -l' lists them)", argv[i]);
                goto out;
            }
            o.encoding = argv[i];
        } else if (strcmp(a, "--until-idle") == 0) {
            if (i + 1 >= argc)
                goto missing;
            char *end;
            double t = strtod(argv[++i], &end);
            if (*end || !(t > 0) || t > 1e6) {
                rc = usage_error("run: --until-idle wants a number of seconds > 0, not '%s'", argv[i]);
                goto out;
            }
            o.until_idle = t;
        } else if (strcmp(a, "--metrics") == 0) {
            if (i + 1 >= argc)
                goto missing;
            nahr_metrics_addr ma;
            nahr_buf merr = {0};
            if (nahr__metrics_parse(argv[++i], &ma, &merr) < 0) {
                rc = usage_error("run: %s", merr.data);
                nahr_buf_free(&merr);
                goto out;
            }
            if (!nahr__metrics_built_in()) {
                rc = usage_error("%s", "run: --metrics is not built in: nahr was built without libmicrohttpd "
                                       "(install libmicrohttpd-dev and rebuild)");
                goto out;
            }
            o.metrics = argv[i];
        } else if (strcmp(a, "--log-format") == 0) {
            if (i + 1 >= argc)
                goto missing;
            const char *f = argv[++i];
            if (strcmp(f, "text") != 0 && strcmp(f, "kv") != 0) {
                rc = usage_error("run: --log-format wants text or kv, not '%s'", f);
                goto out;
            }
            nahr__log_set_format(strcmp(f, "kv") == 0);
        } else if (strcmp(a, "--progress") == 0) {
            o.progress = 1;
        } else if (strcmp(a, "--no-progress") == 0) {
            o.progress = 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = true;
        } else {
            rc = usage_error("run: unknown option '%s'", a);
            goto out;
        }
    }
    if (!cfg) {
        rc = usage_error("%s", "run: missing -c CONFIG");
        goto out;
    }
    for (size_t i = 0; i < ninputs; i++) {
        struct stat st;
        if (strcmp(inputs[i], "-") != 0 && stat(inputs[i], &st) != 0) {
            rc = usage_error("run: input '%s' does not exist", inputs[i]);
            goto out;
        }
    }
    nahr_config *c = NULL;
    if ((rc = load_config(cfg, &c)) != 0) {
        nahr__config_free(c);
        goto out;
    }
    if (ninputs == 0) {
        if (c->input_type && strcmp(c->input_type, "stdin") == 0) {
            inputs[ninputs++] = (char *)"-";
        } else if (c->input_type && strcmp(c->input_type, "nats") == 0) {
            o.nats_input = c->input_setting;
        } else {
            for (size_t i = 0; i < c->ninputs; i++)
                inputs[ninputs++] = c->inputs[i];
        }
        if (ninputs == 0 && !o.nats_input) {
            nahr__config_free(c);
            rc = usage_error("%s", "run: no input: give INPUT paths (- for stdin) or set pipeline.input in the config");
            goto out;
        }
    }
    o.inputs = inputs;
    o.ninputs = ninputs;
    rc = nahr__run(c, &o);
    nahr__config_free(c);
out:
    free(inputs);
    return rc;
missing:
    free(inputs);
    return usage_error("run: option '%s' needs a value", argv[argc - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
        printf("nahr %s (plugin ABI %u)\n", nahr_version(), NAHR_ABI_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "plugins") == 0)
        return cmd_plugins(argc - 2, argv + 2);
    if (strcmp(cmd, "new-plugin") == 0) {
        if (argc != 3 || argv[2][0] == '-') {
            fputs("usage: nahr new-plugin NAME\nWrites ./NAME/: a plugin skeleton (source, cmocka test, CMakeLists.txt "
                  "using find_package(nahr), example config, README).\n", argc == 3 ? stdout : stderr);
            return argc == 3 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0) ? 0 : 2;
        }
        return nahr__new_plugin(argv[2]);
    }
    return usage_error("unknown command '%s'", cmd);
}
