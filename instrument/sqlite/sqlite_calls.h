/*
 * sqlite_calls.h - the functions sqlite.c calls in the library it
 * instruments: directly in libotelc-sqlite, through libotelc-auto's table
 * of real functions there (see real_call.h).
 */
#ifndef OTELC_INSTRUMENT_SQLITE_CALLS_H
#define OTELC_INSTRUMENT_SQLITE_CALLS_H

#include <sqlite3.h>

#include "real_call.h"

/* clang-format off */
#define SQLITE_CALLS(X) \
    X(sqlite3_close_v2) \
    X(sqlite3_column_count) \
    X(sqlite3_db_filename) \
    X(sqlite3_sql) \
    X(sqlite3_trace_v2)
/* clang-format on */

REAL_CALL_TABLE(sqlite_calls, auto_sqlite, SQLITE_CALLS);

#define SQLITE(f) CALL(auto_sqlite, f)

#endif
