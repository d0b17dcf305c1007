/*
 * api_jaeger.c - the endpoints shaped as Jaeger's query service shapes
 * them (cmd/query/app/http_handler.go and query_parser.go in
 * jaegertracing/jaeger): the v1 JSON API in its envelope {"data", "total",
 * "limit", "offset", "errors"}, and api_v3's trace as OTLP JSON.
 *
 * Where otelc differs: /api/traces needs no service (Jaeger requires one;
 * a local viewer can afford to search everything), its limit defaults to
 * 20 and stops at 1500, and a missing start is end minus the lookback
 * parameter (Jaeger's UI sends "1h", "2d"... which Jaeger itself ignores)
 * or an hour. "total" counts the data's items.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "jaeger_json.h"
#include "jaeger_tags.h"
#include "query_params.h"

#define DEFAULT_LIMIT       20
#define MAX_LIMIT           1500
#define DEPENDENCY_LOOKBACK (24 * 3600 * 1000ull) /* ms: Jaeger's default for /api/dependencies */
#define STORE_FAILED        "the store cannot be read"

/* The envelope's tail after the data array. */
static void put_envelope_end(otelc_buf *b, size_t total)
{
    otelc__buf_printf(b, "],\"total\":%zu,\"limit\":0,\"offset\":0,\"errors\":null}\n", total);
}

/* A pooled connection, or a 503 in Jaeger's shape. */
static vw_store *take_store(vw_api *api, vw_response *rs)
{
    char err[512];
    vw_store *s = vw__api_store(api, err, sizeof err);
    if (!s) vw__jaeger_error(rs, 503, err);
    return s;
}

/* ---- Services and operations ----------------------------------------------------------------- */

typedef struct name_list {
    otelc_buf *b;
    size_t count;
    const char *kind_filter; /* /api/operations?spanKind= */
    otelc_buf last;          /* the name written last, to write each once */
} name_list;

static void add_name(name_list *l, const char *name)
{
    if (l->count++) otelc__buf_append(l->b, ",", 1);
    vw__put_str(l->b, name);
}

static void add_service(void *ctx, const char *service)
{
    add_name(ctx, service);
}

void vw__api_services(vw_api *api, const vw_request *rq, vw_response *rs)
{
    (void)rq;
    vw_store *s = take_store(api, rs);
    if (!s) return;
    name_list l = {.b = &rs->body};
    vw__json_ok(rs);
    otelc__buf_puts(&rs->body, "{\"data\":[");
    int rc = vw_store_services(s, add_service, &l);
    vw__api_store_done(api, s);
    if (rc < 0) {
        vw__jaeger_error(rs, 500, STORE_FAILED);
        return;
    }
    put_envelope_end(&rs->body, l.count);
    vw__finish(rs, true);
}

/* Operations come sorted by name, then kind: a name is written once. */
static void add_operation_name(void *ctx, const char *service, const char *name, int kind)
{
    name_list *l = ctx;
    (void)service, (void)kind;
    size_t n = strlen(name);
    if (l->count && l->last.len == n && memcmp(l->last.data, name, n) == 0) return;
    otelc__buf_reset(&l->last);
    otelc__buf_append(&l->last, name, n);
    add_name(l, name);
}

void vw__api_service_operations(vw_api *api, const char *service, vw_response *rs)
{
    vw_store *s = take_store(api, rs);
    if (!s) return;
    name_list l = {.b = &rs->body};
    vw__json_ok(rs);
    otelc__buf_puts(&rs->body, "{\"data\":[");
    int rc = vw_store_operations(s, service, add_operation_name, &l);
    vw__api_store_done(api, s);
    otelc__buf_free(&l.last);
    if (rc < 0) {
        vw__jaeger_error(rs, 500, STORE_FAILED);
        return;
    }
    put_envelope_end(&rs->body, l.count);
    vw__finish(rs, true);
}

static void add_operation(void *ctx, const char *service, const char *name, int kind)
{
    name_list *l = ctx;
    const char *kind_name = vw_kind_name(kind);
    (void)service;
    if (!kind_name) kind_name = "";
    if (l->kind_filter && strcmp(l->kind_filter, kind_name) != 0) return;
    if (l->count++) otelc__buf_append(l->b, ",", 1);
    otelc__buf_puts(l->b, "{\"name\":");
    vw__put_str(l->b, name);
    otelc__buf_puts(l->b, ",\"spanKind\":");
    vw__put_str(l->b, kind_name);
    otelc__buf_append(l->b, "}", 1);
}

void vw__api_operations(vw_api *api, const vw_request *rq, vw_response *rs)
{
    const char *service = rq->arg(rq, "service");
    const char *kind = rq->arg(rq, "spanKind");
    if (!service || !*service) {
        vw__jaeger_error(rs, 400, "parameter 'service' is required");
        return;
    }
    vw_store *s = take_store(api, rs);
    if (!s) return;
    name_list l = {.b = &rs->body, .kind_filter = kind && *kind ? kind : NULL};
    vw__json_ok(rs);
    otelc__buf_puts(&rs->body, "{\"data\":[");
    int rc = vw_store_operations(s, service, add_operation, &l);
    vw__api_store_done(api, s);
    if (rc < 0) {
        vw__jaeger_error(rs, 500, STORE_FAILED);
        return;
    }
    put_envelope_end(&rs->body, l.count);
    vw__finish(rs, true);
}

/* ---- Traces ---------------------------------------------------------------------------------- */

/*
 * Append trace (spans ordered by start) in Jaeger's JSON, at most
 * VW_API_MAX_SPANS of its spans (saying so in its warnings). -1: no memory.
 */
static int put_trace(otelc_buf *b, const vw_batch *trace)
{
    size_t n = trace->count < VW_API_MAX_SPANS ? trace->count : VW_API_MAX_SPANS;
    const otelc_span_data **ptrs = malloc((n ? n : 1) * sizeof *ptrs);
    if (!ptrs) return -1;
    for (size_t i = 0; i < n; i++) ptrs[i] = &trace->spans[i];
    char warning[128];
    snprintf(warning, sizeof warning, "trace cut: showing the first %zu of its %zu spans", n,
             trace->count);
    int rc = vw_jaeger_trace_json(b, ptrs, n, n < trace->count ? warning : NULL);
    free(ptrs);
    return rc;
}

/* Load one trace through a pooled connection: 1 found, 0 not, -1 error (err set). */
static int load_trace(vw_api *api, const uint8_t id[16], vw_batch *out, char *err, size_t size)
{
    vw_store *s = vw__api_store(api, err, size);
    if (!s) return -1;
    int rc = vw_store_trace(s, id, out);
    vw__api_store_done(api, s);
    if (rc < 0) snprintf(err, size, STORE_FAILED);
    return rc;
}

void vw__api_trace(vw_api *api, const char *id_text, vw_response *rs)
{
    uint8_t id[16];
    char err[512];
    if (!vw_parse_trace_id(id_text, id)) {
        snprintf(err, sizeof err, "malformed trace id (1 to 32 hex digits): %.64s", id_text);
        vw__jaeger_error(rs, 400, err);
        return;
    }
    vw_batch trace;
    vw_batch_init(&trace);
    int rc = load_trace(api, id, &trace, err, sizeof err);
    if (rc <= 0) {
        vw__jaeger_error(rs, rc < 0 ? 503 : 404, rc < 0 ? err : "trace not found");
    } else {
        vw__json_ok(rs);
        otelc__buf_puts(&rs->body, "{\"data\":[");
        if (put_trace(&rs->body, &trace) < 0) rs->body.failed = true;
        put_envelope_end(&rs->body, 1);
        vw__finish(rs, true);
    }
    vw_batch_free(&trace);
}

/* The conditions of GET /api/traces, parsed. */
typedef struct trace_query {
    vw_search search;
    vw_tag_filter tags[2 * VW_MAX_TAGS];
    vw_tags json_tags, simple_tags;
} trace_query;

static bool parse_durations(const vw_request *rq, vw_search *q, char *err, size_t size)
{
    static const char *const names[2] = {"minDuration", "maxDuration"};
    uint64_t *fields[2] = {&q->min_duration_ns, &q->max_duration_ns};
    for (int i = 0; i < 2; i++) {
        const char *text = rq->arg(rq, names[i]);
        if (text && *text && !vw_parse_duration(text, false, fields[i])) {
            snprintf(err, size, "unable to parse param '%s': time: invalid duration \"%.64s\"",
                     names[i], text);
            return false;
        }
    }
    if (q->min_duration_ns && q->max_duration_ns && q->max_duration_ns < q->min_duration_ns) {
        snprintf(err, size, "'maxDuration' should be greater than 'minDuration'");
        return false;
    }
    return true;
}

/* tag=k:v and tags={"k":"v"}; a key in both keeps the JSON's value, as in Jaeger. */
static bool parse_tag_filters(const vw_request *rq, trace_query *tq, char *err, size_t size)
{
    if (vw_parse_tags(rq->arg(rq, "tag"), &tq->simple_tags, err, size) < 0 ||
        vw_parse_tags(rq->arg(rq, "tags"), &tq->json_tags, err, size) < 0)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < tq->simple_tags.count; i++) {
        bool replaced = false;
        for (size_t j = 0; j < tq->json_tags.count && !replaced; j++)
            replaced = strcmp(tq->simple_tags.items[i].key, tq->json_tags.items[j].key) == 0;
        if (!replaced) tq->tags[n++] = tq->simple_tags.items[i];
    }
    for (size_t j = 0; j < tq->json_tags.count; j++) tq->tags[n++] = tq->json_tags.items[j];
    tq->search.tags = tq->tags;
    tq->search.tag_count = n;
    return true;
}

static bool parse_trace_query(const vw_request *rq, trace_query *tq, char *err, size_t size)
{
    vw_search *q = &tq->search;
    const char *service = rq->arg(rq, "service"), *operation = rq->arg(rq, "operation");
    q->service = service && *service ? service : NULL;
    q->operation = operation && *operation ? operation : NULL;
    uint64_t lookback = VW_DEFAULT_LOOKBACK, limit = DEFAULT_LIMIT;
    const char *lookback_text = rq->arg(rq, "lookback");
    if (lookback_text && !vw_parse_duration(lookback_text, true, &lookback))
        lookback = VW_DEFAULT_LOOKBACK; /* "custom": start and end say it */
    const char *limit_text = rq->arg(rq, "limit");
    if (limit_text && *limit_text && !vw_parse_uint(limit_text, UINT32_MAX, &limit)) {
        snprintf(err, size, "unable to parse param 'limit': %.64s", limit_text);
        return false;
    }
    q->limit = limit == 0 ? DEFAULT_LIMIT : limit > MAX_LIMIT ? MAX_LIMIT : (size_t)limit;
    return vw__time_range(rq, "start", "end", VW_NS_PER_US, lookback, &q->start_ns, &q->end_ns, err,
                          size) &&
           parse_durations(rq, q, err, size) && parse_tag_filters(rq, tq, err, size);
}

typedef struct trace_list {
    otelc_buf *b;
    size_t count;
    bool cut; /* stopped at VW_API_MAX_BODY */
    bool oom;
} trace_list;

static int add_trace(void *ctx, const vw_trace_summary *t, const vw_batch *trace,
                     const bool *matched)
{
    trace_list *l = ctx;
    (void)t, (void)matched;
    if (l->b->len > VW_API_MAX_BODY) {
        l->cut = true;
        return 1;
    }
    if (l->count++) otelc__buf_append(l->b, ",", 1);
    if (put_trace(l->b, trace) < 0) {
        l->oom = true;
        return 1;
    }
    return 0;
}

/* GET /api/traces?traceID=: that trace, or a non-fatal error naming it, as Jaeger answers. */
static void traces_by_id(vw_api *api, const char *id_text, vw_response *rs)
{
    uint8_t id[16];
    char err[512];
    if (!vw_parse_trace_id(id_text, id)) {
        snprintf(err, sizeof err, "cannot parse traceID param: %.64s", id_text);
        vw__jaeger_error(rs, 400, err);
        return;
    }
    vw_batch trace;
    vw_batch_init(&trace);
    int rc = load_trace(api, id, &trace, err, sizeof err);
    if (rc < 0) {
        vw__jaeger_error(rs, 503, err);
    } else {
        vw__json_ok(rs);
        otelc__buf_puts(&rs->body, "{\"data\":[");
        if (rc > 0 && put_trace(&rs->body, &trace) < 0) rs->body.failed = true;
        otelc__buf_printf(&rs->body, "],\"total\":%d,\"limit\":0,\"offset\":0,\"errors\":", rc);
        if (rc > 0) {
            otelc__buf_puts(&rs->body, "null}\n");
        } else {
            otelc__buf_puts(&rs->body, "[{\"msg\":\"trace not found\",\"traceID\":");
            vw__put_hex_str(&rs->body, id, 16);
            otelc__buf_puts(&rs->body, "}]}\n");
        }
        vw__finish(rs, true);
    }
    vw_batch_free(&trace);
}

/* Run a parsed search and write every trace it finds. */
static void search_traces(vw_api *api, const vw_search *q, vw_response *rs)
{
    vw_store *s = take_store(api, rs);
    if (!s) return;
    trace_list l = {.b = &rs->body};
    vw__json_ok(rs);
    otelc__buf_puts(&rs->body, "{\"data\":[");
    long found = vw_store_search(s, q, add_trace, &l, NULL);
    vw__api_store_done(api, s);
    if (found < 0 && !l.oom) {
        vw__jaeger_error(rs, 500, STORE_FAILED);
        return;
    }
    otelc__buf_printf(&rs->body, "],\"total\":%zu,\"limit\":0,\"offset\":0,\"errors\":", l.count);
    /* Jaeger reports what went wrong beside the data it has, in errors. */
    otelc__buf_puts(&rs->body, l.cut ? "[{\"code\":413,\"msg\":\"results cut at 64 MiB: narrow "
                                       "the search\"}]}\n"
                                     : "null}\n");
    if (l.oom) rs->body.failed = true;
    vw__finish(rs, true);
}

void vw__api_traces(vw_api *api, const vw_request *rq, vw_response *rs)
{
    const char *id = rq->arg(rq, "traceID");
    if (id && *id) {
        traces_by_id(api, id, rs);
        return;
    }
    trace_query tq;
    memset(&tq, 0, sizeof tq);
    char err[512];
    if (parse_trace_query(rq, &tq, err, sizeof err))
        search_traces(api, &tq.search, rs);
    else
        vw__jaeger_error(rs, 400, err);
    vw_tags_free(&tq.json_tags);
    vw_tags_free(&tq.simple_tags);
}

/* ---- Dependencies ---------------------------------------------------------------------------- */

typedef struct dependency_list {
    otelc_buf *b;
    size_t count;
    const char *service; /* only edges touching it, when set */
} dependency_list;

static uint64_t us_of(uint64_t ns)
{
    return (ns + 500) / 1000;
}

static void ignore_node(void *ctx, const char *service, const vw_latency *l)
{
    (void)ctx, (void)service, (void)l;
}

static void add_dependency(void *ctx, const char *parent, const char *child, const vw_latency *l)
{
    dependency_list *d = ctx;
    if (d->service && strcmp(d->service, parent) != 0 && strcmp(d->service, child) != 0) return;
    if (d->count++) otelc__buf_append(d->b, ",", 1);
    otelc__buf_puts(d->b, "{\"parent\":");
    vw__put_str(d->b, parent);
    otelc__buf_puts(d->b, ",\"child\":");
    vw__put_str(d->b, child);
    otelc__buf_printf(d->b,
                      ",\"callCount\":%" PRIu64 ",\"errorCount\":%" PRIu64 ",\"p50Us\":%" PRIu64
                      ",\"p99Us\":%" PRIu64 "}",
                      l->count, l->errors, us_of(l->p50_ns), us_of(l->p99_ns));
}

void vw__api_dependencies(vw_api *api, const vw_request *rq, vw_response *rs)
{
    uint64_t end_ms = vw__now_ns() / VW_NS_PER_MS, lookback_ms = DEPENDENCY_LOOKBACK;
    const char *end_text = rq->arg(rq, "endTs"), *lookback_text = rq->arg(rq, "lookback");
    const char *service = rq->arg(rq, "service");
    if (end_text && *end_text && !vw_parse_uint(end_text, UINT64_MAX / VW_NS_PER_MS, &end_ms)) {
        vw__jaeger_error(rs, 400, "unable to parse param 'endTs': not a number of milliseconds");
        return;
    }
    if (lookback_text && *lookback_text &&
        !vw_parse_uint(lookback_text, UINT64_MAX / VW_NS_PER_MS, &lookback_ms)) {
        vw__jaeger_error(rs, 400, "unable to parse param 'lookback': not a number of milliseconds");
        return;
    }
    vw_store *s = take_store(api, rs);
    if (!s) return;
    uint64_t end = end_ms * VW_NS_PER_MS, lookback = lookback_ms * VW_NS_PER_MS;
    dependency_list d = {.b = &rs->body, .service = service && *service ? service : NULL};
    vw__json_ok(rs);
    otelc__buf_puts(&rs->body, "{\"data\":[");
    int rc = vw_store_service_graph(s, end > lookback ? end - lookback : 0, end, ignore_node,
                                    add_dependency, &d);
    vw__api_store_done(api, s);
    if (rc < 0) {
        vw__jaeger_error(rs, 500, STORE_FAILED);
        return;
    }
    put_envelope_end(&rs->body, d.count);
    vw__finish(rs, true);
}

/* ---- api_v3: the trace as OTLP JSON ---------------------------------------------------------- */

/* The grpc-gateway's error shape: {"error":{"code":grpc,"httpCode":http,"message":...}}. */
static void otlp_error(vw_response *rs, unsigned status, int grpc_code, const char *msg)
{
    rs->status = status;
    rs->content_type = VW_API_JSON;
    otelc__buf_reset(&rs->body);
    otelc__buf_printf(&rs->body, "{\"error\":{\"code\":%d,\"httpCode\":%u,\"message\":", grpc_code,
                      status);
    vw__put_str(&rs->body, msg);
    otelc__buf_puts(&rs->body, "}}\n");
}

void vw__api_trace_otlp(vw_api *api, const char *id_text, vw_response *rs)
{
    uint8_t id[16];
    char err[512];
    if (!vw_parse_trace_id(id_text, id)) {
        snprintf(err, sizeof err, "malformed parameter trace_id: %.64s", id_text);
        otlp_error(rs, 400, 3, err); /* INVALID_ARGUMENT */
        return;
    }
    vw_batch trace;
    vw_batch_init(&trace);
    int rc = load_trace(api, id, &trace, err, sizeof err);
    size_t n = trace.count < VW_API_MAX_SPANS ? trace.count : VW_API_MAX_SPANS;
    const otelc_span_data **ptrs = rc > 0 ? malloc(n * sizeof *ptrs) : NULL;
    if (rc < 0) {
        otlp_error(rs, 503, 14, err); /* UNAVAILABLE */
    } else if (rc == 0) {
        otlp_error(rs, 404, 5, "trace not found"); /* NOT_FOUND */
    } else if (!ptrs) {
        otlp_error(rs, 503, 8, "out of memory"); /* RESOURCE_EXHAUSTED */
    } else {
        for (size_t i = 0; i < n; i++) ptrs[i] = &trace.spans[i];
        vw__json_ok(rs);
        otelc__buf_puts(&rs->body, "{\"result\":");
        if (otelc__otlp_encode_json(&rs->body, ptrs, n) != OTELC_OK) rs->body.failed = true;
        if (n < trace.count)
            otelc__buf_printf(&rs->body,
                              ",\"warnings\":[\"trace cut: the first %zu of its %zu "
                              "spans\"]",
                              n, trace.count);
        otelc__buf_puts(&rs->body, "}\n");
        if (rs->body.failed) {
            otelc__buf_free(&rs->body);
            otlp_error(rs, 503, 8, "out of memory");
        }
    }
    free(ptrs);
    vw_batch_free(&trace);
}
