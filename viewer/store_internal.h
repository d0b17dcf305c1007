/*
 * store_internal.h - what the store's files share (store.c: opening, the
 * schema, writing and retention; store_read.c: traces and searches;
 * store_aggr.c: per-minute aggregates). Not for other modules.
 */
#ifndef OTELC_VIEWER_STORE_INTERNAL_H
#define OTELC_VIEWER_STORE_INTERNAL_H

#include <sqlite3.h>

#include "export/otlp.h"
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
    ST_TRACE_FIND,
    ST_TRACE_ADD,
    ST_TRACE_UPDATE,
    ST_SPAN_ADD,
    ST_TRACE_SPANS,
    ST_OPMIN_GET,
    ST_OPMIN_PUT,
    ST_EDGE_GET,
    ST_EDGE_PUT,
    ST_COUNT
};

/* A trace the writer touched lately: its row, as it will be written back. */
typedef struct vw_trace_entry {
    uint8_t trace_id[16];
    int64_t row;
    uint64_t start_ns, end_ns;
    char *root_name, *root_service; /* malloc'd, NULL until the root arrives */
    uint32_t span_count, error_count;
    bool dirty;
} vw_trace_entry;

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
#define VW_TRACE_CACHE      65536
#define VW_SERVICES_MAX     65536

struct vw_store {
    sqlite3 *db;
    char *path;
    bool read_only, memory;
    uint64_t max_spans, retention_ns;
    vw_store_counts counts;
    sqlite3_stmt *st[ST_COUNT];

    /* ---- the writer's caches (empty on readers); reset together when one fills ---- */
    otelc_buf enc;        /* encoding scratch */
    vw_u64map resources;  /* hash of the encoded Resource -> row */
    vw_u64map scopes;     /* hash of the encoded InstrumentationScope -> row */
    vw_u64map ops;        /* hash of (service, name, kind) -> row */
    vw_u64map op_service; /* op row -> service index + 1 */
    vw_u64map services;   /* hash of a service name -> index + 1 */
    char **service_names;
    size_t service_count;
    vw_u64map traces; /* hash of a trace id -> entry index + 1 */
    vw_trace_entry *trace_entries;
    size_t trace_count;
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
