/*
 * redis_sanitize.c - a Redis command as db.query.text: the command and its
 * keys in redis-cli syntax, every value replaced by '?'.
 *
 * Which arguments are keys comes from a table in the spirit of Redis's own
 * COMMAND key specs (first key, last key, step). A command not in the table
 * keeps only its name: redacting too much is the safe failure.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "otelc/instrument/db.h"

typedef enum key_rule {
    KEYS_RANGE,    /* first..last by step; last < 0 counts from the end */
    KEYS_NONE,     /* every argument is a value */
    KEYS_KEEP_ALL, /* every argument is harmless (SELECT's index) */
    KEYS_SUBCMD,   /* keep the subcommand, redact the rest (CONFIG SET ..) */
    KEYS_EVAL,     /* script, numkeys, keys..., args... */
} key_rule;

typedef struct command_keys {
    const char *name;
    key_rule rule;
    int first, last, step;
} command_keys;

#define ONE_KEY(n)                                                                                 \
    {                                                                                              \
        n, KEYS_RANGE, 1, 1, 1                                                                     \
    }
#define ALL_KEYS(n)                                                                                \
    {                                                                                              \
        n, KEYS_RANGE, 1, -1, 1                                                                    \
    }
#define TWO_KEYS(n)                                                                                \
    {                                                                                              \
        n, KEYS_RANGE, 1, 2, 1                                                                     \
    }
#define NO_KEYS(n)                                                                                 \
    {                                                                                              \
        n, KEYS_NONE, 0, 0, 0                                                                      \
    }
#define SUBCMD(n)                                                                                  \
    {                                                                                              \
        n, KEYS_SUBCMD, 0, 0, 0                                                                    \
    }

static const command_keys commands[] = {
    /* strings */
    ONE_KEY("GET"),
    ONE_KEY("SET"),
    ONE_KEY("SETNX"),
    ONE_KEY("SETEX"),
    ONE_KEY("PSETEX"),
    ONE_KEY("GETSET"),
    ONE_KEY("GETDEL"),
    ONE_KEY("GETEX"),
    ONE_KEY("APPEND"),
    ONE_KEY("STRLEN"),
    ONE_KEY("INCR"),
    ONE_KEY("DECR"),
    ONE_KEY("INCRBY"),
    ONE_KEY("DECRBY"),
    ONE_KEY("INCRBYFLOAT"),
    ONE_KEY("GETRANGE"),
    ONE_KEY("SETRANGE"),
    ONE_KEY("GETBIT"),
    ONE_KEY("SETBIT"),
    ONE_KEY("BITCOUNT"),
    ALL_KEYS("MGET"),
    {"MSET", KEYS_RANGE, 1, -1, 2},
    {"MSETNX", KEYS_RANGE, 1, -1, 2},
    /* keyspace */
    ALL_KEYS("DEL"),
    ALL_KEYS("UNLINK"),
    ALL_KEYS("EXISTS"),
    ALL_KEYS("TOUCH"),
    ONE_KEY("TYPE"),
    ONE_KEY("EXPIRE"),
    ONE_KEY("PEXPIRE"),
    ONE_KEY("EXPIREAT"),
    ONE_KEY("PEXPIREAT"),
    ONE_KEY("TTL"),
    ONE_KEY("PTTL"),
    ONE_KEY("PERSIST"),
    ONE_KEY("DUMP"),
    ONE_KEY("RESTORE"),
    TWO_KEYS("RENAME"),
    TWO_KEYS("RENAMENX"),
    TWO_KEYS("COPY"),
    ALL_KEYS("WATCH"),
    NO_KEYS("KEYS"),
    NO_KEYS("SCAN"),
    NO_KEYS("RANDOMKEY"),
    NO_KEYS("ECHO"),
    {"SELECT", KEYS_KEEP_ALL, 0, 0, 0},
    {"PING", KEYS_NONE, 0, 0, 0},
    /* hashes: field names are values, they can be user data */
    ONE_KEY("HSET"),
    ONE_KEY("HSETNX"),
    ONE_KEY("HMSET"),
    ONE_KEY("HGET"),
    ONE_KEY("HMGET"),
    ONE_KEY("HDEL"),
    ONE_KEY("HGETALL"),
    ONE_KEY("HKEYS"),
    ONE_KEY("HVALS"),
    ONE_KEY("HLEN"),
    ONE_KEY("HEXISTS"),
    ONE_KEY("HINCRBY"),
    ONE_KEY("HINCRBYFLOAT"),
    ONE_KEY("HSCAN"),
    ONE_KEY("HSTRLEN"),
    /* lists */
    ONE_KEY("LPUSH"),
    ONE_KEY("RPUSH"),
    ONE_KEY("LPUSHX"),
    ONE_KEY("RPUSHX"),
    ONE_KEY("LPOP"),
    ONE_KEY("RPOP"),
    ONE_KEY("LRANGE"),
    ONE_KEY("LLEN"),
    ONE_KEY("LINDEX"),
    ONE_KEY("LSET"),
    ONE_KEY("LREM"),
    ONE_KEY("LTRIM"),
    ONE_KEY("LINSERT"),
    ONE_KEY("LPOS"),
    TWO_KEYS("RPOPLPUSH"),
    TWO_KEYS("LMOVE"),
    {"BLPOP", KEYS_RANGE, 1, -2, 1},
    {"BRPOP", KEYS_RANGE, 1, -2, 1},
    TWO_KEYS("BLMOVE"),
    TWO_KEYS("BRPOPLPUSH"),
    /* sets */
    ONE_KEY("SADD"),
    ONE_KEY("SREM"),
    ONE_KEY("SMEMBERS"),
    ONE_KEY("SISMEMBER"),
    ONE_KEY("SMISMEMBER"),
    ONE_KEY("SCARD"),
    ONE_KEY("SPOP"),
    ONE_KEY("SRANDMEMBER"),
    ONE_KEY("SSCAN"),
    TWO_KEYS("SMOVE"),
    ALL_KEYS("SINTER"),
    ALL_KEYS("SUNION"),
    ALL_KEYS("SDIFF"),
    ALL_KEYS("SINTERSTORE"),
    ALL_KEYS("SUNIONSTORE"),
    ALL_KEYS("SDIFFSTORE"),
    /* sorted sets */
    ONE_KEY("ZADD"),
    ONE_KEY("ZREM"),
    ONE_KEY("ZRANGE"),
    ONE_KEY("ZREVRANGE"),
    ONE_KEY("ZRANGEBYSCORE"),
    ONE_KEY("ZREVRANGEBYSCORE"),
    ONE_KEY("ZSCORE"),
    ONE_KEY("ZCARD"),
    ONE_KEY("ZCOUNT"),
    ONE_KEY("ZINCRBY"),
    ONE_KEY("ZRANK"),
    ONE_KEY("ZREVRANK"),
    ONE_KEY("ZPOPMIN"),
    ONE_KEY("ZPOPMAX"),
    ONE_KEY("ZSCAN"),
    ONE_KEY("ZREMRANGEBYSCORE"),
    ONE_KEY("ZREMRANGEBYRANK"),
    ONE_KEY("ZMSCORE"),
    /* streams, geo, hyperloglog */
    ONE_KEY("XADD"),
    ONE_KEY("XLEN"),
    ONE_KEY("XRANGE"),
    ONE_KEY("XREVRANGE"),
    ONE_KEY("XDEL"),
    ONE_KEY("XTRIM"),
    ONE_KEY("XACK"),
    ONE_KEY("GEOADD"),
    ONE_KEY("GEOPOS"),
    ONE_KEY("GEODIST"),
    ONE_KEY("GEOSEARCH"),
    ONE_KEY("PFADD"),
    ALL_KEYS("PFCOUNT"),
    ALL_KEYS("PFMERGE"),
    /* pub/sub: channels are the keys, messages are values */
    ONE_KEY("PUBLISH"),
    ALL_KEYS("SUBSCRIBE"),
    ALL_KEYS("UNSUBSCRIBE"),
    ALL_KEYS("PSUBSCRIBE"),
    ALL_KEYS("PUNSUBSCRIBE"),
    /* scripting */
    {"EVAL", KEYS_EVAL, 0, 0, 0},
    {"EVALSHA", KEYS_EVAL, 0, 0, 0},
    {"EVAL_RO", KEYS_EVAL, 0, 0, 0},
    {"EVALSHA_RO", KEYS_EVAL, 0, 0, 0},
    {"FCALL", KEYS_EVAL, 0, 0, 0},
    {"FCALL_RO", KEYS_EVAL, 0, 0, 0},
    /* credentials and administration: nothing but the subcommand survives */
    NO_KEYS("AUTH"),
    NO_KEYS("HELLO"),
    NO_KEYS("MIGRATE"),
    SUBCMD("CONFIG"),
    SUBCMD("CLIENT"),
    SUBCMD("ACL"),
    SUBCMD("CLUSTER"),
    SUBCMD("SCRIPT"),
    SUBCMD("OBJECT"),
    SUBCMD("MEMORY"),
    SUBCMD("XINFO"),
    SUBCMD("XGROUP"),
    SUBCMD("COMMAND"),
    SUBCMD("FUNCTION"),
    SUBCMD("DEBUG"),
    SUBCMD("MODULE"),
    SUBCMD("LATENCY"),
    SUBCMD("SLOWLOG"),
    /* no arguments worth hiding, none worth keeping */
    NO_KEYS("MULTI"),
    NO_KEYS("EXEC"),
    NO_KEYS("DISCARD"),
    NO_KEYS("UNWATCH"),
    NO_KEYS("INFO"),
    NO_KEYS("DBSIZE"),
    NO_KEYS("FLUSHDB"),
    NO_KEYS("FLUSHALL"),
    NO_KEYS("QUIT"),
    NO_KEYS("TIME"),
    NO_KEYS("SAVE"),
    NO_KEYS("BGSAVE"),
    NO_KEYS("WAIT"),
};

static const command_keys *find_command(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strlen(commands[i].name) == n && strncasecmp(commands[i].name, name, n) == 0)
            return &commands[i];
    return NULL;
}

/* Parse a small non-negative decimal (EVAL's numkeys); -1 when not one. */
static long small_number(const char *p, size_t n)
{
    long v = 0;
    if (n == 0 || n > 6) return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* True when argument i (1-based, after the command) is shown as written. */
static int arg_kept(const command_keys *ck, int i, int argc, const char *const *argv,
                    const size_t *lens)
{
    int nargs = argc - 1;
    switch (ck->rule) {
    case KEYS_KEEP_ALL:
        return 1;
    case KEYS_NONE:
        return 0;
    case KEYS_SUBCMD:
        return i == 1;
    case KEYS_EVAL: {
        long numkeys = nargs >= 2 ? small_number(argv[2], lens[2]) : -1;
        return i == 2 ? numkeys >= 0 : (numkeys > 0 && i >= 3 && i < 3 + numkeys);
    }
    case KEYS_RANGE: {
        int last = ck->last < 0 ? nargs + 1 + ck->last : ck->last;
        return i >= ck->first && i <= last && (i - ck->first) % ck->step == 0;
    }
    }
    return 0;
}

typedef struct out_buf {
    char *p;
    size_t cap; /* excluding the NUL */
    size_t n;
    int full;
} out_buf;

/* Bytes redis-cli would print for one argument, quoted when needed. */
static size_t quoted_len(const char *s, size_t n, int *quote)
{
    size_t len = 0;
    *quote = n == 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            len += 2;
            *quote = 1;
        } else if (c <= ' ' || c >= 0x7f || c == '\'') {
            len += 4; /* \xHH */
            *quote = 1;
        } else {
            len += 1;
        }
    }
    return *quote ? len + 2 : len;
}

static void put_arg(out_buf *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int quote;
    size_t need = quoted_len(s, n, &quote) + (o->n ? 1 : 0);
    if (o->full || need > o->cap - o->n) {
        o->full = 1; /* whole arguments or nothing: a cut key could mislead */
        return;
    }
    if (o->n) o->p[o->n++] = ' ';
    if (quote) o->p[o->n++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            o->p[o->n++] = '\\';
            o->p[o->n++] = (char)c;
        } else if (c <= ' ' || c >= 0x7f || c == '\'') {
            o->p[o->n++] = '\\';
            o->p[o->n++] = 'x';
            o->p[o->n++] = hex[c >> 4];
            o->p[o->n++] = hex[c & 0xf];
        } else {
            o->p[o->n++] = (char)c;
        }
    }
    if (quote) o->p[o->n++] = '"';
}

size_t otelc_redis_sanitize(int argc, const char *const *argv, const size_t *argvlen, char *out,
                            size_t out_size)
{
    out_buf o = {out, out_size ? out_size - 1 : 0, 0, !out || out_size == 0};
    size_t lens_local[16];
    if (!out || out_size == 0) return 0;
    out[0] = '\0';
    if (argc <= 0 || !argv) return 0;
    for (int i = 0; i < argc; i++)
        if (!argv[i]) return 0;
    /* EVAL's numkeys is the only look-back; the first lengths are enough for it. */
    for (int i = 0; i < argc && i < 16; i++) lens_local[i] = argvlen ? argvlen[i] : strlen(argv[i]);
    const command_keys *ck = find_command(argv[0], lens_local[0]);
    static const command_keys unknown = {"", KEYS_NONE, 0, 0, 0};
    if (!ck) ck = &unknown;
    put_arg(&o, argv[0], lens_local[0]);
    for (int i = 1; i < argc; i++) {
        size_t n = i < 16 ? lens_local[i] : (argvlen ? argvlen[i] : strlen(argv[i]));
        if (arg_kept(ck, i, argc, argv, lens_local))
            put_arg(&o, argv[i], n);
        else
            put_arg(&o, "?", 1);
    }
    out[o.n] = '\0';
    return o.n;
}
