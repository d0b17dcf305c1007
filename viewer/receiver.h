/*
 * receiver.h - the receivers of `otelc view`: OTLP/HTTP (POST /v1/traces,
 * protobuf or JSON), Zipkin v2 (POST /api/v2/spans, JSON) and OTLP/gRPC
 * (receiver_grpc.c, behind grpc_server.h).
 *
 * Each decodes a request into a batch, hands the batch to the ingest
 * queue and answers as its protocol says, a success only once the batch
 * is committed (ingest.h): a sender never hears "stored" for spans a
 * kill -9 could still lose, and nothing of a refused request is stored.
 *
 * OTLP/HTTP answers as opentelemetry-proto's specification says: the
 * response in the request's encoding (Content-Type application/x-protobuf
 * or application/json); 200 with an ExportTraceServiceResponse, its
 * partial_success set when spans were rejected (invalid ids); 400 with a
 * google.rpc.Status (a BadRequest detail) for a body that is no request;
 * 413 past the bounds; 415 for another Content-Type or Content-Encoding;
 * 429 with Retry-After when the ingest queue is full, 503 with
 * Retry-After when the store failed, the viewer is stopping or memory ran
 * out (a Status with a RetryInfo detail in both). Zipkin answers 202
 * Accepted with no body, as a Zipkin server does; its failures carry
 * {"error": "..."}. Spans Zipkin's decoder rejects (invalid ids) are left
 * out while the others are stored and acknowledged: Zipkin has no partial
 * success to report them with.
 */
#ifndef OTELC_VIEWER_RECEIVER_H
#define OTELC_VIEWER_RECEIVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "grpc_server.h"
#include "http.h"
#include "ingest.h"

/* Seconds a sender is asked to wait (Retry-After, RetryInfo) before retrying. */
#define VW_RETRY_FULL_S   1 /* the ingest queue is full: it drains within a commit or two */
#define VW_RETRY_FAILED_S 5 /* the store failed, or the viewer is stopping */

typedef enum vw_receiver_kind {
    VW_RECEIVE_OTLP,   /* POST /v1/traces */
    VW_RECEIVE_ZIPKIN, /* POST /api/v2/spans */
} vw_receiver_kind;

typedef enum vw_body_format {
    VW_FORMAT_UNSUPPORTED, /* a 415 */
    VW_FORMAT_PROTOBUF,    /* application/x-protobuf (OTLP only) */
    VW_FORMAT_JSON,        /* application/json */
} vw_body_format;

/*
 * The format of a body sent to receiver k with content_type (a
 * Content-Type value: the media type, any case, parameters such as
 * charset allowed; NULL when absent), VW_FORMAT_UNSUPPORTED for anything
 * the receiver does not read, a missing type included.
 */
vw_body_format vw_receiver_format(vw_receiver_kind k, const char *content_type);

/*
 * Fill rs (zeroed) with a refusal, status 400 to 599, in receiver k's
 * shape for a body of format f: for OTLP a google.rpc.Status in the
 * request's encoding (protobuf when f is VW_FORMAT_UNSUPPORTED), with a
 * Retry-After header and a RetryInfo detail for 429 and 503. message is
 * for the developer (UTF-8).
 */
void vw_receiver_refuse(vw_receiver_kind k, vw_body_format f, unsigned status, const char *message,
                        vw_response *rs);

/* Where the receivers store, and what they count. */
typedef struct vw_receiver_target {
    vw_ingest *ingest;
    uint32_t timeout_ms;        /* an HTTP receiver waits this long for its commit, then 503 */
    _Atomic uint64_t *rejected; /* spans left out of acknowledged requests as invalid, or NULL */
} vw_receiver_target;

/*
 * Handle one whole request body (len bytes at body, NUL-terminated, of
 * format f, which is not VW_FORMAT_UNSUPPORTED): decode it, store its
 * spans through t, and fill rs (zeroed) with the answer. Runs on the
 * request's thread.
 */
void vw_receiver_handle(const vw_receiver_target *t, vw_receiver_kind k, vw_body_format f,
                        const char *body, size_t len, vw_response *rs);

/* ---- OTLP/gRPC (receiver_grpc.c) ------------------------------------------------------------ */

typedef struct vw_grpc_receiver vw_grpc_receiver;

/* A receiver storing through t (copied; timeout_ms unused); NULL when out of memory. */
vw_grpc_receiver *vw_grpc_receiver_new(const vw_receiver_target *t);

/*
 * A call of the trace export method, from grpc_server's on_call (the
 * server thread: it never blocks). The message is decoded there and
 * queued; the call is finished from the ingest thread once its batch is
 * decided: OK with an ExportTraceServiceResponse (partial_success for
 * rejected spans), INVALID_ARGUMENT for an undecodable message,
 * RESOURCE_EXHAUSTED past the bounds (without a retry delay: resending
 * cannot help) or when the queue is full (with one), UNAVAILABLE with a
 * retry delay when the store failed, memory ran out or the viewer is
 * stopping.
 */
void vw_grpc_receiver_call(vw_grpc_receiver *r, vw_grpc_call *call, const uint8_t *msg, size_t len);

/* Calls taken and not finished yet (for a stop that lets them finish). */
size_t vw_grpc_receiver_pending(vw_grpc_receiver *r);

/*
 * Free the receiver. Only once no call is pending: after the ingest
 * thread has stopped (which decides every queued batch). NULL is ignored.
 */
void vw_grpc_receiver_free(vw_grpc_receiver *r);

#endif
