/*
 * grpc.c - OTLP/gRPC as a unary call over the HTTP/2 client (h2_client.c).
 *
 * A unary gRPC call is one HTTP/2 POST: the request message in a 5-byte
 * length-prefixed frame, the response message in another, and the outcome
 * in the grpc-status trailer (or in the headers of a "trailers-only"
 * response, which is how servers answer errors without a body). That is
 * small enough to speak directly over HTTP/2, without a gRPC runtime. This
 * file turns what came back into a gRPC status and the status into a
 * retry verdict.
 */
#include <stdio.h>
#include <string.h>

#include "export/otlp.h"

#define FRAME_HEADER OTELC_GRPC_FRAME_HEADER

/* gRPC's mapping for answers from something that is not a gRPC server (a proxy). */
int otelc__grpc_status_from_http(long http_status)
{
    switch (http_status) {
    case 400:
        return 13; /* INTERNAL */
    case 401:
        return 16; /* UNAUTHENTICATED */
    case 403:
        return 7; /* PERMISSION_DENIED */
    case 404:
        return 12; /* UNIMPLEMENTED */
    case 429:
    case 502:
    case 503:
    case 504:
        return 14; /* UNAVAILABLE */
    default:
        return 2; /* UNKNOWN */
    }
}

/* The gRPC protocol's mapping of RST_STREAM error codes (PROTOCOL-HTTP2.md, "Errors"). */
int otelc__grpc_status_from_h2_error(uint32_t error_code)
{
    switch (error_code) {
    case 7:        /* REFUSED_STREAM: not processed, may be retried */
        return 14; /* UNAVAILABLE */
    case 8:        /* CANCEL */
        return 1;  /* CANCELLED */
    case 11:       /* ENHANCE_YOUR_CALM */
        return 8;  /* RESOURCE_EXHAUSTED */
    case 12:       /* INADEQUATE_SECURITY */
        return 7;  /* PERMISSION_DENIED */
    default:
        return 13; /* INTERNAL: NO_ERROR without a status included */
    }
}

size_t otelc__grpc_frame_begin(otelc_buf *out)
{
    static const uint8_t placeholder[FRAME_HEADER];
    size_t at = out->len;
    otelc__buf_append(out, placeholder, sizeof placeholder);
    return at;
}

bool otelc__grpc_frame_header(uint8_t out[FRAME_HEADER], size_t n, bool compressed)
{
    if (n > UINT32_MAX) return false;
    out[0] = compressed ? 1 : 0;
    out[1] = (uint8_t)(n >> 24), out[2] = (uint8_t)(n >> 16), out[3] = (uint8_t)(n >> 8),
    out[4] = (uint8_t)n;
    return true;
}

int otelc__grpc_frame_end(otelc_buf *out, size_t at, bool compressed)
{
    if (out->failed) return OTELC_ERR_NOMEM;
    size_t n = out->len - at - FRAME_HEADER;
    return otelc__grpc_frame_header((uint8_t *)out->data + at, n, compressed) ? OTELC_OK
                                                                              : OTELC_ERR_NOMEM;
}

/*
 * The ExportTraceServiceResponse in the response frame. We never announce
 * grpc-accept-encoding, so a compliant server answers uncompressed; a
 * compressed or cut-off frame is reported and otherwise ignored (the
 * status already said the export succeeded).
 */
static void parse_response(const otelc_buf *body, otelc_otlp_response *parsed)
{
    const uint8_t *p = (const uint8_t *)body->data;
    if (body->len < FRAME_HEADER) return; /* no message: nothing was rejected */
    uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (p[0] != 0 || n > body->len - FRAME_HEADER ||
        otelc__otlp_parse_response_proto(p + FRAME_HEADER, n, parsed) != OTELC_OK)
        otelc__log(OTELC_LOG_DEBUG, "OTLP/gRPC: unreadable response message ignored");
}

/*
 * The outcome of a call that produced an HTTP response; a status the
 * server did not send is made up, with a message saying so.
 */
static int call_status(otelc_http_response *r)
{
    if (r->grpc_status >= 0) return r->grpc_status;
    if (r->h2_reset >= 0) {
        if (!r->grpc_message[0])
            snprintf(r->grpc_message, sizeof r->grpc_message,
                     "stream reset by the server (HTTP/2 error %ld)", r->h2_reset);
        return otelc__grpc_status_from_h2_error((uint32_t)r->h2_reset);
    }
    if (r->status != 200) return otelc__grpc_status_from_http(r->status);
    return 13; /* a 200 without grpc-status: the call broke off (INTERNAL) */
}

otelc_attempt otelc__grpc_outcome(otelc_http_response *resp, otelc_otlp_response *parsed)
{
    otelc_attempt a = {OTELC_RETRY_AGAIN, false, 0};
    if (resp->cancelled) {
        a.verdict = OTELC_RETRY_FAIL;
        return a;
    }
    if (resp->transport_error) {
        a.verdict = otelc__retry_transport_verdict(resp->transport_error);
        return a;
    }
    int st = call_status(resp);
    a.has_delay =
        otelc__grpc_retry_info(resp->status_details, strlen(resp->status_details), &a.delay_ms);
    a.verdict = otelc__retry_grpc_verdict(st, a.has_delay);
    if (a.verdict == OTELC_RETRY_DONE) parse_response(&resp->body, parsed);
    if (resp->grpc_status < 0) resp->grpc_status = st;
    return a;
}

otelc_attempt otelc__otlp_grpc_attempt(otelc_h2 *h, const otelc_body *frame, uint32_t timeout_ms,
                                       _Atomic bool *cancel, otelc_http_response *resp,
                                       otelc_otlp_response *parsed)
{
    otelc__h2_post(h, frame, timeout_ms, cancel, resp);
    return otelc__grpc_outcome(resp, parsed);
}
