/*
 * span.c - the span: start, attributes, events, links, status, end.
 *
 * Ownership: a span starts with one reference, the application's handle.
 * Activation takes another (so an early end cannot free a current span);
 * a processor that queues the finished span takes one more. The last
 * release gives the memory back to the pool. Everything a span holds lives
 * in its arena, so recycling it is a pointer reset, not a walk of frees.
 *
 * Limits follow the SDK specification: attributes beyond the count limit are
 * dropped and counted; string values beyond the length limit are truncated
 * at a character boundary and bytes at the limit, at any depth inside
 * arrays and maps (otelc__value_copy); events and links beyond theirs
 * likewise. A value that cannot be copied (out of memory, unknown type)
 * is kept as the empty value.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- Reference counting --------------------------------------------------- */

/* The span handed out when tracing is off: never recorded, never freed. */
static struct otelc_span noop_span;

const struct otelc__noop_handles otelc__noop = {&otelc__noop_tracer, &noop_span};

static bool is_real(const struct otelc_span *s)
{
    return s && s != &noop_span;
}

void otelc__span_retain(struct otelc_span *s)
{
    if (is_real(s)) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void otelc__span_release(struct otelc_span *s)
{
    if (!is_real(s)) return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) otelc__span_free(s);
}

void otelc_span_data_retain(const otelc_span_data *sd)
{
    if (sd) otelc__span_retain(otelc__span_of(sd));
}

void otelc_span_data_release(const otelc_span_data *sd)
{
    if (sd) otelc__span_release(otelc__span_of(sd));
}

/* ---- Value copies under the limits ------------------------------------------ */

static const otelc_span_limits *limits_of(const struct otelc_span *s)
{
    return &s->tracer->provider->limits;
}

/*
 * Copy an attribute list (events, links) into the arena, keeping at most
 * max_count and reporting how many were dropped. Later duplicates of a key
 * replace earlier ones.
 */
static otelc_attr *copy_attr_list(otelc_arena *a, const otelc_attr *in, size_t n,
                                  uint32_t max_count, uint32_t maxlen, uint32_t *count,
                                  uint32_t *dropped)
{
    *count = 0;
    *dropped = 0;
    if (!in || n == 0) return NULL;
    size_t cap = n < max_count ? n : max_count;
    otelc_attr *out = otelc__arena_alloc(a, cap * sizeof(*out) + 1, _Alignof(otelc_attr));
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].key) continue;
        size_t k = 0;
        while (k < *count && strcmp(out[k].key, in[i].key) != 0) k++;
        if (k == *count) {
            if (*count >= cap) {
                (*dropped)++;
                continue;
            }
            out[k].key = otelc__arena_strndup(a, in[i].key, strlen(in[i].key));
            if (!out[k].key) break;
            (*count)++;
        }
        if (!otelc__value_copy(a, &out[k].value, &in[i].value, maxlen))
            out[k].value = (otelc_value){.type = OTELC_VALUE_EMPTY}; /* as otelc_span_set_attr */
    }
    return out;
}

/* ---- Attributes ------------------------------------------------------------ */

static bool writable(const otelc_span *span)
{
    return is_real(span) && span->recording && !span->ended;
}

/* Room for cap attributes (the table moves into the arena); false when out of memory. */
static bool attrs_reserve(struct otelc_span *s, uint32_t cap)
{
    if (cap <= s->attr_cap) return true;
    otelc_attr *grown =
        otelc__arena_alloc(&s->arena, cap * sizeof(otelc_attr), _Alignof(otelc_attr));
    if (!grown) return false;
    memcpy(grown, s->data.attrs, s->data.attr_count * sizeof(otelc_attr));
    s->data.attrs = grown;
    s->attr_cap = cap;
    return true;
}

/*
 * A key's bit in key_bits, from its length and last byte. A key whose bit
 * is clear cannot be in the span yet, so most keys skip the duplicate scan
 * (with a dozen attributes, as an HTTP server span has, the scan was most
 * of what setting one cost).
 */
static inline uint32_t key_bit(const char *key, size_t key_len)
{
    unsigned last = key_len ? (unsigned char)key[key_len - 1] : 0;
    return 1u << ((key_len * 7 + last) & 31);
}

/* The slot for key: the existing one, a new one, or NULL when over the limit. */
static otelc_attr *attr_slot(struct otelc_span *s, const char *key, size_t key_len)
{
    otelc_attr *attrs = (otelc_attr *)s->data.attrs;
    uint32_t bit = key_bit(key, key_len);
    if (s->key_bits & bit)
        for (uint32_t i = 0; i < s->data.attr_count; i++)
            if (attrs[i].key[0] == key[0] && strcmp(attrs[i].key, key) == 0) return &attrs[i];
    if (s->data.attr_count >= limits_of(s)->attribute_count) {
        s->data.dropped_attr_count++;
        return NULL;
    }
    if (s->data.attr_count == s->attr_cap && !attrs_reserve(s, s->attr_cap * 2)) return NULL;
    attrs = (otelc_attr *)s->data.attrs;
    otelc_attr *slot = &attrs[s->data.attr_count];
    slot->key = otelc__arena_strndup(&s->arena, key, key_len);
    if (!slot->key) return NULL;
    s->data.attr_count++;
    s->key_bits |= bit;
    return slot;
}

/*
 * Room for n more attributes and a few besides (a server span adds its
 * status and body sizes), made once rather than by doubling: every outgrown
 * table is arena space the span keeps until it is recycled.
 */
static void attrs_room(struct otelc_span *s, size_t n)
{
    size_t want = s->data.attr_count + n;
    if (want <= s->attr_cap) return;
    uint32_t limit = limits_of(s)->attribute_count;
    attrs_reserve(s, want + 4 < limit ? (uint32_t)want + 4 : limit);
}

/* Set attrs[0..count) on s, which is writable. */
static void set_all(struct otelc_span *s, const otelc_attr *attrs, size_t count)
{
    if (count == 0) return;
    attrs_room(s, count);
    for (size_t i = 0; i < count; i++) otelc_span_set_attr(s, &attrs[i]);
}

void otelc_span_set_attrs(otelc_span *span, const otelc_attr *attrs, size_t count)
{
    if (writable(span) && attrs) set_all(span, attrs, count);
}

void otelc_span_set_attr(otelc_span *span, const otelc_attr *attr)
{
    if (!writable(span) || !attr || !attr->key) return;
    otelc_attr *slot = attr_slot(span, attr->key, strlen(attr->key));
    if (!slot) return;
    /* Out of memory, or a type we do not know: no value to keep, but the key was set. */
    if (!otelc__value_copy(&span->arena, &slot->value, &attr->value,
                           limits_of(span)->attribute_value_length))
        slot->value = (otelc_value){.type = OTELC_VALUE_EMPTY};
}

/*
 * The typed setters go straight to the slot: scalars need no copy, and a
 * string's length is known once. This is most of a span's cost, so it skips
 * building a generic otelc_attr and the type switch of otelc__value_copy.
 * The inline functions of trace.h call these with the lengths of literal
 * keys and values already known.
 */
static size_t known_len(const char *s, size_t len)
{
    return len == OTELC__LEN_UNKNOWN ? strlen(s) : len;
}

static void set_scalar(otelc_span *span, const char *key, size_t key_len, otelc_value v)
{
    otelc_attr *slot = attr_slot(span, key, known_len(key, key_len));
    if (slot) slot->value = v;
}

void otelc__span_set_str(otelc_span *span, const char *key, size_t key_len, const char *value,
                         size_t len)
{
    if (!writable(span) || !key) return;
    otelc_attr *slot = attr_slot(span, key, known_len(key, key_len));
    if (!slot) return;
    if (!value) value = "", len = 0;
    len = known_len(value, len);
    uint32_t max_chars = limits_of(span)->attribute_value_length;
    otelc_value v = {.type = OTELC_VALUE_STRING, .u.str = {value, len}};
    if (max_chars == OTELC_UNLIMITED || len <= max_chars) {
        /* Within the limit whatever the encoding: copied inline, without the
         * generic otelc__value_copy() (a call and a type switch, ~2 % of a span). */
        v.u.str.ptr = otelc__arena_strndup(&span->arena, value, len);
        if (v.u.str.ptr) {
            slot->value = v;
            return;
        }
    } else if (otelc__value_copy(&span->arena, &slot->value, &v, max_chars)) {
        return;
    }
    slot->value = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {"", 0}};
}

void otelc__span_set_int(otelc_span *span, const char *key, size_t key_len, int64_t value)
{
    if (!writable(span) || !key) return; /* before building the value: the disabled path */
    set_scalar(span, key, key_len, (otelc_value){.type = OTELC_VALUE_INT, .u.i = value});
}

void otelc__span_set_double(otelc_span *span, const char *key, size_t key_len, double value)
{
    if (!writable(span) || !key) return;
    set_scalar(span, key, key_len, (otelc_value){.type = OTELC_VALUE_DOUBLE, .u.d = value});
}

void otelc__span_set_bool(otelc_span *span, const char *key, size_t key_len, bool value)
{
    if (!writable(span) || !key) return;
    set_scalar(span, key, key_len, (otelc_value){.type = OTELC_VALUE_BOOL, .u.b = value});
}

void otelc_span_set_strn(otelc_span *span, const char *key, const char *value, size_t len)
{
    otelc__span_set_str(span, key, OTELC__LEN_UNKNOWN, value, value ? len : 0);
}

void otelc_span_set_str(otelc_span *span, const char *key, const char *value)
{
    otelc__span_set_str(span, key, OTELC__LEN_UNKNOWN, value, OTELC__LEN_UNKNOWN);
}

void otelc_span_set_bool(otelc_span *span, const char *key, bool value)
{
    otelc__span_set_bool(span, key, OTELC__LEN_UNKNOWN, value);
}

void otelc_span_set_int(otelc_span *span, const char *key, int64_t value)
{
    otelc__span_set_int(span, key, OTELC__LEN_UNKNOWN, value);
}

void otelc_span_set_double(otelc_span *span, const char *key, double value)
{
    otelc__span_set_double(span, key, OTELC__LEN_UNKNOWN, value);
}

static void set_array(otelc_span *span, const char *key, otelc_value_type type, const void *items,
                      size_t count)
{
    if (!items) count = 0;
    otelc_attr a = {key, {.type = type, .u.array = {items, count}}};
    otelc_span_set_attr(span, &a);
}

void otelc_span_set_str_array(otelc_span *span, const char *key, const char *const *values,
                              size_t count)
{
    set_array(span, key, OTELC_VALUE_STRING_ARRAY, values, count);
}

void otelc_span_set_bool_array(otelc_span *span, const char *key, const bool *values, size_t count)
{
    set_array(span, key, OTELC_VALUE_BOOL_ARRAY, values, count);
}

void otelc_span_set_int_array(otelc_span *span, const char *key, const int64_t *values,
                              size_t count)
{
    set_array(span, key, OTELC_VALUE_INT_ARRAY, values, count);
}

void otelc_span_set_double_array(otelc_span *span, const char *key, const double *values,
                                 size_t count)
{
    set_array(span, key, OTELC_VALUE_DOUBLE_ARRAY, values, count);
}

/* ---- Events and links --------------------------------------------------------- */

/* Make room for one more element in a span-owned growable array. */
static void *grow(otelc_arena *a, const void *old, uint32_t count, uint32_t *cap, size_t elem)
{
    if (count < *cap) return (void *)(uintptr_t)old;
    uint32_t ncap = *cap ? *cap * 2 : 2;
    void *grown = otelc__arena_alloc(a, ncap * elem, 8);
    if (!grown) return NULL;
    if (count) memcpy(grown, old, count * elem);
    *cap = ncap;
    return grown;
}

void otelc_span_add_event_at(otelc_span *span, const char *name, uint64_t time_ns,
                             const otelc_attr *attrs, size_t attr_count)
{
    if (!writable(span) || !name) return;
    const otelc_span_limits *lim = limits_of(span);
    if (span->data.event_count >= lim->event_count) {
        span->data.dropped_event_count++;
        return;
    }
    otelc_event_data *events = grow(&span->arena, span->data.events, span->data.event_count,
                                    &span->event_cap, sizeof(otelc_event_data));
    if (!events) return;
    span->data.events = events;
    otelc_event_data *e = &events[span->data.event_count];
    e->name = otelc__arena_strndup(&span->arena, name, strlen(name));
    if (!e->name) return;
    e->time_ns = time_ns ? time_ns : otelc__now_ns();
    e->attrs = copy_attr_list(&span->arena, attrs, attr_count, lim->event_attribute_count,
                              lim->attribute_value_length, &e->attr_count, &e->dropped_attr_count);
    span->data.event_count++;
}

void otelc_span_add_event(otelc_span *span, const char *name, const otelc_attr *attrs,
                          size_t attr_count)
{
    otelc_span_add_event_at(span, name, 0, attrs, attr_count);
}

void otelc_span_record_exception(otelc_span *span, const char *type, const char *message,
                                 const char *stacktrace)
{
    if (!writable(span)) return;
    otelc_attr attrs[3];
    size_t n = 0;
    if (type) attrs[n++] = OTELC_ATTR_STR("exception.type", type);
    if (message) attrs[n++] = OTELC_ATTR_STR("exception.message", message);
    if (stacktrace) attrs[n++] = OTELC_ATTR_STR("exception.stacktrace", stacktrace);
    otelc_span_add_event(span, "exception", attrs, n);
}

static void add_link(struct otelc_span *s, const otelc_span_context *sc, const otelc_attr *attrs,
                     size_t attr_count)
{
    const otelc_span_limits *lim = limits_of(s);
    if (s->data.link_count >= lim->link_count) {
        s->data.dropped_link_count++;
        return;
    }
    otelc_link_data *links =
        grow(&s->arena, s->data.links, s->data.link_count, &s->link_cap, sizeof(otelc_link_data));
    if (!links) return;
    s->data.links = links;
    otelc_link_data *l = &links[s->data.link_count];
    l->context = *sc;
    if (sc->trace_state)
        l->context.trace_state =
            otelc__arena_strndup(&s->arena, sc->trace_state, strlen(sc->trace_state));
    l->attrs = copy_attr_list(&s->arena, attrs, attr_count, lim->link_attribute_count,
                              lim->attribute_value_length, &l->attr_count, &l->dropped_attr_count);
    s->data.link_count++;
}

void otelc_span_add_link(otelc_span *span, const otelc_span_context *sc, const otelc_attr *attrs,
                         size_t attr_count)
{
    if (!writable(span) || !sc || !otelc_span_context_is_valid(sc)) return;
    add_link(span, sc, attrs, attr_count);
}

/* ---- Status, name, queries ----------------------------------------------------- */

void otelc_span_set_status(otelc_span *span, otelc_status_code code, const char *description)
{
    if (!writable(span) || span->status_final) return;
    if (code == OTELC_STATUS_ERROR) {
        span->data.status = OTELC_STATUS_ERROR;
        span->data.status_message =
            description ? otelc__arena_strndup(&span->arena, description, strlen(description))
                        : NULL;
    } else if (code == OTELC_STATUS_OK) {
        span->data.status = OTELC_STATUS_OK;
        span->data.status_message = NULL;
        span->status_final = 1;
    }
}

void otelc_span_update_name(otelc_span *span, const char *name)
{
    if (!writable(span) || !name) return;
    const char *copy = otelc__arena_strndup(&span->arena, name, strlen(name));
    if (copy) span->data.name = copy;
}

bool otelc_span_is_recording(const otelc_span *span)
{
    return writable(span);
}

otelc_span_context otelc_span_get_context(const otelc_span *span)
{
    if (!is_real(span)) return (otelc_span_context){{0}, {0}, 0, false, NULL};
    return span->data.context;
}

const otelc_value *otelc_attrs_find(const otelc_attr *attrs, size_t count, const char *key)
{
    if (!attrs || !key) return NULL;
    for (size_t i = 0; i < count; i++)
        if (attrs[i].key && strcmp(attrs[i].key, key) == 0) return &attrs[i].value;
    return NULL;
}

const otelc_value *otelc_span_data_attr(const otelc_span_data *sd, const char *key)
{
    return sd ? otelc_attrs_find(sd->attrs, sd->attr_count, key) : NULL;
}

/* ---- Start ------------------------------------------------------------------- */

/* Where the new span's parent comes from, in order of precedence. */
static bool resolve_parent(const struct otelc_provider *p, const otelc_span_options *o,
                           otelc_span_context *parent)
{
    if (o && o->root) return false;
    if (o && o->parent) {
        *parent = otelc_context_span_context(o->parent);
        return otelc_span_context_is_valid(parent);
    }
    if (otelc__current_span_context(parent)) return otelc_span_context_is_valid(parent);
    if (p->env_parent) {
        *parent = p->env_parent->sc;
        return true;
    }
    return false;
}

static uint8_t new_flags(bool has_parent, const otelc_span_context *parent, bool sampled)
{
    /* A root span's id comes from our PRNG, so its randomness is vouched for. */
    uint8_t random =
        has_parent ? (parent->trace_flags & OTELC_TRACE_FLAG_RANDOM) : OTELC_TRACE_FLAG_RANDOM;
    return random | (sampled ? OTELC_TRACE_FLAG_SAMPLED : 0);
}

static void copy_trace_state(struct otelc_span *s, const char *ts)
{
    s->data.context.trace_state =
        ts && *ts ? otelc__arena_strndup(&s->arena, ts, strlen(ts)) : NULL;
}

static void start_recording(struct otelc_span *s, otelc_tracer *tracer, const char *name,
                            size_t name_len, otelc_span_kind kind, const otelc_span_options *o)
{
    struct otelc_provider *p = tracer->provider;
    s->recording = 1;
    s->tracer = tracer;
    s->data.kind = kind;
    s->data.name = otelc__arena_strndup(&s->arena, name, name_len);
    if (!s->data.name) s->data.name = "";
    s->data.start_ns = o && o->start_ns ? o->start_ns : otelc__now_ns();
    s->data.scope = &tracer->scope;
    s->data.resource = p->resource;
    if (o) {
        if (o->attrs) set_all(s, o->attrs, o->attr_count);
        for (size_t i = 0; i < o->link_count; i++)
            if (otelc_span_context_is_valid(&o->links[i].context))
                add_link(s, &o->links[i].context, o->links[i].attrs, o->links[i].attr_count);
    }
}

static void notify_start(struct otelc_provider *p, struct otelc_span *s,
                         const otelc_span_context *parent)
{
    size_t n = atomic_load_explicit(&p->processor_count, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        otelc_processor *proc = p->processors[i];
        if (proc->ops->on_start) proc->ops->on_start(proc->self, s, parent);
    }
}

otelc_span *otelc__span_start(otelc_tracer *tracer, const char *name, size_t name_len,
                              otelc_span_kind kind, const otelc_span_options *o)
{
    struct otelc_provider *p = tracer ? tracer->provider : NULL;
    if (!p || p->disabled || atomic_load_explicit(&p->shut_down, memory_order_relaxed))
        return &noop_span;
    if (!name) name = "", name_len = 0;
    name_len = known_len(name, name_len);
    if (o) kind = o->kind;
    if (!kind) kind = OTELC_SPAN_INTERNAL;

    otelc_span_context parent;
    bool has_parent = resolve_parent(p, o, &parent);

    struct otelc_span *s = otelc__span_alloc();
    if (!s) return &noop_span;
    otelc_span_context *sc = &s->data.context;
    bool own_trace_id = !has_parent && !(o && o->trace_id && !otelc__is_zero(o->trace_id, 16));
    otelc__ids_new(own_trace_id ? sc->trace_id : NULL, sc->span_id);
    if (has_parent)
        memcpy(sc->trace_id, parent.trace_id, 16);
    else if (!own_trace_id)
        memcpy(sc->trace_id, o->trace_id, 16);
    if (o && o->span_id && !otelc__is_zero(o->span_id, 8)) memcpy(sc->span_id, o->span_id, 8);

    otelc_sampling_params params = {
        .parent = has_parent ? &parent : NULL,
        .trace_id = sc->trace_id,
        .name = name,
        .kind = kind,
        .attrs = o ? o->attrs : NULL,
        .attr_count = o ? o->attr_count : 0,
        .links = o ? o->links : NULL,
        .link_count = o ? o->link_count : 0,
    };
    otelc_sampling_result r;
    r.decision = OTELC_SAMPLING_RECORD_AND_SAMPLE;
    r.trace_state = NULL;
    if (p->sampler) otelc_sampler_should_sample(p->sampler, &params, &r);

    sc->trace_flags =
        new_flags(has_parent, &parent, r.decision == OTELC_SAMPLING_RECORD_AND_SAMPLE);
    copy_trace_state(s, r.trace_state ? r.trace_state : has_parent ? parent.trace_state : NULL);
    if (has_parent) {
        memcpy(s->data.parent_span_id, parent.span_id, 8);
        s->data.has_parent = true;
        s->data.parent_is_remote = parent.is_remote;
    }
    if (r.decision == OTELC_SAMPLING_DROP) {
        otelc__stats_inc(&p->stats, OTELC_STAT_SAMPLED_OUT);
        return s;
    }
    start_recording(s, tracer, name, name_len, kind, o);
    otelc__stats_inc(&p->stats, OTELC_STAT_STARTED);
    notify_start(p, s, has_parent ? &parent : NULL);
    return s;
}

otelc_span *otelc_span_start(otelc_tracer *tracer, const char *name, otelc_span_kind kind)
{
    return otelc__span_start(tracer, name, OTELC__LEN_UNKNOWN, kind, NULL);
}

otelc_span *otelc_span_start_with(otelc_tracer *tracer, const char *name,
                                  const otelc_span_options *o)
{
    return otelc__span_start(tracer, name, OTELC__LEN_UNKNOWN, OTELC_SPAN_INTERNAL, o);
}

/* ---- End --------------------------------------------------------------------- */

void otelc_span_end_at(otelc_span *span, uint64_t end_ns)
{
    if (!is_real(span) || span->ended) return;
    span->ended = 1;
    if (span->recording) {
        struct otelc_provider *p = span->tracer->provider;
        span->data.end_ns = end_ns ? end_ns : otelc__now_ns();
        if (span->data.end_ns < span->data.start_ns) span->data.end_ns = span->data.start_ns;
        otelc__stats_inc(&p->stats, OTELC_STAT_ENDED);
        size_t n = atomic_load_explicit(&p->processor_count, memory_order_acquire);
        for (size_t i = 0; i < n; i++) {
            otelc_processor *proc = p->processors[i];
            if (proc->ops->on_end) proc->ops->on_end(proc->self, &span->data);
        }
    }
    otelc__span_release(span);
}

void otelc_span_end(otelc_span *span)
{
    otelc_span_end_at(span, 0);
}

/* ---- Block helper -------------------------------------------------------------- */

otelc__auto_span otelc__auto_span_begin(otelc_tracer *tracer, const char *name)
{
    otelc__auto_span a;
    a.span = otelc_span_start(tracer, name, OTELC_SPAN_INTERNAL);
    a.scope = otelc_span_activate(a.span);
    a.once = 1;
    return a;
}

void otelc__auto_span_finish(otelc__auto_span *a)
{
    otelc_scope_exit(a->scope);
    otelc_span_end(a->span);
}
