/*
 * curl.c - CLIENT spans for libcurl transfers (see
 * include/otelc/instrument/curl.h for the API and why it looks this way).
 *
 * A begun transfer lives in a small hash table keyed by its easy handle, so
 * the multi loop can find it from a CURLMsg without borrowing the
 * application's CURLOPT_PRIVATE.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_calls.h"
#include "fork_lock.h"
#include "otelc/otelc.h"
#include "otelc/instrument/curl.h"
#include "otelc/instrument/http.h"
#include "otelc/instrument/redact.h"

#define SCOPE_NAME "otelc.instrument.curl"
#define BUCKETS    64

typedef struct transfer {
    CURL *easy;
    otelc_span *span;
    struct curl_slist *user_headers; /* the application's, restored at the end */
    struct curl_slist *sent_headers; /* ours: a copy plus the trace headers */
    char method[16];
    struct transfer *next;
} transfer;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static transfer *table[BUCKETS];

/* ---- The table of transfers in flight --------------------------------- */

static size_t bucket_of(const CURL *easy)
{
    uintptr_t p = (uintptr_t)easy;
    return (size_t)((p >> 4) ^ (p >> 12)) % BUCKETS;
}

static void table_put(transfer *t)
{
    size_t b = bucket_of(t->easy);

    fork_lock(&table_lock);
    t->next = table[b];
    table[b] = t;
    pthread_mutex_unlock(&table_lock);
}

/* Unlink and return the transfer of easy, or NULL. */
static transfer *table_take(const CURL *easy)
{
    transfer **pp, *t = NULL;

    fork_lock(&table_lock);
    for (pp = &table[bucket_of(easy)]; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->easy == easy) {
            t = *pp;
            *pp = t->next;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return t;
}

/* ---- CURLcode names (error.type) -------------------------------------- */

#define NAME(c)                                                                                    \
    case c:                                                                                        \
        return #c

/* Split in two so each function stays readable; codes newer than 7.62 are
 * guarded because the enumerators do not exist in older headers. */
static const char *code_name_new(CURLcode code)
{
    switch (code) {
#if LIBCURL_VERSION_NUM >= 0x074200
        NAME(CURLE_AUTH_ERROR);
#endif
#if LIBCURL_VERSION_NUM >= 0x074400
        NAME(CURLE_HTTP3);
#endif
#if LIBCURL_VERSION_NUM >= 0x074500
        NAME(CURLE_QUIC_CONNECT_ERROR);
#endif
#if LIBCURL_VERSION_NUM >= 0x074900
        NAME(CURLE_PROXY);
#endif
#if LIBCURL_VERSION_NUM >= 0x074d00
        NAME(CURLE_SSL_CLIENTCERT);
#endif
#if LIBCURL_VERSION_NUM >= 0x075400
        NAME(CURLE_UNRECOVERABLE_POLL);
#endif
    default:
        return OTELC_HTTP_METHOD_OTHER;
    }
}

const char *otelc_curl_code_name(CURLcode code)
{
    switch (code) {
        NAME(CURLE_OK);
        NAME(CURLE_UNSUPPORTED_PROTOCOL);
        NAME(CURLE_FAILED_INIT);
        NAME(CURLE_URL_MALFORMAT);
        NAME(CURLE_NOT_BUILT_IN);
        NAME(CURLE_COULDNT_RESOLVE_PROXY);
        NAME(CURLE_COULDNT_RESOLVE_HOST);
        NAME(CURLE_COULDNT_CONNECT);
        NAME(CURLE_WEIRD_SERVER_REPLY);
        NAME(CURLE_REMOTE_ACCESS_DENIED);
        NAME(CURLE_HTTP2);
        NAME(CURLE_PARTIAL_FILE);
        NAME(CURLE_QUOTE_ERROR);
        NAME(CURLE_HTTP_RETURNED_ERROR);
        NAME(CURLE_WRITE_ERROR);
        NAME(CURLE_UPLOAD_FAILED);
        NAME(CURLE_READ_ERROR);
        NAME(CURLE_OUT_OF_MEMORY);
        NAME(CURLE_OPERATION_TIMEDOUT);
        NAME(CURLE_RANGE_ERROR);
        NAME(CURLE_HTTP_POST_ERROR);
        NAME(CURLE_SSL_CONNECT_ERROR);
        NAME(CURLE_BAD_DOWNLOAD_RESUME);
        NAME(CURLE_FILE_COULDNT_READ_FILE);
        NAME(CURLE_ABORTED_BY_CALLBACK);
        NAME(CURLE_BAD_FUNCTION_ARGUMENT);
        NAME(CURLE_INTERFACE_FAILED);
        NAME(CURLE_TOO_MANY_REDIRECTS);
        NAME(CURLE_UNKNOWN_OPTION);
        NAME(CURLE_GOT_NOTHING);
        NAME(CURLE_SSL_ENGINE_NOTFOUND);
        NAME(CURLE_SSL_ENGINE_SETFAILED);
        NAME(CURLE_SEND_ERROR);
        NAME(CURLE_RECV_ERROR);
        NAME(CURLE_SSL_CERTPROBLEM);
        NAME(CURLE_SSL_CIPHER);
        NAME(CURLE_PEER_FAILED_VERIFICATION);
        NAME(CURLE_BAD_CONTENT_ENCODING);
        NAME(CURLE_FILESIZE_EXCEEDED);
        NAME(CURLE_USE_SSL_FAILED);
        NAME(CURLE_SEND_FAIL_REWIND);
        NAME(CURLE_SSL_ENGINE_INITFAILED);
        NAME(CURLE_LOGIN_DENIED);
        NAME(CURLE_REMOTE_FILE_NOT_FOUND);
        NAME(CURLE_SSH);
        NAME(CURLE_SSL_SHUTDOWN_FAILED);
        NAME(CURLE_AGAIN);
        NAME(CURLE_SSL_CRL_BADFILE);
        NAME(CURLE_SSL_ISSUER_ERROR);
        NAME(CURLE_CHUNK_FAILED);
        NAME(CURLE_NO_CONNECTION_AVAILABLE);
        NAME(CURLE_SSL_PINNEDPUBKEYNOTMATCH);
        NAME(CURLE_SSL_INVALIDCERTSTATUS);
        NAME(CURLE_HTTP2_STREAM);
        NAME(CURLE_RECURSIVE_API_CALL);
    default:
        return code_name_new(code);
    }
}

/* ---- Request headers --------------------------------------------------- */

static const char *const trace_headers[] = {"traceparent", "tracestate", "baggage"};

/* True for "name:" or "name;" lines (curl's syntax for an empty header). */
static bool is_trace_header(const char *line)
{
    for (size_t i = 0; i < sizeof trace_headers / sizeof *trace_headers; i++) {
        size_t n = strlen(trace_headers[i]);
        if (strncasecmp(line, trace_headers[i], n) == 0 && (line[n] == ':' || line[n] == ';'))
            return true;
    }
    return false;
}

typedef struct slist_builder {
    struct curl_slist *list;
    bool failed;
} slist_builder;

static void builder_add(slist_builder *b, const char *line)
{
    struct curl_slist *l;

    if (b->failed) return;
    l = LIBCURL(curl_slist_append)(b->list, line);
    if (l == NULL)
        b->failed = true;
    else
        b->list = l;
}

static void carrier_set(void *self, const char *key, const char *value)
{
    char line[8448]; /* the largest baggage header (8192) and its name */
    int n = snprintf(line, sizeof line, "%s: %s", key, value);

    if (n > 0 && (size_t)n < sizeof line) builder_add(self, line);
}

/* Without a getter the propagators can still inject; get returns nothing. */
static const char *carrier_get(void *self, const char *key)
{
    return NULL;
}

/* A copy of the application's list without stale trace headers, plus ours. */
static struct curl_slist *build_headers(struct curl_slist *user, otelc_span *span)
{
    slist_builder b = {NULL, false};
    otelc_carrier carrier = {.self = &b, .get = carrier_get, .set = carrier_set};
    otelc_context *cur = otelc_context_current();
    otelc_span_context sc = otelc_span_get_context(span);
    otelc_context *ctx = otelc_context_with_span_context(cur, &sc);

    for (const struct curl_slist *l = user; l != NULL; l = l->next)
        if (l->data != NULL && !is_trace_header(l->data)) builder_add(&b, l->data);
    if (ctx != NULL) otelc_inject(ctx, &carrier);
    otelc_context_release(ctx);
    otelc_context_release(cur);
    if (b.failed) {
        LIBCURL(curl_slist_free_all)(b.list);
        return NULL;
    }
    return b.list;
}

/* ---- Attributes -------------------------------------------------------- */

static const char *info_str(CURL *easy, CURLINFO what)
{
    char *s = NULL;
    return LIBCURL(curl_easy_getinfo)(easy, what, &s) == CURLE_OK ? s : NULL;
}

static long info_long(CURL *easy, CURLINFO what)
{
    long v = 0;
    return LIBCURL(curl_easy_getinfo)(easy, what, &v) == CURLE_OK ? v : 0;
}

static curl_off_t info_off(CURL *easy, CURLINFO what)
{
    curl_off_t v = 0;
    return LIBCURL(curl_easy_getinfo)(easy, what, &v) == CURLE_OK ? v : 0;
}

static const char *effective_method(CURL *easy)
{
#if LIBCURL_VERSION_NUM >= 0x074800
    const char *m = info_str(easy, CURLINFO_EFFECTIVE_METHOD);
    if (m != NULL && *m != '\0') return m;
#endif
    return "GET";
}

static void set_method(otelc_span *span, const char *method)
{
    const char *m = otelc_http_method_normalize(method);
    char name[32];

    otelc_http_span_name(method, NULL, name, sizeof name);
    otelc_span_update_name(span, name);
    otelc_span_set_str(span, OTELC_HTTP_REQUEST_METHOD, m);
    if (strcmp(m, OTELC_HTTP_METHOD_OTHER) == 0)
        otelc_span_set_str(span, OTELC_HTTP_REQUEST_METHOD_ORIGINAL, method);
}

/* server.address and server.port from the URL libcurl uses. */
static void set_server(otelc_span *span, const char *url)
{
    CURLU *u = LIBCURL(curl_url)();
    char *host = NULL, *port = NULL;

    if (u == NULL) return;
    if (LIBCURL(curl_url_set)(u, CURLUPART_URL, url,
                              CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        if (LIBCURL(curl_url_get)(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL) {
            size_t n = strlen(host);
            bool v6 = n >= 2 && host[0] == '[' && host[n - 1] == ']';
            otelc_span_set_strn(span, OTELC_SERVER_ADDRESS, v6 ? host + 1 : host, v6 ? n - 2 : n);
        }
        if (LIBCURL(curl_url_get)(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
            port)
            otelc_span_set_int(span, OTELC_SERVER_PORT, strtol(port, NULL, 10));
    }
    LIBCURL(curl_free)(host);
    LIBCURL(curl_free)(port);
    LIBCURL(curl_url_cleanup)(u);
}

static void set_url(otelc_span *span, const char *url)
{
    char *redacted;

    if (url == NULL || *url == '\0') return;
    redacted = otelc_redact_url_dup(url);
    if (redacted != NULL) otelc_span_set_str(span, OTELC_URL_FULL, redacted);
    free(redacted);
    set_server(span, url);
}

static const char *protocol_version(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return "1.0";
    case CURL_HTTP_VERSION_1_1:
        return "1.1";
    case CURL_HTTP_VERSION_2_0:
        return "2";
#if LIBCURL_VERSION_NUM >= 0x074200
    case CURL_HTTP_VERSION_3:
        return "3";
#endif
    default:
        return NULL;
    }
}

/* Client rule: 4xx and 5xx responses and transport failures are errors. */
static void set_outcome(otelc_span *span, long status, CURLcode result)
{
    char code[16];

    if (status >= 400 && status <= 599) {
        snprintf(code, sizeof code, "%ld", status);
        otelc_span_set_str(span, OTELC_ERROR_TYPE, code);
        otelc_span_set_status(span, OTELC_STATUS_ERROR, NULL);
    } else if (result != CURLE_OK) {
        otelc_span_set_str(span, OTELC_ERROR_TYPE, otelc_curl_code_name(result));
        otelc_span_set_status(span, OTELC_STATUS_ERROR, LIBCURL(curl_easy_strerror)(result));
    }
}

static void set_response(otelc_span *span, CURL *easy)
{
    long status = info_long(easy, CURLINFO_RESPONSE_CODE);
    long redirects = info_long(easy, CURLINFO_REDIRECT_COUNT);
    curl_off_t up = info_off(easy, CURLINFO_SIZE_UPLOAD_T);
    const char *version = protocol_version(info_long(easy, CURLINFO_HTTP_VERSION));

    if (status > 0) {
        otelc_span_set_int(span, OTELC_HTTP_RESPONSE_STATUS_CODE, status);
        otelc_span_set_int(span, OTELC_HTTP_RESPONSE_BODY_SIZE,
                           info_off(easy, CURLINFO_SIZE_DOWNLOAD_T));
    }
    if (version != NULL) otelc_span_set_str(span, OTELC_NETWORK_PROTOCOL_VERSION, version);
    if (redirects > 0) otelc_span_set_int(span, OTELC_HTTP_REQUEST_RESEND_COUNT, redirects);
    if (up > 0) otelc_span_set_int(span, OTELC_HTTP_REQUEST_BODY_SIZE, up);
}

/* ---- Begin and end ----------------------------------------------------- */

static otelc_span *start_span(CURL *easy, const char *method)
{
    otelc_tracer *tracer = otelc_tracer_get(SCOPE_NAME, OTELC_VERSION);
    otelc_span *span = otelc_span_start(tracer, "HTTP", OTELC_SPAN_CLIENT);

    set_method(span, method);
    set_url(span, info_str(easy, CURLINFO_EFFECTIVE_URL));
    return span;
}

/* End a transfer's span and give the handle back its own headers. */
static void finish(transfer *t, CURLcode result, bool completed)
{
    if (completed) {
        const char *method = effective_method(t->easy);
        if (strcmp(method, t->method) != 0) set_method(t->span, method);
        set_url(t->span, info_str(t->easy, CURLINFO_EFFECTIVE_URL));
        set_response(t->span, t->easy);
        set_outcome(t->span, info_long(t->easy, CURLINFO_RESPONSE_CODE), result);
    }
    otelc_span_end(t->span);
    LIBCURL(curl_easy_setopt)(t->easy, CURLOPT_HTTPHEADER, t->user_headers);
    LIBCURL(curl_slist_free_all)(t->sent_headers);
    free(t);
}

int otelc_curl_begin(CURL *easy, struct curl_slist *headers)
{
    transfer *t, *old;

    if (easy == NULL) return OTELC_ERR_INVALID_ARG;
    if ((old = table_take(easy)) != NULL) finish(old, CURLE_OK, false);
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        LIBCURL(curl_easy_setopt)(easy, CURLOPT_HTTPHEADER, headers);
        return OTELC_ERR_NOMEM;
    }
    t->easy = easy;
    t->user_headers = headers;
    snprintf(t->method, sizeof t->method, "%s", effective_method(easy));
    t->span = start_span(easy, t->method);
    t->sent_headers = build_headers(headers, t->span);
    /* Without our copy the request still goes out with the caller's list. */
    LIBCURL(curl_easy_setopt)
    (easy, CURLOPT_HTTPHEADER, t->sent_headers ? t->sent_headers : headers);
    table_put(t);
    return OTELC_OK;
}

void otelc_curl_end(CURL *easy, CURLcode result)
{
    transfer *t = easy ? table_take(easy) : NULL;

    if (t != NULL) finish(t, result, true);
}

CURLcode otelc_curl_perform(CURL *easy, struct curl_slist *headers)
{
    CURLcode rc;

    otelc_curl_begin(easy, headers);
    rc = LIBCURL(curl_easy_perform)(easy);
    otelc_curl_end(easy, rc);
    return rc;
}

CURLMcode otelc_curl_multi_add(CURLM *multi, CURL *easy, struct curl_slist *headers)
{
    CURLMcode rc;

    otelc_curl_begin(easy, headers);
    rc = LIBCURL(curl_multi_add_handle)(multi, easy);
    if (rc != CURLM_OK) otelc_curl_end(easy, CURLE_FAILED_INIT);
    return rc;
}

bool otelc_curl_multi_done(const CURLMsg *msg)
{
    transfer *t;

    if (msg == NULL || msg->msg != CURLMSG_DONE || msg->easy_handle == NULL) return false;
    t = table_take(msg->easy_handle);
    if (t == NULL) return false;
    finish(t, msg->data.result, true);
    return true;
}
