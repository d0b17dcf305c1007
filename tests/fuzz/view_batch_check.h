/*
 * view_batch_check.h - what every viewer decoder's fuzz target checks of a
 * batch it decoded: each kept span is whole (valid ids, a name, a
 * resource and a scope), every string valid UTF-8 and every value's type
 * known and length exact, which walking them all under ASan checks.
 */
#ifndef OTELC_FUZZ_VIEW_BATCH_CHECK_H
#define OTELC_FUZZ_VIEW_BATCH_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "batch.h"

static inline void check_str(const char *s)
{
    if (s && !otelc__utf8_valid(s, strlen(s))) abort();
}

static inline void check_attrs(const otelc_attr *attrs, size_t n);

static inline void check_value(const otelc_value *v)
{
    const void *items = v->u.array.items;
    switch (v->type) {
    case OTELC_VALUE_STRING:
        if (!otelc__utf8_valid(v->u.str.ptr, v->u.str.len) || v->u.str.ptr[v->u.str.len]) abort();
        break;
    case OTELC_VALUE_BYTES:
        if (v->u.str.len && !v->u.str.ptr) abort();
        for (size_t i = 0; i < v->u.str.len; i++) (void)*(volatile const char *)&v->u.str.ptr[i];
        break;
    case OTELC_VALUE_STRING_ARRAY:
        if (!v->u.array.count) abort(); /* the empty array is OTELC_VALUE_ARRAY */
        for (size_t i = 0; i < v->u.array.count; i++) check_str(((const char *const *)items)[i]);
        break;
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        if (!v->u.array.count) abort();
        break;
    case OTELC_VALUE_ARRAY:
        for (size_t i = 0; i < v->u.array.count; i++) check_value(&((const otelc_value *)items)[i]);
        break;
    case OTELC_VALUE_MAP:
        check_attrs(items, v->u.array.count);
        break;
    case OTELC_VALUE_BOOL:
    case OTELC_VALUE_INT:
    case OTELC_VALUE_DOUBLE:
    case OTELC_VALUE_EMPTY:
        break;
    default:
        abort();
    }
}

static inline void check_attrs(const otelc_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!attrs[i].key) abort();
        check_str(attrs[i].key);
        check_value(&attrs[i].value);
    }
}

static inline void check_span(const otelc_span_data *sd)
{
    if (otelc__is_zero(sd->context.trace_id, 16) || otelc__is_zero(sd->context.span_id, 8)) abort();
    if (!sd->name || !sd->resource || !sd->scope || !sd->scope->name) abort();
    if (sd->parent_is_remote && !sd->has_parent) abort();
    if ((unsigned)sd->kind > 5 || (unsigned)sd->status > 2) abort();
    check_str(sd->name);
    check_str(sd->context.trace_state);
    check_str(sd->status_message);
    check_attrs(sd->attrs, sd->attr_count);
    check_attrs(sd->scope->attrs, sd->scope->attr_count);
    for (uint32_t i = 0; i < sd->event_count; i++) {
        check_str(sd->events[i].name);
        check_attrs(sd->events[i].attrs, sd->events[i].attr_count);
    }
    for (uint32_t i = 0; i < sd->link_count; i++) {
        check_str(sd->links[i].context.trace_state);
        check_attrs(sd->links[i].attrs, sd->links[i].attr_count);
    }
    size_t n;
    check_attrs(otelc_resource_attrs(sd->resource, &n), n);
}

/* The whole batch after a decoder returned st. */
static inline void check_batch(const vw_batch *b, vw_decode_status st)
{
    if (st > VW_DECODE_NOMEM) abort();
    if (st != VW_DECODE_OK) return;
    if (b->count > VW_MAX_SPANS_PER_REQUEST) abort();
    for (size_t i = 0; i < b->count; i++) check_span(&b->spans[i]);
    if (b->rejected && !b->reject_reason[0]) abort();
}

#endif
