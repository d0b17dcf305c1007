/*
 * serve.h - the pieces of `otelc serve` (serve.c) shared by its endpoint
 * files: serve_db.c (the users table in SQLite or PostgreSQL), serve_net.c
 * (outgoing HTTP through the otelc libcurl instrumentation: the downstream
 * fetch and POST /w3c/test) and serve_proc.c (POST /build and POST /test,
 * run by this otelc as child processes).
 *
 * Endpoints do not talk to libmicrohttpd: each fills a serve_reply (a
 * status and a JSON body), and serve.c queues it. Everything here is only
 * compiled when the otelc command is built with the instrumentations serve
 * needs (OTELC_SERVE).
 */
#ifndef OTELC_CLI_SERVE_H
#define OTELC_CLI_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "http_gate.h"
#include "json.h"

/* Request bodies larger than this are refused with 413 (memory stays bounded). */
#define SERVE_MAX_BODY ((size_t)1 << 20)

/* Bytes kept of a downstream response or a child process's output. */
#define SERVE_MAX_CAPTURE ((size_t)1 << 20)

typedef struct serve_config {
    const char *bind;       /* listening address (IPv4 or IPv6 literal) */
    unsigned port;          /* 0: any free port (printed at start) */
    const char *db;         /* "sqlite:PATH" or a postgresql:// / postgres:// URI */
    const char *downstream; /* URL fetched by GET /users/{id} ("{id}" replaced), or NULL */
    const char *service;    /* service.name override, or NULL */
    char exe[4096];         /* the otelc next to otelc-serve, run for /build and /test */
    char tmpdir[256];       /* private scratch directory, removed at exit */
    char sqlite_path[512];  /* the SQLite file in use ("" with PostgreSQL) */
    http_gate_config gate;  /* --allow-host, --cors-origin, bind; the port is read per request */
} serve_config;

/* What an endpoint answers: status and a malloc'd JSON body. */
typedef struct serve_reply {
    unsigned status;
    char *body;
    size_t len;
    const char *allow; /* for 405: the Allow header value */
    FILE *f;           /* open while the body is being written */
} serve_reply;

/* ---- Replies and JSON (serve.c) ------------------------------------------- */

/* Start writing a body with status; false (and a 500 reply) when out of memory. */
bool reply_open(serve_reply *r, unsigned status);

/* Finish the body started by reply_open(). */
void reply_close(serve_reply *r);

/* Replace the reply with {"error": message}. */
void reply_error(serve_reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void reply_free(serve_reply *r);

/* Write a NUL-terminated string as a JSON string. */
void serve_write_str(FILE *f, const char *s);

/* ---- The users table (serve_db.c) ------------------------------------------- */

typedef struct serve_user {
    long long id;
    char name[128];
    char email[128];
} serve_user;

/*
 * Check cfg->db and create the demo table with a few users (SQLite: the
 * file, by default one in cfg->tmpdir). Runs untraced, before the SDK.
 * Returns 0, or -1 with a message in err.
 */
int serve_db_setup(serve_config *cfg, char *err, size_t err_size);

/*
 * Look user id up, traced by the SQLite or libpq instrumentation. Returns 1
 * (found, *u filled), 0 (no such user) or -1 (database error, reason in err).
 */
int serve_db_user(const serve_config *cfg, long long id, serve_user *u, char *err, size_t err_size);

/* ---- Outgoing HTTP (serve_net.c) ---------------------------------------------- */

/* The outcome of one outgoing request. */
typedef struct serve_http_result {
    long status;     /* HTTP status, 0 when no response came */
    char error[256]; /* transport error when status is 0 */
    char *body;      /* the response body (malloc'd, NUL-terminated, bounded) */
    size_t len;
} serve_http_result;

/*
 * One traced request (a CLIENT span, child of this thread's current span):
 * GET when body is NULL, else POST body as application/json. Only http and
 * https URLs are followed. Free out->body afterwards.
 */
void serve_http(const char *url, const char *body, size_t len, serve_http_result *out);

/* POST /w3c/test with its parsed body. */
void serve_w3c_test(const json_value *doc, serve_reply *r);

/* ---- Child processes (serve_proc.c) ------------------------------------------- */

/* POST /build: the parsed body (a list of steps, or a whole pipeline object). */
void serve_build(const serve_config *cfg, const json_value *doc, const char *body, size_t len,
                 serve_reply *r);

/* POST /test: {"command": "...", "report": "path"[, "timeout": "5m"]}. */
void serve_test(const serve_config *cfg, const json_value *doc, serve_reply *r);

/* Send sig to every child process still running (their process groups). */
void serve_children_signal(int sig);

#endif
