/*
 * jaeger_json.c - a trace as Jaeger's v1 JSON (jaeger_json.h).
 *
 * Spans point at their resource; the store decodes a resource once per
 * trace for the first few it meets and again for each span beyond, so
 * processes are told apart by content: each distinct resource's process
 * JSON is written once, and spans whose process JSON is the same share it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jaeger_json.h"
#include "jaeger_tags.h"
#include "u64map.h"

#define JS_MAX_SAFE_INTEGER (((int64_t)1 << 53) - 1)
#define MAX_PROBES          8

#define PUT(b, lit) otelc__buf_append((b), (lit), sizeof(lit) - 1)

static void put_str(otelc_buf *b, const char *s)
{
    otelc__buf_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

static void put_hex(otelc_buf *b, const uint8_t *id, size_t n)
{
    PUT(b, "\"");
    otelc__buf_hex(b, id, n);
    PUT(b, "\"");
}

/* ---- Tags ------------------------------------------------------------------------------------ */

void vw_jaeger_kv_json(otelc_buf *out, const char *key, const otelc_value *v)
{
    PUT(out, "{\"key\":");
    put_str(out, key);
    switch (v->type) {
    case OTELC_VALUE_STRING:
        PUT(out, ",\"type\":\"string\",\"value\":");
        otelc__buf_json_str(out, v->u.str.ptr, v->u.str.len);
        break;
    case OTELC_VALUE_BOOL:
        otelc__buf_puts(out, v->u.b ? ",\"type\":\"bool\",\"value\":true"
                                    : ",\"type\":\"bool\",\"value\":false");
        break;
    case OTELC_VALUE_INT: {
        bool safe = v->u.i <= JS_MAX_SAFE_INTEGER && v->u.i >= -(JS_MAX_SAFE_INTEGER);
        otelc__buf_printf(out,
                          safe ? ",\"type\":\"int64\",\"value\":%" PRId64
                               : ",\"type\":\"int64\",\"value\":\"%" PRId64 "\"",
                          v->u.i);
        break;
    }
    case OTELC_VALUE_DOUBLE:
        PUT(out, ",\"type\":\"float64\",\"value\":");
        otelc__buf_json_double(out, v->u.d);
        break;
    case OTELC_VALUE_BYTES:
        PUT(out, ",\"type\":\"binary\",\"value\":\"");
        otelc__buf_base64(out, v->u.str.ptr, v->u.str.len);
        PUT(out, "\"");
        break;
    case OTELC_VALUE_EMPTY:
        PUT(out, ",\"type\":\"string\",\"value\":\"\"");
        break;
    default: {
        /* Arrays and maps: their JSON, as a string. */
        otelc_buf json = {0};
        otelc__buf_json_value(&json, v);
        PUT(out, ",\"type\":\"string\",\"value\":");
        otelc__buf_json_str(out, json.data, json.len);
        if (json.failed) out->failed = true;
        otelc__buf_free(&json);
        break;
    }
    }
    PUT(out, "}");
}

typedef struct tag_list {
    otelc_buf *out;
    bool first;
} tag_list;

static void add_tag(void *ctx, const char *key, const otelc_value *v)
{
    tag_list *l = ctx;
    if (!l->first) PUT(l->out, ",");
    l->first = false;
    vw_jaeger_kv_json(l->out, key, v);
}

/* ---- Processes ------------------------------------------------------------------------------- */

typedef struct processes {
    vw_u64map by_resource; /* resource address -> process number (1-based) */
    vw_u64map by_hash;     /* hash of the process JSON -> process number */
    otelc_buf json;        /* each process's JSON, one after the other */
    size_t *end;           /* where process i's JSON ends in json */
    size_t count;
} processes;

static bool processes_init(processes *p, size_t spans)
{
    memset(p, 0, sizeof *p);
    p->end = malloc((spans + 1) * sizeof *p->end);
    return p->end && vw_u64map_init(&p->by_resource, spans) && vw_u64map_init(&p->by_hash, spans);
}

static void processes_free(processes *p)
{
    vw_u64map_free(&p->by_resource);
    vw_u64map_free(&p->by_hash);
    otelc__buf_free(&p->json);
    free(p->end);
}

static void put_process(otelc_buf *b, const otelc_resource *res)
{
    PUT(b, "{\"serviceName\":");
    put_str(b, vw_resource_service(res));
    PUT(b, ",\"tags\":[");
    size_t n = 0;
    const otelc_attr *attrs = res ? otelc_resource_attrs(res, &n) : NULL;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(attrs[i].key, "service.name") == 0) continue;
        if (!first) PUT(b, ",");
        first = false;
        vw_jaeger_kv_json(b, attrs[i].key, &attrs[i].value);
    }
    PUT(b, "]}");
}

/* The process number (1-based) of a resource; 0 when memory ran out. */
static size_t process_of(processes *p, const otelc_resource *res)
{
    bool added;
    uint64_t *known = vw_u64map_get(&p->by_resource, (uint64_t)(uintptr_t)res);
    if (known) return (size_t)*known;
    size_t start = p->count ? p->end[p->count - 1] : 0;
    put_process(&p->json, res);
    if (p->json.failed) return 0;
    const char *mine = p->json.data + start;
    size_t len = p->json.len - start;
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, mine, len);
    size_t number = 0;
    for (int probe = 0; probe < MAX_PROBES && !number; probe++, h++) {
        uint64_t *slot = vw_u64map_put(&p->by_hash, h, &added);
        if (!slot) break;
        if (added) {
            p->end[p->count++] = p->json.len; /* a new process */
            number = *slot = p->count;
        } else {
            size_t other = (size_t)*slot, at = other > 1 ? p->end[other - 2] : 0;
            if (p->end[other - 1] - at == len && memcmp(p->json.data + at, mine, len) == 0) {
                p->json.len = start; /* the same as an earlier one */
                number = other;
            }
        }
    }
    if (!number) { /* colliding hashes: a process of its own */
        p->end[p->count++] = p->json.len;
        number = p->count;
    }
    uint64_t *slot = vw_u64map_put(&p->by_resource, (uint64_t)(uintptr_t)res, &added);
    if (slot) *slot = number;
    return number;
}

/* ---- Spans ----------------------------------------------------------------------------------- */

static uint64_t micros(uint64_t ns)
{
    return ns / 1000;
}

static void put_ref(otelc_buf *b, bool child_of, const uint8_t trace_id[16],
                    const uint8_t span_id[8])
{
    otelc__buf_puts(b, child_of ? "{\"refType\":\"CHILD_OF\",\"traceID\":"
                                : "{\"refType\":\"FOLLOWS_FROM\",\"traceID\":");
    put_hex(b, trace_id, 16);
    PUT(b, ",\"spanID\":");
    put_hex(b, span_id, 8);
    PUT(b, "}");
}

/* A link's reference type: CHILD_OF only when its opentracing.ref_type attribute says so. */
static bool link_child_of(const otelc_link_data *l)
{
    const otelc_value *v = otelc_attrs_find(l->attrs, l->attr_count, "opentracing.ref_type");
    return v && v->type == OTELC_VALUE_STRING && v->u.str.len == 8 &&
           memcmp(v->u.str.ptr, "child_of", 8) == 0;
}

static bool links_to_parent(const otelc_span_data *sd, const otelc_link_data *l)
{
    return sd->has_parent && memcmp(l->context.trace_id, sd->context.trace_id, 16) == 0 &&
           memcmp(l->context.span_id, sd->parent_span_id, 8) == 0;
}

static void put_references(otelc_buf *b, const otelc_span_data *sd)
{
    PUT(b, ",\"references\":[");
    bool first = true;
    if (sd->has_parent) {
        bool child_of = true; /* unless a link to the parent says otherwise */
        for (uint32_t i = 0; i < sd->link_count; i++)
            if (links_to_parent(sd, &sd->links[i])) child_of = link_child_of(&sd->links[i]);
        put_ref(b, child_of, sd->context.trace_id, sd->parent_span_id);
        first = false;
    }
    for (uint32_t i = 0; i < sd->link_count; i++) {
        const otelc_link_data *l = &sd->links[i];
        if (links_to_parent(sd, l)) continue;
        if (!first) PUT(b, ",");
        first = false;
        put_ref(b, link_child_of(l), l->context.trace_id, l->context.span_id);
    }
    PUT(b, "]");
}

static void put_logs(otelc_buf *b, const otelc_span_data *sd)
{
    PUT(b, ",\"logs\":[");
    for (uint32_t e = 0; e < sd->event_count; e++) {
        const otelc_event_data *ev = &sd->events[e];
        if (e) PUT(b, ",");
        otelc__buf_printf(b, "{\"timestamp\":%" PRIu64 ",\"fields\":[", micros(ev->time_ns));
        tag_list l = {b, true};
        if (ev->name && *ev->name && !otelc_attrs_find(ev->attrs, ev->attr_count, "event")) {
            otelc_value name = {.type = OTELC_VALUE_STRING, .u.str = {ev->name, strlen(ev->name)}};
            add_tag(&l, "event", &name);
        }
        for (uint32_t i = 0; i < ev->attr_count; i++)
            add_tag(&l, ev->attrs[i].key, &ev->attrs[i].value);
        PUT(b, "]}");
    }
    PUT(b, "]");
}

static void put_span(otelc_buf *b, const otelc_span_data *sd, size_t process)
{
    PUT(b, "{\"traceID\":");
    put_hex(b, sd->context.trace_id, 16);
    PUT(b, ",\"spanID\":");
    put_hex(b, sd->context.span_id, 8);
    if (sd->context.trace_flags) otelc__buf_printf(b, ",\"flags\":%u", sd->context.trace_flags);
    PUT(b, ",\"operationName\":");
    put_str(b, sd->name);
    put_references(b, sd);
    uint64_t duration = sd->end_ns > sd->start_ns ? sd->end_ns - sd->start_ns : 0;
    otelc__buf_printf(b, ",\"startTime\":%" PRIu64 ",\"duration\":%" PRIu64 ",\"tags\":[",
                      micros(sd->start_ns), micros(duration));
    tag_list l = {b, true};
    vw_jaeger_span_tags(sd, add_tag, &l);
    PUT(b, "]");
    put_logs(b, sd);
    otelc__buf_printf(b, ",\"processID\":\"p%zu\",\"warnings\":null}", process);
}

int vw_jaeger_trace_json(otelc_buf *out, const otelc_span_data *const *spans, size_t n,
                         const char *warning)
{
    processes p;
    if (!processes_init(&p, n)) {
        processes_free(&p);
        return -1;
    }
    PUT(out, "{\"traceID\":");
    put_hex(out, spans[0]->context.trace_id, 16);
    PUT(out, ",\"spans\":[");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t process = process_of(&p, spans[i]->resource);
        if (!process) rc = -1;
        if (i) PUT(out, ",");
        put_span(out, spans[i], process);
    }
    PUT(out, "],\"processes\":{");
    for (size_t i = 0; i < p.count && rc == 0; i++) {
        size_t at = i ? p.end[i - 1] : 0;
        otelc__buf_printf(out, "%s\"p%zu\":", i ? "," : "", i + 1);
        otelc__buf_append(out, p.json.data + at, p.end[i] - at);
    }
    PUT(out, "},\"warnings\":");
    if (warning) {
        PUT(out, "[");
        put_str(out, warning);
        PUT(out, "]}");
    } else {
        PUT(out, "null}");
    }
    processes_free(&p);
    return rc < 0 || out->failed ? -1 : 0;
}
