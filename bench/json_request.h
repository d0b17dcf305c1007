/*
 * json_request.h - the request the JSON benchmarks decode: n spans shaped
 * like an HTTP server's (ten attributes and one event), recorded through
 * the SDK and encoded once by one of libotelc's encoders (OTLP/JSON or
 * Zipkin). Shared by bench_json and bench_decode_json.
 */
#ifndef OTELC_BENCH_JSON_REQUEST_H
#define OTELC_BENCH_JSON_REQUEST_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/otlp.h"
#include "otelc/otelc.h"

#define MAX_SPANS 8192

typedef struct batch {
    const otelc_span_data *spans[MAX_SPANS];
    size_t count;
} batch;

static otelc_export_result keep(void *self, const otelc_span_data *const *spans, size_t n)
{
    batch *b = self;
    for (size_t i = 0; i < n && b->count < MAX_SPANS; i++) {
        otelc_span_data_retain(spans[i]);
        b->spans[b->count++] = spans[i];
    }
    return OTELC_EXPORT_SUCCESS;
}

static const otelc_exporter_ops keep_ops = {.export_spans = keep};

static void server_span(otelc_tracer *t)
{
    otelc_attr attrs[] = {
        OTELC_ATTR_STR("http.request.method", "GET"),
        OTELC_ATTR_STR("url.path", "/api/users/12345"),
        OTELC_ATTR_STR("url.scheme", "http"),
        OTELC_ATTR_STR("network.protocol.version", "1.1"),
        OTELC_ATTR_STR("client.address", "127.0.0.1"),
        OTELC_ATTR_STR("server.address", "127.0.0.1"),
        OTELC_ATTR_INT("server.port", 43617),
        OTELC_ATTR_STR("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
    };
    otelc_span_options o = {
        .kind = OTELC_SPAN_SERVER, .attrs = attrs, .attr_count = sizeof attrs / sizeof *attrs};
    otelc_span *s = otelc_span_start_with(t, "GET /api/users/{id}", &o);
    otelc_span_set_int(s, "http.response.status_code", 200);
    otelc_span_set_double(s, "app.load", 0.75);
    otelc_attr event[] = {OTELC_ATTR_STR("cache.key", "user:12345"), OTELC_ATTR_INT("n", 3)};
    otelc_span_add_event(s, "cache-miss", event, 2);
    otelc_span_end(s);
}

typedef int (*bench_encoder)(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

/* The request of n spans encoded by encode (malloc'd); *len its size. */
static char *make_request(size_t n, bench_encoder encode, size_t *len)
{
    static batch b;
    otelc_attr res[] = {OTELC_ATTR_STR("service.name", "bench"),
                        OTELC_ATTR_STR("host.name", "bench-host")};
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&keep_ops, &b));
    otelc_provider_options o = {.no_env = true,
                                .resource = otelc_resource_new(res, 2, NULL),
                                .processors = &proc,
                                .processor_count = 1};
    otelc_provider *p = NULL;
    if (otelc_provider_new(&o, &p) != OTELC_OK) abort();
    otelc_tracer *t = otelc_provider_tracer(p, "bench.json", "1.0.0", NULL);
    for (size_t i = 0; i < n; i++) server_span(t);
    otelc_buf out = {0};
    if (b.count != n || encode(&out, b.spans, b.count) != OTELC_OK) abort();
    for (size_t i = 0; i < b.count; i++) otelc_span_data_release(b.spans[i]);
    b.count = 0; /* ready for the next request */
    otelc_provider_free(p);
    *len = out.len;
    return out.data;
}

static double cpu_s(void)
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

#endif
