/*
 * test_http_gate.c - the request gate of otelc's local HTTP services
 * (cli/http_gate.c), rule by rule: the Host names the service answers to
 * (loopback names, IPv4 and IPv6 literals, ports, case, trailing dots, the
 * bind address, --allow-host), Origin and Sec-Fetch-Site on state-changing
 * requests, the JSON content type, CORS preflights, and the validation of
 * --allow-host and --cors-origin values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_gate.h"

#define PORT 18099
#define HOST "127.0.0.1:18099"
#define JSON "application/json"
#define CORS "http://localhost:3000" /* a --cors-origin of the standard configuration */

typedef struct gate_case {
    const char *method, *host, *origin, *site, *type;
    bool json;
    unsigned status;
    bool echoed;    /* Access-Control-Allow-Origin: the request's Origin */
    bool preflight; /* answered as a CORS preflight */
} gate_case;

/* The service on 127.0.0.1:18099 with two extra names, an address and two CORS origins. */
static http_gate_config standard(void)
{
    http_gate_config cfg = {.bind = "127.0.0.1", .port = PORT};
    const char *why = NULL;
    const char *hosts[] = {"dev.example.test", "[fe80::1]", "192.168.1.5", "fd00::7"};
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++)
        assert_true(http_gate_add_host(&cfg, hosts[i], &why));
    assert_true(http_gate_add_cors_origin(&cfg, CORS, &why));
    assert_true(http_gate_add_cors_origin(&cfg, "https://ui.example.test", &why));
    return cfg;
}

static const char *show(const char *s)
{
    return s ? s : "(none)";
}

/* Every case, reporting each that fails before failing the test. */
static void run(const http_gate_config *cfg, const gate_case *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const gate_case *c = &cases[i];
        http_gate_request req = {c->method, c->host, c->origin, c->site, c->type, c->json};
        http_gate_verdict v = http_gate_check(cfg, &req);
        bool echoed = v.allow_origin != NULL && v.allow_origin == c->origin;
        bool reason_ok =
            v.status ? v.reason != NULL && strchr(v.reason, '\n') == NULL : v.reason == NULL;
        if (v.status == c->status && echoed == c->echoed && v.preflight == c->preflight &&
            reason_ok && (v.allow_origin == NULL || echoed))
            continue;
        print_error("case %zu: %s Host=%s Origin=%s Sec-Fetch-Site=%s Content-Type=%s json=%d: "
                    "got %u (%s) echo=%d preflight=%d, expected %u echo=%d preflight=%d\n",
                    i, c->method, show(c->host), show(c->origin), show(c->site), show(c->type),
                    c->json, v.status, show(v.reason), echoed, v.preflight, c->status, c->echoed,
                    c->preflight);
        failures++;
    }
    assert_int_equal(failures, 0);
}

#define RUN(cfg, cases) run(cfg, cases, sizeof cases / sizeof *cases)

/* ---- Host ------------------------------------------------------------------------ */

static void test_host_names(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        /* Loopback names, with or without the service's port, in any case. */
        {"GET", "127.0.0.1:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "127.0.0.1", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "localhost:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "localhost", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "LocalHost:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "view.localhost:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "a.b.LOCALHOST", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "127.1.2.3:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "127.255.255.255", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[::1]:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[::1]", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[0:0:0:0:0:0:0:1]:18099", NULL, NULL, NULL, false, 0, false, false},
        /* The names given with --allow-host; addresses compare as addresses. */
        {"GET", "dev.example.test:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "DEV.Example.TEST", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[fe80:0::1]:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[FD00::7]", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "192.168.1.5:18099", NULL, NULL, NULL, false, 0, false, false},
        /* DNS rebinding: the attacker's name, whatever it resolves to now. */
        {"GET", "evil.example:18099", NULL, NULL, NULL, false, 403, false, false},
        {"POST", "evil.example:18099", "http://evil.example:18099", NULL, "text/plain", true, 403,
         false, false},
        {"GET", "localhost.evil.example", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "evillocalhost:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "localhost.example:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "example.test", NULL, NULL, NULL, false, 403, false, false},
        /* Trailing dots match nothing, for every kind of name. */
        {"GET", "localhost.:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "view.localhost.", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "dev.example.test.:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "127.0.0.1.", NULL, NULL, NULL, false, 403, false, false},
        /* Only the dotted-decimal form browsers send; 128/8 is not loopback. */
        {"GET", "128.0.0.1:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "127.1:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "0x7f.0.0.1", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "2130706433", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "[::2]:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "[::ffff:192.168.1.5]", NULL, NULL, NULL, false, 403, false, false},
        /* Another port: not how the service is reached. */
        {"GET", "127.0.0.1:8080", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "localhost:0", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "[::1]:80", NULL, NULL, NULL, false, 403, false, false},
    };
    http_gate_config cfg = standard();
    RUN(&cfg, cases);
}

/* RFC 9112 section 3.2: no Host, or an invalid one (a repeated one included), is 400. */
static void test_host_malformed(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        {"GET", NULL, NULL, NULL, NULL, false, 400, false, false},
        {"POST", NULL, NULL, NULL, JSON, true, 400, false, false},
        {"GET", "", NULL, NULL, NULL, false, 400, false, false},
        {"GET", ", ", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost, evil.example", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost:", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost:99999", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost:123456", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost:18o99", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost:-1", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost:18099:1", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "local host", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "localhost/", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "user@localhost", NULL, NULL, NULL, false, 400, false, false},
        {"GET", ".localhost", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "a..localhost", NULL, NULL, NULL, false, 400, false, false},
        {"GET", ":18099", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "::1", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[::1", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[::1]x", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[::1]:", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[]", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[localhost]", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[127.0.0.1]", NULL, NULL, NULL, false, 400, false, false},
        {"GET", "[fe80::1%25eth0]", NULL, NULL, NULL, false, 400, false, false},
    };
    http_gate_config cfg = standard();
    RUN(&cfg, cases);
}

/* The bind address is a name of the service, unless it is a wildcard. */
static void test_host_bind_address(void **state)
{
    (void)state;
    static const gate_case on_lan[] = {
        {"GET", "192.168.7.7:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "192.168.7.8:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "localhost:18099", NULL, NULL, NULL, false, 0, false, false},
    };
    static const gate_case on_any4[] = {
        {"GET", "0.0.0.0:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "127.0.0.1:18099", NULL, NULL, NULL, false, 0, false, false},
    };
    static const gate_case on_v6[] = {
        {"GET", "[fd00::5]:18099", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[fd00:0:0::5]", NULL, NULL, NULL, false, 0, false, false},
        {"GET", "[fd00::6]", NULL, NULL, NULL, false, 403, false, false},
    };
    static const gate_case on_any6[] = {
        {"GET", "[::]:18099", NULL, NULL, NULL, false, 403, false, false},
        {"GET", "[::1]:18099", NULL, NULL, NULL, false, 0, false, false},
    };
    http_gate_config cfg = {.bind = "192.168.7.7", .port = PORT};
    RUN(&cfg, on_lan);
    cfg.bind = "0.0.0.0";
    RUN(&cfg, on_any4);
    cfg.bind = "fd00::5";
    RUN(&cfg, on_v6);
    cfg.bind = "::";
    RUN(&cfg, on_any6);
    cfg.bind = NULL;
    RUN(&cfg, on_any6);
}

/* ---- Origin and Sec-Fetch-Site ------------------------------------------------------ */

static void test_origin(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        /* No Origin: not a cross-origin browser request. */
        {"POST", HOST, NULL, NULL, JSON, true, 0, false, false},
        /* The service's own origin, by any of its names. */
        {"POST", HOST, "http://127.0.0.1:18099", NULL, JSON, true, 0, false, false},
        {"POST", HOST, "http://localhost:18099", NULL, JSON, true, 0, false, false},
        {"POST", HOST, "http://LOCALHOST:18099", NULL, JSON, true, 0, false, false},
        {"POST", HOST, "http://view.localhost:18099", NULL, JSON, true, 0, false, false},
        {"POST", HOST, "http://[::1]:18099", NULL, JSON, true, 0, false, false},
        {"POST", HOST, "http://dev.example.test:18099", NULL, JSON, true, 0, false, false},
        /* A --cors-origin: allowed, and echoed exactly. */
        {"POST", HOST, CORS, NULL, JSON, true, 0, true, false},
        {"POST", HOST, "HTTP://LocalHost:3000", NULL, JSON, true, 0, true, false},
        {"POST", HOST, "https://ui.example.test", NULL, JSON, true, 0, true, false},
        /* Everything else is foreign: the brief's attack and its variants. */
        {"POST", HOST, "http://evil.example", NULL, "text/plain", true, 403, false, false},
        {"POST", HOST, "http://evil.example", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "null", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "", NULL, JSON, true, 403, false, false},
        {"POST", HOST, ", ", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://localhost", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://localhost:3001", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "https://localhost:18099", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://localhost:18099/", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://localhost.:18099", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://evil.example:18099", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://localhost:3000/", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "http://ui.example.test", NULL, JSON, true, 403, false, false},
        {"POST", HOST, "chrome-extension://abcdef", NULL, JSON, true, 403, false, false},
        /* Any method but GET, HEAD and OPTIONS changes state, whatever its case. */
        {"PUT", HOST, "http://evil.example", NULL, NULL, false, 403, false, false},
        {"DELETE", HOST, "null", NULL, NULL, false, 403, false, false},
        {"PATCH", HOST, "http://evil.example", NULL, NULL, false, 403, false, false},
        {"get", HOST, "http://evil.example", NULL, NULL, false, 403, false, false},
        {"POST", HOST, "http://evil.example", NULL, NULL, false, 403, false, false},
        /* Reading is not refused (the browser keeps the answer from the page)... */
        {"GET", HOST, "http://evil.example", NULL, NULL, false, 0, false, false},
        {"HEAD", HOST, "null", "cross-site", NULL, false, 0, false, false},
        /* ...and gets CORS allowance only for a --cors-origin. */
        {"GET", HOST, CORS, "cross-site", NULL, false, 0, true, false},
    };
    http_gate_config cfg = standard();
    RUN(&cfg, cases);
}

/* On port 80 the own origin has no port: browsers leave the default out. */
static void test_origin_default_port(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        {"POST", "localhost", "http://localhost", NULL, JSON, true, 0, false, false},
        {"POST", "localhost:80", "http://localhost:80", NULL, JSON, true, 0, false, false},
        {"POST", "localhost", "http://localhost:8080", NULL, JSON, true, 403, false, false},
    };
    http_gate_config cfg = {.bind = "127.0.0.1", .port = 80};
    RUN(&cfg, cases);
}

static void test_sec_fetch_site(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        {"POST", HOST, NULL, "same-origin", JSON, true, 0, false, false},
        {"POST", HOST, NULL, "none", JSON, true, 0, false, false},
        {"POST", HOST, NULL, "cross-site", JSON, true, 403, false, false},
        {"POST", HOST, NULL, "same-site", JSON, true, 403, false, false},
        {"POST", HOST, NULL, "Same-Origin", JSON, true, 403, false, false},
        {"POST", HOST, NULL, "", JSON, true, 403, false, false},
        {"POST", HOST, NULL, ", ", JSON, true, 403, false, false},
        /* same-site from another origin: another port of localhost is the same site. */
        {"POST", HOST, "http://localhost:5173", "same-site", JSON, true, 403, false, false},
        /* An allowed Origin vouches for the request. */
        {"POST", HOST, CORS, "cross-site", JSON, true, 0, true, false},
        {"POST", HOST, CORS, "same-site", JSON, true, 0, true, false},
        {"POST", HOST, "http://localhost:18099", "same-site", JSON, true, 0, false, false},
        {"POST", HOST, "http://localhost:18099", "same-origin", JSON, true, 0, false, false},
        /* Safe methods are not refused for it. */
        {"GET", HOST, NULL, "cross-site", NULL, false, 0, false, false},
    };
    http_gate_config cfg = standard();
    RUN(&cfg, cases);
}

/* ---- Content-Type --------------------------------------------------------------------- */

static void test_content_type(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        {"POST", HOST, NULL, NULL, JSON, true, 0, false, false},
        {"POST", HOST, NULL, NULL, "application/json; charset=utf-8", true, 0, false, false},
        {"POST", HOST, NULL, NULL, "Application/JSON;charset=UTF-8", true, 0, false, false},
        {"POST", HOST, NULL, NULL, "application/json ; q=1", true, 0, false, false},
        {"POST", HOST, NULL, NULL, " application/json", true, 0, false, false},
        /* What a page can send without a preflight, and anything else. */
        {"POST", HOST, NULL, NULL, "text/plain", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "text/plain; charset=utf-8", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "application/x-www-form-urlencoded", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "multipart/form-data; boundary=x", true, 415, false, false},
        {"POST", HOST, NULL, NULL, NULL, true, 415, false, false},
        {"POST", HOST, NULL, NULL, "", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "application/jsonp", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "application/json-seq", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "application/vnd.api+json", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "application/json, text/plain", true, 415, false, false},
        {"POST", HOST, NULL, NULL, ", ", true, 415, false, false},
        {"POST", HOST, NULL, NULL, "application", true, 415, false, false},
        /* An allowed origin still sends JSON as JSON (and may read why it may not). */
        {"POST", HOST, CORS, NULL, "text/plain", true, 415, true, false},
        /* Only an endpoint that reads JSON asks for it. */
        {"POST", HOST, NULL, NULL, "text/plain", false, 0, false, false},
        {"POST", HOST, NULL, NULL, NULL, false, 0, false, false},
        /* A foreign request is refused for what it is, before its type is looked at. */
        {"POST", HOST, "http://evil.example", NULL, "text/plain", true, 403, false, false},
        {"POST", "evil.example:18099", NULL, NULL, "text/plain", true, 403, false, false},
    };
    http_gate_config cfg = standard();
    RUN(&cfg, cases);
}

/* ---- CORS preflight -------------------------------------------------------------------- */

static void test_preflight(void **state)
{
    (void)state;
    static const gate_case cases[] = {
        {"OPTIONS", HOST, CORS, "cross-site", NULL, false, 0, true, true},
        {"OPTIONS", HOST, "https://ui.example.test", NULL, NULL, true, 0, true, true},
        /* Without an allowed origin, OPTIONS gets no CORS allowance. */
        {"OPTIONS", HOST, "http://evil.example", "cross-site", NULL, false, 0, false, false},
        {"OPTIONS", HOST, "null", NULL, NULL, false, 0, false, false},
        {"OPTIONS", HOST, "http://localhost:18099", NULL, NULL, false, 0, false, false},
        {"OPTIONS", HOST, NULL, NULL, NULL, false, 0, false, false},
        /* Rebinding is refused for a preflight as for anything else. */
        {"OPTIONS", "evil.example:18099", CORS, NULL, NULL, false, 403, false, false},
    };
    http_gate_config cfg = standard();
    RUN(&cfg, cases);
    /* No --cors-origin at all: nothing is ever allowed cross-origin. */
    static const gate_case none[] = {
        {"OPTIONS", HOST, CORS, "cross-site", NULL, false, 0, false, false},
        {"POST", HOST, CORS, "cross-site", JSON, true, 403, false, false},
    };
    http_gate_config plain = {.bind = "127.0.0.1", .port = PORT};
    RUN(&plain, none);
}

/* ---- Configuration ------------------------------------------------------------------- */

static void test_allow_host_values(void **state)
{
    (void)state;
    static const char *good[] = {"dev.example.test", "HOST-1",  "my_host", "192.168.1.5",
                                 "[fe80::1]",        "fe80::1", "::1",     "localhost"};
    static const char *bad[] = {"",          "dev.example.test.",
                                "host:8080", "[::1]:80",
                                "*",         "*.example.test",
                                "a b",       "http://x",
                                "[::1",      "[nope]",
                                ".example",  "a..b",
                                "x/y",       ":::",
                                "::1%lo"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        http_gate_config cfg = {0};
        const char *why = NULL;
        if (!http_gate_add_host(&cfg, good[i], &why)) fail_msg("refused \"%s\": %s", good[i], why);
        assert_int_equal(cfg.host_count, 1);
        assert_ptr_equal(cfg.hosts[0], good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http_gate_config cfg = {0};
        const char *why = NULL;
        if (http_gate_add_host(&cfg, bad[i], &why)) fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(why);
        assert_int_equal(cfg.host_count, 0);
    }
}

static void test_cors_origin_values(void **state)
{
    (void)state;
    static const char *good[] = {"http://localhost:3000", "https://ui.example.test",
                                 "http://[::1]:8080", "chrome-extension://abcdef",
                                 "HTTP://Example.Test"};
    static const char *bad[] = {"*",
                                "null",
                                "",
                                "localhost:3000",
                                "http://localhost:3000/",
                                "http://localhost:3000/app",
                                "http://",
                                "http://example.test.",
                                "://example.test",
                                "1http://example.test",
                                "ht tp://example.test",
                                "http://*.example.test",
                                "http://a:b:c"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        http_gate_config cfg = {0};
        const char *why = NULL;
        if (!http_gate_add_cors_origin(&cfg, good[i], &why))
            fail_msg("refused \"%s\": %s", good[i], why);
        assert_int_equal(cfg.cors_origin_count, 1);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        http_gate_config cfg = {0};
        const char *why = NULL;
        if (http_gate_add_cors_origin(&cfg, bad[i], &why)) fail_msg("accepted \"%s\"", bad[i]);
        assert_non_null(why);
        assert_int_equal(cfg.cors_origin_count, 0);
    }
}

static void test_config_bounded(void **state)
{
    (void)state;
    http_gate_config cfg = {0};
    const char *why = NULL;
    for (int i = 0; i < HTTP_GATE_MAX_NAMES; i++) {
        assert_true(http_gate_add_host(&cfg, "dev.example.test", &why));
        assert_true(http_gate_add_cors_origin(&cfg, CORS, &why));
    }
    assert_false(http_gate_add_host(&cfg, "one.more", &why));
    assert_non_null(why);
    assert_false(http_gate_add_cors_origin(&cfg, "http://one.more", &why));
    assert_int_equal(cfg.host_count, HTTP_GATE_MAX_NAMES);
    assert_int_equal(cfg.cors_origin_count, HTTP_GATE_MAX_NAMES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_names),          cmocka_unit_test(test_host_malformed),
        cmocka_unit_test(test_host_bind_address),   cmocka_unit_test(test_origin),
        cmocka_unit_test(test_origin_default_port), cmocka_unit_test(test_sec_fetch_site),
        cmocka_unit_test(test_content_type),        cmocka_unit_test(test_preflight),
        cmocka_unit_test(test_allow_host_values),   cmocka_unit_test(test_cors_origin_values),
        cmocka_unit_test(test_config_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
