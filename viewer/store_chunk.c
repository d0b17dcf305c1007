/*
 * store_chunk.c - the chunks of the store: bloom filters of attribute
 * values and posting lists of operations, over runs of about
 * VW_CHUNK_SPANS spans, so that a search for a rare attribute value or a
 * quiet operation reads a few chunks' worth of segments, not the store.
 *
 * The chunk being filled lives in the writer's memory and is written back
 * (whole) with every transaction, so the file always holds what a search
 * needs; once it reaches VW_CHUNK_SPANS spans it is closed and the next
 * transaction starts another.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* ---- Bloom filters -----------------------------------------------------------------------------
 */

static uint64_t key_head(char scope, const char *key, char type)
{
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, &scope, 1);
    h = otelc__fnv1a(h, key, strlen(key) + 1); /* the NUL separates key and value */
    return otelc__fnv1a(h, &type, 1);
}

/* FNV's low bits are weak for short inputs: mix before probing. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

uint64_t vw__bloom_key_str(char scope, const char *key, const char *s, size_t n)
{
    return mix(otelc__fnv1a(key_head(scope, key, 's'), s, n));
}

uint64_t vw__bloom_key_int(char scope, const char *key, int64_t i)
{
    return mix(otelc__fnv1a(key_head(scope, key, 'i'), &i, sizeof i));
}

/* Double hashing: probe i is h1 + i * h2, over the filter's bits. */
static void bloom_set(uint8_t *bloom, uint64_t key)
{
    uint64_t h1 = key, h2 = (key >> 32) | 1;
    for (int i = 0; i < VW_BLOOM_PROBES; i++) {
        uint32_t bit = (uint32_t)((h1 + (uint64_t)i * h2) & (VW_BLOOM_BYTES * 8 - 1));
        bloom[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

bool vw__bloom_has(const uint8_t *bloom, uint64_t key)
{
    uint64_t h1 = key, h2 = (key >> 32) | 1;
    for (int i = 0; i < VW_BLOOM_PROBES; i++) {
        uint32_t bit = (uint32_t)((h1 + (uint64_t)i * h2) & (VW_BLOOM_BYTES * 8 - 1));
        if (!(bloom[bit >> 3] & (1u << (bit & 7)))) return false;
    }
    return true;
}

/* A double that holds an integer is also found by an integer condition (TraceQL's 1 = 1.0). */
static bool integral(double d, int64_t *out)
{
    if (!(d >= -9.2e18 && d <= 9.2e18) || d != (double)(int64_t)d) return false;
    *out = (int64_t)d;
    return true;
}

/*
 * The keys TraceQL's plan can ask for (vw_tql_cond ATTR_STR and ATTR_INT):
 * strings and string array items by text, integers, integral doubles and
 * their arrays' items by value. Booleans, bytes, maps and mixed arrays are
 * never planned, so they are not added.
 */
static void add_value(uint8_t *bloom, char scope, const char *key, const otelc_value *v)
{
    int64_t i;
    size_t n = v->u.array.count;
    switch (v->type) {
    case OTELC_VALUE_STRING:
        bloom_set(bloom, vw__bloom_key_str(scope, key, v->u.str.ptr, v->u.str.len));
        break;
    case OTELC_VALUE_INT:
        bloom_set(bloom, vw__bloom_key_int(scope, key, v->u.i));
        break;
    case OTELC_VALUE_DOUBLE:
        if (integral(v->u.d, &i)) bloom_set(bloom, vw__bloom_key_int(scope, key, i));
        break;
    case OTELC_VALUE_STRING_ARRAY:
        for (size_t k = 0; k < n; k++) {
            const char *s = ((const char *const *)v->u.array.items)[k];
            if (s) bloom_set(bloom, vw__bloom_key_str(scope, key, s, strlen(s)));
        }
        break;
    case OTELC_VALUE_INT_ARRAY:
        for (size_t k = 0; k < n; k++)
            bloom_set(bloom, vw__bloom_key_int(scope, key, ((const int64_t *)v->u.array.items)[k]));
        break;
    case OTELC_VALUE_DOUBLE_ARRAY:
        for (size_t k = 0; k < n; k++)
            if (integral(((const double *)v->u.array.items)[k], &i))
                bloom_set(bloom, vw__bloom_key_int(scope, key, i));
        break;
    default:
        break;
    }
}

void vw__bloom_add_attrs(uint8_t *bloom, char scope, const otelc_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (attrs[i].key) add_value(bloom, scope, attrs[i].key, &attrs[i].value);
}

/* ---- Posting lists -------------------------------------------------------------------------- */

static int by_key_then_seg(const void *a, const void *b)
{
    const vw_posting *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->seg > y->seg) - (x->seg < y->seg);
}

/*
 * Format: for each key, in increasing order: the key, the number of its
 * segments, then each segment as the difference from the one before (the
 * first from first_seg); all varints.
 */
static bool posting_before(const vw_posting *x, const vw_posting *y)
{
    return x->key < y->key || (x->key == y->key && x->seg < y->seg);
}

/*
 * A chunk's postings are written back with every transaction: sorting only
 * the transaction's own and merging them in costs a pass over the earlier
 * ones where sorting all again cost a sort of them.
 */
bool vw__postings_sort(vw_posting *p, size_t n, size_t sorted)
{
    if (sorted >= n) return true;
    qsort(p + sorted, n - sorted, sizeof *p, by_key_then_seg);
    if (sorted == 0 || !posting_before(&p[sorted], &p[sorted - 1])) return true;
    vw_posting *old = malloc(sorted * sizeof *old);
    if (!old) return false;
    memcpy(old, p, sorted * sizeof *old);
    size_t i = 0, j = sorted, w = 0; /* merged from the front: w never passes j */
    while (i < sorted && j < n) p[w++] = posting_before(&p[j], &old[i]) ? p[j++] : old[i++];
    while (i < sorted) p[w++] = old[i++];
    free(old);
    return true;
}

void vw__postings_encode(const vw_posting *p, size_t n, int64_t first_seg, otelc_buf *out)
{
    uint8_t tmp[30];
    for (size_t i = 0; i < n;) {
        size_t j = i, count = 0;
        for (int64_t last = -1; j < n && p[j].key == p[i].key; j++)
            if (p[j].seg != last) last = p[j].seg, count++;
        uint8_t *w = otelc__pb_put_varint(tmp, p[i].key);
        w = otelc__pb_put_varint(w, count);
        otelc__buf_append(out, tmp, (size_t)(w - tmp));
        int64_t prev = first_seg;
        for (size_t k = i; k < j; k++) {
            if (k > i && p[k].seg == p[k - 1].seg) continue;
            w = otelc__pb_put_varint(tmp, (uint64_t)(p[k].seg - prev));
            otelc__buf_append(out, tmp, (size_t)(w - tmp));
            prev = p[k].seg;
        }
        i = j;
    }
}

bool vw__postings_each(const uint8_t *blob, size_t len, int64_t first_seg, const uint64_t *keys,
                       size_t nkeys, void (*fn)(void *ctx, int64_t seg), void *ctx)
{
    otelc_pb r = otelc__pb_of(blob, len);
    while (r.p < r.end) {
        uint64_t key, count;
        if (!otelc__pb_varint(&r, &key) || !otelc__pb_varint(&r, &count)) return false;
        bool wanted = false;
        for (size_t i = 0; i < nkeys && !wanted; i++) wanted = keys[i] == key;
        int64_t seg = first_seg;
        for (uint64_t k = 0; k < count; k++) {
            uint64_t delta;
            if (!otelc__pb_varint(&r, &delta)) return false;
            seg += (int64_t)delta;
            if (wanted) fn(ctx, seg);
        }
    }
    return true;
}

/* ---- The writer's open chunk ------------------------------------------------------------------
 */

void vw__chunk_free(vw_chunk *c)
{
    free(c->bloom);
    free(c->postings);
    vw_u64map_free(&c->resources);
    memset(c, 0, sizeof *c);
}

/* Forget the chunk in memory (it is closed, or will be read back from the file). */
static void chunk_clear(vw_chunk *c)
{
    c->id = 0;
    c->first_seg = c->last_seg = 0;
    c->min_start = c->max_start = 0;
    c->spans = 0;
    c->posting_count = 0;
    if (c->bloom) memset(c->bloom, 0, VW_BLOOM_BYTES);
    vw_u64map_clear(&c->resources);
}

static bool chunk_alloc(vw_chunk *c)
{
    if (!c->bloom && !(c->bloom = calloc(1, VW_BLOOM_BYTES))) return false;
    if (!c->resources.slots && !vw_u64map_init(&c->resources, 4096)) return false;
    return true;
}

static bool postings_reserve(vw_posting **p, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    vw_posting *grown = realloc(*p, n * sizeof *grown);
    if (!grown) return false;
    *p = grown;
    *cap = n;
    return true;
}

/* Read the postings blob of a loaded chunk back into its array. */
static bool load_postings(vw_chunk *c, const uint8_t *blob, size_t len)
{
    otelc_pb r = otelc__pb_of(blob, len);
    while (r.p < r.end) {
        uint64_t key, count;
        if (!otelc__pb_varint(&r, &key) || !otelc__pb_varint(&r, &count)) return false;
        if (count > (uint64_t)(r.end - r.p) ||
            !postings_reserve(&c->postings, &c->posting_cap, c->posting_count + count))
            return false;
        int64_t seg = c->first_seg;
        for (uint64_t k = 0; k < count; k++) {
            uint64_t delta;
            if (!otelc__pb_varint(&r, &delta)) return false;
            seg += (int64_t)delta;
            c->postings[c->posting_count++] = (vw_posting){key, seg};
        }
    }
    return true;
}

int vw__chunk_load_open(vw_store *s)
{
    vw_chunk *c = &s->chunk;
    if (!chunk_alloc(c)) return -1;
    chunk_clear(c);
    sqlite3_stmt *st;
    const char *sql =
        "SELECT id, first_seg, last_seg, min_start, max_start, spans, bloom, postings "
        "FROM chunks WHERE closed = 0 ORDER BY id DESC LIMIT 1";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st), result = 0;
    if (rc == SQLITE_ROW) {
        c->id = sqlite3_column_int64(st, 0);
        c->first_seg = sqlite3_column_int64(st, 1);
        c->last_seg = sqlite3_column_int64(st, 2);
        c->min_start = (uint64_t)sqlite3_column_int64(st, 3);
        c->max_start = (uint64_t)sqlite3_column_int64(st, 4);
        c->spans = (uint32_t)sqlite3_column_int64(st, 5);
        if (sqlite3_column_bytes(st, 6) == (int)VW_BLOOM_BYTES)
            memcpy(c->bloom, sqlite3_column_blob(st, 6), VW_BLOOM_BYTES);
        if (!load_postings(c, sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7)))
            result = -1;
        /* Resources are added again as their spans come: the filter only gains bits. */
    } else if (rc != SQLITE_DONE) {
        result = -1;
    }
    sqlite3_finalize(st);
    return result;
}

static int64_t next_chunk_id(vw_store *s)
{
    sqlite3_stmt *st;
    int64_t id = 1;
    if (sqlite3_prepare_v2(s->db, "SELECT max(id) FROM chunks", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0) + 1;
    sqlite3_finalize(st);
    return id;
}

int vw__chunk_write(vw_store *s, int64_t first, size_t n)
{
    vw_chunk *c = &s->chunk;
    if (n == 0) return 0;
    if (!chunk_alloc(c)) return -1;
    if (c->id == 0) {
        if ((c->id = next_chunk_id(s)) < 0) return -1;
        c->first_seg = first;
        c->min_start = UINT64_MAX;
    }
    c->last_seg = first + (int64_t)n - 1;
    for (size_t i = 0; i < n; i++) {
        const vw_segment_build *b = &s->segs[i];
        c->spans += b->span_count;
        if (b->start_ns < c->min_start) c->min_start = b->start_ns;
        if (b->start_ns > c->max_start) c->max_start = b->start_ns;
    }
    if (!postings_reserve(&c->postings, &c->posting_cap, c->posting_count + s->new_posting_count))
        return -1;
    size_t sorted = c->posting_count;
    for (size_t i = 0; i < s->new_posting_count; i++)
        c->postings[c->posting_count++] =
            (vw_posting){s->new_postings[i].key, first + s->new_postings[i].seg};
    if (!vw__postings_sort(c->postings, c->posting_count, sorted)) return -1;
    otelc__buf_reset(&s->enc);
    vw__postings_encode(c->postings, c->posting_count, c->first_seg, &s->enc);
    if (s->enc.failed) return -1;
    bool closed = c->spans >= VW_CHUNK_SPANS;
    sqlite3_stmt *st = s->st[ST_CHUNK_PUT];
    sqlite3_bind_int64(st, 1, c->id);
    sqlite3_bind_int64(st, 2, c->first_seg);
    sqlite3_bind_int64(st, 3, c->last_seg);
    sqlite3_bind_int64(st, 4, (int64_t)c->min_start);
    sqlite3_bind_int64(st, 5, (int64_t)c->max_start);
    sqlite3_bind_int64(st, 6, c->spans);
    sqlite3_bind_int(st, 7, closed);
    sqlite3_bind_blob(st, 8, c->bloom, (int)VW_BLOOM_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 9, s->enc.data, (int)s->enc.len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return -1;
    if (closed) chunk_clear(c);
    return 0;
}
