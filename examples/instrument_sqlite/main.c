/*
 * examples/instrument_sqlite - SQLite statements traced with
 * libotelc-sqlite: one call after sqlite3_open, nothing else changes.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_instrument_sqlite /tmp/example.db
 */
#include <stdio.h>

#include "otelc/instrument/sqlite.h"
#include "otelc/otelc.h"

int main(int argc, char **argv)
{
    sqlite3 *db;
    otelc_init(NULL);
    if (sqlite3_open(argc > 1 ? argv[1] : ":memory:", &db) != SQLITE_OK) return 1;
    otelc_sqlite_instrument(db);

    otelc_tracer *tracer = otelc_tracer_get("example.sqlite", NULL);
    otelc_span *job = otelc_span_start(tracer, "import", OTELC_SPAN_INTERNAL);
    otelc_scope scope = otelc_span_activate(job);
    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)", NULL,
                 NULL, NULL);
    sqlite3_exec(db, "INSERT INTO notes (body) VALUES ('written as ? in the trace')", NULL, NULL,
                 NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM notes", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW) printf("notes: %d\n", sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    otelc_scope_exit(scope);
    otelc_span_end(job);

    sqlite3_close(db);
    otelc_shutdown();
    return 0;
}
