/*
 * real_call.h - how an instrumentation library calls the library it
 * instruments, so that one source serves both ways of loading it.
 *
 * Linked (libotelc-<name>), CALL(table, f) is f itself. libotelc-auto
 * compiles the same source again with OTELC_AUTO defined: it defines f
 * itself (its interposing shim) and links none of the instrumented
 * libraries, so there CALL(table, f) is the pointer that libotelc-auto's
 * shim for that library looked up with dlsym(RTLD_NEXT) before it first
 * let the instrumentation run (see instrument/auto/auto.h). Each library
 * lists the functions it calls in an X-macro, <name>_CALLS(X), from which
 * the table's type comes; the table itself lives in libotelc-auto.
 */
#ifndef OTELC_INSTRUMENT_REAL_CALL_H
#define OTELC_INSTRUMENT_REAL_CALL_H

#ifdef OTELC_AUTO
#define REAL_CALL_SLOT(f) __typeof__(&f) f;
/* The struct type name and the hidden table of real functions, for the calls list. */
#define REAL_CALL_TABLE(type, table, LIST)                                                         \
    typedef struct type {                                                                          \
        LIST(REAL_CALL_SLOT)                                                                       \
    } type;                                                                                        \
    extern type table
#define CALL(table, f) (table.f)
#else
#define REAL_CALL_TABLE(type, table, LIST) struct type
#define CALL(table, f)                     f
#endif

#endif
