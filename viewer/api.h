/*
 * api.h - the query API of `otelc view`: every request under /api/ and
 * /metrics (API.md is the contract with the web UI). Jaeger's v1 JSON
 * (/api/services, /api/operations, /api/traces, /api/dependencies, what
 * Grafana's Jaeger data source reads), Jaeger's api_v3 trace as OTLP JSON
 * (/api/v3/traces/{id}), Tempo's TraceQL search (/api/search), the service
 * map and operations table, live updates as server-sent events
 * (/api/live), the viewer's status, and span metrics in the Prometheus
 * text format (/metrics) named as the OpenTelemetry Collector's
 * spanmetrics connector names them.
 *
 * The API reads the store through a small pool of read-only connections
 * of its own (SQLite's WAL lets them read while the ingest thread
 * writes), and learns what each commit brought from one commit listener
 * on the ingest queue (live updates, span metrics).
 */
#ifndef OTELC_VIEWER_API_H
#define OTELC_VIEWER_API_H

#include <stdatomic.h>
#include <stdint.h>

#include "http.h"
#include "ingest.h"

typedef struct vw_api_config {
    const char *version;   /* the viewer's version, for /api/status */
    const char *otlp_http; /* the receivers' addresses as users send to them, or NULL */
    const char *otlp_grpc;
    /*
     * Spans the receivers left out of requests as invalid (the OTLP partial
     * success), counted by them and read for /api/status; NULL reads as 0.
     * Must outlive the API.
     */
    const _Atomic uint64_t *rejected_spans;
    /* The --forward targets, whose counters /api/status shows; valid while requests are served. */
    struct vw_forward *const *forwards;
    size_t forward_count;
} vw_api_config;

typedef struct vw_api vw_api;

/*
 * The API over the store in the file db_path, which the ingest thread
 * writes (its store must be open, so that the file and its schema exist
 * before the first request). db_path must name a file: an in-memory
 * SQLite database belongs to one connection, and the API opens its own
 * (the server gives `--db :memory:` a temporary file). ingest may be NULL
 * (a store nobody writes: no live updates, no span metrics, counts read
 * from the file); otherwise the API adds its commit listener, so call this
 * before anything is submitted. cfg is copied. Returns NULL when out of
 * memory or when the ingest queue takes no more listeners.
 *
 * Order at shutdown: stop serving requests (every live stream released),
 * then vw_ingest_stop() (the listener may run until then), then
 * vw_api_free().
 */
vw_api *vw_api_new(const char *db_path, vw_ingest *ingest, const vw_api_config *cfg);

/* Close the API's connections and free it (see the order above). NULL is ignored. */
void vw_api_free(vw_api *api);

/*
 * Answer one request whose path is under /api/ or is /metrics; any
 * number of threads may call it at once. rs must be zeroed; the handler
 * sets status, content_type and body (JSON unless said otherwise in
 * API.md), or, for /api/live, a stream (read/release/ctx) the server runs
 * on the connection's thread. Never fails without an answer: bad
 * parameters are 400s, a store that cannot be read a 503, each in the
 * error shape of the API the endpoint imitates.
 */
void vw_api_handle(vw_api *api, const vw_request *rq, vw_response *rs);

#endif
