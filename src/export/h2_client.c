/*
 * h2_client.c - the HTTP/2 client of OTLP/gRPC, on libnghttp2: one
 * long-lived connection per exporter, each export a stream on it.
 *
 * Why not libcurl's HTTP/2: libcurl 7.88 (Debian 12) fails a request that
 * reuses an h2c connection made with prior knowledge, so every export
 * needed a new TCP connection and HTTP/2 session (9,022 in one benchmark
 * run), and its HTTP/2 breaks when a gRPC server answers before the upload
 * has ended. Here libcurl only connects (a raw connection, see http.c: name
 * resolution, happy eyeballs, proxies), tls.c adds TLS for https://, and
 * nghttp2 frames the calls:
 *
 *     nghttp2 session  <->  TLS (https only)  <->  raw connection (libcurl, CONNECT_ONLY)
 *
 * A connection is opened by the first call and kept. Before each call what
 * arrived while it sat idle is read: a PING is answered, a GOAWAY or the
 * server's close retires the connection and the call opens a new one.
 * After a GOAWAY no stream is started on the connection; nghttp2 closes the
 * streams above its last_stream_id with REFUSED_STREAM, and a refused
 * stream, which the server never processed, is sent again on a new
 * connection within the same call (at most MAX_REFUSED times). Any other
 * failure - the connection broke, the call timed out or was cancelled -
 * closes the connection and is reported to the caller, whose retry loop
 * (retry_run.c) decides whether and when to try again: the backoff between
 * reconnections is the export's backoff.
 *
 * Flow control: nghttp2 sends DATA only within the server's windows and
 * frame size, and we read while we write, so its WINDOW_UPDATEs arrive.
 * Our own windows are large (the responses are small, but a server is
 * never held back by us). Small frames are gathered into one write; DATA
 * goes from nghttp2's buffer to the socket without a copy; what a write
 * leaves is kept and retried with the same bytes (tls.c relies on it).
 *
 * Threading: a client belongs to its exporter's exporting thread; exports
 * of one exporter are sequential, so there is one call at a time (the
 * callbacks find a call through its stream, so a session could carry more
 * if exports ever ran concurrently). Only the cancel flag crosses threads.
 *
 * fork(): the child's copy of the connection is the parent's socket, maybe
 * mid-call. The child closes its copy of the descriptor and abandons the
 * rest (otelc__abandon): nothing is sent on it, nothing freed, and the
 * child's first call opens a connection of its own.
 *
 * libnghttp2 is loaded with dlopen by the first gRPC exporter, for the
 * reason libcurl is (see http.c): a program that never exports gRPC never
 * maps it. (libcurl4 depends on it, so it usually arrives mapped already.)
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export/otlp.h"

#ifdef OTELC_HAVE_GRPC

#include <nghttp2/nghttp2.h>

#define OUT_HIGH          (64 * 1024) /* small frames gathered before a write */
#define DIRECT_MIN        4096        /* frames this large are written from nghttp2's buffer */
#define READ_CHUNK        (16 * 1024)
#define READS_PER_TURN    16 /* then the loop looks at the clock and the cancel flag */
#define POLL_SLICE_MS     100
#define MAX_REFUSED       2
#define STREAM_WINDOW     (1 << 20)
#define CONNECTION_WINDOW (16 << 20)
#define AUTHORITY_HEADER  2 /* the index of :authority */
#define TIMEOUT_HEADER    4 /* the index of grpc-timeout: right after the pseudo-headers */

/* One call: a stream, the request it sends and the response it fills. */
struct call {
    const otelc_body *body;
    size_t sent;
    otelc_http_response *resp;
    int32_t stream_id;
    uint32_t error_code; /* the stream's, when nghttp2 closed it */
    bool closed;         /* nghttp2 closed the stream */
    bool remote_ended;   /* the server ended its response */
    bool refused;        /* never processed by the server: may go on another connection */
    bool body_failed;    /* the request body ended before its length */
};

struct conn {
    otelc_rawconn *raw;
    otelc_tls *tls; /* NULL over http:// */
    nghttp2_session *session;
    otelc_buf out; /* frames not yet written, from out_off on */
    size_t out_off;
    short write_wait, read_wait; /* what a blocked write or read waits for */
    bool more_input;             /* the last read stopped before the input ran dry */
    bool goaway;                 /* the server will take no new streams */
    bool failed;
    uint64_t calls; /* made on it */
    otelc_io_error error;
};

struct otelc_h2 {
    otelc_url_parts url;
    otelc_tls_config tls;
    nghttp2_nv *nv; /* the request headers; their strings are owned */
    size_t nnv, nv_cap;
    bool nv_failed;
    struct conn *conn; /* NULL until the first call, and after a failure */
};

/* ---- Loading libnghttp2 ------------------------------------------------------------------ */

#define FN(name) __typeof__(name) *name
static struct {
    FN(nghttp2_session_callbacks_new);
    FN(nghttp2_session_callbacks_set_on_header_callback);
    FN(nghttp2_session_callbacks_set_on_data_chunk_recv_callback);
    FN(nghttp2_session_callbacks_set_on_frame_recv_callback);
    FN(nghttp2_session_callbacks_set_on_stream_close_callback);
    FN(nghttp2_session_callbacks_set_on_frame_not_send_callback);
    FN(nghttp2_session_callbacks_set_data_source_read_length_callback);
    FN(nghttp2_session_client_new);
    FN(nghttp2_session_del);
    FN(nghttp2_submit_settings);
    FN(nghttp2_session_set_local_window_size);
    FN(nghttp2_submit_request);
    FN(nghttp2_submit_rst_stream);
    FN(nghttp2_session_mem_send);
    FN(nghttp2_session_mem_recv);
    FN(nghttp2_session_want_read);
    FN(nghttp2_session_want_write);
    FN(nghttp2_session_get_stream_user_data);
    FN(nghttp2_session_set_stream_user_data);
    FN(nghttp2_session_terminate_session);
    FN(nghttp2_strerror);
} ng;
#undef FN

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static nghttp2_session_callbacks *callbacks; /* NULL until libnghttp2 is loaded */

static void set_callbacks(nghttp2_session_callbacks *cb);

#define SYM(name)                                                                                  \
    {                                                                                              \
#name, (void **)&ng.name                                                                   \
    }

/* Once per process; the library and the callbacks are kept for its life. */
static void load_nghttp2(void)
{
    static const char *const sonames[] = {"libnghttp2.so.14", NULL};
    static const otelc_dynsym syms[] = {
        SYM(nghttp2_session_callbacks_new),
        SYM(nghttp2_session_callbacks_set_on_header_callback),
        SYM(nghttp2_session_callbacks_set_on_data_chunk_recv_callback),
        SYM(nghttp2_session_callbacks_set_on_frame_recv_callback),
        SYM(nghttp2_session_callbacks_set_on_stream_close_callback),
        SYM(nghttp2_session_callbacks_set_on_frame_not_send_callback),
        SYM(nghttp2_session_callbacks_set_data_source_read_length_callback),
        SYM(nghttp2_session_client_new),
        SYM(nghttp2_session_del),
        SYM(nghttp2_submit_settings),
        SYM(nghttp2_session_set_local_window_size),
        SYM(nghttp2_submit_request),
        SYM(nghttp2_submit_rst_stream),
        SYM(nghttp2_session_mem_send),
        SYM(nghttp2_session_mem_recv),
        SYM(nghttp2_session_want_read),
        SYM(nghttp2_session_want_write),
        SYM(nghttp2_session_get_stream_user_data),
        SYM(nghttp2_session_set_stream_user_data),
        SYM(nghttp2_session_terminate_session),
        SYM(nghttp2_strerror),
    };
    nghttp2_session_callbacks *cb = NULL;
    if (otelc__dynload(sonames, syms, sizeof syms / sizeof syms[0]) &&
        ng.nghttp2_session_callbacks_new(&cb) == 0) {
        set_callbacks(cb);
        callbacks = cb;
        return;
    }
    otelc__log(OTELC_LOG_ERROR, "libnghttp2 not found: OTLP/gRPC export unavailable");
}

#undef SYM

/* ---- nghttp2's callbacks ---------------------------------------------------------------- */

static struct call *call_of(nghttp2_session *s, int32_t stream_id)
{
    return ng.nghttp2_session_get_stream_user_data(s, stream_id);
}

/* Response headers and trailers; a :status starts a new header block (after a 1xx). */
static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
    (void)flags, (void)user;
    struct call *call = call_of(s, f->hd.stream_id);
    if (!call || f->hd.type != NGHTTP2_HEADERS) return 0;
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) {
        long status = 0; /* nghttp2 has checked it is three digits */
        for (size_t i = 0; i < vlen && i < 3; i++) status = status * 10 + (value[i] - '0');
        call->resp->status = status;
        otelc__http_response_restart(call->resp);
        return 0;
    }
    otelc__http_capture_header(call->resp, (const char *)name, nlen, (const char *)value, vlen);
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags, (void)user;
    struct call *call = call_of(s, stream_id);
    if (call) otelc__http_capture_body(call->resp, data, len);
    return 0;
}

/*
 * The end of a response. A server that answers before our request has all
 * gone out gets a RST_STREAM(NO_ERROR), which stops the upload (the gRPC
 * protocol's "early server closure"); the answer stands.
 */
static void response_ended(nghttp2_session *s, struct call *call)
{
    call->remote_ended = true;
    if (call->sent < call->body->len)
        ng.nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_NO_ERROR);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    struct conn *c = user;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = true;
        if (f->goaway.error_code != NGHTTP2_NO_ERROR)
            otelc__log(OTELC_LOG_DEBUG, "OTLP/gRPC: the server sent GOAWAY with error %u",
                       f->goaway.error_code);
        return 0;
    }
    bool ends = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (ends && (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA)) {
        struct call *call = call_of(s, f->hd.stream_id);
        if (call) response_ended(s, call);
    }
    return 0;
}

/* Streams above a GOAWAY's last_stream_id end here with REFUSED_STREAM. */
static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *user)
{
    (void)user;
    struct call *call = call_of(s, stream_id);
    if (!call) return 0;
    call->closed = true;
    call->error_code = error_code;
    if (error_code == NGHTTP2_REFUSED_STREAM && !call->remote_ended) call->refused = true;
    return 0;
}

/* A request that never left (a GOAWAY came first, the stream ids ran out) was not processed. */
static int on_frame_not_send(nghttp2_session *s, const nghttp2_frame *f, int lib_error, void *user)
{
    struct conn *c = user;
    struct call *call = f->hd.type == NGHTTP2_HEADERS ? call_of(s, f->hd.stream_id) : NULL;
    (void)lib_error;
    if (call) {
        call->refused = true;
        c->goaway = true; /* this connection is done with new streams either way */
    }
    return 0;
}

/* DATA as large as the server allows, up to what one write gathers. */
static ssize_t data_length(nghttp2_session *s, uint8_t type, int32_t stream_id,
                           int32_t session_window, int32_t stream_window, uint32_t max_frame,
                           void *user)
{
    (void)s, (void)type, (void)stream_id, (void)user;
    int64_t n = OUT_HIGH;
    if (session_window < n) n = session_window;
    if (stream_window < n) n = stream_window;
    if ((int64_t)max_frame < n) n = max_frame;
    return n > 0 ? (ssize_t)n : 1;
}

/* The request body, as the windows let it go. */
static ssize_t read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *source, void *user)
{
    (void)s, (void)stream_id, (void)user;
    struct call *call = source->ptr;
    const otelc_body *b = call->body;
    size_t left = b->len - call->sent, n = length < left ? length : left;
    if (n > 0 && b->read) {
        n = b->read(b->ctx, buf, n);
        if (n == 0) {
            call->body_failed = true;
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
        }
    } else if (n > 0) {
        memcpy(buf, (const uint8_t *)b->data + call->sent, n);
    }
    call->sent += n;
    if (call->sent == b->len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void set_callbacks(nghttp2_session_callbacks *cb)
{
    ng.nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    ng.nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    ng.nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    ng.nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    ng.nghttp2_session_callbacks_set_on_frame_not_send_callback(cb, on_frame_not_send);
    ng.nghttp2_session_callbacks_set_data_source_read_length_callback(cb, data_length);
}

/* ---- Bytes in and out ------------------------------------------------------------------ */

static void conn_fail(struct conn *c, int code, const char *what, const char *detail)
{
    if (c->failed) return; /* the first failure is the one to report */
    c->failed = true;
    otelc__io_fail(&c->error, code, what, detail);
}

static void conn_fail_io(struct conn *c)
{
    const otelc_io_error *e = c->tls ? otelc__tls_error(c->tls) : otelc__rawconn_error(c->raw);
    conn_fail(c, e->code, e->text, NULL);
}

static ssize_t conn_recv(struct conn *c, void *p, size_t n)
{
    if (c->tls) return otelc__tls_read(c->tls, p, n, &c->read_wait);
    c->read_wait = POLLIN;
    return otelc__rawconn_recv(c->raw, p, n);
}

static ssize_t conn_send(struct conn *c, const void *p, size_t n)
{
    if (c->tls) return otelc__tls_write(c->tls, p, n, &c->write_wait);
    c->write_wait = POLLOUT;
    return otelc__rawconn_send(c->raw, p, n);
}

/*
 * Feed what has arrived to nghttp2, whose callbacks update the calls. It
 * reads even after a write failed: a server that answered and closed may
 * have left its answer waiting. What nghttp2 then has to send goes out
 * with the next conn_write.
 */
static void conn_read(struct conn *c)
{
    uint8_t buf[READ_CHUNK];
    c->more_input = false;
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t n = conn_recv(c, buf, sizeof buf);
        if (n == 0) return;
        if (n < 0) {
            conn_fail_io(c);
            return;
        }
        ssize_t used = ng.nghttp2_session_mem_recv(c->session, buf, (size_t)n);
        if (used < 0) {
            conn_fail(c, OTELC_IO_HTTP2, "HTTP/2", ng.nghttp2_strerror((int)used));
            return;
        }
    }
    c->more_input = true; /* the turn ended before the input did */
}

static bool output_pending(const struct conn *c)
{
    return c->out_off < c->out.len;
}

/* Bytes kept for a later write: the tail of a frame the socket did not take, small frames. */
static void keep_output(struct conn *c, const uint8_t *p, size_t n)
{
    if (!output_pending(c)) {
        otelc__buf_reset(&c->out);
        c->out_off = 0;
    }
    otelc__buf_append(&c->out, p, n);
    if (c->out.failed) conn_fail(c, OTELC_IO_NO_MEMORY, "out of memory", NULL);
}

/* Write p[0..n); what the socket does not take now is kept. False when it did not take it all. */
static bool send_now(struct conn *c, const uint8_t *p, size_t n)
{
    ssize_t w = conn_send(c, p, n);
    if (w < 0) {
        conn_fail_io(c);
        return false;
    }
    if ((size_t)w < n) keep_output(c, p + w, n - (size_t)w); /* the same bytes go again later */
    return (size_t)w == n;
}

/*
 * The next frames nghttp2 has ready: small ones are gathered (up to
 * OUT_HIGH bytes) into one write; a large one, usually DATA, is returned
 * in *big to be written from nghttp2's own buffer, not copied, unless
 * small ones wait before it.
 */
static ssize_t next_output(struct conn *c, const uint8_t **big)
{
    ssize_t n = 0;
    while (c->out.len - c->out_off < OUT_HIGH) {
        n = ng.nghttp2_session_mem_send(c->session, big);
        if (n <= 0 || n >= DIRECT_MIN) break;
        keep_output(c, *big, (size_t)n);
        n = 0;
    }
    if (n < 0) conn_fail(c, OTELC_IO_HTTP2, "HTTP/2", ng.nghttp2_strerror((int)n));
    if (n > 0 && output_pending(c)) {
        keep_output(c, *big, (size_t)n);
        n = 0;
    }
    return n;
}

/* Write until nghttp2 has nothing more or the socket is full. */
static void conn_write(struct conn *c)
{
    while (!c->failed) {
        if (output_pending(c)) {
            ssize_t w = conn_send(c, c->out.data + c->out_off, c->out.len - c->out_off);
            if (w < 0) conn_fail_io(c);
            if (w > 0) c->out_off += (size_t)w;
            if (w <= 0 || output_pending(c)) break; /* blocked: the same bytes go again later */
            continue;
        }
        const uint8_t *big = NULL;
        ssize_t n = next_output(c, &big);
        if (n > 0 && !send_now(c, big, (size_t)n)) break;
        if (n <= 0 && !output_pending(c)) break; /* nothing more, or failed */
    }
}

/*
 * Wait until the connection's socket is ready for events: 1 when it is (or
 * poll failed, for the next I/O to find out why; at once for no events), 0
 * at the deadline, -1 once cancel reads true (looked at every POLL_SLICE_MS).
 */
static int wait_ready(int fd, short events, uint64_t deadline, _Atomic bool *cancel)
{
    for (;;) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed)) return -1;
        uint64_t now = otelc__mono_ms();
        if (now >= deadline) return 0;
        if (!events) return 1; /* no waiting: only the clock and the flag */
        uint64_t slice = deadline - now < POLL_SLICE_MS ? deadline - now : POLL_SLICE_MS;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)slice);
        if (rc > 0 || (rc < 0 && errno != EINTR)) return 1;
    }
}

/* ---- Connections ------------------------------------------------------------------------ */

static void conn_close(struct conn *c)
{
    if (!c) return;
    if (c->session && !c->failed) {
        /* A GOAWAY of our own, if the socket takes it now; no waiting for it. */
        ng.nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
        conn_write(c);
    }
    if (c->session) ng.nghttp2_session_del(c->session);
    otelc__tls_free(c->tls);
    otelc__rawconn_close(c->raw);
    otelc__buf_free(&c->out);
    free(c);
}

static bool start_session(struct conn *c)
{
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
    };
    if (ng.nghttp2_session_client_new(&c->session, callbacks, c) != 0) {
        c->session = NULL;
        return false;
    }
    return ng.nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings,
                                      sizeof settings / sizeof settings[0]) == 0 &&
           ng.nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
                                                    CONNECTION_WINDOW) == 0;
}

static bool tls_handshake(struct conn *c, uint64_t deadline, _Atomic bool *cancel)
{
    for (;;) {
        short wait = 0;
        int rc = otelc__tls_handshake(c->tls, &wait);
        if (rc == 1) return true;
        if (rc < 0) {
            conn_fail_io(c);
            return false;
        }
        int ready = wait_ready(otelc__rawconn_fd(c->raw), wait, deadline, cancel);
        if (ready < 0) conn_fail(c, OTELC_IO_ABORTED, "cancelled during the TLS handshake", NULL);
        if (ready == 0) conn_fail(c, OTELC_IO_TIMEDOUT, "timed out in the TLS handshake", NULL);
        if (ready <= 0) return false;
    }
}

/* A connection ready for streams; NULL with err filled. */
static struct conn *conn_open(otelc_h2 *h, uint64_t deadline, _Atomic bool *cancel,
                              otelc_io_error *err)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        *err = (otelc_io_error){OTELC_IO_NO_MEMORY, "out of memory"};
        return NULL;
    }
    uint64_t now = otelc__mono_ms();
    uint32_t left = deadline > now ? (uint32_t)(deadline - now) : 1;
    c->raw = otelc__rawconn_open(h->url.raw_url, h->url.https, left, cancel, err);
    if (!c->raw) {
        free(c);
        return NULL;
    }
    if (h->url.https && !(c->tls = otelc__tls_new(&h->tls, c->raw, h->url.host, err))) {
        conn_close(c);
        return NULL;
    }
    if (c->tls && !tls_handshake(c, deadline, cancel)) {
        *err = c->error;
        conn_close(c);
        return NULL;
    }
    if (!start_session(c)) {
        *err = (otelc_io_error){OTELC_IO_NO_MEMORY, "out of memory for an HTTP/2 session"};
        c->failed = true;
        conn_close(c);
        return NULL;
    }
    return c;
}

/* Take in what came while the connection was idle; false when it cannot carry a new stream. */
static bool conn_usable(struct conn *c)
{
    conn_read(c);
    conn_write(c);
    return !c->failed && !c->goaway && ng.nghttp2_session_want_read(c->session);
}

/* ---- Calls ------------------------------------------------------------------------------- */

static void report(otelc_http_response *out, const otelc_io_error *e)
{
    out->transport_error = e->code;
    out->timed_out = e->code == OTELC_IO_TIMEDOUT;
    out->cancelled = e->code == OTELC_IO_ABORTED;
    otelc__strlcpy(out->error, e->text, sizeof out->error);
}

/* grpc-timeout: at most 8 digits, in milliseconds while they fit, else in seconds. */
static void format_timeout(char *dst, size_t cap, uint32_t ms)
{
    if (ms < 100000000)
        snprintf(dst, cap, "%um", ms ? ms : 1);
    else
        snprintf(dst, cap, "%uS", ms / 1000 + 1);
}

static bool submit(otelc_h2 *h, struct conn *c, struct call *call, uint64_t deadline)
{
    char timeout[16];
    uint64_t now = otelc__mono_ms();
    format_timeout(timeout, sizeof timeout, deadline > now ? (uint32_t)(deadline - now) : 1);
    h->nv[TIMEOUT_HEADER].value = (uint8_t *)timeout; /* nghttp2 copies the headers */
    h->nv[TIMEOUT_HEADER].valuelen = strlen(timeout);
    nghttp2_data_provider data = {.source.ptr = call, .read_callback = read_body};
    int32_t id = ng.nghttp2_submit_request(c->session, NULL, h->nv, h->nnv, &data, call);
    h->nv[TIMEOUT_HEADER].value = NULL;
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) {
        c->goaway = true; /* 2^31 streams later: a new connection */
        call->refused = true;
        return false;
    }
    if (id < 0) {
        conn_fail(c, OTELC_IO_HTTP2, "HTTP/2 request", ng.nghttp2_strerror(id));
        return false;
    }
    call->stream_id = id;
    return true;
}

/*
 * Drive the connection until the call's stream closes (or its request
 * could not be sent at all); 0 then, else why it stopped.
 */
static int drive(struct conn *c, struct call *call, uint64_t deadline, _Atomic bool *cancel)
{
    int fd = otelc__rawconn_fd(c->raw);
    while (!call->closed && !call->refused) {
        conn_read(c);
        conn_write(c); /* what we have, and what reading made due: acks, windows, more DATA */
        if (c->failed && !call->closed) conn_read(c); /* the answer may wait behind the failure */
        if (call->closed || call->refused) break;     /* whatever became of the connection after */
        if (c->failed) return OTELC_IO_RECV_ERROR;
        if (!ng.nghttp2_session_want_read(c->session)) {
            conn_fail(c, OTELC_IO_HTTP2, "the server ended the HTTP/2 session", NULL);
            return OTELC_IO_RECV_ERROR;
        }
        short events = (short)(c->read_wait | (output_pending(c) ? c->write_wait : 0));
        int ready = wait_ready(fd, c->more_input ? 0 : events, deadline, cancel);
        if (ready < 0) return OTELC_IO_ABORTED;
        if (ready == 0) return OTELC_IO_TIMEDOUT;
    }
    return 0;
}

/* What the call came to, in out; false when the connection must go. */
static bool conclude(struct conn *c, struct call *call, int stopped, uint32_t timeout_ms,
                     otelc_http_response *out)
{
    if (stopped == OTELC_IO_ABORTED || stopped == OTELC_IO_TIMEDOUT) {
        otelc_io_error e = {stopped, "cancelled"};
        if (stopped == OTELC_IO_TIMEDOUT)
            snprintf(e.text, sizeof e.text, "gRPC call timed out after %u ms", timeout_ms);
        report(out, &e);
        /* A server that stopped answering may have taken the connection with it. */
        ng.nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, call->stream_id,
                                     NGHTTP2_CANCEL);
        return false;
    }
    if (stopped) {
        report(out, &c->error);
        return false;
    }
    if (call->remote_ended || call->refused) return true;
    if (call->body_failed) {
        report(out,
               &(otelc_io_error){OTELC_IO_READ_ERROR, "the request body ended before its length"});
        return true;
    }
    out->h2_reset = call->error_code; /* grpc.c turns it into a gRPC status */
    return true;
}

/*
 * One call on the current connection (opened first if need be). False when
 * it was refused before the server processed it: then it may be sent again.
 */
static bool call_once(otelc_h2 *h, const otelc_body *body, uint64_t deadline, uint32_t timeout_ms,
                      _Atomic bool *cancel, otelc_http_response *out)
{
    otelc__http_response_reset(out);
    if (h->conn && !conn_usable(h->conn)) {
        conn_close(h->conn);
        h->conn = NULL;
    }
    otelc_io_error err;
    if (!h->conn && !(h->conn = conn_open(h, deadline, cancel, &err))) {
        report(out, &err);
        return true;
    }
    if (!h->conn->calls++)
        otelc__log(OTELC_LOG_DEBUG, "OTLP/gRPC: new connection to %s", h->url.authority);
    struct conn *c = h->conn;
    struct call call = {.body = body, .resp = out};
    if (body->read) body->rewind(body->ctx);
    int stopped = submit(h, c, &call, deadline) ? drive(c, &call, deadline, cancel)
                                                : (call.refused ? 0 : OTELC_IO_HTTP2);
    bool keep = conclude(c, &call, stopped, timeout_ms, out) && !c->failed;
    if (call.stream_id > 0)
        ng.nghttp2_session_set_stream_user_data(c->session, call.stream_id, NULL);
    if (!keep) {
        conn_close(c);
        h->conn = NULL;
    }
    return !call.refused || stopped != 0;
}

void otelc__h2_post(otelc_h2 *h, const otelc_body *body, uint32_t timeout_ms, _Atomic bool *cancel,
                    otelc_http_response *out)
{
    uint64_t deadline = otelc__mono_ms() + timeout_ms;
    for (int refused = 0; refused <= MAX_REFUSED; refused++) {
        if (call_once(h, body, deadline, timeout_ms, cancel, out)) return;
        otelc__log(OTELC_LOG_DEBUG, "OTLP/gRPC: call refused by the server; sent again");
    }
    report(out, &(otelc_io_error){OTELC_IO_HTTP2, "the server refused the call (GOAWAY)"});
}

/* ---- Creation ----------------------------------------------------------------------------- */

static void add_header(otelc_h2 *h, const char *name, size_t name_len, const char *value)
{
    if (h->nnv == h->nv_cap) {
        size_t cap = h->nv_cap ? h->nv_cap * 2 : 16;
        nghttp2_nv *nv = realloc(h->nv, cap * sizeof *nv);
        if (!nv) {
            h->nv_failed = true;
            return;
        }
        h->nv = nv;
        h->nv_cap = cap;
    }
    char *n = strndup(name, name_len), *v = strdup(value);
    if (!n || !v) {
        free(n), free(v);
        h->nv_failed = true;
        return;
    }
    for (char *p = n; *p; p++) *p = (char)tolower((unsigned char)*p); /* HTTP/2 wants lowercase */
    h->nv[h->nnv++] =
        (nghttp2_nv){(uint8_t *)n, (uint8_t *)v, name_len, strlen(v), NGHTTP2_NV_FLAG_NONE};
}

/* Host is :authority in HTTP/2 (RFC 9113 8.3.1): a Host header names the authority, as with
 * libcurl. */
static bool set_authority(otelc_h2 *h, const char *name, size_t name_len, const char *value)
{
    if (name_len != 4 || strncasecmp(name, "host", 4) != 0) return false;
    char *v = strdup(value);
    if (!v) {
        h->nv_failed = true;
        return true;
    }
    free(h->nv[AUTHORITY_HEADER].value);
    h->nv[AUTHORITY_HEADER].value = (uint8_t *)v;
    h->nv[AUTHORITY_HEADER].valuelen = strlen(v);
    return true;
}

/* "Name: value", as the exporters write their fixed headers for libcurl. */
static void add_header_line(otelc_h2 *h, const char *line)
{
    const char *colon = strchr(line, ':');
    if (!colon || colon == line) return;
    const char *v = colon + 1;
    while (*v == ' ') v++;
    if (!set_authority(h, line, (size_t)(colon - line), v))
        add_header(h, line, (size_t)(colon - line), v);
}

/* HTTP/2 forbids connection-specific headers (RFC 9113 8.2.2); the pseudo-headers carry Host. */
static bool forbidden_in_h2(const char *key)
{
    static const char *const names[] = {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
        "host",       "te",         "content-length"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(key, names[i]) == 0) return true;
    return false;
}

static void add_user_header(void *ctx, const char *key, const char *value)
{
    if (set_authority(ctx, key, strlen(key), value)) return;
    if (forbidden_in_h2(key)) {
        otelc__log(OTELC_LOG_WARN, "OTLP/gRPC: header %.64s is not allowed in HTTP/2; skipped",
                   key);
        return;
    }
    add_header(ctx, key, strlen(key), value);
}

static bool build_headers(otelc_h2 *h, const otelc_http_config *cfg)
{
    add_header(h, ":method", 7, "POST"); /* the order AUTHORITY_HEADER and TIMEOUT_HEADER name */
    add_header(h, ":scheme", 7, h->url.https ? "https" : "http");
    add_header(h, ":authority", 10, h->url.authority);
    add_header(h, ":path", 5, h->url.path);
    add_header(h, "grpc-timeout", 12, "");
    if (h->nv_failed) return false;
    free(h->nv[TIMEOUT_HEADER].value); /* each call sets its own */
    h->nv[TIMEOUT_HEADER].value = NULL;
    for (const char *const *l = cfg->fixed_headers; l && *l; l++) add_header_line(h, *l);
    if (cfg->user_headers && !otelc__otlp_parse_headers(cfg->user_headers, add_user_header, h))
        otelc__log(OTELC_LOG_WARN,
                   "OTLP exporter: malformed entries in the headers setting skipped");
    return !h->nv_failed;
}

static bool copy_tls_config(otelc_tls_config *dst, const otelc_http_config *cfg)
{
    dst->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
    dst->client_cert = cfg->client_cert ? strdup(cfg->client_cert) : NULL;
    dst->client_key = cfg->client_key ? strdup(cfg->client_key) : NULL;
    return (!cfg->ca_file || dst->ca_file) && (!cfg->client_cert || dst->client_cert) &&
           (!cfg->client_key || dst->client_key);
}

otelc_h2 *otelc__h2_new(const otelc_http_config *cfg)
{
    pthread_once(&load_once, load_nghttp2);
    if (!callbacks) return NULL;
    otelc_h2 *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    if (!otelc__url_parts(cfg->url, &h->url)) {
        otelc__log(OTELC_LOG_ERROR, "OTLP/gRPC: the endpoint URL \"%.200s\" is not usable",
                   cfg->url);
        otelc__h2_free(h);
        return NULL;
    }
    if (!copy_tls_config(&h->tls, cfg) || !build_headers(h, cfg)) {
        otelc__h2_free(h);
        return NULL;
    }
    return h;
}

void otelc__h2_free(otelc_h2 *h)
{
    if (!h) return;
    conn_close(h->conn);
    for (size_t i = 0; i < h->nnv; i++) {
        free(h->nv[i].name);
        free(h->nv[i].value);
    }
    free(h->nv);
    otelc__url_parts_free(&h->url);
    free((char *)h->tls.ca_file);
    free((char *)h->tls.client_cert);
    free((char *)h->tls.client_key);
    free(h);
}

void otelc__h2_after_fork_child(otelc_h2 *h)
{
    struct conn *c = h ? h->conn : NULL;
    if (!c) return;
    otelc__rawconn_after_fork_child(c->raw);
    if (c->tls) otelc__tls_abandon(c->tls);
    otelc__abandon(c->session);
    otelc__buf_abandon(&c->out);
    otelc__abandon(c);
    h->conn = NULL;
}

#else /* !OTELC_HAVE_GRPC */

otelc_h2 *otelc__h2_new(const otelc_http_config *cfg)
{
    (void)cfg;
    otelc__log(OTELC_LOG_ERROR, "OTLP/gRPC: this build of otelc has no libnghttp2 or OpenSSL "
                                "headers (libnghttp2-dev, libssl-dev)");
    return NULL;
}

void otelc__h2_post(otelc_h2 *h, const otelc_body *body, uint32_t timeout_ms, _Atomic bool *cancel,
                    otelc_http_response *out)
{
    (void)h, (void)body, (void)timeout_ms, (void)cancel, (void)out;
}

void otelc__h2_free(otelc_h2 *h)
{
    (void)h;
}

void otelc__h2_after_fork_child(otelc_h2 *h)
{
    (void)h;
}

#endif
