/*
 * conn_state.h - per-connection state of the client instrumentations that
 * pipeline (libpq's PQsend*, hiredis's redisAppendCommand): a registry of
 * states keyed by the library's connection handle, and in each a FIFO of
 * the spans whose replies have not been read yet. Requests are answered in
 * the order they were sent, so popping the oldest span pairs it with its
 * reply.
 *
 * SQLite uses the registry only: its statements are not answered in order.
 *
 * Header-only and static: each instrumentation library gets its own copy,
 * so two of them loaded into one process share no symbols.
 *
 * A library embeds conn_base as the first member of its state struct and
 * keeps one conn_registry; every function taking a registry expects its
 * lock to be held, except conn_detach.
 */
#ifndef OTELC_INSTRUMENT_CONN_STATE_H
#define OTELC_INSTRUMENT_CONN_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "fork_lock.h"
#include "otelc/instrument/db.h"
#include "otelc/otelc.h"

/* One span waiting for its reply, with a number the library keeps with it. */
typedef struct conn_pending {
    otelc_span *span;
    int64_t note;
    struct conn_pending *next;
} conn_pending;

typedef struct conn_base {
    const void *handle;
    conn_pending *head;
    conn_pending *tail;
    struct conn_base *next;
} conn_base;

typedef struct conn_registry {
    pthread_mutex_t lock;
    conn_base *states;
} conn_registry;

#define CONN_REGISTRY_INIT                                                                         \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, NULL                                                            \
    }

/*
 * The state of handle, a struct of size bytes starting with conn_base;
 * created zeroed when create is true. NULL when absent (or out of memory).
 */
static inline void *conn_state(conn_registry *r, const void *handle, size_t size, bool create)
{
    for (conn_base *s = r->states; s; s = s->next)
        if (s->handle == handle) return s;
    if (!create) return NULL;
    conn_base *s = calloc(1, size);
    if (!s) return NULL;
    s->handle = handle;
    s->next = r->states;
    r->states = s;
    return s;
}

/* Queue span at the tail of handle's FIFO; false when out of memory. */
static inline bool conn_push(conn_registry *r, const void *handle, size_t size, otelc_span *span,
                             int64_t note)
{
    conn_base *s = conn_state(r, handle, size, true);
    conn_pending *p = s ? malloc(sizeof(*p)) : NULL;
    if (!p) return false;
    *p = (conn_pending){span, note, NULL};
    if (s->tail)
        s->tail->next = p;
    else
        s->head = p;
    s->tail = p;
    return true;
}

/* The oldest pending span of handle, taken off its FIFO (the caller frees it), or NULL. */
static inline conn_pending *conn_pop(conn_registry *r, const void *handle)
{
    conn_base *s = conn_state(r, handle, 0, false);
    conn_pending *p = s ? s->head : NULL;
    if (p) {
        s->head = p->next;
        if (!s->head) s->tail = NULL;
    }
    return p;
}

/* Unlink handle's state and hand it to the caller, or NULL. */
static inline void *conn_unlink(conn_registry *r, const void *handle)
{
    for (conn_base **pp = &r->states; *pp; pp = &(*pp)->next)
        if ((*pp)->handle == handle) {
            conn_base *found = *pp;
            *pp = found->next;
            return found;
        }
    return NULL;
}

/*
 * conn_unlink for a connection that is going away; the caller ends its
 * pending spans and frees it (see conn_fail_pending). Takes the lock itself.
 */
static inline void *conn_detach(conn_registry *r, const void *handle)
{
    fork_lock(&r->lock);
    void *found = conn_unlink(r, handle);
    pthread_mutex_unlock(&r->lock);
    return found;
}

/* End every span still waiting on a detached state, as failed with error_type. */
static inline void conn_fail_pending(conn_base *s, const char *error_type, const char *message,
                                     void (*finish)(otelc_span *span, int64_t note))
{
    while (s->head) {
        conn_pending *p = s->head;
        s->head = p->next;
        otelc_db_span_fail(p->span, NULL, error_type, message);
        finish(p->span, p->note);
        free(p);
    }
    s->tail = NULL;
}

#endif
