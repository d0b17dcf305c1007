/*
 * bench_decode_json.c - the viewer's JSON decoders on one core: OTLP/JSON
 * (vw_decode_otlp_json) and Zipkin v2 (vw_decode_zipkin_json), what the
 * receiver does with each JSON request before storing it.
 *
 *   bench_decode_json [--spans N] [--rounds N] [--repeat N]
 *
 * The request holds --spans spans (default 512, an SDK's batch) shaped
 * like an HTTP server's (json_request.h), encoded by libotelc's OTLP/JSON
 * and Zipkin exporters. Each round decodes it --repeat times (default 50)
 * into a new batch freed afterwards, JSON parsing included; the figure is
 * the median of --rounds rounds (default 7) in spans and megabytes (10^6
 * bytes) per second of this thread's CPU time. As bench_json, it runs with
 * glibc's defaults and then with freed memory kept by the process; last,
 * it counts the minor page faults per span of decoding as otelc view does.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "decode_json.h"
#include "decode_zipkin.h"
#include "export/zipkin.h"
#include "json_request.h"

typedef vw_decode_status (*decoder)(const char *buf, size_t len, vw_batch *out);

static int zipkin_encode(otelc_buf *out, const otelc_span_data *const *spans, size_t n)
{
    return otelc__zipkin_encode(out, spans, n, "bench");
}

static void decode_once(decoder decode, const char *text, size_t len, size_t spans)
{
    vw_batch b;
    vw_batch_init(&b);
    if (decode(text, len, &b) != VW_DECODE_OK || b.count != spans) abort();
    vw_batch_free(&b);
}

static void run(const char *name, decoder decode, const char *text, size_t len, size_t spans,
                int rounds, int repeat)
{
    double times[64];
    decode_once(decode, text, len, spans); /* warm-up */
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_s();
        for (int i = 0; i < repeat; i++) decode_once(decode, text, len, spans);
        times[r] = cpu_s() - t0;
    }
    qsort(times, (size_t)rounds, sizeof times[0], by_value);
    double median = times[rounds / 2];
    printf("  %-10s %10.0f spans/s %8.1f MB/s %8zu bytes/request\n", name,
           (double)spans * repeat / median, (double)len * repeat / median / 1e6, len);
}

/*
 * Minor page faults per span the way otelc view decodes: mallopt as
 * viewer/main.c sets it (blocks of 1 MiB and more are mappings of their
 * own) and one batch reset between requests, as the receiver reuses its
 * spare batches. Last, since mallopt cannot be undone.
 */
static void faults_as_receiver(decoder decode, const char *name, const char *text, size_t len,
                               size_t spans, int repeat)
{
    vw_batch b;
    struct rusage r0, r1;
    vw_batch_init(&b);
    for (int i = 0; i < 3; i++) { /* the batch grows to its size */
        if (decode(text, len, &b) != VW_DECODE_OK) abort();
        vw_batch_reset(&b);
    }
    getrusage(RUSAGE_SELF, &r0);
    for (int i = 0; i < repeat; i++) {
        if (decode(text, len, &b) != VW_DECODE_OK || b.count != spans) abort();
        vw_batch_reset(&b);
    }
    getrusage(RUSAGE_SELF, &r1);
    vw_batch_free(&b);
    printf("  %-10s %10.3f minor page faults/span\n", name,
           (double)(r1.ru_minflt - r0.ru_minflt) / ((double)spans * repeat));
}

int main(int argc, char **argv)
{
    size_t spans = (size_t)arg_int(argc, argv, "--spans", 512, MAX_SPANS);
    int rounds = arg_int(argc, argv, "--rounds", 7, 64);
    int repeat = arg_int(argc, argv, "--repeat", 50, 100000);
    size_t otlp_len = 0, zipkin_len = 0;
    char *otlp = make_request(spans, otelc__otlp_encode_json, &otlp_len);
    char *zipkin = make_request(spans, zipkin_encode, &zipkin_len);
    printf("decode requests of %zu spans, %d per round, median of %d rounds (CPU time)\n", spans,
           repeat, rounds);
    for (int keep = 0; keep < 2; keep++) {
        if (keep) {
            mallopt(M_MMAP_THRESHOLD, 64 << 20);
            mallopt(M_TRIM_THRESHOLD, 256 << 20);
        }
        printf("%s:\n", keep ? "freed memory kept by the process (mallopt)" : "glibc defaults");
        run("otlp/json", vw_decode_otlp_json, otlp, otlp_len, spans, rounds, repeat);
        run("zipkin", vw_decode_zipkin_json, zipkin, zipkin_len, spans, rounds, repeat);
    }
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 10); /* glibc's default again, as in otelc view */
    printf("as otelc view (mallopt as viewer/main.c, one batch reset between requests):\n");
    faults_as_receiver(vw_decode_otlp_json, "otlp/json", otlp, otlp_len, spans, repeat);
    faults_as_receiver(vw_decode_zipkin_json, "zipkin", zipkin, zipkin_len, spans, repeat);
    free(otlp);
    free(zipkin);
    return 0;
}
