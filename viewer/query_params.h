/*
 * query_params.h - the values of the query API's parameters, as the APIs
 * it imitates spell them: Go durations (Jaeger's minDuration and
 * maxDuration, "1.5s", "100ms", "500us"), decimal integers (times in µs,
 * ms or s, limits), Jaeger trace ids (1 to 32 hex digits) and Jaeger's tag
 * filters (a JSON object of strings, or "key:value key2:value2").
 *
 * Every parser takes a NUL-terminated string from the query string of a
 * request anybody may send: it accepts exactly its format, refuses
 * anything else, never reads past the NUL and allocates at most once, in
 * proportion to the input (vw_parse_tags). Pure: no I/O, no global state.
 */
#ifndef OTELC_VIEWER_QUERY_PARAMS_H
#define OTELC_VIEWER_QUERY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "store.h"

/*
 * A Go duration (time.ParseDuration) into nanoseconds: "0", or one or more
 * decimal numbers with an optional fraction, each with a unit: ns, us, µs
 * (U+00B5 or U+03BC), ms, s, m, h, and with days also d (24 h) and w
 * (7 d), the spellings of the Jaeger UI's lookback. "1h30m", "1.5s",
 * ".5ms". True with *out set; false for an empty string, a sign (negative
 * durations mean nothing here), a missing or unknown unit, or a value past
 * INT64_MAX nanoseconds (*out is then untouched).
 */
bool vw_parse_duration(const char *s, bool days, uint64_t *out);

/*
 * A decimal integer of 1 to 20 digits, no sign or space, at most max.
 * True with *out set, false otherwise (*out untouched).
 */
bool vw_parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * A trace id as Jaeger writes it: 1 to 32 hex digits of either case, the
 * high bytes left out when zero (a 64-bit id is 16 digits). True with
 * out[16] set, zero-padded on the left; false otherwise.
 */
bool vw_parse_trace_id(const char *s, uint8_t out[16]);

/* At most this many tag filters in one search. */
#define VW_MAX_TAGS 32

/* Tag filters parsed from a request; the strings live in storage or doc. */
typedef struct vw_tags {
    vw_tag_filter items[VW_MAX_TAGS];
    size_t count;
    char *storage; /* malloc'd; vw_tags_free() releases it */
    json_doc doc;  /* the JSON form's strings */
} vw_tags;

/*
 * Jaeger's tag filters: a JSON object whose members are all strings
 * ({"error":"true","http.status_code":"500"}, what the `tags` parameter
 * carries; a key given twice keeps its last value, as Go's map does), or
 * key:value pairs separated by spaces (the older `tag` form, each split at
 * its first ':'). Returns 0 with *out filled (start from a zeroed
 * vw_tags; release it with vw_tags_free() whatever the result), or -1 with
 * a message in err: not that format, a string that is not UTF-8 or holds
 * a NUL, more than VW_MAX_TAGS filters, or no memory. Whitespace alone is
 * no filter at all.
 */
int vw_parse_tags(const char *text, vw_tags *out, char *err, size_t err_size);

/* Release what vw_parse_tags() allocated; the filters are gone. NULL is ignored. */
void vw_tags_free(vw_tags *t);

#endif
