/*
 * otlp_reply.h - the protobuf messages the receiver answers with, written
 * by hand (they are a few fields each):
 *
 * - ExportTraceServiceResponse, the body of every success, partial or
 *   full, on OTLP/HTTP and OTLP/gRPC;
 * - google.rpc.Status, the body of every OTLP/HTTP 4xx and 5xx answer (the
 *   OTLP specification's "Failures": a Status whose message is for the
 *   developer, code optional, with a BadRequest detail for bad data and a
 *   RetryInfo detail for throttling), and, base64-encoded, gRPC's
 *   grpc-status-details-bin trailer.
 *
 * libotelc's exporter reads both back (otelc__otlp_parse_response_proto(),
 * otelc__grpc_retry_info()). The JSON ExportTraceServiceResponse is
 * decode_json.h's (vw_reply_export_json()); the JSON Status is here.
 */
#ifndef OTELC_VIEWER_OTLP_REPLY_H
#define OTELC_VIEWER_OTLP_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "export/otlp.h"

/*
 * Append an ExportTraceServiceResponse to out. With rejected 0 and no
 * message (NULL or "") it is the empty message: the specification wants
 * partial_success unset on full success. Otherwise partial_success holds
 * rejected_spans and error_message (rejected 0 with a message is the
 * specification's warning on an accepted request). message is UTF-8.
 * Returns OTELC_OK, or OTELC_ERR_NOMEM when out could not grow (or had
 * failed before).
 */
int vw_reply_export(otelc_buf *out, uint64_t rejected, const char *message);

/* google.rpc.Code values the receiver answers with. */
enum {
    VW_RPC_INVALID_ARGUMENT = 3,
    VW_RPC_RESOURCE_EXHAUSTED = 8,
    VW_RPC_INTERNAL = 13,
    VW_RPC_UNAVAILABLE = 14,
};

/* What a google.rpc.Status says. Zero-initialise and set what applies. */
typedef struct vw_rpc_status {
    int32_t code;        /* a google.rpc.Code; 0 (OK) is left out on the wire */
    const char *message; /* for the developer, UTF-8; may be NULL */
    /*
     * Bad data (HTTP 400, INVALID_ARGUMENT): when either is set, a
     * google.rpc.BadRequest detail with one field violation, field naming
     * where in the request (may be NULL) and description saying what.
     */
    const char *bad_field;
    const char *bad_description;
    /*
     * Throttling (HTTP 429/503, UNAVAILABLE, RESOURCE_EXHAUSTED): when set,
     * a google.rpc.RetryInfo detail asking the sender to wait
     * retry_delay_ms (0: no particular wait) before retrying. Without it a
     * gRPC sender must not retry RESOURCE_EXHAUSTED.
     */
    bool retry;
    uint64_t retry_delay_ms;
} vw_rpc_status;

/* Append st as a google.rpc.Status to out. OTELC_OK or OTELC_ERR_NOMEM, as vw_reply_export(). */
int vw_reply_status(otelc_buf *out, const vw_rpc_status *st);

/*
 * The same Status in the proto3 JSON mapping, for the failures of an
 * OTLP/HTTP request sent as JSON (the specification wants the response in
 * the request's encoding): {"code": 3, "message": "...", "details": [{"@type":
 * "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field":
 * "...", "description": "..."}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo",
 * "retryDelay": "1.500s"}]}, members holding defaults left out as protobuf
 * leaves them out. OTELC_OK or OTELC_ERR_NOMEM.
 */
int vw_reply_status_json(otelc_buf *out, const vw_rpc_status *st);

#endif
