/*
 * serve_net.c - outgoing HTTP for `otelc serve`: the downstream fetch of
 * GET /users/{id} and the calls of POST /w3c/test.
 *
 * Every call goes through otelc_curl_perform(), so it is a CLIENT span,
 * child of the request's SERVER span (current on the handler's thread), and
 * carries that span's context in traceparent / tracestate / baggage. That
 * is exactly what the W3C Trace Context test service must do: the incoming
 * context was extracted by the server wrapper (a new trace when it was
 * invalid, tracestate kept only when valid), and each call gets the same
 * trace-id with its own new parent-id.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef OTELC_SERVE
#include <curl/curl.h>

#include "otelc/instrument/curl.h"
#include "serve.h"

#define CONNECT_TIMEOUT_MS 5000
#define REQUEST_TIMEOUT_MS 15000

/* /w3c/test calls at most this many URLs per request. */
#define W3C_MAX_CALLS 256

typedef struct capture {
    char *buf;
    size_t len, cap;
} capture;

/* Keep up to SERVE_MAX_CAPTURE bytes of the response; the rest is read and dropped. */
static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    capture *c = userdata;
    size_t bytes = size * n, keep = bytes;
    if (keep > SERVE_MAX_CAPTURE - c->len) keep = SERVE_MAX_CAPTURE - c->len;
    if (keep && c->len + keep + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + keep + 1) cap *= 2;
        char *grown = realloc(c->buf, cap);
        if (!grown) return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
        c->buf = grown;
        c->cap = cap;
    }
    if (keep) {
        memcpy(c->buf + c->len, data, keep);
        c->len += keep;
        c->buf[c->len] = '\0';
    }
    return bytes;
}

static void set_options(CURL *h, const char *url, const char *body, size_t len, capture *cap)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    /* Threads: no SIGALRM for name resolution timeouts. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, cap);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
}

void serve_http(const char *url, const char *body, size_t len, serve_http_result *out)
{
    *out = (serve_http_result){0};
    CURL *h = curl_easy_init();
    struct curl_slist *headers = NULL, *more;
    const char *lines[] = {body ? "Content-Type: application/json" : "Accept: application/json",
                           "Expect:"};
    for (size_t i = 0; h && i < sizeof lines / sizeof *lines; i++) {
        more = curl_slist_append(headers, lines[i]);
        if (more) headers = more;
    }
    if (!h || !headers) {
        snprintf(out->error, sizeof out->error, "out of memory");
        curl_slist_free_all(headers);
        curl_easy_cleanup(h);
        return;
    }
    capture cap = {0};
    set_options(h, url, body, len, &cap);
    CURLcode rc = otelc_curl_perform(h, headers);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    else
        snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
    out->body = cap.buf;
    out->len = cap.len;
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
}

/* ---- POST /w3c/test ------------------------------------------------------------- */

/* Every element must be {"url": string, ...}; checked before any call is made. */
static bool w3c_check(const json_value *doc, serve_reply *r)
{
    if (doc->type != JSON_ARRAY) {
        reply_error(r, 400, "the body must be an array of {\"url\": ..., \"arguments\": ...}");
        return false;
    }
    if (doc->u.array.count > W3C_MAX_CALLS) {
        reply_error(r, 400, "at most %d calls per request", W3C_MAX_CALLS);
        return false;
    }
    for (size_t i = 0; i < doc->u.array.count; i++) {
        const json_value *el = doc->u.array.items[i];
        const json_value *url = otelc__json_object_get(el, "url");
        if (el->type != JSON_OBJECT || !url || url->type != JSON_STRING ||
            strlen(url->u.string.ptr) != url->u.string.len) {
            reply_error(r, 400, "element %zu: expected an object with a \"url\" string", i);
            return false;
        }
    }
    return true;
}

/* "arguments" as JSON text (malloc'd); an absent one is sent as null. */
static char *w3c_arguments(const json_value *el, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f) return NULL;
    const json_value *args = otelc__json_object_get(el, "arguments");
    if (args)
        otelc__json_write(f, args);
    else
        fputs("null", f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* One call; its outcome goes into the results array. Returns whether it completed. */
static bool w3c_call(const json_value *el, FILE *results)
{
    const char *url = otelc__json_object_get(el, "url")->u.string.ptr;
    size_t len = 0;
    char *args = w3c_arguments(el, &len);
    serve_http_result h = {0};
    if (args)
        serve_http(url, args, len, &h);
    else
        snprintf(h.error, sizeof h.error, "out of memory");
    fputs("{\"url\":", results);
    serve_write_str(results, url);
    fprintf(results, ",\"status\":%ld", h.status);
    if (!h.status) {
        fputs(",\"error\":", results);
        serve_write_str(results, h.error);
    }
    fputc('}', results);
    free(h.body);
    free(args);
    return h.status != 0;
}

void serve_w3c_test(const json_value *doc, serve_reply *r)
{
    if (!w3c_check(doc, r) || !reply_open(r, 200)) return;
    bool all = true;
    fputs("{\"calls\":[", r->f);
    /* In order, one at a time: the test harness checks the sequence it receives. */
    for (size_t i = 0; i < doc->u.array.count; i++) {
        if (i) fputc(',', r->f);
        all &= w3c_call(doc->u.array.items[i], r->f);
    }
    fputs("]}\n", r->f);
    /* 200 only when every call got an answer; otherwise the list says which did not. */
    if (!all) r->status = 502;
    reply_close(r);
}
#endif
