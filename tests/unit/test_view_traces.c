/*
 * test_view_traces.c - `otelc traces` on a store file (--db): every
 * subcommand's output, messages and exit status as a script sees them,
 * the checks of assert on complete and broken traces, the JUnit report it
 * writes read back by `otelc junit`'s own parser, and export's two
 * formats as the Collector's file exporter writes them.
 *
 * vw_traces_main() runs in this process with stdout and stderr sent to
 * files, which each call reads back. --url is tested against the
 * viewer's own query API (api.c) on the same store: every subcommand must
 * print the same through both sources.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api.h"
#include "decode_proto.h"
#include "export/otlp.h"
#include "store.h"
#include "trace_source.h"
#include "traces.h"
#ifdef OTELC_HAVE_EXPAT
#include "junit_parse.h"
#endif

#define SEC 1000000000ull
#define T0  (1700000000ull * SEC) /* 2023-11-14T22:13:20Z */

static char dir[] = "/tmp/otelc-traces-XXXXXX";
static char db[256];
static char out[1 << 20], err[1 << 14];

/* ---- Running the command --------------------------------------------------------------------- */

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Capture one stream of this process into path while the command runs. */
static int redirect(int fd, const char *path)
{
    int saved = dup(fd);
    int file = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(saved >= 0 && file >= 0);
    dup2(file, fd);
    close(file);
    return saved;
}

/* `otelc traces` with argv[0..argc) after it; out and err receive what it printed. */
static int run_argv(int argc, const char *const *args)
{
    char *argv[40] = {"traces"};
    assert_true(argc < 39);
    for (int i = 0; i < argc; i++) argv[i + 1] = (char *)args[i];
    char out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    fflush(stdout);
    fflush(stderr);
    int o = redirect(1, out_path), e = redirect(2, err_path);
    int rc = vw_traces_main(argc + 1, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(o, 1);
    dup2(e, 2);
    close(o);
    close(e);
    slurp(out_path, out, sizeof out);
    slurp(err_path, err, sizeof err);
    return rc;
}

/* `otelc traces ARGS...` (NULL-terminated). */
static int run(const char *first, ...)
{
    const char *args[40];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 39; a = va_arg(ap, const char *)) args[n++] = a;
    va_end(ap);
    return run_argv(n, args);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle))) fail_msg("\"%s\" not in:\n%s", (needle), (hay));             \
    } while (0)

/* ---- The store: five traces of every shape --------------------------------------------------- */

static const otelc_scope_info scope = {.name = "test", .version = "1"};

static void set_id(uint8_t *p, size_t n, unsigned v)
{
    memset(p, 0, n);
    p[n - 2] = (uint8_t)(v >> 8);
    p[n - 1] = (uint8_t)v;
}

/* The hex id of trace t, as the command prints it. */
static const char *hex_of(unsigned t)
{
    static char hex[8][33];
    static int next;
    char *h = hex[next++ % 8];
    snprintf(h, 33, "%028x%04x", 0, t);
    return h;
}

static otelc_span_data *span(vw_batch *b, const otelc_resource *res, unsigned t, unsigned s,
                             unsigned parent, const char *name, unsigned at_s)
{
    otelc_span_data *sd = vw_batch_add_span(b);
    assert_non_null(sd);
    set_id(sd->context.trace_id, 16, t);
    set_id(sd->context.span_id, 8, s);
    sd->context.trace_flags = 1;
    if (parent) {
        sd->has_parent = true;
        set_id(sd->parent_span_id, 8, parent);
    }
    sd->name = name;
    sd->kind = parent ? OTELC_SPAN_INTERNAL : OTELC_SPAN_SERVER;
    sd->start_ns = T0 + at_s * SEC + s * 1000000u;
    sd->end_ns = sd->start_ns + 5000000u * (4 - (s > 3 ? 3 : s));
    sd->resource = res;
    sd->scope = &scope;
    return sd;
}

static const otelc_resource *service(vw_batch *b, const char *name)
{
    otelc_attr a = OTELC_ATTR_STR("service.name", name);
    return vw_batch_add_resource(b, &a, 1, NULL);
}

/*
 * 1 shop "GET /checkout": complete, three spans.   2 shop "GET /broken": a parent missing.
 * 3 batch: two roots.   4 pay "GET /pay": two error spans.   5 queue: a root with a remote parent.
 */
static void fill_store(void)
{
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *shop = service(&b, "shop"), *batch = service(&b, "batch"),
                         *pay = service(&b, "pay"), *queue = service(&b, "queue");
    span(&b, shop, 1, 1, 0, "GET /checkout", 10);
    span(&b, shop, 1, 2, 1, "SELECT cart", 10);
    span(&b, shop, 1, 3, 1, "charge", 10);
    span(&b, shop, 2, 1, 0, "GET /broken", 20);
    span(&b, shop, 2, 2, 99, "orphan", 20);
    span(&b, batch, 3, 1, 0, "job a", 30);
    span(&b, batch, 3, 2, 0, "job b", 30);
    span(&b, pay, 4, 1, 0, "GET /pay", 40);
    otelc_span_data *e1 = span(&b, pay, 4, 2, 1, "SELECT pay", 40);
    e1->status = OTELC_STATUS_ERROR;
    e1->status_message = "db down";
    otelc_span_data *retry = span(&b, pay, 4, 3, 1, "retry", 40);
    retry->status = OTELC_STATUS_ERROR;
    /* A map in a map ... as deep as the viewer keeps: --url's JSON reader must take it. */
    static otelc_attr nested[VW_MAX_VALUE_DEPTH + 1];
    nested[0] = (otelc_attr)OTELC_ATTR_INT("leaf", 42);
    for (int i = 1; i <= VW_MAX_VALUE_DEPTH; i++)
        nested[i] = (otelc_attr){
            .key = "m", .value = {.type = OTELC_VALUE_MAP, .u.array = {&nested[i - 1], 1}}};
    static otelc_attr deep;
    deep = nested[VW_MAX_VALUE_DEPTH];
    retry->attrs = &deep;
    retry->attr_count = 1;
    otelc_span_data *consumer = span(&b, queue, 5, 1, 77, "consume", 50);
    consumer->parent_is_remote = true;
    consumer->kind = OTELC_SPAN_CONSUMER;
    span(&b, queue, 5, 2, 1, "handle", 50);

    vw_store_options o = {.path = db};
    vw_store *s = NULL;
    char e[256];
    assert_int_equal(vw_store_open(&o, &s, e, sizeof e), 0);
    const vw_batch *bs[] = {&b};
    assert_int_equal(vw_store_write(s, bs, 1, e, sizeof e), 0);
    vw_store_close(s);
    vw_batch_free(&b);
}

/* ---- list
 * ---------------------------------------------------------------------------------------- */

static void test_list_table(void **state)
{
    (void)state;
    assert_int_equal(run("list", "--db", db, NULL), 0);
    assert_int_equal(count_lines(out), 6); /* header and five traces */
    assert_true(strncmp(out, "TRACE ID", 8) == 0);
    /* Newest first, with the root's service and name, spans, errors and the start in UTC. */
    const char *first = strchr(out, '\n') + 1;
    assert_true(strncmp(first, hex_of(5), 32) == 0);
    const char *pay = strstr(out, hex_of(4));
    assert_non_null(pay);
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(strchr(pay, '\n') - pay), pay);
    assert_contains(line, "pay");
    assert_contains(line, "GET /pay");
    assert_contains(line, "  3       2  ");
    assert_contains(line, "15.000ms"); /* 40.001 s to 40.016 s after T0 */
    assert_contains(line, "2023-11-14T22:14:00.001Z");
    assert_string_equal(err, "");
}

static void test_list_query_limit_json(void **state)
{
    (void)state;
    assert_int_equal(run("list", "{ resource.service.name = \"shop\" }", "--db", db, NULL), 0);
    assert_int_equal(count_lines(out), 3);
    assert_contains(out, hex_of(1));
    assert_contains(out, hex_of(2));

    /* Options before the subcommand, --limit, JSON lines. */
    assert_int_equal(run("--db", db, "list", "--limit", "2", "--json", NULL), 0);
    assert_int_equal(count_lines(out), 2);
    /* Trace 5's first span has a remote parent: it is the trace's root, as Tempo names it. */
    char want[1024];
    snprintf(want, sizeof want,
             "{\"traceID\":\"%s\",\"rootServiceName\":\"queue\",\"rootTraceName\":\"consume\","
             "\"startTimeUnixNano\":\"%llu\",\"durationNanos\":\"15000000\",\"spanCount\":2,"
             "\"errorCount\":0}\n"
             "{\"traceID\":\"%s\",\"rootServiceName\":\"pay\",\"rootTraceName\":\"GET /pay\","
             "\"startTimeUnixNano\":\"%llu\",\"durationNanos\":\"15000000\",\"spanCount\":3,"
             "\"errorCount\":2}\n",
             hex_of(5), (unsigned long long)(T0 + 50 * SEC + 1000000u), hex_of(4),
             (unsigned long long)(T0 + 40 * SEC + 1000000u));
    assert_string_equal(out, want);

    /* Time ranges: traces overlapping [start, end]; none in the last hour. */
    char start[32], end[32];
    snprintf(start, sizeof start, "%llu", (unsigned long long)(T0 / SEC + 15));
    snprintf(end, sizeof end, "%llu.5", (unsigned long long)(T0 / SEC + 30));
    assert_int_equal(run("list", "--db", db, "--start", start, "--end", end, NULL), 0);
    assert_int_equal(count_lines(out), 3); /* traces 2 and 3 */
    assert_int_equal(run("list", "--db", db, "--since", "1h", NULL), 0);
    assert_int_equal(count_lines(out), 1);
}

static void test_list_errors(void **state)
{
    (void)state;
    assert_int_equal(run("list", "{ name = }", "--db", db, NULL), 2);
    assert_contains(err, "otelc: traces list: 1:10: ");
    assert_int_equal(run("list", "--db", "/nonexistent/view.db", NULL), 3);
    assert_contains(err, "otelc: traces list: cannot open /nonexistent/view.db");
    assert_int_equal(run("list", "--db", "/etc/passwd", NULL), 3);
    assert_int_equal(run("list", "--count", "3", "--db", db, NULL), 2);
    assert_contains(err, "--count does not apply to \"list\"; see 'otelc traces list --help'");
    assert_int_equal(run("list", "--bogus", NULL), 2);
    assert_contains(err, "unknown option \"--bogus\"");
    assert_int_equal(run("list", "--limit", "0", NULL), 2);
    assert_int_equal(run("list", "--db", db, "--url", "http://x", NULL), 2);
    assert_int_equal(run("list", "--db", db, "--since", "1h", "--start", "1", NULL), 2);
    assert_int_equal(run("list", "a", "b", "--db", db, NULL), 2);
    assert_contains(err, "unexpected argument \"b\"");
    assert_int_equal(run("nope", NULL), 2);
    assert_contains(err, "unknown command \"nope\"");
    assert_int_equal(run("--help", NULL), 0);
    assert_contains(out, "usage: otelc traces");
    assert_int_equal(run("list", "--help", NULL), 0);
}

/* ---- get
 * ----------------------------------------------------------------------------------------- */

static void test_get_tree_and_json(void **state)
{
    (void)state;
    assert_int_equal(run("get", hex_of(1), "--db", db, NULL), 0);
    /* The console exporter's tree: children under their parent, in start order. */
    char want[512];
    snprintf(want, sizeof want,
             "trace %s (3 spans)\n"
             "  GET /checkout [SERVER] 15.000 ms UNSET span=0000000000000001\n"
             "    SELECT cart [INTERNAL] 10.000 ms UNSET span=0000000000000002\n"
             "    charge [INTERNAL] 5.000 ms UNSET span=0000000000000003\n",
             hex_of(1));
    assert_string_equal(out, want);

    /* Upper case ids are ids too; --json is the OTLP JSON request of the whole trace. */
    char upper[33];
    snprintf(upper, sizeof upper, "%s", hex_of(4));
    upper[31] = 'F', upper[30] = 'A';
    assert_int_equal(run("get", upper, "--db", db, NULL), 1);
    assert_contains(err, "not found");
    assert_int_equal(run("get", hex_of(4), "--json", "--db", db, NULL), 0);
    assert_true(strncmp(out,
                        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
                        "\"service.name\",\"value\":{\"stringValue\":\"pay\"}}]",
                        80) == 0);
    assert_contains(out, "\"message\":\"db down\"");
    assert_int_equal(count_lines(out), 1);
}

static void test_get_errors(void **state)
{
    (void)state;
    assert_int_equal(run("get", "--db", db, NULL), 2);
    assert_contains(err, "missing \"TRACE_ID\"");
    assert_int_equal(run("get", "xyz", "--db", db, NULL), 2);
    assert_contains(err, "not a trace id");
    assert_int_equal(run("get", "00000000000000000000000000000000", "--db", db, NULL), 2);
    assert_int_equal(run("get", hex_of(9), "--db", db, NULL), 1);
    assert_contains(err, "otelc: traces get: trace ");
}

/* ---- wait
 * ---------------------------------------------------------------------------------------- */

static void test_wait_found_and_timeout(void **state)
{
    (void)state;
    assert_int_equal(
        run("wait", "{ resource.service.name = \"shop\" }", "--count", "2", "--db", db, NULL), 0);
    char want[80];
    snprintf(want, sizeof want, "%s\n%s\n", hex_of(2), hex_of(1));
    assert_string_equal(out, want);

    time_t t0 = time(NULL);
    assert_int_equal(run("wait", "{ resource.service.name = \"shop\" }", "--count", "3",
                         "--timeout", "300ms", "--db", db, NULL),
                     1);
    assert_true(time(NULL) - t0 < 5);
    assert_contains(err, "otelc: traces wait: 2 of 3 traces matching { resource.service.name = "
                         "\"shop\" } seen after 0.3s");
    assert_string_equal(out, "");

    assert_int_equal(run("wait", "{ name = \"x\" }", "--limit", "3", NULL), 2);
    assert_int_equal(run("wait", "{ bad", "--db", db, NULL), 2);
}

/* A writer adds a trace while the command waits for it. */
static void *late_writer(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    vw_batch b;
    vw_batch_init(&b);
    span(&b, service(&b, "late"), 6, 1, 0, "arrives late", 60);
    vw_store_options o = {.path = db};
    vw_store *s = NULL;
    char e[256];
    if (vw_store_open(&o, &s, e, sizeof e) == 0) {
        const vw_batch *bs[] = {&b};
        vw_store_write(s, bs, 1, e, sizeof e);
        vw_store_close(s);
    }
    vw_batch_free(&b);
    return NULL;
}

static void test_wait_sees_new_traces(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, late_writer, NULL), 0);
    int rc =
        run("wait", "{ resource.service.name = \"late\" }", "--timeout", "10s", "--db", db, NULL);
    pthread_join(t, NULL);
    assert_int_equal(rc, 0);
    char want[40];
    snprintf(want, sizeof want, "%s\n", hex_of(6));
    assert_string_equal(out, want);
}

/* ---- assert
 * -------------------------------------------------------------------------------------- */

static void test_assert_holds(void **state)
{
    (void)state;
    assert_int_equal(run("assert", "{ name = \"GET /checkout\" }", "--complete", "--no-errors",
                         "--min-spans", "3", "--count", "1", "--db", db, NULL),
                     0);
    assert_string_equal(out, "1 traces checked, 0 failed\n");
    assert_string_equal(err, "");
    /* A root whose parent is remote is a root only when allowed. */
    assert_int_equal(run("assert", "{ resource.service.name = \"queue\" }", "--complete",
                         "--allow-remote-root", "--db", db, NULL),
                     0);
    assert_int_equal(
        run("assert", "{ resource.service.name = \"queue\" }", "--complete", "--db", db, NULL), 1);
    assert_contains(err, "parent 000000000000004d of 'consume' is missing");
}

static void test_assert_failures(void **state)
{
    (void)state;
    assert_int_equal(
        run("assert", "{ resource.service.name = \"shop\" }", "--complete", "--db", db, NULL), 1);
    char want[200];
    snprintf(want, sizeof want,
             "otelc: traces assert: trace %s (GET /broken): parent 0000000000000063 of 'orphan' "
             "is missing\n",
             hex_of(2));
    assert_string_equal(err, want);
    assert_string_equal(out, "2 traces checked, 1 failed\n");

    assert_int_equal(
        run("assert", "{ resource.service.name = \"batch\" }", "--complete", "--db", db, NULL), 1);
    assert_contains(err, "two roots: 'job a' and 'job b'");

    assert_int_equal(run("assert", "{ resource.service.name = \"pay\" }", "--no-errors",
                         "--min-spans", "4", "--db", db, NULL),
                     1);
    assert_contains(err, "(GET /pay): error span \"SELECT pay\": db down (and 1 more); 3 spans, "
                         "fewer than 4\n");
    assert_int_equal(count_lines(err), 1); /* one line per failed trace */

    assert_int_equal(run("assert", "{ name = \"nothing\" }", "--db", db, NULL), 1);
    assert_contains(err, "otelc: traces assert: no trace matches { name = \"nothing\" }");
    assert_int_equal(
        run("assert", "{ resource.service.name = \"shop\" }", "--count", "1", "--db", db, NULL), 1);
    assert_contains(err, "2 traces match { resource.service.name = \"shop\" }, expected 1");
    assert_int_equal(run("assert", "{ }", "--count", "5", "--db", db, NULL), 0);
    assert_string_equal(out, "5 traces checked, 0 failed\n");
    assert_int_equal(run("assert", "--complete", "--db", db, NULL), 2);
    assert_int_equal(run("assert", "{ }", "--min-spans", "-1", "--db", db, NULL), 2);
}

#ifdef OTELC_HAVE_EXPAT
static const junit_case *find_case(const junit_suite *s, const char *classname, const char *name)
{
    for (size_t i = 0; i < s->case_count; i++)
        if (strcmp(s->cases[i].classname, classname) == 0 && strcmp(s->cases[i].name, name) == 0)
            return &s->cases[i];
    return NULL;
}
#endif

/* The report is read back by the parser behind `otelc junit` (expat). */
static void test_assert_junit(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/report.xml", dir);
    assert_int_equal(run("assert", "{ resource.service.name =~ \"shop|pay\" }", "--complete",
                         "--no-errors", "--count", "3", "--junit", path, "--db", db, NULL),
                     1);
    static char xml[1 << 16];
    slurp(path, xml, sizeof xml);
    static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite ";
    assert_true(strncmp(xml, head, strlen(head)) == 0);
    assert_contains(xml, "<property name=\"query\" value=\"{ resource.service.name =~ "
                         "&quot;shop|pay&quot; }\"/>");
#ifdef OTELC_HAVE_EXPAT
    junit_report r;
    junit_error je;
    assert_int_equal(junit_parse(xml, strlen(xml), &r, &je), 0);
    assert_int_equal(r.suite_count, 1);
    const junit_suite *s = &r.suites[0];
    assert_string_equal(s->name, "otelc traces assert");
    assert_true(s->has_timestamp);
    /* Two checks on each of three traces, and the query's two cases. */
    assert_int_equal(r.counts.tests, 8);
    assert_int_equal(r.counts.failed, 2);
    const junit_case *c = find_case(s, hex_of(2), "complete");
    assert_non_null(c);
    assert_int_equal(c->outcome, JUNIT_FAILED);
    assert_string_equal(c->problems[0].message, "parent 0000000000000063 of 'orphan' is missing");
    c = find_case(s, hex_of(4), "no errors");
    assert_non_null(c);
    assert_string_equal(c->problems[0].message, "error span \"SELECT pay\": db down (and 1 more)");
    c = find_case(s, hex_of(1), "complete");
    assert_non_null(c);
    assert_int_equal(c->outcome, JUNIT_PASSED);
    c = find_case(s, "query", "count");
    assert_non_null(c);
    assert_int_equal(c->outcome, JUNIT_PASSED);
    junit_report_free(&r);
#endif
    assert_int_equal(run("assert", "{ }", "--junit", "/nonexistent/r.xml", "--db", db, NULL), 3);
    assert_contains(err, "cannot write /nonexistent/r.xml");
}

/* ---- export
 * -------------------------------------------------------------------------------------- */

static void test_export_json_lines(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/traces.jsonl", dir);
    assert_int_equal(
        run("export", "{ resource.service.name = \"shop\" }", "--output", path, "--db", db, NULL),
        0);
    char want[400];
    snprintf(want, sizeof want, "2 traces (5 spans) written to %s\n", path);
    assert_string_equal(out, want);
    static char text[1 << 16];
    slurp(path, text, sizeof text);
    assert_int_equal(count_lines(text), 2);
    assert_true(strncmp(text, "{\"resourceSpans\":[", 18) == 0);
    const char *second = strchr(text, '\n') + 1;
    assert_true(strncmp(second, "{\"resourceSpans\":[", 18) == 0);

    assert_int_equal(run("export", "--db", db, NULL), 2);
    assert_contains(err, "--output FILE is required");
    assert_int_equal(run("export", "--output", path, "--format", "xml", "--db", db, NULL), 2);
    assert_int_equal(run("export", "--output", "/nonexistent/x", "--db", db, NULL), 3);
}

/* Each proto record: a 4-byte big-endian length, then an ExportTraceServiceRequest. */
static void test_export_proto(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/traces.pb", dir);
    assert_int_equal(run("export", "--output", path, "--format", "otlp-proto", "--db", db, NULL),
                     0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t traces = 0, spans = 0;
    uint8_t len[4];
    while (fread(len, 1, 4, f) == 4) {
        size_t n = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
        uint8_t *msg = malloc(n ? n : 1);
        assert_int_equal(fread(msg, 1, n, f), n);
        vw_batch b;
        vw_batch_init(&b);
        assert_int_equal(vw_decode_otlp_proto(msg, n, &b), VW_DECODE_OK);
        for (size_t i = 1; i < b.count; i++) /* one trace per record */
            assert_memory_equal(b.spans[i].context.trace_id, b.spans[0].context.trace_id, 16);
        traces++;
        spans += b.count;
        vw_batch_free(&b);
        free(msg);
    }
    fclose(f);
    assert_true(traces >= 5);
    assert_true(spans >= 12);
}

/* ---- --url: the same commands through the viewer's HTTP API -----------------------------------
 */

/*
 * The viewer's query API (api.c) behind a libmicrohttpd daemon of the
 * test's own, which also plays the server's token gate and can be told to
 * fail: what `otelc traces --url` talks to.
 */
static struct {
    struct MHD_Daemon *d;
    vw_api *api;
    unsigned port;
    char url[64];
    const char *token;    /* required when set */
    unsigned fail_status; /* answer every request with this status when set */
    bool garbage;         /* answer 200 with a body that is not the API's */
    pthread_mutex_t lock;
    char last[2200]; /* the last request: path?query as received */
    char auth[256];  /* its Authorization header */
} api = {.lock = PTHREAD_MUTEX_INITIALIZER};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               otelc_buf *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        body->len, body->data ? body->data : "", MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type ? type : "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    otelc__buf_free(body);
    return rc;
}

static const char *rq_arg(const vw_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *rq_header(const vw_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result note_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    size_t n = strlen(cls);
    snprintf((char *)cls + n, 1024 - n, "%s%s=%s", n ? "&" : "", key, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result on_api(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls)
{
    (void)cls, (void)version, (void)data, (void)size, (void)con_cls;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    char query[1024] = "";
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, note_arg, query);
    pthread_mutex_lock(&api.lock);
    snprintf(api.last, sizeof api.last, "%s?%s", url, query);
    snprintf(api.auth, sizeof api.auth, "%s", auth ? auth : "");
    pthread_mutex_unlock(&api.lock);
    otelc_buf b = {0};
    char want[300];
    snprintf(want, sizeof want, "Bearer %s", api.token ? api.token : "");
    if (api.token && (!auth || strcmp(auth, want) != 0)) return respond(c, 401, NULL, &b);
    if (api.fail_status) return respond(c, api.fail_status, NULL, &b);
    if (api.garbage) {
        otelc__buf_puts(&b, "{\"data\":[]}");
        return respond(c, 200, NULL, &b);
    }
    vw_request rq = {.method = method, .path = url, .arg = rq_arg, .header = rq_header, .conn = c};
    vw_response rs;
    memset(&rs, 0, sizeof rs);
    vw_api_handle(api.api, &rq, &rs);
    return respond(c, rs.status, rs.content_type, &rs.body);
}

static bool have_http;

static int api_up(void)
{
    vw_api_config cfg = {.version = "test"};
    if (!api.api && !(api.api = vw_api_new(db, NULL, &cfg))) return -1;
    api.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_api, NULL,
                             MHD_OPTION_END);
    if (!api.d) return -1;
    api.port = MHD_get_daemon_info(api.d, MHD_DAEMON_INFO_BIND_PORT)->port;
    snprintf(api.url, sizeof api.url, "http://127.0.0.1:%u", api.port);
    vw_source *src = NULL;
    char e[256];
    have_http = vw_source_open_http(api.url, NULL, &src, e, sizeof e) == VW_SOURCE_OK;
    vw_source_close(src);
    if (!have_http) fprintf(stderr, "test_view_traces: %s: --url tests skipped\n", e);
    return 0;
}

#define SKIP_WITHOUT_HTTP()                                                                        \
    do {                                                                                           \
        if (!have_http) skip();                                                                    \
    } while (0)

/* A command's status and output. */
typedef struct result {
    int rc;
    char out[sizeof out];
} result;

/* cmd (NULL-terminated) through --db, then through --url. */
static void run_both(const char *const *cmd, result *db_run, result *url_run)
{
    const char *args[16];
    int n = 0;
    while (cmd[n]) args[n] = cmd[n], n++;
    args[n] = "--db", args[n + 1] = db;
    db_run->rc = run_argv(n + 2, args);
    snprintf(db_run->out, sizeof db_run->out, "%s", out);
    args[n] = "--url", args[n + 1] = api.url;
    url_run->rc = run_argv(n + 2, args);
    snprintf(url_run->out, sizeof url_run->out, "%s", out);
}

/* Every subcommand prints the same, and ends the same, through both sources. */
static void test_url_same_as_db(void **state)
{
    (void)state;
    SKIP_WITHOUT_HTTP();
    static result a, b;
    static const struct {
        int rc; /* what --db gives: the comparison is not between two failures */
        const char *cmd[6];
    } cases[] = {
        {0, {"list", NULL}},
        {0, {"list", "--json", "--limit", "3", NULL}},
        {0, {"list", "{ resource.service.name = \"shop\" }", "--json", NULL}},
        {0, {"get", "00000000000000000000000000000001", NULL}},
        {0, {"get", "00000000000000000000000000000004", "--json", NULL}},
        {1, {"get", "00000000000000000000000000000009", NULL}},
        {0, {"wait", "{ status = error }", NULL}},
        {1, {"assert", "{ }", "--complete", "--no-errors", NULL}},
        {0, {"assert", "{ resource.service.name = \"shop\" }", "--min-spans", "2", NULL}},
        {0, {"export", "--output", "-", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run_both(cases[i].cmd, &a, &b);
        if (a.rc != cases[i].rc || a.rc != b.rc || strcmp(a.out, b.out) != 0)
            fail_msg("traces %s %s: --db gave %d:\n%s\n--url gave %d:\n%s", cases[i].cmd[0],
                     cases[i].cmd[1] ? cases[i].cmd[1] : "", a.rc, a.out, b.rc, b.out);
        if (a.rc == 0 && !a.out[0]) fail_msg("traces %s printed nothing", cases[i].cmd[0]);
    }
}

static void test_url_requests(void **state)
{
    (void)state;
    SKIP_WITHOUT_HTTP();
    char start[32];
    snprintf(start, sizeof start, "%llu.5", (unsigned long long)(T0 / SEC + 15));
    assert_int_equal(
        run("list", "{ name = \"a b\" }", "--limit", "7", "--start", start, "--url", api.url, NULL),
        0);
    pthread_mutex_lock(&api.lock);
    char want[256];
    snprintf(want, sizeof want, "/api/search?q={ name = \"a b\" }&limit=7&spss=1&start=%llu",
             (unsigned long long)(T0 / SEC + 15));
    assert_string_equal(api.last, want);
    assert_string_equal(api.auth, "");
    pthread_mutex_unlock(&api.lock);

    /* A token from --token or OTELC_VIEW_TOKEN; --token wins. */
    api.token = "s3cret";
    assert_int_equal(run("list", "--url", api.url, NULL), 69);
    assert_contains(err, "refused the request (HTTP 401): give its token with --token or "
                         "OTELC_VIEW_TOKEN");
    assert_int_equal(run("list", "--url", api.url, "--token", "s3cret", NULL), 0);
    setenv("OTELC_VIEW_TOKEN", "s3cret", 1);
    assert_int_equal(run("get", "00000000000000000000000000000001", "--url", api.url, NULL), 0);
    pthread_mutex_lock(&api.lock);
    assert_string_equal(api.auth, "Bearer s3cret");
    assert_string_equal(api.last, "/api/v3/traces/00000000000000000000000000000001?");
    pthread_mutex_unlock(&api.lock);
    assert_int_equal(run("list", "--url", api.url, "--token", "wrong", NULL), 69);
    unsetenv("OTELC_VIEW_TOKEN");
    api.token = NULL;

    /* OTELC_VIEW_URL names the viewer when --url does not. */
    setenv("OTELC_VIEW_URL", api.url, 1);
    assert_int_equal(run("list", NULL), 0);
    assert_int_equal(count_lines(out), 6);
    unsetenv("OTELC_VIEW_URL");
}

static void test_url_errors(void **state)
{
    (void)state;
    SKIP_WITHOUT_HTTP();
    /* The viewer's own message for a bad query. */
    assert_int_equal(run("list", "{ name = }", "--url", api.url, NULL), 2);
    assert_contains(err, "otelc: traces list: 1:10: ");
    assert_int_equal(run("list", "--url", "ftp://x", NULL), 2);
    assert_contains(err, "--url takes an http:// or https:// URL, not \"ftp://x\"");

    api.fail_status = 500;
    assert_int_equal(run("list", "--url", api.url, NULL), 69);
    assert_contains(err, "HTTP 500 from ");
    api.fail_status = 0;
    api.garbage = true;
    assert_int_equal(run("assert", "{ }", "--url", api.url, NULL), 69);
    assert_contains(err, "the viewer's answer to /api/search is not a search result");
    api.garbage = false;

    /* Nobody listening: 69 at once, or after the wait's timeout. */
    char down[64];
    snprintf(down, sizeof down, "http://127.0.0.1:%u", api.port);
    MHD_stop_daemon(api.d);
    api.d = NULL;
    assert_int_equal(run("list", "--url", down, NULL), 69);
    assert_contains(err, "otelc: traces list: cannot reach the viewer at ");
    assert_int_equal(run("wait", "{ }", "--timeout", "300ms", "--url", down, NULL), 69);
    assert_contains(err, "cannot reach the viewer");
    api_up();
}

/* Writes n one-span traces t0, t0+1, ... of service svc, per_second of them starting in each
 * second. */
static void add_many(unsigned t0, unsigned n, unsigned per_second, const char *svc)
{
    vw_batch b;
    vw_batch_init(&b);
    const otelc_resource *res = service(&b, svc);
    for (unsigned i = 0; i < n; i++) {
        otelc_span_data *sd = span(&b, res, t0 + i, 1, 0, "bulk", 100 + i / per_second);
        sd->start_ns += (i % per_second) * 1000u; /* distinct starts within the second */
    }
    vw_store_options o = {.path = db};
    vw_store *s = NULL;
    char e[256];
    assert_int_equal(vw_store_open(&o, &s, e, sizeof e), 0);
    const vw_batch *bs[] = {&b};
    assert_int_equal(vw_store_write(s, bs, 1, e, sizeof e), 0);
    vw_store_close(s);
    vw_batch_free(&b);
}

/*
 * More traces than one search request returns: --url goes page by page
 * and gets every trace once, as --db does; a second holding more starts
 * than a page cannot be paged through, and says so.
 */
static void test_url_pages(void **state)
{
    (void)state;
    SKIP_WITHOUT_HTTP();
    add_many(1000, 2500, 7, "bulk");
    static result a, b;
    static const char *const cmd[] = {
        "list", "{ resource.service.name = \"bulk\" }", "--json", "--limit", "100000", NULL};
    run_both(cmd, &a, &b);
    assert_int_equal(a.rc, 0);
    assert_int_equal(count_lines(a.out), 2500);
    assert_int_equal(b.rc, 0);
    assert_string_equal(a.out, b.out);

    add_many(4000, 1100, 1100, "burst");
    assert_int_equal(run("list", "{ resource.service.name = \"burst\" }", "--limit", "2000",
                         "--url", api.url, NULL),
                     69);
    assert_contains(err, "more than 1000 traces started within one second");
    assert_int_equal(run("list", "{ resource.service.name = \"burst\" }", "--limit", "900",
                         "--json", "--url", api.url, NULL),
                     0);
    assert_int_equal(count_lines(out), 900);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir)) return -1;
    snprintf(db, sizeof db, "%s/view.db", dir);
    fill_store();
    return api_up();
}

static int teardown(void **state)
{
    (void)state;
    if (api.d) MHD_stop_daemon(api.d);
    vw_api_free(api.api);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_table),
        cmocka_unit_test(test_list_query_limit_json),
        cmocka_unit_test(test_list_errors),
        cmocka_unit_test(test_get_tree_and_json),
        cmocka_unit_test(test_get_errors),
        cmocka_unit_test(test_wait_found_and_timeout),
        cmocka_unit_test(test_assert_holds),
        cmocka_unit_test(test_assert_failures),
        cmocka_unit_test(test_assert_junit),
        cmocka_unit_test(test_export_json_lines),
        cmocka_unit_test(test_export_proto),
        cmocka_unit_test(test_url_same_as_db),
        cmocka_unit_test(test_url_requests),
        cmocka_unit_test(test_url_errors),
        cmocka_unit_test(test_wait_sees_new_traces),
        cmocka_unit_test(test_url_pages), /* last: it adds thousands of traces */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
