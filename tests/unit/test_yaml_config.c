/*
 * test_yaml_config.c - the declarative configuration file: a full file
 * through OTEL_CONFIG_FILE and otelc_provider_new(), substitution and
 * typing, every validation message, disabled, and nothing started on an
 * invalid file.
 */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config_file.h"
#include "internal.h"

/* ---- Fixtures ---------------------------------------------------------------------------- */

static char tmpdir[64];

#define LOG_KEEP 64

static struct {
    int count;
    char text[LOG_KEEP][1024];
} logs;

static void capture(otelc_log_level level, const char *message, void *user)
{
    (void)level, (void)user;
    if (logs.count < LOG_KEEP) snprintf(logs.text[logs.count], sizeof logs.text[0], "%s", message);
    logs.count++;
}

static bool logged(const char *text)
{
    for (int i = 0; i < logs.count && i < LOG_KEEP; i++)
        if (strcmp(logs.text[i], text) == 0) return true;
    return false;
}

/* True when some captured message holds text (messages may hold several lines). */
static bool logged_within(const char *text)
{
    for (int i = 0; i < logs.count && i < LOG_KEEP; i++)
        if (strstr(logs.text[i], text)) return true;
    return false;
}

/* Write text to tmpdir/name and return the path (static storage). */
static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *test_env(const char *name, void *user)
{
    (void)user;
    if (strcmp(name, "RATIO") == 0) return "0.5";
    if (strcmp(name, "SERVICE") == 0) return "checkout";
    if (strcmp(name, "EMPTY") == 0) return "";
    if (strcmp(name, "TRUE") == 0) return "true";
    return NULL;
}

/* Parse text as "otel.yaml" with test_env; the caller frees fc. */
static int parse(const char *text, otelc_file_config *fc)
{
    return otelc__config_file_parse("otel.yaml", text, strlen(text), test_env, NULL, 0, fc);
}

/* The errors text must be exactly want (lines ending in '\n'). */
static void expect_errors(const char *text, const char *want)
{
    otelc_file_config fc;
    assert_int_equal(parse(text, &fc), OTELC_ERR_CONFIG);
    assert_non_null(fc.errors);
    assert_string_equal(fc.errors, want);
    /* Nothing was created. */
    assert_null(fc.options.sampler);
    assert_null(fc.options.resource);
    assert_null(fc.options.propagator);
    assert_int_equal(fc.options.processor_count, 0);
    otelc__config_file_free(&fc);
}

static void expect_warnings(const char *text, const char *want)
{
    otelc_file_config fc;
    int rc = parse(text, &fc);
    if (rc != OTELC_OK) fprintf(stderr, "%s", fc.errors);
    assert_int_equal(rc, OTELC_OK);
    assert_string_equal(fc.warnings ? fc.warnings : "", want);
    otelc__config_file_free(&fc);
}

static int setup(void **state)
{
    (void)state;
    unsetenv("OTEL_CONFIG_FILE");
    memset(&logs, 0, sizeof logs);
    otelc_log_set_handler(capture, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unsetenv("OTEL_CONFIG_FILE");
    unsetenv("OTEL_TRACES_SAMPLER");
    unsetenv("OTEL_SDK_DISABLED");
    unsetenv("OTELC_TEST_RATIO");
    unsetenv("TRACEPARENT");
    otelc_log_set_handler(NULL, NULL);
    return 0;
}

/* ---- A full file through the provider ---------------------------------------------------- */

static const char full_file[] =
    "# every supported section\n"
    "file_format: \"1.0\"\n"
    "disabled: false\n"
    "attribute_limits:\n"
    "  attribute_value_length_limit: 4096\n"
    "  attribute_count_limit: 64\n"
    "resource:\n"
    "  schema_url: https://opentelemetry.io/schemas/1.26.0\n"
    "  attributes_list: \"service.namespace=shop,service.version=1.0\"\n"
    "  attributes:\n"
    "    - name: service.name\n"
    "      value: ${env:OTELC_TEST_SERVICE:-checkout}\n"
    "    - {name: service.version, value: \"2.0\"}\n"
    "    - {name: replicas, value: 3, type: int}\n"
    "    - {name: canary, value: true, type: bool}\n"
    "    - {name: load, value: 0.75, type: double}\n"
    "    - {name: zones, value: [a, b], type: string_array}\n"
    "    - {name: ports, value: [80, 0x1bb], type: int_array}\n"
    "    - {name: price, value: \"5$$\"}\n"
    "propagator:\n"
    "  composite:\n"
    "    - tracecontext:\n"
    "    - b3:\n"
    "  composite_list: \"baggage, tracecontext\"\n"
    "tracer_provider:\n"
    "  limits:\n"
    "    attribute_count_limit: 32\n"
    "    event_count_limit: 10\n"
    "    link_count_limit: 5\n"
    "    event_attribute_count_limit: 4\n"
    "    link_attribute_count_limit: 3\n"
    "  sampler:\n"
    "    parent_based:\n"
    "      root:\n"
    "        trace_id_ratio_based:\n"
    "          ratio: ${OTELC_TEST_RATIO}\n"
    "      remote_parent_not_sampled:\n"
    "        always_on:\n"
    "  processors:\n"
    "    - simple:\n"
    "        exporter:\n"
    "          console:\n"
    "            format: json\n"
    "    - batch:\n"
    "        schedule_delay: 200\n"
    "        export_timeout: 0\n"
    "        max_queue_size: 100\n"
    "        max_export_batch_size: 10\n"
    "        exporter:\n"
    "          otlp_http:\n"
    "            endpoint: http://127.0.0.1:9/v1/traces\n"
    "            headers:\n"
    "              - {name: api-key, value: \"s3cret, really\"}\n"
    "            headers_list: \"api-key=ignored,x-tenant=a\"\n"
    "            compression: gzip\n"
    "            timeout: 100\n"
    "            encoding: json\n"
    "meter_provider:\n"
    "  readers: []\n";

static const char *attr_str(const otelc_resource *r, const char *key)
{
    const otelc_value *v = otelc_resource_get(r, key);
    assert_non_null(v);
    assert_int_equal(v->type, OTELC_VALUE_STRING);
    return v->u.str.ptr;
}

static void check_full_resource(const otelc_resource *r)
{
    assert_string_equal(attr_str(r, "service.name"), "checkout");
    /* attributes win over attributes_list. */
    assert_string_equal(attr_str(r, "service.version"), "2.0");
    assert_string_equal(attr_str(r, "service.namespace"), "shop");
    assert_string_equal(attr_str(r, "price"), "5$");
    assert_string_equal(attr_str(r, "telemetry.sdk.language"), "c");
    const otelc_value *v = otelc_resource_get(r, "replicas");
    assert_int_equal(v->type, OTELC_VALUE_INT);
    assert_int_equal(v->u.i, 3);
    v = otelc_resource_get(r, "canary");
    assert_int_equal(v->type, OTELC_VALUE_BOOL);
    assert_true(v->u.b);
    v = otelc_resource_get(r, "load");
    assert_int_equal(v->type, OTELC_VALUE_DOUBLE);
    assert_true(v->u.d == 0.75);
    v = otelc_resource_get(r, "zones");
    assert_int_equal(v->type, OTELC_VALUE_STRING_ARRAY);
    assert_int_equal(v->u.array.count, 2);
    assert_string_equal(((const char *const *)v->u.array.items)[1], "b");
    v = otelc_resource_get(r, "ports");
    assert_int_equal(v->type, OTELC_VALUE_INT_ARRAY);
    assert_int_equal(((const int64_t *)v->u.array.items)[1], 443);
}

static void check_full_propagation(const otelc_provider *p)
{
    static const uint8_t trace_id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t span_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    otelc_span_context sc = {.trace_flags = OTELC_TRACE_FLAG_SAMPLED};
    memcpy(sc.trace_id, trace_id, 16);
    memcpy(sc.span_id, span_id, 8);
    otelc_context *ctx = otelc_context_with_span_context(NULL, &sc);
    otelc_baggage *bg = otelc_baggage_set(NULL, "user", "42", NULL);
    otelc_context *with_bg = otelc_context_with_baggage(ctx, bg);
    otelc_headers h = {0};
    otelc_carrier carrier = otelc_headers_carrier(&h);
    otelc_propagator_inject(otelc_provider_propagator(p), with_bg, &carrier);
    assert_string_equal(otelc_headers_get(&h, "traceparent"),
                        "00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01");
    assert_string_equal(otelc_headers_get(&h, "b3"),
                        "0102030405060708090a0b0c0d0e0f10-0102030405060708-1");
    assert_string_equal(otelc_headers_get(&h, "baggage"), "user=42");
    assert_null(otelc_headers_get(&h, "uber-trace-id"));
    otelc_headers_clear(&h);
    otelc_context_release(with_bg);
    otelc_context_release(ctx);
    otelc_baggage_release(bg);
}

static void test_full_file(void **state)
{
    (void)state;
    setenv("OTEL_CONFIG_FILE", write_file("full.yaml", full_file), 1);
    setenv("OTELC_TEST_RATIO", "0.25", 1);
    /* Ignored: the file replaces the other OTEL_* variables. */
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    setenv("OTEL_SDK_DISABLED", "true", 1);
    /* Still followed: a context carrier, not configuration. */
    setenv("TRACEPARENT", "00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01", 1);

    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(NULL, &p), OTELC_OK);
    assert_false(otelc_provider_is_disabled(p));
    assert_string_equal(otelc_sampler_description(p->sampler),
                        "ParentBased{root=TraceIdRatioBased{0.250000},"
                        "remoteParentSampled=AlwaysOnSampler,"
                        "remoteParentNotSampled=AlwaysOnSampler,"
                        "localParentSampled=AlwaysOnSampler,"
                        "localParentNotSampled=AlwaysOffSampler}");
    assert_int_equal(p->limits.attribute_value_length, 4096);
    assert_int_equal(p->limits.attribute_count, 32);
    assert_int_equal(p->limits.event_count, 10);
    assert_int_equal(p->limits.link_count, 5);
    assert_int_equal(p->limits.event_attribute_count, 4);
    assert_int_equal(p->limits.link_attribute_count, 3);
    assert_int_equal(atomic_load(&p->processor_count), 2);
    check_full_resource(otelc_provider_resource(p));
    check_full_propagation(p);
    assert_non_null(p->env_parent);
    assert_int_equal(logs.count, 0);
    otelc_provider_free(p);
}

/* The documented example is valid as shipped, without warnings. */
static void test_example_file(void **state)
{
    (void)state;
    char path[512];
    const char *src = __FILE__;
    const char *end = strstr(src, "tests/unit/");
    assert_non_null(end);
    snprintf(path, sizeof path, "%.*sexamples/config/otel.yaml", (int)(end - src), src);
    otelc_file_config fc;
    int rc = otelc__config_file_load(path, test_env, NULL, OTELC_CONFIG_CHECK_ONLY, &fc);
    if (rc != OTELC_OK) fprintf(stderr, "%s", fc.errors);
    assert_int_equal(rc, OTELC_OK);
    assert_null(fc.warnings);
    assert_true(fc.has_log_level);
    assert_string_equal(otelc_sampler_description(fc.options.sampler),
                        "ParentBased{root=TraceIdRatioBased{0.250000},"
                        "remoteParentSampled=AlwaysOnSampler,"
                        "remoteParentNotSampled=AlwaysOffSampler,"
                        "localParentSampled=AlwaysOnSampler,"
                        "localParentNotSampled=AlwaysOffSampler}");
    assert_string_equal(attr_str(fc.options.resource, "service.name"), "checkout");
    otelc__config_file_free(&fc);
}

/* The caller's objects win over the file's; the file fills the rest. */
static void test_user_options_win(void **state)
{
    (void)state;
    setenv("OTEL_CONFIG_FILE", write_file("full.yaml", full_file), 1);
    setenv("OTELC_TEST_RATIO", "0.25", 1);
    otelc_span_limits limits;
    otelc_span_limits_default(&limits);
    limits.link_count = 7;
    otelc_provider_options o = {.sampler = otelc_sampler_always_off(), .limits = &limits};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    assert_string_equal(otelc_sampler_description(p->sampler), "AlwaysOffSampler");
    assert_int_equal(p->limits.link_count, 7);
    assert_int_equal(atomic_load(&p->processor_count), 2);
    otelc_provider_free(p);
}

static void test_minimal_file_defaults(void **state)
{
    (void)state;
    otelc_file_config fc;
    assert_int_equal(parse("file_format: 1.0\n"
                           "tracer_provider:\n"
                           "  processors:\n"
                           "    - simple: {exporter: {console: }}\n",
                           &fc),
                     OTELC_OK);
    assert_true(fc.options.no_env);
    assert_string_equal(
        otelc_sampler_description(fc.options.sampler),
        "ParentBased{root=AlwaysOnSampler,remoteParentSampled=AlwaysOnSampler,"
        "remoteParentNotSampled=AlwaysOffSampler,"
        "localParentSampled=AlwaysOnSampler,localParentNotSampled=AlwaysOffSampler}");
    assert_int_equal(fc.options.processor_count, 1);
    assert_int_equal(fc.limits.attribute_count, 128);
    assert_int_equal(fc.limits.attribute_value_length, OTELC_UNLIMITED);
    assert_non_null(otelc_resource_get(fc.options.resource, "service.name"));
    /* Without a propagator section the spec asks for a no-op propagator. */
    otelc_span_context sc = {.trace_id = {1}, .span_id = {1}};
    otelc_context *ctx = otelc_context_with_span_context(NULL, &sc);
    otelc_headers h = {0};
    otelc_carrier carrier = otelc_headers_carrier(&h);
    otelc_propagator_inject(fc.options.propagator, ctx, &carrier);
    assert_int_equal(h.count, 0);
    otelc_context_release(ctx);
    otelc__config_file_free(&fc);

    /* Checking only: the file is read, but no exporter or processor is created. */
    const char *text = "file_format: \"1.0\"\n"
                       "tracer_provider:\n  processors: [{batch: {exporter: {console: }}}]\n";
    assert_int_equal(otelc__config_file_parse("otel.yaml", text, strlen(text), NULL, NULL,
                                              OTELC_CONFIG_CHECK_ONLY, &fc),
                     OTELC_OK);
    assert_int_equal(fc.options.processor_count, 0);
    assert_non_null(fc.options.sampler);
    otelc__config_file_free(&fc);

    /* Without tracer_provider the provider records nothing. */
    assert_int_equal(parse("file_format: \"1.0-rc.2\"\n", &fc), OTELC_OK);
    assert_string_equal(otelc_sampler_description(fc.options.sampler), "AlwaysOffSampler");
    assert_int_equal(fc.options.processor_count, 0);
    otelc__config_file_free(&fc);
}

static void test_samplers(void **state)
{
    (void)state;
    static const struct {
        const char *yaml; /* the sampler mapping, indented by four */
        const char *description;
    } cases[] = {
        {"always_on:", "AlwaysOnSampler"},
        {"always_off: {}", "AlwaysOffSampler"},
        {"trace_id_ratio_based:", "TraceIdRatioBased{1.000000}"},
        {"trace_id_ratio_based: {ratio: 0}", "TraceIdRatioBased{0.000000}"},
        {"probability/development: {ratio: .5}", "TraceIdRatioBased{0.500000}"},
        {"trace_id_ratio_based:\n      ratio: ${RATIO}", "TraceIdRatioBased{0.500000}"},
        {"trace_id_ratio_based:\n      ratio: ${UNDEFINED}", "TraceIdRatioBased{1.000000}"},
        {"rate_limiting: {traces_per_second: 20}", "RateLimitingSampler{20}"},
        {"parent_based: {root: {always_off: }, local_parent_not_sampled: {always_on: }}",
         "ParentBased{root=AlwaysOffSampler,remoteParentSampled=AlwaysOnSampler,"
         "remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOnSampler,"
         "localParentNotSampled=AlwaysOnSampler}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "file_format: \"1.0\"\ntracer_provider:\n  processors: [{simple: {exporter: "
                 "{console: }}}]\n  sampler:\n    %s\n",
                 cases[i].yaml);
        otelc_file_config fc;
        int rc = parse(text, &fc);
        if (rc != OTELC_OK) fprintf(stderr, "%s", fc.errors);
        assert_int_equal(rc, OTELC_OK);
        assert_string_equal(otelc_sampler_description(fc.options.sampler), cases[i].description);
        otelc__config_file_free(&fc);
    }
}

/* ---- Substitution ------------------------------------------------------------------------ */

static void test_substitution(void **state)
{
    (void)state;
    otelc_file_config fc;
    assert_int_equal(parse("file_format: \"1.0\"\n"
                           "disabled: ${UNDEFINED}\n"
                           "resource:\n"
                           "  attributes:\n"
                           "    - {name: a, value: \"${SERVICE}\"}\n"
                           "    - name: b\n"
                           "      value: ${env:SERVICE}-x\n"
                           "    - {name: c, value: \"${UNDEFINED:-fallback}\"}\n"
                           "    - {name: d, value: \"$${SERVICE}\"}\n"
                           "    - {name: e, value: \"pre${UNDEFINED}post\"}\n"
                           "    - name: f\n"
                           "      value: ${TRUE}\n"
                           "      type: bool\n"
                           "    - {name: g, value: \"${EMPTY:-was empty}\"}\n"
                           "    - ${SERVICE}: not an attribute key\n"
                           "      name: checkout\n"
                           "      value: keys are not substituted\n",
                           &fc),
                     OTELC_OK);
    const otelc_resource *r = fc.options.resource;
    assert_string_equal(attr_str(r, "a"), "checkout");
    assert_string_equal(attr_str(r, "b"), "checkout-x");
    assert_string_equal(attr_str(r, "c"), "fallback");
    assert_string_equal(attr_str(r, "d"), "${SERVICE}");
    assert_string_equal(attr_str(r, "e"), "prepost");
    assert_true(otelc_resource_get(r, "f")->u.b);
    assert_string_equal(attr_str(r, "g"), "was empty");
    assert_string_equal(attr_str(r, "checkout"), "keys are not substituted");
    assert_string_equal(fc.warnings,
                        "otel.yaml:15: resource.attributes[7].${SERVICE}: unknown key, ignored\n");
    otelc__config_file_free(&fc);
}

static void test_substitution_errors(void **state)
{
    (void)state;
    /* Types are resolved after substitution: quoting makes a string. */
    expect_errors("file_format: \"1.0\"\n"
                  "tracer_provider:\n"
                  "  processors: [{simple: {exporter: {console: }}}]\n"
                  "  sampler:\n"
                  "    trace_id_ratio_based:\n"
                  "      ratio: \"${RATIO}\"\n",
                  "otel.yaml:6: tracer_provider.sampler.trace_id_ratio_based.ratio: expected a "
                  "number between 0 and 1, got \"0.5\"\n");
    expect_errors("file_format: \"1.0\"\n"
                  "resource:\n"
                  "  attributes:\n"
                  "    - name: x\n"
                  "      value: ${SERVICE:?required}\n",
                  "otel.yaml:5: invalid substitution reference \"${SERVICE:?required}\"\n");
}

/* ---- Validation messages ------------------------------------------------------------------- */

static void test_errors_tracer_provider(void **state)
{
    (void)state;
    expect_errors(
        "file_format: \"1.0\"\n"
        "tracer_provider:\n"
        "  processors:\n"
        "    - batch:\n"
        "        schedule_delay: -1\n"
        "        max_queue_size: 10\n"
        "        max_export_batch_size: 20\n"
        "        exporter:\n"
        "          otlp_http:\n"
        "            endpoint: localhost:4318\n"
        "            compression: zstd\n"
        "            encoding: xml\n"
        "            timeout: 1.5\n"
        "            tls: {ca_file: certs/ca.pem, key_file: /k.pem}\n"
        "            headers:\n"
        "              - {name: \"bad name\", value: x}\n"
        "              - {value: y}\n"
        "            headers_list: novalue\n"
        "    - simple:\n"
        "        exporter:\n"
        "          jaeger: {}\n"
        "    - simple: {}\n"
        "    - batch: {exporter: {console: }}\n"
        "      simple: {exporter: {console: }}\n"
        "    - custom: {}\n"
        "  sampler:\n"
        "    trace_id_ratio_based:\n"
        "      ratio: 1.5\n"
        "  limits:\n"
        "    event_count_limit: many\n",
        "otel.yaml:5: tracer_provider.processors[0].batch.schedule_delay: "
        "expected an integer from 0 to 4294967295, got -1\n"
        "otel.yaml:7: tracer_provider.processors[0].batch.max_export_batch_size: "
        "expected at most max_queue_size (10), got 20\n"
        "otel.yaml:10: tracer_provider.processors[0].batch.exporter.otlp_http.endpoint: "
        "expected an http:// or https:// URL, got localhost:4318\n"
        "otel.yaml:11: tracer_provider.processors[0].batch.exporter.otlp_http.compression: "
        "expected gzip or none, got zstd\n"
        "otel.yaml:12: tracer_provider.processors[0].batch.exporter.otlp_http.encoding: "
        "expected protobuf or json, got xml\n"
        "otel.yaml:13: tracer_provider.processors[0].batch.exporter.otlp_http.timeout: "
        "expected an integer from 0 to 4294967295, got 1.5\n"
        "otel.yaml:14: tracer_provider.processors[0].batch.exporter.otlp_http.tls.ca_file: "
        "expected an absolute path, got certs/ca.pem\n"
        "otel.yaml:14: tracer_provider.processors[0].batch.exporter.otlp_http.tls: "
        "key_file and cert_file must be given together\n"
        "otel.yaml:16: tracer_provider.processors[0].batch.exporter.otlp_http.headers[0].name: "
        "expected an HTTP header name, got \"bad name\"\n"
        "otel.yaml:17: tracer_provider.processors[0].batch.exporter.otlp_http.headers[1].name: "
        "required key is missing\n"
        "otel.yaml:18: tracer_provider.processors[0].batch.exporter.otlp_http.headers_list: "
        "expected name=value pairs separated by commas, got novalue\n"
        "otel.yaml:21: tracer_provider.processors[1].simple.exporter: "
        "unsupported exporter \"jaeger\"; expected otlp_http, otlp_grpc, zipkin, console, file "
        "or otlp_file/development\n"
        "otel.yaml:22: tracer_provider.processors[2].simple.exporter: required key is missing\n"
        "otel.yaml:23: tracer_provider.processors[3]: "
        "expected a mapping with exactly one processor, got 2 keys\n"
        "otel.yaml:25: tracer_provider.processors[4]: "
        "unsupported processor \"custom\"; expected batch or simple\n"
        "otel.yaml:28: tracer_provider.sampler.trace_id_ratio_based.ratio: "
        "expected a number between 0 and 1, got 1.5\n"
        "otel.yaml:30: tracer_provider.limits.event_count_limit: "
        "expected an integer from 0 to 4294967295, got many\n");
}

static void test_errors_top_level(void **state)
{
    (void)state;
    expect_errors("disabled: maybe\n"
                  "log_level: loud\n"
                  "attribute_limits: 5\n"
                  "tracer_provider:\n"
                  "  sampler: {always_on: , always_off: }\n",
                  "otel.yaml:1: file_format: required key is missing\n"
                  "otel.yaml:1: disabled: expected true or false, got maybe\n"
                  "otel.yaml:2: log_level: expected one of trace, debug, info, warn, error, fatal, "
                  "got loud\n"
                  "otel.yaml:3: attribute_limits: expected a mapping, got 5\n"
                  "otel.yaml:5: tracer_provider.processors: required key is missing\n"
                  "otel.yaml:5: tracer_provider.sampler: expected a mapping with exactly one "
                  "sampler, got 2 keys\n");
    expect_errors("file_format: \"0.3\"\n", "otel.yaml:1: file_format: unsupported file_format "
                                            "\"0.3\"; expected 1.0\n");
    expect_errors("file_format: \"1.0\"\nfile_format: \"1.0\"\n",
                  "otel.yaml:2: file_format: duplicate key\n");
    expect_errors("- a\n- b\n", "otel.yaml:1: expected a mapping at the top level (with "
                                "file_format)\n");
    expect_errors("", "otel.yaml: expected a mapping at the top level (with file_format)\n");
    expect_errors("file_format: \"1.0\"\ntracer_provider:\n  processors: []\n",
                  "otel.yaml:3: tracer_provider.processors: expected a non-empty sequence, got a "
                  "sequence\n");
}

static void test_errors_resource_and_propagator(void **state)
{
    (void)state;
    expect_errors("file_format: \"1.0\"\n"
                  "resource:\n"
                  "  attributes:\n"
                  "    - {name: a, value: x, type: int}\n"
                  "    - {name: b, value: [1, two], type: double_array}\n"
                  "    - {name: c, value: 1, type: float}\n"
                  "    - {value: 1}\n"
                  "    - {name: \"\", value: 1}\n"
                  "    - {name: d, value: {x: 1}}\n"
                  "  attributes_list: \"no-equals-sign\"\n"
                  "propagator:\n"
                  "  composite: [{tracecontext: }, {xray: }, ottrace]\n"
                  "  composite_list: \"b3, nope\"\n",
                  "otel.yaml:4: resource.attributes[0].value: expected an integer, got x\n"
                  "otel.yaml:5: resource.attributes[1].value[1]: expected a number, got two\n"
                  "otel.yaml:6: resource.attributes[2].type: expected one of string, bool, int, "
                  "double, string_array, bool_array, int_array, double_array, got float\n"
                  "otel.yaml:7: resource.attributes[3].name: required key is missing\n"
                  "otel.yaml:8: resource.attributes[4].name: expected a non-empty string, got "
                  "\"\"\n"
                  "otel.yaml:9: resource.attributes[5].value: expected a string, got a mapping\n"
                  "otel.yaml:10: resource.attributes_list: expected name=value pairs separated "
                  "by commas, got \"no-equals-sign\"\n"
                  "otel.yaml:12: propagator.composite[1]: unsupported propagator \"xray\"; "
                  "expected tracecontext, baggage, b3, b3multi, jaeger or none\n"
                  "otel.yaml:12: propagator.composite[2]: unsupported propagator \"ottrace\"; "
                  "expected tracecontext, baggage, b3, b3multi, jaeger or none\n"
                  "otel.yaml:13: propagator.composite_list: unsupported propagator \"nope\"; "
                  "expected tracecontext, baggage, b3, b3multi, jaeger or none\n");
}

static void test_errors_grpc_and_samplers(void **state)
{
    (void)state;
    expect_errors("file_format: \"1.0\"\n"
                  "tracer_provider:\n"
                  "  processors:\n"
                  "    - batch:\n"
                  "        exporter:\n"
                  "          otlp_grpc:\n"
                  "            endpoint: \"http:// bad\"\n"
                  "            tls: {insecure: 1}\n"
                  "  sampler:\n"
                  "    parent_based:\n"
                  "      root: {jaeger_remote/development: {}}\n"
                  "      remote_parent_sampled: {rate_limiting: {traces_per_second: 0}}\n"
                  "      local_parent_sampled: {rate_limiting: {}}\n",
                  "otel.yaml:7: tracer_provider.processors[0].batch.exporter.otlp_grpc.endpoint: "
                  "expected an http:// or https:// URL or host:port, got \"http:// bad\"\n"
                  "otel.yaml:8: tracer_provider.processors[0].batch.exporter.otlp_grpc.tls."
                  "insecure: expected true or false, got 1\n"
                  "otel.yaml:11: tracer_provider.sampler.parent_based.root: unsupported sampler "
                  "\"jaeger_remote/development\"; expected always_on, always_off, "
                  "trace_id_ratio_based, probability/development, parent_based or rate_limiting\n"
                  "otel.yaml:12: tracer_provider.sampler.parent_based.remote_parent_sampled."
                  "rate_limiting.traces_per_second: expected a number above 0, got 0\n"
                  "otel.yaml:13: tracer_provider.sampler.parent_based.local_parent_sampled."
                  "rate_limiting.traces_per_second: required key is missing\n");
}

static void test_syntax_and_structure_errors(void **state)
{
    (void)state;
    expect_errors("file_format: \"1.0\"\nresource: [a, b\n",
                  "otel.yaml:3: YAML syntax error: did not find expected ',' or ']' (while "
                  "parsing a flow sequence at line 2)\n");
    expect_errors("file_format: \"1.0\"\nresource: *nowhere\n",
                  "otel.yaml:2: undefined alias \"nowhere\"\n");
    expect_errors("file_format: \"1.0\"\n---\nfile_format: \"1.0\"\n",
                  "otel.yaml:2: expected a single YAML document\n");
    expect_errors("file_format: \"1.0\"\n? [a]\n: b\n",
                  "otel.yaml:2: mapping keys must be scalars\n");

    /* A document that nests too deeply, and one whose aliases expand too far. */
    char deep[400] = "file_format: \"1.0\"\nx: ";
    for (int i = 0; i < 70; i++) strcat(deep, "[");
    expect_errors(deep, "otel.yaml:2: nesting deeper than 64 levels\n");
    char bomb[2048] = "file_format: \"1.0\"\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 8; i++) {
        char line[128];
        snprintf(line, sizeof line, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
                 i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
        strcat(bomb, line);
    }
    expect_errors(bomb, "otel.yaml:7: the document expands to more than 100000 nodes\n");

    /* Bounded while parsing as well: a long flat list, and too many anchors. */
    char *flat = malloc(8 * 120000), *p = flat;
    assert_non_null(flat);
    p += sprintf(p, "file_format: \"1.0\"\nx: [1");
    for (int i = 1; i < 110000; i++) p += sprintf(p, ", 1");
    strcpy(p, "]\n");
    expect_errors(flat, "otel.yaml:2: the document expands to more than 100000 nodes\n");
    p = flat + sprintf(flat, "file_format: \"1.0\"\nx:\n");
    for (int i = 0; i < 1001; i++) p += sprintf(p, "  - &a%d x\n", i);
    expect_errors(flat, "otel.yaml:1003: more than 1000 anchors\n");
    free(flat);
}

static void test_unknown_keys_warn(void **state)
{
    (void)state;
    expect_warnings("file_format: \"1.1\"\n"
                    "custom_top: 1\n"
                    "logger_provider: {processors: []}\n"
                    "tracer_provider:\n"
                    "  processors:\n"
                    "    - batch:\n"
                    "        schedul_delay: 5\n"
                    "        exporter: {console: {colour: red}}\n"
                    "  tracer_configurator/development: {}\n",
                    "otel.yaml:1: file_format: file_format 1.1 is newer than 1.0; keys otelc does "
                    "not know are ignored\n"
                    "otel.yaml:2: custom_top: unknown key, ignored\n"
                    "otel.yaml:7: tracer_provider.processors[0].batch.schedul_delay: unknown key, "
                    "ignored\n"
                    "otel.yaml:8: tracer_provider.processors[0].batch.exporter.console.colour: "
                    "unknown key, ignored\n"
                    "otel.yaml:9: tracer_provider.tracer_configurator/development: unknown key, "
                    "ignored\n");

    otelc_file_config fc;
    const char *text = "file_format: \"1.0\"\n";
    assert_int_equal(otelc__config_file_parse("otel.json", text, strlen(text), NULL, NULL, 0, &fc),
                     OTELC_OK);
    assert_string_equal(fc.warnings, "otel.json: configuration files should be named *.yaml or "
                                     "*.yml\n");
    otelc__config_file_free(&fc);
}

static void test_aliases_and_older_names(void **state)
{
    (void)state;
    otelc_file_config fc;
    int rc = parse("file_format: \"1.0-rc.1\"\n"
                   "defs:\n"
                   "  exporter: &exp {otlp_grpc: {endpoint: \"collector:4317\", "
                   "tls: {certificate_file: /ca.pem, insecure: true}}}\n"
                   "tracer_provider:\n"
                   "  processors:\n"
                   "    - batch: {exporter: *exp}\n"
                   "    - batch: {exporter: *exp}\n",
                   &fc);
    if (rc != OTELC_OK) fprintf(stderr, "%s", fc.errors);
    assert_int_equal(rc, OTELC_OK);
    assert_int_equal(fc.options.processor_count, 2);
    assert_string_equal(fc.warnings, "otel.yaml:2: defs: unknown key, ignored\n");
    otelc__config_file_free(&fc);
}

/* The file exporter, configured from the file, receives the spans. */
static void test_file_exporter_receives_spans(void **state)
{
    (void)state;
    char text[512], out_path[128];
    snprintf(out_path, sizeof out_path, "%s/spans.jsonl", tmpdir);
    snprintf(text, sizeof text,
             "file_format: \"1.0\"\n"
             "tracer_provider:\n"
             "  processors:\n"
             "    - simple:\n"
             "        exporter:\n"
             "          file: {path: %s, max_bytes: 1000000, keep: 2}\n"
             "    - batch:\n"
             "        exporter:\n"
             "          zipkin: {endpoint: \"http://127.0.0.1:9/api/v2/spans\", timeout: 50}\n",
             out_path);
    setenv("OTEL_CONFIG_FILE", write_file("file.yaml", text), 1);
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(NULL, &p), OTELC_OK);
    assert_int_equal(atomic_load(&p->processor_count), 2);
    otelc_tracer *t = otelc_provider_tracer(p, "test", NULL, NULL);
    otelc_span_end(otelc_span_start(t, "configured-by-file", OTELC_SPAN_INTERNAL));
    otelc_provider_free(p);

    FILE *f = fopen(out_path, "r");
    assert_non_null(f);
    char line[8192] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "\"configured-by-file\""));
}

static void test_errors_zipkin_and_file(void **state)
{
    (void)state;
    expect_errors(
        "file_format: \"1.0\"\n"
        "tracer_provider:\n"
        "  processors:\n"
        "    - batch: {exporter: {zipkin: {endpoint: ftp://x, timeout: -1}}}\n"
        "    - simple: {exporter: {file: {path: \"\", max_bytes: -1, keep: x}}}\n"
        "    - simple: {exporter: {otlp_file/development: {output_stream: "
        "\"file://rel/x\"}}}\n",
        "otel.yaml:4: tracer_provider.processors[0].batch.exporter.zipkin.endpoint: "
        "expected an http:// or https:// URL, got ftp://x\n"
        "otel.yaml:4: tracer_provider.processors[0].batch.exporter.zipkin.timeout: "
        "expected an integer from 0 to 4294967295, got -1\n"
        "otel.yaml:5: tracer_provider.processors[1].simple.exporter.file.path: expected a "
        "file name, got \"\"\n"
        "otel.yaml:5: tracer_provider.processors[1].simple.exporter.file.max_bytes: "
        "expected a non-negative integer, got -1\n"
        "otel.yaml:5: tracer_provider.processors[1].simple.exporter.file.keep: expected "
        "an integer from 0 to 4294967295, got x\n"
        "otel.yaml:6: tracer_provider.processors[2].simple.exporter.otlp_file/"
        "development.output_stream: expected stdout or a file:// URL with an absolute "
        "path, got \"file://rel/x\"\n");
}

/* ---- What the OTLP/HTTP exporter sends ------------------------------------------------ */

/* A loopback HTTP receiver for one request; keeps the request head. */
typedef struct receiver {
    int fd;
    int port;
    pthread_t thread;
    char head[4096];
} receiver;

/* The request's Content-Length once its head is complete, else -1. */
static long body_length(const char *buf)
{
    const char *h = strcasestr(buf, "\r\ncontent-length:");
    return strstr(buf, "\r\n\r\n") && h ? strtol(h + 17, NULL, 10) : -1;
}

static void *receive_one(void *arg)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    static char buf[1 << 16];
    receiver *rv = arg;
    int c = accept(rv->fd, NULL, NULL);
    struct timeval limit = {.tv_sec = 10};
    if (c >= 0) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    size_t n = 0;
    bool continued = false;
    while (c >= 0 && n < sizeof buf - 1) {
        ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
        if (r <= 0) break;
        buf[n += (size_t)r] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        long len = body_length(buf);
        if (end && !continued && strcasestr(buf, "100-continue")) {
            continued = write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 25;
        }
        if (end && len >= 0 && n >= (size_t)(end - buf) + 4 + (size_t)len) {
            snprintf(rv->head, sizeof rv->head, "%.*s", (int)(end - buf), buf);
            break;
        }
    }
    if (c >= 0 && write(c, ok, sizeof ok - 1) < 0) rv->head[0] = '\0';
    if (c >= 0) close(c);
    return NULL;
}

static void receiver_start(receiver *rv)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    memset(rv, 0, sizeof *rv);
    rv->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rv->fd >= 0);
    assert_int_equal(bind(rv->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(rv->fd, 4), 0);
    /* accept() and read() give up rather than hang the test if nothing comes. */
    struct timeval limit = {.tv_sec = 10};
    assert_int_equal(setsockopt(rv->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    assert_int_equal(getsockname(rv->fd, (struct sockaddr *)&a, &len), 0);
    rv->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&rv->thread, NULL, receive_one, rv), 0);
}

/* Headers from headers and headers_list, the encoding and compression reach the wire. */
static void test_otlp_http_request(void **state)
{
    (void)state;
    otelc_exporter *probe = otelc_otlp_exporter_new(&(otelc_otlp_exporter_options){0});
    if (!probe) skip(); /* a build without libcurl */
    otelc_exporter_free(probe);

    receiver rv;
    receiver_start(&rv);
    char text[1024];
    snprintf(text, sizeof text,
             "file_format: \"1.0\"\n"
             "tracer_provider:\n"
             "  processors:\n"
             "    - simple:\n"
             "        exporter:\n"
             "          otlp_http:\n"
             "            endpoint: http://127.0.0.1:%d/custom/path\n"
             "            encoding: json\n"
             "            compression: gzip\n"
             "            headers:\n"
             "              - {name: Api-Key, value: \"s3cret, 100%%\"}\n"
             "              - {name: x-dropped, value: }\n"
             "            headers_list: \"api-key=from-list, x-tenant = acme\"\n",
             rv.port);
    setenv("OTEL_CONFIG_FILE", write_file("otlp.yaml", text), 1);
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(NULL, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "test", NULL, NULL);
    otelc_span_end(otelc_span_start(t, "sent", OTELC_SPAN_INTERNAL));
    otelc_provider_free(p);
    pthread_join(rv.thread, NULL);
    close(rv.fd);

    assert_non_null(strstr(rv.head, "POST /custom/path HTTP/1.1\r\n"));
    assert_non_null(strcasestr(rv.head, "\r\nContent-Type: application/json"));
    assert_non_null(strcasestr(rv.head, "\r\nContent-Encoding: gzip"));
    assert_non_null(strcasestr(rv.head, "\r\nApi-Key: s3cret, 100%\r\n"));
    assert_non_null(strcasestr(rv.head, "\r\nx-tenant: acme\r\n"));
    assert_null(strcasestr(rv.head, "from-list"));
    assert_null(strcasestr(rv.head, "x-dropped"));
}

/* ---- disabled, and invalid files through the provider --------------------------------------- */

static void test_disabled(void **state)
{
    (void)state;
    const char *text = "file_format: \"1.0\"\n"
                       "disabled: true\n"
                       "tracer_provider:\n"
                       "  processors: [{batch: {exporter: {console: }}}]\n";
    otelc_file_config fc;
    assert_int_equal(parse(text, &fc), OTELC_OK);
    assert_true(fc.disabled);
    assert_null(fc.options.sampler);
    assert_int_equal(fc.options.processor_count, 0);
    otelc__config_file_free(&fc);

    setenv("OTEL_CONFIG_FILE", write_file("disabled.yml", text), 1);
    otelc_provider *p = NULL;
    otelc_provider_options o = {.sampler = otelc_sampler_always_on()};
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    assert_true(otelc_provider_is_disabled(p));
    otelc_provider_free(p);

    /* A disabled file must still be valid. */
    expect_errors("file_format: \"1.0\"\ndisabled: true\ntracer_provider: {}\n",
                  "otel.yaml:3: tracer_provider.processors: required key is missing\n");
}

static void test_invalid_file_starts_nothing(void **state)
{
    (void)state;
    setenv("OTEL_CONFIG_FILE",
           write_file("bad.yaml", "file_format: \"1.0\"\n"
                                  "tracer_provider:\n"
                                  "  processors: [{simple: {exporter: {console: }}}]\n"
                                  "  sampler: {trace_id_ratio_based: {ratio: 2}}\n"
                                  "  limits: {link_count_limit: -5}\n"),
           1);
    otelc_provider_options o = {.sampler = otelc_sampler_always_on()};
    assert_int_equal(otelc_init(&o), OTELC_ERR_CONFIG);
    assert_null(otelc_provider_global());
    char line[512];
    snprintf(line, sizeof line,
             "%s/bad.yaml:5: tracer_provider.limits.link_count_limit: expected an integer from 0 "
             "to 4294967295, got -5",
             tmpdir);
    assert_true(logged(line));
    snprintf(line, sizeof line,
             "%s/bad.yaml:4: tracer_provider.sampler.trace_id_ratio_based.ratio: expected a "
             "number between 0 and 1, got 2",
             tmpdir);
    assert_true(logged(line));
    snprintf(line, sizeof line, "OTEL_CONFIG_FILE=%s/bad.yaml is invalid; the SDK was not started",
             tmpdir);
    assert_true(logged(line));
    assert_int_equal(logs.count, 3);

    otelc_provider *p = NULL;
    setenv("OTEL_CONFIG_FILE", "/nonexistent/otel.yaml", 1);
    assert_int_equal(otelc_provider_new(NULL, &p), OTELC_ERR_CONFIG);
    assert_null(p);
    assert_true(logged("/nonexistent/otel.yaml: cannot open: No such file or directory"));

    /* Many errors: grouped so that the log's rate limit drops none. */
    char text[2048] = "file_format: \"1.0\"\nresource:\n  attributes:\n";
    for (int i = 0; i < 12; i++) {
        char entry[64];
        snprintf(entry, sizeof entry, "    - {name: a%d, value: x, type: int}\n", i);
        strcat(text, entry);
    }
    setenv("OTEL_CONFIG_FILE", write_file("many.yaml", text), 1);
    memset(&logs, 0, sizeof logs);
    assert_int_equal(otelc_provider_new(NULL, &p), OTELC_ERR_CONFIG);
    for (int i = 0; i < 12; i++) {
        snprintf(line, sizeof line,
                 "%s/many.yaml:%d: resource.attributes[%d].value: expected an integer, got x",
                 tmpdir, i + 4, i);
        assert_true(logged_within(line));
    }
    assert_true(logs.count <= 4);
}

/* A build without libyaml: the file is refused, saying why. */
static void test_without_libyaml(void **state)
{
    (void)state;
    otelc_file_config fc;
    assert_int_equal(parse("file_format: \"1.0\"\n", &fc), OTELC_ERR_UNSUPPORTED);
    assert_string_equal(fc.errors,
                        "otel.yaml: this build of otelc has no YAML support (libyaml)\n");
    otelc__config_file_free(&fc);
}

static bool have_yaml(void)
{
    otelc_file_config fc;
    int rc = parse("file_format: \"1.0\"\n", &fc);
    otelc__config_file_free(&fc);
    return rc != OTELC_ERR_UNSUPPORTED;
}

int main(void)
{
    if (!have_yaml()) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_without_libyaml)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/otelc-yaml-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_options_win, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimal_file_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_samplers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_substitution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_substitution_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_tracer_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_top_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_resource_and_propagator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_grpc_and_samplers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_and_structure_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_warn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases_and_older_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_exporter_receives_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_http_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_zipkin_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_file_starts_nothing, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) failed++;
    return failed;
}
