/*
 * test_otlp_export.c - the OTLP exporter against a real server on 127.0.0.1.
 *
 * tests/integration/otlp_fault_server.js (Node.js, no packages) answers
 * each request as the test scripts it and records what it received, so
 * these tests check the requests that really crossed the socket: how many
 * (retries), when (Retry-After), with which headers and bodies. Timing is
 * only ever asserted as a lower bound, so a loaded machine cannot fail them.
 * Without node the network tests are skipped; the parser tests always run.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "otelc/testing.h"
#include "export/otlp.h"
#include "internal.h"
#include "fork_child.h"
#include "fault_server.h"

/* ---- Spans ----------------------------------------------------------------------- */

#define MAX_SPANS 16

static otelc_provider *prov;
static otelc_tracer *tracer;
static const otelc_span_data *kept[MAX_SPANS];
static size_t nkept;

static void keep_on_end(void *self, const otelc_span_data *sd)
{
    (void)self;
    if (nkept < MAX_SPANS) {
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

/* n finished spans named name (in kept[]). */
static const otelc_span_data *const *spans(size_t n, const char *name)
{
    release_kept();
    for (size_t i = 0; i < n; i++)
        otelc_span_end(otelc_span_start(tracer, name, OTELC_SPAN_CLIENT));
    assert_int_equal(nkept, n);
    return kept;
}

/* ---- Captured diagnostics ----------------------------------------------------------- */

static char logbuf[16384];

static void capture(otelc_log_level level, const char *message, void *user)
{
    (void)level, (void)user;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "%s\n", message);
}

/* ---- Setup ---------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (!server_start()) {
        server_stop();
        fprintf(stderr, "test_otlp_export: node not available, network tests skipped\n");
    }
    /* A build without libcurl has no OTLP exporter: only the parsers are tested. */
    otelc_otlp_exporter_options probe = {.endpoint = "http://127.0.0.1:1/v1/traces"};
    otelc_exporter *e = otelc_otlp_exporter_new(&probe);
    if (!e) {
        server_stop();
        fprintf(stderr,
                "test_otlp_export: no OTLP exporter in this build, network tests skipped\n");
    }
    otelc_exporter_free(e);
    otelc_processor *p = otelc_processor_new(&keep_ops, NULL);
    otelc_provider_options o = {.no_env = true, .processors = &p, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &prov), OTELC_OK);
    otelc_provider_set_global(prov); /* partial success counts into the global stats */
    tracer = otelc_provider_tracer(prov, "test.otlp", "1.0", NULL);
    otelc_log_set_handler(capture, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    release_kept();
    otelc_provider_set_global(NULL);
    otelc_log_set_handler(NULL, NULL);
    server_stop();
    return 0;
}

static int test_setup(void **state)
{
    (void)state;
    logbuf[0] = '\0';
    if (srv.pid) cmd("{\"cmd\":\"reset\"}");
    return 0;
}

static char url[256];

static const char *http_url(const char *path)
{
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.http_port, path);
    return url;
}

/* Options for a test: fast backoff, the endpoint of the chosen protocol. */
static otelc_otlp_exporter_options opts(otelc_otlp_protocol proto)
{
    otelc_otlp_exporter_options o;
    memset(&o, 0, sizeof o);
    o.protocol = proto;
    if (proto == OTELC_OTLP_GRPC) {
        snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.grpc_port);
        o.endpoint = url;
    } else {
        o.endpoint = http_url("/v1/traces");
    }
    o.timeout_ms = 10000;
    o.retry_initial_ms = 20;
    o.retry_max_ms = 100;
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
    return otelc_exporter_export(e, spans(n, name), n);
}

/* ---- Pure parsers ------------------------------------------------------------------------ */

static void test_retry_after_parse(void **state)
{
    (void)state;
    uint64_t ms = 7;
    assert_true(otelc__parse_retry_after("3", 0, &ms));
    assert_int_equal(ms, 3000);
    assert_true(otelc__parse_retry_after(" 0 ", 0, &ms));
    assert_int_equal(ms, 0);
    /* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT. */
    assert_true(otelc__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 5, &ms));
    assert_int_equal(ms, 5000);
    assert_true(otelc__parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 784111777 - 2, &ms));
    assert_int_equal(ms, 2000);
    assert_true(otelc__parse_retry_after("Sun Nov  6 08:49:37 1994", 784111777 - 1, &ms));
    assert_int_equal(ms, 1000);
    assert_true(otelc__parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 60, &ms));
    assert_int_equal(ms, 0); /* in the past: no wait */
    ms = 7;
    assert_false(otelc__parse_retry_after("", 0, &ms));
    assert_false(otelc__parse_retry_after("-1", 0, &ms));
    assert_false(otelc__parse_retry_after("1.5", 0, &ms));
    assert_false(otelc__parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 0, &ms));
    assert_false(otelc__parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", 0, &ms));
    assert_int_equal(ms, 7);
    assert_true(otelc__parse_retry_after("99999999999999999999999", 0, &ms));
    assert_true(ms <= 24ULL * 3600 * 1000); /* clamped */
}

static void test_retry_info_decode(void **state)
{
    (void)state;
    /* Status{code 8, message "slow", details [Any{RetryInfo{retry_delay{1 s, 500 ms}}}]}. */
    static const uint8_t raw[] = {0x08, 0x08, 0x12, 0x04, 's',  'l',  'o',  'w',  0x1a, 0x36, 0x0a,
                                  0x28, 't',  'y',  'p',  'e',  '.',  'g',  'o',  'o',  'g',  'l',
                                  'e',  'a',  'p',  'i',  's',  '.',  'c',  'o',  'm',  '/',  'g',
                                  'o',  'o',  'g',  'l',  'e',  '.',  'r',  'p',  'c',  '.',  'R',
                                  'e',  't',  'r',  'y',  'I',  'n',  'f',  'o',  0x12, 0x0a, 0x0a,
                                  0x08, 0x08, 0x01, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01};
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char b64[256];
    size_t o = 0;
    for (size_t i = 0; i < sizeof raw; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        size_t left = sizeof raw - i;
        if (left > 1) v |= (uint32_t)raw[i + 1] << 8;
        if (left > 2) v |= raw[i + 2];
        b64[o++] = tbl[v >> 18 & 63];
        b64[o++] = tbl[v >> 12 & 63];
        if (left > 1) b64[o++] = tbl[v >> 6 & 63];
        if (left > 2) b64[o++] = tbl[v & 63];
    }
    uint64_t ms = 0;
    assert_true(otelc__grpc_retry_info(b64, o, &ms));
    assert_int_equal(ms, 1500);
    /* Malformed: not base64, truncated message, no details. */
    assert_false(otelc__grpc_retry_info("!!!", 3, &ms));
    assert_false(otelc__grpc_retry_info(b64, o - 8, &ms));
    assert_false(otelc__grpc_retry_info("CAg", 3, &ms)); /* Status{code 8} only */
}

static void test_verdicts_and_backoff(void **state)
{
    (void)state;
    static const long retry[] = {429, 502, 503, 504};
    static const long fail[] = {400, 401, 403, 404, 413, 500, 501};
    otelc_http_response r;
    memset(&r, 0, sizeof r);
    for (size_t i = 0; i < 4; i++) {
        r.status = retry[i];
        assert_int_equal(otelc__retry_http_verdict(&r), OTELC_RETRY_AGAIN);
    }
    for (size_t i = 0; i < 7; i++) {
        r.status = fail[i];
        assert_int_equal(otelc__retry_http_verdict(&r), OTELC_RETRY_FAIL);
    }
    r.status = 0;
    r.transport_error = 7; /* CURLE_COULDNT_CONNECT */
    assert_int_equal(otelc__retry_http_verdict(&r), OTELC_RETRY_AGAIN);
    r.transport_error = 28; /* CURLE_OPERATION_TIMEDOUT */
    assert_int_equal(otelc__retry_http_verdict(&r), OTELC_RETRY_AGAIN);
    /* A certificate the server will never accept is not worth a retry. */
    static const int permanent[] = {1, 3, 58, 60, 77, 83};
    for (size_t i = 0; i < 6; i++) {
        r.transport_error = permanent[i];
        assert_int_equal(otelc__retry_http_verdict(&r), OTELC_RETRY_FAIL);
    }
    static const int again[] = {1, 4, 10, 11, 14, 15};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(otelc__retry_grpc_verdict(again[i], false), OTELC_RETRY_AGAIN);
    assert_int_equal(otelc__retry_grpc_verdict(8, false), OTELC_RETRY_FAIL);
    assert_int_equal(otelc__retry_grpc_verdict(8, true), OTELC_RETRY_AGAIN);
    assert_int_equal(otelc__retry_grpc_verdict(3, true), OTELC_RETRY_FAIL);
    assert_int_equal(otelc__retry_grpc_verdict(0, false), OTELC_RETRY_DONE);

    otelc_retry_policy p = {.max_attempts = 5, .initial_ms = 100, .max_backoff_ms = 1000};
    uint64_t rng = 42;
    for (int k = 0; k < 100; k++) {
        uint64_t d1 = otelc__retry_backoff_ms(&p, 1, &rng);
        uint64_t d3 = otelc__retry_backoff_ms(&p, 3, &rng);
        uint64_t d9 = otelc__retry_backoff_ms(&p, 9, &rng);
        assert_true(d1 >= 50 && d1 <= 100);
        assert_true(d3 >= 200 && d3 <= 400);
        assert_true(d9 >= 500 && d9 <= 1000);
    }
}

struct pair_log {
    char text[512];
};

static void add_pair(void *ctx, const char *k, const char *v)
{
    struct pair_log *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "[%s|%s]", k, v);
}

static void test_header_parse(void **state)
{
    (void)state;
    struct pair_log l = {""};
    assert_true(otelc__otlp_parse_headers(" a = b%20c ,Api-Key=x%3Dy%2C,, e=", add_pair, &l));
    assert_string_equal(l.text, "[a|b c][Api-Key|x=y,][e|]");
    l.text[0] = '\0';
    assert_false(otelc__otlp_parse_headers("novalue,bad key=1,ok=1,x=%0d%0aEvil: 1", add_pair, &l));
    assert_string_equal(l.text, "[ok|1]");
}

/* ---- OTLP/HTTP ------------------------------------------------------------------------------ */

/* Runs first among the network tests: log assertions need the log budget unspent. */
static void test_env_configuration(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/", srv.http_port);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", base, 1);
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=blue%20sky,broken,token=s3cr3t", 1);
    setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
    setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip", 1);
    setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", 1);
    setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", 1);
    otelc_exporter *e = otelc_otlp_exporter_new(NULL);
    assert_non_null(e);
    assert_int_equal(export_n(e, 1, "env-span"), OTELC_EXPORT_SUCCESS);
    const char *r = req(0);
    assert_non_null(strstr(r, "\"path\":\"/v1/traces\""));
    assert_non_null(strstr(r, "\"content-encoding\":\"gzip\""));
    assert_non_null(strstr(r, "\"content-type\":\"application/json\""));
    assert_non_null(strstr(r, "\"x-team\":\"blue sky\""));
    assert_non_null(strstr(r, "\"token\":\"s3cr3t\""));
    otelc_exporter_free(e);
    assert_non_null(strstr(logbuf, "OTEL_EXPORTER_OTLP_HEADERS"));
    assert_non_null(strstr(logbuf, "OTEL_EXPORTER_OTLP_TIMEOUT"));
    assert_null(strstr(logbuf, "s3cr3t")); /* header values never reach the log */

    /* The per-signal endpoint is used as given; a bad protocol is named and ignored. */
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", http_url("/custom/path"), 1);
    setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "carrier-pigeon", 1);
    e = otelc_otlp_exporter_new(NULL);
    assert_non_null(e);
    assert_int_equal(export_n(e, 1, "env-span"), OTELC_EXPORT_SUCCESS);
    r = req(1);
    assert_non_null(strstr(r, "\"path\":\"/custom/path\""));
    assert_non_null(strstr(r, "\"content-type\":\"application/x-protobuf\""));
    assert_non_null(strstr(logbuf, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"));
    otelc_exporter_free(e);

    /* OTEL_TRACES_EXPORTER: otlp, and unset only with an endpoint configured. */
    otelc_processor *procs[4];
    setenv("OTEL_TRACES_EXPORTER", "otlp", 1);
    size_t n = otelc__processors_from_env(procs, 4);
    assert_int_equal(n, 1);
    otelc_processor_free(procs[0]);
    unsetenv("OTEL_TRACES_EXPORTER");
    n = otelc__processors_from_env(procs, 4);
    assert_int_equal(n, 1);
    otelc_processor_free(procs[0]);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    assert_int_equal(otelc__processors_from_env(procs, 4), 0);

    static const char *const vars[] = {
        "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TIMEOUT"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) unsetenv(vars[i]);
}

static void test_partial_success(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_stats before, after;
    otelc_stats_get(&before);
    cmd("{\"cmd\":\"script\",\"responses\":[{\"partial\":{\"rejected\":1,\"message\":\"too "
        "old\"}}]}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 3, "partial"), OTELC_EXPORT_SUCCESS);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.spans_rejected, 1);
    assert_int_equal(s.spans_ok, 2);
    assert_int_equal(s.spans_failed, 1);
    assert_int_equal(count(), 1); /* rejected spans are never retried */
    assert_non_null(strstr(logbuf, "too old"));
    otelc_stats_get(&after);
    assert_int_equal(after.spans_export_failed - before.spans_export_failed, 1);
    otelc_exporter_free(e);

    /* The same over http/json. */
    cmd("{\"cmd\":\"script\",\"responses\":[{\"partial\":{\"rejected\":2,\"message\":\"j\"}}]}");
    o = opts(OTELC_OTLP_HTTP_JSON);
    e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 3, "partial"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(stats_of(e).spans_rejected, 2);
    otelc_exporter_free(e);
}

static void test_http_gzip_headers_reuse(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    o.gzip = true;
    o.headers = "x-api-key=secret%20value , Authorization=Bearer%3Dabc";
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_non_null(e);
    assert_int_equal(export_n(e, 2, "span-alpha"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(export_n(e, 2, "span-beta"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 2);
    const char *r = req(0);
    assert_non_null(strstr(r, "\"path\":\"/v1/traces\""));
    assert_non_null(strstr(r, "\"content-type\":\"application/x-protobuf\""));
    assert_non_null(strstr(r, "\"content-encoding\":\"gzip\""));
    assert_non_null(strstr(r, "\"x-api-key\":\"secret value\""));
    assert_non_null(strstr(r, "\"authorization\":\"Bearer=abc\""));
    assert_non_null(strstr(r, "\"gzip_ok\":true"));
    assert_non_null(strstr(r, "span-alpha")); /* found in the gunzipped protobuf */
    assert_true(req_num(0, "decoded_len") > req_num(0, "len") / 2);
    assert_non_null(strstr(req(1), "span-beta"));
    /* One connection for both exports. */
    assert_int_equal(req_num(0, "port"), req_num(1, "port"));
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.requests, 2);
    assert_int_equal(s.exports_ok, 2);
    assert_int_equal(s.spans_ok, 4);
    otelc_exporter_free(e);
}

static void test_http_retries(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    /*
     * The reset comes first, on a fresh connection: on a reused one libcurl
     * itself re-sends once when the connection turns out dead, which would
     * show up here as an extra request.
     */
    cmd("{\"cmd\":\"script\",\"responses\":[{\"reset\":true},{\"status\":503},{\"status\":429},"
        "{\"status\":502},{\"status\":200}]}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "retried"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 5);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.requests, 5);
    assert_int_equal(s.retries, 4);
    /* max_attempts bounds a batch: 3 attempts, then the batch fails. */
    cmd("{\"cmd\":\"default\",\"response\":{\"status\":504}}");
    otelc_exporter_free(e);
    o.max_attempts = 3;
    e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "retried"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 8);
    otelc_exporter_free(e);
}

/*
 * Protobuf is encoded while libcurl sends it. A body larger than libcurl's
 * upload buffer, with one span larger than it too, arrives whole; and when
 * a reused connection turns out dead, libcurl rewinds the body and sends it
 * again on a new one, byte for byte, without our retry loop noticing.
 */
static void test_http_streamed_body_resent(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    enum { BLOB = 200000 };
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "opens-the-connection"), OTELC_EXPORT_SUCCESS);
    cmd("{\"cmd\":\"script\",\"responses\":[{\"reset\":true},{\"status\":200}]}");
    char *blob = malloc(BLOB + 1);
    memset(blob, 'b', BLOB);
    blob[BLOB] = '\0';
    release_kept();
    otelc_span *big = otelc_span_start(tracer, "big-span", OTELC_SPAN_CLIENT);
    otelc_span_set_str(big, "blob", blob);
    otelc_span_end(big);
    for (int i = 0; i < MAX_SPANS - 1; i++)
        otelc_span_end(otelc_span_start(tracer, "small-span", OTELC_SPAN_CLIENT));
    assert_int_equal(otelc_exporter_export(e, kept, nkept), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 3);
    long first = req_num(1, "len");
    assert_true(first > BLOB);
    assert_int_equal(req_num(2, "len"), first);
    assert_non_null(strstr(req(2), "big-span"));
    otelc_otlp_stats st = stats_of(e);
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.spans_ok, 1 + MAX_SPANS);
    free(blob);
    otelc_exporter_free(e);
}

static void test_http_no_retry_on_client_errors(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{\"status\":400},{\"status\":413},{\"status\":500}]}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "bad"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 1);
    assert_int_equal(export_n(e, 1, "bad"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 2);
    assert_int_equal(export_n(e, 1, "bad"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 3);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.retries, 0);
    assert_int_equal(s.exports_failed, 3);
    assert_int_equal(s.exports_refused, 3); /* none of them is worth sending again */
    assert_int_equal(s.breaker_opened, 0);  /* a reachable server does not trip the breaker */
    otelc_exporter_free(e);
}

static void test_http_retry_after(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"script\",\"responses\":[{\"status\":503,\"retry_after\":1},{}]}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    uint64_t t0 = otelc__mono_ms();
    assert_int_equal(export_n(e, 1, "later"), OTELC_EXPORT_SUCCESS);
    assert_true(otelc__mono_ms() - t0 >= 1000);
    assert_int_equal(count(), 2);
    /* The server saw the retry a second later (its clock, ms granularity). */
    assert_true(req_num(1, "t") - req_num(0, "t") >= 999);
    otelc_exporter_free(e);
}

static void test_http_timeout_stops_retries(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    /* A Retry-After beyond the export deadline: give up at once. */
    cmd("{\"cmd\":\"default\",\"response\":{\"status\":503,\"retry_after\":30}}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    o.timeout_ms = 2000;
    o.max_attempts = 100;
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "deadline"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 1);
    otelc_exporter_free(e);

    /* An answer slower than the timeout: the one attempt uses the whole budget. */
    cmd("{\"cmd\":\"reset\"}");
    cmd("{\"cmd\":\"default\",\"response\":{\"delay_ms\":4000}}");
    o.timeout_ms = 700;
    e = otelc_otlp_exporter_new(&o);
    uint64_t t0 = otelc__mono_ms();
    assert_int_equal(export_n(e, 1, "slow"), OTELC_EXPORT_FAILURE);
    assert_true(otelc__mono_ms() - t0 >= 700);
    assert_int_equal(count(), 1);
    assert_int_equal(stats_of(e).exports_failed, 1);
    assert_int_equal(stats_of(e).exports_refused, 0); /* a timeout is worth another try */
    otelc_exporter_free(e);
}

/* ---- OTLP/gRPC ------------------------------------------------------------------------------- */

static void test_grpc_export(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_GRPC);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_non_null(e);
    assert_int_equal(export_n(e, 2, "grpc-plain"), OTELC_EXPORT_SUCCESS);
    otelc_exporter_free(e);
    o.gzip = true;
    o.headers = "x-tenant=t%2F1";
    e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 2, "grpc-gzip"), OTELC_EXPORT_SUCCESS);
    otelc_exporter_free(e);

    const char *r = req(0);
    assert_non_null(
        strstr(r, "\"path\":\"/opentelemetry.proto.collector.trace.v1.TraceService/Export\""));
    assert_non_null(strstr(r, "\"version\":\"2.0\"")); /* HTTP/2 by prior knowledge */
    assert_non_null(strstr(r, "\"content-type\":\"application/grpc\""));
    assert_non_null(strstr(r, "\"te\":\"trailers\""));
    assert_non_null(strstr(r, "\"frame_ok\":true"));
    assert_non_null(strstr(r, "\"frame_flag\":0"));
    assert_non_null(strstr(r, "grpc-plain"));
    r = req(1);
    assert_non_null(strstr(r, "\"grpc-encoding\":\"gzip\""));
    assert_non_null(strstr(r, "\"frame_flag\":1"));
    assert_non_null(strstr(r, "\"gzip_ok\":true"));
    assert_non_null(strstr(r, "\"x-tenant\":\"t/1\""));
    assert_non_null(strstr(r, "grpc-gzip"));

    /* host:port without a scheme is plaintext only when insecure. */
    char ep[64];
    snprintf(ep, sizeof ep, "127.0.0.1:%d", srv.grpc_port);
    o = opts(OTELC_OTLP_GRPC);
    o.endpoint = ep;
    o.insecure = true;
    e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "grpc-insecure"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 3);
    otelc_exporter_free(e);
}

static void test_grpc_status_handling(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    /* UNAVAILABLE in trailers, then trailers-only, then OK with a partial success. */
    cmd("{\"cmd\":\"script\",\"responses\":[{\"grpc_status\":14,\"grpc_message\":\"down now\"},"
        "{\"grpc_status\":14,\"trailers_only\":true},"
        "{\"partial\":{\"rejected\":1,\"message\":\"dup\"}}]}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_GRPC);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 2, "grpc-retry"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 3);
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.retries, 2);
    assert_int_equal(s.spans_rejected, 1);

    /* RESOURCE_EXHAUSTED without RetryInfo is final. */
    cmd("{\"cmd\":\"script\",\"responses\":[{\"grpc_status\":8}]}");
    assert_int_equal(export_n(e, 1, "grpc-exhausted"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 4);

    /* With RetryInfo it is retried after the server's delay. */
    cmd("{\"cmd\":\"script\",\"responses\":[{\"grpc_status\":8,\"retry_delay_ms\":600},{}]}");
    uint64_t t0 = otelc__mono_ms();
    assert_int_equal(export_n(e, 1, "grpc-exhausted"), OTELC_EXPORT_SUCCESS);
    assert_true(otelc__mono_ms() - t0 >= 600);
    assert_int_equal(count(), 6);

    /* INVALID_ARGUMENT is not retried. */
    cmd("{\"cmd\":\"script\",\"responses\":[{\"grpc_status\":3,\"trailers_only\":true}]}");
    assert_int_equal(export_n(e, 1, "grpc-invalid"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 7);
    otelc_exporter_free(e);
}

/* ---- Circuit breaker, fallback, shutdown, the application's threads
 * ------------------------------ */

static void test_breaker_and_fallback(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_exporter *mem_exp;
    otelc_memory_exporter *mem = otelc_memory_exporter_new(&mem_exp);
    cmd("{\"cmd\":\"default\",\"response\":{\"status\":503}}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    o.max_attempts = 2;
    o.breaker_threshold = 2;
    o.breaker_cooldown_ms = 500;
    o.fallback = mem_exp;
    otelc_exporter *e = otelc_otlp_exporter_new(&o);

    assert_int_equal(export_n(e, 1, "fb"), OTELC_EXPORT_FAILURE);
    assert_int_equal(export_n(e, 2, "fb"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 4); /* two batches, two attempts each: now open */
    for (int i = 0; i < 3; i++) assert_int_equal(export_n(e, 1, "fb"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 4); /* open: no network at all */
    otelc_otlp_stats s = stats_of(e);
    assert_int_equal(s.breaker_opened, 1);
    assert_int_equal(s.breaker_skipped, 3);
    assert_int_equal(s.spans_breaker, 3); /* one span each */
    assert_int_equal(s.fallback_batches, 5);
    assert_int_equal(otelc_memory_exporter_count(mem), 6); /* every undelivered span */

    /* After the cool-down one probe goes out; it fails, and the wait doubles. */
    usleep(600 * 1000);
    assert_int_equal(export_n(e, 1, "fb"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 5); /* a probe is a single request */
    assert_int_equal(export_n(e, 1, "fb"), OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 5);

    /* The backend recovers: the next probe closes the circuit. */
    cmd("{\"cmd\":\"default\",\"response\":{}}");
    usleep(1100 * 1000);
    assert_int_equal(export_n(e, 1, "fb"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(export_n(e, 1, "fb"), OTELC_EXPORT_SUCCESS);
    assert_int_equal(count(), 7);
    assert_int_equal(otelc_memory_exporter_count(mem), 8); /* delivered spans stay out */
    otelc_exporter_free(e);
    otelc_memory_exporter_free(mem);
}

struct export_job {
    otelc_exporter *e;
    const otelc_span_data *const *spans;
    otelc_export_result r;
};

static void *export_thread(void *arg)
{
    struct export_job *j = arg;
    j->r = otelc_exporter_export(j->e, j->spans, 1);
    return NULL;
}

/* Shutdown from another thread cuts a long Retry-After wait short. */
static void test_shutdown_interrupts(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"default\",\"response\":{\"status\":503,\"retry_after\":50}}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    o.timeout_ms = 120000;
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    struct export_job j = {e, spans(1, "interrupted"), OTELC_EXPORT_SUCCESS};
    pthread_t t;
    pthread_create(&t, NULL, export_thread, &j);
    while (count() < 1) usleep(10 * 1000);
    e->ops->shutdown(e->self);
    pthread_join(t, NULL); /* returns long before the 50 s Retry-After */
    assert_int_equal(j.r, OTELC_EXPORT_FAILURE);
    assert_int_equal(count(), 1);
    otelc_exporter_free(e);
}

/*
 * A backend that never answers: the application keeps ending spans without
 * waiting; the batch queue fills and drops (counted). Each hung export
 * holds the worker for the 2 s timeout, so only a few batches can drain
 * while 500 spans end: whatever the machine's speed, most are dropped.
 */
static void test_app_never_blocks(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    cmd("{\"cmd\":\"default\",\"response\":{\"hang\":true}}");
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    o.timeout_ms = 2000;
    otelc_batch_options bo = {.max_queue_size = 16,
                              .schedule_delay_ms = 20,
                              .max_export_batch_size = 4,
                              .export_timeout_ms = 10000};
    otelc_processor *bp = otelc_batch_processor_new(otelc_otlp_exporter_new(&o), &bo);
    assert_non_null(bp);
    otelc_provider *p;
    otelc_provider_options po = {.no_env = true, .processors = &bp, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&po, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "blocked", NULL, NULL);
    for (int i = 0; i < 500; i++) otelc_span_end(otelc_span_start(t, "app", OTELC_SPAN_SERVER));
    otelc_stats st;
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_ended, 500);
    assert_true(st.spans_dropped > 0);

    /* Let the first export hang before the backend comes back. */
    while (count() < 1) usleep(10 * 1000);
    /* The backend comes back: what was queued drains, and every span is accounted for. */
    cmd("{\"cmd\":\"default\",\"response\":{}}");
    assert_int_equal(otelc_provider_shutdown(p, 10000), OTELC_OK);
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_dropped + st.spans_exported + st.spans_export_failed, 500);
    assert_true(st.spans_export_failed >= 4); /* at least the first hung batch */
    assert_true(count() >= 2);
    otelc_provider_free(p);
}

/* ---- fork() ------------------------------------------------------------------------------ */

/* A provider whose batch processor exports to a new exporter for proto. */
/* The fork tests' exporters: OTLP over each protocol, and Zipkin (the last). */
#define FORK_EXPORTERS 3

static otelc_exporter *fork_exporter(int k)
{
    if (k == FORK_EXPORTERS - 1) return otelc_zipkin_exporter_new(http_url("/api/v2/spans"), 10000);
    otelc_otlp_exporter_options o = opts(k == 0 ? OTELC_OTLP_HTTP_PROTOBUF : OTELC_OTLP_GRPC);
    return otelc_otlp_exporter_new(&o);
}

static otelc_provider *batch_provider(int k)
{
    otelc_batch_options bo = {.schedule_delay_ms = 10, .export_timeout_ms = 20000};
    otelc_processor *bp = otelc_batch_processor_new(fork_exporter(k), &bo);
    assert_non_null(bp);
    otelc_provider *p;
    otelc_provider_options po = {.no_env = true, .processors = &bp, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&po, &p), OTELC_OK);
    return p;
}

static void end_span(otelc_provider *p, const char *name)
{
    otelc_tracer *t = otelc_provider_tracer(p, "test.fork", NULL, NULL);
    otelc_span_end(otelc_span_start(t, name, OTELC_SPAN_INTERNAL));
}

/* The index of the request carrying the span called name, or -1. */
static int request_with(const char *name)
{
    for (int i = count() - 1; i >= 0; i--)
        if (strstr(req(i), name)) return i;
    return -1;
}

static otelc_provider *forking_provider;

#if defined(__SANITIZE_ADDRESS__)
#define TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_LSAN 1
#endif
#endif
#ifdef TEST_LSAN
int __lsan_do_recoverable_leak_check(void);
#endif

/*
 * In a fork child: 0 only when its span was delivered and, under
 * LeakSanitizer, what the child abandoned of the parent's is not reported
 * as a leak (it would be, in a host program's children, as otelc's).
 */
static int child_exports_a_span(void)
{
    end_span(forking_provider, "from-the-child");
    if (otelc_provider_force_flush(forking_provider, 15000) != OTELC_OK) return 1;
#ifdef TEST_LSAN
    if (__lsan_do_recoverable_leak_check()) return 2;
#endif
    return 0;
}

/*
 * The parent's exporter has its connection open when it forks. The child
 * must not send on it (the two processes' requests and responses would
 * interleave on one TCP stream): it opens its own, and the parent's keeps
 * working.
 */
static void test_fork_child_opens_its_own_connection(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    for (int k = 0; k < FORK_EXPORTERS; k++) {
        cmd("{\"cmd\":\"reset\"}");
        otelc_provider *p = batch_provider(k);
        end_span(p, "parent-before");
        assert_int_equal(otelc_provider_force_flush(p, 15000), OTELC_OK);
        forking_provider = p;
        assert_int_equal(run_in_fork_child(child_exports_a_span), 0);
        end_span(p, "parent-after");
        assert_int_equal(otelc_provider_force_flush(p, 15000), OTELC_OK);
        assert_int_equal(count(), 3);
        int before = request_with("parent-before"), child = request_with("from-the-child"),
            after = request_with("parent-after");
        assert_true(before >= 0 && child >= 0 && after >= 0);
        assert_int_not_equal(req_num(child, "port"), req_num(before, "port"));
        assert_int_equal(req_num(after, "port"), req_num(before, "port"));
        if (k == 1) assert_int_equal(connections(), 2); /* the parent's and the child's */
        otelc_provider_free(p);
    }
}

/*
 * The fork comes while the parent's worker waits for a slow answer: the
 * child's copy of the transfer must not wedge its exporter (libcurl would
 * refuse the half-used handle for good), and the parent's export completes.
 */
static void test_fork_during_an_export(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    for (int k = 0; k < FORK_EXPORTERS; k++) {
        cmd("{\"cmd\":\"reset\"}");
        cmd("{\"cmd\":\"script\",\"responses\":[{\"delay_ms\":1000}]}");
        otelc_provider *p = batch_provider(k);
        end_span(p, "parent-slow");
        while (count() < 1) usleep(10 * 1000); /* the worker now waits for the answer */
        forking_provider = p;
        assert_int_equal(run_in_fork_child(child_exports_a_span), 0);
        assert_int_equal(otelc_provider_force_flush(p, 15000), OTELC_OK);
        otelc_stats st;
        otelc_provider_stats(p, &st);
        assert_int_equal(st.spans_exported, 1);
        assert_int_equal(count(), 2);
        int slow = request_with("parent-slow"), child = request_with("from-the-child");
        assert_true(slow >= 0 && child >= 0);
        assert_int_not_equal(req_num(child, "port"), req_num(slow, "port"));
        otelc_provider_free(p);
    }
}

/*
 * A program the application starts with fork and exec must not inherit the
 * exporter's connection (it would hold it open, unseen, for its lifetime).
 * (libcurl's own internal socket pair, AF_UNIX, is out of our reach.)
 */
static void test_exporter_sockets_close_on_exec(void **state)
{
    (void)state;
    SKIP_WITHOUT_SERVER();
    otelc_otlp_exporter_options o = opts(OTELC_OTLP_HTTP_PROTOBUF);
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_int_equal(export_n(e, 1, "connected"), OTELC_EXPORT_SUCCESS);
    int sockets = 0;
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) continue;
        if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) continue;
        sockets++;
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    }
    assert_true(sockets >= 1); /* the kept-alive connection */
    otelc_exporter_free(e);
}

/*
 * otelc_otlp_exporter_new() leaves loading libcurl (5-25 ms with its TLS
 * libraries) to the batch worker, which does it as it starts, before any
 * batch is due: the application thread that creates the exporter never
 * waits for it. The first test of this program, so nothing has loaded
 * libcurl yet (this program does not link it).
 */
static void test_worker_loads_the_transport(void **state)
{
    (void)state;
    if (dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD)) skip(); /* loaded by someone else */
    otelc_otlp_exporter_options o = {.endpoint = "http://127.0.0.1:1/v1/traces"};
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    assert_non_null(e);
    assert_null(dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD));
    otelc_batch_options bo = {.schedule_delay_ms = 600000};
    otelc_processor *bp = otelc_batch_processor_new(e, &bo);
    assert_non_null(bp);
    otelc_provider *p;
    otelc_provider_options po = {.no_env = true, .processors = &bp, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&po, &p), OTELC_OK);
    end_span(p, "starts-the-worker");
    void *curl = NULL;
    for (int i = 0; i < 1000 && !curl; i++) {
        struct timespec ms10 = {0, 10 * 1000 * 1000};
        nanosleep(&ms10, NULL);
        curl = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_NOLOAD);
    }
    assert_non_null(curl); /* no batch was due: the worker's start-up loaded it */
    dlclose(curl);
    otelc_provider_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_loads_the_transport),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_retry_info_decode),
        cmocka_unit_test(test_verdicts_and_backoff),
        cmocka_unit_test(test_header_parse),
        cmocka_unit_test_setup(test_env_configuration, test_setup),
        cmocka_unit_test_setup(test_partial_success, test_setup),
        cmocka_unit_test_setup(test_http_gzip_headers_reuse, test_setup),
        cmocka_unit_test_setup(test_http_retries, test_setup),
        cmocka_unit_test_setup(test_http_streamed_body_resent, test_setup),
        cmocka_unit_test_setup(test_http_no_retry_on_client_errors, test_setup),
        cmocka_unit_test_setup(test_http_retry_after, test_setup),
        cmocka_unit_test_setup(test_http_timeout_stops_retries, test_setup),
        cmocka_unit_test_setup(test_grpc_export, test_setup),
        cmocka_unit_test_setup(test_grpc_status_handling, test_setup),
        cmocka_unit_test_setup(test_breaker_and_fallback, test_setup),
        cmocka_unit_test_setup(test_shutdown_interrupts, test_setup),
        cmocka_unit_test_setup(test_app_never_blocks, test_setup),
        cmocka_unit_test_setup(test_fork_child_opens_its_own_connection, test_setup),
        cmocka_unit_test_setup(test_fork_during_an_export, test_setup),
        cmocka_unit_test_setup(test_exporter_sockets_close_on_exec, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
