/*
 * test_console.c - the console exporter: trees printed when the root ends,
 * incomplete traces printed on flush, JSON lines with exact escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "otelc/otelc.h"
#include "unit/anyvalue.h"

typedef struct fixture {
    char *buf;
    size_t len;
    FILE *out;
    otelc_provider *prov;
    otelc_tracer *tracer;
} fixture;

static int setup_format(void **state, otelc_console_format format)
{
    fixture *f = calloc(1, sizeof(*f));
    f->out = open_memstream(&f->buf, &f->len);
    assert_non_null(f->out);
    otelc_processor *proc = otelc_simple_processor_new(otelc_console_exporter_new(f->out, format));
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &f->prov), OTELC_OK);
    f->tracer = otelc_provider_tracer(f->prov, "test.console", "1.0", NULL);
    *state = f;
    return 0;
}

static int setup_tree(void **state)
{
    return setup_format(state, OTELC_CONSOLE_TREE);
}

static int setup_json(void **state)
{
    return setup_format(state, OTELC_CONSOLE_JSON);
}

static int teardown(void **state)
{
    fixture *f = *state;
    otelc_provider_free(f->prov);
    fclose(f->out);
    free(f->buf);
    free(f);
    return 0;
}

/* What was written so far (the stream is flushed first). */
static const char *output(fixture *f)
{
    fflush(f->out);
    return f->buf;
}

static otelc_span *start_child(fixture *f, otelc_span *parent, const char *name,
                               otelc_span_kind kind)
{
    otelc_scope sc = otelc_span_activate(parent);
    otelc_span *s = otelc_span_start(f->tracer, name, kind);
    otelc_scope_exit(sc);
    return s;
}

/* Find needle after from, failing the test when it is absent. */
static const char *expect_after(const char *from, const char *needle)
{
    const char *p = strstr(from, needle);
    if (!p) fail_msg("missing \"%s\" in:\n%s", needle, from);
    return p;
}

static void test_tree_prints_when_root_ends(void **state)
{
    fixture *f = *state;
    otelc_span *root = otelc_span_start(f->tracer, "root", OTELC_SPAN_SERVER);
    otelc_span *child = start_child(f, root, "child", OTELC_SPAN_INTERNAL);
    otelc_span *grand = start_child(f, child, "grand", OTELC_SPAN_CLIENT);
    otelc_span *second = start_child(f, root, "second", OTELC_SPAN_PRODUCER);
    otelc_span_set_str(grand, "db.system", "sqlite");
    otelc_span_add_event(grand, "retry", NULL, 0);
    otelc_span_set_status(grand, OTELC_STATUS_ERROR, "timeout");
    otelc_span_end(grand);
    otelc_span_end(child);
    otelc_span_end(second);
    assert_int_equal(strlen(output(f)), 0);
    otelc_span_set_status(root, OTELC_STATUS_OK, NULL);
    otelc_span_end(root);

    char hex[33];
    otelc_span_context sc = otelc_span_get_context(root);
    const char *out = output(f);
    const char *p = expect_after(out, "trace ");
    p = expect_after(p, otelc_trace_id_hex(&sc, hex));
    p = expect_after(p, "\n  root [SERVER] ");
    p = expect_after(p, " ms OK span=");
    p = expect_after(p, "\n    child [INTERNAL] ");
    p = expect_after(p, "\n      grand [CLIENT] ");
    p = expect_after(p, " ms ERROR \"timeout\" span=");
    p = expect_after(p, "\n        attributes: db.system=\"sqlite\"\n");
    p = expect_after(p, "\n        event +");
    p = expect_after(p, " ms retry\n");
    p = expect_after(p, "\n    second [PRODUCER] ");
    p = expect_after(p, " ms UNSET span=");
    assert_null(strstr(p, "root"));
}

static void test_tree_flush_prints_incomplete_trace(void **state)
{
    fixture *f = *state;
    otelc_span *root = otelc_span_start(f->tracer, "open-root", OTELC_SPAN_SERVER);
    otelc_span *child = start_child(f, root, "orphan", OTELC_SPAN_INTERNAL);
    otelc_span_end(child);
    assert_int_equal(strlen(output(f)), 0);
    assert_int_equal(otelc_provider_force_flush(f->prov, 1000), OTELC_OK);
    const char *p = expect_after(output(f), "(1 spans)\n  orphan [INTERNAL]");
    assert_null(strstr(p, "open-root"));
    otelc_span_end(root);
    expect_after(output(f), "\n  open-root [SERVER]");
}

/* Past 4096 held spans the oldest trace is printed as it stands. */
static void test_tree_buffer_is_bounded(void **state)
{
    fixture *f = *state;
    otelc_span *root = otelc_span_start(f->tracer, "never-ends", OTELC_SPAN_SERVER);
    for (int i = 0; i < 4096; i++) otelc_span_end(start_child(f, root, "c", 0));
    assert_int_equal(strlen(output(f)), 0);
    otelc_span_end(start_child(f, root, "c", 0));
    expect_after(output(f), "(4097 spans)\n  c [INTERNAL]");
    otelc_span_end(root);
}

static void test_json_line_per_span(void **state)
{
    fixture *f = *state;
    otelc_span *root = otelc_span_start(f->tracer, "q\"b\\n\n\x01\xff\xc3\xa9", OTELC_SPAN_SERVER);
    const char *items[] = {"x", "y"};
    otelc_span_set_str(root, "s", "v");
    otelc_span_set_int(root, "i", -7);
    otelc_span_set_bool(root, "b", true);
    otelc_span_set_double(root, "d", 1.5);
    otelc_span_set_str_array(root, "arr", items, 2);
    otelc_span_set_status(root, OTELC_STATUS_ERROR, "bad");
    otelc_span *child = start_child(f, root, "child", OTELC_SPAN_CLIENT);
    otelc_attr ea = OTELC_ATTR_INT("n", 3);
    otelc_span_add_event(child, "evt", &ea, 1);
    otelc_span_end(child);
    otelc_span_end(root);

    char tid[33], rid[17], cid[17];
    otelc_span_context rc = otelc_span_get_context(root);
    otelc_span_context cc = otelc_span_get_context(child);
    otelc_trace_id_hex(&rc, tid);
    otelc_span_id_hex(&rc, rid);
    otelc_span_id_hex(&cc, cid);

    const char *out = output(f);
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    assert_non_null(strchr(nl + 1, '\n'));
    assert_int_equal(strchr(nl + 1, '\n')[1], '\0');

    char want[256];
    snprintf(want, sizeof(want), "{\"traceId\":\"%s\",\"spanId\":\"%s\",\"parentSpanId\":\"%s\"",
             tid, cid, rid);
    assert_ptr_equal(strstr(out, want), out);
    const char *p = expect_after(out, "\"name\":\"child\",\"kind\":3,\"startTimeUnixNano\":\"");
    p = expect_after(p, "\"events\":[{\"name\":\"evt\",\"timeUnixNano\":\"");
    p = expect_after(p, "\"attributes\":{\"n\":3}}],\"links\":[]");
    p = expect_after(p, "\"status\":{\"code\":0,\"message\":\"\"}");
    p = expect_after(p, "\"resource\":{\"service.name\":\"");
    p = expect_after(p, "\"scope\":{\"name\":\"test.console\",\"version\":\"1.0\"}}\n");

    snprintf(want, sizeof(want), "\"spanId\":\"%s\",\"parentSpanId\":\"\"", rid);
    p = expect_after(p, want);
    p = expect_after(p, "\"name\":\"q\\\"b\\\\n\\n\\u0001\\ufffd\xc3\xa9\",\"kind\":2");
    p = expect_after(
        p, "\"attributes\":{\"s\":\"v\",\"i\":-7,\"b\":true,\"d\":1.5,\"arr\":[\"x\",\"y\"]}");
    expect_after(p, "\"status\":{\"code\":2,\"message\":\"bad\"}");
}

/*
 * The other AnyValue kinds as the specification writes an AnyValue in JSON
 * for non-OTLP formats: maps as objects, arrays of any values as lists,
 * bytes as base64 strings, the empty value as null.
 */
#define AV_PLAIN_JSON                                                                              \
    "av.bytes\":\"AGH/EA==\",\"av.empty\":null,"                                                   \
    "\"av.map\":{\"list\":[1,\"two\",null,false],\"raw\":\"AGH/EA==\"},"                           \
    "\"av.array\":[{\"deep\":true,\"none\":null},2.5,[],{}],"                                      \
    "\"av.empty_map\":{},\"av.empty_array\":[]"

static void test_json_anyvalue_kinds(void **state)
{
    fixture *f = *state;
    otelc_span *s = otelc_span_start(f->tracer, "anyvalue", OTELC_SPAN_INTERNAL);
    otelc_span_set_attrs(s, AV_ATTRS, AV_LEN(AV_ATTRS));
    otelc_span_add_event(s, "ev", AV_ATTRS, AV_LEN(AV_ATTRS));
    otelc_span_end(s);
    const char *p = expect_after(output(f), "\"events\":[{\"name\":\"ev\"");
    p = expect_after(p, "\"attributes\":{\"" AV_PLAIN_JSON "}}]");
    expect_after(output(f), "\"attributes\":{\"" AV_PLAIN_JSON "},\"events\"");
}

static void test_tree_anyvalue_kinds(void **state)
{
    fixture *f = *state;
    otelc_span *s = otelc_span_start(f->tracer, "anyvalue", OTELC_SPAN_INTERNAL);
    otelc_span_set_attrs(s, AV_ATTRS, AV_LEN(AV_ATTRS));
    otelc_span_end(s);
    expect_after(output(f), "\n    attributes: av.bytes=\"AGH/EA==\", av.empty=null, "
                            "av.map={\"list\":[1,\"two\",null,false],\"raw\":\"AGH/EA==\"}, "
                            "av.array=[{\"deep\":true,\"none\":null},2.5,[],{}], "
                            "av.empty_map={}, av.empty_array=[]\n");
}

static size_t occurrences(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) n++;
    return n;
}

/*
 * Spans the parent holds for an unfinished trace are the parent's to
 * print: a fork child flushing must not print them a second time.
 */
static void test_tree_fork_child_does_not_print_parent_spans(void **state)
{
    (void)state;
    char path[] = "/tmp/otelc-console-fork.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *out = fdopen(fd, "w+");
    fixture f = {.out = out};
    otelc_processor *proc =
        otelc_simple_processor_new(otelc_console_exporter_new(out, OTELC_CONSOLE_TREE));
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &f.prov), OTELC_OK);
    f.tracer = otelc_provider_tracer(f.prov, "test.console", "1.0", NULL);
    otelc_span *root = otelc_span_start(f.tracer, "parent-root", OTELC_SPAN_SERVER);
    otelc_span_end(start_child(&f, root, "held-by-parent", OTELC_SPAN_INTERNAL));
    fflush(out);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        otelc_provider_force_flush(f.prov, 1000);
        fflush(out);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    otelc_span_end(root);
    otelc_provider_free(f.prov);
    fflush(out);
    char text[4096];
    size_t n = pread(fd, text, sizeof text - 1, 0);
    text[n] = '\0';
    assert_int_equal(occurrences(text, "held-by-parent"), 1);
    fclose(out);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tree_prints_when_root_ends, setup_tree, teardown),
        cmocka_unit_test_setup_teardown(test_tree_flush_prints_incomplete_trace, setup_tree,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tree_buffer_is_bounded, setup_tree, teardown),
        cmocka_unit_test_setup_teardown(test_json_line_per_span, setup_json, teardown),
        cmocka_unit_test_setup_teardown(test_json_anyvalue_kinds, setup_json, teardown),
        cmocka_unit_test_setup_teardown(test_tree_anyvalue_kinds, setup_tree, teardown),
        cmocka_unit_test(test_tree_fork_child_does_not_print_parent_spans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
