/*
 * store.h - the viewer's span store: one SQLite file (WAL) holding every
 * span received, the traces they form, and per-minute aggregates for the
 * service map and the operations table.
 *
 * A vw_store is one SQLite connection: one thread at a time. The viewer
 * opens one for writing (the ingest thread) and one per reading thread;
 * WAL lets readers run while the writer commits. What vw_store_write()
 * returned OK for is committed: it survives a kill -9 of the process (the
 * WAL is written with synchronous=NORMAL, which loses nothing to a process
 * crash; a power loss may lose the last transactions).
 *
 * Spans are kept as the bytes of their OTLP `Span` message (re-encoded by
 * libotelc's encoder, whatever format they came in), resources and scopes
 * once each as `Resource` / `InstrumentationScope` messages; reading
 * decodes them back into otelc_span_data, so what the API returns is what
 * was sent, field for field. The columns beside the bytes exist only to
 * find spans fast (see store.c for the schema and why each index exists).
 */
#ifndef OTELC_VIEWER_STORE_H
#define OTELC_VIEWER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

typedef struct vw_store vw_store;

typedef struct vw_store_options {
    const char *path;      /* a file, or ":memory:" (nothing kept; one connection only) */
    bool read_only;        /* readers: never write, never create */
    uint64_t max_spans;    /* retention by count; 0: no limit */
    uint64_t retention_ns; /* retention by age (span start); 0: no limit */
    /*
     * A writer of a file: checkpoint the WAL on a thread of the store's own
     * (its own connection), not in the commits that fill it, so that a
     * commit never waits for the pages of earlier ones to be copied into
     * the database file. The thread stops with vw_store_close().
     */
    bool checkpoint_thread;
} vw_store_options;

/*
 * Open (creating the file and schema unless read_only). Returns 0 and sets
 * *out, or -1 with a message in err (a file of another program, a newer
 * schema, an unreadable path).
 */
int vw_store_open(const vw_store_options *o, vw_store **out, char *err, size_t err_size);

/* Close the connection. NULL is ignored. */
void vw_store_close(vw_store *s);

/*
 * Store the spans of n batches in one transaction, with the traces and
 * aggregates they update. Returns 0 once committed, or -1 with a message
 * (nothing of the n batches is then stored).
 */
int vw_store_write(vw_store *s, const vw_batch *const *batches, size_t n, char *err,
                   size_t err_size);

/*
 * Apply retention: remove the oldest traces whole until at most max_spans
 * remain and no trace is older than retention_ns, deleting at most budget
 * spans in this call (so the ingest thread is never held long); *more is
 * set when work remains. Returns the number of spans removed, or -1.
 */
long vw_store_trim(vw_store *s, size_t budget, bool *more);

/* Spans and traces held (spans exact after every write and trim). */
typedef struct vw_store_counts {
    uint64_t spans;
    uint64_t traces;     /* read-only stores only (at most a second old); 0 on the writer */
    uint64_t file_bytes; /* database and WAL on disk */
} vw_store_counts;

int vw_store_counts_get(vw_store *s, vw_store_counts *out);

/* ---- Reading ------------------------------------------------------------------- */

/*
 * Load trace id into out (an empty batch: vw_batch_init() first; free it
 * with vw_batch_free()), spans ordered by start time. Returns 1 when
 * found, 0 when the store holds no span of it, -1 on error.
 */
int vw_store_trace(vw_store *s, const uint8_t id[16], vw_batch *out);

/* Each distinct service name, sorted, through fn; returns 0 or -1. */
int vw_store_services(vw_store *s, void (*fn)(void *ctx, const char *service), void *ctx);

/*
 * The operations (span names) of service, with their span kind, sorted by
 * name, through fn; service NULL lists every service's. Returns 0 or -1.
 */
int vw_store_operations(vw_store *s, const char *service,
                        void (*fn)(void *ctx, const char *service, const char *name, int kind),
                        void *ctx);

/* A trace found by a search: what its list entry needs without its spans. */
typedef struct vw_trace_summary {
    uint8_t trace_id[16];
    uint64_t start_ns, end_ns; /* earliest start and latest end of its spans */
    const char *root_name;     /* NULL until the root span has arrived */
    const char *root_service;
    uint32_t span_count, error_count;
} vw_trace_summary;

/* One key=value condition of a Jaeger search (values compared as text). */
typedef struct vw_tag_filter {
    const char *key;
    const char *value;
} vw_tag_filter;

struct vw_tql;

/*
 * A search. A trace matches when one of its spans satisfies every span
 * condition at once (service, operation, tags, duration, errors_only: the
 * Jaeger semantics) and, when query is set, the TraceQL query matches the
 * trace, and the trace overlaps [start_ns, end_ns] (0 and 0: all). Traces
 * are taken newest first in order of arrival (what was written last
 * first), which is start time order for all but late spans.
 */
typedef struct vw_search {
    const char *service;   /* resource service.name, or NULL */
    const char *operation; /* span name, or NULL */
    const vw_tag_filter *tags;
    size_t tag_count;
    uint64_t min_duration_ns, max_duration_ns; /* 0: no bound */
    bool errors_only;
    uint64_t start_ns, end_ns;
    const struct vw_tql *query; /* compiled TraceQL, or NULL */
    size_t limit;               /* traces; 0 means 20 */
} vw_search;

typedef struct vw_search_stats {
    uint64_t inspected_traces;
    uint64_t inspected_spans;
} vw_search_stats;

/*
 * A matching trace: its summary, its spans (decoded, ordered by start) and,
 * for each span, whether it is in the query's result spanset (every span
 * satisfying the span conditions when there is no TraceQL query). Valid
 * during the call only. Return nonzero to stop the search.
 */
typedef int (*vw_search_fn)(void *ctx, const vw_trace_summary *t, const vw_batch *trace,
                            const bool *matched);

/* Run a search; returns the number of traces reported, or -1. stats may be NULL. */
long vw_store_search(vw_store *s, const vw_search *q, vw_search_fn fn, void *ctx,
                     vw_search_stats *stats);

/* ---- Aggregates ------------------------------------------------------------------ */

/* Latency statistics of a group of spans, from a log-scale histogram (see histogram.h). */
typedef struct vw_latency {
    uint64_t count, errors;
    uint64_t p50_ns, p95_ns, p99_ns;
} vw_latency;

/*
 * Per operation (service, span name, kind) in [start_ns, end_ns] (minute
 * granularity), service NULL for all. Returns 0 or -1.
 */
int vw_store_operation_stats(vw_store *s, const char *service, uint64_t start_ns, uint64_t end_ns,
                             void (*fn)(void *ctx, const char *service, const char *name, int kind,
                                        const vw_latency *l),
                             void *ctx);

/*
 * The service graph in [start_ns, end_ns]: each node (a service: the
 * requests it serves, i.e. its SERVER and CONSUMER spans, or all its spans
 * when it has none of those) and each edge (spans of service child whose
 * parent span is of another service, parent; the latency is the child
 * span's). Returns 0 or -1.
 */
int vw_store_service_graph(vw_store *s, uint64_t start_ns, uint64_t end_ns,
                           void (*node)(void *ctx, const char *service, const vw_latency *l),
                           void (*edge)(void *ctx, const char *parent, const char *child,
                                        const vw_latency *l),
                           void *ctx);

#endif
