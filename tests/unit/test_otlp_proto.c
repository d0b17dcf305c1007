/*
 * test_otlp_proto.c - the OTLP protobuf encoder, checked field by field with
 * an independent protobuf reader, and the ExportTraceServiceResponse parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "otlp_spans.h"
#include "unit/anyvalue.h"

/* ---- A minimal protobuf reader (independent of the encoder) --------------------------- */

typedef struct msg {
    const uint8_t *p;
    size_t n;
} msg;

typedef struct field {
    uint32_t num;
    int wt;
    uint64_t v; /* varint, fixed64, fixed32 */
    msg sub;    /* length-delimited */
} field;

static uint64_t rd_varint(const uint8_t *p, size_t n, size_t *i)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*i >= n) fail_msg("varint runs past the end");
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    fail_msg("varint too long");
    return 0;
}

static uint64_t rd_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The next field at *i, failing the test on malformed input. */
static field rd_field(msg m, size_t *i)
{
    field f = {0};
    uint64_t key = rd_varint(m.p, m.n, i);
    f.num = (uint32_t)(key >> 3);
    f.wt = (int)(key & 7);
    size_t len = f.wt == 1 ? 8 : f.wt == 5 ? 4 : 0;
    if (f.wt == 0) f.v = rd_varint(m.p, m.n, i);
    if (f.wt == 2) len = (size_t)rd_varint(m.p, m.n, i);
    assert_true(f.wt == 0 || f.wt == 1 || f.wt == 2 || f.wt == 5);
    assert_true(len <= m.n - *i);
    if (f.wt == 1 || f.wt == 5) f.v = rd_le(m.p + *i, (int)len);
    f.sub = (msg){m.p + *i, len};
    *i += len;
    return f;
}

/* How many times field num occurs (also walks the whole message). */
static size_t count_of(msg m, uint32_t num)
{
    size_t n = 0;
    for (size_t i = 0; i < m.n;) n += rd_field(m, &i).num == num;
    return n;
}

static bool find_nth(msg m, uint32_t num, size_t nth, field *out)
{
    for (size_t i = 0; i < m.n;) {
        field f = rd_field(m, &i);
        if (f.num == num && nth-- == 0) {
            *out = f;
            return true;
        }
    }
    return false;
}

static field get(msg m, uint32_t num, int wt)
{
    field f = {0};
    if (!find_nth(m, num, 0, &f)) fail_msg("field %u missing", num);
    assert_int_equal(f.wt, wt);
    assert_int_equal(count_of(m, num), 1);
    return f;
}

static msg sub(msg m, uint32_t num, size_t nth)
{
    field f = {0};
    if (!find_nth(m, num, nth, &f)) fail_msg("field %u #%zu missing", num, nth);
    assert_int_equal(f.wt, 2);
    return f.sub;
}

static void assert_absent(msg m, uint32_t num)
{
    assert_int_equal(count_of(m, num), 0);
}

static void assert_bytes(msg m, uint32_t num, const void *want, size_t n)
{
    field f = get(m, num, 2);
    assert_int_equal(f.sub.n, n);
    assert_memory_equal(f.sub.p, want, n);
}

static void assert_str(msg m, uint32_t num, const char *want)
{
    assert_bytes(m, num, want, strlen(want));
}

static uint64_t get_varint(msg m, uint32_t num)
{
    return get(m, num, 0).v;
}

/* The AnyValue of the KeyValue with key in the repeated field num. */
static msg attr(msg m, uint32_t num, const char *key)
{
    for (size_t k = 0; k < count_of(m, num); k++) {
        msg kv = sub(m, num, k);
        field f = {0};
        if (find_nth(kv, 1, 0, &f) && f.sub.n == strlen(key) && memcmp(f.sub.p, key, f.sub.n) == 0)
            return sub(kv, 2, 0);
    }
    fail_msg("attribute %s missing", key);
    return (msg){0};
}

static double as_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* ---- Scenario ----------------------------------------------------------------------------- */

typedef struct decoded {
    otlp_fx fx;
    otelc_buf out;
    msg req;
} decoded;

static int setup(void **state)
{
    decoded *d = calloc(1, sizeof(*d));
    fx_build(&d->fx, otelc__otlp_encode_proto);
    assert_int_equal(otelc__otlp_encode_proto(&d->out, d->fx.spans, d->fx.count), OTELC_OK);
    d->req = (msg){(const uint8_t *)d->out.data, d->out.len};
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    decoded *d = *state;
    fx_free(&d->fx);
    otelc__buf_free(&d->out);
    free(d);
    return 0;
}

/* Spans of ResourceSpans r, ScopeSpans s. */
static msg span_at(decoded *d, size_t r, size_t s, size_t i)
{
    return sub(sub(sub(d->req, 1, r), 2, s), 2, i);
}

static void assert_span_name(msg span, const char *name)
{
    assert_str(span, 5, name);
}

static void test_groups_by_resource_then_scope(void **state)
{
    decoded *d = *state;
    assert_int_equal(d->fx.count, 5);
    assert_int_equal(count_of(d->req, 1), 2);
    assert_int_equal(d->req.n, d->out.len);

    msg rs1 = sub(d->req, 1, 0), rs2 = sub(d->req, 1, 1);
    assert_int_equal(count_of(rs1, 2), 2);
    assert_int_equal(count_of(rs2, 2), 1);
    /* First appearance decides the order; spans keep theirs inside a group. */
    msg ss_two = sub(rs1, 2, 0), ss_one = sub(rs1, 2, 1), ss_three = sub(rs2, 2, 0);
    assert_str(sub(ss_two, 1, 0), 1, "scope.two");
    assert_absent(sub(ss_two, 1, 0), 2);
    assert_absent(ss_two, 3);
    assert_int_equal(count_of(ss_two, 2), 2);
    assert_span_name(span_at(d, 0, 0, 0), "child");
    assert_span_name(span_at(d, 0, 0, 1), "late");

    assert_str(sub(ss_one, 1, 0), 1, "scope.one");
    assert_str(sub(ss_one, 1, 0), 2, "1.2.3");
    assert_str(ss_one, 3, "https://schema/one");
    assert_span_name(span_at(d, 0, 1, 0), "root");
    assert_span_name(span_at(d, 0, 1, 1), "remote-child");

    assert_str(sub(ss_three, 1, 0), 1, "scope.three");
    assert_str(sub(ss_three, 1, 0), 2, "3.0");
    assert_span_name(span_at(d, 1, 0, 0), "other");

    /* ResourceSpans.schema_url (3) comes from the resource, when it has one. */
    assert_str(rs1, 3, FX_SCHEMA_ONE);
    assert_absent(rs2, 3);
}

static void test_resource_attributes(void **state)
{
    decoded *d = *state;
    msg res1 = sub(sub(d->req, 1, 0), 1, 0), res2 = sub(sub(d->req, 1, 1), 1, 0);
    assert_int_equal(count_of(res1, 1), 2);
    assert_str(attr(res1, 1, "service.name"), 1, "svc-a");
    assert_int_equal(get_varint(attr(res1, 1, "res.int"), 3), 42);
    assert_absent(res1, 2); /* nothing dropped */
    assert_int_equal(count_of(res2, 1), 1);
    assert_str(attr(res2, 1, "service.name"), 1, "svc-b");
}

static void test_root_span_fields(void **state)
{
    decoded *d = *state;
    const otelc_span_data *sd = fx_find(&d->fx, "root");
    msg span = span_at(d, 0, 1, 0);
    assert_bytes(span, 1, sd->context.trace_id, 16);
    assert_bytes(span, 2, sd->context.span_id, 8);
    assert_absent(span, 3); /* no trace state on a new root */
    assert_absent(span, 4); /* roots have no parent_span_id */
    assert_int_equal(get_varint(span, 6), 2);
    assert_int_equal(get(span, 7, 1).v, FX_ROOT_START);
    assert_int_equal(get(span, 8, 1).v, FX_ROOT_END);
    assert_int_equal(count_of(span, 9), 9);
    assert_int_equal(get_varint(span, 10), 1);
    assert_int_equal(count_of(span, 11), 2);
    assert_int_equal(get_varint(span, 12), 1);
    assert_int_equal(count_of(span, 13), 1);
    assert_int_equal(get_varint(span, 14), 1);
    msg status = sub(span, 15, 0);
    assert_str(status, 2, "boom");
    assert_int_equal(get_varint(status, 3), 2);
    assert_absent(status, 1);
    /* W3C flags (sampled, maybe random), parent remoteness known (0x100), not remote. */
    assert_int_equal(sd->context.trace_flags & 1, 1);
    assert_int_equal(get(span, 16, 5).v, sd->context.trace_flags | 0x100);
}

static void test_every_value_type(void **state)
{
    decoded *d = *state;
    msg span = span_at(d, 0, 1, 0);
    assert_str(attr(span, 9, "s"), 1, "hello \"q\"");
    assert_int_equal(get_varint(attr(span, 9, "b"), 2), 1);
    /* false is still written: a oneof member has presence. */
    assert_int_equal(get_varint(attr(span, 9, "f"), 2), 0);
    assert_int_equal((int64_t)get_varint(attr(span, 9, "i"), 3), -5);
    assert_true(as_double(get(attr(span, 9, "d"), 4, 1).v) == 1.5);

    msg sa = sub(attr(span, 9, "sa"), 5, 0);
    assert_int_equal(count_of(sa, 1), 2);
    assert_str(sub(sa, 1, 0), 1, "a");
    assert_str(sub(sa, 1, 1), 1, "b\"c");
    msg ba = sub(attr(span, 9, "ba"), 5, 0);
    assert_int_equal(count_of(ba, 1), 3);
    for (size_t i = 0; i < 3; i++) assert_int_equal(get_varint(sub(ba, 1, i), 2), FX_BOOLS[i]);
    msg ia = sub(attr(span, 9, "ia"), 5, 0);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal((int64_t)get_varint(sub(ia, 1, i), 3), FX_INTS[i]);
    msg da = sub(attr(span, 9, "da"), 5, 0);
    for (size_t i = 0; i < 2; i++)
        assert_true(as_double(get(sub(da, 1, i), 4, 1).v) == FX_DOUBLES[i]);
    for (size_t k = 0; k < 9; k++) {
        field key = {0};
        assert_true(find_nth(sub(span, 9, k), 1, 0, &key));
        assert_false(key.sub.n == 7 && memcmp(key.sub.p, "dropped", 7) == 0);
    }
}

static void test_events_and_links(void **state)
{
    decoded *d = *state;
    msg span = span_at(d, 0, 1, 0);
    msg e1 = sub(span, 11, 0), e2 = sub(span, 11, 1);
    assert_int_equal(get(e1, 1, 1).v, FX_EVENT_TIME);
    assert_str(e1, 2, "e1");
    assert_int_equal(count_of(e1, 3), 1);
    assert_str(attr(e1, 3, "ek"), 1, "ev");
    assert_int_equal(get_varint(e1, 4), 1);
    assert_int_equal(get(e2, 1, 1).v, FX_EVENT_TIME + 1);
    assert_str(e2, 2, "e2");
    assert_absent(e2, 3);
    assert_absent(e2, 4);

    msg link = sub(span, 13, 0);
    assert_bytes(link, 1, FX_LINK_TRACE, 16);
    assert_bytes(link, 2, FX_LINK_SPAN, 8);
    assert_str(link, 3, "lk=lv");
    assert_int_equal(count_of(link, 4), 1);
    assert_str(attr(link, 4, "lk"), 1, "lv");
    assert_int_equal(get_varint(link, 5), 1);
    assert_int_equal(get(link, 6, 5).v, 0x301); /* sampled, remote known, remote */
}

static void test_child_and_remote_parent(void **state)
{
    decoded *d = *state;
    const otelc_span_data *root = fx_find(&d->fx, "root");
    msg child = span_at(d, 0, 0, 0);
    assert_bytes(child, 1, root->context.trace_id, 16);
    assert_bytes(child, 4, root->context.span_id, 8);
    assert_int_equal(get_varint(child, 6), 3);
    assert_int_equal((int64_t)get_varint(attr(child, 9, "x"), 3), 1);
    assert_absent(child, 10);
    assert_absent(child, 11);
    assert_absent(child, 13);
    assert_absent(child, 15); /* UNSET status without message */
    assert_int_equal(get(child, 16, 5).v, fx_find(&d->fx, "child")->context.trace_flags | 0x100);
    assert_int_not_equal(get(child, 7, 1).v, 0);
    assert_true(get(child, 8, 1).v >= get(child, 7, 1).v);

    msg remote = span_at(d, 0, 1, 1);
    assert_bytes(remote, 1, FX_REMOTE_TRACE, 16);
    assert_bytes(remote, 4, FX_REMOTE_SPAN, 8);
    assert_str(remote, 3, "ts=1");
    assert_int_equal(get_varint(remote, 6), 5);
    assert_int_equal(get_varint(sub(remote, 15, 0), 3), 1);
    assert_absent(sub(remote, 15, 0), 2);
    assert_int_equal(get(remote, 16, 5).v, 0x301); /* the remote parent's flags: 01 */

    msg late = span_at(d, 0, 0, 1);
    assert_absent(late, 4);
    assert_absent(late, 9);
    assert_int_equal(get_varint(late, 6), 4);
}

/* export_spans encoded each one-span batch while the data was valid. */
static void test_encoded_inside_export(void **state)
{
    decoded *d = *state;
    msg all = {(const uint8_t *)d->fx.in_call.data, d->fx.in_call.len};
    static const char *const order[] = {"child", "root", "other", "remote-child", "late"};
    assert_int_equal(d->fx.in_call_rc, OTELC_OK);
    /* Concatenated requests form one request with a ResourceSpans each. */
    assert_int_equal(count_of(all, 1), 5);
    for (size_t i = 0; i < 5; i++) assert_span_name(sub(sub(sub(all, 1, i), 2, 0), 2, 0), order[i]);
}

/* ---- Edge cases ------------------------------------------------------------------------ */

static void test_empty_and_append(void **state)
{
    decoded *d = *state;
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_proto(&b, NULL, 0), OTELC_OK);
    assert_int_equal(b.len, 0);
    /* A frame header written first stays; the request follows it. */
    otelc__buf_append(&b, "\0\0\0\0\0", 5);
    assert_int_equal(otelc__otlp_encode_proto(&b, d->fx.spans, d->fx.count), OTELC_OK);
    assert_int_equal(b.len, 5 + d->out.len);
    assert_memory_equal(b.data + 5, d->out.data, d->out.len);
    /* Reuse after reset gives the same bytes. */
    otelc__buf_reset(&b);
    assert_int_equal(otelc__otlp_encode_proto(&b, d->fx.spans, d->fx.count), OTELC_OK);
    assert_int_equal(b.len, d->out.len);
    assert_memory_equal(b.data, d->out.data, d->out.len);
    otelc__buf_free(&b);
}

/*
 * The request read from a stream room bytes at a time, rewound once
 * halfway through first (a retry): it must be the whole-buffer encoding.
 */
static void assert_streams_as(const otelc_span_data *const *spans, size_t n, size_t room,
                              const otelc_buf *whole)
{
    otelc_proto_stream s;
    uint8_t *chunk = malloc(room);
    otelc_buf got = {0};
    assert_int_equal(otelc__otlp_proto_open(&s, spans, n), OTELC_OK);
    assert_int_equal(s.total, whole->len);
    while (got.len < whole->len / 2)
        otelc__buf_append(&got, chunk, otelc__otlp_proto_read(&s, chunk, room));
    otelc__otlp_proto_rewind(&s);
    otelc__buf_reset(&got);
    for (;;) {
        size_t k = otelc__otlp_proto_read(&s, chunk, room);
        if (k == 0) break;
        assert_true(k <= room);
        otelc__buf_append(&got, chunk, k);
    }
    assert_int_equal(got.len, whole->len);
    assert_memory_equal(got.data, whole->data, whole->len);
    otelc__otlp_proto_close(&s);
    otelc__buf_free(&got);
    free(chunk);
}

/* Several resources and scopes, read in pieces of every small size and a few large ones. */
static void test_stream_in_pieces(void **state)
{
    decoded *d = *state;
    static const size_t rooms[] = {150, 151, 1000, 4096, 1 << 20};
    for (size_t room = 1; room <= 64; room++)
        assert_streams_as(d->fx.spans, d->fx.count, room, &d->out);
    for (size_t k = 0; k < sizeof rooms / sizeof rooms[0]; k++)
        assert_streams_as(d->fx.spans, d->fx.count, rooms[k], &d->out);
}

/* Many scopes and a value longer than a stream's room. */
static void test_many_scopes_and_long_values(void **state)
{
    enum { SCOPES = 40 };
    otlp_fx fx = {0};
    fx.encode = otelc__otlp_encode_proto;
    fx.prov1 = fx_provider(&fx, otelc_resource_new(NULL, 0, NULL));
    size_t big = 70000; /* a three-byte length */
    char *long_str = malloc(big + 1);
    memset(long_str, 'z', big);
    long_str[big] = '\0';
    for (int i = 0; i < SCOPES; i++) {
        char name[16];
        snprintf(name, sizeof(name), "scope%d", i);
        otelc_span *s = fx_start_root(otelc_provider_tracer(fx.prov1, name, NULL, NULL), name,
                                      OTELC_SPAN_INTERNAL);
        if (i == SCOPES - 1) otelc_span_set_str(s, "long", long_str);
        otelc_span_end(s);
    }
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_proto(&b, fx.spans, fx.count), OTELC_OK);
    msg req = {(const uint8_t *)b.data, b.len};
    msg rs = sub(req, 1, 0);
    assert_int_equal(count_of(req, 1), 1);
    assert_int_equal(count_of(sub(rs, 1, 0), 1), 0); /* empty resource: no attributes */
    assert_int_equal(count_of(rs, 2), SCOPES);
    for (int i = 0; i < SCOPES; i++) {
        char name[16];
        snprintf(name, sizeof(name), "scope%d", i);
        msg ss = sub(rs, 2, (size_t)i);
        assert_str(sub(ss, 1, 0), 1, name);
        assert_span_name(sub(ss, 2, 0), name);
    }
    msg last = sub(sub(rs, 2, SCOPES - 1), 2, 0);
    assert_int_equal(get(attr(last, 9, "long"), 1, 2).sub.n, big);
    /* Streamed, the long span is larger than the room and comes out in parts. */
    assert_streams_as(fx.spans, fx.count, 4096, &b);
    assert_streams_as(fx.spans, fx.count, 7, &b);
    free(long_str);
    otelc__buf_free(&b);
    fx_free(&fx);
}

/*
 * Short strings are copied as overlapping words: names, keys and values of
 * every length from 0 to 40 (no byte equal to its neighbours) must come
 * out whole and in place. Span n is named by the n-byte text and carries
 * it as key and as value.
 */
static void test_every_short_length(void **state)
{
    (void)state;
    enum { MAXLEN = 40 };
    otlp_fx fx = {0};
    fx.encode = otelc__otlp_encode_proto;
    fx.prov1 = fx_provider(&fx, otelc_resource_new(NULL, 0, NULL));
    otelc_tracer *t = otelc_provider_tracer(fx.prov1, "lengths", NULL, NULL);
    char text[MAXLEN + 1][MAXLEN + 1];
    for (int n = 0; n <= MAXLEN; n++) {
        for (int i = 0; i < n; i++) text[n][i] = (char)('A' + (i * 7 + n) % 58);
        text[n][n] = '\0';
        otelc_span *s = fx_start_root(t, text[n], OTELC_SPAN_INTERNAL);
        if (n) otelc_span_set_str(s, text[n], text[n]);
        otelc_span_end(s);
    }
    otelc_buf b = {0};
    assert_int_equal(otelc__otlp_encode_proto(&b, fx.spans, fx.count), OTELC_OK);
    msg ss = sub(sub((msg){(const uint8_t *)b.data, b.len}, 1, 0), 2, 0);
    assert_int_equal(count_of(ss, 2), MAXLEN + 1);
    assert_absent(sub(ss, 2, 0), 5); /* the empty name */
    for (int n = 1; n <= MAXLEN; n++) {
        msg span = sub(ss, 2, (size_t)n);
        assert_span_name(span, text[n]);
        assert_int_equal(count_of(span, 9), 1);
        assert_str(attr(span, 9, text[n]), 1, text[n]);
    }
    otelc__buf_free(&b);
    fx_free(&fx);
}

/* ---- The other AnyValue kinds, scope attributes, single messages ---------------------------- */

/* An AnyValue with no member set: the empty value. */
static void assert_empty_value(msg any)
{
    assert_int_equal(any.n, 0);
}

/* The AnyValue of item i of the ArrayValue in any (array_value = 5). */
static msg array_item(msg any, size_t i)
{
    return sub(sub(any, 5, 0), 1, i);
}

static void assert_raw_bytes(msg any)
{
    assert_int_equal(count_of(any, 7), 1);
    assert_bytes(any, 7, AV_RAW, sizeof(AV_RAW));
    assert_int_equal(any.n, 2 + sizeof(AV_RAW)); /* nothing but bytes_value */
}

typedef struct av_encoded {
    av_span span;
    otelc_buf out;
    msg scope_spans;
} av_encoded;

static void av_encode(av_encoded *e)
{
    memset(e, 0, sizeof(*e));
    av_span_init(&e->span);
    const otelc_span_data *spans[] = {&e->span.sd};
    assert_int_equal(otelc__otlp_encode_proto(&e->out, spans, 1), OTELC_OK);
    e->scope_spans = sub(sub((msg){(const uint8_t *)e->out.data, e->out.len}, 1, 0), 2, 0);
}

static void av_free(av_encoded *e)
{
    otelc__buf_free(&e->out);
    otelc_resource_free(e->span.resource);
}

/*
 * common.proto: AnyValue { bytes_value = 7; ArrayValue array_value = 5;
 * KeyValueList kvlist_value = 6; } with ArrayValue { repeated AnyValue
 * values = 1; } and KeyValueList { repeated KeyValue values = 1; }; the
 * empty value sets no member.
 */
static void test_anyvalue_kinds(void **state)
{
    (void)state;
    av_encoded e;
    av_encode(&e);
    msg span = sub(e.scope_spans, 2, 0);
    assert_int_equal(count_of(span, 9), AV_LEN(AV_ATTRS));
    assert_raw_bytes(attr(span, 9, "av.bytes"));
    assert_empty_value(attr(span, 9, "av.empty"));

    msg map = sub(attr(span, 9, "av.map"), 6, 0);
    assert_int_equal(count_of(map, 1), 2);
    msg list = attr(map, 1, "list");
    assert_int_equal(count_of(sub(list, 5, 0), 1), 4);
    assert_int_equal(get_varint(array_item(list, 0), 3), 1);
    assert_str(array_item(list, 1), 1, "two");
    assert_empty_value(array_item(list, 2));
    assert_int_equal(get_varint(array_item(list, 3), 2), 0); /* false is still written */
    assert_raw_bytes(attr(map, 1, "raw"));

    msg arr = attr(span, 9, "av.array");
    assert_int_equal(count_of(sub(arr, 5, 0), 1), 4);
    msg inner = sub(array_item(arr, 0), 6, 0);
    assert_int_equal(get_varint(attr(inner, 1, "deep"), 2), 1);
    assert_empty_value(attr(inner, 1, "none"));
    assert_true(as_double(get(array_item(arr, 1), 4, 1).v) == 2.5);
    assert_int_equal(sub(array_item(arr, 2), 5, 0).n, 0); /* an empty ArrayValue, present */
    assert_int_equal(sub(array_item(arr, 3), 6, 0).n, 0); /* an empty KeyValueList, present */

    assert_int_equal(sub(attr(span, 9, "av.empty_map"), 6, 0).n, 0);
    assert_int_equal(count_of(attr(span, 9, "av.empty_map"), 6), 1);
    assert_int_equal(sub(attr(span, 9, "av.empty_array"), 5, 0).n, 0);
    assert_int_equal(count_of(attr(span, 9, "av.empty_array"), 5), 1);

    msg res = sub(sub((msg){(const uint8_t *)e.out.data, e.out.len}, 1, 0), 1, 0);
    assert_empty_value(attr(sub(attr(res, 1, "res.map"), 6, 0), 1, "none"));
    av_free(&e);
}

/* InstrumentationScope { name = 1; version = 2; attributes = 3; dropped_attributes_count = 4; } */
static void test_scope_attributes(void **state)
{
    (void)state;
    av_encoded e;
    av_encode(&e);
    msg scope = sub(e.scope_spans, 1, 0);
    assert_str(scope, 1, "av.scope");
    assert_str(scope, 2, "0.1");
    assert_int_equal(count_of(scope, 3), 2);
    assert_str(attr(scope, 3, "scope.kind"), 1, "library");
    assert_int_equal(count_of(sub(attr(scope, 3, "scope.tags"), 5, 0), 1), 4);
    assert_int_equal(get_varint(scope, 4), 3);
    /* Streamed in pieces, the request is the same. */
    const otelc_span_data *spans[] = {&e.span.sd};
    for (size_t room = 1; room <= 40; room++) assert_streams_as(spans, 1, room, &e.out);
    av_free(&e);
}

/*
 * The single-message encoders write exactly what the request holds for the
 * span, the resource and the scope: checked on every span of the scenario
 * and on the hand-built one, appended after bytes already in the buffer.
 */
static void assert_span_message(msg span_in_request, const otelc_span_data *sd)
{
    otelc_buf b = {0};
    otelc__buf_append(&b, "x", 1);
    assert_int_equal(otelc__otlp_encode_span(&b, sd), OTELC_OK);
    assert_int_equal(b.len, 1 + span_in_request.n);
    assert_memory_equal(b.data + 1, span_in_request.p, span_in_request.n);
    otelc__buf_free(&b);
}

static void assert_message(msg in_request, int (*encode)(otelc_buf *, const void *),
                           const void *what)
{
    otelc_buf b = {0};
    assert_int_equal(encode(&b, what), OTELC_OK);
    assert_int_equal(b.len, in_request.n);
    if (b.len) assert_memory_equal(b.data, in_request.p, in_request.n);
    otelc__buf_free(&b);
}

static int encode_resource(otelc_buf *b, const void *r)
{
    return otelc__otlp_encode_resource(b, r);
}

static int encode_scope(otelc_buf *b, const void *s)
{
    return otelc__otlp_encode_scope(b, s);
}

static void test_single_messages_match_the_request(void **state)
{
    decoded *d = *state;
    size_t seen = 0;
    for (size_t r = 0; r < count_of(d->req, 1); r++) {
        msg rs = sub(d->req, 1, r);
        for (size_t g = 0; g < count_of(rs, 2); g++) {
            msg ss = sub(rs, 2, g);
            for (size_t k = 0; k < count_of(ss, 2); k++, seen++) {
                msg span = sub(ss, 2, k);
                const otelc_span_data *sd = NULL;
                for (size_t i = 0; i < d->fx.count; i++)
                    if (memcmp(get(span, 2, 2).sub.p, d->fx.spans[i]->context.span_id, 8) == 0)
                        sd = d->fx.spans[i];
                assert_non_null(sd);
                assert_span_message(span, sd);
                assert_message(sub(rs, 1, 0), encode_resource, sd->resource);
                assert_message(sub(ss, 1, 0), encode_scope, sd->scope);
            }
        }
    }
    assert_int_equal(seen, d->fx.count);

    av_encoded e;
    av_encode(&e);
    msg rs = sub((msg){(const uint8_t *)e.out.data, e.out.len}, 1, 0);
    assert_span_message(sub(e.scope_spans, 2, 0), &e.span.sd);
    assert_message(sub(rs, 1, 0), encode_resource, e.span.resource);
    assert_message(sub(e.scope_spans, 1, 0), encode_scope, &e.span.scope);
    assert_message((msg){NULL, 0}, encode_resource, NULL);
    assert_message((msg){NULL, 0}, encode_scope, NULL);
    av_free(&e);
}

/* The AnyValue inside levels one-item array_value (5) or kvlist_value (6) members. */
static msg dig(msg any, uint32_t member, int levels)
{
    for (int i = 0; i < levels; i++) {
        msg item = sub(sub(any, member, 0), 1, 0);
        any = member == 6 ? sub(item, 2, 0) : item;
    }
    return any;
}

/* The AnyValue of the only attribute of the only span, encoded as a request. */
static msg only_attr(otelc_buf *b, av_span *s, const otelc_attr *a)
{
    const otelc_span_data *spans[] = {&s->sd};
    s->sd.attrs = a;
    s->sd.attr_count = 1;
    otelc__buf_reset(b);
    assert_int_equal(otelc__otlp_encode_proto(b, spans, 1), OTELC_OK);
    msg req = {(const uint8_t *)b->data, b->len};
    return attr(sub(sub(sub(req, 1, 0), 2, 0), 2, 0), 9, a->key);
}

/* Nesting past OTELC_MAX_VALUE_DEPTH in a span built by hand is written as the empty value. */
static void test_nesting_past_the_bound_is_empty(void **state)
{
    (void)state;
    enum { D = OTELC_MAX_VALUE_DEPTH };
    otelc_value levels[D + 1];
    otelc_attr slots[D + 1];
    static const otelc_value_type kinds[] = {OTELC_VALUE_ARRAY, OTELC_VALUE_MAP};
    av_span s;
    av_span_init(&s);
    otelc_buf b = {0};
    for (size_t k = 0; k < 2; k++) {
        uint32_t member = kinds[k] == OTELC_VALUE_MAP ? 6 : 5;
        otelc_attr a = {"deep", av_nest(levels, D, kinds[k], slots, (otelc_value)AV_INT(9))};
        assert_int_equal(get_varint(dig(only_attr(&b, &s, &a), member, D), 3), 9);
        a.value = av_nest(levels, D + 1, kinds[k], slots, (otelc_value)AV_INT(9));
        assert_empty_value(dig(only_attr(&b, &s, &a), member, D));
    }
    otelc__buf_free(&b);
    otelc_resource_free(s.resource);
}

/* ---- Response parser ------------------------------------------------------------------ */

static int parse(const char *bytes, size_t n, otelc_otlp_response *r)
{
    return otelc__otlp_parse_response_proto(bytes, n, r);
}

#define PARSE(lit, r) parse((lit), sizeof(lit) - 1, (r))

static void test_response_valid(void **state)
{
    otelc_otlp_response r;
    assert_int_equal(PARSE("\x0a\x08\x08\x05\x12\x04oops", &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 5);
    assert_string_equal(r.error_message, "oops");
    /* A large count as a multi-byte varint. */
    assert_int_equal(PARSE("\x0a\x03\x08\xac\x02", &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 300);
    assert_string_equal(r.error_message, "");
}

static void test_response_empty(void **state)
{
    otelc_otlp_response r;
    memset(&r, 0x55, sizeof(r));
    assert_int_equal(parse(NULL, 0, &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 0);
    assert_string_equal(r.error_message, "");
    assert_int_equal(PARSE("\x0a\x00", &r), OTELC_OK); /* empty partial_success */
    assert_int_equal(r.rejected_spans, 0);
}

static void test_response_unknown_fields(void **state)
{
    otelc_otlp_response r;
    /* varint 2, fixed64 3, bytes 4, group 5 (holding a varint), fixed32 6 - at both levels. */
    static const char msg_bytes[] = "\x10\x96\x01"
                                    "\x19\x01\x02\x03\x04\x05\x06\x07\x08"
                                    "\x22\x02zz"
                                    "\x2b\x08\x01\x2c"
                                    "\x35\x01\x02\x03\x04"
                                    "\x0a\x18"
                                    "\x18\x07"
                                    "\x21\x01\x02\x03\x04\x05\x06\x07\x08"
                                    "\x2a\x00"
                                    "\x33\x08\x01\x34"
                                    "\x3d\x01\x02\x03\x04"
                                    "\x08\x09";
    assert_int_equal(parse(msg_bytes, sizeof(msg_bytes) - 1, &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 9);
    /*
     * A known field number with another wire type (rejected_spans as fixed32)
     * is skipped like an unknown field - but only within its enclosing length.
     */
    assert_int_equal(PARSE("\x0a\x05\x0d\x01\x02\x03\x04", &r), OTELC_OK);
    assert_int_equal(PARSE("\x0a\x03\x0d\x01\x02\x03\x04", &r), OTELC_ERR_PARSE);
    assert_int_equal(r.rejected_spans, 0);
}

static void test_response_malformed(void **state)
{
    otelc_otlp_response r;
    assert_int_equal(PARSE("\x0a", &r), OTELC_ERR_PARSE);                 /* no length */
    assert_int_equal(PARSE("\x0a\x05\x08\x01", &r), OTELC_ERR_PARSE);     /* length past end */
    assert_int_equal(PARSE("\x0a\x02\x08\x80", &r), OTELC_ERR_PARSE);     /* truncated varint */
    assert_int_equal(PARSE("\x0a\x03\x12\x05\x61", &r), OTELC_ERR_PARSE); /* inner past end */
    assert_int_equal(PARSE("\x10", &r), OTELC_ERR_PARSE);                 /* value missing */
    assert_int_equal(PARSE("\x19\x01\x02", &r), OTELC_ERR_PARSE);         /* short fixed64 */
    assert_int_equal(PARSE("\x1d\x01", &r), OTELC_ERR_PARSE);             /* short fixed32 */
    assert_int_equal(PARSE("\x0e", &r), OTELC_ERR_PARSE);                 /* wire type 6 */
    assert_int_equal(PARSE("\x0f", &r), OTELC_ERR_PARSE);                 /* wire type 7 */
    assert_int_equal(PARSE("\x00\x00", &r), OTELC_ERR_PARSE);             /* field 0 */
    assert_int_equal(PARSE("\x2c", &r), OTELC_ERR_PARSE);                 /* stray end group */
    assert_int_equal(PARSE("\x2b\x08\x01", &r), OTELC_ERR_PARSE);         /* unclosed group */
    assert_int_equal(PARSE("\x2b\x34", &r), OTELC_ERR_PARSE);             /* wrong end group */
    /* Eleven-byte varint, and a ten-byte one that overflows 64 bits. */
    assert_int_equal(PARSE("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", &r),
                     OTELC_ERR_PARSE);
    assert_int_equal(PARSE("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", &r), OTELC_ERR_PARSE);
    assert_int_equal(PARSE("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", &r), OTELC_OK);
    /* A huge length must not wrap the bounds check. */
    assert_int_equal(PARSE("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", &r), OTELC_ERR_PARSE);
}

/* ExportTraceServiceResponse{partial_success{error_message: 400 x 'm'}}. */
static void test_response_long_message_truncated(void **state)
{
    uint8_t in[6 + 400];
    otelc_otlp_response r;
    in[0] = 0x0a; /* partial_success, length 403 as two varint bytes */
    in[1] = (uint8_t)(0x80 | (403 & 0x7f));
    in[2] = (uint8_t)(403 >> 7);
    in[3] = 0x12; /* error_message, length 400 */
    in[4] = (uint8_t)(0x80 | (400 & 0x7f));
    in[5] = (uint8_t)(400 >> 7);
    memset(in + 6, 'm', 400);
    assert_int_equal(otelc__otlp_parse_response_proto(in, sizeof(in), &r), OTELC_OK);
    assert_int_equal(strlen(r.error_message), sizeof(r.error_message) - 1);
    assert_int_equal(r.error_message[0], 'm');
}

/* ---- The key lengths an SDK span keeps ---------------------------------------------------- */

/* What an exporter saw: its spans' encodings made inside export_spans, and the spans. */
typedef struct inside {
    otelc_buf whole, streamed;
    bool trusted;
    const otelc_span_data *spans[16];
    size_t count;
} inside;

/* The stream of spans read whole into out. */
static void stream_into(otelc_buf *out, const otelc_span_data *const *spans, size_t n)
{
    otelc_proto_stream st;
    uint8_t chunk[97];
    assert_int_equal(otelc__otlp_proto_open(&st, spans, n), OTELC_OK);
    for (size_t k; (k = otelc__otlp_proto_read(&st, chunk, sizeof chunk)) != 0;)
        otelc__buf_append(out, chunk, k);
    otelc__otlp_proto_close(&st);
}

static otelc_export_result encode_inside(void *self, const otelc_span_data *const *spans, size_t n)
{
    inside *in = self;
    in->trusted = otelc__exporting_sdk_spans(spans);
    assert_int_equal(otelc__otlp_encode_proto(&in->whole, spans, n), OTELC_OK);
    stream_into(&in->streamed, spans, n);
    for (size_t i = 0; i < n && in->count < 16; i++) {
        otelc_span_data_retain(spans[i]);
        in->spans[in->count++] = spans[i];
    }
    return OTELC_EXPORT_SUCCESS;
}

/*
 * A batch exporter's spans are the SDK's, and their encoding uses the key
 * lengths each span kept: keys set by every path (typed setters, lists,
 * start options, set twice), short, past the small size, past 255 bytes,
 * in the inline table and in a grown one. The bytes must be those of the
 * same spans encoded from a copy of the array, which measures every key.
 */
static void test_sdk_key_lengths_encode_the_same(void **state)
{
    (void)state;
    static const otelc_exporter_ops ops = {.export_spans = encode_inside};
    inside in = {0};
    otelc_batch_options bo = {.max_queue_size = 64,
                              .schedule_delay_ms = 60000,
                              .max_export_batch_size = 64,
                              .export_timeout_ms = 10000};
    otelc_processor *proc = otelc_batch_processor_new(otelc_exporter_new(&ops, &in), &bo);
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    otelc_provider *p = NULL;
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_tracer *t = otelc_provider_tracer(p, "keys", NULL, NULL);

    char long_key[301], small_max[61];
    memset(long_key, 'k', 300), long_key[300] = '\0';
    memset(small_max, 'm', 60), small_max[60] = '\0';
    otelc_attr at_start[] = {OTELC_ATTR_STR("http.request.method", "GET"),
                             OTELC_ATTR_INT("server.port", 8080)};
    otelc_span_options so = {.kind = OTELC_SPAN_SERVER, .attrs = at_start, .attr_count = 2};
    otelc_span *s = otelc_span_start_with(t, "many", &so);
    otelc_span_set_str(s, "url.path", "/a/b");
    otelc_span_set_int(s, "http.response.status_code", 200);
    otelc_span_set_double(s, "d", 0.5);
    otelc_span_set_bool(s, "b", true);
    otelc_span_set_str(s, small_max, "at the small limit");
    otelc_span_set_str(s, long_key, "a key longer than a byte counts");
    otelc_attr listed[] = {OTELC_ATTR_STR("listed.one", "1"), OTELC_ATTR_STR("url.path", "/again")};
    otelc_span_set_attrs(s, listed, 2);
    otelc_span_set_int(s, "server.port", 9090);
    /* As an optimised build's inline setters call it, with the key's length and bit. */
    otelc__span_put_str(s, "client.address", 14, OTELC__KEY_BIT_OF("client.address", 14),
                        "127.0.0.1", 9);
    otelc__span_put_int(s, "http.response.body.size", 23,
                        OTELC__KEY_BIT_OF("http.response.body.size", 23), 14);
    otelc_span_end(s);
    s = otelc_span_start(t, "few", OTELC_SPAN_CLIENT);
    otelc__span_put_str(s, "k", 1, OTELC__KEY_BIT_OF("k", 1), "v", 1);
    otelc_span_set_str(s, "", "empty key");
    otelc_span_end(s);
    otelc_span_end(otelc_span_start(t, "none", OTELC_SPAN_INTERNAL));
    /*
     * The attributes' encoded size is kept as the server helper sets them
     * (static ones at once, then one by one), and trusted while each was
     * small: not with a 70-byte value. The spans above mix in the other
     * setters, which do not count theirs.
     */
    char long_value[71];
    memset(long_value, 'v', 70), long_value[70] = '\0';
    otelc_attr st[] = {OTELC_ATTR_STR("http.request.method", "GET"),
                       OTELC_ATTR_INT("server.port", -5), OTELC_ATTR_STR("url.path", "/kept"),
                       OTELC_ATTR_STR("url.query", long_value)};
    otelc_static_key sk[] = {
        {OTELC__KEY_BIT_OF("http.request.method", 19), 19 | OTELC_STATIC_VALUE},
        {OTELC__KEY_BIT_OF("server.port", 11), 11},
        {OTELC__KEY_BIT_OF("url.path", 8), 8},
        {OTELC__KEY_BIT_OF("url.query", 9), 9},
    };
    s = otelc_span_start(t, "static", OTELC_SPAN_SERVER);
    otelc__span_put_static_attrs(s, st, sk, 3, 2);
    otelc__span_put_static_int(s, "negative",
                               (otelc_static_key){OTELC__KEY_BIT_OF("negative", 8), 8}, -1);
    otelc_span_end(s);
    s = otelc_span_start(t, "static, one long", OTELC_SPAN_SERVER);
    otelc__span_put_static_attrs(s, st, sk, 4, 0);
    otelc_span_end(s);
    /* A value replaced: as many attributes as were counted, but not their size. */
    s = otelc_span_start(t, "static, one replaced", OTELC_SPAN_SERVER);
    otelc__span_put_static_attrs(s, st, sk, 3, 0);
    otelc_span_set_str(s, "url.path", "/replaced by a longer path");
    otelc_span_end(s);
    /* The name's length is kept too: renamed, empty, and past what it keeps (measured). */
    s = otelc_span_start(t, "before", OTELC_SPAN_INTERNAL);
    otelc_span_update_name(s, "renamed to something longer");
    otelc_span_end(s);
    otelc_span_end(otelc_span_start(t, "", OTELC_SPAN_INTERNAL));
    char *huge = malloc(70001);
    assert_non_null(huge);
    memset(huge, 'n', 70000), huge[70000] = '\0';
    otelc_span_end(otelc_span_start(t, huge, OTELC_SPAN_INTERNAL));
    free(huge);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);

    assert_true(in.trusted);
    assert_int_equal(in.count, 9);
    const otelc_span_data *copy[16];
    memcpy(copy, in.spans, in.count * sizeof copy[0]);
    assert_false(otelc__exporting_sdk_spans(copy));
    otelc_buf whole = {0}, streamed = {0};
    assert_int_equal(otelc__otlp_encode_proto(&whole, copy, in.count), OTELC_OK);
    stream_into(&streamed, copy, in.count);
    assert_int_equal(in.whole.len, whole.len);
    assert_memory_equal(in.whole.data, whole.data, whole.len);
    assert_int_equal(in.streamed.len, whole.len);
    assert_memory_equal(in.streamed.data, whole.data, whole.len);
    assert_int_equal(streamed.len, whole.len);
    /* The long key made it whole, and the span its attributes in order. */
    assert_non_null(otelc_span_data_attr(in.spans[0], long_key));
    assert_string_equal(otelc_span_data_attr(in.spans[0], "url.path")->u.str.ptr, "/again");
    assert_int_equal(in.spans[3]->attr_count, 4);
    /* Sized as it was set (the case this span is here for), unlike the one with a long value. */
    assert_int_not_equal(otelc__span_attrs_wire(in.spans[3]), OTELC_WIRE_UNKNOWN);
    assert_int_equal(otelc__span_attrs_wire(in.spans[4]), OTELC_WIRE_UNKNOWN);
    assert_int_equal(otelc_span_data_attr(in.spans[3], "negative")->u.i, -1);
    assert_int_equal(in.spans[4]->attr_count, 4);
    assert_int_equal(otelc__span_attrs_wire(in.spans[5]), OTELC_WIRE_UNKNOWN);
    assert_string_equal(otelc_span_data_attr(in.spans[5], "url.path")->u.str.ptr,
                        "/replaced by a longer path");
    assert_string_equal(in.spans[6]->name, "renamed to something longer");
    assert_int_equal(strlen(in.spans[8]->name), 70000);

    for (size_t i = 0; i < in.count; i++) otelc_span_data_release(in.spans[i]);
    otelc_provider_free(p);
    otelc__buf_free(&in.whole);
    otelc__buf_free(&in.streamed);
    otelc__buf_free(&whole);
    otelc__buf_free(&streamed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_groups_by_resource_then_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resource_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_span_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_value_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_and_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_and_remote_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoded_inside_export, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_in_pieces, setup, teardown),
        cmocka_unit_test(test_many_scopes_and_long_values),
        cmocka_unit_test(test_every_short_length),
        cmocka_unit_test(test_anyvalue_kinds),
        cmocka_unit_test(test_scope_attributes),
        cmocka_unit_test_setup_teardown(test_single_messages_match_the_request, setup, teardown),
        cmocka_unit_test(test_nesting_past_the_bound_is_empty),
        cmocka_unit_test(test_sdk_key_lengths_encode_the_same),
        cmocka_unit_test(test_response_valid),
        cmocka_unit_test(test_response_empty),
        cmocka_unit_test(test_response_unknown_fields),
        cmocka_unit_test(test_response_malformed),
        cmocka_unit_test(test_response_long_message_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
