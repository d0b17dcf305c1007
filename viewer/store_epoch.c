/*
 * store_epoch.c - the writer's bloom filters of the trace keys in each
 * epoch of the trace index (store_internal.h says what an epoch is).
 *
 * Retention removes a trace whole, and its later segments may be in any
 * later epoch: probing each epoch for each trace removed would cost one
 * index search per epoch and trace. A filter per epoch answers "not
 * here" for almost all of them in a few memory reads. Filters only grow:
 * a trace removed stays in them, which costs a probe that finds nothing,
 * never a segment left behind.
 *
 * Each filter has two halves: the keys of the epoch, and the keys added
 * to it more than once (a bit set again). Retention removes a range of
 * the oldest segments and must find the later segments of their traces;
 * in the range's own epoch a trace whose bits were never set twice has no
 * other segment there, so only traces written more than once (or
 * colliding) cost a probe of the index.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define PROBES    4
#define BITS_MASK ((uint64_t)VW_EPOCH_BLOOM * 8 - 1)

/* The i-th bit of tkey in a filter: tkey is a hash already; its halves make the probes. */
static uint64_t bit_of(int64_t tkey, unsigned i)
{
    uint64_t h = (uint64_t)tkey;
    return (h + i * ((h >> 32) | 1)) & BITS_MASK;
}

/* The filter of epoch, made when missing and allowed; NULL when it has none. */
static uint8_t *filter_of(vw_epochs *e, int64_t epoch, bool *nomem)
{
    *nomem = false;
    if (e->count == 0) e->first = epoch;
    if (epoch < e->first) return NULL; /* a segment id below the oldest epoch: never written */
    size_t i = (size_t)(epoch - e->first);
    if (i >= VW_EPOCH_BLOOMS) return NULL;
    if (i >= e->count) {
        uint8_t **grown = realloc(e->blooms, (i + 1) * sizeof *grown);
        if (!grown) {
            *nomem = true;
            return NULL;
        }
        memset(grown + e->count, 0, (i + 1 - e->count) * sizeof *grown);
        e->blooms = grown;
        e->count = i + 1;
    }
    if (!e->blooms[i] && !(e->blooms[i] = calloc(2, VW_EPOCH_BLOOM))) *nomem = true;
    return e->blooms[i];
}

bool vw__epochs_add(vw_epochs *e, int64_t seg, int64_t tkey)
{
    bool nomem;
    uint8_t *f = filter_of(e, VW_EPOCH_OF(seg), &nomem);
    if (!f) return !nomem;
    uint8_t *twice = f + VW_EPOCH_BLOOM;
    for (unsigned i = 0; i < PROBES; i++) {
        uint64_t b = bit_of(tkey, i);
        uint8_t bit = (uint8_t)(1u << (b & 7));
        twice[b >> 3] |= f[b >> 3] & bit;
        f[b >> 3] |= bit;
    }
    return true;
}

/*
 * Whether all of tkey's bits are set in one half of epoch's filter (0: the
 * keys, 1: the keys added again); true when the epoch keeps no filter.
 */
static bool filter_has(const vw_epochs *e, int64_t epoch, int64_t tkey, size_t half)
{
    if (epoch < e->first) return false; /* forgotten: retention emptied it */
    size_t i = (size_t)(epoch - e->first);
    if (i >= e->count) return i >= VW_EPOCH_BLOOMS; /* never written, unless beyond the filters */
    const uint8_t *f = e->blooms[i];
    if (!f) return true;
    f += half * VW_EPOCH_BLOOM;
    for (unsigned k = 0; k < PROBES; k++) {
        uint64_t b = bit_of(tkey, k);
        if (!(f[b >> 3] & (1u << (b & 7)))) return false;
    }
    return true;
}

bool vw__epochs_may_hold(const vw_epochs *e, int64_t epoch, int64_t tkey)
{
    return filter_has(e, epoch, tkey, 0);
}

bool vw__epochs_may_repeat(const vw_epochs *e, int64_t epoch, int64_t tkey)
{
    return filter_has(e, epoch, tkey, 1);
}

void vw__epochs_forget_before(vw_epochs *e, int64_t epoch)
{
    if (e->count == 0 || epoch <= e->first) return;
    size_t n = (size_t)(epoch - e->first);
    if (n > e->count) n = e->count;
    for (size_t i = 0; i < n; i++) free(e->blooms[i]);
    memmove(e->blooms, e->blooms + n, (e->count - n) * sizeof *e->blooms);
    e->count -= n;
    e->first = epoch;
}

void vw__epochs_free(vw_epochs *e)
{
    for (size_t i = 0; i < e->count; i++) free(e->blooms[i]);
    free(e->blooms);
    memset(e, 0, sizeof *e);
}

int vw__epochs_load(vw_store *s)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT id, tkey FROM segments ORDER BY " VW_EPOCH_SQL ", tkey";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc;
    bool ok = true;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ok = vw__epochs_add(&s->epochs, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    return ok && rc == SQLITE_DONE ? 0 : -1;
}
