/*
 * otelc/instrument/microhttpd.h - SERVER spans for libmicrohttpd
 * (libotelc-microhttpd; link otelc and libmicrohttpd).
 *
 * Wrap the application's access handler and give MHD the wrapper, with the
 * wrapper's completion callback:
 *
 *   otelc_mhd *w = otelc_mhd_new(app_handler, app_cls, NULL);
 *   d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL,
 *                        otelc_mhd_handler, w,
 *                        MHD_OPTION_NOTIFY_COMPLETED, otelc_mhd_completed, w,
 *                        MHD_OPTION_END);
 *   ... MHD_stop_daemon(d); otelc_mhd_free(w);
 *
 * Every request becomes a SERVER span (built with the generic server helper
 * of otelc/instrument/server.h), a child of the context in its traceparent /
 * tracestate / baggage headers. The span and the request's baggage are
 * current on the calling thread during each call of the application's
 * handler (MHD calls it several times per request while the upload arrives;
 * *con_cls keeps the application's own per-request pointer through those
 * calls), and the span ends when MHD reports the request complete. Internal
 * polling threads, thread-per-connection and external select loops all work,
 * since nothing outlives a handler call on a thread.
 *
 * Name: "{METHOD} {route}" after otelc_mhd_set_route(), else "{METHOD}".
 * Attributes (stable HTTP conventions): http.request.method, url.path,
 * url.query (reassembled from the parsed arguments, sensitive values
 * redacted), url.scheme, http.route, client.address, user_agent.original,
 * server.address and server.port (Host header, else the listening port),
 * network.protocol.version, http.response.status_code,
 * http.request.body.size (upload bytes the handler consumed),
 * http.response.body.size (as given to otelc_mhd_queue_response()), and
 * error.type; status ERROR for 5xx or a request MHD ended abnormally.
 *
 * MHD has no getter for a queued response's size, and headers must be added
 * before queuing, so responses queued with otelc_mhd_queue_response() get
 * the body size and the optional traceresponse header; plain
 * MHD_queue_response() still works (the status is read from MHD).
 */
#ifndef OTELC_INSTRUMENT_MICROHTTPD_H
#define OTELC_INSTRUMENT_MICROHTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MHD's handler result type (an int before 0.9.71). */
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result otelc_mhd_result;
#else
typedef int otelc_mhd_result;
#endif

/*
 * Options; zero-initialise (or pass NULL for all defaults).
 *   completed, completed_cls: the application's own completion callback,
 *     called first with the application's *con_cls (MHD only takes one).
 *   traceresponse: add a W3C "traceresponse" header to responses queued
 *     with otelc_mhd_queue_response(); such responses must then not be
 *     shared between requests in flight, since the value is per request.
 *   scheme: url.scheme; NULL: "https" when the daemon uses TLS, else "http".
 */
typedef struct otelc_mhd_options {
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
    bool traceresponse;
    const char *scheme;
} otelc_mhd_options;

/* A wrapped handler (opaque). */
typedef struct otelc_mhd otelc_mhd;

/*
 * Wrap handler (called with handler_cls, exactly as MHD would call it).
 * Returns NULL when handler is NULL or memory runs out.
 */
otelc_mhd *otelc_mhd_new(MHD_AccessHandlerCallback handler, void *handler_cls,
                         const otelc_mhd_options *opts);

/* Free the wrapper, after MHD_stop_daemon(). NULL is ignored. */
void otelc_mhd_free(otelc_mhd *w);

/*
 * The access handler to give MHD_start_daemon() with the wrapper as its
 * cls. It owns *con_cls (the application sees its own slot instead);
 * returns MHD_NO, closing the connection, only when memory runs out.
 */
otelc_mhd_result otelc_mhd_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls);

/*
 * The MHD_OPTION_NOTIFY_COMPLETED callback, with the wrapper as its cls:
 * runs the application's completion callback, then ends the span with the
 * queued status (and error.type naming an abnormal termination, such as
 * "MHD_REQUEST_TERMINATED_CLIENT_ABORT"). Without it spans never end.
 */
void otelc_mhd_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe);

/*
 * From inside the handler: record the route template that matched
 * ("/users/{id}"), which names the span and sets http.route. Does nothing
 * outside a wrapped handler call for connection.
 */
void otelc_mhd_set_route(struct MHD_Connection *connection, const char *route);

/*
 * From inside the handler: MHD_queue_response() that also records the
 * status, the response body size (body_size < 0: unknown) and, when
 * enabled, adds the traceresponse header. Returns MHD_queue_response()'s
 * result.
 */
otelc_mhd_result otelc_mhd_queue_response(struct MHD_Connection *connection,
                                          unsigned int status_code, struct MHD_Response *response,
                                          int64_t body_size);

/*
 * From inside the handler: the request's server span handle (see
 * server.h), for attributes or the traceresponse value; NULL outside.
 */
otelc_server_span *otelc_mhd_current(struct MHD_Connection *connection);

#ifdef __cplusplus
}
#endif
#endif
