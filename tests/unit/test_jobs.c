/*
 * test_jobs.c - a job handed from a producer thread to a worker thread
 * through a serialized string: PRODUCER and CONSUMER spans with messaging
 * attributes, in one trace (child, linked) or two (link only), baggage
 * restored, and bad records starting a fresh trace.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/instrument/jobs.h"
#include "otelc/otelc.h"
#include "otelc/testing.h"

typedef struct fixture {
    otelc_memory_exporter *mem;
    otelc_provider *prov;
    otelc_tracer *tracer;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->prov = otelc_testing_provider_new(&f->mem);
    assert_non_null(f->prov);
    f->tracer = otelc_provider_tracer(f->prov, "test.jobs", NULL, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    otelc_provider_free(f->prov);
    otelc_memory_exporter_free(f->mem);
    free(f);
    return 0;
}

static const otelc_job_queue queue = {"redis", "emails"};

typedef struct job {
    fixture *f;
    otelc_job_relation rel;
    char record[OTELC_JOB_CONTEXT_SIZE];
    char baggage_seen[64];
} job;

static void *producer(void *arg)
{
    job *j = arg;
    otelc_baggage *bg = otelc_baggage_set(NULL, "tenant", "acme", NULL);
    otelc_context *ctx = otelc_context_new(NULL, bg);
    otelc_scope sc = otelc_context_attach(ctx);
    otelc_span *req = otelc_span_start(j->f->tracer, "request", OTELC_SPAN_SERVER);
    otelc_scope rs = otelc_span_activate(req);
    otelc_span *send = otelc_job_send_start(j->f->tracer, &queue);
    int n = otelc_job_context_write(send, j->record, sizeof(j->record));
    assert_true(n > 0 && (size_t)n < sizeof(j->record));
    otelc_span_end(send);
    otelc_scope_exit(rs);
    otelc_span_end(req);
    otelc_scope_exit(sc);
    otelc_context_release(ctx);
    otelc_baggage_release(bg);
    return NULL;
}

static void *worker(void *arg)
{
    job *j = arg;
    otelc_context *ctx = NULL;
    /* The worker's own current span must not become the job's parent. */
    otelc_span *poll = otelc_span_start(j->f->tracer, "poll", OTELC_SPAN_INTERNAL);
    otelc_scope ps = otelc_span_activate(poll);
    otelc_span *proc = otelc_job_process_start(j->f->tracer, &queue, j->record, j->rel, &ctx);
    otelc_scope cs = otelc_context_attach(ctx);
    otelc_scope ss = otelc_span_activate(proc);
    const char *v = otelc_baggage_get(otelc_baggage_current(), "tenant");
    strncpy(j->baggage_seen, v ? v : "", sizeof(j->baggage_seen) - 1);
    otelc_scope_exit(ss);
    otelc_scope_exit(cs);
    otelc_span_end(proc);
    otelc_context_release(ctx);
    otelc_scope_exit(ps);
    otelc_span_end(poll);
    return NULL;
}

static void run_job(job *j)
{
    pthread_t a, b;
    pthread_create(&a, NULL, producer, j);
    pthread_join(a, NULL);
    pthread_create(&b, NULL, worker, j);
    pthread_join(b, NULL);
}

static void check_messaging(const otelc_span_data *sd, const char *op)
{
    assert_string_equal(otelc_testing_attr_str(sd, "messaging.system"), "redis");
    assert_string_equal(otelc_testing_attr_str(sd, "messaging.destination.name"), "emails");
    assert_string_equal(otelc_testing_attr_str(sd, "messaging.operation.type"), op);
    assert_string_equal(otelc_testing_attr_str(sd, "messaging.operation.name"), op);
}

static void test_child_and_link(void **state)
{
    fixture *f = *state;
    job j = {.f = f, .rel = OTELC_JOB_CHILD};
    run_job(&j);
    const otelc_span_data *req = otelc_testing_find(f->mem, "request");
    const otelc_span_data *send = otelc_testing_find(f->mem, "send emails");
    const otelc_span_data *proc = otelc_testing_find(f->mem, "process emails");
    const otelc_span_data *poll = otelc_testing_find(f->mem, "poll");
    assert_non_null(req);
    assert_non_null(send);
    assert_non_null(proc);
    assert_int_equal(send->kind, OTELC_SPAN_PRODUCER);
    assert_int_equal(proc->kind, OTELC_SPAN_CONSUMER);
    check_messaging(send, "send");
    check_messaging(proc, "process");
    char why[128];
    assert_true(otelc_testing_is_parent(req, send, why, sizeof(why)));
    assert_true(otelc_testing_is_parent(send, proc, why, sizeof(why)));
    assert_true(proc->parent_is_remote);
    assert_false(otelc_testing_is_parent(poll, proc, why, sizeof(why)));
    assert_int_equal(proc->link_count, 1);
    assert_memory_equal(proc->links[0].context.span_id, send->context.span_id, 8);
    assert_memory_equal(proc->links[0].context.trace_id, send->context.trace_id, 16);
    assert_string_equal(j.baggage_seen, "acme");
}

static void test_link_only(void **state)
{
    fixture *f = *state;
    job j = {.f = f, .rel = OTELC_JOB_LINK};
    run_job(&j);
    const otelc_span_data *send = otelc_testing_find(f->mem, "send emails");
    const otelc_span_data *proc = otelc_testing_find(f->mem, "process emails");
    assert_false(proc->has_parent);
    assert_memory_not_equal(proc->context.trace_id, send->context.trace_id, 16);
    assert_int_equal(proc->link_count, 1);
    assert_memory_equal(proc->links[0].context.span_id, send->context.span_id, 8);
    assert_string_equal(j.baggage_seen, "acme");
}

static void test_bad_record(void **state)
{
    fixture *f = *state;
    otelc_context *ctx = (otelc_context *)1;
    otelc_span *s = otelc_job_process_start(f->tracer, NULL, "garbage", OTELC_JOB_CHILD, &ctx);
    assert_null(ctx);
    otelc_span_end(s);
    s = otelc_job_process_start(f->tracer, NULL, NULL, OTELC_JOB_CHILD, NULL);
    otelc_span_end(s);
    const otelc_span_data *p = otelc_testing_find(f->mem, "process");
    assert_non_null(p);
    assert_false(p->has_parent);
    assert_int_equal(p->link_count, 0);
    assert_string_equal(otelc_testing_attr_str(p, "messaging.system"), "otelc.jobs");
    assert_null(otelc_testing_attr_str(p, "messaging.destination.name"));
    assert_int_equal(otelc_testing_count_named(f->mem, "process"), 2);
}

static void test_small_buffer(void **state)
{
    fixture *f = *state;
    char small[10];
    otelc_span *s = otelc_job_send_start(f->tracer, &queue);
    int n = otelc_job_context_write(s, small, sizeof(small));
    assert_true(n >= (int)sizeof(small));
    assert_string_equal(small, "");
    assert_int_equal(otelc_job_context_write(s, NULL, 0), OTELC_ERR_INVALID_ARG);
    otelc_span_end(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_child_and_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_buffer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
