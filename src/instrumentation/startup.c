/*
 * startup.c - the "startup" trace (OTELC_TRACE_STARTUP=1).
 *
 * When a service starts, the questions are: which configuration did the
 * SDK load, what does it say the service is, and can it reach its backend?
 * The trace answers them as spans under a root named "startup":
 *
 *   configuration load            provider creation as it happened (timed
 *                                 from the start of otelc_provider_new)
 *   resource detection            the resource detected again, timed, with
 *                                 what it found
 *   exporter connectivity check   one per network exporter: a TCP connect
 *                                 bounded by CONNECT_TIMEOUT_MS
 *
 * It is exported through the new provider's own processors, so it goes
 * wherever the service's spans go, and follows TRACEPARENT like any root
 * span (under `otelc exec --trace-startup` it nests in the exec span).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/cli_env.h"
#include "config/config_file.h"
#include "instrumentation/startup.h"

/* Long enough for a LAN or a local collector, short enough to never hurt a start. */
#define CONNECT_TIMEOUT_MS 300
#define MAX_TARGETS        4

uint64_t otelc__startup_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Connectivity ----------------------------------------------------------- */

/* Host and port of an http(s) URL or a gRPC "host:port"; false when unusable. */
static bool split_url(const char *url, char *host, size_t hsize, char *port, size_t psize)
{
    const char *scheme_end = strstr(url, "://");
    bool https = scheme_end && strncasecmp(url, "https", 5) == 0;
    const char *h = scheme_end ? scheme_end + 3 : url;
    const char *at = strpbrk(h, "@/");
    if (at && *at == '@') h = at + 1; /* credentials are never used nor recorded */
    size_t n = strcspn(h, "/?#");
    const char *p = NULL;
    size_t hn = n;
    if (*h == '[') { /* [v6]:port */
        const char *close = memchr(h, ']', n);
        if (!close) return false;
        hn = (size_t)(close - h - 1);
        h++;
        if (close[1] == ':') p = close + 2;
    } else {
        const char *colon = memchr(h, ':', n);
        if (colon) {
            hn = (size_t)(colon - h);
            p = colon + 1;
        }
    }
    if (hn == 0 || hn >= hsize) return false;
    memcpy(host, h, hn);
    host[hn] = '\0';
    size_t pn = p ? strspn(p, "0123456789") : 0;
    if (pn == 0 || pn >= psize)
        snprintf(port, psize, "%s", https ? "443" : "80");
    else
        snprintf(port, psize, "%.*s", (int)pn, p);
    return true;
}

/* A non-blocking connect to one address, waiting at most ms. 0 or an errno. */
static int try_connect(const struct addrinfo *ai, int ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return errno;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int r = poll(&pfd, 1, ms);
            socklen_t len = sizeof err;
            if (r == 0)
                err = ETIMEDOUT;
            else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
    }
    close(fd);
    return err;
}

static void check_connect(otelc_span *span, const char *url)
{
    char host[256], port[8];
    if (!split_url(url, host, sizeof host, port, sizeof port)) {
        otelc_span_set_status(span, OTELC_STATUS_ERROR, "endpoint is not a URL");
        return;
    }
    otelc_span_set_str(span, "server.address", host);
    otelc_span_set_int(span, "server.port", atoi(port));

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        otelc_span_set_bool(span, "otelc.startup.connect.ok", false);
        otelc_span_set_str(span, "error.type", "name_resolution");
        otelc_span_set_status(span, OTELC_STATUS_ERROR, gai_strerror(gai));
        return;
    }
    int err = ENOTCONN;
    for (struct addrinfo *ai = res; ai && err; ai = ai->ai_next)
        err = try_connect(ai, CONNECT_TIMEOUT_MS);
    freeaddrinfo(res);
    otelc_span_set_bool(span, "otelc.startup.connect.ok", err == 0);
    if (err) {
        char buf[400];
        snprintf(buf, sizeof buf, "cannot connect to %s:%s: %s", host, port, strerror(err));
        otelc_span_set_str(span, "error.type", err == ETIMEDOUT ? "timeout" : "connect");
        otelc_span_set_status(span, OTELC_STATUS_ERROR, buf);
    }
}

/* The file exporter's "connectivity": can the file be opened for appending? */
static void check_file(otelc_span *span, const char *path)
{
    otelc_span_set_str(span, "file.path", path);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    otelc_span_set_bool(span, "otelc.startup.connect.ok", fd >= 0);
    if (fd < 0)
        otelc_span_set_status(span, OTELC_STATUS_ERROR, strerror(errno));
    else
        close(fd);
}

static void connectivity_spans(otelc_tracer *t)
{
    otelc_startup_target targets[MAX_TARGETS];
    bool from_file;
    size_t n = otelc__startup_targets_from_env(targets, MAX_TARGETS, &from_file);
    for (size_t i = 0; i < n; i++) {
        otelc_span *span = otelc_span_start(t, "exporter connectivity check", OTELC_SPAN_CLIENT);
        otelc_span_set_str(span, "otelc.exporter", targets[i].exporter);
        if (strcmp(targets[i].exporter, "file") == 0)
            check_file(span, targets[i].where);
        else
            check_connect(span, targets[i].where);
        otelc_span_end(span);
    }
}

/* ---- Configuration and resource ------------------------------------------- */

static void config_span(otelc_tracer *t, const otelc_provider *p, uint64_t began)
{
    otelc_span_options o = {.kind = OTELC_SPAN_INTERNAL, .start_ns = began};
    otelc_span *span = otelc_span_start_with(t, "configuration load", &o);
    const char *file = otelc__config_file_path();
    otelc_span_set_str(span, "otelc.config.source", file ? "file" : "environment");
    if (file) otelc_span_set_str(span, "otelc.config.file", file);
    otelc_span_set_int(span, "otelc.config.processors", (int64_t)atomic_load(&p->processor_count));
    otelc_span_set_str(span, "otelc.config.sampler", otelc_sampler_description(p->sampler));
    otelc_span_end(span);
}

static void resource_span(otelc_tracer *t)
{
    otelc_span *span = otelc_span_start(t, "resource detection", OTELC_SPAN_INTERNAL);
    otelc_resource *res = otelc_resource_default(true);
    size_t count = 0;
    otelc_resource_attrs(res, &count);
    const otelc_value *name = otelc_resource_get(res, "service.name");
    otelc_span_set_int(span, "otelc.resource.attribute_count", (int64_t)count);
    if (name && name->type == OTELC_VALUE_STRING)
        otelc_span_set_strn(span, "service.name", name->u.str.ptr, name->u.str.len);
    otelc_resource_free(res);
    otelc_span_end(span);
}

void otelc__startup_trace(otelc_provider *p, uint64_t began)
{
    if (!p || p->disabled || !otelc__trace_startup_from_env()) return;
    otelc_tracer *t = otelc_provider_tracer(p, "otelc.startup", OTELC_VERSION, NULL);
    otelc_span_options o = {.kind = OTELC_SPAN_INTERNAL, .start_ns = began};
    otelc_span *root = otelc_span_start_with(t, "startup", &o);
    otelc_span_set_int(root, "process.pid", (int64_t)getpid());
    otelc_scope scope = otelc_span_activate(root);
    config_span(t, p, began);
    resource_span(t);
    connectivity_spans(t);
    otelc_scope_exit(scope);
    otelc_span_end(root);
}
