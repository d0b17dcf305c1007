/*
 * bench_span.c - span hot-path benchmarks (see docs/performance.md).
 *
 *   bench_span sampled [threads]   always_on, batch processor, discarding exporter
 *   bench_span unsampled [threads] always_off, same pipeline
 *   bench_span disabled            the no-op tracer (no provider)
 *   bench_span mallocs             allocator calls per sampled span after warm-up
 *   bench_span callgrind N [kind]  exactly N spans (sampled by default, or unsampled
 *                                  or disabled) inside a callgrind window
 *   bench_span memory              bytes held per queued span
 *   bench_span machine             control: thread scaling of plain arithmetic
 *   bench_span features            what this binary was built with (for run.sh)
 *
 * Without a thread count, sampled and unsampled run 1 and then 2 threads
 * and print the throughput ratio. Every span is started, given three
 * attributes (a short string, an int, a double) and ended. Each figure is
 * the median of ROUNDS rounds after one warm-up round. Options (anywhere):
 * --json adds a JSON document after the table; --spans N sets the spans per
 * thread per round; --rounds N the number of measured rounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define BENCH_HAVE_CALLGRIND 0
#endif

#include "bench_core.h"
#include "internal.h"

/* ---- Allocation counting ------------------------------------------------- */

/*
 * The allocator entry points are replaced for the whole process: each call is
 * counted (per thread and process-wide) and forwarded to glibc. Sanitizers
 * bring their own allocator: then nothing is replaced and nothing counted.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BENCH_COUNT_ALLOCS 0
#endif
#endif
#ifndef BENCH_COUNT_ALLOCS
#define BENCH_COUNT_ALLOCS 1
#endif

static _Atomic uint64_t allocs_process;
static __thread uint64_t allocs_thread;

#if BENCH_COUNT_ALLOCS
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

static void count_alloc(void)
{
    allocs_thread++;
    atomic_fetch_add_explicit(&allocs_process, 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
    count_alloc();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    count_alloc();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    count_alloc();
    return __libc_realloc(p, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    count_alloc();
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    count_alloc();
    void *p = __libc_memalign(align, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p)
{
    __libc_free(p);
}
#endif

/* ---- Results ------------------------------------------------------------- */

#define MAX_RESULTS 64

struct result {
    char name[64];
    double value;
    const char *unit;
    char note[96];
};

static struct result results[MAX_RESULTS];
static size_t result_count;

static void add_result(const char *name, double value, const char *unit, const char *note)
{
    if (result_count == MAX_RESULTS) return;
    struct result *r = &results[result_count++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->value = value;
    r->unit = unit;
    snprintf(r->note, sizeof r->note, "%s", note ? note : "");
}

static void print_table(void)
{
    for (size_t i = 0; i < result_count; i++) {
        const struct result *r = &results[i];
        char value[32];
        if (r->value == (double)(uint64_t)r->value && r->value < 1e15)
            snprintf(value, sizeof value, "%llu", (unsigned long long)r->value);
        else if (r->value >= 1000)
            snprintf(value, sizeof value, "%.0f", r->value);
        else if (r->value < 1)
            snprintf(value, sizeof value, "%.4f", r->value);
        else
            snprintf(value, sizeof value, "%.2f", r->value);
        printf("%-40s %14s %-10s %s\n", r->name, value, r->unit, r->note);
    }
}

static void print_json(const char *mode)
{
    printf("{\"mode\": \"%s\", \"results\": [", mode);
    for (size_t i = 0; i < result_count; i++) {
        const struct result *r = &results[i];
        printf("%s\n  {\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", \"note\": \"%s\"}",
               i ? "," : "", r->name, r->value, r->unit, r->note);
    }
    printf("\n]}\n");
}

/* ---- The measured work ----------------------------------------------------- */

struct pipeline {
    otelc_provider *provider;
    otelc_tracer *tracer;
};

/* The shared pipeline: a batch processor (queue 65536, batch 8192) feeding a discarding exporter.
 */
static void pipeline_open(struct pipeline *pl, bool sampled)
{
    pl->provider = bench_pipeline_new(sampled);
    if (!pl->provider) {
        fprintf(stderr, "bench_span: cannot create the provider\n");
        exit(1);
    }
    pl->tracer = otelc_provider_tracer(pl->provider, "otelc.bench", "1.0.0", NULL);
}

static void pipeline_close(struct pipeline *pl, otelc_stats *stats)
{
    otelc_provider_force_flush(pl->provider, 30000);
    otelc_provider_stats(pl->provider, stats);
    otelc_provider_free(pl->provider);
    pl->provider = NULL;
}

/* ---- Timed rounds on worker threads ----------------------------------------- */

/*
 * The control experiment for thread scaling: a fixed amount of arithmetic
 * per "span" that touches no shared memory at all, so its 2-thread/1-thread
 * ratio is what the machine itself gives two threads at that moment.
 */
static void __attribute__((noinline)) make_nothing(otelc_tracer *tracer, uint64_t n)
{
    (void)tracer;
    uint64_t x = n | 1;
    for (uint64_t i = 0; i < n * 64; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        __asm__ volatile("" : "+r"(x));
    }
}

struct runner {
    void (*work)(otelc_tracer *tracer, uint64_t n);
    otelc_tracer *tracer;
    uint64_t spans;
    int rounds; /* including the warm-up round */
    pthread_barrier_t *barrier;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    for (int i = 0; i < r->rounds; i++) {
        pthread_barrier_wait(r->barrier);
        r->work(r->tracer, r->spans);
        pthread_barrier_wait(r->barrier);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct timing {
    double median_ns; /* per span, per thread: elapsed / spans per thread */
    double min_ns;
    double max_ns;
    double spans_per_s; /* all threads together, at the median round */
};

#define MAX_ROUNDS  64
#define MAX_THREADS 8

/*
 * Run rounds+1 rounds of `spans` spans on each of `threads` threads (the first
 * round warms up and is discarded); the main thread only times the rounds.
 */
static struct timing timed_rounds(void (*work)(otelc_tracer *, uint64_t), otelc_tracer *tracer,
                                  int threads, uint64_t spans, int rounds)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    struct runner r = {work, tracer, spans, rounds + 1, &barrier};
    pthread_t tids[MAX_THREADS];
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, runner_main, &r);

    double per_span[MAX_ROUNDS];
    for (int i = 0; i < rounds + 1; i++) {
        pthread_barrier_wait(&barrier);
        uint64_t t0 = bench_mono_ns();
        pthread_barrier_wait(&barrier);
        uint64_t t1 = bench_mono_ns();
        if (i > 0) per_span[i - 1] = (double)(t1 - t0) / (double)spans;
    }
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&barrier);

    qsort(per_span, (size_t)rounds, sizeof per_span[0], cmp_double);
    struct timing t;
    t.median_ns =
        rounds % 2 ? per_span[rounds / 2] : (per_span[rounds / 2 - 1] + per_span[rounds / 2]) / 2;
    t.min_ns = per_span[0];
    t.max_ns = per_span[rounds - 1];
    t.spans_per_s = 1e9 * threads / t.median_ns;
    return t;
}

struct options {
    uint64_t spans; /* per thread per round */
    int rounds;
    bool json;
};

static void report_timing(const char *prefix, int threads, struct timing t, const char *target)
{
    char name[64], note[96];
    snprintf(name, sizeof name, "%s.%dt.median", prefix, threads);
    snprintf(note, sizeof note, "min %.1f max %.1f%s%s", t.min_ns, t.max_ns,
             target ? "; target " : "", target ? target : "");
    add_result(name, t.median_ns, "ns/span", note);
    snprintf(name, sizeof name, "%s.%dt.throughput", prefix, threads);
    add_result(name, t.spans_per_s, "spans/s", threads > 1 ? "all threads" : NULL);
}

/* The control's 2-thread/1-thread ratio, measured now (a quarter of the spans). */
static double machine_ratio(const struct options *o)
{
    uint64_t units = o->spans / 4 ? o->spans / 4 : 1;
    struct timing one = timed_rounds(make_nothing, NULL, 1, units, o->rounds);
    struct timing two = timed_rounds(make_nothing, NULL, 2, units, o->rounds);
    return two.spans_per_s / one.spans_per_s;
}

/* sampled / unsampled: one provider per thread count so the counters are per run. */
static void run_pipeline(const struct options *o, bool sampled, int only_threads)
{
    const char *prefix = sampled ? "sampled" : "unsampled";
    const char *target = sampled ? "<= 75 ns (1 thread)" : "<= 15 ns (1 thread)";
    double throughput[3] = {0, 0, 0};
    for (int threads = 1; threads <= 2; threads++) {
        if (only_threads && threads != only_threads) continue;
        struct pipeline pl;
        pipeline_open(&pl, sampled);
        struct timing t = timed_rounds(bench_make_spans, pl.tracer, threads, o->spans, o->rounds);
        otelc_stats st;
        pipeline_close(&pl, &st);
        report_timing(prefix, threads, t, threads == 1 ? target : NULL);
        throughput[threads] = t.spans_per_s;

        char name[64], note[96];
        uint64_t total = (uint64_t)threads * o->spans * (uint64_t)(o->rounds + 1);
        snprintf(name, sizeof name, "%s.%dt.dropped", prefix, threads);
        snprintf(note, sizeof note, "of %llu spans (queue 65536, batch 8192); exported %llu",
                 (unsigned long long)total, (unsigned long long)st.spans_exported);
        add_result(name, (double)st.spans_dropped, "spans", note);
        if (!sampled) {
            snprintf(name, sizeof name, "%s.%dt.sampled_out", prefix, threads);
            add_result(name, (double)st.spans_sampled_out, "spans", NULL);
        }
    }
    if (!only_threads && throughput[1] > 0) {
        char name[64];
        snprintf(name, sizeof name, "%s.2t_over_1t", prefix);
        add_result(name, throughput[2] / throughput[1], "x",
                   sampled ? "throughput ratio; target >= 1.7" : "throughput ratio");
        snprintf(name, sizeof name, "%s.control_2t_over_1t", prefix);
        add_result(name, machine_ratio(o), "x", "the machine control, measured just after");
    }
}

static void run_disabled(const struct options *o)
{
    /* No provider is installed: this is the no-op tracer. */
    otelc_tracer *tracer = otelc_tracer_get("otelc.bench", "1.0.0");
    struct timing t = timed_rounds(bench_make_spans, tracer, 1, o->spans * 10, o->rounds);
    report_timing("disabled", 1, t, "<= 3 ns");
}

/* What two threads of pure arithmetic get from this machine right now. */
static void run_machine(const struct options *o)
{
    struct timing one = timed_rounds(make_nothing, NULL, 1, o->spans, o->rounds);
    struct timing two = timed_rounds(make_nothing, NULL, 2, o->spans, o->rounds);
    add_result("machine.cpu_loop.1t.median", one.median_ns, "ns/unit",
               "control: arithmetic only, no otelc");
    add_result("machine.cpu_loop.2t_over_1t", two.spans_per_s / one.spans_per_s, "x",
               "control: what 2 threads can get here");
}

static void run_mallocs(const struct options *o)
{
    struct pipeline pl;
    pipeline_open(&pl, true);
    bench_fill_pool(pl.tracer);            /* the pool at its bound, so that the worker's */
    bench_make_spans(pl.tracer, o->spans); /* pace does not decide; then rings, clock */
    otelc_provider_force_flush(pl.provider, 30000);

    otelc_stats before;
    otelc_provider_stats(pl.provider, &before); /* bench_fill_pool() drops spans on purpose */
    uint64_t thread0 = allocs_thread;
    uint64_t process0 = atomic_load(&allocs_process);
    bench_make_spans(pl.tracer, o->spans);
    uint64_t thread1 = allocs_thread;
    otelc_provider_force_flush(pl.provider, 30000);
    uint64_t process1 = atomic_load(&allocs_process);

    otelc_stats st;
    pipeline_close(&pl, &st);
    double n = (double)o->spans;
    char note[96];
    snprintf(note, sizeof note, "%llu calls in %llu spans; target 0",
             (unsigned long long)(thread1 - thread0), (unsigned long long)o->spans);
    add_result("mallocs.app_thread_per_span", (double)(thread1 - thread0) / n, "calls", note);
    snprintf(note, sizeof note, "%llu calls, export worker and flush included",
             (unsigned long long)(process1 - process0));
    add_result("mallocs.process_per_span", (double)(process1 - process0) / n, "calls", note);
    add_result("mallocs.dropped", (double)(st.spans_dropped - before.spans_dropped), "spans",
               BENCH_COUNT_ALLOCS ? NULL : "allocator calls not counted (sanitizer build)");
}

/*
 * n spans in chunks of one export batch, each followed by a flush that waits
 * for the worker to export it. Under valgrind the threads are serialised and
 * the worker would otherwise run too rarely to keep up (spans would be
 * dropped and the count would be wrong); a flush per full batch costs what
 * the worker's wake-up costs anyway.
 */
static void make_spans_flushed(const struct pipeline *pl, uint64_t n)
{
    const uint64_t chunk = 8192; /* max_export_batch_size */
    for (uint64_t done = 0; done < n; done += chunk) {
        bench_make_spans(pl->tracer, n - done < chunk ? n - done : chunk);
        if (pl->provider) otelc_provider_force_flush(pl->provider, 30000);
    }
}

/*
 * Exactly n spans of the given kind inside the instrumented window, after the
 * same warm-up whatever n is. kind: "sampled" (default), "unsampled" or
 * "disabled" (the no-op tracer).
 */
static void run_callgrind(const struct options *o, uint64_t n, const char *kind)
{
    bool disabled = strcmp(kind, "disabled") == 0;
    struct pipeline pl = {NULL, NULL};
    if (disabled)
        pl.tracer = otelc_tracer_get("otelc.bench", "1.0.0");
    else
        pipeline_open(&pl, strcmp(kind, "unsampled") != 0);
    make_spans_flushed(&pl, o->spans);
#if BENCH_HAVE_CALLGRIND
    CALLGRIND_START_INSTRUMENTATION;
#endif
    make_spans_flushed(&pl, n); /* the export of these spans counts too */
#if BENCH_HAVE_CALLGRIND
    CALLGRIND_STOP_INSTRUMENTATION;
#endif
    otelc_stats st = {0};
    if (pl.provider) pipeline_close(&pl, &st);
    add_result("callgrind.spans", (double)n, "spans", kind);
    add_result("callgrind.dropped", (double)st.spans_dropped, "spans", NULL);
}

static void run_memory(void)
{
    struct pipeline pl;
    pipeline_open(&pl, true);
    otelc_span *s = otelc_span_start(pl.tracer, "bench-span", OTELC_SPAN_INTERNAL);
    otelc_span_set_str(s, "http.method", "GET");
    otelc_span_set_int(s, "http.status_code", 200);
    otelc_span_set_double(s, "load.ratio", 0.25);

    size_t chunk_bytes = 0, chunks = 0;
    for (const otelc_arena_chunk *c = s->arena.chunks; c; c = c->next) {
        chunk_bytes += sizeof(*c) + c->size;
        chunks++;
    }
    /* The current arena position lies in the inline buffer until a chunk is taken. */
    size_t inline_used = chunks ? sizeof s->inline_buf : (size_t)(s->arena.pos - s->inline_buf);
    size_t queue_slot = sizeof(void *); /* a ring slot holds a pointer to the span */
    otelc_span_end(s);
    otelc_stats st;
    pipeline_close(&pl, &st);

    char note[96];
    add_result("memory.sizeof_span", (double)sizeof(struct otelc_span), "bytes",
               "struct otelc_span, from the pool");
    snprintf(note, sizeof note, "of %zu inline bytes (name + 3 keys + 1 string value)",
             sizeof s->inline_buf);
    add_result("memory.arena_inline_used", (double)inline_used, "bytes", note);
    snprintf(note, sizeof note, "%zu chunks", chunks);
    add_result("memory.arena_chunk_bytes", (double)chunk_bytes, "bytes", note);
    add_result("memory.queue_slot", (double)queue_slot, "bytes", "batch ring slot");
    add_result("memory.per_queued_span",
               (double)(sizeof(struct otelc_span) + chunk_bytes + queue_slot), "bytes",
               "span + chunks + ring slot; target <= 512");
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_span [sampled|unsampled [threads] | disabled | mallocs |\n"
                    "                   callgrind N [sampled|unsampled|disabled] |\n"
                    "                   memory | machine | features | all]\n"
                    "                  [--json] [--spans N] [--rounds N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct options o = {.spans = 1000000, .rounds = 7, .json = false};
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            o.json = true;
        } else if (strcmp(argv[i], "--spans") == 0 && i + 1 < argc) {
            o.spans = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            o.rounds = atoi(argv[++i]);
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            usage();
        }
    }
    if (o.spans == 0 || o.rounds < 1 || o.rounds > MAX_ROUNDS) usage();
    const char *mode = pos[0] ? pos[0] : "all";
    bool by_threads = strcmp(mode, "sampled") == 0 || strcmp(mode, "unsampled") == 0;
    int threads = by_threads && pos[1] ? atoi(pos[1]) : 0;
    if (threads < 0 || threads > 2) usage();

    if (strcmp(mode, "sampled") == 0) {
        run_pipeline(&o, true, threads);
    } else if (strcmp(mode, "unsampled") == 0) {
        run_pipeline(&o, false, threads);
    } else if (strcmp(mode, "disabled") == 0) {
        run_disabled(&o);
    } else if (strcmp(mode, "machine") == 0) {
        run_machine(&o);
    } else if (strcmp(mode, "mallocs") == 0) {
        run_mallocs(&o);
    } else if (strcmp(mode, "callgrind") == 0) {
        if (!pos[1]) usage();
        o.spans = 100000; /* warm-up */
        const char *kind = pos[2] ? pos[2] : "sampled";
        if (strcmp(kind, "sampled") != 0 && strcmp(kind, "unsampled") != 0 &&
            strcmp(kind, "disabled") != 0)
            usage();
        run_callgrind(&o, strtoull(pos[1], NULL, 10), kind);
    } else if (strcmp(mode, "memory") == 0) {
        run_memory();
    } else if (strcmp(mode, "features") == 0) {
        printf("callgrind_client_requests=%d\ncount_allocs=%d\n", BENCH_HAVE_CALLGRIND,
               BENCH_COUNT_ALLOCS);
        return 0;
    } else if (strcmp(mode, "all") == 0) {
        run_pipeline(&o, true, 0);
        run_pipeline(&o, false, 0);
        run_disabled(&o);
        run_machine(&o);
        run_mallocs(&o);
        run_memory();
    } else {
        usage();
    }
    print_table();
    if (o.json) print_json(mode);
    return 0;
}
