/*
 * anyvalue.h - attribute values of every AnyValue kind for the tests of
 * copies, setters and encoders: bytes holding a zero byte and 0xff, the
 * empty value, an empty map and an empty array, an array inside a map and
 * a map inside an array; a deep comparison; and a span built by hand with
 * a scope that has attributes (tracers have none), for the encoders.
 */
#ifndef OTELC_TEST_ANYVALUE_H
#define OTELC_TEST_ANYVALUE_H

#include <stdbool.h>
#include <string.h>

#include "otelc/otelc.h"

#define AV_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define AV_STR(s)                                                                                  \
    {                                                                                              \
        .type = OTELC_VALUE_STRING, .u.str = {(s), sizeof(s) - 1 }                                 \
    }
#define AV_BYTES_OF(b)                                                                             \
    {                                                                                              \
        .type = OTELC_VALUE_BYTES, .u.str = {(const char *)(b), sizeof(b) }                        \
    }
#define AV_INT(v)                                                                                  \
    {                                                                                              \
        .type = OTELC_VALUE_INT, .u.i = (v)                                                        \
    }
#define AV_BOOL(v)                                                                                 \
    {                                                                                              \
        .type = OTELC_VALUE_BOOL, .u.b = (v)                                                       \
    }
#define AV_DOUBLE(v)                                                                               \
    {                                                                                              \
        .type = OTELC_VALUE_DOUBLE, .u.d = (v)                                                     \
    }
#define AV_EMPTY                                                                                   \
    {                                                                                              \
        .type = OTELC_VALUE_EMPTY                                                                  \
    }
#define AV_ARRAY_OF(arr)                                                                           \
    {                                                                                              \
        .type = OTELC_VALUE_ARRAY, .u.array = {(arr), AV_LEN(arr) }                                \
    }
#define AV_MAP_OF(arr)                                                                             \
    {                                                                                              \
        .type = OTELC_VALUE_MAP, .u.array = {(arr), AV_LEN(arr) }                                  \
    }
#define AV_NONE(t)                                                                                 \
    {                                                                                              \
        .type = (t), .u.array = { NULL, 0 }                                                        \
    }

/* 00 61 ff 10: base64 "AGH/EA==", hex "0061ff10". */
static const unsigned char AV_RAW[] = {0x00, 'a', 0xff, 0x10};

/* The array inside "av.map": mixed types, the empty value among them. */
static const otelc_value AV_LIST_ITEMS[] = {AV_INT(1), AV_STR("two"), AV_EMPTY, AV_BOOL(false)};
/* "av.map": an array and bytes inside a map. */
static const otelc_attr AV_MAP_ITEMS[] = {
    {"list", AV_ARRAY_OF(AV_LIST_ITEMS)},
    {"raw", AV_BYTES_OF(AV_RAW)},
};
/* The map inside "av.array". */
static const otelc_attr AV_INNER_ITEMS[] = {{"deep", AV_BOOL(true)}, {"none", AV_EMPTY}};
/* "av.array": a map, a double, an empty array and an empty map inside an array. */
static const otelc_value AV_ARRAY_ITEMS[] = {
    AV_MAP_OF(AV_INNER_ITEMS),
    AV_DOUBLE(2.5),
    AV_NONE(OTELC_VALUE_ARRAY),
    AV_NONE(OTELC_VALUE_MAP),
};

/* One attribute of each new kind. */
static const otelc_attr AV_ATTRS[] = {
    {"av.bytes", AV_BYTES_OF(AV_RAW)},          {"av.empty", AV_EMPTY},
    {"av.map", AV_MAP_OF(AV_MAP_ITEMS)},        {"av.array", AV_ARRAY_OF(AV_ARRAY_ITEMS)},
    {"av.empty_map", AV_NONE(OTELC_VALUE_MAP)}, {"av.empty_array", AV_NONE(OTELC_VALUE_ARRAY)},
};

static inline bool av_equal(const otelc_value *a, const otelc_value *b);

static inline bool av_attrs_equal(const otelc_attr *a, const otelc_attr *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].key, b[i].key) != 0 || !av_equal(&a[i].value, &b[i].value)) return false;
    return true;
}

/* The same type and contents (maps in the same order), wherever the bytes live. */
static inline bool av_equal(const otelc_value *a, const otelc_value *b)
{
    if (a->type != b->type) return false;
    size_t n = a->u.array.count;
    switch (a->type) {
    case OTELC_VALUE_STRING:
    case OTELC_VALUE_BYTES:
        return a->u.str.len == b->u.str.len &&
               (a->u.str.len == 0 || memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0);
    case OTELC_VALUE_BOOL:
        return a->u.b == b->u.b;
    case OTELC_VALUE_INT:
        return a->u.i == b->u.i;
    case OTELC_VALUE_DOUBLE:
        return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
    case OTELC_VALUE_EMPTY:
        return true;
    case OTELC_VALUE_ARRAY:
        if (n != b->u.array.count) return false;
        for (size_t i = 0; i < n; i++)
            if (!av_equal(&((const otelc_value *)a->u.array.items)[i],
                          &((const otelc_value *)b->u.array.items)[i]))
                return false;
        return true;
    case OTELC_VALUE_MAP:
        return n == b->u.array.count && av_attrs_equal(a->u.array.items, b->u.array.items, n);
    default: /* the homogeneous arrays are not used here */
        return false;
    }
}

/* The item i of an array value, the value under key in a map value (NULL when absent). */
static inline const otelc_value *av_item(const otelc_value *v, size_t i)
{
    return &((const otelc_value *)v->u.array.items)[i];
}

static inline const otelc_value *av_get(const otelc_value *map, const char *key)
{
    return otelc_attrs_find(map->u.array.items, map->u.array.count, key);
}

/*
 * n one-item arrays or maps (kind) around leaf, built in levels[0..n) and
 * slots[0..n): a value of depth n, or n + 1 when leaf is an array.
 */
static inline otelc_value av_nest(otelc_value *levels, size_t n, otelc_value_type kind,
                                  otelc_attr *slots, otelc_value leaf)
{
    otelc_value inner = leaf;
    for (size_t i = n; i-- > 0;) {
        levels[i] = inner;
        if (kind == OTELC_VALUE_MAP) {
            slots[i] = (otelc_attr){"m", levels[i]};
            inner = (otelc_value){.type = kind, .u.array = {&slots[i], 1}};
        } else {
            inner = (otelc_value){.type = kind, .u.array = {&levels[i], 1}};
        }
    }
    return inner;
}

/* The value inside n levels of one-item arrays or maps (NULL when the nesting ends first). */
static inline const otelc_value *av_dig(const otelc_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v->type != OTELC_VALUE_ARRAY && v->type != OTELC_VALUE_MAP) return NULL;
        if (v->u.array.count != 1) return NULL;
        v = v->type == OTELC_VALUE_MAP ? &((const otelc_attr *)v->u.array.items)[0].value
                                       : av_item(v, 0);
    }
    return v;
}

/* Scope attributes, which only received spans have. */
static const otelc_attr AV_SCOPE_ATTRS[] = {
    {"scope.kind", AV_STR("library")},
    {"scope.tags", AV_ARRAY_OF(AV_LIST_ITEMS)},
};

/*
 * A finished span built by hand, as the viewer's decoders build them:
 * AV_ATTRS on the span, AV_SCOPE_ATTRS (and 3 dropped) on its scope, a
 * resource of res_attrs (owned by the caller, who frees it).
 */
typedef struct av_span {
    otelc_span_data sd;
    otelc_scope_info scope;
    otelc_resource *resource;
} av_span;

static inline void av_span_init(av_span *s)
{
    static const otelc_attr res_attrs[] = {
        {"service.name", AV_STR("av-service")},
        {"res.map", AV_MAP_OF(AV_INNER_ITEMS)},
    };
    memset(s, 0, sizeof(*s));
    s->scope = (otelc_scope_info){.name = "av.scope",
                                  .version = "0.1",
                                  .attrs = AV_SCOPE_ATTRS,
                                  .attr_count = AV_LEN(AV_SCOPE_ATTRS),
                                  .dropped_attr_count = 3};
    s->resource = otelc_resource_new(res_attrs, AV_LEN(res_attrs), NULL);
    otelc_span_data *sd = &s->sd;
    memset(sd->context.trace_id, 0x5a, 16);
    memset(sd->context.span_id, 0xa5, 8);
    sd->context.trace_flags = 1;
    sd->kind = OTELC_SPAN_INTERNAL;
    sd->name = "av";
    sd->start_ns = 1700000000000000000ull;
    sd->end_ns = 1700000000000001000ull;
    sd->attrs = AV_ATTRS;
    sd->attr_count = AV_LEN(AV_ATTRS);
    sd->scope = &s->scope;
    sd->resource = s->resource;
}

#endif
