/*
 * test_json.c - the JSON reader (src/json.c, src/json_reader.c): values,
 * escapes, positions, errors with line and column, limits, exact 64-bit
 * integers, the lossy UTF-8 mode, the builders and the writer; the token
 * reader itself, strings scanned eight bytes a step, short decimals.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static json_doc doc;

static int teardown(void **state)
{
    (void)state;
    otelc__json_free(&doc);
    return 0;
}

static json_value *parse_opt(const char *text, const json_options *opt, json_error *err)
{
    otelc__json_free(&doc);
    return otelc__json_parse(&doc, text, strlen(text), opt, err);
}

static json_value *parse(const char *text, json_error *err)
{
    return parse_opt(text, NULL, err);
}

/* Parsing must fail at line:column with a message containing word. */
static void expect_error(const char *text, unsigned line, unsigned column, const char *word)
{
    json_error err;
    json_value *v = parse(text, &err);
    if (v) fail_msg("parsed but should not: %s", text);
    if (err.kind != JSON_ERR_SYNTAX || err.line != line || err.column != column ||
        !strstr(err.message, word))
        fail_msg("%s: got %u:%u \"%s\", want %u:%u \"%s\"", text, err.line, err.column, err.message,
                 line, column, word);
    assert_null(doc.root);
}

static void test_values(void **state)
{
    (void)state;
    json_error err;
    json_value *v =
        parse(" {\"a\": [1, -2.5e2, true, false, null], \"b\": {\"c\": \"d\"}, \"e\": []} ", &err);
    assert_non_null(v);
    assert_ptr_equal(doc.root, v);
    assert_int_equal(v->type, JSON_OBJECT);
    assert_int_equal(v->u.object.count, 3);
    const json_value *a = otelc__json_object_get(v, "a");
    assert_non_null(a);
    assert_int_equal(a->type, JSON_ARRAY);
    assert_int_equal(a->u.array.count, 5);
    assert_true(a->u.array.items[0]->u.number.d == 1.0);
    assert_true(a->u.array.items[1]->u.number.d == -250.0);
    assert_int_equal(a->u.array.items[2]->type, JSON_BOOL);
    assert_true(a->u.array.items[2]->u.boolean);
    assert_false(a->u.array.items[3]->u.boolean);
    assert_int_equal(a->u.array.items[4]->type, JSON_NULL);
    assert_string_equal(otelc__json_object_get(otelc__json_object_get(v, "b"), "c")->u.string.ptr,
                        "d");
    assert_int_equal(otelc__json_object_get(v, "e")->u.array.count, 0);
    assert_null(otelc__json_object_get(v, "zz"));
    assert_null(otelc__json_object_get(a, "a")); /* not an object */
    /* Any value may be the root; a byte order mark is allowed. */
    v = parse("\xEF\xBB\xBF \"x\"", &err);
    assert_non_null(v);
    assert_string_equal(v->u.string.ptr, "x");
    /* Many members and items: the parser's stacks grow past their first size. */
    static char big[20000] = "[";
    char *w = big + 1;
    for (int i = 0; i < 1000; i++) w += sprintf(w, "%s{\"k%d\":%d}", i ? "," : "", i, i);
    strcpy(w, "]");
    v = parse(big, &err);
    assert_non_null(v);
    assert_int_equal(v->u.array.count, 1000);
    assert_int_equal(otelc__json_object_get(v->u.array.items[999], "k999")->u.number.i, 999);
}

static void test_positions(void **state)
{
    (void)state;
    json_value *v = parse("{\n  \"name\": \"x\",\n\t\"steps\": [\n    7\n  ]\n}", NULL);
    assert_non_null(v);
    assert_int_equal(v->line, 1);
    assert_int_equal(v->column, 1);
    const json_value *name = otelc__json_object_get(v, "name");
    assert_int_equal(name->line, 2);
    assert_int_equal(name->column, 11);
    const json_value *steps = otelc__json_object_get(v, "steps");
    assert_int_equal(steps->line, 3);
    assert_int_equal(steps->column, 11);
    assert_int_equal(steps->u.array.items[0]->line, 4);
    assert_int_equal(steps->u.array.items[0]->column, 5);
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
    /* Raw UTF-8 passes through untouched, keys are decoded like values. */
    v = parse("{\"\xE6\x97\xA5\\u672c\": \"\xE6\x97\xA5\xE6\x9C\xAC\"}", NULL);
    assert_non_null(v);
    assert_string_equal(v->u.object.members[0].key, "\xE6\x97\xA5\xE6\x9C\xAC");
    assert_int_equal(v->u.object.members[0].key_len, 6);
    assert_string_equal(v->u.object.members[0].value->u.string.ptr, "\xE6\x97\xA5\xE6\x9C\xAC");
    /* Decoded strings that follow one another in the arena do not overlap. */
    v = parse("[\"a\\tb\", \"c\\u0064\", \"\"]", NULL);
    assert_non_null(v);
    assert_string_equal(v->u.array.items[0]->u.string.ptr, "a\tb");
    assert_string_equal(v->u.array.items[1]->u.string.ptr, "cd");
    assert_string_equal(v->u.array.items[2]->u.string.ptr, "");
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
    expect_error("\"ab\\", 1, 5, "invalid escape");
    expect_error("\"a\tb\"", 1, 3, "control character");
    expect_error("\"\\x\"", 1, 3, "invalid escape");
    expect_error("\"\\u12G4\"", 1, 6, "four hex digits");
    expect_error("\"\\u12", 1, 6, "four hex digits");
    expect_error("\"\\udc00\"", 1, 8, "unpaired low surrogate");
    expect_error("\"\\ud800x\"", 1, 9, "low surrogate");
    expect_error("\"\\ud800\\u0041\"", 1, 14, "low surrogate");
    expect_error("\"\\ud800", 1, 8, "low surrogate");
    expect_error("\"\xC0\xAF\"", 1, 2, "invalid UTF-8");         /* overlong */
    expect_error("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8");     /* encoded surrogate */
    expect_error("\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8"); /* above U+10FFFF */
    expect_error("\"\xE2\x82\"", 1, 2, "invalid UTF-8");         /* truncated */
    expect_error("01", 1, 2, "after the JSON value");
    expect_error("-", 1, 2, "digit expected");
    expect_error("1.", 1, 3, "after '.'");
    expect_error("1e+", 1, 4, "exponent");
    expect_error("1e400", 1, 6, "out of range");
    expect_error("-1e400", 1, 7, "out of range");
    expect_error("nul", 1, 1, "unexpected character 'n'");
    expect_error("{} {}", 1, 4, "after the JSON value");
    expect_error("\x01", 1, 1, "unexpected byte 0x01");
    /* A byte order mark does not count as columns. */
    expect_error("\xEF\xBB\xBF[", 1, 2, "end of input");
}

static void test_limits(void **state)
{
    (void)state;
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = '\0';
    json_error err;
    assert_null(parse(deep, &err));
    assert_non_null(strstr(err.message, "nesting deeper than 128"));
    assert_int_equal(err.kind, JSON_ERR_LIMIT);
    assert_int_equal(err.column, 129);
    /* Exactly at the limit is fine. */
    memcpy(deep, "[[[[]]]]", 9);
    assert_non_null(parse_opt(deep, &(json_options){.max_depth = 4}, &err));
    assert_null(parse_opt(deep, &(json_options){.max_depth = 3}, &err));
    assert_null(parse_opt("[1, 2, 3]", &(json_options){.max_size = 8}, &err));
    assert_non_null(strstr(err.message, "larger than 8 bytes"));
    assert_int_equal(err.kind, JSON_ERR_LIMIT);
    /* A NULL error pointer is allowed; a document that failed holds nothing. */
    assert_null(parse("[", NULL));
    assert_null(doc.root);
    assert_null(doc.arena.chunks);
}

static const json_number *number(const char *text)
{
    json_value *v = parse(text, NULL);
    assert_non_null(v);
    assert_int_equal(v->type, JSON_NUMBER);
    return &v->u.number;
}

/* Integer literals keep their exact value: OTLP/JSON's int64 and fixed64 go past 2^53. */
static void test_exact_integers(void **state)
{
    (void)state;
    const json_number *n = number("9007199254740993"); /* 2^53 + 1: no double holds it */
    assert_true(n->is_int && n->is_uint);
    assert_int_equal(n->i, 9007199254740993LL);
    assert_true(n->d == 9007199254740992.0);
    n = number("-9223372036854775808");
    assert_true(n->is_int && !n->is_uint);
    assert_true(n->i == INT64_MIN);
    n = number("18446744073709551615");
    assert_true(!n->is_int && n->is_uint);
    assert_true(n->u == UINT64_MAX);
    n = number("9223372036854775808"); /* INT64_MAX + 1 */
    assert_true(!n->is_int && n->is_uint);
    assert_true(n->u == 9223372036854775808ULL);
    n = number("18446744073709551616"); /* beyond 64 bits: only the double */
    assert_false(n->is_int || n->is_uint);
    assert_true(n->d == 18446744073709551616.0);
    n = number("-9223372036854775809");
    assert_false(n->is_int || n->is_uint);
    n = number("-0");
    assert_true(n->is_int && n->i == 0);
    n = number("1.0"); /* a fraction or an exponent is not an integer literal */
    assert_false(n->is_int || n->is_uint);
    assert_true(n->d == 1.0);
    n = number("1e2");
    assert_false(n->is_int || n->is_uint);
    assert_true(n->d == 100.0);
    n = number("0.1");
    assert_true(n->d == 0.1);
}

/* A program with a decimal-comma locale still reads and writes JSON numbers with a point. */
static void test_locale(void **state)
{
    (void)state;
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) skip();
    assert_true(number("2.5")->d == 2.5);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    otelc__json_write(f, doc.root);
    fclose(f);
    setlocale(LC_NUMERIC, "C");
    assert_string_equal(text, "2.5");
    free(text);
}

static void test_int64_helpers(void **state)
{
    (void)state;
    json_value *v = parse("[\"-9223372036854775808\", \"18446744073709551615\", 12, \"12\", "
                          "1e3, 2.5, \"\", \"-\", \"+1\", \" 1\", \"1x\", -1, "
                          "\"9223372036854775808\", \"18446744073709551616\", true, null, "
                          "9007199254740993]",
                          NULL);
    assert_non_null(v);
    json_value **it = v->u.array.items;
    int64_t i;
    uint64_t u;
    assert_true(otelc__json_int64(it[0], &i) && i == INT64_MIN);
    assert_false(otelc__json_uint64(it[0], &u));
    assert_false(otelc__json_int64(it[1], &i));
    assert_true(otelc__json_uint64(it[1], &u) && u == UINT64_MAX);
    assert_true(otelc__json_int64(it[2], &i) && i == 12);
    assert_true(otelc__json_int64(it[3], &i) && i == 12);
    assert_true(otelc__json_uint64(it[3], &u) && u == 12);
    assert_true(otelc__json_int64(it[4], &i) && i == 1000); /* exact, though written with e */
    assert_true(otelc__json_uint64(it[4], &u) && u == 1000);
    for (int k = 5; k <= 10; k++) { /* 2.5, "", "-", "+1", " 1", "1x" */
        assert_false(otelc__json_int64(it[k], &i));
        assert_false(otelc__json_uint64(it[k], &u));
    }
    assert_true(otelc__json_int64(it[11], &i) && i == -1);
    assert_false(otelc__json_uint64(it[11], &u));
    assert_false(otelc__json_int64(it[12], &i));
    assert_true(otelc__json_uint64(it[12], &u) && u == 9223372036854775808ULL);
    assert_false(otelc__json_uint64(it[13], &u));
    assert_false(otelc__json_int64(it[14], &i));
    assert_false(otelc__json_int64(it[15], &i));
    assert_true(otelc__json_int64(it[16], &i) && i == 9007199254740993LL);
    assert_false(otelc__json_int64(NULL, &i));
}

/* Receivers replace what is not text by U+FFFD instead of refusing the whole document. */
static void test_lossy_utf8(void **state)
{
    (void)state;
    json_options lossy = {.lossy_utf8 = true};
    json_value *v = parse_opt("[\"a\xC0z\", \"\\udc00\", \"\\ud800x\", \"\\ud800\\u0041\", "
                              "\"\xE2\x82\", \"\\ud83d\\ude00\"]",
                              &lossy, NULL);
    assert_non_null(v);
    json_value **it = v->u.array.items;
    assert_string_equal(it[0]->u.string.ptr, "a\xEF\xBF\xBDz");
    assert_string_equal(it[1]->u.string.ptr, "\xEF\xBF\xBD");
    assert_string_equal(it[2]->u.string.ptr, "\xEF\xBF\xBDx");
    assert_string_equal(it[3]->u.string.ptr, "\xEF\xBF\xBD"
                                             "A");
    assert_string_equal(it[4]->u.string.ptr, "\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_string_equal(it[5]->u.string.ptr, "\xF0\x9F\x98\x80");
    /* Only the text is forgiven, not the syntax. */
    assert_null(parse_opt("\"a\tb\"", &lossy, NULL));
    assert_null(parse_opt("\"\\u12\"", &lossy, NULL));
}

static void test_build_and_write(void **state)
{
    (void)state;
    json_doc built = JSON_DOC_INIT;
    json_value *obj = otelc__json_new(&built, JSON_OBJECT, 1, 1);
    json_value *arr = otelc__json_new(&built, JSON_ARRAY, 1, 1);
    assert_non_null(obj);
    assert_non_null(arr);
    for (int i = 0; i < 37; i++) { /* past several moves of the list */
        json_value *n = otelc__json_new(&built, JSON_NUMBER, 1, 1);
        assert_non_null(n);
        n->u.number.d = i;
        assert_int_equal(otelc__json_array_push(&built, arr, n), 0);
    }
    assert_int_equal(otelc__json_object_add(&built, obj, "list", 4, arr), 0);
    assert_int_equal(otelc__json_object_add(&built, obj, "s", 1,
                                            otelc__json_new_string(&built, "x\"y", 3, 1, 1)),
                     0);
    assert_int_equal(otelc__json_object_get(obj, "list")->u.array.count, 37);
    for (int i = 0; i < 37; i++)
        assert_true(otelc__json_object_get(obj, "list")->u.array.items[i]->u.number.d == i);
    assert_int_equal(otelc__json_array_push(&built, obj, otelc__json_new(&built, JSON_NULL, 1, 1)),
                     -1); /* not an array */
    assert_string_equal(otelc__json_type_name(JSON_OBJECT), "object");

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    otelc__json_write(f, obj);
    fclose(f);
    assert_true(strncmp(text, "{\"list\":[0,1,2,", 15) == 0);
    static const char tail[] = "35,36],\"s\":\"x\\\"y\"}";
    assert_true(len > sizeof tail);
    assert_string_equal(text + len - (sizeof tail - 1), tail);
    free(text);
    otelc__json_free(&built);

    /* What the string writer writes, the parser reads back byte for byte. */
    static const char raw[] = "a\"b\\c\n\r\t\x01\x1f\x7f \xC3\xA9 end";
    f = open_memstream(&text, &len);
    assert_non_null(f);
    otelc__json_write_string(f, raw, sizeof raw - 1);
    fclose(f);
    json_value *back = otelc__json_parse(&built, text, len, NULL, NULL);
    assert_non_null(back);
    assert_int_equal(back->u.string.len, sizeof raw - 1);
    assert_memory_equal(back->u.string.ptr, raw, sizeof raw - 1);
    otelc__json_free(&built);
    free(text);

    /* Exact integers are written as they were read. */
    json_value *v =
        parse("[9007199254740993,-9223372036854775808,18446744073709551615,0.5,1e300]", NULL);
    assert_non_null(v);
    f = open_memstream(&text, &len);
    assert_non_null(f);
    otelc__json_write(f, v);
    fclose(f);
    assert_string_equal(
        text,
        "[9007199254740993,-9223372036854775808,18446744073709551615,0.5,1.0000000000000001e+300]");
    free(text);
}

/* ---- The token reader ------------------------------------------------------------------- */

static void test_tokens(void **state)
{
    (void)state;
    static const char text[] = "{\"a\": [1, \"x\\u0041\", {\"b\": null}],\n \"c\": true}";
    static const struct {
        json_token_type type;
        unsigned line, column;
        const char *str;
    } want[] = {
        {JSON_TOKEN_OBJECT_BEGIN, 1, 1, NULL}, {JSON_TOKEN_KEY, 1, 2, "a"},
        {JSON_TOKEN_ARRAY_BEGIN, 1, 7, NULL},  {JSON_TOKEN_NUMBER, 1, 8, NULL},
        {JSON_TOKEN_STRING, 1, 11, "xA"},      {JSON_TOKEN_OBJECT_BEGIN, 1, 22, NULL},
        {JSON_TOKEN_KEY, 1, 23, "b"},          {JSON_TOKEN_NULL, 1, 28, NULL},
        {JSON_TOKEN_OBJECT_END, 1, 32, NULL},  {JSON_TOKEN_ARRAY_END, 1, 33, NULL},
        {JSON_TOKEN_KEY, 2, 2, "c"},           {JSON_TOKEN_BOOL, 2, 7, NULL},
        {JSON_TOKEN_OBJECT_END, 2, 11, NULL},  {JSON_TOKEN_END, 2, 12, NULL},
        {JSON_TOKEN_END, 2, 12, NULL},
    };
    json_reader r;
    json_token t;
    otelc__json_reader_init(&r, text, sizeof text - 1, NULL);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(otelc__json_next(&r, &t), want[i].type);
        assert_int_equal(t.type, want[i].type);
        if (t.line != want[i].line || t.column != want[i].column)
            fail_msg("token %zu at %u:%u, want %u:%u", i, t.line, t.column, want[i].line,
                     want[i].column);
        if (want[i].str) {
            assert_int_equal(t.len, strlen(want[i].str));
            assert_memory_equal(t.str, want[i].str, t.len);
        }
        if (t.type == JSON_TOKEN_NUMBER) assert_true(t.number.is_int && t.number.i == 1);
        if (t.type == JSON_TOKEN_BOOL) assert_true(t.boolean);
    }
    otelc__json_reader_free(&r);
}

static void test_token_skip_and_errors(void **state)
{
    (void)state;
    static const char text[] = "[{\"a\":[1,[2]],\"b\":{}},\"after\"]";
    json_reader r;
    json_token t;
    otelc__json_reader_init(&r, text, sizeof text - 1, NULL);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_ARRAY_BEGIN);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_OBJECT_BEGIN);
    assert_true(otelc__json_skip(&r, &t));
    assert_int_equal(t.type, JSON_TOKEN_OBJECT_END);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_STRING);
    assert_int_equal(t.len, 5);
    assert_true(otelc__json_skip(&r, &t)); /* a scalar: nothing to skip */
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_ARRAY_END);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_END);
    otelc__json_reader_free(&r);

    /* The reader's errors are the parser's, and stay. */
    static const char bad[] = "[1,{\"a\" 2}]";
    json_error err;
    assert_null(parse(bad, &err));
    otelc__json_reader_init(&r, bad, sizeof bad - 1, NULL);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_ARRAY_BEGIN);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_NUMBER);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_OBJECT_BEGIN);
    assert_false(otelc__json_skip(&r, &t));
    assert_int_equal(t.type, JSON_TOKEN_ERROR);
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_ERROR);
    assert_int_equal(r.error.kind, JSON_ERR_SYNTAX);
    assert_int_equal(r.error.line, err.line);
    assert_int_equal(r.error.column, err.column);
    assert_string_equal(r.error.message, err.message);
    otelc__json_reader_free(&r);

    /* Size is checked before anything is read. */
    otelc__json_reader_init(&r, "[1]", 3, &(json_options){.max_size = 2});
    assert_int_equal(otelc__json_next(&r, &t), JSON_TOKEN_ERROR);
    assert_int_equal(r.error.kind, JSON_ERR_LIMIT);
    otelc__json_reader_free(&r);
}

/*
 * Strings are scanned eight bytes a step: a byte that ends or changes the
 * plain run (quote, escape, control character, UTF-8, DEL which is plain)
 * must be seen at every offset within and across the steps.
 */
static void test_string_scan_offsets(void **state)
{
    (void)state;
    static const struct {
        const char *insert; /* JSON text put at the offset */
        const char *decoded;
        bool ok;
    } cases[] = {
        {"\\n", "\n", true},           {"\\\"", "\"", true},  {"\xc3\xa9", "\xc3\xa9", true},
        {"\x7f", "\x7f", true},        {"\x01", NULL, false}, {"\xff", NULL, false},
        {"\\u00e9", "\xc3\xa9", true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t at = 0; at < 20; at++) {
            char text[64], want[64];
            snprintf(text, sizeof text, "\"%.*s%s%.*s\"", (int)at, "aaaaaaaaaaaaaaaaaaaaaaaa",
                     cases[c].insert, (int)(19 - at), "bbbbbbbbbbbbbbbbbbbbbbbb");
            json_value *v = parse(text, NULL);
            if (!cases[c].ok) {
                if (v) fail_msg("accepted: %s", text);
                continue;
            }
            if (!v || v->type != JSON_STRING) fail_msg("refused: %s", text);
            snprintf(want, sizeof want, "%.*s%s%.*s", (int)at, "aaaaaaaaaaaaaaaaaaaaaaaa",
                     cases[c].decoded, (int)(19 - at), "bbbbbbbbbbbbbbbbbbbbbbbb");
            assert_string_equal(v->u.string.ptr, want);
            assert_int_equal(v->u.string.len, strlen(want));
        }
    }
}

/* Short decimals skip strtod: the value must be strtod's, bit for bit. */
static void test_short_decimals(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "0.75",
        "-0.1",
        "0.1",
        "123456789.012345",
        "0.000000000000001",
        "9.999999999999999",
        "-0.0",
        "3.14159",
        "1.5e3",
        "1234567890123456.5",
        "0.3000000000000000444",
        "2.675",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_value *v = parse(texts[i], NULL);
        assert_non_null(v);
        double want = strtod(texts[i], NULL);
        if (memcmp(&v->u.number.d, &want, sizeof want) != 0)
            fail_msg("%s read as %.17g, strtod says %.17g", texts[i], v->u.number.d, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_values, teardown),
        cmocka_unit_test_teardown(test_positions, teardown),
        cmocka_unit_test_teardown(test_escapes, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_limits, teardown),
        cmocka_unit_test_teardown(test_exact_integers, teardown),
        cmocka_unit_test_teardown(test_locale, teardown),
        cmocka_unit_test_teardown(test_int64_helpers, teardown),
        cmocka_unit_test_teardown(test_lossy_utf8, teardown),
        cmocka_unit_test_teardown(test_build_and_write, teardown),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test_teardown(test_token_skip_and_errors, teardown),
        cmocka_unit_test_teardown(test_string_scan_offsets, teardown),
        cmocka_unit_test_teardown(test_short_decimals, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
