/*
 * fuzz_junit.c - the JUnit XML parser of `otelc junit` on arbitrary bytes,
 * then the layout of the parsed report in time. Beyond not crashing or
 * leaking: a failure leaves an empty report and a message, a success has
 * counts that add up and every case inside its suite's time span.
 */
#include <stdlib.h>
#include <string.h>

#include "junit_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_counts(const junit_counts *k)
{
    if (k->passed + k->failed + k->errors + k->skipped != k->tests) abort();
}

static void check_suite(const junit_suite *s, int depth)
{
    if (depth > JUNIT_MAX_DEPTH || !s->name) abort();
    check_counts(&s->counts);
    if (s->end_ns < s->start_ns) abort();
    for (size_t i = 0; i < s->case_count; i++) {
        const junit_case *c = &s->cases[i];
        if (!c->name || c->end_ns < c->start_ns) abort();
        if (c->start_ns < s->start_ns || c->end_ns > s->end_ns) abort();
        for (size_t j = 0; j < c->problem_count; j++)
            if (c->problems[j].text && strlen(c->problems[j].text) > JUNIT_MAX_TEXT) abort();
    }
    for (size_t i = 0; i < s->suite_count; i++) check_suite(&s->suites[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    junit_report r;
    junit_error err;
    if (junit_parse((const char *)data, size, &r, &err) != 0) {
        if (r.suites || r.suite_count || r.name || !err.message[0]) abort();
        return 0;
    }
    check_counts(&r.counts);
    junit_layout(&r, 1, 1700000000ull * 1000000000ull);
    for (size_t i = 0; i < r.suite_count; i++) check_suite(&r.suites[i], 1);
    junit_report_free(&r);
    return 0;
}
