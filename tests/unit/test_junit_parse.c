/*
 * test_junit_parse.c - the JUnit XML parser behind `otelc junit`: every
 * producer's fixture (counts, names, outcomes, times, messages, text),
 * malformed reports (error with the right line), timestamps, durations and
 * the layout of suites and cases in time.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "junit_parse.h"

#define S_NS 1000000000ull
#define MS   1000000ull

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", JUNIT_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void load(const char *name, junit_report *r)
{
    size_t len;
    char *data = slurp(name, &len);
    junit_error err;
    int rc = junit_parse(data, len, r, &err);
    if (rc != 0) print_error("%s:%lu: %s\n", name, err.line, err.message);
    assert_int_equal(rc, 0);
    free(data);
}

static void load_error(const char *name, junit_error *err)
{
    size_t len;
    char *data = slurp(name, &len);
    junit_report r;
    assert_int_equal(junit_parse(data, len, &r, err), -1);
    assert_int_equal(r.suite_count, 0);
    assert_null(r.suites);
    free(data);
}

static void assert_counts(const junit_counts *k, uint64_t tests, uint64_t passed, uint64_t failed,
                          uint64_t errors, uint64_t skipped)
{
    assert_int_equal(k->tests, tests);
    assert_int_equal(k->passed, passed);
    assert_int_equal(k->failed, failed);
    assert_int_equal(k->errors, errors);
    assert_int_equal(k->skipped, skipped);
}

static uint64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (uint64_t)timegm(&tm) * S_NS;
}

/* ---- Producers --------------------------------------------------------------- */

static void test_surefire(void **state)
{
    (void)state;
    junit_report r;
    load("TEST-com.example.cart.CartServiceTest.xml", &r);
    assert_null(r.name);
    assert_int_equal(r.suite_count, 1);
    const junit_suite *s = &r.suites[0];
    assert_string_equal(s->name, "com.example.cart.CartServiceTest");
    assert_false(s->has_timestamp); /* Surefire writes none */
    assert_true(s->has_duration);
    assert_int_equal(s->duration_ns, 412 * MS);
    assert_int_equal(s->case_count, 5);
    assert_counts(&s->counts, 5, 2, 1, 1, 1);
    assert_counts(&r.counts, 5, 2, 1, 1, 1);

    const junit_case *c = &s->cases[0];
    assert_string_equal(c->name, "addsItem");
    assert_string_equal(c->classname, "com.example.cart.CartServiceTest");
    assert_int_equal(c->duration_ns, 21 * MS);
    assert_int_equal(c->outcome, JUNIT_PASSED);
    assert_int_equal(c->problem_count, 0);

    c = &s->cases[1];
    assert_int_equal(c->outcome, JUNIT_FAILED);
    assert_int_equal(c->problem_count, 1);
    assert_int_equal(c->problems[0].kind, JUNIT_FAILURE);
    assert_string_equal(c->problems[0].type, "org.opentest4j.AssertionFailedError");
    assert_string_equal(c->problems[0].message, "expected: <90.00> but was: <100.00>");
    assert_non_null(strstr(c->problems[0].text, "CartServiceTest.java:48)"));
    assert_true(strncmp(c->problems[0].text, "org.opentest4j.AssertionFailedError:", 36) == 0);
    /* system-out is not part of the failure */
    assert_null(strstr(c->problems[0].text, "SPRING10"));

    c = &s->cases[2];
    assert_int_equal(c->outcome, JUNIT_ERRORED);
    assert_string_equal(c->problems[0].type, "java.net.ConnectException");
    assert_string_equal(c->problems[0].message, "Connection refused");
    assert_null(strstr(c->problems[0].text, "HikariPool"));

    /* A flaky failure (passed on rerun) keeps the test passed; its trace comes from <stackTrace>.
     */
    c = &s->cases[3];
    assert_int_equal(c->outcome, JUNIT_PASSED);
    assert_int_equal(c->problems[0].kind, JUNIT_FLAKY_FAILURE);
    assert_string_equal(c->problems[0].type, "java.net.SocketTimeoutException");
    assert_true(
        strncmp(c->problems[0].text, "java.net.SocketTimeoutException: Read timed out", 47) == 0);
    assert_null(strstr(c->problems[0].text, "retrying"));

    c = &s->cases[4];
    assert_int_equal(c->outcome, JUNIT_SKIPPED);
    assert_int_equal(c->problems[0].kind, JUNIT_SKIP);
    assert_string_equal(c->problems[0].message, "CSV export is disabled on CI");
    assert_null(c->problems[0].text);
    junit_report_free(&r);
}

static void test_pytest_xunit2(void **state)
{
    (void)state;
    junit_report r;
    load("pytest-xunit2.xml", &r);
    assert_int_equal(r.suite_count, 1);
    const junit_suite *s = &r.suites[0];
    assert_string_equal(s->name, "pytest");
    assert_string_equal(s->hostname, "ci-runner-7");
    assert_true(s->has_timestamp);
    /* 09:21:07.412345+02:00 */
    assert_int_equal(s->timestamp_ns, utc(2024, 5, 14, 7, 21, 7) + 412345000ull);
    assert_int_equal(s->duration_ns, 1873 * MS);
    assert_counts(&s->counts, 4, 1, 1, 1, 1);

    assert_string_equal(s->cases[0].classname, "tests.test_api.TestLogin");
    assert_string_equal(s->cases[0].name, "test_login_ok");
    const junit_problem *p = &s->cases[1].problems[0];
    assert_int_equal(p->kind, JUNIT_FAILURE);
    assert_null(p->type);
    assert_string_equal(
        p->message,
        "AssertionError: assert 500 == 401\n +  where 500 = <Response [500]>.status_code");
    assert_non_null(strstr(p->text, "tests/test_api.py:42: AssertionError"));
    p = &s->cases[2].problems[0];
    assert_int_equal(s->cases[2].outcome, JUNIT_ERRORED);
    assert_true(strncmp(p->message, "failed on setup with \"psycopg2.OperationalError", 47) == 0);
    p = &s->cases[3].problems[0];
    assert_int_equal(s->cases[3].outcome, JUNIT_SKIPPED);
    assert_string_equal(p->type, "pytest.skip");
    assert_string_equal(p->message, "needs --runslow");
    assert_string_equal(p->text, "tests/test_api.py:77: needs --runslow");
    junit_report_free(&r);
}

static void test_pytest_xunit1_local_time(void **state)
{
    (void)state;
    /* No zone in the timestamp: local time, here Central European Summer Time. */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    junit_report r;
    load("pytest-xunit1.xml", &r);
    const junit_suite *s = &r.suites[0];
    assert_int_equal(s->timestamp_ns, utc(2024, 5, 14, 7, 15, 0) + 250 * MS);
    assert_counts(&s->counts, 3, 2, 0, 0, 1);
    const junit_case *c = &s->cases[1];
    assert_string_equal(c->name, "test_divide[2-1]");
    assert_string_equal(c->file, "tests/test_math.py");
    assert_int_equal(c->line, 20);
    assert_int_equal(c->duration_ns, 2 * MS);
    assert_int_equal(c->problem_count, 0); /* properties and system-out are not problems */
    assert_string_equal(s->cases[2].problems[0].type, "pytest.xfail");
    junit_report_free(&r);
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_jest(void **state)
{
    (void)state;
    junit_report r;
    load("jest-junit.xml", &r);
    assert_string_equal(r.name, "jest tests");
    assert_int_equal(r.suite_count, 2);
    assert_counts(&r.counts, 4, 2, 1, 0, 1);
    const junit_suite *s = &r.suites[0];
    assert_string_equal(s->name, "cart reducer");
    assert_int_equal(s->timestamp_ns, utc(2024, 5, 14, 7, 30, 11)); /* TZ=UTC */
    const junit_case *c = &s->cases[1];
    assert_string_equal(c->name, "cart reducer removes the last item");
    assert_string_equal(c->classname, c->name);
    assert_int_equal(c->outcome, JUNIT_FAILED);
    assert_null(c->problems[0].message); /* jest-junit writes only text */
    assert_true(strncmp(c->problems[0].text, "Error: expect(received).toEqual(expected)", 41) == 0);
    assert_int_equal(s->cases[2].outcome, JUNIT_SKIPPED);
    assert_null(s->cases[2].problems[0].message);
    assert_counts(&r.suites[1].counts, 1, 1, 0, 0, 0);
    junit_report_free(&r);
}

static void test_gotestsum(void **state)
{
    (void)state;
    junit_report r;
    load("gotestsum.xml", &r);
    assert_int_equal(r.suite_count, 2);
    assert_counts(&r.counts, 5, 2, 2, 0, 1);
    const junit_suite *s = &r.suites[0];
    assert_string_equal(s->name, "github.com/acme/shop/internal/cart");
    assert_int_equal(s->timestamp_ns, utc(2024, 5, 14, 7, 30, 2));
    assert_int_equal(s->duration_ns, 512 * MS);
    const junit_problem *p = &s->cases[1].problems[0];
    assert_string_equal(s->cases[1].name, "TestTotal/with_discount");
    assert_null(p->type); /* type="" */
    assert_string_equal(p->message, "Failed");
    assert_non_null(strstr(p->text, "cart_test.go:58: total = 100, want 90\n"));
    p = &s->cases[3].problems[0];
    assert_int_equal(s->cases[3].outcome, JUNIT_SKIPPED);
    assert_non_null(strstr(p->message, "skipping in short mode"));
    assert_int_equal(r.suites[1].cases[0].duration_ns, 300 * MS);
    junit_report_free(&r);
}

static void test_ctest(void **state)
{
    (void)state;
    junit_report r;
    load("ctest.xml", &r);
    assert_int_equal(r.suite_count, 1);
    const junit_suite *s = &r.suites[0];
    assert_string_equal(s->name, "Linux-c++");
    assert_string_equal(s->hostname, "build-agent-3");
    assert_int_equal(s->duration_ns, 2 * S_NS);
    assert_int_equal(s->timestamp_ns, utc(2024, 5, 14, 9, 41, 55));
    assert_counts(&s->counts, 4, 1, 1, 0, 2);
    assert_int_equal(s->cases[0].duration_ns, 12300000ull);
    assert_string_equal(s->cases[1].problems[0].message, "Failed");
    assert_null(s->cases[1].problems[0].text);
    assert_string_equal(s->cases[2].problems[0].message, "Required Files Missing");
    /* status="disabled" alone means skipped */
    assert_int_equal(s->cases[3].outcome, JUNIT_SKIPPED);
    assert_int_equal(s->cases[3].problem_count, 0);
    junit_report_free(&r);
}

static void test_nested(void **state)
{
    (void)state;
    junit_report r;
    load("nested.xml", &r);
    assert_int_equal(r.suite_count, 1);
    const junit_suite *top = &r.suites[0];
    assert_string_equal(top->name, "unit");
    assert_int_equal(top->case_count, 0);
    assert_int_equal(top->suite_count, 2);
    assert_counts(&top->counts, 3, 2, 1, 0, 0);
    const junit_suite *money = &top->suites[0];
    assert_string_equal(money->name, "App\\Tests\\MoneyTest");
    assert_string_equal(money->file, "/srv/app/tests/MoneyTest.php");
    assert_false(money->has_timestamp);
    assert_counts(&money->counts, 2, 1, 1, 0, 0);
    assert_int_equal(money->cases[1].line, 22);
    assert_string_equal(money->cases[1].problems[0].type,
                        "PHPUnit\\Framework\\ExpectationFailedException");
    junit_report_free(&r);
}

/* ---- Errors ---------------------------------------------------------------------- */

static void test_malformed_fixtures(void **state)
{
    (void)state;
    junit_error err;
    load_error("malformed-entity.xml", &err);
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.message, "undefined entity"));
    load_error("malformed-mismatch.xml", &err);
    assert_int_equal(err.line, 5);
    assert_non_null(strstr(err.message, "mismatched tag"));
    load_error("malformed-truncated.xml", &err);
    assert_int_equal(err.line, 17);
    assert_non_null(strstr(err.message, "malformed XML"));
}

static int parse_str(const char *xml, junit_report *r, junit_error *err)
{
    return junit_parse(xml, strlen(xml), r, err);
}

static void test_not_junit(void **state)
{
    (void)state;
    junit_report r;
    junit_error err;
    assert_int_equal(parse_str("<?xml version=\"1.0\"?>\n<html><body/></html>", &r, &err), -1);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.message, "<html>"));
    assert_int_equal(parse_str("", &r, &err), -1);
    assert_int_equal(parse_str("   ", &r, &err), -1);
    /* A well-formed empty report is fine: no suites. */
    assert_int_equal(parse_str("<testsuites/>", &r, &err), 0);
    assert_int_equal(r.suite_count, 0);
    junit_report_free(&r);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char xml[4096] = "";
    for (int i = 0; i <= JUNIT_MAX_DEPTH; i++) strcat(xml, "<testsuite name=\"s\">\n");
    for (int i = 0; i <= JUNIT_MAX_DEPTH; i++) strcat(xml, "</testsuite>");
    junit_report r;
    junit_error err;
    assert_int_equal(parse_str(xml, &r, &err), -1);
    assert_int_equal(err.line, JUNIT_MAX_DEPTH + 1);
    assert_non_null(strstr(err.message, "nested"));
}

/* Elements in unexpected places are ignored, not counted. */
static void test_ignored_elements(void **state)
{
    (void)state;
    const char *xml = "<testsuites><testsuite name=\"s\">"
                      "<properties><testcase name=\"not-a-test\"/></properties>"
                      "<testcase name=\"a\"><system-out><failure message=\"no\"/></system-out>"
                      "<failure message=\"m\">before<b>inner</b>after</failure></testcase>"
                      "<vendor><testsuite name=\"x\"><testcase name=\"y\"/></testsuite></vendor>"
                      "</testsuite><testcase name=\"orphan\"/></testsuites>";
    junit_report r;
    junit_error err;
    assert_int_equal(parse_str(xml, &r, &err), 0);
    assert_int_equal(r.suite_count, 1);
    assert_int_equal(r.suites[0].case_count, 1);
    assert_int_equal(r.suites[0].suite_count, 0);
    assert_int_equal(r.suites[0].cases[0].problem_count, 1);
    assert_string_equal(r.suites[0].cases[0].problems[0].text, "beforeafter");
    assert_counts(&r.counts, 1, 0, 1, 0, 0);
    junit_report_free(&r);
}

/* Error outranks failure, failure outranks skip. */
static void test_outcome_precedence(void **state)
{
    (void)state;
    const char *xml = "<testsuite name=\"s\">"
                      "<testcase name=\"a\"><failure/><error/></testcase>"
                      "<testcase name=\"b\"><skipped/><failure/></testcase>"
                      "<testcase name=\"c\"><rerunFailure/></testcase>"
                      "<testcase name=\"d\" status=\"notrun\"/>"
                      "</testsuite>";
    junit_report r;
    junit_error err;
    assert_int_equal(parse_str(xml, &r, &err), 0);
    assert_int_equal(r.suites[0].cases[0].outcome, JUNIT_ERRORED);
    assert_int_equal(r.suites[0].cases[1].outcome, JUNIT_FAILED);
    assert_int_equal(r.suites[0].cases[2].outcome, JUNIT_PASSED);
    assert_int_equal(r.suites[0].cases[2].problems[0].kind, JUNIT_RERUN_FAILURE);
    assert_int_equal(r.suites[0].cases[3].outcome, JUNIT_SKIPPED);
    assert_string_equal(junit_outcome_status(JUNIT_PASSED), "pass");
    assert_string_equal(junit_outcome_status(JUNIT_FAILED), "fail");
    assert_string_equal(junit_outcome_status(JUNIT_ERRORED), "fail");
    assert_string_equal(junit_outcome_status(JUNIT_SKIPPED), "skipped");
    junit_report_free(&r);
}

/* Long failure text is cut at JUNIT_MAX_TEXT, never inside a UTF-8 character. */
static void test_text_cap(void **state)
{
    (void)state;
    const char *head = "<testsuite><testcase name=\"t\"><failure>x";
    const char *tail = "</failure></testcase></testsuite>";
    size_t body = JUNIT_MAX_TEXT + 4000;
    size_t len = strlen(head) + body * 2 + strlen(tail);
    char *xml = malloc(len + 1);
    assert_non_null(xml);
    char *p = stpcpy(xml, head);
    for (size_t i = 0; i < body; i++) p = stpcpy(p, "\xc3\xa9"); /* é, 2 bytes */
    strcpy(p, tail);
    junit_report r;
    junit_error err;
    assert_int_equal(junit_parse(xml, strlen(xml), &r, &err), 0);
    const char *text = r.suites[0].cases[0].problems[0].text;
    size_t n = strlen(text);
    assert_true(n <= JUNIT_MAX_TEXT && n >= JUNIT_MAX_TEXT - 1);
    assert_int_equal((n - 1) % 2, 0); /* "x" then whole é characters */
    junit_report_free(&r);
    free(xml);
}

/* ---- Times --------------------------------------------------------------------------- */

static void test_timestamps(void **state)
{
    (void)state;
    uint64_t ns, base = utc(2024, 1, 2, 3, 4, 5);
    assert_true(junit_parse_timestamp("2024-01-02T03:04:05Z", &ns));
    assert_int_equal(ns, base);
    assert_true(junit_parse_timestamp("2024-01-02T03:04:05", &ns)); /* TZ=UTC */
    assert_int_equal(ns, base);
    assert_true(junit_parse_timestamp("2024-01-02 03:04:05", &ns));
    assert_int_equal(ns, base);
    assert_true(junit_parse_timestamp("2024-01-02T08:34:05+05:30", &ns));
    assert_int_equal(ns, base);
    assert_true(junit_parse_timestamp("2024-01-02T08:34:05+0530", &ns));
    assert_int_equal(ns, base);
    assert_true(junit_parse_timestamp("2024-01-01T19:04:05-08", &ns));
    assert_int_equal(ns, base);
    assert_true(junit_parse_timestamp("2024-01-02T03:04:05.5Z", &ns));
    assert_int_equal(ns, base + 500 * MS);
    assert_true(junit_parse_timestamp("2024-01-02T03:04:05.123456789123Z", &ns));
    assert_int_equal(ns, base + 123456789);
    const char *bad[] = {"",
                         "yesterday",
                         "2024-13-02T03:04:05Z",
                         "2024-01-02T25:04:05Z",
                         "2024-01-02T03:04:05+25:00",
                         "2024-01-02T03:04:05 UTC",
                         "1969-12-31T23:59:59Z",
                         "2024-01-02",
                         "2024-1-2T03:04:05Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(junit_parse_timestamp(bad[i], &ns));
    assert_false(junit_parse_timestamp(NULL, &ns));
}

static void test_seconds(void **state)
{
    (void)state;
    uint64_t ns;
    assert_true(junit_parse_seconds("0.123", &ns));
    assert_int_equal(ns, 123 * MS);
    assert_true(junit_parse_seconds("12", &ns));
    assert_int_equal(ns, 12 * S_NS);
    assert_true(junit_parse_seconds("1,234.5", &ns));
    assert_int_equal(ns, 1234 * S_NS + 500 * MS);
    assert_true(junit_parse_seconds(".5", &ns));
    assert_int_equal(ns, 500 * MS);
    assert_true(junit_parse_seconds("99999999999999999999", &ns));
    assert_int_equal(ns, (uint64_t)JUNIT_MAX_SECONDS * S_NS);
    const char *bad[] = {"", "abc", "-1", "1e3", "1.2.3", "NaN", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(junit_parse_seconds(bad[i], &ns));
}

/* Timed suites start at their timestamp; cases follow one another. */
static void test_layout_timed(void **state)
{
    (void)state;
    junit_report r;
    load("gotestsum.xml", &r);
    junit_layout(&r, 1, utc(2030, 1, 1, 0, 0, 0));
    const junit_suite *s = &r.suites[0];
    uint64_t t0 = utc(2024, 5, 14, 7, 30, 2);
    assert_int_equal(s->start_ns, t0);
    assert_int_equal(s->end_ns, t0 + 512 * MS); /* its time attribute exceeds its cases' */
    assert_int_equal(s->cases[0].start_ns, t0);
    assert_int_equal(s->cases[1].start_ns, t0);
    assert_int_equal(s->cases[1].end_ns, t0 + 10 * MS);
    assert_int_equal(s->cases[2].start_ns, t0 + 10 * MS);
    assert_int_equal(s->cases[3].start_ns, t0 + 20 * MS);
    assert_int_equal(r.suites[1].start_ns, utc(2024, 5, 14, 7, 30, 3));
    junit_report_free(&r);
}

/* Suites without a timestamp end at "now", one after the other, across reports. */
static void test_layout_untimed(void **state)
{
    (void)state;
    junit_report r[2];
    load("TEST-com.example.cart.CartServiceTest.xml", &r[0]);
    load("nested.xml", &r[1]);
    const char *xml = "<testsuite name=\"u\" time=\"1\"><testcase name=\"a\" time=\"0.25\"/>"
                      "<testcase name=\"b\" time=\"0.5\"/></testsuite>";
    junit_report_free(&r[1]);
    junit_error err;
    assert_int_equal(parse_str(xml, &r[1], &err), 0);
    uint64_t now = utc(2030, 1, 1, 0, 0, 0);
    junit_layout(r, 2, now);
    const junit_suite *a = &r[0].suites[0], *b = &r[1].suites[0];
    assert_int_equal(b->end_ns, now);
    assert_int_equal(b->start_ns, now - S_NS);
    assert_int_equal(a->end_ns, b->start_ns);
    assert_int_equal(a->start_ns, a->end_ns - 412 * MS);
    assert_int_equal(b->cases[0].start_ns, b->start_ns);
    assert_int_equal(b->cases[1].start_ns, b->start_ns + 250 * MS);
    assert_int_equal(b->cases[1].end_ns, b->start_ns + 750 * MS);
    /* Surefire's cases: 21 + 34 + 301 + 56 + 0 ms from the suite's start */
    assert_int_equal(a->cases[4].start_ns, a->start_ns + 412 * MS);
    junit_report_free(&r[0]);
    junit_report_free(&r[1]);
}

/* Nested suites without timestamps follow their parent's cursor. */
static void test_layout_nested(void **state)
{
    (void)state;
    junit_report r;
    load("nested.xml", &r);
    junit_layout(&r, 1, utc(2030, 1, 1, 0, 0, 0));
    const junit_suite *top = &r.suites[0];
    uint64_t t0 = utc(2024, 5, 14, 10, 0, 0);
    assert_int_equal(top->start_ns, t0);
    assert_int_equal(top->suites[0].start_ns, t0);
    assert_int_equal(top->suites[0].end_ns, t0 + 20 * MS);
    assert_int_equal(top->suites[1].start_ns, t0 + 20 * MS);
    assert_int_equal(top->suites[1].end_ns, t0 + 30 * MS);
    assert_int_equal(top->end_ns, t0 + 30 * MS);
    assert_int_equal(top->suites[0].cases[1].start_ns, t0 + 5 * MS);
    junit_report_free(&r);
}

static int set_utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_surefire),
        cmocka_unit_test(test_pytest_xunit2),
        cmocka_unit_test(test_pytest_xunit1_local_time),
        cmocka_unit_test(test_jest),
        cmocka_unit_test(test_gotestsum),
        cmocka_unit_test(test_ctest),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_malformed_fixtures),
        cmocka_unit_test(test_not_junit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_ignored_elements),
        cmocka_unit_test(test_outcome_precedence),
        cmocka_unit_test(test_text_cap),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_layout_timed),
        cmocka_unit_test(test_layout_untimed),
        cmocka_unit_test(test_layout_nested),
    };
    return cmocka_run_group_tests(tests, set_utc, NULL);
}
