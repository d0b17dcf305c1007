/*
 * test_view_forward.c - `otelc view --forward` (viewer/forward.c): spans
 * committed to the store reach a next hop this test controls (the
 * viewer's own gRPC server, or a libmicrohttpd OTLP/HTTP receiver), also
 * when that hop is down for a while and comes back: everything arrives,
 * each span once. A queue too small for an outage drops the oldest spans
 * and counts them; a request the next hop refuses for good is not sent
 * again; stopping delivers what it can and counts the rest.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "decode_proto.h"
#include "export/otlp.h"
#include "forward.h"
#include "grpc_server.h"
#include "ingest.h"

#define MAX_IDS 4096

/* ---- The next hop -------------------------------------------------------------------------------
 */

typedef struct receiver {
    pthread_mutex_t lock;
    uint32_t ids[MAX_IDS]; /* trace * 65536 + span of each span received, in order */
    size_t received;
    size_t requests;
    unsigned refuse_next; /* HTTP: answer this many requests 400 (recording nothing) */
    char path[128];       /* HTTP: the last request's path */
    vw_grpc_server *grpc;
    struct MHD_Daemon *http;
    unsigned port;
} receiver;

static receiver rx = {.lock = PTHREAD_MUTEX_INITIALIZER};
static bool have_exporter;

static uint32_t id_of(const otelc_span_data *sd)
{
    const uint8_t *t = sd->context.trace_id, *s = sd->context.span_id;
    return (uint32_t)(t[14] << 24 | t[15] << 16 | s[6] << 8 | s[7]);
}

/* Record the spans of one request; false when it is not a valid OTLP request. */
static bool record(const uint8_t *msg, size_t len)
{
    vw_batch b;
    vw_batch_init(&b);
    bool ok = vw_decode_otlp_proto(msg, len, &b) == VW_DECODE_OK;
    pthread_mutex_lock(&rx.lock);
    rx.requests++;
    for (size_t i = 0; ok && i < b.count && rx.received < MAX_IDS; i++)
        rx.ids[rx.received++] = id_of(&b.spans[i]);
    pthread_mutex_unlock(&rx.lock);
    vw_batch_free(&b);
    return ok;
}

static void on_grpc_call(void *ctx, vw_grpc_call *call, const char *path, const uint8_t *msg,
                         size_t len)
{
    (void)ctx;
    (void)path;
    bool ok = record(msg, len);
    vw_grpc_call_finish(call, ok ? VW_GRPC_OK : VW_GRPC_INVALID_ARGUMENT, NULL, NULL, 0, 0);
}

static void grpc_up(unsigned port)
{
    vw_grpc_options o = {.port = port, .on_call = on_grpc_call};
    char err[256];
    assert_int_equal(vw_grpc_server_start(&o, &rx.grpc, err, sizeof err), OTELC_OK);
    rx.port = vw_grpc_server_port(rx.grpc);
}

static void grpc_down(void)
{
    vw_grpc_server_stop(rx.grpc);
    rx.grpc = NULL;
}

/* OTLP/HTTP: the body gathered across calls, then recorded (or refused) at the end. */
static enum MHD_Result on_http(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls)
{
    (void)cls;
    (void)method;
    (void)version;
    otelc_buf *body = *con_cls;
    if (!body) {
        *con_cls = calloc(1, sizeof *body);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        otelc__buf_append(body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&rx.lock);
    snprintf(rx.path, sizeof rx.path, "%s", url);
    bool refuse = rx.refuse_next > 0;
    if (refuse) rx.refuse_next--, rx.requests++;
    pthread_mutex_unlock(&rx.lock);
    unsigned status = refuse ? 400 : record((const uint8_t *)body->data, body->len) ? 200 : 400;
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/x-protobuf");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static void on_http_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    otelc_buf *body = *con_cls;
    if (body) otelc__buf_free(body);
    free(body);
    *con_cls = NULL;
}

static void http_up(void)
{
    rx.http = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                               on_http, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_http_done, NULL,
                               MHD_OPTION_END);
    assert_non_null(rx.http);
    rx.port = MHD_get_daemon_info(rx.http, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void http_down(void)
{
    MHD_stop_daemon(rx.http);
    rx.http = NULL;
}

static void rx_reset(void)
{
    pthread_mutex_lock(&rx.lock);
    rx.received = rx.requests = 0;
    rx.refuse_next = 0;
    rx.path[0] = '\0';
    pthread_mutex_unlock(&rx.lock);
}

static size_t rx_received(void)
{
    pthread_mutex_lock(&rx.lock);
    size_t n = rx.received;
    pthread_mutex_unlock(&rx.lock);
    return n;
}

/* Each of the n spans of traces 1..n/per_trace received exactly once. */
static void assert_each_once(size_t n)
{
    pthread_mutex_lock(&rx.lock);
    size_t received = rx.received;
    uint32_t *ids = malloc(received * sizeof *ids + 1);
    memcpy(ids, rx.ids, received * sizeof *ids);
    pthread_mutex_unlock(&rx.lock);
    assert_int_equal(received, n);
    for (size_t i = 0; i < received; i++)
        for (size_t j = i + 1; j < received; j++)
            if (ids[i] == ids[j]) fail_msg("span %08x received twice", ids[i]);
    free(ids);
}

/* ---- The viewer's side --------------------------------------------------------------------------
 */

static const otelc_scope_info scope = {.name = "test.forward"};

static void set_id(uint8_t *p, size_t n, unsigned v)
{
    memset(p, 0, n);
    p[n - 2] = (uint8_t)(v >> 8);
    p[n - 1] = (uint8_t)v;
}

/* Commit trace t of spans spans to the store, as a receiver would. */
static void commit_trace(vw_ingest *in, unsigned t, unsigned spans)
{
    vw_batch b;
    vw_batch_init(&b);
    otelc_attr a = OTELC_ATTR_STR("service.name", "forwarded");
    const otelc_resource *res = vw_batch_add_resource(&b, &a, 1, NULL);
    for (unsigned s = 1; s <= spans; s++) {
        otelc_span_data *sd = vw_batch_add_span(&b);
        set_id(sd->context.trace_id, 16, t);
        set_id(sd->context.span_id, 8, s);
        if (s > 1) {
            sd->has_parent = true;
            set_id(sd->parent_span_id, 8, 1);
        }
        sd->name = "work";
        sd->start_ns = 1700000000000000000ull + s;
        sd->end_ns = sd->start_ns + 1000;
        sd->resource = res;
        sd->scope = &scope;
    }
    assert_int_equal(vw_ingest_write(in, &b, 10000), VW_INGEST_COMMITTED);
    vw_batch_free(&b);
}

static vw_ingest *ingest_start(void)
{
    vw_store_options so = {.path = ":memory:"};
    vw_store *s = NULL;
    char err[256];
    assert_int_equal(vw_store_open(&so, &s, err, sizeof err), 0);
    vw_ingest *in = NULL;
    assert_int_equal(vw_ingest_start(s, NULL, &in), 0);
    return in;
}

/* Quick retries: a test waits for recovery in tenths of seconds, not minutes. */
static vw_forward *forward(vw_ingest *in, const char *protocol, const char *url, size_t max_bytes)
{
    vw_forward_options o = {
        .url = url,
        .protocol = protocol,
        .max_bytes = max_bytes,
        .export_timeout_ms = 1000,
        .backoff_initial_ms = 20,
        .backoff_max_ms = 100,
        .breaker_cooldown_ms = 100,
        .stop_grace_ms = 1000,
    };
    char err[256];
    vw_forward *f = vw_forward_start_opts(in, &o, err, sizeof err);
    if (!f) fail_msg("vw_forward_start: %s", err);
    return f;
}

static vw_forward_stats stats(vw_forward *f)
{
    vw_forward_stats s;
    vw_forward_stats_get(f, &s);
    return s;
}

/* Poll until cond(arg) holds, at most 15 s. */
static bool eventually(bool (*cond)(void *arg), void *arg)
{
    for (int i = 0; i < 1500; i++) {
        if (cond(arg)) return true;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return cond(arg);
}

static bool all_sent(void *arg)
{
    vw_forward_stats s = stats(arg);
    return s.spans_queued == 0 && s.spans_sent > 0;
}

static bool failing(void *arg)
{
    vw_forward_stats s = stats(arg);
    return s.exports_failed >= 3 && s.spans_retrying > 0;
}

static bool refused_first(void *arg)
{
    vw_forward_stats s = stats(arg);
    return s.spans_queued == 0 && s.spans_refused == 3;
}

static bool received_all(void *arg)
{
    return rx_received() >= *(size_t *)arg;
}

#define SKIP_WITHOUT_EXPORTER()                                                                    \
    do {                                                                                           \
        if (!have_exporter) skip();                                                                \
    } while (0)

/* ---- Tests --------------------------------------------------------------------------------------
 */

static void test_grpc_next_hop_down_and_back(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    rx_reset();
    grpc_up(0);
    unsigned port = rx.port;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    vw_ingest *in = ingest_start();
    vw_forward *f = forward(in, "grpc", url, 0);
    assert_string_equal(vw_forward_url(f), url);

    for (unsigned t = 1; t <= 5; t++) commit_trace(in, t, 4);
    assert_true(eventually(all_sent, f));
    assert_int_equal(stats(f).spans_sent, 20);

    /* The next hop goes away: commits go on, the spans wait in the queue and are retried. */
    grpc_down();
    for (unsigned t = 6; t <= 30; t++) commit_trace(in, t, 4);
    assert_true(eventually(failing, f));
    vw_forward_stats s = stats(f);
    assert_int_equal(s.spans_queued, 100);
    assert_int_equal(s.spans_dropped, 0);
    assert_true(s.bytes_queued > 0);

    /* Back on the same port: everything arrives, in order of commit, each span once. */
    grpc_up(port);
    size_t want = 120;
    assert_true(eventually(received_all, &want));
    assert_true(eventually(all_sent, f));
    assert_each_once(120);
    s = stats(f);
    assert_int_equal(s.spans_sent, 120);
    assert_int_equal(s.spans_dropped, 0);
    assert_int_equal(s.spans_retrying, 0);
    pthread_mutex_lock(&rx.lock);
    assert_int_equal(rx.ids[20] >> 16, 6); /* the first trace committed while down came first */
    pthread_mutex_unlock(&rx.lock);

    vw_ingest_stop(in);
    vw_forward_stop(f);
    grpc_down();
}

static void test_http_path_and_refusal(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    rx_reset();
    http_up();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", rx.port);
    vw_ingest *in = ingest_start();
    vw_forward *f = forward(in, NULL, url, 0); /* http/protobuf */

    /* A 400 is for good: those spans are counted, not sent again, and the queue moves on. */
    pthread_mutex_lock(&rx.lock);
    rx.refuse_next = 1;
    pthread_mutex_unlock(&rx.lock);
    commit_trace(in, 1, 3);
    assert_true(eventually(refused_first, f));
    for (unsigned t = 2; t <= 4; t++) commit_trace(in, t, 2);
    size_t want = 6;
    assert_true(eventually(received_all, &want));
    assert_true(eventually(all_sent, f));
    vw_forward_stats s = stats(f);
    assert_int_equal(s.spans_refused, 3);
    assert_int_equal(s.spans_sent, 6);
    assert_int_equal(s.exports_failed, 0);
    assert_each_once(6);
    /* A URL without a path means the OTLP receiver's /v1/traces. */
    pthread_mutex_lock(&rx.lock);
    assert_string_equal(rx.path, "/v1/traces");
    pthread_mutex_unlock(&rx.lock);

    vw_ingest_stop(in);
    vw_forward_stop(f);
    http_down();
}

static bool dropped_some(void *arg)
{
    vw_forward_stats s = stats(arg);
    return s.spans_dropped > 0 && s.exports_failed > 0;
}

/* A port nobody listens on: one the gRPC server had and gave back. */
static unsigned closed_port(void)
{
    grpc_up(0);
    unsigned port = rx.port;
    grpc_down();
    return port;
}

static void test_overflow_drops_oldest(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/traces", closed_port());
    vw_ingest *in = ingest_start();
    /* Each request is about 150 bytes: the queue holds two or three. */
    vw_forward *f = forward(in, "http/protobuf", url, 400);
    for (unsigned t = 1; t <= 20; t++) commit_trace(in, t, 1);
    assert_true(eventually(dropped_some, f));
    vw_forward_stats s = stats(f);
    assert_int_equal(s.spans_sent, 0);
    assert_int_equal(s.spans_dropped + s.spans_queued, 20);
    /*
     * The queue holds what fits in 400 bytes (two or three requests), and a
     * group taken from it while it was full (at most 400 bytes too) may be
     * in flight as well: at most about six of the twenty are kept, whatever
     * the timing.
     */
    assert_true(s.spans_dropped >= 12);
    assert_true(s.bytes_queued <= 2 * 400); /* the bound, and a group being sent */

    /* Stopping with the next hop still down: what waits is dropped and counted. */
    vw_ingest_stop(in);
    vw_forward_stop(f);
}

static void test_stop_delivers_what_is_queued(void **state)
{
    (void)state;
    SKIP_WITHOUT_EXPORTER();
    rx_reset();
    http_up();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/traces", rx.port);
    vw_ingest *in = ingest_start();
    vw_forward *f = forward(in, "http/protobuf", url, 0);
    for (unsigned t = 1; t <= 50; t++) commit_trace(in, t, 3);
    vw_ingest_stop(in);
    vw_forward_stop(f); /* within the grace period: everything goes out first */
    assert_each_once(150);
    http_down();
}

static void test_bad_options(void **state)
{
    (void)state;
    vw_ingest *in = ingest_start();
    char err[256];
    assert_null(vw_forward_start(in, "http://127.0.0.1:1", "thrift", 0, err, sizeof err));
    assert_string_equal(err, "unknown --forward-protocol \"thrift\" (http/protobuf, http/json, "
                             "grpc)");
    assert_null(vw_forward_start(in, "", "grpc", 0, err, sizeof err));
    assert_string_equal(err, "--forward needs a URL");
    if (have_exporter) {
        assert_null(vw_forward_start(in, "ftp://x/", NULL, 0, err, sizeof err));
        assert_string_equal(err, "cannot forward to ftp://x/ (libotelc said why above)");
    }
    vw_ingest_stop(in);
    vw_forward_stop(NULL);
}

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    otelc_otlp_exporter_options probe = {.endpoint = "http://127.0.0.1:1",
                                         .protocol = OTELC_OTLP_GRPC};
    otelc_exporter *e = otelc_otlp_exporter_new(&probe);
    have_exporter = e != NULL;
    otelc_exporter_free(e);
    if (!have_exporter) fprintf(stderr, "test_view_forward: no OTLP exporter (libcurl): skipped\n");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grpc_next_hop_down_and_back),
        cmocka_unit_test(test_http_path_and_refusal),
        cmocka_unit_test(test_overflow_drops_oldest),
        cmocka_unit_test(test_stop_delivers_what_is_queued),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
