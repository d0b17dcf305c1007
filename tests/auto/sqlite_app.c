/*
 * sqlite_app.c - a SQLite program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): a database file
 * opened with sqlite3_open_v2, a table, a statement with a bound
 * parameter, and a query whose rows it prints. With a second file, it then
 * forks and the child does the same with that file (a child of a traced
 * process traces its own calls).
 *
 * usage: sqlite_app FILE [CHILD-FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

static int run(const char *file)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
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

int main(int argc, char **argv)
{
    int status;
    if (argc < 2 || argc > 3) return 2;
    if (run(argv[1]) != 0) return 2;
    if (argc == 2) return 0;
    fflush(stdout); /* or the child would print the parent's buffered lines again */
    pid_t child = fork();
    if (child == 0) exit(run(argv[2]));
    if (child < 0 || waitpid(child, &status, 0) != child) return 2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
