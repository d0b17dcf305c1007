/*
 * sqlite.c - a span per SQLite statement execution through
 * sqlite3_trace_v2: SQLITE_TRACE_STMT starts it, SQLITE_TRACE_ROW counts
 * rows, SQLITE_TRACE_PROFILE ends it as the run ends, and
 * SQLITE_TRACE_CLOSE frees the connection's state.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn_state.h"
#include "sqlite_calls.h"
#include "otelc/instrument/db.h"
#include "otelc/instrument/sqlite.h"
#include "otelc/otelc.h"

/* One execution in progress: several may overlap (interleaved or nested statements). */
typedef struct running {
    sqlite3_stmt *stmt;
    otelc_span *span;
    int64_t rows;
    bool returns_rows;
    struct running *next;
} running;

/* A connection's state; base.handle is the sqlite3 *. */
typedef struct db_state {
    conn_base base;
    running *open;
} db_state;

/* Its lock guards every db_state too: callbacks are short, and a connection is rarely shared. */
static conn_registry states = CONN_REGISTRY_INIT;

static db_state *find_state(const sqlite3 *db, bool create)
{
    return conn_state(&states, db, sizeof(db_state), create);
}

static otelc_tracer *sqlite_tracer(void)
{
    return otelc_tracer_get("otelc.instrument.sqlite", OTELC_VERSION);
}

static running **find_running(db_state *s, const sqlite3_stmt *stmt)
{
    running **pp = &s->open;
    while (*pp && (*pp)->stmt != stmt) pp = &(*pp)->next;
    return pp;
}

/* Unlink the execution of stmt, or NULL. Call with the registry locked. */
static running *take_running(db_state *s, const sqlite3_stmt *stmt)
{
    running **pp = find_running(s, stmt);
    running *r = *pp;
    if (r) *pp = r->next;
    return r;
}

static void finish(running *r)
{
    /* The statement may be finalized by now: only what was noted at the start is used. */
    if (r->returns_rows) otelc_span_set_int(r->span, "db.response.returned_rows", r->rows);
    otelc_span_end(r->span);
    free(r);
}

static otelc_span *start_span(sqlite3 *db, sqlite3_stmt *stmt)
{
    const char *file = SQLITE(sqlite3_db_filename)(db, "main");
    otelc_db_call call = {
        .system = "sqlite",
        .db_namespace = file && *file ? file : NULL,
        .query = SQLITE(sqlite3_sql)(stmt),
        .query_len = SIZE_MAX,
        .parameterized = true, /* placeholders mean values are bound, not written */
    };
    return otelc_db_span_start(sqlite_tracer(), &call, NULL, 0);
}

/*
 * True when a STMT event starts a run of a statement of its own. SQLite
 * reports a statement run from inside another one as "-- " and its text,
 * and a trigger starting as "-- TRIGGER name": part of the running one.
 */
static bool starts_a_run(sqlite3_stmt *stmt, const char *text)
{
    const char *sql = SQLITE(sqlite3_sql)(stmt);
    if (!sql || !text) return false;
    return strcmp(sql, text) == 0 || (strncmp(text, "-- ", 3) == 0 && strcmp(text + 3, sql) == 0);
}

/*
 * The run a STMT event starts, span started, or NULL. Called before the
 * registry is locked: starting a span runs the sampler and the processors'
 * on_start, which may take their time, or even run SQL on a traced
 * connection themselves.
 */
static running *new_run(sqlite3 *db, sqlite3_stmt *stmt, const char *text)
{
    if (!starts_a_run(stmt, text)) return NULL;
    running *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->stmt = stmt;
    r->returns_rows = SQLITE(sqlite3_column_count)(stmt) > 0;
    r->span = start_span(db, stmt);
    return r;
}

/* Register run r; returns an earlier run of its statement left open, to end. */
static running *on_stmt(db_state *s, running *r)
{
    /* Run again without a PROFILE in between (reset early): the earlier run is over. */
    running *stale = take_running(s, r->stmt);
    r->next = s->open;
    s->open = r;
    return stale;
}

static void on_row(db_state *s, const sqlite3_stmt *stmt)
{
    running *r = *find_running(s, stmt);
    if (r) r->rows++;
}

static void free_state(db_state *s)
{
    while (s->open) {
        running *r = s->open;
        s->open = r->next;
        finish(r);
    }
    free(s);
}

/*
 * The callback's context is the connection, looked up on every event: with
 * sqlite3_close_v2() CLOSE comes before the last statements are finalized,
 * and their later events must find nothing rather than freed state. Spans
 * end outside the lock: ending one may export it.
 */
static int trace_cb(unsigned type, void *ctx, void *p, void *x)
{
    db_state *s, *closed = NULL;
    running *done = NULL, *fresh = type == SQLITE_TRACE_STMT ? new_run(ctx, p, x) : NULL;
    fork_lock(&states.lock);
    s = find_state(ctx, false);
    if (!s) type = 0;
    switch (type) {
    case SQLITE_TRACE_STMT:
        if (fresh) done = on_stmt(s, fresh);
        fresh = NULL;
        break;
    case SQLITE_TRACE_ROW:
        on_row(s, p);
        break;
    case SQLITE_TRACE_PROFILE:
        /*
         * The event comes as the run ends. Its own figure (x) has millisecond
         * resolution with the default VFS clock: the span ends now instead.
         */
        done = take_running(s, p);
        break;
    case SQLITE_TRACE_CLOSE:
        closed = conn_unlink(&states, ctx);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&states.lock);
    if (fresh) finish(fresh); /* its connection stopped being traced meanwhile */
    if (done) finish(done);
    if (closed) free_state(closed);
    return 0;
}

/*
 * The state is registered under the registry's lock, but sqlite3_trace_v2()
 * is called after releasing it: it takes the connection's mutex, and
 * trace_cb takes the registry's lock while SQLite holds that mutex, so
 * holding both here would invert the lock order.
 */
int otelc_sqlite_instrument(sqlite3 *db)
{
    if (!db) return SQLITE_MISUSE;
    fork_lock(&states.lock);
    bool fresh = find_state(db, false) == NULL;
    db_state *s = find_state(db, true);
    pthread_mutex_unlock(&states.lock);
    if (!s) return SQLITE_NOMEM;
    if (!fresh) return SQLITE_OK;
    int rc = SQLITE(sqlite3_trace_v2)(
        db, SQLITE_TRACE_STMT | SQLITE_TRACE_ROW | SQLITE_TRACE_PROFILE | SQLITE_TRACE_CLOSE,
        trace_cb, db);
    if (rc != SQLITE_OK) {
        db_state *gone = conn_detach(&states, db);
        if (gone) free_state(gone);
    }
    return rc;
}
