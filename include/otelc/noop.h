/*
 * otelc/noop.h - the compile-time no-op switch.
 *
 * Define OTELC_NOOP before including <otelc/otelc.h> (or pass -DOTELC_NOOP)
 * and the instrumentation API compiles to nothing: every function of
 * trace.h and context.h, the carriers and propagators of propagation.h and
 * otelc_init/otelc_shutdown/otelc_force_flush/otelc_strerror/otelc_version
 * become static inline functions that do nothing and return neutral values.
 * Handles returned (tracers, spans, contexts, propagators) are non-NULL
 * dummies that every other function accepts; spans never record and carry
 * an invalid (all-zero) span context; OTELC_WITH_SPAN still runs its block
 * exactly once. Such a program compiles and links without libotelc.
 *
 * What stays real, and so still needs the library when used: sdk.h and
 * testing.h (providers, samplers, processors, exporters) and the
 * format-level helpers of propagation.h (otelc_traceparent_parse and the
 * other parsers and writers).
 *
 * Do not include this file directly: the public headers include it, one
 * part each, when OTELC_NOOP is defined. It has no include guard on
 * purpose; each part is guarded by its own OTELC__NOOP_*_DONE macro.
 */
#ifndef OTELC_NOOP
#error "define OTELC_NOOP and include <otelc/otelc.h> instead of <otelc/noop.h>"
#endif

/* ---- Shared helpers --------------------------------------------------- */

#ifndef OTELC__NOOP_COMMON_DONE
#define OTELC__NOOP_COMMON_DONE

/* The address every dummy handle points at (one per translation unit). */
static inline void *otelc__noop_handle(void)
{
    static char dummy;
    return &dummy;
}

static inline char *otelc__noop_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = in ? digits[in[i] >> 4] : '0';
        out[2 * i + 1] = in ? digits[in[i] & 15] : '0';
    }
    out[2 * n] = '\0';
    return out;
}

#endif

/* ---- context.h -------------------------------------------------------- */

#if defined(OTELC__NOOP_CONTEXT) && !defined(OTELC__NOOP_CONTEXT_DONE)
#define OTELC__NOOP_CONTEXT_DONE

/* The value helpers compute their answer: they involve no SDK state. */
static inline bool otelc_span_context_is_valid(const otelc_span_context *sc)
{
    if (!sc) return false;
    uint8_t t = 0, s = 0;
    for (size_t i = 0; i < sizeof sc->trace_id; i++) t |= sc->trace_id[i];
    for (size_t i = 0; i < sizeof sc->span_id; i++) s |= sc->span_id[i];
    return t != 0 && s != 0;
}

static inline bool otelc_span_context_is_sampled(const otelc_span_context *sc)
{
    return sc && (sc->trace_flags & OTELC_TRACE_FLAG_SAMPLED) != 0;
}

static inline char *otelc_trace_id_hex(const otelc_span_context *sc, char out[33])
{
    return otelc__noop_hex(sc ? sc->trace_id : NULL, 16, out);
}

static inline char *otelc_span_id_hex(const otelc_span_context *sc, char out[17])
{
    return otelc__noop_hex(sc ? sc->span_id : NULL, 8, out);
}

/* Baggage is always empty (NULL is the empty baggage). */
static inline const char *otelc_baggage_get(const otelc_baggage *bg, const char *key)
{
    (void)bg;
    (void)key;
    return NULL;
}

static inline const char *otelc_baggage_get_metadata(const otelc_baggage *bg, const char *key)
{
    (void)bg;
    (void)key;
    return NULL;
}

static inline otelc_baggage *otelc_baggage_set(const otelc_baggage *bg, const char *key,
                                               const char *value, const char *metadata)
{
    (void)bg;
    (void)key;
    (void)value;
    (void)metadata;
    return NULL;
}

static inline otelc_baggage *otelc_baggage_remove(const otelc_baggage *bg, const char *key)
{
    (void)bg;
    (void)key;
    return NULL;
}

static inline size_t otelc_baggage_count(const otelc_baggage *bg)
{
    (void)bg;
    return 0;
}

static inline bool otelc_baggage_entry(const otelc_baggage *bg, size_t i, const char **key,
                                       const char **value, const char **metadata)
{
    (void)bg;
    (void)i;
    (void)key;
    (void)value;
    (void)metadata;
    return false;
}

static inline otelc_baggage *otelc_baggage_retain(const otelc_baggage *bg)
{
    return (otelc_baggage *)(uintptr_t)bg;
}

static inline void otelc_baggage_release(const otelc_baggage *bg)
{
    (void)bg;
}

/* Contexts: one dummy handle, carrying an invalid span context. */
static inline otelc_context *otelc__noop_context(void)
{
    return (otelc_context *)otelc__noop_handle();
}

static inline otelc_context *otelc_context_new(const otelc_span_context *sc,
                                               const otelc_baggage *bg)
{
    (void)sc;
    (void)bg;
    return otelc__noop_context();
}

static inline otelc_span_context otelc_context_span_context(const otelc_context *ctx)
{
    otelc_span_context sc = {{0}, {0}, 0, false, NULL};
    (void)ctx;
    return sc;
}

static inline const otelc_baggage *otelc_context_baggage(const otelc_context *ctx)
{
    (void)ctx;
    return NULL;
}

static inline otelc_context *otelc_context_with_baggage(const otelc_context *ctx,
                                                        const otelc_baggage *bg)
{
    (void)ctx;
    (void)bg;
    return otelc__noop_context();
}

static inline otelc_context *otelc_context_with_span_context(const otelc_context *ctx,
                                                             const otelc_span_context *sc)
{
    (void)ctx;
    (void)sc;
    return otelc__noop_context();
}

static inline otelc_context *otelc_context_retain(const otelc_context *ctx)
{
    return (otelc_context *)(uintptr_t)ctx;
}

static inline void otelc_context_release(const otelc_context *ctx)
{
    (void)ctx;
}

static inline otelc_context *otelc_context_current(void)
{
    return otelc__noop_context();
}

static inline otelc_scope otelc_context_attach(const otelc_context *ctx)
{
    otelc_scope scope = {0, 0};
    (void)ctx;
    return scope;
}

static inline void otelc_scope_exit(otelc_scope scope)
{
    (void)scope;
}

static inline const otelc_baggage *otelc_baggage_current(void)
{
    return NULL;
}

/* Serialises to the empty string (length 0). */
static inline int otelc_context_serialize(const otelc_context *ctx, char *out, size_t out_size)
{
    (void)ctx;
    if (out && out_size > 0) out[0] = '\0';
    return 0;
}

static inline otelc_context *otelc_context_deserialize(const char *text)
{
    (void)text;
    return otelc__noop_context();
}

#endif

/* ---- trace.h ---------------------------------------------------------- */

#if defined(OTELC__NOOP_TRACE) && !defined(OTELC__NOOP_TRACE_DONE)
#define OTELC__NOOP_TRACE_DONE

static inline otelc_tracer *otelc_tracer_get(const char *name, const char *version)
{
    (void)name;
    (void)version;
    return (otelc_tracer *)otelc__noop_handle();
}

static inline otelc_tracer *otelc_tracer_get_with_schema(const char *name, const char *version,
                                                         const char *schema_url)
{
    (void)name;
    (void)version;
    (void)schema_url;
    return (otelc_tracer *)otelc__noop_handle();
}

static inline otelc_span *otelc_span_start(otelc_tracer *tracer, const char *name,
                                           otelc_span_kind kind)
{
    (void)tracer;
    (void)name;
    (void)kind;
    return (otelc_span *)otelc__noop_handle();
}

static inline otelc_span *otelc_span_start_with(otelc_tracer *tracer, const char *name,
                                                const otelc_span_options *opts)
{
    (void)tracer;
    (void)name;
    (void)opts;
    return (otelc_span *)otelc__noop_handle();
}

static inline void otelc_span_end(otelc_span *span)
{
    (void)span;
}

static inline void otelc_span_end_at(otelc_span *span, uint64_t end_ns)
{
    (void)span;
    (void)end_ns;
}

static inline bool otelc_span_is_recording(const otelc_span *span)
{
    (void)span;
    return false;
}

static inline otelc_span_context otelc_span_get_context(const otelc_span *span)
{
    otelc_span_context sc = {{0}, {0}, 0, false, NULL};
    (void)span;
    return sc;
}

static inline void otelc_span_update_name(otelc_span *span, const char *name)
{
    (void)span;
    (void)name;
}

static inline void otelc_span_set_str(otelc_span *span, const char *key, const char *value)
{
    (void)span;
    (void)key;
    (void)value;
}

static inline void otelc_span_set_strn(otelc_span *span, const char *key, const char *value,
                                       size_t len)
{
    (void)span;
    (void)key;
    (void)value;
    (void)len;
}

static inline void otelc_span_set_bool(otelc_span *span, const char *key, bool value)
{
    (void)span;
    (void)key;
    (void)value;
}

static inline void otelc_span_set_int(otelc_span *span, const char *key, int64_t value)
{
    (void)span;
    (void)key;
    (void)value;
}

static inline void otelc_span_set_double(otelc_span *span, const char *key, double value)
{
    (void)span;
    (void)key;
    (void)value;
}

static inline void otelc_span_set_str_array(otelc_span *span, const char *key,
                                            const char *const *values, size_t count)
{
    (void)span;
    (void)key;
    (void)values;
    (void)count;
}

static inline void otelc_span_set_bool_array(otelc_span *span, const char *key, const bool *values,
                                             size_t count)
{
    (void)span;
    (void)key;
    (void)values;
    (void)count;
}

static inline void otelc_span_set_int_array(otelc_span *span, const char *key,
                                            const int64_t *values, size_t count)
{
    (void)span;
    (void)key;
    (void)values;
    (void)count;
}

static inline void otelc_span_set_double_array(otelc_span *span, const char *key,
                                               const double *values, size_t count)
{
    (void)span;
    (void)key;
    (void)values;
    (void)count;
}

static inline void otelc_span_set_attrs(otelc_span *span, const otelc_attr *attrs, size_t count)
{
    (void)span, (void)attrs, (void)count;
}

static inline void otelc_span_set_attr(otelc_span *span, const otelc_attr *attr)
{
    (void)span;
    (void)attr;
}

static inline void otelc_span_add_event(otelc_span *span, const char *name, const otelc_attr *attrs,
                                        size_t attr_count)
{
    (void)span;
    (void)name;
    (void)attrs;
    (void)attr_count;
}

static inline void otelc_span_add_event_at(otelc_span *span, const char *name, uint64_t time_ns,
                                           const otelc_attr *attrs, size_t attr_count)
{
    (void)span;
    (void)name;
    (void)time_ns;
    (void)attrs;
    (void)attr_count;
}

static inline void otelc_span_add_link(otelc_span *span, const otelc_span_context *sc,
                                       const otelc_attr *attrs, size_t attr_count)
{
    (void)span;
    (void)sc;
    (void)attrs;
    (void)attr_count;
}

static inline void otelc_span_set_status(otelc_span *span, otelc_status_code code,
                                         const char *description)
{
    (void)span;
    (void)code;
    (void)description;
}

static inline void otelc_span_record_exception(otelc_span *span, const char *type,
                                               const char *message, const char *stacktrace)
{
    (void)span;
    (void)type;
    (void)message;
    (void)stacktrace;
}

static inline otelc_scope otelc_span_activate(otelc_span *span)
{
    otelc_scope scope = {0, 0};
    (void)span;
    return scope;
}

/* Nothing is ever current. */
static inline otelc_span *otelc_span_current(void)
{
    return NULL;
}

/* OTELC_WITH_SPAN: once = 1 runs the block exactly once; nothing to finish. */
static inline otelc__auto_span otelc__auto_span_begin(otelc_tracer *tracer, const char *name)
{
    otelc__auto_span a = {NULL, {0, 0}, 1};
    (void)tracer;
    (void)name;
    a.span = (otelc_span *)otelc__noop_handle();
    return a;
}

static inline void otelc__auto_span_finish(otelc__auto_span *a)
{
    (void)a;
}

#endif

/* ---- propagation.h ------------------------------------------------------ */

#if defined(OTELC__NOOP_PROPAGATION) && !defined(OTELC__NOOP_PROPAGATION_DONE)
#define OTELC__NOOP_PROPAGATION_DONE

#include <stdlib.h>
#include <string.h>

/* Header lists accept and store nothing. */
static inline int otelc_headers_add(otelc_headers *h, const char *name, const char *value)
{
    (void)h;
    (void)name;
    (void)value;
    return OTELC_OK;
}

static inline int otelc_headers_set(otelc_headers *h, const char *name, const char *value)
{
    (void)h;
    (void)name;
    (void)value;
    return OTELC_OK;
}

static inline const char *otelc_headers_get(const otelc_headers *h, const char *name)
{
    (void)h;
    (void)name;
    return NULL;
}

static inline void otelc_headers_clear(otelc_headers *h)
{
    (void)h;
}

/* Carriers without callbacks: nothing is ever read or written through them. */
static inline otelc_carrier otelc__noop_carrier(void *self)
{
    otelc_carrier c = {NULL, NULL, NULL, NULL, NULL};
    c.self = self;
    return c;
}

static inline otelc_carrier otelc_headers_carrier(otelc_headers *h)
{
    return otelc__noop_carrier(h);
}

static inline otelc_carrier otelc_env_carrier(void)
{
    return otelc__noop_carrier(NULL);
}

static inline otelc_carrier otelc_envp_carrier(char ***envp)
{
    return otelc__noop_carrier(envp);
}

/*
 * A real copy of environ, so that callers can keep treating the result as
 * their own malloc'd, NULL-terminated array (NULL when out of memory).
 */
static inline char **otelc_envp_copy(void)
{
    extern char **environ;
    size_t n = 0;
    while (environ && environ[n]) n++;
    char **copy = (char **)calloc(n + 1, sizeof *copy);
    if (!copy) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(environ[i]) + 1;
        copy[i] = (char *)malloc(len);
        if (!copy[i]) {
            while (i > 0) free(copy[--i]);
            free(copy);
            return NULL;
        }
        memcpy(copy[i], environ[i], len);
    }
    return copy;
}

static inline void otelc_envp_free(char **envp)
{
    if (!envp) return;
    for (size_t i = 0; envp[i]; i++) free(envp[i]);
    free(envp);
}

/* Propagators: one dummy handle that injects nothing and extracts nothing. */
static inline otelc_propagator *otelc__noop_propagator(void)
{
    return (otelc_propagator *)otelc__noop_handle();
}

static inline otelc_propagator *otelc_propagator_tracecontext(void)
{
    return otelc__noop_propagator();
}

static inline otelc_propagator *otelc_propagator_baggage(void)
{
    return otelc__noop_propagator();
}

static inline otelc_propagator *otelc_propagator_b3(void)
{
    return otelc__noop_propagator();
}

static inline otelc_propagator *otelc_propagator_b3multi(void)
{
    return otelc__noop_propagator();
}

static inline otelc_propagator *otelc_propagator_jaeger(void)
{
    return otelc__noop_propagator();
}

static inline otelc_propagator *otelc_propagator_composite(otelc_propagator *const *parts,
                                                           size_t count)
{
    (void)parts;
    (void)count;
    return otelc__noop_propagator();
}

static inline otelc_propagator *otelc_propagator_from_list(const char *list, int *bad)
{
    (void)list;
    if (bad) *bad = 0;
    return otelc__noop_propagator();
}

static inline void otelc_propagator_free(otelc_propagator *p)
{
    (void)p;
}

static inline void otelc_propagator_inject(const otelc_propagator *p, const otelc_context *ctx,
                                           const otelc_carrier *carrier)
{
    (void)p;
    (void)ctx;
    (void)carrier;
}

static inline otelc_context *otelc_propagator_extract(const otelc_propagator *p,
                                                      const otelc_context *base,
                                                      const otelc_carrier *carrier)
{
    (void)p;
    (void)base;
    (void)carrier;
    return (otelc_context *)otelc__noop_handle();
}

static inline void otelc_inject(const otelc_context *ctx, const otelc_carrier *carrier)
{
    (void)ctx;
    (void)carrier;
}

static inline otelc_context *otelc_extract(const otelc_carrier *carrier)
{
    (void)carrier;
    return (otelc_context *)otelc__noop_handle();
}

#endif

/* ---- otelc.h ------------------------------------------------------------ */

#if defined(OTELC__NOOP_OTELC) && !defined(OTELC__NOOP_OTELC_DONE)
#define OTELC__NOOP_OTELC_DONE

static inline const char *otelc_strerror(int err)
{
    return err == OTELC_OK ? "success" : "error (otelc compiled out with OTELC_NOOP)";
}

static inline const char *otelc_version(void)
{
    return OTELC_VERSION;
}

static inline int otelc_init(const otelc_provider_options *opts)
{
    (void)opts;
    return OTELC_OK;
}

static inline void otelc_shutdown(void) {}

static inline int otelc_force_flush(uint32_t timeout_ms)
{
    (void)timeout_ms;
    return OTELC_OK;
}

#endif
