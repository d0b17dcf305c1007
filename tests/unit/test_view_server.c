/*
 * test_view_server.c - the front of `otelc view` (viewer/server.c,
 * receiver.c, receiver_grpc.c) over real sockets on 127.0.0.1, with a
 * store in a file and its ingest thread:
 *
 * - libotelc's own exporters, configured by OTEL_* as a user would,
 *   deliver a trace of every field kind over OTLP/HTTP (protobuf with
 *   gzip, JSON) and OTLP/gRPC, and the store gives back every span field
 *   for field; over Zipkin, every field Zipkin carries;
 * - bad input gets the OTLP specification's answers (400 with a
 *   google.rpc.Status, 413, 415, 200 with partial_success) and stores
 *   nothing it refused;
 * - the gate (Host, Origin, Sec-Fetch-Site, Content-Type), the token and
 *   CORS preflights of --cors-origin;
 * - a store that cannot write (its lock held by another connection) makes
 *   senders back off (429 with Retry-After, RESOURCE_EXHAUSTED with a
 *   retry delay), and everything recovers once the lock goes;
 * - a stop lets a request in flight finish.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <zlib.h>

#include "export/otlp.h"
#include "ingest.h"
#include "otelc/exporters.h"
#include "otlp_spans.h"
#include "self_export.h"
#include "server.h"
#include "store.h"
#include "view_compare.h"

#define TOKEN          "s3cret-T0ken_x"
#define ALLOWED_ORIGIN "http://localhost:3000"

/* ---- The viewer under test ------------------------------------------------------------------- */

typedef struct viewer {
    char dir[64], db[96];
    vw_ingest *ingest;
    vw_server *server;
    unsigned ui, http, grpc;
} viewer;

static viewer vw;

static void viewer_start(vw_server_options *o, const vw_ingest_options *io)
{
    memset(&vw, 0, sizeof vw);
    snprintf(vw.dir, sizeof vw.dir, "/tmp/test_view_server.XXXXXX");
    assert_non_null(mkdtemp(vw.dir));
    snprintf(vw.db, sizeof vw.db, "%s/traces.db", vw.dir);
    vw_store_options so = {.path = vw.db};
    vw_store *store;
    char err[256];
    assert_int_equal(vw_store_open(&so, &store, err, sizeof err), 0);
    assert_int_equal(vw_ingest_start(store, io, &vw.ingest), 0);
    o->ingest = vw.ingest;
    int rc = vw_server_start(o, &vw.server, err, sizeof err);
    if (rc) fail_msg("vw_server_start: %s", err);
    vw_server_open(vw.server, NULL, NULL); /* no query API: the API has tests of its own */
    vw.ui = vw_server_port(vw.server, VW_LISTEN_UI);
    vw.http = vw_server_port(vw.server, VW_LISTEN_OTLP_HTTP);
    vw.grpc = vw_server_port(vw.server, VW_LISTEN_OTLP_GRPC);
}

static int setup(void **state)
{
    (void)state;
    vw_server_options o = {.max_body = 64 * 1024, .max_inflated = 256 * 1024};
    viewer_start(&o, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vw_server_stop(vw.server);
    vw_ingest_stop(vw.ingest);
    vw_server_free(vw.server);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", vw.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* Spans in the store, read as the API would: through a connection of its own. */
static uint64_t stored_spans(void)
{
    vw_store_options so = {.path = vw.db, .read_only = true};
    vw_store *s;
    char err[256];
    assert_int_equal(vw_store_open(&so, &s, err, sizeof err), 0);
    vw_store_counts c;
    assert_int_equal(vw_store_counts_get(s, &c), 0);
    vw_store_close(s);
    return c.spans;
}

/* ---- A raw HTTP/1.1 client: every byte of the request is the test's -------------------------- */

typedef struct reply {
    int status;
    char head[8192];
    char body[65536];
    size_t len;
} reply;

static reply r;

/* Send len bytes to port, then read the whole answer into r (the server closes after it). */
static void exchange(unsigned port, const void *bytes, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, (const char *)bytes + off, len - off, MSG_NOSIGNAL);
        if (w <= 0) break; /* the server may answer and close before reading it all */
        off += (size_t)w;
    }
    static char raw[sizeof r.head + sizeof r.body];
    size_t got = 0;
    for (ssize_t k; got < sizeof raw - 1 && (k = recv(fd, raw + got, sizeof raw - 1 - got, 0)) > 0;)
        got += (size_t)k;
    close(fd);
    raw[got] = '\0';
    memset(&r, 0, sizeof r);
    char *end = strstr(raw, "\r\n\r\n");
    assert_non_null(end);
    size_t hl = (size_t)(end - raw) + 2;
    assert_true(hl < sizeof r.head);
    memcpy(r.head, raw, hl);
    r.len = got - hl - 2;
    memcpy(r.body, end + 4, r.len);
    assert_int_equal(sscanf(raw, "HTTP/1.1 %d", &r.status), 1);
}

/*
 * One request to port, answer in r. extra holds header lines ("Name:
 * value\r\n" each); Host is added unless extra has one, Content-Length
 * when there is a body.
 */
static void http(unsigned port, const char *method, const char *path, const char *extra,
                 const void *body, size_t len)
{
    static char req[1 << 18];
    bool has_host = strncasecmp(extra, "Host:", 5) == 0 || strcasestr(extra, "\nHost:");
    char host[64] = "";
    if (!has_host) snprintf(host, sizeof host, "Host: 127.0.0.1:%u\r\n", port);
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\n%sConnection: close\r\n%s", method, path,
                     host, extra);
    if (body) n += snprintf(req + n, sizeof req - (size_t)n, "Content-Length: %zu\r\n", len);
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    assert_true(body ? (size_t)n + len <= sizeof req : (size_t)n < sizeof req);
    if (body) memcpy(req + n, body, len);
    exchange(port, req, (size_t)n + (body ? len : 0));
}

/* A response header's value (the first), or NULL. */
static const char *header(const char *name)
{
    static char value[1024];
    size_t n = strlen(name);
    for (const char *p = strstr(r.head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *s = p + 3 + n;
            s += strspn(s, " ");
            size_t len = strcspn(s, "\r");
            snprintf(value, sizeof value, "%.*s", (int)len, s);
            return value;
        }
    }
    return NULL;
}

static void post_otlp(unsigned port, const char *extra, const void *body, size_t len)
{
    char h[1024];
    snprintf(h, sizeof h, "Content-Type: application/x-protobuf\r\n%s", extra ? extra : "");
    http(port, "POST", "/v1/traces", h, body, len);
}

/* ---- Protobuf written by hand --------------------------------------------------------------- */

typedef struct pb {
    uint8_t p[1 << 16];
    size_t len;
} pb;

static void pb_varint(pb *w, uint64_t v)
{
    do {
        w->p[w->len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void pb_bytes(pb *w, unsigned field, const void *p, size_t n)
{
    pb_varint(w, (uint64_t)field << 3 | 2);
    pb_varint(w, n);
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

/* A Span with the given id lengths: an invalid one is what the decoder rejects. */
static void pb_span(pb *spans, uint8_t seed, size_t tid_len, size_t sid_len)
{
    uint8_t tid[32], sid[16];
    memset(tid, seed, sizeof tid);
    memset(sid, seed + 1, sizeof sid);
    pb s = {.len = 0};
    pb_bytes(&s, 1, tid, tid_len);
    pb_bytes(&s, 2, sid, sid_len);
    pb_bytes(&s, 5, "hand-made", 9);
    pb_bytes(spans, 2, s.p, s.len); /* ScopeSpans.spans */
}

/* An ExportTraceServiceRequest holding the spans of one ScopeSpans. */
static void pb_request(pb *out, const pb *spans)
{
    static pb rs;
    rs.len = 0;
    pb_bytes(&rs, 2, spans->p, spans->len); /* ResourceSpans.scope_spans */
    out->len = 0;
    pb_bytes(out, 1, rs.p, rs.len);
}

/* Field 2 (message) of the google.rpc.Status in body, or "" (strings only: code is a varint). */
static const char *status_message(const char *body, size_t len)
{
    static char msg[512];
    msg[0] = '\0';
    const uint8_t *p = (const uint8_t *)body, *end = p + len;
    while (p < end) {
        uint64_t key = 0, n = 0;
        for (int sh = 0; p < end; sh += 7) {
            key |= (uint64_t)(*p & 0x7f) << sh;
            if (!(*p++ & 0x80)) break;
        }
        for (int sh = 0; p < end; sh += 7) {
            n |= (uint64_t)(*p & 0x7f) << sh;
            if (!(*p++ & 0x80)) break;
        }
        if ((key & 7) != 2) continue; /* the code: its varint was just read as n */
        if (key >> 3 == 2) snprintf(msg, sizeof msg, "%.*s", (int)n, (const char *)p);
        p += n;
    }
    return msg;
}

/* ---- Field for field, through libotelc's exporters ------------------------------------------- */

static void unset_otel_env(void)
{
    static const char *const names[] = {
        "OTEL_EXPORTER_OTLP_ENDPOINT",        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_COMPRESSION",     "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unsetenv(names[i]);
}

/* Every span of fx as the store holds it now, compared with what was sent. */
static void assert_store_holds(const otlp_fx *fx)
{
    vw_store_options so = {.path = vw.db, .read_only = true};
    vw_store *s;
    char err[256];
    assert_int_equal(vw_store_open(&so, &s, err, sizeof err), 0);
    size_t found = 0;
    for (size_t i = 0; i < fx->count; i++) {
        const otelc_span_data *want = fx->spans[i];
        vw_batch t;
        vw_batch_init(&t);
        assert_int_equal(vw_store_trace(s, want->context.trace_id, &t), 1);
        for (size_t j = 0; j < t.count; j++) {
            const otelc_span_data *got = &t.spans[j];
            if (memcmp(got->context.span_id, want->context.span_id, 8) != 0) continue;
            vc_span(want, got);
            vc_resource(want, want->resource, got->resource);
            vc_scope(want, want->scope, got->scope);
            found++;
        }
        vw_batch_free(&t);
    }
    assert_int_equal(found, fx->count);
    vw_store_close(s);
    assert_int_equal(stored_spans(), fx->count);
}

/* The fixture's spans (every value kind, events, links, two resources, three scopes) through exp.
 */
static void export_fixture(otelc_exporter *exp)
{
    assert_non_null(exp);
    otlp_fx fx;
    fx_build(&fx, otelc__otlp_encode_proto);
    /* The parts of the scenario the comparison relies on, so that it cannot pass on nothing. */
    assert_int_equal(fx.count, 5);
    const otelc_span_data *root = fx_find(&fx, "root");
    assert_int_equal(root->attr_count, 9);
    assert_int_equal(root->event_count, 2);
    assert_int_equal(root->link_count, 1);
    assert_true(fx_find(&fx, "remote-child")->parent_is_remote);
    assert_int_equal(otelc_exporter_export(exp, fx.spans, fx.count), OTELC_EXPORT_SUCCESS);
    otelc_exporter_free(exp);
    assert_store_holds(&fx);
    fx_free(&fx);
}

static void test_export_http_protobuf_gzip(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", vw.http);
    unset_otel_env();
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", 1);
    setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip", 1);
    export_fixture(otelc_otlp_exporter_new(NULL));
    unset_otel_env();
}

static void test_export_grpc(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", vw.grpc);
    unset_otel_env();
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
    export_fixture(otelc_otlp_exporter_new(NULL));
    unset_otel_env();
}

static void test_export_http_json(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", vw.http);
    unset_otel_env();
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
    export_fixture(otelc_otlp_exporter_new(NULL));
    unset_otel_env();
}

/*
 * Zipkin carries less than OTLP (no events' attributes as such, no links,
 * times in microseconds, the kind only for the four it knows): what it
 * carries comes back.
 */
static void test_export_zipkin(void **state)
{
    (void)state;
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v2/spans", vw.ui);
    unset_otel_env();
    setenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT", url, 1);
    otelc_exporter *exp = otelc_zipkin_exporter_new(NULL, 0);
    assert_non_null(exp);
    otlp_fx fx;
    fx_build(&fx, otelc__otlp_encode_proto);
    assert_int_equal(otelc_exporter_export(exp, fx.spans, fx.count), OTELC_EXPORT_SUCCESS);
    otelc_exporter_free(exp);
    unset_otel_env();
    vw_store_options so = {.path = vw.db, .read_only = true};
    vw_store *s;
    char err[256];
    assert_int_equal(vw_store_open(&so, &s, err, sizeof err), 0);
    for (size_t i = 0; i < fx.count; i++) {
        const otelc_span_data *want = fx.spans[i];
        vw_batch t;
        vw_batch_init(&t);
        assert_int_equal(vw_store_trace(s, want->context.trace_id, &t), 1);
        const otelc_span_data *got = vc_find(t.spans, t.count, want);
        assert_string_equal(got->name, want->name);
        assert_int_equal(got->has_parent, want->has_parent);
        if (want->has_parent) assert_memory_equal(got->parent_span_id, want->parent_span_id, 8);
        if (want->kind != OTELC_SPAN_INTERNAL) assert_int_equal(got->kind, want->kind);
        assert_int_equal(got->start_ns, want->start_ns / 1000 * 1000);
        uint64_t us = (want->end_ns - want->start_ns) / 1000;
        assert_int_equal(got->end_ns - got->start_ns, (us ? us : 1) * 1000);
        assert_int_equal(got->status == OTELC_STATUS_ERROR, want->status == OTELC_STATUS_ERROR);
        assert_string_equal(otelc_resource_get(got->resource, "service.name")->u.str.ptr,
                            otelc_resource_get(want->resource, "service.name")->u.str.ptr);
        vw_batch_free(&t);
    }
    vw_store_close(s);
    assert_int_equal(stored_spans(), fx.count);
    fx_free(&fx);
}

/* ---- Bad input: the specification's answers, nothing stored ---------------------------------- */

static void test_garbage_is_400_with_status(void **state)
{
    (void)state;
    post_otlp(vw.http, NULL, "\xff\xff\xff garbage", 11);
    assert_int_equal(r.status, 400);
    assert_string_equal(header("Content-Type"), "application/x-protobuf");
    assert_non_null(strstr(status_message(r.body, r.len), "ExportTraceServiceRequest"));
    assert_non_null(memmem(r.body, r.len, "google.rpc.BadRequest", 21));
    assert_null(header("Retry-After")); /* not to be retried */
    /* A real request cut in the middle of its first span. */
    otlp_fx fx;
    fx_build(&fx, otelc__otlp_encode_proto);
    otelc_buf wire = {0};
    assert_int_equal(otelc__otlp_encode_proto(&wire, fx.spans, fx.count), OTELC_OK);
    post_otlp(vw.http, NULL, wire.data, wire.len / 3);
    assert_int_equal(r.status, 400);
    otelc__buf_free(&wire);
    fx_free(&fx);
    assert_int_equal(stored_spans(), 0);
}

/* A JSON request is answered in JSON: the Status, the partial success. */
static void test_json_answers(void **state)
{
    (void)state;
    static const char ct[] = "Content-Type: application/json; charset=utf-8\r\n";
    http(vw.http, "POST", "/v1/traces", ct, "{\"resourceSpans\": [", 18);
    assert_int_equal(r.status, 400);
    assert_string_equal(header("Content-Type"), "application/json");
    assert_non_null(strstr(r.body, "\"code\":3"));
    assert_non_null(strstr(r.body, "\"message\":\"the body is not an OTLP/JSON"));
    assert_non_null(strstr(r.body, "\"@type\":\"type.googleapis.com/google.rpc.BadRequest\""));
    static const char one_bad[] =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
        "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
        "\"name\":\"good\"},"
        "{\"traceId\":\"0102\",\"spanId\":\"0102030405060708\",\"name\":\"bad\"}]}]}]}";
    http(vw.http, "POST", "/v1/traces", ct, one_bad, sizeof one_bad - 1);
    assert_int_equal(r.status, 200);
    assert_string_equal(header("Content-Type"), "application/json");
    otelc_otlp_response resp;
    assert_int_equal(otelc__otlp_parse_response_json(r.body, r.len, &resp), OTELC_OK);
    assert_int_equal(resp.rejected_spans, 1);
    assert_int_equal(stored_spans(), 1);
    assert_int_equal(atomic_load(vw_server_rejected_spans(vw.server)), 1);
    /* Zipkin: 202 and no body, or {"error": ...}. */
    static const char zipkin[] = "[{\"traceId\":\"0102030405060708090a0b0c0d0e0f11\","
                                 "\"id\":\"0102030405060709\",\"name\":\"z\"}]";
    http(vw.ui, "POST", "/api/v2/spans", "Content-Type: application/json\r\n", zipkin,
         sizeof zipkin - 1);
    assert_int_equal(r.status, 202);
    assert_int_equal(r.len, 0);
    http(vw.http, "POST", "/api/v2/spans", "Content-Type: application/json\r\n", "{", 1);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"error\":"));
    assert_int_equal(stored_spans(), 2);
}

static void test_invalid_ids_partial_success(void **state)
{
    (void)state;
    static pb spans, req;
    spans.len = 0;
    pb_span(&spans, 1, 16, 8);
    pb_span(&spans, 3, 15, 8); /* a trace id of 15 bytes */
    pb_span(&spans, 5, 16, 0); /* no span id */
    pb_request(&req, &spans);
    post_otlp(vw.http, NULL, req.p, req.len);
    assert_int_equal(r.status, 200);
    otelc_otlp_response resp;
    assert_int_equal(otelc__otlp_parse_response_proto(r.body, r.len, &resp), OTELC_OK);
    assert_int_equal(resp.rejected_spans, 2);
    assert_non_null(strstr(resp.error_message, "trace"));
    assert_int_equal(stored_spans(), 1);
    /* Every span invalid: nothing stored, still a partial success. */
    spans.len = 0;
    pb_span(&spans, 7, 0, 8);
    pb_request(&req, &spans);
    post_otlp(vw.http, NULL, req.p, req.len);
    assert_int_equal(r.status, 200);
    assert_int_equal(otelc__otlp_parse_response_proto(r.body, r.len, &resp), OTELC_OK);
    assert_int_equal(resp.rejected_spans, 1);
    assert_int_equal(stored_spans(), 1);
    /* An empty request is a success with an empty answer (partial_success unset). */
    post_otlp(vw.http, NULL, "", 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
}

/* AnyValue arrays nested 100 deep: past the decoder's bound, refused whole (413). */
static void test_deep_nesting_refused(void **state)
{
    (void)state;
    static pb value, tmp, spans, req;
    value.len = 0;
    pb_bytes(&value, 1, "leaf", 4); /* AnyValue.string_value */
    for (int depth = 0; depth < 100; depth++) {
        tmp.len = 0;
        pb_bytes(&tmp, 1, value.p, value.len); /* ArrayValue.values */
        value.len = 0;
        pb_bytes(&value, 5, tmp.p, tmp.len); /* AnyValue.array_value */
    }
    static pb kv, span;
    kv.len = 0;
    pb_bytes(&kv, 1, "deep", 4);
    pb_bytes(&kv, 2, value.p, value.len);
    uint8_t tid[16], sid[8];
    memset(tid, 9, sizeof tid);
    memset(sid, 9, sizeof sid);
    span.len = 0;
    pb_bytes(&span, 1, tid, 16);
    pb_bytes(&span, 2, sid, 8);
    pb_bytes(&span, 9, kv.p, kv.len);
    spans.len = 0;
    pb_bytes(&spans, 2, span.p, span.len);
    pb_request(&req, &spans);
    post_otlp(vw.http, NULL, req.p, req.len);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(status_message(r.body, r.len), "nested"));
    assert_int_equal(stored_spans(), 0);
}

static void test_content_type_and_encoding(void **state)
{
    (void)state;
    static pb spans, req;
    spans.len = 0;
    pb_span(&spans, 1, 16, 8);
    pb_request(&req, &spans);
    static const char *const refused[] = {
        "Content-Type: text/plain\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        "Content-Type: application/protobuf-ish\r\n",
        "",
        "Content-Type: application/x-protobuf\r\nContent-Encoding: br\r\n",
        "Content-Type: application/x-protobuf\r\nContent-Encoding: deflate\r\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        http(vw.http, "POST", "/v1/traces", refused[i], req.p, req.len);
        assert_int_equal(r.status, 415);
    }
    /* Parameters and case are fine; identity is no encoding. */
    http(vw.http, "POST", "/v1/traces",
         "Content-Type: Application/X-Protobuf; charset=utf-8\r\nContent-Encoding: identity\r\n",
         req.p, req.len);
    assert_int_equal(r.status, 200);
    assert_int_equal(stored_spans(), 1);
}

static void test_too_large(void **state)
{
    (void)state;
    /* setup() bounds bodies to 64 KiB on the wire and 256 KiB inflated. */
    static char big[100 * 1024];
    memset(big, 0, sizeof big);
    post_otlp(vw.http, NULL, big, sizeof big); /* announced by Content-Length */
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(status_message(r.body, r.len), "65536"));
    /* Chunked, without a length: refused once past the bound. */
    static char chunked[sizeof big + 512];
    int n = snprintf(chunked, sizeof chunked,
                     "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n"
                     "Content-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "%zx\r\n",
                     vw.http, sizeof big);
    memcpy(chunked + n, big, sizeof big);
    n += (int)sizeof big;
    n += snprintf(chunked + n, sizeof chunked - (size_t)n, "\r\n0\r\n\r\n");
    exchange(vw.http, chunked, (size_t)n);
    assert_int_equal(r.status, 413);
    /* A gzip bomb: 32 MiB of zeros in about 32 KiB, refused at 256 KiB inflated. */
    static unsigned char zeros[1 << 16];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    static unsigned char bomb[60000];
    z.next_out = bomb;
    z.avail_out = sizeof bomb;
    for (int i = 0; i < 512; i++) {
        z.next_in = zeros;
        z.avail_in = sizeof zeros;
        int last = i == 511;
        assert_int_equal(deflate(&z, last ? Z_FINISH : Z_NO_FLUSH), last ? Z_STREAM_END : Z_OK);
    }
    size_t blen = sizeof bomb - z.avail_out;
    deflateEnd(&z);
    post_otlp(vw.http, "Content-Encoding: gzip\r\n", bomb, blen);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(status_message(r.body, r.len), "inflates"));
    assert_int_equal(stored_spans(), 0);
}

/* gRPC: an undecodable message is INVALID_ARGUMENT, answered by the receiver. */
static void test_grpc_invalid_argument(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u" OTELC_GRPC_PATH, vw.grpc);
    static const char *const fixed[] = {"Content-Type: application/grpc", "TE: trailers", NULL};
    otelc_http_config hc = {.url = url, .fixed_headers = fixed};
    otelc_h2 *h = otelc__h2_new(&hc);
    assert_non_null(h);
    uint8_t frame[5 + 3] = {0, 0, 0, 0, 3, 0xff, 0xff, 0xff};
    otelc_body body = {.data = frame, .len = sizeof frame};
    otelc_http_response resp = {0};
    otelc__h2_post(h, &body, 5000, NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.grpc_status, 3);
    assert_non_null(strstr(resp.grpc_message, "ExportTraceServiceRequest"));
    otelc__http_response_free(&resp);
    otelc__h2_free(h);
    assert_int_equal(stored_spans(), 0);
}

/* ---- The gate -------------------------------------------------------------------------------- */

static void valid_request(pb *req)
{
    static pb spans;
    spans.len = 0;
    pb_span(&spans, 1, 16, 8);
    pb_request(req, &spans);
}

static void test_gate(void **state)
{
    (void)state;
    static pb req;
    valid_request(&req);
    char host[64];
    /* A page of another origin POSTing to the receiver. */
    post_otlp(vw.http, "Origin: http://evil.example\r\n", req.p, req.len);
    assert_int_equal(r.status, 403);
    post_otlp(vw.http, "Origin: null\r\n", req.p, req.len);
    assert_int_equal(r.status, 403);
    post_otlp(vw.http, "Sec-Fetch-Site: cross-site\r\n", req.p, req.len);
    assert_int_equal(r.status, 403);
    /* A name rebound to 127.0.0.1 by a page's DNS, on every port. */
    snprintf(host, sizeof host, "Host: evil.example:%u\r\n", vw.http);
    post_otlp(vw.http, host, req.p, req.len);
    assert_int_equal(r.status, 403);
    snprintf(host, sizeof host, "Host: evil.example:%u\r\n", vw.ui);
    http(vw.ui, "GET", "/", host, NULL, 0);
    assert_int_equal(r.status, 403);
    http(vw.ui, "GET", "/api/services", host, NULL, 0);
    assert_int_equal(r.status, 403);
    /* The form a web page can send without a preflight. */
    http(vw.http, "POST", "/v1/traces", "Content-Type: text/plain\r\n", req.p, req.len);
    assert_int_equal(r.status, 415);
    /* Zipkin takes JSON only: the gate itself refuses other types there. */
    http(vw.ui, "POST", "/api/v2/spans", "Content-Type: text/plain\r\n", "[]", 2);
    assert_int_equal(r.status, 415);
    assert_int_equal(stored_spans(), 0);
    /* The viewer's own names, and requests without an Origin, pass. */
    snprintf(host, sizeof host, "Host: localhost:%u\r\n", vw.http);
    post_otlp(vw.http, host, req.p, req.len);
    assert_int_equal(r.status, 200);
    char origin[96];
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u\r\n", vw.http);
    post_otlp(vw.http, origin, req.p, req.len);
    assert_int_equal(r.status, 200);
    /* gRPC: the gate reads :authority. */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u" OTELC_GRPC_PATH, vw.grpc);
    static const char *const evil[] = {"Content-Type: application/grpc", "Host: evil.example",
                                       NULL};
    otelc_http_config hc = {.url = url, .fixed_headers = evil};
    otelc_h2 *h = otelc__h2_new(&hc);
    uint8_t frame[5] = {0};
    otelc_body body = {.data = frame, .len = sizeof frame};
    otelc_http_response resp = {0};
    otelc__h2_post(h, &body, 5000, NULL, &resp);
    assert_int_equal(resp.status, 403);
    otelc__http_response_free(&resp);
    otelc__h2_free(h);
}

static void test_routes_and_headers(void **state)
{
    (void)state;
    http(vw.ui, "GET", "/", "", NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(header("Content-Security-Policy"), "default-src 'self'"));
    assert_non_null(strstr(header("Content-Security-Policy"), "frame-ancestors 'none'"));
    assert_string_equal(header("X-Content-Type-Options"), "nosniff");
    assert_string_equal(header("Referrer-Policy"), "no-referrer");
    assert_string_equal(header("Cache-Control"), "no-cache");
    assert_non_null(strstr(header("Content-Type"), "text/html"));
    char etag[128], inm[160];
    snprintf(etag, sizeof etag, "%s", header("ETag"));
    assert_int_equal(etag[0], '"');
    snprintf(inm, sizeof inm, "If-None-Match: \"other\", %s\r\n", etag);
    http(vw.ui, "GET", "/index.html", inm, NULL, 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
    /* Nothing outside the UI's files; the API and receivers have their own answers. */
    http(vw.ui, "GET", "/../../etc/passwd", "", NULL, 0);
    assert_int_equal(r.status, 404);
    http(vw.ui, "GET", "/.hidden", "", NULL, 0);
    assert_int_equal(r.status, 404);
    http(vw.ui, "DELETE", "/", "", NULL, 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(header("Allow"), "GET, HEAD, OPTIONS");
    http(vw.ui, "POST", "/api/services", "Content-Type: application/json\r\n", "{}", 2);
    assert_int_equal(r.status, 405);
    http(vw.ui, "GET", "/api/services", "", NULL, 0);
    assert_string_equal(header("Cache-Control"), "no-store");
    assert_string_equal(header("X-Content-Type-Options"), "nosniff");
    http(vw.http, "GET", "/v1/traces", "", NULL, 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(header("Allow"), "POST, OPTIONS");
    http(vw.http, "GET", "/", "", NULL, 0);
    assert_int_equal(r.status, 404);
    /* Bounds before anything else. */
    static char path[VW_MAX_QUERY + 64];
    snprintf(path, sizeof path, "/api/search?q=%0*d", VW_MAX_QUERY, 0);
    http(vw.ui, "GET", path, "", NULL, 0);
    assert_int_equal(r.status, 414);
    static char many[VW_MAX_HEADERS * 16];
    size_t n = 0;
    for (int i = 0; i <= VW_MAX_HEADERS; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "X-H%d: 1\r\n", i);
    http(vw.ui, "GET", "/", many, NULL, 0);
    assert_int_equal(r.status, 431);
}

/* ---- The token ------------------------------------------------------------------------------- */

static int setup_token(void **state)
{
    (void)state;
    vw_server_options o = {.token = TOKEN};
    viewer_start(&o, NULL);
    return 0;
}

static void test_token(void **state)
{
    (void)state;
    static pb req;
    valid_request(&req);
    post_otlp(vw.http, NULL, req.p, req.len);
    assert_int_equal(r.status, 401);
    assert_non_null(strstr(header("WWW-Authenticate"), "Bearer"));
    post_otlp(vw.http, "Authorization: Bearer wrong-token\r\n", req.p, req.len);
    assert_int_equal(r.status, 401);
    post_otlp(vw.http, "Authorization: Bearer " TOKEN "x\r\n", req.p, req.len);
    assert_int_equal(r.status, 401);
    post_otlp(vw.http, "Authorization: Basic " TOKEN "\r\n", req.p, req.len);
    assert_int_equal(r.status, 401);
    assert_int_equal(stored_spans(), 0);
    post_otlp(vw.http, "Authorization: bearer " TOKEN "\r\n", req.p, req.len);
    assert_int_equal(r.status, 200);
    assert_int_equal(stored_spans(), 1);
    /* The API needs it, the UI's files do not (the page loads before it reads #token=). */
    http(vw.ui, "GET", "/api/services", "", NULL, 0);
    assert_int_equal(r.status, 401);
    http(vw.ui, "GET", "/api/services", "Authorization: Bearer " TOKEN "\r\n", NULL, 0);
    assert_int_not_equal(r.status, 401);
    http(vw.ui, "GET", "/app.js", "", NULL, 0);
    assert_int_equal(r.status, 200);
    /* ?access_token= only for the event stream, which EventSource opens without headers. */
    http(vw.ui, "GET", "/api/live?access_token=" TOKEN, "", NULL, 0);
    assert_int_not_equal(r.status, 401);
    http(vw.ui, "GET", "/api/services?access_token=" TOKEN, "", NULL, 0);
    assert_int_equal(r.status, 401);
    http(vw.ui, "GET", "/api/live?access_token=wrong", "", NULL, 0);
    assert_int_equal(r.status, 401);
    /* /?token= hands the token to the page in the fragment. */
    http(vw.ui, "GET", "/?token=" TOKEN, "", NULL, 0);
    assert_int_equal(r.status, 302);
    assert_string_equal(header("Location"), "/#token=" TOKEN);
    /* gRPC: from the exporter's headers, as a user sets them. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", vw.grpc);
    otelc_otlp_exporter_options eo = {
        .endpoint = url, .protocol = OTELC_OTLP_GRPC, .max_attempts = 1, .timeout_ms = 5000};
    otlp_fx fx;
    fx_build(&fx, otelc__otlp_encode_proto);
    otelc_exporter *e = otelc_otlp_exporter_new(&eo);
    assert_int_equal(otelc_exporter_export(e, fx.spans, 1), OTELC_EXPORT_FAILURE);
    otelc_exporter_free(e);
    eo.headers = "Authorization=Bearer%20" TOKEN;
    e = otelc_otlp_exporter_new(&eo);
    assert_int_equal(otelc_exporter_export(e, fx.spans, 1), OTELC_EXPORT_SUCCESS);
    otelc_exporter_free(e);
    fx_free(&fx);
    assert_int_equal(stored_spans(), 2);
}

static void test_token_refused_at_start(void **state)
{
    (void)state;
    static const char *const bad[] = {"has space", "quote\"", "semi;colon", "new\nline"};
    for (size_t i = 0; i < 4; i++) {
        vw_server_options o = {.token = bad[i], .ingest = (vw_ingest *)1};
        vw_server *s = NULL;
        char err[256];
        assert_int_equal(vw_server_start(&o, &s, err, sizeof err), -1);
        assert_null(s);
        assert_non_null(strstr(err, "token"));
    }
    vw_server_options o = {.bind = "not-an-address", .ingest = (vw_ingest *)1};
    vw_server *s = NULL;
    char err[256];
    assert_int_equal(vw_server_start(&o, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "--bind"));
}

/* ---- CORS for a web application exporting from the browser ----------------------------------- */

static int setup_cors(void **state)
{
    (void)state;
    vw_server_options o = {0};
    const char *why;
    assert_true(http_gate_add_cors_origin(&o.gate, ALLOWED_ORIGIN, &why));
    viewer_start(&o, NULL);
    return 0;
}

static void test_cors_preflight(void **state)
{
    (void)state;
    /* What a browser sends before a POST of OTLP/JSON from http://localhost:3000. */
    http(vw.http, "OPTIONS", "/v1/traces",
         "Origin: " ALLOWED_ORIGIN "\r\nAccess-Control-Request-Method: POST\r\n"
         "Access-Control-Request-Headers: content-type\r\n",
         NULL, 0);
    assert_int_equal(r.status, 204);
    assert_string_equal(header("Access-Control-Allow-Origin"), ALLOWED_ORIGIN);
    assert_non_null(strstr(header("Access-Control-Allow-Methods"), "POST"));
    assert_non_null(strcasestr(header("Access-Control-Allow-Headers"), "content-type"));
    assert_string_equal(header("Vary"), "Origin");
    /* The POST itself is answered with the origin allowed. */
    static pb req;
    valid_request(&req);
    post_otlp(vw.http, "Origin: " ALLOWED_ORIGIN "\r\n", req.p, req.len);
    assert_int_equal(r.status, 200);
    assert_string_equal(header("Access-Control-Allow-Origin"), ALLOWED_ORIGIN);
    /* Another origin gets no grant, and its POST is refused. */
    http(vw.http, "OPTIONS", "/v1/traces",
         "Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n", NULL, 0);
    assert_null(header("Access-Control-Allow-Origin"));
    post_otlp(vw.http, "Origin: http://evil.example\r\n", req.p, req.len);
    assert_int_equal(r.status, 403);
    assert_int_equal(stored_spans(), 1);
}

/* ---- A store that cannot keep up ------------------------------------------------------------- */

static int setup_small_queue(void **state)
{
    (void)state;
    vw_server_options o = {0};
    vw_ingest_options io = {.max_queued_spans = 3};
    viewer_start(&o, &io);
    return 0;
}

/* Another connection holds the write lock, as `sqlite3 FILE` with BEGIN IMMEDIATE would. */
static sqlite3 *lock_store(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(vw.db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void unlock_store(sqlite3 *db)
{
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A request of three spans (seeds s, s+2, s+4) posted from a thread; its status. */
typedef struct sender {
    pthread_t thread;
    uint8_t seed;
    atomic_bool sent; /* the whole request is on its way */
    int status;
} sender;

static void *send_three(void *arg)
{
    sender *s = arg;
    static pb spans[4], req[4];
    pb *sp = &spans[s->seed % 4], *rq = &req[s->seed % 4];
    sp->len = 0;
    for (int i = 0; i < 3; i++) pb_span(sp, (uint8_t)(s->seed + 2 * i), 16, 8);
    pb_request(rq, sp);
    /* Own socket and reply: the test thread uses r meanwhile. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)vw.http)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return NULL;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n"
                     "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                     vw.http, rq->len);
    send(fd, head, (size_t)n, MSG_NOSIGNAL);
    send(fd, rq->p, rq->len, MSG_NOSIGNAL);
    atomic_store(&s->sent, true);
    char answer[64] = "";
    if (recv(fd, answer, sizeof answer - 1, MSG_WAITALL) > 12)
        sscanf(answer, "HTTP/1.1 %d", &s->status);
    close(fd);
    return NULL;
}

static void wait_queued(size_t spans)
{
    for (int i = 0; i < 500; i++) {
        vw_ingest_stats st;
        vw_ingest_stats_get(vw.ingest, &st);
        if (st.queued_spans == spans) return;
        usleep(10 * 1000);
    }
    fail_msg("the ingest queue never held %zu spans", spans);
}

/*
 * The writer stuck in a commit (first, taken off the queue), the queue
 * full behind it (second): requests that come now are refused at once.
 */
static void fill_queue(sender *first, sender *second)
{
    pthread_create(&first->thread, NULL, send_three, first);
    while (!atomic_load(&first->sent)) usleep(1000);
    /* Decoded and queued within a few ms, then taken by the writer: give it ample time. */
    usleep(300 * 1000);
    vw_ingest_stats st;
    vw_ingest_stats_get(vw.ingest, &st);
    assert_int_equal(st.queued_spans, 0);
    pthread_create(&second->thread, NULL, send_three, second);
    wait_queued(3);
}

static void test_backpressure(void **state)
{
    (void)state;
    sqlite3 *db = lock_store();
    sender first = {.seed = 10}, second = {.seed = 40};
    fill_queue(&first, &second);
    /* The next one is told to come back: 429, Retry-After and a RetryInfo. */
    static pb req;
    valid_request(&req);
    post_otlp(vw.http, NULL, req.p, req.len);
    assert_int_equal(r.status, 429);
    assert_string_equal(header("Retry-After"), "1");
    otelc_buf b64 = {0};
    otelc__buf_base64(&b64, r.body, r.len);
    uint64_t delay = 0;
    assert_true(otelc__grpc_retry_info(b64.data, b64.len, &delay));
    assert_int_equal(delay, 1000);
    otelc__buf_free(&b64);
    /* gRPC senders hear RESOURCE_EXHAUSTED with a retry delay, which makes it retryable. */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u" OTELC_GRPC_PATH, vw.grpc);
    static const char *const fixed[] = {"Content-Type: application/grpc", "TE: trailers", NULL};
    otelc_http_config hc = {.url = url, .fixed_headers = fixed};
    otelc_h2 *h = otelc__h2_new(&hc);
    static uint8_t frame[5 + sizeof req.p];
    frame[0] = 0;
    frame[1] = (uint8_t)(req.len >> 24), frame[2] = (uint8_t)(req.len >> 16);
    frame[3] = (uint8_t)(req.len >> 8), frame[4] = (uint8_t)req.len;
    memcpy(frame + 5, req.p, req.len);
    otelc_body body = {.data = frame, .len = 5 + req.len};
    otelc_http_response resp = {0};
    otelc__h2_post(h, &body, 5000, NULL, &resp);
    assert_int_equal(resp.grpc_status, 8);
    assert_true(otelc__grpc_retry_info(resp.status_details, strlen(resp.status_details), &delay));
    assert_int_equal(delay, 1000);
    otelc__http_response_free(&resp);
    /* The lock goes: the waiting requests are answered 200, and the others get in on retry. */
    unlock_store(db);
    pthread_join(first.thread, NULL);
    pthread_join(second.thread, NULL);
    assert_int_equal(first.status, 200);
    assert_int_equal(second.status, 200);
    post_otlp(vw.http, NULL, req.p, req.len);
    assert_int_equal(r.status, 200);
    otelc__h2_post(h, &body, 5000, NULL, &resp);
    assert_int_equal(resp.grpc_status, 0);
    otelc__http_response_free(&resp);
    otelc__h2_free(h);
    assert_int_equal(stored_spans(), 3 + 3 + 1 + 1);
    vw_ingest_stats st;
    vw_ingest_stats_get(vw.ingest, &st);
    assert_int_equal(st.spans_refused, 2);
}

/* A stop lets a request waiting for its commit finish, then stops listening. */
static void *stop_server(void *arg)
{
    (void)arg;
    vw_server_stop(vw.server);
    return NULL;
}

static void test_stop_lets_requests_finish(void **state)
{
    (void)state;
    sqlite3 *db = lock_store();
    sender first = {.seed = 20}, second = {.seed = 60};
    fill_queue(&first, &second);
    pthread_t stopper;
    pthread_create(&stopper, NULL, stop_server, NULL);
    usleep(300 * 1000);
    unlock_store(db);
    pthread_join(first.thread, NULL);
    pthread_join(second.thread, NULL);
    pthread_join(stopper, NULL);
    assert_int_equal(first.status, 200);
    assert_int_equal(second.status, 200);
    assert_int_equal(stored_spans(), 6);
    /* Nothing listens any more. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)vw.http)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_not_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
}

/* ---- Ports ----------------------------------------------------------------------------------- */

static int setup_ports_off(void **state)
{
    (void)state;
    vw_server_options o = {.ui_port = VW_PORT_OFF, .otlp_grpc_port = VW_PORT_OFF};
    viewer_start(&o, NULL);
    return 0;
}

static void test_ports_off(void **state)
{
    (void)state;
    assert_int_equal(vw.ui, 0);
    assert_int_equal(vw.grpc, 0);
    assert_int_not_equal(vw.http, 0);
    /* Zipkin is on the OTLP/HTTP port too. */
    http(vw.http, "POST", "/api/v2/spans", "Content-Type: application/x-thrift\r\n", "x", 1);
    assert_int_equal(r.status, 415);
}

/* ---- Connections: how many at once, and how long idle ---------------------------------------- */

static int setup_few_connections(void **state)
{
    (void)state;
    vw_server_options o = {.max_connections = 2, .timeout_s = 1};
    viewer_start(&o, NULL);
    return 0;
}

static int connect_ui(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)vw.ui)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* true when the server closed fd (a read sees the end) within ms. */
static bool closed_within(int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

static void test_connection_limit_and_idle_timeout(void **state)
{
    (void)state;
    int a = connect_ui(), b = connect_ui();
    usleep(100 * 1000);
    /* A third while two are open: closed at once, never served. */
    int c = connect_ui();
    assert_true(closed_within(c, 1000));
    close(c);
    /* The two open ones, silent, are closed after the idle timeout (1 s). */
    assert_true(closed_within(a, 3000));
    assert_true(closed_within(b, 3000));
    close(a);
    close(b);
    /*
     * And then there is room again, once libmicrohttpd's threads for the two
     * have ended: a connection closed by the server may still count for a
     * moment after its socket closed, and a new one is then refused.
     */
    bool served = false;
    for (int i = 0; i < 50 && !served; i++) {
        int d = connect_ui();
        static const char get[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        char answer[16] = "";
        served = send(d, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1) &&
                 recv(d, answer, sizeof answer - 1, MSG_WAITALL) > 0 &&
                 strncmp(answer, "HTTP/1.1 200", 12) == 0;
        close(d);
        if (!served) usleep(100 * 1000);
    }
    assert_true(served);
}

/* ---- Self-tracing never into itself ---------------------------------------------------------- */

static void test_endpoint_is_self(void **state)
{
    (void)state;
    const unsigned ports[] = {4318, 4317, 16686};
    static const struct {
        const char *endpoint;
        bool self;
    } cases[] = {
        {"http://localhost:4318", true},
        {"http://LOCALHOST:4318/v1/traces", true},
        {"http://127.0.0.1:4317", true},
        {"http://127.1.2.3:16686/api/v2/spans", true},
        {"http://[::1]:4318/", true},
        {"localhost:4317", true},
        {"http://user:pw@localhost:4318", true},
        {"http://app.localhost:4318", true},
        {"http://0.0.0.0:4318", true},
        {"http://10.0.0.5:4318", true}, /* the bind address below */
        {"http://localhost:4319", false},
        {"http://collector:4318", false},
        {"https://localhost", false},
        {"http://localhost", false},
        {"http://localhost.:4318", false},
        {"http://[::1", false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (vw_endpoint_is_self(cases[i].endpoint, "10.0.0.5", ports, 3) != cases[i].self)
            fail_msg("%s", cases[i].endpoint);
    assert_false(vw_endpoint_is_self(NULL, NULL, ports, 3));
    const unsigned web[] = {443};
    assert_true(vw_endpoint_is_self("https://localhost/v1/traces", NULL, web, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_http_protobuf_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_http_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_zipkin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_is_400_with_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_ids_partial_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_type_and_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grpc_invalid_argument, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routes_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token, setup_token, teardown),
        cmocka_unit_test(test_token_refused_at_start),
        cmocka_unit_test_setup_teardown(test_cors_preflight, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup_small_queue, teardown),
        cmocka_unit_test_setup_teardown(test_stop_lets_requests_finish, setup_small_queue,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ports_off, setup_ports_off, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit_and_idle_timeout,
                                        setup_few_connections, teardown),
        cmocka_unit_test(test_endpoint_is_self),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
