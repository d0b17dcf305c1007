/*
 * ingest.c - the bounded ingest queue and its writer thread (ingest.h).
 *
 * One mutex guards the queue; the thread takes everything queued (up to a
 * commit's worth) in one go, writes it without the lock, then reports each
 * batch's outcome. A waiting receiver thread (vw_ingest_write) sleeps on a
 * condition variable of its own request, so a commit wakes exactly the
 * submitters it concerns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "export/otlp.h"

#define DEFAULT_MAX_QUEUED   200000
#define DEFAULT_COMMIT_SPANS 50000
#define DEFAULT_TRIM_MS      10000
#define TRIM_BUDGET          20000 /* spans removed per slice, between commits */
#define MAX_LISTENERS        8
#define SPARE_BATCHES        4 /* emptied batches kept for the receivers (vw_ingest_batch_get) */

typedef struct item {
    struct item *next;
    vw_batch batch;
    vw_ingest_done_fn done;
    void *ctx;
} item;

typedef struct listener {
    vw_ingest_commit_fn fn;
    void *ctx;
} listener;

struct vw_ingest {
    vw_store *store;
    vw_ingest_options opts;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread: work arrived, or stop */
    item *head, *tail;
    size_t queued_spans;
    bool stopping;
    listener listeners[MAX_LISTENERS];
    int listener_count;
    vw_ingest_stats stats;
    vw_store_counts counts;
    vw_batch spare[SPARE_BATCHES]; /* emptied, their memory kept */
    size_t spare_count;
};

/* ---- The writer thread -------------------------------------------------------------------- */

/* Take up to a commit's worth of queued items (at least one); NULL when stopping and empty. */
static item *take_work(vw_ingest *in, uint32_t wait_ms)
{
    pthread_mutex_lock(&in->lock);
    if (!in->head && !in->stopping) {
        struct timespec until = otelc__deadline_in(wait_ms);
        pthread_cond_timedwait(&in->wake, &in->lock, &until);
    }
    item *first = in->head, *last = NULL;
    size_t spans = 0;
    for (item *it = first;
         it && (spans == 0 || spans + it->batch.count <= in->opts.max_spans_per_commit);
         it = it->next) {
        spans += it->batch.count;
        last = it;
    }
    if (last) {
        in->head = last->next;
        if (!in->head) in->tail = NULL;
        last->next = NULL;
        in->queued_spans -= spans;
    }
    pthread_mutex_unlock(&in->lock);
    return last ? first : NULL;
}

static void commit_items(vw_ingest *in, item *work)
{
    size_t n = 0, spans = 0;
    for (item *it = work; it; it = it->next) n++;
    const vw_batch **batches = malloc(n * sizeof *batches);
    vw_ingest_result r = VW_INGEST_FAILED;
    n = 0;
    for (item *it = work; it && batches; it = it->next) {
        batches[n++] = &it->batch;
        spans += it->batch.count;
    }
    char err[256];
    if (batches && vw_store_write(in->store, batches, n, err, sizeof err) == 0) {
        r = VW_INGEST_COMMITTED;
        for (int i = 0; i < in->listener_count; i++)
            in->listeners[i].fn(in->listeners[i].ctx, batches, n);
    } else {
        fprintf(stderr, "otelc view: %s\n", batches ? err : "out of memory");
    }
    free(batches);
    pthread_mutex_lock(&in->lock);
    if (r == VW_INGEST_COMMITTED) {
        in->stats.spans_committed += spans;
        in->stats.commits++;
        vw_store_counts_get(in->store, &in->counts);
    } else {
        in->stats.spans_failed += spans;
    }
    pthread_mutex_unlock(&in->lock);
    while (work) {
        item *next = work->next;
        vw_ingest_batch_put(in, &work->batch); /* first: the submitter's next request may want it */
        if (work->done) work->done(work->ctx, r);
        free(work);
        work = next;
    }
}

/* One slice of retention; true when more is due at once. */
static bool trim_slice(vw_ingest *in)
{
    bool more = false;
    long removed = vw_store_trim(in->store, TRIM_BUDGET, &more);
    pthread_mutex_lock(&in->lock);
    if (removed > 0) in->stats.spans_trimmed += (uint64_t)removed;
    vw_store_counts_get(in->store, &in->counts);
    pthread_mutex_unlock(&in->lock);
    return removed > 0 && more;
}

static void *run(void *arg)
{
    vw_ingest *in = arg;
    pthread_setname_np(pthread_self(), "vw-ingest"); /* for top -H and the benchmarks */
    uint64_t last_trim = otelc__mono_ms();
    bool trim_due = true;
    for (;;) {
        item *work = take_work(in, trim_due ? 0 : 1000);
        if (work) {
            commit_items(in, work);
            trim_due = true; /* the store grew: see whether it is over --max-spans */
        } else {
            pthread_mutex_lock(&in->lock);
            bool stop = in->stopping && !in->head;
            pthread_mutex_unlock(&in->lock);
            if (stop) break;
        }
        uint64_t now = otelc__mono_ms();
        if (now - last_trim >= in->opts.trim_interval_ms) trim_due = true;
        if (trim_due) {
            trim_due = trim_slice(in);
            last_trim = now;
        }
    }
    return NULL;
}

/* ---- Submitting --------------------------------------------------------------------------- */

int vw_ingest_start(vw_store *writer, const vw_ingest_options *opts, vw_ingest **out)
{
    vw_ingest *in = calloc(1, sizeof *in);
    if (!in) return -1;
    if (opts) in->opts = *opts;
    if (!in->opts.max_queued_spans) in->opts.max_queued_spans = DEFAULT_MAX_QUEUED;
    if (!in->opts.max_spans_per_commit) in->opts.max_spans_per_commit = DEFAULT_COMMIT_SPANS;
    if (!in->opts.trim_interval_ms) in->opts.trim_interval_ms = DEFAULT_TRIM_MS;
    in->store = writer;
    vw_store_counts_get(writer, &in->counts);
    pthread_mutex_init(&in->lock, NULL);
    otelc__cond_init_monotonic(&in->wake);
    if (pthread_create(&in->thread, NULL, run, in) != 0) {
        pthread_mutex_destroy(&in->lock);
        pthread_cond_destroy(&in->wake);
        free(in);
        return -1;
    }
    *out = in;
    return 0;
}

int vw_ingest_on_commit(vw_ingest *in, vw_ingest_commit_fn fn, void *ctx)
{
    pthread_mutex_lock(&in->lock);
    int rc = -1;
    if (in->listener_count < MAX_LISTENERS) {
        in->listeners[in->listener_count++] = (listener){fn, ctx};
        rc = 0;
    }
    pthread_mutex_unlock(&in->lock);
    return rc;
}

vw_ingest_result vw_ingest_submit(vw_ingest *in, vw_batch *b, vw_ingest_done_fn done, void *ctx)
{
    item *it = malloc(sizeof *it);
    if (!it) return VW_INGEST_FULL;
    pthread_mutex_lock(&in->lock);
    vw_ingest_result r = VW_INGEST_QUEUED;
    if (in->stopping)
        r = VW_INGEST_STOPPED;
    else if (in->queued_spans + b->count > in->opts.max_queued_spans && in->queued_spans > 0)
        r = VW_INGEST_FULL; /* an empty queue takes any one batch: decoders bound its size */
    if (r == VW_INGEST_QUEUED) {
        *it = (item){NULL, *b, done, ctx};
        vw_batch_init(b);
        if (in->tail)
            in->tail->next = it;
        else
            in->head = it;
        in->tail = it;
        in->queued_spans += it->batch.count;
        pthread_cond_signal(&in->wake);
    } else if (r == VW_INGEST_FULL) {
        in->stats.spans_refused += b->count;
    }
    pthread_mutex_unlock(&in->lock);
    if (r != VW_INGEST_QUEUED) free(it);
    return r;
}

void vw_ingest_batch_get(vw_ingest *in, vw_batch *out)
{
    vw_batch_init(out);
    if (!in) return;
    pthread_mutex_lock(&in->lock);
    if (in->spare_count) *out = in->spare[--in->spare_count];
    pthread_mutex_unlock(&in->lock);
}

void vw_ingest_batch_put(vw_ingest *in, vw_batch *b)
{
    if (!in) {
        vw_batch_free(b);
        return;
    }
    vw_batch_reset(b);
    pthread_mutex_lock(&in->lock);
    bool kept = in->spare_count < SPARE_BATCHES && !in->stopping && (b->spans || b->arena.chunks);
    if (kept) in->spare[in->spare_count++] = *b;
    pthread_mutex_unlock(&in->lock);
    if (kept)
        vw_batch_init(b);
    else
        vw_batch_free(b);
}

/* A receiver thread waiting for its own batch. */
typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool decided, abandoned;
    vw_ingest_result r;
} waiter;

static void waiter_release(waiter *w)
{
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}

static void wake_waiter(void *ctx, vw_ingest_result r)
{
    waiter *w = ctx;
    pthread_mutex_lock(&w->lock);
    bool abandoned = w->abandoned;
    w->decided = true;
    w->r = r;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (abandoned) waiter_release(w); /* the receiver gave up waiting: its waiter is ours */
}

vw_ingest_result vw_ingest_write(vw_ingest *in, vw_batch *b, uint32_t timeout_ms)
{
    waiter *w = calloc(1, sizeof *w);
    if (!w) return VW_INGEST_FAILED;
    pthread_mutex_init(&w->lock, NULL);
    otelc__cond_init_monotonic(&w->cond);
    vw_ingest_result r = vw_ingest_submit(in, b, wake_waiter, w);
    if (r != VW_INGEST_QUEUED) {
        waiter_release(w);
        return r;
    }
    struct timespec until = otelc__deadline_in(timeout_ms);
    pthread_mutex_lock(&w->lock);
    while (!w->decided)
        if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT) break;
    bool decided = w->decided;
    r = decided ? w->r : VW_INGEST_FAILED;
    if (!decided) w->abandoned = true;
    pthread_mutex_unlock(&w->lock);
    if (decided) waiter_release(w);
    return r;
}

void vw_ingest_stats_get(vw_ingest *in, vw_ingest_stats *out)
{
    pthread_mutex_lock(&in->lock);
    *out = in->stats;
    out->queued_spans = in->queued_spans;
    pthread_mutex_unlock(&in->lock);
}

void vw_ingest_store_counts(vw_ingest *in, vw_store_counts *out)
{
    pthread_mutex_lock(&in->lock);
    *out = in->counts;
    pthread_mutex_unlock(&in->lock);
}

void vw_ingest_stop(vw_ingest *in)
{
    if (!in) return;
    pthread_mutex_lock(&in->lock);
    in->stopping = true;
    pthread_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->lock);
    pthread_join(in->thread, NULL);
    vw_store_close(in->store);
    for (size_t i = 0; i < in->spare_count; i++) vw_batch_free(&in->spare[i]);
    pthread_mutex_destroy(&in->lock);
    pthread_cond_destroy(&in->wake);
    free(in);
}
