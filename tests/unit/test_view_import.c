/*
 * test_view_import.c - `otelc view --import` (viewer/import.c): a file
 * written by otelc's own file exporter (examples/threads run with
 * OTEL_TRACES_EXPORTER=file) ends up in the store span for span; what
 * `otelc traces export` writes, in either format, imports back equal to
 * what was exported; bad records are reported by line or record and
 * skipped; a full ingest queue is waited for, not overrun.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "decode_json.h"
#include "decode_proto.h"
#include "import.h"
#include "ingest.h"
#include "store.h"
#include "traces.h"
#include "unit/view_compare.h"

static char dir[] = "/tmp/otelc-import-XXXXXX";
static char err_text[1 << 14];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* ---- Stores and their contents ------------------------------------------------------------------
 */

static vw_ingest *ingest_on(const char *db, size_t max_queued)
{
    vw_store_options so = {.path = db};
    vw_store *s = NULL;
    char e[256];
    assert_int_equal(vw_store_open(&so, &s, e, sizeof e), 0);
    vw_ingest_options io = {.max_queued_spans = max_queued};
    vw_ingest *in = NULL;
    assert_int_equal(vw_ingest_start(s, &io, &in), 0);
    return in;
}

/* Import path into a new store db through an ingest queue of max_queued spans. */
static int import_into(const char *db, const char *path, size_t max_queued, vw_import_stats *st)
{
    vw_ingest *in = ingest_on(db, max_queued);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char e[512];
    /* stderr to a file: the reports on bad records are part of what is tested. */
    char where[300];
    path_of(where, sizeof where, "stderr");
    fflush(stderr);
    int saved = dup(2), fd = open(where, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    dup2(fd, 2);
    close(fd);
    int rc = vw_import_stream(in, f, "in.jsonl", st, e, sizeof e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *r = fopen(where, "r");
    size_t n = fread(err_text, 1, sizeof err_text - 1, r);
    err_text[n] = '\0';
    fclose(r);
    if (rc != 0) snprintf(err_text + n, sizeof err_text - n, "ERROR: %s\n", e);
    fclose(f);
    vw_ingest_stop(in);
    return rc;
}

static vw_store *open_read(const char *db)
{
    vw_store_options so = {.path = db, .read_only = true};
    vw_store *s = NULL;
    char e[256];
    assert_int_equal(vw_store_open(&so, &s, e, sizeof e), 0);
    return s;
}

/* Resource attributes, scope name and version as well as the span itself. */
static void assert_span_equal(const otelc_span_data *want, const otelc_span_data *got)
{
    vc_span(want, got);
    size_t na = 0, nb = 0;
    const otelc_attr *a = otelc_resource_attrs(want->resource, &na);
    const otelc_attr *b = otelc_resource_attrs(got->resource, &nb);
    VC_CHECK(vc_attrs_eq(a, na, b, nb), "resource");
    VC_CHECK(vc_str_eq(want->scope->name, got->scope->name), "scope name");
    VC_CHECK(vc_str_eq(want->scope->version, got->scope->version), "scope version");
}

/* Every span of batch b is in store s, equal. */
static void assert_stored(vw_store *s, const vw_batch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const otelc_span_data *want = &b->spans[i];
        vw_batch t;
        vw_batch_init(&t);
        assert_int_equal(vw_store_trace(s, want->context.trace_id, &t), 1);
        assert_span_equal(want, vc_find(t.spans, t.count, want));
        vw_batch_free(&t);
    }
}

/* Decode each line of a JSON lines file on its own: the reference for the import. */
static size_t for_each_line(const char *path, vw_store *s)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, spans = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        vw_batch b;
        vw_batch_init(&b);
        assert_int_equal(vw_decode_otlp_json(line, (size_t)n, &b), VW_DECODE_OK);
        if (s) assert_stored(s, &b);
        spans += b.count;
        vw_batch_free(&b);
    }
    free(line);
    fclose(f);
    return spans;
}

/* ---- otelc's own file exporter -----------------------------------------------------------------
 */

static void test_import_file_exporter_output(void **state)
{
    (void)state;
    const char *bin = getenv("OTELC_TEST_BINARY_DIR");
    char exe[512], file[300], db[300];
    snprintf(exe, sizeof exe, "%s/example_threads", bin ? bin : ".");
    if (access(exe, X_OK) != 0) skip();
    path_of(file, sizeof file, "threads.jsonl");
    path_of(db, sizeof db, "threads.db");
    pid_t pid = fork();
    if (pid == 0) {
        char path_var[400];
        snprintf(path_var, sizeof path_var, "OTELC_FILE_PATH=%s", file);
        char *envp[] = {"OTEL_TRACES_EXPORTER=file", path_var, "OTEL_BSP_SCHEDULE_DELAY=10", NULL};
        char *argv[] = {exe, NULL};
        execve(exe, argv, envp);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    vw_import_stats st;
    assert_int_equal(import_into(db, file, 0, &st), 0);
    assert_int_equal(st.bad, 0);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.failed, 0);
    /* The program and its child process each wrote lines; every span of them is stored. */
    vw_store *s = open_read(db);
    size_t spans = for_each_line(file, s);
    assert_true(spans >= 9); /* batch, 3 x process-item and load, spawn-child, child-process */
    assert_int_equal(st.spans, spans);
    vw_store_counts c;
    assert_int_equal(vw_store_counts_get(s, &c), 0);
    assert_int_equal(c.spans, spans);
    assert_int_equal(c.traces, 1); /* one trace across threads and the child */
    vw_store_close(s);

    char e[512];
    vw_ingest *in = ingest_on(db, 0);
    assert_int_equal(vw_import_file(in, "/nonexistent/x.jsonl", e, sizeof e), -1);
    assert_string_equal(e, "cannot open /nonexistent/x.jsonl: No such file or directory");
    vw_ingest_stop(in);
}

/* ---- Export, then import
 * -------------------------------------------------------------------------- */

static void fill(const char *db)
{
    vw_batch b;
    vw_batch_init(&b);
    otelc_attr ra[] = {OTELC_ATTR_STR("service.name", "round"), OTELC_ATTR_INT("pid", 7)};
    const otelc_resource *res = vw_batch_add_resource(&b, ra, 2, "https://schema/1");
    static const otelc_attr scope_attrs[] = {OTELC_ATTR_BOOL("lib", true)};
    static const otelc_scope_info scope = {
        .name = "round.trip", .version = "2.0", .attrs = scope_attrs, .attr_count = 1};
    static const int64_t ints[] = {1, -2, 3};
    const otelc_attr attrs[] = {
        OTELC_ATTR_STR("s", "text\n\"quoted\""),
        OTELC_ATTR_DOUBLE("d", 0.125),
        {.key = "ints", .value = {.type = OTELC_VALUE_INT_ARRAY, .u.array = {ints, 3}}},
        {.key = "raw", .value = {.type = OTELC_VALUE_BYTES, .u.str = {"\0\1\xff", 3}}},
    };
    const otelc_event_data events[] = {{"ev", 1700000000000000500ull, attrs, 1, 1}};
    for (unsigned t = 1; t <= 30; t++) {
        for (unsigned s = 1; s <= 4; s++) {
            otelc_span_data *sd = vw_batch_add_span(&b);
            sd->context.trace_id[15] = (uint8_t)t;
            sd->context.trace_id[0] = 0xab;
            sd->context.span_id[7] = (uint8_t)s;
            sd->context.trace_flags = 1;
            sd->context.trace_state = s == 1 ? "k=v" : NULL;
            if (s > 1) {
                sd->has_parent = true;
                sd->parent_span_id[7] = 1;
            }
            sd->name = s == 1 ? "root" : "child";
            sd->kind = s == 1 ? OTELC_SPAN_SERVER : OTELC_SPAN_CLIENT;
            sd->start_ns = 1700000000000000000ull + t * 1000000000ull + s;
            sd->end_ns = sd->start_ns + 12345;
            sd->attrs = attrs;
            sd->attr_count = 4;
            sd->dropped_attr_count = s;
            sd->events = s == 2 ? events : NULL;
            sd->event_count = s == 2;
            sd->status = s == 3 ? OTELC_STATUS_ERROR : OTELC_STATUS_UNSET;
            sd->status_message = s == 3 ? "broke" : NULL;
            sd->resource = res;
            sd->scope = &scope;
        }
    }
    vw_store_options so = {.path = db};
    vw_store *s = NULL;
    char e[256];
    assert_int_equal(vw_store_open(&so, &s, e, sizeof e), 0);
    const vw_batch *bs[] = {&b};
    assert_int_equal(vw_store_write(s, bs, 1, e, sizeof e), 0);
    vw_store_close(s);
    vw_batch_free(&b);
}

/* Every trace of a equal, span for span, in b. */
static void assert_same_store(const char *a_path, const char *b_path)
{
    vw_store *a = open_read(a_path), *b = open_read(b_path);
    vw_store_counts ca, cb;
    vw_store_counts_get(a, &ca);
    vw_store_counts_get(b, &cb);
    assert_int_equal(ca.spans, cb.spans);
    assert_int_equal(ca.traces, cb.traces);
    for (unsigned t = 1; t <= 30; t++) {
        uint8_t id[16] = {0xab};
        id[15] = (uint8_t)t;
        vw_batch x, y;
        vw_batch_init(&x);
        vw_batch_init(&y);
        assert_int_equal(vw_store_trace(a, id, &x), 1);
        assert_int_equal(vw_store_trace(b, id, &y), 1);
        assert_int_equal(x.count, y.count);
        for (size_t i = 0; i < x.count; i++)
            assert_span_equal(&x.spans[i], vc_find(y.spans, y.count, &x.spans[i]));
        assert_true(vc_str_eq(otelc_resource_schema_url(x.spans[0].resource),
                              otelc_resource_schema_url(y.spans[0].resource)));
        vw_batch_free(&x);
        vw_batch_free(&y);
    }
    vw_store_close(a);
    vw_store_close(b);
}

static int traces_export(const char *db, const char *out, const char *format)
{
    char *argv[] = {"traces",    "export",   "--db",         (char *)db, "--output",
                    (char *)out, "--format", (char *)format, NULL};
    return vw_traces_main(8, argv);
}

static void test_export_import_round_trip(void **state)
{
    (void)state;
    char src[300], json[300], proto[300], db1[300], db2[300];
    path_of(src, sizeof src, "src.db");
    path_of(json, sizeof json, "export.jsonl");
    path_of(proto, sizeof proto, "export.pb");
    path_of(db1, sizeof db1, "from-json.db");
    path_of(db2, sizeof db2, "from-proto.db");
    fill(src);
    assert_int_equal(traces_export(src, json, "otlp-json"), 0);
    assert_int_equal(traces_export(src, proto, "otlp-proto"), 0);
    vw_import_stats st;
    assert_int_equal(import_into(db1, json, 0, &st), 0);
    assert_int_equal(st.records, 30);
    assert_int_equal(st.spans, 120);
    assert_int_equal(import_into(db2, proto, 0, &st), 0);
    assert_int_equal(st.records, 30);
    assert_int_equal(st.spans, 120);
    assert_same_store(src, db1);
    assert_same_store(src, db2);
}

/* A queue of 10 spans and 30 records of 4: the reader waits for room, nothing is refused. */
static void test_full_queue_is_waited_for(void **state)
{
    (void)state;
    char src[300], json[300], db[300];
    path_of(src, sizeof src, "src.db");
    path_of(json, sizeof json, "export.jsonl");
    path_of(db, sizeof db, "small-queue.db");
    vw_import_stats st;
    assert_int_equal(import_into(db, json, 10, &st), 0);
    assert_int_equal(st.spans, 120);
    assert_same_store(src, db);
}

/* ---- Bad input --------------------------------------------------------------------------------
 */

static const char good_line[] =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
    "\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\",\"name\":\"ok\"}]}]}]}";

static void test_bad_lines_reported_and_skipped(void **state)
{
    (void)state;
    char file[300], db[300];
    path_of(file, sizeof file, "bad.jsonl");
    path_of(db, sizeof db, "bad.db");
    char text[4096];
    snprintf(text, sizeof text,
             "%s\n"
             "not json at all\n"
             "\n"
             "   \r\n"
             "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"00\",\"spanId\":"
             "\"0102030405060708\"},{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":"
             "\"0a0b0c0d0e0f1011\",\"name\":\"kept\"}]}]}]}\n"
             "{\"resourceSpans\":\"no\"}\n"
             "%s",
             good_line, good_line); /* the last line without its '\n' */
    write_file(file, text, strlen(text));
    vw_import_stats st;
    assert_int_equal(import_into(db, file, 0, &st), 0);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.bad, 2);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.spans, 3);
    assert_non_null(strstr(err_text, "otelc view: in.jsonl:2: not an OTLP/JSON trace request, "
                                     "skipped\n"));
    assert_non_null(strstr(err_text, "otelc view: in.jsonl:5: 1 spans left out: "));
    assert_non_null(strstr(err_text, "otelc view: in.jsonl:6: not an OTLP/JSON trace request, "
                                     "skipped\n"));
}

static void test_proto_framing(void **state)
{
    (void)state;
    char proto[300], file[300], db[300];
    path_of(proto, sizeof proto, "export.pb");
    path_of(file, sizeof file, "cut.pb");
    path_of(db, sizeof db, "cut.db");
    FILE *f = fopen(proto, "rb");
    assert_non_null(f);
    static uint8_t data[1 << 18];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    size_t first =
        4 + ((size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3]);

    /* Cut inside the second record: the first is imported, then reading stops with why. */
    write_file(file, data, first + 10);
    vw_import_stats st;
    assert_int_equal(import_into(db, file, 0, &st), -1);
    assert_int_equal(st.spans, 4);
    char want[200];
    snprintf(want, sizeof want,
             "ERROR: in.jsonl: record 2 (byte %zu): the file ends inside the "
             "record\n",
             first);
    assert_non_null(strstr(err_text, want));

    /* A length no record has: the framing is lost. */
    memcpy(data + first, "\x7f\xff\xff\xff", 4);
    write_file(file, data, n);
    assert_int_equal(import_into(db, file, 0, &st), -1);
    assert_non_null(strstr(err_text, "a length beyond any record"));

    /* A well framed record that is not a request: reported, skipped, the next one read. */
    data[first] = 0, data[first + 1] = 0, data[first + 2] = 0, data[first + 3] = 2;
    size_t second = first + 4 + 2;
    uint8_t junk[] = {0x0a, 0x05}; /* a field claiming 5 bytes it does not have */
    memcpy(data + first + 4, junk, 2);
    memmove(data + second, data, first); /* then the first record again */
    write_file(file, data, second + first);
    assert_int_equal(import_into(db, file, 0, &st), 0);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.bad, 1);
    snprintf(want, sizeof want,
             "otelc view: in.jsonl: record 2 (byte %zu): not an OTLP protobuf "
             "trace request, skipped\n",
             first);
    assert_non_null(strstr(err_text, want));

    /* Empty files import nothing, successfully. */
    write_file(file, "", 0);
    assert_int_equal(import_into(db, file, 0, &st), 0);
    assert_int_equal(st.records, 0);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_file_exporter_output),
        cmocka_unit_test(test_export_import_round_trip),
        cmocka_unit_test(test_full_queue_is_waited_for),
        cmocka_unit_test(test_bad_lines_reported_and_skipped),
        cmocka_unit_test(test_proto_framing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
