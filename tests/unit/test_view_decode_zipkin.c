/*
 * test_view_decode_zipkin.c - the viewer's Zipkin v2 decoder
 * (viewer/decode_zipkin.c): spans recorded by the SDK and encoded by
 * libotelc's Zipkin exporter come back with everything Zipkin carries,
 * field by field; hand-written lists per Zipkin's API and the Collector's
 * translator (64-bit trace ids, kinds, endpoints, the special tags,
 * annotation forms, resources per service); invalid spans are rejected one
 * by one, malformed lists whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "decode_zipkin.h"
#include "export/zipkin.h"
#include "unit/otlp_spans.h"
#include "unit/view_compare.h"

#define TID "5b8efff798038103d269b633813fc60c"
#define SID "eee19b7ec3c1b174"
#define PID "aaaaaaaaaaaaaaaa"

static vw_batch batch;

static int teardown(void **state)
{
    (void)state;
    vw_batch_free(&batch);
    return 0;
}

static vw_decode_status decode(const char *doc)
{
    vw_batch_free(&batch);
    return vw_decode_zipkin_json(doc, strlen(doc), &batch);
}

/* A list of one span with the given members after its ids (a leading comma each). */
static vw_decode_status decode_span(const char *members)
{
    static char doc[8192];
    snprintf(doc, sizeof doc, "[{\"traceId\":\"" TID "\",\"id\":\"" SID "\"%s}]", members);
    return decode(doc);
}

static const otelc_value *attr(const otelc_span_data *sd, const char *key)
{
    return otelc_attrs_find(sd->attrs, sd->attr_count, key);
}

static void assert_str_attr(const otelc_span_data *sd, const char *key, const char *want)
{
    const otelc_value *v = attr(sd, key);
    if (!v || v->type != OTELC_VALUE_STRING || strcmp(v->u.str.ptr, want) != 0)
        fail_msg("attribute %s: want \"%s\"", key, want);
}

static int zipkin_encode(otelc_buf *out, const otelc_span_data *const *spans, size_t n)
{
    return otelc__zipkin_encode(out, spans, n, "fallback");
}

/* ---- Round trip through libotelc's exporter --------------------------------------------- */

/*
 * What Zipkin keeps of an attribute: a string tag. The renderings of the
 * scenario's non-string values, as the specification's Zipkin mapping
 * asks (booleans and numbers as text, arrays as JSON lists).
 */
static const char *tag_text(const otelc_attr *a)
{
    static const char *const texts[][2] = {
        {"b", "true"},
        {"i", "-5"},
        {"d", "1.5"},
        {"sa", "[\"a\",\"b\\\"c\"]"},
        {"ba", "[true,false,true]"},
        {"ia", "[1,-1,9223372036854775807]"},
        {"da", "[0.25,-2]"},
        {"f", "false"},
        {"x", "1"},
    };
    if (a->value.type == OTELC_VALUE_STRING) return a->value.u.str.ptr;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(a->key, texts[i][0]) == 0) return texts[i][1];
    fail_msg("no rendering for attribute %s", a->key);
    return NULL;
}

/* want as the decoder must give it back after a trip through Zipkin. */
static void compare_zipkin(const otelc_span_data *want, const otelc_span_data *got)
{
    VC_CHECK(memcmp(want->context.trace_id, got->context.trace_id, 16) == 0, "trace id");
    VC_CHECK(memcmp(want->context.span_id, got->context.span_id, 8) == 0, "span id");
    /* Zipkin is sent sampled spans; the W3C random flag does not travel. */
    VC_CHECK(got->context.trace_flags == 1 && (want->context.trace_flags & 1), "flags");
    VC_CHECK(!got->context.trace_state, "trace state (Zipkin has none)");
    VC_CHECK(want->has_parent == got->has_parent, "has_parent");
    VC_CHECK(!want->has_parent || memcmp(want->parent_span_id, got->parent_span_id, 8) == 0,
             "parent");
    VC_CHECK(!got->parent_is_remote, "parent_is_remote (Zipkin does not say)");
    /* An INTERNAL span goes without a kind, which reads as unspecified. */
    VC_CHECK(got->kind == (want->kind == OTELC_SPAN_INTERNAL ? 0 : want->kind), "kind");
    VC_CHECK(vc_str_eq(want->name, got->name), "name");
    /* Microseconds; a duration under one reads as one. */
    uint64_t start = want->start_ns / 1000 * 1000, us = (want->end_ns - want->start_ns) / 1000;
    VC_CHECK(got->start_ns == start && got->end_ns == start + (us ? us : 1) * 1000, "times");
    VC_CHECK(want->attr_count == got->attr_count, "attribute count");
    for (uint32_t i = 0; i < want->attr_count; i++) {
        const otelc_attr *a = &want->attrs[i], *b = &got->attrs[i];
        VC_CHECK(strcmp(a->key, b->key) == 0 && b->value.type == OTELC_VALUE_STRING &&
                     strcmp(tag_text(a), b->value.u.str.ptr) == 0,
                 a->key);
    }
    VC_CHECK(want->dropped_attr_count == got->dropped_attr_count, "dropped attributes");
    VC_CHECK(want->event_count == got->event_count, "event count");
    for (uint32_t i = 0; i < want->event_count; i++) {
        const otelc_event_data *a = &want->events[i], *b = &got->events[i];
        VC_CHECK(vc_str_eq(a->name, b->name) && b->time_ns == a->time_ns / 1000 * 1000, "event");
        VC_CHECK(vc_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count), "event attributes");
        VC_CHECK(a->dropped_attr_count == b->dropped_attr_count, "event dropped attributes");
    }
    VC_CHECK(want->dropped_event_count == got->dropped_event_count, "dropped events");
    VC_CHECK(got->link_count == 0, "links (Zipkin has none)");
    VC_CHECK(want->dropped_link_count == got->dropped_link_count, "dropped links");
    VC_CHECK(want->status == got->status, "status");
    VC_CHECK(vc_str_eq(want->status_message, got->status_message), "status message");
    VC_CHECK(vc_str_eq(want->scope->name, got->scope->name), "scope name");
    VC_CHECK(vc_str_eq(want->scope->version, got->scope->version), "scope version");
    const otelc_value *svc = otelc_resource_get(want->resource, "service.name");
    const otelc_value *got_svc = otelc_resource_get(got->resource, "service.name");
    VC_CHECK(got_svc && strcmp(svc->u.str.ptr, got_svc->u.str.ptr) == 0, "service.name");
}

static void test_round_trip(void **state)
{
    (void)state;
    otlp_fx fx;
    otelc_buf out = {0};
    fx_build(&fx, zipkin_encode);
    assert_int_equal(otelc__zipkin_encode(&out, fx.spans, fx.count, "fallback"), OTELC_OK);
    assert_int_equal(vw_decode_zipkin_json(out.data, out.len, &batch), VW_DECODE_OK);
    assert_int_equal(batch.count, fx.count);
    assert_int_equal(batch.rejected, 0);
    for (size_t i = 0; i < fx.count; i++) {
        const otelc_span_data *want = fx.spans[i], *got = vc_find(batch.spans, batch.count, want);
        compare_zipkin(want, got);
        for (size_t k = 0; k < fx.count; k++) {
            const otelc_span_data *other = vc_find(batch.spans, batch.count, fx.spans[k]);
            assert_int_equal(want->resource == fx.spans[k]->resource,
                             got->resource == other->resource);
            assert_int_equal(want->scope == fx.spans[k]->scope, got->scope == other->scope);
        }
    }
    /* What the comparison covers is there. */
    const otelc_span_data *root = vc_find(batch.spans, batch.count, fx_find(&fx, "root"));
    assert_int_equal(root->status, OTELC_STATUS_ERROR);
    assert_string_equal(root->status_message, "boom");
    assert_int_equal(root->events[0].dropped_attr_count, 1);
    assert_int_equal(root->dropped_link_count, 1);
    otelc__buf_free(&out);
    fx_free(&fx);
}

/* ---- Lists per Zipkin's API and the Collector's translator --------------------------------- */

static void test_fields(void **state)
{
    (void)state;
    assert_int_equal(
        decode(
            "[{\"traceId\":\"463AC35C9F6413AD\",\"id\":\"" SID "\",\"parentId\":\"" PID "\","
            "\"name\":\"get /users\",\"kind\":\"CLIENT\",\"timestamp\":1700000000000001,"
            "\"duration\":\"250\",\"shared\":true,\"debug\":true,\"unknown\":{\"x\":[1]},"
            "\"localEndpoint\":{\"serviceName\":\"frontend\",\"ipv4\":\"10.0.0.1\",\"port\":8080},"
            "\"remoteEndpoint\":{\"serviceName\":\"users\",\"ipv6\":\"::1\",\"port\":443},"
            "\"annotations\":[{\"timestamp\":1700000000000002,\"value\":\"ws\"}],"
            "\"tags\":{\"http.method\":\"GET\",\"w3c.tracestate\":\"k=v\"}}]"),
        VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    const otelc_span_data *sd = &batch.spans[0];
    static const uint8_t tid[16] = {0,    0,    0,    0,    0,    0,    0,    0,
                                    0x46, 0x3a, 0xc3, 0x5c, 0x9f, 0x64, 0x13, 0xad};
    assert_memory_equal(sd->context.trace_id, tid, 16); /* 64 bits, left-padded */
    assert_true(sd->has_parent);
    assert_string_equal(sd->name, "get /users");
    assert_int_equal(sd->kind, OTELC_SPAN_CLIENT);
    assert_true(sd->start_ns == 1700000000000001000ull);
    assert_true(sd->end_ns == 1700000000000251000ull);
    assert_int_equal(sd->context.trace_flags, 1);
    assert_string_equal(sd->context.trace_state, "k=v");
    assert_int_equal(sd->attr_count, 6);
    assert_str_attr(sd, "http.method", "GET");
    assert_str_attr(sd, "network.local.address", "10.0.0.1");
    assert_int_equal(attr(sd, "network.local.port")->u.i, 8080);
    assert_str_attr(sd, "peer.service", "users");
    assert_str_attr(sd, "network.peer.address", "::1");
    assert_int_equal(attr(sd, "network.peer.port")->u.i, 443);
    assert_null(attr(sd, "w3c.tracestate"));
    assert_int_equal(sd->event_count, 1);
    assert_string_equal(sd->events[0].name, "ws");
    assert_true(sd->events[0].time_ns == 1700000000000002000ull);
    assert_string_equal(otelc_resource_get(sd->resource, "service.name")->u.str.ptr, "frontend");
    assert_string_equal(sd->scope->name, "");
    assert_int_equal(sd->status, OTELC_STATUS_UNSET);
}

static void test_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *members;
        otelc_span_kind kind;
        bool tag_kept;
    } cases[] = {
        {",\"kind\":\"SERVER\"", OTELC_SPAN_SERVER, false},
        {",\"kind\":\"PRODUCER\"", OTELC_SPAN_PRODUCER, false},
        {",\"kind\":\"CONSUMER\"", OTELC_SPAN_CONSUMER, false},
        {"", 0, false}, /* Zipkin's local span: unspecified */
        {",\"kind\":\"server\"", 0, false},
        {",\"tags\":{\"span.kind\":\"internal\"}", OTELC_SPAN_INTERNAL, false},
        {",\"tags\":{\"span.kind\":\"client\"}", 0, false},
        {",\"kind\":\"SERVER\",\"tags\":{\"span.kind\":\"internal\"}", OTELC_SPAN_SERVER, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(decode_span(cases[i].members), VW_DECODE_OK);
        if (batch.spans[0].kind != cases[i].kind) fail_msg("%s", cases[i].members);
        assert_int_equal(attr(&batch.spans[0], "span.kind") != NULL, cases[i].tag_kept);
    }
}

static void test_times(void **state)
{
    (void)state;
    /* No timestamp: start 0, and the Collector's mark. */
    assert_int_equal(decode_span(",\"duration\":5"), VW_DECODE_OK);
    const otelc_span_data *sd = &batch.spans[0];
    assert_true(sd->start_ns == 0 && sd->end_ns == 5000);
    const otelc_value *mark = attr(sd, "otel.zipkin.absentField.startTime");
    assert_true(mark && mark->type == OTELC_VALUE_BOOL && mark->u.b);
    assert_int_equal(decode_span(",\"timestamp\":1"), VW_DECODE_OK);
    assert_true(batch.spans[0].start_ns == 1000 && batch.spans[0].end_ns == 1000);
    assert_null(attr(&batch.spans[0], "otel.zipkin.absentField.startTime"));
}

static void test_status_tags(void **state)
{
    (void)state;
    static const struct {
        const char *tags;
        otelc_status_code code;
        const char *message;
        bool error_attr;
    } cases[] = {
        {"{\"otel.status_code\":\"ERROR\",\"otel.status_description\":\"bad\"}", OTELC_STATUS_ERROR,
         "bad", false},
        {"{\"otel.status_code\":\"OK\"}", OTELC_STATUS_OK, NULL, false},
        {"{\"otel.status_code\":\"STATUS_CODE_OK\"}", OTELC_STATUS_OK, NULL, false},
        {"{\"otel.status_code\":\"Error\"}", OTELC_STATUS_ERROR, NULL, false},
        {"{\"otel.status_code\":\"UNSET\"}", OTELC_STATUS_UNSET, NULL, false},
        {"{\"otel.status_code\":\"weird\"}", OTELC_STATUS_UNSET, NULL, false},
        {"{\"otel.status_description\":\"alone\"}", OTELC_STATUS_UNSET, NULL, false},
        {"{\"error\":\"connection refused\"}", OTELC_STATUS_ERROR, "connection refused", false},
        {"{\"error\":\"true\"}", OTELC_STATUS_ERROR, NULL, false},
        {"{\"error\":\"\"}", OTELC_STATUS_ERROR, NULL, false},
        {"{\"error\":\"false\"}", OTELC_STATUS_ERROR, "false", false}, /* any error tag fails */
        {"{\"otel.status_code\":\"ERROR\",\"otel.status_description\":\"d\",\"error\":\"e\"}",
         OTELC_STATUS_ERROR, "d", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char members[512];
        snprintf(members, sizeof members, ",\"tags\":%s", cases[i].tags);
        assert_int_equal(decode_span(members), VW_DECODE_OK);
        const otelc_span_data *sd = &batch.spans[0];
        if (sd->status != cases[i].code || !vc_str_eq(sd->status_message, cases[i].message))
            fail_msg("%s: status %d \"%s\"", cases[i].tags, sd->status,
                     sd->status_message ? sd->status_message : "(null)");
        assert_int_equal(sd->attr_count, 1); /* only the absent-start mark */
    }
}

static void test_scope_and_dropped_tags(void **state)
{
    (void)state;
    assert_int_equal(
        decode_span(",\"tags\":{\"otel.library.name\":\"old\",\"otel.library.version\":"
                    "\"0.1\",\"otel.dropped_attributes_count\":\"3\","
                    "\"otel.dropped_events_count\":\"4\",\"otel.dropped_links_count\":"
                    "\"5\",\"otel.dropped_other\":\"6\"}"),
        VW_DECODE_OK);
    const otelc_span_data *sd = &batch.spans[0];
    assert_string_equal(sd->scope->name, "old");
    assert_string_equal(sd->scope->version, "0.1");
    assert_int_equal(sd->dropped_attr_count, 3);
    assert_int_equal(sd->dropped_event_count, 4);
    assert_int_equal(sd->dropped_link_count, 5);
    assert_str_attr(sd, "otel.dropped_other", "6");
    /* otel.scope.* win over the deprecated otel.library.*; a count that is none stays a tag. */
    assert_int_equal(decode_span(",\"tags\":{\"otel.library.name\":\"old\",\"otel.scope.name\":"
                                 "\"new\",\"otel.dropped_events_count\":\"many\"}"),
                     VW_DECODE_OK);
    assert_string_equal(batch.spans[0].scope->name, "new");
    assert_null(batch.spans[0].scope->version);
    assert_str_attr(&batch.spans[0], "otel.dropped_events_count", "many");
}

static void test_annotations(void **state)
{
    (void)state;
    assert_int_equal(
        decode_span(
            ",\"annotations\":["
            "{\"timestamp\":1,\"value\":\"plain\"},"
            "{\"timestamp\":2,\"value\":\"\\\"cache miss\\\":{\\\"k\\\":\\\"v\\\",\\\"n\\\":3,"
            "\\\"d\\\":1.5,\\\"b\\\":true,\\\"a\\\":[1,2],\\\"m\\\":{\\\"x\\\":null},"
            "\\\"otel.dropped_attributes_count\\\":2}\"},"
            "{\"timestamp\":3,\"value\":\"retry|{\\\"attempt\\\":2}|7\"},"
            "{\"timestamp\":4,\"value\":\"a|b|c\"},"
            "{\"timestamp\":5,\"value\":\"\\\"not\\\":{closed\"},"
            "{\"value\":\"no time\"}]"),
        VW_DECODE_OK);
    const otelc_span_data *sd = &batch.spans[0];
    assert_int_equal(sd->event_count, 6);
    const otelc_event_data *e = sd->events;
    assert_string_equal(e[0].name, "plain");
    assert_int_equal(e[0].attr_count, 0);
    assert_int_equal(e[0].time_ns, 1000);
    /* OpenTelemetry's form: "name":{attributes}. */
    assert_string_equal(e[1].name, "cache miss");
    assert_int_equal(e[1].attr_count, 6);
    assert_string_equal(e[1].attrs[0].value.u.str.ptr, "v");
    assert_true(e[1].attrs[1].value.type == OTELC_VALUE_INT && e[1].attrs[1].value.u.i == 3);
    assert_true(e[1].attrs[2].value.type == OTELC_VALUE_DOUBLE && e[1].attrs[2].value.u.d == 1.5);
    assert_true(e[1].attrs[3].value.type == OTELC_VALUE_BOOL);
    assert_int_equal(e[1].attrs[4].value.type, OTELC_VALUE_INT_ARRAY);
    assert_int_equal(e[1].attrs[5].value.type, OTELC_VALUE_MAP);
    assert_int_equal(e[1].dropped_attr_count, 2);
    /* The Collector's form: name|{attributes}|dropped. */
    assert_string_equal(e[2].name, "retry");
    assert_int_equal(e[2].attr_count, 1);
    assert_string_equal(e[2].attrs[0].key, "attempt");
    assert_int_equal(e[2].dropped_attr_count, 7);
    /* Neither form: the text is the name. */
    assert_string_equal(e[3].name, "a|b|c");
    assert_string_equal(e[4].name, "\"not\":{closed");
    assert_string_equal(e[5].name, "no time");
    assert_int_equal(e[5].time_ns, 0);
}

static void test_resources(void **state)
{
    (void)state;
    assert_int_equal(
        decode("["
               "{\"traceId\":\"" TID "\",\"id\":\"0000000000000001\",\"localEndpoint\":{"
               "\"serviceName\":\"a\"},\"tags\":{\"host.name\":\"h1\",\"service.namespace\":\"ns\","
               "\"faas.name\":\"f\",\"faas.trigger\":\"http\",\"telemetry.sdk.language\":\"go\","
               "\"otel.scope.name\":\"s1\"}},"
               "{\"traceId\":\"" TID "\",\"id\":\"0000000000000002\",\"localEndpoint\":{"
               "\"serviceName\":\"a\"},\"tags\":{\"host.name\":\"h1\",\"service.namespace\":\"ns\","
               "\"faas.name\":\"f\",\"telemetry.sdk.language\":\"go\",\"otel.scope.name\":\"s1\"}},"
               "{\"traceId\":\"" TID "\",\"id\":\"0000000000000003\",\"localEndpoint\":{"
               "\"serviceName\":\"a\"},\"tags\":{\"host.name\":\"h2\",\"otel.scope.name\":\"s1\"}},"
               "{\"traceId\":\"" TID "\",\"id\":\"0000000000000004\",\"localEndpoint\":{"
               "\"serviceName\":\"b\"}},"
               "{\"traceId\":\"" TID "\",\"id\":\"0000000000000005\",\"tags\":{\"service.name\":"
               "\"tagged\"}},"
               "{\"traceId\":\"" TID "\",\"id\":\"0000000000000006\",\"localEndpoint\":{"
               "\"serviceName\":\"a\"},\"tags\":{\"host.name\":\"h1\",\"service.namespace\":\"ns\","
               "\"faas.name\":\"f\",\"telemetry.sdk.language\":\"go\",\"otel.scope.name\":\"s2\"}}"
               "]"),
        VW_DECODE_OK);
    assert_int_equal(batch.count, 6);
    const otelc_span_data *s = batch.spans;
    size_t n;
    const otelc_attr *ra = otelc_resource_attrs(s[0].resource, &n);
    assert_int_equal(n, 5);
    assert_string_equal(ra[0].key, "service.name");
    assert_string_equal(ra[0].value.u.str.ptr, "a");
    assert_string_equal(otelc_resource_get(s[0].resource, "host.name")->u.str.ptr, "h1");
    assert_string_equal(otelc_resource_get(s[0].resource, "service.namespace")->u.str.ptr, "ns");
    assert_non_null(otelc_resource_get(s[0].resource, "faas.name"));
    assert_non_null(otelc_resource_get(s[0].resource, "telemetry.sdk.language"));
    assert_str_attr(&s[0], "faas.trigger", "http"); /* a span attribute */
    assert_null(attr(&s[0], "host.name"));
    assert_ptr_equal(s[0].resource, s[1].resource); /* same service, same resource tags */
    assert_ptr_equal(s[0].scope, s[1].scope);
    assert_true(s[2].resource != s[0].resource); /* another host */
    assert_true(s[2].scope != s[0].scope);
    assert_true(s[3].resource != s[0].resource);
    assert_string_equal(otelc_resource_get(s[3].resource, "service.name")->u.str.ptr, "b");
    assert_string_equal(otelc_resource_get(s[4].resource, "service.name")->u.str.ptr, "tagged");
    assert_ptr_equal(s[5].resource, s[0].resource);
    assert_true(s[5].scope != s[0].scope); /* another scope of the same resource */
    assert_string_equal(s[5].scope->name, "s2");
    assert_int_equal(batch.resource_count, 4);
}

static void test_parents(void **state)
{
    (void)state;
    assert_int_equal(decode_span(",\"parentId\":\"" SID "\""), VW_DECODE_OK); /* itself */
    assert_false(batch.spans[0].has_parent);
    assert_int_equal(decode_span(",\"parentId\":\"0000000000000000\""), VW_DECODE_OK);
    assert_false(batch.spans[0].has_parent);
    assert_int_equal(decode_span(",\"parentId\":\"\""), VW_DECODE_OK);
    assert_false(batch.spans[0].has_parent);
    assert_int_equal(decode_span(",\"parentId\":null"), VW_DECODE_OK);
    assert_false(batch.spans[0].has_parent);
    assert_int_equal(decode_span(",\"tags\":{\"peer.service\":\"tagged\"},\"remoteEndpoint\":{"
                                 "\"serviceName\":\"endpoint\"}"),
                     VW_DECODE_OK);
    assert_str_attr(&batch.spans[0], "peer.service", "tagged"); /* the tag wins */
}

static void test_invalid_spans_rejected(void **state)
{
    (void)state;
    assert_int_equal(decode("[{\"id\":\"" SID "\"},"
                            "{\"traceId\":\"" TID "\"},"
                            "{\"traceId\":\"5b8efff798038103d269\",\"id\":\"" SID "\"},"
                            "{\"traceId\":\"5b8efff798038103d269b633813fc60x\",\"id\":\"" SID "\"},"
                            "{\"traceId\":\"0000000000000000\",\"id\":\"" SID "\"},"
                            "{\"traceId\":\"" TID "\",\"id\":\"eee19b7e\"},"
                            "{\"traceId\":\"" TID "\",\"id\":\"0000000000000000\"},"
                            "{\"traceId\":\"" TID "\",\"id\":\"" SID "\",\"parentId\":\"abc\"},"
                            "{\"traceId\":\"" TID "\",\"id\":\"" SID "\",\"name\":\"kept\"}]"),
                     VW_DECODE_OK);
    assert_int_equal(batch.rejected, 8);
    assert_string_equal(batch.reject_reason, "spans[0]: traceId is missing");
    assert_int_equal(batch.count, 1);
    assert_string_equal(batch.spans[0].name, "kept");
    assert_int_equal(batch.resource_count, 1);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const docs[] = {"", "{}", "\"spans\"", "[1]", "[[]]", "[{}", "[{}] x"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        if (decode(docs[i]) != VW_DECODE_INVALID) fail_msg("accepted: %s", docs[i]);
    static const char *const members[] = {
        ",\"name\":5",
        ",\"kind\":2",
        ",\"timestamp\":\"x\"",
        ",\"timestamp\":-1",
        ",\"timestamp\":1.5",
        ",\"timestamp\":18446744073709552",
        ",\"timestamp\":18446744073709551,\"duration\":18446744073709551",
        ",\"duration\":true",
        ",\"tags\":[]",
        ",\"tags\":{\"n\":5}",
        ",\"tags\":{\"n\":null}",
        ",\"localEndpoint\":\"x\"",
        ",\"localEndpoint\":{\"serviceName\":1}",
        ",\"localEndpoint\":{\"ipv4\":[]}",
        ",\"remoteEndpoint\":{\"port\":70000}",
        ",\"remoteEndpoint\":{\"port\":\"http\"}",
        ",\"annotations\":{}",
        ",\"annotations\":[1]",
        ",\"annotations\":[{\"value\":5}]",
        ",\"annotations\":[{\"timestamp\":\"soon\"}]",
        ",\"parentId\":1",
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (decode_span(members[i]) != VW_DECODE_INVALID) fail_msg("accepted: %s", members[i]);
    assert_int_equal(decode("[{\"traceId\":1,\"id\":\"" SID "\"}]"), VW_DECODE_INVALID);
    /* The empty list is a list. */
    assert_int_equal(decode(" [ ] "), VW_DECODE_OK);
    assert_int_equal(batch.count, 0);
}

static void test_bounds(void **state)
{
    (void)state;
    static const char span[] = "{\"traceId\":\"" TID "\",\"id\":\"" SID "\"},";
    size_t n = VW_MAX_SPANS_PER_REQUEST + 1;
    char *doc = malloc(n * (sizeof span - 1) + 8), *w = doc;
    *w++ = '[';
    for (size_t i = 0; i < n; i++) w = memcpy(w, span, sizeof span - 1), w += sizeof span - 1;
    strcpy(w - 1, "]");
    assert_int_equal(vw_decode_zipkin_json(doc, strlen(doc), &batch), VW_DECODE_TOO_BIG);
    vw_batch_free(&batch);
    strcpy(w - 1 - (sizeof span - 1), "]");
    assert_int_equal(vw_decode_zipkin_json(doc, strlen(doc), &batch), VW_DECODE_OK);
    assert_int_equal(batch.count, VW_MAX_SPANS_PER_REQUEST);
    assert_int_equal(batch.resource_count, 1);
    free(doc);
    /* Nesting past any Zipkin span's depth, in an unknown field. */
    char junk[300] = ",\"x\":";
    memset(junk + 5, '[', 100);
    memset(junk + 105, ']', 100);
    junk[205] = '\0';
    assert_int_equal(decode_span(junk), VW_DECODE_TOO_BIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_round_trip, teardown),
        cmocka_unit_test_teardown(test_fields, teardown),
        cmocka_unit_test_teardown(test_kinds, teardown),
        cmocka_unit_test_teardown(test_times, teardown),
        cmocka_unit_test_teardown(test_status_tags, teardown),
        cmocka_unit_test_teardown(test_scope_and_dropped_tags, teardown),
        cmocka_unit_test_teardown(test_annotations, teardown),
        cmocka_unit_test_teardown(test_resources, teardown),
        cmocka_unit_test_teardown(test_parents, teardown),
        cmocka_unit_test_teardown(test_invalid_spans_rejected, teardown),
        cmocka_unit_test_teardown(test_malformed, teardown),
        cmocka_unit_test_teardown(test_bounds, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
