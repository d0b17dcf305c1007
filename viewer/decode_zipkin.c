/*
 * decode_zipkin.c - Zipkin v2 JSON spans into a vw_batch (decode_zipkin.h),
 * on the project's JSON reader (src/json.h).
 *
 * Mapped as the OpenTelemetry Collector's zipkin receiver maps them
 * (pkg/translator/zipkin/zipkinv2, to_translator.go), with the departures
 * marked (*):
 *
 *   traceId        16 or 32 hex digits, either case; 16 are a 64-bit id,
 *                  left-padded with zeros to 128 bits
 *   id, parentId   16 hex digits; a parentId equal to the id, empty or all
 *                  zeros is no parent. A span whose ids are missing, of
 *                  the wrong length, not hex or all zeros is left out and
 *                  counted (the partial success) (*: the Collector refuses
 *                  the whole request)
 *   name           the name ("" when absent)
 *   kind           CLIENT, SERVER, PRODUCER, CONSUMER; absent (Zipkin's
 *                  local span) is UNSPECIFIED (0), or INTERNAL when the tag
 *                  span.kind is "internal" (the tag is then consumed)
 *   timestamp      start, microseconds; absent or 0: start 0 and the
 *                  attribute otel.zipkin.absentField.startTime = true
 *   duration       end = start + duration, microseconds
 *   localEndpoint  serviceName is the resource's service.name; ipv4/ipv6
 *                  and port become network.local.address/.port (*: the
 *                  Collector's current names; older ones used net.host.*)
 *   remoteEndpoint serviceName -> peer.service, ipv4/ipv6 ->
 *                  network.peer.address, port -> network.peer.port; a tag
 *                  of the same name wins
 *   annotations    events, time in microseconds; the value is the event's
 *                  name, or, as OpenTelemetry's Zipkin exporters write it,
 *                  "name":{attributes as JSON} (*: the specification's form,
 *                  which the Collector does not read), or as the Collector's
 *                  exporter writes it, name|{attributes}|dropped count.
 *                  Attribute values: strings, booleans, integral numbers
 *                  as ints and others as doubles (as the Collector), and (*)
 *                  lists and objects as arrays and maps, null as empty;
 *                  otel.dropped_attributes_count inside is the event's
 *                  dropped count. A value that is none of these forms is
 *                  the name as it stands.
 *   tags           string attributes (the Collector's default; it does not
 *                  guess numbers either), except:
 *     otel.status_code        OK, ERROR, UNSET (the specification's), or
 *                             STATUS_CODE_*, Ok, Error, Unset (what the
 *                             Collector reads) -> the status code; with
 *                             otel.status_description -> its message
 *     error                   any value -> status ERROR; (*) its value, when
 *                             neither empty nor "true" and no description
 *                             was given, is the status message (Zipkin
 *                             instrumentation puts the error's message there;
 *                             the Collector keeps it as an attribute)
 *     w3c.tracestate          the span's trace state
 *     otel.scope.name/.version, otel.library.name/.version
 *                             the instrumentation scope (scope.* first)
 *     otel.dropped_{attributes,events,links}_count
 *                             (*) the span's dropped counts (the
 *                             specification's non-OTLP mapping, which
 *                             libotelc's exporter writes)
 *     resource attributes     keys of the resource namespaces of semantic
 *                             conventions 1.6.1 (service.*, host.*, process.*,
 *                             os.*, container.*, k8s.*, cloud.*, deployment.*,
 *                             device.*, telemetry.sdk.*, telemetry.auto.*,
 *                             webengine.*, aws.ecs/eks/log.*, faas.name/id/
 *                             version/instance/max_memory) go to the resource,
 *                             as the Collector moves them; (*) spans of one
 *                             service with different such tags get different
 *                             resources (the Collector keeps the first span's)
 *
 * Each distinct service name with its resource tags is one resource, each
 * scope within it one otelc_scope_info, shared by their spans. Every span
 * gets the sampled trace flag (*: Zipkin is sent sampled spans only; the
 * Collector leaves the flags 0). Not mapped: "shared" (a server span
 * sharing its client's id: the two arrive as two spans with one id) and
 * "debug" (beyond the sampled flag), as in the Collector; the Collector's
 * otlp.link.N and otlp.service.name.source tags stay plain attributes;
 * Zipkin has no links and no trace state field. A tag that is not a string,
 * or a known field of the wrong type, refuses the request (zipkin-go, which
 * the Collector and Jaeger use, refuses them too).
 */
#define _GNU_SOURCE /* memrchr */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decode_zipkin.h"
#include "export/otlp.h"
#include "json.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_SIZE  ((size_t)256 << 20)

/* ---- A small hash table: resources and scopes by their content ------------------------ */

typedef struct entry {
    uint64_t hash;
    const char *key; /* in the batch's arena; NULL: a free slot */
    size_t len;
    void *value;
} entry;

typedef struct table {
    entry *slots;
    size_t cap, count; /* cap is 0 or a power of two, at most half full */
} table;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

static entry *table_find(const table *t, const char *key, size_t len, uint64_t h)
{
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        entry *e = &t->slots[i];
        if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)) return e;
    }
}

static bool table_grow(table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    entry *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key) continue;
        size_t at = t->slots[i].hash & (cap - 1);
        while (slots[at].key) at = (at + 1) & (cap - 1);
        slots[at] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return true;
}

/* ---- The decoder ------------------------------------------------------------------------- */

typedef struct decoder {
    vw_batch *b;
    vw_decode_status status; /* VW_DECODE_OK until the first failure */
    table resources, scopes;
    otelc_buf key; /* scratch: a table key, an annotation to parse */
    size_t index;  /* the span being decoded, for reject reasons */
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

/* A string field: *s, *n (absent: NULL, 0); false (invalid) for another type. */
static bool read_str(decoder *d, const json_value *v, const char **s, size_t *n)
{
    *s = NULL, *n = 0;
    if (otelc__json_absent(v)) return true;
    if (v->type != JSON_STRING) return fail(d, VW_DECODE_INVALID);
    *s = v->u.string.ptr, *n = v->u.string.len;
    return true;
}

static const char *copy(decoder *d, const char *s, size_t n)
{
    const char *c = vw_batch_str(d->b, s, n, NULL);
    if (!c) nomem(d);
    return c;
}

/* Microseconds (a number, or a decimal string) as nanoseconds; absent is 0. */
static bool read_micros(decoder *d, const json_value *v, uint64_t *ns)
{
    uint64_t us = 0;
    if (!otelc__json_absent(v) && !otelc__json_uint64(v, &us)) return fail(d, VW_DECODE_INVALID);
    if (us > UINT64_MAX / 1000) return fail(d, VW_DECODE_INVALID);
    *ns = us * 1000;
    return true;
}

/* ---- Attributes ----------------------------------------------------------------------------- */

/* The span's attributes as they are collected: tags, then endpoint and other additions. */
typedef struct attr_list {
    otelc_attr *items;
    uint32_t count, cap;
} attr_list;

static const otelc_value *list_get(const attr_list *l, const char *key)
{
    for (uint32_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].key, key) == 0) return &l->items[i].value;
    return NULL;
}

static void add_string(attr_list *l, const char *key, const char *s, size_t n)
{
    if (l->count < l->cap)
        l->items[l->count++] = (otelc_attr){key, {.type = OTELC_VALUE_STRING, .u.str = {s, n}}};
}

/* An endpoint's attribute, unless a tag gave one of that name. */
static bool add_endpoint_str(decoder *d, attr_list *l, const char *key, const json_value *v)
{
    const char *s;
    size_t n;
    if (!read_str(d, v, &s, &n)) return false;
    if (!s || !n || list_get(l, key)) return true;
    if (!(s = copy(d, s, n))) return false;
    add_string(l, key, s, n);
    return true;
}

/* {serviceName, ipv4, ipv6, port}: the address and port attributes; *service its name. */
static bool decode_endpoint(decoder *d, const json_value *v, attr_list *l, const char *address,
                            const char *port_key, const json_value **service)
{
    *service = NULL;
    if (otelc__json_absent(v)) return true;
    if (v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    const json_value *ipv4 = NULL, *ipv6 = NULL, *port = NULL;
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (JSON_KEY_IS(m, "serviceName"))
            *service = m->value;
        else if (JSON_KEY_IS(m, "ipv4"))
            ipv4 = m->value;
        else if (JSON_KEY_IS(m, "ipv6"))
            ipv6 = m->value;
        else if (JSON_KEY_IS(m, "port"))
            port = m->value;
    }
    const char *s;
    size_t n;
    if (!read_str(d, *service, &s, &n)) return false;
    /* IPv6 wins when both are given, as in the Collector. */
    if (!add_endpoint_str(d, l, address, ipv6) || !add_endpoint_str(d, l, address, ipv4))
        return false;
    uint64_t p = 0;
    if (!otelc__json_absent(port) && (!otelc__json_uint64(port, &p) || p > 65535))
        return fail(d, VW_DECODE_INVALID);
    if (p && !list_get(l, port_key) && l->count < l->cap)
        l->items[l->count++] = (otelc_attr){port_key, {.type = OTELC_VALUE_INT, .u.i = (int64_t)p}};
    return true;
}

/* ---- Annotations ----------------------------------------------------------------------------- */

static bool plain_attrs(decoder *d, const json_value *obj, const otelc_attr **out, uint32_t *count,
                        uint32_t *dropped, int depth);

/* A JSON value of an annotation's attributes as an attribute value. */
static bool plain_value(decoder *d, const json_value *v, otelc_value *out, int depth)
{
    switch (v->type) {
    case JSON_STRING: {
        size_t n;
        const char *s = vw_batch_str(d->b, v->u.string.ptr, v->u.string.len, &n);
        if (!s) return nomem(d);
        *out = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {s, n}};
        return true;
    }
    case JSON_BOOL:
        *out = (otelc_value){.type = OTELC_VALUE_BOOL, .u.b = v->u.boolean};
        return true;
    case JSON_NUMBER: {
        int64_t i;
        /* Integral numbers are ints, as the Collector reads them. */
        if (otelc__json_int64(v, &i))
            *out = (otelc_value){.type = OTELC_VALUE_INT, .u.i = i};
        else
            *out = (otelc_value){.type = OTELC_VALUE_DOUBLE, .u.d = v->u.number.d};
        return true;
    }
    case JSON_ARRAY: {
        size_t n = v->u.array.count;
        otelc_value *items = n ? vw_batch_alloc(d->b, n * sizeof *items) : NULL;
        if (n && !items) return nomem(d);
        for (size_t i = 0; i < n; i++)
            if (!plain_value(d, v->u.array.items[i], &items[i], depth + 1)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_ARRAY, .u.array = {items, n}};
        return vw_batch_narrow_array(d->b, out) || nomem(d);
    }
    case JSON_OBJECT: {
        const otelc_attr *attrs;
        uint32_t n;
        if (!plain_attrs(d, v, &attrs, &n, NULL, depth + 1)) return false;
        *out = (otelc_value){.type = OTELC_VALUE_MAP, .u.array = {attrs, n}};
        return true;
    }
    default:
        *out = (otelc_value){.type = OTELC_VALUE_EMPTY};
        return true;
    }
}

/* A JSON object as attributes; with dropped, otel.dropped_attributes_count goes there. */
static bool plain_attrs(decoder *d, const json_value *obj, const otelc_attr **out, uint32_t *count,
                        uint32_t *dropped, int depth)
{
    size_t n = obj->u.object.count, kept = 0;
    otelc_attr *attrs = n ? vw_batch_alloc(d->b, n * sizeof *attrs) : NULL;
    if (n && !attrs) return nomem(d);
    for (size_t i = 0; i < n; i++) {
        const json_member *m = &obj->u.object.members[i];
        uint64_t u;
        if (dropped && JSON_KEY_IS(m, "otel.dropped_attributes_count") &&
            otelc__json_uint64(m->value, &u) && u <= UINT32_MAX) {
            *dropped = (uint32_t)u;
            continue;
        }
        if (!(attrs[kept].key = copy(d, m->key, m->key_len)) ||
            !plain_value(d, m->value, &attrs[kept].value, depth))
            return false;
        kept++;
    }
    *out = attrs, *count = (uint32_t)kept;
    return true;
}

/* text[0..n) parsed as JSON into doc: an object, or NULL. */
static const json_value *parse_object(json_doc *doc, const char *text, size_t n)
{
    static const json_options options = {.max_depth = VW_MAX_VALUE_DEPTH + 2, .lossy_utf8 = true};
    const json_value *v = otelc__json_parse(doc, text, n, &options, NULL);
    return v && v->type == JSON_OBJECT ? v : NULL;
}

/* "name":{attributes}: OpenTelemetry's form. False (not this form) leaves e alone. */
static bool otel_form(decoder *d, const char *s, size_t n, otelc_event_data *e, bool *done)
{
    *done = false;
    if (n < 2 || s[0] != '"' || s[n - 1] != '}') return true;
    /* Braced, the text is an object whose one member is the name and its attributes. */
    otelc__buf_reset(&d->key);
    otelc__buf_append(&d->key, "{", 1);
    otelc__buf_append(&d->key, s, n);
    otelc__buf_append(&d->key, "}", 1);
    if (d->key.failed) return nomem(d);
    json_doc doc = JSON_DOC_INIT;
    const json_value *obj = parse_object(&doc, d->key.data, d->key.len);
    bool ok = true;
    if (obj && obj->u.object.count == 1 && obj->u.object.members[0].value->type == JSON_OBJECT) {
        const json_member *m = &obj->u.object.members[0];
        ok = (e->name = copy(d, m->key, m->key_len)) &&
             plain_attrs(d, m->value, &e->attrs, &e->attr_count, &e->dropped_attr_count, 0);
        *done = true;
    }
    otelc__json_free(&doc);
    return ok;
}

/* name|{attributes}|dropped: the Collector's exporter's form. */
static bool collector_form(decoder *d, const char *s, size_t n, otelc_event_data *e, bool *done)
{
    const char *first = memchr(s, '|', n), *last = first ? memrchr(s, '|', n) : NULL;
    uint64_t dropped = 0;
    *done = false;
    if (!first || last == first || last + 1 == s + n) return true;
    for (const char *p = last + 1; p < s + n; p++) {
        if (*p < '0' || *p > '9' || dropped > UINT32_MAX) return true;
        dropped = dropped * 10 + (uint64_t)(*p - '0');
    }
    if (dropped > UINT32_MAX) return true;
    json_doc doc = JSON_DOC_INIT;
    const json_value *obj = parse_object(&doc, first + 1, (size_t)(last - first - 1));
    bool ok = true;
    if (obj) {
        ok = (e->name = copy(d, s, (size_t)(first - s))) &&
             plain_attrs(d, obj, &e->attrs, &e->attr_count, NULL, 0);
        e->dropped_attr_count = (uint32_t)dropped;
        *done = true;
    }
    otelc__json_free(&doc);
    return ok;
}

static bool decode_annotation(decoder *d, const json_value *v, otelc_event_data *e)
{
    if (v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    const char *s;
    size_t n;
    bool done;
    if (!read_micros(d, otelc__json_object_get(v, "timestamp"), &e->time_ns) ||
        !read_str(d, otelc__json_object_get(v, "value"), &s, &n))
        return false;
    if (!s) s = "";
    if (!otel_form(d, s, n, e, &done)) return false;
    if (!done && !collector_form(d, s, n, e, &done)) return false;
    if (!done && !(e->name = copy(d, s, n))) return false;
    return true;
}

static bool decode_annotations(decoder *d, const json_value *v, otelc_span_data *sd)
{
    if (otelc__json_absent(v)) return true;
    if (v->type != JSON_ARRAY) return fail(d, VW_DECODE_INVALID);
    size_t n = v->u.array.count;
    if (n > UINT32_MAX) return fail(d, VW_DECODE_TOO_BIG);
    otelc_event_data *events = n ? vw_batch_alloc(d->b, n * sizeof *events) : NULL;
    if (n && !events) return nomem(d);
    for (size_t i = 0; i < n; i++) {
        events[i] = (otelc_event_data){0};
        if (!decode_annotation(d, v->u.array.items[i], &events[i])) return false;
    }
    sd->events = events, sd->event_count = (uint32_t)n;
    return true;
}

/* ---- Tags ------------------------------------------------------------------------------------ */

/* Tags that are not attributes. */
typedef struct special_tags {
    const json_value *status_code, *status_description, *error, *trace_state, *span_kind;
    const json_value *scope_name, *scope_version, *library_name, *library_version;
} special_tags;

/* The resource namespaces of semantic conventions 1.6.1, whose keys the Collector moves. */
static bool resource_key(const char *k)
{
    static const char *const prefixes[] = {
        "service.",   "host.",          "process.",        "os.",
        "container.", "k8s.",           "cloud.",          "deployment.",
        "device.",    "telemetry.sdk.", "telemetry.auto.", "webengine.",
        "aws.ecs.",   "aws.eks.",       "aws.log.",
    };
    static const char *const faas[] = {"faas.name", "faas.id", "faas.version", "faas.instance",
                                       "faas.max_memory"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(k, prefixes[i], strlen(prefixes[i])) == 0) return true;
    for (size_t i = 0; i < sizeof faas / sizeof *faas; i++)
        if (strcmp(k, faas[i]) == 0) return true;
    return false;
}

/* otel.dropped_*_count: the count, unless the value is not one (then a plain tag). */
static bool dropped_count(const json_member *m, otelc_span_data *sd)
{
    uint32_t *at = JSON_KEY_IS(m, "otel.dropped_attributes_count") ? &sd->dropped_attr_count
                   : JSON_KEY_IS(m, "otel.dropped_events_count")   ? &sd->dropped_event_count
                   : JSON_KEY_IS(m, "otel.dropped_links_count")    ? &sd->dropped_link_count
                                                                   : NULL;
    uint64_t u;
    if (!at || !otelc__json_uint64(m->value, &u) || u > UINT32_MAX) return false;
    *at = (uint32_t)u;
    return true;
}

/* A special tag into *sp; false when m is an ordinary one. */
static bool special_tag(const json_member *m, bool has_kind, special_tags *sp)
{
    const json_value **at = JSON_KEY_IS(m, "otel.status_code")          ? &sp->status_code
                            : JSON_KEY_IS(m, "otel.status_description") ? &sp->status_description
                            : JSON_KEY_IS(m, "error")                   ? &sp->error
                            : JSON_KEY_IS(m, "w3c.tracestate")          ? &sp->trace_state
                            : JSON_KEY_IS(m, "otel.scope.name")         ? &sp->scope_name
                            : JSON_KEY_IS(m, "otel.scope.version")      ? &sp->scope_version
                            : JSON_KEY_IS(m, "otel.library.name")       ? &sp->library_name
                            : JSON_KEY_IS(m, "otel.library.version")    ? &sp->library_version
                            : JSON_KEY_IS(m, "span.kind") && !has_kind  ? &sp->span_kind
                                                                        : NULL;
    if (at) *at = m->value;
    return at != NULL;
}

/* Tags into span attributes (l), resource attributes (res) and special tags (sp). */
static bool decode_tags(decoder *d, const json_value *v, otelc_span_data *sd, bool has_kind,
                        attr_list *l, attr_list *res, special_tags *sp)
{
    for (size_t i = 0; v && i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (m->value->type != JSON_STRING) return fail(d, VW_DECODE_INVALID);
        if (special_tag(m, has_kind, sp) || dropped_count(m, sd)) continue;
        const char *key = copy(d, m->key, m->key_len), *s;
        size_t n;
        if (!key || !(s = vw_batch_str(d->b, m->value->u.string.ptr, m->value->u.string.len, &n)))
            return nomem(d);
        add_string(resource_key(key) ? res : l, key, s, n);
    }
    return true;
}

static bool str_is(const json_value *v, const char *s)
{
    return v && v->type == JSON_STRING && strcmp(v->u.string.ptr, s) == 0;
}

/* otel.status_code's values: the specification's, and those the Collector reads. */
static otelc_status_code status_code(const json_value *v)
{
    static const char *const names[][3] = {{"UNSET", "STATUS_CODE_UNSET", "Unset"},
                                           {"OK", "STATUS_CODE_OK", "Ok"},
                                           {"ERROR", "STATUS_CODE_ERROR", "Error"}};
    for (int code = 0; code < 3; code++)
        for (int i = 0; i < 3; i++)
            if (str_is(v, names[code][i])) return (otelc_status_code)code;
    return OTELC_STATUS_UNSET;
}

static bool apply_status(decoder *d, const special_tags *sp, otelc_span_data *sd)
{
    const json_value *message = NULL;
    if (sp->status_code) {
        sd->status = status_code(sp->status_code);
        message = sp->status_description;
    }
    if (sp->error) {
        sd->status = OTELC_STATUS_ERROR;
        if (!message && sp->error->u.string.len && !str_is(sp->error, "true")) message = sp->error;
    }
    return !message || (sd->status_message = copy(d, message->u.string.ptr, message->u.string.len));
}

/* ---- Resources and scopes -------------------------------------------------------------------- */

static void key_str(otelc_buf *k, const char *s, size_t n)
{
    otelc__buf_append(k, s, n);
    otelc__buf_append(k, "", 1); /* the NUL separates: keys cannot be confused */
}

/* The resource of service (may be NULL) with the resource tags res: one per distinct content. */
static otelc_resource *resource_for(decoder *d, const char *service, size_t service_len,
                                    attr_list *res)
{
    otelc_buf *k = &d->key;
    otelc__buf_reset(k);
    key_str(k, service ? service : "", service ? service_len : 0);
    for (uint32_t i = 0; i < res->count; i++) {
        key_str(k, res->items[i].key, strlen(res->items[i].key));
        key_str(k, res->items[i].value.u.str.ptr, res->items[i].value.u.str.len);
    }
    if (k->failed || (d->resources.count + 1 > d->resources.cap / 2 && !table_grow(&d->resources)))
        return nomem(d), NULL;
    uint64_t h = hash_bytes(k->data, k->len);
    entry *e = table_find(&d->resources, k->data, k->len, h);
    if (e->key) return e->value;
    /* The local endpoint's service name wins over a service.name tag. */
    if (service && service_len) {
        const char *name = copy(d, service, service_len);
        if (!name) return NULL;
        otelc_value value = {.type = OTELC_VALUE_STRING, .u.str = {name, service_len}};
        otelc_value *tagged = (otelc_value *)list_get(res, "service.name");
        if (tagged) {
            *tagged = value;
        } else { /* first, as SDKs put it */
            memmove(res->items + 1, res->items, res->count * sizeof *res->items);
            res->items[0] = (otelc_attr){"service.name", value};
            res->count++;
        }
    }
    otelc_resource *r = vw_batch_add_resource_counted(d->b, res->items, res->count, NULL, 0);
    char *key = vw_batch_alloc(d->b, k->len);
    if (!r || !key) return nomem(d), NULL;
    memcpy(key, k->data, k->len);
    *e = (entry){h, key, k->len, r};
    d->resources.count++;
    return r;
}

static const otelc_scope_info *scope_for(decoder *d, const otelc_resource *r,
                                         const json_value *name, const json_value *version)
{
    otelc_buf *k = &d->key;
    otelc__buf_reset(k);
    otelc__buf_append(k, &r, sizeof r);
    key_str(k, name ? name->u.string.ptr : "", name ? name->u.string.len : 0);
    if (version) key_str(k, version->u.string.ptr, version->u.string.len);
    if (k->failed || (d->scopes.count + 1 > d->scopes.cap / 2 && !table_grow(&d->scopes)))
        return nomem(d), NULL;
    uint64_t h = hash_bytes(k->data, k->len);
    entry *e = table_find(&d->scopes, k->data, k->len, h);
    if (e->key) return e->value;
    otelc_scope_info *si = vw_batch_alloc(d->b, sizeof *si);
    char *key = vw_batch_alloc(d->b, k->len);
    if (!si || !key) return nomem(d), NULL;
    *si = (otelc_scope_info){.name = ""};
    if ((name && !(si->name = copy(d, name->u.string.ptr, name->u.string.len))) ||
        (version && !(si->version = copy(d, version->u.string.ptr, version->u.string.len))))
        return NULL;
    memcpy(key, k->data, k->len);
    *e = (entry){h, key, k->len, si};
    d->scopes.count++;
    return si;
}

/* ---- Spans ----------------------------------------------------------------------------------- */

typedef struct zipkin_fields {
    const json_value *trace_id, *id, *parent_id, *name, *kind, *timestamp, *duration;
    const json_value *local, *remote, *annotations, *tags;
} zipkin_fields;

static void collect(const json_value *v, zipkin_fields *f)
{
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        const json_value **at = JSON_KEY_IS(m, "traceId")          ? &f->trace_id
                                : JSON_KEY_IS(m, "id")             ? &f->id
                                : JSON_KEY_IS(m, "parentId")       ? &f->parent_id
                                : JSON_KEY_IS(m, "name")           ? &f->name
                                : JSON_KEY_IS(m, "kind")           ? &f->kind
                                : JSON_KEY_IS(m, "timestamp")      ? &f->timestamp
                                : JSON_KEY_IS(m, "duration")       ? &f->duration
                                : JSON_KEY_IS(m, "localEndpoint")  ? &f->local
                                : JSON_KEY_IS(m, "remoteEndpoint") ? &f->remote
                                : JSON_KEY_IS(m, "annotations")    ? &f->annotations
                                : JSON_KEY_IS(m, "tags")           ? &f->tags
                                                                   : NULL;
        if (at) *at = m->value;
    }
}

/* Why the ids cannot identify the span, or NULL; false when they are not even strings. */
static bool span_ids(decoder *d, const zipkin_fields *f, otelc_span_data *sd, const char **why)
{
    const char *t, *s, *p;
    size_t tn, sn, pn;
    if (!read_str(d, f->trace_id, &t, &tn) || !read_str(d, f->id, &s, &sn) ||
        !read_str(d, f->parent_id, &p, &pn))
        return false;
    *why = NULL;
    uint8_t *tid = sd->context.trace_id;
    if (!tn)
        *why = "traceId is missing";
    else if (tn != 16 && tn != 32)
        *why = "traceId is neither 16 nor 32 hex digits";
    else if (!vw_hex_decode(t, tn, tid + 16 - tn / 2) || otelc__is_zero(tid, 16))
        *why = "traceId is not hex or all zeros";
    else if (sn != 16 || !vw_hex_decode(s, sn, sd->context.span_id) ||
             otelc__is_zero(sd->context.span_id, 8))
        *why = "id is not 16 hex digits or all zeros";
    else if (pn && (pn != 16 || !vw_hex_decode(p, pn, sd->parent_span_id)))
        *why = "parentId is not 16 hex digits";
    sd->has_parent = pn && !*why && !otelc__is_zero(sd->parent_span_id, 8) &&
                     memcmp(sd->parent_span_id, sd->context.span_id, 8) != 0;
    return true;
}

static otelc_span_kind zipkin_kind(const json_value *kind, const json_value *span_kind_tag)
{
    static const struct {
        const char *name;
        otelc_span_kind kind;
    } kinds[] = {{"CLIENT", OTELC_SPAN_CLIENT},
                 {"SERVER", OTELC_SPAN_SERVER},
                 {"PRODUCER", OTELC_SPAN_PRODUCER},
                 {"CONSUMER", OTELC_SPAN_CONSUMER}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (str_is(kind, kinds[i].name)) return kinds[i].kind;
    return str_is(span_kind_tag, "internal") ? OTELC_SPAN_INTERNAL : 0;
}

static bool decode_times(decoder *d, const zipkin_fields *f, otelc_span_data *sd, attr_list *l)
{
    uint64_t duration;
    if (!read_micros(d, f->timestamp, &sd->start_ns) || !read_micros(d, f->duration, &duration))
        return false;
    if (duration > UINT64_MAX - sd->start_ns) return fail(d, VW_DECODE_INVALID);
    sd->end_ns = sd->start_ns + duration;
    if (!sd->start_ns && l->count < l->cap) /* the Collector's mark of an unknown start */
        l->items[l->count++] = (otelc_attr){"otel.zipkin.absentField.startTime",
                                            {.type = OTELC_VALUE_BOOL, .u.b = true}};
    return true;
}

static bool decode_span(decoder *d, const json_value *v)
{
    if (v->type != JSON_OBJECT) return fail(d, VW_DECODE_INVALID);
    zipkin_fields f = {0};
    collect(v, &f);
    if (!otelc__json_absent(f.tags) && f.tags->type != JSON_OBJECT)
        return fail(d, VW_DECODE_INVALID);
    otelc_span_data *sd = vw_batch_add_span(d->b);
    if (!sd) return nomem(d);
    /* Room for every tag, the endpoints' five attributes and the absent start. */
    size_t tags = otelc__json_absent(f.tags) ? 0 : f.tags->u.object.count;
    attr_list l = {vw_batch_alloc(d->b, (tags + 6) * sizeof(otelc_attr)), 0, (uint32_t)tags + 6};
    attr_list res = {vw_batch_alloc(d->b, (tags + 1) * sizeof(otelc_attr)), 0, (uint32_t)tags + 1};
    special_tags sp = {0};
    const json_value *local_service, *remote_service;
    const char *why, *name, *service;
    size_t name_len, service_len;
    if (!l.items || !res.items) return nomem(d);
    if (!decode_tags(d, f.tags, sd, !otelc__json_absent(f.kind), &l, &res, &sp) ||
        !decode_endpoint(d, f.local, &l, "network.local.address", "network.local.port",
                         &local_service) ||
        !decode_endpoint(d, f.remote, &l, "network.peer.address", "network.peer.port",
                         &remote_service) ||
        !add_endpoint_str(d, &l, "peer.service", remote_service) || !decode_times(d, &f, sd, &l) ||
        !decode_annotations(d, f.annotations, sd) || !apply_status(d, &sp, sd) ||
        !span_ids(d, &f, sd, &why) || !read_str(d, f.name, &name, &name_len))
        return false;
    if (!otelc__json_absent(f.kind) && f.kind->type != JSON_STRING)
        return fail(d, VW_DECODE_INVALID);
    if (why) {
        vw_batch_drop_last(d->b);
        vw_batch_reject(d->b, "spans[%zu]: %s", d->index, why);
        return true;
    }
    if (!(sd->name = name ? copy(d, name, name_len) : "")) return false;
    if (sp.trace_state && !(sd->context.trace_state = copy(d, sp.trace_state->u.string.ptr,
                                                           sp.trace_state->u.string.len)))
        return false;
    sd->kind = zipkin_kind(f.kind, sp.span_kind);
    sd->context.trace_flags = 0x01; /* Zipkin is sent sampled spans */
    sd->attrs = l.items, sd->attr_count = l.count;
    if (!read_str(d, local_service, &service, &service_len)) return false;
    const otelc_resource *r = resource_for(d, service, service_len, &res);
    if (!r) return false;
    sd->resource = r;
    sd->scope = scope_for(d, r, sp.scope_name ? sp.scope_name : sp.library_name,
                          sp.scope_version ? sp.scope_version : sp.library_version);
    return sd->scope != NULL;
}

vw_decode_status vw_decode_zipkin_json(const char *buf, size_t len, vw_batch *out)
{
    static const json_options options = {
        .max_depth = JSON_MAX_DEPTH, .max_size = JSON_MAX_SIZE, .lossy_utf8 = true};
    decoder d = {.b = out};
    json_doc doc = JSON_DOC_INIT;
    json_error err;
    const json_value *root = otelc__json_parse(&doc, buf, len, &options, &err);
    if (!root) {
        d.status = err.kind == JSON_ERR_LIMIT   ? VW_DECODE_TOO_BIG
                   : err.kind == JSON_ERR_NOMEM ? VW_DECODE_NOMEM
                                                : VW_DECODE_INVALID;
    } else if (root->type != JSON_ARRAY) {
        d.status = VW_DECODE_INVALID;
    } else if (root->u.array.count > VW_MAX_SPANS_PER_REQUEST) {
        d.status = VW_DECODE_TOO_BIG;
    } else {
        for (d.index = 0; d.index < root->u.array.count; d.index++)
            if (!decode_span(&d, root->u.array.items[d.index])) break;
    }
    otelc__json_free(&doc);
    free(d.resources.slots);
    free(d.scopes.slots);
    otelc__buf_free(&d.key);
    return d.status;
}
