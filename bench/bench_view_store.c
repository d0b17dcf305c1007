/*
 * bench_view_store.c - the viewer's SQLite store alone: how fast spans go
 * in, what they cost in CPU and bytes written, how big they are on disk,
 * and how fast the queries the UI and API make come back on a large store,
 * asked of the store's functions or of a running viewer's HTTP API.
 *
 *   bench_view_store [--spans N] [--commit N] [--max-spans N] [--db FILE]
 *                    [--queries N] [--no-write] [--api URL]
 *
 * Writes --spans spans (default 1,000,000) as traces of three spans (a
 * SERVER span with nine attributes, a database CLIENT span, an outgoing
 * HTTP CLIENT span, over three services) in batches of 510 spans, --commit
 * spans per transaction (default 8192, the requests libotelc's exporter
 * sends in bench/run_view.sh), into --db (default a temporary file,
 * removed after). The traces start 10,000 a second and end about now. With
 * --max-spans (default 0: none) the store keeps at most that many and
 * retention runs after each commit as the ingest thread runs it: slices
 * of 20,000 spans while more is due.
 *
 * Then times, --queries times each (default 200): a trace by id, a TraceQL
 * search with a selective attribute condition (one trace of all has the
 * user id asked for), a Jaeger search by service and operation, the
 * operations table and the service map. --api URL asks the viewer at URL
 * (its UI and API port) instead, over one kept-alive connection (libcurl),
 * so the figures include the HTTP server and the API's JSON writing; the
 * viewer must serve the file this run wrote (start it on the same --db
 * after writing, or write with one run and query with --no-write, which
 * expects --db to hold what a run with the same --spans, --commit and
 * --max-spans wrote). Prints one "name value unit" line per figure.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_HAVE_CURL
#include <curl/curl.h>
#endif

#include "store.h"
#include "traceql.h"

#define SPANS_PER_BATCH 510 /* 170 traces of 3 */
#define SPANS_PER_TRACE 3
#define NS              ((uint64_t)1000000000)
#define TRACE_EVERY_NS  ((uint64_t)100000) /* 10,000 traces a second */
#define TRIM_BUDGET     20000              /* as ingest.c trims */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's CPU time, user and system, in seconds. */
static void cpu_s(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The calling thread's CPU time, user and system, in seconds. */
static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Bytes this process has written through write(2) and friends (/proc/self/io), or 0. */
static double written_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    if (!f) return 0;
    char line[128];
    double v = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lf", &v) == 1) break;
    fclose(f);
    return v;
}

static long arg_long(int argc, char **argv, const char *flag, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) return atol(argv[i + 1]);
    return def;
}

static const char *arg_str(int argc, char **argv, const char *flag)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) return argv[i + 1];
    return NULL;
}

static bool arg_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0) return true;
    return false;
}

/* ---- The workload ------------------------------------------------------------------------------
 */

static void make_id(uint8_t *out, size_t n, uint64_t v, uint64_t salt)
{
    uint64_t x = v * 0x9e3779b97f4a7c15ULL ^ salt;
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
        out[i] = (uint8_t)(x >> 56);
    }
    out[n - 1] |= 1;
}

typedef struct workload {
    const otelc_resource *frontend, *db, *downstream; /* of the batch being filled */
    otelc_scope_info scope;
    uint64_t t0;
    size_t batches_per_commit;
    uint64_t traces; /* traces written (or, with --no-write, that the file holds) */
    uint64_t held;   /* of which the newest this many are still held after retention */
} workload;

static char user_ids[SPANS_PER_BATCH / SPANS_PER_TRACE][16];

static otelc_span_data *span(vw_batch *b, const otelc_resource *res, uint64_t trace, uint64_t id,
                             uint64_t parent, const char *name, otelc_span_kind kind,
                             uint64_t start, uint64_t dur, const workload *w)
{
    otelc_span_data *sd = vw_batch_add_span(b);
    make_id(sd->context.trace_id, 16, trace, 1);
    make_id(sd->context.span_id, 8, id, 2);
    sd->context.trace_flags = 1;
    if (parent) {
        sd->has_parent = true;
        make_id(sd->parent_span_id, 8, parent, 2);
    }
    sd->name = name;
    sd->kind = kind;
    sd->start_ns = start;
    sd->end_ns = start + dur;
    sd->resource = res;
    sd->scope = &w->scope;
    return sd;
}

static otelc_resource *service(vw_batch *b, const char *name)
{
    otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", name),
                          OTELC_ATTR_STR("telemetry.sdk.language", "c"),
                          OTELC_ATTR_STR("host.name", "bench")};
    return vw_batch_add_resource(b, attrs, 3, NULL);
}

/* A batch as one request of the three services would make it: each resource owned by the batch. */
static void fill_batch(vw_batch *b, workload *w, uint64_t first_trace, size_t traces)
{
    w->frontend = service(b, "frontend");
    w->db = service(b, "users-db");
    w->downstream = service(b, "downstream");
    for (size_t k = 0; k < traces; k++) {
        uint64_t t = first_trace + k;
        uint64_t start = w->t0 + t * TRACE_EVERY_NS;
        snprintf(user_ids[k], sizeof user_ids[k], "%" PRIu64, t);
        otelc_attr *a = vw_batch_alloc(b, 9 * sizeof *a);
        a[0] = OTELC_ATTR_STR("http.request.method", "GET");
        a[1] = OTELC_ATTR_STR("url.path", "/users/42");
        a[2] = OTELC_ATTR_STR("http.route", "/users/{id}");
        a[3] = OTELC_ATTR_STR("url.scheme", "http");
        a[4] = OTELC_ATTR_STR("server.address", "127.0.0.1");
        a[5] = OTELC_ATTR_INT("server.port", 8080);
        a[6] = OTELC_ATTR_INT("http.response.status_code", t % 100 ? 200 : 500);
        a[7] = OTELC_ATTR_STR("user_agent.original", "wrk");
        a[8] = OTELC_ATTR_STR("user.id", vw_batch_str(b, user_ids[k], strlen(user_ids[k]), NULL));
        otelc_span_data *root = span(b, w->frontend, t, t * 3, 0, "GET /users/{id}",
                                     OTELC_SPAN_SERVER, start, 2000000 + t % 1000 * 1000, w);
        root->attrs = a;
        root->attr_count = 9;
        if (t % 100 == 0) root->status = OTELC_STATUS_ERROR;
        otelc_attr *d = vw_batch_alloc(b, 3 * sizeof *d);
        d[0] = OTELC_ATTR_STR("db.system.name", "postgresql");
        d[1] = OTELC_ATTR_STR("db.query.text", "SELECT name FROM users WHERE id = $1");
        d[2] = OTELC_ATTR_STR("db.namespace", "shop");
        otelc_span_data *q = span(b, w->db, t, t * 3 + 1, t * 3, "SELECT users", OTELC_SPAN_CLIENT,
                                  start + 100000, 500000, w);
        q->attrs = d;
        q->attr_count = 3;
        otelc_attr *h = vw_batch_alloc(b, 2 * sizeof *h);
        h[0] = OTELC_ATTR_STR("http.request.method", "GET");
        h[1] = OTELC_ATTR_STR("url.full", "http://127.0.0.1:8081/users/42");
        otelc_span_data *c = span(b, w->downstream, t, t * 3 + 2, t * 3, "GET", OTELC_SPAN_CLIENT,
                                  start + 700000, 1000000, w);
        c->attrs = h;
        c->attr_count = 2;
    }
}

/*
 * The shape of the run, worked out the same way whether it writes or not:
 * whole commits until --spans are written; the traces start t0 and end
 * about when the run started (a run with --no-write only asks ids).
 */
static void plan(workload *w, long total, long per_commit, uint64_t max_spans)
{
    w->batches_per_commit =
        per_commit >= SPANS_PER_BATCH ? (size_t)per_commit / SPANS_PER_BATCH : 1;
    uint64_t per_tx = w->batches_per_commit * SPANS_PER_BATCH;
    uint64_t commits = ((uint64_t)total + per_tx - 1) / per_tx;
    w->traces = commits * per_tx / SPANS_PER_TRACE;
    w->held = max_spans && max_spans / SPANS_PER_TRACE < w->traces ? max_spans / SPANS_PER_TRACE
                                                                   : w->traces;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
    w->t0 = now - w->traces * TRACE_EVERY_NS;
}

/* A trace the store still holds (retention removed the oldest), numbered as fill_batch numbers. */
static uint64_t held_trace(const workload *w)
{
    uint64_t margin = w->held > 2000 ? 1000 : 0; /* retention removes whole slices */
    return w->traces - (uint64_t)rand() % (w->held - margin);
}

/* Write the workload; prints the write figures. Returns 0 or -1. */
static int write_all(vw_store *s, workload *w, long total)
{
    vw_batch *batches = calloc(w->batches_per_commit, sizeof *batches);
    const vw_batch **ptrs = calloc(w->batches_per_commit, sizeof *ptrs);
    if (!batches || !ptrs) return -1;
    uint64_t trace = 1, commits = 0, trimmed = 0;
    long written = 0;
    double wall = 0, user = 0, sys = 0, bytes = 0, trim_cpu = 0, thread_cpu = 0;
    char err[256];
    while (written < total) {
        for (size_t i = 0; i < w->batches_per_commit; i++) {
            vw_batch_init(&batches[i]);
            fill_batch(&batches[i], w, trace, SPANS_PER_BATCH / SPANS_PER_TRACE);
            trace += SPANS_PER_BATCH / SPANS_PER_TRACE;
            ptrs[i] = &batches[i];
        }
        double t0 = now_s(), u0, s0, b0 = written_bytes(), th0 = thread_cpu_s();
        cpu_s(&u0, &s0);
        if (vw_store_write(s, ptrs, w->batches_per_commit, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
        double um, sm;
        cpu_s(&um, &sm);
        trim_cpu -= um + sm;
        bool more = true;
        while (more) {
            long removed = vw_store_trim(s, TRIM_BUDGET, &more);
            if (removed < 0) return -1;
            trimmed += (uint64_t)removed;
        }
        double u1, s1;
        cpu_s(&u1, &s1);
        trim_cpu += u1 + s1;
        thread_cpu += thread_cpu_s() - th0;
        wall += now_s() - t0;
        user += u1 - u0;
        sys += s1 - s0;
        bytes += written_bytes() - b0;
        commits++;
        for (size_t i = 0; i < w->batches_per_commit; i++) {
            written += (long)batches[i].count;
            vw_batch_free(&batches[i]);
        }
    }
    free(batches);
    free(ptrs);
    vw_store_counts n;
    vw_store_counts_get(s, &n);
    printf("store.write %.0f spans/s\n", written / wall);
    printf("store.write_cpu %.0f spans/s\n", written / (user + sys));
    printf("store.write_cpu_per_span %.2f us (user %.2f, system %.2f)\n",
           (user + sys) / written * 1e6, user / written * 1e6, sys / written * 1e6);
    printf("store.writer_cpu_per_span %.2f us (the writing thread's; the rest is the "
           "checkpoint thread's)\n",
           thread_cpu / written * 1e6);
    printf("store.write_bytes_per_span %.0f bytes (written to the database and WAL files)\n",
           bytes / written);
    printf("store.trim_cpu_per_span %.2f us (of write_cpu_per_span: retention)\n",
           trim_cpu / written * 1e6);
    printf("store.written %ld spans\n", written);
    printf("store.commits %" PRIu64 " transactions (%zu spans each)\n", commits,
           w->batches_per_commit * SPANS_PER_BATCH);
    printf("store.trimmed %" PRIu64 " spans\n", trimmed);
    printf("store.spans %" PRIu64 " spans\n", n.spans);
    printf("store.bytes_per_span %.0f bytes\n", (double)n.file_bytes / (double)n.spans);
    return 0;
}

/* ---- Timing --------------------------------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *t, size_t n)
{
    if (n == 0) return;
    qsort(t, n, sizeof *t, by_value);
    printf("%s.p50 %.3f ms\n", name, t[n / 2] * 1e3);
    printf("%s.p95 %.3f ms\n", name, t[n * 95 / 100] * 1e3);
}

/* A TraceQL query for the one trace whose root has user id u. */
static void user_query(char *q, size_t size, uint64_t u)
{
    snprintf(q, size, "{ span.user.id = \"%" PRIu64 "\" }", u);
}

/* ---- Queries of the store ----------------------------------------------------------------------
 */

static int count_trace(void *ctx, const vw_trace_summary *t, const vw_batch *trace,
                       const bool *matched)
{
    (void)t;
    (void)trace;
    (void)matched;
    ++*(long *)ctx;
    return 0;
}

static void on_op(void *ctx, const char *s, const char *n, int k, const vw_latency *l)
{
    (void)s, (void)n, (void)k, (void)l;
    ++*(long *)ctx;
}

static void on_node(void *ctx, const char *s, const vw_latency *l)
{
    (void)s, (void)l;
    ++*(long *)ctx;
}

static void on_edge(void *ctx, const char *p, const char *c, const vw_latency *l)
{
    (void)p, (void)c, (void)l;
    ++*(long *)ctx;
}

static int query_store(vw_store *s, const workload *w, long queries, double *t)
{
    char err[256];
    for (long i = 0; i < queries; i++) {
        uint8_t id[16];
        make_id(id, 16, held_trace(w), 1);
        vw_batch b;
        vw_batch_init(&b);
        double t0 = now_s();
        if (vw_store_trace(s, id, &b) != 1) return -1;
        t[i] = now_s() - t0;
        vw_batch_free(&b);
    }
    report("query.trace_by_id", t, (size_t)queries);

    for (long i = 0; i < queries / 10; i++) {
        char q[96];
        user_query(q, sizeof q, held_trace(w));
        vw_tql *tql;
        if (vw_tql_compile(q, strlen(q), &tql, err, sizeof err) != OTELC_OK) return -1;
        vw_search qs = {.query = tql, .limit = 20};
        long found = 0;
        double t0 = now_s();
        vw_store_search(s, &qs, count_trace, &found, NULL);
        t[i] = now_s() - t0;
        vw_tql_free(tql);
        if (found != 1) fprintf(stderr, "traceql found %ld\n", found);
    }
    report("query.traceql_attr", t, (size_t)(queries / 10));

    for (long i = 0; i < queries; i++) {
        vw_search qs = {.service = "users-db", .operation = "SELECT users", .limit = 20};
        long found = 0;
        double t0 = now_s();
        vw_store_search(s, &qs, count_trace, &found, NULL);
        t[i] = now_s() - t0;
    }
    report("query.jaeger_service_op", t, (size_t)queries);

    for (long i = 0; i < 10; i++) {
        long rows = 0;
        double t0 = now_s();
        vw_store_operation_stats(s, NULL, 0, 0, on_op, &rows);
        t[i] = now_s() - t0;
    }
    report("query.operations_table", t, 10);
    for (long i = 0; i < 10; i++) {
        long rows = 0;
        double t0 = now_s();
        vw_store_service_graph(s, 0, 0, on_node, on_edge, &rows);
        t[i] = now_s() - t0;
    }
    report("query.service_map", t, 10);
    return 0;
}

/* ---- Queries of the HTTP API -------------------------------------------------------------------
 */

#ifdef BENCH_HAVE_CURL
typedef struct api_client {
    CURL *curl;
    const char *base;
    size_t body_bytes; /* of the last answer */
} api_client;

static size_t count_body(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    ((api_client *)ctx)->body_bytes += size * n;
    return size * n;
}

/* GET base + path; the seconds it took to the last byte, or -1 unless 200. */
static double api_get(api_client *c, const char *path)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    c->body_bytes = 0;
    double t0 = now_s();
    long status = 0;
    if (curl_easy_perform(c->curl) != CURLE_OK ||
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
        fprintf(stderr, "bench_view_store: GET %s: HTTP %ld\n", url, status);
        return -1;
    }
    return now_s() - t0;
}

/* Time n GETs of what path_of makes; reports p50/p95 and the answer's size. */
static int api_series(api_client *c, const char *name, long n, double *t,
                      void (*path_of)(char *path, size_t size, const workload *w),
                      const workload *w)
{
    double bytes = 0;
    for (long i = 0; i < n; i++) {
        char path[512];
        path_of(path, sizeof path, w);
        if ((t[i] = api_get(c, path)) < 0) return -1;
        bytes += (double)c->body_bytes;
    }
    report(name, t, (size_t)n);
    printf("%s.bytes %.0f bytes (answer, mean)\n", name, bytes / (double)n);
    return 0;
}

static void hex(char *out, const uint8_t *id, size_t n)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", id[i]);
}

static void path_jaeger_trace(char *path, size_t size, const workload *w)
{
    uint8_t id[16];
    char h[33];
    make_id(id, 16, held_trace(w), 1);
    hex(h, id, 16);
    snprintf(path, size, "/api/traces/%s", h);
}

static void path_otlp_trace(char *path, size_t size, const workload *w)
{
    uint8_t id[16];
    char h[33];
    make_id(id, 16, held_trace(w), 1);
    hex(h, id, 16);
    snprintf(path, size, "/api/v3/traces/%s", h);
}

static void path_traceql(char *path, size_t size, const workload *w)
{
    /* { span.user.id = "N" }, URL-encoded */
    snprintf(path, size,
             "/api/search?limit=20&q=%%7B%%20span.user.id%%20%%3D%%20%%22%" PRIu64 "%%22%%20%%7D",
             held_trace(w));
}

static void path_jaeger_search(char *path, size_t size, const workload *w)
{
    (void)w;
    snprintf(path, size, "/api/traces?service=users-db&operation=SELECT%%20users&limit=20");
}

/* The aggregates over every minute the workload covers (µs, as the API takes them). */
static void path_operations(char *path, size_t size, const workload *w)
{
    snprintf(path, size, "/api/operations-table?start=%" PRIu64 "&end=%" PRIu64, w->t0 / 1000,
             (w->t0 + w->traces * TRACE_EVERY_NS) / 1000 + 60000000);
}

static void path_service_map(char *path, size_t size, const workload *w)
{
    snprintf(path, size, "/api/service-map?start=%" PRIu64 "&end=%" PRIu64, w->t0 / 1000,
             (w->t0 + w->traces * TRACE_EVERY_NS) / 1000 + 60000000);
}

static int query_api(const char *base, const workload *w, long queries, double *t)
{
    api_client c = {.curl = curl_easy_init(), .base = base};
    if (!c.curl) return -1;
    curl_easy_setopt(c.curl, CURLOPT_WRITEFUNCTION, count_body);
    curl_easy_setopt(c.curl, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(c.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.curl, CURLOPT_TCP_NODELAY, 1L);
    /* The first request opens the connection and the API's store connection: not timed. */
    char path[512];
    path_jaeger_trace(path, sizeof path, w);
    int rc = api_get(&c, path) < 0 ? -1 : 0;
    if (rc == 0) rc = api_series(&c, "api.trace_by_id", queries, t, path_jaeger_trace, w);
    if (rc == 0) rc = api_series(&c, "api.trace_otlp", queries, t, path_otlp_trace, w);
    if (rc == 0) rc = api_series(&c, "api.traceql_attr", queries / 10, t, path_traceql, w);
    if (rc == 0) rc = api_series(&c, "api.jaeger_service_op", queries, t, path_jaeger_search, w);
    if (rc == 0) rc = api_series(&c, "api.operations_table", 20, t, path_operations, w);
    if (rc == 0) rc = api_series(&c, "api.service_map", 20, t, path_service_map, w);
    curl_easy_cleanup(c.curl);
    return rc;
}
#endif

/* ---- main ----------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    long total = arg_long(argc, argv, "--spans", 1000000);
    long per_commit = arg_long(argc, argv, "--commit", 8192);
    long queries = arg_long(argc, argv, "--queries", 200);
    long max_spans = arg_long(argc, argv, "--max-spans", 0);
    const char *db = arg_str(argc, argv, "--db"), *api = arg_str(argc, argv, "--api");
    bool no_write = arg_flag(argc, argv, "--no-write");
    if (total <= 0 || per_commit <= 0 || queries < 0 || max_spans < 0 || (no_write && !db)) {
        fprintf(stderr, "usage: bench_view_store [--spans N] [--commit N] [--max-spans N] "
                        "[--db FILE] [--queries N] [--no-write] [--api URL]\n"
                        "       (--no-write needs --db)\n");
        return 2;
    }
#ifndef BENCH_HAVE_CURL
    if (api) {
        fprintf(stderr, "bench_view_store: --api needs libcurl\n");
        return 2;
    }
#endif
    char tmp[] = "/tmp/bench-view-XXXXXX", path[64];
    if (!db) {
        if (!mkdtemp(tmp)) return 1;
        snprintf(path, sizeof path, "%s/traces.db", tmp);
        db = path;
    }
    workload w = {.scope = {.name = "bench"}};
    plan(&w, total, per_commit, (uint64_t)max_spans);
    char err[256];
    vw_store *s;
    if (!no_write) {
        vw_store_options o = {.path = db,
                              .max_spans = (uint64_t)max_spans,
                              .checkpoint_thread = !arg_flag(argc, argv, "--checkpoint-inline")};
        if (vw_store_open(&o, &s, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        int rc = write_all(s, &w, total);
        vw_store_close(s);
        if (rc < 0) return 1;
    }

    double *t = calloc((size_t)(queries > 20 ? queries : 20), sizeof *t);
    int rc = 0;
    if (!t) return 1;
    if (queries > 0 && api) {
#ifdef BENCH_HAVE_CURL
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = query_api(api, &w, queries, t);
        curl_global_cleanup();
#endif
    } else if (queries > 0) {
        vw_store_options ro = {.path = db, .read_only = true};
        if (vw_store_open(&ro, &s, err, sizeof err) < 0) return 1;
        rc = query_store(s, &w, queries, t);
        vw_store_close(s);
    }
    free(t);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench.max_rss %.1f MiB\n", ru.ru_maxrss / 1024.0);
    if (db == path) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0) return 1;
    }
    return rc < 0 ? 1 : 0;
}
