/*
 * span.c - the span: start, attributes, events, links, status, end.
 *
 * Ownership: a span starts with one reference, the application's handle.
 * Activation takes another (so an early end cannot free a current span);
 * a processor that queues the finished span takes one more. The last
 * release gives the memory back to the pool. Everything a span holds lives
 * in its arena, so recycling it is a pointer reset, not a walk of frees.
 *
 * Handles: a span that records is handed out as its own address; one that
 * does not (not sampled) as its address with the low bit set, and the
 * no-op span (tracing off) as the constant OTELC__NOOP_SPAN (trace.h). The
 * inline functions of trace.h thus see from the handle alone that a
 * setter has nothing to do, and every function here starts by turning the
 * handle into the span (writable(), otelc__span_ptr()).
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

#include "export/otlp.h"
#include "internal.h"

/* ---- Reference counting --------------------------------------------------- */

/* The tracer handed out when tracing is off (the inline start compares with it). */
otelc_tracer *const otelc__noop_tracer_handle = &otelc__noop_tracer;

/*
 * A count of one is the caller's own reference: no other thread holds one
 * that it could retain or release meanwhile, so the count changes without
 * an atomic read-modify-write (the acquire load sees every release made
 * before it). That is the usual case twice a span: the processor keeping
 * a finished span, and the last release.
 */
void otelc__span_retain(otelc_span *span)
{
    struct otelc_span *s = otelc__span_ptr(span);
    if (!s) return;
    if (atomic_load_explicit(&s->refs, memory_order_acquire) == 1)
        atomic_store_explicit(&s->refs, 2, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

static inline void span_release(struct otelc_span *s)
{
    if (atomic_load_explicit(&s->refs, memory_order_acquire) == 1 ||
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        otelc__span_free(s);
}

void otelc__span_release(otelc_span *span)
{
    struct otelc_span *s = otelc__span_ptr(span);
    if (s) span_release(s);
}

OTELC_HOT_TLS struct otelc_span *otelc__span_ending;

void otelc_span_data_retain(const otelc_span_data *sd)
{
    if (sd) otelc__span_retain(otelc__span_of(sd));
}

void otelc_span_data_release(const otelc_span_data *sd)
{
    if (sd) otelc__span_release(otelc__span_of(sd));
}

void otelc__spans_release(const otelc_span_data *const *sds, size_t n)
{
    for (size_t i = 0; i < n; i++) span_release(otelc__span_of(sds[i]));
}

/* ---- Value copies under the limits ------------------------------------------ */

static const otelc_span_limits *limits_of(const struct otelc_span *s)
{
    return &s->provider->limits;
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

/* The span behind a handle that records and has not ended, or NULL. */
static inline struct otelc_span *writable(const otelc_span *span)
{
    return otelc__span_records(span) ? (struct otelc_span *)(uintptr_t)span : NULL;
}

/*
 * Room for cap attributes (the table moves into the arena); false when out
 * of memory. attr_cap never exceeds the attribute count limit, so that
 * attr_slot() needs one comparison for both.
 */
static bool attrs_reserve(struct otelc_span *s, uint32_t cap)
{
    if (cap <= s->attr_cap) return true;
    /* The key lengths follow the table, in the same block. */
    otelc_attr *grown =
        otelc__arena_alloc(&s->arena, cap * (sizeof(otelc_attr) + 1), _Alignof(otelc_attr));
    if (!grown) return false;
    if (s->data.attr_count) { /* a server span reserves before its first attribute */
        memcpy(grown, s->data.attrs, s->data.attr_count * sizeof(otelc_attr));
        memcpy(grown + cap, s->key_lens, s->data.attr_count);
    }
    s->data.attrs = grown;
    s->key_lens = (uint8_t *)(grown + cap);
    s->attr_cap = cap;
    return true;
}

/* What key_lens keeps of a key's length: the encoders measure a 0 again. */
static inline uint8_t kept_len(size_t key_len)
{
    return key_len <= UINT8_MAX ? (uint8_t)key_len : 0;
}

/*
 * Whether attrs_wire w can count n more attributes of size more bytes
 * in all (see otelc__span_attrs_wire): its size and its count stay far
 * from what would carry into the count or reach OTELC_WIRE_UNKNOWN.
 */
static inline bool wire_has_room(uint32_t w, size_t n, size_t more)
{
    return w % OTELC_WIRE_ONE + more < OTELC_WIRE_SIZE_MAX && w / OTELC_WIRE_ONE + n < 2048;
}

/*
 * A new attribute whose KeyValue takes small bytes (0: it is not small,
 * see otelc__otlp_small_kv) counted in s->attrs_wire, or the end of
 * keeping it.
 */
static inline void wire_add(struct otelc_span *s, size_t small)
{
    uint32_t w = s->attrs_wire;
    s->attrs_wire = small && wire_has_room(w, 1, small) ? w + OTELC_WIRE_ONE + (uint32_t)small
                                                        : OTELC_WIRE_UNKNOWN;
}

/* What name_len keeps of the name's length, as kept_len() does. */
static inline uint16_t kept_name_len(size_t len)
{
    return len <= UINT16_MAX ? (uint16_t)len : 0;
}

/*
 * A key's bit in key_bits, from its length and its first and last bytes
 * (keys of one namespace share their first bytes, keys of one kind their
 * last: "http.method", "http.status_code"). A key whose bit is clear
 * cannot be in the span yet, so most keys skip the duplicate scan (with a
 * dozen attributes, as an HTTP server span has, the scan was most of what
 * setting one cost).
 */
static inline uint32_t key_bit(const char *key, size_t key_len)
{
    return OTELC__KEY_BIT_OF(key, key_len); /* in trace.h: literal keys' bits are compiled in */
}

/* The slot of key when the span has it already, else NULL. */
static otelc_attr *attr_find(struct otelc_span *s, const char *key)
{
    otelc_attr *attrs = (otelc_attr *)s->data.attrs;
    for (uint32_t i = 0; i < s->data.attr_count; i++)
        if (attrs[i].key[0] == key[0] && strcmp(attrs[i].key, key) == 0) return &attrs[i];
    return NULL;
}

/* attr_slot() when the table is full: grow it, or drop the attribute at the limit. */
static bool attrs_grow(struct otelc_span *s)
{
    uint32_t limit = limits_of(s)->attribute_count;
    if (s->data.attr_count >= limit) {
        s->data.dropped_attr_count++;
        return false;
    }
    uint32_t cap = s->attr_cap * 2 > s->attr_cap ? s->attr_cap * 2 : 1;
    return attrs_reserve(s, cap < limit ? cap : limit);
}

/*
 * The slot for key: the existing one, a new one, or NULL when over the
 * limit. A new slot holds a copy of key, or key itself when copy_key is
 * false (a key that outlives the span, see otelc__span_put_static_str).
 */
static inline otelc_attr *attr_slot(struct otelc_span *s, const char *key, size_t key_len,
                                    bool copy_key)
{
    uint32_t bit = key_bit(key, key_len);
    s->attrs_wire = OTELC_WIRE_UNKNOWN; /* replaced, cut, or copied the general way */
    if (OTELC_UNLIKELY(s->key_bits & bit)) {
        otelc_attr *found = attr_find(s, key);
        if (found) return found;
    }
    if (OTELC_UNLIKELY(s->data.attr_count >= s->attr_cap) && !attrs_grow(s)) return NULL;
    otelc_attr *slot = (otelc_attr *)&s->data.attrs[s->data.attr_count];
    slot->key = copy_key ? otelc__arena_strndup(&s->arena, key, key_len) : key;
    if (OTELC_UNLIKELY(!slot->key)) return NULL;
    s->key_lens[s->data.attr_count] = kept_len(key_len);
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

/* Set attr, whose key is key_len bytes long, on s, which is writable; copy_key as attr_slot(). */
static OTELC_ALWAYS_INLINE void set_attr_len(struct otelc_span *s, const otelc_attr *attr,
                                             size_t key_len, bool copy_key)
{
    otelc_attr *slot = attr_slot(s, attr->key, key_len, copy_key);
    if (!slot) return;
    /* Out of memory, or a type we do not know: no value to keep, but the key was set. */
    if (!otelc__value_copy(&s->arena, &slot->value, &attr->value,
                           limits_of(s)->attribute_value_length))
        slot->value = (otelc_value){.type = OTELC_VALUE_EMPTY};
}

/* Set attr on s, which is writable. */
static void set_attr(struct otelc_span *s, const otelc_attr *attr)
{
    if (attr->key) set_attr_len(s, attr, strlen(attr->key), true);
}

/* Set attrs[0..count) on s, which is writable. */
static void set_all(struct otelc_span *s, const otelc_attr *attrs, size_t count)
{
    if (count == 0) return;
    attrs_room(s, count);
    for (size_t i = 0; i < count; i++) set_attr(s, &attrs[i]);
}

void otelc_span_set_attrs(otelc_span *span, const otelc_attr *attrs, size_t count)
{
    struct otelc_span *s = writable(span);
    if (s && attrs) set_all(s, attrs, count);
}

void otelc_span_set_attr(otelc_span *span, const otelc_attr *attr)
{
    struct otelc_span *s = writable(span);
    if (s && attr) set_attr(s, attr);
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

/* The slot for key on the span behind span when it is writable, else NULL. */
static __attribute__((noinline)) otelc_attr *setter_slot(otelc_span *span, const char *key,
                                                         size_t key_len)
{
    struct otelc_span *s = writable(span);
    if (!s || !key) return NULL;
    return attr_slot(s, key, known_len(key, key_len), true);
}

/*
 * The longest key, and string value, the setters' usual case copies: up
 * to it otelc__copy_short() needs no call, and then neither does the
 * setter, which saves no registers.
 */
#define QUICK_LEN 32

/*
 * The typed setters' usual case, in which nothing is called: a writable
 * span, a new key (its bit clear), room in the table, and room in the
 * arena's block for a copy of the key (when copy_key: a key of known
 * length up to QUICK_LEN) and then extra bytes, whose place goes to
 * *extra_at. A key not copied is kept: one that outlives the span. NULL
 * when any of that does not hold: nothing has changed then, and the
 * setter takes its general path.
 */
static inline otelc_attr *quick_slot(otelc_span *span, const char *key, size_t key_len,
                                     uint32_t bit, bool copy_key, size_t extra, char **extra_at)
{
    struct otelc_span *s = (struct otelc_span *)span;
    if (((uintptr_t)span & OTELC__SPAN_NOT_RECORDING) || !s || s->ended || !bit ||
        (copy_key && key_len > QUICK_LEN))
        return NULL;
    uint32_t n = s->data.attr_count;
    char *d = s->arena.pos;
    size_t room = (size_t)(s->arena.end - d);
    if ((s->key_bits & bit) || n >= s->attr_cap) return NULL;
    if (copy_key) {
        if (key_len >= room || extra > room - key_len - 1) return NULL;
        otelc__copy_short(d, key, key_len);
        d[key_len] = '\0';
        key = d;
        d += key_len + 1;
    } else if (extra > room) {
        return NULL;
    }
    s->arena.pos = d + extra;
    *extra_at = d;
    otelc_attr *slot = (otelc_attr *)&s->data.attrs[n];
    slot->key = key;
    s->key_lens[n] = kept_len(key_len);
    s->data.attr_count = n + 1;
    s->key_bits |= bit;
    return slot;
}

/* A static key's general path: the attribute as any other, its key kept rather than copied. */
static __attribute__((noinline)) void put_static_slow(otelc_span *span, const char *key,
                                                      size_t key_len, otelc_value value)
{
    struct otelc_span *s = writable(span);
    otelc_attr a = {key, value};
    if (s && key) set_attr_len(s, &a, key_len, false);
}

/* A string value of len bytes into slot on s, copied and cut to the length limit. */
static void set_str_value(struct otelc_span *s, otelc_attr *slot, const char *value, size_t len)
{
    uint32_t max_chars = limits_of(s)->attribute_value_length;
    if (max_chars == OTELC_UNLIMITED || len <= max_chars) {
        /* Within the limit whatever the encoding: copied as it is. */
        const char *copy = otelc__arena_strndup(&s->arena, value, len);
        if (copy) {
            slot->value = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {copy, len}};
            return;
        }
    } else {
        otelc_value v = {.type = OTELC_VALUE_STRING, .u.str = {value, len}};
        if (otelc__value_copy(&s->arena, &slot->value, &v, max_chars)) return;
    }
    slot->value = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {"", 0}};
}

/* A string's general path (see set_scalar_slow). */
static __attribute__((noinline)) void set_str_slow(otelc_span *span, const char *key,
                                                   size_t key_len, const char *value, size_t len)
{
    otelc_attr *slot = setter_slot(span, key, key_len);
    if (slot) set_str_value((struct otelc_span *)span, slot, value, known_len(value, len));
}

/* A string attribute: the setters' and the static keys' (copy_key false) usual case and way out. */
static inline void put_str(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                           bool copy_key, const char *value, size_t len)
{
    if (!value) value = "", len = 0;
    char *at;
    /* The value's room is reserved with the key's when the limit cannot cut it. */
    otelc_attr *slot = NULL;
    if (len <= QUICK_LEN && OTELC__MAY_RECORD(span) && span &&
        len <= limits_of((struct otelc_span *)span)->attribute_value_length)
        slot = quick_slot(span, key, key_len, key_bit, copy_key, len + 1, &at);
    if (OTELC_UNLIKELY(!slot)) {
        if (copy_key)
            set_str_slow(span, key, key_len, value, len);
        else
            put_static_slow(span, key, key_len,
                            (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {value, len}});
        return;
    }
    otelc__copy_short(at, value, len);
    at[len] = '\0';
    slot->value.type = OTELC_VALUE_STRING;
    slot->value.u.str.ptr = at;
    slot->value.u.str.len = len;
    if (!copy_key) /* a static key's: the server helper's (see otelc__span_attrs_wire) */
        wire_add((struct otelc_span *)span,
                 otelc__otlp_small_kv(key_len, otelc__otlp_small_str_body(len)));
}

void otelc__span_put_str(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                         const char *value, size_t len)
{
    put_str(span, key, key_len, key_bit, true, value, len);
}

void otelc__span_put_static_str(otelc_span *span, const char *key, otelc_static_key k,
                                const char *value, size_t len)
{
    put_str(span, key, k.len, k.bit, false, value, len);
}

/*
 * A scalar's general path, out of line so that the setters' usual case
 * saves no registers: the value's bits (b for a bool, i for an int, d's
 * bits for a double) go into the slot under type.
 */
static __attribute__((noinline)) void set_scalar_slow(otelc_span *span, const char *key,
                                                      size_t key_len, otelc_value_type type,
                                                      uint64_t bits)
{
    otelc_attr *slot = setter_slot(span, key, key_len);
    if (!slot) return;
    slot->value.type = type;
    if (type == OTELC_VALUE_BOOL)
        slot->value.u.b = bits != 0;
    else
        memcpy(&slot->value.u.i, &bits, sizeof bits);
}

void otelc__span_put_int(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                         int64_t value)
{
    char *at;
    otelc_attr *slot = quick_slot(span, key, key_len, key_bit, true, 0, &at);
    if (OTELC_UNLIKELY(!slot)) {
        set_scalar_slow(span, key, key_len, OTELC_VALUE_INT, (uint64_t)value);
        return;
    }
    slot->value.type = OTELC_VALUE_INT;
    slot->value.u.i = value;
}

void otelc__span_put_double(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                            double value)
{
    char *at;
    otelc_attr *slot = quick_slot(span, key, key_len, key_bit, true, 0, &at);
    if (OTELC_UNLIKELY(!slot)) {
        uint64_t bits;
        memcpy(&bits, &value, sizeof bits);
        set_scalar_slow(span, key, key_len, OTELC_VALUE_DOUBLE, bits);
        return;
    }
    slot->value.type = OTELC_VALUE_DOUBLE;
    slot->value.u.d = value;
}

void otelc__span_put_bool(otelc_span *span, const char *key, size_t key_len, unsigned key_bit,
                          bool value)
{
    char *at;
    otelc_attr *slot = quick_slot(span, key, key_len, key_bit, true, 0, &at);
    if (OTELC_UNLIKELY(!slot)) {
        set_scalar_slow(span, key, key_len, OTELC_VALUE_BOOL, value);
        return;
    }
    slot->value.type = OTELC_VALUE_BOOL;
    slot->value.u.b = value;
}

void otelc__span_put_static_int(otelc_span *span, const char *key, otelc_static_key k,
                                int64_t value)
{
    char *at;
    otelc_attr *slot = quick_slot(span, key, k.len, k.bit, false, 0, &at);
    if (OTELC_UNLIKELY(!slot)) {
        put_static_slow(span, key, k.len, (otelc_value){.type = OTELC_VALUE_INT, .u.i = value});
        return;
    }
    slot->value.type = OTELC_VALUE_INT;
    slot->value.u.i = value;
    wire_add((struct otelc_span *)span, otelc__otlp_small_kv_size(k.len, &slot->value));
}

/* One attribute of otelc__span_put_static_attrs() the general way. */
static __attribute__((noinline)) void put_static_one(otelc_span *span, const otelc_attr *a,
                                                     otelc_static_key k)
{
    k.len &= ~OTELC_STATIC_VALUE;
    if (a->value.type == OTELC_VALUE_STRING)
        otelc__span_put_static_str(span, a->key, k, a->value.u.str.ptr, a->value.u.str.len);
    else
        put_static_slow(span, a->key, k.len, a->value);
}

/*
 * The usual case is one pass with nothing called but a copy per long
 * value: each attribute costs a third of a call of its own. It stops at
 * the first attribute that needs more (a key the span may have, a string
 * past the length limit or the arena's block, a type it does not copy).
 */
void otelc__span_put_static_attrs(otelc_span *span, const otelc_attr *attrs,
                                  const otelc_static_key *keys, size_t n, size_t extra)
{
    struct otelc_span *s = writable(span);
    size_t i = 0;
    if (!s) return;
    if (n > s->attr_cap - s->data.attr_count) attrs_room(s, n + extra);
    uint32_t count = s->data.attr_count, bits = s->key_bits;
    if (n <= s->attr_cap - count) {
        size_t wire = 0; /* their size: past OTELC_WIRE_SIZE_MAX, give up */
        size_t max_len = limits_of(s)->attribute_value_length;
        char *d = s->arena.pos, *end = s->arena.end;
        otelc_attr *slot = (otelc_attr *)&s->data.attrs[count];
        uint8_t *lens = s->key_lens + count;
        for (; i < n; i++, slot++) {
            const otelc_value *v = &attrs[i].value;
            size_t key_len = (uint8_t)keys[i].len, small; /* a static key's: under 256 */
            if (bits & keys[i].bit) break;
            if (v->type == OTELC_VALUE_STRING && v->u.str.len > max_len) break; /* to be cut */
            if (v->type == OTELC_VALUE_STRING && !(keys[i].len & OTELC_STATIC_VALUE)) {
                size_t len = v->u.str.len;
                if (len >= (size_t)(end - d)) break;
                if (len <= QUICK_LEN)
                    otelc__copy_short(d, v->u.str.ptr, len);
                else
                    memcpy(d, v->u.str.ptr, len);
                d[len] = '\0';
                slot->value = (otelc_value){.type = OTELC_VALUE_STRING, .u.str = {d, len}};
                d += len + 1;
                small = otelc__otlp_small_kv(key_len, otelc__otlp_small_str_body(len));
            } else if (v->type >= OTELC_VALUE_STRING && v->type <= OTELC_VALUE_DOUBLE) {
                slot->value = *v; /* a scalar, or a string that outlives the span */
                small = otelc__otlp_small_kv_size(key_len, v);
            } else {
                break;
            }
            slot->key = attrs[i].key;
            lens[i] = (uint8_t)key_len;
            bits |= keys[i].bit;
            wire += small ? small : OTELC_WIRE_SIZE_MAX;
        }
        s->arena.pos = d;
        s->data.attr_count = count + (uint32_t)i;
        s->key_bits = bits;
        s->attrs_wire = wire_has_room(s->attrs_wire, i, wire)
                            ? s->attrs_wire + (uint32_t)i * OTELC_WIRE_ONE + (uint32_t)wire
                            : OTELC_WIRE_UNKNOWN;
    }
    for (; i < n; i++) put_static_one(span, &attrs[i], keys[i]);
}

/*
 * The 0.1.0 entry points, which programs built with that version's
 * trace.h call with a key's length alone: its bit is worked out here.
 */
static uint32_t bit_of_known(const char *key, size_t key_len)
{
    return key && key_len != OTELC__LEN_UNKNOWN ? key_bit(key, key_len) : 0;
}

void otelc__span_set_str(otelc_span *span, const char *key, size_t key_len, const char *value,
                         size_t len)
{
    otelc__span_put_str(span, key, key_len, bit_of_known(key, key_len), value, len);
}

void otelc__span_set_int(otelc_span *span, const char *key, size_t key_len, int64_t value)
{
    otelc__span_put_int(span, key, key_len, bit_of_known(key, key_len), value);
}

void otelc__span_set_double(otelc_span *span, const char *key, size_t key_len, double value)
{
    otelc__span_put_double(span, key, key_len, bit_of_known(key, key_len), value);
}

void otelc__span_set_bool(otelc_span *span, const char *key, size_t key_len, bool value)
{
    otelc__span_put_bool(span, key, key_len, bit_of_known(key, key_len), value);
}

void otelc_span_set_strn(otelc_span *span, const char *key, const char *value, size_t len)
{
    otelc__span_put_str(span, key, OTELC__LEN_UNKNOWN, 0, value, value ? len : 0);
}

void otelc_span_set_str(otelc_span *span, const char *key, const char *value)
{
    otelc__span_put_str(span, key, OTELC__LEN_UNKNOWN, 0, value, OTELC__LEN_UNKNOWN);
}

void otelc_span_set_bool(otelc_span *span, const char *key, bool value)
{
    otelc__span_put_bool(span, key, OTELC__LEN_UNKNOWN, 0, value);
}

void otelc_span_set_int(otelc_span *span, const char *key, int64_t value)
{
    otelc__span_put_int(span, key, OTELC__LEN_UNKNOWN, 0, value);
}

void otelc_span_set_double(otelc_span *span, const char *key, double value)
{
    otelc__span_put_double(span, key, OTELC__LEN_UNKNOWN, 0, value);
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
    struct otelc_span *s = writable(span);
    if (!s || !name) return;
    const otelc_span_limits *lim = limits_of(s);
    if (s->data.event_count >= lim->event_count) {
        s->data.dropped_event_count++;
        return;
    }
    otelc_event_data *events = grow(&s->arena, s->data.events, s->data.event_count, &s->event_cap,
                                    sizeof(otelc_event_data));
    if (!events) return;
    s->data.events = events;
    otelc_event_data *e = &events[s->data.event_count];
    e->name = otelc__arena_strndup(&s->arena, name, strlen(name));
    if (!e->name) return;
    e->time_ns = time_ns ? time_ns : otelc__now_ns();
    e->attrs = copy_attr_list(&s->arena, attrs, attr_count, lim->event_attribute_count,
                              lim->attribute_value_length, &e->attr_count, &e->dropped_attr_count);
    s->data.event_count++;
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
    struct otelc_span *s = writable(span);
    if (!s || !sc || !otelc_span_context_is_valid(sc)) return;
    add_link(s, sc, attrs, attr_count);
}

/* ---- Ids ------------------------------------------------------------------- */

/*
 * Mix the ids of sc that raw names (OTELC_RAW_*) into their final values:
 * a span's ids are drawn raw at its start and mixed there when it
 * records; one that does not record is read (otelc_span_get_context)
 * through a mixed copy, and most are never read.
 */
static void mix_ids(otelc_span_context *sc, uint8_t raw)
{
    uint64_t w[3];
    memcpy(w, sc->trace_id, 16);
    memcpy(&w[2], sc->span_id, 8);
    if (raw & (OTELC_RAW_TRACE_ID | OTELC_RAW_TRACE_HI)) w[0] = otelc__id_mix(w[0]);
    if (raw & OTELC_RAW_TRACE_ID) w[1] = otelc__id_mix(w[1]);
    if (raw & OTELC_RAW_SPAN_ID) w[2] = otelc__id_mix(w[2]);
    memcpy(sc->trace_id, w, 16);
    memcpy(sc->span_id, &w[2], 8);
}

/* An id drawn for a span: raw, or mixed at once. */
static inline uint64_t new_id(bool raw)
{
    uint64_t w = otelc__id_draw();
    return raw ? w : otelc__id_mix(w);
}

/*
 * The new span's ids: the parent's trace id, or the one given, or new
 * ones, left raw when raw (a span that will not record, see mix_ids).
 */
static OTELC_ALWAYS_INLINE void set_ids(struct otelc_span *s, const otelc_span_context *parent,
                                        const otelc_span_options *o, bool raw)
{
    otelc_span_context *sc = &s->data.context;
    uint8_t raw_ids = 0;
    otelc__id_rng_ready();
    if (parent) {
        memcpy(sc->trace_id, parent->trace_id, 16);
    } else if (o && o->trace_id && !otelc__is_zero(o->trace_id, 16)) {
        memcpy(sc->trace_id, o->trace_id, 16);
    } else {
        uint64_t w[2];
        w[0] = new_id(raw);
        w[1] = new_id(raw);
        memcpy(sc->trace_id, w, 16);
        raw_ids |= OTELC_RAW_TRACE_ID;
    }
    if (o && o->span_id && !otelc__is_zero(o->span_id, 8)) {
        memcpy(sc->span_id, o->span_id, 8);
    } else {
        uint64_t w = new_id(raw);
        memcpy(sc->span_id, &w, 8);
        raw_ids |= OTELC_RAW_SPAN_ID;
    }
    if (raw) s->raw_ids = raw_ids; /* else 0, as span_new() left it */
}

/* ---- Status, name, queries ----------------------------------------------------- */

void otelc_span_set_status(otelc_span *span, otelc_status_code code, const char *description)
{
    struct otelc_span *s = writable(span);
    if (!s || s->status_final) return;
    if (code == OTELC_STATUS_ERROR) {
        s->data.status = OTELC_STATUS_ERROR;
        s->data.status_message =
            description ? otelc__arena_strndup(&s->arena, description, strlen(description)) : NULL;
    } else if (code == OTELC_STATUS_OK) {
        s->data.status = OTELC_STATUS_OK;
        s->data.status_message = NULL;
        s->status_final = 1;
    }
}

void otelc_span_update_name(otelc_span *span, const char *name)
{
    struct otelc_span *s = writable(span);
    if (!s || !name) return;
    size_t len = strlen(name);
    const char *copy = otelc__arena_strndup(&s->arena, name, len);
    if (copy) s->data.name = copy, s->name_len = kept_name_len(len);
}

bool otelc_span_is_recording(const otelc_span *span)
{
    return writable(span) != NULL;
}

otelc_span_context otelc_span_get_context(const otelc_span *span)
{
    const struct otelc_span *s = otelc__span_ptr(span);
    if (!s) return (otelc_span_context){{0}, {0}, 0, false, NULL};
    otelc_span_context sc = s->data.context;
    if (OTELC_UNLIKELY(s->raw_ids)) mix_ids(&sc, s->raw_ids);
    return sc;
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
    if (otelc__ctx_stack.depth && otelc__current_span_context(parent))
        return otelc_span_context_is_valid(parent);
    if (p->env_parent) {
        *parent = p->env_parent->sc;
        return true;
    }
    return false;
}

/*
 * A recording span's fields, all but its context, each set once (a
 * memset of the data first cost more than the stores it saves). parent
 * is NULL for a root span.
 */
static void init_recording(struct otelc_span *s, otelc_tracer *tracer,
                           const otelc_span_context *parent, otelc_span_kind kind)
{
    _Static_assert(sizeof(void *) != 8 || sizeof(otelc_span_data) == 160,
                   "a new field of otelc_span_data: set it here");
    otelc_span_data *d = &s->data;
    if (parent) {
        memcpy(d->parent_span_id, parent->span_id, 8);
        d->has_parent = true;
        d->parent_is_remote = parent->is_remote;
    } else {
        memset(d->parent_span_id, 0, 8);
        d->has_parent = false;
        d->parent_is_remote = false;
    }
    d->kind = kind;
    d->end_ns = 0;
    d->attrs = s->inline_attrs;
    s->key_lens = s->inline_key_lens;
    s->attrs_wire = 0;
    d->attr_count = d->dropped_attr_count = 0;
    d->events = NULL;
    d->event_count = d->dropped_event_count = 0;
    d->links = NULL;
    d->link_count = d->dropped_link_count = 0;
    d->status = OTELC_STATUS_UNSET;
    d->status_message = NULL;
    d->scope = &tracer->scope;
    d->resource = tracer->provider->resource;
    s->recording = 1;
    s->provider = tracer->provider;
    uint32_t limit = tracer->provider->limits.attribute_count;
    s->attr_cap = limit < OTELC_INLINE_ATTRS ? limit : OTELC_INLINE_ATTRS;
    s->event_cap = 0;
    s->link_cap = 0;
    s->key_bits = 0;
}

static OTELC_ALWAYS_INLINE void start_recording(struct otelc_span *s, otelc_tracer *tracer,
                                                const otelc_span_context *parent, const char *name,
                                                size_t name_len, otelc_span_kind kind,
                                                const otelc_span_options *o)
{
    init_recording(s, tracer, parent, kind);
    s->data.name = otelc__arena_strndup(&s->arena, name, name_len);
    s->name_len = kept_name_len(name_len);
    if (!s->data.name) s->data.name = "", s->name_len = 0;
    s->data.start_ns = o && o->start_ns ? o->start_ns : otelc__now_ns();
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
    if (!atomic_load_explicit(&p->any_on_start, memory_order_relaxed)) return;
    size_t n = atomic_load_explicit(&p->processor_count, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        otelc_processor *proc = p->processors[i];
        if (proc->ops->on_start) proc->ops->on_start(proc->self, s, parent);
    }
}

/* A copy of the tracestate ts for s, or NULL for none. */
static const char *trace_state_copy(struct otelc_span *s, const char *ts)
{
    return ts && *ts ? otelc__arena_strndup(&s->arena, ts, strlen(ts)) : NULL;
}

/*
 * Ask the provider's sampler about s (parent is NULL or valid), its ids
 * mixed first, and give s the tracestate it decides; returns the
 * decision. Out of line: the provider knows what the built-in samplers
 * decide (fixed_decision) and asks only the others, and their result is
 * large.
 */
static __attribute__((noinline)) otelc_sampling_decision
ask_sampler(struct otelc_provider *p, struct otelc_span *s, const otelc_span_context *parent,
            const char *name, otelc_span_kind kind, const otelc_span_options *o)
{
    otelc_sampling_params params = {
        .parent = parent,
        .trace_id = s->data.context.trace_id,
        .name = name,
        .kind = kind,
        .attrs = o ? o->attrs : NULL,
        .attr_count = o ? o->attr_count : 0,
        .links = o ? o->links : NULL,
        .link_count = o ? o->link_count : 0,
    };
    otelc_sampling_result r;
    if (s->raw_ids) mix_ids(&s->data.context, s->raw_ids); /* the sampler reads the trace id */
    s->raw_ids = 0;
    otelc_sampler_should_sample(p->sampler, &params, &r);
    const char *ts = r.trace_state ? r.trace_state : parent ? parent->trace_state : NULL;
    s->data.context.trace_state = trace_state_copy(s, ts);
    return r.decision;
}

/*
 * True when the provider's TraceIdRatioBased sampler would drop a span of
 * trace id under parent (NULL or valid) of parent case c, decided here
 * without asking it (otelc__sampler_drop_below): the usual case of a ratio
 * sampler, most of whose spans it drops.
 */
static inline bool ratio_drops(const struct otelc_provider *p, int c,
                               const otelc_span_context *parent, const uint8_t *trace_id)
{
    uint64_t below = p->drop_below[c];
    if (!below || otelc__trace_id_randomness(trace_id) >= below) return false;
    if (!parent) return true;
    const char *ts = parent->trace_state;
    return (parent->trace_flags & OTELC_TRACE_FLAG_RANDOM) && !(ts && strstr(ts, "ot="));
}

/*
 * Whether the provider's ratio sampler drops s, whose ids were drawn raw
 * (a span whose sampler must be consulted, a fixed decision below 0): a
 * drop needs only the trace id's randomness mixed, so a dropped span
 * leaves the rest raw. False when the sampler must be asked, which then
 * mixes them all (ask_sampler).
 */
static OTELC_ALWAYS_INLINE bool ratio_drops_raw(const struct otelc_provider *p,
                                                struct otelc_span *s, int pcase,
                                                const otelc_span_context *parent)
{
    otelc_span_context *sc = &s->data.context;
    if (!p->drop_below[pcase]) return false;
    if (s->raw_ids & OTELC_RAW_TRACE_ID) {
        uint64_t w;
        memcpy(&w, sc->trace_id + 8, 8);
        w = otelc__id_mix(w);
        memcpy(sc->trace_id + 8, &w, 8);
        s->raw_ids = (uint8_t)((s->raw_ids & ~OTELC_RAW_TRACE_ID) | OTELC_RAW_TRACE_HI);
    }
    return ratio_drops(p, pcase, parent, sc->trace_id);
}

/* ratio_drops_raw() out of line, for otelc_span_start(): inline, it costs every other span more. */
static __attribute__((noinline)) bool ratio_drops_raw_call(const struct otelc_provider *p,
                                                           struct otelc_span *s, int pcase,
                                                           const otelc_span_context *parent)
{
    return ratio_drops_raw(p, s, pcase, parent);
}

/* A span from the pool that does not record (yet): its count, flags and arena are set. */
static struct otelc_span *span_new(void)
{
    struct otelc_span *s = otelc__span_take();
    if (!s) return NULL;
    atomic_init(&s->refs, 1);
    s->recording = 0; /* the four flags, one store */
    s->ended = 0;
    s->status_final = 0;
    s->raw_ids = 0;
    return s;
}

/*
 * otelc__span_start(), made twice: for o NULL, the usual case, it has fewer
 * tests. server: otelc__span_start_server()'s copy, whose options never
 * escape (ask_sampler gets none: a server span's have no attributes or
 * links) and whose ratio decision is inline.
 */
static OTELC_ALWAYS_INLINE otelc_span *span_start(otelc_tracer *tracer, const char *name,
                                                  size_t name_len, otelc_span_kind kind,
                                                  const otelc_span_options *o, bool server)
{
    /* A disabled provider hands out only the no-op tracer, whose provider is NULL. */
    struct otelc_provider *p = tracer ? tracer->provider : NULL;
    if (!p || atomic_load_explicit(&p->shut_down, memory_order_relaxed)) return OTELC__NOOP_SPAN;
    if (!name) name = "", name_len = 0;
    name_len = known_len(name, name_len);
    if (o) kind = o->kind;
    if (!kind) kind = OTELC_SPAN_INTERNAL;

    otelc_span_context parent_sc;
    const otelc_span_context *parent = resolve_parent(p, o, &parent_sc) ? &parent_sc : NULL;
    struct otelc_span *s = span_new();
    if (!s) return OTELC__NOOP_SPAN;
    otelc_span_context *sc = &s->data.context;
    /* The ids of a span that will not record stay raw; a sampler reads them mixed. */
    int pcase = otelc__parent_case_of_valid(parent), decision = p->fixed_decision[pcase];
    set_ids(s, parent, o, decision <= OTELC_SAMPLING_DROP); /* dropped, or to be decided */
    /* Two branches, not one test of a ternary: that shape cost otelc_span_start() two more. */
    if (server) {
        if (decision < 0 && ratio_drops_raw(p, s, pcase, parent)) decision = OTELC_SAMPLING_DROP;
    } else if (decision < 0 && ratio_drops_raw_call(p, s, pcase, parent)) {
        decision = OTELC_SAMPLING_DROP;
    }
    if (OTELC_LIKELY(decision >= 0))
        sc->trace_state = parent ? trace_state_copy(s, parent->trace_state) : NULL;
    else
        decision = ask_sampler(p, s, parent, name, kind, server ? NULL : o);
    /* A root span's id comes from our PRNG, so its randomness is vouched for. */
    sc->trace_flags =
        (parent ? parent->trace_flags & OTELC_TRACE_FLAG_RANDOM : OTELC_TRACE_FLAG_RANDOM) |
        (decision == OTELC_SAMPLING_RECORD_AND_SAMPLE ? OTELC_TRACE_FLAG_SAMPLED : 0);
    sc->is_remote = false;
    if (decision == OTELC_SAMPLING_DROP) {
        otelc__stats_inc(&p->stats, OTELC_STAT_SAMPLED_OUT);
        return (otelc_span *)((uintptr_t)s | OTELC__SPAN_NOT_RECORDING);
    }
    start_recording(s, tracer, parent, name, name_len, kind, o);
    otelc__stats_inc(&p->stats, OTELC_STAT_STARTED);
    notify_start(p, s, parent);
    return s;
}

otelc_span *otelc__span_start(otelc_tracer *tracer, const char *name, size_t name_len,
                              otelc_span_kind kind, const otelc_span_options *o)
{
    if (o) return span_start(tracer, name, name_len, kind, o, false);
    return span_start(tracer, name, name_len, kind, NULL, false);
}

otelc_span *otelc__span_start_server(otelc_tracer *tracer, const char *name, size_t name_len,
                                     const otelc_context *parent, uint64_t start_ns)
{
    const otelc_span_options o = {
        .kind = OTELC_SPAN_SERVER,
        .parent = parent,
        .root = parent == NULL,
        .start_ns = start_ns,
    };
    return span_start(tracer, name, name_len, OTELC_SPAN_SERVER, &o, true);
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

/*
 * Hand the finished span to the processors, then give up the handle's
 * reference, unless the last processor took it over (otelc__span_keep):
 * the batch processor then queues the span without touching its count,
 * and this thread must not touch the span again, which the worker may
 * already be recycling.
 */
static __attribute__((noinline)) void end_recording(struct otelc_span *s, uint64_t end_ns)
{
    struct otelc_provider *p = s->provider;
    s->data.end_ns = end_ns ? end_ns : otelc__now_ns();
    if (s->data.end_ns < s->data.start_ns) s->data.end_ns = s->data.start_ns;
    otelc__stats_inc(&p->stats, OTELC_STAT_ENDED);
    size_t n = atomic_load_explicit(&p->processor_count, memory_order_acquire);
    if (OTELC_UNLIKELY(n == 0)) {
        span_release(s);
        return;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        otelc_processor *proc = p->processors[i];
        if (proc->ops->on_end) proc->ops->on_end(proc->self, &s->data);
    }
    otelc_processor *last = p->processors[n - 1];
    if (last->ops->on_end) {
        struct otelc_span *outer = otelc__span_ending; /* an end inside an on_end */
        otelc__span_ending = s;
        last->ops->on_end(last->self, &s->data);
        bool taken = otelc__span_ending != s;
        otelc__span_ending = outer;
        if (taken) return;
    }
    span_release(s);
}

/* Out of line, end_recording() leaves the end of a span that does not record a leaf call. */
void otelc_span_end_at(otelc_span *span, uint64_t end_ns)
{
    struct otelc_span *s = otelc__span_ptr(span);
    if (!s || s->ended) return;
    if (!s->recording && atomic_load_explicit(&s->refs, memory_order_acquire) == 1) {
        otelc__span_free(s); /* no one else holds it: no need to mark it ended */
        return;
    }
    s->ended = 1;
    if (s->recording)
        end_recording(s, end_ns);
    else
        span_release(s);
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
