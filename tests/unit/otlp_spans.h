/*
 * otlp_spans.h - spans for the OTLP encoder tests, built through the public
 * API: two providers (two resources), three scopes, every attribute type,
 * events, links, dropped counts, status, remote and local parents.
 *
 * The exporter encodes each batch inside export_spans (where span data is
 * valid) and also retains the spans, so a test can encode all of them in one
 * request afterwards and check the grouping.
 */
#ifndef OTELC_TEST_OTLP_SPANS_H
#define OTELC_TEST_OTLP_SPANS_H

#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "otelc/otelc.h"

#define FX_MAX_SPANS 64

typedef int (*fx_encoder)(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

typedef struct otlp_fx {
    otelc_provider *prov1, *prov2;
    otelc_tracer *t1, *t2, *t3;
    fx_encoder encode;
    otelc_buf in_call; /* what export_spans encoded, call after call */
    int in_call_rc;
    const otelc_span_data *spans[FX_MAX_SPANS];
    size_t count;
} otlp_fx;

/* Ids used by the scenario. */
static const uint8_t FX_LINK_TRACE[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                          0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x12};
static const uint8_t FX_LINK_SPAN[8] = {0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x23};
static const uint8_t FX_REMOTE_TRACE[16] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                            0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xac};
static const uint8_t FX_REMOTE_SPAN[8] = {0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xce};

#define FX_ROOT_START 1700000000000000001ull
#define FX_ROOT_END   1700000000000002000ull
#define FX_EVENT_TIME 1700000000000000500ull
#define FX_SCHEMA_ONE "https://opentelemetry.io/schemas/1.21.0"

static const char *const FX_STRS[] = {"a", "b\"c"};
static const bool FX_BOOLS[] = {true, false, true};
static const int64_t FX_INTS[] = {1, -1, INT64_MAX};
static const double FX_DOUBLES[] = {0.25, -2.0};

static otelc_export_result fx_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    otlp_fx *fx = self;
    int rc = fx->encode(&fx->in_call, spans, n);
    if (rc != OTELC_OK) fx->in_call_rc = rc;
    for (size_t i = 0; i < n && fx->count < FX_MAX_SPANS; i++) {
        otelc_span_data_retain(spans[i]);
        fx->spans[fx->count++] = spans[i];
    }
    return OTELC_EXPORT_SUCCESS;
}

static const otelc_exporter_ops fx_ops = {.export_spans = fx_export};

static otelc_provider *fx_provider(otlp_fx *fx, otelc_resource *res)
{
    static const otelc_span_limits limits = {
        .attribute_count = 9,
        .attribute_value_length = OTELC_UNLIMITED,
        .event_count = 2,
        .link_count = 1,
        .event_attribute_count = 1,
        .link_attribute_count = 1,
    };
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&fx_ops, fx));
    otelc_provider_options o = {
        .no_env = true,
        .resource = res,
        .processors = &proc,
        .processor_count = 1,
        .limits = &limits,
    };
    otelc_provider *p = NULL;
    if (otelc_provider_new(&o, &p) != OTELC_OK) abort();
    return p;
}

/* Nine attributes of every type, then one more that the limit drops. */
static void fx_set_all_types(otelc_span *s)
{
    otelc_span_set_str(s, "s", "hello \"q\"");
    otelc_span_set_bool(s, "b", true);
    otelc_span_set_int(s, "i", -5);
    otelc_span_set_double(s, "d", 1.5);
    otelc_span_set_str_array(s, "sa", FX_STRS, 2);
    otelc_span_set_bool_array(s, "ba", FX_BOOLS, 3);
    otelc_span_set_int_array(s, "ia", FX_INTS, 3);
    otelc_span_set_double_array(s, "da", FX_DOUBLES, 2);
    otelc_span_set_bool(s, "f", false);
    otelc_span_set_str(s, "dropped", "x");
}

static otelc_span *fx_root(otlp_fx *fx)
{
    otelc_attr link_attrs[] = {OTELC_ATTR_STR("lk", "lv"), OTELC_ATTR_INT("gone", 1)};
    otelc_link link = {.attrs = link_attrs, .attr_count = 2};
    memcpy(link.context.trace_id, FX_LINK_TRACE, 16);
    memcpy(link.context.span_id, FX_LINK_SPAN, 8);
    link.context.trace_flags = 1;
    link.context.is_remote = true;
    link.context.trace_state = "lk=lv";
    otelc_span_options o = {.kind = OTELC_SPAN_SERVER,
                            .root = true,
                            .start_ns = FX_ROOT_START,
                            .links = &link,
                            .link_count = 1};
    otelc_span *root = otelc_span_start_with(fx->t1, "root", &o);
    fx_set_all_types(root);
    otelc_attr ev_attrs[] = {OTELC_ATTR_STR("ek", "ev"), OTELC_ATTR_INT("gone", 2)};
    otelc_span_add_event_at(root, "e1", FX_EVENT_TIME, ev_attrs, 2);
    otelc_span_add_event_at(root, "e2", FX_EVENT_TIME + 1, NULL, 0);
    otelc_span_add_event_at(root, "e3", FX_EVENT_TIME + 2, NULL, 0);
    otelc_span_add_link(root, &link.context, NULL, 0); /* over the link limit */
    otelc_span_set_status(root, OTELC_STATUS_ERROR, "boom");
    return root;
}

static otelc_span *fx_remote_child(otlp_fx *fx)
{
    otelc_span_context sc = {.trace_flags = 1, .is_remote = true, .trace_state = "ts=1"};
    memcpy(sc.trace_id, FX_REMOTE_TRACE, 16);
    memcpy(sc.span_id, FX_REMOTE_SPAN, 8);
    otelc_context *ctx = otelc_context_new(&sc, NULL);
    otelc_span_options o = {.kind = OTELC_SPAN_CONSUMER, .parent = ctx};
    otelc_span *s = otelc_span_start_with(fx->t1, "remote-child", &o);
    otelc_context_release(ctx);
    otelc_span_set_status(s, OTELC_STATUS_OK, NULL);
    return s;
}

static otelc_span *fx_start_root(otelc_tracer *t, const char *name, otelc_span_kind kind)
{
    otelc_span_options o = {.kind = kind, .root = true};
    return otelc_span_start_with(t, name, &o);
}

/*
 * Spans end (and are exported) in this order:
 *   child (res 1, scope.two), root (res 1, scope.one), other (res 2,
 *   scope.three), remote-child (res 1, scope.one), late (res 1, scope.two).
 */
static void fx_build(otlp_fx *fx, fx_encoder encode)
{
    memset(fx, 0, sizeof(*fx));
    fx->encode = encode;
    otelc_attr r1[] = {OTELC_ATTR_STR("service.name", "svc-a"), OTELC_ATTR_INT("res.int", 42)};
    otelc_attr r2[] = {OTELC_ATTR_STR("service.name", "svc-b")};
    fx->prov1 = fx_provider(fx, otelc_resource_new(r1, 2, FX_SCHEMA_ONE));
    fx->prov2 = fx_provider(fx, otelc_resource_new(r2, 1, NULL));
    fx->t1 = otelc_provider_tracer(fx->prov1, "scope.one", "1.2.3", "https://schema/one");
    fx->t2 = otelc_provider_tracer(fx->prov1, "scope.two", NULL, NULL);
    fx->t3 = otelc_provider_tracer(fx->prov2, "scope.three", "3.0", NULL);

    otelc_span *root = fx_root(fx);
    otelc_scope scope = otelc_span_activate(root);
    otelc_span *child = otelc_span_start(fx->t2, "child", OTELC_SPAN_CLIENT);
    otelc_scope_exit(scope);
    otelc_span_set_int(child, "x", 1);
    otelc_span_end(child);
    otelc_span_end_at(root, FX_ROOT_END);
    otelc_span_end(fx_start_root(fx->t3, "other", OTELC_SPAN_INTERNAL));
    otelc_span_end(fx_remote_child(fx));
    otelc_span_end(fx_start_root(fx->t2, "late", OTELC_SPAN_PRODUCER));
}

static const otelc_span_data *fx_find(const otlp_fx *fx, const char *name)
{
    for (size_t i = 0; i < fx->count; i++)
        if (strcmp(fx->spans[i]->name, name) == 0) return fx->spans[i];
    return NULL;
}

static void fx_free(otlp_fx *fx)
{
    for (size_t i = 0; i < fx->count; i++) otelc_span_data_release(fx->spans[i]);
    otelc_provider_free(fx->prov1);
    otelc_provider_free(fx->prov2);
    otelc__buf_free(&fx->in_call);
}

#endif
