/*
 * shim_hiredis.c - hiredis's synchronous command functions, interposed:
 * each runs the hiredis instrumentation's wrapper of the same name
 * (instrument/hiredis/hiredis.c), and so do the asynchronous context's
 * redisAsyncCommand family. The printf-like ones hand their arguments on
 * as a va_list, to the v-variants. hiredis frees an async context with
 * redisFree, through this shim, which drops its state.
 */
#include <stdarg.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "auto.h"
#include "hiredis_calls.h"
#include "otelc/instrument/hiredis.h"

hiredis_calls auto_hiredis;

/* clang-format off */
#define SHIM_CALLS(X) \
    X(redisvCommand) \
    X(redisCommandArgv) \
    X(redisvAppendCommand) \
    X(redisvAsyncCommand)
/* clang-format on */
static struct {
    SHIM_CALLS(REAL_CALL_SLOT)
} real;

#define RESOLVE(f)      &auto_resolve(&auto_hiredis.f, #f)
#define RESOLVE_SHIM(f) &auto_resolve(&real.f, #f)

static bool resolve(void)
{
    return true REDIS_CALLS(RESOLVE) SHIM_CALLS(RESOLVE_SHIM);
}

AUTO_EXPORT void *redisvCommand(redisContext *c, const char *format, va_list ap)
{
    if (!auto_begin(AUTO_REDIS, resolve)) return real.redisvCommand(c, format, ap);
    void *reply = otelc_redisvCommand(c, format, ap);
    auto_end(AUTO_REDIS);
    return reply;
}

AUTO_EXPORT void *redisCommand(redisContext *c, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    void *reply = redisvCommand(c, format, ap);
    va_end(ap);
    return reply;
}

AUTO_EXPORT void *redisCommandArgv(redisContext *c, int argc, const char **argv,
                                   const size_t *argvlen)
{
    if (!auto_begin(AUTO_REDIS, resolve)) return real.redisCommandArgv(c, argc, argv, argvlen);
    void *reply = otelc_redisCommandArgv(c, argc, argv, argvlen);
    auto_end(AUTO_REDIS);
    return reply;
}

AUTO_EXPORT int redisvAppendCommand(redisContext *c, const char *format, va_list ap)
{
    if (!auto_begin(AUTO_REDIS, resolve)) return real.redisvAppendCommand(c, format, ap);
    int rc = otelc_redisvAppendCommand(c, format, ap);
    auto_end(AUTO_REDIS);
    return rc;
}

AUTO_EXPORT int redisAppendCommand(redisContext *c, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int rc = redisvAppendCommand(c, format, ap);
    va_end(ap);
    return rc;
}

AUTO_EXPORT int redisAppendCommandArgv(redisContext *c, int argc, const char **argv,
                                       const size_t *argvlen)
{
    if (!auto_begin(AUTO_REDIS, resolve))
        return auto_hiredis.redisAppendCommandArgv(c, argc, argv, argvlen);
    int rc = otelc_redisAppendCommandArgv(c, argc, argv, argvlen);
    auto_end(AUTO_REDIS);
    return rc;
}

AUTO_EXPORT int redisGetReply(redisContext *c, void **reply)
{
    if (!auto_begin(AUTO_REDIS, resolve)) return auto_hiredis.redisGetReply(c, reply);
    int rc = otelc_redisGetReply(c, reply);
    auto_end(AUTO_REDIS);
    return rc;
}

AUTO_EXPORT void redisFree(redisContext *c)
{
    if (!auto_begin(AUTO_REDIS, resolve)) {
        auto_hiredis.redisFree(c);
        return;
    }
    otelc_redisFree(c);
    auto_end(AUTO_REDIS);
}

AUTO_EXPORT int redisvAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                                   const char *format, va_list ap)
{
    if (!auto_begin(AUTO_REDIS, resolve))
        return real.redisvAsyncCommand(ac, fn, privdata, format, ap);
    int rc = otelc_redisvAsyncCommand(ac, fn, privdata, format, ap);
    auto_end(AUTO_REDIS);
    return rc;
}

AUTO_EXPORT int redisAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                                  const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int rc = redisvAsyncCommand(ac, fn, privdata, format, ap);
    va_end(ap);
    return rc;
}

AUTO_EXPORT int redisAsyncCommandArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                                      int argc, const char **argv, const size_t *argvlen)
{
    if (!auto_begin(AUTO_REDIS, resolve))
        return auto_hiredis.redisAsyncCommandArgv(ac, fn, privdata, argc, argv, argvlen);
    int rc = otelc_redisAsyncCommandArgv(ac, fn, privdata, argc, argv, argvlen);
    auto_end(AUTO_REDIS);
    return rc;
}
