/*
 * traces.c - `otelc traces` (traces.h): the command line, the source it
 * names, and the subcommands list, get, wait and export (assert is in
 * traces_assert.c).
 *
 * Every subcommand reads through a vw_source, so --db (a store file, no
 * server) and --url (a running viewer) behave the same. Results go to
 * stdout, messages explaining a failure to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "export/otlp.h"
#include "traces.h"
#include "traces_cmd.h"

#define DEFAULT_URL       "http://127.0.0.1:16686"
#define LIST_LIMIT        20
#define CHECK_LIMIT       1000 /* wait and assert look at this many traces unless told */
#define POLL_MS           250
#define DEFAULT_WAIT_MS   30000
#define TABLE_SERVICE_MAX 24 /* columns wider than this are cut */
#define TABLE_NAME_MAX    48

static const char usage_text[] =
    "usage: otelc traces [--url URL | --db FILE] [--token T] COMMAND [options]\n"
    "\n"
    "Read traces from a running `otelc view` (--url; default $OTELC_VIEW_URL,\n"
    "else " DEFAULT_URL ") or straight from its store file (--db FILE, no\n"
    "server needed).\n"
    "\n"
    "commands:\n"
    "  list   [QUERY] [--limit N] [--since D | --start S --end S] [--json]\n"
    "         the newest traces matching the TraceQL QUERY (default: all), as a table\n"
    "         or JSON lines\n"
    "  get    TRACE_ID [--json]\n"
    "         one trace as a tree (the console exporter's format) or OTLP JSON\n"
    "  wait   QUERY [--count N] [--timeout D]\n"
    "         wait until N traces (default 1) match, at most D (default 30s);\n"
    "         prints their ids\n"
    "  assert QUERY [--complete] [--allow-remote-root] [--no-errors] [--min-spans N]\n"
    "         [--count N] [--junit FILE]\n"
    "         check every matching trace (at least one must match; exactly N with\n"
    "         --count): one root and every parent present, no error span, at least\n"
    "         N spans; --junit writes the result as a JUnit XML report\n"
    "  export [QUERY] --output FILE [--format otlp-json|otlp-proto]\n"
    "         write matching traces as OTLP JSON lines (one ExportTraceServiceRequest\n"
    "         per trace and line) or as protobuf, each request after its length\n"
    "         (4 bytes, big-endian: the Collector file exporter's proto format)\n"
    "\n"
    "  --url URL      the viewer to ask        --db FILE   the store file to read\n"
    "  --token T      sent as Authorization: Bearer (default $OTELC_VIEW_TOKEN)\n"
    "  --limit N      traces looked at (list: 20, assert: 1000, export: all)\n"
    "  --since D      traces of the last D (30s, 15m, 1h, 2d)\n"
    "  --start S, --end S   traces overlapping [S, E], Unix seconds\n"
    "\n"
    "Exit status: 0 when everything holds, 1 when an assertion fails, a wait\n"
    "times out or a trace is not found, 2 for a usage error (options, query,\n"
    "trace id), 3 when the store cannot be read or the output not written,\n"
    "69 when the viewer cannot be reached.\n"
    "\n"
    "examples:\n"
    "  otelc traces wait '{ resource.service.name = \"shop\" }' --count 3 --timeout 1m\n"
    "  otelc traces assert '{ name = \"checkout\" }' --complete --no-errors --junit traces.xml\n"
    "  otelc traces --db view.db export --output traces.jsonl\n";

/* ---- Options --------------------------------------------------------------------------- */

enum {
    OPT_URL = 256,
    OPT_DB,
    OPT_TOKEN,
    OPT_LIMIT,
    OPT_SINCE,
    OPT_START,
    OPT_END,
    OPT_JSON,
    OPT_COUNT,
    OPT_TIMEOUT,
    OPT_COMPLETE,
    OPT_REMOTE_ROOT,
    OPT_NO_ERRORS,
    OPT_MIN_SPANS,
    OPT_JUNIT,
    OPT_OUTPUT,
    OPT_FORMAT,
};

static const struct option long_options[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"db", required_argument, NULL, OPT_DB},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"start", required_argument, NULL, OPT_START},
    {"end", required_argument, NULL, OPT_END},
    {"json", no_argument, NULL, OPT_JSON},
    {"count", required_argument, NULL, OPT_COUNT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"complete", no_argument, NULL, OPT_COMPLETE},
    {"allow-remote-root", no_argument, NULL, OPT_REMOTE_ROOT},
    {"no-errors", no_argument, NULL, OPT_NO_ERRORS},
    {"min-spans", required_argument, NULL, OPT_MIN_SPANS},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

#define BIT(opt) (1u << ((opt)-OPT_URL))
#define COMMON   (BIT(OPT_URL) | BIT(OPT_DB) | BIT(OPT_TOKEN))
#define WHEN     (BIT(OPT_SINCE) | BIT(OPT_START) | BIT(OPT_END))
#define RANGE    (WHEN | BIT(OPT_LIMIT))

typedef struct subcommand {
    const char *name;
    int (*run)(const traces_opts *o);
    unsigned options; /* BIT() of each option it takes */
    int args_min, args_max;
    const char *arg_name;
} subcommand;

static int run_list(const traces_opts *o);
static int run_get(const traces_opts *o);
static int run_wait(const traces_opts *o);
static int run_export(const traces_opts *o);

static const subcommand subcommands[] = {
    {"list", run_list, COMMON | RANGE | BIT(OPT_JSON), 0, 1, "QUERY"},
    {"get", run_get, COMMON | BIT(OPT_JSON), 1, 1, "TRACE_ID"},
    {"wait", run_wait, COMMON | WHEN | BIT(OPT_COUNT) | BIT(OPT_TIMEOUT), 1, 1, "QUERY"},
    {"assert", traces_assert,
     COMMON | RANGE | BIT(OPT_COUNT) | BIT(OPT_COMPLETE) | BIT(OPT_REMOTE_ROOT) |
         BIT(OPT_NO_ERRORS) | BIT(OPT_MIN_SPANS) | BIT(OPT_JUNIT),
     1, 1, "QUERY"},
    {"export", run_export, COMMON | RANGE | BIT(OPT_OUTPUT) | BIT(OPT_FORMAT), 0, 1, "QUERY"},
};

#define SUBCOMMAND_COUNT (sizeof subcommands / sizeof *subcommands)

/* The usage error of a subcommand: "otelc: traces SUB: WHAT "ARG"; see ...". */
static int usage_error(const traces_opts *o, const char *what, const char *arg)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "traces %s", o->sub);
    return cli_usage_error(cmd, what, arg);
}

static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || v == 0 || v > max) return false;
    *out = v;
    return true;
}

/* Unix seconds, maybe with a fraction, into ns. */
static bool parse_unix_seconds(const char *s, uint64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e10) return false;
    *ns = (uint64_t)(v * 1e9);
    return true;
}

static int parse_option(traces_opts *o, int c, const char *arg)
{
    uint64_t v;
    switch (c) {
    case OPT_URL:
        o->url = arg;
        return 0;
    case OPT_DB:
        o->db = arg;
        return 0;
    case OPT_TOKEN:
        o->token = arg;
        return 0;
    case OPT_LIMIT:
        if (!parse_count(arg, 1000000, &v)) return usage_error(o, "invalid --limit", arg);
        o->query.limit = v;
        o->limit_set = true;
        return 0;
    case OPT_SINCE:
        if (!cli_parse_duration(arg, &v) || v == 0) return usage_error(o, "invalid --since", arg);
        o->query.start_ns = cli_now_ns() - v * 1000000u;
        return 0;
    case OPT_START:
        return parse_unix_seconds(arg, &o->query.start_ns)
                   ? 0
                   : usage_error(o, "--start takes Unix seconds, not", arg);
    case OPT_END:
        return parse_unix_seconds(arg, &o->query.end_ns)
                   ? 0
                   : usage_error(o, "--end takes Unix seconds, not", arg);
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_COUNT:
        if (!parse_count(arg, 1000000, &v)) return usage_error(o, "invalid --count", arg);
        o->count = v;
        o->count_set = true;
        return 0;
    case OPT_TIMEOUT:
        if (!cli_parse_duration(arg, &o->timeout_ms) || o->timeout_ms == 0)
            return usage_error(o, "invalid --timeout", arg);
        return 0;
    case OPT_COMPLETE:
        o->complete = true;
        return 0;
    case OPT_REMOTE_ROOT:
        o->allow_remote_root = true;
        return 0;
    case OPT_NO_ERRORS:
        o->no_errors = true;
        return 0;
    case OPT_MIN_SPANS:
        if (!parse_count(arg, UINT32_MAX, &v)) return usage_error(o, "invalid --min-spans", arg);
        o->min_spans = (uint32_t)v;
        return 0;
    case OPT_JUNIT:
        o->junit = arg;
        return 0;
    case OPT_OUTPUT:
        o->output = arg;
        return 0;
    case OPT_FORMAT:
        if (strcmp(arg, "otlp-json") != 0 && strcmp(arg, "otlp-proto") != 0)
            return usage_error(o, "--format takes otlp-json or otlp-proto, not", arg);
        o->proto = arg[5] == 'p';
        return 0;
    default:
        return CLI_EXIT_USAGE;
    }
}

static const char *option_name(int c)
{
    for (const struct option *opt = long_options; opt->name; opt++)
        if (opt->val == c) return opt->name;
    return "?";
}

/* Checks across options, once all are read. */
static int check_options(traces_opts *o, const subcommand *sc, unsigned given)
{
    if (o->db && o->url) return usage_error(o, "give --db or --url, not both", NULL);
    if (o->db && o->token) return usage_error(o, "--token goes with --url, not", "--db");
    if ((given & BIT(OPT_SINCE)) && (given & (BIT(OPT_START) | BIT(OPT_END))))
        return usage_error(o, "give --since or --start/--end, not both", NULL);
    if (o->query.end_ns && o->query.start_ns > o->query.end_ns)
        return usage_error(o, "--start is after --end", NULL);
    if (sc->run == run_export && !o->output)
        return usage_error(o, "--output FILE is required", NULL);
    if (!o->count_set) o->count = 1;
    if (!o->timeout_ms) o->timeout_ms = DEFAULT_WAIT_MS;
    if (!o->limit_set)
        o->query.limit = sc->run == run_list     ? LIST_LIMIT
                         : sc->run == run_export ? SIZE_MAX
                                                 : CHECK_LIMIT;
    /* wait and assert --count need to see one trace beyond N to tell N from more. */
    if (o->count_set && o->query.limit <= o->count) o->query.limit = o->count + 1;
    return 0;
}

/* Returns -1 when parsed, else the exit status (help, usage error). */
static int parse_args(traces_opts *o, const subcommand *sc, int argc, char **argv)
{
    unsigned given = 0;
    int c, rc;
    optind = 0; /* GNU getopt: start afresh, also when called more than once in a process */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        }
        if (c == '?') return usage_error(o, "unknown option", argv[optind - 1]);
        if (c == ':') return usage_error(o, "missing value for", argv[optind - 1]);
        if (!(sc->options & BIT(c))) {
            char what[64];
            snprintf(what, sizeof what, "--%s does not apply to", option_name(c));
            return usage_error(o, what, sc->name);
        }
        given |= BIT(c);
        if ((rc = parse_option(o, c, optarg)) != 0) return rc;
    }
    int args = argc - optind;
    if (args < sc->args_min) return usage_error(o, "missing", sc->arg_name);
    if (args > sc->args_max) return usage_error(o, "unexpected argument", argv[optind + 1]);
    if (args) o->arg = argv[optind];
    o->query.traceql = sc->arg_name[0] == 'Q' ? o->arg : NULL;
    rc = check_options(o, sc, given);
    return rc ? rc : -1;
}

/* ---- Sources ------------------------------------------------------------------------------ */

int traces_source_error(const traces_opts *o, int status, const char *message)
{
    cli_error("traces %s: %s", o->sub, message);
    switch (status) {
    case VW_SOURCE_INVALID:
        return CLI_EXIT_USAGE;
    case VW_SOURCE_UNAVAILABLE:
        return CLI_EXIT_UNAVAILABLE;
    case VW_SOURCE_FAILED:
        return o->db ? CLI_EXIT_INPUT : CLI_EXIT_UNAVAILABLE;
    default:
        return CLI_EXIT_INTERNAL;
    }
}

/* The source, or a status with err filled; nothing printed. */
static int source_open(const traces_opts *o, vw_source **out, char *err, size_t n)
{
    if (o->db) return vw_source_open_store(o->db, out, err, n);
    const char *url = o->url ? o->url : getenv("OTELC_VIEW_URL");
    const char *token = o->token ? o->token : getenv("OTELC_VIEW_TOKEN");
    return vw_source_open_http(url && *url ? url : DEFAULT_URL, token && *token ? token : NULL, out,
                               err, n);
}

int traces_open(const traces_opts *o, vw_source **out)
{
    char err[512];
    int rc = source_open(o, out, err, sizeof err);
    return rc == VW_SOURCE_OK ? 0 : traces_source_error(o, rc, err);
}

/* ---- Output helpers ------------------------------------------------------------------------ */

static bool write_out(FILE *f, const otelc_buf *b)
{
    return b->len == 0 || fwrite(b->data, 1, b->len, f) == b->len;
}

static void put_hex_id(otelc_buf *b, const uint8_t id[16])
{
    otelc__buf_hex(b, id, 16);
}

/* 12.345ms under a second, 1.234s from there. */
static void put_duration(otelc_buf *b, uint64_t ns)
{
    if (ns < 1000000000u)
        otelc__buf_printf(b, "%.3fms", (double)ns / 1e6);
    else
        otelc__buf_printf(b, "%.3fs", (double)ns / 1e9);
}

/* RFC 3339 in UTC with milliseconds. */
static void put_time(otelc_buf *b, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    char text[32] = "?";
    if (gmtime_r(&t, &tm)) strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    otelc__buf_printf(b, "%s.%03uZ", text, (unsigned)(ns / 1000000u % 1000u));
}

/* Characters (not bytes) of UTF-8 s[0..n). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars;
}

/* s padded (or cut, with "~") to width characters. */
static void put_cell(otelc_buf *b, const char *s, size_t width)
{
    size_t n = strlen(s), chars = utf8_chars(s, n);
    if (chars > width) {
        size_t keep = 0, kept = 0;
        while (keep < n && kept < width - 1) {
            keep++;
            while (keep < n && ((unsigned char)s[keep] & 0xc0) == 0x80) keep++;
            kept++;
        }
        otelc__buf_append(b, s, keep);
        otelc__buf_append(b, "~", 1);
        return;
    }
    otelc__buf_append(b, s, n);
    for (size_t i = chars; i < width; i++) otelc__buf_append(b, " ", 1);
}

/* The width of a column: its widest cell, at most max characters. */
static size_t widen(size_t width, const char *cell, size_t max)
{
    size_t chars = utf8_chars(cell, strlen(cell));
    if (chars > max) chars = max;
    return chars > width ? chars : width;
}

/* ---- list ---------------------------------------------------------------------------------- */

typedef struct row {
    uint8_t id[16];
    char *service, *name;
    uint64_t start_ns, end_ns;
    uint32_t spans, errors;
} row;

typedef struct list_state {
    const traces_opts *o;
    row *rows;
    size_t count, cap;
    bool nomem;
} list_state;

static void list_json_line(otelc_buf *b, const vw_summary *t)
{
    otelc__buf_puts(b, "{\"traceID\":\"");
    put_hex_id(b, t->trace_id);
    otelc__buf_puts(b, "\",\"rootServiceName\":");
    if (t->root_service)
        otelc__buf_json_str(b, t->root_service, strlen(t->root_service));
    else
        otelc__buf_puts(b, "null");
    otelc__buf_puts(b, ",\"rootTraceName\":");
    if (t->root_name)
        otelc__buf_json_str(b, t->root_name, strlen(t->root_name));
    else
        otelc__buf_puts(b, "null");
    uint64_t d = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
    otelc__buf_printf(b,
                      ",\"startTimeUnixNano\":\"%" PRIu64 "\",\"durationNanos\":\"%" PRIu64
                      "\",\"spanCount\":%" PRIu32 ",\"errorCount\":%" PRIu32 "}\n",
                      t->start_ns, d, t->span_count, t->error_count);
}

static int list_found(void *ctx, const vw_summary *t, const vw_batch *trace)
{
    (void)trace;
    list_state *ls = ctx;
    if (ls->o->json) { /* JSON lines stream: no widths to compute */
        otelc_buf b = {0};
        list_json_line(&b, t);
        ls->nomem |= b.failed || !write_out(stdout, &b);
        otelc__buf_free(&b);
        return ls->nomem;
    }
    if (ls->count == ls->cap) {
        size_t ncap = ls->cap ? 2 * ls->cap : 32;
        row *r = realloc(ls->rows, ncap * sizeof *r);
        if (!r) return ls->nomem = true;
        ls->rows = r;
        ls->cap = ncap;
    }
    row *r = &ls->rows[ls->count++];
    memcpy(r->id, t->trace_id, 16);
    r->service = strdup(t->root_service ? t->root_service : "-");
    r->name = strdup(t->root_name ? t->root_name : "-");
    r->start_ns = t->start_ns;
    r->end_ns = t->end_ns;
    r->spans = t->span_count;
    r->errors = t->error_count;
    if (!r->service || !r->name) ls->nomem = true;
    return ls->nomem;
}

static void list_table(otelc_buf *b, const list_state *ls)
{
    size_t ws = strlen("SERVICE"), wn = strlen("NAME");
    for (size_t i = 0; i < ls->count; i++) {
        ws = widen(ws, ls->rows[i].service, TABLE_SERVICE_MAX);
        wn = widen(wn, ls->rows[i].name, TABLE_NAME_MAX);
    }
    put_cell(b, "TRACE ID", 34);
    put_cell(b, "SERVICE", ws + 2);
    put_cell(b, "NAME", wn + 2);
    otelc__buf_puts(b, "SPANS  ERRORS      DURATION  START\n");
    for (size_t i = 0; i < ls->count; i++) {
        const row *r = &ls->rows[i];
        otelc_buf d = {0};
        put_duration(&d, r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0);
        put_hex_id(b, r->id);
        otelc__buf_puts(b, "  ");
        put_cell(b, r->service, ws);
        otelc__buf_puts(b, "  ");
        put_cell(b, r->name, wn);
        otelc__buf_printf(b, "  %5" PRIu32 "  %6" PRIu32 "  %12.*s  ", r->spans, r->errors,
                          (int)d.len, d.data ? d.data : "");
        put_time(b, r->start_ns);
        otelc__buf_append(b, "\n", 1);
        b->failed |= d.failed;
        otelc__buf_free(&d);
    }
}

static int run_list(const traces_opts *o)
{
    vw_source *src;
    int rc = traces_open(o, &src);
    if (rc) return rc;
    list_state ls = {.o = o};
    char err[512];
    int st = vw_source_search(src, &o->query, list_found, &ls, err, sizeof err);
    vw_source_close(src);
    otelc_buf b = {0};
    if (st == VW_SOURCE_OK && !ls.nomem && !o->json) {
        list_table(&b, &ls);
        ls.nomem = b.failed || !write_out(stdout, &b);
    }
    for (size_t i = 0; i < ls.count; i++) {
        free(ls.rows[i].service);
        free(ls.rows[i].name);
    }
    free(ls.rows);
    otelc__buf_free(&b);
    if (st != VW_SOURCE_OK) return traces_source_error(o, st, err);
    if (ls.nomem) {
        cli_error("traces list: out of memory, or stdout cannot be written");
        return CLI_EXIT_INTERNAL;
    }
    return CLI_EXIT_OK;
}

/* ---- get ----------------------------------------------------------------------------------- */

/* A trace id: 32 hex digits, either case. */
static bool parse_trace_id(const char *s, uint8_t out[16])
{
    char lower[32];
    if (strlen(s) != 32) return false;
    for (int i = 0; i < 32; i++) lower[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
    return otelc__hex_decode(lower, 16, out) && !otelc__is_zero(out, 16);
}

/* Pointers to the spans of b, for the encoders and checks (NULL when out of memory). */
static const otelc_span_data **span_pointers(const vw_batch *b)
{
    const otelc_span_data **p = malloc((b->count ? b->count : 1) * sizeof *p);
    for (size_t i = 0; p && i < b->count; i++) p[i] = &b->spans[i];
    return p;
}

static int run_get(const traces_opts *o)
{
    uint8_t id[16];
    if (!parse_trace_id(o->arg, id))
        return usage_error(o, "not a trace id (32 hex digits):", o->arg);
    vw_source *src;
    int rc = traces_open(o, &src);
    if (rc) return rc;
    vw_batch trace;
    vw_batch_init(&trace);
    char err[512];
    int found = vw_source_trace(src, id, &trace, err, sizeof err);
    vw_source_close(src);
    if (found <= 0) {
        vw_batch_free(&trace);
        if (found < 0) return traces_source_error(o, -found, err);
        cli_error("traces get: trace %s not found", o->arg);
        return CLI_EXIT_FAILURE;
    }
    const otelc_span_data **spans = span_pointers(&trace);
    otelc_buf b = {0};
    rc = !spans    ? OTELC_ERR_NOMEM
         : o->json ? otelc__otlp_encode_json(&b, spans, trace.count)
                   : otelc__console_tree(&b, spans, trace.count);
    if (o->json) otelc__buf_append(&b, "\n", 1);
    bool ok = rc == OTELC_OK && !b.failed && write_out(stdout, &b);
    free(spans);
    otelc__buf_free(&b);
    vw_batch_free(&trace);
    if (ok) return CLI_EXIT_OK;
    cli_error("traces get: out of memory, or stdout cannot be written");
    return CLI_EXIT_INTERNAL;
}

/* ---- wait ---------------------------------------------------------------------------------- */

typedef struct wait_state {
    size_t seen;
    otelc_buf ids;
} wait_state;

static int wait_found(void *ctx, const vw_summary *t, const vw_batch *trace)
{
    (void)trace;
    wait_state *ws = ctx;
    put_hex_id(&ws->ids, t->trace_id);
    otelc__buf_append(&ws->ids, "\n", 1);
    ws->seen++;
    return 0;
}

/* One look: the source's status, ws filled with what matches now. */
static int wait_poll(const traces_opts *o, vw_source **src, wait_state *ws, char *err, size_t n)
{
    ws->seen = 0;
    otelc__buf_reset(&ws->ids);
    int st = *src ? VW_SOURCE_OK : source_open(o, src, err, n);
    if (st == VW_SOURCE_OK) {
        vw_source_query q = o->query;
        q.limit = o->count;
        st = vw_source_search(*src, &q, wait_found, ws, err, n);
    }
    return st;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/*
 * Poll until count traces match. A viewer not up yet, or a store file not
 * created yet, is retried like a search that finds too few: a pipeline
 * may start the wait before the viewer.
 */
static int run_wait(const traces_opts *o)
{
    vw_source *src = NULL;
    wait_state ws = {0};
    char err[512] = "";
    uint64_t deadline = otelc__mono_ms() + o->timeout_ms;
    int st;
    for (;;) {
        st = wait_poll(o, &src, &ws, err, sizeof err);
        if (st == VW_SOURCE_INVALID || (st == VW_SOURCE_OK && ws.seen >= o->count)) break;
        uint64_t now = otelc__mono_ms();
        if (now >= deadline) break;
        sleep_ms(deadline - now < POLL_MS ? deadline - now : POLL_MS);
    }
    vw_source_close(src);
    int rc = CLI_EXIT_OK;
    if (st != VW_SOURCE_OK) {
        rc = traces_source_error(o, st, err);
    } else if (ws.seen < o->count) {
        cli_error("traces wait: %zu of %zu traces matching %s seen after %.3gs", ws.seen, o->count,
                  o->arg, (double)o->timeout_ms / 1000);
        rc = CLI_EXIT_FAILURE;
    } else if (ws.ids.failed || !write_out(stdout, &ws.ids)) {
        cli_error("traces wait: out of memory, or stdout cannot be written");
        rc = CLI_EXIT_INTERNAL;
    }
    otelc__buf_free(&ws.ids);
    return rc;
}

/* ---- export -------------------------------------------------------------------------------- */

typedef struct export_state {
    vw_source *src;
    FILE *out;
    bool proto;
    otelc_buf buf;
    uint64_t traces, spans;
    int status; /* a vw_source_status, or -1: out of memory, -2: write failed */
    int write_errno;
    char err[512];
} export_state;

/* One request per trace: a JSON line, or the length-prefixed protobuf message. */
static int export_encode(export_state *es, const vw_batch *trace)
{
    const otelc_span_data **spans = span_pointers(trace);
    otelc__buf_reset(&es->buf);
    size_t at = es->buf.len;
    if (es->proto) otelc__buf_append(&es->buf, "\0\0\0\0", 4);
    int rc = !spans      ? OTELC_ERR_NOMEM
             : es->proto ? otelc__otlp_encode_proto(&es->buf, spans, trace->count)
                         : otelc__otlp_encode_json(&es->buf, spans, trace->count);
    free(spans);
    if (rc != OTELC_OK || es->buf.failed) return -1;
    if (!es->proto) {
        otelc__buf_append(&es->buf, "\n", 1);
    } else {
        size_t n = es->buf.len - at - 4;
        if (n > UINT32_MAX) return -1;
        uint8_t *p = (uint8_t *)es->buf.data + at;
        p[0] = (uint8_t)(n >> 24), p[1] = (uint8_t)(n >> 16), p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
    }
    return es->buf.failed ? -1 : 0;
}

static int export_found(void *ctx, const vw_summary *t, const vw_batch *trace)
{
    export_state *es = ctx;
    vw_batch loaded;
    vw_batch_init(&loaded);
    if (!trace) {
        int found = vw_source_trace(es->src, t->trace_id, &loaded, es->err, sizeof es->err);
        if (found < 0) es->status = -found;
        trace = &loaded; /* not found: removed by retention meanwhile, an empty trace skipped */
    }
    if (es->status == VW_SOURCE_OK && trace->count > 0) {
        if (export_encode(es, trace) < 0)
            es->status = -1;
        else if (!write_out(es->out, &es->buf))
            es->status = -2, es->write_errno = errno;
        es->traces++;
        es->spans += trace->count;
    }
    vw_batch_free(&loaded);
    return es->status != VW_SOURCE_OK;
}

static int export_finish(const traces_opts *o, export_state *es, int search_status)
{
    bool to_stdout = strcmp(o->output, "-") == 0;
    int rc = to_stdout ? fflush(stdout) : fclose(es->out);
    if (rc != 0 && es->status == VW_SOURCE_OK) es->status = -2, es->write_errno = errno;
    otelc__buf_free(&es->buf);
    if (search_status != VW_SOURCE_OK) return traces_source_error(o, search_status, es->err);
    if (es->status == -1) {
        cli_error("traces export: out of memory");
        return CLI_EXIT_INTERNAL;
    }
    if (es->status == -2) {
        cli_error("traces export: cannot write %s: %s", o->output, strerror(es->write_errno));
        return CLI_EXIT_INPUT;
    }
    if (es->status != VW_SOURCE_OK) return traces_source_error(o, es->status, es->err);
    if (!to_stdout)
        printf("%" PRIu64 " traces (%" PRIu64 " spans) written to %s\n", es->traces, es->spans,
               o->output);
    return CLI_EXIT_OK;
}

static int run_export(const traces_opts *o)
{
    export_state es = {.proto = o->proto, .status = VW_SOURCE_OK};
    int rc = traces_open(o, &es.src);
    if (rc) return rc;
    es.out = strcmp(o->output, "-") == 0 ? stdout : fopen(o->output, "wb");
    if (!es.out) {
        cli_error("traces export: cannot create %s: %s", o->output, strerror(errno));
        vw_source_close(es.src);
        return CLI_EXIT_INPUT;
    }
    int st = vw_source_search(es.src, &o->query, export_found, &es, es.err, sizeof es.err);
    vw_source_close(es.src);
    /* A failure inside the callback stopped the search; its own status says what. */
    return export_finish(o, &es, es.status == VW_SOURCE_OK ? st : VW_SOURCE_OK);
}

/* ---- Dispatch ---------------------------------------------------------------------------- */

static const subcommand *find(const char *name)
{
    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
        if (strcmp(subcommands[i].name, name) == 0) return &subcommands[i];
    return NULL;
}

int vw_traces_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    }
    traces_opts o = {.sub = name};
    const subcommand *sc = find(name);
    /* Options may come before the subcommand: `otelc traces --db F list`. */
    for (int i = 1; !sc && i < argc && argv[i][0] == '-'; i++) {
        bool takes_value = strcmp(argv[i], "--url") == 0 || strcmp(argv[i], "--db") == 0 ||
                           strcmp(argv[i], "--token") == 0;
        i += takes_value;
        if (i + 1 < argc && (sc = find(argv[i + 1])) != NULL) {
            /* Move the subcommand name to the front: argv[1..i] are its options. */
            char *cmd = argv[i + 1];
            memmove(argv + 2, argv + 1, (size_t)i * sizeof *argv);
            argv[1] = cmd;
            o.sub = cmd;
        }
    }
    if (!sc) {
        cli_error("traces: unknown command \"%s\"; see 'otelc traces --help'", name);
        return CLI_EXIT_USAGE;
    }
    int rc = parse_args(&o, sc, argc - 1, argv + 1);
    return rc >= 0 ? rc : sc->run(&o);
}
