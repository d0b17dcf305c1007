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
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->count = 0;
    if (m->slots) return true;
    vw_u64map_free(m);
    return false;
}

void vw_u64map_free(vw_u64map *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

void vw_u64map_clear(vw_u64map *m)
{
    if (m->slots) memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
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

/* The slot holding key (not 0), or NULL. */
static vw_u64slot *find(const vw_u64map *m, uint64_t key)
{
    for (size_t i = slot_of(m, key);; i = (i + 1) & m->mask) {
        vw_u64slot *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) return NULL;
    }
}

uint64_t *vw_u64map_get(const vw_u64map *m, uint64_t key)
{
    if (!m->slots) return NULL;
    vw_u64slot *e = find(m, key ? key : 1);
    return e ? &e->val : NULL;
}

uint64_t *vw_u64map_put(vw_u64map *m, uint64_t key, bool *added)
{
    if (!m->slots) return NULL;
    if (key == 0) key = 1;
    size_t i = slot_of(m, key);
    for (; m->slots[i].key != 0; i = (i + 1) & m->mask) {
        if (m->slots[i].key == key) {
            if (added) *added = false;
            return &m->slots[i].val;
        }
    }
    if (m->count >= (m->mask + 1) / 4 * 3) return NULL;
    m->slots[i] = (vw_u64slot){key, 0};
    m->count++;
    if (added) *added = true;
    return &m->slots[i].val;
}

void vw_u64map_remove_newest(vw_u64map *m, uint64_t key)
{
    vw_u64slot *e = m->slots ? find(m, key ? key : 1) : NULL;
    if (!e) return;
    e->key = 0;
    m->count--;
}
