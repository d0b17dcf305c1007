/*
 * soak_service.c - the instrumented service of the chaos soak (tests/soak/soak.sh).
 *
 *   OTEL_EXPORTER_OTLP_...=... soak_service PHASE_FILE OUT_DIR RATE APP_URL OTELC
 *
 * Serves RATE requests a second, each a SERVER span with a SQLite statement,
 * a PostgreSQL query (libotelc-pq) when SOAK_PG_CONNINFO names a server, a
 * Redis command (libotelc-hiredis) when SOAK_REDIS_PORT is the port of one
 * on 127.0.0.1, and every tenth a libcurl call to APP_URL, while it exports to the OTLP
 * endpoint the environment configures, where the fault server misbehaves on its own
 * schedule and writes the name of its current phase to PHASE_FILE. Around
 * the requests it starts and joins threads that trace, forks children that
 * trace through the inherited provider, and spawns `OTELC exec -- true`.
 * Each fork child shuts its copy of the provider down and appends its own
 * counters (what it ended, exported and dropped since the fork) as a line
 * to OUT_DIR/children.jsonl, so the soak accounts for its spans too.
 *
 * Once a second it appends to OUT_DIR/samples.jsonl what the host would
 * watch (RSS, open descriptors, threads) and what the SDK counted. On
 * SIGTERM it stops the load, shuts the provider down and writes
 * OUT_DIR/summary.json: the span accounting (ended = exported + every drop
 * by reason) and the request and span latency percentiles by phase.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#ifdef SOAK_HAVE_PQ
#include "otelc/instrument/pq.h"
#endif
#ifdef SOAK_HAVE_HIREDIS
#include "otelc/instrument/hiredis.h"
#endif

#include "export/otlp.h"
#include "otelc/exporters.h"
#include "otelc/instrument/curl.h"
#include "otelc/instrument/sqlite.h"
#include "otelc/otelc.h"

extern char **environ;

#define MAX_PHASES     16
#define PHASE_NAME     32
#define REQ_BUCKETS    20000 /* request latency in 10 µs buckets, up to 200 ms */
#define REQ_BUCKET_NS  10000
#define SPAN_BUCKETS   10000 /* span start+end in 50 ns buckets, up to 500 µs */
#define SPAN_BUCKET_NS 50
#define MAX_CHILDREN   4

/* Latency histograms of one phase name (fixed size: the soak watches RSS). */
struct phase_stats {
    char name[PHASE_NAME];
    uint64_t requests, req_max_ns;
    uint32_t req[REQ_BUCKETS + 1];
    uint32_t span[SPAN_BUCKETS + 1];
};

static struct {
    const char *phase_file, *out_dir, *app_url, *otelc;
    char phase[PHASE_NAME];
    struct phase_stats phases[MAX_PHASES];
    int phase_count;
    otelc_tracer *tracer;
    otelc_exporter *exporter; /* borrowed: the provider owns it */
    sqlite3 *db;
    CURL *curl;
#ifdef SOAK_HAVE_PQ
    PGconn *pg;
#endif
#ifdef SOAK_HAVE_HIREDIS
    redisContext *redis;
#endif
    const char *pg_state, *redis_state; /* what each request makes, or why not: for the report */
    uint64_t pg_calls, pg_failed, redis_calls, redis_failed;
    pid_t children[MAX_CHILDREN];
    uint64_t forks, execs, threads, child_crashes, child_failures;
    FILE *samples;
    char **exec_env; /* environ, with OTEL_SERVICE_NAME=<ours>-exec */
} S;

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- The fault server's phase ---------------------------------------------------- */

static void read_phase(void)
{
    char buf[PHASE_NAME] = "";
    int fd = open(S.phase_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (buf[0]) snprintf(S.phase, sizeof S.phase, "%s", buf);
}

static struct phase_stats *current_phase(void)
{
    for (int i = 0; i < S.phase_count; i++)
        if (strcmp(S.phases[i].name, S.phase) == 0) return &S.phases[i];
    if (S.phase_count == MAX_PHASES) return &S.phases[MAX_PHASES - 1];
    struct phase_stats *p = &S.phases[S.phase_count++];
    snprintf(p->name, sizeof p->name, "%s", S.phase);
    return p;
}

static void count_ns(uint32_t *hist, size_t buckets, uint64_t bucket_ns, uint64_t ns)
{
    uint64_t i = ns / bucket_ns;
    hist[i < buckets ? i : buckets]++;
}

/* The upper edge of the bucket holding quantile q, in microseconds. */
static double quantile_us(const uint32_t *hist, size_t buckets, uint64_t bucket_ns, double q)
{
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i <= buckets; i++) total += hist[i];
    if (!total) return 0;
    for (size_t i = 0; i <= buckets; i++) {
        seen += hist[i];
        if ((double)seen >= q * (double)total) return (double)((i + 1) * bucket_ns) / 1000.0;
    }
    return (double)((buckets + 1) * bucket_ns) / 1000.0;
}

/* ---- One request ------------------------------------------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

static void call_app(void)
{
    curl_easy_setopt(S.curl, CURLOPT_URL, S.app_url);
    curl_easy_setopt(S.curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(S.curl, CURLOPT_TIMEOUT_MS, 2000L);
    otelc_curl_perform(S.curl, NULL);
}

/* One query on a connection of its own; its failures are counted, the span records them. */
static void query_pg(void)
{
#ifdef SOAK_HAVE_PQ
    if (!S.pg) return;
    PGresult *r = otelc_PQexec(S.pg, "SELECT 1");
    S.pg_calls++;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) S.pg_failed++;
    PQclear(r);
#endif
}

/* One counter, incremented: Redis must not grow either. */
static void command_redis(void)
{
#ifdef SOAK_HAVE_HIREDIS
    if (!S.redis) return;
    redisReply *r = otelc_redisCommand(S.redis, "INCR soak:hits");
    S.redis_calls++;
    if (!r || r->type == REDIS_REPLY_ERROR) S.redis_failed++;
    if (r) freeReplyObject(r);
#endif
}

static void serve_request(uint64_t seq)
{
    struct phase_stats *ps = current_phase();
    uint64_t t0 = now_ns();
    otelc_span *req = otelc_span_start(S.tracer, "GET /soak", OTELC_SPAN_SERVER);
    otelc_span_set_int(req, "soak.request", (int64_t)seq);
    otelc_scope scope = otelc_span_activate(req);

    uint64_t s0 = now_ns();
    otelc_span *work = otelc_span_start(S.tracer, "render", OTELC_SPAN_INTERNAL);
    otelc_span_end(work);
    count_ns(ps->span, SPAN_BUCKETS, SPAN_BUCKET_NS, now_ns() - s0);

    /* One row, updated: the database must not grow, or RSS would tell of it and not of otelc. */
    sqlite3_exec(S.db, "UPDATE hits SET n = n + 1", NULL, NULL, NULL);
    query_pg();
    command_redis();
    if (seq % 10 == 0) call_app();

    otelc_scope_exit(scope);
    otelc_span_end(req);
    uint64_t took = now_ns() - t0;
    count_ns(ps->req, REQ_BUCKETS, REQ_BUCKET_NS, took);
    if (took > ps->req_max_ns) ps->req_max_ns = took;
    ps->requests++;
}

/* ---- Counters --------------------------------------------------------------------- */

/* What the SDK and the OTLP exporter counted, by the names report.json uses. */
enum counter {
    C_ENDED,
    C_EXPORTED,
    C_QUEUE_FULL,
    C_EXPORT_FAILED,
    C_BREAKER_SKIPPED,
    C_REJECTED,
    C_REQUESTS,
    C_RETRIES,
    C_EXPORTS_OK,
    C_EXPORTS_FAILED,
    C_BREAKER_OPENED,
    C_COUNT
};

static const char *const counter_names[C_COUNT] = {
    "ended",    "exported", "queue_full", "export_failed",  "breaker_skipped", "rejected",
    "requests", "retries",  "exports_ok", "exports_failed", "breaker_opened"};

static void read_counters(uint64_t c[C_COUNT])
{
    otelc_stats st;
    otelc_otlp_stats os = {0};
    otelc_stats_get(&st);
    otelc__otlp_exporter_stats(S.exporter, &os);
    c[C_ENDED] = st.spans_ended;
    c[C_EXPORTED] = os.spans_ok;
    c[C_QUEUE_FULL] = st.spans_dropped;
    c[C_EXPORT_FAILED] = st.spans_export_failed;
    c[C_BREAKER_SKIPPED] = os.spans_breaker;
    c[C_REJECTED] = os.spans_rejected;
    c[C_REQUESTS] = os.requests;
    c[C_RETRIES] = os.retries;
    c[C_EXPORTS_OK] = os.exports_ok;
    c[C_EXPORTS_FAILED] = os.exports_failed;
    c[C_BREAKER_OPENED] = os.breaker_opened;
}

static void print_counters(FILE *f, const uint64_t c[C_COUNT])
{
    for (int i = 0; i < C_COUNT; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", counter_names[i], (unsigned long long)c[i]);
}

static void write_counters(FILE *f)
{
    uint64_t c[C_COUNT];
    read_counters(c);
    print_counters(f, c);
}

/* ---- Threads, forks and exec'd children that trace ------------------------------- */

static void *thread_work(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        otelc_span *s = otelc_span_start(S.tracer, "thread-job", OTELC_SPAN_INTERNAL);
        otelc_span_set_int(s, "job", i);
        otelc_span_end(s);
    }
    return NULL;
}

static void churn_threads(void)
{
    pthread_t t[4];
    int started = 0;
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[started], NULL, thread_work, NULL) == 0) started++;
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    S.threads += (uint64_t)started;
}

static int free_child_slot(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (S.children[i] == 0) return i;
    return -1;
}

static bool balanced(const uint64_t c[C_COUNT])
{
    return c[C_ENDED] == c[C_EXPORTED] + c[C_QUEUE_FULL] + c[C_EXPORT_FAILED];
}

/*
 * A fork child's counters start from the parent's at the fork: append what
 * grew since base to OUT_DIR/children.jsonl, one line (one write, O_APPEND)
 * per child. An export that shutdown's bound cut short is counted when the
 * worker returns from it: wait a little for that.
 */
static void report_child(const uint64_t base[C_COUNT])
{
    uint64_t c[C_COUNT];
    for (int waited_ms = 0;; waited_ms += 50) {
        read_counters(c);
        for (int i = 0; i < C_COUNT; i++) c[i] -= base[i];
        if (balanced(c) || waited_ms >= 5000) break;
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/children.jsonl", S.out_dir);
    FILE *f = fopen(path, "ae");
    if (!f) return;
    fprintf(f, "{\"pid\":%ld,", (long)getpid());
    print_counters(f, c);
    fputs("}\n", f);
    fclose(f);
}

/*
 * A fork child traces through the provider it inherited, shuts it down
 * within a second (what it could not deliver by then is counted as
 * failed), reports its counters and leaves.
 */
static void fork_child(void)
{
    int slot = free_child_slot();
    if (slot < 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        uint64_t base[C_COUNT];
        read_counters(base);
        otelc_span *s = otelc_span_start(S.tracer, "forked-child", OTELC_SPAN_INTERNAL);
        otelc_span_set_int(s, "process.pid", getpid());
        otelc_span_end(s);
        otelc_provider_shutdown(otelc_provider_global(), 1000);
        report_child(base);
        _exit(0);
    }
    if (pid > 0) S.children[slot] = pid, S.forks++;
}

static void exec_child(void)
{
    int slot = free_child_slot();
    if (slot < 0) return;
    char *argv[] = {(char *)S.otelc, "exec", "--", "true", NULL};
    pid_t pid;
    if (posix_spawn(&pid, S.otelc, NULL, NULL, argv, S.exec_env) == 0)
        S.children[slot] = pid, S.execs++;
}

static void reap_children(bool wait_all)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (!S.children[i]) continue;
        int status;
        pid_t r = waitpid(S.children[i], &status, wait_all ? 0 : WNOHANG);
        if (r != S.children[i]) continue;
        S.children[i] = 0;
        if (WIFSIGNALED(status))
            S.child_crashes++;
        else if (WEXITSTATUS(status) != 0)
            S.child_failures++;
    }
}

/* ---- Samples and the summary ------------------------------------------------------ */

static long status_field(const char *name)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long v = -1;
    size_t len = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':') v = strtol(line + len + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static void write_sample(uint64_t elapsed_ms)
{
    fprintf(S.samples,
            "{\"t_ms\":%llu,\"phase\":\"%s\",\"rss_kb\":%ld,\"fds\":%ld,\"threads\":%ld,",
            (unsigned long long)elapsed_ms, S.phase, status_field("VmRSS"), open_fds(),
            status_field("Threads"));
    write_counters(S.samples);
    fputs("}\n", S.samples);
    fflush(S.samples);
}

static void write_summary(uint64_t shutdown_ms)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", S.out_dir);
    FILE *f = fopen(path, "we");
    if (!f) return;
    fputs("{", f);
    write_counters(f);
    fprintf(f,
            ",\"shutdown_ms\":%llu,\"forks\":%llu,\"execs\":%llu,\"threads_started\":%llu,"
            "\"child_crashes\":%llu,\"child_failures\":%llu,",
            (unsigned long long)shutdown_ms, (unsigned long long)S.forks,
            (unsigned long long)S.execs, (unsigned long long)S.threads,
            (unsigned long long)S.child_crashes, (unsigned long long)S.child_failures);
    fprintf(f,
            "\"pg\":\"%s\",\"pg_calls\":%llu,\"pg_failed\":%llu,"
            "\"redis\":\"%s\",\"redis_calls\":%llu,\"redis_failed\":%llu,\"phases\":[",
            S.pg_state, (unsigned long long)S.pg_calls, (unsigned long long)S.pg_failed,
            S.redis_state, (unsigned long long)S.redis_calls, (unsigned long long)S.redis_failed);
    for (int i = 0; i < S.phase_count; i++) {
        const struct phase_stats *p = &S.phases[i];
        fprintf(f,
                "%s{\"name\":\"%s\",\"requests\":%llu,\"req_p50_us\":%.0f,\"req_p99_us\":%.0f,"
                "\"req_max_us\":%llu,\"span_p50_us\":%.2f,\"span_p99_us\":%.2f}",
                i ? "," : "", p->name, (unsigned long long)p->requests,
                quantile_us(p->req, REQ_BUCKETS, REQ_BUCKET_NS, 0.5),
                quantile_us(p->req, REQ_BUCKETS, REQ_BUCKET_NS, 0.99),
                (unsigned long long)(p->req_max_ns / 1000u),
                quantile_us(p->span, SPAN_BUCKETS, SPAN_BUCKET_NS, 0.5),
                quantile_us(p->span, SPAN_BUCKETS, SPAN_BUCKET_NS, 0.99));
    }
    fputs("]}\n", f);
    fclose(f);
}

/* ---- Set-up and the loop ---------------------------------------------------------- */

/* The exec'd children name themselves apart, so the fault server counts them apart. */
static void make_exec_env(void)
{
    static char name[256];
    size_t n = 0;
    while (environ[n]) n++;
    S.exec_env = calloc(n + 2, sizeof *S.exec_env);
    if (!S.exec_env) abort();
    const char *ours = getenv("OTEL_SERVICE_NAME");
    snprintf(name, sizeof name, "OTEL_SERVICE_NAME=%s-exec", ours ? ours : "soak");
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OTEL_SERVICE_NAME=", 18) != 0) S.exec_env[j++] = environ[i];
    S.exec_env[j] = name;
}

/*
 * otelc_init()'s pipeline, configured by the same environment, but built here:
 * the soak reads the exporter's counters.
 */
static int start_tracing(void)
{
    S.exporter = otelc_otlp_exporter_new(NULL);
    if (!S.exporter) return -1;
    otelc_processor *proc = otelc_batch_processor_new(S.exporter, NULL);
    otelc_provider_options po = {.processors = &proc, .processor_count = 1};
    return otelc_init(&po);
}

static int open_db(void)
{
    if (sqlite3_open(":memory:", &S.db) != SQLITE_OK) return -1;
    otelc_sqlite_instrument(S.db);
    const char *sql = "CREATE TABLE hits (n INTEGER); INSERT INTO hits VALUES (0)";
    return sqlite3_exec(S.db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* The PostgreSQL server soak.sh started, if any: SOAK_PG_CONNINFO. */
static void connect_pg(void)
{
    const char *conninfo = getenv("SOAK_PG_CONNINFO");
    S.pg_state = "no server given";
#ifdef SOAK_HAVE_PQ
    if (!conninfo) return;
    S.pg = PQconnectdb(conninfo);
    if (PQstatus(S.pg) == CONNECTION_OK) {
        S.pg_state = "one query per request";
        return;
    }
    fprintf(stderr, "soak_service: PostgreSQL: %s", PQerrorMessage(S.pg));
    PQfinish(S.pg);
    S.pg = NULL;
    S.pg_state = "connection failed";
#else
    if (conninfo) S.pg_state = "not built (no libpq)";
#endif
}

/* The Redis server soak.sh started, if any: SOAK_REDIS_PORT on 127.0.0.1. */
static void connect_redis(void)
{
    const char *port = getenv("SOAK_REDIS_PORT");
    S.redis_state = "no server given";
#ifdef SOAK_HAVE_HIREDIS
    if (!port) return;
    S.redis = redisConnectWithTimeout("127.0.0.1", atoi(port), (struct timeval){2, 0});
    if (S.redis && !S.redis->err) {
        S.redis_state = "one command per request";
        return;
    }
    fprintf(stderr, "soak_service: Redis: %s\n", S.redis ? S.redis->errstr : "out of memory");
    redisFree(S.redis);
    S.redis = NULL;
    S.redis_state = "connection failed";
#else
    if (port) S.redis_state = "not built (no hiredis)";
#endif
}

static void disconnect_stores(void)
{
#ifdef SOAK_HAVE_PQ
    if (S.pg) otelc_PQfinish(S.pg);
#endif
#ifdef SOAK_HAVE_HIREDIS
    if (S.redis) otelc_redisFree(S.redis);
#endif
}

static void run(unsigned rate)
{
    uint64_t start = now_ns(), period = 1000000000u / rate, next = start, seq = 0;
    uint64_t next_sample = start, next_phase = start;
    while (!stopping) {
        uint64_t now = now_ns();
        if (now >= next_phase) read_phase(), next_phase = now + 100000000u;
        if (now >= next_sample) {
            write_sample((now - start) / 1000000u);
            next_sample += 1000000000u;
            churn_threads();
            if ((now - start) / 1000000000u % 2 == 0)
                fork_child();
            else
                exec_child();
            reap_children(false);
        }
        serve_request(seq++);
        next += period;
        now = now_ns();
        if (next > now) {
            struct timespec ts = {(time_t)((next - now) / 1000000000u),
                                  (long)((next - now) % 1000000000u)};
            nanosleep(&ts, NULL);
        } else if (now - next > 1000000000u) {
            next = now; /* behind by a second: do not burst to catch up */
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s PHASE_FILE OUT_DIR RATE APP_URL OTELC\n", argv[0]);
        return 2;
    }
    S.phase_file = argv[1];
    S.out_dir = argv[2];
    unsigned rate = (unsigned)strtoul(argv[3], NULL, 10);
    S.app_url = argv[4];
    S.otelc = argv[5];
    snprintf(S.phase, sizeof S.phase, "start");
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    make_exec_env();

    char path[4096];
    snprintf(path, sizeof path, "%s/samples.jsonl", S.out_dir);
    S.samples = fopen(path, "we");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    S.curl = curl_easy_init();
    if (!rate || !S.samples || !S.curl || start_tracing() != OTELC_OK || open_db() != 0) {
        fprintf(stderr, "soak_service: cannot start\n");
        return 1;
    }
    S.tracer = otelc_tracer_get("otelc.soak", NULL);
    connect_pg();
    connect_redis();

    run(rate);

    reap_children(true);
    sqlite3_close(S.db);
    disconnect_stores();
    curl_easy_cleanup(S.curl);
    uint64_t t0 = now_ns();
    otelc_provider_shutdown(otelc_provider_global(), 15000);
    write_summary((now_ns() - t0) / 1000000u);
    otelc_shutdown();
    free(S.exec_env);
    fclose(S.samples);
    curl_global_cleanup();
    return 0;
}
