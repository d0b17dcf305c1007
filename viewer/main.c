/*
 * main.c - the otelc-view program: `otelc view` and `otelc traces` exec it
 * (cli/launch.c), so that only they load SQLite, libmicrohttpd, libnghttp2
 * and PCRE2. Its first argument is the command; `traces` is traces.c's.
 *
 * `view` runs the local trace backend: the store, the ingest thread, the
 * receivers, the UI and the query API. SIGINT and SIGTERM are blocked in
 * every thread (before any starts) and taken by the main thread with
 * sigwait(): a stop refuses new connections, lets the requests in flight
 * finish, writes what is queued and closes the store.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "export/otlp.h"
#include "cli.h"
#include "forward.h"
#include "import_thread.h"
#include "ingest.h"
#include "self_export.h"
#include "server.h"
#include "store.h"
#include "traces.h"

#define DEFAULT_UI_PORT        16686
#define DEFAULT_OTLP_HTTP_PORT 4318
#define DEFAULT_OTLP_GRPC_PORT 4317
#define DEFAULT_MAX_SPANS      1000000
#define DEFAULT_RETENTION_MS   (7ull * 24 * 3600 * 1000)
#define MAX_IMPORTS            64
#define MAX_FORWARDS           7 /* the ingest queue's 8 commit listeners, less the API's */

typedef struct view_config {
    vw_server_options server;
    const char *db; /* as given: a path, ":memory:", or NULL for the default */
    char db_path[PATH_MAX];
    char tmpdir[PATH_MAX]; /* --db :memory:: a private directory removed at exit */
    uint64_t max_spans;
    uint64_t max_queued; /* --max-queued; 0: the ingest queue's default */
    uint64_t retention_ms;
    bool insecure;
    const char *imports[MAX_IMPORTS]; /* --import, in order */
    size_t import_count;
    const char *forwards[MAX_FORWARDS]; /* --forward */
    size_t forward_count;
    const char *forward_protocol;
} view_config;

/* ---- Command line ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: otelc view [--port P] [--otlp-http-port P] [--otlp-grpc-port P]\n"
          "                  [--bind ADDR] [--db FILE] [--max-spans N] [--retention DURATION]\n"
          "                  [--max-queued N]\n"
          "                  [--token TOKEN | --insecure] [--allow-host NAME]...\n"
          "                  [--cors-origin ORIGIN]... [--import FILE]...\n"
          "                  [--forward URL]... [--forward-protocol PROTOCOL]\n"
          "\n"
          "Run a local trace backend: receive spans over OTLP (HTTP and gRPC) and Zipkin,\n"
          "keep them in an SQLite file, and show them in a web UI with a query API\n"
          "(Jaeger's and Tempo's shapes, TraceQL).\n"
          "\n"
          "  -p, --port P              UI and query API port (default 16686)\n"
          "      --otlp-http-port P    OTLP/HTTP receiver: POST /v1/traces (default 4318)\n"
          "      --otlp-grpc-port P    OTLP/gRPC receiver (default 4317)\n"
          "                            a port of 0 picks a free one; -1 or off turns the\n"
          "                            receiver off. Zipkin v2 JSON is received at\n"
          "                            POST /api/v2/spans on the UI and OTLP/HTTP ports\n"
          "  -b, --bind ADDR           address to listen on (default 127.0.0.1)\n"
          "      --db FILE             the store (default $XDG_DATA_HOME/otelc/traces.db or\n"
          "                            ~/.local/share/otelc/traces.db); :memory: keeps\n"
          "                            nothing after the viewer stops\n"
          "      --max-spans N         keep at most N spans, removing the oldest traces\n"
          "                            (default 1000000; 0: no limit)\n"
          "      --retention DURATION  remove traces older than this: 30m, 12h, 7d\n"
          "                            (default 7d; 0: no limit)\n"
          "      --max-queued N        spans received but not yet in the file that the\n"
          "                            viewer holds (default 200000); past them senders\n"
          "                            are told to retry later (429)\n"
          "      --token TOKEN         every request must carry Authorization: Bearer TOKEN\n"
          "                            (the UI takes it once from http://HOST:PORT/#token=TOKEN)\n"
          "      --insecure            listen on an address other than loopback without a\n"
          "                            token: anyone who reaches the port reads every span\n"
          "      --allow-host NAME     also answer requests for this host name or address\n"
          "                            (besides localhost, *.localhost, 127.x.x.x, [::1] and\n"
          "                            the --bind address); repeatable\n"
          "      --cors-origin ORIGIN  let web pages from ORIGIN (such as\n"
          "                            http://localhost:3000) export spans and query;\n"
          "                            repeatable\n"
          "      --import FILE         load a file of OTLP requests (JSON lines, or protobuf\n"
          "                            records with 4-byte lengths) while serving; a\n"
          "                            directory: the files of an otelc spool\n"
          "                            (OTELC_SPOOL_DIR); repeatable\n"
          "      --forward URL         send everything stored on to a Collector or another\n"
          "                            OTLP backend (a queue, retried until it answers);\n"
          "                            repeatable\n"
          "      --forward-protocol P  http/protobuf (default), http/json or grpc\n"
          "  -h, --help                this help\n"
          "\n"
          "At start it prints what it listens on, one line each, then serves until\n"
          "SIGINT or SIGTERM:\n"
          "  otelc view: ui http://127.0.0.1:16686\n"
          "  otelc view: otlp-http http://127.0.0.1:4318\n"
          "  otelc view: otlp-grpc 127.0.0.1:4317\n"
          "  otelc view: db /home/me/.local/share/otelc/traces.db\n"
          "\n"
          "A sender is told its spans are stored only once they are in the file. Requests\n"
          "for other host names are refused (403), and so are POSTs from other web\n"
          "origins. The viewer traces its own queries only when OTEL_TRACES_EXPORTER says\n"
          "so, and never into itself.\n"
          "\n"
          "Example:\n"
          "  otelc view &\n"
          "  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 ./my-program\n",
          f);
}

/* A port: 0 to 65535, or -1 / "off" for none. */
static bool parse_port(const char *opt, const char *s, int *port)
{
    if (strcasecmp(s, "off") == 0 || strcmp(s, "-1") == 0) {
        *port = VW_PORT_OFF;
        return true;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 65535) {
        cli_error("view: %s expects 0 to 65535, -1 or off, not \"%s\"", opt, s);
        return false;
    }
    *port = (int)v;
    return true;
}

static bool parse_count(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        cli_error("view: %s expects a whole number, not \"%s\"", opt, s);
        return false;
    }
    *out = v;
    return true;
}

/* A duration as otelc reads them elsewhere (30s, 5m, 12h), and days: 7d. */
static bool parse_retention(const char *s, uint64_t *ms)
{
    size_t n = strlen(s);
    bool days = n > 1 && s[n - 1] == 'd';
    char hours[32];
    if (days && snprintf(hours, sizeof hours, "%.*sh", (int)(n - 1), s) >= (int)sizeof hours)
        days = false;
    if ((days ? cli_parse_duration(hours, ms) : cli_parse_duration(s, ms)) &&
        (!days || *ms <= UINT64_MAX / 24)) {
        if (days) *ms *= 24;
        return true;
    }
    cli_error("view: --retention expects a duration such as 30m, 12h or 7d, not \"%s\"", s);
    return false;
}

/* Returns -1 to go on, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, view_config *cfg)
{
    enum {
        OPT_OTLP_HTTP = 256,
        OPT_OTLP_GRPC,
        OPT_DB,
        OPT_MAX_SPANS,
        OPT_RETENTION,
        OPT_MAX_QUEUED,
        OPT_TOKEN,
        OPT_INSECURE,
        OPT_ALLOW_HOST,
        OPT_CORS_ORIGIN,
        OPT_IMPORT,
        OPT_FORWARD,
        OPT_FORWARD_PROTOCOL,
    };
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"otlp-http-port", required_argument, NULL, OPT_OTLP_HTTP},
        {"otlp-grpc-port", required_argument, NULL, OPT_OTLP_GRPC},
        {"bind", required_argument, NULL, 'b'},
        {"db", required_argument, NULL, OPT_DB},
        {"max-spans", required_argument, NULL, OPT_MAX_SPANS},
        {"retention", required_argument, NULL, OPT_RETENTION},
        {"max-queued", required_argument, NULL, OPT_MAX_QUEUED},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
        {"cors-origin", required_argument, NULL, OPT_CORS_ORIGIN},
        {"import", required_argument, NULL, OPT_IMPORT},
        {"forward", required_argument, NULL, OPT_FORWARD},
        {"forward-protocol", required_argument, NULL, OPT_FORWARD_PROTOCOL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    vw_server_options *so = &cfg->server;
    const char *why;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+p:b:h", longs, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'p':
            ok = parse_port("--port", optarg, &so->ui_port);
            break;
        case OPT_OTLP_HTTP:
            ok = parse_port("--otlp-http-port", optarg, &so->otlp_http_port);
            break;
        case OPT_OTLP_GRPC:
            ok = parse_port("--otlp-grpc-port", optarg, &so->otlp_grpc_port);
            break;
        case 'b':
            so->bind = optarg;
            break;
        case OPT_DB:
            cfg->db = optarg;
            break;
        case OPT_MAX_SPANS:
            ok = parse_count("--max-spans", optarg, &cfg->max_spans);
            break;
        case OPT_MAX_QUEUED:
            if ((ok = parse_count("--max-queued", optarg, &cfg->max_queued)) &&
                (cfg->max_queued == 0 || (size_t)cfg->max_queued != cfg->max_queued)) {
                cli_error("view: --max-queued expects a whole number above 0, not \"%s\"", optarg);
                ok = false;
            }
            break;
        case OPT_RETENTION:
            ok = parse_retention(optarg, &cfg->retention_ms);
            break;
        case OPT_TOKEN:
            so->token = optarg;
            break;
        case OPT_INSECURE:
            cfg->insecure = true;
            break;
        case OPT_ALLOW_HOST:
            if (!(ok = http_gate_add_host(&so->gate, optarg, &why)))
                cli_error("view: --allow-host \"%s\": %s", optarg, why);
            break;
        case OPT_CORS_ORIGIN:
            if (!(ok = http_gate_add_cors_origin(&so->gate, optarg, &why)))
                cli_error("view: --cors-origin \"%s\": %s", optarg, why);
            break;
        case OPT_IMPORT:
            if (!(ok = cfg->import_count < MAX_IMPORTS))
                cli_error("view: at most %d --import files", MAX_IMPORTS);
            else
                cfg->imports[cfg->import_count++] = optarg;
            break;
        case OPT_FORWARD:
            if (!(ok = cfg->forward_count < MAX_FORWARDS))
                cli_error("view: at most %d --forward targets", MAX_FORWARDS);
            else
                cfg->forwards[cfg->forward_count++] = optarg;
            break;
        case OPT_FORWARD_PROTOCOL:
            cfg->forward_protocol = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("view", "unknown option or missing value", argv[optind - 1]);
        }
        if (!ok) return CLI_EXIT_USAGE;
    }
    if (optind != argc) return cli_usage_error("view", "unexpected argument", argv[optind]);
    return -1;
}

/* ---- Where the store is -------------------------------------------------------------------- */

/* mkdir -p, each directory it creates private (0700). */
static bool make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* DIR/traces.db into cfg->db_path; false (reported) when it does not fit. */
static bool db_in(view_config *cfg, const char *dir)
{
    int n = snprintf(cfg->db_path, sizeof cfg->db_path, "%s/traces.db", dir);
    if (n > 0 && (size_t)n < sizeof cfg->db_path) return true;
    cli_error("view: the path of the store in %s is too long", dir);
    return false;
}

/* The store's file: --db, a private temporary one for :memory:, or the default place. */
static bool choose_db(view_config *cfg)
{
    if (cfg->db && strcmp(cfg->db, ":memory:") == 0) {
        /* The API reads through connections of its own: a file they can open, removed at exit. */
        const char *tmp = getenv("TMPDIR");
        snprintf(cfg->tmpdir, sizeof cfg->tmpdir, "%s/otelc-view.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(cfg->tmpdir)) {
            cli_error("view: cannot create a directory in %s: %s", tmp ? tmp : "/tmp",
                      strerror(errno));
            cfg->tmpdir[0] = '\0';
            return false;
        }
        return db_in(cfg, cfg->tmpdir);
    }
    if (cfg->db) {
        snprintf(cfg->db_path, sizeof cfg->db_path, "%s", cfg->db);
        return true;
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX];
    if (xdg && xdg[0] == '/')
        snprintf(dir, sizeof dir, "%s/otelc", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/share/otelc", home);
    else {
        cli_error(
            "view: neither XDG_DATA_HOME nor HOME is set: say where the store goes with --db");
        return false;
    }
    if (!make_dirs(dir)) {
        cli_error("view: cannot create %s: %s", dir, strerror(errno));
        return false;
    }
    return db_in(cfg, dir);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* ---- Self-tracing ---------------------------------------------------------------------------- */

/* Whether the endpoint exporter `name` of OTEL_TRACES_EXPORTER would use is this viewer. */
static bool exporter_is_self(const char *name, size_t n, const view_config *cfg,
                             const unsigned *ports, size_t nports)
{
    const char *ep = NULL;
    if (n == 4 && strncmp(name, "otlp", 4) == 0) {
        const char *proto = getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
        if (!proto) proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL");
        ep = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        if (!ep) ep = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (!ep)
            ep = proto && strcasecmp(proto, "grpc") == 0 ? "http://localhost:4317"
                                                         : "http://localhost:4318";
    } else if (n == 6 && strncmp(name, "zipkin", 6) == 0) {
        ep = getenv("OTEL_EXPORTER_ZIPKIN_ENDPOINT");
        if (!ep) ep = "http://localhost:9411/api/v2/spans";
    }
    return vw_endpoint_is_self(ep, cfg->server.bind, ports, nports);
}

/* The ports of the listeners from first to the last (VW_LISTEN_OTLP_GRPC) that listen; how many. */
static size_t open_ports(const vw_server *s, vw_listener first, unsigned ports[3])
{
    size_t n = 0;
    for (int l = first; l <= VW_LISTEN_OTLP_GRPC; l++)
        if (vw_server_port(s, (vw_listener)l)) ports[n++] = vw_server_port(s, (vw_listener)l);
    return n;
}

/*
 * Trace the viewer's own queries when OTEL_TRACES_EXPORTER asks for it in
 * so many words (an endpoint alone, as a shell that runs programs against
 * the viewer has, is not enough), unless an exporter would send to this
 * very viewer. Returns whether the SDK was started.
 */
static bool self_tracing_start(const view_config *cfg, const vw_server *s)
{
    const char *list = getenv("OTEL_TRACES_EXPORTER");
    if (!list || !*list || strcasecmp(list, "none") == 0) return false;
    unsigned ports[3];
    size_t nports = open_ports(s, VW_LISTEN_UI, ports);
    for (const char *p = list; *p;) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, " ,");
        if (n && exporter_is_self(p, n, cfg, ports, nports)) {
            fprintf(stderr, "otelc view: OTEL_TRACES_EXPORTER would send the viewer's own spans to "
                            "itself; self-tracing is off\n");
            return false;
        }
        p += n;
    }
    if (cli_sdk_start(getenv("OTEL_SERVICE_NAME") ? NULL : "otelc-view") != OTELC_OK) return false;
    return cli_sdk_active();
}

/* The viewer's OTLP receivers, for forget_down_records(). */
typedef struct receiver_ports {
    const char *bind;
    unsigned ports[3];
    size_t n;
} receiver_ports;

static bool is_receiver(const char *url, void *arg)
{
    const receiver_ports *r = arg;
    return vw_endpoint_is_self(url, r->bind, r->ports, r->n);
}

/*
 * Programs that ran before the viewer listened found its address down and
 * told the processes after them so (OTELC_BREAKER_INTERVAL, 60 s): those
 * records are wrong now, and left alone they would keep every program
 * started in the next minute from sending here.
 */
static void forget_down_records(const view_config *cfg, const vw_server *s)
{
    receiver_ports r = {.bind = cfg->server.bind};
    r.n = open_ports(s, VW_LISTEN_OTLP_HTTP, r.ports);
    if (r.n) otelc__shared_breaker_forget(is_receiver, &r);
}

/* ---- The query API --------------------------------------------------------------------------- */

typedef struct api_state {
    vw_api *api;
    otelc_tracer *tracer; /* self-tracing, or NULL */
} api_state;

static void api_handler(void *ctx, const vw_request *rq, vw_response *rs)
{
    api_state *st = ctx;
    if (!st->tracer) {
        vw_api_handle(st->api, rq, rs);
        return;
    }
    otelc_span *span = otelc_span_start(st->tracer, rq->method, OTELC_SPAN_SERVER);
    otelc_span_set_str(span, "http.request.method", rq->method);
    otelc_span_set_str(span, "url.path", rq->path);
    vw_api_handle(st->api, rq, rs);
    otelc_span_set_int(span, "http.response.status_code", rs->status);
    if (rs->status >= 500) otelc_span_set_status(span, OTELC_STATUS_ERROR, NULL);
    otelc_span_end(span);
}

/* ---- Running --------------------------------------------------------------------------------- */

/* "http://ADDR:PORT" or "ADDR:PORT" (brackets around IPv6). */
static void address(char *out, size_t size, const char *scheme, const char *bind, unsigned port)
{
    bool v6 = strchr(bind, ':') != NULL && bind[0] != '[';
    snprintf(out, size, "%s%s%s%s:%u", scheme, v6 ? "[" : "", bind, v6 ? "]" : "", port);
}

/* What the viewer listens on, as users send to it ("" for a listener turned off). */
typedef struct addresses {
    char ui[128], otlp_http[128], otlp_grpc[128];
} addresses;

static void addresses_of(const view_config *cfg, const vw_server *s, addresses *a)
{
    const char *bind = cfg->server.bind;
    unsigned ui = vw_server_port(s, VW_LISTEN_UI), http = vw_server_port(s, VW_LISTEN_OTLP_HTTP),
             grpc = vw_server_port(s, VW_LISTEN_OTLP_GRPC);
    *a = (addresses){0};
    if (ui) address(a->ui, sizeof a->ui, "http://", bind, ui);
    if (http) address(a->otlp_http, sizeof a->otlp_http, "http://", bind, http);
    if (grpc) address(a->otlp_grpc, sizeof a->otlp_grpc, "", bind, grpc);
}

static void print_addresses(const view_config *cfg, const addresses *a)
{
    if (a->ui[0]) printf("otelc view: ui %s\n", a->ui);
    if (a->otlp_http[0]) printf("otelc view: otlp-http %s\n", a->otlp_http);
    if (a->otlp_grpc[0]) printf("otelc view: otlp-grpc %s\n", a->otlp_grpc);
    printf("otelc view: db %s\n", cfg->tmpdir[0] ? ":memory:" : cfg->db_path);
    fflush(stdout); /* scripts start the viewer with port 0 and read these lines */
}

static bool is_loopback(const char *bind)
{
    struct in_addr a4;
    struct in6_addr a6;
    char literal[64];
    size_t n = strlen(bind);
    if (n >= 2 && bind[0] == '[' && bind[n - 1] == ']' && n - 2 < sizeof literal) {
        memcpy(literal, bind + 1, n - 2);
        literal[n - 2] = '\0';
        bind = literal;
    }
    if (inet_pton(AF_INET, bind, &a4) == 1) return ntohl(a4.s_addr) >> 24 == 127;
    return inet_pton(AF_INET6, bind, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Another address than loopback only with a token, or with --insecure said out loud. */
static bool exposure_allowed(const view_config *cfg)
{
    const vw_server_options *so = &cfg->server;
    if (is_loopback(so->bind) || (so->token && *so->token)) return true;
    if (!cfg->insecure) {
        cli_error("view: --bind %s makes every span readable by anyone who reaches this machine: "
                  "give --token TOKEN, or --insecure if that is what you want",
                  so->bind);
        return false;
    }
    fprintf(stderr,
            "otelc view: WARNING: listening on %s without a token (--insecure): anyone "
            "who reaches this machine can read and send spans\n",
            so->bind);
    return true;
}

static vw_ingest *open_store(const view_config *cfg)
{
    vw_store_options so = {
        .path = cfg->db_path,
        .checkpoint_thread = true,
        .max_spans = cfg->max_spans,
        .retention_ns = cfg->retention_ms * 1000000,
    };
    vw_store *store = NULL;
    char err[512];
    if (vw_store_open(&so, &store, err, sizeof err) < 0) {
        cli_error("view: %s", err);
        return NULL;
    }
    vw_ingest_options io = {.max_queued_spans = (size_t)cfg->max_queued};
    vw_ingest *in = NULL;
    if (vw_ingest_start(store, &io, &in) < 0) {
        cli_error("view: cannot start the ingest thread");
        vw_store_close(store);
        return NULL;
    }
    return in;
}

/* What runs, started in this order and stopped as running_stop() says. */
typedef struct running {
    vw_ingest *in;
    vw_forward *forwards[MAX_FORWARDS];
    size_t forward_count;
    vw_server *server;
    api_state api;
    vw_import_thread *import;
} running;

/* The forwarders first: the ingest queue's listeners are added before anything is stored. */
static bool start_forwards(const view_config *cfg, running *r)
{
    for (size_t i = 0; i < cfg->forward_count; i++) {
        char err[512];
        vw_forward *f =
            vw_forward_start(r->in, cfg->forwards[i], cfg->forward_protocol, 0, err, sizeof err);
        if (!f) {
            cli_error("view: --forward %s: %s", cfg->forwards[i], err);
            return false;
        }
        r->forwards[r->forward_count++] = f;
    }
    return true;
}

/* The query API, which learns the receivers' addresses and adds its commit listener. */
static bool start_api(const view_config *cfg, running *r, const addresses *a)
{
    vw_api_config ac = {
        .version = OTELC_VERSION,
        .otlp_http = a->otlp_http[0] ? a->otlp_http : NULL,
        .otlp_grpc = a->otlp_grpc[0] ? a->otlp_grpc : NULL,
        .rejected_spans = vw_server_rejected_spans(r->server),
        .forwards = r->forwards,
        .forward_count = r->forward_count,
    };
    r->api.api = vw_api_new(cfg->db_path, r->in, &ac);
    if (!r->api.api) cli_error("view: the query API cannot start (out of memory?)");
    return r->api.api != NULL;
}

/*
 * Start everything: store and ingest, forwarders, listeners, the API,
 * the import; then open and announce the addresses. Returns the exit
 * status of a failure, or -1 when all runs.
 */
static int running_start(view_config *cfg, running *r)
{
    if (!choose_db(cfg) || !(r->in = open_store(cfg))) return CLI_EXIT_FAILURE;
    if (!start_forwards(cfg, r)) return CLI_EXIT_USAGE;
    char err[512];
    cfg->server.ingest = r->in;
    if (vw_server_start(&cfg->server, &r->server, err, sizeof err) < 0) {
        cli_error("view: %s", err);
        return CLI_EXIT_FAILURE;
    }
    addresses a;
    addresses_of(cfg, r->server, &a);
    if (!start_api(cfg, r, &a)) return CLI_EXIT_FAILURE;
    if (cfg->import_count &&
        !(r->import = vw_import_thread_start(r->in, cfg->imports, cfg->import_count))) {
        cli_error("view: cannot start the import");
        return CLI_EXIT_FAILURE;
    }
    if (self_tracing_start(cfg, r->server))
        r->api.tracer = otelc_tracer_get("otelc-view", OTELC_VERSION);
    vw_server_open(r->server, api_handler, &r->api);
    forget_down_records(cfg, r->server);
    print_addresses(cfg, &a);
    return -1;
}

/*
 * Stop in the order the parts ask for: no more requests (those in flight
 * finish), no more reading of imports, then the ingest thread writes what
 * is queued and calls its listeners a last time, after which the
 * forwarders, the API and the server go. Whatever of it started.
 */
static void running_stop(running *r)
{
    vw_server_stop(r->server);
    vw_import_thread_stop(r->import);
    vw_ingest_stop(r->in);
    for (size_t i = 0; i < r->forward_count; i++) vw_forward_stop(r->forwards[i]);
    vw_api_free(r->api.api);
    vw_server_free(r->server);
    if (r->api.tracer) cli_sdk_finish();
}

static int view_main(int argc, char **argv)
{
    view_config cfg = {
        .server = {.ui_port = DEFAULT_UI_PORT,
                   .otlp_http_port = DEFAULT_OTLP_HTTP_PORT,
                   .otlp_grpc_port = DEFAULT_OTLP_GRPC_PORT,
                   .bind = "127.0.0.1"},
        .max_spans = DEFAULT_MAX_SPANS,
        .retention_ms = DEFAULT_RETENTION_MS,
    };
    int rc = parse_args(argc, argv, &cfg);
    if (rc >= 0) return rc;
    if (!exposure_allowed(&cfg)) return CLI_EXIT_USAGE;
    sigset_t stop, saved;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &saved);
    signal(SIGPIPE, SIG_IGN); /* a sender that hangs up must not stop the viewer */
    running r = {0};
    rc = running_start(&cfg, &r);
    if (rc < 0) {
        int sig = 0;
        while (sigwait(&stop, &sig) != 0) continue;
        fprintf(stderr, "otelc view: %s, stopping\n", strsignal(sig));
        rc = CLI_EXIT_OK;
    }
    running_stop(&r);
    if (cfg.tmpdir[0]) nftw(cfg.tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rc;
}

/* ---- The program ----------------------------------------------------------------------------- */

static void program_usage(FILE *f)
{
    fputs("usage: otelc-view view [options]           (what `otelc view` runs)\n"
          "       otelc-view traces COMMAND [options] (what `otelc traces` runs)\n"
          "\n"
          "otelc-view is the program behind `otelc view` and `otelc traces`; run\n"
          "'otelc view --help' or 'otelc traces --help'.\n",
          f);
}

/* Allocations from this size on are mappings of their own, unmapped when freed. */
#define OWN_MAPPING_FROM ((size_t)1 << 20)

int main(int argc, char **argv)
{
    cli_set_command_line(argc, argv);
    /*
     * Request bodies and decoded batches of many MiB come and go. glibc
     * raises its mmap threshold after each large free (up to 32 MiB), after
     * which such blocks stay in the heap of the thread that freed them:
     * with a thread per connection, memory a burst needed once would stay
     * taken. A fixed threshold gives it back.
     */
    mallopt(M_MMAP_THRESHOLD, (int)OWN_MAPPING_FROM);
    if (argc < 2) {
        program_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        program_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "view") == 0) return view_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "traces") == 0) return vw_traces_main(argc - 1, argv + 1);
    cli_error("otelc-view: unknown command \"%s\"", argv[1]);
    return CLI_EXIT_USAGE;
}
