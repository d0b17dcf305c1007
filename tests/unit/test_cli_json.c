/*
 * test_cli_json.c - the otelc command's JSON parser (cli/json.c): values,
 * escapes, positions, errors with line and column, limits, the builders and
 * the string writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The command's sources are not in the library: compile the one under test in. */
#include "../../cli/json.c"

static json_value *parse(const char *text, json_error *err)
{
    return json_parse(text, strlen(text), NULL, err);
}

/* Parsing must fail at line:column with a message containing word. */
static void expect_error(const char *text, unsigned line, unsigned column, const char *word)
{
    json_error err;
    json_value *v = parse(text, &err);
    if (v) fail_msg("parsed but should not: %s", text);
    if (err.line != line || err.column != column || !strstr(err.message, word))
        fail_msg("%s: got %u:%u \"%s\", want %u:%u \"%s\"", text, err.line, err.column, err.message,
                 line, column, word);
}

static void test_values(void **state)
{
    (void)state;
    json_error err;
    json_value *v =
        parse(" {\"a\": [1, -2.5e2, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": []} ", &err);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_OBJECT);
    assert_int_equal(v->u.object.count, 3);
    const json_value *a = json_object_get(v, "a");
    assert_non_null(a);
    assert_int_equal(a->type, JSON_ARRAY);
    assert_int_equal(a->u.array.count, 5);
    assert_true(a->u.array.items[0]->u.number == 1.0);
    assert_true(a->u.array.items[1]->u.number == -250.0);
    assert_int_equal(a->u.array.items[2]->type, JSON_BOOL);
    assert_true(a->u.array.items[2]->u.boolean);
    assert_false(a->u.array.items[3]->u.boolean);
    assert_int_equal(a->u.array.items[4]->type, JSON_NULL);
    assert_string_equal(json_object_get(json_object_get(v, "b"), "c")->u.string.ptr, "d");
    assert_int_equal(json_object_get(v, "e")->u.array.count, 0);
    assert_null(json_object_get(v, "zz"));
    assert_null(json_object_get(a, "a")); /* not an object */
    json_free(v);
    /* Any value may be the root; a byte order mark is allowed. */
    v = parse("\xEF\xBB\xBF \"x\"", &err);
    assert_non_null(v);
    assert_string_equal(v->u.string.ptr, "x");
    json_free(v);
}

static void test_positions(void **state)
{
    (void)state;
    json_value *v = parse("{\n  \"name\": \"x\",\n\t\"steps\": [\n    7\n  ]\n}", NULL);
    assert_non_null(v);
    assert_int_equal(v->line, 1);
    assert_int_equal(v->column, 1);
    const json_value *name = json_object_get(v, "name");
    assert_int_equal(name->line, 2);
    assert_int_equal(name->column, 11);
    const json_value *steps = json_object_get(v, "steps");
    assert_int_equal(steps->line, 3);
    assert_int_equal(steps->column, 11);
    assert_int_equal(steps->u.array.items[0]->line, 4);
    assert_int_equal(steps->u.array.items[0]->column, 5);
    json_free(v);
}

static void test_escapes(void **state)
{
    (void)state;
    json_value *v =
        parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20AC \\ud83d\\ude00 \\u0000!\"", NULL);
    assert_non_null(v);
    static const char want[] = "q\" b\\ s/ \b\f\n\r\t \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \0!";
    assert_int_equal(v->u.string.len, sizeof want - 1);
    assert_memory_equal(v->u.string.ptr, want, sizeof want - 1);
    assert_int_equal(v->u.string.ptr[v->u.string.len], '\0');
    json_free(v);
    /* Raw UTF-8 passes through untouched. */
    v = parse("\"\xE6\x97\xA5\xE6\x9C\xAC\"", NULL);
    assert_non_null(v);
    assert_string_equal(v->u.string.ptr, "\xE6\x97\xA5\xE6\x9C\xAC");
    json_free(v);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", 1, 1, "end of input");
    expect_error("{\n  \"a\": tru\n}", 2, 8, "unexpected character 't'");
    expect_error("[1, 2,]", 1, 7, "unexpected character ']'");
    expect_error("{\"a\" 1}", 1, 6, "':' expected");
    expect_error("{\"a\": 1,}", 1, 9, "object key");
    expect_error("{1: 2}", 1, 2, "object key");
    expect_error("[1 2]", 1, 4, "',' or ']' expected");
    expect_error("[1,\n 2", 2, 3, "end of input");
    expect_error("\"abc", 1, 5, "unterminated string");
    expect_error("\"a\tb\"", 1, 3, "control character");
    expect_error("\"\\x\"", 1, 3, "invalid escape");
    expect_error("\"\\u12G4\"", 1, 6, "four hex digits");
    expect_error("\"\\udc00\"", 1, 8, "unpaired low surrogate");
    expect_error("\"\\ud800x\"", 1, 9, "low surrogate");
    expect_error("\"\\ud800\\u0041\"", 1, 14, "low surrogate");
    expect_error("\"\xC0\xAF\"", 1, 2, "invalid UTF-8");         /* overlong */
    expect_error("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8");     /* encoded surrogate */
    expect_error("\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8"); /* above U+10FFFF */
    expect_error("\"\xE2\x82\"", 1, 2, "invalid UTF-8");         /* truncated */
    expect_error("01", 1, 2, "after the JSON value");
    expect_error("-", 1, 2, "digit expected");
    expect_error("1.", 1, 3, "after '.'");
    expect_error("1e+", 1, 4, "exponent");
    expect_error("1e400", 1, 6, "out of range");
    expect_error("nul", 1, 1, "unexpected character 'n'");
    expect_error("{} {}", 1, 4, "after the JSON value");
    expect_error("\x01", 1, 1, "unexpected byte 0x01");
}

static void test_limits(void **state)
{
    (void)state;
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = '\0';
    json_error err;
    assert_null(json_parse(deep, 200, NULL, &err));
    assert_non_null(strstr(err.message, "nesting deeper than 128"));
    assert_int_equal(err.column, 129);
    /* Exactly at the limit is fine. */
    memset(deep, '[', 4);
    memset(deep + 4, ']', 4);
    json_value *v = json_parse(deep, 8, &(json_limits){.max_depth = 4}, &err);
    assert_non_null(v);
    json_free(v);
    assert_null(json_parse(deep, 8, &(json_limits){.max_depth = 3}, &err));
    assert_null(json_parse("[1, 2, 3]", 9, &(json_limits){.max_size = 8}, &err));
    assert_non_null(strstr(err.message, "larger than 8 bytes"));
    /* A NULL error pointer is allowed. */
    assert_null(json_parse("[", 1, NULL, NULL));
}

static void test_build_and_write(void **state)
{
    (void)state;
    json_value *obj = json_new(JSON_OBJECT, 1, 1);
    json_value *arr = json_new(JSON_ARRAY, 1, 1);
    assert_non_null(obj);
    assert_non_null(arr);
    for (int i = 0; i < 37; i++) { /* past several reallocations */
        json_value *n = json_new(JSON_NUMBER, 1, 1);
        assert_non_null(n);
        n->u.number = i;
        assert_int_equal(json_array_push(arr, n), 0);
    }
    assert_int_equal(json_object_add(obj, "list", 4, arr), 0);
    assert_int_equal(json_object_add(obj, "s", 1, json_new_string("x\"y", 3, 1, 1)), 0);
    assert_int_equal(json_object_get(obj, "list")->u.array.count, 37);
    assert_true(json_object_get(obj, "list")->u.array.items[36]->u.number == 36);
    assert_int_equal(json_array_push(obj, json_new(JSON_NULL, 1, 1)), -1); /* not an array */
    json_free(obj);
    assert_string_equal(json_type_name(JSON_OBJECT), "object");

    /* What json_write_string writes, json_parse reads back byte for byte. */
    static const char raw[] = "a\"b\\c\n\r\t\x01\x1f\x7f \xC3\xA9 end";
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    json_write_string(f, raw, sizeof raw - 1);
    fclose(f);
    json_value *back = json_parse(text, len, NULL, NULL);
    assert_non_null(back);
    assert_int_equal(back->u.string.len, sizeof raw - 1);
    assert_memory_equal(back->u.string.ptr, raw, sizeof raw - 1);
    json_free(back);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),  cmocka_unit_test(test_positions),
        cmocka_unit_test(test_escapes), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),  cmocka_unit_test(test_build_and_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
