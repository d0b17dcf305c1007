/*
 * serve.c - `otelc serve`: the demo service, built only from otelc's own
 * pieces. libmicrohttpd serves through the otelc wrapper (a SERVER span per
 * request, named by its route), outgoing calls go through the libcurl
 * instrumentation, the users table through the SQLite or libpq one, and
 * /build and /test run `otelc run` and `otelc junit` as children carrying
 * the request's context. One request to /users/{id} with a downstream thus
 * makes a trace across HTTP, SQL and another service.
 *
 * Every request first passes the gate of http_gate.h (its Host, Origin and
 * Content-Type), so that no web page open in the user's browser can make
 * the service run commands.
 *
 * Threads: libmicrohttpd runs a thread per connection, so a slow request
 * (a build, a downstream call) never holds up the others and /w3c/test can
 * call this same server. SIGINT and SIGTERM are blocked in every thread
 * (blocked before any thread starts) and taken by the main thread with
 * sigwait(), so no handler runs: stopping signals running children, stops
 * the daemon (requests in flight finish), then flushes the SDK.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef OTELC_SERVE
int cli_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("serve: this otelc was built without libmicrohttpd or libcurl (libmicrohttpd-dev, "
              "libcurl4-openssl-dev): the demo service is unavailable");
    return CLI_EXIT_INTERNAL;
}
#else

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench_core.h"
#include "http_gate_mhd.h"
#include "otelc/instrument/microhttpd.h"
#include "serve.h"

#define DEFAULT_PORT           8080
#define MAX_CONNECTIONS        128
#define CONNECTION_TIMEOUT_S   60
#define DRAIN_MS               20000 /* at most, for requests in flight at a stop */

/* Benchmarks measure the SDK: one at a time, and bounded so a request ends. */
#define BENCH_MAX_ITERATIONS   10000000.0
#define BENCH_MAX_THREADS_HTTP 8

/* What a handler needs to know about its request. */
typedef struct serve_request {
    const serve_config *cfg;
    struct MHD_Connection *conn;
    const char *path;
    const char *body;
    size_t len;
} serve_request;

/* Per-request state kept by MHD across handler calls (the body arrives in pieces). */
typedef struct req_state {
    char *body;
    size_t len, cap;
    bool too_large;
} req_state;

static pthread_mutex_t bench_lock = PTHREAD_MUTEX_INITIALIZER;

/* Requests begun and not yet completed, so that a stop can let them answer. */
static atomic_int in_flight;

/* ---- Replies and JSON --------------------------------------------------------- */

bool reply_open(serve_reply *r, unsigned status)
{
    reply_free(r);
    r->status = status;
    r->f = open_memstream(&r->body, &r->len);
    if (!r->f) {
        r->status = 500;
        return false;
    }
    return true;
}

void reply_close(serve_reply *r)
{
    if (!r->f) return;
    if (fclose(r->f) != 0) {
        free(r->body);
        r->body = NULL;
        r->len = 0;
        r->status = 500;
    }
    r->f = NULL;
}

void reply_free(serve_reply *r)
{
    if (r->f) fclose(r->f);
    free(r->body);
    r->f = NULL;
    r->body = NULL;
    r->len = 0;
}

void reply_error(serve_reply *r, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!reply_open(r, status)) return;
    fputs("{\"error\":", r->f);
    serve_write_str(r->f, msg);
    fputs("}\n", r->f);
    reply_close(r);
}

void serve_write_str(FILE *f, const char *s)
{
    otelc__json_write_string(f, s, strlen(s));
}

/* The request body as JSON in doc, or NULL after a 400 reply saying where it is wrong. */
static json_value *parse_body(const serve_request *q, json_doc *doc, serve_reply *r)
{
    json_options opt = {.max_depth = 64, .max_size = SERVE_MAX_BODY};
    json_error err = {0};
    json_value *root = otelc__json_parse(doc, q->body ? q->body : "", q->len, &opt, &err);
    if (!root)
        reply_error(r, 400, "invalid JSON body at line %u, column %u: %s", err.line, err.column,
                    err.message);
    return root;
}

/* ---- GET /health, GET /trace-context --------------------------------------------- */

static void ep_health(const serve_request *q, serve_reply *r)
{
    (void)q;
    if (!reply_open(r, 200)) return;
    fputs("{\"status\":\"ok\"}\n", r->f);
    reply_close(r);
}

static void ep_trace_context(const serve_request *q, serve_reply *r)
{
    otelc_span *span = otelc_server_span_get(otelc_mhd_current(q->conn));
    otelc_span_context sc = otelc_span_get_context(span);
    char trace_id[33], span_id[17], tp[56];
    otelc_trace_id_hex(&sc, trace_id);
    otelc_span_id_hex(&sc, span_id);
    otelc_traceparent_format(&sc, tp);
    if (!reply_open(r, 200)) return;
    fprintf(r->f,
            "{\"trace_id\":\"%s\",\"span_id\":\"%s\",\"flags\":\"%02x\",\"sampled\":%s,"
            "\"traceparent\":\"%s\",\"tracestate\":",
            trace_id, span_id, sc.trace_flags,
            otelc_span_context_is_sampled(&sc) ? "true" : "false", tp);
    serve_write_str(r->f, sc.trace_state ? sc.trace_state : "");
    fputs("}\n", r->f);
    reply_close(r);
}

/* ---- POST /benchmark ------------------------------------------------------------- */

/* Member key of obj as a whole number in [lo, hi]; absent leaves *out. false after a 400. */
static bool number_member(const json_value *obj, const char *key, double lo, double hi,
                          uint64_t *out, serve_reply *r)
{
    const json_value *v = otelc__json_object_get(obj, key);
    if (!v) return true;
    double d = v->type == JSON_NUMBER ? v->u.number.d : -1;
    if (v->type != JSON_NUMBER || d != floor(d) || d < lo || d > hi) {
        reply_error(r, 400, "\"%s\" must be a whole number from %.0f to %.0f", key, lo, hi);
        return false;
    }
    *out = (uint64_t)d;
    return true;
}

static bool bench_params_from(const json_value *doc, bench_params *p, serve_reply *r)
{
    uint64_t threads = 1;
    bench_params_default(p);
    if (doc && doc->type != JSON_OBJECT) {
        reply_error(r, 400, "the body must be an object such as {\"iterations\": 10000}");
        return false;
    }
    if (!number_member(doc, "iterations", 1, BENCH_MAX_ITERATIONS, &p->iterations, r) ||
        !number_member(doc, "warmup", 0, BENCH_MAX_ITERATIONS, &p->warmup, r) ||
        !number_member(doc, "threads", 1, BENCH_MAX_THREADS_HTTP, &threads, r))
        return false;
    p->threads = (int)threads;
    char err[256];
    if (!bench_params_check(p, err, sizeof err)) {
        reply_error(r, 400, "%s", err);
        return false;
    }
    return true;
}

/* Run the benchmark and answer with bench_result_json()'s object. */
static void bench_reply(const bench_params *p, serve_reply *r)
{
    bench_result res;
    pthread_mutex_lock(&bench_lock);
    int rc = bench_run(p, &res);
    pthread_mutex_unlock(&bench_lock);
    if (rc != 0) {
        reply_error(r, 500, "the benchmark could not start its threads");
        return;
    }
    size_t need = bench_result_json(&res, NULL, 0);
    char *buf = malloc(need + 1);
    if (!buf) {
        reply_error(r, 500, "out of memory");
        return;
    }
    bench_result_json(&res, buf, need + 1);
    if (reply_open(r, 200)) {
        fputs(buf, r->f);
        fputc('\n', r->f);
        reply_close(r);
    }
    free(buf);
}

static void ep_benchmark(const serve_request *q, serve_reply *r)
{
    /* An empty body asks for the defaults. */
    json_doc doc = JSON_DOC_INIT;
    json_value *root = q->len ? parse_body(q, &doc, r) : NULL;
    bench_params p;
    if ((root || !q->len) && bench_params_from(root, &p, r)) bench_reply(&p, r);
    otelc__json_free(&doc);
}

/* ---- GET /users/{id} --------------------------------------------------------------- */

/* A user id: 1 to 18 digits, not zero. */
static bool parse_id(const char *s, long long *id)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 18 || s[n] != '\0') return false;
    *id = strtoll(s, NULL, 10);
    return *id > 0;
}

/* The downstream URL with every "{id}" replaced (malloc'd), or NULL. */
static char *downstream_url(const char *tmpl, long long id)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", id);
    size_t count = 0;
    for (const char *p = strstr(tmpl, "{id}"); p; p = strstr(p + 4, "{id}")) count++;
    char *out = malloc(strlen(tmpl) + count * (size_t)n + 1), *w = out;
    if (!out) return NULL;
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{id}", 4) == 0) {
            memcpy(w, num, (size_t)n);
            w += n;
            p += 4;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

/* "downstream": the response as JSON when it is JSON, else as a string. */
static void write_downstream(FILE *f, const char *url, const serve_http_result *h)
{
    fputs(",\"downstream\":{\"url\":", f);
    serve_write_str(f, url);
    fprintf(f, ",\"status\":%ld,\"body\":", h->status);
    json_doc doc = JSON_DOC_INIT;
    if (otelc__json_parse(&doc, h->body ? h->body : "", h->len, NULL, NULL))
        otelc__json_write(f, doc.root);
    else
        otelc__json_write_string(f, h->body ? h->body : "", h->len);
    otelc__json_free(&doc);
    fputc('}', f);
}

/* Fetch the downstream for user u; the reply is 200 with both, or 502. */
static void user_with_downstream(const serve_request *q, const serve_user *u, serve_reply *r)
{
    char *url = q->cfg->downstream ? downstream_url(q->cfg->downstream, u->id) : NULL;
    serve_http_result h = {0};
    if (q->cfg->downstream && !url) {
        reply_error(r, 500, "out of memory");
        return;
    }
    if (url) serve_http(url, NULL, 0, &h);
    if (url && (h.status < 200 || h.status > 299)) {
        if (h.status)
            reply_error(r, 502, "downstream %s answered %ld", url, h.status);
        else
            reply_error(r, 502, "downstream %s failed: %s", url, h.error);
    } else if (reply_open(r, 200)) {
        fprintf(r->f, "{\"id\":%lld,\"name\":", u->id);
        serve_write_str(r->f, u->name);
        fputs(",\"email\":", r->f);
        serve_write_str(r->f, u->email);
        if (url) write_downstream(r->f, url, &h);
        fputs("}\n", r->f);
        reply_close(r);
    }
    free(h.body);
    free(url);
}

static void ep_user(const serve_request *q, serve_reply *r)
{
    serve_user u;
    char err[256];
    long long id;
    if (!parse_id(q->path + strlen("/users/"), &id)) {
        reply_error(r, 400, "a user id is a positive whole number, not \"%.64s\"",
                    q->path + strlen("/users/"));
        return;
    }
    int found = serve_db_user(q->cfg, id, &u, err, sizeof err);
    if (found < 0)
        reply_error(r, 503, "database error: %s", err);
    else if (found == 0)
        reply_error(r, 404, "no user %lld", id);
    else
        user_with_downstream(q, &u, r);
}

/* ---- POST /build, /test, /w3c/test ----------------------------------------------------- */

static void ep_build(const serve_request *q, serve_reply *r)
{
    json_doc doc = JSON_DOC_INIT;
    if (parse_body(q, &doc, r)) serve_build(q->cfg, doc.root, q->body, q->len, r);
    otelc__json_free(&doc);
}

static void ep_test(const serve_request *q, serve_reply *r)
{
    json_doc doc = JSON_DOC_INIT;
    if (parse_body(q, &doc, r)) serve_test(q->cfg, doc.root, r);
    otelc__json_free(&doc);
}

static void ep_w3c(const serve_request *q, serve_reply *r)
{
    json_doc doc = JSON_DOC_INIT;
    if (parse_body(q, &doc, r)) serve_w3c_test(doc.root, r);
    otelc__json_free(&doc);
}

/* ---- Routing ---------------------------------------------------------------------- */

/* What a route reads from the request body. */
typedef enum route_body {
    BODY_NONE,
    BODY_JSON,
    BODY_JSON_OR_EMPTY, /* an empty body, sent without a Content-Type, is fine too */
} route_body;

typedef struct route {
    const char *method;
    const char *path; /* a template: a trailing "{id}" matches one non-empty segment */
    void (*fn)(const serve_request *, serve_reply *);
    route_body body;
} route;

static const route routes[] = {
    {"GET", "/health", ep_health, BODY_NONE},
    {"GET", "/trace-context", ep_trace_context, BODY_NONE},
    {"POST", "/build", ep_build, BODY_JSON},
    {"POST", "/test", ep_test, BODY_JSON},
    {"POST", "/benchmark", ep_benchmark, BODY_JSON_OR_EMPTY},
    {"GET", "/users/{id}", ep_user, BODY_NONE},
    {"POST", "/w3c/test", ep_w3c, BODY_JSON},
};

#define ROUTE_COUNT (sizeof routes / sizeof *routes)

static bool route_matches(const char *tmpl, const char *path)
{
    const char *param = strstr(tmpl, "{id}");
    if (!param) return strcmp(tmpl, path) == 0;
    size_t n = (size_t)(param - tmpl);
    return strncmp(tmpl, path, n) == 0 && path[n] != '\0' && !strchr(path + n, '/');
}

static const route *find_route(const char *path)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        if (route_matches(routes[i].path, path)) return &routes[i];
    return NULL;
}

/* Whether the request's body goes to rt as JSON: then it must be sent as JSON. */
static bool body_is_json(const route *rt, const char *method, const req_state *st,
                         const char *content_type)
{
    if (!rt || strcmp(method, rt->method) != 0 || rt->body == BODY_NONE) return false;
    bool empty = st->len == 0 && !st->too_large;
    return !(rt->body == BODY_JSON_OR_EMPTY && empty && !content_type);
}

/*
 * The gate's verdict (http_gate.h), before any route runs. The port is the
 * daemon's, read here: with --port 0 it is known only once the daemon runs.
 */
static http_gate_verdict gate(const serve_request *q, const char *method, const route *rt,
                              const req_state *st)
{
    http_gate_config cfg = q->cfg->gate;
    http_gate_request req;
    cfg.port = http_gate_mhd_port(q->conn);
    http_gate_mhd_request(q->conn, method, &req);
    req.json_body = body_is_json(rt, method, st, req.content_type);
    return http_gate_check(&cfg, &req);
}

static http_gate_verdict dispatch(const serve_request *q, const char *method, const req_state *st,
                                  serve_reply *r)
{
    const route *rt = find_route(q->path);
    if (rt) otelc_mhd_set_route(q->conn, rt->path);
    http_gate_verdict v = gate(q, method, rt, st);
    if (v.status) {
        reply_error(r, v.status, "%s", v.reason);
    } else if (v.preflight) {
        if (reply_open(r, 204)) reply_close(r);
    } else if (!rt) {
        reply_error(r, 404, "no route for %.200s", q->path);
    } else if (strcmp(method, rt->method) != 0) {
        reply_error(r, 405, "%s %s: use %s", method, rt->path, rt->method);
        r->allow = rt->method;
    } else if (st->too_large) {
        reply_error(r, 413, "the body is larger than %zu bytes", SERVE_MAX_BODY);
    } else {
        rt->fn(q, r);
    }
    return v;
}

/* ---- libmicrohttpd glue ---------------------------------------------------------------- */

/* Keep upload data up to SERVE_MAX_BODY; beyond that only remember it was too large. */
static bool body_append(req_state *st, const char *data, size_t n)
{
    if (st->too_large || n > SERVE_MAX_BODY - st->len) {
        st->too_large = true;
        return true;
    }
    if (st->len + n + 1 > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n + 1) cap *= 2;
        char *grown = realloc(st->body, cap);
        if (!grown) return false;
        st->body = grown;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    st->body[st->len] = '\0';
    return true;
}

static otelc_mhd_result send_reply(struct MHD_Connection *c, serve_reply *r,
                                   const http_gate_config *gate, const http_gate_verdict *v)
{
    if (!r->body) reply_error(r, 500, "out of memory");
    size_t len = r->body ? r->len : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) return MHD_NO;
    r->body = NULL; /* MHD frees it with the response */
    if (len) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    http_gate_mhd_headers(resp, gate, v);
    if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    otelc_mhd_result ret = otelc_mhd_queue_response(c, r->status, resp, (int64_t)len);
    MHD_destroy_response(resp);
    return ret;
}

static otelc_mhd_result handle(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    req_state *st = *con_cls;
    if (!st) {
        /* First call: only the headers are in; the body follows in later calls. */
        *con_cls = st = calloc(1, sizeof *st);
        if (st) atomic_fetch_add(&in_flight, 1);
        return st ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        bool ok = body_append(st, upload, *upload_size);
        *upload_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    serve_request q = {cls, c, url, st->body, st->len};
    serve_reply r = {0};
    http_gate_verdict v = dispatch(&q, method, st, &r);
    otelc_mhd_result ret = send_reply(c, &r, &q.cfg->gate, &v);
    reply_free(&r);
    return ret;
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    req_state *st = *con_cls;
    if (!st) return;
    free(st->body);
    free(st);
    atomic_fetch_sub(&in_flight, 1);
    *con_cls = NULL;
}

/* ---- Command line ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("usage: otelc serve [--port P] [--bind ADDR] [--db sqlite:PATH|postgresql://...]\n"
          "                   [--downstream URL] [--service NAME]\n"
          "                   [--allow-host NAME]... [--cors-origin ORIGIN]...\n"
          "\n"
          "Run the otelc demo service: every request is a SERVER span, outgoing calls are\n"
          "CLIENT spans carrying the trace, SQL statements are spans.\n"
          "\n"
          "  GET  /health          {\"status\":\"ok\"}\n"
          "  GET  /trace-context   the server span's trace_id, span_id, flags, traceparent\n"
          "  GET  /users/{id}      a user from the database, then a GET of --downstream\n"
          "  POST /build           a JSON list of pipeline steps, run as `otelc run` runs them\n"
          "  POST /test            {\"command\": \"...\", \"report\": \"junit.xml\"}: run, import\n"
          "  POST /benchmark       {\"iterations\": N, \"warmup\": M}: `otelc bench` figures\n"
          "  POST /w3c/test        [{\"url\": ..., \"arguments\": ...}]: the W3C Trace Context\n"
          "                        test service (POSTs each arguments to its url)\n"
          "\n"
          "  -p, --port P          port to listen on (default 8080; 0: any free port)\n"
          "  -b, --bind ADDR       address to listen on (default 127.0.0.1)\n"
          "      --db DB           sqlite:PATH (default: a file in a temporary directory)\n"
          "                        or a postgresql:// connection URI\n"
          "      --downstream URL  fetched by /users/{id}; \"{id}\" is replaced by the id\n"
          "  -s, --service NAME    service.name (default otelc-serve, or OTEL_SERVICE_NAME)\n"
          "      --allow-host NAME\n"
          "                        also answer requests for this host name or address\n"
          "                        (besides localhost, *.localhost, 127.x.x.x, [::1] and\n"
          "                        the --bind address); repeatable\n"
          "      --cors-origin ORIGIN\n"
          "                        let web pages from ORIGIN (such as http://localhost:3000)\n"
          "                        call the service; repeatable\n"
          "  -h, --help            this help\n"
          "\n"
          "Requests for other host names are refused (403), and so are POSTs from other\n"
          "web origins, so that no web page can make the service run commands. JSON\n"
          "bodies must be sent with Content-Type: application/json (else 415).\n"
          "/build and /test run commands: expose the service to trusted clients only.\n"
          "Spans go where the OTEL_* environment says. SIGINT or SIGTERM stops the\n"
          "service after the requests in flight, and flushes the spans.\n"
          "\n"
          "Example:\n"
          "  OTEL_TRACES_EXPORTER=console otelc serve --port 8080 &\n"
          "  curl -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \\\n"
          "       http://127.0.0.1:8080/trace-context\n",
          f);
}

static bool parse_port(const char *s, unsigned *port)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 65535) {
        cli_error("serve: --port expects 0 to 65535, got \"%s\"", s);
        return false;
    }
    *port = (unsigned)v;
    return true;
}

/* Returns -1 to go on, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, serve_config *cfg)
{
    enum { OPT_DB = 256, OPT_DOWNSTREAM, OPT_ALLOW_HOST, OPT_CORS_ORIGIN };
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"db", required_argument, NULL, OPT_DB},
        {"downstream", required_argument, NULL, OPT_DOWNSTREAM},
        {"service", required_argument, NULL, 's'},
        {"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
        {"cors-origin", required_argument, NULL, OPT_CORS_ORIGIN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *why;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+p:b:s:h", longs, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (!parse_port(optarg, &cfg->port)) return CLI_EXIT_USAGE;
            break;
        case 'b':
            cfg->bind = optarg;
            break;
        case OPT_DB:
            cfg->db = optarg;
            break;
        case OPT_DOWNSTREAM:
            cfg->downstream = optarg;
            break;
        case 's':
            cfg->service = optarg;
            break;
        case OPT_ALLOW_HOST:
            if (!http_gate_add_host(&cfg->gate, optarg, &why)) {
                cli_error("serve: --allow-host \"%s\": %s", optarg, why);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_CORS_ORIGIN:
            if (!http_gate_add_cors_origin(&cfg->gate, optarg, &why)) {
                cli_error("serve: --cors-origin \"%s\": %s", optarg, why);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("serve", "unknown option or missing value", argv[optind - 1]);
        }
    }
    if (optind != argc) {
        return cli_usage_error("serve", "unexpected argument", argv[optind]);
    }
    cfg->gate.bind = cfg->bind;
    return -1;
}

/* ---- Starting and stopping ------------------------------------------------------------ */

/* The listening socket address from --bind; false when it is no IP literal. */
static bool bind_address(const serve_config *cfg, struct sockaddr_storage *ss, bool *v6)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    *v6 = false;
    if (inet_pton(AF_INET, cfg->bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)cfg->port);
        return true;
    }
    if (inet_pton(AF_INET6, cfg->bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)cfg->port);
        *v6 = true;
        return true;
    }
    cli_error("serve: --bind expects an IPv4 or IPv6 address, got \"%s\"", cfg->bind);
    return false;
}

static struct MHD_Daemon *start_daemon(serve_config *cfg, otelc_mhd *w)
{
    struct sockaddr_storage ss;
    bool v6;
    if (!bind_address(cfg, &ss, &v6)) return NULL;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, otelc_mhd_handler, w, MHD_OPTION_NOTIFY_COMPLETED,
        otelc_mhd_completed, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!d) {
        cli_error("serve: cannot listen on %s port %u", cfg->bind, cfg->port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info) cfg->port = info->port;
    /* Scripts start the service with --port 0 and read the port from this line. */
    printf("otelc serve: listening on http://%s%s%s:%u\n", v6 ? "[" : "", cfg->bind, v6 ? "]" : "",
           cfg->port);
    fflush(stdout);
    return d;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/*
 * The otelc that /build and /test run (`otelc run`, `exec`, `junit`): the
 * one next to this program, as installed, not the heavier otelc-serve.
 */
static bool find_otelc(serve_config *cfg)
{
    ssize_t n = readlink("/proc/self/exe", cfg->exe, sizeof cfg->exe - 1);
    if (n <= 0) {
        cli_error("serve: cannot find this program's path: %s", strerror(errno));
        return false;
    }
    cfg->exe[n] = '\0';
    char *slash = strrchr(cfg->exe, '/');
    size_t dir_len = slash ? (size_t)(slash - cfg->exe) + 1 : 0;
    if (dir_len + sizeof "otelc" > sizeof cfg->exe) {
        cli_error("serve: this program's path is too long");
        return false;
    }
    memcpy(cfg->exe + dir_len, "otelc", sizeof "otelc");
    if (access(cfg->exe, X_OK) != 0) {
        cli_error("serve: %s: %s (otelc-serve runs the otelc installed next to it)", cfg->exe,
                  strerror(errno));
        return false;
    }
    return true;
}

/* Scratch space for the default database and pipeline files, and otelc's path. */
static bool prepare_files(serve_config *cfg)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(cfg->tmpdir, sizeof cfg->tmpdir, "%s/otelc-serve.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(cfg->tmpdir)) {
        cli_error("serve: cannot create a directory in %s: %s", tmp ? tmp : "/tmp",
                  strerror(errno));
        cfg->tmpdir[0] = '\0';
        return false;
    }
    return find_otelc(cfg);
}

/* Block the stop signals in this thread and every thread started after; see the top. */
static void block_signals(sigset_t *stop, sigset_t *saved)
{
    sigemptyset(stop);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop, saved);
    /* A client that hangs up must not kill the service. */
    signal(SIGPIPE, SIG_IGN);
}

/*
 * Stop accepting, let the requests in flight send their answers (bounded),
 * then stop: MHD_stop_daemon() alone would close their connections first.
 */
static void stop_daemon(struct MHD_Daemon *d)
{
    MHD_socket listener = MHD_quiesce_daemon(d);
    for (int waited = 0; atomic_load(&in_flight) > 0 && waited < DRAIN_MS; waited += 20)
        usleep(20 * 1000);
    MHD_stop_daemon(d);
    if (listener != MHD_INVALID_SOCKET) close(listener);
}

static int serve_until_signal(serve_config *cfg, const sigset_t *stop)
{
    otelc_mhd_options opts = {.completed = request_done, .traceresponse = true};
    otelc_mhd *w = otelc_mhd_new(handle, cfg, &opts);
    struct MHD_Daemon *d = w ? start_daemon(cfg, w) : NULL;
    if (!d) {
        otelc_mhd_free(w);
        return CLI_EXIT_FAILURE;
    }
    int sig = 0;
    while (sigwait(stop, &sig) != 0) continue;
    fprintf(stderr, "otelc serve: %s, stopping\n", strsignal(sig));
    serve_children_signal(SIGTERM);
    stop_daemon(d);
    otelc_mhd_free(w);
    return CLI_EXIT_OK;
}

int cli_serve(int argc, char **argv)
{
    serve_config cfg = {.bind = "127.0.0.1", .port = DEFAULT_PORT};
    int rc = parse_args(argc, argv, &cfg);
    if (rc >= 0) return rc;
    sigset_t stop, saved;
    block_signals(&stop, &saved);
    /* The service's own launch context must not leak into the children it runs. */
    unsetenv("TRACEPARENT");
    unsetenv("TRACESTATE");
    unsetenv("BAGGAGE");
    char err[512];
    rc = CLI_EXIT_FAILURE;
    if (prepare_files(&cfg)) {
        if (serve_db_setup(&cfg, err, sizeof err) < 0) {
            cli_error("serve: %s", err);
        } else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            cli_error("serve: libcurl failed to initialise");
        } else {
            const char *service = cfg.service;
            if (!service && !getenv("OTEL_SERVICE_NAME")) service = "otelc-serve";
            cli_sdk_start(service); /* tracing off is reported; the service still serves */
            rc = serve_until_signal(&cfg, &stop);
            cli_sdk_finish();
            curl_global_cleanup();
        }
    }
    if (cfg.tmpdir[0]) nftw(cfg.tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rc;
}
#endif
