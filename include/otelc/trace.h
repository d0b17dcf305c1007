/*
 * otelc/trace.h - tracers and spans.
 *
 * Every function here is safe to call with a NULL or non-recording handle:
 * it then does nothing and returns a neutral value, so instrumented code
 * never needs an "is tracing on?" test. Strings passed in are copied; the
 * caller keeps ownership of its buffers.
 */
#ifndef OTELC_TRACE_H
#define OTELC_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include <string.h>

#include "context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Span kinds, numbered as in OTLP. */
typedef enum otelc_span_kind {
    OTELC_SPAN_INTERNAL = 1,
    OTELC_SPAN_SERVER = 2,
    OTELC_SPAN_CLIENT = 3,
    OTELC_SPAN_PRODUCER = 4,
    OTELC_SPAN_CONSUMER = 5,
} otelc_span_kind;

/* Span status codes, numbered as in OTLP. */
typedef enum otelc_status_code {
    OTELC_STATUS_UNSET = 0,
    OTELC_STATUS_OK = 1,
    OTELC_STATUS_ERROR = 2,
} otelc_status_code;

/*
 * Attribute value types: the OpenTelemetry AnyValue. The primitive types
 * and homogeneous arrays of them are what instrumentation sets; bytes,
 * arrays of any values, maps and the empty value complete the model (the
 * specification allows them on every attribute, at a higher cost), so
 * spans received from other SDKs keep every value they carried.
 */
typedef enum otelc_value_type {
    OTELC_VALUE_STRING = 1,
    OTELC_VALUE_BOOL,
    OTELC_VALUE_INT,
    OTELC_VALUE_DOUBLE,
    OTELC_VALUE_STRING_ARRAY,
    OTELC_VALUE_BOOL_ARRAY,
    OTELC_VALUE_INT_ARRAY,
    OTELC_VALUE_DOUBLE_ARRAY,
    OTELC_VALUE_BYTES, /* u.str: len bytes at ptr, any values */
    OTELC_VALUE_ARRAY, /* u.array: items points at const otelc_value[count], any types */
    OTELC_VALUE_MAP,   /* u.array: items points at const otelc_attr[count] */
    OTELC_VALUE_EMPTY, /* no value (null): meaningful, kept and exported */
} otelc_value_type;

/*
 * A typed attribute value. For strings and bytes, len is the byte length
 * (no NUL needed in input); for arrays, count is the number of items and
 * items points at const char *[], bool[], int64_t[] or double[], or, for
 * OTELC_VALUE_ARRAY and OTELC_VALUE_MAP, at otelc_value[] and otelc_attr[]
 * (which may nest further).
 */
typedef struct otelc_value {
    otelc_value_type type;
    union {
        struct {
            const char *ptr;
            size_t len;
        } str;
        bool b;
        int64_t i;
        double d;
        struct {
            const void *items;
            size_t count;
        } array;
    } u;
} otelc_value;

/* A key and its value: the unit of attributes on spans, events and links. */
typedef struct otelc_attr {
    const char *key;
    otelc_value value;
} otelc_attr;

/* Compound-literal helpers for attribute lists (events, links, options). */
static inline size_t otelc__strlen0(const char *s)
{
    return s ? strlen(s) : 0;
}
#define OTELC_ATTR_STR(k, v)                                                                       \
    ((otelc_attr){(k), {.type = OTELC_VALUE_STRING, .u.str = {(v), otelc__strlen0(v)}}})
#define OTELC_ATTR_BOOL(k, v)   ((otelc_attr){(k), {.type = OTELC_VALUE_BOOL, .u.b = (v)}})
#define OTELC_ATTR_INT(k, v)    ((otelc_attr){(k), {.type = OTELC_VALUE_INT, .u.i = (v)}})
#define OTELC_ATTR_DOUBLE(k, v) ((otelc_attr){(k), {.type = OTELC_VALUE_DOUBLE, .u.d = (v)}})

typedef struct otelc_tracer otelc_tracer;
typedef struct otelc_span otelc_span;

#ifndef OTELC_NOOP
/*
 * The tracer for an instrumentation scope from the global provider (set up
 * by otelc_init()). name identifies the instrumenting library ("" is allowed
 * but discouraged); version and schema_url may be NULL. The same arguments
 * return the same tracer. Before otelc_init() or when the SDK is disabled a
 * no-op tracer is returned, never NULL.
 */
otelc_tracer *otelc_tracer_get(const char *name, const char *version);

/* As otelc_tracer_get(), with the scope's schema URL. */
otelc_tracer *otelc_tracer_get_with_schema(const char *name, const char *version,
                                           const char *schema_url);
#endif

/* A link to another span given at span start or added later. */
typedef struct otelc_link {
    otelc_span_context context;
    const otelc_attr *attrs;
    size_t attr_count;
} otelc_link;

/*
 * Rarely needed start options; zero-initialise and set what you need:
 *   otelc_span_options o = {.kind = OTELC_SPAN_SERVER, .parent = ctx};
 * parent: explicit parent context (NULL: the thread's current context,
 * unless root is true). start_ns: explicit start time in Unix nanoseconds
 * (0: now). attrs are set before sampling so samplers see them.
 * span_id / trace_id: ids chosen by the caller (8 and 16 bytes), for tools
 * that announce a span's context before they record it, such as
 * `otelc span start`; trace_id is used only for a root span. NULL or all
 * zeros: generated. Uniqueness is then the caller's responsibility.
 */
typedef struct otelc_span_options {
    otelc_span_kind kind;
    const otelc_context *parent;
    bool root;
    uint64_t start_ns;
    const otelc_attr *attrs;
    size_t attr_count;
    const otelc_link *links;
    size_t link_count;
    const uint8_t *span_id;
    const uint8_t *trace_id;
} otelc_span_options;

#ifndef OTELC_NOOP
/*
 * Start a span named name as a child of the current context. Never returns
 * NULL: when the span is not sampled or tracing is off a non-recording span
 * is returned, which still carries a valid context to propagate. Every span
 * must be ended with otelc_span_end() exactly once.
 */
otelc_span *otelc_span_start(otelc_tracer *tracer, const char *name, otelc_span_kind kind);

/* Start a span with explicit options (NULL opts: as otelc_span_start, INTERNAL). */
otelc_span *otelc_span_start_with(otelc_tracer *tracer, const char *name,
                                  const otelc_span_options *opts);

/* End the span now. The handle is invalid afterwards. */
void otelc_span_end(otelc_span *span);

/* End the span at end_ns (Unix nanoseconds; 0 means now). */
void otelc_span_end_at(otelc_span *span, uint64_t end_ns);

/* True when the span records attributes and events (it was sampled in or recorded). */
bool otelc_span_is_recording(const otelc_span *span);

/* The span's context (ids, flags, tracestate). Invalid for a NULL span. */
otelc_span_context otelc_span_get_context(const otelc_span *span);

/* Rename the span. */
void otelc_span_update_name(otelc_span *span, const char *name);

/* Typed attribute setters. Setting an existing key replaces its value. */
void otelc_span_set_str(otelc_span *span, const char *key, const char *value);
void otelc_span_set_strn(otelc_span *span, const char *key, const char *value, size_t len);
void otelc_span_set_bool(otelc_span *span, const char *key, bool value);
void otelc_span_set_int(otelc_span *span, const char *key, int64_t value);
void otelc_span_set_double(otelc_span *span, const char *key, double value);
void otelc_span_set_str_array(otelc_span *span, const char *key, const char *const *values,
                              size_t count);
void otelc_span_set_bool_array(otelc_span *span, const char *key, const bool *values, size_t count);
void otelc_span_set_int_array(otelc_span *span, const char *key, const int64_t *values,
                              size_t count);
void otelc_span_set_double_array(otelc_span *span, const char *key, const double *values,
                                 size_t count);

/*
 * Set any attribute from a generic key/value (used by the helpers above),
 * of any value type: bytes, arrays of mixed values and maps are deep-copied
 * (a map's keys made unique, the last value of a repeated key winning).
 * The attribute value length limit cuts every string and bytes value,
 * however deeply nested; arrays and maps nested more than 32 deep are
 * kept as the empty value, and so is a value of unknown type.
 */
void otelc_span_set_attr(otelc_span *span, const otelc_attr *attr);

/*
 * Set count attributes, in order, as otelc_span_set_attr() would; the
 * span's table is grown once for all of them. NULL attrs is ignored.
 */
void otelc_span_set_attrs(otelc_span *span, const otelc_attr *attrs, size_t count);

/* Add an event now, with optional attributes (attrs may be NULL). */
void otelc_span_add_event(otelc_span *span, const char *name, const otelc_attr *attrs,
                          size_t attr_count);

/* Add an event with an explicit timestamp (Unix ns; 0 means now). */
void otelc_span_add_event_at(otelc_span *span, const char *name, uint64_t time_ns,
                             const otelc_attr *attrs, size_t attr_count);

/* Add a link after start (the span context is copied). */
void otelc_span_add_link(otelc_span *span, const otelc_span_context *sc, const otelc_attr *attrs,
                         size_t attr_count);

/*
 * Set the status. description is kept only with OTELC_STATUS_ERROR. OK is
 * final: later calls cannot change it; UNSET never overrides.
 */
void otelc_span_set_status(otelc_span *span, otelc_status_code code, const char *description);

/*
 * Record an exception as the standard "exception" event with
 * exception.type, exception.message and exception.stacktrace (each may be
 * NULL and is then omitted). Does not change the status.
 */
void otelc_span_record_exception(otelc_span *span, const char *type, const char *message,
                                 const char *stacktrace);

/* ---- Current span ------------------------------------------------------ */

/*
 * Make span current on this thread until the scope exits. The span stays
 * valid while active even if ended early. Pair with otelc_scope_exit().
 */
otelc_scope otelc_span_activate(otelc_span *span);

/* The thread's current span, or NULL. Borrowed. */
otelc_span *otelc_span_current(void);
#endif

/* ---- Block helper ------------------------------------------------------ */

/* Internal support for OTELC_WITH_SPAN; do not call directly. */
typedef struct otelc__auto_span {
    otelc_span *span;
    otelc_scope scope;
    int once;
} otelc__auto_span;
#ifndef OTELC_NOOP
otelc__auto_span otelc__auto_span_begin(otelc_tracer *tracer, const char *name);
void otelc__auto_span_finish(otelc__auto_span *a);
#else
#define OTELC__NOOP_TRACE
#include "noop.h"
#endif

#define OTELC__CAT2(a, b) a##b
#define OTELC__CAT(a, b)  OTELC__CAT2(a, b)

/*
 * Run the following block inside a new INTERNAL span that is current for the
 * block and ends when the block is left by any path (break, return, goto),
 * thanks to the cleanup attribute (gcc and clang). Inside the block the span
 * is otelc_span_current().
 *
 *   OTELC_WITH_SPAN(tracer, "load-config") { ... }
 */
#define OTELC_WITH_SPAN(tracer, name)                                                              \
    for (otelc__auto_span OTELC__CAT(otelc__as_, __LINE__)                                         \
             __attribute__((cleanup(otelc__auto_span_finish))) =                                   \
                 otelc__auto_span_begin((tracer), (name));                                         \
         OTELC__CAT(otelc__as_, __LINE__).once; OTELC__CAT(otelc__as_, __LINE__).once = 0)

/* ---- Inline fast paths (internal: not API) -------------------------------- */

#ifndef OTELC_NOOP
/*
 * With gcc and clang the most frequent calls above are also defined below,
 * to be inlined into the caller: with tracing off (no provider installed,
 * or OTEL_SDK_DISABLED) a span then costs a comparison and a branch
 * instead of five calls, setters on a span that does not record are not
 * called at all, and the lengths of literal names and keys are known at
 * compile time. They behave exactly as the library's functions of
 * the same names, which remain (for function pointers, other compilers,
 * and -O0, where nothing is inlined).
 */

/* The tracer handed out when tracing is off. */
extern otelc_tracer *const otelc__noop_tracer_handle;

/*
 * A span handle with this bit set is a span that does not record: not
 * sampled, or the no-op span, which is the constant OTELC__NOOP_SPAN and
 * nothing the library ever reads through. Setters have nothing to do for
 * either; only ending a sampled-out span gives its memory back.
 */
#define OTELC__SPAN_NOT_RECORDING ((uintptr_t)1)
#define OTELC__NOOP_SPAN          ((otelc_span *)OTELC__SPAN_NOT_RECORDING)
#define OTELC__MAY_RECORD(span)   (((uintptr_t)(span)&OTELC__SPAN_NOT_RECORDING) == 0)

/* A length the callee computes with strlen. */
#define OTELC__LEN_UNKNOWN ((size_t)-1)

/*
 * The library's entry points behind the inline functions: as the public
 * functions of the same names without the "__", with each string's length
 * given (OTELC__LEN_UNKNOWN: computed with strlen) and, for start, kind
 * used when opts is NULL.
 */
otelc_span *otelc__span_start(otelc_tracer *tracer, const char *name, size_t name_len,
                              otelc_span_kind kind, const otelc_span_options *opts);
void otelc__span_set_str(otelc_span *span, const char *key, size_t key_len, const char *value,
                         size_t value_len);
void otelc__span_set_int(otelc_span *span, const char *key, size_t key_len, int64_t value);
void otelc__span_set_double(otelc_span *span, const char *key, size_t key_len, double value);
void otelc__span_set_bool(otelc_span *span, const char *key, size_t key_len, bool value);

/*
 * A span keeps one bit per attribute key it holds, to see at once that a
 * key is new: this bit, of key k, n bytes long (k not NULL). The library
 * computes it for the keys it is given at run time, and the inline setters
 * below pass it for literal keys, worked out at compile time: so it is
 * part of the ABI, and changes only with the soname. The multiplier is
 * one under which no two keys that an instrumentation library of otelc
 * sets on a span (HTTP server, HTTP client, database) share a bit: a
 * shared bit costs a search of the span's keys.
 */
#define OTELC__KEY_BIT_OF(k, n)                                                                    \
    (1u << ((((unsigned)(n) | (unsigned)(unsigned char)(k)[0] << 8 |                               \
              (unsigned)((n) ? (unsigned char)(k)[(n)-1] : 0) << 16) *                             \
             0x9e37a623u) >>                                                                       \
            27))

/*
 * The setters' entry points since 0.2.0: as otelc__span_set_*, with
 * key_bit OTELC__KEY_BIT_OF(key, key_len) when key_len is known, else 0
 * (and then key_len is OTELC__LEN_UNKNOWN or the key is NULL).
 */
void otelc__span_put_str(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                         const char *value, size_t value_len);
void otelc__span_put_int(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                         int64_t value);
void otelc__span_put_double(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                            double value);
void otelc__span_put_bool(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                          bool value);

#if defined(__GNUC__)
/* gnu_inline: never emitted, only inlined, in C and C++ alike. */
#define OTELC__INLINE extern __inline__ __attribute__((__gnu_inline__))

/*
 * strlen(s) when the compiler knows it (s a string literal), else
 * OTELC__LEN_UNKNOWN; NULL counts as "", which the callee then tells apart.
 */
#define OTELC__CONST_LEN(s)                                                                        \
    (__builtin_constant_p(__builtin_strlen((s) ? (s) : "")) ? __builtin_strlen((s) ? (s) : "")     \
                                                            : OTELC__LEN_UNKNOWN)

/*
 * A key's bit and length when the compiler knows both (k a string
 * literal), else 0 and OTELC__LEN_UNKNOWN, so that the callee measures.
 */
#define OTELC__KEY_BIT_CONST(k) OTELC__KEY_BIT_OF(k, __builtin_strlen(k))
#define OTELC__KEY_KNOWN(k)     ((k) && __builtin_constant_p(OTELC__KEY_BIT_CONST(k)))
#define OTELC__KEY_BIT(k)       (OTELC__KEY_KNOWN(k) ? OTELC__KEY_BIT_CONST(k) : 0u)
#define OTELC__KEY_LEN(k)       (OTELC__KEY_KNOWN(k) ? __builtin_strlen(k) : OTELC__LEN_UNKNOWN)
#define OTELC__KEY(k)           (k), OTELC__KEY_LEN(k), OTELC__KEY_BIT(k)

OTELC__INLINE otelc_span *otelc_span_start(otelc_tracer *tracer, const char *name,
                                           otelc_span_kind kind)
{
    if (tracer == otelc__noop_tracer_handle) return OTELC__NOOP_SPAN;
    return otelc__span_start(tracer, name, OTELC__CONST_LEN(name), kind, NULL);
}

OTELC__INLINE otelc_span *otelc_span_start_with(otelc_tracer *tracer, const char *name,
                                                const otelc_span_options *opts)
{
    if (tracer == otelc__noop_tracer_handle) return OTELC__NOOP_SPAN;
    return otelc__span_start(tracer, name, OTELC__CONST_LEN(name), OTELC_SPAN_INTERNAL, opts);
}

OTELC__INLINE void otelc_span_set_str(otelc_span *span, const char *key, const char *value)
{
    if (OTELC__MAY_RECORD(span))
        otelc__span_put_str(span, OTELC__KEY(key), value, OTELC__CONST_LEN(value));
}

OTELC__INLINE void otelc_span_set_strn(otelc_span *span, const char *key, const char *value,
                                       size_t len)
{
    if (OTELC__MAY_RECORD(span)) otelc__span_put_str(span, OTELC__KEY(key), value, value ? len : 0);
}

OTELC__INLINE void otelc_span_set_int(otelc_span *span, const char *key, int64_t value)
{
    if (OTELC__MAY_RECORD(span)) otelc__span_put_int(span, OTELC__KEY(key), value);
}

OTELC__INLINE void otelc_span_set_double(otelc_span *span, const char *key, double value)
{
    if (OTELC__MAY_RECORD(span)) otelc__span_put_double(span, OTELC__KEY(key), value);
}

OTELC__INLINE void otelc_span_set_bool(otelc_span *span, const char *key, bool value)
{
    if (OTELC__MAY_RECORD(span)) otelc__span_put_bool(span, OTELC__KEY(key), value);
}

OTELC__INLINE void otelc_span_end(otelc_span *span)
{
    if (span != OTELC__NOOP_SPAN) otelc_span_end_at(span, 0);
}
#endif /* __GNUC__ */
#endif /* OTELC_NOOP */

#ifdef __cplusplus
}
#endif
#endif
