/*
 * retry_run.c - the retry loop every network exporter runs, and the stop
 * flag whose sleep shutdown can interrupt.
 *
 * The policy's pure parts (verdicts, backoff, Retry-After, RetryInfo) live
 * in retry.c; this file adds the waiting, so that OTLP and Zipkin share not
 * just the rules but the loop that applies them.
 */
#include <time.h>

#include "export/otlp.h"

void otelc__stopper_init(otelc_stopper *s)
{
    atomic_init(&s->stop, false);
    pthread_mutex_init(&s->lock, NULL);
    otelc__cond_init_monotonic(&s->wake);
}

void otelc__stopper_stop(otelc_stopper *s)
{
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

bool otelc__stopper_sleep(otelc_stopper *s, uint64_t ms)
{
    struct timespec until = otelc__deadline_in(ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms);
    pthread_mutex_lock(&s->lock);
    while (!atomic_load(&s->stop))
        if (pthread_cond_timedwait(&s->wake, &s->lock, &until) != 0) break; /* timed out */
    pthread_mutex_unlock(&s->lock);
    return !atomic_load(&s->stop);
}

void otelc__stopper_after_fork_child(otelc_stopper *s)
{
    pthread_mutex_init(&s->lock, NULL);
    otelc__cond_init_monotonic(&s->wake);
}

void otelc__stopper_destroy(otelc_stopper *s)
{
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
}

#ifdef OTELC_HAVE_CURL
otelc_attempt otelc__http_attempt(otelc_http *h, const otelc_body *body, uint32_t timeout_ms,
                                  otelc_stopper *s, otelc_http_response *resp)
{
    otelc_attempt a = {OTELC_RETRY_AGAIN, false, 0};
    otelc__http_post(h, body, timeout_ms, &s->stop, resp);
    a.verdict = otelc__retry_http_verdict(resp);
    if (a.verdict == OTELC_RETRY_AGAIN && resp->retry_after[0])
        a.has_delay = otelc__parse_retry_after(resp->retry_after, (int64_t)time(NULL), &a.delay_ms);
    return a;
}
#endif

otelc_attempt otelc__retry_run(const otelc_retry_policy *p, uint32_t timeout_ms,
                               uint32_t max_attempts, uint64_t *rng, otelc_stopper *s,
                               otelc_attempt_fn attempt, void *ctx, _Atomic uint64_t *retries)
{
    uint64_t start = otelc__mono_ms(), deadline = start + timeout_ms;
    uint64_t retry_end = start + p->max_retry_ms;
    if (retry_end > deadline) retry_end = deadline;
    otelc_attempt a = {OTELC_RETRY_AGAIN, false, 0};
    for (uint32_t n = 1;; n++) {
        uint64_t now = otelc__mono_ms();
        if (now >= deadline) return a;
        if (n > 1 && retries) atomic_fetch_add(retries, 1);
        a = attempt(ctx, (uint32_t)(deadline - now));
        if (a.verdict != OTELC_RETRY_AGAIN || n >= max_attempts) return a;
        uint64_t wait = a.has_delay ? a.delay_ms : otelc__retry_backoff_ms(p, n, rng);
        if (otelc__mono_ms() + wait >= retry_end || !otelc__stopper_sleep(s, wait)) return a;
    }
}
