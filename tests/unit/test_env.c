/*
 * test_env.c - configuration from OTEL_* variables, the value parsers and
 * the diagnostic log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"
#include "fork_child.h"

/* ---- Captured diagnostics ------------------------------------------------ */

#define LOG_KEEP 64

static struct {
    int count;
    otelc_log_level level[LOG_KEEP];
    char text[LOG_KEEP][256];
} logs;

static void capture(otelc_log_level level, const char *message, void *user)
{
    (void)user;
    if (logs.count < LOG_KEEP) {
        logs.level[logs.count] = level;
        snprintf(logs.text[logs.count], sizeof logs.text[0], "%s", message);
    }
    logs.count++;
}

/* How many captured messages contain every one of the (NULL-terminated) words. */
static int logged(const char *word, ...)
{
    int hits = 0;
    for (int i = 0; i < logs.count && i < LOG_KEEP; i++) {
        va_list ap;
        va_start(ap, word);
        bool all = true;
        for (const char *w = word; w; w = va_arg(ap, const char *))
            if (!strstr(logs.text[i], w)) all = false;
        va_end(ap);
        hits += all;
    }
    return hits;
}

static const char *const vars[] = {
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_TRACES_EXPORTER",
    "OTELC_CONSOLE_FORMAT",
    "OTEL_LOG_LEVEL",
    "OTELC_TEST_BOOL",
    "OTELC_TEST_U32",
    "OTELC_TEST_DOUBLE",
};

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) unsetenv(vars[i]);
    memset(&logs, 0, sizeof logs);
    otelc_log_set_level(OTELC_LOG_DEBUG);
    otelc_log_set_handler(capture, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otelc_log_set_handler(NULL, NULL);
    otelc_log_set_level(OTELC_LOG_WARN);
    return 0;
}

/* ---- Parsers ------------------------------------------------------------------ */

static void test_parse_bool(void **state)
{
    (void)state;
    bool b = false;
    assert_true(otelc__parse_bool("true", &b) && b);
    assert_true(otelc__parse_bool("TRUE", &b) && b);
    assert_true(otelc__parse_bool("True", &b) && b);
    assert_true(otelc__parse_bool("false", &b) && !b);
    assert_true(otelc__parse_bool("FaLsE", &b) && !b);
    b = true;
    const char *bad[] = {"1", "yes", "on", "t", " true", "true ", "", "truex", NULL};
    for (int i = 0; bad[i]; i++) assert_false(otelc__parse_bool(bad[i], &b));
    assert_true(b); /* untouched by failures */
    assert_false(otelc__parse_bool(NULL, &b));
}

static void test_parse_u32(void **state)
{
    (void)state;
    uint32_t v = 7;
    assert_true(otelc__parse_u32("0", &v) && v == 0);
    assert_true(otelc__parse_u32("42", &v) && v == 42);
    assert_true(otelc__parse_u32(" 512 ", &v) && v == 512);
    assert_true(otelc__parse_u32("2147483647", &v) && v == 2147483647u);
    assert_true(otelc__parse_u32("4294967295", &v) && v == UINT32_MAX);
    v = 9;
    const char *bad[] = {"-1",  "+1",   "4294967296", "99999999999999999999",
                         "1e3", "0x10", "12abc",      "1 2",
                         "",    " ",    "1.5",        NULL};
    for (int i = 0; bad[i]; i++) assert_false(otelc__parse_u32(bad[i], &v));
    assert_int_equal(v, 9);
}

static void test_parse_double(void **state)
{
    (void)state;
    double d = -1;
    assert_true(otelc__parse_double("0.25", &d) && d == 0.25);
    assert_true(otelc__parse_double("1", &d) && d == 1.0);
    assert_true(otelc__parse_double(" .5 ", &d) && d == 0.5);
    assert_true(otelc__parse_double("1e-3", &d) && d == 0.001);
    assert_true(otelc__parse_double("-2", &d) && d == -2.0);
    d = 3;
    const char *bad[] = {"nan",  "inf",   "-infinity", "0x1p-2", "abc",     "",
                         "1.5x", "1e999", ".",         "e5",     "0.5 0.5", NULL};
    for (int i = 0; bad[i]; i++) assert_false(otelc__parse_double(bad[i], &d));
    assert_true(d == 3);
}

/* ---- Typed readers --------------------------------------------------------------- */

static void test_env_empty_is_unset(void **state)
{
    (void)state;
    setenv("OTELC_TEST_U32", "", 1);
    assert_null(otelc__env("OTELC_TEST_U32"));
    assert_int_equal(otelc__env_u32("OTELC_TEST_U32", 5), 5);
    assert_int_equal(logs.count, 0);
}

static void test_env_bool(void **state)
{
    (void)state;
    assert_true(otelc__env_bool("OTELC_TEST_BOOL", true));
    setenv("OTELC_TEST_BOOL", "TRUE", 1);
    assert_true(otelc__env_bool("OTELC_TEST_BOOL", false));
    setenv("OTELC_TEST_BOOL", "false", 1);
    assert_false(otelc__env_bool("OTELC_TEST_BOOL", true));
    assert_int_equal(logs.count, 0);

    setenv("OTELC_TEST_BOOL", "yes-please", 1);
    assert_false(otelc__env_bool("OTELC_TEST_BOOL", false));
    assert_true(otelc__env_bool("OTELC_TEST_BOOL", true));
    /* Reported once, naming the variable and the value. */
    assert_int_equal(logs.count, 1);
    assert_int_equal(logged("OTELC_TEST_BOOL", "yes-please", NULL), 1);
    assert_int_equal(logs.level[0], OTELC_LOG_WARN);
}

static void test_env_numbers(void **state)
{
    (void)state;
    setenv("OTELC_TEST_U32", "100", 1);
    assert_int_equal(otelc__env_u32("OTELC_TEST_U32", 1), 100);
    setenv("OTELC_TEST_U32", "-100", 1);
    assert_int_equal(otelc__env_u32("OTELC_TEST_U32", 1), 1);
    assert_int_equal(logged("OTELC_TEST_U32", "-100", NULL), 1);

    setenv("OTELC_TEST_DOUBLE", "0.125", 1);
    assert_true(otelc__env_double("OTELC_TEST_DOUBLE", 1.0) == 0.125);
    setenv("OTELC_TEST_DOUBLE", "half", 1);
    assert_true(otelc__env_double("OTELC_TEST_DOUBLE", 1.0) == 1.0);
    assert_int_equal(logged("OTELC_TEST_DOUBLE", "half", NULL), 1);
}

/* ---- Span limits --------------------------------------------------------------------- */

static void test_limits_defaults(void **state)
{
    (void)state;
    otelc_span_limits l;
    otelc__limits_from_env(&l);
    assert_int_equal(l.attribute_count, 128);
    assert_int_equal(l.attribute_value_length, OTELC_UNLIMITED);
    assert_int_equal(l.event_count, 128);
    assert_int_equal(l.link_count, 128);
    assert_int_equal(l.event_attribute_count, 128);
    assert_int_equal(l.link_attribute_count, 128);

    otelc_span_limits d;
    otelc_span_limits_default(&d);
    assert_memory_equal(&l, &d, sizeof l);
}

static void test_limits_overrides_and_fallbacks(void **state)
{
    (void)state;
    otelc_span_limits l;

    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "10", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64", 1);
    otelc__limits_from_env(&l);
    assert_int_equal(l.attribute_count, 10);
    assert_int_equal(l.attribute_value_length, 64);

    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "5", 1);
    setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32", 1);
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "3", 1);
    setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "0", 1);
    setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "4", 1);
    setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "6", 1);
    otelc__limits_from_env(&l);
    assert_int_equal(l.attribute_count, 5);
    assert_int_equal(l.attribute_value_length, 32);
    assert_int_equal(l.event_count, 3);
    assert_int_equal(l.link_count, 0);
    assert_int_equal(l.event_attribute_count, 4);
    assert_int_equal(l.link_attribute_count, 6);

    /* An invalid span-specific value falls back to the generic one. */
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots", 1);
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "-1", 1);
    otelc__limits_from_env(&l);
    assert_int_equal(l.attribute_count, 10);
    assert_int_equal(l.event_count, 128);
    assert_int_equal(logged("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots", NULL), 1);
    assert_int_equal(logged("OTEL_SPAN_EVENT_COUNT_LIMIT", NULL), 1);
}

/* ---- Batch options ---------------------------------------------------------------------- */

static void test_batch_defaults(void **state)
{
    (void)state;
    otelc_batch_options o = {0};
    otelc__batch_options_from_env(&o);
    assert_int_equal(o.max_queue_size, 2048);
    assert_int_equal(o.schedule_delay_ms, 5000);
    assert_int_equal(o.max_export_batch_size, 512);
    assert_int_equal(o.export_timeout_ms, 30000);
    assert_int_equal(logs.count, 0);
}

static void test_batch_env(void **state)
{
    (void)state;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
    setenv("OTEL_BSP_SCHEDULE_DELAY", "250", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50", 1);
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "0", 1);
    otelc_batch_options o = {0};
    otelc__batch_options_from_env(&o);
    assert_int_equal(o.max_queue_size, 100);
    assert_int_equal(o.schedule_delay_ms, 250);
    assert_int_equal(o.max_export_batch_size, 50);
    assert_int_equal(o.export_timeout_ms, UINT32_MAX); /* 0 = no limit */

    /* Fields already set by the caller win over the environment. */
    otelc_batch_options p = {.max_queue_size = 4096, .schedule_delay_ms = 1};
    otelc__batch_options_from_env(&p);
    assert_int_equal(p.max_queue_size, 4096);
    assert_int_equal(p.schedule_delay_ms, 1);
    assert_int_equal(p.max_export_batch_size, 50);
}

static void test_batch_invalid(void **state)
{
    (void)state;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "0", 1);
    setenv("OTEL_BSP_SCHEDULE_DELAY", "soon", 1);
    otelc_batch_options o = {0};
    otelc__batch_options_from_env(&o);
    assert_int_equal(o.max_queue_size, 2048);
    assert_int_equal(o.schedule_delay_ms, 5000);
    assert_int_equal(logged("OTEL_BSP_MAX_QUEUE_SIZE", NULL), 1);
    assert_int_equal(logged("OTEL_BSP_SCHEDULE_DELAY", "soon", NULL), 1);
}

static void test_batch_clamp(void **state)
{
    (void)state;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "128", 1);
    otelc_batch_options o = {0};
    otelc__batch_options_from_env(&o);
    assert_int_equal(o.max_queue_size, 64);
    assert_int_equal(o.max_export_batch_size, 64);
    assert_int_equal(logged("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", NULL), 1);
}

/* ---- Sampler ------------------------------------------------------------------------------ */

static void expect_sampler(const char *name, const char *arg, const char *description)
{
    if (name)
        setenv("OTEL_TRACES_SAMPLER", name, 1);
    else
        unsetenv("OTEL_TRACES_SAMPLER");
    if (arg)
        setenv("OTEL_TRACES_SAMPLER_ARG", arg, 1);
    else
        unsetenv("OTEL_TRACES_SAMPLER_ARG");
    otelc_sampler *s = otelc__sampler_from_env();
    assert_non_null(s);
    assert_string_equal(otelc_sampler_description(s), description);
    otelc_sampler_free(s);
}

#define PB(root)                                                                                   \
    "ParentBased{root=" root ",remoteParentSampled=AlwaysOnSampler,"                               \
    "remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOnSampler,"                  \
    "localParentNotSampled=AlwaysOffSampler}"

static void test_sampler_from_env(void **state)
{
    (void)state;
    expect_sampler(NULL, "0.5", PB("AlwaysOnSampler"));
    expect_sampler("parentbased_always_on", NULL, PB("AlwaysOnSampler"));
    expect_sampler("always_on", NULL, "AlwaysOnSampler");
    expect_sampler("always_off", NULL, "AlwaysOffSampler");
    expect_sampler("parentbased_always_off", NULL, PB("AlwaysOffSampler"));
    expect_sampler("traceidratio", NULL, "TraceIdRatioBased{1.000000}");
    expect_sampler("traceidratio", "0.25", "TraceIdRatioBased{0.250000}");
    expect_sampler("parentbased_traceidratio", "0.1", PB("TraceIdRatioBased{0.100000}"));
    expect_sampler("ratelimiting", "5", "RateLimitingSampler{5}");
    expect_sampler("parentbased_ratelimiting", "2.5", PB("RateLimitingSampler{2.5}"));
    expect_sampler("ratelimiting", NULL, "RateLimitingSampler{1}");
    assert_int_equal(logs.count, 0);
}

static void test_sampler_from_env_invalid(void **state)
{
    (void)state;
    expect_sampler("traceidratio", "1.5", "TraceIdRatioBased{1.000000}");
    assert_int_equal(logged("OTEL_TRACES_SAMPLER_ARG", "1.5", NULL), 1);
    expect_sampler("traceidratio", "abc", "TraceIdRatioBased{1.000000}");
    assert_int_equal(logged("OTEL_TRACES_SAMPLER_ARG", "abc", NULL), 1);
    expect_sampler("ratelimiting", "-3", "RateLimitingSampler{1}");
    assert_int_equal(logged("OTEL_TRACES_SAMPLER_ARG", "-3", NULL), 1);
    expect_sampler("sometimes", NULL, PB("AlwaysOnSampler"));
    assert_int_equal(logged("OTEL_TRACES_SAMPLER", "sometimes", NULL), 1);
}

/* ---- Exporters ----------------------------------------------------------------------------- */

static size_t processors_from(const char *value)
{
    if (value)
        setenv("OTEL_TRACES_EXPORTER", value, 1);
    else
        unsetenv("OTEL_TRACES_EXPORTER");
    otelc_processor *procs[8] = {0};
    size_t n = otelc__processors_from_env(procs, 8);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(procs[i]);
        otelc_processor_free(procs[i]);
    }
    return n;
}

static void test_processors_from_env(void **state)
{
    (void)state;
    assert_int_equal(processors_from(NULL), 0);
    assert_int_equal(logs.count, 0); /* unset: the default otlp is missing, quietly */
    assert_int_equal(processors_from("none"), 0);
    assert_int_equal(processors_from("console"), 1);
    assert_int_equal(processors_from("console-json"), 1);
    assert_int_equal(processors_from(" console , console-json "), 2);
    assert_int_equal(processors_from("console,console"), 1);
    setenv("OTELC_CONSOLE_FORMAT", "json", 1);
    assert_int_equal(processors_from("console"), 1);
    assert_int_equal(logs.count, 0);

    /* otlp exists in builds with libcurl (tested in test_otlp_export.c). */
    otelc_otlp_exporter_options probe = {.endpoint = "http://127.0.0.1:1/v1/traces"};
    otelc_exporter *otlp = otelc_otlp_exporter_new(&probe);
    bool have_otlp = otlp != NULL;
    otelc_exporter_free(otlp);
    if (have_otlp) {
        assert_int_equal(processors_from("otlp,console"), 2);
        assert_int_equal(processors_from("otlp"), 1);
        assert_int_equal(logged("otlp", NULL), 0);
    } else {
        assert_int_equal(processors_from("otlp,console"), 1);
        assert_int_equal(logged("exporter otlp is not available in this build", NULL), 1);
        assert_int_equal(processors_from("otlp"), 0);
        assert_int_equal(logged("otlp", NULL), 1); /* once */
    }
    /* zipkin needs libcurl too (tested in test_zipkin.c; file in test_file_exporter.c). */
    if (have_otlp) {
        assert_int_equal(processors_from("zipkin"), 1);
    } else {
        assert_int_equal(processors_from("zipkin"), 0);
        assert_int_equal(logged("exporter zipkin is not available", NULL), 1);
    }
    assert_int_equal(processors_from("carrier-pigeon"), 0);
    assert_int_equal(logged("OTEL_TRACES_EXPORTER", "carrier-pigeon", NULL), 1);
}

static void test_propagator_from_env(void **state)
{
    (void)state;
    otelc_propagator *p = otelc__propagator_from_env();
    assert_non_null(p);
    otelc_propagator_free(p);
}

/* ---- Log level and the diagnostic log ----------------------------------------------------- */

static void test_log_level_from_env(void **state)
{
    (void)state;
    assert_int_equal(otelc__log_level_from_env(), OTELC_LOG_WARN);
    setenv("OTEL_LOG_LEVEL", "debug", 1);
    assert_int_equal(otelc__log_level_from_env(), OTELC_LOG_DEBUG);
    setenv("OTEL_LOG_LEVEL", "ERROR", 1);
    assert_int_equal(otelc__log_level_from_env(), OTELC_LOG_ERROR);
    setenv("OTEL_LOG_LEVEL", "none", 1);
    assert_int_equal(otelc__log_level_from_env(), OTELC_LOG_NONE);
    setenv("OTEL_LOG_LEVEL", "info", 1);
    assert_int_equal(otelc__log_level_from_env(), OTELC_LOG_INFO);
    setenv("OTEL_LOG_LEVEL", "loud", 1);
    assert_int_equal(otelc__log_level_from_env(), OTELC_LOG_WARN);
    assert_int_equal(logged("OTEL_LOG_LEVEL", "loud", NULL), 1);
}

static void test_log_level_filter(void **state)
{
    (void)state;
    otelc_log_set_level(OTELC_LOG_WARN);
    otelc__log(OTELC_LOG_DEBUG, "debug %d", 1);
    otelc__log(OTELC_LOG_INFO, "info %d", 2);
    otelc__log(OTELC_LOG_WARN, "warn %d", 3);
    otelc__log(OTELC_LOG_ERROR, "error %d", 4);
    assert_int_equal(logs.count, 2);
    assert_string_equal(logs.text[0], "warn 3");
    assert_string_equal(logs.text[1], "error 4");

    /* An explicit level is not overridden by OTEL_LOG_LEVEL afterwards. */
    setenv("OTEL_LOG_LEVEL", "debug", 1);
    otelc__log_configure_from_env();
    otelc__log(OTELC_LOG_DEBUG, "still hidden");
    assert_int_equal(logs.count, 2);
    otelc_log_set_level(OTELC_LOG_NONE);
    otelc__log(OTELC_LOG_ERROR, "silenced");
    assert_int_equal(logs.count, 2);
}

static int64_t coarse_second(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec;
}

/* Start right after a second boundary so a burst cannot straddle one. */
static void wait_next_second(void)
{
    int64_t s = coarse_second();
    struct timespec nap = {0, 1000000};
    while (coarse_second() == s) nanosleep(&nap, NULL);
}

static void test_log_rate_limit(void **state)
{
    (void)state;
    wait_next_second();
    for (int i = 0; i < 25; i++) otelc__log(OTELC_LOG_WARN, "flood %d", i);
    otelc__log(OTELC_LOG_ERROR, "other level");
    assert_int_equal(logs.count, 11); /* ten warnings, and errors have their own budget */
    assert_string_equal(logs.text[9], "flood 9");
    assert_string_equal(logs.text[10], "other level");

    wait_next_second();
    otelc__log(OTELC_LOG_WARN, "after");
    assert_int_equal(logs.count, 13);
    assert_string_equal(logs.text[11], "15 messages suppressed");
    assert_string_equal(logs.text[12], "after");
}

/* A handler that logs again must not deadlock or recurse. */
static void reentrant(otelc_log_level level, const char *message, void *user)
{
    (void)level;
    (void)message;
    (*(int *)user)++;
    otelc__log(OTELC_LOG_ERROR, "from inside the handler");
}

static void test_log_reentrant_handler(void **state)
{
    (void)state;
    int calls = 0;
    otelc_log_set_handler(reentrant, &calls);
    otelc__log(OTELC_LOG_ERROR, "outer");
    assert_int_equal(calls, 1);
}

static void test_log_long_message(void **state)
{
    (void)state;
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    otelc__log(OTELC_LOG_WARN, "%s", big);
    assert_int_equal(logs.count, 1);
    assert_int_equal(strlen(logs.text[0]), sizeof logs.text[0] - 1);
}

/* ---- fork() while another thread is logging ---- */

static parked_thread logger;

static void holding_handler(otelc_log_level level, const char *message, void *user)
{
    (void)level, (void)message, (void)user;
    parked_here(&logger);
}

static void *log_slowly(void *arg)
{
    (void)arg;
    otelc__log(OTELC_LOG_ERROR, "held in the handler");
    return NULL;
}

static int child_logs(void)
{
    otelc__log(OTELC_LOG_ERROR, "from the child");
    return 0;
}

/*
 * The log's lock is held while a handler runs. A fork at that moment must
 * leave the child able to log (before the fix it waited forever).
 */
static void test_log_fork_while_a_handler_runs(void **state)
{
    (void)state;
    otelc__fork_handlers_install();
    otelc_log_set_handler(holding_handler, NULL);
    assert_true(park_thread(&logger, log_slowly, NULL));
    int child = run_in_fork_child(child_logs);
    release_thread(&logger);
    otelc_log_set_handler(capture, NULL);
    assert_int_equal(child, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_u32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_double, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_empty_is_unset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_overrides_and_fallbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_clamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampler_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampler_from_env_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_processors_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_propagator_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_reentrant_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_long_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_fork_while_a_handler_runs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
