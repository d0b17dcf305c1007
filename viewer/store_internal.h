/*
 * store_internal.h - what the store's files share (store.c: opening, the
 * schema, writing and retention; store_chunk.c: the chunks' bloom filters
 * and posting lists; store_read.c: traces and searches; store_aggr.c:
 * per-minute aggregates). Not for other modules.
 */
#ifndef OTELC_VIEWER_STORE_INTERNAL_H
#define OTELC_VIEWER_STORE_INTERNAL_H

#include <sqlite3.h>

#include "export/otlp.h"
#include "export/protobuf.h"
#include "hash.h"
#include "histogram.h"
#include "store.h"
#include "u64map.h"

/* Prepared statements, made once per connection (writers' only on writers). */
enum vw_stmt {
    ST_RES_FIND,
    ST_RES_ADD,
    ST_RES_GET,
    ST_SCOPE_FIND,
    ST_SCOPE_ADD,
    ST_SCOPE_GET,
    ST_OP_FIND,
    ST_OP_ADD,
    ST_SEG_ADD,
    ST_SEG_OF_TRACE,
    ST_SEG_GET,
    ST_CHUNK_PUT,
    ST_OPMIN_GET,
    ST_OPMIN_PUT,
    ST_EDGE_GET,
    ST_EDGE_PUT,
    ST_TRIM_PICK,
    ST_TRIM_LATER,
    ST_TRIM_DEL,
    ST_COUNT
};

/* ---- Chunks: what lets a search skip most of the store --------------------------------- */

/*
 * Segments are grouped, in order of arrival, into chunks of about
 * VW_CHUNK_SPANS spans. Each chunk keeps a bloom filter of the attribute
 * values of its spans and resources, and posting lists: for each
 * operation (and for "has an error span"), its segments. A search reads
 * those to skip chunks and segments that cannot match.
 */
#define VW_CHUNK_SPANS  8192
#define VW_BLOOM_BYTES  (1u << 17) /* 2^20 bits: ~2 % false positives at 120,000 keys */
#define VW_BLOOM_PROBES 7

/* Posting keys: 1 for error spans, 2 + 2 * op for an operation's spans. */
#define VW_POSTING_ERROR  1
#define VW_POSTING_OP(op) (2 + 2 * (uint64_t)(op))

typedef struct vw_posting {
    uint64_t key;
    int64_t seg; /* while a write is built: the index of its segment builder */
} vw_posting;

/* The chunk being filled (the writer's), or one read back (searches). */
typedef struct vw_chunk {
    int64_t id; /* 0: none open */
    int64_t first_seg, last_seg;
    uint64_t min_start, max_start;
    uint32_t spans;
    uint8_t *bloom; /* VW_BLOOM_BYTES */
    vw_posting *postings;
    size_t posting_count, posting_cap;
    vw_u64map resources; /* resource rows whose attributes are in the bloom */
} vw_chunk;

/* The bloom's hash of an attribute value, for a span ('S') or a resource ('R') attribute. */
uint64_t vw__bloom_key_str(char scope, const char *key, const char *s, size_t n);
uint64_t vw__bloom_key_int(char scope, const char *key, int64_t i);

/* Add every attribute of a span or resource (scope 'S' or 'R') to the bloom. */
void vw__bloom_add_attrs(uint8_t *bloom, char scope, const otelc_attr *attrs, size_t n);

bool vw__bloom_has(const uint8_t *bloom, uint64_t key);

/*
 * Sort p[0..n) by key then segment, where p[0..sorted) already is: the rest
 * is sorted alone and merged in. False when out of memory (p unchanged).
 */
bool vw__postings_sort(vw_posting *p, size_t n, size_t sorted);

/* Serialised posting lists (p sorted by key then segment; duplicates merged) into out. */
void vw__postings_encode(const vw_posting *p, size_t n, int64_t first_seg, otelc_buf *out);

/*
 * Call fn for each segment of the lists of keys[0..nkeys) in a serialised
 * blob (segments of several keys may repeat). Returns false when malformed.
 */
bool vw__postings_each(const uint8_t *blob, size_t len, int64_t first_seg, const uint64_t *keys,
                       size_t nkeys, void (*fn)(void *ctx, int64_t seg), void *ctx);

/* ---- Epochs: the trace index's partitions --------------------------------------------------- */

/*
 * The trace index (segments_trace) is on (id >> VW_EPOCH_SHIFT, tkey): the
 * segments of one epoch, 2^15 consecutive ids, are together in it. A
 * commit inserts its keys into the newest epoch's part of the index only
 * (a few hundred KiB) where an index on tkey alone would spread them over
 * the whole index and rewrite most of its pages in every commit, a cost
 * growing with the store. A trace is looked up in each epoch the store
 * holds (about one probe per 32,768 segments); retention removes a trace
 * from the epochs the writer's bloom filters say may hold it.
 */
#define VW_EPOCH_SHIFT   15
#define VW_STR_(x)       #x
#define VW_STR(x)        VW_STR_(x)
#define VW_EPOCH_SQL     "(id >> " VW_STR(VW_EPOCH_SHIFT) ")" /* a segment's epoch in SQL */
#define VW_EPOCH_OF(seg) ((int64_t)(seg) >> VW_EPOCH_SHIFT)
#define VW_EPOCH_BLOOM   (1u << 16) /* bytes: 2^19 bits for 32,768 keys, ~0.25 % false positives */
#define VW_EPOCH_BLOOMS  256 /* epochs with a bloom (2 halves: 32 MiB); later: always probed */

/*
 * The writer's bloom filters of the trace keys in each epoch, from the
 * oldest epoch held on; each of 2 * VW_EPOCH_BLOOM bytes: the keys, then
 * the keys added more than once (store_epoch.c).
 */
typedef struct vw_epochs {
    int64_t first;    /* the epoch of blooms[0] */
    uint8_t **blooms; /* NULL entries: no filter (beyond VW_EPOCH_BLOOMS), so may hold any key */
    size_t count;
} vw_epochs;

/* ---- The writer ---------------------------------------------------------------------------- */

/* The spans of one trace in the transaction being written: one segments row. */
typedef struct vw_segment_build {
    uint8_t trace_id[16];
    int64_t tkey;   /* vw__trace_key(trace_id), also its key in seg_index */
    bool indexed;   /* in seg_index (not: another trace with the same tkey, a full index) */
    otelc_buf body; /* records: resource row, scope row, Span length (varints), Span bytes */
    uint64_t start_ns, end_ns;
    uint32_t span_count, error_count;
    const char *root_name, *root_service; /* borrowed from the batches being written */
} vw_segment_build;

/* One (operation, minute) or (parent, child, minute) sum of the transaction being written. */
typedef struct vw_agg_entry {
    int64_t a, b; /* op and 0, or the parent and child service indexes */
    int64_t minute;
    uint64_t errors;
    vw_hist *hist;
} vw_agg_entry;

typedef struct vw_agg {
    vw_u64map index; /* key -> entry + 1 */
    vw_agg_entry *entries;
    size_t count, cap;
    vw_hist **spare; /* histograms of earlier transactions, for reuse */
    size_t spare_count, spare_cap;
} vw_agg;

/* A span waiting for its parent to arrive, to count the edge between their services. */
typedef struct vw_pending_child {
    uint64_t key;  /* the parent's identity (trace and span id hashed) */
    uint64_t seq;  /* 0: unused or consumed */
    uint64_t next; /* seq << 16 | index of the previous child of the same parent, 0: none */
    uint32_t service;
    uint8_t error;
    int64_t minute;
    uint64_t duration_ns;
} vw_pending_child;

#define VW_PENDING_CHILDREN 65536  /* a power of two: the ring of children waiting */
#define VW_RECENT_SPANS     262144 /* spans remembered per generation for edges */
#define VW_SERVICES_MAX     65536

typedef struct vw_checkpointer vw_checkpointer;

struct vw_store {
    sqlite3 *db;
    vw_checkpointer *checkpointer; /* checkpoint_thread's, or NULL */
    char *path;
    bool read_only, memory;
    uint64_t max_spans, retention_ns;
    vw_store_counts counts;
    uint64_t traces_counted_at; /* monotonic ms of the last count of distinct traces */
    uint64_t traces_count_due;  /* and of the next */
    sqlite3_stmt *st[ST_COUNT];

    /* ---- the writer's state (empty on readers) ---- */
    int64_t next_seg;       /* the id the next segment gets */
    otelc_buf enc;          /* encoding scratch */
    vw_segment_build *segs; /* this transaction's segments */
    size_t seg_count, seg_cap;
    vw_u64map seg_index;      /* hash of a trace id -> segment builder + 1 (this transaction) */
    vw_posting *new_postings; /* this transaction's, by segment builder */
    size_t new_posting_count, new_posting_cap;
    vw_chunk chunk; /* the chunk being filled */
    vw_epochs epochs;

    /* caches, reset together when one fills or a transaction fails */
    vw_u64map resources;  /* hash of the encoded Resource -> row */
    vw_u64map scopes;     /* hash of the encoded InstrumentationScope -> row */
    vw_u64map ops;        /* hash of (service, name, kind) -> row */
    vw_u64map op_service; /* op row -> service index + 1 */
    vw_u64map services;   /* hash of a service name -> index + 1 */
    char **service_names;
    size_t service_count;
    vw_u64map recent[2]; /* span identity -> service index + 1, two generations */
    int recent_cur;
    vw_u64map pending_heads; /* parent identity -> seq << 16 | ring index */
    vw_pending_child *pending;
    uint64_t pending_seq;
    vw_agg op_agg, edge_agg;
};

/* Bind a NUL-terminated string or NULL (as SQL NULL). */
int vw__bind_text(sqlite3_stmt *st, int i, const char *s);

/* The error message of the connection, for err buffers. */
void vw__store_error(vw_store *s, char *err, size_t err_size, const char *what);

/* A trace id as the integer the segments index holds (a hash: equal keys may differ in id). */
int64_t vw__trace_key(const uint8_t id[16]);

/* ---- store_chunk.c: the writer's chunk ---- */

/* Load the chunk still open in the file (after a restart or a failed transaction). */
int vw__chunk_load_open(vw_store *s);

/* Add this transaction's segments (ids first..first + n - 1) and postings to the chunk, and write
 * it. */
int vw__chunk_write(vw_store *s, int64_t first, size_t n);

void vw__chunk_free(vw_chunk *c);

/* ---- store_epoch.c: the writer's epoch filters ---- */

/* Fill the filters from the trace index (opening a store for writing). Returns 0 or -1. */
int vw__epochs_load(vw_store *s);

/* Note that segment seg holds trace key tkey. False when out of memory (nothing noted). */
bool vw__epochs_add(vw_epochs *e, int64_t seg, int64_t tkey);

/* Whether epoch may hold a segment of tkey (true when it keeps no filter). */
bool vw__epochs_may_hold(const vw_epochs *e, int64_t epoch, int64_t tkey);

/*
 * Whether epoch may hold more than one segment of tkey (true when it keeps
 * no filter): false means at most one, so the segment of tkey retention
 * is removing from that epoch is the only one there.
 */
bool vw__epochs_may_repeat(const vw_epochs *e, int64_t epoch, int64_t tkey);

/* Drop the filters of the epochs before epoch (retention emptied them). */
void vw__epochs_forget_before(vw_epochs *e, int64_t epoch);

void vw__epochs_free(vw_epochs *e);

/* ---- store_checkpoint.c: checkpoints on a thread of their own ---- */

/* Start the thread and hand it the writer's checkpoints. Returns 0 or -1 (nothing changed). */
int vw__checkpointer_start(vw_store *s);

/* Stop it (the writer's close checkpoints what is left). No thread: nothing. */
void vw__checkpointer_stop(vw_store *s);

/* ---- store_aggr.c ---- */

/* Count one value into the (a, b, minute) entry of agg; false when out of memory. */
bool vw__agg_add(vw_agg *agg, int64_t a, int64_t b, int64_t minute, uint64_t value, bool error);

/* Write the operations' and edges' sums into their tables, merged with what is there. */
int vw__agg_flush(vw_store *s);

/* Empty an aggregate for the next transaction (keeps its memory). */
void vw__agg_reset(vw_agg *agg);

void vw__agg_free(vw_agg *agg);

/* The service's name by writer index. */
const char *vw__service_name(const vw_store *s, uint32_t index);

#endif
