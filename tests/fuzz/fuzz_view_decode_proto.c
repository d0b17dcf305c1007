/*
 * fuzz_view_decode_proto.c - the viewer's OTLP protobuf decoder on
 * arbitrary bytes, as a request and as each single message the store
 * keeps. Beyond not crashing or reading out of bounds:
 *
 * - a refused request leaves an empty batch; an accepted one holds only
 *   spans with valid ids, NUL-terminated UTF-8 strings with exact lengths,
 *   values nested within the bound, and each span a scope and a resource;
 * - what was accepted, encoded again by libotelc, decodes to the same
 *   spans (when its values are of the kinds the encoder writes today:
 *   scalars and typed arrays).
 */
#include <stdlib.h>
#include <string.h>

#include "decode_proto.h"
#include "export/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t len)
{
    if (!s || s[len] != '\0' || !otelc__utf8_valid(s, len)) abort();
}

static void check_attrs(const otelc_attr *attrs, size_t n, int depth);

static void check_value(const otelc_value *v, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) abort();
    switch (v->type) {
    case OTELC_VALUE_STRING:
        check_str(v->u.str.ptr, v->u.str.len);
        break;
    case OTELC_VALUE_BYTES:
        if (v->u.str.len && !v->u.str.ptr) abort();
        break;
    case OTELC_VALUE_STRING_ARRAY:
        for (size_t i = 0; i < v->u.array.count; i++) {
            const char *s = ((const char *const *)v->u.array.items)[i];
            check_str(s, strlen(s));
        }
        break;
    case OTELC_VALUE_ARRAY:
        for (size_t i = 0; i < v->u.array.count; i++)
            check_value(&((const otelc_value *)v->u.array.items)[i], depth + 1);
        break;
    case OTELC_VALUE_MAP:
        check_attrs(v->u.array.items, v->u.array.count, depth + 1);
        break;
    case OTELC_VALUE_BOOL:
    case OTELC_VALUE_INT:
    case OTELC_VALUE_DOUBLE:
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
    case OTELC_VALUE_EMPTY:
        break;
    default:
        abort();
    }
}

static void check_attrs(const otelc_attr *attrs, size_t n, int depth)
{
    for (size_t i = 0; i < n; i++) {
        check_str(attrs[i].key, strlen(attrs[i].key));
        check_value(&attrs[i].value, depth);
    }
}

/* A span's content; in a request (in_request) also its scope and resource. */
static void check_span(const otelc_span_data *sd, bool in_request)
{
    if (otelc__is_zero(sd->context.trace_id, 16) || otelc__is_zero(sd->context.span_id, 8)) abort();
    if (sd->has_parent == otelc__is_zero(sd->parent_span_id, 8)) abort();
    if (sd->kind > OTELC_SPAN_CONSUMER || sd->status > OTELC_STATUS_ERROR) abort();
    check_str(sd->name, strlen(sd->name));
    check_attrs(sd->attrs, sd->attr_count, 0);
    for (uint32_t i = 0; i < sd->event_count; i++) {
        check_str(sd->events[i].name, strlen(sd->events[i].name));
        check_attrs(sd->events[i].attrs, sd->events[i].attr_count, 0);
    }
    for (uint32_t i = 0; i < sd->link_count; i++)
        check_attrs(sd->links[i].attrs, sd->links[i].attr_count, 0);
    if (!in_request) return;
    if (!sd->scope || !sd->resource) abort();
    check_attrs(sd->scope->attrs, sd->scope->attr_count, 0);
}

/* Values libotelc's encoder writes today (the other kinds come with its AnyValue support). */
static bool encodable(const otelc_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (attrs[i].value.type > OTELC_VALUE_DOUBLE_ARRAY) return false;
    return true;
}

static bool batch_encodable(const vw_batch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const otelc_span_data *sd = &b->spans[i];
        if (!encodable(sd->attrs, sd->attr_count)) return false;
        for (uint32_t j = 0; j < sd->event_count; j++)
            if (!encodable(sd->events[j].attrs, sd->events[j].attr_count)) return false;
        for (uint32_t j = 0; j < sd->link_count; j++)
            if (!encodable(sd->links[j].attrs, sd->links[j].attr_count)) return false;
    }
    return true;
}

static void check_same_spans(const vw_batch *a, const vw_batch *b)
{
    if (b->count != a->count || b->rejected != 0) abort();
    for (size_t i = 0; i < a->count; i++) {
        const otelc_span_data *x = &a->spans[i], *y = &b->spans[i];
        if (memcmp(&x->context.trace_id, &y->context.trace_id, 16) ||
            memcmp(&x->context.span_id, &y->context.span_id, 8) || x->has_parent != y->has_parent ||
            x->parent_is_remote != y->parent_is_remote ||
            x->context.trace_flags != y->context.trace_flags || strcmp(x->name, y->name) ||
            x->kind != y->kind || x->start_ns != y->start_ns || x->end_ns != y->end_ns ||
            x->attr_count != y->attr_count || x->event_count != y->event_count ||
            x->link_count != y->link_count || x->status != y->status ||
            x->dropped_link_count != y->dropped_link_count ||
            strcmp(x->scope->name, y->scope->name))
            abort();
    }
}

/* Encode what was decoded, decode it again: the same spans. */
static void check_round_trip(const vw_batch *b)
{
    if (b->count == 0 || !batch_encodable(b)) return;
    const otelc_span_data **list = malloc(b->count * sizeof *list);
    otelc_buf wire = {0};
    if (!list) return;
    for (size_t i = 0; i < b->count; i++) list[i] = &b->spans[i];
    if (otelc__otlp_encode_proto(&wire, list, b->count) == OTELC_OK) {
        vw_batch again;
        vw_batch_init(&again);
        if (vw_decode_otlp_proto((const uint8_t *)wire.data, wire.len, &again) != VW_DECODE_OK)
            abort();
        check_same_spans(b, &again);
        vw_batch_free(&again);
    }
    otelc__buf_free(&wire);
    free(list);
}

static void check_request(const uint8_t *p, size_t n)
{
    vw_batch b;
    vw_batch_init(&b);
    vw_decode_status st = vw_decode_otlp_proto(p, n, &b);
    if (!memchr(b.reject_reason, '\0', sizeof b.reject_reason)) abort();
    if (st != VW_DECODE_OK) {
        if (st > VW_DECODE_NOMEM || b.count || b.rejected || b.resource_count) abort();
    } else {
        if (b.rejected && !b.reject_reason[0]) abort();
        for (size_t i = 0; i < b.count; i++) check_span(&b.spans[i], true);
        check_round_trip(&b);
    }
    vw_batch_free(&b);
}

static void check_single_messages(const uint8_t *p, size_t n)
{
    vw_batch b;
    vw_batch_init(&b);
    otelc_span_data sd;
    if (vw_decode_span(p, n, &b, &sd) == VW_DECODE_OK) check_span(&sd, false);
    otelc_scope_info scope;
    if (vw_decode_scope(p, n, &b, &scope) == VW_DECODE_OK)
        check_attrs(scope.attrs, scope.attr_count, 0);
    (void)vw_decode_resource(p, n, NULL, &b);
    vw_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that a read one past the end is caught. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    check_request(copy, size);
    check_single_messages(copy, size);
    free(copy);
    return 0;
}
