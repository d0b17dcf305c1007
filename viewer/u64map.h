/*
 * u64map.h - an open-addressing hash table from 64-bit keys to 64-bit
 * values, for the store's in-memory caches. Keys are already hashes (or
 * ids), so they are used as they are; key 0 is stored as 1, which callers
 * of hashed keys never notice. The table never grows: a cache clears it
 * (or starts a new generation) when vw_u64map_put() says it is full.
 */
#ifndef OTELC_VIEWER_U64MAP_H
#define OTELC_VIEWER_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key beside its value: a lookup in a table larger than the caches misses once, not twice. */
typedef struct vw_u64slot {
    uint64_t key; /* 0: empty */
    uint64_t val;
} vw_u64slot;

typedef struct vw_u64map {
    vw_u64slot *slots;
    size_t mask; /* capacity - 1 (a power of two) */
    size_t count;
} vw_u64map;

/* A table for about max_items keys (capacity: the power of two >= 4/3 of it). false: no memory. */
bool vw_u64map_init(vw_u64map *m, size_t max_items);

void vw_u64map_free(vw_u64map *m);

/* Forget every key. */
void vw_u64map_clear(vw_u64map *m);

/* The value stored under key, or NULL. */
uint64_t *vw_u64map_get(const vw_u64map *m, uint64_t key);

/*
 * The value of key, inserted as 0 when new (*added tells which); NULL when
 * the table is full (three quarters used): clear it and try again.
 */
uint64_t *vw_u64map_put(vw_u64map *m, uint64_t key, bool *added);

/*
 * Remove key (absent: nothing). Only for keys removed in the reverse order
 * of their insertion (the newest first): removing an older one first could
 * hide the keys probed past it. Forgets a few keys in time of their own,
 * where vw_u64map_clear writes the whole table.
 */
void vw_u64map_remove_newest(vw_u64map *m, uint64_t key);

#endif
