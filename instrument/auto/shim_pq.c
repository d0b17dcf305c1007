/*
 * shim_pq.c - libpq's query functions, interposed: each runs the libpq
 * instrumentation's wrapper of the same name (instrument/pq/pq.c), which
 * calls the real function.
 */
#include <libpq-fe.h>

#include "auto.h"
#include "otelc/instrument/pq.h"
#include "pq_calls.h"

pq_calls auto_pq;

#define RESOLVE(f) &auto_resolve(&auto_pq.f, #f)

static bool resolve(void)
{
    return true PQ_CALLS(RESOLVE);
}

AUTO_EXPORT PGresult *PQexec(PGconn *conn, const char *query)
{
    if (!auto_begin(AUTO_PQ, resolve)) return auto_pq.PQexec(conn, query);
    PGresult *res = otelc_PQexec(conn, query);
    auto_end(AUTO_PQ);
    return res;
}

AUTO_EXPORT PGresult *PQexecParams(PGconn *conn, const char *command, int nParams,
                                   const Oid *paramTypes, const char *const *paramValues,
                                   const int *paramLengths, const int *paramFormats,
                                   int resultFormat)
{
    if (!auto_begin(AUTO_PQ, resolve))
        return auto_pq.PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths,
                                    paramFormats, resultFormat);
    PGresult *res = otelc_PQexecParams(conn, command, nParams, paramTypes, paramValues,
                                       paramLengths, paramFormats, resultFormat);
    auto_end(AUTO_PQ);
    return res;
}

AUTO_EXPORT PGresult *PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                                const Oid *paramTypes)
{
    if (!auto_begin(AUTO_PQ, resolve))
        return auto_pq.PQprepare(conn, stmtName, query, nParams, paramTypes);
    PGresult *res = otelc_PQprepare(conn, stmtName, query, nParams, paramTypes);
    auto_end(AUTO_PQ);
    return res;
}

AUTO_EXPORT PGresult *PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
                                     const char *const *paramValues, const int *paramLengths,
                                     const int *paramFormats, int resultFormat)
{
    if (!auto_begin(AUTO_PQ, resolve))
        return auto_pq.PQexecPrepared(conn, stmtName, nParams, paramValues, paramLengths,
                                      paramFormats, resultFormat);
    PGresult *res = otelc_PQexecPrepared(conn, stmtName, nParams, paramValues, paramLengths,
                                         paramFormats, resultFormat);
    auto_end(AUTO_PQ);
    return res;
}

AUTO_EXPORT int PQsendQuery(PGconn *conn, const char *query)
{
    if (!auto_begin(AUTO_PQ, resolve)) return auto_pq.PQsendQuery(conn, query);
    int sent = otelc_PQsendQuery(conn, query);
    auto_end(AUTO_PQ);
    return sent;
}

AUTO_EXPORT int PQsendQueryParams(PGconn *conn, const char *command, int nParams,
                                  const Oid *paramTypes, const char *const *paramValues,
                                  const int *paramLengths, const int *paramFormats,
                                  int resultFormat)
{
    if (!auto_begin(AUTO_PQ, resolve))
        return auto_pq.PQsendQueryParams(conn, command, nParams, paramTypes, paramValues,
                                         paramLengths, paramFormats, resultFormat);
    int sent = otelc_PQsendQueryParams(conn, command, nParams, paramTypes, paramValues,
                                       paramLengths, paramFormats, resultFormat);
    auto_end(AUTO_PQ);
    return sent;
}

AUTO_EXPORT int PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                              const Oid *paramTypes)
{
    if (!auto_begin(AUTO_PQ, resolve))
        return auto_pq.PQsendPrepare(conn, stmtName, query, nParams, paramTypes);
    int sent = otelc_PQsendPrepare(conn, stmtName, query, nParams, paramTypes);
    auto_end(AUTO_PQ);
    return sent;
}

AUTO_EXPORT int PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
                                    const char *const *paramValues, const int *paramLengths,
                                    const int *paramFormats, int resultFormat)
{
    if (!auto_begin(AUTO_PQ, resolve))
        return auto_pq.PQsendQueryPrepared(conn, stmtName, nParams, paramValues, paramLengths,
                                           paramFormats, resultFormat);
    int sent = otelc_PQsendQueryPrepared(conn, stmtName, nParams, paramValues, paramLengths,
                                         paramFormats, resultFormat);
    auto_end(AUTO_PQ);
    return sent;
}

AUTO_EXPORT PGresult *PQgetResult(PGconn *conn)
{
    if (!auto_begin(AUTO_PQ, resolve)) return auto_pq.PQgetResult(conn);
    PGresult *res = otelc_PQgetResult(conn);
    auto_end(AUTO_PQ);
    return res;
}

AUTO_EXPORT void PQfinish(PGconn *conn)
{
    if (!auto_begin(AUTO_PQ, resolve)) {
        auto_pq.PQfinish(conn);
        return;
    }
    otelc_PQfinish(conn);
    auto_end(AUTO_PQ);
}
