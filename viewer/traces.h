/*
 * traces.h - `otelc traces`: query a running viewer (--url) or a store
 * file (--db) from scripts and test pipelines.
 *
 *   otelc traces list   [QUERY] [--limit N] [--since D | --start S --end S] [--json]
 *   otelc traces get    TRACE_ID [--json]
 *   otelc traces wait   QUERY [--count N] [--timeout D]
 *   otelc traces assert QUERY [--complete] [--no-errors] [--min-spans N] [--count N]
 *                             [--junit FILE]
 *   otelc traces export [QUERY] --output FILE [--format otlp-json|otlp-proto]
 *
 * docs/traces.md is the user's reference; `otelc traces --help` the summary.
 */
#ifndef OTELC_VIEWER_TRACES_H
#define OTELC_VIEWER_TRACES_H

/*
 * Run `otelc traces`: argv[0] is "traces", argv[1] the subcommand. Writes
 * results to stdout and messages to stderr; returns the exit status:
 * 0 when everything asked for holds, 1 when an assertion fails, a wait
 * times out or a trace is not found, 2 for a usage error (a bad option,
 * TraceQL query or trace id), 3 when the store file cannot be read or the
 * output file written, 69 when the viewer cannot be reached, 70 for an
 * internal error (out of memory).
 */
int vw_traces_main(int argc, char **argv);

#endif
