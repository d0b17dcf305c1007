/*
 * http.c - method, span-name and protocol-version rules of the HTTP semantic
 * conventions, shared by the client and server instrumentations.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "otelc/instrument/http.h"

/* The most frequent first: every request and every span name is looked up here. */
static const struct {
    const char *name;
    size_t len;
} known_methods[] = {
    {"GET", 3},   {"POST", 4},    {"PUT", 3},     {"DELETE", 6}, {"HEAD", 4},
    {"PATCH", 5}, {"OPTIONS", 7}, {"CONNECT", 7}, {"TRACE", 5},
};

/* a == b for short strings, without a library call per candidate. */
static bool same(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) a++, b++;
    return *a == *b;
}

const char *otelc__http_method_normalize_len(const char *method, size_t *len)
{
    /* GET, most requests' method, without a walk of the table. */
    if (method != NULL && method[0] == 'G' && method[1] == 'E' && method[2] == 'T' &&
        method[3] == '\0') {
        *len = 3;
        return known_methods[0].name;
    }
    if (method != NULL)
        for (size_t i = 1; i < sizeof known_methods / sizeof *known_methods; i++)
            if (same(method, known_methods[i].name)) {
                *len = known_methods[i].len;
                return known_methods[i].name;
            }
    *len = sizeof OTELC_HTTP_METHOD_OTHER - 1;
    return OTELC_HTTP_METHOD_OTHER;
}

const char *otelc_http_method_normalize(const char *method)
{
    size_t len;
    return otelc__http_method_normalize_len(method, &len);
}

size_t otelc_http_span_name(const char *method, const char *target, char *out, size_t out_size)
{
    const char *m = otelc_http_method_normalize(method);
    int n;

    /* The conventions write "HTTP" where the method is unknown: it keeps
     * attacker-chosen method strings out of a low-cardinality span name. */
    if (strcmp(m, OTELC_HTTP_METHOD_OTHER) == 0) m = "HTTP";
    if (target == NULL || *target == '\0') return otelc__strlcpy(out, m, out_size);
    n = snprintf(out, out_size, "%s %s", m, target);
    return n < 0 ? 0 : (size_t)n;
}

const char *otelc_http_protocol_version(const char *v)
{
    static const struct {
        const char *in;
        const char *out;
    } versions[] = {
        {"1.0", "1.0"}, {"1.1", "1.1"}, {"2", "2"},     {"2.0", "2"},
        {"3", "3"},     {"3.0", "3"},   {"0.9", "0.9"},
    };

    if (v == NULL) return NULL;
    if (v[0] == 'H' && v[1] == 'T' && v[2] == 'T' && v[3] == 'P' && v[4] == '/') v += 5;
    /* Every HTTP/1.x request asks: no table walk for those two. */
    if (v[0] == '1' && v[1] == '.' && (v[2] == '1' || v[2] == '0') && v[3] == '\0')
        return v[2] == '1' ? "1.1" : "1.0";
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++)
        if (same(v, versions[i].in)) return versions[i].out;
    return NULL;
}
