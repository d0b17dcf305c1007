/*
 * bench_core.h - the SDK overhead benchmark, shared by `otelc bench`,
 * bench/bench_span.c and (later) `otelc serve`'s POST /benchmark.
 *
 * The measured work is what instrumented code does per span: start, three
 * attributes (a short string, an int, a double), end. It runs on the given
 * number of threads at once, after a warm-up, against:
 *   sampled    always_on, a batch processor, an exporter that discards;
 *   unsampled  always_off, the same pipeline;
 *   disabled   the no-op tracer;
 *   export     the user's configuration from OTEL_* / OTEL_CONFIG_FILE
 *              (every span sampled), when it configures an exporter.
 */
#ifndef OTELC_CLI_BENCH_CORE_H
#define OTELC_CLI_BENCH_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelc/otelc.h"

#define BENCH_MAX_THREADS 64

/* Spans in the export run at most: a real backend is far slower than the SDK. */
#define BENCH_MAX_EXPORT_SPANS 100000

typedef struct bench_params {
    uint64_t iterations; /* measured spans per thread (> 0) */
    uint64_t warmup;     /* spans per thread before measuring */
    int threads;         /* 1..BENCH_MAX_THREADS */
} bench_params;

typedef struct bench_figure {
    double ns_per_span; /* wall time per span on each thread */
    double spans_per_s; /* all threads together */
    uint64_t spans;     /* measured spans, all threads */
    uint64_t dropped;   /* of those, dropped by a full queue */
    uint64_t exported;  /* of those, accepted by the exporter */
    uint64_t failed;    /* of those, in failed exports */
} bench_figure;

typedef struct bench_result {
    bench_params params;
    bench_figure sampled, unsampled, disabled;
    /* The export run: ran is false when no exporter is configured. */
    struct {
        bool ran;
        char exporter[64];   /* OTEL_TRACES_EXPORTER, or "config file" */
        double seconds;      /* from the first span to the end of the flush */
        bench_figure figure; /* spans_per_s: spans exported per second */
    } export_run;
} bench_result;

/* ---- Building blocks (bench_span uses these directly) ------------------- */

/* Monotonic clock, ns. */
uint64_t bench_mono_ns(void);

/* n spans as instrumented code makes them (the measured work). */
void bench_make_spans(otelc_tracer *tracer, uint64_t n);

/*
 * A provider (no environment) with a batch processor feeding a discarding
 * exporter, sampling everything or nothing. NULL when it cannot be made.
 */
otelc_provider *bench_pipeline_new(bool sampled);

/*
 * Hold (true) or release the discarding exporter of bench_pipeline_new():
 * while held, an export in progress does not return, so spans queue up.
 */
void bench_hold_exports(bool hold);

/*
 * Grow the span pool of a pipeline of bench_pipeline_new() to its bound:
 * with the exporter held, spans are made until the queue is full and one
 * batch is in the exporter's hands (as many as can ever be in flight at
 * once; the rest are dropped), then the exporter is released. After it,
 * however far the worker falls behind, a span's start finds a pooled one.
 */
void bench_fill_pool(otelc_tracer *tracer);

/*
 * Run work(tracer, n) on threads threads started together; returns the wall
 * time in ns from the common start until the last one finished, or 0 when
 * the threads cannot be started.
 */
uint64_t bench_run_threads(void (*work)(otelc_tracer *, uint64_t), otelc_tracer *tracer,
                           int threads, uint64_t n);

/* ---- Whole benchmarks ------------------------------------------------------- */

/* Defaults for params: 200000 iterations, 20000 warm-up, 1 thread. */
void bench_params_default(bench_params *p);

/* false (and why, in err) when a value is out of range. */
bool bench_params_check(const bench_params *p, char *err, size_t err_size);

/*
 * Measure sampled, unsampled and disabled into out (export_run.ran false).
 * Returns 0, or -1 when a pipeline or the threads could not be created.
 */
int bench_run(const bench_params *p, bench_result *out);

/*
 * The export run through the user's configuration: min(iterations,
 * BENCH_MAX_EXPORT_SPANS) spans on one thread, then a flush bounded by
 * flush_timeout_ms. Leaves out->export_run.ran false when the configuration
 * has no exporter. Returns 0, or an otelc error when the configuration is
 * invalid (the SDK has logged why).
 */
int bench_run_export(const bench_params *p, uint32_t flush_timeout_ms, bench_result *out);

/*
 * The result as one JSON object into out (like snprintf: returns the length
 * it needs, writes at most size bytes including the NUL).
 */
size_t bench_result_json(const bench_result *r, char *out, size_t size);

#endif
