/*
 * pq_app.c - a libpq program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): it runs every
 * kind of call libotelc-auto interposes and prints what it got back.
 * Exits 3, a status the test expects to come through unchanged.
 *
 * usage: pq_app CONNINFO
 */
#include <stdio.h>

#include <libpq-fe.h>

static void show(const char *what, PGresult *r)
{
    printf("%s: %s", what, PQresStatus(PQresultStatus(r)));
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        for (int i = 0; i < PQntuples(r); i++) printf(" %s", PQgetvalue(r, i, 0));
    printf("\n");
    PQclear(r);
}

int main(int argc, char **argv)
{
    const char *values[] = {"1"};
    const char *names[] = {"bob"};
    if (argc != 2) return 2;
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pq_app: %s", PQerrorMessage(conn));
        return 2;
    }
    show("create", PQexec(conn, "CREATE TABLE users (id int PRIMARY KEY, name text)"));
    show("insert", PQexec(conn, "INSERT INTO users VALUES (1, 'alice'), (2, 'SecretBob')"));
    show("update", PQexec(conn, "UPDATE users SET name = 'bob' WHERE id = 2"));
    show("select", PQexec(conn, "SELECT name FROM users WHERE id < 987654321 ORDER BY id"));
    show("params", PQexecParams(conn, "SELECT name FROM users WHERE id = $1", 1, NULL, values, NULL,
                                NULL, 0));
    show("prepare", PQprepare(conn, "by_name", "SELECT id FROM users WHERE name = $1", 1, NULL));
    show("prepared", PQexecPrepared(conn, "by_name", 1, names, NULL, NULL, 0));
    if (PQsendQuery(conn, "SELECT 'AsyncLiteral' FROM users; SELECT 1") != 1) return 2;
    for (PGresult *r; (r = PQgetResult(conn)) != NULL;) show("async", r);
    show("missing", PQexec(conn, "SELECT * FROM no_such_table"));
    PQfinish(conn);
    return 3;
}
