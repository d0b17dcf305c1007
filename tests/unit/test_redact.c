/*
 * test_redact.c - URL and query redaction (the rules every instrumentation
 * shares) and the HTTP naming helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "otelc/instrument/http.h"
#include "otelc/instrument/redact.h"

static void check_url(const char *in, const char *want)
{
    char *got = otelc_redact_url_dup(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void check_query(const char *in, const char *want)
{
    char *got = otelc_redact_query_dup(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* User information never survives, with or without a password or scheme. */
static void test_credentials(void **state)
{
    check_url("https://user:pw@example.com/a", "https://REDACTED:REDACTED@example.com/a");
    check_url("https://user@example.com:8443/", "https://REDACTED@example.com:8443/");
    check_url("http://a:p@ss@h/x?y=1", "http://REDACTED:REDACTED@h/x?y=1");
    check_url("//u:p@h/", "//REDACTED:REDACTED@h/");
    check_url("u:p@h/path@x", "REDACTED:REDACTED@h/path@x");
    check_url("ftp://h/path@x", "ftp://h/path@x");
    check_url("http://h?x=a@b", "http://h?x=a@b");
    check_url("http://[::1]:80/", "http://[::1]:80/");
}

/* Sensitive values go, keys and everything else stay (semconv's example). */
static void test_query_values(void **state)
{
    check_url("https://h/s?q=OpenTelemetry&sig=abc", "https://h/s?q=OpenTelemetry&sig=REDACTED");
    check_url("https://h/?AWSAccessKeyId=A&Signature=B&X-Goog-Signature=C&X-Amz-Signature=D",
              "https://h/?AWSAccessKeyId=REDACTED&Signature=REDACTED"
              "&X-Goog-Signature=REDACTED&X-Amz-Signature=REDACTED");
    check_url("http://h/?password=p&Token=t&api_key=k&ACCESS_TOKEN=a&page=2",
              "http://h/?password=REDACTED&Token=REDACTED&api_key=REDACTED"
              "&ACCESS_TOKEN=REDACTED&page=2");
    check_url("http://h/?client_secret=s;key=k&monkey=m&flag&token=",
              "http://h/?client_secret=REDACTED;key=REDACTED&monkey=m&flag&token=");
    check_url("http://h/?api%5Fkey=1&pass+word=2", "http://h/?api%5Fkey=REDACTED&pass+word=2");
    check_url("http://h/cb#access_token=t&state=s", "http://h/cb#access_token=REDACTED&state=s");
    check_url("http://h/p#section", "http://h/p#section");
    check_query("a=1&secret=2&=3&&b", "a=1&secret=REDACTED&=3&&b");
    check_query("", "");
}

/* snprintf contract: bounded writes, NUL-terminated, full length returned. */
static void test_bounds(void **state)
{
    const char *url = "http://u:p@h/?token=x";
    const char *want = "http://REDACTED:REDACTED@h/?token=REDACTED";
    char small[10];
    char exact[64];
    size_t n = otelc_redact_url(url, strlen(url), small, sizeof small);

    assert_int_equal(n, strlen(want));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, want, sizeof small - 1);
    assert_int_equal(otelc_redact_url(url, strlen(url), NULL, 0), strlen(want));
    assert_int_equal(otelc_redact_url(url, strlen(url), exact, strlen(want) + 1), strlen(want));
    assert_string_equal(exact, want);
    /* Embedded NULs are data, and nothing is read past len. */
    assert_int_equal(otelc_redact_url("h\0?token=1", 10, exact, sizeof exact), 17);
    assert_memory_equal(exact, "h\0?token=REDACTED", 17);
    assert_int_equal(otelc_redact_url("http://u:p@", 4, exact, sizeof exact), 4);
    assert_string_equal(exact, "http");
    assert_null(otelc_redact_url_dup(NULL));
}

static void test_sensitive_keys(void **state)
{
    static const char *yes[] = {"sig",
                                "Signature",
                                "token",
                                "refresh_token",
                                "X-Amz-Credential",
                                "db_password",
                                "private-key",
                                "code",
                                "KEY",
                                "auth",
                                "db_password_file",
                                "my-apikeys",
                                "aws_access_key_id"};
    static const char *no[] = {"q", "page", "keyboard", "monkey", "signed", "author", ""};

    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        assert_true(otelc_redact_is_sensitive_key(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_false(otelc_redact_is_sensitive_key(no[i], strlen(no[i])));
    assert_false(otelc_redact_is_sensitive_key(NULL, 3));
}

static void test_http_names(void **state)
{
    char name[64];

    assert_string_equal(otelc_http_method_normalize("GET"), "GET");
    assert_string_equal(otelc_http_method_normalize("get"), "_OTHER");
    assert_string_equal(otelc_http_method_normalize("PROPFIND"), "_OTHER");
    assert_string_equal(otelc_http_method_normalize(NULL), "_OTHER");
    assert_int_equal(otelc_http_span_name("GET", "/users/{id}", name, sizeof name), 15);
    assert_string_equal(name, "GET /users/{id}");
    otelc_http_span_name("POST", NULL, name, sizeof name);
    assert_string_equal(name, "POST");
    otelc_http_span_name("FOO", "", name, sizeof name);
    assert_string_equal(name, "HTTP");
    assert_string_equal(otelc_http_protocol_version("HTTP/1.1"), "1.1");
    assert_string_equal(otelc_http_protocol_version("HTTP/2.0"), "2");
    assert_string_equal(otelc_http_protocol_version("3"), "3");
    assert_null(otelc_http_protocol_version("HTTP/9"));
    /* Whole strings only: a known one with more or less is not it. */
    static const char *const methods[] = {"GET",   "POST",    "PUT",     "DELETE", "HEAD",
                                          "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    static const char *const others[] = {"P", "PO", "PUTS", "PAT", "C", "CONNECTED", "T", "Get"};
    char copy[16];
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
        snprintf(copy, sizeof copy, "%s", methods[i]);
        assert_string_equal(otelc_http_method_normalize(copy), methods[i]);
    }
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        assert_string_equal(otelc_http_method_normalize(others[i]), "_OTHER");
    assert_string_equal(otelc_http_method_normalize("GETX"), "_OTHER");
    assert_string_equal(otelc_http_method_normalize("GE"), "_OTHER");
    assert_string_equal(otelc_http_method_normalize(""), "_OTHER");
    assert_null(otelc_http_protocol_version("HTTP/1.10"));
    assert_null(otelc_http_protocol_version("HTTP/1."));
    assert_null(otelc_http_protocol_version("HTTP"));
    assert_null(otelc_http_protocol_version(""));
    assert_string_equal(otelc_http_protocol_version("HTTP/1.0"), "1.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_credentials), cmocka_unit_test(test_query_values),
        cmocka_unit_test(test_bounds),      cmocka_unit_test(test_sensitive_keys),
        cmocka_unit_test(test_http_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
