/*
 * span_pool.c - recycled span memory.
 *
 * Spans are the one allocation on the hot path, so they are recycled, in
 * magazines (Bonwick's design): each thread keeps a loaded magazine it
 * takes spans from and gives them back to, and one full magazine in
 * reserve; whole magazines of MAG_SIZE spans move to and from a shared
 * depot under its lock, one pointer and count each, so the lock is taken
 * once per MAG_SIZE spans and nothing is walked while it is held. Spans
 * are usually started on application threads and freed on the export
 * worker: the worker's magazines fill and go to the depot, the
 * application threads' empty and are refilled from it. The depot is
 * capped so that a burst does not pin memory for ever.
 *
 * Taking and giving back are inline (internal.h): a pop or a push on the
 * thread's loaded magazine. A span in the pool has a reset arena; nothing
 * else of it is kept, the span's start sets every field it uses.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SHARED_BASE 4096

/*
 * Spans kept in the depot beyond SHARED_BASE: the queue capacity of every
 * live batch processor. Spans queued for export come back here, and
 * freeing them only to malloc them again on the next burst would put
 * malloc on the hot path; keeping more than the queues can hold would pin
 * memory.
 */
static _Atomic size_t shared_reserved;

void otelc__span_pool_reserve(long delta)
{
    atomic_fetch_add(&shared_reserved, (size_t)delta);
}

static size_t shared_max(void)
{
    return SHARED_BASE + atomic_load_explicit(&shared_reserved, memory_order_relaxed);
}

OTELC_HOT_TLS struct otelc_span_cache otelc__span_cache = {
    .loaded = {NULL, OTELC_MAG_UNREGISTERED}};

static pthread_mutex_t depot_lock = PTHREAD_MUTEX_INITIALIZER;
static otelc_magazine *depot; /* a stack of magazines */
static size_t depot_count, depot_cap;
static size_t depot_spans; /* in all of them */

static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

/* A span leaves the pool for good. */
static void span_destroy(struct otelc_span *s)
{
    otelc__arena_free(&s->arena);
    free(s);
}

static void magazine_destroy(otelc_magazine m)
{
    while (m.head) {
        struct otelc_span *next = m.head->next;
        span_destroy(m.head);
        m.head = next;
    }
}

/* Hand a magazine (any number of spans) to the depot, or free its spans when it is full. */
static void depot_put(otelc_magazine m)
{
    if (!m.head) return;
    pthread_mutex_lock(&depot_lock);
    bool kept = depot_spans + m.n <= shared_max();
    if (kept && depot_count == depot_cap) {
        size_t cap = depot_cap ? 2 * depot_cap : 16;
        otelc_magazine *grown = realloc(depot, cap * sizeof(*grown));
        if (grown) {
            depot = grown;
            depot_cap = cap;
        } else {
            kept = false;
        }
    }
    if (kept) {
        depot[depot_count++] = m;
        depot_spans += m.n;
    }
    pthread_mutex_unlock(&depot_lock);
    if (!kept) magazine_destroy(m);
}

/* A magazine from the depot, or an empty one. */
static otelc_magazine depot_get(void)
{
    otelc_magazine m = {NULL, 0};
    pthread_mutex_lock(&depot_lock);
    if (depot_count) {
        m = depot[--depot_count];
        depot_spans -= m.n;
    }
    pthread_mutex_unlock(&depot_lock);
    return m;
}

/* A thread exits: its magazines go to the depot. */
static void cache_destroy(void *arg)
{
    struct otelc_span_cache *c = arg;
    depot_put(c->loaded);
    depot_put(c->full);
    memset(c, 0, sizeof(*c));
    c->loaded.n = OTELC_MAG_UNREGISTERED; /* a span given back later registers it again */
}

static void pool_prepare(void)
{
    pthread_mutex_lock(&depot_lock);
}

static void pool_parent(void)
{
    pthread_mutex_unlock(&depot_lock);
}

static void pool_child(void)
{
    pthread_mutex_init(&depot_lock, NULL);
}

static void cache_key_create(void)
{
    pthread_key_create(&cache_key, cache_destroy);
    pthread_atfork(pool_prepare, pool_parent, pool_child);
}

/* The first time a thread takes or gives back a span: its magazines go back when it exits. */
static void cache_register(struct otelc_span_cache *c)
{
    pthread_once(&cache_key_once, cache_key_create);
    pthread_setspecific(cache_key, c);
    c->registered = true;
    c->loaded = (otelc_magazine){NULL, 0}; /* it held none (OTELC_MAG_UNREGISTERED) */
}

struct otelc_span *otelc__span_take_slow(void)
{
    struct otelc_span_cache *c = &otelc__span_cache;
    if (OTELC_UNLIKELY(!c->registered)) cache_register(c);
    if (!c->loaded.head) {
        c->loaded = c->full.head ? c->full : depot_get();
        c->full = (otelc_magazine){NULL, 0};
    }
    struct otelc_span *s = c->loaded.head;
    if (s) {
        c->loaded.head = s->next;
        c->loaded.n--;
        return s;
    }
    s = malloc(sizeof(*s));
    if (!s) return NULL;
    memset(&s->arena, 0, sizeof(s->arena));
    s->arena.pos = s->inline_buf;
    s->arena.end = s->inline_buf + sizeof(s->inline_buf);
    return s;
}

void otelc__span_give_slow(struct otelc_span *s)
{
    struct otelc_span_cache *c = &otelc__span_cache;
    if (OTELC_UNLIKELY(!c->registered)) cache_register(c);
    if (c->loaded.n >= OTELC_MAG_SIZE) {
        depot_put(c->full);
        c->full = c->loaded;
        c->loaded = (otelc_magazine){NULL, 0};
    }
    s->next = c->loaded.head;
    c->loaded.head = s;
    c->loaded.n++;
}

void otelc__span_pool_give_back(void)
{
    struct otelc_span_cache *c = &otelc__span_cache;
    depot_put(c->loaded);
    depot_put(c->full);
    c->full = (otelc_magazine){NULL, 0};
    c->loaded = (otelc_magazine){NULL, c->registered ? 0 : OTELC_MAG_UNREGISTERED};
}

void otelc__span_free_slow(struct otelc_span *s)
{
    otelc__arena_reset(&s->arena, s->inline_buf, sizeof(s->inline_buf)); /* no chunk after */
    otelc__span_free(s);
}
