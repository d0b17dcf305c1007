/*
 * store.c - the span store (store.h): opening, the schema, writing and
 * retention.
 *
 * The schema, and why it is shaped so:
 *
 *   segments(id, tkey, trace_id, start_ns, end_ns, span_count,
 *            error_count, root_name, root_service, body)
 *       The spans of one trace written by one transaction, as one row:
 *       body holds, per span, its resource and scope rows and its OTLP
 *       Span message. SQLite spends about 7,000 instructions per row and
 *       4,500 more per index entry, so a row per span (with the indexes a
 *       search needs) would cap ingest near 100,000 spans/s; a row per
 *       trace and transaction divides that by the spans a trace has.
 *       segments_trace (on the epoch, id >> 15, and tkey, a 64-bit hash of
 *       the trace id) finds a trace's segments, one probe per epoch; why
 *       epochs: store_internal.h.
 *   chunks(id, first_seg, last_seg, min_start, max_start, spans, closed,
 *          bloom, postings)
 *       Runs of about 8,192 spans of consecutive segments, with a bloom
 *       filter of their attribute values and posting lists of their
 *       operations and error spans (store_chunk.c): what searches read
 *       instead of an index entry per span and attribute.
 *   resources(id, hash, service, body, schema_url),
 *   scopes(id, hash, body, schema_url)
 *       Each distinct Resource and InstrumentationScope once, with its
 *       schema URL (a field of ResourceSpans and ScopeSpans in OTLP).
 *   operations(id, service, name, kind)
 *       The services and operations lists, and the posting lists' keys.
 *   op_minutes, edge_minutes
 *       Per-minute sums and latency histograms for the operations table and
 *       the service map (store_aggr.c).
 *
 * Writing is one transaction per call; the writer keeps the rows of
 * resources, scopes and operations it has seen, so a span costs its share
 * of one segment row and no lookup. Caches hold only what is committed or
 * being committed, and are dropped whole when a transaction fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jaeger_tags.h"
#include "store_internal.h"

#define SCHEMA_VERSION 3 /* 2: schema URLs of resources and scopes; 3: the trace index by epoch */
#define APPLICATION_ID 0x6f74656c /* "otel" */

static const char schema_sql[] =
    "CREATE TABLE resources(id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, service TEXT NOT NULL,"
    " body BLOB NOT NULL, schema_url TEXT);"
    "CREATE INDEX resources_hash ON resources(hash);"
    "CREATE TABLE scopes(id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, body BLOB NOT NULL,"
    " schema_url TEXT);"
    "CREATE INDEX scopes_hash ON scopes(hash);"
    "CREATE TABLE operations(id INTEGER PRIMARY KEY, service TEXT NOT NULL, name TEXT NOT NULL,"
    " kind INTEGER NOT NULL, UNIQUE(service, name, kind));"
    "CREATE TABLE segments(id INTEGER PRIMARY KEY, tkey INTEGER NOT NULL, trace_id BLOB NOT NULL,"
    " start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, span_count INTEGER NOT NULL,"
    " error_count INTEGER NOT NULL, root_name TEXT, root_service TEXT, body BLOB NOT NULL);"
    "CREATE INDEX segments_trace ON segments(" VW_EPOCH_SQL ", tkey);"
    "CREATE TABLE chunks(id INTEGER PRIMARY KEY, first_seg INTEGER NOT NULL,"
    " last_seg INTEGER NOT NULL, min_start INTEGER NOT NULL, max_start INTEGER NOT NULL,"
    " spans INTEGER NOT NULL, closed INTEGER NOT NULL, bloom BLOB NOT NULL,"
    " postings BLOB NOT NULL);"
    "CREATE TABLE op_minutes(op INTEGER NOT NULL, minute INTEGER NOT NULL,"
    " count INTEGER NOT NULL, errors INTEGER NOT NULL, hist BLOB NOT NULL,"
    " PRIMARY KEY(op, minute)) WITHOUT ROWID;"
    "CREATE TABLE edge_minutes(parent TEXT NOT NULL, child TEXT NOT NULL, minute INTEGER NOT NULL,"
    " count INTEGER NOT NULL, errors INTEGER NOT NULL, hist BLOB NOT NULL,"
    " PRIMARY KEY(parent, child, minute)) WITHOUT ROWID;";

/*
 * e(v): each epoch from the oldest segment's to the newest's, for a probe of
 * the trace index in each. (Two scalar subqueries: SQLite finds a lone
 * min() or max() of the rowid at once, both in one SELECT by a scan.)
 */
#define EPOCH_SHIFT_SQL VW_STR(VW_EPOCH_SHIFT)
#define EPOCHS_CTE                                                                                 \
    "WITH RECURSIVE b(lo, hi) AS (SELECT (SELECT min(id) FROM segments) >> " EPOCH_SHIFT_SQL       \
    ", (SELECT max(id) FROM segments) >> " EPOCH_SHIFT_SQL "), e(v) AS (SELECT lo FROM b WHERE "   \
    "lo IS NOT NULL UNION ALL SELECT v + 1 FROM e, b WHERE v < hi) "

static const char *const stmt_sql[ST_COUNT] = {
    [ST_RES_FIND] = "SELECT id, body, schema_url FROM resources WHERE hash = ?1",
    [ST_RES_ADD] = "INSERT INTO resources(hash, service, body, schema_url) VALUES(?1, ?2, ?3, ?4)",
    [ST_RES_GET] = "SELECT body, schema_url FROM resources WHERE id = ?1",
    [ST_SCOPE_FIND] = "SELECT id, body, schema_url FROM scopes WHERE hash = ?1",
    [ST_SCOPE_ADD] = "INSERT INTO scopes(hash, body, schema_url) VALUES(?1, ?2, ?3)",
    [ST_SCOPE_GET] = "SELECT body, schema_url FROM scopes WHERE id = ?1",
    [ST_OP_FIND] = "SELECT id FROM operations WHERE service = ?1 AND name = ?2 AND kind = ?3",
    [ST_OP_ADD] = "INSERT INTO operations(service, name, kind) VALUES(?1, ?2, ?3)",
    [ST_SEG_ADD] = "INSERT INTO segments(id, tkey, trace_id, start_ns, end_ns, span_count, "
                   "error_count, root_name, root_service, body) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_SEG_OF_TRACE] = EPOCHS_CTE "SELECT id, start_ns, end_ns, span_count, error_count, "
                                   "root_name, root_service, body FROM segments WHERE " VW_EPOCH_SQL
                                   " IN e AND tkey = ?1 AND trace_id = ?2 ORDER BY id",
    [ST_SEG_GET] = "SELECT trace_id, body FROM segments WHERE id = ?1",
    [ST_CHUNK_PUT] = "INSERT OR REPLACE INTO chunks(id, first_seg, last_seg, min_start, max_start, "
                     "spans, closed, bloom, postings) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_OPMIN_GET] = "SELECT count, errors, hist FROM op_minutes WHERE op = ?1 AND minute = ?2",
    [ST_OPMIN_PUT] = "INSERT OR REPLACE INTO op_minutes(op, minute, count, errors, hist) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_EDGE_GET] = "SELECT count, errors, hist FROM edge_minutes WHERE parent = ?1 AND child = ?2 "
                    "AND minute = ?3",
    [ST_EDGE_PUT] = "INSERT OR REPLACE INTO edge_minutes(parent, child, minute, count, errors, "
                    "hist) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_TRIM_PICK] = "SELECT id, tkey, trace_id, start_ns, span_count FROM segments ORDER BY id "
                     "LIMIT ?1",
    [ST_TRIM_LATER] = "SELECT id, span_count FROM segments WHERE " VW_EPOCH_SQL
                      " = ?1 AND tkey = ?2 AND trace_id = ?3 AND id > ?4 ORDER BY id",
    [ST_TRIM_DEL] = "DELETE FROM segments WHERE id BETWEEN ?1 AND ?2",
};

/* The statements a read-only connection may prepare. */
static bool stmt_reads(enum vw_stmt i)
{
    return i == ST_RES_GET || i == ST_SCOPE_GET || i == ST_SEG_OF_TRACE || i == ST_SEG_GET;
}

/* ---- Helpers shared by the store's files ------------------------------------------------ */

int vw__bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

void vw__store_error(vw_store *s, char *err, size_t err_size, const char *what)
{
    if (err && err_size) snprintf(err, err_size, "%s: %s", what, sqlite3_errmsg(s->db));
}

static void set_error(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || !err_size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

static int exec(vw_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* ---- Opening ------------------------------------------------------------------------------ */

static int pragma_int(vw_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Bring a file of an earlier version to this one, in one transaction.
 * Version 1 lost the schema URLs: the rows it has keep none, new ones get
 * theirs. Version 2 indexed traces by tkey alone: the index is made anew
 * by epoch (a few seconds for millions of spans, once). A reader opens an
 * earlier version as it is: a version 2 file is read right, only its
 * traces are found by scanning.
 */
static int upgrade(vw_store *s, int64_t version, char *err, size_t err_size)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d;", SCHEMA_VERSION);
    bool ok = exec(s, "BEGIN") == 0;
    if (ok && version == 1)
        ok = exec(s, "ALTER TABLE resources ADD COLUMN schema_url TEXT;"
                     "ALTER TABLE scopes ADD COLUMN schema_url TEXT;") == 0;
    if (ok)
        ok = exec(s, "DROP INDEX IF EXISTS segments_trace; CREATE INDEX segments_trace ON "
                     "segments(" VW_EPOCH_SQL ", tkey);") == 0;
    if (ok) ok = exec(s, sql) == 0 && exec(s, "COMMIT") == 0;
    if (!ok) {
        vw__store_error(s, err, err_size, "upgrading the store");
        exec(s, "ROLLBACK");
        return -1;
    }
    return 0;
}

/* Create the schema in a new file, or check that an existing one is ours and not newer. */
static int check_schema(vw_store *s, char *err, size_t err_size)
{
    int64_t app = 0, version = 0, tables = 0;
    if (pragma_int(s, "PRAGMA application_id", &app) < 0 ||
        pragma_int(s, "PRAGMA user_version", &version) < 0 ||
        pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables) < 0) {
        vw__store_error(s, err, err_size, "reading the database header");
        return -1;
    }
    if (tables == 0 && app == 0) {
        if (s->read_only) {
            set_error(err, err_size, "%s holds no otelc view store", s->path);
            return -1;
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 APPLICATION_ID, SCHEMA_VERSION);
        if (exec(s, "BEGIN") < 0 || exec(s, schema_sql) < 0 || exec(s, sql) < 0 ||
            exec(s, "COMMIT") < 0) {
            vw__store_error(s, err, err_size, "creating the schema");
            exec(s, "ROLLBACK");
            return -1;
        }
        return 0;
    }
    if (app != APPLICATION_ID) {
        set_error(err, err_size, "%s is an SQLite database of another program", s->path);
        return -1;
    }
    if ((version == 1 || version == 2) && !s->read_only) return upgrade(s, version, err, err_size);
    if (version > SCHEMA_VERSION) {
        set_error(err, err_size,
                  "%s was written by a newer otelc (store version %lld, this one reads %d)",
                  s->path, (long long)version, SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

/*
 * WAL: readers never wait for the writer. synchronous=NORMAL: a commit is
 * in the WAL file before it returns, which a process crash cannot undo.
 * The page cache is bounded (the viewer's memory must stay small whatever
 * the store's size); mmap stays off for the same reason. secure_delete
 * (on in Debian's SQLite) would zero every row retention removes and
 * write each page it frees to the WAL, a fifth of retention's cost: the
 * removed spans' bytes stay in free pages until they are reused instead,
 * in a file that held them readable anyway.
 */
static int configure(vw_store *s)
{
    sqlite3_busy_timeout(s->db, 5000);
    if (exec(s, "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;"
                "PRAGMA cache_size = -16384; PRAGMA mmap_size = 0;") < 0)
        return -1;
    if (s->read_only || s->memory) return 0;
    return exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                   "PRAGMA secure_delete = OFF;");
}

static int prepare_all(vw_store *s)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (s->read_only && !stmt_reads((enum vw_stmt)i)) continue;
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

static bool caches_init(vw_store *s)
{
    s->pending = calloc(VW_PENDING_CHILDREN, sizeof *s->pending);
    s->service_names = calloc(VW_SERVICES_MAX, sizeof *s->service_names);
    return s->pending && s->service_names && vw_u64map_init(&s->resources, 4096) &&
           vw_u64map_init(&s->scopes, 4096) && vw_u64map_init(&s->ops, 65536) &&
           vw_u64map_init(&s->op_service, 65536) && vw_u64map_init(&s->services, VW_SERVICES_MAX) &&
           vw_u64map_init(&s->seg_index, VW_MAX_SPANS_PER_REQUEST) &&
           vw_u64map_init(&s->recent[0], VW_RECENT_SPANS) &&
           vw_u64map_init(&s->recent[1], VW_RECENT_SPANS) &&
           vw_u64map_init(&s->pending_heads, VW_PENDING_CHILDREN) &&
           vw_u64map_init(&s->op_agg.index, 4096) && vw_u64map_init(&s->edge_agg.index, 4096);
}

/* Spans held, and (for the writer) the id the next segment gets. */
static int load_counts(vw_store *s)
{
    int64_t spans = 0, last = 0;
    if (pragma_int(s, "SELECT ifnull(sum(span_count), 0) FROM segments", &spans) < 0 ||
        pragma_int(s, "SELECT ifnull(max(id), 0) FROM segments", &last) < 0)
        return -1;
    s->counts.spans = (uint64_t)spans;
    s->next_seg = last + 1;
    return 0;
}

int vw_store_open(const vw_store_options *o, vw_store **out, char *err, size_t err_size)
{
    *out = NULL;
    vw_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(o->path))) {
        free(s);
        set_error(err, err_size, "out of memory");
        return -1;
    }
    s->read_only = o->read_only;
    s->memory = strcmp(o->path, ":memory:") == 0;
    s->max_spans = o->max_spans;
    s->retention_ns = o->retention_ns;
    int flags = s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(o->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        set_error(err, err_size, "cannot open %s: %s", o->path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        vw_store_close(s);
        return -1;
    }
    if (configure(s) < 0) {
        vw__store_error(s, err, err_size, o->path);
        vw_store_close(s);
        return -1;
    }
    if (check_schema(s, err, err_size) < 0) {
        vw_store_close(s);
        return -1;
    }
    /* A reader counts when asked (vw_store_counts_get): that reads every segment row. */
    if (prepare_all(s) < 0 || (!s->read_only && (load_counts(s) < 0 || vw__chunk_load_open(s) < 0 ||
                                                 vw__epochs_load(s) < 0))) {
        vw__store_error(s, err, err_size, o->path);
        vw_store_close(s);
        return -1;
    }
    if (!s->read_only && !caches_init(s)) {
        set_error(err, err_size, "out of memory");
        vw_store_close(s);
        return -1;
    }
    if (o->checkpoint_thread && !s->read_only && !s->memory && vw__checkpointer_start(s) < 0) {
        set_error(err, err_size, "%s: cannot start the checkpoint thread", o->path);
        vw_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Forget every cached row: after a failed transaction, or when a cache is full. */
static void reset_caches(vw_store *s)
{
    vw_u64map_clear(&s->resources);
    vw_u64map_clear(&s->scopes);
    vw_u64map_clear(&s->ops);
    vw_u64map_clear(&s->op_service);
    for (size_t i = 0; i < s->service_count; i++) free(s->service_names[i]);
    s->service_count = 0;
    vw_u64map_clear(&s->services);
    vw_u64map_clear(&s->recent[0]);
    vw_u64map_clear(&s->recent[1]);
    vw_u64map_clear(&s->pending_heads);
    if (s->pending) memset(s->pending, 0, VW_PENDING_CHILDREN * sizeof *s->pending);
}

void vw_store_close(vw_store *s)
{
    if (!s) return;
    vw__checkpointer_stop(s);
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    reset_caches(s);
    free(s->service_names);
    free(s->pending);
    vw_u64map *maps[] = {&s->resources,  &s->scopes,    &s->ops,
                         &s->op_service, &s->services,  &s->seg_index,
                         &s->recent[0],  &s->recent[1], &s->pending_heads};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) vw_u64map_free(maps[i]);
    for (size_t i = 0; i < s->seg_cap; i++) otelc__buf_free(&s->segs[i].body);
    free(s->segs);
    free(s->new_postings);
    vw__chunk_free(&s->chunk);
    vw__epochs_free(&s->epochs);
    vw__agg_free(&s->op_agg);
    vw__agg_free(&s->edge_agg);
    otelc__buf_free(&s->enc);
    free(s->path);
    free(s);
}

/* A hash of all 16 bytes: ids made by hand or by 64-bit tracers share their first bytes. */
int64_t vw__trace_key(const uint8_t id[16])
{
    return (int64_t)otelc__fnv1a(OTELC_FNV_OFFSET, id, 16);
}

/* ---- Rows of resources, scopes and operations ------------------------------------------- */

/*
 * The row holding the message in enc (a Resource or an InstrumentationScope
 * body), inserted when new. The cache trusts the 64-bit hash; the table
 * lookup compares the bytes, so a collision there is never merged.
 */
static bool same_text(const unsigned char *a, const char *b)
{
    return a && b ? strcmp((const char *)a, b) == 0 : !a && !b;
}

static int64_t message_row(vw_store *s, vw_u64map *cache, enum vw_stmt find, enum vw_stmt add,
                           const char *service, const char *schema_url)
{
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, s->enc.data, s->enc.len);
    if (schema_url) h = otelc__fnv1a(h, schema_url, strlen(schema_url) + 1);
    uint64_t *cached = vw_u64map_get(cache, h);
    if (cached) return (int64_t)*cached;
    int64_t row = -1;
    sqlite3_stmt *st = s->st[find];
    sqlite3_bind_int64(st, 1, (int64_t)h);
    while (row < 0 && sqlite3_step(st) == SQLITE_ROW) {
        const void *body = sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (n == s->enc.len && (n == 0 || memcmp(body, s->enc.data, n) == 0) &&
            same_text(sqlite3_column_text(st, 2), schema_url))
            row = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (row < 0) {
        st = s->st[add];
        int i = 1;
        sqlite3_bind_int64(st, i++, (int64_t)h);
        if (service) vw__bind_text(st, i++, service);
        sqlite3_bind_blob(st, i++, s->enc.data, (int)s->enc.len, SQLITE_STATIC);
        vw__bind_text(st, i, schema_url);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return -1;
        row = sqlite3_last_insert_rowid(s->db);
    }
    uint64_t *slot = vw_u64map_put(cache, h, NULL);
    if (!slot) {
        vw_u64map_clear(cache);
        slot = vw_u64map_put(cache, h, NULL);
    }
    if (slot) *slot = (uint64_t)row;
    return row;
}

/* The writer's index of a service name (for the service graph), or UINT32_MAX when full. */
static uint32_t service_index(vw_store *s, const char *service)
{
    uint64_t h = vw_hash(service, strlen(service), 0);
    bool added;
    uint64_t *slot = vw_u64map_put(&s->services, h, &added);
    if (!slot) return UINT32_MAX;
    if (!added) return (uint32_t)(*slot - 1);
    if (s->service_count == VW_SERVICES_MAX ||
        !(s->service_names[s->service_count] = strdup(service))) {
        *slot = UINT32_MAX + 1ULL; /* counted as "no index" from now on */
        return UINT32_MAX;
    }
    *slot = ++s->service_count;
    return (uint32_t)(s->service_count - 1);
}

const char *vw__service_name(const vw_store *s, uint32_t index)
{
    return index < s->service_count ? s->service_names[index] : NULL;
}

static int64_t op_row(vw_store *s, const char *service, const char *name, int kind)
{
    uint64_t h = vw_hash(service, strlen(service) + 1, (uint64_t)kind);
    h = vw_hash(name, strlen(name) + 1, h);
    uint64_t *cached = vw_u64map_get(&s->ops, h);
    if (cached) return (int64_t)*cached;
    int64_t row = -1;
    for (enum vw_stmt which = ST_OP_FIND; row < 0; which = ST_OP_ADD) {
        sqlite3_stmt *st = s->st[which];
        vw__bind_text(st, 1, service);
        vw__bind_text(st, 2, name);
        sqlite3_bind_int(st, 3, kind);
        int rc = sqlite3_step(st);
        if (which == ST_OP_FIND && rc == SQLITE_ROW) row = sqlite3_column_int64(st, 0);
        if (which == ST_OP_ADD && rc == SQLITE_DONE) row = sqlite3_last_insert_rowid(s->db);
        sqlite3_reset(st);
        if (which == ST_OP_ADD && row < 0) return -1;
    }
    uint64_t *slot = vw_u64map_put(&s->ops, h, NULL);
    uint64_t *svc = vw_u64map_put(&s->op_service, (uint64_t)row, NULL);
    if (!slot || !svc) {
        vw_u64map_clear(&s->ops);
        vw_u64map_clear(&s->op_service);
        return row;
    }
    *slot = (uint64_t)row;
    *svc = (uint64_t)service_index(s, service) + 1;
    return row;
}

/* The writer's service index of an operation row (UINT32_MAX when unknown). */
static uint32_t op_service_index(vw_store *s, int64_t op)
{
    uint64_t *v = vw_u64map_get(&s->op_service, (uint64_t)op);
    return v ? (uint32_t)(*v - 1) : UINT32_MAX;
}

/* ---- The service graph's edges ------------------------------------------------------------- */

static uint64_t span_identity(const uint8_t trace_id[16], const uint8_t span_id[8])
{
    uint8_t ids[24];
    memcpy(ids, trace_id, 16);
    memcpy(ids + 16, span_id, 8);
    return vw_hash(ids, sizeof ids, 0);
}

/* The service of a span the writer saw lately, or UINT32_MAX. */
static uint32_t recent_service(vw_store *s, uint64_t id)
{
    for (int g = 0; g < 2; g++) {
        uint64_t *v = vw_u64map_get(&s->recent[(s->recent_cur + g) & 1], id);
        if (v) return (uint32_t)(*v - 1);
    }
    return UINT32_MAX;
}

/* Remember a span's service; the older generation is dropped when the current one fills. */
static void remember_span(vw_store *s, uint64_t id, uint32_t service)
{
    uint64_t *slot = vw_u64map_put(&s->recent[s->recent_cur], id, NULL);
    if (!slot) {
        s->recent_cur ^= 1;
        vw_u64map_clear(&s->recent[s->recent_cur]);
        slot = vw_u64map_put(&s->recent[s->recent_cur], id, NULL);
    }
    if (slot) *slot = (uint64_t)service + 1;
}

/* A child that arrived before its parent: wait (in a bounded ring) for the parent. */
static void add_pending(vw_store *s, uint64_t parent, uint32_t service, const otelc_span_data *sd,
                        int64_t minute, uint64_t duration)
{
    uint64_t seq = ++s->pending_seq;
    size_t i = (size_t)(seq & (VW_PENDING_CHILDREN - 1));
    bool added;
    uint64_t *head = vw_u64map_put(&s->pending_heads, parent, &added);
    if (!head) {
        vw_u64map_clear(&s->pending_heads);
        head = vw_u64map_put(&s->pending_heads, parent, &added);
        if (!head) return;
    }
    s->pending[i] = (vw_pending_child){
        parent, seq,     added ? 0 : *head, service, sd->status == OTELC_STATUS_ERROR,
        minute, duration};
    *head = seq << 16 | i;
}

/* Count the edges from this span to the children that waited for it. */
static bool adopt_pending(vw_store *s, uint64_t id, uint32_t service)
{
    uint64_t *head = vw_u64map_get(&s->pending_heads, id);
    if (!head) return true;
    for (uint64_t link = *head; link;) {
        vw_pending_child *c = &s->pending[link & 0xffff];
        if (c->seq != link >> 16 || c->key != id) break; /* overwritten by a newer child */
        c->seq = 0;
        if (c->service != service &&
            !vw__agg_add(&s->edge_agg, service, c->service, c->minute, c->duration_ns, c->error))
            return false;
        link = c->next;
    }
    *head = 0;
    return true;
}

/*
 * An edge is a span whose parent belongs to another service; parents most
 * often end (and arrive) after their children, so a child waits for its
 * parent, and a parent adopts the children waiting for it.
 */
static bool count_edges(vw_store *s, const otelc_span_data *sd, uint32_t service, int64_t minute,
                        uint64_t duration)
{
    if (service == UINT32_MAX) return true;
    uint64_t id = span_identity(sd->context.trace_id, sd->context.span_id);
    remember_span(s, id, service);
    if (!adopt_pending(s, id, service)) return false;
    if (!sd->has_parent) return true;
    uint64_t parent = span_identity(sd->context.trace_id, sd->parent_span_id);
    uint32_t parent_service = recent_service(s, parent);
    if (parent_service == UINT32_MAX) {
        add_pending(s, parent, service, sd, minute, duration);
        return true;
    }
    if (parent_service == service) return true;
    return vw__agg_add(&s->edge_agg, parent_service, service, minute, duration,
                       sd->status == OTELC_STATUS_ERROR);
}

/* ---- Segments ------------------------------------------------------------------------------- */

/* The builder of this transaction's segment of sd's trace; NULL when out of memory. */
static vw_segment_build *segment_of(vw_store *s, const otelc_span_data *sd, size_t *index)
{
    int64_t tkey = vw__trace_key(sd->context.trace_id);
    bool added;
    uint64_t *slot = vw_u64map_put(&s->seg_index, (uint64_t)tkey, &added);
    if (slot && !added) {
        vw_segment_build *b = &s->segs[*slot - 1];
        if (memcmp(b->trace_id, sd->context.trace_id, 16) == 0) {
            *index = *slot - 1;
            return b;
        }
        slot = NULL; /* another trace with the same hash: a segment of its own, unindexed */
    }
    if (s->seg_count == s->seg_cap) {
        size_t cap = s->seg_cap ? s->seg_cap * 2 : 256;
        vw_segment_build *grown = realloc(s->segs, cap * sizeof *grown);
        if (!grown) return NULL;
        memset(grown + s->seg_cap, 0, (cap - s->seg_cap) * sizeof *grown);
        s->segs = grown;
        s->seg_cap = cap;
    }
    vw_segment_build *b = &s->segs[s->seg_count];
    otelc_buf body = b->body; /* its memory is kept from transaction to transaction */
    otelc__buf_reset(&body);
    *b = (vw_segment_build){.body = body, .tkey = tkey, .start_ns = UINT64_MAX};
    memcpy(b->trace_id, sd->context.trace_id, 16);
    *index = s->seg_count++;
    if (slot) {
        *slot = s->seg_count;
        b->indexed = true;
    }
    return b;
}

static bool add_posting(vw_store *s, uint64_t key, size_t seg)
{
    if (s->new_posting_count == s->new_posting_cap) {
        size_t cap = s->new_posting_cap ? s->new_posting_cap * 2 : 4096;
        vw_posting *grown = realloc(s->new_postings, cap * sizeof *grown);
        if (!grown) return false;
        s->new_postings = grown;
        s->new_posting_cap = cap;
    }
    s->new_postings[s->new_posting_count++] = (vw_posting){key, (int64_t)seg};
    return true;
}

/* Append one span's record (its resource and scope rows, its Span message) to a segment. */
static int append_span(vw_store *s, vw_segment_build *b, const otelc_span_data *sd,
                       int64_t resource, int64_t scope)
{
    otelc__buf_reset(&s->enc);
    if (otelc__otlp_encode_span(&s->enc, sd) != OTELC_OK) return -1;
    uint8_t head[30], *w = otelc__pb_put_varint(head, (uint64_t)resource);
    w = otelc__pb_put_varint(w, (uint64_t)scope);
    w = otelc__pb_put_varint(w, s->enc.len);
    otelc__buf_append(&b->body, head, (size_t)(w - head));
    otelc__buf_append(&b->body, s->enc.data, s->enc.len);
    return b->body.failed ? -1 : 0;
}

static int insert_segments(vw_store *s)
{
    sqlite3_stmt *st = s->st[ST_SEG_ADD];
    for (size_t i = 0; i < s->seg_count; i++) {
        const vw_segment_build *b = &s->segs[i];
        int64_t id = s->next_seg + (int64_t)i, tkey = b->tkey;
        if (!vw__epochs_add(&s->epochs, id, tkey)) return -1; /* noted before: a probe too many */
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, tkey);
        sqlite3_bind_blob(st, 3, b->trace_id, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (int64_t)b->start_ns);
        sqlite3_bind_int64(st, 5, (int64_t)b->end_ns);
        sqlite3_bind_int64(st, 6, b->span_count);
        sqlite3_bind_int64(st, 7, b->error_count);
        vw__bind_text(st, 8, b->root_name);
        vw__bind_text(st, 9, b->root_service);
        sqlite3_bind_blob(st, 10, b->body.data, (int)b->body.len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return -1;
    }
    return 0;
}

/* ---- Writing -------------------------------------------------------------------------------- */

/* What a batch's resource became: its row and service. */
typedef struct resource_row {
    const otelc_resource *res;
    int64_t row;
    const char *service;
} resource_row;

static int resource_row_of(vw_store *s, const otelc_resource *res, resource_row *out)
{
    out->res = res;
    out->service = vw_resource_service(res);
    otelc__buf_reset(&s->enc);
    if (res && otelc__otlp_encode_resource(&s->enc, res) != OTELC_OK) return -1;
    out->row = message_row(s, &s->resources, ST_RES_FIND, ST_RES_ADD, out->service,
                           res ? otelc_resource_schema_url(res) : NULL);
    if (out->row < 0) return -1;
    /* The chunk's bloom filter holds each resource's attributes once. */
    bool added = false;
    if (!vw_u64map_put(&s->chunk.resources, (uint64_t)out->row, &added)) {
        vw_u64map_clear(&s->chunk.resources);
        vw_u64map_put(&s->chunk.resources, (uint64_t)out->row, &added);
    }
    if (added && res) {
        size_t n;
        const otelc_attr *attrs = otelc_resource_attrs(res, &n);
        vw__bloom_add_attrs(s->chunk.bloom, 'R', attrs, n);
    }
    return 0;
}

static int resource_rows(vw_store *s, const vw_batch *b, resource_row *rows)
{
    for (size_t i = 0; i < b->resource_count; i++)
        if (resource_row_of(s, b->resources[i], &rows[i]) < 0) return -1;
    return 0;
}

static const resource_row *find_resource(const resource_row *rows, size_t n,
                                         const otelc_resource *res)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].res == res) return &rows[i];
    return NULL;
}

static int64_t scope_row(vw_store *s, const otelc_scope_info *scope)
{
    static const otelc_scope_info none = {.name = ""};
    otelc__buf_reset(&s->enc);
    if (otelc__otlp_encode_scope(&s->enc, scope ? scope : &none) != OTELC_OK) return -1;
    return message_row(s, &s->scopes, ST_SCOPE_FIND, ST_SCOPE_ADD, NULL,
                       scope ? scope->schema_url : NULL);
}

#define NS_PER_MINUTE 60000000000ULL

static void segment_add_span(vw_segment_build *b, const otelc_span_data *sd, const char *service)
{
    if (sd->start_ns < b->start_ns) b->start_ns = sd->start_ns;
    if (sd->end_ns > b->end_ns) b->end_ns = sd->end_ns;
    b->span_count++;
    if (sd->status == OTELC_STATUS_ERROR) b->error_count++;
    if (!sd->has_parent && !b->root_name) {
        b->root_name = sd->name ? sd->name : "";
        b->root_service = service;
    }
}

static int write_span(vw_store *s, const otelc_span_data *sd, const resource_row *res,
                      int64_t scope)
{
    const char *name = sd->name ? sd->name : "";
    int64_t op = op_row(s, res->service, name, (int)sd->kind);
    size_t index;
    vw_segment_build *seg = op < 0 ? NULL : segment_of(s, sd, &index);
    if (!seg || append_span(s, seg, sd, res->row, scope) < 0) return -1;
    segment_add_span(seg, sd, res->service);
    bool error = sd->status == OTELC_STATUS_ERROR;
    if (!add_posting(s, VW_POSTING_OP(op), index) ||
        (error && !add_posting(s, VW_POSTING_ERROR, index)))
        return -1;
    vw__bloom_add_attrs(s->chunk.bloom, 'S', sd->attrs, sd->attr_count);
    s->counts.spans++;
    uint64_t duration = sd->end_ns > sd->start_ns ? sd->end_ns - sd->start_ns : 0;
    int64_t minute = (int64_t)(sd->start_ns / NS_PER_MINUTE);
    if (!vw__agg_add(&s->op_agg, op, 0, minute, duration, error) ||
        !count_edges(s, sd, op_service_index(s, op), minute, duration))
        return -1;
    return 0;
}

static int write_batch(vw_store *s, const vw_batch *b)
{
    resource_row stack_rows[8], *rows = stack_rows;
    if (b->resource_count > 8 && !(rows = malloc(b->resource_count * sizeof *rows))) return -1;
    int rc = resource_rows(s, b, rows);
    const otelc_scope_info *last_scope = NULL;
    int64_t scope = -1;
    for (size_t i = 0; rc == 0 && i < b->count; i++) {
        const otelc_span_data *sd = &b->spans[i];
        const resource_row *res = find_resource(rows, b->resource_count, sd->resource);
        resource_row other;
        if (!res) { /* a resource the batch does not own (callers building batches by hand) */
            if (resource_row_of(s, sd->resource, &other) < 0) {
                rc = -1;
                break;
            }
            res = &other;
        }
        if (scope < 0 || sd->scope != last_scope) {
            last_scope = sd->scope;
            if ((scope = scope_row(s, sd->scope)) < 0) rc = -1;
        }
        if (rc == 0) rc = write_span(s, sd, res, scope);
    }
    if (rows != stack_rows) free(rows);
    return rc;
}

static void transaction_reset(vw_store *s)
{
    s->new_posting_count = 0;
    /* Newest first (vw_u64map_remove_newest): a few thousand keys, where a clear writes 2 MiB. */
    for (size_t i = s->seg_count; i-- > 0;)
        if (s->segs[i].indexed) vw_u64map_remove_newest(&s->seg_index, (uint64_t)s->segs[i].tkey);
    s->seg_count = 0;
    vw__agg_reset(&s->op_agg);
    vw__agg_reset(&s->edge_agg);
}

int vw_store_write(vw_store *s, const vw_batch *const *batches, size_t n, char *err,
                   size_t err_size)
{
    if (s->read_only) {
        set_error(err, err_size, "the store is open read-only");
        return -1;
    }
    vw_store_counts before = s->counts;
    int rc = exec(s, "BEGIN IMMEDIATE");
    for (size_t i = 0; rc == 0 && i < n; i++) rc = write_batch(s, batches[i]);
    if (rc == 0) rc = insert_segments(s);
    if (rc == 0) rc = vw__chunk_write(s, s->next_seg, s->seg_count);
    if (rc == 0) rc = vw__agg_flush(s);
    if (rc == 0) rc = exec(s, "COMMIT");
    if (rc == 0) {
        s->next_seg += (int64_t)s->seg_count;
        transaction_reset(s);
        return 0;
    }
    vw__store_error(s, err, err_size, "writing spans");
    exec(s, "ROLLBACK");
    transaction_reset(s);
    reset_caches(s);
    s->counts = before;
    vw__chunk_load_open(s); /* the open chunk as the file has it */
    return -1;
}

/* ---- Retention -------------------------------------------------------------------------- */

/*
 * Retention removes the oldest segments a page at a time, each page as one
 * range of ids with one DELETE, and the later segments of the page's
 * traces with them, so that a trace goes whole. Those are looked for only
 * in the epochs whose filters may hold the trace, and in its own epoch only
 * when it was written there more than once (store_epoch.c): most traces
 * cost no probe of the index.
 */

/* A segment retention may remove: its id, its trace, its spans and when it started. */
typedef struct victim {
    int64_t seg;
    int64_t tkey;
    uint8_t id[16];
    bool has_id;  /* a 16-byte trace id (rows written otherwise are removed, never looked up) */
    bool claimed; /* a later segment of a trace being removed: goes whatever the limits say */
    uint32_t spans;
    uint64_t start;
} victim;

/*
 * Up to TRIM_PAGE segments picked at a time: a slice reads the rows it
 * looks at (the oldest, rarely in the page cache), so it picks about what
 * it removes, not its whole budget. The rows are copied out first:
 * deleting under a running SELECT would skip rows.
 */
#define TRIM_PAGE 512

/* The oldest segments, up to TRIM_PAGE, into v; their count, or -1. */
static long pick_oldest(vw_store *s, victim *v)
{
    sqlite3_stmt *pick = s->st[ST_TRIM_PICK];
    long nv = 0;
    int rc = SQLITE_DONE;
    sqlite3_bind_int64(pick, 1, TRIM_PAGE);
    while (nv < TRIM_PAGE && (rc = sqlite3_step(pick)) == SQLITE_ROW) {
        victim *w = &v[nv++];
        w->seg = sqlite3_column_int64(pick, 0);
        w->tkey = sqlite3_column_int64(pick, 1);
        w->has_id = sqlite3_column_bytes(pick, 2) == 16;
        if (w->has_id) memcpy(w->id, sqlite3_column_blob(pick, 2), 16);
        w->claimed = false;
        w->start = (uint64_t)sqlite3_column_int64(pick, 3);
        w->spans = (uint32_t)sqlite3_column_int64(pick, 4);
    }
    sqlite3_reset(pick);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? nv : -1;
}

/* Remove segments lo to hi (ids); 0 or -1. */
static int delete_segments(vw_store *s, int64_t lo, int64_t hi)
{
    sqlite3_stmt *del = s->st[ST_TRIM_DEL];
    sqlite3_bind_int64(del, 1, lo);
    sqlite3_bind_int64(del, 2, hi);
    int rc = sqlite3_step(del);
    sqlite3_reset(del);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The victim of segment seg in the page v[0..nv) (in order of id), or NULL. */
static victim *victim_of(victim *v, size_t nv, int64_t seg)
{
    size_t lo = 0, hi = nv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].seg < seg)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nv && v[lo].seg == seg ? &v[lo] : NULL;
}

/*
 * The later segments of t's trace: those in the page v[0..nv) are claimed,
 * those after it removed now. Returns their spans, or -1. Found, then
 * deleted by id: a DELETE ... RETURNING would give the span counts in one
 * statement, but costs SQLite several times more (a temporary table per
 * execution).
 */
static long take_later(vw_store *s, const victim *t, victim *v, size_t nv)
{
    sqlite3_stmt *find = s->st[ST_TRIM_LATER];
    long spans = 0;
    int64_t first = VW_EPOCH_OF(t->seg), last = VW_EPOCH_OF(s->next_seg - 1);
    for (int64_t e = first; e <= last; e++) {
        bool maybe = e == first ? vw__epochs_may_repeat(&s->epochs, e, t->tkey)
                                : vw__epochs_may_hold(&s->epochs, e, t->tkey);
        int64_t after = t->seg;
        size_t n = 64;
        while (maybe && n == 64) { /* 64 segments found: there may be more */
            int64_t ids[64], counts[64];
            int rc;
            sqlite3_bind_int64(find, 1, e);
            sqlite3_bind_int64(find, 2, t->tkey);
            sqlite3_bind_blob(find, 3, t->id, 16, SQLITE_STATIC);
            sqlite3_bind_int64(find, 4, after);
            for (n = 0; n < 64 && (rc = sqlite3_step(find)) == SQLITE_ROW; n++) {
                ids[n] = sqlite3_column_int64(find, 0);
                counts[n] = sqlite3_column_int64(find, 1);
            }
            sqlite3_reset(find);
            if (rc != SQLITE_DONE && rc != SQLITE_ROW) return -1;
            for (size_t i = 0; i < n; i++) {
                victim *w = victim_of(v, nv, ids[i]);
                after = ids[i];
                if (w && w->claimed) continue;
                if (w)
                    w->claimed = true;
                else if (delete_segments(s, ids[i], ids[i]) < 0)
                    return -1;
                spans += counts[i];
            }
        }
    }
    return spans;
}

/* Whether a segment is due: the store holds more than max_spans or it started before cutoff. */
static bool due(const vw_store *s, uint64_t held, uint64_t start, uint64_t cutoff_ns)
{
    return (s->max_spans && held > s->max_spans) || (cutoff_ns && start < cutoff_ns);
}

/*
 * Choose what goes of the page v[0..nv): the oldest segments while due (as
 * each would be once those before it and their traces are gone) and
 * within budget spans, and every segment of their traces. v[0..*k) is
 * then removed as one range, claimed victims after it one by one. Returns
 * the spans that go, or -1; *stopped: a segment was not due.
 */
static long choose(vw_store *s, victim *v, size_t nv, uint64_t cutoff_ns, uint64_t budget,
                   size_t *k, bool *stopped)
{
    long spans = 0;
    *stopped = false;
    for (*k = 0; *k < nv; ++*k) {
        const victim *t = &v[*k];
        if (t->claimed) continue;
        uint64_t held = s->counts.spans > (uint64_t)spans ? s->counts.spans - (uint64_t)spans : 0;
        if ((uint64_t)spans >= budget) break;
        if (!due(s, held, t->start, cutoff_ns)) {
            *stopped = true;
            break;
        }
        long later = t->has_id ? take_later(s, t, v, nv) : 0;
        if (later < 0) return -1;
        spans += (long)t->spans + later;
    }
    return spans;
}

/* Remove what choose() chose of the page: one range, then the claimed segments after it. */
static int remove_chosen(vw_store *s, const victim *v, size_t nv, size_t k)
{
    if (k && delete_segments(s, v[0].seg, v[k - 1].seg) < 0) return -1;
    for (size_t i = k; i < nv; i++)
        if (v[i].claimed && delete_segments(s, v[i].seg, v[i].seg) < 0) return -1;
    return 0;
}

/*
 * One slice: the traces of the oldest segments, while the store holds more
 * than max_spans or they started before the cutoff, about budget spans.
 */
static long trim_oldest(vw_store *s, size_t budget, uint64_t cutoff_ns, bool *more)
{
    victim *v = malloc(TRIM_PAGE * sizeof *v);
    if (!v) return -1;
    long removed = 0;
    bool done = false; /* nothing is over the limits any more, or nothing is left */
    while (!done && (size_t)removed < budget) {
        long nv = pick_oldest(s, v);
        size_t k = 0;
        bool stopped = false;
        long n = nv < 0
                     ? -1
                     : choose(s, v, (size_t)nv, cutoff_ns, budget - (size_t)removed, &k, &stopped);
        if (n < 0 || remove_chosen(s, v, (size_t)nv, k) < 0) {
            removed = -1;
            break;
        }
        done = stopped || k == 0 || (nv < TRIM_PAGE && k == (size_t)nv);
        removed += n;
        s->counts.spans -= (uint64_t)n < s->counts.spans ? (uint64_t)n : s->counts.spans;
    }
    free(v);
    /* The budget ran out: more is due when the store is still over, or may still hold old ones. */
    *more =
        removed >= 0 && !done && ((s->max_spans && s->counts.spans > s->max_spans) || cutoff_ns);
    return removed;
}

/* The oldest segment (by arrival): its id and start into v; 0 when there is none, -1 on error. */
static int oldest_segment(vw_store *s, victim *v)
{
    sqlite3_stmt *pick;
    const char *sql = "SELECT id, start_ns FROM segments ORDER BY id LIMIT 1";
    if (sqlite3_prepare_v2(s->db, sql, -1, &pick, NULL) != SQLITE_OK) return -1;
    int rc = sqlite3_step(pick);
    int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (found == 1) {
        v->seg = sqlite3_column_int64(pick, 0);
        v->start = (uint64_t)sqlite3_column_int64(pick, 1);
    }
    sqlite3_finalize(pick);
    return found;
}

long vw_store_trim(vw_store *s, size_t budget, bool *more)
{
    *more = false;
    if (s->read_only || (!s->max_spans && !s->retention_ns)) return 0;
    uint64_t now = otelc__now_ns();
    uint64_t cutoff = s->retention_ns && now > s->retention_ns ? now - s->retention_ns : 0;
    if (!cutoff && s->counts.spans <= s->max_spans) return 0;
    /* After most commits nothing is due: found out without a transaction, from one row. */
    victim oldest;
    int found = oldest_segment(s, &oldest);
    if (found <= 0 || !due(s, s->counts.spans, oldest.start, cutoff)) return found < 0 ? -1 : 0;
    vw_store_counts before = s->counts;
    if (exec(s, "BEGIN IMMEDIATE") < 0) return -1;
    long removed = trim_oldest(s, budget ? budget : 1, cutoff, more);
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM chunks WHERE closed = 1 AND last_seg < (SELECT ifnull(min(id), %lld) "
             "FROM segments); DELETE FROM op_minutes WHERE minute < %lld; "
             "DELETE FROM edge_minutes WHERE minute < %lld",
             (long long)s->next_seg, (long long)(cutoff / NS_PER_MINUTE),
             (long long)(cutoff / NS_PER_MINUTE));
    if (removed >= 0 && exec(s, sql) < 0) removed = -1;
    if (removed < 0 || exec(s, "COMMIT") < 0) {
        exec(s, "ROLLBACK");
        s->counts = before;
        return -1;
    }
    if (oldest_segment(s, &oldest) == 1)
        vw__epochs_forget_before(&s->epochs, VW_EPOCH_OF(oldest.seg));
    return removed;
}

int vw_store_counts_get(vw_store *s, vw_store_counts *out)
{
    if (s->read_only && load_counts(s) < 0) return -1;
    /*
     * Distinct traces take a scan of the trace index and a sort (tens of
     * milliseconds on a million spans): counted by readers, at most once a
     * second and never more than 1 % of the time, whatever the store's
     * size; the writer, which is asked after every commit, leaves them out.
     */
    uint64_t now = otelc__mono_ms();
    if (s->read_only && (!s->traces_counted_at || now >= s->traces_count_due)) {
        int64_t traces = 0;
        if (pragma_int(s, "SELECT count(*) FROM (SELECT DISTINCT tkey FROM segments)", &traces) < 0)
            return -1;
        uint64_t took = otelc__mono_ms() - now;
        s->counts.traces = (uint64_t)traces;
        s->traces_counted_at = now;
        s->traces_count_due = now + (took * 100 > 1000 ? took * 100 : 1000);
    }
    *out = s->counts;
    out->file_bytes = 0;
    if (s->memory) return 0;
    struct stat sb;
    char wal[4200];
    if (stat(s->path, &sb) == 0) out->file_bytes += (uint64_t)sb.st_size;
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    if (stat(wal, &sb) == 0) out->file_bytes += (uint64_t)sb.st_size;
    return 0;
}
