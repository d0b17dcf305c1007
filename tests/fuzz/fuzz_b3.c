/*
 * fuzz_b3.c - B3 extraction (the input as the single header, then as the
 * trace id of the multi headers); an accepted context re-injects and
 * re-extracts to the same ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(otelc_propagator *p, const otelc_context *ctx)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_span_context a = otelc_context_span_context(ctx), b;
    otelc_context *back;

    otelc_propagator_inject(p, ctx, &c);
    back = otelc_propagator_extract(p, NULL, &c);
    b = otelc_context_span_context(back);
    if (memcmp(a.trace_id, b.trace_id, 16) || memcmp(a.span_id, b.span_id, 8)) abort();
    if (otelc_span_context_is_sampled(&a) != otelc_span_context_is_sampled(&b)) abort();
    otelc_context_release(back);
    otelc_headers_clear(&h);
}

static void try_headers(const char *const *kv)
{
    otelc_headers h = {0};
    otelc_carrier c = otelc_headers_carrier(&h);
    otelc_context *ctx;
    otelc_span_context sc;

    for (size_t i = 0; kv[i]; i += 2) otelc_headers_add(&h, kv[i], kv[i + 1]);
    ctx = otelc_propagator_extract(otelc_propagator_b3(), NULL, &c);
    sc = otelc_context_span_context(ctx);
    if (otelc_span_context_is_valid(&sc)) {
        check_round_trip(otelc_propagator_b3(), ctx);
        check_round_trip(otelc_propagator_b3multi(), ctx);
    }
    otelc_context_release(ctx);
    otelc_headers_clear(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    try_headers((const char *[]){"b3", s, NULL});
    try_headers((const char *[]){"x-b3-traceid", s, "x-b3-spanid", "00f067aa0ba902b7", "x-b3-flags",
                                 s, NULL});
    try_headers((const char *[]){"x-b3-traceid", "a3ce929d0e0e4736", "x-b3-spanid", s,
                                 "x-b3-sampled", s, NULL});
    free(s);
    return 0;
}
