/*
 * http.c - the network transports on libcurl: HTTP requests (OTLP/HTTP,
 * Zipkin), and raw connections, the byte streams that the HTTP/2 client of
 * OTLP/gRPC (h2_client.c) speaks over.
 *
 * One easy handle per exporter, kept for the exporter's life: libcurl keeps
 * the connection open between exports, so a steady stream of batches costs
 * one TCP/TLS handshake, not one per batch. The handle is only used from
 * the exporting thread (exports of one exporter are never concurrent), so
 * it needs no lock.
 *
 * A raw connection is a handle with CURLOPT_CONNECT_ONLY: libcurl resolves
 * the name, connects (happy eyeballs, timeouts, a proxy tunnelled with
 * CONNECT), then carries bytes through curl_easy_send and curl_easy_recv.
 * Its URL is always http://: libcurl 7.88 hands a connect-only TLS
 * connection whose ALPN chose h2 to its own HTTP/2 layer, and
 * curl_easy_recv then crashes inside it, so TLS over a raw connection is
 * tls.c's.
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

/* otlp.h names the codes the HTTP/2 client and TLS report; the same check. */
#define SAME(ours, curls) ((int)(ours) == (int)(curls))
_Static_assert(SAME(OTELC_IO_FAILED_INIT, CURLE_FAILED_INIT) &&
                   SAME(OTELC_IO_COULDNT_CONNECT, CURLE_COULDNT_CONNECT) &&
                   SAME(OTELC_IO_HTTP2, CURLE_HTTP2) &&
                   SAME(OTELC_IO_READ_ERROR, CURLE_READ_ERROR) &&
                   SAME(OTELC_IO_NO_MEMORY, CURLE_OUT_OF_MEMORY) &&
                   SAME(OTELC_IO_TIMEDOUT, CURLE_OPERATION_TIMEDOUT) &&
                   SAME(OTELC_IO_TLS_CONNECT, CURLE_SSL_CONNECT_ERROR) &&
                   SAME(OTELC_IO_ABORTED, CURLE_ABORTED_BY_CALLBACK) &&
                   SAME(OTELC_IO_SEND_ERROR, CURLE_SEND_ERROR) &&
                   SAME(OTELC_IO_RECV_ERROR, CURLE_RECV_ERROR) &&
                   SAME(OTELC_IO_TLS_CERT, CURLE_SSL_CERTPROBLEM) &&
                   SAME(OTELC_IO_TLS_VERIFY, CURLE_PEER_FAILED_VERIFICATION) &&
                   SAME(OTELC_IO_TLS_CA_FILE, CURLE_SSL_CACERT_BADFILE),
               "libcurl error codes changed");
#undef SAME

/* More sockets than one connection (and a happy-eyeballs twin) needs. */
#define MAX_SOCKETS 8

/*
 * The sockets libcurl has open for one handle, for a fork child to close.
 * libcurl opens and closes them through on_open_socket and on_close_socket.
 * A socket leaves the list before it is closed: a fork in between leaves
 * the child one descriptor it never closes. And the child closes only a
 * descriptor that is still the socket (same inode) the list recorded, so a
 * number reused for one of the application's files is never touched.
 */
struct socket_list {
    struct {
        curl_socket_t fd;
        ino_t ino; /* so that a number reused for another file is left alone */
    } at[MAX_SOCKETS];
    int n;
};

struct otelc_http {
    CURL *curl; /* NULL in a fork child until its first request makes its own */
    struct curl_slist *headers;
    otelc_http_response *resp; /* the response being filled by the callbacks */
    const otelc_body *body;    /* the request being sent */
    _Atomic bool *cancel;
    bool add_failed;
    /* Kept to make a fresh handle in a fork child: */
    char *url, *ca_file, *client_key, *client_cert;
    struct socket_list sockets;
};

struct otelc_rawconn {
    CURL *curl;
    curl_socket_t fd;
    _Atomic bool *cancel; /* while connecting */
    otelc_io_error error; /* why the last send or receive failed */
    struct socket_list sockets;
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
    CURLcode (*easy_send)(CURL *c, const void *p, size_t n, size_t *sent);
    CURLcode (*easy_recv)(CURL *c, void *p, size_t n, size_t *got);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    CURLU *(*url)(void);
    void (*url_cleanup)(CURLU *u);
    CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned flags);
    CURLUcode (*url_get)(const CURLU *u, CURLUPart what, char **part, unsigned flags);
    void (*free)(void *p);
} lc;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool lc_loaded;
static CURLcode global_rc;

#define SYM(field, name)                                                                           \
    {                                                                                              \
        name, (void **)&lc.field                                                                   \
    }

/*
 * Runs once per process (pthread_once), so the failure is logged once and
 * curl_global_init, not thread-safe in older libcurl, runs before any
 * handle exists. Neither is ever undone (see dynload.c; curl_global_cleanup
 * would likewise break the process's other libcurl users).
 */
static void load_libcurl(void)
{
    static const char *const sonames[] = {"libcurl.so.4", NULL};
    static const otelc_dynsym syms[] = {
        SYM(global_init, "curl_global_init"),
        SYM(easy_init, "curl_easy_init"),
        SYM(easy_setopt, "curl_easy_setopt"),
        SYM(easy_perform, "curl_easy_perform"),
        SYM(easy_getinfo, "curl_easy_getinfo"),
        SYM(easy_cleanup, "curl_easy_cleanup"),
        SYM(easy_strerror, "curl_easy_strerror"),
        SYM(easy_send, "curl_easy_send"),
        SYM(easy_recv, "curl_easy_recv"),
        SYM(slist_append, "curl_slist_append"),
        SYM(slist_free_all, "curl_slist_free_all"),
        SYM(url, "curl_url"),
        SYM(url_cleanup, "curl_url_cleanup"),
        SYM(url_set, "curl_url_set"),
        SYM(url_get, "curl_url_get"),
        SYM(free, "curl_free"),
    };
    if (!otelc__dynload(sonames, syms, sizeof syms / sizeof syms[0])) {
        otelc__log(OTELC_LOG_ERROR,
                   "libcurl not found: OTLP/HTTP, gRPC and Zipkin export unavailable");
        return;
    }
    otelc__openssl_init_without_atexit(); /* libcurl brought OpenSSL in: see otlp.h */
    global_rc = lc.global_init(CURL_GLOBAL_DEFAULT);
    lc_loaded = true;
}

#undef SYM

/* libcurl, loaded and initialised; false after logging why not. */
static bool libcurl_ready(void)
{
    pthread_once(&load_once, load_libcurl);
    if (!lc_loaded) return false;
    if (global_rc != CURLE_OK) {
        otelc__log(OTELC_LOG_ERROR, "OTLP exporter: libcurl initialisation failed (%s)",
                   lc.easy_strerror(global_rc));
        return false;
    }
    return true;
}

/* ---- Sockets --------------------------------------------------------------------- */

/*
 * Guards every socket list against otelc__http_interrupt, which reads one
 * from another thread: a descriptor leaves its list under it before it is
 * closed, so the interrupt never shuts down a number already reused for
 * someone else's socket.
 */
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;

static curl_socket_t on_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct socket_list *l = ud;
    (void)purpose;
    curl_socket_t fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    struct stat st;
    pthread_mutex_lock(&sockets_lock);
    if (fd != CURL_SOCKET_BAD && l->n < MAX_SOCKETS && fstat(fd, &st) == 0) {
        l->at[l->n].fd = fd;
        l->at[l->n++].ino = st.st_ino;
    }
    pthread_mutex_unlock(&sockets_lock);
    return fd;
}

static int on_close_socket(void *ud, curl_socket_t fd)
{
    struct socket_list *l = ud;
    pthread_mutex_lock(&sockets_lock);
    for (int i = 0; i < l->n; i++)
        if (l->at[i].fd == fd) {
            l->at[i] = l->at[--l->n];
            break;
        }
    pthread_mutex_unlock(&sockets_lock);
    return close(fd);
}

/* In a fork child: close this process's copies of the sockets, leaving the parent's open. */
static void close_inherited(struct socket_list *l)
{
    for (int i = 0; i < l->n; i++) {
        struct stat st;
        if (fstat(l->at[i].fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == l->at[i].ino)
            close(l->at[i].fd);
    }
    l->n = 0;
}

/* Options every handle of ours has: no signals, keep-alive, sockets we can account for. */
static void set_common(CURL *c, struct socket_list *sockets)
{
    lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    lc.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    lc.easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    lc.easy_setopt(c, CURLOPT_OPENSOCKETDATA, sockets);
    lc.easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    lc.easy_setopt(c, CURLOPT_CLOSESOCKETDATA, sockets);
#if LIBCURL_VERSION_NUM >= 0x075500
    lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    lc.easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
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

/* ---- What a response says ---------------------------------------------------------------- */

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

static bool header_is(const char *name, size_t name_len, const char *want)
{
    return strlen(want) == name_len && strncasecmp(name, want, name_len) == 0;
}

void otelc__http_response_restart(otelc_http_response *r)
{
    r->grpc_status = -1;
    r->grpc_message[0] = r->retry_after[0] = r->status_details[0] = '\0';
}

void otelc__http_capture_header(otelc_http_response *r, const char *name, size_t name_len,
                                const char *v, size_t vn)
{
    if (header_is(name, name_len, "grpc-status")) {
        char num[8];
        copy_value(num, sizeof num, v, vn);
        r->grpc_status = isdigit((unsigned char)num[0]) ? atoi(num) : 2 /* UNKNOWN */;
    } else if (header_is(name, name_len, "grpc-message")) {
        copy_percent_decoded(r->grpc_message, sizeof r->grpc_message, v, vn);
    } else if (header_is(name, name_len, "grpc-status-details-bin")) {
        /* A truncated value would decode to garbage: keep it only whole. */
        if (vn < sizeof r->status_details)
            copy_value(r->status_details, sizeof r->status_details, v, vn);
    } else if (header_is(name, name_len, "retry-after")) {
        copy_value(r->retry_after, sizeof r->retry_after, v, vn);
    }
}

void otelc__http_capture_body(otelc_http_response *r, const void *p, size_t n)
{
    otelc_buf *b = &r->body;
    size_t room = b->len < OTELC_HTTP_BODY_MAX ? OTELC_HTTP_BODY_MAX - b->len : 0;
    otelc__buf_append(b, p, n < room ? n : room);
}

/* ---- Callbacks of the request handle ------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct otelc_http *h = ud;
    otelc__http_capture_body(h->resp, p, size * nmemb);
    return size * nmemb; /* the excess is dropped, not an error: the verdict is in the status */
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

/* Header lines arrive here one at a time; a new status line restarts the capture. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    struct otelc_http *h = ud;
    otelc_http_response *r = h->resp;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        otelc__http_response_restart(r);
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon) return n;
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    otelc__http_capture_header(r, line, (size_t)(colon - line), v, (size_t)(end - v));
    return n;
}

/* Called about once a second during a transfer: the shutdown path's way in. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    _Atomic bool *const *cancel = ud;
    (void)dt, (void)dn, (void)ut, (void)un;
    return *cancel && atomic_load_explicit(*cancel, memory_order_relaxed);
}

/* ---- The request handle ---------------------------------------------------------------- */

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
    CURLcode rc = lc.easy_setopt(c, CURLOPT_URL, h->url);
    set_common(c, &h->sockets);
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
    lc.easy_setopt(c, CURLOPT_XFERINFODATA, &h->cancel);
    lc.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
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
    if (!libcurl_ready()) return NULL;
    struct otelc_http *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
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
    /*
     * Another exporter's thread may have held the lock in the parent: only
     * this thread exists now. Made anew even without a handle (one opened
     * lazily), since the child may open one later.
     */
    pthread_mutex_init(&sockets_lock, NULL);
    if (!h) return;
    close_inherited(&h->sockets);
    otelc__abandon(h->curl);
    h->curl = NULL;
}

/* ---- Requests ------------------------------------------------------------------------ */

void otelc__http_response_reset(otelc_http_response *r)
{
    otelc_buf body = r->body;
    otelc__buf_reset(&body);
    memset(r, 0, sizeof(*r));
    r->body = body;
    r->h2_reset = -1;
    otelc__http_response_restart(r);
}

/*
 * Without POSTFIELDS libcurl takes the body from on_read; the size set
 * either way becomes the Content-Length, so a streamed body is not chunked.
 */
void otelc__http_post(otelc_http *h, const otelc_body *body, uint32_t timeout_ms,
                      _Atomic bool *cancel, otelc_http_response *out)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    otelc__http_response_reset(out);
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
    /* An interrupted transfer fails as a broken connection: the cancel flag says why. */
    out->cancelled = rc == CURLE_ABORTED_BY_CALLBACK || (cancel && atomic_load(cancel));
    snprintf(out->error, sizeof out->error, "%s", errbuf[0] ? errbuf : lc.easy_strerror(rc));
}

void otelc__http_interrupt(otelc_http *h)
{
    if (!h) return;
    pthread_mutex_lock(&sockets_lock);
    for (int i = 0; i < h->sockets.n; i++) shutdown(h->sockets.at[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&sockets_lock);
}

void otelc__http_response_free(otelc_http_response *r)
{
    otelc__buf_free(&r->body);
}

/* ---- URLs ---------------------------------------------------------------------------------- */

static char *url_part(CURLU *u, CURLUPart what, unsigned flags)
{
    char *v = NULL;
    if (lc.url_get(u, what, &v, flags) != CURLUE_OK) return NULL;
    char *copy = strdup(v);
    lc.free(v);
    return copy;
}

static char *joined(const char *a, const char *sep, const char *b)
{
    size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, sep, b);
    return s;
}

/* host[:port] as the URL gives it, the path with its query, and the raw connection's URL. */
static bool split_url(CURLU *u, otelc_url_parts *out)
{
    char *scheme = url_part(u, CURLUPART_SCHEME, 0), *port = url_part(u, CURLUPART_PORT, 0);
    char *dport = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    char *path = url_part(u, CURLUPART_PATH, 0), *query = url_part(u, CURLUPART_QUERY, 0);
    char *host = url_part(u, CURLUPART_HOST, 0), *hostport = NULL;
    bool ok = scheme && dport && path && host;
    if (ok) {
        out->https = strcasecmp(scheme, "https") == 0;
        out->authority = port ? joined(host, ":", port) : strdup(host);
        out->path = query ? joined(path, "?", query) : strdup(path);
        hostport = joined(host, ":", dport);
        out->raw_url = hostport ? joined("http://", hostport, "/") : NULL;
        /* An IPv6 address without its brackets, for TLS name checks. */
        size_t n = strlen(host);
        out->host = host[0] == '[' && n > 1 ? strndup(host + 1, n - 2) : strdup(host);
        ok = out->authority && out->path && out->raw_url && out->host;
    }
    free(scheme), free(port), free(dport), free(path), free(query), free(host), free(hostport);
    return ok;
}

bool otelc__url_parts(const char *url, otelc_url_parts *out)
{
    memset(out, 0, sizeof *out);
    if (!libcurl_ready()) return false;
    CURLU *u = lc.url();
    bool ok = u && lc.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && split_url(u, out);
    if (u) lc.url_cleanup(u);
    if (!ok) otelc__url_parts_free(out);
    return ok;
}

void otelc__url_parts_free(otelc_url_parts *p)
{
    free(p->authority);
    free(p->path);
    free(p->host);
    free(p->raw_url);
    memset(p, 0, sizeof *p);
}

/* ---- Raw connections ---------------------------------------------------------------- */

void otelc__io_fail(otelc_io_error *e, int code, const char *what, const char *detail)
{
    otelc_bwriter w = {e->text, sizeof e->text, 0};
    otelc__bw_put(&w, what, strlen(what));
    if (detail) {
        otelc__bw_put(&w, ": ", 2);
        otelc__bw_put(&w, detail, strlen(detail));
    }
    otelc__bw_finish(&w);
    e->code = code;
}

static void raw_fail(otelc_io_error *e, int code, const char *text)
{
    otelc__io_fail(e, code, text, NULL);
}

/*
 * libcurl picks a proxy by the URL's scheme, and a raw connection's is
 * always http: for an https endpoint, the variables libcurl would have
 * read for it (no_proxy still applies: libcurl checks it against any proxy).
 */
static const char *https_proxy(void)
{
    static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return v;
    }
    return "";
}

static bool raw_configure(otelc_rawconn *raw, const char *url, bool tls_inside, uint32_t timeout_ms)
{
    CURL *c = raw->curl;
    set_common(c, &raw->sockets);
    lc.easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    /* A proxy carries the bytes as they are: CONNECT, even for http://. */
    lc.easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
    if (tls_inside) lc.easy_setopt(c, CURLOPT_PROXY, https_proxy());
    lc.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    lc.easy_setopt(c, CURLOPT_XFERINFODATA, &raw->cancel);
    lc.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
    lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms ? timeout_ms : 1));
    return lc.easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
}

otelc_rawconn *otelc__rawconn_open(const char *url, bool tls_inside, uint32_t timeout_ms,
                                   _Atomic bool *cancel, otelc_io_error *err)
{
    if (!libcurl_ready()) {
        raw_fail(err, OTELC_IO_FAILED_INIT, "libcurl is not available");
        return NULL;
    }
    otelc_rawconn *raw = calloc(1, sizeof *raw);
    if (!raw || !(raw->curl = lc.easy_init())) {
        free(raw);
        raw_fail(err, OTELC_IO_NO_MEMORY, "out of memory");
        return NULL;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    raw->cancel = cancel;
    lc.easy_setopt(raw->curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = raw_configure(raw, url, tls_inside, timeout_ms) ? lc.easy_perform(raw->curl)
                                                                  : CURLE_URL_MALFORMAT;
    lc.easy_setopt(raw->curl, CURLOPT_ERRORBUFFER, NULL);
    raw->cancel = NULL;
    raw->fd = CURL_SOCKET_BAD;
    if (rc == CURLE_OK) lc.easy_getinfo(raw->curl, CURLINFO_ACTIVESOCKET, &raw->fd);
    if (rc == CURLE_OK && raw->fd == CURL_SOCKET_BAD) rc = CURLE_COULDNT_CONNECT;
    if (rc == CURLE_OK) return raw;
    raw_fail(err, (int)rc, errbuf[0] ? errbuf : lc.easy_strerror(rc));
    otelc__rawconn_close(raw);
    return NULL;
}

int otelc__rawconn_fd(const otelc_rawconn *raw)
{
    return (int)raw->fd;
}

ssize_t otelc__rawconn_send(otelc_rawconn *raw, const void *p, size_t n)
{
    size_t sent = 0;
    CURLcode rc = lc.easy_send(raw->curl, p, n, &sent);
    if (rc == CURLE_AGAIN) return 0;
    if (rc == CURLE_OK) return (ssize_t)sent;
    raw_fail(&raw->error, OTELC_IO_SEND_ERROR, lc.easy_strerror(rc));
    return -1;
}

ssize_t otelc__rawconn_recv(otelc_rawconn *raw, void *p, size_t n)
{
    size_t got = 0;
    CURLcode rc = lc.easy_recv(raw->curl, p, n, &got);
    if (rc == CURLE_AGAIN) return 0;
    if (rc == CURLE_OK && got > 0) return (ssize_t)got;
    raw_fail(&raw->error, OTELC_IO_RECV_ERROR,
             rc == CURLE_OK ? "connection closed by the server" : lc.easy_strerror(rc));
    return -1;
}

const otelc_io_error *otelc__rawconn_error(const otelc_rawconn *raw)
{
    return &raw->error;
}

void otelc__rawconn_close(otelc_rawconn *raw)
{
    if (!raw) return;
    lc.easy_cleanup(raw->curl);
    free(raw);
}

/* As otelc__http_after_fork_child: the parent's connection stays open, the handle is dropped. */
void otelc__rawconn_after_fork_child(otelc_rawconn *raw)
{
    if (!raw) return;
    close_inherited(&raw->sockets);
    otelc__abandon(raw);
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
