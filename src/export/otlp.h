/*
 * otlp.h - internal interfaces of the network exporters: the byte buffer,
 * the OTLP encoders and response parsers, and the HTTP transport shared by
 * OTLP/HTTP, OTLP/gRPC and Zipkin.
 */
#ifndef OTELC_EXPORT_OTLP_H
#define OTELC_EXPORT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- Growable byte buffer (src/export/buf.c) ------------------------------- */

/*
 * A byte buffer reused across exports: reset keeps the memory. A failed
 * allocation sets failed and turns later appends into no-ops, so encoders
 * check once at the end instead of after every write.
 */
typedef struct otelc_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} otelc_buf;

bool otelc__buf_reserve(otelc_buf *b, size_t extra);
void otelc__buf_append(otelc_buf *b, const void *p, size_t n);
void otelc__buf_puts(otelc_buf *b, const char *s);
void otelc__buf_printf(otelc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void otelc__buf_hex(otelc_buf *b, const uint8_t *p, size_t n);
/* A JSON string literal with quotes; invalid UTF-8 becomes U+FFFD. */
void otelc__buf_json_str(otelc_buf *b, const char *s, size_t n);
void otelc__buf_reset(otelc_buf *b);
void otelc__buf_free(otelc_buf *b);

/* ---- OTLP encoders (src/export/otlp_proto.c, otlp_json.c) ---------------------- */

/*
 * Append one ExportTraceServiceRequest holding spans, grouped by resource
 * and then by instrumentation scope, to out. Returns OTELC_OK or
 * OTELC_ERR_NOMEM.
 */
int otelc__otlp_encode_proto(otelc_buf *out, const otelc_span_data *const *spans, size_t n);
int otelc__otlp_encode_json(otelc_buf *out, const otelc_span_data *const *spans, size_t n);

/* What an ExportTraceServiceResponse said. */
typedef struct otelc_otlp_response {
    int64_t rejected_spans;
    char error_message[256];
} otelc_otlp_response;

/* Parse a response body; OTELC_ERR_PARSE on malformed input. Empty is success. */
int otelc__otlp_parse_response_proto(const void *p, size_t n, otelc_otlp_response *out);
int otelc__otlp_parse_response_json(const char *p, size_t n, otelc_otlp_response *out);

#endif
