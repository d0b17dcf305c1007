/*
 * api.c - the query API's front (api.h): routing requests to the
 * endpoints' handlers, the pool of read-only store connections, the
 * commit listener, /api/status and /metrics, and the helpers every
 * handler writes its response with.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "forward.h"
#include "query_params.h"

/* ---- The pool -------------------------------------------------------------------------------- */

static vw_store *open_reader(vw_api *api, char *err, size_t err_size)
{
    vw_store_options o = {.path = api->db_path, .read_only = true};
    vw_store *s = NULL;
    return vw_store_open(&o, &s, err, err_size) == 0 ? s : NULL;
}

vw_store *vw__api_store(vw_api *api, char *err, size_t err_size)
{
    struct timespec until = otelc__deadline_in(VW_API_WAIT_MS);
    pthread_mutex_lock(&api->pool_lock);
    for (;;) {
        if (api->idle_count > 0) {
            vw_store *s = api->idle[--api->idle_count];
            pthread_mutex_unlock(&api->pool_lock);
            return s;
        }
        if (api->open_count < VW_API_POOL) {
            api->open_count++;
            pthread_mutex_unlock(&api->pool_lock);
            vw_store *s = open_reader(api, err, err_size);
            if (!s) {
                pthread_mutex_lock(&api->pool_lock);
                api->open_count--;
                pthread_cond_signal(&api->pool_free);
                pthread_mutex_unlock(&api->pool_lock);
            }
            return s;
        }
        if (pthread_cond_timedwait(&api->pool_free, &api->pool_lock, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&api->pool_lock);
            snprintf(err, err_size, "the store is busy: every reading connection is taken");
            return NULL;
        }
    }
}

void vw__api_store_done(vw_api *api, vw_store *s)
{
    pthread_mutex_lock(&api->pool_lock);
    api->idle[api->idle_count++] = s;
    pthread_cond_signal(&api->pool_free);
    pthread_mutex_unlock(&api->pool_lock);
}

/* ---- Life ------------------------------------------------------------------------------------ */

/* On the ingest thread after each commit: what live streams and span metrics learn from it. */
static void on_commit(void *ctx, const vw_batch *const *batches, size_t n)
{
    vw_api *api = ctx;
    vw__live_commit(api->live, batches, n);
    vw_spanmetrics_add(api->metrics, batches, n);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

vw_api *vw_api_new(const char *db_path, vw_ingest *ingest, const vw_api_config *cfg)
{
    vw_api *api = calloc(1, sizeof *api);
    if (!api) return NULL;
    pthread_mutex_init(&api->pool_lock, NULL);
    otelc__cond_init_monotonic(&api->pool_free);
    api->ingest = ingest;
    api->db_path = dup_or_null(db_path);
    api->version = dup_or_null(cfg && cfg->version ? cfg->version : "");
    api->otlp_http = dup_or_null(cfg ? cfg->otlp_http : NULL);
    api->otlp_grpc = dup_or_null(cfg ? cfg->otlp_grpc : NULL);
    api->rejected_spans = cfg ? cfg->rejected_spans : NULL;
    for (size_t i = 0; cfg && i < cfg->forward_count && i < 8; i++)
        api->forwards[api->forward_count++] = cfg->forwards[i];
    api->live = vw__live_new();
    api->metrics = vw_spanmetrics_new(0);
    bool ok = api->db_path && api->version && (!cfg || !cfg->otlp_http || api->otlp_http) &&
              (!cfg || !cfg->otlp_grpc || api->otlp_grpc) && api->live && api->metrics;
    if (!ok || (ingest && vw_ingest_on_commit(ingest, on_commit, api) < 0)) {
        vw_api_free(api);
        return NULL;
    }
    return api;
}

void vw_api_free(vw_api *api)
{
    if (!api) return;
    for (int i = 0; i < api->idle_count; i++) vw_store_close(api->idle[i]);
    vw__live_free(api->live);
    vw_spanmetrics_free(api->metrics);
    pthread_mutex_destroy(&api->pool_lock);
    pthread_cond_destroy(&api->pool_free);
    free(api->db_path);
    free(api->version);
    free(api->otlp_http);
    free(api->otlp_grpc);
    free(api);
}

/* ---- Writing responses ----------------------------------------------------------------------- */

uint64_t vw__now_ns(void)
{
    return otelc__now_ns();
}

void vw__json_ok(vw_response *rs)
{
    rs->status = 200;
    rs->content_type = VW_API_JSON;
    otelc__buf_reset(&rs->body);
}

void vw__jaeger_error(vw_response *rs, unsigned status, const char *msg)
{
    rs->status = status;
    rs->content_type = VW_API_JSON;
    otelc__buf_reset(&rs->body);
    otelc__buf_printf(
        &rs->body,
        "{\"data\":null,\"total\":0,\"limit\":0,\"offset\":0,\"errors\":[{\"code\":%u,"
        "\"msg\":",
        status);
    vw__put_str(&rs->body, msg);
    otelc__buf_puts(&rs->body, "}]}\n");
}

bool vw__finish(vw_response *rs, bool jaeger)
{
    if (!rs->body.failed) return true;
    otelc__buf_free(&rs->body);
    if (jaeger)
        vw__jaeger_error(rs, 503, "out of memory");
    else
        vw_response_error(rs, 503, "out of memory");
    return false;
}

void vw__put_u64(otelc_buf *b, uint64_t v)
{
    otelc__buf_printf(b, "%" PRIu64, v);
}

void vw__put_u64_str(otelc_buf *b, uint64_t v)
{
    otelc__buf_printf(b, "\"%" PRIu64 "\"", v);
}

void vw__put_hex_str(otelc_buf *b, const uint8_t *id, size_t n)
{
    otelc__buf_append(b, "\"", 1);
    otelc__buf_hex(b, id, n);
    otelc__buf_append(b, "\"", 1);
}

void vw__put_str(otelc_buf *b, const char *s)
{
    otelc__buf_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

/* An optional time parameter in units of unit_ns; false when present and malformed. */
static bool time_param(const vw_request *rq, const char *name, uint64_t unit_ns, bool *given,
                       uint64_t *ns, char *err, size_t err_size)
{
    const char *text = rq->arg(rq, name);
    uint64_t v;
    *given = text && *text;
    if (!*given) return true;
    if (!vw_parse_uint(text, UINT64_MAX / unit_ns, &v)) {
        snprintf(err, err_size, "unable to parse param '%s': not a number of %s since 1970: %.64s",
                 name,
                 unit_ns == VW_NS_PER_US   ? "microseconds"
                 : unit_ns == VW_NS_PER_MS ? "milliseconds"
                                           : "seconds",
                 text);
        return false;
    }
    *ns = v * unit_ns;
    return true;
}

bool vw__time_range(const vw_request *rq, const char *start_name, const char *end_name,
                    uint64_t unit_ns, uint64_t lookback_ns, uint64_t *start, uint64_t *end,
                    char *err, size_t err_size)
{
    bool has_start, has_end;
    if (!time_param(rq, start_name, unit_ns, &has_start, start, err, err_size) ||
        !time_param(rq, end_name, unit_ns, &has_end, end, err, err_size))
        return false;
    if (!has_end) *end = vw__now_ns();
    if (!has_start) *start = *end > lookback_ns ? *end - lookback_ns : 0;
    return true;
}

/* ---- /api/status and /metrics ---------------------------------------------------------------- */

static void api_status(vw_api *api, vw_response *rs)
{
    vw_store_counts counts = {0};
    vw_ingest_stats stats = {0};
    /* Traces are counted on a reader; spans and bytes as the writer last left them. */
    char err[256];
    vw_store *s = vw__api_store(api, err, sizeof err);
    if (!s) {
        vw_response_error(rs, 503, err);
        return;
    }
    int rc = vw_store_counts_get(s, &counts);
    vw__api_store_done(api, s);
    if (rc < 0) {
        vw_response_error(rs, 503, "the store cannot be read");
        return;
    }
    if (api->ingest) {
        uint64_t traces = counts.traces;
        vw_ingest_store_counts(api->ingest, &counts);
        vw_ingest_stats_get(api->ingest, &stats);
        counts.traces = traces;
    }
    uint64_t rejected = api->rejected_spans ? atomic_load(api->rejected_spans) : 0;
    otelc_buf *b = &rs->body;
    vw__json_ok(rs);
    otelc__buf_puts(b, "{\"version\":");
    vw__put_str(b, api->version);
    otelc__buf_printf(b,
                      ",\"spans\":%" PRIu64 ",\"traces\":%" PRIu64 ",\"dbBytes\":%" PRIu64
                      ",\"receivers\":{\"otlpHttp\":",
                      counts.spans, counts.traces, counts.file_bytes);
    if (api->otlp_http)
        vw__put_str(b, api->otlp_http);
    else
        otelc__buf_puts(b, "null");
    otelc__buf_puts(b, ",\"otlpGrpc\":");
    if (api->otlp_grpc)
        vw__put_str(b, api->otlp_grpc);
    else
        otelc__buf_puts(b, "null");
    otelc__buf_printf(b,
                      "},\"ingest\":{\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
                      ",\"refused\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"trimmed\":%" PRIu64
                      ",\"queued\":%zu,\"commits\":%" PRIu64 "},\"forwards\":[",
                      stats.spans_committed, rejected, stats.spans_refused, stats.spans_failed,
                      stats.spans_trimmed, stats.queued_spans, stats.commits);
    for (size_t i = 0; i < api->forward_count; i++) {
        vw_forward_stats f;
        vw_forward_stats_get(api->forwards[i], &f);
        otelc__buf_puts(b, i ? ",{\"url\":" : "{\"url\":");
        vw__put_str(b, vw_forward_url(api->forwards[i]));
        otelc__buf_printf(b,
                          ",\"sent\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"refused\":%" PRIu64
                          ",\"queued\":%" PRIu64 ",\"retrying\":%" PRIu64
                          ",\"failedExports\":%" PRIu64 "}",
                          f.spans_sent, f.spans_dropped, f.spans_refused, f.spans_queued,
                          f.spans_retrying, f.exports_failed);
    }
    otelc__buf_puts(b, "]}\n");
    vw__finish(rs, false);
}

static void api_metrics(vw_api *api, vw_response *rs)
{
    rs->status = 200;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
    otelc__buf_reset(&rs->body);
    if (vw_spanmetrics_write(api->metrics, &rs->body) < 0) {
        otelc__buf_free(&rs->body);
        vw_response_error(rs, 503, "out of memory");
    }
}

/* ---- Routing --------------------------------------------------------------------------------- */

/* The rest of path after prefix, or NULL when path does not start with it. */
static const char *after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

/* /api/services/{service}/operations: the service (copied into buf), or NULL. */
static const char *service_in_path(const char *rest, char *buf, size_t size)
{
    static const char tail[] = "/operations";
    size_t n = strlen(rest), t = sizeof tail - 1;
    if (n <= t || strcmp(rest + n - t, tail) != 0 || n - t >= size) return NULL;
    memcpy(buf, rest, n - t);
    buf[n - t] = '\0';
    return buf;
}

static bool route_jaeger(vw_api *api, const char *p, const vw_request *rq, vw_response *rs)
{
    char service[1024];
    const char *rest;
    if (strcmp(p, "services") == 0)
        vw__api_services(api, rq, rs);
    else if (strcmp(p, "operations") == 0)
        vw__api_operations(api, rq, rs);
    else if (strcmp(p, "traces") == 0)
        vw__api_traces(api, rq, rs);
    else if (strcmp(p, "dependencies") == 0)
        vw__api_dependencies(api, rq, rs);
    else if ((rest = after(p, "services/")) && service_in_path(rest, service, sizeof service))
        vw__api_service_operations(api, service, rs);
    else if ((rest = after(p, "traces/")) && !strchr(rest, '/'))
        vw__api_trace(api, rest, rs);
    else
        return false;
    return true;
}

static bool route_otelc(vw_api *api, const char *p, const vw_request *rq, vw_response *rs)
{
    const char *rest;
    if ((rest = after(p, "v3/traces/")) && !strchr(rest, '/'))
        vw__api_trace_otlp(api, rest, rs);
    else if (strcmp(p, "search") == 0)
        vw__api_search(api, rq, rs);
    else if (strcmp(p, "service-map") == 0)
        vw__api_service_map(api, rq, rs);
    else if (strcmp(p, "operations-table") == 0)
        vw__api_operations_table(api, rq, rs);
    else if (strcmp(p, "live") == 0)
        vw__api_live(api, rq, rs);
    else if (strcmp(p, "status") == 0)
        api_status(api, rs);
    else
        return false;
    return true;
}

void vw_api_handle(vw_api *api, const vw_request *rq, vw_response *rs)
{
    const char *path = rq->path ? rq->path : "";
    const char *p = after(path, "/api/");
    if (!rq->method || strcmp(rq->method, "GET") != 0) {
        vw_response_error(rs, 405, "the query API answers GET only");
        vw_response_header(rs, "Allow", "GET");
    } else if (strcmp(path, "/metrics") == 0) {
        api_metrics(api, rs);
    } else if (!p || !(route_jaeger(api, p, rq, rs) || route_otelc(api, p, rq, rs))) {
        vw_response_error(rs, 404, "no such endpoint");
    }
}
