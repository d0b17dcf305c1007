/*
 * store_aggr.c - the store's per-minute aggregates: what the operations
 * table and the service map read instead of scanning every span.
 *
 * While a transaction is written, each span adds its duration to the
 * (operation, minute) sum and, when its parent belongs to another service,
 * to the (parent service, child service, minute) sum; at commit each sum
 * is merged into its row. Reading adds up the rows of a time range.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* ---- Sums of the transaction being written ------------------------------------------------ */

static uint64_t agg_key(int64_t a, int64_t b, int64_t minute)
{
    int64_t k[3] = {a, b, minute};
    return vw_hash(k, sizeof k, 0);
}

static vw_hist *take_hist(vw_agg *agg)
{
    vw_hist *h = agg->spare_count ? agg->spare[--agg->spare_count] : malloc(sizeof *h);
    if (h) memset(h, 0, sizeof *h);
    return h;
}

static vw_agg_entry *agg_entry(vw_agg *agg, int64_t a, int64_t b, int64_t minute)
{
    uint64_t key = agg_key(a, b, minute);
    bool added;
    uint64_t *slot = vw_u64map_put(&agg->index, key, &added);
    if (slot && !added) {
        vw_agg_entry *e = &agg->entries[*slot - 1];
        if (e->a == a && e->b == b && e->minute == minute) return e;
        slot = NULL; /* a hash collision: keep the new sum apart, unindexed */
    }
    if (agg->count == agg->cap) {
        size_t cap = agg->cap ? agg->cap * 2 : 64;
        vw_agg_entry *grown = realloc(agg->entries, cap * sizeof *grown);
        if (!grown) return NULL;
        agg->entries = grown;
        agg->cap = cap;
    }
    vw_agg_entry *e = &agg->entries[agg->count];
    *e = (vw_agg_entry){a, b, minute, 0, take_hist(agg)};
    if (!e->hist) return NULL;
    agg->count++;
    if (slot) *slot = agg->count;
    return e;
}

bool vw__agg_add(vw_agg *agg, int64_t a, int64_t b, int64_t minute, uint64_t value, bool error)
{
    vw_agg_entry *e = agg_entry(agg, a, b, minute);
    if (!e) return false;
    vw_hist_add(e->hist, value);
    e->errors += error;
    return true;
}

void vw__agg_reset(vw_agg *agg)
{
    for (size_t i = 0; i < agg->count; i++) {
        if (agg->spare_count == agg->spare_cap) {
            size_t cap = agg->spare_cap ? agg->spare_cap * 2 : 64;
            vw_hist **grown = realloc(agg->spare, cap * sizeof *grown);
            if (!grown) {
                free(agg->entries[i].hist);
                continue;
            }
            agg->spare = grown;
            agg->spare_cap = cap;
        }
        agg->spare[agg->spare_count++] = agg->entries[i].hist;
    }
    agg->count = 0;
    vw_u64map_clear(&agg->index);
}

void vw__agg_free(vw_agg *agg)
{
    vw__agg_reset(agg);
    for (size_t i = 0; i < agg->spare_count; i++) free(agg->spare[i]);
    free(agg->spare);
    free(agg->entries);
    vw_u64map_free(&agg->index);
    memset(agg, 0, sizeof *agg);
}

/* ---- Merging into the rows at commit ------------------------------------------------------- */

/*
 * Read the row get finds (its parameters bound by the caller) into e's
 * sums, then write the total with put (parameters from first_sum on are
 * the count, errors and histogram).
 */
static int merge_row(sqlite3_stmt *get, sqlite3_stmt *put, int first_sum, vw_agg_entry *e)
{
    int rc = sqlite3_step(get);
    if (rc == SQLITE_ROW) {
        e->errors += (uint64_t)sqlite3_column_int64(get, 1);
        vw_hist_merge_blob(e->hist, sqlite3_column_blob(get, 2),
                           (size_t)sqlite3_column_bytes(get, 2));
    }
    sqlite3_reset(get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return -1;
    uint8_t blob[VW_HIST_BLOB_MAX];
    size_t n = vw_hist_encode(e->hist, blob);
    sqlite3_bind_int64(put, first_sum, (int64_t)e->hist->count);
    sqlite3_bind_int64(put, first_sum + 1, (int64_t)e->errors);
    sqlite3_bind_blob(put, first_sum + 2, blob, (int)n, SQLITE_TRANSIENT);
    rc = sqlite3_step(put);
    sqlite3_reset(put);
    return rc == SQLITE_DONE ? 0 : -1;
}

int vw__agg_flush(vw_store *s)
{
    sqlite3_stmt *get = s->st[ST_OPMIN_GET], *put = s->st[ST_OPMIN_PUT];
    for (size_t i = 0; i < s->op_agg.count; i++) {
        vw_agg_entry *e = &s->op_agg.entries[i];
        sqlite3_bind_int64(get, 1, e->a);
        sqlite3_bind_int64(get, 2, e->minute);
        sqlite3_bind_int64(put, 1, e->a);
        sqlite3_bind_int64(put, 2, e->minute);
        if (merge_row(get, put, 3, e) < 0) return -1;
    }
    get = s->st[ST_EDGE_GET];
    put = s->st[ST_EDGE_PUT];
    for (size_t i = 0; i < s->edge_agg.count; i++) {
        vw_agg_entry *e = &s->edge_agg.entries[i];
        const char *parent = vw__service_name(s, (uint32_t)e->a);
        const char *child = vw__service_name(s, (uint32_t)e->b);
        if (!parent || !child) continue;
        for (int k = 0; k < 2; k++) {
            sqlite3_stmt *st = k ? put : get;
            vw__bind_text(st, 1, parent);
            vw__bind_text(st, 2, child);
            sqlite3_bind_int64(st, 3, e->minute);
        }
        if (merge_row(get, put, 4, e) < 0) return -1;
    }
    return 0;
}

/* ---- Reading ------------------------------------------------------------------------------ */

#define NS_PER_MINUTE 60000000000ULL

static void latency_of(const vw_hist *h, uint64_t errors, vw_latency *l)
{
    l->count = h->count;
    l->errors = errors;
    l->p50_ns = vw_hist_quantile(h, 0.50);
    l->p95_ns = vw_hist_quantile(h, 0.95);
    l->p99_ns = vw_hist_quantile(h, 0.99);
}

/* First and last minute of [start_ns, end_ns]; end 0 means now-ish (no bound). */
static void minute_range(uint64_t start_ns, uint64_t end_ns, int64_t *lo, int64_t *hi)
{
    *lo = (int64_t)(start_ns / NS_PER_MINUTE);
    *hi = end_ns ? (int64_t)(end_ns / NS_PER_MINUTE) : INT64_MAX;
}

/*
 * Run sql (grouped rows: key columns first, then count, errors and hist
 * per minute, ordered by the key columns) and call emit once per group
 * with the merged histogram. keys: how many text key columns lead.
 */
static int sum_groups(vw_store *s, sqlite3_stmt *st, int keys,
                      void (*emit)(void *ctx, const char *const *key, const vw_latency *l),
                      void *ctx)
{
    vw_hist *h = calloc(1, sizeof *h);
    char *cur[3] = {NULL, NULL, NULL};
    uint64_t errors = 0;
    int rc, result = 0;
    if (!h) return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bool same = cur[0] != NULL;
        for (int k = 0; same && k < keys; k++) {
            const char *v = (const char *)sqlite3_column_text(st, k);
            same = v && strcmp(v, cur[k]) == 0;
        }
        if (!same && cur[0]) {
            vw_latency l;
            latency_of(h, errors, &l);
            emit(ctx, (const char *const *)cur, &l);
            memset(h, 0, sizeof *h);
            errors = 0;
        }
        if (!same) {
            for (int k = 0; k < keys; k++) {
                free(cur[k]);
                const char *v = (const char *)sqlite3_column_text(st, k);
                cur[k] = strdup(v ? v : "");
            }
        }
        errors += (uint64_t)sqlite3_column_int64(st, keys + 1);
        vw_hist_merge_blob(h, sqlite3_column_blob(st, keys + 2),
                           (size_t)sqlite3_column_bytes(st, keys + 2));
    }
    if (rc != SQLITE_DONE) result = -1;
    if (result == 0 && cur[0]) {
        vw_latency l;
        latency_of(h, errors, &l);
        emit(ctx, (const char *const *)cur, &l);
    }
    for (int k = 0; k < 3; k++) free(cur[k]);
    free(h);
    (void)s;
    return result;
}

typedef struct op_ctx {
    void (*fn)(void *ctx, const char *service, const char *name, int kind, const vw_latency *l);
    void *ctx;
} op_ctx;

static void emit_op(void *ctx, const char *const *key, const vw_latency *l)
{
    op_ctx *c = ctx;
    c->fn(c->ctx, key[0], key[1], atoi(key[2]), l);
}

int vw_store_operation_stats(vw_store *s, const char *service, uint64_t start_ns, uint64_t end_ns,
                             void (*fn)(void *ctx, const char *service, const char *name, int kind,
                                        const vw_latency *l),
                             void *ctx)
{
    const char *sql = "SELECT o.service, o.name, CAST(o.kind AS TEXT), m.count, m.errors, m.hist "
                      "FROM op_minutes m JOIN operations o ON o.id = m.op "
                      "WHERE m.minute BETWEEN ?1 AND ?2 AND (?3 IS NULL OR o.service = ?3) "
                      "ORDER BY o.service, o.name, o.kind";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int64_t lo, hi;
    minute_range(start_ns, end_ns, &lo, &hi);
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    vw__bind_text(st, 3, service);
    op_ctx c = {fn, ctx};
    int rc = sum_groups(s, st, 3, emit_op, &c);
    sqlite3_finalize(st);
    return rc;
}

typedef struct graph_ctx {
    void (*node)(void *ctx, const char *service, const vw_latency *l);
    void (*edge)(void *ctx, const char *parent, const char *child, const vw_latency *l);
    void *ctx;
    vw_u64map shown; /* services already reported by their entry spans */
    bool entry_pass;
} graph_ctx;

static void emit_node(void *ctx, const char *const *key, const vw_latency *l)
{
    graph_ctx *c = ctx;
    uint64_t h = vw_hash(key[0], strlen(key[0]), 0);
    if (c->entry_pass) {
        if (!vw_u64map_put(&c->shown, h, NULL)) return; /* more services than we track: skip */
    } else if (vw_u64map_get(&c->shown, h)) {
        return;
    }
    c->node(c->ctx, key[0], l);
}

static void emit_edge(void *ctx, const char *const *key, const vw_latency *l)
{
    graph_ctx *c = ctx;
    c->edge(c->ctx, key[0], key[1], l);
}

/*
 * A node's figures are those of the requests it serves: its SERVER and
 * CONSUMER spans, or, for a service with none (a batch job, a client-only
 * program), all its spans.
 */
int vw_store_service_graph(vw_store *s, uint64_t start_ns, uint64_t end_ns,
                           void (*node)(void *ctx, const char *service, const vw_latency *l),
                           void (*edge)(void *ctx, const char *parent, const char *child,
                                        const vw_latency *l),
                           void *ctx)
{
    static const char *const sql[3] = {
        "SELECT o.service, m.count, m.errors, m.hist FROM op_minutes m "
        "JOIN operations o ON o.id = m.op WHERE m.minute BETWEEN ?1 AND ?2 AND o.kind IN (2, 5) "
        "ORDER BY o.service",
        "SELECT o.service, m.count, m.errors, m.hist FROM op_minutes m "
        "JOIN operations o ON o.id = m.op WHERE m.minute BETWEEN ?1 AND ?2 ORDER BY o.service",
        "SELECT parent, child, count, errors, hist FROM edge_minutes "
        "WHERE minute BETWEEN ?1 AND ?2 ORDER BY parent, child",
    };
    int64_t lo, hi;
    minute_range(start_ns, end_ns, &lo, &hi);
    graph_ctx c = {node, edge, ctx, {0}, true};
    if (!vw_u64map_init(&c.shown, 4096)) return -1;
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, sql[k], -1, &st, NULL) != SQLITE_OK) {
            rc = -1;
            break;
        }
        sqlite3_bind_int64(st, 1, lo);
        sqlite3_bind_int64(st, 2, hi);
        c.entry_pass = k == 0;
        rc = sum_groups(s, st, k == 2 ? 2 : 1, k == 2 ? emit_edge : emit_node, &c);
        sqlite3_finalize(st);
    }
    vw_u64map_free(&c.shown);
    return rc;
}
