/*
 * otelc/instrument/server.h - SERVER spans for any server: an HTTP server
 * library otelc has no wrapper for, an event loop, or a custom RPC protocol
 * that carries W3C headers in its own metadata.
 *
 * A request is traced in four steps:
 *
 *   otelc_server_request r = {.method = "GET", .path = "/users/7",
 *                             .route = "/users/{id}", .scheme = "http"};
 *   otelc_server_span *s = otelc_server_start(NULL, &headers_carrier, &r);
 *   otelc_server_enter(s);   // current while the handler runs
 *   ... handle the request ...
 *   otelc_server_leave(s);
 *   otelc_server_finish(s, 200, NULL);
 *
 * Span naming, attributes and status follow the stable HTTP semantic
 * conventions: the name is "{METHOD} {route}" when a route template is
 * known, else "{METHOD}"; status is ERROR only for 5xx responses or an
 * explicit error type (4xx is the client's fault, not the server's).
 * Other protocols use the same calls with their own method and status
 * values. A handle is used by one thread at a time; it may move between
 * threads between calls (event loops, thread pools).
 */
#ifndef OTELC_INSTRUMENT_SERVER_H
#define OTELC_INSTRUMENT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "../propagation.h"
#include "../trace.h"
#include "http.h"
#include "redact.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What is known when a request arrives. Zero-initialise; every field but
 * method may be left empty. Strings are copied.
 *   method: as received (becomes http.request.method, or _OTHER plus
 *     http.request.method_original when the conventions do not know it).
 *   route: the template that matched ("/users/{id}"), never a raw path.
 *   path, query: url.path and url.query (query without '?'; its sensitive
 *     values are redacted here).
 *   scheme: url.scheme ("http", "https").
 *   protocol_version: network.protocol.version ("1.1", "2"); an
 *     "HTTP/1.1" style string is accepted too.
 *   client_address: client.address (the peer, or what a trusted proxy says).
 *   server_address, server_port: server.address/port when the carrier has
 *     no Host header saying otherwise (the conventions prefer the name and
 *     port the client addressed; a socket's own address is the fallback).
 *   user_agent: user_agent.original; NULL: the User-Agent header.
 *   start_ns: when the request arrived (Unix ns; 0: now).
 *   describe, describe_arg: NULL, or a callback that fills in the fields
 *     from path to user_agent when they cost something to work out (an
 *     address to format, a query to reassemble). otelc_server_start() calls
 *     it at most once, with a copy of the request and describe_arg, and
 *     only when the attributes are needed: the span records, or a sampler
 *     or processor looks at them at its start. So an unsampled request
 *     skips that work. Strings it sets must stay valid until
 *     otelc_server_start() returns; method, route and start_ns are read
 *     before it runs and must not change.
 */
typedef struct otelc_server_request otelc_server_request;
struct otelc_server_request {
    const char *method;
    const char *route;
    const char *path;
    const char *query;
    const char *scheme;
    const char *protocol_version;
    const char *client_address;
    const char *server_address;
    int server_port;
    const char *user_agent;
    uint64_t start_ns;
    void (*describe)(otelc_server_request *req, void *arg);
    void *describe_arg;
};

/* One traced request (opaque). */
typedef struct otelc_server_span otelc_server_span;

/*
 * Start the SERVER span of a request. The parent is extracted from headers
 * with the global propagator (NULL headers, or no valid context in them:
 * a new trace, never the thread's current span, since a request is the
 * start of its own work). Incoming baggage is kept for otelc_server_enter().
 * tracer NULL uses the scope "otelc.instrument.server". The request's
 * attributes are given to the span at its start, where a sampler of one's
 * own (otelc_sampler_new) can decide by them and a processor's on_start can
 * override them; with the built-in samplers and no on_start, nothing could
 * tell, so they are worked out only for spans that record (an unsampled
 * request costs a fifth less). Returns NULL only when req or req->method
 * is NULL or memory runs out; every other function here accepts NULL and
 * then does nothing.
 */
otelc_server_span *otelc_server_start(otelc_tracer *tracer, const otelc_carrier *headers,
                                      const otelc_server_request *req);

/*
 * otelc_server_start() with room bytes of the caller's own in the same
 * allocation, for a wrapper's per-request state (one malloc per request
 * instead of two). otelc_server_room() gives them, uninitialised and
 * aligned for any type; they are freed with the handle by
 * otelc_server_finish(). Returns NULL as otelc_server_start() does.
 */
otelc_server_span *otelc_server_start_with_room(otelc_tracer *tracer, const otelc_carrier *headers,
                                                const otelc_server_request *req, size_t room);

/*
 * For otelc's own instrumentation libraries: otelc_server_start_with_room()
 * for headers whose names' first letters, as OTELC__HEADER_LETTER()
 * gives them, are all in letters. A request without a header that any
 * propagator reads (most requests carry no trace context) is then not
 * searched for one.
 */
otelc_server_span *otelc__server_start_lettered(otelc_tracer *tracer, const otelc_carrier *headers,
                                                const otelc_server_request *req, size_t room,
                                                uint64_t letters);

/* The room given to otelc_server_start_with_room() (NULL for NULL). */
void *otelc_server_room(otelc_server_span *s);

/* The span itself, to add attributes or events (borrowed; NULL for NULL). */
otelc_span *otelc_server_span_get(otelc_server_span *s);

/*
 * Set the route template once routing has matched (http.route, and the span
 * is renamed "{METHOD} {route}"). A later call replaces an earlier one.
 */
void otelc_server_set_route(otelc_server_span *s, const char *route);

/*
 * Make the request's context (its span and incoming baggage) current on this
 * thread, so spans the handler starts are its children and outgoing calls
 * carry its context. Pair with otelc_server_leave() on the same thread;
 * enter/leave may be repeated, for a handler that runs in several calls.
 */
void otelc_server_enter(otelc_server_span *s);

/* Restore what was current before the matching otelc_server_enter(). */
void otelc_server_leave(otelc_server_span *s);

/*
 * Count n more bytes of request or response body (http.request.body.size,
 * http.response.body.size: the body as transferred). The attributes are set
 * only when something was counted.
 */
void otelc_server_add_request_body(otelc_server_span *s, uint64_t n);
void otelc_server_add_response_body(otelc_server_span *s, uint64_t n);

/*
 * Write the W3C Trace Context Level 2 "traceresponse" response header value
 * ("00-{trace-id}-{server span id}-{flags}") plus a NUL into out, so the
 * caller learns which span served it. Returns 55, or 0 when the span has no
 * valid context (nothing should then be sent).
 */
int otelc_server_traceresponse(const otelc_server_span *s, char out[56]);

/*
 * End the request and free the handle. status_code is the HTTP (or
 * protocol) status sent, or 0 when no response was sent. error_type, when
 * not NULL, becomes error.type and marks the span ERROR (a dropped
 * connection, a timeout, an exception class); otherwise a 5xx status sets
 * error.type to the status code and ERROR. Must not be called between
 * otelc_server_enter() and otelc_server_leave().
 */
void otelc_server_finish(otelc_server_span *s, int status_code, const char *error_type);

#ifdef __cplusplus
}
#endif
#endif
