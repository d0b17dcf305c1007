/*
 * test_instrument_hiredis.c - libotelc-hiredis against a real Redis server
 * (started by tests/integration/instrument_hiredis.sh, which passes its
 * port and Unix socket in OTELC_TEST_REDIS_PORT / OTELC_TEST_REDIS_SOCK):
 * span names and db.* attributes, keys kept and values redacted, error
 * replies, SELECT tracking, pipelined spans ending in reply order, Unix
 * sockets, a broken connection, and no value or password exported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/instrument/hiredis.h"
#include "unit/db_spans.h"

static otelc_memory_exporter *mem;
static redisContext *c;
static int port;

static const char *const secrets[] = {"RedisSecretValue", "RedisPassw0rd", "RedisArgSecret",
                                      "HashFieldSecret",  "BinSecret",     "PipeSecret"};

static int setup(void **state)
{
    const char *p = getenv("OTELC_TEST_REDIS_PORT");
    if (!p) return -1;
    port = atoi(p);
    mem = db_spans_init();
    c = redisConnect("127.0.0.1", port);
    return c && !c->err ? 0 : -1;
}

static int teardown(void **state)
{
    otelc_redisFree(c);
    otelc_shutdown();
    otelc_memory_exporter_free(mem);
    return 0;
}

static const otelc_span_data *last_span(void)
{
    size_t n = otelc_memory_exporter_count(mem);
    assert_true(n > 0);
    return otelc_memory_exporter_get(mem, n - 1);
}

static void run(const char *fmt, const char *a, const char *b)
{
    redisReply *r = otelc_redisCommand(c, fmt, a, b);
    assert_non_null(r);
    freeReplyObject(r);
}

static void test_commands(void **state)
{
    run("SET %s %s", "user:1", "RedisSecretValue");
    const otelc_span_data *sd = last_span();
    int64_t p = 0;
    assert_string_equal(sd->name, "SET 0");
    assert_int_equal(sd->kind, OTELC_SPAN_CLIENT);
    assert_string_equal(otelc_testing_attr_str(sd, "db.system.name"), "redis");
    assert_string_equal(otelc_testing_attr_str(sd, "db.operation.name"), "SET");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"), "SET user:1 ?");
    assert_string_equal(otelc_testing_attr_str(sd, "db.namespace"), "0");
    assert_string_equal(otelc_testing_attr_str(sd, "server.address"), "127.0.0.1");
    assert_true(otelc_testing_attr_int(sd, "server.port", &p));
    assert_int_equal(p, port);
    assert_int_equal(sd->status, OTELC_STATUS_UNSET);

    redisReply *r = otelc_redisCommand(c, "GET user:1");
    assert_string_equal(r->str, "RedisSecretValue");
    freeReplyObject(r);
    assert_string_equal(otelc_testing_attr_str(last_span(), "db.query.text"), "GET user:1");

    run("HSET h:1 %s %s", "HashFieldSecret", "RedisSecretValue");
    assert_string_equal(otelc_testing_attr_str(last_span(), "db.query.text"), "HSET h:1 ? ?");

    const char *argv[] = {"SET", "bin key", "BinSecret\0tail"};
    size_t lens[] = {3, 7, 14};
    r = otelc_redisCommandArgv(c, 3, argv, lens);
    assert_int_equal(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    assert_string_equal(otelc_testing_attr_str(last_span(), "db.query.text"),
                        "SET \"bin\\x20key\" ?");
}

static void test_errors(void **state)
{
    run("LPUSH %s %s", "user:1", "x");
    const otelc_span_data *sd = last_span();
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(otelc_testing_attr_str(sd, "db.response.status_code"), "WRONGTYPE");
    assert_string_equal(otelc_testing_attr_str(sd, "error.type"), "WRONGTYPE");
    assert_string_equal(sd->status_message, "WRONGTYPE");

    /* Redis quotes the arguments of unknown commands in its message. */
    run("NOSUCHCMD %s %s", "RedisArgSecret", "x");
    sd = last_span();
    assert_string_equal(otelc_testing_attr_str(sd, "error.type"), "ERR");
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"), "NOSUCHCMD ? ?");

    run("AUTH %s %s", "admin", "RedisPassw0rd");
    sd = last_span();
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(otelc_testing_attr_str(sd, "db.query.text"), "AUTH ? ?");
}

static void test_select(void **state)
{
    run("SELECT %s", "3", NULL);
    assert_string_equal(last_span()->name, "SELECT 0");
    run("SET %s %s", "k3", "RedisSecretValue");
    assert_string_equal(last_span()->name, "SET 3");
    assert_string_equal(otelc_testing_attr_str(last_span(), "db.namespace"), "3");
    run("SELECT %s", "99999", NULL); /* fails: the index stays */
    run("GET %s", "k3", NULL);
    assert_string_equal(otelc_testing_attr_str(last_span(), "db.namespace"), "3");
    run("SELECT %s", "0", NULL);
}

static void test_pipeline(void **state)
{
    size_t before = otelc_memory_exporter_count(mem);
    const char *argv[] = {"RPUSH", "q", "PipeSecret"};
    assert_int_equal(otelc_redisAppendCommand(c, "INCR %s", "counter"), REDIS_OK);
    assert_int_equal(otelc_redisAppendCommandArgv(c, 3, argv, NULL), REDIS_OK);
    assert_int_equal(otelc_redisAppendCommand(c, "GET %s", "nope"), REDIS_OK);
    assert_int_equal(otelc_memory_exporter_count(mem), before);
    /* redisCommand reads the oldest reply first, as hiredis does: INCR's. */
    redisReply *r = otelc_redisCommand(c, "PING");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    for (size_t i = 2; i <= 4; i++) {
        void *reply = NULL;
        assert_int_equal(otelc_redisGetReply(c, &reply), REDIS_OK);
        freeReplyObject(reply);
        assert_int_equal(otelc_memory_exporter_count(mem), before + i);
    }
    const char *order[] = {"INCR 0", "RPUSH 0", "GET 0", "PING 0"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(otelc_memory_exporter_get(mem, before + i)->name, order[i]);
    assert_string_equal(
        otelc_testing_attr_str(otelc_memory_exporter_get(mem, before + 1), "db.query.text"),
        "RPUSH q ?");
}

static void test_unix_socket(void **state)
{
    const char *path = getenv("OTELC_TEST_REDIS_SOCK");
    redisContext *u = redisConnectUnix(path);
    assert_true(u && !u->err);
    redisReply *r = otelc_redisCommand(u, "PING");
    freeReplyObject(r);
    const otelc_span_data *sd = last_span();
    int64_t p;
    assert_string_equal(otelc_testing_attr_str(sd, "server.address"), path);
    assert_false(otelc_testing_attr_int(sd, "server.port", &p));
    /* An unread reply is ended when the context is freed. */
    assert_int_equal(otelc_redisAppendCommand(u, "GET %s", "k"), REDIS_OK);
    size_t before = otelc_memory_exporter_count(mem);
    otelc_redisFree(u);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    assert_int_equal(last_span()->status, OTELC_STATUS_ERROR);
}

static void test_broken_connection(void **state)
{
    redisContext *k = redisConnect("127.0.0.1", port);
    assert_true(k && !k->err);
    redisReply *r = otelc_redisCommand(k, "CLIENT KILL SKIPME no");
    freeReplyObject(r);
    assert_null(otelc_redisCommand(k, "GET %s", "user:1"));
    const otelc_span_data *sd = last_span();
    const char *type = otelc_testing_attr_str(sd, "error.type");
    assert_string_equal(sd->name, "GET 0");
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_true(strcmp(type, "eof") == 0 || strcmp(type, "io") == 0);
    otelc_redisFree(k);
}

static void test_no_leaks(void **state)
{
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        const otelc_span_data *sd = db_spans_find_leak(mem, secrets[i]);
        if (sd) fail_msg("\"%s\" leaked in span \"%s\"", secrets[i], sd->name);
    }
    assert_true(otelc_memory_exporter_count(mem) >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_select),      cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_unix_socket), cmocka_unit_test(test_broken_connection),
        cmocka_unit_test(test_no_leaks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
