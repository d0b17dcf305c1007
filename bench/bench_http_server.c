/*
 * bench_http_server.c - a libmicrohttpd hello-world server for the tracing
 * overhead benchmark (bench/run_http.sh drives it with wrk; see
 * docs/performance.md).
 *
 *   bench_http_server --tracing off|on [--worker-policy idle|other] [--sample RATIO]
 *                     [--endpoint URL] [--port N] [--port-file FILE]
 *
 * Every request gets the same 14-byte "Hello, world!\n" from one internal
 * polling thread (epoll), on keep-alive connections. With tracing on, the handler runs inside the
 * libotelc-microhttpd wrapper: each request is a SERVER span, every span is
 * sampled and exported with OTLP/HTTP protobuf to URL (the discard
 * receiver) through the batch processor with the specification's default
 * settings (queue 2048, batch 512, 5 s delay), as a service would run it.
 * --worker-policy replaces the batch worker's own SCHED_BATCH through the
 * processor's worker_start hook: idle (SCHED_IDLE) runs it only on CPU time
 * nothing else wants; other (SCHED_OTHER, what otelc did before) lets its
 * wake-ups preempt the server thread. --sample traces that share of the
 * requests (TraceIdRatioBased) instead of all of them: every request still
 * starts a span, extracts context and ends it, unsampled.
 * Prints "port N" once listening; on SIGUSR1 exports every span ended so
 * far (otelc_provider_force_flush) and prints "flushed" (bench/callgrind_http.sh
 * measures between two flushes, so the worker's share covers exactly the
 * window's spans); on SIGINT or SIGTERM stops, flushes and prints the
 * exported and dropped span counts.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/exporters.h"
#include "port_file.h"
#include "otelc/instrument/microhttpd.h"
#include "otelc/otelc.h"

static const char body[] = "Hello, world!\n";

static int tracing;

static otelc_mhd_result hello(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    static int seen;
    struct MHD_Response *r = cls;
    /*
     * Not on the first call, as libmicrohttpd's own examples do: a response
     * queued before MHD has read the whole request makes 0.9.75 close the
     * connection after it, and every request would pay for a new one.
     */
    if (*con_cls == NULL) {
        *con_cls = &seen;
        return MHD_YES;
    }
    /* The wrapper's queue call records the body size; without tracing MHD's own. */
    if (tracing) return otelc_mhd_queue_response(c, MHD_HTTP_OK, r, (int64_t)sizeof body - 1);
    return MHD_queue_response(c, MHD_HTTP_OK, r);
}

/* worker_start: the batch worker takes the policy in *arg. */
static void worker_policy(void *arg)
{
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), *(const int *)arg, &sp);
}

static otelc_provider *tracing_start(const char *endpoint, const int *policy, double ratio)
{
    otelc_otlp_exporter_options o = {.endpoint = endpoint, .protocol = OTELC_OTLP_HTTP_PROTOBUF};
    otelc_exporter *e = otelc_otlp_exporter_new(&o);
    if (!e) return NULL;
    otelc_batch_options bo = {.max_queue_size = 2048,
                              .schedule_delay_ms = 5000,
                              .max_export_batch_size = 512,
                              .export_timeout_ms = 30000,
                              .worker_start = policy ? worker_policy : NULL,
                              .worker_start_arg = (void *)policy};
    otelc_processor *procs[1] = {otelc_batch_processor_new(e, &bo)};
    if (!procs[0]) return NULL;
    otelc_provider_options po = {.no_env = true,
                                 .sampler = ratio < 1 ? otelc_sampler_trace_id_ratio(ratio)
                                                      : otelc_sampler_always_on(),
                                 .processors = procs,
                                 .processor_count = 1};
    otelc_provider *p = NULL;
    if (otelc_provider_new(&po, &p) != OTELC_OK) return NULL;
    otelc_provider_set_global(p);
    return p;
}

__attribute__((noreturn)) static void usage(void)
{
    fprintf(stderr, "usage: bench_http_server --tracing off|on [--worker-policy idle|other]"
                    " [--sample RATIO] [--endpoint URL] [--port N] [--port-file FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *endpoint = "http://127.0.0.1:4318/v1/traces", *port_file = NULL;
    int port = 0, have_mode = 0;
    static int policy;
    const int *worker = NULL;
    double ratio = 1; /* --sample: the share of requests traced (1: always on) */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tracing") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) usage();
            tracing = strcmp(v, "on") == 0;
            have_mode = 1;
        } else if (strcmp(argv[i], "--worker-policy") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "idle") != 0 && strcmp(v, "other") != 0) usage();
            policy = strcmp(v, "idle") == 0 ? SCHED_IDLE : SCHED_OTHER;
            worker = &policy;
        } else if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc) {
            char *end;
            ratio = strtod(argv[++i], &end);
            if (*end || !(ratio > 0 && ratio <= 1)) usage();
        } else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else {
            usage();
        }
    }
    if (!have_mode) usage();
    /*
     * Blocked here, so that every thread started later (MHD's, the batch
     * worker) inherits the mask and only sigwait() below takes the signal.
     */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

    if (tracing && !tracing_start(endpoint, worker, ratio)) {
        fprintf(stderr, "bench_http_server: no OTLP pipeline (a build without libcurl?)\n");
        return 1;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp) return 1;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    struct MHD_Daemon *d;
    otelc_mhd *w = NULL;
    if (tracing) {
        w = otelc_mhd_new(hello, resp, NULL);
        if (!w) return 1;
        d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, otelc_mhd_handler, w,
                             MHD_OPTION_NOTIFY_COMPLETED, otelc_mhd_completed, w,
                             MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    } else {
        d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, hello, resp,
                             MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    }
    if (!d) {
        fprintf(stderr, "bench_http_server: MHD_start_daemon failed\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : port;
    if (!bench_announce_port(port, port_file)) {
        perror(port_file);
        return 1;
    }

    for (;;) {
        int sig;
        if (sigwait(&stop_set, &sig) != 0) continue;
        if (sig != SIGUSR1) break;
        if (tracing) otelc_provider_force_flush(otelc_provider_global(), 30000);
        printf("flushed\n");
        fflush(stdout);
    }

    MHD_stop_daemon(d);
    otelc_mhd_free(w);
    MHD_destroy_response(resp);
    if (tracing) {
        otelc_provider *p = otelc_provider_global();
        otelc_provider_force_flush(p, 30000);
        otelc_stats st;
        otelc_provider_stats(p, &st);
        printf("bench_http_server: spans ended %llu exported %llu dropped %llu failed %llu\n",
               (unsigned long long)st.spans_ended, (unsigned long long)st.spans_exported,
               (unsigned long long)st.spans_dropped, (unsigned long long)st.spans_export_failed);
        otelc_provider_set_global(NULL);
    }
    return 0;
}
