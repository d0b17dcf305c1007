/*
 * test_instrument_hiredis.c - libotelc-hiredis against a real Redis server
 * (started by tests/integration/instrument_hiredis.sh, which passes its
 * port and Unix socket in OTELC_TEST_REDIS_PORT / OTELC_TEST_REDIS_SOCK):
 * span names and db.* attributes, keys kept and values redacted, error
 * replies, SELECT tracking, pipelined spans ending in reply order, Unix
 * sockets, a broken connection, the asynchronous context (driven by hand
 * in a poll() loop, no event library), and no value or password exported.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/instrument/hiredis.h"
#include "unit/anyvalue.h"
#include "unit/db_spans.h"

static otelc_memory_exporter *mem;
static redisContext *c;
static int port;

static const char *const secrets[] = {"RedisSecretValue", "RedisPassw0rd", "RedisArgSecret",
                                      "HashFieldSecret",  "BinSecret",     "PipeSecret",
                                      "AsyncSecret"};

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

/* What an async command's callback saw. */
typedef struct seen {
    int calls;
    bool replied;          /* the last call had a reply */
    int type;              /* its type */
    void *privdata;        /* the privdata it was given */
    otelc_span_context in; /* the current span context inside the callback */
    uint8_t child_parent[8];
} seen;

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    seen *s = privdata;
    s->calls++;
    s->privdata = privdata;
    s->replied = reply != NULL;
    s->type = reply ? ((redisReply *)reply)->type : -1;
    otelc_context *cur = otelc_context_current();
    s->in = otelc_context_span_context(cur);
    otelc_context_release(cur);
    otelc_span *child =
        otelc_span_start(otelc_tracer_get("test", NULL), "in callback", OTELC_SPAN_INTERNAL);
    otelc_span_end(child);
    const otelc_span_data *sd = last_span();
    if (sd->has_parent) memcpy(s->child_parent, sd->parent_span_id, 8);
}

/* As hiredis.h asks of an async context that SELECTs. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    otelc_redis_forget(&ac->c);
}

static redisAsyncContext *async_connect(void)
{
    redisAsyncContext *ac = redisAsyncConnect("127.0.0.1", port);
    assert_true(ac && !ac->err);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

/*
 * Drive ac by hand until *calls reaches want (or 5 s pass): wait for the
 * connection to be writable until it is connected, then flush what is
 * queued and wait for replies. The context may be freed by hiredis inside
 * the last callback: ac is not touched after.
 */
static void async_wait(redisAsyncContext *ac, const int *calls, int want)
{
    for (int i = 0; i < 500 && *calls < want; i++) {
        bool connected = ac->c.flags & REDIS_CONNECTED;
        if (connected) redisAsyncHandleWrite(ac);
        if (*calls >= want) break;
        struct pollfd p = {.fd = ac->c.fd, .events = connected ? POLLIN : POLLOUT};
        assert_true(poll(&p, 1, 10) >= 0);
        if (!p.revents) continue;
        if (connected)
            redisAsyncHandleRead(ac);
        else
            redisAsyncHandleWrite(ac);
    }
    assert_int_equal(*calls, want);
}

static void assert_same_span(const otelc_span_data *a, const otelc_span_data *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->attr_count, b->attr_count);
    assert_true(av_attrs_equal(a->attrs, b->attrs, a->attr_count));
}

/* The spans of the async API are the sync API's, and the callback continues the caller's trace. */
static void test_async_commands(void **state)
{
    redisAsyncContext *ac = async_connect();
    otelc_span *parent =
        otelc_span_start(otelc_tracer_get("test", NULL), "caller", OTELC_SPAN_INTERNAL);
    otelc_span_context pc = otelc_span_get_context(parent);
    otelc_scope scope = otelc_span_activate(parent);
    seen s = {0};
    assert_int_equal(
        otelc_redisAsyncCommand(ac, on_reply, &s, "SET %s %s", "user:a", "AsyncSecret"), REDIS_OK);
    otelc_scope_exit(scope);
    async_wait(ac, &s.calls, 1);
    assert_ptr_equal(s.privdata, &s);
    assert_true(s.replied);
    assert_int_equal(s.type, REDIS_REPLY_STATUS);
    size_t n = otelc_memory_exporter_count(mem);
    const otelc_span_data *async_sd = otelc_memory_exporter_get(mem, n - 2);
    const otelc_span_data *child = otelc_memory_exporter_get(mem, n - 1);
    /* The command's span is a child of the caller; the callback runs in the caller's context. */
    assert_true(async_sd->has_parent);
    assert_memory_equal(async_sd->parent_span_id, pc.span_id, 8);
    assert_memory_equal(s.in.span_id, pc.span_id, 8);
    assert_memory_equal(child->context.trace_id, pc.trace_id, 16);
    assert_memory_equal(s.child_parent, pc.span_id, 8);
    assert_true(async_sd->end_ns <= child->start_ns);
    otelc_span_end(parent);

    run("SET %s %s", "user:a", "AsyncSecret");
    assert_same_span(async_sd, last_span());
    assert_string_equal(otelc_testing_attr_str(async_sd, "db.query.text"), "SET user:a ?");

    const char *argv[] = {"GET", "user:a"};
    s.calls = 0;
    assert_int_equal(otelc_redisAsyncCommandArgv(ac, on_reply, &s, 2, argv, NULL), REDIS_OK);
    async_wait(ac, &s.calls, 1);
    assert_int_equal(s.type, REDIS_REPLY_STRING);
    async_sd = otelc_memory_exporter_get(mem, otelc_memory_exporter_count(mem) - 2);
    redisReply *r = otelc_redisCommandArgv(c, 2, argv, NULL);
    freeReplyObject(r);
    assert_same_span(async_sd, last_span());

    /* An error reply, as the sync path reports it; a NULL callback still ends the span. */
    s.calls = 0;
    assert_int_equal(otelc_redisAsyncCommand(ac, NULL, NULL, "LPUSH %s x", "user:a"), REDIS_OK);
    assert_int_equal(otelc_redisAsyncCommand(ac, on_reply, &s, "PING"), REDIS_OK);
    async_wait(ac, &s.calls, 1);
    async_sd = otelc_memory_exporter_get(mem, otelc_memory_exporter_count(mem) - 3);
    assert_string_equal(async_sd->name, "LPUSH 0");
    assert_int_equal(async_sd->status, OTELC_STATUS_ERROR);
    run("LPUSH %s %s", "user:a", "x");
    assert_same_span(async_sd, last_span());

    /* A SELECT that succeeds names the database of the context's later spans. */
    s.calls = 0;
    assert_int_equal(otelc_redisAsyncCommand(ac, NULL, NULL, "SELECT 5"), REDIS_OK);
    assert_int_equal(otelc_redisAsyncCommand(ac, on_reply, &s, "GET k"), REDIS_OK);
    async_wait(ac, &s.calls, 1);
    assert_string_equal(otelc_memory_exporter_get(mem, otelc_memory_exporter_count(mem) - 2)->name,
                        "GET 0"); /* sent before SELECT's reply came */
    assert_int_equal(otelc_redisAsyncCommand(ac, on_reply, &s, "GET k"), REDIS_OK);
    async_wait(ac, &s.calls, 2);
    assert_string_equal(otelc_memory_exporter_get(mem, otelc_memory_exporter_count(mem) - 2)->name,
                        "GET 5");
    redisAsyncFree(ac);
}

/* Freeing the context with a command pending ends its span and calls back with NULL. */
static void test_async_free_pending(void **state)
{
    redisAsyncContext *ac = async_connect();
    seen s = {0};
    assert_int_equal(otelc_redisAsyncCommand(ac, on_reply, &s, "GET %s", "user:a"), REDIS_OK);
    size_t before = otelc_memory_exporter_count(mem);
    redisAsyncFree(ac);
    assert_int_equal(s.calls, 1);
    assert_false(s.replied);
    assert_ptr_equal(s.privdata, &s);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 2); /* GET, "in callback" */
    const otelc_span_data *sd = otelc_memory_exporter_get(mem, before);
    assert_string_equal(sd->name, "GET 0");
    assert_int_equal(sd->status, OTELC_STATUS_ERROR);
    assert_string_equal(otelc_testing_attr_str(sd, "error.type"), "_OTHER");
}

/* A command hiredis refuses (the context is disconnecting) ends its span at once. */
static void test_async_refused(void **state)
{
    redisAsyncContext *ac = async_connect();
    seen s = {0}, never = {0};
    assert_int_equal(otelc_redisAsyncCommand(ac, on_reply, &s, "PING"), REDIS_OK);
    redisAsyncDisconnect(ac); /* deferred until PING's reply */
    size_t before = otelc_memory_exporter_count(mem);
    assert_int_equal(otelc_redisAsyncCommand(ac, on_reply, &never, "GET %s", "user:a"), REDIS_ERR);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 1);
    assert_string_equal(last_span()->name, "GET 0");
    assert_int_equal(last_span()->status, OTELC_STATUS_ERROR);
    async_wait(ac, &s.calls, 1); /* hiredis frees ac after PING's callback */
    assert_true(s.replied);
    assert_int_equal(never.calls, 0);
}

static void on_message(redisAsyncContext *ac, void *reply, void *privdata)
{
    seen *s = privdata;
    s->calls++;
    s->privdata = privdata;
    s->replied = reply != NULL;
}

/* Subscriptions pass through untraced: their callback is called once per message. */
static void test_async_subscribe(void **state)
{
    redisAsyncContext *ac = async_connect();
    seen s = {0};
    size_t before = otelc_memory_exporter_count(mem);
    assert_int_equal(otelc_redisAsyncCommand(ac, on_message, &s, "SUBSCRIBE news"), REDIS_OK);
    async_wait(ac, &s.calls, 1); /* the subscription's confirmation */
    run("PUBLISH news %s", "AsyncSecret", NULL);
    async_wait(ac, &s.calls, 2);
    run("PUBLISH news %s", "AsyncSecret", NULL);
    async_wait(ac, &s.calls, 3);
    assert_ptr_equal(s.privdata, &s);
    assert_true(s.replied);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 2); /* the PUBLISH spans only */
    assert_int_equal(otelc_testing_count_named(mem, "SUBSCRIBE 0"), 0);
    redisAsyncFree(ac);
    assert_int_equal(s.calls, 4); /* hiredis's NULL reply at free */
    assert_false(s.replied);
    assert_int_equal(otelc_memory_exporter_count(mem), before + 2);
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
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_async_commands),
        cmocka_unit_test(test_async_free_pending),
        cmocka_unit_test(test_async_refused),
        cmocka_unit_test(test_async_subscribe),
        cmocka_unit_test(test_unix_socket),
        /* Last but one: it kills every other client, c included. */
        cmocka_unit_test(test_broken_connection),
        cmocka_unit_test(test_no_leaks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
