/*
 * ingest.h - the one way spans reach the store: a bounded queue of decoded
 * batches and the thread that commits them.
 *
 * Receivers (OTLP/HTTP, OTLP/gRPC, Zipkin, --import) decode a request into
 * a batch and submit it; the ingest thread writes whatever is queued in
 * one transaction (group commit), then tells each submitter its batch is
 * committed, so that a receiver acknowledges only what a kill -9 can no
 * longer lose. The queue is bounded in spans: a receiver whose batch does
 * not fit is told at once (and answers 429 / RESOURCE_EXHAUSTED with a
 * retry delay), so a store that falls behind never costs unbounded memory.
 * Between commits the thread applies retention in slices.
 */
#ifndef OTELC_VIEWER_INGEST_H
#define OTELC_VIEWER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "store.h"

typedef struct vw_ingest vw_ingest;

typedef struct vw_ingest_options {
    size_t max_queued_spans;     /* spans waiting to be written; 0: 200,000 */
    size_t max_spans_per_commit; /* group commit size; 0: 50,000 */
    uint32_t trim_interval_ms;   /* how often retention runs when nothing else asks; 0: 10 s */
} vw_ingest_options;

/* What a submitted batch became. */
typedef enum vw_ingest_result {
    VW_INGEST_COMMITTED = 0, /* in the store */
    VW_INGEST_FULL = 1,      /* refused: the queue is full; try again shortly */
    VW_INGEST_FAILED = 2,    /* the store could not write it (disk full, locked too long) */
    VW_INGEST_STOPPED = 3,   /* refused: the viewer is stopping */
    VW_INGEST_QUEUED = 4,    /* vw_ingest_submit(): taken, the outcome comes later */
} vw_ingest_result;

/* Called on the ingest thread once a submitted batch is decided. */
typedef void (*vw_ingest_done_fn)(void *ctx, vw_ingest_result r);

/*
 * Called on the ingest thread after each commit with the batches it wrote
 * (valid during the call): live updates, span metrics, forwarding.
 */
typedef void (*vw_ingest_commit_fn)(void *ctx, const vw_batch *const *batches, size_t n);

/*
 * Start the ingest thread, which owns writer (a store opened for writing)
 * from now on. opts may be NULL. Returns 0, or -1 when the thread cannot
 * start.
 */
int vw_ingest_start(vw_store *writer, const vw_ingest_options *opts, vw_ingest **out);

/*
 * Add a listener for commits (before submitting anything; at most 8).
 * Returns 0 or -1.
 */
int vw_ingest_on_commit(vw_ingest *in, vw_ingest_commit_fn fn, void *ctx);

/*
 * Queue *b for writing. VW_INGEST_QUEUED: the batch is taken (*b is left
 * empty) and done is called later, on the ingest thread, with the outcome.
 * VW_INGEST_FULL or VW_INGEST_STOPPED: refused now, *b untouched, done
 * never called.
 */
vw_ingest_result vw_ingest_submit(vw_ingest *in, vw_batch *b, vw_ingest_done_fn done, void *ctx);

/*
 * Queue *b and wait until it is decided (at most timeout_ms: then
 * VW_INGEST_FAILED is returned, though the batch may still be written).
 * For receivers that answer on the thread that decoded the request.
 */
vw_ingest_result vw_ingest_write(vw_ingest *in, vw_batch *b, uint32_t timeout_ms);

/*
 * A batch to decode the next request into, in *out: one that an earlier
 * request used and the ingest thread emptied after writing it, its memory
 * kept (vw_batch_reset()), or else a new empty one. A receiver that
 * decodes into these allocates next to nothing once warm. Hand it to
 * vw_ingest_submit() or vw_ingest_write(), or back with
 * vw_ingest_batch_put(). in NULL: a new empty batch.
 */
void vw_ingest_batch_get(vw_ingest *in, vw_batch *out);

/*
 * Give back a batch that was not queued (refused, or nothing in it to
 * store) for a later vw_ingest_batch_get(); *b is left empty. The ingest
 * keeps a few such batches and frees the rest. in NULL: *b is freed.
 */
void vw_ingest_batch_put(vw_ingest *in, vw_batch *b);

/* Counters for /api/status and the tests. */
typedef struct vw_ingest_stats {
    uint64_t spans_committed; /* spans acknowledged as stored */
    uint64_t spans_refused;   /* spans of batches refused as the queue was full */
    uint64_t spans_failed;    /* spans of batches the store failed to write */
    uint64_t spans_trimmed;   /* removed by retention */
    uint64_t commits;         /* transactions */
    size_t queued_spans;      /* waiting now */
} vw_ingest_stats;

void vw_ingest_stats_get(vw_ingest *in, vw_ingest_stats *out);

/* Counts of the store, as of the last commit or trim (the writer's view). */
void vw_ingest_store_counts(vw_ingest *in, vw_store_counts *out);

/*
 * Write what is queued, then stop the thread and close the store. Later
 * submits are refused. NULL is ignored.
 */
void vw_ingest_stop(vw_ingest *in);

#endif
