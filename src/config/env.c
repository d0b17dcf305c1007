/*
 * env.c - every OTEL_* (and OTELC_*) environment variable is read here.
 *
 * Keeping the reads in one file keeps the rules in one place: an empty
 * value is the same as unset, only a case-insensitive "true" is true, and an
 * invalid value is reported once, naming the variable, and then ignored as
 * if it were unset (the specification's "gracefully ignore").
 *
 * The string parsers are pure functions so they can be fuzzed without
 * touching the environment.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/cli_env.h"
#include "export/otlp.h"
#include "export/zipkin.h"
#include "internal.h"

/* ---- Pure parsers ------------------------------------------------------- */

bool otelc__parse_bool(const char *s, bool *out)
{
    if (!s) return false;
    if (strcasecmp(s, "true") == 0) {
        *out = true;
        return true;
    }
    if (strcasecmp(s, "false") == 0) {
        *out = false;
        return true;
    }
    return false;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* Decimal digits only: signs, hex and octal forms are all rejected. */
bool otelc__parse_u32(const char *s, uint32_t *out)
{
    if (!s) return false;
    s = skip_space(s);
    if (!isdigit((unsigned char)*s)) return false;
    uint64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > UINT32_MAX) return false;
    }
    if (*skip_space(s) != '\0') return false;
    *out = (uint32_t)v;
    return true;
}

/* Plain decimal notation only: no "nan", "inf" or hex floats. */
static bool is_plain_number(const char *s)
{
    bool digit = false;
    for (; *s; s++) {
        if (isdigit((unsigned char)*s))
            digit = true;
        else if (!strchr(".eE+- \t", *s))
            return false;
    }
    return digit;
}

bool otelc__parse_double(const char *s, double *out)
{
    if (!s || !is_plain_number(s)) return false;
    char *end;
    errno = 0;
    double v = otelc__strtod(s, &end); /* a decimal comma locale must not change "0.25" */
    if (end == s || errno == ERANGE || !isfinite(v)) return false;
    if (*skip_space(end) != '\0') return false;
    *out = v;
    return true;
}

/* ---- Reporting invalid values once --------------------------------------- */

#define WARNED_MAX 64

static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t warned[WARNED_MAX];
static size_t warned_count;

void otelc__config_after_fork_child(void)
{
    pthread_mutex_init(&warned_lock, NULL);
}

bool otelc__first_report(const char *name, const char *value)
{
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, name, strlen(name) + 1); /* NUL: a separator */
    h = otelc__fnv1a(h, value, strlen(value));
    bool first = true;

    pthread_mutex_lock(&warned_lock);
    for (size_t i = 0; i < warned_count; i++) {
        if (warned[i] == h) first = false;
    }
    if (first && warned_count < WARNED_MAX) warned[warned_count++] = h;
    pthread_mutex_unlock(&warned_lock);
    return first;
}

static void report_invalid(const char *name, const char *value, const char *what)
{
    if (otelc__first_report(name, value))
        otelc__log(OTELC_LOG_WARN, "%s=\"%.200s\" is invalid (%s); ignored", name, value, what);
}

/* ---- Typed readers -------------------------------------------------------- */

const char *otelc__env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

bool otelc__env_bool(const char *name, bool def)
{
    const char *v = otelc__env(name);
    bool b;
    if (!v) return def;
    if (otelc__parse_bool(v, &b)) return b;
    report_invalid(name, v, "expected true or false");
    return def;
}

/* Like otelc__env_u32 but tells whether the variable supplied the value. */
static bool env_u32_set(const char *name, uint32_t *out)
{
    const char *v = otelc__env(name);
    if (!v) return false;
    if (otelc__parse_u32(v, out)) return true;
    report_invalid(name, v, "expected a non-negative integer");
    return false;
}

uint32_t otelc__env_u32(const char *name, uint32_t def)
{
    uint32_t v;
    return env_u32_set(name, &v) ? v : def;
}

double otelc__env_double(const char *name, double def)
{
    const char *v = otelc__env(name);
    double d;
    if (!v) return def;
    if (otelc__parse_double(v, &d)) return d;
    report_invalid(name, v, "expected a number");
    return def;
}

/* ---- Span limits ------------------------------------------------------------ */

void otelc_span_limits_default(otelc_span_limits *out)
{
    if (!out) return;
    out->attribute_count = 128;
    out->attribute_value_length = OTELC_UNLIMITED;
    out->event_count = 128;
    out->link_count = 128;
    out->event_attribute_count = 128;
    out->link_attribute_count = 128;
}

void otelc__limits_from_env(otelc_span_limits *out)
{
    otelc_span_limits_default(out);
    /* The span-specific variable wins; the generic one is its fallback. */
    uint32_t count = otelc__env_u32("OTEL_ATTRIBUTE_COUNT_LIMIT", out->attribute_count);
    uint32_t len = otelc__env_u32("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", out->attribute_value_length);
    out->attribute_count = otelc__env_u32("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", count);
    out->attribute_value_length = otelc__env_u32("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", len);
    out->event_count = otelc__env_u32("OTEL_SPAN_EVENT_COUNT_LIMIT", out->event_count);
    out->link_count = otelc__env_u32("OTEL_SPAN_LINK_COUNT_LIMIT", out->link_count);
    out->event_attribute_count =
        otelc__env_u32("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", out->event_attribute_count);
    out->link_attribute_count =
        otelc__env_u32("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", out->link_attribute_count);
}

/* ---- Batch processor -------------------------------------------------------- */

/* A positive integer variable (queue and batch sizes). */
static uint32_t env_positive(const char *name, uint32_t def)
{
    uint32_t v;
    if (!env_u32_set(name, &v)) return def;
    if (v > 0) return v;
    report_invalid(name, otelc__env(name), "must be positive");
    return def;
}

void otelc__batch_options_from_env(otelc_batch_options *out)
{
    uint32_t v;

    if (!out->max_queue_size) out->max_queue_size = env_positive("OTEL_BSP_MAX_QUEUE_SIZE", 2048);
    if (!out->max_export_batch_size)
        out->max_export_batch_size = env_positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512);
    if (!out->schedule_delay_ms) {
        /* A zero delay means "export at once"; 0 in the struct means default. */
        out->schedule_delay_ms = env_u32_set("OTEL_BSP_SCHEDULE_DELAY", &v) ? (v ? v : 1) : 5000;
    }
    if (!out->export_timeout_ms) {
        /* The spec reads a zero timeout as "no limit". */
        out->export_timeout_ms =
            env_u32_set("OTEL_BSP_EXPORT_TIMEOUT", &v) ? (v ? v : UINT32_MAX) : 30000;
    }
    out->export_timeout_ms = otelc__export_timeout_capped(out->export_timeout_ms);
    if (out->max_export_batch_size > out->max_queue_size) {
        otelc__log(OTELC_LOG_WARN,
                   "batch size %u exceeds the queue size %u "
                   "(OTEL_BSP_MAX_EXPORT_BATCH_SIZE/OTEL_BSP_MAX_QUEUE_SIZE); using %u",
                   out->max_export_batch_size, out->max_queue_size, out->max_queue_size);
        out->max_export_batch_size = out->max_queue_size;
    }
}

uint32_t otelc__exit_timeout_from_env(void)
{
    /* 0 is "no bound of its own": exit then waits as long as the export timeouts allow. */
    uint32_t v;
    if (!env_u32_set("OTELC_EXIT_TIMEOUT", &v)) return OTELC_DEFAULT_EXIT_TIMEOUT_MS;
    return v ? v : UINT32_MAX;
}

bool otelc__batch_worker_steps_back(void)
{
    const char *v = otelc__env("OTELC_BSP_WORKER_PRIORITY");
    if (!v || strcasecmp(v, "background") == 0) return true;
    if (strcasecmp(v, "normal") == 0) return false;
    report_invalid("OTELC_BSP_WORKER_PRIORITY", v, "expected background or normal");
    return true;
}

/* ---- Sampler ------------------------------------------------------------------ */

/* OTEL_TRACES_SAMPLER_ARG as a number accepted by ok(), else 1.0. */
static double sampler_arg(bool (*ok)(double), const char *expect)
{
    const char *v = otelc__env("OTEL_TRACES_SAMPLER_ARG");
    double d;
    if (!v) return 1.0;
    if (otelc__parse_double(v, &d) && ok(d)) return d;
    report_invalid("OTEL_TRACES_SAMPLER_ARG", v, expect);
    return 1.0;
}

static bool is_ratio(double d)
{
    return d >= 0.0 && d <= 1.0;
}

static bool is_rate(double d)
{
    return d > 0.0;
}

static otelc_sampler *parent_based(otelc_sampler *root)
{
    return root ? otelc_sampler_parent_based(root, NULL, NULL, NULL, NULL) : NULL;
}

otelc_sampler *otelc__sampler_from_env(void)
{
    const char *name = otelc__env("OTEL_TRACES_SAMPLER");
    const char *ratio_msg = "expected a ratio between 0 and 1";
    const char *rate_msg = "expected traces per second, above 0";

    if (!name || strcasecmp(name, "parentbased_always_on") == 0)
        return parent_based(otelc_sampler_always_on());
    if (strcasecmp(name, "always_on") == 0) return otelc_sampler_always_on();
    if (strcasecmp(name, "always_off") == 0) return otelc_sampler_always_off();
    if (strcasecmp(name, "traceidratio") == 0)
        return otelc_sampler_trace_id_ratio(sampler_arg(is_ratio, ratio_msg));
    if (strcasecmp(name, "parentbased_always_off") == 0)
        return parent_based(otelc_sampler_always_off());
    if (strcasecmp(name, "parentbased_traceidratio") == 0)
        return parent_based(otelc_sampler_trace_id_ratio(sampler_arg(is_ratio, ratio_msg)));
    if (strcasecmp(name, "ratelimiting") == 0)
        return otelc_sampler_rate_limiting(sampler_arg(is_rate, rate_msg));
    if (strcasecmp(name, "parentbased_ratelimiting") == 0)
        return parent_based(otelc_sampler_rate_limiting(sampler_arg(is_rate, rate_msg)));

    report_invalid("OTEL_TRACES_SAMPLER", name, "unknown sampler; using parentbased_always_on");
    return parent_based(otelc_sampler_always_on());
}

/* ---- Propagators ---------------------------------------------------------------- */

otelc_propagator *otelc__propagator_from_env(void)
{
    const char *list = otelc__env("OTEL_PROPAGATORS");
    /* Unknown names are reported by otelc_propagator_from_list itself. */
    return otelc_propagator_from_list(list ? list : "tracecontext,baggage", NULL);
}

/* ---- Exporters -------------------------------------------------------------------- */

enum exporter_kind {
    EXP_CONSOLE_TREE,
    EXP_CONSOLE_JSON,
    EXP_OTLP,
    EXP_ZIPKIN,
    EXP_FILE,
    EXP_NONE,
    EXP_UNAVAILABLE,
    EXP_UNKNOWN
};

static enum exporter_kind exporter_kind(const char *name, size_t n)
{
#ifdef OTELC_HAVE_CURL
    static const char *const unavailable[] = {"otlp/stdout"};
#else
    static const char *const unavailable[] = {"otlp", "zipkin", "otlp/stdout"};
#endif
#define IS(lit) (n == sizeof(lit) - 1 && strncasecmp(name, lit, n) == 0)
#ifdef OTELC_HAVE_CURL
    if (IS("otlp")) return EXP_OTLP;
    if (IS("zipkin")) return EXP_ZIPKIN;
#endif
    if (IS("file")) return EXP_FILE;
    if (IS("console")) return EXP_CONSOLE_TREE;
    if (IS("console-json")) return EXP_CONSOLE_JSON;
    if (IS("none")) return EXP_NONE;
    for (size_t i = 0; i < sizeof unavailable / sizeof *unavailable; i++) {
        if (n == strlen(unavailable[i]) && strncasecmp(name, unavailable[i], n) == 0)
            return EXP_UNAVAILABLE;
    }
#undef IS
    return EXP_UNKNOWN;
}

static otelc_processor *console_processor(bool json)
{
    otelc_exporter *exp =
        otelc_console_exporter_new(stderr, json ? OTELC_CONSOLE_JSON : OTELC_CONSOLE_TREE);
    return exp ? otelc_simple_processor_new(exp) : NULL;
}

static void report_exporter(enum exporter_kind kind, const char *name, size_t n)
{
    char item[64];
    snprintf(item, sizeof item, "%.*s", (int)(n < 63 ? n : 63), name);
    if (!otelc__first_report("OTEL_TRACES_EXPORTER", item)) return;
    if (kind == EXP_UNAVAILABLE)
        otelc__log(OTELC_LOG_WARN,
                   "OTEL_TRACES_EXPORTER: exporter %s is not available in this build", item);
    else
        otelc__log(OTELC_LOG_WARN, "OTEL_TRACES_EXPORTER: unknown exporter \"%s\" ignored", item);
}

static otelc_processor *otlp_processor(void)
{
#ifdef OTELC_HAVE_CURL
    otelc_exporter *exp = otelc_otlp_exporter_new(NULL);
    return exp ? otelc_batch_processor_new(exp, NULL) : NULL;
#else
    return NULL;
#endif
}

/* Zipkin and file exporters do I/O per export: they go behind a batch processor. */
static otelc_processor *batched(otelc_exporter *exp)
{
    return exp ? otelc_batch_processor_new(exp, NULL) : NULL;
}

static otelc_processor *zipkin_or_file_processor(enum exporter_kind kind)
{
    otelc_file_env fe;
    if (kind == EXP_ZIPKIN) return batched(otelc_zipkin_exporter_new(NULL, 0));
    otelc__file_options_from_env(&fe);
    return batched(otelc_file_exporter_new(fe.path, fe.max_bytes, fe.keep));
}

size_t otelc__processors_from_env(otelc_processor **out, size_t max)
{
    const char *list = otelc__env("OTEL_TRACES_EXPORTER");
    /*
     * Unset means the spec's default, otlp. Taken literally, every program
     * linking otelc would start sending to localhost:4318 without anyone
     * asking; so the default applies only when an OTLP endpoint is
     * configured, and "no exporter configured" keeps meaning "no network".
     * Builds without libcurl have no otlp and stay quiet.
     */
    if (!list) {
        otelc_processor *proc =
            max > 0 && otelc__otlp_endpoint_configured() ? otlp_processor() : NULL;
        if (proc) out[0] = proc;
        return proc ? 1 : 0;
    }

    const char *fmt = otelc__env("OTELC_CONSOLE_FORMAT");
    bool json_default = fmt && strcasecmp(fmt, "json") == 0;
    bool have_tree = false, have_json = false, have_otlp = false;
    bool have_zipkin = false, have_file = false;
    size_t count = 0;

    for (const char *p = list; *p;) {
        const char *s = skip_space(p);
        size_t n = strcspn(s, ",");
        p = s[n] ? s + n + 1 : s + n;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        if (n == 0) continue;

        enum exporter_kind kind = exporter_kind(s, n);
        if (kind == EXP_CONSOLE_TREE && json_default) kind = EXP_CONSOLE_JSON;
        if (kind == EXP_UNAVAILABLE || kind == EXP_UNKNOWN) {
            report_exporter(kind, s, n);
            continue;
        }
        if (kind == EXP_NONE) continue;
        if (kind == EXP_OTLP) {
            otelc_processor *proc = have_otlp || count >= max ? NULL : otlp_processor();
            have_otlp = true;
            if (proc) out[count++] = proc;
            continue;
        }
        if (kind == EXP_ZIPKIN || kind == EXP_FILE) {
            bool *once = kind == EXP_ZIPKIN ? &have_zipkin : &have_file;
            otelc_processor *proc = *once || count >= max ? NULL : zipkin_or_file_processor(kind);
            *once = true;
            if (proc) out[count++] = proc;
            continue;
        }
        bool *seen = kind == EXP_CONSOLE_JSON ? &have_json : &have_tree;
        if (*seen || count >= max) continue;
        *seen = true;
        otelc_processor *proc = console_processor(kind == EXP_CONSOLE_JSON);
        if (proc) out[count++] = proc;
    }
    return count;
}

/* ---- Diagnostics --------------------------------------------------------------------- */

otelc_log_level otelc__log_level_from_env(void)
{
    static const struct {
        const char *name;
        otelc_log_level level;
    } levels[] = {
        {"none", OTELC_LOG_NONE}, {"error", OTELC_LOG_ERROR}, {"warn", OTELC_LOG_WARN},
        {"info", OTELC_LOG_INFO}, {"debug", OTELC_LOG_DEBUG},
    };
    const char *v = otelc__env("OTEL_LOG_LEVEL");
    if (!v) return OTELC_LOG_WARN;
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        if (strcasecmp(v, levels[i].name) == 0) return levels[i].level;
    }
    report_invalid("OTEL_LOG_LEVEL", v, "expected none, error, warn, info or debug");
    return OTELC_LOG_WARN;
}
