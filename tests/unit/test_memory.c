/*
 * test_memory.c - the in-memory exporter and the testing helpers: deep
 * copies, lookups, trace shape checks, waiting and failure injection.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/otelc.h"
#include "otelc/testing.h"
#include "unit/anyvalue.h"

typedef struct fixture {
    otelc_memory_exporter *mem;
    otelc_provider *prov;
    otelc_tracer *tracer;
} fixture;

/* A provider exporting synchronously into a fresh memory store. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->prov = otelc_testing_provider_new(&f->mem);
    assert_non_null(f->prov);
    assert_non_null(f->mem);
    f->tracer = otelc_provider_tracer(f->prov, "test.memory", "0.1", NULL);
    *state = f;
    return 0;
}

/* The store outlives the provider, which owns the exporter. */
static int teardown(void **state)
{
    fixture *f = *state;
    otelc_provider_free(f->prov);
    otelc_memory_exporter_free(f->mem);
    free(f);
    return 0;
}

static otelc_span *child_of(fixture *f, otelc_span *parent, const char *name)
{
    otelc_scope sc = otelc_span_activate(parent);
    otelc_span *s = otelc_span_start(f->tracer, name, OTELC_SPAN_INTERNAL);
    otelc_scope_exit(sc);
    return s;
}

/* The test pipeline: parent-based sampling, spans stored as they end. */
static void test_testing_provider(void **state)
{
    fixture *f = *state;
    otelc_span_context unsampled = {.trace_id = {1}, .span_id = {2}, .is_remote = true};
    otelc_context *parent = otelc_context_new(&unsampled, NULL);
    otelc_span_options o = {.parent = parent};
    otelc_span_end(otelc_span_start(f->tracer, "root", OTELC_SPAN_INTERNAL));
    assert_int_equal(otelc_memory_exporter_count(f->mem), 1); /* no flush needed */
    otelc_span_end(otelc_span_start_with(f->tracer, "child of unsampled", &o));
    assert_int_equal(otelc_memory_exporter_count(f->mem), 1);
    otelc_context_release(parent);
    assert_null(otelc_testing_provider_new(NULL));
}

/* Spans are copied: everything survives the span's recycling and the provider. */
static void test_deep_copy(void **state)
{
    fixture *f = *state;
    otelc_span *s = otelc_span_start(f->tracer, "copy", OTELC_SPAN_CLIENT);
    const char *names[] = {"a", "bb"};
    const int64_t nums[] = {1, 2, 3};
    otelc_span_set_str(s, "k", "v");
    otelc_span_set_int(s, "n", 42);
    otelc_span_set_str_array(s, "names", names, 2);
    otelc_span_set_int_array(s, "nums", nums, 3);
    otelc_attr ea = OTELC_ATTR_STR("ek", "ev");
    otelc_span_add_event(s, "evt", &ea, 1);
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "broken");
    otelc_span_end(s);
    for (int i = 0; i < 50; i++) otelc_span_end(otelc_span_start(f->tracer, "x", 0));
    otelc_provider_free(f->prov);
    f->prov = NULL;

    const otelc_span_data *d = otelc_testing_find(f->mem, "copy");
    assert_non_null(d);
    assert_int_equal(d->kind, OTELC_SPAN_CLIENT);
    assert_string_equal(otelc_testing_attr_str(d, "k"), "v");
    int64_t n = 0;
    assert_true(otelc_testing_attr_int(d, "n", &n));
    assert_int_equal(n, 42);
    assert_false(otelc_testing_attr_int(d, "k", &n));
    const otelc_value *arr = otelc_span_data_attr(d, "names");
    assert_non_null(arr);
    assert_int_equal(arr->u.array.count, 2);
    assert_string_equal(((const char *const *)arr->u.array.items)[1], "bb");
    arr = otelc_span_data_attr(d, "nums");
    assert_int_equal(((const int64_t *)arr->u.array.items)[2], 3);
    assert_int_equal(d->event_count, 1);
    assert_string_equal(d->events[0].name, "evt");
    assert_string_equal(otelc_testing_attr_str(
                            &(otelc_span_data){.attrs = d->events[0].attrs, .attr_count = 1}, "ek"),
                        "ev");
    assert_string_equal(d->status_message, "broken");
    assert_string_equal(d->scope->name, "test.memory");
    assert_string_equal(d->scope->version, "0.1");
    assert_non_null(otelc_resource_get(d->resource, "service.name"));
}

/*
 * A span as the viewer decodes it: every AnyValue kind, attributes and a
 * dropped count on its scope, a schema URL on its resource. The copy
 * keeps all of it and none of the sender's memory.
 */
static void test_deep_copy_of_a_received_span(void **state)
{
    (void)state;
    otelc_exporter *exp = NULL;
    otelc_memory_exporter *mem = otelc_memory_exporter_new(&exp);
    av_span s;
    av_span_init(&s);
    otelc_resource_free(s.resource);
    otelc_attr res_attrs[] = {AV_ATTRS[2]};
    s.resource = otelc_resource_new(res_attrs, 1, "https://opentelemetry.io/schemas/1.26.0");
    s.sd.resource = s.resource;
    otelc_event_data ev = {"ev", 1, AV_ATTRS, AV_LEN(AV_ATTRS), 2};
    s.sd.events = &ev;
    s.sd.event_count = 1;
    const otelc_span_data *list[] = {&s.sd};
    assert_int_equal(otelc_exporter_export(exp, list, 1), OTELC_EXPORT_SUCCESS);
    otelc_resource_free(s.resource);

    const otelc_span_data *c = otelc_memory_exporter_get(mem, 0);
    assert_non_null(c);
    assert_int_equal(c->attr_count, AV_LEN(AV_ATTRS));
    assert_true(av_attrs_equal(c->attrs, AV_ATTRS, AV_LEN(AV_ATTRS)));
    assert_ptr_not_equal(av_get(&c->attrs[2].value, "list")->u.array.items, AV_LIST_ITEMS);
    assert_true(av_attrs_equal(c->events[0].attrs, AV_ATTRS, AV_LEN(AV_ATTRS)));
    assert_int_equal(c->events[0].dropped_attr_count, 2);
    assert_ptr_not_equal(c->scope, &s.scope);
    assert_string_equal(c->scope->name, "av.scope");
    assert_int_equal(c->scope->attr_count, AV_LEN(AV_SCOPE_ATTRS));
    assert_ptr_not_equal(c->scope->attrs, AV_SCOPE_ATTRS);
    assert_true(av_attrs_equal(c->scope->attrs, AV_SCOPE_ATTRS, AV_LEN(AV_SCOPE_ATTRS)));
    assert_int_equal(c->scope->dropped_attr_count, 3);
    assert_string_equal(otelc_resource_schema_url(c->resource),
                        "https://opentelemetry.io/schemas/1.26.0");
    assert_true(av_equal(otelc_resource_get(c->resource, "av.map"), &AV_ATTRS[2].value));
    otelc_exporter_free(exp);
    otelc_memory_exporter_free(mem);
}

static void test_find_by_name_and_attribute(void **state)
{
    fixture *f = *state;
    otelc_span *a = otelc_span_start(f->tracer, "a", 0);
    otelc_span_set_str(a, "role", "db");
    otelc_span_end(a);
    otelc_span *b = otelc_span_start(f->tracer, "b", 0);
    otelc_span_set_str(b, "role", "cache");
    otelc_span_end(b);
    otelc_span_end(otelc_span_start(f->tracer, "b", 0));

    assert_int_equal(otelc_memory_exporter_count(f->mem), 3);
    assert_string_equal(otelc_testing_find(f->mem, "a")->name, "a");
    assert_null(otelc_testing_find(f->mem, "zzz"));
    assert_int_equal(otelc_testing_count_named(f->mem, "b"), 2);
    assert_int_equal(otelc_testing_count_named(f->mem, "zzz"), 0);
    assert_string_equal(otelc_testing_find_attr(f->mem, "role", "cache")->name, "b");
    assert_string_equal(otelc_testing_find_attr(f->mem, "role", NULL)->name, "a");
    assert_null(otelc_testing_find_attr(f->mem, "role", "queue"));
    assert_null(otelc_testing_find_attr(f->mem, "missing", NULL));
    assert_ptr_equal(otelc_memory_exporter_get(f->mem, 0), otelc_testing_find(f->mem, "a"));
    assert_null(otelc_memory_exporter_get(f->mem, 3));
    otelc_memory_exporter_reset(f->mem);
    assert_int_equal(otelc_memory_exporter_count(f->mem), 0);
    assert_null(otelc_testing_find(f->mem, "a"));
}

static void test_parentage_and_complete_trace(void **state)
{
    fixture *f = *state;
    otelc_span *root = otelc_span_start(f->tracer, "root", OTELC_SPAN_SERVER);
    otelc_span *mid = child_of(f, root, "mid");
    otelc_span *leaf = child_of(f, mid, "leaf");
    otelc_span_context sc = otelc_span_get_context(root);
    otelc_span_end(leaf);
    otelc_span_end(mid);

    char why[128] = "";
    assert_false(otelc_testing_trace_complete(f->mem, sc.trace_id, false, why, sizeof(why)));
    assert_non_null(strstr(why, "missing"));
    otelc_span_end(root);
    assert_true(otelc_testing_trace_complete(f->mem, sc.trace_id, false, why, sizeof(why)));

    const otelc_span_data *r = otelc_testing_find(f->mem, "root");
    const otelc_span_data *m = otelc_testing_find(f->mem, "mid");
    const otelc_span_data *l = otelc_testing_find(f->mem, "leaf");
    assert_true(otelc_testing_is_parent(r, m, why, sizeof(why)));
    assert_true(otelc_testing_is_parent(m, l, why, sizeof(why)));
    assert_false(otelc_testing_is_parent(r, l, why, sizeof(why)));
    assert_non_null(strstr(why, "'leaf' has parent"));
    assert_false(otelc_testing_is_parent(l, r, NULL, 0));
}

static void test_two_roots_and_remote_roots(void **state)
{
    fixture *f = *state;
    otelc_span *root = otelc_span_start(f->tracer, "root", 0);
    otelc_span_context sc = otelc_span_get_context(root);
    otelc_span_end(root);
    /* A second root in the same trace, through a remote parent context. */
    otelc_span_context remote = sc;
    remote.is_remote = true;
    remote.span_id[0] ^= 0xff;
    otelc_context *ctx = otelc_context_new(&remote, NULL);
    otelc_span_options o = {.parent = ctx};
    otelc_span_end(otelc_span_start_with(f->tracer, "remote-child", &o));
    otelc_context_release(ctx);

    char why[128] = "";
    assert_false(otelc_testing_trace_complete(f->mem, sc.trace_id, true, why, sizeof(why)));
    assert_non_null(strstr(why, "two roots"));
    assert_false(otelc_testing_trace_complete(f->mem, sc.trace_id, false, why, sizeof(why)));
    assert_non_null(strstr(why, "missing"));

    /* Alone, a span with a remote parent is a complete trace when allowed. */
    otelc_memory_exporter_reset(f->mem);
    o.parent = ctx = otelc_context_new(&remote, NULL);
    otelc_span_end(otelc_span_start_with(f->tracer, "remote-child", &o));
    otelc_context_release(ctx);
    assert_true(otelc_testing_trace_complete(f->mem, sc.trace_id, true, why, sizeof(why)));
    uint8_t none[16] = {1};
    assert_false(otelc_testing_trace_complete(f->mem, none, true, why, sizeof(why)));
}

static void test_traces_disjoint(void **state)
{
    fixture *f = *state;
    otelc_span *a = otelc_span_start(f->tracer, "a", 0);
    otelc_span *b = otelc_span_start(f->tracer, "b", 0);
    otelc_span_context ca = otelc_span_get_context(a), cb = otelc_span_get_context(b);
    otelc_span_end(a);
    otelc_span_end(b);
    char why[128] = "";
    assert_true(otelc_testing_traces_disjoint(f->mem, ca.trace_id, cb.trace_id, why, sizeof(why)));
    assert_false(otelc_testing_traces_disjoint(f->mem, ca.trace_id, ca.trace_id, why, sizeof(why)));
    assert_non_null(strstr(why, "in both traces"));
}

static void *late_exporter(void *arg)
{
    fixture *f = arg;
    otelc_span_end(otelc_span_start(f->tracer, "late", 0));
    return NULL;
}

static void test_wait_reached_and_timed_out(void **state)
{
    fixture *f = *state;
    assert_false(otelc_memory_exporter_wait(f->mem, 1, 20));
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_exporter, f), 0);
    assert_true(otelc_memory_exporter_wait(f->mem, 1, 30000));
    pthread_join(th, NULL);
    assert_false(otelc_memory_exporter_wait(f->mem, 2, 10));
    assert_true(otelc_memory_exporter_wait(f->mem, 1, 0));
}

static void test_failing_export(void **state)
{
    fixture *f = *state;
    otelc_exporter *exp = NULL;
    otelc_memory_exporter *m = otelc_memory_exporter_new(&exp);
    otelc_span *s = otelc_span_start(f->tracer, "direct", 0);
    otelc_span_end(s);
    const otelc_span_data *sd = otelc_testing_find(f->mem, "direct");
    otelc_memory_exporter_set_failing(m, true);
    assert_int_equal(otelc_exporter_export(exp, &sd, 1), OTELC_EXPORT_FAILURE);
    assert_int_equal(otelc_memory_exporter_count(m), 0);
    otelc_memory_exporter_set_failing(m, false);
    assert_int_equal(otelc_exporter_export(exp, &sd, 1), OTELC_EXPORT_SUCCESS);
    assert_int_equal(otelc_memory_exporter_count(m), 1);
    assert_string_equal(otelc_memory_exporter_get(m, 0)->name, "direct");
    otelc_exporter_free(exp);
    otelc_memory_exporter_free(m);

    /* Through the provider, failures are counted. */
    otelc_memory_exporter_set_failing(f->mem, true);
    otelc_span_end(otelc_span_start(f->tracer, "lost", 0));
    otelc_stats st;
    otelc_provider_stats(f->prov, &st);
    assert_int_equal(st.export_failures, 1);
    assert_null(otelc_testing_find(f->mem, "lost"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_testing_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_copy, setup, teardown),
        cmocka_unit_test(test_deep_copy_of_a_received_span),
        cmocka_unit_test_setup_teardown(test_find_by_name_and_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parentage_and_complete_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_roots_and_remote_roots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traces_disjoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_reached_and_timed_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_export, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
