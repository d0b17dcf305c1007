/*
 * test_instrument_pq.c - libotelc-pq against a real PostgreSQL server
 * (started by tests/integration/instrument_pq.sh, which passes its
 * connection string in OTELC_TEST_PG): span names, kinds and db.*
 * attributes, failures with their SQLSTATE, asynchronous and pipelined
 * spans ending when their results are consumed, rows, and no literal value
 * or password anywhere in the exported data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/instrument/pq.h"
#include "unit/db_spans.h"

static otelc_memory_exporter *mem;
static PGconn *conn;

static const char *const secrets[] = {
    "Sup3rS3cretLiteral", "987654321", "ParamSecretValue", "LeakyLiteral", "AsyncLiteral",
    "PgPassw0rdXyz",      "alice",     "DupLiteral"};

static int setup(void **state)
{
    const char *info = getenv("OTELC_TEST_PG");
    char conninfo[1024];
    if (!info) return -1;
    /* A password the server never asks for: it must still never be exported. */
    snprintf(conninfo, sizeof(conninfo), "%s password=PgPassw0rdXyz", info);
    mem = db_spans_init();
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(conn));
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    otelc_PQfinish(conn);
    otelc_shutdown();
    otelc_memory_exporter_free(mem);
    return 0;
}

static void exec_ok(const char *sql)
{
    PGresult *r = otelc_PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    assert_true(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
    PQclear(r);
}

static const otelc_span_data *last_span(void)
{
    size_t n = otelc_memory_exporter_count(mem);
    assert_true(n > 0);
    return otelc_memory_exporter_get(mem, n - 1);
}

static void check_common(const otelc_span_data *sd)
{
    int64_t port = 0;
    assert_int_equal(sd->kind, OTELC_SPAN_CLIENT);
    assert_string_equal(otelc_testing_attr_str(sd, "db.system.name"), "postgresql");
    assert_string_equal(otelc_testing_attr_str(sd, "db.namespace"), "postgres");
    assert_string_equal(otelc_testing_attr_str(sd, "server.address"), getenv("OTELC_TEST_PG_HOST"));
    assert_true(otelc_testing_attr_int(sd, "server.port", &port));
    assert_int_equal(port, atoi(getenv("OTELC_TEST_PG_PORT")));
}

static void test_exec(void **state)
{
    exec_ok("CREATE TABLE users (id int PRIMARY KEY, name text, secret text)");
    const otelc_span_data *sd = last_span();
    assert_string_equal(sd->name, "CREATE TABLE users");
    assert_string_equal(otelc_testing_attr_str(sd, "db.operation.name"), "CREATE TABLE");
    check_common(sd);

    exec_ok("INSERT INTO users VALUES (1, 'alice', 'Sup3rS3cretLiteral'), (2, 'bob', E'x\\'y')");
    sd = last_span();
    assert_string_equal(sd->name, "INSERT users");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "INSERT INTO users VALUES (?, ?, ?), (?, ?, ?)");
    assert_string_equal(otelc_testing_attr_str(sd, "db.collection.name"), "users");
    assert_int_equal(sd->status, OTELC_STATUS_UNSET);

    exec_ok("SELECT name FROM users WHERE id < 987654321 /* secret comment */");
    sd = last_span();
    int64_t rows = 0;
    assert_string_equal(sd->name, "SELECT users");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.summary"), "SELECT users");
    assert_string_equal(otelc_testing_attr_str(sd, "db.operation.name"), "SELECT");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "SELECT name FROM users WHERE id < ?");
    assert_true(otelc_testing_attr_int(sd, "db.response.returned_rows", &rows));
    assert_int_equal(rows, 2);
}

static void test_params_and_prepared(void **state)
{
    const char *values[] = {"1"};
    PGresult *r = otelc_PQexecParams(conn, "SELECT name FROM users WHERE id = $1", 1, NULL, values,
                                     NULL, NULL, 0);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    const otelc_span_data *sd = last_span();
    int64_t rows = 0;
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "SELECT name FROM users WHERE id = $1");
    assert_true(otelc_testing_attr_int(sd, "db.response.returned_rows", &rows));
    assert_int_equal(rows, 1);

    /* No parameters given: the text is an ordinary query and is sanitized. */
    r = otelc_PQexecParams(conn, "SELECT count(*) FROM users WHERE name <> 'ParamSecretValue'", 0,
                           NULL, NULL, NULL, NULL, 0);
    PQclear(r);
    assert_string_equal(otelc_testing_attr_str(last_span(), "db.query.text"),
                        "SELECT count(*) FROM users WHERE name <> ?");

    r = otelc_PQprepare(conn, "ins", "INSERT INTO users (id, secret) VALUES ($1, $2)", 2, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    sd = last_span();
    assert_string_equal(sd->name, "PREPARE");
    assert_string_equal(otelc_testing_attr_str(sd, "db.operation.name"), "PREPARE");

    const char *ins[] = {"3", "ParamSecretValue"};
    r = otelc_PQexecPrepared(conn, "ins", 2, ins, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    sd = last_span();
    assert_string_equal(sd->name, "INSERT users");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "INSERT INTO users (id, secret) VALUES ($1, $2)");
    check_common(sd);

    r = otelc_PQexecPrepared(conn, "never_prepared", 0, NULL, NULL, NULL, 0);
    PQclear(r);
    sd = last_span();
    assert_string_equal(sd->name, "EXECUTE");
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(otelc_testing_attr_str(sd, "db.response.status_code"), "26000");
}

static void test_errors(void **state)
{
    PGresult *r = otelc_PQexec(conn, "SELECT * FROM no_such_table WHERE x = 'LeakyLiteral'");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    const otelc_span_data *sd = last_span();
    assert_string_equal(sd->name, "SELECT no_such_table");
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(sd->status_message, "SQLSTATE 42P01");
    assert_string_equal(otelc_testing_attr_str(sd, "db.response.status_code"), "42P01");
    assert_string_equal(otelc_testing_attr_str(sd, "error.type"), "42P01");

    /* The server's detail quotes the duplicate value: it must not be exported. */
    r = otelc_PQexec(conn, "INSERT INTO users VALUES (1, 'DupLiteral', 'DupLiteral')");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    PQclear(r);
    sd = last_span();
    assert_string_equal(otelc_testing_attr_str(sd, "db.response.status_code"), "23505");
    r = otelc_PQexec(conn, "SELECT 1 / 0");
    PQclear(r);
    assert_string_equal(otelc_testing_attr_str(last_span(), "error.type"), "22012");
}

static void test_async(void **state)
{
    size_t before = otelc_memory_exporter_count(mem);
    /* Two statements, two results, one span that ends at the final NULL. */
    assert_int_equal(otelc_PQsendQuery(conn, "SELECT 'AsyncLiteral' FROM users; SELECT 1"), 1);
    assert_int_equal(otelc_memory_exporter_count(mem), before);
    PGresult *r = otelc_PQgetResult(conn);
    assert_int_equal(PQntuples(r), 3);
    PQclear(r);
    r = otelc_PQgetResult(conn);
    assert_int_equal(PQntuples(r), 1);
    PQclear(r);
    assert_int_equal(otelc_memory_exporter_count(mem), before);
    assert_null(otelc_PQgetResult(conn));
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    const otelc_span_data *sd = last_span();
    int64_t rows = 0;
    assert_string_equal(sd->name, "SELECT users SELECT");
    assert_null(otelc_testing_attr_str(sd, "db.operation.name"));
    assert_true(otelc_testing_attr_int(sd, "db.response.returned_rows", &rows));
    assert_int_equal(rows, 4);
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "SELECT ? FROM users; SELECT ?");

    const char *v[] = {"2"};
    assert_int_equal(otelc_PQsendQueryParams(conn, "SELECT nope FROM users WHERE id = $1", 1, NULL,
                                             v, NULL, NULL, 0),
                     1);
    while ((r = otelc_PQgetResult(conn)) != NULL) PQclear(r);
    assert_int_equal(last_span()->status, OTELC_STATUS_ERROR);
    assert_string_equal(otelc_testing_attr_str(last_span(), "error.type"), "42703");
}

static void test_pipeline(void **state)
{
    const char *v[] = {"1"};
    size_t before = otelc_memory_exporter_count(mem);
    assert_int_equal(PQenterPipelineMode(conn), 1);
    assert_int_equal(otelc_PQsendQueryParams(conn, "SELECT id FROM users WHERE id >= $1", 1, NULL,
                                             v, NULL, NULL, 0),
                     1);
    assert_int_equal(otelc_PQsendPrepare(conn, "upd", "UPDATE users SET name = $1", 1, NULL), 1);
    assert_int_equal(otelc_PQsendQueryPrepared(conn, "upd", 1, v, NULL, NULL, 0), 1);
    assert_int_equal(PQpipelineSync(conn), 1);
    size_t ended[3];
    for (int q = 0; q < 3; q++) {
        PGresult *r = otelc_PQgetResult(conn);
        assert_non_null(r);
        PQclear(r);
        /* Still open until its NULL is read. */
        assert_int_equal(otelc_memory_exporter_count(mem), before + (size_t)q);
        assert_null(otelc_PQgetResult(conn));
        ended[q] = otelc_memory_exporter_count(mem);
        assert_int_equal(ended[q], before + (size_t)q + 1);
    }
    PGresult *sync = otelc_PQgetResult(conn);
    assert_int_equal(PQresultStatus(sync), PGRES_PIPELINE_SYNC);
    PQclear(sync);
    assert_int_equal(PQexitPipelineMode(conn), 1);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 3);
    int64_t rows = 0;
    const otelc_span_data *a = otelc_memory_exporter_get(mem, before);
    assert_string_equal(a->name, "SELECT users");
    assert_true(otelc_testing_attr_int(a, "db.response.returned_rows", &rows));
    assert_int_equal(rows, 3);
    assert_string_equal(otelc_memory_exporter_get(mem, before + 1)->name, "PREPARE");
    assert_string_equal(otelc_memory_exporter_get(mem, before + 2)->name, "UPDATE users");
}

static void test_no_leaks(void **state)
{
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const otelc_span_data *sd = db_spans_find_leak(mem, secrets[i]);
        if (sd) fail_msg("\"%s\" leaked in span \"%s\"", secrets[i], sd->name);
    }
    assert_true(otelc_memory_exporter_count(mem) >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec),     cmocka_unit_test(test_params_and_prepared),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_async),
        cmocka_unit_test(test_pipeline), cmocka_unit_test(test_no_leaks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
