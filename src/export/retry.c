/*
 * retry.c - the one retry policy of the network exporters (OTLP/HTTP,
 * OTLP/gRPC, Zipkin): which outcomes are transient, how long to wait before
 * the next attempt, and the parsers for the server's own delay hints
 * (Retry-After, gRPC RetryInfo).
 *
 * Everything here is pure apart from otelc__mono_ms(), so the parsers are
 * fuzzed directly (tests/fuzz/fuzz_grpc_status.c). They never allocate and
 * their work is bounded by the input length.
 */
#define _GNU_SOURCE /* timegm */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "export/otlp.h"
#include "export/protobuf.h"

/* A wait longer than this is nonsense from the server; clamp it. */
#define MAX_DELAY_MS (24ULL * 3600 * 1000)

uint64_t otelc__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- Verdicts ------------------------------------------------------------------ */

/*
 * OTLP/HTTP: 429, 502, 503 and 504 are the throttling and "try later"
 * answers; every other 4xx/5xx says the request itself is at fault and
 * retrying would only repeat it. A transfer that failed (refused, reset,
 * timed out) never reached a verdict from the server, so it may be retried.
 */
/*
 * libcurl failures that no retry can cure: a bad URL or scheme, and TLS
 * set-up the server will reject every time (unverifiable peer, unreadable
 * CA or client certificate). Numbers, not CURLE_ names, keep this file free
 * of libcurl; http.c checks that they agree. Everything else (refused,
 * reset, timed out) may well work a moment later.
 */
otelc_retry_verdict otelc__retry_transport_verdict(int curl_code)
{
    switch (curl_code) {
    case 1:  /* CURLE_UNSUPPORTED_PROTOCOL */
    case 3:  /* CURLE_URL_MALFORMAT */
    case 58: /* CURLE_SSL_CERTPROBLEM */
    case 60: /* CURLE_PEER_FAILED_VERIFICATION */
    case 77: /* CURLE_SSL_CACERT_BADFILE */
    case 83: /* CURLE_SSL_ISSUER_ERROR */
        return OTELC_RETRY_FAIL;
    default:
        return OTELC_RETRY_AGAIN;
    }
}

otelc_retry_verdict otelc__retry_http_verdict(const otelc_http_response *r)
{
    if (r->cancelled) return OTELC_RETRY_FAIL;
    if (r->transport_error) return otelc__retry_transport_verdict(r->transport_error);
    if (r->status >= 200 && r->status < 300) return OTELC_RETRY_DONE;
    switch (r->status) {
    case 429:
    case 502:
    case 503:
    case 504:
        return OTELC_RETRY_AGAIN;
    default:
        return OTELC_RETRY_FAIL;
    }
}

/* The gRPC codes OTLP lists as retryable; RESOURCE_EXHAUSTED only when the server says when. */
otelc_retry_verdict otelc__retry_grpc_verdict(int grpc_status, bool has_retry_info)
{
    switch (grpc_status) {
    case 0:
        return OTELC_RETRY_DONE;
    case 1:  /* CANCELLED */
    case 4:  /* DEADLINE_EXCEEDED */
    case 10: /* ABORTED */
    case 11: /* OUT_OF_RANGE */
    case 14: /* UNAVAILABLE */
    case 15: /* DATA_LOSS */
        return OTELC_RETRY_AGAIN;
    case 8: /* RESOURCE_EXHAUSTED */
        return has_retry_info ? OTELC_RETRY_AGAIN : OTELC_RETRY_FAIL;
    default:
        return OTELC_RETRY_FAIL;
    }
}

/* ---- Backoff ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * Jitter keeps many processes that lost the same collector from coming
 * back in lockstep; keeping at least half the delay keeps the backoff real.
 */
uint64_t otelc__retry_backoff_ms(const otelc_retry_policy *p, uint32_t n, uint64_t *rng)
{
    uint64_t d = p->initial_ms ? p->initial_ms : 1;
    for (uint32_t i = 1; i < n && d < p->max_backoff_ms; i++) d *= 2;
    if (d > p->max_backoff_ms) d = p->max_backoff_ms;
    uint64_t half = d / 2;
    return half + (d - half ? splitmix64(rng) % (d - half + 1) : 0);
}

/* ---- Retry-After ------------------------------------------------------------------- */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* n decimal digits exactly; -1 otherwise. */
static int digits(const char **sp, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*sp)[i])) return -1;
        v = v * 10 + ((*sp)[i] - '0');
    }
    *sp += n;
    return v;
}

static bool lit(const char **sp, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*sp, word, n) != 0) return false;
    *sp += n;
    return true;
}

static int month_of(const char **sp)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int m = 0; m < 12; m++) {
        if (strncmp(*sp, months + 3 * m, 3) == 0) {
            *sp += 3;
            return m;
        }
    }
    return -1;
}

/* Skip a day name: "Sun" or "Sunday" (we do not check it against the date). */
static bool day_name(const char **sp)
{
    const char *s = *sp;
    while (isalpha((unsigned char)*s)) s++;
    if (s - *sp < 3 || s - *sp > 9) return false;
    *sp = s;
    return true;
}

static bool clock_of(const char **sp, struct tm *tm)
{
    tm->tm_hour = digits(sp, 2);
    if (!lit(sp, ":")) return false;
    tm->tm_min = digits(sp, 2);
    if (!lit(sp, ":")) return false;
    tm->tm_sec = digits(sp, 2);
    return tm->tm_hour >= 0 && tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 &&
           tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" and "Sunday, 06-Nov-94 08:49:37 GMT". */
static bool parse_rfc_date(const char *s, struct tm *tm)
{
    if (!day_name(&s) || !lit(&s, ", ")) return false;
    tm->tm_mday = digits(&s, 2);
    bool dashed = *s == '-';
    if (!lit(&s, dashed ? "-" : " ") || (tm->tm_mon = month_of(&s)) < 0) return false;
    if (!lit(&s, dashed ? "-" : " ")) return false;
    if (dashed) {
        int yy = digits(&s, 2);
        if (yy < 0) return false;
        tm->tm_year = yy < 70 ? yy + 100 : yy; /* RFC 9110: two-digit years near now */
    } else {
        int y = digits(&s, 4);
        if (y < 0) return false;
        tm->tm_year = y - 1900;
    }
    if (!lit(&s, " ") || !clock_of(&s, tm) || !lit(&s, " GMT")) return false;
    return *skip_ws(s) == '\0' && tm->tm_mday >= 1 && tm->tm_mday <= 31;
}

/* asctime: "Sun Nov  6 08:49:37 1994". */
static bool parse_asctime(const char *s, struct tm *tm)
{
    if (!day_name(&s) || !lit(&s, " ") || (tm->tm_mon = month_of(&s)) < 0) return false;
    if (!lit(&s, " ")) return false;
    if (*s == ' ') s++;
    const char *d = s;
    bool two = isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]);
    tm->tm_mday = digits(&s, two ? 2 : 1);
    if (s == d || !lit(&s, " ") || !clock_of(&s, tm) || !lit(&s, " ")) return false;
    int y = digits(&s, 4);
    if (y < 0) return false;
    tm->tm_year = y - 1900;
    return *skip_ws(s) == '\0' && tm->tm_mday >= 1 && tm->tm_mday <= 31;
}

static uint64_t clamp_ms(uint64_t ms)
{
    return ms > MAX_DELAY_MS ? MAX_DELAY_MS : ms;
}

bool otelc__parse_retry_after(const char *v, int64_t now, uint64_t *delay_ms)
{
    if (!v) return false;
    v = skip_ws(v);
    if (isdigit((unsigned char)*v)) {
        uint64_t secs = 0;
        for (; isdigit((unsigned char)*v); v++) {
            if (secs < MAX_DELAY_MS) secs = secs * 10 + (uint64_t)(*v - '0');
        }
        if (*skip_ws(v) != '\0') return false;
        *delay_ms = clamp_ms(secs * 1000);
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!parse_rfc_date(v, &tm)) {
        memset(&tm, 0, sizeof tm);
        if (!parse_asctime(v, &tm)) return false;
    }
    int64_t when = (int64_t)timegm(&tm);
    *delay_ms = when <= now ? 0 : clamp_ms((uint64_t)(when - now) * 1000);
    return true;
}

/* ---- grpc-status-details-bin: google.rpc.Status -> google.rpc.RetryInfo ---------------- */

#define DETAILS_MAX 4096 /* decoded bytes; a Status with RetryInfo is a few dozen */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62; /* both alphabets: gRPC peers differ */
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Base64 with or without padding (gRPC senders may omit it). Returns bytes or -1. */
static long b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    while (n > 0 && in[n - 1] == '=') n--;
    uint32_t acc = 0;
    int bits = 0;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (len == cap) return -1;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    return bits >= 6 ? -1 : (long)len; /* one leftover character encodes no byte */
}

/* google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2; } */
static bool parse_duration(otelc_pb r, uint64_t *ms)
{
    int64_t secs = 0, nanos = 0;
    otelc_pb_field f;
    int rc;
    while ((rc = otelc__pb_next(&r, &f)) > 0) {
        if (f.num == 1 && f.wt == OTELC_PB_VARINT) secs = (int64_t)f.value;
        if (f.num == 2 && f.wt == OTELC_PB_VARINT) nanos = (int32_t)(uint32_t)f.value;
    }
    if (rc < 0) return false;
    if (secs < 0) {
        *ms = 0;
        return true;
    }
    uint64_t s = (uint64_t)secs > MAX_DELAY_MS / 1000 ? MAX_DELAY_MS / 1000 : (uint64_t)secs;
    int64_t total = (int64_t)(s * 1000) + nanos / 1000000;
    *ms = clamp_ms(total < 0 ? 0 : (uint64_t)total);
    return true;
}

/* google.rpc.RetryInfo { Duration retry_delay = 1; } inside a google.protobuf.Any. */
static bool parse_any_retry_info(otelc_pb r, uint64_t *ms)
{
    static const char suffix[] = "/google.rpc.RetryInfo";
    const size_t sn = sizeof suffix - 1;
    bool is_retry_info = false;
    otelc_pb value = {NULL, NULL};
    otelc_pb_field f;
    int rc;
    while ((rc = otelc__pb_next(&r, &f)) > 0) {
        if (f.num == 1 && f.wt == OTELC_PB_LEN) {
            size_t n = (size_t)(f.body.end - f.body.p);
            is_retry_info = n >= sn && memcmp(f.body.end - sn, suffix, sn) == 0;
        }
        if (f.num == 2 && f.wt == OTELC_PB_LEN) value = f.body;
    }
    if (rc < 0 || !is_retry_info) return false;
    *ms = 0; /* a RetryInfo without retry_delay means "retry, no particular wait" */
    while ((rc = otelc__pb_next(&value, &f)) > 0) {
        if (f.num == 1 && f.wt == OTELC_PB_LEN && !parse_duration(f.body, ms)) return false;
    }
    return rc == 0;
}

bool otelc__grpc_retry_info(const char *b64, size_t n, uint64_t *delay_ms)
{
    uint8_t raw[DETAILS_MAX];
    long len = b64_decode(b64, n, raw, sizeof raw);
    if (len < 0) return false;
    otelc_pb r = otelc__pb_of(raw, (size_t)len);
    otelc_pb_field f;
    while (otelc__pb_next(&r, &f) > 0) {
        /* google.rpc.Status { code = 1; message = 2; repeated Any details = 3; } */
        if (f.num == 3 && f.wt == OTELC_PB_LEN && parse_any_retry_info(f.body, delay_ms))
            return true;
    }
    return false;
}
