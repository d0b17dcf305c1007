/*
 * bench_json.c - the JSON reader (src/json.c) against the JSON libraries
 * Debian ships, on the document the receiver of otelc view parses most:
 * an OTLP/JSON ExportTraceServiceRequest.
 *
 *   bench_json [--spans N] [--rounds N] [--repeat N]
 *
 * The request holds --spans spans (default 512, an SDK's batch) shaped
 * like an HTTP server's (json_request.h), encoded by libotelc's OTLP/JSON
 * encoder. Each round parses it --repeat times
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

#include "json.h"
#include "json_request.h"

/* The libraries' parsers, each in a file of its own (their names clash with ours). */
#ifdef BENCH_HAVE_JANSSON
void bench_parse_jansson(const char *text, size_t len);
#endif
#ifdef BENCH_HAVE_JSONC
void bench_parse_jsonc(const char *text, size_t len);
#endif

static void parse_otelc(const char *text, size_t len)
{
    json_doc doc = JSON_DOC_INIT;
    if (!otelc__json_parse(&doc, text, len, NULL, NULL)) abort();
    otelc__json_free(&doc);
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

int main(int argc, char **argv)
{
    size_t spans = (size_t)arg_int(argc, argv, "--spans", 512, MAX_SPANS);
    int rounds = arg_int(argc, argv, "--rounds", 7, 64);
    int repeat = arg_int(argc, argv, "--repeat", 100, 100000);
    size_t len = 0;
    char *text = make_request(spans, otelc__otlp_encode_json, &len);
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
