/*
 * mhd_app.c - a libmicrohttpd server that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh). It prints its
 * port, then serves until a signal ends it:
 *   /hello         "hello <X-App header>"
 *   /chain?to=URL  fetches URL with libcurl and answers with its body (a
 *                  thread per connection: URL may be this server)
 *   anything else  404
 *
 * usage: mhd_app
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#if MHD_VERSION < 0x00097002
typedef int handler_result;
#else
typedef enum MHD_Result handler_result;
#endif

typedef struct body {
    char data[4096];
    size_t len;
} body;

static size_t keep_body(char *data, size_t size, size_t n, void *userdata)
{
    body *b = userdata;
    size_t len = size * n;
    if (len > sizeof b->data - 1 - b->len) return 0;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* GET url with libcurl into b; the HTTP status, or 502 when the transfer failed. */
static unsigned fetch(const char *url, body *b)
{
    CURL *easy = curl_easy_init();
    long status = 0;
    if (!easy) return 500;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    return rc == CURLE_OK ? (unsigned)status : 502;
}

static handler_result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    handler_result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static handler_result handle(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **req)
{
    static int first;
    char text[4200];
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size;
    if (*req == NULL) { /* the headers have arrived: answer on the next call */
        *req = &first;
        return MHD_YES;
    }
    if (strcmp(url, "/hello") == 0) {
        const char *app = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-App");
        snprintf(text, sizeof text, "hello %s\n", app ? app : "-");
        return reply(c, MHD_HTTP_OK, text);
    }
    if (strcmp(url, "/chain") == 0) {
        const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
        body b = {.len = 0};
        unsigned status = to ? fetch(to, &b) : 400;
        snprintf(text, sizeof text, "chain %u: %s", status, b.data);
        return reply(c, status == 200 ? MHD_HTTP_OK : MHD_HTTP_BAD_GATEWAY, text);
    }
    return reply(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **req,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    *req = NULL;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, handle, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!d) return 1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);
    for (;;) pause();
}
