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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "export/otlp.h"
#include "internal.h"

#define MAX_PENDING_SPANS 4096

/* ---- JSON strings -------------------------------------------------------------------- */

/* A quoted JSON string of a C string; NULL is written as "". */
static void sb_json_str(otelc_buf *b, const char *s)
{
    otelc__buf_json_str(b, s ? s : "", s ? strlen(s) : 0);
}

/* ---- Values ------------------------------------------------------------------------------ */

static void sb_json_attrs(otelc_buf *b, const otelc_attr *attrs, uint32_t n)
{
    otelc__buf_append(b, "{", 1);
    for (uint32_t i = 0; i < n; i++) {
        if (i) otelc__buf_append(b, ",", 1);
        sb_json_str(b, attrs[i].key);
        otelc__buf_append(b, ":", 1);
        otelc__buf_json_value(b, &attrs[i].value);
    }
    otelc__buf_append(b, "}", 1);
}

/* ---- JSON format ------------------------------------------------------------------------ */

static void json_ids(otelc_buf *b, const otelc_span_data *sd)
{
    otelc__buf_puts(b, "{\"traceId\":\"");
    otelc__buf_hex(b, sd->context.trace_id, 16);
    otelc__buf_puts(b, "\",\"spanId\":\"");
    otelc__buf_hex(b, sd->context.span_id, 8);
    otelc__buf_puts(b, "\",\"parentSpanId\":\"");
    if (sd->has_parent) otelc__buf_hex(b, sd->parent_span_id, 8);
    otelc__buf_append(b, "\"", 1);
    if (sd->context.trace_state && *sd->context.trace_state) {
        otelc__buf_puts(b, ",\"traceState\":");
        sb_json_str(b, sd->context.trace_state);
    }
}

static void json_events(otelc_buf *b, const otelc_span_data *sd)
{
    otelc__buf_puts(b, ",\"events\":[");
    for (uint32_t i = 0; i < sd->event_count; i++) {
        const otelc_event_data *e = &sd->events[i];
        otelc__buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        sb_json_str(b, e->name);
        otelc__buf_printf(b, ",\"timeUnixNano\":\"%" PRIu64 "\",\"attributes\":", e->time_ns);
        sb_json_attrs(b, e->attrs, e->attr_count);
        otelc__buf_append(b, "}", 1);
    }
    otelc__buf_append(b, "]", 1);
}

static void json_links(otelc_buf *b, const otelc_span_data *sd)
{
    otelc__buf_puts(b, ",\"links\":[");
    for (uint32_t i = 0; i < sd->link_count; i++) {
        const otelc_link_data *l = &sd->links[i];
        otelc__buf_puts(b, i ? ",{\"traceId\":\"" : "{\"traceId\":\"");
        otelc__buf_hex(b, l->context.trace_id, 16);
        otelc__buf_puts(b, "\",\"spanId\":\"");
        otelc__buf_hex(b, l->context.span_id, 8);
        otelc__buf_puts(b, "\",\"attributes\":");
        sb_json_attrs(b, l->attrs, l->attr_count);
        otelc__buf_append(b, "}", 1);
    }
    otelc__buf_append(b, "]", 1);
}

static void json_origin(otelc_buf *b, const otelc_span_data *sd)
{
    const otelc_value *svc = sd->resource ? otelc_resource_get(sd->resource, "service.name") : NULL;
    otelc__buf_puts(b, ",\"resource\":{");
    if (svc && svc->type == OTELC_VALUE_STRING) {
        otelc__buf_puts(b, "\"service.name\":");
        otelc__buf_json_str(b, svc->u.str.ptr, svc->u.str.len);
    }
    otelc__buf_puts(b, "},\"scope\":{\"name\":");
    sb_json_str(b, sd->scope ? sd->scope->name : "");
    if (sd->scope && sd->scope->version) {
        otelc__buf_puts(b, ",\"version\":");
        sb_json_str(b, sd->scope->version);
    }
    otelc__buf_append(b, "}", 1);
}

static void json_span(otelc_buf *b, const otelc_span_data *sd)
{
    json_ids(b, sd);
    otelc__buf_puts(b, ",\"name\":");
    sb_json_str(b, sd->name);
    otelc__buf_printf(b, ",\"kind\":%d", (int)sd->kind);
    otelc__buf_printf(b, ",\"startTimeUnixNano\":\"%" PRIu64 "\"", sd->start_ns);
    otelc__buf_printf(b, ",\"endTimeUnixNano\":\"%" PRIu64 "\",\"attributes\":", sd->end_ns);
    sb_json_attrs(b, sd->attrs, sd->attr_count);
    json_events(b, sd);
    json_links(b, sd);
    otelc__buf_printf(b, ",\"status\":{\"code\":%d,\"message\":", (int)sd->status);
    sb_json_str(b, sd->status_message);
    otelc__buf_append(b, "}", 1);
    json_origin(b, sd);
    otelc__buf_puts(b, "}\n");
}

/* ---- Tree format: rendering one span --------------------------------------------------- */

static void tree_attrs(otelc_buf *b, const otelc_attr *attrs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        otelc__buf_puts(b, i ? ", " : " ");
        otelc__buf_puts(b, attrs[i].key);
        otelc__buf_append(b, "=", 1);
        otelc__buf_json_value(b, &attrs[i].value);
    }
}

static void tree_status(otelc_buf *b, const otelc_span_data *sd)
{
    if (sd->status != OTELC_STATUS_ERROR) {
        otelc__buf_puts(b, sd->status == OTELC_STATUS_OK ? " OK" : " UNSET");
        return;
    }
    otelc__buf_puts(b, " ERROR");
    if (sd->status_message) {
        otelc__buf_append(b, " ", 1);
        sb_json_str(b, sd->status_message);
    }
}

/* The span's lines, '\n'-separated, without indentation (depth is not known yet). */
static void tree_span(otelc_buf *b, const otelc_span_data *sd)
{
    otelc__buf_puts(b, sd->name ? sd->name : "");
    otelc__buf_printf(b, " [%s] %.3f ms", otelc__span_kind_name(sd->kind),
                      (double)(sd->end_ns - sd->start_ns) / 1e6);
    tree_status(b, sd);
    otelc__buf_puts(b, " span=");
    otelc__buf_hex(b, sd->context.span_id, 8);
    if (sd->parent_is_remote) {
        /* Show where a continued trace came from: another process or service. */
        otelc__buf_puts(b, " parent=");
        otelc__buf_hex(b, sd->parent_span_id, 8);
        otelc__buf_puts(b, " (remote)");
    }
    if (sd->attr_count) {
        otelc__buf_puts(b, "\n  attributes:");
        tree_attrs(b, sd->attrs, sd->attr_count);
    }
    for (uint32_t i = 0; i < sd->event_count; i++) {
        const otelc_event_data *e = &sd->events[i];
        double at = e->time_ns > sd->start_ns ? (double)(e->time_ns - sd->start_ns) / 1e6 : 0;
        otelc__buf_printf(b, "\n  event +%.3f ms ", at);
        otelc__buf_puts(b, e->name ? e->name : "");
        tree_attrs(b, e->attrs, e->attr_count);
    }
    for (uint32_t i = 0; i < sd->link_count; i++) {
        otelc__buf_puts(b, "\n  link ");
        otelc__buf_hex(b, sd->links[i].context.trace_id, 16);
        otelc__buf_append(b, "/", 1);
        otelc__buf_hex(b, sd->links[i].context.span_id, 8);
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

static void print_lines(otelc_buf *b, const char *text, size_t depth)
{
    for (const char *line = text; line;) {
        const char *nl = strchr(line, '\n');
        for (size_t d = 0; d <= depth; d++) otelc__buf_puts(b, "  ");
        otelc__buf_append(b, line, nl ? (size_t)(nl - line) : strlen(line));
        otelc__buf_append(b, "\n", 1);
        line = nl ? nl + 1 : NULL;
    }
}

/* Depth-first; parents[] holds each node's parent index, done[] what was printed. */
static void print_subtree(otelc_buf *b, const struct trace *t, const ssize_t *parents, bool *done,
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
static void render_trace(otelc_buf *b, struct trace *t)
{
    qsort(t->nodes, t->count, sizeof(*t->nodes), by_start);
    ssize_t *parents = malloc(t->count * sizeof(*parents));
    bool *done = calloc(t->count, sizeof(*done));
    otelc__buf_puts(b, "trace ");
    otelc__buf_hex(b, t->id, 16);
    otelc__buf_printf(b, " (%zu spans)\n", t->count);
    for (size_t i = 0; parents && i < t->count; i++) parents[i] = parent_index(t, i);
    for (size_t i = 0; parents && done && i < t->count; i++)
        if (parents[i] < 0 && !done[i]) print_subtree(b, t, parents, done, i, 0);
    for (size_t i = 0; i < t->count; i++)
        if (!parents || !done || !done[i]) print_lines(b, t->nodes[i].text, 0);
    free(parents);
    free(done);
}

static void emit(struct console *c, otelc_buf *b)
{
    if (b->len && !b->failed) fwrite(b->data, 1, b->len, c->out);
    b->len = 0;
}

static void print_trace(struct console *c, struct trace *t)
{
    otelc_buf b = {0};
    trace_unlink(c, t);
    render_trace(&b, t);
    emit(c, &b);
    free(b.data);
    trace_free(t);
}

static void print_all(struct console *c)
{
    while (c->head) print_trace(c, c->head);
    fflush(c->out);
}

/* Render sd and add it to t; false when memory ran out (t is unchanged). */
static bool node_add(struct trace *t, const otelc_span_data *sd)
{
    otelc_buf b = {0};
    tree_span(&b, sd);
    if (!b.failed && t->count == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        struct node *n = realloc(t->nodes, cap * sizeof(*n));
        if (n) {
            t->nodes = n;
            t->cap = cap;
        }
    }
    if (b.failed || t->count == t->cap) {
        free(b.data);
        return false;
    }
    struct node *n = &t->nodes[t->count++];
    memcpy(n->span_id, sd->context.span_id, 8);
    memcpy(n->parent_id, sd->parent_span_id, 8);
    n->has_parent = sd->has_parent;
    n->start_ns = sd->start_ns;
    n->text = b.data;
    return true;
}

/* Hold a rendered span; print its trace when this is the local root. */
static bool tree_add(struct console *c, const otelc_span_data *sd)
{
    struct trace *t = trace_find(c, sd->context.trace_id);
    if (!t) return false;
    if (!node_add(t, sd)) {
        if (t->count == 0) { /* made for this span: nothing to print later */
            trace_unlink(c, t);
            trace_free(t);
        }
        return false;
    }
    c->pending++;
    if (!sd->has_parent || sd->parent_is_remote) print_trace(c, t);
    while (c->pending > MAX_PENDING_SPANS) print_trace(c, c->head);
    return true;
}

int otelc__console_tree(otelc_buf *out, const otelc_span_data *const *spans, size_t n)
{
    struct trace t;
    memset(&t, 0, sizeof t);
    if (n) memcpy(t.id, spans[0]->context.trace_id, 16);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) ok = node_add(&t, spans[i]);
    if (ok && n) render_trace(out, &t);
    for (size_t i = 0; i < t.count; i++) free(t.nodes[i].text);
    free(t.nodes);
    return ok && !out->failed ? OTELC_OK : OTELC_ERR_NOMEM;
}

/* ---- Exporter callbacks ---------------------------------------------------------------------- */

static otelc_export_result console_export(void *self, const otelc_span_data *const *spans,
                                          size_t count)
{
    struct console *c = self;
    otelc_buf b = {0};
    bool ok = true;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < count; i++) {
        if (c->format == OTELC_CONSOLE_TREE) {
            ok = tree_add(c, spans[i]) && ok;
            continue;
        }
        json_span(&b, spans[i]);
        ok = ok && !b.failed;
        emit(c, &b);
    }
    fflush(c->out);
    pthread_mutex_unlock(&c->lock);
    free(b.data);
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

/*
 * In a fork child: the traces held so far are the parent's to print (the
 * child would print them a second time), so the child starts with none.
 */
static void console_after_fork_child(void *self)
{
    struct console *c = self;
    pthread_mutex_init(&c->lock, NULL);
    c->head = NULL;
    c->tail = &c->head;
    c->pending = 0;
}

static const otelc_exporter_ops console_ops = {
    .export_spans = console_export,
    .force_flush = console_force_flush,
    .shutdown = console_shutdown,
    .destroy = console_destroy,
    .after_fork_child = console_after_fork_child,
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
