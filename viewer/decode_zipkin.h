/*
 * decode_zipkin.h - Zipkin v2 JSON into a vw_batch: the list of spans that
 * Zipkin's own clients POST to /api/v2/spans, which Jaeger and the
 * OpenTelemetry Collector's zipkin receiver accept too.
 *
 * The spans are mapped as the Collector's zipkin receiver maps them
 * (opentelemetry-collector-contrib, pkg/translator/zipkin/zipkinv2); what
 * is mapped, where this decoder departs from it and what it leaves out is
 * listed at the top of decode_zipkin.c.
 */
#ifndef OTELC_VIEWER_DECODE_ZIPKIN_H
#define OTELC_VIEWER_DECODE_ZIPKIN_H

#include <stddef.h>

#include "batch.h"

/*
 * Decode the JSON list of Zipkin v2 spans buf[0..len) (need not be
 * NUL-terminated) into out, an empty batch (vw_batch_init()). Returns
 * VW_DECODE_OK with the valid spans in out and the invalid ones (ids
 * missing, of the wrong length, not hex or all zeros) counted in
 * out->rejected; VW_DECODE_INVALID when buf is not such a list (not JSON,
 * not a list of objects, a known field of the wrong type, a tag that is
 * not a string, a time that does not fit); VW_DECODE_TOO_BIG past
 * VW_MAX_SPANS_PER_REQUEST spans or JSON nested past any request's depth;
 * VW_DECODE_NOMEM. On any status but OK, out may hold part of the list:
 * free it.
 */
vw_decode_status vw_decode_zipkin_json(const char *buf, size_t len, vw_batch *out);

#endif
