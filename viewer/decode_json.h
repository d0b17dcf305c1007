/*
 * decode_json.h - OTLP/JSON into a vw_batch (a JSON ExportTraceServiceRequest,
 * what OTLP/HTTP senders POST to /v1/traces with Content-Type
 * application/json), and the JSON ExportTraceServiceResponse the receiver
 * answers with.
 *
 * The mapping is opentelemetry-proto's "JSON Protobuf Encoding": the proto3
 * JSON mapping with lowerCamelCase keys, trace and span ids as hex (either
 * case), enums as integers, 64-bit integers as decimal strings or numbers,
 * bytes as base64. Where the document allows more than the model holds,
 * the decoder decides as decode_proto.c does for protobuf; the choices are
 * listed at the top of decode_json.c.
 */
#ifndef OTELC_VIEWER_DECODE_JSON_H
#define OTELC_VIEWER_DECODE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "export/otlp.h"

/*
 * Decode the JSON ExportTraceServiceRequest buf[0..len) (need not be
 * NUL-terminated) into out, an empty batch (vw_batch_init()). Returns
 * VW_DECODE_OK with the valid spans in out and the invalid ones counted
 * in out->rejected; VW_DECODE_INVALID when buf is not JSON or not such a
 * request (a known field of the wrong type, a malformed id, number or
 * base64 string); VW_DECODE_TOO_BIG past the bounds of batch.h or a
 * document nested deeper than any request within them; VW_DECODE_NOMEM.
 * On any status but OK, out may hold part of the request: free it.
 */
vw_decode_status vw_decode_otlp_json(const char *buf, size_t len, vw_batch *out);

/*
 * As vw_decode_otlp_json(), for a request that is the value of the member
 * named member_name of the JSON object buf[0..len) (/api/v3/traces
 * answers {"result": request}); the other members are skipped. A text
 * without that member is VW_DECODE_INVALID.
 */
vw_decode_status vw_decode_otlp_json_in(const char *buf, size_t len, const char *member_name,
                                        vw_batch *out);

/*
 * Append an ExportTraceServiceResponse as JSON to out. With rejected 0
 * and no message (NULL or "") it is {}: the specification wants
 * partialSuccess unset on full success. Otherwise partialSuccess holds
 * rejectedSpans (an int64, so a decimal string) when not 0 and
 * errorMessage when there is one (rejected 0 with a message is the
 * specification's warning on an accepted request); message is UTF-8.
 * Returns OTELC_OK, or OTELC_ERR_NOMEM when out could not grow (or had
 * failed before).
 */
int vw_reply_export_json(otelc_buf *out, uint64_t rejected, const char *message);

#endif
