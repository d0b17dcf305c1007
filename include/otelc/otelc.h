/*
 * otelc/otelc.h - OpenTelemetry distributed tracing for C.
 *
 * Include this one header. The usual program:
 *
 *   otelc_init(NULL);                    // configure from OTEL_* variables
 *   otelc_tracer *t = otelc_tracer_get("my.library", "1.0.0");
 *   otelc_span *s = otelc_span_start(t, "work", OTELC_SPAN_INTERNAL);
 *   otelc_span_set_int(s, "items", 3);
 *   otelc_span_end(s);
 *   otelc_shutdown();                    // flush and stop
 */
#ifndef OTELC_OTELC_H
#define OTELC_OTELC_H

#include "common.h"
#include "context.h"
#include "trace.h"
#include "propagation.h"
#include "sdk.h"
#include "exporters.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef OTELC_NOOP
/* A static English description of an otelc error code. */
const char *otelc_strerror(int err);

/* The library's version string, e.g. "0.1.0" (may differ from OTELC_VERSION). */
const char *otelc_version(void);

/*
 * Create the global provider from opts (NULL: entirely from the OTEL_*
 * environment) and install it. Returns OTELC_OK, or an error after logging
 * what was wrong; on a configuration error nothing is installed and the API
 * stays a no-op. Calling it again replaces the provider.
 */
int otelc_init(const otelc_provider_options *opts);

/*
 * Flush and shut down the global provider, then free it. Waits at most
 * OTELC_EXIT_TIMEOUT (default 1000 ms): an export still in flight then is
 * abandoned and its spans counted as failed. Afterwards the API is a no-op
 * until otelc_init().
 */
void otelc_shutdown(void);

/* Export everything queued in the global provider; waits at most timeout_ms. */
int otelc_force_flush(uint32_t timeout_ms);
#else
#define OTELC__NOOP_OTELC
#include "noop.h"
#endif

#ifdef __cplusplus
}
#endif
#endif
