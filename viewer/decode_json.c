/*
 * decode_json.c - OTLP/JSON ExportTraceServiceRequest into a vw_batch (see
 * decode_json.h), on the project's JSON reader (src/json.h).
 *
 * The mapping (opentelemetry-proto docs/specification.md, "JSON Protobuf
 * Encoding", over the proto3 JSON mapping), and what the decoder decides
 * where the document allows more than the model holds - the same choices
 * as decode_proto.c wherever the two formats meet:
 *
 * - Keys are the lowerCamelCase field names. The specification says the
 *   original snake_case names "are not valid to use as keys" and that
 *   receivers MUST ignore unknown fields, so a snake_case key is unknown
 *   and ignored (the Collector also accepts them; this receiver follows
 *   the specification). null stands for the field's default, as in proto3
 *   JSON; for a repeated field, for the empty list.
 * - A known field of the wrong JSON type, a 64-bit integer that is not
 *   one, bad base64, or a document that is not JSON refuse the whole
 *   request (VW_DECODE_INVALID), as a proto3 JSON parser would; so does
 *   an id that is not a string.
 * - Ids are hex strings, either case (the specification's "case-insensitive
 *   hex"). A span whose traceId is not 32 hex digits or all zeros, whose
 *   spanId is not 16 hex digits or all zeros, or whose parentSpanId is
 *   neither empty nor 16 hex digits, is left out and counted (the partial
 *   success); an all-zero parentSpanId means no parent. A link whose ids
 *   are neither empty nor of the right length in hex is left out and
 *   counted in the span's droppedLinksCount; empty or zero link ids are
 *   kept (a link to an invalid context may carry attributes).
 * - int64, uint64 and fixed64 (times, intValue, rejectedSpans) are decimal
 *   strings or numbers, kept exact (json.h keeps integer literals exact);
 *   uint32 and fixed32 counts and flags too. "1e3" is 1000.
 * - Enums are integers, and the enum names of the protobuf JSON mapping
 *   are accepted too ("SPAN_KIND_SERVER", "STATUS_CODE_ERROR"), though the
 *   OTLP specification forbids senders to use them. kind is kept from 0
 *   (unspecified) to 5, other values read as 0; a status code other than
 *   0-2 reads as UNSET. A status message is kept whatever the code.
 * - flags: bits 0-7 are the W3C trace flags; a parent or link context is
 *   remote when bits 8 and 9 are both set. A span without a parent never
 *   has a remote one.
 * - AnyValue: stringValue, boolValue, intValue, doubleValue (a number, a
 *   numeric string, or "NaN", "Infinity", "-Infinity"), bytesValue
 *   (base64, standard or URL-safe, padded or not), arrayValue, kvlistValue,
 *   and {} for the empty value. Arrays follow vw_batch_narrow_array().
 *   When an AnyValue carries several members, the last one wins. Nested
 *   deeper than VW_MAX_VALUE_DEPTH arrays or maps refuses the request
 *   (VW_DECODE_TOO_BIG), as do more than VW_MAX_SPANS_PER_REQUEST spans.
 * - Strings are UTF-8: malformed bytes and unpaired surrogate escapes
 *   become U+FFFD (the reader's lossy mode), a viewer being for looking at
 *   what a program sent. A \u0000 is kept in string and bytes values;
 *   where the model holds a C string (names, keys) its readers stop there.
 * - Absent names read as "", absent trace states, versions and schema URLs
 *   as NULL. A member given twice: the last one wins. Attributes are kept
 *   as sent (in order, duplicate and empty keys included), but a resource's
 *   go through vw_batch_add_resource_counted(), which counts what a
 *   resource cannot hold in its droppedAttributesCount.
 *
 * Spans of one ResourceSpans share one resource, spans of one ScopeSpans
 * one otelc_scope_info; a ResourceSpans without a kept span makes no
 * resource.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "decode_json.h"
#include "json.h"

/* The reader's depth: the request's own nesting, and VW_MAX_VALUE_DEPTH maps of 4 levels each. */
#define JSON_MAX_DEPTH (16 + 4 * VW_MAX_VALUE_DEPTH)
/* A request larger than this is refused before parsing (the receiver's own limit is lower). */
#define JSON_MAX_SIZE ((size_t)256 << 20)

typedef struct decoder {
    vw_batch *b;
    vw_decode_status status; /* VW_DECODE_OK until the first failure */
    size_t spans_seen;       /* valid or not */
    size_t rs, ss, sp;       /* where we are, for reject reasons */
} decoder;

static bool fail(decoder *d, vw_decode_status status)
{
    if (d->status == VW_DECODE_OK) d->status = status;
    return false;
}

static bool nomem(decoder *d)
{
    return fail(d, VW_DECODE_NOMEM);
}

/* ---- Scalars ------------------------------------------------------------------------- */

/* A string field: *s, *n (absent: NULL, 0). False (invalid) for another type. */
static bool read_str(decoder *d, const json_value *v, const char **s, size_t *n)
{
    *s = NULL, *n = 0;
    if (otelc__json_absent(v)) return true;
    if (v->type != JSON_STRING) return fail(d, VW_DECODE_INVALID);
    *s = v->u.string.ptr, *n = v->u.string.len;
    return true;
}

/* A string field copied into the batch; absent is def (NULL or ""). */
static bool copy_str(decoder *d, const json_value *v, const char *def, const char **out)
{
    const char *s;
    size_t n;
    if (!read_str(d, v, &s, &n)) return false;
    if (!s) return *out = def, true;
    return (*out = vw_batch_str(d->b, s, n, NULL)) != NULL || nomem(d);
}

static bool read_u64(decoder *d, const json_value *v, uint64_t *out)
{
    *out = 0;
    return otelc__json_absent(v) || otelc__json_uint64(v, out) || fail(d, VW_DECODE_INVALID);
}

static bool read_u32(decoder *d, const json_value *v, uint32_t *out)
{
    uint64_t u;
    if (!read_u64(d, v, &u)) return false;
    if (u > UINT32_MAX) return fail(d, VW_DECODE_INVALID);
    *out = (uint32_t)u;
    return true;
}

/* An enum: its number, or one of names[0..count) (the protobuf mapping's names). */
static bool read_enum(decoder *d, const json_value *v, const char *const *names, size_t count,
                      int64_t *out)
{
    *out = 0;
    if (otelc__json_absent(v)) return true;
    if (v->type == JSON_STRING) {
        for (size_t i = 0; i < count; i++)
            if (strcmp(v->u.string.ptr, names[i]) == 0) return *out = (int64_t)i, true;
        return true; /* a name this receiver does not know: the default */
    }
    return otelc__json_int64(v, out) || fail(d, VW_DECODE_INVALID);
}

/* doubleValue: a number, or a string holding one or NaN / Infinity / -Infinity. */
static bool read_double(decoder *d, const json_value *v, double *out)
{
    if (v->type == JSON_NUMBER) return *out = v->u.number.d, true;
    if (v->type != JSON_STRING) return fail(d, VW_DECODE_INVALID);
    const char *s = v->u.string.ptr;
    if (strcmp(s, "NaN") == 0) return *out = NAN, true;
    if (strcmp(s, "Infinity") == 0) return *out = INFINITY, true;
    if (strcmp(s, "-Infinity") == 0) return *out = -INFINITY, true;
    /* A numeric string must be a JSON number itself: no spaces, hex or "inf". */
    size_t len = v->u.string.len;
    if (len == 0 || s[len - 1] < '0' || s[len - 1] > '9' ||
        (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
        return fail(d, VW_DECODE_INVALID);
    json_doc num = JSON_DOC_INIT;
    const json_value *n = otelc__json_parse(&num, s, len, NULL, NULL);
    bool ok = n && n->type == JSON_NUMBER;
    if (ok) *out = n->u.number.d;
    otelc__json_free(&num);
    return ok || fail(d, VW_DECODE_INVALID);
}

/* The value of a base64 digit (standard or URL-safe alphabet), or -1. */
static int b64_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* bytesValue: base64 into the batch, *out_n bytes (padding optional). */
static bool read_base64(decoder *d, const char *s, size_t n, const uint8_t **out, size_t *out_n)
{
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) n--, pad++;
    if ((pad && (n + pad) % 4) || n % 4 == 1) return fail(d, VW_DECODE_INVALID);
    uint8_t *bytes = vw_batch_alloc(d->b, n / 4 * 3 + 2), *o = bytes;
    if (!bytes) return nomem(d);
    uint32_t acc = 0;
    size_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_digit((unsigned char)s[i]);
        if (v < 0) return fail(d, VW_DECODE_INVALID);
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    *out = bytes, *out_n = (size_t)(o - bytes);
    return true;
}

/* ---- Values and attributes -------------------------------------------------------------- */

static bool decode_attrs(decoder *d, const json_value *v, const otelc_attr **out, uint32_t *count,
                         int depth);
static bool decode_any(decoder *d, const json_value *v, otelc_value *out, int depth);

/* A list field: *items and *n (absent: none). False (invalid) when it is no array. */
static bool read_list(decoder *d, const json_value *v, json_value *const **items, size_t *n)
{
    *items = NULL, *n = 0;
    if (otelc__json_absent(v)) return true;
    if (v->type != JSON_ARRAY) return fail(d, VW_DECODE_INVALID);
    *items = v->u.array.items, *n = v->u.array.count;
    return true;
}

/* An object field: the object, NULL when absent; false (invalid) for another type. */
static bool read_object(decoder *d, const json_value *v, const json_value **out)
{
    *out = NULL;
    if (otelc__json_absent(v)) return true;
    if (v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    *out = v;
    return true;
}

/* ArrayValue { values: [AnyValue] } at nesting depth. */
static bool decode_array(decoder *d, const json_value *v, otelc_value *out, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) return fail(d, VW_DECODE_TOO_BIG);
    const json_value *obj;
    json_value *const *items;
    size_t n;
    if (!read_object(d, v, &obj) ||
        !read_list(d, otelc__json_object_get(obj, "values"), &items, &n))
        return false;
    otelc_value *values = n ? vw_batch_alloc(d->b, n * sizeof *values) : NULL;
    if (n && !values) return nomem(d);
    for (size_t i = 0; i < n; i++)
        if (!decode_any(d, items[i], &values[i], depth)) return false;
    *out = (otelc_value){.type = OTELC_VALUE_ARRAY, .u.array = {values, n}};
    return vw_batch_narrow_array(d->b, out) || nomem(d);
}

/* KeyValueList { values: [KeyValue] } at nesting depth. */
static bool decode_kvlist(decoder *d, const json_value *v, otelc_value *out, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) return fail(d, VW_DECODE_TOO_BIG);
    const json_value *obj;
    const otelc_attr *attrs;
    uint32_t n;
    if (!read_object(d, v, &obj) ||
        !decode_attrs(d, otelc__json_object_get(obj, "values"), &attrs, &n, depth))
        return false;
    *out = (otelc_value){.type = OTELC_VALUE_MAP, .u.array = {attrs, n}};
    return true;
}

/* One member of an AnyValue into *out; unknown members leave it alone. */
static bool any_member(decoder *d, const json_member *m, otelc_value *out, int depth)
{
    const json_value *v = m->value;
    if (otelc__json_absent(v)) return true; /* a null member sets nothing */
    if (JSON_KEY_IS(m, "stringValue")) {
        if (v->type != JSON_STRING) return fail(d, VW_DECODE_INVALID);
        size_t n;
        const char *s = vw_batch_str(d->b, v->u.string.ptr, v->u.string.len, &n);
        if (!s) return nomem(d);
        *out = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {s, n}};
    } else if (JSON_KEY_IS(m, "boolValue")) {
        if (v->type != JSON_BOOL) return fail(d, VW_DECODE_INVALID);
        *out = (otelc_value){.type = OTELC_VALUE_BOOL, .u.b = v->u.boolean};
    } else if (JSON_KEY_IS(m, "intValue")) {
        int64_t i;
        if (!otelc__json_int64(v, &i)) return fail(d, VW_DECODE_INVALID);
        *out = (otelc_value){.type = OTELC_VALUE_INT, .u.i = i};
    } else if (JSON_KEY_IS(m, "doubleValue")) {
        double x;
        if (!read_double(d, v, &x)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_DOUBLE, .u.d = x};
    } else if (JSON_KEY_IS(m, "bytesValue")) {
        const uint8_t *bytes;
        size_t n;
        if (v->type != JSON_STRING) return fail(d, VW_DECODE_INVALID);
        if (!read_base64(d, v->u.string.ptr, v->u.string.len, &bytes, &n)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_BYTES, .u.str = {(const char *)bytes, n}};
    } else if (JSON_KEY_IS(m, "arrayValue")) {
        return decode_array(d, v, out, depth + 1);
    } else if (JSON_KEY_IS(m, "kvlistValue")) {
        return decode_kvlist(d, v, out, depth + 1);
    }
    return true;
}

/* An AnyValue object; {} (or absent) is the empty value. */
static bool decode_any(decoder *d, const json_value *v, otelc_value *out, int depth)
{
    *out = (otelc_value){.type = OTELC_VALUE_EMPTY};
    const json_value *obj;
    if (!read_object(d, v, &obj)) return false;
    for (size_t i = 0; obj && i < obj->u.object.count; i++)
        if (!any_member(d, &obj->u.object.members[i], out, depth)) return false;
    return true;
}

/* A KeyValue object into *kv. */
static bool decode_kv(decoder *d, const json_value *v, otelc_attr *kv, int depth)
{
    if (!v || v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    const json_value *key = NULL, *value = NULL;
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (JSON_KEY_IS(m, "key"))
            key = m->value;
        else if (JSON_KEY_IS(m, "value"))
            value = m->value;
    }
    return copy_str(d, key, "", &kv->key) && decode_any(d, value, &kv->value, depth);
}

/* A list of KeyValue: attributes of spans, events, links, scopes, resources and maps. */
static bool decode_attrs(decoder *d, const json_value *v, const otelc_attr **out, uint32_t *count,
                         int depth)
{
    json_value *const *items;
    size_t n;
    *out = NULL, *count = 0;
    if (!read_list(d, v, &items, &n)) return false;
    if (n > UINT32_MAX) return fail(d, VW_DECODE_TOO_BIG);
    otelc_attr *attrs = n ? vw_batch_alloc(d->b, n * sizeof *attrs) : NULL;
    if (n && !attrs) return nomem(d);
    for (size_t i = 0; i < n; i++)
        if (!decode_kv(d, items[i], &attrs[i], depth)) return false;
    *out = attrs, *count = (uint32_t)n;
    return true;
}

/* ---- Spans -------------------------------------------------------------------------------- */

/* Why an id is not one: NULL when it is (size bytes decoded into out; empty: zeros). */
static const char *read_id(decoder *d, const json_value *v, uint8_t *out, size_t size,
                           bool *invalid_doc)
{
    const char *s;
    size_t n;
    memset(out, 0, size);
    *invalid_doc = !read_str(d, v, &s, &n);
    if (*invalid_doc || !s || n == 0) return "missing";
    if (n != 2 * size) return "of the wrong length";
    return vw_hex_decode(s, n, out) ? NULL : "not hex";
}

/* A SpanFlags value: the W3C flags, and whether the context is known to be remote. */
static void apply_flags(uint32_t flags, uint8_t *trace_flags, bool *remote)
{
    *trace_flags = (uint8_t)(flags & 0xff);
    *remote = (flags & 0x300) == 0x300;
}

static const char *const status_names[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                           "STATUS_CODE_ERROR"};
static const char *const kind_names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                         "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                         "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};

static bool decode_status(decoder *d, const json_value *v, otelc_span_data *sd)
{
    const json_value *obj;
    int64_t code = 0;
    if (!read_object(d, v, &obj)) return false;
    if (!obj) return true;
    if (!read_enum(d, otelc__json_object_get(obj, "code"), status_names, 3, &code)) return false;
    sd->status = code >= 0 && code <= 2 ? (otelc_status_code)code : OTELC_STATUS_UNSET;
    return copy_str(d, otelc__json_object_get(obj, "message"), NULL, &sd->status_message);
}

static bool decode_event(decoder *d, const json_value *v, otelc_event_data *e)
{
    if (!v || v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        bool ok = true;
        if (JSON_KEY_IS(m, "timeUnixNano"))
            ok = read_u64(d, m->value, &e->time_ns);
        else if (JSON_KEY_IS(m, "name"))
            ok = copy_str(d, m->value, "", &e->name);
        else if (JSON_KEY_IS(m, "attributes"))
            ok = decode_attrs(d, m->value, &e->attrs, &e->attr_count, 0);
        else if (JSON_KEY_IS(m, "droppedAttributesCount"))
            ok = read_u32(d, m->value, &e->dropped_attr_count);
        if (!ok) return false;
    }
    if (!e->name) e->name = "";
    return true;
}

/* A link; *keep false when its ids cannot be held (it is then dropped and counted). */
static bool decode_link(decoder *d, const json_value *v, otelc_link_data *l, bool *keep)
{
    if (!v || v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    const json_value *trace_id = NULL, *span_id = NULL;
    uint32_t flags = 0;
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        bool ok = true;
        if (JSON_KEY_IS(m, "traceId"))
            trace_id = m->value;
        else if (JSON_KEY_IS(m, "spanId"))
            span_id = m->value;
        else if (JSON_KEY_IS(m, "traceState"))
            ok = copy_str(d, m->value, NULL, &l->context.trace_state);
        else if (JSON_KEY_IS(m, "attributes"))
            ok = decode_attrs(d, m->value, &l->attrs, &l->attr_count, 0);
        else if (JSON_KEY_IS(m, "droppedAttributesCount"))
            ok = read_u32(d, m->value, &l->dropped_attr_count);
        else if (JSON_KEY_IS(m, "flags"))
            ok = read_u32(d, m->value, &flags);
        if (!ok) return false;
    }
    apply_flags(flags, &l->context.trace_flags, &l->context.is_remote);
    bool bad_doc;
    const char *why = read_id(d, trace_id, l->context.trace_id, 16, &bad_doc);
    if (bad_doc) return false;
    *keep = !why || strcmp(why, "missing") == 0;
    why = read_id(d, span_id, l->context.span_id, 8, &bad_doc);
    if (bad_doc) return false;
    *keep = *keep && (!why || strcmp(why, "missing") == 0);
    return true;
}

static bool decode_events(decoder *d, const json_value *v, otelc_span_data *sd)
{
    json_value *const *items;
    size_t n;
    if (!read_list(d, v, &items, &n)) return false;
    if (n > UINT32_MAX) return fail(d, VW_DECODE_TOO_BIG);
    otelc_event_data *events = n ? vw_batch_alloc(d->b, n * sizeof *events) : NULL;
    if (n && !events) return nomem(d);
    for (size_t i = 0; i < n; i++) {
        events[i] = (otelc_event_data){0};
        if (!decode_event(d, items[i], &events[i])) return false;
    }
    sd->events = events, sd->event_count = (uint32_t)n;
    return true;
}

static bool decode_links(decoder *d, const json_value *v, otelc_span_data *sd)
{
    json_value *const *items;
    size_t n, kept = 0;
    if (!read_list(d, v, &items, &n)) return false;
    if (n > UINT32_MAX) return fail(d, VW_DECODE_TOO_BIG);
    otelc_link_data *links = n ? vw_batch_alloc(d->b, n * sizeof *links) : NULL;
    if (n && !links) return nomem(d);
    for (size_t i = 0; i < n; i++) {
        bool keep;
        links[kept] = (otelc_link_data){0};
        if (!decode_link(d, items[i], &links[kept], &keep)) return false;
        kept += keep;
    }
    sd->links = links, sd->link_count = (uint32_t)kept;
    sd->dropped_link_count += (uint32_t)(n - kept); /* saturation is not worth a branch here */
    return true;
}

/* The members of a Span object read after the others: ids, flags and links. */
typedef struct span_fields {
    const json_value *trace_id, *span_id, *parent_span_id, *flags, *links, *dropped_links;
} span_fields;

static bool span_member(decoder *d, const json_member *m, otelc_span_data *sd, span_fields *f)
{
    const json_value *v = m->value;
    int64_t kind;
    if (JSON_KEY_IS(m, "traceId"))
        f->trace_id = v;
    else if (JSON_KEY_IS(m, "spanId"))
        f->span_id = v;
    else if (JSON_KEY_IS(m, "parentSpanId"))
        f->parent_span_id = v;
    else if (JSON_KEY_IS(m, "flags"))
        f->flags = v;
    else if (JSON_KEY_IS(m, "links"))
        f->links = v;
    else if (JSON_KEY_IS(m, "droppedLinksCount"))
        f->dropped_links = v;
    else if (JSON_KEY_IS(m, "traceState"))
        return copy_str(d, v, NULL, &sd->context.trace_state);
    else if (JSON_KEY_IS(m, "name"))
        return copy_str(d, v, "", &sd->name);
    else if (JSON_KEY_IS(m, "kind")) {
        if (!read_enum(d, v, kind_names, 6, &kind)) return false;
        sd->kind = (otelc_span_kind)(kind >= 0 && kind <= 5 ? kind : 0);
    } else if (JSON_KEY_IS(m, "startTimeUnixNano"))
        return read_u64(d, v, &sd->start_ns);
    else if (JSON_KEY_IS(m, "endTimeUnixNano"))
        return read_u64(d, v, &sd->end_ns);
    else if (JSON_KEY_IS(m, "attributes"))
        return decode_attrs(d, v, &sd->attrs, &sd->attr_count, 0);
    else if (JSON_KEY_IS(m, "droppedAttributesCount"))
        return read_u32(d, v, &sd->dropped_attr_count);
    else if (JSON_KEY_IS(m, "events"))
        return decode_events(d, v, sd);
    else if (JSON_KEY_IS(m, "droppedEventsCount"))
        return read_u32(d, v, &sd->dropped_event_count);
    else if (JSON_KEY_IS(m, "status"))
        return decode_status(d, v, sd);
    return true;
}

/* An id that must identify a span: NULL, or why it does not. */
static const char *span_id_problem(decoder *d, const json_value *v, uint8_t *out, size_t size,
                                   bool *bad_doc)
{
    const char *why = read_id(d, v, out, size, bad_doc);
    return why ? why : otelc__is_zero(out, size) ? "all zeros" : NULL;
}

/* One ResourceSpans: its resource, made when its first span is kept. */
typedef struct group {
    const otelc_attr *attrs;
    uint32_t attr_count;
    uint32_t dropped_attr_count;
    const char *schema_url;
    otelc_resource *resource;
} group;

/*
 * The span's ids, parent and flags: true, with *field naming the id and
 * *why saying what is wrong with it when the span must be left out.
 */
static bool span_context(decoder *d, const span_fields *f, otelc_span_data *sd, const char **field,
                         const char **why)
{
    bool bad = false, remote;
    uint32_t flags;
    const char *trace = span_id_problem(d, f->trace_id, sd->context.trace_id, 16, &bad);
    const char *span = bad ? NULL : span_id_problem(d, f->span_id, sd->context.span_id, 8, &bad);
    const char *parent = bad ? NULL : read_id(d, f->parent_span_id, sd->parent_span_id, 8, &bad);
    if (bad || !read_u32(d, f->flags, &flags)) return false;
    if (parent && strcmp(parent, "missing") == 0) parent = NULL; /* empty: a root span */
    sd->has_parent = !parent && !otelc__is_zero(sd->parent_span_id, 8);
    apply_flags(flags, &sd->context.trace_flags, &remote);
    sd->parent_is_remote = sd->has_parent && remote;
    *field = trace ? "traceId" : span ? "spanId" : "parentSpanId";
    *why = trace ? trace : span ? span : parent;
    return true;
}

static bool decode_span(decoder *d, const json_value *v, group *g, const otelc_scope_info *scope)
{
    if (++d->spans_seen > VW_MAX_SPANS_PER_REQUEST) return fail(d, VW_DECODE_TOO_BIG);
    if (!v || v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    otelc_span_data *sd = vw_batch_add_span(d->b);
    if (!sd) return nomem(d);
    span_fields f = {0};
    for (size_t i = 0; i < v->u.object.count; i++)
        if (!span_member(d, &v->u.object.members[i], sd, &f)) return false;
    const char *field, *why;
    /* The count first: links that cannot be held are added to it. */
    if (!read_u32(d, f.dropped_links, &sd->dropped_link_count) || !decode_links(d, f.links, sd) ||
        !span_context(d, &f, sd, &field, &why))
        return false;
    if (why) {
        vw_batch_drop_last(d->b);
        vw_batch_reject(d->b, "resourceSpans[%zu].scopeSpans[%zu].spans[%zu]: %s is %s", d->rs,
                        d->ss, d->sp, field, why);
        return true;
    }
    if (!sd->name) sd->name = "";
    if (!g->resource && !(g->resource = vw_batch_add_resource_counted(
                              d->b, g->attrs, g->attr_count, g->schema_url, g->dropped_attr_count)))
        return nomem(d);
    sd->resource = g->resource;
    sd->scope = scope;
    return true;
}

/* InstrumentationScope into a scope of the batch; schema is the ScopeSpans' schemaUrl. */
static bool decode_scope(decoder *d, const json_value *v, const json_value *schema,
                         otelc_scope_info **out)
{
    otelc_scope_info *si = vw_batch_alloc(d->b, sizeof *si);
    const json_value *obj;
    if (!si) return nomem(d);
    *si = (otelc_scope_info){.name = ""};
    *out = si;
    if (!copy_str(d, schema, NULL, &si->schema_url) || !read_object(d, v, &obj)) return false;
    for (size_t i = 0; obj && i < obj->u.object.count; i++) {
        const json_member *m = &obj->u.object.members[i];
        bool ok = true;
        if (JSON_KEY_IS(m, "name"))
            ok = copy_str(d, m->value, "", &si->name);
        else if (JSON_KEY_IS(m, "version"))
            ok = copy_str(d, m->value, NULL, &si->version);
        else if (JSON_KEY_IS(m, "attributes"))
            ok = decode_attrs(d, m->value, &si->attrs, &si->attr_count, 0);
        else if (JSON_KEY_IS(m, "droppedAttributesCount"))
            ok = read_u32(d, m->value, &si->dropped_attr_count);
        if (!ok) return false;
    }
    return true;
}

static bool decode_scope_spans(decoder *d, const json_value *v, group *g)
{
    if (!v || v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    const json_value *scope = NULL, *spans = NULL, *schema = NULL;
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (JSON_KEY_IS(m, "scope"))
            scope = m->value;
        else if (JSON_KEY_IS(m, "spans"))
            spans = m->value;
        else if (JSON_KEY_IS(m, "schemaUrl"))
            schema = m->value;
    }
    otelc_scope_info *si;
    json_value *const *items;
    size_t n;
    if (!decode_scope(d, scope, schema, &si) || !read_list(d, spans, &items, &n)) return false;
    for (d->sp = 0; d->sp < n; d->sp++)
        if (!decode_span(d, items[d->sp], g, si)) return false;
    return true;
}

static bool decode_resource_spans(decoder *d, const json_value *v)
{
    if (!v || v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    const json_value *resource = NULL, *scope_spans = NULL, *schema = NULL, *obj;
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (JSON_KEY_IS(m, "resource"))
            resource = m->value;
        else if (JSON_KEY_IS(m, "scopeSpans"))
            scope_spans = m->value;
        else if (JSON_KEY_IS(m, "schemaUrl"))
            schema = m->value;
    }
    group g = {0};
    json_value *const *items;
    size_t n;
    if (!copy_str(d, schema, NULL, &g.schema_url) || !read_object(d, resource, &obj) ||
        !decode_attrs(d, otelc__json_object_get(obj, "attributes"), &g.attrs, &g.attr_count, 0) ||
        !read_u32(d, otelc__json_object_get(obj, "droppedAttributesCount"),
                  &g.dropped_attr_count) ||
        !read_list(d, scope_spans, &items, &n))
        return false;
    for (d->ss = 0; d->ss < n; d->ss++)
        if (!decode_scope_spans(d, items[d->ss], &g)) return false;
    return true;
}

static bool decode_request(decoder *d, const json_value *root)
{
    json_value *const *items;
    size_t n;
    if (root->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    if (!read_list(d, otelc__json_object_get(root, "resourceSpans"), &items, &n)) return false;
    for (d->rs = 0; d->rs < n; d->rs++)
        if (!decode_resource_spans(d, items[d->rs])) return false;
    return true;
}

vw_decode_status vw_decode_otlp_json(const char *buf, size_t len, vw_batch *out)
{
    static const json_options options = {
        .max_depth = JSON_MAX_DEPTH, .max_size = JSON_MAX_SIZE, .lossy_utf8 = true};
    json_doc doc = JSON_DOC_INIT;
    json_error err;
    const json_value *root = otelc__json_parse(&doc, buf, len, &options, &err);
    vw_decode_status st = root                         ? vw_decode_otlp_json_value(root, out)
                          : err.kind == JSON_ERR_LIMIT ? VW_DECODE_TOO_BIG
                          : err.kind == JSON_ERR_NOMEM ? VW_DECODE_NOMEM
                                                       : VW_DECODE_INVALID;
    otelc__json_free(&doc);
    return st;
}

vw_decode_status vw_decode_otlp_json_value(const json_value *root, vw_batch *out)
{
    decoder d = {.b = out};
    decode_request(&d, root);
    return d.status;
}

/* ---- The response ------------------------------------------------------------------------------
 */

int vw_reply_export_json(otelc_buf *out, uint64_t rejected, const char *message)
{
    bool has_message = message && *message;
    if (!rejected && !has_message) {
        otelc__buf_puts(out, "{}");
    } else {
        otelc__buf_puts(out, "{\"partialSuccess\":{");
        /* An int64: a decimal string in the JSON mapping. */
        if (rejected) otelc__buf_printf(out, "\"rejectedSpans\":\"%" PRIu64 "\"", rejected);
        if (has_message) {
            otelc__buf_puts(out, rejected ? ",\"errorMessage\":" : "\"errorMessage\":");
            otelc__buf_json_str(out, message, strlen(message));
        }
        otelc__buf_puts(out, "}}");
    }
    return out->failed ? OTELC_ERR_NOMEM : OTELC_OK;
}
