/*
 * bench_export.c - end-to-end export benchmarks: spans through the batch
 * processor and the OTLP exporter to a receiver on loopback (see
 * docs/performance.md; bench/discard_receiver.c is the receiver).
 *
 *   bench_export run PROTOCOL URL [--spans N] [--rate R]
 *       N spans (default 4000000) from one thread through
 *       otelc_batch_processor_new(otelc_otlp_exporter_new(), queue 65536,
 *       batch 8192) to URL, as fast as the thread can make them (or paced
 *       at R spans/s); then a flush. Reports spans/s from the first span
 *       to the end of the flush (exported spans / that time), the
 *       producer's own rate, and the exported, dropped and failed counts.
 *       PROTOCOL: http/protobuf, http/json or grpc.
 *   bench_export steady URL|down [--seconds S] [--rate R] [--protocol P]
 *       R spans/s (default 100000) for S seconds (default 60), paced, to URL
 *       or, with "down", to a loopback port nobody listens on. Samples the
 *       RSS (/proc/self/statm) every second and times every otelc_span_end()
 *       call with the TSC: reports RSS start/max/end/growth against the
 *       queue's bound (65536 x the bytes a queued span holds: its malloc
 *       chunk and its ring slot) and the p50/p99/p99.9
 *       of the span-end cost, to compare a backend that is up with one that
 *       is down.
 *   bench_export flood PROTOCOL URL [--seconds S]
 *       The receiver's ceiling: one real 8192-span batch, encoded once, is
 *       POSTed over and over for S seconds (default 5) on one connection,
 *       as the exporter would send it: with libcurl (OTLP/HTTP), or with
 *       the exporter's HTTP/2 client (OTLP/gRPC).
 *
 * Every span is the one of bench_span: "bench-span" with three attributes
 * (a short string, an int, a double); with --shape trace (run and steady)
 * spans come as traces of three instead, as an HTTP service makes them: a
 * SERVER span with nine attributes and two CLIENT children (the traces
 * bench/run_view.sh sends to otelc view). N and R still count spans.
 * Output: one figure per line (name, value, unit, note), as bench/run.sh
 * prints them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#else
#define BENCH_HAVE_TSC 0
#endif

#ifdef BENCH_HAVE_CURL
#include <curl/curl.h>
#endif

#include "export/otlp.h"
#include "internal.h"
#include "otelc/exporters.h"

#define QUEUE       65536
#define BATCH       8192
#define FLUSH_MS    120000
#define HIST_NS     65536 /* span-end costs are binned by the nanosecond up to this */
#define MAX_SECONDS 3600

/* ---- Output --------------------------------------------------------------------------------- */

static void figure(const char *name, double value, const char *unit, const char *note)
{
    char v[32];
    if (value >= 100 || value == (double)(uint64_t)value)
        snprintf(v, sizeof v, "%.0f", value);
    else
        snprintf(v, sizeof v, "%.2f", value);
    printf("%-40s %14s %-10s %s\n", name, v, unit, note ? note : "");
    fflush(stdout);
}

__attribute__((noreturn)) static void usage(void)
{
    fprintf(stderr, "usage: bench_export run PROTOCOL URL [--spans N] [--rate R] [--shape S]\n"
                    "       bench_export steady URL|down [--seconds S] [--rate R] [--protocol P]\n"
                    "                                    [--shape S]\n"
                    "       bench_export flood PROTOCOL URL [--seconds S]\n"
                    "PROTOCOL: http/protobuf, http/json or grpc; S: span (default) or trace\n");
    exit(2);
}

static bool parse_protocol(const char *s, otelc_otlp_protocol *out)
{
    if (strcmp(s, "http/protobuf") == 0)
        *out = OTELC_OTLP_HTTP_PROTOBUF;
    else if (strcmp(s, "http/json") == 0)
        *out = OTELC_OTLP_HTTP_JSON;
    else if (strcmp(s, "grpc") == 0)
        *out = OTELC_OTLP_GRPC;
    else
        return false;
    return true;
}

/* A short figure-name form of a protocol: "proto", "json", "grpc". */
static const char *protocol_tag(otelc_otlp_protocol p)
{
    return p == OTELC_OTLP_HTTP_JSON ? "json" : p == OTELC_OTLP_GRPC ? "grpc" : "proto";
}

/* CPU time of the whole process (every thread), user and system. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- The pipeline -----------------------------------------------------------------------------
 */

typedef struct pipeline {
    otelc_provider *provider;
    otelc_tracer *tracer;
    otelc_exporter *exporter; /* owned by the provider; kept for its counters */
} pipeline;

static bool pipeline_open(pipeline *pl, otelc_otlp_protocol proto, const char *url)
{
    /*
     * The exporter's defaults otherwise (10 s timeout, 5 attempts, backoff
     * from 1 s, circuit breaker after 5 failures): what a user gets, which
     * is what the backend-down run has to show.
     */
    otelc_otlp_exporter_options o = {.endpoint = url, .protocol = proto};
    pl->exporter = otelc_otlp_exporter_new(&o);
    if (!pl->exporter) return false;
    otelc_batch_options bo = {
        .max_queue_size = QUEUE,
        .schedule_delay_ms = 1000,
        .max_export_batch_size = BATCH,
        .export_timeout_ms = 30000,
    };
    otelc_processor *proc = otelc_batch_processor_new(pl->exporter, &bo);
    if (!proc) return false;
    otelc_processor *procs[1] = {proc};
    otelc_provider_options po = {
        .no_env = true,
        .sampler = otelc_sampler_always_on(),
        .processors = procs,
        .processor_count = 1,
    };
    if (otelc_provider_new(&po, &pl->provider) != OTELC_OK) return false;
    pl->tracer = otelc_provider_tracer(pl->provider, "bench.export", "1.0.0", NULL);
    return pl->tracer != NULL;
}

static inline otelc_span *span_begin(otelc_tracer *t)
{
    otelc_span *s = otelc_span_start(t, "bench-span", OTELC_SPAN_INTERNAL);
    otelc_span_set_str(s, "http.method", "GET");
    otelc_span_set_int(s, "http.status_code", 200);
    otelc_span_set_double(s, "load.ratio", 0.25);
    return s;
}

/* --shape trace: what is made per unit (a span, or a trace of TRACE_SPANS spans). */
static bool shape_trace;
#define TRACE_SPANS 3

/*
 * A request as an instrumented HTTP service records it: a SERVER span with
 * the nine attributes of the HTTP semantic conventions (one of them, the
 * user id, different in every trace), and two children made while it is
 * active, a database query and an outgoing HTTP call. Every hundredth
 * request fails. Ends the children, then the root, through end.
 */
static void trace_make(otelc_tracer *t, void *ctx, void (*end)(void *ctx, otelc_span *s))
{
    static uint64_t requests;
    char user[24];
    uint64_t n = ++requests;
    int len = snprintf(user, sizeof user, "%llu", (unsigned long long)n);
    otelc_span *root = otelc_span_start(t, "GET /users/{id}", OTELC_SPAN_SERVER);
    otelc_span_set_str(root, "http.request.method", "GET");
    otelc_span_set_str(root, "url.path", "/users/42");
    otelc_span_set_str(root, "http.route", "/users/{id}");
    otelc_span_set_str(root, "url.scheme", "http");
    otelc_span_set_str(root, "server.address", "127.0.0.1");
    otelc_span_set_int(root, "server.port", 8080);
    otelc_span_set_int(root, "http.response.status_code", n % 100 ? 200 : 500);
    otelc_span_set_str(root, "user_agent.original", "bench_export");
    otelc_span_set_strn(root, "user.id", user, (size_t)len);
    if (n % 100 == 0) otelc_span_set_status(root, OTELC_STATUS_ERROR, NULL);
    otelc_scope scope = otelc_span_activate(root);
    otelc_span *q = otelc_span_start(t, "SELECT users", OTELC_SPAN_CLIENT);
    otelc_span_set_str(q, "db.system.name", "postgresql");
    otelc_span_set_str(q, "db.query.text", "SELECT name FROM users WHERE id = $1");
    otelc_span_set_str(q, "db.namespace", "shop");
    end(ctx, q);
    otelc_span *c = otelc_span_start(t, "GET", OTELC_SPAN_CLIENT);
    otelc_span_set_str(c, "http.request.method", "GET");
    otelc_span_set_str(c, "url.full", "http://127.0.0.1:8081/users/42");
    end(ctx, c);
    otelc_scope_exit(scope);
    end(ctx, root);
}

/* One unit of the shape; returns the spans it made. */
static inline uint64_t make_unit(otelc_tracer *t, void *ctx, void (*end)(void *ctx, otelc_span *s))
{
    if (!shape_trace) {
        end(ctx, span_begin(t));
        return 1;
    }
    trace_make(t, ctx, end);
    return TRACE_SPANS;
}

/*
 * The provider's counters since before (the warm-up is not counted) and the
 * exporter's (warm-up included), as figures named prefix.*.
 */
static void report_counts(const char *prefix, const pipeline *pl, const otelc_stats *before,
                          uint64_t spans)
{
    char name[96], note[128];
    otelc_stats st;
    otelc_provider_stats(pl->provider, &st);
    st.spans_exported -= before->spans_exported;
    st.spans_dropped -= before->spans_dropped;
    st.spans_export_failed -= before->spans_export_failed;
    snprintf(name, sizeof name, "%s.exported", prefix);
    snprintf(note, sizeof note, "of %llu spans", (unsigned long long)spans);
    figure(name, (double)st.spans_exported, "spans", note);
    snprintf(name, sizeof name, "%s.dropped", prefix);
    figure(name, (double)st.spans_dropped, "spans", "queue full (65536)");
    snprintf(name, sizeof name, "%s.failed", prefix);
    figure(name, (double)st.spans_export_failed, "spans", "in failed exports");
    otelc_otlp_stats os;
    if (otelc__otlp_exporter_stats(pl->exporter, &os)) {
        snprintf(name, sizeof name, "%s.requests", prefix);
        snprintf(note, sizeof note,
                 "retries %llu, batches ok %llu failed %llu, breaker opened %llu skipped %llu",
                 (unsigned long long)os.retries, (unsigned long long)os.exports_ok,
                 (unsigned long long)os.exports_failed, (unsigned long long)os.breaker_opened,
                 (unsigned long long)os.breaker_skipped);
        figure(name, (double)os.requests, "requests", note);
    }
}

/*
 * Make spans at rate per second (0: flat out) until n are made or until
 * deadline_ns (0: none). Pacing sleeps to 1 ms ticks and makes what is due,
 * so the rate holds on average without a spinning thread.
 */
typedef void (*tick_fn)(void *ctx, uint64_t now_ns);

static uint64_t produce(otelc_tracer *t, uint64_t n, double rate, uint64_t seconds, tick_fn tick,
                        void *ctx, void (*end)(void *ctx, otelc_span *s))
{
    uint64_t made = 0, start = mono_ns();
    uint64_t deadline = seconds ? start + seconds * 1000000000u : 0;
    if (rate <= 0) {
        while (made < n) made += make_unit(t, ctx, end);
        return made;
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        uint64_t now = mono_ns();
        if (deadline && now >= deadline) break;
        uint64_t due = (uint64_t)((double)(now - start) * rate / 1e9);
        if (n && due > n) due = n;
        while (made < due) made += make_unit(t, ctx, end);
        if (n && made >= n) break;
        if (tick) tick(ctx, now);
        next.tv_nsec += 1000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
    }
    return made;
}

static void end_plain(void *ctx, otelc_span *s)
{
    (void)ctx;
    otelc_span_end(s);
}

/* ---- run: end-to-end throughput -------------------------------------------------------------- */

static int run_throughput(otelc_otlp_protocol proto, const char *url, uint64_t n, double rate)
{
    pipeline pl;
    if (!pipeline_open(&pl, proto, url)) {
        fprintf(stderr, "bench_export: no OTLP pipeline (a build without libcurl?)\n");
        return 1;
    }
    /* Warm-up: connection, span pool, encode buffers; not counted below. */
    produce(pl.tracer, BATCH, 0, 0, NULL, NULL, end_plain);
    otelc_provider_force_flush(pl.provider, FLUSH_MS);
    otelc_stats before;
    otelc_provider_stats(pl.provider, &before);

    uint64_t c0 = cpu_ns(), t0 = mono_ns();
    uint64_t made = produce(pl.tracer, n, rate, 0, NULL, NULL, end_plain);
    uint64_t t1 = mono_ns();
    int frc = otelc_provider_force_flush(pl.provider, FLUSH_MS);
    uint64_t t2 = mono_ns(), c2 = cpu_ns();
    otelc_stats st;
    otelc_provider_stats(pl.provider, &st);

    char prefix[64], name[96], note[128];
    snprintf(prefix, sizeof prefix, "export.%s.%s", protocol_tag(proto),
             rate > 0 ? "paced" : "max");
    uint64_t exported = st.spans_exported - before.spans_exported;
    uint64_t dropped = st.spans_dropped - before.spans_dropped;
    uint64_t failed = st.spans_export_failed - before.spans_export_failed;
    double total_s = (double)(t2 - t0) / 1e9;
    snprintf(name, sizeof name, "%s.spans_per_s", prefix);
    snprintf(note, sizeof note, "exported / (first span .. flush done = %.2f s)%s", total_s,
             frc == OTELC_OK ? "" : "; flush timed out");
    figure(name, (double)exported / total_s, "spans/s", note);
    snprintf(name, sizeof name, "%s.producer_spans_per_s", prefix);
    if (rate > 0)
        snprintf(note, sizeof note, "paced at %.0f/s", rate);
    else
        snprintf(note, sizeof note, "one thread, unpaced");
    figure(name, (double)made / ((double)(t1 - t0) / 1e9), "spans/s", note);
    snprintf(name, sizeof name, "%s.sender_cpu_per_span", prefix);
    snprintf(note, sizeof note, "the sender's CPU (every thread, user + system): %.2f s",
             (double)(c2 - c0) / 1e9);
    figure(name, made ? (double)(c2 - c0) / (double)made : 0, "ns", note);
    snprintf(name, sizeof name, "%s.exported", prefix);
    snprintf(note, sizeof note, "of %llu spans", (unsigned long long)made);
    figure(name, (double)exported, "spans", note);
    snprintf(name, sizeof name, "%s.exported_total", prefix);
    figure(name, (double)st.spans_exported, "spans",
           "the warm-up batch included: what the receiver acknowledged");
    snprintf(name, sizeof name, "%s.dropped", prefix);
    figure(name, (double)dropped, "spans", "queue full (65536); target 0");
    snprintf(name, sizeof name, "%s.failed", prefix);
    figure(name, (double)failed, "spans", "in failed exports");
    otelc_otlp_stats os;
    if (otelc__otlp_exporter_stats(pl.exporter, &os)) {
        snprintf(name, sizeof name, "%s.requests", prefix);
        snprintf(note, sizeof note, "retries %llu, batches failed %llu (warm-up included)",
                 (unsigned long long)os.retries, (unsigned long long)os.exports_failed);
        figure(name, (double)os.requests, "requests", note);
    }
    otelc_provider_free(pl.provider);
    return 0;
}

/* ---- steady: RSS and span-end cost at a paced rate ------------------------------------------ */

typedef struct steady {
    uint64_t *hist; /* span-end cost, 1 ns bins; the last bin holds the overflow */
    uint64_t count, max_ns;
    double ns_per_tick;
    uint64_t next_sample_ns;
    double rss_mib[MAX_SECONDS + 2];
    int rss_n;
} steady;

static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int ok = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return ok == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0) : 0;
}

static inline uint64_t ticks(void)
{
#if BENCH_HAVE_TSC
    /* lfence keeps rdtsc from running ahead of, or behind, the timed call. */
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return mono_ns();
#endif
}

/* Nanoseconds per tick, against CLOCK_MONOTONIC over 200 ms. */
static double calibrate(void)
{
#if BENCH_HAVE_TSC
    uint64_t n0 = mono_ns(), t0 = ticks();
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    uint64_t n1 = mono_ns(), t1 = ticks();
    return (double)(n1 - n0) / (double)(t1 - t0);
#else
    return 1.0;
#endif
}

static void end_timed(void *ctx, otelc_span *s)
{
    steady *st = ctx;
    uint64_t a = ticks();
    otelc_span_end(s);
    uint64_t b = ticks();
    uint64_t ns = (uint64_t)((double)(b - a) * st->ns_per_tick);
    st->hist[ns < HIST_NS ? ns : HIST_NS - 1]++;
    if (ns > st->max_ns) st->max_ns = ns;
    st->count++;
}

static void sample_rss(void *ctx, uint64_t now)
{
    steady *st = ctx;
    if (now < st->next_sample_ns || st->rss_n > MAX_SECONDS) return;
    st->rss_mib[st->rss_n++] = rss_mib();
    st->next_sample_ns += 1000000000u;
}

static uint64_t percentile(const steady *st, double q)
{
    uint64_t want = (uint64_t)((double)st->count * q), seen = 0;
    for (uint64_t i = 0; i < HIST_NS; i++) {
        seen += st->hist[i];
        if (seen > want) return i;
    }
    return HIST_NS;
}

/* A loopback URL whose port had a listener a moment ago and has none now. */
static bool closed_port_url(char *out, size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    close(fd);
    if (ok) snprintf(out, n, "http://127.0.0.1:%d/v1/traces", ntohs(a.sin_port));
    return ok;
}

/*
 * What the allocator really hands out for p: glibc's chunk is the usable
 * size plus its size_t header (a 504-byte span takes a 512-byte chunk).
 */
static size_t footprint(void *p, size_t requested)
{
#ifdef __GLIBC__
    (void)requested;
    return malloc_usable_size(p) + sizeof(size_t);
#else
    (void)p;
    return requested;
#endif
}

/*
 * Bytes one queued span holds: its memory as the allocator gives it out
 * (span, arena chunks) and its ring slot. (bench_span's memory mode counts
 * sizeof instead, the span's own size.)
 */
static size_t bytes_per_queued_span(otelc_tracer *t)
{
    otelc_span *s = span_begin(t);
    size_t bytes = footprint(s, sizeof(*s)) + sizeof(void *);
    for (otelc_arena_chunk *c = s->arena.chunks; c; c = c->next)
        bytes += footprint(c, sizeof(*c) + c->size);
    otelc_span_end(s);
    return bytes;
}

static int run_steady(otelc_otlp_protocol proto, const char *url, uint64_t seconds, double rate)
{
    char down_url[64];
    bool down = strcmp(url, "down") == 0;
    if (down) {
        if (!closed_port_url(down_url, sizeof down_url)) {
            perror("bench_export: no free loopback port");
            return 1;
        }
        url = down_url;
    }
    if (seconds > MAX_SECONDS) seconds = MAX_SECONDS;
    /* Allocated and touched before the first RSS sample, so it is not growth. */
    steady *st = calloc(1, sizeof *st);
    if (!st) return 1;
    st->hist = malloc(HIST_NS * sizeof *st->hist);
    if (!st->hist) return 1;
    /*
     * Written through volatile: a memset of zero after malloc may become a
     * calloc, which leaves fresh pages untouched, and each newly seen
     * latency would then fault in a page and read as RSS growth.
     */
    volatile uint64_t *bins = st->hist;
    for (uint64_t i = 0; i < HIST_NS; i++) bins[i] = 0;
    st->ns_per_tick = calibrate();

    pipeline pl;
    if (!pipeline_open(&pl, proto, url)) {
        fprintf(stderr, "bench_export: no OTLP pipeline (a build without libcurl?)\n");
        return 1;
    }
    size_t per_span = bytes_per_queued_span(pl.tracer);
    /* Warm-up only when the backend is up: against a dead one it would open the breaker early. */
    if (!down) {
        produce(pl.tracer, BATCH, 0, 0, NULL, NULL, end_plain);
        otelc_provider_force_flush(pl.provider, FLUSH_MS);
    } else {
        /*
         * One span starts the batch worker, which loads libcurl and its TLS
         * libraries as it starts: in the RSS before the run, not in its growth.
         */
        produce(pl.tracer, 1, 0, 0, NULL, NULL, end_plain);
        for (int i = 0; i < 500 && !dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD); i++)
            usleep(10000);
        /* Then initialises them: until the RSS holds still for 100 ms (2 s at most). */
        double last = rss_mib();
        for (int still = 0, i = 0; still < 5 && i < 100; i++) {
            usleep(20000);
            double now = rss_mib();
            still = now == last ? still + 1 : 0;
            last = now;
        }
    }
    otelc_stats before;
    otelc_provider_stats(pl.provider, &before);

    uint64_t t0 = mono_ns();
    st->next_sample_ns = t0;
    sample_rss(st, t0);
    uint64_t made = produce(pl.tracer, 0, rate, seconds, sample_rss, st, end_timed);
    uint64_t t1 = mono_ns();
    st->rss_mib[st->rss_n++] = rss_mib();

    const char *label = down ? "down" : "up";
    char prefix[64], name[96], note[160];
    snprintf(prefix, sizeof prefix, "steady.%s", label);
    snprintf(name, sizeof name, "%s.rate", prefix);
    snprintf(note, sizeof note, "target %.0f/s for %llu s (%s, %s)", rate,
             (unsigned long long)seconds, protocol_tag(proto),
             down ? "nobody listening" : "discard receiver");
    figure(name, (double)made / ((double)(t1 - t0) / 1e9), "spans/s", note);

    double start = st->rss_mib[0], end = st->rss_mib[st->rss_n - 1], max = start;
    for (int i = 0; i < st->rss_n; i++)
        if (st->rss_mib[i] > max) max = st->rss_mib[i];
    double bound = (double)QUEUE * (double)per_span / (1024.0 * 1024.0);
    snprintf(name, sizeof name, "%s.rss_start", prefix);
    figure(name, start, "MiB", "before the first span, pipeline made and warm");
    snprintf(name, sizeof name, "%s.rss_max", prefix);
    figure(name, max, "MiB", "sampled every second");
    snprintf(name, sizeof name, "%s.rss_end", prefix);
    figure(name, end, "MiB", NULL);
    snprintf(name, sizeof name, "%s.rss_growth", prefix);
    snprintf(note, sizeof note, "max - start; target <= queue bound %.1f MiB", bound);
    figure(name, max - start, "MiB", note);
    snprintf(name, sizeof name, "%s.queue_bound", prefix);
    snprintf(note, sizeof note, "65536 x %zu bytes per queued span", per_span);
    figure(name, bound, "MiB", note);

    snprintf(name, sizeof name, "%s.span_end.p50", prefix);
    snprintf(note, sizeof note, "otelc_span_end() cost, %llu calls, %s",
             (unsigned long long)st->count, BENCH_HAVE_TSC ? "TSC" : "CLOCK_MONOTONIC");
    figure(name, (double)percentile(st, 0.50), "ns", note);
    snprintf(name, sizeof name, "%s.span_end.p99", prefix);
    figure(name, (double)percentile(st, 0.99), "ns", NULL);
    snprintf(name, sizeof name, "%s.span_end.p999", prefix);
    figure(name, (double)percentile(st, 0.999), "ns", NULL);
    snprintf(name, sizeof name, "%s.span_end.max", prefix);
    figure(name, (double)st->max_ns, "ns", "one call; preemption shows here");

    /*
     * The whole RSS curve in one line, for the write-up: growth that stops
     * at the bound, or does not.
     */
    printf("# %s rss MiB per second:", prefix);
    for (int i = 0; i < st->rss_n; i++) printf(" %.1f", st->rss_mib[i]);
    printf("\n");

    /* Against a dead backend a flush would wait for every retry: shut down instead. */
    if (!down) otelc_provider_force_flush(pl.provider, FLUSH_MS);
    otelc_provider_shutdown(pl.provider, down ? 2000 : FLUSH_MS);
    report_counts(prefix, &pl, &before, made);
    otelc_provider_free(pl.provider);
    free(st->hist);
    free(st);
    return 0;
}

/* ---- flood: the receiver's ceiling --------------------------------------------------------------
 */

#ifdef BENCH_HAVE_CURL
static otelc_buf captured;
static size_t captured_spans;

/* Encodes the first full batch it is given, once: that is the body flood sends. */
static otelc_export_result capture_export(void *self, const otelc_span_data *const *spans,
                                          size_t count)
{
    bool *json = self;
    if (captured_spans == 0 && count == BATCH) {
        int rc = *json ? otelc__otlp_encode_json(&captured, spans, count)
                       : otelc__otlp_encode_proto(&captured, spans, count);
        if (rc == OTELC_OK) captured_spans = count;
    }
    return OTELC_EXPORT_SUCCESS;
}

static size_t sink(char *p, size_t size, size_t n, void *user)
{
    (void)p, (void)user;
    return size * n;
}

/* OTLP/HTTP: body POSTed with libcurl until the clock passes until; returns the time then. */
static uint64_t flood_http(const char *url, bool json, const otelc_buf *body, uint64_t until,
                           uint64_t *requests, uint64_t *failures)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Expect:");
    h = curl_slist_append(h, json ? "Content-Type: application/json"
                                  : "Content-Type: application/x-protobuf");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    uint64_t now = mono_ns();
    while (now < until) {
        long status = 0;
        if (curl_easy_perform(c) != CURLE_OK ||
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200)
            (*failures)++;
        (*requests)++;
        now = mono_ns();
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return now;
}

/* OTLP/gRPC: the framed body sent by the exporter's own HTTP/2 client (src/export/h2_client.c). */
static uint64_t flood_grpc(const char *url, const otelc_buf *body, uint64_t until,
                           uint64_t *requests, uint64_t *failures)
{
    static const char *const fixed[] = {"Content-Type: application/grpc", "TE: trailers", NULL};
    char full[2048];
    snprintf(full, sizeof full, "%s%s", url, OTELC_GRPC_PATH);
    otelc_http_config cfg = {.url = full, .fixed_headers = fixed};
    otelc_h2 *h2 = otelc__h2_new(&cfg);
    otelc_body b = otelc__body_of(body);
    otelc_http_response resp = {0};
    uint64_t now = mono_ns();
    while (h2 && now < until) {
        otelc__h2_post(h2, &b, 10000, NULL, &resp);
        if (resp.transport_error || resp.grpc_status != 0) (*failures)++;
        (*requests)++;
        now = mono_ns();
    }
    otelc__http_response_free(&resp);
    otelc__h2_free(h2);
    return now;
}

static int run_flood(otelc_otlp_protocol proto, const char *url, uint64_t seconds)
{
    static const otelc_exporter_ops ops = {.export_spans = capture_export};
    bool json = proto == OTELC_OTLP_HTTP_JSON;
    otelc_batch_options bo = {.max_queue_size = QUEUE, .max_export_batch_size = BATCH};
    otelc_processor *procs[1] = {otelc_batch_processor_new(otelc_exporter_new(&ops, &json), &bo)};
    otelc_provider_options po = {.no_env = true,
                                 .sampler = otelc_sampler_always_on(),
                                 .processors = procs,
                                 .processor_count = 1};
    otelc_provider *p = NULL;
    if (!procs[0] || otelc_provider_new(&po, &p) != OTELC_OK) return 1;
    otelc_tracer *t = otelc_provider_tracer(p, "bench.export", "1.0.0", NULL);
    produce(t, BATCH, 0, 0, NULL, NULL, end_plain);
    otelc_provider_free(p);
    if (captured_spans == 0) {
        fprintf(stderr, "bench_export: no batch of %d spans captured\n", BATCH);
        return 1;
    }
    otelc_buf body = {0};
    size_t frame = proto == OTELC_OTLP_GRPC ? otelc__grpc_frame_begin(&body) : 0;
    otelc__buf_append(&body, captured.data, captured.len);
    if (proto == OTELC_OTLP_GRPC) otelc__grpc_frame_end(&body, frame, false);

    uint64_t requests = 0, failures = 0, t0 = mono_ns(), until = t0 + seconds * 1000000000u;
    uint64_t now = proto == OTELC_OTLP_GRPC
                       ? flood_grpc(url, &body, until, &requests, &failures)
                       : flood_http(url, json, &body, until, &requests, &failures);
    double s = (double)(now - t0) / 1e9;
    char name[96], note[160];
    snprintf(name, sizeof name, "flood.%s.requests_per_s", protocol_tag(proto));
    snprintf(note, sizeof note, "%zu-byte body (%zu spans, %.0f bytes/span), %llu failed", body.len,
             captured_spans, (double)captured.len / (double)captured_spans,
             (unsigned long long)failures);
    figure(name, (double)requests / s, "req/s", note);
    snprintf(name, sizeof name, "flood.%s.mib_per_s", protocol_tag(proto));
    figure(name, (double)requests * (double)body.len / s / (1024.0 * 1024.0), "MiB/s",
           proto == OTELC_OTLP_GRPC ? "the exporter's HTTP/2 client + receiver, one connection"
                                    : "libcurl + receiver, one connection");
    snprintf(name, sizeof name, "flood.%s.spans_per_s", protocol_tag(proto));
    figure(name, (double)(requests - failures) * (double)captured_spans / s, "spans/s",
           "the transport's ceiling with encoding taken out");
    otelc__buf_free(&body);
    otelc__buf_free(&captured);
    return 0;
}
#endif

/* ---- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    uint64_t spans = 4000000, seconds = 0;
    double rate = -1;
    const char *protocol = "http/protobuf";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--spans") == 0 && i + 1 < argc)
            spans = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--protocol") == 0 && i + 1 < argc)
            protocol = argv[++i];
        else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
            const char *shape = argv[++i];
            if (strcmp(shape, "trace") != 0 && strcmp(shape, "span") != 0) usage();
            shape_trace = strcmp(shape, "trace") == 0;
        } else if (argv[i][0] != '-' && npos < 3)
            pos[npos++] = argv[i];
        else
            usage();
    }
    if (npos < 2) usage();
    otelc_otlp_protocol proto = OTELC_OTLP_HTTP_PROTOBUF;
    if (strcmp(pos[0], "run") == 0) {
        if (npos != 3 || !parse_protocol(pos[1], &proto) || spans == 0) usage();
        return run_throughput(proto, pos[2], spans, rate < 0 ? 0 : rate);
    }
    if (strcmp(pos[0], "steady") == 0) {
        if (npos != 2 || !parse_protocol(protocol, &proto)) usage();
        return run_steady(proto, pos[1], seconds ? seconds : 60, rate <= 0 ? 100000 : rate);
    }
    if (strcmp(pos[0], "flood") == 0) {
        if (npos != 3 || !parse_protocol(pos[1], &proto)) usage();
#ifdef BENCH_HAVE_CURL
        return run_flood(proto, pos[2], seconds ? seconds : 5);
#else
        fprintf(stderr, "bench_export: flood needs libcurl\n");
        return 1;
#endif
    }
    usage();
}
