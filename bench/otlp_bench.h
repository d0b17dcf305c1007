/*
 * otlp_bench.h - what the OTLP benchmarks (bench_encode.c, bench_decode.c)
 * share: the spans they encode and decode, built once through the public
 * API and kept alive with otelc_span_data_retain() ("small" spans with
 * three attributes: a short string, an int, a double; "server" spans
 * shaped like those of the libmicrohttpd wrapper in bench_http_server: a
 * remote parent, six string and three integer attributes), a clock,
 * medians and command-line flags.
 */
#ifndef OTELC_BENCH_OTLP_BENCH_H
#define OTELC_BENCH_OTLP_BENCH_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otelc/otelc.h"

#define SPANS 8192

typedef struct batch {
    const otelc_span_data *spans[SPANS];
    size_t count;
} batch;

static otelc_export_result keep(void *self, const otelc_span_data *const *spans, size_t n)
{
    batch *b = self;
    for (size_t i = 0; i < n && b->count < SPANS; i++) {
        otelc_span_data_retain(spans[i]);
        b->spans[b->count++] = spans[i];
    }
    return OTELC_EXPORT_SUCCESS;
}

static const otelc_exporter_ops keep_ops = {.export_spans = keep};

static void small_span(otelc_tracer *t)
{
    otelc_span *s = otelc_span_start(t, "GET /api/users", OTELC_SPAN_SERVER);
    otelc_span_set_str(s, "http.method", "GET");
    otelc_span_set_int(s, "http.status_code", 200);
    otelc_span_set_double(s, "load", 0.75);
    otelc_span_end(s);
}

/* What otelc_mhd records for wrk's "GET /" (tests/integration checks the wrapper itself). */
static void server_span(otelc_tracer *t)
{
    static const char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    otelc_span_context remote;
    if (otelc_traceparent_parse(tp, sizeof tp - 1, &remote) != OTELC_OK) abort();
    remote.is_remote = true;
    otelc_context *parent = otelc_context_new(&remote, NULL);
    otelc_attr attrs[] = {
        OTELC_ATTR_STR("http.request.method", "GET"),
        OTELC_ATTR_STR("url.path", "/"),
        OTELC_ATTR_STR("url.scheme", "http"),
        OTELC_ATTR_STR("network.protocol.version", "1.1"),
        OTELC_ATTR_STR("client.address", "127.0.0.1"),
        OTELC_ATTR_STR("server.address", "127.0.0.1"),
        OTELC_ATTR_INT("server.port", 43617),
    };
    otelc_span_options o = {.kind = OTELC_SPAN_SERVER,
                            .parent = parent,
                            .attrs = attrs,
                            .attr_count = sizeof attrs / sizeof attrs[0]};
    otelc_span *s = otelc_span_start_with(t, "GET", &o);
    otelc_span_set_int(s, "http.response.body.size", 14);
    otelc_span_set_int(s, "http.response.status_code", 200);
    otelc_span_end(s);
    otelc_context_release(parent);
}

/* A provider whose spans of shape make, SPANS of them, are kept in b (the scope is scope_name). */
static otelc_provider *build(batch *b, void (*make)(otelc_tracer *), const char *scope_name)
{
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&keep_ops, b));
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    otelc_provider *p = NULL;
    if (otelc_provider_new(&o, &p) != OTELC_OK) abort();
    otelc_tracer *t = otelc_provider_tracer(p, scope_name, "1.0.0", NULL);
    for (int i = 0; i < SPANS; i++) make(t);
    if (b->count != SPANS) abort();
    return p;
}

/* Seconds on the monotonic clock (now_s) or of this thread's CPU time (cpu_s). */
static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int arg_int(int argc, char **argv, const char *flag, int def, int max)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) {
            int v = atoi(argv[i + 1]);
            return v > 0 && v <= max ? v : def;
        }
    return def;
}

static const char *arg_str(int argc, char **argv, const char *flag)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) return argv[i + 1];
    return NULL;
}

#endif
