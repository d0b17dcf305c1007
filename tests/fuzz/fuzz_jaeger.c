/*
 * fuzz_jaeger.c - uber-trace-id and uberctx- baggage extraction; an
 * accepted context re-injects and re-extracts to the same ids and baggage.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const otelc_context *ctx)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_span_context a = otelc_context_span_context(ctx), b;
    const otelc_baggage *ba = otelc_context_baggage(ctx);
    otelc_context *back;
    const char *k, *v;

    otelc_propagator_inject(otelc_propagator_jaeger(), ctx, &c);
    back = otelc_propagator_extract(otelc_propagator_jaeger(), NULL, &c);
    b = otelc_context_span_context(back);
    if (otelc_span_context_is_valid(&a) &&
        (memcmp(a.trace_id, b.trace_id, 16) || memcmp(a.span_id, b.span_id, 8) ||
         a.trace_flags != b.trace_flags))
        abort();
    for (size_t i = 0; otelc_baggage_entry(ba, i, &k, &v, NULL); i++) {
        const char *got = otelc_baggage_get(otelc_context_baggage(back), k);
        if (got == NULL || strcmp(got, v) != 0) abort();
    }
    otelc_context_release(back);
    otelc_headers_clear(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx;

    if (s == NULL) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    otelc_headers_add(&h, "uber-trace-id", s);
    otelc_headers_add(&h, "uberctx-fuzz", s);
    ctx = otelc_propagator_extract(otelc_propagator_jaeger(), NULL, &c);
    check_round_trip(ctx);
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
    free(s);
    return 0;
}
