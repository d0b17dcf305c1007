/*
 * config_file.h - the declarative configuration file (OTEL_CONFIG_FILE).
 *
 * substitute.c expands ${VAR} references in scalar values; yaml.c parses
 * the YAML file, validates it against the subset of the OpenTelemetry
 * configuration schema that otelc supports and builds provider options.
 * Nothing here is public API.
 */
#ifndef OTELC_CONFIG_FILE_H
#define OTELC_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* ---- Environment variable substitution (substitute.c) ------------------- */

/* The value of environment variable name, or NULL when it is not defined. */
typedef const char *(*otelc_subst_lookup)(const char *name, void *user);

/*
 * Expand the references in in[0..len) as the configuration data model
 * specifies: ${NAME} and ${env:NAME} become the variable's value (empty when
 * undefined), ${NAME:-default} falls back to default when the variable is
 * undefined or empty, and $$ is a literal $ that never starts a reference.
 * Substituted values are not expanded again. On success returns OTELC_OK
 * and a malloc'd, NUL-terminated *out of *out_len bytes (in may hold NULs).
 * A ${...} that is not a valid reference returns OTELC_ERR_PARSE with a
 * message in err; out of memory returns OTELC_ERR_NOMEM.
 */
int otelc__substitute(const char *in, size_t len, otelc_subst_lookup lookup, void *user, char **out,
                      size_t *out_len, char *err, size_t err_size);

/* ---- The configuration file (yaml.c) ------------------------------------- */

/*
 * What a configuration file produced. options points into this struct
 * (limits, processors) and owns the objects it holds until they are given
 * to otelc_provider_new(). errors and warnings are NULL or lines of the form
 * "file:line: key.path: message\n".
 */
typedef struct otelc_file_config {
    otelc_provider_options options;
    otelc_span_limits limits;
    otelc_processor *processors[OTELC_MAX_PROCESSORS];
    bool disabled;      /* disabled: true - the provider is a no-op */
    bool has_log_level; /* log_level was given */
    otelc_log_level log_level;
    char *errors;
    char *warnings;
    int error_count;
    int warning_count;
} otelc_file_config;

/* OTEL_CONFIG_FILE, or NULL when unset or empty. */
const char *otelc__config_file_path(void);

/*
 * Parse the YAML text (name is used in messages), validate it and, when it
 * is valid and does not disable the SDK, create the sampler, propagator,
 * resource and (unless flags has OTELC_CONFIG_CHECK_ONLY) the processors it
 * describes. lookup resolves ${...} references (NULL: all undefined).
 * Returns OTELC_OK; OTELC_ERR_CONFIG with every problem, running out of
 * memory included, in out->errors (sorted by line, at most 32 kept) and no
 * object left in out->options; or OTELC_ERR_UNSUPPORTED in a build without
 * libyaml. Free out with otelc__config_file_free() in every case.
 */
int otelc__config_file_parse(const char *name, const char *text, size_t len,
                             otelc_subst_lookup lookup, void *user, unsigned flags,
                             otelc_file_config *out);

/* flags: check the file and create no exporter or processor (fuzzing, tools). */
#define OTELC_CONFIG_CHECK_ONLY 1u

/* As otelc__config_file_parse() on the contents of the file at path. */
int otelc__config_file_load(const char *path, otelc_subst_lookup lookup, void *user, unsigned flags,
                            otelc_file_config *out);

/* Free what out still owns: messages and objects not handed over. */
void otelc__config_file_free(otelc_file_config *c);

/*
 * For otelc_provider_new(): load OTEL_CONFIG_FILE (references resolved from
 * the process environment), log every error and warning, then let each
 * non-NULL field of user win over the file's (the file's object is freed).
 * On OTELC_OK fc->options is ready for the provider, fc holds no messages,
 * and user's objects belong to fc->options. Every field of fc->options is
 * set; no_env is false only so that TRACEPARENT is still followed, and the
 * provider must not read OTEL_SDK_DISABLED or other variables for it. On
 * failure nothing was created and user's objects are untouched (the caller
 * frees them).
 */
int otelc__config_file_use(const otelc_provider_options *user, otelc_file_config *fc);

#endif
