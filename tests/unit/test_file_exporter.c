/*
 * test_file_exporter.c - the file exporter: one complete OTLP/JSON request
 * per line and per export, size rotation keeping N files, reopening after
 * the file was moved or removed, errors that are counted but not fatal,
 * whole lines for a reader racing the batch worker, and the environment.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "export/zipkin.h"
#include "otelc/otelc.h"
#include "collect.h"

typedef struct fixture {
    char dir[256];
    char path[320];
    collect col;
    otelc_provider *prov;
    otelc_tracer *tracer;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/otelc-file-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/traces.jsonl", f->dir);
    collect_init(&f->col);
    f->prov = collect_provider(&f->col, NULL, NULL);
    f->tracer = otelc_provider_tracer(f->prov, "test.file", "1.0", NULL);
    *state = f;
    return 0;
}

static void remove_all(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    collect_clear(&f->col);
    otelc_provider_free(f->prov);
    pthread_mutex_destroy(&f->col.lock);
    remove_all(f->dir);
    free(f);
    return 0;
}

/* A finished span named name, kept by the collector (the same data can be exported again). */
static const otelc_span_data *make_span(fixture *f, const char *name)
{
    otelc_span *s = otelc_span_start(f->tracer, name, OTELC_SPAN_INTERNAL);
    otelc_span_set_str(s, "text", "line\nbreak \"quoted\"");
    otelc_span_end(s);
    return f->col.spans[f->col.count - 1];
}

/* The whole file, NUL-terminated, or NULL when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    while ((got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(fp);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/*
 * True when p[0..n) is one whole JSON object: it opens with '{', every
 * brace outside strings closes, and the last one closes at the end.
 */
static bool whole_object(const char *p, size_t n)
{
    int depth = 0;
    bool in_str = false;
    if (n == 0 || p[0] != '{') return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') in_str = true;
        if (c == '{' || c == '[') depth++;
        if (c == '}' || c == ']') depth--;
        if (depth == 0) return i == n - 1;
    }
    return false;
}

/*
 * Check every '\n'-terminated line of text is a whole request; returns the
 * number of lines. *tail gets the bytes after the last newline.
 */
static size_t check_lines(const char *text, size_t len, size_t *tail)
{
    size_t lines = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n') continue;
        if (!whole_object(text + start, i - start))
            fail_msg("torn line %zu: %.80s", lines, text + start);
        lines++;
        start = i + 1;
    }
    if (tail) *tail = len - start;
    return lines;
}

/* Lines in the file at path (every one whole, none unfinished); -1 when absent. */
static long file_lines(const char *path, size_t *bytes)
{
    size_t len, tail;
    char *text = slurp(path, &len);
    if (!text) return -1;
    size_t lines = check_lines(text, len, &tail);
    assert_int_equal(tail, 0);
    free(text);
    if (bytes) *bytes = len;
    return (long)lines;
}

static void export_one(otelc_exporter *e, const otelc_span_data *sd)
{
    assert_int_equal(otelc_exporter_export(e, &sd, 1), OTELC_EXPORT_SUCCESS);
}

static void test_one_line_per_export(void **state)
{
    fixture *f = *state;
    otelc_exporter *e = otelc_file_exporter_new(f->path, 0, 0);
    const otelc_span_data *batch[] = {make_span(f, "a"), make_span(f, "b")};
    assert_int_equal(otelc_exporter_export(e, batch, 2), OTELC_EXPORT_SUCCESS);
    export_one(e, make_span(f, "c"));
    assert_int_equal(otelc_exporter_export(e, batch, 0), OTELC_EXPORT_SUCCESS);

    char *text = slurp(f->path, NULL);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "{\"resourceSpans\":[", 18), 0);
    char *second = strchr(text, '\n') + 1;
    assert_non_null(strstr(text, "\"name\":\"a\""));
    assert_true(strstr(text, "\"name\":\"b\"") < second); /* one request held both */
    assert_non_null(strstr(second, "\"name\":\"c\""));
    free(text);
    assert_int_equal(file_lines(f->path, NULL), 2);
    otelc_file_stats st;
    assert_true(otelc__file_exporter_stats(e, &st));
    assert_int_equal(st.lines, 2);
    assert_int_equal(st.errors, 0);
    otelc_exporter_free(e);
}

static void rotated_path(const fixture *f, unsigned i, char *out, size_t cap)
{
    snprintf(out, cap, "%s.%u", f->path, i);
}

/* Nine equal lines, two per file, keep 2: path has line 9, .1 has 7-8, .2 has 5-6. */
static void test_rotation_keeps_n(void **state)
{
    fixture *f = *state;
    const otelc_span_data *sd = make_span(f, "rot");
    otelc_exporter *probe = otelc_file_exporter_new(f->path, 0, 0);
    export_one(probe, sd);
    otelc_exporter_free(probe);
    size_t line = 0;
    assert_int_equal(file_lines(f->path, &line), 1);
    unlink(f->path);

    otelc_exporter *e = otelc_file_exporter_new(f->path, 2 * line + line / 2, 2);
    for (int i = 0; i < 9; i++) export_one(e, sd);
    char p1[400], p2[400], p3[400];
    rotated_path(f, 1, p1, sizeof p1);
    rotated_path(f, 2, p2, sizeof p2);
    rotated_path(f, 3, p3, sizeof p3);
    size_t b0, b1, b2;
    assert_int_equal(file_lines(f->path, &b0), 1);
    assert_int_equal(file_lines(p1, &b1), 2);
    assert_int_equal(file_lines(p2, &b2), 2);
    assert_int_equal(file_lines(p3, NULL), -1);
    assert_int_equal(b0, line);
    assert_int_equal(b1, 2 * line);
    assert_int_equal(b2, 2 * line);
    otelc_file_stats st;
    assert_true(otelc__file_exporter_stats(e, &st));
    assert_int_equal(st.rotations, 4);
    assert_int_equal(st.lines, 9);
    otelc_exporter_free(e);
}

/* keep 0 drops the full file; a line larger than max_bytes gets a file of its own. */
static void test_rotation_edges(void **state)
{
    fixture *f = *state;
    const otelc_span_data *sd = make_span(f, "edge");
    char p1[400];
    rotated_path(f, 1, p1, sizeof p1);

    otelc_exporter *e = otelc_file_exporter_new(f->path, 10, 0);
    for (int i = 0; i < 3; i++) export_one(e, sd);
    assert_int_equal(file_lines(f->path, NULL), 1);
    assert_int_equal(file_lines(p1, NULL), -1);
    otelc_exporter_free(e);

    e = otelc_file_exporter_new(f->path, 10, 1);
    export_one(e, sd);
    assert_int_equal(file_lines(f->path, NULL), 1);
    assert_int_equal(file_lines(p1, NULL), 1);
    otelc_exporter_free(e);
}

/* logrotate-style moves and plain removal: the next export recreates path. */
static void test_external_rotation_and_removal(void **state)
{
    fixture *f = *state;
    const otelc_span_data *sd = make_span(f, "ext");
    char moved[400];
    snprintf(moved, sizeof moved, "%s.moved", f->path);
    otelc_exporter *e = otelc_file_exporter_new(f->path, 0, 0);
    export_one(e, sd);
    assert_int_equal(rename(f->path, moved), 0);
    export_one(e, sd);
    assert_int_equal(file_lines(moved, NULL), 1);
    assert_int_equal(file_lines(f->path, NULL), 1);
    assert_int_equal(unlink(f->path), 0);
    export_one(e, sd);
    export_one(e, sd);
    assert_int_equal(file_lines(f->path, NULL), 2);
    otelc_file_stats st;
    assert_true(otelc__file_exporter_stats(e, &st));
    assert_int_equal(st.reopens, 2);
    assert_int_equal(st.errors, 0);
    otelc_exporter_free(e);
}

/* A directory that does not exist yet: exports fail and are counted, then recover. */
static void test_errors_not_fatal(void **state)
{
    fixture *f = *state;
    char sub[400], path[450];
    snprintf(sub, sizeof sub, "%s/later", f->dir);
    snprintf(path, sizeof path, "%s/t.jsonl", sub);
    const otelc_span_data *sd = make_span(f, "err");
    otelc_log_set_level(OTELC_LOG_NONE);
    otelc_exporter *e = otelc_file_exporter_new(path, 0, 0);
    assert_non_null(e);
    assert_int_equal(otelc_exporter_export(e, &sd, 1), OTELC_EXPORT_FAILURE);
    otelc_file_stats st;
    assert_true(otelc__file_exporter_stats(e, &st));
    assert_true(st.errors >= 2); /* at creation and at the export */
    assert_int_equal(st.spans_lost, 1);
    assert_int_equal(mkdir(sub, 0700), 0);
    export_one(e, sd);
    assert_int_equal(file_lines(path, NULL), 1);
    otelc_exporter_free(e);
    otelc_log_set_level(OTELC_LOG_WARN);
    assert_false(otelc__file_exporter_stats(NULL, &st));
}

/* ---- A reader racing the batch worker ---------------------------------------------- */

#define RACE_SPANS 400

typedef struct race {
    const char *path;
    _Atomic bool done;
    size_t reads;
} race;

/* Read the whole file over and over: every finished line must be a whole request. */
static void *reader_main(void *arg)
{
    race *r = arg;
    while (!atomic_load(&r->done)) {
        size_t len;
        char *text = slurp(r->path, &len);
        if (text) check_lines(text, len, NULL);
        free(text);
        r->reads++;
    }
    return NULL;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) n++;
    return n;
}

/*
 * Two batch workers append to one path (two exporters, as two processes
 * would) while a reader reads it: O_APPEND and one write() per line keep
 * every line whole and every span present twice.
 */
static void test_reader_never_sees_torn_lines(void **state)
{
    fixture *f = *state;
    otelc_batch_options bo = {.max_queue_size = 4096,
                              .schedule_delay_ms = 1,
                              .max_export_batch_size = 7,
                              .export_timeout_ms = 30000};
    otelc_processor *procs[2];
    for (int i = 0; i < 2; i++)
        procs[i] = otelc_batch_processor_new(otelc_file_exporter_new(f->path, 0, 0), &bo);
    otelc_provider_options o = {.no_env = true, .processors = procs, .processor_count = 2};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "race", NULL, NULL);

    race r = {.path = f->path};
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, reader_main, &r), 0);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < RACE_SPANS; i++) {
        otelc_span *s = otelc_span_start(t, "race-span", OTELC_SPAN_INTERNAL);
        otelc_span_set_str(s, "payload", big); /* lines span several pages */
        otelc_span_end(s);
        if (i % 50 == 0) usleep(1000);
    }
    assert_int_equal(otelc_provider_force_flush(p, 60000), OTELC_OK);
    atomic_store(&r.done, true);
    pthread_join(reader, NULL);
    otelc_provider_free(p);

    size_t len = 0;
    char *text = slurp(f->path, &len);
    assert_non_null(text);
    size_t tail;
    assert_true(check_lines(text, len, &tail) >= 2 * RACE_SPANS / 7);
    assert_int_equal(tail, 0);
    assert_int_equal(count_of(text, "\"name\":\"race-span\""), 2 * RACE_SPANS);
    assert_true(r.reads > 0);
    free(text);
}

/* ---- Environment ----------------------------------------------------------------------- */

static void test_env(void **state)
{
    fixture *f = *state;
    otelc_file_env fe;
    unsetenv("OTELC_FILE_PATH");
    setenv("OTELC_FILE_MAX_BYTES", "5000000000", 1);
    setenv("OTELC_FILE_KEEP", "3", 1);
    otelc__file_options_from_env(&fe);
    assert_string_equal(fe.path, "otelc-traces.jsonl");
    assert_true(fe.max_bytes == 5000000000ULL);
    assert_int_equal(fe.keep, 3);
    otelc_log_set_level(OTELC_LOG_NONE);
    setenv("OTELC_FILE_MAX_BYTES", "12x", 1);
    otelc__file_options_from_env(&fe);
    assert_true(fe.max_bytes == 0);
    setenv("OTELC_FILE_MAX_BYTES", "99999999999999999999", 1);
    otelc__file_options_from_env(&fe);
    assert_true(fe.max_bytes == 0);
    otelc_log_set_level(OTELC_LOG_WARN);
    unsetenv("OTELC_FILE_MAX_BYTES");
    unsetenv("OTELC_FILE_KEEP");

    /* OTEL_TRACES_EXPORTER=file: a batch processor writing to OTELC_FILE_PATH. */
    setenv("OTEL_TRACES_EXPORTER", "file,file", 1);
    setenv("OTELC_FILE_PATH", f->path, 1);
    otelc_provider *p = NULL;
    otelc_provider_options o = {.ignore_env_parent = true};
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_span_end(otelc_span_start(otelc_provider_tracer(p, "env", NULL, NULL), "from-env",
                                    OTELC_SPAN_INTERNAL));
    assert_int_equal(otelc_provider_force_flush(p, 30000), OTELC_OK);
    otelc_provider_free(p);
    unsetenv("OTEL_TRACES_EXPORTER");
    unsetenv("OTELC_FILE_PATH");
    /* "file" twice still means one exporter: one line, not two. */
    assert_int_equal(file_lines(f->path, NULL), 1);
    char *text = slurp(f->path, NULL);
    assert_non_null(strstr(text, "\"name\":\"from-env\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_line_per_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_keeps_n, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_rotation_and_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_not_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_never_sees_torn_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
