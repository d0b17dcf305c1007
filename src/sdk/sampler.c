/*
 * sampler.c - the built-in samplers and the wrapper for user samplers.
 *
 * Samplers run on every span start, so the built-ins are dispatched with a
 * switch rather than through function pointers, and none of them allocates
 * or locks. always_on and always_off are static singletons.
 *
 * TraceIdRatioBased follows the current specification (consistent
 * probability sampling): the ratio becomes a 56-bit rejection threshold T,
 * the randomness R is the trace id's right-most 7 bytes (or an explicit
 * "rv" in the parent's OpenTelemetry tracestate entry), and a span is
 * sampled when R >= T. Every service using the same ratio therefore agrees,
 * and a higher ratio samples a superset. Sampled spans carry "th:<T>" in the
 * "ot" tracestate entry so downstream consumers know the probability.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RANDOMNESS_BITS 56
#define MAX_THRESHOLD   (1ULL << RANDOMNESS_BITS) /* rejects everything */
#define TH_DIGITS       4                         /* the spec's default precision */
#define OT_VALUE_MAX    256

enum sampler_kind {
    KIND_USER,
    KIND_ALWAYS_ON,
    KIND_ALWAYS_OFF,
    KIND_RATIO,
    KIND_PARENT,
    KIND_RATE
};

struct otelc_sampler {
    enum sampler_kind kind;
    bool is_static;
    char *owned_description; /* parent-based: built from the delegates */
    union {
        struct {
            const otelc_sampler_ops *ops;
            void *self;
        } user;
        struct {
            uint64_t threshold; /* MAX_THRESHOLD: never sample */
            char th[16];        /* threshold as a tracestate th value */
        } ratio;
        otelc_sampler *delegate[5];
        struct {
            uint64_t interval_ns;
            uint64_t burst_ns;
        } rate;
    } u;
    _Atomic uint64_t rate_tat; /* rate limiter: theoretical arrival time of the next trace */
    char description[64];
};

static otelc_sampler always_on_sampler = {
    .kind = KIND_ALWAYS_ON, .is_static = true, .description = "AlwaysOnSampler"};
static otelc_sampler always_off_sampler = {
    .kind = KIND_ALWAYS_OFF, .is_static = true, .description = "AlwaysOffSampler"};

static otelc_sampler *sampler_alloc(enum sampler_kind kind)
{
    otelc_sampler *s = calloc(1, sizeof *s);
    if (s) s->kind = kind;
    return s;
}

otelc_sampler *otelc_sampler_always_on(void)
{
    return &always_on_sampler;
}

otelc_sampler *otelc_sampler_always_off(void)
{
    return &always_off_sampler;
}

otelc_sampler *otelc_sampler_new(const otelc_sampler_ops *ops, void *self)
{
    if (!ops || !ops->should_sample) {
        if (ops && ops->destroy) ops->destroy(self);
        return NULL;
    }
    otelc_sampler *s = sampler_alloc(KIND_USER);
    if (!s) {
        if (ops->destroy) ops->destroy(self);
        return NULL;
    }
    s->u.user.ops = ops;
    s->u.user.self = self;
    return s;
}

void otelc_sampler_free(otelc_sampler *s)
{
    if (!s || s->is_static) return;
    if (s->kind == KIND_USER && s->u.user.ops->destroy) s->u.user.ops->destroy(s->u.user.self);
    if (s->kind == KIND_PARENT) {
        for (int i = 0; i < 5; i++) otelc_sampler_free(s->u.delegate[i]);
    }
    free(s->owned_description);
    free(s);
}

bool otelc__sampler_reads_attributes(const otelc_sampler *s)
{
    if (!s) return false;
    if (s->kind == KIND_USER) return true;
    if (s->kind != KIND_PARENT) return false;
    for (int i = 0; i < 5; i++)
        if (otelc__sampler_reads_attributes(s->u.delegate[i])) return true;
    return false;
}

const char *otelc_sampler_description(const otelc_sampler *s)
{
    if (!s) return "";
    if (s->kind == KIND_USER) {
        const char *d =
            s->u.user.ops->description ? s->u.user.ops->description(s->u.user.self) : NULL;
        return d ? d : "UserSampler";
    }
    return s->owned_description ? s->owned_description : s->description;
}

/* ---- TraceIdRatioBased ---------------------------------------------------- */

/*
 * The rejection threshold (1 - ratio) * 2^56, rounded to TH_DIGITS
 * significant hex digits so the tracestate stays short. Digits spent on the
 * leading f's of tiny ratios do not count, or 1e-6 would round to "never".
 */
static uint64_t ratio_threshold(double ratio)
{
    if (ratio >= 1.0) return 0;
    if (ratio < ldexp(1.0, -RANDOMNESS_BITS)) ratio = ldexp(1.0, -RANDOMNESS_BITS);

    int exp;
    frexp(ratio, &exp);
    int digits = TH_DIGITS + (exp < 0 ? -exp / 4 : 0);
    if (digits > 12) digits = 12;

    uint64_t keep = (uint64_t)llround(ldexp(ratio, RANDOMNESS_BITS));
    uint64_t t = MAX_THRESHOLD - keep;
    uint64_t unit = 1ULL << (RANDOMNESS_BITS - 4 * digits);
    t = (t + unit / 2) / unit * unit;
    /* Rounding up to 2^56 would reject everything; keep the largest real threshold. */
    if (t >= MAX_THRESHOLD) t = MAX_THRESHOLD - unit;
    return t;
}

/* th value: 14 hex digits with trailing zeros dropped ("0" for zero). */
static void threshold_format(uint64_t t, char out[16])
{
    char hex[17];
    int n = snprintf(hex, sizeof hex, "%014llx", (unsigned long long)t);
    while (n > 1 && hex[n - 1] == '0') n--;
    memcpy(out, hex, (size_t)n);
    out[n] = '\0';
}

/*
 * "%f" as the spec's example, unless six decimals would make two different
 * ratios look alike: then the shortest form that reads back exactly.
 */
static void ratio_describe(double ratio, char *out, size_t size)
{
    const size_t prefix = sizeof "TraceIdRatioBased{" - 1;
    snprintf(out, size, "TraceIdRatioBased{%f}", ratio);
    if (strtod(out + prefix, NULL) == ratio) return;
    for (int prec = 7; prec <= 17; prec++) {
        snprintf(out, size, "TraceIdRatioBased{%.*g}", prec, ratio);
        if (strtod(out + prefix, NULL) == ratio) return;
    }
}

otelc_sampler *otelc_sampler_trace_id_ratio(double ratio)
{
    if (isnan(ratio) || ratio < 0.0 || ratio > 1.0) {
        otelc__log(OTELC_LOG_WARN, "trace id ratio %g is outside [0, 1]; clamped", ratio);
        ratio = isnan(ratio) || ratio < 0.0 ? 0.0 : 1.0;
    }
    otelc_sampler *s = sampler_alloc(KIND_RATIO);
    if (!s) return NULL;
    /* Zero is not a probability (the spec's minimum is 2^-56): never sample. */
    s->u.ratio.threshold = ratio > 0.0 ? ratio_threshold(ratio) : MAX_THRESHOLD;
    if (s->u.ratio.threshold < MAX_THRESHOLD) threshold_format(s->u.ratio.threshold, s->u.ratio.th);
    ratio_describe(ratio, s->description, sizeof s->description);
    return s;
}

static bool hex_value56(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

/* The parent's "ot" tracestate value, when it has one. */
static bool ot_value(const otelc_span_context *parent, char out[OT_VALUE_MAX + 1])
{
    const char *ts = parent ? parent->trace_state : NULL;
    if (!ts || !strstr(ts, "ot=")) return false;
    return otelc_tracestate_get(ts, "ot", out, OT_VALUE_MAX + 1);
}

/* An explicit randomness value "rv:<14 hex digits>" in the ot entry. */
static bool explicit_randomness(const char *ot, uint64_t *rv)
{
    for (const char *p = ot; *p;) {
        size_t n = strcspn(p, ";");
        if (n == 17 && strncmp(p, "rv:", 3) == 0 && hex_value56(p + 3, 14, rv)) return true;
        p += n + (p[n] == ';');
    }
    return false;
}

static uint64_t trace_id_randomness(const uint8_t *trace_id)
{
    return otelc__trace_id_randomness(trace_id);
}

/*
 * Presuming randomness in a trace id another SDK made is what the spec asks,
 * but an old SDK may not have made it random: say so once, as the spec
 * suggests.
 */
static void warn_not_random_once(void)
{
    static _Atomic bool warned;
    if (!atomic_exchange_explicit(&warned, true, memory_order_relaxed))
        otelc__log(OTELC_LOG_WARN,
                   "TraceIdRatioBased sampler presumes trace ids are random but the parent "
                   "lacks the W3C random flag; upgrade callers to W3C Trace Context Level 2");
}

/*
 * Replace any th sub-key of ot with th, keeping the other sub-keys (rv,
 * vendor extensions). False when the result would exceed the spec's limit.
 */
static bool ot_with_threshold(const char *ot, const char *th, char out[OT_VALUE_MAX + 1])
{
    int len = snprintf(out, OT_VALUE_MAX + 1, "th:%s", th);
    for (const char *p = ot; *p;) {
        size_t n = strcspn(p, ";");
        if (n > 0 && strncmp(p, "th:", 3) != 0) {
            if ((size_t)len + 1 + n > OT_VALUE_MAX) return false;
            out[len++] = ';';
            memcpy(out + len, p, n);
            len += (int)n;
            out[len] = '\0';
        }
        p += n + (p[n] == ';');
    }
    return true;
}

static void record_threshold(const otelc_sampler *s, const otelc_span_context *parent, bool has_ot,
                             const char *ot, otelc_sampling_result *result)
{
    const char *ts = parent ? parent->trace_state : NULL;
    char value[OT_VALUE_MAX + 1];

    if (!ts || !*ts) {
        snprintf(result->trace_state_buf, sizeof result->trace_state_buf, "ot=th:%s",
                 s->u.ratio.th);
        result->trace_state = result->trace_state_buf;
        return;
    }
    if (!ot_with_threshold(has_ot ? ot : "", s->u.ratio.th, value)) return;
    if (otelc_tracestate_set(ts, "ot", value, result->trace_state_buf,
                             sizeof result->trace_state_buf) >= 0)
        result->trace_state = result->trace_state_buf;
}

/* The decision when the parent's tracestate may carry an "ot" entry (its buffers kept off the usual
 * path). */
static __attribute__((noinline)) void ratio_with_ot(const otelc_sampler *s,
                                                    const otelc_sampling_params *params,
                                                    otelc_sampling_result *result)
{
    const otelc_span_context *parent = params->parent;
    char ot[OT_VALUE_MAX + 1];
    bool has_ot = ot_value(parent, ot);
    uint64_t r;

    if (!has_ot || !explicit_randomness(ot, &r)) {
        if (parent && !(parent->trace_flags & OTELC_TRACE_FLAG_RANDOM)) warn_not_random_once();
        r = trace_id_randomness(params->trace_id);
    }
    if (r < s->u.ratio.threshold) return;
    result->decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
    record_threshold(s, parent, has_ot, ot, result);
}

static void ratio_should_sample(const otelc_sampler *s, const otelc_sampling_params *params,
                                otelc_sampling_result *result)
{
    const otelc_span_context *parent = params->parent;
    uint64_t r;

    result->decision = OTELC_SAMPLING_DROP;
    if (s->u.ratio.threshold >= MAX_THRESHOLD || !params->trace_id) return;
    if (parent && parent->trace_state && strstr(parent->trace_state, "ot=")) {
        ratio_with_ot(s, params, result);
        return;
    }
    /* Most spans: the trace id's randomness decides, and only sampled ones note the threshold. */
    if (parent && !(parent->trace_flags & OTELC_TRACE_FLAG_RANDOM)) warn_not_random_once();
    r = trace_id_randomness(params->trace_id);
    if (r < s->u.ratio.threshold) return;
    result->decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
    record_threshold(s, parent, false, "", result);
}

/* ---- ParentBased ---------------------------------------------------------------- */

static const char *const parent_case_names[5] = {"root", "remoteParentSampled",
                                                 "remoteParentNotSampled", "localParentSampled",
                                                 "localParentNotSampled"};

static char *parent_describe(otelc_sampler *const d[5])
{
    size_t size = sizeof "ParentBased{}";
    for (int i = 0; i < 5; i++)
        size += strlen(parent_case_names[i]) + strlen(otelc_sampler_description(d[i])) + 2;
    char *out = malloc(size);
    if (!out) return NULL;
    size_t len = (size_t)snprintf(out, size, "ParentBased{");
    for (int i = 0; i < 5; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s=%s", i ? "," : "",
                                parent_case_names[i], otelc_sampler_description(d[i]));
    snprintf(out + len, size - len, "}");
    return out;
}

otelc_sampler *otelc_sampler_parent_based(otelc_sampler *root, otelc_sampler *remote_sampled,
                                          otelc_sampler *remote_not_sampled,
                                          otelc_sampler *local_sampled,
                                          otelc_sampler *local_not_sampled)
{
    otelc_sampler *d[5] = {
        root ? root : &always_on_sampler,
        remote_sampled ? remote_sampled : &always_on_sampler,
        remote_not_sampled ? remote_not_sampled : &always_off_sampler,
        local_sampled ? local_sampled : &always_on_sampler,
        local_not_sampled ? local_not_sampled : &always_off_sampler,
    };
    otelc_sampler *s = sampler_alloc(KIND_PARENT);
    char *desc = s ? parent_describe(d) : NULL;
    if (!desc) {
        free(s);
        for (int i = 0; i < 5; i++) otelc_sampler_free(d[i]);
        return NULL;
    }
    memcpy(s->u.delegate, d, sizeof d);
    s->owned_description = desc;
    return s;
}

otelc_parent_case otelc__parent_case(const otelc_span_context *parent)
{
    return otelc__parent_case_of_valid(otelc_span_context_is_valid(parent) ? parent : NULL);
}

/* The decision of a sampler that is not parent-based, when fixed; -1 otherwise. */
static int8_t leaf_fixed_decision(const otelc_sampler *s)
{
    if (s->kind == KIND_ALWAYS_ON) return OTELC_SAMPLING_RECORD_AND_SAMPLE;
    if (s->kind == KIND_ALWAYS_OFF) return OTELC_SAMPLING_DROP;
    return -1;
}

void otelc__sampler_fixed_decisions(const otelc_sampler *s, int8_t out[5])
{
    for (int c = 0; c < 5; c++) {
        const otelc_sampler *leaf = s;
        while (leaf && leaf->kind == KIND_PARENT) leaf = leaf->u.delegate[c];
        if (leaf)
            out[c] = leaf_fixed_decision(leaf);
        else /* no sampler: the default, ParentBased(AlwaysOn) */
            out[c] = c == OTELC_PARENT_REMOTE_NOT_SAMPLED || c == OTELC_PARENT_LOCAL_NOT_SAMPLED
                         ? OTELC_SAMPLING_DROP
                         : OTELC_SAMPLING_RECORD_AND_SAMPLE;
    }
}

void otelc__sampler_drop_below(const otelc_sampler *s, uint64_t out[5])
{
    for (int c = 0; c < 5; c++) {
        const otelc_sampler *leaf = s;
        while (leaf && leaf->kind == KIND_PARENT) leaf = leaf->u.delegate[c];
        out[c] = leaf && leaf->kind == KIND_RATIO ? leaf->u.ratio.threshold : 0;
    }
}

/* ---- Rate limiting ------------------------------------------------------------------ */

/*
 * A token bucket kept as one atomic "theoretical arrival time" (GCRA): each
 * admitted trace pushes it one interval into the future, and a trace is
 * admitted while that stays within one burst window of now. Equivalent to a
 * bucket of one second's worth of tokens refilled continuously, without a
 * lock or a separate refill step.
 */
otelc_sampler *otelc_sampler_rate_limiting(double per_second)
{
    if (isnan(per_second) || per_second < 0.0) {
        otelc__log(OTELC_LOG_WARN, "rate limit %g traces per second is invalid; sampling none",
                   per_second);
        per_second = 0.0;
    }
    otelc_sampler *s = sampler_alloc(KIND_RATE);
    if (!s) return NULL;
    if (per_second > 0.0) {
        double interval = 1e9 / per_second;
        s->u.rate.interval_ns = interval < 1.0    ? 1
                                : interval > 1e18 ? (uint64_t)1e18
                                                  : (uint64_t)interval;
        s->u.rate.burst_ns =
            s->u.rate.interval_ns > 1000000000ULL ? s->u.rate.interval_ns : 1000000000ULL;
    }
    snprintf(s->description, sizeof s->description, "RateLimitingSampler{%.15g}", per_second);
    return s;
}

bool otelc__rate_limiter_admit_at(otelc_sampler *s, uint64_t now)
{
    if (!s || s->kind != KIND_RATE || !s->u.rate.interval_ns) return false;
    uint64_t interval = s->u.rate.interval_ns;
    uint64_t tat = atomic_load_explicit(&s->rate_tat, memory_order_relaxed);
    for (;;) {
        uint64_t next = (tat > now ? tat : now) + interval;
        if (next - now > s->u.rate.burst_ns) return false;
        if (atomic_compare_exchange_weak_explicit(&s->rate_tat, &tat, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
}

/* ---- Dispatch -------------------------------------------------------------------------- */

void otelc_sampler_should_sample(otelc_sampler *s, const otelc_sampling_params *params,
                                 otelc_sampling_result *result)
{
    if (!result) return;
    result->trace_state = NULL;
    result->decision = OTELC_SAMPLING_DROP;
    if (!params) return;

    /* Parent-based samplers may nest; walk down to the deciding leaf. */
    while (s && s->kind == KIND_PARENT) s = s->u.delegate[otelc__parent_case(params->parent)];
    if (!s) {
        /* No sampler: behave like the default, ParentBased(AlwaysOn). */
        otelc_parent_case c = otelc__parent_case(params->parent);
        if (c != OTELC_PARENT_REMOTE_NOT_SAMPLED && c != OTELC_PARENT_LOCAL_NOT_SAMPLED)
            result->decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
        return;
    }
    switch (s->kind) {
    case KIND_ALWAYS_ON:
        result->decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
        break;
    case KIND_ALWAYS_OFF:
        break;
    case KIND_RATIO:
        ratio_should_sample(s, params, result);
        break;
    case KIND_RATE:
        if (otelc__rate_limiter_admit_at(s, otelc__now_ns()))
            result->decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
        break;
    case KIND_USER:
        s->u.user.ops->should_sample(s->u.user.self, params, result);
        break;
    case KIND_PARENT:
        break;
    }
}
