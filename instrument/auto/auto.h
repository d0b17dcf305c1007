/*
 * auto.h - the core of libotelc-auto, the preload library behind
 * `otelc exec --instrument` (docs/zero-code.md).
 *
 * libotelc-auto defines the public entry points of the libraries it
 * traces (PQexec, curl_easy_perform, ...). Loaded with LD_PRELOAD it comes
 * first in the symbol search order, so the program's calls reach these
 * shims, which run the instrumentation libraries' own code (compiled in a
 * second time with OTELC_AUTO, see instrument/real_call.h) around the real
 * function, found with dlsym(RTLD_NEXT). It links none of the traced
 * libraries: a program that does not use one never calls its shims, and
 * nothing of that library is looked up.
 *
 * Every shim starts with auto_begin(). The first call for a library looks
 * up its table of real functions and, the first time of all, reads the
 * switches (OTEL_SDK_DISABLED, OTELC_INSTRUMENT) and starts the SDK from
 * the environment; after that auto_begin() is a thread-local test and two
 * atomic loads. A library's calls made while this thread is already inside
 * an instrumented call of the same library (libpq's PQexec calls
 * PQgetResult itself, hiredis's redisCommand calls redisGetReply) pass
 * straight through, so each call the program makes is one span.
 */
#ifndef OTELC_AUTO_H
#define OTELC_AUTO_H

#include <stdatomic.h>
#include <stdbool.h>

#include "otelc/sdk.h"

/* The traced libraries, as bits (names in OTELC_INSTRUMENT: curl pq redis sqlite mhd). */
enum {
    AUTO_CURL = 1u << 0,
    AUTO_PQ = 1u << 1,
    AUTO_REDIS = 1u << 2,
    AUTO_SQLITE = 1u << 3,
    AUTO_MHD = 1u << 4,
};

/* The shims: the only names libotelc-auto exports. */
#define AUTO_EXPORT __attribute__((visibility("default")))

/* This thread's libraries whose instrumented call is running (libotelc-auto loads at start-up). */
extern __thread unsigned auto_inside __attribute__((tls_model("initial-exec")));
/* Whether this thread made its first traced call (see auto_adopt()). */
extern __thread bool auto_adopted __attribute__((tls_model("initial-exec")));
/* Libraries whose real functions were looked up; of those, the ones to trace. */
extern _Atomic unsigned auto_ready;
extern _Atomic unsigned auto_traced;

/*
 * Look name up with dlsym(RTLD_NEXT), else in the interposed libraries
 * loaded outside the global scope (RTLD_LOCAL), and store it in *slot, a
 * function pointer of a calls table. Returns false when there is no such
 * symbol (the slot is then NULL).
 */
bool auto_resolve(void *slot, const char *name);

/*
 * The slow path of auto_begin(): once per library, call resolve (which
 * fills the library's calls tables with auto_resolve() and returns false
 * if anything is missing) and decide whether the library is traced (its
 * switch is on, the SDK started); the first call of all reads the
 * switches and starts the SDK. Returns auto_traced.
 */
unsigned auto_prepare(unsigned lib, bool (*resolve)(void));

/*
 * A thread's first traced call: make the context the environment names
 * (TRACEPARENT, TRACESTATE, BAGGAGE, as `otelc exec` sets them) the
 * thread's current context for good, so that the process's spans continue
 * the trace of whatever started it.
 */
void auto_adopt(void);

/* Whether lib is traced, for shims that only keep notes (no span, no nesting). */
static inline bool auto_tracing(unsigned lib, bool (*resolve)(void))
{
    if (!(atomic_load_explicit(&auto_ready, memory_order_acquire) & lib))
        return auto_prepare(lib, resolve) & lib;
    return atomic_load_explicit(&auto_traced, memory_order_acquire) & lib;
}

/*
 * Whether this call of lib should be traced; when true, the caller runs
 * the instrumented path and then calls auto_end(lib). When false it calls
 * the real function, which is always looked up by then.
 */
static inline bool auto_begin(unsigned lib, bool (*resolve)(void))
{
    if (auto_inside & lib) return false;
    if (!auto_tracing(lib, resolve)) return false;
    if (otelc_exporting()) return false; /* the SDK's own request: never its own span */
    auto_inside |= lib;
    if (!auto_adopted) auto_adopt();
    return true;
}

static inline void auto_end(unsigned lib)
{
    auto_inside &= ~lib;
}

#endif
