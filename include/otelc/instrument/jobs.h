/*
 * otelc/instrument/jobs.h - tracing work handed to another thread, process
 * or machine through a job record (a database row, a Redis list entry, a
 * message on a queue).
 *
 * The producer starts a PRODUCER span ("send {queue}") and writes its
 * context into the record as a short string; the worker reads it back and
 * runs the job inside a CONSUMER span ("process {queue}"). Following the
 * messaging conventions, the record carries the producer span's context as
 * the message's creation context, and the CONSUMER span always links to it.
 * By default the CONSUMER span is also its child, so a job processed once
 * and soon appears in the trace that caused it; choose OTELC_JOB_LINK for
 * jobs that run much later, are retried many times, or are processed in
 * batches, where a trace spanning hours or a single parent for many
 * messages would mislead: the consumer then starts a new trace and only
 * links back.
 */
#ifndef OTELC_INSTRUMENT_JOBS_H
#define OTELC_INSTRUMENT_JOBS_H

#include <stddef.h>

#include "../context.h"
#include "../trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Describes the queue. system is messaging.system: the broker or library
 * (e.g. "redis", "postgresql", "rabbitmq"), or a name of your own for an
 * in-house queue; NULL means "otelc.jobs". queue is
 * messaging.destination.name and names the spans; NULL or "" leaves it out
 * (spans are then named "send" and "process").
 */
typedef struct otelc_job_queue {
    const char *system;
    const char *queue;
} otelc_job_queue;

/* How the CONSUMER span relates to the producer's context (see above). */
typedef enum otelc_job_relation {
    OTELC_JOB_CHILD = 0, /* child of the producer span, and linked to it */
    OTELC_JOB_LINK = 1,  /* a new trace, linked to the producer span */
} otelc_job_relation;

/* Room enough for a serialized context without baggage (traceparent and tracestate). */
#define OTELC_JOB_CONTEXT_SIZE 640

/*
 * Start the PRODUCER span for one job, as a child of the current context,
 * with messaging.system, messaging.destination.name,
 * messaging.operation.type "send" and messaging.operation.name "send". End
 * it once the record is stored. Never returns NULL.
 */
otelc_span *otelc_job_send_start(otelc_tracer *tracer, const otelc_job_queue *q);

/*
 * Write the creation context for the job record: producer's span context
 * with this thread's current baggage, in otelc_context_serialize()'s
 * format. Returns the length written, the length needed when out_size is
 * too small (nothing usable is written then), or a negative otelc error.
 */
int otelc_job_context_write(const otelc_span *producer, char *out, size_t out_size);

/*
 * Start the CONSUMER span for a job whose record held text (written by
 * otelc_job_context_write(); NULL or malformed text starts a new trace
 * without a link). Attributes as for the producer with operation
 * "process". The span is not made current; activate it around the job.
 * When ctx_out is not NULL it receives the restored context (baggage
 * included) for otelc_context_attach(), or NULL; release it when done.
 * Never returns NULL.
 */
otelc_span *otelc_job_process_start(otelc_tracer *tracer, const otelc_job_queue *q,
                                    const char *text, otelc_job_relation rel,
                                    otelc_context **ctx_out);

#ifdef __cplusplus
}
#endif
#endif
