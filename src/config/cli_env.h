/*
 * cli_env.h - settings of the otelc command and of startup tracing
 * (cli_env.c; part of the config module, the only code reading OTEL_* and
 * OTELC_* variables). Nothing here is public API.
 */
#ifndef OTELC_CLI_ENV_H
#define OTELC_CLI_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/*
 * Parse a duration: a decimal number with an optional unit, ms, s, m or h
 * (no unit: seconds, as timeout(1) reads it), e.g. "500ms", "1.5s", "24h".
 * True and *ms set on success; negative, empty and absurd values fail.
 */
bool otelc__parse_duration_ms(const char *s, uint64_t *ms);

/* OTELC_CLI_EXPORT_TIMEOUT in milliseconds (default 2000). */
uint32_t otelc__cli_export_timeout_from_env(void);

/*
 * Cap every export timeout configured from the environment from now on:
 * the OTLP and Zipkin exporters' and the batch processor's (0: no cap).
 * The otelc command sets it before creating its provider so that an
 * unreachable backend delays a command by at most that long.
 */
void otelc__export_timeout_cap_set(uint32_t ms);

/* ms (0 meaning "the default") limited by the cap; 0 stays 0 without a cap. */
uint32_t otelc__export_timeout_capped(uint32_t ms);

/* OTELC_TRACE_STARTUP: "1" or "true" asks for a startup trace. */
bool otelc__trace_startup_from_env(void);

/*
 * Where `otelc span` keeps its state: OTELC_SPAN_DIR, else
 * ${XDG_RUNTIME_DIR:-/tmp}/otelc-spans-<uid>. False when it does not fit.
 */
bool otelc__span_dir_from_env(char *out, size_t size);

/* OTELC_SPAN_TIMEOUT (a duration, default 24h) in milliseconds. */
uint64_t otelc__span_timeout_from_env(void);

/* What the startup trace checks: each configured exporter's destination. */
typedef struct otelc_startup_target {
    const char *exporter; /* "otlp", "zipkin" or "file" (static strings) */
    bool grpc;            /* otlp over gRPC */
    char where[2048];     /* a URL, or the file path */
} otelc_startup_target;

/*
 * The exporters OTEL_TRACES_EXPORTER (or its default) configures, with
 * their destinations. Returns how many were written (at most max). Reads
 * nothing when OTEL_CONFIG_FILE is set: *from_file is then true.
 */
size_t otelc__startup_targets_from_env(otelc_startup_target *out, size_t max, bool *from_file);

#endif
