/*
 * bench_decode.c - the viewer's OTLP protobuf decoder on one core.
 *
 *   bench_decode [--rounds N] [--repeat N] [--batch N] [--only small|server]
 *
 * The spans of otlp_bench.h (8192 of each shape) are encoded by libotelc
 * into requests of --batch spans (default 512, what the batch processor
 * sends at a time). Each round decodes every request --repeat times
 * (default 20) as a receiver would: "new", into a new batch freed
 * afterwards (vw_batch_init(), vw_decode_otlp_proto(), vw_batch_free()),
 * and "reused", into one batch emptied after each request
 * (vw_batch_reset()), which allocates nothing once warm. Printed: the
 * median of --rounds rounds (default 7) after one warm-up round, in spans
 * and wire megabytes (10^6 bytes) per second of the thread's CPU time (the
 * machine may be busy with other work), and what a decoded span occupies
 * (its share of the arena and of the span array). For instructions per
 * span, under callgrind:
 *
 *   valgrind --tool=callgrind --toggle-collect=decode_request \
 *       bench_decode --only server --rounds 1 --repeat 1
 *
 * and divide the instructions by the "decoded ... spans in all" printed.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode_proto.h"
#include "export/otlp.h"
#include "otelc/otelc.h"
#include "otlp_bench.h"

typedef struct requests {
    otelc_buf *wire;
    size_t count;
    size_t spans;   /* in all the requests */
    size_t bytes;   /* on the wire, all the requests */
    size_t decoded; /* spans decode_request() produced, all rounds */
} requests;

/*
 * What the receiver does with one request body: into a new batch, freed
 * afterwards, or (reuse) into one batch emptied with vw_batch_reset().
 * Not inlined: callgrind counts it alone.
 */
__attribute__((noinline)) static size_t decode_request(const otelc_buf *wire, vw_batch *b,
                                                       bool reuse)
{
    if (!reuse) vw_batch_init(b);
    if (vw_decode_otlp_proto((const uint8_t *)wire->data, wire->len, b) != VW_DECODE_OK) abort();
    size_t count = b->count;
    if (reuse)
        vw_batch_reset(b);
    else
        vw_batch_free(b);
    return count;
}

/* Bytes a decoded request holds (arena chunks and span array), per span. */
static size_t held_per_span(const otelc_buf *wire)
{
    vw_batch b;
    vw_batch_init(&b);
    if (vw_decode_otlp_proto((const uint8_t *)wire->data, wire->len, &b) != VW_DECODE_OK) abort();
    size_t held = b.span_cap * sizeof(otelc_span_data);
    for (const otelc_arena_chunk *c = b.arena.chunks; c; c = c->next) held += c->size;
    held /= b.count;
    vw_batch_free(&b);
    return held;
}

static void encode_requests(requests *r, const batch *b, size_t per_request)
{
    r->count = (b->count + per_request - 1) / per_request;
    r->wire = calloc(r->count, sizeof *r->wire);
    if (!r->wire) abort();
    for (size_t i = 0; i < r->count; i++) {
        size_t first = i * per_request, n = b->count - first;
        if (n > per_request) n = per_request;
        if (otelc__otlp_encode_proto(&r->wire[i], b->spans + first, n) != OTELC_OK) abort();
        r->spans += n;
        r->bytes += r->wire[i].len;
    }
}

static double round_time(requests *r, int repeat, bool reuse)
{
    vw_batch b;
    vw_batch_init(&b);
    double t0 = cpu_s();
    for (int k = 0; k < repeat; k++)
        for (size_t i = 0; i < r->count; i++) r->decoded += decode_request(&r->wire[i], &b, reuse);
    double t = cpu_s() - t0;
    vw_batch_free(&b);
    return t;
}

static void run(requests *r, int rounds, int repeat, bool reuse)
{
    double times[64];
    round_time(r, repeat, reuse); /* warm-up */
    for (int i = 0; i < rounds; i++) times[i] = round_time(r, repeat, reuse);
    qsort(times, (size_t)rounds, sizeof(times[0]), by_value);
    double median = times[rounds / 2];
    printf("%-7s %12.0f spans/s %9.1f MB/s\n", reuse ? "reused" : "new",
           (double)r->spans * repeat / median, (double)r->bytes * repeat / median / 1e6);
}

static void run_shape(const char *title, batch *b, void (*make)(otelc_tracer *), int rounds,
                      int repeat, size_t per_request)
{
    otelc_provider *p = build(b, make, "bench.decode");
    requests r = {0};
    encode_requests(&r, b, per_request);
    printf("%s: %zu requests of %zu spans, %.1f bytes/span on the wire, %zu decoded\n", title,
           r.count, per_request, (double)r.bytes / (double)r.spans, held_per_span(&r.wire[0]));
    run(&r, rounds, repeat, false);
    run(&r, rounds, repeat, true);
    printf("decoded %zu spans in all\n", r.decoded);
    for (size_t i = 0; i < r.count; i++) otelc__buf_free(&r.wire[i]);
    free(r.wire);
    for (size_t i = 0; i < b->count; i++) otelc_span_data_release(b->spans[i]);
    otelc_provider_free(p);
}

int main(int argc, char **argv)
{
    static batch small, server;
    int rounds = arg_int(argc, argv, "--rounds", 7, 64);
    int repeat = arg_int(argc, argv, "--repeat", 20, 100000);
    size_t per_request = (size_t)arg_int(argc, argv, "--batch", 512, SPANS);
    const char *only = arg_str(argc, argv, "--only");
    printf("decode %d spans, %d times per round, median of %d rounds\n", SPANS, repeat, rounds);
    if (!only || strcmp(only, "small") == 0)
        run_shape("small spans (3 attributes)", &small, small_span, rounds, repeat, per_request);
    if (!only || strcmp(only, "server") == 0)
        run_shape("server spans (remote parent, 9 attributes)", &server, server_span, rounds,
                  repeat, per_request);
    return 0;
}
