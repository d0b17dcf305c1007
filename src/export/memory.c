/*
 * memory.c - the in-memory exporter and the testing helpers of
 * otelc/testing.h.
 *
 * Exported spans live in the SDK's pool only during the export call, so
 * the exporter deep-copies each one: every string, attribute value (nested
 * arrays and maps too), event, link, the scope with its attributes and the
 * resource with its schema URL. A copy owns its memory as an arena freed
 * in one go. The store is shared between the exporting thread and the
 * test's thread, so one mutex guards it and a condition variable serves
 * otelc_memory_exporter_wait().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "otelc/testing.h"

/* ---- Deep copies ---------------------------------------------------------------- */

struct copy {
    otelc_span_data data; /* first member: handed out as the span */
    otelc_arena arena;
    otelc_resource *resource;
    otelc_scope_info scope;
    bool failed; /* an allocation failed: the copy is incomplete */
};

static void *cp_alloc(struct copy *c, size_t size)
{
    void *p = otelc__arena_alloc(&c->arena, size ? size : 1, _Alignof(max_align_t));
    if (!p) c->failed = true;
    return p;
}

static const char *cp_strn(struct copy *c, const char *s, size_t len)
{
    if (!s) return NULL;
    char *d = otelc__arena_strndup(&c->arena, s, len);
    if (!d) c->failed = true;
    return d;
}

static const char *cp_str(struct copy *c, const char *s)
{
    return s ? cp_strn(c, s, strlen(s)) : NULL;
}

static void cp_value(struct copy *c, otelc_value *dst, const otelc_value *src)
{
    if (!otelc__value_copy(&c->arena, dst, src, OTELC_UNLIMITED)) c->failed = true;
}

static const otelc_attr *cp_attrs(struct copy *c, const otelc_attr *src, uint32_t n)
{
    if (!n) return NULL;
    otelc_attr *dst = cp_alloc(c, n * sizeof(*dst));
    if (!dst) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        dst[i].key = cp_str(c, src[i].key);
        cp_value(c, &dst[i].value, &src[i].value);
    }
    return dst;
}

static const otelc_event_data *cp_events(struct copy *c, const otelc_event_data *src, uint32_t n)
{
    if (!n) return NULL;
    otelc_event_data *dst = cp_alloc(c, n * sizeof(*dst));
    if (!dst) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        dst[i] = src[i];
        dst[i].name = cp_str(c, src[i].name);
        dst[i].attrs = cp_attrs(c, src[i].attrs, src[i].attr_count);
    }
    return dst;
}

static const otelc_link_data *cp_links(struct copy *c, const otelc_link_data *src, uint32_t n)
{
    if (!n) return NULL;
    otelc_link_data *dst = cp_alloc(c, n * sizeof(*dst));
    if (!dst) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        dst[i] = src[i];
        dst[i].context.trace_state = cp_str(c, src[i].context.trace_state);
        dst[i].attrs = cp_attrs(c, src[i].attrs, src[i].attr_count);
    }
    return dst;
}

static void copy_free(struct copy *c)
{
    if (!c) return;
    otelc__arena_free(&c->arena);
    otelc_resource_free(c->resource);
    free(c);
}

/* The scope and resource, copied so the span outlives its provider. */
static void cp_origin(struct copy *c, const otelc_span_data *sd)
{
    if (sd->scope) {
        c->scope.name = cp_str(c, sd->scope->name);
        c->scope.version = cp_str(c, sd->scope->version);
        c->scope.schema_url = cp_str(c, sd->scope->schema_url);
        c->scope.attrs = cp_attrs(c, sd->scope->attrs, sd->scope->attr_count);
        c->scope.attr_count = sd->scope->attr_count;
        c->scope.dropped_attr_count = sd->scope->dropped_attr_count;
        c->data.scope = &c->scope;
    }
    if (sd->resource) {
        size_t n = 0;
        const otelc_attr *attrs = otelc_resource_attrs(sd->resource, &n);
        c->resource = otelc_resource_new(attrs, n, otelc_resource_schema_url(sd->resource));
        if (!c->resource) c->failed = true;
        c->data.resource = c->resource;
    }
}

/* A deep copy of sd, or NULL when memory ran out. */
static struct copy *copy_span(const otelc_span_data *sd)
{
    struct copy *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->data = *sd;
    c->data.context.trace_state = cp_str(c, sd->context.trace_state);
    c->data.name = cp_str(c, sd->name);
    c->data.attrs = cp_attrs(c, sd->attrs, sd->attr_count);
    c->data.events = cp_events(c, sd->events, sd->event_count);
    c->data.links = cp_links(c, sd->links, sd->link_count);
    c->data.status_message = cp_str(c, sd->status_message);
    c->data.scope = NULL;
    c->data.resource = NULL;
    cp_origin(c, sd);
    if (c->failed) {
        copy_free(c);
        return NULL;
    }
    return c;
}

/* ---- The store ------------------------------------------------------------------ */

struct otelc_memory_exporter {
    pthread_mutex_t lock;
    pthread_cond_t grew; /* signalled whenever spans are added */
    struct copy **spans;
    size_t count;
    size_t cap;
    bool failing;
};

static bool store_reserve(otelc_memory_exporter *m, size_t extra)
{
    if (m->count + extra <= m->cap) return true;
    size_t cap = m->cap ? m->cap : 64;
    while (cap < m->count + extra) cap *= 2;
    struct copy **n = realloc(m->spans, cap * sizeof(*n));
    if (!n) return false;
    m->spans = n;
    m->cap = cap;
    return true;
}

/*
 * Copies are made before taking the lock so that readers are not held up;
 * a batch is added all at once or, out of memory, not at all.
 */
static otelc_export_result memory_export(void *self, const otelc_span_data *const *spans,
                                         size_t count)
{
    otelc_memory_exporter *m = self;
    pthread_mutex_lock(&m->lock);
    bool failing = m->failing;
    pthread_mutex_unlock(&m->lock);
    if (failing) return OTELC_EXPORT_FAILURE;

    struct copy **copies = calloc(count ? count : 1, sizeof(*copies));
    bool ok = copies != NULL;
    for (size_t i = 0; ok && i < count; i++) ok = (copies[i] = copy_span(spans[i])) != NULL;

    pthread_mutex_lock(&m->lock);
    ok = ok && store_reserve(m, count);
    if (ok) {
        memcpy(m->spans + m->count, copies, count * sizeof(*copies));
        m->count += count;
        pthread_cond_broadcast(&m->grew);
    }
    pthread_mutex_unlock(&m->lock);
    if (!ok && copies)
        for (size_t i = 0; i < count; i++) copy_free(copies[i]);
    free(copies);
    return ok ? OTELC_EXPORT_SUCCESS : OTELC_EXPORT_FAILURE;
}

/* The store belongs to the caller: the exporter handle only points at it. */
/* In a fork child the store keeps what the parent had; its lock is made anew. */
static void memory_after_fork_child(void *self)
{
    otelc_memory_exporter *m = self;
    pthread_mutex_init(&m->lock, NULL);
    otelc__cond_init_monotonic(&m->grew);
}

static const otelc_exporter_ops memory_ops = {
    .export_spans = memory_export,
    .after_fork_child = memory_after_fork_child,
};

otelc_memory_exporter *otelc_memory_exporter_new(otelc_exporter **exporter)
{
    if (!exporter) return NULL;
    *exporter = NULL;
    otelc_memory_exporter *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    otelc__cond_init_monotonic(&m->grew);
    pthread_mutex_init(&m->lock, NULL);
    *exporter = otelc_exporter_new(&memory_ops, m);
    if (!*exporter) {
        otelc_memory_exporter_free(m);
        return NULL;
    }
    return m;
}

otelc_provider *otelc_testing_provider_new(otelc_memory_exporter **mem)
{
    if (!mem) return NULL;
    otelc_exporter *exp = NULL;
    otelc_provider *p = NULL;
    *mem = otelc_memory_exporter_new(&exp);
    /* Each step owns what it was given, also when it fails. */
    otelc_processor *proc = *mem ? otelc_simple_processor_new(exp) : NULL;
    if (proc) {
        otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
        if (otelc_provider_new(&o, &p) == OTELC_OK) return p;
    }
    otelc_memory_exporter_free(*mem);
    *mem = NULL;
    return NULL;
}

static void store_clear(otelc_memory_exporter *m)
{
    for (size_t i = 0; i < m->count; i++) copy_free(m->spans[i]);
    m->count = 0;
}

void otelc_memory_exporter_free(otelc_memory_exporter *m)
{
    if (!m) return;
    store_clear(m);
    free(m->spans);
    pthread_cond_destroy(&m->grew);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

size_t otelc_memory_exporter_count(otelc_memory_exporter *m)
{
    if (!m) return 0;
    pthread_mutex_lock(&m->lock);
    size_t n = m->count;
    pthread_mutex_unlock(&m->lock);
    return n;
}

const otelc_span_data *otelc_memory_exporter_get(otelc_memory_exporter *m, size_t i)
{
    if (!m) return NULL;
    pthread_mutex_lock(&m->lock);
    const otelc_span_data *sd = i < m->count ? &m->spans[i]->data : NULL;
    pthread_mutex_unlock(&m->lock);
    return sd;
}

void otelc_memory_exporter_reset(otelc_memory_exporter *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    store_clear(m);
    pthread_mutex_unlock(&m->lock);
}

void otelc_memory_exporter_set_failing(otelc_memory_exporter *m, bool failing)
{
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    m->failing = failing;
    pthread_mutex_unlock(&m->lock);
}

bool otelc_memory_exporter_wait(otelc_memory_exporter *m, size_t n, uint32_t timeout_ms)
{
    if (!m) return false;
    struct timespec until = otelc__deadline_in(timeout_ms);
    pthread_mutex_lock(&m->lock);
    int rc = 0;
    while (m->count < n && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&m->grew, &m->lock, &until);
    bool reached = m->count >= n;
    pthread_mutex_unlock(&m->lock);
    return reached;
}

/* ---- Finding spans ---------------------------------------------------------------- */

typedef bool (*span_pred)(const otelc_span_data *sd, const void *arg);

/* The first span satisfying pred, or NULL; with count, how many do. */
static const otelc_span_data *scan(otelc_memory_exporter *m, span_pred pred, const void *arg,
                                   size_t *count)
{
    const otelc_span_data *first = NULL;
    size_t n = 0;
    if (!m) return NULL;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->count; i++) {
        const otelc_span_data *sd = &m->spans[i]->data;
        if (!pred(sd, arg)) continue;
        if (!first) first = sd;
        n++;
        if (!count) break;
    }
    pthread_mutex_unlock(&m->lock);
    if (count) *count = n;
    return first;
}

static bool named(const otelc_span_data *sd, const void *name)
{
    return sd->name && strcmp(sd->name, name) == 0;
}

const otelc_span_data *otelc_testing_find(otelc_memory_exporter *m, const char *name)
{
    return name ? scan(m, named, name, NULL) : NULL;
}

size_t otelc_testing_count_named(otelc_memory_exporter *m, const char *name)
{
    size_t n = 0;
    if (name) scan(m, named, name, &n);
    return n;
}

struct attr_query {
    const char *key;
    const char *value;
};

static bool has_attr(const otelc_span_data *sd, const void *arg)
{
    const struct attr_query *q = arg;
    const otelc_value *v = otelc_attrs_find(sd->attrs, sd->attr_count, q->key);
    if (!v || !q->value) return v != NULL;
    size_t len = strlen(q->value);
    return v->type == OTELC_VALUE_STRING && v->u.str.len == len &&
           memcmp(v->u.str.ptr, q->value, len) == 0;
}

const otelc_span_data *otelc_testing_find_attr(otelc_memory_exporter *m, const char *key,
                                               const char *value)
{
    if (!key) return NULL;
    struct attr_query q = {key, value};
    return scan(m, has_attr, &q, NULL);
}

const char *otelc_testing_attr_str(const otelc_span_data *sd, const char *key)
{
    const otelc_value *v = sd && key ? otelc_attrs_find(sd->attrs, sd->attr_count, key) : NULL;
    return v && v->type == OTELC_VALUE_STRING ? v->u.str.ptr : NULL;
}

bool otelc_testing_attr_int(const otelc_span_data *sd, const char *key, int64_t *out)
{
    const otelc_value *v = sd && key ? otelc_attrs_find(sd->attrs, sd->attr_count, key) : NULL;
    if (!v || v->type != OTELC_VALUE_INT) return false;
    if (out) *out = v->u.i;
    return true;
}

/* ---- Trace shape ------------------------------------------------------------------- */

static bool explain(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write the reason a check failed; always returns false. */
static bool explain(char *why, size_t size, const char *fmt, ...)
{
    if (why && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static char *span_hex(const uint8_t id[8], char out[17])
{
    otelc__hex_encode(id, 8, out);
    out[16] = '\0';
    return out;
}

bool otelc_testing_is_parent(const otelc_span_data *parent, const otelc_span_data *child, char *why,
                             size_t why_size)
{
    char a[17], b[17];
    if (!parent || !child) return explain(why, why_size, "span is NULL");
    if (memcmp(parent->context.trace_id, child->context.trace_id, 16) != 0)
        return explain(why, why_size, "'%s' and '%s' are in different traces", parent->name,
                       child->name);
    if (!child->has_parent) return explain(why, why_size, "'%s' has no parent", child->name);
    if (memcmp(child->parent_span_id, parent->context.span_id, 8) != 0)
        return explain(why, why_size, "'%s' has parent %s, not '%s' (%s)", child->name,
                       span_hex(child->parent_span_id, a), parent->name,
                       span_hex(parent->context.span_id, b));
    return true;
}

/* Spans of one trace, copied out under the lock (pointers stay valid until reset). */
static const otelc_span_data **trace_spans(otelc_memory_exporter *m, const uint8_t id[16],
                                           size_t *n)
{
    *n = 0;
    pthread_mutex_lock(&m->lock);
    const otelc_span_data **out = malloc((m->count ? m->count : 1) * sizeof(*out));
    for (size_t i = 0; out && i < m->count; i++)
        if (memcmp(m->spans[i]->data.context.trace_id, id, 16) == 0)
            out[(*n)++] = &m->spans[i]->data;
    pthread_mutex_unlock(&m->lock);
    return out;
}

static bool contains_span(const otelc_span_data **spans, size_t n, const uint8_t id[8])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(spans[i]->context.span_id, id, 8) == 0) return true;
    return false;
}

static bool is_root(const otelc_span_data *sd, bool allow_remote_root)
{
    return !sd->has_parent || (allow_remote_root && sd->parent_is_remote);
}

static int cmp_span_id(const void *a, const void *b)
{
    return memcmp(a, b, 8);
}

/*
 * One root and every other span's parent present; explains the first
 * violation in array order. Parents are looked up in a sorted copy of the
 * span ids: the viewer checks traces of many thousand spans with this.
 */
bool otelc__trace_complete(const otelc_span_data *const *spans, size_t n, bool allow_remote_root,
                           char *why, size_t why_size)
{
    char hex[17];
    if (n == 0) return explain(why, why_size, "no spans in this trace");
    uint8_t(*ids)[8] = malloc(n * sizeof *ids);
    if (!ids) return explain(why, why_size, "out of memory");
    for (size_t i = 0; i < n; i++) memcpy(ids[i], spans[i]->context.span_id, 8);
    qsort(ids, n, sizeof *ids, cmp_span_id);
    const otelc_span_data *root = NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const otelc_span_data *sd = spans[i];
        if (is_root(sd, allow_remote_root)) {
            if (root) ok = explain(why, why_size, "two roots: '%s' and '%s'", root->name, sd->name);
            root = sd;
        } else if (!bsearch(sd->parent_span_id, ids, n, sizeof *ids, cmp_span_id)) {
            ok = explain(why, why_size, "parent %s of '%s' is missing",
                         span_hex(sd->parent_span_id, hex), sd->name);
        }
    }
    free(ids);
    return ok && !root ? explain(why, why_size, "no root span") : ok;
}

bool otelc_testing_trace_complete(otelc_memory_exporter *m, const uint8_t trace_id[16],
                                  bool allow_remote_root, char *why, size_t why_size)
{
    if (!m || !trace_id) return explain(why, why_size, "no store or trace id");
    size_t n;
    const otelc_span_data **spans = trace_spans(m, trace_id, &n);
    if (!spans) return explain(why, why_size, "out of memory");
    bool ok = otelc__trace_complete(spans, n, allow_remote_root, why, why_size);
    free(spans);
    return ok;
}

bool otelc_testing_traces_disjoint(otelc_memory_exporter *m, const uint8_t a[16],
                                   const uint8_t b[16], char *why, size_t why_size)
{
    if (!m || !a || !b) return explain(why, why_size, "no store or trace id");
    size_t na, nb;
    const otelc_span_data **sa = trace_spans(m, a, &na);
    const otelc_span_data **sb = trace_spans(m, b, &nb);
    bool ok = sa && sb;
    if (!ok) explain(why, why_size, "out of memory");
    for (size_t i = 0; ok && i < na; i++) {
        if (!contains_span(sb, nb, sa[i]->context.span_id)) continue;
        char hex[17];
        ok = explain(why, why_size, "span %s ('%s') is in both traces",
                     span_hex(sa[i]->context.span_id, hex), sa[i]->name);
    }
    free(sa);
    free(sb);
    return ok;
}
