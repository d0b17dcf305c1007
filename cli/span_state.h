/*
 * span_state.h - the files `otelc span` keeps between commands
 * (span_state.c).
 *
 * A started span lives as one small text file in the state directory,
 * named <trace-id>-<span-id>.span, until `otelc span end` claims it. No
 * daemon is involved, and parallel shell jobs are safe: a file appears
 * whole (written aside, then renamed), events are appended under an
 * exclusive flock(), and the one command that claims a span unlinks the
 * file while holding that lock, so later appends see it is gone.
 */
#ifndef OTELC_CLI_SPAN_STATE_H
#define OTELC_CLI_SPAN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

typedef struct span_kv {
    char *key;
    char *value;
} span_kv;

typedef struct span_event {
    char *name;
    uint64_t time_ns;
    span_kv *attrs;
    size_t attr_count;
} span_event;

typedef struct span_state {
    char trace_hex[33];
    char span_hex[17];
    char *parent; /* otelc_context_serialize() text; NULL for a root span */
    char *name;
    int kind;
    uint64_t start_ns;
    span_kv *attrs;
    size_t attr_count;
    span_event *events;
    size_t event_count;
} span_state;

/*
 * Find or create the state directory (mode 0700), refusing one that is a
 * symlink, not ours, or writable by others. Fills dir; false after an error
 * message.
 */
bool span_dir_open(char *dir, size_t size);

/* Write a new span's file (it must not exist yet). false after an error message. */
bool span_state_create(const char *dir, const span_state *st);

/*
 * Append an event to the span's file. Returns 0, or CLI_EXIT_INPUT when no
 * started span has these ids or its file is full (after an error message).
 */
int span_state_add_event(const char *dir, const char *trace_hex, const char *span_hex,
                         const span_event *ev);

/*
 * Claim a span: read its file into *st and remove it. Returns 0, or
 * CLI_EXIT_INPUT when it does not exist (quiet: the caller decides).
 */
int span_state_claim(const char *dir, const char *trace_hex, const char *span_hex, span_state *st);

/* Free what a claimed state holds. */
void span_state_free(span_state *st);

/*
 * Every span file in dir for which want() is true, claimed, passed to
 * found(), then freed. Used for spans never ended.
 */
void span_state_sweep(const char *dir, bool (*want)(const span_state *st, void *ctx),
                      void (*found)(span_state *st, void *ctx), void *ctx);

#endif
