/*
 * otlp_proto.c - OTLP protobuf encoding of spans (ExportTraceServiceRequest)
 * and decoding of ExportTraceServiceResponse.
 *
 * The encoder writes straight from otelc_span_data: no message tree, no
 * per-span allocation.
 *
 * Every length-delimited field needs its length before its body. Most
 * attributes are small (see SMALL_LEN): their every length fits one byte
 * and follows from the key's and value's lengths by addition, so they are
 * sized and written without a varint. The lengths of spans and of their
 * groups are found in one of two ways.
 *
 * The stream sizes first and writes second: a size function per message
 * mirrors its writer. Sizing gives the exact size of the whole request up
 * front, which is what lets it be streamed: the exporter announces the
 * length (Content-Length, the gRPC frame) and encodes while libcurl
 * sends, so a batch is never held twice, as spans and as bytes. Opening a
 * stream sizes everything and remembers each span's size and its
 * attributes' key lengths (so that each key is measured once) and each
 * resource's and scope's size (a short list of groups); reading writes
 * pieces (a group's head or tail, one span) in order, straight into the
 * caller's room.
 *
 * The whole-buffer encoder holds the request anyway, so it writes each
 * span once without sizing it (sizing a span costs about as much as
 * writing it): a span, and a group, is appended after a gap of the likely
 * size of its key and length, which are written once the body is; the body
 * moves only when the length takes another number of bytes. A fixed
 * padded varint would waste bytes on every span, and a wrong guess costs
 * a memmove of one span, rarely of a group.
 *
 * Grouping by resource and then scope keeps the caller's order and needs no
 * scratch memory: a span starts a group when no earlier span shares its
 * resource (and scope). Scanning backwards finds a group's previous member
 * at once in the usual case of runs; many interleaved groups cost O(n * groups).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "export/protobuf.h"

/* Field keys ((number << 3) | wire type) used below. */
enum {
    WT_VARINT = 0,
    WT_I64 = 1,
    WT_LEN = 2,
    WT_SGROUP = 3,
    WT_EGROUP = 4,
    WT_I32 = 5,
};
#define KEY(field, wt) ((uint8_t)(((field) << 3) | (wt)))

/* SpanFlags: bits 0-7 carry the W3C trace flags. */
#define SPAN_FLAGS_HAS_IS_REMOTE 0x100u
#define SPAN_FLAGS_IS_REMOTE     0x200u

/* ---- Sizes ---------------------------------------------------------------------------- */

static inline size_t varint_size(uint64_t v)
{
    return otelc__pb_varint_size(v);
}

/* A length-delimited field with a one-byte key. */
static inline size_t len_field(size_t n)
{
    return 1 + varint_size(n) + n;
}

static inline size_t str_len(const char *s)
{
    return s ? strlen(s) : 0;
}

/* An optional string field: absent when empty (proto3 default). */
static inline size_t opt_str_size(const char *s)
{
    size_t n = str_len(s);
    return n ? len_field(n) : 0;
}

static inline size_t opt_u32_size(uint32_t v)
{
    return v ? 1 + varint_size(v) : 0;
}

static size_t item_size(otelc_value_type t, const void *items, size_t i)
{
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY:
        return len_field(str_len(((const char *const *)items)[i]));
    case OTELC_VALUE_BOOL_ARRAY:
        return 2;
    case OTELC_VALUE_INT_ARRAY:
        return 1 + varint_size((uint64_t)((const int64_t *)items)[i]);
    default:
        return 9;
    }
}

/* The body of an ArrayValue of a homogeneous array: each item is an AnyValue in field 1. */
static size_t array_body_size(const otelc_value *v)
{
    size_t body = 0;
    for (size_t i = 0; i < v->u.array.count; i++)
        body += len_field(item_size(v->type, v->u.array.items, i));
    return body;
}

static size_t other_size(const otelc_value *v, unsigned level);

/*
 * The body of an AnyValue; level counts the arrays and maps holding it. A
 * oneof member is written even when it holds its type's default, or the
 * receiver could not tell 0 from "no value". Inline: it runs for every
 * attribute, in sizing and in writing, and the types instrumentation sets
 * are answered here.
 */
static inline size_t value_size(const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_STRING:
        return len_field(v->u.str.len);
    case OTELC_VALUE_BOOL:
        return 2;
    case OTELC_VALUE_INT:
        return 1 + varint_size((uint64_t)v->u.i);
    case OTELC_VALUE_DOUBLE:
        return 9;
    default:
        return other_size(v, level);
    }
}

static inline size_t any_size(const otelc_value *v)
{
    return value_size(v, 0);
}

/* The body of a KeyValue, from its key's length and its AnyValue's size. */
static inline size_t kv_size(size_t key_len, size_t body)
{
    return (key_len ? len_field(key_len) : 0) + len_field(body);
}

/*
 * An ArrayValue (of any values) or a KeyValueList body: each item in field
 * 1. Writing a nested value sizes its items again at every level that
 * holds them, so a value of depth d is sized d times: bounded, since depth
 * is (OTELC_MAX_VALUE_DEPTH), and paid only by these rare values.
 */
static size_t nested_body_size(const otelc_value *v, unsigned level)
{
    size_t body = 0;
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (v->type == OTELC_VALUE_MAP) {
            const otelc_attr *a = &((const otelc_attr *)v->u.array.items)[i];
            body += len_field(kv_size(str_len(a->key), value_size(&a->value, level + 1)));
        } else {
            body += len_field(value_size(&((const otelc_value *)v->u.array.items)[i], level + 1));
        }
    }
    return body;
}

/*
 * The body of an AnyValue that is not a scalar: array_value (5) of a
 * homogeneous array or of any values, kvlist_value (6), bytes_value (7).
 * The empty value is an AnyValue with no member set, and so are unknown
 * types and arrays and maps nested past the bound.
 */
static size_t other_size(const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_STRING_ARRAY:
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        return level < OTELC_MAX_VALUE_DEPTH ? len_field(array_body_size(v)) : 0;
    case OTELC_VALUE_BYTES:
        return len_field(v->u.str.len);
    case OTELC_VALUE_ARRAY:
    case OTELC_VALUE_MAP:
        return level < OTELC_MAX_VALUE_DEPTH ? len_field(nested_body_size(v, level)) : 0;
    default:
        return 0;
    }
}

#define SMALL_LEN OTELC_OTLP_SMALL_LEN /* see otelc__otlp_small_kv_size */

/*
 * The length of attrs[i]'s key: known[i] when known (an SDK span's, see
 * otelc__span_key_lens) has it, else measured.
 */
static inline size_t key_len_of(const otelc_attr *attrs, size_t i, const uint8_t *known)
{
    return known && known[i] ? known[i] : str_len(attrs[i].key);
}

/* attrs_size() for known known to be NULL or not: each case its own loop. */
static OTELC_ALWAYS_INLINE size_t attrs_size_loop(const otelc_attr *attrs, size_t n,
                                                  const uint8_t *known, uint8_t *klens)
{
    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        const otelc_attr *a = &attrs[i];
        size_t key_len = key_len_of(attrs, i, known);
        size_t small = otelc__otlp_small_kv_size(key_len, &a->value);
        if (OTELC_LIKELY(small)) {
            size += small;
        } else {
            size += len_field(kv_size(key_len, any_size(&a->value)));
            key_len = 0;
        }
        if (klens) klens[i] = (uint8_t)key_len;
    }
    return size;
}

/*
 * Repeated KeyValue fields (any field number below 16); known as
 * key_len_of() reads it. With klens (not NULL), the key length of each
 * small attribute is kept there for the writer, and 0 for the others
 * (which it measures again): a stream keeps them from sizing to writing
 * (otelc_proto_stream's key_lens).
 */
static size_t attrs_size(const otelc_attr *attrs, size_t n, const uint8_t *known, uint8_t *klens)
{
    return known ? attrs_size_loop(attrs, n, known, klens) : attrs_size_loop(attrs, n, NULL, klens);
}

static size_t event_size(const otelc_event_data *e)
{
    return (e->time_ns ? 9 : 0) + opt_str_size(e->name) +
           attrs_size(e->attrs, e->attr_count, NULL, NULL) + opt_u32_size(e->dropped_attr_count);
}

static size_t link_size(const otelc_link_data *l)
{
    return 18 + 10 + opt_str_size(l->context.trace_state) +
           attrs_size(l->attrs, l->attr_count, NULL, NULL) + opt_u32_size(l->dropped_attr_count) +
           5;
}

static size_t status_size(const otelc_span_data *sd)
{
    return opt_str_size(sd->status_message) + opt_u32_size((uint32_t)sd->status);
}

static bool has_status(const otelc_span_data *sd)
{
    return sd->status != OTELC_STATUS_UNSET || str_len(sd->status_message);
}

/* An optional string field of n bytes: absent when empty. */
static inline size_t opt_len_size(size_t n)
{
    return n ? len_field(n) : 0;
}

/* The fields of a Span before its attributes; ts_len and name_len are its strings'. */
static inline size_t span_head_size(const otelc_span_data *sd, size_t ts_len, size_t name_len)
{
    size_t size = 18 + 10; /* trace_id, span_id */
    size += opt_len_size(ts_len);
    size += sd->has_parent ? 10 : 0;
    size += opt_len_size(name_len);
    size += opt_u32_size((uint32_t)sd->kind);
    return size + (sd->start_ns ? 9 : 0) + (sd->end_ns ? 9 : 0);
}

/*
 * The most a Span's head takes besides its strings: ids (and the parent's),
 * the strings' keys and longest lengths, kind, start and end.
 */
#define HEAD_MAX (18 + 10 + 10 + 11 + 11 + 6 + 9 + 9)

/* A Span's tail is short (at most TAIL_SHORT bytes) when it has no events, links or status message.
 */
#define TAIL_SHORT 32

static bool short_tail(const otelc_span_data *sd)
{
    return !sd->event_count && !sd->link_count && !sd->status_message;
}

/* span_tail_size() of a Span with more than flags after its attributes. */
static __attribute__((noinline)) size_t long_tail_size(const otelc_span_data *sd)
{
    size_t size = opt_u32_size(sd->dropped_attr_count);
    for (uint32_t i = 0; i < sd->event_count; i++) size += len_field(event_size(&sd->events[i]));
    size += opt_u32_size(sd->dropped_event_count);
    for (uint32_t i = 0; i < sd->link_count; i++) size += len_field(link_size(&sd->links[i]));
    size += opt_u32_size(sd->dropped_link_count);
    size += has_status(sd) ? len_field(status_size(sd)) : 0;
    return size + 2 + 4; /* flags: field 16 needs a two-byte key */
}

/*
 * The fields of a Span after its attributes: in the usual Span, flags
 * alone, told inline (out of line, the general case's registers were
 * saved first).
 */
static inline size_t span_tail_size(const otelc_span_data *sd)
{
    if (OTELC_LIKELY(short_tail(sd) && !sd->dropped_attr_count && !sd->dropped_event_count &&
                     !sd->dropped_link_count && !has_status(sd)))
        return 2 + 4;
    return long_tail_size(sd);
}

/* The length of sd's name: kept by the SDK when sdk says sd is its span (otelc__span_name_len). */
static inline size_t name_len_of(const otelc_span_data *sd, bool sdk)
{
    size_t n = sdk ? otelc__span_name_len(sd) : 0;
    return n ? n : str_len(sd->name);
}

/* The key lengths the SDK kept for sd's attributes when sdk says sd is its span, else NULL. */
static inline const uint8_t *sdk_key_lens(const otelc_span_data *sd, bool sdk)
{
    return sdk ? otelc__span_key_lens(sd) : NULL;
}

/*
 * The body of a Span; sdk as for name_len_of(); the key lengths of its
 * attributes that were measured go to klens (when not NULL).
 */
static size_t span_size(const otelc_span_data *sd, bool sdk, uint8_t *klens)
{
    size_t head = span_head_size(sd, str_len(sd->context.trace_state), name_len_of(sd, sdk));
    /* The SDK's span may have added up its attributes' size as they were set. */
    uint32_t wire = sdk ? otelc__span_attrs_wire(sd) : OTELC_WIRE_UNKNOWN;
    size_t attrs = wire != OTELC_WIRE_UNKNOWN
                       ? wire
                       : attrs_size(sd->attrs, sd->attr_count, sdk_key_lens(sd, sdk), klens);
    return head + attrs + span_tail_size(sd);
}

static size_t scope_size(const otelc_scope_info *s)
{
    return opt_str_size(s->name) + opt_str_size(s->version) +
           attrs_size(s->attrs, s->attr_count, NULL, NULL) + opt_u32_size(s->dropped_attr_count);
}

static size_t resource_size(const otelc_resource *res)
{
    size_t n = 0;
    const otelc_attr *attrs = otelc_resource_attrs(res, &n);
    return attrs_size(attrs, n, NULL, NULL);
}

/* ---- Writers ------------------------------------------------------------------------------ */

/*
 * The writers write into room their caller made for them, except in one
 * case. The stream sized every message when it opened and writes into
 * room it knows is there. The whole-buffer encoder writes each span
 * without sizing it first: put_span_body() then asks for room before each
 * part of it, which may move the buffer written to (out, beyond
 * out->len), and the pointer with it. A NULL grower: the room is there.
 */
typedef struct grower {
    otelc_buf *out;
} grower;

/* Room for n more bytes at *p; false without memory. */
static inline bool room_for(grower *g, uint8_t **p, size_t n)
{
    if (!g) return true;
    otelc_buf *b = g->out;
    size_t at = (size_t)(*p - (uint8_t *)b->data);
    if (OTELC_LIKELY(n < b->cap - at)) return true; /* and one for the NUL */
    if (!otelc__buf_reserve(b, at - b->len + n)) return false;
    *p = (uint8_t *)b->data + at;
    return true;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    return otelc__pb_put_varint(p, v);
}

/* fixed32 and fixed64 are little-endian on the wire. */
static inline uint8_t *put_fixed(uint8_t *p, uint64_t v, int bytes)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bytes == 8) {
        memcpy(p, &v, 8);
    } else {
        uint32_t v32 = (uint32_t)v;
        memcpy(p, &v32, 4);
    }
#else
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
#endif
    return p + bytes;
}

static inline uint8_t *put_key_len(uint8_t *p, uint8_t key, size_t n)
{
    *p++ = key;
    return put_varint(p, n);
}

static inline uint8_t *put_bytes(uint8_t *p, uint8_t key, const void *s, size_t n)
{
    p = put_key_len(p, key, n);
    otelc__copy_short(p, s, n);
    return p + n;
}

static inline uint8_t *put_opt_str(uint8_t *p, uint8_t field, const char *s)
{
    size_t n = str_len(s);
    return n ? put_bytes(p, KEY(field, WT_LEN), s, n) : p;
}

static inline uint8_t *put_opt_u32(uint8_t *p, uint8_t field, uint32_t v)
{
    if (!v) return p;
    *p++ = KEY(field, WT_VARINT);
    return put_varint(p, v);
}

static inline uint8_t *put_double(uint8_t *p, uint8_t key, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    *p++ = key;
    return put_fixed(p, bits, 8);
}

/* One array item as a complete AnyValue field (ArrayValue.values = 1). */
static uint8_t *put_item(uint8_t *p, otelc_value_type t, const void *items, size_t i)
{
    p = put_key_len(p, KEY(1, WT_LEN), item_size(t, items, i));
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY: {
        const char *s = ((const char *const *)items)[i];
        return put_bytes(p, KEY(1, WT_LEN), s, str_len(s));
    }
    case OTELC_VALUE_BOOL_ARRAY:
        *p++ = KEY(2, WT_VARINT);
        *p++ = ((const bool *)items)[i] ? 1 : 0;
        return p;
    case OTELC_VALUE_INT_ARRAY:
        *p++ = KEY(3, WT_VARINT);
        return put_varint(p, (uint64_t)((const int64_t *)items)[i]);
    default:
        return put_double(p, KEY(4, WT_I64), ((const double *)items)[i]);
    }
}

static uint8_t *put_other(uint8_t *p, const otelc_value *v, unsigned level);

/* The body of an AnyValue held by level arrays and maps (see value_size). */
static inline uint8_t *put_value(uint8_t *p, const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_STRING:
        return put_bytes(p, KEY(1, WT_LEN), v->u.str.ptr, v->u.str.len);
    case OTELC_VALUE_BOOL:
        *p++ = KEY(2, WT_VARINT);
        *p++ = v->u.b ? 1 : 0;
        return p;
    case OTELC_VALUE_INT:
        *p++ = KEY(3, WT_VARINT);
        return put_varint(p, (uint64_t)v->u.i);
    case OTELC_VALUE_DOUBLE:
        return put_double(p, KEY(4, WT_I64), v->u.d);
    default:
        return put_other(p, v, level);
    }
}

/* One KeyValue as field, for a KeyValue held by level arrays and maps; key_len is its key's. */
static OTELC_ALWAYS_INLINE uint8_t *put_kv(uint8_t *p, uint8_t field, const otelc_attr *a,
                                           size_t key_len, unsigned level)
{
    size_t body = value_size(&a->value, level);
    p = put_key_len(p, KEY(field, WT_LEN), kv_size(key_len, body));
    if (key_len) p = put_bytes(p, KEY(1, WT_LEN), a->key, key_len);
    p = put_key_len(p, KEY(2, WT_LEN), body);
    return put_value(p, &a->value, level);
}

/* An array of any values or a map (see nested_body_size). */
static uint8_t *put_nested(uint8_t *p, const otelc_value *v, unsigned level)
{
    bool map = v->type == OTELC_VALUE_MAP;
    p = put_key_len(p, map ? KEY(6, WT_LEN) : KEY(5, WT_LEN), nested_body_size(v, level));
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (map) {
            const otelc_attr *a = &((const otelc_attr *)v->u.array.items)[i];
            p = put_kv(p, 1, a, str_len(a->key), level + 1);
        } else {
            const otelc_value *item = &((const otelc_value *)v->u.array.items)[i];
            p = put_key_len(p, KEY(1, WT_LEN), value_size(item, level + 1));
            p = put_value(p, item, level + 1);
        }
    }
    return p;
}

/* Any AnyValue but a scalar (see other_size); nothing for the empty value. */
static uint8_t *put_other(uint8_t *p, const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_STRING_ARRAY:
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        if (level >= OTELC_MAX_VALUE_DEPTH) return p;
        p = put_key_len(p, KEY(5, WT_LEN), array_body_size(v));
        for (size_t i = 0; i < v->u.array.count; i++) p = put_item(p, v->type, v->u.array.items, i);
        return p;
    case OTELC_VALUE_BYTES:
        return put_bytes(p, KEY(7, WT_LEN), v->u.str.ptr, v->u.str.len);
    case OTELC_VALUE_ARRAY:
    case OTELC_VALUE_MAP:
        return level < OTELC_MAX_VALUE_DEPTH ? put_nested(p, v, level) : p;
    default:
        return p;
    }
}

/*
 * The head of a small attribute's KeyValue field (see SMALL_LEN): its key
 * and length, the key field, and the key and length of the value field,
 * whose AnyValue body takes value_body bytes at the pointer returned.
 */
static inline uint8_t *put_small_head(uint8_t *p, uint8_t field, const char *key, size_t key_len,
                                      size_t value_body)
{
    p[0] = KEY(field, WT_LEN);
    p[1] = (uint8_t)(4 + key_len + value_body);
    p[2] = KEY(1, WT_LEN);
    p[3] = (uint8_t)key_len;
    otelc__copy_short(p + 4, key, key_len);
    p += 4 + key_len;
    p[0] = KEY(2, WT_LEN);
    p[1] = (uint8_t)value_body;
    return p + 2;
}

/*
 * a as a small KeyValue field, or NULL (nothing written) when it is not
 * small: one dispatch on the type decides and writes.
 */
static inline uint8_t *put_small_kv(uint8_t *p, uint8_t field, const otelc_attr *a, size_t key_len)
{
    const otelc_value *v = &a->value;
    if (key_len - 1 >= SMALL_LEN) return NULL;
    /* Strings first: most attributes are (a switch tested them third). */
    if (OTELC_LIKELY(v->type == OTELC_VALUE_STRING)) {
        size_t n = v->u.str.len;
        if (n > SMALL_LEN) return NULL;
        p = put_small_head(p, field, a->key, key_len, 2 + n);
        p[0] = KEY(1, WT_LEN);
        p[1] = (uint8_t)n;
        otelc__copy_short(p + 2, v->u.str.ptr, n);
        return p + 2 + n;
    }
    switch (v->type) {
    case OTELC_VALUE_BOOL:
        p = put_small_head(p, field, a->key, key_len, 2);
        p[0] = KEY(2, WT_VARINT);
        p[1] = v->u.b ? 1 : 0;
        return p + 2;
    case OTELC_VALUE_INT:
        p = put_small_head(p, field, a->key, key_len, 1 + varint_size((uint64_t)v->u.i));
        *p = KEY(3, WT_VARINT);
        return put_varint(p + 1, (uint64_t)v->u.i);
    case OTELC_VALUE_DOUBLE:
        p = put_small_head(p, field, a->key, key_len, 9);
        return put_double(p, KEY(4, WT_I64), v->u.d);
    default:
        return NULL;
    }
}

/* The largest small KeyValue field (see SMALL_LEN). */
#define SMALL_KV_MAX 128

/*
 * attrs[i], which is not small, as a KeyValue in field, after making room
 * for it, SMALL_KV_MAX bytes for each attribute after it and a short tail
 * (with g: see put_span_body).
 */
static __attribute__((noinline)) uint8_t *
put_large_kv(uint8_t *p, uint8_t field, const otelc_attr *attrs, size_t n, size_t i, grower *g)
{
    const otelc_attr *a = &attrs[i];
    size_t key_len = str_len(a->key);
    size_t size = len_field(kv_size(key_len, any_size(&a->value)));
    if (g && !room_for(g, &p, size + (n - i - 1) * SMALL_KV_MAX + TAIL_SHORT)) return NULL;
    return put_kv(p, field, a, key_len, 0);
}

/* put_attrs() for klens known to be NULL or not: each case its own loop. */
static OTELC_ALWAYS_INLINE uint8_t *put_attrs_loop(uint8_t *p, uint8_t field,
                                                   const otelc_attr *attrs, size_t n,
                                                   const uint8_t *klens, grower *g)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *end = put_small_kv(p, field, &attrs[i], key_len_of(attrs, i, klens));
        if (OTELC_LIKELY(end != NULL))
            p = end;
        else if (!(p = put_large_kv(p, field, attrs, n, i, g)))
            return NULL;
    }
    return p;
}

/*
 * Repeated KeyValue in field; klens as attrs_size() kept them or as
 * key_len_of() reads them, or NULL. With g, the caller has made room for
 * SMALL_KV_MAX bytes each and a short tail; more is made for each that is
 * not small. NULL when g could not make room.
 */
static uint8_t *put_attrs(uint8_t *p, uint8_t field, const otelc_attr *attrs, size_t n,
                          const uint8_t *klens, grower *g)
{
    return klens ? put_attrs_loop(p, field, attrs, n, klens, g)
                 : put_attrs_loop(p, field, attrs, n, NULL, g);
}

static uint8_t *put_event(uint8_t *p, const otelc_event_data *e)
{
    p = put_key_len(p, KEY(11, WT_LEN), event_size(e));
    if (e->time_ns) {
        *p++ = KEY(1, WT_I64);
        p = put_fixed(p, e->time_ns, 8);
    }
    p = put_opt_str(p, 2, e->name);
    p = put_attrs(p, 3, e->attrs, e->attr_count, NULL, NULL);
    return put_opt_u32(p, 4, e->dropped_attr_count);
}

/* SpanFlags: the W3C flags, and whether the (parent or linked) context is remote. */
static uint32_t span_flags(uint8_t trace_flags, bool is_remote)
{
    return trace_flags | SPAN_FLAGS_HAS_IS_REMOTE | (is_remote ? SPAN_FLAGS_IS_REMOTE : 0);
}

static uint8_t *put_link(uint8_t *p, const otelc_link_data *l)
{
    p = put_key_len(p, KEY(13, WT_LEN), link_size(l));
    p = put_bytes(p, KEY(1, WT_LEN), l->context.trace_id, 16);
    p = put_bytes(p, KEY(2, WT_LEN), l->context.span_id, 8);
    p = put_opt_str(p, 3, l->context.trace_state);
    p = put_attrs(p, 4, l->attrs, l->attr_count, NULL, NULL);
    p = put_opt_u32(p, 5, l->dropped_attr_count);
    *p++ = KEY(6, WT_I32);
    return put_fixed(p, span_flags(l->context.trace_flags, l->context.is_remote), 4);
}

/* An optional string field of n bytes at s. */
static inline uint8_t *put_opt_strn(uint8_t *p, uint8_t field, const char *s, size_t n)
{
    return n ? put_bytes(p, KEY(field, WT_LEN), s, n) : p;
}

static uint8_t *put_span_head(uint8_t *p, const otelc_span_data *sd, size_t ts_len, size_t name_len)
{
    p = put_bytes(p, KEY(1, WT_LEN), sd->context.trace_id, 16);
    p = put_bytes(p, KEY(2, WT_LEN), sd->context.span_id, 8);
    p = put_opt_strn(p, 3, sd->context.trace_state, ts_len);
    if (sd->has_parent) p = put_bytes(p, KEY(4, WT_LEN), sd->parent_span_id, 8);
    p = put_opt_strn(p, 5, sd->name, name_len);
    p = put_opt_u32(p, 6, (uint32_t)sd->kind);
    if (sd->start_ns) {
        *p++ = KEY(7, WT_I64);
        p = put_fixed(p, sd->start_ns, 8);
    }
    if (sd->end_ns) {
        *p++ = KEY(8, WT_I64);
        p = put_fixed(p, sd->end_ns, 8);
    }
    return p;
}

/*
 * The body of a Span; klens as span_size() kept them, or NULL; sdk as for
 * name_len_of(). With g, room is made for each part first (NULL when there
 * was no memory).
 */
static uint8_t *put_span_body(uint8_t *p, const otelc_span_data *sd, const uint8_t *klens, bool sdk,
                              grower *g)
{
    size_t ts_len = str_len(sd->context.trace_state), name_len = name_len_of(sd, sdk);
    /* One reservation for the usual span: its head, small attributes and a short tail. */
    if (g &&
        !room_for(g, &p, HEAD_MAX + ts_len + name_len + sd->attr_count * SMALL_KV_MAX + TAIL_SHORT))
        return NULL;
    p = put_span_head(p, sd, ts_len, name_len);
    if (!(p = put_attrs(p, 9, sd->attrs, sd->attr_count, klens, g))) return NULL;
    if (g && !short_tail(sd) && !room_for(g, &p, span_tail_size(sd))) return NULL;
    p = put_opt_u32(p, 10, sd->dropped_attr_count);
    for (uint32_t i = 0; i < sd->event_count; i++) p = put_event(p, &sd->events[i]);
    p = put_opt_u32(p, 12, sd->dropped_event_count);
    for (uint32_t i = 0; i < sd->link_count; i++) p = put_link(p, &sd->links[i]);
    p = put_opt_u32(p, 14, sd->dropped_link_count);
    if (has_status(sd)) {
        p = put_key_len(p, KEY(15, WT_LEN), status_size(sd));
        p = put_opt_str(p, 2, sd->status_message);
        p = put_opt_u32(p, 3, (uint32_t)sd->status);
    }
    *p++ = 0x85; /* field 16, fixed32: key 133 as a two-byte varint */
    *p++ = 0x01;
    return put_fixed(p, span_flags(sd->context.trace_flags, sd->parent_is_remote), 4);
}

/*
 * One Span as field 2 of ScopeSpans; size and klens as span_size() gave
 * them, sdk as for name_len_of().
 */
static uint8_t *put_span(uint8_t *p, const otelc_span_data *sd, size_t size, const uint8_t *klens,
                         bool sdk)
{
    return put_span_body(put_key_len(p, KEY(2, WT_LEN), size), sd, klens, sdk, NULL);
}

/* The body of an InstrumentationScope (see scope_size). */
static uint8_t *put_scope_body(uint8_t *p, const otelc_scope_info *scope)
{
    p = put_opt_str(p, 1, scope->name);
    p = put_opt_str(p, 2, scope->version);
    p = put_attrs(p, 3, scope->attrs, scope->attr_count, NULL, NULL);
    return put_opt_u32(p, 4, scope->dropped_attr_count);
}

/* The body of a Resource (see resource_size). */
static uint8_t *put_resource_body(uint8_t *p, const otelc_resource *res)
{
    size_t count = 0;
    const otelc_attr *attrs = otelc_resource_attrs(res, &count);
    return put_attrs(p, 1, attrs, count, NULL, NULL);
}

/* ---- Grouping and sizing ------------------------------------------------------------------ */

typedef const otelc_span_data *const *span_list;

bool otelc__otlp_starts_group(span_list spans, size_t from, size_t i, bool by_scope)
{
    /* Backwards: in a run of one group the previous span answers at once. */
    for (size_t j = i; j-- > from;)
        if (otelc__otlp_same_group(spans[j], spans[i], by_scope)) return false;
    return true;
}

/*
 * The request as a list of groups in writing order: a ResourceSpans, its
 * ScopeSpans (each followed by its spans), the end of the ResourceSpans.
 */
enum { G_RESOURCE, G_SCOPE, G_RESOURCE_END };

struct otelc_proto_group {
    int kind;
    size_t first; /* the group's first span */
    size_t size;  /* the body of the ResourceSpans or ScopeSpans */
};

/* Append a group; returns its index, or SIZE_MAX without memory. */
static size_t add_group(otelc_proto_stream *s, int kind, size_t first, size_t size)
{
    if (s->ngroups == s->groups_cap) {
        size_t cap = s->groups_cap ? 2 * s->groups_cap : 8;
        otelc_proto_group *g = realloc(s->groups, cap * sizeof(*g));
        if (!g) return SIZE_MAX;
        s->groups = g;
        s->groups_cap = cap;
    }
    s->groups[s->ngroups] = (otelc_proto_group){kind, first, size};
    return s->ngroups++;
}

/*
 * The key lengths the writer reads for spans[i]: the SDK's own, or those
 * its sizing kept in the stream (see attrs_size).
 */
static inline const uint8_t *stream_klens(const otelc_proto_stream *s, size_t i)
{
    return s->sdk ? otelc__span_key_lens(s->spans[i]) : s->key_lens + s->key_at[i];
}

/* What the sizing of spans[i] keeps for the writer: nothing for the SDK's spans. */
static inline uint8_t *sizing_klens(const otelc_proto_stream *s, size_t i)
{
    return s->sdk ? NULL : s->key_lens + s->key_at[i];
}

/* The body of the ScopeSpans whose first span is spans[first]; records each span's size. */
static size_t scope_spans_size(otelc_proto_stream *s, size_t first)
{
    span_list spans = s->spans;
    const otelc_scope_info *scope = spans[first]->scope;
    size_t size = scope ? len_field(scope_size(scope)) : 0;
    s->span_size[first] = span_size(spans[first], s->sdk, sizing_klens(s, first));
    size += len_field(s->span_size[first]);
    for (size_t i = first + 1; i < s->n; i++) {
        if (!s->one_scope && !otelc__otlp_same_group(spans[i], spans[first], true)) continue;
        s->span_size[i] = span_size(spans[i], s->sdk, sizing_klens(s, i));
        size += len_field(s->span_size[i]);
    }
    return size + (scope ? opt_str_size(scope->schema_url) : 0);
}

/*
 * Size the ResourceSpans whose first span is spans[first], and list its
 * groups; a stream of one scope (s->one_scope) needs no search for them.
 */
static bool size_resource(otelc_proto_stream *s, size_t first)
{
    span_list spans = s->spans;
    const otelc_resource *res = spans[first]->resource;
    size_t r = add_group(s, G_RESOURCE, first, 0);
    if (r == SIZE_MAX) return false;
    size_t body = res ? len_field(resource_size(res)) : 0;
    body += opt_str_size(otelc_resource_schema_url(res));
    for (size_t i = first; i < (s->one_scope ? first + 1 : s->n); i++) {
        if (spans[i]->resource != res || !otelc__otlp_starts_group(spans, first, i, true)) continue;
        size_t size = scope_spans_size(s, i);
        if (add_group(s, G_SCOPE, i, size) == SIZE_MAX) return false;
        body += len_field(size);
    }
    s->groups[r].size = body;
    s->total += len_field(body);
    return add_group(s, G_RESOURCE_END, first, 0) != SIZE_MAX;
}

/* ---- Pieces: what the stream writes next ----------------------------------------------------- */

/*
 * The cursor stands on one piece: the head of a ResourceSpans (with its
 * Resource), the head of a ScopeSpans (with its scope), one Span, the
 * tail of a ScopeSpans or of a ResourceSpans (their schema_url).
 */
enum { P_RESOURCE_HEAD, P_SCOPE_HEAD, P_SPAN, P_SCOPE_TAIL, P_RESOURCE_TAIL, P_END };
enum { PHASE_HEAD, PHASE_SPANS, PHASE_TAIL }; /* inside a ScopeSpans */

static int piece_kind(const otelc_proto_stream *s)
{
    if (s->g == s->ngroups) return P_END;
    switch (s->groups[s->g].kind) {
    case G_RESOURCE:
        return P_RESOURCE_HEAD;
    case G_RESOURCE_END:
        return P_RESOURCE_TAIL;
    default:
        return s->phase == PHASE_HEAD    ? P_SCOPE_HEAD
               : s->phase == PHASE_SPANS ? P_SPAN
                                         : P_SCOPE_TAIL;
    }
}

static size_t piece_size(const otelc_proto_stream *s, int kind)
{
    const otelc_proto_group *g = &s->groups[s->g];
    const otelc_span_data *first = s->spans[g->first];
    switch (kind) {
    case P_RESOURCE_HEAD:
        return 1 + varint_size(g->size) +
               (first->resource ? len_field(resource_size(first->resource)) : 0);
    case P_SCOPE_HEAD:
        return 1 + varint_size(g->size) + (first->scope ? len_field(scope_size(first->scope)) : 0);
    case P_SPAN:
        return len_field(s->span_size[s->i]);
    case P_SCOPE_TAIL:
        return first->scope ? opt_str_size(first->scope->schema_url) : 0;
    default:
        return opt_str_size(otelc_resource_schema_url(first->resource));
    }
}

static uint8_t *put_piece(const otelc_proto_stream *s, int kind, uint8_t *p)
{
    const otelc_proto_group *g = &s->groups[s->g];
    const otelc_span_data *first = s->spans[g->first];
    const otelc_resource *res = first->resource;
    const otelc_scope_info *scope = first->scope;
    switch (kind) {
    case P_RESOURCE_HEAD:
        p = put_key_len(p, KEY(1, WT_LEN), g->size);
        if (res) {
            p = put_key_len(p, KEY(1, WT_LEN), resource_size(res));
            p = put_resource_body(p, res);
        }
        return p;
    case P_SCOPE_HEAD:
        p = put_key_len(p, KEY(2, WT_LEN), g->size);
        if (scope) {
            p = put_key_len(p, KEY(1, WT_LEN), scope_size(scope));
            p = put_scope_body(p, scope);
        }
        return p;
    case P_SPAN:
        return put_span(p, s->spans[s->i], s->span_size[s->i], stream_klens(s, s->i), s->sdk);
    case P_SCOPE_TAIL:
        return scope ? put_opt_str(p, 3, scope->schema_url) : p;
    default:
        return put_opt_str(p, 3, otelc_resource_schema_url(res));
    }
}

/* The next Span of the current ScopeSpans, or its tail after the last one. */
static inline void next_span(otelc_proto_stream *s)
{
    const otelc_span_data *first = s->spans[s->groups[s->g].first];
    do s->i++;
    while (s->i < s->n && !otelc__otlp_same_group(s->spans[s->i], first, true));
    if (s->i == s->n) s->phase = PHASE_TAIL;
}

/* Step past the current piece. */
static void advance(otelc_proto_stream *s)
{
    const otelc_proto_group *g = &s->groups[s->g];
    if (g->kind != G_SCOPE || s->phase == PHASE_TAIL) {
        s->g++;
        s->phase = PHASE_HEAD;
    } else if (s->phase == PHASE_HEAD) {
        s->phase = PHASE_SPANS;
        s->i = g->first;
    } else {
        next_span(s);
    }
}

/* Write the current piece (size bytes) at p and step past it. */
static void write_piece(otelc_proto_stream *s, int kind, uint8_t *p, size_t size)
{
    uint8_t *end = put_piece(s, kind, p);
    /* The sizes and the writers must agree, or we wrote past the room. */
    assert((size_t)(end - p) == size);
    (void)end, (void)size;
    advance(s);
}

/* The bulk of the work, in one loop: the spans of a ScopeSpans that fit in room. */
static size_t write_spans(otelc_proto_stream *s, uint8_t *out, size_t room)
{
    span_list spans = s->spans;
    const otelc_span_data *first = spans[s->groups[s->g].first];
    size_t done = 0, i = s->i, n = s->n;
    while (i < n) {
        if (!s->one_scope && !otelc__otlp_same_group(spans[i], first, true)) {
            i++;
            continue;
        }
        size_t body = s->span_size[i], size = len_field(body);
        if (size > room - done) break;
        uint8_t *end = put_span(out + done, spans[i], body, stream_klens(s, i), s->sdk);
        assert((size_t)(end - (out + done)) == size);
        (void)end;
        done += size;
        i++;
    }
    s->i = i;
    if (i == n) s->phase = PHASE_TAIL;
    return done;
}

/* ---- The stream ------------------------------------------------------------------------------ */

void otelc__otlp_proto_rewind(otelc_proto_stream *s)
{
    s->g = 0;
    s->i = 0;
    s->phase = PHASE_HEAD;
    s->stage.len = 0;
    s->staged = 0;
}

int otelc__otlp_proto_open(otelc_proto_stream *s, const otelc_span_data *const *spans, size_t n)
{
    memset(s, 0, sizeof(*s));
    s->spans = spans;
    s->n = n;
    s->sdk = otelc__exporting_sdk_spans(spans);
    if (n == 0) return OTELC_OK;
    /*
     * One block: each span's size, and for spans not the SDK's (which keep
     * their own, see stream_klens) where its key lengths start, then the
     * key lengths.
     */
    if (n > SIZE_MAX / 4 / sizeof(size_t)) return OTELC_ERR_NOMEM;
    size_t bytes = (s->sdk ? 1 : 2) * n * sizeof(size_t);
    bool one_scope = true; /* the usual batch, of one tracer */
    for (size_t i = 0; i < n; i++) {
        if (spans[i]->attr_count > SIZE_MAX - bytes) return OTELC_ERR_NOMEM;
        if (!s->sdk) bytes += spans[i]->attr_count;
        one_scope &= otelc__otlp_same_group(spans[i], spans[0], true);
    }
    if (!(s->span_size = malloc(bytes))) return OTELC_ERR_NOMEM;
    if (!s->sdk) {
        s->key_at = s->span_size + n;
        s->key_lens = (uint8_t *)(s->key_at + n);
        for (size_t i = 0, at = 0; i < n; i++) {
            s->key_at[i] = at;
            at += spans[i]->attr_count;
        }
    }
    s->one_scope = one_scope;
    for (size_t i = 0; i < (one_scope ? 1 : n); i++)
        if (otelc__otlp_starts_group(spans, 0, i, false) && !size_resource(s, i)) {
            otelc__otlp_proto_close(s);
            return OTELC_ERR_NOMEM;
        }
    return OTELC_OK;
}

/* Hand out what is left of a staged piece. */
static size_t drain_stage(otelc_proto_stream *s, uint8_t *dst, size_t room)
{
    size_t left = s->stage.len - s->staged;
    size_t take = left < room ? left : room;
    memcpy(dst, s->stage.data + s->staged, take);
    s->staged += take;
    return take;
}

/*
 * Pieces go straight into dst while they fit. A piece that does not is
 * left for the next call, unless nothing was written yet: then it is
 * written to the stage (one Span larger than the whole room) and handed
 * out from there, so every call but the last returns something.
 */
size_t otelc__otlp_proto_read(otelc_proto_stream *s, void *dst, size_t room)
{
    uint8_t *out = dst;
    size_t done = 0;
    if (s->staged < s->stage.len) return drain_stage(s, out, room);
    int kind;
    while (done < room && (kind = piece_kind(s)) != P_END) {
        if (kind == P_SPAN) {
            size_t wrote = write_spans(s, out + done, room - done);
            done += wrote;
            if (wrote > 0) continue;
            if (done > 0) break;
        }
        size_t size = piece_size(s, kind);
        if (size <= room - done) {
            write_piece(s, kind, out + done, size);
            done += size;
            continue;
        }
        if (done > 0) break;
        s->stage.len = 0;
        s->staged = 0;
        if (!otelc__buf_reserve(&s->stage, size)) return 0;
        write_piece(s, kind, (uint8_t *)s->stage.data, size);
        s->stage.len = size;
        return drain_stage(s, out, room);
    }
    return done;
}

void otelc__otlp_proto_close(otelc_proto_stream *s)
{
    free(s->span_size);
    free(s->groups);
    otelc__buf_free(&s->stage);
    memset(s, 0, sizeof(*s));
}

void otelc__otlp_proto_abandon(otelc_proto_stream *s)
{
    otelc__abandon(s->span_size);
    otelc__abandon(s->groups);
    otelc__buf_abandon(&s->stage);
    memset(s, 0, sizeof(*s));
}

/* ---- The whole request at once ------------------------------------------------------------- */

/*
 * otelc__otlp_encode_proto() holds the whole request anyway, so it need
 * not size anything first (sizing a span costs about as much as writing
 * it): each message is appended to out after a gap for its key and
 * length, which are written once its body is, the body moving when the
 * length takes another number of bytes than the gap left for it. The gap
 * is the likely size: two bytes of length for a span (128 bytes to 16
 * KiB), and for a group of spans what as many spans as the first one
 * would take (that one span is sized for it).
 */
#define SPAN_GAP 3

/*
 * Close the field key whose body was appended after a gap of gap bytes
 * at at: its key and length go at at, and the body follows them.
 */
static inline bool close_field(otelc_buf *out, size_t at, size_t gap, uint8_t key)
{
    size_t body = out->len - at - gap, head = 1 + varint_size(body);
    if (head != gap) {
        if (head > gap && !otelc__buf_reserve(out, head - gap)) return false;
        memmove(out->data + at + head, out->data + at + gap, body);
        out->len = at + head + body;
    }
    put_key_len((uint8_t *)out->data + at, key, body);
    return true;
}

/* Append a gap of gap bytes (see close_field); false without memory. */
static inline bool open_field(otelc_buf *out, size_t gap)
{
    if (gap >= out->cap - out->len && !otelc__buf_reserve(out, gap)) return false;
    out->len += gap;
    return true;
}

/* Append field key holding a message of size bytes that put writes. */
static bool append_sized(otelc_buf *out, uint8_t key, size_t size,
                         uint8_t *(*put)(uint8_t *, const void *), const void *msg)
{
    if (!otelc__buf_reserve(out, 1 + varint_size(size) + size)) return false;
    uint8_t *p = put_key_len((uint8_t *)out->data + out->len, key, size);
    out->len = (size_t)(put(p, msg) - (uint8_t *)out->data);
    return true;
}

/* Append an optional string field. */
static bool append_opt_str(otelc_buf *out, uint8_t field, const char *s)
{
    if (!otelc__buf_reserve(out, opt_str_size(s))) return false;
    out->len =
        (size_t)(put_opt_str((uint8_t *)out->data + out->len, field, s) - (uint8_t *)out->data);
    return true;
}

static bool append_span(otelc_buf *out, const otelc_span_data *sd, bool sdk)
{
    size_t at = out->len;
    grower g = {out};
    if (!open_field(out, SPAN_GAP)) return false;
    uint8_t *end =
        put_span_body((uint8_t *)out->data + out->len, sd, sdk_key_lens(sd, sdk), sdk, &g);
    if (!end) return false;
    out->len = (size_t)(end - (uint8_t *)out->data);
    return close_field(out, at, SPAN_GAP, KEY(2, WT_LEN));
}

static uint8_t *put_scope_msg(uint8_t *p, const void *scope)
{
    return put_scope_body(p, scope);
}

static uint8_t *put_resource_msg(uint8_t *p, const void *res)
{
    return put_resource_body(p, res);
}

/* A request being appended to out: its spans, the gap of a group, whether it has one group. */
typedef struct request {
    otelc_buf *out;
    span_list spans;
    size_t n;
    size_t gap;
    bool one_group; /* every span has the first one's resource and scope */
    bool sdk;       /* the spans are the SDK's (otelc__exporting_sdk_spans) */
} request;

/* A ScopeSpans: spans[first]'s scope and every later span of its group. */
static bool append_scope_spans(request *q, size_t first)
{
    otelc_buf *out = q->out;
    span_list spans = q->spans;
    const otelc_scope_info *scope = spans[first]->scope;
    size_t at = out->len;
    if (!open_field(out, q->gap)) return false;
    if (scope && !append_sized(out, KEY(1, WT_LEN), scope_size(scope), put_scope_msg, scope))
        return false;
    for (size_t i = first; i < q->n; i++)
        if ((q->one_group || otelc__otlp_same_group(spans[i], spans[first], true)) &&
            !append_span(out, spans[i], q->sdk))
            return false;
    if (scope && !append_opt_str(out, 3, scope->schema_url)) return false;
    return close_field(out, at, q->gap, KEY(2, WT_LEN));
}

/* A ResourceSpans: spans[first]'s resource and the ScopeSpans of its spans. */
static bool append_resource_spans(request *q, size_t first)
{
    otelc_buf *out = q->out;
    span_list spans = q->spans;
    const otelc_resource *res = spans[first]->resource;
    size_t at = out->len;
    if (!open_field(out, q->gap)) return false;
    if (res && !append_sized(out, KEY(1, WT_LEN), resource_size(res), put_resource_msg, res))
        return false;
    if (q->one_group) {
        if (!append_scope_spans(q, first)) return false;
    } else {
        for (size_t i = first; i < q->n; i++) {
            if (spans[i]->resource != res) continue;
            /* In a run of one scope the span before answers, without a call. */
            if (i > first && otelc__otlp_same_group(spans[i], spans[i - 1], true)) continue;
            if (otelc__otlp_starts_group(spans, first, i, true) && !append_scope_spans(q, i))
                return false;
        }
    }
    if (!append_opt_str(out, 3, otelc_resource_schema_url(res))) return false;
    return close_field(out, at, q->gap, KEY(1, WT_LEN));
}

/* The ResourceSpans of spans in order of first appearance. */
static bool append_request(request *q)
{
    span_list spans = q->spans;
    if (q->one_group) return append_resource_spans(q, 0);
    for (size_t i = 0; i < q->n; i++) {
        if (i > 0 && spans[i]->resource == spans[i - 1]->resource) continue; /* as above */
        if (otelc__otlp_starts_group(spans, 0, i, false) && !append_resource_spans(q, i))
            return false;
    }
    return true;
}

int otelc__otlp_encode_proto(otelc_buf *out, const otelc_span_data *const *spans, size_t n)
{
    request q = {out, spans, n, 0, true, otelc__exporting_sdk_spans(spans)};
    size_t start = out->len;
    if (n == 0) {
        if (out->data) out->data[out->len] = '\0';
        return out->failed ? OTELC_ERR_NOMEM : OTELC_OK;
    }
    q.gap = 1 + varint_size((uint64_t)n * len_field(span_size(spans[0], q.sdk, NULL)));
    for (size_t i = 1; i < n && q.one_group; i++)
        q.one_group = otelc__otlp_same_group(spans[i], spans[0], true);
    if (!append_request(&q)) {
        out->len = start;
        if (out->data) out->data[start] = '\0';
        return OTELC_ERR_NOMEM;
    }
    out->data[out->len] = '\0';
    return out->failed ? OTELC_ERR_NOMEM : OTELC_OK;
}

/* ---- Single messages, for the viewer's store ---------------------------------------------- */

/* Where size more bytes go at the end of out, or NULL without memory. */
static uint8_t *room_at_end(otelc_buf *out, size_t size)
{
    return otelc__buf_reserve(out, size) ? (uint8_t *)out->data + out->len : NULL;
}

/* Take in the size bytes written up to end (the sizes and the writers must agree). */
static int wrote_at_end(otelc_buf *out, const uint8_t *end, size_t size)
{
    assert(end == (uint8_t *)out->data + out->len + size);
    (void)end;
    out->len += size;
    out->data[out->len] = '\0';
    return OTELC_OK;
}

int otelc__otlp_encode_span(otelc_buf *out, const otelc_span_data *sd)
{
    size_t size = span_size(sd, false, NULL);
    uint8_t *p = room_at_end(out, size);
    return p ? wrote_at_end(out, put_span_body(p, sd, NULL, false, NULL), size) : OTELC_ERR_NOMEM;
}

int otelc__otlp_encode_resource(otelc_buf *out, const otelc_resource *res)
{
    size_t size = res ? resource_size(res) : 0;
    uint8_t *p = room_at_end(out, size);
    if (p && res) p = put_resource_body(p, res);
    return p ? wrote_at_end(out, p, size) : OTELC_ERR_NOMEM;
}

int otelc__otlp_encode_scope(otelc_buf *out, const otelc_scope_info *scope)
{
    size_t size = scope ? scope_size(scope) : 0;
    uint8_t *p = room_at_end(out, size);
    if (p && scope) p = put_scope_body(p, scope);
    return p ? wrote_at_end(out, p, size) : OTELC_ERR_NOMEM;
}

/* ---- Response ------------------------------------------------------------------------------ */

/* ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; } */
static bool parse_partial(otelc_pb r, otelc_otlp_response *out)
{
    otelc_pb_field f;
    int rc;
    while ((rc = otelc__pb_next(&r, &f)) > 0) {
        if (f.num == 1 && f.wt == OTELC_PB_VARINT) {
            out->rejected_spans = (int64_t)f.value;
        } else if (f.num == 2 && f.wt == OTELC_PB_LEN) {
            size_t len = (size_t)(f.body.end - f.body.p);
            if (len >= sizeof(out->error_message)) len = sizeof(out->error_message) - 1;
            memcpy(out->error_message, f.body.p, len);
            out->error_message[len] = '\0';
        }
    }
    return rc == 0;
}

/* ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; } */
static bool parse_response(otelc_pb r, otelc_otlp_response *out)
{
    otelc_pb_field f;
    int rc;
    while ((rc = otelc__pb_next(&r, &f)) > 0)
        if (f.num == 1 && f.wt == OTELC_PB_LEN && !parse_partial(f.body, out)) return false;
    return rc == 0;
}

int otelc__otlp_parse_response_proto(const void *p, size_t n, otelc_otlp_response *out)
{
    memset(out, 0, sizeof(*out));
    if (!p || !n) return OTELC_OK;
    if (parse_response(otelc__pb_of(p, n), out)) return OTELC_OK;
    memset(out, 0, sizeof(*out)); /* no half-read result on failure */
    return OTELC_ERR_PARSE;
}
