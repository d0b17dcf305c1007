/*
 * batch.h - spans decoded from one request to the viewer, in the SDK's own
 * model (otelc_span_data), whatever the wire format was: OTLP protobuf
 * (decode_proto.c), OTLP JSON (decode_json.c) or Zipkin v2 JSON
 * (decode_zipkin.c).
 *
 * A batch owns everything its spans point at: strings, attribute tables,
 * events and links live in its arena; resources and scopes in its own
 * lists. Spans of one ResourceSpans share one resource pointer and spans
 * of one ScopeSpans one scope pointer, so the SDK's exporters (which group
 * by pointer) re-encode a batch as the sender grouped it.
 *
 * Every string is NUL-terminated and valid UTF-8 (invalid sequences are
 * replaced by U+FFFD on decoding), and every otelc_value length is exact.
 * Ids are checked: a span whose trace id or span id is missing, of the
 * wrong length or all zeros is not in the batch but counted in rejected
 * (the OTLP partial success), the first reason kept in reject_reason.
 */
#ifndef OTELC_VIEWER_BATCH_H
#define OTELC_VIEWER_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Bounds every decoder enforces; a request beyond them is refused whole. */
#define VW_MAX_SPANS_PER_REQUEST 100000
/* Nesting of arrays and maps inside one AnyValue: libotelc's bound, counted as it counts. */
#define VW_MAX_VALUE_DEPTH OTELC_MAX_VALUE_DEPTH
/*
 * Attributes a received resource keeps; those after are dropped and counted
 * (vw_batch_add_resource_counted()). otelc_resource_new() looks each key
 * up among those before it: without a bound a request of resources with
 * thousands of attributes would cost quadratic time.
 */
#define VW_MAX_RESOURCE_ATTRS 128

typedef struct vw_batch {
    otelc_span_data *spans; /* count spans, in the order they were sent */
    size_t count;
    size_t rejected;         /* spans left out as invalid */
    char reject_reason[256]; /* why the first of them was ("" when none) */

    /* Owned storage: released by vw_batch_free(). */
    otelc_arena arena;          /* strings, attributes, events, links, scopes */
    size_t arena_chunk;         /* size of the arena's next chunk (they grow) */
    otelc_resource **resources; /* one per ResourceSpans (or Zipkin service) */
    size_t resource_count, resource_cap;
    size_t span_cap;
} vw_batch;

/* Decoding outcomes. */
typedef enum vw_decode_status {
    VW_DECODE_OK = 0,      /* the batch holds what was valid (maybe nothing) */
    VW_DECODE_INVALID = 1, /* the body is not a well-formed request: a 400 */
    VW_DECODE_TOO_BIG = 2, /* more spans or deeper nesting than the bounds: a 413 */
    VW_DECODE_NOMEM = 3,   /* out of memory: a 503 */
} vw_decode_status;

/* An empty batch, ready for a decoder. */
void vw_batch_init(vw_batch *b);

/* Free everything the batch owns; it is empty (and reusable) afterwards. */
void vw_batch_free(vw_batch *b);

/*
 * Empty the batch for the next request but keep its memory (the span
 * array and one arena chunk, up to a few MiB), so that a receiver thread
 * decoding request after request into one batch allocates nothing once
 * warm. What the spans pointed at is gone, as with vw_batch_free().
 */
void vw_batch_reset(vw_batch *b);

/* ---- For decoders --------------------------------------------------------------- */

/* A new zeroed span at the end of the batch, or NULL when out of memory (or full). */
otelc_span_data *vw_batch_add_span(vw_batch *b);

/* Take the last span added back out (it turned out invalid after all). */
void vw_batch_drop_last(vw_batch *b);

/*
 * A resource made of attrs (copied) owned by the batch, for the spans that
 * follow to point at; NULL when out of memory.
 */
otelc_resource *vw_batch_add_resource(vw_batch *b, const otelc_attr *attrs, size_t count,
                                      const char *schema_url);

/*
 * As vw_batch_add_resource(), for a resource that says how many attributes
 * its sender dropped (OTLP's dropped_attributes_count). A resource holds
 * each key once and only non-empty keys (otelc_resource_new()), and here
 * at most VW_MAX_RESOURCE_ATTRS: attributes it could not keep as they came
 * (a repeated key, whose last value wins, an empty key, a value it cannot
 * hold, those beyond the bound) are added to the count, so that the loss
 * stays visible (otelc__resource_dropped_count()).
 */
otelc_resource *vw_batch_add_resource_counted(vw_batch *b, const otelc_attr *attrs, size_t count,
                                              const char *schema_url, uint32_t dropped);

/* Count one rejected span; the first reason is kept (printf-style). */
void vw_batch_reject(vw_batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * size bytes from the batch's arena, aligned for any type; NULL when out of
 * memory. The arena's chunks double in size as a batch grows (16 KiB to
 * 4 MiB), so decoding a request costs a few mallocs, not one per span, and
 * none in a batch reused after vw_batch_reset() once it has grown.
 */
void *vw_batch_alloc(vw_batch *b, size_t size);

/*
 * Narrow an OTELC_VALUE_ARRAY (items: otelc_value[count] in the arena)
 * whose items all have one scalar type into the typed array the SDK
 * itself records: all strings (none holding a NUL, which a const char *
 * could not carry), all bools, all ints or all doubles become
 * OTELC_VALUE_STRING_ARRAY ... OTELC_VALUE_DOUBLE_ARRAY. Any other array,
 * the empty one included, stays as it is. Either re-encodes as the same
 * OTLP ArrayValue: every decoder applies this one rule. False when out of
 * memory (v unchanged).
 */
bool vw_batch_narrow_array(vw_batch *b, otelc_value *v);

/*
 * Decode the n hex digits at s, either case, into n / 2 bytes at out
 * (OTLP/JSON and Zipkin send ids as hex; OTLP/JSON's are case-insensitive).
 * False when n is odd or a character is not a hex digit.
 */
bool vw_hex_decode(const char *s, size_t n, uint8_t *out);

/*
 * A NUL-terminated copy of s[0..n) in the arena, every malformed UTF-8
 * byte replaced by U+FFFD (the copy may then be longer: *out_len, when not
 * NULL, receives its length). NULL when out of memory.
 */
char *vw_batch_str(vw_batch *b, const char *s, size_t n, size_t *out_len);

/*
 * As vw_batch_str(), for s[0..n) known to be valid UTF-8 already (the JSON
 * reader's strings in its lossy mode): the copy, n bytes and the NUL, or
 * NULL when out of memory.
 */
char *vw_batch_str_valid(vw_batch *b, const char *s, size_t n);

#endif
