/*
 * test_instrument_sqlite.c - libotelc-sqlite on a temporary database file:
 * one span per statement run with sanitized text (never the bound values),
 * rows, spans ending when the run ends (done or reset), triggers inside
 * their statement's span, statements nested in an SQL function, parentage,
 * and no literal or bound value exported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "otelc/instrument/sqlite.h"
#include "unit/db_spans.h"
#include "fork_child.h"
#include "fork_lock.h"

static otelc_memory_exporter *mem;
static sqlite3 *db;
static char path[] = "/tmp/otelc-sqlite-XXXXXX";

static const char *const secrets[] = {"SqliteSecretLiteral", "24680135", "BoundSecretValue"};

static int setup(void **state)
{
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    mem = db_spans_init();
    if (sqlite3_open(path, &db) != SQLITE_OK) return -1;
    assert_int_equal(otelc_sqlite_instrument(db), SQLITE_OK);
    assert_int_equal(otelc_sqlite_instrument(db), SQLITE_OK); /* again: no second callback */
    return 0;
}

static int teardown(void **state)
{
    sqlite3_close(db);
    otelc_shutdown();
    otelc_memory_exporter_free(mem);
    unlink(path);
    return 0;
}

static const otelc_span_data *last_span(void)
{
    size_t n = otelc_memory_exporter_count(mem);
    assert_true(n > 0);
    return otelc_memory_exporter_get(mem, n - 1);
}

static void exec(const char *sql)
{
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_exec(void **state)
{
    size_t before = otelc_memory_exporter_count(mem);
    exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    const otelc_span_data *sd = last_span();
    assert_string_equal(sd->name, "CREATE TABLE users");
    assert_int_equal(sd->kind, OTELC_SPAN_CLIENT);
    assert_string_equal(otelc_testing_attr_str(sd, "db.system.name"), "sqlite");
    assert_string_equal(otelc_testing_attr_str(sd, "db.namespace"), path);
    exec("INSERT INTO users VALUES (1, 'SqliteSecretLiteral'), (24680135, 'b'), (3, 'c')");
    sd = last_span();
    assert_string_equal(sd->name, "INSERT users");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "INSERT INTO users VALUES (?, ?), (?, ?), (?, ?)");
    assert_string_equal(otelc_testing_attr_str(sd, "db.operation.name"), "INSERT");
    assert_string_equal(otelc_testing_attr_str(sd, "db.collection.name"), "users");
    int64_t rows;
    assert_false(otelc_testing_attr_int(sd, "db.response.returned_rows", &rows));
    assert_true(sd->end_ns >= sd->start_ns);
}

static void test_prepared_rows(void **state)
{
    sqlite3_stmt *st;
    int64_t rows = 0;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT name FROM users WHERE name <> ? ORDER BY id", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, "BoundSecretValue", -1, SQLITE_STATIC);
    size_t before = otelc_memory_exporter_count(mem);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n++;
        assert_int_equal(otelc_memory_exporter_count(mem), before); /* still running */
    }
    assert_int_equal(n, 3);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    const otelc_span_data *sd = last_span();
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"),
                        "SELECT name FROM users WHERE name <> ? ORDER BY id");
    assert_true(otelc_testing_attr_int(sd, "db.response.returned_rows", &rows));
    assert_int_equal(rows, 3);

    /* Run again, reset after one row: that run ends with one row. */
    sqlite3_reset(st);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    sqlite3_reset(st);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 2);
    assert_true(otelc_testing_attr_int(last_span(), "db.response.returned_rows", &rows));
    assert_int_equal(rows, 1);
    sqlite3_finalize(st);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 2);
}

static void test_trigger(void **state)
{
    exec("CREATE TABLE audit (uid INTEGER)");
    exec("CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN "
         "INSERT INTO audit VALUES (new.id); END");
    size_t before = otelc_memory_exporter_count(mem);
    exec("INSERT INTO users VALUES (4, 'd')");
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    assert_string_equal(last_span()->name, "INSERT users");
}

static void count_users(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(sqlite3_context_db_handle(ctx), "SELECT count(*) FROM audit", -1, &st, NULL);
    sqlite3_step(st);
    sqlite3_result_int(ctx, sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
}

static void test_nested_and_parent(void **state)
{
    sqlite3_create_function(db, "audit_count", 0, SQLITE_UTF8, NULL, count_users, NULL, NULL);
    otelc_tracer *t = otelc_tracer_get("test", NULL);
    otelc_span *parent = otelc_span_start(t, "handler", OTELC_SPAN_SERVER);
    otelc_scope sc = otelc_span_activate(parent);
    size_t before = otelc_memory_exporter_count(mem);
    exec("SELECT audit_count() FROM users");
    otelc_scope_exit(sc);
    otelc_span_end(parent);
    /* Four rows: four nested runs, then the outer statement, then the handler. */
    assert_int_equal(otelc_memory_exporter_count(mem), before + 6);
    const otelc_span_data *inner = otelc_memory_exporter_get(mem, before);
    const otelc_span_data *outer = otelc_memory_exporter_get(mem, before + 4);
    assert_string_equal(inner->name, "SELECT audit");
    assert_string_equal(outer->name, "SELECT users");
    const otelc_span_data *handler = otelc_testing_find(mem, "handler");
    assert_non_null(outer);
    assert_non_null(inner);
    assert_true(otelc_testing_is_parent(handler, outer, NULL, 0));
    assert_true(otelc_testing_is_parent(handler, inner, NULL, 0));
    /* Timed within their parent, the nested run within the outer one. */
    assert_true(outer->start_ns >= handler->start_ns && outer->end_ns <= handler->end_ns);
    assert_true(inner->start_ns >= outer->start_ns && inner->end_ns <= outer->end_ns);
    assert_true(outer->end_ns > outer->start_ns);
    int64_t rows = 0;
    assert_true(otelc_testing_attr_int(outer, "db.response.returned_rows", &rows));
    assert_int_equal(rows, 4);
}

static void test_memory_db(void **state)
{
    sqlite3 *m;
    assert_int_equal(sqlite3_open(":memory:", &m), SQLITE_OK);
    assert_int_equal(otelc_sqlite_instrument(m), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(m, "SELECT 1 UNION ALL SELECT 2", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    /* Closing with a run still open (close_v2 waits for the finalize) ends it. */
    size_t before = otelc_memory_exporter_count(mem);
    sqlite3_close_v2(m);
    sqlite3_finalize(st);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    const otelc_span_data *sd = last_span();
    assert_string_equal(sd->name, "SELECT SELECT"); /* two operations, no table */
    assert_null(otelc_testing_attr_str(sd, "db.operation.name"));
    assert_null(otelc_testing_attr_str(sd, "db.namespace"));
    assert_int_equal(otelc_sqlite_instrument(NULL), SQLITE_MISUSE);
}

static void test_no_leaks(void **state)
{
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const otelc_span_data *sd = db_spans_find_leak(mem, secrets[i]);
        if (sd) fail_msg("\"%s\" leaked in span \"%s\"", secrets[i], sd->name);
    }
}

/* ---- fork() while another thread is inside the instrumentation ---- */

static parked_thread runner;

static void blocking_on_start(void *self, otelc_span *span, const otelc_span_context *parent)
{
    (void)self, (void)span, (void)parent;
    parked_here(&runner);
}

static int blocked_rc = -1;

static void *run_blocked_statement(void *arg)
{
    blocked_rc = sqlite3_exec(arg, "SELECT 1", NULL, NULL, NULL);
    return NULL;
}

/* The child instruments and uses a connection of its own; 0 when it could. */
static int child_runs_a_statement(void)
{
    sqlite3 *mine;
    if (sqlite3_open(":memory:", &mine) != SQLITE_OK) return 1;
    if (otelc_sqlite_instrument(mine) != SQLITE_OK) return 2;
    if (sqlite3_exec(mine, "SELECT 2", NULL, NULL, NULL) != SQLITE_OK) return 3;
    sqlite3_close(mine);
    return 0;
}

/*
 * A thread is starting a statement's span when another thread forks. The
 * child has no such thread: it must still be able to trace its own
 * statements. Runs last: it replaces the global provider.
 */
static void test_fork_while_another_thread_starts_a_span(void **state)
{
    (void)state;
    static const otelc_processor_ops ops = {.on_start = blocking_on_start};
    otelc_processor *proc = otelc_processor_new(&ops, NULL);
    otelc_provider *p;
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    otelc_provider_set_global(p);
    assert_true(park_thread(&runner, run_blocked_statement, db));
    int child = run_in_fork_child(child_runs_a_statement);
    release_thread(&runner);
    assert_int_equal(blocked_rc, SQLITE_OK);
    assert_int_equal(child, 0);
}

/* ---- The instrumentation libraries' lock (instrument/fork_lock.h) ---- */

static pthread_mutex_t test_lock = PTHREAD_MUTEX_INITIALIZER;
static parked_thread holder;

static void *hold_the_lock(void *arg)
{
    (void)arg;
    fork_lock(&test_lock);
    parked_here(&holder);
    pthread_mutex_unlock(&test_lock);
    return NULL;
}

static int child_takes_the_lock(void)
{
    fork_lock(&test_lock);
    pthread_mutex_unlock(&test_lock);
    return 0;
}

/* Held by another thread at the moment of fork, the lock is free in the child. */
static void test_fork_lock_is_free_in_the_child(void **state)
{
    (void)state;
    assert_true(park_thread(&holder, hold_the_lock, NULL));
    int child = run_in_fork_child(child_takes_the_lock);
    release_thread(&holder);
    assert_int_equal(child, 0);
}

/* ---- Processors that run SQL themselves ---- */

static sqlite3 *audit_db;
static atomic_bool auditing;

static void audit_on_start(void *self, otelc_span *span, const otelc_span_context *parent)
{
    (void)self, (void)span, (void)parent;
    if (atomic_exchange(&auditing, true)) return; /* not for the audit statement's own span */
    sqlite3_exec(audit_db, "SELECT 4", NULL, NULL, NULL);
    atomic_store(&auditing, false);
}

/* In a fork child (a deadlock there fails the test instead of hanging it). */
static int child_audits_its_statements(void)
{
    static const otelc_processor_ops ops = {.on_start = audit_on_start};
    otelc_processor *proc = otelc_processor_new(&ops, NULL);
    otelc_provider *p;
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    if (otelc_provider_new(&o, &p) != OTELC_OK) return 1;
    otelc_provider_set_global(p);
    sqlite3 *app;
    if (sqlite3_open(":memory:", &audit_db) != SQLITE_OK || sqlite3_open(":memory:", &app))
        return 2;
    if (otelc_sqlite_instrument(audit_db) || otelc_sqlite_instrument(app)) return 3;
    return sqlite3_exec(app, "SELECT 5", NULL, NULL, NULL) == SQLITE_OK ? 0 : 4;
}

/*
 * A processor's on_start (or a sampler) may itself run SQL on a traced
 * connection: spans are started outside the library's lock, which it would
 * otherwise wait for forever.
 */
static void test_on_start_may_run_sql(void **state)
{
    (void)state;
    assert_int_equal(run_in_fork_child(child_audits_its_statements), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_prepared_rows),
        cmocka_unit_test(test_trigger),
        cmocka_unit_test(test_nested_and_parent),
        cmocka_unit_test(test_memory_db),
        cmocka_unit_test(test_no_leaks),
        cmocka_unit_test(test_fork_lock_is_free_in_the_child),
        cmocka_unit_test(test_on_start_may_run_sql),
        cmocka_unit_test(test_fork_while_another_thread_starts_a_span),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
