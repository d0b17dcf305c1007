/* test_span.c - spans: identity, parentage, attributes, events, links, status, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "unit/anyvalue.h"
#include "unit/collect.h"

COLLECT_FIXTURES(col)

static otelc_tracer *tracer_of(void **state)
{
    return otelc_provider_tracer(*state, "test.scope", "1.2.3",
                                 "https://opentelemetry.io/schemas/1.26.0");
}

static void test_span_identity_and_times(void **state)
{
    otelc_tracer *t = tracer_of(state);
    otelc_span *s = otelc_span_start(t, "work", OTELC_SPAN_SERVER);
    assert_true(otelc_span_is_recording(s));
    otelc_span_context sc = otelc_span_get_context(s);
    assert_true(otelc_span_context_is_valid(&sc));
    assert_true(otelc_span_context_is_sampled(&sc));
    assert_true(sc.trace_flags & OTELC_TRACE_FLAG_RANDOM);
    otelc_span_end(s);

    assert_int_equal(col.count, 1);
    const otelc_span_data *d = col.spans[0];
    assert_string_equal(d->name, "work");
    assert_int_equal(d->kind, OTELC_SPAN_SERVER);
    assert_false(d->has_parent);
    assert_memory_equal(d->context.trace_id, sc.trace_id, 16);
    assert_memory_equal(d->context.span_id, sc.span_id, 8);
    assert_true(d->start_ns > 1600000000ull * 1000000000ull);
    assert_true(d->end_ns >= d->start_ns);
    assert_string_equal(d->scope->name, "test.scope");
    assert_string_equal(d->scope->version, "1.2.3");
    assert_string_equal(d->scope->schema_url, "https://opentelemetry.io/schemas/1.26.0");
    assert_non_null(d->resource);
    assert_non_null(otelc_resource_get(d->resource, "service.name"));
    /* Same scope, same tracer. */
    assert_ptr_equal(t, tracer_of(state));
}

static void test_explicit_timestamps(void **state)
{
    otelc_span_options o = {.kind = OTELC_SPAN_CLIENT, .start_ns = 1000};
    otelc_span *s = otelc_span_start_with(tracer_of(state), "timed", &o);
    otelc_span_add_event_at(s, "ev", 1500, NULL, 0);
    otelc_span_end_at(s, 2000);
    const otelc_span_data *d = collect_find(&col, "timed");
    assert_non_null(d);
    assert_int_equal(d->start_ns, 1000);
    assert_int_equal(d->end_ns, 2000);
    assert_int_equal(d->events[0].time_ns, 1500);
    assert_int_equal(d->kind, OTELC_SPAN_CLIENT);
}

static void test_caller_chosen_ids(void **state)
{
    uint8_t tid[16], sid[8];
    memset(tid, 0x5a, 16);
    memset(sid, 0xa5, 8);
    otelc_span_options o = {.trace_id = tid, .span_id = sid};
    otelc_span *s = otelc_span_start_with(tracer_of(state), "announced", &o);
    otelc_span_context sc = otelc_span_get_context(s);
    assert_memory_equal(sc.trace_id, tid, 16);
    assert_memory_equal(sc.span_id, sid, 8);
    otelc_scope scope = otelc_span_activate(s);
    /* A child keeps the parent's trace id whatever trace_id says. */
    uint8_t other[16];
    memset(other, 0x77, 16);
    otelc_span *c =
        otelc_span_start_with(tracer_of(state), "child", &(otelc_span_options){.trace_id = other});
    assert_memory_equal(otelc_span_get_context(c).trace_id, tid, 16);
    otelc_span_end(c);
    otelc_scope_exit(scope);
    otelc_span_end(s);
    assert_memory_equal(collect_find(&col, "child")->parent_span_id, sid, 8);
}

static void test_nesting_through_current_context(void **state)
{
    otelc_tracer *t = tracer_of(state);
    otelc_span *root = otelc_span_start(t, "root", OTELC_SPAN_SERVER);
    otelc_scope s1 = otelc_span_activate(root);
    assert_ptr_equal(otelc_span_current(), root);
    otelc_span *child = otelc_span_start(t, "child", OTELC_SPAN_INTERNAL);
    otelc_scope s2 = otelc_span_activate(child);
    otelc_span *grandchild = otelc_span_start(t, "grandchild", OTELC_SPAN_INTERNAL);
    otelc_span_end(grandchild);
    otelc_scope_exit(s2);
    otelc_span_end(child);
    assert_ptr_equal(otelc_span_current(), root);
    otelc_span_options o = {.root = true};
    otelc_span *other = otelc_span_start_with(t, "other-root", &o);
    otelc_span_end(other);
    otelc_scope_exit(s1);
    otelc_span_end(root);
    assert_null(otelc_span_current());

    const otelc_span_data *r = collect_find(&col, "root"), *c = collect_find(&col, "child"),
                          *g = collect_find(&col, "grandchild"),
                          *o2 = collect_find(&col, "other-root");
    assert_non_null(r);
    assert_non_null(c);
    assert_non_null(g);
    assert_non_null(o2);
    assert_memory_equal(c->parent_span_id, r->context.span_id, 8);
    assert_memory_equal(g->parent_span_id, c->context.span_id, 8);
    assert_memory_equal(g->context.trace_id, r->context.trace_id, 16);
    assert_false(c->parent_is_remote);
    assert_false(o2->has_parent);
    assert_memory_not_equal(o2->context.trace_id, r->context.trace_id, 16);
}

static void test_explicit_remote_parent(void **state)
{
    otelc_span_context remote = {.trace_flags = 1, .is_remote = true, .trace_state = "vendor=x"};
    memset(remote.trace_id, 0xab, 16);
    memset(remote.span_id, 0xcd, 8);
    otelc_context *ctx = otelc_context_new(&remote, NULL);
    otelc_span_options o = {.kind = OTELC_SPAN_SERVER, .parent = ctx};
    otelc_span *s = otelc_span_start_with(tracer_of(state), "handle", &o);
    otelc_span_end(s);
    otelc_context_release(ctx);
    const otelc_span_data *d = collect_find(&col, "handle");
    assert_true(d->has_parent);
    assert_true(d->parent_is_remote);
    assert_memory_equal(d->context.trace_id, remote.trace_id, 16);
    assert_memory_equal(d->parent_span_id, remote.span_id, 8);
    assert_string_equal(d->context.trace_state, "vendor=x");
}

static void test_attach_context_parents_new_spans(void **state)
{
    otelc_span_context remote = {.trace_flags = 1, .is_remote = true};
    memset(remote.trace_id, 0x11, 16);
    memset(remote.span_id, 0x22, 8);
    otelc_context *ctx = otelc_context_new(&remote, NULL);
    otelc_scope sc = otelc_context_attach(ctx);
    otelc_context_release(ctx); /* the scope holds its own reference */
    otelc_span *s = otelc_span_start(tracer_of(state), "under-remote", OTELC_SPAN_SERVER);
    otelc_span_end(s);
    otelc_scope_exit(sc);
    const otelc_span_data *d = collect_find(&col, "under-remote");
    assert_memory_equal(d->parent_span_id, remote.span_id, 8);
    assert_true(d->parent_is_remote);
}

static void test_every_attribute_type(void **state)
{
    otelc_span *s = otelc_span_start(tracer_of(state), "attrs", OTELC_SPAN_INTERNAL);
    const char *strs[] = {"a", "bc"};
    bool bools[] = {true, false, true};
    int64_t ints[] = {-1, 0, INT64_MAX};
    double dbls[] = {0.5, -2.25};
    char key[16] = "dyn.key";
    otelc_span_set_str(s, key, "v1");
    memset(key, 0, sizeof(key)); /* keys and values are copied */
    otelc_span_set_bool(s, "b", true);
    otelc_span_set_int(s, "i", -42);
    otelc_span_set_double(s, "d", 3.5);
    otelc_span_set_strn(s, "sn", "abcdef", 3);
    otelc_span_set_str_array(s, "sa", strs, 2);
    otelc_span_set_bool_array(s, "ba", bools, 3);
    otelc_span_set_int_array(s, "ia", ints, 3);
    otelc_span_set_double_array(s, "da", dbls, 2);
    otelc_span_set_int(s, "i", 7); /* replaces */
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "attrs");
    assert_int_equal(d->attr_count, 9);
    assert_string_equal(otelc_span_data_attr(d, "dyn.key")->u.str.ptr, "v1");
    assert_true(otelc_span_data_attr(d, "b")->u.b);
    assert_int_equal(otelc_span_data_attr(d, "i")->u.i, 7);
    assert_true(otelc_span_data_attr(d, "d")->u.d == 3.5);
    const otelc_value *sn = otelc_span_data_attr(d, "sn");
    assert_int_equal(sn->u.str.len, 3);
    assert_string_equal(sn->u.str.ptr, "abc");
    const otelc_value *sa = otelc_span_data_attr(d, "sa");
    assert_int_equal(sa->type, OTELC_VALUE_STRING_ARRAY);
    assert_int_equal(sa->u.array.count, 2);
    assert_string_equal(((const char *const *)sa->u.array.items)[1], "bc");
    const otelc_value *ia = otelc_span_data_attr(d, "ia");
    assert_int_equal(((const int64_t *)ia->u.array.items)[2], INT64_MAX);
    const otelc_value *ba = otelc_span_data_attr(d, "ba");
    assert_false(((const bool *)ba->u.array.items)[1]);
    const otelc_value *da = otelc_span_data_attr(d, "da");
    assert_true(((const double *)da->u.array.items)[1] == -2.25);
}

/*
 * A key set through each entry point, with its bit compiled in (trace.h's
 * inline setters, literal keys), worked out from a 0.1.0 caller's length,
 * or measured at run time, is one key: each setting replaces the last.
 */
static void test_key_set_every_way_is_one_key(void **state)
{
    otelc_span *s = otelc_span_start(tracer_of(state), "one key", OTELC_SPAN_INTERNAL);
    char key[32];
    void (*set_int)(otelc_span *, const char *, int64_t) = otelc_span_set_int;
    snprintf(key, sizeof key, "%s", "http.response.status_code");
    otelc_span_set_int(s, "http.response.status_code", 1);
    set_int(s, key, 2);
    otelc__span_put_int(s, "http.response.status_code", 25,
                        OTELC__KEY_BIT_OF("http.response.status_code", 25), 3);
    otelc__span_set_int(s, key, strlen(key), 4);
    otelc__span_put_str(s, key, OTELC__LEN_UNKNOWN, 0, "five", 4);
    otelc__span_put_double(s, "http.response.status_code", 25, OTELC__KEY_BIT_OF(key, strlen(key)),
                           6.0);
    otelc_span_set_bool(s, "http.response.status_code", true);
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "one key");
    assert_int_equal(d->attr_count, 1);
    assert_int_equal(otelc_span_data_attr(d, key)->type, OTELC_VALUE_BOOL);
}

static void test_events_links_exception_status(void **state)
{
    otelc_tracer *t = tracer_of(state);
    otelc_span *other = otelc_span_start(t, "linked", OTELC_SPAN_INTERNAL);
    otelc_span_context lsc = otelc_span_get_context(other);
    otelc_span_end(other);

    otelc_attr la[] = {OTELC_ATTR_STR("link.kind", "batch")};
    otelc_link links[] = {{lsc, la, 1}};
    otelc_span_options o = {.links = links, .link_count = 1};
    otelc_span *s = otelc_span_start_with(t, "main", &o);
    otelc_attr ea[] = {OTELC_ATTR_INT("n", 3), OTELC_ATTR_BOOL("ok", false)};
    otelc_span_add_event(s, "cache.miss", ea, 2);
    otelc_span_record_exception(s, "IOError", "disk full", "at main.c:10");
    otelc_span_add_link(s, &lsc, NULL, 0);
    otelc_span_set_status(s, OTELC_STATUS_UNSET, "ignored");
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "it broke");
    otelc_span_update_name(s, "main-renamed");
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "main-renamed");
    assert_non_null(d);
    assert_int_equal(d->event_count, 2);
    assert_string_equal(d->events[0].name, "cache.miss");
    assert_int_equal(d->events[0].attr_count, 2);
    assert_int_equal(otelc_attrs_find(d->events[0].attrs, 2, "n")->u.i, 3);
    assert_true(d->events[0].time_ns >= d->start_ns);
    assert_string_equal(d->events[1].name, "exception");
    const otelc_event_data *ex = &d->events[1];
    assert_string_equal(otelc_attrs_find(ex->attrs, ex->attr_count, "exception.type")->u.str.ptr,
                        "IOError");
    assert_string_equal(otelc_attrs_find(ex->attrs, ex->attr_count, "exception.message")->u.str.ptr,
                        "disk full");
    assert_string_equal(
        otelc_attrs_find(ex->attrs, ex->attr_count, "exception.stacktrace")->u.str.ptr,
        "at main.c:10");
    assert_int_equal(d->link_count, 2);
    assert_memory_equal(d->links[0].context.span_id, lsc.span_id, 8);
    assert_string_equal(d->links[0].attrs[0].key, "link.kind");
    assert_int_equal(d->status, OTELC_STATUS_ERROR);
    assert_string_equal(d->status_message, "it broke");
}

static void test_status_ok_is_final(void **state)
{
    otelc_span *s = otelc_span_start(tracer_of(state), "ok", OTELC_SPAN_INTERNAL);
    otelc_span_set_status(s, OTELC_STATUS_OK, "description dropped");
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "too late");
    otelc_span_end(s);
    const otelc_span_data *d = collect_find(&col, "ok");
    assert_int_equal(d->status, OTELC_STATUS_OK);
    assert_null(d->status_message);
}

static void test_limits(void **state)
{
    otelc_provider_free(*state);
    collect_clear(&col);
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    assert_int_equal(lim.attribute_count, 128);
    assert_int_equal(lim.attribute_value_length, OTELC_UNLIMITED);
    lim.attribute_count = 2;
    lim.attribute_value_length = 4;
    lim.event_count = 1;
    lim.link_count = 1;
    lim.event_attribute_count = 1;
    *state = collect_provider(&col, NULL, &lim);

    otelc_span *s = otelc_span_start(tracer_of(state), "limited", OTELC_SPAN_INTERNAL);
    otelc_span_set_str(s, "a", "h\xc3\xa9llo"); /* "héllo": 5 characters, 6 bytes */
    otelc_span_set_int(s, "b", 1);
    otelc_span_set_int(s, "c", 2); /* over the count: dropped */
    otelc_span_set_int(s, "a", 3); /* replacing an existing key is allowed */
    const char *arr[] = {"abcdefgh"};
    otelc_span_set_str_array(s, "d", arr, 1); /* dropped too */
    otelc_attr ea[] = {OTELC_ATTR_INT("x", 1), OTELC_ATTR_INT("y", 2)};
    otelc_span_add_event(s, "e1", ea, 2);
    otelc_span_add_event(s, "e2", NULL, 0);
    otelc_span_context sc = otelc_span_get_context(s);
    otelc_span_add_link(s, &sc, NULL, 0);
    otelc_span_add_link(s, &sc, NULL, 0);
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "limited");
    assert_int_equal(d->attr_count, 2);
    assert_int_equal(d->dropped_attr_count, 2);
    assert_int_equal(otelc_span_data_attr(d, "a")->u.i, 3);
    assert_int_equal(d->event_count, 1);
    assert_int_equal(d->dropped_event_count, 1);
    assert_int_equal(d->events[0].attr_count, 1);
    assert_int_equal(d->events[0].dropped_attr_count, 1);
    assert_int_equal(d->link_count, 1);
    assert_int_equal(d->dropped_link_count, 1);

    otelc_span *t2 = otelc_span_start(tracer_of(state), "trunc", OTELC_SPAN_INTERNAL);
    otelc_span_set_str(t2, "s", "h\xc3\xa9llo");
    otelc_span_end(t2);
    const otelc_value *v = otelc_span_data_attr(collect_find(&col, "trunc"), "s");
    assert_int_equal(v->u.str.len, 5); /* 4 characters: h, é (2 bytes), l, l */
    assert_string_equal(v->u.str.ptr, "h\xc3\xa9ll");
}

/* Every AnyValue kind through every setter: span, start options, events, links. */
static void test_anyvalue_kinds_on_every_setter(void **state)
{
    otelc_tracer *t = tracer_of(state);
    otelc_span *other = otelc_span_start(t, "target", OTELC_SPAN_INTERNAL);
    otelc_span_context lsc = otelc_span_get_context(other);
    otelc_span_end(other);

    otelc_link links[] = {{lsc, AV_ATTRS, AV_LEN(AV_ATTRS)}};
    otelc_span_options o = {
        .attrs = &AV_ATTRS[2], .attr_count = 2, .links = links, .link_count = 1};
    otelc_span *s = otelc_span_start_with(t, "anyvalue", &o);
    otelc_span_set_attrs(s, AV_ATTRS, 2);
    for (size_t i = 4; i < AV_LEN(AV_ATTRS); i++) otelc_span_set_attr(s, &AV_ATTRS[i]);
    otelc_span_add_event(s, "ev", AV_ATTRS, AV_LEN(AV_ATTRS));
    otelc_span_add_link(s, &lsc, AV_ATTRS, AV_LEN(AV_ATTRS));
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "anyvalue");
    assert_int_equal(d->attr_count, AV_LEN(AV_ATTRS));
    for (size_t i = 0; i < AV_LEN(AV_ATTRS); i++) {
        const otelc_value *v = otelc_span_data_attr(d, AV_ATTRS[i].key);
        assert_non_null(v);
        assert_true(av_equal(v, &AV_ATTRS[i].value));
    }
    assert_int_equal(d->events[0].attr_count, AV_LEN(AV_ATTRS));
    assert_true(av_attrs_equal(d->events[0].attrs, AV_ATTRS, AV_LEN(AV_ATTRS)));
    for (uint32_t l = 0; l < 2; l++) {
        assert_int_equal(d->links[l].attr_count, AV_LEN(AV_ATTRS));
        assert_true(av_attrs_equal(d->links[l].attrs, AV_ATTRS, AV_LEN(AV_ATTRS)));
    }
}

/* A value of unknown type (a caller's bug) is kept as the empty value, never read as another. */
static void test_unknown_value_type_is_empty(void **state)
{
    otelc_span *s = otelc_span_start(tracer_of(state), "unknown", OTELC_SPAN_INTERNAL);
    otelc_attr bad[] = {{"bad", {.type = (otelc_value_type)77, .u.array = {"x", 5}}},
                        {"zero", {.type = (otelc_value_type)0}},
                        OTELC_ATTR_INT("good", 1)};
    otelc_attr replaced = {"replaced", bad[0].value};
    otelc_span_set_attrs(s, bad, 3);
    otelc_span_set_int(s, "replaced", 2);
    otelc_span_set_attr(s, &replaced);
    otelc_span_add_event(s, "ev", bad, 3);
    otelc_span_end(s);
    const otelc_span_data *d = collect_find(&col, "unknown");
    assert_int_equal(d->attr_count, 4);
    assert_int_equal(otelc_span_data_attr(d, "bad")->type, OTELC_VALUE_EMPTY);
    assert_int_equal(otelc_span_data_attr(d, "zero")->type, OTELC_VALUE_EMPTY);
    assert_int_equal(otelc_span_data_attr(d, "good")->u.i, 1);
    assert_int_equal(otelc_span_data_attr(d, "replaced")->type, OTELC_VALUE_EMPTY);
    assert_int_equal(d->events[0].attr_count, 3);
    assert_int_equal(otelc_attrs_find(d->events[0].attrs, 3, "bad")->type, OTELC_VALUE_EMPTY);
}

/*
 * The specification's limits for nested values: the length limit cuts
 * every string and bytes value at any depth, in spans, events and links;
 * the count limit counts top-level attributes only, never map entries.
 */
static void test_limits_inside_nested_values(void **state)
{
    otelc_provider_free(*state);
    collect_clear(&col);
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    lim.attribute_count = 2;
    lim.event_attribute_count = 2;
    lim.attribute_value_length = 2;
    *state = collect_provider(&col, NULL, &lim);

    static const char *const keys[] = {"a", "b", "c", "d", "e"};
    otelc_attr many[5];
    for (int i = 0; i < 5; i++) many[i] = (otelc_attr){keys[i], AV_STR("long")};
    otelc_value nested[] = {AV_MAP_OF(many), AV_BYTES_OF(AV_RAW)};
    otelc_attr attrs[] = {{"n", AV_ARRAY_OF(nested)}, {"m", AV_MAP_OF(many)}, {"x", AV_INT(1)}};
    otelc_span *s = otelc_span_start(tracer_of(state), "nested-limits", OTELC_SPAN_INTERNAL);
    otelc_span_set_attrs(s, attrs, 3);
    otelc_span_add_event(s, "ev", attrs, 3);
    otelc_span_context sc = otelc_span_get_context(s);
    otelc_span_add_link(s, &sc, attrs, 1);
    otelc_span_end(s);

    const otelc_span_data *d = collect_find(&col, "nested-limits");
    const otelc_attr *lists[] = {d->attrs, d->events[0].attrs, d->links[0].attrs};
    for (size_t l = 0; l < 3; l++) {
        const otelc_value *n = otelc_attrs_find(lists[l], 2, "n");
        assert_non_null(n);
        const otelc_value *map = av_item(n, 0);
        assert_int_equal(map->u.array.count, 5); /* the count limit is for the top level */
        for (size_t i = 0; i < 5; i++) {
            const otelc_value *v = &((const otelc_attr *)map->u.array.items)[i].value;
            assert_int_equal(v->u.str.len, 2);
            assert_string_equal(v->u.str.ptr, "lo");
        }
        assert_int_equal(av_item(n, 1)->u.str.len, 2);
        assert_memory_equal(av_item(n, 1)->u.str.ptr,
                            "\x00"
                            "a",
                            2);
    }
    assert_int_equal(d->attr_count, 2);
    assert_int_equal(d->dropped_attr_count, 1);
    assert_int_equal(d->events[0].dropped_attr_count, 1);
}

static void test_many_attributes_grow(void **state)
{
    otelc_span *s = otelc_span_start(tracer_of(state), "many", OTELC_SPAN_INTERNAL);
    char key[32], val[64];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "key.%d", i);
        snprintf(val, sizeof(val), "a fairly long value number %d to spill the arena", i);
        otelc_span_set_str(s, key, val);
    }
    /* Set again, in another order: each replaces its key (many share a key_bits bit). */
    for (int i = 99; i >= 0; i -= 3) {
        snprintf(key, sizeof(key), "key.%d", i);
        otelc_span_set_int(s, key, i);
    }
    for (int i = 0; i < 40; i++) otelc_span_add_event(s, "tick", NULL, 0);
    otelc_span_end(s);
    const otelc_span_data *d = collect_find(&col, "many");
    assert_int_equal(d->attr_count, 100);
    assert_int_equal(d->event_count, 40);
    assert_string_equal(otelc_span_data_attr(d, "key.98")->u.str.ptr,
                        "a fairly long value number 98 to spill the arena");
    for (int i = 99; i >= 0; i -= 3) {
        snprintf(key, sizeof(key), "key.%d", i);
        assert_int_equal(otelc_span_data_attr(d, key)->u.i, i);
    }
}

static void test_unsampled_spans_propagate_but_do_not_export(void **state)
{
    otelc_provider_free(*state);
    collect_clear(&col);
    *state = collect_provider(&col, otelc_sampler_always_off(), NULL);
    otelc_span *s = otelc_span_start(tracer_of(state), "dropped", OTELC_SPAN_SERVER);
    assert_false(otelc_span_is_recording(s));
    otelc_span_context sc = otelc_span_get_context(s);
    assert_true(otelc_span_context_is_valid(&sc));
    assert_false(otelc_span_context_is_sampled(&sc));
    otelc_scope scope = otelc_span_activate(s);
    otelc_span *child = otelc_span_start(tracer_of(state), "child", OTELC_SPAN_INTERNAL);
    otelc_span_context csc = otelc_span_get_context(child);
    assert_memory_equal(csc.trace_id, sc.trace_id, 16);
    otelc_span_set_str(child, "k", "v");
    otelc_span_end(child);
    otelc_scope_exit(scope);
    otelc_span_end(s);
    assert_int_equal(col.count, 0);
    otelc_stats st;
    otelc_provider_stats(*state, &st);
    assert_int_equal(st.spans_sampled_out, 2);
    assert_int_equal(st.spans_started, 0);
}

/*
 * A span that does not record keeps its ids as a generator drew them and
 * works them out when its context is read: every read, and every child,
 * must see the same ids, and they must be what a recording child records.
 */
static void test_unsampled_parent_ids_are_what_children_record(void **state)
{
    otelc_provider_free(*state);
    collect_clear(&col);
    /* Roots are dropped; children of a local unsampled parent are recorded. */
    otelc_sampler *sampler = otelc_sampler_parent_based(otelc_sampler_always_off(), NULL, NULL,
                                                        NULL, otelc_sampler_always_on());
    *state = collect_provider(&col, sampler, NULL);
    otelc_tracer *t = tracer_of(state);

    otelc_span *root = otelc_span_start(t, "root", OTELC_SPAN_SERVER);
    otelc_span *other = otelc_span_start(t, "other", OTELC_SPAN_SERVER);
    assert_false(otelc_span_is_recording(root));
    otelc_span_context a = otelc_span_get_context(root), b = otelc_span_get_context(root);
    assert_true(otelc_span_context_is_valid(&a));
    assert_memory_equal(&a, &b, offsetof(otelc_span_context, trace_state));
    otelc_span_context o = otelc_span_get_context(other);
    assert_memory_not_equal(o.trace_id, a.trace_id, 16);
    assert_memory_not_equal(o.span_id, a.span_id, 8);

    otelc_scope scope = otelc_span_activate(root);
    otelc_span *child = otelc_span_start(t, "child", OTELC_SPAN_INTERNAL);
    assert_true(otelc_span_is_recording(child));
    otelc_span_end(child);
    otelc_scope_exit(scope);
    otelc_span_end(other);
    otelc_span_end(root);

    const otelc_span_data *c = collect_find(&col, "child");
    assert_non_null(c);
    assert_true(c->has_parent);
    assert_memory_equal(c->context.trace_id, a.trace_id, 16);
    assert_memory_equal(c->parent_span_id, a.span_id, 8);
    assert_memory_not_equal(c->context.span_id, a.span_id, 8);
    assert_int_equal(col.count, 1);
}

static void test_stats_count_spans(void **state)
{
    for (int i = 0; i < 5; i++)
        otelc_span_end(otelc_span_start(tracer_of(state), "x", OTELC_SPAN_INTERNAL));
    otelc_stats st;
    otelc_provider_stats(*state, &st);
    assert_int_equal(st.spans_started, 5);
    assert_int_equal(st.spans_ended, 5);
    assert_int_equal(st.spans_exported, 5);
}

static void test_null_and_noop_handles_are_safe(void **state)
{
    (void)state;
    otelc_span *s = otelc_span_start(NULL, "x", OTELC_SPAN_INTERNAL);
    assert_non_null(s);
    assert_false(otelc_span_is_recording(s));
    otelc_span_set_str(s, "k", "v");
    otelc_span_set_int(NULL, "k", 1);
    otelc_span_set_str_array(NULL, "k", NULL, 3);
    otelc_span_add_event(NULL, "e", NULL, 0);
    otelc_span_add_link(NULL, NULL, NULL, 0);
    otelc_span_set_status(NULL, OTELC_STATUS_ERROR, "x");
    otelc_span_record_exception(NULL, "t", "m", NULL);
    otelc_span_update_name(NULL, "n");
    otelc_scope sc = otelc_span_activate(s);
    otelc_scope_exit(sc);
    otelc_scope_exit(otelc_span_activate(NULL));
    otelc_span_context c = otelc_span_get_context(NULL);
    assert_false(otelc_span_context_is_valid(&c));
    char hex[33];
    assert_string_equal(otelc_trace_id_hex(NULL, hex), "00000000000000000000000000000000");
    otelc_span_end(s);
    otelc_span_end(NULL);
    /* Without a global provider the global tracer is a no-op, never NULL. */
    otelc_tracer *t = otelc_tracer_get("nothing", NULL);
    assert_non_null(t);
    otelc_span *n = otelc_span_start(t, "noop", OTELC_SPAN_INTERNAL);
    assert_false(otelc_span_is_recording(n));
    otelc_span_end(n);
}

static void test_with_span_block_ends_on_any_exit(void **state)
{
    otelc_tracer *t = tracer_of(state);
    otelc_span *outer = otelc_span_start(t, "outer", OTELC_SPAN_INTERNAL);
    otelc_scope sc = otelc_span_activate(outer);
    for (int i = 0; i < 3; i++) {
        OTELC_WITH_SPAN(t, "block")
        {
            assert_string_equal(((otelc_span_data *)otelc_span_current())->name, "block");
            if (i == 1) break;
        }
    }
    assert_ptr_equal(otelc_span_current(), outer);
    otelc_scope_exit(sc);
    otelc_span_end(outer);
    size_t blocks = 0;
    const otelc_span_data *o = collect_find(&col, "outer");
    for (size_t i = 0; i < col.count; i++) {
        if (strcmp(col.spans[i]->name, "block") != 0) continue;
        blocks++;
        assert_memory_equal(col.spans[i]->parent_span_id, o->context.span_id, 8);
    }
    assert_int_equal(blocks, 3);
}

static void test_scope_out_of_order_unwinds(void **state)
{
    otelc_tracer *t = tracer_of(state);
    otelc_span *a = otelc_span_start(t, "a", OTELC_SPAN_INTERNAL);
    otelc_span *b = otelc_span_start(t, "b", OTELC_SPAN_INTERNAL);
    otelc_scope sa = otelc_span_activate(a);
    otelc_scope sb = otelc_span_activate(b);
    otelc_span_end(b);    /* ended while active: the scope keeps it alive */
    otelc_scope_exit(sa); /* out of order: unwinds b as well */
    assert_null(otelc_span_current());
    otelc_scope_exit(sb); /* stale: ignored */
    assert_null(otelc_span_current());
    otelc_span_end(a);
    assert_non_null(collect_find(&col, "b"));
}

static void test_span_ids_hex(void **state)
{
    otelc_span *s = otelc_span_start(tracer_of(state), "hex", OTELC_SPAN_INTERNAL);
    otelc_span_context sc = otelc_span_get_context(s);
    char th[33], sh[17];
    otelc_trace_id_hex(&sc, th);
    otelc_span_id_hex(&sc, sh);
    assert_int_equal(strlen(th), 32);
    assert_int_equal(strlen(sh), 16);
    for (int i = 0; i < 32; i++) assert_true(strchr("0123456789abcdef", th[i]) != NULL);
    char expect[3];
    snprintf(expect, sizeof(expect), "%02x", sc.span_id[0]);
    assert_memory_equal(sh, expect, 2);
    otelc_span_end(s);
}

typedef struct lookup_run {
    otelc_provider *provider;
    int index;
    otelc_tracer *got[4];
} lookup_run;

static const char *const scope_names[4] = {"lib.a", "lib.b", "lib.c", "lib.d"};

/* Each thread asks for the four scopes in its own order, many times. */
static void *look_up_tracers(void *arg)
{
    lookup_run *r = arg;
    for (int round = 0; round < 2000; round++)
        for (int k = 0; k < 4; k++) {
            int i = (k + round + r->index) % 4;
            otelc_tracer *t = otelc_provider_tracer(r->provider, scope_names[i], "1", NULL);
            if (r->got[i] && r->got[i] != t) r->got[i] = NULL; /* a second tracer: wrong */
            if (!r->got[i] && round == 0) r->got[i] = t;
        }
    return NULL;
}

/* Concurrent lookups (instrumentation does one per request) agree on one tracer per scope. */
static void test_tracer_lookup_from_many_threads(void **state)
{
    lookup_run runs[4] = {{*state, 0, {0}}, {*state, 1, {0}}, {*state, 2, {0}}, {*state, 3, {0}}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, look_up_tracers, &runs[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int k = 0; k < 4; k++) {
        otelc_tracer *want = otelc_provider_tracer(*state, scope_names[k], "1", NULL);
        for (int i = 0; i < 4; i++) assert_ptr_equal(runs[i].got[k], want);
        otelc_span *s = otelc_span_start(want, scope_names[k], OTELC_SPAN_INTERNAL);
        otelc_span_end(s);
        assert_string_equal(collect_find(&col, scope_names[k])->scope->name, scope_names[k]);
    }
    assert_ptr_not_equal(otelc_provider_tracer(*state, "lib.a", "2", NULL),
                         otelc_provider_tracer(*state, "lib.a", "1", NULL));
}

static void test_shutdown_makes_spans_noop(void **state)
{
    assert_int_equal(otelc_provider_shutdown(*state, 1000), OTELC_OK);
    assert_int_equal(col.shutdowns, 1);
    otelc_span *s = otelc_span_start(tracer_of(state), "late", OTELC_SPAN_INTERNAL);
    assert_false(otelc_span_is_recording(s));
    otelc_span_end(s);
    assert_null(collect_find(&col, "late"));
}

#define SKEY(k) ((otelc_static_key){OTELC__KEY_BIT_OF(k, sizeof(k) - 1), sizeof(k) - 1})

/* The attributes of two spans are the same list: keys, values and order, and drops. */
static void assert_same_attrs(const otelc_span_data *a, const otelc_span_data *b)
{
    assert_int_equal(a->attr_count, b->attr_count);
    assert_int_equal(a->dropped_attr_count, b->dropped_attr_count);
    for (uint32_t i = 0; i < a->attr_count; i++) {
        const otelc_value *x = &a->attrs[i].value, *y = &b->attrs[i].value;
        assert_string_equal(a->attrs[i].key, b->attrs[i].key);
        /* The encoders' kept key lengths (src/internal.h). */
        assert_int_equal(otelc__span_key_lens(a)[i], strlen(a->attrs[i].key));
        assert_int_equal(otelc__span_key_lens(b)[i], strlen(b->attrs[i].key));
        assert_int_equal(x->type, y->type);
        if (x->type == OTELC_VALUE_STRING) {
            assert_int_equal(x->u.str.len, y->u.str.len);
            assert_memory_equal(x->u.str.ptr, y->u.str.ptr, x->u.str.len + 1);
        } else {
            assert_memory_equal(&x->u, &y->u, sizeof x->u);
        }
    }
}

/*
 * Static attributes set in one call are those set one by one: with a key
 * the span has already (replaced in place), a value past the quick copy,
 * values cut to the length limit, more than the count limit, scalars of
 * every kind, and more than one arena block of values. A span that does
 * not record takes none.
 */
static void test_static_attrs_at_once_as_one_by_one(void **state)
{
    char big[600];
    memset(big, 'v', sizeof big - 1), big[sizeof big - 1] = '\0';
    static const char *const keys[] = {"url.path", "a.long.value", "b",  "i",  "d", "url.scheme",
                                       "cut",      "x1",           "x2", "x3", "x4"};
    const otelc_static_key k[] = {SKEY("url.path"), SKEY("a.long.value"), SKEY("b"),   SKEY("i"),
                                  SKEY("d"),        SKEY("url.scheme"),   SKEY("cut"), SKEY("x1"),
                                  SKEY("x2"),       SKEY("x3"),           SKEY("x4")};
    const otelc_attr attrs[] = {
        OTELC_ATTR_STR(keys[0], "/a/b"),
        OTELC_ATTR_STR(keys[1], "a value longer than thirty-two bytes"),
        OTELC_ATTR_BOOL(keys[2], true),
        OTELC_ATTR_INT(keys[3], -7),
        OTELC_ATTR_DOUBLE(keys[4], 0.25),
        OTELC_ATTR_STR(keys[5], "http"),
        OTELC_ATTR_STR(keys[6], big),
        OTELC_ATTR_STR(keys[7], big + 570),
        OTELC_ATTR_STR(keys[8], big + 570),
        OTELC_ATTR_STR(keys[9], big + 570),
        OTELC_ATTR_STR(keys[10], big + 570),
    };
    size_t n = sizeof attrs / sizeof attrs[0];
    /* Rounds: the usual case; a key the span has; a count limit under n. */
    for (int round = 0; round < 3; round++) {
        otelc_span_limits lim;
        otelc_span_limits_default(&lim);
        lim.attribute_value_length = 40;
        if (round == 2) lim.attribute_count = 9;
        otelc_provider_free(*state);
        collect_clear(&col);
        *state = collect_provider(&col, NULL, &lim);
        otelc_span *at_once = otelc_span_start(tracer_of(state), "at_once", OTELC_SPAN_SERVER);
        otelc_span *singly = otelc_span_start(tracer_of(state), "singly", OTELC_SPAN_SERVER);
        if (round == 1) {
            otelc_span_set_str(at_once, "url.scheme", "ftp");
            otelc_span_set_str(singly, "url.scheme", "ftp");
        }
        otelc__span_put_static_attrs(at_once, attrs, k, n, 4);
        for (size_t i = 0; i < n; i++) {
            if (attrs[i].value.type == OTELC_VALUE_STRING)
                otelc__span_put_static_str(singly, attrs[i].key, k[i], attrs[i].value.u.str.ptr,
                                           attrs[i].value.u.str.len);
            else
                otelc__span_put_static_attrs(singly, &attrs[i], &k[i], 1, 0);
        }
        otelc_span_end(at_once);
        otelc_span_end(singly);
        const otelc_span_data *a = collect_find(&col, "at_once"), *b = collect_find(&col, "singly");
        assert_same_attrs(a, b);
        assert_int_equal(a->attr_count, round == 2 ? 9 : n);
        assert_int_equal(a->dropped_attr_count, round == 2 ? 2 : 0);
        assert_string_equal(otelc_span_data_attr(a, "url.path")->u.str.ptr, "/a/b");
        assert_int_equal(otelc_span_data_attr(a, "cut")->u.str.len, 40);
        assert_string_equal(otelc_span_data_attr(a, "url.scheme")->u.str.ptr, "http");
        assert_int_equal(otelc_span_data_attr(a, "i")->u.i, -7);
    }
    /* A value marked static is kept, not copied; the same value unmarked is copied. */
    static const char scheme[] = "https";
    const otelc_attr kept[] = {OTELC_ATTR_STR("url.scheme", scheme), OTELC_ATTR_STR("x1", scheme)};
    const otelc_static_key kept_keys[] = {
        {SKEY("url.scheme").bit, SKEY("url.scheme").len | OTELC_STATIC_VALUE}, SKEY("x1")};
    otelc_span *st = otelc_span_start(tracer_of(state), "static", OTELC_SPAN_SERVER);
    otelc__span_put_static_attrs(st, kept, kept_keys, 2, 0);
    otelc_span_end(st);
    const otelc_span_data *sd = collect_find(&col, "static");
    assert_ptr_equal(otelc_span_data_attr(sd, "url.scheme")->u.str.ptr, scheme);
    assert_ptr_not_equal(otelc_span_data_attr(sd, "x1")->u.str.ptr, scheme);
    assert_string_equal(otelc_span_data_attr(sd, "x1")->u.str.ptr, scheme);
    assert_int_equal(otelc__span_key_lens(sd)[0], 10);
    /* Kept or not, a value past the length limit is cut. */
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    lim.attribute_value_length = 2;
    otelc_provider_free(*state);
    collect_clear(&col);
    *state = collect_provider(&col, NULL, &lim);
    st = otelc_span_start(tracer_of(state), "static", OTELC_SPAN_SERVER);
    otelc__span_put_static_attrs(st, kept, kept_keys, 2, 0);
    otelc_span_end(st);
    sd = collect_find(&col, "static");
    assert_string_equal(otelc_span_data_attr(sd, "url.scheme")->u.str.ptr, "ht");
    assert_string_equal(otelc_span_data_attr(sd, "x1")->u.str.ptr, "ht");

    otelc_span *ended = otelc_span_start(tracer_of(state), "ended", OTELC_SPAN_SERVER);
    otelc_span_end(ended);
    otelc__span_put_static_attrs(ended, attrs, k, n, 0); /* nothing, and no crash */
    otelc__span_put_static_attrs(NULL, attrs, k, n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_span_identity_and_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_chosen_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_through_current_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explicit_remote_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_context_parents_new_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_attribute_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_set_every_way_is_one_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_links_exception_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_ok_is_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_attrs_at_once_as_one_by_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anyvalue_kinds_on_every_setter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_value_type_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_inside_nested_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_attributes_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsampled_spans_propagate_but_do_not_export, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unsampled_parent_ids_are_what_children_record, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stats_count_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_and_noop_handles_are_safe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_span_block_ends_on_any_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_out_of_order_unwinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_span_ids_hex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tracer_lookup_from_many_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_makes_spans_noop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
