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
#include "internal.h"
#include "otelc/otelc.h"
#include "otlp_bench.h"

typedef int (*encoder)(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

/* Seconds for one round; *bytes gets the size of one encoded batch. */
static double round_time(encoder enc, const otelc_span_data *const *spans, size_t n, otelc_buf *out,
                         int repeat, size_t *bytes)
{
    double t0 = now_s();
    for (int r = 0; r < repeat; r++) {
        otelc__buf_reset(out);
        if (enc(out, spans, n) != OTELC_OK) abort();
    }
    *bytes = out->len;
    return now_s() - t0;
}

/* One encoder's rounds over the spans an exporter is given. */
typedef struct encoding {
    const char *name;
    encoder enc;
    int rounds, repeat;
} encoding;

static otelc_export_result encode_rounds(void *self, const otelc_span_data *const *spans, size_t n)
{
    const encoding *e = self;
    otelc_buf out = {0};
    double times[64];
    size_t bytes = 0;
    round_time(e->enc, spans, n, &out, e->repeat, &bytes); /* warm-up: grows the buffer once */
    for (int i = 0; i < e->rounds; i++)
        times[i] = round_time(e->enc, spans, n, &out, e->repeat, &bytes);
    qsort(times, (size_t)e->rounds, sizeof(times[0]), by_value);
    double median = times[e->rounds / 2];
    double spans_s = (double)n * e->repeat / median;
    double mb_s = (double)bytes * e->repeat / median / 1e6;
    printf("%-6s %12.0f spans/s %9.1f MB/s %9zu bytes/batch %6.1f bytes/span\n", e->name, spans_s,
           mb_s, bytes, (double)bytes / (double)n);
    otelc__buf_free(&out);
    return OTELC_EXPORT_SUCCESS;
}

/*
 * The encoder runs inside an exporter's export_spans, handed the batch as
 * the SDK's processors hand theirs (otelc__exporter_export_sdk): what the
 * OTLP exporter encodes is what a traced program's spans cost.
 */
static void run(const char *name, encoder enc, const batch *b, int rounds, int repeat)
{
    static const otelc_exporter_ops ops = {.export_spans = encode_rounds};
    encoding e = {name, enc, rounds, repeat};
    otelc_exporter *exp = otelc_exporter_new(&ops, &e);
    if (!exp) abort();
    otelc__exporter_export_sdk(exp, (const otelc_span_data *const *)b->spans, b->count);
    otelc_exporter_free(exp);
}

static void run_shape(const char *title, batch *b, void (*make)(otelc_tracer *), int rounds,
                      int repeat)
{
    otelc_provider *p = build(b, make, "bench.encode");
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
