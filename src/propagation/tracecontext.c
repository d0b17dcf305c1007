/*
 * tracecontext.c - W3C Trace Context: traceparent, tracestate and the
 * tracecontext propagator.
 *
 * traceparent parsing runs on every incoming request, so it works in place
 * and never allocates. tracestate is opaque to us: it is only validated,
 * normalised and carried along.
 */
#include <stdlib.h>
#include <string.h>

#include "propagation.h"

#define TP_VERSION_LEN 2
#define TP_FLAGS_KNOWN (OTELC_TRACE_FLAG_SAMPLED | OTELC_TRACE_FLAG_RANDOM)

/* ---- traceparent ---------------------------------------------------------- */

static bool hex_byte(const char *s, uint8_t *out)
{
    return otelc__hex_decode(s, 1, out);
}

/*
 * Version 00 is exactly 55 characters. A later version may append fields,
 * which must start with '-'; we read only the four fields we know so that
 * a newer sender still propagates through us.
 */
static bool tp_length_ok(uint8_t version, const char *s, size_t n)
{
    if (n == OTELC_TRACEPARENT_LEN) return true;
    if (version == 0 || n < OTELC_TRACEPARENT_LEN) return false;
    return s[OTELC_TRACEPARENT_LEN] == '-';
}

int otelc_traceparent_parse(const char *value, size_t len, otelc_span_context *sc)
{
    otelc_span_context tmp;
    uint8_t version;

    if (value == NULL || sc == NULL) return OTELC_ERR_PARSE;
    otelc__trim_ows(&value, &len);
    if (len < OTELC_TRACEPARENT_LEN) return OTELC_ERR_PARSE;
    if (!hex_byte(value, &version) || version == 0xff) return OTELC_ERR_PARSE;
    if (!tp_length_ok(version, value, len)) return OTELC_ERR_PARSE;
    if (value[2] != '-' || value[35] != '-' || value[52] != '-') return OTELC_ERR_PARSE;

    memset(&tmp, 0, sizeof tmp);
    if (!otelc__hex_decode(value + 3, 16, tmp.trace_id)) return OTELC_ERR_PARSE;
    if (!otelc__hex_decode(value + 36, 8, tmp.span_id)) return OTELC_ERR_PARSE;
    if (!hex_byte(value + 53, &tmp.trace_flags)) return OTELC_ERR_PARSE;
    if (otelc__is_zero(tmp.trace_id, 16) || otelc__is_zero(tmp.span_id, 8)) return OTELC_ERR_PARSE;
    tmp.trace_flags &= TP_FLAGS_KNOWN;
    tmp.is_remote = true;
    *sc = tmp;
    return OTELC_OK;
}

int otelc_traceparent_format(const otelc_span_context *sc, char out[56])
{
    uint8_t flags = sc->trace_flags & TP_FLAGS_KNOWN;

    memcpy(out, "00-", 3);
    otelc__hex_encode(sc->trace_id, 16, out + 3);
    out[35] = '-';
    otelc__hex_encode(sc->span_id, 8, out + 36);
    out[52] = '-';
    otelc__hex_encode(&flags, 1, out + 53);
    out[55] = '\0';
    return OTELC_TRACEPARENT_LEN;
}

/* ---- tracestate -------------------------------------------------------------- */

/*
 * What each byte may be in a tracestate member, one lookup per character
 * (every incoming tracestate is checked): TS_KEY_FIRST lcalpha and DIGIT,
 * TS_KEY those and '_', '-', '*', '/', '@', TS_VALUE printable ASCII but
 * ',' and '='.
 */
enum { TS_KEY_FIRST = 1, TS_KEY = 2, TS_VALUE = 4 };
static const uint8_t ts_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6, 4, 0, 6, 4, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 4, 4, 4, 0, 4, 4,
    6, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6,
    4, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 4, 4, 4, 4, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static unsigned ts_class_of(char c)
{
    return ts_class[(unsigned char)c];
}

/* Level 2 key: (lcalpha / DIGIT) 0*255(keychar), '@' allowed anywhere. */
static bool ts_key_valid(const char *k, size_t n)
{
    unsigned all = TS_KEY;
    if (n == 0 || n > OTELC_TRACESTATE_MAX_KEY || !(ts_class_of(k[0]) & TS_KEY_FIRST)) return false;
    for (size_t i = 1; i < n; i++) all &= ts_class_of(k[i]);
    return all != 0;
}

static bool ts_value_valid(const char *v, size_t n)
{
    unsigned all = TS_VALUE;
    if (n == 0 || n > OTELC_TRACESTATE_MAX_VALUE || v[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) all &= ts_class_of(v[i]);
    return all != 0;
}

/* One list member, borrowed from the text being scanned. */
typedef struct ts_member {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} ts_member;

/*
 * Split the member at s[0..n) (OWS already trimmed) into key and value.
 * False when it is malformed.
 */
static bool ts_member_split(const char *s, size_t n, ts_member *m)
{
    const char *eq = memchr(s, '=', n);

    if (eq == NULL) return false;
    m->key = s;
    m->key_len = (size_t)(eq - s);
    m->value = eq + 1;
    m->value_len = n - m->key_len - 1;
    return ts_key_valid(m->key, m->key_len) && ts_value_valid(m->value, m->value_len);
}

/*
 * Advance over one comma-separated element of [*pos, end): returns the
 * element trimmed of OWS (possibly empty) and moves *pos past its comma.
 */
static const char *ts_next(const char **pos, const char *end, size_t *n)
{
    const char *s = *pos;
    const char *comma = memchr(s, ',', (size_t)(end - s));
    const char *stop = comma ? comma : end;

    *n = (size_t)(stop - s);
    *pos = comma ? comma + 1 : end;
    otelc__trim_ows(&s, n);
    return s;
}

static bool ts_seen(const ts_member *seen, size_t count, const ts_member *m)
{
    for (size_t i = 0; i < count; i++)
        if (seen[i].key_len == m->key_len && memcmp(seen[i].key, m->key, m->key_len) == 0)
            return true;
    return false;
}

/* Append "key=value" (comma-separated) to out at *len; false if no room. */
static bool ts_append(char *out, size_t out_size, size_t *len, const ts_member *m)
{
    size_t need = (*len ? 1 : 0) + m->key_len + 1 + m->value_len;

    if (*len + need + 1 > out_size) return false;
    if (*len) out[(*len)++] = ',';
    memcpy(out + *len, m->key, m->key_len);
    *len += m->key_len;
    out[(*len)++] = '=';
    memcpy(out + *len, m->value, m->value_len);
    *len += m->value_len;
    out[*len] = '\0';
    return true;
}

int otelc_tracestate_normalize(const char *value, size_t len, char *out, size_t out_size)
{
    ts_member seen[OTELC_TRACESTATE_MAX_MEMBERS];
    const char *pos = value, *end = value + len;
    size_t count = 0, written = 0;

    if (out == NULL || out_size == 0 || (value == NULL && len > 0)) return OTELC_ERR_INVALID_ARG;
    out[0] = '\0';
    while (pos < end) {
        size_t n;
        const char *s = ts_next(&pos, end, &n);
        ts_member m;

        if (n == 0) continue;
        if (!ts_member_split(s, n, &m)) goto invalid;
        /*
         * A key seen before: the list is still inherited, without the later
         * member (the W3C's Level 2 test suite accepts dropping either).
         */
        if (ts_seen(seen, count, &m)) continue;
        if (count == OTELC_TRACESTATE_MAX_MEMBERS) goto invalid;
        if (!ts_append(out, out_size, &written, &m)) {
            out[0] = '\0';
            return OTELC_ERR_INVALID_ARG;
        }
        seen[count++] = m;
    }
    return (int)written;

invalid:
    out[0] = '\0';
    return OTELC_ERR_PARSE;
}

/* Find key in a normalised list; fills *m when present. */
static bool ts_find(const char *in, const char *key, ts_member *m)
{
    const char *pos = in, *end = in + strlen(in);
    size_t key_len = strlen(key);

    while (pos < end) {
        size_t n;
        const char *s = ts_next(&pos, end, &n);
        if (n == 0 || !ts_member_split(s, n, m)) continue;
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0) return true;
    }
    return false;
}

static bool ranges_overlap(const char *a, size_t an, const char *b, size_t bn)
{
    return a < b + bn && b < a + an;
}

int otelc_tracestate_set(const char *in, const char *key, const char *value, char *out,
                         size_t out_size)
{
    ts_member mine = {key, 0, value, 0};
    const char *pos, *end;
    size_t written = 0, count = 1;

    if (key == NULL || value == NULL || out == NULL || out_size == 0) return OTELC_ERR_INVALID_ARG;
    if (in == NULL) in = "";
    if (ranges_overlap(in, strlen(in) + 1, out, out_size)) return OTELC_ERR_INVALID_ARG;
    mine.key_len = strlen(key);
    mine.value_len = strlen(value);
    if (!ts_key_valid(key, mine.key_len) || !ts_value_valid(value, mine.value_len))
        return OTELC_ERR_INVALID_ARG;
    if (!ts_append(out, out_size, &written, &mine)) return OTELC_ERR_INVALID_ARG;

    pos = in;
    end = in + strlen(in);
    while (pos < end && count < OTELC_TRACESTATE_MAX_MEMBERS) {
        size_t n;
        const char *s = ts_next(&pos, end, &n);
        ts_member m;

        if (n == 0 || !ts_member_split(s, n, &m)) continue;
        if (m.key_len == mine.key_len && memcmp(m.key, key, m.key_len) == 0) continue;
        if (!ts_append(out, out_size, &written, &m)) {
            out[0] = '\0';
            return OTELC_ERR_INVALID_ARG;
        }
        count++;
    }
    return (int)written;
}

bool otelc_tracestate_get(const char *in, const char *key, char *out, size_t out_size)
{
    ts_member m;

    if (in == NULL || key == NULL || out == NULL) return false;
    if (!ts_find(in, key, &m) || m.value_len + 1 > out_size) return false;
    memcpy(out, m.value, m.value_len);
    out[m.value_len] = '\0';
    return true;
}

/* ---- The propagator ------------------------------------------------------------ */

static void tc_inject(const otelc_propagator *p, const otelc_context *ctx,
                      const otelc_carrier *carrier)
{
    otelc_span_context sc = otelc_context_span_context(ctx);
    char tp[OTELC_TRACEPARENT_LEN + 1];

    if (!otelc_span_context_is_valid(&sc)) return;
    otelc_traceparent_format(&sc, tp);
    carrier->set(carrier->self, "traceparent", tp);
    if (sc.trace_state && sc.trace_state[0])
        carrier->set(carrier->self, "tracestate", sc.trace_state);
}

/*
 * Exactly one traceparent line is acceptable: with two, we cannot know
 * which one is the caller's, so the spec treats the request as untraced.
 */
static bool tc_read_traceparent(const otelc_carrier *c, otelc_span_context *sc, bool *present)
{
    const char *vals[2];
    size_t n;

    if (c->get_all) {
        n = c->get_all(c->self, "traceparent", vals, 2);
    } else {
        vals[0] = c->get(c->self, "traceparent");
        n = vals[0] != NULL;
    }
    *present = n > 0;
    if (n != 1 || vals[0] == NULL) return false;
    return otelc_traceparent_parse(vals[0], strlen(vals[0]), sc) == OTELC_OK;
}

/* Room for a usual normalised tracestate on the stack; a longer one is malloc'd. */
#define TS_INLINE 512

/*
 * Normalise the incoming tracestate into out (TS_INLINE bytes) or, when
 * longer, into a malloc'd buffer that *heap then holds. NULL when absent or
 * invalid. Normalising never lengthens a list.
 */
static const char *tc_read_tracestate(const otelc_carrier *c, char *out, char **heap)
{
    char *joined;
    const char *in = otelc__carrier_get_lines(c, "tracestate", &joined);
    size_t len = in ? strlen(in) : 0;
    int n = 0;

    *heap = NULL;
    if (in != NULL && len >= TS_INLINE) out = *heap = malloc(len + 1);
    if (in != NULL && out != NULL) n = otelc_tracestate_normalize(in, len, out, len + 1);
    free(joined);
    if (n < 0) otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
    return n > 0 ? out : NULL;
}

static otelc_context *tc_extract(const otelc_propagator *p, otelc_context *ctx,
                                 const otelc_carrier *carrier)
{
    otelc_span_context sc;
    bool present;
    char ts[TS_INLINE], *heap;

    if (!tc_read_traceparent(carrier, &sc, &present)) {
        if (present) otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
        return ctx;
    }
    sc.trace_state = tc_read_tracestate(carrier, ts, &heap);
    ctx = otelc__ctx_put_span_context(ctx, &sc);
    free(heap);
    return ctx;
}

static const otelc_propagator_ops tracecontext_ops = {tc_inject, tc_extract, NULL};
static otelc_propagator tracecontext_propagator = {&tracecontext_ops, 0, NULL,
                                                   OTELC__HEADER_LETTER('t')};

otelc_propagator *otelc_propagator_tracecontext(void)
{
    return &tracecontext_propagator;
}
