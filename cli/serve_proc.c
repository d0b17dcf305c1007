/*
 * serve_proc.c - POST /build and POST /test of `otelc serve`.
 *
 * Both reuse the otelc command itself rather than a second copy of its
 * logic: a build is `otelc run --output json` on the steps, a test is
 * `otelc exec` around the test command and then `otelc junit` on its
 * report. Each child gets the request's context in TRACEPARENT /
 * TRACESTATE / BAGGAGE and exports through the same OTEL_* settings, so its
 * spans join the request's trace. Running them as processes also keeps
 * their signal handling (run and exec take SIGCHLD with sigtimedwait)
 * away from the service's threads.
 *
 * Children start with posix_spawn() in a process group of their own, with
 * the default signal mask and dispositions (the service blocks SIGINT and
 * SIGTERM in every thread). They are listed while they run, so that a
 * stopping service can cancel them instead of waiting for them.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifdef OTELC_SERVE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline.h"
#include "serve.h"

#define MAX_CHILDREN         64
#define POLL_MS              200
#define TEST_OUTPUT_MAX      ((size_t)64 << 10) /* of the test command's output, in the reply */
#define DEFAULT_TEST_TIMEOUT "10m"

/* What became of one child. */
typedef struct child {
    bool started;
    int error;  /* why it did not start (an errno value) */
    int status; /* from waitpid */
    char *out;  /* its stdout (and for the test command its stderr), bounded */
    size_t len;
    bool truncated;
} child;

static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t children[MAX_CHILDREN];
static size_t child_count;
static bool stopping;

/* ---- Running a child ------------------------------------------------------------- */

static void list_remove(pid_t pid)
{
    pthread_mutex_lock(&children_lock);
    for (size_t i = 0; i < child_count; i++) {
        if (children[i] == pid) {
            children[i] = children[--child_count];
            break;
        }
    }
    pthread_mutex_unlock(&children_lock);
}

void serve_children_signal(int sig)
{
    pthread_mutex_lock(&children_lock);
    stopping = true;
    for (size_t i = 0; i < child_count; i++) kill(-children[i], sig);
    pthread_mutex_unlock(&children_lock);
}

/* The environment with the current context (the request's SERVER span) injected. */
static char **child_env(void)
{
    char **envp = otelc_envp_copy();
    if (!envp) return NULL;
    otelc_carrier carrier = otelc_envp_carrier(&envp);
    otelc_inject(NULL, &carrier);
    return envp;
}

static int spawn_listed(pid_t *pid, const serve_config *cfg, char *const argv[], int out_fd,
                        bool merge_stderr, char **envp)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (merge_stderr) posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setpgroup(&at, 0);
    /* Listed under the lock, so a stop cannot slip in between spawning and listing. */
    pthread_mutex_lock(&children_lock);
    int rc = stopping || child_count == MAX_CHILDREN
                 ? EAGAIN
                 : posix_spawn(pid, cfg->exe, &fa, &at, argv, envp);
    if (rc == 0) children[child_count++] = *pid;
    pthread_mutex_unlock(&children_lock);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static void keep_output(child *ch, const char *buf, size_t n, size_t max)
{
    size_t keep = n < max - ch->len ? n : max - ch->len;
    if (keep < n) ch->truncated = true;
    if (!keep) return;
    char *grown = realloc(ch->out, ch->len + keep + 1);
    if (!grown) {
        ch->truncated = true;
        return;
    }
    ch->out = grown;
    memcpy(ch->out + ch->len, buf, keep);
    ch->len += keep;
    ch->out[ch->len] = '\0';
}

/* Whether pid has exited (left unreaped, so its id cannot be reused yet). */
static bool has_exited(pid_t pid)
{
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/*
 * Read the child's output until end of file, or until the child has exited
 * and a pause follows (something it left running in the background may
 * hold the pipe open forever).
 */
static void collect(int fd, pid_t pid, child *ch, size_t max)
{
    char buf[8192];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, POLL_MS);
        if (n < 0 && errno != EINTR) break;
        if (n == 0 && has_exited(pid)) break;
        if (n <= 0) continue;
        ssize_t got = read(fd, buf, sizeof buf);
        if (got > 0)
            keep_output(ch, buf, (size_t)got, max);
        else if (got == 0 || errno != EINTR)
            break;
    }
}

/* Run this otelc with argv, the request's context and stdout captured. */
static void run_child(const serve_config *cfg, char *const argv[], bool merge_stderr, size_t max,
                      child *ch)
{
    *ch = (child){.error = ENOMEM};
    int fds[2];
    char **envp = child_env();
    if (!envp || pipe2(fds, O_CLOEXEC) < 0) {
        if (envp) ch->error = errno;
        otelc_envp_free(envp);
        return;
    }
    pid_t pid;
    ch->error = spawn_listed(&pid, cfg, argv, fds[1], merge_stderr, envp);
    close(fds[1]);
    otelc_envp_free(envp);
    if (ch->error == 0) {
        collect(fds[0], pid, ch, max);
        /* Wait without reaping, unlist, then reap: a listed id always names our child. */
        siginfo_t si;
        while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) continue;
        list_remove(pid);
        while (waitpid(pid, &ch->status, 0) < 0 && errno == EINTR) continue;
        ch->started = true;
    }
    close(fds[0]);
}

static int exit_code(const child *ch)
{
    if (WIFEXITED(ch->status)) return WEXITSTATUS(ch->status);
    return WIFSIGNALED(ch->status) ? 128 + WTERMSIG(ch->status) : -1;
}

/* The child's output as a JSON value in doc, or NULL when it printed something else. */
static json_value *child_json(const child *ch, json_doc *doc)
{
    return ch->out ? otelc__json_parse(doc, ch->out, ch->len, NULL, NULL) : NULL;
}

/* ---- POST /build ------------------------------------------------------------------ */

/* A pipeline document: the body itself, or a list of steps wrapped as one. */
static char *pipeline_text(const json_value *doc, const char *body, size_t len, size_t *out_len)
{
    static const char head[] = "{\"name\":\"build\",\"steps\":", tail[] = "}";
    bool wrap = doc->type == JSON_ARRAY;
    size_t n = len + (wrap ? sizeof head - 1 + sizeof tail - 1 : 0);
    char *text = malloc(n + 1), *w = text;
    if (!text) return NULL;
    if (wrap) w = mempcpy(w, head, sizeof head - 1);
    w = mempcpy(w, body, len);
    if (wrap) w = mempcpy(w, tail, sizeof tail - 1);
    *w = '\0';
    *out_len = n;
    return text;
}

/* Write text to a new file in the scratch directory; path receives its name. */
static bool write_temp(const serve_config *cfg, const char *text, size_t len, char *path,
                       size_t size)
{
    snprintf(path, size, "%s/build-XXXXXX.json", cfg->tmpdir);
    int fd = mkstemps(path, 5);
    if (fd < 0) return false;
    bool ok = write(fd, text, len) == (ssize_t)len;
    if (close(fd) != 0) ok = false;
    if (!ok) unlink(path);
    return ok;
}

/* The reply to a finished `otelc run`: its JSON summary, or why there is none. */
static void build_reply(const child *ch, serve_reply *r)
{
    json_doc doc = JSON_DOC_INIT;
    json_value *summary = child_json(ch, &doc);
    int code = exit_code(ch);
    if (!ch->started) {
        reply_error(r, 503, "cannot start otelc run: %s", strerror(ch->error));
    } else if (!summary || (code != 0 && code != 1)) {
        reply_error(r, 500, "otelc run ended with status %d and no summary", code);
    } else if (reply_open(r, 200)) {
        otelc__json_write(r->f, summary);
        fputc('\n', r->f);
        reply_close(r);
    }
    otelc__json_free(&doc);
}

void serve_build(const serve_config *cfg, const json_value *doc, const char *body, size_t len,
                 serve_reply *r)
{
    if (doc->type != JSON_ARRAY && doc->type != JSON_OBJECT) {
        reply_error(r, 400, "the body must be a list of steps or a pipeline object");
        return;
    }
    size_t n = 0;
    char *text = pipeline_text(doc, body, len, &n), err[1024], path[512];
    pipeline *pl = NULL;
    /* Validate here, so that a bad pipeline is the client's 400 and nothing runs. */
    if (!text) {
        reply_error(r, 500, "out of memory");
    } else if (pipeline_parse(text, n, "build.json", PIPELINE_JSON, &pl, err, sizeof err) < 0) {
        reply_error(r, 400, "%s", err);
    } else if (!write_temp(cfg, text, n, path, sizeof path)) {
        reply_error(r, 500, "cannot write the pipeline file: %s", strerror(errno));
    } else {
        char *argv[] = {"otelc", "run", "--output", "json", path, NULL};
        child ch;
        run_child(cfg, argv, false, SERVE_MAX_CAPTURE, &ch);
        unlink(path);
        build_reply(&ch, r);
        free(ch.out);
    }
    pipeline_free(pl);
    free(text);
}

/* ---- POST /test ------------------------------------------------------------------- */

/* The string member key, or NULL after a 400 (optional members may be absent). */
static const char *string_member(const json_value *doc, const char *key, bool required,
                                 serve_reply *r)
{
    const json_value *v = otelc__json_object_get(doc, key);
    if (!v && !required) return "";
    if (!v || v->type != JSON_STRING || v->u.string.len == 0 ||
        strlen(v->u.string.ptr) != v->u.string.len) {
        reply_error(r, 400, "\"%s\" must be a non-empty string", key);
        return NULL;
    }
    return v->u.string.ptr;
}

static void write_command(FILE *f, const child *cmd)
{
    fprintf(f, "\"command\":{\"exit_code\":%d,\"output\":", exit_code(cmd));
    otelc__json_write_string(f, cmd->out ? cmd->out : "", cmd->len);
    fprintf(f, ",\"output_truncated\":%s}", cmd->truncated ? "true" : "false");
}

static void test_reply(const child *cmd, const child *junit, const char *report, serve_reply *r)
{
    json_doc doc = JSON_DOC_INIT;
    json_value *totals = child_json(junit, &doc);
    if (!cmd->started || !junit->started) {
        reply_error(r, 503, "cannot start otelc: %s",
                    strerror(cmd->started ? junit->error : cmd->error));
    } else if (reply_open(r, totals ? 200 : 422)) {
        fputc('{', r->f);
        write_command(r->f, cmd);
        if (totals) {
            fputs(",\"report\":", r->f);
            otelc__json_write(r->f, totals);
        } else {
            fputs(",\"error\":", r->f);
            serve_write_str(r->f, "the report could not be imported (missing or not JUnit XML)");
            fputs(",\"report_path\":", r->f);
            serve_write_str(r->f, report);
        }
        fputs("}\n", r->f);
        reply_close(r);
    }
    otelc__json_free(&doc);
}

void serve_test(const serve_config *cfg, const json_value *doc, serve_reply *r)
{
    if (doc->type != JSON_OBJECT) {
        reply_error(r, 400, "the body must be {\"command\": \"...\", \"report\": \"path\"}");
        return;
    }
    const char *command = string_member(doc, "command", true, r), *report, *timeout;
    if (!command || !(report = string_member(doc, "report", true, r)) ||
        !(timeout = string_member(doc, "timeout", false, r)))
        return;
    uint64_t ms;
    if (!*timeout) timeout = DEFAULT_TEST_TIMEOUT;
    if (!cli_parse_duration(timeout, &ms) || ms == 0) {
        reply_error(r, 400, "\"timeout\" must be a duration such as 30s or 5m");
        return;
    }
    char *exec_argv[] = {"otelc",     "exec",          "--name", "test command",
                         "--timeout", (char *)timeout, "--",     "/bin/sh",
                         "-c",        (char *)command, NULL};
    char *junit_argv[] = {"otelc", "junit", "--no-fail",    "--output",
                          "json",  "--",    (char *)report, NULL};
    child cmd, junit = {0};
    run_child(cfg, exec_argv, true, TEST_OUTPUT_MAX, &cmd);
    if (cmd.started) run_child(cfg, junit_argv, false, SERVE_MAX_CAPTURE, &junit);
    test_reply(&cmd, &junit, report, r);
    free(cmd.out);
    free(junit.out);
}
#endif
