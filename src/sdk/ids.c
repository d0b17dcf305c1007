/*
 * ids.c - trace and span ids.
 *
 * Each thread owns a xoshiro256** generator, so id generation takes no lock
 * and shares no cache line. Generators are seeded from getrandom(); after
 * fork() the child would otherwise repeat the parent's sequence, so every
 * generator remembers the fork generation it was seeded in and reseeds when
 * that number moves.
 *
 * All 128 bits of a trace id are random, which covers the W3C Trace Context
 * Level 2 requirement that the right-most 7 bytes be random (the part
 * samplers read).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

_Atomic uint32_t otelc__fork_generation;

typedef struct id_rng {
    uint64_t s[4];
    uint32_t generation;
    bool seeded;
} id_rng;

static _Thread_local id_rng tls_rng;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void ids_child_after_fork(void)
{
    otelc__ids_after_fork();
}

/*
 * Registered here as well as by the provider's fork handlers so that ids stay
 * distinct across fork() even when no provider was ever created; a double
 * bump is harmless because threads only compare for inequality.
 */
static void atfork_register(void)
{
    pthread_atfork(NULL, NULL, ids_child_after_fork);
}

void otelc__ids_after_fork(void)
{
    atomic_fetch_add_explicit(&otelc__fork_generation, 1, memory_order_relaxed);
}

static bool read_urandom(void *buf, size_t n)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    return got == n;
}

static bool os_random(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return read_urandom(buf, n);
        got += (size_t)r;
    }
    return true;
}

/* splitmix64: spreads a weak seed over the whole state in the fallback path. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(id_rng *r, uint32_t generation)
{
    pthread_once(&atfork_once, atfork_register);
    if (!os_random(r->s, sizeof r->s)) {
        /* No entropy source (seccomp, no /dev): still distinct per thread and process. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)r;
        for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    }
    /* The all-zero state is xoshiro's only fixed point. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 0x9e3779b97f4a7c15ULL;
    r->generation = generation;
    r->seeded = true;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(id_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static id_rng *thread_rng(void)
{
    id_rng *r = &tls_rng;
    uint32_t gen = atomic_load_explicit(&otelc__fork_generation, memory_order_relaxed);
    if (OTELC_UNLIKELY(!r->seeded || r->generation != gen)) rng_seed(r, gen);
    return r;
}

void otelc__trace_id_new(uint8_t out[16])
{
    id_rng *r = thread_rng();
    uint64_t hi, lo;
    do {
        hi = rng_next(r);
        lo = rng_next(r);
    } while (!(hi | lo));
    memcpy(out, &hi, 8);
    memcpy(out + 8, &lo, 8);
}

void otelc__span_id_new(uint8_t out[8])
{
    id_rng *r = thread_rng();
    uint64_t v;
    do v = rng_next(r);
    while (!v);
    memcpy(out, &v, 8);
}
