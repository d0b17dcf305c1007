/*
 * span_pool.c - recycled span memory.
 *
 * Spans are the one allocation on the hot path, so they are recycled: each
 * thread keeps a cache, refilled from (and spilled to) a shared stack in
 * groups, so the shared lock is taken once per SPAN_BATCH spans rather than
 * per span (with two busy threads a smaller group made this lock the main
 * source of futex waits). Spans are usually started on application threads and freed on
 * the export worker; the worker spills to the shared stack, the application
 * threads refill from it. The shared stack is capped so that a burst does not
 * pin memory for ever.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SPAN_BATCH  256
#define CACHE_MAX   (2 * SPAN_BATCH)
#define SHARED_BASE 4096

/*
 * Spans kept on the shared stack beyond SHARED_BASE: the queue capacity of
 * every live batch processor. Spans queued for export come back here, and
 * freeing them only to malloc them again on the next burst would put malloc
 * on the hot path; keeping more than the queues can hold would pin memory.
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

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct otelc_span *shared_head;
static size_t shared_count;

struct span_cache {
    struct otelc_span *head;
    uint32_t count;
    bool registered;
};

static __thread struct span_cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

/* A span leaves the pool for good. */
static void span_destroy(struct otelc_span *s)
{
    otelc__arena_free(&s->arena);
    free(s);
}

/* A thread exits: its cached spans go back to the shared stack. */
static void cache_destroy(void *arg)
{
    struct span_cache *c = arg;
    while (c->head) {
        struct otelc_span *s = c->head;
        c->head = s->next;
        pthread_mutex_lock(&shared_lock);
        if (shared_count < shared_max()) {
            s->next = shared_head;
            shared_head = s;
            shared_count++;
            s = NULL;
        }
        pthread_mutex_unlock(&shared_lock);
        if (s) span_destroy(s);
    }
    c->count = 0;
}

static void pool_prepare(void)
{
    pthread_mutex_lock(&shared_lock);
}

static void pool_parent(void)
{
    pthread_mutex_unlock(&shared_lock);
}

static void pool_child(void)
{
    pthread_mutex_init(&shared_lock, NULL);
}

static void cache_key_create(void)
{
    pthread_key_create(&cache_key, cache_destroy);
    pthread_atfork(pool_prepare, pool_parent, pool_child);
}

static void cache_register(void)
{
    pthread_once(&cache_key_once, cache_key_create);
    pthread_setspecific(cache_key, &cache);
    cache.registered = true;
}

/* Move up to SPAN_BATCH spans from the shared stack into this thread's cache. */
static void cache_refill(void)
{
    pthread_mutex_lock(&shared_lock);
    for (int i = 0; i < SPAN_BATCH && shared_head; i++) {
        struct otelc_span *s = shared_head;
        shared_head = s->next;
        shared_count--;
        s->next = cache.head;
        cache.head = s;
        cache.count++;
    }
    pthread_mutex_unlock(&shared_lock);
}

/* Move SPAN_BATCH spans from this thread's cache to the shared stack (or free them). */
static void cache_spill(void)
{
    struct otelc_span *excess = NULL;
    pthread_mutex_lock(&shared_lock);
    for (int i = 0; i < SPAN_BATCH && cache.head; i++) {
        struct otelc_span *s = cache.head;
        cache.head = s->next;
        cache.count--;
        if (shared_count < shared_max()) {
            s->next = shared_head;
            shared_head = s;
            shared_count++;
        } else {
            s->next = excess;
            excess = s;
        }
    }
    pthread_mutex_unlock(&shared_lock);
    while (excess) {
        struct otelc_span *next = excess->next;
        span_destroy(excess);
        excess = next;
    }
}

void otelc__span_pool_give_back(void)
{
    while (cache.head) cache_spill();
}

struct otelc_span *otelc__span_alloc(void)
{
    if (OTELC_UNLIKELY(!cache.registered)) cache_register();
    if (OTELC_UNLIKELY(!cache.head)) cache_refill();
    struct otelc_span *s = cache.head;
    if (OTELC_LIKELY(s != NULL)) {
        cache.head = s->next;
        cache.count--;
    } else {
        s = malloc(sizeof(*s));
        if (!s) return NULL;
        s->arena.chunks = NULL;
        s->arena.spare = NULL;
    }
    memset(&s->data, 0, sizeof(s->data));
    atomic_init(&s->refs, 1);
    s->recording = 0;
    s->ended = 0;
    s->status_final = 0;
    s->tracer = NULL;
    s->data.attrs = s->inline_attrs;
    s->attr_cap = OTELC_INLINE_ATTRS;
    s->event_cap = 0;
    s->link_cap = 0;
    s->key_bits = 0;
    s->next = NULL;
    s->arena.pos = s->inline_buf;
    s->arena.end = s->inline_buf + sizeof(s->inline_buf);
    return s;
}

/* Back to this thread's cache; the arena keeps only its spare chunk. */
void otelc__span_free(struct otelc_span *s)
{
    otelc__arena_reset(&s->arena, s->inline_buf, sizeof(s->inline_buf));
    if (OTELC_UNLIKELY(!cache.registered)) cache_register();
    s->next = cache.head;
    cache.head = s;
    if (++cache.count > CACHE_MAX) cache_spill();
}
