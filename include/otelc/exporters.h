/*
 * otelc/exporters.h - network exporters: OTLP over HTTP (protobuf or JSON)
 * and over gRPC. Available when libotelc was built with libcurl; otherwise
 * the constructor logs an error and returns NULL.
 */
#ifndef OTELC_EXPORTERS_H
#define OTELC_EXPORTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "sdk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum otelc_otlp_protocol {
    OTELC_OTLP_HTTP_PROTOBUF = 0, /* "http/protobuf", the default */
    OTELC_OTLP_HTTP_JSON = 1,     /* "http/json" */
    OTELC_OTLP_GRPC = 2,          /* "grpc" (HTTP/2) */
} otelc_otlp_protocol;

/*
 * OTLP exporter settings. Zero-initialise, then set what you need: a zero
 * or NULL field takes the default given in its comment. Strings are copied.
 */
typedef struct otelc_otlp_exporter_options {
    /*
     * The URL spans are sent to, used exactly as given (nothing appended
     * for HTTP; gRPC appends the service path). NULL: http://localhost:4318/v1/traces
     * for HTTP, http://localhost:4317 for gRPC. For gRPC an endpoint without
     * a scheme gets https://, or http:// when insecure is set.
     */
    const char *endpoint;
    otelc_otlp_protocol protocol;
    /* Extra request headers, "k1=v1,k2=v2" with percent-encoded values. */
    const char *headers;
    uint32_t timeout_ms;            /* whole export of one batch, retries included; 10000 */
    bool gzip;                      /* compress request bodies */
    const char *certificate;        /* PEM file of trusted CAs (NULL: system store) */
    const char *client_key;         /* PEM private key for mTLS */
    const char *client_certificate; /* PEM certificate for mTLS */
    bool insecure;                  /* gRPC: plaintext for an endpoint without scheme */
    /*
     * Retry and circuit-breaker tuning. max_retry_ms bounds the time spent
     * retrying one batch (default: timeout_ms; the export timeout always
     * wins). max_attempts counts the first try (default 5; 1 disables
     * retries). Backoff starts at retry_initial_ms (1000) and doubles up to
     * retry_max_ms (5000), with jitter. After breaker_threshold (5)
     * consecutive failed exports the exporter stops sending for
     * breaker_cooldown_ms (5000, doubling per failed probe up to 300000).
     */
    uint32_t max_retry_ms;
    uint32_t max_attempts;
    uint32_t retry_initial_ms;
    uint32_t retry_max_ms;
    uint32_t breaker_threshold;
    uint32_t breaker_cooldown_ms;
    /*
     * Receives every batch that could not be delivered (retries exhausted,
     * rejected, or circuit open). Taken by otelc_otlp_exporter_new() even on
     * failure; freed with the OTLP exporter. NULL: such batches are dropped
     * and counted.
     */
    otelc_exporter *fallback;
} otelc_otlp_exporter_options;

/*
 * Create an OTLP exporter from o, or from the OTEL_EXPORTER_OTLP_* and
 * OTEL_EXPORTER_OTLP_TRACES_* environment variables when o is NULL (the
 * per-signal ones win; invalid values are reported once and ignored). Give it
 * to otelc_batch_processor_new(): exports block the calling thread for up to
 * the timeout while the exporter retries. Returns NULL on invalid options,
 * out of memory, or in a build without libcurl, after logging why.
 * Loading libcurl (or libnghttp2 for gRPC) and opening the connection's
 * handle are left to the exporting thread: the batch processor's worker
 * does it as it starts, so this call does no I/O. A libcurl missing at run
 * time or an endpoint it rejects is logged then, once, and every export
 * fails (counted) from there on.
 */
otelc_exporter *otelc_otlp_exporter_new(const otelc_otlp_exporter_options *o);

/* ---- Zipkin and file exporters ---------------------------------------- */

/*
 * Zipkin exporter: spans as Zipkin v2 JSON, POSTed to endpoint (NULL:
 * OTEL_EXPORTER_ZIPKIN_ENDPOINT, else http://localhost:9411/api/v2/spans),
 * mapped as the OpenTelemetry specification's Zipkin transformation says.
 * timeout_ms bounds the export of one batch, retries included (0:
 * OTEL_EXPORTER_ZIPKIN_TIMEOUT, else 10000); transient failures (429, 502,
 * 503, 504, connection errors) are retried with the OTLP exporter's backoff,
 * honouring Retry-After. Give it to otelc_batch_processor_new(). Returns
 * NULL on a non-http(s) endpoint, out of memory, or without libcurl, after
 * logging why.
 */
otelc_exporter *otelc_zipkin_exporter_new(const char *endpoint, uint32_t timeout_ms);

/*
 * File exporter: appends one OTLP/JSON ExportTraceServiceRequest per export
 * as a line to path (NULL: "otelc-traces.jsonl"), in a single write(), so
 * line-oriented readers such as tail -f never get part of a request. When
 * max_bytes is not 0, a file that would grow past it is rotated first:
 * path becomes path.1, older files shift up to path.<keep>, the oldest is
 * dropped (keep 0: no history is kept). A file moved or removed by another
 * program is reopened at path. I/O errors are logged and counted; the
 * failed export reports failure and the next one tries again. Available in
 * every build.
 */
otelc_exporter *otelc_file_exporter_new(const char *path, uint64_t max_bytes, unsigned keep);

#ifdef __cplusplus
}
#endif
#endif
