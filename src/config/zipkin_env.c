/*
 * zipkin_env.c - OTEL_EXPORTER_ZIPKIN_ENDPOINT and _TIMEOUT (part of the
 * config module: no other file reads OTEL_*).
 *
 * The exporter applies the defaults itself, so that an explicit argument,
 * the variable and the default are decided in one place, in that order.
 */
#include "config/cli_env.h"
#include "export/zipkin.h"

const char *otelc__zipkin_endpoint_from_env(void)
{
    return otelc__env("OTEL_EXPORTER_ZIPKIN_ENDPOINT");
}

/* Milliseconds, like every OTEL_* timeout; 0 (or invalid) means the default. */
uint32_t otelc__zipkin_timeout_from_env(void)
{
    return otelc__export_timeout_capped(otelc__env_u32("OTEL_EXPORTER_ZIPKIN_TIMEOUT", 0));
}
