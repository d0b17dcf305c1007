/*
 * sqlite_app.c - a SQLite program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): a database file
 * opened with sqlite3_open_v2, a table, a statement with a bound
 * parameter, and a query whose rows it prints.
 *
 * usage: sqlite_app FILE
 */
#include <stdio.h>

#include <sqlite3.h>

int main(int argc, char **argv)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    if (argc != 2) return 2;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        return 2;
    if (sqlite3_exec(db,
                     "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
                     "INSERT INTO users VALUES (1, 'alice')",
                     NULL, NULL, NULL) != SQLITE_OK)
        return 2;
    if (sqlite3_prepare_v2(db, "INSERT INTO users (name) VALUES (?1)", -1, &st, NULL) != SQLITE_OK)
        return 2;
    sqlite3_bind_text(st, 1, "SecretBob", -1, SQLITE_STATIC);
    printf("insert: %d\n", sqlite3_step(st));
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT name FROM users WHERE id > 0 ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        return 2;
    while (sqlite3_step(st) == SQLITE_ROW) printf("row: %s\n", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
