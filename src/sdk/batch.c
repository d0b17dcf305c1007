/*
 * batch.c - the batch span processor: queue finished spans, export them in
 * batches from one background worker thread.
 *
 * Design. Every thread that ends spans gets its own single-producer ring,
 * registered once with the processor (pthread key). on_end writes a pointer
 * into the caller's ring and bumps the ring head: no lock, no shared cache
 * line written per span. One worker thread drains every ring under the
 * processor lock and calls the exporter without it.
 *
 * The queue bound (max_queue_size) is shared through credits: a global pool
 * holding max_queue_size credits, from which producers reserve chunks. A
 * span needs one credit from its thread's reserve and gives it back to the
 * pool only after its export, so spans queued plus spans being exported
 * never exceed max_queue_size. A thread may sit on up to one chunk of unused
 * credits; they return to the pool when the thread exits.
 *
 * Waking the worker early: each producer reports its enqueued spans to a
 * shared hint counter once per chunk; the report that makes the hint reach
 * a batch's worth signals the worker (one lock and signal per batch, not
 * per span). The schedule-delay timer exports whatever the hint missed.
 *
 * Ownership hand-offs:
 *   - on_end retains the span only once it has a credit and a ring slot; from
 *     then on the ring owns that reference (a drop never retains).
 *   - the worker moves references from rings to b->pending under b->lock;
 *     pending then owns them until export_batch() releases each one.
 *   - a ring belongs to its thread while the thread lives. The key
 *     destructor marks it orphan and the worker frees it once drained, so
 *     spans queued by a thread that exits are still exported.
 *   - after fork, the child abandons every ring and pending span (see
 *     batch_after_fork_child) instead of freeing them.
 */
#define _GNU_SOURCE /* pthread_setname_np, SCHED_BATCH */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "internal.h"

#define DEFAULT_QUEUE   2048
#define DEFAULT_DELAY   5000
#define DEFAULT_BATCH   512
#define DEFAULT_TIMEOUT 30000
#define MAX_CHUNK       64
#define MAX_RING_SLOTS  65536 /* one thread may fill the whole queue */
/*
 * How long shutdown and destroy wait for a worker whose exporter was told
 * to give up: the built-in exporters cut a transfer short at once, and the
 * batches still queued then fail without touching the network.
 */
#define ABANDON_GRACE_MS 500

struct batch;

/*
 * A single-producer single-consumer ring. The first cache line is written
 * only by the owning thread, the second only by the worker, so neither
 * side's stores invalidate the other's line on every span.
 */
struct ring {
    _Atomic uint32_t head;
    uint32_t tail_seen;  /* producer's cached copy of tail */
    uint32_t credits;    /* queue credits reserved by this thread */
    uint32_t unreported; /* spans not yet added to the shared hint */
    uint32_t gen;        /* processor fork generation when created */
    uint32_t mask;
    struct batch *owner;

    _Alignas(64) _Atomic uint32_t tail;
    _Atomic bool orphan; /* the owning thread has exited */
    struct ring *next;   /* processor's list, under b->lock */
    const otelc_span_data *slot[];
};

struct batch {
    /* Read on every on_end; written at creation, shutdown and fork only. */
    otelc_exporter *exp;
    otelc_processor *wrap; /* the handle: its stats pointer is set later */
    pthread_key_t key;
    uint64_t id; /* never reused, so a thread's cached ring cannot outlive its batch */
    _Atomic uint32_t gen;
    _Atomic bool stop;
    uint32_t chunk;
    uint32_t ring_slots;
    bool steps_back; /* OTELC_BSP_WORKER_PRIORITY, read at creation */
    otelc_batch_options opt;

    /* Written once per chunk of spans by producers, per batch by the worker. */
    _Alignas(64) _Atomic uint32_t credits;
    _Atomic uint32_t hint;
    _Atomic bool sleeping; /* the worker waits (or is about to) for work */

    /* Guarded by lock. */
    _Alignas(64) pthread_mutex_t lock;
    pthread_cond_t wake; /* the worker waits here */
    pthread_cond_t done; /* flush and shutdown callers wait here */
    struct ring *rings;
    bool kick;
    bool running;
    bool ready; /* the running worker has started and prepared its exporter */
    bool exited;
    uint64_t flush_req;
    uint64_t flush_done;
    pthread_t thread;

    /* Owned by the worker (or by shutdown once no worker can run). */
    uint32_t npending;
    const otelc_span_data **pending;
    /*
     * Spans handed to the exporter whose outcome is not counted yet.
     * Whoever takes it (exchange to 0) counts them: the worker when the
     * export returns, or a shutdown that gave up waiting for it, which
     * counts them failed, so that they are counted before it returns.
     */
    _Atomic uint32_t in_export;
};

static otelc_stats_block *stats_of(struct batch *b)
{
    return b->wrap ? b->wrap->stats : NULL;
}

/* ---- Export ------------------------------------------------------------------ */

/*
 * Export n pending spans, then give back their references and credits.
 * The spans this frees go on to the threads that start spans: kept in
 * this thread's cache they would be memory no one uses.
 */
static void export_batch(struct batch *b, uint32_t n)
{
    atomic_store(&b->in_export, n);
    otelc_export_result r = otelc__exporter_export_sdk(b->exp, b->pending, n);
    if (atomic_exchange(&b->in_export, 0)) otelc__count_export(stats_of(b), r, n);
    otelc__spans_release(b->pending, n);
    otelc__span_pool_give_back();
    atomic_fetch_add_explicit(&b->credits, n, memory_order_release);
}

/*
 * Move spans from the rings into pending until it holds a batch; free the
 * rings of exited threads once empty. Caller holds b->lock.
 */
static void collect(struct batch *b)
{
    uint32_t max = b->opt.max_export_batch_size;
    struct ring **pp = &b->rings;
    while (*pp && b->npending < max) {
        struct ring *r = *pp;
        bool orphan = atomic_load_explicit(&r->orphan, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        /* Up to a batch, copied in at most two runs (the second after the ring wraps). */
        uint32_t n = h - t < max - b->npending ? h - t : max - b->npending;
        while (n > 0) {
            uint32_t at = t & r->mask, run = r->mask + 1 - at < n ? r->mask + 1 - at : n;
            memcpy(&b->pending[b->npending], &r->slot[at], run * sizeof(r->slot[0]));
            b->npending += run;
            t += run;
            n -= run;
        }
        atomic_store_explicit(&r->tail, t, memory_order_release);
        if (orphan && t == h) {
            *pp = r->next;
            free(r);
            continue;
        }
        pp = &r->next;
    }
}

/*
 * Export what the rings hold: full batches only, or everything when all is
 * set (timer, flush, shutdown). A partial batch otherwise waits in pending,
 * still holding its credits.
 */
static void export_queued(struct batch *b, bool all)
{
    for (;;) {
        pthread_mutex_lock(&b->lock);
        collect(b);
        pthread_mutex_unlock(&b->lock);
        uint32_t n = b->npending;
        if (n == 0 || (n < b->opt.max_export_batch_size && !all)) return;
        export_batch(b, n);
        b->npending = 0;
    }
}

static int exporter_flush(struct batch *b, uint32_t timeout_ms)
{
    const otelc_exporter_ops *ops = b->exp->ops;
    if (b->exp->shut_down || !ops->force_flush) return OTELC_OK;
    return ops->force_flush(b->exp->self, timeout_ms);
}

/* ---- Worker -------------------------------------------------------------------- */

static bool has_work(struct batch *b)
{
    return b->kick || atomic_load(&b->stop) || b->flush_req != b->flush_done ||
           atomic_load(&b->hint) >= b->opt.max_export_batch_size;
}

/*
 * Sleep until a batch is ready, a flush or shutdown is asked for, or the
 * schedule delay passes. Returns true when everything queued should be
 * exported. Called and returns with b->lock held.
 *
 * sleeping pairs with the hint (both seq_cst): a producer whose report
 * completes a batch either sees sleeping set and signals, or the worker's
 * has_work() that follows its store sees the producer's hint. Producers
 * thus take the lock only to wake a worker that is really asleep.
 */
static bool wait_for_work(struct batch *b)
{
    struct timespec until = otelc__deadline_in(b->opt.schedule_delay_ms);
    bool timed_out = false;
    while (!timed_out) {
        atomic_store(&b->sleeping, true);
        if (has_work(b)) break;
        timed_out = pthread_cond_timedwait(&b->wake, &b->lock, &until) == ETIMEDOUT;
    }
    atomic_store(&b->sleeping, false);
    return timed_out || atomic_load(&b->stop) || b->flush_req != b->flush_done;
}

/*
 * Exporting is throughput work with seconds of slack, so by default the
 * worker steps back for the application's threads (Linux; elsewhere it
 * keeps what it inherited):
 *   - SCHED_BATCH: waking it never preempts a running thread (under the
 *     normal policy the thread that ended a batch's last span woke it and
 *     waited for its whole export);
 *   - nice +10 (weight 110 against 1024): a request thread that wakes while
 *     it runs takes the CPU back at once, yet under full load it keeps ~10 %
 *     of a CPU, enough to export ~100,000 spans/s, where SCHED_IDLE would
 *     get ~0.3 % and drop most of them.
 * Only a worker started under the normal policy is changed. Raising a nice
 * value cannot be undone without privileges, so with a worker_start the
 * hook decides instead and none of this happens.
 */
static void step_back(void)
{
#if defined(__linux__) && defined(SCHED_BATCH)
    int policy;
    struct sched_param param;
    if (pthread_getschedparam(pthread_self(), &policy, &param) != 0 || policy != SCHED_OTHER)
        return;
    param.sched_priority = 0;
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    /* On Linux a nice value belongs to the thread (PRIO_PROCESS with a thread id). */
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, nice + 10 > 19 ? 19 : nice + 10);
#endif
}

static void *worker_main(void *arg)
{
    struct batch *b = arg;
#ifdef __GLIBC__
    /* Otherwise it carries the name of whichever thread ended the first span. */
    pthread_setname_np(pthread_self(), "otelc-batch");
#endif
    if (b->opt.worker_start) b->opt.worker_start(b->opt.worker_start_arg);
    /*
     * Before stepping back: a short program's exit waits for it, and at
     * nice +10 on a busy machine loading libcurl took twice as long.
     */
    otelc__exporter_prepare(b->exp);
    if (!b->opt.worker_start && b->steps_back) step_back();
    pthread_mutex_lock(&b->lock);
    b->ready = true;
    pthread_cond_broadcast(&b->done);
    for (;;) {
        bool all = wait_for_work(b);
        uint64_t ticket = b->flush_req;
        bool stop = atomic_load(&b->stop);
        b->kick = false;
        atomic_store_explicit(&b->hint, 0, memory_order_relaxed);
        pthread_mutex_unlock(&b->lock);

        export_queued(b, all);
        if (ticket != b->flush_done || stop) exporter_flush(b, b->opt.export_timeout_ms);

        pthread_mutex_lock(&b->lock);
        b->flush_done = ticket;
        pthread_cond_broadcast(&b->done);
        if (stop) break;
    }
    b->exited = true;
    pthread_cond_broadcast(&b->done);
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

/*
 * Start the worker if none runs (first span, first span after fork).
 * Application signals are blocked in it so they land on the application's
 * own threads. Caller holds b->lock.
 */
static int ensure_worker(struct batch *b)
{
    if (b->running) return OTELC_OK;
    if (atomic_load(&b->stop)) return OTELC_ERR_STATE;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&b->thread, NULL, worker_main, b);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        otelc__log(OTELC_LOG_ERROR, "batch processor: cannot start worker thread (error %d)", rc);
        return OTELC_ERR_STATE;
    }
    b->running = true;
    b->ready = false;
    b->exited = false;
    return OTELC_OK;
}

/* ---- Producer side --------------------------------------------------------------- */

/* Key destructor: the exiting thread hands its ring to the worker. */
static void ring_detach(void *p)
{
    struct ring *r = p;
    struct batch *b = r->owner;
    if (r->gen != atomic_load_explicit(&b->gen, memory_order_relaxed)) return;
    atomic_fetch_add_explicit(&b->credits, r->credits, memory_order_relaxed);
    r->credits = 0;
    atomic_store_explicit(&r->orphan, true, memory_order_release);
}

/* Give this thread a ring (first span, or first span after fork). */
static struct ring *ring_attach(struct batch *b)
{
    size_t size = sizeof(struct ring) + (size_t)b->ring_slots * sizeof(void *);
    struct ring *r;
    if (posix_memalign((void **)&r, 64, size) != 0) return NULL;
    memset(r, 0, size);
    r->mask = b->ring_slots - 1;
    r->owner = b;
    r->gen = atomic_load_explicit(&b->gen, memory_order_relaxed);
    pthread_mutex_lock(&b->lock);
    if (ensure_worker(b) != OTELC_OK) {
        pthread_mutex_unlock(&b->lock);
        free(r);
        return NULL;
    }
    r->next = b->rings;
    b->rings = r;
    pthread_mutex_unlock(&b->lock);
    pthread_setspecific(b->key, r);
    return r;
}

/* Reserve up to a chunk of credits from the shared pool; false when empty. */
static bool credits_refill(struct batch *b, struct ring *r)
{
    uint32_t avail = atomic_load_explicit(&b->credits, memory_order_relaxed);
    uint32_t take;
    do {
        if (avail == 0) return false;
        take = avail < b->chunk ? avail : b->chunk;
    } while (!atomic_compare_exchange_weak_explicit(&b->credits, &avail, avail - take,
                                                    memory_order_acquire, memory_order_relaxed));
    r->credits = take;
    return true;
}

/* Add a chunk to the hint; the report that completes a batch wakes the worker. */
static void report(struct batch *b, struct ring *r)
{
    uint32_t n = r->unreported, batch = b->opt.max_export_batch_size;
    r->unreported = 0;
    uint32_t old = atomic_fetch_add(&b->hint, n);
    if (old >= batch || old + n < batch || !atomic_load(&b->sleeping)) return;
    pthread_mutex_lock(&b->lock);
    b->kick = true;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
}

static bool ring_full(struct ring *r, uint32_t h)
{
    if (h - r->tail_seen <= r->mask) return false;
    r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
    return h - r->tail_seen > r->mask;
}

/*
 * The ring this thread used last, so the common case (one batch processor)
 * skips pthread_getspecific on every span.
 */
static OTELC_HOT_TLS uint64_t last_batch_id;
static OTELC_HOT_TLS struct ring *last_ring;

/* thread_ring() when this thread's last ring is not b's, or is from before a fork. */
static struct ring *thread_ring_slow(struct batch *b)
{
    struct ring *r = pthread_getspecific(b->key);
    if (!r || r->gen != atomic_load_explicit(&b->gen, memory_order_relaxed)) {
        if (!(r = ring_attach(b))) return NULL;
    }
    last_batch_id = b->id;
    last_ring = r;
    return r;
}

static inline struct ring *thread_ring(struct batch *b)
{
    struct ring *r = last_ring;
    if (OTELC_LIKELY(last_batch_id == b->id &&
                     r->gen == atomic_load_explicit(&b->gen, memory_order_relaxed)))
        return r;
    return thread_ring_slow(b);
}

/* Queue sd on this thread's ring; false when there is no room for it. */
static bool enqueue(struct batch *b, const otelc_span_data *sd)
{
    struct ring *r = thread_ring(b);
    if (OTELC_UNLIKELY(!r)) return false;
    if (OTELC_UNLIKELY(r->credits == 0) && !credits_refill(b, r)) return false;
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (OTELC_UNLIKELY(ring_full(r, h))) return false;
    otelc__span_keep(sd);
    r->slot[h & r->mask] = sd;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    r->credits--;
    if (++r->unreported >= b->chunk) report(b, r);
    return true;
}

/* batch_on_end() when its usual case does not hold. */
static __attribute__((noinline)) void on_end_slow(struct batch *b, const otelc_span_data *sd)
{
    if (OTELC_UNLIKELY(atomic_load_explicit(&b->stop, memory_order_relaxed))) return;
    if (OTELC_UNLIKELY(!enqueue(b, sd))) otelc__stats_add(stats_of(b), OTELC_STAT_DROPPED, 1);
}

/*
 * Only sampled spans are exported; the rest never enter the queue. The
 * usual case calls nothing: this thread's ring is the one it used last,
 * it holds a credit and room, the span's end hands its reference over
 * (this is the last processor), and no report is due. Anything else, and
 * a stopped processor, goes to on_end_slow() before anything changed.
 */
static void batch_on_end(void *self, const otelc_span_data *sd)
{
    struct batch *b = self;
    if (!(sd->context.trace_flags & OTELC_TRACE_FLAG_SAMPLED)) return;
    struct ring *r = last_ring;
    uint32_t h;
    if (OTELC_UNLIKELY(
            last_batch_id != b->id || atomic_load_explicit(&b->stop, memory_order_relaxed) ||
            r->gen != atomic_load_explicit(&b->gen, memory_order_relaxed) || r->credits == 0 ||
            r->unreported + 1 >= b->chunk ||
            (h = atomic_load_explicit(&r->head, memory_order_relaxed)) - r->tail_seen > r->mask ||
            otelc__span_ending != otelc__span_of(sd))) {
        on_end_slow(b, sd);
        return;
    }
    otelc__span_ending = NULL; /* the reference is the ring's now */
    r->slot[h & r->mask] = sd;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    r->credits--;
    r->unreported++;
}

/* ---- Flush, shutdown, destroy ------------------------------------------------------ */

/*
 * Wait on b->done until flush ticket is served (ticket 0: until the worker
 * has exited) or the deadline passes. Caller holds b->lock.
 */
static bool wait_done(struct batch *b, const struct timespec *until, uint64_t ticket)
{
    for (;;) {
        if (ticket ? b->flush_done >= ticket : b->exited) return true;
        if (pthread_cond_timedwait(&b->done, &b->lock, until) == ETIMEDOUT)
            return ticket ? b->flush_done >= ticket : b->exited;
    }
}

/* The wait bound: the caller's timeout, capped by export_timeout. */
static uint32_t wait_ms(struct batch *b, uint32_t timeout_ms)
{
    uint32_t cap = b->opt.export_timeout_ms;
    return timeout_ms && timeout_ms < cap ? timeout_ms : cap;
}

static int batch_force_flush(void *self, uint32_t timeout_ms)
{
    struct batch *b = self;
    struct timespec until = otelc__deadline_in(wait_ms(b, timeout_ms));
    pthread_mutex_lock(&b->lock);
    int rc = ensure_worker(b);
    if (rc == OTELC_OK) {
        uint64_t ticket = ++b->flush_req;
        pthread_cond_signal(&b->wake);
        rc = wait_done(b, &until, ticket) ? OTELC_OK : OTELC_ERR_TIMEOUT;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/*
 * Wait at most ms for the worker to exit, and join it if it did. Caller
 * does not hold b->lock.
 */
static bool join_within(struct batch *b, uint32_t ms)
{
    struct timespec until = otelc__deadline_in(ms);
    pthread_mutex_lock(&b->lock);
    bool running = b->running;
    bool exited = !running || wait_done(b, &until, 0);
    pthread_mutex_unlock(&b->lock);
    if (!running || !exited) return exited;
    pthread_join(b->thread, NULL);
    pthread_mutex_lock(&b->lock);
    b->running = false;
    pthread_mutex_unlock(&b->lock);
    return true;
}

/*
 * Stop the worker after it exported everything queued, then shut the
 * exporter down. When the deadline passes first, the export in flight is
 * abandoned: shutting the exporter down cuts it short, the batches still
 * queued fail at once (and are counted), and the worker is given a short
 * grace to finish. Returns OTELC_ERR_TIMEOUT when the deadline passed;
 * destroy joins a worker still running then.
 */
static int batch_shutdown(void *self, uint32_t timeout_ms)
{
    struct batch *b = self;
    pthread_mutex_lock(&b->lock);
    atomic_store(&b->stop, true);
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    if (!join_within(b, wait_ms(b, timeout_ms))) {
        otelc__exporter_shutdown(b->exp);
        if (!join_within(b, ABANDON_GRACE_MS)) {
            /* The export cut short has not returned: its spans are lost, and counted now. */
            uint32_t n = atomic_exchange(&b->in_export, 0);
            if (n) otelc__count_export(stats_of(b), OTELC_EXPORT_FAILURE, n);
        }
        return OTELC_ERR_TIMEOUT;
    }
    /* No worker runs and none can start: exporting here is not concurrent. */
    export_queued(b, true);
    otelc__exporter_shutdown(b->exp);
    return OTELC_OK;
}

/* Give back every reference still queued (spans ended after shutdown). */
static void release_queued(struct batch *b)
{
    for (uint32_t i = 0; i < b->npending; i++) otelc_span_data_release(b->pending[i]);
    b->npending = 0;
    while (b->rings) {
        struct ring *r = b->rings;
        uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        for (uint32_t t = atomic_load(&r->tail); t != h; t++)
            otelc_span_data_release(r->slot[t & r->mask]);
        b->rings = r->next;
        free(r);
    }
}

/*
 * Free the processor once its worker has exited. A worker still inside an
 * export after its exporter was told to shut down (an exporter of the
 * user's that ignores shutdown) is left running, detached, with the
 * processor it uses: freeing either would pull memory from under it, and
 * waiting would hang the exit this bound is for.
 */
static void batch_destroy(void *self)
{
    struct batch *b = self;
    pthread_mutex_lock(&b->lock);
    atomic_store(&b->stop, true);
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    if (!join_within(b, ABANDON_GRACE_MS)) {
        otelc__exporter_shutdown(b->exp);
        if (!join_within(b, ABANDON_GRACE_MS)) {
            otelc__log(OTELC_LOG_WARN, "batch processor: the exporter ignored shutdown; its "
                                       "export is abandoned, still running");
            pthread_detach(b->thread);
            return;
        }
    }
    pthread_key_delete(b->key);
    release_queued(b);
    otelc__span_pool_reserve(-(long)b->opt.max_queue_size);
    otelc_exporter_free(b->exp);
    pthread_cond_destroy(&b->wake);
    pthread_cond_destroy(&b->done);
    pthread_mutex_destroy(&b->lock);
    free(b->pending);
    free(b);
}

/*
 * A fork() while the worker is still starting would copy it half-way
 * through loading libcurl or initialising OpenSSL and the sanitizers'
 * thread set-up, with their locks held and no thread left in the child to
 * release them. So a fork waits for a worker that is starting, once per
 * worker and at most WORKER_START_WAIT_MS; a running worker is not waited.
 */
#define WORKER_START_WAIT_MS 1000

static void batch_before_fork(void *self)
{
    struct batch *b = self;
    struct timespec until = otelc__deadline_in(WORKER_START_WAIT_MS);
    pthread_mutex_lock(&b->lock);
    while (b->running && !b->ready && !b->exited)
        if (pthread_cond_timedwait(&b->done, &b->lock, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&b->lock);
}

/*
 * In the fork child only this thread exists: the parent's worker is gone
 * and its lock may have been held mid-operation. Spans the parent queued
 * are discarded without export; rings and pending references are leaked
 * rather than freed, because other parent threads may have been writing to
 * them (and to the span pool) at the moment of fork. The generation bump
 * makes every thread attach a fresh ring, which also restarts the worker.
 * The exporter, which the parent's worker may have been using, is told too.
 */
static void batch_after_fork_child(void *self)
{
    struct batch *b = self;
    pthread_mutex_init(&b->lock, NULL);
    otelc__cond_init_monotonic(&b->wake);
    otelc__cond_init_monotonic(&b->done);
    otelc__abandon(b->rings);
    b->rings = NULL;
    b->npending = 0;
    atomic_store(&b->in_export, 0); /* the parent's export, the parent's to count */
    b->kick = false;
    b->running = false;
    b->ready = false;
    b->exited = false;
    b->flush_req = b->flush_done = 0;
    atomic_store(&b->credits, b->opt.max_queue_size);
    atomic_store(&b->hint, 0);
    atomic_fetch_add(&b->gen, 1);
    otelc_exporter_after_fork_child(b->exp);
}

static const otelc_processor_ops batch_ops = {
    .on_end = batch_on_end,
    .force_flush = batch_force_flush,
    .shutdown = batch_shutdown,
    .destroy = batch_destroy,
    .after_fork_child = batch_after_fork_child,
};

/* ---- Creation ------------------------------------------------------------------------ */

static void resolve_options(otelc_batch_options *o, const otelc_batch_options *given)
{
    if (given)
        *o = *given;
    else
        memset(o, 0, sizeof(*o));
    if (!o->max_queue_size || !o->schedule_delay_ms || !o->max_export_batch_size ||
        !o->export_timeout_ms)
        otelc__batch_options_from_env(o);
    if (!o->max_queue_size) o->max_queue_size = DEFAULT_QUEUE;
    if (!o->schedule_delay_ms) o->schedule_delay_ms = DEFAULT_DELAY;
    if (!o->max_export_batch_size) o->max_export_batch_size = DEFAULT_BATCH;
    if (!o->export_timeout_ms) o->export_timeout_ms = DEFAULT_TIMEOUT;
    if (o->max_export_batch_size > o->max_queue_size) o->max_export_batch_size = o->max_queue_size;
}

/*
 * Chunks small enough that a batch is a whole number of them (so a lone
 * thread wakes the worker at exactly a batch), large enough to make the
 * shared counters cold.
 */
static void size_queue(struct batch *b)
{
    uint32_t chunk = b->opt.max_export_batch_size / 4;
    b->chunk = chunk < 1 ? 1 : chunk > MAX_CHUNK ? MAX_CHUNK : chunk;
    uint32_t want = b->opt.max_queue_size < MAX_RING_SLOTS ? b->opt.max_queue_size : MAX_RING_SLOTS;
    b->ring_slots = 1;
    while (b->ring_slots < want) b->ring_slots <<= 1;
}

static struct batch *batch_alloc(otelc_exporter *exp, const otelc_batch_options *opts)
{
    struct batch *b;
    if (posix_memalign((void **)&b, 64, sizeof(*b)) != 0) return NULL;
    memset(b, 0, sizeof(*b));
    static _Atomic uint64_t next_id = 1;
    b->id = atomic_fetch_add(&next_id, 1);
    resolve_options(&b->opt, opts);
    b->steps_back = otelc__batch_worker_steps_back();
    size_queue(b);
    b->pending = calloc(b->opt.max_export_batch_size, sizeof(*b->pending));
    if (!b->pending || pthread_key_create(&b->key, ring_detach) != 0) {
        free(b->pending);
        free(b);
        return NULL;
    }
    otelc__span_pool_reserve((long)b->opt.max_queue_size);
    b->exp = exp;
    atomic_init(&b->credits, b->opt.max_queue_size);
    pthread_mutex_init(&b->lock, NULL);
    otelc__cond_init_monotonic(&b->wake);
    otelc__cond_init_monotonic(&b->done);
    return b;
}

otelc_processor *otelc_batch_processor_new(otelc_exporter *exp, const otelc_batch_options *opts)
{
    if (!exp) return NULL;
    struct batch *b = batch_alloc(exp, opts);
    if (!b) {
        otelc_exporter_free(exp);
        return NULL;
    }
    b->wrap = otelc_processor_new(&batch_ops, b);
    if (!b->wrap) {
        batch_destroy(b);
        return NULL;
    }
    b->wrap->before_fork = batch_before_fork;
    return b->wrap;
}
