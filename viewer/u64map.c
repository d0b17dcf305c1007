/*
 * u64map.c - the store's fixed-size hash tables (u64map.h).
 */
#include <stdlib.h>
#include <string.h>

#include "u64map.h"

bool vw_u64map_init(vw_u64map *m, size_t max_items)
{
    size_t cap = 16;
    while (cap < max_items + max_items / 3) cap *= 2;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->mask = cap - 1;
    m->count = 0;
    if (m->keys && m->vals) return true;
    vw_u64map_free(m);
    return false;
}

void vw_u64map_free(vw_u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

void vw_u64map_clear(vw_u64map *m)
{
    if (m->keys) memset(m->keys, 0, (m->mask + 1) * sizeof *m->keys);
    m->count = 0;
}

/* Keys are hashes already, but ids (small integers) are not: mix before probing. */
static size_t slot_of(const vw_u64map *m, uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & m->mask;
}

uint64_t *vw_u64map_get(const vw_u64map *m, uint64_t key)
{
    if (!m->keys) return NULL;
    if (key == 0) key = 1;
    for (size_t i = slot_of(m, key);; i = (i + 1) & m->mask) {
        if (m->keys[i] == key) return &m->vals[i];
        if (m->keys[i] == 0) return NULL;
    }
}

uint64_t *vw_u64map_put(vw_u64map *m, uint64_t key, bool *added)
{
    if (!m->keys) return NULL;
    if (key == 0) key = 1;
    size_t i = slot_of(m, key);
    for (; m->keys[i] != 0; i = (i + 1) & m->mask) {
        if (m->keys[i] == key) {
            if (added) *added = false;
            return &m->vals[i];
        }
    }
    if (m->count >= (m->mask + 1) / 4 * 3) return NULL;
    m->keys[i] = key;
    m->vals[i] = 0;
    m->count++;
    if (added) *added = true;
    return &m->vals[i];
}

void vw_u64map_remove_newest(vw_u64map *m, uint64_t key)
{
    uint64_t *v = vw_u64map_get(m, key);
    if (!v) return;
    m->keys[v - m->vals] = 0;
    m->count--;
}
