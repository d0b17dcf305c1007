/*
 * decode_proto.c - OTLP protobuf into the SDK's span model (decode_proto.h
 * says what is decided where the wire allows more than the model).
 *
 * One pass per message, straight into the batch's arena: no message tree,
 * no malloc per field. A message with repeated fields is walked twice: a
 * first walk over its keys and lengths (count_fields) sizes its arrays of
 * attributes, events, links and values, so each is allocated once at its
 * exact size, whatever order the fields come in. Both walks only read keys
 * and lengths at their own level, so the work stays linear in the input.
 *
 * Failure travels as false up the call chain; the first reason is kept in
 * the decoder (fail()), so the functions stay one condition per field.
 */
#include <stdio.h>
#include <string.h>

#include "decode_proto.h"
#include "export/protobuf.h"

/* SpanFlags: bits 0-7 are the W3C trace flags; bit 8 says bit 9 (remote) is known. */
#define FLAGS_TRACE_MASK    0xffu
#define FLAGS_REMOTE_KNOWN  0x100u
#define FLAGS_REMOTE        0x200u
#define MAX_SPAN_KIND       5  /* SPAN_KIND_CONSUMER */
#define MAX_STATUS_CODE     2  /* STATUS_CODE_ERROR */
#define COUNTED_FIELDS      16 /* repeated fields all have numbers below this */
#define REJECT_REASON_BYTES 96

typedef struct decoder {
    vw_batch *b;
    vw_decode_status status; /* VW_DECODE_OK until something stops the decoding */
    size_t spans_seen;       /* in this request, valid or not: the bound, and positions */
} decoder;

/* Stop decoding for the first reason given; false, for the caller to return. */
static bool fail(decoder *d, vw_decode_status why)
{
    if (d->status == VW_DECODE_OK) d->status = why;
    return false;
}

/* ---- Fields ----------------------------------------------------------------------------- */

static inline bool next_key(decoder *d, otelc_pb *r, uint32_t *field, otelc_pb_wire *wt)
{
    return otelc__pb_key(r, field, wt) || fail(d, VW_DECODE_INVALID);
}

/* The value of a field that is not ours (or not known yet): stepped over. */
static inline bool skip(decoder *d, otelc_pb *r, uint32_t field, otelc_pb_wire wt)
{
    otelc_pb body;
    if (wt == OTELC_PB_LEN) return otelc__pb_len(r, &body) || fail(d, VW_DECODE_INVALID);
    return otelc__pb_skip(r, field, wt) || fail(d, VW_DECODE_INVALID);
}

/* A known field must come with its own wire type. */
static inline bool read_len(decoder *d, otelc_pb *r, otelc_pb_wire wt, otelc_pb *body)
{
    return (wt == OTELC_PB_LEN && otelc__pb_len(r, body)) || fail(d, VW_DECODE_INVALID);
}

static inline bool read_varint(decoder *d, otelc_pb *r, otelc_pb_wire wt, uint64_t *v)
{
    return (wt == OTELC_PB_VARINT && otelc__pb_varint(r, v)) || fail(d, VW_DECODE_INVALID);
}

static inline bool read_u32(decoder *d, otelc_pb *r, otelc_pb_wire wt, uint32_t *out)
{
    uint64_t v;
    if (!read_varint(d, r, wt, &v)) return false;
    *out = (uint32_t)v; /* protobuf's uint32: the low 32 bits */
    return true;
}

static inline bool read_fixed64(decoder *d, otelc_pb *r, otelc_pb_wire wt, uint64_t *v)
{
    return (wt == OTELC_PB_I64 && otelc__pb_fixed64(r, v)) || fail(d, VW_DECODE_INVALID);
}

static inline bool read_fixed32(decoder *d, otelc_pb *r, otelc_pb_wire wt, uint32_t *v)
{
    return (wt == OTELC_PB_I32 && otelc__pb_fixed32(r, v)) || fail(d, VW_DECODE_INVALID);
}

/* A string field: a NUL-terminated UTF-8 copy in the arena, "" when empty; *len may be NULL. */
static bool read_str(decoder *d, otelc_pb *r, otelc_pb_wire wt, const char **out, size_t *len)
{
    otelc_pb body;
    if (!read_len(d, r, wt, &body)) return false;
    size_t n = (size_t)(body.end - body.p);
    if (len) *len = n;
    if (n == 0) {
        *out = "";
        return true;
    }
    const char *s = vw_batch_str(d->b, (const char *)body.p, n, len);
    if (!s) return fail(d, VW_DECODE_NOMEM);
    *out = s;
    return true;
}

/* A string the model keeps as NULL when there is none (trace state, version, URL, message). */
static bool read_opt_str(decoder *d, otelc_pb *r, otelc_pb_wire wt, const char **out)
{
    size_t len;
    if (!read_str(d, r, wt, out, &len)) return false;
    if (len == 0) *out = NULL;
    return true;
}

/* An id: copied into id when it has the expected size; *len gets the size it has. */
static bool read_id(decoder *d, otelc_pb *r, otelc_pb_wire wt, uint8_t *id, size_t size,
                    size_t *len)
{
    otelc_pb body;
    if (!read_len(d, r, wt, &body)) return false;
    *len = (size_t)(body.end - body.p);
    if (*len == size) memcpy(id, body.p, size);
    return true;
}

/* How often each field numbered below COUNTED_FIELDS occurs in msg: array sizes. */
static bool count_fields(decoder *d, otelc_pb msg, size_t counts[COUNTED_FIELDS])
{
    memset(counts, 0, COUNTED_FIELDS * sizeof counts[0]);
    while (msg.p < msg.end) {
        uint32_t field;
        otelc_pb_wire wt;
        if (!next_key(d, &msg, &field, &wt) || !skip(d, &msg, field, wt)) return false;
        if (field < COUNTED_FIELDS) counts[field]++;
    }
    return true;
}

/* An array of count items of size bytes in the arena: NULL for none, and after fail(). */
static void *alloc_array(decoder *d, size_t count, size_t size)
{
    if (count == 0) return NULL;
    if (count > UINT32_MAX) { /* the model counts in 32 bits */
        fail(d, VW_DECODE_TOO_BIG);
        return NULL;
    }
    void *p = vw_batch_alloc(d->b, count * size);
    if (!p) fail(d, VW_DECODE_NOMEM);
    return p;
}

/* ---- AnyValue and KeyValue ---------------------------------------------------------------- */

static bool decode_any(decoder *d, otelc_pb r, otelc_value *v, int depth);

/* KeyValue { string key = 1; AnyValue value = 2; }: a missing value is the empty one. */
static bool decode_kv(decoder *d, otelc_pb r, otelc_attr *kv, int depth)
{
    kv->key = "";
    kv->value = (otelc_value){.type = OTELC_VALUE_EMPTY};
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        otelc_pb body;
        if (!next_key(d, &r, &field, &wt)) return false;
        if (field == 1) {
            if (!read_str(d, &r, wt, &kv->key, NULL)) return false;
        } else if (field == 2) {
            if (!read_len(d, &r, wt, &body) || !decode_any(d, body, &kv->value, depth))
                return false;
        } else if (!skip(d, &r, field, wt)) {
            return false;
        }
    }
    return true;
}

/* One KeyValue of a repeated field into attrs[*n], of cap counted beforehand. */
static bool add_kv(decoder *d, otelc_pb *r, otelc_pb_wire wt, otelc_attr *attrs, size_t cap,
                   uint32_t *n, int depth)
{
    otelc_pb body;
    if (!read_len(d, r, wt, &body)) return false;
    if (*n == cap) return fail(d, VW_DECODE_INVALID); /* cannot happen: counted first */
    return decode_kv(d, body, &attrs[(*n)++], depth);
}

/* ArrayValue { repeated AnyValue values = 1; } at nesting depth. */
static bool decode_array(decoder *d, otelc_pb r, otelc_value *v, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) return fail(d, VW_DECODE_TOO_BIG);
    size_t counts[COUNTED_FIELDS];
    if (!count_fields(d, r, counts)) return false;
    otelc_value *items = alloc_array(d, counts[1], sizeof *items);
    if (!items && counts[1]) return false;
    size_t n = 0;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        otelc_pb body;
        if (!next_key(d, &r, &field, &wt)) return false;
        if (field != 1) {
            if (!skip(d, &r, field, wt)) return false;
            continue;
        }
        if (!read_len(d, &r, wt, &body)) return false;
        if (n == counts[1]) return fail(d, VW_DECODE_INVALID); /* cannot happen: counted */
        if (!decode_any(d, body, &items[n++], depth)) return false;
    }
    *v = (otelc_value){.type = OTELC_VALUE_ARRAY, .u.array = {items, n}};
    /* The typed array the SDK itself records, when the items allow (see decode_proto.h). */
    return vw_batch_narrow_array(d->b, v) || fail(d, VW_DECODE_NOMEM);
}

/* KeyValueList { repeated KeyValue values = 1; } at nesting depth. */
static bool decode_map(decoder *d, otelc_pb r, otelc_value *v, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) return fail(d, VW_DECODE_TOO_BIG);
    size_t counts[COUNTED_FIELDS];
    uint32_t n = 0;
    if (!count_fields(d, r, counts)) return false;
    otelc_attr *kvs = alloc_array(d, counts[1], sizeof *kvs);
    if (!kvs && counts[1]) return false;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        if (!next_key(d, &r, &field, &wt)) return false;
        if (field == 1) {
            if (!add_kv(d, &r, wt, kvs, counts[1], &n, depth)) return false;
        } else if (!skip(d, &r, field, wt)) {
            return false;
        }
    }
    *v = (otelc_value){.type = OTELC_VALUE_MAP, .u.array = {kvs, n}};
    return true;
}

static bool read_bytes(decoder *d, otelc_pb *r, otelc_pb_wire wt, otelc_value *v)
{
    otelc_pb body;
    if (!read_len(d, r, wt, &body)) return false;
    size_t n = (size_t)(body.end - body.p);
    char *copy = vw_batch_alloc(d->b, n + 1);
    if (!copy) return fail(d, VW_DECODE_NOMEM);
    if (n) memcpy(copy, body.p, n);
    copy[n] = '\0'; /* not needed by the model, but harmless to a careless reader */
    *v = (otelc_value){.type = OTELC_VALUE_BYTES, .u.str = {copy, n}};
    return true;
}

/*
 * AnyValue { oneof value { string 1; bool 2; int64 3; double 4;
 * ArrayValue 5; KeyValueList 6; bytes 7; } }. No member: the empty value.
 * depth counts the arrays and maps around this value.
 */
static bool decode_any(decoder *d, otelc_pb r, otelc_value *v, int depth)
{
    *v = (otelc_value){.type = OTELC_VALUE_EMPTY};
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        uint64_t bits;
        otelc_pb body;
        if (!next_key(d, &r, &field, &wt)) return false;
        switch (field) {
        case 1:
            v->type = OTELC_VALUE_STRING;
            if (!read_str(d, &r, wt, &v->u.str.ptr, &v->u.str.len)) return false;
            break;
        case 2:
            if (!read_varint(d, &r, wt, &bits)) return false;
            *v = (otelc_value){.type = OTELC_VALUE_BOOL, .u.b = bits != 0};
            break;
        case 3:
            if (!read_varint(d, &r, wt, &bits)) return false;
            *v = (otelc_value){.type = OTELC_VALUE_INT, .u.i = (int64_t)bits};
            break;
        case 4:
            if (!read_fixed64(d, &r, wt, &bits)) return false;
            v->type = OTELC_VALUE_DOUBLE;
            memcpy(&v->u.d, &bits, sizeof bits);
            break;
        case 5:
            if (!read_len(d, &r, wt, &body) || !decode_array(d, body, v, depth + 1)) return false;
            break;
        case 6:
            if (!read_len(d, &r, wt, &body) || !decode_map(d, body, v, depth + 1)) return false;
            break;
        case 7:
            if (!read_bytes(d, &r, wt, v)) return false;
            break;
        default:
            if (!skip(d, &r, field, wt)) return false;
        }
    }
    return true;
}

/* ---- Span, its events, links and status --------------------------------------------------- */

/* Span.Event { fixed64 time_unix_nano = 1; string name = 2; attributes = 3; dropped = 4; } */
static bool decode_event(decoder *d, otelc_pb r, otelc_event_data *ev)
{
    size_t counts[COUNTED_FIELDS];
    memset(ev, 0, sizeof *ev);
    ev->name = "";
    if (!count_fields(d, r, counts)) return false;
    otelc_attr *attrs = alloc_array(d, counts[3], sizeof *attrs);
    if (!attrs && counts[3]) return false;
    ev->attrs = attrs;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        bool ok;
        if (!next_key(d, &r, &field, &wt)) return false;
        switch (field) {
        case 1:
            ok = read_fixed64(d, &r, wt, &ev->time_ns);
            break;
        case 2:
            ok = read_str(d, &r, wt, &ev->name, NULL);
            break;
        case 3:
            ok = add_kv(d, &r, wt, attrs, counts[3], &ev->attr_count, 0);
            break;
        case 4:
            ok = read_u32(d, &r, wt, &ev->dropped_attr_count);
            break;
        default:
            ok = skip(d, &r, field, wt);
        }
        if (!ok) return false;
    }
    return true;
}

/*
 * Span.Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3;
 * attributes = 4; dropped = 5; fixed32 flags = 6; }. *holdable is false
 * when an id has a size the model cannot hold (see decode_proto.h).
 */
static bool decode_link(decoder *d, otelc_pb r, otelc_link_data *l, bool *holdable)
{
    size_t counts[COUNTED_FIELDS];
    size_t trace_len = 0, span_len = 0;
    uint32_t flags = 0;
    memset(l, 0, sizeof *l);
    if (!count_fields(d, r, counts)) return false;
    otelc_attr *attrs = alloc_array(d, counts[4], sizeof *attrs);
    if (!attrs && counts[4]) return false;
    l->attrs = attrs;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        bool ok;
        if (!next_key(d, &r, &field, &wt)) return false;
        switch (field) {
        case 1:
            ok = read_id(d, &r, wt, l->context.trace_id, 16, &trace_len);
            break;
        case 2:
            ok = read_id(d, &r, wt, l->context.span_id, 8, &span_len);
            break;
        case 3:
            ok = read_opt_str(d, &r, wt, &l->context.trace_state);
            break;
        case 4:
            ok = add_kv(d, &r, wt, attrs, counts[4], &l->attr_count, 0);
            break;
        case 5:
            ok = read_u32(d, &r, wt, &l->dropped_attr_count);
            break;
        case 6:
            ok = read_fixed32(d, &r, wt, &flags);
            break;
        default:
            ok = skip(d, &r, field, wt);
        }
        if (!ok) return false;
    }
    /* An id given twice in sizes both right and wrong keeps the last one's size. */
    if (trace_len != 16) memset(l->context.trace_id, 0, 16);
    if (span_len != 8) memset(l->context.span_id, 0, 8);
    l->context.trace_flags = (uint8_t)(flags & FLAGS_TRACE_MASK);
    l->context.is_remote =
        (flags & (FLAGS_REMOTE_KNOWN | FLAGS_REMOTE)) == (FLAGS_REMOTE_KNOWN | FLAGS_REMOTE);
    *holdable = (trace_len == 0 || trace_len == 16) && (span_len == 0 || span_len == 8);
    return true;
}

/* Status { string message = 2; StatusCode code = 3; } */
static bool decode_status(decoder *d, otelc_pb r, otelc_span_data *sd)
{
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        uint64_t code;
        if (!next_key(d, &r, &field, &wt)) return false;
        if (field == 2) {
            if (!read_opt_str(d, &r, wt, &sd->status_message)) return false;
        } else if (field == 3) {
            if (!read_varint(d, &r, wt, &code)) return false;
            sd->status = code <= MAX_STATUS_CODE ? (otelc_status_code)code : OTELC_STATUS_UNSET;
        } else if (!skip(d, &r, field, wt)) {
            return false;
        }
    }
    return true;
}

/* The sizes the ids came with, checked once the whole span is read. */
typedef struct span_ids {
    size_t trace_len, span_len, parent_len;
    uint32_t flags;
    uint32_t unholdable_links;
} span_ids;

/* Span fields 1 to 8 and 16 (ids, names, kind, times, flags), and unknown ones. */
static bool decode_span_head(decoder *d, otelc_pb *r, uint32_t field, otelc_pb_wire wt,
                             otelc_span_data *sd, span_ids *ids)
{
    uint64_t v;
    switch (field) {
    case 1:
        return read_id(d, r, wt, sd->context.trace_id, 16, &ids->trace_len);
    case 2:
        return read_id(d, r, wt, sd->context.span_id, 8, &ids->span_len);
    case 3:
        return read_opt_str(d, r, wt, &sd->context.trace_state);
    case 4:
        return read_id(d, r, wt, sd->parent_span_id, 8, &ids->parent_len);
    case 5:
        return read_str(d, r, wt, &sd->name, NULL);
    case 6:
        if (!read_varint(d, r, wt, &v)) return false;
        sd->kind = v <= MAX_SPAN_KIND ? (otelc_span_kind)v : (otelc_span_kind)0;
        return true;
    case 7:
        return read_fixed64(d, r, wt, &sd->start_ns);
    case 8:
        return read_fixed64(d, r, wt, &sd->end_ns);
    case 16:
        return read_fixed32(d, r, wt, &ids->flags);
    default:
        return skip(d, r, field, wt);
    }
}

/* Arrays of the span's repeated fields, sized by count_fields. */
typedef struct span_arrays {
    otelc_attr *attrs;
    otelc_event_data *events;
    otelc_link_data *links;
    size_t attr_cap, event_cap, link_cap;
} span_arrays;

/* Span fields 9 to 15: attributes, events, links, their dropped counts, status. */
static bool decode_span_body(decoder *d, otelc_pb *r, uint32_t field, otelc_pb_wire wt,
                             otelc_span_data *sd, span_arrays *a, span_ids *ids)
{
    otelc_pb body;
    bool holdable;
    switch (field) {
    case 9:
        return add_kv(d, r, wt, a->attrs, a->attr_cap, &sd->attr_count, 0);
    case 10:
        return read_u32(d, r, wt, &sd->dropped_attr_count);
    case 11:
        if (!read_len(d, r, wt, &body)) return false;
        if (sd->event_count == a->event_cap) return fail(d, VW_DECODE_INVALID); /* counted */
        return decode_event(d, body, &a->events[sd->event_count++]);
    case 12:
        return read_u32(d, r, wt, &sd->dropped_event_count);
    case 13:
        if (!read_len(d, r, wt, &body)) return false;
        if (sd->link_count == a->link_cap) return fail(d, VW_DECODE_INVALID); /* counted */
        if (!decode_link(d, body, &a->links[sd->link_count], &holdable)) return false;
        if (holdable)
            sd->link_count++;
        else
            ids->unholdable_links++;
        return true;
    case 14:
        return read_u32(d, r, wt, &sd->dropped_link_count);
    default: /* 15 */
        return read_len(d, r, wt, &body) && decode_status(d, body, sd);
    }
}

/* Why a span with these ids cannot be kept, into why; "" when it can. */
static void check_ids(const otelc_span_data *sd, const span_ids *ids, char *why, size_t size)
{
    why[0] = '\0';
    if (ids->trace_len != 16)
        snprintf(why, size, "trace_id has %zu bytes, not 16", ids->trace_len);
    else if (otelc__is_zero(sd->context.trace_id, 16))
        snprintf(why, size, "trace_id is all zeros");
    else if (ids->span_len != 8)
        snprintf(why, size, "span_id has %zu bytes, not 8", ids->span_len);
    else if (otelc__is_zero(sd->context.span_id, 8))
        snprintf(why, size, "span_id is all zeros");
    else if (ids->parent_len != 0 && ids->parent_len != 8)
        snprintf(why, size, "parent_span_id has %zu bytes, neither 0 nor 8", ids->parent_len);
}

static uint32_t add_sat(uint32_t a, uint32_t b)
{
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/*
 * A Span message into *sd (zeroed by the caller). False when decoding must
 * stop; otherwise why is "" for a span to keep, or says why it is not.
 */
static bool decode_span(decoder *d, otelc_pb r, otelc_span_data *sd, char *why, size_t why_size)
{
    size_t counts[COUNTED_FIELDS];
    span_arrays a;
    span_ids ids = {0};
    if (!count_fields(d, r, counts)) return false;
    a.attr_cap = counts[9], a.event_cap = counts[11], a.link_cap = counts[13];
    a.attrs = alloc_array(d, a.attr_cap, sizeof *a.attrs);
    a.events = alloc_array(d, a.event_cap, sizeof *a.events);
    a.links = alloc_array(d, a.link_cap, sizeof *a.links);
    if (d->status != VW_DECODE_OK) return false; /* alloc_array() failed */
    sd->attrs = a.attrs, sd->events = a.events, sd->links = a.links;
    sd->name = "";
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        if (!next_key(d, &r, &field, &wt)) return false;
        bool ok = field >= 9 && field <= 15 ? decode_span_body(d, &r, field, wt, sd, &a, &ids)
                                            : decode_span_head(d, &r, field, wt, sd, &ids);
        if (!ok) return false;
    }
    sd->dropped_link_count = add_sat(sd->dropped_link_count, ids.unholdable_links);
    sd->context.trace_flags = (uint8_t)(ids.flags & FLAGS_TRACE_MASK);
    sd->has_parent = ids.parent_len == 8 && !otelc__is_zero(sd->parent_span_id, 8);
    if (!sd->has_parent) memset(sd->parent_span_id, 0, 8);
    sd->parent_is_remote = sd->has_parent && (ids.flags & (FLAGS_REMOTE_KNOWN | FLAGS_REMOTE)) ==
                                                 (FLAGS_REMOTE_KNOWN | FLAGS_REMOTE);
    check_ids(sd, &ids, why, why_size);
    return true;
}

/* ---- Scope, resource, request ----------------------------------------------------------- */

/* InstrumentationScope { name = 1; version = 2; attributes = 3; dropped = 4; } */
static bool decode_scope(decoder *d, otelc_pb r, otelc_scope_info *scope)
{
    size_t counts[COUNTED_FIELDS];
    const char *schema_url = scope->schema_url; /* ScopeSpans' field, not this message's */
    memset(scope, 0, sizeof *scope);
    scope->name = "";
    scope->schema_url = schema_url;
    if (!count_fields(d, r, counts)) return false;
    otelc_attr *attrs = alloc_array(d, counts[3], sizeof *attrs);
    if (!attrs && counts[3]) return false;
    scope->attrs = attrs;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        bool ok;
        if (!next_key(d, &r, &field, &wt)) return false;
        switch (field) {
        case 1:
            ok = read_str(d, &r, wt, &scope->name, NULL);
            break;
        case 2:
            ok = read_opt_str(d, &r, wt, &scope->version);
            break;
        case 3:
            ok = add_kv(d, &r, wt, attrs, counts[3], &scope->attr_count, 0);
            break;
        case 4:
            ok = read_u32(d, &r, wt, &scope->dropped_attr_count);
            break;
        default:
            ok = skip(d, &r, field, wt);
        }
        if (!ok) return false;
    }
    return true;
}

/*
 * A Resource read, and the otelc_resource made of it once a span needs it
 * (resource_of): a ResourceSpans without spans costs no malloc.
 */
typedef struct pending_resource {
    otelc_attr *attrs;
    uint32_t count;
    uint32_t dropped;
    const char *schema_url;
    otelc_resource *made;
} pending_resource;

/* Resource { attributes = 1; dropped_attributes_count = 2; } */
static bool decode_resource(decoder *d, otelc_pb r, pending_resource *res)
{
    size_t counts[COUNTED_FIELDS];
    if (!count_fields(d, r, counts)) return false;
    res->attrs = alloc_array(d, counts[1], sizeof *res->attrs);
    if (!res->attrs && counts[1]) return false;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        bool ok;
        if (!next_key(d, &r, &field, &wt)) return false;
        if (field == 1)
            ok = add_kv(d, &r, wt, res->attrs, counts[1], &res->count, 0);
        else if (field == 2)
            ok = read_u32(d, &r, wt, &res->dropped);
        else
            ok = skip(d, &r, field, wt);
        if (!ok) return false;
    }
    return true;
}

/* The resource the batch owns for res, made on first use; NULL after fail(). */
static otelc_resource *resource_of(decoder *d, pending_resource *res)
{
    if (!res->made) {
        res->made = vw_batch_add_resource_counted(d->b, res->attrs, res->count, res->schema_url,
                                                  res->dropped);
        if (!res->made) fail(d, VW_DECODE_NOMEM);
    }
    return res->made;
}

/* One Span of a request: kept, or counted as rejected when its ids are not valid. */
static bool add_request_span(decoder *d, otelc_pb body, const otelc_scope_info *scope,
                             pending_resource *res)
{
    if (++d->spans_seen > VW_MAX_SPANS_PER_REQUEST) return fail(d, VW_DECODE_TOO_BIG);
    otelc_span_data *sd = vw_batch_add_span(d->b);
    if (!sd)
        return fail(d,
                    d->b->count >= VW_MAX_SPANS_PER_REQUEST ? VW_DECODE_TOO_BIG : VW_DECODE_NOMEM);
    char why[REJECT_REASON_BYTES];
    if (!decode_span(d, body, sd, why, sizeof why)) return false;
    if (why[0]) {
        vw_batch_drop_last(d->b);
        vw_batch_reject(d->b, "span %zu of the request: %s", d->spans_seen, why);
        return true;
    }
    sd->scope = scope;
    sd->resource = resource_of(d, res);
    return sd->resource != NULL;
}

/* ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; } */
static bool decode_scope_spans(decoder *d, otelc_pb r, pending_resource *res)
{
    /* The spans point at the scope, filled in whenever its fields come. */
    otelc_scope_info *scope = vw_batch_alloc(d->b, sizeof *scope);
    if (!scope) return fail(d, VW_DECODE_NOMEM);
    memset(scope, 0, sizeof *scope);
    scope->name = "";
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        otelc_pb body;
        bool ok;
        if (!next_key(d, &r, &field, &wt)) return false;
        if (field == 1)
            ok = read_len(d, &r, wt, &body) && decode_scope(d, body, scope);
        else if (field == 2)
            ok = read_len(d, &r, wt, &body) && add_request_span(d, body, scope, res);
        else if (field == 3)
            ok = read_opt_str(d, &r, wt, &scope->schema_url);
        else
            ok = skip(d, &r, field, wt);
        if (!ok) return false;
    }
    return true;
}

/*
 * ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2;
 * string schema_url = 3; }. A resource is built whole (otelc_resource_new),
 * and senders write schema_url after the spans: a first walk reads the
 * resource and its URL, a second the spans.
 */
static bool decode_resource_spans(decoder *d, otelc_pb r)
{
    otelc_pb resource = {NULL, NULL}, walk = r;
    pending_resource res = {0};
    while (walk.p < walk.end) {
        uint32_t field;
        otelc_pb_wire wt;
        bool ok;
        if (!next_key(d, &walk, &field, &wt)) return false;
        if (field == 1)
            ok = read_len(d, &walk, wt, &resource);
        else if (field == 3)
            ok = read_opt_str(d, &walk, wt, &res.schema_url);
        else
            ok = skip(d, &walk, field, wt);
        if (!ok) return false;
    }
    if (!decode_resource(d, resource, &res)) return false;
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        otelc_pb body;
        if (!next_key(d, &r, &field, &wt)) return false;
        bool ok = field == 2 ? read_len(d, &r, wt, &body) && decode_scope_spans(d, body, &res)
                             : skip(d, &r, field, wt);
        if (!ok) return false;
    }
    return true;
}

vw_decode_status vw_decode_otlp_proto(const uint8_t *buf, size_t len, vw_batch *out)
{
    decoder d = {.b = out};
    otelc_pb r = otelc__pb_of(buf, len);
    /* ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; } */
    while (r.p < r.end) {
        uint32_t field;
        otelc_pb_wire wt;
        otelc_pb body;
        if (!next_key(&d, &r, &field, &wt)) break;
        bool ok = field == 1 ? read_len(&d, &r, wt, &body) && decode_resource_spans(&d, body)
                             : skip(&d, &r, field, wt);
        if (!ok) break;
    }
    if (d.status != VW_DECODE_OK) vw_batch_reset(out);
    return d.status;
}

/* ---- Single messages (the store's read path) --------------------------------------------- */

int vw_decode_span(const uint8_t *p, size_t n, vw_batch *b, otelc_span_data *out)
{
    decoder d = {.b = b};
    char why[REJECT_REASON_BYTES];
    memset(out, 0, sizeof *out);
    if (!decode_span(&d, otelc__pb_of(p, n), out, why, sizeof why)) return d.status;
    return why[0] ? VW_DECODE_INVALID : VW_DECODE_OK;
}

otelc_resource *vw_decode_resource(const uint8_t *p, size_t n, const char *schema_url, vw_batch *b)
{
    decoder d = {.b = b};
    pending_resource res = {.schema_url = schema_url};
    if (!decode_resource(&d, otelc__pb_of(p, n), &res)) return NULL;
    return resource_of(&d, &res);
}

int vw_decode_scope(const uint8_t *p, size_t n, vw_batch *b, otelc_scope_info *out)
{
    decoder d = {.b = b};
    memset(out, 0, sizeof *out);
    if (!decode_scope(&d, otelc__pb_of(p, n), out)) return d.status;
    return VW_DECODE_OK;
}
