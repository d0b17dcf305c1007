/*
 * view_compare.h - field-by-field comparison of decoded spans with the
 * spans the SDK recorded, for the viewer's decoder and server tests: each
 * mismatch fails the test naming the span and the field.
 */
#ifndef OTELC_TEST_VIEW_COMPARE_H
#define OTELC_TEST_VIEW_COMPARE_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "internal.h"
#include "otelc/otelc.h"

static inline bool vc_str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static inline bool vc_attrs_eq(const otelc_attr *a, size_t na, const otelc_attr *b, size_t nb);

/* Two values of the same type holding the same data (NaN equals NaN). */
static inline bool vc_value_eq(const otelc_value *a, const otelc_value *b)
{
    if (a->type != b->type) return false;
    size_t n = a->u.array.count;
    switch (a->type) {
    case OTELC_VALUE_STRING:
    case OTELC_VALUE_BYTES:
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
    case OTELC_VALUE_BOOL:
        return a->u.b == b->u.b;
    case OTELC_VALUE_INT:
        return a->u.i == b->u.i;
    case OTELC_VALUE_DOUBLE:
        return a->u.d == b->u.d || (isnan(a->u.d) && isnan(b->u.d));
    case OTELC_VALUE_EMPTY:
        return true;
    default:
        break;
    }
    if (n != b->u.array.count) return false;
    for (size_t i = 0; i < n; i++) {
        const void *x = a->u.array.items, *y = b->u.array.items;
        bool same = false;
        switch (a->type) {
        case OTELC_VALUE_STRING_ARRAY:
            same = vc_str_eq(((const char *const *)x)[i], ((const char *const *)y)[i]);
            break;
        case OTELC_VALUE_BOOL_ARRAY:
            same = ((const bool *)x)[i] == ((const bool *)y)[i];
            break;
        case OTELC_VALUE_INT_ARRAY:
            same = ((const int64_t *)x)[i] == ((const int64_t *)y)[i];
            break;
        case OTELC_VALUE_DOUBLE_ARRAY:
            same = ((const double *)x)[i] == ((const double *)y)[i];
            break;
        case OTELC_VALUE_ARRAY:
            same = vc_value_eq(&((const otelc_value *)x)[i], &((const otelc_value *)y)[i]);
            break;
        case OTELC_VALUE_MAP:
            return vc_attrs_eq(x, n, y, n);
        default:
            return false;
        }
        if (!same) return false;
    }
    return true;
}

/* The same attributes in the same order. */
static inline bool vc_attrs_eq(const otelc_attr *a, size_t na, const otelc_attr *b, size_t nb)
{
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (!vc_str_eq(a[i].key, b[i].key) || !vc_value_eq(&a[i].value, &b[i].value)) return false;
    return true;
}

#define VC_CHECK(cond, what)                                                                       \
    do {                                                                                           \
        if (!(cond)) fail_msg("span %s: %s differs", want->name, what);                            \
    } while (0)

/* Ids, trace state and flags of two span contexts. */
static inline void vc_context(const otelc_span_data *want, const otelc_span_context *a,
                              const otelc_span_context *b, const char *what)
{
    VC_CHECK(memcmp(a->trace_id, b->trace_id, 16) == 0 && memcmp(a->span_id, b->span_id, 8) == 0,
             what);
    VC_CHECK(vc_str_eq(a->trace_state, b->trace_state), what);
    VC_CHECK(a->trace_flags == b->trace_flags && a->is_remote == b->is_remote, what);
}

static inline void vc_events(const otelc_span_data *want, const otelc_span_data *got)
{
    VC_CHECK(want->event_count == got->event_count, "event count");
    for (uint32_t i = 0; i < want->event_count; i++) {
        const otelc_event_data *a = &want->events[i], *b = &got->events[i];
        VC_CHECK(vc_str_eq(a->name, b->name) && a->time_ns == b->time_ns, "event");
        VC_CHECK(vc_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count), "event attributes");
        VC_CHECK(a->dropped_attr_count == b->dropped_attr_count, "event dropped attributes");
    }
}

static inline void vc_links(const otelc_span_data *want, const otelc_span_data *got)
{
    VC_CHECK(want->link_count == got->link_count, "link count");
    for (uint32_t i = 0; i < want->link_count; i++) {
        const otelc_link_data *a = &want->links[i], *b = &got->links[i];
        vc_context(want, &a->context, &b->context, "link context");
        VC_CHECK(vc_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count), "link attributes");
        VC_CHECK(a->dropped_attr_count == b->dropped_attr_count, "link dropped attributes");
    }
}

/* Everything OTLP carries, but the resource and scope (compared by the caller). */
static inline void vc_span(const otelc_span_data *want, const otelc_span_data *got)
{
    vc_context(want, &want->context, &got->context, "context");
    VC_CHECK(want->has_parent == got->has_parent, "has_parent");
    VC_CHECK(!want->has_parent || memcmp(want->parent_span_id, got->parent_span_id, 8) == 0,
             "parent span id");
    VC_CHECK(want->parent_is_remote == got->parent_is_remote, "parent_is_remote");
    VC_CHECK(want->kind == got->kind, "kind");
    VC_CHECK(vc_str_eq(want->name, got->name), "name");
    VC_CHECK(want->start_ns == got->start_ns && want->end_ns == got->end_ns, "times");
    VC_CHECK(vc_attrs_eq(want->attrs, want->attr_count, got->attrs, got->attr_count), "attributes");
    VC_CHECK(want->dropped_attr_count == got->dropped_attr_count, "dropped attributes");
    vc_events(want, got);
    VC_CHECK(want->dropped_event_count == got->dropped_event_count, "dropped events");
    vc_links(want, got);
    VC_CHECK(want->dropped_link_count == got->dropped_link_count, "dropped links");
    VC_CHECK(want->status == got->status, "status");
    VC_CHECK(vc_str_eq(want->status_message, got->status_message), "status message");
}

/* Attributes, schema URL and dropped count of two resources. */
static inline void vc_resource(const otelc_span_data *want, const otelc_resource *a,
                               const otelc_resource *b)
{
    size_t na = 0, nb = 0;
    const otelc_attr *aa = otelc_resource_attrs(a, &na), *ba = otelc_resource_attrs(b, &nb);
    VC_CHECK(vc_attrs_eq(aa, na, ba, nb), "resource attributes");
    VC_CHECK(vc_str_eq(otelc_resource_schema_url(a), otelc_resource_schema_url(b)),
             "resource schema URL");
    VC_CHECK(otelc__resource_dropped_count(a) == otelc__resource_dropped_count(b),
             "resource dropped attributes");
}

/* Everything two instrumentation scopes hold. */
static inline void vc_scope(const otelc_span_data *want, const otelc_scope_info *a,
                            const otelc_scope_info *b)
{
    VC_CHECK(vc_str_eq(a->name, b->name) && vc_str_eq(a->version, b->version), "scope");
    VC_CHECK(vc_str_eq(a->schema_url, b->schema_url), "scope schema URL");
    VC_CHECK(vc_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count), "scope attributes");
    VC_CHECK(a->dropped_attr_count == b->dropped_attr_count, "scope dropped attributes");
}

/* The decoded span with want's span id, failing when there is none. */
static inline const otelc_span_data *vc_find(const otelc_span_data *spans, size_t n,
                                             const otelc_span_data *want)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(spans[i].context.span_id, want->context.span_id, 8) == 0) return &spans[i];
    fail_msg("span %s was not decoded", want->name);
    return NULL;
}

#endif
