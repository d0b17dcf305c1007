/*
 * bench_auto.c - the cost of libotelc-auto (docs/zero-code.md), measured
 * by bench/run_auto.sh.
 *
 * Built twice from this source. bench_auto knows nothing of otelc: it
 * calls libcurl, libpq, hiredis and SQLite as any program does, and
 * run_auto.sh runs it with and without LD_PRELOAD=libotelc-auto.so.
 * bench_auto_linked (BENCH_LINKED) is the same program instrumented the
 * linked way: it starts the SDK itself, calls the instrumentation
 * libraries' otelc_ wrappers and hooks its SQLite connection with
 * otelc_sqlite_instrument(), so both run the same instrumentation code.
 *
 * Every workload makes calls that do no network round trip, so that the
 * instrumentation's cost is not lost in the time of the call itself:
 *
 *   setopt  curl_easy_setopt(CURLOPT_VERBOSE, 0) (interposed for bookkeeping, never traced)
 *   sqlite  one run of a prepared "SELECT 1" on an in-memory database (trace_v2 hook)
 *   pq      PQexec on a connection that failed (a Unix socket nobody listens on)
 *   redis   redisCommand("PING") on a context that failed (likewise; every
 *           4096 calls a reconnect, failing too, empties its output buffer)
 *   none    nothing: start-up alone
 *
 * usage: bench_auto WORKLOAD CALLS [ROUNDS [WARMUP]]
 *          after WARMUP (default 1000) untimed calls (the first starts the
 *          SDK under libotelc-auto), ROUNDS (default 1) timed rounds of
 *          CALLS calls; prints "ns_per_call MEDIAN". CALLS = 0 measures the
 *          fixed costs for callgrind's difference.
 *        bench_auto startup RUNS LIBOTELC_AUTO
 *          RUNS times each, interleaved: this program run with "none" and
 *          with one SQLite statement, no warm-up (under libotelc-auto its
 *          sqlite3_open starts the SDK), each without and
 *          with LD_PRELOAD=LIBOTELC_AUTO; prints the median wall time,
 *          CPU time and time to ready (spawned to calls made: start-up
 *          without exit) of a run of each kind in microseconds. Its runs
 *          print "ready_ns T" (CLOCK_MONOTONIC) when BENCH_AUTO_READY is set.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#ifdef BENCH_LINKED
#include "otelc/instrument/hiredis.h"
#include "otelc/instrument/pq.h"
#include "otelc/instrument/sqlite.h"
#include "otelc/otelc.h"
#define PQexec       otelc_PQexec
#define PQfinish     otelc_PQfinish
#define redisCommand otelc_redisCommand
#define redisFree    otelc_redisFree
#endif

#define WARMUP     1000 /* calls before the timed rounds, unless told otherwise */
#define MAX_ROUNDS 64
#define NOWHERE    "/nonexistent/otelc-bench-auto.sock"
/* hiredis appends every command to the failed context's output buffer: emptied this often. */
#define REDIS_RESET 4096

static sqlite3 *db;
static sqlite3_stmt *select1;
static CURL *easy;
static PGconn *pg;
static redisContext *redis;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_auto: %s\n", what);
    exit(1);
}

static void call_setopt(void)
{
    if (curl_easy_setopt(easy, CURLOPT_VERBOSE, 0L) != CURLE_OK) die("curl_easy_setopt failed");
}

static void call_sqlite(void)
{
    if (sqlite3_step(select1) != SQLITE_ROW) die("SELECT 1 gave no row");
    sqlite3_reset(select1);
}

static void call_pq(void)
{
    PQclear(PQexec(pg, "SELECT 1"));
}

static void call_redis(void)
{
    static unsigned calls;
    if (redisCommand(redis, "PING")) die("PING answered on a failed context");
    /* Reconnecting (which fails again at once) starts a new buffer. */
    if (++calls % REDIS_RESET == 0 && redisReconnect(redis) == REDIS_OK)
        die("the Redis connection did not fail");
}

static void call_none(void) {}

/* Open what workload needs; its call function, or NULL for an unknown workload. */
static void (*open_workload(const char *workload))(void)
{
    if (strcmp(workload, "setopt") == 0) {
        if (!(easy = curl_easy_init())) die("curl_easy_init failed");
        return call_setopt;
    }
    if (strcmp(workload, "sqlite") == 0) {
        if (sqlite3_open(":memory:", &db) != SQLITE_OK) die("sqlite3_open failed");
#ifdef BENCH_LINKED
        otelc_sqlite_instrument(db);
#endif
        if (sqlite3_prepare_v2(db, "SELECT 1", -1, &select1, NULL) != SQLITE_OK)
            die("prepare failed");
        return call_sqlite;
    }
    if (strcmp(workload, "pq") == 0) {
        pg = PQconnectdb("host=/nonexistent dbname=bench connect_timeout=1");
        if (PQstatus(pg) != CONNECTION_BAD) die("the PostgreSQL connection did not fail");
        return call_pq;
    }
    if (strcmp(workload, "redis") == 0) {
        redis = redisConnectUnix(NOWHERE);
        if (!redis || !redis->err) die("the Redis connection did not fail");
        return call_redis;
    }
    if (strcmp(workload, "none") == 0) return call_none;
    return NULL;
}

static void close_workload(void)
{
    if (select1) sqlite3_finalize(select1);
    if (db) sqlite3_close(db);
    if (easy) curl_easy_cleanup(easy);
    if (pg) PQfinish(pg);
    if (redis) redisFree(redis);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_calls(const char *workload, long calls, int rounds, long warmup)
{
    double per_call[MAX_ROUNDS];
#ifdef BENCH_LINKED
    if (otelc_init(NULL) != OTELC_OK) die("otelc_init failed");
#endif
    void (*call)(void) = open_workload(workload);
    if (!call) die("unknown workload");
    for (long i = 0; i < warmup; i++) call();
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        for (long i = 0; i < calls; i++) call();
        per_call[r] = calls ? (now_ns() - t0) / (double)calls : 0;
    }
    printf("ns_per_call %.2f\n", median(per_call, rounds));
    /* For run_startup: when the program's own work was done (exit and its flush follow). */
    if (getenv("BENCH_AUTO_READY")) printf("ready_ns %.0f\n", now_ns());
    close_workload();
#ifdef BENCH_LINKED
    otelc_shutdown();
#endif
    return 0;
}

/*
 * Wall time and CPU time (user + system) of one start-up run, in µs, and
 * the wall time until its work was done (its calls made; before exit).
 */
typedef struct {
    double wall, cpu, ready;
} run_time;

/*
 * One run of this program with args, with LD_PRELOAD=preload when not
 * NULL: its wall time, spawn to reaped, the CPU time it used (on a loaded
 * machine, the wall time also has the time it waited for a CPU), and the
 * wall time until it said its calls were made.
 */
static run_time timed_run(char *const args[], const char *preload)
{
    extern char **environ;
    static char buf[4096];
    char *env[512];
    int n = 0;
    for (char **e = environ; *e && n < 509; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0) env[n++] = *e;
    env[n++] = "BENCH_AUTO_READY=1";
    if (preload) {
        snprintf(buf, sizeof buf, "LD_PRELOAD=%s", preload);
        env[n++] = buf;
    }
    env[n] = NULL;
    /* Its output, two short lines, waits in the pipe until it has been reaped. */
    int out[2];
    if (pipe(out) != 0) die("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    pid_t pid;
    int status;
    struct rusage ru;
    double t0 = now_ns();
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, env);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) die("posix_spawn failed");
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("a start-up run failed");
    double t1 = now_ns();
    char text[256];
    ssize_t got = read(out[0], text, sizeof text - 1);
    close(out[0]);
    text[got > 0 ? got : 0] = '\0';
    const char *ready = strstr(text, "ready_ns ");
    if (!ready) die("a start-up run did not say when it was done");
    return (run_time){
        .wall = (t1 - t0) / 1e3,
        .cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
               ru.ru_stime.tv_usec,
        .ready = (strtod(ready + 9, NULL) - t0) / 1e3,
    };
}

static int run_startup(int runs, const char *auto_lib)
{
    static char *trivial[] = {"bench_auto", "none", "1", "1", "0", NULL};
    static char *first_call[] = {"bench_auto", "sqlite", "1", "1", "0", NULL};
    static const char *names[] = {"startup.plain", "startup.preload", "startup.first_call.plain",
                                  "startup.first_call.preload"};
    double *wall[4], *cpu[4], *ready[4];
    for (int k = 0; k < 4; k++) {
        wall[k] = calloc((size_t)runs, sizeof(double));
        cpu[k] = calloc((size_t)runs, sizeof(double));
        ready[k] = calloc((size_t)runs, sizeof(double));
        if (!wall[k] || !cpu[k] || !ready[k]) die("out of memory");
    }
    for (int i = 0; i < runs; i++) {
        for (int k = 0; k < 4; k++) {
            run_time t = timed_run(k < 2 ? trivial : first_call, k % 2 ? auto_lib : NULL);
            wall[k][i] = t.wall;
            cpu[k][i] = t.cpu;
            ready[k][i] = t.ready;
        }
    }
    for (int k = 0; k < 4; k++) {
        printf("%s %.1f\n", names[k], median(wall[k], runs));
        printf("%s.cpu %.1f\n", names[k], median(cpu[k], runs));
        printf("%s.ready %.1f\n", names[k], median(ready[k], runs));
        free(wall[k]);
        free(cpu[k]);
        free(ready[k]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "startup") == 0)
        return run_startup(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1, argv[3]);
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: bench_auto setopt|sqlite|pq|redis|none CALLS [ROUNDS [WARMUP]]\n"
                        "       bench_auto startup RUNS LIBOTELC_AUTO\n");
        return 2;
    }
    int rounds = argc >= 4 ? atoi(argv[3]) : 1;
    long warmup = argc == 5 ? atol(argv[4]) : WARMUP;
    if (rounds < 1 || rounds > MAX_ROUNDS) die("ROUNDS: 1 to 64");
    return run_calls(argv[1], atol(argv[2]), rounds, warmup);
}
