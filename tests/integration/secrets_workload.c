/*
 * secrets_workload.c - the secrets audit's instrumented program
 * (tests/integration/secrets_audit.sh, scripts/secrets-audit.sh).
 *
 *   AUDIT_SQL=S AUDIT_URL=U AUDIT_HEADERS=H [AUDIT_REDIS_PORT=P AUDIT_REDIS_VALUE=V] \
 *       secrets_workload
 *
 * Does what an application does with secrets in reach while traced by
 * otelc_init()'s pipeline: a SQLite INSERT and SELECT with S as a literal, a
 * libcurl GET of U (which may carry user:password@ and ?token=) sending each
 * line of H as a header (an API key, an Authorization line), and with a port
 * a Redis SET, AUTH and HSET of V on 127.0.0.1. The table and the Redis key
 * are the audit's controls (names it must find exported). The inputs come
 * from the environment, which is not exported, so that the program's own
 * command line (exported as process.command_args) holds none of them.
 * Exits 0 when every call was made (their results do not matter: a failed
 * call is traced too), 2 without S or U, 3 when Redis was asked of a build
 * without hiredis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "otelc/instrument/curl.h"
#include "otelc/instrument/sqlite.h"
#include "otelc/otelc.h"
#ifdef AUDIT_HAVE_HIREDIS
#include <hiredis/hiredis.h>

#include "otelc/instrument/hiredis.h"
#endif

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

static void sql(const char *secret)
{
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) return;
    otelc_sqlite_instrument(db);
    sqlite3_exec(db, "CREATE TABLE CtlTable2b7 (name TEXT, password TEXT)", NULL, NULL, NULL);
    char *stmt = sqlite3_mprintf("INSERT INTO CtlTable2b7 VALUES ('alice', %Q)", secret);
    sqlite3_exec(db, stmt, NULL, NULL, NULL);
    sqlite3_free(stmt);
    stmt = sqlite3_mprintf("SELECT name FROM CtlTable2b7 WHERE password = '%q'", secret);
    sqlite3_exec(db, stmt, NULL, NULL, NULL);
    sqlite3_free(stmt);
    sqlite3_close(db);
}

static void http_get(const char *url, const char *headers)
{
    struct curl_slist *list = NULL;
    char line[1024];
    for (const char *p = headers; p && *p;) {
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        list = curl_slist_append(list, line);
        p += n + (p[n] == '\n');
    }
    CURL *easy = curl_easy_init();
    if (!easy) return;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 3000L);
    otelc_curl_perform(easy, list);
    curl_easy_cleanup(easy);
    curl_slist_free_all(list);
}

static int redis(const char *host, int port, const char *secret)
{
#ifndef AUDIT_HAVE_HIREDIS
    (void)host, (void)port, (void)secret;
    return 3;
#else
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        if (c) redisFree(c);
        return 0;
    }
    freeReplyObject(otelc_redisCommand(c, "SET CtlKey8a3 %s", secret));
    freeReplyObject(otelc_redisCommand(c, "AUTH default %s", secret));
    freeReplyObject(otelc_redisCommand(c, "HSET user:alice token %s", secret));
    redisFree(c);
    return 0;
#endif
}

int main(void)
{
    const char *sql_secret = getenv("AUDIT_SQL"), *url = getenv("AUDIT_URL");
    const char *redis_port = getenv("AUDIT_REDIS_PORT"), *redis_value = getenv("AUDIT_REDIS_VALUE");
    if (!sql_secret || !url) {
        fprintf(stderr, "secrets_workload: AUDIT_SQL and AUDIT_URL are needed\n");
        return 2;
    }
    otelc_init(NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    otelc_tracer *tracer = otelc_tracer_get("otelc.secrets_audit", NULL);
    otelc_span *job = otelc_span_start(tracer, "audit", OTELC_SPAN_SERVER);
    otelc_scope scope = otelc_span_activate(job);

    sql(sql_secret);
    http_get(url, getenv("AUDIT_HEADERS"));
    int rc = 0;
    if (redis_port && *redis_port)
        rc = redis("127.0.0.1", atoi(redis_port), redis_value ? redis_value : "");

    otelc_scope_exit(scope);
    otelc_span_end(job);
    otelc_shutdown();
    curl_global_cleanup();
    return rc;
}
