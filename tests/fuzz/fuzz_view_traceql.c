/*
 * fuzz_view_traceql.c - TraceQL compilation of arbitrary bytes: a query
 * either compiles or fails with a "LINE:COLUMN: message" error; one that
 * compiles is evaluated on a small fixed trace (two services, nesting, an
 * error, attributes of several types, a parent cycle), its result agrees
 * with the spans it reports, and a match satisfies the query's plan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "traceql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPANS 6

static otelc_span_data spans[SPANS];
static const otelc_span_data *ptrs[SPANS];

static const char *tags[] = {"a", "b"};
static const int64_t codes[] = {1, 2, 3};

static void span(int i, const char *name, uint8_t id, uint8_t parent, const otelc_resource *res,
                 int kind, int status, uint64_t start, uint64_t end, const otelc_attr *attrs,
                 uint32_t count)
{
    spans[i].context.span_id[7] = id;
    spans[i].has_parent = parent != 0;
    spans[i].parent_span_id[7] = parent;
    spans[i].name = name;
    spans[i].kind = (otelc_span_kind)kind;
    spans[i].status = (otelc_status_code)status;
    spans[i].start_ns = start;
    spans[i].end_ns = end;
    spans[i].attrs = attrs;
    spans[i].attr_count = count;
    spans[i].resource = res;
    ptrs[i] = &spans[i];
}

static void build_trace(void)
{
    static otelc_attr root_attrs[4], pay_attrs[3];
    otelc_attr front[] = {OTELC_ATTR_STR("service.name", "frontend"), OTELC_ATTR_INT("cpus", 4)};
    otelc_attr pay[] = {OTELC_ATTR_STR("service.name", "payments")};
    const otelc_resource *r_front = otelc_resource_new(front, 2, NULL);
    const otelc_resource *r_pay = otelc_resource_new(pay, 1, NULL);
    root_attrs[0] = OTELC_ATTR_STR("http.request.method", "GET");
    root_attrs[1] = OTELC_ATTR_INT("http.response.status_code", 200);
    root_attrs[2] = (otelc_attr){"tags", {OTELC_VALUE_STRING_ARRAY, .u.array = {tags, 2}}};
    root_attrs[3] = (otelc_attr){"codes", {OTELC_VALUE_INT_ARRAY, .u.array = {codes, 3}}};
    pay_attrs[0] = OTELC_ATTR_DOUBLE("amount", 12.5);
    pay_attrs[1] = (otelc_attr){"blob", {OTELC_VALUE_BYTES, .u.str = {"x", 1}}};
    pay_attrs[2] = (otelc_attr){"nothing", {.type = OTELC_VALUE_EMPTY}};
    span(0, "GET /", 1, 0, r_front, OTELC_SPAN_SERVER, OTELC_STATUS_UNSET, 0, 100000000, root_attrs,
         4);
    span(1, "POST /pay", 2, 1, r_front, OTELC_SPAN_CLIENT, OTELC_STATUS_UNSET, 10, 80000000, NULL,
         0);
    span(2, "POST /pay", 3, 2, r_pay, OTELC_SPAN_SERVER, OTELC_STATUS_ERROR, 20, 70000000,
         pay_attrs, 3);
    span(3, "SELECT", 4, 3, r_pay, OTELC_SPAN_CLIENT, OTELC_STATUS_OK, 30, 40, NULL, 0);
    span(4, "loop a", 5, 6, r_pay, 0, OTELC_STATUS_UNSET, 50, 40, NULL, 0);
    span(5, "loop b", 6, 5, NULL, OTELC_SPAN_INTERNAL, OTELC_STATUS_UNSET, 60, 70, NULL, 0);
}

static void check_error(const char *err)
{
    unsigned line, col;
    int used = 0;
    if (sscanf(err, "%u:%u: %n", &line, &col, &used) != 2 || used == 0 || line == 0 || col == 0 ||
        err[used] == '\0' || !otelc__utf8_valid(err, strlen(err)))
        abort();
}

static void check_plan(const vw_tql_plan *plan)
{
    for (size_t i = 0; i < plan->cond_count; i++)
        if (plan->conds[i].span >= plan->span_count) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ptrs[0]) build_trace();
    vw_tql *q = NULL;
    char err[256];
    int rc = vw_tql_compile((const char *)data, size, &q, err, sizeof err);
    if (rc != OTELC_OK) {
        if (rc != OTELC_ERR_PARSE || q) abort();
        check_error(err);
        return 0;
    }
    bool matched[SPANS], any = false;
    bool match = vw_tql_match(q, ptrs, SPANS, matched);
    for (int i = 0; i < SPANS; i++) any = any || matched[i];
    if (match != any) abort();
    check_plan(vw_tql_get_plan(q));
    if (match && !vw_tql_plan_holds(vw_tql_get_plan(q), ptrs, SPANS)) abort();
    vw_tql_free(q);
    return 0;
}
