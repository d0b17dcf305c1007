/*
 * test_arena.c - the span arena's spare chunk, start attributes beyond the
 * inline table, and the shared empty context: the memory reuse the hot path
 * relies on must never hand out memory that is still in use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "unit/collect.h"

static bool inside(const otelc_arena_chunk *c, const void *p)
{
    return (const char *)p >= c->data && (const char *)p < c->data + c->size;
}

static void test_reset_keeps_one_small_chunk_for_the_next_use(void **state)
{
    (void)state;
    char inline_buf[32];
    otelc_arena a = {inline_buf, inline_buf + sizeof inline_buf, NULL, NULL};

    char *small = otelc__arena_alloc(&a, 16, 1);
    assert_true(small >= inline_buf && small < inline_buf + sizeof inline_buf);
    char *spilled = otelc__arena_alloc(&a, 300, 8); /* does not fit inline: a chunk */
    assert_non_null(a.chunks);
    const otelc_arena_chunk *chunk = a.chunks;
    assert_true(inside(chunk, spilled));
    memset(spilled, 'x', 300);

    otelc__arena_reset(&a, inline_buf, sizeof inline_buf);
    assert_null(a.chunks);
    assert_ptr_equal(a.spare, chunk);
    assert_ptr_equal(a.pos, inline_buf);

    /* Inline first again; the spare only when inline is full. */
    assert_ptr_equal(otelc__arena_alloc(&a, 8, 1), inline_buf);
    char *again = otelc__arena_alloc(&a, 200, 8);
    assert_true(inside(chunk, again));
    assert_null(a.spare); /* in use now, not spare */
    otelc__arena_free(&a);
    assert_null(a.chunks);
    assert_null(a.spare);
}

static void test_large_chunks_are_not_kept(void **state)
{
    (void)state;
    otelc_arena a = {NULL, NULL, NULL, NULL};
    assert_non_null(otelc__arena_alloc(&a, OTELC_ARENA_SPARE_MAX + 1, 1));
    otelc__arena_reset(&a, NULL, 0);
    assert_null(a.spare); /* a huge span must not pin its memory in the pool */

    /* Of several chunks, the largest that is small enough is the one kept. */
    assert_non_null(otelc__arena_alloc(&a, 100, 1));
    assert_non_null(otelc__arena_alloc(&a, 1500, 1));
    assert_non_null(otelc__arena_alloc(&a, 5000, 1));
    otelc__arena_reset(&a, NULL, 0);
    assert_non_null(a.spare);
    assert_true(a.spare->size >= 1500 && a.spare->size <= OTELC_ARENA_SPARE_MAX);

    /* A request larger than the spare gets a new chunk; the spare stays spare. */
    const otelc_arena_chunk *spare = a.spare;
    assert_non_null(otelc__arena_alloc(&a, 4000, 1));
    assert_ptr_equal(a.spare, spare);
    otelc__arena_free(&a);
}

COLLECT_FIXTURES(col)

/*
 * Recycled spans reuse their spare chunks: each span is released (and goes
 * back to the pool) before the next one starts, and what each exported is
 * its own, whatever the previous user of its memory held.
 */
static void test_recycled_spans_keep_their_own_values(void **state)
{
    otelc_tracer *t = otelc_provider_tracer(*state, "arena", NULL, NULL);
    char value[200];
    for (int i = 0; i < 300; i++) {
        otelc_span *s = otelc_span_start(t, "recycled", OTELC_SPAN_INTERNAL);
        for (int k = 0; k < 6; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", k);
            snprintf(value, sizeof value, "%0*d", 20 + (i * 7 + k) % 150, i);
            otelc_span_set_str(s, key, value);
        }
        otelc_span_end(s);
        const otelc_span_data *d = collect_find(&col, "recycled");
        assert_non_null(d);
        assert_int_equal(d->attr_count, 6);
        for (int k = 0; k < 6; k++) {
            snprintf(value, sizeof value, "%0*d", 20 + (i * 7 + k) % 150, i);
            assert_string_equal(d->attrs[k].value.u.str.ptr, value);
        }
        collect_clear(&col); /* the span goes back to the pool, spare chunk and all */
    }
}

/* More start attributes than the inline table holds, then more set later. */
static void test_start_attributes_beyond_the_inline_table(void **state)
{
    otelc_attr start[10];
    char keys[10][16];
    for (int i = 0; i < 10; i++) {
        snprintf(keys[i], sizeof keys[i], "start.%d", i);
        start[i] = (otelc_attr)OTELC_ATTR_INT(keys[i], i);
    }
    start[9] = (otelc_attr)OTELC_ATTR_INT("start.0", 100); /* a duplicate: the last wins */
    otelc_span_options o = {.kind = OTELC_SPAN_SERVER, .attrs = start, .attr_count = 10};
    otelc_span *s =
        otelc_span_start_with(otelc_provider_tracer(*state, "arena", NULL, NULL), "wide", &o);
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "later.%d", i);
        otelc_span_set_int(s, key, 1000 + i);
    }
    otelc_span_set_int(s, "start.3", 33);
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "wide");
    assert_int_equal(d->attr_count, 9 + 20);
    assert_int_equal(d->dropped_attr_count, 0);
    assert_int_equal(otelc_span_data_attr(d, "start.0")->u.i, 100);
    assert_int_equal(otelc_span_data_attr(d, "start.3")->u.i, 33);
    assert_int_equal(otelc_span_data_attr(d, "start.8")->u.i, 8);
    assert_int_equal(otelc_span_data_attr(d, "later.19")->u.i, 1019);
}

/* The count limit applies to start attributes too, however many are given. */
static void test_start_attributes_over_the_limit(void **state)
{
    otelc_provider_free(*state);
    collect_clear(&col);
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    lim.attribute_count = 6;
    *state = collect_provider(&col, NULL, &lim);

    otelc_attr start[9];
    char keys[9][16];
    for (int i = 0; i < 9; i++) {
        snprintf(keys[i], sizeof keys[i], "a%d", i);
        start[i] = (otelc_attr)OTELC_ATTR_INT(keys[i], i);
    }
    otelc_span_options o = {.attrs = start, .attr_count = 9};
    otelc_span *s =
        otelc_span_start_with(otelc_provider_tracer(*state, "arena", NULL, NULL), "limited", &o);
    otelc_span_set_int(s, "a5", 55); /* replacing a kept key still works */
    otelc_span_set_int(s, "extra", 1);
    otelc_span_end(s);
    const otelc_span_data *d = collect_find(&col, "limited");
    assert_int_equal(d->attr_count, 6);
    assert_int_equal(d->dropped_attr_count, 4);
    assert_int_equal(otelc_span_data_attr(d, "a5")->u.i, 55);
    assert_null(otelc_span_data_attr(d, "a6"));
}

/* The empty context is shared; holding, attaching and releasing it is always safe. */
static void test_empty_context_is_shared_and_immortal(void **state)
{
    (void)state;
    otelc_context *a = otelc_context_new(NULL, NULL);
    otelc_context *b = otelc_context_new(NULL, NULL);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    otelc_context_release(a);
    otelc_context_release(b);
    otelc_context_release(b); /* one release too many must not free shared memory */
    otelc_scope sc = otelc_context_attach(a);
    otelc_span_context cur = otelc_context_span_context(a);
    assert_false(otelc_span_context_is_valid(&cur));
    otelc_scope_exit(sc);

    /* Anything with content is its own object. */
    otelc_span_context sc2 = {{1}, {2}, 1, true, NULL};
    otelc_context *c = otelc_context_new(&sc2, NULL);
    assert_ptr_not_equal(c, a);
    assert_true(otelc_context_span_context(c).is_remote);
    otelc_context_release(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_keeps_one_small_chunk_for_the_next_use),
        cmocka_unit_test(test_large_chunks_are_not_kept),
        cmocka_unit_test_setup_teardown(test_recycled_spans_keep_their_own_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_attributes_beyond_the_inline_table, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_start_attributes_over_the_limit, setup, teardown),
        cmocka_unit_test(test_empty_context_is_shared_and_immortal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
