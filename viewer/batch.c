/*
 * batch.c - the storage behind a decoded batch (batch.h), shared by the
 * three decoders so that each only reads its wire format.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "batch.h"

void vw_batch_init(vw_batch *b)
{
    memset(b, 0, sizeof *b);
}

void vw_batch_free(vw_batch *b)
{
    for (size_t i = 0; i < b->resource_count; i++) otelc_resource_free(b->resources[i]);
    free(b->resources);
    free(b->spans);
    otelc__arena_free(&b->arena);
    vw_batch_init(b);
}

/* What vw_batch_reset() keeps: enough for typical requests, not a huge one's worth. */
#define KEEP_ARENA_BYTES (4 * 1024 * 1024)
#define KEEP_SPANS       8192

void vw_batch_reset(vw_batch *b)
{
    for (size_t i = 0; i < b->resource_count; i++) otelc_resource_free(b->resources[i]);
    b->resource_count = 0;
    b->count = 0;
    b->rejected = 0;
    b->reject_reason[0] = '\0';
    otelc__arena_rewind(&b->arena, KEEP_ARENA_BYTES);
    if (b->span_cap > KEEP_SPANS) {
        free(b->spans);
        b->spans = NULL;
        b->span_cap = 0;
    }
}

otelc_span_data *vw_batch_add_span(vw_batch *b)
{
    if (b->count == b->span_cap) {
        if (b->span_cap >= VW_MAX_SPANS_PER_REQUEST) return NULL;
        size_t cap = b->span_cap ? b->span_cap * 2 : 64;
        if (cap > VW_MAX_SPANS_PER_REQUEST) cap = VW_MAX_SPANS_PER_REQUEST;
        otelc_span_data *grown = realloc(b->spans, cap * sizeof *grown);
        if (!grown) return NULL;
        b->spans = grown;
        b->span_cap = cap;
    }
    otelc_span_data *sd = &b->spans[b->count++];
    memset(sd, 0, sizeof *sd);
    return sd;
}

void vw_batch_drop_last(vw_batch *b)
{
    if (b->count) b->count--;
}

otelc_resource *vw_batch_add_resource(vw_batch *b, const otelc_attr *attrs, size_t count,
                                      const char *schema_url)
{
    return vw_batch_add_resource_counted(b, attrs, count, schema_url, 0);
}

otelc_resource *vw_batch_add_resource_counted(vw_batch *b, const otelc_attr *attrs, size_t count,
                                              const char *schema_url, uint32_t dropped)
{
    if (b->resource_count == b->resource_cap) {
        size_t cap = b->resource_cap ? b->resource_cap * 2 : 4;
        otelc_resource **grown = realloc(b->resources, cap * sizeof *grown);
        if (!grown) return NULL;
        b->resources = grown;
        b->resource_cap = cap;
    }
    otelc_resource *res = otelc_resource_new(
        attrs, count < VW_MAX_RESOURCE_ATTRS ? count : VW_MAX_RESOURCE_ATTRS, schema_url);
    if (!res) return NULL;
    b->resources[b->resource_count++] = res;
    size_t kept = 0;
    otelc_resource_attrs(res, &kept);
    uint64_t total = (uint64_t)dropped + (count - kept);
    otelc__resource_set_dropped_count(res, total > UINT32_MAX ? UINT32_MAX : (uint32_t)total);
    return res;
}

void vw_batch_reject(vw_batch *b, const char *fmt, ...)
{
    if (b->rejected++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->reject_reason, sizeof b->reject_reason, fmt, ap);
        va_end(ap);
    }
}

#define ARENA_CHUNK_FIRST (16 * 1024)
#define ARENA_CHUNK_MAX   (4 * 1024 * 1024) /* what vw_batch_reset() keeps: one chunk */

/* A chunk for size more bytes, larger each time the batch outgrows one, then the allocation. */
static __attribute__((noinline)) void *batch_alloc_grow(vw_batch *b, size_t size, size_t align)
{
    if (size > SIZE_MAX / 2) return NULL;
    size_t chunk = b->arena_chunk ? b->arena_chunk : ARENA_CHUNK_FIRST;
    if (!otelc__arena_reserve(&b->arena, size + align > chunk ? size + align : chunk)) return NULL;
    b->arena_chunk = chunk < ARENA_CHUNK_MAX ? 2 * chunk : chunk;
    return otelc__arena_alloc(&b->arena, size, align);
}

/* The arena's allocation; inline, as decoders allocate every string they read. */
static inline void *batch_alloc(vw_batch *b, size_t size, size_t align)
{
    otelc_arena *a = &b->arena;
    if (OTELC_LIKELY(a->pos && size < SIZE_MAX / 2 && size + align <= (size_t)(a->end - a->pos)))
        return otelc__arena_alloc(a, size, align);
    return batch_alloc_grow(b, size, align);
}

void *vw_batch_alloc(vw_batch *b, size_t size)
{
    return batch_alloc(b, size ? size : 1, _Alignof(max_align_t));
}

char *vw_batch_str_valid(vw_batch *b, const char *s, size_t n)
{
    char *copy = batch_alloc(b, n + 1, 1);
    if (!copy) return NULL;
    otelc__copy_short(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *vw_batch_str(vw_batch *b, const char *s, size_t n, size_t *out_len)
{
    if (otelc__utf8_valid(s, n)) {
        if (out_len) *out_len = n;
        return vw_batch_str_valid(b, s, n);
    }
    /* Each bad byte becomes the three bytes of U+FFFD. */
    char *out = n < SIZE_MAX / 4 ? batch_alloc(b, 3 * n + 1, 1) : NULL, *o = out;
    if (!out) return NULL;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = otelc__utf8_seq_len(u + i, n - i);
        if (len) {
            memcpy(o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    if (out_len) *out_len = (size_t)(o - out);
    return out;
}

bool vw_batch_narrow_array(vw_batch *b, otelc_value *v)
{
    const otelc_value *items = v->u.array.items;
    size_t n = v->u.array.count;
    if (v->type != OTELC_VALUE_ARRAY || n == 0) return true;
    otelc_value_type t = items[0].type;
    if (t != OTELC_VALUE_STRING && t != OTELC_VALUE_BOOL && t != OTELC_VALUE_INT &&
        t != OTELC_VALUE_DOUBLE)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (items[i].type != t) return true;
        if (t == OTELC_VALUE_STRING && memchr(items[i].u.str.ptr, '\0', items[i].u.str.len))
            return true;
    }
    static const size_t sizes[] = {
        [OTELC_VALUE_STRING] = sizeof(const char *),
        [OTELC_VALUE_BOOL] = sizeof(bool),
        [OTELC_VALUE_INT] = sizeof(int64_t),
        [OTELC_VALUE_DOUBLE] = sizeof(double),
    };
    void *typed = vw_batch_alloc(b, n * sizes[t]);
    if (!typed) return false;
    for (size_t i = 0; i < n; i++) {
        if (t == OTELC_VALUE_STRING)
            ((const char **)typed)[i] = items[i].u.str.ptr;
        else if (t == OTELC_VALUE_BOOL)
            ((bool *)typed)[i] = items[i].u.b;
        else if (t == OTELC_VALUE_INT)
            ((int64_t *)typed)[i] = items[i].u.i;
        else
            ((double *)typed)[i] = items[i].u.d;
    }
    /* The typed kinds follow their scalar kind in the same order. */
    v->type = (otelc_value_type)(OTELC_VALUE_STRING_ARRAY + (t - OTELC_VALUE_STRING));
    v->u.array.items = typed;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)(c | 0x20); /* lowercase a letter */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool vw_hex_decode(const char *s, size_t n, uint8_t *out)
{
    if (n % 2) return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}
