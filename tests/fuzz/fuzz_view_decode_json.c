/*
 * fuzz_view_decode_json.c - the viewer's OTLP/JSON decoder on arbitrary
 * bytes: no crash, no out-of-bounds read, no leak; a status among the four;
 * on success every kept span is whole (valid ids, a name, a resource and a
 * scope), every string valid UTF-8 and every value's length exact, which
 * walking them all under ASan checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "decode_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s)
{
    if (s && !otelc__utf8_valid(s, strlen(s))) abort();
}

static void check_attrs(const otelc_attr *attrs, size_t n);

static void check_value(const otelc_value *v)
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

static void check_attrs(const otelc_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!attrs[i].key) abort();
        check_str(attrs[i].key);
        check_value(&attrs[i].value);
    }
}

static void check_span(const otelc_span_data *sd)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that a read one past the end is caught. */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    vw_batch b;
    vw_batch_init(&b);
    vw_decode_status st = vw_decode_otlp_json(copy, size, &b);
    if (st > VW_DECODE_NOMEM) abort();
    if (st == VW_DECODE_OK) {
        if (b.count > VW_MAX_SPANS_PER_REQUEST) abort();
        for (size_t i = 0; i < b.count; i++) check_span(&b.spans[i]);
        if (b.rejected && !b.reject_reason[0]) abort();
    }
    vw_batch_free(&b);
    free(copy);
    return 0;
}
