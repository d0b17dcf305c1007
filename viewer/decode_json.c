/*
 * decode_json.c - OTLP/JSON ExportTraceServiceRequest into a vw_batch (see
 * decode_json.h), straight from the tokens of the project's JSON reader
 * (src/json.h, otelc__json_next()): no document is built. A request of
 * ~1 KB of JSON per span cost about 36,000 instructions per span when it
 * was parsed into a tree first and then walked (docs/performance.md).
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
 *   as NULL. A member given twice: the last one wins, except the lists of
 *   spans (resourceSpans, scopeSpans, spans), whose spans are all kept.
 *   Attributes are kept as sent (in order, duplicate and empty keys
 *   included), but a resource's go through vw_batch_add_resource_counted(),
 *   which counts what a resource cannot hold in its droppedAttributesCount.
 * - Members come in any order: a span's ids are checked at its end, a
 *   ScopeSpans' scope is filled in when it comes, and a ResourceSpans'
 *   resource is made at its end and given to the spans it kept.
 * - When the request is refused, the rest of the text is still read: a
 *   text that is not JSON, or passes the reader's limits, answers as such
 *   whatever came before (as when the whole text was parsed first).
 *
 * Spans of one ResourceSpans share one resource, spans of one ScopeSpans
 * one otelc_scope_info; a ResourceSpans without a kept span makes no
 * resource.
 *
 * Lists arrive without their length: their items wait on a stack of the
 * decoder (one per item type, innermost list last) and move into the
 * batch's arena, exactly sized, at the list's end.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"
#include "json.h"

/* The reader's depth: the request's own nesting, and VW_MAX_VALUE_DEPTH maps of 4 levels each. */
#define JSON_MAX_DEPTH (16 + 4 * VW_MAX_VALUE_DEPTH)
/* A request larger than this is refused before parsing (the receiver's own limit is lower). */
#define JSON_MAX_SIZE ((size_t)256 << 20)

/* Items of the lists being read. */
typedef struct stack {
    void *items;
    size_t len, cap; /* in items */
} stack;

typedef struct decoder {
    vw_batch *b;
    json_reader r;
    json_token t;            /* the token being decoded */
    vw_decode_status status; /* VW_DECODE_OK until the first failure */
    size_t spans_seen;       /* valid or not */
    size_t rs, ss, sp;       /* where we are, for reject reasons */
    stack attrs, values, events, links;
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

static bool invalid(decoder *d)
{
    return fail(d, VW_DECODE_INVALID);
}

/* ---- Tokens ------------------------------------------------------------------------------ */

/* What a reader's failure means for the request. */
static vw_decode_status reader_status(const json_reader *r)
{
    return r->error.kind == JSON_ERR_LIMIT   ? VW_DECODE_TOO_BIG
           : r->error.kind == JSON_ERR_NOMEM ? VW_DECODE_NOMEM
                                             : VW_DECODE_INVALID;
}

/* The next token into d->t; false when the text fails. */
static bool advance(decoder *d)
{
    if (otelc__json_next(&d->r, &d->t) != JSON_TOKEN_ERROR) return true;
    return fail(d, reader_status(&d->r));
}

/* Past the value d->t starts (an unknown member's). */
static bool skip(decoder *d)
{
    return otelc__json_skip(&d->r, &d->t) || fail(d, reader_status(&d->r));
}

/* A known member's name, for key_index(). */
typedef struct key_name {
    const char *name;
    size_t len;
} key_name;

#define KEY(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The index of the key token d->t among keys[0..n), or -1: its length and first byte decide most.
 */
static int key_index(const decoder *d, const key_name *keys, size_t n)
{
    const char *s = d->t.str;
    size_t len = d->t.len;
    for (size_t i = 0; i < n; i++)
        if (keys[i].len == len && keys[i].name[0] == s[0] && memcmp(keys[i].name, s, len) == 0)
            return (int)i;
    return -1;
}

/*
 * In an object: 1 with *which the member's index among keys (-1 when
 * unknown) and d->t at its value's first token; 0 past the object's end;
 * -1 on failure.
 */
static int member(decoder *d, const key_name *keys, size_t n, int *which)
{
    if (!advance(d)) return -1;
    if (d->t.type == JSON_TOKEN_OBJECT_END) return 0;
    *which = key_index(d, keys, n); /* before the value's token replaces the key's */
    return advance(d) ? 1 : -1;
}

/* In an array: 1 with d->t at the next item's first token, 0 past the end, -1 on failure. */
static int item(decoder *d)
{
    if (!advance(d)) return -1;
    return d->t.type != JSON_TOKEN_ARRAY_END;
}

/* An object field: true with *present unless null; false (invalid) for another type. */
static bool begin_object(decoder *d, bool *present)
{
    *present = d->t.type == JSON_TOKEN_OBJECT_BEGIN;
    return *present || d->t.type == JSON_TOKEN_NULL || invalid(d);
}

/* A list field: as begin_object() for an array. */
static bool begin_list(decoder *d, bool *present)
{
    *present = d->t.type == JSON_TOKEN_ARRAY_BEGIN;
    return *present || d->t.type == JSON_TOKEN_NULL || invalid(d);
}

/* ---- Lists ------------------------------------------------------------------------------- */

/* A slot for one more item of elem bytes on s, or NULL when out of memory. */
static void *push(decoder *d, stack *s, size_t elem)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *grown = cap < SIZE_MAX / elem ? realloc(s->items, cap * elem) : NULL;
        if (!grown) return nomem(d), NULL;
        s->items = grown;
        s->cap = cap;
    }
    return (char *)s->items + s->len++ * elem;
}

/*
 * The items of s from base on, moved into the batch (*out, NULL when
 * none) and off the stack; *n their count. False when out of memory or
 * past a uint32_t count.
 */
static bool pop_list(decoder *d, stack *s, size_t base, size_t elem, void *out, uint32_t *n)
{
    size_t count = s->len - base;
    void *list = NULL;
    s->len = base;
    if (count > UINT32_MAX) return fail(d, VW_DECODE_TOO_BIG);
    if (count) {
        if (!(list = vw_batch_alloc(d->b, count * elem))) return nomem(d);
        memcpy(list, (char *)s->items + base * elem, count * elem);
    }
    memcpy(out, &list, sizeof list);
    *n = (uint32_t)count;
    return true;
}

static void free_stacks(decoder *d)
{
    free(d->attrs.items);
    free(d->values.items);
    free(d->events.items);
    free(d->links.items);
}

/* ---- Scalars ------------------------------------------------------------------------- */

static bool is_string(const decoder *d, const char *lit, size_t n)
{
    return d->t.len == n && memcmp(d->t.str, lit, n) == 0;
}

#define IS_STRING(d, lit) is_string((d), (lit), sizeof(lit) - 1)

/* A string field: *s, *n (null: NULL, 0). False (invalid) for another type. */
static bool read_str(decoder *d, const char **s, size_t *n)
{
    *s = NULL, *n = 0;
    if (d->t.type == JSON_TOKEN_NULL) return true;
    if (d->t.type != JSON_TOKEN_STRING) return invalid(d);
    *s = d->t.str, *n = d->t.len;
    return true;
}

/* A string field copied into the batch; null is def (NULL or ""). */
static bool copy_str(decoder *d, const char *def, const char **out)
{
    const char *s;
    size_t n;
    if (!read_str(d, &s, &n)) return false;
    if (!s) return *out = def, true;
    return (*out = vw_batch_str_valid(d->b, s, n)) != NULL || nomem(d);
}

static bool read_u64(decoder *d, uint64_t *out)
{
    *out = 0;
    if (d->t.type == JSON_TOKEN_NUMBER)
        return otelc__json_number_uint64(&d->t.number, out) || invalid(d);
    if (d->t.type == JSON_TOKEN_STRING)
        return otelc__json_decimal_uint64(d->t.str, d->t.len, out) || invalid(d);
    return d->t.type == JSON_TOKEN_NULL || invalid(d);
}

static bool read_u32(decoder *d, uint32_t *out)
{
    uint64_t u;
    if (!read_u64(d, &u)) return false;
    if (u > UINT32_MAX) return invalid(d);
    *out = (uint32_t)u;
    return true;
}

/* An int64 (not null): a number or a decimal string. */
static bool read_i64(decoder *d, int64_t *out)
{
    if (d->t.type == JSON_TOKEN_NUMBER)
        return otelc__json_number_int64(&d->t.number, out) || invalid(d);
    if (d->t.type == JSON_TOKEN_STRING)
        return otelc__json_decimal_int64(d->t.str, d->t.len, out) || invalid(d);
    return invalid(d);
}

/* An enum: its number, or one of names[0..count) (the protobuf mapping's names). */
static bool read_enum(decoder *d, const char *const *names, size_t count, int64_t *out)
{
    *out = 0;
    if (d->t.type == JSON_TOKEN_NULL) return true;
    if (d->t.type == JSON_TOKEN_STRING) {
        for (size_t i = 0; i < count; i++)
            if (is_string(d, names[i], strlen(names[i]))) return *out = (int64_t)i, true;
        return true; /* a name this receiver does not know: the default */
    }
    return read_i64(d, out);
}

/* A numeric string: exactly one JSON number (no spaces, hex or "inf"). */
static bool parse_number_string(const char *s, size_t len, double *out)
{
    if (len == 0 || s[len - 1] < '0' || s[len - 1] > '9' ||
        (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
        return false;
    json_reader r;
    json_token t;
    otelc__json_reader_init(&r, s, len, NULL);
    bool ok = otelc__json_next(&r, &t) == JSON_TOKEN_NUMBER;
    double x = t.number.d;
    ok = ok && otelc__json_next(&r, &t) == JSON_TOKEN_END;
    otelc__json_reader_free(&r);
    if (ok) *out = x;
    return ok;
}

/* doubleValue: a number, or a string holding one or NaN / Infinity / -Infinity. */
static bool read_double(decoder *d, double *out)
{
    if (d->t.type == JSON_TOKEN_NUMBER) return *out = d->t.number.d, true;
    if (d->t.type != JSON_TOKEN_STRING) return invalid(d);
    if (IS_STRING(d, "NaN")) return *out = NAN, true;
    if (IS_STRING(d, "Infinity")) return *out = INFINITY, true;
    if (IS_STRING(d, "-Infinity")) return *out = -INFINITY, true;
    return parse_number_string(d->t.str, d->t.len, out) || invalid(d);
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
    if ((pad && (n + pad) % 4) || n % 4 == 1) return invalid(d);
    uint8_t *bytes = vw_batch_alloc(d->b, n / 4 * 3 + 2), *o = bytes;
    if (!bytes) return nomem(d);
    uint32_t acc = 0;
    size_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_digit((unsigned char)s[i]);
        if (v < 0) return invalid(d);
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

static bool decode_attrs(decoder *d, const otelc_attr **out, uint32_t *count, int depth);
static bool decode_any(decoder *d, otelc_value *out, int depth);

/* A list of AnyValue: *out in the batch, *n of them. */
static bool decode_values(decoder *d, otelc_value **out, uint32_t *n, int depth)
{
    bool present;
    int more;
    *out = NULL, *n = 0;
    if (!begin_list(d, &present)) return false;
    if (!present) return true;
    size_t base = d->values.len;
    while ((more = item(d)) > 0) {
        otelc_value v, *slot;
        if (!decode_any(d, &v, depth) || !(slot = push(d, &d->values, sizeof v))) return false;
        *slot = v;
    }
    return more == 0 && pop_list(d, &d->values, base, sizeof **out, out, n);
}

static const key_name values_key[] = {KEY("values")};

/* ArrayValue { values: [AnyValue] } at nesting depth. */
static bool decode_array(decoder *d, otelc_value *out, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) return fail(d, VW_DECODE_TOO_BIG);
    bool present;
    int more, k;
    otelc_value *values = NULL;
    uint32_t n = 0;
    if (!begin_object(d, &present)) return false;
    while (present && (more = member(d, values_key, 1, &k)) != 0) {
        if (more < 0 || !(k == 0 ? decode_values(d, &values, &n, depth) : skip(d))) return false;
    }
    *out = (otelc_value){.type = OTELC_VALUE_ARRAY, .u.array = {values, n}};
    return vw_batch_narrow_array(d->b, out) || nomem(d);
}

/* KeyValueList { values: [KeyValue] } at nesting depth. */
static bool decode_kvlist(decoder *d, otelc_value *out, int depth)
{
    if (depth > VW_MAX_VALUE_DEPTH) return fail(d, VW_DECODE_TOO_BIG);
    bool present;
    int more, k;
    const otelc_attr *attrs = NULL;
    uint32_t n = 0;
    if (!begin_object(d, &present)) return false;
    while (present && (more = member(d, values_key, 1, &k)) != 0) {
        if (more < 0 || !(k == 0 ? decode_attrs(d, &attrs, &n, depth) : skip(d))) return false;
    }
    *out = (otelc_value){.type = OTELC_VALUE_MAP, .u.array = {attrs, n}};
    return true;
}

enum { ANY_STRING, ANY_BOOL, ANY_INT, ANY_DOUBLE, ANY_BYTES, ANY_ARRAY, ANY_KVLIST };
static const key_name any_keys[] = {
    [ANY_STRING] = KEY("stringValue"), [ANY_BOOL] = KEY("boolValue"),
    [ANY_INT] = KEY("intValue"),       [ANY_DOUBLE] = KEY("doubleValue"),
    [ANY_BYTES] = KEY("bytesValue"),   [ANY_ARRAY] = KEY("arrayValue"),
    [ANY_KVLIST] = KEY("kvlistValue"),
};

/* One member of an AnyValue (index k of any_keys) into *out; unknown members leave it alone. */
static bool any_member(decoder *d, int k, otelc_value *out, int depth)
{
    const json_token *t = &d->t;
    if (t->type == JSON_TOKEN_NULL) return true; /* a null member sets nothing */
    switch (k) {
    case ANY_STRING: {
        if (t->type != JSON_TOKEN_STRING) return invalid(d);
        const char *s = vw_batch_str_valid(d->b, t->str, t->len);
        if (!s) return nomem(d);
        *out = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {s, t->len}};
        return true;
    }
    case ANY_BOOL:
        if (t->type != JSON_TOKEN_BOOL) return invalid(d);
        *out = (otelc_value){.type = OTELC_VALUE_BOOL, .u.b = t->boolean};
        return true;
    case ANY_INT: {
        int64_t i;
        if (!read_i64(d, &i)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_INT, .u.i = i};
        return true;
    }
    case ANY_DOUBLE: {
        double x;
        if (!read_double(d, &x)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_DOUBLE, .u.d = x};
        return true;
    }
    case ANY_BYTES: {
        const uint8_t *bytes;
        size_t n;
        if (t->type != JSON_TOKEN_STRING) return invalid(d);
        if (!read_base64(d, t->str, t->len, &bytes, &n)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_BYTES, .u.str = {(const char *)bytes, n}};
        return true;
    }
    case ANY_ARRAY:
        return decode_array(d, out, depth + 1);
    case ANY_KVLIST:
        return decode_kvlist(d, out, depth + 1);
    default:
        return skip(d);
    }
}

/* An AnyValue object; {} (or null) is the empty value. */
static bool decode_any(decoder *d, otelc_value *out, int depth)
{
    bool present;
    int more, k;
    *out = (otelc_value){.type = OTELC_VALUE_EMPTY};
    if (!begin_object(d, &present)) return false;
    while (present && (more = member(d, any_keys, COUNT(any_keys), &k)) != 0)
        if (more < 0 || !any_member(d, k, out, depth)) return false;
    return true;
}

static const key_name kv_keys[] = {KEY("key"), KEY("value")};

/* A KeyValue object into *kv. */
static bool decode_kv(decoder *d, otelc_attr *kv, int depth)
{
    int more, k;
    *kv = (otelc_attr){.key = "", .value.type = OTELC_VALUE_EMPTY};
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, kv_keys, COUNT(kv_keys), &k)) != 0) {
        bool ok = more > 0 && (k == 0   ? copy_str(d, "", &kv->key)
                               : k == 1 ? decode_any(d, &kv->value, depth)
                                        : skip(d));
        if (!ok) return false;
    }
    return true;
}

/* A list of KeyValue: attributes of spans, events, links, scopes, resources and maps. */
static bool decode_attrs(decoder *d, const otelc_attr **out, uint32_t *count, int depth)
{
    bool present;
    int more;
    *out = NULL, *count = 0;
    if (!begin_list(d, &present)) return false;
    if (!present) return true;
    size_t base = d->attrs.len;
    while ((more = item(d)) > 0) {
        otelc_attr kv, *slot;
        if (!decode_kv(d, &kv, depth) || !(slot = push(d, &d->attrs, sizeof kv))) return false;
        *slot = kv;
    }
    return more == 0 && pop_list(d, &d->attrs, base, sizeof **out, out, count);
}

/* ---- Spans -------------------------------------------------------------------------------- */

/*
 * An id field into out (size bytes; zeros unless decoded): *why NULL when
 * it is one, else why not. False (invalid) when it is no string.
 */
static bool read_id(decoder *d, uint8_t *out, size_t size, const char **why)
{
    const char *s;
    size_t n;
    memset(out, 0, size);
    if (!read_str(d, &s, &n)) return false;
    if (!s || n == 0)
        *why = "missing";
    else if (n != 2 * size)
        *why = "of the wrong length";
    else
        *why = vw_hex_decode(s, n, out) ? NULL : "not hex";
    return true;
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

static const key_name status_keys[] = {KEY("code"), KEY("message")};

static bool decode_status(decoder *d, otelc_span_data *sd)
{
    bool present;
    int more, k;
    int64_t code = 0;
    const char *message = NULL;
    if (!begin_object(d, &present)) return false;
    while (present && (more = member(d, status_keys, COUNT(status_keys), &k)) != 0) {
        bool ok = more > 0 && (k == 0   ? read_enum(d, status_names, 3, &code)
                               : k == 1 ? copy_str(d, NULL, &message)
                                        : skip(d));
        if (!ok) return false;
    }
    sd->status = code >= 0 && code <= 2 ? (otelc_status_code)code : OTELC_STATUS_UNSET;
    sd->status_message = message;
    return true;
}

enum { EV_TIME, EV_NAME, EV_ATTRS, EV_DROPPED };
static const key_name event_keys[] = {
    [EV_TIME] = KEY("timeUnixNano"),
    [EV_NAME] = KEY("name"),
    [EV_ATTRS] = KEY("attributes"),
    [EV_DROPPED] = KEY("droppedAttributesCount"),
};

static bool decode_event(decoder *d, otelc_event_data *e)
{
    int more, k;
    *e = (otelc_event_data){.name = ""};
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, event_keys, COUNT(event_keys), &k)) != 0) {
        bool ok = more > 0;
        if (ok) switch (k) {
            case EV_TIME:
                ok = read_u64(d, &e->time_ns);
                break;
            case EV_NAME:
                ok = copy_str(d, "", &e->name);
                break;
            case EV_ATTRS:
                ok = decode_attrs(d, &e->attrs, &e->attr_count, 0);
                break;
            case EV_DROPPED:
                ok = read_u32(d, &e->dropped_attr_count);
                break;
            default:
                ok = skip(d);
            }
        if (!ok) return false;
    }
    return true;
}

enum { LINK_TRACE_ID, LINK_SPAN_ID, LINK_STATE, LINK_ATTRS, LINK_DROPPED, LINK_FLAGS };
static const key_name link_keys[] = {
    [LINK_TRACE_ID] = KEY("traceId"),
    [LINK_SPAN_ID] = KEY("spanId"),
    [LINK_STATE] = KEY("traceState"),
    [LINK_ATTRS] = KEY("attributes"),
    [LINK_DROPPED] = KEY("droppedAttributesCount"),
    [LINK_FLAGS] = KEY("flags"),
};

/* A link; *keep false when its ids cannot be held (it is then dropped and counted). */
static bool decode_link(decoder *d, otelc_link_data *l, bool *keep)
{
    int more, k;
    uint32_t flags = 0;
    const char *trace_why = "missing", *span_why = "missing";
    *l = (otelc_link_data){0};
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, link_keys, COUNT(link_keys), &k)) != 0) {
        bool ok = more > 0;
        if (ok) switch (k) {
            case LINK_TRACE_ID:
                ok = read_id(d, l->context.trace_id, 16, &trace_why);
                break;
            case LINK_SPAN_ID:
                ok = read_id(d, l->context.span_id, 8, &span_why);
                break;
            case LINK_STATE:
                ok = copy_str(d, NULL, &l->context.trace_state);
                break;
            case LINK_ATTRS:
                ok = decode_attrs(d, &l->attrs, &l->attr_count, 0);
                break;
            case LINK_DROPPED:
                ok = read_u32(d, &l->dropped_attr_count);
                break;
            case LINK_FLAGS:
                ok = read_u32(d, &flags);
                break;
            default:
                ok = skip(d);
            }
        if (!ok) return false;
    }
    apply_flags(flags, &l->context.trace_flags, &l->context.is_remote);
    /* Empty ids are kept: a link to an invalid context may carry attributes. */
    *keep = (!trace_why || strcmp(trace_why, "missing") == 0) &&
            (!span_why || strcmp(span_why, "missing") == 0);
    return true;
}

static bool decode_events(decoder *d, otelc_span_data *sd)
{
    bool present;
    int more;
    sd->events = NULL, sd->event_count = 0;
    if (!begin_list(d, &present)) return false;
    if (!present) return true;
    size_t base = d->events.len;
    while ((more = item(d)) > 0) {
        otelc_event_data e, *slot;
        if (!decode_event(d, &e) || !(slot = push(d, &d->events, sizeof e))) return false;
        *slot = e;
    }
    return more == 0 &&
           pop_list(d, &d->events, base, sizeof *sd->events, &sd->events, &sd->event_count);
}

/* Links; *bad counts those left out for ids that cannot be held. */
static bool decode_links(decoder *d, otelc_span_data *sd, uint32_t *bad)
{
    bool present;
    int more;
    sd->links = NULL, sd->link_count = 0, *bad = 0;
    if (!begin_list(d, &present)) return false;
    if (!present) return true;
    size_t base = d->links.len;
    while ((more = item(d)) > 0) {
        otelc_link_data l, *slot;
        bool keep;
        if (!decode_link(d, &l, &keep)) return false;
        if (!keep) {
            ++*bad; /* saturation is not worth a branch here */
            continue;
        }
        if (!(slot = push(d, &d->links, sizeof l))) return false;
        *slot = l;
    }
    return more == 0 &&
           pop_list(d, &d->links, base, sizeof *sd->links, &sd->links, &sd->link_count);
}

/* The members of a Span read at its end: ids, flags and the link count. */
typedef struct span_ends {
    const char *trace_why, *span_why, *parent_why; /* as read_id() says */
    uint32_t flags, dropped_links, bad_links;
} span_ends;

enum {
    SPAN_TRACE_ID,
    SPAN_SPAN_ID,
    SPAN_PARENT_ID,
    SPAN_FLAGS,
    SPAN_LINKS,
    SPAN_DROPPED_LINKS,
    SPAN_STATE,
    SPAN_NAME,
    SPAN_KIND,
    SPAN_START,
    SPAN_END,
    SPAN_ATTRS,
    SPAN_DROPPED_ATTRS,
    SPAN_EVENTS,
    SPAN_DROPPED_EVENTS,
    SPAN_STATUS,
};
static const key_name span_keys[] = {
    [SPAN_TRACE_ID] = KEY("traceId"),
    [SPAN_SPAN_ID] = KEY("spanId"),
    [SPAN_PARENT_ID] = KEY("parentSpanId"),
    [SPAN_FLAGS] = KEY("flags"),
    [SPAN_LINKS] = KEY("links"),
    [SPAN_DROPPED_LINKS] = KEY("droppedLinksCount"),
    [SPAN_STATE] = KEY("traceState"),
    [SPAN_NAME] = KEY("name"),
    [SPAN_KIND] = KEY("kind"),
    [SPAN_START] = KEY("startTimeUnixNano"),
    [SPAN_END] = KEY("endTimeUnixNano"),
    [SPAN_ATTRS] = KEY("attributes"),
    [SPAN_DROPPED_ATTRS] = KEY("droppedAttributesCount"),
    [SPAN_EVENTS] = KEY("events"),
    [SPAN_DROPPED_EVENTS] = KEY("droppedEventsCount"),
    [SPAN_STATUS] = KEY("status"),
};

/* The member k of a Span into sd (or e, for those read at the end). */
static bool span_member(decoder *d, int k, otelc_span_data *sd, span_ends *e)
{
    int64_t kind;
    switch (k) {
    case SPAN_TRACE_ID:
        return read_id(d, sd->context.trace_id, 16, &e->trace_why);
    case SPAN_SPAN_ID:
        return read_id(d, sd->context.span_id, 8, &e->span_why);
    case SPAN_PARENT_ID:
        return read_id(d, sd->parent_span_id, 8, &e->parent_why);
    case SPAN_FLAGS:
        return read_u32(d, &e->flags);
    case SPAN_LINKS:
        return decode_links(d, sd, &e->bad_links);
    case SPAN_DROPPED_LINKS:
        return read_u32(d, &e->dropped_links);
    case SPAN_STATE:
        return copy_str(d, NULL, &sd->context.trace_state);
    case SPAN_NAME:
        return copy_str(d, "", &sd->name);
    case SPAN_KIND:
        if (!read_enum(d, kind_names, 6, &kind)) return false;
        sd->kind = (otelc_span_kind)(kind >= 0 && kind <= 5 ? kind : 0);
        return true;
    case SPAN_START:
        return read_u64(d, &sd->start_ns);
    case SPAN_END:
        return read_u64(d, &sd->end_ns);
    case SPAN_ATTRS:
        return decode_attrs(d, &sd->attrs, &sd->attr_count, 0);
    case SPAN_DROPPED_ATTRS:
        return read_u32(d, &sd->dropped_attr_count);
    case SPAN_EVENTS:
        return decode_events(d, sd);
    case SPAN_DROPPED_EVENTS:
        return read_u32(d, &sd->dropped_event_count);
    case SPAN_STATUS:
        return decode_status(d, sd);
    default:
        return skip(d);
    }
}

/*
 * The span's ids, parent and flags, once all its members are read: *field
 * names the id and *why says what is wrong with it when the span must be
 * left out (*why NULL when it is kept).
 */
static void span_context(const span_ends *e, otelc_span_data *sd, const char **field,
                         const char **why)
{
    bool remote;
    const char *trace = e->trace_why, *span = e->span_why, *parent = e->parent_why;
    if (!trace && otelc__is_zero(sd->context.trace_id, 16)) trace = "all zeros";
    if (!span && otelc__is_zero(sd->context.span_id, 8)) span = "all zeros";
    if (parent && strcmp(parent, "missing") == 0) parent = NULL; /* empty: a root span */
    sd->has_parent = !parent && !otelc__is_zero(sd->parent_span_id, 8);
    apply_flags(e->flags, &sd->context.trace_flags, &remote);
    sd->parent_is_remote = sd->has_parent && remote;
    sd->dropped_link_count = e->dropped_links + e->bad_links;
    *field = trace ? "traceId" : span ? "spanId" : "parentSpanId";
    *why = trace ? trace : span ? span : parent;
}

static bool decode_span(decoder *d, const otelc_scope_info *scope)
{
    if (++d->spans_seen > VW_MAX_SPANS_PER_REQUEST) return fail(d, VW_DECODE_TOO_BIG);
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    otelc_span_data *sd = vw_batch_add_span(d->b);
    if (!sd) return nomem(d);
    span_ends e = {.trace_why = "missing", .span_why = "missing", .parent_why = "missing"};
    int more, k;
    while ((more = member(d, span_keys, COUNT(span_keys), &k)) != 0)
        if (more < 0 || !span_member(d, k, sd, &e)) return false;
    const char *field, *why;
    span_context(&e, sd, &field, &why);
    if (why) {
        vw_batch_drop_last(d->b);
        vw_batch_reject(d->b, "resourceSpans[%zu].scopeSpans[%zu].spans[%zu]: %s is %s", d->rs,
                        d->ss, d->sp, field, why);
        return true;
    }
    if (!sd->name) sd->name = "";
    sd->scope = scope;
    return true;
}

static bool decode_spans(decoder *d, const otelc_scope_info *scope)
{
    bool present;
    int more;
    if (!begin_list(d, &present)) return false;
    for (d->sp = 0; present && (more = item(d)) != 0; d->sp++)
        if (more < 0 || !decode_span(d, scope)) return false;
    return true;
}

enum { SCOPE_NAME, SCOPE_VERSION, SCOPE_ATTRS, SCOPE_DROPPED };
static const key_name scope_keys[] = {
    [SCOPE_NAME] = KEY("name"),
    [SCOPE_VERSION] = KEY("version"),
    [SCOPE_ATTRS] = KEY("attributes"),
    [SCOPE_DROPPED] = KEY("droppedAttributesCount"),
};

/* InstrumentationScope into si. */
static bool decode_scope(decoder *d, otelc_scope_info *si)
{
    bool present;
    int more, k;
    const char *schema_url = si->schema_url;
    *si = (otelc_scope_info){.name = "", .schema_url = schema_url};
    if (!begin_object(d, &present)) return false;
    while (present && (more = member(d, scope_keys, COUNT(scope_keys), &k)) != 0) {
        bool ok = more > 0;
        if (ok) switch (k) {
            case SCOPE_NAME:
                ok = copy_str(d, "", &si->name);
                break;
            case SCOPE_VERSION:
                ok = copy_str(d, NULL, &si->version);
                break;
            case SCOPE_ATTRS:
                ok = decode_attrs(d, &si->attrs, &si->attr_count, 0);
                break;
            case SCOPE_DROPPED:
                ok = read_u32(d, &si->dropped_attr_count);
                break;
            default:
                ok = skip(d);
            }
        if (!ok) return false;
    }
    return true;
}

static const key_name scope_spans_keys[] = {KEY("scope"), KEY("spans"), KEY("schemaUrl")};

/* A ScopeSpans: its spans point at one scope, filled in whenever its members come. */
static bool decode_scope_spans(decoder *d)
{
    int more, k;
    otelc_scope_info *si = vw_batch_alloc(d->b, sizeof *si);
    if (!si) return nomem(d);
    *si = (otelc_scope_info){.name = ""};
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, scope_spans_keys, COUNT(scope_spans_keys), &k)) != 0) {
        bool ok = more > 0 && (k == 0   ? decode_scope(d, si)
                               : k == 1 ? decode_spans(d, si)
                               : k == 2 ? copy_str(d, NULL, &si->schema_url)
                                        : skip(d));
        if (!ok) return false;
    }
    return true;
}

/* One ResourceSpans' resource, made at its end for the spans it kept. */
typedef struct group {
    const otelc_attr *attrs;
    uint32_t attr_count;
    uint32_t dropped_attr_count;
    const char *schema_url;
    size_t first_span; /* the batch's count when the ResourceSpans began */
} group;

static const key_name resource_keys[] = {KEY("attributes"), KEY("droppedAttributesCount")};

static bool decode_resource(decoder *d, group *g)
{
    bool present;
    int more, k;
    g->attrs = NULL, g->attr_count = g->dropped_attr_count = 0;
    if (!begin_object(d, &present)) return false;
    while (present && (more = member(d, resource_keys, COUNT(resource_keys), &k)) != 0) {
        bool ok = more > 0 && (k == 0   ? decode_attrs(d, &g->attrs, &g->attr_count, 0)
                               : k == 1 ? read_u32(d, &g->dropped_attr_count)
                                        : skip(d));
        if (!ok) return false;
    }
    return true;
}

static bool decode_scope_spans_list(decoder *d)
{
    bool present;
    int more;
    if (!begin_list(d, &present)) return false;
    for (d->ss = 0; present && (more = item(d)) != 0; d->ss++)
        if (more < 0 || !decode_scope_spans(d)) return false;
    return true;
}

static const key_name resource_spans_keys[] = {KEY("resource"), KEY("scopeSpans"),
                                               KEY("schemaUrl")};

static bool decode_resource_spans(decoder *d)
{
    int more, k;
    group g = {.first_span = d->b->count};
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, resource_spans_keys, COUNT(resource_spans_keys), &k)) != 0) {
        bool ok = more > 0 && (k == 0   ? decode_resource(d, &g)
                               : k == 1 ? decode_scope_spans_list(d)
                               : k == 2 ? copy_str(d, NULL, &g.schema_url)
                                        : skip(d));
        if (!ok) return false;
    }
    if (d->b->count == g.first_span) return true; /* no span kept: no resource */
    otelc_resource *res = vw_batch_add_resource_counted(d->b, g.attrs, g.attr_count, g.schema_url,
                                                        g.dropped_attr_count);
    if (!res) return nomem(d);
    for (size_t i = g.first_span; i < d->b->count; i++) d->b->spans[i].resource = res;
    return true;
}

static bool decode_resource_spans_list(decoder *d)
{
    bool present;
    int more;
    if (!begin_list(d, &present)) return false;
    for (d->rs = 0; present && (more = item(d)) != 0; d->rs++)
        if (more < 0 || !decode_resource_spans(d)) return false;
    return true;
}

static const key_name request_keys[] = {KEY("resourceSpans")};

/* An ExportTraceServiceRequest object at d->t. */
static bool decode_request(decoder *d)
{
    int more, k;
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, request_keys, 1, &k)) != 0)
        if (more < 0 || !(k == 0 ? decode_resource_spans_list(d) : skip(d))) return false;
    return true;
}

/* The request as the value of the root object's member named name. */
static bool decode_request_in(decoder *d, const char *name)
{
    const key_name key[] = {{name, strlen(name)}};
    bool found = false;
    int more, k;
    if (d->t.type != JSON_TOKEN_OBJECT_BEGIN) return invalid(d);
    while ((more = member(d, key, 1, &k)) != 0) {
        if (more < 0 || !(k == 0 ? decode_request(d) : skip(d))) return false;
        found |= k == 0;
    }
    return found || invalid(d);
}

/*
 * Decode the text: the request itself (member NULL) or the value of a
 * member of the root object, then the end of the text.
 */
static vw_decode_status decode_text(const char *buf, size_t len, const char *member_name,
                                    vw_batch *out)
{
    /* A request inside a member is one level deeper. */
    const json_options options = {.max_depth = JSON_MAX_DEPTH + (member_name != NULL),
                                  .max_size = JSON_MAX_SIZE,
                                  .lossy_utf8 = true};
    decoder d = {.b = out};
    otelc__json_reader_init(&d.r, buf, len, &options);
    if (advance(&d) && (member_name ? decode_request_in(&d, member_name) : decode_request(&d)))
        advance(&d); /* the end of the text, or a failure when more follows */
    if (d.status != VW_DECODE_OK && !d.r.failed) {
        /* The text's own failure comes first, as when the whole text was parsed first. */
        while (otelc__json_next(&d.r, &d.t) > JSON_TOKEN_END) continue;
        if (d.t.type == JSON_TOKEN_ERROR) d.status = reader_status(&d.r);
    }
    otelc__json_reader_free(&d.r);
    free_stacks(&d);
    return d.status;
}

vw_decode_status vw_decode_otlp_json(const char *buf, size_t len, vw_batch *out)
{
    return decode_text(buf, len, NULL, out);
}

vw_decode_status vw_decode_otlp_json_in(const char *buf, size_t len, const char *member_name,
                                        vw_batch *out)
{
    return decode_text(buf, len, member_name, out);
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
