/*
 * examples/instrument_curl - one traced libcurl request.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_instrument_curl https://example.com/
 *
 * The request carries a traceparent header and becomes a CLIENT span (a
 * child of the "fetch" span) with the HTTP attributes; the application's
 * own header list is still sent.
 */
#include <stdio.h>

#include <otelc/otelc.h>
#include <otelc/instrument/curl.h>

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    return size * n;
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:8080/hello";
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: text/plain");
    otelc_tracer *tracer;
    CURLcode rc = CURLE_FAILED_INIT;
    CURL *easy;

    otelc_init(NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tracer = otelc_tracer_get("example.curl", NULL);
    easy = curl_easy_init();
    if (easy != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        OTELC_WITH_SPAN(tracer, "fetch")
        {
            rc = otelc_curl_perform(easy, headers);
        }
        curl_easy_cleanup(easy);
    }
    printf("%s: %s\n", url, curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    curl_global_cleanup();
    otelc_shutdown();
    return rc == CURLE_OK ? 0 : 1;
}
