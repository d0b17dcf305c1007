/*
 * grpc_server.h - the OTLP/gRPC transport of `otelc view`: unary gRPC
 * calls over cleartext HTTP/2 with prior knowledge (libnghttp2), served by
 * one thread. It knows nothing of OTLP beyond the method path: the caller
 * gets each request message whole (decompressed) and decides the answer.
 *
 * Protocol (PROTOCOL-HTTP2.md and compression.md in grpc/grpc):
 * - requests: POST, content-type application/grpc or application/grpc+proto,
 *   exactly one length-prefixed message, identity or gzip (grpc-encoding);
 * - answered by the server itself: a refusal of the check hook or a
 *   content-type that is not gRPC (that HTTP status, no gRPC fields), a
 *   path not served (UNIMPLEMENTED), a compressed message in another
 *   encoding (UNIMPLEMENTED, with grpc-accept-encoding), a message beyond
 *   max_message on the wire or once inflated (RESOURCE_EXHAUSTED), the
 *   server's request memory full (RESOURCE_EXHAUSTED with a retry delay),
 *   malformed framing (INTERNAL). Such a refusal waits for the end of the
 *   request, dropping up to 16 MiB more of it (libcurl 7.88 fails a stream
 *   answered while it is still sending); past that, or when stopping, the
 *   answer goes out at once, followed by RST_STREAM(NO_ERROR);
 * - every other call is answered as vw_grpc_call_finish() says: HEADERS
 *   (:status 200, content-type application/grpc), for OK one DATA message
 *   and trailers; for an error a trailers-only response; grpc-message is
 *   percent-encoded, and a retry delay travels as a google.rpc.Status with
 *   a google.rpc.RetryInfo in grpc-status-details-bin (unpadded base64).
 *
 * Limits: max_connections (more are closed at once),
 * max_streams_per_connection (SETTINGS_MAX_CONCURRENT_STREAMS), max_message
 * per call, max_buffered for the request bytes of all calls (received and
 * not yet finished). A connection without traffic for idle_timeout_ms and
 * no call awaiting its answer is closed (GOAWAY first), which also ends
 * half-open connections and readers that stopped reading. Sockets are
 * non-blocking: a slow peer stalls only its own connection.
 */
#ifndef OTELC_VIEWER_GRPC_SERVER_H
#define OTELC_VIEWER_GRPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "grpc_message.h"

/* The OTLP trace export method, the one path served by default. */
#define VW_GRPC_TRACE_EXPORT "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

/* At most this many bytes of a status message are sent (cut at a UTF-8 boundary). */
#define VW_GRPC_MESSAGE_MAX 512

/* The retry delay given with RESOURCE_EXHAUSTED when max_buffered is reached. */
#define VW_GRPC_BUSY_RETRY_MS 1000

typedef struct vw_grpc_server vw_grpc_server;
typedef struct vw_grpc_call vw_grpc_call;

typedef struct vw_grpc_options {
    const char *bind; /* IPv4 or IPv6 literal ("::1" or "[::1]"); NULL: 127.0.0.1 */
    unsigned port;    /* 0: any free port (see vw_grpc_server_port) */
    /* Paths served, NULL-terminated; NULL: VW_GRPC_TRACE_EXPORT only. Copied. */
    const char *const *methods;
    size_t max_message;                  /* bytes, after decompression; 0: 4 MiB */
    size_t max_buffered;                 /* request bytes held at once; 0: 64 MiB */
    unsigned max_connections;            /* 0: 64 */
    unsigned max_streams_per_connection; /* 0: 100 */
    unsigned idle_timeout_ms;            /* 0: 60000 */

    /*
     * A request message arrived whole (decompressed). Runs on the server
     * thread and must not block; it must make vw_grpc_call_finish(call)
     * happen exactly once, from any thread, now or later. path is one of
     * methods; msg (len bytes, NULL when len is 0) stays valid until that
     * finish. Required.
     */
    void (*on_call)(void *ctx, vw_grpc_call *call, const char *path, const uint8_t *msg,
                    size_t len);
    /*
     * The request gate, called on the server thread once a request's
     * headers are complete, before anything else is checked: authority is
     * :authority (or Host; "" when neither), origin the Origin header or
     * NULL, content_type "" when absent, authorization the Authorization
     * header or NULL (a bearer token's check). Returns 0 to go on, or the
     * HTTP status (400..599; any other value means 403) to refuse with,
     * sent without gRPC fields. NULL: every request goes on.
     */
    int (*check)(void *ctx, const char *authority, const char *origin, const char *content_type,
                 const char *authorization);
    void *ctx;
} vw_grpc_options;

/*
 * Listen and start the server thread. On success *out is the server and
 * OTELC_OK is returned; otherwise *out is NULL, err (err_size bytes, may
 * be NULL) says why, and the result is OTELC_ERR_INVALID_ARG (no on_call,
 * a bind address that is not a literal, a method not starting with '/'
 * or longer than 127 bytes),
 * OTELC_ERR_IO (socket, bind or listen failed: the port is taken) or
 * OTELC_ERR_NOMEM.
 */
int vw_grpc_server_start(const vw_grpc_options *o, vw_grpc_server **out, char *err,
                         size_t err_size);

/* The port listened on (the one chosen when the options said 0). */
unsigned vw_grpc_server_port(const vw_grpc_server *s);

/*
 * Answer a call handed to on_call; any thread, exactly once per call, also
 * after vw_grpc_server_stop() (the answer is then dropped). status is a
 * vw_grpc_status; message (NULL or "": none) a UTF-8 description, copied;
 * response (len bytes, copied) is the response message, sent for
 * VW_GRPC_OK only (an OK call always gets one message, maybe empty).
 * retry_after_ms, when not 0 and status is not OK, goes out as a
 * google.rpc.RetryInfo: OTLP clients wait that long before retrying
 * UNAVAILABLE or RESOURCE_EXHAUSTED. After this the call and its request
 * message are gone. A call whose client went away meanwhile is just freed.
 */
void vw_grpc_call_finish(vw_grpc_call *call, int status, const char *message,
                         const uint8_t *response, size_t len, uint32_t retry_after_ms);

/*
 * Stop: close the listener, send GOAWAY on every connection, answer every
 * open call UNAVAILABLE (calls already finished keep their answer), give
 * the peers a moment (at most 2 s) to read, then close everything and
 * join the thread; on_call and check are never called after it. Calls
 * handed to on_call and not yet finished stay valid until their
 * vw_grpc_call_finish(), which then frees them. Not from inside on_call
 * or check (the server thread). NULL: nothing.
 */
void vw_grpc_server_stop(vw_grpc_server *s);

/* Counters since start, for tests and diagnostics; from any thread, until vw_grpc_server_stop(). */
typedef struct vw_grpc_stats {
    uint64_t connections;           /* accepted and served */
    uint64_t connections_refused;   /* closed at once: max_connections were open */
    uint64_t connections_timed_out; /* closed by idle_timeout_ms */
    uint64_t calls;                 /* requests whose headers arrived */
    uint64_t calls_handled;         /* handed to on_call */
    uint64_t calls_refused;         /* answered by the server itself */
    uint64_t bytes_in, bytes_out;   /* on the sockets */
    uint64_t buffered;              /* request bytes held right now */
} vw_grpc_stats;

void vw_grpc_server_stats(const vw_grpc_server *s, vw_grpc_stats *out);

#endif
