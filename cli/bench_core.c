/*
 * bench_core.c - the SDK overhead benchmark (see bench_core.h).
 *
 * One figure is one timed run of params.iterations spans per thread after a
 * warm-up run that fills the span pool, the batch ring and the clock caches:
 * a user's single number, not the median-of-rounds statistics of
 * bench/bench_span.c, which builds those from the same primitives.
 */
#define _GNU_SOURCE
#include "bench_core.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Big enough that the measured spans of a default run are never dropped. */
#define PIPE_QUEUE 65536
#define PIPE_BATCH 8192
#define FLUSH_MS   30000

uint64_t bench_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* noinline: the loop stays one function in profiles and in callgrind windows. */
__attribute__((noinline)) void bench_make_spans(otelc_tracer *tracer, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        otelc_span *s = otelc_span_start(tracer, "bench-span", OTELC_SPAN_INTERNAL);
        otelc_span_set_str(s, "http.method", "GET");
        otelc_span_set_int(s, "http.status_code", 200);
        otelc_span_set_double(s, "load.ratio", 0.25);
        otelc_span_end(s);
    }
}

/* While set, the discarding exporter does not return (bench_hold_exports). */
static atomic_bool exports_held;

void bench_hold_exports(bool hold)
{
    atomic_store(&exports_held, hold);
}

static otelc_export_result discard_export(void *self, const otelc_span_data *const *spans,
                                          size_t count)
{
    (void)self;
    (void)spans;
    (void)count;
    while (atomic_load(&exports_held)) usleep(1000);
    return OTELC_EXPORT_SUCCESS;
}

static const otelc_exporter_ops discard_ops = {.export_spans = discard_export};

void bench_fill_pool(otelc_tracer *tracer)
{
    bench_hold_exports(true);
    bench_make_spans(tracer, PIPE_QUEUE + 2 * PIPE_BATCH); /* the rest are dropped */
    bench_hold_exports(false);
}

otelc_provider *bench_pipeline_new(bool sampled)
{
    otelc_batch_options bo = {
        .max_queue_size = PIPE_QUEUE,
        .schedule_delay_ms = 1000,
        .max_export_batch_size = PIPE_BATCH,
        .export_timeout_ms = FLUSH_MS,
    };
    otelc_processor *proc = otelc_batch_processor_new(otelc_exporter_new(&discard_ops, NULL), &bo);
    if (!proc) return NULL;
    otelc_processor *procs[1] = {proc};
    otelc_provider_options po = {
        .no_env = true,
        .sampler = sampled ? otelc_sampler_always_on() : otelc_sampler_always_off(),
        .processors = procs,
        .processor_count = 1,
    };
    otelc_provider *p = NULL;
    return otelc_provider_new(&po, &p) == OTELC_OK ? p : NULL;
}

/* ---- Threads started together ------------------------------------------------- */

/* Workers wait at this gate until every one exists, then start together (or give up). */
enum { GATE_WAIT, GATE_GO, GATE_ABORT };

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t open;
    int state;
};

struct worker {
    void (*work)(otelc_tracer *, uint64_t);
    otelc_tracer *tracer;
    uint64_t n;
    struct gate *gate;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->gate->lock);
    while (w->gate->state == GATE_WAIT) pthread_cond_wait(&w->gate->open, &w->gate->lock);
    int state = w->gate->state;
    pthread_mutex_unlock(&w->gate->lock);
    if (state == GATE_GO) w->work(w->tracer, w->n);
    return NULL;
}

static void gate_set(struct gate *g, int state)
{
    pthread_mutex_lock(&g->lock);
    g->state = state;
    pthread_cond_broadcast(&g->open);
    pthread_mutex_unlock(&g->lock);
}

uint64_t bench_run_threads(void (*work)(otelc_tracer *, uint64_t), otelc_tracer *tracer,
                           int threads, uint64_t n)
{
    if (threads < 1 || threads > BENCH_MAX_THREADS) return 0;
    if (threads == 1) {
        /* On the calling thread: no thread start-up inside the measurement. */
        uint64_t t0 = bench_mono_ns();
        work(tracer, n);
        uint64_t elapsed = bench_mono_ns() - t0;
        return elapsed ? elapsed : 1;
    }
    pthread_t tid[BENCH_MAX_THREADS];
    struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, GATE_WAIT};
    struct worker w = {work, tracer, n, &gate};
    int started = 0;
    while (started < threads && pthread_create(&tid[started], NULL, worker_main, &w) == 0)
        started++;
    uint64_t t0 = bench_mono_ns();
    gate_set(&gate, started == threads ? GATE_GO : GATE_ABORT);
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
    uint64_t elapsed = bench_mono_ns() - t0;
    pthread_mutex_destroy(&gate.lock);
    pthread_cond_destroy(&gate.open);
    if (started < threads) return 0;
    return elapsed ? elapsed : 1;
}

/* ---- Figures ----------------------------------------------------------------------- */

void bench_params_default(bench_params *p)
{
    p->iterations = 200000;
    p->warmup = 20000;
    p->threads = 1;
}

bool bench_params_check(const bench_params *p, char *err, size_t err_size)
{
    const char *why = NULL;
    if (p->iterations == 0 || p->iterations > 1000000000u)
        why = "iterations must be between 1 and 1000000000";
    else if (p->warmup > 1000000000u)
        why = "warmup must be at most 1000000000";
    else if (p->threads < 1 || p->threads > BENCH_MAX_THREADS)
        why = "threads must be between 1 and 64";
    if (why) snprintf(err, err_size, "%s", why);
    return why == NULL;
}

static void fill_figure(bench_figure *f, const bench_params *p, uint64_t elapsed_ns)
{
    f->spans = p->iterations * (uint64_t)p->threads;
    f->ns_per_span = (double)elapsed_ns / (double)p->iterations;
    f->spans_per_s = (double)f->spans * 1e9 / (double)elapsed_ns;
}

/* Warm up, then time; the provider's counters cover the measured spans only. */
static int measure(otelc_provider *provider, otelc_tracer *tracer, const bench_params *p,
                   bench_figure *f)
{
    memset(f, 0, sizeof *f);
    if (p->warmup && !bench_run_threads(bench_make_spans, tracer, p->threads, p->warmup)) return -1;
    otelc_stats before = {0}, after = {0};
    if (provider) {
        otelc_provider_force_flush(provider, FLUSH_MS);
        otelc_provider_stats(provider, &before);
    }
    uint64_t elapsed = bench_run_threads(bench_make_spans, tracer, p->threads, p->iterations);
    if (!elapsed) return -1;
    fill_figure(f, p, elapsed);
    if (provider) {
        otelc_provider_force_flush(provider, FLUSH_MS);
        otelc_provider_stats(provider, &after);
        f->dropped = after.spans_dropped - before.spans_dropped;
        f->exported = after.spans_exported - before.spans_exported;
        f->failed = after.spans_export_failed - before.spans_export_failed;
    }
    return 0;
}

static int measure_pipeline(bool sampled, const bench_params *p, bench_figure *f)
{
    otelc_provider *provider = bench_pipeline_new(sampled);
    if (!provider) return -1;
    otelc_tracer *tracer = otelc_provider_tracer(provider, "otelc.bench", OTELC_VERSION, NULL);
    int rc = measure(provider, tracer, p, f);
    otelc_provider_free(provider);
    return rc;
}

int bench_run(const bench_params *p, bench_result *out)
{
    memset(out, 0, sizeof *out);
    out->params = *p;
    if (measure_pipeline(true, p, &out->sampled) != 0) return -1;
    if (measure_pipeline(false, p, &out->unsampled) != 0) return -1;
    /* A NULL provider hands out the no-op tracer: what a disabled SDK costs. */
    otelc_tracer *noop = otelc_provider_tracer(NULL, "otelc.bench", OTELC_VERSION, NULL);
    return measure(NULL, noop, p, &out->disabled);
}

/* ---- The export run ---------------------------------------------------------------- */

static void exporter_label(char *out, size_t size)
{
    const char *e = getenv("OTEL_TRACES_EXPORTER");
    if (getenv("OTEL_CONFIG_FILE") && *getenv("OTEL_CONFIG_FILE")) e = "config file";
    snprintf(out, size, "%s", e && *e ? e : "default");
}

int bench_run_export(const bench_params *p, uint32_t flush_timeout_ms, bench_result *out)
{
    out->export_run.ran = false;
    otelc_provider_options po = {.sampler = otelc_sampler_always_on(), .ignore_env_parent = true};
    otelc_provider *provider = NULL;
    int rc = otelc_provider_new(&po, &provider);
    if (rc != OTELC_OK) return rc;
    if (otelc_provider_is_disabled(provider) || atomic_load(&provider->processor_count) == 0) {
        otelc_provider_free(provider);
        return OTELC_OK;
    }
    otelc_tracer *tracer = otelc_provider_tracer(provider, "otelc.bench", OTELC_VERSION, NULL);
    uint64_t n = p->iterations < BENCH_MAX_EXPORT_SPANS ? p->iterations : BENCH_MAX_EXPORT_SPANS;
    bench_figure *f = &out->export_run.figure;
    memset(f, 0, sizeof *f);
    uint64_t t0 = bench_mono_ns();
    bench_make_spans(tracer, n);
    otelc_provider_force_flush(provider, flush_timeout_ms);
    uint64_t elapsed = bench_mono_ns() - t0;
    otelc_stats st;
    otelc_provider_stats(provider, &st);
    otelc_provider_shutdown(provider, flush_timeout_ms);
    otelc_provider_free(provider);

    out->export_run.ran = true;
    exporter_label(out->export_run.exporter, sizeof out->export_run.exporter);
    out->export_run.seconds = (double)(elapsed ? elapsed : 1) / 1e9;
    f->spans = n;
    f->ns_per_span = (double)elapsed / (double)n;
    f->dropped = st.spans_dropped;
    f->exported = st.spans_exported;
    f->failed = st.spans_export_failed;
    f->spans_per_s = (double)f->exported / out->export_run.seconds;
    return OTELC_OK;
}

/* ---- JSON ------------------------------------------------------------------------------ */

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append like snprintf, counting what would be needed once the buffer is full. */
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) o->len += (size_t)n;
}

static void put_figure(struct out *o, const char *name, const bench_figure *f)
{
    put(o,
        "\"%s\":{\"ns_per_span\":%.3f,\"spans_per_s\":%.1f,\"spans\":%llu,\"dropped\":%llu,"
        "\"exported\":%llu,\"failed\":%llu}",
        name, f->ns_per_span, f->spans_per_s, (unsigned long long)f->spans,
        (unsigned long long)f->dropped, (unsigned long long)f->exported,
        (unsigned long long)f->failed);
}

/* The exporter label with anything that would need JSON escaping replaced. */
static void safe_label(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
    }
    out[i] = '\0';
}

size_t bench_result_json(const bench_result *r, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (size) buf[0] = '\0';
    put(&o, "{\"iterations\":%llu,\"warmup\":%llu,\"threads\":%d,",
        (unsigned long long)r->params.iterations, (unsigned long long)r->params.warmup,
        r->params.threads);
    put_figure(&o, "sampled", &r->sampled);
    put(&o, ",");
    put_figure(&o, "unsampled", &r->unsampled);
    put(&o, ",");
    put_figure(&o, "disabled", &r->disabled);
    if (!r->export_run.ran) {
        put(&o, ",\"export\":null}");
        return o.len;
    }
    char label[sizeof r->export_run.exporter];
    safe_label(r->export_run.exporter, label, sizeof label);
    const bench_figure *f = &r->export_run.figure;
    put(&o,
        ",\"export\":{\"exporter\":\"%s\",\"seconds\":%.3f,\"spans\":%llu,\"exported\":%llu,"
        "\"dropped\":%llu,\"failed\":%llu,\"spans_per_s\":%.1f}}",
        label, r->export_run.seconds, (unsigned long long)f->spans, (unsigned long long)f->exported,
        (unsigned long long)f->dropped, (unsigned long long)f->failed, f->spans_per_s);
    return o.len;
}
