/*
 * api.h - the query API of `otelc view` (API.md): every request under
 * /api/ (but POST /api/v2/spans, the Zipkin receiver) and /metrics.
 *
 * server.c hands each such request to vw_api_handle() on the request's
 * connection thread, after the gate and the token check; the handler only
 * reads (its own connections to the store) and answers.
 */
#ifndef OTELC_VIEWER_API_H
#define OTELC_VIEWER_API_H

#include "http.h"
#include "ingest.h"

typedef struct vw_api vw_api;

/* What the API reports about the running viewer (GET /api/status). */
typedef struct vw_api_config {
    const char *otlp_http; /* "http://127.0.0.1:4318", or NULL when that receiver is off */
    const char *otlp_grpc; /* "127.0.0.1:4317", or NULL when off */
    const char *version;   /* otelc's version */
} vw_api_config;

/*
 * An API reading the store at db_path (the file the ingest thread writes)
 * and ingest's counters; cfg's strings are copied. NULL when out of memory
 * or when the store cannot be opened for reading (reported on stderr).
 */
vw_api *vw_api_new(const char *db_path, vw_ingest *ingest, const vw_api_config *cfg);

/* Free the API once no request can reach it any more. NULL is ignored. */
void vw_api_free(vw_api *api);

/*
 * Answer one request (any thread; requests run concurrently): rs comes
 * zeroed, the handler fills it (status, body or stream, headers).
 */
void vw_api_handle(vw_api *api, const vw_request *rq, vw_response *rs);

#endif
