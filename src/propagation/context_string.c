/*
 * context_string.c - a context as one printable string, for job records:
 *
 *   <traceparent>[;tracestate=<pct>][;baggage=<pct>]
 *
 * The traceparent is the W3C one; a context without a valid span context
 * writes all-zero ids so that its baggage still travels. ';' and '%' are
 * percent-encoded inside the parts, so ';' always separates parts.
 */
#include <stdlib.h>
#include <string.h>

#include "propagation.h"

#define TS_PART "tracestate="
#define BG_PART "baggage="

static const char zero_traceparent[] = "00-00000000000000000000000000000000-0000000000000000-00";

static bool part_keep(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != ';';
}

static void put_encoded(otelc_bwriter *s, const char *p, size_t n)
{
    size_t room = s->len < s->size ? s->size - s->len : 0;
    size_t need = otelc__pct_encode(p, n, part_keep, NULL, 0);

    if (need <= room) otelc__pct_encode(p, n, part_keep, s->buf + s->len, room);
    s->len += need;
}

int otelc_context_serialize(const otelc_context *ctx, char *out, size_t out_size)
{
    otelc_span_context sc = otelc_context_span_context(ctx);
    char tp[OTELC_TRACEPARENT_LEN + 1], bag[OTELC_BAGGAGE_MAX_BYTES + 1];
    otelc_bwriter s = {out, out_size, 0};
    bool valid = otelc_span_context_is_valid(&sc);
    int bn;

    if (out == NULL && out_size > 0) return OTELC_ERR_INVALID_ARG;
    if (valid) otelc_traceparent_format(&sc, tp);
    otelc__bw_put(&s, valid ? tp : zero_traceparent, OTELC_TRACEPARENT_LEN);
    if (valid && sc.trace_state && sc.trace_state[0]) {
        otelc__bw_put(&s, ";" TS_PART, 1 + strlen(TS_PART));
        put_encoded(&s, sc.trace_state, strlen(sc.trace_state));
    }
    bn = otelc_baggage_format(otelc_context_baggage(ctx), bag, sizeof bag);
    if (bn > 0 && (size_t)bn < sizeof bag) {
        otelc__bw_put(&s, ";" BG_PART, 1 + strlen(BG_PART));
        put_encoded(&s, bag, (size_t)bn);
    }
    if (s.len > (size_t)INT32_MAX) return OTELC_ERR_INVALID_ARG;
    return (int)otelc__bw_finish(&s);
}

/* ---- Parsing ---------------------------------------------------------------------- */

typedef struct parsed {
    otelc_span_context sc;
    bool valid;
    char *trace_state;
    otelc_baggage *baggage;
} parsed;

/* Percent-decode p[0..n) into a new string; NULL when malformed or empty. */
static char *decode_part(const char *p, size_t n)
{
    char *out;
    int len;

    if (n == 0) return NULL;
    out = malloc(n + 1);
    if (out == NULL) return NULL;
    len = otelc__pct_decode(p, n, out);
    if (len <= 0) {
        free(out);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

static bool take_tracestate(parsed *r, const char *p, size_t n)
{
    char *text = decode_part(p, n);
    char *norm = text ? malloc(strlen(text) + 1) : NULL;
    int len = -1;

    if (norm != NULL && r->trace_state == NULL && r->valid)
        len = otelc_tracestate_normalize(text, strlen(text), norm, strlen(text) + 1);
    free(text);
    if (len <= 0) {
        free(norm);
        return false;
    }
    r->trace_state = norm;
    return true;
}

static bool take_baggage(parsed *r, const char *p, size_t n)
{
    char *text;
    size_t rejected = 0;

    if (r->baggage != NULL) return false;
    text = decode_part(p, n);
    if (text == NULL) return false;
    r->baggage = otelc__baggage_parse(NULL, text, strlen(text), &rejected);
    free(text);
    return r->baggage != NULL && rejected == 0;
}

static bool take_part(parsed *r, const char *p, size_t n)
{
    size_t ts = strlen(TS_PART), bg = strlen(BG_PART);

    if (n > ts && memcmp(p, TS_PART, ts) == 0) return take_tracestate(r, p + ts, n - ts);
    if (n > bg && memcmp(p, BG_PART, bg) == 0) return take_baggage(r, p + bg, n - bg);
    return false;
}

static bool parse_text(const char *text, parsed *r)
{
    const char *pos;

    if (strnlen(text, OTELC_TRACEPARENT_LEN) < OTELC_TRACEPARENT_LEN) return false;
    pos = text + OTELC_TRACEPARENT_LEN;
    if (*pos != '\0' && *pos != ';') return false;
    r->valid = memcmp(text, zero_traceparent, OTELC_TRACEPARENT_LEN) != 0;
    if (r->valid && otelc_traceparent_parse(text, OTELC_TRACEPARENT_LEN, &r->sc) != OTELC_OK)
        return false;
    while (*pos == ';') {
        const char *start = pos + 1, *semi = strchr(start, ';');
        size_t n = semi ? (size_t)(semi - start) : strlen(start);

        if (!take_part(r, start, n)) return false;
        pos = start + n;
    }
    return true;
}

otelc_context *otelc_context_deserialize(const char *text)
{
    parsed r;
    otelc_context *ctx = NULL;

    memset(&r, 0, sizeof r);
    if (text != NULL && parse_text(text, &r)) {
        r.sc.trace_state = r.trace_state;
        r.sc.is_remote = true;
        ctx = otelc_context_new(r.valid ? &r.sc : NULL, r.baggage);
    }
    free(r.trace_state);
    otelc_baggage_release(r.baggage);
    return ctx;
}
