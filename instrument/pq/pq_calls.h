/*
 * pq_calls.h - the functions pq.c calls in the library it
 * instruments: directly in libotelc-pq, through libotelc-auto's table
 * of real functions there (see real_call.h).
 */
#ifndef OTELC_INSTRUMENT_PQ_CALLS_H
#define OTELC_INSTRUMENT_PQ_CALLS_H

#include <libpq-fe.h>

#include "real_call.h"

/* clang-format off */
#define PQ_CALLS(X) \
    X(PQdb) \
    X(PQexec) \
    X(PQexecParams) \
    X(PQexecPrepared) \
    X(PQfinish) \
    X(PQgetResult) \
    X(PQhost) \
    X(PQntuples) \
    X(PQport) \
    X(PQprepare) \
    X(PQresStatus) \
    X(PQresultErrorField) \
    X(PQresultStatus) \
    X(PQsendPrepare) \
    X(PQsendQuery) \
    X(PQsendQueryParams) \
    X(PQsendQueryPrepared)
/* clang-format on */

REAL_CALL_TABLE(pq_calls, auto_pq, PQ_CALLS);

#define PQ(f) CALL(auto_pq, f)

#endif
