/*
 * examples/instrument_hiredis - Redis commands traced with libotelc-hiredis.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_instrument_hiredis 127.0.0.1 6379
 *
 * A plain command and a two-command pipeline, under one "cache-warmup"
 * span. db.query.text keeps the keys and shows every value as '?'.
 */
#include <stdio.h>
#include <stdlib.h>

#include "otelc/instrument/hiredis.h"
#include "otelc/otelc.h"

int main(int argc, char **argv)
{
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 6379;
    otelc_init(NULL);
    otelc_tracer *tracer = otelc_tracer_get("example.hiredis", NULL);
    otelc_span *warm = otelc_span_start(tracer, "cache-warmup", OTELC_SPAN_INTERNAL);
    otelc_scope scope = otelc_span_activate(warm);

    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        fprintf(stderr, "connect: %s\n", c ? c->errstr : "out of memory");
    } else {
        freeReplyObject(otelc_redisCommand(c, "SET %s %s", "greeting", "hello"));
        otelc_redisAppendCommand(c, "INCR %s", "visits");
        otelc_redisAppendCommand(c, "GET %s", "greeting");
        for (int i = 0; i < 2; i++) {
            void *reply = NULL;
            if (otelc_redisGetReply(c, &reply) == REDIS_OK) freeReplyObject(reply);
        }
    }
    if (c) otelc_redisFree(c);

    otelc_scope_exit(scope);
    otelc_span_end(warm);
    otelc_shutdown();
    return 0;
}
