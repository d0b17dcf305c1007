/*
 * zipkin.h - internal interfaces of the Zipkin and file exporters: the
 * Zipkin v2 JSON encoder, what the exporters have done (for tests and
 * diagnostics), and the configuration readers of src/config/ that feed them.
 */
#ifndef OTELC_EXPORT_ZIPKIN_H
#define OTELC_EXPORT_ZIPKIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/otlp.h"

/* ---- Zipkin (src/export/zipkin.c, src/config/zipkin_env.c) ---- */

#define OTELC_ZIPKIN_DEFAULT_ENDPOINT   "http://localhost:9411/api/v2/spans"
#define OTELC_ZIPKIN_DEFAULT_TIMEOUT_MS 10000

/*
 * Append a Zipkin v2 JSON list holding spans to out. default_service names
 * the local endpoint of spans whose resource has no service.name (the
 * default resource's value). Returns OTELC_OK or OTELC_ERR_NOMEM.
 */
int otelc__zipkin_encode(otelc_buf *out, const otelc_span_data *const *spans, size_t n,
                         const char *default_service);

/* OTEL_EXPORTER_ZIPKIN_ENDPOINT (NULL when unset) and _TIMEOUT (0 when unset). */
const char *otelc__zipkin_endpoint_from_env(void);
uint32_t otelc__zipkin_timeout_from_env(void);

typedef struct otelc_zipkin_stats {
    uint64_t requests;       /* network attempts */
    uint64_t retries;        /* attempts after the first of a batch */
    uint64_t exports_ok;     /* batches the server accepted */
    uint64_t exports_failed; /* batches given up on */
} otelc_zipkin_stats;

/* False when e is not a Zipkin exporter. */
bool otelc__zipkin_exporter_stats(const otelc_exporter *e, otelc_zipkin_stats *out);

/* ---- File (src/export/file.c, src/config/file_env.c) ---- */

#define OTELC_FILE_DEFAULT_PATH "otelc-traces.jsonl"

/* OTELC_FILE_PATH, _MAX_BYTES and _KEEP; path points at the environment. */
typedef struct otelc_file_env {
    const char *path;
    uint64_t max_bytes;
    unsigned keep;
} otelc_file_env;

void otelc__file_options_from_env(otelc_file_env *out);

typedef struct otelc_file_stats {
    uint64_t lines;      /* export requests written */
    uint64_t rotations;  /* size rotations done */
    uint64_t reopens;    /* reopens after the file was moved or removed */
    uint64_t errors;     /* failed opens, writes and renames */
    uint64_t spans_lost; /* spans in exports that could not be written */
} otelc_file_stats;

/* False when e is not a file exporter. */
bool otelc__file_exporter_stats(const otelc_exporter *e, otelc_file_stats *out);

#endif
