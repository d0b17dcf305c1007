/*
 * clock.c - Unix time in nanoseconds, cheaply.
 *
 * Every span reads the clock twice, so on x86_64 with an invariant TSC the
 * time is computed from rdtsc instead of clock_gettime(CLOCK_REALTIME):
 *
 *   ns = ns_base + ((tsc - tsc_base) * mult) >> 32
 *
 * The first mult comes from a calibration against CLOCK_MONOTONIC over at
 * least 1 ms. Nobody waits for it: the clock starts in CALIBRATING mode,
 * which answers with clock_gettime(CLOCK_REALTIME) and takes the first
 * sample, and the first reading 1 ms or more later takes the second and
 * switches to the TSC (a program that is done sooner never pays for it;
 * a busy wait here cost every otelc_init 1 ms of CPU). The TSC clock
 * starts at the second sample's CLOCK_REALTIME, so the switch does not
 * step. That rate is only good to a few parts in 10^5, so about once a second the
 * first caller past the refresh point recalibrates: the rate is re-measured
 * over the whole time since start (ever more precise), and the offset to
 * CLOCK_REALTIME is corrected. Small offsets are slewed away over the next
 * second so the clock does not step back; offsets over 1 ms (settimeofday,
 * suspend) are stepped.
 *
 * Parameters are published with a sequence lock: readers (otelc__now_ns,
 * inline in internal.h) never block or write shared memory. Elsewhere, or with
 * OTELC_CLOCK=realtime, clock_gettime(CLOCK_REALTIME) is used directly.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "internal.h"

#define NS_PER_SEC     1000000000ULL
#define CAL_WINDOW_NS  1000000ULL /* first calibration: at least 1 ms */
#define STEP_NS        1000000LL  /* offsets above this are stepped, not slewed */
#define RATE_RESET_PPM 10000      /* a rate change of 1%: restart the baseline */

/* The published parameters and the mode (internal.h reads them inline). */
otelc_clock otelc__clock;

static pthread_once_t clk_once = PTHREAD_ONCE_INIT;

/* Calibration state: written only by the holder of clk_refreshing. */
static _Atomic bool clk_refreshing;
static uint64_t cal_origin_tsc;
static uint64_t cal_origin_mono;
static uint64_t cal_mult;

typedef struct clock_params {
    uint64_t tsc_base;
    uint64_t ns_base;
    uint64_t mult;
} clock_params;

/* A TSC reading with the two system clocks taken at (nearly) the same moment. */
typedef struct clock_sample {
    uint64_t tsc;
    uint64_t mono;
    uint64_t real;
} clock_sample;

static uint64_t timespec_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return timespec_ns(&ts);
}

#if defined(__x86_64__)

static inline uint64_t read_tsc(void)
{
    return __rdtsc();
}

/* CPUID 0x80000007 EDX bit 8: the TSC ticks at a constant rate in all states. */
static bool cpuid_invariant_tsc(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d)) return false;
    return (d >> 8) & 1;
}

static bool has_flag(const char *flags, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = strstr(flags, flag); p; p = strstr(p + 1, flag)) {
        bool start = p == flags || p[-1] == ' ' || p[-1] == '\t';
        bool end = p[n] == ' ' || p[n] == '\n' || p[n] == '\0';
        if (start && end) return true;
    }
    return false;
}

/*
 * The kernel's view: it clears these flags when it finds the TSC unreliable
 * (and hypervisors that do not promise a stable TSC do not set them).
 */
static bool cpuinfo_stable_tsc(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return false;
    char line[8192];
    bool ok = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        ok = has_flag(line, "constant_tsc") && has_flag(line, "nonstop_tsc");
        break;
    }
    fclose(f);
    return ok;
}

static bool tsc_usable(void)
{
    return cpuid_invariant_tsc() && cpuinfo_stable_tsc();
}

#else

static inline uint64_t read_tsc(void)
{
    return 0;
}

static bool tsc_usable(void)
{
    return false;
}

#endif

/* The tightest of a few bracketed readings, stamped at the bracket's middle. */
static clock_sample take_sample(void)
{
    clock_sample best = {0, 0, 0};
    uint64_t best_width = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        struct timespec mono, real;
        uint64_t t0 = read_tsc();
        clock_gettime(CLOCK_MONOTONIC, &mono);
        clock_gettime(CLOCK_REALTIME, &real);
        uint64_t t1 = read_tsc();
        if (t1 - t0 < best_width) {
            best_width = t1 - t0;
            best.tsc = t0 + (t1 - t0) / 2;
            best.mono = timespec_ns(&mono);
            best.real = timespec_ns(&real);
        }
    }
    return best;
}

static uint64_t rate_mult(uint64_t ns, uint64_t ticks)
{
    return ticks ? (uint64_t)(((unsigned __int128)ns << 32) / ticks) : 0;
}

static uint64_t ns_at(const clock_params *p, uint64_t tsc)
{
    int64_t d = (int64_t)(tsc - p->tsc_base);
    if (d >= 0) return p->ns_base + (uint64_t)(((unsigned __int128)d * p->mult) >> 32);
    return p->ns_base - (uint64_t)(((unsigned __int128)(uint64_t)-d * p->mult) >> 32);
}

static void params_read(clock_params *p)
{
    uint32_t s1, s2;
    do {
        s1 = atomic_load_explicit(&otelc__clock.seq, memory_order_acquire);
        p->tsc_base = atomic_load_explicit(&otelc__clock.tsc_base, memory_order_relaxed);
        p->ns_base = atomic_load_explicit(&otelc__clock.ns_base, memory_order_relaxed);
        p->mult = atomic_load_explicit(&otelc__clock.mult, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        s2 = atomic_load_explicit(&otelc__clock.seq, memory_order_relaxed);
    } while ((s1 & 1) || s1 != s2);
}

/* Only one writer at a time: the calibrating thread or the refresh-flag holder. */
static void params_publish(const clock_params *p)
{
    uint32_t s = atomic_load_explicit(&otelc__clock.seq, memory_order_relaxed);
    atomic_store_explicit(&otelc__clock.seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&otelc__clock.tsc_base, p->tsc_base, memory_order_relaxed);
    atomic_store_explicit(&otelc__clock.ns_base, p->ns_base, memory_order_relaxed);
    atomic_store_explicit(&otelc__clock.mult, p->mult, memory_order_relaxed);
    atomic_store_explicit(&otelc__clock.seq, s + 2, memory_order_release);
}

/* Re-measure the rate over the long baseline; restart it when the rate jumped. */
static void update_rate(const clock_sample *now)
{
    uint64_t m = rate_mult(now->mono - cal_origin_mono, now->tsc - cal_origin_tsc);
    uint64_t diff = m > cal_mult ? m - cal_mult : cal_mult - m;
    if (m == 0 || diff > cal_mult / 1000000 * RATE_RESET_PPM) {
        cal_origin_tsc = now->tsc;
        cal_origin_mono = now->mono;
        return;
    }
    cal_mult = m;
}

static void clock_refresh(void)
{
    if (atomic_exchange_explicit(&clk_refreshing, true, memory_order_acquire)) return;

    clock_sample now = take_sample();
    update_rate(&now);

    clock_params cur, next;
    params_read(&cur);
    uint64_t predicted = ns_at(&cur, now.tsc);
    int64_t err = (int64_t)(now.real - predicted);
    uint64_t window = atomic_load_explicit(&otelc__clock.refresh_ticks, memory_order_relaxed);

    next.tsc_base = now.tsc;
    if (err > STEP_NS || err < -STEP_NS) {
        next.ns_base = now.real;
        next.mult = cal_mult;
    } else {
        /* Continue from the predicted time, running fast or slow for one window. */
        int64_t adjust = (int64_t)((__int128)err * ((__int128)1 << 32) / (__int128)window);
        next.ns_base = predicted;
        next.mult = (uint64_t)((int64_t)cal_mult + adjust);
    }
    params_publish(&next);
    atomic_store_explicit(&clk_refreshing, false, memory_order_release);
}

static bool realtime_forced(void)
{
    const char *v = otelc__env("OTELC_CLOCK");
    return v && strcasecmp(v, "realtime") == 0;
}

/* The first sample of the calibration, taken at set-up (CALIBRATING mode). */
static clock_sample cal_first;

/*
 * The second sample, once the window has passed: publish the parameters
 * and switch to TSC mode, or to REALTIME when the rate is implausible.
 * Whoever holds clk_refreshing does it; the others keep reading
 * CLOCK_REALTIME meanwhile.
 */
static void calibrate_finish(void)
{
    if (atomic_exchange_explicit(&clk_refreshing, true, memory_order_acquire)) return;
    clock_sample b = take_sample();
    if (b.mono - cal_first.mono < CAL_WINDOW_NS) {
        atomic_store_explicit(&clk_refreshing, false, memory_order_release);
        return;
    }
    uint64_t mult = rate_mult(b.mono - cal_first.mono, b.tsc - cal_first.tsc);
    /* Outside 100 MHz .. 20 GHz the TSC is not what we think it is. */
    if (mult < (1ULL << 32) / 20 || mult > (10ULL << 32)) {
        atomic_store_explicit(&otelc__clock.mode, OTELC_CLOCK_REALTIME, memory_order_release);
        atomic_store_explicit(&clk_refreshing, false, memory_order_release);
        return;
    }
    cal_origin_tsc = cal_first.tsc;
    cal_origin_mono = cal_first.mono;
    cal_mult = mult;
    clock_params p = {b.tsc, b.real, mult};
    params_publish(&p);
    /* Recalibrate about once a second. */
    atomic_store_explicit(&otelc__clock.refresh_ticks,
                          (uint64_t)(((unsigned __int128)NS_PER_SEC << 32) / mult),
                          memory_order_release);
    atomic_store_explicit(&otelc__clock.mode, OTELC_CLOCK_TSC, memory_order_release);
    atomic_store_explicit(&clk_refreshing, false, memory_order_release);
}

/* CALIBRATING mode: the system's time, and the calibration finished once its window has passed. */
static uint64_t calibrating_now(void)
{
    uint64_t now = realtime_ns();
    if ((int64_t)(now - cal_first.real) >= (int64_t)CAL_WINDOW_NS) {
        calibrate_finish();
        if (atomic_load_explicit(&otelc__clock.mode, memory_order_acquire) == OTELC_CLOCK_TSC)
            return otelc__now_ns_slow();
    }
    return now;
}

/*
 * fork() may have caught another thread inside clock_refresh() or
 * calibrate_finish(): the child would then see the refresh flag stuck, or
 * an odd sequence number that makes every reader spin. The child is
 * single-threaded here, so rebuilding the parameters directly is safe; a
 * calibration still in progress simply goes on in the child.
 */
static void clock_after_fork_child(void)
{
    int mode = atomic_load_explicit(&otelc__clock.mode, memory_order_relaxed);
    if (mode != OTELC_CLOCK_TSC && mode != OTELC_CLOCK_CALIBRATING) return;
    uint32_t s = atomic_load_explicit(&otelc__clock.seq, memory_order_relaxed);
    atomic_store_explicit(&otelc__clock.seq, (s | 1) + 1, memory_order_relaxed);
    atomic_store_explicit(&clk_refreshing, false, memory_order_relaxed);
    if (mode != OTELC_CLOCK_TSC) return;
    clock_sample now = take_sample();
    clock_params p = {now.tsc, now.real, cal_mult};
    params_publish(&p);
}

static void clock_setup(void)
{
    bool tsc = !realtime_forced() && tsc_usable();
    if (tsc) {
        cal_first = take_sample();
        pthread_atfork(NULL, NULL, clock_after_fork_child);
    }
    atomic_store_explicit(&otelc__clock.mode, tsc ? OTELC_CLOCK_CALIBRATING : OTELC_CLOCK_REALTIME,
                          memory_order_release);
}

void otelc__clock_init(void)
{
    if (atomic_load_explicit(&otelc__clock.mode, memory_order_acquire) == OTELC_CLOCK_TSC) {
        clock_refresh();
        return;
    }
    pthread_once(&clk_once, clock_setup);
}

static uint64_t tsc_now(void)
{
    clock_params p;
    params_read(&p);
    uint64_t tsc = read_tsc();
    if (OTELC_UNLIKELY(
            (int64_t)(tsc - p.tsc_base) >
            (int64_t)atomic_load_explicit(&otelc__clock.refresh_ticks, memory_order_relaxed))) {
        clock_refresh();
        params_read(&p);
    }
    return ns_at(&p, tsc);
}

/* What the inline otelc__now_ns() leaves: refresh due, a reading before the base, other modes. */
uint64_t otelc__now_ns_slow(void)
{
    int mode = atomic_load_explicit(&otelc__clock.mode, memory_order_acquire);
    if (OTELC_LIKELY(mode == OTELC_CLOCK_TSC)) return tsc_now();
    if (mode == OTELC_CLOCK_REALTIME) return realtime_ns();
    if (mode == OTELC_CLOCK_CALIBRATING) return calibrating_now();
    pthread_once(&clk_once, clock_setup);
    return otelc__now_ns_slow();
}
