/*
 * examples/instrument_microhttpd - a traced libmicrohttpd server.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_instrument_microhttpd 8080
 *   curl http://127.0.0.1:8080/users/7
 *
 * Each request is a SERVER span named "GET /users/{id}" (the route given
 * by the handler), continuing the caller's trace when it sends a
 * traceparent; responses carry a traceresponse header. Enter stops it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <otelc/otelc.h>
#include <otelc/instrument/microhttpd.h>

static otelc_mhd_result handle(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    static const char found[] = "hello\n", missing[] = "not found\n";
    static int started;
    bool user = strncmp(url, "/users/", 7) == 0;
    const char *body = user ? found : missing;
    size_t len = user ? sizeof found - 1 : sizeof missing - 1;
    struct MHD_Response *r;
    otelc_mhd_result ret;

    /* Answer on the second call, once MHD has read the whole request: a
     * response queued on the first makes libmicrohttpd close the connection. */
    if (*con_cls == NULL) {
        *con_cls = &started;
        return MHD_YES;
    }
    if (user) otelc_mhd_set_route(c, "/users/{id}");
    r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    ret = otelc_mhd_queue_response(c, user ? 200 : 404, r, (int64_t)len);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned short port = (unsigned short)(argc > 1 ? atoi(argv[1]) : 8080);
    otelc_mhd_options opts = {.traceresponse = true};
    otelc_mhd *w;
    struct MHD_Daemon *d;

    otelc_init(NULL);
    w = otelc_mhd_new(handle, NULL, &opts);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, otelc_mhd_handler, w,
                         MHD_OPTION_NOTIFY_COMPLETED, otelc_mhd_completed, w, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "cannot listen on port %u\n", port);
        otelc_mhd_free(w);
        otelc_shutdown();
        return 1;
    }
    printf("listening on http://127.0.0.1:%u/users/7 - press Enter to stop\n", port);
    (void)getchar();
    MHD_stop_daemon(d);
    otelc_mhd_free(w);
    otelc_shutdown();
    return 0;
}
