/*
 * grpc_server.c - unary gRPC over cleartext HTTP/2 on libnghttp2, served
 * by one thread (see grpc_server.h for the contract).
 *
 * The thread polls the listener, the connections and an eventfd. Handlers
 * answer calls from any thread through vw_grpc_call_finish(), which queues
 * the call under the server's lock and wakes the loop; only the server
 * thread ever touches a connection or an nghttp2 session.
 *
 * A call is referenced by its stream (until nghttp2 closes it, or the
 * connection goes) and by the handler (from on_call until the server
 * thread takes its finish off the queue); it is freed when both are done.
 * Once the thread has ended, a finish frees its call itself, and the last
 * one frees the server if vw_grpc_server_stop() already returned.
 *
 * Output goes straight from nghttp2 to the non-blocking socket (its send
 * callback): nothing is buffered beyond the frame nghttp2 is writing, and a
 * client that stops reading only stalls its own connection, until the idle
 * timeout closes it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "export/otlp.h"
#include "grpc_server.h"
#include "propagation/propagation.h"

#define DEFAULT_MAX_MESSAGE     ((size_t)4 << 20)
#define DEFAULT_MAX_BUFFERED    ((size_t)64 << 20)
#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_MAX_STREAMS     100
#define DEFAULT_IDLE_MS         60000
#define STOP_GRACE_MS           2000
#define ACCEPT_PAUSE_MS         100 /* after accept() ran out of descriptors */
#define READ_CHUNK              (64 * 1024)
#define READS_PER_TURN          4 /* then the next connection's turn */
/*
 * Windows: enough for a loopback sender not to wait on WINDOW_UPDATE every
 * 64 KiB. They bound bytes in flight, not memory: data is consumed as it
 * arrives, and what is kept is bounded by max_message and max_buffered.
 */
#define STREAM_WINDOW     (1 << 20)
#define CONNECTION_WINDOW (16 << 20)
#define HEADER_LIST_MAX   (16 * 1024) /* request header bytes, counted as HTTP/2 does */
/*
 * A refusal decided before the client ended its request waits for that end
 * while at most this many more request bytes are dropped: libcurl 7.88
 * (the OTLP exporter's transport on Debian 12) fails a stream that is
 * answered while it is still sending. Beyond it the answer goes out at
 * once, followed by RST_STREAM(NO_ERROR).
 */
#define DRAIN_MAX ((size_t)16 << 20)

typedef enum call_state {
    CALL_RECEIVING, /* headers and message on the way */
    CALL_DRAINING,  /* refused by the server, the rest of the request dropped (DRAIN_MAX) */
    CALL_HANDLER,   /* handed to on_call, not answered yet */
    CALL_ANSWERED,  /* a response is submitted */
} call_state;

typedef struct conn conn;

struct vw_grpc_call {
    vw_grpc_server *server;

    /* Server thread only. */
    conn *conn;                /* NULL once the stream is gone */
    vw_grpc_call *prev, *next; /* the connection's calls */
    int32_t stream_id;
    call_state state;
    bool with_handler;  /* handed to on_call, finish not yet taken off the queue */
    bool request_ended; /* the client's END_STREAM arrived */
    bool headers_too_big;
    bool has_authority, has_origin, has_encoding;
    size_t header_bytes;
    size_t charged;  /* request bytes counted in server->buffered */
    size_t drained;  /* request bytes dropped since the refusal */
    int http_status; /* a refusal at the HTTP level, else 0 */
    vw_grpc_message msg;
    char method[8], path[128], authority[256], origin[256], content_type[64], encoding[32];
    char *authorization; /* malloc'd: tokens have no length of their own; NULL when absent */

    /*
     * The answer, written by vw_grpc_call_finish() on the handler's thread
     * and read by the server thread once the call came off the queue; or
     * a refusal of the server's own, for a call never handed over.
     */
    int status;
    uint32_t retry_after_ms;
    char message[VW_GRPC_MESSAGE_MAX + 1];
    uint8_t *out; /* OK: the response message with its prefix */
    size_t out_len, out_pos;
    vw_grpc_call *next_finished;
};

struct conn {
    vw_grpc_server *server;
    int fd;
    nghttp2_session *h2;
    vw_grpc_call *calls;
    unsigned awaiting; /* calls in CALL_HANDLER: the connection is not idle */
    uint64_t last_active_ms;
    bool heard; /* bytes came: until then nothing is sent, see not_http2() */
    bool dead;  /* close at the end of this turn */
};

typedef struct counters {
    _Atomic uint64_t connections, connections_refused, connections_timed_out;
    _Atomic uint64_t calls, calls_handled, calls_refused;
    _Atomic uint64_t bytes_in, bytes_out, buffered;
} counters;

struct vw_grpc_server {
    /* Fixed after start. */
    vw_grpc_options o;
    char **methods;
    unsigned port;
    int wake_fd;
    pthread_t thread;
    nghttp2_session_callbacks *callbacks;
    _Atomic bool stop_requested;

    /* Server thread only. */
    int listen_fd;
    conn **conns;
    size_t nconns;
    struct pollfd *pfds;
    uint8_t *rbuf;
    size_t buffered; /* request bytes held by all calls */
    uint64_t now_ms;
    uint64_t accept_paused_until;
    bool stopping;

    /* Shared with the threads finishing calls: under lock. */
    pthread_mutex_t lock;
    vw_grpc_call *finished_head, *finished_tail;
    bool wake_pending;
    bool thread_done; /* the loop has ended: a finish frees its own call */
    bool released;    /* vw_grpc_server_stop() returned: the last finish frees the server */
    size_t outstanding;

    counters c;
};

static void bump(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* ---- google.rpc.Status with a RetryInfo, and header encodings ------------------------ */

typedef struct pbw {
    uint8_t *p;
    size_t len, cap;
} pbw;

static void pb_bytes(pbw *w, const void *p, size_t n)
{
    if (w->len + n <= w->cap) memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void pb_varint(pbw *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_bytes(w, b, n);
}

static void pb_len_field(pbw *w, unsigned field, const void *p, size_t n)
{
    pb_varint(w, (uint64_t)field << 3 | 2);
    pb_varint(w, n);
    pb_bytes(w, p, n);
}

/*
 * google.rpc.Status { int32 code = 1; string message = 2; repeated
 * google.protobuf.Any details = 3; } with one detail, an Any { string
 * type_url = 1; bytes value = 2; } holding google.rpc.RetryInfo {
 * google.protobuf.Duration retry_delay = 1; }, Duration { int64 seconds =
 * 1; int32 nanos = 2; }. Returns the length, or 0 when cap is too small.
 */
static size_t encode_status_details(uint8_t *out, size_t cap, int code, const char *message,
                                    uint32_t delay_ms)
{
    static const char type_url[] = "type.googleapis.com/google.rpc.RetryInfo";
    uint8_t dur[24], info[32], any[96];
    pbw d = {dur, 0, sizeof dur}, i = {info, 0, sizeof info}, a = {any, 0, sizeof any};
    if (delay_ms / 1000) pb_varint(&d, 1 << 3), pb_varint(&d, delay_ms / 1000);
    if (delay_ms % 1000)
        pb_varint(&d, 2 << 3), pb_varint(&d, (uint64_t)(delay_ms % 1000) * 1000000);
    pb_len_field(&i, 1, dur, d.len);
    pb_len_field(&a, 1, type_url, sizeof type_url - 1);
    pb_len_field(&a, 2, info, i.len);
    pbw s = {out, 0, cap};
    if (code) pb_varint(&s, 1 << 3), pb_varint(&s, (uint64_t)code);
    if (message[0]) pb_len_field(&s, 2, message, strlen(message));
    pb_len_field(&s, 3, any, a.len);
    return s.len <= cap ? s.len : 0;
}

/* Base64 (RFC 4648 section 4) without padding, as gRPC senders should write -bin values. */
static size_t base64_unpadded(const uint8_t *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16 | (left > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
                     (left > 2 ? in[i + 2] : 0);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        if (left > 1) out[o++] = tbl[v >> 6 & 63];
        if (left > 2) out[o++] = tbl[v & 63];
    }
    out[o] = '\0';
    return o;
}

/* grpc-message keeps space and visible ASCII except '%' (PROTOCOL-HTTP2.md, Percent-Encoded). */
static bool message_byte_kept(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e;
}

/* ---- Responses -------------------------------------------------------------------------- */

#define NV(name, value, vlen)                                                                      \
    (nghttp2_nv)                                                                                   \
    {                                                                                              \
        (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, (vlen), NGHTTP2_NV_FLAG_NONE      \
    }
#define NV_LIT(name, value) NV(name, value, sizeof(value) - 1)

#define DETAILS_RAW_MAX 1024 /* a Status with VW_GRPC_MESSAGE_MAX bytes of message fits */

/* grpc-status, grpc-message and grpc-status-details-bin of an answer; nv points into it. */
typedef struct trailer_block {
    char status[12];
    char message[3 * VW_GRPC_MESSAGE_MAX + 1];
    char details[DETAILS_RAW_MAX / 3 * 4 + 8];
    nghttp2_nv nv[3];
    size_t n;
} trailer_block;

static void trailers_build(trailer_block *t, int status, const char *message,
                           uint32_t retry_after_ms)
{
    int len = snprintf(t->status, sizeof t->status, "%d", status);
    t->n = 0;
    t->nv[t->n++] = NV("grpc-status", t->status, (size_t)len);
    size_t mlen = strlen(message);
    if (mlen) {
        size_t elen =
            otelc__pct_encode(message, mlen, message_byte_kept, t->message, sizeof t->message);
        t->nv[t->n++] = NV("grpc-message", t->message, elen);
    }
    if (status != VW_GRPC_OK && retry_after_ms) {
        uint8_t raw[DETAILS_RAW_MAX];
        size_t rlen = encode_status_details(raw, sizeof raw, status, message, retry_after_ms);
        if (rlen)
            t->nv[t->n++] =
                NV("grpc-status-details-bin", t->details, base64_unpadded(raw, rlen, t->details));
    }
}

static ssize_t read_response(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t room,
                             uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)user;
    vw_grpc_call *call = src->ptr;
    size_t n = call->out_len - call->out_pos;
    if (n > room) n = room;
    memcpy(buf, call->out + call->out_pos, n);
    call->out_pos += n;
    if (call->out_pos == call->out_len) {
        trailer_block t;
        trailers_build(&t, call->status, call->message, call->retry_after_ms);
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (nghttp2_submit_trailer(h2, stream_id, t.nv, t.n) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

/* Give back the memory of the request message (the handler is done with it). */
static void release_message(vw_grpc_server *s, vw_grpc_call *call)
{
    vw_grpc_message_free(&call->msg);
    s->buffered -= call->charged;
    call->charged = 0;
    atomic_store_explicit(&s->c.buffered, s->buffered, memory_order_relaxed);
}

/* Count what the request message holds now; true when the server is over max_buffered. */
static bool charge(vw_grpc_server *s, vw_grpc_call *call)
{
    s->buffered = s->buffered - call->charged + call->msg.cap;
    call->charged = call->msg.cap;
    atomic_store_explicit(&s->c.buffered, s->buffered, memory_order_relaxed);
    return s->buffered > s->o.max_buffered;
}

/* The response HEADERS every gRPC answer starts with; returns how many. */
static size_t response_headers(nghttp2_nv *nv)
{
    nv[0] = NV_LIT(":status", "200");
    nv[1] = NV_LIT("content-type", "application/grpc");
    nv[2] = NV_LIT("grpc-accept-encoding", VW_GRPC_ACCEPT_ENCODING);
    return 3;
}

static void submitted(conn *c, vw_grpc_call *call, int rc)
{
    call->state = CALL_ANSWERED;
    if (!call->with_handler) release_message(c->server, call);
    if (rc != 0)
        nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
                                  NGHTTP2_INTERNAL_ERROR);
}

/*
 * A trailers-only answer. It never touches the call's answer fields,
 * which a handler's thread may be writing while the server stops.
 */
static void submit_error(conn *c, vw_grpc_call *call, int status, const char *message,
                         uint32_t retry_after_ms)
{
    nghttp2_nv nv[3 + 3];
    size_t n = response_headers(nv);
    trailer_block t;
    trailers_build(&t, status, message, retry_after_ms);
    for (size_t i = 0; i < t.n; i++) nv[n++] = t.nv[i];
    submitted(c, call, nghttp2_submit_response(c->h2, call->stream_id, nv, n, NULL));
}

/* The answer vw_grpc_call_finish() gave: for OK, HEADERS, the message, then trailers. */
static void submit_finished(conn *c, vw_grpc_call *call)
{
    if (call->status != VW_GRPC_OK) {
        submit_error(c, call, call->status, call->message, call->retry_after_ms);
        return;
    }
    nghttp2_nv nv[3];
    size_t n = response_headers(nv);
    nghttp2_data_provider prd = {.source.ptr = call, .read_callback = read_response};
    submitted(c, call, nghttp2_submit_response(c->h2, call->stream_id, nv, n, &prd));
}

/* Send the server's refusal of a call now. */
static void send_refusal(conn *c, vw_grpc_call *call)
{
    if (!call->http_status) {
        submit_error(c, call, call->status, call->message, call->retry_after_ms);
        return;
    }
    char code[12];
    int len = snprintf(code, sizeof code, "%d", call->http_status);
    nghttp2_nv nv[] = {NV(":status", code, (size_t)len)};
    submitted(c, call, nghttp2_submit_response(c->h2, call->stream_id, nv, 1, NULL));
}

/* The server refuses a call it never handed over: now if the request ended, else once it does. */
static void refuse(conn *c, vw_grpc_call *call)
{
    bump(&c->server->c.calls_refused, 1);
    release_message(c->server, call);
    call->state = CALL_DRAINING;
    if (call->request_ended) send_refusal(c, call);
}

/* A refusal at the HTTP level: that status, no gRPC fields. */
static void refuse_http(conn *c, vw_grpc_call *call, int http_status)
{
    call->http_status = http_status;
    refuse(c, call);
}

static void refuse_grpc(conn *c, vw_grpc_call *call, int status, uint32_t retry_after_ms,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void refuse_grpc(conn *c, vw_grpc_call *call, int status, uint32_t retry_after_ms,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof call->message, fmt, ap);
    va_end(ap);
    call->status = status;
    call->retry_after_ms = retry_after_ms;
    refuse(c, call);
}

/* ---- Calls -------------------------------------------------------------------------------- */

static void call_free(vw_grpc_call *call)
{
    vw_grpc_message_free(&call->msg);
    free(call->authorization);
    free(call->out);
    free(call);
}

/* The stream is gone (closed, or its connection): the call is freed unless the handler has it. */
static void call_detach(vw_grpc_call *call)
{
    conn *c = call->conn;
    if (call->prev)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next) call->next->prev = call->prev;
    if (call->state == CALL_HANDLER) c->awaiting--;
    call->conn = NULL;
    if (call->with_handler) return;
    release_message(c->server, call);
    call_free(call);
}

static bool method_served(const vw_grpc_server *s, const char *path)
{
    for (char **m = s->methods; *m; m++)
        if (strcmp(*m, path) == 0) return true;
    return false;
}

/*
 * "application/grpc" optionally followed by "+subtype" and parameters:
 * 1 for protobuf (no subtype, or +proto), -1 for another subtype, 0 when
 * it is not gRPC at all.
 */
static int grpc_content_type(const char *ct)
{
    static const char base[] = "application/grpc";
    size_t n = sizeof base - 1;
    if (strncasecmp(ct, base, n) != 0) return 0;
    ct += n;
    if (*ct == '\0' || *ct == ';') return 1;
    if (*ct != '+') return 0;
    size_t sub = strcspn(ct + 1, ";");
    return sub == 5 && strncasecmp(ct + 1, "proto", 5) == 0 ? 1 : -1;
}

/* The request headers are complete: gate, method, content-type, path, encoding. */
static void headers_done(conn *c, vw_grpc_call *call)
{
    vw_grpc_server *s = c->server;
    const char *origin = call->has_origin ? call->origin : NULL;
    int http = 0;
    if (call->headers_too_big)
        http = 431;
    else if (s->o.check && (http = s->o.check(s->o.ctx, call->authority, origin, call->content_type,
                                              call->authorization)) != 0)
        http = http >= 400 && http <= 599 ? http : 403;
    else if (strcmp(call->method, "POST") != 0)
        http = 405;
    else if (grpc_content_type(call->content_type) == 0)
        http = 415;
    if (http) {
        refuse_http(c, call, http);
        return;
    }
    if (!method_served(s, call->path)) {
        refuse_grpc(c, call, VW_GRPC_UNIMPLEMENTED, 0, "unknown method %s", call->path);
        return;
    }
    if (grpc_content_type(call->content_type) < 0) {
        refuse_grpc(c, call, VW_GRPC_UNIMPLEMENTED, 0, "content-type %s is not supported",
                    call->content_type);
        return;
    }
    const char *enc = call->has_encoding ? call->encoding : NULL;
    vw_grpc_message_init(&call->msg, s->o.max_message,
                         vw_grpc_encoding_of(enc, enc ? strlen(enc) : 0));
}

static void hand_over(conn *c, vw_grpc_call *call)
{
    vw_grpc_server *s = c->server;
    call->state = CALL_HANDLER;
    call->with_handler = true;
    c->awaiting++;
    pthread_mutex_lock(&s->lock);
    s->outstanding++;
    pthread_mutex_unlock(&s->lock);
    bump(&s->c.calls_handled, 1);
    const uint8_t *msg = call->msg.len ? call->msg.data : NULL;
    s->o.on_call(s->o.ctx, call, call->path, msg, call->msg.len);
}

/* The client's END_STREAM: the request is complete. */
static void request_done(conn *c, vw_grpc_call *call)
{
    call->request_ended = true;
    if (call->state == CALL_DRAINING) send_refusal(c, call);
    if (call->state != CALL_RECEIVING) return;
    int st = vw_grpc_message_end(&call->msg);
    charge(c->server, call);
    if (st)
        refuse_grpc(c, call, st, 0, "%s", call->msg.error);
    else
        hand_over(c, call);
}

/* ---- nghttp2 callbacks -------------------------------------------------------------------- */

static ssize_t on_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)h2, (void)flags;
    conn *c = user;
    for (;;) {
        ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
        if (w >= 0) {
            bump(&c->server->c.bytes_out, (uint64_t)w);
            c->last_active_ms = c->server->now_ms;
            return w;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
}

static bool is_request(const nghttp2_frame *f)
{
    return f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST;
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
    conn *c = user;
    if (!is_request(f)) return 0;
    vw_grpc_call *call = calloc(1, sizeof *call);
    if (!call) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
    call->server = c->server;
    call->conn = c;
    call->stream_id = f->hd.stream_id;
    call->next = c->calls;
    if (c->calls) c->calls->prev = call;
    c->calls = call;
    nghttp2_session_set_stream_user_data(h2, f->hd.stream_id, call);
    bump(&c->server->c.calls, 1);
    return 0;
}

/* Copy a header value into a field of the call; false when it does not fit. */
static bool keep_value(char *dst, size_t cap, const uint8_t *v, size_t n)
{
    if (n >= cap) return false;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return true;
}

static bool name_is(const uint8_t *name, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(name, want, n) == 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
    (void)flags, (void)user;
    if (!is_request(f)) return 0; /* request trailers carry nothing we use */
    vw_grpc_call *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!call) return 0;
    call->header_bytes += nlen + vlen + 32;
    if (call->header_bytes > HEADER_LIST_MAX) call->headers_too_big = true;
    bool fits = true;
    if (name_is(name, nlen, ":method")) {
        fits = keep_value(call->method, sizeof call->method, value, vlen);
    } else if (name_is(name, nlen, ":path")) {
        fits = keep_value(call->path, sizeof call->path, value, vlen);
    } else if (name_is(name, nlen, ":authority") ||
               (name_is(name, nlen, "host") && !call->has_authority)) {
        fits = keep_value(call->authority, sizeof call->authority, value, vlen);
        call->has_authority = name[0] == ':';
    } else if (name_is(name, nlen, "origin")) {
        fits = keep_value(call->origin, sizeof call->origin, value, vlen);
        call->has_origin = true;
    } else if (name_is(name, nlen, "content-type")) {
        fits = keep_value(call->content_type, sizeof call->content_type, value, vlen);
    } else if (name_is(name, nlen, "authorization")) {
        free(call->authorization); /* a repeated header: the last one is checked */
        call->authorization = strndup((const char *)value, vlen);
        fits = call->authorization != NULL;
    } else if (name_is(name, nlen, "grpc-encoding")) {
        fits = keep_value(call->encoding, sizeof call->encoding, value, vlen);
        call->has_encoding = true;
    }
    if (!fits) call->headers_too_big = true;
    return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
    conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    vw_grpc_call *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!call) return 0;
    if (is_request(f)) headers_done(c, call);
    if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) request_done(c, call);
    return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags;
    conn *c = user;
    vw_grpc_call *call = nghttp2_session_get_stream_user_data(h2, stream_id);
    if (!call) return 0;
    if (call->state == CALL_DRAINING) {
        call->drained += len;
        if (call->drained > DRAIN_MAX) send_refusal(c, call);
    }
    if (call->state != CALL_RECEIVING) return 0; /* refused or answered: the rest is dropped */
    int st = vw_grpc_message_feed(&call->msg, data, len);
    bool over_budget = charge(c->server, call);
    if (st)
        refuse_grpc(c, call, st, 0, "%s", call->msg.error);
    else if (over_budget)
        refuse_grpc(c, call, VW_GRPC_RESOURCE_EXHAUSTED, VW_GRPC_BUSY_RETRY_MS,
                    "the server holds too many requests, retry later");
    return 0;
}

/*
 * An answer that ended our side of the stream before the client ended its
 * own: RST_STREAM(NO_ERROR) lets both sides forget the stream
 * (PROTOCOL-HTTP2.md, "Early Server Closure").
 */
static int on_frame_send(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
    (void)user;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    vw_grpc_call *call = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (call && !call->request_ended)
        nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR);
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code, void *user)
{
    (void)error_code, (void)user;
    vw_grpc_call *call = nghttp2_session_get_stream_user_data(h2, stream_id);
    if (call) call_detach(call);
    return 0;
}

static bool callbacks_new(vw_grpc_server *s)
{
    if (nghttp2_session_callbacks_new(&s->callbacks) != 0) return false;
    nghttp2_session_callbacks *cb = s->callbacks;
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    return true;
}

/* ---- Connections ---------------------------------------------------------------------------- */

static void conn_close(conn *c)
{
    nghttp2_session_del(c->h2);
    while (c->calls) call_detach(c->calls);
    close(c->fd);
    free(c);
}

static bool conn_start(conn *c)
{
    vw_grpc_server *s = c->server;
    if (nghttp2_session_server_new(&c->h2, s->callbacks, c) != 0) return false;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->o.max_streams_per_connection},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, HEADER_LIST_MAX},
    };
    if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0)
        return false;
    return nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, CONNECTION_WINDOW) ==
           0;
}

static void accept_one(vw_grpc_server *s, int fd)
{
    if (s->nconns >= s->o.max_connections) {
        bump(&s->c.connections_refused, 1);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *c = calloc(1, sizeof *c);
    if (c) {
        c->server = s;
        c->fd = fd;
        c->last_active_ms = s->now_ms;
    }
    if (!c || !conn_start(c)) {
        if (c) nghttp2_session_del(c->h2);
        free(c);
        close(fd);
        return;
    }
    s->conns[s->nconns++] = c;
    bump(&s->c.connections, 1);
}

static void accept_all(vw_grpc_server *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            accept_one(s, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        /* Out of descriptors or memory: the listener stays readable; wait, do not spin. */
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            s->accept_paused_until = s->now_ms + ACCEPT_PAUSE_MS;
        return;
    }
}

/*
 * A client that did not open with the HTTP/2 preface gets a hint in
 * HTTP/1.1 before we close. Our SETTINGS are held back until the client's
 * first bytes, so that the hint is all such a client reads.
 */
static void not_http2(conn *c)
{
    static const char body[] = "This port serves gRPC: HTTP/2 with prior knowledge\n";
    char reply[256];
    int n = snprintf(reply, sizeof reply,
                     "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     sizeof body - 1, body);
    ssize_t w = send(c->fd, reply, (size_t)n, MSG_NOSIGNAL);
    if (w > 0) bump(&c->server->c.bytes_out, (uint64_t)w);
}

static void conn_read(conn *c)
{
    vw_grpc_server *s = c->server;
    for (int turn = 0; turn < READS_PER_TURN; turn++) {
        ssize_t r = recv(c->fd, s->rbuf, READ_CHUNK, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (r <= 0) {
            c->dead = true; /* closed by the client, or reset */
            return;
        }
        bump(&s->c.bytes_in, (uint64_t)r);
        c->last_active_ms = s->now_ms;
        c->heard = true;
        ssize_t used = nghttp2_session_mem_recv(c->h2, s->rbuf, (size_t)r);
        if (used < 0) {
            /* Protocol errors are GOAWAYs nghttp2 queues itself; these mean "drop it now". */
            if (used == NGHTTP2_ERR_BAD_CLIENT_MAGIC) not_http2(c);
            c->dead = true;
            return;
        }
        if (r < READ_CHUNK) return;
    }
}

/* Write what nghttp2 has; mark the connection dead when it failed or is finished. */
static void conn_flush(conn *c)
{
    if (c->dead || !c->heard) return;
    if (nghttp2_session_want_write(c->h2) && nghttp2_session_send(c->h2) != 0) c->dead = true;
    if (!nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2)) c->dead = true;
}

static bool conn_idle_expired(const vw_grpc_server *s, const conn *c)
{
    return c->awaiting == 0 && s->now_ms - c->last_active_ms >= s->o.idle_timeout_ms;
}

/* ---- Handing finished calls back to the loop -------------------------------------------- */

/* Truncate s to at most max bytes without splitting a UTF-8 sequence. */
static void copy_message(char *dst, const char *src, size_t max)
{
    size_t n = src ? strlen(src) : 0;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) n--;
    }
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

static void server_free(vw_grpc_server *s)
{
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void vw_grpc_call_finish(vw_grpc_call *call, int status, const char *message,
                         const uint8_t *response, size_t len, uint32_t retry_after_ms)
{
    call->status = status < 0 ? VW_GRPC_UNKNOWN : status;
    call->retry_after_ms = retry_after_ms;
    copy_message(call->message, message, VW_GRPC_MESSAGE_MAX);
    if (call->status == VW_GRPC_OK) {
        call->out_len = VW_GRPC_PREFIX + len;
        call->out = len <= UINT32_MAX ? malloc(call->out_len) : NULL;
        if (call->out) {
            uint8_t *p = call->out;
            p[0] = 0; /* never compressed: we announce no grpc-encoding */
            p[1] = (uint8_t)(len >> 24), p[2] = (uint8_t)(len >> 16), p[3] = (uint8_t)(len >> 8);
            p[4] = (uint8_t)len;
            if (len) memcpy(p + VW_GRPC_PREFIX, response, len);
        } else {
            call->status = VW_GRPC_INTERNAL;
            copy_message(call->message, "no memory for the response", VW_GRPC_MESSAGE_MAX);
        }
    }

    vw_grpc_server *s = call->server;
    pthread_mutex_lock(&s->lock);
    bool orphan = s->thread_done;
    if (!orphan) {
        call->next_finished = NULL;
        if (s->finished_tail)
            s->finished_tail->next_finished = call;
        else
            s->finished_head = call;
        s->finished_tail = call;
        if (!s->wake_pending) {
            uint64_t one = 1;
            ssize_t w = write(s->wake_fd, &one, sizeof one);
            (void)w; /* cannot fail short of a full counter, which is a wake-up anyway */
            s->wake_pending = true;
        }
    }
    s->outstanding--;
    bool last = orphan && s->released && s->outstanding == 0;
    pthread_mutex_unlock(&s->lock);
    if (orphan) call_free(call);
    if (last) server_free(s);
}

/* Answer the calls whose finish arrived (server thread). */
static void take_finished(vw_grpc_server *s)
{
    pthread_mutex_lock(&s->lock);
    vw_grpc_call *call = s->finished_head;
    s->finished_head = s->finished_tail = NULL;
    if (s->wake_pending) {
        uint64_t v;
        ssize_t r = read(s->wake_fd, &v, sizeof v);
        (void)r;
        s->wake_pending = false;
    }
    pthread_mutex_unlock(&s->lock);
    while (call) {
        vw_grpc_call *next = call->next_finished;
        conn *c = call->conn;
        call->with_handler = false;
        release_message(s, call);
        if (!c) {
            call_free(call); /* its client went away */
        } else if (call->state == CALL_HANDLER) {
            c->awaiting--;
            submit_finished(c, call);
        }
        /* else: answered UNAVAILABLE at stop; freed with its stream */
        call = next;
    }
}

/* ---- The loop ------------------------------------------------------------------------------- */

/* Stop: no new connections or streams, every open call answered UNAVAILABLE. */
static void begin_stop(vw_grpc_server *s)
{
    s->stopping = true;
    close(s->listen_fd);
    s->listen_fd = -1;
    take_finished(s); /* real answers that already arrived go out as they are */
    for (size_t i = 0; i < s->nconns; i++) {
        conn *c = s->conns[i];
        nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(c->h2), NGHTTP2_NO_ERROR,
                              NULL, 0);
        for (vw_grpc_call *call = c->calls; call; call = call->next) {
            if (call->state == CALL_HANDLER) {
                c->awaiting--;
                submit_error(c, call, VW_GRPC_UNAVAILABLE, "the server is stopping", 0);
                continue;
            }
            if (call->state == CALL_RECEIVING)
                refuse_grpc(c, call, VW_GRPC_UNAVAILABLE, 0, "the server is stopping");
            if (call->state == CALL_DRAINING) send_refusal(c, call);
        }
    }
}

/* Milliseconds poll may sleep: until the next idle deadline, the grace end or accepting again. */
static int poll_timeout(const vw_grpc_server *s, uint64_t stop_deadline)
{
    uint64_t wake = UINT64_MAX;
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i]->awaiting == 0) {
            uint64_t at = s->conns[i]->last_active_ms + s->o.idle_timeout_ms;
            if (at < wake) wake = at;
        }
    if (s->stopping && stop_deadline < wake) wake = stop_deadline;
    if (s->accept_paused_until > s->now_ms && s->accept_paused_until < wake)
        wake = s->accept_paused_until;
    if (wake == UINT64_MAX) return -1;
    if (wake <= s->now_ms) return 0;
    return wake - s->now_ms > INT32_MAX ? INT32_MAX : (int)(wake - s->now_ms);
}

/* pfds[0] the wake-up, pfds[1] the listener, pfds[2 + i] conns[i]. */
static nfds_t poll_set(vw_grpc_server *s)
{
    bool accepting = s->listen_fd >= 0 && s->accept_paused_until <= s->now_ms;
    s->pfds[0] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
    s->pfds[1] = (struct pollfd){.fd = accepting ? s->listen_fd : -1, .events = POLLIN};
    for (size_t i = 0; i < s->nconns; i++) {
        conn *c = s->conns[i];
        short ev = 0;
        if (nghttp2_session_want_read(c->h2)) ev |= POLLIN;
        if (c->heard && nghttp2_session_want_write(c->h2)) ev |= POLLOUT;
        s->pfds[2 + i] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    return (nfds_t)(2 + s->nconns);
}

/* Flush every connection, then close the finished, failed and idle ones. */
static void sweep(vw_grpc_server *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->nconns; i++) {
        conn *c = s->conns[i];
        conn_flush(c);
        if (!c->dead && conn_idle_expired(s, c)) {
            bump(&s->c.connections_timed_out, 1);
            /* A stalled request still gets the refusal it was waiting to receive. */
            for (vw_grpc_call *call = c->calls; call; call = call->next)
                if (call->state == CALL_DRAINING) send_refusal(c, call);
            nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
                                  nghttp2_session_get_last_proc_stream_id(c->h2), NGHTTP2_NO_ERROR,
                                  NULL, 0);
            nghttp2_session_send(c->h2); /* all this, as far as the socket takes it */
            c->dead = true;
        }
        if (c->dead)
            conn_close(c);
        else
            s->conns[kept++] = c;
    }
    s->nconns = kept;
}

static void *server_main(void *arg)
{
    vw_grpc_server *s = arg;
    uint64_t stop_deadline = 0;
    for (;;) {
        s->now_ms = otelc__mono_ms();
        if (!s->stopping && atomic_load(&s->stop_requested)) {
            begin_stop(s);
            sweep(s);
            stop_deadline = s->now_ms + STOP_GRACE_MS;
        }
        if (s->stopping && (s->nconns == 0 || s->now_ms >= stop_deadline)) break;
        nfds_t n = poll_set(s);
        if (poll(s->pfds, n, poll_timeout(s, stop_deadline)) < 0 && errno != EINTR) {
            otelc__log(OTELC_LOG_ERROR, "otelc view: gRPC server: poll: %s", strerror(errno));
            break;
        }
        s->now_ms = otelc__mono_ms();
        /* Answers first: they free request memory; closed connections next: they free slots. */
        take_finished(s);
        for (nfds_t i = 2; i < n; i++)
            if (s->pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) conn_read(s->conns[i - 2]);
        sweep(s);
        if (s->pfds[1].revents & POLLIN) accept_all(s);
    }

    for (size_t i = 0; i < s->nconns; i++) conn_close(s->conns[i]);
    s->nconns = 0;
    if (s->listen_fd >= 0) close(s->listen_fd);
    s->listen_fd = -1;
    /* From here on a finish frees its own call; none of them is attached to anything now. */
    pthread_mutex_lock(&s->lock);
    s->thread_done = true;
    vw_grpc_call *call = s->finished_head;
    s->finished_head = s->finished_tail = NULL;
    pthread_mutex_unlock(&s->lock);
    while (call) {
        vw_grpc_call *next = call->next_finished;
        call_free(call);
        call = next;
    }
    return NULL;
}

/* ---- Start, stop ---------------------------------------------------------------------------- */

static int failed(char *err, size_t err_size, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int failed(char *err, size_t err_size, int rc, const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* An IPv4 or IPv6 literal (brackets allowed) and a port, as a socket address. */
static bool parse_bind(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(host);
    if (n >= sizeof buf) return false;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, host, n + 1);
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return true;
    }
    return false;
}

static int listen_on(vw_grpc_server *s, const char *host, unsigned port, char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (port > 65535 || !parse_bind(host, port, &ss, &len))
        return failed(err, err_size, OTELC_ERR_INVALID_ARG,
                      "gRPC bind address %s port %u: not an IPv4 or IPv6 literal and a port", host,
                      port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return failed(err, err_size, OTELC_ERR_IO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        int e = errno;
        close(fd);
        return failed(err, err_size, OTELC_ERR_IO, "gRPC listen on %s port %u: %s", host, port,
                      strerror(e));
    }
    s->listen_fd = fd;
    s->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return OTELC_OK;
}

static void free_methods(char **m)
{
    for (char **p = m; p && *p; p++) free(*p);
    free(m);
}

/* Everything but the struct itself, its lock, and what the thread owns. */
static void release_resources(vw_grpc_server *s)
{
    if (s->listen_fd >= 0) close(s->listen_fd);
    if (s->wake_fd >= 0) close(s->wake_fd);
    s->listen_fd = s->wake_fd = -1;
    if (s->callbacks) nghttp2_session_callbacks_del(s->callbacks);
    free_methods(s->methods);
    free(s->conns);
    free(s->pfds);
    free(s->rbuf);
}

static bool copy_methods(vw_grpc_server *s, const char *const *methods)
{
    static const char *const trace_only[] = {VW_GRPC_TRACE_EXPORT, NULL};
    if (!methods) methods = trace_only;
    size_t n = 0;
    while (methods[n]) n++;
    s->methods = calloc(n + 1, sizeof *s->methods);
    if (!s->methods) return false;
    for (size_t i = 0; i < n; i++)
        if (!(s->methods[i] = strdup(methods[i]))) return false;
    return true;
}

static void apply_defaults(vw_grpc_options *o)
{
    if (!o->bind) o->bind = "127.0.0.1";
    if (!o->max_message) o->max_message = DEFAULT_MAX_MESSAGE;
    if (!o->max_buffered) o->max_buffered = DEFAULT_MAX_BUFFERED;
    if (o->max_buffered < o->max_message) o->max_buffered = o->max_message;
    if (!o->max_connections) o->max_connections = DEFAULT_MAX_CONNECTIONS;
    if (!o->max_streams_per_connection) o->max_streams_per_connection = DEFAULT_MAX_STREAMS;
    if (!o->idle_timeout_ms) o->idle_timeout_ms = DEFAULT_IDLE_MS;
}

static const char *bad_method(const char *const *methods, size_t path_cap)
{
    for (const char *const *m = methods; m && *m; m++)
        if ((*m)[0] != '/' || strlen(*m) >= path_cap) return *m;
    return NULL;
}

int vw_grpc_server_start(const vw_grpc_options *o, vw_grpc_server **out, char *err, size_t err_size)
{
    *out = NULL;
    if (!o || !o->on_call)
        return failed(err, err_size, OTELC_ERR_INVALID_ARG, "gRPC server: no call handler");
    const char *bad = bad_method(o->methods, sizeof((vw_grpc_call *)0)->path);
    if (bad)
        return failed(err, err_size, OTELC_ERR_INVALID_ARG, "gRPC server: bad method path %s", bad);
    vw_grpc_server *s = calloc(1, sizeof *s);
    if (!s) return failed(err, err_size, OTELC_ERR_NOMEM, "out of memory");
    s->o = *o;
    s->o.methods = NULL; /* copied into s->methods */
    apply_defaults(&s->o);
    s->listen_fd = s->wake_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    int rc = listen_on(s, s->o.bind, s->o.port, err, err_size);
    if (rc == OTELC_OK) {
        s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        s->conns = calloc(s->o.max_connections, sizeof *s->conns);
        s->pfds = calloc(2 + (size_t)s->o.max_connections, sizeof *s->pfds);
        s->rbuf = malloc(READ_CHUNK);
        if (s->wake_fd < 0 || !s->conns || !s->pfds || !s->rbuf || !copy_methods(s, o->methods) ||
            !callbacks_new(s))
            rc = failed(err, err_size, OTELC_ERR_NOMEM, "gRPC server: out of memory");
    }
    if (rc == OTELC_OK && pthread_create(&s->thread, NULL, server_main, s) != 0)
        rc = failed(err, err_size, OTELC_ERR_NOMEM, "gRPC server: no thread");
    if (rc != OTELC_OK) {
        release_resources(s);
        server_free(s);
        return rc;
    }
    *out = s;
    return OTELC_OK;
}

unsigned vw_grpc_server_port(const vw_grpc_server *s)
{
    return s->port;
}

void vw_grpc_server_stop(vw_grpc_server *s)
{
    if (!s) return;
    atomic_store(&s->stop_requested, true);
    uint64_t one = 1;
    ssize_t w = write(s->wake_fd, &one, sizeof one);
    (void)w;
    pthread_join(s->thread, NULL);
    release_resources(s);
    pthread_mutex_lock(&s->lock);
    s->released = true;
    bool last = s->outstanding == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) server_free(s);
}

void vw_grpc_server_stats(const vw_grpc_server *s, vw_grpc_stats *out)
{
    const counters *c = &s->c;
    out->connections = atomic_load_explicit(&c->connections, memory_order_relaxed);
    out->connections_refused = atomic_load_explicit(&c->connections_refused, memory_order_relaxed);
    out->connections_timed_out =
        atomic_load_explicit(&c->connections_timed_out, memory_order_relaxed);
    out->calls = atomic_load_explicit(&c->calls, memory_order_relaxed);
    out->calls_handled = atomic_load_explicit(&c->calls_handled, memory_order_relaxed);
    out->calls_refused = atomic_load_explicit(&c->calls_refused, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&c->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&c->bytes_out, memory_order_relaxed);
    out->buffered = atomic_load_explicit(&c->buffered, memory_order_relaxed);
}
