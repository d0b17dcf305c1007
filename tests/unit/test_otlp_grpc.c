/*
 * test_otlp_grpc.c - OTLP/gRPC's HTTP/2 connection (src/export/h2_client.c)
 * against a real HTTP/2 server on 127.0.0.1.
 *
 * tests/integration/otlp_fault_server.js (Node.js's http2, no packages)
 * counts the connections it accepts and records which one carried each
 * request, so these tests check what crossed the sockets: one connection
 * for many exports, a new one after the server went away, said GOAWAY or
 * broke off, and each request delivered exactly once unless the exporter
 * had to retry it. Timing is only asserted as a lower bound. Without node
 * the network tests are skipped.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "export/otlp.h"
#include "internal.h"
#include "collect.h"
#include "fault_server.h"

/* ---- Spans --------------------------------------------------------------------------------- */

static collect kept;
static otelc_provider *prov;
static otelc_tracer *tracer;

/* n finished spans called name, each with an attribute of attr_bytes bytes (in kept). */
static const otelc_span_data *const *spans(size_t n, const char *name, size_t attr_bytes)
{
    static char big[64 * 1024];
    memset(big, 'x', sizeof big);
    assert_true(attr_bytes <= sizeof big && n <= COLLECT_MAX);
    collect_clear(&kept);
    for (size_t i = 0; i < n; i++) {
        otelc_span *s = otelc_span_start(tracer, name, OTELC_SPAN_CLIENT);
        if (attr_bytes) otelc_span_set_strn(s, "payload", big, attr_bytes);
        otelc_span_end(s);
    }
    assert_int_equal(kept.count, n);
    return kept.spans;
}

/* The bytes of the gRPC request those spans make: the 5-byte frame header and the message. */
static size_t request_bytes(const otelc_span_data *const *s, size_t n)
{
    otelc_proto_stream st;
    memset(&st, 0, sizeof st);
    assert_int_equal(otelc__otlp_proto_open(&st, s, n), OTELC_OK);
    size_t total = st.total + OTELC_GRPC_FRAME_HEADER;
    otelc__otlp_proto_close(&st);
    return total;
}

/* ---- The exporter -----------------------------------------------------------------------------
 */

static char endpoint[64];

/* Fast backoff, no circuit breaker in the way. */
static otelc_otlp_exporter_options opts(void)
{
    otelc_otlp_exporter_options o;
    memset(&o, 0, sizeof o);
    o.protocol = OTELC_OTLP_GRPC;
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", srv.grpc_port);
    o.endpoint = endpoint;
    o.timeout_ms = 10000;
    o.retry_initial_ms = 20;
    o.retry_max_ms = 100;
    o.breaker_threshold = 1000;
    return o;
}

static otelc_otlp_stats stats_of(otelc_exporter *e)
{
    otelc_otlp_stats s;
    assert_true(otelc__otlp_exporter_stats(e, &s));
    return s;
}

static otelc_export_result export_n(otelc_exporter *e, size_t n, const char *name)
{
    return otelc_exporter_export(e, spans(n, name, 0), n);
}

/* True when request i carries a span called name (no name here is a prefix of another). */
static bool carries(int i, const char *name)
{
    return strstr(req(i), name) != NULL;
}

/* An export on a thread of its own, for the tests that change the server meanwhile. */
struct export_job {
    otelc_exporter *e;
    const otelc_span_data *const *spans;
    otelc_export_result r;
    pthread_t thread;
};

static void *export_thread(void *arg)
{
    struct export_job *j = arg;
    j->r = otelc_exporter_export(j->e, j->spans, 1);
    return NULL;
}

static void start_export(struct export_job *j, otelc_exporter *e, const char *name)
{
    j->e = e;
    j->spans = spans(1, name, 0);
    assert_int_equal(pthread_create(&j->thread, NULL, export_thread, j), 0);
}

/* ---- Setup -------------------------------------------------------------------------------------
 */

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    otelc_otlp_exporter_options probe = {.protocol = OTELC_OTLP_GRPC,
                                         .endpoint = "http://127.0.0.1:1"};
    otelc_exporter *e = otelc_otlp_exporter_new(&probe);
    if (!e) {
        fprintf(stderr, "test_otlp_grpc: no OTLP/gRPC exporter in this build, tests skipped\n");
    } else if (!server_start()) {
        server_stop();
        fprintf(stderr, "test_otlp_grpc: node not available, network tests skipped\n");
    }
    otelc_exporter_free(e);
    collect_init(&kept);
    prov = collect_provider(&kept, NULL, NULL);
    tracer = otelc_provider_tracer(prov, "test.grpc", "1.0", NULL);
    otelc_log_set_level(OTELC_LOG_ERROR); /* the failures these tests cause are expected */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    collect_clear(&kept);
    otelc_provider_free(prov);
    server_stop();
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    if (srv.pid) cmd("{\"cmd\":\"reset\"}");
    return 0;
}

/* ---- The status of a reset stream ----------------------------------------------------------- */

/* PROTOCOL-HTTP2.md ("Errors") maps RST_STREAM codes to gRPC statuses. */
static void test_status_of_a_reset_stream(void **state)
{
    (void)state;
    assert_int_equal(otelc__grpc_status_from_h2_error(7), 14); /* REFUSED_STREAM: UNAVAILABLE */
    assert_int_equal(otelc__grpc_status_from_h2_error(8), 1);  /* CANCEL: CANCELLED */
    assert_int_equal(otelc__grpc_status_from_h2_error(11), 8); /* ENHANCE_YOUR_CALM */
    assert_int_equal(otelc__grpc_status_from_h2_error(12), 7); /* INADEQUATE_SECURITY */
    assert_int_equal(otelc__grpc_status_from_h2_error(0), 13); /* NO_ERROR, no status: INTERNAL */
    assert_int_equal(otelc__grpc_status_from_h2_error(2), 13); /* INTERNAL_ERROR */
    assert_int_equal(otelc__grpc_status_from_h2_error(1), 13); /* PROTOCOL_ERROR */
}

/* ---- One connection ------------------------------------------------------------------------- */

static void test_many_exports_one_connection(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    char name[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "many-%02d", i);
        assert_int_equal(export_n(e, 2, name), OTELC_EXPORT_SUCCESS);
    }
    assert_int_equal(count(), 50);
    assert_int_equal(connections(), 1);
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "many-%02d", i);
        assert_true(carries(i, name));
        assert_int_equal(req_num(i, "conn"), 0);
    }
    /* Each call tells the server its deadline: at most the export's timeout, in ms. */
    const char *t = strstr(req(0), "\"grpc-timeout\":\"");
    assert_non_null(t);
    char *unit;
    long ms = strtol(t + strlen("\"grpc-timeout\":\""), &unit, 10);
    assert_true(ms > 0 && ms <= 10000);
    assert_int_equal(*unit, 'm');
    otelc_exporter_free(e);
}

/* The server stops, and comes back on the same port: the exporter reconnects. */
static void test_receiver_restart(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts();
    o.max_attempts = 2;
    o.timeout_ms = 3000;
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "before-stop"), OTELC_EXPORT_SUCCESS);
    assert_string_equal(cmd("{\"cmd\":\"grpc_stop\"}"), "ok");
    assert_int_equal(export_n(e, 1, "while-stopped"), OTELC_EXPORT_FAILURE);
    assert_int_equal(stats_of(e).exports_refused, 0); /* a refused connection is transient */
    assert_string_equal(cmd("{\"cmd\":\"grpc_start\"}"), "ok");
    assert_int_equal(export_n(e, 1, "after-start"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 2);
    assert_int_equal(connections(), 2);
    assert_true(carries(1, "after-start"));
    assert_int_equal(req_num(1, "conn"), 1);
    otelc_exporter_free(e);

    /* It comes back while an export is retrying: that export is delivered, once. */
    o = opts();
    o.retry_initial_ms = 100;
    o.max_attempts = 50;
    e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "connected"), OTELC_EXPORT_SUCCESS);
    assert_string_equal(cmd("{\"cmd\":\"grpc_stop\"}"), "ok");
    struct export_job j;
    start_export(&j, e, "retried-across-restart");
    while (stats_of(e).requests < 3) usleep(10 * 1000); /* two attempts failed */
    assert_string_equal(cmd("{\"cmd\":\"grpc_start\"}"), "ok");
    pthread_join(j.thread, NULL);
    assert_int_equal(j.r, OTELC_EXPORT_SUCCESS);
    assert_true(stats_of(e).retries >= 1);
    assert_int_equal(count(), 4);
    assert_true(carries(3, "retried-across-restart"));
    assert_int_equal(connections(), 4);
    otelc_exporter_free(e);
}

/* ---- GOAWAY ------------------------------------------------------------------------------- */

/* A graceful GOAWAY after the fourth answer: the fifth export goes on a new connection. */
static void test_goaway_between_exports(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{},{},{},{\"goaway\":true}]}");
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "goaway-%d", i);
        assert_int_equal(export_n(e, 1, name), OTELC_EXPORT_SUCCESS);
    }
    assert_int_equal(count(), 10); /* nothing lost, nothing sent twice */
    assert_int_equal(connections(), 2);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "goaway-%d", i);
        assert_true(carries(i, name));
        assert_int_equal(req_num(i, "conn"), i < 4 ? 0 : 1);
    }
    assert_int_equal(stats_of(e).retries, 0);
    otelc_exporter_free(e);
}

/*
 * A GOAWAY whose last stream is the one before ours: the server never
 * processed our request, so it is sent again on a new connection, within
 * the same attempt, and recorded once.
 */
static void test_goaway_refuses_a_stream(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{},{\"refuse\":true}]}");
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "first"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(export_n(e, 1, "refused-then-delivered"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(atoi(cmd("{\"cmd\":\"refused\"}")), 1);
    assert_int_equal(count(), 2);
    assert_true(carries(1, "refused-then-delivered"));
    assert_int_equal(req_num(0, "conn"), 0);
    assert_int_equal(req_num(1, "conn"), 1);
    assert_int_equal(connections(), 2);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.retries, 0);
    otelc_exporter_free(e);
}

/* ---- Streams that end badly -------------------------------------------------------------------
 */

/* RST_STREAM: CANCEL is retried, INTERNAL_ERROR and ENHANCE_YOUR_CALM are not; the connection
 * stays. */
static void test_reset_streams(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    cmd("{\"cmd\":\"script\",\"responses\":[{\"rst\":8},{}]}");
    assert_int_equal(export_n(e, 1, "cancelled-once"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(stats_of(e).retries, 1);
    cmd("{\"cmd\":\"script\",\"responses\":[{\"rst\":2}]}");
    assert_int_equal(export_n(e, 1, "internal-error"), OTELC_EXPORT_FAILURE);
    cmd("{\"cmd\":\"script\",\"responses\":[{\"rst\":11}]}");
    assert_int_equal(export_n(e, 1, "enhance-your-calm"), OTELC_EXPORT_FAILURE);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.exports_refused, 2); /* INTERNAL and RESOURCE_EXHAUSTED: final */
    assert_int_equal(s.retries, 1);
    assert_int_equal(count(), 4);
    assert_int_equal(connections(), 1);
    otelc_exporter_free(e);
}

/* The server drops the connection while the call waits for its answer: retried on a new one. */
static void test_server_closes_mid_call(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{},{\"reset\":true},{}]}");
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "before"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(export_n(e, 1, "dropped-then-retried"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(stats_of(e).retries, 1);
    assert_int_equal(count(), 3); /* the server saw it twice: the first answer never came */
    assert_true(carries(1, "dropped-then-retried") && carries(2, "dropped-then-retried"));
    assert_int_equal(req_num(2, "conn"), 1);
    assert_int_equal(connections(), 2);
    otelc_exporter_free(e);
}

/*
 * A request of several megabytes against Node's 64 KiB default windows:
 * sent within them (a flow-control violation would fail the connection),
 * whole, and on the one connection.
 */
static void test_large_request_flow_control(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    const otelc_span_data *const *s = spans(100, "large", 64 * 1024);
    size_t bytes = request_bytes(s, 100);
    assert_true(bytes > 6u << 20);
    assert_int_equal(otelc_exporter_export(e, s, 100), OTELC_EXPORT_SUCCESS);
    assert_int_equal(otelc_exporter_export(e, s, 100), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(req_num(i, "len"), (long)bytes);
        assert_non_null(strstr(req(i), "\"frame_ok\":true"));
    }
    assert_int_equal(connections(), 1);
    otelc_exporter_free(e);
}

/*
 * The server answers before the request has all arrived (trailers-only
 * INVALID_ARGUMENT): the exporter takes the answer, stops the upload, and
 * the connection carries the next export.
 */
static void test_answer_before_the_upload_ends(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{\"early\":true,\"trailers_only\":true,"
        "\"grpc_status\":3,\"grpc_message\":\"too big\"}]}");
    otelc_otlp_exporter_options o = opts();
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    const otelc_span_data *const *s = spans(100, "early", 64 * 1024);
    assert_int_equal(otelc_exporter_export(e, s, 100), OTELC_EXPORT_FAILURE);
    otelc_otlp_stats st = stats_of(e);
    assert_int_equal(st.exports_refused, 1); /* INVALID_ARGUMENT is final */
    assert_int_equal(st.requests, 1);
    assert_non_null(strstr(req(0), "\"early\":true"));
    assert_int_equal(export_n(e, 1, "next"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 2);
    assert_int_equal(connections(), 1);
    otelc_exporter_free(e);
}

/* ---- Deadlines and shutdown -------------------------------------------------------------------
 */

/* An answer that never comes: the call ends at the export's timeout and its connection goes. */
static void test_call_timeout(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{\"hang\":true}]}");
    otelc_otlp_exporter_options o = opts();
    o.timeout_ms = 600;
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    uint64_t t0 = otelc__mono_ms();
    assert_int_equal(export_n(e, 1, "hung"), OTELC_EXPORT_FAILURE);
    assert_true(otelc__mono_ms() - t0 >= 600);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.requests, 1);
    assert_int_equal(s.exports_refused, 0); /* a timeout is worth another try */
    assert_int_equal(export_n(e, 1, "after-timeout"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 2);
    assert_int_equal(connections(), 2);
    otelc_exporter_free(e);
}

/* Shutdown from another thread ends a call that waits for its answer. */
static void test_shutdown_cancels_a_call(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"default\",\"response\":{\"hang\":true}}");
    otelc_otlp_exporter_options o = opts();
    o.timeout_ms = 120000;
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    struct export_job j;
    start_export(&j, e, "cancelled");
    while (count() < 1) usleep(10 * 1000);
    uint64_t t0 = otelc__mono_ms();
    e->ops->shutdown(e->self);
    pthread_join(j.thread, NULL);
    assert_int_equal(j.r, OTELC_EXPORT_FAILURE);
    assert_true(otelc__mono_ms() - t0 < 60000); /* long before the 120 s timeout */
    assert_int_equal(count(), 1);
    otelc_exporter_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_of_a_reset_stream),
        cmocka_unit_test_setup(test_many_exports_one_connection, test_setup),
        cmocka_unit_test_setup(test_receiver_restart, test_setup),
        cmocka_unit_test_setup(test_goaway_between_exports, test_setup),
        cmocka_unit_test_setup(test_goaway_refuses_a_stream, test_setup),
        cmocka_unit_test_setup(test_reset_streams, test_setup),
        cmocka_unit_test_setup(test_server_closes_mid_call, test_setup),
        cmocka_unit_test_setup(test_large_request_flow_control, test_setup),
        cmocka_unit_test_setup(test_answer_before_the_upload_ends, test_setup),
        cmocka_unit_test_setup(test_call_timeout, test_setup),
        cmocka_unit_test_setup(test_shutdown_cancels_a_call, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
