/*
 * grpc_message.h - the request message of a unary gRPC call, read from the
 * bytes of its DATA frames as they arrive (gRPC over HTTP/2,
 * PROTOCOL-HTTP2.md in grpc/grpc): each message is a 5-byte prefix (a
 * compressed flag, then the length, big-endian) and the message bytes;
 * DATA frame boundaries have nothing to do with message boundaries.
 *
 * Compressed messages are inflated while they arrive, so neither the
 * compressed bytes nor more than max_message decompressed bytes are ever
 * held: a message announced larger than the bound is refused from its
 * prefix, and a decompression bomb once its output passes the bound.
 *
 * Pure (no I/O, no threads); the transport is grpc_server.c.
 */
#ifndef OTELC_VIEWER_GRPC_MESSAGE_H
#define OTELC_VIEWER_GRPC_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

/* gRPC status codes (doc/statuscodes.md in grpc/grpc). */
typedef enum vw_grpc_status {
    VW_GRPC_OK = 0,
    VW_GRPC_CANCELLED = 1,
    VW_GRPC_UNKNOWN = 2,
    VW_GRPC_INVALID_ARGUMENT = 3,
    VW_GRPC_DEADLINE_EXCEEDED = 4,
    VW_GRPC_NOT_FOUND = 5,
    VW_GRPC_ALREADY_EXISTS = 6,
    VW_GRPC_PERMISSION_DENIED = 7,
    VW_GRPC_RESOURCE_EXHAUSTED = 8,
    VW_GRPC_FAILED_PRECONDITION = 9,
    VW_GRPC_ABORTED = 10,
    VW_GRPC_OUT_OF_RANGE = 11,
    VW_GRPC_UNIMPLEMENTED = 12,
    VW_GRPC_INTERNAL = 13,
    VW_GRPC_UNAVAILABLE = 14,
    VW_GRPC_DATA_LOSS = 15,
    VW_GRPC_UNAUTHENTICATED = 16,
} vw_grpc_status;

#define VW_GRPC_PREFIX 5 /* compressed flag + 4-byte length */

/* The grpc-encoding a request declared. */
typedef enum vw_grpc_encoding {
    VW_GRPC_IDENTITY,    /* none, or "identity" */
    VW_GRPC_GZIP,        /* "gzip" */
    VW_GRPC_UNSUPPORTED, /* anything else: a compressed message is UNIMPLEMENTED */
} vw_grpc_encoding;

/* What grpc-accept-encoding announces: the encodings vw_grpc_message can read. */
#define VW_GRPC_ACCEPT_ENCODING "identity,gzip"

/*
 * The encoding named by a grpc-encoding value (n bytes at v; NULL for no
 * header). Names are compared exactly: gRPC's content codings are lowercase.
 */
vw_grpc_encoding vw_grpc_encoding_of(const char *v, size_t n);

typedef struct vw_grpc_message {
    /* The message, once vw_grpc_message_end() returned VW_GRPC_OK: len bytes at data. */
    uint8_t *data;
    size_t len;
    size_t cap; /* bytes allocated at data: what the reader holds in memory */

    /* Why the call failed, when feed or end returned a status ("" before). */
    char error[128];

    /* Reading state. */
    size_t max_message;
    vw_grpc_encoding encoding;
    uint8_t prefix[VW_GRPC_PREFIX];
    size_t prefix_len;  /* prefix bytes read of the current message */
    size_t wire_left;   /* bytes of the current message still to come */
    bool compressed;    /* the current message is */
    unsigned messages;  /* messages whose prefix was read */
    int failed;         /* the status once failed, else VW_GRPC_OK */
    bool inflating;     /* z holds an inflate stream */
    bool inflate_ended; /* the compressed stream ended before its wire bytes did */
    z_stream z;
} vw_grpc_message;

/*
 * Start reading the request of one call: messages larger than max_message
 * (on the wire, and after decompression) are refused; encoding is what the
 * request's grpc-encoding header declared.
 */
void vw_grpc_message_init(vw_grpc_message *m, size_t max_message, vw_grpc_encoding encoding);

/*
 * Take the next n DATA bytes. Returns VW_GRPC_OK, or the status the call
 * fails with (m->error says why): RESOURCE_EXHAUSTED for a message beyond
 * max_message, UNIMPLEMENTED for a compressed message in an unsupported
 * encoding (answer with grpc-accept-encoding), INTERNAL for a compressed
 * flag without an encoding, a flag other than 0 or 1, corrupt compressed
 * data, or a second message (the call is unary), UNAVAILABLE when out of
 * memory. Once failed, every call returns the same status and reads
 * nothing.
 */
int vw_grpc_message_feed(vw_grpc_message *m, const uint8_t *p, size_t n);

/*
 * The request stream ended (END_STREAM). VW_GRPC_OK when exactly one
 * message arrived whole (m->data, m->len: it may be empty); otherwise the
 * status the call fails with (INTERNAL for no message or a cut-off one),
 * or the earlier failure.
 */
int vw_grpc_message_end(vw_grpc_message *m);

/* Free what m holds, the message included; m is then empty. */
void vw_grpc_message_free(vw_grpc_message *m);

#endif
