/*
 * histogram.h - latency histograms with log-scale buckets, small enough to
 * keep one per operation and minute, mergeable by adding counts.
 *
 * Eight buckets per power of two: a bucket spans 12.5 % of its lower bound,
 * so a percentile read from it (the bucket's midpoint) is within about 6 %
 * of the true value. Values below 8 ns have a bucket each. That is the
 * accuracy of the service map's and the operations table's p50/p95/p99.
 */
#ifndef OTELC_VIEWER_HISTOGRAM_H
#define OTELC_VIEWER_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define VW_HIST_BUCKETS 496 /* covers every uint64_t */

typedef struct vw_hist {
    uint64_t count;
    uint32_t bucket[VW_HIST_BUCKETS];
} vw_hist;

/* The bucket holding value v. */
unsigned vw_hist_bucket(uint64_t v);

/* The smallest value bucket b holds. */
uint64_t vw_hist_lower(unsigned b);

/* Count one value. */
void vw_hist_add(vw_hist *h, uint64_t v);

/* Add every count of from into into. */
void vw_hist_merge(vw_hist *into, const vw_hist *from);

/* The q-quantile (0..1) as the midpoint of its bucket; 0 when empty. */
uint64_t vw_hist_quantile(const vw_hist *h, double q);

/*
 * The non-empty buckets as a compact blob for storage: pairs of (bucket,
 * count) as little-endian uint16 and uint32. Returns the bytes written to
 * out, which must hold VW_HIST_BLOB_MAX.
 */
#define VW_HIST_BLOB_MAX (VW_HIST_BUCKETS * 6)
size_t vw_hist_encode(const vw_hist *h, uint8_t *out);

/* Add the counts of a blob from vw_hist_encode() into h; malformed pairs are ignored. */
void vw_hist_merge_blob(vw_hist *h, const uint8_t *p, size_t n);

#endif
