/*
 * bench_view_store.c - the viewer's SQLite store alone: how fast spans go
 * in, how big they are on disk, and how fast the queries the UI and API
 * make come back on a large store.
 *
 *   bench_view_store [--spans N] [--commit N] [--db FILE] [--queries N]
 *
 * Writes --spans spans (default 1,000,000) as traces of three spans (a
 * SERVER span with nine attributes, a database CLIENT span, an outgoing
 * HTTP CLIENT span, over three services) in batches of 512 spans, --commit
 * spans per transaction (default 8192, a group commit as the ingest thread
 * makes under load), into --db (default a temporary file, removed after).
 * Then times, --queries times each (default 200): a trace by id, a TraceQL
 * search with a selective attribute condition, a Jaeger search by service
 * and operation, the operations table and the service map. Prints one
 * "name value unit" line per figure.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "traceql.h"

#define SPANS_PER_BATCH 512
#define NS              1000000000ull

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
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

/* ---- The workload ------------------------------------------------------------------------------ */

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
} workload;

static char user_ids[SPANS_PER_BATCH][16];

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
        uint64_t start = w->t0 + t * 100000; /* 10,000 traces a second */
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

int main(int argc, char **argv)
{
    long total = arg_long(argc, argv, "--spans", 1000000);
    long per_commit = arg_long(argc, argv, "--commit", 8192);
    long queries = arg_long(argc, argv, "--queries", 200);
    const char *db = arg_str(argc, argv, "--db");
    char tmp[] = "/tmp/bench-view-XXXXXX", path[64];
    if (!db) {
        if (!mkdtemp(tmp)) return 1;
        snprintf(path, sizeof path, "%s/traces.db", tmp);
        db = path;
    }
    vw_store_options o = {.path = db};
    vw_store *s;
    char err[256];
    if (vw_store_open(&o, &s, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    workload w = {NULL, NULL, NULL, {.name = "bench"}, 1700000000ull * NS};
    size_t traces_per_batch = SPANS_PER_BATCH / 3, batches_per_commit = (size_t)per_commit / 510;
    if (batches_per_commit == 0) batches_per_commit = 1;
    vw_batch *batches = calloc(batches_per_commit, sizeof *batches);
    const vw_batch **ptrs = calloc(batches_per_commit, sizeof *ptrs);
    uint64_t trace = 1;
    long written = 0;
    double wall = 0, cpu = 0;
    while (written < total) {
        for (size_t i = 0; i < batches_per_commit; i++) {
            vw_batch_init(&batches[i]);
            fill_batch(&batches[i], &w, trace, traces_per_batch);
            trace += traces_per_batch;
            ptrs[i] = &batches[i];
        }
        double t0 = now_s(), c0 = cpu_s();
        if (vw_store_write(s, ptrs, batches_per_commit, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        wall += now_s() - t0;
        cpu += cpu_s() - c0;
        for (size_t i = 0; i < batches_per_commit; i++) {
            written += (long)batches[i].count;
            vw_batch_free(&batches[i]);
        }
    }
    vw_store_counts n;
    vw_store_counts_get(s, &n);
    printf("store.write %.0f spans/s\n", written / wall);
    printf("store.write_cpu %.0f spans/s\n", written / cpu);
    printf("store.bytes_per_span %.0f bytes\n", (double)n.file_bytes / (double)n.spans);
    vw_store_close(s);

    vw_store_options ro = {.path = db, .read_only = true};
    if (vw_store_open(&ro, &s, err, sizeof err) < 0) return 1;
    double *t = calloc((size_t)(queries > 10 ? queries : 10), sizeof *t);
    uint64_t traces = trace - 1;
    for (long i = 0; i < queries; i++) {
        uint8_t id[16];
        make_id(id, 16, 1 + (uint64_t)rand() % traces, 1);
        vw_batch b;
        vw_batch_init(&b);
        double t0 = now_s();
        if (vw_store_trace(s, id, &b) != 1) return 1;
        t[i] = now_s() - t0;
        vw_batch_free(&b);
    }
    report("query.trace_by_id", t, (size_t)queries);

    for (long i = 0; i < queries / 10; i++) {
        char q[96];
        snprintf(q, sizeof q, "{ span.user.id = \"%" PRIu64 "\" }", 1 + (uint64_t)rand() % traces);
        vw_tql *tql;
        if (vw_tql_compile(q, strlen(q), &tql, err, sizeof err) != OTELC_OK) return 1;
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
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench.max_rss %.1f MiB\n", ru.ru_maxrss / 1024.0);
    vw_store_close(s);
    if (db == path) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0) return 1;
    }
    return 0;
}
