/*
 * jobs.c - PRODUCER and CONSUMER spans around background jobs, with the
 * producer's context carried in the job record as a string.
 */
#include <stdio.h>
#include <string.h>

#include "otelc/instrument/jobs.h"

#define DEFAULT_SYSTEM "otelc.jobs"

static const char *queue_name(const otelc_job_queue *q)
{
    return q && q->queue && *q->queue ? q->queue : NULL;
}

/* "send orders" / "process orders": operation then destination, as the conventions name them. */
static void span_name(char *out, size_t size, const char *op, const otelc_job_queue *q)
{
    const char *dest = queue_name(q);
    if (dest)
        snprintf(out, size, "%s %s", op, dest);
    else
        snprintf(out, size, "%s", op);
}

static size_t messaging_attrs(otelc_attr *attrs, const otelc_job_queue *q, const char *op)
{
    size_t n = 0;
    const char *system = q && q->system && *q->system ? q->system : DEFAULT_SYSTEM;
    attrs[n++] = OTELC_ATTR_STR("messaging.system", system);
    attrs[n++] = OTELC_ATTR_STR("messaging.operation.type", op);
    attrs[n++] = OTELC_ATTR_STR("messaging.operation.name", op);
    if (queue_name(q)) attrs[n++] = OTELC_ATTR_STR("messaging.destination.name", q->queue);
    return n;
}

otelc_span *otelc_job_send_start(otelc_tracer *tracer, const otelc_job_queue *q)
{
    otelc_attr attrs[4];
    char name[128];
    otelc_span_options o = {.kind = OTELC_SPAN_PRODUCER, .attrs = attrs};
    o.attr_count = messaging_attrs(attrs, q, "send");
    span_name(name, sizeof(name), "send", q);
    return otelc_span_start_with(tracer, name, &o);
}

int otelc_job_context_write(const otelc_span *producer, char *out, size_t out_size)
{
    otelc_span_context sc = otelc_span_get_context(producer);
    otelc_context *ctx;
    int rc;
    if (!out || out_size == 0) return OTELC_ERR_INVALID_ARG;
    ctx = otelc_context_new(&sc, otelc_baggage_current());
    if (!ctx) return OTELC_ERR_NOMEM;
    rc = otelc_context_serialize(ctx, out, out_size);
    otelc_context_release(ctx);
    if (rc >= 0 && (size_t)rc >= out_size) out[0] = '\0'; /* never leave a cut context behind */
    return rc;
}

otelc_span *otelc_job_process_start(otelc_tracer *tracer, const otelc_job_queue *q,
                                    const char *text, otelc_job_relation rel,
                                    otelc_context **ctx_out)
{
    otelc_attr attrs[4];
    char name[128];
    otelc_context *ctx = text ? otelc_context_deserialize(text) : NULL;
    otelc_span_context creation = otelc_context_span_context(ctx);
    int valid = otelc_span_context_is_valid(&creation);
    otelc_link link = {.context = creation};
    otelc_span_options o = {.kind = OTELC_SPAN_CONSUMER, .attrs = attrs};
    o.attr_count = messaging_attrs(attrs, q, "process");
    if (valid) {
        o.links = &link;
        o.link_count = 1;
    }
    /* A worker's own current context is never the job's parent: the record is. */
    if (valid && rel == OTELC_JOB_CHILD)
        o.parent = ctx;
    else
        o.root = true;
    span_name(name, sizeof(name), "process", q);
    otelc_span *span = otelc_span_start_with(tracer, name, &o);
    if (ctx_out)
        *ctx_out = ctx;
    else
        otelc_context_release(ctx);
    return span;
}
