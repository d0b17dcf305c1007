/*
 * test_zipkin.c - the Zipkin exporter: the v2 JSON mapping of spans built
 * through the public API (kinds, endpoints, tags, status, events, times,
 * ids), and real HTTP round trips to a loopback receiver (path, content
 * type, body, retry after 503, no retry after 400, configuration from the
 * environment).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "export/zipkin.h"
#include "otelc/otelc.h"
#include "unit/anyvalue.h"

#define T0 1700000000123456789ULL /* a start time in Unix ns */

/* ---- Encoding through the public API ------------------------------------------ */

#define MAX_CAPTURED 8

/* An exporter that encodes every span it is given, with the ids needed to check it. */
typedef struct capture {
    char *json[MAX_CAPTURED];
    char id[MAX_CAPTURED][17];
    char parent[MAX_CAPTURED][17];
    size_t count;
} capture;

static otelc_export_result capture_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    capture *c = self;
    for (size_t i = 0; i < n && c->count < MAX_CAPTURED; i++) {
        otelc_buf b = {0};
        assert_int_equal(otelc__zipkin_encode(&b, &spans[i], 1, "fallback-svc"), OTELC_OK);
        c->json[c->count] = b.data;
        otelc_span_id_hex(&spans[i]->context, c->id[c->count]);
        otelc__hex_encode(spans[i]->parent_span_id, 8, c->parent[c->count]);
        c->parent[c->count][16] = '\0';
        c->count++;
    }
    return OTELC_EXPORT_SUCCESS;
}

static const otelc_exporter_ops capture_ops = {.export_spans = capture_export};

typedef struct fixture {
    capture cap;
    otelc_provider *prov;
    otelc_tracer *tracer;
} fixture;

static int setup_with(void **state, const otelc_span_limits *limits, bool with_service)
{
    fixture *f = calloc(1, sizeof(*f));
    otelc_attr res[] = {
        OTELC_ATTR_STR("service.namespace", "shop"),
        OTELC_ATTR_STR("service.name", "checkout"),
    };
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&capture_ops, &f->cap));
    otelc_provider_options o = {
        .no_env = true,
        .resource = otelc_resource_new(res, with_service ? 2 : 1, NULL),
        .processors = &proc,
        .processor_count = 1,
        .limits = limits,
    };
    assert_int_equal(otelc_provider_new(&o, &f->prov), OTELC_OK);
    f->tracer = otelc_provider_tracer(f->prov, "test.zipkin", "1.2.3", NULL);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL, true);
}

static int teardown(void **state)
{
    fixture *f = *state;
    otelc_provider_free(f->prov);
    for (size_t i = 0; i < f->cap.count; i++) free(f->cap.json[i]);
    free(f);
    return 0;
}

/* The remote parent every test span hangs off, so trace and parent ids are known. */
static otelc_context *remote_parent(void)
{
    otelc_span_context sc = {
        .trace_id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
        .span_id = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8},
        .trace_flags = 1,
        .is_remote = true,
    };
    return otelc_context_new(&sc, NULL);
}

#define TRACE_ID  "0102030405060708090a0b0c0d0e0f10"
#define PARENT_ID "a1a2a3a4a5a6a7a8"

static otelc_span *start_span(fixture *f, const char *name, otelc_span_kind kind, uint64_t t)
{
    otelc_context *parent = remote_parent();
    otelc_span_options o = {.kind = kind, .parent = parent, .start_ns = t};
    otelc_span *s = otelc_span_start_with(f->tracer, name, &o);
    otelc_context_release(parent);
    return s;
}

/* Captured span i's JSON must equal expected, where "@ID@" stands for its span id. */
static void expect_json(fixture *f, size_t i, const char *expected)
{
    char want[8192];
    assert_true(i < f->cap.count);
    const char *at = strstr(expected, "@ID@");
    assert_non_null(at);
    snprintf(want, sizeof want, "%.*s%s%s", (int)(at - expected), expected, f->cap.id[i], at + 4);
    assert_string_equal(f->cap.json[i], want);
}

static void test_server_span(void **state)
{
    fixture *f = *state;
    const char *strs[] = {"a", "b\"c"};
    int64_t ints[] = {1, -2};
    bool bools[] = {true, false};
    double dbls[] = {1.5, -0.25};
    otelc_attr ev_attrs[] = {OTELC_ATTR_STR("key", "k1"), OTELC_ATTR_INT("hits", 3)};

    otelc_span *s = start_span(f, "GET /cart", OTELC_SPAN_SERVER, T0);
    otelc_span_set_str(s, "http.method", "GET");
    otelc_span_set_int(s, "http.status_code", 200);
    otelc_span_set_bool(s, "cached", true);
    otelc_span_set_double(s, "ratio", 0.25);
    otelc_span_set_str_array(s, "list", strs, 2);
    otelc_span_set_int_array(s, "ints", ints, 2);
    otelc_span_set_bool_array(s, "bools", bools, 2);
    otelc_span_set_double_array(s, "dbls", dbls, 2);
    otelc_span_add_event_at(s, "cache miss", T0 + 1000000, ev_attrs, 2);
    otelc_span_add_event_at(s, "plain", T0 + 2000999, NULL, 0);
    otelc_span_set_status(s, OTELC_STATUS_OK, NULL);
    otelc_span_end_at(s, T0 + 2500000);

    expect_json(
        f, 0,
        "[{\"traceId\":\"" TRACE_ID "\",\"parentId\":\"" PARENT_ID "\",\"id\":\"@ID@\","
        "\"kind\":\"SERVER\",\"name\":\"GET /cart\",\"timestamp\":1700000000123456,"
        "\"duration\":2500,\"localEndpoint\":{\"serviceName\":\"checkout\"},"
        "\"annotations\":[{\"timestamp\":1700000000124456,"
        "\"value\":\"\\\"cache miss\\\":{\\\"key\\\":\\\"k1\\\",\\\"hits\\\":3}\"},"
        "{\"timestamp\":1700000000125457,\"value\":\"plain\"}],"
        "\"tags\":{\"http.method\":\"GET\",\"http.status_code\":\"200\",\"cached\":\"true\","
        "\"ratio\":\"0.25\",\"list\":\"[\\\"a\\\",\\\"b\\\\\\\"c\\\"]\",\"ints\":\"[1,-2]\","
        "\"bools\":\"[true,false]\",\"dbls\":\"[1.5,-0.25]\",\"service.namespace\":\"shop\","
        "\"otel.scope.name\":\"test.zipkin\",\"otel.library.name\":\"test.zipkin\","
        "\"otel.scope.version\":\"1.2.3\",\"otel.library.version\":\"1.2.3\","
        "\"otel.status_code\":\"OK\"}}]");
    /* OpenTelemetry spans never share ids and carry no debug bit. */
    assert_null(strstr(f->cap.json[0], "shared"));
    assert_null(strstr(f->cap.json[0], "debug"));
}

/* A local root (no parentId, INTERNAL: no kind) and its CLIENT child that failed. */
static void test_client_error_and_internal(void **state)
{
    fixture *f = *state;
    otelc_span_options ro = {.root = true, .start_ns = T0};
    otelc_span *root = otelc_span_start_with(f->tracer, "job", &ro);
    otelc_span_set_str(root, "peer.service", "ignored-for-internal");

    otelc_scope sc = otelc_span_activate(root);
    otelc_span_options co = {.kind = OTELC_SPAN_CLIENT, .start_ns = T0 + 1000};
    otelc_span *child = otelc_span_start_with(f->tracer, "call", &co);
    otelc_scope_exit(sc);
    otelc_span_set_str(child, "server.address", "api.example.com");
    otelc_span_set_str(child, "network.peer.address", "10.0.0.7");
    otelc_span_set_bool(child, "error", false);
    otelc_span_set_str(child, "otel.status_code", "forged");
    otelc_span_set_status(child, OTELC_STATUS_ERROR, "boom \"bad\"");
    otelc_span_end_at(child, T0 + 1000 + 1234); /* 1.234 us: whole microseconds */
    otelc_span_end_at(root, T0 + 999999);

    assert_int_equal(f->cap.count, 2);
    assert_string_equal(f->cap.parent[0], f->cap.id[1]);
    char want[4096];
    snprintf(want, sizeof want,
             "[{\"traceId\":\"%.32s\",\"parentId\":\"%s\",\"id\":\"%s\",\"kind\":\"CLIENT\","
             "\"name\":\"call\",\"timestamp\":1700000000123457,\"duration\":1,"
             "\"localEndpoint\":{\"serviceName\":\"checkout\"},"
             "\"remoteEndpoint\":{\"serviceName\":\"api.example.com\"},"
             "\"tags\":{\"server.address\":\"api.example.com\","
             "\"network.peer.address\":\"10.0.0.7\",\"service.namespace\":\"shop\","
             "\"otel.scope.name\":\"test.zipkin\",\"otel.library.name\":\"test.zipkin\","
             "\"otel.scope.version\":\"1.2.3\",\"otel.library.version\":\"1.2.3\","
             "\"otel.status_code\":\"ERROR\",\"error\":\"boom \\\"bad\\\"\"}}]",
             f->cap.json[1] + 13, f->cap.id[1], f->cap.id[0]);
    assert_string_equal(f->cap.json[0], want);

    /* The root: no parentId, no kind, no remoteEndpoint, no status tags. */
    assert_int_equal(strncmp(f->cap.json[1] + 46, ",\"id\":", 6), 0);
    assert_null(strstr(f->cap.json[1], "parentId"));
    assert_null(strstr(f->cap.json[1], "\"kind\""));
    assert_null(strstr(f->cap.json[1], "remoteEndpoint"));
    assert_null(strstr(f->cap.json[1], "otel.status_code"));
    assert_non_null(strstr(f->cap.json[1], "\"duration\":999,"));
}

/* The remoteEndpoint object a PRODUCER span with attrs gets ("" for none). */
static void remote_of(fixture *f, otelc_span_kind kind, const otelc_attr *attrs, size_t n,
                      const char *want)
{
    otelc_span *s = start_span(f, "send", kind, T0);
    for (size_t i = 0; i < n; i++) otelc_span_set_attr(s, &attrs[i]);
    otelc_span_end_at(s, T0 + 5000);
    const char *json = f->cap.json[f->cap.count - 1];
    const char *p = strstr(json, ",\"remoteEndpoint\":");
    char got[256] = "";
    if (p) snprintf(got, sizeof got, "%.*s", (int)(strchr(p, '}') - p + 1), p);
    assert_string_equal(got, want);
    free(f->cap.json[--f->cap.count]);
}

static void test_remote_endpoint_rank(void **state)
{
    fixture *f = *state;
    otelc_span_kind P = OTELC_SPAN_PRODUCER;
    otelc_attr a1[] = {OTELC_ATTR_STR("server.address", "x.example"),
                       OTELC_ATTR_STR("peer.service", "billing")};
    remote_of(f, P, a1, 2, ",\"remoteEndpoint\":{\"serviceName\":\"billing\"}");
    otelc_attr a2[] = {OTELC_ATTR_STR("peer.address", "p.example"),
                       OTELC_ATTR_INT("network.peer.port", 8443),
                       OTELC_ATTR_STR("network.peer.address", "10.0.0.7")};
    remote_of(f, P, a2, 3, ",\"remoteEndpoint\":{\"ipv4\":\"10.0.0.7\",\"port\":8443}");
    otelc_attr a3[] = {OTELC_ATTR_STR("network.peer.address", "::1"),
                       OTELC_ATTR_INT("network.peer.port", 70000)};
    remote_of(f, P, a3, 2, ",\"remoteEndpoint\":{\"ipv6\":\"::1\"}");
    otelc_attr a4[] = {OTELC_ATTR_STR("db.name", "orders"), OTELC_ATTR_STR("peer.hostname", "db1")};
    remote_of(f, P, a4, 2, ",\"remoteEndpoint\":{\"serviceName\":\"db1\"}");
    otelc_attr a5[] = {OTELC_ATTR_STR("db.name", "orders")};
    remote_of(f, P, a5, 1, ",\"remoteEndpoint\":{\"serviceName\":\"orders\"}");
    otelc_attr a6[] = {OTELC_ATTR_STR("net.sock.peer.port", "5432"),
                       OTELC_ATTR_STR("net.sock.peer.addr", "192.168.1.2"),
                       OTELC_ATTR_STR("peer.hostname", "later")};
    remote_of(f, P, a6, 3, ",\"remoteEndpoint\":{\"ipv4\":\"192.168.1.2\",\"port\":5432}");
    /* Not a string, or empty: the next rank is used. */
    otelc_attr a7[] = {OTELC_ATTR_INT("peer.service", 7), OTELC_ATTR_STR("server.address", ""),
                       OTELC_ATTR_STR("net.peer.name", "legacy")};
    remote_of(f, P, a7, 3, ",\"remoteEndpoint\":{\"serviceName\":\"legacy\"}");
    remote_of(f, P, NULL, 0, "");
    remote_of(f, OTELC_SPAN_CLIENT, a1, 2, ",\"remoteEndpoint\":{\"serviceName\":\"billing\"}");
    /* Only CLIENT and PRODUCER spans name a remote endpoint. */
    remote_of(f, OTELC_SPAN_SERVER, a1, 2, "");
    remote_of(f, OTELC_SPAN_CONSUMER, a1, 2, "");
}

static void test_status_tags(void **state)
{
    fixture *f = *state;
    /* ERROR without a description still sets error, to "". */
    otelc_span *s = start_span(f, "e", OTELC_SPAN_CONSUMER, T0);
    otelc_span_set_status(s, OTELC_STATUS_ERROR, NULL);
    otelc_span_end_at(s, T0 + 1000);
    assert_non_null(strstr(f->cap.json[0], "\"kind\":\"CONSUMER\""));
    assert_non_null(strstr(f->cap.json[0], ",\"otel.status_code\":\"ERROR\",\"error\":\"\"}}]"));

    /* UNSET: no status tags; a false "error" attribute is removed, others are kept. */
    s = start_span(f, "u", OTELC_SPAN_SERVER, T0);
    otelc_span_set_str(s, "error", "false");
    otelc_span_end_at(s, T0 + 1000);
    assert_null(strstr(f->cap.json[1], "error"));
    assert_null(strstr(f->cap.json[1], "otel.status_code"));

    s = start_span(f, "u2", OTELC_SPAN_SERVER, T0);
    otelc_span_set_str(s, "error", "disk full");
    otelc_span_end_at(s, T0 + 1000);
    assert_non_null(strstr(f->cap.json[2], "\"tags\":{\"error\":\"disk full\","));

    s = start_span(f, "u3", OTELC_SPAN_SERVER, T0);
    otelc_span_set_bool(s, "error", false);
    otelc_span_end_at(s, T0 + 1000);
    assert_null(strstr(f->cap.json[3], "error"));

    s = start_span(f, "u4", OTELC_SPAN_SERVER, T0);
    otelc_span_set_bool(s, "error", true);
    otelc_span_end_at(s, T0 + 1000);
    assert_non_null(strstr(f->cap.json[4], "\"tags\":{\"error\":\"true\","));
}

static void test_times(void **state)
{
    fixture *f = *state;
    static const struct {
        uint64_t start, end;
        const char *want;
    } cases[] = {
        {1999, 1999 + 999, "\"timestamp\":1,\"duration\":1,"}, /* under 1 us rounds up */
        {T0, T0, "\"timestamp\":1700000000123456,\"duration\":1,"},
        {T0, T0 + 1234, "\"timestamp\":1700000000123456,\"duration\":1,"},
        {T0, T0 + 3999999999ULL, "\"timestamp\":1700000000123456,\"duration\":3999999,"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        otelc_span *s = start_span(f, "t", OTELC_SPAN_INTERNAL, cases[i].start);
        otelc_span_end_at(s, cases[i].end);
        assert_non_null(strstr(f->cap.json[i], cases[i].want));
    }
}

static int setup_limited(void **state)
{
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    lim.attribute_count = 1;
    lim.event_count = 1;
    lim.link_count = 0;
    lim.event_attribute_count = 1;
    return setup_with(state, &lim, false);
}

/* Dropped counts become tags; service.name falls back to the default given. */
static void test_dropped_counts_and_default_service(void **state)
{
    fixture *f = *state;
    otelc_attr ev[] = {OTELC_ATTR_BOOL("b", true), OTELC_ATTR_INT("n", 1)};
    otelc_span_context other = {.trace_id = {9}, .span_id = {9}, .trace_flags = 1};
    otelc_span *s = start_span(f, "d", OTELC_SPAN_INTERNAL, T0);
    otelc_span_set_str(s, "kept", "1");
    otelc_span_set_str(s, "dropped", "2");
    otelc_span_add_event_at(s, "first", T0, ev, 2);
    otelc_span_add_event_at(s, "second", T0, NULL, 0);
    otelc_span_add_link(s, &other, NULL, 0);
    otelc_span_end_at(s, T0 + 1000);
    assert_non_null(strstr(f->cap.json[0], "\"localEndpoint\":{\"serviceName\":\"fallback-svc\"}"));
    assert_non_null(strstr(f->cap.json[0], "\"value\":\"\\\"first\\\":{\\\"b\\\":true,"
                                           "\\\"otel.dropped_attributes_count\\\":1}\""));
    assert_non_null(strstr(f->cap.json[0], "\"tags\":{\"kept\":\"1\",\"service.namespace\":"));
    assert_non_null(strstr(f->cap.json[0], "\"otel.library.version\":\"1.2.3\","
                                           "\"otel.dropped_attributes_count\":\"1\","
                                           "\"otel.dropped_events_count\":\"1\","
                                           "\"otel.dropped_links_count\":\"1\"}}]"));
}

/* Several spans in one list; odd strings stay valid JSON; doubles that JSON lacks. */
static void test_list_and_escaping(void **state)
{
    fixture *f = *state;
    (void)f;
    otelc_span_data sd[2];
    memset(sd, 0, sizeof sd);
    sd[0].name = "bad \xff utf8\n";
    sd[0].kind = OTELC_SPAN_INTERNAL;
    sd[0].start_ns = 5000;
    sd[0].end_ns = 9000;
    otelc_attr attrs[] = {OTELC_ATTR_DOUBLE("nan", NAN), OTELC_ATTR_DOUBLE("inf", -INFINITY)};
    sd[1] = sd[0];
    sd[1].name = NULL;
    sd[1].attrs = attrs;
    sd[1].attr_count = 2;
    const otelc_span_data *list[] = {&sd[0], &sd[1]};
    otelc_buf b = {0};
    assert_int_equal(otelc__zipkin_encode(&b, list, 2, NULL), OTELC_OK);
    assert_string_equal(
        b.data, "[{\"traceId\":\"00000000000000000000000000000000\",\"id\":\"0000000000000000\","
                "\"name\":\"bad \\ufffd utf8\\n\",\"timestamp\":5,\"duration\":4,"
                "\"localEndpoint\":{\"serviceName\":\"unknown_service\"}},"
                "{\"traceId\":\"00000000000000000000000000000000\",\"id\":\"0000000000000000\","
                "\"name\":\"\",\"timestamp\":5,\"duration\":4,"
                "\"localEndpoint\":{\"serviceName\":\"unknown_service\"},"
                "\"tags\":{\"nan\":\"NaN\",\"inf\":\"-Infinity\"}}]");
    otelc__buf_reset(&b);
    assert_int_equal(otelc__zipkin_encode(&b, list, 0, NULL), OTELC_OK);
    assert_string_equal(b.data, "[]");
    otelc__buf_free(&b);
}

/*
 * Tags of the other AnyValue kinds, as common/README.md represents an
 * AnyValue for non-OTLP formats: maps as JSON objects and arrays of any
 * values as JSON lists (inside them bytes are base64 strings and the empty
 * value null), bytes as their base64 text, the empty value as "". The
 * scope's attributes become tags too (mapping-to-non-otlp.md), except
 * where the span has the same key or the exporter writes that tag itself.
 */
static void test_anyvalue_kinds_and_scope_attribute_tags(void **state)
{
    (void)state;
    av_span s;
    av_span_init(&s);
    otelc_attr attrs[AV_LEN(AV_ATTRS) + 1];
    memcpy(attrs, AV_ATTRS, sizeof(AV_ATTRS));
    attrs[AV_LEN(AV_ATTRS)] = (otelc_attr)OTELC_ATTR_STR("shadowed", "the span's");
    const otelc_attr scope_attrs[] = {
        AV_SCOPE_ATTRS[0],
        AV_SCOPE_ATTRS[1],
        OTELC_ATTR_STR("shadowed", "the scope's"),
        OTELC_ATTR_STR("otel.scope.name", "not the scope's name"),
        OTELC_ATTR_BOOL("error", false),
    };
    otelc_event_data ev = {"ev", 1700000000000000500ull, AV_ATTRS, AV_LEN(AV_ATTRS), 0};
    s.sd.attrs = attrs;
    s.sd.attr_count = AV_LEN(attrs);
    s.sd.events = &ev;
    s.sd.event_count = 1;
    s.scope.attrs = scope_attrs;
    s.scope.attr_count = AV_LEN(scope_attrs);
    const otelc_span_data *list[] = {&s.sd};
    otelc_buf b = {0};
    assert_int_equal(otelc__zipkin_encode(&b, list, 1, NULL), OTELC_OK);
    const char *annotations =
        "\"annotations\":[{\"timestamp\":1700000000000000,\"value\":\"\\\"ev\\\":{"
        "\\\"av.bytes\\\":\\\"AGH/EA==\\\",\\\"av.empty\\\":null,"
        "\\\"av.map\\\":{\\\"list\\\":[1,\\\"two\\\",null,false],\\\"raw\\\":\\\"AGH/EA==\\\"},"
        "\\\"av.array\\\":[{\\\"deep\\\":true,\\\"none\\\":null},2.5,[],{}],"
        "\\\"av.empty_map\\\":{},\\\"av.empty_array\\\":[]}\"}]";
    const char *tags =
        "\"tags\":{\"av.bytes\":\"AGH/EA==\",\"av.empty\":\"\","
        "\"av.map\":\"{\\\"list\\\":[1,\\\"two\\\",null,false],\\\"raw\\\":\\\"AGH/EA==\\\"}\","
        "\"av.array\":\"[{\\\"deep\\\":true,\\\"none\\\":null},2.5,[],{}]\","
        "\"av.empty_map\":\"{}\",\"av.empty_array\":\"[]\",\"shadowed\":\"the span's\","
        "\"scope.kind\":\"library\",\"scope.tags\":\"[1,\\\"two\\\",null,false]\","
        "\"otel.scope.name\":\"av.scope\",\"otel.library.name\":\"av.scope\","
        "\"otel.scope.version\":\"0.1\",\"otel.library.version\":\"0.1\"}}]";
    const char *a = strstr(b.data, annotations);
    if (!a) fail_msg("no %s in\n%s", annotations, b.data);
    assert_string_equal(a + strlen(annotations) + 1, tags);
    otelc__buf_free(&b);
    otelc_resource_free(s.resource);
}

/* ---- A loopback Zipkin receiver ---------------------------------------------------- */

#define MAX_REQUESTS 8

typedef struct request {
    char line[256]; /* "POST /api/v2/spans HTTP/1.1" */
    char content_type[128];
    char *body;
} request;

typedef struct receiver {
    int fd;
    int port;
    pthread_t thread;
    const int *statuses; /* answered in order; 200 once they run out */
    size_t nstatuses;
    pthread_mutex_t lock;
    request req[MAX_REQUESTS];
    size_t count;
} receiver;

/* The value of header name in the head (lowercase name, "name:" form), or "". */
static void header_value(const char *head, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *p = head; (p = strstr(p, "\r\n")) != NULL;) {
        p += 2;
        size_t n = strlen(name);
        if (strncasecmp(p, name, n) != 0 || p[n] != ':') continue;
        p += n + 1;
        while (*p == ' ') p++;
        snprintf(out, cap, "%.*s", (int)strcspn(p, "\r\n"), p);
        return;
    }
}

/* Read one request (head, then Content-Length bytes of body); false on EOF. */
static bool read_request(int c, request *r)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = calloc(1, cap + 1), *end = NULL, cl[32];
    while (!end && len < cap) {
        ssize_t n = read(c, buf + len, cap - len);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) {
        free(buf);
        return false;
    }
    *end = '\0';
    snprintf(r->line, sizeof r->line, "%.*s", (int)strcspn(buf, "\r\n"), buf);
    header_value(buf, "content-type", r->content_type, sizeof r->content_type);
    header_value(buf, "content-length", cl, sizeof cl);
    char expect[32];
    header_value(buf, "expect", expect, sizeof expect);
    if (expect[0] && write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 25) {
        free(buf);
        return false;
    }
    size_t want = (size_t)strtoul(cl, NULL, 10), have = len - (size_t)(end + 4 - buf);
    r->body = calloc(1, want + 1);
    memcpy(r->body, end + 4, have < want ? have : want);
    while (have < want) {
        ssize_t n = read(c, r->body + have, want - have);
        if (n <= 0) break;
        have += (size_t)n;
    }
    free(buf);
    return true;
}

static void *receiver_main(void *arg)
{
    receiver *rv = arg;
    for (;;) {
        int c = accept(rv->fd, NULL, NULL);
        if (c < 0) return NULL; /* the listening socket was shut down */
        request r = {0};
        if (read_request(c, &r)) {
            pthread_mutex_lock(&rv->lock);
            size_t i = rv->count;
            int status = i < rv->nstatuses ? rv->statuses[i] : 200;
            if (i < MAX_REQUESTS) rv->req[rv->count++] = r;
            pthread_mutex_unlock(&rv->lock);
            char resp[256];
            int n = snprintf(resp, sizeof resp,
                             "HTTP/1.1 %d X\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                             status, status == 503 ? "Retry-After: 0\r\n" : "");
            if (write(c, resp, (size_t)n) != n) fprintf(stderr, "receiver: short write\n");
            if (i >= MAX_REQUESTS) free(r.body);
        }
        close(c);
    }
}

static void receiver_start(receiver *rv, const int *statuses, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    memset(rv, 0, sizeof(*rv));
    rv->statuses = statuses;
    rv->nstatuses = n;
    pthread_mutex_init(&rv->lock, NULL);
    rv->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rv->fd >= 0);
    assert_int_equal(bind(rv->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(rv->fd, 8), 0);
    assert_int_equal(getsockname(rv->fd, (struct sockaddr *)&a, &alen), 0);
    rv->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&rv->thread, NULL, receiver_main, rv), 0);
}

/* After this the requests can be read without the lock. */
static void receiver_stop(receiver *rv)
{
    shutdown(rv->fd, SHUT_RDWR);
    pthread_join(rv->thread, NULL);
    close(rv->fd);
}

static void receiver_free(receiver *rv)
{
    for (size_t i = 0; i < rv->count; i++) free(rv->req[i].body);
    pthread_mutex_destroy(&rv->lock);
}

static void receiver_url(const receiver *rv, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d/api/v2/spans", rv->port);
}

/* A provider sending each span synchronously through exp. */
static otelc_provider *sending_provider(otelc_exporter *exp)
{
    otelc_attr res[] = {OTELC_ATTR_STR("service.name", "net-svc")};
    otelc_processor *proc = otelc_simple_processor_new(exp);
    otelc_provider_options o = {
        .no_env = true,
        .resource = otelc_resource_new(res, 1, NULL),
        .processors = &proc,
        .processor_count = 1,
    };
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    return p;
}

/* The exporter needs libcurl; a build without it has none, and says so with NULL. */
static bool zipkin_available(void)
{
    otelc_exporter *e = otelc_zipkin_exporter_new("http://127.0.0.1:9/api/v2/spans", 1000);
    otelc_exporter_free(e);
    return e != NULL;
}

static void check_request(const request *r, const char *span_name)
{
    char want[64];
    assert_string_equal(r->line, "POST /api/v2/spans HTTP/1.1");
    assert_string_equal(r->content_type, "application/json");
    snprintf(want, sizeof want, "\"name\":\"%s\"", span_name);
    assert_non_null(strstr(r->body, want));
    assert_int_equal(r->body[0], '[');
    assert_non_null(strstr(r->body, "\"localEndpoint\":{\"serviceName\":\"net-svc\"}"));
}

/* 503 (with Retry-After: 0) is transient: the same body is sent again and accepted. */
static void test_http_retry_503(void **state)
{
    (void)state;
    static const int script[] = {503, 200};
    receiver rv;
    char url[128];
    if (!zipkin_available()) skip();
    receiver_start(&rv, script, 2);
    receiver_url(&rv, url, sizeof url);
    otelc_exporter *exp = otelc_zipkin_exporter_new(url, 20000);
    otelc_provider *p = sending_provider(exp);
    otelc_span_end(otelc_span_start(otelc_provider_tracer(p, "net", NULL, NULL), "retried",
                                    OTELC_SPAN_CLIENT));
    otelc_zipkin_stats st;
    assert_true(otelc__zipkin_exporter_stats(exp, &st));
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.exports_ok, 1);
    assert_int_equal(st.exports_failed, 0);
    otelc_provider_free(p);
    receiver_stop(&rv);
    assert_int_equal(rv.count, 2);
    check_request(&rv.req[0], "retried");
    assert_string_equal(rv.req[0].body, rv.req[1].body);
    receiver_free(&rv);
}

/* 400 is permanent: one attempt, the export fails, the provider counts it. */
static void test_http_no_retry_400(void **state)
{
    (void)state;
    static const int script[] = {400, 200};
    receiver rv;
    char url[128];
    if (!zipkin_available()) skip();
    receiver_start(&rv, script, 2);
    receiver_url(&rv, url, sizeof url);
    otelc_exporter *exp = otelc_zipkin_exporter_new(url, 20000);
    otelc_provider *p = sending_provider(exp);
    otelc_span_end(otelc_span_start(otelc_provider_tracer(p, "net", NULL, NULL), "rejected",
                                    OTELC_SPAN_SERVER));
    otelc_zipkin_stats st;
    assert_true(otelc__zipkin_exporter_stats(exp, &st));
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.exports_failed, 1);
    otelc_stats ps;
    otelc_provider_stats(p, &ps);
    assert_int_equal(ps.export_failures, 1);
    otelc_provider_free(p);
    receiver_stop(&rv);
    assert_int_equal(rv.count, 1);
    check_request(&rv.req[0], "rejected");
    receiver_free(&rv);
}

/* OTEL_TRACES_EXPORTER=zipkin with OTEL_EXPORTER_ZIPKIN_ENDPOINT: a batch processor sends there. */
static void test_env_selection(void **state)
{
    (void)state;
    receiver rv;
    char url[128];
    if (!zipkin_available()) skip();
    receiver_start(&rv, NULL, 0);
    receiver_url(&rv, url, sizeof url);
    setenv("OTEL_TRACES_EXPORTER", "zipkin", 1);
    setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_ZIPKIN_TIMEOUT", "15000", 1);
    setenv("OTEL_SERVICE_NAME", "net-svc", 1);
    assert_string_equal(otelc__zipkin_endpoint_from_env(), url);
    assert_int_equal(otelc__zipkin_timeout_from_env(), 15000);
    otelc_provider *p = NULL;
    otelc_provider_options o = {.ignore_env_parent = true};
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_span_end(otelc_span_start(otelc_provider_tracer(p, "net", NULL, NULL), "from-env",
                                    OTELC_SPAN_PRODUCER));
    assert_int_equal(otelc_provider_force_flush(p, 30000), OTELC_OK);
    otelc_provider_free(p);
    unsetenv("OTEL_TRACES_EXPORTER");
    unsetenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT");
    unsetenv("OTEL_EXPORTER_ZIPKIN_TIMEOUT");
    unsetenv("OTEL_SERVICE_NAME");
    receiver_stop(&rv);
    assert_int_equal(rv.count, 1);
    check_request(&rv.req[0], "from-env");
    receiver_free(&rv);
}

/* A port nobody listens on: refusals are transient, so the exporter retries until its budget ends.
 */
static void test_http_refused_until_deadline(void **state)
{
    (void)state;
    char url[128];
    if (!zipkin_available()) skip();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd); /* bound, never listened: connecting is refused */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v2/spans", ntohs(a.sin_port));
    otelc_exporter *exp = otelc_zipkin_exporter_new(url, 2500);
    otelc_provider *p = sending_provider(exp);
    otelc_log_set_level(OTELC_LOG_NONE);
    otelc_span_end(
        otelc_span_start(otelc_provider_tracer(p, "net", NULL, NULL), "lost", OTELC_SPAN_CLIENT));
    otelc_log_set_level(OTELC_LOG_WARN);
    otelc_zipkin_stats st;
    assert_true(otelc__zipkin_exporter_stats(exp, &st));
    assert_true(st.requests >= 2); /* the first backoff (at most 1 s) fits in 2.5 s */
    assert_int_equal(st.retries, st.requests - 1);
    assert_int_equal(st.exports_failed, 1);
    assert_int_equal(st.exports_ok, 0);
    otelc_provider_free(p);
}

static void test_bad_endpoint(void **state)
{
    (void)state;
    assert_null(otelc_zipkin_exporter_new("ftp://example.com/spans", 0));
    otelc_zipkin_stats st;
    assert_false(otelc__zipkin_exporter_stats(NULL, &st));
}

int main(void)
{
    /* The receiver is on loopback: a proxy from the environment must not intercept it. */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_error_and_internal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_endpoint_rank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_counts_and_default_service, setup_limited,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_and_escaping, setup, teardown),
        cmocka_unit_test(test_anyvalue_kinds_and_scope_attribute_tags),
        cmocka_unit_test(test_http_retry_503),
        cmocka_unit_test(test_http_no_retry_400),
        cmocka_unit_test(test_http_refused_until_deadline),
        cmocka_unit_test(test_env_selection),
        cmocka_unit_test(test_bad_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
