/*
 * hiredis_calls.h - the functions hiredis.c calls in the library it
 * instruments: directly in libotelc-hiredis, through libotelc-auto's table
 * of real functions there (see real_call.h).
 */
#ifndef OTELC_INSTRUMENT_HIREDIS_CALLS_H
#define OTELC_INSTRUMENT_HIREDIS_CALLS_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "real_call.h"

/* clang-format off */
#define REDIS_CALLS(X) \
    X(freeReplyObject) \
    X(redisAsyncCommandArgv) \
    X(redisAsyncFormattedCommand) \
    X(redisAppendCommandArgv) \
    X(redisAppendFormattedCommand) \
    X(redisFree) \
    X(redisGetReply) \
    X(redisvFormatCommand)
/* clang-format on */

REAL_CALL_TABLE(hiredis_calls, auto_hiredis, REDIS_CALLS);

#define REDIS(f) CALL(auto_hiredis, f)

#endif
