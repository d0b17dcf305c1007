/*
 * provider.c - the tracer provider, tracers, the global provider and the
 * otelc_init()/otelc_shutdown() entry points.
 *
 * Lifetime rule: instrumented libraries cache tracer pointers, often in
 * statics, and may still start spans after the application has called
 * otelc_shutdown() (from atexit handlers, say). So the global provider is
 * never freed when it is replaced or shut down: its processors and exporters
 * are shut down and freed, the provider is marked shut down (every later
 * span is a no-op), and its small shell with the tracers is kept on a
 * retired list. Providers made with otelc_provider_new() and not installed
 * globally are the caller's to free.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"
#include "internal.h"
#include "instrumentation/startup.h"

struct otelc_tracer otelc__noop_tracer = {.scope = {.name = ""}};

_Atomic(otelc_provider *) otelc__global_provider;
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static otelc_provider *retired[64];
static size_t retired_count;

/* ---- Fork handling ----------------------------------------------------------------- */

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* Every provider not yet freed: the fork child must reset all of them. */
static otelc_provider *live_providers;

static void live_add(otelc_provider *p)
{
    pthread_mutex_lock(&global_lock);
    p->next_live = live_providers;
    live_providers = p;
    pthread_mutex_unlock(&global_lock);
}

static void live_remove(otelc_provider *p)
{
    pthread_mutex_lock(&global_lock);
    otelc_provider **pp = &live_providers;
    while (*pp && *pp != p) pp = &(*pp)->next_live;
    if (*pp) *pp = p->next_live;
    pthread_mutex_unlock(&global_lock);
}

/* Processors settle first (see batch_before_fork), then every lock is taken. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&global_lock);
    for (otelc_provider *p = live_providers; p; p = p->next_live) {
        size_t n = atomic_load(&p->processor_count);
        for (size_t i = 0; i < n; i++) {
            otelc_processor *proc = p->processors[i];
            if (proc->before_fork) proc->before_fork(proc->self);
        }
    }
    for (otelc_provider *p = live_providers; p; p = p->next_live) pthread_mutex_lock(&p->lock);
}

static void fork_parent(void)
{
    for (otelc_provider *p = live_providers; p; p = p->next_live) pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&global_lock);
}

/*
 * In the child only the forking thread exists: locks other threads held are
 * re-created, ids are reseeded (parent and child must not repeat ids), the
 * resource's process.pid becomes the child's, and each processor gets an
 * empty queue and will start its own worker.
 */
static void fork_child(void)
{
    pthread_mutex_init(&global_lock, NULL);
    otelc__log_after_fork_child();
    otelc__config_after_fork_child();
    atomic_fetch_add(&otelc__fork_generation, 1);
    otelc__ids_after_fork();
    for (otelc_provider *p = live_providers; p; p = p->next_live) {
        pthread_mutex_init(&p->lock, NULL);
        otelc__resource_after_fork_child(p->resource);
        size_t n = atomic_load(&p->processor_count);
        for (size_t i = 0; i < n; i++) {
            otelc_processor *proc = p->processors[i];
            if (proc->ops->after_fork_child) proc->ops->after_fork_child(proc->self);
        }
    }
}

static void fork_install(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void otelc__fork_handlers_install(void)
{
    pthread_once(&fork_once, fork_install);
}

/* ---- Construction ------------------------------------------------------------------ */

static void adopt_processor(otelc_provider *p, otelc_processor *proc)
{
    proc->stats = &p->stats;
    size_t n = atomic_load(&p->processor_count);
    p->processors[n] = proc;
    atomic_store_explicit(&p->processor_count, n + 1, memory_order_release);
    if (proc->ops->on_start) {
        atomic_store_explicit(&p->start_attrs_seen, true, memory_order_relaxed);
        atomic_store_explicit(&p->any_on_start, true, memory_order_relaxed);
    }
}

int otelc_provider_add_processor(otelc_provider *p, otelc_processor *proc)
{
    if (!p || !proc) {
        otelc_processor_free(proc);
        return OTELC_ERR_INVALID_ARG;
    }
    pthread_mutex_lock(&p->lock);
    int rc = OTELC_OK;
    if (p->disabled || atomic_load(&p->shut_down)) {
        rc = OTELC_ERR_STATE;
    } else if (atomic_load(&p->processor_count) == OTELC_MAX_PROCESSORS) {
        rc = OTELC_ERR_INVALID_ARG;
    } else {
        adopt_processor(p, proc);
        proc = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    otelc_processor_free(proc);
    return rc;
}

/* A TRACEPARENT handed down by a parent process makes our roots its children. */
static otelc_context *env_parent_context(const otelc_propagator *prop)
{
    otelc_carrier env = otelc_env_carrier();
    otelc_context *ctx = otelc_propagator_extract(prop, NULL, &env);
    otelc_span_context sc = otelc_context_span_context(ctx);
    if (!otelc_span_context_is_valid(&sc)) {
        otelc_context_release(ctx);
        return NULL;
    }
    return ctx;
}

static void take_options(otelc_provider *p, const otelc_provider_options *o)
{
    bool env = !o->no_env;
    p->resource = o->resource ? o->resource : otelc_resource_default(env);
    if (o->sampler)
        p->sampler = o->sampler;
    else if (env)
        p->sampler = otelc__sampler_from_env();
    else
        p->sampler = otelc_sampler_parent_based(otelc_sampler_always_on(), NULL, NULL, NULL, NULL);
    atomic_init(&p->start_attrs_seen, otelc__sampler_reads_attributes(p->sampler));
    otelc__sampler_fixed_decisions(p->sampler, p->fixed_decision);
    otelc__sampler_drop_below(p->sampler, p->drop_below);
    if (o->limits)
        p->limits = *o->limits;
    else if (env)
        otelc__limits_from_env(&p->limits);
    else
        otelc_span_limits_default(&p->limits);
    if (o->propagator)
        p->propagator = o->propagator;
    else if (env)
        p->propagator = otelc__propagator_from_env();
    else
        p->propagator = otelc_propagator_from_list("tracecontext,baggage", NULL);
    if (env && !o->ignore_env_parent) p->env_parent = env_parent_context(p->propagator);
}

static void free_options(const otelc_provider_options *o)
{
    otelc_resource_free(o->resource);
    otelc_sampler_free(o->sampler);
    otelc_propagator_free(o->propagator);
    for (size_t i = 0; i < o->processor_count; i++) otelc_processor_free(o->processors[i]);
}

int otelc_provider_new(const otelc_provider_options *opts, otelc_provider **out)
{
    static const otelc_provider_options none;
    const otelc_provider_options *o = opts ? opts : &none;
    uint64_t began = otelc__startup_clock(); /* for OTELC_TRACE_STARTUP's trace */
    if (!out || o->processor_count > OTELC_MAX_PROCESSORS) {
        free_options(o);
        return OTELC_ERR_INVALID_ARG;
    }
    *out = NULL;
    if (!o->no_env) otelc__log_configure_from_env();
    /* OTEL_CONFIG_FILE replaces the environment: fields left NULL come from the file. */
    otelc_file_config file;
    bool from_file = false, disabled = false;
    if (!o->no_env && otelc__config_file_path()) {
        int rc = otelc__config_file_use(o, &file);
        if (rc != OTELC_OK) {
            free_options(o);
            return rc;
        }
        o = &file.options;
        from_file = true;
        disabled = file.disabled;
    }
    otelc_provider *p = calloc(1, sizeof(*p));
    if (!p) {
        free_options(o);
        return OTELC_ERR_NOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    if (!from_file && !o->no_env) disabled = otelc__env_bool("OTEL_SDK_DISABLED", false);
    if (disabled) {
        p->disabled = true;
        free_options(o);
        *out = p;
        return OTELC_OK;
    }
    otelc__clock_init();
    otelc__fork_handlers_install();
    live_add(p);
    p->exit_timeout_ms = o->no_env ? OTELC_DEFAULT_EXIT_TIMEOUT_MS : otelc__exit_timeout_from_env();
    take_options(p, o);
    if (o->processors) {
        for (size_t i = 0; i < o->processor_count; i++)
            if (o->processors[i]) adopt_processor(p, o->processors[i]);
    } else if (!o->no_env) {
        otelc_processor *procs[OTELC_MAX_PROCESSORS];
        size_t n = otelc__processors_from_env(procs, OTELC_MAX_PROCESSORS);
        for (size_t i = 0; i < n; i++) adopt_processor(p, procs[i]);
    }
    if (!o->no_env) otelc__startup_trace(p, began);
    *out = p;
    return OTELC_OK;
}

/* ---- Tracers ----------------------------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static struct otelc_tracer *find_tracer(struct otelc_tracer *t, const char *name,
                                        const char *version, const char *schema_url)
{
    while (t && !(strcmp(t->scope.name, name) == 0 && same_str(t->scope.version, version) &&
                  same_str(t->scope.schema_url, schema_url)))
        t = t->next;
    return t;
}

/*
 * Instrumentation looks its tracer up on every request, so the lookup takes
 * no lock: a tracer is complete before the release store that publishes it,
 * and none is unlinked while the provider lives. Only a miss locks, and
 * looks again under the lock so that two threads never add the same scope.
 */
otelc_tracer *otelc_provider_tracer(otelc_provider *p, const char *name, const char *version,
                                    const char *schema_url)
{
    if (!p || p->disabled) return &otelc__noop_tracer;
    if (!name) name = "";
    struct otelc_tracer *t = find_tracer(atomic_load_explicit(&p->tracers, memory_order_acquire),
                                         name, version, schema_url);
    if (t) return t;
    pthread_mutex_lock(&p->lock);
    struct otelc_tracer *head = atomic_load_explicit(&p->tracers, memory_order_relaxed);
    t = find_tracer(head, name, version, schema_url);
    if (!t && (t = calloc(1, sizeof(*t))) != NULL) {
        t->provider = p;
        t->scope.name = strdup(name);
        t->scope.version = dup_or_null(version);
        t->scope.schema_url = dup_or_null(schema_url);
        t->next = head;
        if (t->scope.name) {
            atomic_store_explicit(&p->tracers, t, memory_order_release);
        } else { /* out of memory: a nameless tracer would break every later lookup */
            free((char *)t->scope.version);
            free((char *)t->scope.schema_url);
            free(t);
            t = NULL;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return t ? t : &otelc__noop_tracer;
}

/* ---- Flush, shutdown, free ------------------------------------------------------------ */

int otelc_provider_force_flush(otelc_provider *p, uint32_t timeout_ms)
{
    if (!p || p->disabled) return OTELC_OK;
    int rc = OTELC_OK;
    size_t n = atomic_load(&p->processor_count);
    for (size_t i = 0; i < n; i++) {
        int r = otelc_processor_force_flush(p->processors[i], timeout_ms);
        if (r != OTELC_OK) rc = r;
    }
    return rc;
}

int otelc_provider_shutdown(otelc_provider *p, uint32_t timeout_ms)
{
    if (!p || atomic_exchange(&p->shut_down, true)) return OTELC_OK;
    int rc = OTELC_OK;
    size_t n = atomic_load(&p->processor_count);
    for (size_t i = 0; i < n; i++) {
        int r = otelc_processor_shutdown(p->processors[i], timeout_ms);
        if (r != OTELC_OK) rc = r;
    }
    return rc;
}

/*
 * Shut down and free the processors (they own threads and exporters). The
 * sampler, propagator and tracers stay: a thread that loaded the provider
 * just before it was retired may still read them. This is the exit path
 * (otelc_shutdown() at the end of main), so it waits no longer than
 * OTELC_EXIT_TIMEOUT: a backend that hangs must not keep every process
 * that traced from exiting for a whole export timeout. An export still in
 * flight then is abandoned and its spans counted as failed.
 */
static void provider_stop(otelc_provider *p)
{
    otelc_provider_shutdown(p, p->exit_timeout_ms);
    size_t n = atomic_load(&p->processor_count);
    atomic_store(&p->processor_count, 0);
    for (size_t i = 0; i < n; i++) otelc_processor_free(p->processors[i]);
}

void otelc_provider_free(otelc_provider *p)
{
    if (!p) return;
    if (!p->disabled) live_remove(p);
    provider_stop(p);
    otelc_sampler_free(p->sampler);
    otelc_propagator_free(p->propagator);
    otelc_context_release(p->env_parent);
    otelc_resource_free(p->resource);
    for (struct otelc_tracer *t = atomic_load(&p->tracers), *next; t; t = next) {
        next = t->next;
        free((char *)t->scope.name);
        free((char *)t->scope.version);
        free((char *)t->scope.schema_url);
        free(t);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const otelc_propagator *otelc_provider_propagator(const otelc_provider *p)
{
    return p ? p->propagator : NULL;
}

const otelc_resource *otelc_provider_resource(const otelc_provider *p)
{
    return p ? p->resource : NULL;
}

bool otelc_provider_is_disabled(const otelc_provider *p)
{
    return !p || p->disabled;
}

/* ---- The global provider ------------------------------------------------------------ */

/* Shut down a provider that was global and keep its shell (see the top of the file). */
static void retire(otelc_provider *p)
{
    if (!p) return;
    provider_stop(p);
    if (retired_count < sizeof(retired) / sizeof(retired[0]))
        retired[retired_count++] = p;
    else
        otelc__log(OTELC_LOG_WARN, "too many providers replaced; one is kept without tracking");
}

void otelc_provider_set_global(otelc_provider *p)
{
    pthread_mutex_lock(&global_lock);
    otelc_provider *old = atomic_exchange(&otelc__global_provider, p);
    pthread_mutex_unlock(&global_lock);
    if (old != p) retire(old);
}

otelc_provider *otelc_provider_global(void)
{
    return otelc__provider_global();
}

otelc_tracer *otelc_tracer_get_with_schema(const char *name, const char *version,
                                           const char *schema_url)
{
    return otelc_provider_tracer(otelc_provider_global(), name, version, schema_url);
}

otelc_tracer *otelc_tracer_get(const char *name, const char *version)
{
    return otelc_tracer_get_with_schema(name, version, NULL);
}

int otelc_init(const otelc_provider_options *opts)
{
    otelc_provider *p = NULL;
    int rc = otelc_provider_new(opts, &p);
    if (rc != OTELC_OK) return rc;
    otelc_provider_set_global(p);
    return OTELC_OK;
}

void otelc_shutdown(void)
{
    otelc_provider_set_global(NULL);
}

int otelc_force_flush(uint32_t timeout_ms)
{
    return otelc_provider_force_flush(otelc_provider_global(), timeout_ms);
}
