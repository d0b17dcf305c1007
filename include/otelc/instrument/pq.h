/*
 * otelc/instrument/pq.h - CLIENT spans for PostgreSQL calls made with
 * libpq (link libotelc-pq).
 *
 * Each wrapper takes the arguments of the libpq function it is named
 * after, calls it and returns what it returned, so instrumenting is a
 * rename: PQexec -> otelc_PQexec. Spans follow the database semantic
 * conventions: db.system.name "postgresql", db.namespace (PQdb: the
 * database given at connect time; the schema would need an extra query),
 * server.address (PQhost: a host name, an address or the Unix socket
 * directory) and server.port, db.query.text (literals replaced by '?';
 * text with $n placeholders sent through the parameter APIs is kept as
 * written), db.query.summary as the span name, db.operation.name and
 * db.collection.name when a single one is evident, and
 * db.response.returned_rows for results with rows. A failed call gets
 * db.response.status_code and error.type set to the SQLSTATE and ERROR
 * status described as "SQLSTATE xxxxx": the server's message is left out
 * because it may quote values from the query. Spans are children of the
 * calling thread's current context, from the tracer
 * "otelc.instrument.pq".
 *
 * Asynchronous calls (otelc_PQsend*) start a span that ends when the
 * results are consumed with otelc_PQgetResult(): at the NULL that ends a
 * query's results. Queries sent in pipeline mode are matched in order.
 * Per-connection state lives in a small thread-safe table keyed by the
 * PGconn pointer; otelc_PQfinish() (or otelc_pq_forget() before a plain
 * PQfinish) releases it and ends spans still open.
 */
#ifndef OTELC_INSTRUMENT_PQ_H
#define OTELC_INSTRUMENT_PQ_H

#include <libpq-fe.h>

#ifdef __cplusplus
extern "C" {
#endif

/* PQexec in a span. */
PGresult *otelc_PQexec(PGconn *conn, const char *query);

/* PQexecParams in a span; the parameter values are never recorded. */
PGresult *otelc_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths,
                             const int *paramFormats, int resultFormat);

/*
 * PQprepare in a span named "PREPARE" (db.operation.name "PREPARE"). The
 * statement's text is remembered under stmtName for this connection, so
 * that executions of it are described by their query.
 */
PGresult *otelc_PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                          const Oid *paramTypes);

/*
 * PQexecPrepared in a span described by the text given to
 * otelc_PQprepare() for stmtName; a statement prepared otherwise (SQL
 * PREPARE, plain PQprepare) gives a span named "EXECUTE".
 */
PGresult *otelc_PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
                               const char *const *paramValues, const int *paramLengths,
                               const int *paramFormats, int resultFormat);

/* PQsendQuery; the span ends when otelc_PQgetResult() returns the query's final NULL. */
int otelc_PQsendQuery(PGconn *conn, const char *query);

/* PQsendQueryParams; the span ends as for otelc_PQsendQuery(). */
int otelc_PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                            const char *const *paramValues, const int *paramLengths,
                            const int *paramFormats, int resultFormat);

/* PQsendPrepare; remembers the text as otelc_PQprepare() does. */
int otelc_PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                        const Oid *paramTypes);

/* PQsendQueryPrepared; the span is described as for otelc_PQexecPrepared(). */
int otelc_PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
                              const char *const *paramValues, const int *paramLengths,
                              const int *paramFormats, int resultFormat);

/*
 * PQgetResult, noting each result (rows, errors) on the oldest open span
 * of the connection and ending that span at the NULL that closes its
 * results. Use it instead of PQgetResult for connections that had
 * otelc_PQsend* calls.
 */
PGresult *otelc_PQgetResult(PGconn *conn);

/* End the connection's open spans (unfinished: ERROR) and forget its state. */
void otelc_pq_forget(PGconn *conn);

/* otelc_pq_forget(conn), then PQfinish(conn). */
void otelc_PQfinish(PGconn *conn);

#ifdef __cplusplus
}
#endif
#endif
