/*
 * fork_lock.h - the one lock an instrumentation library keeps for all its
 * connections, taken so that a fork() child can always take it too.
 *
 * Another thread may hold the lock at the moment of fork; in the child that
 * thread does not exist, and the child's first instrumented call would wait
 * for it forever. So the child re-creates the lock. (Holding it across the
 * fork from a prepare handler instead would order it against the SDK's own
 * fork locks, and instrumented code starts spans while holding it.) What
 * the lock guards may then be caught mid-update: the libraries change their
 * lists so that such a copy can lose an entry but never reach freed memory
 * (unlink, then free outside the lock; publish a pointer before freeing
 * what it replaced).
 *
 * Header-only and static, like conn_state.h: one copy per library.
 */
#ifndef OTELC_INSTRUMENT_FORK_LOCK_H
#define OTELC_INSTRUMENT_FORK_LOCK_H

#include <pthread.h>
#include <stdatomic.h>

static _Atomic(pthread_mutex_t *) fork_lock_mutex;

static void fork_lock_child(void)
{
    pthread_mutex_init(atomic_load(&fork_lock_mutex), NULL);
}

static void fork_lock_install(void)
{
    pthread_atfork(NULL, NULL, fork_lock_child);
}

/* Lock m, the library's only lock; the first call arranges the fork handler. */
static inline void fork_lock(pthread_mutex_t *m)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (atomic_load_explicit(&fork_lock_mutex, memory_order_relaxed) != m)
        atomic_store_explicit(&fork_lock_mutex, m, memory_order_relaxed);
    pthread_once(&once, fork_lock_install);
    pthread_mutex_lock(m);
}

#endif
