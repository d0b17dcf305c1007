/*
 * internal.h - structures and helpers shared inside libotelc.
 *
 * Nothing here is public API. Modules, one folder per job:
 *
 *   sdk/               the span pipeline
 *     span.c           span lifecycle, attributes, events, links, limits
 *     arena.c          a span's bump allocator, deep copies of attribute values
 *     span_pool.c      recycled span memory (per-thread magazines + shared depot)
 *     provider.c       provider, tracers, the global provider, init/shutdown
 *     sampler.c        samplers
 *     processor.c      processor/exporter wrappers, the simple processor
 *     batch.c          the batch processor and its worker
 *     ids.c            trace and span ids (per-thread PRNG)
 *     clock.c          the Unix-time clock (calibrated TSC read inline, clock_gettime)
 *     stats.c          self-telemetry counters
 *     resource.c       resource detection and merge
 *     log.c            rate-limited diagnostics
 *   instrumentation/   what instrumentation libraries and the CLI build spans with
 *     server.c, http.c SERVER spans and the HTTP semantic-convention rules
 *     db_span.c        database CLIENT spans
 *     sql_sanitize.c   db.query.text without literals; redis_sanitize.c for Redis
 *     jobs.c           PRODUCER/CONSUMER spans around background jobs
 *     redact.c         credentials and sensitive query values out of URLs
 *     redact_args.c    secrets out of recorded command lines
 *     startup.c        the "startup" trace (OTELC_TRACE_STARTUP=1)
 *   api/context.c      contexts, the per-thread current-context stack, scopes
 *   propagation/       W3C trace context and baggage, B3, Jaeger, carriers
 *   export/            exporters: OTLP (protobuf and JSON encoders, HTTP and
 *                      gRPC transports, retries), Zipkin, console, file,
 *                      memory and testing helpers; protobuf.h, the protobuf reader
 *   config/            every OTEL_* and OTELC_* variable (env.c and its parts),
 *                      the configuration file (yaml.c, substitute.c)
 *   json_reader.c      the JSON reader: tokens, one at a time (json.h)
 *   json.c             the JSON tree (a DOM in an arena) built on it, and the writer
 *   util.c             hex codecs, UTF-8, hashing and other small shared helpers
 */
#ifndef OTELC_INTERNAL_H
#define OTELC_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "otelc/otelc.h"

#define OTELC_LIKELY(x)    __builtin_expect(!!(x), 1)
#define OTELC_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define OTELC_INTERNAL_API __attribute__((visibility("hidden")))
/* For a hot helper that is also called from a recursive path, which would keep it out of line. */
#define OTELC_ALWAYS_INLINE inline __attribute__((always_inline))

/*
 * Thread-local state the span hot path touches on every span (under a
 * hundred bytes in all). The initial-exec model makes each access one load
 * at a fixed offset from the thread pointer, where position-independent
 * code otherwise calls __tls_get_addr (or, linked into an executable,
 * keeps the registers such a call would clobber saved around it). It takes
 * static TLS space, which glibc reserves for libraries loaded at start-up
 * and, in a small surplus, for those loaded with dlopen; larger
 * thread-local state (the current-context stack's entries) keeps the
 * default model.
 */
#define OTELC_HOT_TLS __thread __attribute__((tls_model("initial-exec")))

/*
 * The symbol of a name of libotelc's private ABI, which otelc's own
 * instrumentation libraries read inline (instrumentation/server_span.h):
 * it carries the release, so that a library built against another release
 * of libotelc fails to load instead of misreading a layout.
 */
#define OTELC__PRIVATE_SYMBOL(name)                                                                \
    __asm__(#name "_" OTELC__XSTR(OTELC_VERSION_MAJOR) "_" OTELC__XSTR(                            \
        OTELC_VERSION_MINOR) "_" OTELC__XSTR(OTELC_VERSION_PATCH))

/* ---- Span memory ------------------------------------------------------- */

/*
 * A bump allocator owned by one span: an inline buffer first, then malloc'd
 * chunks freed when the span is recycled. Everything variable-sized a span
 * holds (strings, arrays, events, links, grown attribute tables) lives here.
 *
 * A recycled span keeps one small chunk as its spare: spans are started on
 * application threads but recycled on the export worker, so a chunk freed
 * there would land in the worker's malloc cache and every span that
 * outgrows its inline buffer would pay a cold malloc on its own thread.
 */
typedef struct otelc_arena_chunk {
    struct otelc_arena_chunk *next;
    size_t size;
    char data[];
} otelc_arena_chunk;

typedef struct otelc_arena {
    char *pos;
    char *end;
    otelc_arena_chunk *chunks;
    otelc_arena_chunk *spare; /* unused, kept from before the last reset */
} otelc_arena;

/* The largest chunk a reset keeps as the spare. */
#define OTELC_ARENA_SPARE_MAX 2048

/* A new chunk, then the allocation: the rare path of otelc__arena_alloc(). */
void *otelc__arena_alloc_slow(otelc_arena *a, size_t size, size_t align);

/*
 * Make sure the next size bytes (alignment padding included) come from
 * the block in use, starting a chunk of at least size bytes when they do
 * not fit: for an owner about to make many small allocations, which then
 * cost one malloc. False when out of memory (the arena is unchanged).
 */
bool otelc__arena_reserve(otelc_arena *a, size_t size);

/* Inline: the common case is a pointer bump inside the span's inline buffer. */
static inline void *otelc__arena_alloc(otelc_arena *a, size_t size, size_t align)
{
    uintptr_t p = ((uintptr_t)a->pos + (align - 1)) & ~(uintptr_t)(align - 1);
    if (__builtin_expect(a->pos != NULL && p + size <= (uintptr_t)a->end, 1)) {
        a->pos = (char *)(p + size);
        return (void *)p;
    }
    return otelc__arena_alloc_slow(a, size, align);
}

/*
 * memcpy for the short strings that make up most of a span (keys, values,
 * names), copied into the span and again into the encoded request: a
 * library call costs more than copying 1 to 32 bytes as two to four
 * overlapping words.
 */
static inline void otelc__copy_short(void *dst, const void *src, size_t n)
{
    unsigned char *p = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    uint64_t w[4];
    uint32_t h[2];
    if (n > 32) {
        __builtin_memcpy(p, s, n);
    } else if (n > 16) {
        __builtin_memcpy(&w[0], s, 8), __builtin_memcpy(&w[1], s + 8, 8);
        __builtin_memcpy(&w[2], s + n - 16, 8), __builtin_memcpy(&w[3], s + n - 8, 8);
        __builtin_memcpy(p, &w[0], 8), __builtin_memcpy(p + 8, &w[1], 8);
        __builtin_memcpy(p + n - 16, &w[2], 8), __builtin_memcpy(p + n - 8, &w[3], 8);
    } else if (n >= 8) {
        __builtin_memcpy(&w[0], s, 8), __builtin_memcpy(&w[1], s + n - 8, 8);
        __builtin_memcpy(p, &w[0], 8), __builtin_memcpy(p + n - 8, &w[1], 8);
    } else if (n >= 4) {
        __builtin_memcpy(&h[0], s, 4), __builtin_memcpy(&h[1], s + n - 4, 4);
        __builtin_memcpy(p, &h[0], 4), __builtin_memcpy(p + n - 4, &h[1], 4);
    } else if (n) { /* 1 to 3 bytes: first, middle and last cover them all */
        p[0] = s[0], p[n / 2] = s[n / 2], p[n - 1] = s[n - 1];
    }
}

static inline char *otelc__arena_strndup(otelc_arena *a, const char *s, size_t len)
{
    char *d = (char *)otelc__arena_alloc(a, len + 1, 1);
    if (!d) return NULL;
    otelc__copy_short(d, s, len);
    d[len] = '\0';
    return d;
}
/* otelc__arena_reset() of any arena (arena.c). */
void otelc__arena_reset_all(otelc_arena *a, char *inline_buf, size_t inline_size);

/*
 * Empty the arena for reuse: inline_buf becomes the first block again, one
 * chunk of at most OTELC_ARENA_SPARE_MAX bytes is kept as the spare, the
 * others are freed. Inline for the usual case, a recycled span's arena
 * that took its spare for one chunk: that chunk is the spare again.
 */
static inline void otelc__arena_reset(otelc_arena *a, char *inline_buf, size_t inline_size)
{
    otelc_arena_chunk *c = a->chunks;
    if (c && !c->next && !a->spare && c->size <= OTELC_ARENA_SPARE_MAX) {
        a->spare = c;
        a->chunks = NULL;
        a->pos = inline_buf;
        a->end = inline_buf ? inline_buf + inline_size : NULL;
        return;
    }
    otelc__arena_reset_all(a, inline_buf, inline_size);
}

/*
 * Empty an arena without an inline buffer for reuse, keeping its largest
 * chunk of at most keep_max bytes as the block to fill next (the others
 * are freed): for an owner that fills it again and again with about as
 * much, which then costs no malloc at all.
 */
void otelc__arena_rewind(otelc_arena *a, size_t keep_max);

/* Free every chunk, the spare too: the arena's owner is going away. */
void otelc__arena_free(otelc_arena *a);

/*
 * The deepest nesting of arrays and maps in one attribute value that
 * libotelc keeps. A value's depth: 0 for a string, number, bytes or the
 * empty value; 1 for an array or map of those (a homogeneous array too);
 * one more than its deepest item for an array or map holding arrays or
 * maps. The viewer's decoders refuse a request holding a value deeper than
 * this; copies and encoders write anything that would lie deeper as the
 * empty value, so a value built by hand cannot make them recurse without
 * end.
 */
#define OTELC_MAX_VALUE_DEPTH 32

/*
 * Deep-copy a value into the arena, with the attribute value length limit
 * max_chars (OTELC_UNLIMITED for none): every string, however deeply
 * nested, is NUL-terminated and cut to max_chars UTF-8 characters; bytes
 * are cut to max_chars bytes (the specification counts each byte as one).
 * Map keys are copied whole; a map item without a key is left out, and a
 * key given twice keeps its first place and its last value, so the copy's
 * keys are unique. A NULL string or bytes is empty, a NULL array or map
 * has no items. Items of unknown type, and arrays and maps deeper than
 * OTELC_MAX_VALUE_DEPTH, become the empty value. False when memory ran out
 * or src's own type is unknown (*dst is then not a value to keep).
 */
bool otelc__value_copy(otelc_arena *a, otelc_value *dst, const otelc_value *src,
                       uint32_t max_chars);

#define OTELC_INLINE_ATTRS 4
#define OTELC_RAW_SPAN_ID  1 /* the span id */
#define OTELC_RAW_TRACE_ID 2 /* both halves of the trace id */
#define OTELC_RAW_TRACE_HI 4 /* only its first half: its randomness is mixed */
#define OTELC_INLINE_BYTES 126

struct otelc_span {
    otelc_span_data data; /* first member: exporters see only this */
    _Atomic uint32_t refs;
    uint8_t recording;
    uint8_t ended;
    uint8_t status_final;
    uint8_t raw_ids; /* OTELC_RAW_* of data.context not mixed yet (see otelc__id_mix) */
    struct otelc_provider *provider; /* of a recording span: its limits, stats, processors */
    uint32_t attr_cap;
    uint32_t event_cap;
    uint32_t link_cap;
    uint32_t key_bits;       /* one bit per attribute key's hash (see attr_slot) */
    struct otelc_span *next; /* pool and queue link */
    uint8_t *key_lens;       /* each attribute key's length, 0 when over 255 (see below) */
    otelc_arena arena;
    otelc_attr inline_attrs[OTELC_INLINE_ATTRS];
    uint8_t inline_key_lens[OTELC_INLINE_ATTRS];
    uint32_t attrs_wire; /* the OTLP protobuf size of the attributes counted in it (see below) */
    uint16_t name_len;   /* data.name's length, 0 when it must be measured (see below) */
    char inline_buf[OTELC_INLINE_BYTES];
};

/* A queued span, with its ring slot, in 512 bytes (docs/performance.md). */
_Static_assert(sizeof(void *) != 8 || sizeof(struct otelc_span) <= 504,
               "struct otelc_span outgrew its 504 bytes");

/*
 * The key lengths of a span the SDK made (key_lens[i] is attrs[i]'s, 0 when
 * it must be measured), for the encoders: only for spans that the SDK's own
 * processors hand to an exporter (see otelc__exporting_sdk_spans).
 */
static inline const uint8_t *otelc__span_key_lens(const otelc_span_data *sd)
{
    return ((const struct otelc_span *)(const void *)sd)->key_lens;
}

/*
 * The size of a span's attributes as the OTLP protobuf encoder writes them
 * (their KeyValue fields), or OTELC_WIRE_UNKNOWN. The ways the server
 * helper sets attributes (otelc__span_put_static_attrs and the static
 * setters' usual case) add each small one's size (otelc__otlp_small_kv_size)
 * to attrs_wire and count it there (OTELC_WIRE_ONE); the other setters'
 * usual case does neither and costs nothing more, and the general path (a
 * replaced value, a cut one, a copy through otelc__value_copy) gives
 * attrs_wire up (OTELC_WIRE_UNKNOWN, whose count no span reaches). So the
 * size holds when every attribute was counted. For the encoders, as key
 * lengths.
 */
#define OTELC_WIRE_ONE      (UINT32_C(1) << 20)  /* one attribute counted; below it, the size */
#define OTELC_WIRE_SIZE_MAX (OTELC_WIRE_ONE / 2) /* a size past it is given up */
#define OTELC_WIRE_UNKNOWN  UINT32_MAX
static inline uint32_t otelc__span_attrs_wire(const otelc_span_data *sd)
{
    uint32_t w = ((const struct otelc_span *)(const void *)sd)->attrs_wire;
    return w / OTELC_WIRE_ONE == sd->attr_count && w != OTELC_WIRE_UNKNOWN ? w % OTELC_WIRE_ONE
                                                                           : OTELC_WIRE_UNKNOWN;
}

/* The length of data.name of a span the SDK made, 0 when it must be measured: as key lengths. */
static inline size_t otelc__span_name_len(const otelc_span_data *sd)
{
    return ((const struct otelc_span *)(const void *)sd)->name_len;
}

/*
 * The span array that this thread's processor is exporting through
 * otelc__exporter_export_sdk(): every span in it is a struct otelc_span.
 * An encoder given this very array may read otelc__span_key_lens(); any
 * other array may come from a processor of the user's, whose spans may
 * not be the SDK's.
 */
bool otelc__exporting_sdk_spans(const otelc_span_data *const *spans);

/* otelc_exporter_export() of spans that are all the SDK's own (see above). */
otelc_export_result otelc__exporter_export_sdk(otelc_exporter *exp,
                                               const otelc_span_data *const *spans, size_t n);

/*
 * otelc_extract() from a carrier whose headers' first letters are letters
 * (OTELC__HEADER_LETTER): when none is a letter the propagators' headers
 * start with, the carrier is not searched and the context is empty.
 */
otelc_context *otelc__extract_lettered(const otelc_carrier *carrier, uint64_t letters);

/* otelc_http_method_normalize(), and the length of what it returns into *len. */
const char *otelc__http_method_normalize_len(const char *method, size_t *len);

/* ---- The span pool (span_pool.c) ------------------------------------------ */

/* Spans linked through next, n of them. */
typedef struct otelc_magazine {
    struct otelc_span *head;
    uint32_t n;
} otelc_magazine;

#define OTELC_MAG_SIZE 256
/*
 * loaded.n of a thread's cache until it registers (its magazines go back
 * to the depot when the thread exits): past OTELC_MAG_SIZE, so that giving
 * a span back tests one count for both.
 */
#define OTELC_MAG_UNREGISTERED UINT32_MAX

/* A thread's spans: the magazine it uses, and a full one in reserve. */
struct otelc_span_cache {
    otelc_magazine loaded;
    otelc_magazine full;
    bool registered; /* its magazines go back to the depot when the thread exits */
};

extern OTELC_HOT_TLS struct otelc_span_cache otelc__span_cache;

/* What otelc__span_take() and otelc__span_give() do when the loaded magazine cannot. */
struct otelc_span *otelc__span_take_slow(void);
void otelc__span_give_slow(struct otelc_span *s);

/* A key that outlives every span: its bit (OTELC__KEY_BIT_OF) and length. */
typedef struct otelc_static_key {
    uint32_t bit;
    uint32_t len;
} otelc_static_key;

/*
 * Or'ed into an otelc_static_key's len for otelc__span_put_static_attrs():
 * the attribute's string value outlives every span too, and is kept
 * rather than copied.
 */
#define OTELC_STATIC_VALUE 0x80000000u

/*
 * otelc_span_set_str() and otelc_span_set_int() for keys that outlive
 * every span (string literals, such as the semantic conventions' names the
 * instrumentation sets): the span keeps the key's pointer instead of a
 * copy, and k gives its length and bit, so no key is measured, hashed or
 * copied. A string value is len bytes. Nothing happens for a span that
 * does not record.
 */
void otelc__span_put_static_str(otelc_span *span, const char *key, otelc_static_key k,
                                const char *value, size_t len);
void otelc__span_put_static_int(otelc_span *span, const char *key, otelc_static_key k,
                                int64_t value);

/*
 * attrs[0..n) set as otelc__span_put_static_str() and _int() would set
 * them one by one, keys[i] being attrs[i]'s key's bit and length (under
 * 256, or'ed with OTELC_STATIC_VALUE for a value that is not copied).
 * Values are strings or scalars. A recording span with room for
 * them all that has none of their keys yet takes them in one pass (room
 * for extra more is made when the table grows), the rest go one by one.
 */
void otelc__span_put_static_attrs(otelc_span *span, const otelc_attr *attrs,
                                  const otelc_static_key *keys, size_t n, size_t extra);

/*
 * otelc__span_free() when its span's arena holds chunks: empties the arena,
 * then gives the span back as otelc__span_free() does. Out of line, so that
 * every call otelc__span_free() makes is a tail call and the usual case
 * needs no stack frame.
 */
void otelc__span_free_slow(struct otelc_span *s);

/*
 * Span memory from the pool: its arena is empty (its inline buffer), every
 * other field is the caller's to set. NULL only when out of memory.
 */
static inline struct otelc_span *otelc__span_take(void)
{
    struct otelc_span_cache *c = &otelc__span_cache;
    struct otelc_span *s = c->loaded.head;
    if (OTELC_UNLIKELY(!s)) return otelc__span_take_slow();
    c->loaded.head = s->next;
    c->loaded.n--;
    return s;
}

/* Give a span back to the pool: its arena keeps only its spare chunk. */
static inline void otelc__span_free(struct otelc_span *s)
{
    if (OTELC_UNLIKELY(s->arena.chunks != NULL)) {
        otelc__span_free_slow(s);
        return;
    }
    s->arena.pos = s->inline_buf;
    struct otelc_span_cache *c = &otelc__span_cache;
    if (OTELC_UNLIKELY(c->loaded.n >= OTELC_MAG_SIZE)) { /* or not registered */
        otelc__span_give_slow(s);
        return;
    }
    s->next = c->loaded.head;
    c->loaded.head = s;
    c->loaded.n++;
}

/* Let the pool keep delta more (or, negative, fewer) idle spans: a batch queue's capacity. */
void otelc__span_pool_reserve(long delta);

/*
 * Hand every span this thread keeps to the shared depot: for threads that
 * free spans but never start any (the batch worker), whose magazines would
 * otherwise hold spans nobody can reuse.
 */
void otelc__span_pool_give_back(void);

/*
 * The span behind a handle (trace.h: a span that does not record is
 * handed out with OTELC__SPAN_NOT_RECORDING set); NULL for NULL and for
 * the no-op span.
 */
static inline struct otelc_span *otelc__span_ptr(const otelc_span *span)
{
    return (struct otelc_span *)((uintptr_t)span & ~OTELC__SPAN_NOT_RECORDING);
}

/* otelc_span_is_recording(), inline: records, and not ended yet. */
static inline bool otelc__span_records(const otelc_span *span)
{
    const struct otelc_span *s = (const struct otelc_span *)span;
    return !((uintptr_t)span & OTELC__SPAN_NOT_RECORDING) && s && !s->ended;
}

/* Span from its data view (data is the first member). */
static inline struct otelc_span *otelc__span_of(const otelc_span_data *sd)
{
    return (struct otelc_span *)(uintptr_t)sd;
}

/* Take or drop a reference to the span behind a handle (nothing for NULL and the no-op span). */
void otelc__span_retain(otelc_span *span);
void otelc__span_release(otelc_span *span);

/*
 * The span whose end is calling its last processor's on_end on this
 * thread, while it does (span.c): that processor may take the ending
 * thread's reference over instead of adding its own (otelc__span_keep).
 */
extern OTELC_HOT_TLS struct otelc_span *otelc__span_ending;

/*
 * For a processor's on_end that keeps the finished span sd (as
 * otelc_span_data_retain() would): when it is the last processor of the
 * span's end, it takes the ending thread's reference over, which then is
 * not released; otherwise it retains. Either way the caller holds one
 * reference to release later. Call it before sd is handed to another
 * thread.
 */
static inline void otelc__span_keep(const otelc_span_data *sd)
{
    struct otelc_span *s = otelc__span_of(sd);
    if (OTELC_LIKELY(otelc__span_ending == s))
        otelc__span_ending = NULL; /* taken: the end will not release it */
    else
        otelc__span_retain(s);
}

/* otelc_span_data_release() of sds[0..n), for a processor done with a batch. */
void otelc__spans_release(const otelc_span_data *const *sds, size_t n);

/* ---- Self-telemetry ---------------------------------------------------- */

enum otelc_stat {
    OTELC_STAT_STARTED,
    OTELC_STAT_ENDED,
    OTELC_STAT_SAMPLED_OUT,
    OTELC_STAT_DROPPED,
    OTELC_STAT_EXPORTED,
    OTELC_STAT_EXPORT_FAILED_SPANS,
    OTELC_STAT_EXPORT_FAILURES,
    OTELC_STAT_PROPAGATION_ERRORS,
    OTELC_STAT_COUNT
};

/* One shard for each of the first 64 threads, one shared by every later thread. */
#define OTELC_STAT_OWNED_SHARDS 64
#define OTELC_STAT_SHARDS       (OTELC_STAT_OWNED_SHARDS + 1)

/* Counters sharded by thread so that threads do not share a cache line. */
typedef struct otelc_stats_shard {
    _Alignas(64) _Atomic uint64_t v[OTELC_STAT_COUNT];
} otelc_stats_shard;

typedef struct otelc_stats_block {
    otelc_stats_shard shard[OTELC_STAT_SHARDS];
} otelc_stats_block;

void otelc__stats_add(otelc_stats_block *b, enum otelc_stat which, uint64_t n);

/* This thread's shard, OTELC_STAT_OWNED_SHARDS or more until it has one or when it shares. */
extern OTELC_HOT_TLS uint32_t otelc__stats_shard;

/*
 * Count one on b (never NULL): inline, for the span hot path, where the
 * thread's own shard takes a load and a store; the first count of a
 * thread and threads beyond the owned shards go through otelc__stats_add.
 */
static inline void otelc__stats_inc(otelc_stats_block *b, enum otelc_stat which)
{
    uint32_t i = otelc__stats_shard;
    if (OTELC_UNLIKELY(i >= OTELC_STAT_OWNED_SHARDS)) {
        otelc__stats_add(b, which, 1);
        return;
    }
    _Atomic uint64_t *v = &b->shard[i].v[which];
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}
void otelc__stats_read(const otelc_stats_block *b, otelc_stats *out);

/* Count on the global provider (parsers, which know no provider). */
void otelc__stats_global_add(enum otelc_stat which, uint64_t n);

/* ---- Processors and exporters ------------------------------------------ */

struct otelc_processor {
    const otelc_processor_ops *ops;
    void *self;
    otelc_stats_block *stats; /* set when attached to a provider; may be NULL */
    bool shut_down;
    void (*before_fork)(void *self); /* fork prepare, before any lock; NULL: nothing */
};

struct otelc_exporter {
    const otelc_exporter_ops *ops;
    void *self;
    _Atomic bool shut_down;      /* read by the export thread, set by any thread */
    void (*prepare)(void *self); /* see otelc__exporter_prepare; NULL: nothing to do */
};

/*
 * An exporter of the SDK's own that has slow set-up (loading libcurl) gives
 * it here, to be run on the exporting thread rather than by whoever creates
 * it. e NULL is ignored.
 */
void otelc__exporter_set_prepare(otelc_exporter *e, void (*prepare)(void *self));

/*
 * Run exp's prepare, if any, as an export would run (otelc_exporting() is
 * true meanwhile). The batch worker calls it as it starts, on its own
 * thread, so the first batch does not wait for it. NULL is ignored.
 */
void otelc__exporter_prepare(otelc_exporter *exp);

/*
 * Shut an exporter down once (later calls do nothing). May run while
 * another thread is inside export_spans: a batch processor whose shutdown
 * timed out uses it to cut a hung export short.
 */
void otelc__exporter_shutdown(otelc_exporter *exp);

/*
 * Count an export outcome on stats (NULL allowed). Processors call this after
 * each export.
 */
void otelc__count_export(otelc_stats_block *stats, otelc_export_result r, size_t spans);

/* ---- Provider and tracers ----------------------------------------------- */

#define OTELC_MAX_PROCESSORS 16

struct otelc_tracer {
    struct otelc_provider *provider; /* NULL: the no-op tracer */
    otelc_scope_info scope;
    struct otelc_tracer *next;
};

struct otelc_provider {
    bool disabled;
    _Atomic bool shut_down;
    otelc_resource *resource;
    otelc_sampler *sampler;
    otelc_span_limits limits;
    otelc_processor *processors[OTELC_MAX_PROCESSORS];
    _Atomic size_t processor_count;
    otelc_propagator *propagator;
    otelc_context *env_parent; /* TRACEPARENT from the environment, or NULL */
    pthread_mutex_t lock;      /* adding to the tracers list, add_processor */
    /* Prepended under lock, never removed before the provider is freed: read without it. */
    struct otelc_tracer *_Atomic tracers;
    struct otelc_provider *next_live; /* every live provider, for fork handling */
    otelc_stats_block stats;
    /* otelc__tracer_sees_start_attributes(), kept up to date as processors come */
    _Atomic bool start_attrs_seen;
    /* The sampler's decision for each otelc_parent_case, or -1 when it must be asked. */
    int8_t fixed_decision[5];
    /* otelc__sampler_drop_below() of the sampler, for the cases fixed_decision leaves to it */
    uint64_t drop_below[5];
    _Atomic bool any_on_start; /* a processor has on_start */
    uint32_t exit_timeout_ms;  /* OTELC_EXIT_TIMEOUT: the bound of shutdown at exit */
};

/*
 * The global provider (otelc_provider_set_global), read inline where a
 * call costs a share of a request: extracting a request's context reads
 * its propagator.
 */
extern OTELC_INTERNAL_API _Atomic(otelc_provider *) otelc__global_provider;
static inline otelc_provider *otelc__provider_global(void)
{
    return atomic_load_explicit(&otelc__global_provider, memory_order_acquire);
}

/* The no-op tracer returned when there is no provider. */
extern struct otelc_tracer otelc__noop_tracer;

/*
 * Whether anything sees a span's attributes at its start: a sampler that
 * reads them (a user's) or a processor with on_start. When nothing does,
 * instrumentation may compute them only for spans that record.
 */
static inline bool otelc__tracer_sees_start_attributes(const otelc_tracer *t)
{
    const struct otelc_provider *p = t ? t->provider : NULL;
    return p && atomic_load_explicit(&p->start_attrs_seen, memory_order_relaxed);
}

/*
 * A SERVER span named name (name_len bytes), child of parent's span
 * context or a root when parent is NULL, started at start_ns (0: now):
 * otelc_span_start_with() with those options, each known to the compiler.
 */
otelc_span *otelc__span_start_server(otelc_tracer *tracer, const char *name, size_t name_len,
                                     const otelc_context *parent, uint64_t start_ns);

/* False for the built-in samplers, which decide without attributes. */
bool otelc__sampler_reads_attributes(const otelc_sampler *s);

/* The cases of a span's parent, as ParentBased tells them apart. */
typedef enum otelc_parent_case {
    OTELC_PARENT_NONE, /* a root span */
    OTELC_PARENT_REMOTE_SAMPLED,
    OTELC_PARENT_REMOTE_NOT_SAMPLED,
    OTELC_PARENT_LOCAL_SAMPLED,
    OTELC_PARENT_LOCAL_NOT_SAMPLED,
} otelc_parent_case;

/* The case of parent: NULL or an invalid span context is no parent. */
otelc_parent_case otelc__parent_case(const otelc_span_context *parent);

/* The case of parent, which is NULL or valid. */
static inline otelc_parent_case otelc__parent_case_of_valid(const otelc_span_context *parent)
{
    if (!parent) return OTELC_PARENT_NONE;
    bool sampled = parent->trace_flags & OTELC_TRACE_FLAG_SAMPLED;
    if (parent->is_remote)
        return sampled ? OTELC_PARENT_REMOTE_SAMPLED : OTELC_PARENT_REMOTE_NOT_SAMPLED;
    return sampled ? OTELC_PARENT_LOCAL_SAMPLED : OTELC_PARENT_LOCAL_NOT_SAMPLED;
}

/*
 * What s decides for a span of each parent case whatever else the span
 * has (its trace id, name, attributes, tracestate): OTELC_SAMPLING_DROP or
 * OTELC_SAMPLING_RECORD_AND_SAMPLE for always_on, always_off and
 * parent-based samplers over those (NULL is parent-based always_on), -1
 * where the sampler must be asked.
 */
void otelc__sampler_fixed_decisions(const otelc_sampler *s, int8_t out[5]);

/*
 * Where s is TraceIdRatioBased for a parent case (itself, or as a
 * parent-based sampler's delegate), out[case] is its threshold: a span
 * whose trace id's randomness (otelc__trace_id_randomness) is below it is
 * dropped, when its parent is none or random and carries no "ot" tracestate
 * entry. 0 for every other case: the sampler must be asked. Lets a span
 * start drop without building the sampler's arguments.
 */
void otelc__sampler_drop_below(const otelc_sampler *s, uint64_t out[5]);

/* The randomness of a trace id: its last 56 bits, big-endian (W3C Trace Context level 2). */
static inline uint64_t otelc__trace_id_randomness(const uint8_t trace_id[16])
{
    uint64_t r;
    memcpy(&r, trace_id + 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    r = __builtin_bswap64(r);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
    r = 0;
    for (int i = 8; i < 16; i++) r = r << 8 | trace_id[i];
#endif
    return r & 0x00ffffffffffffffULL;
}

/* ---- Contexts ------------------------------------------------------------ */

struct otelc_context {
    _Atomic uint32_t refs;
    otelc_span_context sc; /* sc.trace_state points at trace_state below */
    char *trace_state;
    otelc_baggage *baggage;
};

/*
 * The context that holds nothing (context.c): shared and never freed.
 * otelc__context_empty() is it, as otelc_context_new(NULL, NULL) returns
 * it, without the tests.
 */
extern otelc_context otelc__empty_context;
static inline otelc_context *otelc__context_empty(void)
{
    return &otelc__empty_context;
}

/* One entry of the per-thread current-context stack: a span, a context or both. */
typedef struct otelc_ctx_entry {
    struct otelc_span *span;
    otelc_context *ctx;
    uint32_t generation; /* matches the scope token that pushed it */
    bool borrowed;       /* holds no references: see otelc__activate_in() */
} otelc_ctx_entry;

/*
 * The parent for a new span on this thread: fills *sc from the top of the
 * current stack and returns true, or returns false when nothing is current.
 */
bool otelc__current_span_context(otelc_span_context *sc);

/*
 * otelc_context_attach(ctx) then otelc_span_activate(span), as one entry of
 * the stack that one otelc_scope_exit() removes (the server helper enters a
 * request this way on every handler call). The entry takes no references:
 * the caller keeps span and ctx alive until that exit, or until the thread
 * exits. ctx NULL hides what was current, as otelc_context_attach(NULL)
 * does; span NULL makes no span current.
 */
otelc_scope otelc__activate_in(otelc_span *span, const otelc_context *ctx);

/*
 * This thread's current-context stack (context.c). Its header is read on
 * every push and pop: initial-exec TLS, so that a shared libotelc reaches
 * it without a __tls_get_addr() call. entries is NULL and cap 0 until the
 * thread's first push.
 */
struct otelc_ctx_stack {
    uint64_t depth;           /* first, and 64 bits: a span's start tests it with one compare */
    otelc_ctx_entry *entries; /* the inline ones, or grown on the heap */
    uint32_t cap;
    uint32_t generation;
};
extern OTELC_HOT_TLS struct otelc_ctx_stack
    otelc__ctx_stack OTELC__PRIVATE_SYMBOL(otelc__ctx_stack);

/* The entry onto this thread's stack, which has room for it (depth < cap): its scope. */
static inline otelc_scope otelc__ctx_push(struct otelc_span *span, otelc_context *ctx,
                                          bool borrowed)
{
    struct otelc_ctx_stack *st = &otelc__ctx_stack;
    uint32_t gen = ++st->generation;
    st->entries[st->depth++] = (otelc_ctx_entry){span, ctx, gen, borrowed};
    return (otelc_scope){(uint32_t)st->depth, gen};
}

/* Whether scope (depth above 0) is the top of this thread's stack: the usual exit. */
static inline bool otelc__ctx_is_top(otelc_scope scope)
{
    const struct otelc_ctx_stack *st = &otelc__ctx_stack;
    return scope.depth == st->depth && st->entries[scope.depth - 1].generation == scope.generation;
}

/*
 * otelc__activate_in() with the usual push inline: a server span is
 * entered and left around every handler call of every request.
 */
static inline otelc_scope otelc__enter_borrowed(otelc_span *span, otelc_context *ctx)
{
    if (OTELC_LIKELY(otelc__ctx_stack.depth < otelc__ctx_stack.cap && ctx != NULL))
        return otelc__ctx_push(span, ctx, true);
    return otelc__activate_in(span, ctx);
}

/* otelc_scope_exit() of a scope from otelc__enter_borrowed(), the top one inline. */
static inline void otelc__leave_borrowed(otelc_scope scope)
{
    if (OTELC_LIKELY(scope.depth != 0 && otelc__ctx_is_top(scope) &&
                     otelc__ctx_stack.entries[scope.depth - 1].borrowed)) {
        otelc__ctx_stack.depth--;
        return;
    }
    otelc_scope_exit(scope);
}

/* Baggage struct, implemented in propagation/baggage.c. */
struct otelc_baggage_entry {
    char *key;
    char *value;
    char *metadata; /* may be NULL */
};

struct otelc_baggage {
    _Atomic uint32_t refs;
    size_t count;
    struct otelc_baggage_entry *entries;
};

/*
 * A resource's dropped_attributes_count (OTLP): 0 for the SDK's own
 * resources, whatever a sender said for received ones (the viewer sets it
 * before the resource is shared). NULL reads as 0 and is ignored.
 */
/*
 * In a fork child: a process.pid that is the parent's (the forking
 * process's, as detected) becomes the child's own, so the child's spans
 * name the process that made them. A pid set to something else is left.
 */
void otelc__resource_after_fork_child(otelc_resource *res);
void otelc__resource_set_dropped_count(otelc_resource *res, uint32_t n);
uint32_t otelc__resource_dropped_count(const otelc_resource *res);

/* "SERVER", "CLIENT", "PRODUCER", "CONSUMER" or "INTERNAL" (also for unknown values). */
const char *otelc__span_kind_name(otelc_span_kind k);

/* ---- Clock and ids -------------------------------------------------------- */

/* CALIBRATING: CLOCK_REALTIME until the TSC's first calibration window has passed (clock.c). */
enum { OTELC_CLOCK_UNSET, OTELC_CLOCK_TSC, OTELC_CLOCK_REALTIME, OTELC_CLOCK_CALIBRATING };

/*
 * The clock's state (clock.c): its mode, and in TSC mode the parameters
 * of ns = ns_base + ((tsc - tsc_base) * mult) >> 32, published under the
 * sequence lock seq (odd while being written); refresh_ticks after
 * tsc_base the parameters are due for recalibration (0 in any mode but
 * TSC, and before it is set up).
 */
typedef struct otelc_clock {
    _Atomic int mode;
    _Atomic uint32_t seq;
    _Atomic uint64_t tsc_base;
    _Atomic uint64_t ns_base;
    _Atomic uint64_t mult; /* ns per tick, 32.32 fixed point */
    _Atomic uint64_t refresh_ticks;
} otelc_clock;

extern otelc_clock otelc__clock;

/* otelc__now_ns() when the inline path cannot answer (and in any mode). */
uint64_t otelc__now_ns_slow(void);

/*
 * Unix time in nanoseconds, fast: in TSC mode (an invariant TSC, x86_64)
 * the parameters are read and applied inline, without a call. The mode
 * needs no test of its own: refresh_ticks is 0 until TSC mode is set up,
 * and stays 0 in the other modes, so no reading lies within it. The first
 * reading, a recalibration that is due, a reading that lies before the
 * base (another thread just recalibrated) and the other modes take
 * otelc__now_ns_slow().
 */
static inline uint64_t otelc__now_ns(void)
{
#if defined(__x86_64__)
    otelc_clock *c = &otelc__clock;
    uint32_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
    uint64_t base = atomic_load_explicit(&c->tsc_base, memory_order_relaxed);
    uint64_t ns = atomic_load_explicit(&c->ns_base, memory_order_relaxed);
    uint64_t mult = atomic_load_explicit(&c->mult, memory_order_relaxed);
    uint64_t window = atomic_load_explicit(&c->refresh_ticks, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    uint32_t s2 = atomic_load_explicit(&c->seq, memory_order_relaxed);
    uint64_t ticks = __builtin_ia32_rdtsc() - base; /* huge when before base */
    if (OTELC_LIKELY(s1 == s2 && !(s1 & 1) && ticks <= window))
        return ns + (uint64_t)(((unsigned __int128)ticks * mult) >> 32);
#endif
    return otelc__now_ns_slow();
}

/* Calibrate the clock; safe to call more than once (init, worker thread). */
void otelc__clock_init(void);

/* New random ids from this thread's generator: never all zeros. */
void otelc__trace_id_new(uint8_t out[16]);
void otelc__span_id_new(uint8_t out[8]);

/* A span's ids in one call: a new span id, and a new trace id unless trace_id is NULL. */
void otelc__ids_new(uint8_t *trace_id, uint8_t span_id[8]);

/*
 * This thread's id generator (ids.c): SplitMix64, a Weyl sequence (weyl
 * stepped by the odd gamma) whose values are mixed into ids. seeded_in is
 * the fork generation it was seeded in plus one (0: never seeded).
 */
typedef struct otelc_id_rng {
    uint64_t weyl;
    uint64_t gamma;
    uint32_t seeded_in;
} otelc_id_rng;

extern OTELC_HOT_TLS otelc_id_rng otelc__id_rng;
extern _Atomic uint32_t otelc__fork_generation; /* see "Fork handling" below */

/* Seed this thread's generator from the system's entropy (and after fork). */
void otelc__id_rng_seed(void);

/* Make this thread's generator ready for draws: once per thread and after fork. */
static inline void otelc__id_rng_ready(void)
{
    uint32_t gen = atomic_load_explicit(&otelc__fork_generation, memory_order_relaxed);
    if (OTELC_UNLIKELY(otelc__id_rng.seeded_in != gen + 1)) otelc__id_rng_seed();
}

/*
 * The next raw value of the ready generator: never zero, and so never an
 * id of zeros once mixed (the mixer keeps 0, and only 0, at 0).
 */
static inline uint64_t otelc__id_draw(void)
{
    uint64_t w = otelc__id_rng.weyl;
    do w += otelc__id_rng.gamma;
    while (OTELC_UNLIKELY(w == 0));
    otelc__id_rng.weyl = w;
    return w;
}

/* An id from a raw value: SplitMix64's mixer (Stafford's variant 13), a bijection. */
static inline uint64_t otelc__id_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Reseed every thread's generator after fork (bumps a generation). */
void otelc__ids_after_fork(void);

/* Lowercase hex of n bytes into out (2n chars, no NUL). */
void otelc__hex_encode(const uint8_t *in, size_t n, char *out);

/* Decode 2n lowercase hex chars; false on any other character. */
bool otelc__hex_decode(const char *in, size_t n, uint8_t *out);

bool otelc__is_zero(const uint8_t *p, size_t n);

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0 when malformed.
 * n must be at least 1.
 */
size_t otelc__utf8_seq_len(const unsigned char *s, size_t n);

/*
 * FNV-1a over p[0..n), continuing from h (start with OTELC_FNV_OFFSET): a
 * short, well-spread hash for tables keyed by short strings and ids.
 */
#define OTELC_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t otelc__fnv1a(uint64_t h, const void *p, size_t n);

/* True when s[0..n) is well-formed UTF-8 throughout. */
bool otelc__utf8_valid(const char *s, size_t n);

/*
 * strtod in the C locale: a program that called setlocale() for a locale
 * with a decimal comma would otherwise read "0.25" as 0. Same contract as
 * strtod (errno set to ERANGE on overflow and underflow).
 */
double otelc__strtod(const char *s, char **end);

/*
 * Copy src into dst[size], truncated and NUL-terminated; returns strlen(src).
 * For per-request paths where snprintf("%s") costs a thousand instructions.
 */
size_t otelc__strlcpy(char *dst, const char *src, size_t size);

/*
 * True when dir is a directory (not a symlink to one) owned by this
 * process's effective user with none of the forbidden_mode bits (022: no
 * one else may write in it; 077: no one else may even look), after
 * creating it with mode 0700 when create is set and it is missing. For
 * state kept under a shared /tmp, where another user could plant either.
 */
bool otelc__private_dir(const char *dir, bool create, unsigned forbidden_mode);

/*
 * Write all n bytes of p to fd, resuming after short writes and EINTR.
 * False on any other error (errno tells which); how much was written is
 * then unknown, so callers write to a temporary file they can discard.
 */
bool otelc__write_all(int fd, const void *p, size_t n);

/*
 * A writer with snprintf's contract, for formatting into a caller's buffer:
 * len counts every byte asked for, buf receives what fits, and
 * otelc__bw_finish() NUL-terminates and returns the length wanted.
 */
typedef struct otelc_bwriter {
    char *buf;
    size_t size;
    size_t len;
} otelc_bwriter;

static inline void otelc__bw_put(otelc_bwriter *w, const char *s, size_t n)
{
    if (w->len < w->size) {
        size_t room = w->size - w->len;
        memcpy(w->buf + w->len, s, n < room ? n : room);
    }
    w->len += n;
}

static inline size_t otelc__bw_finish(otelc_bwriter *w)
{
    if (w->size > 0) w->buf[w->len < w->size ? w->len : w->size - 1] = '\0';
    return w->len;
}

/* A condition variable whose timed waits use CLOCK_MONOTONIC. */
void otelc__cond_init_monotonic(pthread_cond_t *c);

/* The CLOCK_MONOTONIC time ms milliseconds from now, for those waits. */
struct timespec otelc__deadline_in(uint32_t ms);

/* ---- Configuration (config/env.c) ----------------------------------------- */

/* getenv that treats empty as unset. */
const char *otelc__env(const char *name);

/*
 * True the first time this (name, value) pair is reported, so an invalid
 * setting is logged once however often it is read (the first 64 pairs).
 */
bool otelc__first_report(const char *name, const char *value);

/*
 * Typed readers: return def when unset; on an invalid value warn once naming
 * the variable and return def.
 */
bool otelc__env_bool(const char *name, bool def);
uint32_t otelc__env_u32(const char *name, uint32_t def);
/* A byte count that may exceed 4 GiB (config/file_env.c). */
uint64_t otelc__env_u64(const char *name, uint64_t def);
double otelc__env_double(const char *name, double def);

/* Span limits from OTEL_*_LIMIT variables (spec defaults otherwise). */
void otelc__limits_from_env(otelc_span_limits *out);

/* Batch settings from OTEL_BSP_* (fills the zero fields of out). */
void otelc__batch_options_from_env(otelc_batch_options *out);

/*
 * OTELC_BSP_WORKER_PRIORITY: true ("background", the default) when a batch
 * worker without a worker_start hook should step back for the
 * application's threads, false for "normal" (it keeps the policy and
 * priority it inherited). Anything else warns once and reads as the default.
 */
bool otelc__batch_worker_steps_back(void);

/*
 * OTELC_EXIT_TIMEOUT in milliseconds: the longest provider shutdown at exit
 * (otelc_shutdown(), replacing or freeing a provider) may take, an export
 * in flight included, which is then abandoned. Default
 * OTELC_DEFAULT_EXIT_TIMEOUT_MS; 0 reads as UINT32_MAX (no bound of its
 * own: the export timeouts alone bound exit, as before).
 */
#define OTELC_DEFAULT_EXIT_TIMEOUT_MS 1000
uint32_t otelc__exit_timeout_from_env(void);

/* Sampler from OTEL_TRACES_SAMPLER / _ARG. Never NULL unless out of memory. */
otelc_sampler *otelc__sampler_from_env(void);

/* Propagator from OTEL_PROPAGATORS (default tracecontext,baggage). */
otelc_propagator *otelc__propagator_from_env(void);

/*
 * Processors from OTEL_TRACES_EXPORTER (console -> simple processor, others
 * -> batch processor). Writes up to max processors, returns how many.
 */
size_t otelc__processors_from_env(otelc_processor **out, size_t max);

/* Parse "k1=v1,k2=v2" with percent-decoding (OTEL_RESOURCE_ATTRIBUTES). */
otelc_resource *otelc__resource_parse_kv(const char *text, int *bad);

/* OTEL_LOG_LEVEL -> level (default warn). */
otelc_log_level otelc__log_level_from_env(void);

/*
 * The pure parsers behind the typed readers (fuzzed directly): true and *out
 * set when s is a valid value; *out untouched otherwise.
 */
bool otelc__parse_bool(const char *s, bool *out);
bool otelc__parse_u32(const char *s, uint32_t *out);
bool otelc__parse_double(const char *s, double *out);

/* The rate-limiting sampler's decision at an explicit time (tests). */
bool otelc__rate_limiter_admit_at(otelc_sampler *s, uint64_t now_ns);

/* ---- Secrets in command lines (instrumentation/redact_args.c) ------------ */

#define OTELC_REDACTED "REDACTED"

/*
 * Copies of args[0..n) with secrets (--password X, token=..., credentials in
 * URLs) replaced by OTELC_REDACTED. NULL when memory ran out. Free with
 * otelc__redact_args_free().
 */
char **otelc__redact_args(char *const *args, size_t n);
void otelc__redact_args_free(char **args, size_t n);

/* ---- Trace shape (export/memory.c) ------------------------------------------ */

/*
 * Whether spans[0..n) (the spans of one trace, in any order) form a
 * complete trace: exactly one root (a span without a parent, or whose
 * parent is remote when allow_remote_root) and every other span's parent
 * among them. False for n == 0. On false, why (when not NULL) receives
 * the first violation in array order: "no spans in this trace",
 * "two roots: 'a' and 'b'", "parent <hex16> of 'name' is missing",
 * "no root span" or "out of memory". otelc_testing_trace_complete() and
 * `otelc traces assert --complete` both decide with this.
 */
bool otelc__trace_complete(const otelc_span_data *const *spans, size_t n, bool allow_remote_root,
                           char *why, size_t why_size);

/* ---- Diagnostics (sdk/log.c) ----------------------------------------------- */

/* Log at level, rate limited per level. printf-style. */
void otelc__log(otelc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read OTEL_LOG_LEVEL once (provider creation). */
void otelc__log_configure_from_env(void);

/* ---- Fork handling ---------------------------------------------------------- */

/* Register pthread_atfork handlers once. */
void otelc__fork_handlers_install(void);

/*
 * Memory a fork child leaves behind on purpose (what the parent's threads
 * were using, see after_fork_child): never used or freed again. When the
 * host program runs under LeakSanitizer, it is told not to report it (a
 * block reachable from p is not reported either). NULL is ignored.
 */
void otelc__abandon(const void *p);

/*
 * In a fork child (called by the provider's handler): re-create the locks of
 * the log and of the warn-once registry, which another thread may have held.
 */
void otelc__log_after_fork_child(void);
void otelc__config_after_fork_child(void);

/* Increments in every fork child; lets lazy per-thread state notice a fork. */
extern _Atomic uint32_t otelc__fork_generation;

#endif
