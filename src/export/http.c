/*
 * http.c - the HTTP transport of the network exporters, on libcurl.
 *
 * One easy handle per exporter, kept for the exporter's life: libcurl keeps
 * the connection (and for HTTP/2 the session) open between exports, so a
 * steady stream of batches costs one TCP/TLS handshake, not one per batch.
 * The handle is only used from the exporting thread (exports of one
 * exporter are never concurrent), so it needs no lock.
 *
 * libcurl is told never to use signals (CURLOPT_NOSIGNAL): an SDK must not
 * install handlers or have alarms delivered into the host program. Proxies
 * come from libcurl's own handling of http_proxy/https_proxy/no_proxy.
 *
 * libcurl is not linked but loaded with dlopen by the first exporter that
 * needs it: with its ~30 dependencies it cost every program linking
 * libotelc ~6 ms at start-up, exporting over the network or not.
 * <curl/curl.h> supplies types and constants only; every call goes through
 * the function table below.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

/* retry.c names these libcurl codes by number; keep them honest. */
_Static_assert(CURLE_UNSUPPORTED_PROTOCOL == 1 && CURLE_URL_MALFORMAT == 3 &&
                   CURLE_SSL_CERTPROBLEM == 58 && CURLE_PEER_FAILED_VERIFICATION == 60 &&
                   CURLE_SSL_CACERT_BADFILE == 77 && CURLE_SSL_ISSUER_ERROR == 83,
               "libcurl error codes changed");
#include <zlib.h>

#include "export/otlp.h"

/* More sockets than one exporter's single connection (and a happy-eyeballs twin) needs. */
#define MAX_SOCKETS 8

struct otelc_http {
    CURL *curl; /* NULL in a fork child until its first request makes its own */
    struct curl_slist *headers;
    otelc_http_response *resp; /* the response being filled by the callbacks */
    const otelc_body *body;    /* the request being sent */
    _Atomic bool *cancel;
    bool add_failed;
    /* Kept to make a fresh handle in a fork child: */
    char *url, *ca_file, *client_key, *client_cert;
    bool http2;
    /* The sockets libcurl has open for this handle, for a fork child to close. */
    struct {
        curl_socket_t fd;
        ino_t ino; /* so that a number reused for another file is left alone */
    } sockets[MAX_SOCKETS];
    int nsockets;
};

/* ---- Loading libcurl ------------------------------------------------------- */

/* The libcurl functions this file calls, resolved from libcurl.so.4. */
static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *c);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    curl_version_info_data *(*version_info)(CURLversion v);
} lc;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool lc_loaded;
static CURLcode global_rc;

/* POSIX guarantees that dlsym's void * converts to a function pointer. */
#define RESOLVE(lib, field, name) ((lc.field = (__typeof__(lc.field))dlsym(lib, name)) != NULL)

static bool resolve_all(void *lib)
{
    return RESOLVE(lib, global_init, "curl_global_init") &&
           RESOLVE(lib, easy_init, "curl_easy_init") &&
           RESOLVE(lib, easy_setopt, "curl_easy_setopt") &&
           RESOLVE(lib, easy_perform, "curl_easy_perform") &&
           RESOLVE(lib, easy_getinfo, "curl_easy_getinfo") &&
           RESOLVE(lib, easy_cleanup, "curl_easy_cleanup") &&
           RESOLVE(lib, easy_strerror, "curl_easy_strerror") &&
           RESOLVE(lib, slist_append, "curl_slist_append") &&
           RESOLVE(lib, slist_free_all, "curl_slist_free_all") &&
           RESOLVE(lib, version_info, "curl_version_info");
}

#undef RESOLVE

/*
 * Runs once per process (pthread_once), so the failure is logged once and
 * curl_global_init, not thread-safe in older libcurl, runs before any
 * handle exists. Neither is ever undone: dlclose or curl_global_cleanup
 * would pull the ground from under any other libcurl user in the process
 * (dlopen of an already loaded libcurl returns that same library).
 */
static void load_libcurl(void)
{
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib || !resolve_all(lib)) {
        otelc__log(OTELC_LOG_ERROR,
                   "libcurl not found: OTLP/HTTP, gRPC and Zipkin export unavailable");
        return;
    }
    global_rc = lc.global_init(CURL_GLOBAL_DEFAULT);
    lc_loaded = true;
}

/* ---- Headers ----------------------------------------------------------------- */

static void add_line(struct otelc_http *h, const char *line)
{
    struct curl_slist *n = lc.slist_append(h->headers, line);
    if (!n) {
        h->add_failed = true;
        return;
    }
    h->headers = n;
}

/* A user header "key: value"; values stay out of every log message. */
static void add_user_header(void *ctx, const char *key, const char *value)
{
    struct otelc_http *h = ctx;
    size_t n = strlen(key) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line) {
        h->add_failed = true;
        return;
    }
    /* "key;" is libcurl's way to send a header with an empty value. */
    if (*value)
        snprintf(line, n, "%s: %s", key, value);
    else
        snprintf(line, n, "%s;", key);
    add_line(h, line);
    free(line);
}

static bool build_headers(struct otelc_http *h, const otelc_http_config *c)
{
    for (const char *const *l = c->fixed_headers; l && *l; l++) add_line(h, *l);
    /* libcurl would wait for a "100 Continue" before sending larger bodies. */
    add_line(h, "Expect:");
    /* Malformed entries are skipped (and reported without their values). */
    if (c->user_headers && !otelc__otlp_parse_headers(c->user_headers, add_user_header, h))
        otelc__log(OTELC_LOG_WARN,
                   "OTLP exporter: malformed entries in the headers setting skipped");
    return !h->add_failed;
}

/* ---- Callbacks ---------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct otelc_http *h = ud;
    size_t n = size * nmemb;
    otelc_buf *b = &h->resp->body;
    size_t room = b->len < OTELC_HTTP_BODY_MAX ? OTELC_HTTP_BODY_MAX - b->len : 0;
    otelc__buf_append(b, p, n < room ? n : room);
    return n; /* the excess is dropped, not an error: the verdict is in the status */
}

/* A streamed request body: libcurl asks for the next bytes. */
static size_t on_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    const otelc_body *b = ((struct otelc_http *)ud)->body;
    return b->read ? b->read(b->ctx, dst, size * nmemb) : 0;
}

/* libcurl resends from the start when a reused connection turns out dead. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    const otelc_body *b = ((struct otelc_http *)ud)->body;
    if (offset != 0 || origin != SEEK_SET || !b->rewind) return CURL_SEEKFUNC_CANTSEEK;
    b->rewind(b->ctx);
    return CURL_SEEKFUNC_OK;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int hexval(int c)
{
    if (isdigit(c)) return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* grpc-message is percent-encoded by the server. */
static void copy_percent_decoded(char *dst, size_t cap, const char *v, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        int hi, lo;
        if (v[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)v[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)v[i + 2])) >= 0) {
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[o++] = v[i];
        }
    }
    dst[o] = '\0';
}

static bool header_is(const char *line, size_t name_len, const char *name)
{
    return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

/* A new status line (after "100 Continue", or a redirect) restarts the capture. */
static void reset_captured(otelc_http_response *r)
{
    r->grpc_status = -1;
    r->grpc_message[0] = r->retry_after[0] = r->status_details[0] = '\0';
}

/*
 * Headers and, for HTTP/2, trailers arrive here one line at a time: gRPC's
 * grpc-status usually comes in the trailers.
 */
static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    struct otelc_http *h = ud;
    otelc_http_response *r = h->resp;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        reset_captured(r);
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) return n;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    size_t vn = (size_t)(end - v);
    if (header_is(line, name_len, "grpc-status")) {
        char num[8];
        copy_value(num, sizeof num, v, vn);
        r->grpc_status = isdigit((unsigned char)num[0]) ? atoi(num) : 2 /* UNKNOWN */;
    } else if (header_is(line, name_len, "grpc-message")) {
        copy_percent_decoded(r->grpc_message, sizeof r->grpc_message, v, vn);
    } else if (header_is(line, name_len, "grpc-status-details-bin")) {
        /* A truncated value would decode to garbage: keep it only whole. */
        if (vn < sizeof r->status_details)
            copy_value(r->status_details, sizeof r->status_details, v, vn);
    } else if (header_is(line, name_len, "retry-after")) {
        copy_value(r->retry_after, sizeof r->retry_after, v, vn);
    }
    return n;
}

/* Called about once a second during a transfer: the shutdown path's way in. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct otelc_http *h = ud;
    (void)dt, (void)dn, (void)ut, (void)un;
    return h->cancel && atomic_load_explicit(h->cancel, memory_order_relaxed);
}

/*
 * libcurl opens and closes its sockets through these two, so the handle
 * knows which descriptors are its own when a fork child must drop them.
 * A socket leaves the list before it is closed: a fork in between leaves
 * the child one descriptor it never closes. And the child closes only a
 * descriptor that is still the socket (same inode) the list recorded, so
 * a number reused for one of the application's files is never touched.
 */
static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct otelc_http *h = ud;
    (void)purpose;
    curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    struct stat st;
    if (fd != CURL_SOCKET_BAD && h->nsockets < MAX_SOCKETS && fstat(fd, &st) == 0) {
        h->sockets[h->nsockets].fd = fd;
        h->sockets[h->nsockets++].ino = st.st_ino;
    }
    return fd;
}

static int on_close_socket(void *ud, curl_socket_t fd)
{
    struct otelc_http *h = ud;
    for (int i = 0; i < h->nsockets; i++)
        if (h->sockets[i].fd == fd) {
            h->sockets[i] = h->sockets[--h->nsockets];
            break;
        }
    return close(fd);
}

/* ---- Handle ------------------------------------------------------------------------ */

static bool http2_available(void)
{
    const curl_version_info_data *v = lc.version_info(CURLVERSION_NOW);
    return v && (v->features & CURL_VERSION_HTTP2);
}

/*
 * libcurl before 8.0.0 fails every request that reuses a connection opened
 * with HTTP/2 prior knowledge ("Error in the HTTP2 framing layer", curl
 * issue 10634). There, cleartext gRPC gets a fresh connection per request:
 * slower, but correct, and TLS connections (ALPN) are unaffected.
 */
static bool prior_knowledge_reuse_broken(void)
{
    const curl_version_info_data *v = lc.version_info(CURLVERSION_NOW);
    return !v || v->version_num < 0x080000;
}

static void set_tls(CURL *c, const struct otelc_http *h)
{
    if (h->ca_file) lc.easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (h->client_cert) lc.easy_setopt(c, CURLOPT_SSLCERT, h->client_cert);
    if (h->client_key) lc.easy_setopt(c, CURLOPT_SSLKEY, h->client_key);
}

/* Options that stay the same for every request of this exporter. */
static bool configure(struct otelc_http *h)
{
    CURL *c = h->curl;
    bool plain = strncasecmp(h->url, "http://", 7) == 0;
    CURLcode rc = lc.easy_setopt(c, CURLOPT_URL, h->url);
    lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    lc.easy_setopt(c, CURLOPT_POST, 1L);
    lc.easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    lc.easy_setopt(c, CURLOPT_WRITEDATA, h);
    lc.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    lc.easy_setopt(c, CURLOPT_HEADERDATA, h);
    lc.easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    lc.easy_setopt(c, CURLOPT_READDATA, h);
    lc.easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    lc.easy_setopt(c, CURLOPT_SEEKDATA, h);
    lc.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    lc.easy_setopt(c, CURLOPT_XFERINFODATA, h);
    lc.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    lc.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    lc.easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    lc.easy_setopt(c, CURLOPT_OPENSOCKETDATA, h);
    lc.easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    lc.easy_setopt(c, CURLOPT_CLOSESOCKETDATA, h);
#if LIBCURL_VERSION_NUM >= 0x075500
    lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    lc.easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (h->http2)
        lc.easy_setopt(c, CURLOPT_HTTP_VERSION,
                       plain ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                             : (long)CURL_HTTP_VERSION_2TLS);
    if (h->http2 && plain && prior_knowledge_reuse_broken())
        lc.easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    set_tls(c, h);
    if (rc != CURLE_OK) {
        otelc__log(OTELC_LOG_ERROR, "OTLP exporter: libcurl rejects the endpoint URL (%s)",
                   lc.easy_strerror(rc));
        return false;
    }
    return true;
}

static bool copy_string(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

static bool copy_config(struct otelc_http *h, const otelc_http_config *cfg)
{
    return copy_string(&h->url, cfg->url) && copy_string(&h->ca_file, cfg->ca_file) &&
           copy_string(&h->client_key, cfg->client_key) &&
           copy_string(&h->client_cert, cfg->client_cert);
}

static bool open_handle(struct otelc_http *h)
{
    h->curl = lc.easy_init();
    if (h->curl && configure(h)) return true;
    if (h->curl) lc.easy_cleanup(h->curl);
    h->curl = NULL;
    return false;
}

otelc_http *otelc__http_new(const otelc_http_config *cfg)
{
    pthread_once(&load_once, load_libcurl);
    if (!lc_loaded) return NULL;
    if (global_rc != CURLE_OK) {
        otelc__log(OTELC_LOG_ERROR, "OTLP exporter: libcurl initialisation failed (%s)",
                   lc.easy_strerror(global_rc));
        return NULL;
    }
    if (cfg->http2 && !http2_available()) {
        otelc__log(OTELC_LOG_ERROR, "OTLP exporter: gRPC needs a libcurl built with HTTP/2");
        return NULL;
    }
    struct otelc_http *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->http2 = cfg->http2;
    if (!copy_config(h, cfg) || !build_headers(h, cfg) || !open_handle(h)) {
        otelc__http_free(h);
        return NULL;
    }
    return h;
}

void otelc__http_free(otelc_http *h)
{
    if (!h) return;
    if (h->curl) lc.easy_cleanup(h->curl);
    lc.slist_free_all(h->headers);
    free(h->url);
    free(h->ca_file);
    free(h->client_key);
    free(h->client_cert);
    free(h);
}

/*
 * The parent's handle may be in the middle of a transfer (its exporting
 * thread does not exist here), and its connection is the parent's too:
 * closing our copies of the sockets leaves the parent's connection alone,
 * where curl_easy_cleanup could have sent a TLS close_notify on it. So the
 * handle is abandoned, not cleaned up - its memory stays the copy-on-write
 * pages it shares with the parent - and the next request makes a new one.
 */
void otelc__http_after_fork_child(otelc_http *h)
{
    if (!h) return;
    for (int i = 0; i < h->nsockets; i++) {
        struct stat st;
        if (fstat(h->sockets[i].fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
            st.st_ino == h->sockets[i].ino)
            close(h->sockets[i].fd);
    }
    h->nsockets = 0;
    otelc__abandon(h->curl);
    h->curl = NULL;
}

/* ---- Requests ------------------------------------------------------------------------ */

static void response_reset(otelc_http_response *r)
{
    otelc_buf body = r->body;
    otelc__buf_reset(&body);
    memset(r, 0, sizeof(*r));
    r->body = body;
    reset_captured(r);
}

/*
 * Without POSTFIELDS libcurl takes the body from on_read; the size set
 * either way becomes the Content-Length, so a streamed body is not chunked.
 */
void otelc__http_post(otelc_http *h, const otelc_body *body, uint32_t timeout_ms,
                      _Atomic bool *cancel, otelc_http_response *out)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    response_reset(out);
    if (!h->curl && !open_handle(h)) {
        out->transport_error = CURLE_FAILED_INIT;
        snprintf(out->error, sizeof out->error, "no libcurl handle after fork");
        return;
    }
    h->resp = out;
    h->cancel = cancel;
    h->body = body;
    if (body->read) body->rewind(body->ctx);
    CURL *c = h->curl;
    lc.easy_setopt(c, CURLOPT_POSTFIELDS, body->read ? NULL : body->data);
    lc.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
    lc.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = lc.easy_perform(c);
    lc.easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    h->resp = NULL;
    h->body = NULL;
    lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    if (rc == CURLE_OK) return;
    out->transport_error = (int)rc;
    out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    out->cancelled = rc == CURLE_ABORTED_BY_CALLBACK;
    snprintf(out->error, sizeof out->error, "%s", errbuf[0] ? errbuf : lc.easy_strerror(rc));
}

void otelc__http_response_free(otelc_http_response *r)
{
    otelc__buf_free(&r->body);
}

/* ---- gzip ------------------------------------------------------------------------------ */

int otelc__gzip(otelc_buf *out, const void *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (n > UINT32_MAX / 2) return OTELC_ERR_NOMEM; /* zlib counts in uInt */
    /* windowBits 15 + 16: a gzip wrapper, as Content-Encoding and grpc-encoding expect. */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return OTELC_ERR_NOMEM;
    size_t bound = deflateBound(&z, (uLong)n);
    if (!otelc__buf_reserve(out, bound)) {
        deflateEnd(&z);
        return OTELC_ERR_NOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END) out->len += z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? OTELC_OK : OTELC_ERR_NOMEM;
}
