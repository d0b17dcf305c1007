/*
 * bench_encode.c - OTLP encoder throughput on one core.
 *
 *   bench_encode [--rounds N] [--repeat N] [--only small|server]
 *
 * Two batches of 8192 finished spans are built once through the public API
 * and kept alive with otelc_span_data_retain(): "small" spans with three
 * attributes (a short string, an int, a double), and "server" spans shaped
 * like those of the libmicrohttpd wrapper in bench_http_server (a remote
 * parent, six string and three integer attributes). Each round encodes a
 * whole batch --repeat times (default 40) into one reused buffer, as an
 * exporter does; the figure printed is the median of --rounds rounds
 * (default 7) after one warm-up round, in spans per second and output
 * megabytes (10^6 bytes) per second, for protobuf and for JSON. --only
 * runs one batch (for callgrind: instructions per span of one shape).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/otlp.h"
#include "otelc/otelc.h"

#define SPANS 8192

typedef struct batch {
    const otelc_span_data *spans[SPANS];
    size_t count;
} batch;

typedef int (*encoder)(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

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

static otelc_provider *build(batch *b, void (*make)(otelc_tracer *))
{
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&keep_ops, b));
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    otelc_provider *p = NULL;
    if (otelc_provider_new(&o, &p) != OTELC_OK) abort();
    otelc_tracer *t = otelc_provider_tracer(p, "bench.encode", "1.0.0", NULL);
    for (int i = 0; i < SPANS; i++) make(t);
    if (b->count != SPANS) abort();
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Seconds for one round; *bytes gets the size of one encoded batch. */
static double round_time(encoder enc, const batch *b, otelc_buf *out, int repeat, size_t *bytes)
{
    double t0 = now_s();
    for (int r = 0; r < repeat; r++) {
        otelc__buf_reset(out);
        if (enc(out, b->spans, b->count) != OTELC_OK) abort();
    }
    *bytes = out->len;
    return now_s() - t0;
}

static void run(const char *name, encoder enc, const batch *b, int rounds, int repeat)
{
    otelc_buf out = {0};
    double times[64];
    size_t bytes = 0;
    round_time(enc, b, &out, repeat, &bytes); /* warm-up: grows the buffer once */
    for (int i = 0; i < rounds; i++) times[i] = round_time(enc, b, &out, repeat, &bytes);
    qsort(times, (size_t)rounds, sizeof(times[0]), by_value);
    double median = times[rounds / 2];
    double spans_s = (double)b->count * repeat / median;
    double mb_s = (double)bytes * repeat / median / 1e6;
    printf("%-6s %12.0f spans/s %9.1f MB/s %9zu bytes/batch %6.1f bytes/span\n", name, spans_s,
           mb_s, bytes, (double)bytes / (double)b->count);
    otelc__buf_free(&out);
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

static void run_shape(const char *title, batch *b, void (*make)(otelc_tracer *), int rounds,
                      int repeat)
{
    otelc_provider *p = build(b, make);
    printf("%s:\n", title);
    run("proto", otelc__otlp_encode_proto, b, rounds, repeat);
    run("json", otelc__otlp_encode_json, b, rounds, repeat);
    for (size_t i = 0; i < b->count; i++) otelc_span_data_release(b->spans[i]);
    otelc_provider_free(p);
}

int main(int argc, char **argv)
{
    static batch small, server;
    int rounds = arg_int(argc, argv, "--rounds", 7, 64);
    int repeat = arg_int(argc, argv, "--repeat", 40, 100000);
    const char *only = arg_str(argc, argv, "--only");
    printf("encode %d spans, %d batches per round, median of %d rounds\n", SPANS, repeat, rounds);
    if (!only || strcmp(only, "small") == 0)
        run_shape("small spans (3 attributes)", &small, small_span, rounds, repeat);
    if (!only || strcmp(only, "server") == 0)
        run_shape("server spans (remote parent, 9 attributes)", &server, server_span, rounds,
                  repeat);
    return 0;
}
