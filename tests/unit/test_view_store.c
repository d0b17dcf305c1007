/*
 * test_view_store.c - the viewer's SQLite store (viewer/store.c): what is
 * written is read back field for field, searches find what a user asks
 * for, retention removes whole traces, the file survives a reopen, and the
 * aggregates behind the operations table and service map add up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "histogram.h"
#include "store.h"
#include "traceql.h"

/* ---- Building batches by hand ------------------------------------------------------------- */

#define SEC 1000000000ull
#define T0  (1700000000ull * SEC)

static otelc_resource *service_resource(vw_batch *b, const char *service)
{
    otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", service),
                          OTELC_ATTR_STR("host.name", "box")};
    return vw_batch_add_resource(b, attrs, 2, NULL);
}

static const otelc_scope_info test_scope = {.name = "test.scope", .version = "1.0"};

static void set_id(uint8_t *out, size_t n, unsigned v)
{
    memset(out, 0, n);
    out[n - 2] = (uint8_t)(v >> 8);
    out[n - 1] = (uint8_t)v;
}

/* A span of trace t, id s, parent p (0: root), running [start, start + dur) seconds after T0. */
static otelc_span_data *add_span(vw_batch *b, const otelc_resource *res, unsigned t, unsigned s,
                                 unsigned p, const char *name, double start, double dur)
{
    otelc_span_data *sd = vw_batch_add_span(b);
    assert_non_null(sd);
    set_id(sd->context.trace_id, 16, t);
    set_id(sd->context.span_id, 8, s);
    sd->context.trace_flags = 1;
    if (p) {
        sd->has_parent = true;
        set_id(sd->parent_span_id, 8, p);
    }
    sd->name = name;
    sd->kind = p ? OTELC_SPAN_INTERNAL : OTELC_SPAN_SERVER;
    sd->start_ns = T0 + (uint64_t)(start * SEC);
    sd->end_ns = sd->start_ns + (uint64_t)(dur * SEC);
    sd->resource = res;
    sd->scope = &test_scope;
    return sd;
}

static vw_store *open_memory(uint64_t max_spans)
{
    vw_store_options o = {.path = ":memory:", .max_spans = max_spans};
    vw_store *s = NULL;
    char err[256];
    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    return s;
}

static void write1(vw_store *s, vw_batch *b)
{
    const vw_batch *bs[] = {b};
    char err[256];
    assert_int_equal(vw_store_write(s, bs, 1, err, sizeof err), 0);
    vw_batch_free(b);
}

static void trace_id(uint8_t out[16], unsigned t)
{
    set_id(out, 16, t);
}

/* ---- Round trip --------------------------------------------------------------------------- */

static void test_trace_round_trip(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = service_resource(&b, "shop");
    static const int64_t ints[] = {1, -2};
    const otelc_attr map_items[] = {OTELC_ATTR_INT("depth", 1)};
    const otelc_attr attrs[] = {
        OTELC_ATTR_STR("http.route", "/users/{id}"),
        OTELC_ATTR_INT("http.response.status_code", 500),
        OTELC_ATTR_DOUBLE("ratio", 0.5),
        OTELC_ATTR_BOOL("cached", false),
        {.key = "ints", .value = {.type = OTELC_VALUE_INT_ARRAY, .u.array = {ints, 2}}},
        {.key = "map", .value = {.type = OTELC_VALUE_MAP, .u.array = {map_items, 1}}},
        {.key = "bytes", .value = {.type = OTELC_VALUE_BYTES, .u.str = {"\0\xff", 2}}},
    };
    const otelc_attr event_attrs[] = {OTELC_ATTR_STR("exception.type", "E")};
    const otelc_event_data events[] = {{"exception", T0 + 5, event_attrs, 1, 2}};
    otelc_link_data links[1] = {{.attrs = NULL}};
    set_id(links[0].context.trace_id, 16, 77);
    set_id(links[0].context.span_id, 8, 78);

    otelc_span_data *root = add_span(&b, res, 1, 1, 0, "GET /users/{id}", 0, 0.25);
    root->attrs = attrs;
    root->attr_count = 7;
    root->dropped_attr_count = 3;
    root->events = events;
    root->event_count = 1;
    root->links = links;
    root->link_count = 1;
    root->status = OTELC_STATUS_ERROR;
    root->status_message = "boom";
    root->context.trace_state = "k=v";
    add_span(&b, res, 1, 2, 1, "SELECT users", 0.1, 0.05);
    write1(s, &b);

    uint8_t id[16];
    trace_id(id, 1);
    vw_batch t;
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_int_equal(t.count, 2);
    const otelc_span_data *r = &t.spans[0]; /* ordered by start */
    assert_string_equal(r->name, "GET /users/{id}");
    assert_int_equal(r->kind, OTELC_SPAN_SERVER);
    assert_false(r->has_parent);
    assert_int_equal(r->start_ns, T0);
    assert_int_equal(r->end_ns, T0 + SEC / 4);
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "boom");
    assert_string_equal(r->context.trace_state, "k=v");
    assert_int_equal(r->attr_count, 7);
    assert_int_equal(r->dropped_attr_count, 3);
    const otelc_value *v = otelc_span_data_attr(r, "http.response.status_code");
    assert_non_null(v);
    assert_int_equal(v->u.i, 500);
    v = otelc_span_data_attr(r, "bytes");
    assert_int_equal(v->type, OTELC_VALUE_BYTES);
    assert_int_equal(v->u.str.len, 2);
    assert_memory_equal(v->u.str.ptr, "\0\xff", 2);
    v = otelc_span_data_attr(r, "map");
    assert_int_equal(v->type, OTELC_VALUE_MAP);
    assert_int_equal(v->u.array.count, 1);
    assert_int_equal(r->event_count, 1);
    assert_string_equal(r->events[0].name, "exception");
    assert_int_equal(r->events[0].dropped_attr_count, 2);
    assert_int_equal(r->link_count, 1);
    assert_int_equal(r->links[0].context.span_id[7], 78);
    assert_string_equal(r->scope->name, "test.scope");
    assert_string_equal(r->scope->version, "1.0");
    const otelc_value *svc = otelc_resource_get(r->resource, "service.name");
    assert_string_equal(svc->u.str.ptr, "shop");
    const otelc_span_data *c = &t.spans[1];
    assert_true(c->has_parent);
    assert_int_equal(c->parent_span_id[7], 1);
    assert_ptr_equal(c->resource, r->resource); /* one resource decoded per trace */
    vw_batch_free(&t);

    trace_id(id, 2);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 0);
    vw_batch_free(&t);
    vw_store_close(s);
}

/*
 * Schema URLs travel in ResourceSpans and ScopeSpans, beside the messages
 * the store keeps: they come back, and two resources (or scopes) that
 * differ in nothing else stay two.
 */
static void test_schema_urls(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    vw_batch b;
    vw_batch_init(&b);
    const otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", "shop")};
    const otelc_resource *plain = vw_batch_add_resource(&b, attrs, 1, NULL);
    const otelc_resource *v1 = vw_batch_add_resource(&b, attrs, 1, "https://schema/1");
    static const otelc_scope_info scope_v2 = {
        .name = "test.scope", .version = "1.0", .schema_url = "https://schema/2"};
    add_span(&b, plain, 1, 1, 0, "plain", 0, 1);
    add_span(&b, v1, 1, 2, 1, "with-schema", 0, 1)->scope = &scope_v2;
    write1(s, &b);
    uint8_t id[16];
    trace_id(id, 1);
    vw_batch t;
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_int_equal(t.count, 2);
    const otelc_span_data *a = &t.spans[0], *c = &t.spans[1];
    if (strcmp(a->name, "plain") != 0) a = &t.spans[1], c = &t.spans[0];
    assert_null(otelc_resource_schema_url(a->resource));
    assert_null(a->scope->schema_url);
    assert_string_equal(otelc_resource_schema_url(c->resource), "https://schema/1");
    assert_string_equal(c->scope->schema_url, "https://schema/2");
    assert_string_equal(c->scope->name, "test.scope");
    vw_batch_free(&t);
    vw_store_close(s);
}

/* A trace's spans may arrive in several requests; they form one trace. */
static void test_trace_in_pieces(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    for (unsigned i = 0; i < 3; i++) {
        vw_batch b;
        vw_batch_init(&b);
        add_span(&b, service_resource(&b, i == 2 ? "db" : "api"), 9, 10 + i, i ? 10 : 0,
                 i ? "child" : "root", i, 1);
        write1(s, &b);
    }
    vw_store_counts n;
    assert_int_equal(vw_store_counts_get(s, &n), 0);
    assert_int_equal(n.spans, 3);
    assert_int_equal(n.traces, 0); /* the writer does not count traces (readers do) */
    uint8_t id[16];
    trace_id(id, 9);
    vw_batch t;
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_int_equal(t.count, 3);
    vw_batch_free(&t);
    vw_store_close(s);
}

/* ---- Searching ---------------------------------------------------------------------------- */

typedef struct found {
    unsigned traces[32];
    size_t n;
    size_t matched_spans[32];
    const char *root[32];
    char root_name[32][64];
} found;

static int collect(void *ctx, const vw_trace_summary *t, const vw_batch *trace, const bool *matched)
{
    found *f = ctx;
    f->traces[f->n] = t->trace_id[15] | (unsigned)t->trace_id[14] << 8;
    size_t m = 0;
    for (size_t i = 0; i < trace->count; i++) m += matched[i];
    f->matched_spans[f->n] = m;
    f->root[f->n] = t->root_name ? "yes" : NULL;
    snprintf(f->root_name[f->n], sizeof f->root_name[0], "%s", t->root_name ? t->root_name : "");
    f->n++;
    return 0;
}

/* Five traces: api -> db, at increasing times; trace 3 fails, trace 4 is slow. */
static vw_store *search_fixture(void)
{
    vw_store *s = open_memory(0);
    for (unsigned t = 1; t <= 5; t++) {
        vw_batch b;
        vw_batch_init(&b);
        const otelc_resource *api = service_resource(&b, "api");
        const otelc_resource *db = service_resource(&b, "db");
        otelc_span_data *root =
            add_span(&b, api, t, t * 10, 0, "GET /users", t * 10.0, t == 4 ? 2.0 : 0.1);
        static otelc_attr route[2] = {OTELC_ATTR_INT("http.response.status_code", 200),
                                      OTELC_ATTR_INT("http.response.status_code", 500)};
        root->attrs = &route[t == 3];
        root->attr_count = 1;
        if (t == 3) root->status = OTELC_STATUS_ERROR;
        otelc_span_data *q = add_span(&b, db, t, t * 10 + 1, t * 10, "SELECT", t * 10.0, 0.05);
        q->kind = OTELC_SPAN_CLIENT;
        write1(s, &b);
    }
    return s;
}

static found run(vw_store *s, const vw_search *q)
{
    found f = {.n = 0};
    assert_true(vw_store_search(s, q, collect, &f, NULL) >= 0);
    return f;
}

static void test_trace_named_after_missing_root(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    /* A trace started under a remote parent is named after its first span without one here. */
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = service_resource(&b, "job");
    add_span(&b, res, 12, 5, 4, "child", 2, 1);
    add_span(&b, res, 12, 4, 99, "remote child", 1, 3);
    write1(s, &b);
    found f = run(s, &(vw_search){.service = "job"});
    assert_int_equal(f.n, 1);
    assert_string_equal(f.root_name[0], "remote child");
    vw_store_close(s);
}

static void test_search_newest_first_and_limit(void **state)
{
    (void)state;
    vw_store *s = search_fixture();
    found f = run(s, &(vw_search){.limit = 3});
    assert_int_equal(f.n, 3);
    assert_int_equal(f.traces[0], 5);
    assert_int_equal(f.traces[1], 4);
    assert_int_equal(f.traces[2], 3);
    vw_store_close(s);
}

static void test_search_service_operation_duration(void **state)
{
    (void)state;
    vw_store *s = search_fixture();
    found f = run(s, &(vw_search){.service = "db"});
    assert_int_equal(f.n, 5);
    assert_int_equal(f.matched_spans[0], 1); /* the db span only */
    f = run(s, &(vw_search){.service = "api", .operation = "SELECT"});
    assert_int_equal(f.n, 0); /* SELECT is db's */
    f = run(s, &(vw_search){.service = "api", .min_duration_ns = SEC});
    assert_int_equal(f.n, 1);
    assert_int_equal(f.traces[0], 4);
    f = run(s, &(vw_search){.max_duration_ns = SEC / 20, .service = "db"});
    assert_int_equal(f.n, 5);
    f = run(s, &(vw_search){.start_ns = T0 + 25 * SEC, .end_ns = T0 + 45 * SEC});
    assert_int_equal(f.n, 2);
    assert_int_equal(f.traces[0], 4);
    assert_int_equal(f.traces[1], 3);
    vw_store_close(s);
}

static void test_search_tags_and_errors(void **state)
{
    (void)state;
    vw_store *s = search_fixture();
    /* Values compare as text, whatever their type, as in Jaeger. */
    vw_tag_filter status500 = {"http.response.status_code", "500"};
    found f = run(s, &(vw_search){.tags = &status500, .tag_count = 1});
    assert_int_equal(f.n, 1);
    assert_int_equal(f.traces[0], 3);
    vw_tag_filter error = {"error", "true"};
    f = run(s, &(vw_search){.tags = &error, .tag_count = 1});
    assert_int_equal(f.n, 1);
    assert_int_equal(f.traces[0], 3);
    f = run(s, &(vw_search){.errors_only = true});
    assert_int_equal(f.n, 1);
    vw_tag_filter kind = {"span.kind", "client"}, host = {"host.name", "box"};
    vw_tag_filter both[] = {kind, host};
    f = run(s, &(vw_search){.tags = both, .tag_count = 2}); /* resource attributes count */
    assert_int_equal(f.n, 5);
    vw_tag_filter none = {"host.name", "other"};
    f = run(s, &(vw_search){.tags = &none, .tag_count = 1});
    assert_int_equal(f.n, 0);
    vw_store_close(s);
}

static int count_service(void *ctx, const char *service)
{
    (void)service;
    ++*(int *)ctx;
    return 0;
}

static void services_fn(void *ctx, const char *service)
{
    count_service(ctx, service);
}

static void ops_fn(void *ctx, const char *service, const char *name, int kind)
{
    assert_string_equal(service, "db");
    assert_string_equal(name, "SELECT");
    assert_int_equal(kind, OTELC_SPAN_CLIENT);
    ++*(int *)ctx;
}

static void test_services_and_operations(void **state)
{
    (void)state;
    vw_store *s = search_fixture();
    int n = 0;
    assert_int_equal(vw_store_services(s, services_fn, &n), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(vw_store_operations(s, "db", ops_fn, &n), 0);
    assert_int_equal(n, 1);
    vw_store_close(s);
}

/* ---- Retention and files -------------------------------------------------------------------- */

static void test_retention_removes_oldest_whole_traces(void **state)
{
    (void)state;
    vw_store *s = open_memory(5);
    for (unsigned t = 1; t <= 4; t++) {
        vw_batch b;
        vw_batch_init(&b);
        const otelc_resource *res = service_resource(&b, "svc");
        add_span(&b, res, t, t * 10, 0, "root", t, 1);
        add_span(&b, res, t, t * 10 + 1, t * 10, "child", t, 0.5);
        write1(s, &b);
    }
    bool more = true;
    long removed = vw_store_trim(s, 1000, &more);
    assert_int_equal(removed, 4); /* traces 1 and 2: 8 spans held, at most 5 */
    assert_false(more);
    vw_store_counts n;
    vw_store_counts_get(s, &n);
    assert_int_equal(n.spans, 4);
    uint8_t id[16];
    vw_batch t;
    for (unsigned k = 1; k <= 4; k++) {
        trace_id(id, k);
        vw_batch_init(&t);
        assert_int_equal(vw_store_trace(s, id, &t), k >= 3);
        vw_batch_free(&t);
    }
    /* A late span of a removed trace makes it anew. */
    vw_batch b;
    vw_batch_init(&b);
    add_span(&b, service_resource(&b, "svc"), 1, 99, 10, "late", 1, 1);
    write1(s, &b);
    trace_id(id, 1);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_int_equal(t.count, 1);
    vw_batch_free(&t);
    vw_store_close(s);
}

static void test_retention_in_slices(void **state)
{
    (void)state;
    vw_store *s = open_memory(2);
    for (unsigned t = 1; t <= 6; t++) {
        vw_batch b;
        vw_batch_init(&b);
        add_span(&b, service_resource(&b, "svc"), t, t, 0, "root", t, 1);
        write1(s, &b);
    }
    bool more;
    assert_int_equal(vw_store_trim(s, 2, &more), 2);
    assert_true(more);
    assert_int_equal(vw_store_trim(s, 2, &more), 2);
    assert_false(more);
    assert_int_equal(vw_store_trim(s, 2, &more), 0);
    vw_store_close(s);
}

/* Slices read the oldest segments a few hundred at a time: more than one page, exactly what is due.
 */
static void test_retention_past_one_page(void **state)
{
    (void)state;
    vw_store *s = open_memory(100);
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = service_resource(&b, "svc");
    for (unsigned t = 1; t <= 1000; t++) add_span(&b, res, t, t, 0, "root", t, 1);
    write1(s, &b);
    bool more;
    assert_int_equal(vw_store_trim(s, 600, &more), 600); /* traces 1..600 */
    assert_true(more);
    assert_int_equal(vw_store_trim(s, 600, &more), 300); /* 601..900: 100 are left */
    assert_false(more);
    assert_int_equal(vw_store_trim(s, 600, &more), 0);
    uint8_t id[16];
    for (unsigned k = 899; k <= 902; k++) {
        vw_batch t;
        vw_batch_init(&t);
        trace_id(id, k);
        assert_int_equal(vw_store_trace(s, id, &t), k > 900);
        vw_batch_free(&t);
    }
    vw_store_close(s);
}

/*
 * The trace index is partitioned by segment id (epochs of 32,768): a trace
 * whose spans came 40,000 segments apart is found whole, and removed
 * whole by retention, its late segment in the next epoch included.
 */
static void test_trace_across_epochs(void **state)
{
    (void)state;
    vw_store *s = open_memory(40000);
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = service_resource(&b, "svc");
    add_span(&b, res, 1, 1, 0, "early", 0, 1);
    for (unsigned t = 2; t <= 40001; t++) add_span(&b, res, t, t, 0, "filler", 1, 1);
    write1(s, &b); /* segments 1 to 40,001: the trace's first is in epoch 0 */
    vw_batch_init(&b);
    add_span(&b, service_resource(&b, "svc"), 1, 50000, 1, "late", 2, 1);
    write1(s, &b); /* segment 40,002, in epoch 1 */
    uint8_t id[16];
    trace_id(id, 1);
    vw_batch t;
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_int_equal(t.count, 2);
    vw_batch_free(&t);
    bool more;
    assert_int_equal(vw_store_trim(s, 1000, &more), 2); /* 40,002 spans, at most 40,000 */
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 0);
    vw_batch_free(&t);
    vw_store_counts n;
    vw_store_counts_get(s, &n);
    assert_int_equal(n.spans, 40000);
    trace_id(id, 40001);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    vw_batch_free(&t);
    vw_store_close(s);
}

static void test_file_survives_reopen_and_read_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/otelc-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/traces.db", dir);
    vw_store_options o = {.path = path};
    vw_store *s;
    char err[256];
    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    vw_batch b;
    vw_batch_init(&b);
    add_span(&b, service_resource(&b, "svc"), 5, 5, 0, "kept", 0, 1);
    write1(s, &b);

    /* A reader sees the commit while the writer is still open (WAL). */
    vw_store_options ro = {.path = path, .read_only = true};
    vw_store *r;
    assert_int_equal(vw_store_open(&ro, &r, err, sizeof err), 0);
    uint8_t id[16];
    trace_id(id, 5);
    vw_batch t;
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(r, id, &t), 1);
    assert_string_equal(t.spans[0].name, "kept");
    vw_batch_free(&t);
    vw_store_counts rn;
    assert_int_equal(vw_store_counts_get(r, &rn), 0);
    assert_int_equal(rn.spans, 1);
    assert_int_equal(rn.traces, 1);
    char errw[256];
    const vw_batch *none[] = {NULL};
    assert_int_equal(vw_store_write(r, none, 0, errw, sizeof errw), -1);
    vw_store_close(r);
    vw_store_close(s);

    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    vw_store_counts n;
    vw_store_counts_get(s, &n);
    assert_int_equal(n.spans, 1);
    assert_true(n.file_bytes > 0);
    vw_store_close(s);

    /*
     * A store of version 1 (before schema URLs were kept) is upgraded in
     * place: its spans stay, new ones keep their schema URLs.
     */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE resources DROP COLUMN schema_url;"
                                  "ALTER TABLE scopes DROP COLUMN schema_url;"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    vw_batch_init(&b);
    const otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", "svc")};
    add_span(&b, vw_batch_add_resource(&b, attrs, 1, "https://schema/1"), 6, 6, 0, "new", 0, 1);
    write1(s, &b);
    trace_id(id, 6);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_string_equal(otelc_resource_schema_url(t.spans[0].resource), "https://schema/1");
    vw_batch_free(&t);
    trace_id(id, 5);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(s, id, &t), 1);
    assert_null(otelc_resource_schema_url(t.spans[0].resource));
    vw_batch_free(&t);
    vw_store_close(s);

    /*
     * Version 2 indexed traces by their key alone: a reader reads it as it
     * is (scanning for traces), the writer indexes it anew by epoch.
     */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX segments_trace;"
                                  "CREATE INDEX segments_trace ON segments(tkey);"
                                  "PRAGMA user_version = 2;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vw_store_open(&ro, &r, err, sizeof err), 0);
    trace_id(id, 6);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(r, id, &t), 1);
    vw_batch_free(&t);
    vw_store_close(r);
    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    vw_store_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT sql FROM sqlite_schema WHERE name = "
                                        "'segments_trace'), (SELECT user_version FROM "
                                        "pragma_user_version)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(q, 0), "id >> 15"));
    assert_int_equal(sqlite3_column_int(q, 1), 3);
    sqlite3_finalize(q);
    sqlite3_close(db);
    assert_int_equal(vw_store_open(&ro, &r, err, sizeof err), 0);
    vw_batch_init(&t);
    assert_int_equal(vw_store_trace(r, id, &t), 1);
    assert_string_equal(t.spans[0].name, "new");
    vw_batch_free(&t);
    vw_store_close(r);

    /* Somebody else's database is refused, not written into. */
    char other[160];
    snprintf(other, sizeof other, "sqlite3 %s/other.db 'CREATE TABLE t(x)'", dir);
    if (system(other) == 0) {
        snprintf(path, sizeof path, "%s/other.db", dir);
        assert_int_equal(vw_store_open(&o, &s, err, sizeof err), -1);
        assert_non_null(strstr(err, "another program"));
    }
    snprintf(other, sizeof other, "rm -rf %s", dir);
    assert_int_equal(system(other), 0);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/*
 * checkpoint_thread: the WAL's pages reach the database file while the
 * writer stays open and writes on, what was written reads back through
 * another connection and after a reopen, and closing stops the thread.
 */
static void test_checkpoints_on_their_own_thread(void **state)
{
    (void)state;
    char dir[] = "/tmp/otelc-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], cmd[160];
    snprintf(path, sizeof path, "%s/traces.db", dir);
    vw_store_options o = {.path = path, .checkpoint_thread = true};
    vw_store *s;
    char err[256];
    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    long empty = file_size(path);
    static char big[2000];
    memset(big, 'x', sizeof big - 1);
    unsigned t = 1;
    for (int round = 0; round < 20; round++) { /* 20 x 500 spans of 2 KB: ~5,000 WAL pages */
        vw_batch b;
        vw_batch_init(&b);
        const otelc_resource *res = service_resource(&b, "svc");
        for (int k = 0; k < 500; k++, t++) {
            otelc_span_data *sd = add_span(&b, res, t, t, 0, "big", t, 1);
            otelc_attr *a = vw_batch_alloc(&b, sizeof *a);
            *a = (otelc_attr)OTELC_ATTR_STR("payload", big);
            sd->attrs = a;
            sd->attr_count = 1;
        }
        write1(s, &b);
    }
    for (int i = 0; i < 200 && file_size(path) < 10 * 1024 * 1024; i++) usleep(10000);
    assert_true(file_size(path) > empty + 10 * 1024 * 1024); /* checkpointed: the writer is open */

    vw_store_options ro = {.path = path, .read_only = true};
    vw_store *r;
    assert_int_equal(vw_store_open(&ro, &r, err, sizeof err), 0);
    uint8_t id[16];
    vw_batch tr;
    for (unsigned k = 1; k < t; k += 997) {
        trace_id(id, k);
        vw_batch_init(&tr);
        assert_int_equal(vw_store_trace(r, id, &tr), 1);
        assert_string_equal(tr.spans[0].attrs[0].value.u.str.ptr, big);
        vw_batch_free(&tr);
    }
    vw_store_close(r);
    vw_store_close(s);
    assert_int_equal(vw_store_open(&o, &s, err, sizeof err), 0);
    vw_store_counts n;
    vw_store_counts_get(s, &n);
    assert_int_equal(n.spans, t - 1);
    vw_store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- Aggregates ----------------------------------------------------------------------------- */

typedef struct graph {
    int nodes, edges;
    uint64_t edge_count, edge_errors, api_count;
} graph;

static void on_node(void *ctx, const char *service, const vw_latency *l)
{
    graph *g = ctx;
    g->nodes++;
    if (strcmp(service, "api") == 0) g->api_count = l->count;
}

static void on_edge(void *ctx, const char *parent, const char *child, const vw_latency *l)
{
    graph *g = ctx;
    assert_string_equal(parent, "api");
    assert_string_equal(child, "db");
    g->edges++;
    g->edge_count = l->count;
    g->edge_errors = l->errors;
}

static void test_service_graph_either_arrival_order(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    /* Trace 1: the child arrives first (the usual order: it ended first). */
    vw_batch b;
    vw_batch_init(&b);
    otelc_span_data *child = add_span(&b, service_resource(&b, "db"), 1, 2, 1, "SELECT", 0, 0.1);
    child->status = OTELC_STATUS_ERROR;
    write1(s, &b);
    vw_batch_init(&b);
    add_span(&b, service_resource(&b, "api"), 1, 1, 0, "GET", 0, 0.2);
    write1(s, &b);
    /* Trace 2: parent first; and a same-service child makes no edge. */
    vw_batch_init(&b);
    const otelc_resource *api = service_resource(&b, "api");
    add_span(&b, api, 2, 1, 0, "GET", 1, 0.2);
    add_span(&b, api, 2, 3, 1, "render", 1, 0.01);
    write1(s, &b);
    vw_batch_init(&b);
    add_span(&b, service_resource(&b, "db"), 2, 2, 1, "SELECT", 1, 0.1);
    write1(s, &b);

    graph g = {0};
    assert_int_equal(vw_store_service_graph(s, 0, 0, on_node, on_edge, &g), 0);
    assert_int_equal(g.nodes, 2);
    assert_int_equal(g.api_count, 2); /* its SERVER spans: the two GETs, not "render" */
    assert_int_equal(g.edges, 1);
    assert_int_equal(g.edge_count, 2);
    assert_int_equal(g.edge_errors, 1);
    vw_store_close(s);
}

typedef struct ops_seen {
    uint64_t count, errors, p50, p99;
} ops_seen;

static void on_op(void *ctx, const char *service, const char *name, int kind, const vw_latency *l)
{
    (void)service;
    (void)kind;
    if (strcmp(name, "work") != 0) return;
    ops_seen *o = ctx;
    o->count = l->count;
    o->errors = l->errors;
    o->p50 = l->p50_ns;
    o->p99 = l->p99_ns;
}

static void test_operation_stats_percentiles(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    /* 100 spans of 1..100 ms over two transactions; every tenth fails. */
    for (int half = 0; half < 2; half++) {
        vw_batch b;
        vw_batch_init(&b);
        const otelc_resource *res = service_resource(&b, "svc");
        for (unsigned i = 1 + half * 50; i <= 50 + half * 50u; i++) {
            otelc_span_data *sd = add_span(&b, res, 100 + i, i, 0, "work", 1, i / 1000.0);
            if (i % 10 == 0) sd->status = OTELC_STATUS_ERROR;
        }
        write1(s, &b);
    }
    ops_seen o = {0};
    assert_int_equal(vw_store_operation_stats(s, NULL, 0, 0, on_op, &o), 0);
    assert_int_equal(o.count, 100);
    assert_int_equal(o.errors, 10);
    /* Within the histogram's 6 % of 50 ms and 99 ms. */
    assert_true(o.p50 > 47000000 && o.p50 < 53500000);
    assert_true(o.p99 > 93000000 && o.p99 < 105000000);
    /* A window with no spans. */
    o = (ops_seen){0};
    assert_int_equal(vw_store_operation_stats(s, NULL, T0 + 3600 * SEC, T0 + 7200 * SEC, on_op, &o),
                     0);
    assert_int_equal(o.count, 0);
    vw_store_close(s);
}

static void test_histogram_buckets(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 5000000; v = v * 3 / 2 + 1) {
        unsigned b = vw_hist_bucket(v);
        assert_true(vw_hist_lower(b) <= v);
        assert_true(b + 1 == VW_HIST_BUCKETS || vw_hist_lower(b + 1) > v);
    }
    assert_int_equal(vw_hist_bucket(UINT64_MAX), VW_HIST_BUCKETS - 1);
    vw_hist h = {0};
    vw_hist_add(&h, 1000);
    uint8_t blob[VW_HIST_BLOB_MAX];
    size_t n = vw_hist_encode(&h, blob);
    assert_int_equal(n, 6);
    vw_hist back = {0};
    vw_hist_merge_blob(&back, blob, n);
    vw_hist_merge_blob(&back, blob, n - 1); /* a torn pair is ignored */
    assert_int_equal(back.count, 1);
    uint64_t q = vw_hist_quantile(&back, 0.5);
    assert_true(q >= 960 && q <= 1040);
}

/* ---- TraceQL over several chunks ------------------------------------------------------------ */

static otelc_resource *region_resource(vw_batch *b, const char *service, const char *region)
{
    otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", service),
                          OTELC_ATTR_STR("cloud.region", region)};
    return vw_batch_add_resource(b, attrs, 2, NULL);
}

/* 5,000 filler spans (traces 1000 + i) in one transaction, and what extra adds. */
static void write_filler(vw_store *s, unsigned base, void (*extra)(vw_batch *b))
{
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = region_resource(&b, "filler", "us");
    for (unsigned i = 0; i < 5000; i++) {
        otelc_span_data *sd = add_span(&b, res, base + i, base + i, 0, "tick", 1, 0.001);
        sd->kind = OTELC_SPAN_SERVER;
    }
    if (extra) extra(&b);
    write1(s, &b);
}

static otelc_attr needle_attr[1];

/* Trace 7: its API span (with user.id) in the first chunk... */
static void needle_first_half(vw_batch *b)
{
    otelc_span_data *api = add_span(b, region_resource(b, "api", "eu"), 7, 1, 0, "GET", 2, 1);
    needle_attr[0] = OTELC_ATTR_STR("user.id", "needle-42");
    api->attrs = needle_attr;
    api->attr_count = 1;
}

/* ...its failing database span in the last one. */
static void needle_second_half(vw_batch *b)
{
    otelc_span_data *db = add_span(b, service_resource(b, "db"), 7, 2, 1, "SELECT", 2.5, 0.1);
    db->status = OTELC_STATUS_ERROR;
    db->kind = OTELC_SPAN_CLIENT;
}

static size_t tql_count(vw_store *s, const char *q, unsigned *first)
{
    vw_tql *tql;
    char err[256];
    assert_int_equal(vw_tql_compile(q, strlen(q), &tql, err, sizeof err), OTELC_OK);
    found f = run(s, &(vw_search){.query = tql, .limit = 10});
    vw_tql_free(tql);
    if (first && f.n) *first = f.traces[0];
    return f.n;
}

/*
 * Traces of three spans written over four transactions (a root, its child
 * a transaction later, a late span three later for every third trace), a
 * span limit of 3,000 and retention after every transaction, in slices
 * of 500 spans, as the ingest thread runs it: the store holds at most the
 * limit and never two spans less than it (a trace of three is what it
 * removes at a time), its count is exact, traces go whole and oldest first,
 * and the aggregates count every span received, removed or not.
 */
#define BULK_TRACES_PER_TX 100
#define BULK_TXS           40
#define BULK_LIMIT         3000

/* The "GET" operation's figures (ctx: an ops_seen). */
static void on_op_named(void *ctx, const char *service, const char *name, int kind,
                        const vw_latency *l)
{
    (void)service;
    (void)kind;
    if (strcmp(name, "GET") != 0) return;
    ops_seen *o = ctx;
    o->count = l->count;
    o->errors = l->errors;
}

/* Spans of trace t once transactions 0..written_tx are written. */
static unsigned bulk_spans_of(unsigned t, unsigned written_tx)
{
    unsigned first_tx = (t - 1) / BULK_TRACES_PER_TX;
    unsigned n = written_tx >= first_tx ? 1 : 0;
    n += written_tx >= first_tx + 1;
    n += t % 3 == 0 && written_tx >= first_tx + 3;
    return n;
}

static void write_bulk_tx(vw_store *s, unsigned tx)
{
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *api = service_resource(&b, "api");
    const otelc_resource *db = service_resource(&b, "db");
    for (unsigned k = 1; tx >= 3 && k <= BULK_TRACES_PER_TX; k++) {
        unsigned t = (tx - 3) * BULK_TRACES_PER_TX + k;
        if (t % 3 == 0) add_span(&b, db, t, 3, 1, "late", tx, 0.01);
    }
    for (unsigned k = 1; tx >= 1 && k <= BULK_TRACES_PER_TX; k++)
        add_span(&b, db, (tx - 1) * BULK_TRACES_PER_TX + k, 2, 1, "SELECT", tx, 0.01);
    for (unsigned k = 1; k <= BULK_TRACES_PER_TX; k++)
        add_span(&b, api, tx * BULK_TRACES_PER_TX + k, 1, 0, "GET", tx, 0.1);
    write1(s, &b);
}

static void test_retention_bounds_whole_traces_and_aggregates(void **state)
{
    (void)state;
    vw_store *s = open_memory(BULK_LIMIT);
    uint64_t received = 0;
    for (unsigned tx = 0; tx < BULK_TXS; tx++) {
        write_bulk_tx(s, tx);
        bool more = true;
        while (more) assert_true(vw_store_trim(s, 500, &more) >= 0);
        vw_store_counts n;
        assert_int_equal(vw_store_counts_get(s, &n), 0);
        received = 0;
        for (unsigned t = 1; t <= (tx + 1) * BULK_TRACES_PER_TX; t++)
            received += bulk_spans_of(t, tx);
        if (received > BULK_LIMIT) assert_true(n.spans <= BULK_LIMIT && n.spans >= BULK_LIMIT - 2);
        /* What the store says it holds is what its traces hold; they go oldest first, whole. */
        uint64_t held = 0;
        bool gone_before = true;
        for (unsigned t = 1; t <= (tx + 1) * BULK_TRACES_PER_TX; t++) {
            uint8_t id[16];
            vw_batch got;
            vw_batch_init(&got);
            trace_id(id, t);
            int held_trace = vw_store_trace(s, id, &got);
            assert_true(held_trace >= 0);
            if (held_trace) assert_int_equal(got.count, bulk_spans_of(t, tx));
            if (held_trace) gone_before = false;
            assert_true(held_trace || gone_before);
            held += held_trace ? got.count : 0;
            vw_batch_free(&got);
        }
        assert_int_equal(held, n.spans);
    }
    ops_seen o = {0};
    assert_int_equal(vw_store_operation_stats(s, NULL, 0, 0, on_op_named, &o), 0);
    assert_int_equal(o.count, BULK_TXS * BULK_TRACES_PER_TX);
    graph g = {0};
    assert_int_equal(vw_store_service_graph(s, 0, 0, on_node, on_edge, &g), 0);
    assert_int_equal(g.api_count, BULK_TXS * BULK_TRACES_PER_TX);
    assert_int_equal(g.edges, 1);
    unsigned late = 0;
    for (unsigned t = 1; t <= (BULK_TXS - 3) * BULK_TRACES_PER_TX; t++) late += t % 3 == 0;
    assert_int_equal(g.edge_count, (BULK_TXS - 1) * BULK_TRACES_PER_TX + late);
    /* A search finds held traces only, the newest first. */
    vw_tql *tql;
    char err[256];
    const char *q = "{ name = \"late\" }";
    assert_int_equal(vw_tql_compile(q, strlen(q), &tql, err, sizeof err), OTELC_OK);
    found f = run(s, &(vw_search){.query = tql, .limit = 10});
    vw_tql_free(tql);
    assert_int_equal(f.n, 10);
    assert_int_equal(f.traces[0], (BULK_TXS - 3) * BULK_TRACES_PER_TX - 1); /* the newest late */
    for (size_t i = 0; i < f.n; i++) {
        uint8_t id[16];
        vw_batch got;
        vw_batch_init(&got);
        trace_id(id, f.traces[i]);
        assert_int_equal(vw_store_trace(s, id, &got), 1);
        assert_int_equal(got.count, 3);
        vw_batch_free(&got);
    }
    vw_store_close(s);
}

/*
 * Chunk filters and posting lists skip what cannot match, never a match:
 * the spans that satisfy a query sit in different chunks, and the values
 * come from spans and from resources.
 */
static void test_traceql_across_chunks(void **state)
{
    (void)state;
    vw_store *s = open_memory(0);
    write_filler(s, 1000, needle_first_half);
    write_filler(s, 10000, NULL); /* the first chunk closes here */
    write_filler(s, 20000, needle_second_half);
    unsigned t = 0;
    assert_int_equal(tql_count(s, "{ span.user.id = \"needle-42\" }", &t), 1);
    assert_int_equal(t, 7);
    assert_int_equal(tql_count(s, "{ .user.id = \"needle-42\" }", &t), 1);
    assert_int_equal(tql_count(s, "{ resource.user.id = \"needle-42\" }", NULL), 0);
    assert_int_equal(tql_count(s, "{ span.user.id = \"needle-43\" }", NULL), 0);
    assert_int_equal(tql_count(s, "{ resource.service.name = \"db\" && status = error }", &t), 1);
    assert_int_equal(t, 7);
    assert_int_equal(tql_count(s, "{ resource.cloud.region = \"eu\" }", &t), 1);
    assert_int_equal(tql_count(s, "{ .cloud.region = \"eu\" && name = \"GET\" }", &t), 1);
    assert_int_equal(tql_count(s, "{ .user.id = \"needle-42\" } && { name = \"SELECT\" }", &t), 1);
    assert_int_equal(t, 7);
    assert_int_equal(tql_count(s, "{ .user.id = \"needle-42\" } >> { status = error }", &t), 1);
    assert_int_equal(tql_count(s, "{ name = \"nobody\" }", NULL), 0);
    /* A common value: the first ten of the newest. */
    assert_int_equal(tql_count(s, "{ resource.cloud.region = \"us\" }", &t), 10);
    assert_true(t >= 20000);
    vw_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_round_trip),
        cmocka_unit_test(test_trace_in_pieces),
        cmocka_unit_test(test_schema_urls),
        cmocka_unit_test(test_trace_named_after_missing_root),
        cmocka_unit_test(test_search_newest_first_and_limit),
        cmocka_unit_test(test_search_service_operation_duration),
        cmocka_unit_test(test_search_tags_and_errors),
        cmocka_unit_test(test_services_and_operations),
        cmocka_unit_test(test_retention_removes_oldest_whole_traces),
        cmocka_unit_test(test_retention_in_slices),
        cmocka_unit_test(test_retention_past_one_page),
        cmocka_unit_test(test_trace_across_epochs),
        cmocka_unit_test(test_retention_bounds_whole_traces_and_aggregates),
        cmocka_unit_test(test_checkpoints_on_their_own_thread),
        cmocka_unit_test(test_file_survives_reopen_and_read_only),
        cmocka_unit_test(test_service_graph_either_arrival_order),
        cmocka_unit_test(test_operation_stats_percentiles),
        cmocka_unit_test(test_histogram_buckets),
        cmocka_unit_test(test_traceql_across_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
