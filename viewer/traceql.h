/*
 * traceql.h - a subset of TraceQL, Grafana Tempo's trace query language,
 * for the viewer's search box, its HTTP API (GET /api/search?q=) and
 * `otelc traces list/wait/assert QUERY`. docs/traceql.md is the user's
 * reference: what is supported and where it differs from Tempo.
 *
 * A query is compiled once (traceql_parse.c), then evaluated on one trace
 * at a time (traceql_eval.c). Compiling also derives a plan
 * (traceql_plan.c): conditions every matching trace satisfies, simple
 * enough for the store to check in SQL before it loads a trace, so that it
 * only calls vw_tql_match() on candidates.
 *
 * A compiled query is immutable: several threads may evaluate it at once.
 */
#ifndef OTELC_VIEWER_TRACEQL_H
#define OTELC_VIEWER_TRACEQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelc/otelc.h"

/* Bounds on a query: hostile input is refused before it costs much. */
#define VW_TQL_MAX_QUERY_BYTES 4096
#define VW_TQL_MAX_DEPTH       32  /* nested parentheses, braces and '!' */
#define VW_TQL_MAX_CONDITIONS  128 /* comparisons and spanset filters */

typedef struct vw_tql vw_tql; /* a compiled query */

/*
 * Compile q[0..len) (it need not be NUL-terminated). Returns OTELC_OK and
 * sets *out to a query to release with vw_tql_free(); otherwise *out is
 * NULL and the result is OTELC_ERR_PARSE (the query is invalid or beyond
 * the bounds above) or OTELC_ERR_NOMEM. On OTELC_ERR_PARSE, err (when not
 * NULL and err_size > 0) receives "LINE:COLUMN: message", 1-based, the
 * column counted in characters, e.g. "1:14: expected a value after '=',
 * found '}'"; on OTELC_ERR_NOMEM it receives "out of memory".
 */
int vw_tql_compile(const char *q, size_t len, vw_tql **out, char *err, size_t err_size);

/* Release a compiled query. NULL is ignored. */
void vw_tql_free(vw_tql *q);

/*
 * Evaluate q on one trace: its n spans, in any order (all of one trace;
 * spans[i] must not be NULL). True when the query's final spanset is not
 * empty. When matched is not NULL it receives, for each i < n, whether
 * spans[i] is in that spanset. False for n == 0, and false (matched all
 * false) when memory for the evaluation runs out.
 *
 * A span's parent is the first span in the array whose id is the span's
 * parent id (other than the span itself); parent links that form a cycle
 * are cut at the cycle's earliest-starting span (ties: the first in the
 * array), which then has no parent in the trace. The trace's root is its
 * one span without a parent id; when it has none or several, the
 * earliest-starting span whose parent is not in the trace (ties: the
 * first in the array).
 */
bool vw_tql_match(const vw_tql *q, const otelc_span_data *const *spans, size_t n, bool *matched);

/* ---- The plan: what the store can check before loading a trace ---------------- */

/* Where an attribute condition looks. */
typedef enum vw_tql_scope {
    VW_TQL_SCOPE_SPAN = 0,     /* the span's attributes (span.x) */
    VW_TQL_SCOPE_RESOURCE = 1, /* the span's resource's attributes (resource.x) */
    VW_TQL_SCOPE_ANY = 2,      /* either of them (.x) */
} vw_tql_scope;

/* One condition on one span. */
typedef enum vw_tql_cond_kind {
    VW_TQL_COND_NAME = 0,     /* the span's name is str */
    VW_TQL_COND_SERVICE = 1,  /* its resource's service.name is the string str */
    VW_TQL_COND_STATUS = 2,   /* its status code is i (otelc_status_code) */
    VW_TQL_COND_KIND = 3,     /* its kind is i (otelc_span_kind; 0 when unspecified) */
    VW_TQL_COND_DURATION = 4, /* its duration is in [min_ns, max_ns] (see below) */
    VW_TQL_COND_ATTR_STR = 5, /* attribute key, in scope, is the string str or a string
                                 array with an element str */
    VW_TQL_COND_ATTR_INT = 6, /* attribute key, in scope, is the integer i, the double
                                 (double)i, or an int or double array with such an element */
} vw_tql_cond_kind;

typedef struct vw_tql_cond {
    vw_tql_cond_kind kind;
    uint32_t span;      /* conditions with the same number hold on one span together */
    vw_tql_scope scope; /* ATTR_*: where key is looked up */
    const char *key;    /* ATTR_*: the attribute's key (NUL-terminated) */
    const char *str;    /* NAME, SERVICE, ATTR_STR: str_len bytes (may hold NUL bytes) */
    size_t str_len;
    int64_t i;               /* STATUS, KIND, ATTR_INT */
    uint64_t min_ns, max_ns; /* DURATION, inclusive */
} vw_tql_cond;

/*
 * Every trace the query matches satisfies the whole plan: its duration
 * (latest end minus earliest start over its spans, 0 if negative) is in
 * [trace_min_ns, trace_max_ns] when has_trace_duration, and for each span
 * number used in conds some span of the trace satisfies every condition
 * with that number (different numbers may be satisfied by different spans,
 * or by the same one). A span's duration is end_ns - start_ns, 0 when it
 * ends before it starts. A range with min > max is empty: the query
 * matches nothing.
 *
 * A plan without conditions and without a trace duration excludes nothing
 * (a query with '!', '!=', '=~', '||' of unrelated filters...). The store
 * may also check only some of the conditions, or each one on any span
 * regardless of its number: the result is still a superset of the matches.
 */
typedef struct vw_tql_plan {
    bool has_trace_duration;
    uint64_t trace_min_ns, trace_max_ns;
    const vw_tql_cond *conds;
    size_t cond_count;
    uint32_t span_count; /* span numbers in conds are 0 .. span_count-1 */
} vw_tql_plan;

/* The plan of a compiled query (owned by q, valid until vw_tql_free(q)). */
const vw_tql_plan *vw_tql_get_plan(const vw_tql *q);

/*
 * Whether a trace satisfies a plan, checked in memory exactly as defined
 * above: the reference for the store's SQL, and what the tests and the fuzz
 * target check every match against.
 */
bool vw_tql_plan_holds(const vw_tql_plan *plan, const otelc_span_data *const *spans, size_t n);

#endif
