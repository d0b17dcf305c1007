/*
 * test_breaker_file.c - the circuit breaker shared between processes
 * (src/export/breaker_file.c): what one process records, the next one
 * reads; records expire, a success closes them, and nothing in the
 * directory is trusted blindly (garbage, other URLs, other owners' modes,
 * symlinks, clocks far ahead). Runs in a runtime directory of its own.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "export/otlp.h"
#include "internal.h"

#define URL      "http://127.0.0.1:9/v1/traces"
#define INTERVAL 60000

static char runtime[256], dir[300];

static int setup(void **state)
{
    (void)state;
    snprintf(runtime, sizeof runtime, "/tmp/otelc-test-breaker.XXXXXX");
    if (!mkdtemp(runtime)) return -1;
    setenv("XDG_RUNTIME_DIR", runtime, 1);
    snprintf(dir, sizeof dir, "%s/otelc", runtime);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", runtime);
    return system(cmd) == 0 ? 0 : -1;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Trip b from a child process: another process's record. */
static void trip_elsewhere(const otelc_shared_breaker *b)
{
    pid_t pid = fork();
    if (pid == 0) {
        otelc__shared_breaker_trip(b);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
}

/* Replace the record with text written by hand. */
static void write_record(const otelc_shared_breaker *b, const char *text, size_t n)
{
    int fd = open(b->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void test_trip_seen_by_the_next_process(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, INTERVAL);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    uint64_t before = wall_ms();
    trip_elsewhere(&b);
    uint64_t until = otelc__shared_breaker_open_until(&b);
    assert_true(until >= before + INTERVAL);
    assert_true(until <= wall_ms() + INTERVAL);
    /* The directory was made private: 0700, ours. */
    struct stat sb;
    assert_int_equal(lstat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* Another endpoint is not affected. */
    otelc_shared_breaker other;
    otelc__shared_breaker_init(&other, "http://127.0.0.1:10/v1/traces", INTERVAL);
    assert_int_equal(otelc__shared_breaker_open_until(&other), 0);
    /* A success closes it for everyone. */
    otelc__shared_breaker_close(&b);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
}

/* A process's own record is for the others: its in-process breaker governs it. */
static void test_own_record_ignored(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, INTERVAL);
    otelc__shared_breaker_trip(&b);
    assert_int_equal(access(b.path, F_OK), 0);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    otelc__shared_breaker_close(&b);
}

static void test_expiry_and_clamp(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, INTERVAL);
    otelc__shared_breaker_trip(&b); /* makes the directory */
    char rec[512];
    /* Expired. */
    int n = snprintf(rec, sizeof rec, "otelc-breaker 1 %llu 1 %s\n",
                     (unsigned long long)(wall_ms() - 1000), URL);
    write_record(&b, rec, (size_t)n);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    /* A year ahead (a clock set wrong, a hand-made file): no longer than our interval. */
    n = snprintf(rec, sizeof rec, "otelc-breaker 1 %llu 1 %s\n",
                 (unsigned long long)(wall_ms() + 365ull * 86400 * 1000), URL);
    write_record(&b, rec, (size_t)n);
    uint64_t until = otelc__shared_breaker_open_until(&b);
    assert_true(until > 0 && until <= wall_ms() + INTERVAL);
    /* A reader with a shorter interval keeps it for its own interval only. */
    otelc_shared_breaker brief;
    otelc__shared_breaker_init(&brief, URL, 1);
    usleep(20 * 1000);
    assert_int_equal(otelc__shared_breaker_open_until(&brief), 0);
    otelc__shared_breaker_close(&b);
}

static void test_garbage_ignored(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, INTERVAL);
    otelc__shared_breaker_trip(&b);
    unsigned long long later = (unsigned long long)(wall_ms() + 10000);
    char good[512];
    int n = snprintf(good, sizeof good, "otelc-breaker 1 %llu 1 %s\n", later, URL);
    write_record(&b, good, (size_t)n);
    assert_true(otelc__shared_breaker_open_until(&b) > 0); /* the control: a valid record */

    char bad[8][512];
    snprintf(bad[0], sizeof bad[0], "otelc-breaker 2 %llu 1 %s\n", later, URL);
    snprintf(bad[1], sizeof bad[1], "otelc-breaker 1 -%llu 1 %s\n", later, URL);
    snprintf(bad[2], sizeof bad[2], "otelc-breaker 1 %llu 1 http://other/v1/traces\n", later);
    snprintf(bad[3], sizeof bad[3], "otelc-breaker 1 %llu 1 %s", later, URL);
    snprintf(bad[4], sizeof bad[4], "otelc-breaker 1 %llu x %s\n", later, URL);
    snprintf(bad[5], sizeof bad[5], "otelc-breaker 1 %llu99999999999999999999 1 %s\n", later, URL);
    snprintf(bad[6], sizeof bad[6], "otelc-breaker 1 %llu 1 %s/more\n", later, URL);
    snprintf(bad[7], sizeof bad[7], "\n");
    for (size_t i = 0; i < 8; i++) {
        write_record(&b, bad[i], strlen(bad[i]));
        assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    }
    /* A NUL inside, and random bytes. */
    char nul[512];
    memcpy(nul, good, (size_t)n);
    nul[20] = '\0';
    write_record(&b, nul, (size_t)n);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    unsigned char noise[4000];
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (unsigned char)(i * 131 + 7);
    write_record(&b, (const char *)noise, sizeof noise);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    /* Not a regular file. */
    unlink(b.path);
    assert_int_equal(mkdir(b.path, 0700), 0);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    rmdir(b.path);
}

/* A directory others can read or write, or a symlink, is not used at all. */
static void test_unsafe_directory_ignored(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, INTERVAL);
    trip_elsewhere(&b);
    assert_true(otelc__shared_breaker_open_until(&b) > 0);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    otelc__shared_breaker_close(&b);
    trip_elsewhere(&b); /* not written there either */
    assert_int_equal(access(b.path, F_OK), -1);
    assert_int_equal(chmod(dir, 0700), 0);

    char real[400], cmd[1600];
    snprintf(real, sizeof real, "%s/real", runtime);
    snprintf(cmd, sizeof cmd, "mv '%s' '%s' && ln -s '%s' '%s'", dir, real, real, dir);
    assert_int_equal(system(cmd), 0);
    trip_elsewhere(&b);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, real);
    assert_int_equal(system(cmd), 0);
}

static void test_interval_zero_is_off(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, 0);
    trip_elsewhere(&b);
    assert_int_equal(otelc__shared_breaker_open_until(&b), 0);
    assert_int_equal(access(dir, F_OK), -1);
}

/*
 * Processes tripping and closing at once: a reader sees a whole record or
 * none, never a torn one, and no temporary file is left behind.
 */
static void test_concurrent_writers(void **state)
{
    (void)state;
    otelc_shared_breaker b;
    otelc__shared_breaker_init(&b, URL, INTERVAL);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        if ((kids[k] = fork()) == 0) {
            for (int i = 0; i < 300; i++) {
                if (k == 3 && i % 3 == 0)
                    otelc__shared_breaker_close(&b);
                else
                    otelc__shared_breaker_trip(&b);
            }
            _exit(0);
        }
    }
    int open_seen = 0;
    for (int i = 0; i < 600; i++) {
        uint64_t until = otelc__shared_breaker_open_until(&b);
        if (until) {
            open_seen++;
            assert_true(until <= wall_ms() + INTERVAL);
        }
    }
    for (int k = 0; k < 4; k++) waitpid(kids[k], NULL, 0);
    (void)open_seen; /* how often depends on scheduling; torn records would have failed above */
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) assert_null(strstr(e->d_name, ".tmp"));
    closedir(d);
    otelc__shared_breaker_close(&b);
}

static void test_interval_env(void **state)
{
    (void)state;
    unsetenv("OTELC_BREAKER_INTERVAL");
    assert_int_equal(otelc__breaker_interval_from_env(), 60000);
    setenv("OTELC_BREAKER_INTERVAL", "5m", 1);
    assert_int_equal(otelc__breaker_interval_from_env(), 300000);
    setenv("OTELC_BREAKER_INTERVAL", "0", 1);
    assert_int_equal(otelc__breaker_interval_from_env(), 0);
    setenv("OTELC_BREAKER_INTERVAL", "forever", 1);
    assert_int_equal(otelc__breaker_interval_from_env(), 60000);
    unsetenv("OTELC_BREAKER_INTERVAL");
    char out[300];
    assert_true(otelc__runtime_dir_from_env(out, sizeof out));
    assert_string_equal(out, dir);
    setenv("XDG_RUNTIME_DIR", "relative/dir", 1); /* not absolute: the /tmp fallback */
    assert_true(otelc__runtime_dir_from_env(out, sizeof out));
    char expect[64];
    snprintf(expect, sizeof expect, "/tmp/otelc-%lu", (unsigned long)geteuid());
    assert_string_equal(out, expect);
    setenv("XDG_RUNTIME_DIR", runtime, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trip_seen_by_the_next_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_record_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_clamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_directory_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_zero_is_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_env, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
