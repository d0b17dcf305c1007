/*
 * ids.c - trace and span ids.
 *
 * Each thread owns a SplitMix64 generator (Steele, Lea and Flood, "Fast
 * splittable pseudorandom number generators", 2014), so id generation
 * takes no lock and shares no cache line: a Weyl sequence (a counter
 * stepped by an odd "gamma") put through a 64-bit mixing function. The
 * mixer is a bijection and the counter visits all 2^64 values before it
 * repeats, so one thread never draws the same 64 bits twice in 2^64 draws.
 * Each thread's starting point and gamma are random (getrandom()): two
 * threads' draws meet no more often than random numbers would, and the two
 * halves of a trace id (consecutive draws) can only both meet where the
 * gammas are equal. Its state is two words, so a span's three draws stay
 * in registers (xoshiro256**'s four words did not: 90 instructions a span
 * against about 40).
 *
 * A draw is in two steps (internal.h): the Weyl step, inline, gives the
 * raw value, and mixing it gives the id. A span that does not record keeps
 * its ids raw and mixes them only when its context is read
 * (otelc_span_get_context), which most such spans never are: they then
 * cost three additions, not three mixes, and every reader of an id sees
 * the same value as if it had been mixed at the start.
 *
 * Generators are seeded from getrandom(); after fork() the child would
 * otherwise repeat the parent's sequence, so every generator remembers the
 * fork generation it was seeded in and reseeds when that number moves.
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

OTELC_HOT_TLS otelc_id_rng otelc__id_rng;

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

/*
 * An odd gamma with enough 01 and 10 bit transitions: a sparse one makes
 * consecutive counters differ in few bits, which the mixer spreads less
 * well (the correction of Java's SplittableRandom.mixGamma).
 */
static uint64_t odd_gamma(uint64_t g)
{
    g |= 1;
    return __builtin_popcountll(g ^ (g >> 1)) < 24 ? g ^ 0xaaaaaaaaaaaaaaaaULL : g;
}

void otelc__id_rng_seed(void)
{
    otelc_id_rng *r = &otelc__id_rng;
    uint32_t generation = atomic_load_explicit(&otelc__fork_generation, memory_order_relaxed);
    pthread_once(&atfork_once, atfork_register);
    uint64_t seed[2];
    if (!os_random(seed, sizeof seed)) {
        /* No entropy source (seccomp, no /dev): still distinct per thread and process. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)r;
        seed[0] = otelc__id_mix(x += 0x9e3779b97f4a7c15ULL);
        seed[1] = otelc__id_mix(x += 0x9e3779b97f4a7c15ULL);
    }
    r->weyl = seed[0];
    r->gamma = odd_gamma(seed[1]);
    r->seeded_in = generation + 1;
}

void otelc__ids_new(uint8_t *trace_id, uint8_t span_id[8])
{
    otelc__id_rng_ready();
    if (trace_id) {
        uint64_t hi = otelc__id_mix(otelc__id_draw());
        uint64_t lo = otelc__id_mix(otelc__id_draw());
        memcpy(trace_id, &hi, 8);
        memcpy(trace_id + 8, &lo, 8);
    }
    uint64_t v = otelc__id_mix(otelc__id_draw());
    memcpy(span_id, &v, 8);
}

void otelc__trace_id_new(uint8_t out[16])
{
    uint8_t unused[8];
    otelc__ids_new(out, unused);
}

void otelc__span_id_new(uint8_t out[8])
{
    otelc__ids_new(NULL, out);
}
