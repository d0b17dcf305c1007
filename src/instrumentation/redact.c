/*
 * redact.c - credentials and sensitive query values out of URLs, for every
 * instrumentation (see include/otelc/instrument/redact.h for the rules).
 *
 * The scanners work on byte ranges and never look past len, so they take
 * any input, including URLs with NUL bytes or half percent-escapes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "otelc/instrument/redact.h"

typedef otelc_bwriter writer;

static void puts0(writer *w, const char *s)
{
    otelc__bw_put(w, s, strlen(s));
}

/* ---- Sensitive keys ---------------------------------------------------- */

/* Compared case-insensitively after decoding; the first four are semconv's. */
static const char *const sensitive_exact[] = {
    "awsaccesskeyid",
    "signature",
    "sig",
    "x-goog-signature",
    "password",
    "passwd",
    "pwd",
    "pass",
    "token",
    "secret",
    "key",
    "apikey",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "session",
    "sessionid",
    "jwt",
    "code",
    "x-amz-credential",
    "x-goog-credential",
};

/* Names ending like these are secrets whatever comes before. */
static const char *const sensitive_suffix[] = {
    "token", "secret", "password", "signature", "_key", "-key",
};

/* Names containing these are secrets wherever they appear (db_password_file, apikeys). */
static const char *const sensitive_part[] = {
    "passw",       "pwd",         "secret",     "token",         "apikey",
    "api_key",     "api-key",     "access_key", "accesskey",     "access-key",
    "private_key", "private-key", "credential", "authorization",
};

static bool contains_ci(const char *s, size_t n, const char *part)
{
    size_t m = strlen(part);
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(s + i, part, m) == 0) return true;
    return false;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent- and '+'-decode src into dst (dst holds at least n bytes). */
static size_t decode_key(const char *src, size_t n, char *dst)
{
    size_t out = 0;

    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (src[i] == '%' && i + 2 < n && (hi = hex_value(src[i + 1])) >= 0 &&
            (lo = hex_value(src[i + 2])) >= 0) {
            dst[out++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dst[out++] = src[i] == '+' ? ' ' : src[i];
        }
    }
    return out;
}

static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && strncasecmp(s + n - m, suffix, m) == 0;
}

bool otelc_redact_is_sensitive_key(const char *key, size_t len)
{
    /* Only the tail matters beyond this size: exact names are all shorter. */
    enum { MAX_KEY = 255 };
    char buf[MAX_KEY];
    size_t n;

    if (key == NULL) return false;
    if (len > MAX_KEY) {
        key += len - MAX_KEY;
        len = MAX_KEY;
    }
    n = decode_key(key, len, buf);
    for (size_t i = 0; i < sizeof sensitive_exact / sizeof *sensitive_exact; i++) {
        const char *s = sensitive_exact[i];
        if (strlen(s) == n && strncasecmp(buf, s, n) == 0) return true;
    }
    for (size_t i = 0; i < sizeof sensitive_suffix / sizeof *sensitive_suffix; i++)
        if (ends_with_ci(buf, n, sensitive_suffix[i])) return true;
    for (size_t i = 0; i < sizeof sensitive_part / sizeof *sensitive_part; i++)
        if (contains_ci(buf, n, sensitive_part[i])) return true;
    return false;
}

/* ---- Query strings ----------------------------------------------------- */

static void redact_param(writer *w, const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);

    if (eq != NULL && eq + 1 < p + n && otelc_redact_is_sensitive_key(p, (size_t)(eq - p))) {
        otelc__bw_put(w, p, (size_t)(eq - p) + 1);
        puts0(w, OTELC_REDACTED);
    } else {
        otelc__bw_put(w, p, n);
    }
}

static void redact_query_into(writer *w, const char *q, size_t len)
{
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && q[i] != '&' && q[i] != ';') continue;
        redact_param(w, q + start, i - start);
        if (i < len) otelc__bw_put(w, q + i, 1);
        start = i + 1;
    }
}

size_t otelc_redact_query(const char *query, size_t len, char *out, size_t out_size)
{
    writer w = {out, out_size, 0};

    if (query != NULL) redact_query_into(&w, query, len);
    return otelc__bw_finish(&w);
}

/* ---- URLs -------------------------------------------------------------- */

/* Where the authority starts: after "scheme://", after "//", or at 0. */
static size_t authority_start(const char *u, size_t len)
{
    size_t i = 0;

    if (len >= 2 && u[0] == '/' && u[1] == '/') return 2;
    if (len == 0 || !((u[0] | 0x20) >= 'a' && (u[0] | 0x20) <= 'z')) return 0;
    while (i < len && (((u[i] | 0x20) >= 'a' && (u[i] | 0x20) <= 'z') ||
                       (u[i] >= '0' && u[i] <= '9') || u[i] == '+' || u[i] == '-' || u[i] == '.'))
        i++;
    if (i + 2 < len && u[i] == ':' && u[i + 1] == '/' && u[i + 2] == '/') return i + 3;
    return 0;
}

/* NUL is data here, never a stop (strchr would match the terminator). */
static size_t span_until(const char *u, size_t from, size_t len, const char *stops)
{
    while (from < len && (u[from] == '\0' || strchr(stops, u[from]) == NULL)) from++;
    return from;
}

/* Copy the URL up to the end of the authority, masking user information. */
static size_t redact_authority(writer *w, const char *u, size_t len)
{
    size_t start = authority_start(u, len);
    size_t end = span_until(u, start, len, "/?#");
    size_t at = end;

    /* The last '@' ends the user information: passwords may hold a raw '@'. */
    while (at > start && u[at - 1] != '@') at--;
    if (at == start) {
        otelc__bw_put(w, u, end);
        return end;
    }
    otelc__bw_put(w, u, start);
    puts0(w, OTELC_REDACTED);
    if (memchr(u + start, ':', at - 1 - start) != NULL) puts0(w, ":" OTELC_REDACTED);
    otelc__bw_put(w, "@", 1);
    otelc__bw_put(w, u + at, end - at);
    return end;
}

size_t otelc_redact_url(const char *url, size_t len, char *out, size_t out_size)
{
    writer w = {out, out_size, 0};
    size_t i, q;

    if (url == NULL) return otelc__bw_finish(&w);
    i = redact_authority(&w, url, len);
    q = span_until(url, i, len, "?#");
    otelc__bw_put(&w, url + i, q - i);
    if (q < len && url[q] == '?') {
        size_t f = span_until(url, q + 1, len, "#");
        otelc__bw_put(&w, "?", 1);
        redact_query_into(&w, url + q + 1, f - q - 1);
        q = f;
    }
    if (q < len) { /* the fragment, "#..." */
        otelc__bw_put(&w, "#", 1);
        redact_query_into(&w, url + q + 1, len - q - 1);
    }
    return otelc__bw_finish(&w);
}

/* Run a writer twice: once to size the result, once into the allocation. */
static char *dup_with(size_t (*fn)(const char *, size_t, char *, size_t), const char *s)
{
    size_t n, len;
    char *out;

    if (s == NULL) return NULL;
    len = strlen(s);
    n = fn(s, len, NULL, 0);
    out = malloc(n + 1);
    if (out != NULL) fn(s, len, out, n + 1);
    return out;
}

char *otelc_redact_url_dup(const char *url)
{
    return dup_with(otelc_redact_url, url);
}

char *otelc_redact_query_dup(const char *query)
{
    return dup_with(otelc_redact_query, query);
}
