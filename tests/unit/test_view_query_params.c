/*
 * test_view_query_params.c - the query API's parameter parsers
 * (viewer/query_params.h) against what the APIs they imitate accept: Go's
 * time.ParseDuration (Jaeger's minDuration/maxDuration), Jaeger's trace
 * ids (model.TraceIDFromString: up to 32 hex digits, shorter ones padded)
 * and tag filters (query_parser.go's parseTags: a JSON map of strings, or
 * key:value split at the first ':').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "query_params.h"

#define S 1000000000ull

static uint64_t duration(const char *s, bool days)
{
    uint64_t ns = 12345;
    assert_true(vw_parse_duration(s, days, &ns));
    return ns;
}

static void refused_duration(const char *s, bool days)
{
    uint64_t ns = 12345;
    assert_false(vw_parse_duration(s, days, &ns));
    assert_int_equal(ns, 12345); /* untouched */
}

static void test_go_durations(void **state)
{
    (void)state;
    assert_int_equal(duration("0", false), 0);
    assert_int_equal(duration("1.5s", false), 1500000000ull);
    assert_int_equal(duration("100ms", false), 100000000ull);
    assert_int_equal(duration("500us", false), 500000ull);
    assert_int_equal(duration("500\xc2\xb5s", false), 500000ull); /* µs, U+00B5 */
    assert_int_equal(duration("500\xce\xbcs", false), 500000ull); /* μs, U+03BC */
    assert_int_equal(duration("7ns", false), 7);
    assert_int_equal(duration("1h30m", false), 5400 * S);
    assert_int_equal(duration(".5ms", false), 500000ull);
    assert_int_equal(duration("5.s", false), 5 * S);
    assert_int_equal(duration("0.000000001s", false), 1);
    assert_int_equal(duration("1m0.5s", false), 60 * S + S / 2);
    /* The largest Go duration, 2^63 - 1 ns, and one past it. */
    assert_int_equal(duration("9223372036854775807ns", false), 9223372036854775807ull);
    refused_duration("9223372036854775808ns", false);
    assert_int_equal(duration("2562047h", false), 2562047ull * 3600 * S);
    refused_duration("2562048h", false);
    refused_duration("", false);
    refused_duration("1", false);   /* a unit is required but for "0" */
    refused_duration("-1s", false); /* negative: meaningless for a bound */
    refused_duration("+1s", false);
    refused_duration("1x", false);
    refused_duration(".s", false);
    refused_duration("1 s", false); /* the unit would be " s" */
    refused_duration("1h 30m", false);
    refused_duration("s", false);
    refused_duration("1sec", false);
    /* Days and weeks only for lookbacks. */
    refused_duration("2d", false);
    assert_int_equal(duration("2d", true), 2 * 86400 * S);
    assert_int_equal(duration("1w", true), 7 * 86400 * S);
    refused_duration("custom", true);
}

static void test_integers(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(vw_parse_uint("0", UINT64_MAX, &v));
    assert_int_equal(v, 0);
    assert_true(vw_parse_uint("18446744073709551615", UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_false(vw_parse_uint("18446744073709551616", UINT64_MAX, &v));
    assert_false(vw_parse_uint("000000000000000000001", UINT64_MAX, &v)); /* 21 digits */
    assert_false(vw_parse_uint("1500", 1000, &v));
    assert_false(vw_parse_uint("", UINT64_MAX, &v));
    assert_false(vw_parse_uint("+1", UINT64_MAX, &v));
    assert_false(vw_parse_uint("-1", UINT64_MAX, &v));
    assert_false(vw_parse_uint(" 1", UINT64_MAX, &v));
    assert_false(vw_parse_uint("1e3", UINT64_MAX, &v));
    assert_false(vw_parse_uint(NULL, UINT64_MAX, &v));
    assert_int_equal(v, 7);
}

static void test_trace_ids(void **state)
{
    (void)state;
    uint8_t id[16];
    static const uint8_t one[16] = {[15] = 1};
    assert_true(vw_parse_trace_id("1", id));
    assert_memory_equal(id, one, 16);
    /* A 64-bit Jaeger id: the high half is zero. */
    static const uint8_t low[16] = {0,    0,    0,    0,    0,    0,    0,    0,
                                    0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89};
    assert_true(vw_parse_trace_id("abcdef0123456789", id));
    assert_memory_equal(id, low, 16);
    assert_true(vw_parse_trace_id("ABCDEF0123456789", id)); /* Go's ParseUint takes either case */
    assert_memory_equal(id, low, 16);
    static const uint8_t odd[16] = {[14] = 0x01, [15] = 0x23};
    assert_true(vw_parse_trace_id("123", id));
    assert_memory_equal(id, odd, 16);
    static const uint8_t full[16] = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                                     0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
    assert_true(vw_parse_trace_id("0af7651916cd43dd8448eb211c80319c", id));
    assert_memory_equal(id, full, 16);
    assert_false(vw_parse_trace_id("0af7651916cd43dd8448eb211c80319c0", id)); /* 33 */
    assert_false(vw_parse_trace_id("", id));
    assert_false(vw_parse_trace_id("xyz", id));
    assert_false(vw_parse_trace_id("12 3", id));
    assert_false(vw_parse_trace_id(NULL, id));
}

/* ---- Tags ------------------------------------------------------------------------------------ */

static void tags_ok(const char *text, vw_tags *t)
{
    char err[128] = "";
    memset(t, 0, sizeof *t);
    assert_int_equal(vw_parse_tags(text, t, err, sizeof err), 0);
    assert_string_equal(err, "");
}

static void tags_refused(const char *text, const char *message_part)
{
    vw_tags t;
    char err[128] = "";
    memset(&t, 0, sizeof t);
    assert_int_equal(vw_parse_tags(text, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, message_part));
    assert_int_equal(t.count, 0);
    vw_tags_free(&t);
}

static void test_json_tags(void **state)
{
    (void)state;
    vw_tags t;
    tags_ok(" {\"http.status_code\" : \"500\", \"error\":\"true\"} ", &t);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].key, "http.status_code");
    assert_string_equal(t.items[0].value, "500");
    assert_string_equal(t.items[1].key, "error");
    assert_string_equal(t.items[1].value, "true");
    vw_tags_free(&t);

    /* Escapes, a surrogate pair, and a repeated key keeping its last value (a Go map). */
    tags_ok("{\"k\":\"a\\\"b\\\\c\\/\\n\",\"\\u00e9\":\"\\ud83d\\ude00\",\"k\":\"last\"}", &t);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].key, "k");
    assert_string_equal(t.items[0].value, "last");
    assert_string_equal(t.items[1].key, "\xc3\xa9");
    assert_string_equal(t.items[1].value, "\xf0\x9f\x98\x80");
    vw_tags_free(&t);

    tags_ok("{}", &t);
    assert_int_equal(t.count, 0);
    vw_tags_free(&t);
    tags_ok("   ", &t);
    assert_int_equal(t.count, 0);
    vw_tags_free(&t);

    tags_refused("{\"a\":1}", "JSON object of strings");
    tags_refused("{\"a\":\"b\"} x", "JSON object of strings");
    tags_refused("{\"a\":\"b\",}", "JSON object of strings");
    tags_refused("{\"a\" \"b\"}", "JSON object of strings");
    tags_refused("{\"a\":\"b\"", "JSON object of strings");
    tags_refused("{\"a\":\"\\ud83d\"}", "JSON object of strings"); /* a lone surrogate */
    tags_refused("{\"a\":\"\\u0000\"}", "JSON object of strings"); /* a NUL cannot be compared */
    tags_refused("{\"a\":\"\xff\"}", "JSON object of strings");    /* not UTF-8 */
    tags_refused("{\"a\":\"\\x\"}", "JSON object of strings");
    tags_refused("{\"a\":\"tab\there\"}", "JSON object of strings"); /* a raw control character */
    /* Cut short anywhere, even inside an escape (the fuzzer's find). */
    tags_refused("{\"\\", "JSON object of strings");
    tags_refused("{\"a\":\"\\u12", "JSON object of strings");
    tags_refused("{\"a\":\"\\ud83d\\", "JSON object of strings");
    tags_refused("{\"a\"", "JSON object of strings");
    tags_refused("{\"a\":", "JSON object of strings");
    tags_refused("{", "JSON object of strings");
}

static void test_key_value_tags(void **state)
{
    (void)state;
    vw_tags t;
    tags_ok("error:true  url:http://x:8080/a", &t);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].key, "error");
    assert_string_equal(t.items[0].value, "true");
    assert_string_equal(t.items[1].key, "url");
    assert_string_equal(t.items[1].value, "http://x:8080/a"); /* split at the first ':' */
    vw_tags_free(&t);
    tags_ok("k:", &t);
    assert_int_equal(t.count, 1);
    assert_string_equal(t.items[0].value, "");
    vw_tags_free(&t);
    tags_refused("error", "key:value");
    tags_refused("a:b \xff:c", "UTF-8");
}

static void test_tag_bounds(void **state)
{
    (void)state;
    char text[2048];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(text + n, sizeof text - n, "}");
    tags_refused(text, "too many tags");
    /* A key repeated any number of times is one filter. */
    n = 0;
    for (int i = 0; i < 200; i++) n += (size_t)snprintf(text + n, sizeof text - n, "a:b ");
    vw_tags t;
    tags_ok(text, &t);
    assert_int_equal(t.count, 1);
    vw_tags_free(&t);
    /* Reusing one vw_tags: the second parse replaces the first. */
    tags_ok("a:b", &t);
    char err[64];
    assert_int_equal(vw_parse_tags("c:d e:f", &t, err, sizeof err), 0);
    assert_int_equal(t.count, 2);
    assert_string_equal(t.items[0].key, "c");
    vw_tags_free(&t);
    vw_tags_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_durations),   cmocka_unit_test(test_integers),
        cmocka_unit_test(test_trace_ids),      cmocka_unit_test(test_json_tags),
        cmocka_unit_test(test_key_value_tags), cmocka_unit_test(test_tag_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
