/*
 * server_span.h - the server helper's handle, shared by libotelc and otelc's
 * own instrumentation libraries (never installed). A wrapper enters and
 * leaves its request's context around every call of the application's
 * handler; reading the handle and pushing the stack inline costs it half
 * of what the calls of otelc_server_enter() and otelc_server_leave() do.
 *
 * The layouts read here (this handle, the context stack of internal.h) are
 * libotelc's private ABI: the stack's symbol carries the release
 * (OTELC__PRIVATE_SYMBOL), so a library built against another release of
 * libotelc fails to load instead of misreading them.
 */
#ifndef OTELC_SERVER_SPAN_H
#define OTELC_SERVER_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "otelc/instrument/server.h"

struct otelc_server_span {
    otelc_span *span;
    otelc_context *ctx; /* the extracted context: parent and baggage */
    const char *method; /* normalised (a static string), for renaming on set_route */
    size_t method_len;
    otelc_scope scope; /* ctx and span, current together between enter and leave (depth 0: not) */
    bool has_req_body, has_resp_body;
    uint64_t req_body, resp_body;
    size_t size;                                /* of the allocation, room included */
    _Alignas(max_align_t) unsigned char room[]; /* otelc_server_start_with_room() */
};

/* otelc_server_enter(s) for a non-NULL s, inline. */
static inline void otelc__server_enter(otelc_server_span *s)
{
    if (s->scope.depth == 0) s->scope = otelc__enter_borrowed(s->span, s->ctx);
}

/* otelc_server_leave(s) for a non-NULL s, inline. */
static inline void otelc__server_leave(otelc_server_span *s)
{
    if (s->scope.depth == 0) return;
    otelc__leave_borrowed(s->scope);
    s->scope.depth = 0;
}

/* otelc_server_room(s) for a non-NULL s, inline. */
static inline void *otelc__server_room(otelc_server_span *s)
{
    return s->room;
}

/* otelc_server_add_request_body(s, n) for a non-NULL s, inline. */
static inline void otelc__server_add_request_body(otelc_server_span *s, uint64_t n)
{
    s->req_body += n;
    s->has_req_body = true;
}

/* otelc_server_add_response_body(s, n) for a non-NULL s, inline. */
static inline void otelc__server_add_response_body(otelc_server_span *s, uint64_t n)
{
    s->resp_body += n;
    s->has_resp_body = true;
}

#endif
