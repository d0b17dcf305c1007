/*
 * exec.c - `otelc exec`: run a command as a span.
 *
 * The command runs as a child with otelc's stdin, stdout and stderr, and
 * with TRACEPARENT/TRACESTATE/BAGGAGE naming the exec span, so that an
 * otelc (or any OpenTelemetry SDK) inside it continues the trace. otelc
 * waits synchronously for the child: the signals it cares about (SIGCHLD
 * and the ones it forwards) are blocked in every thread and taken with
 * sigtimedwait(), which also serves as the timer for --timeout. No signal
 * handler runs, so nothing here has to be async-signal-safe.
 *
 * First, do no harm: with no exporter configured the child's environment
 * is left exactly as it was and otelc prints nothing of its own; export is
 * bounded by OTELC_CLI_EXPORT_TIMEOUT and never changes the exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "internal.h"

extern char **environ;

#define DEFAULT_KILL_AFTER_MS 5000
#define TIMEOUT_EXIT          124 /* as timeout(1) */
#define NOT_FOUND_EXIT        127 /* as shells */
#define NOT_EXECUTABLE_EXIT   126
#define TP_PLACEHOLDER        "{{traceparent}}"

typedef struct exec_opts {
    const char *name;
    otelc_span_kind kind;
    char **attrs; /* "key=value" strings from argv */
    size_t attr_count;
    const char *service;
    uint64_t timeout_ms; /* 0: none */
    uint64_t kill_after_ms;
    bool trace_startup;
    const char *instrument; /* --instrument's list ("": all), NULL without it */
    char **cmd;             /* NULL-terminated, from argv */
} exec_opts;

/* What became of the child. */
typedef struct exec_result {
    pid_t pid;
    int spawn_errno; /* non-zero: the command could not be started */
    int status;      /* from wait4 */
    struct rusage usage;
    bool timed_out;
} exec_result;

static void usage(FILE *out)
{
    fputs("usage: otelc exec [options] [--] COMMAND [ARGS...]\n"
          "\n"
          "Run COMMAND as a span. The command inherits stdin, stdout and stderr and\n"
          "gets TRACEPARENT, TRACESTATE and BAGGAGE naming the span, so an otelc exec\n"
          "inside it (in a Makefile, a script) becomes a child span. otelc exits with\n"
          "the command's status (128+N when signal N killed it).\n"
          "\n"
          "options:\n"
          "  -n, --name NAME       span name (default: the command's file name)\n"
          "  -k, --kind KIND       internal (default), client, server, producer, consumer\n"
          "  -a, --attr KEY=VALUE  add a string attribute to the span (repeatable)\n"
          "  -s, --service NAME    service.name for this span (default: OTEL_SERVICE_NAME)\n"
          "  -t, --timeout DUR     send SIGTERM after DUR (500ms, 30s, 5m, 2h; no unit:\n"
          "                        seconds), SIGKILL after --kill-after more; exit 124\n"
          "      --kill-after DUR  grace period after SIGTERM (default 5s)\n"
          "      --trace-startup   set OTELC_TRACE_STARTUP=1 for the command, so a\n"
          "                        program using otelc traces its own startup\n"
          "      --instrument[=LIBS]  trace the command's (and its children's) calls to\n"
          "                        libcurl, libpq, hiredis, SQLite and libmicrohttpd\n"
          "                        with no change to it: LIBS limits that to some of\n"
          "                        curl,pq,redis,sqlite,mhd (see docs/zero-code.md)\n"
          "  -h, --help            show this help\n"
          "\n"
          "{{traceparent}} in an argument is replaced by the command's traceparent.\n"
          "Secrets in arguments (--password=..., token=..., user:pass@ in URLs) are\n"
          "recorded as REDACTED in process.command_args.\n"
          "\n"
          "examples:\n"
          "  otelc exec --name compile -- make -j8\n"
          "  otelc exec --attr ci.job=unit --timeout 10m -- ctest --output-on-failure\n"
          "  otelc exec -- curl -H 'traceparent: {{traceparent}}' https://example.com/\n"
          "  OTEL_TRACES_EXPORTER=console otelc exec -- sh -c 'otelc exec -- sleep 1'\n",
          out);
}

/* ---- Options ---------------------------------------------------------------- */

enum { OPT_KILL_AFTER = 256, OPT_TRACE_STARTUP, OPT_INSTRUMENT };

static int option_error(const char *what, const char *arg)
{
    return cli_usage_error("exec", what, arg);
}

static int parse_one(exec_opts *o, int c, char *arg)
{
    switch (c) {
    case 'n':
        o->name = arg;
        return 0;
    case 'k':
        return cli_parse_kind(arg, &o->kind) ? 0 : option_error("unknown span kind", arg);
    case 'a':
        if (!strchr(arg, '=') || arg[0] == '=')
            return option_error("--attr expects KEY=VALUE, got", arg);
        o->attrs[o->attr_count++] = arg;
        return 0;
    case 's':
        o->service = arg;
        return 0;
    case 't':
        return cli_parse_duration(arg, &o->timeout_ms) && o->timeout_ms > 0
                   ? 0
                   : option_error("invalid --timeout", arg);
    case OPT_KILL_AFTER:
        return cli_parse_duration(arg, &o->kill_after_ms)
                   ? 0
                   : option_error("invalid --kill-after", arg);
    case OPT_TRACE_STARTUP:
        o->trace_startup = true;
        return 0;
    case OPT_INSTRUMENT:
        o->instrument = arg ? arg : "";
        return 0;
    default:
        return CLI_EXIT_USAGE;
    }
}

/* Returns -1 to go on, or an exit status (help, usage error). */
static int parse_options(exec_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"name", required_argument, NULL, 'n'},
        {"kind", required_argument, NULL, 'k'},
        {"attr", required_argument, NULL, 'a'},
        {"service", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"kill-after", required_argument, NULL, OPT_KILL_AFTER},
        {"trace-startup", no_argument, NULL, OPT_TRACE_STARTUP},
        {"instrument", optional_argument, NULL, OPT_INSTRUMENT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    /* '+': stop at the command, whose own options are not ours. */
    while ((c = getopt_long(argc, argv, "+:n:k:a:s:t:h", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (c == '?') return option_error("unknown option", argv[optind - 1]);
        if (c == ':') return option_error("missing argument for", argv[optind - 1]);
        int rc = parse_one(o, c, optarg);
        if (rc) return rc;
    }
    if (optind >= argc) return option_error("no command given", NULL);
    o->cmd = argv + optind;
    return -1;
}

/* ---- The child's arguments and environment ------------------------------------ */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* arg with every {{traceparent}} replaced by tp (malloc'd), or NULL when it has none. */
static char *substitute(const char *arg, const char *tp)
{
    size_t n = 0, plen = strlen(TP_PLACEHOLDER), tlen = strlen(tp);
    for (const char *p = arg; (p = strstr(p, TP_PLACEHOLDER)) != NULL; p += plen) n++;
    if (n == 0) return NULL;
    char *out = malloc(strlen(arg) + n * tlen + 1), *w = out;
    if (!out) return NULL;
    for (const char *p = arg, *hit; *p; p = hit + plen) {
        hit = strstr(p, TP_PLACEHOLDER);
        if (!hit) {
            strcpy(w, p);
            return out;
        }
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, tp, tlen);
        w += tlen;
    }
    *w = '\0';
    return out;
}

/* The child's argv: cmd with placeholders filled; *owned marks the malloc'd strings. */
static char **child_argv(char **cmd, const char *tp, bool **owned)
{
    size_t n = 0;
    while (cmd[n]) n++;
    char **argv = calloc(n + 1, sizeof *argv);
    *owned = calloc(n + 1, sizeof **owned);
    if (!argv || !*owned) {
        free(argv);
        free(*owned);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char *sub = substitute(cmd[i], tp);
        (*owned)[i] = sub != NULL;
        argv[i] = sub ? sub : cmd[i];
    }
    return argv;
}

static void free_child_argv(char **argv, bool *owned)
{
    for (size_t i = 0; argv && argv[i]; i++) {
        if (owned[i]) free(argv[i]);
    }
    free(argv);
    free(owned);
}

/*
 * The child's environment: ours plus the exec span's context (and the
 * startup switch). NULL means "environ unchanged", which is also the
 * answer when there is nothing to add or memory ran out.
 */
static char **child_env(otelc_span *span, bool active, const exec_opts *o)
{
    if (!active && !o->trace_startup && !o->instrument) return NULL;
    char **envp = otelc_envp_copy();
    if (!envp) return NULL;
    otelc_carrier carrier = otelc_envp_carrier(&envp);
    if (active) {
        otelc_carrier env = otelc_env_carrier();
        otelc_context *incoming = otelc_extract(&env); /* keeps BAGGAGE */
        otelc_span_context sc = otelc_span_get_context(span);
        otelc_context *ctx = otelc_context_with_span_context(incoming, &sc);
        otelc_inject(ctx, &carrier);
        otelc_context_release(ctx);
        otelc_context_release(incoming);
    }
    if (o->trace_startup) carrier.set(carrier.self, "OTELC_TRACE_STARTUP", "1");
    if (o->instrument) cli_instrument_env(&carrier, o->instrument, o->cmd[0]);
    return envp;
}

/* ---- Running and waiting --------------------------------------------------------- */

static void forwarded_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
}

static void spawn(exec_result *r, char **argv, char **envp, const sigset_t *child_mask)
{
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    /* The child gets the mask otelc started with, not the one we wait with. */
    posix_spawnattr_setsigmask(&attr, child_mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    r->spawn_errno = posix_spawnp(&r->pid, argv[0], NULL, &attr, argv, envp ? envp : environ);
    posix_spawnattr_destroy(&attr);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A signal sent to otelc itself goes to the child. One the terminal sent
 * (^C: si_code SI_KERNEL) has already reached the child, which shares our
 * process group; sending it again would make it look like a double ^C.
 */
static void forward(const exec_result *r, const siginfo_t *si)
{
    if (si->si_code == SI_KERNEL) return;
    kill(r->pid, si->si_signo);
}

/* --timeout passed: SIGTERM first, then SIGKILL once the grace period is over too. */
static uint64_t on_deadline(exec_result *r, const exec_opts *o)
{
    if (!r->timed_out) {
        r->timed_out = true;
        kill(r->pid, SIGTERM);
        return mono_ms() + o->kill_after_ms;
    }
    kill(r->pid, SIGKILL);
    return 0;
}

static void wait_child(exec_result *r, const exec_opts *o, const sigset_t *waited)
{
    uint64_t deadline = o->timeout_ms ? mono_ms() + o->timeout_ms : 0;
    for (;;) {
        pid_t w = wait4(r->pid, &r->status, WNOHANG, &r->usage);
        if (w == r->pid || (w < 0 && errno != EINTR)) return;
        siginfo_t si;
        int sig;
        if (deadline) {
            uint64_t now = mono_ms(), left = deadline > now ? deadline - now : 0;
            struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
            sig = sigtimedwait(waited, &si, &ts);
            if (sig < 0 && errno == EAGAIN) deadline = on_deadline(r, o);
        } else {
            sig = sigwaitinfo(waited, &si);
        }
        if (sig > 0 && sig != SIGCHLD) forward(r, &si);
    }
}

/* ---- Recording ----------------------------------------------------------------- */

static otelc_span *start_span(const exec_opts *o)
{
    otelc_span_options so = {.kind = o->kind};
    otelc_span *span = otelc_span_start_with(
        cli_tracer(), o->name && *o->name ? o->name : base_name(o->cmd[0]), &so);
    for (size_t i = 0; i < o->attr_count; i++) {
        const char *eq = strchr(o->attrs[i], '=');
        char *key = strndup(o->attrs[i], (size_t)(eq - o->attrs[i]));
        if (key) otelc_span_set_str(span, key, eq + 1);
        free(key);
    }
    return span;
}

static void record_args(otelc_span *span, char **argv)
{
    size_t n = 0;
    while (argv[n]) n++;
    char **safe = otelc__redact_args(argv, n);
    if (!safe) return;
    otelc_span_set_str_array(span, "process.command_args", (const char *const *)safe, n);
    otelc__redact_args_free(safe, n);
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void record_usage(otelc_span *span, const struct rusage *ru)
{
    otelc_span_set_double(span, "otelc.process.cpu.user_time", seconds(ru->ru_utime));
    otelc_span_set_double(span, "otelc.process.cpu.system_time", seconds(ru->ru_stime));
    /* Linux reports kilobytes. */
    otelc_span_set_int(span, "otelc.process.memory.max_rss", (int64_t)ru->ru_maxrss * 1024);
}

/* Record the outcome and return otelc's exit status. */
static int record_result(otelc_span *span, const exec_result *r, const exec_opts *o)
{
    char msg[128];
    int code;
    if (r->spawn_errno) {
        code = r->spawn_errno == ENOENT ? NOT_FOUND_EXIT : NOT_EXECUTABLE_EXIT;
        snprintf(msg, sizeof msg, "%s: %s", o->cmd[0],
                 code == NOT_FOUND_EXIT ? "command not found" : strerror(r->spawn_errno));
        cli_error("%s", msg);
        otelc_span_set_int(span, "process.exit.code", code);
        otelc_span_set_status(span, OTELC_STATUS_ERROR, msg);
        return code;
    }
    otelc_span_set_int(span, "process.pid", r->pid);
    record_usage(span, &r->usage);
    if (WIFSIGNALED(r->status)) {
        int sig = WTERMSIG(r->status);
        const char *name = sigabbrev_np(sig);
        char full[32];
        snprintf(full, sizeof full, "SIG%s", name ? name : "?");
        otelc_span_set_int(span, "otelc.process.signal.number", sig);
        otelc_span_set_str(span, "otelc.process.signal.name", full);
        snprintf(msg, sizeof msg, "killed by %s", full);
        code = 128 + sig;
    } else {
        code = WEXITSTATUS(r->status);
        otelc_span_set_int(span, "process.exit.code", code);
        snprintf(msg, sizeof msg, "exit code %d", code);
    }
    if (r->timed_out) {
        otelc_span_set_bool(span, "otelc.process.timed_out", true);
        snprintf(msg, sizeof msg, "timed out after %.3gs", (double)o->timeout_ms / 1000);
        code = TIMEOUT_EXIT;
    }
    if (code != 0 || r->timed_out) otelc_span_set_status(span, OTELC_STATUS_ERROR, msg);
    return code;
}

/* ---- Entry point ----------------------------------------------------------------- */

/*
 * The traceparent for {{traceparent}}. Untraced (nothing exported), our
 * span would be a dangling parent: hand on the one we were given, if any.
 */
static void placeholder_value(otelc_span *span, bool active, char tp[56])
{
    const char *given = getenv("TRACEPARENT");
    otelc_span_context sc;
    if (!active && given && otelc_traceparent_parse(given, strlen(given), &sc) == OTELC_OK) {
        otelc_traceparent_format(&sc, tp);
        return;
    }
    sc = otelc_span_get_context(span);
    otelc_traceparent_format(&sc, tp);
}

static int run(exec_opts *o, const sigset_t *child_mask, const sigset_t *waited)
{
    cli_sdk_start(o->service); /* on failure the command still runs, untraced */
    bool active = cli_sdk_active();
    otelc_span *span = start_span(o);
    char tp[56];
    placeholder_value(span, active, tp);

    bool *owned = NULL;
    char **argv = child_argv(o->cmd, tp, &owned);
    char **envp = child_env(span, active, o);
    exec_result r = {0};
    if (!argv) {
        cli_error("out of memory");
        r.spawn_errno = ENOMEM;
    } else {
        spawn(&r, argv, envp, child_mask);
        if (!r.spawn_errno) wait_child(&r, o, waited);
        otelc_span_set_str(span, "process.executable.name", base_name(argv[0]));
        record_args(span, argv);
    }
    int code = record_result(span, &r, o);
    otelc_span_end(span);
    otelc_envp_free(envp);
    free_child_argv(argv, owned);
    cli_sdk_finish();
    return code;
}

int cli_exec(int argc, char **argv)
{
    exec_opts o = {.kind = OTELC_SPAN_INTERNAL, .kill_after_ms = DEFAULT_KILL_AFTER_MS};
    o.attrs = calloc((size_t)argc + 1, sizeof *o.attrs);
    if (!o.attrs) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    int rc = parse_options(&o, argc, argv);
    if (rc >= 0) {
        free(o.attrs);
        return rc;
    }
    /*
     * Block before the SDK starts its threads, so that they inherit the
     * mask and every one of these signals waits for sigtimedwait().
     */
    sigset_t waited, original;
    /* Inherited SIG_IGN would make the kernel reap the child before wait4 sees its status. */
    signal(SIGCHLD, SIG_DFL);
    forwarded_signals(&waited);
    sigaddset(&waited, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &waited, &original);
    rc = run(&o, &original, &waited);
    free(o.attrs);
    return rc;
}
