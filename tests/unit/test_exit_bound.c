/*
 * test_exit_bound.c - exit is bounded by OTELC_EXIT_TIMEOUT, not by the
 * export timeout, against a real backend that hangs: a TCP listener on
 * 127.0.0.1 that never accepts (the kernel completes the handshake, the
 * request sits unread, no answer ever comes).
 *
 * Times are asserted as upper bounds with a wide margin (the bound plus a
 * second), far below the 10 s export timeout the old exit waited for, so
 * a loaded machine cannot fail them and a regression cannot pass.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "export/otlp.h"
#include "internal.h"

static int hung_fd = -1;
static char hung_url[64];

/* A listener that is never accepted from: every export to it hangs. */
static int group_setup(void **state)
{
    (void)state;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    hung_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (hung_fd < 0 || bind(hung_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(hung_fd, 64) != 0 || getsockname(hung_fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    snprintf(hung_url, sizeof hung_url, "http://127.0.0.1:%d/v1/traces", ntohs(a.sin_port));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    close(hung_fd);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A provider exporting to the hung listener with a 10 s export timeout. */
static otelc_provider *hung_provider(bool no_env, otelc_exporter **exp)
{
    otelc_otlp_exporter_options o = {.endpoint = hung_url, .timeout_ms = 10000};
    *exp = otelc_otlp_exporter_new(&o);
    assert_non_null(*exp);
    otelc_batch_options bo = {.schedule_delay_ms = 10, .export_timeout_ms = 30000};
    otelc_processor *bp = otelc_batch_processor_new(*exp, &bo);
    assert_non_null(bp);
    otelc_provider_options po = {.no_env = no_env, .processors = &bp, .processor_count = 1};
    otelc_provider *p;
    assert_int_equal(otelc_provider_new(&po, &p), OTELC_OK);
    return p;
}

static void end_spans(otelc_provider *p, int n)
{
    otelc_tracer *t = otelc_provider_tracer(p, "test.exit", NULL, NULL);
    for (int i = 0; i < n; i++) otelc_span_end(otelc_span_start(t, "work", OTELC_SPAN_INTERNAL));
}

/* Wait until the worker's export is in flight: the abandoned case, not the queued one. */
static void wait_in_flight(otelc_exporter *exp)
{
    otelc_otlp_stats s;
    for (int i = 0; i < 500; i++) {
        assert_true(otelc__otlp_exporter_stats(exp, &s));
        if (s.requests > 0) break;
        usleep(10 * 1000);
    }
    assert_true(s.requests > 0);
}

/*
 * otelc_provider_shutdown(p, 300) against a hung backend returns in about
 * 300 ms: the transfer in flight is cut (not waited for), every span is
 * counted as failed, and the exporter says they were abandoned.
 */
static void test_shutdown_abandons_export_in_flight(void **state)
{
    (void)state;
    otelc_exporter *exp;
    otelc_provider *p = hung_provider(true, &exp);
    end_spans(p, 3);
    wait_in_flight(exp);
    uint64_t t0 = now_ms();
    assert_int_equal(otelc_provider_shutdown(p, 300), OTELC_ERR_TIMEOUT);
    uint64_t took = now_ms() - t0;
    assert_true(took >= 250);
    assert_true(took < 1300);
    otelc_stats st;
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_export_failed, 3);
    assert_int_equal(st.spans_exported, 0);
    otelc_otlp_stats s;
    assert_true(otelc__otlp_exporter_stats(exp, &s));
    assert_int_equal(s.spans_abandoned, 3);
    assert_int_equal(s.spans_failed, 3);
    t0 = now_ms();
    otelc_provider_free(p); /* the worker is already out of the export: no wait */
    assert_true(now_ms() - t0 < 1000);
}

/*
 * The exit path (freeing the provider, as otelc_shutdown() does) follows
 * OTELC_EXIT_TIMEOUT from the environment, and spans still queued behind
 * the hung export fail at once instead of each waiting its turn.
 */
static void test_exit_follows_env(void **state)
{
    (void)state;
    setenv("OTELC_EXIT_TIMEOUT", "200", 1);
    otelc_exporter *exp;
    otelc_provider *p = hung_provider(false, &exp);
    unsetenv("OTELC_EXIT_TIMEOUT");
    end_spans(p, 1);
    wait_in_flight(exp);
    end_spans(p, 5); /* queued behind the export in flight */
    uint64_t t0 = now_ms();
    otelc_provider_free(p);
    uint64_t took = now_ms() - t0;
    assert_true(took >= 150);
    assert_true(took < 1200);
}

/* Without a bound of its own (0), exit waits as long as the batch timeout allows, as before. */
static void test_exit_timeout_parse(void **state)
{
    (void)state;
    unsetenv("OTELC_EXIT_TIMEOUT");
    assert_int_equal(otelc__exit_timeout_from_env(), OTELC_DEFAULT_EXIT_TIMEOUT_MS);
    setenv("OTELC_EXIT_TIMEOUT", "2500", 1);
    assert_int_equal(otelc__exit_timeout_from_env(), 2500);
    setenv("OTELC_EXIT_TIMEOUT", "0", 1);
    assert_int_equal(otelc__exit_timeout_from_env(), UINT32_MAX);
    setenv("OTELC_EXIT_TIMEOUT", "soon", 1);
    assert_int_equal(otelc__exit_timeout_from_env(), OTELC_DEFAULT_EXIT_TIMEOUT_MS);
    unsetenv("OTELC_EXIT_TIMEOUT");
}

/* An exporter that ignores shutdown: its export waits until the test opens the gate. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_open, gate_entered, gate_left;

static otelc_export_result gated_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    (void)self, (void)spans, (void)n;
    pthread_mutex_lock(&gate_lock);
    gate_entered = true;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open) pthread_cond_wait(&gate_cond, &gate_lock);
    gate_left = true;
    pthread_mutex_unlock(&gate_lock);
    return OTELC_EXPORT_SUCCESS;
}

static bool gate_flag(const bool *flag)
{
    pthread_mutex_lock(&gate_lock);
    bool v = *flag;
    pthread_mutex_unlock(&gate_lock);
    return v;
}

static void wait_for(const bool *flag)
{
    for (int i = 0; i < 500 && !gate_flag(flag); i++) usleep(10000);
    assert_true(gate_flag(flag));
}

/*
 * A shutdown that gives up on an export which does not return even when cut
 * short counts its spans failed before it returns (a process about to exit
 * reads its counters then), and the export returning later counts nothing
 * again, whatever it says.
 */
static void test_abandoned_export_counted_by_shutdown(void **state)
{
    (void)state;
    static const otelc_exporter_ops ops = {.export_spans = gated_export};
    otelc_batch_options bo = {.schedule_delay_ms = 10};
    otelc_processor *bp = otelc_batch_processor_new(otelc_exporter_new(&ops, NULL), &bo);
    assert_non_null(bp);
    otelc_provider *p;
    otelc_provider_options o = {.no_env = true, .processors = &bp, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    end_spans(p, 4);
    wait_for(&gate_entered);
    assert_int_equal(otelc_provider_shutdown(p, 100), OTELC_ERR_TIMEOUT);
    otelc_stats st;
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_export_failed, 4);
    assert_int_equal(st.spans_exported, 0);
    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    wait_for(&gate_left);
    usleep(200000); /* the worker's return path */
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_export_failed, 4);
    assert_int_equal(st.spans_exported, 0);
    otelc_provider_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_timeout_parse),
        cmocka_unit_test(test_shutdown_abandons_export_in_flight),
        cmocka_unit_test(test_exit_follows_env),
        cmocka_unit_test(test_abandoned_export_counted_by_shutdown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
