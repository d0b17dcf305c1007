/*
 * test_cli_pipeline.c - pipeline files for `otelc run` (cli/pipeline.c):
 * the fields of a valid pipeline, and that every kind of invalid pipeline is
 * refused with the file, line, column and key in the message. JSON only:
 * this test is built without libyaml (the integration test covers YAML).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The command's sources are not in the library: compile the one under test in. */
#include "../../cli/pipeline.c"

static pipeline *load(const char *text, char *err, size_t size)
{
    pipeline *p = NULL;
    int rc = pipeline_parse(text, strlen(text), "p.json", PIPELINE_AUTO, &p, err, size);
    assert_true(rc == 0 ? p != NULL : p == NULL);
    return p;
}

static int mismatches;

/* The pipeline must be refused with exactly this message (all cases run, then the test fails). */
static void refused(const char *text, const char *want)
{
    char err[512];
    pipeline *p = load(text, err, sizeof err);
    if (p) fail_msg("accepted: %s", text);
    if (strcmp(err, want) != 0) print_error("got  \"%s\"\nwant \"%s\"\n", err, want), mismatches++;
}

static void test_valid(void **state)
{
    (void)state;
    char err[512];
    pipeline *p = load(
        "{\"name\": \"ci\", \"steps\": [\n"
        " {\"name\": \"test\", \"command\": [\"./t\", \"\", \"-v\", 5, 1.1, true], \"depends_on\": "
        "[\"build\", "
        "\"build\"],\n"
        "  \"allow_failure\": true, \"timeout\": \"1m30s\", \"type\": \"test\"},\n"
        " {\"name\": \"build\", \"command\": \"make -j2\", \"env\": {\"CC\": \"gcc\", \"N\": 2, "
        "\"Q\": false, \"V\": 0.1},\n"
        "  \"working_directory\": \"src\", \"outputs\": [\"a.out\", \"b.out\"], \"timeout\": 5}\n"
        "]}",
        err, sizeof err);
    if (!p) fail_msg("%s", err);
    assert_string_equal(p->name, "ci");
    assert_int_equal(p->count, 2);
    const pipeline_step *t = &p->steps[0], *b = &p->steps[1];
    assert_null(t->shell);
    assert_int_equal(t->argc, 6);
    assert_string_equal(t->argv[0], "./t");
    assert_string_equal(t->argv[1], "");
    assert_string_equal(t->argv[3], "5"); /* scalars become text, in their shortest form */
    assert_string_equal(t->argv[4], "1.1");
    assert_string_equal(t->argv[5], "true");
    assert_null(t->argv[6]);
    assert_int_equal(t->dep_count, 1); /* the repeat is dropped */
    assert_int_equal(t->deps[0], 1);   /* depends_on may point forwards */
    assert_true(t->allow_failure);
    assert_int_equal(t->timeout_ms, 90000);
    assert_string_equal(t->type, "test");
    assert_int_equal(t->line, 2);
    assert_string_equal(b->shell, "make -j2");
    assert_int_equal(b->env_count, 4);
    assert_string_equal(b->env[3], "V=0.1");
    assert_string_equal(b->env[0], "CC=gcc");
    assert_string_equal(b->env[1], "N=2");
    assert_string_equal(b->env[2], "Q=false");
    assert_string_equal(b->working_directory, "src");
    assert_int_equal(b->output_count, 2);
    assert_string_equal(b->outputs[1], "b.out");
    assert_int_equal(b->timeout_ms, 5000);
    assert_false(b->allow_failure);
    assert_null(b->type);
    pipeline_free(p);

    /* Without a name the file's base name is used. */
    p = NULL;
    static const char unnamed[] = "{\"steps\":[{\"name\":\"a\",\"command\":\"true\"}]}";
    assert_int_equal(pipeline_parse(unnamed, sizeof unnamed - 1, "dir/release.v2.json",
                                    PIPELINE_JSON, &p, err, sizeof err),
                     0);
    assert_string_equal(p->name, "release.v2");
    pipeline_free(p);
}

static void test_refused(void **state)
{
    (void)state;
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\"},\n"
            "  {\"name\": \"b\", \"command\": \"x\", \"depends_on\": [\"a\", \"zz\"]}]}",
            "p.json:2:53: step \"b\": depends_on: unknown step \"zz\"");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"depends_on\": \"c\"},\n"
            "  {\"name\": \"b\", \"command\": \"x\", \"depends_on\": [\"a\"]},\n"
            "  {\"name\": \"c\", \"command\": \"x\", \"depends_on\": [\"b\"]}]}",
            "p.json:1:56: step \"a\": depends_on: dependency cycle: a -> c -> b -> a");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"depends_on\": [\"a\"]}]}",
            "p.json:1:56: step \"a\": depends_on: dependency cycle: a -> a");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\"},\n {\"name\": \"a\", \"command\": "
            "\"y\"}]}",
            "p.json:2:11: steps[1]: duplicate step name \"a\" (first declared on line 1)");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"timeout\": \"5 minutes\"}]}",
            "p.json:1:53: step \"a\": timeout: invalid duration \"5 minutes\" (use e.g. 500ms, "
            "30s, 5m, 1h30m)");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"timeout\": 0}]}",
            "p.json:1:53: step \"a\": timeout: invalid duration (use e.g. 500ms, 30s, 5m, 1h30m)");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"depends-on\": [\"b\"]}]}",
            "p.json:1:56: step \"a\": unknown key \"depends-on\"");
    refused("{\"steps\": [{\"name\": \"a\"}]}",
            "p.json:1:12: step \"a\": the \"command\" key is required");
    refused("{\"steps\": [{\"command\": \"x\"}]}",
            "p.json:1:12: steps[0]: the \"name\" key is required");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": []}]}",
            "p.json:1:37: step \"a\": command: expected a string or a non-empty list of arguments");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"env\": {\"1X\": \"v\"}}]}",
            "p.json:1:56: step \"a\": env: \"1X\" is not a valid variable name");
    refused("{\"steps\": [{\"name\": \"a\", \"command\": \"x\", \"allow_failure\": \"yes\"}]}",
            "p.json:1:59: step \"a\": allow_failure: expected true or false, found string");
    refused("{\"steps\": [{\"name\": \"a\\u0000b\", \"command\": \"x\"}]}",
            "p.json:1:21: name: the string contains a NUL character");
    refused("{\"steps\": []}", "p.json:1:11: steps: expected a non-empty list of steps");
    refused("{\"name\": \"x\"}", "p.json:1:1: the \"steps\" key is required");
    refused("[1]", "p.json:1:1: expected a map with \"name\" and \"steps\", found array");
    refused("{\"steps\": [1,]}", "p.json:1:14: invalid JSON: unexpected character ']'");
    refused("{\"steps\": [], \"steps\": []}", "p.json:1:24: pipeline: key \"steps\" given twice");
    assert_int_equal(mismatches, 0);
}

static void test_yaml_without_libyaml(void **state)
{
    (void)state;
    char err[512];
    pipeline *p = NULL;
    assert_int_equal(pipeline_parse("steps: []", 9, "ci.yaml", PIPELINE_AUTO, &p, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "ci.yaml: YAML pipelines need libyaml"));
    assert_non_null(strstr(err, "write the pipeline as JSON"));
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t ms; /* 0: invalid */
    } cases[] = {
        {"30", 30000},    {"30s", 30000},      {"500ms", 500},
        {"5m", 300000},   {"1h", 3600000},     {"1h30m", 5400000},
        {"1m30s", 90000}, {"2m500ms", 120500}, {"", 0},
        {"s", 0},         {"0s", 0},           {"-1s", 0},
        {"5 m", 0},       {"5d", 0},           {"1.5s", 0},
        {"30s5", 0},      {"721h", 0},         {"99999999999999999999s", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ms = 0;
        int rc = pipeline_parse_duration(cases[i].text, &ms);
        if (cases[i].ms ? rc != 0 || ms != cases[i].ms : rc != -1)
            fail_msg("\"%s\": rc %d ms %llu", cases[i].text, rc, (unsigned long long)ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_yaml_without_libyaml),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
