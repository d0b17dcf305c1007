/*
 * test_otlp_json.c - the OTLP/JSON encoder (exact spellings, well-formed
 * output) and the JSON ExportTraceServiceResponse parser.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "otlp_spans.h"
#include "unit/anyvalue.h"

/* ---- A minimal JSON checker, independent of the parser under test -------------------- */

typedef struct jc {
    const char *p;
    const char *end;
} jc;

static bool jc_value(jc *c, int depth);

static void jc_ws(jc *c)
{
    while (c->p < c->end && strchr(" \t\r\n", *c->p)) c->p++;
}

static bool jc_string(jc *c)
{
    if (c->p == c->end || *c->p++ != '"') return false;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p++;
        if (ch < 0x20) return false;
        if (ch != '\\') continue;
        if (c->p == c->end) return false;
        char e = *c->p++;
        if (e == 'u') {
            for (int i = 0; i < 4; i++)
                if (c->p == c->end || !strchr("0123456789abcdefABCDEF", *c->p++)) return false;
        } else if (!strchr("\"\\/bfnrt", e)) {
            return false;
        }
    }
    return c->p++ < c->end;
}

static bool jc_list(jc *c, char close, bool members, int depth)
{
    c->p++;
    jc_ws(c);
    if (c->p < c->end && *c->p == close) return c->p++, true;
    for (;;) {
        jc_ws(c);
        if (members) {
            if (!jc_string(c)) return false;
            jc_ws(c);
            if (c->p == c->end || *c->p++ != ':') return false;
        }
        if (!jc_value(c, depth + 1)) return false;
        jc_ws(c);
        if (c->p == c->end) return false;
        char ch = *c->p++;
        if (ch == close) return true;
        if (ch != ',') return false;
    }
}

static bool jc_value(jc *c, int depth)
{
    jc_ws(c);
    if (c->p == c->end || depth > 200) return false; /* OTLP nests 3 levels per AnyValue */
    if (*c->p == '{') return jc_list(c, '}', true, depth);
    if (*c->p == '[') return jc_list(c, ']', false, depth);
    if (*c->p == '"') return jc_string(c);
    for (const char *w = "true\0false\0null\0"; *w; w += strlen(w) + 1)
        if ((size_t)(c->end - c->p) >= strlen(w) && memcmp(c->p, w, strlen(w)) == 0)
            return c->p += strlen(w), true;
    char *stop;
    strtod(c->p, &stop); /* the buffer is NUL-terminated */
    if (stop == c->p || !strchr("-0123456789", *c->p)) return false;
    c->p = stop;
    return true;
}

static void assert_json(const char *s, size_t n)
{
    jc c = {s, s + n};
    if (!jc_value(&c, 0)) fail_msg("malformed JSON near offset %zu:\n%s", (size_t)(c.p - s), s);
    jc_ws(&c);
    assert_ptr_equal(c.p, c.end);
}

/* ---- Scenario ------------------------------------------------------------------------------ */

typedef struct encoded {
    otlp_fx fx;
    otelc_buf out;
} encoded;

static int setup(void **state)
{
    encoded *e = calloc(1, sizeof(*e));
    fx_build(&e->fx, otelc__otlp_encode_json);
    assert_int_equal(otelc__otlp_encode_json(&e->out, e->fx.spans, e->fx.count), OTELC_OK);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    encoded *e = *state;
    fx_free(&e->fx);
    otelc__buf_free(&e->out);
    free(e);
    return 0;
}

/* Find needle after from, failing the test when it is absent. */
static const char *expect_after(const char *from, const char *needle)
{
    const char *p = strstr(from, needle);
    if (!p) fail_msg("missing %s in:\n%s", needle, from);
    return p + strlen(needle);
}

static const char *span_json(const encoded *e, const char *name)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "\"name\":\"%s\"", name);
    const char *p = strstr(e->out.data, needle);
    if (!p) fail_msg("span %s missing", name);
    while (p > e->out.data && strncmp(p, "{\"traceId\"", 10) != 0) p--;
    return p;
}

static void test_well_formed(void **state)
{
    encoded *e = *state;
    assert_int_equal(strlen(e->out.data), e->out.len);
    assert_json(e->out.data, e->out.len);
}

static void test_structure_and_grouping(void **state)
{
    encoded *e = *state;
    const char *p =
        expect_after(e->out.data, "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
                                  "{\"key\":\"service.name\",\"value\":{\"stringValue\":"
                                  "\"svc-a\"}},{\"key\":\"res.int\",\"value\":{"
                                  "\"intValue\":\"42\"}}]},\"scopeSpans\":[");
    p = expect_after(p, "{\"scope\":{\"name\":\"scope.two\"},\"spans\":[{\"traceId\":");
    p = expect_after(p, "\"name\":\"child\"");
    p = expect_after(p, "\"name\":\"late\"");
    p = expect_after(p, "]},{\"scope\":{\"name\":\"scope.one\",\"version\":\"1.2.3\"},\"spans\":[");
    p = expect_after(p, "\"name\":\"root\"");
    p = expect_after(p, "\"name\":\"remote-child\"");
    p = expect_after(p, "],\"schemaUrl\":\"https://schema/one\"}],\"schemaUrl\":\"" FX_SCHEMA_ONE
                        "\"},{\"resource\":{\"attributes\":["
                        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"svc-b\"}}]},"
                        "\"scopeSpans\":[{\"scope\":{\"name\":\"scope.three\",\"version\":\"3.0\"},"
                        "\"spans\":[");
    p = expect_after(p, "\"name\":\"other\"");
    assert_string_equal(strstr(p, "}]}]}]}"), "}]}]}]}");
}

static void test_root_span(void **state)
{
    encoded *e = *state;
    const otelc_span_data *sd = fx_find(&e->fx, "root");
    char head[256], hex_t[33], hex_s[17];
    snprintf(head, sizeof(head),
             "{\"traceId\":\"%s\",\"spanId\":\"%s\",\"flags\":%u,\"name\":\"root\",\"kind\":2,"
             "\"startTimeUnixNano\":\"1700000000000000001\","
             "\"endTimeUnixNano\":\"1700000000000002000\",\"attributes\":[",
             otelc_trace_id_hex(&sd->context, hex_t), otelc_span_id_hex(&sd->context, hex_s),
             sd->context.trace_flags | 0x100u);
    const char *p = expect_after(span_json(e, "root"), head);
    p = expect_after(p,
                     "{\"key\":\"s\",\"value\":{\"stringValue\":\"hello \\\"q\\\"\"}},"
                     "{\"key\":\"b\",\"value\":{\"boolValue\":true}},"
                     "{\"key\":\"i\",\"value\":{\"intValue\":\"-5\"}},"
                     "{\"key\":\"d\",\"value\":{\"doubleValue\":1.5}},"
                     "{\"key\":\"sa\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":"
                     "\"a\"},{\"stringValue\":\"b\\\"c\"}]}}},"
                     "{\"key\":\"ba\",\"value\":{\"arrayValue\":{\"values\":[{\"boolValue\":true},"
                     "{\"boolValue\":false},{\"boolValue\":true}]}}},"
                     "{\"key\":\"ia\",\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},"
                     "{\"intValue\":\"-1\"},{\"intValue\":\"9223372036854775807\"}]}}},"
                     "{\"key\":\"da\",\"value\":{\"arrayValue\":{\"values\":[{\"doubleValue\":"
                     "0.25},{\"doubleValue\":-2}]}}},"
                     "{\"key\":\"f\",\"value\":{\"boolValue\":false}}],"
                     "\"droppedAttributesCount\":1,\"events\":[");
    p = expect_after(p, "{\"timeUnixNano\":\"1700000000000000500\",\"name\":\"e1\",\"attributes\":"
                        "[{\"key\":\"ek\",\"value\":{\"stringValue\":\"ev\"}}],"
                        "\"droppedAttributesCount\":1},"
                        "{\"timeUnixNano\":\"1700000000000000501\",\"name\":\"e2\"}],"
                        "\"droppedEventsCount\":1,\"links\":[");
    p = expect_after(p, "{\"traceId\":\"11111111111111111111111111111112\",\"spanId\":"
                        "\"2222222222222223\",\"traceState\":\"lk=lv\",\"attributes\":[{\"key\":"
                        "\"lk\",\"value\":{\"stringValue\":\"lv\"}}],\"droppedAttributesCount\":1,"
                        "\"flags\":769}],\"droppedLinksCount\":1,");
    expect_after(p, "\"status\":{\"message\":\"boom\",\"code\":2}}");
    assert_null(strstr(span_json(e, "root"), "\"dropped\""));
}

static void test_parents(void **state)
{
    encoded *e = *state;
    const otelc_span_data *root = fx_find(&e->fx, "root");
    char want[128], hex[17];
    snprintf(want, sizeof(want),
             "\"parentSpanId\":\"%s\",\"flags\":%u,\"name\":\"child\",\"kind\":3",
             otelc_span_id_hex(&root->context, hex),
             fx_find(&e->fx, "child")->context.trace_flags | 0x100u);
    expect_after(span_json(e, "child"), want);
    const char *remote = span_json(e, "remote-child");
    expect_after(remote, "{\"traceId\":\"abababababababababababababababac\",\"spanId\":\"");
    expect_after(remote, "\",\"traceState\":\"ts=1\",\"parentSpanId\":\"cdcdcdcdcdcdcdce\","
                         "\"flags\":769,\"name\":\"remote-child\",\"kind\":5,");
    expect_after(remote, "\"status\":{\"code\":1}}");
    /* Roots carry no parentSpanId; UNSET status without message is left out. */
    const char *late = span_json(e, "late");
    const char *late_end = strchr(late, '}');
    assert_true(strstr(late, "parentSpanId") == NULL || strstr(late, "parentSpanId") > late_end);
    assert_true(strstr(late, "\"status\"") == NULL || strstr(late, "\"status\"") > late_end);
    expect_after(late, "\"kind\":4,\"startTimeUnixNano\":\"");
}

static void test_in_call_batches_are_json(void **state)
{
    encoded *e = *state;
    /* Five one-span requests were appended back to back during export. */
    const char *p = e->fx.in_call.data;
    assert_int_equal(e->fx.in_call_rc, OTELC_OK);
    for (int i = 0; i < 5; i++) {
        const char *next = strstr(p + 1, "{\"resourceSpans\":");
        size_t n = next ? (size_t)(next - p) : strlen(p);
        char *one = strndup(p, n);
        assert_json(one, n);
        free(one);
        p = next;
        assert_true(i == 4 ? next == NULL : next != NULL);
    }
}

/* ---- Edge cases ------------------------------------------------------------------------ */

static void test_empty_request(void **state)
{
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_json(&b, NULL, 0), OTELC_OK);
    assert_string_equal(b.data, "{\"resourceSpans\":[]}");
    otelc__buf_free(&b);
}

static void test_special_values(void **state)
{
    otlp_fx fx = {0};
    fx.encode = otelc__otlp_encode_json;
    fx.prov1 = fx_provider(&fx, NULL);
    otelc_tracer *t = otelc_provider_tracer(fx.prov1, "s", NULL, NULL);
    otelc_span *s = fx_start_root(t, "odd \x01\xff\n", OTELC_SPAN_INTERNAL);
    static const double odd[] = {NAN, INFINITY, -INFINITY, 0.1, 1e300};
    otelc_span_set_double_array(s, "nf", odd, 5);
    otelc_span_set_int(s, "min", INT64_MIN);
    otelc_span_set_strn(s, "nul", "a\0b", 3);
    otelc_span_set_str(s, "utf8", "h\xc3\xa9 \xe2\x82\xac");
    otelc_span_end(s);
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_json(&b, fx.spans, fx.count), OTELC_OK);
    assert_json(b.data, b.len);
    expect_after(b.data, "\"name\":\"odd \\u0001\\ufffd\\n\"");
    expect_after(b.data, "[{\"doubleValue\":\"NaN\"},{\"doubleValue\":\"Infinity\"},"
                         "{\"doubleValue\":\"-Infinity\"},{\"doubleValue\":0.1},"
                         "{\"doubleValue\":1e+300}]");
    expect_after(b.data, "{\"intValue\":\"-9223372036854775808\"}");
    expect_after(b.data, "{\"stringValue\":\"a\\u0000b\"}");
    expect_after(b.data, "{\"stringValue\":\"h\xc3\xa9 \xe2\x82\xac\"}");
    otelc__buf_free(&b);
    fx_free(&fx);
}

/* RFC 4648 section 10's test vectors, and bytes that need the '/' digit. */
static void test_base64(void **state)
{
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    otelc_buf b = {0};
    for (size_t i = 0; i < 7; i++) {
        otelc__buf_reset(&b);
        otelc__buf_base64(&b, in[i], strlen(in[i]));
        assert_int_equal(b.len, strlen(out[i]));
        if (b.len) assert_string_equal(b.data, out[i]);
    }
    otelc__buf_reset(&b);
    otelc__buf_base64(&b, "\xff\xfe", 2);
    otelc__buf_base64(&b, AV_RAW, sizeof(AV_RAW));
    assert_string_equal(b.data, "//4=AGH/EA==");
    otelc__buf_free(&b);
}

/*
 * The protobuf JSON mapping of the other AnyValue members: bytesValue in
 * base64, arrayValue and kvlistValue as {"values":[...]}, and the empty
 * value as an AnyValue object with no member; scope attributes too.
 */
static void test_anyvalue_kinds_and_scope_attributes(void **state)
{
    (void)state;
    av_span s;
    av_span_init(&s);
    const otelc_span_data *spans[] = {&s.sd};
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_json(&b, spans, 1), OTELC_OK);
    assert_json(b.data, b.len);
    expect_after(b.data, "\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
                         "\"stringValue\":\"av-service\"}},{\"key\":\"res.map\",\"value\":{"
                         "\"kvlistValue\":{\"values\":[{\"key\":\"deep\",\"value\":{\"boolValue\":"
                         "true}},{\"key\":\"none\",\"value\":{}}]}}}]}");
    expect_after(b.data, "\"scope\":{\"name\":\"av.scope\",\"version\":\"0.1\",\"attributes\":["
                         "{\"key\":\"scope.kind\",\"value\":{\"stringValue\":\"library\"}},"
                         "{\"key\":\"scope.tags\",\"value\":{\"arrayValue\":{\"values\":["
                         "{\"intValue\":\"1\"},{\"stringValue\":\"two\"},{},{\"boolValue\":false}"
                         "]}}}],\"droppedAttributesCount\":3}");
    expect_after(b.data,
                 "\"attributes\":["
                 "{\"key\":\"av.bytes\",\"value\":{\"bytesValue\":\"AGH/EA==\"}},"
                 "{\"key\":\"av.empty\",\"value\":{}},"
                 "{\"key\":\"av.map\",\"value\":{\"kvlistValue\":{\"values\":["
                 "{\"key\":\"list\",\"value\":{\"arrayValue\":{\"values\":["
                 "{\"intValue\":\"1\"},{\"stringValue\":\"two\"},{},{\"boolValue\":false}]}}},"
                 "{\"key\":\"raw\",\"value\":{\"bytesValue\":\"AGH/EA==\"}}]}}},"
                 "{\"key\":\"av.array\",\"value\":{\"arrayValue\":{\"values\":["
                 "{\"kvlistValue\":{\"values\":[{\"key\":\"deep\",\"value\":{\"boolValue\":true}},"
                 "{\"key\":\"none\",\"value\":{}}]}},{\"doubleValue\":2.5},"
                 "{\"arrayValue\":{\"values\":[]}},{\"kvlistValue\":{\"values\":[]}}]}}},"
                 "{\"key\":\"av.empty_map\",\"value\":{\"kvlistValue\":{\"values\":[]}}},"
                 "{\"key\":\"av.empty_array\",\"value\":{\"arrayValue\":{\"values\":[]}}}]");

    /* One level past OTELC_MAX_VALUE_DEPTH: the innermost array is {}. */
    enum { D = OTELC_MAX_VALUE_DEPTH };
    otelc_value levels[D + 1];
    otelc_attr slots[D + 1],
        deep = {"deep", av_nest(levels, D + 1, OTELC_VALUE_ARRAY, slots, (otelc_value)AV_INT(1))};
    s.sd.attrs = &deep;
    s.sd.attr_count = 1;
    otelc__buf_reset(&b);
    assert_int_equal(otelc__otlp_encode_json(&b, spans, 1), OTELC_OK);
    assert_json(b.data, b.len);
    char want[2048] = "{\"key\":\"deep\",\"value\":";
    for (int i = 0; i < D; i++) strcat(want, "{\"arrayValue\":{\"values\":[");
    strcat(want, "{}");
    for (int i = 0; i < D; i++) strcat(want, "]}}");
    expect_after(b.data, want);
    otelc__buf_free(&b);
    otelc_resource_free(s.resource);
}

/* ---- Response parser --------------------------------------------------------------------- */

static int parse(const char *s, otelc_otlp_response *r)
{
    return otelc__otlp_parse_response_json(s, strlen(s), r);
}

static void test_response_valid(void **state)
{
    otelc_otlp_response r;
    assert_int_equal(parse("{\"partialSuccess\":{\"rejectedSpans\":\"12\",\"errorMessage\":"
                           "\"too \\\"old\\\" \\u00e9\\ud83d\\ude00\\n\"}}",
                           &r),
                     OTELC_OK);
    assert_int_equal(r.rejected_spans, 12);
    assert_string_equal(r.error_message, "too \"old\" \xc3\xa9\xf0\x9f\x98\x80\n");
    assert_int_equal(parse(" { \"partialSuccess\" : { \"rejectedSpans\" : 7 } } \n", &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 7);
    assert_string_equal(r.error_message, "");
    assert_int_equal(parse("{\"partialSuccess\":{\"rejectedSpans\":\"9223372036854775807\"}}", &r),
                     OTELC_OK);
    assert_int_equal(r.rejected_spans, INT64_MAX);
}

static void test_response_empty(void **state)
{
    otelc_otlp_response r;
    assert_int_equal(otelc__otlp_parse_response_json(NULL, 0, &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 0);
    assert_int_equal(parse("", &r), OTELC_OK);
    assert_int_equal(parse(" \r\n", &r), OTELC_OK);
    assert_int_equal(parse("{}", &r), OTELC_OK);
    assert_int_equal(parse("{\"partialSuccess\":{}}", &r), OTELC_OK);
    assert_int_equal(parse("{\"partialSuccess\":null}", &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 0);
    assert_string_equal(r.error_message, "");
}

static void test_response_unknown_members(void **state)
{
    otelc_otlp_response r;
    assert_int_equal(parse("{\"x\":[1,-2.5e3,true,false,null,{\"rejectedSpans\":\"99\"}],"
                           "\"partialSuccess\":{\"other\":{\"errorMessage\":\"no\"},"
                           "\"rejectedSpans\":3,\"errorMessage\":\"yes\"},\"y\":\"\\/\"}",
                           &r),
                     OTELC_OK);
    assert_int_equal(r.rejected_spans, 3);
    assert_string_equal(r.error_message, "yes");
    /* Long unknown keys do not match a known one by truncation. */
    assert_int_equal(parse("{\"partialSuccess\":{\"rejectedSpansrejectedSpansrejectedSpans\":"
                           "\"x\"}}",
                           &r),
                     OTELC_OK);
    assert_int_equal(r.rejected_spans, 0);
}

static void test_response_malformed(void **state)
{
    static const char *const bad[] = {
        "{",
        "}",
        "[]",
        "\"partialSuccess\"",
        "{\"partialSuccess\":{\"rejectedSpans\":1}",
        "{\"partialSuccess\":{\"rejectedSpans\":1}} x",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{'a':1}",
        "{\"a\":01}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":tru}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"open}",
        "{\"partialSuccess\":{\"rejectedSpans\":1.5}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"1x\"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"\"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"9223372036854775808\"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":true}}",
    };
    otelc_otlp_response r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &r) != OTELC_ERR_PARSE) fail_msg("accepted: %s", bad[i]);
        assert_int_equal(r.rejected_spans, 0);
    }
    char deep[400];
    memset(deep, '[', sizeof(deep));
    assert_int_equal(otelc__otlp_parse_response_json(deep, sizeof(deep), &r), OTELC_ERR_PARSE);
    /* The input need not be NUL-terminated: a prefix of a valid body is malformed. */
    assert_int_equal(otelc__otlp_parse_response_json("{\"a\":12}", 6, &r), OTELC_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_well_formed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structure_and_grouping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_call_batches_are_json, setup, teardown),
        cmocka_unit_test(test_empty_request),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_anyvalue_kinds_and_scope_attributes),
        cmocka_unit_test(test_response_valid),
        cmocka_unit_test(test_response_empty),
        cmocka_unit_test(test_response_unknown_members),
        cmocka_unit_test(test_response_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
