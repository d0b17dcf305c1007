/*
 * http_gate.c - the request gate of otelc's local HTTP services; the rules
 * and why they are what they are: http_gate.h.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "http_gate.h"

/* The longest DNS name (RFC 1035); longer Host names are malformed. */
#define MAX_NAME 253

/* A Host value (or an origin's host and port) taken apart. */
typedef struct authority {
    const char *name; /* points into the value; without the brackets of an IPv6 literal */
    size_t len;
    bool v6;                /* an IPv6 literal... */
    unsigned char addr[16]; /* ...whose address is this */
    long port;              /* -1 when absent */
} authority;

typedef enum origin_kind {
    ORIGIN_ABSENT,
    ORIGIN_FOREIGN,
    ORIGIN_OWN,  /* http://ALLOWED-HOST:PORT: a page this service served */
    ORIGIN_CORS, /* a --cors-origin */
} origin_kind;

/* ---- Addresses and names -------------------------------------------------------- */

/* s[0..len) as an address of family af (AF_INET or AF_INET6) into addr. */
static bool parse_ip(int af, const char *s, size_t len, unsigned char addr[16])
{
    char text[INET6_ADDRSTRLEN];
    if (len >= sizeof text) return false;
    memcpy(text, s, len);
    text[len] = '\0';
    return inet_pton(af, text, addr) == 1;
}

/* ASCII only, whatever the locale says. */
static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Letters, digits, '-', '_' and '.' between non-empty labels; one trailing dot allowed. */
static bool name_syntax_ok(const char *s, size_t len)
{
    if (len == 0 || len > MAX_NAME + 1 || s[0] == '.') return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.' && i + 1 < len && s[i + 1] == '.') return false;
        if (!is_letter(c) && !is_digit(c) && c != '-' && c != '_' && c != '.') return false;
    }
    return true;
}

/* 1 to 5 digits, at most 65535; -1 when s[0..len) is not such a port. */
static long parse_port(const char *s, size_t len)
{
    long port = 0;
    if (len == 0 || len > 5) return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) return -1;
        port = port * 10 + (s[i] - '0');
    }
    return port <= 65535 ? port : -1;
}

/* uri-host [":" port] (RFC 9112 section 3.2); false when s[0..len) is malformed. */
static bool parse_authority(const char *s, size_t len, authority *a)
{
    const char *end = s + len, *rest;
    if (len == 0) return false;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close) return false;
        a->name = s + 1;
        a->len = (size_t)(close - a->name);
        a->v6 = true;
        if (!parse_ip(AF_INET6, a->name, a->len, a->addr)) return false;
        rest = close + 1;
    } else {
        const char *colon = memchr(s, ':', len);
        a->name = s;
        a->len = colon ? (size_t)(colon - s) : len;
        a->v6 = false;
        if (!name_syntax_ok(a->name, a->len)) return false;
        rest = s + a->len;
    }
    a->port = -1;
    if (rest == end) return true;
    if (*rest != ':') return false;
    a->port = parse_port(rest + 1, (size_t)(end - rest - 1));
    return a->port >= 0;
}

static bool equals_ci(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* "localhost" or NAME.localhost (the name already passed name_syntax_ok). */
static bool is_localhost(const authority *a)
{
    static const char suffix[] = ".localhost";
    size_t n = sizeof suffix - 1;
    if (equals_ci(a->name, a->len, "localhost")) return true;
    return a->len > n && strncasecmp(a->name + a->len - n, suffix, n) == 0;
}

/* A configured host (bind address or --allow-host) without an IPv6 literal's brackets. */
static void configured_name(const char *s, const char **name, size_t *len)
{
    *name = s;
    *len = strlen(s);
    if (*len >= 2 && s[0] == '[' && s[*len - 1] == ']') {
        *name = s + 1;
        *len -= 2;
    }
}

/* Whether the configured host names the same host as a (addresses compare as addresses). */
static bool same_host(const authority *a, const char *configured)
{
    unsigned char want[16];
    const char *name;
    size_t len;
    configured_name(configured, &name, &len);
    if (a->v6) return parse_ip(AF_INET6, name, len, want) && memcmp(want, a->addr, 16) == 0;
    return equals_ci(a->name, a->len, name);
}

/* The bind address, unless it is a wildcard: a wildcard names no host. */
static bool is_bind_address(const authority *a, const char *bind)
{
    static const unsigned char any[16] = {0};
    unsigned char addr[16];
    const char *name;
    size_t len;
    if (!bind) return false;
    configured_name(bind, &name, &len);
    bool v4 = parse_ip(AF_INET, name, len, addr);
    if (!v4 && !parse_ip(AF_INET6, name, len, addr)) return false;
    if (memcmp(addr, any, v4 ? 4 : 16) == 0) return false;
    return same_host(a, bind);
}

/*
 * Whether a is a name this service is reachable as (the port aside). Every
 * comparison is exact, so a name with a trailing dot matches none.
 */
static bool host_is_ours(const http_gate_config *cfg, const authority *a)
{
    unsigned char addr[16];
    if (a->v6) {
        if (memcmp(a->addr, &in6addr_loopback, sizeof a->addr) == 0) return true;
    } else {
        if (is_localhost(a)) return true;
        if (parse_ip(AF_INET, a->name, a->len, addr) && addr[0] == 127) return true;
    }
    if (is_bind_address(a, cfg->bind)) return true;
    for (size_t i = 0; i < cfg->host_count; i++)
        if (same_host(a, cfg->hosts[i])) return true;
    return false;
}

/* ---- Origin, fetch metadata, content type --------------------------------------- */

static origin_kind classify_origin(const http_gate_config *cfg, const char *origin)
{
    static const char own_scheme[] = "http://";
    size_t n = sizeof own_scheme - 1;
    authority a;
    if (!origin) return ORIGIN_ABSENT;
    for (size_t i = 0; i < cfg->cors_origin_count; i++)
        if (strcasecmp(origin, cfg->cors_origins[i]) == 0) return ORIGIN_CORS;
    if (strncasecmp(origin, own_scheme, n) != 0 ||
        !parse_authority(origin + n, strlen(origin + n), &a))
        return ORIGIN_FOREIGN;
    /* Browsers leave the scheme's default port out of an origin. */
    long port = a.port < 0 ? 80 : a.port;
    return host_is_ours(cfg, &a) && port == (long)cfg->port ? ORIGIN_OWN : ORIGIN_FOREIGN;
}

/* Only same-origin and none (the user's own action) vouch for a request. */
static bool fetch_site_foreign(const char *site)
{
    return site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
}

static bool is_safe_method(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "OPTIONS") == 0;
}

/* application/json, any case, optionally followed by parameters (RFC 9110 section 8.3.1). */
static bool is_json_type(const char *type)
{
    static const char json[] = "application/json";
    size_t n = sizeof json - 1;
    if (!type) return false;
    type += strspn(type, " \t");
    if (strncasecmp(type, json, n) != 0) return false;
    type += n;
    type += strspn(type, " \t");
    return *type == '\0' || *type == ';';
}

/* ---- The verdict ---------------------------------------------------------------- */

static http_gate_verdict refuse(unsigned status, const char *reason)
{
    return (http_gate_verdict){.status = status, .reason = reason};
}

http_gate_verdict http_gate_check(const http_gate_config *cfg, const http_gate_request *req)
{
    authority host;
    if (!req->host) return refuse(400, "the request has no Host header");
    if (!parse_authority(req->host, strlen(req->host), &host))
        return refuse(400, "the Host header is malformed");
    if (!host_is_ours(cfg, &host) || (host.port >= 0 && host.port != (long)cfg->port))
        return refuse(403, "the Host header names a host this service does not answer to "
                           "(--allow-host adds one)");

    origin_kind origin = classify_origin(cfg, req->origin);
    bool vouched = origin == ORIGIN_OWN || origin == ORIGIN_CORS;
    if (!is_safe_method(req->method)) {
        if (origin == ORIGIN_FOREIGN)
            return refuse(403, "cross-origin request refused: the Origin is neither this "
                               "service nor a --cors-origin");
        if (fetch_site_foreign(req->sec_fetch_site) && !vouched)
            return refuse(403, "cross-site request refused: Sec-Fetch-Site says it comes from "
                               "another site, and no allowed Origin vouches for it");
    }

    http_gate_verdict v = {0};
    if (origin == ORIGIN_CORS) {
        v.allow_origin = req->origin;
        v.preflight = strcmp(req->method, "OPTIONS") == 0;
        if (v.preflight) return v;
    }
    if (req->json_body && !is_json_type(req->content_type)) {
        /* A page of a --cors-origin may read why, as it reads any other answer. */
        v.status = 415;
        v.reason = "the body must be sent with Content-Type: application/json";
    }
    return v;
}

/* ---- Configuration ---------------------------------------------------------------- */

bool http_gate_add_host(http_gate_config *cfg, const char *name, const char **why)
{
    unsigned char addr[16];
    authority a;
    size_t len = strlen(name);
    bool bare_v6 = memchr(name, ':', len) && parse_ip(AF_INET6, name, len, addr);
    bool ok = bare_v6 ||
              (parse_authority(name, len, &a) && a.port < 0 && (a.v6 || a.name[a.len - 1] != '.'));
    if (!ok) {
        *why = "expected a host name or an IP address, without a port or a trailing dot";
        return false;
    }
    if (cfg->host_count == HTTP_GATE_MAX_NAMES) {
        *why = "too many host names";
        return false;
    }
    cfg->hosts[cfg->host_count++] = name;
    return true;
}

/* SCHEME "://" HOST [":" PORT] (RFC 6454 section 6.1), the host without a trailing dot. */
static bool origin_syntax_ok(const char *origin)
{
    static const char scheme_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789+-.";
    const char *sep = strstr(origin, "://");
    authority a;
    if (!sep || !is_letter(origin[0]) || strspn(origin, scheme_chars) != (size_t)(sep - origin))
        return false;
    return parse_authority(sep + 3, strlen(sep + 3), &a) && (a.v6 || a.name[a.len - 1] != '.');
}

bool http_gate_add_cors_origin(http_gate_config *cfg, const char *origin, const char **why)
{
    if (strcmp(origin, "*") == 0) {
        *why = "a wildcard is not allowed: give each origin that may call the service";
        return false;
    }
    if (!origin_syntax_ok(origin)) {
        *why = "expected an origin such as http://localhost:3000 (no path, no \"null\")";
        return false;
    }
    if (cfg->cors_origin_count == HTTP_GATE_MAX_NAMES) {
        *why = "too many origins";
        return false;
    }
    cfg->cors_origins[cfg->cors_origin_count++] = origin;
    return true;
}
