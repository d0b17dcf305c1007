/*
 * otlp_exporter.c - the OTLP exporter: encode a batch, send it over HTTP or
 * gRPC, retry transient failures, and hand what could not be delivered to
 * the fallback exporter.
 *
 * Threading. export_spans runs on the batch processor's worker, never
 * concurrently for one exporter, so the buffers, the HTTP or HTTP/2 client
 * and the circuit breaker belong to that thread without a lock. Only three things
 * cross threads: the stop flag (shutdown may come from another thread and
 * must cut a retry wait or a transfer short), the condition variable the
 * retry wait sleeps on, and the statistics, which are atomics.
 *
 * Bounded time. One export never takes longer than timeout_ms: every
 * attempt gets the time that remains, and a retry whose wait would end
 * past the deadline is not made at all. While the circuit is open the
 * exporter makes no network call, so a backend that hangs costs the worker
 * threshold x timeout once, then nothing until the next probe. Application
 * threads never wait on any of it: they only queue spans (see batch.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "export/otlp.h"

#ifdef OTELC_HAVE_CURL

#define DEFAULT_TIMEOUT_MS  10000
#define DEFAULT_ATTEMPTS    5
#define DEFAULT_INITIAL_MS  1000
#define DEFAULT_MAX_BACKOFF 5000
#define DEFAULT_THRESHOLD   5
#define DEFAULT_COOLDOWN_MS 5000
#define MAX_COOLDOWN_MS     300000

struct otlp_counters {
    _Atomic uint64_t requests, retries, exports_ok, exports_failed, exports_refused, spans_ok,
        spans_failed, spans_rejected, breaker_opened, breaker_skipped, fallback_batches,
        spans_abandoned, spans_breaker, spans_spooled;
};

/*
 * Why a batch was not delivered: each has its own count. All but REFUSED
 * (the backend answered, and would refuse it again) are spooled when a
 * spool is configured.
 */
enum undelivered_reason { REFUSED, FAILED, ABANDONED, BREAKER_OPEN };

/* The circuit breaker; touched by the exporting thread only. */
struct breaker {
    uint32_t threshold;
    uint32_t failures; /* consecutive failed exports */
    bool open;
    uint64_t open_until_ms;
    uint64_t base_ms, cooldown_ms;
};

struct otlp {
    otelc_otlp_protocol protocol;
    bool gzip;
    uint32_t timeout_ms;
    otelc_retry_policy retry;
    struct breaker breaker;
    otelc_exporter *fallback;
    otelc_http *http; /* OTLP/HTTP */
    otelc_h2 *h2;     /* OTLP/gRPC */
    char *url;
    otelc_buf body;            /* the encoded request, when it has to be whole */
    otelc_buf wire;            /* compressed and/or framed: what is sent */
    otelc_proto_stream stream; /* or the request encoded while it is sent */
    uint8_t frame[OTELC_GRPC_FRAME_HEADER];
    size_t frame_sent;
    otelc_body out; /* what the attempts send: wire or stream */
    otelc_http_response resp;
    /*
     * The first transport error of the export in progress: when the last
     * attempt is cut short by the export's deadline, the log names what
     * actually failed (a certificate, a refused connection) beside it.
     */
    char first_error[256];
    uint64_t rng;

    otelc_stopper stopper; /* shutdown cuts retry waits and transfers short */
    struct otlp_counters c;
    /*
     * The transport's settings, kept so that it is opened on the exporting
     * thread, not in otelc_otlp_exporter_new(): loading libcurl and its TLS
     * libraries and initialising them takes 5-25 ms, which the application
     * thread calling otelc_init() should not wait for. The batch worker
     * opens it as it starts (otlp_prepare); otherwise the first export that
     * goes to the network does, and a process that finds the endpoint down
     * at once never loads them at all. transport_failed: opening failed
     * (logged); exports fail without trying again.
     */
    char *headers, *certificate, *client_key, *client_certificate;
    bool transport_failed;
    /* Exporters configured from the environment share what they find with other processes. */
    bool shared;
    bool told_shared_open; /* logged once that another process found the endpoint down */
    otelc_shared_breaker shared_breaker;
    otelc_spool *spool; /* OTELC_SPOOL_DIR, for exporters configured from the environment */
};

static const otelc_exporter_ops otlp_ops;
static bool open_transport(struct otlp *x);

static void bump(_Atomic uint64_t *v, uint64_t n)
{
    atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

/* ---- Circuit breaker ---------------------------------------------------------- */

/* While open and cooling down, batches skip the network entirely. */
static bool breaker_blocks(const struct breaker *b, uint64_t now)
{
    return b->open && now < b->open_until_ms;
}

/* The backend answered (even with a rejection): it is reachable again. */
static void breaker_alive(struct breaker *b)
{
    if (b->open) otelc__log(OTELC_LOG_INFO, "OTLP exporter: backend reachable again");
    b->open = false;
    b->failures = 0;
    b->cooldown_ms = b->base_ms;
}

/* A failed export; a failed probe doubles the cool-down. Returns true when it opened. */
static bool breaker_failed(struct breaker *b, uint64_t now)
{
    if (b->open) {
        b->cooldown_ms =
            b->cooldown_ms * 2 > MAX_COOLDOWN_MS ? MAX_COOLDOWN_MS : b->cooldown_ms * 2;
        b->open_until_ms = now + b->cooldown_ms;
        return false;
    }
    if (++b->failures < b->threshold) return false;
    b->open = true;
    b->cooldown_ms = b->base_ms;
    b->open_until_ms = now + b->cooldown_ms;
    return true;
}

/*
 * Another process found the endpoint hung or down a moment ago: skip it,
 * as that process's own breaker would. Said once, at info level: the
 * process that found it down has warned. Only exporters configured from
 * the environment share (OTELC_BREAKER_INTERVAL): a program that builds
 * its own exporter sets its own policy through the options.
 */
static bool shared_breaker_blocks(struct otlp *x)
{
    if (!x->shared) return false;
    uint64_t until = otelc__shared_breaker_open_until(&x->shared_breaker);
    if (until && !x->told_shared_open) {
        x->told_shared_open = true;
        otelc__log(OTELC_LOG_INFO,
                   "OTLP exporter: %s was found down by another process; not sending to it for "
                   "%llu s (OTELC_BREAKER_INTERVAL)",
                   x->url, (unsigned long long)(until / 1000 - (uint64_t)time(NULL)));
    }
    return until != 0;
}

/*
 * Whether the last attempt found the endpoint hung or unreachable, as any
 * process would: cut short or timed out, no connection, no answer, or a
 * gateway or gRPC saying the backend is unavailable. Not a TLS or
 * certificate failure, which may be this process's configuration alone
 * (another with the right certificate gets through), nor a refusal.
 */
static bool found_down(const otelc_http_response *r)
{
    enum { COULDNT_RESOLVE_HOST = 6, GOT_NOTHING = 52, GRPC_UNAVAILABLE = 14 };
    if (r->cancelled || r->timed_out) return true;
    switch (r->transport_error) {
    case 0:
        break;
    case COULDNT_RESOLVE_HOST:
    case OTELC_IO_COULDNT_CONNECT:
    case OTELC_IO_TIMEDOUT:
    case GOT_NOTHING:
        return true;
    default:
        return false;
    }
    return r->grpc_status == GRPC_UNAVAILABLE || r->status == 502 || r->status == 503 ||
           r->status == 504;
}

/* ---- One attempt ------------------------------------------------------------------------ */

static void parse_http_body(struct otlp *x, otelc_otlp_response *parsed)
{
    const otelc_buf *b = &x->resp.body;
    if (b->len == 0) return;
    int rc = x->protocol == OTELC_OTLP_HTTP_JSON
                 ? otelc__otlp_parse_response_json(b->data, b->len, parsed)
                 : otelc__otlp_parse_response_proto(b->data, b->len, parsed);
    if (rc != OTELC_OK) otelc__log(OTELC_LOG_DEBUG, "OTLP/HTTP: unreadable response body ignored");
}

/* One request, and the response's partial-success counts when it was delivered. */
struct attempt_ctx {
    struct otlp *x;
    otelc_otlp_response *parsed;
};

/*
 * Keep the first attempt's transport error, to name it when a shutdown
 * cuts the retries short. An attempt the shutdown itself cancelled says
 * only that ("Callback aborted"): it is not the reason.
 */
static void note_first_error(struct otlp *x)
{
    if (x->resp.transport_error && !x->resp.cancelled && !x->first_error[0])
        otelc__strlcpy(x->first_error, x->resp.error, sizeof x->first_error);
}

static otelc_attempt attempt(void *ctx, uint32_t timeout_ms)
{
    struct attempt_ctx *ac = ctx;
    struct otlp *x = ac->x;
    bump(&x->c.requests, 1);
    if (x->protocol == OTELC_OTLP_GRPC) {
        otelc_attempt a = otelc__otlp_grpc_attempt(x->h2, &x->out, timeout_ms, &x->stopper.stop,
                                                   &x->resp, ac->parsed);
        note_first_error(x);
        return a;
    }
    otelc_attempt a = otelc__http_attempt(x->http, &x->out, timeout_ms, &x->stopper, &x->resp);
    if (a.verdict == OTELC_RETRY_DONE) parse_http_body(x, ac->parsed);
    note_first_error(x);
    return a;
}

static otelc_attempt deliver(struct otlp *x, uint32_t max_attempts, otelc_otlp_response *parsed)
{
    struct attempt_ctx ac = {x, parsed};
    x->first_error[0] = '\0';
    return otelc__retry_run(&x->retry, x->timeout_ms, max_attempts, &x->rng, &x->stopper, attempt,
                            &ac, &x->c.retries);
}

/* ---- Encoding ------------------------------------------------------------------------------ */

/* The streamed body: the gRPC frame header (when there is one), then the request. */
static size_t stream_read(void *ctx, void *dst, size_t room)
{
    struct otlp *x = ctx;
    size_t head = x->protocol == OTELC_OTLP_GRPC ? sizeof x->frame : 0, n = 0;
    if (x->frame_sent < head && room > 0) {
        n = head - x->frame_sent < room ? head - x->frame_sent : room;
        memcpy(dst, x->frame + x->frame_sent, n);
        x->frame_sent += n;
    }
    return n + otelc__otlp_proto_read(&x->stream, (uint8_t *)dst + n, room - n);
}

static void stream_rewind(void *ctx)
{
    struct otlp *x = ctx;
    x->frame_sent = 0;
    otelc__otlp_proto_rewind(&x->stream);
}

/*
 * Uncompressed protobuf is encoded while libcurl sends it: the batch is
 * never held a second time as bytes, which is most of the exporter's memory
 * while a backend is down and a batch is being retried. JSON and gzip need
 * the whole request first.
 */
static int encode_streamed(struct otlp *x, const otelc_span_data *const *spans, size_t n)
{
    if (otelc__otlp_proto_open(&x->stream, spans, n) != OTELC_OK) return OTELC_ERR_NOMEM;
    bool grpc = x->protocol == OTELC_OTLP_GRPC;
    if (grpc && !otelc__grpc_frame_header(x->frame, x->stream.total, false)) return OTELC_ERR_NOMEM;
    x->out = (otelc_body){.len = x->stream.total + (grpc ? sizeof x->frame : 0),
                          .read = stream_read,
                          .rewind = stream_rewind,
                          .ctx = x};
    return OTELC_OK;
}

/* Make x->out what goes on the wire for this batch. */
static int encode(struct otlp *x, const otelc_span_data *const *spans, size_t n)
{
    if (!x->gzip && x->protocol != OTELC_OTLP_HTTP_JSON) return encode_streamed(x, spans, n);
    otelc__buf_reset(&x->body);
    otelc__buf_reset(&x->wire);
    bool grpc = x->protocol == OTELC_OTLP_GRPC;
    size_t frame = grpc ? otelc__grpc_frame_begin(&x->wire) : 0;
    /* Uncompressed, the request is encoded where it is sent from: no copy of a whole batch. */
    otelc_buf *target = x->gzip ? &x->body : &x->wire;
    int rc = x->protocol == OTELC_OTLP_HTTP_JSON ? otelc__otlp_encode_json(target, spans, n)
                                                 : otelc__otlp_encode_proto(target, spans, n);
    if (rc != OTELC_OK || target->failed) return OTELC_ERR_NOMEM;
    if (x->gzip && otelc__gzip(&x->wire, x->body.data, x->body.len) != OTELC_OK)
        return OTELC_ERR_NOMEM;
    if (grpc && otelc__grpc_frame_end(&x->wire, frame, x->gzip) != OTELC_OK) return OTELC_ERR_NOMEM;
    x->out = otelc__body_of(&x->wire);
    return x->wire.failed ? OTELC_ERR_NOMEM : OTELC_OK;
}

/* ---- Outcomes ----------------------------------------------------------------------------------
 */

/* The batch did not reach the backend: count it by reason, and give it to the fallback. */
static otelc_export_result undelivered(struct otlp *x, const otelc_span_data *const *spans,
                                       size_t n, enum undelivered_reason why)
{
    bump(&x->c.exports_failed, 1);
    bump(&x->c.spans_failed, n);
    if (why != REFUSED && otelc__spool_put(x->spool, spans, n))
        bump(&x->c.spans_spooled, n);
    else if (why == ABANDONED)
        bump(&x->c.spans_abandoned, n);
    else if (why == BREAKER_OPEN)
        bump(&x->c.spans_breaker, n);
    if (x->fallback && !x->fallback->shut_down) {
        bump(&x->c.fallback_batches, 1);
        otelc_exporter_export(x->fallback, spans, n);
    }
    return OTELC_EXPORT_FAILURE;
}

static void log_failure(struct otlp *x, bool transient)
{
    const otelc_http_response *r = &x->resp;
    const char *kind = transient ? "gave up after retrying" : "rejected";
    if (r->transport_error && x->first_error[0] && strcmp(x->first_error, r->error) != 0)
        otelc__log(OTELC_LOG_WARN, "OTLP export to %s failed: %s (first attempt: %s)", x->url,
                   r->error, x->first_error);
    else if (r->transport_error)
        otelc__log(OTELC_LOG_WARN, "OTLP export to %s failed: %s", x->url, r->error);
    else if (x->protocol == OTELC_OTLP_GRPC)
        otelc__log(OTELC_LOG_WARN, "OTLP export %s: gRPC status %d %.200s", kind, r->grpc_status,
                   r->grpc_message);
    else
        otelc__log(OTELC_LOG_WARN, "OTLP export %s: HTTP %ld", kind, r->status);
}

/* A spooled request, as it is sent: like encode(), from bytes already encoded. */
static int encode_raw(struct otlp *x, const void *request, size_t len)
{
    otelc__buf_reset(&x->wire);
    bool grpc = x->protocol == OTELC_OTLP_GRPC;
    size_t frame = grpc ? otelc__grpc_frame_begin(&x->wire) : 0;
    if (x->gzip) {
        if (otelc__gzip(&x->wire, request, len) != OTELC_OK) return OTELC_ERR_NOMEM;
    } else {
        otelc__buf_append(&x->wire, request, len);
    }
    if (grpc && otelc__grpc_frame_end(&x->wire, frame, x->gzip) != OTELC_OK) return OTELC_ERR_NOMEM;
    x->out = otelc__body_of(&x->wire);
    return x->wire.failed ? OTELC_ERR_NOMEM : OTELC_OK;
}

/*
 * One spooled request, one attempt: the backend just took a batch, and a
 * failure leaves the file for later. A request refused for good is done
 * (it would be refused forever).
 */
static bool send_spooled(void *ctx, const void *request, size_t len)
{
    struct otlp *x = ctx;
    otelc_otlp_response parsed;
    memset(&parsed, 0, sizeof parsed);
    if (encode_raw(x, request, len) != OTELC_OK) return false;
    otelc_attempt a = deliver(x, 1, &parsed);
    if (x->resp.cancelled) return false; /* cut by shutdown: the next process sends it */
    if (a.verdict == OTELC_RETRY_FAIL)
        otelc__log(OTELC_LOG_WARN, "OTLP export of a spooled request refused; it is dropped");
    return a.verdict != OTELC_RETRY_AGAIN;
}

/* Spans the server dropped by partial success count as failed, never retried. */
static void delivered(struct otlp *x, size_t n, const otelc_otlp_response *parsed)
{
    uint64_t rejected = parsed->rejected_spans > 0 ? (uint64_t)parsed->rejected_spans : 0;
    if (rejected > n) rejected = n;
    bump(&x->c.exports_ok, 1);
    bump(&x->c.spans_ok, n - rejected);
    if (rejected || parsed->error_message[0])
        otelc__log(OTELC_LOG_WARN, "OTLP export: server rejected %llu of %zu spans: %.200s",
                   (unsigned long long)rejected, n, parsed->error_message);
    if (!rejected) return;
    bump(&x->c.spans_rejected, rejected);
    bump(&x->c.spans_failed, rejected);
    otelc__stats_global_add(OTELC_STAT_EXPORT_FAILED_SPANS, rejected);
}

static otelc_export_result otlp_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    struct otlp *x = self;
    if (n == 0) return OTELC_EXPORT_SUCCESS;
    if (atomic_load(&x->stopper.stop)) return undelivered(x, spans, n, ABANDONED);
    uint64_t now = otelc__mono_ms();
    if (breaker_blocks(&x->breaker, now) || shared_breaker_blocks(x)) {
        bump(&x->c.breaker_skipped, 1);
        return undelivered(x, spans, n, BREAKER_OPEN);
    }
    if (!x->http && !x->h2 && !open_transport(x)) return undelivered(x, spans, n, FAILED);
    int rc = encode(x, spans, n);
    if (rc != OTELC_OK) {
        otelc__otlp_proto_close(&x->stream);
        otelc__log(OTELC_LOG_ERROR, "OTLP export: out of memory encoding %zu spans", n);
        return undelivered(x, spans, n, FAILED);
    }
    /* A probe of an open circuit is one request: if it fails, stay open. */
    otelc_otlp_response parsed;
    memset(&parsed, 0, sizeof parsed);
    otelc_attempt a = deliver(x, x->breaker.open ? 1 : x->retry.max_attempts, &parsed);
    otelc__otlp_proto_close(&x->stream); /* the spans are the caller's again */
    if (a.verdict == OTELC_RETRY_DONE) {
        breaker_alive(&x->breaker);
        if (x->shared) otelc__shared_breaker_close(&x->shared_breaker);
        delivered(x, n, &parsed);
        /* The backend is reachable: what earlier processes could not deliver goes now. */
        otelc__spool_drain(x->spool, send_spooled, x, &x->stopper.stop);
        return OTELC_EXPORT_SUCCESS;
    }
    bool transient = a.verdict == OTELC_RETRY_AGAIN;
    if (!x->resp.cancelled)
        log_failure(x, transient);
    else if (x->first_error[0]) /* a shutdown cut the retries short: say why they were needed */
        otelc__log(OTELC_LOG_WARN, "OTLP export to %s failed: %s (retries stopped by shutdown)",
                   x->url, x->first_error);
    else
        otelc__log(OTELC_LOG_WARN,
                   "OTLP export to %s failed: shutdown came before an attempt completed", x->url);
    if (!transient && !x->resp.cancelled) { /* refused for good: the backend is alive */
        breaker_alive(&x->breaker);
        if (x->shared) otelc__shared_breaker_close(&x->shared_breaker);
        bump(&x->c.exports_refused, 1);
        return undelivered(x, spans, n, REFUSED);
    }
    /* Hung (cut short) or down: the processes that follow need not find out again. */
    if (x->shared && found_down(&x->resp)) otelc__shared_breaker_trip(&x->shared_breaker);
    if (breaker_failed(&x->breaker, otelc__mono_ms())) {
        bump(&x->c.breaker_opened, 1);
        otelc__log(OTELC_LOG_WARN, "OTLP exporter: %u exports failed in a row; pausing for %llu ms",
                   x->breaker.failures, (unsigned long long)x->breaker.cooldown_ms);
    }
    bool cut = x->resp.cancelled || atomic_load(&x->stopper.stop);
    return undelivered(x, spans, n, cut ? ABANDONED : FAILED);
}

/* ---- Lifecycle
 * ------------------------------------------------------------------------------------ */

/* Nothing is buffered here; the fallback may buffer. */
static int otlp_force_flush(void *self, uint32_t timeout_ms)
{
    struct otlp *x = self;
    otelc_exporter *fb = x->fallback;
    if (!fb || fb->shut_down || !fb->ops->force_flush) return OTELC_OK;
    return fb->ops->force_flush(fb->self, timeout_ms);
}

/*
 * From any thread: cuts a retry wait or a transfer short. An HTTP transfer
 * ends at once (its sockets are shut down), a gRPC call within the HTTP/2
 * client's poll slice (100 ms).
 */
static void otlp_shutdown(void *self)
{
    struct otlp *x = self;
    otelc__stopper_stop(&x->stopper);
    otelc__http_interrupt(__atomic_load_n(&x->http, __ATOMIC_ACQUIRE));
}

/* What was lost, once, as the exporter goes: the counts say why. */
static void log_undelivered(struct otlp *x)
{
    uint64_t failed = atomic_load(&x->c.spans_failed);
    uint64_t abandoned = atomic_load(&x->c.spans_abandoned);
    uint64_t breaker = atomic_load(&x->c.spans_breaker);
    uint64_t spooled = atomic_load(&x->c.spans_spooled);
    if (failed == 0) return;
    if (spooled == failed) {
        otelc__log(OTELC_LOG_INFO, "OTLP exporter to %s: %llu spans spooled for a later process",
                   x->url, (unsigned long long)spooled);
        return;
    }
    /* Only skipped for a known-down endpoint: that was said when it was found down. */
    otelc__log(breaker == failed ? OTELC_LOG_INFO : OTELC_LOG_WARN,
               "OTLP exporter to %s: %llu spans not delivered (%llu abandoned at shutdown, %llu "
               "while the endpoint was marked down, %llu spooled, %llu failed or rejected)",
               x->url, (unsigned long long)failed, (unsigned long long)abandoned,
               (unsigned long long)breaker, (unsigned long long)spooled,
               (unsigned long long)(failed - abandoned - breaker - spooled));
}

static void otlp_destroy(void *self)
{
    struct otlp *x = self;
    if (x->url) log_undelivered(x);
    otelc__spool_free(x->spool);
    otelc_exporter_free(x->fallback);
    otelc__http_free(x->http);
    otelc__h2_free(x->h2);
    otelc__http_response_free(&x->resp);
    otelc__buf_free(&x->body);
    otelc__buf_free(&x->wire);
    otelc__stopper_destroy(&x->stopper);
    free(x->url);
    free(x->headers);
    free(x->certificate);
    free(x->client_key);
    free(x->client_certificate);
    free(x);
}

/*
 * In a fork child, where the parent's export may have been mid-flight: its
 * buffers, stream and response are abandoned (otelc__abandon), the
 * transport drops the parent's connection, and the stopper's lock is made
 * anew.
 */
static void otlp_after_fork_child(void *self)
{
    struct otlp *x = self;
    otelc__http_after_fork_child(x->http);
    otelc__h2_after_fork_child(x->h2);
    otelc__buf_abandon(&x->body);
    otelc__buf_abandon(&x->wire);
    otelc__buf_abandon(&x->resp.body);
    otelc__otlp_proto_abandon(&x->stream);
    otelc__stopper_after_fork_child(&x->stopper);
    otelc__spool_after_fork_child(x->spool);
    otelc_exporter_after_fork_child(x->fallback);
}

static const otelc_exporter_ops otlp_ops = {
    .export_spans = otlp_export,
    .force_flush = otlp_force_flush,
    .shutdown = otlp_shutdown,
    .destroy = otlp_destroy,
    .after_fork_child = otlp_after_fork_child,
};

bool otelc__otlp_exporter_stats(const otelc_exporter *e, otelc_otlp_stats *out)
{
    if (!e || e->ops != &otlp_ops) return false;
    const struct otlp_counters *c = &((const struct otlp *)e->self)->c;
    out->requests = atomic_load(&c->requests);
    out->retries = atomic_load(&c->retries);
    out->exports_ok = atomic_load(&c->exports_ok);
    out->exports_failed = atomic_load(&c->exports_failed);
    out->exports_refused = atomic_load(&c->exports_refused);
    out->spans_ok = atomic_load(&c->spans_ok);
    out->spans_failed = atomic_load(&c->spans_failed);
    out->spans_rejected = atomic_load(&c->spans_rejected);
    out->breaker_opened = atomic_load(&c->breaker_opened);
    out->breaker_skipped = atomic_load(&c->breaker_skipped);
    out->fallback_batches = atomic_load(&c->fallback_batches);
    out->spans_abandoned = atomic_load(&c->spans_abandoned);
    out->spans_breaker = atomic_load(&c->spans_breaker);
    out->spans_spooled = atomic_load(&c->spans_spooled);
    uint64_t spooled, dropped;
    otelc__spool_counts(((const struct otlp *)e->self)->spool, &spooled, &dropped,
                        &out->spans_unspooled);
    return true;
}

/* ---- Creation
 * --------------------------------------------------------------------------------------- */

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v ? v : def;
}

/*
 * The URL to POST to. gRPC accepts "host:port" (plaintext only when
 * insecure) and always appends the service path; HTTP uses the endpoint
 * as given.
 */
static char *resolve_url(const otelc_otlp_exporter_options *o)
{
    bool grpc = o->protocol == OTELC_OTLP_GRPC;
    const char *ep = o->endpoint;
    if (!ep) ep = grpc ? "http://localhost:4317" : "http://localhost:4318/v1/traces";
    bool has_scheme = strstr(ep, "://") != NULL;
    if (has_scheme && strncasecmp(ep, "http://", 7) != 0 && strncasecmp(ep, "https://", 8) != 0) {
        otelc__log(OTELC_LOG_ERROR, "OTLP exporter: endpoint \"%.200s\" is not http(s)", ep);
        return NULL;
    }
    if (!grpc) return strdup(ep);
    const char *scheme = has_scheme ? "" : o->insecure ? "http://" : "https://";
    size_t n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/') n--;
    size_t len = strlen(scheme) + n + sizeof OTELC_GRPC_PATH;
    char *url = malloc(len);
    if (url) snprintf(url, len, "%s%.*s%s", scheme, (int)n, ep, OTELC_GRPC_PATH);
    return url;
}

/*
 * The HTTP client, or for gRPC the HTTP/2 one; false after logging why
 * neither could be made (then, and after one failure before, nothing is tried).
 */
static bool open_transport(struct otlp *x)
{
    if (x->transport_failed) return false;
    char agent[64];
    snprintf(agent, sizeof agent, "User-Agent: OTel-OTLP-Exporter-C/%s", otelc_version());
    const char *fixed[5] = {agent};
    size_t k = 1;
    if (x->protocol == OTELC_OTLP_GRPC) {
        fixed[k++] = "Content-Type: application/grpc";
        fixed[k++] = "TE: trailers";
        if (x->gzip) fixed[k++] = "grpc-encoding: gzip";
    } else {
        fixed[k++] = x->protocol == OTELC_OTLP_HTTP_JSON ? "Content-Type: application/json"
                                                         : "Content-Type: application/x-protobuf";
        if (x->gzip) fixed[k++] = "Content-Encoding: gzip";
    }
    fixed[k] = NULL;
    otelc_http_config cfg = {
        .url = x->url,
        .fixed_headers = fixed,
        .user_headers = x->headers,
        .ca_file = x->certificate,
        .client_key = x->client_key,
        .client_cert = x->client_certificate,
    };
    if (x->protocol == OTELC_OTLP_GRPC) {
        x->h2 = otelc__h2_new(&cfg);
    } else {
        /* Published for otlp_shutdown, which may interrupt it from another thread. */
        __atomic_store_n(&x->http, otelc__http_new(&cfg), __ATOMIC_RELEASE);
    }
    x->transport_failed = !x->http && !x->h2;
    return !x->transport_failed;
}

/* The batch worker, as it starts: the transport is ready before the first batch. */
static void otlp_prepare(void *self)
{
    struct otlp *x = self;
    if (x->http || x->h2 || x->transport_failed || atomic_load(&x->stopper.stop)) return;
    if (x->shared && otelc__shared_breaker_open_until(&x->shared_breaker)) return; /* known down */
    open_transport(x);
}

static void apply_options(struct otlp *x, const otelc_otlp_exporter_options *o)
{
    x->protocol = o->protocol;
    x->gzip = o->gzip;
    x->timeout_ms = or_default(o->timeout_ms, DEFAULT_TIMEOUT_MS);
    x->retry.max_attempts = or_default(o->max_attempts, DEFAULT_ATTEMPTS);
    x->retry.initial_ms = or_default(o->retry_initial_ms, DEFAULT_INITIAL_MS);
    x->retry.max_backoff_ms = or_default(o->retry_max_ms, DEFAULT_MAX_BACKOFF);
    if (x->retry.max_backoff_ms < x->retry.initial_ms)
        x->retry.max_backoff_ms = x->retry.initial_ms;
    x->retry.max_retry_ms = or_default(o->max_retry_ms, x->timeout_ms);
    x->breaker.threshold = or_default(o->breaker_threshold, DEFAULT_THRESHOLD);
    x->breaker.base_ms = or_default(o->breaker_cooldown_ms, DEFAULT_COOLDOWN_MS);
    x->breaker.cooldown_ms = x->breaker.base_ms;
    x->rng = otelc__mono_ms() ^ (uint64_t)(uintptr_t)x;
}

static bool copy_str(char **dst, const char *src)
{
    return !src || (*dst = strdup(src)) != NULL;
}

static bool copy_transport_options(struct otlp *x, const otelc_otlp_exporter_options *o)
{
    return copy_str(&x->headers, o->headers) && copy_str(&x->certificate, o->certificate) &&
           copy_str(&x->client_key, o->client_key) &&
           copy_str(&x->client_certificate, o->client_certificate);
}

static struct otlp *otlp_alloc(const otelc_otlp_exporter_options *o)
{
    if ((unsigned)o->protocol > OTELC_OTLP_GRPC) {
        otelc__log(OTELC_LOG_ERROR, "OTLP exporter: unknown protocol %d", (int)o->protocol);
        return NULL;
    }
    struct otlp *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    apply_options(x, o);
    otelc__stopper_init(&x->stopper);
    x->resp.grpc_status = -1;
    x->resp.h2_reset = -1;
    return x;
}

/* OTELC_SPOOL_DIR's spool, for a protocol that sends protobuf (the spool's format). */
static otelc_spool *spool_from_env(const struct otlp *x)
{
    const char *dir = otelc__spool_dir_from_env();
    if (!dir) return NULL;
    if (x->protocol == OTELC_OTLP_HTTP_JSON) {
        if (otelc__first_report("OTELC_SPOOL_DIR", dir))
            otelc__log(OTELC_LOG_WARN, "OTELC_SPOOL_DIR: spooling needs the http/protobuf or grpc "
                                       "protocol; off for http/json");
        return NULL;
    }
    return otelc__spool_new(dir, otelc__spool_max_bytes_from_env());
}

otelc_exporter *otelc_otlp_exporter_new(const otelc_otlp_exporter_options *o)
{
    otelc_otlp_exporter_options env;
    otelc_otlp_env_storage st;
    if (!o) {
        memset(&env, 0, sizeof env);
        otelc__otlp_options_from_env(&env, &st);
        o = &env;
    }
    struct otlp *x = otlp_alloc(o);
    if (x) x->fallback = o->fallback;
    if (x) x->shared = o == &env; /* see shared_breaker_blocks */
    if (x && x->shared && (x->url = resolve_url(o)))
        otelc__shared_breaker_init(&x->shared_breaker, x->url, otelc__breaker_interval_from_env());
    if (x && x->shared && x->url) x->spool = spool_from_env(x);
    if (!x || !(x->url || (x->url = resolve_url(o))) || !copy_transport_options(x, o)) {
        if (x)
            otlp_destroy(x);
        else
            otelc_exporter_free(o->fallback);
        return NULL;
    }
    otelc_exporter *e = otelc_exporter_new(&otlp_ops, x);
    if (!e) otlp_destroy(x);
    otelc__exporter_set_prepare(e, otlp_prepare);
    return e;
}

#else /* !OTELC_HAVE_CURL */

otelc_exporter *otelc_otlp_exporter_new(const otelc_otlp_exporter_options *o)
{
    otelc__log(OTELC_LOG_ERROR, "OTLP exporter: this build of otelc has no libcurl");
    if (o) otelc_exporter_free(o->fallback);
    return NULL;
}

bool otelc__otlp_exporter_stats(const otelc_exporter *e, otelc_otlp_stats *out)
{
    (void)e, (void)out;
    return false;
}

#endif
