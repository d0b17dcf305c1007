/*
 * test_view_decode_json.c - the viewer's OTLP/JSON decoder (viewer/decode_json.c):
 * spans recorded by the SDK and encoded by libotelc's OTLP/JSON encoder
 * come back field by field; hand-written documents per opentelemetry-proto's
 * "JSON Protobuf Encoding" (64-bit integers as strings and numbers past
 * 2^53, enum numbers and names, bytes, nested values, unknown and snake_case
 * keys ignored); invalid spans are rejected one by one, malformed
 * documents whole, and the text's own errors before the decoder's; members
 * in any order; the request inside a member; the JSON response reads back
 * with libotelc's reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "decode_json.h"
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
    return vw_decode_otlp_json(doc, strlen(doc), &batch);
}

/* A request of one span with the given members after its ids (a leading comma each). */
static vw_decode_status decode_span(const char *members)
{
    static char doc[8192];
    snprintf(doc, sizeof doc,
             "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" TID
             "\",\"spanId\":\"" SID "\"%s}]}]}]}",
             members);
    return decode(doc);
}

/* The first attribute of the only span, after decoding value as its AnyValue. */
static const otelc_value *decode_value(const char *value)
{
    static char members[4096];
    snprintf(members, sizeof members, ",\"attributes\":[{\"key\":\"k\",\"value\":%s}]", value);
    assert_int_equal(decode_span(members), VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    assert_int_equal(batch.spans[0].attr_count, 1);
    return &batch.spans[0].attrs[0].value;
}

/* ---- Round trip through libotelc's encoder ------------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    otlp_fx fx;
    otelc_buf out = {0};
    fx_build(&fx, otelc__otlp_encode_json);
    assert_int_equal(otelc__otlp_encode_json(&out, fx.spans, fx.count), OTELC_OK);
    assert_int_equal(vw_decode_otlp_json(out.data, out.len, &batch), VW_DECODE_OK);
    assert_int_equal(batch.count, fx.count);
    assert_int_equal(batch.rejected, 0);
    for (size_t i = 0; i < fx.count; i++) {
        const otelc_span_data *want = fx.spans[i], *got = vc_find(batch.spans, batch.count, want);
        vc_span(want, got);
        /* Scope and resource: the same content, and shared exactly as the sender grouped. */
        assert_string_equal(got->scope->name, want->scope->name);
        assert_true(vc_str_eq(got->scope->version, want->scope->version));
        assert_true(vc_str_eq(got->scope->schema_url, want->scope->schema_url));
        size_t na, nb;
        const otelc_attr *ra = otelc_resource_attrs(want->resource, &na);
        const otelc_attr *rb = otelc_resource_attrs(got->resource, &nb);
        assert_true(vc_attrs_eq(ra, na, rb, nb));
        assert_true(vc_str_eq(otelc_resource_schema_url(want->resource),
                              otelc_resource_schema_url(got->resource)));
        for (size_t k = 0; k < fx.count; k++) {
            const otelc_span_data *other = vc_find(batch.spans, batch.count, fx.spans[k]);
            assert_int_equal(want->scope == fx.spans[k]->scope, got->scope == other->scope);
            assert_int_equal(want->resource == fx.spans[k]->resource,
                             got->resource == other->resource);
        }
    }
    /* The scenario has what the comparison must cover. */
    const otelc_span_data *root = vc_find(batch.spans, batch.count, fx_find(&fx, "root"));
    assert_int_equal(root->attrs[6].value.type, OTELC_VALUE_INT_ARRAY);
    assert_true(((const int64_t *)root->attrs[6].value.u.array.items)[2] == INT64_MAX);
    assert_int_equal(root->link_count, 1);
    assert_true(root->links[0].context.is_remote);
    assert_true(vc_find(batch.spans, batch.count, fx_find(&fx, "remote-child"))->parent_is_remote);
    otelc__buf_free(&out);
    fx_free(&fx);
}

/* Every AnyValue kind, nested, through the encoder and back (a span built by hand). */
static void test_round_trip_any_values(void **state)
{
    (void)state;
    static const char bytes[] = {0, 1, (char)0xff};
    static const otelc_value items[] = {
        {.type = OTELC_VALUE_STRING, .u.str = {"s", 1}},
        {.type = OTELC_VALUE_INT, .u.i = INT64_MIN},
        {.type = OTELC_VALUE_EMPTY},
        {.type = OTELC_VALUE_BYTES, .u.str = {bytes, 3}},
    };
    static const otelc_attr inner[] = {
        {"list", {.type = OTELC_VALUE_ARRAY, .u.array = {items, 4}}},
        {"d", {.type = OTELC_VALUE_DOUBLE, .u.d = -0.5}},
    };
    static const otelc_attr map[] = {{"inner", {.type = OTELC_VALUE_MAP, .u.array = {inner, 2}}}};
    const otelc_attr attrs[] = {
        {"bytes", {.type = OTELC_VALUE_BYTES, .u.str = {bytes, 3}}},
        {"map", {.type = OTELC_VALUE_MAP, .u.array = {map, 1}}},
        {"mixed", {.type = OTELC_VALUE_ARRAY, .u.array = {items, 4}}},
        {"empty", {.type = OTELC_VALUE_EMPTY}},
        {"nul", {.type = OTELC_VALUE_STRING, .u.str = {"a\0b", 3}}},
    };
    otelc_scope_info scope = {.name = "hand", .attrs = inner + 1, .attr_count = 1};
    otelc_resource *res = otelc_resource_new(map, 1, NULL);
    otelc_span_data want = {.name = "by hand",
                            .kind = OTELC_SPAN_CLIENT,
                            .start_ns = 1,
                            .end_ns = UINT64_MAX,
                            .attrs = attrs,
                            .attr_count = 5,
                            .scope = &scope,
                            .resource = res};
    memset(want.context.trace_id, 0xab, 16);
    memset(want.context.span_id, 0xcd, 8);
    const otelc_span_data *list[] = {&want};
    otelc_buf out = {0};
    assert_int_equal(otelc__otlp_encode_json(&out, list, 1), OTELC_OK);
    assert_int_equal(vw_decode_otlp_json(out.data, out.len, &batch), VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    vc_span(&want, &batch.spans[0]);
    const otelc_scope_info *got = batch.spans[0].scope;
    assert_true(vc_attrs_eq(scope.attrs, scope.attr_count, got->attrs, got->attr_count));
    size_t n;
    const otelc_attr *ra = otelc_resource_attrs(batch.spans[0].resource, &n);
    assert_true(vc_attrs_eq(map, 1, ra, n));
    otelc_resource_free(res);
    otelc__buf_free(&out);
}

/* ---- Documents per the specification --------------------------------------------------- */

static void test_whole_document(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"resourceSpans\":[{"
        "  "
        "\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
        "\"svc\"}}],"
        "                \"droppedAttributesCount\":2},"
        "  \"schemaUrl\":\"https://res\","
        "  \"scopeSpans\":[{"
        "    \"scope\":{\"name\":\"lib\",\"version\":\"1.0\",\"droppedAttributesCount\":\"3\","
        "               \"attributes\":[{\"key\":\"sa\",\"value\":{\"boolValue\":true}}]},"
        "    \"schemaUrl\":\"https://scope\","
        "    \"spans\":[{"
        "      \"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"EEE19B7EC3C1B174\","
        "      \"parentSpanId\":\"" PID "\",\"traceState\":\"k=v\",\"flags\":769,"
        "      \"name\":\"GET\",\"kind\":2,"
        "      "
        "\"startTimeUnixNano\":1700000000000000001,\"endTimeUnixNano\":\"18446744073709551615\","
        "      \"droppedAttributesCount\":4,\"droppedEventsCount\":5,\"droppedLinksCount\":6,"
        "      \"events\":[{\"timeUnixNano\":\"1700000000000000002\",\"name\":\"ev\","
        "                   \"attributes\":[{\"key\":\"e\",\"value\":{\"intValue\":7}}],"
        "                   \"droppedAttributesCount\":1}],"
        "      \"links\":[{\"traceId\":\"" TID "\",\"spanId\":\"" PID "\",\"traceState\":\"l=1\","
        "                  \"flags\":257,\"droppedAttributesCount\":8}],"
        "      \"status\":{\"code\":2,\"message\":\"boom\"}"
        "    }]"
        "  }]"
        "}]}";
    assert_int_equal(decode(doc), VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    const otelc_span_data *sd = &batch.spans[0];
    uint8_t tid[16], sid[8], pid[8];
    assert_true(vw_hex_decode(TID, 32, tid) && vw_hex_decode(SID, 16, sid));
    assert_true(vw_hex_decode(PID, 16, pid));
    assert_memory_equal(sd->context.trace_id, tid, 16); /* upper-case hex is hex too */
    assert_memory_equal(sd->context.span_id, sid, 8);
    assert_true(sd->has_parent && sd->parent_is_remote); /* 769 = 0x301 */
    assert_memory_equal(sd->parent_span_id, pid, 8);
    assert_int_equal(sd->context.trace_flags, 1);
    assert_string_equal(sd->context.trace_state, "k=v");
    assert_string_equal(sd->name, "GET");
    assert_int_equal(sd->kind, OTELC_SPAN_SERVER);
    /* Past 2^53 as a number, and UINT64_MAX as a string: both exact. */
    assert_true(sd->start_ns == 1700000000000000001ull);
    assert_true(sd->end_ns == UINT64_MAX);
    assert_int_equal(sd->dropped_attr_count, 4);
    assert_int_equal(sd->dropped_event_count, 5);
    assert_int_equal(sd->dropped_link_count, 6);
    assert_int_equal(sd->event_count, 1);
    assert_true(sd->events[0].time_ns == 1700000000000000002ull);
    assert_string_equal(sd->events[0].name, "ev");
    assert_int_equal(sd->events[0].attrs[0].value.u.i, 7);
    assert_int_equal(sd->events[0].dropped_attr_count, 1);
    assert_int_equal(sd->link_count, 1);
    assert_memory_equal(sd->links[0].context.trace_id, tid, 16);
    assert_memory_equal(sd->links[0].context.span_id, pid, 8);
    assert_string_equal(sd->links[0].context.trace_state, "l=1");
    assert_int_equal(sd->links[0].context.trace_flags, 1);
    assert_false(sd->links[0].context.is_remote); /* 257 = 0x101: known to be local */
    assert_int_equal(sd->links[0].dropped_attr_count, 8);
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(sd->status_message, "boom");
    assert_string_equal(sd->scope->name, "lib");
    assert_string_equal(sd->scope->version, "1.0");
    assert_string_equal(sd->scope->schema_url, "https://scope");
    assert_int_equal(sd->scope->attr_count, 1);
    assert_string_equal(sd->scope->attrs[0].key, "sa");
    assert_true(sd->scope->attrs[0].value.u.b);
    assert_int_equal(sd->scope->dropped_attr_count, 3);
    const otelc_value *svc = otelc_resource_get(sd->resource, "service.name");
    assert_non_null(svc);
    assert_string_equal(svc->u.str.ptr, "svc");
    assert_string_equal(otelc_resource_schema_url(sd->resource), "https://res");
    assert_int_equal(otelc__resource_dropped_count(sd->resource), 2);
}

static void test_int64_strings_and_numbers(void **state)
{
    (void)state;
    /* 2^53 + 1: a double would read 2^53. */
    assert_true(decode_value("{\"intValue\":\"9007199254740993\"}")->u.i == 9007199254740993LL);
    assert_true(decode_value("{\"intValue\":9007199254740993}")->u.i == 9007199254740993LL);
    assert_true(decode_value("{\"intValue\":\"-9223372036854775808\"}")->u.i == INT64_MIN);
    assert_true(decode_value("{\"intValue\":-9223372036854775808}")->u.i == INT64_MIN);
    assert_true(decode_value("{\"intValue\":1e3}")->u.i == 1000);
    assert_int_equal(decode_span(",\"startTimeUnixNano\":\"18446744073709551615\""), VW_DECODE_OK);
    assert_true(batch.spans[0].start_ns == UINT64_MAX);
    assert_int_equal(decode_span(",\"startTimeUnixNano\":18446744073709551615"), VW_DECODE_OK);
    assert_true(batch.spans[0].start_ns == UINT64_MAX);
}

static void test_enums(void **state)
{
    (void)state;
    static const struct {
        const char *member;
        otelc_span_kind kind;
    } kinds[] = {
        {",\"kind\":0", 0}, /* unspecified stays 0 */
        {",\"kind\":5", OTELC_SPAN_CONSUMER},
        {",\"kind\":\"5\"", 0}, /* a string is a name, and "5" names nothing */
        {",\"kind\":9", 0},     /* unknown numbers read as unspecified */
        {",\"kind\":-1", 0},
        {",\"kind\":\"SPAN_KIND_CLIENT\"", OTELC_SPAN_CLIENT},
        {",\"kind\":\"SPAN_KIND_INTERNAL\"", OTELC_SPAN_INTERNAL},
        {",\"kind\":\"SPAN_KIND_NEW\"", 0},
        {",\"kind\":null", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        assert_int_equal(decode_span(kinds[i].member), VW_DECODE_OK);
        if (batch.spans[0].kind != kinds[i].kind) fail_msg("%s", kinds[i].member);
    }
    assert_int_equal(decode_span(",\"status\":{\"code\":\"STATUS_CODE_OK\"}"), VW_DECODE_OK);
    assert_int_equal(batch.spans[0].status, OTELC_STATUS_OK);
    assert_int_equal(decode_span(",\"status\":{\"code\":1,\"message\":\"fine\"}"), VW_DECODE_OK);
    assert_int_equal(batch.spans[0].status, OTELC_STATUS_OK);
    assert_string_equal(batch.spans[0].status_message, "fine"); /* kept, as decode_proto does */
    assert_int_equal(decode_span(",\"status\":{\"code\":7}"), VW_DECODE_OK);
    assert_int_equal(batch.spans[0].status, OTELC_STATUS_UNSET);
    assert_int_equal(decode_span(",\"status\":{}"), VW_DECODE_OK);
    assert_int_equal(batch.spans[0].status, OTELC_STATUS_UNSET);
    assert_null(batch.spans[0].status_message);
}

static void test_values(void **state)
{
    (void)state;
    const otelc_value *v = decode_value("{\"stringValue\":\"a\\u0000b\"}");
    assert_int_equal(v->type, OTELC_VALUE_STRING);
    assert_int_equal(v->u.str.len, 3);
    assert_memory_equal(v->u.str.ptr, "a\0b", 3);
    v = decode_value("{\"boolValue\":false}");
    assert_true(v->type == OTELC_VALUE_BOOL && !v->u.b);
    v = decode_value("{\"doubleValue\":2}");
    assert_true(v->type == OTELC_VALUE_DOUBLE && v->u.d == 2.0);
    assert_true(decode_value("{\"doubleValue\":\"1.5\"}")->u.d == 1.5);
    assert_true(isnan(decode_value("{\"doubleValue\":\"NaN\"}")->u.d));
    assert_true(decode_value("{\"doubleValue\":\"Infinity\"}")->u.d == INFINITY);
    assert_true(decode_value("{\"doubleValue\":\"-Infinity\"}")->u.d == -INFINITY);
    /* bytes: base64, standard or URL-safe, padded or not. */
    static const char bytes[] = {0, 1, 2, (char)0xfb, (char)0xff};
    static const char *const b64[] = {"\"AAEC+/8=\"", "\"AAEC-_8\"", "\"AAEC+/8\""};
    for (size_t i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"bytesValue\":%s}", b64[i]);
        v = decode_value(text);
        assert_int_equal(v->type, OTELC_VALUE_BYTES);
        assert_int_equal(v->u.str.len, 5);
        assert_memory_equal(v->u.str.ptr, bytes, 5);
    }
    assert_int_equal(decode_value("{\"bytesValue\":\"\"}")->u.str.len, 0);
    /* The empty AnyValue. */
    assert_int_equal(decode_value("{}")->type, OTELC_VALUE_EMPTY);
    assert_int_equal(decode_value("{\"stringValue\":null}")->type, OTELC_VALUE_EMPTY);
    /* Several members of the oneof: the last one wins. */
    v = decode_value("{\"stringValue\":\"s\",\"intValue\":\"3\"}");
    assert_true(v->type == OTELC_VALUE_INT && v->u.i == 3);
}

static void test_arrays_and_maps(void **state)
{
    (void)state;
    const otelc_value *v = decode_value(
        "{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"stringValue\":\"b\"}]}}");
    assert_int_equal(v->type, OTELC_VALUE_STRING_ARRAY);
    assert_int_equal(v->u.array.count, 2);
    assert_string_equal(((const char *const *)v->u.array.items)[1], "b");
    v = decode_value("{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"intValue\":2}]}}");
    assert_int_equal(v->type, OTELC_VALUE_INT_ARRAY);
    assert_true(((const int64_t *)v->u.array.items)[1] == 2);
    v = decode_value("{\"arrayValue\":{\"values\":[{\"boolValue\":true}]}}");
    assert_int_equal(v->type, OTELC_VALUE_BOOL_ARRAY);
    v = decode_value("{\"arrayValue\":{\"values\":[{\"doubleValue\":0.5}]}}");
    assert_int_equal(v->type, OTELC_VALUE_DOUBLE_ARRAY);
    /* Mixed, empty, or holding a string with a NUL: the general array. */
    v = decode_value(
        "{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"intValue\":\"1\"},{}]}}");
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    assert_int_equal(v->u.array.count, 3);
    const otelc_value *items = v->u.array.items;
    assert_int_equal(items[1].type, OTELC_VALUE_INT);
    assert_int_equal(items[2].type, OTELC_VALUE_EMPTY);
    v = decode_value("{\"arrayValue\":{}}");
    assert_true(v->type == OTELC_VALUE_ARRAY && v->u.array.count == 0);
    v = decode_value("{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\\u0000\"}]}}");
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    /* Maps nest arrays and maps. */
    v = decode_value("{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":{\"kvlistValue\":{"
                     "\"values\":[{\"key\":\"y\",\"value\":{\"arrayValue\":{\"values\":["
                     "{\"bytesValue\":\"AA==\"}]}}}]}}},{\"key\":\"z\"}]}}");
    assert_int_equal(v->type, OTELC_VALUE_MAP);
    assert_int_equal(v->u.array.count, 2);
    const otelc_attr *kv = v->u.array.items;
    assert_string_equal(kv[0].key, "x");
    assert_int_equal(kv[0].value.type, OTELC_VALUE_MAP);
    const otelc_attr *inner = kv[0].value.u.array.items;
    assert_string_equal(inner[0].key, "y");
    assert_int_equal(inner[0].value.type, OTELC_VALUE_ARRAY); /* bytes have no typed array */
    assert_string_equal(kv[1].key, "z");
    assert_int_equal(kv[1].value.type, OTELC_VALUE_EMPTY); /* a KeyValue without value */
}

/* Arrays nested depth deep around a string, as one attribute's AnyValue. */
static char *nested(int depth, const char *open, const char *close)
{
    size_t n = strlen(open) + strlen(close);
    char *s = malloc((size_t)depth * n + 64), *w = s;
    for (int i = 0; i < depth; i++) w += sprintf(w, "%s", open);
    w += sprintf(w, "{\"stringValue\":\"x\"}");
    for (int i = 0; i < depth; i++) w += sprintf(w, "%s", close);
    return s;
}

static void test_depth_bound(void **state)
{
    (void)state;
    static const char *const kinds[][2] = {
        {"{\"arrayValue\":{\"values\":[", "]}}"},
        {"{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":", "}]}}"},
    };
    for (size_t k = 0; k < 2; k++) {
        char *ok = nested(VW_MAX_VALUE_DEPTH, kinds[k][0], kinds[k][1]);
        char *deep = nested(VW_MAX_VALUE_DEPTH + 1, kinds[k][0], kinds[k][1]);
        char *members = malloc(strlen(deep) + 64);
        sprintf(members, ",\"attributes\":[{\"key\":\"k\",\"value\":%s}]", ok);
        assert_int_equal(decode_span(members), VW_DECODE_OK);
        sprintf(members, ",\"attributes\":[{\"key\":\"k\",\"value\":%s}]", deep);
        assert_int_equal(decode_span(members), VW_DECODE_TOO_BIG);
        /* In an event, too. */
        sprintf(members, ",\"events\":[{\"attributes\":[{\"key\":\"k\",\"value\":%s}]}]", deep);
        assert_int_equal(decode_span(members), VW_DECODE_TOO_BIG);
        free(ok);
        free(deep);
        free(members);
    }
    /* JSON nested past any request's depth in an unknown field: refused as too big. */
    char junk[1200] = ",\"x\":";
    size_t at = strlen(junk);
    memset(junk + at, '[', 500);
    memset(junk + at + 500, ']', 500);
    junk[at + 1000] = '\0';
    assert_int_equal(decode_span(junk), VW_DECODE_TOO_BIG);
}

static void test_span_bound(void **state)
{
    (void)state;
    static const char span[] = "{\"traceId\":\"" TID "\",\"spanId\":\"" SID "\"},";
    size_t n = VW_MAX_SPANS_PER_REQUEST + 1, size = n * (sizeof span - 1) + 128;
    char *doc = malloc(size), *w = doc;
    w += sprintf(w, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
    for (size_t i = 0; i < n; i++) w = memcpy(w, span, sizeof span - 1), w += sizeof span - 1;
    strcpy(w - 1, "]}]}]}");
    assert_int_equal(vw_decode_otlp_json(doc, strlen(doc), &batch), VW_DECODE_TOO_BIG);
    vw_batch_free(&batch);
    /* One fewer is fine. */
    strcpy(w - 1 - (sizeof span - 1), "]}]}]}");
    assert_int_equal(vw_decode_otlp_json(doc, strlen(doc), &batch), VW_DECODE_OK);
    assert_int_equal(batch.count, VW_MAX_SPANS_PER_REQUEST);
    free(doc);
}

static void test_unknown_and_snake_case_ignored(void **state)
{
    (void)state;
    /* Unknown members anywhere, of any type and depth, change nothing. */
    assert_int_equal(decode("{\"future\":{\"a\":[1,{\"b\":null}]},\"resourceSpans\":[{\"x\":1,"
                            "\"resource\":{\"y\":[],\"attributes\":[{\"key\":\"k\",\"z\":true,"
                            "\"value\":{\"w\":1,\"stringValue\":\"v\"}}]},\"scopeSpans\":[{\"u\":"
                            "\"\",\"scope\":{\"t\":2},\"spans\":[{\"traceId\":\"" TID
                            "\",\"spanId\":\"" SID "\",\"newField\":{\"q\":[1,2]},"
                            "\"events\":[{\"e\":0}],\"status\":{\"s\":1}}]}]}]}"),
                     VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    assert_string_equal(otelc_resource_get(batch.spans[0].resource, "k")->u.str.ptr, "v");
    assert_int_equal(batch.spans[0].event_count, 1);
    /* The original field names are not OTLP/JSON keys: unknown, so ignored. */
    assert_int_equal(decode_span(",\"start_time_unix_nano\":\"5\",\"parent_span_id\":\"" PID "\","
                                 "\"dropped_attributes_count\":3"),
                     VW_DECODE_OK);
    assert_int_equal(batch.spans[0].start_ns, 0);
    assert_false(batch.spans[0].has_parent);
    assert_int_equal(batch.spans[0].dropped_attr_count, 0);
    assert_int_equal(
        decode("{\"resource_spans\":[{\"scope_spans\":[{\"spans\":[{\"trace_id\":\"" TID
               "\",\"span_id\":\"" SID "\"}]}]}]}"),
        VW_DECODE_OK);
    assert_int_equal(batch.count, 0);
    assert_int_equal(batch.rejected, 0);
    /* null is the default value; the empty request is a request. */
    assert_int_equal(decode_span(",\"name\":null,\"attributes\":null,\"events\":null,"
                                 "\"status\":null,\"traceState\":null"),
                     VW_DECODE_OK);
    assert_string_equal(batch.spans[0].name, "");
    assert_null(batch.spans[0].context.trace_state);
    assert_int_equal(decode("{}"), VW_DECODE_OK);
    assert_int_equal(decode("{\"resourceSpans\":null}"), VW_DECODE_OK);
    assert_int_equal(decode(" {\"resourceSpans\":[]} "), VW_DECODE_OK);
    assert_int_equal(batch.count, 0);
    /* A ResourceSpans without a kept span makes no resource. */
    assert_int_equal(decode("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[]}]}]}"),
                     VW_DECODE_OK);
    assert_int_equal(batch.resource_count, 0);
}

static void test_invalid_spans_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"traceId\":\"" TID "\"",                                                 /* no spanId */
        "\"spanId\":\"" SID "\"",                                                  /* no traceId */
        "\"traceId\":\"\",\"spanId\":\"" SID "\"",                                 /* empty */
        "\"traceId\":\"5b8e\",\"spanId\":\"" SID "\"",                             /* short */
        "\"traceId\":\"" TID "00\",\"spanId\":\"" SID "\"",                        /* long */
        "\"traceId\":\"5b8efff798038103d269b633813fc60g\",\"spanId\":\"" SID "\"", /* not hex */
        "\"traceId\":\"00000000000000000000000000000000\",\"spanId\":\"" SID "\"",
        "\"traceId\":\"" TID "\",\"spanId\":\"0000000000000000\"",
        "\"traceId\":\"" TID "\",\"spanId\":\"" SID "\",\"parentSpanId\":\"abc\"",
        "\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"" SID "0\"",
    };
    size_t n = sizeof bad / sizeof bad[0];
    char doc[8192], *w = doc;
    w += sprintf(w, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
    for (size_t i = 0; i < n; i++) w += sprintf(w, "{%s},", bad[i]);
    /* Kept: an all-zero parent is no parent; a link with a short id is dropped and counted. */
    w += sprintf(w, "{\"traceId\":\"" TID "\",\"spanId\":\"" SID "\",\"parentSpanId\":"
                    "\"0000000000000000\",\"droppedLinksCount\":2,\"links\":[{\"traceId\":\"12\"},"
                    "{\"traceId\":\"\",\"spanId\":\"\",\"attributes\":[{\"key\":\"a\"}]}]}]}]}]}");
    assert_int_equal(decode(doc), VW_DECODE_OK);
    assert_int_equal(batch.rejected, n);
    assert_non_null(strstr(batch.reject_reason, "resourceSpans[0].scopeSpans[0].spans[0]"));
    assert_non_null(strstr(batch.reject_reason, "spanId is missing"));
    assert_int_equal(batch.count, 1);
    const otelc_span_data *sd = &batch.spans[0];
    assert_false(sd->has_parent);
    assert_int_equal(sd->link_count, 1); /* the empty-id link, for its attributes */
    assert_int_equal(sd->links[0].attr_count, 1);
    assert_int_equal(sd->dropped_link_count, 3);
    assert_non_null(sd->resource);
    assert_non_null(sd->scope);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "",
        "   ",
        "[]",
        "\"resourceSpans\"",
        "{\"resourceSpans\":{}}",
        "{\"resourceSpans\":[1]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[[]]}]}]}",
        "{\"resourceSpans\":[{\"resource\":[]}]}",
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":1}]}}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"scope\":{\"name\":5}}]}]}",
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":",
        "{\"resourceSpans\":[]}x",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        if (decode(docs[i]) != VW_DECODE_INVALID) fail_msg("accepted: %s", docs[i]);
    static const char *const members[] = {
        ",\"name\":5",
        ",\"traceState\":[]",
        ",\"kind\":true",
        ",\"kind\":1.5",
        ",\"startTimeUnixNano\":\"-1\"",
        ",\"startTimeUnixNano\":-1",
        ",\"startTimeUnixNano\":\"1.5\"",
        ",\"startTimeUnixNano\":\"18446744073709551616\"",
        ",\"startTimeUnixNano\":\" 1\"",
        ",\"droppedAttributesCount\":4294967296",
        ",\"flags\":\"x\"",
        ",\"attributes\":{}",
        ",\"attributes\":[1]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"abc\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":1.5}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"9223372036854775808\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"boolValue\":\"true\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":1}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":\"fast\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"doubleValue\":\" 1\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"A\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"AA=A\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"A===\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":\"AA AA\"}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"arrayValue\":[]}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[2]}}}]",
        ",\"attributes\":[{\"key\":\"k\",\"value\":5}]",
        ",\"events\":[5]",
        ",\"events\":[{\"timeUnixNano\":true}]",
        ",\"links\":[{\"traceId\":5}]",
        ",\"status\":{\"code\":\"x\",\"message\":5}",
        ",\"status\":2",
        ",\"parentSpanId\":1",
    };
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (decode_span(members[i]) != VW_DECODE_INVALID) fail_msg("accepted: %s", members[i]);
    /* Ids of the wrong JSON type are a malformed document, not an invalid span. */
    assert_int_equal(decode("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":1,"
                            "\"spanId\":\"" SID "\"}]}]}]}"),
                     VW_DECODE_INVALID);
}

/* Malformed text is repaired, not refused: a viewer shows what a program sent. */
static void test_utf8_repaired(void **state)
{
    (void)state;
    const otelc_value *v = decode_value("{\"stringValue\":\"a\xff\\udc00z\"}");
    assert_string_equal(v->u.str.ptr, "a\xEF\xBF\xBD\xEF\xBF\xBDz");
    assert_int_equal(decode_span(",\"name\":\"\xC0\""), VW_DECODE_OK);
    assert_string_equal(batch.spans[0].name, "\xEF\xBF\xBD");
}

/* ---- Read as it streams ------------------------------------------------------------------ */

/* The decoder reads as the text comes: members in any order mean the same. */
static void test_members_in_any_order(void **state)
{
    (void)state;
    assert_int_equal(
        decode(
            "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"links\":[{\"traceId\":\"12\"},"
            "{\"traceId\":\"" TID "\",\"spanId\":\"" SID "\"}],\"droppedLinksCount\":2,"
            "\"flags\":769,\"parentSpanId\":\"" PID "\",\"name\":\"late ids\",\"spanId\":\"" SID
            "\",\"traceId\":\"" TID "\"}],\"schemaUrl\":\"https://s/1\",\"scope\":{\"name\":"
            "\"lib\",\"version\":\"2\"}}],\"schemaUrl\":\"https://r/1\",\"resource\":{"
            "\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]}}]}"),
        VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    const otelc_span_data *sd = &batch.spans[0];
    assert_string_equal(sd->name, "late ids");
    assert_true(sd->has_parent);
    assert_true(sd->parent_is_remote); /* flags 0x301: sampled, remote parent */
    assert_int_equal(sd->context.trace_flags, 1);
    assert_int_equal(sd->link_count, 1);
    assert_int_equal(sd->dropped_link_count, 3); /* the count sent, and the short id */
    assert_string_equal(otelc_resource_get(sd->resource, "service.name")->u.str.ptr, "svc");
    assert_string_equal(sd->scope->name, "lib");
    assert_string_equal(sd->scope->version, "2");
    assert_string_equal(sd->scope->schema_url, "https://s/1");
    /* A second list of spans adds to the first; a second name replaces it. */
    assert_int_equal(decode("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" TID
                            "\",\"spanId\":\"" SID "\",\"name\":\"a\",\"name\":\"b\"}],"
                            "\"spans\":[{\"traceId\":\"" TID "\",\"spanId\":\"" PID "\"}]}]}]}"),
                     VW_DECODE_OK);
    assert_int_equal(batch.count, 2);
    assert_string_equal(batch.spans[0].name, "b");
    assert_ptr_equal(batch.spans[0].resource, batch.spans[1].resource);
    assert_ptr_equal(batch.spans[0].scope, batch.spans[1].scope);
}

/* A text that is not JSON is refused as such, whatever the decoder found wrong before. */
static void test_text_errors_come_first(void **state)
{
    (void)state;
    char doc[2048] = "{\"resourceSpans\":{},\"x\":";
    size_t at = strlen(doc);
    memset(doc + at, '[', 600);
    memset(doc + at + 600, ']', 600);
    strcpy(doc + at + 1200, "}");
    assert_int_equal(decode(doc), VW_DECODE_TOO_BIG);
    assert_int_equal(decode("{\"resourceSpans\":{},\"x\":[1,}"), VW_DECODE_INVALID);
    assert_int_equal(decode("{\"resourceSpans\":{}} {}"), VW_DECODE_INVALID);
}

/* The request inside a member of a larger object (/api/v3/traces answers {"result": ...}). */
static void test_request_in_member(void **state)
{
    (void)state;
    static const char doc[] = "{\"before\":{\"resourceSpans\":[1]},\"result\":{\"resourceSpans\":"
                              "[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" TID
                              "\",\"spanId\":\"" SID "\"}]}]}]},\"after\":[null]}";
    vw_batch_free(&batch);
    assert_int_equal(vw_decode_otlp_json_in(doc, strlen(doc), "result", &batch), VW_DECODE_OK);
    assert_int_equal(batch.count, 1);
    vw_batch_free(&batch);
    assert_int_equal(vw_decode_otlp_json_in(doc, strlen(doc), "missing", &batch),
                     VW_DECODE_INVALID);
    vw_batch_free(&batch);
    assert_int_equal(vw_decode_otlp_json_in("{\"result\":5}", 12, "result", &batch),
                     VW_DECODE_INVALID);
    vw_batch_free(&batch);
    assert_int_equal(vw_decode_otlp_json_in("[]", 2, "result", &batch), VW_DECODE_INVALID);
}

/* ---- The response ------------------------------------------------------------------------ */

static void test_response(void **state)
{
    (void)state;
    otelc_buf out = {0};
    otelc_otlp_response r;
    assert_int_equal(vw_reply_export_json(&out, 0, NULL), OTELC_OK);
    assert_string_equal(out.data, "{}");
    otelc__buf_reset(&out);
    assert_int_equal(vw_reply_export_json(&out, 0, ""), OTELC_OK);
    assert_string_equal(out.data, "{}");
    otelc__buf_reset(&out);
    assert_int_equal(vw_reply_export_json(&out, 3, "spans[0]: traceId is \"bad\"\n"), OTELC_OK);
    assert_string_equal(out.data, "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":"
                                  "\"spans[0]: traceId is \\\"bad\\\"\\n\"}}");
    /* libotelc's exporter reads it back. */
    assert_int_equal(otelc__otlp_parse_response_json(out.data, out.len, &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 3);
    assert_string_equal(r.error_message, "spans[0]: traceId is \"bad\"\n");
    otelc__buf_reset(&out);
    /* A warning on an accepted request: no rejectedSpans (0 is the default). */
    assert_int_equal(vw_reply_export_json(&out, 0, "slow down"), OTELC_OK);
    assert_string_equal(out.data, "{\"partialSuccess\":{\"errorMessage\":\"slow down\"}}");
    otelc__buf_reset(&out);
    assert_int_equal(vw_reply_export_json(&out, 12, NULL), OTELC_OK);
    assert_string_equal(out.data, "{\"partialSuccess\":{\"rejectedSpans\":\"12\"}}");
    otelc__buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_round_trip, teardown),
        cmocka_unit_test_teardown(test_round_trip_any_values, teardown),
        cmocka_unit_test_teardown(test_whole_document, teardown),
        cmocka_unit_test_teardown(test_int64_strings_and_numbers, teardown),
        cmocka_unit_test_teardown(test_enums, teardown),
        cmocka_unit_test_teardown(test_values, teardown),
        cmocka_unit_test_teardown(test_arrays_and_maps, teardown),
        cmocka_unit_test_teardown(test_depth_bound, teardown),
        cmocka_unit_test_teardown(test_span_bound, teardown),
        cmocka_unit_test_teardown(test_unknown_and_snake_case_ignored, teardown),
        cmocka_unit_test_teardown(test_invalid_spans_rejected, teardown),
        cmocka_unit_test_teardown(test_malformed, teardown),
        cmocka_unit_test_teardown(test_utf8_repaired, teardown),
        cmocka_unit_test_teardown(test_members_in_any_order, teardown),
        cmocka_unit_test_teardown(test_text_errors_come_first, teardown),
        cmocka_unit_test_teardown(test_request_in_member, teardown),
        cmocka_unit_test(test_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
