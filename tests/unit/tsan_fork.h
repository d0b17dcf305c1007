/*
 * tsan_fork.h - for tests whose fork children start threads (a batch
 * worker), which ThreadSanitizer refuses by default after a fork of a
 * threaded process. Include once, in the test's main file.
 */
#ifndef OTELC_TEST_TSAN_FORK_H
#define OTELC_TEST_TSAN_FORK_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OTELC_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(OTELC_TEST_TSAN)
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "die_after_fork=0";
}
#endif

#endif
