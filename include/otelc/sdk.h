/*
 * otelc/sdk.h - the tracing SDK: provider, resource, limits, samplers,
 * processors, exporters, self-telemetry and diagnostics.
 *
 * Ownership rule for this header: a function that takes a sampler,
 * processor, exporter, resource or propagator as an argument of a
 * constructor takes ownership of it, whether it succeeds or not.
 */
#ifndef OTELC_SDK_H
#define OTELC_SDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include <stdio.h>

#include "trace.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otelc_propagator otelc_propagator;

/* ---- Resource ---------------------------------------------------------- */

/* An immutable set of attributes describing the entity producing telemetry. */
typedef struct otelc_resource otelc_resource;

/* A resource holding a copy of attrs. schema_url may be NULL. */
otelc_resource *otelc_resource_new(const otelc_attr *attrs, size_t count, const char *schema_url);

/*
 * The default resource: telemetry.sdk.*, service.name (unknown_service:exe),
 * host.name, process.pid, process.executable.name, process.command_args,
 * merged with OTEL_RESOURCE_ATTRIBUTES and then OTEL_SERVICE_NAME, which win.
 * use_env false skips the environment.
 */
otelc_resource *otelc_resource_default(bool use_env);

/*
 * A new resource with the attributes of base overridden by those of update
 * (the spec's Merge). Neither argument is consumed.
 */
otelc_resource *otelc_resource_merge(const otelc_resource *base, const otelc_resource *update);

/* The attributes (borrowed) and their number. */
const otelc_attr *otelc_resource_attrs(const otelc_resource *res, size_t *count);

/* The value of key, or NULL. */
const otelc_value *otelc_resource_get(const otelc_resource *res, const char *key);

/* The resource's schema URL, or NULL when it has none. */
const char *otelc_resource_schema_url(const otelc_resource *res);

/* Free a resource. NULL is ignored. */
void otelc_resource_free(otelc_resource *res);

/* ---- Finished span data (what processors and exporters read) ----------- */

typedef struct otelc_scope_info {
    const char *name;
    const char *version;     /* may be NULL */
    const char *schema_url;  /* may be NULL */
    const otelc_attr *attrs; /* the scope's attributes (received spans; none for tracers) */
    uint32_t attr_count;
    uint32_t dropped_attr_count;
} otelc_scope_info;

typedef struct otelc_event_data {
    const char *name;
    uint64_t time_ns;
    const otelc_attr *attrs;
    uint32_t attr_count;
    uint32_t dropped_attr_count;
} otelc_event_data;

typedef struct otelc_link_data {
    otelc_span_context context;
    const otelc_attr *attrs;
    uint32_t attr_count;
    uint32_t dropped_attr_count;
} otelc_link_data;

/*
 * A read-only view of a span. Stored strings are NUL-terminated and their
 * otelc_value lengths are exact. Valid until the holder releases it (see
 * otelc_span_data_retain()).
 */
typedef struct otelc_span_data {
    otelc_span_context context;
    uint8_t parent_span_id[8];
    bool has_parent;
    bool parent_is_remote;
    otelc_span_kind kind;
    const char *name;
    uint64_t start_ns;
    uint64_t end_ns;
    const otelc_attr *attrs;
    uint32_t attr_count;
    uint32_t dropped_attr_count;
    const otelc_event_data *events;
    uint32_t event_count;
    uint32_t dropped_event_count;
    const otelc_link_data *links;
    uint32_t link_count;
    uint32_t dropped_link_count;
    otelc_status_code status;
    const char *status_message; /* NULL unless ERROR with a description */
    const otelc_scope_info *scope;
    const otelc_resource *resource;
} otelc_span_data;

/*
 * Keep a finished span beyond the on_end call (a processor that queues
 * it). Each retain needs one otelc_span_data_release(); the last release
 * recycles the span.
 */
void otelc_span_data_retain(const otelc_span_data *sd);
void otelc_span_data_release(const otelc_span_data *sd);

/* The attribute value stored under key on a span, or NULL. */
const otelc_value *otelc_span_data_attr(const otelc_span_data *sd, const char *key);

/* The attribute value stored under key in an attribute list, or NULL. */
const otelc_value *otelc_attrs_find(const otelc_attr *attrs, size_t count, const char *key);

/* ---- Span limits ------------------------------------------------------- */

#define OTELC_UNLIMITED UINT32_MAX

typedef struct otelc_span_limits {
    uint32_t attribute_count;        /* OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, 128 */
    uint32_t attribute_value_length; /* OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, unlimited */
    uint32_t event_count;            /* OTEL_SPAN_EVENT_COUNT_LIMIT, 128 */
    uint32_t link_count;             /* OTEL_SPAN_LINK_COUNT_LIMIT, 128 */
    uint32_t event_attribute_count;  /* OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, 128 */
    uint32_t link_attribute_count;   /* OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, 128 */
} otelc_span_limits;

/* Fill out with the specification's defaults (no environment). */
void otelc_span_limits_default(otelc_span_limits *out);

/* ---- Samplers ---------------------------------------------------------- */

typedef enum otelc_sampling_decision {
    OTELC_SAMPLING_DROP = 0,
    OTELC_SAMPLING_RECORD_ONLY = 1,
    OTELC_SAMPLING_RECORD_AND_SAMPLE = 2,
} otelc_sampling_decision;

/* What a sampler sees. parent is NULL for a root span (no valid parent). */
typedef struct otelc_sampling_params {
    const otelc_span_context *parent;
    const uint8_t *trace_id; /* 16 bytes: the parent's, or the new root's */
    const char *name;
    otelc_span_kind kind;
    const otelc_attr *attrs;
    size_t attr_count;
    const otelc_link *links;
    size_t link_count;
} otelc_sampling_params;

/*
 * What a sampler decides. trace_state, when not NULL, replaces the
 * parent's tracestate on the new span: point it at storage that lives as
 * long as the sampler, or at trace_state_buf (the SDK copies it).
 */
typedef struct otelc_sampling_result {
    otelc_sampling_decision decision;
    const char *trace_state;
    char trace_state_buf[600];
} otelc_sampling_result;

typedef struct otelc_sampler_ops {
    void (*should_sample)(void *self, const otelc_sampling_params *params,
                          otelc_sampling_result *result);
    const char *(*description)(void *self);
    void (*destroy)(void *self); /* may be NULL */
} otelc_sampler_ops;

typedef struct otelc_sampler otelc_sampler;

/*
 * A sampler from user callbacks; self is passed to every callback. Returns
 * NULL when ops or its should_sample is NULL or memory runs out, after
 * calling ops->destroy(self) when there is one.
 */
otelc_sampler *otelc_sampler_new(const otelc_sampler_ops *ops, void *self);

/*
 * The samplers that sample every span (always_on) and none (always_off).
 * Static objects, never NULL: otelc_sampler_free() leaves them be.
 */
otelc_sampler *otelc_sampler_always_on(void);
otelc_sampler *otelc_sampler_always_off(void);

/* Sample the fraction ratio (0..1) of traces, decided from the trace id. */
otelc_sampler *otelc_sampler_trace_id_ratio(double ratio);

/*
 * Follow the parent's sampled flag; root decides for root spans. Each of
 * the four delegates may be NULL for its default (remote/local sampled:
 * always_on; remote/local not sampled: always_off). Takes all five.
 */
otelc_sampler *otelc_sampler_parent_based(otelc_sampler *root, otelc_sampler *remote_sampled,
                                          otelc_sampler *remote_not_sampled,
                                          otelc_sampler *local_sampled,
                                          otelc_sampler *local_not_sampled);

/*
 * Sample at most per_second new traces per second (token bucket with a
 * burst of one second's worth); everything over the rate is dropped.
 */
otelc_sampler *otelc_sampler_rate_limiting(double per_second);

/* Ask a sampler directly (tests, composite samplers). */
void otelc_sampler_should_sample(otelc_sampler *s, const otelc_sampling_params *params,
                                 otelc_sampling_result *result);

/* The sampler's description, e.g. "TraceIdRatioBased{0.250000}". */
const char *otelc_sampler_description(const otelc_sampler *s);

/* Free a sampler (and its delegates). NULL is ignored. */
void otelc_sampler_free(otelc_sampler *s);

/* ---- Exporters --------------------------------------------------------- */

typedef enum otelc_export_result {
    OTELC_EXPORT_SUCCESS = 0,
    OTELC_EXPORT_FAILURE = 1,
} otelc_export_result;

/*
 * Exporter callbacks. export_spans is never called concurrently for one
 * exporter; the spans are valid only during the call. shutdown is called
 * once, and may run on another thread while an export is in progress (when
 * a processor's shutdown times out): it should then make that export give
 * up soon rather than wait for a slow backend.
 *
 * after_fork_child runs in a fork() child, on the only thread there is,
 * before any other call: the parent's exporting thread may have been in the
 * middle of an export, so locks it held must be re-created and connections
 * it had open must be dropped (closed in the child only, never shut down,
 * which would end them for the parent too) so the child opens its own.
 */
typedef struct otelc_exporter_ops {
    otelc_export_result (*export_spans)(void *self, const otelc_span_data *const *spans,
                                        size_t count);
    int (*force_flush)(void *self, uint32_t timeout_ms); /* may be NULL */
    void (*shutdown)(void *self);                        /* may be NULL */
    void (*destroy)(void *self);                         /* may be NULL */
    void (*after_fork_child)(void *self);                /* may be NULL */
} otelc_exporter_ops;

typedef struct otelc_exporter otelc_exporter;

/* An exporter from user callbacks. */
otelc_exporter *otelc_exporter_new(const otelc_exporter_ops *ops, void *self);

/* Call the exporter (processors do this; useful in tests). */
otelc_export_result otelc_exporter_export(otelc_exporter *exp, const otelc_span_data *const *spans,
                                          size_t count);

/* Shut down and free. NULL is ignored. */
void otelc_exporter_free(otelc_exporter *exp);

/*
 * Whether the calling thread is inside an exporter: in
 * otelc_exporter_export() or an exporter's shutdown. Instrumentation of a
 * library the exporters use themselves (libcurl) asks it to leave the SDK's
 * own requests untraced; tracing them would make a span per export, which
 * is exported, which makes another span, without end.
 */
bool otelc_exporting(void);

/*
 * Run the exporter's after_fork_child. For processors of your own: call it
 * from the processor's after_fork_child for each exporter it owns (the
 * built-in processors do). NULL is ignored.
 */
void otelc_exporter_after_fork_child(otelc_exporter *exp);

typedef enum otelc_console_format {
    OTELC_CONSOLE_TREE = 0, /* an indented tree per trace, human readable */
    OTELC_CONSOLE_JSON = 1, /* one JSON object per span per line */
} otelc_console_format;

/*
 * Console exporter writing to out (NULL: stderr). The tree format holds a
 * trace's spans until its root ends (or a batch later) and then prints the
 * whole tree.
 */
otelc_exporter *otelc_console_exporter_new(FILE *out, otelc_console_format format);

/* ---- Processors -------------------------------------------------------- */

/*
 * Processor callbacks. on_start runs on the thread starting a recording
 * span and may set attributes. on_end receives the finished span: call
 * otelc_span_data_retain() to keep it past the call. on_end must not block.
 * after_fork_child runs in a fork() child, on its only thread, as the
 * exporter's does (see otelc_exporter_ops): re-create locks, drop what the
 * parent's threads were doing, and tell the exporters the processor owns.
 */
typedef struct otelc_processor_ops {
    void (*on_start)(void *self, otelc_span *span, const otelc_span_context *parent);
    void (*on_end)(void *self, const otelc_span_data *span);
    int (*force_flush)(void *self, uint32_t timeout_ms);
    int (*shutdown)(void *self, uint32_t timeout_ms);
    void (*destroy)(void *self);
    void (*after_fork_child)(void *self); /* may be NULL */
} otelc_processor_ops;

typedef struct otelc_processor otelc_processor;

/* A processor from user callbacks (any callback may be NULL). */
otelc_processor *otelc_processor_new(const otelc_processor_ops *ops, void *self);

/* Export each span as it ends, on the ending thread (tests, debugging). */
otelc_processor *otelc_simple_processor_new(otelc_exporter *exp);

/* Batch processor settings; 0 in any field means "from env or default". */
typedef struct otelc_batch_options {
    uint32_t max_queue_size;        /* OTEL_BSP_MAX_QUEUE_SIZE, 2048 */
    uint32_t schedule_delay_ms;     /* OTEL_BSP_SCHEDULE_DELAY, 5000 */
    uint32_t max_export_batch_size; /* OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512 */
    uint32_t export_timeout_ms;     /* OTEL_BSP_EXPORT_TIMEOUT, 30000 */
    /*
     * Called on the worker thread as it starts, before its first export
     * (again in a fork child, whose worker is a new thread): the place to
     * set its scheduling policy, priority, CPU affinity or cgroup. It
     * replaces the default (see otelc_batch_processor_new): the thread
     * starts with the application's policy and priority. NULL: default.
     */
    void (*worker_start)(void *arg);
    void *worker_start_arg;
} otelc_batch_options;

/*
 * Queue finished spans and export them in batches on a background thread
 * (named "otelc-batch"): when a batch fills or the schedule delay passes.
 * Never blocks on_end: a full queue drops the span and counts it. opts
 * NULL: environment/defaults.
 *
 * Each export is a burst of work on that thread (about 0.4 ms of CPU time
 * for 512 HTTP server spans on a small VM). So that the application's
 * threads never wait for it, on Linux and without a worker_start the
 * thread steps back when it was started under the normal policy: it makes
 * itself SCHED_BATCH (waking it preempts no one) and nice +10 (a request
 * thread that wakes takes the CPU back at once), yet keeps about a tenth
 * of a CPU under full load, enough for ~100,000 spans/s; beyond that the
 * queue fills and drops (counted). OTELC_BSP_WORKER_PRIORITY=normal in the
 * environment (read here) keeps the inherited policy and priority instead.
 * A worker_start that makes the thread SCHED_IDLE steps back further (see
 * docs/configuration.md), at the cost of dropping most spans while the
 * machine is saturated.
 */
otelc_processor *otelc_batch_processor_new(otelc_exporter *exp, const otelc_batch_options *opts);

/*
 * Export what the processor holds, waiting at most timeout_ms (force_flush),
 * or flush it and stop it (shutdown; only the first call reaches the
 * processor). Returns the processor callback's result, or OTELC_OK when it
 * has none, for a NULL processor and after shutdown.
 */
int otelc_processor_force_flush(otelc_processor *p, uint32_t timeout_ms);
int otelc_processor_shutdown(otelc_processor *p, uint32_t timeout_ms);

/* Shut down (if not yet) and free. NULL is ignored. */
void otelc_processor_free(otelc_processor *p);

/* ---- Self-telemetry ---------------------------------------------------- */

typedef struct otelc_stats {
    uint64_t spans_started;       /* recording spans started */
    uint64_t spans_ended;         /* recording spans ended */
    uint64_t spans_sampled_out;   /* spans started non-recording */
    uint64_t spans_dropped;       /* dropped because a processor queue was full */
    uint64_t spans_exported;      /* spans an exporter accepted */
    uint64_t spans_export_failed; /* spans in failed exports */
    uint64_t export_failures;     /* failed export calls */
    uint64_t propagation_errors;  /* invalid incoming context headers */
} otelc_stats;

/* ---- Provider ---------------------------------------------------------- */

typedef struct otelc_provider otelc_provider;

/*
 * Provider settings. Zero-initialise; NULL fields come from the OTEL_*
 * environment unless no_env is set (then: default resource without env,
 * parentbased_always_on, no processors, default limits, tracecontext+baggage).
 * Objects given here are owned by the provider from then on.
 */
typedef struct otelc_provider_options {
    bool no_env;
    otelc_resource *resource;
    otelc_sampler *sampler;
    otelc_processor **processors;
    size_t processor_count;
    const otelc_span_limits *limits;
    otelc_propagator *propagator;
    bool ignore_env_parent; /* do not continue TRACEPARENT from the environment */
} otelc_provider_options;

/*
 * Create a provider. Returns OTELC_OK and sets *out, or an error (a bad
 * configuration is reported through the diagnostic log naming the variable).
 * With OTEL_SDK_DISABLED=true a disabled provider (all no-ops) is returned.
 */
int otelc_provider_new(const otelc_provider_options *opts, otelc_provider **out);

/* A tracer from this provider (see otelc_tracer_get()). */
otelc_tracer *otelc_provider_tracer(otelc_provider *p, const char *name, const char *version,
                                    const char *schema_url);

/* Add a processor after creation (takes ownership). */
int otelc_provider_add_processor(otelc_provider *p, otelc_processor *proc);

/* Export everything queued; waits at most timeout_ms. */
int otelc_provider_force_flush(otelc_provider *p, uint32_t timeout_ms);

/*
 * Flush and stop every processor, waiting at most timeout_ms (each batch
 * processor's export timeout caps it): at the bound an export in flight is
 * abandoned (the OTLP exporter cancels its transfer) and what was not
 * delivered is counted as failed; OTELC_ERR_TIMEOUT then. Later spans are
 * non-recording.
 */
int otelc_provider_shutdown(otelc_provider *p, uint32_t timeout_ms);

/* Shut down (if not yet) and free. Not while other threads still use it. */
void otelc_provider_free(otelc_provider *p);

/* Read the provider's counters. */
void otelc_provider_stats(const otelc_provider *p, otelc_stats *out);

/* The provider's propagator (borrowed). */
const otelc_propagator *otelc_provider_propagator(const otelc_provider *p);

/* The provider's resource (borrowed). */
const otelc_resource *otelc_provider_resource(const otelc_provider *p);

/* True when OTEL_SDK_DISABLED made this provider a no-op. */
bool otelc_provider_is_disabled(const otelc_provider *p);

/*
 * Install p as the global provider used by otelc_tracer_get() (takes
 * ownership; the previous one is shut down and freed). NULL uninstalls.
 */
void otelc_provider_set_global(otelc_provider *p);

/* The global provider, or NULL. */
otelc_provider *otelc_provider_global(void);

/* Counters of the global provider (all zero without one). */
void otelc_stats_get(otelc_stats *out);

/* ---- Diagnostics ------------------------------------------------------- */

typedef enum otelc_log_level {
    OTELC_LOG_NONE = 0,
    OTELC_LOG_ERROR = 1,
    OTELC_LOG_WARN = 2,
    OTELC_LOG_INFO = 3,
    OTELC_LOG_DEBUG = 4,
} otelc_log_level;

typedef void (*otelc_log_fn)(otelc_log_level level, const char *message, void *user);

/*
 * Route the SDK's own diagnostics to fn (NULL: back to stderr). Messages at
 * or below the level set by OTEL_LOG_LEVEL (default warn) are delivered, at
 * most a few per second per call site kind.
 */
void otelc_log_set_handler(otelc_log_fn fn, void *user);

/* Set the diagnostic level (overrides OTEL_LOG_LEVEL). */
void otelc_log_set_level(otelc_log_level level);

#ifdef __cplusplus
}
#endif
#endif
