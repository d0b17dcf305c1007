/*
 * store_read.c - reading the store: whole traces, the services and
 * operations lists, and searches.
 *
 * A search walks the chunks newest first. A chunk whose bloom filter lacks
 * an attribute value the query needs is skipped without reading its
 * segments; in the others, the posting lists name the segments holding
 * the operations or error spans the query needs (or every segment, when
 * it names none). Each candidate segment's trace is loaded whole and
 * decided in C: the Jaeger conditions hold for one span at a time and
 * TraceQL looks at whole traces.
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

/*
 * What decoding traces keeps: resources and scopes by row. A search keeps
 * one for all the traces it loads (owner: a batch of its own, so a trace's
 * batch never frees them); a single load keeps them in the trace's batch.
 */
#define LOAD_CACHE 64
typedef struct load_state {
    row_cache res[LOAD_CACHE], scope[LOAD_CACHE];
    size_t nres, nscope;
    vw_batch *owner; /* where cached resources and scopes live; NULL: the trace's batch */
} load_state;

static const void *cached(const row_cache *c, size_t n, int64_t row)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].row == row) return c[i].obj;
    return NULL;
}

static void remember(row_cache *c, size_t *n, int64_t row, const void *obj)
{
    if (*n < LOAD_CACHE) c[(*n)++] = (row_cache){row, obj};
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

/* Decode the records of one segment's body into out; false when out of memory. */
static bool load_segment(vw_store *s, const uint8_t *p, size_t n, load_state *ls, vw_batch *out)
{
    otelc_pb r = otelc__pb_of(p, n);
    while (r.p < r.end) {
        uint64_t res_row, scope_row;
        otelc_pb span;
        if (!otelc__pb_varint(&r, &res_row) || !otelc__pb_varint(&r, &scope_row) ||
            !otelc__pb_len(&r, &span))
            return true; /* a damaged row: what was read is still shown */
        const otelc_resource *res = cached(ls->res, ls->nres, (int64_t)res_row);
        const otelc_scope_info *scope = cached(ls->scope, ls->nscope, (int64_t)scope_row);
        /* Kept by the owner only while its cache has room: else the trace's batch holds it. */
        vw_batch *res_home = ls->owner && ls->nres < LOAD_CACHE ? ls->owner : out;
        vw_batch *scope_home = ls->owner && ls->nscope < LOAD_CACHE ? ls->owner : out;
        if (!res && (res = load_message(s, ST_RES_GET, (int64_t)res_row, res_home)) &&
            (res_home != out || !ls->owner))
            remember(ls->res, &ls->nres, (int64_t)res_row, res);
        if (!scope && (scope = load_message(s, ST_SCOPE_GET, (int64_t)scope_row, scope_home)) &&
            (scope_home != out || !ls->owner))
            remember(ls->scope, &ls->nscope, (int64_t)scope_row, scope);
        otelc_span_data *sd = vw_batch_add_span(out);
        if (!sd) return false;
        if (!res || !scope || vw_decode_span(span.p, (size_t)(span.end - span.p), out, sd) < 0) {
            vw_batch_drop_last(out);
            continue;
        }
        sd->resource = res;
        sd->scope = scope;
    }
    return true;
}

typedef struct start_index {
    uint64_t start;
    size_t i;
} start_index;

static int by_start(const void *a, const void *b)
{
    const start_index *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/*
 * Order spans by start time (ties in arrival order): sorted as small
 * (start, index) pairs, then moved once, since a span is 200 bytes.
 */
static bool sort_by_start(vw_batch *b)
{
    size_t n = b->count, i = 1;
    while (i < n && b->spans[i - 1].start_ns <= b->spans[i].start_ns) i++;
    if (i >= n) return true; /* already in order */
    start_index *order = malloc(n * sizeof *order);
    otelc_span_data *sorted = malloc(b->span_cap * sizeof *sorted);
    if (!order || !sorted) {
        free(order);
        free(sorted);
        return false;
    }
    for (i = 0; i < n; i++) order[i] = (start_index){b->spans[i].start_ns, i};
    qsort(order, n, sizeof *order, by_start);
    for (i = 0; i < n; i++) sorted[i] = b->spans[order[i].i];
    free(b->spans);
    b->spans = sorted;
    free(order);
    return true;
}

static uint64_t span_key(const uint8_t id[8])
{
    uint64_t v;
    memcpy(&v, id, 8);
    return v;
}

/*
 * A trace whose spans all have parents (a process started under another's
 * context, as `otelc exec` under `otelc span start`) is named after its
 * earliest span whose parent is not in the store, as Tempo names it.
 */
static void name_missing_root(const vw_batch *trace, vw_trace_summary *t)
{
    vw_u64map ids;
    if (!trace->count || !vw_u64map_init(&ids, trace->count)) return;
    bool complete = true;
    for (size_t i = 0; i < trace->count; i++)
        complete &= vw_u64map_put(&ids, span_key(trace->spans[i].context.span_id), NULL) != NULL;
    for (size_t i = 0; complete && i < trace->count; i++) { /* sorted: the earliest first */
        const otelc_span_data *sd = &trace->spans[i];
        if (sd->has_parent && vw_u64map_get(&ids, span_key(sd->parent_span_id))) continue;
        t->root_name = sd->name ? sd->name : "";
        t->root_service = vw_resource_service(sd->resource);
        break;
    }
    vw_u64map_free(&ids);
}

/*
 * Load trace id whole into out (its segments in order of arrival, then its
 * spans sorted by start) and, when t is not NULL, its summary. Returns the
 * number of spans (0: no such trace) or -1.
 */
static long load_trace(vw_store *s, const uint8_t id[16], vw_batch *out, vw_trace_summary *t,
                       load_state *keep)
{
    load_state single = {.nres = 0}, *ls = keep ? keep : &single;
    sqlite3_stmt *st = s->st[ST_SEG_OF_TRACE];
    sqlite3_bind_int64(st, 1, vw__trace_key(id));
    sqlite3_bind_blob(st, 2, id, 16, SQLITE_STATIC);
    int rc;
    bool ok = true;
    if (t) {
        memset(t, 0, sizeof *t);
        memcpy(t->trace_id, id, 16);
        t->start_ns = UINT64_MAX;
    }
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t) {
            uint64_t start = (uint64_t)sqlite3_column_int64(st, 1);
            uint64_t end = (uint64_t)sqlite3_column_int64(st, 2);
            if (start < t->start_ns) t->start_ns = start;
            if (end > t->end_ns) t->end_ns = end;
            t->span_count += (uint32_t)sqlite3_column_int64(st, 3);
            t->error_count += (uint32_t)sqlite3_column_int64(st, 4);
            if (!t->root_name && sqlite3_column_type(st, 5) != SQLITE_NULL) {
                /* Copied: the column's text is gone at the next step. */
                size_t n1 = (size_t)sqlite3_column_bytes(st, 5);
                size_t n2 = (size_t)sqlite3_column_bytes(st, 6);
                t->root_name =
                    vw_batch_str(out, (const char *)sqlite3_column_text(st, 5), n1, NULL);
                t->root_service =
                    vw_batch_str(out, (const char *)sqlite3_column_text(st, 6), n2, NULL);
            }
        }
        ok = load_segment(s, sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7), ls,
                          out);
    }
    sqlite3_reset(st);
    if (t && t->start_ns == UINT64_MAX) t->start_ns = 0;
    if (!ok || (rc != SQLITE_DONE && rc != SQLITE_ROW)) return -1;
    if (!sort_by_start(out)) return -1;
    if (t && !t->root_name) name_missing_root(out, t);
    return (long)out->count;
}

int vw_store_trace(vw_store *s, const uint8_t id[16], vw_batch *out)
{
    long n = load_trace(s, id, out, NULL, NULL);
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
    if (q->service && strcmp(vw_resource_service(sd->resource), q->service) != 0) return false;
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

/* ---- Searching ---------------------------------------------------------------------------- */

/*
 * A string attribute value one span of the trace must have (a plan
 * condition): its segment holds the value's bytes in a Span message, or
 * (for resource and either-scope conditions) refers to a resource that
 * has it. A segment showing neither is not loaded.
 */
typedef struct seg_filter {
    vw_tql_scope scope;
    const char *str;
    size_t len;
    vw_u64map resources; /* resource rows holding the value (scope RESOURCE or ANY) */
} seg_filter;

typedef struct search_state {
    vw_store *s;
    const vw_search *q;
    vw_search_fn fn;
    void *ctx;
    vw_search_stats *stats;
    size_t limit;
    vw_u64map seen;          /* hashes of trace ids decided already (forgotten when full) */
    uint8_t (*reported)[16]; /* the results so far (never forgotten: never reported twice) */
    long reported_count;
    tag_match m;
    load_state loads; /* resources and scopes decoded once for the whole search */
    vw_batch owner;   /* ... and kept here */
    /* What narrows the walk (see plan_tql() and plan_jaeger()). */
    uint64_t keys[64];
    size_t nkeys;
    bool keys_empty;     /* the query needs operations of which there are none: nothing matches */
    uint64_t blooms[64]; /* a candidate chunk holds each of these (either of a pair for '.x') */
    uint64_t blooms_alt[64];
    size_t nblooms;
    uint8_t *bloom;        /* a chunk's filter, read */
    seg_filter filters[8]; /* attribute values a candidate segment must show */
    size_t nfilters;
    int64_t *segs; /* candidates of the current chunk */
    size_t nsegs, segs_cap;
    int go_on;
} search_state;

/* Load and decide the trace of one candidate segment. */
static void decide(search_state *ss, const uint8_t id[16])
{
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, id, 16);
    bool added = true;
    if (!vw_u64map_put(&ss->seen, h, &added)) { /* full: bounded memory; decided twice at worst */
        vw_u64map_clear(&ss->seen);
        vw_u64map_put(&ss->seen, h, &added);
    }
    if (!added) return;
    for (long i = 0; i < ss->reported_count; i++)
        if (memcmp(ss->reported[i], id, 16) == 0) return;
    vw_batch trace;
    vw_batch_init(&trace);
    vw_trace_summary t;
    long n = load_trace(ss->s, id, &trace, &t, &ss->loads);
    bool *matched = n > 0 ? calloc((size_t)n, sizeof *matched) : NULL;
    const otelc_span_data **ptrs = matched ? calloc((size_t)n, sizeof *ptrs) : NULL;
    if (n < 0 || (n > 0 && !ptrs)) {
        ss->go_on = -1;
    } else if (n > 0) {
        ss->stats->inspected_traces++;
        ss->stats->inspected_spans += (uint64_t)n;
        bool in_range = !(ss->q->end_ns && t.start_ns > ss->q->end_ns) &&
                        !(ss->q->start_ns && t.end_ns < ss->q->start_ns);
        if (in_range && trace_matches(ss->q, &trace, matched, &ss->m, ptrs)) {
            memcpy(ss->reported[ss->reported_count++], id, 16);
            if (ss->fn(ss->ctx, &t, &trace, matched) != 0) ss->go_on = 0;
        }
    }
    free(ptrs);
    free(matched);
    vw_batch_free(&trace);
}

static void add_key(search_state *ss, uint64_t key)
{
    if (ss->nkeys < sizeof ss->keys / sizeof *ss->keys) ss->keys[ss->nkeys++] = key;
}

/*
 * The operation rows matching service, name and kind (each NULL / -1 for
 * any) as posting keys. Returns false when there are too many to list
 * (then the walk does not narrow by operation).
 */
static bool add_op_keys(search_state *ss, const char *service, const char *name, size_t name_len,
                        int kind)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT id FROM operations WHERE (?1 IS NULL OR service = ?1) AND "
                      "(?2 IS NULL OR name = ?2) AND (?3 < 0 OR kind = ?3)";
    if (sqlite3_prepare_v2(ss->s->db, sql, -1, &st, NULL) != SQLITE_OK) return false;
    vw__bind_text(st, 1, service);
    if (name)
        sqlite3_bind_text(st, 2, name, (int)name_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int(st, 3, kind);
    size_t before = ss->nkeys;
    bool fits = true;
    while (fits && sqlite3_step(st) == SQLITE_ROW) {
        fits = ss->nkeys < sizeof ss->keys / sizeof *ss->keys;
        add_key(ss, VW_POSTING_OP(sqlite3_column_int64(st, 0)));
    }
    sqlite3_finalize(st);
    if (!fits)
        ss->nkeys = before;
    else if (ss->nkeys == before)
        ss->keys_empty = true;
    return fits;
}

static void add_bloom(search_state *ss, uint64_t key, uint64_t alt)
{
    if (ss->nblooms == sizeof ss->blooms / sizeof *ss->blooms) return;
    ss->blooms[ss->nblooms] = key;
    ss->blooms_alt[ss->nblooms++] = alt;
}

/* Whether resource attrs give key the string str (or a string array holding it). */
static bool resource_has(const otelc_resource *res, const char *key, const char *str, size_t len)
{
    size_t n;
    const otelc_attr *attrs = otelc_resource_attrs(res, &n);
    for (size_t i = 0; i < n; i++) {
        const otelc_value *v = &attrs[i].value;
        if (strcmp(attrs[i].key, key) != 0) continue;
        if (v->type == OTELC_VALUE_STRING)
            return v->u.str.len == len && memcmp(v->u.str.ptr, str, len) == 0;
        if (v->type != OTELC_VALUE_STRING_ARRAY) return false;
        for (size_t k = 0; k < v->u.array.count; k++) {
            const char *item = ((const char *const *)v->u.array.items)[k];
            if (item && strlen(item) == len && memcmp(item, str, len) == 0) return true;
        }
    }
    return false;
}

/* The resource rows holding key = str, into set (every resource is read once). */
static bool matching_resources(search_state *ss, const char *key, const char *str, size_t len,
                               vw_u64map *set)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ss->s->db, "SELECT id, body FROM resources", -1, &st, NULL) != SQLITE_OK)
        return false;
    vw_batch tmp;
    vw_batch_init(&tmp);
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        const otelc_resource *res = vw_decode_resource(
            sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), NULL, &tmp);
        if (res && resource_has(res, key, str, len))
            ok = vw_u64map_put(set, (uint64_t)sqlite3_column_int64(st, 0), NULL) != NULL;
        vw_batch_reset(&tmp);
    }
    sqlite3_finalize(st);
    vw_batch_free(&tmp);
    return ok;
}

static void add_filter(search_state *ss, const vw_tql_cond *c)
{
    if (c->str_len == 0 || ss->nfilters == sizeof ss->filters / sizeof *ss->filters) return;
    seg_filter *f = &ss->filters[ss->nfilters];
    *f = (seg_filter){c->scope, c->str, c->str_len, {0}};
    if (c->scope != VW_TQL_SCOPE_SPAN &&
        (!vw_u64map_init(&f->resources, 1024) ||
         !matching_resources(ss, c->key, c->str, c->str_len, &f->resources))) {
        vw_u64map_free(&f->resources); /* too many to tell: this value filters nothing */
        return;
    }
    ss->nfilters++;
}

/* Whether a segment's records refer to a resource row in set. */
static bool refers_to(const uint8_t *p, size_t n, const vw_u64map *set)
{
    otelc_pb r = otelc__pb_of(p, n);
    while (r.p < r.end) {
        uint64_t res, scope;
        otelc_pb span;
        if (!otelc__pb_varint(&r, &res) || !otelc__pb_varint(&r, &scope) ||
            !otelc__pb_len(&r, &span))
            return true; /* damaged: load it and let the decoder decide */
        if (vw_u64map_get(set, res)) return true;
    }
    return false;
}

static bool segment_may_match(const search_state *ss, const uint8_t *body, size_t n)
{
    for (size_t i = 0; i < ss->nfilters; i++) {
        const seg_filter *f = &ss->filters[i];
        bool in_spans = f->scope != VW_TQL_SCOPE_RESOURCE && memmem(body, n, f->str, f->len);
        if (!in_spans && (f->scope == VW_TQL_SCOPE_SPAN || !refers_to(body, n, &f->resources)))
            return false;
    }
    return true;
}

static void search_state_free(search_state *ss)
{
    for (size_t i = 0; i < ss->nfilters; i++) vw_u64map_free(&ss->filters[i].resources);
    vw_batch_free(&ss->owner);
    free(ss->bloom);
}

/*
 * From TraceQL's plan, the conditions of ONE span number: one span of a
 * matching trace satisfies them all, so its segment is in the posting
 * lists of its operation (and of error spans) and its chunk's filter holds
 * its attribute values. Mixing conditions of different span numbers would
 * wrongly skip traces whose spans sit in different segments or chunks.
 */
static void plan_tql(search_state *ss, const vw_tql_plan *plan)
{
    if (!plan || plan->cond_count == 0) return;
    /* The span number with the most conditions narrows the most. */
    uint32_t best = 0;
    size_t best_n = 0;
    for (uint32_t g = 0; g < plan->span_count; g++) {
        size_t n = 0;
        for (size_t i = 0; i < plan->cond_count; i++) n += plan->conds[i].span == g;
        if (n > best_n) best = g, best_n = n;
    }
    const char *service = NULL, *name = NULL;
    size_t name_len = 0;
    int kind = -1;
    bool error = false;
    char svc[256];
    for (size_t i = 0; i < plan->cond_count; i++) {
        const vw_tql_cond *c = &plan->conds[i];
        if (c->span != best) continue;
        switch (c->kind) {
        case VW_TQL_COND_NAME:
            name = c->str, name_len = c->str_len;
            break;
        case VW_TQL_COND_SERVICE:
            if (c->str_len < sizeof svc && !memchr(c->str, 0, c->str_len)) {
                memcpy(svc, c->str, c->str_len);
                svc[c->str_len] = '\0';
                service = svc;
            }
            break;
        case VW_TQL_COND_KIND:
            kind = (int)c->i;
            break;
        case VW_TQL_COND_STATUS:
            error = c->i == OTELC_STATUS_ERROR;
            break;
        case VW_TQL_COND_ATTR_STR:
        case VW_TQL_COND_ATTR_INT: {
            uint64_t sk = c->kind == VW_TQL_COND_ATTR_STR
                              ? vw__bloom_key_str('S', c->key, c->str, c->str_len)
                              : vw__bloom_key_int('S', c->key, c->i);
            uint64_t rk = c->kind == VW_TQL_COND_ATTR_STR
                              ? vw__bloom_key_str('R', c->key, c->str, c->str_len)
                              : vw__bloom_key_int('R', c->key, c->i);
            if (c->scope == VW_TQL_SCOPE_SPAN) rk = sk;
            if (c->scope == VW_TQL_SCOPE_RESOURCE) sk = rk;
            add_bloom(ss, sk, rk);
            if (c->kind == VW_TQL_COND_ATTR_STR) add_filter(ss, c);
            break;
        }
        default:
            break;
        }
    }
    if (service || name || kind >= 0) {
        if (!add_op_keys(ss, service, name, name_len, kind)) return;
        if (error) ss->nkeys = 0, add_key(ss, VW_POSTING_ERROR); /* an error span: narrower yet */
    } else if (error) {
        add_key(ss, VW_POSTING_ERROR);
    }
}

/* The Jaeger conditions all hold on one span: its operation, and an error when asked. */
static void plan_jaeger(search_state *ss, const vw_search *q)
{
    if (q->service || q->operation) {
        if (!add_op_keys(ss, q->service, q->operation, q->operation ? strlen(q->operation) : 0, -1))
            return;
    }
    if (q->errors_only && ss->nkeys == 0 && !ss->keys_empty) add_key(ss, VW_POSTING_ERROR);
}

/*
 * Whether the chunk's filter may hold every attribute value the query
 * needs. The filter is read whole: SQLite reads a blob's overflow pages
 * in order, so probing single bytes of a 128 KiB blob costs more.
 */
static bool chunk_may_match(search_state *ss, int64_t chunk)
{
    if (ss->nblooms == 0) return true;
    sqlite3_blob *blob;
    if (sqlite3_blob_open(ss->s->db, "main", "chunks", "bloom", chunk, 0, &blob) != SQLITE_OK)
        return true; /* unreadable: read the chunk rather than miss a trace */
    if (!ss->bloom) ss->bloom = malloc(VW_BLOOM_BYTES);
    bool all = true;
    if (ss->bloom && sqlite3_blob_bytes(blob) == (int)VW_BLOOM_BYTES &&
        sqlite3_blob_read(blob, ss->bloom, (int)VW_BLOOM_BYTES, 0) == SQLITE_OK) {
        for (size_t i = 0; all && i < ss->nblooms; i++)
            all = vw__bloom_has(ss->bloom, ss->blooms[i]) ||
                  vw__bloom_has(ss->bloom, ss->blooms_alt[i]);
    }
    sqlite3_blob_close(blob);
    return all;
}

static void collect_seg(void *ctx, int64_t seg)
{
    search_state *ss = ctx;
    if (ss->nsegs == ss->segs_cap) {
        size_t cap = ss->segs_cap ? ss->segs_cap * 2 : 1024;
        int64_t *grown = realloc(ss->segs, cap * sizeof *grown);
        if (!grown) return;
        ss->segs = grown;
        ss->segs_cap = cap;
    }
    ss->segs[ss->nsegs++] = seg;
}

static int newest_first(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

/* The chunk's candidate segments into ss->segs, newest first. */
static void chunk_candidates(search_state *ss, sqlite3_stmt *chunk)
{
    int64_t first = sqlite3_column_int64(chunk, 1), last = sqlite3_column_int64(chunk, 2);
    ss->nsegs = 0;
    if (ss->nkeys) {
        if (vw__postings_each(sqlite3_column_blob(chunk, 3), (size_t)sqlite3_column_bytes(chunk, 3),
                              first, ss->keys, ss->nkeys, collect_seg, ss)) {
            qsort(ss->segs, ss->nsegs, sizeof *ss->segs, newest_first);
            return;
        }
        ss->nsegs = 0; /* a damaged list: every segment is a candidate */
    }
    for (int64_t seg = last; seg >= first; seg--) collect_seg(ss, seg);
}

/* Decide the candidate segments of one chunk. */
static void walk_chunk(search_state *ss, sqlite3_stmt *chunk)
{
    if (!chunk_may_match(ss, sqlite3_column_int64(chunk, 0))) return;
    chunk_candidates(ss, chunk);
    sqlite3_stmt *get = ss->s->st[ST_SEG_GET];
    for (size_t i = 0; i < ss->nsegs && ss->go_on > 0 && (size_t)ss->reported_count < ss->limit;
         i++) {
        if (i && ss->segs[i] == ss->segs[i - 1]) continue;
        sqlite3_bind_int64(get, 1, ss->segs[i]);
        uint8_t trace[16];
        bool found = sqlite3_step(get) == SQLITE_ROW && sqlite3_column_bytes(get, 0) == 16 &&
                     segment_may_match(ss, sqlite3_column_blob(get, 1),
                                       (size_t)sqlite3_column_bytes(get, 1));
        if (found) memcpy(trace, sqlite3_column_blob(get, 0), 16);
        sqlite3_reset(get);
        if (found) decide(ss, trace); /* a segment gone to retention is skipped */
    }
}

long vw_store_search(vw_store *s, const vw_search *q, vw_search_fn fn, void *ctx,
                     vw_search_stats *stats)
{
    vw_search_stats ignored;
    search_state ss = {
        .s = s, .q = q, .fn = fn, .ctx = ctx, .stats = stats ? stats : &ignored, .go_on = 1};
    memset(ss.stats, 0, sizeof *ss.stats);
    ss.limit = q->limit ? q->limit : 20;
    plan_jaeger(&ss, q);
    if (q->query && ss.nkeys == 0 && !ss.keys_empty) plan_tql(&ss, vw_tql_get_plan(q->query));
    if (ss.keys_empty) return 0; /* it names an operation nobody has */
    sqlite3_stmt *chunks;
    const char *sql = "SELECT id, first_seg, last_seg, postings FROM chunks "
                      "WHERE max_start >= ?1 AND min_start <= ?2 ORDER BY id DESC";
    vw_batch_init(&ss.owner);
    ss.loads.owner = &ss.owner;
    ss.reported = calloc(ss.limit, sizeof *ss.reported);
    if (!ss.reported || !vw_u64map_init(&ss.seen, 4096) ||
        sqlite3_prepare_v2(s->db, sql, -1, &chunks, NULL) != SQLITE_OK) {
        free(ss.reported);
        vw_u64map_free(&ss.seen);
        search_state_free(&ss);
        return -1;
    }
    /* A trace's spans may start before its segment's first span: widen by an hour. */
    uint64_t slack = 3600ull * 1000000000ull;
    bool unbounded = !q->end_ns || q->end_ns > (uint64_t)INT64_MAX - slack;
    sqlite3_bind_int64(chunks, 1, q->start_ns > slack ? (int64_t)(q->start_ns - slack) : 0);
    sqlite3_bind_int64(chunks, 2, unbounded ? INT64_MAX : (int64_t)(q->end_ns + slack));
    int rc;
    while (ss.go_on > 0 && (size_t)ss.reported_count < ss.limit &&
           (rc = sqlite3_step(chunks)) == SQLITE_ROW)
        walk_chunk(&ss, chunks);
    sqlite3_finalize(chunks);
    free(ss.segs);
    free(ss.reported);
    vw_u64map_free(&ss.seen);
    otelc__buf_free(&ss.m.text);
    search_state_free(&ss);
    return ss.go_on < 0 ? -1 : ss.reported_count;
}
