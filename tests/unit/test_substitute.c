/*
 * test_substitute.c - ${...} substitution in configuration values, checked
 * against the examples of the configuration data model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config_file.h"

/* The environment of the specification's examples, without touching environ. */
static const char *fake_env(const char *name, void *user)
{
    static const char *const vars[][2] = {
        {"STRING_VALUE", "value"},
        {"BOOL_VALUE", "true"},
        {"INT_VALUE", "1"},
        {"FLOAT_VALUE", "1.1"},
        {"HEX_VALUE", "0xdeadbeef"},
        {"INVALID_MAP_VALUE", "value\nkey:value"},
        {"DO_NOT_REPLACE_ME", "Never use this value"},
        {"REPLACE_ME", "${DO_NOT_REPLACE_ME}"},
        {"VALUE_WITH_ESCAPE", "value$$"},
        {"EMPTY", ""},
    };
    int *calls = user;
    if (calls) (*calls)++;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (strcmp(vars[i][0], name) == 0) return vars[i][1];
    return NULL;
}

static void expect(const char *in, const char *want)
{
    char *out = NULL, err[128];
    size_t len = 0;
    int rc = otelc__substitute(in, strlen(in), fake_env, NULL, &out, &len, err, sizeof err);
    assert_int_equal(rc, OTELC_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
}

static void expect_error(const char *in, const char *message)
{
    char *out = NULL, err[128];
    int rc = otelc__substitute(in, strlen(in), fake_env, NULL, &out, NULL, err, sizeof err);
    assert_int_equal(rc, OTELC_ERR_PARSE);
    assert_null(out);
    assert_string_equal(err, message);
}

static void test_references(void **state)
{
    (void)state;
    expect("${STRING_VALUE}", "value");
    expect("${env:STRING_VALUE}", "value");
    expect("${HEX_VALUE}", "0xdeadbeef");
    expect("${INVALID_MAP_VALUE}", "value\nkey:value");
    expect("foo ${STRING_VALUE} ${FLOAT_VALUE}", "foo value 1.1");
    expect("${STRING_VALUE}${INT_VALUE}", "value1");
    expect("${_x1}", "");
}

static void test_undefined_and_defaults(void **state)
{
    (void)state;
    expect("${UNDEFINED_KEY}", "");
    expect("a${UNDEFINED_KEY}b", "ab");
    expect("${UNDEFINED_KEY:-fallback}", "fallback");
    expect("${env:UNDEFINED_KEY:-fall back}", "fall back");
    expect("${EMPTY:-used for empty}", "used for empty");
    expect("${EMPTY}", "");
    expect("${STRING_VALUE:-unused}", "value");
    expect("${UNDEFINED_KEY:-}", "");
    expect("${UNDEFINED_KEY:-caf\xc3\xa9}", "caf\xc3\xa9");
}

static void test_no_recursion(void **state)
{
    (void)state;
    expect("${REPLACE_ME}", "${DO_NOT_REPLACE_ME}");
    expect("${UNDEFINED_KEY:-${STRING_VALUE}}", "${STRING_VALUE}");
    expect("${VALUE_WITH_ESCAPE}", "value$$");
}

static void test_escapes(void **state)
{
    (void)state;
    expect("$${STRING_VALUE}", "${STRING_VALUE}");
    expect("$$${STRING_VALUE}", "$value");
    expect("$$$${STRING_VALUE}", "$${STRING_VALUE}");
    expect("$${STRING_VALUE:-fallback}", "${STRING_VALUE:-fallback}");
    expect("$${STRING_VALUE:-${STRING_VALUE}}", "${STRING_VALUE:-value}");
    expect("${UNDEFINED_KEY:-$${UNDEFINED_KEY}}", "${UNDEFINED_KEY:-${UNDEFINED_KEY}}");
    expect("$${FOO} ${STRING_VALUE} $${BAZ}", "${FOO} value ${BAZ}");
    expect("a $$ b", "a $ b");
    expect("a $ b", "a $ b");
    expect("$", "$");
    expect("$$$", "$$");
    expect("cost: 5$", "cost: 5$");
}

static void test_not_references(void **state)
{
    (void)state;
    /* No closing brace, or characters outside the reference syntax: literal text. */
    expect("${STRING_VALUE", "${STRING_VALUE");
    expect("${", "${");
    expect("${a\nb}", "${a\nb}");
    expect("${a\nb} ${STRING_VALUE}", "${a\nb} value");
    expect("{STRING_VALUE}", "{STRING_VALUE}");
    expect("", "");
}

static void test_invalid_references(void **state)
{
    (void)state;
    expect_error("${STRING_VALUE:?error}",
                 "invalid substitution reference \"${STRING_VALUE:?error}\"");
    expect_error("${1API_KEY}", "invalid substitution reference \"${1API_KEY}\"");
    expect_error("${API_$KEY}", "invalid substitution reference \"${API_$KEY}\"");
    expect_error("${}", "invalid substitution reference \"${}\"");
    expect_error("${env:}", "invalid substitution reference \"${env:}\"");
    expect_error("${ A}", "invalid substitution reference \"${ A}\"");
    expect_error("ok ${A} then ${A-b}", "invalid substitution reference \"${A-b}\"");
}

static void test_lengths_and_nul(void **state)
{
    (void)state;
    const char in[] = "a\0${STRING_VALUE}";
    char *out = NULL;
    size_t len = 0;
    int calls = 0;
    assert_int_equal(otelc__substitute(in, sizeof in - 1, fake_env, &calls, &out, &len, NULL, 0),
                     OTELC_OK);
    assert_int_equal(len, 7);
    assert_memory_equal(out, "a\0value", 7);
    assert_int_equal(calls, 1);
    free(out);

    /* Only len bytes are read: the reference beyond it is not seen. */
    assert_int_equal(otelc__substitute("ab${STRING_VALUE}", 2, fake_env, NULL, &out, &len, NULL, 0),
                     OTELC_OK);
    assert_string_equal(out, "ab");
    free(out);

    /* Names too long for any environment are undefined, not truncated. */
    char longref[600];
    memset(longref, 'A', sizeof longref);
    memcpy(longref, "${", 2);
    memcpy(longref + sizeof longref - 5, ":-d}", 4);
    longref[sizeof longref - 1] = '\0';
    expect(longref, "d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_references),      cmocka_unit_test(test_undefined_and_defaults),
        cmocka_unit_test(test_no_recursion),    cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_not_references),  cmocka_unit_test(test_invalid_references),
        cmocka_unit_test(test_lengths_and_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
