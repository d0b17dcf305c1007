/*
 * otelc/instrument/http.h - small HTTP helpers shared by the client and
 * server instrumentations, so they name spans and methods the same way.
 *
 * Attribute names follow the stable OpenTelemetry HTTP semantic conventions
 * (http-spans.md); they are spelled out here once.
 */
#ifndef OTELC_INSTRUMENT_HTTP_H
#define OTELC_INSTRUMENT_HTTP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTELC_HTTP_REQUEST_METHOD          "http.request.method"
#define OTELC_HTTP_REQUEST_METHOD_ORIGINAL "http.request.method_original"
#define OTELC_HTTP_RESPONSE_STATUS_CODE    "http.response.status_code"
#define OTELC_HTTP_REQUEST_RESEND_COUNT    "http.request.resend_count"
#define OTELC_HTTP_REQUEST_BODY_SIZE       "http.request.body.size"
#define OTELC_HTTP_RESPONSE_BODY_SIZE      "http.response.body.size"
#define OTELC_HTTP_ROUTE                   "http.route"
#define OTELC_URL_FULL                     "url.full"
#define OTELC_URL_PATH                     "url.path"
#define OTELC_URL_QUERY                    "url.query"
#define OTELC_URL_SCHEME                   "url.scheme"
#define OTELC_SERVER_ADDRESS               "server.address"
#define OTELC_SERVER_PORT                  "server.port"
#define OTELC_CLIENT_ADDRESS               "client.address"
#define OTELC_USER_AGENT_ORIGINAL          "user_agent.original"
#define OTELC_NETWORK_PROTOCOL_VERSION     "network.protocol.version"
#define OTELC_ERROR_TYPE                   "error.type"

/* The conventions' value of http.request.method for a method they do not know. */
#define OTELC_HTTP_METHOD_OTHER "_OTHER"

/*
 * The value of http.request.method for method: method itself when it is one
 * of the conventions' known methods (CONNECT, DELETE, GET, HEAD, OPTIONS,
 * PATCH, POST, PUT, TRACE; compared case-sensitively, as the conventions
 * require), else "_OTHER". The result is a static string; NULL gives "_OTHER".
 */
const char *otelc_http_method_normalize(const char *method);

/*
 * Write the span name the conventions give an HTTP span: "{method}" or
 * "{method} {target}" when target (a route template, never a raw path) is
 * not NULL or empty, where an unknown method is written "HTTP". Writes at
 * most out_size bytes, NUL-terminated, and returns the full length.
 */
size_t otelc_http_span_name(const char *method, const char *target, char *out, size_t out_size);

/*
 * The network.protocol.version for an HTTP version string such as
 * "HTTP/1.1" or "HTTP/2.0" ("1.1", "2"; the conventions drop a ".0" minor
 * of versions 2 and 3), as a static string, or NULL when it is unrecognised.
 */
const char *otelc_http_protocol_version(const char *http_version);

#ifdef __cplusplus
}
#endif
#endif
