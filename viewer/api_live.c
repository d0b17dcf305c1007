/*
 * api_live.c - GET /api/live?q=TraceQL: server-sent events telling a page
 * that traces matching its query received spans, so that it searches
 * again (API.md).
 *
 * The commit listener records which traces each commit touched, with how
 * many spans, in a ring shared by every stream (the newest LIVE_RING
 * entries; a stream that falls further behind skips what was
 * overwritten). Each stream, on its connection's thread, looks at what
 * arrived since it last looked at most once a second: without a query it
 * reports those traces, with one it loads each (the newest LIVE_CHECK of
 * them) through a pooled store connection and reports those the query
 * matches:
 *
 *   event: traces
 *   data: {"traceIDs":["hex32",...],"spans":N}
 *
 * N counts the new spans of the reported traces. A comment line keeps an
 * idle connection open every 15 s. At most LIVE_MAX_STREAMS streams exist
 * at once; more are refused with a 503.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "traceql.h"

#define LIVE_RING         8192
#define LIVE_MAX_STREAMS  32
#define LIVE_CHECK        64 /* traces a stream reports (and loads) per event */
#define LIVE_EVERY_MS     1000
#define LIVE_KEEPALIVE_MS 15000
#define LIVE_WAIT_MS      1000 /* a read blocks at most this long */

typedef struct live_entry {
    uint8_t trace_id[16];
    uint32_t spans;
} live_entry;

struct vw_live {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    live_entry ring[LIVE_RING];
    uint64_t written; /* entries ever recorded; entry k is ring[k % LIVE_RING] */
    _Atomic int streams;

    /* The ingest thread's scratch: one commit's traces (kept between commits: no malloc). */
    live_entry *touched;
    size_t touched_count, touched_cap;
};

vw_live *vw__live_new(void)
{
    vw_live *live = calloc(1, sizeof *live);
    if (!live) return NULL;
    pthread_mutex_init(&live->lock, NULL);
    otelc__cond_init_monotonic(&live->changed);
    return live;
}

void vw__live_free(vw_live *live)
{
    if (!live) return;
    free(live->touched);
    pthread_mutex_destroy(&live->lock);
    pthread_cond_destroy(&live->changed);
    free(live);
}

/* ---- Recording commits (the ingest thread) --------------------------------------------------- */

/* One more span of trace id; spans of a trace usually come together. */
static void touch(vw_live *live, const uint8_t id[16])
{
    live_entry *last = live->touched_count ? &live->touched[live->touched_count - 1] : NULL;
    if (last && memcmp(last->trace_id, id, 16) == 0) {
        last->spans++;
        return;
    }
    if (live->touched_count == live->touched_cap) {
        size_t cap = live->touched_cap ? 2 * live->touched_cap : 1024;
        live_entry *grown = realloc(live->touched, cap * sizeof *grown);
        if (!grown) return; /* this span goes unreported: live updates are a hint */
        live->touched = grown;
        live->touched_cap = cap;
    }
    live_entry *e = &live->touched[live->touched_count++];
    memcpy(e->trace_id, id, 16);
    e->spans = 1;
}

static int by_trace_id(const void *a, const void *b)
{
    return memcmp(((const live_entry *)a)->trace_id, ((const live_entry *)b)->trace_id, 16);
}

/* Each trace of the commit once, with all its spans: sorted, then neighbours merged. */
static void merge_touched(vw_live *live)
{
    if (live->touched_count < 2) return;
    qsort(live->touched, live->touched_count, sizeof *live->touched, by_trace_id);
    size_t kept = 1;
    for (size_t i = 1; i < live->touched_count; i++) {
        live_entry *prev = &live->touched[kept - 1];
        if (memcmp(prev->trace_id, live->touched[i].trace_id, 16) == 0)
            prev->spans += live->touched[i].spans;
        else
            live->touched[kept++] = live->touched[i];
    }
    live->touched_count = kept;
}

void vw__live_commit(vw_live *live, const vw_batch *const *batches, size_t n)
{
    live->touched_count = 0;
    for (size_t b = 0; b < n; b++)
        for (size_t i = 0; i < batches[b]->count; i++)
            touch(live, batches[b]->spans[i].context.trace_id);
    merge_touched(live);
    size_t first = live->touched_count > LIVE_RING ? live->touched_count - LIVE_RING : 0;
    pthread_mutex_lock(&live->lock);
    for (size_t i = first; i < live->touched_count; i++)
        live->ring[live->written++ % LIVE_RING] = live->touched[i];
    pthread_cond_broadcast(&live->changed);
    pthread_mutex_unlock(&live->lock);
}

/* ---- A stream (its connection's thread) ------------------------------------------------------ */

typedef struct live_stream {
    vw_api *api;
    vw_tql *query;   /* NULL: every trace matches */
    uint64_t cursor; /* ring entries looked at */
    uint64_t last_event_ms, last_write_ms;
    otelc_buf out;
    size_t sent;
    live_entry found[LIVE_CHECK]; /* what arrived since the last look, each trace once */
    size_t found_count;
} live_stream;

/* Add entry to what the stream found, once per trace; false when it is full. */
static bool remember(live_stream *st, const live_entry *e)
{
    for (size_t i = 0; i < st->found_count; i++) {
        if (memcmp(st->found[i].trace_id, e->trace_id, 16) == 0) {
            st->found[i].spans += e->spans;
            return true;
        }
    }
    if (st->found_count == LIVE_CHECK) return false;
    st->found[st->found_count++] = *e;
    return true;
}

/*
 * Wait (at most LIVE_WAIT_MS) for commits the stream has not seen, and
 * once a second since its last event take them: the newest traces first.
 */
static void collect(live_stream *st)
{
    vw_live *live = st->api->live;
    uint64_t now = otelc__mono_ms(), give_up = now + LIVE_WAIT_MS;
    pthread_mutex_lock(&live->lock);
    for (;;) {
        bool news = live->written > st->cursor;
        uint64_t due = st->last_event_ms + LIVE_EVERY_MS;
        if (news && now >= due) break;
        uint64_t until = news && due < give_up ? due : give_up;
        if (now >= until) break;
        struct timespec ts = otelc__deadline_in((uint32_t)(until - now));
        pthread_cond_timedwait(&live->changed, &live->lock, &ts);
        now = otelc__mono_ms();
    }
    st->found_count = 0;
    if (live->written > st->cursor && now >= st->last_event_ms + LIVE_EVERY_MS) {
        uint64_t oldest = live->written > LIVE_RING ? live->written - LIVE_RING : 0;
        for (uint64_t k = live->written; k > st->cursor && k > oldest; k--)
            if (!remember(st, &live->ring[(k - 1) % LIVE_RING])) break;
        st->cursor = live->written;
    }
    pthread_mutex_unlock(&live->lock);
}

/* Keep only the found traces the query matches (all of them when the store cannot be read). */
static void keep_matching(live_stream *st)
{
    char err[256];
    vw_store *s = vw__api_store(st->api, err, sizeof err);
    if (!s) return;
    size_t kept = 0;
    for (size_t i = 0; i < st->found_count; i++) {
        vw_batch trace;
        vw_batch_init(&trace);
        bool match = false;
        if (vw_store_trace(s, st->found[i].trace_id, &trace) > 0) {
            const otelc_span_data **ptrs = malloc(trace.count * sizeof *ptrs);
            for (size_t j = 0; ptrs && j < trace.count; j++) ptrs[j] = &trace.spans[j];
            match = ptrs && vw_tql_match(st->query, ptrs, trace.count, NULL);
            free(ptrs);
        }
        vw_batch_free(&trace);
        if (match) st->found[kept++] = st->found[i];
    }
    st->found_count = kept;
    vw__api_store_done(st->api, s);
}

static void put_event(live_stream *st)
{
    uint64_t spans = 0;
    otelc__buf_puts(&st->out, "event: traces\ndata: {\"traceIDs\":[");
    for (size_t i = 0; i < st->found_count; i++) {
        if (i) otelc__buf_append(&st->out, ",", 1);
        vw__put_hex_str(&st->out, st->found[i].trace_id, 16);
        spans += st->found[i].spans;
    }
    otelc__buf_printf(&st->out, "],\"spans\":%" PRIu64 "}\n\n", spans);
}

/* What the stream says next, into st->out (maybe nothing yet). */
static void next_message(live_stream *st)
{
    collect(st);
    uint64_t now = otelc__mono_ms();
    if (st->found_count) {
        st->last_event_ms = now;
        if (st->query) keep_matching(st);
        if (st->found_count) put_event(st);
    }
    if (!st->out.len && now - st->last_write_ms >= LIVE_KEEPALIVE_MS)
        otelc__buf_puts(&st->out, ": keep-alive\n\n");
}

static ssize_t live_read(void *ctx, char *buf, size_t max)
{
    live_stream *st = ctx;
    if (st->sent == st->out.len) {
        otelc__buf_reset(&st->out);
        st->sent = 0;
        next_message(st);
        if (st->out.failed) return -1;
    }
    size_t n = st->out.len - st->sent < max ? st->out.len - st->sent : max;
    memcpy(buf, st->out.data + st->sent, n);
    st->sent += n;
    if (n) st->last_write_ms = otelc__mono_ms();
    return (ssize_t)n;
}

static void live_release(void *ctx)
{
    live_stream *st = ctx;
    atomic_fetch_sub(&st->api->live->streams, 1);
    vw_tql_free(st->query);
    otelc__buf_free(&st->out);
    free(st);
}

/* True for a query every trace matches: no need to load traces to check it. */
static bool matches_everything(const char *q)
{
    char compact[8];
    size_t n = 0;
    for (; *q && n < sizeof compact - 1; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') compact[n++] = *q;
    compact[n] = '\0';
    return !*q && (n == 0 || strcmp(compact, "{}") == 0);
}

void vw__api_live(vw_api *api, const vw_request *rq, vw_response *rs)
{
    const char *text = rq->arg(rq, "q");
    if (!text) text = "";
    char err[512];
    vw_tql *query = NULL;
    if (!matches_everything(text) &&
        vw_tql_compile(text, strlen(text), &query, err, sizeof err) != OTELC_OK) {
        vw_response_error(rs, 400, err);
        return;
    }
    live_stream *st = calloc(1, sizeof *st);
    if (!st || atomic_fetch_add(&api->live->streams, 1) >= LIVE_MAX_STREAMS) {
        if (st) atomic_fetch_sub(&api->live->streams, 1);
        vw_response_error(rs, 503, st ? "too many live streams (at most 32)" : "out of memory");
        vw_tql_free(query);
        free(st);
        return;
    }
    st->api = api;
    st->query = query;
    st->last_write_ms = otelc__mono_ms();
    pthread_mutex_lock(&api->live->lock);
    st->cursor = api->live->written; /* only what arrives from now on */
    pthread_mutex_unlock(&api->live->lock);
    otelc__buf_puts(&st->out, ": live\n\n"); /* the first bytes: the page knows it is connected */
    rs->status = 200;
    rs->content_type = "text/event-stream; charset=utf-8";
    vw_response_header(rs, "Cache-Control", "no-cache");
    rs->read = live_read;
    rs->release = live_release;
    rs->ctx = st;
}
