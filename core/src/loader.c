/* loader.c - finding and opening plugins (dlopen), checking their ABI. */
#include "runner.h"

#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NAHR_PLUGIN_INSTALL_FULLDIR
#define NAHR_PLUGIN_INSTALL_FULLDIR "/usr/local/lib/nahr/plugins"
#endif

void nahr__strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof **v);
    if (!nv)
        return NAHR_ENOMEM;
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return NAHR_ENOMEM;
    (*n)++;
    return NAHR_OK;
}

static int push_colon_list(char ***v, size_t *n, const char *list)
{
    const char *p = list;
    while (p && *p) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            char *s = strndup(p, len);
            if (!s || strv_push(v, n, s) < 0) {
                free(s);
                return NAHR_ENOMEM;
            }
            free(s);
        }
        p = e ? e + 1 : NULL;
    }
    return NAHR_OK;
}

int nahr__search_path(char **extra, size_t nextra, char ***dirs, size_t *ndirs)
{
    char **v = NULL;
    size_t n = 0;
    int rc = NAHR_OK;
    for (size_t i = 0; i < nextra && rc == NAHR_OK; i++)
        rc = strv_push(&v, &n, extra[i]);
    const char *env = getenv("NAHR_PLUGIN_PATH");
    if (rc == NAHR_OK && env)
        rc = push_colon_list(&v, &n, env);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (rc == NAHR_OK && len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            char buf[PATH_MAX + 32];
            snprintf(buf, sizeof buf, "%s/plugins", exe); /* build tree */
            rc = strv_push(&v, &n, buf);
            /* a relocated install: <prefix>/bin/nahr, <prefix>/lib/nahr/plugins */
            snprintf(buf, sizeof buf, "%s/../lib/nahr/plugins", exe);
            char *real = realpath(buf, NULL);
            if (rc == NAHR_OK && real && strcmp(real, NAHR_PLUGIN_INSTALL_FULLDIR) != 0)
                rc = strv_push(&v, &n, real);
            free(real);
        }
    }
    if (rc == NAHR_OK)
        rc = strv_push(&v, &n, NAHR_PLUGIN_INSTALL_FULLDIR);
    if (rc < 0) {
        nahr__strv_free(v, n);
        return rc;
    }
    *dirs = v;
    *ndirs = n;
    return NAHR_OK;
}

int nahr__plugin_check(const nahr_plugin *p, const char *so_path, nahr_buf *err)
{
    if (!p) {
        nahr_buf_printf(err, "%s: %s() returned NULL", so_path, NAHR_PLUGIN_SYMBOL);
        return NAHR_EABI;
    }
    if (p->abi_version != NAHR_ABI_VERSION) {
        nahr_buf_printf(err,
                        "%s: plugin built for nahr plugin ABI version %u, but this nahr has ABI version %u "
                        "(rebuild the plugin against this nahr's headers)",
                        so_path, p->abi_version, NAHR_ABI_VERSION);
        return NAHR_EABI;
    }
    if (p->struct_size < offsetof(nahr_plugin, reserved)) {
        nahr_buf_printf(err, "%s: plugin descriptor too small (%u bytes, need at least %zu): not binary compatible",
                        so_path, p->struct_size, offsetof(nahr_plugin, reserved));
        return NAHR_EABI;
    }
    if (!p->name || !*p->name || !p->init || !p->process) {
        nahr_buf_printf(err, "%s: plugin descriptor lacks %s", so_path,
                        !p->name || !*p->name ? "a name" : !p->init ? "an init function" : "a process function");
        return NAHR_EABI;
    }
    if ((unsigned)p->thread_model > NAHR_THREAD_ORDERED_POST) {
        nahr_buf_printf(err, "%s: unknown thread model %d", so_path, (int)p->thread_model);
        return NAHR_EABI;
    }
    for (const nahr_option *o = p->options; o && o->name; o++)
        if (o->type < NAHR_OPT_STRING || o->type > NAHR_OPT_LIST) {
            nahr_buf_printf(err, "%s: option '%s' has an unknown type %d", so_path, o->name, (int)o->type);
            return NAHR_EABI;
        }
    return NAHR_OK;
}

static int open_file(const char *path, void **dl, const nahr_plugin **desc, nahr_buf *err)
{
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        nahr_buf_printf(err, "%s: cannot load plugin: %s", path, e ? e : "unknown error");
        return NAHR_EIO;
    }
    const nahr_plugin *(*fn)(void);
    *(void **)(&fn) = dlsym(h, NAHR_PLUGIN_SYMBOL);
    if (!fn) {
        nahr_buf_printf(err, "%s: not a nahr plugin: symbol '%s' not found", path, NAHR_PLUGIN_SYMBOL);
        dlclose(h);
        return NAHR_EABI;
    }
    const nahr_plugin *p = fn();
    int rc = nahr__plugin_check(p, path, err);
    if (rc < 0) {
        dlclose(h);
        return rc;
    }
    /* Work on a full-size copy: a plugin built against an older minor
     * release has a shorter descriptor, and the fields it lacks read as NULL.
     * (Kept for the life of the process, like the loaded plugin.) */
    nahr_plugin *copy = calloc(1, sizeof *copy);
    if (!copy) {
        dlclose(h);
        return NAHR_ENOMEM;
    }
    memcpy(copy, p, p->struct_size < sizeof *copy ? p->struct_size : sizeof *copy);
    *dl = h;
    *desc = copy;
    return NAHR_OK;
}

int nahr__plugin_open(const char *name, char *const *dirs, size_t ndirs, void **dl, const nahr_plugin **desc,
                      char **so_path, nahr_buf *err)
{
    char path[PATH_MAX];
    if (strchr(name, '/')) {
        if (open_file(name, dl, desc, err) < 0)
            return NAHR_ENOENT;
        *so_path = realpath(name, NULL);
        return *so_path ? NAHR_OK : NAHR_ENOMEM;
    }
    for (size_t i = 0; i < ndirs; i++) {
        snprintf(path, sizeof path, "%s/%s.so", dirs[i], name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (open_file(path, dl, desc, err) < 0)
            return NAHR_EABI;
        *so_path = realpath(path, NULL);
        return *so_path ? NAHR_OK : NAHR_ENOMEM;
    }
    nahr_buf_printf(err, "plugin '%s' not found; searched:", name);
    for (size_t i = 0; i < ndirs; i++)
        nahr_buf_printf(err, " %s", dirs[i]);
    return NAHR_ENOENT;
}
