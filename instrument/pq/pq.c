/*
 * pq.c - libpq wrappers that put each query in a database CLIENT span.
 *
 * Synchronous calls are simple: start, call, describe the result, end.
 * Asynchronous calls leave a pending span on a per-connection FIFO, and
 * otelc_PQgetResult() moves results onto the oldest one and ends it at the
 * NULL that closes that query's results (in pipeline mode each query's
 * results end with such a NULL too, so order is enough to match them).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_state.h"
#include "pq_calls.h"
#include "otelc/instrument/db.h"
#include "otelc/instrument/pq.h"
#include "otelc/otelc.h"

/* A pending span's note: the rows its results returned so far, or NO_ROWS. */
#define NO_ROWS (-1)

typedef struct prepared {
    char *name;
    char *text;
    struct prepared *next;
} prepared;

typedef struct pq_state {
    conn_base base; /* the span FIFO */
    prepared *stmts;
} pq_state;

/* Few connections per process and short critical sections: a list under one lock is enough. */
static conn_registry states = CONN_REGISTRY_INIT;

static otelc_tracer *pq_tracer(void)
{
    return otelc_tracer_get("otelc.instrument.pq", OTELC_VERSION);
}

/* The state of conn; created when create is true. Call with states.lock held. */
static pq_state *state_of(const PGconn *conn, bool create)
{
    return conn_state(&states, conn, sizeof(pq_state), create);
}

/*
 * parameterized: values travel apart from the text, so the text is kept as
 * written when it has placeholders (PREPARE, or parameters actually given).
 */
static otelc_span *start_span(PGconn *conn, const char *text, bool parameterized)
{
    const char *port = PQ(PQport)(conn);
    otelc_db_call call = {
        .system = "postgresql",
        .db_namespace = PQ(PQdb)(conn),
        .server_address = PQ(PQhost)(conn),
        .server_port = port ? atoi(port) : 0,
        .query = text,
        .query_len = SIZE_MAX,
        .parameterized = parameterized,
    };
    return otelc_db_span_start(pq_tracer(), &call, NULL, 0);
}

/* Note one result on the span of its query; rows add up over single-row results. */
static void note_result(otelc_span *span, const PGresult *res, int64_t *rows)
{
    char desc[32];
    ExecStatusType st = PQ(PQresultStatus)(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE) {
        *rows = (*rows == NO_ROWS ? 0 : *rows) + PQ(PQntuples)(res);
        return;
    }
    if (st != PGRES_FATAL_ERROR && st != PGRES_BAD_RESPONSE && st != PGRES_NONFATAL_ERROR) return;
    const char *code = PQ(PQresultErrorField)(res, PG_DIAG_SQLSTATE);
    /* The server's message can quote values from the query: only the code is kept. */
    snprintf(desc, sizeof(desc), "SQLSTATE %s", code && *code ? code : "unknown");
    otelc_db_span_fail(span, code, PQ(PQresStatus)(st), desc);
}

static void finish(otelc_span *span, int64_t rows)
{
    if (rows != NO_ROWS) otelc_span_set_int(span, "db.response.returned_rows", rows);
    otelc_span_end(span);
}

static PGresult *finish_sync(otelc_span *span, PGresult *res)
{
    int64_t rows = NO_ROWS;
    if (res)
        note_result(span, res, &rows);
    else
        otelc_db_span_fail(span, NULL, "connection_error", "no result from libpq");
    finish(span, rows);
    return res;
}

static prepared *find_prepared(const pq_state *s, const char *name)
{
    for (prepared *p = s ? s->stmts : NULL; p; p = p->next)
        if (strcmp(p->name, name ? name : "") == 0) return p;
    return NULL;
}

/* A copy of the text prepared as name on conn, or NULL. */
static char *prepared_text(const PGconn *conn, const char *name)
{
    fork_lock(&states.lock);
    prepared *p = find_prepared(state_of(conn, false), name);
    char *text = p ? strdup(p->text) : NULL;
    pthread_mutex_unlock(&states.lock);
    return text;
}

static void remember_prepared(const PGconn *conn, const char *name, const char *text)
{
    char *copy = text ? strdup(text) : NULL;
    if (!copy) return; /* unknown statements are described as EXECUTE later */
    fork_lock(&states.lock);
    pq_state *s = state_of(conn, true);
    prepared *p = find_prepared(s, name);
    if (s && !p && (p = calloc(1, sizeof(*p))) != NULL) {
        if ((p->name = strdup(name ? name : "")) != NULL) {
            p->next = s->stmts;
            s->stmts = p;
        } else {
            free(p);
            p = NULL;
        }
    }
    if (p) { /* the new text is in place before the old is freed (see fork_lock.h) */
        char *old = p->text;
        p->text = copy;
        copy = old;
    }
    pthread_mutex_unlock(&states.lock);
    free(copy);
}

static otelc_span *start_prepare_span(PGconn *conn, const char *query)
{
    otelc_span *span = start_span(conn, query, true);
    otelc_span_update_name(span, "PREPARE");
    otelc_span_set_str(span, "db.operation.name", "PREPARE");
    return span;
}

/* The span for executing stmtName: its prepared text when known, else "EXECUTE". */
static otelc_span *start_execute_span(PGconn *conn, const char *stmtName)
{
    char *text = prepared_text(conn, stmtName);
    otelc_span *span = start_span(conn, text && *text ? text : NULL, true);
    if (!text || !*text) {
        otelc_span_update_name(span, "EXECUTE");
        otelc_span_set_str(span, "db.operation.name", "EXECUTE");
    }
    free(text);
    return span;
}

PGresult *otelc_PQexec(PGconn *conn, const char *query)
{
    otelc_span *span = start_span(conn, query, false);
    return finish_sync(span, PQ(PQexec)(conn, query));
}

PGresult *otelc_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths,
                             const int *paramFormats, int resultFormat)
{
    otelc_span *span = start_span(conn, command, nParams > 0);
    return finish_sync(span, PQ(PQexecParams)(conn, command, nParams, paramTypes, paramValues,
                                              paramLengths, paramFormats, resultFormat));
}

PGresult *otelc_PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                          const Oid *paramTypes)
{
    otelc_span *span = start_prepare_span(conn, query);
    PGresult *res = PQ(PQprepare)(conn, stmtName, query, nParams, paramTypes);
    if (res && PQ(PQresultStatus)(res) == PGRES_COMMAND_OK)
        remember_prepared(conn, stmtName, query);
    return finish_sync(span, res);
}

PGresult *otelc_PQexecPrepared(PGconn *conn, const char *stmtName, int nParams,
                               const char *const *paramValues, const int *paramLengths,
                               const int *paramFormats, int resultFormat)
{
    otelc_span *span = start_execute_span(conn, stmtName);
    return finish_sync(span, PQ(PQexecPrepared)(conn, stmtName, nParams, paramValues, paramLengths,
                                                paramFormats, resultFormat));
}

/* After a PQsend* call: queue the span, or end it at once when sending failed. */
static int queue_span(PGconn *conn, otelc_span *span, int sent)
{
    if (sent) {
        fork_lock(&states.lock);
        bool queued = conn_push(&states, conn, sizeof(pq_state), span, NO_ROWS);
        pthread_mutex_unlock(&states.lock);
        if (!queued) otelc_span_end(span); /* out of memory: a short span beats a lost one */
        return sent;
    }
    otelc_db_span_fail(span, NULL, "send_failed", "the query could not be sent");
    otelc_span_end(span);
    return sent;
}

int otelc_PQsendQuery(PGconn *conn, const char *query)
{
    otelc_span *span = start_span(conn, query, false);
    return queue_span(conn, span, PQ(PQsendQuery)(conn, query));
}

int otelc_PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                            const char *const *paramValues, const int *paramLengths,
                            const int *paramFormats, int resultFormat)
{
    otelc_span *span = start_span(conn, command, nParams > 0);
    return queue_span(conn, span,
                      PQ(PQsendQueryParams)(conn, command, nParams, paramTypes, paramValues,
                                            paramLengths, paramFormats, resultFormat));
}

int otelc_PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams,
                        const Oid *paramTypes)
{
    otelc_span *span = start_prepare_span(conn, query);
    int sent = PQ(PQsendPrepare)(conn, stmtName, query, nParams, paramTypes);
    /* Remembered on sending: a failed PREPARE makes later executions fail anyway. */
    if (sent) remember_prepared(conn, stmtName, query);
    return queue_span(conn, span, sent);
}

int otelc_PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams,
                              const char *const *paramValues, const int *paramLengths,
                              const int *paramFormats, int resultFormat)
{
    otelc_span *span = start_execute_span(conn, stmtName);
    return queue_span(conn, span,
                      PQ(PQsendQueryPrepared)(conn, stmtName, nParams, paramValues, paramLengths,
                                              paramFormats, resultFormat));
}

PGresult *otelc_PQgetResult(PGconn *conn)
{
    PGresult *res = PQ(PQgetResult)(conn);
    conn_pending *done = NULL;
#ifdef LIBPQ_HAS_PIPELINING
    /* A pipeline sync point belongs to no query. */
    if (res && PQ(PQresultStatus)(res) == PGRES_PIPELINE_SYNC) return res;
#endif
    fork_lock(&states.lock);
    pq_state *s = state_of(conn, false);
    conn_pending *head = s ? s->base.head : NULL;
    if (head && res) note_result(head->span, res, &head->note);
    if (head && !res) done = conn_pop(&states, conn);
    pthread_mutex_unlock(&states.lock);
    if (done) { /* ended outside the lock: ending may export */
        finish(done->span, done->note);
        free(done);
    }
    return res;
}

static void free_state(pq_state *s)
{
    conn_fail_pending(&s->base, "abandoned", "results were never read", finish);
    while (s->stmts) {
        prepared *p = s->stmts;
        s->stmts = p->next;
        free(p->name);
        free(p->text);
        free(p);
    }
    free(s);
}

void otelc_pq_forget(PGconn *conn)
{
    pq_state *found = conn_detach(&states, conn);
    if (found) free_state(found);
}

void otelc_PQfinish(PGconn *conn)
{
    otelc_pq_forget(conn);
    PQ(PQfinish)(conn);
}
