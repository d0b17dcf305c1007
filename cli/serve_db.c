/*
 * serve_db.c - the users table behind GET /users/{id}, in SQLite or
 * PostgreSQL.
 *
 * Every request opens its own connection: a connection per request needs
 * no locking between libmicrohttpd's threads, and each one is instrumented
 * (otelc_sqlite_instrument, or the otelc_PQ* wrappers), so every lookup is
 * a CLIENT span under the request's SERVER span. The table is created and
 * filled at start on a connection that is not instrumented, since that
 * work belongs to no request.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifdef OTELC_SERVE
#include "serve.h"

#ifdef OTELC_SERVE_SQLITE
#include "otelc/instrument/sqlite.h"
#endif
#ifdef OTELC_SERVE_PQ
#include "otelc/instrument/pq.h"
#endif

#define USER_QUERY_SQLITE "SELECT name, email FROM users WHERE id = ?1"
#define USER_QUERY_PQ     "SELECT name, email FROM users WHERE id = $1"

static const char *const demo_users[][2] = {
    {"Ada Lovelace", "ada@example.com"},
    {"Grace Hopper", "grace@example.com"},
    {"Alan Turing", "alan@example.com"},
};

#define DEMO_COUNT (sizeof demo_users / sizeof *demo_users)

static bool is_postgres(const char *db)
{
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* ---- SQLite ------------------------------------------------------------------ */

#ifdef OTELC_SERVE_SQLITE
static int sqlite_fail(sqlite3 *db, const char *what, char *err, size_t err_size)
{
    snprintf(err, err_size, "sqlite %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return -1;
}

static int sqlite_setup(const char *path, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) return sqlite_fail(db, path, err, err_size);
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, email TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_fail(db, "create table", err, err_size);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO users VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
        SQLITE_OK)
        return sqlite_fail(db, "insert", err, err_size);
    for (size_t i = 0; i < DEMO_COUNT; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
        sqlite3_bind_text(st, 2, demo_users[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, demo_users[i][1], -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return sqlite_fail(db, "insert", err, err_size);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

static int sqlite_user(const char *path, long long id, serve_user *u, char *err, size_t err_size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    /*
     * The connection never leaves this thread, so SQLite's per-connection
     * mutex is not needed (SQLITE_OPEN_NOMUTEX). Without it, the sqlite
     * instrumentation's own lock and SQLite's would be taken in both orders
     * (instrumenting versus tracing), which ThreadSanitizer reports.
     */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return sqlite_fail(db, "open", err, err_size);
    otelc_sqlite_instrument(db);
    if (sqlite3_prepare_v2(db, USER_QUERY_SQLITE, -1, &st, NULL) != SQLITE_OK)
        return sqlite_fail(db, "prepare", err, err_size);
    sqlite3_bind_int64(st, 1, id);
    int found = 0, rc;
    /* Step to the end, so the statement's span covers the whole run. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        u->id = id;
        copy_text(u->name, sizeof u->name, (const char *)sqlite3_column_text(st, 0));
        copy_text(u->email, sizeof u->email, (const char *)sqlite3_column_text(st, 1));
        found = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return sqlite_fail(db, "query", err, err_size);
    sqlite3_close(db);
    return found;
}
#endif

/* ---- PostgreSQL ---------------------------------------------------------------- */

#ifdef OTELC_SERVE_PQ
/* A connection, or NULL with the reason in err. */
static PGconn *pq_connect(const char *uri, char *err, size_t err_size)
{
    PGconn *c = PQconnectdb(uri);
    if (c && PQstatus(c) == CONNECTION_OK) return c;
    snprintf(err, err_size, "postgresql: %s", c ? PQerrorMessage(c) : "out of memory");
    err[strcspn(err, "\n")] = '\0';
    PQfinish(c);
    return NULL;
}

static bool pq_ok(PGresult *res, char *err, size_t err_size)
{
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return true;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(err, err_size, "postgresql: query failed (SQLSTATE %s)", state ? state : "?");
    return false;
}

static int pq_setup(const char *uri, char *err, size_t err_size)
{
    PGconn *c = pq_connect(uri, err, err_size);
    if (!c) return -1;
    PGresult *res = PQexec(c, "CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, "
                              "name text NOT NULL, email text NOT NULL)");
    bool ok = pq_ok(res, err, err_size);
    PQclear(res);
    for (size_t i = 0; ok && i < DEMO_COUNT; i++) {
        char id[24];
        snprintf(id, sizeof id, "%zu", i + 1);
        const char *vals[] = {id, demo_users[i][0], demo_users[i][1]};
        res = PQexecParams(c, "INSERT INTO users VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                           3, NULL, vals, NULL, NULL, 0);
        ok = pq_ok(res, err, err_size);
        PQclear(res);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

static int pq_user(const char *uri, long long id, serve_user *u, char *err, size_t err_size)
{
    PGconn *c = pq_connect(uri, err, err_size);
    if (!c) return -1;
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *vals[] = {idtext};
    PGresult *res = otelc_PQexecParams(c, USER_QUERY_PQ, 1, NULL, vals, NULL, NULL, 0);
    int found = pq_ok(res, err, err_size) ? 0 : -1;
    if (found == 0 && PQntuples(res) > 0) {
        u->id = id;
        copy_text(u->name, sizeof u->name, PQgetvalue(res, 0, 0));
        copy_text(u->email, sizeof u->email, PQgetvalue(res, 0, 1));
        found = 1;
    }
    PQclear(res);
    otelc_PQfinish(c);
    return found;
}
#endif

/* ---- Either ---------------------------------------------------------------------- */

int serve_db_setup(serve_config *cfg, char *err, size_t err_size)
{
    if (cfg->db && is_postgres(cfg->db)) {
#ifdef OTELC_SERVE_PQ
        return pq_setup(cfg->db, err, err_size);
#else
        snprintf(err, err_size, "--db postgresql: this otelc was built without libpq");
        return -1;
#endif
    }
    if (cfg->db && strncmp(cfg->db, "sqlite:", 7) != 0) {
        snprintf(err, err_size, "--db expects sqlite:PATH or a postgresql:// URI");
        return -1;
    }
#ifdef OTELC_SERVE_SQLITE
    if (cfg->db && cfg->db[7])
        copy_text(cfg->sqlite_path, sizeof cfg->sqlite_path, cfg->db + 7);
    else
        snprintf(cfg->sqlite_path, sizeof cfg->sqlite_path, "%s/users.db", cfg->tmpdir);
    return sqlite_setup(cfg->sqlite_path, err, err_size);
#else
    /* No database at all: /users/{id} answers 503 and the rest works. */
    if (cfg->db) {
        snprintf(err, err_size, "--db sqlite: this otelc was built without SQLite");
        return -1;
    }
    return 0;
#endif
}

int serve_db_user(const serve_config *cfg, long long id, serve_user *u, char *err, size_t err_size)
{
#ifdef OTELC_SERVE_PQ
    if (cfg->db && is_postgres(cfg->db)) return pq_user(cfg->db, id, u, err, err_size);
#endif
#ifdef OTELC_SERVE_SQLITE
    if (cfg->sqlite_path[0]) return sqlite_user(cfg->sqlite_path, id, u, err, err_size);
#endif
    (void)cfg;
    (void)id;
    (void)u;
    snprintf(err, err_size, "this otelc was built without SQLite or libpq");
    return -1;
}
#endif
