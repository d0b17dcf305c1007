/*
 * test_view_api.c - the query API of `otelc view` (viewer/api.h), called
 * as the HTTP server calls it, over a store file written by hand: every
 * endpoint's answer is read back with the project's JSON reader and
 * checked field for field against API.md and the APIs it imitates
 * (Jaeger's v1 JSON and api_v3, Tempo's search): the OTLP -> Jaeger
 * translation of a span with every attribute type, events, links, status,
 * scope and resource; searches and their parameters; TraceQL results and
 * errors; the service map and operations table against the store's own
 * aggregates; status; errors on hostile input; a 10,000-span trace;
 * concurrent requests; and the live stream over a real ingest queue.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "ingest.h"
#include "json.h"
#include "store.h"

#define SEC 1000000000ull
#define MS  1000000ull

static uint64_t T0; /* a minute boundary ten minutes ago: inside every default time range */

/* ---- Requests by hand ------------------------------------------------------------------------ */

#define MAX_ARGS 16

typedef struct args {
    const char *kv[2 * MAX_ARGS];
    int n;
} args;

static const char *arg_of(const vw_request *rq, const char *name)
{
    const args *a = rq->conn;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->kv[2 * i], name) == 0) return a->kv[2 * i + 1];
    return NULL;
}

static const char *no_header(const vw_request *rq, const char *name)
{
    (void)rq, (void)name;
    return NULL;
}

/* Call the API: method, path and query arguments (already percent-decoded, as the server gives
 * them). */
static void call(vw_api *api, const char *method, const char *path, args *a, vw_response *rs)
{
    vw_request rq = {.method = method, .path = path, .arg = arg_of, .header = no_header, .conn = a};
    memset(rs, 0, sizeof *rs);
    vw_api_handle(api, &rq, rs);
}

static void response_free(vw_response *rs)
{
    if (rs->release) rs->release(rs->ctx);
    otelc__buf_free(&rs->body);
}

/* name, value pairs up to NULL. */
static args args_of(va_list ap)
{
    args a = {.n = 0};
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        assert_true(a.n < MAX_ARGS);
        a.kv[2 * a.n] = name;
        a.kv[2 * a.n + 1] = va_arg(ap, const char *);
        a.n++;
    }
    return a;
}

/*
 * Parsed bodies: the reader keeps a tree in a document; the tests hold on
 * to roots, so each root's document is remembered here until free_json().
 */
static json_doc held_docs[64];

static json_value *parse_json(const char *text, size_t len, json_error *err)
{
    for (size_t i = 0; i < sizeof held_docs / sizeof *held_docs; i++)
        if (!held_docs[i].root) return otelc__json_parse(&held_docs[i], text, len, NULL, err);
    fail_msg("more than %zu parsed bodies held at once", sizeof held_docs / sizeof *held_docs);
    return NULL;
}

static void free_json(json_value *v)
{
    for (size_t i = 0; v && i < sizeof held_docs / sizeof *held_docs; i++)
        if (held_docs[i].root == v) otelc__json_free(&held_docs[i]);
}

static json_value *parse_body(const vw_response *rs)
{
    json_error err;
    json_value *v = parse_json(rs->body.data ? rs->body.data : "", rs->body.len, &err);
    if (!v)
        fail_msg("not JSON (%u:%u %s): %.*s", err.line, err.column, err.message,
                 (int)(rs->body.len < 400 ? rs->body.len : 400), rs->body.data);
    return v;
}

/* GET path with name, value pairs (NULL-terminated): asserts the status, returns the parsed body.
 */
static json_value *get(vw_api *api, unsigned status, const char *path, ...)
{
    va_list ap;
    va_start(ap, path);
    args a = args_of(ap);
    va_end(ap);
    vw_response rs;
    call(api, "GET", path, &a, &rs);
    if (rs.status != status)
        fail_msg("GET %s: status %u, expected %u: %.*s", path, rs.status, status,
                 (int)(rs.body.len < 400 ? rs.body.len : 400), rs.body.data);
    assert_non_null(rs.content_type);
    assert_non_null(strstr(rs.content_type, "application/json"));
    json_value *v = parse_body(&rs);
    response_free(&rs);
    return v;
}

/* ---- Reading JSON ---------------------------------------------------------------------------- */

/* The value at a path of member names and array indexes separated by '/', or NULL. */
static const json_value *at(const json_value *v, const char *path)
{
    char part[128];
    while (v && *path) {
        size_t n = strcspn(path, "/");
        assert_true(n < sizeof part);
        memcpy(part, path, n);
        part[n] = '\0';
        path += n + (path[n] == '/');
        if (v->type == JSON_ARRAY) {
            char *end;
            unsigned long i = strtoul(part, &end, 10);
            v = *end == '\0' && i < v->u.array.count ? v->u.array.items[i] : NULL;
        } else {
            v = otelc__json_object_get(v, part);
        }
    }
    return v;
}

static const json_value *must(const json_value *v, const char *path)
{
    const json_value *r = at(v, path);
    if (!r) fail_msg("no value at %s", path);
    return r;
}

static const char *str_at(const json_value *v, const char *path)
{
    const json_value *r = must(v, path);
    if (r->type != JSON_STRING)
        fail_msg("%s is a %s, not a string", path, otelc__json_type_name(r->type));
    return r->u.string.ptr;
}

static double num_at(const json_value *v, const char *path)
{
    const json_value *r = must(v, path);
    if (r->type != JSON_NUMBER)
        fail_msg("%s is a %s, not a number", path, otelc__json_type_name(r->type));
    return r->u.number.d;
}

static size_t len_at(const json_value *v, const char *path)
{
    const json_value *r = must(v, path);
    if (r->type != JSON_ARRAY)
        fail_msg("%s is a %s, not an array", path, otelc__json_type_name(r->type));
    return r->u.array.count;
}

static bool is_null_at(const json_value *v, const char *path)
{
    return must(v, path)->type == JSON_NULL;
}

/* In an array of {"key": ...} objects, the one with this key. */
static const json_value *with_key(const json_value *list, const char *key)
{
    assert_int_equal(list->type, JSON_ARRAY);
    for (size_t i = 0; i < list->u.array.count; i++) {
        const json_value *k = otelc__json_object_get(list->u.array.items[i], "key");
        if (k && k->type == JSON_STRING && strcmp(k->u.string.ptr, key) == 0)
            return list->u.array.items[i];
    }
    fail_msg("no key %s", key);
    return NULL;
}

/* A Jaeger tag: asserts its type and returns it. */
static const json_value *tag(const json_value *tags, const char *key, const char *type)
{
    const json_value *t = with_key(tags, key);
    assert_string_equal(str_at(t, "type"), type);
    return t;
}

static void hex_of(char out[33], unsigned t)
{
    snprintf(out, 33, "%032x", t);
}

static void span_hex(char out[17], unsigned s)
{
    snprintf(out, 17, "%016x", s);
}

/* ---- The store: a scenario written by hand --------------------------------------------------- */

static const otelc_scope_info scope = {.name = "test.scope", .version = "1.0"};

static void set_id(uint8_t *out, size_t n, unsigned v)
{
    memset(out, 0, n);
    out[n - 3] = (uint8_t)(v >> 16);
    out[n - 2] = (uint8_t)(v >> 8);
    out[n - 1] = (uint8_t)v;
}

static otelc_resource *resource(vw_batch *b, const char *service, bool extra)
{
    otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", service),
                          OTELC_ATTR_STR("host.name", "box"), OTELC_ATTR_INT("cpus", 4)};
    return vw_batch_add_resource(b, attrs, extra ? 3 : 1, NULL);
}

/* Span s of trace t (parent p, 0: none), starting start_ms after T0 and lasting dur_ms. */
static otelc_span_data *add_span(vw_batch *b, const otelc_resource *res, unsigned t, unsigned s,
                                 unsigned p, const char *name, int kind, double start_ms,
                                 double dur_ms)
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
    sd->kind = (otelc_span_kind)kind;
    sd->start_ns = T0 + (uint64_t)(start_ms * MS);
    sd->end_ns = sd->start_ns + (uint64_t)(dur_ms * MS);
    sd->resource = res;
    sd->scope = &scope;
    return sd;
}

static void write_batch(vw_store *w, vw_batch *b)
{
    const vw_batch *bs[] = {b};
    char err[256];
    if (vw_store_write(w, bs, 1, err, sizeof err) != 0) fail_msg("write: %s", err);
    vw_batch_free(b);
}

/* Attributes as constant initializers (OTELC_ATTR_* are expressions). */
#define A_STR(k, s)                                                                                \
    {                                                                                              \
        .key = (k), .value = {.type = OTELC_VALUE_STRING, .u.str = {(s), sizeof(s) - 1} }          \
    }
#define A_INT(k, v)                                                                                \
    {                                                                                              \
        .key = (k), .value = {.type = OTELC_VALUE_INT, .u.i = (v) }                                \
    }
#define A_DOUBLE(k, v)                                                                             \
    {                                                                                              \
        .key = (k), .value = {.type = OTELC_VALUE_DOUBLE, .u.d = (v) }                             \
    }
#define A_BOOL(k, v)                                                                               \
    {                                                                                              \
        .key = (k), .value = {.type = OTELC_VALUE_BOOL, .u.b = (v) }                               \
    }

/* Trace 1: every attribute type, events, links, status, trace state, two services. */
static const char *const names[] = {"a", "b"};
static const int64_t ints[] = {1, -2};
static const otelc_attr map_items[] = {A_INT("depth", 1)};
static const otelc_value mixed_items[] = {
    {.type = OTELC_VALUE_INT, .u.i = 1},
    {.type = OTELC_VALUE_STRING, .u.str = {"two", 3}},
    {.type = OTELC_VALUE_EMPTY},
};
static const otelc_attr root_attrs[] = {
    A_STR("http.route", "/users/{id}"),
    A_INT("http.response.status_code", 500),
    A_INT("big", (int64_t)1 << 60),
    A_INT("safe", -9007199254740991),
    A_DOUBLE("ratio", 0.5),
    A_BOOL("cached", false),
    {.key = "names", .value = {.type = OTELC_VALUE_STRING_ARRAY, .u.array = {names, 2}}},
    {.key = "ints", .value = {.type = OTELC_VALUE_INT_ARRAY, .u.array = {ints, 2}}},
    {.key = "bytes", .value = {.type = OTELC_VALUE_BYTES, .u.str = {"\0\xff", 2}}},
    {.key = "map", .value = {.type = OTELC_VALUE_MAP, .u.array = {map_items, 1}}},
    {.key = "mixed", .value = {.type = OTELC_VALUE_ARRAY, .u.array = {mixed_items, 3}}},
    {.key = "nothing", .value = {.type = OTELC_VALUE_EMPTY}},
};
#define ROOT_ATTRS (sizeof root_attrs / sizeof root_attrs[0])
static const otelc_attr exception_attrs[] = {A_STR("exception.type", "E")};
static const otelc_attr retry_attrs[] = {A_STR("event", "custom")};
static const otelc_attr unnamed_attrs[] = {A_INT("n", 1)};
static const otelc_attr child_of_attrs[] = {A_STR("opentracing.ref_type", "child_of")};

static void write_trace_one(vw_store *w)
{
    static otelc_event_data events[3];
    static otelc_link_data links[2], parent_link[1];
    events[0] = (otelc_event_data){"exception", T0 + 5 * MS, exception_attrs, 1, 2};
    events[1] = (otelc_event_data){"retry", T0 + 6 * MS, retry_attrs, 1, 0};
    events[2] = (otelc_event_data){"", T0 + 7 * MS, unnamed_attrs, 1, 0};
    memset(links, 0, sizeof links);
    set_id(links[0].context.trace_id, 16, 77);
    set_id(links[0].context.span_id, 8, 78);
    set_id(links[1].context.trace_id, 16, 88);
    set_id(links[1].context.span_id, 8, 89);
    links[1].attrs = child_of_attrs;
    links[1].attr_count = 1;
    memset(parent_link, 0, sizeof parent_link);
    set_id(parent_link[0].context.trace_id, 16, 1);
    set_id(parent_link[0].context.span_id, 8, 1);

    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *shop = resource(&b, "shop", true), *db = resource(&b, "db", false);
    otelc_span_data *root =
        add_span(&b, shop, 1, 1, 0, "GET /users/{id}", OTELC_SPAN_SERVER, 0, 250);
    root->attrs = root_attrs;
    root->attr_count = ROOT_ATTRS;
    root->dropped_attr_count = 3;
    root->events = events;
    root->event_count = 3;
    root->links = links;
    root->link_count = 2;
    root->status = OTELC_STATUS_ERROR;
    root->status_message = "boom";
    root->context.trace_state = "k=v";
    otelc_span_data *child = add_span(&b, db, 1, 2, 1, "SELECT users", OTELC_SPAN_CLIENT, 100, 50);
    child->status = OTELC_STATUS_OK;
    otelc_span_data *work =
        add_span(&b, shop, 1, 3, 1, "internal work", OTELC_SPAN_INTERNAL, 10, 20);
    work->links = parent_link;
    work->link_count = 1;
    write_batch(w, &b);
}

/*
 * Traces 2 to 11: shop "GET /" (server, i ms for i = 1..10, errors at i = 3
 * and 7) calling db "SELECT" (client, 0.5 ms), i seconds after T0.
 */
static void write_traces_two_to_eleven(vw_store *w)
{
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *shop = resource(&b, "shop", true), *db = resource(&b, "db", false);
    for (unsigned i = 1; i <= 10; i++) {
        unsigned t = i + 1;
        otelc_span_data *root =
            add_span(&b, shop, t, 100 * t, 0, "GET /", OTELC_SPAN_SERVER, 1000.0 * i, i);
        if (i == 3 || i == 7) root->status = OTELC_STATUS_ERROR;
        add_span(&b, db, t, 100 * t + 1, 100 * t, "SELECT", OTELC_SPAN_CLIENT, 1000.0 * i, 0.5);
    }
    write_batch(w, &b);
}

typedef struct fixture {
    char dir[64], db[128];
    vw_store *writer;
    vw_ingest *ingest;
    vw_api *api;
    _Atomic uint64_t rejected;
} fixture;

static void fixture_files(fixture *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/otelc_test_api_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/store.db", f->dir);
    vw_store_options o = {.path = f->db};
    char err[256];
    if (vw_store_open(&o, &f->writer, err, sizeof err) != 0) fail_msg("open: %s", err);
}

static vw_api *new_api(fixture *f)
{
    vw_api_config cfg = {.version = "9.9.9",
                         .otlp_http = "http://127.0.0.1:4318",
                         .otlp_grpc = "127.0.0.1:4317",
                         .rejected_spans = &f->rejected};
    vw_api *api = vw_api_new(f->db, f->ingest, &cfg);
    assert_non_null(api);
    return api;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    fixture_files(f);
    write_trace_one(f->writer);
    write_traces_two_to_eleven(f->writer);
    atomic_store(&f->rejected, 7);
    f->api = new_api(f);
    *state = f;
    return 0;
}

static void remove_files(fixture *f)
{
    char path[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", f->db, suffix[i]);
        unlink(path);
    }
    rmdir(f->dir);
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->ingest)
        vw_ingest_stop(f->ingest); /* closes the writer */
    else
        vw_store_close(f->writer);
    vw_api_free(f->api);
    remove_files(f);
    free(f);
    return 0;
}

/* "start"/"end" parameters around the scenario, in µs (Jaeger) or s (Tempo). */
static char start_us[32], end_us[32], start_s[32], end_s[32];

static void scenario_range(void)
{
    snprintf(start_us, sizeof start_us, "%llu", (unsigned long long)((T0 - 60 * SEC) / 1000));
    snprintf(end_us, sizeof end_us, "%llu", (unsigned long long)((T0 + 60 * SEC) / 1000));
    snprintf(start_s, sizeof start_s, "%llu", (unsigned long long)(T0 / SEC - 60));
    snprintf(end_s, sizeof end_s, "%llu", (unsigned long long)(T0 / SEC + 60));
}

/* ---- Services and operations ----------------------------------------------------------------- */

static void test_services_and_operations(void **state)
{
    fixture *f = *state;
    json_value *v = get(f->api, 200, "/api/services", NULL);
    assert_int_equal(len_at(v, "data"), 2);
    assert_string_equal(str_at(v, "data/0"), "db");
    assert_string_equal(str_at(v, "data/1"), "shop");
    assert_int_equal(num_at(v, "total"), 2);
    assert_int_equal(num_at(v, "limit"), 0);
    assert_int_equal(num_at(v, "offset"), 0);
    assert_true(is_null_at(v, "errors"));
    free_json(v);

    v = get(f->api, 200, "/api/services/shop/operations", NULL);
    assert_int_equal(len_at(v, "data"), 3); /* sorted, each name once */
    assert_string_equal(str_at(v, "data/0"), "GET /");
    assert_string_equal(str_at(v, "data/1"), "GET /users/{id}");
    assert_string_equal(str_at(v, "data/2"), "internal work");
    free_json(v);
    v = get(f->api, 200, "/api/services/nosuch/operations", NULL);
    assert_int_equal(len_at(v, "data"), 0);
    free_json(v);

    v = get(f->api, 200, "/api/operations", "service", "shop", "spanKind", "server", NULL);
    assert_int_equal(len_at(v, "data"), 2);
    assert_string_equal(str_at(v, "data/0/name"), "GET /");
    assert_string_equal(str_at(v, "data/0/spanKind"), "server");
    assert_string_equal(str_at(v, "data/1/name"), "GET /users/{id}");
    free_json(v);
    v = get(f->api, 200, "/api/operations", "service", "db", NULL);
    assert_int_equal(len_at(v, "data"), 2);
    assert_string_equal(str_at(v, "data/0/spanKind"), "client");
    free_json(v);
    v = get(f->api, 400, "/api/operations", NULL);
    assert_true(is_null_at(v, "data"));
    assert_int_equal(num_at(v, "errors/0/code"), 400);
    assert_string_equal(str_at(v, "errors/0/msg"), "parameter 'service' is required");
    free_json(v);
}

/* ---- The Jaeger translation ------------------------------------------------------------------ */

static void check_root_tags(const json_value *tags)
{
    /* Scope first, then the attributes in order, then the translated fields. */
    assert_string_equal(str_at(tags, "0/key"), "otel.scope.name");
    assert_string_equal(str_at(tags, "0/value"), "test.scope");
    assert_string_equal(str_at(tags, "1/key"), "otel.scope.version");
    assert_string_equal(str_at(tags, "1/value"), "1.0");
    assert_string_equal(str_at(tags, "2/key"), "http.route");
    assert_int_equal(len_at(tags, ""), 2 + ROOT_ATTRS + 5);
    assert_string_equal(str_at(tag(tags, "http.route", "string"), "value"), "/users/{id}");
    assert_int_equal(num_at(tag(tags, "http.response.status_code", "int64"), "value"), 500);
    /* Beyond 2^53 - 1 an int64 is a string, as Jaeger writes it for JavaScript. */
    assert_string_equal(str_at(tag(tags, "big", "int64"), "value"), "1152921504606846976");
    assert_true(num_at(tag(tags, "safe", "int64"), "value") == -9007199254740991.0);
    assert_true(num_at(tag(tags, "ratio", "float64"), "value") == 0.5);
    const json_value *cached = must(tag(tags, "cached", "bool"), "value");
    assert_int_equal(cached->type, JSON_BOOL);
    assert_false(cached->u.boolean);
    /* Bytes are binary in base64 (00 ff -> "AP8="); arrays, maps as their JSON in a string. */
    assert_string_equal(str_at(tag(tags, "bytes", "binary"), "value"), "AP8=");
    assert_string_equal(str_at(tag(tags, "names", "string"), "value"), "[\"a\",\"b\"]");
    assert_string_equal(str_at(tag(tags, "ints", "string"), "value"), "[1,-2]");
    assert_string_equal(str_at(tag(tags, "map", "string"), "value"), "{\"depth\":1}");
    assert_string_equal(str_at(tag(tags, "mixed", "string"), "value"), "[1,\"two\",null]");
    assert_string_equal(str_at(tag(tags, "nothing", "string"), "value"), "");
    size_t n = 2 + ROOT_ATTRS;
    const char *const tail[][3] = {{"span.kind", "string", "server"},
                                   {"otel.status_code", "string", "ERROR"},
                                   {"error", "bool", NULL},
                                   {"otel.status_description", "string", "boom"},
                                   {"w3c.tracestate", "string", "k=v"}};
    for (size_t i = 0; i < 5; i++) {
        const json_value *t = tags->u.array.items[n + i];
        assert_string_equal(str_at(t, "key"), tail[i][0]);
        assert_string_equal(str_at(t, "type"), tail[i][1]);
        if (tail[i][2])
            assert_string_equal(str_at(t, "value"), tail[i][2]);
        else
            assert_true(must(t, "value")->type == JSON_BOOL && must(t, "value")->u.boolean);
    }
}

static void check_root_logs(const json_value *span)
{
    assert_int_equal(len_at(span, "logs"), 3);
    assert_int_equal(num_at(span, "logs/0/timestamp"), (T0 + 5 * MS) / 1000);
    /* The event's name as the field "event", then its attributes. */
    assert_int_equal(len_at(span, "logs/0/fields"), 2);
    assert_string_equal(str_at(span, "logs/0/fields/0/key"), "event");
    assert_string_equal(str_at(span, "logs/0/fields/0/value"), "exception");
    assert_string_equal(str_at(span, "logs/0/fields/1/key"), "exception.type");
    assert_string_equal(str_at(span, "logs/0/fields/1/value"), "E");
    /* An attribute called "event" wins over the name; an unnamed event has no "event". */
    assert_int_equal(len_at(span, "logs/1/fields"), 1);
    assert_string_equal(str_at(span, "logs/1/fields/0/value"), "custom");
    assert_int_equal(len_at(span, "logs/2/fields"), 1);
    assert_string_equal(str_at(span, "logs/2/fields/0/key"), "n");
    assert_string_equal(str_at(span, "logs/2/fields/0/type"), "int64");
}

static void check_trace_one(const json_value *trace)
{
    char id[33], s1[17], s2[17], s3[17], l1[33], l2[33];
    hex_of(id, 1), span_hex(s1, 1), span_hex(s2, 2), span_hex(s3, 3), hex_of(l1, 77),
        hex_of(l2, 88);
    assert_string_equal(str_at(trace, "traceID"), id);
    assert_true(is_null_at(trace, "warnings"));
    assert_int_equal(len_at(trace, "spans"), 3);
    /* Spans by start: the root, internal work (10 ms), the db call (100 ms). */
    const json_value *root = must(trace, "spans/0"), *work = must(trace, "spans/1"),
                     *child = must(trace, "spans/2");
    assert_string_equal(str_at(root, "traceID"), id);
    assert_string_equal(str_at(root, "spanID"), s1);
    assert_int_equal(num_at(root, "flags"), 1);
    assert_string_equal(str_at(root, "operationName"), "GET /users/{id}");
    assert_int_equal(num_at(root, "startTime"), T0 / 1000);
    assert_int_equal(num_at(root, "duration"), 250000);
    assert_string_equal(str_at(root, "processID"), "p1");
    assert_true(is_null_at(root, "warnings"));
    /* No parent: the links only, FOLLOWS_FROM unless opentracing.ref_type says child_of. */
    assert_int_equal(len_at(root, "references"), 2);
    assert_string_equal(str_at(root, "references/0/refType"), "FOLLOWS_FROM");
    assert_string_equal(str_at(root, "references/0/traceID"), l1);
    assert_string_equal(str_at(root, "references/0/spanID"), "000000000000004e");
    assert_string_equal(str_at(root, "references/1/refType"), "CHILD_OF");
    assert_string_equal(str_at(root, "references/1/traceID"), l2);
    check_root_tags(must(root, "tags"));
    check_root_logs(root);

    /* A link to the parent itself changes the parent reference's type, adds none. */
    assert_string_equal(str_at(work, "spanID"), s3);
    assert_int_equal(len_at(work, "references"), 1);
    assert_string_equal(str_at(work, "references/0/refType"), "FOLLOWS_FROM");
    assert_string_equal(str_at(work, "references/0/spanID"), s1);
    assert_string_equal(str_at(work, "processID"), "p1");
    assert_string_equal(str_at(tag(must(work, "tags"), "span.kind", "string"), "value"),
                        "internal");
    assert_int_equal(len_at(work, "logs"), 0);

    assert_string_equal(str_at(child, "spanID"), s2);
    assert_int_equal(len_at(child, "references"), 1);
    assert_string_equal(str_at(child, "references/0/refType"), "CHILD_OF");
    assert_string_equal(str_at(child, "references/0/traceID"), id);
    assert_string_equal(str_at(child, "references/0/spanID"), s1);
    assert_int_equal(num_at(child, "startTime"), (T0 + 100 * MS) / 1000);
    assert_int_equal(num_at(child, "duration"), 50000);
    assert_string_equal(str_at(child, "processID"), "p2");
    const json_value *ctags = must(child, "tags");
    assert_int_equal(len_at(ctags, ""), 4); /* scope name and version, kind, status */
    assert_string_equal(str_at(tag(ctags, "span.kind", "string"), "value"), "client");
    assert_string_equal(str_at(tag(ctags, "otel.status_code", "string"), "value"), "OK");

    /* Processes: service.name becomes serviceName, the other attributes tags. */
    assert_string_equal(str_at(trace, "processes/p1/serviceName"), "shop");
    assert_int_equal(len_at(trace, "processes/p1/tags"), 2);
    assert_string_equal(str_at(trace, "processes/p1/tags/0/key"), "host.name");
    assert_string_equal(str_at(trace, "processes/p1/tags/0/value"), "box");
    assert_string_equal(str_at(trace, "processes/p1/tags/1/key"), "cpus");
    assert_string_equal(str_at(trace, "processes/p1/tags/1/type"), "int64");
    assert_string_equal(str_at(trace, "processes/p2/serviceName"), "db");
    assert_int_equal(len_at(trace, "processes/p2/tags"), 0);
    assert_null(at(trace, "processes/p3"));
}

static void test_jaeger_trace(void **state)
{
    fixture *f = *state;
    char path[96], id[33];
    hex_of(id, 1);
    snprintf(path, sizeof path, "/api/traces/%s", id);
    json_value *v = get(f->api, 200, path, NULL);
    assert_int_equal(len_at(v, "data"), 1);
    assert_int_equal(num_at(v, "total"), 1);
    check_trace_one(must(v, "data/0"));
    free_json(v);

    /* The short form of the id, and upper case, name the same trace. */
    v = get(f->api, 200, "/api/traces/1", NULL);
    assert_string_equal(str_at(v, "data/0/traceID"), id);
    free_json(v);

    hex_of(id, 999);
    snprintf(path, sizeof path, "/api/traces/%s", id);
    v = get(f->api, 404, path, NULL);
    assert_true(is_null_at(v, "data"));
    assert_int_equal(num_at(v, "errors/0/code"), 404);
    assert_string_equal(str_at(v, "errors/0/msg"), "trace not found");
    free_json(v);
    v = get(f->api, 400, "/api/traces/not-hex", NULL);
    assert_int_equal(num_at(v, "errors/0/code"), 400);
    free_json(v);
}

/* ---- Jaeger search --------------------------------------------------------------------------- */

/* The trace numbers of a search's data, in order, as "11,10,..." */
static void trace_numbers(const json_value *v, char *out, size_t size)
{
    size_t n = len_at(v, "data"), w = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const json_value *t = v->u.object.members[0].value->u.array.items[i];
        unsigned long number = strtoul(str_at(t, "traceID"), NULL, 16);
        w += (size_t)snprintf(out + w, size - w, "%s%lu", i ? "," : "", number);
    }
}

static void expect_traces(vw_api *api, const char *expected, ...)
{
    va_list ap;
    va_start(ap, expected);
    args a = args_of(ap);
    va_end(ap);
    vw_response rs;
    call(api, "GET", "/api/traces", &a, &rs);
    if (rs.status != 200) fail_msg("status %u: %.*s", rs.status, (int)rs.body.len, rs.body.data);
    json_value *v = parse_body(&rs);
    response_free(&rs);
    char got[256];
    trace_numbers(v, got, sizeof got);
    assert_string_equal(got, expected);
    assert_int_equal(num_at(v, "total"), len_at(v, "data"));
    free_json(v);
}

static void test_jaeger_search(void **state)
{
    fixture *f = *state;
    scenario_range();
    /* Newest first; every trace whole. */
    expect_traces(f->api, "11,10,9,8,7,6,5,4,3,2,1", "service", "shop", "start", start_us, "end",
                  end_us, NULL);
    /* The default range is the last hour (T0 is ten minutes ago). */
    expect_traces(f->api, "11,10,9,8,7,6,5,4,3,2,1", "service", "shop", NULL);
    expect_traces(f->api, "11,10", "service", "shop", "limit", "2", NULL);
    expect_traces(f->api, "", "service", "shop", "start", "0", "end", "1000", NULL);
    expect_traces(f->api, "", "service", "shop", "lookback", "1m", NULL); /* T0 is older */
    expect_traces(f->api, "11,10,9,8,7,6,5,4,3,2,1", "service", "shop", "lookback", "2d", NULL);
    /* Tags compare as text against span, resource and translated tags; both spellings. */
    expect_traces(f->api, "8,4,1", "service", "shop", "tags", "{\"error\":\"true\"}", NULL);
    expect_traces(f->api, "1", "tag", "http.route:/users/{id}", NULL);
    expect_traces(f->api, "1", "tags", "http.route:/users/{id} big:1152921504606846976", NULL);
    expect_traces(f->api, "1", "service", "db", "tags", "{\"span.kind\":\"client\"}", "operation",
                  "SELECT users", NULL);
    expect_traces(f->api, "", "tags", "{\"host.name\":\"elsewhere\"}", NULL);
    /* Durations: one span satisfies every condition (Jaeger's semantics). */
    expect_traces(f->api, "1", "service", "shop", "minDuration", "200ms", NULL);
    expect_traces(f->api, "9,8,7,6", "service", "shop", "minDuration", "5ms", "maxDuration",
                  "8000us", NULL);
    expect_traces(f->api, "1", "service", "db", "minDuration", "1ms", NULL); /* 50 ms */
    expect_traces(f->api, "", "service", "db", "minDuration", "60ms", NULL);
    expect_traces(f->api, "11,10,9,8,7,6,5,4,3,2", "service", "db", "operation", "SELECT", NULL);

    /* By id, as Jaeger's search takes traceID=. */
    char id[33];
    hex_of(id, 1);
    expect_traces(f->api, "1", "traceID", id, NULL);
    json_value *v = get(f->api, 200, "/api/traces", "traceID", "abc", NULL);
    assert_int_equal(len_at(v, "data"), 0);
    assert_string_equal(str_at(v, "errors/0/msg"), "trace not found");
    assert_string_equal(str_at(v, "errors/0/traceID"), "00000000000000000000000000000abc");
    free_json(v);

    /* Bad parameters: 400 in Jaeger's envelope. */
    static const char *const bad[][2] = {
        {"minDuration", "5"}, {"maxDuration", "abc"}, {"limit", "x"},     {"start", "-5"},
        {"end", "1.5"},       {"tags", "{\"a\":1}"},  {"tag", "nocolon"}, {"traceID", "xyz"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = get(f->api, 400, "/api/traces", "service", "shop", bad[i][0], bad[i][1], NULL);
        assert_true(is_null_at(v, "data"));
        assert_int_equal(num_at(v, "errors/0/code"), 400);
        assert_true(strlen(str_at(v, "errors/0/msg")) > 0);
        free_json(v);
    }
    v = get(f->api, 400, "/api/traces", "minDuration", "2s", "maxDuration", "1s", NULL);
    assert_string_equal(str_at(v, "errors/0/msg"),
                        "'maxDuration' should be greater than 'minDuration'");
    free_json(v);
    v = get(f->api, 400, "/api/traces", "minDuration", "5", NULL);
    assert_string_equal(str_at(v, "errors/0/msg"),
                        "unable to parse param 'minDuration': time: invalid duration \"5\"");
    free_json(v);
}

/* ---- api_v3: OTLP JSON ----------------------------------------------------------------------- */

static void test_otlp_trace(void **state)
{
    fixture *f = *state;
    char path[96], id[33], t0[32], t250[32];
    hex_of(id, 1);
    snprintf(t0, sizeof t0, "%llu", (unsigned long long)T0);
    snprintf(t250, sizeof t250, "%llu", (unsigned long long)(T0 + 250 * MS));
    snprintf(path, sizeof path, "/api/v3/traces/%s", id);
    json_value *v = get(f->api, 200, path, NULL);
    const json_value *rs0 = must(v, "result/resourceSpans/0"),
                     *rs1 = must(v, "result/resourceSpans/1");
    assert_int_equal(len_at(v, "result/resourceSpans"), 2);
    assert_string_equal(
        str_at(with_key(must(rs0, "resource/attributes"), "service.name"), "value/stringValue"),
        "shop");
    assert_string_equal(
        str_at(with_key(must(rs0, "resource/attributes"), "cpus"), "value/intValue"), "4");
    assert_string_equal(str_at(rs0, "scopeSpans/0/scope/name"), "test.scope");
    assert_string_equal(str_at(rs0, "scopeSpans/0/scope/version"), "1.0");
    assert_int_equal(len_at(rs0, "scopeSpans/0/spans"), 2);
    const json_value *root = must(rs0, "scopeSpans/0/spans/0");
    assert_string_equal(str_at(root, "traceId"), id);
    assert_string_equal(str_at(root, "spanId"), "0000000000000001");
    assert_null(at(root, "parentSpanId"));
    assert_string_equal(str_at(root, "traceState"), "k=v");
    assert_int_equal(num_at(root, "flags"), 0x101); /* sampled; "is remote" known, not remote */
    assert_string_equal(str_at(root, "name"), "GET /users/{id}");
    assert_int_equal(num_at(root, "kind"), 2);
    assert_string_equal(str_at(root, "startTimeUnixNano"), t0);
    assert_string_equal(str_at(root, "endTimeUnixNano"), t250);
    const json_value *attrs = must(root, "attributes");
    assert_int_equal(len_at(attrs, ""), ROOT_ATTRS);
    assert_string_equal(str_at(with_key(attrs, "big"), "value/intValue"), "1152921504606846976");
    assert_true(num_at(with_key(attrs, "ratio"), "value/doubleValue") == 0.5);
    assert_string_equal(str_at(with_key(attrs, "bytes"), "value/bytesValue"), "AP8=");
    assert_string_equal(str_at(with_key(attrs, "names"), "value/arrayValue/values/1/stringValue"),
                        "b");
    assert_string_equal(str_at(with_key(attrs, "map"), "value/kvlistValue/values/0/key"), "depth");
    assert_int_equal(must(with_key(attrs, "nothing"), "value")->u.object.count, 0);
    assert_int_equal(num_at(root, "droppedAttributesCount"), 3);
    assert_int_equal(len_at(root, "events"), 3);
    assert_string_equal(str_at(root, "events/0/name"), "exception");
    assert_int_equal(num_at(root, "events/0/droppedAttributesCount"), 2);
    assert_int_equal(len_at(root, "links"), 2);
    assert_string_equal(str_at(root, "links/0/spanId"), "000000000000004e");
    assert_string_equal(str_at(root, "status/message"), "boom");
    assert_int_equal(num_at(root, "status/code"), 2);
    const json_value *child = must(rs1, "scopeSpans/0/spans/0");
    assert_string_equal(str_at(child, "parentSpanId"), "0000000000000001");
    assert_int_equal(num_at(child, "status/code"), 1);
    assert_int_equal(num_at(child, "kind"), 3);
    free_json(v);

    hex_of(id, 999);
    snprintf(path, sizeof path, "/api/v3/traces/%s", id);
    v = get(f->api, 404, path, NULL);
    assert_int_equal(num_at(v, "error/code"), 5); /* NOT_FOUND */
    assert_string_equal(str_at(v, "error/message"), "trace not found");
    free_json(v);
    v = get(f->api, 400, "/api/v3/traces/0x12", NULL);
    assert_int_equal(num_at(v, "error/code"), 3); /* INVALID_ARGUMENT */
    free_json(v);
}

/* ---- Tempo search ---------------------------------------------------------------------------- */

static const json_value *find_trace(const json_value *v, unsigned t)
{
    char id[33];
    hex_of(id, t);
    size_t n = len_at(v, "traces");
    for (size_t i = 0; i < n; i++) {
        const json_value *tr = v->u.object.members[0].value->u.array.items[i];
        if (strcmp(str_at(tr, "traceID"), id) == 0) return tr;
    }
    fail_msg("trace %u not in the results", t);
    return NULL;
}

static void test_tempo_search(void **state)
{
    fixture *f = *state;
    scenario_range();
    json_value *v = get(f->api, 200, "/api/search", "q", "{ resource.service.name = \"db\" }",
                        "start", start_s, "end", end_s, NULL);
    assert_int_equal(len_at(v, "traces"), 11);
    char t0[32];
    snprintf(t0, sizeof t0, "%llu", (unsigned long long)T0);
    const json_value *one = find_trace(v, 1);
    assert_string_equal(str_at(one, "rootServiceName"), "shop");
    assert_string_equal(str_at(one, "rootTraceName"), "GET /users/{id}");
    assert_string_equal(str_at(one, "startTimeUnixNano"), t0);
    assert_int_equal(num_at(one, "durationMs"), 250);
    assert_string_equal(str_at(one, "durationNanos"), "250000000");
    assert_int_equal(len_at(one, "spanSets"), 1);
    assert_int_equal(num_at(one, "spanSets/0/matched"), 1);
    assert_int_equal(len_at(one, "spanSets/0/spans"), 1);
    const json_value *span = must(one, "spanSets/0/spans/0");
    assert_string_equal(str_at(span, "spanID"), "0000000000000002");
    assert_string_equal(str_at(span, "name"), "SELECT users");
    assert_string_equal(str_at(span, "durationNanos"), "50000000");
    assert_int_equal(len_at(span, "attributes"), 1);
    assert_string_equal(str_at(span, "attributes/0/key"), "service.name");
    assert_string_equal(str_at(span, "attributes/0/value/stringValue"), "db");
    assert_int_equal(num_at(one, "spanSet/matched"), 1); /* Tempo's deprecated field: the same */
    assert_int_equal(num_at(one, "serviceStats/shop/spanCount"), 2);
    assert_int_equal(num_at(one, "serviceStats/shop/errorCount"), 1);
    assert_int_equal(num_at(one, "serviceStats/db/spanCount"), 1);
    assert_int_equal(num_at(one, "serviceStats/db/errorCount"), 0);
    assert_int_equal(num_at(v, "metrics/inspectedTraces"), 11);
    assert_string_equal(str_at(v, "metrics/inspectedSpans"), "23");
    /* Newest first, as the UI lists them. */
    char id[33];
    hex_of(id, 11);
    assert_string_equal(str_at(v, "traces/0/traceID"), id);
    free_json(v);

    /* An integer condition shows that attribute. */
    v = get(f->api, 200, "/api/search", "q", "{ span.http.response.status_code = 500 }", NULL);
    assert_int_equal(len_at(v, "traces"), 1);
    assert_string_equal(str_at(v, "traces/0/spanSets/0/spans/0/attributes/0/key"),
                        "http.response.status_code");
    assert_string_equal(str_at(v, "traces/0/spanSets/0/spans/0/attributes/0/value/intValue"),
                        "500");
    free_json(v);

    /* spss: spans listed per spanset; matched counts them all. */
    v = get(f->api, 200, "/api/search", "q",
            "{ resource.service.name = \"shop\" && name != \"GET /\" }", "spss", "1", NULL);
    assert_int_equal(len_at(v, "traces"), 1);
    assert_int_equal(num_at(v, "traces/0/spanSets/0/matched"), 2);
    assert_int_equal(len_at(v, "traces/0/spanSets/0/spans"), 1);
    assert_string_equal(str_at(v, "traces/0/spanSets/0/spans/0/spanID"), "0000000000000001");
    free_json(v);

    v = get(f->api, 200, "/api/search", "q", "{}", "limit", "3", NULL);
    assert_int_equal(len_at(v, "traces"), 3);
    free_json(v);
    v = get(f->api, 200, "/api/search", NULL); /* no query: every trace */
    assert_int_equal(len_at(v, "traces"), 11);
    free_json(v);
    char before[32];
    snprintf(before, sizeof before, "%llu", (unsigned long long)(T0 / SEC - 100));
    v = get(f->api, 200, "/api/search", "q", "{}", "end", before, NULL);
    assert_int_equal(len_at(v, "traces"), 0);
    free_json(v);
    v = get(f->api, 200, "/api/search", "q", "{ duration > 200ms }", NULL);
    assert_int_equal(len_at(v, "traces"), 1);
    free_json(v);

    /* A query that does not compile: 400 with the position. */
    v = get(f->api, 400, "/api/search", "q", "{ name = }", NULL);
    assert_string_equal(str_at(v, "error"), "1:10: expected a value after '=', found '}'");
    free_json(v);
    v = get(f->api, 400, "/api/search", "q", "{}", "spss", "many", NULL);
    assert_non_null(strstr(str_at(v, "error"), "spss"));
    free_json(v);
    v = get(f->api, 400, "/api/search", "limit", "-1", NULL);
    free_json(v);
    v = get(f->api, 400, "/api/search", "start", "yesterday", NULL);
    free_json(v);
}

/* ---- Aggregates ------------------------------------------------------------------------------ */

typedef struct graph {
    char names[16][2][32];
    vw_latency l[16];
    size_t n;
} graph;

static void record_node(void *ctx, const char *service, const vw_latency *l)
{
    graph *g = ctx;
    snprintf(g->names[g->n][0], 32, "%s", service);
    g->l[g->n++] = *l;
}

static void ignore_edge(void *ctx, const char *parent, const char *child, const vw_latency *l)
{
    (void)ctx, (void)parent, (void)child, (void)l;
}

static void ignore_node(void *ctx, const char *service, const vw_latency *l)
{
    (void)ctx, (void)service, (void)l;
}

static void record_edge(void *ctx, const char *parent, const char *child, const vw_latency *l)
{
    graph *g = ctx;
    snprintf(g->names[g->n][0], 32, "%s", parent);
    snprintf(g->names[g->n][1], 32, "%s", child);
    g->l[g->n++] = *l;
}

static uint64_t us(uint64_t ns)
{
    return (ns + 500) / 1000;
}

static void test_service_map(void **state)
{
    fixture *f = *state;
    scenario_range();
    /* What the store says, to check that the API passes it through. */
    graph nodes = {.n = 0}, edges = {.n = 0};
    uint64_t lo = T0 - 60 * SEC, hi = T0 + 60 * SEC;
    assert_int_equal(vw_store_service_graph(f->writer, lo, hi, record_node, ignore_edge, &nodes),
                     0);
    assert_int_equal(vw_store_service_graph(f->writer, lo, hi, ignore_node, record_edge, &edges),
                     0);

    json_value *v = get(f->api, 200, "/api/service-map", "start", start_us, "end", end_us, NULL);
    assert_int_equal(len_at(v, "nodes"), nodes.n);
    for (size_t i = 0; i < nodes.n; i++) {
        const json_value *n = must(v, "nodes")->u.array.items[i];
        assert_string_equal(str_at(n, "service"), nodes.names[i][0]);
        assert_int_equal(num_at(n, "calls"), nodes.l[i].count);
        assert_int_equal(num_at(n, "errors"), nodes.l[i].errors);
        assert_int_equal(num_at(n, "p50Us"), us(nodes.l[i].p50_ns));
        assert_int_equal(num_at(n, "p99Us"), us(nodes.l[i].p99_ns));
    }
    /* One edge: shop calls db in every trace; the child's duration is its latency. */
    assert_int_equal(edges.n, 1);
    assert_int_equal(len_at(v, "edges"), 1);
    assert_string_equal(str_at(v, "edges/0/parent"), "shop");
    assert_string_equal(str_at(v, "edges/0/child"), "db");
    assert_int_equal(num_at(v, "edges/0/callCount"), 11);
    assert_int_equal(num_at(v, "edges/0/errorCount"), 0);
    assert_int_equal(num_at(v, "edges/0/p50Us"), us(edges.l[0].p50_ns));
    assert_int_equal(num_at(v, "edges/0/p99Us"), us(edges.l[0].p99_ns));
    /* Ten of the eleven calls take 0.5 ms: within the histogram's 6 %. */
    assert_in_range(num_at(v, "edges/0/p50Us"), 470, 530);
    free_json(v);

    /* Jaeger's dependencies: the same edge, over endTs - lookback (ms). */
    char end_ms[32];
    snprintf(end_ms, sizeof end_ms, "%llu", (unsigned long long)((T0 + 60 * SEC) / MS));
    v = get(f->api, 200, "/api/dependencies", "endTs", end_ms, "lookback", "3600000", NULL);
    assert_int_equal(len_at(v, "data"), 1);
    assert_string_equal(str_at(v, "data/0/parent"), "shop");
    assert_string_equal(str_at(v, "data/0/child"), "db");
    assert_int_equal(num_at(v, "data/0/callCount"), 11);
    assert_int_equal(num_at(v, "data/0/errorCount"), 0);
    free_json(v);
    v = get(f->api, 200, "/api/dependencies", "service", "nosuch", NULL);
    assert_int_equal(len_at(v, "data"), 0);
    free_json(v);
    v = get(f->api, 200, "/api/dependencies", "endTs", "1000", "lookback", "1000", NULL);
    assert_int_equal(len_at(v, "data"), 0); /* 1970 */
    free_json(v);
    v = get(f->api, 400, "/api/dependencies", "endTs", "soon", NULL);
    assert_int_equal(num_at(v, "errors/0/code"), 400);
    free_json(v);
    v = get(f->api, 400, "/api/service-map", "start", "x", NULL);
    assert_non_null(strstr(str_at(v, "error"), "start"));
    free_json(v);
}

typedef struct op_stats {
    vw_latency get_root;
    bool seen;
} op_stats;

static void record_op(void *ctx, const char *service, const char *name, int kind,
                      const vw_latency *l)
{
    op_stats *o = ctx;
    if (strcmp(service, "shop") == 0 && strcmp(name, "GET /") == 0 && kind == OTELC_SPAN_SERVER) {
        o->get_root = *l;
        o->seen = true;
    }
}

static void test_operations_table(void **state)
{
    fixture *f = *state;
    scenario_range();
    op_stats o = {.seen = false};
    assert_int_equal(
        vw_store_operation_stats(f->writer, "shop", T0 - 60 * SEC, T0 + 60 * SEC, record_op, &o),
        0);
    assert_true(o.seen);
    json_value *v = get(f->api, 200, "/api/operations-table", "service", "shop", "start", start_us,
                        "end", end_us, NULL);
    assert_int_equal(len_at(v, "data"), 3);
    /* Busiest first; ties by name. */
    assert_string_equal(str_at(v, "data/0/operation"), "GET /");
    assert_string_equal(str_at(v, "data/1/operation"), "GET /users/{id}");
    assert_string_equal(str_at(v, "data/2/operation"), "internal work");
    const json_value *row = must(v, "data/0");
    assert_string_equal(str_at(row, "service"), "shop");
    assert_string_equal(str_at(row, "spanKind"), "server");
    assert_int_equal(num_at(row, "count"), 10);
    assert_int_equal(num_at(row, "errorCount"), 2);
    assert_true(num_at(row, "errorRate") == 0.2);
    assert_int_equal(num_at(row, "p50Us"), us(o.get_root.p50_ns));
    assert_int_equal(num_at(row, "p95Us"), us(o.get_root.p95_ns));
    assert_int_equal(num_at(row, "p99Us"), us(o.get_root.p99_ns));
    /* 1 to 10 ms: the median near 5 ms, p99 near 10 ms (the histogram's 6 %). */
    assert_in_range(num_at(row, "p50Us"), 4700, 6000);
    assert_in_range(num_at(row, "p99Us"), 9400, 10600);
    assert_string_equal(str_at(v, "data/2/spanKind"), "internal");
    free_json(v);

    v = get(f->api, 200, "/api/operations-table", NULL); /* every service, the last hour */
    assert_int_equal(len_at(v, "data"), 5);
    assert_string_equal(str_at(v, "data/0/service"), "db"); /* count 10, before shop's "GET /" */
    assert_string_equal(str_at(v, "data/0/operation"), "SELECT");
    assert_true(num_at(v, "data/0/errorRate") == 0);
    free_json(v);
    v = get(f->api, 400, "/api/operations-table", "end", "tomorrow", NULL);
    free_json(v);
}

/* ---- Status and errors ----------------------------------------------------------------------- */

static void test_status(void **state)
{
    fixture *f = *state;
    json_value *v = get(f->api, 200, "/api/status", NULL);
    assert_string_equal(str_at(v, "version"), "9.9.9");
    assert_int_equal(num_at(v, "spans"), 23);
    assert_int_equal(num_at(v, "traces"), 11);
    assert_true(num_at(v, "dbBytes") > 0);
    assert_string_equal(str_at(v, "receivers/otlpHttp"), "http://127.0.0.1:4318");
    assert_string_equal(str_at(v, "receivers/otlpGrpc"), "127.0.0.1:4317");
    assert_int_equal(num_at(v, "ingest/accepted"), 0); /* nothing went through an ingest queue */
    assert_int_equal(num_at(v, "ingest/rejected"), 7);
    assert_int_equal(num_at(v, "ingest/refused"), 0);
    free_json(v);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    json_value *v = get(f->api, 404, "/api/nothing", NULL);
    assert_string_equal(str_at(v, "error"), "no such endpoint");
    free_json(v);
    v = get(f->api, 404, "/api/services/shop", NULL);
    free_json(v);
    v = get(f->api, 404, "/api/traces/1/2", NULL);
    free_json(v);
    vw_response rs;
    args none = {.n = 0};
    call(f->api, "POST", "/api/services", &none, &rs);
    assert_int_equal(rs.status, 405);
    assert_int_equal(rs.header_count, 1);
    assert_string_equal(rs.headers[0].name, "Allow");
    assert_string_equal(rs.headers[0].value, "GET");
    response_free(&rs);
}

/* A store the API cannot open (no file, or ":memory:", which is one connection's): 503s. */
static void test_unreadable_store(void **state)
{
    (void)state;
    static const char *const paths[] = {"/nonexistent/dir/store.db", ":memory:"};
    for (int i = 0; i < 2; i++) {
        vw_api *api = vw_api_new(paths[i], NULL, NULL);
        assert_non_null(api);
        json_value *v = get(api, 503, "/api/services", NULL);
        assert_int_equal(num_at(v, "errors/0/code"), 503);
        assert_true(strlen(str_at(v, "errors/0/msg")) > 0);
        free_json(v);
        v = get(api, 503, "/api/search", NULL);
        assert_true(strlen(str_at(v, "error")) > 0);
        free_json(v);
        v = get(api, 503, "/api/v3/traces/1", NULL);
        assert_int_equal(num_at(v, "error/code"), 14); /* UNAVAILABLE */
        free_json(v);
        v = get(api, 503, "/api/status", NULL);
        free_json(v);
        vw_api_free(api);
    }
}

/* Every endpoint, every parameter, values a client should never send: an answer, never a crash. */
static void test_hostile_parameters(void **state)
{
    fixture *f = *state;
    char long_text[6000];
    memset(long_text, '{', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    const char *values[] = {"",
                            "0",
                            "-1",
                            "18446744073709551616",
                            "1e9",
                            "%zz",
                            "{",
                            "{\"a\":",
                            "\xff\xfe",
                            "a:b",
                            "{ name = }",
                            "{} && {}",
                            "\"",
                            "\\",
                            "\n",
                            "0af7651916cd43dd8448eb211c80319c",
                            "9223372036854775807ns",
                            "1h1h1h1h1h",
                            long_text};
    const char *params[] = {"service",     "operation", "tags",  "tag",      "minDuration",
                            "maxDuration", "start",     "end",   "limit",    "lookback",
                            "q",           "spss",      "endTs", "spanKind", "traceID"};
    const char *paths[] = {
        "/api/services", "/api/operations",  "/api/traces",           "/api/dependencies",
        "/api/search",   "/api/service-map", "/api/operations-table", "/api/status",
        "/api/live",     "/metrics"};
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        for (size_t n = 0; n < sizeof params / sizeof params[0]; n++) {
            for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                args a = {.kv = {params[n], values[i]}, .n = 1};
                vw_response rs;
                call(f->api, "GET", paths[p], &a, &rs);
                assert_true(rs.status == 200 || rs.status == 400);
                if (!rs.read && strcmp(paths[p], "/metrics") != 0) free_json(parse_body(&rs));
                response_free(&rs);
            }
        }
    }
    /* Values in the path. */
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *prefixes[] = {"/api/traces/", "/api/v3/traces/", "/api/services/"};
        for (size_t p = 0; p < 3; p++) {
            char path[7000];
            snprintf(path, sizeof path, "%s%s%s", prefixes[p], values[i],
                     p == 2 ? "/operations" : "");
            args a = {.n = 0};
            vw_response rs;
            call(f->api, "GET", path, &a, &rs);
            assert_true(rs.status == 200 || rs.status == 400 || rs.status == 404);
            free_json(parse_body(&rs));
            response_free(&rs);
        }
    }
}

/* ---- A 10,000-span trace --------------------------------------------------------------------- */

static void test_big_trace(void **state)
{
    fixture *f = *state;
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *big = resource(&b, "big", true);
    add_span(&b, big, 500, 1, 0, "root", OTELC_SPAN_SERVER, 0, 100);
    for (unsigned s = 2; s <= 10000; s++)
        add_span(&b, big, 500, s, 1, "step", OTELC_SPAN_INTERNAL, s / 1000.0, 0.001);
    write_batch(f->writer, &b);
    char path[96], id[33];
    hex_of(id, 500);
    snprintf(path, sizeof path, "/api/traces/%s", id);
    json_value *v = get(f->api, 200, path, NULL);
    assert_int_equal(len_at(v, "data/0/spans"), 10000);
    assert_string_equal(str_at(v, "data/0/spans/9999/processID"), "p1");
    assert_null(at(v, "data/0/processes/p2"));
    assert_true(is_null_at(v, "data/0/warnings"));
    free_json(v);
    snprintf(path, sizeof path, "/api/v3/traces/%s", id);
    v = get(f->api, 200, path, NULL);
    assert_int_equal(len_at(v, "result/resourceSpans/0/scopeSpans/0/spans"), 10000);
    free_json(v);
    v = get(f->api, 200, "/api/search", "q", "{ resource.service.name = \"big\" }", NULL);
    assert_int_equal(num_at(v, "traces/0/spanSets/0/matched"), 10000);
    assert_int_equal(len_at(v, "traces/0/spanSets/0/spans"), 3); /* spss defaults to 3 */
    assert_int_equal(num_at(v, "traces/0/serviceStats/big/spanCount"), 10000);
    free_json(v);
}

/* ---- Concurrent requests --------------------------------------------------------------------- */

static _Atomic int hammer_failures;

/* cmocka's assertions belong to the main thread: workers count failures instead. */
static void *hammer(void *arg)
{
    vw_api *api = arg;
    static const char *const paths[] = {
        "/api/services",         "/api/search", "/api/traces/1",   "/api/service-map",
        "/api/operations-table", "/api/status", "/api/v3/traces/2"};
    for (int i = 0; i < 40; i++) {
        args a = {.n = 0};
        vw_response rs;
        call(api, "GET", paths[i % 7], &a, &rs);
        if (rs.status != 200) atomic_fetch_add(&hammer_failures, 1);
        response_free(&rs);
    }
    return NULL;
}

static void test_concurrent_requests(void **state)
{
    fixture *f = *state;
    pthread_t threads[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, f->api), 0);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&hammer_failures), 0);
}

/* ---- The live stream, over a real ingest queue ----------------------------------------------- */

static int setup_live(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    fixture_files(f);
    assert_int_equal(vw_ingest_start(f->writer, NULL, &f->ingest), 0);
    f->api = new_api(f);
    *state = f;
    return 0;
}

static void submit(fixture *f, unsigned t, const char *service, unsigned spans, unsigned t2,
                   const char *service2)
{
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = resource(&b, service, false);
    const otelc_resource *res2 = t2 ? resource(&b, service2, false) : NULL;
    for (unsigned s = 1; s <= spans; s++) {
        add_span(&b, res, t, s, s > 1 ? 1 : 0, s > 1 ? "step" : "charge", OTELC_SPAN_SERVER, s, 1);
        /* The other trace's span between the first trace's: a commit's spans come in any order. */
        if (s == 1 && t2) add_span(&b, res2, t2, 1, 0, "other", OTELC_SPAN_SERVER, 0, 1);
    }
    assert_int_equal(vw_ingest_write(f->ingest, &b, 10000), VW_INGEST_COMMITTED);
    vw_batch_free(&b);
}

static vw_response open_stream(fixture *f, const char *q)
{
    args a = {.kv = {"q", q}, .n = q ? 1 : 0};
    vw_response rs;
    call(f->api, "GET", "/api/live", &a, &rs);
    assert_int_equal(rs.status, 200);
    assert_string_equal(rs.content_type, "text/event-stream; charset=utf-8");
    assert_non_null(rs.read);
    return rs;
}

/*
 * Read the stream for at most ms milliseconds or until an event arrives;
 * the event's data is parsed into *data (NULL when none came).
 */
static void read_event(vw_response *rs, uint64_t ms, json_value **data)
{
    char text[8192];
    size_t n = 0;
    uint64_t until = otelc__mono_ms() + ms;
    *data = NULL;
    while (otelc__mono_ms() < until && n < sizeof text - 1) {
        ssize_t got = rs->read(rs->ctx, text + n, sizeof text - 1 - n);
        assert_true(got >= 0);
        n += (size_t)got;
        text[n] = '\0';
        const char *event = strstr(text, "event: traces\ndata: ");
        const char *end = event ? strstr(event, "\n\n") : NULL;
        if (end) {
            const char *json = event + strlen("event: traces\ndata: ");
            json_error err;
            *data = parse_json(json, (size_t)(end - json), &err);
            assert_non_null(*data);
            return;
        }
    }
}

/* Read the stream until it has said text (true) or ms milliseconds have passed (false). */
static bool read_until(vw_response *rs, const char *text, uint64_t ms)
{
    char got[4096];
    size_t n = 0;
    uint64_t until = otelc__mono_ms() + ms;
    while (otelc__mono_ms() < until && n < sizeof got - 1) {
        ssize_t r = rs->read(rs->ctx, got + n, sizeof got - 1 - n);
        assert_true(r >= 0);
        n += (size_t)r;
        got[n] = '\0';
        if (strstr(got, text)) return true;
    }
    return false;
}

static void expect_event(vw_response *rs, unsigned t, double spans)
{
    json_value *data;
    read_event(rs, 5000, &data);
    if (!data) fail_msg("no event for trace %u", t);
    char id[33];
    hex_of(id, t);
    assert_int_equal(len_at(data, "traceIDs"), 1);
    assert_string_equal(str_at(data, "traceIDs/0"), id);
    assert_true(num_at(data, "spans") == spans);
    free_json(data);
}

static void test_live_stream(void **state)
{
    fixture *f = *state;
    vw_response pay = open_stream(f, "{ resource.service.name = \"pay\" }");
    vw_response all = open_stream(f, NULL);
    char first[32] = "";
    assert_int_equal(pay.read(pay.ctx, first, sizeof first - 1), 8);
    assert_string_equal(first, ": live\n\n"); /* at once: the page knows it is connected */

    submit(f, 100, "pay", 2, 0, NULL);
    expect_event(&pay, 100, 2);
    expect_event(&all, 100, 2);

    /* Another service's trace: the open stream says so, the pay stream says nothing. */
    submit(f, 101, "other", 1, 0, NULL);
    expect_event(&all, 101, 1);
    json_value *none;
    read_event(&pay, 2500, &none);
    assert_null(none);

    /* One commit, two traces: each stream names only its own. */
    submit(f, 102, "pay", 3, 103, "other");
    expect_event(&pay, 102, 3);

    /* At most 32 streams. */
    vw_response more[30];
    for (int i = 0; i < 30; i++) more[i] = open_stream(f, i % 2 ? NULL : "{ name = \"x\" }");
    args a = {.n = 0};
    vw_response refused;
    call(f->api, "GET", "/api/live", &a, &refused);
    assert_int_equal(refused.status, 503);
    assert_null(refused.read);
    response_free(&refused);
    response_free(&more[0]);
    vw_response again = open_stream(f, NULL); /* a released slot is free again */
    response_free(&again);
    for (int i = 1; i < 30; i++) response_free(&more[i]);

    json_value *v = get(f->api, 400, "/api/live", "q", "{ name = }", NULL);
    assert_non_null(strstr(str_at(v, "error"), "1:10"));
    free_json(v);
    /* A quiet stream says something every 15 s, so that nothing between closes it. */
    assert_true(read_until(&pay, ": keep-alive\n\n", 17000));
    response_free(&pay);
    response_free(&all);

    /* What went through the queue counts in the status and the span metrics. */
    v = get(f->api, 200, "/api/status", NULL);
    assert_int_equal(num_at(v, "ingest/accepted"), 7);
    assert_int_equal(num_at(v, "spans"), 7);
    assert_int_equal(num_at(v, "traces"), 4);
    free_json(v);
    vw_response rs;
    call(f->api, "GET", "/metrics", &a, &rs);
    assert_int_equal(rs.status, 200);
    assert_string_equal(rs.content_type, "text/plain; version=0.0.4; charset=utf-8");
    otelc__buf_append(&rs.body, "", 1);
    assert_non_null(strstr(rs.body.data, "traces_span_metrics_calls_total{service_name=\"pay\","
                                         "span_name=\"step\",span_kind=\"SPAN_KIND_SERVER\","
                                         "status_code=\"STATUS_CODE_UNSET\"} 3\n"));
    response_free(&rs);
}

int main(void)
{
    T0 = (otelc__now_ns() / (60 * SEC) - 10) * 60 * SEC;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_services_and_operations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jaeger_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jaeger_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tempo_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operations_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test(test_unreadable_store),
        cmocka_unit_test_setup_teardown(test_hostile_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_stream, setup_live, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
