/*
 * protobuf.h - the protobuf wire format: one reader and one varint writer
 * for every protobuf parser and encoder in the project (the OTLP request
 * encoder and response parser, the gRPC status details, the viewer's OTLP
 * decoder and its replies).
 *
 * A reader is a byte range [p, end) consumed from the front; nothing here
 * reads outside it or allocates. Malformed input makes a reader return
 * false: a varint longer than ten bytes or wider than 64 bits, a length
 * past the end, a field number of 0 or above 2^29 - 1, wire types 6 and 7,
 * an end-group without its start. Groups (proto2's, deprecated) are
 * skipped like any unknown field, as protobuf's own parsers skip them, at
 * most OTELC_PB_MAX_GROUP_DEPTH deep.
 *
 * The common cases are inline (one-byte varints, one-byte keys): decoding
 * OTLP requests is the viewer's hot path.
 */
#ifndef OTELC_EXPORT_PROTOBUF_H
#define OTELC_EXPORT_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

typedef enum otelc_pb_wire {
    OTELC_PB_VARINT = 0,
    OTELC_PB_I64 = 1, /* fixed64, sfixed64, double: 8 bytes little-endian */
    OTELC_PB_LEN = 2, /* a length, then that many bytes */
    OTELC_PB_SGROUP = 3,
    OTELC_PB_EGROUP = 4,
    OTELC_PB_I32 = 5, /* fixed32, sfixed32, float: 4 bytes little-endian */
} otelc_pb_wire;

#define OTELC_PB_MAX_FIELD       0x1fffffffu
#define OTELC_PB_MAX_GROUP_DEPTH 32

/* A protobuf message being read: the bytes [p, end) not read yet. */
typedef struct otelc_pb {
    const uint8_t *p;
    const uint8_t *end;
} otelc_pb;

/* A reader over the n bytes at p. */
static inline otelc_pb otelc__pb_of(const void *p, size_t n)
{
    const uint8_t *u = (const uint8_t *)p;
    return (otelc_pb){u, u ? u + n : u}; /* NULL + 0 is undefined behaviour */
}

/* The varint reader's path for values of two bytes and more. */
bool otelc__pb_varint_slow(otelc_pb *r, uint64_t *out);

/* A varint into *out; false when it is malformed or runs past the end. */
static inline bool otelc__pb_varint(otelc_pb *r, uint64_t *out)
{
    if (OTELC_LIKELY(r->p < r->end && *r->p < 0x80)) {
        *out = *r->p++;
        return true;
    }
    return otelc__pb_varint_slow(r, out);
}

/* A field's key: its number (1 to 2^29 - 1) and wire type; false when malformed. */
static inline bool otelc__pb_key(otelc_pb *r, uint32_t *field, otelc_pb_wire *wt)
{
    uint64_t key;
    if (!otelc__pb_varint(r, &key) || key < 8 || (key >> 3) > OTELC_PB_MAX_FIELD) return false;
    *field = (uint32_t)(key >> 3);
    *wt = (otelc_pb_wire)(key & 7);
    return true;
}

/* A length-delimited value: *body gets its bytes; false when the length is malformed or too long.
 */
static inline bool otelc__pb_len(otelc_pb *r, otelc_pb *body)
{
    uint64_t n;
    if (!otelc__pb_varint(r, &n) || n > (uint64_t)(r->end - r->p)) return false;
    body->p = r->p;
    body->end = r->p + n;
    r->p += n;
    return true;
}

/* fixed64 and fixed32 values (little-endian on the wire); false when they run past the end. */
static inline bool otelc__pb_fixed64(otelc_pb *r, uint64_t *out)
{
    if (r->end - r->p < 8) return false;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | r->p[i];
    r->p += 8;
    *out = v;
    return true;
}

static inline bool otelc__pb_fixed32(otelc_pb *r, uint32_t *out)
{
    if (r->end - r->p < 4) return false;
    *out = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
           (uint32_t)r->p[3] << 24;
    r->p += 4;
    return true;
}

/*
 * Step over the value of a field whose key (field, wt) was just read: a
 * whole group for a start-group key. False when the value is malformed,
 * for an end-group key (nothing was started) and for wire types 6 and 7.
 */
bool otelc__pb_skip(otelc_pb *r, uint32_t field, otelc_pb_wire wt);

/*
 * One field read whole, for parsers of small messages: its number and
 * wire type, and its value (a varint, or a fixed64 or fixed32 read as an
 * unsigned number) or, for a length-delimited field, its body. Groups are
 * skipped and reported with value 0.
 */
typedef struct otelc_pb_field {
    uint32_t num;
    otelc_pb_wire wt;
    uint64_t value;
    otelc_pb body;
} otelc_pb_field;

/* The next field of r into *f: 1 when one was read, 0 at the end of r, -1 when malformed. */
int otelc__pb_next(otelc_pb *r, otelc_pb_field *f);

/* ---- Writing ------------------------------------------------------------------------ */

/* Bytes of v as a varint (1 to 10). */
static inline size_t otelc__pb_varint_size(uint64_t v)
{
    if (v < 0x80) return 1; /* most lengths: short strings and messages */
    /* 7 bits per byte: for 8..64 bits, (bits * 9 + 64) / 64 equals ceil(bits / 7). */
    int bits = 64 - __builtin_clzll(v);
    return (size_t)(bits * 9 + 64) / 64;
}

/* Write v as a varint at p (room for otelc__pb_varint_size(v) bytes); returns the end. */
static inline uint8_t *otelc__pb_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

#endif
