/*
 * console.c - the console exporter: spans as human-readable trees, or as
 * one JSON object per line.
 *
 * The tree format needs a whole trace before it can print it, but spans
 * arrive one by one (children end first). So each span is rendered to text
 * at export time - the span itself is only valid during the export call -
 * and kept with its ids until the trace's local root arrives; then the trace
 * prints as a tree ordered by start time. Traces that never complete are
 * printed by force_flush and shutdown, and the oldest one is printed early
 * when too many spans are pending.
 *
 * Every line is assembled in memory and written with one fwrite, so a
 * span's output is not interleaved with other writers of the same stream.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "internal.h"

#define MAX_PENDING_SPANS 4096

/* ---- A growable string ------------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len;
    size_t cap;
    bool oom;
};

static void sb_grow(struct sbuf *b, size_t extra)
{
    if (b->oom || b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) sb_putn(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void sb_hex(struct sbuf *b, const uint8_t *id, size_t n)
{
    char hex[32];
    otelc__hex_encode(id, n, hex);
    sb_putn(b, hex, 2 * n);
}

/* ---- JSON strings -------------------------------------------------------------------- */

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 when it is malformed.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && s[1] < 0xa0) return 0; /* overlong */
    if (c == 0xed && s[1] > 0x9f) return 0; /* surrogate */
    if (c == 0xf0 && s[1] < 0x90) return 0; /* overlong */
    if (c == 0xf4 && s[1] > 0x8f) return 0; /* above U+10FFFF */
    return len;
}

static void sb_escape_byte(struct sbuf *b, unsigned char c)
{
    switch (c) {
    case '"':
        sb_puts(b, "\\\"");
        break;
    case '\\':
        sb_puts(b, "\\\\");
        break;
    case '\n':
        sb_puts(b, "\\n");
        break;
    case '\r':
        sb_puts(b, "\\r");
        break;
    case '\t':
        sb_puts(b, "\\t");
        break;
    case '\b':
        sb_puts(b, "\\b");
        break;
    case '\f':
        sb_puts(b, "\\f");
        break;
    default:
        if (c < 0x20)
            sb_printf(b, "\\u%04x", c);
        else
            sb_putn(b, (const char *)&c, 1);
    }
}

/* A quoted JSON string; malformed UTF-8 becomes U+FFFD, one per bad byte. */
static void sb_json_strn(struct sbuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    sb_putn(b, "\"", 1);
    for (size_t i = 0; u && i < n;) {
        if (u[i] < 0x80) {
            sb_escape_byte(b, u[i++]);
            continue;
        }
        size_t len = utf8_len(u + i, n - i);
        if (len)
            sb_putn(b, s + i, len);
        else
            sb_puts(b, "\\ufffd");
        i += len ? len : 1;
    }
    sb_putn(b, "\"", 1);
}

static void sb_json_str(struct sbuf *b, const char *s)
{
    sb_json_strn(b, s ? s : "", s ? strlen(s) : 0);
}

/* ---- Values ------------------------------------------------------------------------------ */

/* Shortest %g that reads back as the same double; non-finite values as strings. */
static void sb_double(struct sbuf *b, double d)
{
    char tmp[32];
    if (!isfinite(d)) {
        sb_puts(b, isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    snprintf(tmp, sizeof(tmp), "%.15g", d);
    if (strtod(tmp, NULL) != d) snprintf(tmp, sizeof(tmp), "%.17g", d);
    sb_puts(b, tmp);
}

static void sb_item(struct sbuf *b, otelc_value_type t, const void *items, size_t i)
{
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY:
        sb_json_str(b, ((const char *const *)items)[i]);
        break;
    case OTELC_VALUE_BOOL_ARRAY:
        sb_puts(b, ((const bool *)items)[i] ? "true" : "false");
        break;
    case OTELC_VALUE_INT_ARRAY:
        sb_printf(b, "%" PRId64, ((const int64_t *)items)[i]);
        break;
    default:
        sb_double(b, ((const double *)items)[i]);
        break;
    }
}

/* A value as JSON; the tree format uses the same spelling. */
static void sb_value(struct sbuf *b, const otelc_value *v)
{
    switch (v->type) {
    case OTELC_VALUE_STRING:
        sb_json_strn(b, v->u.str.ptr, v->u.str.len);
        return;
    case OTELC_VALUE_BOOL:
        sb_puts(b, v->u.b ? "true" : "false");
        return;
    case OTELC_VALUE_INT:
        sb_printf(b, "%" PRId64, v->u.i);
        return;
    case OTELC_VALUE_DOUBLE:
        sb_double(b, v->u.d);
        return;
    default:
        break;
    }
    sb_putn(b, "[", 1);
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (i) sb_putn(b, ",", 1);
        sb_item(b, v->type, v->u.array.items, i);
    }
    sb_putn(b, "]", 1);
}

static void sb_json_attrs(struct sbuf *b, const otelc_attr *attrs, uint32_t n)
{
    sb_putn(b, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) sb_putn(b, ",", 1);
        sb_json_str(b, attrs[i].key);
        sb_putn(b, ":", 1);
        sb_value(b, &attrs[i].value);
    }
    sb_putn(b, "}", 1);
}

/* ---- JSON format ------------------------------------------------------------------------ */

static void json_ids(struct sbuf *b, const otelc_span_data *sd)
{
    sb_puts(b, "{\"traceId\":\"");
    sb_hex(b, sd->context.trace_id, 16);
    sb_puts(b, "\",\"spanId\":\"");
    sb_hex(b, sd->context.span_id, 8);
    sb_puts(b, "\",\"parentSpanId\":\"");
    if (sd->has_parent) sb_hex(b, sd->parent_span_id, 8);
    sb_putn(b, "\"", 1);
    if (sd->context.trace_state && *sd->context.trace_state) {
        sb_puts(b, ",\"traceState\":");
        sb_json_str(b, sd->context.trace_state);
    }
}

static void json_events(struct sbuf *b, const otelc_span_data *sd)
{
    sb_puts(b, ",\"events\":[");
    for (uint32_t i = 0; i < sd->event_count; i++) {
        const otelc_event_data *e = &sd->events[i];
        sb_puts(b, i ? ",{\"name\":" : "{\"name\":");
        sb_json_str(b, e->name);
        sb_printf(b, ",\"timeUnixNano\":\"%" PRIu64 "\",\"attributes\":", e->time_ns);
        sb_json_attrs(b, e->attrs, e->attr_count);
        sb_putn(b, "}", 1);
    }
    sb_putn(b, "]", 1);
}

static void json_links(struct sbuf *b, const otelc_span_data *sd)
{
    sb_puts(b, ",\"links\":[");
    for (uint32_t i = 0; i < sd->link_count; i++) {
        const otelc_link_data *l = &sd->links[i];
        sb_puts(b, i ? ",{\"traceId\":\"" : "{\"traceId\":\"");
        sb_hex(b, l->context.trace_id, 16);
        sb_puts(b, "\",\"spanId\":\"");
        sb_hex(b, l->context.span_id, 8);
        sb_puts(b, "\",\"attributes\":");
        sb_json_attrs(b, l->attrs, l->attr_count);
        sb_putn(b, "}", 1);
    }
    sb_putn(b, "]", 1);
}

static void json_origin(struct sbuf *b, const otelc_span_data *sd)
{
    const otelc_value *svc = sd->resource ? otelc_resource_get(sd->resource, "service.name") : NULL;
    sb_puts(b, ",\"resource\":{");
    if (svc && svc->type == OTELC_VALUE_STRING) {
        sb_puts(b, "\"service.name\":");
        sb_json_strn(b, svc->u.str.ptr, svc->u.str.len);
    }
    sb_puts(b, "},\"scope\":{\"name\":");
    sb_json_str(b, sd->scope ? sd->scope->name : "");
    if (sd->scope && sd->scope->version) {
        sb_puts(b, ",\"version\":");
        sb_json_str(b, sd->scope->version);
    }
    sb_putn(b, "}", 1);
}

static void json_span(struct sbuf *b, const otelc_span_data *sd)
{
    json_ids(b, sd);
    sb_puts(b, ",\"name\":");
    sb_json_str(b, sd->name);
    sb_printf(b, ",\"kind\":%d", (int)sd->kind);
    sb_printf(b, ",\"startTimeUnixNano\":\"%" PRIu64 "\"", sd->start_ns);
    sb_printf(b, ",\"endTimeUnixNano\":\"%" PRIu64 "\",\"attributes\":", sd->end_ns);
    sb_json_attrs(b, sd->attrs, sd->attr_count);
    json_events(b, sd);
    json_links(b, sd);
    sb_printf(b, ",\"status\":{\"code\":%d,\"message\":", (int)sd->status);
    sb_json_str(b, sd->status_message);
    sb_putn(b, "}", 1);
    json_origin(b, sd);
    sb_puts(b, "}\n");
}

/* ---- Tree format: rendering one span --------------------------------------------------- */

static const char *kind_name(otelc_span_kind k)
{
    switch (k) {
    case OTELC_SPAN_SERVER:
        return "SERVER";
    case OTELC_SPAN_CLIENT:
        return "CLIENT";
    case OTELC_SPAN_PRODUCER:
        return "PRODUCER";
    case OTELC_SPAN_CONSUMER:
        return "CONSUMER";
    default:
        return "INTERNAL";
    }
}

static void tree_attrs(struct sbuf *b, const otelc_attr *attrs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        sb_puts(b, i ? ", " : " ");
        sb_puts(b, attrs[i].key);
        sb_putn(b, "=", 1);
        sb_value(b, &attrs[i].value);
    }
}

static void tree_status(struct sbuf *b, const otelc_span_data *sd)
{
    if (sd->status != OTELC_STATUS_ERROR) {
        sb_puts(b, sd->status == OTELC_STATUS_OK ? " OK" : " UNSET");
        return;
    }
    sb_puts(b, " ERROR");
    if (sd->status_message) {
        sb_putn(b, " ", 1);
        sb_json_str(b, sd->status_message);
    }
}

/* The span's lines, '\n'-separated, without indentation (depth is not known yet). */
static void tree_span(struct sbuf *b, const otelc_span_data *sd)
{
    sb_puts(b, sd->name ? sd->name : "");
    sb_printf(b, " [%s] %.3f ms", kind_name(sd->kind), (double)(sd->end_ns - sd->start_ns) / 1e6);
    tree_status(b, sd);
    sb_puts(b, " span=");
    sb_hex(b, sd->context.span_id, 8);
    if (sd->parent_is_remote) {
        /* Show where a continued trace came from: another process or service. */
        sb_puts(b, " parent=");
        sb_hex(b, sd->parent_span_id, 8);
        sb_puts(b, " (remote)");
    }
    if (sd->attr_count) {
        sb_puts(b, "\n  attributes:");
        tree_attrs(b, sd->attrs, sd->attr_count);
    }
    for (uint32_t i = 0; i < sd->event_count; i++) {
        const otelc_event_data *e = &sd->events[i];
        double at = e->time_ns > sd->start_ns ? (double)(e->time_ns - sd->start_ns) / 1e6 : 0;
        sb_printf(b, "\n  event +%.3f ms ", at);
        sb_puts(b, e->name ? e->name : "");
        tree_attrs(b, e->attrs, e->attr_count);
    }
    for (uint32_t i = 0; i < sd->link_count; i++) {
        sb_puts(b, "\n  link ");
        sb_hex(b, sd->links[i].context.trace_id, 16);
        sb_putn(b, "/", 1);
        sb_hex(b, sd->links[i].context.span_id, 8);
        tree_attrs(b, sd->links[i].attrs, sd->links[i].attr_count);
    }
}

/* ---- Tree format: pending traces -------------------------------------------------------- */

struct node {
    uint8_t span_id[8];
    uint8_t parent_id[8];
    bool has_parent;
    uint64_t start_ns;
    char *text;
};

struct trace {
    uint8_t id[16];
    struct node *nodes;
    size_t count;
    size_t cap;
    struct trace *next; /* pending traces, oldest first */
};

struct console {
    FILE *out;
    otelc_console_format format;
    pthread_mutex_t lock; /* flush and shutdown may come from other threads */
    struct trace *head;
    struct trace **tail;
    size_t pending; /* spans held over all traces */
};

static struct trace *trace_find(struct console *c, const uint8_t id[16])
{
    for (struct trace *t = c->head; t; t = t->next)
        if (memcmp(t->id, id, 16) == 0) return t;
    struct trace *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    memcpy(t->id, id, 16);
    *c->tail = t;
    c->tail = &t->next;
    return t;
}

static void trace_free(struct trace *t)
{
    for (size_t i = 0; i < t->count; i++) free(t->nodes[i].text);
    free(t->nodes);
    free(t);
}

/* Unlink t from the pending list. */
static void trace_unlink(struct console *c, struct trace *t)
{
    struct trace **pp = &c->head;
    while (*pp != t) pp = &(*pp)->next;
    *pp = t->next;
    if (c->tail == &t->next) c->tail = pp;
    c->pending -= t->count;
}

static int by_start(const void *a, const void *b)
{
    const struct node *x = a, *y = b;
    return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static ssize_t parent_index(const struct trace *t, size_t i)
{
    if (!t->nodes[i].has_parent) return -1;
    for (size_t j = 0; j < t->count; j++)
        if (j != i && memcmp(t->nodes[j].span_id, t->nodes[i].parent_id, 8) == 0) return (ssize_t)j;
    return -1;
}

static void print_lines(struct sbuf *b, const char *text, size_t depth)
{
    for (const char *line = text; line;) {
        const char *nl = strchr(line, '\n');
        for (size_t d = 0; d <= depth; d++) sb_puts(b, "  ");
        sb_putn(b, line, nl ? (size_t)(nl - line) : strlen(line));
        sb_putn(b, "\n", 1);
        line = nl ? nl + 1 : NULL;
    }
}

/* Depth-first; parents[] holds each node's parent index, done[] what was printed. */
static void print_subtree(struct sbuf *b, const struct trace *t, const ssize_t *parents, bool *done,
                          size_t i, size_t depth)
{
    done[i] = true;
    print_lines(b, t->nodes[i].text, depth);
    for (size_t j = 0; j < t->count; j++)
        if (parents[j] == (ssize_t)i && !done[j]) print_subtree(b, t, parents, done, j, depth + 1);
}

/*
 * Roots are the spans whose parent is not here (the local root, or the top
 * of a fragment). A parent cycle has no root: its spans print flat last.
 */
static void render_trace(struct sbuf *b, struct trace *t)
{
    qsort(t->nodes, t->count, sizeof(*t->nodes), by_start);
    ssize_t *parents = malloc(t->count * sizeof(*parents));
    bool *done = calloc(t->count, sizeof(*done));
    sb_puts(b, "trace ");
    sb_hex(b, t->id, 16);
    sb_printf(b, " (%zu spans)\n", t->count);
    for (size_t i = 0; parents && i < t->count; i++) parents[i] = parent_index(t, i);
    for (size_t i = 0; parents && done && i < t->count; i++)
        if (parents[i] < 0 && !done[i]) print_subtree(b, t, parents, done, i, 0);
    for (size_t i = 0; i < t->count; i++)
        if (!parents || !done || !done[i]) print_lines(b, t->nodes[i].text, 0);
    free(parents);
    free(done);
}

static void emit(struct console *c, struct sbuf *b)
{
    if (b->len && !b->oom) fwrite(b->p, 1, b->len, c->out);
    b->len = 0;
}

static void print_trace(struct console *c, struct trace *t)
{
    struct sbuf b = {0};
    trace_unlink(c, t);
    render_trace(&b, t);
    emit(c, &b);
    free(b.p);
    trace_free(t);
}

static void print_all(struct console *c)
{
    while (c->head) print_trace(c, c->head);
    fflush(c->out);
}

/* Hold a rendered span; print its trace when this is the local root. */
static bool tree_add(struct console *c, const otelc_span_data *sd)
{
    struct sbuf b = {0};
    tree_span(&b, sd);
    struct trace *t = b.oom ? NULL : trace_find(c, sd->context.trace_id);
    if (t && t->count == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        struct node *n = realloc(t->nodes, cap * sizeof(*n));
        if (n) {
            t->nodes = n;
            t->cap = cap;
        }
    }
    if (!t || t->count == t->cap) {
        free(b.p);
        return false;
    }
    struct node *n = &t->nodes[t->count++];
    memcpy(n->span_id, sd->context.span_id, 8);
    memcpy(n->parent_id, sd->parent_span_id, 8);
    n->has_parent = sd->has_parent;
    n->start_ns = sd->start_ns;
    n->text = b.p;
    c->pending++;
    if (!sd->has_parent || sd->parent_is_remote) print_trace(c, t);
    while (c->pending > MAX_PENDING_SPANS) print_trace(c, c->head);
    return true;
}

/* ---- Exporter callbacks ---------------------------------------------------------------------- */

static otelc_export_result console_export(void *self, const otelc_span_data *const *spans,
                                          size_t count)
{
    struct console *c = self;
    struct sbuf b = {0};
    bool ok = true;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < count; i++) {
        if (c->format == OTELC_CONSOLE_TREE) {
            ok = tree_add(c, spans[i]) && ok;
            continue;
        }
        json_span(&b, spans[i]);
        ok = ok && !b.oom;
        emit(c, &b);
    }
    fflush(c->out);
    pthread_mutex_unlock(&c->lock);
    free(b.p);
    return ok ? OTELC_EXPORT_SUCCESS : OTELC_EXPORT_FAILURE;
}

static int console_force_flush(void *self, uint32_t timeout_ms)
{
    struct console *c = self;
    pthread_mutex_lock(&c->lock);
    print_all(c);
    pthread_mutex_unlock(&c->lock);
    return OTELC_OK;
}

static void console_shutdown(void *self)
{
    console_force_flush(self, 0);
}

static void console_destroy(void *self)
{
    struct console *c = self;
    while (c->head) {
        struct trace *t = c->head;
        c->head = t->next;
        trace_free(t);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const otelc_exporter_ops console_ops = {
    .export_spans = console_export,
    .force_flush = console_force_flush,
    .shutdown = console_shutdown,
    .destroy = console_destroy,
};

otelc_exporter *otelc_console_exporter_new(FILE *out, otelc_console_format format)
{
    struct console *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->out = out ? out : stderr;
    c->format = format == OTELC_CONSOLE_JSON ? OTELC_CONSOLE_JSON : OTELC_CONSOLE_TREE;
    c->tail = &c->head;
    pthread_mutex_init(&c->lock, NULL);
    otelc_exporter *e = otelc_exporter_new(&console_ops, c);
    if (!e) console_destroy(c);
    return e;
}
