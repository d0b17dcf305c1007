/*
 * test_cli_env.c - settings of the otelc command (src/config/cli_env.c):
 * durations, the export timeout cap, OTELC_* variables, the startup
 * trace's targets, and the startup trace itself (src/instrumentation/startup.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/cli_env.h"
#include "export/otlp.h"
#include "otelc/testing.h"

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t ms;
    } good[] = {{"500ms", 500}, {"2s", 2000},      {"30", 30000}, {"1.5s", 1500},
                {"5m", 300000}, {"24h", 86400000}, {"0", 0},      {"0.25", 250}};
    static const char *const bad[] = {"",    "s",   "-1s",  "1d",           "1 s", "ms5",
                                      "1e3", "nan", "1..2", "99999999999h", "5M"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        uint64_t ms = 12345;
        assert_true(otelc__parse_duration_ms(good[i].text, &ms));
        assert_int_equal(ms, good[i].ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t ms = 12345;
        assert_false(otelc__parse_duration_ms(bad[i], &ms));
        assert_int_equal(ms, 12345);
    }
    assert_false(otelc__parse_duration_ms(NULL, NULL));
}

static void test_export_cap(void **state)
{
    (void)state;
    otelc__export_timeout_cap_set(0);
    assert_int_equal(otelc__export_timeout_capped(0), 0);
    assert_int_equal(otelc__export_timeout_capped(30000), 30000);

    otelc__export_timeout_cap_set(2000);
    assert_int_equal(otelc__export_timeout_capped(0), 2000); /* "the default" is capped too */
    assert_int_equal(otelc__export_timeout_capped(500), 500);
    assert_int_equal(otelc__export_timeout_capped(30000), 2000);

    /* The batch processor and the OTLP exporter configured from the environment obey it. */
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "30000", 1);
    otelc_batch_options bo = {0};
    otelc__batch_options_from_env(&bo);
    assert_int_equal(bo.export_timeout_ms, 2000);
    unsetenv("OTEL_BSP_EXPORT_TIMEOUT");

    otelc_otlp_exporter_options oo = {0};
    otelc_otlp_env_storage st;
    otelc__otlp_options_from_env(&oo, &st);
    assert_int_equal(oo.timeout_ms, 2000);
    setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "700", 1);
    memset(&oo, 0, sizeof oo);
    otelc__otlp_options_from_env(&oo, &st);
    assert_int_equal(oo.timeout_ms, 700);
    unsetenv("OTEL_EXPORTER_OTLP_TIMEOUT");
    otelc__export_timeout_cap_set(0);
}

static void test_variables(void **state)
{
    (void)state;
    char dir[256];
    unsetenv("OTELC_CLI_EXPORT_TIMEOUT");
    assert_int_equal(otelc__cli_export_timeout_from_env(), 2000);
    setenv("OTELC_CLI_EXPORT_TIMEOUT", "150", 1);
    assert_int_equal(otelc__cli_export_timeout_from_env(), 150);
    unsetenv("OTELC_CLI_EXPORT_TIMEOUT");

    static const struct {
        const char *value;
        bool on;
    } startup[] = {{"1", true},      {"true", true}, {"TRUE", true}, {"0", false},
                   {"false", false}, {"yes", false}, {"", false}};
    for (size_t i = 0; i < sizeof startup / sizeof *startup; i++) {
        setenv("OTELC_TRACE_STARTUP", startup[i].value, 1);
        assert_int_equal(otelc__trace_startup_from_env(), startup[i].on);
    }
    unsetenv("OTELC_TRACE_STARTUP");
    assert_false(otelc__trace_startup_from_env());

    setenv("OTELC_SPAN_DIR", "/x/spans", 1);
    assert_true(otelc__span_dir_from_env(dir, sizeof dir));
    assert_string_equal(dir, "/x/spans");
    unsetenv("OTELC_SPAN_DIR");
    setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
    assert_true(otelc__span_dir_from_env(dir, sizeof dir));
    char want[64];
    snprintf(want, sizeof want, "/run/user/7/otelc-spans-%lu", (unsigned long)getuid());
    assert_string_equal(dir, want);
    assert_false(otelc__span_dir_from_env(dir, 8));

    unsetenv("OTELC_SPAN_TIMEOUT");
    assert_int_equal(otelc__span_timeout_from_env(), 24ull * 3600 * 1000);
    setenv("OTELC_SPAN_TIMEOUT", "90s", 1);
    assert_int_equal(otelc__span_timeout_from_env(), 90000);
    setenv("OTELC_SPAN_TIMEOUT", "soon", 1);
    assert_int_equal(otelc__span_timeout_from_env(), 24ull * 3600 * 1000);
    unsetenv("OTELC_SPAN_TIMEOUT");
}

static void test_startup_targets(void **state)
{
    (void)state;
    otelc_startup_target t[4];
    bool from_file;
    unsetenv("OTEL_CONFIG_FILE");
    unsetenv("OTEL_TRACES_EXPORTER");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    assert_int_equal(otelc__startup_targets_from_env(t, 4, &from_file), 0);
    assert_false(from_file);

    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", 1);
    assert_int_equal(otelc__startup_targets_from_env(t, 4, &from_file), 1);
    assert_string_equal(t[0].exporter, "otlp");
    assert_string_equal(t[0].where, "http://collector:4318/v1/traces");

    setenv("OTEL_TRACES_EXPORTER", " zipkin , FILE,console", 1);
    setenv("OTELC_FILE_PATH", "/tmp/t.jsonl", 1);
    assert_int_equal(otelc__startup_targets_from_env(t, 4, &from_file), 2);
    assert_string_equal(t[0].exporter, "zipkin");
    assert_string_equal(t[1].exporter, "file");
    assert_string_equal(t[1].where, "/tmp/t.jsonl");
    assert_int_equal(otelc__startup_targets_from_env(t, 1, &from_file), 1);

    setenv("OTEL_CONFIG_FILE", "/nonexistent.yaml", 1);
    assert_int_equal(otelc__startup_targets_from_env(t, 4, &from_file), 0);
    assert_true(from_file);
    unsetenv("OTEL_CONFIG_FILE");
    unsetenv("OTEL_TRACES_EXPORTER");
    unsetenv("OTELC_FILE_PATH");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
}

/* A provider created with OTELC_TRACE_STARTUP=1 reports its startup through its own processors. */
static void test_startup_trace(void **state)
{
    (void)state;
    otelc_exporter *exp;
    otelc_memory_exporter *m = otelc_memory_exporter_new(&exp);
    otelc_processor *proc = otelc_simple_processor_new(exp);
    otelc_provider_options o = {
        .processors = &proc, .processor_count = 1, .ignore_env_parent = true};
    otelc_provider *p;

    setenv("OTELC_TRACE_STARTUP", "1", 1);
    /* An OTLP endpoint on a port nobody listens on: the check reports it. */
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1", 1);
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    unsetenv("OTELC_TRACE_STARTUP");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");

    const otelc_span_data *root = otelc_testing_find(m, "startup");
    const otelc_span_data *config = otelc_testing_find(m, "configuration load");
    const otelc_span_data *res = otelc_testing_find(m, "resource detection");
    const otelc_span_data *check = otelc_testing_find(m, "exporter connectivity check");
    assert_non_null(root);
    assert_non_null(config);
    assert_non_null(res);
    assert_non_null(check);
    assert_false(root->has_parent);
    assert_true(otelc_testing_is_parent(root, config, NULL, 0));
    assert_true(otelc_testing_is_parent(root, res, NULL, 0));
    assert_true(otelc_testing_is_parent(root, check, NULL, 0));
    assert_true(config->start_ns == root->start_ns);
    assert_string_equal(otelc_testing_attr_str(config, "otelc.config.source"), "environment");
    assert_string_equal(otelc_testing_attr_str(check, "otelc.exporter"), "otlp");
    assert_string_equal(otelc_testing_attr_str(check, "server.address"), "127.0.0.1");
    const otelc_value *ok = otelc_span_data_attr(check, "otelc.startup.connect.ok");
    assert_non_null(ok);
    assert_false(ok->u.b);
    assert_int_equal(check->status, OTELC_STATUS_ERROR);
    otelc_provider_free(p);

    /* Never for a provider that ignores the environment. */
    otelc_memory_exporter *m2 = otelc_memory_exporter_new(&exp);
    proc = otelc_simple_processor_new(exp);
    otelc_provider_options quiet = {.no_env = true, .processors = &proc, .processor_count = 1};
    setenv("OTELC_TRACE_STARTUP", "1", 1);
    assert_int_equal(otelc_provider_new(&quiet, &p), OTELC_OK);
    unsetenv("OTELC_TRACE_STARTUP");
    assert_int_equal(otelc_memory_exporter_count(m2), 0);
    otelc_provider_free(p);
    otelc_memory_exporter_free(m2);
    otelc_memory_exporter_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),     cmocka_unit_test(test_export_cap),
        cmocka_unit_test(test_variables),     cmocka_unit_test(test_startup_targets),
        cmocka_unit_test(test_startup_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
