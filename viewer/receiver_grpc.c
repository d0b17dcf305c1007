/*
 * receiver_grpc.c - OTLP/gRPC calls: decoded on the gRPC server's thread,
 * queued for the ingest thread, finished from there once the batch is
 * decided (receiver.h).
 *
 * The server thread must never wait, so a call is submitted without
 * waiting (vw_ingest_submit()) and carries what its answer needs (the
 * rejected spans) to the ingest thread's callback.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "decode_proto.h"
#include "otlp_reply.h"
#include "receiver.h"

struct vw_grpc_receiver {
    vw_receiver_target target;
    pthread_mutex_t lock;
    size_t pending; /* calls submitted and not finished */
};

/* One call on its way through the ingest queue. */
typedef struct pending_call {
    vw_grpc_receiver *r;
    vw_grpc_call *call;
    size_t rejected;
    char reason[sizeof((vw_batch *)0)->reject_reason];
} pending_call;

vw_grpc_receiver *vw_grpc_receiver_new(const vw_receiver_target *t)
{
    vw_grpc_receiver *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->target = *t;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void count_pending(vw_grpc_receiver *r, int delta)
{
    pthread_mutex_lock(&r->lock);
    r->pending = delta > 0 ? r->pending + 1 : r->pending - 1;
    pthread_mutex_unlock(&r->lock);
}

size_t vw_grpc_receiver_pending(vw_grpc_receiver *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->pending;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void vw_grpc_receiver_free(vw_grpc_receiver *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* OK with an ExportTraceServiceResponse saying how many spans were left out. */
static void finish_ok(vw_grpc_receiver *r, vw_grpc_call *call, size_t rejected, const char *reason)
{
    if (r->target.rejected && rejected) atomic_fetch_add(r->target.rejected, rejected);
    otelc_buf out = {0};
    vw_reply_export(&out, rejected, rejected ? reason : NULL);
    if (out.failed)
        vw_grpc_call_finish(call, VW_GRPC_UNAVAILABLE, "out of memory", NULL, 0,
                            VW_RETRY_FAILED_S * 1000);
    else
        vw_grpc_call_finish(call, VW_GRPC_OK, NULL, (const uint8_t *)out.data, out.len, 0);
    otelc__buf_free(&out);
}

/* The answer to a batch the ingest queue did not commit. */
static void finish_refused(vw_grpc_call *call, vw_ingest_result r)
{
    if (r == VW_INGEST_FULL)
        vw_grpc_call_finish(call, VW_GRPC_RESOURCE_EXHAUSTED,
                            "otelc view is busy writing earlier spans; retry shortly", NULL, 0,
                            VW_RETRY_FULL_S * 1000);
    else if (r == VW_INGEST_STOPPED)
        vw_grpc_call_finish(call, VW_GRPC_UNAVAILABLE, "otelc view is stopping", NULL, 0,
                            VW_RETRY_FAILED_S * 1000);
    else
        vw_grpc_call_finish(call, VW_GRPC_UNAVAILABLE,
                            "otelc view could not store the spans (see its log); retry later", NULL,
                            0, VW_RETRY_FAILED_S * 1000);
}

/* The ingest thread decided the call's batch. */
static void batch_decided(void *ctx, vw_ingest_result result)
{
    pending_call *pc = ctx;
    if (result == VW_INGEST_COMMITTED)
        finish_ok(pc->r, pc->call, pc->rejected, pc->reason);
    else
        finish_refused(pc->call, result);
    count_pending(pc->r, -1);
    free(pc);
}

static void finish_undecoded(vw_grpc_call *call, vw_decode_status st)
{
    if (st == VW_DECODE_INVALID)
        vw_grpc_call_finish(call, VW_GRPC_INVALID_ARGUMENT,
                            "the message is not a protobuf ExportTraceServiceRequest", NULL, 0, 0);
    else if (st == VW_DECODE_TOO_BIG)
        vw_grpc_call_finish(call, VW_GRPC_RESOURCE_EXHAUSTED,
                            "the request holds too many spans or values nested too deep; send "
                            "smaller batches",
                            NULL, 0, 0);
    else
        vw_grpc_call_finish(call, VW_GRPC_UNAVAILABLE, "out of memory", NULL, 0,
                            VW_RETRY_FAILED_S * 1000);
}

void vw_grpc_receiver_call(vw_grpc_receiver *r, vw_grpc_call *call, const uint8_t *msg, size_t len)
{
    vw_batch b;
    vw_ingest_batch_get(r->target.ingest, &b);
    vw_decode_status st = vw_decode_otlp_proto(msg, len, &b);
    pending_call *pc = st == VW_DECODE_OK ? malloc(sizeof *pc) : NULL;
    if (st == VW_DECODE_OK && !pc) st = VW_DECODE_NOMEM;
    if (st != VW_DECODE_OK) {
        finish_undecoded(call, st);
    } else if (b.count == 0) { /* nothing to store: an empty request, or every span rejected */
        finish_ok(r, call, b.rejected, b.reject_reason);
        free(pc);
    } else {
        *pc = (pending_call){.r = r, .call = call, .rejected = b.rejected};
        memcpy(pc->reason, b.reject_reason, sizeof pc->reason);
        count_pending(r, +1);
        vw_ingest_result res = vw_ingest_submit(r->target.ingest, &b, batch_decided, pc);
        if (res != VW_INGEST_QUEUED) {
            count_pending(r, -1);
            finish_refused(call, res);
            free(pc);
        }
    }
    vw_ingest_batch_put(r->target.ingest, &b); /* when not queued: refused, or nothing to store */
}
