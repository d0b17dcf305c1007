/*
 * cli_env.c - OTELC_CLI_EXPORT_TIMEOUT, OTELC_TRACE_STARTUP, OTELC_SPAN_DIR
 * and OTELC_SPAN_TIMEOUT, plus the export timeout cap the otelc command
 * relies on (part of the config module: no other file reads OTELC_*).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/cli_env.h"
#include "config/config_file.h"
#include "export/otlp.h"
#include "export/zipkin.h"

#define DEFAULT_CLI_EXPORT_TIMEOUT_MS 2000
#define DEFAULT_SPAN_TIMEOUT_MS       (24ull * 3600 * 1000)
/* Ten years: anything longer is a typo, and keeps the arithmetic far from overflow. */
#define MAX_DURATION_MS (10ull * 365 * 24 * 3600 * 1000)

bool otelc__parse_duration_ms(const char *s, uint64_t *ms)
{
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    if (!s) return false;
    char num[32];
    size_t n = 0;
    while (n < sizeof num - 1 && (isdigit((unsigned char)s[n]) || s[n] == '.')) {
        num[n] = s[n];
        n++;
    }
    num[n] = '\0';
    double v;
    if (n == 0 || !otelc__parse_double(num, &v)) return false;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(s + n, units[i].unit) != 0) continue;
        double total = v * units[i].scale;
        if (total > (double)MAX_DURATION_MS) return false;
        *ms = (uint64_t)(total + 0.5);
        return true;
    }
    return false;
}

uint32_t otelc__cli_export_timeout_from_env(void)
{
    return otelc__env_u32("OTELC_CLI_EXPORT_TIMEOUT", DEFAULT_CLI_EXPORT_TIMEOUT_MS);
}

static _Atomic uint32_t export_cap;

void otelc__export_timeout_cap_set(uint32_t ms)
{
    atomic_store(&export_cap, ms);
}

uint32_t otelc__export_timeout_capped(uint32_t ms)
{
    uint32_t cap = atomic_load(&export_cap);
    return cap && (ms == 0 || ms > cap) ? cap : ms;
}

bool otelc__trace_startup_from_env(void)
{
    static atomic_bool warned;
    const char *v = otelc__env("OTELC_TRACE_STARTUP");
    bool on;
    if (!v) return false;
    /* Shell users write 1 and 0; the OTEL_* convention is true and false. */
    if (strcmp(v, "1") == 0 || strcmp(v, "0") == 0) return v[0] == '1';
    if (otelc__parse_bool(v, &on)) return on;
    if (!atomic_exchange(&warned, true))
        otelc__log(OTELC_LOG_WARN,
                   "OTELC_TRACE_STARTUP=\"%.100s\" is invalid (expected 1, 0, true or false); "
                   "ignored",
                   v);
    return false;
}

bool otelc__span_dir_from_env(char *out, size_t size)
{
    const char *dir = otelc__env("OTELC_SPAN_DIR");
    int n;
    if (dir) {
        n = snprintf(out, size, "%s", dir);
    } else {
        const char *base = otelc__env("XDG_RUNTIME_DIR");
        n = snprintf(out, size, "%s/otelc-spans-%lu", base ? base : "/tmp",
                     (unsigned long)getuid());
    }
    return n > 0 && (size_t)n < size;
}

uint64_t otelc__span_timeout_from_env(void)
{
    const char *v = otelc__env("OTELC_SPAN_TIMEOUT");
    uint64_t ms;
    if (!v) return DEFAULT_SPAN_TIMEOUT_MS;
    if (otelc__parse_duration_ms(v, &ms) && ms > 0) return ms;
    otelc__log(OTELC_LOG_WARN,
               "OTELC_SPAN_TIMEOUT=\"%.100s\" is invalid (expected a duration such as 30m or "
               "24h); ignored",
               v);
    return DEFAULT_SPAN_TIMEOUT_MS;
}

/* ---- Startup targets ---------------------------------------------------- */

/* True when the comma list names item (case-insensitive, spaces ignored). */
static bool list_has(const char *list, const char *item)
{
    size_t len = strlen(item);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t') p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t')) m--;
        if (m == len && strncasecmp(p, item, len) == 0) return true;
        p += n;
        if (*p == ',') p++;
    }
    return false;
}

static void otlp_target(otelc_startup_target *t)
{
    otelc_otlp_exporter_options o;
    otelc_otlp_env_storage st;
    memset(&o, 0, sizeof o);
    otelc__otlp_options_from_env(&o, &st);
    t->exporter = "otlp";
    t->grpc = o.protocol == OTELC_OTLP_GRPC;
    const char *def = t->grpc ? "http://localhost:4317" : "http://localhost:4318/v1/traces";
    snprintf(t->where, sizeof t->where, "%s", o.endpoint ? o.endpoint : def);
}

size_t otelc__startup_targets_from_env(otelc_startup_target *out, size_t max, bool *from_file)
{
    size_t n = 0;
    *from_file = otelc__config_file_path() != NULL;
    if (*from_file) return 0;
    const char *list = otelc__env("OTEL_TRACES_EXPORTER");
    /* Unset: OTLP only when an endpoint is configured, as env.c decides. */
    bool otlp = list ? list_has(list, "otlp") : otelc__otlp_endpoint_configured();
    if (otlp && n < max) otlp_target(&out[n++]);
    if (list && list_has(list, "zipkin") && n < max) {
        const char *ep = otelc__zipkin_endpoint_from_env();
        out[n].exporter = "zipkin";
        out[n].grpc = false;
        snprintf(out[n++].where, sizeof out->where, "%s", ep ? ep : OTELC_ZIPKIN_DEFAULT_ENDPOINT);
    }
    if (list && list_has(list, "file") && n < max) {
        otelc_file_env fe;
        otelc__file_options_from_env(&fe);
        out[n].exporter = "file";
        out[n].grpc = false;
        snprintf(out[n++].where, sizeof out->where, "%s", fe.path);
    }
    return n;
}
