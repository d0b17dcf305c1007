/*
 * test_tracecontext.c - W3C traceparent/tracestate parsing and the
 * tracecontext propagator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "otelc/otelc.h"

#define TID  "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID  "00f067aa0ba902b7"
#define TP00 "00-" TID "-" SID "-01"

static int tp(const char *s, otelc_span_context *sc)
{
    return otelc_traceparent_parse(s, strlen(s), sc);
}

static int ts_norm(const char *in, char *out, size_t size)
{
    return otelc_tracestate_normalize(in, strlen(in), out, size);
}

static void test_traceparent_valid(void **state)
{
    otelc_span_context sc;
    char hex[33];

    assert_int_equal(tp(TP00, &sc), OTELC_OK);
    assert_string_equal(otelc_trace_id_hex(&sc, hex), TID);
    assert_string_equal(otelc_span_id_hex(&sc, hex), SID);
    assert_int_equal(sc.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_true(sc.is_remote);
    assert_null(sc.trace_state);
    assert_int_equal(tp("00-" TID "-" SID "-00", &sc), OTELC_OK);
    assert_int_equal(sc.trace_flags, 0);
}

static void test_traceparent_flags_known_bits_only(void **state)
{
    otelc_span_context sc;

    assert_int_equal(tp("00-" TID "-" SID "-ff", &sc), OTELC_OK);
    assert_int_equal(sc.trace_flags, OTELC_TRACE_FLAG_SAMPLED | OTELC_TRACE_FLAG_RANDOM);
    assert_int_equal(tp("00-" TID "-" SID "-02", &sc), OTELC_OK);
    assert_int_equal(sc.trace_flags, OTELC_TRACE_FLAG_RANDOM);
}

static void test_traceparent_rejects(void **state)
{
    static const char *bad[] = {
        "",
        "00",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01", /* upper-case trace id */
        "00-" TID "-00F067AA0BA902B7-01",                 /* upper-case span id */
        "00-" TID "-" SID "-0A",                          /* upper-case flags */
        "0A-" TID "-" SID "-01",                          /* upper-case version */
        "ff-" TID "-" SID "-01",                          /* forbidden version */
        "00-00000000000000000000000000000000-" SID "-01",
        "00-" TID "-0000000000000000-01",
        "00-" TID "-" SID "-01-",    /* version 00 with trailing data */
        "00-" TID "-" SID "-01-abc", /* version 00 with trailing data */
        "00-" TID "-" SID "-01x",
        "00-" TID "-" SID "-1",
        "00_" TID "-" SID "-01",
        "00-" TID "_" SID "-01",
        "00-" TID "-" SID "_01",
        "00-" TID "0-" SID "-1",
        "0g-" TID "-" SID "-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-" SID "-01",
        "cc-" TID "-" SID "-01x", /* higher version: extra data must start with '-' */
        "00 -" TID "-" SID "-01",
    };
    otelc_span_context sc;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&sc, 0x5a, sizeof sc);
        if (tp(bad[i], &sc) != OTELC_ERR_PARSE) fail_msg("accepted: '%s'", bad[i]);
        /* no partial state on error */
        assert_int_equal(sc.trace_id[0], 0x5a);
    }
    assert_int_equal(otelc_traceparent_parse(NULL, 0, &sc), OTELC_ERR_PARSE);
}

/* The value of n hex digit pairs, the plain way, to check the parser against. */
static void ref_hex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < 2 * n; i++) {
        unsigned d = (unsigned)(s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10);
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | d : d << 4);
    }
}

/*
 * Every byte at every digit of the ids and the flags: only 0-9 and a-f are
 * digits, and each decodes to its own value in its own place. And ids that
 * are zero but for one bit are ids.
 */
static void test_traceparent_every_byte(void **state)
{
    otelc_span_context sc;
    char s[OTELC_TRACEPARENT_LEN + 1];
    uint8_t tid[16], sid[8], flags;

    for (size_t at = 3; at < OTELC_TRACEPARENT_LEN; at++) {
        if (at == 35 || at == 52) continue; /* the dashes */
        for (int c = 1; c < 256; c++) {
            bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            strcpy(s, "00-10000000000000000000000000000001-1000000000000001-00");
            s[at] = (char)c;
            if ((tp(s, &sc) == OTELC_OK) != digit)
                fail_msg("byte 0x%02x at %zu: %s", (unsigned)c, at, digit ? "refused" : "accepted");
            if (!digit) continue;
            ref_hex(s + 3, 16, tid);
            ref_hex(s + 36, 8, sid);
            ref_hex(s + 53, 1, &flags);
            assert_memory_equal(sc.trace_id, tid, 16);
            assert_memory_equal(sc.span_id, sid, 8);
            assert_int_equal(sc.trace_flags, flags & 3); /* sampled and random: the flags kept */
        }
    }
    assert_int_equal(tp("00-00000000000000000000000000000001-0000000000000100-01", &sc), OTELC_OK);
    assert_int_equal(sc.trace_id[15], 1);
    assert_int_equal(sc.span_id[6], 1);
    assert_int_equal(tp("00-10000000000000000000000000000000-8000000000000000-01", &sc), OTELC_OK);
    assert_int_equal(sc.trace_id[0], 0x10);
    assert_int_equal(sc.span_id[0], 0x80);
}

static void test_traceparent_higher_versions(void **state)
{
    otelc_span_context sc;
    char out[56];

    assert_int_equal(tp("01-" TID "-" SID "-01", &sc), OTELC_OK);
    assert_int_equal(tp("cc-" TID "-" SID "-01-what-the-future-holds", &sc), OTELC_OK);
    assert_int_equal(sc.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    /* we always answer with version 00 */
    assert_int_equal(otelc_traceparent_format(&sc, out), OTELC_TRACEPARENT_LEN);
    assert_string_equal(out, TP00);
}

static void test_traceparent_ows(void **state)
{
    otelc_span_context sc;

    assert_int_equal(tp(" \t " TP00 "\t  ", &sc), OTELC_OK);
    assert_int_equal(tp("\t" TP00, &sc), OTELC_OK);
    /* the length argument bounds the parse, no NUL needed */
    assert_int_equal(otelc_traceparent_parse(TP00 "zzz", OTELC_TRACEPARENT_LEN, &sc), OTELC_OK);
    assert_int_equal(tp(" \n" TP00, &sc), OTELC_ERR_PARSE);
}

static void test_traceparent_format(void **state)
{
    otelc_span_context sc, back;
    char out[56];

    assert_int_equal(tp(TP00, &sc), OTELC_OK);
    sc.trace_flags = 0x81; /* unknown bits are not propagated */
    assert_int_equal(otelc_traceparent_format(&sc, out), 55);
    assert_string_equal(out, TP00);
    assert_int_equal(tp(out, &back), OTELC_OK);
    assert_memory_equal(back.trace_id, sc.trace_id, 16);
    assert_memory_equal(back.span_id, sc.span_id, 8);
}

static void test_tracestate_normalize(void **state)
{
    char out[1024];

    assert_int_equal(ts_norm("a=1", out, sizeof out), 3);
    assert_string_equal(out, "a=1");
    assert_int_equal(ts_norm(" a=1 ,, \t,b=two words ,", out, sizeof out), 15);
    assert_string_equal(out, "a=1,b=two words");
    assert_int_equal(ts_norm("", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(ts_norm(" , ,\t", out, sizeof out), 0);
    assert_int_equal(ts_norm("0vendor=x,t@v=y,a_-*/@b=z", out, sizeof out), 25);
    assert_int_equal(ts_norm("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", out, sizeof out), 39);
}

static void test_tracestate_rejects(void **state)
{
    static const char *bad[] = {
        "A=1",    "_a=1",   "a",       "a=",    "=1",   "a==1",  "a b=1", "a=\x7f",
        "a=\x01", "a=1\tb", "a=1,B=2", "a=1,b", "-a=1", "a.b=1", "a=é",
    };
    char out[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(out, "junk");
        if (ts_norm(bad[i], out, sizeof out) != OTELC_ERR_PARSE) fail_msg("accepted '%s'", bad[i]);
        assert_string_equal(out, "");
    }
}

/* Every byte as a key's first and later character and in a value, as Level 2 allows them. */
static void test_tracestate_every_byte(void **state)
{
    char in[16], out[64];

    for (int c = 1; c < 256; c++) {
        bool first = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        bool key = first || (c != 0 && strchr("_-*/@", c) != NULL);
        bool value = c >= 0x20 && c <= 0x7e && c != ',' && c != '=' && c != ' ';
        /* ',' and '=' split members; ' ' is trimmed or trailing: those say nothing here */
        bool split = c == ',' || c == '=' || c == ' ' || c == '\t';
        snprintf(in, sizeof in, "%cb=1", c);
        if (!split && (ts_norm(in, out, sizeof out) > 0) != first)
            fail_msg("key first byte 0x%02x", (unsigned)c);
        snprintf(in, sizeof in, "a%cb=1", c);
        if (!split && (ts_norm(in, out, sizeof out) > 0) != key)
            fail_msg("key byte 0x%02x", (unsigned)c);
        snprintf(in, sizeof in, "a=x%cy", c);
        if (!split && (ts_norm(in, out, sizeof out) > 0) != value)
            fail_msg("value byte 0x%02x", (unsigned)c);
    }
    assert_int_equal(ts_norm("a=x y", out, sizeof out), 5); /* a space inside a value */
}

static void test_tracestate_lengths(void **state)
{
    char key[300], value[300], in[700], out[700];

    memset(key, 'k', 256);
    key[256] = '\0';
    memset(value, 'v', 256);
    value[256] = '\0';
    snprintf(in, sizeof in, "%s=%s", key, value);
    assert_int_equal(ts_norm(in, out, sizeof out), 513);
    snprintf(in, sizeof in, "%sk=%s", key, value); /* 257-char key */
    assert_int_equal(ts_norm(in, out, sizeof out), OTELC_ERR_PARSE);
    snprintf(in, sizeof in, "%s=%sv", key, value); /* 257-char value */
    assert_int_equal(ts_norm(in, out, sizeof out), OTELC_ERR_PARSE);
    /* too small an output buffer is the caller's mistake, not bad input */
    assert_int_equal(ts_norm("a=1", out, 3), OTELC_ERR_INVALID_ARG);
}

static void make_members(char *buf, size_t size, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, size - len, "%sk%d=v%d", i ? "," : "", i, i);
}

/* A key given twice: the list is inherited, the later member dropped (W3C Level 2 test suite). */
static void test_tracestate_duplicate_keys(void **state)
{
    char out[256];

    assert_int_equal(ts_norm("foo=1,foo=1", out, sizeof out), 5);
    assert_string_equal(out, "foo=1");
    assert_int_equal(ts_norm("foo=1,foo=2", out, sizeof out), 5);
    assert_string_equal(out, "foo=1");
    assert_int_equal(ts_norm("a=1, b=2 ,a=3,c=4", out, sizeof out), 11);
    assert_string_equal(out, "a=1,b=2,c=4");
    /* a duplicate is not a member: 32 distinct keys and a repeat are within the limit */
    char in[1024], big[1024];
    make_members(in, sizeof in, 32);
    strcat(in, ",k0=again");
    assert_true(ts_norm(in, big, sizeof big) > 0);
    assert_null(strstr(big, "again"));
    /* still invalid as a whole when another member is malformed */
    assert_int_equal(ts_norm("foo=1,foo=2,B=3", out, sizeof out), OTELC_ERR_PARSE);
}

static void test_tracestate_member_limit(void **state)
{
    char in[1024], out[1024];

    make_members(in, sizeof in, 32);
    assert_int_equal(ts_norm(in, out, sizeof out), (int)strlen(in));
    make_members(in, sizeof in, 33);
    assert_int_equal(ts_norm(in, out, sizeof out), OTELC_ERR_PARSE);
    /* empty members do not count */
    make_members(in, sizeof in, 32);
    strcat(in, ",,,, ,");
    assert_true(ts_norm(in, out, sizeof out) > 0);
}

static void test_tracestate_set_get(void **state)
{
    char out[1024], in[1024], v[300];

    assert_int_equal(otelc_tracestate_set(NULL, "ot", "th:8", out, sizeof out), 7);
    assert_string_equal(out, "ot=th:8");
    assert_int_equal(otelc_tracestate_set("a=1,ot=old,b=2", "ot", "new", out, sizeof out), 14);
    assert_string_equal(out, "ot=new,a=1,b=2");
    assert_true(otelc_tracestate_get(out, "a", v, sizeof v));
    assert_string_equal(v, "1");
    assert_true(otelc_tracestate_get(out, "ot", v, sizeof v));
    assert_string_equal(v, "new");
    assert_false(otelc_tracestate_get(out, "o", v, sizeof v));
    assert_false(otelc_tracestate_get(out, "ot", v, 3)); /* does not fit */
    assert_true(otelc_tracestate_set("a=1", "Bad", "x", out, sizeof out) < 0);
    assert_true(otelc_tracestate_set("a=1", "ok", "x=y", out, sizeof out) < 0);
    assert_true(otelc_tracestate_set("a=1", "ok", "", out, sizeof out) < 0);
    assert_true(otelc_tracestate_set("a=1", "ok", "x ", out, sizeof out) < 0);

    /* a new key on a full list pushes the right-most member out */
    make_members(in, sizeof in, 32);
    assert_true(otelc_tracestate_set(in, "new", "1", out, sizeof out) > 0);
    assert_true(strncmp(out, "new=1,k0=v0,", 12) == 0);
    assert_false(otelc_tracestate_get(out, "k31", v, sizeof v));
    assert_true(otelc_tracestate_get(out, "k30", v, sizeof v));
    assert_true(ts_norm(out, in, sizeof in) > 0);
    /* updating an existing key on a full list keeps everyone */
    make_members(in, sizeof in, 32);
    assert_true(otelc_tracestate_set(in, "k31", "z", out, sizeof out) > 0);
    assert_true(strncmp(out, "k31=z,k0=v0,", 12) == 0);
    assert_true(otelc_tracestate_get(out, "k30", v, sizeof v));
    /* in and out may not overlap */
    strcpy(in, "a=1");
    assert_int_equal(otelc_tracestate_set(in, "b", "2", in, sizeof in), OTELC_ERR_INVALID_ARG);
}

/* ---- propagator ---- */

static otelc_context *extract(otelc_headers *h)
{
    otelc_carrier c = otelc_headers_carrier(h);
    otelc_context *ctx = otelc_propagator_extract(otelc_propagator_tracecontext(), NULL, &c);
    assert_non_null(ctx);
    return ctx;
}

static void test_extract_valid_with_tracestate_lines(void **state)
{
    otelc_headers h = {0};
    otelc_context *ctx;
    otelc_span_context sc;
    char hex[33];

    otelc_headers_add(&h, "TraceParent", " " TP00);
    otelc_headers_add(&h, "tracestate", "a=1, ,b=2");
    otelc_headers_add(&h, "TRACESTATE", "c=3");
    ctx = extract(&h);
    sc = otelc_context_span_context(ctx);
    assert_true(otelc_span_context_is_valid(&sc));
    assert_true(sc.is_remote);
    assert_string_equal(otelc_trace_id_hex(&sc, hex), TID);
    assert_string_equal(sc.trace_state, "a=1,b=2,c=3");
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

static void test_extract_duplicate_traceparent(void **state)
{
    otelc_headers h = {0};
    otelc_context *ctx;
    otelc_span_context sc;

    otelc_headers_add(&h, "traceparent", TP00);
    otelc_headers_add(&h, "traceparent", TP00);
    otelc_headers_add(&h, "tracestate", "a=1");
    ctx = extract(&h);
    sc = otelc_context_span_context(ctx);
    assert_false(otelc_span_context_is_valid(&sc));
    assert_null(sc.trace_state);
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

/* A key repeated across two tracestate lines: the context still carries the list, first member
 * kept. */
static void test_extract_tracestate_duplicate_key(void **state)
{
    otelc_headers h = {0};
    otelc_headers_add(&h, "traceparent", TP00);
    otelc_headers_add(&h, "tracestate", "foo=1,bar=x");
    otelc_headers_add(&h, "tracestate", "foo=2");
    otelc_context *ctx = extract(&h);
    otelc_span_context sc = otelc_context_span_context(ctx);
    assert_true(otelc_span_context_is_valid(&sc));
    assert_string_equal(sc.trace_state, "foo=1,bar=x");
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

static void test_extract_invalid_traceparent_ignores_tracestate(void **state)
{
    otelc_headers h = {0};
    otelc_context *ctx;
    otelc_span_context sc;

    otelc_headers_add(&h, "traceparent", "00-" TID "-" SID "-01-extra");
    otelc_headers_add(&h, "tracestate", "a=1");
    ctx = extract(&h);
    sc = otelc_context_span_context(ctx);
    assert_false(otelc_span_context_is_valid(&sc));
    assert_null(sc.trace_state);
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

static void test_extract_invalid_tracestate_discarded(void **state)
{
    otelc_headers h = {0};
    otelc_context *ctx;
    otelc_span_context sc;

    otelc_headers_add(&h, "traceparent", TP00);
    otelc_headers_add(&h, "tracestate", "a=1,B=2");
    ctx = extract(&h);
    sc = otelc_context_span_context(ctx);
    assert_true(otelc_span_context_is_valid(&sc));
    assert_true(sc.trace_state == NULL || sc.trace_state[0] == '\0');
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

static void test_extract_keeps_base_when_absent_or_invalid(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_span_context base_sc, sc;
    otelc_context *base, *ctx;

    assert_int_equal(tp("00-" TID "-1111111111111111-00", &base_sc), OTELC_OK);
    base = otelc_context_new(&base_sc, NULL);
    otelc_headers_add(&h, "traceparent", "garbage");
    ctx = otelc_propagator_extract(otelc_propagator_tracecontext(), base, &c);
    sc = otelc_context_span_context(ctx);
    assert_memory_equal(sc.span_id, base_sc.span_id, 8);
    otelc_context_release(ctx);
    otelc_context_release(base);
    otelc_headers_clear(&h);
}

static void test_inject(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_span_context sc;
    otelc_context *ctx;

    assert_int_equal(tp(TP00, &sc), OTELC_OK);
    sc.trace_state = "ot=th:8,a=1";
    ctx = otelc_context_new(&sc, NULL);
    otelc_headers_set(&h, "traceparent", "stale");
    otelc_propagator_inject(otelc_propagator_tracecontext(), ctx, &c);
    assert_string_equal(otelc_headers_get(&h, "traceparent"), TP00);
    assert_string_equal(otelc_headers_get(&h, "tracestate"), "ot=th:8,a=1");
    assert_int_equal(h.count, 2);
    otelc_context_release(ctx);
    otelc_headers_clear(&h);

    /* an invalid span context writes nothing */
    ctx = otelc_context_new(NULL, NULL);
    otelc_propagator_inject(otelc_propagator_tracecontext(), ctx, &c);
    assert_int_equal(h.count, 0);
    otelc_context_release(ctx);
}

static void test_header_round_trip(void **state)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_span_context sc, got;
    otelc_context *ctx, *back;

    assert_int_equal(tp("00-" TID "-" SID "-03", &sc), OTELC_OK);
    sc.trace_state = "ot=th:8,vendor@tenant=x";
    ctx = otelc_context_new(&sc, NULL);
    otelc_propagator_inject(otelc_propagator_tracecontext(), ctx, &c);
    back = otelc_propagator_extract(otelc_propagator_tracecontext(), NULL, &c);
    got = otelc_context_span_context(back);
    assert_memory_equal(got.trace_id, sc.trace_id, 16);
    assert_memory_equal(got.span_id, sc.span_id, 8);
    assert_int_equal(got.trace_flags, 3);
    assert_true(got.is_remote);
    assert_string_equal(got.trace_state, "ot=th:8,vendor@tenant=x");
    otelc_context_release(back);
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traceparent_valid),
        cmocka_unit_test(test_traceparent_flags_known_bits_only),
        cmocka_unit_test(test_traceparent_rejects),
        cmocka_unit_test(test_traceparent_every_byte),
        cmocka_unit_test(test_traceparent_higher_versions),
        cmocka_unit_test(test_traceparent_ows),
        cmocka_unit_test(test_traceparent_format),
        cmocka_unit_test(test_tracestate_normalize),
        cmocka_unit_test(test_tracestate_duplicate_keys),
        cmocka_unit_test(test_tracestate_rejects),
        cmocka_unit_test(test_tracestate_every_byte),
        cmocka_unit_test(test_tracestate_lengths),
        cmocka_unit_test(test_tracestate_member_limit),
        cmocka_unit_test(test_tracestate_set_get),
        cmocka_unit_test(test_extract_valid_with_tracestate_lines),
        cmocka_unit_test(test_extract_duplicate_traceparent),
        cmocka_unit_test(test_extract_tracestate_duplicate_key),
        cmocka_unit_test(test_extract_invalid_traceparent_ignores_tracestate),
        cmocka_unit_test(test_extract_invalid_tracestate_discarded),
        cmocka_unit_test(test_extract_keeps_base_when_absent_or_invalid),
        cmocka_unit_test(test_inject),
        cmocka_unit_test(test_header_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
