/*
 * server.c - SERVER spans for any request/response server (see
 * include/otelc/instrument/server.h). The libmicrohttpd wrapper is built on
 * this, so every server instrumentation names and marks spans one way.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "otelc/otelc.h"
#include "otelc/instrument/server.h"
#include "instrumentation/server_span.h"

/* ---- Handles ------------------------------------------------------------ */

/*
 * Each thread keeps the handle of the request it finished last for the
 * next one it starts: a malloc and a free cost a twentieth of a traced
 * request, a tenth of an unsampled one. The key's destructor frees the
 * kept handle when the thread exits.
 */
static OTELC_HOT_TLS otelc_server_span *spare;
static OTELC_HOT_TLS bool spare_registered;
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_release(void *slot)
{
    otelc_server_span **p = slot;
    free(*p);
    *p = NULL;
}

static void spare_key_create(void)
{
    pthread_key_create(&spare_key, spare_release);
}

static otelc_server_span *handle_alloc(size_t size)
{
    otelc_server_span *s = spare;

    if (s != NULL && s->size == size) {
        spare = NULL;
        return s;
    }
    s = malloc(size); /* not calloc: glibc's calloc skips the thread cache */
    if (s != NULL) s->size = size;
    return s;
}

static void handle_free(otelc_server_span *s)
{
    if (OTELC_UNLIKELY(!spare_registered)) {
        pthread_once(&spare_once, spare_key_create);
        spare_registered = pthread_setspecific(spare_key, &spare) == 0;
        if (!spare_registered) {
            free(s);
            return;
        }
    }
    if (spare != NULL) free(spare); /* free(NULL) is a call too, on every request */
    spare = s;
}

/* A port number: 1 to 5 digits, 1..65535, nothing else (strtol would take " +80"); 0 if not. */
static int parse_port(const char *s)
{
    int port = 0, digits = 0;
    for (; *s >= '0' && *s <= '9' && digits < 6; s++, digits++) port = port * 10 + (*s - '0');
    return *s == '\0' && digits > 0 && port > 0 && port < 65536 ? port : 0;
}

/* The longest host name taken from a Host header. */
#define HOST_MAX 255

/*
 * Split a Host header value into host and port ("h", "h:80", "[::1]:80"):
 * the host is the *addr[0..n) returned (inside host), 0 when there is none.
 */
static size_t parse_host(const char *host, const char **addr, int *port)
{
    const char *end, *colon;
    size_t n;

    *port = 0;
    if (host == NULL) return 0;
    if (host[0] == '[') {
        host++;
        end = strchr(host, ']');
        if (end == NULL) return 0;
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        colon = strrchr(host, ':');
        end = colon ? colon : host + strlen(host);
    }
    n = (size_t)(end - host);
    if (n == 0 || n > HOST_MAX) return 0;
    *addr = host;
    if (colon != NULL) *port = parse_port(colon + 1);
    return n;
}

static int default_port(const char *scheme)
{
    if (scheme == NULL) return 0;
    if (strcmp(scheme, "http") == 0) return 80;
    if (strcmp(scheme, "https") == 0) return 443;
    return 0;
}

static const char *header(const otelc_carrier *c, const char *name)
{
    return c != NULL && c->get != NULL ? c->get(c->self, name) : NULL;
}

/*
 * A span's attributes as the request gives them. Every key is one of the
 * semantic conventions' string literals, kept with its length and bit,
 * both constants: the span keeps the literal itself
 * (otelc__span_put_static_attrs), so no key is measured, hashed or copied
 * per request.
 */
#define ATTRS_MAX 16

/*
 * A span's attributes: set on span one by one, or, when span is NULL,
 * gathered and then set in one call (put_gathered: a start's dozen) or
 * given to the start options, where a sampler or processor that sees
 * them asks for them.
 */
typedef struct attr_list {
    otelc_span *span;
    otelc_attr items[ATTRS_MAX];
    otelc_static_key keys[ATTRS_MAX]; /* each item's key's bit and length */
    size_t count;
} attr_list;

/* What a server span's end adds, at most: room is made for them at its start. */
#define FINISH_ATTRS 4

static void put_gathered(otelc_span *span, const attr_list *l, size_t extra)
{
    otelc__span_put_static_attrs(span, l->items, l->keys, l->count, extra);
}

/* Only string literals as keys, under 256 bytes: sizeof is their length, their bits constants. */
#define STATIC_KEY(key)                                                                            \
    ((otelc_static_key){OTELC__KEY_BIT_OF(key, sizeof(key "") - 1),                                \
                        sizeof(key "") - 1 + 0 * sizeof(char[sizeof(key "") <= 256 ? 1 : -1])})
#define add_str(l, key, value)       add_str_key(l, key, STATIC_KEY(key), value)
#define add_strn(l, key, value, len) add_strn_key(l, key, STATIC_KEY(key), value, len)
#define add_int(l, key, value)       add_int_key(l, key, STATIC_KEY(key), value)
/* A value that outlives every span (a static string): kept, not copied, by a gathered list. */
#define add_static_strn(l, key, value, len)                                                        \
    add_strn_key(l, key, static_value(STATIC_KEY(key)), value, len)

static otelc_static_key static_value(otelc_static_key k)
{
    k.len |= OTELC_STATIC_VALUE;
    return k;
}

/* value, len bytes long (not empty). */
static void add_strn_key(attr_list *l, const char *key, otelc_static_key k, const char *value,
                         size_t len)
{
    if (l->span != NULL) {
        k.len &= ~OTELC_STATIC_VALUE;
        otelc__span_put_static_str(l->span, key, k, value, len);
        return;
    }
    if (l->count >= ATTRS_MAX) return;
    l->keys[l->count] = k;
    l->items[l->count++] = (otelc_attr){key, {.type = OTELC_VALUE_STRING, .u.str = {value, len}}};
}

static void add_str_key(attr_list *l, const char *key, otelc_static_key k, const char *value)
{
    if (value != NULL && *value != '\0') add_strn_key(l, key, k, value, strlen(value));
}

static void add_int_key(attr_list *l, const char *key, otelc_static_key k, int64_t value)
{
    if (l->span != NULL) {
        otelc__span_put_static_int(l->span, key, k, value);
        return;
    }
    if (l->count >= ATTRS_MAX) return;
    l->keys[l->count] = k;
    l->items[l->count++] = OTELC_ATTR_INT(key, value);
}

/* The server.address/port pair: the Host header first, then the caller's. */
static void add_server(attr_list *l, const otelc_carrier *headers, const otelc_server_request *r)
{
    int port = 0;
    const char *addr = NULL;
    size_t n = parse_host(header(headers, "host"), &addr, &port);

    if (n > 0) {
        add_strn(l, OTELC_SERVER_ADDRESS, addr, n);
        /* "Host: example.com" names the scheme's default port. */
        if (port == 0) port = default_port(r->scheme);
    } else {
        add_str(l, OTELC_SERVER_ADDRESS, r->server_address);
        port = r->server_port;
    }
    if (port > 0) add_int(l, OTELC_SERVER_PORT, port);
}

/*
 * m, from otelc_http_method_normalize(), is "_OTHER" (the conventions' value
 * for a method they do not know): every known method is upper-case letters.
 */
static bool is_other(const char *m)
{
    return m[0] == '_';
}

/* m, m_len bytes long, is method normalised. */
static void add_method(attr_list *l, const char *m, size_t m_len, const char *method)
{
    add_static_strn(l, OTELC_HTTP_REQUEST_METHOD, m, m_len);
    if (is_other(m)) add_str(l, OTELC_HTTP_REQUEST_METHOD_ORIGINAL, method);
}

/* The length of one of otelc_http_protocol_version()'s answers: three letters at most. */
static size_t short_len(const char *s)
{
    return s[0] == '\0' ? 0 : s[1] == '\0' ? 1 : s[2] == '\0' ? 2 : 3;
}

/* The attributes a server span starts with; query holds its string. */
static void request_attributes(attr_list *l, const otelc_server_request *r, const char *method,
                               size_t method_len, const otelc_carrier *headers, const char *query)
{
    const char *version = otelc_http_protocol_version(r->protocol_version);
    size_t version_len = version ? short_len(version) : 0;
    const char *ua = r->user_agent ? r->user_agent : header(headers, "user-agent");

    add_method(l, method, method_len, r->method);
    add_str(l, OTELC_URL_PATH, r->path);
    add_str(l, OTELC_URL_QUERY, query);
    add_str(l, OTELC_URL_SCHEME, r->scheme);
    add_str(l, OTELC_HTTP_ROUTE, r->route);
    if (version != NULL)
        add_static_strn(l, OTELC_NETWORK_PROTOCOL_VERSION, version, version_len);
    else
        add_str(l, OTELC_NETWORK_PROTOCOL_VERSION, r->protocol_version);
    add_str(l, OTELC_CLIENT_ADDRESS, r->client_address);
    add_str(l, OTELC_USER_AGENT_ORIGINAL, ua);
    add_server(l, headers, r);
}

/*
 * The name of a span for method m (normalised, m_len bytes long), and its
 * length into *len: "{m} {route}" or, with no route, m itself.
 */
static const char *span_name(const char *m, size_t m_len, const char *route, char *buf, size_t size,
                             size_t *len)
{
    if (route == NULL || *route == '\0') {
        if (is_other(m)) {
            *len = 4;
            return "HTTP";
        }
        *len = m_len;
        return m;
    }
    size_t n = otelc_http_span_name(m, route, buf, size);
    *len = n < size ? n : size - 1; /* cut to the buffer */
    return buf;
}

/* No span id: nothing came in, and the span is a root without checking more. */
static bool has_parent(const otelc_context *ctx)
{
    uint64_t id;
    memcpy(&id, ctx->sc.span_id, sizeof id);
    return id != 0;
}

/*
 * The request's attributes into l, after its describe callback filled in
 * the rest of a copy (the attributes keep the strings, not the copy).
 */
static void describe(attr_list *l, const otelc_server_request *req, const char *method,
                     size_t method_len, const otelc_carrier *headers, char **query)
{
    otelc_server_request r = *req;
    if (r.describe != NULL) r.describe(&r, r.describe_arg);
    *query = otelc_redact_query_dup(r.query);
    request_attributes(l, &r, method, method_len, headers, *query);
}

/*
 * The span gets the request's attributes at its start, where a sampler or a
 * processor's on_start can see them. When nothing would (the built-in
 * samplers decide without them), they are worked out only for a span that
 * records: an unsampled request then skips the header lookups, the copies
 * and the request's describe callback.
 */
static OTELC_ALWAYS_INLINE otelc_span *
start_span(otelc_tracer *tracer, const otelc_server_request *req, const char *method,
           size_t method_len, const otelc_carrier *headers, const otelc_context *parent)
{
    char name_buf[256], *query = NULL;
    const char *name;
    size_t name_len;
    attr_list l;
    otelc_span *span;

    if (parent != NULL && !has_parent(parent)) parent = NULL;
    l.span = NULL;
    l.count = 0; /* not an initialiser, which would zero all 16 items first */
    name = span_name(method, method_len, req->route, name_buf, sizeof name_buf, &name_len);
    if (otelc__tracer_sees_start_attributes(tracer)) {
        otelc_span_options o = {
            .kind = OTELC_SPAN_SERVER,
            .parent = parent,
            .root = parent == NULL,
            .start_ns = req->start_ns,
        };
        describe(&l, req, method, method_len, headers, &query);
        o.attrs = l.items;
        o.attr_count = l.count;
        span = otelc__span_start(tracer, name, name_len, OTELC_SPAN_INTERNAL, &o);
    } else {
        span = otelc__span_start_server(tracer, name, name_len, parent, req->start_ns);
        if (otelc__span_records(span)) {
            describe(&l, req, method, method_len, headers, &query);
            put_gathered(span, &l, FINISH_ATTRS);
        }
    }
    if (query != NULL) free(query);
    return span;
}

otelc_server_span *otelc__server_start_lettered(otelc_tracer *tracer, const otelc_carrier *headers,
                                                const otelc_server_request *req, size_t room,
                                                uint64_t letters)
{
    otelc_server_span *s;

    if (req == NULL || req->method == NULL || room > SIZE_MAX - sizeof *s) return NULL;
    s = handle_alloc(sizeof *s + room);
    if (s == NULL) return NULL;
    *s = (otelc_server_span){.size = s->size};
    if (tracer == NULL) tracer = otelc_tracer_get("otelc.instrument.server", OTELC_VERSION);
    /* An empty context, not the thread's: a request starts its own work. */
    s->ctx = headers ? otelc__extract_lettered(headers, letters) : otelc__context_empty();
    s->method = otelc__http_method_normalize_len(req->method, &s->method_len);
    s->span = start_span(tracer, req, s->method, s->method_len, headers, s->ctx);
    return s;
}

otelc_server_span *otelc_server_start_with_room(otelc_tracer *tracer, const otelc_carrier *headers,
                                                const otelc_server_request *req, size_t room)
{
    return otelc__server_start_lettered(tracer, headers, req, room, UINT64_MAX);
}

otelc_server_span *otelc_server_start(otelc_tracer *tracer, const otelc_carrier *headers,
                                      const otelc_server_request *req)
{
    return otelc_server_start_with_room(tracer, headers, req, 0);
}

void *otelc_server_room(otelc_server_span *s)
{
    return s ? otelc__server_room(s) : NULL;
}

otelc_span *otelc_server_span_get(otelc_server_span *s)
{
    return s ? s->span : NULL;
}

void otelc_server_set_route(otelc_server_span *s, const char *route)
{
    char name[256];

    if (s == NULL || route == NULL || *route == '\0') return;
    otelc_http_span_name(s->method, route, name, sizeof name);
    otelc_span_update_name(s->span, name);
    otelc__span_put_static_str(s->span, OTELC_HTTP_ROUTE, STATIC_KEY(OTELC_HTTP_ROUTE), route,
                               strlen(route));
}

void otelc_server_enter(otelc_server_span *s)
{
    if (s != NULL) otelc__server_enter(s);
}

void otelc_server_leave(otelc_server_span *s)
{
    if (s != NULL) otelc__server_leave(s);
}

void otelc_server_add_request_body(otelc_server_span *s, uint64_t n)
{
    if (s != NULL) otelc__server_add_request_body(s, n);
}

void otelc_server_add_response_body(otelc_server_span *s, uint64_t n)
{
    if (s != NULL) otelc__server_add_response_body(s, n);
}

int otelc_server_traceresponse(const otelc_server_span *s, char out[56])
{
    otelc_span_context sc;

    out[0] = '\0';
    if (s == NULL) return 0;
    sc = otelc_span_get_context(s->span);
    if (!otelc_span_context_is_valid(&sc)) return 0;
    return otelc_traceparent_format(&sc, out);
}

/*
 * What the response tells, into l: its status code and, by the server
 * rule (only 5xx or an explicit failure is the server's error), the
 * error's type, whose text goes to code when the status gives it. True
 * when the span's status is an error.
 */
static bool add_outcome(attr_list *l, int status_code, const char *error_type, char code[16])
{
    if (status_code > 0) add_int(l, OTELC_HTTP_RESPONSE_STATUS_CODE, status_code);
    if (error_type == NULL && status_code >= 500 && status_code <= 599) {
        snprintf(code, 16, "%d", status_code);
        error_type = code;
    }
    if (error_type == NULL) return false;
    add_str(l, OTELC_ERROR_TYPE, error_type);
    return true;
}

void otelc_server_finish(otelc_server_span *s, int status_code, const char *error_type)
{
    if (s == NULL) return;
    otelc_server_leave(s);
    if (otelc__span_records(s->span)) { /* an unsampled span keeps none of it */
        attr_list l;
        char code[16];
        l.span = s->span; /* two or three: one by one costs less */
        l.count = 0;
        if (s->has_req_body) add_int(&l, OTELC_HTTP_REQUEST_BODY_SIZE, (int64_t)s->req_body);
        if (s->has_resp_body) add_int(&l, OTELC_HTTP_RESPONSE_BODY_SIZE, (int64_t)s->resp_body);
        if (add_outcome(&l, status_code, error_type, code))
            otelc_span_set_status(s->span, OTELC_STATUS_ERROR, NULL);
    }
    otelc_span_end(s->span);
    if (s->ctx != otelc__context_empty()) otelc_context_release(s->ctx); /* most requests' */
    handle_free(s);
}
