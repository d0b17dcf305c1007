/*
 * http_gate.h - which requests a local HTTP service of otelc answers at all.
 *
 * A web page in the user's browser can send requests to 127.0.0.1: a
 * cross-origin "simple" POST (text/plain, form-encoded) needs no CORS
 * preflight, and with DNS rebinding the page's own host name ends up
 * pointing at loopback. The gate refuses both before any route runs:
 *
 *   - 400 without a Host (RFC 9112 section 3.2 requires it of HTTP/1.1; an
 *     HTTP/1.0 request without one is refused too: nothing says which name
 *     it was meant for) or with a malformed one (a repeated Host included).
 *   - 403 when Host is not a name the service is reachable as: localhost,
 *     NAME.localhost (RFC 6761 section 6.3: resolvers and browsers answer
 *     those with loopback themselves, so no DNS server can rebind them),
 *     an IPv4 literal in 127.0.0.0/8, [::1], the bind address unless it is
 *     a wildcard (0.0.0.0, ::), and the names given with --allow-host; with
 *     no port or the service's own. Names compare case-insensitively; a
 *     name ending in a dot matches nothing (to a browser "localhost." is
 *     another origin, and a gate that matched some dotted forms and not
 *     others would be a gap).
 *   - 403 for a state-changing request (any method but GET, HEAD, OPTIONS)
 *     whose Origin is neither the service's own (http://ALLOWED-HOST:PORT)
 *     nor a --cors-origin. "Origin: null" is foreign. Sec-Fetch-Site other
 *     than same-origin or none (cross-site, same-site, anything unknown)
 *     makes the request foreign unless its Origin is allowed.
 *   - 415 when the endpoint takes a JSON body and Content-Type is not
 *     application/json (parameters allowed). A browser sends that type
 *     cross-origin only after a preflight, and the gate grants preflights
 *     to --cors-origin origins only.
 *
 * Pure: strings in, a verdict out, nothing else read or written, so the
 * HTTP/1 services (through http_gate_mhd.h) and an HTTP/2 receiver (with
 * :authority for Host) share it, and it is unit-tested and fuzzed alone.
 */
#ifndef OTELC_CLI_HTTP_GATE_H
#define OTELC_CLI_HTTP_GATE_H

#include <stdbool.h>
#include <stddef.h>

/* At most this many --allow-host names and as many --cors-origin origins. */
#define HTTP_GATE_MAX_NAMES 16

typedef struct http_gate_config {
    const char *bind;                       /* the listening address (an IP literal), or NULL */
    unsigned port;                          /* the port the service listens on */
    const char *hosts[HTTP_GATE_MAX_NAMES]; /* --allow-host names, not owned */
    size_t host_count;
    const char *cors_origins[HTTP_GATE_MAX_NAMES]; /* --cors-origin origins, not owned */
    size_t cors_origin_count;
} http_gate_config;

/*
 * One request's fields; NULL means the header is absent. A field sent on
 * several lines is passed as its lines joined with ", " (RFC 9110 section
 * 5.3), or as ", " alone: no valid Host, Origin, Sec-Fetch-Site or JSON
 * Content-Type value holds a comma, so the gate refuses either.
 */
typedef struct http_gate_request {
    const char *method;         /* as received; methods are case-sensitive */
    const char *host;           /* Host, or :authority in HTTP/2 */
    const char *origin;         /* Origin */
    const char *sec_fetch_site; /* Sec-Fetch-Site */
    const char *content_type;   /* Content-Type */
    bool json_body;             /* the endpoint reads its body as JSON */
} http_gate_request;

typedef struct http_gate_verdict {
    unsigned status;          /* 0: go on; else 400, 403 or 415, to answer with reason */
    const char *reason;       /* one line, static; NULL when status is 0 */
    const char *allow_origin; /* req->origin when it is a --cors-origin (allowed, or
                                 refused with 415): echo it in Access-Control-Allow-Origin */
    bool preflight;           /* OPTIONS from a --cors-origin: answer as a CORS preflight */
} http_gate_verdict;

/*
 * The verdict on req under cfg. Both must be non-NULL; req->method must be
 * non-NULL. allow_origin points into req, so it lives as long as req's
 * strings do. Never allocates, never fails.
 */
http_gate_verdict http_gate_check(const http_gate_config *cfg, const http_gate_request *req);

/*
 * Add name (an --allow-host value: a host name, an IPv4 literal, an IPv6
 * literal with or without brackets; no port, no trailing dot) to cfg,
 * which keeps the pointer. false with a one-line reason in *why when name
 * is not such a name or cfg is full; cfg is then unchanged.
 */
bool http_gate_add_host(http_gate_config *cfg, const char *name, const char **why);

/*
 * Add origin (a --cors-origin value: SCHEME://HOST[:PORT], no path; "*"
 * and "null" are refused, since the gate only ever echoes exact origins)
 * to cfg, which keeps the pointer. false with a one-line reason in *why
 * otherwise, cfg unchanged.
 */
bool http_gate_add_cors_origin(http_gate_config *cfg, const char *origin, const char **why);

#endif
