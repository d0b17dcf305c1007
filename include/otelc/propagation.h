/*
 * otelc/propagation.h - moving context across process boundaries.
 *
 * A propagator injects the current trace context into a carrier (HTTP
 * headers, environment variables, a message's metadata) and extracts it on
 * the other side. Carriers are getter/setter callbacks, so any header
 * representation works; adapters for a header array and for the process
 * environment are ready made.
 */
#ifndef OTELC_PROPAGATION_H
#define OTELC_PROPAGATION_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * For otelc's own instrumentation libraries: a header name's first
 * character, case aside, as one of 64 bits. A set of them tells which
 * headers a carrier cannot hold (see otelc__server_start_lettered).
 */
#define OTELC__HEADER_LETTER(c) ((uint64_t)1 << (((unsigned char)(c) | 0x20) & 63))

/*
 * A carrier. get returns the value of the first field named key (names
 * compare case-insensitively) or NULL. get_all, when present, stores up to
 * max values of every field named key and returns how many there are (so a
 * propagator can see duplicate headers). set stores a field, replacing an
 * existing one of the same name. keys, when present, lists every field name
 * (B3/Jaeger baggage prefixes need it).
 */

typedef struct otelc_carrier {
    void *self;
    const char *(*get)(void *self, const char *key);
    size_t (*get_all)(void *self, const char *key, const char **values, size_t max);
    void (*set)(void *self, const char *key, const char *value);
    size_t (*keys)(void *self, const char **names, size_t max);
} otelc_carrier;

/* ---- Ready carriers ----------------------------------------------------- */

/* A growable list of name/value pairs (owned copies), usable as a carrier. */
typedef struct otelc_headers {
    struct otelc_header {
        char *name;
        char *value;
    } * items;
    size_t count;
    size_t capacity;
} otelc_headers;

#ifndef OTELC_NOOP
/* Append a header (duplicates allowed). Returns an otelc error code. */
int otelc_headers_add(otelc_headers *h, const char *name, const char *value);

/* Set a header, replacing all of that name. */
int otelc_headers_set(otelc_headers *h, const char *name, const char *value);

/* The first value of name (case-insensitive), or NULL. */
const char *otelc_headers_get(const otelc_headers *h, const char *name);

/* Free the contents; the struct itself may then be reused. */
void otelc_headers_clear(otelc_headers *h);

/* A carrier over h. */
otelc_carrier otelc_headers_carrier(otelc_headers *h);

/*
 * A carrier over the process environment: keys map to upper-case variable
 * names with '-' as '_' (traceparent -> TRACEPARENT); set calls setenv, for
 * use just before starting a child process (setenv is not thread-safe).
 */
otelc_carrier otelc_env_carrier(void);

/*
 * A carrier over an envp-style array (NAME=value strings) for a child
 * process: set appends or replaces in *envp, which must be malloc'd and
 * NULL-terminated, like one from otelc_envp_copy(). Free with
 * otelc_envp_free().
 */
otelc_carrier otelc_envp_carrier(char ***envp);

/* A malloc'd copy of environ for otelc_envp_carrier(). */
char **otelc_envp_copy(void);

/* Free an array from otelc_envp_copy(). */
void otelc_envp_free(char **envp);
#endif

/* ---- Propagators ------------------------------------------------------- */

typedef struct otelc_propagator otelc_propagator;

#ifndef OTELC_NOOP
/*
 * The propagators of the standard formats, one for each. Each is a static
 * object, never NULL: give it to any number of composites and providers;
 * otelc_propagator_free() leaves it be.
 */
otelc_propagator *otelc_propagator_tracecontext(void); /* W3C traceparent + tracestate */
otelc_propagator *otelc_propagator_baggage(void);      /* W3C baggage */
otelc_propagator *otelc_propagator_b3(void);           /* b3 single header */
otelc_propagator *otelc_propagator_b3multi(void);      /* X-B3-* headers */
otelc_propagator *otelc_propagator_jaeger(void);       /* uber-trace-id, uberctx-* */

/*
 * A composite running each of parts in order (takes ownership of the
 * array's elements, not of the array).
 */
otelc_propagator *otelc_propagator_composite(otelc_propagator *const *parts, size_t count);

/*
 * A composite from an OTEL_PROPAGATORS style list such as
 * "tracecontext,baggage". Unknown names are skipped with a warning; "none"
 * yields a propagator that does nothing. *bad (may be NULL) receives the
 * number of unknown names.
 */
otelc_propagator *otelc_propagator_from_list(const char *list, int *bad);

/* Free a propagator. NULL is ignored. */
void otelc_propagator_free(otelc_propagator *p);

/*
 * Write ctx (NULL: this thread's current context) into the carrier. An
 * invalid span context writes no trace headers.
 */
void otelc_propagator_inject(const otelc_propagator *p, const otelc_context *ctx,
                             const otelc_carrier *carrier);

/*
 * Read a context from the carrier, on top of base (may be NULL). Invalid
 * input is ignored as the formats require: the result then has an invalid
 * span context. Never NULL unless out of memory. Release it when done.
 */
otelc_context *otelc_propagator_extract(const otelc_propagator *p, const otelc_context *base,
                                        const otelc_carrier *carrier);

/* Inject with the global provider's propagator (tracecontext,baggage without one). */
void otelc_inject(const otelc_context *ctx, const otelc_carrier *carrier);

/* Extract with the global provider's propagator. */
otelc_context *otelc_extract(const otelc_carrier *carrier);
#else
#define OTELC__NOOP_PROPAGATION
#include "noop.h"
#endif

/* ---- Format-level helpers (parsers and writers) ------------------------ */

#define OTELC_TRACEPARENT_LEN 55

/*
 * Parse a traceparent header value (surrounding spaces and tabs trimmed;
 * versions above 00 handled as the W3C rules say). Returns OTELC_OK and
 * fills sc (is_remote set, trace_state NULL), or OTELC_ERR_PARSE.
 */
int otelc_traceparent_parse(const char *value, size_t len, otelc_span_context *sc);

/* Write the version-00 traceparent of sc plus a NUL. Returns 55. */
int otelc_traceparent_format(const otelc_span_context *sc, char out[56]);

/*
 * Validate and normalise a tracestate header value (several header lines
 * joined with ','): drops empty members, surrounding whitespace and every
 * member whose key appeared earlier in the list (the first one is kept),
 * checks keys, values and the 32-member limit. Returns the normalised
 * length written to out (NUL-terminated), 0 when the list is empty, or
 * OTELC_ERR_PARSE when it is invalid and must be discarded.
 */
int otelc_tracestate_normalize(const char *value, size_t len, char *out, size_t out_size);

/*
 * Put key=value first in the tracestate list in (which must be normalised),
 * removing an older entry for key and dropping from the right beyond 32
 * members. Returns the length written to out, or an error code.
 */
int otelc_tracestate_set(const char *in, const char *key, const char *value, char *out,
                         size_t out_size);

/* The value of key in a normalised tracestate, copied to out; false if absent. */
bool otelc_tracestate_get(const char *in, const char *key, char *out, size_t out_size);

/*
 * Parse a W3C baggage header value into a new baggage on top of base
 * (entries in the header win). Invalid members are skipped; limits (180
 * members, 8192 bytes) are enforced. Returns NULL only when nothing valid
 * was found and base is NULL.
 */
otelc_baggage *otelc_baggage_parse(const otelc_baggage *base, const char *value, size_t len);

/*
 * Write bg as a baggage header value (percent-encoding values) into out.
 * Returns the length (excluding NUL) or the length needed if it does not
 * fit; entries that would exceed the limits are left out.
 */
int otelc_baggage_format(const otelc_baggage *bg, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
