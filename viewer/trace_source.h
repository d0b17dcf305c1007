/*
 * trace_source.h - where `otelc traces` reads traces from: a store file
 * opened read-only (trace_source.c, no server needed) or a running viewer
 * over its HTTP API (trace_source_http.c: /api/search and
 * /api/v3/traces/{id}). Every subcommand is written once against this
 * interface, so it behaves the same on both.
 *
 * A source is used by one thread at a time.
 */
#ifndef OTELC_VIEWER_TRACE_SOURCE_H
#define OTELC_VIEWER_TRACE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

typedef struct vw_source vw_source;

/* Outcomes of the calls below. */
typedef enum vw_source_status {
    VW_SOURCE_OK = 0,
    VW_SOURCE_INVALID = 1,     /* the caller's mistake: a TraceQL query that does not compile
                                  (the message says where), a URL that is not http(s) */
    VW_SOURCE_UNAVAILABLE = 2, /* the viewer cannot be reached, or refused the request */
    VW_SOURCE_FAILED = 3,      /* anything else: an unreadable store, a malformed answer */
} vw_source_status;

/* Which traces a search selects. */
typedef struct vw_source_query {
    const char *traceql;       /* NULL or "": every trace */
    uint64_t start_ns, end_ns; /* traces overlapping [start, end]; 0: unbounded on that side */
    size_t limit;              /* the newest this many (by start time); must not be 0 */
} vw_source_query;

/* A trace found by a search, without its spans. Strings are valid during the callback only. */
typedef struct vw_summary {
    uint8_t trace_id[16];
    const char *root_service; /* NULL until the root span has arrived */
    const char *root_name;    /* NULL likewise */
    uint64_t start_ns, end_ns;
    uint32_t span_count, error_count;
} vw_summary;

/*
 * Called for each trace a search finds, newest first. trace holds its
 * spans when the source loaded them anyway (the store does), else NULL
 * (vw_source_trace() loads them). Return nonzero to stop the search.
 */
typedef int (*vw_source_fn)(void *ctx, const vw_summary *t, const vw_batch *trace);

/*
 * The operations every source implements, for the constructors below (the
 * callers use the functions further down). Each returns a
 * vw_source_status and, on failure, writes a one-line message to err.
 */
typedef struct vw_source_ops {
    int (*search)(void *self, const vw_source_query *q, vw_source_fn fn, void *ctx, char *err,
                  size_t err_size);
    /* 1 and out filled when found, 0 when not, or -(vw_source_status) on failure. */
    int (*trace)(void *self, const uint8_t id[16], vw_batch *out, char *err, size_t err_size);
    void (*close)(void *self);
} vw_source_ops;

/* A source over ops and self (which close releases); NULL when out of memory (self is closed). */
vw_source *vw_source_new(const vw_source_ops *ops, void *self);

/*
 * Open the store file path read-only: nothing is created or written, and
 * a viewer may be writing it meanwhile. VW_SOURCE_OK and *out set, or
 * VW_SOURCE_FAILED with err saying why (no such file, not a store).
 */
int vw_source_open_store(const char *path, vw_source **out, char *err, size_t err_size);

/*
 * A running viewer at base_url (e.g. "http://127.0.0.1:16686"), token
 * (NULL: none) sent as "Authorization: Bearer". Nothing is sent yet:
 * errors show on the first call. VW_SOURCE_OK and *out set, or
 * VW_SOURCE_INVALID (not an http(s) URL), or VW_SOURCE_FAILED (out of
 * memory, or a build without libcurl).
 */
int vw_source_open_http(const char *base_url, const char *token, vw_source **out, char *err,
                        size_t err_size);

/* Run a search, calling fn for each trace found; a vw_source_status. */
int vw_source_search(vw_source *s, const vw_source_query *q, vw_source_fn fn, void *ctx, char *err,
                     size_t err_size);

/*
 * Load trace id into out (an empty batch; the caller frees it), its spans
 * in no particular order. 1 when found, 0 when the source holds no span
 * of it, or -(vw_source_status) with err filled.
 */
int vw_source_trace(vw_source *s, const uint8_t id[16], vw_batch *out, char *err, size_t err_size);

/* Close the source. NULL is ignored. */
void vw_source_close(vw_source *s);

#endif
