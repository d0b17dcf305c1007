/*
 * http.h - a request and its response as the viewer's handlers see them,
 * without libmicrohttpd: server.c (the HTTP front end) fills a vw_request
 * from the connection, calls a handler (the query API in api.c, the OTLP
 * receivers in receiver.c), and sends the vw_response it got back.
 */
#ifndef OTELC_VIEWER_HTTP_H
#define OTELC_VIEWER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "export/otlp.h"

typedef struct vw_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded path without the query string, e.g. "/api/traces/abc" */
    /* A query-string argument (percent-decoded), or NULL when absent. */
    const char *(*arg)(const struct vw_request *rq, const char *name);
    /* A request header (case-insensitive name), or NULL when absent. */
    const char *(*header)(const struct vw_request *rq, const char *name);
    const char *body; /* the request body (POST), already bounded by the server */
    size_t body_len;
    void *conn; /* the server's, for arg and header */
} vw_request;

/* At most this many extra response headers. */
#define VW_RESPONSE_HEADERS 6

/*
 * A response. Handlers set status, content_type and body (or a stream);
 * the server adds the security headers every response carries.
 */
typedef struct vw_response {
    unsigned status;
    const char *content_type; /* static string */
    otelc_buf body;           /* freed by the server after sending */
    struct {
        const char *name;
        char value[128];
    } headers[VW_RESPONSE_HEADERS];
    int header_count;
    /*
     * A streamed body (server-sent events): when read is set the server
     * sends what it produces until it returns -1 (end) and then calls
     * release. read may block up to about a second waiting for data and
     * returns 0 to say "nothing yet". Called on the connection's thread.
     */
    ssize_t (*read)(void *ctx, char *buf, size_t max);
    void (*release)(void *ctx);
    void *ctx;
} vw_response;

/* Add a response header (the value is copied, cut to 127 bytes); ignored when full. */
void vw_response_header(vw_response *rs, const char *name, const char *value);

/* status with a JSON body {"error": message} (message escaped). */
void vw_response_error(vw_response *rs, unsigned status, const char *message);

#endif
