/*
 * tls.c - TLS for the HTTP/2 client of OTLP/gRPC, on OpenSSL's libssl,
 * over a raw connection (http.c): the bytes still go through libcurl, which connected
 * them (and tunnelled them through a proxy).
 *
 * Why not libcurl's own TLS: a connect-only libcurl 7.88 handle whose ALPN
 * chose h2 hands the connection to libcurl's HTTP/2 layer, and
 * curl_easy_recv then crashes inside it (tried on Debian 12: the server's
 * SETTINGS frame goes to libcurl's nghttp2 session, not to the caller). So
 * the TLS session is ours, and it is OpenSSL, the library Debian's libcurl4
 * uses: a process that exports over TLS usually has it mapped already.
 *
 * It checks what libcurl checks for OTLP/HTTP: the certificate chain
 * against the CA file when one is configured (only that file, as
 * OTEL_EXPORTER_OTLP_CERTIFICATE means), else against OpenSSL's default
 * store (which honours SSL_CERT_FILE and SSL_CERT_DIR); the host name, or
 * IP address, against the certificate; TLS 1.2 at least (HTTP/2 requires
 * it), with SNI for names. ALPN offers h2 alone: a gRPC server that does
 * not choose it cannot serve the call.
 *
 * libssl is loaded with dlopen on first use, for libcurl's reason (see
 * http.c): a program that never exports gRPC over TLS never maps it.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "export/otlp.h"

struct otelc_tls {
    SSL *ssl;
    otelc_rawconn *raw;
    bool failed;
    otelc_io_error error;
};

/* ---- Loading libssl ----------------------------------------------------------------- */

#define FN(name) __typeof__(name) *name
static struct {
    FN(TLS_client_method);
    FN(SSL_CTX_new);
    FN(SSL_CTX_free);
    FN(SSL_CTX_ctrl);
    FN(SSL_CTX_set_verify);
    FN(SSL_CTX_load_verify_locations);
    FN(SSL_CTX_set_default_verify_paths);
    FN(SSL_CTX_use_certificate_chain_file);
    FN(SSL_CTX_use_PrivateKey_file);
    FN(SSL_CTX_check_private_key);
    FN(SSL_CTX_set_alpn_protos);
    FN(SSL_new);
    FN(SSL_free);
    FN(SSL_ctrl);
    FN(SSL_set1_host);
    FN(SSL_get0_param);
    FN(SSL_set_bio);
    FN(SSL_set_connect_state);
    FN(SSL_do_handshake);
    FN(SSL_read);
    FN(SSL_write);
    FN(SSL_shutdown);
    FN(SSL_get_error);
    FN(SSL_get0_alpn_selected);
    FN(SSL_get_verify_result);
    FN(X509_VERIFY_PARAM_set1_ip_asc);
    FN(X509_verify_cert_error_string);
    FN(ERR_get_error);
    FN(ERR_peek_error);
    FN(ERR_clear_error);
    FN(ERR_error_string_n);
    FN(BIO_get_new_index);
    FN(BIO_meth_new);
    FN(BIO_meth_set_write);
    FN(BIO_meth_set_read);
    FN(BIO_meth_set_ctrl);
    FN(BIO_new);
    FN(BIO_set_data);
    FN(BIO_get_data);
    FN(BIO_set_init);
    FN(BIO_set_flags);
    FN(BIO_clear_flags);
} ssl;
#undef FN

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *raw_bio; /* NULL until libssl is loaded */

static BIO_METHOD *make_raw_bio(void);

#define SYM(name)                                                                                  \
    {                                                                                              \
#name, (void **)&ssl.name                                                                  \
    }

static void load_libssl(void)
{
    /* The ABI of the headers we were built with: OpenSSL 3 packs its error codes anew. */
    static const char *const sonames[] = {"libssl.so.3", NULL};
    static const otelc_dynsym syms[] = {
        SYM(TLS_client_method),
        SYM(SSL_CTX_new),
        SYM(SSL_CTX_free),
        SYM(SSL_CTX_ctrl),
        SYM(SSL_CTX_set_verify),
        SYM(SSL_CTX_load_verify_locations),
        SYM(SSL_CTX_set_default_verify_paths),
        SYM(SSL_CTX_use_certificate_chain_file),
        SYM(SSL_CTX_use_PrivateKey_file),
        SYM(SSL_CTX_check_private_key),
        SYM(SSL_CTX_set_alpn_protos),
        SYM(SSL_new),
        SYM(SSL_free),
        SYM(SSL_ctrl),
        SYM(SSL_set1_host),
        SYM(SSL_get0_param),
        SYM(SSL_set_bio),
        SYM(SSL_set_connect_state),
        SYM(SSL_do_handshake),
        SYM(SSL_read),
        SYM(SSL_write),
        SYM(SSL_shutdown),
        SYM(SSL_get_error),
        SYM(SSL_get0_alpn_selected),
        SYM(SSL_get_verify_result),
        SYM(X509_VERIFY_PARAM_set1_ip_asc),
        SYM(X509_verify_cert_error_string),
        SYM(ERR_get_error),
        SYM(ERR_peek_error),
        SYM(ERR_clear_error),
        SYM(ERR_error_string_n),
        SYM(BIO_get_new_index),
        SYM(BIO_meth_new),
        SYM(BIO_meth_set_write),
        SYM(BIO_meth_set_read),
        SYM(BIO_meth_set_ctrl),
        SYM(BIO_new),
        SYM(BIO_set_data),
        SYM(BIO_get_data),
        SYM(BIO_set_init),
        SYM(BIO_set_flags),
        SYM(BIO_clear_flags),
    };
    if (otelc__dynload(sonames, syms, sizeof syms / sizeof syms[0])) {
        otelc__openssl_init_without_atexit();
        raw_bio = make_raw_bio();
    }
    if (!raw_bio)
        otelc__log(OTELC_LOG_ERROR, "OpenSSL (libssl) not found: OTLP/gRPC over TLS unavailable");
}

#undef SYM

/* ---- The raw connection as OpenSSL's transport (a BIO)
 * ---------------------------------------------- */

static int bio_write(BIO *b, const char *p, int n)
{
    ssl.BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
    ssize_t w = otelc__rawconn_send(ssl.BIO_get_data(b), p, (size_t)n);
    if (w == 0) ssl.BIO_set_flags(b, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY);
    return w > 0 ? (int)w : -1;
}

static int bio_read(BIO *b, char *p, int n)
{
    ssl.BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
    ssize_t r = otelc__rawconn_recv(ssl.BIO_get_data(b), p, (size_t)n);
    if (r == 0) ssl.BIO_set_flags(b, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
    return r > 0 ? (int)r : -1;
}

/* Writes are never buffered here, so a flush has nothing to do. */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static BIO_METHOD *make_raw_bio(void)
{
    int type = ssl.BIO_get_new_index();
    BIO_METHOD *m =
        type > 0 ? ssl.BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "otelc rawconn") : NULL;
    if (!m || !ssl.BIO_meth_set_write(m, bio_write) || !ssl.BIO_meth_set_read(m, bio_read) ||
        !ssl.BIO_meth_set_ctrl(m, bio_ctrl))
        return NULL; /* a half-made method is never freed: it happens once, if ever */
    return m;
}

/* ---- Errors --------------------------------------------------------------------------------- */

/*
 * OpenSSL's reason for the failure just seen: the first error queued, the
 * root cause ("No such file or directory"), not the "system lib" each
 * layer above adds. The queue is emptied for the next call.
 */
static void fail_ssl(otelc_io_error *e, int code, const char *what)
{
    unsigned long err = ssl.ERR_get_error();
    char reason[160];
    if (err) ssl.ERR_error_string_n(err, reason, sizeof reason);
    ssl.ERR_clear_error();
    otelc__io_fail(e, code, what, err ? reason : NULL);
}

/* "what file": a path is configuration, not a secret, and says which file is wrong. */
static void fail_file(otelc_io_error *e, int code, const char *what, const char *path)
{
    char text[sizeof e->text];
    otelc_bwriter w = {text, sizeof text, 0};
    otelc__bw_put(&w, what, strlen(what));
    otelc__bw_put(&w, " ", 1);
    otelc__bw_put(&w, path, strlen(path));
    otelc__bw_finish(&w);
    fail_ssl(e, code, text);
}

/* ---- Configuration -----------------------------------------------------------------------------
 */

static bool load_trust(SSL_CTX *ctx, const otelc_tls_config *cfg, otelc_io_error *err)
{
    if (!cfg->ca_file) {
        if (ssl.SSL_CTX_set_default_verify_paths(ctx) == 1) return true;
        fail_ssl(err, OTELC_IO_TLS_CA_FILE, "TLS: the system's CA certificates cannot be loaded");
        return false;
    }
    if (ssl.SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) == 1) return true;
    fail_file(err, OTELC_IO_TLS_CA_FILE, "TLS: cannot load the CA certificates of", cfg->ca_file);
    return false;
}

/* A client certificate without a key file has its key in the same file, as with libcurl. */
static bool load_client_identity(SSL_CTX *ctx, const otelc_tls_config *cfg, otelc_io_error *err)
{
    if (!cfg->client_cert) return true;
    const char *key = cfg->client_key ? cfg->client_key : cfg->client_cert;
    if (ssl.SSL_CTX_use_certificate_chain_file(ctx, cfg->client_cert) != 1) {
        fail_file(err, OTELC_IO_TLS_CERT, "TLS: cannot load the client certificate",
                  cfg->client_cert);
        return false;
    }
    if (ssl.SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        ssl.SSL_CTX_check_private_key(ctx) != 1) {
        fail_file(err, OTELC_IO_TLS_CERT, "TLS: cannot load the client key", key);
        return false;
    }
    return true;
}

static SSL_CTX *make_context(const otelc_tls_config *cfg, otelc_io_error *err)
{
    static const unsigned char alpn_h2[] = {2, 'h', '2'};
    SSL_CTX *ctx = ssl.SSL_CTX_new(ssl.TLS_client_method());
    if (!ctx) {
        fail_ssl(err, OTELC_IO_NO_MEMORY, "TLS: no context");
        return NULL;
    }
    ssl.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
    /* A write that would block is retried with the rest of the same bytes (h2_client.c). */
    ssl.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
    ssl.SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    bool ok = load_trust(ctx, cfg, err) && load_client_identity(ctx, cfg, err);
    /* Unlike the rest of OpenSSL, 0 is success here. */
    if (ok && ssl.SSL_CTX_set_alpn_protos(ctx, alpn_h2, sizeof alpn_h2) != 0) {
        fail_ssl(err, OTELC_IO_NO_MEMORY, "TLS: ALPN");
        ok = false;
    }
    if (ok) return ctx;
    ssl.SSL_CTX_free(ctx);
    return NULL;
}

static bool is_ip_address(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* The name the certificate must carry, and SNI (which takes names, not addresses). */
static bool expect_peer(SSL *s, const char *host)
{
    if (is_ip_address(host)) return ssl.X509_VERIFY_PARAM_set1_ip_asc(ssl.SSL_get0_param(s), host);
    return ssl.SSL_set1_host(s, host) == 1 &&
           ssl.SSL_ctrl(s, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                        (void *)(uintptr_t)host) == 1;
}

/* ---- Sessions ----------------------------------------------------------------------------------
 */

otelc_tls *otelc__tls_new(const otelc_tls_config *cfg, otelc_rawconn *raw, const char *host,
                          otelc_io_error *err)
{
    pthread_once(&load_once, load_libssl);
    if (!raw_bio) {
        otelc__io_fail(err, OTELC_IO_FAILED_INIT, "TLS: OpenSSL (libssl) is not available", NULL);
        return NULL;
    }
    ssl.ERR_clear_error();
    SSL_CTX *ctx = make_context(cfg, err);
    if (!ctx) return NULL;
    otelc_tls *t = calloc(1, sizeof *t);
    SSL *s = t ? ssl.SSL_new(ctx) : NULL;
    ssl.SSL_CTX_free(ctx); /* the session holds its own reference */
    BIO *b = s ? ssl.BIO_new(raw_bio) : NULL;
    if (!b || !expect_peer(s, host)) {
        fail_ssl(err, OTELC_IO_NO_MEMORY, "TLS: no session");
        if (s) ssl.SSL_free(s);
        free(t);
        return NULL;
    }
    ssl.BIO_set_data(b, raw);
    ssl.BIO_set_init(b, 1);
    ssl.SSL_set_bio(s, b, b); /* the session owns the BIO now */
    ssl.SSL_set_connect_state(s);
    t->ssl = s;
    t->raw = raw;
    return t;
}

/*
 * The server's alert says it will not take our certificate (or our lack of
 * one): as a certificate of ours that does not load, no retry can cure it.
 * With TLS 1.3 the alert comes after the handshake, on the first read.
 */
static bool peer_refused_certificate(unsigned long err)
{
    if (ERR_GET_LIB(err) != ERR_LIB_SSL) return false;
    switch (ERR_GET_REASON(err)) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
        return true;
    default:
        return false;
    }
}

/*
 * A call that did not complete: 0 with what to wait for, or -1 with the
 * error. A connection that failed underneath says why better than OpenSSL can.
 */
static int not_done(otelc_tls *t, int rc, int code, const char *what, short *wait)
{
    switch (ssl.SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        *wait = POLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        *wait = POLLOUT;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        otelc__io_fail(&t->error, OTELC_IO_RECV_ERROR, "connection closed by the server", NULL);
        break;
    default:
        if (otelc__rawconn_error(t->raw)->code) {
            t->error = *otelc__rawconn_error(t->raw);
            ssl.ERR_clear_error();
        } else if (peer_refused_certificate(ssl.ERR_peek_error())) {
            fail_ssl(&t->error, OTELC_IO_TLS_CERT,
                     "TLS: the server refused the client certificate");
        } else {
            fail_ssl(&t->error, code, what);
        }
    }
    t->failed = true;
    return -1;
}

static int handshake_failed(otelc_tls *t, int rc, short *wait)
{
    long verify = ssl.SSL_get_verify_result(t->ssl);
    if (not_done(t, rc, OTELC_IO_TLS_CONNECT, "TLS handshake failed", wait) == 0) return 0;
    if (verify != X509_V_OK)
        otelc__io_fail(&t->error, OTELC_IO_TLS_VERIFY,
                       "TLS: server certificate verification failed",
                       ssl.X509_verify_cert_error_string(verify));
    return -1;
}

int otelc__tls_handshake(otelc_tls *t, short *wait)
{
    ssl.ERR_clear_error();
    int rc = ssl.SSL_do_handshake(t->ssl);
    if (rc != 1) return handshake_failed(t, rc, wait);
    const unsigned char *proto = NULL;
    unsigned len = 0;
    ssl.SSL_get0_alpn_selected(t->ssl, &proto, &len);
    if (len == 2 && memcmp(proto, "h2", 2) == 0) return 1;
    otelc__io_fail(&t->error, OTELC_IO_HTTP2, "TLS: the server did not choose HTTP/2 (ALPN h2)",
                   NULL);
    t->failed = true;
    return -1;
}

ssize_t otelc__tls_read(otelc_tls *t, void *p, size_t n, short *wait)
{
    ssl.ERR_clear_error();
    int rc = ssl.SSL_read(t->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    return rc > 0 ? rc : not_done(t, rc, OTELC_IO_RECV_ERROR, "TLS receive failed", wait);
}

ssize_t otelc__tls_write(otelc_tls *t, const void *p, size_t n, short *wait)
{
    ssl.ERR_clear_error();
    int rc = ssl.SSL_write(t->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
    return rc > 0 ? rc : not_done(t, rc, OTELC_IO_SEND_ERROR, "TLS send failed", wait);
}

const otelc_io_error *otelc__tls_error(const otelc_tls *t)
{
    return &t->error;
}

void otelc__tls_free(otelc_tls *t)
{
    if (!t) return;
    if (!t->failed) {
        ssl.SSL_shutdown(t->ssl); /* close_notify, if the socket takes it now */
        ssl.ERR_clear_error();
    }
    ssl.SSL_free(t->ssl);
    free(t);
}

void otelc__tls_abandon(otelc_tls *t)
{
    otelc__abandon(t);
}
