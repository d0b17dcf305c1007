/*
 * run.c - `otelc run PIPELINE`: run a pipeline file's steps as a trace.
 *
 * The pipeline run is one SERVER span named "RUN <pipeline>" and every step
 * an INTERNAL child span, with the CI/CD semantic conventions' attributes
 * (cicd.pipeline.*, cicd.pipeline.task.*). Each step's process gets its
 * span's TRACEPARENT/TRACESTATE/BAGGAGE, so `otelc exec` inside a step
 * nests under it.
 *
 * Scheduling is a single-threaded loop: start whatever is ready (up to
 * --jobs), then wait in sigtimedwait() for a child to exit, a signal to
 * otelc or the next timeout deadline. SIGCHLD, SIGINT and SIGTERM stay
 * blocked in every thread (they are blocked before the SDK starts its
 * threads) and are only ever consumed here, so no handler races with the
 * loop. Each step runs in its own process group, so a timeout or a
 * cancellation reaches everything the step started, not only its shell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "internal.h"
#include "json.h"
#include "pipeline.h"
#include "file_digest.h"

#define MAX_JOBS      256
#define KILL_GRACE_MS 5000 /* between SIGTERM and SIGKILL */
#define POLL_MS       200  /* upper bound on one wait, in case a SIGCHLD is lost */

/* cicd.pipeline.task.run.result and cicd.pipeline.result values. */
typedef enum result {
    RES_NONE,
    RES_SUCCESS,
    RES_FAILURE,
    RES_ERROR,
    RES_TIMEOUT,
    RES_CANCELLATION,
    RES_SKIP,
} result;

static const char *const result_names[] = {
    "", "success", "failure", "error", "timeout", "cancellation", "skip",
};

typedef enum state { PENDING, RUNNING, DONE } state;

typedef struct output_record {
    char *path;
    uint64_t size;
    char sha256[FILE_DIGEST_HEX_LEN + 1];
    bool found;
} output_record;

typedef struct step_run {
    const pipeline_step *def;
    state state;
    result res;
    pid_t pid;
    otelc_span *span;
    uint64_t start_ms, end_ms; /* monotonic, for durations and deadlines */
    uint64_t deadline_ms;      /* the step's timeout (0: none) */
    uint64_t kill_ms;          /* SIGKILL after SIGTERM (0: not yet) */
    bool timed_out, cancelled;
    int exit_code; /* -1 when the step never ran */
    char message[256];
    output_record *outputs;
} step_run;

typedef struct run_opts {
    unsigned jobs;
    bool keep_going, json, dry_run;
    const char *service, *run_id, *file;
} run_opts;

typedef struct runner {
    const pipeline *pl;
    const run_opts *opts;
    step_run *steps;
    unsigned running;
    bool stop;      /* start nothing more: a step failed (without --keep-going) or cancelled */
    int cancelled;  /* the signal that cancelled the run, or 0 */
    result failure; /* the result of the first step that failed the pipeline */
    otelc_span *root;
    otelc_context *root_ctx;
    sigset_t blocked, saved;
    int devnull;
    char random_id[33];
    const char *run_id; /* --run-id, or random_id */
    uint64_t start_ms;
} runner;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- Command line --------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: otelc run [--jobs N] [--keep-going] [--dry-run] [--output json]\n"
          "                 [--service S] [--run-id ID] PIPELINE.yaml|PIPELINE.json\n"
          "\n"
          "Run a pipeline file's steps, tracing the run as a span named \"RUN <pipeline>\"\n"
          "with one child span per step (CI/CD semantic conventions). Steps run one at a\n"
          "time in declaration order, or with --jobs N up to N at once as their depends_on\n"
          "allow. A failing step fails the pipeline and nothing new starts (unless\n"
          "allow_failure: true; with --keep-going only its dependents are skipped).\n"
          "Each step gets TRACEPARENT, TRACESTATE and BAGGAGE, reads stdin from /dev/null\n"
          "and runs in its own process group; SIGINT/SIGTERM cancel the run.\n"
          "\n"
          "  -j, --jobs N       run up to N steps in parallel (default 1)\n"
          "  -k, --keep-going   after a failure, still run steps not depending on it\n"
          "  -n, --dry-run      validate the file and list the steps; run nothing\n"
          "  -o, --output json  print the summary as JSON on stdout (steps' stdout goes\n"
          "                     to stderr then)\n"
          "  -s, --service S    service.name of the spans\n"
          "      --run-id ID    cicd.pipeline.run.id (default: a random id), e.g. the CI's\n"
          "  -h, --help         this help\n"
          "\n"
          "Examples:\n"
          "  otelc run ci.yaml\n"
          "  OTEL_TRACES_EXPORTER=otlp otelc run --jobs 4 --run-id \"$GITHUB_RUN_ID\" ci.yaml\n"
          "  otelc run --output json pipeline.json > summary.json\n"
          "\n"
          "Exit status: 0 when the pipeline passed, 1 when it failed, timed out or was\n"
          "cancelled, 2 for a usage error, 3 for an invalid pipeline file (nothing runs).\n",
          f);
}

static int parse_jobs(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || *end || end == s || n < 1 || n > MAX_JOBS) {
        cli_error("--jobs expects a number from 1 to %d, got \"%s\"", MAX_JOBS, s);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* Returns -1 to go on, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, run_opts *o)
{
    enum { OPT_RUN_ID = 256 };
    static const struct option longs[] = {
        {"jobs", required_argument, NULL, 'j'},
        {"keep-going", no_argument, NULL, 'k'},
        {"output", required_argument, NULL, 'o'},
        {"service", required_argument, NULL, 's'},
        {"run-id", required_argument, NULL, OPT_RUN_ID},
        {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *o = (run_opts){.jobs = 1};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+j:kno:s:h", longs, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (parse_jobs(optarg, &o->jobs) < 0) return CLI_EXIT_USAGE;
            break;
        case 'k':
            o->keep_going = true;
            break;
        case 'n':
            o->dry_run = true;
            break;
        case 'o':
            if (cli_output_format("run", optarg, &o->json)) return CLI_EXIT_USAGE;
            break;
        case 's':
            o->service = optarg;
            break;
        case OPT_RUN_ID:
            o->run_id = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            if (optopt)
                cli_error("run: option -%c needs a value or is unknown; see 'otelc run --help'",
                          optopt);
            else
                cli_usage_error("run", "unknown option", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error("run",
                               optind >= argc ? "a pipeline file is required"
                                              : "exactly one pipeline file expected",
                               NULL);
    }
    o->file = argv[optind];
    return -1;
}

/* ---- The child's environment ------------------------------------------------ */

/* Replace or append NAME=value (entry) in the malloc'd, NULL-terminated *envp. */
static int envp_put(char ***envp, const char *entry)
{
    size_t name_len = strcspn(entry, "="), n = 0;
    char *copy = strdup(entry);
    if (!copy) return -1;
    for (char **e = *envp; *e; e++, n++) {
        if (strncmp(*e, entry, name_len) == 0 && (*e)[name_len] == '=') {
            free(*e);
            *e = copy;
            return 0;
        }
    }
    char **grown = realloc(*envp, (n + 2) * sizeof *grown);
    if (!grown) return free(copy), -1;
    grown[n] = copy;
    grown[n + 1] = NULL;
    *envp = grown;
    return 0;
}

static void envp_remove(char **envp, const char *name)
{
    size_t len = strlen(name), w = 0;
    for (size_t r = 0; envp[r]; r++) {
        if (strncmp(envp[r], name, len) == 0 && envp[r][len] == '=')
            free(envp[r]);
        else
            envp[w++] = envp[r];
    }
    envp[w] = NULL;
}

/* otelc's environment, the step's env on top, and the step span's context. */
static char **step_envp(const runner *r, const step_run *s)
{
    char **envp = otelc_envp_copy();
    if (!envp) return NULL;
    /* Stale context from otelc's own parent must not survive next to the step's. */
    envp_remove(envp, "TRACEPARENT");
    envp_remove(envp, "TRACESTATE");
    envp_remove(envp, "BAGGAGE");
    for (size_t i = 0; i < s->def->env_count; i++) {
        if (envp_put(&envp, s->def->env[i]) < 0) {
            otelc_envp_free(envp);
            return NULL;
        }
    }
    otelc_span_context sc = otelc_span_get_context(s->span);
    otelc_context *ctx = otelc_context_new(&sc, otelc_context_baggage(r->root_ctx));
    otelc_carrier carrier = otelc_envp_carrier(&envp);
    otelc_inject(ctx, &carrier);
    otelc_context_release(ctx);
    return envp;
}

/* The value of PATH in envp, or the system default. */
static const char *envp_path(char **envp)
{
    for (char **e = envp; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
    return "/usr/local/bin:/usr/bin:/bin";
}

/*
 * Resolve a command name through PATH before forking: the child may only
 * make async-signal-safe calls, so it gets a path for execve(). NULL means
 * use the name as is (it has a '/', or nothing was found and execve will
 * report ENOENT).
 */
static char *find_program(const char *name, char **envp)
{
    if (strchr(name, '/')) return NULL;
    const char *p = envp_path(envp);
    while (*p) {
        size_t n = strcspn(p, ":");
        char path[4096];
        int len = snprintf(path, sizeof path, "%.*s%s%s", (int)n, p, n ? "/" : "", name);
        struct stat st;
        if (len > 0 && (size_t)len < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            access(path, X_OK) == 0)
            return strdup(path);
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* ---- Starting a step ------------------------------------------------------- */

static void random_hex(char *out, size_t bytes)
{
    uint8_t id[8];
    for (size_t done = 0; done < bytes; done += 8) {
        otelc__span_id_new(id);
        otelc__hex_encode(id, bytes - done < 8 ? bytes - done : 8, out + 2 * done);
    }
    out[2 * bytes] = '\0';
}

static void record_command_args(otelc_span *span, const pipeline_step *st)
{
    char *shell_argv[] = {"/bin/sh", "-c", st->shell, NULL};
    char *const *argv = st->shell ? shell_argv : st->argv;
    size_t n = st->shell ? 3 : st->argc;
    char **safe = otelc__redact_args(argv, n);
    if (!safe) return;
    otelc_span_set_str_array(span, "process.command_args", (const char *const *)safe, n);
    otelc__redact_args_free(safe, n);
}

static otelc_span *start_step_span(runner *r, const pipeline_step *st)
{
    /* The span id is chosen here so the task run id can be given at span creation,
     * as the conventions ask of sampling-relevant attributes. */
    uint8_t span_id[8];
    char run_id[17];
    otelc__span_id_new(span_id);
    otelc__hex_encode(span_id, 8, run_id);
    run_id[16] = '\0';
    otelc_attr attrs[3] = {
        OTELC_ATTR_STR("cicd.pipeline.task.name", st->name),
        OTELC_ATTR_STR("cicd.pipeline.task.run.id", run_id),
        OTELC_ATTR_STR("cicd.pipeline.task.type", st->type),
    };
    otelc_span_options so = {
        .kind = OTELC_SPAN_INTERNAL,
        .parent = r->root_ctx,
        .attrs = attrs,
        .attr_count = st->type ? 3 : 2,
        .span_id = span_id,
    };
    return otelc_span_start_with(cli_tracer(), st->name, &so);
}

/* In the child: only async-signal-safe calls from here to execve. */
static void child_exec(const runner *r, const pipeline_step *st, const char *path,
                       char *const *argv, char **envp, int err_fd)
{
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &r->saved, NULL);
    dup2(r->devnull, STDIN_FILENO);
    if (r->opts->json) dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout carries the summary */
    if (!st->working_directory || chdir(st->working_directory) == 0) execve(path, argv, envp);
    int e = errno;
    ssize_t ignored = write(err_fd, &e, sizeof e);
    (void)ignored;
    _exit(e == ENOENT ? 127 : 126);
}

/* Fork and exec; on failure to start, fills s->message and returns -1 (child reaped). */
static int spawn(runner *r, step_run *s, char **envp)
{
    const pipeline_step *st = s->def;
    char *shell_argv[] = {"sh", "-c", st->shell, NULL};
    char *const *argv = st->shell ? shell_argv : st->argv;
    char *found = st->shell ? NULL : find_program(st->argv[0], envp);
    const char *path = st->shell ? "/bin/sh" : found ? found : st->argv[0];
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(s->message, sizeof s->message, "cannot start: %s", strerror(errno));
        free(found);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) child_exec(r, st, path, argv, envp, pipefd[1]);
    int fork_errno = errno, exec_errno = 0;
    close(pipefd[1]);
    if (pid > 0) {
        setpgid(pid, pid); /* also here: no window where a signal misses the group */
        while (read(pipefd[0], &exec_errno, sizeof exec_errno) < 0 && errno == EINTR) continue;
    }
    close(pipefd[0]);
    if (pid < 0 || exec_errno) {
        const char *what = st->working_directory && exec_errno == ENOENT &&
                                   access(st->working_directory, F_OK) != 0
                               ? st->working_directory
                               : path;
        snprintf(s->message, sizeof s->message, "cannot run \"%s\": %s", what,
                 strerror(pid < 0 ? fork_errno : exec_errno));
        if (pid > 0) {
            int status;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) continue;
            s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 127;
        }
        free(found);
        return -1;
    }
    free(found);
    s->pid = pid;
    return 0;
}

static void finish_step(runner *r, step_run *s, result res);

static void start_step(runner *r, step_run *s)
{
    const pipeline_step *st = s->def;
    s->span = start_step_span(r, st);
    record_command_args(s->span, st);
    s->state = RUNNING;
    s->start_ms = mono_ms();
    s->deadline_ms = st->timeout_ms ? s->start_ms + st->timeout_ms : 0;
    r->running++;
    char **envp = step_envp(r, s);
    if (!envp) {
        snprintf(s->message, sizeof s->message, "cannot start: out of memory");
        finish_step(r, s, RES_ERROR);
        return;
    }
    int rc = spawn(r, s, envp);
    otelc_envp_free(envp);
    if (rc < 0) {
        finish_step(r, s, s->exit_code >= 0 ? RES_FAILURE : RES_ERROR);
        return;
    }
    otelc_span_set_int(s->span, "process.pid", s->pid);
}

/* ---- Finishing a step ------------------------------------------------------ */

static char *output_path(const pipeline_step *st, const char *out)
{
    if (out[0] == '/' || !st->working_directory) return strdup(out);
    size_t n = strlen(st->working_directory) + strlen(out) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", st->working_directory, out);
    return p;
}

/*
 * A regular file at o->path that could not be hashed because libcrypto is
 * not there: found, with its size and no digest.
 */
static bool found_undigested(output_record *o)
{
    struct stat st;
    if (errno != ELIBACC || stat(o->path, &st) < 0 || !S_ISREG(st.st_mode)) return false;
    o->size = (uint64_t)st.st_size;
    o->sha256[0] = '\0';
    return true;
}

/*
 * Hash each declared output into an event; false when one is missing. Only
 * a step that otherwise succeeded takes the missing output as its message.
 */
static bool record_outputs(step_run *s, bool explain)
{
    const pipeline_step *st = s->def;
    bool all = true;
    if (!st->output_count || !(s->outputs = calloc(st->output_count, sizeof *s->outputs)))
        return st->output_count == 0;
    for (size_t i = 0; i < st->output_count; i++) {
        output_record *o = &s->outputs[i];
        if (!(o->path = output_path(st, st->outputs[i]))) return false;
        if (file_sha256(o->path, o->sha256, &o->size) < 0 && !found_undigested(o)) {
            if (all && explain)
                snprintf(s->message, sizeof s->message, "declared output \"%s\": %s", o->path,
                         strerror(errno));
            all = false;
            continue;
        }
        o->found = true;
        otelc_attr attrs[] = {
            OTELC_ATTR_STR("file.path", o->path),
            OTELC_ATTR_INT("file.size", (int64_t)o->size),
            OTELC_ATTR_STR("otelc.file.sha256", o->sha256),
        };
        size_t n = sizeof attrs / sizeof attrs[0];
        otelc_span_add_event(s->span, "output", attrs, o->sha256[0] ? n : n - 1);
    }
    return all;
}

static const char *signal_name(int sig)
{
    const char *abbrev = sigabbrev_np(sig);
    static __thread char buf[16];
    snprintf(buf, sizeof buf, "SIG%s", abbrev ? abbrev : "?");
    return buf;
}

/* The span's status and error.type: what failed, in low-cardinality words. */
static void record_result(step_run *s, result res)
{
    otelc_span_set_str(s->span, "cicd.pipeline.task.run.result", result_names[res]);
    if (s->exit_code >= 0) otelc_span_set_int(s->span, "process.exit.code", s->exit_code);
    if (res == RES_SUCCESS || res == RES_SKIP) return;
    char type[32];
    if (res == RES_FAILURE && s->exit_code > 128 && !s->message[0])
        snprintf(type, sizeof type, "%s", signal_name(s->exit_code - 128));
    else if (res == RES_FAILURE && s->exit_code > 0 && !s->message[0])
        snprintf(type, sizeof type, "%d", s->exit_code);
    else
        snprintf(type, sizeof type, "%s", res == RES_FAILURE ? "_OTHER" : result_names[res]);
    otelc_span_set_str(s->span, "error.type", type);
    if (!s->message[0] && res == RES_FAILURE)
        snprintf(s->message, sizeof s->message, "exit code %d", s->exit_code);
    if (!s->message[0]) snprintf(s->message, sizeof s->message, "%s", result_names[res]);
    otelc_span_set_status(s->span, OTELC_STATUS_ERROR, s->message);
}

/* A step is over (or will never run): close its span and decide what it means for the run. */
static void finish_step(runner *r, step_run *s, result res)
{
    if (s->state == RUNNING) r->running--;
    s->state = DONE;
    s->end_ms = mono_ms();
    if (res == RES_SKIP && !s->span) s->span = start_step_span(r, s->def);
    s->res = res;
    record_result(s, res);
    otelc_span_end(s->span);
    s->span = NULL;
    if (res == RES_SUCCESS || res == RES_SKIP) return;
    if (res != RES_CANCELLATION)
        cli_error("step \"%s\" %s: %s%s", s->def->name, result_names[res], s->message,
                  s->def->allow_failure ? " (allowed to fail)" : "");
    if (s->def->allow_failure) return;
    if (r->failure == RES_NONE) r->failure = res;
    if (!r->opts->keep_going) r->stop = true;
}

/* The child exited: turn its wait status into the step's result. */
static void reaped(runner *r, step_run *s, int status)
{
    result res;
    s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (s->timed_out) {
        res = RES_TIMEOUT;
        snprintf(s->message, sizeof s->message, "timed out after %llu ms",
                 (unsigned long long)s->def->timeout_ms);
    } else if (s->cancelled) {
        res = RES_CANCELLATION;
        snprintf(s->message, sizeof s->message, "cancelled by %s", signal_name(r->cancelled));
    } else if (WIFSIGNALED(status)) {
        res = RES_FAILURE;
        snprintf(s->message, sizeof s->message, "killed by %s", signal_name(WTERMSIG(status)));
    } else {
        res = s->exit_code == 0 ? RES_SUCCESS : RES_FAILURE;
    }
    /* Outputs are recorded whatever happened; a missing one fails an otherwise good step. */
    if (!record_outputs(s, res == RES_SUCCESS) && res == RES_SUCCESS) res = RES_FAILURE;
    finish_step(r, s, res);
}

/* ---- The loop ------------------------------------------------------------- */

/*
 * Can s start now? The failed or skipped dependency that means it never
 * will, or NULL.
 */
static const step_run *blocked_by(const runner *r, const step_run *s, bool *can_start)
{
    *can_start = true;
    for (size_t i = 0; i < s->def->dep_count; i++) {
        const step_run *d = &r->steps[s->def->deps[i]];
        if (d->state != DONE) {
            *can_start = false;
            continue;
        }
        if (d->res == RES_SKIP || (d->res != RES_SUCCESS && !d->def->allow_failure)) return d;
    }
    return NULL;
}

/* Start what can start, skip what never will. */
static void schedule(runner *r)
{
    for (size_t i = 0; i < r->pl->count; i++) {
        step_run *s = &r->steps[i];
        if (s->state != PENDING) continue;
        bool can_start;
        const step_run *dep = blocked_by(r, s, &can_start);
        if (dep || r->stop) {
            if (dep)
                snprintf(s->message, sizeof s->message, "dependency \"%.200s\": %s", dep->def->name,
                         result_names[dep->res]);
            else
                snprintf(s->message, sizeof s->message, "not run: the pipeline %s",
                         r->cancelled ? "was cancelled" : "failed");
            finish_step(r, s, RES_SKIP);
            continue;
        }
        if (can_start && r->running < r->opts->jobs) start_step(r, s);
    }
}

static void signal_steps(runner *r, int sig)
{
    for (size_t i = 0; i < r->pl->count; i++)
        if (r->steps[i].state == RUNNING && r->steps[i].pid > 0) kill(-r->steps[i].pid, sig);
}

static void cancel(runner *r, int sig)
{
    if (r->cancelled) { /* a second signal: no more patience */
        signal_steps(r, SIGKILL);
        return;
    }
    r->cancelled = sig;
    r->stop = true;
    uint64_t now = mono_ms();
    for (size_t i = 0; i < r->pl->count; i++) {
        step_run *s = &r->steps[i];
        if (s->state != RUNNING) continue;
        s->cancelled = true;
        s->kill_ms = now + KILL_GRACE_MS;
    }
    signal_steps(r, sig);
}

/* Enforce timeouts: SIGTERM at the deadline, SIGKILL after the grace period. */
static void check_deadlines(runner *r, uint64_t now)
{
    for (size_t i = 0; i < r->pl->count; i++) {
        step_run *s = &r->steps[i];
        if (s->state != RUNNING) continue;
        if (s->deadline_ms && now >= s->deadline_ms && !s->timed_out && !s->cancelled) {
            s->timed_out = true;
            s->kill_ms = now + KILL_GRACE_MS;
            kill(-s->pid, SIGTERM);
        } else if (s->kill_ms && now >= s->kill_ms) {
            kill(-s->pid, SIGKILL);
            s->kill_ms = 0;
        }
    }
}

static uint64_t next_wakeup(const runner *r, uint64_t now)
{
    uint64_t wait = POLL_MS;
    for (size_t i = 0; i < r->pl->count; i++) {
        const step_run *s = &r->steps[i];
        if (s->state != RUNNING) continue;
        uint64_t at = s->kill_ms ? s->kill_ms : s->timed_out ? 0 : s->deadline_ms;
        if (at && at <= now) return 0;
        if (at && at - now < wait) wait = at - now;
    }
    return wait;
}

static void reap(runner *r)
{
    for (size_t i = 0; i < r->pl->count; i++) {
        step_run *s = &r->steps[i];
        int status;
        if (s->state != RUNNING || s->pid <= 0) continue;
        pid_t got = waitpid(s->pid, &status, WNOHANG);
        if (got == s->pid) {
            /* The group may outlive its leader (a daemonised grandchild): end it too. */
            kill(-s->pid, SIGKILL);
            reaped(r, s, status);
        }
    }
}

static void wait_events(runner *r)
{
    uint64_t ms = next_wakeup(r, mono_ms());
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    siginfo_t info;
    int sig = sigtimedwait(&r->blocked, &info, &ts);
    if (sig == SIGINT || sig == SIGTERM) cancel(r, sig);
    reap(r);
    check_deadlines(r, mono_ms());
}

static void run_loop(runner *r)
{
    for (;;) {
        schedule(r);
        if (r->running == 0) {
            bool pending = false;
            for (size_t i = 0; i < r->pl->count; i++) pending |= r->steps[i].state == PENDING;
            if (!pending) break;
        }
        wait_events(r);
    }
}

/* ---- The pipeline span and the summary ----------------------------------------- */

static result pipeline_result(const runner *r)
{
    if (r->cancelled) return RES_CANCELLATION;
    return r->failure == RES_NONE ? RES_SUCCESS : r->failure;
}

static void start_root(runner *r)
{
    otelc_carrier env = otelc_env_carrier();
    otelc_context *parent = otelc_extract(&env);
    char name[300];
    snprintf(name, sizeof name, "RUN %s", r->pl->name);
    random_hex(r->random_id, 16);
    r->run_id = r->opts->run_id ? r->opts->run_id : r->random_id;
    otelc_attr attrs[] = {
        OTELC_ATTR_STR("cicd.pipeline.name", r->pl->name),
        OTELC_ATTR_STR("cicd.pipeline.run.id", r->run_id),
        OTELC_ATTR_STR("cicd.pipeline.action.name", "RUN"),
    };
    otelc_span_options so = {
        .kind = OTELC_SPAN_SERVER,
        .parent = parent,
        .attrs = attrs,
        .attr_count = sizeof attrs / sizeof attrs[0],
    };
    r->root = otelc_span_start_with(cli_tracer(), name, &so);
    otelc_span_context sc = otelc_span_get_context(r->root);
    r->root_ctx = otelc_context_new(&sc, parent ? otelc_context_baggage(parent) : NULL);
    otelc_context_release(parent);
    r->start_ms = mono_ms();
}

static void end_root(runner *r, result res)
{
    otelc_span_set_str(r->root, "cicd.pipeline.result", result_names[res]);
    if (res != RES_SUCCESS) {
        otelc_span_set_str(r->root, "error.type",
                           res == RES_FAILURE ? "_OTHER" : result_names[res]);
        otelc_span_set_status(r->root, OTELC_STATUS_ERROR, result_names[res]);
    }
    otelc_span_end(r->root);
    otelc_context_release(r->root_ctx);
}

static void format_duration(char *out, size_t size, const step_run *s)
{
    if (s->res == RES_SKIP)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.2fs", (double)(s->end_ms - s->start_ms) / 1000.0);
}

static void summary_table(const runner *r, result res)
{
    int w = 4;
    for (size_t i = 0; i < r->pl->count; i++) {
        int n = (int)strlen(r->steps[i].def->name);
        if (n > w) w = n < 60 ? n : 60;
    }
    fprintf(stderr, "\n%-*s  %-12s  %9s  %s\n", w, "STEP", "RESULT", "DURATION", "EXIT");
    for (size_t i = 0; i < r->pl->count; i++) {
        const step_run *s = &r->steps[i];
        char dur[32], code[16] = "-";
        format_duration(dur, sizeof dur, s);
        if (s->exit_code >= 0) snprintf(code, sizeof code, "%d", s->exit_code);
        fprintf(stderr, "%-*.*s  %-12s  %9s  %s%s\n", w, w, s->def->name, result_names[s->res], dur,
                code,
                s->res != RES_SUCCESS && s->def->allow_failure && s->res != RES_SKIP
                    ? "  (allowed to fail)"
                    : "");
    }
    fprintf(stderr, "pipeline \"%s\": %s in %.2fs\n", r->pl->name, result_names[res],
            (double)(mono_ms() - r->start_ms) / 1000.0);
}

static void json_step(FILE *f, const step_run *s)
{
    fputs("{\"name\":", f);
    otelc__json_write_string(f, s->def->name, strlen(s->def->name));
    fprintf(f, ",\"result\":\"%s\",\"allow_failure\":%s", result_names[s->res],
            s->def->allow_failure ? "true" : "false");
    if (s->res != RES_SKIP)
        fprintf(f, ",\"duration_ms\":%llu", (unsigned long long)(s->end_ms - s->start_ms));
    if (s->exit_code >= 0) fprintf(f, ",\"exit_code\":%d", s->exit_code);
    if (s->message[0] && s->res != RES_SUCCESS) {
        fputs(",\"message\":", f);
        otelc__json_write_string(f, s->message, strlen(s->message));
    }
    fputs(",\"outputs\":[", f);
    bool first = true;
    for (size_t i = 0; s->outputs && i < s->def->output_count; i++) {
        const output_record *o = &s->outputs[i];
        if (!o->path) continue;
        fputs(first ? "{\"path\":" : ",{\"path\":", f);
        first = false;
        otelc__json_write_string(f, o->path, strlen(o->path));
        if (o->found && o->sha256[0])
            fprintf(f, ",\"size\":%llu,\"sha256\":\"%s\"}", (unsigned long long)o->size, o->sha256);
        else if (o->found)
            fprintf(f, ",\"size\":%llu}", (unsigned long long)o->size);
        else
            fputs(",\"missing\":true}", f);
    }
    fputs("]}", f);
}

static void summary_json(const runner *r, result res, const char *trace_id)
{
    FILE *f = stdout;
    fputs("{\"pipeline\":", f);
    otelc__json_write_string(f, r->pl->name, strlen(r->pl->name));
    fputs(",\"run_id\":", f);
    otelc__json_write_string(f, r->run_id, strlen(r->run_id));
    fprintf(f, ",\"result\":\"%s\",\"duration_ms\":%llu,\"trace_id\":\"%s\",\"steps\":[",
            result_names[res], (unsigned long long)(mono_ms() - r->start_ms), trace_id);
    for (size_t i = 0; i < r->pl->count; i++) {
        if (i) fputc(',', f);
        json_step(f, &r->steps[i]);
    }
    fputs("]}\n", f);
    fflush(f);
}

/* ---- Entry point ----------------------------------------------------------- */

static void runner_free(runner *r)
{
    for (size_t i = 0; r->steps && i < r->pl->count; i++) {
        for (size_t k = 0; r->steps[i].outputs && k < r->steps[i].def->output_count; k++)
            free(r->steps[i].outputs[k].path);
        free(r->steps[i].outputs);
    }
    free(r->steps);
    if (r->devnull >= 0) close(r->devnull);
}

static int runner_init(runner *r, const pipeline *pl, const run_opts *o)
{
    *r = (runner){.pl = pl, .opts = o, .devnull = -1};
    r->steps = calloc(pl->count, sizeof *r->steps);
    r->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!r->steps || r->devnull < 0) {
        cli_error("run: cannot set up: %s", strerror(errno ? errno : ENOMEM));
        return -1;
    }
    for (size_t i = 0; i < pl->count; i++)
        r->steps[i] = (step_run){.def = &pl->steps[i], .exit_code = -1};
    return 0;
}

/* Run a validated pipeline under the started SDK; returns its result. */
static result run_pipeline(runner *r, char trace_id[33])
{
    start_root(r);
    otelc_span_context sc = otelc_span_get_context(r->root);
    otelc_trace_id_hex(&sc, trace_id);
    run_loop(r);
    result res = pipeline_result(r);
    end_root(r, res);
    return res;
}

/* --dry-run: what would run, one line per step, with what it waits for. */
static void print_plan(const pipeline *pl)
{
    printf("pipeline \"%s\": %zu step%s\n", pl->name, pl->count, pl->count == 1 ? "" : "s");
    for (size_t i = 0; i < pl->count; i++) {
        const pipeline_step *st = &pl->steps[i];
        printf("  %s", st->name);
        for (size_t k = 0; k < st->dep_count; k++)
            printf("%s%s", k ? ", " : " (after ", pl->steps[st->deps[k]].name);
        printf("%s%s\n", st->dep_count ? ")" : "", st->allow_failure ? " [allowed to fail]" : "");
    }
}

int cli_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    char err[1024];
    pipeline *pl;
    if (pipeline_load(o.file, &pl, err, sizeof err) < 0) {
        cli_error("%s", err);
        return CLI_EXIT_INPUT;
    }
    if (o.dry_run) {
        print_plan(pl);
        pipeline_free(pl);
        return CLI_EXIT_OK;
    }
    runner r;
    if (runner_init(&r, pl, &o) < 0) {
        runner_free(&r);
        pipeline_free(pl);
        return CLI_EXIT_INTERNAL;
    }
    /* Before the SDK starts threads, so that they inherit the mask (see the top). */
    sigemptyset(&r.blocked);
    sigaddset(&r.blocked, SIGCHLD);
    sigaddset(&r.blocked, SIGINT);
    sigaddset(&r.blocked, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &r.blocked, &r.saved);
    cli_sdk_start(o.service); /* tracing off is reported, and the pipeline still runs */
    char trace_id[33];
    result res = run_pipeline(&r, trace_id);
    if (o.json) summary_json(&r, res, trace_id);
    summary_table(&r, res);
    cli_sdk_finish();
    pthread_sigmask(SIG_SETMASK, &r.saved, NULL);
    runner_free(&r);
    pipeline_free(pl);
    return res == RES_SUCCESS ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
