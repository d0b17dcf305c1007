/*
 * test_view_ingest.c - the ingest queue's spare batches (viewer/ingest.c):
 * a batch the ingest thread has written comes back to the next receiver
 * emptied, its memory kept, and a batch given back unqueued does too;
 * spans decoded into a reused batch are stored like any others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ingest.h"

static const otelc_scope_info scope = {.name = "test.scope"};

static void set_id(uint8_t *p, size_t n, unsigned v)
{
    memset(p, 0, n);
    p[n - 2] = (uint8_t)(v >> 8);
    p[n - 1] = (uint8_t)v;
}

/* Trace t of n spans into b, as a decoder would fill it. */
static void fill(vw_batch *b, unsigned t, unsigned n)
{
    otelc_attr a = OTELC_ATTR_STR("service.name", "ingest-test");
    const otelc_resource *res = vw_batch_add_resource(b, &a, 1, NULL);
    assert_non_null(res);
    for (unsigned s = 1; s <= n; s++) {
        otelc_span_data *sd = vw_batch_add_span(b);
        assert_non_null(sd);
        set_id(sd->context.trace_id, 16, t);
        set_id(sd->context.span_id, 8, s);
        sd->name = vw_batch_str(b, "work", 4, NULL);
        sd->start_ns = 1700000000000000000ull + s;
        sd->end_ns = sd->start_ns + 1000;
        sd->resource = res;
        sd->scope = &scope;
    }
}

static vw_ingest *start(void)
{
    vw_store_options so = {.path = ":memory:"};
    vw_store *s = NULL;
    char err[256];
    assert_int_equal(vw_store_open(&so, &s, err, sizeof err), 0);
    vw_ingest *in = NULL;
    assert_int_equal(vw_ingest_start(s, NULL, &in), 0);
    return in;
}

static uint64_t stored_spans(vw_ingest *in)
{
    vw_store_counts c;
    vw_ingest_store_counts(in, &c);
    return c.spans;
}

static void test_written_batch_comes_back_empty_with_its_memory(void **state)
{
    (void)state;
    vw_ingest *in = start();
    vw_batch b;
    vw_ingest_batch_get(in, &b);
    assert_int_equal(b.span_cap, 0); /* nothing to reuse yet */
    fill(&b, 1, 300);
    assert_int_equal(vw_ingest_write(in, &b, 10000), VW_INGEST_COMMITTED);
    assert_int_equal(b.count, 0); /* taken by the queue */

    vw_ingest_batch_get(in, &b);
    assert_int_equal(b.count, 0);
    assert_int_equal(b.resource_count, 0);
    assert_int_equal(b.rejected, 0);
    assert_true(b.span_cap >= 300);
    assert_non_null(b.arena.chunks);
    fill(&b, 2, 300);
    assert_int_equal(vw_ingest_write(in, &b, 10000), VW_INGEST_COMMITTED);
    assert_int_equal(stored_spans(in), 600);
    vw_ingest_stop(in); /* frees the spare batches: the leak check says so */
}

static void test_batch_given_back_is_reused(void **state)
{
    (void)state;
    vw_ingest *in = start();
    vw_batch b;
    vw_ingest_batch_get(in, &b);
    fill(&b, 1, 50);
    vw_batch_reject(&b, "span %d has no id", 7);
    vw_ingest_batch_put(in, &b); /* as a receiver does with a batch it did not queue */
    assert_int_equal(b.count, 0);
    assert_null(b.spans);

    vw_ingest_batch_get(in, &b);
    assert_int_equal(b.count, 0);
    assert_int_equal(b.rejected, 0);
    assert_string_equal(b.reject_reason, "");
    assert_true(b.span_cap >= 50);
    vw_ingest_batch_put(in, &b);
    vw_ingest_stop(in);
}

static void test_without_ingest_batches_are_plain(void **state)
{
    (void)state;
    vw_batch b;
    vw_ingest_batch_get(NULL, &b);
    fill(&b, 1, 10);
    vw_ingest_batch_put(NULL, &b); /* freed */
    assert_null(b.spans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_batch_comes_back_empty_with_its_memory),
        cmocka_unit_test(test_batch_given_back_is_reused),
        cmocka_unit_test(test_without_ingest_batches_are_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
