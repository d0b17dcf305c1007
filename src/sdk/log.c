/*
 * log.c - the SDK's own diagnostics.
 *
 * Messages go to a user handler or to stderr. A misbehaving environment
 * (an exporter failing in a loop, a flood of bad headers) must not turn the
 * diagnostic log into the bottleneck, so each level gets a budget of
 * LOG_BURST messages per second; the rest are counted and reported as one
 * line when the next second's budget opens.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define LOG_BURST   10
#define LOG_LEVELS  (OTELC_LOG_DEBUG + 1)
#define LOG_MSG_MAX 1024

typedef struct log_budget {
    int64_t second; /* CLOCK_MONOTONIC second the budget belongs to */
    uint32_t used;
    uint64_t suppressed;
} log_budget;

static _Atomic int log_level = OTELC_LOG_WARN;
static _Atomic bool log_level_pinned; /* set by otelc_log_set_level: env no longer applies */

/*
 * The lock is held while the handler runs so that once
 * otelc_log_set_handler() returns, the old handler is no longer running and
 * its user data may be freed.
 */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static otelc_log_fn log_fn;
static void *log_user;
static log_budget log_budgets[LOG_LEVELS];

/* A handler that logs through otelc would deadlock on log_lock. */
static _Thread_local bool log_in_handler;

void otelc__log_after_fork_child(void)
{
    /* Another thread's hold on the lock did not survive the fork; this one's would. */
    if (!log_in_handler) pthread_mutex_init(&log_lock, NULL);
}

static int64_t monotonic_second(void)
{
    struct timespec ts;
    /* Coarse is enough for a one-second window and costs no TSC read. */
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void deliver(otelc_log_level level, const char *msg)
{
    if (log_fn) {
        log_in_handler = true;
        log_fn(level, msg, log_user);
        log_in_handler = false;
        return;
    }
    fprintf(stderr, "otelc: %s\n", msg);
}

/* Called with log_lock held. Returns false when the message must be dropped. */
static bool take_budget(otelc_log_level level)
{
    log_budget *b = &log_budgets[level];
    int64_t now = monotonic_second();

    if (now != b->second) {
        if (b->suppressed) {
            char line[96];
            snprintf(line, sizeof line, "%llu messages suppressed",
                     (unsigned long long)b->suppressed);
            deliver(level, line);
        }
        b->second = now;
        b->used = 0;
        b->suppressed = 0;
    }
    if (b->used >= LOG_BURST) {
        b->suppressed++;
        return false;
    }
    b->used++;
    return true;
}

void otelc__log(otelc_log_level level, const char *fmt, ...)
{
    if (level <= OTELC_LOG_NONE || level > OTELC_LOG_DEBUG) return;
    if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed)) return;
    if (log_in_handler) return;

    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&log_lock);
    if (take_budget(level)) deliver(level, msg);
    pthread_mutex_unlock(&log_lock);
}

void otelc_log_set_handler(otelc_log_fn fn, void *user)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_user = fn ? user : NULL;
    /* What was suppressed belonged to the old destination; start afresh. */
    memset(log_budgets, 0, sizeof log_budgets);
    pthread_mutex_unlock(&log_lock);
}

void otelc_log_set_level(otelc_log_level level)
{
    if (level < OTELC_LOG_NONE) level = OTELC_LOG_NONE;
    if (level > OTELC_LOG_DEBUG) level = OTELC_LOG_DEBUG;
    atomic_store(&log_level_pinned, true);
    atomic_store(&log_level, (int)level);
}

void otelc__log_configure_from_env(void)
{
    if (atomic_load(&log_level_pinned)) return;
    atomic_store(&log_level, (int)otelc__log_level_from_env());
}
