/*
 * jaeger_tags.c - the tags Jaeger shows for a span (jaeger_tags.h), named
 * as Jaeger's OTLP translator names them.
 */
#include <inttypes.h>
#include <stdio.h>

#include "jaeger_tags.h"

const char *vw_kind_name(int kind)
{
    switch (kind) {
    case OTELC_SPAN_INTERNAL:
        return "internal";
    case OTELC_SPAN_SERVER:
        return "server";
    case OTELC_SPAN_CLIENT:
        return "client";
    case OTELC_SPAN_PRODUCER:
        return "producer";
    case OTELC_SPAN_CONSUMER:
        return "consumer";
    default:
        return NULL;
    }
}

static void str_tag(vw_tag_fn fn, void *ctx, const char *key, const char *s)
{
    otelc_value v = {.type = OTELC_VALUE_STRING, .u.str = {s, strlen(s)}};
    fn(ctx, key, &v);
}

/*
 * The translator's order (getJaegerProtoSpanTags in opentelemetry-collector-
 * contrib's pkg/translator/jaeger): scope, attributes, kind, status,
 * error, status description, trace state.
 */
void vw_jaeger_span_tags(const otelc_span_data *sd, vw_tag_fn fn, void *ctx)
{
    if (sd->scope && sd->scope->name && *sd->scope->name)
        str_tag(fn, ctx, "otel.scope.name", sd->scope->name);
    if (sd->scope && sd->scope->version && *sd->scope->version)
        str_tag(fn, ctx, "otel.scope.version", sd->scope->version);
    for (uint32_t i = 0; i < sd->attr_count; i++) fn(ctx, sd->attrs[i].key, &sd->attrs[i].value);
    const char *kind = vw_kind_name((int)sd->kind);
    if (kind) str_tag(fn, ctx, "span.kind", kind);
    if (sd->status == OTELC_STATUS_OK) str_tag(fn, ctx, "otel.status_code", "OK");
    if (sd->status == OTELC_STATUS_ERROR) {
        str_tag(fn, ctx, "otel.status_code", "ERROR");
        otelc_value yes = {.type = OTELC_VALUE_BOOL, .u.b = true};
        fn(ctx, "error", &yes);
    }
    if (sd->status_message && *sd->status_message)
        str_tag(fn, ctx, "otel.status_description", sd->status_message);
    if (sd->context.trace_state && *sd->context.trace_state)
        str_tag(fn, ctx, "w3c.tracestate", sd->context.trace_state);
}

const char *vw_resource_service(const otelc_resource *res)
{
    const otelc_value *v = res ? otelc_resource_get(res, "service.name") : NULL;
    return v && v->type == OTELC_VALUE_STRING && v->u.str.len ? v->u.str.ptr : "unknown_service";
}

void vw_value_text(otelc_buf *out, const otelc_value *v)
{
    char num[32];
    switch (v->type) {
    case OTELC_VALUE_STRING:
        otelc__buf_append(out, v->u.str.ptr, v->u.str.len);
        break;
    case OTELC_VALUE_BOOL:
        otelc__buf_puts(out, v->u.b ? "true" : "false");
        break;
    case OTELC_VALUE_INT:
        snprintf(num, sizeof num, "%" PRId64, v->u.i);
        otelc__buf_puts(out, num);
        break;
    case OTELC_VALUE_DOUBLE: {
        /* The JSON number spelling without the quotes JSON gives NaN and the infinities. */
        size_t at = out->len;
        otelc__buf_json_double(out, v->u.d);
        if (!out->failed && out->len > at && out->data[at] == '"') {
            memmove(out->data + at, out->data + at + 1, out->len - at - 2);
            out->len -= 2;
        }
        break;
    }
    default:
        otelc__buf_json_value(out, v);
        break;
    }
}
