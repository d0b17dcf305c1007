/*
 * otlp.h - internal interfaces of the network exporters: the byte buffer,
 * the OTLP encoders and response parsers, and the HTTP transport shared by
 * OTLP/HTTP, OTLP/gRPC and Zipkin.
 */
#ifndef OTELC_EXPORT_OTLP_H
#define OTELC_EXPORT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "export/protobuf.h"
#include "internal.h"

/* ---- Small attributes ------------------------------------------------------ */

/*
 * Most attributes are small: a key of 1 to OTELC_OTLP_SMALL_LEN bytes and
 * a scalar, or a string value of at most OTELC_OTLP_SMALL_LEN bytes. Every
 * length inside such a KeyValue fits one byte (its body is at most 4 + 60
 * + 62 = 126 bytes), so the encoder sizes it by additions and writes it by
 * plain stores (otlp_proto.c).
 */
#define OTELC_OTLP_SMALL_LEN 60

/* The body of a string value's AnyValue when the string, len bytes, is small, else 0. */
static inline size_t otelc__otlp_small_str_body(size_t len)
{
    return len <= OTELC_OTLP_SMALL_LEN ? 2 + len : 0;
}

/*
 * The size of a KeyValue field under a key of key_len bytes whose value's
 * AnyValue body takes body bytes (0: not small), when it is small, else 0.
 */
static inline size_t otelc__otlp_small_kv(size_t key_len, size_t body)
{
    return key_len - 1 < OTELC_OTLP_SMALL_LEN && body ? 6 + key_len + body : 0;
}

/*
 * The size of a KeyValue field holding v under a key of key_len bytes when
 * it is small, else 0. The protobuf encoder sizes attributes with it, and
 * an SDK span adds up its attributes' as they are set (otelc__span_attrs_wire).
 */
static inline size_t otelc__otlp_small_kv_size(size_t key_len, const otelc_value *v)
{
    size_t body;
    /* Strings first: most attributes are. */
    if (OTELC_LIKELY(v->type == OTELC_VALUE_STRING))
        body = otelc__otlp_small_str_body(v->u.str.len);
    else if (v->type == OTELC_VALUE_INT)
        body = 1 + otelc__pb_varint_size((uint64_t)v->u.i);
    else if (v->type == OTELC_VALUE_DOUBLE)
        body = 9;
    else if (v->type == OTELC_VALUE_BOOL)
        body = 2;
    else
        body = 0;
    return otelc__otlp_small_kv(key_len, body);
}

/* ---- Growable byte buffer (src/export/buf.c) ------------------------------- */

/*
 * A byte buffer reused across exports: reset keeps the memory. A failed
 * allocation sets failed and turns later appends into no-ops, so encoders
 * check once at the end instead of after every write.
 */
typedef struct otelc_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} otelc_buf;

bool otelc__buf_reserve(otelc_buf *b, size_t extra);
void otelc__buf_append(otelc_buf *b, const void *p, size_t n);
void otelc__buf_puts(otelc_buf *b, const char *s);
void otelc__buf_printf(otelc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void otelc__buf_hex(otelc_buf *b, const uint8_t *p, size_t n);
/* A JSON string literal with quotes; invalid UTF-8 becomes U+FFFD. */
void otelc__buf_json_str(otelc_buf *b, const char *s, size_t n);
/*
 * A double as the shortest JSON number that reads back the same; NaN and
 * infinities, which JSON lacks, as the strings "NaN", "Infinity" and
 * "-Infinity" (the protobuf JSON mapping's spelling).
 */
void otelc__buf_json_double(otelc_buf *b, double d);
/* Standard base64 (RFC 4648 section 4, with padding) of p[0..n), no quotes. */
void otelc__buf_base64(otelc_buf *b, const void *p, size_t n);
/*
 * Any attribute value as plain JSON, as the specification represents an
 * AnyValue for non-OTLP formats: arrays (of any values) as lists, maps as
 * objects, bytes as a base64 string, the empty value as null, doubles as
 * otelc__buf_json_double. Nesting beyond OTELC_MAX_VALUE_DEPTH is null.
 */
void otelc__buf_json_value(otelc_buf *b, const otelc_value *v);
void otelc__buf_reset(otelc_buf *b);
void otelc__buf_free(otelc_buf *b);

/* ---- OTLP encoders (src/export/otlp_proto.c, otlp_json.c) ---------------------- */

/*
 * Append one ExportTraceServiceRequest holding spans, grouped by resource
 * and then by instrumentation scope, to out. Returns OTELC_OK or
 * OTELC_ERR_NOMEM.
 */
int otelc__otlp_encode_proto(otelc_buf *out, const otelc_span_data *const *spans, size_t n);
int otelc__otlp_encode_json(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

/*
 * One attribute as an OTLP JSON KeyValue, {"key":...,"value":{...}}, as
 * otelc__otlp_encode_json() writes attributes: for the viewer's search
 * results, which carry a span's attributes in that shape.
 */
void otelc__otlp_json_kv(otelc_buf *b, const otelc_attr *a);

/*
 * One message of the request on its own, for the viewer's store: the body
 * (no field key, no length) of a Span, a Resource or an
 * InstrumentationScope, exactly the bytes otelc__otlp_encode_proto()
 * writes for it inside a request, appended to out. Schema URLs are not
 * part of them: OTLP carries those in ResourceSpans and ScopeSpans. A NULL
 * resource or scope is an empty message (nothing is appended). Returns
 * OTELC_OK, or OTELC_ERR_NOMEM (out is then failed, its bytes unchanged).
 */
int otelc__otlp_encode_span(otelc_buf *out, const otelc_span_data *sd);
int otelc__otlp_encode_resource(otelc_buf *out, const otelc_resource *res);
int otelc__otlp_encode_scope(otelc_buf *out, const otelc_scope_info *scope);

/*
 * The protobuf request produced while it is sent (otlp_proto.c). open sizes
 * every message, so total (the request's length) is known before a byte is
 * written; read writes the next bytes into dst, at most room, and returns
 * how many (0 only at the end, or without memory for a Span larger than
 * room); rewind starts over for another attempt; close frees what open
 * allocated. The spans must outlive the stream.
 */
typedef struct otelc_proto_group otelc_proto_group;
typedef struct otelc_proto_stream {
    const otelc_span_data *const *spans;
    size_t n;
    size_t total;
    size_t *span_size;         /* each Span's body (and the allocation of the two below) */
    size_t *key_at;            /* where each Span's attribute key lengths start in key_lens */
    uint8_t *key_lens;         /* measured while sizing, for the writer (otlp_proto.c) */
    bool sdk;                  /* the spans are the SDK's (otelc__exporting_sdk_spans) */
    bool one_scope;            /* all of one resource and one scope: one ScopeSpans */
    otelc_proto_group *groups; /* resources and scopes in writing order */
    size_t ngroups, groups_cap;
    size_t g, i;     /* the cursor: current group, current span */
    int phase;       /* inside a ScopeSpans: head, spans, tail */
    otelc_buf stage; /* a Span too large for the room, handed out in parts */
    size_t staged;   /* bytes of stage already handed out */
} otelc_proto_stream;

int otelc__otlp_proto_open(otelc_proto_stream *s, const otelc_span_data *const *spans, size_t n);
size_t otelc__otlp_proto_read(otelc_proto_stream *s, void *dst, size_t room);
void otelc__otlp_proto_rewind(otelc_proto_stream *s);
void otelc__otlp_proto_close(otelc_proto_stream *s);
/* In a fork child: a stream the parent's export had open, dropped (see otelc__abandon). */
void otelc__otlp_proto_abandon(otelc_proto_stream *s);

/*
 * Grouping shared by both encoders: spans go to one ResourceSpans per
 * resource pointer and, inside it, one ScopeSpans per scope pointer, in
 * order of first appearance, keeping the callers' order inside a group.
 */
static inline bool otelc__otlp_same_group(const otelc_span_data *a, const otelc_span_data *b,
                                          bool by_scope)
{
    return a->resource == b->resource && (!by_scope || a->scope == b->scope);
}

/* True when no span in spans[from..i) is in spans[i]'s group (it starts one). */
bool otelc__otlp_starts_group(const otelc_span_data *const *spans, size_t from, size_t i,
                              bool by_scope);

/*
 * The console exporter's tree format (console.c) for one whole trace:
 * spans[0..n) (all of one trace, any order) appended to out as the
 * exporter prints a trace, "trace <id> (N spans)" and then each span
 * under its parent, siblings by start time. `otelc traces get` prints
 * traces read from the viewer with it. Returns OTELC_OK, or
 * OTELC_ERR_NOMEM (out may then hold part of the trace).
 */
int otelc__console_tree(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

/* What an ExportTraceServiceResponse said. */
typedef struct otelc_otlp_response {
    int64_t rejected_spans;
    char error_message[256];
} otelc_otlp_response;

/* Parse a response body; OTELC_ERR_PARSE on malformed input. Empty is success. */
int otelc__otlp_parse_response_proto(const void *p, size_t n, otelc_otlp_response *out);
int otelc__otlp_parse_response_json(const char *p, size_t n, otelc_otlp_response *out);

/* ---- Network export (http.c, h2_client.c, tls.c, grpc.c, retry.c, otlp_exporter.c) ---- */

/*
 * A library loaded on first use (dynload.c): the first of sonames (a
 * NULL-terminated list) that opens and has every one of syms, each stored
 * through its slot. Returns the library, never closed, or NULL (the slots
 * are then undefined). Not thread-safe: call it under pthread_once.
 */
typedef struct otelc_dynsym {
    const char *name;
    void **slot;
} otelc_dynsym;
void *otelc__dynload(const char *const *sonames, const otelc_dynsym *syms, size_t n);

/*
 * Initialise OpenSSL, when it is loaded, before libcurl or tls.c first use
 * it, telling it not to clean up in an atexit handler. The exporters
 * initialise it on the batch worker: a handler it registered then would
 * come after the program's own (atexit runs them in reverse), and a
 * program exiting meanwhile ran OpenSSL's cleanup first, under the worker
 * still initialising or exporting through it (a crash in a few runs in a
 * hundred), before the exit flush had run. Its memory is the process's
 * until exit either way. Once per process; a no-op when libcrypto.so.3 is
 * not loaded, and when the program initialised OpenSSL already (its own
 * handler was then registered before ours).
 */
void otelc__openssl_init_without_atexit(void);

#define OTELC_HTTP_BODY_MAX (64 * 1024) /* response bytes kept; the rest is discarded */

/*
 * Why a transfer failed: libcurl's CURLcode numbers, which the retry policy
 * judges (otelc__retry_transport_verdict), also for the failures the HTTP/2
 * client and TLS find themselves. http.c checks that they agree with
 * libcurl's.
 */
enum {
    OTELC_IO_FAILED_INIT = 2,
    OTELC_IO_COULDNT_CONNECT = 7,
    OTELC_IO_HTTP2 = 16,      /* the HTTP/2 session broke: framing, or the peer is not HTTP/2 */
    OTELC_IO_READ_ERROR = 26, /* the request body could not be produced */
    OTELC_IO_NO_MEMORY = 27,
    OTELC_IO_TIMEDOUT = 28,
    OTELC_IO_TLS_CONNECT = 35,
    OTELC_IO_ABORTED = 42, /* cancelled (shutdown) */
    OTELC_IO_SEND_ERROR = 55,
    OTELC_IO_RECV_ERROR = 56, /* includes the peer closing the connection */
    OTELC_IO_TLS_CERT = 58,   /* our client certificate or key, or the server refused it */
    OTELC_IO_TLS_VERIFY = 60, /* the server's certificate did not verify */
    OTELC_IO_TLS_CA_FILE = 77,
};

typedef struct otelc_io_error {
    int code; /* an OTELC_IO_ code (a CURLcode) */
    char text[256];
} otelc_io_error;

/* Set e to code and "what: detail" (just what when detail is NULL), cut to fit. */
void otelc__io_fail(otelc_io_error *e, int code, const char *what, const char *detail);

/* A persistent HTTP client: one libcurl easy handle, so connections are reused. */
typedef struct otelc_http otelc_http;

typedef struct otelc_http_config {
    const char *url;
    const char *const *fixed_headers; /* "Name: value" lines, NULL-terminated */
    const char *user_headers;         /* "k=v,k2=v2", percent-encoded values */
    const char *ca_file, *client_key, *client_cert;
} otelc_http_config;

/* What one request produced. grpc_status is -1 when the server sent none. */
typedef struct otelc_http_response {
    int transport_error; /* 0, or the OTELC_IO_ code (CURLcode) of a failed transfer */
    bool timed_out;
    bool cancelled;
    long status;
    long h2_reset; /* HTTP/2: the RST_STREAM error code that ended the call early, else -1 */
    int grpc_status;
    char grpc_message[256];
    char retry_after[64];
    char status_details[2048]; /* grpc-status-details-bin, base64 */
    char error[256];           /* the transport's description of a failure */
    otelc_buf body;            /* at most OTELC_HTTP_BODY_MAX bytes */
} otelc_http_response;

/* Clear r for a new request; the body's memory is kept. */
void otelc__http_response_reset(otelc_http_response *r);
/* A new response header block (after a 1xx, a redirect): forget what the last one said. */
void otelc__http_response_restart(otelc_http_response *r);
/*
 * Keep what a response header (or trailer) says that the exporters judge:
 * grpc-status, grpc-message (percent-decoded), grpc-status-details-bin and
 * retry-after. The name is matched case-insensitively; others are ignored.
 */
void otelc__http_capture_header(otelc_http_response *r, const char *name, size_t name_len,
                                const char *value, size_t value_len);
/* Append response body bytes, keeping at most OTELC_HTTP_BODY_MAX. */
void otelc__http_capture_body(otelc_http_response *r, const void *p, size_t n);

/*
 * A request body: len bytes at data, or, when read is set, produced while
 * it is sent: read fills at most room bytes at dst and returns how many
 * (0 only at the end), rewind starts it over (each attempt, when libcurl
 * resends on a new connection, and when the HTTP/2 client sends a refused
 * call again).
 */
typedef struct otelc_body {
    const void *data;
    size_t len;
    size_t (*read)(void *ctx, void *dst, size_t room);
    void (*rewind)(void *ctx);
    void *ctx;
} otelc_body;

static inline otelc_body otelc__body_of(const otelc_buf *b)
{
    return (otelc_body){.data = b->data, .len = b->len};
}

/*
 * In a fork child, a buffer the parent's exporting thread may have been
 * growing: dropped, not freed (it may be caught between realloc and the
 * store of its new address), and never written again, so its pages stay
 * the ones the child shares with the parent (see otelc__abandon).
 */
static inline void otelc__buf_abandon(otelc_buf *b)
{
    otelc__abandon(b->data);
    *b = (otelc_buf){0};
}

/* NULL after logging why (no libcurl, bad headers, no memory). */
otelc_http *otelc__http_new(const otelc_http_config *c);
/*
 * POST body and wait at most timeout_ms. cancel, when not NULL, aborts the
 * transfer within about a second once it reads true. The response is reset
 * first, so one can be reused across requests.
 */
void otelc__http_post(otelc_http *h, const otelc_body *body, uint32_t timeout_ms,
                      _Atomic bool *cancel, otelc_http_response *out);
void otelc__http_free(otelc_http *h);
/*
 * From any thread, after setting the cancel flag of the transfer in
 * progress: end it now rather than at libcurl's next progress call (about
 * a second away). Shuts down (never closes) the handle's sockets, so the
 * transfer fails at once as a broken connection and libcurl closes them
 * itself. NULL is a no-op.
 */
void otelc__http_interrupt(otelc_http *h);
/*
 * In a fork child: close this process's copies of the parent's sockets and
 * abandon its libcurl handle (maybe mid-transfer); the next request opens a
 * connection of the child's own.
 */
void otelc__http_after_fork_child(otelc_http *h);
void otelc__http_response_free(otelc_http_response *r);

/*
 * An http(s) URL as an HTTP/2 client needs it, read by libcurl's parser:
 * the :authority (host[:port] as written), the :path (with the query), the
 * host alone (an IPv6 address without brackets, for TLS), and raw_url,
 * http:// with the same host and the port (explicit or the scheme's
 * default), for otelc__rawconn_open. Strings are malloc'd; free with
 * otelc__url_parts_free. False when the URL is malformed, libcurl is
 * missing, or memory ran out.
 */
typedef struct otelc_url_parts {
    bool https;
    char *authority, *path, *host, *raw_url;
} otelc_url_parts;
bool otelc__url_parts(const char *url, otelc_url_parts *out);
void otelc__url_parts_free(otelc_url_parts *p);

/*
 * A raw connection: a connected byte stream opened by libcurl with
 * CURLOPT_CONNECT_ONLY (http.c), for a protocol the caller speaks. open
 * connects to url's host and port within timeout_ms (cancel, when not
 * NULL, aborts it within about a second), through a proxy when the
 * environment names one (tls_inside: chosen as for an https URL) with
 * CONNECT; NULL with err filled when it fails. send and recv never block:
 * they return the bytes moved, 0 when the socket would block (wait on fd),
 * or -1 when it failed, closed by the peer included (see error).
 */
typedef struct otelc_rawconn otelc_rawconn;
otelc_rawconn *otelc__rawconn_open(const char *url, bool tls_inside, uint32_t timeout_ms,
                                   _Atomic bool *cancel, otelc_io_error *err);
int otelc__rawconn_fd(const otelc_rawconn *raw);
ssize_t otelc__rawconn_send(otelc_rawconn *raw, const void *p, size_t n);
ssize_t otelc__rawconn_recv(otelc_rawconn *raw, void *p, size_t n);
const otelc_io_error *otelc__rawconn_error(const otelc_rawconn *raw);
/* Close and free raw (NULL is a no-op). */
void otelc__rawconn_close(otelc_rawconn *raw);
/* In a fork child: close this process's copy of the socket; raw is never used or freed again. */
void otelc__rawconn_after_fork_child(otelc_rawconn *raw);

/*
 * TLS over a raw connection (tls.c), with OpenSSL's libssl loaded on first
 * use: TLS 1.2 or later, the server's certificate verified against ca_file
 * (or the system's CAs) and its name or IP address checked, an optional
 * client certificate, and ALPN offering exactly "h2".
 *
 * otelc__tls_new: the session over raw for host; NULL with err filled
 * when libssl is missing or the CA file or client certificate cannot be
 * loaded (a permanent failure: OTELC_IO_TLS_CA_FILE, OTELC_IO_TLS_CERT).
 * handshake, read and write never block: they return 1 when the handshake
 * is done (bytes moved, for read and write), 0 when they must be called
 * again once *wait (POLLIN or POLLOUT) is ready on the raw connection's
 * socket, -1 when TLS failed (error says why: a server certificate that
 * did not verify is OTELC_IO_TLS_VERIFY, a server's refusal of our client
 * certificate OTELC_IO_TLS_CERT). The handshake also fails unless the
 * server chose h2. free sends close_notify if it can without waiting, and
 * frees (the raw connection stays the caller's); abandon, in a fork child,
 * drops the session without touching it.
 */
typedef struct otelc_tls otelc_tls;
typedef struct otelc_tls_config {
    const char *ca_file, *client_cert, *client_key;
} otelc_tls_config;
otelc_tls *otelc__tls_new(const otelc_tls_config *cfg, otelc_rawconn *raw, const char *host,
                          otelc_io_error *err);
int otelc__tls_handshake(otelc_tls *t, short *wait);
ssize_t otelc__tls_read(otelc_tls *t, void *p, size_t n, short *wait);
ssize_t otelc__tls_write(otelc_tls *t, const void *p, size_t n, short *wait);
const otelc_io_error *otelc__tls_error(const otelc_tls *t);
void otelc__tls_free(otelc_tls *t);
void otelc__tls_abandon(otelc_tls *t);

/*
 * The HTTP/2 client of OTLP/gRPC (h2_client.c), on libnghttp2 loaded on
 * first use: one connection per client, opened on the first request and
 * kept; requests are streams on it. Over http:// it is HTTP/2 with prior
 * knowledge, over https:// TLS with ALPN h2. A connection the server sent
 * GOAWAY on takes no new streams; a stream it refused (above the GOAWAY's
 * last stream id, or reset with REFUSED_STREAM) was not processed and is
 * sent again on a new connection within the same call.
 *
 * otelc__h2_new: NULL after logging why (no libnghttp2 or libcurl, a
 * malformed URL, no memory). The config's fixed headers are sent with
 * lowercase names; user headers too, less the connection-specific ones
 * HTTP/2 forbids. A Host header, fixed or user's, becomes the :authority.
 *
 * otelc__h2_post: POST body and wait at most timeout_ms (sent to the
 * server as grpc-timeout) for the whole response, trailers included;
 * cancel as for otelc__http_post. out is reset first. It reports like
 * otelc__http_post, and h2_reset when the server reset the stream before
 * it ended its response. A call that timed out or was cancelled, and any
 * connection failure, closes the connection: the next call opens a new one.
 *
 * otelc__h2_after_fork_child: the parent's connection is abandoned and this
 * process's copy of its socket closed; the child's next call connects anew.
 */
typedef struct otelc_h2 otelc_h2;
otelc_h2 *otelc__h2_new(const otelc_http_config *cfg);
void otelc__h2_post(otelc_h2 *h, const otelc_body *body, uint32_t timeout_ms, _Atomic bool *cancel,
                    otelc_http_response *out);
void otelc__h2_free(otelc_h2 *h);
void otelc__h2_after_fork_child(otelc_h2 *h);

/* gzip-compress p into out (appended). OTELC_OK or OTELC_ERR_NOMEM. */
int otelc__gzip(otelc_buf *out, const void *p, size_t n);

/*
 * Parse "k1=v1,k2=v2": each pair is trimmed, its value percent-decoded and
 * handed to add. Returns false (after the valid pairs) when an entry is
 * malformed: no '=', an empty key, or a key that is not an HTTP token.
 */
bool otelc__otlp_parse_headers(const char *text,
                               void (*add)(void *ctx, const char *key, const char *value),
                               void *ctx);

/* ---- gRPC framing and status (grpc.c) ---- */

#define OTELC_GRPC_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

/* gRPC status from an HTTP status when the server sent no grpc-status. */
int otelc__grpc_status_from_http(long http_status);
/* gRPC status of a call the server ended with RST_STREAM (an HTTP/2 error code). */
int otelc__grpc_status_from_h2_error(uint32_t error_code);

/*
 * A gRPC message frame built in place: begin appends the 5-byte header's
 * placeholder and returns where it is; append the message; end writes the
 * compressed flag and the big-endian length.
 */
size_t otelc__grpc_frame_begin(otelc_buf *out);
int otelc__grpc_frame_end(otelc_buf *out, size_t at, bool compressed);
/* The 5-byte header of a frame holding an n-byte message; false when n does not fit. */
#define OTELC_GRPC_FRAME_HEADER 5
bool otelc__grpc_frame_header(uint8_t out[OTELC_GRPC_FRAME_HEADER], size_t n, bool compressed);

/* ---- The retry policy (retry.c), shared by every network exporter ---- */

typedef enum otelc_retry_verdict {
    OTELC_RETRY_DONE,  /* delivered */
    OTELC_RETRY_AGAIN, /* transient: may retry */
    OTELC_RETRY_FAIL,  /* permanent: never retry */
} otelc_retry_verdict;

/* The verdict of one attempt, and the server's requested delay if any. */
typedef struct otelc_attempt {
    otelc_retry_verdict verdict;
    bool has_delay;
    uint64_t delay_ms;
} otelc_attempt;

otelc_retry_verdict otelc__retry_http_verdict(const otelc_http_response *r);
/* A failed transfer (libcurl code): permanent for bad URLs and TLS set-up, else retryable. */
otelc_retry_verdict otelc__retry_transport_verdict(int curl_code);

/*
 * What a finished gRPC call came to, from the response the HTTP/2 client
 * filled (grpc.c): a transport failure is judged by the retry policy; else
 * the call's status decides, made up from the RST_STREAM error code or the
 * HTTP status when the server sent none (then stored in resp->grpc_status,
 * with a grpc_message saying so), with the RetryInfo delay of
 * grpc-status-details-bin; on success parsed receives the partial success
 * of the response message (an unreadable message is ignored). Pure: no I/O.
 */
otelc_attempt otelc__grpc_outcome(otelc_http_response *resp, otelc_otlp_response *parsed);

/*
 * One unary OTLP/gRPC Export call with a framed request (grpc.c):
 * otelc__h2_post, then otelc__grpc_outcome.
 */
otelc_attempt otelc__otlp_grpc_attempt(otelc_h2 *h, const otelc_body *frame, uint32_t timeout_ms,
                                       _Atomic bool *cancel, otelc_http_response *resp,
                                       otelc_otlp_response *parsed);
/* has_retry_info: RESOURCE_EXHAUSTED is retryable only with it. */
otelc_retry_verdict otelc__retry_grpc_verdict(int grpc_status, bool has_retry_info);

typedef struct otelc_retry_policy {
    uint32_t max_attempts; /* including the first */
    uint32_t initial_ms;
    uint32_t max_backoff_ms;
    uint32_t max_retry_ms; /* retrying stops this long after the first attempt */
} otelc_retry_policy;

/*
 * The wait before retry number n (1-based): exponential from initial_ms,
 * capped at max_backoff_ms, with jitter drawn from *rng into [d/2, d].
 */
uint64_t otelc__retry_backoff_ms(const otelc_retry_policy *p, uint32_t n, uint64_t *rng);

/*
 * Retry-After: delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or
 * asctime) relative to now (Unix seconds). False when malformed; a date in
 * the past is a zero delay.
 */
bool otelc__parse_retry_after(const char *v, int64_t now, uint64_t *delay_ms);

/*
 * The RetryInfo delay inside a base64 grpc-status-details-bin value (a
 * google.rpc.Status). False when absent or malformed; bounded work and no
 * allocation for any input.
 */
bool otelc__grpc_retry_info(const char *b64, size_t n, uint64_t *delay_ms);

/* Monotonic milliseconds. */
uint64_t otelc__mono_ms(void);

/*
 * A stop flag with a sleep it interrupts (retry_run.c): shutdown sets it
 * from any thread to cut a retry wait short and abort a transfer in flight.
 */
typedef struct otelc_stopper {
    _Atomic bool stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
} otelc_stopper;

void otelc__stopper_init(otelc_stopper *s);
void otelc__stopper_stop(otelc_stopper *s);
/* Sleep ms unless stopped first; false when stopped. */
bool otelc__stopper_sleep(otelc_stopper *s, uint64_t ms);
void otelc__stopper_destroy(otelc_stopper *s);
/* In a fork child: the lock and condition made anew; the stop flag is kept. */
void otelc__stopper_after_fork_child(otelc_stopper *s);

/* One POST of body: the shared HTTP verdict and the server's Retry-After. */
otelc_attempt otelc__http_attempt(otelc_http *h, const otelc_body *body, uint32_t timeout_ms,
                                  otelc_stopper *s, otelc_http_response *resp);

typedef otelc_attempt (*otelc_attempt_fn)(void *ctx, uint32_t timeout_ms);

/*
 * The retry loop: attempt until delivered, a permanent failure,
 * max_attempts, or the deadline (timeout_ms from now; retries also stop at
 * p->max_retry_ms). The server's delay replaces the backoff when given; a
 * wait that would cross the deadline ends the export now instead of
 * sleeping for nothing. retries (may be NULL) counts attempts after the
 * first. Returns the last attempt's outcome.
 */
otelc_attempt otelc__retry_run(const otelc_retry_policy *p, uint32_t timeout_ms,
                               uint32_t max_attempts, uint64_t *rng, otelc_stopper *s,
                               otelc_attempt_fn attempt, void *ctx, _Atomic uint64_t *retries);

/* ---- OTLP exporter (otlp_exporter.c) and its configuration (config/otlp_env.c) ---- */

/*
 * Fill o from OTEL_EXPORTER_OTLP_* (per-signal _TRACES_ variables win).
 * Strings point into storage, which must outlive o. Invalid values are
 * reported once and ignored.
 */
typedef struct otelc_otlp_env_storage {
    char endpoint[2048];
} otelc_otlp_env_storage;
void otelc__otlp_options_from_env(otelc_otlp_exporter_options *o, otelc_otlp_env_storage *st);

/* True when OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT is set. */
bool otelc__otlp_endpoint_configured(void);

/*
 * OTELC_BREAKER_INTERVAL in milliseconds (a duration; default 60 s, 0 turns
 * the shared breaker off), and the per-user runtime directory the shared
 * breaker keeps its files in: $XDG_RUNTIME_DIR/otelc when XDG_RUNTIME_DIR
 * is an absolute path, else /tmp/otelc-<euid> (false when it does not fit).
 */
uint64_t otelc__breaker_interval_from_env(void);
bool otelc__runtime_dir_from_env(char *out, size_t size);

/*
 * The circuit breaker shared between processes (breaker_file.c): one file
 * per endpoint in the runtime directory says "down until T". Stateless
 * beyond the paths, so fork needs nothing.
 *
 * init: for url (borrowed; must outlive b) with interval_ms, how long a
 * trip keeps the endpoint down for every process (0, or a path that does
 * not fit: every call below does nothing).
 * open_until: the Unix time in ms until which another process found the
 * endpoint down, or 0 (no such record, expired, garbage, ours, or in a
 * directory that is not this user's alone).
 * trip: record the endpoint down for interval_ms from now, atomically
 * (write then rename), creating the directory 0700 if needed; failures
 * are silent (the breaker is an optimisation). close: forget it (a success).
 */
typedef struct otelc_shared_breaker {
    char dir[256];
    char path[300];
    const char *url;
    uint64_t interval_ms;
} otelc_shared_breaker;

void otelc__shared_breaker_init(otelc_shared_breaker *b, const char *url, uint64_t interval_ms);
uint64_t otelc__shared_breaker_open_until(const otelc_shared_breaker *b);
void otelc__shared_breaker_trip(const otelc_shared_breaker *b);
void otelc__shared_breaker_close(const otelc_shared_breaker *b);

/*
 * Forget every record, whoever wrote it, whose URL matches (called with
 * the record's URL and arg): a receiver that has just started listening
 * (otelc view) clears what processes found down at its address before it
 * was there. Only the records of this user's runtime directory; the
 * number removed.
 */
size_t otelc__shared_breaker_forget(bool (*matches)(const char *url, void *arg), void *arg);

/*
 * The spool (spool.c): batches the exporter could not deliver, written to
 * OTELC_SPOOL_DIR as files a later process delivers. See spool.c for the
 * layout and the claim protocol; safe between processes, and between
 * threads for put and drain (each file has one claimant).
 *
 * new: the spool in dir (created 0700 when missing; it must be a
 * directory owned by this user and writable by no one else), holding at
 * most max_bytes; NULL (after logging why) when dir cannot be used.
 * put: n spans as one OTLP protobuf request file, removing the oldest
 * files first when the bound requires (their spans count as dropped);
 * false when nothing was written (a request larger than the bound, I/O
 * error, no memory). drain: deliver spooled files oldest first through
 * send (handed the request, without its length prefix; true when
 * delivered, or refused for good, so the file is done), unlinking each
 * delivered one; stops at the first failure (the file stays spooled) or
 * once *stop (may be NULL) reads true. Returns the files delivered.
 * counts: spans spooled, dropped by the bound, delivered from the spool
 * by this process. after_fork_child: the parent's buffer is abandoned.
 */
typedef struct otelc_spool otelc_spool;
typedef bool (*otelc_spool_send_fn)(void *ctx, const void *request, size_t len);
otelc_spool *otelc__spool_new(const char *dir, uint64_t max_bytes);
bool otelc__spool_put(otelc_spool *s, const otelc_span_data *const *spans, size_t n);
size_t otelc__spool_drain(otelc_spool *s, otelc_spool_send_fn send, void *ctx, _Atomic bool *stop);
void otelc__spool_counts(const otelc_spool *s, uint64_t *spooled, uint64_t *dropped,
                         uint64_t *delivered);
void otelc__spool_after_fork_child(otelc_spool *s);
void otelc__spool_free(otelc_spool *s);

/* OTELC_SPOOL_DIR (NULL: no spooling) and OTELC_SPOOL_MAX_BYTES (default 64 MiB). */
const char *otelc__spool_dir_from_env(void);
uint64_t otelc__spool_max_bytes_from_env(void);

/* What an OTLP exporter has done, for tests and diagnostics. */
typedef struct otelc_otlp_stats {
    uint64_t requests;         /* network attempts */
    uint64_t retries;          /* attempts after the first of a batch */
    uint64_t exports_ok;       /* batches delivered */
    uint64_t exports_failed;   /* batches not delivered */
    uint64_t exports_refused;  /* of those, refused for good (not retryable: a 400, a bad URL) */
    uint64_t spans_ok;         /* spans accepted by the server */
    uint64_t spans_failed;     /* spans not delivered or rejected */
    uint64_t spans_rejected;   /* spans rejected through partial success */
    uint64_t breaker_opened;   /* times the circuit opened */
    uint64_t breaker_skipped;  /* batches not sent because the circuit was open */
    uint64_t fallback_batches; /* batches handed to the fallback exporter */
    /* Why spans were not delivered (each also counts in spans_failed): */
    uint64_t spans_abandoned; /* cut short or never sent because shutdown's bound passed */
    uint64_t spans_breaker;   /* not sent: the circuit was open (here or in another process) */
    uint64_t spans_spooled;   /* written to OTELC_SPOOL_DIR instead (not counted above) */
    uint64_t spans_unspooled; /* delivered from the spool, spooled by this or earlier processes */
} otelc_otlp_stats;

/* False when e is not an OTLP exporter. */
bool otelc__otlp_exporter_stats(const otelc_exporter *e, otelc_otlp_stats *out);

#endif
