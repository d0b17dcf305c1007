/*
 * forward.h - `otelc view --forward URL`: everything the viewer commits
 * is sent on to a Collector or another backend, through libotelc's own
 * OTLP exporter (its retries, backoff, circuit breaker and statistics).
 *
 * The viewer is a first hop that never loses its local copy: each commit
 * is encoded as OTLP protobuf into a queue bounded in bytes, and a thread
 * per target sends it from there. A failed export leaves the spans at the
 * head of the queue and is tried again after a backoff (doubling up to a
 * bound), for as long as it takes, so everything reaches the next hop once
 * it is back, in commit order. Only two things lose spans for the next
 * hop, both counted: the queue overflowing (the oldest waiting spans are
 * dropped to make room) and a request the next hop refuses for good (an
 * HTTP 400, a partial success), which is not sent again. OTLP itself
 * delivers at least once: a next hop that stored a request but whose
 * answer was lost receives it again.
 */
#ifndef OTELC_VIEWER_FORWARD_H
#define OTELC_VIEWER_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

typedef struct vw_forward vw_forward;

/* Tuning; zero fields take the defaults in their comments. */
typedef struct vw_forward_options {
    const char *url;      /* the next hop: http(s)://host:port/v1/traces, or host:port for gRPC */
    const char *protocol; /* "http/protobuf" (NULL), "http/json" or "grpc" */
    size_t max_bytes;     /* the queue's bound, in encoded bytes; 64 MiB */
    uint32_t export_timeout_ms;   /* one export, the exporter's own retries included; 10000 */
    uint32_t backoff_initial_ms;  /* wait after a failed export, doubling; 1000 */
    uint32_t backoff_max_ms;      /* the wait's bound; 30000 */
    uint32_t breaker_cooldown_ms; /* the exporter's circuit breaker (exporters.h); 5000 */
    uint32_t stop_grace_ms;       /* how long vw_forward_stop() still sends; 5000 */
} vw_forward_options;

/*
 * Start forwarding what in commits to the next hop at url over protocol
 * ("http/protobuf", "http/json" or "grpc"; NULL: http/protobuf), queueing
 * at most max_bytes (0: 64 MiB). Call it before anything is submitted to
 * in (vw_ingest_on_commit()'s rule). Returns the forwarder, or NULL with
 * err saying why: an unknown protocol, a URL the exporter refuses, a
 * libotelc built without libcurl, no listener slot left, out of memory.
 */
vw_forward *vw_forward_start(vw_ingest *in, const char *url, const char *protocol, size_t max_bytes,
                             char *err, size_t err_size);

/* As vw_forward_start(), with every setting (tests shorten the waits). */
vw_forward *vw_forward_start_opts(vw_ingest *in, const vw_forward_options *o, char *err,
                                  size_t err_size);

/* What a forwarder has done, for /api/status. */
typedef struct vw_forward_stats {
    uint64_t spans_sent;     /* accepted by the next hop */
    uint64_t spans_dropped;  /* never sent: the queue overflowed, or was still full at stop */
    uint64_t spans_refused;  /* refused for good by the next hop (not sent again) */
    uint64_t spans_queued;   /* waiting now, those being sent included */
    uint64_t bytes_queued;   /* their encoded size */
    uint64_t spans_retrying; /* of those, spans whose export failed and waits to be retried */
    uint64_t exports_failed; /* failed exports (each is retried) */
} vw_forward_stats;

/* The counters now; any thread, until vw_forward_stop(). */
void vw_forward_stats_get(vw_forward *f, vw_forward_stats *out);

/* The next hop's URL as given (valid until vw_forward_stop()). */
const char *vw_forward_url(const vw_forward *f);

/*
 * Stop: after vw_ingest_stop() (the ingest thread calls the forwarder
 * until then). What is queued is still sent for up to the stop grace (an
 * export under way is cut short then); what remains is counted as
 * dropped and reported on stderr. Frees f. NULL is ignored.
 */
void vw_forward_stop(vw_forward *f);

#endif
