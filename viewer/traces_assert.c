/*
 * traces_assert.c - `otelc traces assert QUERY`: the query selects traces
 * (at least one must match; exactly N with --count) and each flag is a
 * check on every one of them:
 *
 *   --complete    exactly one root and every parent present: the check of
 *                 otelc_testing_trace_complete() (otelc__trace_complete)
 *   --no-errors   no span with status ERROR
 *   --min-spans N at least N spans
 *
 * Each failed trace gets one line on stderr with every reason; --junit
 * writes the same result as a JUnit report: a test case per check per
 * trace (classname: the trace id), plus the query's own cases.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export/otlp.h"
#include "junit_write.h"
#include "traces_cmd.h"

#define QUERY_CLASS "query"

/* One check's outcome, owning its strings. */
typedef struct outcome {
    char *classname;
    const char *name; /* static, or the state's min_label */
    char *failure;    /* NULL: held */
} outcome;

typedef struct assert_state {
    const traces_opts *o;
    vw_source *src;
    char min_label[48];
    outcome *outcomes;
    size_t count, cap;
    size_t traces, failed;
    bool nomem;
    int status; /* vw_source_status of a trace that could not be loaded */
    char err[512];
} assert_state;

/* Record a check; failure (copied) is NULL when it held. */
static void record(assert_state *as, const char *classname, const char *name, const char *failure)
{
    if (as->count == as->cap) {
        size_t cap = as->cap ? 2 * as->cap : 16;
        outcome *n = realloc(as->outcomes, cap * sizeof *n);
        if (!n) {
            as->nomem = true;
            return;
        }
        as->outcomes = n;
        as->cap = cap;
    }
    outcome *c = &as->outcomes[as->count++];
    c->classname = strdup(classname);
    c->name = name;
    c->failure = failure ? strdup(failure) : NULL;
    if (!c->classname || (failure && !c->failure)) as->nomem = true;
}

/* The first error span and how many there are, as a reason; false when there is none. */
static bool error_reason(const vw_batch *t, char *why, size_t n)
{
    const otelc_span_data *first = NULL;
    size_t errors = 0;
    for (size_t i = 0; i < t->count; i++) {
        if (t->spans[i].status != OTELC_STATUS_ERROR) continue;
        if (!first) first = &t->spans[i];
        errors++;
    }
    if (!first) return false;
    const char *msg = first->status_message;
    int len = snprintf(why, n, "error span \"%s\"%s%s", first->name ? first->name : "",
                       msg && *msg ? ": " : "", msg && *msg ? msg : "");
    if (errors > 1 && len >= 0 && (size_t)len < n)
        snprintf(why + len, n - (size_t)len, " (and %zu more)", errors - 1);
    return true;
}

/* Run the checks on one whole trace; reasons collects why it failed ("; "-separated). */
static void check_trace(assert_state *as, const char *id, const vw_batch *t, otelc_buf *reasons)
{
    const traces_opts *o = as->o;
    char why[512];
    if (o->complete) {
        const otelc_span_data **spans = malloc((t->count ? t->count : 1) * sizeof *spans);
        for (size_t i = 0; spans && i < t->count; i++) spans[i] = &t->spans[i];
        bool ok =
            spans && otelc__trace_complete(spans, t->count, o->allow_remote_root, why, sizeof why);
        if (!spans) snprintf(why, sizeof why, "out of memory");
        free(spans);
        record(as, id, "complete", ok ? NULL : why);
        if (!ok) otelc__buf_printf(reasons, "%s%s", reasons->len ? "; " : "", why);
    }
    if (o->no_errors) {
        bool bad = error_reason(t, why, sizeof why);
        record(as, id, "no errors", bad ? why : NULL);
        if (bad) otelc__buf_printf(reasons, "%s%s", reasons->len ? "; " : "", why);
    }
    if (o->min_spans) {
        bool bad = t->count < o->min_spans;
        snprintf(why, sizeof why, "%zu spans, fewer than %" PRIu32, t->count, o->min_spans);
        record(as, id, as->min_label, bad ? why : NULL);
        if (bad) otelc__buf_printf(reasons, "%s%s", reasons->len ? "; " : "", why);
    }
}

static int assert_found(void *ctx, const vw_summary *sum, const vw_batch *trace)
{
    assert_state *as = ctx;
    char id[33];
    otelc__hex_encode(sum->trace_id, 16, id);
    id[32] = '\0';
    vw_batch loaded;
    vw_batch_init(&loaded);
    if (!trace) {
        int found = vw_source_trace(as->src, sum->trace_id, &loaded, as->err, sizeof as->err);
        if (found < 0) as->status = -found;
        trace = &loaded; /* not found: removed meanwhile; it fails what needs spans */
    }
    if (as->status == VW_SOURCE_OK) {
        otelc_buf reasons = {0};
        as->traces++;
        check_trace(as, id, trace, &reasons);
        if (reasons.len) {
            as->failed++;
            cli_error("traces assert: trace %s (%s): %.*s", id,
                      sum->root_name ? sum->root_name : "no root span", (int)reasons.len,
                      reasons.data);
        }
        as->nomem |= reasons.failed;
        otelc__buf_free(&reasons);
    }
    vw_batch_free(&loaded);
    return as->status != VW_SOURCE_OK || as->nomem;
}

/* The query's own cases: at least one match, exactly --count. Returns false when one failed. */
static bool check_query(assert_state *as)
{
    const traces_opts *o = as->o;
    char why[512];
    bool ok = true;
    if (as->traces == 0) {
        snprintf(why, sizeof why, "no trace matches %s", o->arg);
        cli_error("traces assert: %s", why);
        ok = false;
    }
    record(as, QUERY_CLASS, "at least one trace matches", ok ? NULL : why);
    if (o->count_set) {
        bool exact = as->traces == o->count;
        snprintf(why, sizeof why, "%zu traces match %s, expected %zu", as->traces, o->arg,
                 o->count);
        if (!exact) cli_error("traces assert: %s", why);
        record(as, QUERY_CLASS, "count", exact ? NULL : why);
        ok &= exact;
    }
    return ok;
}

static int write_junit(const assert_state *as, uint64_t started_ns)
{
    const traces_opts *o = as->o;
    vw_junit_case *cases = calloc(as->count ? as->count : 1, sizeof *cases);
    if (!cases) return CLI_EXIT_INTERNAL;
    for (size_t i = 0; i < as->count; i++)
        cases[i] = (vw_junit_case){as->outcomes[i].classname, as->outcomes[i].name,
                                   as->outcomes[i].failure};
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "localhost");
    vw_junit_property props[] = {{"query", o->arg}, {"source", o->db ? o->db : "viewer"}};
    vw_junit_suite suite = {
        .name = "otelc traces assert",
        .hostname = host,
        .timestamp_ns = started_ns,
        .duration_ns = cli_now_ns() - started_ns,
        .properties = props,
        .property_count = 2,
        .cases = cases,
        .case_count = as->count,
    };
    otelc_buf b = {0};
    vw_junit_write(&b, &suite);
    free(cases);
    FILE *f = b.failed ? NULL : fopen(o->junit, "w");
    bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
    if (f && fclose(f) != 0) ok = false;
    otelc__buf_free(&b);
    if (ok) return CLI_EXIT_OK;
    cli_error("traces assert: cannot write %s", o->junit);
    return CLI_EXIT_INPUT;
}

static void free_outcomes(assert_state *as)
{
    for (size_t i = 0; i < as->count; i++) {
        free(as->outcomes[i].classname);
        free(as->outcomes[i].failure);
    }
    free(as->outcomes);
}

int traces_assert(const traces_opts *o)
{
    uint64_t started = cli_now_ns();
    assert_state as = {.o = o, .status = VW_SOURCE_OK};
    snprintf(as.min_label, sizeof as.min_label, "at least %" PRIu32 " spans", o->min_spans);
    int rc = traces_open(o, &as.src);
    if (rc) return rc;
    char err[512];
    int st = vw_source_search(as.src, &o->query, assert_found, &as, err, sizeof err);
    vw_source_close(as.src);
    if (as.status != VW_SOURCE_OK) {
        st = as.status;
        memcpy(err, as.err, sizeof err);
    }
    if (st != VW_SOURCE_OK) {
        free_outcomes(&as);
        return traces_source_error(o, st, err);
    }
    bool query_ok = check_query(&as);
    if (as.traces >= o->query.limit && !o->count_set)
        cli_error("traces assert: only the newest %zu matching traces were checked (--limit)",
                  as.traces);
    rc = as.nomem ? CLI_EXIT_INTERNAL : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK && o->junit) rc = write_junit(&as, started);
    if (rc == CLI_EXIT_OK) {
        printf("%zu traces checked, %zu failed\n", as.traces, as.failed);
        if (!query_ok || as.failed) rc = CLI_EXIT_FAILURE;
    } else if (as.nomem) {
        cli_error("traces assert: out of memory");
    }
    free_outcomes(&as);
    return rc;
}
