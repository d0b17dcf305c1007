/*
 * fuzz_http_gate.c - the request gate (cli/http_gate.c) on arbitrary header
 * bytes. Beyond not crashing: a verdict is one of the documented ones, a
 * CORS echo is always the request's own Origin and a configured one, what
 * is let through carries the JSON type when the endpoint reads JSON and
 * nothing a refused cross-site request would carry, the same request gets
 * the same verdict, more allowed names never refuse what was let through,
 * and every --allow-host / --cors-origin value accepted is then let in.
 *
 * Input: lines. method, Host, Origin, Sec-Fetch-Site, Content-Type (a line
 * "~" or a missing line: header absent), "1" for a JSON endpoint, the bind
 * address, the port; then "h:NAME" (--allow-host) and "o:ORIGIN"
 * (--cors-origin) lines.
 */
#define _GNU_SOURCE /* strcasestr */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 8

static bool same(const http_gate_verdict *a, const http_gate_verdict *b)
{
    return a->status == b->status && a->reason == b->reason && a->allow_origin == b->allow_origin &&
           a->preflight == b->preflight;
}

static bool is_safe(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS");
}

static void check_verdict(const http_gate_config *cfg, const http_gate_request *req,
                          const http_gate_verdict *v)
{
    if (v->status != 0 && v->status != 400 && v->status != 403 && v->status != 415) abort();
    if ((v->status != 0) != (v->reason != NULL)) abort();
    if (v->reason && strchr(v->reason, '\n')) abort();
    if (v->allow_origin) {
        bool configured = false;
        for (size_t i = 0; i < cfg->cors_origin_count; i++)
            configured |= strcasecmp(v->allow_origin, cfg->cors_origins[i]) == 0;
        if (v->allow_origin != req->origin || !configured) abort();
        if (v->status != 0 && v->status != 415) abort();
    }
    if (v->preflight && (strcmp(req->method, "OPTIONS") || !v->allow_origin || v->status)) abort();
    if (v->status || v->preflight) return;
    /* Let through: */
    if (!req->host) abort();
    if (req->json_body &&
        (!req->content_type || !strcasestr(req->content_type, "application/json")))
        abort();
    if (!is_safe(req->method) && req->origin && !strcmp(req->origin, "null")) abort();
    if (!is_safe(req->method) && req->sec_fetch_site &&
        !strcmp(req->sec_fetch_site, "cross-site") && !req->origin)
        abort();
}

/* An accepted --allow-host NAME is a Host the service answers to, with its port. */
static void check_host_round_trip(const http_gate_config *cfg, const char *name)
{
    char host[600];
    bool bare_v6 = name[0] != '[' && strchr(name, ':') != NULL;
    snprintf(host, sizeof host, bare_v6 ? "[%s]:%u" : "%s:%u", name, cfg->port);
    http_gate_request req = {.method = "GET", .host = host};
    if (strlen(name) < 500 && http_gate_check(cfg, &req).status != 0) abort();
}

/* An accepted --cors-origin may POST JSON, and is echoed. */
static void check_origin_round_trip(const http_gate_config *cfg, const char *origin)
{
    http_gate_request req = {.method = "POST",
                             .host = "localhost",
                             .origin = origin,
                             .sec_fetch_site = "cross-site",
                             .content_type = "application/json",
                             .json_body = true};
    http_gate_verdict v = http_gate_check(cfg, &req);
    if (v.status != 0 || v.allow_origin != origin) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';

    const char *field[FIELDS] = {0};
    http_gate_config cfg = {0};
    const char *why;
    size_t n = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (n < FIELDS) {
            field[n++] = strcmp(line, "~") ? line : NULL;
        } else if (!strncmp(line, "h:", 2)) {
            size_t count = cfg.host_count;
            if (http_gate_add_host(&cfg, line + 2, &why) != (cfg.host_count == count + 1)) abort();
        } else if (!strncmp(line, "o:", 2)) {
            size_t count = cfg.cors_origin_count;
            if (http_gate_add_cors_origin(&cfg, line + 2, &why) !=
                (cfg.cors_origin_count == count + 1))
                abort();
        }
    }
    cfg.bind = field[6];
    cfg.port = field[7] ? (unsigned)strtoul(field[7], NULL, 10) % 65536 : 8080;
    for (size_t i = 0; i < cfg.host_count; i++) check_host_round_trip(&cfg, cfg.hosts[i]);
    for (size_t i = 0; i < cfg.cors_origin_count; i++)
        check_origin_round_trip(&cfg, cfg.cors_origins[i]);

    http_gate_request req = {field[0] ? field[0] : "GET",   field[1], field[2], field[3], field[4],
                             field[5] && field[5][0] == '1'};
    http_gate_verdict v = http_gate_check(&cfg, &req);
    check_verdict(&cfg, &req, &v);
    http_gate_verdict again = http_gate_check(&cfg, &req);
    if (!same(&v, &again)) abort();

    /* More names and origins only ever let more through. */
    http_gate_config wider = cfg;
    if (wider.host_count < HTTP_GATE_MAX_NAMES) wider.hosts[wider.host_count++] = "fuzz.example";
    if (wider.cors_origin_count < HTTP_GATE_MAX_NAMES)
        wider.cors_origins[wider.cors_origin_count++] = "http://fuzz.example";
    http_gate_verdict w = http_gate_check(&wider, &req);
    check_verdict(&wider, &req, &w);
    if (v.status == 0 && w.status != 0) abort();

    free(text);
    return 0;
}
