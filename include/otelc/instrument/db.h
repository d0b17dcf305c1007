/*
 * otelc/instrument/db.h - what every database instrumentation shares: the
 * SQL and Redis sanitizers that keep literal values out of db.query.text,
 * the query summary used as span name, and a helper that starts a database
 * CLIENT span with the semantic-convention attributes.
 *
 * These live in libotelc itself so that libotelc-pq, libotelc-sqlite and
 * libotelc-hiredis link nothing but otelc and the library they instrument,
 * and so that applications with their own database layer can use them.
 * Every function accepts any bytes (NUL-free or not) and never reads past
 * the given length.
 */
#ifndef OTELC_INSTRUMENT_DB_H
#define OTELC_INSTRUMENT_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "../trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound of db.query.summary, as the semantic conventions ask (255). */
#define OTELC_SQL_SUMMARY_MAX 255

/*
 * What otelc_sql_sanitize() learnt about a statement. operation and
 * collection are set only when the text holds exactly one of each (the
 * conventions allow parsing them only when a single one describes the
 * call); summary lists every operation and its tables in order
 * ("SELECT users", "INSERT archive SELECT orders") and is empty when no
 * operation was recognised. placeholders counts $1, ?, ?1, :name, @name and
 * $name outside literals; literals counts the values replaced by '?'.
 */
typedef struct otelc_sql_info {
    char operation[32];
    char collection[128];
    char summary[OTELC_SQL_SUMMARY_MAX + 1];
    unsigned placeholders;
    unsigned literals;
    unsigned statements;
} otelc_sql_info;

/*
 * Copy the len bytes of sql into out with every literal replaced by '?':
 * strings ('..' with '' or backslash escapes, E'..', B'..', X'..', N'..',
 * U&'..'), dollar-quoted strings ($$..$$, $tag$..$tag$), numbers (decimal,
 * exponent, 0x hex) and TRUE/FALSE. Comments (--, nested block comments) are
 * dropped and runs of white space become one space. Quoted identifiers
 * ("..", `..`), NULL and placeholders are kept. An unterminated literal or
 * comment swallows the rest of the text, so a cut-off statement never leaks
 * its tail. The output is never longer than the input: out_size = len + 1
 * never truncates; a smaller buffer is cut on a UTF-8 character boundary.
 * out is always NUL-terminated when out_size > 0; out may be NULL when only
 * info is wanted, and info may be NULL. Returns the bytes written to out
 * (without the NUL).
 */
size_t otelc_sql_sanitize(const char *sql, size_t len, char *out, size_t out_size,
                          otelc_sql_info *info);

/*
 * Write a Redis command as db.query.text in redis-cli syntax with the keys
 * kept and every value replaced by '?': "SET user:1 ?", "HSET h ? ? ? ?"
 * (field names are values too), "MSET a ? b ?". Keys are found from a table
 * of the common commands (strings, hashes, lists, sets, sorted sets,
 * streams, expiry, pub/sub channels, EVAL's numkeys); for commands not in
 * the table every argument is redacted. AUTH and HELLO have every argument
 * redacted, and for container commands (CONFIG, CLIENT, ACL, ...) only the
 * subcommand is kept. Arguments that are not plain printable words are
 * quoted and escaped as redis-cli does. The output is cut on an argument
 * boundary when out_size is too small (the ends of cut text are never
 * shown). argv[i] holds argvlen[i] bytes (argvlen NULL: NUL-terminated).
 * Returns the bytes written (without the NUL); out is NUL-terminated when
 * out_size > 0.
 */
size_t otelc_redis_sanitize(int argc, const char *const *argv, const size_t *argvlen, char *out,
                            size_t out_size);

/*
 * A database call about to be made, for otelc_db_span_start(). system is
 * db.system.name ("postgresql", "sqlite", ...); db_namespace, server_address
 * may be NULL and server_port 0 when unknown. query is the statement text
 * as sent (query_len bytes; SIZE_MAX: NUL-terminated); it is sanitized
 * unless parameterized is true and the text contains a placeholder, because
 * the conventions keep parameterized text as written.
 */
typedef struct otelc_db_call {
    const char *system;
    const char *db_namespace;
    const char *server_address;
    int server_port;
    const char *query;
    size_t query_len;
    bool parameterized;
} otelc_db_call;

/*
 * Start a CLIENT span for an SQL call with db.system.name, db.namespace,
 * server.address, server.port, db.query.text (sanitized as above),
 * db.query.summary, and db.operation.name / db.collection.name when a single
 * one is evident, all set before sampling. The span is named by the summary,
 * else by db.system.name. parent as in otelc_span_options (NULL: current).
 * start_ns 0: now. Never returns NULL.
 */
otelc_span *otelc_db_span_start(otelc_tracer *tracer, const otelc_db_call *call,
                                const otelc_context *parent, uint64_t start_ns);

/*
 * Record that a database call failed: db.response.status_code (when code
 * is not NULL or empty), error.type (code, else fallback_type, else
 * "_OTHER") and ERROR status with description (may be NULL).
 */
void otelc_db_span_fail(otelc_span *span, const char *code, const char *fallback_type,
                        const char *description);

#ifdef __cplusplus
}
#endif
#endif
