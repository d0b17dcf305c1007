/*
 * bench_json.c - the JSON reader (src/json.c) against the JSON libraries
 * Debian ships, on the document the receiver of otelc view parses most:
 * an OTLP/JSON ExportTraceServiceRequest.
 *
 *   bench_json [--spans N] [--rounds N] [--repeat N]
 *
 * The request holds --spans spans (default 512, an SDK's batch) shaped
 * like an HTTP server's: ten attributes and one event, encoded by
 * libotelc's OTLP/JSON encoder. Each round parses it --repeat times
 * (default 100) and frees the tree; the figure is the median of --rounds
 * rounds (default 7) in CPU time of this thread, in megabytes (10^6
 * bytes) and spans per second. jansson and json-c are measured when their
 * development packages were found at build time.
 *
 * Everything runs twice: with glibc's default settings, which hand large
 * freed blocks back to the kernel so that the next document pays a page
 * fault per page again, and with the thresholds raised by mallopt() as a
 * long-running receiver would set them.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/otlp.h"
#include "json.h"
#include "otelc/otelc.h"

/* The libraries' parsers, each in a file of its own (their names clash with ours). */
#ifdef BENCH_HAVE_JANSSON
void bench_parse_jansson(const char *text, size_t len);
#endif
#ifdef BENCH_HAVE_JSONC
void bench_parse_jsonc(const char *text, size_t len);
#endif

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

/* The request, encoded once (malloc'd); *len its size. */
static char *make_request(size_t n, size_t *len)
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
    if (b.count != n || otelc__otlp_encode_json(&out, b.spans, b.count) != OTELC_OK) abort();
    for (size_t i = 0; i < b.count; i++) otelc_span_data_release(b.spans[i]);
    otelc_provider_free(p);
    *len = out.len;
    return out.data;
}

static void parse_otelc(const char *text, size_t len)
{
    json_doc doc = JSON_DOC_INIT;
    if (!otelc__json_parse(&doc, text, len, NULL, NULL)) abort();
    otelc__json_free(&doc);
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

typedef void (*parse_fn)(const char *text, size_t len);

static void run(const char *name, parse_fn parse, const char *text, size_t len, size_t spans,
                int rounds, int repeat)
{
    double times[64];
    parse(text, len); /* warm-up */
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_s();
        for (int i = 0; i < repeat; i++) parse(text, len);
        times[r] = cpu_s() - t0;
    }
    qsort(times, (size_t)rounds, sizeof times[0], by_value);
    double median = times[rounds / 2];
    printf("  %-8s %8.1f MB/s %10.0f spans/s\n", name, (double)len * repeat / median / 1e6,
           (double)spans * repeat / median);
}

static void run_all(const char *text, size_t len, size_t spans, int rounds, int repeat)
{
    run("otelc", parse_otelc, text, len, spans, rounds, repeat);
#ifdef BENCH_HAVE_JANSSON
    run("jansson", bench_parse_jansson, text, len, spans, rounds, repeat);
#endif
#ifdef BENCH_HAVE_JSONC
    run("json-c", bench_parse_jsonc, text, len, spans, rounds, repeat);
#endif
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

int main(int argc, char **argv)
{
    size_t spans = (size_t)arg_int(argc, argv, "--spans", 512, MAX_SPANS);
    int rounds = arg_int(argc, argv, "--rounds", 7, 64);
    int repeat = arg_int(argc, argv, "--repeat", 100, 100000);
    size_t len = 0;
    char *text = make_request(spans, &len);
    printf("parse an OTLP/JSON request of %zu spans (%zu bytes), %d parses per round, "
           "median of %d rounds (CPU time)\n",
           spans, len, repeat, rounds);
    printf("glibc defaults:\n");
    run_all(text, len, spans, rounds, repeat);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    printf("freed memory kept by the process (mallopt):\n");
    run_all(text, len, spans, rounds, repeat);
    free(text);
    return 0;
}
