/*
 * test_server_span.c - the generic server helper (otelc/instrument/server.h)
 * without any HTTP library: parent extraction, naming, Host parsing,
 * current context while handling, body sizes and the server status rules.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/otelc.h"
#include "otelc/testing.h"
#include "otelc/instrument/server.h"

#define PARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

typedef struct fixture {
    otelc_memory_exporter *mem;
    otelc_headers headers;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    otelc_provider *prov = otelc_testing_provider_new(&f->mem);

    assert_non_null(prov);
    otelc_provider_set_global(prov);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(f->mem);
    otelc_headers_clear(&f->headers);
    free(f);
    return 0;
}

static const char *attr(const otelc_span_data *sd, const char *key)
{
    return otelc_testing_attr_str(sd, key);
}

static int64_t attr_int(const otelc_span_data *sd, const char *key)
{
    int64_t v = -1;
    otelc_testing_attr_int(sd, key, &v);
    return v;
}

/* Parent from the headers, route naming, Host header, redacted query. */
#define UA "Mozilla/5.0 (X11; Linux x86_64) otelc-test/1.0"

static void test_request(void **state)
{
    fixture *f = *state;
    otelc_carrier c = otelc_headers_carrier(&f->headers);
    otelc_server_request r = {.method = "GET",
                              .path = "/users/7",
                              .query = "a=1&password=pw",
                              .scheme = "https",
                              .protocol_version = "HTTP/2.0",
                              .client_address = "10.0.0.1",
                              .server_port = 9999};
    char tr[56];

    otelc_headers_add(&f->headers, "traceparent", PARENT);
    otelc_headers_add(&f->headers, "baggage", "tenant=acme");
    otelc_headers_add(&f->headers, "Host", "[::1]:8443");
    otelc_headers_add(&f->headers, "User-Agent", UA); /* longer than a quick copy */
    otelc_server_span *s = otelc_server_start(NULL, &c, &r);
    assert_non_null(s);
    otelc_server_enter(s);
    assert_ptr_equal(otelc_span_current(), otelc_server_span_get(s));
    assert_string_equal(otelc_baggage_get(otelc_baggage_current(), "tenant"), "acme");
    otelc_server_leave(s);
    assert_null(otelc_span_current());
    otelc_server_set_route(s, "/users/{id}");
    otelc_server_add_request_body(s, 3);
    otelc_server_add_request_body(s, 4);
    otelc_server_add_response_body(s, 0);
    assert_int_equal(otelc_server_traceresponse(s, tr), 55);
    otelc_server_finish(s, 404, NULL);

    const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, 0);
    assert_non_null(sd);
    assert_string_equal(sd->name, "GET /users/{id}");
    assert_int_equal(sd->kind, OTELC_SPAN_SERVER);
    assert_true(sd->parent_is_remote);
    assert_memory_equal(sd->parent_span_id, "\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);
    assert_string_equal(attr(sd, "url.query"), "a=1&password=REDACTED");
    assert_string_equal(attr(sd, "server.address"), "::1");
    assert_int_equal(attr_int(sd, "server.port"), 8443);
    assert_string_equal(attr(sd, "network.protocol.version"), "2");
    assert_string_equal(attr(sd, "user_agent.original"), UA);
    assert_string_equal(attr(sd, "http.route"), "/users/{id}");
    assert_int_equal(attr_int(sd, "http.request.body.size"), 7);
    assert_int_equal(attr_int(sd, "http.response.body.size"), 0);
    assert_int_equal(attr_int(sd, "http.response.status_code"), 404);
    assert_int_equal(sd->status, OTELC_STATUS_UNSET); /* 4xx is the client's error */
    assert_memory_equal(tr + 3, &PARENT[3], 32);      /* same trace */
}

/*
 * The request's attributes obey the span limits like any others: values
 * cut to the length limit, attributes past the count limit dropped and
 * counted, and a key set again (the route) replaced, not added.
 */
static void test_request_under_limits(void **state)
{
    (void)state;
    otelc_exporter *exp = NULL;
    otelc_memory_exporter *mem = otelc_memory_exporter_new(&exp);
    otelc_processor *proc = otelc_simple_processor_new(exp);
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    lim.attribute_count = 5;
    lim.attribute_value_length = 3;
    otelc_provider_options o = {
        .no_env = true, .processors = &proc, .processor_count = 1, .limits = &lim};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "test", NULL, NULL);
    otelc_server_request r = {.method = "GET",
                              .route = "/a",
                              .path = "/users/7",
                              .scheme = "https",
                              .client_address = "10.0.0.1",
                              .server_address = "example.com",
                              .server_port = 80};

    otelc_server_span *s = otelc_server_start(t, NULL, &r);
    otelc_server_set_route(s, "/users/{id}");
    otelc_server_finish(s, 503, NULL);
    const otelc_span_data *sd = otelc_memory_exporter_get(mem, 0);
    assert_non_null(sd);
    /* method, path, scheme, route, client address; then server.address and .port, the status
     * code and error.type are dropped. */
    assert_int_equal(sd->attr_count, 5);
    assert_int_equal(sd->dropped_attr_count, 4);
    assert_string_equal(attr(sd, "http.request.method"), "GET");
    assert_string_equal(attr(sd, "url.path"), "/us");
    assert_string_equal(attr(sd, "url.scheme"), "htt");
    assert_string_equal(attr(sd, "http.route"), "/us");
    assert_string_equal(attr(sd, "client.address"), "10.");
    assert_null(otelc_span_data_attr(sd, "http.response.status_code"));
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    otelc_provider_free(p);
    otelc_memory_exporter_free(mem);
}

/* No headers: a new trace, never the thread's current span. Unknown method. */
static void test_new_trace_and_other_method(void **state)
{
    fixture *f = *state;
    otelc_tracer *t = otelc_tracer_get("t", NULL);
    otelc_span *outer = otelc_span_start(t, "outer", OTELC_SPAN_INTERNAL);
    otelc_scope sc = otelc_span_activate(outer);
    otelc_server_request r = {
        .method = "PROPFIND", .scheme = "http", .server_address = "h", .server_port = 8080};

    otelc_server_span *s = otelc_server_start(NULL, NULL, &r);
    otelc_server_finish(s, 503, NULL);
    otelc_scope_exit(sc);
    otelc_span_end(outer);
    const otelc_span_data *sd = otelc_testing_find(f->mem, "HTTP");
    assert_non_null(sd);
    assert_false(sd->has_parent);
    assert_string_equal(attr(sd, "http.request.method"), "_OTHER");
    assert_string_equal(attr(sd, "http.request.method_original"), "PROPFIND");
    assert_string_equal(attr(sd, "server.address"), "h");
    assert_int_equal(attr_int(sd, "server.port"), 8080);
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(attr(sd, "error.type"), "503");
}

/* A route too long for a span name: the name is cut, the route attribute is not. */
static void test_long_route(void **state)
{
    fixture *f = *state;
    char route[400];
    memset(route, 'r', sizeof route - 1);
    route[0] = '/';
    route[sizeof route - 1] = '\0';
    otelc_server_request r = {.method = "GET", .route = route, .scheme = "http"};

    otelc_server_finish(otelc_server_start(NULL, NULL, &r), 200, NULL);
    const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, 0);
    assert_non_null(sd);
    assert_int_equal(strlen(sd->name), 255);
    assert_true(strncmp(sd->name, "GET /rrr", 8) == 0);
    assert_string_equal(attr(sd, "http.route"), route);
}

/* Host without a port names the scheme's default; explicit error types. */
static void test_host_default_port_and_error_type(void **state)
{
    fixture *f = *state;
    otelc_carrier c = otelc_headers_carrier(&f->headers);
    otelc_server_request r = {.method = "POST", .scheme = "https", .server_port = 9999};

    otelc_headers_add(&f->headers, "host", "example.com");
    otelc_server_finish(otelc_server_start(NULL, &c, &r), 0, "timeout");
    const otelc_span_data *sd = otelc_testing_find(f->mem, "POST");
    assert_string_equal(attr(sd, "server.address"), "example.com");
    assert_int_equal(attr_int(sd, "server.port"), 443);
    assert_string_equal(attr(sd, "error.type"), "timeout");
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_null(otelc_span_data_attr(sd, "http.response.status_code"));
    /* NULL handles are ignored everywhere. */
    assert_null(otelc_server_start(NULL, NULL, NULL));
    otelc_server_enter(NULL);
    otelc_server_set_route(NULL, "/x");
    otelc_server_finish(NULL, 200, NULL);
}

/*
 * The Host header's port: digits only, 1..65535; anything else is no port,
 * and the scheme's default stands in (a bad port is not the caller's).
 */
static void test_host_ports(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *host, *address;
        int64_t port;
    } cases[] = {
        {"a.example:8443", "a.example", 8443},
        {"a.example:65535", "a.example", 65535},
        {"a.example:65536", "a.example", 80},
        {"a.example:123456", "a.example", 80},
        {"a.example:0", "a.example", 80},
        {"a.example:+81", "a.example", 80},
        {"a.example: 81", "a.example", 80},
        {"a.example:81x", "a.example", 80},
        {"a.example:", "a.example", 80},
        {"[::1]:9000", "::1", 9000},
        {"[::1]", "::1", 80},
    };
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        otelc_carrier c = otelc_headers_carrier(&f->headers);
        otelc_server_request r = {.method = "GET", .scheme = "http", .server_port = 9999};
        otelc_headers_clear(&f->headers);
        otelc_headers_add(&f->headers, "Host", cases[i].host);
        otelc_server_finish(otelc_server_start(NULL, &c, &r), 200, NULL);
        const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, i);
        assert_non_null(sd);
        assert_string_equal(attr(sd, "server.address"), cases[i].address);
        if (attr_int(sd, "server.port") != cases[i].port)
            fail_msg("Host %s: port %lld, expected %lld", cases[i].host,
                     (long long)attr_int(sd, "server.port"), (long long)cases[i].port);
    }
}

/* ---- What sees the request's attributes at the span's start ---- */

static size_t seen_at_start; /* request attributes the sampler saw */

static size_t count_request_attrs(const otelc_attr *attrs, size_t n)
{
    size_t found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(attrs[i].key, "url.path") == 0 ||
            strcmp(attrs[i].key, "user_agent.original") == 0 ||
            strcmp(attrs[i].key, "server.address") == 0)
            found++;
    return found;
}

/* A user sampler that keeps requests by path, as the HTTP conventions allow. */
static void path_sampler(void *self, const otelc_sampling_params *p, otelc_sampling_result *r)
{
    (void)self;
    seen_at_start = count_request_attrs(p->attrs, p->attr_count);
    r->decision = OTELC_SAMPLING_DROP;
    for (size_t i = 0; i < p->attr_count; i++)
        if (strcmp(p->attrs[i].key, "url.path") == 0 &&
            strncmp(p->attrs[i].value.u.str.ptr, "/keep", 5) == 0)
            r->decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
}

static const char *path_sampler_name(void *self)
{
    (void)self;
    return "PathSampler";
}

static otelc_server_span *serve_path(fixture *f, const char *path)
{
    otelc_carrier c = otelc_headers_carrier(&f->headers);
    otelc_server_request r = {.method = "GET", .path = path, .scheme = "http"};
    otelc_headers_clear(&f->headers);
    otelc_headers_add(&f->headers, "Host", "svc:8080");
    otelc_headers_add(&f->headers, "User-Agent", "ua/1");
    return otelc_server_start(NULL, &c, &r);
}

/* Serve GET path and finish; the exported span, or NULL when none was. */
static const otelc_span_data *served(fixture *f, otelc_memory_exporter *mem, const char *path)
{
    size_t before = otelc_memory_exporter_count(mem);
    otelc_server_finish(serve_path(f, path), 200, NULL);
    size_t n = otelc_memory_exporter_count(mem);
    return n > before ? otelc_memory_exporter_get(mem, n - 1) : NULL;
}

/* A provider with sampler s (or the default) and, when on_start, a processor that has one. */
static otelc_memory_exporter *provider_with(otelc_sampler *s, const otelc_processor_ops *extra)
{
    otelc_exporter *exp;
    otelc_memory_exporter *mem = otelc_memory_exporter_new(&exp);
    otelc_processor *procs[2] = {otelc_simple_processor_new(exp),
                                 extra ? otelc_processor_new(extra, NULL) : NULL};
    otelc_provider_options o = {
        .no_env = true, .sampler = s, .processors = procs, .processor_count = extra ? 2 : 1};
    otelc_provider *p;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_provider_set_global(p);
    return mem;
}

static void expect_request_attributes(const otelc_span_data *sd, const char *path)
{
    assert_non_null(sd);
    assert_string_equal(attr(sd, "url.path"), path);
    assert_string_equal(attr(sd, "user_agent.original"), "ua/1");
    assert_string_equal(attr(sd, "server.address"), "svc");
    assert_int_equal(attr_int(sd, "server.port"), 8080);
    assert_string_equal(attr(sd, "http.request.method"), "GET");
}

/* A sampler of one's own gets the request's attributes and may decide by them. */
static void test_user_sampler_sees_request_attributes(void **state)
{
    fixture *f = *state;
    static const otelc_sampler_ops ops = {.should_sample = path_sampler,
                                          .description = path_sampler_name};
    otelc_memory_exporter *mem = provider_with(otelc_sampler_new(&ops, NULL), NULL);
    seen_at_start = 0;
    assert_null(served(f, mem, "/drop/1"));
    assert_int_equal(seen_at_start, 3);
    expect_request_attributes(served(f, mem, "/keep/1"), "/keep/1");
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
}

static void rewriting_on_start(void *self, otelc_span *span, const otelc_span_context *parent)
{
    (void)self, (void)parent;
    otelc_span_set_str(span, "url.path", "/rewritten");
}

/*
 * A processor's on_start comes after the start attributes, so what it sets
 * wins, with a built-in sampler too.
 */
static void test_on_start_comes_after_request_attributes(void **state)
{
    fixture *f = *state;
    static const otelc_processor_ops ops = {.on_start = rewriting_on_start};
    otelc_memory_exporter *mem = provider_with(NULL, &ops);
    expect_request_attributes(served(f, mem, "/a"), "/rewritten");
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
}

/*
 * With built-in samplers and no on_start nothing sees them at the start, so
 * they are worked out only for recording spans; those get every one.
 */
static void test_attributes_after_sampling(void **state)
{
    fixture *f = *state;
    otelc_memory_exporter *mem = provider_with(otelc_sampler_trace_id_ratio(1.0), NULL);
    expect_request_attributes(served(f, mem, "/b"), "/b");
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
    mem = provider_with(otelc_sampler_always_off(), NULL);
    assert_null(served(f, mem, "/c"));
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
}

/* A server's describe callback: counts its calls, fills what a server computes late. */
static int described;

static void describe_late(otelc_server_request *r, void *arg)
{
    described++;
    r->client_address = arg;
    r->query = "token=t1&page=2";
    r->server_address = "late.example";
    r->server_port = 8081;
}

static const otelc_span_data *served_described(otelc_memory_exporter *mem)
{
    otelc_server_request r = {
        .method = "GET", .path = "/d", .describe = describe_late, .describe_arg = "10.1.2.3"};
    size_t before = otelc_memory_exporter_count(mem);
    otelc_server_finish(otelc_server_start(NULL, NULL, &r), 200, NULL);
    size_t n = otelc_memory_exporter_count(mem);
    return n > before ? otelc_memory_exporter_get(mem, n - 1) : NULL;
}

/*
 * The describe callback runs once for a span whose attributes are needed,
 * and what it fills in becomes attributes; an unsampled request never runs it.
 */
static void test_describe_only_when_needed(void **state)
{
    fixture *f = *state;
    described = 0;
    const otelc_span_data *sd = served_described(f->mem);
    assert_int_equal(described, 1);
    assert_non_null(sd);
    assert_string_equal(attr(sd, "client.address"), "10.1.2.3");
    assert_string_equal(attr(sd, "url.query"), "token=REDACTED&page=2");
    assert_string_equal(attr(sd, "server.address"), "late.example");
    assert_int_equal(attr_int(sd, "server.port"), 8081);
    assert_string_equal(attr(sd, "url.path"), "/d");

    otelc_memory_exporter *mem = provider_with(otelc_sampler_always_off(), NULL);
    described = 0;
    assert_null(served_described(mem));
    assert_int_equal(described, 0);
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
}

/* A sampler that reads attributes gets the described ones, and describe still runs once. */
static void test_describe_before_a_reading_sampler(void **state)
{
    (void)state;
    static const otelc_sampler_ops ops = {.should_sample = path_sampler,
                                          .description = path_sampler_name};
    otelc_memory_exporter *mem = provider_with(otelc_sampler_new(&ops, NULL), NULL);
    described = 0;
    seen_at_start = 0;
    assert_null(served_described(mem)); /* path_sampler keeps only /keep... */
    assert_int_equal(described, 1);
    assert_int_equal(seen_at_start, 2); /* url.path and the described server.address */
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
}

/*
 * Entering makes the span and the incoming baggage current as one scope:
 * spans started inside are its children, and leaving restores what was
 * current before, even when the handler activated a span of its own.
 */
static void test_enter_and_leave(void **state)
{
    fixture *f = *state;
    otelc_carrier c = otelc_headers_carrier(&f->headers);
    otelc_server_request r = {.method = "GET"};
    otelc_tracer *t = otelc_tracer_get("t", NULL);
    otelc_span *outer = otelc_span_start(t, "outer", OTELC_SPAN_INTERNAL);
    otelc_scope outer_scope = otelc_span_activate(outer);

    otelc_headers_add(&f->headers, "baggage", "k=v");
    otelc_server_span *s = otelc_server_start(NULL, &c, &r);
    for (int call = 0; call < 2; call++) { /* MHD calls a handler several times */
        otelc_server_enter(s);
        assert_ptr_equal(otelc_span_current(), otelc_server_span_get(s));
        assert_string_equal(otelc_baggage_get(otelc_baggage_current(), "k"), "v");
        otelc_span *child = otelc_span_start(t, "child", OTELC_SPAN_INTERNAL);
        otelc_scope child_scope = otelc_span_activate(child);
        otelc_scope_exit(child_scope);
        otelc_span_end(child);
        otelc_server_leave(s);
        assert_ptr_equal(otelc_span_current(), outer);
        assert_null(otelc_baggage_current());
    }
    otelc_server_finish(s, 200, NULL);
    otelc_scope_exit(outer_scope);
    otelc_span_end(outer);
    const otelc_span_data *server = otelc_testing_find(f->mem, "GET");
    const otelc_span_data *child = otelc_testing_find(f->mem, "child");
    assert_non_null(server);
    assert_non_null(child);
    assert_false(server->has_parent); /* a request starts its own trace, not outer's */
    assert_memory_equal(child->parent_span_id, server->context.span_id, 8);
    assert_memory_equal(child->context.trace_id, server->context.trace_id, 16);
}

/* A wrapper's per-request state in the handle's room, on a thread that then exits. */
static void *serve_with_room(void *arg)
{
    otelc_server_request r = {.method = "PUT"};
    for (int i = 0; i < 3; i++) { /* the second and third reuse the first's memory */
        otelc_server_span *s = otelc_server_start_with_room(NULL, NULL, &r, 100);
        unsigned char *room = otelc_server_room(s);
        assert_non_null(room);
        assert_int_equal((uintptr_t)room % _Alignof(max_align_t), 0);
        memset(room, 0xa5, 100);
        otelc_server_finish(s, 200 + i, NULL);
    }
    return arg;
}

/* The room is the caller's; the handles are freed with their thread (ASan checks). */
static void test_room(void **state)
{
    fixture *f = *state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_with_room, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(otelc_memory_exporter_count(f->mem), 3);
    assert_int_equal(attr_int(otelc_memory_exporter_get(f->mem, 2), "http.response.status_code"),
                     202);
    assert_null(otelc_server_room(NULL));
    assert_null(otelc_server_start_with_room(NULL, NULL, &(otelc_server_request){.method = "GET"},
                                             SIZE_MAX));
}

/* The first letters of the names in h, as the libmicrohttpd wrapper gathers them. */
static uint64_t letters_of(const otelc_headers *h)
{
    uint64_t letters = 0;
    for (size_t i = 0; i < h->count; i++) letters |= OTELC__HEADER_LETTER(h->items[i].name[0]);
    return letters;
}

/* A span started from h with letters, ended; whether it got a remote parent. */
static bool continues(fixture *f, const otelc_headers *h, uint64_t letters, size_t nth)
{
    otelc_carrier c = otelc_headers_carrier((otelc_headers *)h);
    otelc_server_request r = {.method = "GET", .path = "/"};
    otelc_server_span *s = otelc__server_start_lettered(NULL, &c, &r, 0, letters);
    assert_non_null(s);
    otelc_server_finish(s, 200, NULL);
    const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, nth);
    assert_non_null(sd);
    return sd->has_parent && sd->parent_is_remote;
}

/*
 * A carrier is searched for a context unless none of its headers starts
 * with a letter a propagator's headers start with: the headers' case does
 * not matter, each propagator's own headers count (tracecontext's "t",
 * baggage's "b", B3's "b" and "x", Jaeger's "u"), and a start told of no
 * such header does not search even headers that are there.
 */
static void test_lettered_start_searches_what_a_propagator_reads(void **state)
{
    fixture *f = *state;
    otelc_headers h = {0};

    otelc_headers_add(&h, "Host", "example.com");
    otelc_headers_add(&h, "TraceParent", PARENT);
    assert_true(continues(f, &h, letters_of(&h), 0));
    assert_false(continues(f, &h, OTELC__HEADER_LETTER('h'), 1));
    otelc_headers_clear(&h);

    /* Baggage alone is extracted as well. */
    otelc_headers_add(&h, "Baggage", "tenant=acme");
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_server_request r = {.method = "GET", .path = "/"};
    otelc_server_span *s = otelc__server_start_lettered(NULL, &c, &r, 0, letters_of(&h));
    otelc_server_enter(s);
    assert_string_equal(otelc_baggage_get(otelc_baggage_current(), "tenant"), "acme");
    otelc_server_leave(s);
    otelc_server_finish(s, 200, NULL);
    otelc_headers_clear(&h);

    /* B3's multiple headers, under a provider that propagates B3 and Jaeger. */
    otelc_exporter *exp = NULL;
    otelc_memory_exporter *mem = otelc_memory_exporter_new(&exp);
    otelc_processor *proc = otelc_simple_processor_new(exp);
    int bad = 0;
    otelc_provider_options o = {.no_env = true,
                                .processors = &proc,
                                .processor_count = 1,
                                .propagator = otelc_propagator_from_list("b3multi,jaeger", &bad)};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_provider_set_global(p);
    otelc_memory_exporter *kept = f->mem;
    f->mem = mem;
    otelc_headers_add(&h, "X-B3-TraceId", "0af7651916cd43dd8448eb211c80319c");
    otelc_headers_add(&h, "X-B3-SpanId", "b7ad6b7169203331");
    otelc_headers_add(&h, "X-B3-Sampled", "1");
    assert_true(continues(f, &h, letters_of(&h), 0));
    assert_false(continues(f, &h, OTELC__HEADER_LETTER('t'), 1)); /* not propagated here */
    otelc_headers_clear(&h);
    otelc_headers_add(&h, "Uber-Trace-Id", "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1");
    assert_true(continues(f, &h, letters_of(&h), 2));
    otelc_headers_clear(&h);
    f->mem = kept;
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_trace_and_other_method, setup, teardown),
        cmocka_unit_test(test_request_under_limits),
        cmocka_unit_test_setup_teardown(test_long_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_default_port_and_error_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_sampler_sees_request_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_on_start_comes_after_request_attributes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attributes_after_sampling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_only_when_needed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_before_a_reading_sampler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enter_and_leave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lettered_start_searches_what_a_propagator_reads, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
