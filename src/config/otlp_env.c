/*
 * otlp_env.c - the OTEL_EXPORTER_OTLP_* variables (part of the config
 * module: no other file reads OTEL_*).
 *
 * Every setting has a generic variable and a traces-specific one
 * (OTEL_EXPORTER_OTLP_TRACES_*); the specific one wins. The only asymmetry
 * is the endpoint: the generic one is a base URL to which "/v1/traces" is
 * appended for OTLP/HTTP, the specific one is used exactly as given.
 *
 * Header values may carry credentials, so they never reach a log message:
 * a malformed OTEL_EXPORTER_OTLP_HEADERS is reported by name only.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/cli_env.h"
#include "export/otlp.h"

/* ---- "k=v,k2=v2" headers ------------------------------------------------------ */

/* RFC 9110 token characters: what a header name may consist of. */
static bool is_token(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr("!#$%&'*+-.^_`|~", c)) return false;
    }
    return true;
}

static int hexval(int c)
{
    if (isdigit(c)) return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Percent-decode s[0..n) into out (cap >= n + 1). A '%' not followed by two
 * hex digits stays as it is. Control characters would let a value inject
 * another header line, so they make the value invalid.
 */
static bool percent_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        char c = s[i];
        if (c == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if ((unsigned char)c < 0x20 || c == 0x7f) return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* One "key=value" entry; false when malformed. */
static bool parse_pair(const char *s, size_t n,
                       void (*add)(void *ctx, const char *key, const char *value), void *ctx)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) return false;
    const char *k = s, *v = eq + 1;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    trim(&k, &kn);
    trim(&v, &vn);
    if (!is_token(k, kn)) return false;
    char *buf = malloc(kn + vn + 2);
    if (!buf) return false;
    memcpy(buf, k, kn);
    buf[kn] = '\0';
    bool ok = percent_decode(v, vn, buf + kn + 1);
    if (ok) add(ctx, buf, buf + kn + 1);
    free(buf);
    return ok;
}

bool otelc__otlp_parse_headers(const char *text,
                               void (*add)(void *ctx, const char *key, const char *value),
                               void *ctx)
{
    bool ok = true;
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t sn = n;
        trim(&s, &sn);
        if (sn && !parse_pair(s, sn, add, ctx)) ok = false;
        p += n;
        if (*p == ',') p++;
    }
    return ok;
}

/* ---- Reading the variables ------------------------------------------------------------ */

/* The traces-specific variable, else the generic one; *which names the one used. */
static const char *pick(const char *suffix, char *which, size_t cap)
{
    snprintf(which, cap, "OTEL_EXPORTER_OTLP_TRACES_%s", suffix);
    const char *v = otelc__env(which);
    if (v) return v;
    snprintf(which, cap, "OTEL_EXPORTER_OTLP_%s", suffix);
    return otelc__env(which);
}

/* Warn once per variable name (header values must never appear in a log). */
static void warn_once(const char *name, const char *what)
{
    if (otelc__first_report(name, ""))
        otelc__log(OTELC_LOG_WARN, "%s is invalid (%s); ignored", name, what);
}

static void read_protocol(otelc_otlp_exporter_options *o)
{
    char name[64];
    const char *v = pick("PROTOCOL", name, sizeof name);
    if (!v) return;
    if (strcasecmp(v, "http/protobuf") == 0)
        o->protocol = OTELC_OTLP_HTTP_PROTOBUF;
    else if (strcasecmp(v, "http/json") == 0)
        o->protocol = OTELC_OTLP_HTTP_JSON;
    else if (strcasecmp(v, "grpc") == 0)
        o->protocol = OTELC_OTLP_GRPC;
    else
        warn_once(name, "expected grpc, http/protobuf or http/json");
}

/* "/v1/traces" after the generic base URL, without doubling a trailing slash. */
static void read_endpoint(otelc_otlp_exporter_options *o, otelc_otlp_env_storage *st)
{
    const char *v = otelc__env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    if (v) {
        o->endpoint = v;
        return;
    }
    v = otelc__env("OTEL_EXPORTER_OTLP_ENDPOINT");
    if (!v) return; /* the exporter applies the per-protocol default */
    if (o->protocol == OTELC_OTLP_GRPC) {
        o->endpoint = v;
        return;
    }
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == '/') n--;
    int w = snprintf(st->endpoint, sizeof st->endpoint, "%.*s/v1/traces", (int)n, v);
    if (w < 0 || (size_t)w >= sizeof st->endpoint)
        warn_once("OTEL_EXPORTER_OTLP_ENDPOINT", "too long");
    else
        o->endpoint = st->endpoint;
}

static void read_compression(otelc_otlp_exporter_options *o)
{
    char name[64];
    const char *v = pick("COMPRESSION", name, sizeof name);
    if (!v) return;
    if (strcasecmp(v, "gzip") == 0)
        o->gzip = true;
    else if (strcasecmp(v, "none") == 0)
        o->gzip = false;
    else
        warn_once(name, "expected gzip or none");
}

static void ignore_pair(void *ctx, const char *key, const char *value)
{
    (void)ctx, (void)key, (void)value;
}

/* Malformed entries are skipped by the transport; say which variable held them. */
static void read_headers(otelc_otlp_exporter_options *o)
{
    char name[64];
    const char *v = pick("HEADERS", name, sizeof name);
    if (!v) return;
    if (!otelc__otlp_parse_headers(v, ignore_pair, NULL))
        warn_once(name, "malformed entries skipped; expected key=value pairs separated by commas");
    o->headers = v;
}

void otelc__otlp_options_from_env(otelc_otlp_exporter_options *o, otelc_otlp_env_storage *st)
{
    char name[64];
    read_protocol(o);
    read_endpoint(o, st);
    read_headers(o);
    read_compression(o);
    if (pick("TIMEOUT", name, sizeof name)) o->timeout_ms = otelc__env_u32(name, o->timeout_ms);
    o->timeout_ms = otelc__export_timeout_capped(o->timeout_ms);
    o->certificate = pick("CERTIFICATE", name, sizeof name);
    o->client_key = pick("CLIENT_KEY", name, sizeof name);
    o->client_certificate = pick("CLIENT_CERTIFICATE", name, sizeof name);
    if (pick("INSECURE", name, sizeof name)) o->insecure = otelc__env_bool(name, false);
}

bool otelc__otlp_endpoint_configured(void)
{
    return otelc__env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ||
           otelc__env("OTEL_EXPORTER_OTLP_ENDPOINT");
}

/* ---- State shared between processes (breaker_file.c, spool.c) ---------------------- */

#define DEFAULT_BREAKER_INTERVAL_MS 60000

uint64_t otelc__breaker_interval_from_env(void)
{
    const char *v = otelc__env("OTELC_BREAKER_INTERVAL");
    uint64_t ms;
    if (!v) return DEFAULT_BREAKER_INTERVAL_MS;
    if (otelc__parse_duration_ms(v, &ms)) return ms;
    if (otelc__first_report("OTELC_BREAKER_INTERVAL", v))
        otelc__log(OTELC_LOG_WARN,
                   "OTELC_BREAKER_INTERVAL=\"%.100s\" is invalid (expected a duration such as "
                   "60s or 5m, or 0); ignored",
                   v);
    return DEFAULT_BREAKER_INTERVAL_MS;
}

bool otelc__runtime_dir_from_env(char *out, size_t size)
{
    const char *base = otelc__env("XDG_RUNTIME_DIR");
    int n = base && base[0] == '/'
                ? snprintf(out, size, "%s/otelc", base)
                : snprintf(out, size, "/tmp/otelc-%lu", (unsigned long)geteuid());
    return n > 0 && (size_t)n < size;
}

const char *otelc__spool_dir_from_env(void)
{
    return otelc__env("OTELC_SPOOL_DIR");
}

uint64_t otelc__spool_max_bytes_from_env(void)
{
    return otelc__env_u64("OTELC_SPOOL_MAX_BYTES", 64ull << 20);
}
