/*
 * A program using an installed instrumentation library, libotelc-sqlite
 * (pkg-config otelc-sqlite): one statement on an in-memory database, which
 * must come out as a span whose db.query.text has its literal replaced by '?'.
 */
#include <stdio.h>

#include <otelc/instrument/sqlite.h>
#include <otelc/otelc.h>

int main(void)
{
    sqlite3 *db = NULL;
    if (otelc_init(NULL) != OTELC_OK) return 3;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 4;
    if (otelc_sqlite_instrument(db) != SQLITE_OK) return 5;
    char *err = NULL;
    if (sqlite3_exec(db, "SELECT 42", NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "sqlite consumer: %s\n", err);
        sqlite3_free(err);
        return 6;
    }
    sqlite3_close(db);
    otelc_shutdown();
    return 0;
}
