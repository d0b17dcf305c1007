/*
 * spanmetrics.h - request, error and duration metrics of the spans the
 * viewer stored, for GET /metrics, named and labelled as the
 * OpenTelemetry Collector's spanmetrics connector makes them with its
 * defaults (connector/spanmetricsconnector in opentelemetry-collector-
 * contrib) and as the Collector's Prometheus exporter writes them:
 *
 *   traces_span_metrics_calls_total{service_name, span_name, span_kind,
 *       status_code}                  counter: spans
 *   traces_span_metrics_duration_milliseconds_bucket{..., le}, _sum, _count
 *                                     histogram of end - start in ms, the
 *                                     connector's default buckets 2, 4, 6,
 *                                     8, 10, 50, 100, 200, 400, 800, 1000,
 *                                     1400, 2000, 5000, 10000, 15000 ms
 *
 * span_kind is SPAN_KIND_UNSPECIFIED ... SPAN_KIND_CONSUMER, status_code
 * STATUS_CODE_UNSET, _OK or _ERROR. As the connector does, a span whose
 * resource has no service.name is not counted, counts are cumulative
 * since the viewer started (they are fed from commits, so retention
 * trimming the store takes nothing away), and the number of series is
 * bounded: spans of a new combination once the limit is reached go to
 * one overflow series labelled otel_metric_overflow="true" (the
 * OpenTelemetry metrics SDK's overflow attribute, which the connector
 * uses). Label values are cut to VW_SPANMETRICS_MAX_LABEL bytes (whole
 * UTF-8 characters) so that a series costs bounded memory.
 *
 * Thread-safe: commits add from the ingest thread while requests write.
 */
#ifndef OTELC_VIEWER_SPANMETRICS_H
#define OTELC_VIEWER_SPANMETRICS_H

#include <stddef.h>

#include "batch.h"
#include "export/otlp.h"

#define VW_SPANMETRICS_DEFAULT_LIMIT 2000
#define VW_SPANMETRICS_MAX_LABEL     1024

typedef struct vw_spanmetrics vw_spanmetrics;

/* Empty metrics holding at most max_series series besides the overflow one (0: the default). */
vw_spanmetrics *vw_spanmetrics_new(size_t max_series);

/* NULL is ignored. */
void vw_spanmetrics_free(vw_spanmetrics *m);

/* Count every span of n batches. */
void vw_spanmetrics_add(vw_spanmetrics *m, const vw_batch *const *batches, size_t n);

/*
 * Append the Prometheus text exposition (format 0.0.4) of everything
 * counted to out, series sorted by their labels. Returns 0, or -1 when
 * out ran out of memory.
 */
int vw_spanmetrics_write(vw_spanmetrics *m, otelc_buf *out);

#endif
