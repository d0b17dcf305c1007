/*
 * junit_write.h - a JUnit XML report, as `otelc traces assert --junit`
 * writes it for CI systems (Jenkins, GitLab, GitHub test reporters) and
 * `otelc junit` reads it back.
 *
 * The document is one <testsuite> valid against the Apache Ant JUnit
 * schema (the strictest of the common ones, windyroad/JUnit-Schema):
 * every required attribute (name, timestamp in local time without a zone,
 * hostname, tests, failures, errors, time), <properties>, the test cases,
 * then empty <system-out/> and <system-err/>. Each case has name,
 * classname and time, and a failed one a <failure message type> whose
 * text repeats the message. Text that XML 1.0 cannot hold (control
 * characters, malformed UTF-8, U+FFFE, U+FFFF) is written as U+FFFD.
 */
#ifndef OTELC_VIEWER_JUNIT_WRITE_H
#define OTELC_VIEWER_JUNIT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "export/otlp.h"

typedef struct vw_junit_case {
    const char *classname; /* NULL or "": the suite's name */
    const char *name;
    const char *failure; /* NULL: passed; else why it failed (one line) */
} vw_junit_case;

typedef struct vw_junit_property {
    const char *name;
    const char *value;
} vw_junit_property;

typedef struct vw_junit_suite {
    const char *name;
    const char *hostname;  /* NULL: "localhost" */
    uint64_t timestamp_ns; /* when the checks ran (Unix ns) */
    uint64_t duration_ns;  /* how long they took */
    const vw_junit_property *properties;
    size_t property_count;
    const vw_junit_case *cases;
    size_t case_count;
} vw_junit_suite;

/* Append the report to out (whose failed flag tells of a lack of memory). */
void vw_junit_write(otelc_buf *out, const vw_junit_suite *s);

#endif
