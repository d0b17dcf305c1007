/*
 * pipeline.h - pipeline files for `otelc run`: reading and validating.
 *
 * A pipeline file (YAML, or JSON) names the pipeline and lists its steps:
 *
 *   name: build-and-test
 *   steps:
 *     - name: compile
 *       command: make -j2            # run with /bin/sh -c; or a list: [make, -j2]
 *       type: build                  # cicd.pipeline.task.type (build, test, deploy)
 *       env: {CFLAGS: -O2}
 *       working_directory: src
 *       timeout: 5m                  # 500ms, 30s, 5m, 1h, 1h30m; a bare number is seconds
 *       outputs: [src/app]
 *     - name: test
 *       command: [./app, --self-test]
 *       depends_on: [compile]
 *       allow_failure: true
 *
 * Everything is checked before anything runs: unknown keys, wrong types,
 * duplicate step names, unknown or cyclic dependencies and bad durations
 * are reported as "FILE:LINE:COLUMN: where: what".
 */
#ifndef OTELC_CLI_PIPELINE_H
#define OTELC_CLI_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIPELINE_MAX_STEPS 1000
#define PIPELINE_MAX_SIZE  ((size_t)4 << 20) /* bytes of pipeline file */

typedef struct pipeline_step {
    char *name;
    char *shell; /* the command as a string for /bin/sh -c, or NULL */
    char **argv; /* the command as a list (NULL-terminated), or NULL */
    size_t argc;
    char **env; /* "NAME=value" strings added to the inherited environment */
    size_t env_count;
    char *working_directory; /* NULL: otelc's own */
    size_t *deps;            /* indexes into pipeline.steps, without repeats */
    size_t dep_count;
    bool allow_failure;
    uint64_t timeout_ms; /* 0: no timeout */
    char *type;          /* cicd.pipeline.task.type, or NULL when not declared */
    char **outputs;      /* paths relative to the step's working directory */
    size_t output_count;
    unsigned line; /* where the step is declared, for messages */
} pipeline_step;

typedef struct pipeline {
    char *name; /* the file's base name without extension when not declared */
    pipeline_step *steps;
    size_t count;
} pipeline;

typedef enum pipeline_format {
    PIPELINE_AUTO, /* by extension: .json is JSON, .yaml/.yml YAML; else by the first byte */
    PIPELINE_JSON,
    PIPELINE_YAML,
} pipeline_format;

/*
 * Parse and validate a pipeline from text[0..len); file names the source in
 * messages (and gives the default pipeline name). Returns 0 with *out set
 * (free with pipeline_free()), or -1 with a message in err.
 */
int pipeline_parse(const char *text, size_t len, const char *file, pipeline_format format,
                   pipeline **out, char *err, size_t err_size);

/* Read the file at path and pipeline_parse() it. */
int pipeline_load(const char *path, pipeline **out, char *err, size_t err_size);

/* Free a pipeline. NULL is ignored. */
void pipeline_free(pipeline *p);

/*
 * Parse a duration: a sequence of <integer><unit> with units ms, s, m and h
 * ("1m30s"), or a bare integer meaning seconds. Returns 0 and *ms (> 0),
 * or -1 for anything else, zero or more than 30 days.
 */
int pipeline_parse_duration(const char *text, uint64_t *ms);

#endif
