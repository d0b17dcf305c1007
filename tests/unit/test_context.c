/* test_context.c - current context across threads, hand-off, env parent, global provider. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "unit/collect.h"

COLLECT_FIXTURES(col)

struct worker_arg {
    otelc_tracer *tracer;
    otelc_context *parent;
    int index;
};

#define WORKERS    4
#define SPANS_EACH 200

static void *worker(void *p)
{
    struct worker_arg *a = p;
    otelc_scope sc = otelc_context_attach(a->parent);
    for (int i = 0; i < SPANS_EACH; i++) {
        otelc_span *s = otelc_span_start(a->tracer, "work", OTELC_SPAN_INTERNAL);
        otelc_scope inner = otelc_span_activate(s);
        otelc_span *leaf = otelc_span_start(a->tracer, "leaf", OTELC_SPAN_INTERNAL);
        otelc_span_set_int(leaf, "worker", a->index);
        otelc_span_end(leaf);
        otelc_scope_exit(inner);
        otelc_span_end(s);
    }
    otelc_scope_exit(sc);
    return NULL;
}

/* A context snapshot handed to threads parents everything they start. */
static void test_context_handoff_across_threads(void **state)
{
    otelc_tracer *t = otelc_provider_tracer(*state, "threads", NULL, NULL);
    otelc_span *root = otelc_span_start(t, "root", OTELC_SPAN_SERVER);
    otelc_scope sc = otelc_span_activate(root);
    otelc_context *snap = otelc_context_current();
    pthread_t th[WORKERS];
    struct worker_arg args[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        args[i] = (struct worker_arg){t, snap, i};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
    otelc_context_release(snap);
    otelc_scope_exit(sc);
    otelc_span_end(root);

    assert_int_equal(col.count, 1 + WORKERS * SPANS_EACH * 2);
    const otelc_span_data *r = collect_find(&col, "root");
    size_t under_root = 0;
    for (size_t i = 0; i < col.count; i++) {
        const otelc_span_data *d = col.spans[i];
        assert_memory_equal(d->context.trace_id, r->context.trace_id, 16);
        if (strcmp(d->name, "work") == 0) {
            assert_memory_equal(d->parent_span_id, r->context.span_id, 8);
            under_root++;
        }
        if (strcmp(d->name, "leaf") == 0) {
            /* the leaf's parent is a "work" span, never the root */
            assert_memory_not_equal(d->parent_span_id, r->context.span_id, 8);
        }
    }
    assert_int_equal(under_root, WORKERS * SPANS_EACH);
    /* ids are unique across threads */
    for (size_t i = 0; i < col.count; i++)
        for (size_t j = i + 1; j < col.count; j++)
            assert_memory_not_equal(col.spans[i]->context.span_id, col.spans[j]->context.span_id,
                                    8);
}

static void test_baggage_follows_attached_context(void **state)
{
    (void)state;
    assert_null(otelc_baggage_current());
    otelc_baggage *bg = otelc_baggage_set(NULL, "tenant", "acme", NULL);
    otelc_baggage *bg2 = otelc_baggage_set(bg, "region", "eu", "p=1");
    assert_null(otelc_baggage_get(bg, "region")); /* immutable */
    otelc_context *ctx = otelc_context_with_baggage(NULL, bg2);
    otelc_scope sc = otelc_context_attach(ctx);
    assert_string_equal(otelc_baggage_get(otelc_baggage_current(), "tenant"), "acme");
    assert_string_equal(otelc_baggage_get_metadata(otelc_baggage_current(), "region"), "p=1");
    otelc_context *snap = otelc_context_current();
    assert_string_equal(otelc_baggage_get(otelc_context_baggage(snap), "region"), "eu");
    otelc_scope_exit(sc);
    assert_null(otelc_baggage_current());
    otelc_context_release(snap);
    otelc_context_release(ctx);
    otelc_baggage_release(bg);
    otelc_baggage_release(bg2);
}

/* TRACEPARENT in the environment makes new root spans its children. */
static void test_environment_parent(void **state)
{
    (void)state;
    setenv("TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 1);
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(NULL, &p), OTELC_OK);
    unsetenv("TRACEPARENT");
    collect c2;
    collect_init(&c2);
    otelc_provider_add_processor(p,
                                 otelc_simple_processor_new(otelc_exporter_new(&collect_ops, &c2)));
    otelc_tracer *t = otelc_provider_tracer(p, "env", NULL, NULL);
    otelc_span_end(otelc_span_start(t, "child-process", OTELC_SPAN_INTERNAL));
    assert_int_equal(c2.count, 1);
    char hex[33], phex[17];
    otelc_trace_id_hex(&c2.spans[0]->context, hex);
    assert_string_equal(hex, "0af7651916cd43dd8448eb211c80319c");
    otelc_span_context parent = {.trace_flags = 0};
    memcpy(parent.span_id, c2.spans[0]->parent_span_id, 8);
    assert_string_equal(otelc_span_id_hex(&parent, phex), "b7ad6b7169203331");
    assert_true(c2.spans[0]->parent_is_remote);
    otelc_provider_free(p);
    collect_clear(&c2);
}

static void test_sdk_disabled_by_environment(void **state)
{
    (void)state;
    setenv("OTEL_SDK_DISABLED", "TRUE", 1);
    assert_int_equal(otelc_init(NULL), OTELC_OK);
    unsetenv("OTEL_SDK_DISABLED");
    assert_true(otelc_provider_is_disabled(otelc_provider_global()));
    otelc_tracer *t = otelc_tracer_get("x", NULL);
    otelc_span *s = otelc_span_start(t, "nothing", OTELC_SPAN_INTERNAL);
    assert_false(otelc_span_is_recording(s));
    otelc_span_end(s);
    otelc_stats st;
    otelc_stats_get(&st);
    assert_int_equal(st.spans_started, 0);
    otelc_shutdown();
    assert_null(otelc_provider_global());
}

/* A tracer cached before otelc_shutdown() stays safe to use afterwards. */
static void test_global_tracer_survives_shutdown(void **state)
{
    (void)state;
    otelc_provider_options o = {.no_env = true};
    assert_int_equal(otelc_init(&o), OTELC_OK);
    otelc_tracer *t = otelc_tracer_get("cached", "1");
    otelc_span *s = otelc_span_start(t, "before", OTELC_SPAN_INTERNAL);
    assert_true(otelc_span_is_recording(s));
    otelc_span_end(s);
    otelc_shutdown();
    s = otelc_span_start(t, "after", OTELC_SPAN_INTERNAL);
    assert_false(otelc_span_is_recording(s));
    otelc_span_end(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_context_handoff_across_threads, setup, teardown),
        cmocka_unit_test(test_baggage_follows_attached_context),
        cmocka_unit_test(test_environment_parent),
        cmocka_unit_test(test_sdk_disabled_by_environment),
        cmocka_unit_test(test_global_tracer_survives_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
