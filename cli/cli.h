/*
 * cli.h - the otelc command: subcommands and the helpers they share.
 *
 * Each subcommand lives in its own file (exec.c, span.c, run.c, junit.c,
 * bench.c; launch.c for those that are programs of their own: serve, view,
 * traces) and exposes one entry point taking the arguments after the
 * subcommand name (argv[0] is the subcommand). They return the process exit
 * status. common.c holds what they share: starting and stopping the SDK
 * with settings suited to a short-lived CLI, errors, and exit codes.
 */
#ifndef OTELC_CLI_H
#define OTELC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "otelc/otelc.h"

/* Exit statuses of otelc itself (exec passes its child's status through). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1, /* the traced work failed: a pipeline step, a test report with failures */
    CLI_EXIT_USAGE = 2,   /* unknown flag, missing argument */
    CLI_EXIT_INPUT = 3,   /* unreadable or malformed input file (XML, YAML, JSON) */
    CLI_EXIT_UNAVAILABLE = 69, /* a server otelc needs is unreachable (EX_UNAVAILABLE) */
    CLI_EXIT_INTERNAL = 70,
};

int cli_exec(int argc, char **argv);
int cli_span(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_junit(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_serve(int argc, char **argv);  /* otelc: launch.c, otelc-serve: serve.c */
int cli_viewer(int argc, char **argv); /* view, traces (launch.c): exec otelc-view CMD ARGS */

/*
 * DIR/program in out (size bytes), where DIR holds this otelc executable
 * (launch.c). false when that cannot be told or out is too small.
 */
bool cli_sibling_path(const char *program, char *out, size_t size);

/*
 * `otelc exec --instrument` (instrument.c): set LD_PRELOAD (libotelc-auto
 * added after any library already there) and OTELC_INSTRUMENT (libs, a
 * comma-separated list; "" for all) in env, the child's environment. cmd
 * is the command: a statically linked or setuid one is reported on stderr,
 * as it will run untraced. false, after saying why on stderr, when the
 * library is not installed or memory ran out: env is then unchanged.
 */
bool cli_instrument_env(otelc_carrier *env, const char *libs, const char *cmd);

/*
 * Start the SDK for one CLI invocation: configuration from the OTEL_*
 * environment as usual, but a short export timeout suited to a command line
 * (OTELC_CLI_EXPORT_TIMEOUT, default 2000 ms) so an unreachable backend
 * never delays the command by more than that. service (may be NULL)
 * overrides service.name. With no exporter configured nothing is exported
 * and nothing is printed. Returns 0 or an otelc error (already reported).
 */
int cli_sdk_start(const char *service);

/* The CLI's tracer ("otelc", OTELC_VERSION). Never NULL. */
otelc_tracer *cli_tracer(void);

/* Flush and shut the SDK down, bounded by the export timeout. */
void cli_sdk_finish(void);

/* Print "otelc: <message>" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report a command-line mistake of subcommand cmd the one way every
 * subcommand does: "otelc: CMD: WHAT \"ARG\"; see 'otelc CMD --help'" (the
 * quoted part left out when arg is NULL). Returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const char *cmd, const char *what, const char *arg);

/*
 * The value of --output: "json" sets *json, "text" clears it. Anything else
 * is a usage error of cmd. Returns 0 or CLI_EXIT_USAGE.
 */
int cli_output_format(const char *cmd, const char *value, bool *json);

/* ---- Additions for exec and span (common.c) ------------------------------ */

/*
 * True when cli_sdk_start() configured at least one exporter: spans go
 * somewhere. exec leaves its child's environment untouched otherwise.
 */
bool cli_sdk_active(void);

/* The export timeout in effect (OTELC_CLI_EXPORT_TIMEOUT), in milliseconds. */
uint32_t cli_export_timeout_ms(void);

/* "internal", "server", "client", "producer" or "consumer" (any case). */
bool cli_parse_kind(const char *s, otelc_span_kind *out);

/* A duration such as 500ms, 30s, 5m, 2h (no unit: seconds) in milliseconds. */
bool cli_parse_duration(const char *s, uint64_t *ms);

/*
 * Split "key=value" at the first '='. false (after cli_error) when the key
 * is empty or there is no '='. *key is malloc'd; *value points into kv.
 */
bool cli_split_attr(const char *kv, char **key, const char **value);

/*
 * The value of "--name V" or "--name=V" at argv[*i] (advancing *i past V),
 * or NULL when argv[*i] is another option; *missing is set when the value
 * is absent at the end of argv.
 */
const char *cli_option_value(int argc, char **argv, int *i, const char *name, bool *missing);

/* Unix time now in nanoseconds. */
uint64_t cli_now_ns(void);

/*
 * Remember otelc's own command line (main calls it first). cli_sdk_start()
 * records it, redacted, as the resource's process.command_args: the raw
 * one holds the wrapped command's secrets.
 */
void cli_set_command_line(int argc, char **argv);

#endif
