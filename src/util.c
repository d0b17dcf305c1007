/*
 * util.c - small helpers shared by several modules: hex codecs, UTF-8,
 * numbers in the C locale, waiting with deadlines, and error strings.
 */
#define _GNU_SOURCE /* strtod_l */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Present only when the host program was built with LeakSanitizer. */
extern void __lsan_ignore_object(const void *p) __attribute__((weak));

void otelc__abandon(const void *p)
{
    if (p && __lsan_ignore_object) __lsan_ignore_object(p);
}

size_t otelc__utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len = c < 0xc2 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf5 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && s[1] < 0xa0) return 0; /* overlong */
    if (c == 0xed && s[1] > 0x9f) return 0; /* surrogate */
    if (c == 0xf0 && s[1] < 0x90) return 0; /* overlong */
    if (c == 0xf4 && s[1] > 0x8f) return 0; /* above U+10FFFF */
    return len;
}

/* True when the eight bytes at p are all ASCII. */
static inline bool ascii8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return !(w & 0x8080808080808080ull);
}

bool otelc__utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    /* Most text is ASCII: eight bytes at a time, the last eight overlapping the others. */
    if (n >= 8) {
        while (i + 8 <= n && ascii8(u + i)) i += 8;
        if (i + 8 > n && ascii8(u + n - 8)) return true;
    }
    for (size_t len; i < n; i += len) {
        if (u[i] < 0x80) {
            len = 1;
            continue;
        }
        len = otelc__utf8_seq_len(u + i, n - i);
        if (len == 0) return false;
    }
    return true;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

double otelc__strtod(const char *s, char **end)
{
    pthread_once(&c_locale_once, c_locale_init);
    return c_locale ? strtod_l(s, end, c_locale) : strtod(s, end);
}

uint64_t otelc__fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++) h = (h ^ u[i]) * 0x100000001b3ULL;
    return h;
}

static const char hex_digits[] = "0123456789abcdef";

void otelc__hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0xf];
    }
}

/*
 * A digit's value, 0x10 for anything but a lowercase hex digit (W3C ids are
 * lowercase only): every incoming traceparent decodes 26 bytes, so a table
 * and one check at the end rather than two range tests per character.
 */
#define X 0x10
static const uint8_t hex_value[256] = {
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, 10, 11, 12, 13, 14, 15, X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X, X, X, X,  X,  X,  X,  X,  X,  X, X, X, X, X, X, X, X,
};
#undef X

/*
 * Eight lowercase hex digits (one little-endian word) into four bytes, eight
 * at a time where the table takes one: a 32-digit trace id is four words.
 * For bytes below 0x80, adding 0x80 - k sets a byte's top bit exactly when
 * it is at least k, without carrying into the next byte.
 */
static bool hex_word(const char *in, uint8_t out[4])
{
    const uint64_t ones = 0x0101010101010101u, top = 0x8080808080808080u;
    uint64_t x, v;
    memcpy(&x, in, 8);
    uint64_t at_least_0 = x + (0x80 - '0') * ones, above_9 = x + (0x80 - '9' - 1) * ones;
    uint64_t at_least_a = x + (0x80 - 'a') * ones, above_f = x + (0x80 - 'f' - 1) * ones;
    uint64_t digit = (at_least_0 & ~above_9) | (at_least_a & ~above_f);
    if ((x & top) != 0 || (digit & top) != top) return false;
    v = (x & 0x0f * ones) + ((x & 0x40 * ones) >> 6) * 9; /* 'a' is 0x61: 1 + 9 */
    v = ((v << 4) | (v >> 8)) & 0x00ff00ff00ff00ffu;      /* digit pairs into bytes */
    v = (v | (v >> 8)) & 0x0000ffff0000ffffu;
    v = (v | (v >> 16)) & 0xffffffffu;
    memcpy(out, &v, 4);
    return true;
}

bool otelc__hex_decode(const char *in, size_t n, uint8_t *out)
{
    unsigned bad = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; n >= 4; n -= 4, in += 8, out += 4)
        if (!hex_word(in, out)) return false;
#endif
    for (size_t i = 0; i < n; i++) {
        unsigned hi = hex_value[(unsigned char)in[2 * i]];
        unsigned lo = hex_value[(unsigned char)in[2 * i + 1]];
        bad |= hi | lo;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return bad < 0x10;
}

size_t otelc__strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t k = n < size ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

/* A word at a time: ids are 8 and 16 bytes, and every span start and extract checks some. */
bool otelc__is_zero(const uint8_t *p, size_t n)
{
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= p[i];
    return acc == 0;
}

const char *otelc__span_kind_name(otelc_span_kind k)
{
    switch (k) {
    case OTELC_SPAN_SERVER:
        return "SERVER";
    case OTELC_SPAN_CLIENT:
        return "CLIENT";
    case OTELC_SPAN_PRODUCER:
        return "PRODUCER";
    case OTELC_SPAN_CONSUMER:
        return "CONSUMER";
    default:
        return "INTERNAL";
    }
}

const char *otelc_strerror(int err)
{
    switch (err) {
    case OTELC_OK:
        return "success";
    case OTELC_ERR_INVALID_ARG:
        return "invalid argument";
    case OTELC_ERR_NOMEM:
        return "out of memory";
    case OTELC_ERR_CONFIG:
        return "invalid configuration";
    case OTELC_ERR_STATE:
        return "invalid state for this call";
    case OTELC_ERR_TIMEOUT:
        return "timed out";
    case OTELC_ERR_PARSE:
        return "malformed input";
    case OTELC_ERR_IO:
        return "input/output error";
    case OTELC_ERR_DISABLED:
        return "the SDK is disabled";
    case OTELC_ERR_EXPORT:
        return "export failed";
    case OTELC_ERR_UNSUPPORTED:
        return "not supported in this build";
    default:
        return "unknown error";
    }
}

const char *otelc_version(void)
{
    return OTELC_VERSION;
}

/* Timed waits use the monotonic clock so that a wall-clock step cannot stall them. */
void otelc__cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

struct timespec otelc__deadline_in(uint32_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

bool otelc__write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

bool otelc__private_dir(const char *dir, bool create, unsigned forbidden_mode)
{
    struct stat sb;
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) return false;
    /* In a shared /tmp another user could have planted the directory or a symlink. */
    return lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == geteuid() &&
           (sb.st_mode & forbidden_mode) == 0;
}
