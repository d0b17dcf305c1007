/*
 * span_assert.h - cmocka assertions that two spans hold the same data,
 * field for field: what a decoder, a store or a whole viewer gives back
 * against what the SDK sent. Values compare by type and content (doubles
 * bit for bit), scopes and resources by content, never by pointer.
 * Include it after <cmocka.h>.
 */
#ifndef OTELC_TEST_SPAN_ASSERT_H
#define OTELC_TEST_SPAN_ASSERT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "otelc/otelc.h"

static inline void assert_str_eq(const char *a, const char *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_string_equal(a, b);
}

static inline void assert_attrs_eq(const otelc_attr *a, size_t na, const otelc_attr *b, size_t nb);

static inline size_t item_bytes(otelc_value_type t)
{
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY:
        return sizeof(const char *);
    case OTELC_VALUE_BOOL_ARRAY:
        return sizeof(bool);
    case OTELC_VALUE_INT_ARRAY:
        return sizeof(int64_t);
    default:
        return sizeof(double);
    }
}

static inline void assert_value_eq(const otelc_value *a, const otelc_value *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case OTELC_VALUE_STRING:
    case OTELC_VALUE_BYTES:
        assert_int_equal(a->u.str.len, b->u.str.len);
        assert_memory_equal(a->u.str.ptr, b->u.str.ptr, a->u.str.len + (a->u.str.len == 0));
        break;
    case OTELC_VALUE_BOOL:
        assert_int_equal(a->u.b, b->u.b);
        break;
    case OTELC_VALUE_INT:
        assert_int_equal(a->u.i, b->u.i);
        break;
    case OTELC_VALUE_DOUBLE:
        assert_memory_equal(&a->u.d, &b->u.d, sizeof(double));
        break;
    case OTELC_VALUE_EMPTY:
        break;
    case OTELC_VALUE_ARRAY:
        assert_int_equal(a->u.array.count, b->u.array.count);
        for (size_t i = 0; i < a->u.array.count; i++)
            assert_value_eq(&((const otelc_value *)a->u.array.items)[i],
                            &((const otelc_value *)b->u.array.items)[i]);
        break;
    case OTELC_VALUE_MAP:
        assert_attrs_eq(a->u.array.items, a->u.array.count, b->u.array.items, b->u.array.count);
        break;
    case OTELC_VALUE_STRING_ARRAY:
        assert_int_equal(a->u.array.count, b->u.array.count);
        for (size_t i = 0; i < a->u.array.count; i++)
            assert_string_equal(((const char *const *)a->u.array.items)[i],
                                ((const char *const *)b->u.array.items)[i]);
        break;
    default:
        assert_int_equal(a->u.array.count, b->u.array.count);
        if (a->u.array.count)
            assert_memory_equal(a->u.array.items, b->u.array.items,
                                a->u.array.count * item_bytes(a->type));
    }
}

static inline void assert_attrs_eq(const otelc_attr *a, size_t na, const otelc_attr *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].key, b[i].key);
        assert_value_eq(&a[i].value, &b[i].value);
    }
}

static inline void assert_context_eq(const otelc_span_context *a, const otelc_span_context *b)
{
    assert_memory_equal(a->trace_id, b->trace_id, 16);
    assert_memory_equal(a->span_id, b->span_id, 8);
    assert_int_equal(a->trace_flags, b->trace_flags);
    assert_int_equal(a->is_remote, b->is_remote);
    assert_str_eq(a->trace_state, b->trace_state);
}

static inline void assert_resource_eq(const otelc_resource *a, const otelc_resource *b)
{
    size_t na = 0, nb = 0;
    const otelc_attr *aa = otelc_resource_attrs(a, &na), *ba = otelc_resource_attrs(b, &nb);
    assert_attrs_eq(aa, na, ba, nb);
    assert_str_eq(otelc_resource_schema_url(a), otelc_resource_schema_url(b));
    assert_int_equal(otelc__resource_dropped_count(a), otelc__resource_dropped_count(b));
}

static inline void assert_scope_eq(const otelc_scope_info *a, const otelc_scope_info *b)
{
    assert_str_eq(a->name, b->name);
    assert_str_eq(a->version, b->version);
    assert_str_eq(a->schema_url, b->schema_url);
    assert_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count);
    assert_int_equal(a->dropped_attr_count, b->dropped_attr_count);
}

/* Everything a span holds, its scope and resource compared by content. */
static inline void assert_span_eq(const otelc_span_data *a, const otelc_span_data *b)
{
    /* The context's is_remote is not on the wire; a span's own context is local. */
    assert_memory_equal(a->context.trace_id, b->context.trace_id, 16);
    assert_memory_equal(a->context.span_id, b->context.span_id, 8);
    assert_int_equal(a->context.trace_flags, b->context.trace_flags);
    assert_str_eq(a->context.trace_state, b->context.trace_state);
    assert_int_equal(a->has_parent, b->has_parent);
    assert_memory_equal(a->parent_span_id, b->parent_span_id, 8);
    assert_int_equal(a->parent_is_remote, b->parent_is_remote);
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->start_ns, b->start_ns);
    assert_int_equal(a->end_ns, b->end_ns);
    assert_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count);
    assert_int_equal(a->dropped_attr_count, b->dropped_attr_count);
    assert_int_equal(a->event_count, b->event_count);
    for (uint32_t i = 0; i < a->event_count; i++) {
        const otelc_event_data *x = &a->events[i], *y = &b->events[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->time_ns, y->time_ns);
        assert_attrs_eq(x->attrs, x->attr_count, y->attrs, y->attr_count);
        assert_int_equal(x->dropped_attr_count, y->dropped_attr_count);
    }
    assert_int_equal(a->dropped_event_count, b->dropped_event_count);
    assert_int_equal(a->link_count, b->link_count);
    for (uint32_t i = 0; i < a->link_count; i++) {
        const otelc_link_data *x = &a->links[i], *y = &b->links[i];
        assert_context_eq(&x->context, &y->context);
        assert_attrs_eq(x->attrs, x->attr_count, y->attrs, y->attr_count);
        assert_int_equal(x->dropped_attr_count, y->dropped_attr_count);
    }
    assert_int_equal(a->dropped_link_count, b->dropped_link_count);
    assert_int_equal(a->status, b->status);
    assert_str_eq(a->status_message, b->status_message);
    if (a->scope && b->scope) assert_scope_eq(a->scope, b->scope);
    if (a->resource && b->resource) assert_resource_eq(a->resource, b->resource);
}

#endif
