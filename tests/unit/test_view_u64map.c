/*
 * test_view_u64map.c - the store's hash tables (viewer/u64map.c): keys
 * removed newest first leave the older ones findable, and removing every
 * key empties the table as a clear would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "u64map.h"

#define KEYS 150 /* in a table of 256 slots: many keys are probed past others */

static uint64_t key_of(unsigned i)
{
    return (uint64_t)i * 256 + 7;
}

static void fill(vw_u64map *m)
{
    for (unsigned i = 0; i < KEYS; i++) {
        bool added;
        uint64_t *v = vw_u64map_put(m, key_of(i), &added);
        assert_non_null(v);
        assert_true(added);
        *v = i + 1;
    }
}

static void test_remove_newest_keeps_older_keys(void **state)
{
    (void)state;
    vw_u64map m;
    assert_true(vw_u64map_init(&m, 100));
    fill(&m);
    for (unsigned i = KEYS; i-- > KEYS / 2;) vw_u64map_remove_newest(&m, key_of(i));
    for (unsigned i = 0; i < KEYS; i++) {
        uint64_t *v = vw_u64map_get(&m, key_of(i));
        if (i < KEYS / 2) {
            assert_non_null(v);
            assert_int_equal(*v, i + 1);
        } else {
            assert_null(v);
        }
    }
    vw_u64map_remove_newest(&m, 12345); /* absent: nothing */
    assert_int_equal(m.count, KEYS / 2);
    vw_u64map_free(&m);
}

static void test_removing_every_key_empties_the_table(void **state)
{
    (void)state;
    vw_u64map m;
    assert_true(vw_u64map_init(&m, 100));
    for (int round = 0; round < 3; round++) { /* as a store's transactions use it */
        fill(&m);
        for (unsigned i = KEYS; i-- > 0;) vw_u64map_remove_newest(&m, key_of(i));
        assert_int_equal(m.count, 0);
        for (size_t slot = 0; slot <= m.mask; slot++) assert_int_equal(m.slots[slot].key, 0);
    }
    vw_u64map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remove_newest_keeps_older_keys),
        cmocka_unit_test(test_removing_every_key_empties_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
