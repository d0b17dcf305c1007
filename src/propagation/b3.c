/*
 * b3.c - Zipkin B3 propagation, single header ("b3") and multi header
 * ("X-B3-*").
 *
 * Both propagators read both encodings, the single header taking
 * precedence, as the OpenTelemetry specification asks: a service may be
 * configured for one encoding while its callers still send the other. They
 * differ only in what they write. The debug flag has no place in a span
 * context, so it becomes "sampled", which is what it implies.
 */
#include <string.h>

#include "propagation.h"

enum b3_result { B3_ABSENT, B3_INVALID, B3_OK };

/* 16 or 32 hex digits; a 64-bit trace id is left-padded to 128 bits. */
static bool b3_trace_id(const char *s, size_t n, uint8_t out[16])
{
    return (n == 16 || n == 32) && otelc__hex_decode_padded(s, n, out, 16);
}

static bool b3_span_id(const char *s, size_t n, uint8_t out[8])
{
    return n == 16 && otelc__hex_decode(s, 8, out);
}

static bool b3_ids_ok(const otelc_span_context *sc)
{
    return !otelc__is_zero(sc->trace_id, 16) && !otelc__is_zero(sc->span_id, 8);
}

/* Split s[0..n) at '-' into at most max fields; returns the count, 0 if too many. */
static size_t b3_split(const char *s, size_t n, const char **f, size_t *len, size_t max)
{
    size_t count = 0;
    const char *end = s + n;

    for (;;) {
        const char *dash = memchr(s, '-', (size_t)(end - s));
        if (count == max) return 0;
        f[count] = s;
        len[count++] = (size_t)((dash ? dash : end) - s);
        if (dash == NULL) return count;
        s = dash + 1;
    }
}

static bool b3_sampling(const char *s, size_t n, uint8_t *flags)
{
    if (n != 1) return false;
    if (s[0] == '1' || s[0] == 'd')
        *flags = OTELC_TRACE_FLAG_SAMPLED;
    else if (s[0] == '0')
        *flags = 0;
    else
        return false;
    return true;
}

/* {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]], or a lone state. */
static enum b3_result b3_parse_single(const char *v, otelc_span_context *sc)
{
    const char *f[4];
    size_t len[4], n = v ? strlen(v) : 0, count;
    uint8_t parent[8];

    if (v == NULL) return B3_ABSENT;
    otelc__trim_ows(&v, &n);
    count = b3_split(v, n, f, len, 4);
    /* A bare sampling decision carries no ids to continue from. */
    if (count == 1 && b3_sampling(f[0], len[0], &sc->trace_flags)) return B3_ABSENT;
    if (count < 2) return B3_INVALID;
    if (!b3_trace_id(f[0], len[0], sc->trace_id) || !b3_span_id(f[1], len[1], sc->span_id))
        return B3_INVALID;
    sc->trace_flags = 0;
    if (count >= 3 && !b3_sampling(f[2], len[2], &sc->trace_flags)) return B3_INVALID;
    if (count == 4 && !b3_span_id(f[3], len[3], parent)) return B3_INVALID;
    return b3_ids_ok(sc) ? B3_OK : B3_INVALID;
}

/* A header value with OWS trimmed; NULL when absent. */
static const char *b3_get(const otelc_carrier *c, const char *key, size_t *n)
{
    const char *v = c->get(c->self, key);

    if (v == NULL) return NULL;
    *n = strlen(v);
    otelc__trim_ows(&v, n);
    return v;
}

static bool b3_value_is(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* X-B3-Flags: 1 (debug) wins over X-B3-Sampled; other flag values mean nothing. */
static bool b3_multi_sampled(const otelc_carrier *c, uint8_t *flags)
{
    size_t dn = 0, sn = 0;
    const char *d = b3_get(c, "x-b3-flags", &dn);
    const char *s = b3_get(c, "x-b3-sampled", &sn);

    *flags = 0;
    if (d != NULL && b3_value_is(d, dn, "1")) {
        *flags = OTELC_TRACE_FLAG_SAMPLED;
        return true;
    }
    if (s == NULL || b3_value_is(s, sn, "0") || b3_value_is(s, sn, "false")) return true;
    if (!b3_value_is(s, sn, "1") && !b3_value_is(s, sn, "true")) return false;
    *flags = OTELC_TRACE_FLAG_SAMPLED;
    return true;
}

static enum b3_result b3_parse_multi(const otelc_carrier *c, otelc_span_context *sc)
{
    size_t tn = 0, sn = 0;
    const char *t = b3_get(c, "x-b3-traceid", &tn);
    const char *s = b3_get(c, "x-b3-spanid", &sn);

    if (t == NULL && s == NULL) return B3_ABSENT;
    if (t == NULL || s == NULL) return B3_INVALID;
    if (!b3_trace_id(t, tn, sc->trace_id) || !b3_span_id(s, sn, sc->span_id)) return B3_INVALID;
    if (!b3_multi_sampled(c, &sc->trace_flags)) return B3_INVALID;
    return b3_ids_ok(sc) ? B3_OK : B3_INVALID;
}

static otelc_context *b3_extract(const otelc_propagator *p, otelc_context *ctx,
                                 const otelc_carrier *carrier)
{
    otelc_span_context sc;
    enum b3_result r;

    memset(&sc, 0, sizeof sc);
    r = b3_parse_single(carrier->get(carrier->self, "b3"), &sc);
    if (r == B3_INVALID) otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
    if (r != B3_OK) {
        memset(&sc, 0, sizeof sc);
        r = b3_parse_multi(carrier, &sc);
        if (r == B3_INVALID) otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
    }
    if (r != B3_OK) return ctx;
    return otelc__ctx_put_span_context(ctx, &sc);
}

/* The ids of ctx in hex; false when there is nothing to send. */
static bool b3_ids(const otelc_context *ctx, char trace[33], char span[17], bool *sampled)
{
    otelc_span_context sc = otelc_context_span_context(ctx);

    if (!otelc_span_context_is_valid(&sc)) return false;
    otelc_trace_id_hex(&sc, trace);
    otelc_span_id_hex(&sc, span);
    *sampled = otelc_span_context_is_sampled(&sc);
    return true;
}

static void b3_inject_single(const otelc_propagator *p, const otelc_context *ctx,
                             const otelc_carrier *carrier)
{
    char trace[33], span[17], value[32 + 1 + 16 + 2 + 1];
    bool sampled;

    if (!b3_ids(ctx, trace, span, &sampled)) return;
    memcpy(value, trace, 32);
    value[32] = '-';
    memcpy(value + 33, span, 16);
    value[49] = '-';
    value[50] = sampled ? '1' : '0';
    value[51] = '\0';
    carrier->set(carrier->self, "b3", value);
}

static void b3_inject_multi(const otelc_propagator *p, const otelc_context *ctx,
                            const otelc_carrier *carrier)
{
    char trace[33], span[17];
    bool sampled;

    if (!b3_ids(ctx, trace, span, &sampled)) return;
    carrier->set(carrier->self, "x-b3-traceid", trace);
    carrier->set(carrier->self, "x-b3-spanid", span);
    carrier->set(carrier->self, "x-b3-sampled", sampled ? "1" : "0");
}

static const otelc_propagator_ops b3_single_ops = {b3_inject_single, b3_extract, NULL};
static const otelc_propagator_ops b3_multi_ops = {b3_inject_multi, b3_extract, NULL};
/* Both read "b3", then the "x-b3-" headers. */
#define B3_LETTERS (OTELC__HEADER_LETTER('b') | OTELC__HEADER_LETTER('x'))
static otelc_propagator b3_single_propagator = {&b3_single_ops, 0, NULL, B3_LETTERS};
static otelc_propagator b3_multi_propagator = {&b3_multi_ops, 0, NULL, B3_LETTERS};

otelc_propagator *otelc_propagator_b3(void)
{
    return &b3_single_propagator;
}

otelc_propagator *otelc_propagator_b3multi(void)
{
    return &b3_multi_propagator;
}
