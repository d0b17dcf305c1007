/*
 * file_env.c - OTELC_FILE_PATH, OTELC_FILE_MAX_BYTES and OTELC_FILE_KEEP,
 * the settings of OTEL_TRACES_EXPORTER=file (part of the config module: no
 * other file reads the environment).
 *
 * OTELC_FILE_MAX_BYTES may exceed 4 GiB, beyond otelc__env_u32, so it has
 * its own reader with the same rules (otelc__env_u64, which the spool's
 * OTELC_SPOOL_MAX_BYTES uses too): decimal digits only, and an invalid
 * value is reported once and ignored.
 */
#include <ctype.h>

#include "export/zipkin.h"

/* Rotated files kept when OTELC_FILE_KEEP is unset: enough to survive a burst. */
#define DEFAULT_KEEP 5

static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    while (*s == ' ' || *s == '\t') s++;
    if (!isdigit((unsigned char)*s)) return false;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    while (*s == ' ' || *s == '\t') s++;
    if (*s) return false;
    *out = v;
    return true;
}

uint64_t otelc__env_u64(const char *name, uint64_t def)
{
    const char *v = otelc__env(name);
    uint64_t n;
    if (!v) return def;
    if (parse_u64(v, &n)) return n;
    if (otelc__first_report(name, v))
        otelc__log(OTELC_LOG_WARN, "%s=\"%.200s\" is invalid (expected a byte count); ignored",
                   name, v);
    return def;
}

void otelc__file_options_from_env(otelc_file_env *out)
{
    const char *path = otelc__env("OTELC_FILE_PATH");
    out->path = path ? path : OTELC_FILE_DEFAULT_PATH;
    out->max_bytes = otelc__env_u64("OTELC_FILE_MAX_BYTES", 0);
    out->keep = otelc__env_u32("OTELC_FILE_KEEP", DEFAULT_KEEP);
}
