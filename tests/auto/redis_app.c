/*
 * redis_app.c - a hiredis program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): commands sent
 * with redisCommand and redisCommandArgv, a pipeline of appended commands
 * read with redisGetReply, and a command the server refuses; then the
 * asynchronous context, driven by hand in a poll() loop: commands sent
 * with redisAsyncCommand and redisAsyncCommandArgv, one the server
 * refuses, a subscription, and a command still pending when the context is
 * freed. It prints each reply, under the label passed as privdata.
 *
 * usage: redis_app PORT
 */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

static int async_replies;

static void print_reply(const char *what, const redisReply *r)
{
    if (!r) {
        printf("%s: no reply\n", what);
        return;
    }
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR)
        printf("%s: %s\n", what, r->str);
    else if (r->type == REDIS_REPLY_INTEGER)
        printf("%s: %lld\n", what, r->integer);
    else
        printf("%s: type %d\n", what, r->type);
}

static void show(const char *what, redisReply *r)
{
    print_reply(what, r);
    if (r) freeReplyObject(r);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    async_replies++;
    print_reply(privdata, reply);
}

/* Run ac's I/O until `want` callbacks have run; false after 5 s. */
static bool async_wait(redisAsyncContext *ac, int want)
{
    for (int i = 0; i < 500 && async_replies < want; i++) {
        bool connected = ac->c.flags & REDIS_CONNECTED;
        if (connected) redisAsyncHandleWrite(ac);
        if (async_replies >= want) break;
        struct pollfd p = {.fd = ac->c.fd, .events = connected ? POLLIN : POLLOUT};
        if (poll(&p, 1, 10) < 0) return false;
        if (!p.revents) continue;
        if (connected)
            redisAsyncHandleRead(ac);
        else
            redisAsyncHandleWrite(ac);
    }
    return async_replies >= want;
}

static int run_async(int port)
{
    const char *argv_cmd[] = {"GET", "async:1"};
    redisAsyncContext *ac = redisAsyncConnect("127.0.0.1", port);
    if (!ac || ac->err) return 2;
    redisAsyncCommand(ac, on_reply, "async set", "SET async:1 %s", "SecretValue");
    redisAsyncCommandArgv(ac, on_reply, "async argv", 2, argv_cmd, NULL);
    redisAsyncCommand(ac, on_reply, "async notint", "INCR async:1");
    if (!async_wait(ac, 3)) return 2;
    redisAsyncCommand(ac, on_reply, "subscribed", "SUBSCRIBE news");
    if (!async_wait(ac, 4)) return 2;
    redisAsyncFree(ac); /* the subscription's callback gets NULL */

    ac = redisAsyncConnect("127.0.0.1", port);
    if (!ac || ac->err) return 2;
    redisAsyncCommand(ac, on_reply, "pending", "EXISTS async:1");
    redisAsyncFree(ac);
    return async_replies == 6 ? 0 : 2;
}

int main(int argc, char **argv)
{
    const char *argv_cmd[] = {"GET", "user:1"};
    if (argc != 2) return 2;
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (!c || c->err) return 2;
    show("set", redisCommand(c, "SET user:1 %s", "SecretValue"));
    show("argv", redisCommandArgv(c, 2, argv_cmd, NULL));
    redisAppendCommand(c, "SET counter %d", 7);
    redisAppendCommand(c, "INCRBY counter 5");
    for (int i = 0; i < 2; i++) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK) return 2;
        show("pipelined", reply);
    }
    show("wrongtype", redisCommand(c, "LPUSH user:1 x"));
    redisFree(c);
    return run_async(atoi(argv[1]));
}
