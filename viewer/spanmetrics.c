/*
 * spanmetrics.c - the spanmetrics connector's metrics of stored spans
 * (spanmetrics.h).
 *
 * A series is one (service, span name, kind, status) with its call count
 * and duration histogram; a hash table from the hash of those labels to
 * the series' index finds it. Hashes that collide (FNV-1a is no defence
 * against chosen names) are resolved by probing the next hash values.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "spanmetrics.h"
#include "u64map.h"

/* The connector's default explicit buckets (defaultHistogramBucketsMs in its config.go). */
static const double bounds_ms[] = {2,   4,   6,    8,    10,   50,   100,   200,
                                   400, 800, 1000, 1400, 2000, 5000, 10000, 15000};
static const char *const bound_text[] = {"2",    "4",    "6",     "8",    "10",   "50",
                                         "100",  "200",  "400",   "800",  "1000", "1400",
                                         "2000", "5000", "10000", "15000"};
#define BUCKETS    (sizeof bounds_ms / sizeof bounds_ms[0])
#define MAX_PROBES 8

typedef struct series {
    char *service, *name; /* NULL for the overflow series */
    int kind, status;
    uint64_t calls;
    uint64_t buckets[BUCKETS + 1]; /* not cumulative; the last one is +Inf */
    double sum_ms;
} series;

struct vw_spanmetrics {
    pthread_mutex_t lock;
    size_t limit;
    vw_u64map index; /* label hash -> series index + 1 */
    series *all;
    size_t count;
    series overflow;
    bool overflowed;
};

vw_spanmetrics *vw_spanmetrics_new(size_t max_series)
{
    vw_spanmetrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->limit = max_series ? max_series : VW_SPANMETRICS_DEFAULT_LIMIT;
    m->all = calloc(m->limit, sizeof *m->all);
    if (!m->all || !vw_u64map_init(&m->index, m->limit)) {
        free(m->all);
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void vw_spanmetrics_free(vw_spanmetrics *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->count; i++) {
        free(m->all[i].service);
        free(m->all[i].name);
    }
    free(m->all);
    vw_u64map_free(&m->index);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- Counting -------------------------------------------------------------------------------- */

/* The length of s cut to VW_SPANMETRICS_MAX_LABEL bytes without splitting a character. */
static size_t label_len(const char *s)
{
    size_t n = strnlen(s, VW_SPANMETRICS_MAX_LABEL + 1);
    if (n <= VW_SPANMETRICS_MAX_LABEL) return n;
    n = VW_SPANMETRICS_MAX_LABEL;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--; /* s[n] continues a character */
    return n;
}

static bool same_labels(const series *s, const char *service, size_t sn, const char *name,
                        size_t nn, int kind, int status)
{
    return s->kind == kind && s->status == status && strlen(s->service) == sn &&
           memcmp(s->service, service, sn) == 0 && strlen(s->name) == nn &&
           memcmp(s->name, name, nn) == 0;
}

static char *copy_label(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* The series of these labels, made when new; the overflow series once the table is full. */
static series *find_series(vw_spanmetrics *m, const char *service, const char *name, int kind,
                           int status)
{
    size_t sn = label_len(service), nn = label_len(name);
    uint8_t tail[2] = {(uint8_t)kind, (uint8_t)status};
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, service, sn);
    h = otelc__fnv1a(h, "", 1);
    h = otelc__fnv1a(h, name, nn);
    h = otelc__fnv1a(h, tail, sizeof tail);
    for (int probe = 0; probe < MAX_PROBES; probe++, h++) {
        uint64_t *slot = vw_u64map_get(&m->index, h);
        if (slot) {
            series *s = &m->all[*slot - 1];
            if (same_labels(s, service, sn, name, nn, kind, status)) return s;
            continue;
        }
        if (m->count == m->limit) break;
        char *svc = copy_label(service, sn), *nm = copy_label(name, nn);
        bool added;
        uint64_t *fresh = svc && nm ? vw_u64map_put(&m->index, h, &added) : NULL;
        if (!fresh) { /* no memory: counted, but in the overflow series */
            free(svc);
            free(nm);
            break;
        }
        series *s = &m->all[m->count];
        *fresh = ++m->count;
        *s = (series){.service = svc, .name = nm, .kind = kind, .status = status};
        return s;
    }
    m->overflowed = true;
    return &m->overflow;
}

static void observe(series *s, uint64_t duration_ns)
{
    double ms = (double)duration_ns / 1e6;
    size_t b = 0;
    while (b < BUCKETS && ms > bounds_ms[b])
        b++; /* the first bound >= ms, as Go's SearchFloat64s */
    s->calls++;
    s->buckets[b]++;
    s->sum_ms += ms;
}

/* service.name as the connector reads it: the attribute's text; NULL when absent. */
static const char *service_of(const otelc_span_data *sd, otelc_buf *scratch)
{
    const otelc_value *v = sd->resource ? otelc_resource_get(sd->resource, "service.name") : NULL;
    if (!v) return NULL;
    if (v->type == OTELC_VALUE_STRING) return v->u.str.ptr;
    otelc__buf_reset(scratch);
    otelc__buf_json_value(scratch, v);
    otelc__buf_append(scratch, "", 1);
    return scratch->failed ? NULL : scratch->data;
}

void vw_spanmetrics_add(vw_spanmetrics *m, const vw_batch *const *batches, size_t n)
{
    otelc_buf scratch = {0};
    pthread_mutex_lock(&m->lock);
    for (size_t b = 0; b < n; b++) {
        for (size_t i = 0; i < batches[b]->count; i++) {
            const otelc_span_data *sd = &batches[b]->spans[i];
            const char *service = service_of(sd, &scratch);
            if (!service) continue;
            int kind = sd->kind >= OTELC_SPAN_INTERNAL && sd->kind <= OTELC_SPAN_CONSUMER
                           ? (int)sd->kind
                           : 0;
            int status = sd->status <= OTELC_STATUS_ERROR ? (int)sd->status : 0;
            series *s = find_series(m, service, sd->name ? sd->name : "", kind, status);
            observe(s, sd->end_ns > sd->start_ns ? sd->end_ns - sd->start_ns : 0);
        }
    }
    pthread_mutex_unlock(&m->lock);
    otelc__buf_free(&scratch);
}

/* ---- The exposition -------------------------------------------------------------------------- */

static const char *const kind_text[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                        "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                        "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
static const char *const status_text[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK",
                                          "STATUS_CODE_ERROR"};

#define CALLS    "traces_span_metrics_calls_total"
#define DURATION "traces_span_metrics_duration_milliseconds"

/* A label value: backslash, double quote and line feed escaped (the text format's rule). */
static void put_label_value(otelc_buf *b, const char *s)
{
    otelc__buf_append(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '\\')
            otelc__buf_append(b, "\\\\", 2);
        else if (*s == '"')
            otelc__buf_append(b, "\\\"", 2);
        else if (*s == '\n')
            otelc__buf_append(b, "\\n", 2);
        else
            otelc__buf_append(b, s, 1);
    }
    otelc__buf_append(b, "\"", 1);
}

/* name{labels[,le="bound"]} (the labels of s) and a space. */
static void put_series(otelc_buf *b, const char *name, const series *s, const char *le)
{
    otelc__buf_puts(b, name);
    if (s->service) {
        otelc__buf_puts(b, "{service_name=");
        put_label_value(b, s->service);
        otelc__buf_puts(b, ",span_name=");
        put_label_value(b, s->name);
        otelc__buf_printf(b, ",span_kind=\"%s\",status_code=\"%s\"", kind_text[s->kind],
                          status_text[s->status]);
    } else {
        otelc__buf_puts(b, "{otel_metric_overflow=\"true\"");
    }
    if (le) otelc__buf_printf(b, ",le=\"%s\"", le);
    otelc__buf_puts(b, "} ");
}

static void put_calls(otelc_buf *b, const series *s)
{
    put_series(b, CALLS, s, NULL);
    otelc__buf_printf(b, "%llu\n", (unsigned long long)s->calls);
}

static void put_histogram(otelc_buf *b, const series *s)
{
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= BUCKETS; i++) {
        cumulative += s->buckets[i];
        put_series(b, DURATION "_bucket", s, i < BUCKETS ? bound_text[i] : "+Inf");
        otelc__buf_printf(b, "%llu\n", (unsigned long long)cumulative);
    }
    put_series(b, DURATION "_sum", s, NULL);
    otelc__buf_json_double(b, s->sum_ms);
    otelc__buf_append(b, "\n", 1);
    put_series(b, DURATION "_count", s, NULL);
    otelc__buf_printf(b, "%llu\n", (unsigned long long)s->calls);
}

static int by_labels(const void *pa, const void *pb)
{
    const series *a = *(const series *const *)pa, *b = *(const series *const *)pb;
    int c = strcmp(a->service, b->service);
    if (!c) c = strcmp(a->name, b->name);
    if (!c) c = a->kind - b->kind;
    if (!c) c = a->status - b->status;
    return c;
}

int vw_spanmetrics_write(vw_spanmetrics *m, otelc_buf *out)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->count;
    const series **order = malloc((n + 1) * sizeof *order);
    if (!order) {
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    for (size_t i = 0; i < n; i++) order[i] = &m->all[i];
    qsort(order, n, sizeof *order, by_labels);
    if (m->overflowed) order[n++] = &m->overflow;

    otelc__buf_puts(out, "# HELP " CALLS " Spans received, by service, span name, kind and "
                         "status.\n# TYPE " CALLS " counter\n");
    for (size_t i = 0; i < n; i++) put_calls(out, order[i]);
    otelc__buf_puts(out, "# HELP " DURATION " Span durations (end - start) in milliseconds.\n"
                         "# TYPE " DURATION " histogram\n");
    for (size_t i = 0; i < n; i++) put_histogram(out, order[i]);
    pthread_mutex_unlock(&m->lock);
    free(order);
    return out->failed ? -1 : 0;
}
