/*
 * api_search.c - GET /api/search: a TraceQL search answered in the shape
 * of Tempo's search API (SearchResponse in Tempo's tempo.proto, written
 * with the protobuf JSON mapping: 64-bit integers as strings), plus the
 * fields API.md adds: durationNanos and serviceStats per trace.
 *
 *   {"traces": [{"traceID", "rootServiceName", "rootTraceName",
 *     "startTimeUnixNano", "durationMs", "durationNanos",
 *     "spanSet" (the first spanset, Tempo's deprecated field),
 *     "spanSets": [{"spans": [{"spanID", "name", "startTimeUnixNano",
 *                              "durationNanos", "attributes"}],
 *                   "matched"}],
 *     "serviceStats": {"svc": {"spanCount", "errorCount"}}}],
 *    "metrics": {"inspectedTraces", "inspectedSpans"}}
 *
 * A trace has one spanset, the spans the query selected, of which the
 * first spss (by start time) are listed with the attributes the query's
 * conditions name, as Tempo lists them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "jaeger_tags.h"
#include "query_params.h"
#include "traceql.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT     1500
#define DEFAULT_SPSS  3
#define MAX_SPSS      100
#define MAX_SHOWN     16  /* attributes shown per span */
#define MAX_SERVICES  256 /* per trace in serviceStats */

/* An attribute the query's conditions name. */
typedef struct shown_attr {
    const char *key;
    vw_tql_scope scope;
} shown_attr;

typedef struct search_out {
    otelc_buf *b;
    size_t count, spss;
    shown_attr shown[MAX_SHOWN];
    size_t shown_count;
    bool cut;
} search_out;

/* The attributes to show: those the plan's conditions compare, service.name for the service. */
static void choose_attributes(search_out *o, const vw_tql_plan *plan)
{
    for (size_t i = 0; i < plan->cond_count && o->shown_count < MAX_SHOWN; i++) {
        const vw_tql_cond *c = &plan->conds[i];
        shown_attr a;
        if (c->kind == VW_TQL_COND_SERVICE)
            a = (shown_attr){"service.name", VW_TQL_SCOPE_RESOURCE};
        else if (c->kind == VW_TQL_COND_ATTR_STR || c->kind == VW_TQL_COND_ATTR_INT)
            a = (shown_attr){c->key, c->scope};
        else
            continue;
        bool known = false;
        for (size_t j = 0; j < o->shown_count && !known; j++)
            known = o->shown[j].scope == a.scope && strcmp(o->shown[j].key, a.key) == 0;
        if (!known) o->shown[o->shown_count++] = a;
    }
}

static const otelc_value *find_attr(const otelc_span_data *sd, const shown_attr *a)
{
    const otelc_value *v = NULL;
    if (a->scope != VW_TQL_SCOPE_RESOURCE) v = otelc_span_data_attr(sd, a->key);
    if (!v && a->scope != VW_TQL_SCOPE_SPAN && sd->resource)
        v = otelc_resource_get(sd->resource, a->key);
    return v;
}

static void put_span(search_out *o, const otelc_span_data *sd)
{
    otelc_buf *b = o->b;
    otelc__buf_puts(b, "{\"spanID\":");
    vw__put_hex_str(b, sd->context.span_id, 8);
    otelc__buf_puts(b, ",\"name\":");
    vw__put_str(b, sd->name);
    otelc__buf_puts(b, ",\"startTimeUnixNano\":");
    vw__put_u64_str(b, sd->start_ns);
    otelc__buf_puts(b, ",\"durationNanos\":");
    vw__put_u64_str(b, sd->end_ns > sd->start_ns ? sd->end_ns - sd->start_ns : 0);
    otelc__buf_puts(b, ",\"attributes\":[");
    bool first = true;
    for (size_t i = 0; i < o->shown_count; i++) {
        const otelc_value *v = find_attr(sd, &o->shown[i]);
        if (!v) continue;
        if (!first) otelc__buf_append(b, ",", 1);
        first = false;
        otelc_attr a = {o->shown[i].key, *v};
        otelc__otlp_json_kv(b, &a);
    }
    otelc__buf_puts(b, "]}");
}

static void put_spanset(search_out *o, const vw_batch *trace, const bool *matched)
{
    size_t count = 0;
    otelc__buf_puts(o->b, "{\"spans\":[");
    for (size_t i = 0; i < trace->count; i++) {
        if (!matched[i]) continue;
        if (count < o->spss) {
            if (count) otelc__buf_append(o->b, ",", 1);
            put_span(o, &trace->spans[i]);
        }
        count++;
    }
    otelc__buf_printf(o->b, "],\"matched\":%zu}", count);
}

typedef struct service_stats {
    const char *service;
    uint32_t spans, errors;
} service_stats;

/* serviceStats: spans and errors per service, the first MAX_SERVICES services. */
static void put_service_stats(otelc_buf *b, const vw_batch *trace)
{
    service_stats stats[MAX_SERVICES];
    size_t n = 0;
    const otelc_resource *last_res = NULL;
    size_t last = 0;
    for (size_t i = 0; i < trace->count; i++) {
        const otelc_span_data *sd = &trace->spans[i];
        size_t at = last;
        if (!n || sd->resource != last_res) {
            const char *service = vw_resource_service(sd->resource);
            for (at = 0; at < n && strcmp(stats[at].service, service) != 0; at++) continue;
            if (at == n) {
                if (n == MAX_SERVICES) continue;
                stats[n++] = (service_stats){service, 0, 0};
            }
            last_res = sd->resource;
            last = at;
        }
        stats[at].spans++;
        if (sd->status == OTELC_STATUS_ERROR) stats[at].errors++;
    }
    otelc__buf_puts(b, ",\"serviceStats\":{");
    for (size_t i = 0; i < n; i++) {
        if (i) otelc__buf_append(b, ",", 1);
        vw__put_str(b, stats[i].service);
        otelc__buf_printf(b, ":{\"spanCount\":%" PRIu32 ",\"errorCount\":%" PRIu32 "}",
                          stats[i].spans, stats[i].errors);
    }
    otelc__buf_puts(b, "}");
}

static int add_result(void *ctx, const vw_trace_summary *t, const vw_batch *trace,
                      const bool *matched)
{
    search_out *o = ctx;
    otelc_buf *b = o->b;
    if (b->len > VW_API_MAX_BODY) {
        o->cut = true;
        return 1;
    }
    uint64_t duration = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
    uint64_t ms = duration / VW_NS_PER_MS;
    if (o->count++) otelc__buf_append(b, ",", 1);
    otelc__buf_puts(b, "{\"traceID\":");
    vw__put_hex_str(b, t->trace_id, 16);
    if (t->root_service) {
        otelc__buf_puts(b, ",\"rootServiceName\":");
        vw__put_str(b, t->root_service);
    }
    if (t->root_name) {
        otelc__buf_puts(b, ",\"rootTraceName\":");
        vw__put_str(b, t->root_name);
    }
    otelc__buf_puts(b, ",\"startTimeUnixNano\":");
    vw__put_u64_str(b, t->start_ns);
    otelc__buf_printf(
        b, ",\"durationMs\":%" PRIu64 ",\"durationNanos\":", ms > UINT32_MAX ? UINT32_MAX : ms);
    vw__put_u64_str(b, duration);
    size_t at = b->len;
    otelc__buf_puts(b, ",\"spanSet\":");
    put_spanset(o, trace, matched);
    if (!b->failed) { /* spanSets holds the same spanset */
        size_t set = at + strlen(",\"spanSet\":"), len = b->len - set;
        otelc__buf_puts(b, ",\"spanSets\":[");
        if (otelc__buf_reserve(b, len)) otelc__buf_append(b, b->data + set, len);
        otelc__buf_puts(b, "]");
    }
    put_service_stats(b, trace);
    otelc__buf_puts(b, "}");
    return 0;
}

/* A count parameter: default when absent or 0, at most max; false when malformed. */
static bool count_param(const vw_request *rq, const char *name, uint64_t def, uint64_t max,
                        size_t *out, char *err, size_t size)
{
    const char *text = rq->arg(rq, name);
    uint64_t v = def;
    if (text && *text && !vw_parse_uint(text, UINT32_MAX, &v)) {
        snprintf(err, size, "invalid %s: %.64s", name, text);
        return false;
    }
    *out = (size_t)(v == 0 ? def : v > max ? max : v);
    return true;
}

/* start and end in Unix seconds, both optional (no bound); end covers its whole second. */
static bool search_range(const vw_request *rq, vw_search *q, char *err, size_t size)
{
    const char *start = rq->arg(rq, "start"), *end = rq->arg(rq, "end");
    uint64_t s = 0, e = 0, max = UINT64_MAX / VW_NS_PER_S - 1;
    if (start && *start && !vw_parse_uint(start, max, &s)) {
        snprintf(err, size, "invalid start (Unix seconds): %.64s", start);
        return false;
    }
    if (end && *end && !vw_parse_uint(end, max, &e)) {
        snprintf(err, size, "invalid end (Unix seconds): %.64s", end);
        return false;
    }
    q->start_ns = s * VW_NS_PER_S;
    q->end_ns = end && *end ? (e + 1) * VW_NS_PER_S - 1 : start && *start ? vw__now_ns() : 0;
    return true;
}

void vw__api_search(vw_api *api, const vw_request *rq, vw_response *rs)
{
    const char *text = rq->arg(rq, "q");
    if (!text || !*text) text = "{}";
    char err[512];
    vw_tql *query = NULL;
    vw_search q = {.start_ns = 0};
    search_out o = {.b = &rs->body};
    if (vw_tql_compile(text, strlen(text), &query, err, sizeof err) != OTELC_OK ||
        !search_range(rq, &q, err, sizeof err) ||
        !count_param(rq, "limit", DEFAULT_LIMIT, MAX_LIMIT, &q.limit, err, sizeof err) ||
        !count_param(rq, "spss", DEFAULT_SPSS, MAX_SPSS, &o.spss, err, sizeof err)) {
        vw_response_error(rs, 400, err);
        vw_tql_free(query);
        return;
    }
    q.query = query;
    choose_attributes(&o, vw_tql_get_plan(query));
    vw_store *s = vw__api_store(api, err, sizeof err);
    if (!s) {
        vw_response_error(rs, 503, err);
        vw_tql_free(query);
        return;
    }
    vw_search_stats stats;
    vw__json_ok(rs);
    otelc__buf_puts(&rs->body, "{\"traces\":[");
    long found = vw_store_search(s, &q, add_result, &o, &stats);
    vw__api_store_done(api, s);
    if (found < 0) {
        vw_response_error(rs, 500, "the store cannot be read");
    } else {
        otelc__buf_printf(&rs->body,
                          "],\"metrics\":{\"inspectedTraces\":%" PRIu64
                          ",\"inspectedSpans\":\"%" PRIu64 "\"}",
                          stats.inspected_traces, stats.inspected_spans);
        if (o.cut) otelc__buf_puts(&rs->body, ",\"warnings\":[\"results cut at 64 MiB\"]");
        otelc__buf_puts(&rs->body, "}\n");
        vw__finish(rs, false);
    }
    vw_tql_free(query);
}
