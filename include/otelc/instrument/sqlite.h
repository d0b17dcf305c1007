/*
 * otelc/instrument/sqlite.h - CLIENT spans for every SQL statement a
 * SQLite connection runs (link libotelc-sqlite).
 *
 * One call per connection, no change to the application's calls:
 *
 *   sqlite3_open("app.db", &db);
 *   otelc_sqlite_instrument(db);
 *
 * Each statement execution (from its first sqlite3_step to the end of its
 * run or its reset) is a span with db.system.name "sqlite", db.namespace
 * (the main database file name; left out for in-memory databases),
 * db.query.text from sqlite3_sql() - the text as prepared, never the
 * expanded text with bound values - with literals replaced by '?' unless
 * the statement uses parameters, db.query.summary as span name,
 * db.operation.name / db.collection.name when a single one is evident, and
 * db.response.returned_rows for statements that return columns. The span
 * runs from the first sqlite3_step() to the end of the run as SQLite's
 * profile event reports it (timed by the SDK's clock: SQLite's own figure
 * has only millisecond resolution with the default VFS). Trigger programs run inside their
 * statement's span; statements run from inside another statement (by an
 * application-defined SQL function) get spans of their own, children of the
 * thread's current context like every other. SQLite reports a statement's
 * error to the caller only after its trace callbacks have run, so these
 * spans carry no error status. Spans come from the tracer
 * "otelc.instrument.sqlite"; they are started outside the library's lock,
 * so a sampler or processor may itself run SQL on a traced connection.
 */
#ifndef OTELC_INSTRUMENT_SQLITE_H
#define OTELC_INSTRUMENT_SQLITE_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Trace every statement of db from now on by installing a
 * sqlite3_trace_v2() callback (which replaces any trace callback set
 * before; do not set another one afterwards). Calling it again for the same
 * connection does nothing. Per-connection state is freed, and spans still
 * open are ended, when the connection closes. Returns SQLITE_OK,
 * SQLITE_MISUSE for a NULL db or SQLITE_NOMEM.
 */
int otelc_sqlite_instrument(sqlite3 *db);

#ifdef __cplusplus
}
#endif
#endif
