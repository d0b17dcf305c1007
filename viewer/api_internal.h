/*
 * api_internal.h - what the query API's files share: the API itself, its
 * pool of store connections, the response helpers and each file's
 * handlers. api.c routes requests and owns the pool; api_jaeger.c serves
 * Jaeger's endpoints, api_search.c Tempo's search, api_stats.c the service
 * map and operations table, api_live.c the live stream. Not for other
 * modules.
 */
#ifndef OTELC_VIEWER_API_INTERNAL_H
#define OTELC_VIEWER_API_INTERNAL_H

#include <pthread.h>

#include "api.h"
#include "spanmetrics.h"

#define VW_API_POOL         4           /* read connections at most */
#define VW_API_WAIT_MS      10000       /* for a connection when all are busy */
#define VW_API_MAX_BODY     (64u << 20) /* a response stops growing here */
#define VW_API_MAX_SPANS    100000      /* spans of one trace rendered */
#define VW_API_JSON         "application/json; charset=utf-8"
#define VW_NS_PER_US        1000ull
#define VW_NS_PER_MS        1000000ull
#define VW_NS_PER_S         1000000000ull
#define VW_DEFAULT_LOOKBACK (3600ull * VW_NS_PER_S)

typedef struct vw_live vw_live;

struct vw_api {
    char *db_path;
    vw_ingest *ingest;
    char *version, *otlp_http, *otlp_grpc;
    const _Atomic uint64_t *rejected_spans;
    struct vw_forward *forwards[8]; /* the --forward targets (not owned) */
    size_t forward_count;

    pthread_mutex_t pool_lock;
    pthread_cond_t pool_free;
    vw_store *idle[VW_API_POOL];
    int idle_count, open_count;

    vw_live *live;
    vw_spanmetrics *metrics;
};

/*
 * A read-only store connection for this thread's request, opened when
 * the pool has none idle and fewer than VW_API_POOL are open, else waited
 * for (at most VW_API_WAIT_MS). NULL with a message in err when the store
 * cannot be opened or every connection stays busy.
 */
vw_store *vw__api_store(vw_api *api, char *err, size_t err_size);

/* Give a connection back to the pool. */
void vw__api_store_done(vw_api *api, vw_store *s);

/* Unix time now in nanoseconds. */
uint64_t vw__now_ns(void);

/* A 200 with a JSON body to come. */
void vw__json_ok(vw_response *rs);

/*
 * Checks a finished JSON body: true when it could be built, else the
 * response becomes a 503 "out of memory" (in the API's error shape when
 * jaeger is set).
 */
bool vw__finish(vw_response *rs, bool jaeger);

/* Jaeger's error envelope: {"data":null,...,"errors":[{"code":status,"msg":...}]}. */
void vw__jaeger_error(vw_response *rs, unsigned status, const char *msg);

/* ---- Writing JSON ---- */

void vw__put_u64(otelc_buf *b, uint64_t v);
/* A 64-bit integer as a JSON string (the protobuf JSON mapping's spelling). */
void vw__put_u64_str(otelc_buf *b, uint64_t v);
void vw__put_hex_str(otelc_buf *b, const uint8_t *id, size_t n);
/* A NUL-terminated string (NULL as "") as a JSON string. */
void vw__put_str(otelc_buf *b, const char *s);

/*
 * A time range from start and end parameters given in units of unit_ns:
 * end defaults to now, start to end minus lookback. False with a message
 * in err (naming the parameter) when one is malformed.
 */
bool vw__time_range(const vw_request *rq, const char *start_name, const char *end_name,
                    uint64_t unit_ns, uint64_t lookback_ns, uint64_t *start, uint64_t *end,
                    char *err, size_t err_size);

/* ---- Handlers (each answers one endpoint) ---- */

/* api_jaeger.c */
void vw__api_services(vw_api *api, const vw_request *rq, vw_response *rs);
void vw__api_service_operations(vw_api *api, const char *service, vw_response *rs);
void vw__api_operations(vw_api *api, const vw_request *rq, vw_response *rs);
void vw__api_traces(vw_api *api, const vw_request *rq, vw_response *rs);
void vw__api_trace(vw_api *api, const char *id, vw_response *rs);
void vw__api_dependencies(vw_api *api, const vw_request *rq, vw_response *rs);
void vw__api_trace_otlp(vw_api *api, const char *id, vw_response *rs);

/* api_search.c */
void vw__api_search(vw_api *api, const vw_request *rq, vw_response *rs);

/* api_stats.c */
void vw__api_service_map(vw_api *api, const vw_request *rq, vw_response *rs);
void vw__api_operations_table(vw_api *api, const vw_request *rq, vw_response *rs);

/* api_live.c */
vw_live *vw__live_new(void);
void vw__live_free(vw_live *live);
/* The commit listener's part: remember which traces a commit touched. */
void vw__live_commit(vw_live *live, const vw_batch *const *batches, size_t n);
void vw__api_live(vw_api *api, const vw_request *rq, vw_response *rs);

#endif
