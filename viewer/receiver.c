/*
 * receiver.c - OTLP/HTTP and Zipkin requests: decode, store, answer
 * (receiver.h).
 *
 * The bytes of the answers are those of otlp_reply.h (protobuf, and the
 * JSON Status) and decode_json.h (the JSON ExportTraceServiceResponse).
 * Spans left out as invalid are counted in the receivers' counter
 * (/api/status reads it).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decode_json.h"
#include "decode_proto.h"
#include "decode_zipkin.h"
#include "otlp_reply.h"
#include "receiver.h"

#define CT_PROTOBUF "application/x-protobuf"
#define CT_JSON     "application/json"

/* The media type of a Content-Type value (before ';', spaces trimmed) is want, any case. */
static bool media_type_is(const char *ct, const char *want)
{
    if (!ct) return false;
    ct += strspn(ct, " \t");
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    return n == strlen(want) && strncasecmp(ct, want, n) == 0;
}

vw_body_format vw_receiver_format(vw_receiver_kind k, const char *content_type)
{
    if (media_type_is(content_type, CT_JSON)) return VW_FORMAT_JSON;
    if (k == VW_RECEIVE_OTLP && media_type_is(content_type, CT_PROTOBUF)) return VW_FORMAT_PROTOBUF;
    return VW_FORMAT_UNSUPPORTED;
}

/* The google.rpc.Code that goes with an HTTP status (the Status's code is informative only). */
static int32_t rpc_code(unsigned status)
{
    switch (status) {
    case 413:
    case 429:
        return VW_RPC_RESOURCE_EXHAUSTED;
    case 503:
        return VW_RPC_UNAVAILABLE;
    default:
        return status >= 500 ? VW_RPC_INTERNAL : VW_RPC_INVALID_ARGUMENT;
    }
}

static unsigned retry_after_s(unsigned status)
{
    return status == 429 ? VW_RETRY_FULL_S : status == 503 ? VW_RETRY_FAILED_S : 0;
}

static void set_retry_after(vw_response *rs, unsigned seconds)
{
    char v[16];
    snprintf(v, sizeof v, "%u", seconds);
    vw_response_header(rs, "Retry-After", v);
}

static void otlp_refuse(vw_body_format f, unsigned status, const char *message, vw_response *rs)
{
    unsigned retry = retry_after_s(status);
    vw_rpc_status st = {
        .code = rpc_code(status),
        .message = message,
        .retry = retry != 0,
        .retry_delay_ms = (uint64_t)retry * 1000,
    };
    if (status == 400) st.bad_description = message; /* the specification's BadRequest detail */
    rs->status = status;
    otelc__buf_reset(&rs->body);
    if (f == VW_FORMAT_JSON) {
        rs->content_type = CT_JSON;
        vw_reply_status_json(&rs->body, &st);
    } else {
        rs->content_type = CT_PROTOBUF;
        vw_reply_status(&rs->body, &st);
    }
    if (retry) set_retry_after(rs, retry);
}

void vw_receiver_refuse(vw_receiver_kind k, vw_body_format f, unsigned status, const char *message,
                        vw_response *rs)
{
    if (k == VW_RECEIVE_OTLP) {
        otlp_refuse(f, status, message, rs);
        return;
    }
    vw_response_error(rs, status, message);
    unsigned retry = retry_after_s(status);
    if (retry) set_retry_after(rs, retry);
}

/* ---- Decoding ------------------------------------------------------------------------------- */

static vw_decode_status decode(vw_receiver_kind k, vw_body_format f, const char *body, size_t len,
                               vw_batch *b)
{
    if (f == VW_FORMAT_PROTOBUF) return vw_decode_otlp_proto((const uint8_t *)body, len, b);
    if (k == VW_RECEIVE_OTLP) return vw_decode_otlp_json(body, len, b);
    return vw_decode_zipkin_json(body, len, b);
}

/* Why a decoder refused a body, and the status that says it. */
static unsigned decode_refusal(vw_receiver_kind k, vw_body_format f, vw_decode_status st,
                               const char **message)
{
    switch (st) {
    case VW_DECODE_INVALID:
        *message = k == VW_RECEIVE_ZIPKIN ? "the body is not a Zipkin v2 JSON list of spans"
                   : f == VW_FORMAT_JSON  ? "the body is not an OTLP/JSON ExportTraceServiceRequest"
                                          : "the body is not a protobuf ExportTraceServiceRequest";
        return 400;
    case VW_DECODE_TOO_BIG:
        *message = "the request holds too many spans or values nested too deep; send smaller "
                   "batches";
        return 413;
    default:
        *message = "out of memory";
        return 503;
    }
}

/* ---- Answers -------------------------------------------------------------------------------- */

/* What a batch said of itself, kept to answer with once the ingest queue has taken it. */
typedef struct rejections {
    size_t count;
    char reason[sizeof((vw_batch *)0)->reject_reason];
} rejections;

static void otlp_success(vw_body_format f, const rejections *rj, vw_response *rs)
{
    rs->status = 200;
    const char *message = rj->count ? rj->reason : NULL;
    if (f == VW_FORMAT_JSON) {
        rs->content_type = CT_JSON;
        vw_reply_export_json(&rs->body, rj->count, message);
    } else {
        rs->content_type = CT_PROTOBUF;
        vw_reply_export(&rs->body, rj->count, message);
    }
}

static void success(vw_receiver_kind k, vw_body_format f, const rejections *rj, vw_response *rs)
{
    if (k == VW_RECEIVE_OTLP) {
        otlp_success(f, rj, rs);
        return;
    }
    rs->status = 202; /* Zipkin's answer: accepted, no body */
    rs->content_type = NULL;
}

/* The refusal for an ingest outcome other than COMMITTED. */
static unsigned ingest_refusal(vw_ingest_result r, const char **message)
{
    switch (r) {
    case VW_INGEST_FULL:
        *message = "otelc view is busy writing earlier spans; retry shortly";
        return 429;
    case VW_INGEST_STOPPED:
        *message = "otelc view is stopping";
        return 503;
    default:
        *message = "otelc view could not store the spans (see its log); retry later";
        return 503;
    }
}

void vw_receiver_handle(const vw_receiver_target *t, vw_receiver_kind k, vw_body_format f,
                        const char *body, size_t len, vw_response *rs)
{
    vw_batch b;
    vw_ingest_batch_get(t->ingest, &b);
    vw_decode_status st = decode(k, f, body, len, &b);
    const char *why;
    if (st != VW_DECODE_OK) {
        unsigned status = decode_refusal(k, f, st, &why);
        vw_receiver_refuse(k, f, status, why, rs);
    } else {
        rejections rj = {.count = b.rejected};
        memcpy(rj.reason, b.reject_reason, sizeof rj.reason);
        vw_ingest_result r =
            b.count ? vw_ingest_write(t->ingest, &b, t->timeout_ms) : VW_INGEST_COMMITTED;
        if (r == VW_INGEST_COMMITTED) {
            /* Counted once answered: a refused request comes again, its invalid spans with it. */
            if (t->rejected && rj.count) atomic_fetch_add(t->rejected, rj.count);
            success(k, f, &rj, rs);
        } else {
            unsigned status = ingest_refusal(r, &why);
            vw_receiver_refuse(k, f, status, why, rs);
        }
    }
    vw_ingest_batch_put(t->ingest, &b); /* when not queued: refused, or nothing to store */
}
