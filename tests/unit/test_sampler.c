/*
 * test_sampler.c - built-in samplers: always on/off, TraceIdRatioBased
 * (threshold, randomness, tracestate), ParentBased and rate limiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static otelc_sampling_decision decide(otelc_sampler *s, const otelc_span_context *parent,
                                      const uint8_t trace_id[16], otelc_sampling_result *r)
{
    otelc_sampling_params p = {
        .parent = parent, .trace_id = trace_id, .name = "op", .kind = OTELC_SPAN_INTERNAL};
    otelc_sampler_should_sample(s, &p, r);
    return r->decision;
}

/* A trace id whose randomness (right-most 7 bytes) is r. */
static void id_with_randomness(uint8_t id[16], uint64_t r)
{
    memset(id, 0xab, 9);
    for (int i = 15; i >= 9; i--, r >>= 8) id[i] = (uint8_t)r;
}

static void test_always(void **state)
{
    (void)state;
    uint8_t id[16];
    otelc_sampling_result r;
    otelc__trace_id_new(id);

    otelc_sampler *on = otelc_sampler_always_on(), *off = otelc_sampler_always_off();
    assert_int_equal(decide(on, NULL, id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_null(r.trace_state);
    assert_int_equal(decide(off, NULL, id, &r), OTELC_SAMPLING_DROP);
    assert_string_equal(otelc_sampler_description(on), "AlwaysOnSampler");
    assert_string_equal(otelc_sampler_description(off), "AlwaysOffSampler");
    otelc_sampler_free(on);
    otelc_sampler_free(off);
    otelc_sampler_free(NULL);
}

/* ---- TraceIdRatioBased --------------------------------------------------------- */

static size_t count_sampled(otelc_sampler *s, size_t n)
{
    size_t hits = 0;
    otelc_sampling_result r;
    uint8_t id[16];
    for (size_t i = 0; i < n; i++) {
        otelc__trace_id_new(id);
        hits += decide(s, NULL, id, &r) == OTELC_SAMPLING_RECORD_AND_SAMPLE;
    }
    return hits;
}

static void test_ratio_extremes(void **state)
{
    (void)state;
    otelc_sampler *none = otelc_sampler_trace_id_ratio(0.0);
    otelc_sampler *all = otelc_sampler_trace_id_ratio(1.0);
    assert_int_equal(count_sampled(none, 20000), 0);
    assert_int_equal(count_sampled(all, 20000), 20000);

    uint8_t id[16];
    otelc_sampling_result r;
    id_with_randomness(id, 0);
    assert_int_equal(decide(all, NULL, id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_string_equal(r.trace_state, "ot=th:0");
    id_with_randomness(id, 0xffffffffffffffULL);
    assert_int_equal(decide(none, NULL, id, &r), OTELC_SAMPLING_DROP);
    assert_null(r.trace_state);
    otelc_sampler_free(none);
    otelc_sampler_free(all);
}

static void test_ratio_quarter(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_trace_id_ratio(0.25);
    assert_string_equal(otelc_sampler_description(s), "TraceIdRatioBased{0.250000}");
    size_t hits = count_sampled(s, 100000);
    /* Binomial sd is ~137; 1000 is over seven of them. */
    assert_in_range(hits, 24000, 26000);

    /* The threshold for 0.25 is 0xc0000000000000: R >= T samples, exactly. */
    uint8_t id[16];
    otelc_sampling_result r;
    id_with_randomness(id, 0xc0000000000000ULL);
    assert_int_equal(decide(s, NULL, id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_string_equal(r.trace_state, "ot=th:c");
    id_with_randomness(id, 0xbfffffffffffffULL);
    assert_int_equal(decide(s, NULL, id, &r), OTELC_SAMPLING_DROP);

    /* Deterministic: the same id always gets the same answer. */
    otelc__trace_id_new(id);
    otelc_sampling_decision first = decide(s, NULL, id, &r);
    for (int i = 0; i < 100; i++) assert_int_equal(decide(s, NULL, id, &r), first);
    otelc_sampler_free(s);
}

/* The left-most 9 bytes of the trace id do not matter. */
static void test_ratio_uses_right_most_bytes(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_trace_id_ratio(0.5);
    uint8_t a[16], b[16];
    otelc_sampling_result r;
    id_with_randomness(a, 0x90000000000000ULL);
    memcpy(b, a, 16);
    memset(b, 0x00, 9);
    b[0] = 1;
    assert_int_equal(decide(s, NULL, a, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_int_equal(decide(s, NULL, b, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    a[9] = 0x10;
    assert_int_equal(decide(s, NULL, a, &r), OTELC_SAMPLING_DROP);
    otelc_sampler_free(s);
    uint8_t c[16];
    for (int i = 0; i < 16; i++) c[i] = (uint8_t)(i * 0x11);
    assert_true(otelc__trace_id_randomness(c) == 0x99aabbccddeeffULL);
}

/* A higher ratio samples a superset of what a lower one samples. */
static void test_ratio_consistent(void **state)
{
    (void)state;
    otelc_sampler *lo = otelc_sampler_trace_id_ratio(0.1), *hi = otelc_sampler_trace_id_ratio(0.3);
    otelc_sampling_result r;
    uint8_t id[16];
    for (int i = 0; i < 20000; i++) {
        otelc__trace_id_new(id);
        if (decide(lo, NULL, id, &r) == OTELC_SAMPLING_RECORD_AND_SAMPLE)
            assert_int_equal(decide(hi, NULL, id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    }
    otelc_sampler_free(lo);
    otelc_sampler_free(hi);
}

/* th values as the spec's table lists them for 4 digits of precision. */
static void test_ratio_threshold_encoding(void **state)
{
    (void)state;
    static const struct {
        double ratio;
        const char *ts;
    } cases[] = {
        {0.5, "ot=th:8"},      {0.25, "ot=th:c"},       {0.125, "ot=th:e"},
        {0.1, "ot=th:e666"},   {1.0 / 3, "ot=th:aaab"}, {0.2, "ot=th:cccd"},
        {0.01, "ot=th:fd70a"}, {0.001, "ot=th:ffbe77"}, {0.0001, "ot=th:fff9724"},
        {0.0625, "ot=th:f"},
    };
    uint8_t id[16];
    id_with_randomness(id, 0xffffffffffffffULL); /* sampled by every ratio */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        otelc_sampler *s = otelc_sampler_trace_id_ratio(cases[i].ratio);
        otelc_sampling_result r;
        assert_int_equal(decide(s, NULL, id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
        assert_string_equal(r.trace_state, cases[i].ts);
        otelc_sampler_free(s);
    }
}

static void test_ratio_description(void **state)
{
    (void)state;
    otelc_sampler *a = otelc_sampler_trace_id_ratio(0.0001);
    otelc_sampler *b = otelc_sampler_trace_id_ratio(1e-7);
    otelc_sampler *c = otelc_sampler_trace_id_ratio(1.2e-7);
    otelc_sampler *d = otelc_sampler_trace_id_ratio(7.0); /* clamped */
    assert_string_equal(otelc_sampler_description(a), "TraceIdRatioBased{0.000100}");
    assert_string_not_equal(otelc_sampler_description(b), otelc_sampler_description(c));
    assert_string_equal(otelc_sampler_description(d), "TraceIdRatioBased{1.000000}");
    otelc_sampler_free(a);
    otelc_sampler_free(b);
    otelc_sampler_free(c);
    otelc_sampler_free(d);
}

static otelc_span_context parent_ctx(bool remote, bool sampled, const char *trace_state)
{
    otelc_span_context sc = {.is_remote = remote, .trace_state = trace_state};
    otelc__trace_id_new(sc.trace_id);
    otelc__span_id_new(sc.span_id);
    sc.trace_flags = OTELC_TRACE_FLAG_RANDOM | (sampled ? OTELC_TRACE_FLAG_SAMPLED : 0);
    return sc;
}

/* Other vendors' entries and other ot sub-keys survive; the th is replaced. */
static void test_ratio_keeps_tracestate(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_trace_id_ratio(0.5);
    otelc_span_context parent = parent_ctx(true, true, "ot=th:0;foo:bar,vendor=abc");
    id_with_randomness(parent.trace_id, 0xa0000000000000ULL);
    otelc_sampling_result r;
    assert_int_equal(decide(s, &parent, parent.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_non_null(r.trace_state);
    assert_string_equal(r.trace_state, "ot=th:8;foo:bar,vendor=abc");

    parent.trace_state = "vendor=abc";
    assert_int_equal(decide(s, &parent, parent.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_string_equal(r.trace_state, "ot=th:8,vendor=abc");
    otelc_sampler_free(s);
}

/* An explicit randomness value in the tracestate replaces the trace id's bits. */
static void test_ratio_explicit_randomness(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_trace_id_ratio(0.01);
    otelc_span_context parent = parent_ctx(true, false, "ot=rv:fffffffffffff0");
    id_with_randomness(parent.trace_id, 0); /* would be dropped on its own */
    otelc_sampling_result r;
    assert_int_equal(decide(s, &parent, parent.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_string_equal(r.trace_state, "ot=th:fd70a;rv:fffffffffffff0");

    parent.trace_state = "ot=rv:00000000000001";
    id_with_randomness(parent.trace_id, 0xffffffffffffffULL);
    assert_int_equal(decide(s, &parent, parent.trace_id, &r), OTELC_SAMPLING_DROP);
    otelc_sampler_free(s);
}

/* A span under parent (NULL: a root) from provider p: whether it records. */
static bool records(otelc_provider *p, const otelc_span_context *parent)
{
    otelc_tracer *t = otelc_provider_tracer(p, "test", NULL, NULL);
    otelc_context *ctx = parent ? otelc_context_new(parent, NULL) : NULL;
    otelc_span_options o = {.parent = ctx, .root = ctx == NULL};
    otelc_span *span = otelc_span_start_with(t, "op", &o);
    bool on = otelc_span_is_recording(span);
    otelc_span_end(span);
    otelc_context_release(ctx);
    return on;
}

/*
 * A provider decides its ratio sampler's drops at span start without
 * asking it: it must decide as the sampler does, for roots and for
 * parents, and leave an "ot" tracestate entry to the sampler.
 */
static void test_ratio_in_provider(void **state)
{
    (void)state;
    otelc_sampler *ref = otelc_sampler_trace_id_ratio(0.25);
    otelc_provider_options po = {.no_env = true, .sampler = otelc_sampler_trace_id_ratio(0.25)};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&po, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "test", NULL, NULL);
    otelc_sampling_result r;
    size_t on = 0;
    for (int i = 0; i < 2000; i++) {
        otelc_span *span = otelc_span_start(t, "root", OTELC_SPAN_INTERNAL);
        otelc_span_context sc = otelc_span_get_context(span);
        bool want = decide(ref, NULL, sc.trace_id, &r) == OTELC_SAMPLING_RECORD_AND_SAMPLE;
        assert_int_equal(otelc_span_is_recording(span), want);
        on += want;
        otelc_span_end(span);
    }
    assert_true(on > 300 && on < 700); /* a quarter of 2000, give or take */

    otelc_span_context parent = parent_ctx(true, true, NULL);
    id_with_randomness(parent.trace_id, 0);
    assert_false(records(p, &parent));
    id_with_randomness(parent.trace_id, 0xffffffffffffffULL);
    assert_true(records(p, &parent));
    /* The tracestate's explicit randomness outranks the trace id's. */
    parent = parent_ctx(true, true, "ot=rv:fffffffffffff0");
    id_with_randomness(parent.trace_id, 0);
    assert_true(records(p, &parent));
    parent = parent_ctx(false, false, "ot=rv:00000000000001,vendor=x");
    id_with_randomness(parent.trace_id, 0xffffffffffffffULL);
    assert_false(records(p, &parent));
    /* A parent whose trace id is not random is still decided by its id. */
    parent = parent_ctx(true, false, "vendor=x");
    parent.trace_flags = 0;
    id_with_randomness(parent.trace_id, 0);
    assert_false(records(p, &parent));
    id_with_randomness(parent.trace_id, 0xffffffffffffffULL);
    assert_true(records(p, &parent));
    otelc_provider_free(p);
    otelc_sampler_free(ref);
}

/*
 * Under a ratio sampler a span's ids are drawn raw and mixed in parts
 * (the trace id's randomness before the decision, the rest when read or
 * recorded): every part of every span's ids, dropped or not, must read as
 * mixed. Raw draws step by a constant, so consecutive raw words differ by
 * one value; mixed ones all differ.
 */
static void test_ratio_ids_are_mixed(void **state)
{
    (void)state;
    otelc_provider_options po = {.no_env = true, .sampler = otelc_sampler_trace_id_ratio(0.25)};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&po, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "test", NULL, NULL);
    enum { SPANS = 64 };
    uint64_t words[SPANS][3];
    for (int i = 0; i < SPANS; i++) {
        otelc_span *span = otelc_span_start(t, "root", OTELC_SPAN_INTERNAL);
        otelc_span_context sc = otelc_span_get_context(span);
        memcpy(&words[i][0], sc.trace_id, 8);
        memcpy(&words[i][1], sc.trace_id + 8, 8);
        memcpy(&words[i][2], sc.span_id, 8);
        otelc_span_end(span);
    }
    for (int w = 0; w < 3; w++) {
        int same_step = 0;
        for (int i = 2; i < SPANS; i++)
            same_step += words[i][w] - words[i - 1][w] == words[i - 1][w] - words[i - 2][w];
        assert_true(same_step < 4);
    }
    otelc_provider_free(p);
}

/* ---- ParentBased ------------------------------------------------------------------ */

/* A user sampler that records that it was asked and answers with its decision. */
typedef struct probe {
    otelc_sampling_decision answer;
    int calls;
    int destroyed;
} probe;

static void probe_should_sample(void *self, const otelc_sampling_params *p,
                                otelc_sampling_result *r)
{
    (void)p;
    probe *pr = self;
    pr->calls++;
    r->decision = pr->answer;
}

static const char *probe_description(void *self)
{
    (void)self;
    return "Probe";
}

static void probe_destroy(void *self)
{
    ((probe *)self)->destroyed++;
}

static const otelc_sampler_ops probe_ops = {probe_should_sample, probe_description, probe_destroy};

static void test_parent_based_defaults(void **state)
{
    (void)state;
    otelc_sampler *s =
        otelc_sampler_parent_based(otelc_sampler_always_off(), NULL, NULL, NULL, NULL);
    otelc_sampling_result r;
    uint8_t id[16];
    otelc__trace_id_new(id);
    otelc_span_context rs = parent_ctx(true, true, NULL), rn = parent_ctx(true, false, NULL);
    otelc_span_context ls = parent_ctx(false, true, NULL), ln = parent_ctx(false, false, NULL);
    otelc_span_context invalid = {0};

    assert_int_equal(decide(s, NULL, id, &r), OTELC_SAMPLING_DROP); /* root: always_off */
    assert_int_equal(decide(s, &invalid, id, &r), OTELC_SAMPLING_DROP);
    assert_int_equal(decide(s, &rs, rs.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_int_equal(decide(s, &rn, rn.trace_id, &r), OTELC_SAMPLING_DROP);
    assert_int_equal(decide(s, &ls, ls.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    assert_int_equal(decide(s, &ln, ln.trace_id, &r), OTELC_SAMPLING_DROP);
    assert_null(r.trace_state); /* the parent's tracestate is kept */
    otelc_sampler_free(s);
}

static void test_parent_based_delegates(void **state)
{
    (void)state;
    probe pr[5] = {{OTELC_SAMPLING_RECORD_ONLY, 0, 0},
                   {OTELC_SAMPLING_DROP, 0, 0},
                   {OTELC_SAMPLING_RECORD_AND_SAMPLE, 0, 0},
                   {OTELC_SAMPLING_RECORD_ONLY, 0, 0},
                   {OTELC_SAMPLING_RECORD_AND_SAMPLE, 0, 0}};
    otelc_sampler *d[5];
    for (int i = 0; i < 5; i++) d[i] = otelc_sampler_new(&probe_ops, &pr[i]);
    otelc_sampler *s = otelc_sampler_parent_based(d[0], d[1], d[2], d[3], d[4]);
    assert_string_equal(otelc_sampler_description(s),
                        "ParentBased{root=Probe,remoteParentSampled=Probe,"
                        "remoteParentNotSampled=Probe,localParentSampled=Probe,"
                        "localParentNotSampled=Probe}");

    otelc_sampling_result r;
    uint8_t id[16];
    otelc__trace_id_new(id);
    otelc_span_context parents[5] = {{.is_remote = false},
                                     parent_ctx(true, true, NULL),
                                     parent_ctx(true, false, NULL),
                                     parent_ctx(false, true, NULL),
                                     parent_ctx(false, false, NULL)};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(decide(s, i ? &parents[i] : NULL, id, &r), pr[i].answer);
        for (int k = 0; k < 5; k++) assert_int_equal(pr[k].calls, k <= i);
    }
    otelc_sampler_free(s);
    for (int i = 0; i < 5; i++) assert_int_equal(pr[i].destroyed, 1);
}

/* ParentBased over a ratio sampler: the ratio decides roots only. */
static void test_parent_based_ratio(void **state)
{
    (void)state;
    otelc_sampler *s =
        otelc_sampler_parent_based(otelc_sampler_trace_id_ratio(0.0), NULL, NULL, NULL, NULL);
    assert_int_equal(count_sampled(s, 1000), 0);
    otelc_span_context ls = parent_ctx(false, true, NULL);
    otelc_sampling_result r;
    assert_int_equal(decide(s, &ls, ls.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    otelc_sampler_free(s);
}

static void test_user_sampler(void **state)
{
    (void)state;
    probe pr = {OTELC_SAMPLING_RECORD_ONLY, 0, 0};
    otelc_sampler *s = otelc_sampler_new(&probe_ops, &pr);
    otelc_sampling_result r;
    uint8_t id[16];
    otelc__trace_id_new(id);
    assert_int_equal(decide(s, NULL, id, &r), OTELC_SAMPLING_RECORD_ONLY);
    assert_int_equal(pr.calls, 1);
    assert_string_equal(otelc_sampler_description(s), "Probe");
    otelc_sampler_free(s);
    assert_int_equal(pr.destroyed, 1);

    static const otelc_sampler_ops no_callback = {NULL, NULL, probe_destroy};
    assert_null(otelc_sampler_new(&no_callback, &pr));
    assert_int_equal(pr.destroyed, 2); /* ownership taken even on failure */
}

/* ---- Rate limiting ---------------------------------------------------------------------- */

#define SEC 1000000000ULL

static void test_rate_limit_burst_and_refill(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_rate_limiting(10);
    assert_string_equal(otelc_sampler_description(s), "RateLimitingSampler{10}");
    uint64_t t0 = 1000 * SEC;
    int admitted = 0;
    for (int i = 0; i < 50; i++) admitted += otelc__rate_limiter_admit_at(s, t0);
    assert_int_equal(admitted, 10); /* a burst of one second's worth */

    assert_false(otelc__rate_limiter_admit_at(s, t0 + SEC / 20));
    assert_true(otelc__rate_limiter_admit_at(s, t0 + SEC / 10)); /* one token per 100 ms */
    assert_false(otelc__rate_limiter_admit_at(s, t0 + SEC / 10));

    /* A long pause refills to the burst, not beyond. */
    admitted = 0;
    for (int i = 0; i < 50; i++) admitted += otelc__rate_limiter_admit_at(s, t0 + 100 * SEC);
    assert_int_equal(admitted, 10);
    otelc_sampler_free(s);
}

static void test_rate_limit_steady(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_rate_limiting(50);
    uint64_t t0 = 5 * SEC;
    int admitted = 0;
    /* Ten simulated seconds of a request every millisecond. */
    for (uint64_t ms = 0; ms < 10000; ms++)
        admitted += otelc__rate_limiter_admit_at(s, t0 + ms * 1000000);
    assert_in_range(admitted, 540, 560); /* 50/s plus the initial burst of 50 */
    otelc_sampler_free(s);
}

static void test_rate_limit_slow(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_rate_limiting(0.5); /* one every two seconds */
    assert_true(otelc__rate_limiter_admit_at(s, 10 * SEC));
    assert_false(otelc__rate_limiter_admit_at(s, 11 * SEC));
    assert_true(otelc__rate_limiter_admit_at(s, 12 * SEC));
    otelc_sampler_free(s);

    otelc_sampler *zero = otelc_sampler_rate_limiting(0);
    assert_false(otelc__rate_limiter_admit_at(zero, 10 * SEC));
    otelc_sampler_free(zero);
}

typedef struct race {
    otelc_sampler *s;
    int admitted;
} race;

static void *race_thread(void *arg)
{
    race *r = arg;
    for (int i = 0; i < 20000; i++) r->admitted += otelc__rate_limiter_admit_at(r->s, 77 * SEC);
    return NULL;
}

/* Concurrent callers at one instant share a single burst exactly. */
static void test_rate_limit_threads(void **state)
{
    (void)state;
    otelc_sampler *s = otelc_sampler_rate_limiting(1000);
    race r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race){s, 0};
        assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += r[i].admitted;
    }
    assert_int_equal(total, 1000);
    otelc_sampler_free(s);
}

/* Through the public entry point (real clock): the first root is admitted. */
static void test_rate_limit_should_sample(void **state)
{
    (void)state;
    otelc_sampler *s =
        otelc_sampler_parent_based(otelc_sampler_rate_limiting(3), NULL, NULL, NULL, NULL);
    otelc_sampling_result r;
    uint8_t id[16];
    otelc__trace_id_new(id);
    int admitted = 0;
    for (int i = 0; i < 100; i++)
        admitted += decide(s, NULL, id, &r) == OTELC_SAMPLING_RECORD_AND_SAMPLE;
    assert_in_range(admitted, 3, 4); /* a clock tick may refill one */
    otelc_span_context ls = parent_ctx(false, true, NULL);
    assert_int_equal(decide(s, &ls, ls.trace_id, &r), OTELC_SAMPLING_RECORD_AND_SAMPLE);
    otelc_sampler_free(s);
}

int main(void)
{
    otelc_log_set_level(OTELC_LOG_NONE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_always),
        cmocka_unit_test(test_ratio_extremes),
        cmocka_unit_test(test_ratio_quarter),
        cmocka_unit_test(test_ratio_uses_right_most_bytes),
        cmocka_unit_test(test_ratio_consistent),
        cmocka_unit_test(test_ratio_threshold_encoding),
        cmocka_unit_test(test_ratio_description),
        cmocka_unit_test(test_ratio_keeps_tracestate),
        cmocka_unit_test(test_ratio_explicit_randomness),
        cmocka_unit_test(test_parent_based_defaults),
        cmocka_unit_test(test_parent_based_delegates),
        cmocka_unit_test(test_parent_based_ratio),
        cmocka_unit_test(test_user_sampler),
        cmocka_unit_test(test_rate_limit_burst_and_refill),
        cmocka_unit_test(test_rate_limit_steady),
        cmocka_unit_test(test_ratio_in_provider),
        cmocka_unit_test(test_ratio_ids_are_mixed),
        cmocka_unit_test(test_rate_limit_slow),
        cmocka_unit_test(test_rate_limit_threads),
        cmocka_unit_test(test_rate_limit_should_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
