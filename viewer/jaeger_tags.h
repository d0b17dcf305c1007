/*
 * jaeger_tags.h - a span as Jaeger shows it: its tags. Jaeger's model has
 * no span kind, status or scope fields, so its OTLP translator turns them
 * into tags (span.kind, otel.status_code, otel.status_description, error,
 * otel.scope.name, otel.scope.version, w3c.tracestate). The query API
 * writes these tags, and Jaeger-style tag searches (tags={"error":"true"})
 * compare against the same ones: one mapping for both.
 */
#ifndef OTELC_VIEWER_JAEGER_TAGS_H
#define OTELC_VIEWER_JAEGER_TAGS_H

#include "export/otlp.h"

typedef void (*vw_tag_fn)(void *ctx, const char *key, const otelc_value *v);

/*
 * Call fn for each tag of sd in the order Jaeger's OTLP translator writes
 * them: otel.scope.name and otel.scope.version, the attributes in order,
 * then span.kind, otel.status_code, error, otel.status_description and
 * w3c.tracestate (each only when the span has it).
 */
void vw_jaeger_span_tags(const otelc_span_data *sd, vw_tag_fn fn, void *ctx);

/* "server", "client", "producer", "consumer", "internal", or NULL for unspecified. */
const char *vw_kind_name(int kind);

/*
 * The service a resource's spans are shown under: its service.name when
 * that is a non-empty string, else "unknown_service" (the specification's
 * default, and the store's). NULL reads as a resource without one.
 */
const char *vw_resource_service(const otelc_resource *res);

/*
 * Append v as the text a tag search compares with: strings as they are,
 * booleans "true"/"false", integers in decimal, doubles as the shortest
 * text that reads back the same, anything else as JSON.
 */
void vw_value_text(otelc_buf *out, const otelc_value *v);

#endif
