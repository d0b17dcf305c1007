/*
 * test_spool.c - the spool of undelivered batches (src/export/spool.c):
 * files are whole OTLP protobuf requests, the total is bounded (the oldest
 * go first and their spans are counted), a drain delivers each file once
 * even with several processes draining at the same moment, stops at the
 * first failure, and returns the claims of a process that died.
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
#include <unistd.h>

#include <cmocka.h>

#include "otelc/testing.h"
#include "export/otlp.h"
#include "internal.h"

static char dir[256], log_path[300];
static otelc_provider *prov;
static otelc_memory_exporter *mem;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/otelc-test-spool.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(log_path, sizeof log_path, "%s.sent", dir);
    unlink(log_path);
    prov = otelc_testing_provider_new(&mem);
    return prov ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    otelc_provider_free(prov);
    otelc_memory_exporter_free(mem);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, log_path);
    return system(cmd) == 0 ? 0 : -1;
}

/* n spans named name-0 .. name-(n-1), as the exporter would be handed them. */
static const otelc_span_data **make_spans(const char *name, size_t n)
{
    otelc_memory_exporter_reset(mem);
    otelc_tracer *t = otelc_provider_tracer(prov, "test.spool", NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s-%zu", name, i);
        otelc_span_end(otelc_span_start(t, nm, OTELC_SPAN_INTERNAL));
    }
    assert_int_equal(otelc_memory_exporter_count(mem), n);
    const otelc_span_data **spans = calloc(n, sizeof *spans);
    for (size_t i = 0; i < n; i++) spans[i] = otelc_memory_exporter_get(mem, i);
    return spans;
}

static void put(otelc_spool *s, const char *name, size_t n)
{
    const otelc_span_data **spans = make_spans(name, n);
    assert_true(otelc__spool_put(s, spans, n));
    free(spans);
}

/* Files in d named with prefix, or, for a NULL prefix, the spooled ones (not hidden). */
static size_t files_in(const char *d, const char *prefix)
{
    size_t n = 0;
    DIR *dd = opendir(d);
    for (struct dirent *e; dd && (e = readdir(dd));) {
        if (prefix)
            n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
        else
            n += e->d_name[0] != '.';
    }
    if (dd) closedir(dd);
    return n;
}

/* A send that records each request's span count and first span name in log_path. */
static bool record_send(void *ctx, const void *request, size_t len)
{
    (void)ctx;
    otelc_buf b = {0};
    otelc__buf_printf(&b, "%zu %08llx\n", len,
                      (unsigned long long)otelc__fnv1a(OTELC_FNV_OFFSET, request, len));
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    bool ok = fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len;
    if (fd >= 0) close(fd);
    otelc__buf_free(&b);
    return ok;
}

static bool failing_send(void *ctx, const void *request, size_t len)
{
    (void)request, (void)len;
    ++*(int *)ctx;
    return false;
}

static size_t lines_of(const char *path, size_t *dups)
{
    FILE *f = fopen(path, "r");
    char lines[256][64];
    size_t n = 0;
    *dups = 0;
    while (f && n < 256 && fgets(lines[n], sizeof lines[n], f)) {
        for (size_t i = 0; i < n; i++) *dups += strcmp(lines[i], lines[n]) == 0;
        n++;
    }
    if (f) fclose(f);
    return n;
}

/* A file is the length-delimited request otelc view --import reads. */
static void test_file_layout(void **state)
{
    (void)state;
    otelc_spool *s = otelc__spool_new(dir, 1 << 20);
    assert_non_null(s);
    put(s, "layout", 3);
    DIR *d = opendir(dir);
    char name[256] = "";
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') otelc__strlcpy(name, e->d_name, sizeof name);
    closedir(d);
    assert_non_null(strstr(name, "-3.otlp")); /* the span count is in the name */
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    FILE *f = fopen(path, "rb");
    uint8_t head[5];
    assert_int_equal(fread(head, 1, 5, f), 5);
    fclose(f);
    uint32_t len =
        (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    assert_int_equal((uint64_t)len + 4, (uint64_t)sb.st_size);
    assert_int_equal(head[4], 0x0a); /* ExportTraceServiceRequest.resource_spans, field 1 */
    uint64_t spooled, dropped, delivered;
    otelc__spool_counts(s, &spooled, &dropped, &delivered);
    assert_int_equal(spooled, 3);
    otelc__spool_free(s);
}

/* Over the bound, the oldest files go first and their spans are counted as dropped. */
static void test_bound_drops_oldest(void **state)
{
    (void)state;
    otelc_spool *s = otelc__spool_new(dir, 1 << 20);
    put(s, "probe", 1);
    otelc__spool_free(s);
    struct stat sb;
    DIR *d = opendir(dir);
    char path[600] = "";
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_int_equal(stat(path, &sb), 0);
    unlink(path);
    /* Room for three files of one span. */
    s = otelc__spool_new(dir, (uint64_t)sb.st_size * 3 + 10);
    for (int i = 0; i < 5; i++) put(s, "bounded", 1);
    assert_int_equal(files_in(dir, NULL), 3);
    uint64_t spooled, dropped, delivered;
    otelc__spool_counts(s, &spooled, &dropped, &delivered);
    assert_int_equal(spooled, 5);
    assert_int_equal(dropped, 2);
    /* A request larger than the whole bound is not written. */
    const otelc_span_data **spans = make_spans("too-large", 20);
    assert_false(otelc__spool_put(s, spans, 20));
    free(spans);
    otelc__spool_free(s);
}

/* A drain stops at the first failure and leaves everything in place. */
static void test_failure_keeps_files(void **state)
{
    (void)state;
    otelc_spool *s = otelc__spool_new(dir, 1 << 20);
    for (int i = 0; i < 3; i++) put(s, "kept", 2);
    int calls = 0;
    assert_int_equal(otelc__spool_drain(s, failing_send, &calls, NULL), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(files_in(dir, NULL), 3);
    assert_int_equal(files_in(dir, ".claim-"), 0);
    assert_int_equal(otelc__spool_drain(s, record_send, NULL, NULL), 3);
    assert_int_equal(files_in(dir, NULL), 0);
    uint64_t spooled, dropped, delivered;
    otelc__spool_counts(s, &spooled, &dropped, &delivered);
    assert_int_equal(delivered, 6);
    otelc__spool_free(s);
}

/* Four processes drain at once: every file is delivered exactly once. */
static void test_concurrent_drains_deliver_once(void **state)
{
    (void)state;
    otelc_spool *s = otelc__spool_new(dir, 16 << 20);
    for (int i = 0; i < 60; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "batch%d", i);
        put(s, nm, 2);
    }
    pid_t kids[4];
    for (int k = 0; k < 4; k++)
        if ((kids[k] = fork()) == 0) {
            otelc__spool_drain(s, record_send, NULL, NULL);
            _exit(0);
        }
    for (int k = 0; k < 4; k++) waitpid(kids[k], NULL, 0);
    size_t dups;
    assert_int_equal(lines_of(log_path, &dups), 60);
    assert_int_equal(dups, 0);
    assert_int_equal(files_in(dir, NULL), 0);
    assert_int_equal(files_in(dir, ".claim-"), 0);
    otelc__spool_free(s);
}

/* A claim whose process died goes back to the spool; garbage is removed, not sent. */
static void test_orphan_claim_and_garbage(void **state)
{
    (void)state;
    otelc_spool *s = otelc__spool_new(dir, 1 << 20);
    put(s, "orphan", 1);
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    DIR *d = opendir(dir);
    char name[256] = "";
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') otelc__strlcpy(name, e->d_name, sizeof name);
    closedir(d);
    char from[600], to[700];
    snprintf(from, sizeof from, "%s/%s", dir, name);
    snprintf(to, sizeof to, "%s/.claim-%ld-%s", dir, (long)dead, name);
    assert_int_equal(rename(from, to), 0);
    /* A file with a spool name that is not a request. */
    snprintf(from, sizeof from, "%s/0000000000000001-1-1-5.otlp", dir);
    FILE *f = fopen(from, "w");
    fputs("not a request", f);
    fclose(f);
    assert_int_equal(otelc__spool_drain(s, record_send, NULL, NULL), 1);
    size_t dups;
    assert_int_equal(lines_of(log_path, &dups), 1);
    assert_int_equal(files_in(dir, NULL), 0);
    otelc__spool_free(s);
}

/* A directory others may write in is refused: they could plant requests. */
static void test_unsafe_dir_refused(void **state)
{
    (void)state;
    assert_int_equal(chmod(dir, 0777), 0);
    assert_null(otelc__spool_new(dir, 1 << 20));
    assert_int_equal(chmod(dir, 0700), 0);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/new", dir);
    otelc_spool *s = otelc__spool_new(sub, 1 << 20); /* made, 0700 */
    assert_non_null(s);
    struct stat sb;
    assert_int_equal(stat(sub, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    otelc__spool_free(s);
}

int main(void)
{
    otelc_log_set_level(OTELC_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_keeps_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_drains_deliver_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_claim_and_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_dir_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
