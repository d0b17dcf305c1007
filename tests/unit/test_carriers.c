/*
 * test_carriers.c - the ready-made carriers, propagator lists and
 * composites, the global inject/extract, and context strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otelc/otelc.h"

#define TID  "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID  "00f067aa0ba902b7"
#define TP00 "00-" TID "-" SID "-01"

static otelc_context *make_ctx(const char *tracestate, const char *bkey, const char *bval)
{
    otelc_span_context sc;
    otelc_baggage *bg = bkey ? otelc_baggage_set(NULL, bkey, bval, NULL) : NULL;
    otelc_context *ctx;

    assert_int_equal(otelc_traceparent_parse(TP00, strlen(TP00), &sc), OTELC_OK);
    sc.trace_state = tracestate;
    ctx = otelc_context_new(&sc, bg);
    otelc_baggage_release(bg);
    assert_non_null(ctx);
    return ctx;
}

static void assert_same_context(const otelc_context *a, const otelc_context *b)
{
    otelc_span_context x = otelc_context_span_context(a), y = otelc_context_span_context(b);
    const otelc_baggage *ba = otelc_context_baggage(a), *bb = otelc_context_baggage(b);

    assert_memory_equal(x.trace_id, y.trace_id, 16);
    assert_memory_equal(x.span_id, y.span_id, 8);
    assert_int_equal(x.trace_flags, y.trace_flags);
    assert_string_equal(x.trace_state ? x.trace_state : "", y.trace_state ? y.trace_state : "");
    assert_int_equal(otelc_baggage_count(ba), otelc_baggage_count(bb));
    for (size_t i = 0; i < otelc_baggage_count(ba); i++) {
        const char *k, *v, *m;
        assert_true(otelc_baggage_entry(ba, i, &k, &v, &m));
        assert_string_equal(otelc_baggage_get(bb, k), v);
    }
}

static void test_headers(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    const char *vals[4], *names[8];

    assert_int_equal(otelc_headers_add(&h, "A", "1"), OTELC_OK);
    assert_int_equal(otelc_headers_add(&h, "a", "2"), OTELC_OK);
    assert_int_equal(otelc_headers_add(&h, "B", "3"), OTELC_OK);
    assert_string_equal(otelc_headers_get(&h, "a"), "1");
    assert_string_equal(c.get(c.self, "b"), "3");
    assert_null(c.get(c.self, "c"));
    assert_int_equal(c.get_all(c.self, "A", vals, 4), 2);
    assert_string_equal(vals[1], "2");
    assert_int_equal(c.get_all(c.self, "A", vals, 1), 2); /* the real count */
    assert_int_equal(c.keys(c.self, names, 8), 3);
    assert_string_equal(names[2], "B");
    c.set(c.self, "A", "9");
    assert_int_equal(h.count, 2);
    assert_string_equal(otelc_headers_get(&h, "a"), "9");
    assert_int_equal(otelc_headers_add(&h, NULL, "x"), OTELC_ERR_INVALID_ARG);
    otelc_headers_clear(&h);
    assert_int_equal(h.count, 0);
    assert_null(otelc_headers_get(&h, "a"));
    otelc_headers_clear(&h);
}

static void test_env_carrier_round_trip(void **state)
{
    otelc_carrier env = otelc_env_carrier();
    otelc_propagator *p = otelc_propagator_from_list("tracecontext,baggage", NULL);
    otelc_context *ctx = make_ctx("a=1", "k", "v 1"), *got;

    unsetenv("TRACEPARENT");
    unsetenv("TRACESTATE");
    unsetenv("BAGGAGE");
    otelc_propagator_inject(p, ctx, &env);
    assert_string_equal(getenv("TRACEPARENT"), TP00);
    assert_string_equal(getenv("TRACESTATE"), "a=1");
    assert_string_equal(getenv("BAGGAGE"), "k=v%201");
    setenv("X_B3_TRACEID", "abc", 1);
    assert_string_equal(env.get(env.self, "x-b3-traceid"), "abc");
    got = otelc_propagator_extract(p, NULL, &env);
    assert_same_context(ctx, got);
    otelc_context_release(got);
    otelc_context_release(ctx);
    otelc_propagator_free(p);
    unsetenv("TRACEPARENT");
    unsetenv("TRACESTATE");
    unsetenv("BAGGAGE");
    unsetenv("X_B3_TRACEID");
}

static void test_envp_carrier(void **state)
{
    char **envp;
    otelc_carrier c;
    otelc_context *ctx = make_ctx(NULL, NULL, NULL), *got;
    size_t before = 0, after = 0;

    setenv("OTELC_TEST_MARK", "1", 1);
    envp = otelc_envp_copy();
    assert_non_null(envp);
    c = otelc_envp_carrier(&envp);
    assert_string_equal(c.get(c.self, "otelc-test-mark"), "1");
    while (envp[before]) before++;
    otelc_propagator_inject(otelc_propagator_tracecontext(), ctx, &c);
    c.set(c.self, "traceparent", TP00); /* replaces, does not append */
    while (envp[after]) after++;
    assert_int_equal(after, before + 1);
    assert_string_equal(c.get(c.self, "traceparent"), TP00);
    assert_null(getenv("TRACEPARENT")); /* the process environment is untouched */
    got = otelc_propagator_extract(otelc_propagator_tracecontext(), NULL, &c);
    assert_same_context(ctx, got);
    otelc_context_release(got);
    otelc_context_release(ctx);
    otelc_envp_free(envp);
    unsetenv("OTELC_TEST_MARK");
}

static void test_from_list(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx = make_ctx(NULL, "k", "v");
    otelc_propagator *p;
    int bad = -1;

    p = otelc_propagator_from_list(" tracecontext , b3multi,jaeger,b3,baggage ", &bad);
    assert_int_equal(bad, 0);
    otelc_propagator_inject(p, ctx, &c);
    assert_non_null(otelc_headers_get(&h, "traceparent"));
    assert_non_null(otelc_headers_get(&h, "x-b3-traceid"));
    assert_non_null(otelc_headers_get(&h, "b3"));
    assert_non_null(otelc_headers_get(&h, "uber-trace-id"));
    assert_non_null(otelc_headers_get(&h, "baggage"));
    otelc_propagator_free(p);
    otelc_headers_clear(&h);

    p = otelc_propagator_from_list("tracecontext,xray,,bogus", &bad);
    assert_int_equal(bad, 2);
    otelc_propagator_inject(p, ctx, &c);
    assert_int_equal(h.count, 1);
    otelc_propagator_free(p);
    otelc_headers_clear(&h);

    p = otelc_propagator_from_list("none", &bad);
    assert_int_equal(bad, 0);
    otelc_propagator_inject(p, ctx, &c);
    assert_int_equal(h.count, 0);
    otelc_propagator_free(p);
    otelc_propagator_free(NULL);
    otelc_context_release(ctx);
}

static void test_composite_extract_order(void **state)
{
    otelc_propagator *parts[2] = {otelc_propagator_b3(), otelc_propagator_tracecontext()};
    otelc_propagator *p = otelc_propagator_composite(parts, 2);
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *got;
    otelc_span_context sc;
    char hex[17];

    otelc_headers_add(&h, "b3", TID "-1111111111111111-1");
    otelc_headers_add(&h, "traceparent", TP00);
    got = otelc_propagator_extract(p, NULL, &c);
    sc = otelc_context_span_context(got);
    /* the later part wins */
    assert_string_equal(otelc_span_id_hex(&sc, hex), SID);
    otelc_context_release(got);
    otelc_propagator_free(p);
    otelc_headers_clear(&h);
}

static void test_global_inject_extract_without_provider(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx = make_ctx("x=y", "k", "v"), *got;

    otelc_inject(ctx, &c);
    assert_string_equal(otelc_headers_get(&h, "traceparent"), TP00);
    assert_string_equal(otelc_headers_get(&h, "baggage"), "k=v");
    got = otelc_extract(&c);
    assert_same_context(ctx, got);
    otelc_context_release(got);
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

static void test_serialize_round_trip(void **state)
{
    otelc_context *ctx = make_ctx("ot=th:8,a=b c", "user", "x;y%z=,w"), *got;
    char buf[512];
    int n = otelc_context_serialize(ctx, buf, sizeof buf);

    assert_true(n > 55);
    assert_int_equal(n, (int)strlen(buf));
    assert_true(strncmp(buf, TP00 ";tracestate=", 55 + 12) == 0);
    assert_null(strchr(buf, ' '));
    got = otelc_context_deserialize(buf);
    assert_non_null(got);
    assert_true(otelc_context_span_context(got).is_remote);
    assert_same_context(ctx, got);
    otelc_context_release(got);
    /* too small: the length needed, nothing past the buffer */
    assert_int_equal(otelc_context_serialize(ctx, buf, 10), n);
    assert_int_equal(strlen(buf), 9);
    assert_int_equal(otelc_context_serialize(ctx, NULL, 0), n);
    otelc_context_release(ctx);
}

static void test_serialize_baggage_only_and_empty(void **state)
{
    otelc_baggage *bg = otelc_baggage_set(NULL, "k", "v", NULL);
    otelc_context *ctx = otelc_context_new(NULL, bg), *got;
    char buf[256];
    otelc_span_context sc;

    otelc_baggage_release(bg);
    assert_true(otelc_context_serialize(ctx, buf, sizeof buf) > 0);
    got = otelc_context_deserialize(buf);
    assert_non_null(got);
    sc = otelc_context_span_context(got);
    assert_false(otelc_span_context_is_valid(&sc));
    assert_string_equal(otelc_baggage_get(otelc_context_baggage(got), "k"), "v");
    otelc_context_release(got);
    otelc_context_release(ctx);
    assert_int_equal(otelc_context_serialize(NULL, buf, sizeof buf), 55);
    got = otelc_context_deserialize(buf);
    assert_non_null(got);
    otelc_context_release(got);
}

static void test_deserialize_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "garbage",
        TP00 ";",
        TP00 ";tracestate=",
        TP00 ";tracestate=A%3D1",
        TP00 ";tracestate=a%3D1;tracestate=b%3D2",
        TP00 ";baggage=k%3Dv;baggage=k%3Dv",
        TP00 ";baggage=%3D%3D",
        TP00 ";baggage=k%3Dv%2",
        TP00 ";unknown=1",
        TP00 "x",
        "00-" TID "-" SID "-01-",
        "00-00000000000000000000000000000000-0000000000000000-00;tracestate=a%3D1",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        otelc_context *ctx = otelc_context_deserialize(bad[i]);
        if (ctx != NULL) fail_msg("accepted '%s'", bad[i]);
    }
    assert_null(otelc_context_deserialize(NULL));
}

static void test_inject_current_context(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx = make_ctx(NULL, "k", "v");
    otelc_scope scope = otelc_context_attach(ctx);

    otelc_propagator_inject(otelc_propagator_tracecontext(), NULL, &c);
    otelc_propagator_inject(otelc_propagator_baggage(), NULL, &c);
    otelc_scope_exit(scope);
    assert_string_equal(otelc_headers_get(&h, "traceparent"), TP00);
    assert_string_equal(otelc_headers_get(&h, "baggage"), "k=v");
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

/* Extract headers (name, value pairs) and return how many errors were counted. */
static uint64_t errors_for(const char *const *kv)
{
    otelc_propagator *p = otelc_propagator_from_list("tracecontext,baggage,b3,jaeger", NULL);
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_stats before, after;

    for (size_t i = 0; kv[i]; i += 2) otelc_headers_add(&h, kv[i], kv[i + 1]);
    otelc_stats_get(&before);
    otelc_context_release(otelc_propagator_extract(p, NULL, &c));
    otelc_stats_get(&after);
    otelc_headers_clear(&h);
    otelc_propagator_free(p);
    return after.propagation_errors - before.propagation_errors;
}

static void test_propagation_errors_counted(void **state)
{
    otelc_provider_options opts = {.no_env = true};
    otelc_provider *provider = NULL;

    assert_int_equal(otelc_provider_new(&opts, &provider), OTELC_OK);
    otelc_provider_set_global(provider);
    assert_int_equal(errors_for((const char *[]){"x-other", "1", NULL}), 0);
    assert_int_equal(errors_for((const char *[]){"traceparent", TP00, "tracestate", "a=1",
                                                 "baggage", "k=v", NULL}),
                     0);
    assert_int_equal(errors_for((const char *[]){"traceparent", "00-xyz", NULL}), 1);
    assert_int_equal(errors_for((const char *[]){"traceparent", TP00, "traceparent", TP00, NULL}),
                     1);
    assert_int_equal(errors_for((const char *[]){"traceparent", TP00, "tracestate", "A=1", NULL}),
                     1);
    assert_int_equal(errors_for((const char *[]){"baggage", "k=v,bad key=1", NULL}), 1);
    assert_int_equal(errors_for((const char *[]){"b3", "junk", NULL}), 1);
    assert_int_equal(errors_for((const char *[]){"uber-trace-id", "1:2:3", NULL}), 1);
    otelc_provider_set_global(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_env_carrier_round_trip),
        cmocka_unit_test(test_envp_carrier),
        cmocka_unit_test(test_from_list),
        cmocka_unit_test(test_composite_extract_order),
        cmocka_unit_test(test_global_inject_extract_without_provider),
        cmocka_unit_test(test_serialize_round_trip),
        cmocka_unit_test(test_serialize_baggage_only_and_empty),
        cmocka_unit_test(test_deserialize_malformed),
        cmocka_unit_test(test_inject_current_context),
        cmocka_unit_test(test_propagation_errors_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
