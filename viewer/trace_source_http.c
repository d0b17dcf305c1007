/*
 * trace_source_http.c - the trace source over a running viewer's HTTP API
 * (trace_source.h): searches through GET /api/search (Tempo's shape,
 * TraceQL in q), whole traces through GET /api/v3/traces/{id} (OTLP JSON,
 * every field), as the viewer's API contract (API.md) defines them.
 *
 * libcurl is linked here (a program, not the library): one easy handle,
 * so that the requests of one command reuse one connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trace_source.h"

#ifdef OTELC_VIEW_HAVE_CURL

#include <curl/curl.h>

#include "decode_json.h"
#include "export/otlp.h"
#include "json.h"
#include "u64map.h"

#define MAX_BODY        ((size_t)256 << 20) /* a whole trace as JSON can be large */
#define PAGE_MAX        1000          /* traces per search request (the API gives at most 1500) */
#define END_MAX         9223368000ull /* the last second a window ends in (see below) */
#define NS_PER_S        1000000000u
#define CONNECT_TIMEOUT 5000L
#define REQUEST_TIMEOUT 120000L
/* As deep as decode_json.c reads a request (values nested VW_MAX_VALUE_DEPTH), in "result". */
#define MAX_DEPTH (17 + 4 * VW_MAX_VALUE_DEPTH)

typedef struct http_source {
    CURL *curl;
    char *base; /* without a trailing '/' */
    struct curl_slist *headers;
    otelc_buf body;
    bool too_big;
    char curl_err[CURL_ERROR_SIZE];
} http_source;

/* ---- One GET ---------------------------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    http_source *h = ctx;
    size_t len = size * n;
    if (h->body.len + len > MAX_BODY) {
        h->too_big = true;
        return 0; /* aborts the transfer */
    }
    otelc__buf_append(&h->body, p, len);
    return h->body.failed ? 0 : len;
}

/*
 * GET base + path (already escaped). VW_SOURCE_OK with *status and the
 * body in h->body, or VW_SOURCE_UNAVAILABLE / FAILED with err filled.
 */
static int get(http_source *h, const char *path, long *status, char *err, size_t err_size)
{
    otelc_buf url = {0};
    otelc__buf_printf(&url, "%s%s", h->base, path);
    otelc__buf_reset(&h->body);
    h->too_big = false;
    h->curl_err[0] = '\0';
    int rc = VW_SOURCE_OK;
    if (url.failed) {
        snprintf(err, err_size, "out of memory");
        rc = VW_SOURCE_FAILED;
    } else {
        curl_easy_setopt(h->curl, CURLOPT_URL, url.data);
        CURLcode cc = curl_easy_perform(h->curl);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
        } else if (h->too_big || h->body.failed) {
            snprintf(err, err_size, "the viewer's answer to %.200s is larger than %zu MiB", path,
                     MAX_BODY >> 20);
            rc = VW_SOURCE_FAILED;
        } else {
            snprintf(err, err_size, "cannot reach the viewer at %.300s: %s", h->base,
                     h->curl_err[0] ? h->curl_err : curl_easy_strerror(cc));
            rc = VW_SOURCE_UNAVAILABLE;
        }
    }
    otelc__buf_free(&url);
    return rc;
}

/* What a status other than 200 (and other than the caller's own cases) means. */
static int http_error(const http_source *h, const char *path, long status, char *err,
                      size_t err_size)
{
    if (status == 401 || status == 403) {
        snprintf(err, err_size,
                 "the viewer at %.300s refused the request (HTTP %ld): give its token with "
                 "--token or OTELC_VIEW_TOKEN",
                 h->base, status);
        return VW_SOURCE_UNAVAILABLE;
    }
    snprintf(err, err_size, "HTTP %ld from %.300s%.200s", status, h->base, path);
    return status >= 500 ? VW_SOURCE_UNAVAILABLE : VW_SOURCE_FAILED;
}

static const json_value *parse_body(const http_source *h, json_doc *doc)
{
    json_options o = {.max_depth = MAX_DEPTH, .max_size = MAX_BODY, .lossy_utf8 = true};
    return otelc__json_parse(doc, h->body.data ? h->body.data : "", h->body.len, &o, NULL);
}

/* ---- Searching -------------------------------------------------------------------------- */

static bool json_u64(const json_value *obj, const char *key, uint64_t *out)
{
    return otelc__json_uint64(otelc__json_object_get(obj, key), out);
}

static const char *json_str(const json_value *obj, const char *key)
{
    const json_value *v = otelc__json_object_get(obj, key);
    return v && v->type == JSON_STRING ? v->u.string.ptr : NULL;
}

/* The per-service span and error counts, summed over the trace. */
static void add_service_stats(const json_value *stats, vw_summary *t)
{
    for (size_t i = 0; stats && stats->type == JSON_OBJECT && i < stats->u.object.count; i++) {
        const json_value *s = stats->u.object.members[i].value;
        uint64_t spans = 0, errors = 0;
        json_u64(s, "spanCount", &spans);
        json_u64(s, "errorCount", &errors);
        t->span_count += (uint32_t)spans;
        t->error_count += (uint32_t)errors;
    }
}

/* One entry of "traces"; false when it is not one. */
static bool read_summary(const json_value *v, vw_summary *t)
{
    memset(t, 0, sizeof *t);
    const char *id = json_str(v, "traceID");
    if (!id || strlen(id) > 32 || strlen(id) % 2) return false;
    uint8_t raw[16];
    size_t n = strlen(id) / 2;
    if (!vw_hex_decode(id, strlen(id), raw)) return false;
    memcpy(t->trace_id + 16 - n, raw, n); /* Tempo drops leading zeros */
    t->root_service = json_str(v, "rootServiceName");
    t->root_name = json_str(v, "rootTraceName");
    uint64_t start = 0, d = 0, ms = 0;
    if (!json_u64(v, "startTimeUnixNano", &start)) return false;
    if (!json_u64(v, "durationNanos", &d) && json_u64(v, "durationMs", &ms)) d = ms * 1000000u;
    t->start_ns = start;
    t->end_ns = start + d;
    add_service_stats(otelc__json_object_get(v, "serviceStats"), t);
    return true;
}

static void append_escaped(http_source *h, otelc_buf *b, const char *s)
{
    char *e = curl_easy_escape(h->curl, s, 0);
    if (!e) {
        b->failed = true;
        return;
    }
    otelc__buf_puts(b, e);
    curl_free(e);
}

/* A 400's message: {"error": "..."} as the API answers a bad query. */
static int bad_request(const http_source *h, char *err, size_t err_size)
{
    json_doc doc = JSON_DOC_INIT;
    const json_value *root = parse_body(h, &doc);
    const char *msg = root ? json_str(root, "error") : NULL;
    snprintf(err, err_size, "%s", msg ? msg : "the viewer refused the query (HTTP 400)");
    otelc__json_free(&doc);
    return VW_SOURCE_INVALID;
}

/*
 * A search for more traces than one request returns goes window by
 * window: a time window whose answer is full is cut in two, newer half
 * first, until every window's answer is whole. It does not rely on the
 * order of the answer. A trace overlapping two windows comes twice: the
 * ids given are kept (as 64-bit hashes, as the store's own search keeps
 * them) and skipped the second time.
 */
typedef struct searcher {
    vw_source_fn fn;
    void *ctx;
    size_t want, given, in_answer;
    bool stopped, dedupe;
    vw_u64map seen;
} searcher;

/* Whether id was given before; remembers it. false (never seen) when out of memory. */
static bool seen_before(searcher *s, const uint8_t id[16])
{
    uint64_t key = otelc__fnv1a(OTELC_FNV_OFFSET, id, 16);
    bool added = false;
    if (!s->seen.slots && !vw_u64map_init(&s->seen, 4096)) return false;
    uint64_t *v = vw_u64map_put(&s->seen, key, &added);
    if (!v) { /* full: a table twice as large, the keys moved over */
        vw_u64map bigger;
        if (!vw_u64map_init(&bigger, 2 * (s->seen.mask + 1))) return false;
        for (size_t i = 0; i <= s->seen.mask; i++)
            if (s->seen.slots[i].key) vw_u64map_put(&bigger, s->seen.slots[i].key, &added);
        vw_u64map_free(&s->seen);
        s->seen = bigger;
        vw_u64map_put(&s->seen, key, &added);
        return false;
    }
    return !added;
}

/* Hand an answer's traces over (all of them when deliver, else only counted). */
static int take_answer(searcher *s, const json_value *traces, bool deliver, char *err,
                       size_t err_size)
{
    s->in_answer = traces->u.array.count;
    for (size_t i = 0; deliver && i < traces->u.array.count && !s->stopped; i++) {
        vw_summary t;
        if (!read_summary(traces->u.array.items[i], &t)) {
            snprintf(err, err_size, "the viewer's answer to /api/search holds a malformed trace");
            return VW_SOURCE_FAILED;
        }
        if ((s->dedupe && seen_before(s, t.trace_id)) || s->given >= s->want) continue;
        s->given++;
        s->stopped = s->fn(s->ctx, &t, NULL) != 0;
    }
    return VW_SOURCE_OK;
}

/*
 * One request: at most ask traces overlapping [start_s, end_s] (Unix
 * seconds, end covering its whole second; end_s 0: no end). When the
 * answer is full and full_is_partial, its traces are not handed over:
 * the caller looks closer.
 */
static int ask_viewer(http_source *h, const vw_source_query *q, uint64_t start_s, uint64_t end_s,
                      size_t ask, bool full_is_partial, searcher *s, char *err, size_t err_size)
{
    otelc_buf path = {0};
    otelc__buf_puts(&path, "/api/search?q=");
    append_escaped(h, &path, q->traceql && *q->traceql ? q->traceql : "{}");
    otelc__buf_printf(&path, "&limit=%zu&spss=1", ask);
    if (start_s) otelc__buf_printf(&path, "&start=%" PRIu64, start_s);
    if (end_s) otelc__buf_printf(&path, "&end=%" PRIu64, end_s);
    long status = 0;
    int rc = path.failed ? VW_SOURCE_FAILED : get(h, path.data, &status, err, err_size);
    if (path.failed) snprintf(err, err_size, "out of memory");
    otelc__buf_free(&path);
    if (rc == VW_SOURCE_OK && status == 400) return bad_request(h, err, err_size);
    if (rc == VW_SOURCE_OK && status != 200)
        return http_error(h, "/api/search", status, err, err_size);
    if (rc != VW_SOURCE_OK) return rc;
    json_doc doc = JSON_DOC_INIT;
    const json_value *root = parse_body(h, &doc);
    const json_value *traces = root ? otelc__json_object_get(root, "traces") : NULL;
    if (traces && traces->type == JSON_ARRAY) {
        bool full = traces->u.array.count >= ask;
        rc = take_answer(s, traces, !(full && full_is_partial), err, err_size);
    } else {
        snprintf(err, err_size, "the viewer's answer to /api/search is not a search result");
        rc = VW_SOURCE_FAILED;
    }
    otelc__json_free(&doc);
    return rc;
}

typedef struct window {
    uint64_t start_s, end_s;
} window;

/*
 * Every matching trace, window by window (see searcher); at most want of
 * them. A search without an end ends with END_MAX, in 2262: the store
 * keeps times as signed 64-bit nanoseconds.
 */
static int search_windows(http_source *h, const vw_source_query *q, searcher *s, char *err,
                          size_t err_size)
{
    window stack[2 * 64 + 2]; /* bisecting 64-bit ranges: two per level at most */
    size_t depth = 0;
    stack[depth++] = (window){q->start_ns / NS_PER_S, q->end_ns ? q->end_ns / NS_PER_S : END_MAX};
    int rc = VW_SOURCE_OK;
    while (depth > 0 && rc == VW_SOURCE_OK && !s->stopped && s->given < s->want) {
        window w = stack[--depth];
        rc = ask_viewer(h, q, w.start_s, w.end_s, PAGE_MAX, true, s, err, err_size);
        if (rc != VW_SOURCE_OK || s->in_answer < PAGE_MAX) continue;
        if (w.start_s == w.end_s) {
            snprintf(err, err_size,
                     "more than %d traces started within one second: read the store with "
                     "--db, or narrow the search",
                     PAGE_MAX);
            rc = VW_SOURCE_FAILED;
            break;
        }
        uint64_t mid = w.start_s + (w.end_s - w.start_s) / 2;
        stack[depth++] = (window){w.start_s, mid}; /* the older half, after */
        stack[depth++] = (window){mid + 1, w.end_s};
    }
    return rc;
}

static int http_search(void *self, const vw_source_query *q, vw_source_fn fn, void *ctx, char *err,
                       size_t err_size)
{
    http_source *h = self;
    searcher s = {.fn = fn, .ctx = ctx, .want = q->limit};
    int rc;
    if (q->limit <= PAGE_MAX) { /* one request: the newest, as the viewer orders them */
        rc = ask_viewer(h, q, q->start_ns / NS_PER_S, q->end_ns / NS_PER_S, q->limit, false, &s,
                        err, err_size);
    } else {
        s.dedupe = true;
        rc = search_windows(h, q, &s, err, err_size);
    }
    vw_u64map_free(&s.seen);
    return rc;
}

/* ---- One trace -------------------------------------------------------------------------- */

static int http_trace(void *self, const uint8_t id[16], vw_batch *out, char *err, size_t err_size)
{
    http_source *h = self;
    char path[64] = "/api/v3/traces/";
    otelc__hex_encode(id, 16, path + strlen(path));
    path[sizeof "/api/v3/traces/" - 1 + 32] = '\0';
    long status = 0;
    int rc = get(h, path, &status, err, err_size);
    if (rc != VW_SOURCE_OK) return -rc;
    if (status == 404) return 0;
    if (status != 200) return -http_error(h, path, status, err, err_size);
    vw_decode_status st =
        vw_decode_otlp_json_in(h->body.data ? h->body.data : "", h->body.len, "result", out);
    if (st != VW_DECODE_OK) {
        snprintf(err, err_size, "the viewer's answer to %s is not an OTLP/JSON trace", path);
        return -VW_SOURCE_FAILED;
    }
    return out->count > 0;
}

/* ---- Opening ---------------------------------------------------------------------------- */

static void http_close(void *self)
{
    http_source *h = self;
    if (h->curl) curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    otelc__buf_free(&h->body);
    free(h->base);
    free(h);
}

static const vw_source_ops http_ops = {
    .search = http_search,
    .trace = http_trace,
    .close = http_close,
};

static bool add_header(http_source *h, const char *line)
{
    struct curl_slist *l = curl_slist_append(h->headers, line);
    if (l) h->headers = l;
    return l != NULL;
}

static bool set_up(http_source *h, const char *token)
{
    if (!add_header(h, "Accept: application/json")) return false;
    if (token) {
        otelc_buf line = {0};
        otelc__buf_printf(&line, "Authorization: Bearer %s", token);
        bool ok = !line.failed && add_header(h, line.data);
        otelc__buf_free(&line);
        if (!ok) return false;
    }
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    return true;
}

int vw_source_open_http(const char *base_url, const char *token, vw_source **out, char *err,
                        size_t err_size)
{
    if (strncasecmp(base_url, "http://", 7) != 0 && strncasecmp(base_url, "https://", 8) != 0) {
        snprintf(err, err_size, "--url takes an http:// or https:// URL, not \"%s\"", base_url);
        return VW_SOURCE_INVALID;
    }
    http_source *h = calloc(1, sizeof *h);
    if (h) h->base = strdup(base_url);
    if (h && h->base) {
        size_t n = strlen(h->base);
        while (n > 0 && h->base[n - 1] == '/') h->base[--n] = '\0';
        h->curl = curl_easy_init();
    }
    if (!h || !h->base || !h->curl || !set_up(h, token)) {
        if (h) http_close(h);
        snprintf(err, err_size, "out of memory");
        return VW_SOURCE_FAILED;
    }
    *out = vw_source_new(&http_ops, h);
    if (*out) return VW_SOURCE_OK;
    snprintf(err, err_size, "out of memory");
    return VW_SOURCE_FAILED;
}

#else

int vw_source_open_http(const char *base_url, const char *token, vw_source **out, char *err,
                        size_t err_size)
{
    (void)base_url;
    (void)token;
    (void)out;
    snprintf(err, err_size,
             "this otelc-view was built without libcurl (libcurl4-openssl-dev): "
             "read a store file with --db FILE");
    return VW_SOURCE_FAILED;
}

#endif
