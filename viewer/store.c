/*
 * store.c - the span store (store.h): opening, the schema, writing and
 * retention.
 *
 * The schema, and why each index exists:
 *
 *   resources(id, hash, service, body,   each distinct Resource once; spans
 *             schema_url)                 and scopes point at them by id
 *   scopes(id, hash, body, schema_url)    (OTLP carries the schema URLs in
 *                                         ResourceSpans and ScopeSpans)
 *   operations(id, service, name, kind)  (service, span name, kind) once each:
 *                                         the services and operations lists
 *   traces(id, trace_id, start_ns, end_ns, root_name, root_service,
 *          span_count, error_count)      one row per trace, ids in order of
 *                                         arrival, so retention removes the
 *                                         lowest; traces_start orders searches
 *   spans(id, trace, span_id, parent_id, op, resource, scope, status,
 *         start_ns, duration_ns, body)   body: the OTLP Span message;
 *                                         spans_trace loads a trace,
 *                                         spans_op finds an operation's spans
 *                                         by time
 *   op_minutes, edge_minutes             per-minute sums and latency
 *                                         histograms for the operations table
 *                                         and the service map
 *
 * Writing is one transaction per call. The writer keeps small caches (the
 * rows of resources, scopes, operations and of traces it touched lately)
 * so that a span costs one INSERT; the caches hold only what is committed
 * or being committed, and are dropped whole when a transaction fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_internal.h"

#define SCHEMA_VERSION 2          /* 2: schema URLs of resources and scopes */
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
    "CREATE TABLE traces(id INTEGER PRIMARY KEY, trace_id BLOB NOT NULL UNIQUE,"
    " start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, root_name TEXT, root_service TEXT,"
    " span_count INTEGER NOT NULL, error_count INTEGER NOT NULL);"
    "CREATE INDEX traces_start ON traces(start_ns);"
    "CREATE TABLE spans(id INTEGER PRIMARY KEY, trace INTEGER NOT NULL, span_id INTEGER NOT NULL,"
    " parent_id INTEGER, op INTEGER NOT NULL, resource INTEGER NOT NULL, scope INTEGER NOT NULL,"
    " status INTEGER NOT NULL, start_ns INTEGER NOT NULL, duration_ns INTEGER NOT NULL,"
    " body BLOB NOT NULL);"
    "CREATE INDEX spans_trace ON spans(trace);"
    "CREATE INDEX spans_op ON spans(op, start_ns);"
    "CREATE TABLE op_minutes(op INTEGER NOT NULL, minute INTEGER NOT NULL,"
    " count INTEGER NOT NULL, errors INTEGER NOT NULL, hist BLOB NOT NULL,"
    " PRIMARY KEY(op, minute)) WITHOUT ROWID;"
    "CREATE TABLE edge_minutes(parent TEXT NOT NULL, child TEXT NOT NULL, minute INTEGER NOT NULL,"
    " count INTEGER NOT NULL, errors INTEGER NOT NULL, hist BLOB NOT NULL,"
    " PRIMARY KEY(parent, child, minute)) WITHOUT ROWID;";

static const char *const stmt_sql[ST_COUNT] = {
    [ST_RES_FIND] = "SELECT id, body, schema_url FROM resources WHERE hash = ?1",
    [ST_RES_ADD] = "INSERT INTO resources(hash, service, body, schema_url) VALUES(?1, ?2, ?3, ?4)",
    [ST_RES_GET] = "SELECT body, schema_url FROM resources WHERE id = ?1",
    [ST_SCOPE_FIND] = "SELECT id, body, schema_url FROM scopes WHERE hash = ?1",
    [ST_SCOPE_ADD] = "INSERT INTO scopes(hash, body, schema_url) VALUES(?1, ?2, ?3)",
    [ST_SCOPE_GET] = "SELECT body, schema_url FROM scopes WHERE id = ?1",
    [ST_OP_FIND] = "SELECT id FROM operations WHERE service = ?1 AND name = ?2 AND kind = ?3",
    [ST_OP_ADD] = "INSERT INTO operations(service, name, kind) VALUES(?1, ?2, ?3)",
    [ST_TRACE_FIND] = "SELECT id, start_ns, end_ns, root_name, root_service, span_count, "
                      "error_count FROM traces WHERE trace_id = ?1",
    [ST_TRACE_ADD] = "INSERT INTO traces(trace_id, start_ns, end_ns, root_name, root_service, "
                     "span_count, error_count) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_TRACE_UPDATE] = "UPDATE traces SET start_ns = ?2, end_ns = ?3, root_name = ?4, "
                        "root_service = ?5, span_count = ?6, error_count = ?7 WHERE id = ?1",
    [ST_SPAN_ADD] = "INSERT INTO spans(trace, span_id, parent_id, op, resource, scope, status, "
                    "start_ns, duration_ns, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_TRACE_SPANS] =
        "SELECT body, resource, scope FROM spans WHERE trace = ?1 ORDER BY start_ns, id",
    [ST_OPMIN_GET] = "SELECT count, errors, hist FROM op_minutes WHERE op = ?1 AND minute = ?2",
    [ST_OPMIN_PUT] = "INSERT OR REPLACE INTO op_minutes(op, minute, count, errors, hist) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_EDGE_GET] = "SELECT count, errors, hist FROM edge_minutes WHERE parent = ?1 AND child = ?2 "
                    "AND minute = ?3",
    [ST_EDGE_PUT] = "INSERT OR REPLACE INTO edge_minutes(parent, child, minute, count, errors, "
                    "hist) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
};

/* The statements a read-only connection may prepare. */
static bool stmt_reads(enum vw_stmt i)
{
    return i == ST_RES_GET || i == ST_SCOPE_GET || i == ST_TRACE_FIND || i == ST_TRACE_SPANS;
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
    if (version == 1 && !s->read_only) {
        /* Version 1 lost the schema URLs: the rows it has keep none, new ones get theirs. */
        char sql[160];
        snprintf(sql, sizeof sql,
                 "ALTER TABLE resources ADD COLUMN schema_url TEXT;"
                 "ALTER TABLE scopes ADD COLUMN schema_url TEXT; PRAGMA user_version = %d;",
                 SCHEMA_VERSION);
        if (exec(s, sql) < 0) {
            vw__store_error(s, err, err_size, "upgrading the store");
            return -1;
        }
        return 0;
    }
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
 * the store's size); mmap stays off for the same reason.
 */
static int configure(vw_store *s)
{
    sqlite3_busy_timeout(s->db, 5000);
    if (exec(s, "PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;"
                "PRAGMA cache_size = -16384; PRAGMA mmap_size = 0;") < 0)
        return -1;
    if (s->read_only || s->memory) return 0;
    return exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
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
    s->trace_entries = calloc(VW_TRACE_CACHE, sizeof *s->trace_entries);
    s->service_names = calloc(VW_SERVICES_MAX, sizeof *s->service_names);
    return s->pending && s->trace_entries && s->service_names &&
           vw_u64map_init(&s->resources, 4096) && vw_u64map_init(&s->scopes, 4096) &&
           vw_u64map_init(&s->ops, 65536) && vw_u64map_init(&s->op_service, 65536) &&
           vw_u64map_init(&s->services, VW_SERVICES_MAX) &&
           vw_u64map_init(&s->traces, VW_TRACE_CACHE) &&
           vw_u64map_init(&s->recent[0], VW_RECENT_SPANS) &&
           vw_u64map_init(&s->recent[1], VW_RECENT_SPANS) &&
           vw_u64map_init(&s->pending_heads, VW_PENDING_CHILDREN) &&
           vw_u64map_init(&s->op_agg.index, 4096) && vw_u64map_init(&s->edge_agg.index, 4096);
}

static int load_counts(vw_store *s)
{
    int64_t spans = 0, traces = 0;
    if (pragma_int(s, "SELECT count(*) FROM spans", &spans) < 0 ||
        pragma_int(s, "SELECT count(*) FROM traces", &traces) < 0)
        return -1;
    s->counts.spans = (uint64_t)spans;
    s->counts.traces = (uint64_t)traces;
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
    if (prepare_all(s) < 0 || load_counts(s) < 0) {
        vw__store_error(s, err, err_size, o->path);
        vw_store_close(s);
        return -1;
    }
    if (!s->read_only && !caches_init(s)) {
        set_error(err, err_size, "out of memory");
        vw_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

static void clear_trace_cache(vw_store *s)
{
    for (size_t i = 0; i < s->trace_count; i++) {
        free(s->trace_entries[i].root_name);
        free(s->trace_entries[i].root_service);
    }
    s->trace_count = 0;
    vw_u64map_clear(&s->traces);
}

/* Forget every cached row: after a failed transaction, or when a cache is full. */
static void reset_caches(vw_store *s)
{
    clear_trace_cache(s);
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
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    if (s->trace_entries) reset_caches(s);
    free(s->trace_entries);
    free(s->service_names);
    free(s->pending);
    vw_u64map *maps[] = {&s->resources,  &s->scopes,    &s->ops,
                         &s->op_service, &s->services,  &s->traces,
                         &s->recent[0],  &s->recent[1], &s->pending_heads};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) vw_u64map_free(maps[i]);
    vw__agg_free(&s->op_agg);
    vw__agg_free(&s->edge_agg);
    otelc__buf_free(&s->enc);
    free(s->path);
    free(s);
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

/* service.name of a resource, as every backend defaults it when absent. */
static const char *service_of(const otelc_resource *res)
{
    const otelc_value *v = res ? otelc_resource_get(res, "service.name") : NULL;
    return v && v->type == OTELC_VALUE_STRING && v->u.str.len ? v->u.str.ptr : "unknown_service";
}

/* The writer's index of a service name (for the service graph), or UINT32_MAX when full. */
static uint32_t service_index(vw_store *s, const char *service)
{
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, service, strlen(service));
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
    uint64_t h = otelc__fnv1a(OTELC_FNV_OFFSET, service, strlen(service) + 1);
    h = otelc__fnv1a(h, name, strlen(name) + 1);
    h = otelc__fnv1a(h, &kind, sizeof kind);
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

/* ---- Traces -------------------------------------------------------------------------------- */

static uint64_t trace_hash(const uint8_t id[16])
{
    return otelc__fnv1a(OTELC_FNV_OFFSET, id, 16);
}

static char *dup_column(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

/* Write a dirty cached trace back to its row. */
static int trace_update(vw_store *s, vw_trace_entry *e)
{
    sqlite3_stmt *st = s->st[ST_TRACE_UPDATE];
    sqlite3_bind_int64(st, 1, e->row);
    sqlite3_bind_int64(st, 2, (int64_t)e->start_ns);
    sqlite3_bind_int64(st, 3, (int64_t)e->end_ns);
    vw__bind_text(st, 4, e->root_name);
    vw__bind_text(st, 5, e->root_service);
    sqlite3_bind_int64(st, 6, e->span_count);
    sqlite3_bind_int64(st, 7, e->error_count);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    e->dirty = false;
    return rc == SQLITE_DONE ? 0 : -1;
}

static int flush_traces(vw_store *s)
{
    for (size_t i = 0; i < s->trace_count; i++)
        if (s->trace_entries[i].dirty && trace_update(s, &s->trace_entries[i]) < 0) return -1;
    return 0;
}

/* Load a trace's row into e, or insert one for the span sd. */
static int trace_load_or_add(vw_store *s, vw_trace_entry *e, const otelc_span_data *sd)
{
    sqlite3_stmt *st = s->st[ST_TRACE_FIND];
    sqlite3_bind_blob(st, 1, e->trace_id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        e->row = sqlite3_column_int64(st, 0);
        e->start_ns = (uint64_t)sqlite3_column_int64(st, 1);
        e->end_ns = (uint64_t)sqlite3_column_int64(st, 2);
        e->root_name = dup_column(st, 3);
        e->root_service = dup_column(st, 4);
        e->span_count = (uint32_t)sqlite3_column_int64(st, 5);
        e->error_count = (uint32_t)sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc != SQLITE_DONE) return -1;
    st = s->st[ST_TRACE_ADD];
    sqlite3_bind_blob(st, 1, e->trace_id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)sd->start_ns);
    sqlite3_bind_int64(st, 3, (int64_t)sd->end_ns);
    sqlite3_bind_null(st, 4);
    sqlite3_bind_null(st, 5);
    sqlite3_bind_int(st, 6, 0);
    sqlite3_bind_int(st, 7, 0);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return -1;
    e->row = sqlite3_last_insert_rowid(s->db);
    e->start_ns = sd->start_ns;
    e->end_ns = sd->end_ns;
    s->counts.traces++;
    return 0;
}

/* The cached entry of sd's trace (loaded or created); NULL on error. */
static vw_trace_entry *trace_entry(vw_store *s, const otelc_span_data *sd)
{
    uint64_t h = trace_hash(sd->context.trace_id);
    for (;;) {
        bool added;
        uint64_t *slot = vw_u64map_put(&s->traces, h, &added);
        if (slot && !added) {
            vw_trace_entry *e = &s->trace_entries[*slot - 1];
            if (memcmp(e->trace_id, sd->context.trace_id, 16) == 0) return e;
            /* Another trace with the same hash: write it back and let this one take the entry. */
            if (e->dirty && trace_update(s, e) < 0) return NULL;
            free(e->root_name);
            free(e->root_service);
            memset(e, 0, sizeof *e);
            memcpy(e->trace_id, sd->context.trace_id, 16);
            return trace_load_or_add(s, e, sd) == 0 ? e : NULL;
        }
        if (slot && s->trace_count < VW_TRACE_CACHE) {
            vw_trace_entry *e = &s->trace_entries[s->trace_count++];
            *slot = s->trace_count;
            memset(e, 0, sizeof *e);
            memcpy(e->trace_id, sd->context.trace_id, 16);
            return trace_load_or_add(s, e, sd) == 0 ? e : NULL;
        }
        /* Full: write every entry back and start over. */
        if (flush_traces(s) < 0) return NULL;
        clear_trace_cache(s);
    }
}

static void trace_add_span(vw_trace_entry *e, const otelc_span_data *sd, const char *service)
{
    if (sd->start_ns < e->start_ns) e->start_ns = sd->start_ns;
    if (sd->end_ns > e->end_ns) e->end_ns = sd->end_ns;
    e->span_count++;
    if (sd->status == OTELC_STATUS_ERROR) e->error_count++;
    if (!sd->has_parent && !e->root_name) {
        e->root_name = strdup(sd->name ? sd->name : "");
        e->root_service = strdup(service);
    }
    e->dirty = true;
}

/* ---- The service graph's edges ------------------------------------------------------------- */

static uint64_t span_identity(const uint8_t trace_id[16], const uint8_t span_id[8])
{
    return otelc__fnv1a(otelc__fnv1a(OTELC_FNV_OFFSET, trace_id, 16), span_id, 8);
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

/* ---- Writing -------------------------------------------------------------------------------- */

static int64_t id_as_int(const uint8_t id[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | id[i];
    return (int64_t)v;
}

/* What a batch's resource became: its row and service. */
typedef struct resource_row {
    const otelc_resource *res;
    int64_t row;
    const char *service;
} resource_row;

static int resource_rows(vw_store *s, const vw_batch *b, resource_row *rows)
{
    for (size_t i = 0; i < b->resource_count; i++) {
        rows[i].res = b->resources[i];
        rows[i].service = service_of(b->resources[i]);
        otelc__buf_reset(&s->enc);
        if (otelc__otlp_encode_resource(&s->enc, b->resources[i]) != OTELC_OK) return -1;
        rows[i].row = message_row(s, &s->resources, ST_RES_FIND, ST_RES_ADD, rows[i].service,
                                  otelc_resource_schema_url(b->resources[i]));
        if (rows[i].row < 0) return -1;
    }
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

static int insert_span(vw_store *s, const otelc_span_data *sd, int64_t trace, int64_t op,
                       int64_t resource, int64_t scope, uint64_t duration)
{
    otelc__buf_reset(&s->enc);
    if (otelc__otlp_encode_span(&s->enc, sd) != OTELC_OK) return -1;
    sqlite3_stmt *st = s->st[ST_SPAN_ADD];
    sqlite3_bind_int64(st, 1, trace);
    sqlite3_bind_int64(st, 2, id_as_int(sd->context.span_id));
    if (sd->has_parent)
        sqlite3_bind_int64(st, 3, id_as_int(sd->parent_span_id));
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, op);
    sqlite3_bind_int64(st, 5, resource);
    sqlite3_bind_int64(st, 6, scope);
    sqlite3_bind_int(st, 7, (int)sd->status);
    sqlite3_bind_int64(st, 8, (int64_t)sd->start_ns);
    sqlite3_bind_int64(st, 9, (int64_t)duration);
    sqlite3_bind_blob(st, 10, s->enc.data, (int)s->enc.len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

#define NS_PER_MINUTE 60000000000ULL

static int write_span(vw_store *s, const otelc_span_data *sd, const resource_row *res,
                      int64_t scope)
{
    const char *name = sd->name ? sd->name : "";
    int64_t op = op_row(s, res->service, name, (int)sd->kind);
    vw_trace_entry *trace = op < 0 ? NULL : trace_entry(s, sd);
    if (!trace) return -1;
    uint64_t duration = sd->end_ns > sd->start_ns ? sd->end_ns - sd->start_ns : 0;
    if (insert_span(s, sd, trace->row, op, res->row, scope, duration) < 0) return -1;
    trace_add_span(trace, sd, res->service);
    s->counts.spans++;
    int64_t minute = (int64_t)(sd->start_ns / NS_PER_MINUTE);
    bool error = sd->status == OTELC_STATUS_ERROR;
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
        if (!res) {
            rc = -1; /* every decoder gives each span one of the batch's resources */
            break;
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
    if (rc == 0) rc = flush_traces(s);
    if (rc == 0) rc = vw__agg_flush(s);
    if (rc == 0) rc = exec(s, "COMMIT");
    vw__agg_reset(&s->op_agg);
    vw__agg_reset(&s->edge_agg);
    if (rc == 0) return 0;
    vw__store_error(s, err, err_size, "writing spans");
    exec(s, "ROLLBACK");
    reset_caches(s);
    s->counts = before;
    return -1;
}

/* ---- Retention -------------------------------------------------------------------------- */

/* Delete the traces with rows first..last and their spans; returns the spans removed, or -1. */
static long delete_traces(vw_store *s, int64_t first, int64_t last)
{
    sqlite3_stmt *st;
    long removed = -1;
    const char *sql = "DELETE FROM spans WHERE trace BETWEEN ?1 AND ?2";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    if (sqlite3_step(st) == SQLITE_DONE) removed = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    if (removed < 0) return -1;
    sql = "DELETE FROM traces WHERE id BETWEEN ?1 AND ?2";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    int rc = sqlite3_step(st);
    long traces = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return -1;
    s->counts.spans -= (uint64_t)removed < s->counts.spans ? (uint64_t)removed : s->counts.spans;
    s->counts.traces -= (uint64_t)traces < s->counts.traces ? (uint64_t)traces : s->counts.traces;
    return removed;
}

/*
 * The last trace row of the oldest traces to remove: by arrival while over
 * max_spans, and while they started before the retention cutoff; at most
 * about budget spans. Returns 0 (nothing to do), 1 (*last set) or -1.
 */
static int trim_range(vw_store *s, size_t budget, uint64_t cutoff_ns, int64_t *first, int64_t *last,
                      bool *more)
{
    uint64_t excess =
        s->max_spans && s->counts.spans > s->max_spans ? s->counts.spans - s->max_spans : 0;
    sqlite3_stmt *st;
    const char *sql = "SELECT id, span_count, start_ns FROM traces ORDER BY id";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    uint64_t taken = 0;
    int found = 0;
    *more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t spans = (uint64_t)sqlite3_column_int64(st, 1);
        bool old = cutoff_ns && (uint64_t)sqlite3_column_int64(st, 2) < cutoff_ns;
        if (taken >= excess && !old) break;
        if (taken && taken + spans > budget) {
            *more = true;
            break;
        }
        if (!found) *first = sqlite3_column_int64(st, 0);
        *last = sqlite3_column_int64(st, 0);
        taken += spans;
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

long vw_store_trim(vw_store *s, size_t budget, bool *more)
{
    *more = false;
    if (s->read_only || (!s->max_spans && !s->retention_ns)) return 0;
    uint64_t now = otelc__now_ns();
    uint64_t cutoff = s->retention_ns && now > s->retention_ns ? now - s->retention_ns : 0;
    int64_t first = 0, last = 0;
    if (exec(s, "BEGIN IMMEDIATE") < 0) return -1;
    int found = trim_range(s, budget, cutoff, &first, &last, more);
    long removed = found > 0 ? delete_traces(s, first, last) : found;
    if (removed >= 0 && cutoff) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "DELETE FROM op_minutes WHERE minute < %lld; DELETE FROM edge_minutes WHERE "
                 "minute < %lld",
                 (long long)(cutoff / NS_PER_MINUTE), (long long)(cutoff / NS_PER_MINUTE));
        if (exec(s, sql) < 0) removed = -1;
    }
    if (removed < 0 || exec(s, "COMMIT") < 0) {
        exec(s, "ROLLBACK");
        reset_caches(s);
        load_counts(s);
        return -1;
    }
    /* Cached traces may be gone: a later span of one must make a new row. */
    if (removed > 0) clear_trace_cache(s);
    return removed;
}

int vw_store_counts_get(vw_store *s, vw_store_counts *out)
{
    if (s->read_only && load_counts(s) < 0) return -1;
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
