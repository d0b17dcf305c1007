/*
 * otlp_json.c - OTLP/JSON encoding of spans and decoding of the JSON
 * ExportTraceServiceResponse.
 *
 * The encoder follows the OTLP JSON mapping: lowerCamelCase keys, ids as
 * lowercase hex (not base64 as generic protobuf JSON would), enums as
 * integers, 64-bit integers as decimal strings (JavaScript readers would
 * lose precision on numbers), and - as the protobuf encoder does - fields
 * holding their default value are left out.
 *
 * The response is read with the project's JSON reader (json.h): the whole
 * document must be well-formed, and only partialSuccess.rejectedSpans and
 * .errorMessage are kept.
 */
#include <string.h>

#include "export/otlp.h"
#include "json.h"

/* Append a string literal without strlen. */
#define PUT(b, lit) otelc__buf_append((b), (lit), sizeof(lit) - 1)

/* ---- Scalars --------------------------------------------------------------------------- */

static void put_u64(otelc_buf *b, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    otelc__buf_append(b, tmp + i, sizeof(tmp) - i);
}

static void put_i64(otelc_buf *b, int64_t v)
{
    if (v < 0) PUT(b, "-");
    /* Negate in unsigned arithmetic: -INT64_MIN does not fit in int64_t. */
    put_u64(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

/* A 64-bit integer as a JSON string, as the mapping requires. */
static void put_u64_str(otelc_buf *b, uint64_t v)
{
    PUT(b, "\"");
    put_u64(b, v);
    PUT(b, "\"");
}

static void put_hex_str(otelc_buf *b, const uint8_t *id, size_t n)
{
    PUT(b, "\"");
    otelc__buf_hex(b, id, n);
    PUT(b, "\"");
}

static void put_str(otelc_buf *b, const char *s)
{
    otelc__buf_json_str(b, s, s ? strlen(s) : 0);
}

/* ,"key":"value" for a non-empty string; nothing otherwise. */
static void put_opt_str(otelc_buf *b, const char *member, const char *s)
{
    if (!s || !*s) return;
    otelc__buf_puts(b, member);
    put_str(b, s);
}

/* ,"key":n for a non-zero count; nothing otherwise. */
static void put_opt_u32(otelc_buf *b, const char *member, uint32_t v)
{
    if (!v) return;
    otelc__buf_puts(b, member);
    put_u64(b, v);
}

/* ---- Values ------------------------------------------------------------------------------- */

static void put_item(otelc_buf *b, otelc_value_type t, const void *items, size_t i)
{
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY:
        PUT(b, "{\"stringValue\":");
        put_str(b, ((const char *const *)items)[i]);
        break;
    case OTELC_VALUE_BOOL_ARRAY:
        otelc__buf_puts(b,
                        ((const bool *)items)[i] ? "{\"boolValue\":true" : "{\"boolValue\":false");
        break;
    case OTELC_VALUE_INT_ARRAY:
        PUT(b, "{\"intValue\":\"");
        put_i64(b, ((const int64_t *)items)[i]);
        PUT(b, "\"");
        break;
    default:
        PUT(b, "{\"doubleValue\":");
        otelc__buf_json_double(b, ((const double *)items)[i]);
        break;
    }
    PUT(b, "}");
}

static void put_other(otelc_buf *b, const otelc_value *v, unsigned level);

/* An AnyValue object; level counts the arrays and maps holding it. */
static OTELC_ALWAYS_INLINE void put_value(otelc_buf *b, const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_STRING:
        PUT(b, "{\"stringValue\":");
        otelc__buf_json_str(b, v->u.str.ptr, v->u.str.len);
        PUT(b, "}");
        return;
    case OTELC_VALUE_BOOL:
        otelc__buf_puts(b, v->u.b ? "{\"boolValue\":true}" : "{\"boolValue\":false}");
        return;
    case OTELC_VALUE_INT:
        PUT(b, "{\"intValue\":\"");
        put_i64(b, v->u.i);
        PUT(b, "\"}");
        return;
    case OTELC_VALUE_DOUBLE:
        PUT(b, "{\"doubleValue\":");
        otelc__buf_json_double(b, v->u.d);
        PUT(b, "}");
        return;
    default:
        put_other(b, v, level);
        return;
    }
}

/* A KeyValue object, after a comma unless first, for one held by level arrays and maps. */
static OTELC_ALWAYS_INLINE void put_kv(otelc_buf *b, bool first, const otelc_attr *a,
                                       unsigned level)
{
    static const char head[] = ",{\"key\":";
    otelc__buf_append(b, head + first, sizeof(head) - 1 - first);
    put_str(b, a->key);
    PUT(b, ",\"value\":");
    put_value(b, &a->value, level);
    PUT(b, "}");
}

/* An arrayValue of a homogeneous array. */
static void put_typed_array(otelc_buf *b, const otelc_value *v)
{
    PUT(b, "{\"arrayValue\":{\"values\":[");
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (i) PUT(b, ",");
        put_item(b, v->type, v->u.array.items, i);
    }
    PUT(b, "]}}");
}

/* An arrayValue of any values, or a kvlistValue. */
static void put_nested(otelc_buf *b, const otelc_value *v, unsigned level)
{
    bool map = v->type == OTELC_VALUE_MAP;
    otelc__buf_puts(b, map ? "{\"kvlistValue\":{\"values\":[" : "{\"arrayValue\":{\"values\":[");
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (map) {
            put_kv(b, i == 0, &((const otelc_attr *)v->u.array.items)[i], level + 1);
        } else {
            if (i) PUT(b, ",");
            put_value(b, &((const otelc_value *)v->u.array.items)[i], level + 1);
        }
    }
    PUT(b, "]}}");
}

/*
 * Any AnyValue but a scalar: arrays, maps, bytes (base64, as the protobuf
 * JSON mapping writes bytes). The empty value, and whatever cannot be
 * written (unknown types, nesting past the bound), is an AnyValue with no
 * member: {}.
 */
static void put_other(otelc_buf *b, const otelc_value *v, unsigned level)
{
    bool deep = level >= OTELC_MAX_VALUE_DEPTH;
    switch (v->type) {
    case OTELC_VALUE_STRING_ARRAY:
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        if (deep) break;
        put_typed_array(b, v);
        return;
    case OTELC_VALUE_BYTES:
        PUT(b, "{\"bytesValue\":\"");
        otelc__buf_base64(b, v->u.str.ptr, v->u.str.len);
        PUT(b, "\"}");
        return;
    case OTELC_VALUE_ARRAY:
    case OTELC_VALUE_MAP:
        if (deep) break;
        put_nested(b, v, level);
        return;
    default:
        break;
    }
    PUT(b, "{}");
}

/* "attributes":[...] when there are any, after a comma unless first. */
static void put_attrs_member(otelc_buf *b, bool first, const otelc_attr *attrs, size_t n)
{
    if (!n) return;
    otelc__buf_puts(b, first ? "\"attributes\":[" : ",\"attributes\":[");
    for (size_t i = 0; i < n; i++) put_kv(b, i == 0, &attrs[i], 0);
    PUT(b, "]");
}

static void put_attrs(otelc_buf *b, const otelc_attr *attrs, size_t n)
{
    put_attrs_member(b, false, attrs, n);
}

void otelc__otlp_json_kv(otelc_buf *b, const otelc_attr *a)
{
    put_kv(b, true, a, 0);
}

/* ---- Spans ----------------------------------------------------------------------------------- */

/* SpanFlags: W3C flags in bits 0-7, 0x100 "is_remote known", 0x200 "remote". */
static uint32_t span_flags(uint8_t trace_flags, bool is_remote)
{
    return trace_flags | 0x100u | (is_remote ? 0x200u : 0);
}

static void put_event(otelc_buf *b, const otelc_event_data *e)
{
    PUT(b, "{\"timeUnixNano\":");
    put_u64_str(b, e->time_ns);
    put_opt_str(b, ",\"name\":", e->name);
    put_attrs(b, e->attrs, e->attr_count);
    put_opt_u32(b, ",\"droppedAttributesCount\":", e->dropped_attr_count);
    PUT(b, "}");
}

static void put_link(otelc_buf *b, const otelc_link_data *l)
{
    PUT(b, "{\"traceId\":");
    put_hex_str(b, l->context.trace_id, 16);
    PUT(b, ",\"spanId\":");
    put_hex_str(b, l->context.span_id, 8);
    put_opt_str(b, ",\"traceState\":", l->context.trace_state);
    put_attrs(b, l->attrs, l->attr_count);
    put_opt_u32(b, ",\"droppedAttributesCount\":", l->dropped_attr_count);
    PUT(b, ",\"flags\":");
    put_u64(b, span_flags(l->context.trace_flags, l->context.is_remote));
    PUT(b, "}");
}

static void put_span_head(otelc_buf *b, const otelc_span_data *sd)
{
    PUT(b, "{\"traceId\":");
    put_hex_str(b, sd->context.trace_id, 16);
    PUT(b, ",\"spanId\":");
    put_hex_str(b, sd->context.span_id, 8);
    put_opt_str(b, ",\"traceState\":", sd->context.trace_state);
    if (sd->has_parent) {
        PUT(b, ",\"parentSpanId\":");
        put_hex_str(b, sd->parent_span_id, 8);
    }
    PUT(b, ",\"flags\":");
    put_u64(b, span_flags(sd->context.trace_flags, sd->parent_is_remote));
    PUT(b, ",\"name\":");
    put_str(b, sd->name);
    PUT(b, ",\"kind\":");
    put_u64(b, (uint64_t)sd->kind);
    PUT(b, ",\"startTimeUnixNano\":");
    put_u64_str(b, sd->start_ns);
    PUT(b, ",\"endTimeUnixNano\":");
    put_u64_str(b, sd->end_ns);
}

static void put_status(otelc_buf *b, const otelc_span_data *sd)
{
    bool msg = sd->status_message && *sd->status_message;
    if (sd->status == OTELC_STATUS_UNSET && !msg) return;
    PUT(b, ",\"status\":{");
    if (msg) {
        PUT(b, "\"message\":");
        put_str(b, sd->status_message);
    }
    if (sd->status != OTELC_STATUS_UNSET) {
        otelc__buf_puts(b, msg ? ",\"code\":" : "\"code\":");
        put_u64(b, (uint64_t)sd->status);
    }
    PUT(b, "}");
}

static void put_span(otelc_buf *b, const otelc_span_data *sd)
{
    put_span_head(b, sd);
    put_attrs(b, sd->attrs, sd->attr_count);
    put_opt_u32(b, ",\"droppedAttributesCount\":", sd->dropped_attr_count);
    if (sd->event_count) {
        PUT(b, ",\"events\":[");
        for (uint32_t i = 0; i < sd->event_count; i++) {
            if (i) PUT(b, ",");
            put_event(b, &sd->events[i]);
        }
        PUT(b, "]");
    }
    put_opt_u32(b, ",\"droppedEventsCount\":", sd->dropped_event_count);
    if (sd->link_count) {
        PUT(b, ",\"links\":[");
        for (uint32_t i = 0; i < sd->link_count; i++) {
            if (i) PUT(b, ",");
            put_link(b, &sd->links[i]);
        }
        PUT(b, "]");
    }
    put_opt_u32(b, ",\"droppedLinksCount\":", sd->dropped_link_count);
    put_status(b, sd);
    PUT(b, "}");
}

typedef const otelc_span_data *const *span_list;

/* ---- Grouping ------------------------------------------------------------------------------- */

static void put_scope_spans(otelc_buf *b, span_list spans, size_t n, size_t first)
{
    const otelc_scope_info *scope = spans[first]->scope;
    PUT(b, "{");
    if (scope) {
        PUT(b, "\"scope\":{\"name\":");
        put_str(b, scope->name);
        put_opt_str(b, ",\"version\":", scope->version);
        put_attrs(b, scope->attrs, scope->attr_count);
        put_opt_u32(b, ",\"droppedAttributesCount\":", scope->dropped_attr_count);
        PUT(b, "},");
    }
    PUT(b, "\"spans\":[");
    bool comma = false;
    for (size_t i = first; i < n; i++) {
        if (!otelc__otlp_same_group(spans[i], spans[first], true)) continue;
        if (comma) PUT(b, ",");
        put_span(b, spans[i]);
        comma = true;
    }
    PUT(b, "]");
    if (scope) put_opt_str(b, ",\"schemaUrl\":", scope->schema_url);
    PUT(b, "}");
}

static void put_resource_spans(otelc_buf *b, span_list spans, size_t n, size_t first)
{
    const otelc_resource *res = spans[first]->resource;
    PUT(b, "{");
    if (res) {
        size_t count = 0;
        const otelc_attr *attrs = otelc_resource_attrs(res, &count);
        PUT(b, "\"resource\":{");
        put_attrs_member(b, true, attrs, count);
        PUT(b, "},");
    }
    PUT(b, "\"scopeSpans\":[");
    bool comma = false;
    for (size_t i = first; i < n; i++) {
        if (spans[i]->resource != res || !otelc__otlp_starts_group(spans, first, i, true)) continue;
        if (comma) PUT(b, ",");
        put_scope_spans(b, spans, n, i);
        comma = true;
    }
    PUT(b, "]");
    put_opt_str(b, ",\"schemaUrl\":", otelc_resource_schema_url(res));
    PUT(b, "}");
}

int otelc__otlp_encode_json(otelc_buf *out, const otelc_span_data *const *spans, size_t n)
{
    bool comma = false;
    PUT(out, "{\"resourceSpans\":[");
    for (size_t i = 0; i < n; i++) {
        if (!otelc__otlp_starts_group(spans, 0, i, false)) continue;
        if (comma) PUT(out, ",");
        put_resource_spans(out, spans, n, i);
        comma = true;
    }
    PUT(out, "]}");
    return out->failed ? OTELC_ERR_NOMEM : OTELC_OK;
}

/* ---- Response ------------------------------------------------------------------------------- */

/* partialSuccess: rejectedSpans is an int64 (a string, or a number), errorMessage a string. */
static bool read_partial_success(const json_value *ps, otelc_otlp_response *out)
{
    if (!ps || ps->type != JSON_OBJECT) return true; /* absent, null: full success */
    const json_value *rejected = otelc__json_object_get(ps, "rejectedSpans");
    if (rejected && rejected->type != JSON_NULL &&
        !otelc__json_int64(rejected, &out->rejected_spans))
        return false;
    const json_value *msg = otelc__json_object_get(ps, "errorMessage");
    if (msg && msg->type == JSON_STRING)
        otelc__strlcpy(out->error_message, msg->u.string.ptr, sizeof out->error_message);
    return true;
}

int otelc__otlp_parse_response_json(const char *p, size_t n, otelc_otlp_response *out)
{
    static const json_options options = {.max_depth = 64, .lossy_utf8 = true};
    memset(out, 0, sizeof(*out));
    size_t blank = 0;
    while (blank < n && strchr(" \t\r\n", p[blank]) && p[blank]) blank++;
    if (blank == n) return OTELC_OK; /* an empty body is a full success */
    json_doc doc = JSON_DOC_INIT;
    const json_value *root = otelc__json_parse(&doc, p, n, &options, NULL);
    bool ok = root && root->type == JSON_OBJECT &&
              read_partial_success(otelc__json_object_get(root, "partialSuccess"), out);
    otelc__json_free(&doc);
    if (ok) return OTELC_OK;
    memset(out, 0, sizeof(*out));
    return OTELC_ERR_PARSE;
}
