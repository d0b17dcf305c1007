/*
 * startup.h - startup tracing (startup.c): with OTELC_TRACE_STARTUP=1 a
 * new provider emits a "startup" trace describing how it came up.
 */
#ifndef OTELC_STARTUP_H
#define OTELC_STARTUP_H

#include <stdint.h>

#include "internal.h"

/* Unix time in ns at the start of provider creation (cheap; no clock setup needed). */
uint64_t otelc__startup_clock(void);

/*
 * Called by otelc_provider_new() once p is ready; began is the
 * otelc__startup_clock() value taken when creation began. Does nothing
 * unless OTELC_TRACE_STARTUP asks for it.
 */
void otelc__startup_trace(otelc_provider *p, uint64_t began);

#endif
