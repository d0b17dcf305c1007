/*
 * otelc/testing.h - an in-memory exporter and assertions for tests of
 * instrumented code.
 *
 * The memory exporter keeps a deep copy of every span it receives (every
 * attribute value however nested, the scope with its attributes, the
 * resource with its schema URL), so the copies outlive the SDK's span pool
 * and whoever built the span. Helpers find spans by name or
 * attribute and check the shape of traces. Helpers that "assert" return
 * true when the property holds and otherwise write a one-line explanation
 * into why (when not NULL), so they fit any test framework.
 */
#ifndef OTELC_TESTING_H
#define OTELC_TESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A store of exported spans, safe to read while other threads export. */
typedef struct otelc_memory_exporter otelc_memory_exporter;

/*
 * Create a store and an exporter feeding it. The exporter is given to a
 * processor (which then owns it); the store is owned by the caller and must
 * outlive the exporter: free it after the provider.
 */
otelc_memory_exporter *otelc_memory_exporter_new(otelc_exporter **exporter);

/*
 * The usual pipeline for a test: a provider with the default settings that
 * reads no environment (parent-based always-on sampling) and exports each
 * span as it ends (simple processor) into a new store, returned in *mem.
 * Free the provider first, then the store. NULL (and *mem NULL) when out
 * of memory.
 */
otelc_provider *otelc_testing_provider_new(otelc_memory_exporter **mem);

/* Free the store and every copied span. */
void otelc_memory_exporter_free(otelc_memory_exporter *m);

/* Number of spans held. */
size_t otelc_memory_exporter_count(otelc_memory_exporter *m);

/*
 * The i-th span received (in export order), or NULL. The pointer stays
 * valid until otelc_memory_exporter_reset() or _free().
 */
const otelc_span_data *otelc_memory_exporter_get(otelc_memory_exporter *m, size_t i);

/* Forget every span held. */
void otelc_memory_exporter_reset(otelc_memory_exporter *m);

/* Make the exporter fail (or succeed again) from now on, to test error paths. */
void otelc_memory_exporter_set_failing(otelc_memory_exporter *m, bool failing);

/*
 * Wait until at least n spans are held or timeout_ms passes. Returns true
 * when n were reached.
 */
bool otelc_memory_exporter_wait(otelc_memory_exporter *m, size_t n, uint32_t timeout_ms);

/* The first span named name, or NULL. */
const otelc_span_data *otelc_testing_find(otelc_memory_exporter *m, const char *name);

/*
 * The first span whose attribute key holds the string value (value NULL:
 * any value), or NULL.
 */
const otelc_span_data *otelc_testing_find_attr(otelc_memory_exporter *m, const char *key,
                                               const char *value);

/* How many spans are named name. */
size_t otelc_testing_count_named(otelc_memory_exporter *m, const char *name);

/* True when child's parent is parent (same trace, parent id matches). */
bool otelc_testing_is_parent(const otelc_span_data *parent, const otelc_span_data *child, char *why,
                             size_t why_size);

/*
 * True when the trace trace_id (16 bytes) is complete in the store: exactly
 * one root (a span without a parent, or whose parent is remote when
 * allow_remote_root), and every other span's parent present.
 */
bool otelc_testing_trace_complete(otelc_memory_exporter *m, const uint8_t trace_id[16],
                                  bool allow_remote_root, char *why, size_t why_size);

/* True when no span id appears in both traces a and b. */
bool otelc_testing_traces_disjoint(otelc_memory_exporter *m, const uint8_t a[16],
                                   const uint8_t b[16], char *why, size_t why_size);

/* The string value of attribute key on sd, or NULL if absent or not a string. */
const char *otelc_testing_attr_str(const otelc_span_data *sd, const char *key);

/* True and *out set when sd has integer attribute key. */
bool otelc_testing_attr_int(const otelc_span_data *sd, const char *key, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
