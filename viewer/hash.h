/*
 * hash.h - the viewer's hash of bytes held in memory only (its caches and
 * the writer's tables of a transaction): XXH3 from xxHash (Debian's
 * libxxhash-dev), inlined, about 20 instructions for the short keys the
 * writer hashes where byte-by-byte FNV-1a took 5 a byte.
 *
 * Values written to the file (a trace's tkey, the bloom filters' keys) keep
 * the hash the file was written with: see vw__trace_key and store_chunk.c.
 */
#ifndef OTELC_VIEWER_HASH_H
#define OTELC_VIEWER_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* A 64-bit hash of p[0..n), chained through seed (0 to start). */
static inline uint64_t vw_hash(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

#endif
