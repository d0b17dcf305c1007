/*
 * auto.c - libotelc-auto's switches, start-up and exit (see auto.h).
 *
 * Nothing happens when the library is loaded: the program's first call to
 * a traced library reads the switches and starts the SDK, so a program
 * that uses none of them runs exactly as without it. Spans are flushed at
 * exit() (atexit) and, when the program left them at their default, on the
 * signals that end a process (SIGTERM, SIGINT, SIGHUP): by a thread of
 * this library, the flusher, which the signal handler asks and waits for.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "fork_lock.h"
#include "otelc/otelc.h"

#define ALL_LIBS        (AUTO_CURL | AUTO_PQ | AUTO_REDIS | AUTO_SQLITE | AUTO_MHD)
#define SIGNAL_FLUSH_MS 1000

__thread unsigned auto_inside __attribute__((tls_model("initial-exec")));
__thread bool auto_adopted __attribute__((tls_model("initial-exec")));
_Atomic unsigned auto_ready;
_Atomic unsigned auto_traced;

static pthread_mutex_t prepare_lock = PTHREAD_MUTEX_INITIALIZER;
static bool started;              /* the switches were read (under prepare_lock) */
static unsigned switched;         /* libraries to trace if their functions are all there */
static otelc_context *env_parent; /* from TRACEPARENT etc., or NULL */

static const struct {
    const char *name;
    unsigned bit;
} lib_names[] = {
    {"curl", AUTO_CURL},      {"libcurl", AUTO_CURL},
    {"pq", AUTO_PQ},          {"libpq", AUTO_PQ},
    {"postgresql", AUTO_PQ},  {"redis", AUTO_REDIS},
    {"hiredis", AUTO_REDIS},  {"sqlite", AUTO_SQLITE},
    {"sqlite3", AUTO_SQLITE}, {"mhd", AUTO_MHD},
    {"microhttpd", AUTO_MHD}, {"libmicrohttpd", AUTO_MHD},
    {"all", ALL_LIBS},        {"none", 0},
};

/*
 * The libraries interposed, by the names they are loaded as: where to look
 * for a function that RTLD_NEXT does not find because the library is not
 * in the global scope. That is the case of the libcurl the OTLP exporter
 * loads with RTLD_LOCAL into a program that does not link libcurl: its own
 * calls of curl_multi_add_handle still reach the shim first.
 */
static const char *const interposed_sonames[] = {
    "libcurl.so.4",        "libcurl-gnutls.so.4", "libpq.so.5",          "libhiredis.so.0.14",
    "libhiredis.so.1.1.0", "libsqlite3.so.0",     "libmicrohttpd.so.12",
};

static void *find_in_loaded(const char *name)
{
    for (size_t i = 0; i < sizeof interposed_sonames / sizeof interposed_sonames[0]; i++) {
        void *lib = dlopen(interposed_sonames[i], RTLD_LAZY | RTLD_NOLOAD);
        if (!lib) continue;
        void *f = dlsym(lib, name);
        dlclose(lib); /* only the reference NOLOAD took: the library stays */
        if (f) return f;
    }
    return NULL;
}

bool auto_resolve(void *slot, const char *name)
{
    /* POSIX: a function's address comes back from dlsym as a void *. */
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) f = find_in_loaded(name);
    memcpy(slot, &f, sizeof f);
    return f != NULL;
}

/* The bit of one name from OTELC_INSTRUMENT, reporting an unknown one. */
static unsigned lib_bit(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof lib_names / sizeof *lib_names; i++)
        if (strlen(lib_names[i].name) == n && strncasecmp(lib_names[i].name, name, n) == 0)
            return lib_names[i].bit;
    fprintf(stderr, "otelc-auto: OTELC_INSTRUMENT: unknown library \"%.*s\" ignored\n", (int)n,
            name);
    return 0;
}

/* OTELC_INSTRUMENT: unset or empty means every library, else a comma-separated list. */
static unsigned libs_from_env(void)
{
    const char *list = getenv("OTELC_INSTRUMENT");
    unsigned bits = 0;
    if (!list || !*list) return ALL_LIBS;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ", ");
        if (n) bits |= lib_bit(p, n);
        p += n;
        p += strspn(p, ", ");
    }
    return bits;
}

static bool sdk_disabled(void)
{
    const char *v = getenv("OTEL_SDK_DISABLED");
    return v && strcasecmp(v, "true") == 0;
}

/* libotelc's reading of OTELC_EXIT_TIMEOUT (src/internal.h), exported for this library. */
uint32_t otelc__exit_timeout_from_env(void);

/* Bounded as the SDK bounds a program's exit, so that a hung backend cannot stretch it. */
static void flush_at_exit(void)
{
    otelc_force_flush(otelc__exit_timeout_from_env());
}

/*
 * Flushing on a signal that ends the process. The handler may interrupt a
 * thread that holds any lock (malloc's, the SDK's), so it makes only
 * async-signal-safe calls: it counts a request in flush_asked and wakes the
 * flusher thread, which flushes, then waits on flush_answered, a bounded
 * time, for the flusher to say so (futexes: no lock, no descriptor the
 * program could close or reuse). A flush held up by a lock the interrupted
 * thread holds costs that wait, never a hang. A fork child has no flusher
 * until its first traced call starts one (auto_adopt).
 */
static _Atomic uint32_t flush_asked;    /* requests, one per signal handled */
static _Atomic uint32_t flush_answered; /* the requests the flusher has flushed for */
static _Atomic pid_t flusher_pid;       /* the process whose flusher runs (0: none) */
static bool signals_caught;             /* some ending signal flushes: a child needs a flusher */

/* libotelc's CLOCK_MONOTONIC deadline ms from now (src/internal.h), exported for this library. */
struct timespec otelc__deadline_in(uint32_t ms);

/*
 * Wait while *word is seen, until the CLOCK_MONOTONIC time *until at most
 * (NULL: no bound). False once that time has passed.
 */
static bool futex_wait(_Atomic uint32_t *word, uint32_t seen, const struct timespec *until)
{
    return syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, seen, until, NULL,
                   FUTEX_BITSET_MATCH_ANY) == 0 ||
           errno != ETIMEDOUT;
}

static void futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void *flusher_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint32_t asked = atomic_load(&flush_asked);
        if (asked == atomic_load(&flush_answered)) {
            futex_wait(&flush_asked, asked, NULL);
            continue;
        }
        otelc_force_flush(SIGNAL_FLUSH_MS);
        atomic_store(&flush_answered, asked);
        futex_wake(&flush_answered);
    }
    return NULL;
}

/* Start this process's flusher. */
static void flusher_start(void)
{
    pthread_t t;
    sigset_t all, old;
    atomic_store(&flush_answered, atomic_load(&flush_asked));
    sigfillset(&all); /* the flusher takes no signal: it must not wait for itself */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, NULL, flusher_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) return;
    pthread_setname_np(t, "otelc-flush");
    pthread_detach(t);
    atomic_store(&flusher_pid, getpid());
}

/* Ask this process's flusher to flush and wait for it, at most SIGNAL_FLUSH_MS + 500 ms. */
static void ask_flusher(void)
{
    if (atomic_load(&flusher_pid) != getpid()) return; /* a child whose flusher did not start */
    uint32_t want = atomic_fetch_add(&flush_asked, 1) + 1;
    futex_wake(&flush_asked);
    /* clock_gettime and arithmetic: async-signal-safe. */
    struct timespec until = otelc__deadline_in(SIGNAL_FLUSH_MS + 500);
    for (;;) {
        uint32_t got = atomic_load(&flush_answered);
        if ((int32_t)(got - want) >= 0 || !futex_wait(&flush_answered, got, &until)) return;
    }
}

/*
 * A signal that ends the process: flush, then die of it as the program
 * would have. Not from inside an instrumented call, where this thread
 * may be in the middle of the span the flush would export.
 */
static void flush_and_die(int sig)
{
    int saved = errno;
    signal(sig, SIG_DFL);
    if (!auto_inside) ask_flusher();
    raise(sig); /* delivered, with its default action, when the handler returns */
    errno = saved;
}

/* In a fork child: the thread that forked makes its first traced call anew. */
static void forked_child(void)
{
    auto_adopted = false;
}

static void catch_ending_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old, sa = {.sa_handler = flush_and_die};
        sigemptyset(&sa.sa_mask);
        /* Only a disposition the program left alone is taken over. */
        if (sigaction(sigs[i], NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_DFL && sigaction(sigs[i], &sa, NULL) == 0)
            signals_caught = true;
    }
    if (!signals_caught) return;
    flusher_start();
    pthread_atfork(NULL, NULL, forked_child);
}

/* Read the switches and start the SDK; the libraries to trace (0: none). */
static unsigned start(void)
{
    unsigned libs = libs_from_env();
    if (!libs || sdk_disabled()) return 0;
    if (getauxval(AT_SECURE)) {
        fprintf(stderr, "otelc-auto: not tracing a setuid/setgid program\n");
        return 0;
    }
    if (otelc_init(NULL) != OTELC_OK) return 0; /* otelc_init said why */
    otelc_carrier env = otelc_env_carrier();
    env_parent = otelc_extract(&env);
    /* Nothing inherited: attaching an empty context would only make every span look at it. */
    otelc_span_context sc = otelc_context_span_context(env_parent);
    if (!otelc_span_context_is_valid(&sc) &&
        otelc_baggage_count(otelc_context_baggage(env_parent)) == 0) {
        otelc_context_release(env_parent);
        env_parent = NULL;
    }
    atexit(flush_at_exit);
    catch_ending_signals();
    return libs;
}

void auto_adopt(void)
{
    auto_adopted = true;
    /* A fork child's first traced call: its own flusher (a thread per process, not per call). */
    if (signals_caught && atomic_load(&flusher_pid) != getpid()) {
        fork_lock(&prepare_lock);
        if (atomic_load(&flusher_pid) != getpid()) flusher_start();
        pthread_mutex_unlock(&prepare_lock);
    }
    if (!env_parent) return;
    /* A thread that is already in a span (a server's request) keeps it, and never adopts. */
    otelc_context *cur = otelc_context_current();
    otelc_span_context sc = otelc_context_span_context(cur);
    otelc_context_release(cur);
    if (!otelc_span_context_is_valid(&sc))
        otelc_context_attach(env_parent); /* never exited: the thread's root */
}

unsigned auto_prepare(unsigned lib, bool (*resolve)(void))
{
    fork_lock(&prepare_lock);
    unsigned traced = atomic_load_explicit(&auto_traced, memory_order_relaxed);
    if (!(atomic_load_explicit(&auto_ready, memory_order_relaxed) & lib)) {
        bool complete = resolve();
        if (!started) {
            started = true;
            switched = start();
        }
        if (complete && (switched & lib)) traced |= lib;
        atomic_store_explicit(&auto_traced, traced, memory_order_release);
        atomic_fetch_or_explicit(&auto_ready, lib, memory_order_release);
    }
    pthread_mutex_unlock(&prepare_lock);
    return traced;
}
