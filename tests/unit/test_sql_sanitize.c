/*
 * test_sql_sanitize.c - literal redaction, comment handling, placeholders,
 * operation/collection/summary extraction and output bounds of the SQL
 * sanitizer, and key/value handling of the Redis command sanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/instrument/db.h"

static char out[1024];
static otelc_sql_info info;

static const char *san(const char *sql)
{
    otelc_sql_sanitize(sql, strlen(sql), out, sizeof(out), &info);
    return out;
}

static void test_strings(void **state)
{
    assert_string_equal(san("SELECT * FROM t WHERE name = 'alice'"),
                        "SELECT * FROM t WHERE name = ?");
    assert_string_equal(san("SELECT 'it''s', 'a\\'b' FROM t"), "SELECT ?, ? FROM t");
    assert_string_equal(san("SELECT E'esc\\'aped' , e'x'"), "SELECT ? , ?");
    assert_string_equal(san("SELECT B'1010', X'ff', N'nat', U&'d\\0061t'"), "SELECT ?, ?, ?, ?");
    assert_int_equal(info.literals, 4);
    /* a word ending in e/x/n/b is not a prefix */
    assert_string_equal(san("SELECT name'x'"), "SELECT name?");
}

static void test_dollar_quotes(void **state)
{
    assert_string_equal(san("SELECT $$secret ' text$$, $tag$a $$ b$tag$ FROM t"),
                        "SELECT ?, ? FROM t");
    assert_string_equal(san("SELECT * FROM t WHERE a = $1 AND b = $2"),
                        "SELECT * FROM t WHERE a = $1 AND b = $2");
    assert_int_equal(info.placeholders, 2);
    assert_int_equal(info.literals, 0);
    /* an unterminated dollar quote swallows the rest */
    assert_string_equal(san("SELECT $x$ leaked? no"), "SELECT ?");
    /* $ inside an identifier */
    assert_string_equal(san("SELECT a$b FROM t"), "SELECT a$b FROM t");
}

static void test_numbers_and_booleans(void **state)
{
    assert_string_equal(san("SELECT 1, -2.5, 3e10, .5, 0xFF, 1E-3 FROM t1 WHERE c2 = 42"),
                        "SELECT ?, -?, ?, ?, ?, ? FROM t1 WHERE c2 = ?");
    assert_string_equal(san("UPDATE t SET ok = TRUE, bad = false, gone = NULL"),
                        "UPDATE t SET ok = ?, bad = ?, gone = NULL");
    assert_string_equal(san("SELECT x::int4, y FROM t"), "SELECT x::int4, y FROM t");
}

static void test_comments_and_space(void **state)
{
    assert_string_equal(san("SELECT /* user=bob */ a -- password 'x'\n FROM\n\tt"),
                        "SELECT a FROM t");
    assert_string_equal(san("/* a /* nested */ still */SELECT 1"), "SELECT ?");
    assert_string_equal(san("SELECT 1 /* unterminated 'secret"), "SELECT ?");
    assert_string_equal(san("   "), "");
}

static void test_identifiers_and_params(void **state)
{
    assert_string_equal(san("SELECT \"we'ird\", `b` FROM \"My Table\" WHERE c = ? AND d = :name"),
                        "SELECT \"we'ird\", `b` FROM \"My Table\" WHERE c = ? AND d = :name");
    assert_int_equal(info.placeholders, 2);
    assert_string_equal(info.collection, "\"My Table\"");
    assert_string_equal(san("SELECT ?1, @p, $v FROM t"), "SELECT ?1, @p, $v FROM t");
    assert_int_equal(info.placeholders, 3);
    /* an unterminated quoted identifier would carry the rest verbatim */
    assert_string_equal(san("SELECT \"abc FROM t WHERE pw = 'secret'"), "SELECT ?");
    assert_string_equal(san("SELECT `x FROM t"), "SELECT ?");
}

static void expect_summary(const char *sql, const char *op, const char *coll, const char *sum)
{
    san(sql);
    assert_string_equal(info.operation, op);
    assert_string_equal(info.collection, coll);
    assert_string_equal(info.summary, sum);
}

static void test_summary(void **state)
{
    expect_summary("SELECT * FROM users WHERE id = 1", "SELECT", "users", "SELECT users");
    expect_summary("select a from public.users u join orders o on o.u = u.id", "select", "",
                   "select public.users orders");
    expect_summary("SELECT * FROM a, b AS bb, c WHERE 1=1", "SELECT", "", "SELECT a b c");
    expect_summary("INSERT INTO t (a, b) VALUES (1, 'x')", "INSERT", "t", "INSERT t");
    expect_summary("INSERT INTO archive SELECT * FROM orders", "", "",
                   "INSERT archive SELECT orders");
    expect_summary("UPDATE accounts SET v = 2 WHERE id = 3", "UPDATE", "accounts",
                   "UPDATE accounts");
    expect_summary("DELETE FROM sessions WHERE t < now()", "DELETE", "sessions", "DELETE sessions");
    expect_summary("CREATE TABLE IF NOT EXISTS items (id int REFERENCES x ON DELETE CASCADE)",
                   "CREATE TABLE", "items", "CREATE TABLE items");
    expect_summary("create temp table tmp1 (a int)", "CREATE TABLE", "tmp1", "CREATE TABLE tmp1");
    expect_summary("DROP TABLE t", "DROP TABLE", "t", "DROP TABLE t");
    expect_summary("TRUNCATE logs", "TRUNCATE", "logs", "TRUNCATE logs");
    expect_summary("CREATE UNIQUE INDEX i ON t (a)", "CREATE INDEX", "", "CREATE INDEX");
    expect_summary("SELECT * FROM t FOR UPDATE", "SELECT", "t", "SELECT t");
    expect_summary("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 1", "INSERT", "t",
                   "INSERT t");
    expect_summary("SELECT * FROM generate_series(1, 3)", "SELECT", "", "SELECT");
    expect_summary("SELECT 1", "SELECT", "", "SELECT");
    expect_summary("BEGIN", "BEGIN", "", "BEGIN");
    expect_summary("INSERT OR REPLACE INTO kv VALUES (?, ?)", "INSERT", "kv", "INSERT kv");
    expect_summary("hello world", "", "", "");
    assert_int_equal(info.statements, 1);
    expect_summary("BEGIN; UPDATE t SET a = 1; COMMIT;", "", "t", "BEGIN UPDATE t COMMIT");
    assert_int_equal(info.statements, 3);
}

static void test_summary_bounded(void **state)
{
    char sql[8192] = "SELECT * FROM ";
    for (int i = 0; i < 400; i++) strcat(sql, "tbl_abcdefgh, ");
    strcat(sql, "z");
    san(sql);
    assert_true(strlen(info.summary) <= OTELC_SQL_SUMMARY_MAX);
    assert_true(strlen(info.summary) > 200);
    /* whole words only */
    size_t n = strlen(info.summary);
    assert_string_equal(info.summary + n - 12, "tbl_abcdefgh");
}

static void test_output_bounds(void **state)
{
    char small[8];
    const char *sql = "SELECT 'x' FROM t";
    memset(small, 'Z', sizeof(small));
    size_t n = otelc_sql_sanitize(sql, strlen(sql), small, sizeof(small), NULL);
    assert_int_equal(n, 7);
    assert_string_equal(small, "SELECT ");
    /* a cut never splits a UTF-8 character */
    const char *u = "SELECT \xc3\xa9\xc3\xa9";
    n = otelc_sql_sanitize(u, strlen(u), small, 9, NULL);
    assert_string_equal(small, "SELECT ");
    n = otelc_sql_sanitize(u, strlen(u), small, 0, NULL);
    assert_int_equal(n, 0);
    n = otelc_sql_sanitize(NULL, 10, small, sizeof(small), &info);
    assert_int_equal(n, 0);
    assert_string_equal(small, "");
    /* embedded NUL and length limit respected */
    n = otelc_sql_sanitize("SELECT 1\0 'x'", 13, out, sizeof(out), NULL);
    assert_string_equal(out, "SELECT ? ?");
    assert_int_equal(n, strlen(out));
    n = otelc_sql_sanitize("SELECT 12345", 9, out, sizeof(out), NULL);
    assert_string_equal(out, "SELECT ?");
}

static const char *rsan(int argc, const char *const *argv)
{
    otelc_redis_sanitize(argc, argv, NULL, out, sizeof(out));
    return out;
}

static void test_redis(void **state)
{
    const char *set[] = {"SET", "user:1", "secret-value", "EX", "10"};
    assert_string_equal(rsan(5, set), "SET user:1 ? ? ?");
    const char *get[] = {"get", "k"};
    assert_string_equal(rsan(2, get), "get k");
    const char *mset[] = {"MSET", "a", "1", "b", "2"};
    assert_string_equal(rsan(5, mset), "MSET a ? b ?");
    const char *hset[] = {"HSET", "h", "field", "v"};
    assert_string_equal(rsan(4, hset), "HSET h ? ?");
    const char *del[] = {"DEL", "a", "b", "c"};
    assert_string_equal(rsan(4, del), "DEL a b c");
    const char *blpop[] = {"BLPOP", "q1", "q2", "5"};
    assert_string_equal(rsan(4, blpop), "BLPOP q1 q2 ?");
    const char *auth[] = {"AUTH", "admin", "hunter2"};
    assert_string_equal(rsan(3, auth), "AUTH ? ?");
    const char *cfg[] = {"CONFIG", "SET", "requirepass", "pw"};
    assert_string_equal(rsan(4, cfg), "CONFIG SET ? ?");
    const char *eval[] = {"EVAL", "return 1", "2", "k1", "k2", "arg"};
    assert_string_equal(rsan(6, eval), "EVAL ? 2 k1 k2 ?");
    const char *sel[] = {"SELECT", "3"};
    assert_string_equal(rsan(2, sel), "SELECT 3");
    const char *unk[] = {"MYMOD.CMD", "x", "y"};
    assert_string_equal(rsan(3, unk), "MYMOD.CMD ? ?");
    const char *quoted[] = {"GET", "a b\"c\n"};
    assert_string_equal(rsan(2, quoted), "GET \"a\\x20b\\\"c\\x0a\"");
    const char *rename[] = {"RENAME", "old", "new"};
    assert_string_equal(rsan(3, rename), "RENAME old new");
}

static void test_redis_bounds(void **state)
{
    char small[12];
    const char *argv[] = {"GET", "averyveryverylongkey"};
    size_t n = otelc_redis_sanitize(2, argv, NULL, small, sizeof(small));
    assert_string_equal(small, "GET");
    assert_int_equal(n, 3);
    const char *bin[] = {"SET", "k\0ey", "v"};
    size_t lens[] = {3, 4, 1};
    otelc_redis_sanitize(3, bin, lens, out, sizeof(out));
    assert_string_equal(out, "SET \"k\\x00ey\" ?");
    assert_int_equal(otelc_redis_sanitize(0, argv, NULL, out, sizeof(out)), 0);
    assert_int_equal(otelc_redis_sanitize(2, argv, NULL, NULL, 0), 0);
    const char *evalbad[] = {"EVAL", "s", "99", "k"};
    assert_string_equal(rsan(4, evalbad), "EVAL ? 99 k");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_dollar_quotes),
        cmocka_unit_test(test_numbers_and_booleans),
        cmocka_unit_test(test_comments_and_space),
        cmocka_unit_test(test_identifiers_and_params),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_summary_bounded),
        cmocka_unit_test(test_output_bounds),
        cmocka_unit_test(test_redis),
        cmocka_unit_test(test_redis_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
