/*
 * processor.c - processor and exporter handles, and the simple processor.
 *
 * A processor or exporter is a table of callbacks plus the implementation's
 * own state (self). The wrappers here make every call NULL-safe and make
 * shutdown idempotent, so the provider and user code can call them in any
 * order without double frees.
 */
#include <stdlib.h>

#include "internal.h"

/* ---- Exporters -------------------------------------------------------------- */

otelc_exporter *otelc_exporter_new(const otelc_exporter_ops *ops, void *self)
{
    if (!ops || !ops->export_spans) return NULL;
    otelc_exporter *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->ops = ops;
    e->self = self;
    return e;
}

/* Exporters entered and not yet left on this thread (a fallback exporter nests). */
static _Thread_local unsigned exporter_depth;

bool otelc_exporting(void)
{
    return exporter_depth != 0;
}

otelc_export_result otelc_exporter_export(otelc_exporter *exp, const otelc_span_data *const *spans,
                                          size_t count)
{
    if (!exp || exp->shut_down) return OTELC_EXPORT_FAILURE;
    if (count == 0) return OTELC_EXPORT_SUCCESS;
    exporter_depth++;
    otelc_export_result r = exp->ops->export_spans(exp->self, spans, count);
    exporter_depth--;
    return r;
}

/* The span array the SDK's processor on this thread is exporting, or NULL. */
static _Thread_local const otelc_span_data *const *sdk_spans;

bool otelc__exporting_sdk_spans(const otelc_span_data *const *spans)
{
    return spans && spans == sdk_spans;
}

otelc_export_result otelc__exporter_export_sdk(otelc_exporter *exp,
                                               const otelc_span_data *const *spans, size_t n)
{
    const otelc_span_data *const *outer = sdk_spans;
    sdk_spans = spans;
    otelc_export_result r = otelc_exporter_export(exp, spans, n);
    sdk_spans = outer;
    return r;
}

void otelc__exporter_set_prepare(otelc_exporter *e, void (*prepare)(void *self))
{
    if (e) e->prepare = prepare;
}

void otelc__exporter_prepare(otelc_exporter *exp)
{
    if (!exp || !exp->prepare || exp->shut_down) return;
    exporter_depth++;
    exp->prepare(exp->self);
    exporter_depth--;
}

void otelc__exporter_shutdown(otelc_exporter *exp)
{
    if (!exp || atomic_exchange(&exp->shut_down, true)) return;
    exporter_depth++;
    if (exp->ops->shutdown) exp->ops->shutdown(exp->self);
    exporter_depth--;
}

void otelc_exporter_after_fork_child(otelc_exporter *exp)
{
    if (exp && exp->ops->after_fork_child) exp->ops->after_fork_child(exp->self);
}

void otelc_exporter_free(otelc_exporter *exp)
{
    if (!exp) return;
    otelc__exporter_shutdown(exp);
    if (exp->ops->destroy) exp->ops->destroy(exp->self);
    free(exp);
}

/* ---- Processors --------------------------------------------------------------- */

otelc_processor *otelc_processor_new(const otelc_processor_ops *ops, void *self)
{
    if (!ops) return NULL;
    otelc_processor *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->ops = ops;
    p->self = self;
    return p;
}

int otelc_processor_force_flush(otelc_processor *p, uint32_t timeout_ms)
{
    if (!p || p->shut_down) return OTELC_OK;
    return p->ops->force_flush ? p->ops->force_flush(p->self, timeout_ms) : OTELC_OK;
}

int otelc_processor_shutdown(otelc_processor *p, uint32_t timeout_ms)
{
    if (!p || p->shut_down) return OTELC_OK;
    p->shut_down = true;
    return p->ops->shutdown ? p->ops->shutdown(p->self, timeout_ms) : OTELC_OK;
}

void otelc_processor_free(otelc_processor *p)
{
    if (!p) return;
    otelc_processor_shutdown(p, 30000);
    if (p->ops->destroy) p->ops->destroy(p->self);
    free(p);
}

/* ---- Simple processor ------------------------------------------------------------ */

/*
 * Exports each span on the thread that ends it. Exporters are not
 * re-entrant, so a mutex serialises calls; this processor is for tests,
 * debugging and the console, never for production throughput.
 */
struct simple_processor {
    otelc_exporter *exporter;
    otelc_processor *handle;
    pthread_mutex_t lock;
};

static void simple_on_end(void *self, const otelc_span_data *sd)
{
    struct simple_processor *sp = self;
    pthread_mutex_lock(&sp->lock);
    otelc_export_result r = otelc__exporter_export_sdk(sp->exporter, &sd, 1);
    pthread_mutex_unlock(&sp->lock);
    otelc__count_export(sp->handle->stats, r, 1);
}

static int simple_force_flush(void *self, uint32_t timeout_ms)
{
    struct simple_processor *sp = self;
    pthread_mutex_lock(&sp->lock);
    int rc = sp->exporter->ops->force_flush
                 ? sp->exporter->ops->force_flush(sp->exporter->self, timeout_ms)
                 : OTELC_OK;
    pthread_mutex_unlock(&sp->lock);
    return rc;
}

static int simple_shutdown(void *self, uint32_t timeout_ms)
{
    struct simple_processor *sp = self;
    (void)timeout_ms;
    pthread_mutex_lock(&sp->lock);
    otelc__exporter_shutdown(sp->exporter);
    pthread_mutex_unlock(&sp->lock);
    return OTELC_OK;
}

static void simple_destroy(void *self)
{
    struct simple_processor *sp = self;
    otelc_exporter_free(sp->exporter);
    pthread_mutex_destroy(&sp->lock);
    free(sp);
}

static void simple_after_fork_child(void *self)
{
    struct simple_processor *sp = self;
    pthread_mutex_init(&sp->lock, NULL);
    otelc_exporter_after_fork_child(sp->exporter);
}

static const otelc_processor_ops simple_ops = {
    .on_end = simple_on_end,
    .force_flush = simple_force_flush,
    .shutdown = simple_shutdown,
    .destroy = simple_destroy,
    .after_fork_child = simple_after_fork_child,
};

otelc_processor *otelc_simple_processor_new(otelc_exporter *exp)
{
    if (!exp) return NULL;
    struct simple_processor *sp = calloc(1, sizeof(*sp));
    if (!sp) {
        otelc_exporter_free(exp);
        return NULL;
    }
    sp->exporter = exp;
    pthread_mutex_init(&sp->lock, NULL);
    sp->handle = otelc_processor_new(&simple_ops, sp);
    if (!sp->handle) {
        simple_destroy(sp);
        return NULL;
    }
    return sp->handle;
}
