/*
 * http_gate_mhd.c - the libmicrohttpd side of the request gate (http_gate_mhd.h).
 */
#include <string.h>
#include <strings.h>

#include "http_gate_mhd.h"

/* How long a browser may reuse a granted preflight, in seconds. */
#define PREFLIGHT_MAX_AGE "600"

/* MHD's iterator result type (an int before 0.9.71). */
#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result iterator_result;
#else
typedef int iterator_result;
#endif

typedef struct header_count {
    const char *name;
    unsigned count;
} header_count;

static iterator_result count_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    header_count *h = cls;
    (void)kind;
    (void)value;
    if (key && strcasecmp(key, h->name) == 0) h->count++;
    return MHD_YES;
}

/* The header's value; ", " when it came on several lines (see http_gate_request). */
static const char *header(struct MHD_Connection *c, const char *name)
{
    header_count h = {name, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_one, &h);
    if (h.count > 1) return ", ";
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

void http_gate_mhd_request(struct MHD_Connection *c, const char *method, http_gate_request *req)
{
    *req = (http_gate_request){
        .method = method,
        .host = header(c, MHD_HTTP_HEADER_HOST),
        .origin = header(c, "Origin"),
        .sec_fetch_site = header(c, "Sec-Fetch-Site"),
        .content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE),
    };
}

unsigned http_gate_mhd_port(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON);
    const union MHD_DaemonInfo *di =
        ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return di ? di->port : 0;
}

void http_gate_mhd_headers(struct MHD_Response *resp, const http_gate_config *cfg,
                           const http_gate_verdict *v)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (cfg->cors_origin_count) MHD_add_response_header(resp, "Vary", "Origin");
    if (!v->allow_origin) return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", v->allow_origin);
    if (!v->preflight) return;
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                            "Content-Type, Content-Encoding, Authorization, traceparent, "
                            "tracestate, baggage");
    MHD_add_response_header(resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
}
