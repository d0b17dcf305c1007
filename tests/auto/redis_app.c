/*
 * redis_app.c - a hiredis program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): commands sent
 * with redisCommand and redisCommandArgv, a pipeline of appended commands
 * read with redisGetReply, and a command the server refuses; it prints
 * each reply.
 *
 * usage: redis_app PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

static void show(const char *what, redisReply *r)
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
    freeReplyObject(r);
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
    return 0;
}
