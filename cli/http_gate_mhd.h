/*
 * http_gate_mhd.h - http_gate.h for services served by libmicrohttpd: the
 * gate's fields read from a connection, and the headers every response of
 * a gated service carries.
 */
#ifndef OTELC_CLI_HTTP_GATE_MHD_H
#define OTELC_CLI_HTTP_GATE_MHD_H

#include <microhttpd.h>

#include "http_gate.h"

/*
 * Fill *req from the request on c: method as given, the headers (valid
 * until the request completes; a header sent more than once as ", ", see
 * http_gate_request), json_body false.
 */
void http_gate_mhd_request(struct MHD_Connection *c, const char *method, http_gate_request *req);

/*
 * The port c's daemon listens on: the one the system picked when it was
 * started on port 0. Read per request, it needs no lock against the
 * thread that started the daemon. 0 when MHD does not say.
 */
unsigned http_gate_mhd_port(struct MHD_Connection *c);

/*
 * Add to resp what goes with verdict v under cfg: X-Content-Type-Options:
 * nosniff always; Vary: Origin when cfg has --cors-origin origins (answers
 * then depend on Origin); Access-Control-Allow-Origin with the exact
 * origin when v allows one; and for a preflight the methods and request
 * headers allowed (Content-Type, Content-Encoding, Authorization for a
 * bearer token, and the trace context's) and how long a browser may cache
 * that.
 */
void http_gate_mhd_headers(struct MHD_Response *resp, const http_gate_config *cfg,
                           const http_gate_verdict *v);

#endif
