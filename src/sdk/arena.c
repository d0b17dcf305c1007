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
    /* size + align bytes hold size bytes at any alignment: the bump below cannot fail. */
    if (!otelc__arena_reserve(a, size + align)) return NULL;
    return otelc__arena_alloc(a, size, align);
}

void otelc__arena_reset(otelc_arena *a, char *inline_buf, size_t inline_size)
{
    /* Keep the largest chunk that is small enough: it is the likeliest to fit next time. */
    otelc_arena_chunk *keep = a->spare;
    while (a->chunks) {
        otelc_arena_chunk *c = a->chunks;
        a->chunks = c->next;
        if (c->size <= OTELC_ARENA_SPARE_MAX && (!keep || c->size > keep->size)) {
            free(keep);
            keep = c;
        } else {
            free(c);
        }
    }
    a->spare = keep;
    a->pos = inline_buf;
    a->end = inline_buf ? inline_buf + inline_size : NULL;
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

bool otelc__value_copy(otelc_arena *a, otelc_value *dst, const otelc_value *src, uint32_t max_chars)
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
        break;
    default:
        return false;
    }
    if (!src->u.array.items) dst->u.array.count = 0;
    if (src->type == OTELC_VALUE_STRING_ARRAY) return copy_string_array(a, dst, max_chars);
    size_t bytes = dst->u.array.count * item_size(src->type);
    void *out = otelc__arena_alloc(a, bytes + 1, 8);
    if (!out) return false;
    if (bytes) memcpy(out, src->u.array.items, bytes);
    dst->u.array.items = out;
    return true;
}
