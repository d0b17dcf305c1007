/*
 * arena.c - the bump allocator behind spans, copied spans and resources,
 * and the one deep copy of an attribute value that all of them use.
 *
 * An arena hands out memory from an optional inline buffer and then from
 * malloc'd chunks; nothing is freed individually, everything at reset. That
 * suits objects that are built once and then only read until they die.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_MIN_CHUNK 1024

/* The spare when it fits, else a new chunk of at least ARENA_MIN_CHUNK bytes. */
static otelc_arena_chunk *chunk_for(otelc_arena *a, size_t want)
{
    otelc_arena_chunk *c = a->spare;
    if (c && c->size >= want) {
        a->spare = NULL;
        return c;
    }
    size_t chunk_size = want > ARENA_MIN_CHUNK ? want : ARENA_MIN_CHUNK;
    c = malloc(sizeof(*c) + chunk_size);
    if (c) c->size = chunk_size;
    return c;
}

bool otelc__arena_reserve(otelc_arena *a, size_t size)
{
    if (a->pos && (size_t)(a->end - a->pos) >= size) return true;
    otelc_arena_chunk *c = chunk_for(a, size);
    if (!c) return false;
    c->next = a->chunks;
    a->chunks = c;
    a->pos = c->data;
    a->end = c->data + c->size;
    return true;
}

void *otelc__arena_alloc_slow(otelc_arena *a, size_t size, size_t align)
{
    /* The block in use is too small (otelc__arena_alloc found no room): a new chunk. */
    if (!otelc__arena_reserve(a, size + align)) return NULL;
    return otelc__arena_alloc(a, size, align);
}

void otelc__arena_reset_all(otelc_arena *a, char *inline_buf, size_t inline_size)
{
    /* Keep the largest chunk that is small enough: it is the likeliest to fit next time. */
    otelc_arena_chunk *keep = a->spare;
    while (a->chunks) {
        otelc_arena_chunk *c = a->chunks;
        a->chunks = c->next;
        if (c->size <= OTELC_ARENA_SPARE_MAX && (!keep || c->size > keep->size)) {
            if (keep) free(keep); /* usually none: a span's one chunk is its spare */
            keep = c;
        } else {
            free(c);
        }
    }
    a->spare = keep;
    a->pos = inline_buf;
    a->end = inline_buf ? inline_buf + inline_size : NULL;
}

void otelc__arena_rewind(otelc_arena *a, size_t keep_max)
{
    otelc_arena_chunk *keep = NULL;
    while (a->chunks) {
        otelc_arena_chunk *c = a->chunks;
        a->chunks = c->next;
        if (c->size <= keep_max && (!keep || c->size > keep->size)) {
            free(keep);
            keep = c;
        } else {
            free(c);
        }
    }
    a->pos = a->end = NULL;
    if (!keep) return;
    keep->next = NULL;
    a->chunks = keep;
    a->pos = keep->data;
    a->end = keep->data + keep->size;
}

void otelc__arena_free(otelc_arena *a)
{
    otelc__arena_reset(a, NULL, 0);
    free(a->spare);
    a->spare = NULL;
}

/* Bytes of s[0..len) that hold at most limit UTF-8 characters. */
static size_t utf8_prefix(const char *s, size_t len, uint32_t limit)
{
    if (limit == OTELC_UNLIMITED || len <= limit) return len;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        /* A byte that is not a continuation byte starts a character. */
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == limit) return i;
            chars++;
        }
    }
    return len;
}

static size_t item_size(otelc_value_type t)
{
    switch (t) {
    case OTELC_VALUE_BOOL_ARRAY:
        return sizeof(bool);
    case OTELC_VALUE_INT_ARRAY:
        return sizeof(int64_t);
    case OTELC_VALUE_DOUBLE_ARRAY:
        return sizeof(double);
    default:
        return sizeof(const char *);
    }
}

static bool copy_string_array(otelc_arena *a, otelc_value *dst, uint32_t max_chars)
{
    const char *const *in = dst->u.array.items;
    const char **out =
        otelc__arena_alloc(a, dst->u.array.count * sizeof(char *) + 1, _Alignof(char *));
    if (!out) return false;
    for (size_t i = 0; i < dst->u.array.count; i++) {
        const char *v = in[i] ? in[i] : "";
        out[i] = otelc__arena_strndup(a, v, utf8_prefix(v, strlen(v), max_chars));
        if (!out[i]) return false;
    }
    dst->u.array.items = out;
    return true;
}

/* A homogeneous array (dst holds the caller's). */
static bool copy_typed_array(otelc_arena *a, otelc_value *dst, uint32_t max_chars)
{
    if (!dst->u.array.items) dst->u.array.count = 0;
    if (dst->u.array.count > (SIZE_MAX - 1) / sizeof(double)) return false;
    if (dst->type == OTELC_VALUE_STRING_ARRAY) return copy_string_array(a, dst, max_chars);
    size_t bytes = dst->u.array.count * item_size(dst->type);
    void *out = otelc__arena_alloc(a, bytes + 1, 8);
    if (!out) return false;
    if (bytes) memcpy(out, dst->u.array.items, bytes);
    dst->u.array.items = out;
    return true;
}

/* ---- The other AnyValue kinds: bytes, arrays of values, maps, empty ----------------- */

static OTELC_ALWAYS_INLINE bool copy_value(otelc_arena *a, otelc_value *dst, const otelc_value *src,
                                           uint32_t max_chars, unsigned level);

/* Bytes are cut by count, not by character: they need not be text. */
static bool copy_bytes(otelc_arena *a, otelc_value *dst, uint32_t max_chars)
{
    const char *p = dst->u.str.ptr;
    size_t n = p ? dst->u.str.len : 0;
    if (max_chars != OTELC_UNLIMITED && n > max_chars) n = max_chars;
    dst->u.str.ptr = otelc__arena_strndup(a, p ? p : "", n);
    dst->u.str.len = n;
    return dst->u.str.ptr != NULL;
}

static bool copy_array(otelc_arena *a, otelc_value *dst, uint32_t max_chars, unsigned level)
{
    const otelc_value *in = dst->u.array.items;
    size_t n = in ? dst->u.array.count : 0;
    if (n > (SIZE_MAX - 1) / sizeof(otelc_value)) return false;
    otelc_value *out = otelc__arena_alloc(a, n * sizeof(*out) + 1, _Alignof(otelc_value));
    if (!out) return false;
    for (size_t i = 0; i < n; i++)
        if (!copy_value(a, &out[i], &in[i], max_chars, level + 1)) return false;
    dst->u.array.items = out;
    dst->u.array.count = n;
    return true;
}

/*
 * The keys a map copy holds so far, hashed: a map received from another
 * SDK may be large, and a scan per key would make its copy quadratic.
 * Open addressing over indexes into the copy, plus one (0 is a free slot).
 */
#define KEY_TABLE_LOCAL 32 /* slots without an allocation: maps of up to 16 entries */

typedef struct key_table {
    size_t *slot;
    size_t mask;
    size_t local[KEY_TABLE_LOCAL];
} key_table;

/* A table with room for n keys, at most half full; false without memory. */
static bool key_table_init(key_table *t, size_t n)
{
    size_t size = KEY_TABLE_LOCAL;
    while (size < 2 * n) size *= 2;
    t->mask = size - 1;
    if (size == KEY_TABLE_LOCAL) {
        memset(t->local, 0, sizeof(t->local));
        t->slot = t->local;
    } else {
        t->slot = calloc(size, sizeof(size_t));
    }
    return t->slot != NULL;
}

static void key_table_free(key_table *t)
{
    if (t->slot != t->local) free(t->slot);
}

static size_t key_hash(const char *key)
{
    size_t h = 14695981039346656037ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

/* The index of key among out[0..count), or count when it is new (then remembered as such). */
static size_t key_table_place(key_table *t, const otelc_attr *out, size_t count, const char *key)
{
    size_t i = key_hash(key) & t->mask;
    while (t->slot[i]) {
        size_t at = t->slot[i] - 1;
        if (strcmp(out[at].key, key) == 0) return at;
        i = (i + 1) & t->mask;
    }
    t->slot[i] = count + 1;
    return count;
}

static bool copy_map(otelc_arena *a, otelc_value *dst, uint32_t max_chars, unsigned level)
{
    const otelc_attr *in = dst->u.array.items;
    size_t n = in ? dst->u.array.count : 0, count = 0;
    if (n > (SIZE_MAX - 1) / sizeof(otelc_attr)) return false;
    otelc_attr *out = otelc__arena_alloc(a, n * sizeof(*out) + 1, _Alignof(otelc_attr));
    key_table keys;
    if (!out || !key_table_init(&keys, n)) return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (!in[i].key) continue;
        size_t at = key_table_place(&keys, out, count, in[i].key);
        if (at == count) {
            out[at].key = otelc__arena_strndup(a, in[i].key, strlen(in[i].key));
            ok = out[at].key != NULL;
            count++;
        }
        ok = ok && copy_value(a, &out[at].value, &in[i].value, max_chars, level + 1);
    }
    key_table_free(&keys);
    dst->u.array.items = out;
    dst->u.array.count = count;
    return ok;
}

static bool set_empty(otelc_value *dst)
{
    *dst = (otelc_value){.type = OTELC_VALUE_EMPTY};
    return true;
}

/* Everything but the primitive types and their arrays, which instrumentation sets. */
static bool copy_other(otelc_arena *a, otelc_value *dst, const otelc_value *src, uint32_t max_chars,
                       unsigned level)
{
    switch (src->type) {
    case OTELC_VALUE_BYTES:
        return copy_bytes(a, dst, max_chars);
    case OTELC_VALUE_ARRAY:
        return level >= OTELC_MAX_VALUE_DEPTH ? set_empty(dst)
                                              : copy_array(a, dst, max_chars, level);
    case OTELC_VALUE_MAP:
        return level >= OTELC_MAX_VALUE_DEPTH ? set_empty(dst) : copy_map(a, dst, max_chars, level);
    case OTELC_VALUE_EMPTY:
        return set_empty(dst);
    default: /* unknown: refused at the top, the empty value inside */
        return level > 0 && set_empty(dst);
    }
}

/* level: how many arrays and maps hold src. Inline in otelc__value_copy, the common case. */
static OTELC_ALWAYS_INLINE bool copy_value(otelc_arena *a, otelc_value *dst, const otelc_value *src,
                                           uint32_t max_chars, unsigned level)
{
    *dst = *src;
    switch (src->type) {
    case OTELC_VALUE_BOOL:
    case OTELC_VALUE_INT:
    case OTELC_VALUE_DOUBLE:
        return true;
    case OTELC_VALUE_STRING: {
        const char *p = src->u.str.ptr ? src->u.str.ptr : "";
        size_t n = utf8_prefix(p, src->u.str.ptr ? src->u.str.len : 0, max_chars);
        dst->u.str.ptr = otelc__arena_strndup(a, p, n);
        dst->u.str.len = n;
        return dst->u.str.ptr != NULL;
    }
    case OTELC_VALUE_STRING_ARRAY:
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        return level >= OTELC_MAX_VALUE_DEPTH ? set_empty(dst)
                                              : copy_typed_array(a, dst, max_chars);
    default:
        return copy_other(a, dst, src, max_chars, level);
    }
}

bool otelc__value_copy(otelc_arena *a, otelc_value *dst, const otelc_value *src, uint32_t max_chars)
{
    return copy_value(a, dst, src, max_chars, 0);
}
