/*
 * otelc/instrument/hiredis.h - CLIENT spans for Redis commands sent with
 * hiredis (link libotelc-hiredis).
 *
 * Each wrapper takes the arguments of the hiredis function it is named
 * after and returns what it returns: redisCommand -> otelc_redisCommand.
 * Every command is a span named "{command} {database index}" (the database
 * span-name rule with db.namespace as target) with db.system.name "redis",
 * db.operation.name (the command as written), db.query.text in redis-cli
 * syntax with keys kept and values replaced by '?' (AUTH and HELLO fully
 * redacted, see otelc_redis_sanitize()), db.namespace (the database index:
 * 0 at connect time, then whatever a successful SELECT sent through these
 * wrappers chose), server.address (host, or the Unix socket path) and
 * server.port. An error reply sets db.response.status_code and error.type
 * to its prefix ("ERR", "WRONGTYPE") and ERROR status described by that
 * prefix only, because Redis error messages may quote arguments. A broken
 * connection ends every open span of the context with error.type "io",
 * "eof", "protocol" or "_OTHER".
 *
 * Replies come back in the order commands were sent, so each context keeps
 * a FIFO of open spans: a span ends when its reply arrives, whichever call
 * reads it (otelc_redisCommand on a context with appended commands reads
 * the oldest reply first, exactly as hiredis does). Use
 * otelc_redisGetReply() for replies of otelc_redisAppendCommand*(), and
 * otelc_redisFree() (or otelc_redis_forget() before redisFree) to release
 * the per-context state, kept in a small thread-safe table keyed by the
 * context pointer. Spans are children of the calling thread's current
 * context, from the tracer "otelc.instrument.hiredis".
 *
 * The asynchronous context gets the same spans: otelc_redisAsyncCommand()
 * starts one when the command is queued and ends it when hiredis calls the
 * command's callback, which it does exactly once, with the reply or with
 * NULL when the context is freed. Subscriptions (SUBSCRIBE, PSUBSCRIBE,
 * SSUBSCRIBE and their UNSUBSCRIBE) and MONITOR are sent untraced: hiredis
 * calls their callbacks once per message, or never.
 */
#ifndef OTELC_INSTRUMENT_HIREDIS_H
#define OTELC_INSTRUMENT_HIREDIS_H

#include <stdarg.h>
#include <stddef.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#ifdef __cplusplus
extern "C" {
#endif

/* redisCommand in a span (printf-like format, as hiredis formats it). */
void *otelc_redisCommand(redisContext *c, const char *format, ...);

/* redisvCommand in a span. */
void *otelc_redisvCommand(redisContext *c, const char *format, va_list ap);

/* redisCommandArgv in a span (argvlen NULL: NUL-terminated arguments). */
void *otelc_redisCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen);

/* redisAppendCommand; the span ends when otelc_redisGetReply() reads its reply. */
int otelc_redisAppendCommand(redisContext *c, const char *format, ...);

/* redisvAppendCommand; as otelc_redisAppendCommand(). */
int otelc_redisvAppendCommand(redisContext *c, const char *format, va_list ap);

/* redisAppendCommandArgv; as otelc_redisAppendCommand(). */
int otelc_redisAppendCommandArgv(redisContext *c, int argc, const char **argv,
                                 const size_t *argvlen);

/*
 * redisGetReply, ending the oldest open span of c with the reply (or, on
 * a connection error, every open span with the error).
 */
int otelc_redisGetReply(redisContext *c, void **reply);

/*
 * End the context's open spans (ERROR: no reply) and forget its state.
 * For an async context pass &ac->c, from its disconnect callback.
 */
void otelc_redis_forget(const redisContext *c);

/* otelc_redis_forget(c), then redisFree(c). */
void otelc_redisFree(redisContext *c);

/*
 * redisAsyncCommand in a span, started now as a child of the current
 * context. hiredis is handed a small heap record and a callback of
 * otelc's instead of fn and privdata; when hiredis calls it, the span
 * ends (ERROR for an error reply as for otelc_redisCommand(); ERROR with
 * error.type "io", "eof", "protocol" or "_OTHER" for the NULL reply of a
 * context freed or disconnected with the command pending), then fn (when
 * not NULL) is called with the same reply and the caller's privdata,
 * unchanged, with the context that was current at this call made current
 * for its duration, so spans started in fn continue the trace. The record
 * is freed after fn returns. When hiredis refuses the command (REDIS_ERR)
 * the span ends at once with ERROR and fn is never called, as with
 * hiredis; ac NULL or a bad format returns REDIS_ERR with no span.
 * Subscriptions and MONITOR are passed to hiredis untouched, untraced.
 * A successful SELECT sets the context's database index for
 * later spans, in state keyed by &ac->c that outlives the context unless
 * a command was pending when it was freed: an async context that SELECTs
 * calls otelc_redis_forget(&ac->c) from its disconnect callback, or a
 * later context at the same address inherits the index (libotelc-auto
 * needs no such call: hiredis frees the context through redisFree).
 */
int otelc_redisAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                            const char *format, ...);

/* redisvAsyncCommand in a span; as otelc_redisAsyncCommand(). */
int otelc_redisvAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                             const char *format, va_list ap);

/*
 * redisAsyncCommandArgv in a span (argvlen NULL: NUL-terminated
 * arguments); as otelc_redisAsyncCommand().
 */
int otelc_redisAsyncCommandArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                                int argc, const char **argv, const size_t *argvlen);

#ifdef __cplusplus
}
#endif
#endif
