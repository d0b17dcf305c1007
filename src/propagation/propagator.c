/*
 * propagator.c - the propagator object, composites, OTEL_PROPAGATORS style
 * lists, and the entry points that inject into and extract from carriers.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "propagation.h"

/* ---- Helpers shared by the formats ------------------------------------------ */

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool otelc__hex_decode_padded(const char *in, size_t n, uint8_t *out, size_t outlen)
{
    uint8_t tmp[16] = {0};
    size_t pad;

    if (n == 0 || n > 2 * outlen || outlen > sizeof tmp) return false;
    pad = 2 * outlen - n;
    for (size_t i = 0; i < n; i++) {
        int v = hex_nibble(in[i]);
        size_t digit = pad + i;
        if (v < 0) return false;
        tmp[digit / 2] |= (uint8_t)(digit % 2 ? v : v << 4);
    }
    memcpy(out, tmp, outlen);
    return true;
}

/* Collect the lines of key: every one through get_all, else the first. */
static size_t carrier_lines(const otelc_carrier *c, const char *key, const char **vals, size_t max)
{
    size_t n;

    if (c->get_all == NULL) {
        vals[0] = c->get(c->self, key);
        return vals[0] != NULL;
    }
    n = c->get_all(c->self, key, vals, max);
    return n < max ? n : max;
}

/* vals[0..n) joined with ',' into a malloc'd string; NULL when out of memory. */
static char *join_lines(const char *const *vals, size_t n)
{
    size_t total = 0, pos = 0;
    char *out;

    for (size_t i = 0; i < n; i++) total += (vals[i] ? strlen(vals[i]) : 0) + 1;
    out = malloc(total);
    if (out == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len = vals[i] ? strlen(vals[i]) : 0;
        if (i) out[pos++] = ',';
        if (len) memcpy(out + pos, vals[i], len);
        pos += len;
    }
    out[pos] = '\0';
    return out;
}

char *otelc__carrier_get_joined(const otelc_carrier *c, const char *key)
{
    const char *vals[64];
    size_t n = carrier_lines(c, key, vals, 64);

    return n > 0 ? join_lines(vals, n) : NULL;
}

const char *otelc__carrier_get_lines(const otelc_carrier *c, const char *key, char **owned)
{
    const char *vals[64];
    size_t n = carrier_lines(c, key, vals, 64);

    *owned = NULL;
    if (n == 0) return NULL;
    if (n == 1) return vals[0] ? vals[0] : "";
    return *owned = join_lines(vals, n);
}

/*
 * On allocation failure the old context is kept: losing the incoming trace
 * is better than losing everything.
 */
otelc_context *otelc__ctx_put_span_context(otelc_context *ctx, const otelc_span_context *sc)
{
    otelc_span_context copy = *sc;
    otelc_context *next;

    copy.is_remote = true;
    next = otelc_context_with_span_context(ctx, &copy);
    if (next == NULL) return ctx;
    otelc_context_release(ctx);
    return next;
}

otelc_context *otelc__ctx_put_baggage(otelc_context *ctx, const otelc_baggage *bg)
{
    otelc_context *next = otelc_context_with_baggage(ctx, bg);

    if (next == NULL) return ctx;
    otelc_context_release(ctx);
    return next;
}

/* ---- Composite and no-op ---------------------------------------------------- */

static void composite_inject(const otelc_propagator *p, const otelc_context *ctx,
                             const otelc_carrier *carrier)
{
    for (size_t i = 0; i < p->count; i++) p->parts[i]->ops->inject(p->parts[i], ctx, carrier);
}

static otelc_context *composite_extract(const otelc_propagator *p, otelc_context *ctx,
                                        const otelc_carrier *carrier)
{
    for (size_t i = 0; i < p->count; i++)
        ctx = p->parts[i]->ops->extract(p->parts[i], ctx, carrier);
    return ctx;
}

static void composite_destroy(otelc_propagator *p)
{
    for (size_t i = 0; i < p->count; i++) otelc_propagator_free(p->parts[i]);
    free(p->parts);
    free(p);
}

static const otelc_propagator_ops composite_ops = {composite_inject, composite_extract,
                                                   composite_destroy};

/* part as the composite p's next one (p->parts has room): its headers' letters are p's too. */
static void composite_add(otelc_propagator *p, otelc_propagator *part)
{
    p->parts[p->count++] = part;
    p->letters |= part->letters;
}

otelc_propagator *otelc_propagator_composite(otelc_propagator *const *parts, size_t count)
{
    otelc_propagator *p = calloc(1, sizeof *p);

    if (p == NULL) return NULL;
    if (parts == NULL) count = 0;
    if (count > 0) {
        p->parts = calloc(count, sizeof *p->parts);
        if (p->parts == NULL) {
            free(p);
            return NULL;
        }
    }
    p->ops = &composite_ops;
    for (size_t i = 0; i < count; i++)
        if (parts[i] != NULL) composite_add(p, parts[i]);
    return p;
}

void otelc_propagator_free(otelc_propagator *p)
{
    if (p != NULL && p->ops->destroy != NULL) p->ops->destroy(p);
}

/* ---- Lists ---------------------------------------------------------------------- */

typedef struct named_propagator {
    const char *name;
    otelc_propagator *(*make)(void);
} named_propagator;

static const named_propagator known[] = {
    {"tracecontext", otelc_propagator_tracecontext},
    {"baggage", otelc_propagator_baggage},
    {"b3", otelc_propagator_b3},
    {"b3multi", otelc_propagator_b3multi},
    {"jaeger", otelc_propagator_jaeger},
};

#define MAX_LIST_PARTS 16

/* The propagator called name[0..n), NULL with *none set for "none". */
static otelc_propagator *lookup(const char *name, size_t n, bool *none)
{
    *none = n == 4 && strncasecmp(name, "none", 4) == 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].name) == n && strncasecmp(known[i].name, name, n) == 0)
            return known[i].make();
    return NULL;
}

/* "none" anywhere in the list disables propagation altogether. */
otelc_propagator *otelc_propagator_from_list(const char *list, int *bad)
{
    otelc_propagator *parts[MAX_LIST_PARTS];
    size_t count = 0;
    const char *pos = list ? list : "", *end = pos + strlen(pos);
    bool any_none = false;

    if (bad) *bad = 0;
    while (pos < end) {
        const char *comma = memchr(pos, ',', (size_t)(end - pos));
        const char *s = pos;
        size_t n = (size_t)((comma ? comma : end) - pos);
        bool none;
        otelc_propagator *part;

        pos = comma ? comma + 1 : end;
        otelc__trim_ows(&s, &n);
        if (n == 0) continue;
        part = lookup(s, n, &none);
        any_none |= none;
        if (part == NULL && !none) {
            otelc__log(OTELC_LOG_WARN, "unknown propagator '%.*s' ignored", (int)n, s);
            if (bad) (*bad)++;
        }
        if (part != NULL && count < MAX_LIST_PARTS) parts[count++] = part;
    }
    return otelc_propagator_composite(parts, any_none ? 0 : count);
}

/* ---- Inject and extract ------------------------------------------------------ */

void otelc_propagator_inject(const otelc_propagator *p, const otelc_context *ctx,
                             const otelc_carrier *carrier)
{
    otelc_context *current = NULL;

    if (p == NULL || carrier == NULL || carrier->set == NULL) return;
    if (ctx == NULL) ctx = current = otelc_context_current();
    p->ops->inject(p, ctx, carrier);
    otelc_context_release(current);
}

otelc_context *otelc_propagator_extract(const otelc_propagator *p, const otelc_context *base,
                                        const otelc_carrier *carrier)
{
    otelc_context *ctx = base ? otelc_context_retain(base) : otelc__context_empty();

    if (ctx == NULL || p == NULL || carrier == NULL || carrier->get == NULL) return ctx;
    return p->ops->extract(p, ctx, carrier);
}

/* Used when no provider is installed: the specification's default pair. */
static otelc_propagator *default_parts[2];
static otelc_propagator default_propagator;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
    default_propagator.ops = &composite_ops;
    default_propagator.parts = default_parts;
    composite_add(&default_propagator, otelc_propagator_tracecontext());
    composite_add(&default_propagator, otelc_propagator_baggage());
}

static const otelc_propagator *global_propagator(void)
{
    otelc_provider *provider = otelc__provider_global();
    const otelc_propagator *p = provider ? provider->propagator : NULL;

    if (p != NULL) return p;
    pthread_once(&default_once, default_init);
    return &default_propagator;
}

void otelc_inject(const otelc_context *ctx, const otelc_carrier *carrier)
{
    otelc_propagator_inject(global_propagator(), ctx, carrier);
}

otelc_context *otelc_extract(const otelc_carrier *carrier)
{
    return otelc_propagator_extract(global_propagator(), NULL, carrier);
}

otelc_context *otelc__extract_lettered(const otelc_carrier *carrier, uint64_t letters)
{
    const otelc_propagator *p = global_propagator();

    if (!(letters & p->letters)) return otelc__context_empty();
    return otelc_propagator_extract(p, NULL, carrier);
}
