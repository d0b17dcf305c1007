/*
 * junit_parse.h - JUnit XML reports in memory, for `otelc junit`.
 *
 * Pure functions: bytes in, a report structure out, no I/O and no SDK calls,
 * so the parser is unit-tested and fuzzed on its own. Parsing is done by
 * expat; this layer only interprets the elements JUnit producers write
 * (Maven Surefire, pytest, jest-junit, gotestsum, CTest and look-alikes):
 *
 *   <testsuites name=...>                 optional wrapper
 *     <testsuite name timestamp time ...> nests in some producers
 *       <testcase name classname time file line status>
 *         <failure|error message type>text</...>
 *         <skipped message>text</skipped>
 *         <flakyFailure|flakyError|rerunFailure|rerunError ...>   (Surefire reruns)
 *
 * Every other element (properties, system-out, ...) is skipped. Counts are
 * computed from the test cases found, not read from the tests/failures
 * attributes, which producers do not always keep consistent.
 */
#ifndef OTELC_CLI_JUNIT_PARSE_H
#define OTELC_CLI_JUNIT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Suites nested deeper than this are rejected (keeps the recursion bounded). */
#define JUNIT_MAX_DEPTH 32

/* Element text kept per failure/error/skipped element (longer text is cut). */
#define JUNIT_MAX_TEXT (64 * 1024)

/* Durations above this many seconds are treated as this (keeps sums finite). */
#define JUNIT_MAX_SECONDS 10000000

typedef enum junit_outcome {
    JUNIT_PASSED = 0,
    JUNIT_FAILED,  /* a <failure>: an assertion did not hold */
    JUNIT_ERRORED, /* an <error>: the test could not run to completion */
    JUNIT_SKIPPED, /* <skipped>, or CTest's status="notrun"/"disabled" */
} junit_outcome;

typedef enum junit_problem_kind {
    JUNIT_FAILURE = 0,
    JUNIT_ERROR,
    JUNIT_SKIP,
    JUNIT_FLAKY_FAILURE, /* failed, then passed on a rerun: the test passed */
    JUNIT_FLAKY_ERROR,
    JUNIT_RERUN_FAILURE, /* a failed rerun of a test that failed */
    JUNIT_RERUN_ERROR,
} junit_problem_kind;

/* One failure, error, skip or rerun element. Absent strings are NULL. */
typedef struct junit_problem {
    junit_problem_kind kind;
    char *type;
    char *message;
    char *text; /* the element's text, trimmed; NULL when blank */
} junit_problem;

typedef struct junit_case {
    char *name; /* never NULL ("" when the attribute is missing) */
    char *classname;
    char *file;
    int64_t line; /* 0: absent */
    bool has_duration;
    uint64_t duration_ns;
    junit_outcome outcome;
    junit_problem *problems;
    size_t problem_count;
    unsigned long xml_line;
    uint64_t start_ns, end_ns; /* set by junit_layout() */
} junit_case;

typedef struct junit_counts {
    uint64_t tests, passed, failed, errors, skipped;
} junit_counts;

typedef struct junit_suite {
    char *name; /* never NULL */
    char *hostname;
    char *file;
    bool has_timestamp;
    uint64_t timestamp_ns; /* Unix ns */
    bool has_duration;
    uint64_t duration_ns;
    junit_case *cases;
    size_t case_count;
    struct junit_suite *suites;
    size_t suite_count;
    junit_counts counts; /* this suite's cases and its nested suites' */
    unsigned long xml_line;
    uint64_t start_ns, end_ns; /* set by junit_layout() */
} junit_suite;

typedef struct junit_report {
    char *name; /* <testsuites name>, or NULL */
    junit_suite *suites;
    size_t suite_count;
    junit_counts counts;
} junit_report;

/* Where and why parsing failed; line and column are 1-based (0: unknown). */
typedef struct junit_error {
    unsigned long line, column;
    char message[160];
} junit_error;

/*
 * Parse a whole report. Returns 0 and fills *out (free with
 * junit_report_free), or -1 with *err filled and *out left empty: malformed
 * XML, a root element other than <testsuite>/<testsuites>, nesting deeper
 * than JUNIT_MAX_DEPTH, or memory exhausted.
 */
int junit_parse(const char *data, size_t len, junit_report *out, junit_error *err);

void junit_report_free(junit_report *r);

/*
 * A testsuite timestamp to Unix ns: "YYYY-MM-DD[T ]hh:mm:ss[.frac]" then
 * "Z", "+hh:mm", "+hhmm", "+hh" (or '-') or nothing. Without a zone the
 * time is local (TZ), which is what Surefire, pytest before 7 and CTest
 * write. Returns false for anything else, or a time before 1970.
 */
bool junit_parse_timestamp(const char *s, uint64_t *ns);

/*
 * A time attribute ("0.123", "12", "1,234.5": Surefire can write grouping
 * commas) to ns, capped at JUNIT_MAX_SECONDS. Returns false when invalid.
 */
bool junit_parse_seconds(const char *s, uint64_t *ns);

/*
 * Give every suite and case of the reports a start and end time:
 *   - a suite with a timestamp starts there; its cases run one after the
 *     other from that start, each for its own time, then its nested suites;
 *   - a nested suite without a timestamp follows its parent's cursor;
 *   - top-level suites without a timestamp (across all reports, in order)
 *     are laid end to end so that the last one ends at now_ns;
 *   - a suite lasts its own time attribute or its content, whichever is
 *     longer, and always covers its children.
 */
void junit_layout(junit_report *reports, size_t count, uint64_t now_ns);

/* "pass", "fail" or "skipped" for test.case.result.status. */
const char *junit_outcome_status(junit_outcome o);

#endif
