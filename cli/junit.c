/*
 * junit.c - `otelc junit`: JUnit XML test reports as spans.
 *
 * Every file is read and parsed before the SDK starts, so a malformed report
 * exports nothing at all. Then one root span for the run (a child of
 * TRACEPARENT when set) holds a span per <testsuite> and, inside each, a span
 * per <testcase>, all at the times the report gives (see junit_layout()).
 *
 * Attributes follow the OpenTelemetry test conventions: test.suite.name,
 * test.suite.run.status, test.case.name, test.case.result.status ("pass",
 * "fail", and "skipped" as a custom value since the registry lists none);
 * code.* for where the test lives; failures and errors become "exception"
 * events. Totals the conventions do not cover are otelc.junit.*.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "junit_parse.h"

#ifndef OTELC_HAVE_EXPAT
int cli_junit(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("junit: this otelc was built without expat (libexpat1-dev): reports cannot be read");
    return CLI_EXIT_INTERNAL;
}
#else

/* Reports larger than this are refused rather than read into memory. */
#define MAX_REPORT_BYTES (512u << 20)

struct junit_opts {
    const char *service;
    bool json;
    bool no_fail;
    char **files;
    int file_count;
};

static const char usage_text[] =
    "usage: otelc junit [--service NAME] [--output text|json] [--no-fail] REPORT.xml...\n"
    "\n"
    "Turn JUnit XML reports (Maven Surefire, pytest --junitxml, jest-junit,\n"
    "gotestsum --junitfile, ctest --output-junit, ...) into a trace: a span per\n"
    "test suite and per test case at the times the reports give, under one root\n"
    "span, itself a child of TRACEPARENT when that is set.\n"
    "\n"
    "  --service NAME   service.name of the exported spans\n"
    "  --output json    print the totals as JSON on stdout\n"
    "  --no-fail        exit 0 even when tests failed\n"
    "\n"
    "Exit status: 0 when no test failed or errored, 1 when some did, 2 for a\n"
    "usage error, 3 when a report cannot be read or is not valid XML (nothing\n"
    "is exported then).\n"
    "\n"
    "Examples:\n"
    "  OTEL_TRACES_EXPORTER=otlp otelc junit target/surefire-reports/TEST-*.xml\n"
    "  otelc junit --no-fail --output json report.xml\n";

/* ---- Arguments ----------------------------------------------------------------- */

/* Report "what" followed by arg (may be ""), as a usage error. */
/*
 * Options may come before or after the report files, up to "--". Returns -1
 * when parsed, else the exit status to return (help or usage error). The
 * files are gathered at the front of argv + 1, which only ever moves an
 * argument towards the front over ones already read.
 */
static int parse_args(int argc, char **argv, struct junit_opts *o)
{
    int files = 0;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (!options || a[0] != '-' || a[1] == '\0') {
            argv[1 + files++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            options = false;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--no-fail") == 0) {
            o->no_fail = true;
        } else if ((v = cli_option_value(argc, argv, &i, "--service", &missing))) {
            o->service = v;
        } else if ((v = cli_option_value(argc, argv, &i, "--output", &missing))) {
            int rc = cli_output_format("junit", v, &o->json);
            if (rc) return rc;
        } else if (missing) {
            return cli_usage_error("junit", "a value is needed after", a);
        } else {
            return cli_usage_error("junit", "unknown option", a);
        }
    }
    o->files = argv + 1;
    o->file_count = files;
    if (files == 0) return cli_usage_error("junit", "no report file given", NULL);
    return -1;
}

/* ---- Reading and parsing ------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f) || n < cap) break;
        if (cap >= MAX_REPORT_BYTES) {
            errno = EFBIG;
            break;
        }
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) break;
        buf = bigger;
        cap *= 2;
    }
    bool ok = buf && !ferror(f) && n < cap;
    int saved = ok ? 0 : (errno ? errno : ENOMEM);
    fclose(f);
    if (!ok) {
        free(buf);
        errno = saved;
        return NULL;
    }
    *len = n;
    return buf;
}

/* Parse every file into reports[]; on the first problem report it and return false. */
static bool load_reports(const struct junit_opts *o, junit_report *reports)
{
    for (int i = 0; i < o->file_count; i++) {
        const char *path = o->files[i];
        size_t len = 0;
        errno = 0;
        char *data = read_file(path, &len);
        if (!data) {
            cli_error("junit: %s: cannot read: %s", path, strerror(errno));
            return false;
        }
        junit_error err;
        int rc = junit_parse(data, len, &reports[i], &err);
        free(data);
        if (rc != 0) {
            cli_error("junit: %s:%lu:%lu: %s", path, err.line, err.column, err.message);
            return false;
        }
    }
    return true;
}

/* ---- Spans ----------------------------------------------------------------------- */

/* The SDK reads 0 as "now": a laid-out time is never 0 unless the input was absurd. */
static uint64_t at(uint64_t ns)
{
    return ns ? ns : 1;
}

static otelc_span *child_span(otelc_span *parent, const char *name, uint64_t start_ns)
{
    otelc_span_context sc = otelc_span_get_context(parent);
    otelc_context *ctx = otelc_context_new(&sc, NULL);
    otelc_span_options so = {.kind = OTELC_SPAN_INTERNAL, .parent = ctx, .start_ns = at(start_ns)};
    otelc_span *s = otelc_span_start_with(cli_tracer(), name, &so);
    otelc_context_release(ctx);
    return s;
}

static void set_counts(otelc_span *s, const junit_counts *k)
{
    otelc_span_set_int(s, "otelc.junit.tests", (int64_t)k->tests);
    otelc_span_set_int(s, "otelc.junit.passed", (int64_t)k->passed);
    otelc_span_set_int(s, "otelc.junit.failed", (int64_t)k->failed);
    otelc_span_set_int(s, "otelc.junit.errors", (int64_t)k->errors);
    otelc_span_set_int(s, "otelc.junit.skipped", (int64_t)k->skipped);
    if (k->failed || k->errors) {
        char why[96];
        snprintf(why, sizeof why, "%llu failed, %llu errors", (unsigned long long)k->failed,
                 (unsigned long long)k->errors);
        otelc_span_set_status(s, OTELC_STATUS_ERROR, why);
    }
}

static const char *suite_run_status(const junit_counts *k)
{
    if (k->failed || k->errors) return "failure";
    if (k->tests && k->skipped == k->tests) return "skipped";
    return "success";
}

/*
 * test.case.name is "the fully qualified human readable name": classname and
 * name joined by '.', unless the producer already put the class in the name
 * (jest-junit and CTest repeat it) or gave none.
 */
static char *qualified_name(const junit_case *c)
{
    const char *cls = c->classname;
    size_t n = cls ? strlen(cls) : 0;
    if (!n || strncmp(c->name, cls, n) == 0) return strdup(c->name);
    size_t len = n + 1 + strlen(c->name) + 1;
    char *q = malloc(len);
    if (q) snprintf(q, len, "%s.%s", cls, c->name);
    return q;
}

/*
 * Whether classname names code, so that classname.name is a function name:
 * not when it repeats the test's name (CTest, jest-junit) or is prose
 * (jest-junit's describe titles contain spaces).
 */
static bool names_code(const junit_case *c)
{
    const char *cls = c->classname;
    return cls && *c->name && !strpbrk(cls, " \t") && strcmp(cls, c->name) != 0;
}

static const char *problem_element(junit_problem_kind k)
{
    static const char *const names[] = {"failure",    "error",        "skipped",   "flakyFailure",
                                        "flakyError", "rerunFailure", "rerunError"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "failure";
}

/* A failure without a message attribute (jest-junit) is described by its text's first line. */
static char *problem_message(const junit_problem *p)
{
    if (p->message) return strdup(p->message);
    if (!p->text) return NULL;
    size_t n = strcspn(p->text, "\r\n");
    return strndup(p->text, n);
}

static void add_exception(otelc_span *s, const junit_problem *p, uint64_t when)
{
    char *message = problem_message(p);
    otelc_attr attrs[4];
    size_t n = 0;
    if (p->type) attrs[n++] = OTELC_ATTR_STR("exception.type", p->type);
    if (message) attrs[n++] = OTELC_ATTR_STR("exception.message", message);
    if (p->text) attrs[n++] = OTELC_ATTR_STR("exception.stacktrace", p->text);
    attrs[n++] = OTELC_ATTR_STR("otelc.junit.element", problem_element(p->kind));
    otelc_span_add_event_at(s, "exception", at(when), attrs, n);
    free(message);
}

/* The problem deciding the outcome: the first of the kind that made it fail. */
static const junit_problem *deciding_problem(const junit_case *c)
{
    junit_problem_kind want = c->outcome == JUNIT_ERRORED  ? JUNIT_ERROR
                              : c->outcome == JUNIT_FAILED ? JUNIT_FAILURE
                                                           : JUNIT_SKIP;
    for (size_t i = 0; i < c->problem_count; i++)
        if (c->problems[i].kind == want) return &c->problems[i];
    return NULL;
}

static void set_case_outcome(otelc_span *s, const junit_case *c)
{
    otelc_span_set_str(s, "test.case.result.status", junit_outcome_status(c->outcome));
    const junit_problem *p = deciding_problem(c);
    if (c->outcome == JUNIT_SKIPPED) {
        const char *why = p ? (p->message ? p->message : p->text) : NULL;
        if (why) otelc_span_set_str(s, "otelc.junit.skipped.message", why);
        return;
    }
    if (c->outcome == JUNIT_PASSED) return;
    bool error = c->outcome == JUNIT_ERRORED;
    otelc_span_set_str(s, "error.type", p && p->type ? p->type : error ? "error" : "failure");
    char *message = p ? problem_message(p) : NULL;
    otelc_span_set_status(s, OTELC_STATUS_ERROR,
                          message ? message
                          : error ? "test error"
                                  : "test failed");
    free(message);
}

static void emit_case(otelc_span *suite, const junit_case *c)
{
    char *name = qualified_name(c);
    const char *span_name = name && *name ? name : "testcase";
    otelc_span *s = child_span(suite, span_name, c->start_ns);
    otelc_span_set_str(s, "test.case.name", name ? name : c->name);
    if (names_code(c) && name) otelc_span_set_str(s, "code.function.name", name);
    if (c->file) otelc_span_set_str(s, "code.file.path", c->file);
    if (c->line) otelc_span_set_int(s, "code.line.number", c->line);
    set_case_outcome(s, c);
    for (size_t i = 0; i < c->problem_count; i++)
        if (c->problems[i].kind != JUNIT_SKIP) add_exception(s, &c->problems[i], c->end_ns);
    otelc_span_end_at(s, at(c->end_ns));
    free(name);
}

static void emit_suite(otelc_span *parent, const junit_suite *su, const char *report_path)
{
    otelc_span *s = child_span(parent, *su->name ? su->name : "testsuite", su->start_ns);
    otelc_span_set_str(s, "test.suite.name", su->name);
    otelc_span_set_str(s, "test.suite.run.status", suite_run_status(&su->counts));
    if (su->file) otelc_span_set_str(s, "code.file.path", su->file);
    if (report_path) otelc_span_set_str(s, "otelc.junit.report", report_path);
    set_counts(s, &su->counts);
    for (size_t i = 0; i < su->case_count; i++) emit_case(s, &su->cases[i]);
    for (size_t i = 0; i < su->suite_count; i++) emit_suite(s, &su->suites[i], NULL);
    otelc_span_end_at(s, at(su->end_ns));
}

/* The run's extent: from the earliest suite start to the latest suite end. */
static void run_extent(const junit_report *r, int n, uint64_t now, uint64_t *start, uint64_t *end)
{
    *start = UINT64_MAX;
    *end = 0;
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < r[i].suite_count; j++) {
            if (r[i].suites[j].start_ns < *start) *start = r[i].suites[j].start_ns;
            if (r[i].suites[j].end_ns > *end) *end = r[i].suites[j].end_ns;
        }
    }
    if (*start == UINT64_MAX) *start = *end = now;
}

/* The root span: under TRACEPARENT from the environment, else a new trace. */
static otelc_span *start_root(uint64_t start)
{
    otelc_carrier env = otelc_env_carrier();
    otelc_context *parent = otelc_extract(&env);
    otelc_span_context sc = otelc_context_span_context(parent);
    bool remote = otelc_span_context_is_valid(&sc);
    otelc_span_options so = {
        .kind = OTELC_SPAN_INTERNAL,
        .parent = remote ? parent : NULL,
        .root = !remote,
        .start_ns = at(start),
    };
    otelc_span *root = otelc_span_start_with(cli_tracer(), "otelc junit", &so);
    otelc_context_release(parent);
    return root;
}

static otelc_span_context emit_all(const struct junit_opts *o, const junit_report *reports,
                                   const junit_counts *total, uint64_t now)
{
    uint64_t start, end;
    run_extent(reports, o->file_count, now, &start, &end);
    otelc_span *root = start_root(start);
    otelc_span_set_str_array(root, "otelc.junit.reports", (const char *const *)o->files,
                             (size_t)o->file_count);
    set_counts(root, total);
    for (int i = 0; i < o->file_count; i++)
        for (size_t j = 0; j < reports[i].suite_count; j++)
            emit_suite(root, &reports[i].suites[j], o->files[i]);
    otelc_span_context sc = otelc_span_get_context(root);
    otelc_span_end_at(root, at(end));
    return sc;
}

/* ---- Output ------------------------------------------------------------------------ */

static size_t count_suites(const junit_suite *s, size_t n)
{
    size_t total = n;
    for (size_t i = 0; i < n; i++) total += count_suites(s[i].suites, s[i].suite_count);
    return total;
}

static void print_totals(const struct junit_opts *o, const junit_report *reports,
                         const junit_counts *k, const otelc_span_context *sc)
{
    size_t suites = 0;
    for (int i = 0; i < o->file_count; i++)
        suites += count_suites(reports[i].suites, reports[i].suite_count);
    const char *status = k->failed || k->errors ? "failure" : "success";
    if (!o->json) {
        fprintf(stderr,
                "otelc junit: %d report%s, %zu suites, %llu tests: %llu passed, %llu failed, "
                "%llu errors, %llu skipped\n",
                o->file_count, o->file_count == 1 ? "" : "s", suites, (unsigned long long)k->tests,
                (unsigned long long)k->passed, (unsigned long long)k->failed,
                (unsigned long long)k->errors, (unsigned long long)k->skipped);
        return;
    }
    char trace_id[33] = "";
    if (otelc_span_context_is_valid(sc))
        for (int i = 0; i < 16; i++) snprintf(trace_id + 2 * i, 3, "%02x", sc->trace_id[i]);
    printf("{\"reports\":%d,\"suites\":%zu,\"tests\":%llu,\"passed\":%llu,\"failed\":%llu,"
           "\"errors\":%llu,\"skipped\":%llu,\"status\":\"%s\",\"trace_id\":\"%s\"}\n",
           o->file_count, suites, (unsigned long long)k->tests, (unsigned long long)k->passed,
           (unsigned long long)k->failed, (unsigned long long)k->errors,
           (unsigned long long)k->skipped, status, trace_id);
}

/* ---- Entry point ------------------------------------------------------------------- */

static void free_reports(junit_report *reports, int n)
{
    for (int i = 0; i < n; i++) junit_report_free(&reports[i]);
    free(reports);
}

int cli_junit(int argc, char **argv)
{
    struct junit_opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    junit_report *reports = calloc((size_t)o.file_count, sizeof *reports);
    if (!reports) {
        cli_error("junit: out of memory");
        return CLI_EXIT_INTERNAL;
    }
    if (!load_reports(&o, reports)) {
        free_reports(reports, o.file_count);
        return CLI_EXIT_INPUT;
    }
    junit_counts total = {0};
    for (int i = 0; i < o.file_count; i++) {
        total.tests += reports[i].counts.tests;
        total.passed += reports[i].counts.passed;
        total.failed += reports[i].counts.failed;
        total.errors += reports[i].counts.errors;
        total.skipped += reports[i].counts.skipped;
    }
    uint64_t now = cli_now_ns();
    junit_layout(reports, (size_t)o.file_count, now);
    /* A broken telemetry setup is reported by cli_sdk_start; the verdict on the tests stands. */
    cli_sdk_start(o.service);
    otelc_span_context sc = emit_all(&o, reports, &total, now);
    cli_sdk_finish();
    print_totals(&o, reports, &total, &sc);
    free_reports(reports, o.file_count);
    return (total.failed || total.errors) && !o.no_fail ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
#endif
