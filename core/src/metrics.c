/* metrics.c - `nahr run --metrics [ADDR:]PORT`: Prometheus text exposition
 * over HTTP (GET /metrics) with libmicrohttpd, on its own thread. The runner
 * renders the text (render callback); this file parses the address, binds
 * the socket (so "address in use" is reported precisely) and serves.
 * Built without libmicrohttpd (NAHR_HAVE_MHD undefined), the address is
 * still parsed but starting says that the option is not built in. */
#include "runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef NAHR_HAVE_MHD
#include <microhttpd.h>
#endif

int nahr__metrics_parse(const char *spec, nahr_metrics_addr *a, nahr_buf *err)
{
    memset(a, 0, sizeof *a);
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    const char *port = colon ? colon + 1 : spec;
    char host[128] = "127.0.0.1";
    if (colon) {
        size_t n = (size_t)(colon - spec);
        if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') { /* [IPv6]:PORT */
            spec++;
            n -= 2;
        }
        if (n == 0 || n >= sizeof host)
            goto bad;
        memcpy(host, spec, n);
        host[n] = '\0';
    }
    if (!port || !*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
        goto bad;
    long p = strtol(port, NULL, 10);
    if (p > 65535)
        goto bad;
    a->port = (int)p;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        a->len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        a->len = sizeof *v6;
    } else {
        goto bad;
    }
    snprintf(a->text, sizeof a->text, "%s%s%s:%ld", a->ss.ss_family == AF_INET6 ? "[" : "", host,
             a->ss.ss_family == AF_INET6 ? "]" : "", p);
    return NAHR_OK;
bad:
    if (err)
        nahr_buf_printf(err, "--metrics wants [ADDR:]PORT (PORT 0..65535, 0 = any free port; ADDR an IPv4 address, "
                             "[IPv6] or localhost; default 127.0.0.1), not '%s'", spec ? spec : "");
    return NAHR_EINVAL;
}

#ifdef NAHR_HAVE_MHD

struct nahr_metrics {
    struct MHD_Daemon *d;
    nahr_metrics_render_fn render;
    void *ctx;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    nahr_metrics *m = cls;
    unsigned code = MHD_HTTP_OK;
    nahr_buf b = {0};
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        code = MHD_HTTP_METHOD_NOT_ALLOWED;
        nahr_buf_puts(&b, "only GET /metrics\n");
    } else if (strcmp(url, "/metrics") != 0 && strcmp(url, "/") != 0) {
        code = MHD_HTTP_NOT_FOUND;
        nahr_buf_puts(&b, "not found: the metrics are at /metrics\n");
    } else {
        m->render(m->ctx, &b);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(b.len, b.data ? b.data : (char *)"", MHD_RESPMEM_MUST_COPY);
    nahr_buf_free(&b);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type",
                            code == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain");
    enum MHD_Result r = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return r;
}

int nahr__metrics_start(const nahr_metrics_addr *a, nahr_metrics_render_fn render, void *ctx, nahr_metrics **out,
                        nahr_buf *err)
{
    *out = NULL;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        nahr_buf_printf(err, "--metrics %s: cannot create a socket: %s", a->text, strerror(errno));
        return NAHR_EIO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        nahr_buf_printf(err, "--metrics %s: cannot listen: %s%s", a->text, strerror(e),
                        e == EADDRINUSE ? " (another process uses this port; choose another one)" : "");
        close(fd);
        return NAHR_EIO;
    }
    nahr_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        close(fd);
        return NAHR_ENOMEM;
    }
    m->render = render;
    m->ctx = ctx;
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, m, MHD_OPTION_LISTEN_SOCKET,
                            fd, MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!m->d) {
        nahr_buf_printf(err, "--metrics %s: cannot start the HTTP server (libmicrohttpd)", a->text);
        close(fd);
        free(m);
        return NAHR_EIO;
    }
    char shown[160];
    snprintf(shown, sizeof shown, "%s", a->text);
    if (a->port == 0) { /* any free port: say which one */
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
            char *c = strrchr(shown, ':');
            int port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                      : ((struct sockaddr_in *)&ss)->sin_port);
            if (c)
                snprintf(c + 1, sizeof shown - (size_t)(c + 1 - shown), "%d", port);
        }
    }
    char url[200];
    snprintf(url, sizeof url, "http://%s/metrics", shown);
    nahr_kv kv = {0};
    nahr__kv_str(&kv, "event", "metrics_listening");
    nahr__kv_str(&kv, "url", url);
    nahr__log_kv(NAHR_LOG_INFO, kv.s, "metrics: serving %s", url);
    *out = m;
    return NAHR_OK;
}

void nahr__metrics_stop(nahr_metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d); /* closes the listening socket */
    free(m);
}

bool nahr__metrics_built_in(void) { return true; }

#else /* !NAHR_HAVE_MHD */

int nahr__metrics_start(const nahr_metrics_addr *a, nahr_metrics_render_fn render, void *ctx, nahr_metrics **out,
                        nahr_buf *err)
{
    (void)a;
    (void)render;
    (void)ctx;
    *out = NULL;
    nahr_buf_puts(err, "--metrics is not built in: nahr was built without libmicrohttpd (install libmicrohttpd-dev "
                       "and rebuild)");
    return NAHR_ECONFIG;
}

void nahr__metrics_stop(nahr_metrics *m) { (void)m; }

bool nahr__metrics_built_in(void) { return false; }

#endif
