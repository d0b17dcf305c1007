/*
 * test_batch.c - the batch processor: batch-size and timer exports, queue
 * bound and drop accounting, flush, shutdown, many producer threads, fork.
 */
#define _GNU_SOURCE /* pthread_getname_np, SCHED_BATCH */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#ifdef __linux__
#include <dirent.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#endif
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "otelc/otelc.h"

#include "fork_child.h"

#define SINK_MAX 65536

/* An exporter that records span ids and names, and can be held blocked. */
typedef struct sink {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool blocked;
    bool shut_down;
    size_t calls;
    size_t largest;
    size_t count;
    uint8_t ids[SINK_MAX][8];
    char names[SINK_MAX][16];
    pthread_t thread; /* the one that called export last */
} sink;

static sink *sk;

static otelc_export_result sink_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    sink *s = self;
    pthread_mutex_lock(&s->lock);
    while (s->blocked) pthread_cond_wait(&s->cond, &s->lock);
    for (size_t i = 0; i < n && s->count < SINK_MAX; i++, s->count++) {
        memcpy(s->ids[s->count], spans[i]->context.span_id, 8);
        snprintf(s->names[s->count], sizeof(s->names[0]), "%s", spans[i]->name);
    }
    s->calls++;
    s->thread = pthread_self();
    if (n > s->largest) s->largest = n;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return OTELC_EXPORT_SUCCESS;
}

static void sink_shutdown(void *self)
{
    sink *s = self;
    pthread_mutex_lock(&s->lock);
    s->shut_down = true;
    pthread_mutex_unlock(&s->lock);
}

static const otelc_exporter_ops sink_ops = {
    .export_spans = sink_export,
    .shutdown = sink_shutdown,
};

static void sink_block(sink *s, bool blocked)
{
    pthread_mutex_lock(&s->lock);
    s->blocked = blocked;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Wait (generously bounded, so a hang fails instead of stalling) for n spans. */
static bool sink_wait(sink *s, size_t n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (s->count < n && rc == 0) rc = pthread_cond_timedwait(&s->cond, &s->lock, &until);
    bool ok = s->count >= n;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static size_t sink_count(sink *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static int setup(void **state)
{
    sk = calloc(1, sizeof(*sk));
    pthread_mutex_init(&sk->lock, NULL);
    pthread_cond_init(&sk->cond, NULL);
    *state = NULL;
    return 0;
}

static int teardown(void **state)
{
    otelc_provider_free(*state);
    pthread_mutex_destroy(&sk->lock);
    pthread_cond_destroy(&sk->cond);
    free(sk);
    return 0;
}

/* A provider with one batch processor feeding the sink; *proc gets the processor. */
static otelc_provider *provider_with(const otelc_batch_options *bo, otelc_processor **proc)
{
    otelc_processor *p = otelc_batch_processor_new(otelc_exporter_new(&sink_ops, sk), bo);
    assert_non_null(p);
    if (proc) *proc = p;
    otelc_provider_options o = {.no_env = true, .processors = &p, .processor_count = 1};
    otelc_provider *prov = NULL;
    assert_int_equal(otelc_provider_new(&o, &prov), OTELC_OK);
    return prov;
}

static void end_spans(otelc_provider *p, const char *name, size_t n)
{
    otelc_tracer *t = otelc_provider_tracer(p, "test.batch", NULL, NULL);
    for (size_t i = 0; i < n; i++) otelc_span_end(otelc_span_start(t, name, OTELC_SPAN_INTERNAL));
}

static otelc_batch_options batch_opts(uint32_t queue, uint32_t delay_ms, uint32_t batch,
                                      uint32_t timeout_ms)
{
    return (otelc_batch_options){.max_queue_size = queue,
                                 .schedule_delay_ms = delay_ms,
                                 .max_export_batch_size = batch,
                                 .export_timeout_ms = timeout_ms};
}

static void test_full_batch_exports_before_delay(void **state)
{
    otelc_batch_options bo = batch_opts(1024, 60000, 64, 30000);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    end_spans(p, "s", 64);
    assert_true(sink_wait(sk, 64));
    assert_int_equal(sk->largest, 64);
    end_spans(p, "s", 10);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 74);
}

static void test_timer_exports_partial_batch(void **state)
{
    otelc_batch_options bo = batch_opts(1024, 20, 512, 30000);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    end_spans(p, "s", 5);
    assert_true(sink_wait(sk, 5));
    assert_int_equal(sink_count(sk), 5);
}

static void test_batch_larger_than_queue_is_clamped(void **state)
{
    otelc_batch_options bo = batch_opts(8, 60000, 100, 30000);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    end_spans(p, "s", 8);
    assert_true(sink_wait(sk, 8));
    assert_int_equal(sk->largest, 8);
}

/*
 * With the exporter stuck, no credit comes back: one producer gets exactly
 * max_queue_size spans in and every other span is dropped and counted.
 */
static void test_full_queue_drops_are_counted(void **state)
{
    otelc_batch_options bo = batch_opts(100, 60000, 10, 30000);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    sink_block(sk, true);
    end_spans(p, "s", 500);
    otelc_stats st;
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_dropped, 400);
    sink_block(sk, false);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    otelc_provider_stats(p, &st);
    assert_int_equal(sink_count(sk), 100);
    assert_int_equal(st.spans_exported, 100);
    assert_int_equal(st.spans_exported + st.spans_dropped, st.spans_ended);
    assert_true(sk->largest <= 10);
    /* Credits came back: the queue takes spans again. */
    end_spans(p, "s", 50);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 150);
}

static void test_force_flush_exports_everything(void **state)
{
    otelc_batch_options bo = batch_opts(2048, 60000, 512, 30000);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    end_spans(p, "s", 100);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 100);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 100);
}

static void test_shutdown_exports_then_stops(void **state)
{
    otelc_batch_options bo = batch_opts(2048, 60000, 512, 30000);
    otelc_processor *proc;
    otelc_provider *p = *state = provider_with(&bo, &proc);
    end_spans(p, "before", 50);
    assert_int_equal(otelc_processor_shutdown(proc, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 50);
    assert_true(sk->shut_down);
    /* The provider still records, but this processor no longer queues. */
    end_spans(p, "after", 20);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 50);
}

/* A processor beside the batch processor: counts the ends it sees, reading each span. */
static _Atomic size_t ends_seen;

static void count_on_end(void *self, const otelc_span_data *sd)
{
    (void)self;
    if (sd->name[0] == 's') atomic_fetch_add(&ends_seen, 1);
}

static const otelc_processor_ops count_ops = {.on_end = count_on_end};

/*
 * The batch processor takes over the reference of the thread that ends a
 * span only as the last processor: with another processor after it, or
 * before it, every span still reaches both, and spans ended while
 * current are exported and freed once their scope exits (the sanitizer
 * builds catch a reference too few or too many).
 */
static void test_batch_beside_another_processor(void **state)
{
    for (int batch_last = 0; batch_last <= 1; batch_last++) {
        otelc_batch_options bo = batch_opts(2048, 60000, 64, 30000);
        otelc_processor *batch = otelc_batch_processor_new(otelc_exporter_new(&sink_ops, sk), &bo);
        otelc_processor *counter = otelc_processor_new(&count_ops, NULL);
        otelc_processor *procs[2] = {batch_last ? counter : batch, batch_last ? batch : counter};
        otelc_provider_options o = {.no_env = true, .processors = procs, .processor_count = 2};
        otelc_provider *p = NULL;
        assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
        *state = p;
        otelc_tracer *t = otelc_provider_tracer(p, "test.batch", NULL, NULL);
        atomic_store(&ends_seen, 0);
        size_t before = sink_count(sk);
        for (int i = 0; i < 200; i++) {
            otelc_span *s = otelc_span_start(t, "s", OTELC_SPAN_INTERNAL);
            otelc_scope scope = otelc_span_activate(s);
            if (i % 2) otelc_span_end(s); /* ended while current */
            otelc_span *child = otelc_span_start(t, "sc", OTELC_SPAN_INTERNAL);
            otelc_span_end(child);
            otelc_scope_exit(scope);
            if (!(i % 2)) otelc_span_end(s);
        }
        assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
        assert_int_equal(sink_count(sk) - before, 400);
        assert_int_equal(atomic_load(&ends_seen), 400);
        otelc_provider_free(p);
        *state = NULL;
    }
}

#define THREADS       4
#define SPANS_PER_THR 10000

static void *producer(void *arg)
{
    end_spans(arg, "t", SPANS_PER_THR);
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 8);
}

/* Producers exit before the flush: their rings pass to the worker. */
static void test_many_threads_export_everything_once(void **state)
{
    otelc_batch_options bo = batch_opts(65536, 60000, 512, 30000);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, producer, p), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    assert_int_equal(otelc_provider_force_flush(p, 30000), OTELC_OK);
    assert_int_equal(sink_count(sk), THREADS * SPANS_PER_THR);
    assert_true(sk->largest <= 512);
    qsort(sk->ids, sk->count, 8, cmp_id);
    for (size_t i = 1; i < sk->count; i++) assert_true(memcmp(sk->ids[i - 1], sk->ids[i], 8) != 0);
    otelc_stats st;
    otelc_provider_stats(p, &st);
    assert_int_equal(st.spans_dropped, 0);
}

static size_t count_named(sink *s, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++) n += strcmp(s->names[i], name) == 0;
    return n;
}

/* Runs in the fork child: only its own spans may reach its exporter. */
static int child_checks(void)
{
    otelc_provider *p = otelc_provider_global();
    end_spans(p, "child", 7);
    if (otelc_provider_force_flush(p, 10000) != OTELC_OK) return 2;
    if (sk->count != 7) return 3;
    if (count_named(sk, "child") != 7) return 4;
    return 0;
}

/*
 * The parent's queued spans are inherited by the child's memory but must be
 * neither exported there nor lost in the parent.
 */
typedef struct worker_seen {
    int calls;
    int policy;
    pthread_t thread;
    char name[16];
    size_t exported_before;
} worker_seen;

static void note_worker(void *arg)
{
    worker_seen *w = arg;
    struct sched_param param;
    w->calls++;
    w->thread = pthread_self();
    pthread_getschedparam(pthread_self(), &w->policy, &param);
    pthread_getname_np(pthread_self(), w->name, sizeof w->name);
    w->exported_before = sink_count(sk);
}

/* The hook runs once, on the named worker thread that exports, before any export. */
static void test_worker_start_hook_runs_on_the_worker(void **state)
{
    worker_seen seen = {0};
    otelc_batch_options bo = batch_opts(1024, 60000, 64, 30000);
    bo.worker_start = note_worker;
    bo.worker_start_arg = &seen;
    otelc_provider *p = *state = provider_with(&bo, NULL);
    end_spans(p, "s", 200);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 200);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.exported_before, 0);
    assert_false(pthread_equal(seen.thread, pthread_self()));
    assert_true(pthread_equal(seen.thread, sk->thread));
    assert_string_equal(seen.name, "otelc-batch");
    /* With a hook the worker keeps the application's policy: the hook decides. */
    int policy;
    struct sched_param param;
    assert_int_equal(pthread_getschedparam(pthread_self(), &policy, &param), 0);
    assert_int_equal(seen.policy, policy);
}

#ifdef __linux__
/*
 * The scheduling policy and nice value of this process's one batch worker,
 * found by its name among the threads, after its first export.
 */
static void worker_sched(otelc_provider *p, int *policy, int *nice)
{
    int found = 0;
    end_spans(p, "s", 1); /* the first span starts the worker */
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK); /* and it has run */
    DIR *dir = opendir("/proc/self/task");
    assert_non_null(dir);
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        char path[300], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (!fgets(name, sizeof name, f)) name[0] = '\0';
        fclose(f);
        if (strcmp(name, "otelc-batch\n") != 0) continue;
        pid_t tid = (pid_t)atoi(e->d_name);
        found++;
        *policy = sched_getscheduler(tid);
        *nice = getpriority(PRIO_PROCESS, (id_t)tid);
    }
    closedir(dir);
    assert_int_equal(found, 1);
}

static int own_nice(void)
{
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

/*
 * Without a hook the worker steps back (SCHED_BATCH, nice +10), so that the
 * application's threads never wait for an export; so it does with an
 * OTELC_BSP_WORKER_PRIORITY it does not know (after a warning).
 */
static void test_worker_steps_back_by_default(void **state)
{
    otelc_batch_options bo = batch_opts(1024, 60000, 64, 30000);
    int policy = -1, nice = -100, want = own_nice() + 10 > 19 ? 19 : own_nice() + 10;
    otelc_provider *p = *state = provider_with(&bo, NULL);
    worker_sched(p, &policy, &nice);
    assert_int_equal(policy, SCHED_BATCH);
    assert_int_equal(nice, want);
    otelc_provider_free(p);

    setenv("OTELC_BSP_WORKER_PRIORITY", "high", 1);
    p = *state = provider_with(&bo, NULL);
    unsetenv("OTELC_BSP_WORKER_PRIORITY");
    worker_sched(p, &policy, &nice);
    assert_int_equal(policy, SCHED_BATCH);
    assert_int_equal(nice, want);
}

/* OTELC_BSP_WORKER_PRIORITY=normal: the worker keeps the policy and priority it inherited. */
static void test_worker_priority_normal_from_env(void **state)
{
    otelc_batch_options bo = batch_opts(1024, 60000, 64, 30000);
    int policy = -1, nice = -100, own_policy;
    struct sched_param param;
    assert_int_equal(pthread_getschedparam(pthread_self(), &own_policy, &param), 0);
    setenv("OTELC_BSP_WORKER_PRIORITY", "Normal", 1);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    unsetenv("OTELC_BSP_WORKER_PRIORITY"); /* read when the processor is made */
    worker_sched(p, &policy, &nice);
    assert_int_equal(policy, own_policy);
    assert_int_equal(nice, own_nice());
}
#endif

static void test_fork_child_exports_only_its_spans(void **state)
{
    otelc_batch_options bo = batch_opts(1024, 60000, 512, 30000);
    otelc_provider_set_global(provider_with(&bo, NULL));
    otelc_provider *p = otelc_provider_global();
    end_spans(p, "parent", 5);
    assert_int_equal(run_in_fork_child(child_checks), 0);
    end_spans(p, "parent", 3);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 8);
    assert_int_equal(count_named(sk, "parent"), 8);
    otelc_provider_set_global(NULL);
    *state = NULL;
}

/* A worker that takes a while to start: the hook sleeps, then says it ran. */
static atomic_bool slow_worker_started;

static void start_slowly(void *arg)
{
    (void)arg;
    usleep(200 * 1000);
    atomic_store(&slow_worker_started, true);
}

static int child_saw_worker_started(void)
{
    return atomic_load(&slow_worker_started) ? 0 : 1;
}

/*
 * A fork right after the first span (which starts the worker) waits until
 * the worker has started: the child's copy of memory shows the start hook
 * done. Copying a thread mid-start copies the locks it holds (libcurl's
 * loading, OpenSSL, a sanitizer's allocator) with nobody to release them.
 */
static void test_fork_waits_for_a_starting_worker(void **state)
{
    otelc_batch_options bo = batch_opts(1024, 60000, 512, 30000);
    bo.worker_start = start_slowly;
    atomic_store(&slow_worker_started, false);
    otelc_provider *p = *state = provider_with(&bo, NULL);
    end_spans(p, "first", 1);
    assert_int_equal(run_in_fork_child(child_saw_worker_started), 0);
    end_spans(p, "second", 1);
    assert_int_equal(otelc_provider_force_flush(p, 10000), OTELC_OK);
    assert_int_equal(sink_count(sk), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_batch_exports_before_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_exports_partial_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_larger_than_queue_is_clamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_are_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_flush_exports_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_exports_then_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_beside_another_processor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_threads_export_everything_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_start_hook_runs_on_the_worker, setup, teardown),
#ifdef __linux__
        cmocka_unit_test_setup_teardown(test_worker_steps_back_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_priority_normal_from_env, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(test_fork_child_exports_only_its_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_waits_for_a_starting_worker, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
