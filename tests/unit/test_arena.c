/*
 * test_arena.c - the span arena's spare chunk, start attributes beyond the
 * inline table, and the shared empty context: the memory reuse the hot path
 * relies on must never hand out memory that is still in use. And the deep
 * copy of attribute values (otelc__value_copy) for every AnyValue kind.
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
#include "unit/anyvalue.h"
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

/* ---- otelc__value_copy ---------------------------------------------------------------- */

/* A copy of src into a, which must succeed. */
static otelc_value copied(otelc_arena *a, const otelc_value *src, uint32_t max_chars)
{
    otelc_value v;
    assert_true(otelc__value_copy(a, &v, src, max_chars));
    return v;
}

/* Every new kind comes out equal and owns its memory: the source may change afterwards. */
static void test_copy_of_every_kind_is_deep(void **state)
{
    (void)state;
    otelc_arena a = {0};
    for (size_t i = 0; i < AV_LEN(AV_ATTRS); i++) {
        otelc_value v = copied(&a, &AV_ATTRS[i].value, OTELC_UNLIMITED);
        assert_true(av_equal(&v, &AV_ATTRS[i].value));
    }
    unsigned char raw[] = {0x00, 0xff, 0x00};
    otelc_value items[] = {AV_BYTES_OF(raw), AV_STR("x")};
    char key[] = "key";
    otelc_attr entries[] = {{key, AV_ARRAY_OF(items)}};
    otelc_value src = AV_MAP_OF(entries);
    otelc_value v = copied(&a, &src, OTELC_UNLIMITED);
    raw[1] = 0x01;
    key[0] = 'K';
    items[1].u.str.ptr = "y";
    entries[0].value.u.array.count = 1;
    const otelc_value *list = av_get(&v, "key");
    assert_non_null(list);
    assert_int_equal(list->u.array.count, 2);
    assert_int_equal(av_item(list, 0)->u.str.len, 3);
    assert_memory_equal(av_item(list, 0)->u.str.ptr, "\x00\xff\x00", 3);
    assert_string_equal(av_item(list, 1)->u.str.ptr, "x");
    otelc__arena_free(&a);
}

/*
 * The attribute value length limit reaches strings at every depth, counted
 * in characters, and bytes, counted in bytes; keys and other values stay.
 */
static void test_copy_limits_strings_at_any_depth_and_bytes(void **state)
{
    (void)state;
    otelc_arena a = {0};
    static const char *const words[] = {"abcdef", "\xc3\xa9t\xc3\xa9s"};
    static const unsigned char two_e_acute[] = {0xc3, 0xa9, 0xc3, 0xa9};
    otelc_value inner[] = {AV_STR("h\xc3\xa9llo"),
                           AV_INT(123456),
                           AV_BYTES_OF(two_e_acute),
                           {.type = OTELC_VALUE_STRING_ARRAY, .u.array = {words, 2}}};
    otelc_attr map[] = {{"a-key-longer-than-the-limit", AV_ARRAY_OF(inner)}};
    otelc_value outer[] = {AV_MAP_OF(map), AV_STR("xyzzy")};
    otelc_value src = AV_ARRAY_OF(outer);

    otelc_value v = copied(&a, &src, 3);
    const otelc_value *list = av_get(av_item(&v, 0), "a-key-longer-than-the-limit");
    assert_non_null(list);
    assert_int_equal(av_item(list, 0)->u.str.len, 4); /* "hél": three characters */
    assert_string_equal(av_item(list, 0)->u.str.ptr, "h\xc3\xa9l");
    assert_int_equal(av_item(list, 1)->u.i, 123456);
    assert_int_equal(av_item(list, 2)->u.str.len, 3); /* bytes: cut inside a character */
    assert_memory_equal(av_item(list, 2)->u.str.ptr, "\xc3\xa9\xc3", 3);
    const char *const *cut = av_item(list, 3)->u.array.items;
    assert_string_equal(cut[0], "abc");
    assert_string_equal(cut[1], "\xc3\xa9t\xc3\xa9");
    assert_string_equal(av_item(&v, 1)->u.str.ptr, "xyz");

    v = copied(&a, &AV_ATTRS[0].value, 0); /* a zero limit: bytes kept, but empty */
    assert_int_equal(v.type, OTELC_VALUE_BYTES);
    assert_int_equal(v.u.str.len, 0);
    otelc__arena_free(&a);
}

/* Map keys are unique in the copy: first place, last value; no key, no entry. */
static void test_copy_makes_map_keys_unique(void **state)
{
    (void)state;
    otelc_arena a = {0};
    otelc_attr small[] = {{"a", AV_INT(1)},  {"b", AV_INT(2)}, {"a", AV_INT(3)},
                          {NULL, AV_INT(4)}, {"c", AV_INT(5)}, {"b", AV_EMPTY}};
    otelc_value src = AV_MAP_OF(small);
    otelc_value v = copied(&a, &src, OTELC_UNLIMITED);
    const otelc_attr *got = v.u.array.items;
    assert_int_equal(v.u.array.count, 3);
    assert_string_equal(got[0].key, "a");
    assert_int_equal(got[0].value.u.i, 3);
    assert_string_equal(got[1].key, "b");
    assert_int_equal(got[1].value.type, OTELC_VALUE_EMPTY);
    assert_string_equal(got[2].key, "c");

    /* A large map (received from another SDK): every key twice, the second time with i + 1000. */
    enum { KEYS = 700 };
    static char keys[KEYS][8];
    static otelc_attr large[2 * KEYS];
    for (int i = 0; i < KEYS; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        large[i] = (otelc_attr){keys[i], AV_INT(i)};
        large[KEYS + i] = (otelc_attr){keys[i], AV_INT(i + 1000)};
    }
    src = (otelc_value)AV_MAP_OF(large);
    v = copied(&a, &src, OTELC_UNLIMITED);
    got = v.u.array.items;
    assert_int_equal(v.u.array.count, KEYS);
    for (int i = 0; i < KEYS; i++) {
        assert_string_equal(got[i].key, keys[i]);
        assert_int_equal(got[i].value.u.i, i + 1000);
    }
    otelc__arena_free(&a);
}

/*
 * Depth OTELC_MAX_VALUE_DEPTH is kept whole; one level more and the
 * innermost array or map becomes the empty value. A homogeneous array is
 * a level too.
 */
static void test_copy_bounds_the_nesting(void **state)
{
    (void)state;
    enum { D = OTELC_MAX_VALUE_DEPTH };
    static const int64_t ints[] = {7, 8};
    const otelc_value leaf = AV_INT(42);
    const otelc_value ints_leaf = {.type = OTELC_VALUE_INT_ARRAY, .u.array = {ints, 2}};
    otelc_value levels[D + 1];
    otelc_attr slots[D + 1];
    otelc_arena a = {0};
    static const otelc_value_type kinds[] = {OTELC_VALUE_ARRAY, OTELC_VALUE_MAP};
    for (size_t k = 0; k < 2; k++) {
        otelc_value src = av_nest(levels, D, kinds[k], slots, leaf);
        otelc_value v = copied(&a, &src, OTELC_UNLIMITED);
        assert_true(av_equal(&v, &src));
        assert_int_equal(av_dig(&v, D)->u.i, 42);

        src = av_nest(levels, D + 1, kinds[k], slots, leaf);
        v = copied(&a, &src, OTELC_UNLIMITED);
        assert_int_equal(av_dig(&v, D)->type, OTELC_VALUE_EMPTY);

        src = av_nest(levels, D - 1, kinds[k], slots, ints_leaf);
        v = copied(&a, &src, OTELC_UNLIMITED);
        assert_int_equal(av_dig(&v, D - 1)->type, OTELC_VALUE_INT_ARRAY);
        assert_int_equal(((const int64_t *)av_dig(&v, D - 1)->u.array.items)[1], 8);

        src = av_nest(levels, D, kinds[k], slots, ints_leaf);
        v = copied(&a, &src, OTELC_UNLIMITED);
        assert_int_equal(av_dig(&v, D)->type, OTELC_VALUE_EMPTY);
    }
    otelc__arena_free(&a);
}

/* An unknown type is refused at the top and empty inside; NULL items are no items. */
static void test_copy_of_unknown_and_null(void **state)
{
    (void)state;
    otelc_arena a = {0};
    otelc_value v;
    otelc_value bad = {.type = (otelc_value_type)99};
    assert_false(otelc__value_copy(&a, &v, &bad, OTELC_UNLIMITED));
    bad.type = (otelc_value_type)0;
    assert_false(otelc__value_copy(&a, &v, &bad, OTELC_UNLIMITED));

    otelc_value items[] = {AV_INT(1), {.type = (otelc_value_type)99, .u.i = 5}};
    otelc_value src = AV_ARRAY_OF(items);
    v = copied(&a, &src, OTELC_UNLIMITED);
    assert_int_equal(v.u.array.count, 2);
    assert_int_equal(av_item(&v, 1)->type, OTELC_VALUE_EMPTY);

    static const otelc_value_type lists[] = {OTELC_VALUE_ARRAY, OTELC_VALUE_MAP};
    for (size_t i = 0; i < 2; i++) {
        src = (otelc_value){.type = lists[i], .u.array = {NULL, 5}};
        v = copied(&a, &src, OTELC_UNLIMITED);
        assert_int_equal(v.type, lists[i]);
        assert_int_equal(v.u.array.count, 0);
    }
    src = (otelc_value){.type = OTELC_VALUE_BYTES, .u.str = {NULL, 5}};
    v = copied(&a, &src, OTELC_UNLIMITED);
    assert_int_equal(v.u.str.len, 0);
    assert_non_null(v.u.str.ptr);
    src = (otelc_value){.type = OTELC_VALUE_EMPTY, .u.i = 77};
    v = copied(&a, &src, OTELC_UNLIMITED);
    assert_int_equal(v.type, OTELC_VALUE_EMPTY);
    otelc__arena_free(&a);
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
        cmocka_unit_test(test_copy_of_every_kind_is_deep),
        cmocka_unit_test(test_copy_limits_strings_at_any_depth_and_bytes),
        cmocka_unit_test(test_copy_makes_map_keys_unique),
        cmocka_unit_test(test_copy_bounds_the_nesting),
        cmocka_unit_test(test_copy_of_unknown_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
