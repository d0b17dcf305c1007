/*
 * server.c - the HTTP ports of `otelc view` on libmicrohttpd, and the
 * gRPC port (server.h).
 *
 * A request's life: the URI callback creates its state (and measures the
 * query string, which the handler never sees whole); the handler's first
 * call, with the headers in, decides everything it can before a byte of
 * the body is read (bounds, gate, token, method, route, Content-Type,
 * Content-Encoding, Content-Length), and a refusal goes out then; a
 * receiver's body is then read through body.h, and the last call answers.
 * Handlers fill a vw_response (http.h); respond() turns it into
 * libmicrohttpd's response with the headers every answer carries.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "body.h"
#include "grpc_server.h"
#include "http_gate_mhd.h"
#include "receiver.h"
#include "server.h"
#include "ui_assets.h"

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
#define DRAIN_MS       20000 /* a stop waits at most this long for requests in flight */
#define STREAM_BLOCK   16384 /* bytes asked of a server-sent events stream at a time */
#define STREAM_IDLE_MS 100   /* a stream that answers "nothing yet" at once is asked again after */

typedef enum route {
    ROUTE_NONE,   /* 404 */
    ROUTE_UI,     /* a file of the UI */
    ROUTE_API,    /* /api/..., /metrics */
    ROUTE_OTLP,   /* POST /v1/traces */
    ROUTE_ZIPKIN, /* POST /api/v2/spans */
} route;

typedef struct listener {
    vw_server *server;
    vw_listener which;
    struct MHD_Daemon *daemon;
    unsigned port;
} listener;

typedef struct api_route {
    vw_handler_fn fn;
    void *ctx;
} api_route;

struct vw_server {
    vw_server_options o;
    char token[VW_MAX_TOKEN + 1];
    size_t token_len;
    char bind[64];
    listener http[2]; /* UI, OTLP/HTTP */
    vw_grpc_server *grpc;
    vw_grpc_receiver *grpc_receiver;
    /*
     * The gRPC port, for its gate: the configured one from the start, the
     * one picked for 0 once known (nobody can know it before either).
     */
    _Atomic unsigned grpc_port;
    vw_body_budget budget;
    _Atomic uint64_t rejected_spans; /* counted by the receivers */
    vw_receiver_target target;       /* the receivers' */
    api_route api;
    atomic_bool open;     /* vw_server_open() ran: api is set, receivers may store */
    atomic_int in_flight; /* requests begun and not completed */
    atomic_bool stopping;
};

/* One request's state, from the URI callback to the completion callback. */
typedef struct request {
    const listener *l;
    size_t query_len;
    bool started; /* the handler has seen the headers */
    route r;
    vw_body_format format;
    bool reading;   /* body is open */
    vw_body body;   /* a receiver's */
    size_t dropped; /* body bytes of any other request */
} request;

/* ---- Small helpers ------------------------------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *rq_arg(const vw_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static const char *rq_header(const vw_request *rq, const char *name)
{
    return header(rq->conn, name);
}

static bool is_get(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* The bytes a bearer token may hold (RFC 6750's b64token). */
static bool token_chars_ok(const char *t)
{
    for (; *t; t++)
        if (!(isalnum((unsigned char)*t) || strchr("-._~+/=", *t))) return false;
    return true;
}

/* given[0..n) equals the token, in time that depends on the token's length only. */
static bool token_equal(const vw_server *s, const char *given, size_t n)
{
    unsigned char diff = n != s->token_len;
    for (size_t i = 0; i < s->token_len; i++)
        diff |= (unsigned char)(s->token[i] ^ (n ? given[i % n] : 0));
    return diff == 0;
}

/* An Authorization value "Bearer TOKEN" (scheme in any case) carrying the token. */
static bool bearer_ok(const vw_server *s, const char *authorization)
{
    if (!s->token_len) return true;
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return false;
    const char *t = authorization + 7;
    t += strspn(t, " ");
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == ' ') n--;
    return token_equal(s, t, n);
}

/* ---- Routes ---------------------------------------------------------------------------------- */

static route route_of(vw_listener which, const char *path)
{
    if (strcmp(path, "/api/v2/spans") == 0) return ROUTE_ZIPKIN;
    if (which == VW_LISTEN_OTLP_HTTP)
        return strcmp(path, "/v1/traces") == 0 ? ROUTE_OTLP : ROUTE_NONE;
    if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
        strcmp(path, "/metrics") == 0)
        return ROUTE_API;
    return ROUTE_UI;
}

static bool is_receiver(route r)
{
    return r == ROUTE_OTLP || r == ROUTE_ZIPKIN;
}

static vw_receiver_kind receiver_kind(route r)
{
    return r == ROUTE_OTLP ? VW_RECEIVE_OTLP : VW_RECEIVE_ZIPKIN;
}

/* The methods a route answers, for 405 and its Allow header. */
static const char *allowed_methods(route r)
{
    return is_receiver(r) ? "POST, OPTIONS" : "GET, HEAD, OPTIONS";
}

static bool method_allowed(route r, const char *method)
{
    return is_receiver(r) ? strcmp(method, "POST") == 0 : is_get(method);
}

/* ---- Responses ------------------------------------------------------------------------------- */

/* A server-sent events stream handed to libmicrohttpd. */
typedef struct stream {
    vw_server *server;
    ssize_t (*read)(void *ctx, char *buf, size_t max);
    void (*release)(void *ctx);
    void *ctx;
} stream;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * libmicrohttpd may not be told "nothing yet" (0) with its own threads: a
 * stream's quiet moments are waited out here, until it has data, ends, or
 * the server stops.
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    for (;;) {
        if (atomic_load(&st->server->stopping)) return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t t0 = now_ms();
        ssize_t n = st->read(st->ctx, buf, max);
        if (n < 0) return MHD_CONTENT_READER_END_OF_STREAM;
        if (n > 0) return n;
        uint64_t spent = now_ms() - t0;
        if (spent < STREAM_IDLE_MS) usleep((useconds_t)(STREAM_IDLE_MS - spent) * 1000);
    }
}

static void stream_free(void *cls)
{
    stream *st = cls;
    if (st->release) st->release(st->ctx);
    free(st);
}

static bool has_header(const vw_response *rs, const char *name)
{
    for (int i = 0; i < rs->header_count; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0) return true;
    return false;
}

/* The MHD response for rs (whose body or stream it takes), or NULL. */
static struct MHD_Response *mhd_response(vw_server *s, vw_response *rs)
{
    if (rs->read) {
        stream *st = malloc(sizeof *st);
        if (!st) return NULL;
        *st = (stream){s, rs->read, rs->release, rs->ctx};
        rs->read = NULL;
        rs->release = NULL;
        struct MHD_Response *resp = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
        if (!resp) stream_free(st);
        return resp;
    }
    size_t len = rs->body.len;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, len ? rs->body.data : (void *)"",
                                        len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (resp && len) rs->body = (otelc_buf){0}; /* MHD frees it with the response */
    return resp;
}

/* What every answer carries, and the Cache-Control that fits its route. */
static void common_headers(struct MHD_Response *resp, const vw_server *s, route r,
                           const http_gate_verdict *v, const vw_response *rs)
{
    http_gate_mhd_headers(resp, &s->o.gate, v);
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (!has_header(rs, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", r == ROUTE_UI ? "no-cache" : "no-store");
    if (atomic_load(&s->stopping)) MHD_add_response_header(resp, "Connection", "close");
}

/* Queue rs as the answer to the request on c; it is released either way. */
static enum MHD_Result respond(request *q, struct MHD_Connection *c, const http_gate_verdict *v,
                               vw_response *rs)
{
    vw_server *s = q->l->server;
    if (rs->body.failed) {
        vw_response_error(rs, 503, "out of memory");
        if (rs->body.failed) rs->body.len = 0;
    }
    struct MHD_Response *resp = mhd_response(s, rs);
    enum MHD_Result ret = MHD_NO;
    if (resp) {
        if (rs->content_type) MHD_add_response_header(resp, "Content-Type", rs->content_type);
        for (int i = 0; i < rs->header_count; i++)
            MHD_add_response_header(resp, rs->headers[i].name, rs->headers[i].value);
        common_headers(resp, s, q->r, v, rs);
        ret = MHD_queue_response(c, rs->status ? rs->status : 500, resp);
        MHD_destroy_response(resp);
    }
    if (rs->release) rs->release(rs->ctx);
    otelc__buf_free(&rs->body);
    return ret;
}

/* A refusal in the shape of the route: an OTLP Status, or {"error": ...}. */
static void refusal(const request *q, unsigned status, const char *message, vw_response *rs)
{
    if (is_receiver(q->r))
        vw_receiver_refuse(receiver_kind(q->r), q->format, status, message, rs);
    else
        vw_response_error(rs, status, message);
}

/* ---- The UI's files -------------------------------------------------------------------------- */

/* An If-None-Match value naming etag (a list, weak forms and "*" included). */
static bool etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    while (inm && *inm) {
        inm += strspn(inm, " \t,");
        if (strncmp(inm, "W/", 2) == 0) inm += 2;
        size_t len = strcspn(inm, ",");
        while (len && (inm[len - 1] == ' ' || inm[len - 1] == '\t')) len--;
        if ((len == 1 && inm[0] == '*') || (len == n && memcmp(inm, etag, n) == 0)) return true;
        inm += strcspn(inm, ",");
    }
    return false;
}

static enum MHD_Result serve_file(request *q, struct MHD_Connection *c, const char *path,
                                  const http_gate_verdict *v)
{
    vw_response rs = {0};
    const vw_asset *a = vw_ui_asset(path);
    const char *token = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (strcmp(path, "/") == 0 && token && q->l->server->token_len && token_chars_ok(token) &&
        strlen(token) <= VW_MAX_TOKEN) {
        /* /?token=T: the page reads the token from the fragment, which never reaches a server. */
        char location[VW_MAX_TOKEN + 16];
        snprintf(location, sizeof location, "/#token=%s", token);
        rs.status = 302;
        vw_response_header(&rs, "Location", location);
        return respond(q, c, v, &rs);
    }
    if (!a) {
        vw_response_error(&rs, 404, "not found");
        return respond(q, c, v, &rs);
    }
    struct MHD_Response *resp;
    unsigned status = 200;
    if (etag_matches(header(c, "If-None-Match"), a->etag)) {
        status = 304;
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        resp = MHD_create_response_from_buffer(a->length, (void *)a->bytes, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) return MHD_NO;
    if (status == 200) MHD_add_response_header(resp, "Content-Type", a->content_type);
    MHD_add_response_header(resp, "ETag", a->etag);
    common_headers(resp, q->l->server, ROUTE_UI, v, &rs);
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- The query API --------------------------------------------------------------------------- */

static void api_call(vw_server *s, const vw_request *rq, vw_response *rs)
{
    if (!atomic_load(&s->open)) {
        vw_response_error(rs, 503, "otelc view is starting");
        vw_response_header(rs, "Retry-After", "1");
    } else if (!s->api.fn) {
        vw_response_error(rs, 404, "not found");
    } else {
        s->api.fn(s->api.ctx, rq, rs);
    }
}

static enum MHD_Result serve_api(request *q, struct MHD_Connection *c, const char *url,
                                 const char *method, const http_gate_verdict *v)
{
    vw_request rq = {.method = method, .path = url, .arg = rq_arg, .header = rq_header, .conn = c};
    vw_response rs = {0};
    api_call(q->l->server, &rq, &rs);
    return respond(q, c, v, &rs);
}

/* ---- The gate and the other checks before the body ------------------------------------------- */

static uint64_t content_length(struct MHD_Connection *c)
{
    const char *v = header(c, "Content-Length");
    if (!v) return VW_BODY_LENGTH_UNKNOWN;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return errno || end == v ? VW_BODY_LENGTH_UNKNOWN : (uint64_t)n;
}

/* The token of a request, which may come as ?access_token= on /api/live (EventSource). */
static bool authorized(const vw_server *s, struct MHD_Connection *c, const char *url)
{
    if (bearer_ok(s, header(c, "Authorization"))) return true;
    if (strcmp(url, "/api/live") != 0) return false;
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "access_token");
    return t && s->token_len && token_equal(s, t, strlen(t));
}

static http_gate_verdict gate(const request *q, struct MHD_Connection *c, const char *method)
{
    http_gate_config cfg = q->l->server->o.gate;
    http_gate_request req;
    /* The daemon's, read here: it may serve before vw_server_start() has noted it. */
    cfg.port = http_gate_mhd_port(c);
    http_gate_mhd_request(c, method, &req);
    req.json_body = q->r == ROUTE_ZIPKIN && strcmp(method, "POST") == 0;
    return http_gate_check(&cfg, &req);
}

/*
 * Everything decided from the request line and headers. Returns true when
 * rs holds the answer (a refusal, a preflight); false to go on. *v is the
 * gate's verdict, which every answer's headers follow.
 */
static bool check_headers(request *q, struct MHD_Connection *c, const char *url, const char *method,
                          http_gate_verdict *v, vw_response *rs)
{
    vw_server *s = q->l->server;
    *v = (http_gate_verdict){0};
    if (MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL) > VW_MAX_HEADERS) {
        vw_response_error(rs, 431, "too many request headers");
        return true;
    }
    if (q->query_len > VW_MAX_QUERY) {
        vw_response_error(rs, 414, "the query string is too long");
        return true;
    }
    *v = gate(q, c, method);
    if (v->status) {
        refusal(q, v->status, v->reason, rs);
        return true;
    }
    if (strcmp(method, "OPTIONS") == 0) { /* a CORS preflight (v->preflight) or a plain OPTIONS */
        rs->status = 204;
        if (!v->preflight) vw_response_header(rs, "Allow", allowed_methods(q->r));
        return true;
    }
    if (q->r != ROUTE_UI && !authorized(s, c, url)) {
        refusal(q, 401, "this otelc view needs its token: Authorization: Bearer TOKEN", rs);
        vw_response_header(rs, "WWW-Authenticate", "Bearer realm=\"otelc view\"");
        return true;
    }
    if (q->r == ROUTE_NONE) {
        vw_response_error(rs, 404, "not found");
        return true;
    }
    if (!method_allowed(q->r, method)) {
        refusal(q, 405, "method not allowed", rs);
        vw_response_header(rs, "Allow", allowed_methods(q->r));
        return true;
    }
    return false;
}

/* A receiver's request: its format and the body reader, or a refusal in rs. */
static bool open_body(request *q, struct MHD_Connection *c, vw_response *rs)
{
    vw_server *s = q->l->server;
    vw_receiver_kind k = receiver_kind(q->r);
    const char *ct = header(c, "Content-Type");
    q->format = vw_receiver_format(k, ct);
    if (q->format == VW_FORMAT_UNSUPPORTED) {
        char msg[160];
        snprintf(msg, sizeof msg, "Content-Type \"%.64s\" is not supported: send %s", ct ? ct : "",
                 k == VW_RECEIVE_OTLP ? "application/x-protobuf or application/json"
                                      : "application/json");
        refusal(q, 415, msg, rs);
        return true;
    }
    q->reading = true;
    unsigned st = vw_body_begin(&q->body, header(c, "Content-Encoding"), content_length(c),
                                s->o.max_body, s->o.max_inflated, &s->budget);
    if (st) refusal(q, st, q->body.error, rs);
    return st != 0;
}

/* ---- libmicrohttpd's callbacks --------------------------------------------------------------- */

static void *request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    listener *l = cls;
    request *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->l = l;
    const char *query = strchr(uri, '?');
    q->query_len = query ? strlen(query + 1) : 0;
    atomic_fetch_add(&l->server->in_flight, 1);
    return q;
}

static void request_end(void *cls, struct MHD_Connection *c, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    request *q = *con_cls;
    if (!q) return;
    if (q->reading) vw_body_free(&q->body);
    atomic_fetch_sub(&q->l->server->in_flight, 1);
    free(q);
    *con_cls = NULL;
}

/*
 * The headers are in: refuse now, or go on. The answer to a request that
 * goes on waits for the next call even without a body: libmicrohttpd
 * closes the connection after an answer given before the request's end.
 */
static enum MHD_Result first_call(request *q, struct MHD_Connection *c, const char *url,
                                  const char *method)
{
    q->started = true;
    q->r = route_of(q->l->which, url);
    http_gate_verdict v;
    vw_response rs = {0};
    if (check_headers(q, c, url, method, &v, &rs) || (is_receiver(q->r) && open_body(q, c, &rs)))
        return respond(q, c, &v, &rs);
    return MHD_YES;
}

/* Body bytes: a receiver's are read, any other request's dropped (up to the bound). */
static enum MHD_Result body_call(request *q, const char *data, size_t *n)
{
    vw_server *s = q->l->server;
    size_t len = *n;
    *n = 0;
    if (!q->reading) {
        q->dropped += len;
        return q->dropped > s->o.max_body ? MHD_NO : MHD_YES;
    }
    /*
     * libmicrohttpd cannot answer while a body is still arriving: a
     * refused body is read to its end (and dropped) before the answer,
     * unless it goes on past twice the bound, when the connection is cut.
     */
    unsigned st = vw_body_feed(&q->body, data, len);
    return st && q->body.wire / 2 > s->o.max_body ? MHD_NO : MHD_YES;
}

/* The request is complete: answer it. */
static enum MHD_Result last_call(request *q, struct MHD_Connection *c, const char *url,
                                 const char *method)
{
    vw_server *s = q->l->server;
    http_gate_verdict v = gate(q, c, method);
    if (q->r == ROUTE_UI) return serve_file(q, c, url, &v);
    if (q->r == ROUTE_API) return serve_api(q, c, url, method, &v);
    vw_response rs = {0};
    unsigned st = vw_body_end(&q->body);
    if (st)
        refusal(q, st, q->body.error, &rs);
    else if (!atomic_load(&s->open))
        refusal(q, 503, "otelc view is starting", &rs);
    else
        vw_receiver_handle(&s->target, receiver_kind(q->r), q->format, q->body.data, q->body.len,
                           &rs);
    vw_body_free(&q->body);
    q->reading = false;
    return respond(q, c, &v, &rs);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    request *q = *con_cls;
    if (!q && !(*con_cls = q = request_begin(cls, url, c))) return MHD_NO;
    if (!q->started) return first_call(q, c, url, method);
    if (*upload_size) return body_call(q, upload, upload_size);
    return last_call(q, c, url, method);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("otelc view: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- gRPC ------------------------------------------------------------------------------------ */

static int grpc_check(void *ctx, const char *authority, const char *origin,
                      const char *content_type, const char *authorization)
{
    vw_server *s = ctx;
    http_gate_config cfg = s->o.gate;
    cfg.port = atomic_load(&s->grpc_port);
    http_gate_request req = {
        .method = "POST",
        .host = authority[0] ? authority : NULL,
        .origin = origin,
        .content_type = content_type,
    };
    http_gate_verdict v = http_gate_check(&cfg, &req);
    if (v.status) return (int)v.status;
    return bearer_ok(s, authorization) ? 0 : 401;
}

static void grpc_call(void *ctx, vw_grpc_call *call, const char *path, const uint8_t *msg,
                      size_t len)
{
    (void)path; /* the trace export method, the only one served */
    vw_server *s = ctx;
    if (!atomic_load(&s->open))
        vw_grpc_call_finish(call, VW_GRPC_UNAVAILABLE, "otelc view is starting", NULL, 0,
                            VW_RETRY_FULL_S * 1000);
    else
        vw_grpc_receiver_call(s->grpc_receiver, call, msg, len);
}

static int start_grpc(vw_server *s, char *err, size_t err_size)
{
    s->grpc_receiver = vw_grpc_receiver_new(&s->target);
    if (!s->grpc_receiver) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    size_t max_message = s->o.max_inflated;
    vw_grpc_options go = {
        .bind = s->bind,
        .port = (unsigned)s->o.otlp_grpc_port,
        .max_message = max_message,
        .max_buffered = s->o.max_buffered,
        .max_connections = s->o.max_connections,
        .idle_timeout_ms = s->o.timeout_s * 1000,
        .on_call = grpc_call,
        .check = grpc_check,
        .ctx = s,
    };
    char why[256] = "";
    atomic_store(&s->grpc_port, go.port);
    if (vw_grpc_server_start(&go, &s->grpc, why, sizeof why) != OTELC_OK) {
        snprintf(err, err_size, "OTLP/gRPC port %d: %s", s->o.otlp_grpc_port, why);
        return -1;
    }
    atomic_store(&s->grpc_port, vw_grpc_server_port(s->grpc));
    return 0;
}

/* ---- Starting and stopping ------------------------------------------------------------------- */

/* The listening address for port from the bind literal; false when it is none. */
static bool sock_addr(const char *bind, unsigned port, struct sockaddr_storage *ss, bool *v6)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    *v6 = false;
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return true;
    }
    if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *v6 = true;
        return true;
    }
    return false;
}

static int start_http(vw_server *s, listener *l, int port, char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    bool v6;
    sock_addr(s->bind, (unsigned)port, &ss, &v6); /* checked by vw_server_start() */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    l->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handle, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, request_begin, l,
        MHD_OPTION_NOTIFY_COMPLETED, request_end, l, MHD_OPTION_CONNECTION_LIMIT,
        s->o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)VW_CONNECTION_MEMORY, MHD_OPTION_END);
    if (!l->daemon) {
        snprintf(err, err_size, "cannot listen on %s port %d (%s)", s->bind, port,
                 l->which == VW_LISTEN_UI ? "--port" : "--otlp-http-port");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
    l->port = info ? info->port : (unsigned)port;
    return 0;
}

static void fill_defaults(vw_server_options *o)
{
    if (!o->bind) o->bind = "127.0.0.1";
    if (!o->max_body) o->max_body = VW_DEFAULT_MAX_BODY;
    if (!o->max_inflated) o->max_inflated = VW_DEFAULT_MAX_INFLATED;
    if (!o->max_buffered) o->max_buffered = VW_DEFAULT_MAX_BUFFERED;
    if (!o->max_connections) o->max_connections = VW_DEFAULT_MAX_CONNECTIONS;
    if (!o->timeout_s) o->timeout_s = VW_DEFAULT_TIMEOUT_S;
    if (!o->ingest_wait_ms) o->ingest_wait_ms = VW_DEFAULT_INGEST_WAIT_MS;
}

/* The options' own mistakes, before anything listens. */
static int check_options(vw_server *s, char *err, size_t err_size)
{
    const vw_server_options *o = &s->o;
    struct sockaddr_storage ss;
    bool v6;
    const char *bind = o->bind;
    size_t n = strlen(bind);
    if (n >= 2 && bind[0] == '[' && bind[n - 1] == ']') { /* "[::1]" */
        bind++;
        n -= 2;
    }
    if (n >= sizeof s->bind) n = sizeof s->bind - 1;
    memcpy(s->bind, bind, n);
    s->bind[n] = '\0';
    const char *token = o->token ? o->token : "";
    if (!sock_addr(s->bind, 0, &ss, &v6))
        snprintf(err, err_size, "--bind expects an IPv4 or IPv6 address, not \"%s\"", o->bind);
    else if (strlen(token) > VW_MAX_TOKEN)
        snprintf(err, err_size, "the token is longer than %d bytes", VW_MAX_TOKEN);
    else if (!token_chars_ok(token))
        snprintf(err, err_size, "a token holds letters, digits and -._~+/= only");
    else if (!o->ingest)
        snprintf(err, err_size, "no ingest queue");
    else if (o->max_inflated > ((size_t)1 << 30))
        snprintf(err, err_size, "max_inflated is over 1 GiB");
    else
        return 0;
    return -1;
}

int vw_server_start(const vw_server_options *o, vw_server **out, char *err, size_t err_size)
{
    *out = NULL;
    vw_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    s->o = *o;
    fill_defaults(&s->o);
    if (check_options(s, err, err_size) < 0) {
        free(s);
        return -1;
    }
    snprintf(s->token, sizeof s->token, "%s", o->token ? o->token : "");
    s->token_len = strlen(s->token);
    s->o.token = NULL; /* s->token is the copy */
    s->o.gate.bind = s->bind;
    s->budget.limit = s->o.max_buffered;
    s->target = (vw_receiver_target){s->o.ingest, s->o.ingest_wait_ms, &s->rejected_spans};
    s->http[0] = (listener){.server = s, .which = VW_LISTEN_UI};
    s->http[1] = (listener){.server = s, .which = VW_LISTEN_OTLP_HTTP};
    int ports[2] = {s->o.ui_port, s->o.otlp_http_port};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        if (ports[i] != VW_PORT_OFF) rc = start_http(s, &s->http[i], ports[i], err, err_size);
    if (rc == 0 && s->o.otlp_grpc_port != VW_PORT_OFF) rc = start_grpc(s, err, err_size);
    if (rc < 0) {
        vw_server_stop(s);
        vw_server_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void vw_server_open(vw_server *s, vw_handler_fn api, void *ctx)
{
    s->api = (api_route){api, ctx};
    atomic_store(&s->open, true); /* publishes api */
}

const _Atomic uint64_t *vw_server_rejected_spans(const vw_server *s)
{
    return &s->rejected_spans;
}

unsigned vw_server_port(const vw_server *s, vw_listener l)
{
    if (l == VW_LISTEN_OTLP_GRPC) return s->grpc ? atomic_load(&s->grpc_port) : 0;
    const listener *h = &s->http[l == VW_LISTEN_UI ? 0 : 1];
    return h->daemon ? h->port : 0;
}

/* Wait (bounded) until nothing is in flight: HTTP requests, gRPC calls awaiting their commit. */
static void drain(vw_server *s)
{
    for (int waited = 0; waited < DRAIN_MS; waited += 20) {
        bool busy = atomic_load(&s->in_flight) > 0 ||
                    (s->grpc_receiver && vw_grpc_receiver_pending(s->grpc_receiver) > 0);
        if (!busy) return;
        usleep(20 * 1000);
    }
}

void vw_server_stop(vw_server *s)
{
    if (!s) return;
    MHD_socket listeners[2] = {MHD_INVALID_SOCKET, MHD_INVALID_SOCKET};
    for (int i = 0; i < 2; i++)
        if (s->http[i].daemon) listeners[i] = MHD_quiesce_daemon(s->http[i].daemon);
    atomic_store(&s->stopping, true);
    drain(s);
    vw_grpc_server_stop(s->grpc);
    s->grpc = NULL;
    for (int i = 0; i < 2; i++) {
        if (s->http[i].daemon) MHD_stop_daemon(s->http[i].daemon);
        s->http[i].daemon = NULL;
        if (listeners[i] != MHD_INVALID_SOCKET) close(listeners[i]);
    }
}

void vw_server_free(vw_server *s)
{
    if (!s) return;
    vw_grpc_receiver_free(s->grpc_receiver);
    vw_body_budget_release(&s->budget);
    free(s);
}
