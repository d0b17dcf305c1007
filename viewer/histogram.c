/*
 * histogram.c - log-scale latency histograms (histogram.h).
 */
#include <string.h>

#include "histogram.h"

unsigned vw_hist_bucket(uint64_t v)
{
    if (v < 8) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v's highest bit, 3 or more */
    unsigned sub = (unsigned)(v >> (e - 3)) & 7u;    /* the next three bits */
    return (e - 2) * 8 + sub;
}

uint64_t vw_hist_lower(unsigned b)
{
    if (b < 8) return b;
    unsigned e = b / 8 + 2, sub = b % 8;
    return (uint64_t)(8 + sub) << (e - 3);
}

void vw_hist_add(vw_hist *h, uint64_t v)
{
    h->bucket[vw_hist_bucket(v)]++;
    h->count++;
}

void vw_hist_merge(vw_hist *into, const vw_hist *from)
{
    for (unsigned b = 0; b < VW_HIST_BUCKETS; b++) into->bucket[b] += from->bucket[b];
    into->count += from->count;
}

uint64_t vw_hist_quantile(const vw_hist *h, double q)
{
    if (h->count == 0) return 0;
    /* The rank of the quantile, 1-based: the smallest value with q of the counts at or below it. */
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    for (unsigned b = 0; b < VW_HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= rank) {
            uint64_t lo = vw_hist_lower(b);
            uint64_t hi = b + 1 < VW_HIST_BUCKETS ? vw_hist_lower(b + 1) : UINT64_MAX;
            return lo + (hi - lo) / 2;
        }
    }
    return 0;
}

size_t vw_hist_encode(const vw_hist *h, uint8_t *out)
{
    size_t n = 0;
    for (unsigned b = 0; b < VW_HIST_BUCKETS; b++) {
        uint32_t c = h->bucket[b];
        if (!c) continue;
        uint8_t pair[6] = {(uint8_t)b,        (uint8_t)(b >> 8),  (uint8_t)c,
                           (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24)};
        memcpy(out + n, pair, 6);
        n += 6;
    }
    return n;
}

void vw_hist_merge_blob(vw_hist *h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i += 6) {
        unsigned b = (unsigned)p[i] | (unsigned)p[i + 1] << 8;
        uint32_t c = (uint32_t)p[i + 2] | (uint32_t)p[i + 3] << 8 | (uint32_t)p[i + 4] << 16 |
                     (uint32_t)p[i + 5] << 24;
        if (b >= VW_HIST_BUCKETS) continue;
        h->bucket[b] += c;
        h->count += c;
    }
}
