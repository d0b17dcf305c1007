/*
 * trace_source.c - the trace source interface (trace_source.h) and its
 * store backend: a store file opened read-only, searched with
 * vw_store_search(), which hands over each trace whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "trace_source.h"
#include "traceql.h"

struct vw_source {
    const vw_source_ops *ops;
    void *self;
};

vw_source *vw_source_new(const vw_source_ops *ops, void *self)
{
    vw_source *s = malloc(sizeof *s);
    if (!s) {
        ops->close(self);
        return NULL;
    }
    s->ops = ops;
    s->self = self;
    return s;
}

int vw_source_search(vw_source *s, const vw_source_query *q, vw_source_fn fn, void *ctx, char *err,
                     size_t err_size)
{
    return s->ops->search(s->self, q, fn, ctx, err, err_size);
}

int vw_source_trace(vw_source *s, const uint8_t id[16], vw_batch *out, char *err, size_t err_size)
{
    return s->ops->trace(s->self, id, out, err, err_size);
}

void vw_source_close(vw_source *s)
{
    if (!s) return;
    s->ops->close(s->self);
    free(s);
}

/* ---- The store backend ------------------------------------------------------------------- */

typedef struct store_search {
    vw_source_fn fn;
    void *ctx;
} store_search;

static int store_found(void *ctx, const vw_trace_summary *t, const vw_batch *trace,
                       const bool *matched)
{
    (void)matched;
    store_search *ss = ctx;
    vw_summary sum = {
        .root_service = t->root_service,
        .root_name = t->root_name,
        .start_ns = t->start_ns,
        .end_ns = t->end_ns,
        .span_count = t->span_count,
        .error_count = t->error_count,
    };
    memcpy(sum.trace_id, t->trace_id, 16);
    return ss->fn(ss->ctx, &sum, trace);
}

/*
 * The store sizes its result list by the limit, so a limit beyond the
 * traces held ("all of them") is cut to that count.
 */
static size_t store_limit(vw_store *st, size_t limit)
{
    vw_store_counts c;
    if (vw_store_counts_get(st, &c) == 0 && c.traces < limit) return c.traces ? c.traces : 1;
    return limit;
}

static int store_search_run(void *self, const vw_source_query *q, vw_source_fn fn, void *ctx,
                            char *err, size_t err_size)
{
    vw_store *st = self;
    vw_tql *tql = NULL;
    /*
     * No query is "{ }", every trace, rather than no TraceQL at all: the
     * store's Jaeger-style span conditions would want a span starting in
     * the time range, where TraceQL takes traces overlapping it (and the
     * viewer's /api/search is TraceQL too).
     */
    const char *text = q->traceql && *q->traceql ? q->traceql : "{ }";
    int rc = vw_tql_compile(text, strlen(text), &tql, err, err_size);
    if (rc != OTELC_OK) return rc == OTELC_ERR_PARSE ? VW_SOURCE_INVALID : VW_SOURCE_FAILED;
    vw_search search = {
        .start_ns = q->start_ns,
        .end_ns = q->end_ns,
        .query = tql,
        .limit = store_limit(st, q->limit),
    };
    store_search ss = {fn, ctx};
    long n = vw_store_search(st, &search, store_found, &ss, NULL);
    vw_tql_free(tql);
    if (n >= 0) return VW_SOURCE_OK;
    snprintf(err, err_size, "reading the store failed");
    return VW_SOURCE_FAILED;
}

static int store_trace(void *self, const uint8_t id[16], vw_batch *out, char *err, size_t err_size)
{
    int rc = vw_store_trace(self, id, out);
    if (rc >= 0) return rc;
    snprintf(err, err_size, "reading the store failed");
    return -VW_SOURCE_FAILED;
}

static void store_close(void *self)
{
    vw_store_close(self);
}

static const vw_source_ops store_ops = {
    .search = store_search_run,
    .trace = store_trace,
    .close = store_close,
};

int vw_source_open_store(const char *path, vw_source **out, char *err, size_t err_size)
{
    vw_store_options o = {.path = path, .read_only = true};
    vw_store *st = NULL;
    if (vw_store_open(&o, &st, err, err_size) != 0) return VW_SOURCE_FAILED;
    *out = vw_source_new(&store_ops, st);
    if (*out) return VW_SOURCE_OK;
    snprintf(err, err_size, "out of memory");
    return VW_SOURCE_FAILED;
}
