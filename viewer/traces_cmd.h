/*
 * traces_cmd.h - what the files of `otelc traces` share: the parsed
 * command line and the helpers every subcommand uses (traces.c); assert
 * lives in traces_assert.c.
 */
#ifndef OTELC_VIEWER_TRACES_CMD_H
#define OTELC_VIEWER_TRACES_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_source.h"

typedef struct traces_opts {
    const char *sub; /* "list", "get", ... */
    const char *url, *db, *token;
    const char *arg; /* QUERY or TRACE_ID */
    vw_source_query query;
    bool json;
    bool limit_set;
    size_t count;
    bool count_set;
    uint64_t timeout_ms;
    bool complete, allow_remote_root, no_errors;
    uint32_t min_spans;
    const char *junit;
    const char *output;
    bool proto;
} traces_opts;

/*
 * Open the source the options name (--db, else --url, OTELC_VIEW_URL or
 * the default). Returns 0 and sets *out, or an exit status after printing
 * why.
 */
int traces_open(const traces_opts *o, vw_source **out);

/* Print "otelc: traces SUB: message" and return the exit status for a vw_source_status. */
int traces_source_error(const traces_opts *o, int status, const char *message);

/* "otelc traces assert". */
int traces_assert(const traces_opts *o);

#endif
