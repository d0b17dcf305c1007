/*
 * jaeger.c - the Jaeger "uber-trace-id" header and "uberctx-" baggage.
 *
 * uber-trace-id is {trace-id}:{span-id}:{parent-span-id}:{flags}. Jaeger
 * clients drop leading zeros from ids and some URL-encode the colons, so
 * the reader is lenient in exactly those two ways. The parent id is
 * deprecated: we send 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "propagation.h"

#define UBER_HEADER       "uber-trace-id"
#define UBER_BAGGAGE      "uberctx-"
#define UBER_BAGGAGE_LEN  8
#define UBER_MAX_LEN      128
#define UBER_MAX_BAGGAGE  64
#define UBER_FLAG_SAMPLED 0x01

/* Copy v to out with every %3A turned into ':'; false if too long. */
static bool uber_unescape(const char *v, char out[UBER_MAX_LEN + 1], size_t *n)
{
    size_t len = 0;

    for (size_t i = 0; v[i] != '\0'; i++) {
        if (len == UBER_MAX_LEN) return false;
        if (v[i] == '%' && v[i + 1] == '3' && (v[i + 2] == 'A' || v[i + 2] == 'a')) {
            out[len++] = ':';
            i += 2;
        } else {
            out[len++] = v[i];
        }
    }
    out[len] = '\0';
    *n = len;
    return true;
}

static bool uber_parse(const char *v, otelc_span_context *sc)
{
    char buf[UBER_MAX_LEN + 1];
    const char *f[4], *s = buf;
    size_t len[4], n, count = 0;
    uint8_t parent[8], flags;

    if (!uber_unescape(v, buf, &n)) return false;
    otelc__trim_ows(&s, &n);
    for (const char *end = s + n; count < 4; count++) {
        const char *colon = memchr(s, ':', (size_t)(end - s));
        f[count] = s;
        len[count] = (size_t)((colon ? colon : end) - s);
        if (colon == NULL) break;
        s = colon + 1;
    }
    if (count != 3) return false;
    if (!otelc__hex_decode_padded(f[0], len[0], sc->trace_id, 16) ||
        !otelc__hex_decode_padded(f[1], len[1], sc->span_id, 8) ||
        !otelc__hex_decode_padded(f[2], len[2], parent, 8) ||
        !otelc__hex_decode_padded(f[3], len[3], &flags, 1))
        return false;
    sc->trace_flags = (flags & UBER_FLAG_SAMPLED) ? OTELC_TRACE_FLAG_SAMPLED : 0;
    return !otelc__is_zero(sc->trace_id, 16) && !otelc__is_zero(sc->span_id, 8);
}

/* Add one uberctx-{key} header to *bg; false when it is malformed. */
static bool uber_baggage_one(const otelc_carrier *c, const char *name, otelc_baggage **bg)
{
    const char *key = name + UBER_BAGGAGE_LEN;
    const char *raw = c->get(c->self, name);
    otelc_baggage *next;
    char *value;
    int n;

    if (raw == NULL || !otelc__is_token(key, strlen(key))) return false;
    value = malloc(strlen(raw) + 1);
    if (value == NULL) return true;
    n = otelc__pct_decode(raw, strlen(raw), value);
    if (n >= 0) {
        value[n] = '\0';
        next = otelc_baggage_set(*bg, key, value, NULL);
        if (next != NULL) {
            otelc_baggage_release(*bg);
            *bg = next;
        }
    }
    free(value);
    return n >= 0;
}

static otelc_context *uber_extract_baggage(otelc_context *ctx, const otelc_carrier *c)
{
    const char *names[UBER_MAX_BAGGAGE];
    size_t n, rejected = 0;
    otelc_baggage *bg;

    if (c->keys == NULL) return ctx;
    n = c->keys(c->self, names, UBER_MAX_BAGGAGE);
    if (n > UBER_MAX_BAGGAGE) n = UBER_MAX_BAGGAGE;
    bg = otelc_baggage_retain(otelc_context_baggage(ctx));
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL || strncasecmp(names[i], UBER_BAGGAGE, UBER_BAGGAGE_LEN) != 0)
            continue;
        if (!uber_baggage_one(c, names[i], &bg)) rejected++;
    }
    if (rejected) otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
    if (bg != otelc_context_baggage(ctx)) ctx = otelc__ctx_put_baggage(ctx, bg);
    otelc_baggage_release(bg);
    return ctx;
}

static otelc_context *uber_extract(const otelc_propagator *p, otelc_context *ctx,
                                   const otelc_carrier *carrier)
{
    const char *v = carrier->get(carrier->self, UBER_HEADER);
    otelc_span_context sc;

    memset(&sc, 0, sizeof sc);
    if (v != NULL && uber_parse(v, &sc))
        ctx = otelc__ctx_put_span_context(ctx, &sc);
    else if (v != NULL)
        otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
    return uber_extract_baggage(ctx, carrier);
}

static bool uber_keep(unsigned char c)
{
    return otelc__baggage_octet(c);
}

static void uber_inject_baggage(const otelc_baggage *bg, const otelc_carrier *c)
{
    const char *key, *value;

    for (size_t i = 0; otelc_baggage_entry(bg, i, &key, &value, NULL); i++) {
        size_t klen = strlen(key), vlen = strlen(value);
        size_t enc = otelc__pct_encode(value, vlen, uber_keep, NULL, 0);
        char *name = malloc(UBER_BAGGAGE_LEN + klen + 1 + enc + 1);

        if (name == NULL) return;
        memcpy(name, UBER_BAGGAGE, UBER_BAGGAGE_LEN);
        memcpy(name + UBER_BAGGAGE_LEN, key, klen + 1);
        /* The encoded value shares the allocation, after the name's NUL. */
        otelc__pct_encode(value, vlen, uber_keep, name + UBER_BAGGAGE_LEN + klen + 1, enc);
        name[UBER_BAGGAGE_LEN + klen + 1 + enc] = '\0';
        c->set(c->self, name, name + UBER_BAGGAGE_LEN + klen + 1);
        free(name);
    }
}

static void uber_inject(const otelc_propagator *p, const otelc_context *ctx,
                        const otelc_carrier *carrier)
{
    otelc_span_context sc = otelc_context_span_context(ctx);
    char trace[33], span[17], value[64];

    if (otelc_span_context_is_valid(&sc)) {
        otelc_trace_id_hex(&sc, trace);
        otelc_span_id_hex(&sc, span);
        snprintf(value, sizeof value, "%s:%s:0:%s", trace, span,
                 otelc_span_context_is_sampled(&sc) ? "01" : "00");
        carrier->set(carrier->self, UBER_HEADER, value);
    }
    uber_inject_baggage(otelc_context_baggage(ctx), carrier);
}

static const otelc_propagator_ops jaeger_ops = {uber_inject, uber_extract, NULL};
/* uber-trace-id and the uberctx- baggage headers. */
static otelc_propagator jaeger_propagator = {&jaeger_ops, 0, NULL, OTELC__HEADER_LETTER('u')};

otelc_propagator *otelc_propagator_jaeger(void)
{
    return &jaeger_propagator;
}
