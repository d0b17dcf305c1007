/*
 * test_b3_jaeger.c - the B3 (single and multi header) and Jaeger
 * propagators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otelc/otelc.h"

#define TID   "4bf92f3577b34da6a3ce929d0e0e4736"
#define TID64 "a3ce929d0e0e4736"
#define SID   "00f067aa0ba902b7"

/* Extract with p from headers given as name, value pairs (NULL-terminated). */
static otelc_span_context extract_sc(otelc_propagator *p, const char *const *kv)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx;
    otelc_span_context sc;

    for (size_t i = 0; kv[i]; i += 2) otelc_headers_add(&h, kv[i], kv[i + 1]);
    ctx = otelc_propagator_extract(p, NULL, &c);
    assert_non_null(ctx);
    sc = otelc_context_span_context(ctx);
    sc.trace_state = NULL; /* owned by ctx */
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
    return sc;
}

static void assert_ids(const otelc_span_context *sc, const char *tid, const char *sid)
{
    char t[33], s[17];
    assert_true(otelc_span_context_is_valid(sc));
    assert_true(sc->is_remote);
    assert_string_equal(otelc_trace_id_hex(sc, t), tid);
    assert_string_equal(otelc_span_id_hex(sc, s), sid);
}

static void test_b3_single_valid(void **state)
{
    otelc_span_context sc;

    sc = extract_sc(otelc_propagator_b3(), (const char *[]){"b3", TID "-" SID "-1", NULL});
    assert_ids(&sc, TID, SID);
    assert_true(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(otelc_propagator_b3(), (const char *[]){"B3", TID64 "-" SID, NULL});
    assert_ids(&sc, "0000000000000000" TID64, SID);
    assert_false(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(otelc_propagator_b3(), (const char *[]){"b3", TID "-" SID "-d", NULL});
    assert_true(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(otelc_propagator_b3(),
                    (const char *[]){"b3", " " TID "-" SID "-0-05e3ac9a4f6e3b90 ", NULL});
    assert_ids(&sc, TID, SID);
    assert_false(otelc_span_context_is_sampled(&sc));
}

static void test_b3_single_invalid(void **state)
{
    static const char *bad[] = {
        "0",
        "1",
        "d",
        "",
        TID,
        TID "-" SID "-x",
        TID "-" SID "-1-",
        TID "-" SID "-1-05e3ac9a4f6e3b90-extra",
        TID "-" SID "-1-05e3",
        "4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-1",
        TID "0-" SID,
        "abc-" SID,
        TID "-" SID "0",
        "00000000000000000000000000000000-" SID,
        TID "-0000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        otelc_span_context sc =
            extract_sc(otelc_propagator_b3(), (const char *[]){"b3", bad[i], NULL});
        if (otelc_span_context_is_valid(&sc)) fail_msg("accepted b3: '%s'", bad[i]);
    }
}

static void test_b3_multi(void **state)
{
    otelc_span_context sc;

    sc = extract_sc(otelc_propagator_b3multi(), (const char *[]){"X-B3-TraceId", TID, "X-B3-SpanId",
                                                                 SID, "X-B3-Sampled", "1", NULL});
    assert_ids(&sc, TID, SID);
    assert_true(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(otelc_propagator_b3multi(),
                    (const char *[]){"x-b3-traceid", TID64, "x-b3-spanid", SID, "x-b3-sampled", "0",
                                     "x-b3-flags", "1", NULL});
    assert_ids(&sc, "0000000000000000" TID64, SID);
    assert_true(otelc_span_context_is_sampled(&sc)); /* debug implies sampled */
    sc =
        extract_sc(otelc_propagator_b3multi(), (const char *[]){"x-b3-traceid", TID, "x-b3-spanid",
                                                                SID, "x-b3-sampled", "true", NULL});
    assert_true(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(otelc_propagator_b3multi(),
                    (const char *[]){"x-b3-traceid", TID, "x-b3-spanid", SID, NULL});
    assert_ids(&sc, TID, SID);
    assert_false(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(otelc_propagator_b3multi(), (const char *[]){"x-b3-traceid", TID, NULL});
    assert_false(otelc_span_context_is_valid(&sc));
    sc = extract_sc(otelc_propagator_b3multi(), (const char *[]){"x-b3-traceid", TID, "x-b3-spanid",
                                                                 SID, "x-b3-sampled", "yes", NULL});
    assert_false(otelc_span_context_is_valid(&sc));
}

static void test_b3_single_wins_over_multi(void **state)
{
    otelc_span_context sc;

    sc = extract_sc(otelc_propagator_b3multi(),
                    (const char *[]){"x-b3-traceid", TID, "x-b3-spanid", "1111111111111111", "b3",
                                     TID "-" SID "-1", NULL});
    assert_ids(&sc, TID, SID);
    /* an invalid single header falls back to the multi headers */
    sc = extract_sc(otelc_propagator_b3(),
                    (const char *[]){"x-b3-traceid", TID, "x-b3-spanid", SID, "b3", "junk", NULL});
    assert_ids(&sc, TID, SID);
}

static otelc_context *make_ctx(bool sampled)
{
    otelc_span_context sc;
    char tp[] = "00-" TID "-" SID "-01";
    if (!sampled) tp[54] = '0';
    assert_int_equal(otelc_traceparent_parse(tp, strlen(tp), &sc), OTELC_OK);
    return otelc_context_new(&sc, NULL);
}

static void test_b3_inject(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx = make_ctx(true), *ctx0 = make_ctx(false);

    otelc_propagator_inject(otelc_propagator_b3(), ctx, &c);
    assert_string_equal(otelc_headers_get(&h, "b3"), TID "-" SID "-1");
    assert_int_equal(h.count, 1);
    otelc_headers_clear(&h);
    otelc_propagator_inject(otelc_propagator_b3multi(), ctx0, &c);
    assert_string_equal(otelc_headers_get(&h, "X-B3-TraceId"), TID);
    assert_string_equal(otelc_headers_get(&h, "X-B3-SpanId"), SID);
    assert_string_equal(otelc_headers_get(&h, "X-B3-Sampled"), "0");
    assert_null(otelc_headers_get(&h, "X-B3-ParentSpanId"));
    otelc_headers_clear(&h);
    otelc_context_release(ctx);
    otelc_context_release(ctx0);
}

static void test_jaeger_extract(void **state)
{
    otelc_span_context sc;
    otelc_propagator *j = otelc_propagator_jaeger();

    sc = extract_sc(j, (const char *[]){"uber-trace-id", TID ":" SID ":0:1", NULL});
    assert_ids(&sc, TID, SID);
    assert_true(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(j, (const char *[]){"Uber-Trace-Id", "abc:def:0:0", NULL});
    assert_ids(&sc, "00000000000000000000000000000abc", "0000000000000def");
    assert_false(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(j, (const char *[]){"uber-trace-id", TID "%3A" SID "%3a0%3A03", NULL});
    assert_ids(&sc, TID, SID);
    assert_true(otelc_span_context_is_sampled(&sc));
    sc = extract_sc(j, (const char *[]){"uber-trace-id", TID ":" SID ":0:2", NULL});
    assert_false(otelc_span_context_is_sampled(&sc)); /* debug bit alone */
}

static void test_jaeger_extract_invalid(void **state)
{
    static const char *bad[] = {
        TID ":" SID ":0",    TID ":" SID ":0:1:9", "0:" SID ":0:1",      TID ":0:0:1",
        TID "0:" SID ":0:1", TID ":" SID "0:0:1",  TID ":" SID ":0:100", TID ":" SID "::1",
        TID ":" SID ":0:x",  ":" SID ":0:1",       TID "%3" SID ":0:1",  "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        otelc_span_context sc =
            extract_sc(otelc_propagator_jaeger(), (const char *[]){"uber-trace-id", bad[i], NULL});
        if (otelc_span_context_is_valid(&sc)) fail_msg("accepted uber-trace-id: '%s'", bad[i]);
    }
}

static void test_jaeger_inject_and_baggage(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx = make_ctx(true), *with, *got;
    otelc_baggage *bg = otelc_baggage_set(NULL, "user", "a b:c", NULL);
    const otelc_baggage *gb;

    with = otelc_context_with_baggage(ctx, bg);
    otelc_propagator_inject(otelc_propagator_jaeger(), with, &c);
    assert_string_equal(otelc_headers_get(&h, "uber-trace-id"), TID ":" SID ":0:01");
    assert_string_equal(otelc_headers_get(&h, "uberctx-user"), "a%20b:c");
    otelc_headers_add(&h, "UberCtx-Other", "x%2Cy");
    got = otelc_propagator_extract(otelc_propagator_jaeger(), NULL, &c);
    gb = otelc_context_baggage(got);
    assert_string_equal(otelc_baggage_get(gb, "user"), "a b:c");
    assert_string_equal(otelc_baggage_get(gb, "Other"), "x,y");
    otelc_context_release(got);
    otelc_context_release(with);
    otelc_context_release(ctx);
    otelc_baggage_release(bg);
    otelc_headers_clear(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b3_single_valid),
        cmocka_unit_test(test_b3_single_invalid),
        cmocka_unit_test(test_b3_multi),
        cmocka_unit_test(test_b3_single_wins_over_multi),
        cmocka_unit_test(test_b3_inject),
        cmocka_unit_test(test_jaeger_extract),
        cmocka_unit_test(test_jaeger_extract_invalid),
        cmocka_unit_test(test_jaeger_inject_and_baggage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
