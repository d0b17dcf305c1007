/*
 * store_read.c - reading the store: whole traces, the services and
 * operations lists, and searches.
 *
 * A search walks candidate traces newest first and loads each one whole:
 * the Jaeger conditions hold for one span at a time and TraceQL looks at
 * whole traces, so both are decided in C on decoded spans. SQL only picks
 * the candidates: by operation (the spans_op index) when the search names
 * a service or an operation, else by trace start time (traces_start).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_proto.h"
#include "jaeger_tags.h"
#include "store_internal.h"
#include "traceql.h"

/* ---- Loading a trace --------------------------------------------------------------------- */

/* Rows already decoded in this load, so each resource and scope is decoded once. */
typedef struct row_cache {
    int64_t row;
    const void *obj;
} row_cache;

typedef struct load_state {
    row_cache res[16], scope[16];
    size_t nres, nscope;
} load_state;

static const void *cached(const row_cache *c, size_t n, int64_t row)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].row == row) return c[i].obj;
    return NULL;
}

static void remember(row_cache *c, size_t *n, int64_t row, const void *obj)
{
    if (*n < 16) c[(*n)++] = (row_cache){row, obj};
}

/* The decoded body of row in statement which (ST_RES_GET or ST_SCOPE_GET), into b. */
static const void *load_message(vw_store *s, enum vw_stmt which, int64_t row, vw_batch *b)
{
    sqlite3_stmt *st = s->st[which];
    const void *obj = NULL;
    sqlite3_bind_int64(st, 1, row);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const char *schema_url = (const char *)sqlite3_column_text(st, 1);
        if (which == ST_RES_GET) {
            obj = vw_decode_resource(p, n, schema_url, b);
        } else {
            otelc_scope_info *scope = vw_batch_alloc(b, sizeof *scope);
            if (scope && vw_decode_scope(p, n, b, scope) == 0 &&
                (!schema_url ||
                 (scope->schema_url = vw_batch_str(b, schema_url, strlen(schema_url), NULL))))
                obj = scope;
        }
    }
    sqlite3_reset(st);
    return obj;
}

static int load_span(vw_store *s, sqlite3_stmt *st, load_state *ls, vw_batch *out)
{
    int64_t res_row = sqlite3_column_int64(st, 1), scope_row = sqlite3_column_int64(st, 2);
    const otelc_resource *res = cached(ls->res, ls->nres, res_row);
    const otelc_scope_info *scope = cached(ls->scope, ls->nscope, scope_row);
    if (!res && (res = load_message(s, ST_RES_GET, res_row, out)))
        remember(ls->res, &ls->nres, res_row, res);
    if (!scope && (scope = load_message(s, ST_SCOPE_GET, scope_row, out)))
        remember(ls->scope, &ls->nscope, scope_row, scope);
    otelc_span_data *sd = vw_batch_add_span(out);
    if (!res || !scope || !sd) return -1;
    if (vw_decode_span(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), out, sd) <
        0) {
        vw_batch_drop_last(out); /* a damaged row: the rest of the trace is still shown */
        return 0;
    }
    sd->resource = res;
    sd->scope = scope;
    return 0;
}

/* Load the spans of trace row into out; returns the number of spans or -1. */
static long load_trace_row(vw_store *s, int64_t row, vw_batch *out)
{
    load_state ls = {.nres = 0};
    sqlite3_stmt *st = s->st[ST_TRACE_SPANS];
    sqlite3_bind_int64(st, 1, row);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (load_span(s, st, &ls, out) < 0) break;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? (long)out->count : -1;
}

/* The summary columns of a traces row, in the order summary_sql selects them. */
#define SUMMARY_COLUMNS                                                                            \
    "id, trace_id, start_ns, end_ns, root_name, root_service, span_count, error_count"

static int64_t read_summary(sqlite3_stmt *st, vw_trace_summary *t)
{
    const void *id = sqlite3_column_blob(st, 1);
    if (sqlite3_column_bytes(st, 1) == 16) memcpy(t->trace_id, id, 16);
    t->start_ns = (uint64_t)sqlite3_column_int64(st, 2);
    t->end_ns = (uint64_t)sqlite3_column_int64(st, 3);
    t->root_name = (const char *)sqlite3_column_text(st, 4);
    t->root_service = (const char *)sqlite3_column_text(st, 5);
    t->span_count = (uint32_t)sqlite3_column_int64(st, 6);
    t->error_count = (uint32_t)sqlite3_column_int64(st, 7);
    return sqlite3_column_int64(st, 0);
}

int vw_store_trace(vw_store *s, const uint8_t id[16], vw_batch *out)
{
    sqlite3_stmt *st = s->st[ST_TRACE_FIND];
    sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t row = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return -1;
    long n = load_trace_row(s, row, out);
    return n < 0 ? -1 : n > 0;
}

/* ---- Services and operations ------------------------------------------------------------ */

int vw_store_services(vw_store *s, void (*fn)(void *ctx, const char *service), void *ctx)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT DISTINCT service FROM operations ORDER BY service";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) fn(ctx, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int vw_store_operations(vw_store *s, const char *service,
                        void (*fn)(void *ctx, const char *service, const char *name, int kind),
                        void *ctx)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT service, name, kind FROM operations WHERE ?1 IS NULL OR service = ?1 "
                      "ORDER BY service, name, kind";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    vw__bind_text(st, 1, service);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
           sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- The Jaeger conditions on one span ---------------------------------------------------- */

typedef struct tag_match {
    const vw_tag_filter *want;
    otelc_buf text;
    bool found;
} tag_match;

static void compare_tag(void *ctx, const char *key, const otelc_value *v)
{
    tag_match *m = ctx;
    if (m->found || strcmp(key, m->want->key) != 0) return;
    otelc__buf_reset(&m->text);
    vw_value_text(&m->text, v);
    m->found = !m->text.failed && m->text.len == strlen(m->want->value) &&
               memcmp(m->text.data, m->want->value, m->text.len) == 0;
}

/* A tag condition holds when the span, its resource or one of its events has the tag. */
static bool has_tag(const otelc_span_data *sd, tag_match *m)
{
    m->found = false;
    vw_jaeger_span_tags(sd, compare_tag, m);
    size_t n = 0;
    const otelc_attr *res = sd->resource ? otelc_resource_attrs(sd->resource, &n) : NULL;
    for (size_t i = 0; !m->found && i < n; i++) compare_tag(m, res[i].key, &res[i].value);
    for (uint32_t e = 0; !m->found && e < sd->event_count; e++)
        for (uint32_t i = 0; !m->found && i < sd->events[e].attr_count; i++)
            compare_tag(m, sd->events[e].attrs[i].key, &sd->events[e].attrs[i].value);
    return m->found;
}

static bool span_matches(const vw_search *q, const otelc_span_data *sd, tag_match *m)
{
    if (q->errors_only && sd->status != OTELC_STATUS_ERROR) return false;
    if (q->operation && strcmp(sd->name ? sd->name : "", q->operation) != 0) return false;
    if (q->service) {
        const otelc_value *v =
            sd->resource ? otelc_resource_get(sd->resource, "service.name") : NULL;
        const char *svc = v && v->type == OTELC_VALUE_STRING ? v->u.str.ptr : "unknown_service";
        if (strcmp(svc, q->service) != 0) return false;
    }
    uint64_t d = sd->end_ns > sd->start_ns ? sd->end_ns - sd->start_ns : 0;
    if ((q->min_duration_ns && d < q->min_duration_ns) ||
        (q->max_duration_ns && d > q->max_duration_ns))
        return false;
    if (q->start_ns && sd->start_ns < q->start_ns) return false;
    if (q->end_ns && sd->start_ns > q->end_ns) return false;
    for (size_t i = 0; i < q->tag_count; i++) {
        m->want = &q->tags[i];
        if (!has_tag(sd, m)) return false;
    }
    return true;
}

/* Whether a search has span conditions at all (a TraceQL-only search has none). */
static bool has_span_conditions(const vw_search *q)
{
    return q->service || q->operation || q->tag_count || q->min_duration_ns || q->max_duration_ns ||
           q->errors_only || !q->query;
}

/*
 * Decide a loaded trace: fills matched (one per span) and returns true when
 * the trace is a result.
 */
static bool trace_matches(const vw_search *q, const vw_batch *trace, bool *matched, tag_match *m,
                          const otelc_span_data **ptrs)
{
    bool any = false;
    bool conditions = has_span_conditions(q);
    for (size_t i = 0; i < trace->count; i++) {
        matched[i] = conditions && span_matches(q, &trace->spans[i], m);
        any |= matched[i];
        ptrs[i] = &trace->spans[i];
    }
    if (conditions && !any) return false;
    if (!q->query) return true;
    bool *tql = conditions ? calloc(trace->count ? trace->count : 1, sizeof *tql) : matched;
    if (!tql) return false;
    bool ok = vw_tql_match(q->query, ptrs, trace->count, tql);
    if (conditions && tql != matched) {
        /* Both apply: show the spans the query selected. */
        memcpy(matched, tql, trace->count * sizeof *tql);
        free(tql);
    }
    return ok;
}

/* ---- Candidates -------------------------------------------------------------------------- */

#define MAX_OPS_IN_LIST 1000

/*
 * The operation rows a search names (service and/or operation), as an SQL
 * list "1,2,3" into out; 0 when the search names neither, 1 when listed,
 * -1 on error, 2 when there are too many to list (fall back to scanning).
 */
static int op_list(vw_store *s, const vw_search *q, otelc_buf *out)
{
    if (!q->service && !q->operation) return 0;
    sqlite3_stmt *st;
    const char *sql = "SELECT id FROM operations WHERE (?1 IS NULL OR service = ?1) AND "
                      "(?2 IS NULL OR name = ?2)";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    vw__bind_text(st, 1, q->service);
    vw__bind_text(st, 2, q->operation);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n <= MAX_OPS_IN_LIST)
        otelc__buf_printf(out, "%s%lld", n++ ? "," : "", (long long)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return -1;
    if (n > MAX_OPS_IN_LIST) return 2;
    if (n == 0) otelc__buf_puts(out, "NULL"); /* nothing can match */
    return out->failed ? -1 : 1;
}

/*
 * The statement listing candidate trace rows newest first: spans of the
 * named operations in the time range, or traces by start time.
 */
static sqlite3_stmt *candidates(vw_store *s, const vw_search *q)
{
    otelc_buf ops = {0}, sql = {0};
    int listed = op_list(s, q, &ops);
    sqlite3_stmt *st = NULL;
    if (listed == 1) {
        otelc__buf_printf(&sql,
                          "SELECT trace FROM spans WHERE op IN (%s) AND start_ns BETWEEN ?1 AND ?2 "
                          "ORDER BY start_ns DESC",
                          ops.data);
    } else if (listed == 0 || listed == 2) {
        otelc__buf_printf(&sql,
                          "SELECT id FROM traces WHERE start_ns <= ?2 AND end_ns >= ?1 %s "
                          "ORDER BY start_ns DESC",
                          q->errors_only ? "AND error_count > 0" : "");
    }
    if (listed >= 0 && !sql.failed &&
        sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (int64_t)q->start_ns);
        sqlite3_bind_int64(st, 2, q->end_ns ? (int64_t)q->end_ns : INT64_MAX);
    }
    otelc__buf_free(&ops);
    otelc__buf_free(&sql);
    return st;
}

/* ---- Searching ---------------------------------------------------------------------------- */

typedef struct search_state {
    vw_store *s;
    const vw_search *q;
    vw_search_fn fn;
    void *ctx;
    vw_search_stats *stats;
    vw_u64map seen;         /* trace rows decided already (forgotten when full) */
    int64_t *reported_rows; /* the results so far (never forgotten: never reported twice) */
    sqlite3_stmt *summary;
    tag_match m;
    long reported;
} search_state;

/* Load and decide one candidate; returns 1 to go on, 0 to stop, -1 on error. */
static int decide(search_state *ss, int64_t row)
{
    bool added = true;
    uint64_t *seen = vw_u64map_put(&ss->seen, (uint64_t)row, &added);
    if (!seen) { /* full: bounded memory; a trace may then be decided twice */
        vw_u64map_clear(&ss->seen);
        vw_u64map_put(&ss->seen, (uint64_t)row, &added);
    }
    if (!added) return 1;
    for (long i = 0; i < ss->reported; i++)
        if (ss->reported_rows[i] == row) return 1;
    sqlite3_bind_int64(ss->summary, 1, row);
    vw_trace_summary t;
    memset(&t, 0, sizeof t);
    if (sqlite3_step(ss->summary) != SQLITE_ROW) {
        sqlite3_reset(ss->summary);
        return 1; /* removed by retention meanwhile */
    }
    read_summary(ss->summary, &t);
    vw_batch trace;
    vw_batch_init(&trace);
    int go_on = 1;
    long n = load_trace_row(ss->s, row, &trace);
    bool *matched = n >= 0 ? calloc((size_t)n + 1, sizeof *matched) : NULL;
    const otelc_span_data **ptrs = matched ? calloc((size_t)n + 1, sizeof *ptrs) : NULL;
    if (!ptrs) {
        go_on = -1;
    } else {
        ss->stats->inspected_traces++;
        ss->stats->inspected_spans += (uint64_t)n;
        if (trace_matches(ss->q, &trace, matched, &ss->m, ptrs)) {
            ss->reported_rows[ss->reported++] = row;
            if (ss->fn(ss->ctx, &t, &trace, matched) != 0) go_on = 0;
        }
    }
    sqlite3_reset(ss->summary);
    free(ptrs);
    free(matched);
    vw_batch_free(&trace);
    return go_on;
}

long vw_store_search(vw_store *s, const vw_search *q, vw_search_fn fn, void *ctx,
                     vw_search_stats *stats)
{
    vw_search_stats ignored;
    search_state ss = {.s = s, .q = q, .fn = fn, .ctx = ctx, .stats = stats ? stats : &ignored};
    memset(ss.stats, 0, sizeof *ss.stats);
    size_t limit = q->limit ? q->limit : 20;
    sqlite3_stmt *cand = candidates(s, q);
    const char *sql = "SELECT " SUMMARY_COLUMNS " FROM traces WHERE id = ?1";
    ss.reported_rows = calloc(limit, sizeof *ss.reported_rows);
    if (!cand || !ss.reported_rows || !vw_u64map_init(&ss.seen, 4096) ||
        sqlite3_prepare_v2(s->db, sql, -1, &ss.summary, NULL) != SQLITE_OK) {
        sqlite3_finalize(cand);
        vw_u64map_free(&ss.seen);
        free(ss.reported_rows);
        return -1;
    }
    int rc, go_on = 1;
    while (go_on > 0 && (size_t)ss.reported < limit && (rc = sqlite3_step(cand)) == SQLITE_ROW) {
        go_on = decide(&ss, sqlite3_column_int64(cand, 0));
    }
    sqlite3_finalize(cand);
    sqlite3_finalize(ss.summary);
    vw_u64map_free(&ss.seen);
    free(ss.reported_rows);
    otelc__buf_free(&ss.m.text);
    return go_on < 0 ? -1 : ss.reported;
}
