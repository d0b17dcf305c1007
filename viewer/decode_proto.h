/*
 * decode_proto.h - OTLP protobuf into a vw_batch: whole requests
 * (ExportTraceServiceRequest, what the receiver gets) and single Span,
 * Resource and InstrumentationScope messages (what the store keeps).
 * Field numbers: opentelemetry-proto, collector/trace/v1, trace/v1,
 * common/v1, resource/v1.
 *
 * Every field of the trace model is read. Where the wire allows more than
 * the model holds, or than a sender should send, the decoder decides:
 *
 * - Framing errors reject the whole request (VW_DECODE_INVALID): a
 *   truncated varint, a length past the end of its message, a known field
 *   with the wrong wire type, wire types 6 and 7, an unmatched end-group.
 *   Unknown fields are skipped by wire type; groups too (proto2's,
 *   deprecated, never in OTLP), as protobuf's own parsers skip them.
 * - Bounds refuse the whole request (VW_DECODE_TOO_BIG): more than
 *   VW_MAX_SPANS_PER_REQUEST spans (valid or not), or an AnyValue nested
 *   more than VW_MAX_VALUE_DEPTH arrays or maps deep.
 * - A span whose trace_id is not 16 bytes or all zeros, whose span_id is
 *   not 8 bytes or all zeros, or whose parent_span_id is neither empty nor
 *   8 bytes, is left out and counted (vw_batch_reject(), the partial
 *   success), its reason naming its position in the request. An 8-byte
 *   all-zero parent_span_id means no parent.
 * - A link whose trace_id is neither empty nor 16 bytes, or whose span_id
 *   is neither empty nor 8 bytes, cannot be held: it is left out and
 *   counted in the span's dropped_link_count. Empty or all-zero link ids
 *   are kept: the specification lets a link to an invalid context carry
 *   attributes or a tracestate.
 * - Strings that are not UTF-8 are repaired, not refused (each bad byte
 *   becomes U+FFFD, see vw_batch_str()): proto3 parsers would refuse the
 *   request, but a viewer is for looking at what a program sent. A NUL
 *   inside a string is kept, but where the model holds a C string (names,
 *   keys, trace states, string array items) its readers stop there; string
 *   and bytes values keep their exact length.
 * - Flags: bits 0-7 are the W3C trace flags; a parent or link context is
 *   remote when bits 8 and 9 are both set (bit 8: "whether it is remote is
 *   known"), a span without a parent never has a remote one. Other bits
 *   are ignored.
 * - kind is kept from 0 (unspecified) to 5; other values read as 0. A
 *   status code other than 0-2 reads as UNSET. A status message is kept
 *   whatever the code. Absent names read as "", absent trace states,
 *   versions and schema URLs as NULL.
 * - Attributes (of spans, events, links, scopes and inside maps) are kept
 *   as sent: in order, duplicate keys and empty keys included. Resource
 *   attributes go through otelc_resource_new() (each key once, the last
 *   value winning, at most VW_MAX_RESOURCE_ATTRS); what it could not keep
 *   is added to the resource's dropped count
 *   (vw_batch_add_resource_counted()).
 * - AnyValue: string, bool, int, double, bytes (OTELC_VALUE_BYTES),
 *   kvlist (OTELC_VALUE_MAP), no field set (OTELC_VALUE_EMPTY). An array
 *   whose items are all strings (none holding a NUL), all bools, all ints
 *   or all doubles becomes the typed array the SDK itself records
 *   (OTELC_VALUE_STRING_ARRAY ...); any other array, the empty one
 *   included, is OTELC_VALUE_ARRAY. Either re-encodes as the same
 *   ArrayValue. When a oneof carries several members, the last one wins.
 * - Singular fields given twice: the last one wins (protobuf would merge
 *   two Status or Resource messages; no sender does that).
 *
 * Spans of one ResourceSpans share one resource (vw_batch_add_resource
 * _counted), spans of one ScopeSpans one otelc_scope_info in the arena,
 * whatever the order of the fields on the wire. Memory: everything lives
 * in the batch's arena, a few mallocs per request (none with a reused
 * batch); a decoded request takes at most 28 times its size on the wire
 * (an empty link, two bytes, is 56 decoded; typical spans take 3 to 4).
 */
#ifndef OTELC_VIEWER_DECODE_PROTO_H
#define OTELC_VIEWER_DECODE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

/*
 * Decode the ExportTraceServiceRequest in buf[0..len) into out, an empty
 * batch (vw_batch_init() or vw_batch_reset()). VW_DECODE_OK: out holds the
 * valid spans (maybe none: an empty request is a success) and counts the
 * rejected ones. Otherwise out is emptied (vw_batch_reset()) and the
 * status says how the receiver answers: INVALID (400), TOO_BIG (413),
 * NOMEM (503). buf may be NULL when len is 0.
 */
vw_decode_status vw_decode_otlp_proto(const uint8_t *buf, size_t len, vw_batch *out);

/*
 * Decode one Span message p[0..n) into *out, its strings, attributes,
 * events and links allocated in b (which may already hold other data and
 * keeps what was allocated even on failure). out->scope and out->resource
 * are NULL: the caller knows them. Returns a vw_decode_status:
 * VW_DECODE_OK, VW_DECODE_INVALID for malformed bytes and for a span the
 * request decoder would reject (its ids), VW_DECODE_TOO_BIG for values
 * nested too deep, VW_DECODE_NOMEM.
 */
int vw_decode_span(const uint8_t *p, size_t n, vw_batch *b, otelc_span_data *out);

/*
 * Decode one Resource message p[0..n) into a resource owned by b (freed
 * with it), with schema_url (ResourceSpans' field, kept beside the
 * message; NULL: none; copied). NULL when the bytes are malformed or
 * memory ran out.
 */
otelc_resource *vw_decode_resource(const uint8_t *p, size_t n, const char *schema_url, vw_batch *b);

/*
 * Decode one InstrumentationScope message p[0..n) into *out, its strings
 * and attributes allocated in b; out->schema_url is NULL (that is
 * ScopeSpans' field). Returns a vw_decode_status as vw_decode_span() does.
 */
int vw_decode_scope(const uint8_t *p, size_t n, vw_batch *b, otelc_scope_info *out);

#endif
