/*
 * api_stats.c - the aggregates of API.md: GET /api/service-map (services
 * and the calls between them, vw_store_service_graph()) and GET
 * /api/operations-table (per operation counts, errors and latency
 * percentiles, vw_store_operation_stats()). Times are µs since 1970 and
 * percentiles µs, rounded to the nearest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "jaeger_tags.h"

#define MAX_ROWS 10000 /* operations listed, the busiest first */

static uint64_t us_of(uint64_t ns)
{
    return (ns + 500) / 1000;
}

/* ---- The service map ------------------------------------------------------------------------- */

typedef struct graph_out {
    otelc_buf nodes, edges;
    size_t node_count, edge_count;
} graph_out;

static void add_node(void *ctx, const char *service, const vw_latency *l)
{
    graph_out *g = ctx;
    if (g->node_count++) otelc__buf_append(&g->nodes, ",", 1);
    otelc__buf_puts(&g->nodes, "{\"service\":");
    vw__put_str(&g->nodes, service);
    otelc__buf_printf(&g->nodes,
                      ",\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"p50Us\":%" PRIu64
                      ",\"p99Us\":%" PRIu64 "}",
                      l->count, l->errors, us_of(l->p50_ns), us_of(l->p99_ns));
}

static void add_edge(void *ctx, const char *parent, const char *child, const vw_latency *l)
{
    graph_out *g = ctx;
    if (strcmp(parent, child) == 0) return; /* edges join different services (API.md) */
    if (g->edge_count++) otelc__buf_append(&g->edges, ",", 1);
    otelc__buf_puts(&g->edges, "{\"parent\":");
    vw__put_str(&g->edges, parent);
    otelc__buf_puts(&g->edges, ",\"child\":");
    vw__put_str(&g->edges, child);
    otelc__buf_printf(&g->edges,
                      ",\"callCount\":%" PRIu64 ",\"errorCount\":%" PRIu64 ",\"p50Us\":%" PRIu64
                      ",\"p99Us\":%" PRIu64 "}",
                      l->count, l->errors, us_of(l->p50_ns), us_of(l->p99_ns));
}

void vw__api_service_map(vw_api *api, const vw_request *rq, vw_response *rs)
{
    char err[512];
    uint64_t start, end;
    if (!vw__time_range(rq, "start", "end", VW_NS_PER_US, VW_DEFAULT_LOOKBACK, &start, &end, err,
                        sizeof err)) {
        vw_response_error(rs, 400, err);
        return;
    }
    vw_store *s = vw__api_store(api, err, sizeof err);
    if (!s) {
        vw_response_error(rs, 503, err);
        return;
    }
    graph_out g = {.node_count = 0};
    int rc = vw_store_service_graph(s, start, end, add_node, add_edge, &g);
    vw__api_store_done(api, s);
    if (rc < 0) {
        vw_response_error(rs, 500, "the store cannot be read");
    } else {
        vw__json_ok(rs);
        otelc__buf_puts(&rs->body, "{\"nodes\":[");
        otelc__buf_append(&rs->body, g.nodes.data, g.nodes.len);
        otelc__buf_puts(&rs->body, "],\"edges\":[");
        otelc__buf_append(&rs->body, g.edges.data, g.edges.len);
        otelc__buf_puts(&rs->body, "]}\n");
        if (g.nodes.failed || g.edges.failed) rs->body.failed = true;
        vw__finish(rs, false);
    }
    otelc__buf_free(&g.nodes);
    otelc__buf_free(&g.edges);
}

/* ---- The operations table -------------------------------------------------------------------- */

typedef struct op_row {
    char *service, *name;
    int kind;
    vw_latency l;
} op_row;

typedef struct op_rows {
    op_row *rows;
    size_t count, cap;
    bool oom;
} op_rows;

static void add_op(void *ctx, const char *service, const char *name, int kind, const vw_latency *l)
{
    op_rows *r = ctx;
    if (r->oom) return;
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        op_row *grown = realloc(r->rows, cap * sizeof *grown);
        if (!grown) {
            r->oom = true;
            return;
        }
        r->rows = grown;
        r->cap = cap;
    }
    op_row *row = &r->rows[r->count];
    row->service = strdup(service ? service : "");
    row->name = strdup(name ? name : "");
    row->kind = kind;
    row->l = *l;
    if (!row->service || !row->name) {
        free(row->service);
        free(row->name);
        r->oom = true;
        return;
    }
    r->count++;
}

/* Busiest first; ties by service, then name, so the order is stable. */
static int by_count(const void *pa, const void *pb)
{
    const op_row *a = pa, *b = pb;
    if (a->l.count != b->l.count) return a->l.count > b->l.count ? -1 : 1;
    int c = strcmp(a->service, b->service);
    return c ? c : strcmp(a->name, b->name);
}

static void put_op(otelc_buf *b, const op_row *row)
{
    const char *kind = vw_kind_name(row->kind);
    otelc__buf_puts(b, "{\"service\":");
    vw__put_str(b, row->service);
    otelc__buf_puts(b, ",\"operation\":");
    vw__put_str(b, row->name);
    otelc__buf_puts(b, ",\"spanKind\":");
    vw__put_str(b, kind ? kind : "");
    otelc__buf_printf(b, ",\"count\":%" PRIu64 ",\"errorCount\":%" PRIu64 ",\"errorRate\":",
                      row->l.count, row->l.errors);
    otelc__buf_json_double(b, row->l.count ? (double)row->l.errors / (double)row->l.count : 0.0);
    otelc__buf_printf(b, ",\"p50Us\":%" PRIu64 ",\"p95Us\":%" PRIu64 ",\"p99Us\":%" PRIu64 "}",
                      us_of(row->l.p50_ns), us_of(row->l.p95_ns), us_of(row->l.p99_ns));
}

void vw__api_operations_table(vw_api *api, const vw_request *rq, vw_response *rs)
{
    char err[512];
    uint64_t start, end;
    const char *service = rq->arg(rq, "service");
    if (!vw__time_range(rq, "start", "end", VW_NS_PER_US, VW_DEFAULT_LOOKBACK, &start, &end, err,
                        sizeof err)) {
        vw_response_error(rs, 400, err);
        return;
    }
    vw_store *s = vw__api_store(api, err, sizeof err);
    if (!s) {
        vw_response_error(rs, 503, err);
        return;
    }
    op_rows r = {.count = 0};
    int rc =
        vw_store_operation_stats(s, service && *service ? service : NULL, start, end, add_op, &r);
    vw__api_store_done(api, s);
    if (rc < 0) {
        vw_response_error(rs, 500, "the store cannot be read");
    } else {
        if (r.count) qsort(r.rows, r.count, sizeof *r.rows, by_count);
        vw__json_ok(rs);
        otelc__buf_puts(&rs->body, "{\"data\":[");
        for (size_t i = 0; i < r.count && i < MAX_ROWS; i++) {
            if (i) otelc__buf_append(&rs->body, ",", 1);
            put_op(&rs->body, &r.rows[i]);
        }
        otelc__buf_puts(&rs->body, "]}\n");
        if (r.oom) rs->body.failed = true;
        vw__finish(rs, false);
    }
    for (size_t i = 0; i < r.count; i++) {
        free(r.rows[i].service);
        free(r.rows[i].name);
    }
    free(r.rows);
}
