/*
 * fork_child.h - for the tests that fork: run a function in a child and get
 * its exit status, with a deadline, so that a child stuck on a lock fails
 * the test instead of hanging it. Include once, in the test's main file:
 * it also lets fork children start threads (a batch worker) under
 * ThreadSanitizer, which refuses that by default after a threaded fork.
 */
#ifndef OTELC_TEST_FORK_CHILD_H
#define OTELC_TEST_FORK_CHILD_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

/*
 * Fork; the child runs child() and exits with what it returns, or is killed
 * after 20 s. Returns that exit status, or -1 when the child did not exit
 * by itself (or fork failed).
 */
static inline int run_in_fork_child(int (*child)(void))
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        alarm(20);
        _exit(child());
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/*
 * A thread held still inside code under test (while it holds that code's
 * lock, say) so that the test can fork at that very moment. The code's
 * callback calls parked_here(); the test brackets the fork with
 * park_thread() and release_thread().
 */
typedef struct parked_thread {
    sem_t entered, released;
    atomic_bool armed;
    pthread_t thread;
} parked_thread;

/* From inside the code: the first call after park_thread() waits for release_thread(). */
static inline void parked_here(parked_thread *p)
{
    if (!atomic_exchange(&p->armed, false)) return;
    sem_post(&p->entered);
    while (sem_wait(&p->released) != 0) continue;
}

/* Start run(arg) on a new thread and return once it is parked; false when it could not start. */
static inline bool park_thread(parked_thread *p, void *(*run)(void *), void *arg)
{
    sem_init(&p->entered, 0, 0);
    sem_init(&p->released, 0, 0);
    atomic_store(&p->armed, true);
    if (pthread_create(&p->thread, NULL, run, arg) != 0) return false;
    while (sem_wait(&p->entered) != 0) continue;
    return true;
}

/* Let the parked thread go on, and wait for it to finish. */
static inline void release_thread(parked_thread *p)
{
    sem_post(&p->released);
    pthread_join(p->thread, NULL);
    sem_destroy(&p->entered);
    sem_destroy(&p->released);
}

#endif
