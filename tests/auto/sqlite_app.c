/*
 * sqlite_app.c - a SQLite program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): a database file
 * opened with sqlite3_open_v2, a table, a statement with a bound
 * parameter, and a query whose rows it prints. With a second file, it then
 * forks and the child does the same with that file (a child of a traced
 * process traces its own calls). With "term" after it, the child then
 * waits to be ended by a signal: the parent prints "child PID" once the
 * child's calls are done, and exits 0 when the child died of SIGTERM.
 *
 * usage: sqlite_app FILE [CHILD-FILE [term]]
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int status, ready[2];
    bool term = argc == 4 && strcmp(argv[3], "term") == 0;
    if (argc < 2 || argc > 4 || (argc == 4 && !term)) return 2;
    if (run(argv[1]) != 0) return 2;
    if (argc == 2) return 0;
    fflush(stdout); /* or the child would print the parent's buffered lines again */
    if (term && pipe(ready) != 0) return 2;
    pid_t child = fork();
    if (child == 0 && !term) exit(run(argv[2]));
    if (child == 0) {
        char c = (char)run(argv[2]);
        if (write(ready[1], &c, 1) != 1) exit(2);
        for (;;) pause(); /* until a signal ends it */
    }
    if (child < 0) return 2;
    if (term) {
        char c;
        if (read(ready[0], &c, 1) != 1 || c != 0) return 2;
        printf("child %ld\n", (long)child);
        fflush(stdout);
    }
    if (waitpid(child, &status, 0) != child) return 2;
    if (term) return WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : 2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
