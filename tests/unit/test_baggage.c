/*
 * test_baggage.c - the immutable baggage map, the W3C baggage header and
 * the baggage propagator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otelc/otelc.h"

static otelc_baggage *parse(const otelc_baggage *base, const char *s)
{
    return otelc_baggage_parse(base, s, strlen(s));
}

static void test_set_get_immutable(void **state)
{
    otelc_baggage *a = otelc_baggage_set(NULL, "user", "alice", NULL);
    otelc_baggage *b = otelc_baggage_set(a, "tier", "gold", "ttl=30");
    otelc_baggage *c = otelc_baggage_set(b, "user", "bob", NULL);
    const char *k, *v, *m;

    assert_non_null(a);
    assert_int_equal(otelc_baggage_count(a), 1);
    assert_int_equal(otelc_baggage_count(b), 2);
    assert_string_equal(otelc_baggage_get(b, "user"), "alice");
    assert_string_equal(otelc_baggage_get(c, "user"), "bob");
    assert_string_equal(otelc_baggage_get(a, "user"), "alice"); /* untouched */
    assert_null(otelc_baggage_get(a, "tier"));
    assert_string_equal(otelc_baggage_get_metadata(c, "tier"), "ttl=30");
    assert_null(otelc_baggage_get_metadata(c, "user"));
    /* replacing keeps the entry's place */
    assert_true(otelc_baggage_entry(c, 0, &k, &v, &m));
    assert_string_equal(k, "user");
    assert_string_equal(v, "bob");
    assert_null(m);
    assert_true(otelc_baggage_entry(c, 1, &k, &v, &m));
    assert_string_equal(k, "tier");
    assert_false(otelc_baggage_entry(c, 2, &k, &v, &m));
    assert_false(otelc_baggage_entry(NULL, 0, &k, &v, &m));
    assert_int_equal(otelc_baggage_count(NULL), 0);
    assert_null(otelc_baggage_get(NULL, "user"));
    otelc_baggage_release(a);
    otelc_baggage_release(b);
    otelc_baggage_release(c);
}

static void test_set_rejects_bad_keys(void **state)
{
    otelc_baggage *a = otelc_baggage_set(NULL, "ok", "1", NULL);

    assert_null(otelc_baggage_set(a, "", "x", NULL));
    assert_null(otelc_baggage_set(a, "has space", "x", NULL));
    assert_null(otelc_baggage_set(a, "a=b", "x", NULL));
    assert_null(otelc_baggage_set(a, "a,b", "x", NULL));
    assert_null(otelc_baggage_set(a, NULL, "x", NULL));
    assert_null(otelc_baggage_set(a, "k", NULL, NULL));
    assert_int_equal(otelc_baggage_count(a), 1);
    otelc_baggage_release(a);
}

static void test_remove_retain_release(void **state)
{
    otelc_baggage *a = otelc_baggage_set(NULL, "x", "1", NULL);
    otelc_baggage *b = otelc_baggage_set(a, "y", "2", NULL);
    otelc_baggage *c = otelc_baggage_remove(b, "x");
    otelc_baggage *d = otelc_baggage_remove(b, "absent");

    assert_int_equal(otelc_baggage_count(c), 1);
    assert_null(otelc_baggage_get(c, "x"));
    assert_string_equal(otelc_baggage_get(c, "y"), "2");
    assert_int_equal(otelc_baggage_count(d), 2);
    assert_int_equal(otelc_baggage_count(b), 2);
    assert_ptr_equal(otelc_baggage_retain(b), b);
    otelc_baggage_release(b);
    assert_string_equal(otelc_baggage_get(b, "x"), "1"); /* still referenced */
    assert_null(otelc_baggage_remove(NULL, "x"));
    otelc_baggage_release(a);
    otelc_baggage_release(b);
    otelc_baggage_release(c);
    otelc_baggage_release(d);
    otelc_baggage_release(NULL);
}

static void test_parse_basic(void **state)
{
    otelc_baggage *bg =
        parse(NULL, " userId = alice%20smith ,  serverNode=DF%2028;ttl=5;p ,isProd=false");

    assert_non_null(bg);
    assert_int_equal(otelc_baggage_count(bg), 3);
    assert_string_equal(otelc_baggage_get(bg, "userId"), "alice smith");
    assert_string_equal(otelc_baggage_get(bg, "serverNode"), "DF 28");
    assert_string_equal(otelc_baggage_get_metadata(bg, "serverNode"), "ttl=5;p");
    assert_string_equal(otelc_baggage_get(bg, "isProd"), "false");
    otelc_baggage_release(bg);
}

static void test_parse_skips_invalid_members(void **state)
{
    otelc_baggage *bg = parse(NULL, "a=1,=2,b c=3,d,e=x y,f=%zz,g=%00,h=%4,i=ok,,j=\"q\"");

    assert_int_equal(otelc_baggage_count(bg), 2);
    assert_string_equal(otelc_baggage_get(bg, "a"), "1");
    assert_string_equal(otelc_baggage_get(bg, "i"), "ok");
    otelc_baggage_release(bg);
    assert_null(parse(NULL, "nothing valid,=x"));
    assert_null(parse(NULL, ""));
    assert_null(otelc_baggage_parse(NULL, NULL, 0));
}

static void test_parse_on_base(void **state)
{
    otelc_baggage *base = otelc_baggage_set(NULL, "a", "old", NULL);
    otelc_baggage *bg = parse(base, "a=new,b=2,b=3");
    otelc_baggage *same = parse(base, "!!!");

    assert_string_equal(otelc_baggage_get(bg, "a"), "new");
    assert_string_equal(otelc_baggage_get(bg, "b"), "3");
    assert_int_equal(otelc_baggage_count(bg), 2);
    assert_string_equal(otelc_baggage_get(base, "a"), "old");
    assert_ptr_equal(same, base);
    otelc_baggage_release(same);
    otelc_baggage_release(bg);
    otelc_baggage_release(base);
}

static void test_parse_member_limit(void **state)
{
    char buf[4096];
    size_t len = 0;
    otelc_baggage *bg;

    for (int i = 0; i < 181; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%sk%d=%d", i ? "," : "", i, i);
    bg = parse(NULL, buf);
    assert_int_equal(otelc_baggage_count(bg), 180);
    assert_non_null(otelc_baggage_get(bg, "k179"));
    assert_null(otelc_baggage_get(bg, "k180"));
    otelc_baggage_release(bg);
}

static void test_parse_byte_limits(void **state)
{
    char *buf = malloc(20000);
    otelc_baggage *bg;

    /* one member over the whole 8192-byte budget is dropped, its neighbours kept */
    strcpy(buf, "a=1,big=");
    memset(buf + 8, 'x', 8189);
    strcpy(buf + 8 + 8189, ",c=3");
    bg = parse(NULL, buf);
    assert_int_equal(otelc_baggage_count(bg), 2);
    assert_null(otelc_baggage_get(bg, "big"));
    otelc_baggage_release(bg);

    /* a single 6000-byte member fits the budget and must be propagated */
    strcpy(buf, "big=");
    memset(buf + 4, 'x', 5996);
    buf[6000] = '\0';
    bg = parse(NULL, buf);
    assert_int_equal(strlen(otelc_baggage_get(bg, "big")), 5996);
    otelc_baggage_release(bg);

    /* three members of 4000 bytes: the third would pass 8192 bytes */
    size_t len = 0;
    for (int i = 0; i < 3; i++) {
        len += (size_t)sprintf(buf + len, "%sk%d=", i ? "," : "", i);
        memset(buf + len, 'v', 3997);
        len += 3997;
    }
    buf[len] = '\0';
    bg = parse(NULL, buf);
    assert_int_equal(otelc_baggage_count(bg), 2);
    assert_null(otelc_baggage_get(bg, "k2"));
    otelc_baggage_release(bg);
    free(buf);
}

static void test_format_and_round_trip(void **state)
{
    static const char *values[] = {"plain",        "a,b;c=d e", "100%",     "caf\xc3\xa9",
                                   "\"quoted\"\\", "",          "tab\there"};
    otelc_baggage *bg = NULL, *back;
    char out[1024], key[8];
    int n;

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        otelc_baggage *next;
        snprintf(key, sizeof key, "k%zu", i);
        next = otelc_baggage_set(bg, key, values[i], i == 1 ? "prop1;prop2=x" : NULL);
        otelc_baggage_release(bg);
        bg = next;
    }
    n = otelc_baggage_format(bg, out, sizeof out);
    assert_int_equal(n, (int)strlen(out));
    assert_non_null(strstr(out, "k1=a%2Cb%3Bc%3Dd%20e;prop1;prop2=x"));
    assert_non_null(strstr(out, "k2=100%25"));
    assert_non_null(strstr(out, "k3=caf%C3%A9"));
    assert_null(strchr(out, ' '));
    back = parse(NULL, out);
    assert_int_equal(otelc_baggage_count(back), otelc_baggage_count(bg));
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        assert_string_equal(otelc_baggage_get(back, key), values[i]);
    }
    assert_string_equal(otelc_baggage_get_metadata(back, "k1"), "prop1;prop2=x");
    otelc_baggage_release(back);

    /* too small: the needed length, and a terminated prefix */
    assert_int_equal(otelc_baggage_format(bg, out, 4), n);
    assert_true(strlen(out) < 4);
    assert_int_equal(otelc_baggage_format(bg, NULL, 0), n);
    assert_int_equal(otelc_baggage_format(NULL, out, sizeof out), 0);
    assert_string_equal(out, "");
    otelc_baggage_release(bg);
}

static void test_format_leaves_out_oversized(void **state)
{
    char *big = malloc(9000), *out = malloc(20000);
    otelc_baggage *bg = otelc_baggage_set(NULL, "small", "1", NULL), *next;

    /* a member larger than the whole 8192-byte budget cannot be sent */
    memset(big, 'x', 8999);
    big[8999] = '\0';
    next = otelc_baggage_set(bg, "big", big, NULL);
    otelc_baggage_release(bg);
    bg = next;
    assert_int_equal(otelc_baggage_format(bg, out, 20000), 7);
    assert_string_equal(out, "small=1");
    otelc_baggage_release(bg);
    free(big);
    free(out);
}

static void test_propagator_round_trip(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_baggage *bg = otelc_baggage_set(NULL, "k", "v w", "m");
    otelc_context *ctx = otelc_context_new(NULL, bg), *got;
    const otelc_baggage *gb;

    otelc_propagator_inject(otelc_propagator_baggage(), ctx, &c);
    assert_string_equal(otelc_headers_get(&h, "baggage"), "k=v%20w;m");
    otelc_headers_add(&h, "Baggage", "second=2");
    got = otelc_propagator_extract(otelc_propagator_baggage(), NULL, &c);
    gb = otelc_context_baggage(got);
    assert_string_equal(otelc_baggage_get(gb, "k"), "v w");
    assert_string_equal(otelc_baggage_get(gb, "second"), "2");
    otelc_context_release(got);
    otelc_context_release(ctx);
    otelc_baggage_release(bg);
    otelc_headers_clear(&h);

    /* no baggage: no header */
    ctx = otelc_context_new(NULL, NULL);
    otelc_propagator_inject(otelc_propagator_baggage(), ctx, &c);
    assert_int_equal(h.count, 0);
    otelc_context_release(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_immutable),
        cmocka_unit_test(test_set_rejects_bad_keys),
        cmocka_unit_test(test_remove_retain_release),
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_skips_invalid_members),
        cmocka_unit_test(test_parse_on_base),
        cmocka_unit_test(test_parse_member_limit),
        cmocka_unit_test(test_parse_byte_limits),
        cmocka_unit_test(test_format_and_round_trip),
        cmocka_unit_test(test_format_leaves_out_oversized),
        cmocka_unit_test(test_propagator_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
