/*
 * test_view_traceql.c - the TraceQL subset of viewer/traceql.h: which
 * queries compile and the exact error (line, column, message) of those
 * that do not; the spans each query selects on hand-built traces (several
 * services, nesting, errors, attributes of every type, missing ones,
 * orphans, a parent cycle, two roots); the plan of chosen queries; and the
 * plan's soundness (every trace a query matches satisfies its plan) on
 * random queries. Expected results are worked out by hand from Tempo's
 * documented semantics (docs/traceql.md), not copied from the output.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "traceql.h"

#define MS 1000000ULL

/* ---- Hand-built traces ---------------------------------------------------------------- */

enum { R_FRONT, R_PAY, R_DB, R_WORKER, R_NONAME, R_COUNT };
enum { T_SHOP, T_BATCH, T_ORPHANS, T_CYCLE, T_ROOTS, T_COUNT };

#define MAX_SPANS 8
#define MAX_ATTRS 12

typedef struct trace {
    otelc_span_data spans[MAX_SPANS];
    const otelc_span_data *ptrs[MAX_SPANS];
    otelc_attr attrs[MAX_SPANS][MAX_ATTRS];
    size_t n;
} trace;

static otelc_resource *resources[R_COUNT];
static trace traces[T_COUNT];

/* One span: ids are 8 bytes ending in id (parent 0: no parent). */
static void add_span(trace *t, const char *name, uint8_t id, uint8_t parent, int res, int kind,
                     int status, const char *message, uint64_t start_ms, uint64_t end_ms,
                     const otelc_attr *attrs, size_t attr_count)
{
    otelc_span_data *sd = &t->spans[t->n];
    memset(sd, 0, sizeof *sd);
    memset(sd->context.trace_id, 0xAB, 16);
    sd->context.span_id[7] = id;
    if (parent) {
        sd->has_parent = true;
        sd->parent_span_id[7] = parent;
    }
    sd->name = name;
    sd->kind = (otelc_span_kind)kind;
    sd->status = (otelc_status_code)status;
    sd->status_message = message;
    sd->start_ns = start_ms * MS;
    sd->end_ns = end_ms * MS;
    memcpy(t->attrs[t->n], attrs, attr_count * sizeof *attrs);
    sd->attrs = t->attrs[t->n];
    sd->attr_count = (uint32_t)attr_count;
    sd->resource = res >= 0 ? resources[res] : NULL;
    t->ptrs[t->n] = sd;
    t->n++;
}

#define SPAN(t, name, id, parent, res, kind, status, msg, start, end, ...)                         \
    do {                                                                                           \
        otelc_attr a_[] = {__VA_ARGS__};                                                           \
        add_span(t, name, id, parent, res, kind, status, msg, start, end, a_,                      \
                 sizeof a_ / sizeof a_[0] - 1);                                                    \
    } while (0)
#define END_ATTRS OTELC_ATTR_STR("-", "-") /* a last element, not copied */

enum {
    UNSPEC = 0,
    INTERNAL = OTELC_SPAN_INTERNAL,
    SERVER = OTELC_SPAN_SERVER,
    CLIENT = OTELC_SPAN_CLIENT,
    PRODUCER = OTELC_SPAN_PRODUCER,
    CONSUMER = OTELC_SPAN_CONSUMER,
    UNSET = OTELC_STATUS_UNSET,
    OK = OTELC_STATUS_OK,
    ERROR = OTELC_STATUS_ERROR,
};

static otelc_attr attr_value(const char *key, otelc_value v)
{
    return (otelc_attr){key, v};
}

static void make_resources(void)
{
    otelc_attr front[] = {OTELC_ATTR_STR("service.name", "frontend"),
                          OTELC_ATTR_STR("deployment.environment", "production"),
                          OTELC_ATTR_INT("host.cpus", 4)};
    otelc_attr pay[] = {OTELC_ATTR_STR("service.name", "payments"),
                        OTELC_ATTR_STR("deployment.environment", "production"),
                        OTELC_ATTR_STR("region", "eu-west-1")};
    otelc_attr db[] = {OTELC_ATTR_STR("service.name", "postgres"),
                       OTELC_ATTR_STR("deployment.environment", "staging")};
    otelc_attr worker[] = {OTELC_ATTR_STR("service.name", "worker")};
    otelc_attr noname[] = {OTELC_ATTR_STR("host.name", "box")};
    resources[R_FRONT] = otelc_resource_new(front, 3, NULL);
    resources[R_PAY] = otelc_resource_new(pay, 3, NULL);
    resources[R_DB] = otelc_resource_new(db, 2, NULL);
    resources[R_WORKER] = otelc_resource_new(worker, 1, NULL);
    resources[R_NONAME] = otelc_resource_new(noname, 1, NULL);
}

/*
 * shop: 0 GET /checkout (frontend server, 100 ms)
 *         1 POST /pay (frontend client, 70 ms)
 *           2 POST /pay (payments server, error "card declined", 60 ms)
 *             3 SELECT payments (payments client, ok, 10 ms)
 *             4 fraud check (payments internal, 40 ms)
 *         5 render (frontend internal, 15 ms; span attribute service.name)
 */
static void make_shop(trace *t)
{
    SPAN(t, "GET /checkout", 1, 0, R_FRONT, SERVER, UNSET, NULL, 0, 100,
         OTELC_ATTR_STR("http.request.method", "GET"),
         OTELC_ATTR_INT("http.response.status_code", 200), OTELC_ATTR_STR("foo bar", "baz"),
         OTELC_ATTR_BOOL("cache.hit", true), END_ATTRS);
    SPAN(t, "POST /pay", 2, 1, R_FRONT, CLIENT, UNSET, NULL, 10, 80,
         OTELC_ATTR_STR("http.request.method", "POST"),
         OTELC_ATTR_INT("http.response.status_code", 502), END_ATTRS);
    SPAN(t, "POST /pay", 3, 2, R_PAY, SERVER, ERROR, "card declined", 15, 75,
         OTELC_ATTR_INT("http.response.status_code", 502), OTELC_ATTR_DOUBLE("amount", 12.5),
         OTELC_ATTR_BOOL("retry", true), END_ATTRS);
    SPAN(t, "SELECT payments", 4, 3, R_PAY, CLIENT, OK, NULL, 20, 30,
         OTELC_ATTR_STR("db.system", "postgresql"), OTELC_ATTR_INT("db.rows", 3), END_ATTRS);
    SPAN(t, "fraud check", 5, 3, R_PAY, INTERNAL, UNSET, NULL, 30, 70,
         OTELC_ATTR_DOUBLE("score", 0.25), OTELC_ATTR_BOOL("cache.hit", false), END_ATTRS);
    SPAN(t, "render", 6, 1, R_FRONT, INTERNAL, UNSET, NULL, 80, 95,
         OTELC_ATTR_STR("service.name", "frontend-span"), END_ATTRS);
}

static const char *tag_items[] = {"a", "b"};
static const int64_t code_items[] = {1, 2, 3};
static const double ratio_items[] = {0.5, 2.0};
static const bool flag_items[] = {true, false};
static const otelc_value mixed_items[] = {{.type = OTELC_VALUE_STRING, .u.str = {"a", 1}},
                                          {.type = OTELC_VALUE_INT, .u.i = 1}};
static const otelc_attr map_items[] = {{"x", {.type = OTELC_VALUE_STRING, .u.str = {"x", 1}}}};

/*
 * batch: 0 nightly job (worker, kind unspecified, 5 s; arrays, bytes, map, empty)
 *          1 enqueue (worker producer, 100 ms; NaN, INT64_MAX)
 *            2 dequeue (no service.name, consumer, error without message, 3.7 s)
 */
static void make_batch(trace *t)
{
    SPAN(t, "nightly job", 1, 0, R_WORKER, UNSPEC, UNSET, NULL, 0, 5000,
         attr_value("tags", (otelc_value){OTELC_VALUE_STRING_ARRAY, .u.array = {tag_items, 2}}),
         attr_value("codes", (otelc_value){OTELC_VALUE_INT_ARRAY, .u.array = {code_items, 3}}),
         attr_value("ratios", (otelc_value){OTELC_VALUE_DOUBLE_ARRAY, .u.array = {ratio_items, 2}}),
         attr_value("flags", (otelc_value){OTELC_VALUE_BOOL_ARRAY, .u.array = {flag_items, 2}}),
         attr_value("empty_tags", (otelc_value){OTELC_VALUE_STRING_ARRAY, .u.array = {NULL, 0}}),
         attr_value("blob", (otelc_value){OTELC_VALUE_BYTES, .u.str = {"a", 1}}),
         attr_value("map", (otelc_value){OTELC_VALUE_MAP, .u.array = {map_items, 1}}),
         attr_value("mixed", (otelc_value){OTELC_VALUE_ARRAY, .u.array = {mixed_items, 2}}),
         attr_value("nothing", (otelc_value){.type = OTELC_VALUE_EMPTY}), END_ATTRS);
    SPAN(t, "enqueue", 2, 1, R_WORKER, PRODUCER, UNSET, NULL, 100, 200,
         OTELC_ATTR_DOUBLE("nan", NAN), OTELC_ATTR_INT("big", INT64_MAX), END_ATTRS);
    SPAN(t, "dequeue", 3, 2, R_NONAME, CONSUMER, ERROR, NULL, 300, 4000, END_ATTRS);
}

/* orphans: every parent outside the trace but one; the earliest orphan is the root. */
static void make_orphans(trace *t)
{
    SPAN(t, "late orphan", 1, 0x99, R_PAY, SERVER, UNSET, NULL, 50, 60, END_ATTRS);
    SPAN(t, "early orphan", 2, 0x98, R_DB, CLIENT, UNSET, NULL, 10, 20, END_ATTRS);
    SPAN(t, "child of early", 3, 2, R_DB, INTERNAL, UNSET, NULL, 12, 18, END_ATTRS);
}

/* cycle: a and b are each other's parent (cut at a, the earlier), c is b's child, self its own. */
static void make_cycle(trace *t)
{
    SPAN(t, "a", 1, 2, R_FRONT, INTERNAL, UNSET, NULL, 0, 10, END_ATTRS);
    SPAN(t, "b", 2, 1, R_FRONT, INTERNAL, UNSET, NULL, 1, 9, END_ATTRS);
    SPAN(t, "self", 3, 3, R_FRONT, INTERNAL, UNSET, NULL, 2, 3, END_ATTRS);
    SPAN(t, "c", 4, 2, R_FRONT, INTERNAL, UNSET, NULL, 5, 6, END_ATTRS);
}

/* roots: two spans without a parent (the earlier is the root); a leaf that ends before it starts.
 */
static void make_roots(trace *t)
{
    SPAN(t, "second root", 1, 0, R_WORKER, SERVER, UNSET, NULL, 20, 30, END_ATTRS);
    SPAN(t, "first root", 2, 0, R_FRONT, SERVER, UNSET, NULL, 10, 40, END_ATTRS);
    SPAN(t, "leaf", 3, 2, R_FRONT, CLIENT, UNSET, NULL, 25, 15, END_ATTRS);
}

static int setup(void **state)
{
    make_resources();
    memset(traces, 0, sizeof traces);
    make_shop(&traces[T_SHOP]);
    make_batch(&traces[T_BATCH]);
    make_orphans(&traces[T_ORPHANS]);
    make_cycle(&traces[T_CYCLE]);
    make_roots(&traces[T_ROOTS]);
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < R_COUNT; i++) otelc_resource_free(resources[i]);
    return 0;
}

static vw_tql *compile_ok(const char *query)
{
    vw_tql *q = NULL;
    char err[256];
    int rc = vw_tql_compile(query, strlen(query), &q, err, sizeof err);
    if (rc != OTELC_OK) fail_msg("%s: %s", query, err);
    return q;
}

/* ---- The grammar ------------------------------------------------------------------------ */

static void test_accepted(void **state)
{
    static const char *queries[] = {
        "{}",
        "{ }",
        " \t\n{ }\n",
        "{ } && { }",
        "({ })",
        "(({ }) || { })",
        "{ ( name = \"x\" ) }",
        "{\n  name = \"x\" &&\n  status = error\n}",
        "{ span.http.request.method = \"GET\" }",
        "{ span.\"foo bar\" = \"x\" }",
        "{ span.attribute.\"name with space\" = \"x\" }",
        "{ span.\"a\\\"b\\\\c\" = 1 }",
        "{ .foo = 1 }",
        "{ .foo-bar/baz:qux = 1 }",
        "{ resource.service.name = \"a\" }",
        "{ .a=1&&.b=2||.c=3 }",
        "{ span.x = -5 }",
        "{ span.x > -1.5 }",
        "{ span.x = 1e3 }",
        "{ span.x = .5 }",
        "{ span.x = minInt || span.x = maxInt }",
        "{ span.x = -9223372036854775808 }",
        "{ span.x = 9223372036854775807 }",
        "{ duration > 1h30m }",
        "{ duration > 10us && duration < 10\xC2\xB5s && duration != 10\xCE\xBCs }",
        "{ duration > 5ns && duration < 1.5s && duration != 2m }",
        "{ duration < 1d || duration < 1w || duration < 1y }",
        "{ span.x > -5s }",
        "{ name = \"\\u00e9\\x41\\101\\n\\t\\\\\\\"\\a\\b\\f\\r\\v\\U0001F600\" }",
        "{ name = `raw \\d+ \"x\"` }",
        "{ span:name = \"x\" && span:status = ok && span:kind = server }",
        "{ span:duration > 1s && span:statusMessage = \"\" }",
        "{ trace:duration > 1s && trace:rootName = \"r\" && trace:rootService = \"s\" }",
        "{ traceDuration > 1s && rootName = \"r\" && rootServiceName = \"s\" }",
        "{ kind = unspecified || kind = internal || kind = producer || kind = consumer }",
        "{ status = unset && statusMessage != nil }",
        "{ span.x = nil || span.y != nil }",
        "{ true } || { false }",
        "{ span.flag }",
        "{ !span.flag && !!true }",
        "{ !(name = \"x\") }",
        "{ 5 < span.x && \"a\" = name && -1.5 != span.y }",
        "{ name = \"a\" } > { } >> { } < { } << { } ~ { }",
        "{ name =~ \"(?i)get|post\" && name !~ \"\\\\d+\" }",
        "{ span.x = true && span.y != false }",
        /* RE2's syntax: groups, classes, flags, lazy quantifiers, escapes. */
        "{ name =~ `(?P<n>a)(?<m>b)(?:c)(?i)d(?s:.)(?-i:e)(?#note)` }",
        "{ name =~ `[]a](?:b)[^]x][(?=]\\(?=\\++a+?b*?c??d{1,2}?\\pL\\d\\w\\s` }",
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        vw_tql_free(compile_ok(queries[i]));
}

typedef struct rejected {
    const char *query;
    size_t len; /* 0: strlen */
    const char *error;
} rejected;

static void test_rejected(void **state)
{
    static char too_long[VW_TQL_MAX_QUERY_BYTES + 2], too_deep[128], too_many[1024], not_deep[128];
    memset(too_long, ' ', VW_TQL_MAX_QUERY_BYTES + 1);
    memcpy(too_long, "{ }", 3);
    /* 33 '(' around a filter: the 33rd is one too many. */
    snprintf(too_deep, sizeof too_deep, "%.33s{ }%.33s", "((((((((((((((((((((((((((((((((((",
             "))))))))))))))))))))))))))))))))))");
    /* '{' and 31 '!' are 32 levels; a 32nd '!' is one too many. */
    snprintf(not_deep, sizeof not_deep, "{ %.32strue }", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    /* 129 filters "{ } && " (7 bytes each): the 129th starts at column 1 + 7 * 128. */
    too_many[0] = '\0';
    for (int i = 0; i < 129; i++) strcat(too_many, i ? " && { }" : "{ }");

    const rejected cases[] = {
        {"", 0, "1:1: expected '{' or '(', found end of query"},
        {"{ span.foo = }", 0, "1:14: expected a value after '=', found '}'"},
        {"{ name = \"x\" ", 0, "1:14: expected '&&', '||' or '}', found end of query"},
        {"{ name }", 0, "1:8: expected a comparison operator after 'name', found '}'"},
        {"{ name = 5 }", 0, "1:10: 'name' compares with a string"},
        {"{ trace:rootName = 5 }", 0, "1:20: 'trace:rootName' compares with a string"},
        {"{ status = \"error\" }", 0, "1:12: 'status' compares with ok, error or unset"},
        {"{ status > ok }", 0, "1:10: 'status' compares only with = or !="},
        {"{ kind = error }", 0,
         "1:10: 'kind' compares with server, client, producer, consumer, internal or unspecified"},
        {"{ duration > \"1s\" }", 0, "1:14: 'duration' compares with a duration such as 100ms"},
        {"{ span.x =~ 5 }", 0, "1:13: a regular expression must be a string"},
        {"{ span.x > true }", 0, "1:10: booleans compare only with = or !="},
        {"{ span.x > nil }", 0, "1:10: nil compares only with = or !="},
        {"{ span.x = error }", 0, "1:12: 'span.x' cannot be compared with a status"},
        {"{ span.x = server }", 0, "1:12: 'span.x' cannot be compared with a span kind"},
        {"{ name =~ \"(\" }", 0,
         "1:11: invalid regular expression: missing closing parenthesis (at offset 1)"},
        {"{ name =~ \"(a)\\\\1\" }", 0,
         "1:11: invalid regular expression: back references are not supported"},
        {"{ name =~ \"(?:(?=a*b*)a)*b*\" }", 0,
         "1:11: invalid regular expression: lookarounds, atomic groups, recursion and "
         "conditionals are not supported (at offset 3)"},
        {"{ name =~ \"a(?<=a)\" }", 0,
         "1:11: invalid regular expression: lookarounds, atomic groups, recursion and "
         "conditionals are not supported (at offset 1)"},
        {"{ name =~ \"(?>a)|(?R)\" }", 0,
         "1:11: invalid regular expression: lookarounds, atomic groups, recursion and "
         "conditionals are not supported (at offset 0)"},
        {"{ name =~ \"(a)(?1)\" }", 0,
         "1:11: invalid regular expression: lookarounds, atomic groups, recursion and "
         "conditionals are not supported (at offset 3)"},
        {"{ name =~ \"(?(1)a|b)\" }", 0,
         "1:11: invalid regular expression: lookarounds, atomic groups, recursion and "
         "conditionals are not supported (at offset 0)"},
        {"{ name =~ \"(*ACCEPT)a\" }", 0,
         "1:11: invalid regular expression: (*VERB) and (*assertion) groups are not supported "
         "(at offset 0)"},
        {"{ name =~ \"a++b\" }", 0,
         "1:11: invalid regular expression: possessive quantifiers are not supported (at offset "
         "2)"},
        {"{ name =~ \"a{2}+\" }", 0,
         "1:11: invalid regular expression: possessive quantifiers are not supported (at offset "
         "4)"},
        {"{ name =~ `a\\Kb` }", 0,
         "1:11: invalid regular expression: back references, subroutine calls and \\K are not "
         "supported (at offset 1)"},
        {"{ name =~ `(a)\\g{1}` }", 0,
         "1:11: invalid regular expression: back references, subroutine calls and \\K are not "
         "supported (at offset 3)"},
        {"{ a = 1 }", 0, "1:3: unknown field 'a': attributes are written span.a, resource.a or .a"},
        {"{ http.method = \"GET\" }", 0,
         "1:3: unknown field 'http.method': attributes are written span.http.method, "
         "resource.http.method or .http.method"},
        {"count() > 1", 0, "1:1: expected '{' or '(', found 'count'"},
        {"{ } | count() > 1", 0, "1:5: pipelines ('|') are not supported"},
        {"{ } &>> { }", 0, "1:5: the '&>>' operator is not supported"},
        {"{ } !~ { }", 0, "1:5: the '!~' operator is not supported"},
        {"{ } { }", 0, "1:5: expected '&&', '||', '>', '>>', '<', '<<', '~' or the end, found '{'"},
        {"{ span.x + 1 = 2 }", 0, "1:10: expected '&&', '||' or '}', found '+'"},
        {"{ !span.x = 1 }", 0, "1:3: '!' binds tighter than '=': write !( ... )"},
        {"{ !5 < span.x }", 0, "1:3: '!' binds tighter than a comparison: write !( ... )"},
        {"{ name = \"x\" } &&", 0, "1:18: expected '{' or '(', found end of query"},
        {"{ (name = \"x\" }", 0, "1:15: expected '&&', '||' or ')', found '}'"},
        {"({ }", 0, "1:5: expected ')', found end of query"},
        {"{ && }", 0, "1:3: expected a condition, found '&&'"},
        {"{ duration > 5x }", 0,
         "1:14: invalid duration '5x' (units: ns, us, ms, s, m, h, d, w, y)"},
        {"{ duration > 1e3s }", 0,
         "1:14: invalid duration '1e3s' (units: ns, us, ms, s, m, h, d, w, y)"},
        {"{ duration > 1.5.5s }", 0,
         "1:14: invalid duration '1.5.5s' (units: ns, us, ms, s, m, h, d, w, y)"},
        {"{ duration > 300000y }", 0,
         "1:14: invalid duration '300000y' (units: ns, us, ms, s, m, h, d, w, y)"},
        {"{ span.x = 9223372036854775808 }", 0, "1:12: integer out of range"},
        {"{ span.x = -9223372036854775809 }", 0, "1:13: integer out of range"},
        {"{ span.x = -minInt }", 0, "1:12: integer out of range"},
        {"{ span.x = 1e999 }", 0, "1:12: number out of range"},
        {"{ span.x = -\"a\" }", 0,
         "1:13: expected a number or a duration after '-', found '\"a\"'"},
        {"{ name = \"abc }", 0, "1:10: unterminated string"},
        {"{ name = `abc }", 0, "1:10: unterminated string"},
        {"{ name = \"a\\qb\" }", 0, "1:12: unknown escape sequence in string"},
        {"{ name = \"a\\'\" }", 0, "1:12: unknown escape sequence in string"},
        {"{ name = \"a\\u12\" }", 0, "1:12: invalid escape sequence in string"},
        {"{ name = \"a\\ud800\" }", 0, "1:12: invalid escape sequence in string"},
        {"{ name = \"a\\U00110000\" }", 0, "1:12: invalid escape sequence in string"},
        {"{ name = \"a\\400\" }", 0, "1:12: invalid escape sequence in string"},
        {"{ name = \"a\\x4\" }", 0, "1:12: invalid escape sequence in string"},
        {"{ name = \"line\nbreak\" }", 0, "1:10: newline in string"},
        {"{ span.\"foo = 1 }", 0, "1:8: unterminated quoted attribute name"},
        {"{ span.\"a\\x\" = 1 }", 0, "1:10: invalid escape in attribute name (only \\\" and \\\\)"},
        {"{ span. = 1 }", 0, "1:8: expected an attribute name after '.'"},
        {"{ . = 1 }", 0, "1:4: expected an attribute name after '.'"},
        {"{ event.x = 1 }", 0, "1:3: 'event.' attributes are not supported"},
        {"{ parent.span.x = 1 }", 0, "1:3: 'parent.' attributes are not supported"},
        {"{ span:id = \"1\" }", 0, "1:3: 'span:id' is not supported"},
        {"{ name = 'x' }", 0, "1:10: unexpected character '''"},
        {"{ name & \"x\" }", 0, "1:8: unexpected character '&'"},
        {"{ 1 = 1 }", 0, "1:7: expected a field after '=', found '1'"},
        {"{ span.a = span.b }", 0, "1:12: comparing two fields is not supported"},
        {"{ \"a.*\" =~ name }", 0, "1:9: the pattern goes on the right of '=~'"},
        {"{ \"x\" }", 0, "1:7: expected a comparison operator after a value, found '}'"},
        {"{\n  name =\n}", 0, "3:1: expected a value after '=', found '}'"},
        {"{ name = \"\xC3\xA9\" } x", 0,
         "1:16: expected '&&', '||', '>', '>>', '<', '<<', '~' or the end, found 'x'"},
        {"{ name = \"\xFF\" }", 0, "1:11: invalid UTF-8"},
        {"{ }\0", 4, "1:4: NUL byte in query"},
        {too_long, 0, "1:1: query longer than 4096 bytes"},
        {too_deep, 0, "1:33: nested deeper than 32 levels"},
        {not_deep, 0, "1:34: nested deeper than 32 levels"},
        {too_many, 0, "1:897: more than 128 conditions"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vw_tql *q = (vw_tql *)1;
        char err[256];
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].query);
        int rc = vw_tql_compile(cases[i].query, len, &q, err, sizeof err);
        if (rc != OTELC_ERR_PARSE || q != NULL || strcmp(err, cases[i].error) != 0)
            fail_msg("%s\n  got:  %d %s\n  want: %s", cases[i].query, rc, rc ? err : "(compiled)",
                     cases[i].error);
    }
}

/* 128 conditions and 32 levels are allowed; an error message is cut to the buffer. */
static void test_bounds(void **state)
{
    char query[1024] = "";
    for (int i = 0; i < 128; i++) strcat(query, i ? " && { }" : "{ }");
    vw_tql_free(compile_ok(query));
    snprintf(query, sizeof query, "%.31s{ }%.31s", "(((((((((((((((((((((((((((((((((",
             ")))))))))))))))))))))))))))))))))");
    vw_tql_free(compile_ok(query));

    vw_tql *q;
    char small[8];
    assert_int_equal(vw_tql_compile("{ x }", 5, &q, small, sizeof small), OTELC_ERR_PARSE);
    assert_string_equal(small, "1:3: un");
    assert_int_equal(vw_tql_compile("{ x }", 5, &q, NULL, 0), OTELC_ERR_PARSE);
    assert_null(q);
    assert_int_equal(vw_tql_compile(NULL, 0, &q, small, sizeof small), OTELC_ERR_PARSE);
    /* Cut short, a message keeps whole characters: not the first byte of the 'é'. */
    char cut[30];
    assert_int_equal(vw_tql_compile("{ \xC3\xA9 }", 6, &q, cut, 29), OTELC_ERR_PARSE);
    assert_string_equal(cut, "1:3: unexpected character '");
    assert_int_equal(vw_tql_compile("{ \xC3\xA9 }", 6, &q, cut, 30), OTELC_ERR_PARSE);
    assert_string_equal(cut, "1:3: unexpected character '\xC3\xA9");
    /* A duration runs over whole characters: a micro sign, not half of a no-break space. */
    char err[128];
    assert_int_equal(vw_tql_compile("{ duration > 5\xC2\xB5 }", 17, &q, err, sizeof err),
                     OTELC_ERR_PARSE);
    assert_string_equal(err,
                        "1:14: invalid duration '5\xC2\xB5' (units: ns, us, ms, s, m, h, d, w, y)");
    assert_int_equal(vw_tql_compile("{ duration > 5\xC2\xA0 }", 17, &q, err, sizeof err),
                     OTELC_ERR_PARSE);
    assert_string_equal(err, "1:15: unexpected character '\xC2\xA0'");
    vw_tql_free(NULL);
}

/* ---- Results on the traces ---------------------------------------------------------------- */

typedef struct result {
    int trace;
    const char *query;
    const char *spans; /* the indexes of the spans in the final spanset, "" for no match */
} result;

static const result results[] = {
    /* Intrinsics. */
    {T_SHOP, "{ }", "0,1,2,3,4,5"},
    {T_SHOP, "{ name = \"POST /pay\" }", "1,2"},
    {T_SHOP, "{ name != \"POST /pay\" }", "0,3,4,5"},
    {T_SHOP, "{ status = error }", "2"},
    {T_SHOP, "{ status != error }", "0,1,3,4,5"},
    {T_SHOP, "{ status = ok }", "3"},
    {T_SHOP, "{ status = unset }", "0,1,4,5"},
    {T_SHOP, "{ kind = server }", "0,2"},
    {T_SHOP, "{ kind = client }", "1,3"},
    {T_SHOP, "{ kind = internal }", "4,5"},
    {T_SHOP, "{ kind = unspecified }", ""},
    {T_SHOP, "{ duration > 50ms }", "0,1,2"},
    {T_SHOP, "{ duration >= 60ms && duration < 100ms }", "1,2"},
    {T_SHOP, "{ duration = 10ms }", "3"},
    {T_SHOP, "{ duration <= 15ms }", "3,5"},
    {T_SHOP, "{ duration = 10000000 }", "3"},
    {T_SHOP, "{ duration > 0.5 }", "0,1,2,3,4,5"},
    {T_SHOP, "{ duration > 0.1s && duration < 1m }", ""},
    {T_SHOP, "{ traceDuration > 90ms }", "0,1,2,3,4,5"},
    {T_SHOP, "{ traceDuration > 100ms }", ""},
    {T_SHOP, "{ rootName = \"GET /checkout\" }", "0,1,2,3,4,5"},
    {T_SHOP, "{ rootServiceName = \"frontend\" }", "0,1,2,3,4,5"},
    {T_SHOP, "{ rootServiceName = \"payments\" }", ""},
    {T_SHOP, "{ statusMessage = \"card declined\" }", "2"},
    {T_SHOP, "{ statusMessage = \"\" }", "0,1,3,4,5"},
    {T_SHOP, "{ span:name = \"render\" && span:kind = internal && span:duration = 15ms }", "5"},
    {T_SHOP,
     "{ trace:rootService = \"frontend\" && trace:duration = 100ms && "
     "trace:rootName = \"GET /checkout\" && span:status = ok }",
     "3"},
    {T_SHOP, "{ name > \"R\" }", "3,4,5"},
    {T_SHOP, "{ name <= \"POST /pay\" }", "0,1,2"},
    {T_SHOP, "{ name = nil }", ""},
    {T_SHOP, "{ name != nil && status != nil }", "0,1,2,3,4,5"},
    /* Scopes. */
    {T_SHOP, "{ resource.service.name = \"payments\" }", "2,3,4"},
    {T_SHOP, "{ resource.service.name = \"frontend\" }", "0,1,5"},
    {T_SHOP, "{ .service.name = \"frontend\" }", "0,1"},
    {T_SHOP, "{ span.service.name = \"frontend-span\" }", "5"},
    {T_SHOP, "{ resource.region = \"eu-west-1\" }", "2,3,4"},
    {T_SHOP, "{ span.region = \"eu-west-1\" }", ""},
    {T_SHOP, "{ .region = \"eu-west-1\" }", "2,3,4"},
    {T_SHOP, "{ resource.host.cpus = 4 }", "0,1,5"},
    {T_SHOP, "{ .host.cpus >= 4 }", "0,1,5"},
    {T_SHOP, "{ span.http.request.method = \"GET\" }", "0"},
    {T_SHOP, "{ span.\"foo bar\" = \"baz\" }", "0"},
    {T_SHOP, "{ span.foo\" bar\" = \"baz\" }", "0"},
    /* Types, and != on missing attributes. */
    {T_SHOP, "{ span.http.response.status_code >= 500 }", "1,2"},
    {T_SHOP, "{ span.http.response.status_code != 200 }", "1,2"},
    {T_SHOP, "{ span.http.response.status_code = \"200\" }", ""},
    {T_SHOP, "{ span.http.response.status_code != \"200\" }", ""},
    {T_SHOP, "{ span.http.response.status_code > 2e2 }", "1,2"},
    {T_SHOP, "{ 200 = span.http.response.status_code }", "0"},
    {T_SHOP, "{ 500 <= span.http.response.status_code }", "1,2"},
    {T_SHOP, "{ span.missing != \"x\" }", ""},
    {T_SHOP, "{ span.missing = nil }", "0,1,2,3,4,5"},
    {T_SHOP, "{ span.amount > 12 }", "2"},
    {T_SHOP, "{ span.amount = 12.5 }", "2"},
    {T_SHOP, "{ span.amount < 12.5 }", ""},
    {T_SHOP, "{ span.amount = nil }", "0,1,3,4,5"},
    {T_SHOP, "{ span.db.rows = 3.0 }", "3"},
    {T_SHOP, "{ span.db.rows = 3ns }", "3"},
    {T_SHOP, "{ span.db.system != nil }", "3"},
    {T_SHOP, "{ span.db.system = nil }", "0,1,2,4,5"},
    {T_SHOP, "{ span.cache.hit }", "0"},
    {T_SHOP, "{ !span.cache.hit }", "1,2,3,4,5"},
    {T_SHOP, "{ span.cache.hit = false }", "4"},
    {T_SHOP, "{ span.cache.hit != true }", "4"},
    {T_SHOP, "{ span.retry = true && status = error }", "2"},
    {T_SHOP, "{ span.http.request.method > \"H\" }", "1"},
    /* Regular expressions: fully anchored. */
    {T_SHOP, "{ name =~ \"POST\" }", ""},
    {T_SHOP, "{ name =~ \"POST.*\" }", "1,2"},
    {T_SHOP, "{ name !~ \"POST.*\" }", "0,3,4,5"},
    {T_SHOP, "{ name =~ \"(?i)get /CHECKOUT\" }", "0"},
    {T_SHOP, "{ name =~ `\\w+ /\\w+` }", "0,1,2"},
    {T_SHOP, "{ name =~ \".*pay.*\" }", "1,2,3"},
    {T_SHOP, "{ name =~ \"[a-z ]+\" }", "4,5"},
    {T_SHOP, "{ name =~ \"render|fraud\" }", "5"},
    {T_SHOP, "{ .http.request.method =~ \"P.*\" }", "1"},
    {T_SHOP, "{ span.http.response.status_code =~ \"5.*\" }", ""},
    {T_SHOP, "{ span.http.response.status_code !~ \"5.*\" }", ""},
    {T_SHOP, "{ span.missing !~ \".*\" }", ""},
    /* Boolean operators: && and || bind equally, from the left (Tempo's grammar). */
    {T_SHOP, "{ status = ok || status = error && kind = internal }", ""},
    {T_SHOP, "{ (status = ok || status = error) && kind = client }", "3"},
    {T_SHOP, "{ status = ok || (status = error && kind = server) }", "2,3"},
    {T_SHOP, "{ !(status = ok) && !(kind = server) }", "1,4,5"},
    {T_SHOP, "{ true }", "0,1,2,3,4,5"},
    {T_SHOP, "{ false }", ""},
    {T_SHOP, "{ !false && !!true }", "0,1,2,3,4,5"},
    {T_SHOP, "{ resource.deployment.environment = \"production\" && status = error }", "2"},
    /* Spanset operators. */
    {T_SHOP, "{ resource.deployment.environment = \"production\" } && { status = error }",
     "0,1,2,3,4,5"},
    {T_SHOP, "{ status = error } && { status = ok }", "2,3"},
    {T_SHOP, "{ status = error } && { name = \"nope\" }", ""},
    {T_SHOP, "{ status = error } || { name = \"nope\" }", "2"},
    {T_SHOP, "{ status = error } || { status = ok }", "2,3"},
    {T_SHOP, "{ status = ok } || { status = error } && { kind = producer }", ""},
    {T_SHOP, "{ status = ok } || ({ status = error } && { kind = producer })", "3"},
    {T_SHOP, "{ kind = client } > { kind = server }", "2"},
    {T_SHOP, "{ kind = server } > { kind = server }", ""},
    {T_SHOP, "{ name = \"GET /checkout\" } > { }", "1,5"},
    {T_SHOP, "{ } > { name = \"fraud check\" }", "4"},
    {T_SHOP, "{ name = \"fraud check\" } > { }", ""},
    {T_SHOP, "{ resource.service.name = \"frontend\" } >> { status = error }", "2"},
    {T_SHOP, "{ resource.service.name = \"payments\" } >> { }", "3,4"},
    {T_SHOP, "{ } >> { }", "1,2,3,4,5"},
    {T_SHOP, "{ status = error } < { }", "1"},
    {T_SHOP, "{ status = error } << { }", "0,1"},
    {T_SHOP, "{ kind = client } << { kind = server }", "0,2"},
    {T_SHOP, "{ kind = client } ~ { }", "4,5"},
    {T_SHOP, "{ name = \"SELECT payments\" } ~ { name = \"SELECT payments\" }", ""},
    {T_SHOP, "({ kind = client } > { kind = server }) >> { status = ok }", "3"},
    {T_SHOP, "{ kind = client } > { kind = server } >> { status = ok }", "3"},
    {T_SHOP, "{ status = error } && { kind = client } > { kind = server }", "2"},
    {T_SHOP, "{ name = \"nope\" } >> { } || { status = ok }", "3"},

    /* Arrays, bytes, maps, the empty value, NaN. */
    {T_BATCH, "{ span.tags = \"a\" }", "0"},
    {T_BATCH, "{ span.tags = \"c\" }", ""},
    {T_BATCH, "{ span.tags != \"a\" }", ""},
    {T_BATCH, "{ span.tags != \"c\" }", "0"},
    {T_BATCH, "{ span.tags =~ \"[ab]\" }", "0"},
    {T_BATCH, "{ span.tags !~ \"[ab]\" }", ""},
    {T_BATCH, "{ span.tags > \"a\" }", "0"},
    {T_BATCH, "{ span.tags = 1 }", ""},
    {T_BATCH, "{ span.codes = 2 }", "0"},
    {T_BATCH, "{ span.codes > 2 }", "0"},
    {T_BATCH, "{ span.codes > 3 }", ""},
    {T_BATCH, "{ span.codes != 4 }", "0"},
    {T_BATCH, "{ span.codes = \"2\" }", ""},
    {T_BATCH, "{ span.codes != \"2\" }", ""},
    {T_BATCH, "{ span.ratios = 2 }", "0"},
    {T_BATCH, "{ span.ratios < 0.1 }", ""},
    {T_BATCH, "{ span.flags = false }", "0"},
    {T_BATCH, "{ span.flags != true }", ""},
    {T_BATCH, "{ span.empty_tags != \"a\" }", "0"},
    {T_BATCH, "{ span.empty_tags = \"a\" }", ""},
    {T_BATCH, "{ span.blob = \"a\" }", ""},
    {T_BATCH, "{ span.blob != \"a\" }", ""},
    {T_BATCH, "{ span.blob != nil && span.map != nil }", "0"},
    {T_BATCH, "{ span.map = \"x\" }", ""},
    {T_BATCH, "{ span.mixed = \"a\" || span.mixed = 1 }", ""},
    {T_BATCH, "{ span.nothing = nil }", "0,1,2"},
    {T_BATCH, "{ span.nothing != nil }", ""},
    {T_BATCH, "{ span.nothing != \"x\" }", ""},
    {T_BATCH, "{ span.nan != 1 }", "1"},
    {T_BATCH, "{ span.nan > 0 || span.nan <= 0 || span.nan = 1 }", ""},
    {T_BATCH, "{ span.big = maxInt }", "1"},
    {T_BATCH, "{ span.big > 9223372036854775806 }", "1"},
    {T_BATCH, "{ kind = unspecified }", "0"},
    {T_BATCH, "{ kind = producer } && { kind = consumer }", "1,2"},
    {T_BATCH, "{ kind = producer } > { kind = consumer }", "2"},
    {T_BATCH, "{ status = error && statusMessage = \"\" }", "2"},
    {T_BATCH, "{ rootServiceName = \"worker\" }", "0,1,2"},
    {T_BATCH, "{ resource.service.name = nil }", "2"},
    {T_BATCH, "{ .service.name != \"worker\" }", ""},
    {T_BATCH, "{ duration > 1s }", "0,2"},
    {T_BATCH, "{ duration > 1m }", ""},
    {T_BATCH, "{ duration >= 3.7s }", "0,2"},
    {T_BATCH, "{ duration > 3700ms }", "0"},
    {T_BATCH, "{ traceDuration = 5s }", "0,1,2"},

    /* Orphans: the root is the earliest span whose parent is missing. */
    {T_ORPHANS, "{ rootName = \"early orphan\" }", "0,1,2"},
    {T_ORPHANS, "{ rootServiceName = \"postgres\" }", "0,1,2"},
    {T_ORPHANS, "{ } > { }", "2"},
    {T_ORPHANS, "{ } << { }", "1"},
    {T_ORPHANS, "{ name = \"early orphan\" } ~ { }", ""},
    {T_ORPHANS, "{ traceDuration = 50ms }", "0,1,2"},

    /* A parent cycle, cut at a (the earlier of a and b); a span that is its own parent. */
    {T_CYCLE, "{ rootName = \"a\" }", "0,1,2,3"},
    {T_CYCLE, "{ name = \"a\" } >> { }", "1,3"},
    {T_CYCLE, "{ name = \"b\" } >> { name = \"a\" }", ""},
    {T_CYCLE, "{ } > { name = \"a\" }", ""},
    {T_CYCLE, "{ name = \"c\" } << { }", "0,1"},
    {T_CYCLE, "{ } ~ { }", ""},
    {T_CYCLE, "{ } >> { name = \"self\" }", ""},

    /* Two spans without a parent: the earlier is the root. A span ending before it starts. */
    {T_ROOTS, "{ rootName = \"first root\" }", "0,1,2"},
    {T_ROOTS, "{ rootServiceName = \"frontend\" }", "0,1,2"},
    {T_ROOTS, "{ duration = 0 }", "2"},
    {T_ROOTS, "{ duration < 1ns }", "2"},
    {T_ROOTS, "{ traceDuration = 30ms }", "0,1,2"},
    {T_ROOTS, "{ name = \"first root\" } > { }", "2"},
    {T_ROOTS, "{ name = \"second root\" } ~ { name = \"first root\" }", ""},
};

static void expect_spans(const char *list, bool *want, size_t n)
{
    memset(want, 0, n * sizeof *want);
    for (const char *p = list; *p;) {
        char *end;
        long i = strtol(p, &end, 10);
        assert_true(i >= 0 && (size_t)i < n);
        want[i] = true;
        p = *end == ',' ? end + 1 : end;
    }
}

static void test_results(void **state)
{
    for (size_t c = 0; c < sizeof results / sizeof results[0]; c++) {
        const trace *t = &traces[results[c].trace];
        vw_tql *q = compile_ok(results[c].query);
        bool got[MAX_SPANS], want[MAX_SPANS];
        expect_spans(results[c].spans, want, t->n);
        bool match = vw_tql_match(q, t->ptrs, t->n, got);
        char got_list[64] = "";
        for (size_t i = 0; i < t->n; i++)
            if (got[i]) snprintf(got_list + strlen(got_list), 8, "%s%zu", *got_list ? "," : "", i);
        if (strcmp(got_list, results[c].spans) != 0 || match != (*results[c].spans != '\0'))
            fail_msg("trace %d, %s\n  got:  [%s] %d\n  want: [%s]", results[c].trace,
                     results[c].query, got_list, match, results[c].spans);
        /* The same answer without the spans, and a plan the trace satisfies. */
        assert_int_equal(vw_tql_match(q, t->ptrs, t->n, NULL), match);
        if (match && !vw_tql_plan_holds(vw_tql_get_plan(q), t->ptrs, t->n))
            fail_msg("trace %d, %s: matches but fails its plan", results[c].trace,
                     results[c].query);
        vw_tql_free(q);
    }
}

/*
 * Patterns that make a backtracking matcher take exponential time, on a
 * 200 KB value: the DFA matcher stays linear (ctest's timeout would catch
 * a regression).
 */
static void test_regex_on_long_values(void **state)
{
    enum { N = 100000 };
    char *name = malloc(2 * N + 1);
    assert_non_null(name);
    memset(name, 'a', N);
    memset(name + N, 'b', N);
    name[2 * N] = '\0';
    otelc_span_data sd = {.name = name};
    const otelc_span_data *ptr = &sd;
    static const struct {
        const char *query;
        bool match;
    } cases[] = {
        {"{ name =~ \"(a|aa)*b*\" }", true},    {"{ name =~ \"(a*)*b*c\" }", false},
        {"{ name =~ \"(a+a+)+b+\" }", true},    {"{ name =~ \"(a+a+)+c\" }", false},
        {"{ name =~ \"(.*a){20}.*\" }", true},  {"{ name =~ \".*.*.*.*.*.*=.*\" }", false},
        {"{ name =~ \"(a|b|ab|ba)*\" }", true}, {"{ name !~ \"a*b*\" }", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vw_tql *q = compile_ok(cases[i].query);
        if (vw_tql_match(q, &ptr, 1, NULL) != cases[i].match) fail_msg("%s", cases[i].query);
        vw_tql_free(q);
    }
    free(name);
}

/* No spans: no match. A query is evaluated the same way any number of times. */
static void test_empty_trace(void **state)
{
    vw_tql *q = compile_ok("{ }");
    bool matched[1] = {true};
    assert_false(vw_tql_match(q, NULL, 0, matched));
    assert_false(vw_tql_match(q, NULL, 0, NULL));
    assert_true(vw_tql_match(q, traces[T_SHOP].ptrs, 1, NULL));
    assert_true(vw_tql_match(q, traces[T_SHOP].ptrs, 1, NULL));
    vw_tql_free(q);
}

/* A chain of 100,000 spans, and one that is a single cycle: linear work, no deep recursion. */
static void test_long_chains(void **state)
{
    enum { N = 100000 };
    otelc_span_data *spans = calloc(N, sizeof *spans);
    const otelc_span_data **ptrs = calloc(N, sizeof *ptrs);
    bool *matched = calloc(N, sizeof *matched);
    assert_non_null(spans);
    for (size_t i = 0; i < N; i++) {
        for (int k = 0; k < 8; k++)
            spans[i].context.span_id[k] = (uint8_t)((i + 1) >> (8 * (7 - k)));
        for (int k = 0; k < 8; k++) spans[i].parent_span_id[k] = (uint8_t)(i >> (8 * (7 - k)));
        spans[i].has_parent = i > 0;
        spans[i].name = i == N - 1 ? "leaf" : "link";
        spans[i].start_ns = i;
        spans[i].end_ns = 2 * N - i;
        ptrs[i] = &spans[i];
    }
    vw_tql *desc = compile_ok("{ name = \"link\" } >> { name = \"leaf\" }");
    vw_tql *anc = compile_ok("{ name = \"leaf\" } << { }");
    assert_true(vw_tql_match(desc, ptrs, N, matched));
    assert_true(matched[N - 1] && !matched[0]);
    assert_true(vw_tql_match(anc, ptrs, N, matched));
    assert_true(matched[0] && matched[N - 2] && !matched[N - 1]);
    /* Close the chain into a cycle: it is cut at span 0, the earliest. */
    spans[0].has_parent = true;
    for (int k = 0; k < 8; k++)
        spans[0].parent_span_id[k] = (uint8_t)((uint64_t)N >> (8 * (7 - k)));
    vw_tql *root = compile_ok("{ rootName = \"link\" && span:duration = 200000ns } >> { }");
    assert_true(vw_tql_match(root, ptrs, N, matched));
    assert_true(!matched[0] && matched[1] && matched[N - 1]);
    assert_true(vw_tql_match(anc, ptrs, N, matched));
    assert_true(matched[0] && !matched[N - 1]);
    vw_tql_free(desc);
    vw_tql_free(anc);
    vw_tql_free(root);
    free(spans);
    free(ptrs);
    free(matched);
}

/* ---- Plans -------------------------------------------------------------------------------- */

/* A plan as text: "#span condition; ...", then "trace=[min,max]". */
static void describe_plan(const vw_tql_plan *plan, char *out, size_t size)
{
    static const char *scopes[] = {"span.", "resource.", "."};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < plan->cond_count; i++) {
        const vw_tql_cond *c = &plan->conds[i];
        char one[160];
        switch (c->kind) {
        case VW_TQL_COND_NAME:
            snprintf(one, sizeof one, "name=\"%.*s\"", (int)c->str_len, c->str);
            break;
        case VW_TQL_COND_SERVICE:
            snprintf(one, sizeof one, "service=\"%.*s\"", (int)c->str_len, c->str);
            break;
        case VW_TQL_COND_STATUS:
            snprintf(one, sizeof one, "status=%lld", (long long)c->i);
            break;
        case VW_TQL_COND_KIND:
            snprintf(one, sizeof one, "kind=%lld", (long long)c->i);
            break;
        case VW_TQL_COND_DURATION:
            snprintf(one, sizeof one, "duration=[%llu,%llu]", (unsigned long long)c->min_ns,
                     (unsigned long long)c->max_ns);
            break;
        case VW_TQL_COND_ATTR_STR:
            snprintf(one, sizeof one, "%s%s=\"%.*s\"", scopes[c->scope], c->key, (int)c->str_len,
                     c->str);
            break;
        case VW_TQL_COND_ATTR_INT:
            snprintf(one, sizeof one, "%s%s=%lld", scopes[c->scope], c->key, (long long)c->i);
            break;
        }
        len += (size_t)snprintf(out + len, size - len, "%s#%u %s", len ? "; " : "", c->span, one);
    }
    if (plan->has_trace_duration)
        snprintf(out + len, size - len, "%strace=[%llu,%llu]", len ? "; " : "",
                 (unsigned long long)plan->trace_min_ns, (unsigned long long)plan->trace_max_ns);
}

#define MAXI "9223372036854775807"

static void test_plans(void **state)
{
    static const struct {
        const char *query, *plan;
    } cases[] = {
        {"{ }", ""},
        {"{ name = \"a\" }", "#0 name=\"a\""},
        {"{ name = \"a\" && status = error && duration > 1s }",
         "#0 name=\"a\"; #0 status=2; #0 duration=[1000000001," MAXI "]"},
        {"{ name = \"a\" } && { resource.service.name = \"s\" }",
         "#0 name=\"a\"; #1 service=\"s\""},
        {"{ kind = client } > { status = error }", "#0 kind=3; #1 status=2"},
        {"{ kind = unspecified } >> { status = unset }", "#0 kind=0; #1 status=0"},
        {"{ name = \"a\" || name = \"b\" }", ""},
        {"{ name = \"a\" && kind = server || name = \"a\" }", "#0 name=\"a\""},
        {"{ name = \"a\" } || { name = \"a\" && status = error }", "#0 name=\"a\""},
        {"{ name = \"a\" } || { name = \"b\" }", ""},
        {"{ status = error } || { kind = server }", ""},
        {"{ duration >= 1s && duration <= 2s }", "#0 duration=[1000000000,2000000000]"},
        {"{ duration > 1s || duration < 10ms }", ""},
        {"{ duration > 1s || duration > 2s }", "#0 duration=[1000000001," MAXI "]"},
        {"{ duration > 2s && duration < 1s }", "#0 duration=[1,0]"},
        {"{ duration < 0 }", "#0 duration=[1,0]"},
        {"{ duration >= -5s }", ""},
        {"{ duration = 10ms }", "#0 duration=[10000000,10000000]"},
        {"{ duration > 1.5 }", ""},
        {"{ duration != 1s }", ""},
        {"{ traceDuration > 1s }", "trace=[1000000001," MAXI "]"},
        {"{ traceDuration > 1s } || { traceDuration < 1s }", ""},
        {"{ traceDuration > 1s && name = \"a\" } && { traceDuration < 5s }",
         "#0 name=\"a\"; trace=[1000000001,4999999999]"},
        {"{ !(name = \"a\") }", ""},
        {"{ name != \"a\" }", ""},
        {"{ name =~ \"a\" }", ""},
        {"{ span.flag }", ""},
        {"{ span.x = true || span.y = 1.5 || span.z = nil }", ""},
        {"{ span.http.status_code = 200 }", "#0 span.http.status_code=200"},
        {"{ span.k = 1ms }", "#0 span.k=1000000"},
        {"{ 200 = span.k }", "#0 span.k=200"},
        {"{ .k = \"v\" }", "#0 .k=\"v\""},
        {"{ resource.k = \"v\" }", "#0 resource.k=\"v\""},
        {"{ .service.name = \"v\" }", "#0 .service.name=\"v\""},
        {"{ span.service.name = \"v\" }", "#0 span.service.name=\"v\""},
        {"{ rootName = \"r\" && name = \"a\" }", "#0 name=\"a\"; #1 name=\"r\""},
        {"{ rootServiceName = \"svc\" }", "#0 service=\"svc\""},
        {"{ trace:rootName = \"r\" } || { rootName = \"r\" && status = ok }", "#0 name=\"r\""},
        {"{ name = \"a\" && name = \"a\" }", "#0 name=\"a\""},
        {"{ name = \"a\" } >> ({ name = \"b\" } || { name = \"b\" && kind = server })",
         "#0 name=\"a\"; #1 name=\"b\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vw_tql *q = compile_ok(cases[i].query);
        char got[512];
        describe_plan(vw_tql_get_plan(q), got, sizeof got);
        if (strcmp(got, cases[i].plan) != 0)
            fail_msg("%s\n  got:  %s\n  want: %s", cases[i].query, got, cases[i].plan);
        vw_tql_free(q);
    }
}

/* The in-memory check of a plan, on plans written by hand. */
static void test_plan_holds(void **state)
{
    const trace *shop = &traces[T_SHOP], *batch = &traces[T_BATCH];
    /* One span with name "POST /pay" and status error: span 2. */
    vw_tql_cond same[] = {{.kind = VW_TQL_COND_NAME, .str = "POST /pay", .str_len = 9},
                          {.kind = VW_TQL_COND_STATUS, .i = OTELC_STATUS_ERROR}};
    vw_tql_plan plan = {.conds = same, .cond_count = 2, .span_count = 1};
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    /* Name "render" and status error on one span: none; on two spans: yes. */
    same[0] = (vw_tql_cond){.kind = VW_TQL_COND_NAME, .str = "render", .str_len = 6};
    assert_false(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    same[1].span = 1;
    plan.span_count = 2;
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));

    vw_tql_cond one;
    plan = (vw_tql_plan){.conds = &one, .cond_count = 1, .span_count = 1};
    one = (vw_tql_cond){.kind = VW_TQL_COND_SERVICE, .str = "payments", .str_len = 8};
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    assert_false(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    one = (vw_tql_cond){.kind = VW_TQL_COND_KIND, .i = 0};
    assert_false(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    assert_true(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    one = (vw_tql_cond){.kind = VW_TQL_COND_DURATION, .min_ns = 10 * MS, .max_ns = 10 * MS};
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    one.min_ns = 11 * MS, one.max_ns = 14 * MS;
    assert_false(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    /* Attributes: an int matches a double of the same value and int and double arrays. */
    one = (vw_tql_cond){
        .kind = VW_TQL_COND_ATTR_INT, .scope = VW_TQL_SCOPE_SPAN, .key = "ratios", .i = 2};
    assert_true(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    one.key = "codes", one.i = 3;
    assert_true(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    one.i = 4;
    assert_false(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    one = (vw_tql_cond){.kind = VW_TQL_COND_ATTR_STR,
                        .scope = VW_TQL_SCOPE_SPAN,
                        .key = "tags",
                        .str = "b",
                        .str_len = 1};
    assert_true(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    one.key = "blob", one.str = "a";
    assert_false(vw_tql_plan_holds(&plan, batch->ptrs, batch->n));
    /* Scopes: region is a resource attribute of payments. */
    one = (vw_tql_cond){.kind = VW_TQL_COND_ATTR_STR,
                        .scope = VW_TQL_SCOPE_SPAN,
                        .key = "region",
                        .str = "eu-west-1",
                        .str_len = 9};
    assert_false(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    one.scope = VW_TQL_SCOPE_RESOURCE;
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    one.scope = VW_TQL_SCOPE_ANY;
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    /* The trace's duration: 100 ms. */
    plan = (vw_tql_plan){
        .has_trace_duration = true, .trace_min_ns = 100 * MS, .trace_max_ns = 100 * MS};
    assert_true(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
    plan.trace_min_ns = 101 * MS, plan.trace_max_ns = UINT64_MAX;
    assert_false(vw_tql_plan_holds(&plan, shop->ptrs, shop->n));
}

/* ---- Random queries: every match satisfies the plan ------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* Comparisons that hold on some spans of the traces and not on others. */
static const char *random_atoms[] = {
    "name = \"POST /pay\"",
    "name = \"render\"",
    "name = \"dequeue\"",
    "name != \"render\"",
    "name =~ \"POST.*\"",
    "name > \"m\"",
    "status = error",
    "status = ok",
    "status != unset",
    "kind = server",
    "kind = client",
    "kind = unspecified",
    "kind = internal",
    "duration > 50ms",
    "duration <= 15ms",
    "duration = 10ms",
    "duration >= 1s",
    "duration < 1ns",
    "duration > 0.5",
    "traceDuration > 1s",
    "traceDuration <= 100ms",
    "traceDuration = 30ms",
    "rootName = \"GET /checkout\"",
    "rootName = \"a\"",
    "rootServiceName = \"worker\"",
    "rootServiceName = \"postgres\"",
    "resource.service.name = \"payments\"",
    "resource.service.name = \"frontend\"",
    ".service.name = \"frontend\"",
    "span.service.name = \"frontend-span\"",
    "span.http.response.status_code = 502",
    "span.http.response.status_code >= 500",
    "200 = span.http.response.status_code",
    "span.tags = \"a\"",
    "span.codes = 2",
    "span.ratios = 2",
    "span.amount = 12.5",
    "span.db.rows = 3",
    "span.db.rows = 3ns",
    "span.cache.hit",
    "span.flags = false",
    ".region = \"eu-west-1\"",
    "resource.region = \"eu-west-1\"",
    "resource.host.cpus = 4",
    "resource.deployment.environment = \"production\"",
    "span.nothing = nil",
    "statusMessage = \"card declined\"",
    "true",
    "false",
};

static void random_condition(char *out, size_t size, int depth)
{
    size_t len = strlen(out);
    unsigned pick = depth <= 0 ? 0 : rnd(6);
    if (pick <= 1) {
        snprintf(out + len, size - len, "%s",
                 random_atoms[rnd(sizeof random_atoms / sizeof random_atoms[0])]);
    } else if (pick == 2) {
        snprintf(out + len, size - len, "!(");
        random_condition(out, size, depth - 1);
        strncat(out, ")", size - strlen(out) - 1);
    } else if (pick == 3) {
        snprintf(out + len, size - len, "(");
        random_condition(out, size, depth - 1);
        strncat(out, ")", size - strlen(out) - 1);
    } else {
        random_condition(out, size, depth - 1);
        strncat(out, rnd(2) ? " && " : " || ", size - strlen(out) - 1);
        random_condition(out, size, depth - 1);
    }
}

static void random_spansets(char *out, size_t size, int depth)
{
    static const char *ops[] = {" && ", " || ", " > ", " >> ", " < ", " << ", " ~ "};
    unsigned pick = depth <= 0 ? 0 : rnd(5);
    if (pick <= 1) {
        strncat(out, rnd(8) ? "{ " : "{", size - strlen(out) - 1);
        if (rnd(8)) random_condition(out, size, 3);
        strncat(out, " }", size - strlen(out) - 1);
    } else if (pick == 2) {
        strncat(out, "(", size - strlen(out) - 1);
        random_spansets(out, size, depth - 1);
        strncat(out, ")", size - strlen(out) - 1);
    } else {
        random_spansets(out, size, depth - 1);
        strncat(out, ops[rnd(7)], size - strlen(out) - 1);
        random_spansets(out, size, depth - 1);
    }
}

static void test_plan_is_sound(void **state)
{
    size_t matches = 0, excluded = 0, with_conditions = 0;
    for (int k = 0; k < 20000; k++) {
        char query[VW_TQL_MAX_QUERY_BYTES] = "";
        random_spansets(query, sizeof query, 3);
        vw_tql *q;
        char err[256];
        if (vw_tql_compile(query, strlen(query), &q, err, sizeof err) != OTELC_OK) {
            assert_true(strstr(err, "more than") != NULL); /* the generator can exceed the bounds */
            continue;
        }
        const vw_tql_plan *plan = vw_tql_get_plan(q);
        with_conditions += plan->cond_count > 0 || plan->has_trace_duration;
        for (int t = 0; t < T_COUNT; t++) {
            bool matched[MAX_SPANS], some = false;
            bool match = vw_tql_match(q, traces[t].ptrs, traces[t].n, matched);
            for (size_t i = 0; i < traces[t].n; i++) some = some || matched[i];
            assert_int_equal(match, some);
            bool holds = vw_tql_plan_holds(plan, traces[t].ptrs, traces[t].n);
            if (match && !holds) fail_msg("trace %d matches %s but fails its plan", t, query);
            matches += match;
            excluded += !holds;
        }
        vw_tql_free(q);
    }
    /* The property was exercised: many matches, and plans that do exclude traces. */
    assert_true(matches > 5000);
    assert_true(excluded > 5000);
    assert_true(with_conditions > 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),      cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_bounds),        cmocka_unit_test(test_results),
        cmocka_unit_test(test_empty_trace),   cmocka_unit_test(test_long_chains),
        cmocka_unit_test(test_plans),         cmocka_unit_test(test_plan_holds),
        cmocka_unit_test(test_plan_is_sound), cmocka_unit_test(test_regex_on_long_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
