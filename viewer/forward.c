/*
 * forward.c - forwarding committed spans to the next hop (forward.h).
 *
 * Two threads meet at the queue. The ingest thread (on_commit) encodes
 * each committed batch as one OTLP protobuf request and appends it; the
 * queue holds bytes, not decoded spans, because encoded spans are several
 * times smaller and own no pointers. The forwarding thread takes a group
 * of requests from the head, decodes them back into batches and hands
 * their spans to the OTLP exporter in one export. On failure the group
 * goes back to the head and the thread sleeps a backoff; a group in
 * flight is out of the queue, so making room never frees what is being
 * sent (memory: the queue's bound plus one group).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode_proto.h"
#include "export/otlp.h"
#include "forward.h"
#include "otelc/exporters.h"

#define DEFAULT_MAX_BYTES   ((size_t)64 << 20)
#define DEFAULT_TIMEOUT_MS  10000
#define DEFAULT_BACKOFF_MS  1000
#define DEFAULT_BACKOFF_MAX 30000
#define DEFAULT_COOLDOWN_MS 5000
#define DEFAULT_GRACE_MS    5000
#define GROUP_MAX_SPANS     4096 /* spans per export, at least one request */
#define GROUP_MAX_BYTES     ((size_t)4 << 20)

/* One encoded ExportTraceServiceRequest. */
typedef struct request {
    struct request *next;
    size_t len;
    uint32_t spans;
    uint8_t data[];
} request;

struct vw_forward {
    vw_forward_options o;
    char *url;
    otelc_exporter *exp;
    pthread_t thread;

    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread: a request arrived, or stop */
    pthread_cond_t done; /* vw_forward_stop(): the thread is finishing */
    request *head, **tail;
    size_t queued_bytes; /* of the requests in the queue (the bound applies to these) */
    uint64_t queued_spans;
    uint64_t flight_spans, flight_bytes; /* the group being sent */
    bool stopping, finished;
    uint64_t stop_at_ms;
    vw_forward_stats st;

    /* The ingest thread's, for encoding. */
    otelc_buf enc;
    const otelc_span_data **ptrs;
    size_t ptrs_cap;
};

/* ---- The queue (under lock) ------------------------------------------------------------------ */

static void drop_oldest(vw_forward *f)
{
    request *r = f->head;
    f->head = r->next;
    if (!f->head) f->tail = &f->head;
    f->queued_bytes -= r->len;
    f->queued_spans -= r->spans;
    f->st.spans_dropped += r->spans;
    free(r);
}

/* Keep the queue within its bound, dropping the oldest requests. */
static void make_room(vw_forward *f, size_t incoming)
{
    while (f->head && f->queued_bytes + incoming > f->o.max_bytes) drop_oldest(f);
}

static void enqueue(vw_forward *f, request *r)
{
    pthread_mutex_lock(&f->lock);
    make_room(f, r->len);
    if (r->len > f->o.max_bytes) { /* larger than the whole queue: it can never wait there */
        f->st.spans_dropped += r->spans;
        free(r);
    } else {
        r->next = NULL;
        *f->tail = r;
        f->tail = &r->next;
        f->queued_bytes += r->len;
        f->queued_spans += r->spans;
        pthread_cond_signal(&f->wake);
    }
    pthread_mutex_unlock(&f->lock);
}

/* Take a group of requests from the head (at least one). */
static request *take_group(vw_forward *f)
{
    request *first = f->head, *last = NULL;
    uint64_t spans = 0, bytes = 0;
    for (request *r = first; r; r = r->next) {
        if (last && (spans + r->spans > GROUP_MAX_SPANS || bytes + r->len > GROUP_MAX_BYTES)) break;
        spans += r->spans;
        bytes += r->len;
        last = r;
    }
    f->head = last->next;
    if (!f->head) f->tail = &f->head;
    last->next = NULL;
    f->queued_bytes -= bytes;
    f->queued_spans -= spans;
    f->flight_spans = spans;
    f->flight_bytes = bytes;
    return first;
}

/* A failed group goes back to the head, then the bound is enforced again. */
static void put_back(vw_forward *f, request *group)
{
    request *last = group;
    while (last->next) last = last->next;
    last->next = f->head;
    if (!f->head) f->tail = &last->next;
    f->head = group;
    f->queued_bytes += f->flight_bytes;
    f->queued_spans += f->flight_spans;
    f->flight_spans = f->flight_bytes = 0;
    make_room(f, 0);
}

static void free_requests(request *r)
{
    while (r) {
        request *next = r->next;
        free(r);
        r = next;
    }
}

/* ---- The ingest thread's side -------------------------------------------------------------------
 */

static const otelc_span_data **span_pointers(vw_forward *f, const vw_batch *b)
{
    if (b->count > f->ptrs_cap) {
        const otelc_span_data **p = realloc(f->ptrs, b->count * sizeof *p);
        if (!p) return NULL;
        f->ptrs = p;
        f->ptrs_cap = b->count;
    }
    for (size_t i = 0; i < b->count; i++) f->ptrs[i] = &b->spans[i];
    return f->ptrs;
}

/* One request per committed batch: a receiver's request is the unit the next hop gets. */
static void on_commit(void *ctx, const vw_batch *const *batches, size_t n)
{
    vw_forward *f = ctx;
    for (size_t i = 0; i < n; i++) {
        const vw_batch *b = batches[i];
        if (b->count == 0) continue;
        const otelc_span_data **ptrs = span_pointers(f, b);
        otelc__buf_reset(&f->enc);
        request *r = NULL;
        if (ptrs && otelc__otlp_encode_proto(&f->enc, ptrs, b->count) == OTELC_OK &&
            !f->enc.failed && (r = malloc(sizeof *r + f->enc.len)) != NULL) {
            r->len = f->enc.len;
            r->spans = (uint32_t)b->count;
            memcpy(r->data, f->enc.data, f->enc.len);
            enqueue(f, r);
            continue;
        }
        pthread_mutex_lock(&f->lock); /* out of memory: these spans never reach the next hop */
        f->st.spans_dropped += b->count;
        pthread_mutex_unlock(&f->lock);
    }
}

/* ---- The forwarding thread ----------------------------------------------------------------------
 */

typedef enum outcome { SENT, REFUSED, FAILED } outcome;

/* Decoded requests of a group: reused from export to export. */
typedef struct decoded {
    vw_batch *batches;
    size_t cap;
    const otelc_span_data **ptrs;
    size_t ptrs_cap;
} decoded;

static bool decoded_reserve(decoded *d, size_t batches, size_t spans)
{
    if (batches > d->cap) {
        vw_batch *b = realloc(d->batches, batches * sizeof *b);
        if (!b) return false;
        for (size_t i = d->cap; i < batches; i++) vw_batch_init(&b[i]);
        d->batches = b;
        d->cap = batches;
    }
    if (spans > d->ptrs_cap) {
        const otelc_span_data **p = realloc(d->ptrs, spans * sizeof *p);
        if (!p) return false;
        d->ptrs = p;
        d->ptrs_cap = spans;
    }
    return true;
}

static void decoded_free(decoded *d)
{
    for (size_t i = 0; i < d->cap; i++) vw_batch_free(&d->batches[i]);
    free(d->batches);
    free(d->ptrs);
}

/* Decode the group's requests into d; the number of spans, or -1 when out of memory. */
static long decode_group(const request *group, decoded *d)
{
    size_t nreq = 0, spans = 0;
    for (const request *r = group; r; r = r->next) nreq++, spans += r->spans;
    if (!decoded_reserve(d, nreq, spans)) return -1;
    size_t k = 0, i = 0;
    for (const request *r = group; r; r = r->next, i++) {
        vw_batch *b = &d->batches[i];
        vw_batch_reset(b);
        /* Our own encoding: only memory can make it fail. */
        if (vw_decode_otlp_proto(r->data, r->len, b) != VW_DECODE_OK) return -1;
        for (size_t j = 0; j < b->count && k < spans; j++) d->ptrs[k++] = &b->spans[j];
    }
    return (long)k;
}

/*
 * Export one group. The exporter's statistics tell what a failure was:
 * refused for good (exports_refused grew) or worth another try; and how
 * many spans a delivered request had rejected (partial success).
 */
static outcome send_group(vw_forward *f, const request *group, decoded *d, uint64_t *refused)
{
    long n = decode_group(group, d);
    if (n < 0) return FAILED;
    otelc_otlp_stats before, after;
    otelc__otlp_exporter_stats(f->exp, &before);
    otelc_export_result r = otelc_exporter_export(f->exp, d->ptrs, (size_t)n);
    otelc__otlp_exporter_stats(f->exp, &after);
    *refused = after.spans_rejected - before.spans_rejected;
    if (r == OTELC_EXPORT_SUCCESS) return SENT;
    if (after.exports_refused > before.exports_refused) {
        *refused = (uint64_t)n;
        return REFUSED;
    }
    return FAILED;
}

/* Sleep (lock held) until ms from now, or stop's deadline when stopping. */
static void backoff_wait(vw_forward *f, uint64_t ms)
{
    uint64_t until = otelc__mono_ms() + ms;
    for (;;) {
        uint64_t now = otelc__mono_ms(), end = until;
        if (f->stopping && f->stop_at_ms < end) end = f->stop_at_ms;
        if (now >= end) return;
        struct timespec ts = otelc__deadline_in((uint32_t)(end - now));
        pthread_cond_timedwait(&f->wake, &f->lock, &ts);
    }
}

/* The wait after the failures-th failed export in a row: doubling, bounded, with jitter. */
static uint64_t backoff_ms(const vw_forward *f, uint32_t failures, uint64_t *rng)
{
    otelc_retry_policy p = {.initial_ms = f->o.backoff_initial_ms,
                            .max_backoff_ms = f->o.backoff_max_ms};
    return otelc__retry_backoff_ms(&p, failures, rng);
}

/* After an export (lock held): count it, and free or put back the group. */
static void settle(vw_forward *f, request *group, outcome out, uint64_t refused)
{
    if (out == FAILED) {
        f->st.exports_failed++;
        f->st.spans_retrying = f->flight_spans;
        put_back(f, group);
        return;
    }
    f->st.spans_refused += refused;
    f->st.spans_sent += f->flight_spans - refused;
    f->st.spans_retrying = 0;
    f->flight_spans = f->flight_bytes = 0;
    free_requests(group);
}

static void *run(void *arg)
{
    vw_forward *f = arg;
    decoded d = {0};
    uint32_t failures = 0;
    uint64_t rng = (uint64_t)(uintptr_t)f ^ otelc__mono_ms();
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->head && !f->stopping) pthread_cond_wait(&f->wake, &f->lock);
        if (!f->head || (f->stopping && otelc__mono_ms() >= f->stop_at_ms)) break;
        request *group = take_group(f);
        pthread_mutex_unlock(&f->lock);
        uint64_t refused = 0;
        outcome out = send_group(f, group, &d, &refused);
        pthread_mutex_lock(&f->lock);
        settle(f, group, out, refused);
        failures = out == FAILED ? failures + 1 : 0;
        if (failures) backoff_wait(f, backoff_ms(f, failures, &rng));
    }
    f->finished = true;
    pthread_cond_broadcast(&f->done);
    pthread_mutex_unlock(&f->lock);
    decoded_free(&d);
    return NULL;
}

/* ---- Starting and stopping ----------------------------------------------------------------------
 */

static bool parse_protocol(const char *s, otelc_otlp_protocol *out)
{
    if (!s || strcmp(s, "http/protobuf") == 0)
        *out = OTELC_OTLP_HTTP_PROTOBUF;
    else if (strcmp(s, "http/json") == 0)
        *out = OTELC_OTLP_HTTP_JSON;
    else if (strcmp(s, "grpc") == 0)
        *out = OTELC_OTLP_GRPC;
    else
        return false;
    return true;
}

/*
 * The URL to POST to. An HTTP URL without a path gets OTLP's /v1/traces
 * (`--forward http://collector:4318` means the Collector's receiver); gRPC
 * URLs go as given (the exporter appends the service's path).
 */
static char *endpoint_url(const char *url, otelc_otlp_protocol proto)
{
    const char *authority = strstr(url, "://");
    bool http = strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
    bool bare = proto != OTELC_OTLP_GRPC && http &&
                (!strchr(authority + 3, '/') || strcmp(strchr(authority + 3, '/'), "/") == 0);
    size_t n = strlen(url);
    char *out = malloc(n + sizeof "/v1/traces");
    if (!out) return NULL;
    memcpy(out, url, n + 1);
    if (bare) {
        if (n && out[n - 1] == '/') out[--n] = '\0';
        memcpy(out + n, "/v1/traces", sizeof "/v1/traces");
    }
    return out;
}

static void defaults(vw_forward_options *o)
{
    if (!o->max_bytes) o->max_bytes = DEFAULT_MAX_BYTES;
    if (!o->export_timeout_ms) o->export_timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!o->backoff_initial_ms) o->backoff_initial_ms = DEFAULT_BACKOFF_MS;
    if (!o->backoff_max_ms) o->backoff_max_ms = DEFAULT_BACKOFF_MAX;
    if (o->backoff_max_ms < o->backoff_initial_ms) o->backoff_max_ms = o->backoff_initial_ms;
    if (!o->breaker_cooldown_ms) o->breaker_cooldown_ms = DEFAULT_COOLDOWN_MS;
    if (!o->stop_grace_ms) o->stop_grace_ms = DEFAULT_GRACE_MS;
}

static otelc_exporter *exporter_for(const vw_forward *f, otelc_otlp_protocol proto)
{
    otelc_otlp_exporter_options eo = {
        .endpoint = f->url,
        .protocol = proto,
        .timeout_ms = f->o.export_timeout_ms,
        .retry_initial_ms = f->o.backoff_initial_ms,
        .retry_max_ms = f->o.backoff_max_ms,
        .breaker_cooldown_ms = f->o.breaker_cooldown_ms,
    };
    return otelc_otlp_exporter_new(&eo);
}

static void forward_free(vw_forward *f)
{
    otelc_exporter_free(f->exp);
    free_requests(f->head);
    otelc__buf_free(&f->enc);
    free(f->ptrs);
    free(f->url);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    pthread_cond_destroy(&f->done);
    free(f);
}

vw_forward *vw_forward_start_opts(vw_ingest *in, const vw_forward_options *o, char *err,
                                  size_t err_size)
{
    otelc_otlp_protocol proto;
    if (!o->url || !*o->url) {
        snprintf(err, err_size, "--forward needs a URL");
        return NULL;
    }
    if (!parse_protocol(o->protocol, &proto)) {
        snprintf(err, err_size,
                 "unknown --forward-protocol \"%s\" (http/protobuf, http/json, grpc)", o->protocol);
        return NULL;
    }
    vw_forward *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    f->o = *o;
    defaults(&f->o);
    f->tail = &f->head;
    pthread_mutex_init(&f->lock, NULL);
    otelc__cond_init_monotonic(&f->wake);
    otelc__cond_init_monotonic(&f->done);
    f->url = endpoint_url(o->url, proto);
    f->o.url = f->url;
    f->exp = f->url ? exporter_for(f, proto) : NULL;
    if (!f->exp) {
        snprintf(err, err_size, "cannot forward to %s (libotelc said why above)", o->url);
    } else if (vw_ingest_on_commit(in, on_commit, f) != 0) {
        snprintf(err, err_size, "too many --forward targets");
    } else if (pthread_create(&f->thread, NULL, run, f) != 0) {
        snprintf(err, err_size, "cannot start a thread");
    } else {
        return f;
    }
    forward_free(f);
    return NULL;
}

vw_forward *vw_forward_start(vw_ingest *in, const char *url, const char *protocol, size_t max_bytes,
                             char *err, size_t err_size)
{
    vw_forward_options o = {.url = url, .protocol = protocol, .max_bytes = max_bytes};
    return vw_forward_start_opts(in, &o, err, err_size);
}

void vw_forward_stats_get(vw_forward *f, vw_forward_stats *out)
{
    pthread_mutex_lock(&f->lock);
    *out = f->st;
    out->spans_queued = f->queued_spans + f->flight_spans;
    out->bytes_queued = f->queued_bytes + f->flight_bytes;
    pthread_mutex_unlock(&f->lock);
}

const char *vw_forward_url(const vw_forward *f)
{
    return f->url;
}

void vw_forward_stop(vw_forward *f)
{
    if (!f) return;
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    f->stop_at_ms = otelc__mono_ms() + f->o.stop_grace_ms;
    pthread_cond_signal(&f->wake);
    struct timespec until = otelc__deadline_in(f->o.stop_grace_ms);
    while (!f->finished)
        if (pthread_cond_timedwait(&f->done, &f->lock, &until) != 0) break;
    pthread_mutex_unlock(&f->lock);
    /* An export still under way is cut short; the thread then sees the deadline passed. */
    otelc__exporter_shutdown(f->exp);
    pthread_join(f->thread, NULL);
    while (f->head) drop_oldest(f);
    if (f->st.spans_dropped)
        fprintf(stderr, "otelc view: forward to %s: %llu spans were not delivered\n", f->url,
                (unsigned long long)f->st.spans_dropped);
    forward_free(f);
}
