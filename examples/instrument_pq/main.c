/*
 * examples/instrument_pq - PostgreSQL queries traced with libotelc-pq.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_instrument_pq "dbname=postgres host=/tmp"
 *
 * Each query becomes a CLIENT span under the "report" span; the literal in
 * the first query shows up as '?' in db.query.text.
 */
#include <stdio.h>

#include "otelc/instrument/pq.h"
#include "otelc/otelc.h"

int main(int argc, char **argv)
{
    const char *conninfo = argc > 1 ? argv[1] : "dbname=postgres";
    otelc_init(NULL);
    otelc_tracer *tracer = otelc_tracer_get("example.pq", NULL);
    otelc_span *report = otelc_span_start(tracer, "report", OTELC_SPAN_INTERNAL);
    otelc_scope scope = otelc_span_activate(report);

    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(conn));
    } else {
        PQclear(otelc_PQexec(conn, "SELECT datname FROM pg_database WHERE datname <> 'template0'"));
        const char *values[] = {"postgres"};
        PGresult *r = otelc_PQexecParams(conn, "SELECT oid FROM pg_database WHERE datname = $1", 1,
                                         NULL, values, NULL, NULL, 0);
        printf("rows: %d\n", PQntuples(r));
        PQclear(r);
    }
    otelc_PQfinish(conn);

    otelc_scope_exit(scope);
    otelc_span_end(report);
    otelc_shutdown();
    return 0;
}
