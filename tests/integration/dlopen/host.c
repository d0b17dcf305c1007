/*
 * host.c - a program that loads libotelc at run time, as a plugin host
 * (a database extension, a scripting language's FFI) does, and traces
 * through it on two threads. The library's initial-exec thread-local
 * state must fit what glibc keeps for libraries loaded with dlopen, and
 * the current context must work on a thread the library never saw start.
 *
 * usage: host LIBOTELC [MORE-LIBRARIES...]  (console exporter: set
 * OTEL_TRACES_EXPORTER=console); exits 0 when every check holds.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "otelc/otelc.h"

static struct {
    __typeof__(otelc_init) *init;
    __typeof__(otelc_shutdown) *shutdown;
    __typeof__(otelc_tracer_get) *tracer_get;
    __typeof__(otelc_span_start) *span_start;
    __typeof__(otelc_span_activate) *span_activate;
    __typeof__(otelc_scope_exit) *scope_exit;
    __typeof__(otelc_span_end) *span_end;
    __typeof__(otelc_span_get_context) *get_context;
} api;

static void *symbol(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (p == NULL) fprintf(stderr, "host: %s not found: %s\n", name, dlerror());
    return p;
}

/* A parent span, current while a child starts: the child must join its trace. */
static void *trace_once(void *name)
{
    otelc_tracer *t = api.tracer_get("dlopen-host", NULL);
    otelc_span *parent = api.span_start(t, name, OTELC_SPAN_INTERNAL);
    otelc_scope scope = api.span_activate(parent);
    otelc_span *child = api.span_start(t, "dlopen-child", OTELC_SPAN_INTERNAL);
    otelc_span_context p = api.get_context(parent), c = api.get_context(child);
    api.span_end(child);
    api.scope_exit(scope);
    api.span_end(parent);
    return memcmp(p.trace_id, c.trace_id, sizeof p.trace_id) == 0 ? name : NULL;
}

int main(int argc, char **argv)
{
    void *lib;
    pthread_t thread;
    void *in_thread = NULL;

    if (argc < 2) return 2;
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "host: dlopen %s: %s\n", argv[1], dlerror());
        return 1;
    }
    for (int i = 2; i < argc; i++)
        if (dlopen(argv[i], RTLD_NOW | RTLD_LOCAL) == NULL) {
            fprintf(stderr, "host: dlopen %s: %s\n", argv[i], dlerror());
            return 1;
        }
    if (!(api.init = symbol(lib, "otelc_init")) ||
        !(api.shutdown = symbol(lib, "otelc_shutdown")) ||
        !(api.tracer_get = symbol(lib, "otelc_tracer_get")) ||
        !(api.span_start = symbol(lib, "otelc_span_start")) ||
        !(api.span_activate = symbol(lib, "otelc_span_activate")) ||
        !(api.scope_exit = symbol(lib, "otelc_scope_exit")) ||
        !(api.span_end = symbol(lib, "otelc_span_end")) ||
        !(api.get_context = symbol(lib, "otelc_span_get_context")))
        return 1;
    if (api.init(NULL) != OTELC_OK) {
        fprintf(stderr, "host: otelc_init failed\n");
        return 1;
    }
    if (trace_once("dlopen-main") == NULL) {
        fprintf(stderr, "host: the child did not join its parent's trace (main thread)\n");
        return 1;
    }
    if (pthread_create(&thread, NULL, trace_once, "dlopen-thread") != 0 ||
        pthread_join(thread, &in_thread) != 0 || in_thread == NULL) {
        fprintf(stderr, "host: the child did not join its parent's trace (second thread)\n");
        return 1;
    }
    api.shutdown();
    return 0;
}
