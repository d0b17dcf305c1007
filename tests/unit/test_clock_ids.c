/*
 * test_clock_ids.c - the fast Unix clock and trace/span id generation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define MS 1000000LL

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* otelc's clock sits between two CLOCK_REALTIME readings, give or take 5 ms. */
static void assert_close_to_realtime(void)
{
    int64_t before = realtime_ns();
    int64_t now = (int64_t)otelc__now_ns();
    int64_t after = realtime_ns();
    if (now < before - 5 * MS || now > after + 5 * MS)
        fail_msg("clock off by %lld ns", (long long)(now < before ? before - now : now - after));
}

/* ---- Clock ------------------------------------------------------------------ */

static void test_clock_lazy_init_and_accuracy(void **state)
{
    (void)state;
    /* No otelc__clock_init() first: the clock initialises itself. */
    assert_close_to_realtime();
    otelc__clock_init();
    otelc__clock_init(); /* again: a recalibration, harmless */
    for (int i = 0; i < 100; i++) assert_close_to_realtime();
}

static int clock_mode(void)
{
    return atomic_load(&otelc__clock.mode);
}

/*
 * Set-up never waits for the TSC's calibration: the clock answers with
 * CLOCK_REALTIME until its window has passed, then the next reading
 * switches to the TSC without going back in time. The first test of this
 * program, so the clock is not set up yet. A reading 1 ms after set-up
 * should switch; a sleep can end early and a loaded machine or a sanitizer
 * delays everything, so the test reads on until the switch, for up to two
 * seconds.
 */
static void test_clock_calibrates_in_passing(void **state)
{
    (void)state;
    assert_int_equal(clock_mode(), OTELC_CLOCK_UNSET);
    int64_t start = realtime_ns();
    uint64_t prev = otelc__now_ns();
    int mode = clock_mode();
    if (mode == OTELC_CLOCK_REALTIME) skip(); /* no usable TSC here, or OTELC_CLOCK=realtime */
    /* A thread preempted for 1 ms between set-up and reading sees the switch at once. */
    if (mode == OTELC_CLOCK_TSC)
        assert_true(realtime_ns() - start >= MS);
    else
        assert_int_equal(mode, OTELC_CLOCK_CALIBRATING);
    assert_close_to_realtime();
    struct timespec ms1 = {0, MS};
    while (clock_mode() == OTELC_CLOCK_CALIBRATING && realtime_ns() - start < 2000 * MS) {
        nanosleep(&ms1, NULL);
        uint64_t t = otelc__now_ns();
        if (t < prev) fail_msg("went back %llu ns", (unsigned long long)(prev - t));
        prev = t;
    }
    if (clock_mode() != OTELC_CLOCK_TSC)
        fail_msg("mode %d, not TSC, %lld ms after set-up", clock_mode(),
                 (long long)((realtime_ns() - start) / MS));
    assert_true(otelc__now_ns() >= prev);
    assert_close_to_realtime();
}

static void test_clock_non_decreasing(void **state)
{
    (void)state;
    uint64_t prev = otelc__now_ns();
    for (int i = 0; i < 100000; i++) {
        uint64_t t = otelc__now_ns();
        if (t < prev) fail_msg("went back %llu ns at call %d", (unsigned long long)(prev - t), i);
        prev = t;
    }
}

/* Across the once-a-second recalibration the clock stays accurate and monotonic. */
static void test_clock_across_refresh(void **state)
{
    (void)state;
    uint64_t prev = otelc__now_ns();
    int64_t end = realtime_ns() + 1300 * MS;
    struct timespec nap = {0, 2 * MS};
    while (realtime_ns() < end) {
        for (int i = 0; i < 1000; i++) {
            uint64_t t = otelc__now_ns();
            assert_true(t >= prev);
            prev = t;
        }
        assert_close_to_realtime();
        nanosleep(&nap, NULL);
    }
}

static void *read_clock_for_a_while(void *arg)
{
    int64_t end = realtime_ns() + 1200 * MS;
    uint64_t prev = otelc__now_ns();
    long bad = 0;
    while (realtime_ns() < end) {
        int64_t before = realtime_ns();
        uint64_t t = otelc__now_ns();
        int64_t after = realtime_ns();
        bad += t < prev;
        bad += (int64_t)t < before - 5 * MS || (int64_t)t > after + 5 * MS;
        prev = t;
    }
    *(long *)arg = bad;
    return NULL;
}

/* Readers on several threads while one of them recalibrates. */
static void test_clock_threads(void **state)
{
    (void)state;
    pthread_t t[3];
    long bad[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, read_clock_for_a_while, &bad[i]), 0);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) assert_int_equal(bad[i], 0);
}

static void test_clock_measures_sleep(void **state)
{
    (void)state;
    uint64_t a = otelc__now_ns();
    struct timespec nap = {0, 20 * MS};
    nanosleep(&nap, NULL);
    uint64_t b = otelc__now_ns();
    assert_true(b - a >= 19 * MS);
    assert_true(b - a < 2000 * MS);
}

/* ---- Ids ----------------------------------------------------------------------- */

static void test_ids_never_zero(void **state)
{
    (void)state;
    uint8_t t[16], s[8];
    uint8_t or_rand[7] = {0};
    for (int i = 0; i < 100000; i++) {
        otelc__trace_id_new(t);
        otelc__span_id_new(s);
        assert_false(otelc__is_zero(t, 16));
        assert_false(otelc__is_zero(s, 8));
        for (int k = 0; k < 7; k++) or_rand[k] |= t[9 + k];
    }
    /* Every bit of the right-most 7 bytes is seen set: they are random. */
    for (int k = 0; k < 7; k++) assert_int_equal(or_rand[k], 0xff);
}

#define PER_THREAD 20000
#define THREADS    4

static uint64_t thread_ids[THREADS][PER_THREAD];

static void *make_ids(void *arg)
{
    uint64_t *out = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        uint8_t s[8];
        otelc__span_id_new(s);
        memcpy(&out[i], s, 8);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_ids_distinct_across_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, make_ids, thread_ids[i]), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

    uint64_t *all = &thread_ids[0][0];
    size_t n = (size_t)THREADS * PER_THREAD;
    qsort(all, n, sizeof *all, cmp_u64);
    for (size_t i = 1; i < n; i++) assert_true(all[i] != all[i - 1]);
}

/* After fork() the child must not replay the parent's sequence. */
static void test_ids_differ_after_fork(void **state)
{
    (void)state;
    uint8_t warm[8];
    otelc__span_id_new(warm); /* this thread's generator is seeded before the fork */

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t ids[24];
        otelc__span_id_new(ids);
        otelc__trace_id_new(ids + 8);
        ssize_t w = write(fds[1], ids, sizeof ids);
        _exit(w == (ssize_t)sizeof ids ? 0 : 1);
    }
    uint8_t parent[24], child[24];
    otelc__span_id_new(parent);
    otelc__trace_id_new(parent + 8);
    close(fds[1]);
    assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_not_equal(parent, child, 8);
    assert_memory_not_equal(parent + 8, child + 8, 16);
}

/* An explicit reseed (what the provider's fork handler calls) changes the stream. */
static void test_ids_after_fork_bumps_generation(void **state)
{
    (void)state;
    uint32_t before = atomic_load(&otelc__fork_generation);
    otelc__ids_after_fork();
    assert_int_equal(atomic_load(&otelc__fork_generation), before + 1);
    uint8_t s[8];
    otelc__span_id_new(s);
    assert_false(otelc__is_zero(s, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_calibrates_in_passing),
        cmocka_unit_test(test_clock_lazy_init_and_accuracy),
        cmocka_unit_test(test_clock_non_decreasing),
        cmocka_unit_test(test_clock_across_refresh),
        cmocka_unit_test(test_clock_threads),
        cmocka_unit_test(test_clock_measures_sleep),
        cmocka_unit_test(test_ids_never_zero),
        cmocka_unit_test(test_ids_distinct_across_threads),
        cmocka_unit_test(test_ids_differ_after_fork),
        cmocka_unit_test(test_ids_after_fork_bumps_generation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
