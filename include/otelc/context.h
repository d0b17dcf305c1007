/*
 * otelc/context.h - span contexts, contexts, baggage and the per-thread
 * current context.
 *
 * A span context is a small value (ids and flags) that identifies a span
 * anywhere in a distributed trace. A context (otelc_context) is an immutable,
 * reference-counted bundle of a span context and baggage that can be handed
 * between threads or serialised into a job record. Baggage is an immutable
 * key/value map that travels with a request.
 */
#ifndef OTELC_CONTEXT_H
#define OTELC_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* W3C trace-flags bits. */
#define OTELC_TRACE_FLAG_SAMPLED 0x01
#define OTELC_TRACE_FLAG_RANDOM  0x02

/* Lengths of the hex forms, without the terminating NUL. */
#define OTELC_TRACE_ID_HEX_LEN 32
#define OTELC_SPAN_ID_HEX_LEN  16

/*
 * The identity of a span as it crosses process boundaries. A span context is
 * valid when neither id is all zeros. trace_state points at the W3C
 * tracestate header value (or is NULL); it stays valid as long as the span or
 * context it was taken from.
 */
typedef struct otelc_span_context {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;
    bool is_remote;
    const char *trace_state;
} otelc_span_context;

#ifndef OTELC_NOOP
/* True when neither the trace id nor the span id is all zeros. */
bool otelc_span_context_is_valid(const otelc_span_context *sc);

/* True when the sampled bit of trace_flags is set. */
bool otelc_span_context_is_sampled(const otelc_span_context *sc);

/*
 * Write the trace id as 32 lowercase hex digits plus a NUL into out, for log
 * correlation. A NULL span context writes 32 zeros. Returns out.
 */
char *otelc_trace_id_hex(const otelc_span_context *sc, char out[33]);

/* Write the span id as 16 lowercase hex digits plus a NUL. Returns out. */
char *otelc_span_id_hex(const otelc_span_context *sc, char out[17]);
#endif

/* ---- Baggage ---------------------------------------------------------- */

/*
 * Immutable key/value pairs (W3C Baggage). Every "set" returns a new baggage
 * and leaves the old one untouched, so a baggage can be shared between
 * threads freely. NULL is a valid, empty baggage. Release with
 * otelc_baggage_release().
 */
typedef struct otelc_baggage otelc_baggage;

#ifndef OTELC_NOOP
/* The value stored under key, or NULL. Valid while bg is referenced. */
const char *otelc_baggage_get(const otelc_baggage *bg, const char *key);

/*
 * The metadata (W3C "properties", the text after the first ';') stored with
 * key, or NULL when there is none.
 */
const char *otelc_baggage_get_metadata(const otelc_baggage *bg, const char *key);

/*
 * A new baggage equal to bg with key set to value (replacing an existing
 * entry). metadata may be NULL. Returns NULL on allocation failure or when
 * key is not a valid W3C token; bg is never modified.
 */
otelc_baggage *otelc_baggage_set(const otelc_baggage *bg, const char *key, const char *value,
                                 const char *metadata);

/* A new baggage equal to bg without key. */
otelc_baggage *otelc_baggage_remove(const otelc_baggage *bg, const char *key);

/* Number of entries. */
size_t otelc_baggage_count(const otelc_baggage *bg);

/*
 * The i-th entry (0 <= i < count) in insertion order; returns false when i
 * is out of range. Pointers stay valid while bg is referenced.
 */
bool otelc_baggage_entry(const otelc_baggage *bg, size_t i, const char **key, const char **value,
                         const char **metadata);

/* Take another reference. Returns bg. */
otelc_baggage *otelc_baggage_retain(const otelc_baggage *bg);

/* Drop a reference; the last one frees. NULL is ignored. */
void otelc_baggage_release(const otelc_baggage *bg);
#endif

/* ---- Contexts --------------------------------------------------------- */

/*
 * An immutable snapshot: a span context (possibly invalid) and a baggage.
 * NULL means "the empty context". Contexts are reference counted and may be
 * shared between threads.
 */
typedef struct otelc_context otelc_context;

#ifndef OTELC_NOOP
/*
 * A new context holding sc (copied, tracestate included) and bg (retained).
 * Either may be NULL. Returns NULL on allocation failure.
 */
otelc_context *otelc_context_new(const otelc_span_context *sc, const otelc_baggage *bg);

/* The span context carried by ctx; an invalid (all-zero) one for NULL. */
otelc_span_context otelc_context_span_context(const otelc_context *ctx);

/* The baggage carried by ctx (borrowed; may be NULL). */
const otelc_baggage *otelc_context_baggage(const otelc_context *ctx);

/* A new context equal to ctx but with baggage bg. */
otelc_context *otelc_context_with_baggage(const otelc_context *ctx, const otelc_baggage *bg);

/* A new context equal to ctx but with span context sc. */
otelc_context *otelc_context_with_span_context(const otelc_context *ctx,
                                               const otelc_span_context *sc);

/* Take another reference. Returns ctx. */
otelc_context *otelc_context_retain(const otelc_context *ctx);

/* Drop a reference; the last one frees. NULL is ignored. */
void otelc_context_release(const otelc_context *ctx);

/*
 * A snapshot of this thread's current context (active span's context and
 * current baggage), for handing to another thread or a job queue. Never NULL
 * unless out of memory. Release it when done.
 */
otelc_context *otelc_context_current(void);
#endif

/*
 * A token returned by the activate/attach calls; pass it to
 * otelc_scope_exit() to restore what was current before. Scopes must be
 * exited in reverse order on the thread that made them.
 */
typedef struct otelc_scope {
    uint32_t depth;
    uint32_t generation;
} otelc_scope;

#ifndef OTELC_NOOP
/*
 * Make ctx the current context on this thread (retains it) until the scope
 * exits. Spans started without an explicit parent become its children.
 */
otelc_scope otelc_context_attach(const otelc_context *ctx);

/*
 * Restore the current context to what it was before the matching
 * activate/attach. Exiting out of order is reported through the diagnostic
 * log and unwinds every scope above the one exited.
 */
void otelc_scope_exit(otelc_scope scope);

/* The baggage of this thread's current context (borrowed; may be NULL). */
const otelc_baggage *otelc_baggage_current(void);

/*
 * Serialise ctx (span context, tracestate and baggage) into a printable
 * string for a job record: the W3C traceparent, then optional
 * ";tracestate=" and ";baggage=" parts, percent-encoded. Returns the length
 * written (excluding the NUL), or the length needed when it does not fit, or
 * a negative otelc error code.
 */
int otelc_context_serialize(const otelc_context *ctx, char *out, size_t out_size);

/*
 * Parse a string written by otelc_context_serialize(). Returns NULL on
 * malformed input (the caller should then start a new trace). The span
 * context of the result is marked remote.
 */
otelc_context *otelc_context_deserialize(const char *text);
#else
#define OTELC__NOOP_CONTEXT
#include "noop.h"
#endif

#ifdef __cplusplus
}
#endif
#endif
