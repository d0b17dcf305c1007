/*
 * propagation/propagation.h - what the propagation module's files share.
 *
 * A propagator is an ops table. extract() takes ownership of the context it
 * is given and returns the context to continue with (the same one when the
 * carrier held nothing usable), so a composite can chain its parts without
 * extra reference juggling.
 */
#ifndef OTELC_PROPAGATION_INTERNAL_H
#define OTELC_PROPAGATION_INTERNAL_H

#include "internal.h"

typedef struct otelc_propagator_ops {
    void (*inject)(const otelc_propagator *p, const otelc_context *ctx,
                   const otelc_carrier *carrier);
    otelc_context *(*extract)(const otelc_propagator *p, otelc_context *ctx,
                              const otelc_carrier *carrier);
    void (*destroy)(otelc_propagator *p); /* NULL: a static singleton */
} otelc_propagator_ops;

struct otelc_propagator {
    const otelc_propagator_ops *ops;
    size_t count; /* composite only */
    otelc_propagator **parts;
    uint64_t letters; /* OTELC__HEADER_LETTER of every header extract() reads */
};

/* W3C baggage limits. */
#define OTELC_BAGGAGE_MAX_MEMBERS 180
/*
 * The current W3C Baggage text sets no per-member limit: a platform must pass
 * on at least 64 members and everything up to 8192 bytes. One member can
 * therefore use the whole budget; 180 members is the older, larger count.
 */
#define OTELC_BAGGAGE_MAX_MEMBER_BYTES 8192
#define OTELC_BAGGAGE_MAX_BYTES        8192

/* Tracestate limits. */
#define OTELC_TRACESTATE_MAX_MEMBERS 32
#define OTELC_TRACESTATE_MAX_KEY     256
#define OTELC_TRACESTATE_MAX_VALUE   256

/* Space or horizontal tab: the OWS of RFC 7230. */
static inline bool otelc__is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Narrow [*s, *s + *n) to drop leading and trailing OWS. */
static inline void otelc__trim_ows(const char **s, size_t *n)
{
    while (*n > 0 && otelc__is_ows(**s)) (*s)++, (*n)--;
    while (*n > 0 && otelc__is_ows((*s)[*n - 1])) (*n)--;
}

/*
 * Decode 1..2*outlen lowercase hex digits into out, left-padding with
 * zeros (B3 and Jaeger send shorter ids). False on bad length or digit.
 */
bool otelc__hex_decode_padded(const char *in, size_t n, uint8_t *out, size_t outlen);

/*
 * Percent-encode in[0..n) into out, escaping '%' and every byte for which
 * keep() is false. Returns the encoded length; writes at most out_size
 * bytes (no NUL), so call with out_size 0 to measure.
 */
size_t otelc__pct_encode(const char *in, size_t n, bool (*keep)(unsigned char), char *out,
                         size_t out_size);

/*
 * Decode %XX escapes of in[0..n) into out (room for n bytes). Returns the
 * decoded length, or -1 on a malformed escape or an encoded NUL.
 */
int otelc__pct_decode(const char *in, size_t n, char *out);

/* The W3C baggage value octets, which travel unescaped. */
bool otelc__baggage_octet(unsigned char c);

/* otelc_baggage_parse, also counting the members it rejected. */
otelc_baggage *otelc__baggage_parse(const otelc_baggage *base, const char *value, size_t len,
                                    size_t *rejected);

/* True when [s, s + n) is an RFC 7230 token (a valid baggage key). */
bool otelc__is_token(const char *s, size_t n);

/*
 * Read every value of key from the carrier (get_all when it has one),
 * joined with ',' into a malloc'd string. NULL when absent or out of
 * memory.
 */
char *otelc__carrier_get_joined(const otelc_carrier *c, const char *key);

/*
 * The same without a copy for the usual single line: returns the carrier's
 * own value (*owned NULL), or, for several lines, the joined string that
 * *owned then holds for the caller to free. NULL when absent or out of
 * memory.
 */
const char *otelc__carrier_get_lines(const otelc_carrier *c, const char *key, char **owned);

/* Replace ctx's span context with sc (marked remote); consumes ctx. */
otelc_context *otelc__ctx_put_span_context(otelc_context *ctx, const otelc_span_context *sc);

/* Replace ctx's baggage with bg (not consumed); consumes ctx. */
otelc_context *otelc__ctx_put_baggage(otelc_context *ctx, const otelc_baggage *bg);

#endif
