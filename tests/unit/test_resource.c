/*
 * test_resource.c - resources: copies, merge, OTEL_RESOURCE_ATTRIBUTES
 * parsing and the default (detected + environment) resource.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "unit/anyvalue.h"

static int warnings;

static void count_warnings(otelc_log_level level, const char *message, void *user)
{
    (void)message;
    (void)user;
    if (level == OTELC_LOG_WARN) warnings++;
}

static int setup(void **state)
{
    (void)state;
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    unsetenv("OTEL_SERVICE_NAME");
    warnings = 0;
    otelc_log_set_level(OTELC_LOG_WARN);
    otelc_log_set_handler(count_warnings, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otelc_log_set_handler(NULL, NULL);
    return 0;
}

static const char *str(const otelc_resource *r, const char *key)
{
    const otelc_value *v = otelc_resource_get(r, key);
    if (!v || v->type != OTELC_VALUE_STRING) return NULL;
    assert_int_equal(strlen(v->u.str.ptr), v->u.str.len); /* NUL-terminated, exact length */
    return v->u.str.ptr;
}

/* ---- Construction and merge --------------------------------------------------- */

static void test_new_copies(void **state)
{
    (void)state;
    char key[] = "service.name", value[] = "checkout";
    const char *tags[] = {"a", "bb"};
    int64_t nums[] = {1, 2, 3};
    otelc_attr attrs[] = {
        OTELC_ATTR_STR(key, value),
        OTELC_ATTR_INT("answer", 42),
        OTELC_ATTR_BOOL("ok", true),
        OTELC_ATTR_DOUBLE("pi", 3.5),
        {"tags", {.type = OTELC_VALUE_STRING_ARRAY, .u.array = {tags, 2}}},
        {"nums", {.type = OTELC_VALUE_INT_ARRAY, .u.array = {nums, 3}}},
        OTELC_ATTR_STR("", "ignored: empty key"),
        OTELC_ATTR_STR(NULL, "ignored: no key"),
        OTELC_ATTR_STR("answer2", "x"),
        OTELC_ATTR_INT("answer", 43), /* a repeated key: the later value wins */
    };
    otelc_resource *r = otelc_resource_new(attrs, sizeof attrs / sizeof *attrs, "https://s/1");
    assert_non_null(r);
    value[0] = 'X';
    key[0] = 'X';
    tags[0] = "changed";
    nums[0] = 99;

    size_t n;
    otelc_resource_attrs(r, &n);
    assert_int_equal(n, 7);
    assert_string_equal(str(r, "service.name"), "checkout");
    assert_int_equal(otelc_resource_get(r, "answer")->u.i, 43);
    assert_true(otelc_resource_get(r, "ok")->u.b);
    assert_true(otelc_resource_get(r, "pi")->u.d == 3.5);
    const otelc_value *t = otelc_resource_get(r, "tags");
    assert_int_equal(t->u.array.count, 2);
    assert_string_equal(((const char *const *)t->u.array.items)[0], "a");
    assert_string_equal(((const char *const *)t->u.array.items)[1], "bb");
    assert_int_equal(((const int64_t *)otelc_resource_get(r, "nums")->u.array.items)[0], 1);
    assert_null(otelc_resource_get(r, ""));
    assert_null(otelc_resource_get(r, "missing"));
    otelc_resource_free(r);

    otelc_resource *empty = otelc_resource_new(NULL, 0, NULL);
    otelc_resource_attrs(empty, &n);
    assert_int_equal(n, 0);
    otelc_resource_free(empty);
    otelc_resource_free(NULL);
}

static void test_merge(void **state)
{
    (void)state;
    otelc_attr a[] = {OTELC_ATTR_STR("service.name", "a"), OTELC_ATTR_STR("only.a", "1")};
    otelc_attr b[] = {OTELC_ATTR_STR("service.name", "b"), OTELC_ATTR_STR("only.b", "2")};
    otelc_resource *ra = otelc_resource_new(a, 2, "https://schema/1");
    otelc_resource *rb = otelc_resource_new(b, 2, NULL);
    otelc_resource *m = otelc_resource_merge(ra, rb);
    assert_string_equal(str(m, "service.name"), "b");
    assert_string_equal(str(m, "only.a"), "1");
    assert_string_equal(str(m, "only.b"), "2");
    /* Neither input is consumed or changed. */
    assert_string_equal(str(ra, "service.name"), "a");
    assert_null(otelc_resource_get(ra, "only.b"));

    otelc_resource *m2 = otelc_resource_merge(NULL, ra);
    assert_string_equal(str(m2, "only.a"), "1");
    otelc_resource *m3 = otelc_resource_merge(rb, NULL);
    assert_string_equal(str(m3, "service.name"), "b");

    otelc_resource *rc = otelc_resource_new(b, 1, "https://schema/2");
    otelc_resource *conflict = otelc_resource_merge(ra, rc);
    assert_non_null(conflict);
    assert_string_equal(str(conflict, "service.name"), "b");
    assert_int_equal(warnings, 1);

    otelc_resource *list[] = {ra, rb, m, m2, m3, rc, conflict};
    for (size_t i = 0; i < sizeof list / sizeof *list; i++) otelc_resource_free(list[i]);
}

/* ---- OTEL_RESOURCE_ATTRIBUTES syntax -------------------------------------------------- */

/*
 * Resources hold every AnyValue kind (a received span's resource may carry
 * any of them), deep-copied, through new and merge; unknown types are left
 * out, as empty keys are.
 */
static void test_anyvalue_kinds(void **state)
{
    (void)state;
    otelc_attr attrs[AV_LEN(AV_ATTRS) + 1];
    memcpy(attrs, AV_ATTRS, sizeof(AV_ATTRS));
    attrs[AV_LEN(AV_ATTRS)] = (otelc_attr){"odd", {.type = (otelc_value_type)42}};
    otelc_resource *r = otelc_resource_new(attrs, AV_LEN(attrs), NULL);
    otelc_attr update[] = {{"av.empty", AV_STR("now a string")}};
    otelc_resource *u = otelc_resource_new(update, 1, NULL);
    otelc_resource *m = otelc_resource_merge(r, u);
    assert_non_null(r);
    assert_non_null(m);
    size_t n = 0;
    otelc_resource_attrs(r, &n);
    assert_int_equal(n, AV_LEN(AV_ATTRS));
    assert_null(otelc_resource_get(r, "odd"));
    for (size_t i = 0; i < AV_LEN(AV_ATTRS); i++) {
        const otelc_value *v = otelc_resource_get(r, AV_ATTRS[i].key);
        assert_non_null(v);
        assert_true(av_equal(v, &AV_ATTRS[i].value));
        if (AV_ATTRS[i].value.u.array.items) /* a copy, not the caller's memory */
            assert_ptr_not_equal(v->u.array.items, AV_ATTRS[i].value.u.array.items);
        if (i != 1) assert_true(av_equal(otelc_resource_get(m, AV_ATTRS[i].key), v));
    }
    assert_string_equal(str(m, "av.empty"), "now a string");
    otelc_resource_free(r);
    otelc_resource_free(u);
    otelc_resource_free(m);
}

static void test_parse_kv(void **state)
{
    (void)state;
    int bad = -1;
    otelc_resource *r = otelc__resource_parse_kv(
        " service.name = shop ,deployment.environment.name=prod,note=a%20b%2Cc%3Dd%25,"
        "k%2Ey=v,empty=,caf%C3%A9=%E2%9C%93,",
        &bad);
    assert_non_null(r);
    assert_int_equal(bad, 0);
    assert_string_equal(str(r, "service.name"), "shop");
    assert_string_equal(str(r, "deployment.environment.name"), "prod");
    assert_string_equal(str(r, "note"), "a b,c=d%");
    assert_string_equal(str(r, "k.y"), "v");
    assert_string_equal(str(r, "empty"), "");
    assert_string_equal(str(r, "caf\xc3\xa9"), "\xe2\x9c\x93");
    otelc_resource_free(r);

    r = otelc__resource_parse_kv("", &bad);
    assert_int_equal(bad, 0);
    otelc_resource_free(r);
}

static void test_parse_kv_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int bad;
    } cases[] = {
        {"a=1,b", 1},   {"=v", 1},          {" =v,a=1", 1},        {"a=%zz", 1},    {"a=%4", 1},
        {"a=%", 1},     {"a=%ff", 1},       {"a=%c3%28", 1},       {"a=%00b", 1},   {"%00=b", 1},
        {"x,y,z=1", 2}, {"a=%ed%a0%80", 1}, {"a=%f4%90%80%80", 1}, {"a=%c0%af", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int bad = -1;
        otelc_resource *r = otelc__resource_parse_kv(cases[i].text, &bad);
        assert_non_null(r);
        if (bad != cases[i].bad) fail_msg("\"%s\": bad=%d", cases[i].text, bad);
        otelc_resource_free(r);
    }
}

/* ---- The default resource ----------------------------------------------------------------- */

static void test_default_detected(void **state)
{
    (void)state;
    otelc_resource *r = otelc_resource_default(false);
    assert_non_null(r);
    assert_string_equal(str(r, "telemetry.sdk.name"), "opentelemetry");
    assert_string_equal(str(r, "telemetry.sdk.language"), "c");
    assert_string_equal(str(r, "telemetry.sdk.version"), OTELC_VERSION);
    assert_string_equal(str(r, "service.name"), "unknown_service:test_resource");
    assert_string_equal(str(r, "process.executable.name"), "test_resource");
    const char *path = str(r, "process.executable.path");
    assert_non_null(path);
    assert_true(path[0] == '/');
    assert_string_equal(strrchr(path, '/'), "/test_resource");
    assert_int_equal(otelc_resource_get(r, "process.pid")->u.i, getpid());

    char host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    assert_string_equal(str(r, "host.name"), host);

    const otelc_value *args = otelc_resource_get(r, "process.command_args");
    assert_non_null(args);
    assert_int_equal(args->type, OTELC_VALUE_STRING_ARRAY);
    assert_true(args->u.array.count >= 1);
    const char *argv0 = ((const char *const *)args->u.array.items)[0];
    assert_non_null(strstr(argv0, "test_resource"));

    /* Only the environment or options supply these. */
    assert_null(otelc_resource_get(r, "service.version"));
    assert_null(otelc_resource_get(r, "deployment.environment.name"));
    otelc_resource_free(r);
}

static void test_default_env_precedence(void **state)
{
    (void)state;
    setenv("OTEL_RESOURCE_ATTRIBUTES",
           "service.name=from-attrs,service.version=1.2.3,deployment.environment.name=prod,"
           "host.name=override%2Dhost",
           1);
    otelc_resource *r = otelc_resource_default(true);
    assert_string_equal(str(r, "service.name"), "from-attrs");
    assert_string_equal(str(r, "service.version"), "1.2.3");
    assert_string_equal(str(r, "deployment.environment.name"), "prod");
    assert_string_equal(str(r, "host.name"), "override-host");
    assert_string_equal(str(r, "telemetry.sdk.name"), "opentelemetry");
    otelc_resource_free(r);

    setenv("OTEL_SERVICE_NAME", "from-service-name", 1);
    r = otelc_resource_default(true);
    assert_string_equal(str(r, "service.name"), "from-service-name");
    assert_string_equal(str(r, "service.version"), "1.2.3");
    otelc_resource_free(r);

    /* use_env false ignores both. */
    r = otelc_resource_default(false);
    assert_string_equal(str(r, "service.name"), "unknown_service:test_resource");
    otelc_resource_free(r);
    assert_int_equal(warnings, 0);
}

static void test_default_env_malformed(void **state)
{
    (void)state;
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=x,service.version=1%zz", 1);
    otelc_resource *r = otelc_resource_default(true);
    assert_non_null(r);
    /* The whole variable is discarded, not just the bad member. */
    assert_string_equal(str(r, "service.name"), "unknown_service:test_resource");
    assert_null(otelc_resource_get(r, "service.version"));
    assert_int_equal(warnings, 1);
    otelc_resource_free(r);

    setenv("OTEL_SERVICE_NAME", "still-applies", 1);
    r = otelc_resource_default(true);
    assert_string_equal(str(r, "service.name"), "still-applies");
    otelc_resource_free(r);

    setenv("OTEL_SERVICE_NAME", "", 1); /* empty is unset */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "", 1);
    r = otelc_resource_default(true);
    assert_string_equal(str(r, "service.name"), "unknown_service:test_resource");
    otelc_resource_free(r);
}

/* A fork child's spans name the child: the detected process.pid becomes its own. */
static void test_fork_child_has_its_own_pid(void **state)
{
    (void)state;
    otelc_provider *p;
    otelc_provider_options o = {.no_env = true};
    assert_int_equal(otelc_provider_new(&o, &p), OTELC_OK);
    const otelc_resource *r = otelc_provider_resource(p);
    assert_int_equal(otelc_resource_get(r, "process.pid")->u.i, getpid());
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(otelc_resource_get(r, "process.pid")->u.i == getpid() ? 0 : 1);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(otelc_resource_get(r, "process.pid")->u.i,
                     getpid()); /* the parent's unchanged */
    otelc_provider_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anyvalue_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_kv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_kv_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_detected, setup, teardown),
        cmocka_unit_test(test_fork_child_has_its_own_pid),
        cmocka_unit_test_setup_teardown(test_default_env_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_env_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
