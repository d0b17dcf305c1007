/*
 * jaeger_json.h - a trace in the JSON of Jaeger's v1 query API
 * (model/json/model.go in jaegertracing/jaeger, filled as its
 * model/converter/json/from_domain.go fills it from what Jaeger's OTLP
 * translator makes of OTLP spans):
 *
 *   {"traceID", "spans": [span...], "processes": {"p1": {"serviceName",
 *    "tags"}}, "warnings"}
 *   span: {"traceID", "spanID", "flags" (left out when 0),
 *          "operationName", "references": [{"refType", "traceID",
 *          "spanID"}], "startTime" (µs), "duration" (µs), "tags",
 *          "logs": [{"timestamp" (µs), "fields"}], "processID", "warnings"}
 *   tag: {"key", "type", "value"}
 *
 * - references: the parent first (CHILD_OF), then the links: FOLLOWS_FROM
 *   unless the link says opentracing.ref_type = "child_of"; a link to the
 *   parent itself sets the parent reference's type instead of adding one.
 * - tags: see vw_jaeger_span_tags(). Strings are "string", booleans
 *   "bool", integers "int64" (a JSON number, or its decimal string beyond
 *   2^53 - 1, where JavaScript loses digits), doubles "float64" (NaN and
 *   the infinities as the strings "NaN", "Infinity", "-Infinity"), bytes
 *   "binary" as base64, arrays and maps "string" holding their JSON, the
 *   empty value the empty "string".
 * - logs: one per event, its name as the field "event" (unless the name
 *   is empty or an attribute is called "event"), then its attributes.
 * - processes: one per distinct resource, "p1", "p2"... in order of first
 *   use; serviceName as vw_resource_service(), the other resource
 *   attributes as tags.
 * Ids are lowercase hex, trace ids always 32 digits.
 */
#ifndef OTELC_VIEWER_JAEGER_JSON_H
#define OTELC_VIEWER_JAEGER_JSON_H

#include <stddef.h>

#include "export/otlp.h"

/*
 * Append the trace made of spans[0..n) (n > 0, all of one trace, in the
 * order to show them) to out; warning, when not NULL, becomes the trace's
 * one warning (else "warnings" is null). Returns 0, or -1 when memory ran
 * out (out may then hold part of the trace).
 */
int vw_jaeger_trace_json(otelc_buf *out, const otelc_span_data *const *spans, size_t n,
                         const char *warning);

/* One tag, {"key":...,"type":...,"value":...}, as above. */
void vw_jaeger_kv_json(otelc_buf *out, const char *key, const otelc_value *v);

#endif
