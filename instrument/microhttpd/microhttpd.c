/*
 * microhttpd.c - SERVER spans for libmicrohttpd, as a thin adapter over the
 * generic server helper (include/otelc/instrument/server.h): this file only
 * reads what MHD knows about a request and maps MHD's handler protocol onto
 * start / enter / leave / finish.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "otelc/otelc.h"
#include "otelc/instrument/microhttpd.h"
#include "microhttpd_calls.h"
#include "instrumentation/server_span.h"

#define SCOPE_NAME "otelc.instrument.microhttpd"
#define QUERY_MAX  8192

/* What a daemon tells every request the same: read once, for the first daemon served. */
enum { FACTS_EMPTY, FACTS_WRITING, FACTS_READY };

struct otelc_mhd {
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    otelc_mhd_options opts;
    _Atomic int facts_state;
    struct MHD_Daemon *facts_daemon;
    const char *scheme;
    int port;
};

/* What the wrapper keeps in MHD's *con_cls for one request: in its server span's room. */
typedef struct request {
    otelc_mhd *wrapper;
    struct MHD_Connection *connection;
    otelc_server_span *server;
    void *user_cls; /* the application's *con_cls */
    unsigned int status;
} request;

/*
 * Thread-local state read on every request, 24 bytes: initial-exec, so a
 * shared libotelc-microhttpd reaches it without a __tls_get_addr() call.
 */
#if defined(__GNUC__)
#define HOT_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define HOT_TLS _Thread_local
#endif

/* The request whose handler runs on this thread, for set_route and friends
 * (MHD passes them no per-request pointer of ours). */
static HOT_TLS request *running;

/* ---- Request headers as a carrier ------------------------------------- */

/*
 * The propagators and the server helper ask for up to five headers
 * (traceparent, tracestate, baggage, Host, User-Agent), each of which
 * MHD_lookup_connection_value() would find by walking the whole list: one
 * walk keeps every header instead, and the lookups scan that array. A
 * request with more headers than fit is looked up in MHD itself.
 */
#define HEADERS_MAX 24

typedef struct header {
    const char *key;
    size_t key_len;
    const char *value;
} header;

typedef struct headers {
    struct MHD_Connection *connection;
    size_t count;     /* above HEADERS_MAX: ask MHD */
    uint64_t letters; /* letter_bit() of every name's first character */
    const char *host; /* the first Host header's value: every span asks for it */
    header items[HEADERS_MAX];
} headers;

/* The four bytes of s (at least four long) as one word, each letter in lower case. */
static uint32_t lower4(const char *s)
{
    uint32_t w;
    memcpy(&w, s, 4);
    return w | 0x20202020u;
}

/*
 * name, len bytes long, is "host" in any case: or'ing 0x20 makes 'h' only
 * of 'H' and 'h', and so for each letter of it.
 */
static bool is_host(const char *name, size_t len)
{
    static const char host[4] = {'h', 'o', 's', 't'};
    uint32_t want;
    memcpy(&want, host, 4);
    return len == 4 && lower4(name) == want;
}

/*
 * A name's first character, case aside, as one of 64 bits: a lookup of a
 * name whose bit no header has is over at once. Most requests carry no
 * trace context, and every propagator asks for its headers anyway.
 */
static uint64_t letter_bit(const char *name)
{
    return OTELC__HEADER_LETTER(name[0]);
}

static otelc_mhd_result keep_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_len, const char *value, size_t value_len)
{
    headers *h = cls;

    (void)kind, (void)value_len;
    if (key == NULL || value == NULL) return MHD_YES;
    if (h->count < HEADERS_MAX) h->items[h->count] = (header){key, key_len, value};
    h->count++;
    h->letters |= letter_bit(key);
    if (h->host == NULL && is_host(key, key_len)) h->host = value;
    return MHD_YES;
}

static void headers_read(headers *h, struct MHD_Connection *c)
{
    h->connection = c;
    h->count = 0;
    h->letters = 0;
    h->host = NULL;
    MHD(MHD_get_connection_values_n)(c, MHD_HEADER_KIND, keep_header, h);
}

/*
 * The header is named key (NUL-terminated), ASCII letters regardless of
 * case (strcasecmp, without the call or measuring key first). The first
 * letters are compared first, where most candidates differ; key is read
 * no further than its NUL.
 */
static bool header_is(const header *item, const char *key)
{
    size_t n = item->key_len;

    if ((item->key[0] | 0x20) != (key[0] | 0x20)) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)item->key[i], b = (unsigned char)key[i];
        if (a == b) {
            if (b == '\0') return false;
            continue;
        }
        if ((a | 0x20) != (b | 0x20) || (unsigned)((a | 0x20) - 'a') > 'z' - 'a') return false;
    }
    return key[n] == '\0';
}

typedef struct collect {
    const char *key; /* NULL: collect names */
    const char **out;
    size_t max, count;
} collect;

static otelc_mhd_result collect_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    collect *c = cls;

    if (key == NULL || (c->key != NULL && (value == NULL || strcasecmp(key, c->key) != 0)))
        return MHD_YES;
    if (c->count < c->max) c->out[c->count] = c->key ? value : key;
    c->count++;
    return MHD_YES;
}

static const char *carrier_get(void *self, const char *key)
{
    const headers *h = self;

    if (!(h->letters & letter_bit(key))) return NULL;
    /* The server helper asks every request for its Host: kept by the walk. */
    if (h->host != NULL && key[0] != '\0' && key[1] != '\0' && key[2] != '\0' && key[3] != '\0' &&
        key[4] == '\0' && is_host(key, 4))
        return h->host;
    if (h->count > HEADERS_MAX)
        return MHD(MHD_lookup_connection_value)(h->connection, MHD_HEADER_KIND, key);
    for (size_t i = 0; i < h->count; i++)
        if (header_is(&h->items[i], key)) return h->items[i].value;
    return NULL;
}

/* Every value of key: lets the propagator reject duplicate traceparents. */
static size_t carrier_get_all(void *self, const char *key, const char **values, size_t max)
{
    const headers *h = self;
    size_t found = 0;

    if (!(h->letters & letter_bit(key))) return 0;
    if (h->count > HEADERS_MAX) {
        collect c = {key, values, max, 0};
        MHD(MHD_get_connection_values)(h->connection, MHD_HEADER_KIND, collect_one, &c);
        return c.count;
    }
    for (size_t i = 0; i < h->count; i++) {
        if (!header_is(&h->items[i], key)) continue;
        if (found < max) values[found] = h->items[i].value;
        found++;
    }
    return found;
}

static size_t carrier_keys(void *self, const char **names, size_t max)
{
    const headers *h = self;

    if (h->count > HEADERS_MAX) {
        collect c = {NULL, names, max, 0};
        MHD(MHD_get_connection_values)(h->connection, MHD_HEADER_KIND, collect_one, &c);
        return c.count;
    }
    for (size_t i = 0; i < h->count && i < max; i++) names[i] = h->items[i].key;
    return h->count;
}

/* ---- What MHD knows about the request ---------------------------------- */

typedef struct strbuf {
    char buf[QUERY_MAX];
    size_t len;
    bool truncated;
} strbuf;

static void sb_putc(strbuf *b, char c)
{
    if (b->len + 1 < sizeof b->buf)
        b->buf[b->len++] = c;
    else
        b->truncated = true;
}

/* MHD hands out decoded arguments; encode them back for url.query. */
static void sb_put_encoded(strbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~/:@!$'()*,", c) != NULL) {
            sb_putc(b, (char)c);
        } else {
            sb_putc(b, '%');
            sb_putc(b, hex[c >> 4]);
            sb_putc(b, hex[c & 15]);
        }
    }
}

static otelc_mhd_result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    strbuf *b = cls;

    if (key == NULL) return MHD_YES;
    if (b->len > 0) sb_putc(b, '&');
    sb_put_encoded(b, key);
    if (value != NULL) {
        sb_putc(b, '=');
        sb_put_encoded(b, value);
    }
    return MHD_YES;
}

/* The query string rebuilt from MHD's parsed arguments, or NULL if none.
 * A truncated query is dropped rather than cut inside a secret's value. */
static const char *rebuild_query(struct MHD_Connection *c, strbuf *b)
{
    b->len = 0;
    b->truncated = false;
    MHD(MHD_get_connection_values)(c, MHD_GET_ARGUMENT_KIND, query_one, b);
    b->buf[b->len] = '\0';
    return b->len > 0 && !b->truncated ? b->buf : NULL;
}

/* Dotted quad without inet_ntop, which costs more than the rest of the request's attributes. */
static const char *ipv4_text(const struct in_addr *a, char *out, size_t size)
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;
    char *p = out;
    if (size < INET_ADDRSTRLEN) return NULL;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100) *p++ = (char)('0' + v / 100);
        if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
    return out;
}

static const char *client_address(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD(MHD_get_connection_info)(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    if (sa == NULL) return NULL;
    if (sa->sa_family == AF_INET)
        return ipv4_text(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, size);
    if (sa->sa_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                         (socklen_t)size);
    return NULL;
}

static struct MHD_Daemon *daemon_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD(MHD_get_connection_info)(c, MHD_CONNECTION_INFO_DAEMON);
    return ci ? ci->daemon : NULL;
}

static int listen_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *di =
        d ? MHD(MHD_get_daemon_info)(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    return di ? di->port : 0;
}

static const char *scheme_of(const otelc_mhd *w, struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *di;

    if (w->opts.scheme != NULL) return w->opts.scheme;
    di = d ? MHD(MHD_get_daemon_info)(d, MHD_DAEMON_INFO_FLAGS) : NULL;
    return di != NULL && (di->flags & MHD_USE_TLS) ? "https" : "http";
}

/*
 * url.scheme and the listening port, the same for every request of a
 * daemon: kept for the first daemon the wrapper serves (the usual one
 * wrapper per daemon), asked of MHD for any other.
 */
static void daemon_facts(otelc_mhd *w, struct MHD_Daemon *d, otelc_server_request *r)
{
    int state = atomic_load_explicit(&w->facts_state, memory_order_acquire);

    if (state == FACTS_READY && w->facts_daemon == d) {
        r->scheme = w->scheme;
        r->server_port = w->port;
        return;
    }
    r->scheme = scheme_of(w, d);
    r->server_port = listen_port(d);
    if (state != FACTS_EMPTY || d == NULL ||
        !atomic_compare_exchange_strong(&w->facts_state, &state, FACTS_WRITING))
        return;
    w->facts_daemon = d;
    w->scheme = r->scheme;
    w->port = r->server_port;
    atomic_store_explicit(&w->facts_state, FACTS_READY, memory_order_release);
}

/* What otelc_server_start() asks for only when the span's attributes are needed. */
typedef struct details {
    otelc_mhd *wrapper;
    struct MHD_Connection *connection;
    char addr[INET6_ADDRSTRLEN];
    strbuf *query; /* on the heap: 8 KiB is too much for small MHD stacks */
} details;

static void describe_request(otelc_server_request *r, void *arg)
{
    details *d = arg;

    daemon_facts(d->wrapper, daemon_of(d->connection), r);
    r->client_address = client_address(d->connection, d->addr, sizeof d->addr);
    /* Counted first: most requests have no query and skip the allocation. */
    if (MHD(MHD_get_connection_values)(d->connection, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0 &&
        (d->query = malloc(sizeof *d->query)) != NULL)
        r->query = rebuild_query(d->connection, d->query);
}

/*
 * The wrapper's tracer: a lookup by name costs a tenth of an unsampled
 * request, so each thread keeps the one it found for the global provider.
 * A provider stays allocated once it has been global (see
 * otelc_provider_set_global), so a pointer equal to the current one is it.
 */
static otelc_tracer *wrapper_tracer(void)
{
    static HOT_TLS otelc_provider *provider;
    static HOT_TLS otelc_tracer *tracer;
    otelc_provider *p = otelc_provider_global();

    if (tracer == NULL || p != provider) {
        tracer = otelc_provider_tracer(p, SCOPE_NAME, OTELC_VERSION, NULL);
        provider = p;
    }
    return tracer;
}

static request *request_start(otelc_mhd *w, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version)
{
    headers h;
    otelc_carrier carrier = {&h, carrier_get, carrier_get_all, NULL, carrier_keys};
    details d; /* not an initialiser, which would zero addr first */
    otelc_server_request sr = {
        .method = method,
        .path = url,
        .protocol_version = version,
        .describe = describe_request,
        .describe_arg = &d,
    };
    otelc_server_span *s;
    request *r;

    d.wrapper = w;
    d.connection = c;
    d.query = NULL;
    headers_read(&h, c);
    s = otelc__server_start_lettered(wrapper_tracer(), &carrier, &sr, sizeof *r, h.letters);
    if (d.query != NULL) free(d.query); /* most requests have none: no call */
    if (s == NULL) return NULL;
    r = otelc__server_room(s);
    *r = (request){.wrapper = w, .connection = c, .server = s};
    return r;
}

/* ---- The wrapper ------------------------------------------------------- */

otelc_mhd *otelc_mhd_new(MHD_AccessHandlerCallback handler, void *handler_cls,
                         const otelc_mhd_options *opts)
{
    otelc_mhd *w;

    if (handler == NULL) return NULL;
    w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    w->handler = handler;
    w->handler_cls = handler_cls;
    if (opts != NULL) w->opts = *opts;
    return w;
}

void otelc_mhd_free(otelc_mhd *w)
{
    free(w);
}

otelc_mhd_result otelc_mhd_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    otelc_mhd *w = cls;
    request *r = *con_cls, *outer = running;
    size_t before = upload_data_size ? *upload_data_size : 0;
    otelc_mhd_result res;

    if (r == NULL) {
        /* First call for this request: MHD has parsed the headers. */
        r = request_start(w, connection, url, method, version);
        if (r == NULL) return MHD_NO;
        *con_cls = r;
    }
    running = r;
    otelc__server_enter(r->server);
    res = w->handler(w->handler_cls, connection, url, method, version, upload_data,
                     upload_data_size, &r->user_cls);
    otelc__server_leave(r->server);
    running = outer;
    /* The handler reports what it consumed by lowering *upload_data_size. */
    if (upload_data_size != NULL && before > *upload_data_size)
        otelc__server_add_request_body(r->server, before - *upload_data_size);
    return res;
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "MHD_REQUEST_TERMINATED_WITH_ERROR";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "MHD_REQUEST_TERMINATED_TIMEOUT_REACHED";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "MHD_REQUEST_TERMINATED_READ_ERROR";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "MHD_REQUEST_TERMINATED_CLIENT_ABORT";
    default:
        return "_OTHER";
    }
}

/* The status MHD sent, when the application queued it without our help. */
static unsigned int queued_status(struct MHD_Connection *c)
{
#if MHD_VERSION >= 0x00097500
    const union MHD_ConnectionInfo *ci =
        MHD(MHD_get_connection_info)(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    return ci ? ci->http_status : 0;
#else
    return 0;
#endif
}

void otelc_mhd_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    otelc_mhd *w = cls;
    request *r = con_cls ? *con_cls : NULL;

    if (r == NULL) {
        if (w->opts.completed) w->opts.completed(w->opts.completed_cls, connection, con_cls, toe);
        return;
    }
    if (w->opts.completed) w->opts.completed(w->opts.completed_cls, connection, &r->user_cls, toe);
    if (r->status == 0) r->status = queued_status(connection);
    *con_cls = NULL;
    otelc_server_finish(r->server, (int)r->status, termination_name(toe)); /* frees r */
}

/* The running request if it belongs to connection. */
static request *running_for(struct MHD_Connection *c)
{
    return running != NULL && running->connection == c ? running : NULL;
}

void otelc_mhd_set_route(struct MHD_Connection *connection, const char *route)
{
    request *r = running_for(connection);
    if (r != NULL) otelc_server_set_route(r->server, route);
}

otelc_server_span *otelc_mhd_current(struct MHD_Connection *connection)
{
    request *r = running_for(connection);
    return r ? r->server : NULL;
}

/* Replace any earlier value: a response reused for a later request must not
 * carry two traceresponse headers. */
static void add_traceresponse(request *r, struct MHD_Response *response)
{
    char value[56];
    const char *old = MHD(MHD_get_response_header)(response, "traceresponse");

    if (old != NULL) {
        char copy[64];
        snprintf(copy, sizeof copy, "%s", old);
        MHD(MHD_del_response_header)(response, "traceresponse", copy);
    }
    if (otelc_server_traceresponse(r->server, value) > 0)
        MHD(MHD_add_response_header)(response, "traceresponse", value);
}

otelc_mhd_result otelc_mhd_queue_response(struct MHD_Connection *connection,
                                          unsigned int status_code, struct MHD_Response *response,
                                          int64_t body_size)
{
    request *r = running_for(connection);

    if (r != NULL) {
        r->status = status_code;
        if (body_size >= 0) otelc__server_add_response_body(r->server, (uint64_t)body_size);
        if (r->wrapper->opts.traceresponse && response != NULL) add_traceresponse(r, response);
    }
    return MHD(MHD_queue_response)(connection, status_code, response);
}
