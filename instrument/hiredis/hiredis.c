/*
 * hiredis.c - hiredis wrappers that put each Redis command in a CLIENT span.
 *
 * Every command, whether sent with redisCommand or appended for a
 * pipeline, joins its context's FIFO of open spans; every reply read
 * through these wrappers ends the oldest one. Formatted commands are first
 * rendered with redisvFormatCommand so that the sanitizer sees the same
 * arguments the server will, then sent as they are.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn_state.h"
#include "hiredis_calls.h"
#include "otelc/instrument/db.h"
#include "otelc/instrument/hiredis.h"
#include "otelc/otelc.h"

#define MAX_ARGS       64 /* arguments looked at for db.query.text; the rest are cut */
#define QUERY_TEXT_MAX 1024
#define NO_REPLY       "no reply was read"

/* A pending span's note is the index its command SELECTs, or -1. */
typedef struct ctx_state {
    conn_base base; /* the span FIFO */
    int db;
} ctx_state;

static conn_registry states = CONN_REGISTRY_INIT;

static otelc_tracer *redis_tracer(void)
{
    return otelc_tracer_get("otelc.instrument.hiredis", OTELC_VERSION);
}

/* Call with states.lock held. */
static ctx_state *state_of(const redisContext *c, bool create)
{
    return conn_state(&states, c, sizeof(ctx_state), create);
}

static int current_db(const redisContext *c)
{
    fork_lock(&states.lock);
    ctx_state *s = state_of(c, false);
    int db = s ? s->db : 0;
    pthread_mutex_unlock(&states.lock);
    return db;
}

/* SELECT's index when argv is a well-formed SELECT, else -1. */
static int select_index(int argc, const char **argv, const size_t *lens)
{
    int v = 0;
    if (argc != 2 || lens[0] != 6 || strncasecmp(argv[0], "SELECT", 6) != 0) return -1;
    if (lens[1] == 0 || lens[1] > 5) return -1;
    for (size_t i = 0; i < lens[1]; i++) {
        if (argv[1][i] < '0' || argv[1][i] > '9') return -1;
        v = v * 10 + (argv[1][i] - '0');
    }
    return v;
}

static void set_server(otelc_attr *attrs, size_t *n, const redisContext *c)
{
    if (c->connection_type == REDIS_CONN_UNIX && c->unix_sock.path) {
        attrs[(*n)++] = OTELC_ATTR_STR("server.address", c->unix_sock.path);
        return;
    }
    if (c->tcp.host) attrs[(*n)++] = OTELC_ATTR_STR("server.address", c->tcp.host);
    if (c->tcp.port > 0) attrs[(*n)++] = OTELC_ATTR_INT("server.port", c->tcp.port);
}

static otelc_span *start_span(const redisContext *c, int argc, const char **argv,
                              const size_t *lens)
{
    char text[QUERY_TEXT_MAX], op[64], ns[16], name[96];
    otelc_attr attrs[7];
    size_t n = 0;
    size_t oplen = argc > 0 ? lens[0] : 0;
    if (oplen >= sizeof(op)) oplen = sizeof(op) - 1;
    memcpy(op, argc > 0 ? argv[0] : "", oplen);
    op[oplen] = '\0';
    snprintf(ns, sizeof(ns), "%d", current_db(c));
    otelc_redis_sanitize(argc, argv, lens, text, sizeof(text));
    attrs[n++] = OTELC_ATTR_STR("db.system.name", "redis");
    attrs[n++] = OTELC_ATTR_STR("db.namespace", ns);
    if (op[0]) attrs[n++] = OTELC_ATTR_STR("db.operation.name", op);
    attrs[n++] = OTELC_ATTR_STR("db.query.text", text);
    set_server(attrs, &n, c);
    snprintf(name, sizeof(name), "%s %s", op[0] ? op : "redis", ns);
    otelc_span_options o = {.kind = OTELC_SPAN_CLIENT, .attrs = attrs, .attr_count = n};
    return otelc_span_start_with(redis_tracer(), name, &o);
}

static void enqueue(const redisContext *c, otelc_span *span, int select_db)
{
    fork_lock(&states.lock);
    bool queued = conn_push(&states, c, sizeof(ctx_state), span, select_db);
    pthread_mutex_unlock(&states.lock);
    if (!queued) otelc_span_end(span); /* out of memory: a short span beats a lost one */
}

/* End the span of a command hiredis refused to queue. */
static void end_unsent(otelc_span *span)
{
    otelc_db_span_fail(span, NULL, "_OTHER", "the command could not be queued");
    otelc_span_end(span);
}

/* Start the span for argv and queue it; failures to send end it at once. */
static void track(redisContext *c, int argc, const char **argv, const size_t *lens, int sent_ok)
{
    otelc_span *span = start_span(c, argc, argv, lens);
    if (!sent_ok) {
        end_unsent(span);
        return;
    }
    enqueue(c, span, select_index(argc, argv, lens));
}

static conn_pending *dequeue(const redisContext *c)
{
    fork_lock(&states.lock);
    conn_pending *p = conn_pop(&states, c);
    pthread_mutex_unlock(&states.lock);
    return p;
}

static void set_db(const redisContext *c, int db)
{
    fork_lock(&states.lock);
    ctx_state *s = state_of(c, true);
    if (s) s->db = db;
    pthread_mutex_unlock(&states.lock);
}

/* The error prefix ("ERR", "WRONGTYPE"): low cardinality, and never an argument. */
static void error_prefix(const redisReply *r, char *out, size_t size)
{
    size_t n = 0;
    while (r->str && n < r->len && n + 1 < size && r->str[n] != ' ' && r->str[n] >= 'A' &&
           r->str[n] <= 'Z')
        n++;
    memcpy(out, r->str ? r->str : "", n);
    out[n] = '\0';
}

/* End span with reply r; select_db is its command's SELECT index, or -1. */
static void end_with(const redisContext *c, otelc_span *span, int64_t select_db,
                     const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_ERROR) {
        char code[32];
        error_prefix(r, code, sizeof(code));
        otelc_db_span_fail(span, code, "_OTHER", code[0] ? code : "error reply");
    } else if (r && select_db >= 0 && r->type == REDIS_REPLY_STATUS) {
        set_db(c, (int)select_db);
    }
    otelc_span_end(span);
}

static void end_with_reply(const redisContext *c, conn_pending *p, const redisReply *r)
{
    end_with(c, p->span, p->note, r);
    free(p);
}

static const char *io_error_type(int err)
{
    switch (err) {
    case REDIS_ERR_IO:
        return "io";
    case REDIS_ERR_EOF:
        return "eof";
    case REDIS_ERR_PROTOCOL:
        return "protocol";
    default:
        return "_OTHER";
    }
}

/* The connection broke: no open span of c will ever get its reply. */
static void fail_all(redisContext *c)
{
    conn_pending *p;
    while ((p = dequeue(c)) != NULL) {
        otelc_db_span_fail(p->span, NULL, io_error_type(c->err), c->errstr);
        otelc_span_end(p->span);
        free(p);
    }
}

int otelc_redisGetReply(redisContext *c, void **reply)
{
    void *r = NULL;
    if (!c) return REDIS_ERR;
    int rc = REDIS(redisGetReply)(c, &r);
    if (reply) *reply = r;
    if (rc != REDIS_OK) {
        int io_errno = errno; /* hiredis documents errno as the cause of REDIS_ERR_IO */
        fail_all(c);
        errno = io_errno;
        return rc;
    }
    if (!r) return rc; /* non-blocking context: nothing yet */
    conn_pending *p = dequeue(c);
    if (p) end_with_reply(c, p, r);
    if (!reply) REDIS(freeReplyObject)(r);
    return rc;
}

/* The blocking half of redisCommand: read the oldest reply when the context blocks. */
static void *command_reply(redisContext *c)
{
    void *reply = NULL;
    if (!(c->flags & REDIS_BLOCK)) return NULL;
    if (otelc_redisGetReply(c, &reply) != REDIS_OK) return NULL;
    return reply;
}

/*
 * Split a RESP-formatted command ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") into
 * argument pointers into cmd. Returns argc, or -1 when malformed.
 */
static int parse_formatted(const char *cmd, size_t len, const char **argv, size_t *lens)
{
    size_t pos = 0;
    long argc = 0;
    char *end;
    if (len < 4 || cmd[0] != '*') return -1;
    argc = strtol(cmd + 1, &end, 10);
    if (argc < 0 || *end != '\r') return -1;
    pos = (size_t)(end - cmd) + 2;
    int kept = 0;
    for (long i = 0; i < argc && kept < MAX_ARGS; i++) {
        if (pos >= len || cmd[pos] != '$') return -1;
        long n = strtol(cmd + pos + 1, &end, 10);
        if (n < 0 || *end != '\r') return -1;
        pos = (size_t)(end - cmd) + 2;
        if ((size_t)n > len - pos) return -1;
        argv[kept] = cmd + pos;
        lens[kept++] = (size_t)n;
        pos += (size_t)n + 2;
    }
    return kept;
}

/* Send a formatted command in a span; returns REDIS_OK or REDIS_ERR as redisAppend* do. */
static int append_formatted(redisContext *c, char *cmd, int len)
{
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    if (len < 0) return REDIS_ERR;
    int argc = parse_formatted(cmd, (size_t)len, argv, lens);
    int rc = REDIS(redisAppendFormattedCommand)(c, cmd, (size_t)len);
    /* The span is started before the buffer is freed: its text points into it. */
    if (argc > 0) track(c, argc, argv, lens, rc == REDIS_OK);
    free(cmd);
    return rc;
}

int otelc_redisvAppendCommand(redisContext *c, const char *format, va_list ap)
{
    char *cmd = NULL;
    if (!c) return REDIS_ERR;
    int len = REDIS(redisvFormatCommand)(&cmd, format, ap);
    if (len < 0) return REDIS_ERR; /* hiredis reports bad formats the same way */
    return append_formatted(c, cmd, len);
}

int otelc_redisAppendCommand(redisContext *c, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int rc = otelc_redisvAppendCommand(c, format, ap);
    va_end(ap);
    return rc;
}

/* The lengths of argv's first MAX_ARGS arguments, into lens; returns how many. */
static int arg_lengths(int argc, const char **argv, const size_t *argvlen, size_t *lens)
{
    int n = argc < MAX_ARGS ? argc : MAX_ARGS;
    for (int i = 0; i < n; i++) lens[i] = argvlen ? argvlen[i] : strlen(argv[i]);
    return n;
}

int otelc_redisAppendCommandArgv(redisContext *c, int argc, const char **argv,
                                 const size_t *argvlen)
{
    size_t lens[MAX_ARGS];
    if (!c || !argv) return REDIS_ERR;
    int rc = REDIS(redisAppendCommandArgv)(c, argc, argv, argvlen);
    int n = arg_lengths(argc, argv, argvlen, lens);
    if (n > 0) track(c, n, argv, lens, rc == REDIS_OK);
    return rc;
}

void *otelc_redisvCommand(redisContext *c, const char *format, va_list ap)
{
    if (otelc_redisvAppendCommand(c, format, ap) != REDIS_OK) return NULL;
    return command_reply(c);
}

void *otelc_redisCommand(redisContext *c, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    void *reply = otelc_redisvCommand(c, format, ap);
    va_end(ap);
    return reply;
}

void *otelc_redisCommandArgv(redisContext *c, int argc, const char **argv, const size_t *argvlen)
{
    if (otelc_redisAppendCommandArgv(c, argc, argv, argvlen) != REDIS_OK) return NULL;
    return command_reply(c);
}

static void end_span(otelc_span *span, int64_t note)
{
    (void)note;
    otelc_span_end(span);
}

void otelc_redis_forget(const redisContext *c)
{
    ctx_state *found = conn_detach(&states, c);
    if (!found) return;
    conn_fail_pending(&found->base, "_OTHER", NO_REPLY, end_span);
    free(found);
}

void otelc_redisFree(redisContext *c)
{
    if (!c) return;
    otelc_redis_forget(c);
    REDIS(redisFree)(c);
}

/*
 * The asynchronous API. hiredis keeps each command's callback and calls
 * it exactly once: with the reply, or with NULL when the context is freed
 * (by redisAsyncFree, or by hiredis itself after a disconnect). So a span
 * rides in a record given to hiredis as the command's privdata, and
 * async_reply() ends it on that one call. Subscriptions and MONITOR are
 * the exception (their callbacks are called once per message, UNSUBSCRIBE's
 * never): those pass through untraced.
 */
typedef struct async_call {
    otelc_span *span;
    otelc_context *parent; /* current when the command was sent; current again in fn */
    redisCallbackFn *fn;
    void *privdata;
    int select_db; /* the index the command SELECTs, or -1 */
} async_call;

/* Whether hiredis may call a command's callback more than once, or never. */
static bool is_subscription(const char *name, size_t len)
{
    static const char *const names[] = {"SUBSCRIBE",    "PSUBSCRIBE",   "SSUBSCRIBE", "UNSUBSCRIBE",
                                        "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0) return true;
    return false;
}

/* A record with the started span of argv, or NULL: not traced (subscription, out of memory). */
static async_call *async_begin(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata, int argc,
                               const char **argv, const size_t *lens)
{
    if (argc < 1 || is_subscription(argv[0], lens[0])) return NULL;
    async_call *call = malloc(sizeof(*call));
    if (!call) return NULL;
    call->parent = otelc_context_current();
    call->span = start_span(&ac->c, argc, argv, lens);
    call->fn = fn;
    call->privdata = privdata;
    call->select_db = select_index(argc, argv, lens);
    return call;
}

static void async_free(async_call *call)
{
    otelc_context_release(call->parent);
    free(call);
}

/* The callback hiredis gets instead of the user's: end the span, then call the user's. */
static void async_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    async_call *call = privdata;
    if (reply) {
        end_with(&ac->c, call->span, call->select_db, reply);
    } else {
        if (ac->c.err)
            otelc_db_span_fail(call->span, NULL, io_error_type(ac->c.err), ac->c.errstr);
        else
            otelc_db_span_fail(call->span, NULL, "_OTHER", NO_REPLY);
        otelc_span_end(call->span);
        /* Only a context being freed gets NULL: its database index goes with it. */
        otelc_redis_forget(&ac->c);
    }
    if (call->fn) {
        otelc_scope scope = otelc_context_attach(call->parent);
        call->fn(ac, reply, call->privdata);
        otelc_scope_exit(scope);
    }
    async_free(call);
}

/* What the wrappers return after hiredis answered rc for call's command. */
static int async_sent(async_call *call, int rc)
{
    if (rc != REDIS_OK) { /* hiredis kept no callback: nothing will end the span */
        end_unsent(call->span);
        async_free(call);
    }
    return rc;
}

int otelc_redisvAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                             const char *format, va_list ap)
{
    char *cmd = NULL;
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    if (!ac) return REDIS_ERR;
    int len = REDIS(redisvFormatCommand)(&cmd, format, ap);
    if (len < 0) return REDIS_ERR; /* hiredis reports bad formats the same way */
    int argc = parse_formatted(cmd, (size_t)len, argv, lens);
    async_call *call = async_begin(ac, fn, privdata, argc, argv, lens);
    int rc;
    if (call)
        rc = async_sent(call,
                        REDIS(redisAsyncFormattedCommand)(ac, async_reply, call, cmd, (size_t)len));
    else
        rc = REDIS(redisAsyncFormattedCommand)(ac, fn, privdata, cmd, (size_t)len);
    free(cmd);
    return rc;
}

int otelc_redisAsyncCommand(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                            const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int rc = otelc_redisvAsyncCommand(ac, fn, privdata, format, ap);
    va_end(ap);
    return rc;
}

int otelc_redisAsyncCommandArgv(redisAsyncContext *ac, redisCallbackFn *fn, void *privdata,
                                int argc, const char **argv, const size_t *argvlen)
{
    size_t lens[MAX_ARGS];
    if (!ac || !argv) return REDIS_ERR;
    int n = arg_lengths(argc, argv, argvlen, lens);
    async_call *call = async_begin(ac, fn, privdata, n, argv, lens);
    if (!call) return REDIS(redisAsyncCommandArgv)(ac, fn, privdata, argc, argv, argvlen);
    return async_sent(call,
                      REDIS(redisAsyncCommandArgv)(ac, async_reply, call, argc, argv, argvlen));
}
