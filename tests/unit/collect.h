/*
 * collect.h - a minimal exporter for the core's own tests: it keeps a
 * reference to every span it is given (otelc_span_data_retain), so tests can
 * inspect spans without depending on the memory exporter under test.
 */
#ifndef OTELC_TEST_COLLECT_H
#define OTELC_TEST_COLLECT_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

#define COLLECT_MAX 4096

typedef struct collect {
    pthread_mutex_t lock;
    const otelc_span_data *spans[COLLECT_MAX];
    size_t count;
    int shutdowns;
} collect;

static otelc_export_result collect_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    collect *c = self;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n && c->count < COLLECT_MAX; i++) {
        otelc_span_data_retain(spans[i]);
        c->spans[c->count++] = spans[i];
    }
    pthread_mutex_unlock(&c->lock);
    return OTELC_EXPORT_SUCCESS;
}

static void collect_shutdown(void *self)
{
    ((collect *)self)->shutdowns++;
}

static const otelc_exporter_ops collect_ops = {
    .export_spans = collect_export,
    .shutdown = collect_shutdown,
};

static inline void collect_init(collect *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
}

static inline void collect_clear(collect *c)
{
    for (size_t i = 0; i < c->count; i++) otelc_span_data_release(c->spans[i]);
    c->count = 0;
}

/* A provider (no environment) exporting synchronously into c. */
static inline otelc_provider *collect_provider(collect *c, otelc_sampler *sampler,
                                               const otelc_span_limits *limits)
{
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&collect_ops, c));
    otelc_provider_options o = {
        .no_env = true,
        .sampler = sampler,
        .processors = &proc,
        .processor_count = 1,
        .limits = limits,
    };
    otelc_provider *p = NULL;
    if (otelc_provider_new(&o, &p) != OTELC_OK) abort();
    return p;
}

/*
 * The cmocka setup and teardown of a file whose tests share one collector:
 * *state is a fresh provider exporting into it, and the spans are released
 * after each test.
 */
#define COLLECT_FIXTURES(c)                                                                        \
    static collect c;                                                                              \
    static int setup(void **state)                                                                 \
    {                                                                                              \
        collect_init(&c);                                                                          \
        *state = collect_provider(&c, NULL, NULL);                                                 \
        return 0;                                                                                  \
    }                                                                                              \
    static int teardown(void **state)                                                              \
    {                                                                                              \
        otelc_provider_free(*state);                                                               \
        collect_clear(&c);                                                                         \
        return 0;                                                                                  \
    }

static inline const otelc_span_data *collect_find(collect *c, const char *name)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->spans[i]->name, name) == 0) return c->spans[i];
    return NULL;
}

#endif
