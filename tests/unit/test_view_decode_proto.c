/*
 * test_view_decode_proto.c - the viewer's OTLP protobuf decoder and its
 * replies: spans made by the SDK, encoded by libotelc and decoded again,
 * compared field by field and re-encoded byte for byte; hand-built
 * messages for every AnyValue kind, unknown fields, every decision of
 * decode_proto.h and every kind of malformed input; the single-message
 * decoders; the replies read back by libotelc's own parsers.
 *
 * Hand-built messages are written with a protobuf writer of this file's
 * own, not the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode_proto.h"
#include "otlp_reply.h"
#include "otlp_spans.h"

/* ---- A protobuf writer for hand-built messages ------------------------------------------- */

typedef struct pbw {
    uint8_t *p;
    size_t len, cap;
} pbw;

static void w_raw(pbw *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
        assert_non_null(w->p);
    }
    if (n) memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void w_varint(pbw *w, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b |= 0x80;
        w_raw(w, &b, 1);
    } while (v);
}

enum { VARINT = 0, I64 = 1, LEN = 2, SGROUP = 3, EGROUP = 4, I32 = 5 };

static void w_key(pbw *w, uint32_t field, int wt)
{
    w_varint(w, (uint64_t)field << 3 | (uint64_t)wt);
}

static void w_bytes(pbw *w, uint32_t field, const void *p, size_t n)
{
    w_key(w, field, LEN);
    w_varint(w, n);
    w_raw(w, p, n);
}

static void w_str(pbw *w, uint32_t field, const char *s)
{
    w_bytes(w, field, s, strlen(s));
}

static void w_u64(pbw *w, uint32_t field, uint64_t v)
{
    w_key(w, field, VARINT);
    w_varint(w, v);
}

static void w_fixed(pbw *w, uint32_t field, uint64_t v, int bytes)
{
    w_key(w, field, bytes == 8 ? I64 : I32);
    for (int i = 0; i < bytes; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        w_raw(w, &b, 1);
    }
}

/* inner as a length-delimited field of w; inner is consumed. */
static void w_msg(pbw *w, uint32_t field, pbw *inner)
{
    w_bytes(w, field, inner->p, inner->len);
    free(inner->p);
    *inner = (pbw){0};
}

/* One unknown field of every wire type, a group holding a group among them. */
static void w_unknowns(pbw *w)
{
    w_u64(w, 1000, 7);
    w_fixed(w, 1001, 0x0102030405060708ull, 8);
    w_str(w, 1002, "unknown");
    w_fixed(w, 1003, 9, 4);
    w_key(w, 1004, SGROUP);
    w_u64(w, 1, 1);
    w_key(w, 1005, SGROUP);
    w_str(w, 2, "in a group");
    w_key(w, 1005, EGROUP);
    w_key(w, 1004, EGROUP);
}

static const uint8_t TID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t SID[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
static const uint8_t PID[8] = {0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8};
static const uint8_t ZERO[16];
/* Ids one byte too long (17 and 9 bytes), for the sizes the decoder refuses. */
static const uint8_t LONG_ID[17] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};

/* A Span with ids and a name, nothing else. */
static pbw w_span(const uint8_t *tid, size_t tid_len, const uint8_t *sid, size_t sid_len,
                  const char *name)
{
    pbw s = {0};
    w_bytes(&s, 1, tid, tid_len);
    w_bytes(&s, 2, sid, sid_len);
    w_str(&s, 5, name);
    return s;
}

/* A KeyValue of key and an AnyValue's bytes. */
static pbw w_kv(const char *key, const void *any, size_t n)
{
    pbw kv = {0};
    w_str(&kv, 1, key);
    w_bytes(&kv, 2, any, n);
    return kv;
}

/* A request of n spans in one ResourceSpans and one ScopeSpans; the spans are consumed. */
static pbw w_request(pbw *spans, size_t n)
{
    pbw scope_spans = {0}, resource_spans = {0}, req = {0};
    for (size_t i = 0; i < n; i++) w_msg(&scope_spans, 2, &spans[i]);
    w_msg(&resource_spans, 2, &scope_spans);
    w_msg(&req, 1, &resource_spans);
    return req;
}

static void w_free(pbw *w)
{
    free(w->p);
    *w = (pbw){0};
}

/* Decode w (from an exact-size copy, so that ASan sees a read past the end). */
static vw_decode_status decode(const pbw *w, size_t len, vw_batch *b)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) memcpy(copy, w->p, len);
    vw_batch_init(b);
    vw_decode_status st = vw_decode_otlp_proto(copy, len, b);
    free(copy);
    return st;
}

/* ---- Comparing decoded data ------------------------------------------------------------- */

static void assert_str_eq(const char *a, const char *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_string_equal(a, b);
}

static void assert_attrs_eq(const otelc_attr *a, size_t na, const otelc_attr *b, size_t nb);

static size_t item_bytes(otelc_value_type t)
{
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY:
        return sizeof(const char *);
    case OTELC_VALUE_BOOL_ARRAY:
        return sizeof(bool);
    case OTELC_VALUE_INT_ARRAY:
        return sizeof(int64_t);
    default:
        return sizeof(double);
    }
}

static void assert_value_eq(const otelc_value *a, const otelc_value *b)
{
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case OTELC_VALUE_STRING:
    case OTELC_VALUE_BYTES:
        assert_int_equal(a->u.str.len, b->u.str.len);
        assert_memory_equal(a->u.str.ptr, b->u.str.ptr, a->u.str.len + (a->u.str.len == 0));
        break;
    case OTELC_VALUE_BOOL:
        assert_int_equal(a->u.b, b->u.b);
        break;
    case OTELC_VALUE_INT:
        assert_int_equal(a->u.i, b->u.i);
        break;
    case OTELC_VALUE_DOUBLE:
        assert_memory_equal(&a->u.d, &b->u.d, sizeof(double));
        break;
    case OTELC_VALUE_EMPTY:
        break;
    case OTELC_VALUE_ARRAY:
        assert_int_equal(a->u.array.count, b->u.array.count);
        for (size_t i = 0; i < a->u.array.count; i++)
            assert_value_eq(&((const otelc_value *)a->u.array.items)[i],
                            &((const otelc_value *)b->u.array.items)[i]);
        break;
    case OTELC_VALUE_MAP:
        assert_attrs_eq(a->u.array.items, a->u.array.count, b->u.array.items, b->u.array.count);
        break;
    case OTELC_VALUE_STRING_ARRAY:
        assert_int_equal(a->u.array.count, b->u.array.count);
        for (size_t i = 0; i < a->u.array.count; i++)
            assert_string_equal(((const char *const *)a->u.array.items)[i],
                                ((const char *const *)b->u.array.items)[i]);
        break;
    default:
        assert_int_equal(a->u.array.count, b->u.array.count);
        if (a->u.array.count)
            assert_memory_equal(a->u.array.items, b->u.array.items,
                                a->u.array.count * item_bytes(a->type));
    }
}

static void assert_attrs_eq(const otelc_attr *a, size_t na, const otelc_attr *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].key, b[i].key);
        assert_value_eq(&a[i].value, &b[i].value);
    }
}

static void assert_context_eq(const otelc_span_context *a, const otelc_span_context *b)
{
    assert_memory_equal(a->trace_id, b->trace_id, 16);
    assert_memory_equal(a->span_id, b->span_id, 8);
    assert_int_equal(a->trace_flags, b->trace_flags);
    assert_int_equal(a->is_remote, b->is_remote);
    assert_str_eq(a->trace_state, b->trace_state);
}

static void assert_resource_eq(const otelc_resource *a, const otelc_resource *b)
{
    size_t na = 0, nb = 0;
    const otelc_attr *aa = otelc_resource_attrs(a, &na), *ba = otelc_resource_attrs(b, &nb);
    assert_attrs_eq(aa, na, ba, nb);
    assert_str_eq(otelc_resource_schema_url(a), otelc_resource_schema_url(b));
    assert_int_equal(otelc__resource_dropped_count(a), otelc__resource_dropped_count(b));
}

static void assert_scope_eq(const otelc_scope_info *a, const otelc_scope_info *b)
{
    assert_str_eq(a->name, b->name);
    assert_str_eq(a->version, b->version);
    assert_str_eq(a->schema_url, b->schema_url);
    assert_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count);
    assert_int_equal(a->dropped_attr_count, b->dropped_attr_count);
}

/* Everything a span holds, its scope and resource compared by content. */
static void assert_span_eq(const otelc_span_data *a, const otelc_span_data *b)
{
    /* The context's is_remote is not on the wire; a span's own context is local. */
    assert_memory_equal(a->context.trace_id, b->context.trace_id, 16);
    assert_memory_equal(a->context.span_id, b->context.span_id, 8);
    assert_int_equal(a->context.trace_flags, b->context.trace_flags);
    assert_str_eq(a->context.trace_state, b->context.trace_state);
    assert_int_equal(a->has_parent, b->has_parent);
    assert_memory_equal(a->parent_span_id, b->parent_span_id, 8);
    assert_int_equal(a->parent_is_remote, b->parent_is_remote);
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->start_ns, b->start_ns);
    assert_int_equal(a->end_ns, b->end_ns);
    assert_attrs_eq(a->attrs, a->attr_count, b->attrs, b->attr_count);
    assert_int_equal(a->dropped_attr_count, b->dropped_attr_count);
    assert_int_equal(a->event_count, b->event_count);
    for (uint32_t i = 0; i < a->event_count; i++) {
        const otelc_event_data *x = &a->events[i], *y = &b->events[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->time_ns, y->time_ns);
        assert_attrs_eq(x->attrs, x->attr_count, y->attrs, y->attr_count);
        assert_int_equal(x->dropped_attr_count, y->dropped_attr_count);
    }
    assert_int_equal(a->dropped_event_count, b->dropped_event_count);
    assert_int_equal(a->link_count, b->link_count);
    for (uint32_t i = 0; i < a->link_count; i++) {
        const otelc_link_data *x = &a->links[i], *y = &b->links[i];
        assert_context_eq(&x->context, &y->context);
        assert_attrs_eq(x->attrs, x->attr_count, y->attrs, y->attr_count);
        assert_int_equal(x->dropped_attr_count, y->dropped_attr_count);
    }
    assert_int_equal(a->dropped_link_count, b->dropped_link_count);
    assert_int_equal(a->status, b->status);
    assert_str_eq(a->status_message, b->status_message);
    if (a->scope && b->scope) assert_scope_eq(a->scope, b->scope);
    if (a->resource && b->resource) assert_resource_eq(a->resource, b->resource);
}

static const otelc_span_data *find_span(const vw_batch *b, const uint8_t span_id[8])
{
    for (size_t i = 0; i < b->count; i++)
        if (memcmp(b->spans[i].context.span_id, span_id, 8) == 0) return &b->spans[i];
    fail_msg("span not decoded");
    return NULL;
}

/* ---- Spans from the SDK, through libotelc's encoder ------------------------------------------ */

typedef struct sdk_request {
    otlp_fx fx;
    otelc_buf wire;
} sdk_request;

static int setup_sdk(void **state)
{
    sdk_request *r = calloc(1, sizeof *r);
    fx_build(&r->fx, otelc__otlp_encode_proto);
    assert_int_equal(otelc__otlp_encode_proto(&r->wire, r->fx.spans, r->fx.count), OTELC_OK);
    *state = r;
    return 0;
}

static int teardown_sdk(void **state)
{
    sdk_request *r = *state;
    fx_free(&r->fx);
    otelc__buf_free(&r->wire);
    free(r);
    return 0;
}

static vw_decode_status decode_buf(const otelc_buf *wire, vw_batch *b)
{
    pbw w = {.p = (uint8_t *)wire->data, .len = wire->len};
    return decode(&w, wire->len, b);
}

static void test_sdk_spans_field_by_field(void **state)
{
    sdk_request *r = *state;
    vw_batch b;
    assert_int_equal(decode_buf(&r->wire, &b), VW_DECODE_OK);
    assert_int_equal(b.count, r->fx.count);
    assert_int_equal(b.rejected, 0);
    assert_string_equal(b.reject_reason, "");
    for (size_t i = 0; i < r->fx.count; i++) {
        const otelc_span_data *want = r->fx.spans[i];
        assert_span_eq(find_span(&b, want->context.span_id), want);
    }
    /* The scenario's parts the comparison relies on, so that it cannot pass on nothing. */
    const otelc_span_data *root = find_span(&b, fx_find(&r->fx, "root")->context.span_id);
    assert_int_equal(root->attr_count, 9);
    assert_int_equal(root->dropped_attr_count, 1);
    assert_int_equal(root->event_count, 2);
    assert_int_equal(root->link_count, 1);
    assert_true(root->links[0].context.is_remote);
    assert_int_equal(root->status, OTELC_STATUS_ERROR);
    assert_int_equal(otelc_span_data_attr(root, "ia")->type, OTELC_VALUE_INT_ARRAY);
    assert_int_equal(otelc_span_data_attr(root, "sa")->type, OTELC_VALUE_STRING_ARRAY);
    const otelc_span_data *remote = find_span(&b, fx_find(&r->fx, "remote-child")->context.span_id);
    assert_true(remote->has_parent && remote->parent_is_remote);
    assert_string_equal(remote->context.trace_state, "ts=1");
    vw_batch_free(&b);
}

/* Two resources and three scopes: shared pointers exactly where the sender grouped. */
static void test_sdk_grouping(void **state)
{
    sdk_request *r = *state;
    vw_batch b;
    assert_int_equal(decode_buf(&r->wire, &b), VW_DECODE_OK);
    assert_int_equal(b.resource_count, 2);
    for (size_t i = 0; i < b.count; i++)
        for (size_t j = 0; j < b.count; j++) {
            const otelc_span_data *x = find_span(&b, r->fx.spans[i]->context.span_id);
            const otelc_span_data *y = find_span(&b, r->fx.spans[j]->context.span_id);
            bool same_res = r->fx.spans[i]->resource == r->fx.spans[j]->resource;
            bool same_scope = r->fx.spans[i]->scope == r->fx.spans[j]->scope;
            assert_int_equal(x->resource == y->resource, same_res);
            assert_int_equal(x->scope == y->scope, same_scope);
        }
    vw_batch_free(&b);
}

/* What was decoded encodes again into the very same bytes. */
static void test_sdk_reencodes_identically(void **state)
{
    sdk_request *r = *state;
    vw_batch b;
    assert_int_equal(decode_buf(&r->wire, &b), VW_DECODE_OK);
    const otelc_span_data *list[FX_MAX_SPANS];
    for (size_t i = 0; i < b.count; i++) list[i] = &b.spans[i];
    otelc_buf again = {0};
    assert_int_equal(otelc__otlp_encode_proto(&again, list, b.count), OTELC_OK);
    assert_int_equal(again.len, r->wire.len);
    assert_memory_equal(again.data, r->wire.data, r->wire.len);
    otelc__buf_free(&again);
    vw_batch_free(&b);
}

static const otelc_span_data *fx_by_id(const otlp_fx *fx, const uint8_t span_id[8])
{
    for (size_t i = 0; i < fx->count; i++)
        if (memcmp(fx->spans[i]->context.span_id, span_id, 8) == 0) return fx->spans[i];
    fail_msg("a span the request did not hold");
    return NULL;
}

static size_t chunk_count(const vw_batch *b)
{
    size_t n = 0;
    for (const otelc_arena_chunk *c = b->arena.chunks; c; c = c->next) n++;
    return n;
}

/* One batch, request after request (vw_batch_reset()): same results, memory kept, no growth. */
static void test_sdk_batch_reused(void **state)
{
    sdk_request *r = *state;
    static const uint8_t malformed[] = {0x0a, 5, 0x12};
    vw_batch b;
    vw_batch_init(&b);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(vw_decode_otlp_proto((const uint8_t *)r->wire.data, r->wire.len, &b),
                         VW_DECODE_OK);
        assert_int_equal(b.count, r->fx.count);
        assert_int_equal(b.resource_count, 2);
        for (size_t i = 0; i < b.count; i++)
            assert_span_eq(&b.spans[i], fx_by_id(&r->fx, b.spans[i].context.span_id));
        assert_int_equal(chunk_count(&b), 1);
        const char *arena = b.arena.chunks->data;
        vw_batch_reset(&b);
        assert_int_equal(b.count + b.resource_count + b.rejected, 0);
        assert_ptr_equal(b.arena.chunks->data, arena);
        /* A refused request empties the batch too, and it serves again. */
        assert_int_equal(vw_decode_otlp_proto(malformed, sizeof malformed, &b), VW_DECODE_INVALID);
        assert_int_equal(b.count + b.resource_count, 0);
    }
    vw_batch_free(&b);
}

/* Cut short at every byte: never a crash, and either refused or fewer spans, intact. */
static void test_sdk_truncated_at_every_byte(void **state)
{
    sdk_request *r = *state;
    pbw w = {.p = (uint8_t *)r->wire.data, .len = r->wire.len};
    size_t ok = 0;
    for (size_t len = 0; len < w.len; len++) {
        vw_batch b;
        vw_decode_status st = decode(&w, len, &b);
        if (st == VW_DECODE_OK) {
            ok++;
            assert_true(b.count < r->fx.count);
            for (size_t i = 0; i < b.count; i++)
                assert_span_eq(&b.spans[i], fx_by_id(&r->fx, b.spans[i].context.span_id));
        } else {
            assert_int_equal(st, VW_DECODE_INVALID);
            assert_int_equal(b.count, 0);
            assert_int_equal(b.resource_count, 0);
        }
        vw_batch_free(&b);
    }
    assert_int_equal(ok, 2); /* the empty request, and the first ResourceSpans whole */
}

/* ---- A request with every field, built by hand ---------------------------------------------- */

/* The messages a field can be added to (see build_full). */
enum level {
    L_NONE,
    L_REQUEST,
    L_RESOURCE_SPANS,
    L_RESOURCE,
    L_SCOPE_SPANS,
    L_SCOPE,
    L_SPAN,
    L_EVENT,
    L_LINK,
    L_STATUS,
    L_KEY_VALUE,
    L_ANY_VALUE,
    L_ARRAY_VALUE,
    L_KV_LIST,
};

/* What build_full adds: unknown fields everywhere, or one field at one level. */
typedef struct extras {
    bool unknowns;
    enum level at;
    uint32_t field;
    int wt;
} extras;

/* A field of wire type wt with a payload of that type (a group closes itself). */
static void w_any_field(pbw *w, uint32_t field, int wt)
{
    switch (wt) {
    case VARINT:
        w_u64(w, field, 1);
        break;
    case I64:
        w_fixed(w, field, 1, 8);
        break;
    case I32:
        w_fixed(w, field, 1, 4);
        break;
    case LEN:
        w_str(w, field, "x");
        break;
    default:
        w_key(w, field, SGROUP);
        w_key(w, field, EGROUP);
    }
}

static void w_extras(pbw *w, const extras *x, enum level here)
{
    if (x->unknowns) w_unknowns(w);
    if (x->at == here) w_any_field(w, x->field, x->wt);
}

static const uint8_t LINK_TID[16] = {0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
                                     0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0xf0};
static const uint8_t LINK_SID[8] = {0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8};

static pbw build_resource(const extras *x)
{
    pbw res = {0}, kv = {0}, any = {0};
    w_str(&any, 1, "svc");
    w_str(&kv, 1, "service.name");
    w_msg(&kv, 2, &any);
    w_msg(&res, 1, &kv);
    w_u64(&res, 2, 2);
    w_extras(&res, x, L_RESOURCE);
    return res;
}

static pbw build_scope(const extras *x)
{
    pbw scope = {0}, kv = {0}, any = {0};
    w_str(&scope, 1, "lib");
    w_str(&scope, 2, "1.0");
    w_u64(&any, 3, 1);
    w_str(&kv, 1, "scope.attr");
    w_msg(&kv, 2, &any);
    w_msg(&scope, 3, &kv);
    w_u64(&scope, 4, 3);
    w_extras(&scope, x, L_SCOPE);
    return scope;
}

/* Attributes "s" (a string), "arr" (ints 1 and 2) and "map" ({"k": true}). */
static void w_span_attrs(pbw *span, const extras *x)
{
    pbw kv = {0}, any = {0}, arr = {0}, item = {0}, list = {0}, inner = {0}, inner_any = {0};
    w_str(&any, 1, "str");
    w_extras(&any, x, L_ANY_VALUE);
    w_str(&kv, 1, "s");
    w_msg(&kv, 2, &any);
    w_extras(&kv, x, L_KEY_VALUE);
    w_msg(span, 9, &kv);

    for (int i = 1; i <= 2; i++) {
        w_u64(&item, 3, (uint64_t)i);
        w_msg(&arr, 1, &item);
    }
    w_extras(&arr, x, L_ARRAY_VALUE);
    w_msg(&any, 5, &arr);
    w_str(&kv, 1, "arr");
    w_msg(&kv, 2, &any);
    w_msg(span, 9, &kv);

    w_u64(&inner_any, 2, 1);
    w_str(&inner, 1, "k");
    w_msg(&inner, 2, &inner_any);
    w_msg(&list, 1, &inner);
    w_extras(&list, x, L_KV_LIST);
    w_msg(&any, 6, &list);
    w_str(&kv, 1, "map");
    w_msg(&kv, 2, &any);
    w_msg(span, 9, &kv);
}

static void w_event(pbw *span, const extras *x)
{
    pbw ev = {0}, kv = {0}, any = {0};
    w_fixed(&ev, 1, 150, 8);
    w_str(&ev, 2, "ev");
    w_u64(&any, 3, 5);
    w_str(&kv, 1, "e");
    w_msg(&kv, 2, &any);
    w_msg(&ev, 3, &kv);
    w_u64(&ev, 4, 5);
    w_extras(&ev, x, L_EVENT);
    w_msg(span, 11, &ev);
}

static void w_link(pbw *span, const extras *x)
{
    pbw link = {0}, kv = {0}, any = {0};
    w_bytes(&link, 1, LINK_TID, 16);
    w_bytes(&link, 2, LINK_SID, 8);
    w_str(&link, 3, "l=1");
    w_fixed(&any, 4, 0x3fe0000000000000ull, 8); /* 0.5 */
    w_str(&kv, 1, "l");
    w_msg(&kv, 2, &any);
    w_msg(&link, 4, &kv);
    w_u64(&link, 5, 7);
    w_fixed(&link, 6, 0x301, 4);
    w_extras(&link, x, L_LINK);
    w_msg(span, 13, &link);
}

static pbw build_span(const extras *x)
{
    pbw span = {0}, status = {0};
    w_bytes(&span, 1, TID, 16);
    w_bytes(&span, 2, SID, 8);
    w_str(&span, 3, "a=b");
    w_bytes(&span, 4, PID, 8);
    w_str(&span, 5, "op");
    w_u64(&span, 6, 3);
    w_fixed(&span, 7, 100, 8);
    w_fixed(&span, 8, 200, 8);
    w_span_attrs(&span, x);
    w_u64(&span, 10, 4);
    w_event(&span, x);
    w_u64(&span, 12, 6);
    w_link(&span, x);
    w_u64(&span, 14, 8);
    w_str(&status, 2, "bad");
    w_u64(&status, 3, 2);
    w_extras(&status, x, L_STATUS);
    w_msg(&span, 15, &status);
    w_fixed(&span, 16, 0x301, 4);
    w_extras(&span, x, L_SPAN);
    return span;
}

static pbw build_full(const extras *x)
{
    pbw req = {0}, rs = {0}, ss = {0}, part;
    part = build_resource(x);
    w_msg(&rs, 1, &part);
    part = build_scope(x);
    w_msg(&ss, 1, &part);
    part = build_span(x);
    w_msg(&ss, 2, &part);
    w_str(&ss, 3, "https://scope.schema");
    w_extras(&ss, x, L_SCOPE_SPANS);
    w_msg(&rs, 2, &ss);
    w_str(&rs, 3, "https://res.schema");
    w_extras(&rs, x, L_RESOURCE_SPANS);
    w_msg(&req, 1, &rs);
    w_extras(&req, x, L_REQUEST);
    return req;
}

/* The span of build_full, checked against what was written (not against the decoder). */
static void assert_full_span(const otelc_span_data *sd)
{
    assert_memory_equal(sd->context.trace_id, TID, 16);
    assert_memory_equal(sd->context.span_id, SID, 8);
    assert_int_equal(sd->context.trace_flags, 1);
    assert_string_equal(sd->context.trace_state, "a=b");
    assert_true(sd->has_parent);
    assert_memory_equal(sd->parent_span_id, PID, 8);
    assert_true(sd->parent_is_remote);
    assert_string_equal(sd->name, "op");
    assert_int_equal(sd->kind, OTELC_SPAN_CLIENT);
    assert_int_equal(sd->start_ns, 100);
    assert_int_equal(sd->end_ns, 200);

    assert_int_equal(sd->attr_count, 3);
    const otelc_value *s = otelc_span_data_attr(sd, "s");
    assert_int_equal(s->type, OTELC_VALUE_STRING);
    assert_int_equal(s->u.str.len, 3);
    assert_string_equal(s->u.str.ptr, "str");
    const otelc_value *arr = otelc_span_data_attr(sd, "arr");
    assert_int_equal(arr->type, OTELC_VALUE_INT_ARRAY);
    assert_int_equal(arr->u.array.count, 2);
    assert_int_equal(((const int64_t *)arr->u.array.items)[1], 2);
    const otelc_value *map = otelc_span_data_attr(sd, "map");
    assert_int_equal(map->type, OTELC_VALUE_MAP);
    assert_int_equal(map->u.array.count, 1);
    const otelc_attr *k = map->u.array.items;
    assert_string_equal(k->key, "k");
    assert_int_equal(k->value.type, OTELC_VALUE_BOOL);
    assert_true(k->value.u.b);
    assert_int_equal(sd->dropped_attr_count, 4);

    assert_int_equal(sd->event_count, 1);
    assert_int_equal(sd->events[0].time_ns, 150);
    assert_string_equal(sd->events[0].name, "ev");
    assert_int_equal(sd->events[0].attr_count, 1);
    assert_string_equal(sd->events[0].attrs[0].key, "e");
    assert_int_equal(sd->events[0].attrs[0].value.u.i, 5);
    assert_int_equal(sd->events[0].dropped_attr_count, 5);
    assert_int_equal(sd->dropped_event_count, 6);

    assert_int_equal(sd->link_count, 1);
    const otelc_link_data *l = &sd->links[0];
    assert_memory_equal(l->context.trace_id, LINK_TID, 16);
    assert_memory_equal(l->context.span_id, LINK_SID, 8);
    assert_string_equal(l->context.trace_state, "l=1");
    assert_int_equal(l->context.trace_flags, 1);
    assert_true(l->context.is_remote);
    assert_int_equal(l->attrs[0].value.type, OTELC_VALUE_DOUBLE);
    assert_true(l->attrs[0].value.u.d == 0.5);
    assert_int_equal(l->dropped_attr_count, 7);
    assert_int_equal(sd->dropped_link_count, 8);

    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(sd->status_message, "bad");

    assert_string_equal(sd->scope->name, "lib");
    assert_string_equal(sd->scope->version, "1.0");
    assert_string_equal(sd->scope->schema_url, "https://scope.schema");
    assert_int_equal(sd->scope->attr_count, 1);
    assert_string_equal(sd->scope->attrs[0].key, "scope.attr");
    assert_int_equal(sd->scope->dropped_attr_count, 3);

    size_t n = 0;
    const otelc_attr *ra = otelc_resource_attrs(sd->resource, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ra[0].key, "service.name");
    assert_string_equal(ra[0].value.u.str.ptr, "svc");
    assert_string_equal(otelc_resource_schema_url(sd->resource), "https://res.schema");
    assert_int_equal(otelc__resource_dropped_count(sd->resource), 2);
}

static void test_every_field(void **state)
{
    (void)state;
    extras none = {0};
    pbw req = build_full(&none);
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 1);
    assert_full_span(&b.spans[0]);
    vw_batch_free(&b);
    w_free(&req);
}

/* Unknown fields of every wire type, groups too, in every message: skipped. */
static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    extras none = {0}, unknowns = {.unknowns = true};
    pbw plain = build_full(&none), noisy = build_full(&unknowns);
    assert_true(noisy.len > plain.len + 13 * 40);
    vw_batch a, b;
    assert_int_equal(decode(&plain, plain.len, &a), VW_DECODE_OK);
    assert_int_equal(decode(&noisy, noisy.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 1);
    assert_full_span(&b.spans[0]);
    assert_span_eq(&a.spans[0], &b.spans[0]);
    vw_batch_free(&a);
    vw_batch_free(&b);
    w_free(&plain);
    w_free(&noisy);
}

/* The wire type each known field must have, per message. -1: not a field of it. */
static int known_wire_type(enum level at, uint32_t field)
{
    static const int8_t span[17] = {-1,  LEN,    LEN, LEN,    LEN, LEN,    VARINT, I64, I64,
                                    LEN, VARINT, LEN, VARINT, LEN, VARINT, LEN,    I32};
    switch (at) {
    case L_REQUEST:
    case L_ARRAY_VALUE:
    case L_KV_LIST:
        return field == 1 ? LEN : -1;
    case L_RESOURCE_SPANS:
    case L_SCOPE_SPANS:
        return field >= 1 && field <= 3 ? LEN : -1;
    case L_RESOURCE:
        return field == 1 ? LEN : field == 2 ? VARINT : -1;
    case L_SCOPE:
        return field >= 1 && field <= 3 ? LEN : field == 4 ? VARINT : -1;
    case L_SPAN:
        return field >= 1 && field <= 16 ? span[field] : -1;
    case L_EVENT:
        return field == 1 ? I64 : field == 2 || field == 3 ? LEN : field == 4 ? VARINT : -1;
    case L_LINK:
        return field >= 1 && field <= 4 ? LEN : field == 5 ? VARINT : field == 6 ? I32 : -1;
    case L_STATUS:
        return field == 2 ? LEN : field == 3 ? VARINT : -1;
    case L_KEY_VALUE:
        return field == 1 || field == 2 ? LEN : -1;
    case L_ANY_VALUE:
        return field == 2 || field == 3   ? VARINT
               : field == 4               ? I64
               : field >= 1 && field <= 7 ? LEN
                                          : -1;
    default:
        return -1;
    }
}

/* Every known field of every message, given with every other wire type: the request is refused. */
static void test_wrong_wire_types(void **state)
{
    (void)state;
    static const int types[] = {VARINT, I64, LEN, SGROUP, I32};
    size_t refused = 0;
    for (int at = L_REQUEST; at <= L_KV_LIST; at++)
        for (uint32_t field = 1; field <= 16; field++) {
            int want = known_wire_type((enum level)at, field);
            if (want < 0) continue;
            for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
                if (types[t] == want) continue;
                extras x = {.at = (enum level)at, .field = field, .wt = types[t]};
                pbw req = build_full(&x);
                vw_batch b;
                if (decode(&req, req.len, &b) != VW_DECODE_INVALID)
                    fail_msg("level %d field %u wire type %d accepted", at, field, types[t]);
                refused++;
                vw_batch_free(&b);
                w_free(&req);
            }
        }
    /* The 52 fields of these 13 messages in the .proto files, four wrong types each. */
    assert_int_equal(refused, 4 * 52);
}

/* Unknown field numbers of every message with any wire type are fine. */
static void test_unknown_numbers_any_type(void **state)
{
    (void)state;
    for (int at = L_REQUEST; at <= L_KV_LIST; at++)
        for (int wt = VARINT; wt <= I32; wt++) {
            if (wt == EGROUP) continue;
            extras x = {.at = (enum level)at, .field = 17, .wt = wt};
            pbw req = build_full(&x);
            vw_batch b;
            assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
            assert_full_span(&b.spans[0]);
            vw_batch_free(&b);
            w_free(&req);
        }
}

/* schema_url and resource after the spans, scope after its spans: the spans still get them. */
static void test_field_order(void **state)
{
    (void)state;
    extras none = {0};
    pbw req = {0}, rs = {0}, ss = {0}, part;
    for (int i = 0; i < 2; i++) {
        part = w_span(TID, 16, i ? PID : SID, 8, "x");
        w_msg(&ss, 2, &part);
    }
    w_str(&ss, 3, "https://scope.schema");
    part = build_scope(&none);
    w_msg(&ss, 1, &part);
    w_msg(&rs, 2, &ss);
    w_str(&rs, 3, "https://res.schema");
    part = build_resource(&none);
    w_msg(&rs, 1, &part);
    w_msg(&req, 1, &rs);
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(b.spans[i].scope->name, "lib");
        assert_string_equal(b.spans[i].scope->schema_url, "https://scope.schema");
        assert_string_equal(otelc_resource_schema_url(b.spans[i].resource), "https://res.schema");
        assert_non_null(otelc_resource_get(b.spans[i].resource, "service.name"));
    }
    vw_batch_free(&b);
    w_free(&req);
}

/* Several ResourceSpans and ScopeSpans: one resource and one scope each, shared by their spans. */
static void test_several_resources_and_scopes(void **state)
{
    (void)state;
    pbw req = {0};
    uint8_t sid[8] = {1};
    for (int r = 0; r < 3; r++) {
        pbw rs = {0}, res = {0};
        w_u64(&res, 2, (uint64_t)r); /* dropped count: tells them apart */
        w_msg(&rs, 1, &res);
        for (int s = 0; s < 2; s++) {
            pbw ss = {0}, scope = {0};
            char name[8];
            snprintf(name, sizeof name, "s%d%d", r, s);
            w_str(&scope, 1, name);
            w_msg(&ss, 1, &scope);
            for (int i = 0; i < 2; i++) {
                sid[7]++;
                pbw span = w_span(TID, 16, sid, 8, name);
                w_msg(&ss, 2, &span);
            }
            w_msg(&rs, 2, &ss);
        }
        w_msg(&req, 1, &rs);
    }
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 12);
    assert_int_equal(b.resource_count, 3);
    for (size_t i = 0; i < 12; i++) {
        const otelc_span_data *sd = &b.spans[i];
        assert_string_equal(sd->scope->name, sd->name);
        assert_int_equal(otelc__resource_dropped_count(sd->resource), i / 4);
        assert_ptr_equal(sd->resource, b.resources[i / 4]);
        assert_int_equal(sd->scope == b.spans[i ^ 1].scope, true);
        if (i + 2 < 12) assert_true(sd->scope != b.spans[i + 2].scope);
    }
    vw_batch_free(&b);
    w_free(&req);
}

/* ---- AnyValue ---------------------------------------------------------------------------------
 */

/* Attribute "v" of a span carrying the AnyValue any[0..n); the request's status in *st. */
static const otelc_value *try_value(const void *any, size_t n, vw_batch *b, vw_decode_status *st)
{
    pbw span = w_span(TID, 16, SID, 8, "s"), kv = w_kv("v", any, n);
    w_msg(&span, 9, &kv);
    pbw req = w_request(&span, 1);
    *st = decode(&req, req.len, b);
    w_free(&req);
    if (*st != VW_DECODE_OK) return NULL;
    assert_int_equal(b->count, 1);
    assert_int_equal(b->spans[0].attr_count, 1);
    assert_string_equal(b->spans[0].attrs[0].key, "v");
    return &b->spans[0].attrs[0].value;
}

static const otelc_value *value_of(const void *any, size_t n, vw_batch *b)
{
    vw_decode_status st;
    const otelc_value *v = try_value(any, n, b, &st);
    assert_int_equal(st, VW_DECODE_OK);
    return v;
}

#define VALUE_OF(bytes, b) value_of(bytes, sizeof bytes, b)

static void test_any_scalars(void **state)
{
    (void)state;
    static const uint8_t str[] = {0x0a, 2, 'h', 'i'};
    static const uint8_t yes[] = {0x10, 1}, no[] = {0x10, 0};
    static const uint8_t minus_one[] = {0x18, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t zero[] = {0x18, 0};
    static const uint8_t one_and_half[] = {0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f};
    static const uint8_t bytes[] = {0x3a, 3, 0x00, 0xff, 'A'};
    static const uint8_t with_nul[] = {0x0a, 3, 'a', 0, 'b'};
    static const uint8_t bad_utf8[] = {0x0a, 2, 'a', 0xff};
    vw_batch b;
    const otelc_value *v = VALUE_OF(str, &b);
    assert_int_equal(v->type, OTELC_VALUE_STRING);
    assert_int_equal(v->u.str.len, 2);
    assert_string_equal(v->u.str.ptr, "hi");
    vw_batch_free(&b);
    v = VALUE_OF(yes, &b);
    assert_true(v->type == OTELC_VALUE_BOOL && v->u.b);
    vw_batch_free(&b);
    v = VALUE_OF(no, &b); /* a default is a value too */
    assert_true(v->type == OTELC_VALUE_BOOL && !v->u.b);
    vw_batch_free(&b);
    v = VALUE_OF(minus_one, &b);
    assert_true(v->type == OTELC_VALUE_INT && v->u.i == -1);
    vw_batch_free(&b);
    v = VALUE_OF(zero, &b);
    assert_true(v->type == OTELC_VALUE_INT && v->u.i == 0);
    vw_batch_free(&b);
    v = VALUE_OF(one_and_half, &b);
    assert_true(v->type == OTELC_VALUE_DOUBLE && v->u.d == 1.5);
    vw_batch_free(&b);
    v = VALUE_OF(bytes, &b);
    assert_int_equal(v->type, OTELC_VALUE_BYTES);
    assert_int_equal(v->u.str.len, 3);
    assert_memory_equal(v->u.str.ptr, "\0\377A", 3);
    vw_batch_free(&b);
    v = VALUE_OF(with_nul, &b);
    assert_int_equal(v->type, OTELC_VALUE_STRING);
    assert_int_equal(v->u.str.len, 3);
    assert_memory_equal(v->u.str.ptr, "a\0b", 4);
    vw_batch_free(&b);
    v = VALUE_OF(bad_utf8, &b);
    assert_int_equal(v->type, OTELC_VALUE_STRING);
    assert_int_equal(v->u.str.len, 4);
    assert_string_equal(v->u.str.ptr, "a\xef\xbf\xbd");
    vw_batch_free(&b);
    v = value_of(NULL, 0, &b); /* an AnyValue with no member */
    assert_int_equal(v->type, OTELC_VALUE_EMPTY);
    vw_batch_free(&b);
}

static void test_any_typed_arrays(void **state)
{
    (void)state;
    /* ArrayValue in AnyValue.array_value (5); each item an AnyValue in ArrayValue.values (1). */
    static const uint8_t ints[] = {0x2a, 8, 0x0a, 2, 0x18, 1, 0x0a, 2, 0x18, 2};
    static const uint8_t strs[] = {0x2a, 10, 0x0a, 3, 0x0a, 1, 'a', 0x0a, 3, 0x0a, 1, 'b'};
    static const uint8_t bools[] = {0x2a, 8, 0x0a, 2, 0x10, 1, 0x0a, 2, 0x10, 0};
    static const uint8_t doubles[] = {0x2a, 11, 0x0a, 9, 0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf};
    vw_batch b;
    const otelc_value *v = VALUE_OF(ints, &b);
    assert_int_equal(v->type, OTELC_VALUE_INT_ARRAY);
    assert_int_equal(v->u.array.count, 2);
    assert_int_equal(((const int64_t *)v->u.array.items)[0], 1);
    assert_int_equal(((const int64_t *)v->u.array.items)[1], 2);
    vw_batch_free(&b);
    v = VALUE_OF(strs, &b);
    assert_int_equal(v->type, OTELC_VALUE_STRING_ARRAY);
    assert_string_equal(((const char *const *)v->u.array.items)[1], "b");
    vw_batch_free(&b);
    v = VALUE_OF(bools, &b);
    assert_int_equal(v->type, OTELC_VALUE_BOOL_ARRAY);
    assert_true(((const bool *)v->u.array.items)[0]);
    assert_false(((const bool *)v->u.array.items)[1]);
    vw_batch_free(&b);
    v = VALUE_OF(doubles, &b);
    assert_int_equal(v->type, OTELC_VALUE_DOUBLE_ARRAY);
    assert_int_equal(v->u.array.count, 1);
    assert_true(((const double *)v->u.array.items)[0] == -1.0);
    vw_batch_free(&b);
}

static void test_any_other_arrays(void **state)
{
    (void)state;
    static const uint8_t mixed[] = {0x2a, 9, 0x0a, 2, 0x18, 1, 0x0a, 3, 0x0a, 1, 'a'};
    static const uint8_t empty[] = {0x2a, 0};
    static const uint8_t nul[] = {0x2a, 12, 0x0a, 5, 0x0a, 3, 'a', 0, 'b', 0x0a, 3, 0x0a, 1, 'c'};
    static const uint8_t with_empty[] = {0x2a, 6, 0x0a, 2, 0x18, 1, 0x0a, 0};
    static const uint8_t nested[] = {0x2a, 16,   0x0a, 6,    0x2a, 4,    0x0a, 2,    0x18,
                                     7,    0x0a, 6,    0x2a, 4,    0x0a, 2,    0x18, 8};
    vw_batch b;
    const otelc_value *v = VALUE_OF(mixed, &b);
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    assert_int_equal(v->u.array.count, 2);
    const otelc_value *items = v->u.array.items;
    assert_true(items[0].type == OTELC_VALUE_INT && items[0].u.i == 1);
    assert_true(items[1].type == OTELC_VALUE_STRING && strcmp(items[1].u.str.ptr, "a") == 0);
    vw_batch_free(&b);
    v = VALUE_OF(empty, &b);
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    assert_int_equal(v->u.array.count, 0);
    vw_batch_free(&b);
    v = VALUE_OF(nul, &b); /* a const char * could not hold "a\0b" */
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    items = v->u.array.items;
    assert_int_equal(items[0].u.str.len, 3);
    vw_batch_free(&b);
    v = VALUE_OF(with_empty, &b);
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    items = v->u.array.items;
    assert_int_equal(items[1].type, OTELC_VALUE_EMPTY);
    vw_batch_free(&b);
    v = VALUE_OF(nested, &b);
    assert_int_equal(v->type, OTELC_VALUE_ARRAY);
    items = v->u.array.items;
    assert_int_equal(items[1].type, OTELC_VALUE_INT_ARRAY);
    assert_int_equal(((const int64_t *)items[1].u.array.items)[0], 8);
    vw_batch_free(&b);
}

static void test_any_kvlist(void **state)
{
    (void)state;
    /*
     * {"a": "b", "a": 1, "": true, "n": {"x": [true]}, "e"}: keys kept as sent, duplicates
     * and the empty one too; "e" has no value.
     */
    pbw list = {0}, kv, any = {0}, inner = {0}, arr = {0}, item = {0};
    static const uint8_t b_str[] = {0x0a, 1, 'b'}, one[] = {0x18, 1}, yes[] = {0x10, 1};
    kv = w_kv("a", b_str, sizeof b_str);
    w_msg(&list, 1, &kv);
    kv = w_kv("a", one, sizeof one);
    w_msg(&list, 1, &kv);
    kv = w_kv("", yes, sizeof yes);
    w_msg(&list, 1, &kv);
    w_u64(&item, 2, 1);
    w_msg(&arr, 1, &item);
    w_msg(&any, 5, &arr);
    kv = (pbw){0};
    w_str(&kv, 1, "x");
    w_msg(&kv, 2, &any);
    w_msg(&inner, 1, &kv);
    w_msg(&any, 6, &inner);
    kv = (pbw){0};
    w_str(&kv, 1, "n");
    w_msg(&kv, 2, &any);
    w_msg(&list, 1, &kv);
    w_str(&kv, 1, "e");
    w_msg(&list, 1, &kv);
    w_msg(&any, 6, &list);

    vw_batch b;
    const otelc_value *v = value_of(any.p, any.len, &b);
    assert_int_equal(v->type, OTELC_VALUE_MAP);
    assert_int_equal(v->u.array.count, 5);
    const otelc_attr *kvs = v->u.array.items;
    assert_string_equal(kvs[0].key, "a");
    assert_string_equal(kvs[0].value.u.str.ptr, "b");
    assert_string_equal(kvs[1].key, "a");
    assert_int_equal(kvs[1].value.u.i, 1);
    assert_string_equal(kvs[2].key, "");
    assert_int_equal(kvs[2].value.type, OTELC_VALUE_BOOL);
    assert_int_equal(kvs[3].value.type, OTELC_VALUE_MAP);
    const otelc_attr *x = kvs[3].value.u.array.items;
    assert_string_equal(x->key, "x");
    assert_int_equal(x->value.type, OTELC_VALUE_BOOL_ARRAY);
    assert_string_equal(kvs[4].key, "e");
    assert_int_equal(kvs[4].value.type, OTELC_VALUE_EMPTY);
    vw_batch_free(&b);
    w_free(&any);
}

/* Several members of the oneof: the last one wins. */
static void test_any_last_member_wins(void **state)
{
    (void)state;
    static const uint8_t str_then_int[] = {0x0a, 1, 'a', 0x18, 5};
    static const uint8_t int_then_str[] = {0x18, 5, 0x0a, 1, 'a'};
    static const uint8_t array_then_bool[] = {0x2a, 4, 0x0a, 2, 0x18, 1, 0x10, 1};
    vw_batch b;
    const otelc_value *v = VALUE_OF(str_then_int, &b);
    assert_true(v->type == OTELC_VALUE_INT && v->u.i == 5);
    vw_batch_free(&b);
    v = VALUE_OF(int_then_str, &b);
    assert_true(v->type == OTELC_VALUE_STRING && v->u.str.len == 1);
    vw_batch_free(&b);
    v = VALUE_OF(array_then_bool, &b);
    assert_true(v->type == OTELC_VALUE_BOOL && v->u.b);
    vw_batch_free(&b);
}

/* An AnyValue of depth arrays (maps) around the int 7. */
static pbw nested_value(int depth, bool maps)
{
    pbw any = {0};
    w_u64(&any, 3, 7);
    for (int i = 0; i < depth; i++) {
        pbw list = {0}, outer = {0};
        if (maps) {
            pbw kv = {0};
            w_str(&kv, 1, "k");
            w_msg(&kv, 2, &any);
            w_msg(&list, 1, &kv);
            w_msg(&outer, 6, &list);
        } else {
            w_msg(&list, 1, &any);
            w_msg(&outer, 5, &list);
        }
        any = outer;
    }
    return any;
}

static void test_nesting_bound(void **state)
{
    (void)state;
    for (int maps = 0; maps <= 1; maps++) {
        vw_batch b;
        vw_decode_status st;
        pbw ok = nested_value(VW_MAX_VALUE_DEPTH, maps);
        const otelc_value *v = try_value(ok.p, ok.len, &b, &st);
        assert_int_equal(st, VW_DECODE_OK);
        for (int i = 0; i < VW_MAX_VALUE_DEPTH; i++) {
            /* The innermost array holds one int: it becomes an int array. */
            bool innermost = i == VW_MAX_VALUE_DEPTH - 1;
            otelc_value_type want = maps        ? OTELC_VALUE_MAP
                                    : innermost ? OTELC_VALUE_INT_ARRAY
                                                : OTELC_VALUE_ARRAY;
            assert_int_equal(v->type, want);
            assert_int_equal(v->u.array.count, 1);
            if (maps)
                v = &((const otelc_attr *)v->u.array.items)->value;
            else if (!innermost)
                v = v->u.array.items;
        }
        if (maps)
            assert_int_equal(v->u.i, 7);
        else
            assert_int_equal(((const int64_t *)v->u.array.items)[0], 7);
        vw_batch_free(&b);
        w_free(&ok);

        pbw deep = nested_value(VW_MAX_VALUE_DEPTH + 1, maps);
        assert_null(try_value(deep.p, deep.len, &b, &st));
        assert_int_equal(st, VW_DECODE_TOO_BIG);
        assert_int_equal(b.count, 0);
        vw_batch_free(&b);
        w_free(&deep);
    }
}

/* ---- Malformed input ------------------------------------------------------------------------ */

static vw_decode_status decode_bytes(const uint8_t *p, size_t n)
{
    pbw w = {.p = (uint8_t *)p, .len = n};
    vw_batch b;
    vw_decode_status st = decode(&w, n, &b);
    assert_int_equal(b.count, st == VW_DECODE_OK ? b.count : 0);
    vw_batch_free(&b);
    return st;
}

#define DECODE(bytes) decode_bytes(bytes, sizeof bytes)

static void test_malformed_framing(void **state)
{
    (void)state;
    static const uint8_t no_length[] = {0x0a};
    static const uint8_t past_end[] = {0x0a, 5, 0x12, 0};
    static const uint8_t huge_length[] = {0x0a, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0x7f};
    static const uint8_t eleven_byte_key[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                              0x80, 0x80, 0x80, 0x80, 0x01};
    /* Field 5 (unknown) varint whose tenth byte would set bits above 63. */
    static const uint8_t wide_varint[] = {0x28, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0x02};
    static const uint8_t truncated_varint[] = {0x28, 0xff};
    static const uint8_t field_zero[] = {0x02, 0};
    static const uint8_t wire_type_6[] = {0x2e}, wire_type_7[] = {0x2f};
    static const uint8_t end_group_alone[] = {0x2c};
    static const uint8_t group_mismatch[] = {0x2b, 0x34};
    static const uint8_t group_unclosed[] = {0x2b, 0x08, 1};
    static const uint8_t fixed_short[] = {0x29, 1, 2, 3}, fixed32_short[] = {0x2d, 1};
    static const uint8_t field_too_big[] = {0xf8, 0xff, 0xff, 0xff, 0x7f, 0};
    assert_int_equal(DECODE(no_length), VW_DECODE_INVALID);
    assert_int_equal(DECODE(past_end), VW_DECODE_INVALID);
    assert_int_equal(DECODE(huge_length), VW_DECODE_INVALID);
    assert_int_equal(DECODE(eleven_byte_key), VW_DECODE_INVALID);
    assert_int_equal(DECODE(wide_varint), VW_DECODE_INVALID);
    assert_int_equal(DECODE(truncated_varint), VW_DECODE_INVALID);
    assert_int_equal(DECODE(field_zero), VW_DECODE_INVALID);
    assert_int_equal(DECODE(wire_type_6), VW_DECODE_INVALID);
    assert_int_equal(DECODE(wire_type_7), VW_DECODE_INVALID);
    assert_int_equal(DECODE(end_group_alone), VW_DECODE_INVALID);
    assert_int_equal(DECODE(group_mismatch), VW_DECODE_INVALID);
    assert_int_equal(DECODE(group_unclosed), VW_DECODE_INVALID);
    assert_int_equal(DECODE(fixed_short), VW_DECODE_INVALID);
    assert_int_equal(DECODE(fixed32_short), VW_DECODE_INVALID);
    assert_int_equal(DECODE(field_too_big), VW_DECODE_INVALID);

    /* The same mistakes deep inside: a span's length past its ScopeSpans' end. */
    static const uint8_t inner_past_end[] = {0x0a, 4, 0x12, 2, 0x12, 9};
    assert_int_equal(DECODE(inner_past_end), VW_DECODE_INVALID);

    /* The largest field number and the largest valid varint are fine. */
    static const uint8_t max_field[] = {0xf8, 0xff, 0xff, 0xff, 0x0f, 0};
    static const uint8_t max_varint[] = {0x28, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(DECODE(max_field), VW_DECODE_OK);
    assert_int_equal(DECODE(max_varint), VW_DECODE_OK);
}

/* Groups nested to the bound are skipped; one more is refused. */
static void test_group_depth(void **state)
{
    (void)state;
    for (int extra = 0; extra <= 1; extra++) {
        pbw w = {0};
        int depth = 32 + extra;
        for (int i = 0; i < depth; i++) w_key(&w, 5, SGROUP);
        for (int i = 0; i < depth; i++) w_key(&w, 5, EGROUP);
        vw_batch b;
        assert_int_equal(decode(&w, w.len, &b), extra ? VW_DECODE_INVALID : VW_DECODE_OK);
        vw_batch_free(&b);
        w_free(&w);
    }
}

/* A length declared far beyond what was sent, at every level of a request. */
static void test_huge_declared_lengths(void **state)
{
    (void)state;
    extras none = {0};
    pbw full = build_full(&none);
    size_t changed = 0;
    /* Every length byte of the request, as a 5-byte varint of 2^31: each must be refused. */
    for (size_t at = 0; at + 1 < full.len; at++) {
        if ((full.p[at] & 7) != LEN || full.p[at + 1] >= 0x80) continue;
        pbw bad = {0};
        static const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x08};
        w_raw(&bad, full.p, at + 1);
        w_raw(&bad, big, sizeof big);
        w_raw(&bad, full.p + at + 2, full.len - at - 2);
        vw_batch b;
        vw_decode_status st = decode(&bad, bad.len, &b);
        assert_true(st == VW_DECODE_INVALID || st == VW_DECODE_OK);
        changed += st == VW_DECODE_INVALID;
        vw_batch_free(&b);
        w_free(&bad);
    }
    assert_true(changed > 30);
    w_free(&full);
}

/* ---- Ids, links, flags, enums, strings ---------------------------------------------------- */

static void test_invalid_span_ids_partial_success(void **state)
{
    (void)state;
    static const uint8_t parent5[5] = {1, 2, 3, 4, 5};
    pbw spans[9];
    spans[0] = w_span(TID, 16, SID, 8, "ok");
    spans[1] = w_span(TID, 15, SID, 8, "short trace");
    spans[2] = w_span(ZERO, 16, SID, 8, "zero trace");
    spans[3] = w_span(TID, 16, SID, 7, "short span");
    spans[4] = w_span(TID, 16, ZERO, 8, "zero span");
    spans[5] = w_span(TID, 16, PID, 8, "bad parent");
    w_bytes(&spans[5], 4, parent5, 5);
    spans[6] = (pbw){0};
    w_str(&spans[6], 5, "no ids at all");
    spans[7] = w_span(TID, 16, LINK_SID, 8, "zero parent is no parent");
    w_bytes(&spans[7], 4, ZERO, 8);
    spans[8] = w_span(LONG_ID, 17, SID, 8, "long trace");
    pbw req = w_request(spans, 9);
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 2);
    assert_string_equal(b.spans[0].name, "ok");
    assert_string_equal(b.spans[1].name, "zero parent is no parent");
    assert_false(b.spans[1].has_parent);
    assert_int_equal(b.rejected, 7);
    assert_string_equal(b.reject_reason, "span 2 of the request: trace_id has 15 bytes, not 16");

    /* The reply says so, and libotelc's exporter reads it. */
    otelc_buf reply = {0};
    otelc_otlp_response parsed;
    assert_int_equal(vw_reply_export(&reply, b.rejected, b.reject_reason), OTELC_OK);
    assert_int_equal(otelc__otlp_parse_response_proto(reply.data, reply.len, &parsed), OTELC_OK);
    assert_int_equal(parsed.rejected_spans, 7);
    assert_string_equal(parsed.error_message, b.reject_reason);
    otelc__buf_free(&reply);
    vw_batch_free(&b);
    w_free(&req);
}

/* Each reason, alone in a request. */
static void test_reject_reasons(void **state)
{
    (void)state;
    static const struct {
        const uint8_t *tid;
        size_t tid_len;
        const uint8_t *sid;
        size_t sid_len;
        size_t parent_len;
        const char *reason;
    } cases[] = {
        {TID, 0, SID, 8, 0, "trace_id has 0 bytes, not 16"},
        {ZERO, 16, SID, 8, 0, "trace_id is all zeros"},
        {TID, 16, LONG_ID, 9, 0, "span_id has 9 bytes, not 8"},
        {TID, 16, ZERO, 8, 0, "span_id is all zeros"},
        {TID, 16, SID, 8, 16, "parent_span_id has 16 bytes, neither 0 nor 8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pbw span = w_span(cases[i].tid, cases[i].tid_len, cases[i].sid, cases[i].sid_len, "x");
        if (cases[i].parent_len) w_bytes(&span, 4, TID, cases[i].parent_len);
        pbw req = w_request(&span, 1);
        vw_batch b;
        char want[128];
        snprintf(want, sizeof want, "span 1 of the request: %s", cases[i].reason);
        assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
        assert_int_equal(b.count, 0);
        assert_int_equal(b.rejected, 1);
        assert_string_equal(b.reject_reason, want);
        vw_batch_free(&b);
        w_free(&req);
    }
}

static void w_link_ids(pbw *span, size_t tid_len, size_t sid_len, uint32_t flags, bool attr)
{
    pbw link = {0};
    if (tid_len) w_bytes(&link, 1, tid_len <= 16 ? LINK_TID : LONG_ID, tid_len);
    if (sid_len) w_bytes(&link, 2, sid_len <= 8 ? LINK_SID : LONG_ID, sid_len);
    if (attr) {
        static const uint8_t one[] = {0x18, 1};
        pbw kv = w_kv("why", one, sizeof one);
        w_msg(&link, 4, &kv);
    }
    w_fixed(&link, 6, flags, 4);
    w_msg(span, 13, &link);
}

static void test_links(void **state)
{
    (void)state;
    pbw span = w_span(TID, 16, SID, 8, "links");
    w_link_ids(&span, 16, 8, 0x301, false); /* remote, sampled */
    w_link_ids(&span, 3, 8, 0, false);      /* cannot be held: dropped */
    w_link_ids(&span, 0, 0, 0x201, true);   /* no ids but an attribute: kept; remote unknown */
    w_link_ids(&span, 16, 9, 0, false);     /* dropped */
    w_link_ids(&span, 16, 8, 0x1ff, false); /* known not remote; all eight flag bits */
    w_u64(&span, 14, 1);
    pbw req = w_request(&span, 1);
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 1);
    const otelc_span_data *sd = &b.spans[0];
    assert_int_equal(sd->link_count, 3);
    assert_int_equal(sd->dropped_link_count, 3);
    assert_memory_equal(sd->links[0].context.trace_id, LINK_TID, 16);
    assert_true(sd->links[0].context.is_remote);
    assert_int_equal(sd->links[0].context.trace_flags, 1);
    assert_memory_equal(sd->links[1].context.trace_id, ZERO, 16);
    assert_memory_equal(sd->links[1].context.span_id, ZERO, 8);
    assert_false(sd->links[1].context.is_remote);
    assert_int_equal(sd->links[1].attr_count, 1);
    assert_false(sd->links[2].context.is_remote);
    assert_int_equal(sd->links[2].context.trace_flags, 0xff);
    vw_batch_free(&b);
    w_free(&req);
}

/* A span with flags, kind and status as given. */
static const otelc_span_data *decode_span_with(vw_batch *b, bool parent, uint32_t flags,
                                               uint64_t kind, uint64_t code)
{
    pbw span = w_span(TID, 16, SID, 8, "x"), status = {0};
    if (parent) w_bytes(&span, 4, PID, 8);
    w_fixed(&span, 16, flags, 4);
    w_u64(&span, 6, kind);
    w_u64(&status, 3, code);
    w_str(&status, 2, "m");
    w_msg(&span, 15, &status);
    pbw req = w_request(&span, 1);
    assert_int_equal(decode(&req, req.len, b), VW_DECODE_OK);
    w_free(&req);
    assert_int_equal(b->count, 1);
    return &b->spans[0];
}

static void test_flags_kinds_status(void **state)
{
    (void)state;
    vw_batch b;
    const otelc_span_data *sd = decode_span_with(&b, true, 0x301, 0, 1);
    assert_int_equal(sd->context.trace_flags, 1);
    assert_true(sd->parent_is_remote);
    assert_int_equal(sd->kind, 0); /* unspecified is kept as it came */
    assert_int_equal(sd->status, OTELC_STATUS_OK);
    assert_string_equal(sd->status_message, "m");
    vw_batch_free(&b);
    sd = decode_span_with(&b, true, 0x201, 5, 2); /* remote without "known": not remote */
    assert_false(sd->parent_is_remote);
    assert_int_equal(sd->kind, OTELC_SPAN_CONSUMER);
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    vw_batch_free(&b);
    sd = decode_span_with(&b, true, 0xfffffcff, 6, 3); /* reserved bits ignored */
    assert_int_equal(sd->context.trace_flags, 0xff);
    assert_false(sd->parent_is_remote);
    assert_int_equal(sd->kind, 0);
    assert_int_equal(sd->status, OTELC_STATUS_UNSET);
    assert_string_equal(sd->status_message, "m");
    vw_batch_free(&b);
    sd = decode_span_with(&b, false, 0x300, UINT64_MAX, UINT64_MAX); /* a root has no parent */
    assert_false(sd->has_parent);
    assert_false(sd->parent_is_remote);
    assert_int_equal(sd->kind, 0);
    assert_int_equal(sd->status, OTELC_STATUS_UNSET);
    vw_batch_free(&b);
}

static void test_strings_and_defaults(void **state)
{
    (void)state;
    pbw span = w_span(TID, 16, SID, 8, "bad \xff name"), ev = {0};
    w_str(&span, 3, "");
    w_msg(&span, 11, &ev); /* an event with nothing in it */
    pbw minimal = {0};
    w_bytes(&minimal, 1, TID, 16);
    w_bytes(&minimal, 2, PID, 8);
    pbw spans[2] = {span, minimal};
    pbw req = w_request(spans, 2);
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 2);
    assert_string_equal(b.spans[0].name, "bad \xef\xbf\xbd name");
    assert_null(b.spans[0].context.trace_state);
    assert_int_equal(b.spans[0].event_count, 1);
    assert_string_equal(b.spans[0].events[0].name, "");
    assert_int_equal(b.spans[0].events[0].time_ns, 0);
    const otelc_span_data *m = &b.spans[1];
    assert_string_equal(m->name, "");
    assert_null(m->context.trace_state);
    assert_null(m->status_message);
    assert_int_equal(m->status, OTELC_STATUS_UNSET);
    assert_int_equal(m->attr_count + m->event_count + m->link_count, 0);
    assert_false(m->has_parent);
    /* No scope and no resource sent: empty ones, never NULL. */
    assert_string_equal(m->scope->name, "");
    assert_null(m->scope->version);
    assert_null(m->scope->schema_url);
    size_t n = 1;
    otelc_resource_attrs(m->resource, &n);
    assert_int_equal(n, 0);
    vw_batch_free(&b);
    w_free(&req);
}

static void test_empty_requests(void **state)
{
    (void)state;
    vw_batch b;
    vw_batch_init(&b);
    assert_int_equal(vw_decode_otlp_proto(NULL, 0, &b), VW_DECODE_OK);
    assert_int_equal(b.count, 0);
    vw_batch_free(&b);
    /* A ResourceSpans with an empty ScopeSpans: no spans, a success, no resource made. */
    static const uint8_t envelopes[] = {0x0a, 2, 0x12, 0};
    pbw w = {.p = (uint8_t *)envelopes, .len = sizeof envelopes};
    assert_int_equal(decode(&w, w.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count + b.resource_count, 0);
    vw_batch_free(&b);
    /* Spans all rejected: no resource either. */
    pbw span = w_span(ZERO, 16, SID, 8, "zero trace"), req = w_request(&span, 1);
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.rejected, 1);
    assert_int_equal(b.resource_count, 0);
    vw_batch_free(&b);
    w_free(&req);
    /* But a malformed Resource is refused, spans or not: Resource { attributes (1) past end }. */
    static const uint8_t bad_resource[] = {0x0a, 4, 0x0a, 2, 0x0a, 7};
    assert_int_equal(DECODE(bad_resource), VW_DECODE_INVALID);
}

/* ---- Bounds ------------------------------------------------------------------------------------
 */

/* n minimal spans in one request, each with its own span id. */
static pbw many_spans(size_t n)
{
    pbw ss = {0}, rs = {0}, req = {0};
    for (size_t i = 0; i < n; i++) {
        uint8_t sid[8] = {0xff};
        memcpy(sid + 1, &i, 7);
        pbw span = {0};
        w_bytes(&span, 1, TID, 16);
        w_bytes(&span, 2, sid, 8);
        w_msg(&ss, 2, &span);
    }
    w_msg(&rs, 2, &ss);
    w_msg(&req, 1, &rs);
    return req;
}

static void test_span_bound(void **state)
{
    (void)state;
    pbw req = many_spans(VW_MAX_SPANS_PER_REQUEST);
    vw_batch b;
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
    assert_int_equal(b.count, VW_MAX_SPANS_PER_REQUEST);
    vw_batch_free(&b);
    w_free(&req);
    req = many_spans(VW_MAX_SPANS_PER_REQUEST + 1);
    assert_int_equal(decode(&req, req.len, &b), VW_DECODE_TOO_BIG);
    assert_int_equal(b.count, 0);
    vw_batch_free(&b);
    w_free(&req);
}

static size_t arena_bytes(const vw_batch *b)
{
    size_t n = 0;
    for (const otelc_arena_chunk *c = b->arena.chunks; c; c = c->next) n += c->size;
    return n;
}

/*
 * The shapes that grow most when decoded (empty links, events, attributes,
 * array items: two bytes on the wire each) stay within the bound the header
 * states, 28 times the request, plus the arena's first chunk.
 */
static void test_memory_bound(void **state)
{
    (void)state;
    static const uint8_t empty_array_items[] = {0x0a, 0, 0x0a, 0, 0x0a, 0, 0x0a, 0};
    for (uint32_t field = 9; field <= 13; field += 2) {
        pbw span = w_span(TID, 16, SID, 8, "big");
        for (int i = 0; i < 20000; i++) w_bytes(&span, field, NULL, 0);
        pbw req = w_request(&span, 1);
        vw_batch b;
        assert_int_equal(decode(&req, req.len, &b), VW_DECODE_OK);
        assert_int_equal(b.count, 1);
        assert_true(arena_bytes(&b) <= 28 * req.len + 16 * 1024);
        vw_batch_free(&b);
        w_free(&req);
    }
    /* Empty envelopes: 20000 ResourceSpans, and 20000 ScopeSpans in one. */
    pbw envelopes = {0}, scopes = {0}, rs = {0};
    for (int i = 0; i < 20000; i++) w_bytes(&envelopes, 1, NULL, 0);
    for (int i = 0; i < 20000; i++) w_bytes(&scopes, 2, NULL, 0);
    w_msg(&rs, 1, &scopes);
    w_raw(&envelopes, rs.p, rs.len);
    w_free(&rs);
    vw_batch eb;
    assert_int_equal(decode(&envelopes, envelopes.len, &eb), VW_DECODE_OK);
    assert_int_equal(eb.resource_count, 0);
    assert_true(arena_bytes(&eb) <= 28 * envelopes.len + 16 * 1024);
    vw_batch_free(&eb);
    w_free(&envelopes);

    pbw arr = {0}, any = {0};
    for (int i = 0; i < 5000; i++) w_raw(&arr, empty_array_items, sizeof empty_array_items);
    w_msg(&any, 5, &arr);
    vw_batch b;
    const otelc_value *v = value_of(any.p, any.len, &b);
    assert_int_equal(v->u.array.count, 20000);
    assert_true(arena_bytes(&b) <= 28 * any.len + 16 * 1024);
    vw_batch_free(&b);
    w_free(&any);
}

/* ---- Single messages ----------------------------------------------------------------------- */

static void test_single_span(void **state)
{
    (void)state;
    extras none = {0};
    pbw req = build_full(&none), span = build_span(&none);
    vw_batch whole, b;
    assert_int_equal(decode(&req, req.len, &whole), VW_DECODE_OK);
    vw_batch_init(&b);
    otelc_span_data sd;
    assert_int_equal(vw_decode_span(span.p, span.len, &b, &sd), VW_DECODE_OK);
    assert_null(sd.scope);
    assert_null(sd.resource);
    assert_span_eq(&sd, &whole.spans[0]);
    assert_int_equal(b.count, 0); /* the span is the caller's, not the batch's */

    /* Malformed, rejected and too deep: refused, the batch kept for what it holds. */
    assert_int_equal(vw_decode_span(span.p, span.len - 1, &b, &sd), VW_DECODE_INVALID);
    pbw bad = w_span(TID, 16, ZERO, 8, "zero span id");
    assert_int_equal(vw_decode_span(bad.p, bad.len, &b, &sd), VW_DECODE_INVALID);
    assert_int_equal(b.rejected, 0);
    assert_int_equal(vw_decode_span(NULL, 0, &b, &sd), VW_DECODE_INVALID);
    pbw deep = w_span(TID, 16, SID, 8, "deep"), any = nested_value(VW_MAX_VALUE_DEPTH + 1, false);
    pbw kv = w_kv("v", any.p, any.len);
    w_msg(&deep, 9, &kv);
    assert_int_equal(vw_decode_span(deep.p, deep.len, &b, &sd), VW_DECODE_TOO_BIG);
    vw_batch_free(&b);
    vw_batch_free(&whole);
    w_free(&req);
    w_free(&span);
    w_free(&bad);
    w_free(&deep);
    w_free(&any);
}

static void test_single_scope(void **state)
{
    (void)state;
    extras none = {0};
    pbw scope = build_scope(&none);
    vw_batch b;
    vw_batch_init(&b);
    otelc_scope_info s;
    assert_int_equal(vw_decode_scope(scope.p, scope.len, &b, &s), VW_DECODE_OK);
    assert_string_equal(s.name, "lib");
    assert_string_equal(s.version, "1.0");
    assert_null(s.schema_url);
    assert_int_equal(s.attr_count, 1);
    assert_string_equal(s.attrs[0].key, "scope.attr");
    assert_int_equal(s.attrs[0].value.u.i, 1);
    assert_int_equal(s.dropped_attr_count, 3);
    assert_int_equal(vw_decode_scope(scope.p, scope.len - 1, &b, &s), VW_DECODE_INVALID);
    assert_int_equal(vw_decode_scope(NULL, 0, &b, &s), VW_DECODE_OK);
    assert_string_equal(s.name, "");
    assert_null(s.version);
    vw_batch_free(&b);
    w_free(&scope);
}

static void test_single_resource(void **state)
{
    (void)state;
    extras none = {0};
    pbw res = build_resource(&none);
    vw_batch b;
    vw_batch_init(&b);
    otelc_resource *r = vw_decode_resource(res.p, res.len, NULL, &b);
    assert_non_null(r);
    assert_int_equal(b.resource_count, 1);
    assert_string_equal(otelc_resource_get(r, "service.name")->u.str.ptr, "svc");
    assert_null(otelc_resource_schema_url(r));
    assert_int_equal(otelc__resource_dropped_count(r), 2);
    assert_null(vw_decode_resource(res.p, res.len - 1, NULL, &b));
    /* The schema URL, kept beside the message (ResourceSpans' field), is the resource's. */
    char schema[] = "https://opentelemetry.io/schemas/1.26.0";
    r = vw_decode_resource(res.p, res.len, schema, &b);
    schema[0] = 'X'; /* copied */
    assert_string_equal(otelc_resource_schema_url(r), "https://opentelemetry.io/schemas/1.26.0");
    w_free(&res);

    /* A resource holds each key once: what it could not keep adds to the dropped count. */
    static const uint8_t one[] = {0x18, 1}, two[] = {0x18, 2}, three[] = {0x18, 3};
    pbw kv = w_kv("a", one, sizeof one);
    w_msg(&res, 1, &kv);
    kv = w_kv("a", two, sizeof two);
    w_msg(&res, 1, &kv);
    kv = w_kv("", three, sizeof three);
    w_msg(&res, 1, &kv);
    w_u64(&res, 2, 1);
    r = vw_decode_resource(res.p, res.len, NULL, &b);
    assert_non_null(r);
    size_t n = 0;
    const otelc_attr *attrs = otelc_resource_attrs(r, &n);
    assert_int_equal(n, 1);
    assert_int_equal(attrs[0].value.u.i, 2);
    assert_int_equal(otelc__resource_dropped_count(r), 3);
    w_free(&res);

    /* Beyond VW_MAX_RESOURCE_ATTRS: the first ones kept, the others counted. */
    for (int i = 0; i < VW_MAX_RESOURCE_ATTRS + 72; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        kv = w_kv(key, one, sizeof one);
        w_msg(&res, 1, &kv);
    }
    r = vw_decode_resource(res.p, res.len, NULL, &b);
    attrs = otelc_resource_attrs(r, &n);
    assert_int_equal(n, VW_MAX_RESOURCE_ATTRS);
    assert_string_equal(attrs[n - 1].key, "k127");
    assert_int_equal(otelc__resource_dropped_count(r), 72);
    vw_batch_free(&b);
    w_free(&res);
}

/* ---- Replies -----------------------------------------------------------------------------------
 */

static void test_reply_export(void **state)
{
    (void)state;
    otelc_buf out = {0};
    otelc_otlp_response r;
    assert_int_equal(vw_reply_export(&out, 0, NULL), OTELC_OK);
    assert_int_equal(vw_reply_export(&out, 0, ""), OTELC_OK);
    assert_int_equal(out.len, 0); /* full success: partial_success unset */

    /* partial_success (1) { rejected_spans (1) = 3, error_message (2) = "msg" } */
    static const uint8_t partial[] = {0x0a, 7, 0x08, 3, 0x12, 3, 'm', 's', 'g'};
    assert_int_equal(vw_reply_export(&out, 3, "msg"), OTELC_OK);
    assert_int_equal(out.len, sizeof partial);
    assert_memory_equal(out.data, partial, sizeof partial);
    assert_int_equal(otelc__otlp_parse_response_proto(out.data, out.len, &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 3);
    assert_string_equal(r.error_message, "msg");

    /* A warning: nothing rejected, a message. */
    static const uint8_t warning[] = {0x0a, 3, 0x12, 1, 'w'};
    otelc__buf_reset(&out);
    assert_int_equal(vw_reply_export(&out, 0, "w"), OTELC_OK);
    assert_int_equal(out.len, sizeof warning);
    assert_memory_equal(out.data, warning, sizeof warning);

    /* Long counts and messages need longer varints. */
    char message[300];
    memset(message, 'x', sizeof message - 1);
    message[sizeof message - 1] = '\0';
    otelc__buf_reset(&out);
    assert_int_equal(vw_reply_export(&out, 100000, message), OTELC_OK);
    assert_int_equal(otelc__otlp_parse_response_proto(out.data, out.len, &r), OTELC_OK);
    assert_int_equal(r.rejected_spans, 100000);
    assert_int_equal(strlen(r.error_message), sizeof r.error_message - 1);
    otelc__buf_free(&out);

    otelc_buf failed = {.failed = true};
    assert_int_equal(vw_reply_export(&failed, 1, "x"), OTELC_ERR_NOMEM);
}

static void base64(const otelc_buf *in, char *out, size_t size)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = (const uint8_t *)in->data;
    size_t o = 0;
    for (size_t i = 0; i < in->len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < in->len) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < in->len) v |= p[i + 2];
        assert_true(o + 5 < size);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < in->len ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < in->len ? abc[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The RetryInfo delay libotelc's gRPC exporter reads from the grpc-status-details-bin of st. */
static bool retry_delay_of(const vw_rpc_status *st, uint64_t *ms)
{
    otelc_buf out = {0};
    char b64[1024];
    assert_int_equal(vw_reply_status(&out, st), OTELC_OK);
    base64(&out, b64, sizeof b64);
    otelc__buf_free(&out);
    return otelc__grpc_retry_info(b64, strlen(b64), ms);
}

static void test_reply_status(void **state)
{
    (void)state;
    otelc_buf out = {0};
    vw_rpc_status st = {.code = VW_RPC_INVALID_ARGUMENT,
                        .message = "bad",
                        .bad_field = "x",
                        .bad_description = "y"};
    assert_int_equal(vw_reply_status(&out, &st), OTELC_OK);
    /*
     * Status { code (1) = 3, message (2) = "bad", details (3) = Any { type_url (1),
     * value (2) = BadRequest { field_violations (1) = { field (1) "x", description (2) "y" } } } }
     */
    static const char type[] = "type.googleapis.com/google.rpc.BadRequest";
    pbw want = {0}, any = {0}, bad = {0}, violation = {0};
    w_str(&violation, 1, "x");
    w_str(&violation, 2, "y");
    w_msg(&bad, 1, &violation);
    w_str(&any, 1, type);
    w_msg(&any, 2, &bad);
    w_u64(&want, 1, 3);
    w_str(&want, 2, "bad");
    w_msg(&want, 3, &any);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.p, want.len);
    assert_int_equal(want.len, 2 + 5 + 2 + 2 + 41 + 2 + 8);
    w_free(&want);
    otelc__buf_free(&out);

    /* Defaults are left out: an all-default Status is empty. */
    vw_rpc_status nothing = {0};
    assert_int_equal(vw_reply_status(&out, &nothing), OTELC_OK);
    assert_int_equal(out.len, 0);

    /* RetryInfo, read back by libotelc's gRPC exporter. */
    uint64_t ms = 1;
    vw_rpc_status busy = {
        .code = VW_RPC_UNAVAILABLE, .message = "busy", .retry = true, .retry_delay_ms = 2500};
    assert_true(retry_delay_of(&busy, &ms));
    assert_int_equal(ms, 2500);
    busy.retry_delay_ms = 0;
    assert_true(retry_delay_of(&busy, &ms));
    assert_int_equal(ms, 0);
    busy.retry_delay_ms = 90000;
    busy.bad_description = "and a BadRequest first";
    assert_true(retry_delay_of(&busy, &ms));
    assert_int_equal(ms, 90000);
    busy.retry = false;
    assert_false(retry_delay_of(&busy, &ms));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sdk_spans_field_by_field, setup_sdk, teardown_sdk),
        cmocka_unit_test_setup_teardown(test_sdk_grouping, setup_sdk, teardown_sdk),
        cmocka_unit_test_setup_teardown(test_sdk_reencodes_identically, setup_sdk, teardown_sdk),
        cmocka_unit_test_setup_teardown(test_sdk_truncated_at_every_byte, setup_sdk, teardown_sdk),
        cmocka_unit_test_setup_teardown(test_sdk_batch_reused, setup_sdk, teardown_sdk),
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_wrong_wire_types),
        cmocka_unit_test(test_unknown_numbers_any_type),
        cmocka_unit_test(test_field_order),
        cmocka_unit_test(test_several_resources_and_scopes),
        cmocka_unit_test(test_any_scalars),
        cmocka_unit_test(test_any_typed_arrays),
        cmocka_unit_test(test_any_other_arrays),
        cmocka_unit_test(test_any_kvlist),
        cmocka_unit_test(test_any_last_member_wins),
        cmocka_unit_test(test_nesting_bound),
        cmocka_unit_test(test_malformed_framing),
        cmocka_unit_test(test_group_depth),
        cmocka_unit_test(test_huge_declared_lengths),
        cmocka_unit_test(test_invalid_span_ids_partial_success),
        cmocka_unit_test(test_reject_reasons),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_flags_kinds_status),
        cmocka_unit_test(test_strings_and_defaults),
        cmocka_unit_test(test_empty_requests),
        cmocka_unit_test(test_span_bound),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_single_span),
        cmocka_unit_test(test_single_scope),
        cmocka_unit_test(test_single_resource),
        cmocka_unit_test(test_reply_export),
        cmocka_unit_test(test_reply_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
