/*
 * test_view_grpc_server.c - the OTLP/gRPC transport of `otelc view`
 * (viewer/grpc_server.c) on 127.0.0.1, against three clients:
 *
 * - libotelc's own OTLP/gRPC exporter (libcurl): the handler must get the
 *   exact ExportTraceServiceRequest the exporter encoded, plain or gzip;
 *   the exporter must read our answers (partial success, RetryInfo delays,
 *   RESOURCE_EXHAUSTED, refusals) the way the OTLP specification says;
 * - a raw HTTP/2 client on libnghttp2 (below), which shows the frames
 *   themselves: trailers-only or not, every header, RST_STREAM, GOAWAY, and
 *   lets a test open many streams on one connection or stall halfway;
 * - the official JS client @grpc/grpc-js (tests/interop/node_modules, when
 *   installed), a second HTTP/2 and gRPC stack.
 *
 * Expected bytes are built here from the protocol documents
 * (PROTOCOL-HTTP2.md, google/rpc/status.proto, error_details.proto), not
 * copied from the server's output. Timing is asserted only as lower bounds.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <zlib.h>

#include "export/otlp.h"
#include "grpc_server.h"
#include "otelc/otelc.h"

/* ---- The handler: records calls, answers as the test scripted ------------------------------ */

#define MAX_RECORDED 256

typedef struct answer {
    int status;
    const char *message;
    uint32_t retry_after_ms;
    const uint8_t *response;
    size_t len;
} answer;

static struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t calls;
    uint8_t *msg[MAX_RECORDED];
    size_t len[MAX_RECORDED];
    char path[MAX_RECORDED][128];
    uint64_t at_ms[MAX_RECORDED];
    answer script[8]; /* answers for the first calls, then def */
    size_t nscript;
    answer def;
    bool hold; /* keep calls in held[] instead of answering */
    bool echo; /* answer OK with the request bytes */
    vw_grpc_call *held[MAX_RECORDED];
    size_t nheld;
    size_t outstanding, most_outstanding; /* held and not finished */
    /* What check() saw last, and what it answers. */
    char authority[256], origin[256], content_type[128], authorization[128];
    bool had_origin;
    int refuse_with_origin; /* check() answers this when an Origin came */
    int refuse_all;         /* and this for every request */
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/*
 * The test thread sets rec up and reads it without the lock, between
 * client actions; the sockets order those accesses, but thread sanitizers
 * cannot see that. Every client action starts and ends with rec_sync():
 * taking the lock orders the test's accesses with the handler's.
 */
static void rec_sync(void)
{
    pthread_mutex_lock(&rec.lock);
    pthread_mutex_unlock(&rec.lock);
}

static void rec_reset(void)
{
    pthread_mutex_lock(&rec.lock);
    for (size_t i = 0; i < rec.calls && i < MAX_RECORDED; i++) free(rec.msg[i]);
    rec.calls = rec.nscript = rec.nheld = rec.outstanding = rec.most_outstanding = 0;
    rec.def = (answer){0};
    rec.hold = rec.echo = false;
    rec.refuse_with_origin = rec.refuse_all = 0;
    rec.authority[0] = rec.origin[0] = rec.content_type[0] = '\0';
    rec.had_origin = false;
    pthread_mutex_unlock(&rec.lock);
}

static void on_call(void *ctx, vw_grpc_call *call, const char *path, const uint8_t *msg, size_t len)
{
    (void)ctx;
    pthread_mutex_lock(&rec.lock);
    size_t i = rec.calls++;
    answer a = i < rec.nscript ? rec.script[i] : rec.def;
    if (i < MAX_RECORDED) {
        rec.msg[i] = malloc(len ? len : 1);
        if (len) memcpy(rec.msg[i], msg, len);
        rec.len[i] = len;
        snprintf(rec.path[i], sizeof rec.path[i], "%s", path);
        rec.at_ms[i] = otelc__mono_ms();
    }
    bool hold = rec.hold && rec.nheld < MAX_RECORDED;
    if (rec.echo) a.response = msg, a.len = len;
    if (hold) {
        rec.held[rec.nheld++] = call;
        if (++rec.outstanding > rec.most_outstanding) rec.most_outstanding = rec.outstanding;
    }
    pthread_cond_broadcast(&rec.cond);
    pthread_mutex_unlock(&rec.lock);
    if (hold) return;
    vw_grpc_call_finish(call, a.status, a.message, a.response, a.len, a.retry_after_ms);
}

static int check(void *ctx, const char *authority, const char *origin, const char *content_type,
                 const char *authorization)
{
    (void)ctx;
    snprintf(rec.authorization, sizeof rec.authorization, "%s",
             authorization ? authorization : "(none)");
    pthread_mutex_lock(&rec.lock);
    snprintf(rec.authority, sizeof rec.authority, "%s", authority);
    snprintf(rec.origin, sizeof rec.origin, "%s", origin ? origin : "");
    snprintf(rec.content_type, sizeof rec.content_type, "%s", content_type);
    rec.had_origin = origin != NULL;
    int refuse = origin && rec.refuse_with_origin ? rec.refuse_with_origin : rec.refuse_all;
    pthread_mutex_unlock(&rec.lock);
    return refuse;
}

/* Wait until n calls were held; false after 10 s. */
static bool wait_held(size_t n)
{
    bool ok = true;
    uint64_t until = otelc__mono_ms() + 10000;
    pthread_mutex_lock(&rec.lock);
    while (rec.nheld < n && (ok = otelc__mono_ms() < until)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&rec.cond, &rec.lock, &ts);
    }
    pthread_mutex_unlock(&rec.lock);
    return ok;
}

/* Finish the held calls from another thread, after delay_ms, last held first. */
typedef struct finisher {
    pthread_t thread;
    size_t count;
    unsigned delay_ms;
    answer a;
    bool echo_index; /* answer each call with its index in held[] as the response */
} finisher;

static void *finish_held(void *arg)
{
    finisher *f = arg;
    if (!wait_held(f->count)) return NULL;
    usleep(f->delay_ms * 1000);
    for (size_t k = f->count; k-- > 0;) {
        pthread_mutex_lock(&rec.lock);
        vw_grpc_call *call = rec.held[k];
        uint8_t idx[2] = {(uint8_t)(k >> 8), (uint8_t)k};
        rec.outstanding--;
        pthread_mutex_unlock(&rec.lock);
        if (f->echo_index)
            vw_grpc_call_finish(call, VW_GRPC_OK, NULL, idx, sizeof idx, 0);
        else
            vw_grpc_call_finish(call, f->a.status, f->a.message, f->a.response, f->a.len,
                                f->a.retry_after_ms);
    }
    return NULL;
}

static void finisher_start(finisher *f)
{
    assert_int_equal(pthread_create(&f->thread, NULL, finish_held, f), 0);
}

/* ---- The server under test ------------------------------------------------------------------ */

static vw_grpc_server *srv;

static vw_grpc_options options(void)
{
    return (vw_grpc_options){.on_call = on_call, .check = check, .idle_timeout_ms = 30000};
}

static void start(const vw_grpc_options *o)
{
    char err[256] = "";
    assert_int_equal(vw_grpc_server_start(o, &srv, err, sizeof err), OTELC_OK);
    assert_true(vw_grpc_server_port(srv) > 0);
}

static vw_grpc_stats stats(void)
{
    vw_grpc_stats st;
    vw_grpc_server_stats(srv, &st);
    return st;
}

static int setup(void **state)
{
    (void)state;
    rec_reset();
    srv = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vw_grpc_server_stop(srv);
    srv = NULL;
    rec_reset();
    return 0;
}

/* ---- A raw HTTP/2 client ----------------------------------------------------------------- */

#define MAX_STREAMS 128

typedef struct h2_stream {
    int32_t id;
    int status;                         /* :status */
    char headers[4096], trailers[4096]; /* "name: value\n" lines */
    bool trailers_only;                 /* END_STREAM on the response HEADERS */
    uint8_t *data;
    size_t len;
    bool closed;
    bool reset;          /* RST_STREAM received */
    uint32_t reset_code; /* its error code */
    const uint8_t *body; /* the request body, sent as DATA */
    size_t body_len, body_pos;
    bool keep_open; /* no END_STREAM after the body: the request stalls */
} h2_stream;

typedef struct h2_client {
    int fd;
    nghttp2_session *h2;
    h2_stream *streams[MAX_STREAMS];
    size_t n;
    bool goaway;
    uint32_t goaway_code;
    bool eof;
} h2_client;

static h2_stream *stream_of(h2_client *cl, int32_t id)
{
    for (size_t i = 0; i < cl->n; i++)
        if (cl->streams[i]->id == id) return cl->streams[i];
    return NULL;
}

static ssize_t cl_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *user)
{
    (void)h2, (void)flags;
    h2_client *cl = user;
    ssize_t w = send(cl->fd, data, len, MSG_NOSIGNAL);
    if (w >= 0) return w;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int cl_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
    (void)h2, (void)flags;
    h2_stream *st = stream_of(user, f->hd.stream_id);
    if (!st || f->hd.type != NGHTTP2_HEADERS) return 0;
    bool trailer = f->headers.cat == NGHTTP2_HCAT_HEADERS;
    char *block = trailer ? st->trailers : st->headers;
    size_t used = strlen(block);
    snprintf(block + used, 4096 - used, "%.*s: %.*s\n", (int)nlen, name, (int)vlen, value);
    if (nlen == 7 && memcmp(name, ":status", 7) == 0) st->status = atoi((const char *)value);
    return 0;
}

static int cl_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
    (void)h2;
    h2_client *cl = user;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        cl->goaway = true;
        cl->goaway_code = f->goaway.error_code;
    }
    h2_stream *st = stream_of(cl, f->hd.stream_id);
    if (st && f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_RESPONSE &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        st->trailers_only = true;
    if (st && f->hd.type == NGHTTP2_RST_STREAM) {
        st->reset = true;
        st->reset_code = f->rst_stream.error_code;
    }
    return 0;
}

static int cl_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *user)
{
    (void)h2, (void)flags;
    h2_stream *st = stream_of(user, id);
    if (!st) return 0;
    st->data = realloc(st->data, st->len + len);
    memcpy(st->data + st->len, data, len);
    st->len += len;
    return 0;
}

static int cl_close(nghttp2_session *h2, int32_t id, uint32_t code, void *user)
{
    (void)h2, (void)code;
    h2_stream *st = stream_of(user, id);
    if (st) st->closed = true;
    return 0;
}

static ssize_t cl_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t room, uint32_t *flags,
                       nghttp2_data_source *src, void *user)
{
    (void)h2, (void)id, (void)user;
    h2_stream *st = src->ptr;
    size_t n = st->body_len - st->body_pos;
    if (n > room) n = room;
    if (n == 0 && st->keep_open) return NGHTTP2_ERR_DEFERRED;
    memcpy(buf, st->body + st->body_pos, n);
    st->body_pos += n;
    if (st->body_pos == st->body_len && !st->keep_open) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int tcp_connect(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void h2_connect(h2_client *cl)
{
    memset(cl, 0, sizeof *cl);
    cl->fd = tcp_connect(vw_grpc_server_port(srv));
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_send_callback(cb, cl_send);
    nghttp2_session_callbacks_set_on_header_callback(cb, cl_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, cl_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, cl_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, cl_close);
    assert_int_equal(nghttp2_session_client_new(&cl->h2, cb, cl), 0);
    nghttp2_session_callbacks_del(cb);
    assert_int_equal(nghttp2_submit_settings(cl->h2, NGHTTP2_FLAG_NONE, NULL, 0), 0);
}

static void h2_close(h2_client *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        free(cl->streams[i]->data);
        free(cl->streams[i]);
    }
    nghttp2_session_del(cl->h2);
    close(cl->fd);
}

#define NVS(n, v)                                                                                  \
    (nghttp2_nv)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                 \
    }

/*
 * Open a stream: a gRPC POST to path with content-type application/grpc,
 * plus extra "name", "value" pairs (NULL-terminated; a pair may replace
 * content-type), sending body (already framed) as DATA.
 */
static h2_stream *h2_request(h2_client *cl, const char *path, const char *const *extra,
                             const uint8_t *body, size_t len)
{
    h2_stream *st = calloc(1, sizeof *st);
    st->body = body;
    st->body_len = len;
    nghttp2_nv nv[16];
    size_t n = 0;
    nv[n++] = NVS(":method", "POST");
    nv[n++] = NVS(":scheme", "http");
    nv[n++] = NVS(":authority", "127.0.0.1");
    nv[n++] = NVS(":path", path);
    nv[n++] = NVS("te", "trailers");
    bool own_type = false;
    for (const char *const *e = extra; e && *e; e += 2) {
        nv[n++] = NVS(e[0], e[1]);
        own_type |= strcmp(e[0], "content-type") == 0;
    }
    if (!own_type) nv[n++] = NVS("content-type", "application/grpc");
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = cl_body};
    st->id = nghttp2_submit_request(cl->h2, NULL, nv, n, &prd, NULL);
    assert_true(st->id > 0);
    cl->streams[cl->n++] = st;
    return st;
}

static bool all_closed(const h2_client *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        if (!cl->streams[i]->closed) return false;
    return true;
}

/* Exchange frames until every stream closed (or, with for_ms, for that long); false on timeout. */
static bool h2_exchange(h2_client *cl, unsigned for_ms)
{
    uint64_t until = otelc__mono_ms() + (for_ms ? for_ms : 10000);
    uint8_t buf[65536];
    while (otelc__mono_ms() < until && !cl->eof) {
        if (!for_ms && all_closed(cl)) return true;
        if (nghttp2_session_send(cl->h2) != 0) {
            cl->eof = true; /* the server closed the connection */
            break;
        }
        struct pollfd p = {.fd = cl->fd, .events = POLLIN};
        if (nghttp2_session_want_write(cl->h2)) p.events |= POLLOUT;
        if (poll(&p, 1, 20) <= 0) continue;
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = recv(cl->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r <= 0) {
            cl->eof = r == 0 || (errno != EAGAIN && errno != EINTR);
            continue;
        }
        if (nghttp2_session_mem_recv(cl->h2, buf, (size_t)r) < 0) return false;
    }
    return for_ms || all_closed(cl);
}

static bool h2_run(h2_client *cl, unsigned for_ms)
{
    rec_sync();
    bool done = h2_exchange(cl, for_ms);
    rec_sync();
    return done;
}

static size_t held_count(void)
{
    pthread_mutex_lock(&rec.lock);
    size_t n = rec.nheld;
    pthread_mutex_unlock(&rec.lock);
    return n;
}

/* Run the client until the handler holds n calls; false after 10 s. */
static bool h2_run_until_held(h2_client *cl, size_t n)
{
    for (int i = 0; i < 500 && held_count() < n; i++) h2_run(cl, 20);
    return held_count() >= n;
}

/* Run the client until st closed (or the connection did); false after 10 s. */
static bool h2_run_until_closed(h2_client *cl, const h2_stream *st)
{
    for (int i = 0; i < 500 && !st->closed && !cl->eof; i++) h2_run(cl, 20);
    return st->closed;
}

/* Run the client until the server closed the connection; false after 10 s. */
static bool h2_run_until_eof(h2_client *cl)
{
    for (int i = 0; i < 500 && !cl->eof; i++) h2_run(cl, 20);
    return cl->eof;
}

/* The value of name in a "name: value\n" block, or NULL. */
static const char *field(const char *block, const char *name)
{
    static char value[2048];
    size_t n = strlen(name);
    for (const char *line = block; *line;) {
        const char *eol = strchr(line, '\n');
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            snprintf(value, sizeof value, "%.*s", (int)(eol - line - n - 2), line + n + 2);
            return value;
        }
        line = eol + 1;
    }
    return NULL;
}

/* The gRPC status of a stream, from its trailers (or its headers when trailers-only); -1: none. */
static int grpc_status(const h2_stream *st)
{
    const char *v = field(st->trailers_only ? st->headers : st->trailers, "grpc-status");
    return v ? atoi(v) : -1;
}

static size_t framed(uint8_t *out, uint8_t flag, const void *p, size_t n)
{
    out[0] = flag;
    out[1] = (uint8_t)(n >> 24), out[2] = (uint8_t)(n >> 16), out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    if (n) memcpy(out + 5, p, n);
    return n + 5;
}

/* One call on a new connection: returns the stream (valid until h2_close). */
static h2_stream *call_once(h2_client *cl, const char *path, const char *const *extra,
                            const uint8_t *body, size_t len)
{
    h2_connect(cl);
    h2_stream *st = h2_request(cl, path, extra, body, len);
    assert_true(h2_run(cl, 0));
    return st;
}

/* ---- Spans and the exporter -------------------------------------------------------------- */

static otelc_provider *prov;
static otelc_tracer *tracer;
static const otelc_span_data *kept[64];
static size_t nkept;
static bool have_exporter;

static void keep_on_end(void *self, const otelc_span_data *sd)
{
    (void)self;
    if (nkept < 64) {
        otelc_span_data_retain(sd);
        kept[nkept++] = sd;
    }
}

static const otelc_processor_ops keep_ops = {.on_end = keep_on_end};

static void release_kept(void)
{
    for (size_t i = 0; i < nkept; i++) otelc_span_data_release(kept[i]);
    nkept = 0;
}

/* n finished spans named name, each with an attribute of attr_len bytes. */
static const otelc_span_data *const *spans(size_t n, const char *name, size_t attr_len)
{
    release_kept();
    char *big = malloc(attr_len + 1);
    memset(big, 'v', attr_len);
    big[attr_len] = '\0';
    for (size_t i = 0; i < n; i++) {
        otelc_span *s = otelc_span_start(tracer, name, OTELC_SPAN_CLIENT);
        if (attr_len) otelc_span_set_str(s, "payload", big);
        otelc_span_end(s);
    }
    free(big);
    assert_int_equal(nkept, n);
    return kept;
}

/* What libotelc's encoder makes of spans: the bytes the handler must receive. */
static otelc_buf encoded(const otelc_span_data *const *sp, size_t n)
{
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_proto(&b, sp, n), OTELC_OK);
    return b;
}

static otelc_exporter *exporter(bool gzip)
{
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", vw_grpc_server_port(srv));
    otelc_otlp_exporter_options o = {.endpoint = url,
                                     .protocol = OTELC_OTLP_GRPC,
                                     .gzip = gzip,
                                     .timeout_ms = 10000,
                                     .retry_initial_ms = 20,
                                     .retry_max_ms = 100};
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_non_null(e);
    return e;
}

static otelc_export_result export_spans(otelc_exporter *e, const otelc_span_data *const *sp,
                                        size_t n)
{
    rec_sync();
    otelc_export_result r = otelc_exporter_export(e, sp, n);
    rec_sync();
    return r;
}

static otelc_otlp_stats exporter_stats(otelc_exporter *e)
{
    otelc_otlp_stats s;
    assert_true(otelc__otlp_exporter_stats(e, &s));
    return s;
}

#define SKIP_WITHOUT_EXPORTER()                                                                    \
    do {                                                                                           \
        if (!have_exporter) skip();                                                                \
    } while (0)

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    otelc_processor *p = otelc_processor_new(&keep_ops, NULL);
    otelc_provider_options o = {.no_env = true, .processors = &p, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &prov), OTELC_OK);
    tracer = otelc_provider_tracer(prov, "test.view.grpc", "1.0", NULL);
    /* Without libcurl (or its HTTP/2) there is no gRPC exporter: the raw-client tests still run. */
    otelc_otlp_exporter_options probe = {.endpoint = "http://127.0.0.1:1",
                                         .protocol = OTELC_OTLP_GRPC};
    otelc_exporter *e = otelc_otlp_exporter_new(&probe);
    have_exporter = e != NULL;
    otelc_exporter_free(e);
    if (!have_exporter)
        fprintf(stderr, "test_view_grpc_server: no OTLP/gRPC exporter, exporter tests skipped\n");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    release_kept();
    otelc_provider_free(prov);
    return 0;
}

/* ---- With libotelc's exporter ------------------------------------------------------------- */

static void test_exporter_exact_bytes(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    vw_grpc_options o = options();
    start(&o);
    for (int gz = 0; gz < 2; gz++) {
        otelc_exporter *e = exporter(gz);
        const otelc_span_data *const *sp = spans(3, gz ? "gzipped" : "plain", 2000);
        assert_int_equal(export_spans(e, sp, 3), OTELC_EXPORT_SUCCESS);
        otelc_buf want = encoded(sp, 3);
        assert_int_equal(rec.calls, (size_t)gz + 1);
        assert_int_equal(rec.len[gz], want.len);
        assert_memory_equal(rec.msg[gz], want.data, want.len);
        assert_string_equal(rec.path[gz], VW_GRPC_TRACE_EXPORT);
        otelc__buf_free(&want);
        otelc_otlp_stats s = exporter_stats(e);
        assert_int_equal(s.exports_ok, 1);
        assert_int_equal(s.retries, 0);
        otelc_exporter_free(e);
    }
    /* The gzip request really was smaller on the wire than the message. */
    vw_grpc_stats st = stats();
    assert_int_equal(st.calls_handled, 2);
    assert_int_equal(st.buffered, 0); /* every request released once answered */
    assert_string_equal(rec.content_type, "application/grpc");
    char authority[64];
    snprintf(authority, sizeof authority, "127.0.0.1:%u", vw_grpc_server_port(srv));
    assert_string_equal(rec.authority, authority);
    assert_false(rec.had_origin);
}

static void test_exporter_reads_response_message(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    /* ExportTraceServiceResponse { partial_success { rejected_spans: 1, error_message: "dup" } }.
     */
    static const uint8_t partial[] = {0x0a, 0x07, 0x08, 0x01, 0x12, 0x03, 'd', 'u', 'p'};
    vw_grpc_options o = options();
    start(&o);
    rec.def = (answer){.response = partial, .len = sizeof partial};
    otelc_exporter *e = exporter(false);
    assert_int_equal(export_spans(e, spans(2, "partial", 0), 2), OTELC_EXPORT_SUCCESS);
    otelc_otlp_stats s = exporter_stats(e);
    assert_int_equal(s.spans_rejected, 1);
    assert_int_equal(s.spans_ok, 1);
    otelc_exporter_free(e);
}

static void test_exporter_finish_later_from_another_thread(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    vw_grpc_options o = options();
    start(&o);
    rec.hold = true;
    otelc_exporter *e = exporter(false);
    for (int round = 0; round < 3; round++) {
        finisher f = {.count = 1, .delay_ms = 200};
        finisher_start(&f);
        uint64_t t0 = otelc__mono_ms();
        assert_int_equal(export_spans(e, spans(1, "later", 0), 1), OTELC_EXPORT_SUCCESS);
        assert_true(otelc__mono_ms() - t0 >= 200);
        pthread_join(f.thread, NULL);
        pthread_mutex_lock(&rec.lock);
        rec.nheld = 0;
        pthread_mutex_unlock(&rec.lock);
    }
    assert_int_equal(exporter_stats(e).exports_ok, 3);
    otelc_exporter_free(e);
}

static void test_exporter_oversized(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    vw_grpc_options o = options();
    o.max_message = 4096;
    start(&o);
    /*
     * 200 kB: plain, refused from the prefix while libcurl still sends (the
     * answer waits for the end of the request, see DRAIN_MAX); gzip, a few
     * kB that inflate past the limit.
     */
    for (int gz = 0; gz < 2; gz++) {
        otelc_exporter *e = exporter(gz);
        assert_int_equal(export_spans(e, spans(20, "big", 10000), 20), OTELC_EXPORT_FAILURE);
        otelc_otlp_stats s = exporter_stats(e);
        assert_int_equal(s.requests, 1); /* RESOURCE_EXHAUSTED without RetryInfo: not retried */
        assert_int_equal(s.exports_failed, 1);
        otelc_exporter_free(e);
    }
    vw_grpc_stats st = stats();
    assert_int_equal(st.calls_handled, 0);
    assert_int_equal(st.calls_refused, 2);
    assert_int_equal(st.buffered, 0);
    /* Small enough still goes through. */
    otelc_exporter *e = exporter(false);
    assert_int_equal(export_spans(e, spans(1, "small", 10), 1), OTELC_EXPORT_SUCCESS);
    otelc_exporter_free(e);
}

static void test_exporter_retry_delay(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    vw_grpc_options o = options();
    start(&o);
    /* UNAVAILABLE with 700 ms, then RESOURCE_EXHAUSTED with 400 ms (retryable with RetryInfo), then
     * OK. */
    rec.script[0] =
        (answer){.status = VW_GRPC_UNAVAILABLE, .message = "store busy", .retry_after_ms = 700};
    rec.script[1] = (answer){.status = VW_GRPC_RESOURCE_EXHAUSTED, .retry_after_ms = 400};
    rec.nscript = 2;
    otelc_exporter *e = exporter(false);
    uint64_t t0 = otelc__mono_ms();
    assert_int_equal(export_spans(e, spans(1, "retried", 0), 1), OTELC_EXPORT_SUCCESS);
    assert_true(otelc__mono_ms() - t0 >= 1100);
    otelc_otlp_stats s = exporter_stats(e);
    assert_int_equal(s.requests, 3);
    assert_int_equal(s.retries, 2);
    assert_int_equal(rec.calls, 3);
    /* The exporter waited what the server said, not its own 20 ms backoff. */
    assert_true(rec.at_ms[1] - rec.at_ms[0] >= 700);
    assert_true(rec.at_ms[2] - rec.at_ms[1] >= 400);
    /* Every attempt carried the same request. */
    assert_int_equal(rec.len[0], rec.len[2]);
    assert_memory_equal(rec.msg[0], rec.msg[2], rec.len[0]);
    otelc_exporter_free(e);
}

static void test_exporter_refused_by_check(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    vw_grpc_options o = options();
    start(&o);
    rec.refuse_all = 403;
    otelc_exporter *e = exporter(false);
    /* HTTP 403 is PERMISSION_DENIED to a gRPC client: final, not retried. */
    assert_int_equal(export_spans(e, spans(1, "gated", 0), 1), OTELC_EXPORT_FAILURE);
    otelc_otlp_stats s = exporter_stats(e);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.exports_failed, 1);
    otelc_exporter_free(e);
    assert_int_equal(rec.calls, 0);
    assert_int_equal(stats().calls_refused, 1);
}

/* ---- With the raw client ------------------------------------------------------------------- */

static void test_answer_frames(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    rec.echo = true;
    uint8_t body[64];
    size_t n = framed(body, 0, "\x0a\x02hi", 4);
    h2_client cl;
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    /* HEADERS (:status 200, content-type), one DATA message, trailers with grpc-status 0. */
    assert_int_equal(st->status, 200);
    assert_false(st->trailers_only);
    assert_string_equal(field(st->headers, "content-type"), "application/grpc");
    assert_string_equal(field(st->headers, "grpc-accept-encoding"), "identity,gzip");
    assert_null(field(st->headers, "grpc-status"));
    assert_int_equal(st->len, n);
    assert_memory_equal(st->data, body, n); /* prefix (uncompressed, length 4) + the echo */
    assert_string_equal(field(st->trailers, "grpc-status"), "0");
    assert_null(field(st->trailers, "grpc-message"));
    assert_false(st->reset);
    h2_close(&cl);

    /* An OK answer with an empty response still carries one (empty) message. */
    rec.echo = false;
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_int_equal(st->len, 5);
    assert_memory_equal(st->data, "\0\0\0\0\0", 5);
    assert_int_equal(grpc_status(st), 0);
    h2_close(&cl);
}

static void test_error_trailers_and_details(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    rec.def = (answer){
        .status = VW_GRPC_UNAVAILABLE, .message = "busy \xc3\xa9 100%\n", .retry_after_ms = 1500};
    uint8_t body[16];
    size_t n = framed(body, 0, "", 0);
    h2_client cl;
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    /* Trailers-only: one HEADERS with END_STREAM, no message. */
    assert_true(st->trailers_only);
    assert_int_equal(st->len, 0);
    assert_int_equal(st->status, 200);
    assert_string_equal(field(st->headers, "content-type"), "application/grpc");
    assert_string_equal(field(st->headers, "grpc-status"), "14");
    /* Percent-Encoded: space and VCHAR except '%' stay; UTF-8 bytes, '%' and LF are escaped. */
    assert_string_equal(field(st->headers, "grpc-message"), "busy %C3%A9 100%25%0A");
    /*
     * google.rpc.Status { code: 14, message: <the same text>, details: [Any {
     *   type_url: "type.googleapis.com/google.rpc.RetryInfo",
     *   value: RetryInfo { retry_delay: Duration { seconds: 1, nanos: 500000000 } } }] }
     */
    static const char type_url[] = "type.googleapis.com/google.rpc.RetryInfo";
    static const uint8_t retry_info[] = {0x0a, 0x08, 0x08, 0x01, 0x10,
                                         0x80, 0xca, 0xb5, 0xee, 0x01};
    uint8_t want[256];
    size_t w = 0;
    want[w++] = 0x08, want[w++] = 14;
    want[w++] = 0x12, want[w++] = 13;
    memcpy(want + w, "busy \xc3\xa9 100%\n", 13), w += 13;
    want[w++] = 0x1a, want[w++] = (uint8_t)(2 + 40 + 2 + sizeof retry_info);
    want[w++] = 0x0a, want[w++] = 40;
    memcpy(want + w, type_url, 40), w += 40;
    want[w++] = 0x12, want[w++] = sizeof retry_info;
    memcpy(want + w, retry_info, sizeof retry_info), w += sizeof retry_info;
    /* Unpadded base64 (RFC 4648 section 4), as gRPC says -bin values should be sent. */
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char b64[512];
    size_t b = 0;
    for (size_t i = 0; i < w; i += 3) {
        uint32_t v = (uint32_t)want[i] << 16;
        if (i + 1 < w) v |= (uint32_t)want[i + 1] << 8;
        if (i + 2 < w) v |= want[i + 2];
        b64[b++] = tbl[v >> 18 & 63];
        b64[b++] = tbl[v >> 12 & 63];
        if (i + 1 < w) b64[b++] = tbl[v >> 6 & 63];
        if (i + 2 < w) b64[b++] = tbl[v & 63];
    }
    b64[b] = '\0';
    const char *details = field(st->headers, "grpc-status-details-bin");
    assert_non_null(details);
    assert_string_equal(details, b64);
    /* And libotelc's exporter reads the delay out of it. */
    uint64_t ms = 0;
    assert_true(otelc__grpc_retry_info(details, strlen(details), &ms));
    assert_int_equal(ms, 1500);
    /* Answered after the request ended: no RST_STREAM needed. */
    assert_false(st->reset);
    h2_close(&cl);

    /* No retry delay, no message: grpc-status alone. */
    rec.def = (answer){.status = VW_GRPC_INVALID_ARGUMENT};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_int_equal(grpc_status(st), 3);
    assert_null(field(st->headers, "grpc-message"));
    assert_null(field(st->headers, "grpc-status-details-bin"));
    h2_close(&cl);
}

static void test_long_message_cut_at_utf8_boundary(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    /* "é" (2 bytes) repeated past the limit: the cut must not split one. */
    char msg[VW_GRPC_MESSAGE_MAX + 64];
    size_t i = 0;
    msg[i++] = 'x';
    while (i + 2 < sizeof msg) msg[i++] = '\xc3', msg[i++] = '\xa9';
    msg[i] = '\0';
    rec.def = (answer){.status = VW_GRPC_INTERNAL, .message = msg};
    uint8_t body[8];
    h2_client cl;
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, framed(body, 0, "", 0));
    const char *m = field(st->headers, "grpc-message");
    assert_non_null(m);
    /* "x" then whole "%C3%A9" escapes only: 1 + 6k characters, at most the limit's bytes. */
    size_t len = strlen(m);
    assert_int_equal((len - 1) % 6, 0);
    assert_true((len - 1) / 6 * 2 + 1 <= VW_GRPC_MESSAGE_MAX);
    assert_true((len - 1) / 6 * 2 + 1 > VW_GRPC_MESSAGE_MAX - 2);
    h2_close(&cl);
}

static void test_wrong_path_and_methods(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    h2_client cl;
    h2_stream *st =
        call_once(&cl, "/opentelemetry.proto.collector.logs.v1.LogsService/Export", NULL, body, n);
    assert_int_equal(st->status, 200);
    assert_true(st->trailers_only);
    assert_int_equal(grpc_status(st), VW_GRPC_UNIMPLEMENTED);
    h2_close(&cl);
    assert_int_equal(rec.calls, 0);
    vw_grpc_server_stop(srv);

    /* Other paths when configured, and on_call is told which. */
    static const char *const methods[] = {"/a.B/C", "/a.B/D", NULL};
    o.methods = methods;
    start(&o);
    st = call_once(&cl, "/a.B/D", NULL, body, n);
    assert_int_equal(grpc_status(st), 0);
    assert_string_equal(rec.path[0], "/a.B/D");
    h2_close(&cl);
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_int_equal(grpc_status(st), VW_GRPC_UNIMPLEMENTED);
    h2_close(&cl);

    /* A method path must be absolute. */
    static const char *const bad[] = {"a.B/C", NULL};
    o.methods = bad;
    vw_grpc_server *s2;
    char err[128];
    assert_int_equal(vw_grpc_server_start(&o, &s2, err, sizeof err), OTELC_ERR_INVALID_ARG);
    assert_null(s2);
}

static void test_content_type_and_method(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    h2_client cl;
    /* Not gRPC at all: HTTP 415 and no gRPC fields (PROTOCOL-HTTP2.md). */
    static const char *const json[] = {"content-type", "application/json", NULL};
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, json, body, n);
    assert_int_equal(st->status, 415);
    assert_null(field(st->headers, "grpc-status"));
    h2_close(&cl);
    static const char *const none[] = {"content-type", "", NULL};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, none, body, n);
    assert_int_equal(st->status, 415);
    h2_close(&cl);
    /* gRPC with a codec we do not read. */
    static const char *const grpc_json[] = {"content-type", "application/grpc+json", NULL};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, grpc_json, body, n);
    assert_int_equal(grpc_status(st), VW_GRPC_UNIMPLEMENTED);
    h2_close(&cl);
    /* application/grpc+proto is protobuf. */
    static const char *const proto[] = {"content-type", "application/grpc+proto", NULL};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, proto, body, n);
    assert_int_equal(grpc_status(st), 0);
    h2_close(&cl);
    assert_int_equal(rec.calls, 1);
}

static void test_check_hook(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    rec.refuse_with_origin = 403;
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    h2_client cl;
    static const char *const browser[] = {"origin", "http://evil.example", NULL};
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, browser, body, n);
    assert_int_equal(st->status, 403);
    assert_null(field(st->headers, "grpc-status"));
    assert_string_equal(rec.origin, "http://evil.example");
    assert_string_equal(rec.authority, "127.0.0.1");
    assert_string_equal(rec.content_type, "application/grpc");
    assert_string_equal(rec.authorization, "(none)");
    h2_close(&cl);
    assert_int_equal(rec.calls, 0);
    /* The same request without Origin passes the gate; a bearer token reaches the hook. */
    static const char *const token[] = {"authorization", "Bearer s3cret", NULL};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, token, body, n);
    assert_int_equal(grpc_status(st), 0);
    assert_false(rec.had_origin);
    assert_string_equal(rec.authorization, "Bearer s3cret");
    h2_close(&cl);
    /* The hook runs before the content-type check: it sees what was sent. */
    static const char *const both[] = {"origin", "null", "content-type", "text/plain", NULL};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, both, body, n);
    assert_int_equal(st->status, 403);
    assert_string_equal(rec.content_type, "text/plain");
    h2_close(&cl);
    assert_int_equal(stats().calls_refused, 2);
}

static size_t gzip_of(const void *p, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static void test_encodings(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    o.max_message = 1 << 20;
    start(&o);
    static uint8_t text[300000], zipped[300000], body[300010];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)(i % 251);
    size_t zn = gzip_of(text, sizeof text, zipped, sizeof zipped);
    size_t n = framed(body, 1, zipped, zn);
    h2_client cl;
    static const char *const gzip[] = {"grpc-encoding", "gzip", NULL};
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, gzip, body, n);
    assert_int_equal(grpc_status(st), 0);
    assert_int_equal(rec.len[0], sizeof text);
    assert_memory_equal(rec.msg[0], text, sizeof text);
    h2_close(&cl);

    /* A compressed message in an encoding we lack: UNIMPLEMENTED, naming what we accept. */
    static const char *const snappy[] = {"grpc-encoding", "snappy", NULL};
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, snappy, body, n);
    assert_int_equal(grpc_status(st), VW_GRPC_UNIMPLEMENTED);
    const char *accepted = field(st->headers, "grpc-accept-encoding");
    assert_non_null(accepted);
    assert_null(strstr(accepted, "snappy"));
    assert_non_null(strstr(accepted, "gzip"));
    /* The answer went out before the request ended: the stream was then reset with NO_ERROR. */
    assert_true(st->reset || st->closed);
    if (st->reset) assert_int_equal(st->reset_code, NGHTTP2_NO_ERROR);
    h2_close(&cl);

    /* A decompression bomb: 64 MiB of zeros in about 64 KiB, limit 1 MiB. */
    size_t big = (size_t)64 << 20;
    uint8_t *zeros = calloc(1, big), *squeezed = malloc(big / 100), *bomb = malloc(big / 100 + 5);
    size_t bn = framed(bomb, 1, squeezed, gzip_of(zeros, big, squeezed, big / 100));
    free(zeros);
    free(squeezed);
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, gzip, bomb, bn);
    assert_int_equal(grpc_status(st), VW_GRPC_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(field(st->headers, "grpc-message"), "decompressed"));
    h2_close(&cl);
    free(bomb);
    assert_int_equal(stats().buffered, 0);
    assert_int_equal(rec.calls, 1);
}

static void test_oversized_refused_from_prefix(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    o.max_message = 1000;
    start(&o);
    /* The prefix announces 1 MB, and the MB follows: nothing of it is kept. */
    size_t big = 1000000;
    uint8_t *body = calloc(1, 5 + big);
    framed(body, 0, body + 5, big);
    h2_client cl;
    h2_connect(&cl);
    h2_stream *st = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, 5 + big);
    assert_true(h2_run(&cl, 0));
    assert_int_equal(grpc_status(st), VW_GRPC_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(field(st->headers, "grpc-message"), "larger than the limit"));
    /* Answered once the request ended (clients that cannot take an early answer get it). */
    assert_false(st->reset);
    assert_int_equal(stats().buffered, 0);
    assert_int_equal(rec.calls, 0);
    free(body);

    /* Announced 64 MiB: after 16 MiB dropped the answer goes out at once, then RST_STREAM. */
    big = (size_t)20 << 20;
    body = calloc(1, 5 + big);
    uint8_t prefix[5] = {0, 0x04, 0, 0, 0};
    memcpy(body, prefix, 5);
    st = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, 5 + big);
    st->keep_open = true;
    assert_true(h2_run(&cl, 0));
    assert_int_equal(grpc_status(st), VW_GRPC_RESOURCE_EXHAUSTED);
    /* Early Server Closure (PROTOCOL-HTTP2.md): RST_STREAM(NO_ERROR) after the trailers. */
    assert_true(st->reset);
    assert_int_equal(st->reset_code, NGHTTP2_NO_ERROR);
    assert_true(st->body_pos < 5 + big); /* the client stopped sending */
    free(body);

    /* The connection is still good for the next call. */
    uint8_t small[8];
    h2_stream *st2 = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, small, framed(small, 0, "", 0));
    assert_true(h2_run(&cl, 0));
    assert_int_equal(grpc_status(st2), 0);
    h2_close(&cl);
}

static void test_framing_errors(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    h2_client cl;
    uint8_t two[32];
    size_t n = framed(two, 0, "ab", 2);
    n += framed(two + n, 0, "cd", 2);
    h2_stream *st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, two, n);
    assert_int_equal(grpc_status(st), VW_GRPC_INTERNAL);
    h2_close(&cl);
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, two, 0); /* no message */
    assert_int_equal(grpc_status(st), VW_GRPC_INTERNAL);
    h2_close(&cl);
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, two, 6); /* cut off */
    assert_int_equal(grpc_status(st), VW_GRPC_INTERNAL);
    h2_close(&cl);
    framed(two, 1, "ab", 2); /* compressed, but no grpc-encoding */
    st = call_once(&cl, VW_GRPC_TRACE_EXPORT, NULL, two, 7);
    assert_int_equal(grpc_status(st), VW_GRPC_INTERNAL);
    h2_close(&cl);
    assert_int_equal(rec.calls, 0);
}

static void test_many_streams_one_connection(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    rec.hold = true;
    enum { N = 60 };
    /* Every call is held until all N arrived, then answered in reverse from another thread. */
    finisher f = {.count = N, .delay_ms = 50, .echo_index = true};
    finisher_start(&f);
    static uint8_t bodies[N][16];
    h2_client cl;
    h2_connect(&cl);
    h2_stream *st[N];
    for (int i = 0; i < N; i++) {
        uint8_t payload[2] = {(uint8_t)i, 0xee};
        st[i] = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, bodies[i],
                           framed(bodies[i], 0, payload, 2));
    }
    assert_true(h2_run(&cl, 0));
    pthread_join(f.thread, NULL);
    assert_int_equal(rec.most_outstanding, N); /* all N were in the handler's hands at once */
    /* Each stream got the answer for its own call: held[k] answered with k. */
    for (size_t k = 0; k < N; k++) {
        uint8_t req = rec.msg[k][0]; /* the stream that was the k-th call */
        assert_int_equal(grpc_status(st[req]), 0);
        assert_int_equal(st[req]->len, 7);
        assert_int_equal(st[req]->data[5] << 8 | st[req]->data[6], k);
    }
    h2_close(&cl);
    vw_grpc_stats s = stats();
    assert_int_equal(s.connections, 1);
    assert_int_equal(s.calls_handled, N);
}

static void test_stream_limit(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    o.max_streams_per_connection = 4;
    start(&o);
    rec.hold = true;
    h2_client cl;
    h2_connect(&cl);
    /* Let the client learn our SETTINGS first (until then it may open more, which are refused). */
    for (int i = 0; i < 100 && nghttp2_session_get_remote_settings(
                                   cl.h2, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) != 4;
         i++)
        h2_run(&cl, 20);
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    for (int i = 0; i < 10; i++) h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_true(h2_run_until_held(&cl, 4));
    h2_run(&cl, 200);
    assert_int_equal(held_count(), 4); /* the rest wait in the client */
    /* Answer what is held, repeatedly, until all ten are done. */
    for (int round = 0; round < 500 && !all_closed(&cl); round++) {
        pthread_mutex_lock(&rec.lock);
        size_t k = rec.nheld;
        vw_grpc_call *calls[MAX_RECORDED];
        memcpy(calls, rec.held, k * sizeof *calls);
        rec.nheld = 0;
        pthread_mutex_unlock(&rec.lock);
        for (size_t i = 0; i < k; i++) vw_grpc_call_finish(calls[i], 0, NULL, NULL, 0, 0);
        h2_run(&cl, 20);
    }
    assert_true(all_closed(&cl));
    assert_int_equal(rec.calls, 10);
    h2_close(&cl);
}

static void test_idle_and_half_open(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    o.idle_timeout_ms = 300;
    start(&o);
    /* An idle connection: closed with GOAWAY after the timeout, not before. */
    uint64_t t0 = otelc__mono_ms();
    h2_client idle;
    h2_connect(&idle);
    assert_true(h2_run_until_eof(&idle));
    assert_true(idle.goaway);
    assert_true(otelc__mono_ms() - t0 >= 300);
    h2_close(&idle);

    /* A request that stalls halfway: closed too, never handed to on_call. */
    h2_client half;
    h2_connect(&half);
    uint8_t body[32];
    size_t n = framed(body, 0, "0123456789", 10);
    h2_stream *st = h2_request(&half, VW_GRPC_TRACE_EXPORT, NULL, body, n - 4);
    st->keep_open = true;
    /* And a refused request that stalls: its answer goes out before the connection closes. */
    h2_stream *refused = h2_request(&half, "/no.Such/Method", NULL, body, n - 4);
    refused->keep_open = true;
    assert_true(h2_run_until_eof(&half));
    assert_false(st->closed);
    assert_int_equal(grpc_status(refused), VW_GRPC_UNIMPLEMENTED);
    h2_close(&half);
    assert_int_equal(rec.calls, 0);

    /* A TCP connection that never sends the preface. */
    int fd = tcp_connect(vw_grpc_server_port(srv));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[256];
    bool closed = false;
    for (int i = 0; i < 100 && !closed; i++)
        if (poll(&p, 1, 20) > 0 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) == 0) closed = true;
    assert_true(closed);
    close(fd);

    /* A call the handler holds longer than the timeout is not idle: its answer arrives. */
    rec.hold = true;
    finisher f = {.count = 1, .delay_ms = 800};
    finisher_start(&f);
    h2_client busy;
    st = call_once(&busy, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    pthread_join(f.thread, NULL);
    assert_int_equal(grpc_status(st), 0);
    h2_close(&busy);
    assert_true(stats().connections_timed_out >= 3);
}

static void test_connection_limit(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    o.max_connections = 2;
    start(&o);
    h2_client a, b, c;
    h2_connect(&a);
    h2_connect(&b);
    h2_connect(&c);
    assert_true(h2_run_until_eof(&c)); /* the third is closed at once */
    assert_int_equal(stats().connections_refused, 1);
    /* The first two are served. */
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    h2_stream *sa = h2_request(&a, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    h2_stream *sb = h2_request(&b, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_true(h2_run(&a, 0));
    assert_true(h2_run(&b, 0));
    assert_int_equal(grpc_status(sa), 0);
    assert_int_equal(grpc_status(sb), 0);
    h2_close(&a);
    h2_close(&c);
    /* A slot freed is a slot to take (the server reads a's close before accepting c). */
    h2_stream *sc = call_once(&c, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_int_equal(grpc_status(sc), 0);
    h2_close(&c);
    h2_close(&b);
}

static void test_budget(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    o.max_message = 64 * 1024;
    o.max_buffered = 100 * 1024;
    start(&o);
    rec.hold = true;
    static uint8_t payload[60000], body[60010];
    size_t n = framed(body, 0, payload, sizeof payload);
    h2_client cl;
    h2_connect(&cl);
    h2_stream *first = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_true(h2_run_until_held(&cl, 1));
    /* The second would hold more than 100 KiB at once: refused, with a delay to retry after. */
    h2_stream *second = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_true(h2_run_until_closed(&cl, second));
    assert_int_equal(grpc_status(second), VW_GRPC_RESOURCE_EXHAUSTED);
    const char *details = field(second->headers, "grpc-status-details-bin");
    uint64_t ms = 0;
    assert_non_null(details);
    assert_true(otelc__grpc_retry_info(details, strlen(details), &ms));
    assert_int_equal(ms, VW_GRPC_BUSY_RETRY_MS);
    assert_true(stats().buffered >= sizeof payload);
    /* Once the first is answered, there is room again. */
    pthread_mutex_lock(&rec.lock);
    rec.hold = false;
    pthread_mutex_unlock(&rec.lock);
    vw_grpc_call_finish(rec.held[0], 0, NULL, NULL, 0, 0);
    assert_true(h2_run(&cl, 0));
    assert_int_equal(grpc_status(first), 0);
    h2_stream *third = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_true(h2_run(&cl, 0));
    assert_int_equal(grpc_status(third), 0);
    assert_int_equal(stats().buffered, 0);
    h2_close(&cl);
}

static void test_client_goes_away_while_held(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    rec.hold = true;
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    /* Reset by the client, and a whole connection closed, while the handler has the calls. */
    h2_client cl;
    h2_connect(&cl);
    h2_stream *st = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    assert_true(h2_run_until_held(&cl, 2));
    nghttp2_submit_rst_stream(cl.h2, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    h2_run(&cl, 100);
    h2_close(&cl);
    usleep(100 * 1000);
    /* Finishing them now is safe (ASan watches), and nothing is left behind. */
    uint8_t resp[3] = {1, 2, 3};
    vw_grpc_call_finish(rec.held[0], 0, NULL, resp, 3, 0);
    vw_grpc_call_finish(rec.held[1], VW_GRPC_UNAVAILABLE, "late", NULL, 0, 100);
    for (int i = 0; i < 50 && stats().buffered; i++) usleep(10 * 1000);
    assert_int_equal(stats().buffered, 0);
}

static void *stop_thread(void *s)
{
    vw_grpc_server_stop(s);
    return NULL;
}

static void test_stop_with_calls_pending(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    rec.hold = true;
    uint8_t body[8];
    size_t n = framed(body, 0, "", 0);
    h2_client cl;
    h2_connect(&cl);
    h2_stream *held = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, n);
    h2_stream *stalled = h2_request(&cl, VW_GRPC_TRACE_EXPORT, NULL, body, 3);
    stalled->keep_open = true;
    assert_true(h2_run_until_held(&cl, 1));
    h2_run(&cl, 50); /* the stalled request's first bytes too */
    /* Stop on another thread while the client keeps reading. */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, stop_thread, srv), 0);
    assert_true(h2_run_until_eof(&cl));
    pthread_join(t, NULL);
    srv = NULL;
    assert_true(cl.goaway);
    assert_int_equal(cl.goaway_code, NGHTTP2_NO_ERROR);
    assert_int_equal(grpc_status(held), VW_GRPC_UNAVAILABLE);
    assert_int_equal(grpc_status(stalled), VW_GRPC_UNAVAILABLE);
    h2_close(&cl);
    /* The handler still owns its call: finishing it after stop is fine and frees it. */
    vw_grpc_call_finish(rec.held[0], 0, NULL, NULL, 0, 0);
}

static void test_not_http2(void **state)
{
    (void)state;
    vw_grpc_options o = options();
    start(&o);
    int fd = tcp_connect(vw_grpc_server_port(srv));
    static const char req[] = "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    char buf[512] = "";
    size_t got = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 2000) > 0) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    assert_true(strncmp(buf, "HTTP/1.1 505 ", 13) == 0);
    close(fd);
}

static void test_bad_options(void **state)
{
    (void)state;
    vw_grpc_server *s;
    char err[128] = "";
    vw_grpc_options o = {.check = check};
    assert_int_equal(vw_grpc_server_start(&o, &s, err, sizeof err), OTELC_ERR_INVALID_ARG);
    o = options();
    o.bind = "localhost";
    assert_int_equal(vw_grpc_server_start(&o, &s, err, sizeof err), OTELC_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "literal"));
    /* A port in use. */
    o = options();
    start(&o);
    o.port = vw_grpc_server_port(srv);
    assert_int_equal(vw_grpc_server_start(&o, &s, err, sizeof err), OTELC_ERR_IO);
    assert_null(s);
    /* IPv6 loopback, with and without brackets, when the machine has it. */
    o.port = 0;
    o.bind = "[::1]";
    if (vw_grpc_server_start(&o, &s, err, sizeof err) == OTELC_OK) {
        assert_true(vw_grpc_server_port(s) > 0);
        vw_grpc_server_stop(s);
    }
}

/* ---- The official JS client ------------------------------------------------------------------ */

static void interop_dir(char *out, size_t cap)
{
    const char *src = __FILE__; /* .../tests/unit/test_view_grpc_server.c */
    const char *slash = strrchr(src, '/');
    int dir = slash ? (int)(slash - src) : 1;
    snprintf(out, cap, "%.*s/../interop", dir, slash ? src : ".");
}

static void test_grpc_js_client(void **state)
{
    (void)state;
    char dir[4096], script[4200], pkg[4200];
    interop_dir(dir, sizeof dir);
    snprintf(script, sizeof script, "%s/view_grpc_client.js", dir);
    snprintf(pkg, sizeof pkg, "%s/node_modules/@grpc/grpc-js/package.json", dir);
    if (access(pkg, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
        fprintf(stderr,
                "test_view_grpc_server: node or @grpc/grpc-js missing, JS client skipped\n");
        skip();
    }
    vw_grpc_options o = options();
    start(&o);
    rec.echo = true;
    /* Calls 3 and 4 (the error cases of the script) are answered with errors. */
    rec.nscript = 4;
    rec.script[0] = (answer){0};
    rec.script[1] = (answer){0};
    rec.script[2] =
        (answer){.status = VW_GRPC_UNAVAILABLE, .message = "busy \xc3\xa9", .retry_after_ms = 2500};
    rec.script[3] = (answer){.status = VW_GRPC_INVALID_ARGUMENT, .message = "bad"};
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "node %s %u", script, vw_grpc_server_port(srv));
    rec_sync();
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096] = "";
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int rc = pclose(p);
    rec_sync();
    if (rc != 0) fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    /* The script checks the answers; here, what the server saw: echo first, then gzip. */
    assert_non_null(strstr(out, "ok\n"));
    assert_true(rec.calls >= 4);
    static const uint8_t sent[] = {0x0a,
                                   0x00}; /* ExportTraceServiceRequest { resource_spans {} } */
    assert_int_equal(rec.len[0], sizeof sent);
    assert_memory_equal(rec.msg[0], sent, sizeof sent);
    assert_int_equal(rec.len[1], 3000);
    /* One connection per channel (plain, gzip): the concurrent calls shared one. */
    assert_int_equal(stats().connections, 2);
    assert_int_equal(rec.calls, 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exporter_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporter_reads_response_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporter_finish_later_from_another_thread, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exporter_oversized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporter_retry_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exporter_refused_by_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_trailers_and_details, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message_cut_at_utf8_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_path_and_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_type_and_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_refused_from_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_framing_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_streams_one_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_and_half_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_goes_away_while_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_calls_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_http2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grpc_js_client, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
