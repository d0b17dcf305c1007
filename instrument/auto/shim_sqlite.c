/*
 * shim_sqlite.c - SQLite's sqlite3_open functions, interposed: every
 * connection they open is handed to the SQLite instrumentation
 * (instrument/sqlite/sqlite.c), whose sqlite3_trace_v2 hook then makes a
 * span of each statement. A program that sets its own trace_v2 callback
 * afterwards replaces the hook, as with the linked library.
 */
#include <sqlite3.h>

#include "auto.h"
#include "otelc/instrument/sqlite.h"
#include "sqlite_calls.h"

sqlite_calls auto_sqlite;

/* clang-format off */
#define SHIM_CALLS(X) \
    X(sqlite3_open) \
    X(sqlite3_open16) \
    X(sqlite3_open_v2)
/* clang-format on */
static struct {
    SHIM_CALLS(REAL_CALL_SLOT)
} real;

#define RESOLVE(f)      &auto_resolve(&auto_sqlite.f, #f)
#define RESOLVE_SHIM(f) &auto_resolve(&real.f, #f)

static bool resolve(void)
{
    return true SQLITE_CALLS(RESOLVE) SHIM_CALLS(RESOLVE_SHIM);
}

/* After an open: trace the connection (a failure to is the instrumentation's, not the program's).
 */
static int opened(int rc, sqlite3 **db)
{
    if (rc == SQLITE_OK && db && *db) otelc_sqlite_instrument(*db);
    auto_end(AUTO_SQLITE);
    return rc;
}

AUTO_EXPORT int sqlite3_open(const char *filename, sqlite3 **db)
{
    if (!auto_begin(AUTO_SQLITE, resolve)) return real.sqlite3_open(filename, db);
    return opened(real.sqlite3_open(filename, db), db);
}

AUTO_EXPORT int sqlite3_open16(const void *filename, sqlite3 **db)
{
    if (!auto_begin(AUTO_SQLITE, resolve)) return real.sqlite3_open16(filename, db);
    return opened(real.sqlite3_open16(filename, db), db);
}

AUTO_EXPORT int sqlite3_open_v2(const char *filename, sqlite3 **db, int flags, const char *vfs)
{
    if (!auto_begin(AUTO_SQLITE, resolve)) return real.sqlite3_open_v2(filename, db, flags, vfs);
    return opened(real.sqlite3_open_v2(filename, db, flags, vfs), db);
}
