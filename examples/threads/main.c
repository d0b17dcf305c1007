/*
 * threads - one trace across threads and a child process.
 *
 * The main thread starts a "batch" span and hands its context to three
 * worker threads; each worker records nested spans and events, one of them
 * fails. Then the program runs itself as a child process with TRACEPARENT in
 * the child's environment, and the child's spans join the same trace.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_threads
 */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <otelc/otelc.h>

static otelc_tracer *tracer;

struct job {
    int id;
    otelc_context *parent; /* the batch span's context, one reference per job */
};

static void *worker(void *arg)
{
    struct job *job = arg;
    otelc_scope scope = otelc_context_attach(job->parent);

    otelc_span *span = otelc_span_start(tracer, "process-item", OTELC_SPAN_INTERNAL);
    otelc_span_set_int(span, "item.id", job->id);
    otelc_scope inner = otelc_span_activate(span);

    OTELC_WITH_SPAN(tracer, "load")
    {
        otelc_attr attrs[] = {OTELC_ATTR_INT("bytes", 4096 * (job->id + 1))};
        otelc_span_add_event(otelc_span_current(), "cache.miss", attrs, 1);
    }
    if (job->id == 2) {
        otelc_span_record_exception(span, "ParseError", "unexpected token at line 3", NULL);
        otelc_span_set_status(span, OTELC_STATUS_ERROR, "item could not be parsed");
    }

    otelc_scope_exit(inner);
    otelc_span_end(span);
    otelc_scope_exit(scope);
    otelc_context_release(job->parent);
    return NULL;
}

/* Run ourselves with "child": the environment carries the trace context. */
static int run_child(const char *self)
{
    char **envp = otelc_envp_copy();
    otelc_carrier carrier = otelc_envp_carrier(&envp);
    otelc_inject(NULL, &carrier); /* writes TRACEPARENT (and TRACESTATE, BAGGAGE) */

    char *argv[] = {(char *)self, "child", NULL};
    pid_t pid;
    int status = -1;
    if (posix_spawn(&pid, self, NULL, NULL, argv, envp) == 0) waitpid(pid, &status, 0);
    otelc_envp_free(envp);
    return status;
}

static int child_main(void)
{
    /* otelc_init() read TRACEPARENT: this root span continues the parent's trace. */
    otelc_span *span = otelc_span_start(tracer, "child-process", OTELC_SPAN_INTERNAL);
    otelc_span_set_str(span, "role", "child");
    otelc_span_end(span);
    otelc_shutdown();
    return 0;
}

int main(int argc, char **argv)
{
    otelc_init(NULL);
    tracer = otelc_tracer_get("example.threads", "1.0.0");
    if (argc > 1 && strcmp(argv[1], "child") == 0) return child_main();

    otelc_span *batch = otelc_span_start(tracer, "batch", OTELC_SPAN_SERVER);
    otelc_scope scope = otelc_span_activate(batch);

    pthread_t threads[3];
    struct job jobs[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (struct job){i, otelc_context_current()};
        pthread_create(&threads[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);

    OTELC_WITH_SPAN(tracer, "spawn-child")
    {
        int status = run_child(argv[0]);
        otelc_span_set_int(otelc_span_current(), "process.exit.code",
                           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }

    otelc_span_context sc = otelc_span_get_context(batch);
    char trace_id[33];
    printf("trace %s: 1 batch, 3 workers (one failed), 1 child process\n",
           otelc_trace_id_hex(&sc, trace_id));
    otelc_scope_exit(scope);
    otelc_span_end(batch);
    otelc_shutdown();
    return 0;
}
