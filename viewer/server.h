/*
 * server.h - the network front of `otelc view`: the port of the UI and the
 * query API (16686 by default), the OTLP/HTTP port (4318), both served by
 * libmicrohttpd, and the OTLP/gRPC port (4317, grpc_server.h).
 *
 * Every request passes, in this order: the bounds (header count and size,
 * query string length: 431, 414), the request gate of cli/http_gate.h
 * (Host, Origin, Sec-Fetch-Site; the gRPC port with :authority), the bearer
 * token when one is set (401; the UI's own files and CORS preflights are
 * exempt, and /api/live may carry it as ?access_token=), the method (405)
 * and the route (404). Then:
 *
 *   UI port     GET/HEAD /, /<file>      the UI (ui_assets.h), ETag and 304
 *               GET/HEAD /api/..., /metrics   the query API (vw_server_open)
 *               POST /api/v2/spans       the Zipkin receiver
 *   OTLP port   POST /v1/traces          the OTLP/HTTP receiver
 *               POST /api/v2/spans       the Zipkin receiver
 *   gRPC port   TraceService/Export      the OTLP/gRPC receiver
 *
 * Receivers' bodies are read through body.h: at most max_body bytes on
 * the wire and max_inflated once inflated per request, max_buffered for
 * all requests at once (429 beyond). Every HTTP response carries the
 * Content-Security-Policy of API.md, X-Content-Type-Options: nosniff,
 * Referrer-Policy: no-referrer and a Cache-Control (no-cache for the UI's
 * files, which have ETags; no-store for everything else unless the handler
 * set its own).
 *
 * Threads: libmicrohttpd runs a thread per connection (a receiver waits
 * there for its commit, a server-sent events stream for its events); the
 * gRPC server one thread for all its connections.
 */
#ifndef OTELC_VIEWER_SERVER_H
#define OTELC_VIEWER_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "http_gate.h"
#include "ingest.h"

/* A port number that turns its listener off. */
#define VW_PORT_OFF (-1)

/* Defaults of the bounds below. */
#define VW_DEFAULT_MAX_BODY        ((size_t)16 << 20)
#define VW_DEFAULT_MAX_INFLATED    ((size_t)64 << 20)
#define VW_DEFAULT_MAX_BUFFERED    ((size_t)256 << 20)
#define VW_DEFAULT_MAX_CONNECTIONS 128
#define VW_DEFAULT_TIMEOUT_S       60
/*
 * Longer than the ingest thread can take to decide a batch (a commit gives
 * up after the store's 5 s busy timeout, and a full queue is a few
 * commits), so that a 503 never goes out for a batch that is then stored.
 */
#define VW_DEFAULT_INGEST_WAIT_MS 60000
#define VW_MAX_HEADERS            64    /* request header lines */
#define VW_CONNECTION_MEMORY      32768 /* bytes for the request line and headers (MHD's pool) */
#define VW_MAX_QUERY              4096  /* bytes of the query string */
#define VW_MAX_TOKEN              256   /* bytes of a bearer token */

typedef struct vw_server vw_server;

/* A request handler: rs comes zeroed; see http.h. */
typedef void (*vw_handler_fn)(void *ctx, const vw_request *rq, vw_response *rs);

typedef enum vw_listener {
    VW_LISTEN_UI,
    VW_LISTEN_OTLP_HTTP,
    VW_LISTEN_OTLP_GRPC,
} vw_listener;

typedef struct vw_server_options {
    const char *bind; /* an IPv4 or IPv6 literal ("::1" or "[::1]"); NULL: 127.0.0.1 */
    /* Ports: 0 picks a free one (vw_server_port()), VW_PORT_OFF turns the listener off. */
    int ui_port, otlp_http_port, otlp_grpc_port;
    /*
     * The bearer token every request must carry (Authorization: Bearer
     * TOKEN), at most VW_MAX_TOKEN bytes; NULL or "": none. Copied.
     */
    const char *token;
    /* --allow-host and --cors-origin (strings not copied); bind and port are filled in. */
    http_gate_config gate;
    vw_ingest *ingest; /* where the receivers store; required */
    /* Bounds; 0 takes the default. max_inflated at most 1 GiB. */
    size_t max_body, max_inflated, max_buffered;
    unsigned max_connections; /* per HTTP port */
    unsigned timeout_s;       /* an HTTP connection idle this long is closed */
    uint32_t ingest_wait_ms;  /* a receiver waits this long for its commit, then 503 */
} vw_server_options;

/*
 * Listen on every port not turned off and start serving, but answer the
 * receivers and the query API 503 with Retry-After ("starting") until
 * vw_server_open(). Returns 0 and sets *out, or -1 with a message in err
 * (a bind address that is no IP literal, a port taken, a token too long
 * or holding a character a bearer token cannot hold, no ingest).
 */
int vw_server_start(const vw_server_options *o, vw_server **out, char *err, size_t err_size);

/*
 * Open for business: from now on the receivers store, and /api/ and
 * /metrics go to api(ctx, ...) (NULL: 404). In between, the caller learns
 * the ports (vw_server_port(): the query API reports the receivers'
 * addresses) and adds its commit listeners to the ingest queue, which must
 * be in place before anything is submitted. Once only.
 */
void vw_server_open(vw_server *s, vw_handler_fn api, void *ctx);

/*
 * Spans the receivers left out of acknowledged requests as invalid (the
 * OTLP partial success), for /api/status. Valid until vw_server_free().
 */
const _Atomic uint64_t *vw_server_rejected_spans(const vw_server *s);

/* The port a listener listens on (the one picked for 0), or 0 when it is off. */
unsigned vw_server_port(const vw_server *s, vw_listener l);

/*
 * Stop: no new connections; the requests in flight finish (server-sent
 * event streams end; at most about 20 s in all), gRPC calls waiting for
 * their commit too; then every listener closes. The ingest queue must
 * still run (it decides what the waiting requests wait for). NULL: nothing.
 */
void vw_server_stop(vw_server *s);

/*
 * Free the server, after vw_server_stop() and once the ingest thread has
 * stopped (a gRPC call may still be finished from it until then). NULL:
 * nothing.
 */
void vw_server_free(vw_server *s);

#endif
