/*
 * span.c - `otelc span start|event|end`: spans opened and closed by
 * separate commands, for shell scripts.
 *
 * `start` chooses the span's ids itself and prints the traceparent, so
 * that the context a script hands to later commands is the real one long
 * before the span exists in the SDK. It writes the start time, name,
 * attributes and parent to a state file (span_state.c); `event` appends to
 * it; `end` claims it and only then creates the span, with the recorded
 * start time and ids, and exports it.
 *
 * A span whose `end` never comes is not lost: when the root of its trace
 * (a span started here without a parent) ends, or when any span command
 * finds it older than OTELC_SPAN_TIMEOUT, it is exported with ERROR status
 * saying so, and its file removed.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "config/cli_env.h"
#include "span_state.h"

#define NS_PER_MS 1000000ull

typedef struct span_opts {
    const char *name;
    otelc_span_kind kind;
    const char *span; /* --span: a traceparent or "<trace>-<span>" */
    const char *parent;
    const char *status;
    const char *message;
    const char *service;
    bool json;
    span_kv *attrs;
    size_t attr_count;
    char **args; /* positional arguments */
    int arg_count;
} span_opts;

static void usage(FILE *out)
{
    fputs("usage: otelc span start [--name N] [--kind K] [--attr K=V]... [--parent TP]\n"
          "                        [--output traceparent|json]\n"
          "       otelc span event [--span TP] NAME [--attr K=V]...\n"
          "       otelc span end   [--span TP] [--status ok|error|unset] [--message M]\n"
          "                        [--attr K=V]... [--service S]\n"
          "\n"
          "Spans for shell scripts, without a daemon. start prints the span's\n"
          "traceparent: export it as TRACEPARENT and later commands (otelc exec, other\n"
          "spans, any OpenTelemetry program) become its children. event adds an event\n"
          "with the current time; end exports the span with the recorded start time,\n"
          "events and attributes. --span defaults to $TRACEPARENT.\n"
          "\n"
          "A span never ended is exported with ERROR status when the root span of its\n"
          "trace ends, or after OTELC_SPAN_TIMEOUT (default 24h). State is kept in\n"
          "$OTELC_SPAN_DIR (default ${XDG_RUNTIME_DIR:-/tmp}/otelc-spans-$UID).\n"
          "\n"
          "options:\n"
          "  -n, --name NAME       span name (start; default \"span\")\n"
          "  -k, --kind KIND       internal (default), client, server, producer, consumer\n"
          "  -a, --attr KEY=VALUE  a string attribute (repeatable); on event: the event's\n"
          "  -p, --parent TP       parent traceparent for start (default: $TRACEPARENT;\n"
          "                        \"none\" starts a new trace)\n"
          "  -s, --span TP         the span, as printed by start (event, end)\n"
          "      --status STATUS   ok, error or unset (end; default unset)\n"
          "  -m, --message TEXT    status description (end, with --status error)\n"
          "      --service NAME    service.name for the exported span (end)\n"
          "  -o, --output FORMAT   traceparent (default) or json (start)\n"
          "  -h, --help            show this help\n"
          "\n"
          "example:\n"
          "  export TRACEPARENT=$(otelc span start --name deploy --attr env=prod)\n"
          "  otelc exec -- ./migrate.sh          # a child span of deploy\n"
          "  otelc span event migrated --attr tables=12\n"
          "  otelc span end --status ok\n",
          out);
}

/* ---- Options ----------------------------------------------------------------- */

enum { OPT_STATUS = 256, OPT_SERVICE };

static int usage_error(const char *what, const char *arg)
{
    return cli_usage_error("span", what, arg);
}

static int add_attr(span_opts *o, const char *kv)
{
    char *key;
    const char *value;
    if (!cli_split_attr(kv, &key, &value)) return CLI_EXIT_USAGE;
    o->attrs[o->attr_count].key = key;
    o->attrs[o->attr_count++].value = (char *)value; /* points into argv: not freed */
    return 0;
}

static int parse_one(span_opts *o, int c, char *arg)
{
    switch (c) {
    case 'n':
        o->name = arg;
        return 0;
    case 'k':
        return cli_parse_kind(arg, &o->kind) ? 0 : usage_error("unknown span kind", arg);
    case 'a':
        return add_attr(o, arg);
    case 'p':
        o->parent = arg;
        return 0;
    case 's':
        o->span = arg;
        return 0;
    case 'm':
        o->message = arg;
        return 0;
    case OPT_STATUS:
        o->status = arg;
        return 0;
    case OPT_SERVICE:
        o->service = arg;
        return 0;
    case 'o':
        if (strcmp(arg, "json") == 0 || strcmp(arg, "traceparent") == 0) {
            o->json = arg[0] == 'j';
            return 0;
        }
        return usage_error("unknown output format", arg);
    default:
        return CLI_EXIT_USAGE;
    }
}

/* Returns -1 to go on, or an exit status. Positional arguments may mix with options. */
static int parse_options(span_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"name", required_argument, NULL, 'n'},
        {"kind", required_argument, NULL, 'k'},
        {"attr", required_argument, NULL, 'a'},
        {"parent", required_argument, NULL, 'p'},
        {"span", required_argument, NULL, 's'},
        {"message", required_argument, NULL, 'm'},
        {"status", required_argument, NULL, OPT_STATUS},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":n:k:a:p:s:m:o:h", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (c == '?') return usage_error("unknown option", argv[optind - 1]);
        if (c == ':') return usage_error("missing argument for", argv[optind - 1]);
        int rc = parse_one(o, c, optarg);
        if (rc) return rc;
    }
    o->args = argv + optind;
    o->arg_count = argc - optind;
    return -1;
}

/* ---- Ids and contexts ------------------------------------------------------------ */

static bool random_bytes(uint8_t *out, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(out, n, 0);
        if (r <= 0) return false;
        out += r;
        n -= (size_t)r;
    }
    return true;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", in[i]);
}

/* --span (or $TRACEPARENT): a traceparent, or "<trace hex>-<span hex>" as in the file names. */
static bool resolve_span(const char *arg, char trace_hex[33], char span_hex[17])
{
    otelc_span_context sc;
    if (!arg) return false;
    if (otelc_traceparent_parse(arg, strlen(arg), &sc) == OTELC_OK) {
        hex(sc.trace_id, 16, trace_hex);
        hex(sc.span_id, 8, span_hex);
        return true;
    }
    if (strlen(arg) != 49 || arg[32] != '-' || strspn(arg, "0123456789abcdef-") != 49) return false;
    snprintf(trace_hex, 33, "%.32s", arg);
    snprintf(span_hex, 17, "%s", arg + 33);
    return true;
}

/* The parent context for start: --parent, else TRACEPARENT (with TRACESTATE, BAGGAGE). */
static otelc_context *start_parent(const char *parent)
{
    if (parent && strcasecmp(parent, "none") == 0) return NULL;
    otelc_headers h = {0};
    otelc_carrier c = otelc_env_carrier();
    if (parent) {
        otelc_headers_set(&h, "traceparent", parent);
        c = otelc_headers_carrier(&h);
    }
    otelc_context *ctx = otelc_extract(&c);
    otelc_headers_clear(&h);
    otelc_span_context sc = otelc_context_span_context(ctx);
    if (!otelc_span_context_is_valid(&sc)) {
        otelc_context_release(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- start ----------------------------------------------------------------------- */

/*
 * The flags the SDK will give the span at end with its default sampler:
 * the parent's decision, or sampled for a new trace; random-id bit as the
 * parent says, set for our own random trace id.
 */
static uint8_t start_flags(const otelc_context *parent)
{
    if (!parent) return OTELC_TRACE_FLAG_SAMPLED | OTELC_TRACE_FLAG_RANDOM;
    otelc_span_context sc = otelc_context_span_context(parent);
    return sc.trace_flags & (OTELC_TRACE_FLAG_SAMPLED | OTELC_TRACE_FLAG_RANDOM);
}

static void print_context(const otelc_span_context *sc, bool json)
{
    char tp[56], t[33], s[17];
    otelc_traceparent_format(sc, tp);
    if (!json) {
        printf("%s\n", tp);
        return;
    }
    printf("{\"traceparent\":\"%s\",\"trace_id\":\"%s\",\"span_id\":\"%s\"}\n", tp,
           otelc_trace_id_hex(sc, t), otelc_span_id_hex(sc, s));
}

/* The parent as otelc_context_serialize() text (malloc'd; its size depends on the baggage). */
static char *serialize(const otelc_context *ctx)
{
    int n = otelc_context_serialize(ctx, NULL, 0);
    char *text = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (text && otelc_context_serialize(ctx, text, (size_t)n + 1) != n) {
        free(text);
        return NULL;
    }
    return text;
}

static int cmd_start(const span_opts *o, const char *dir)
{
    otelc_context *parent = start_parent(o->parent);
    otelc_span_context sc = {0};
    span_state st = {.name = (char *)(o->name ? o->name : "span"), .kind = (int)o->kind};
    if (parent) {
        otelc_span_context p = otelc_context_span_context(parent);
        memcpy(sc.trace_id, p.trace_id, 16);
        st.parent = serialize(parent);
    }
    bool ok = (parent || random_bytes(sc.trace_id, 16)) && random_bytes(sc.span_id, 8);
    sc.trace_flags = start_flags(parent);
    bool had_parent = parent != NULL;
    otelc_context_release(parent);
    if (!ok || (had_parent && !st.parent)) {
        free(st.parent);
        cli_error("span: cannot choose ids or record the parent");
        return CLI_EXIT_INTERNAL;
    }
    hex(sc.trace_id, 16, st.trace_hex);
    hex(sc.span_id, 8, st.span_hex);
    st.start_ns = cli_now_ns();
    st.attrs = o->attrs;
    st.attr_count = o->attr_count;
    bool created = span_state_create(dir, &st);
    free(st.parent);
    if (!created) return CLI_EXIT_INTERNAL;
    print_context(&sc, o->json);
    return CLI_EXIT_OK;
}

/* ---- event ----------------------------------------------------------------------- */

static int cmd_event(const span_opts *o, const char *dir)
{
    char trace_hex[33], span_hex[17];
    const char *which = o->span ? o->span : getenv("TRACEPARENT");
    if (o->arg_count != 1) return usage_error("event: expected one event NAME", NULL);
    if (!resolve_span(which, trace_hex, span_hex))
        return usage_error("--span (or TRACEPARENT) is not a traceparent:", which ? which : "");
    span_event ev = {.name = o->args[0],
                     .time_ns = cli_now_ns(),
                     .attrs = o->attrs,
                     .attr_count = o->attr_count};
    return span_state_add_event(dir, trace_hex, span_hex, &ev);
}

/* ---- end and exporting ------------------------------------------------------------ */

static bool hex_bytes(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static otelc_attr *to_attrs(const span_kv *kv, size_t n)
{
    otelc_attr *a = calloc(n + 1, sizeof *a);
    for (size_t i = 0; a && i < n; i++) a[i] = OTELC_ATTR_STR(kv[i].key, kv[i].value);
    return a;
}

static void add_events(otelc_span *span, const span_state *st)
{
    for (size_t i = 0; i < st->event_count; i++) {
        const span_event *ev = &st->events[i];
        otelc_attr *a = to_attrs(ev->attrs, ev->attr_count);
        otelc_span_add_event_at(span, ev->name, ev->time_ns, a, a ? ev->attr_count : 0);
        free(a);
    }
}

/* Create the SDK span for a claimed state, ended at end_ns (not yet: the caller finishes it). */
static otelc_span *materialise(const span_state *st)
{
    uint8_t trace_id[16], span_id[8];
    otelc_context *parent = st->parent ? otelc_context_deserialize(st->parent) : NULL;
    otelc_attr *attrs = to_attrs(st->attrs, st->attr_count);
    otelc_span_options so = {
        .kind = (otelc_span_kind)st->kind,
        .parent = parent,
        .root = parent == NULL, /* TRACEPARENT may name this very span by now */
        .start_ns = st->start_ns,
        .attrs = attrs,
        .attr_count = attrs ? st->attr_count : 0,
        .span_id = hex_bytes(st->span_hex, span_id, 8) ? span_id : NULL,
        .trace_id = hex_bytes(st->trace_hex, trace_id, 16) ? trace_id : NULL,
    };
    otelc_span *span = otelc_span_start_with(cli_tracer(), st->name, &so);
    otelc_context_release(parent);
    free(attrs);
    add_events(span, st);
    return span;
}

/* The SDK starts only when there is a span to export: start and event export nothing. */
static void sdk_up(const char *service)
{
    static bool started;
    if (!started) cli_sdk_start(service);
    started = true;
}

/* Export a span whose end never came, as an error saying why. */
static void report_unended(const span_state *st, uint64_t end_ns, const char *why)
{
    sdk_up(NULL);
    otelc_span *span = materialise(st);
    char msg[160];
    snprintf(msg, sizeof msg, "span was never ended (%s)", why);
    otelc_span_set_bool(span, "otelc.span.unended", true);
    otelc_span_set_status(span, OTELC_STATUS_ERROR, msg);
    otelc_span_end_at(span, end_ns > st->start_ns ? end_ns : st->start_ns);
}

typedef struct sweep_ctx {
    const char *trace_hex; /* the trace whose root ended, or NULL */
    uint64_t now_ns, end_ns, timeout_ns;
    int found;
} sweep_ctx;

static bool same_trace(const span_state *st, void *p)
{
    return strcmp(st->trace_hex, ((sweep_ctx *)p)->trace_hex) == 0;
}

static void end_orphan(span_state *st, void *p)
{
    sweep_ctx *c = p;
    c->found++;
    report_unended(st, c->end_ns, "its trace's root span ended");
}

static bool too_old(const span_state *st, void *p)
{
    sweep_ctx *c = p;
    return c->now_ns > st->start_ns && c->now_ns - st->start_ns > c->timeout_ns;
}

static void end_expired(span_state *st, void *p)
{
    sweep_ctx *c = p;
    c->found++;
    report_unended(st, st->start_ns + c->timeout_ns, "OTELC_SPAN_TIMEOUT passed");
}

/* o->status was checked before the span was claimed. */
static void set_status(otelc_span *span, const span_opts *o)
{
    if (!o->status) return;
    if (strcasecmp(o->status, "ok") == 0)
        otelc_span_set_status(span, OTELC_STATUS_OK, NULL);
    else if (strcasecmp(o->status, "error") == 0)
        otelc_span_set_status(span, OTELC_STATUS_ERROR, o->message);
}

static int cmd_end(const span_opts *o, const char *dir)
{
    char trace_hex[33], span_hex[17];
    const char *which = o->span ? o->span : getenv("TRACEPARENT");
    span_state st;
    if (o->arg_count != 0) return usage_error("unexpected argument", o->args[0]);
    if (o->status && strcasecmp(o->status, "ok") != 0 && strcasecmp(o->status, "error") != 0 &&
        strcasecmp(o->status, "unset") != 0)
        return usage_error("unknown status (ok, error, unset)", o->status);
    if (!resolve_span(which, trace_hex, span_hex))
        return usage_error("--span (or TRACEPARENT) is not a traceparent:", which ? which : "");
    if (span_state_claim(dir, trace_hex, span_hex, &st) != CLI_EXIT_OK) {
        cli_error("span: no started span %s-%s (never started, already ended, or another "
                  "OTELC_SPAN_DIR)",
                  trace_hex, span_hex);
        return CLI_EXIT_INPUT;
    }
    sdk_up(o->service);
    otelc_span *span = materialise(&st);
    for (size_t i = 0; i < o->attr_count; i++)
        otelc_span_set_str(span, o->attrs[i].key, o->attrs[i].value);
    set_status(span, o);
    uint64_t end_ns = cli_now_ns();
    otelc_span_end_at(span, end_ns);
    if (!st.parent) {
        sweep_ctx c = {.trace_hex = trace_hex, .end_ns = end_ns};
        span_state_sweep(dir, same_trace, end_orphan, &c);
    }
    span_state_free(&st);
    return CLI_EXIT_OK;
}

/* Any span command reports spans older than OTELC_SPAN_TIMEOUT. */
static void sweep_expired(const char *dir)
{
    sweep_ctx c = {.now_ns = cli_now_ns(),
                   .timeout_ns = otelc__span_timeout_from_env() * NS_PER_MS};
    span_state_sweep(dir, too_old, end_expired, &c);
}

/* ---- Entry point -------------------------------------------------------------------- */

static int dispatch(const char *verb, const span_opts *o, const char *dir)
{
    if (strcmp(verb, "start") == 0) {
        if (o->arg_count) return usage_error("unexpected argument", o->args[0]);
        return cmd_start(o, dir);
    }
    if (strcmp(verb, "event") == 0) return cmd_event(o, dir);
    if (strcmp(verb, "end") == 0) return cmd_end(o, dir);
    return usage_error("unknown span command (start, event, end)", verb);
}

int cli_span(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    span_opts o = {.kind = OTELC_SPAN_INTERNAL};
    o.attrs = calloc((size_t)argc, sizeof *o.attrs);
    if (!o.attrs) return CLI_EXIT_INTERNAL;
    int rc = parse_options(&o, argc - 1, argv + 1);
    char dir[4096];
    if (rc < 0 && !span_dir_open(dir, sizeof dir)) rc = CLI_EXIT_INTERNAL;
    if (rc < 0) {
        rc = dispatch(argv[1], &o, dir);
        /* Expired spans are reported by whatever span command comes next. */
        sweep_expired(dir);
    }
    cli_sdk_finish();
    for (size_t i = 0; i < o.attr_count; i++) free(o.attrs[i].key);
    free(o.attrs);
    return rc;
}
