/*
 * self_export.c - is an exporter endpoint the viewer itself (self_export.h).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "self_export.h"

/* A host name or address literal (no brackets) that reaches this machine, or bind. */
static bool host_is_local(const char *host, const char *bind)
{
    size_t n = strlen(host);
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0) return true;
    if (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0) return true;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        uint32_t ip = ntohl(a4.s_addr);
        if (ip >> 24 == 127 || ip == 0) return true;
    } else if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_UNSPECIFIED(&a6)) return true;
    }
    return bind && strcasecmp(host, bind) == 0;
}

bool vw_endpoint_is_self(const char *endpoint, const char *bind, const unsigned *ports, size_t n)
{
    if (!endpoint) return false;
    unsigned port = 0;
    const char *p = strstr(endpoint, "://");
    if (p) {
        if (strncasecmp(endpoint, "https", 5) == 0)
            port = 443;
        else if (strncasecmp(endpoint, "http", 4) == 0)
            port = 80;
        p += 3;
    } else {
        p = endpoint;
    }
    size_t len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', len); /* user information is not the host */
    if (at) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    char host[256];
    const char *rest;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', len);
        if (!close || (size_t)(close - p - 1) >= sizeof host) return false;
        memcpy(host, p + 1, (size_t)(close - p - 1));
        host[close - p - 1] = '\0';
        rest = close + 1;
    } else {
        const char *colon = memchr(p, ':', len);
        size_t hn = colon ? (size_t)(colon - p) : len;
        if (hn >= sizeof host) return false;
        memcpy(host, p, hn);
        host[hn] = '\0';
        rest = p + hn;
    }
    if (rest < p + len && *rest == ':') {
        char *end;
        unsigned long v = strtoul(rest + 1, &end, 10);
        if (end == rest + 1 || end != p + len || v > 65535) return false;
        port = (unsigned)v;
    }
    if (!port || !host_is_local(host, bind)) return false;
    for (size_t i = 0; i < n; i++)
        if (ports[i] == port) return true;
    return false;
}
