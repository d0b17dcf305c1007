/*
 * curl_app.c - a libcurl program that knows nothing of otelc, for the
 * zero-code test (tests/integration/auto_instrument.sh): a GET with the
 * easy interface and one with the multi interface, each sending a header
 * of its own (X-App), printing the status and body.
 *
 * usage: curl_app URL [URL2]   (URL2 defaults to URL)
 */
#include <stdio.h>

#include <curl/curl.h>

static size_t print_body(char *data, size_t size, size_t n, void *userdata)
{
    (void)userdata;
    return fwrite(data, size, n, stdout);
}

static CURL *new_get(const char *url, struct curl_slist *headers)
{
    CURL *easy = curl_easy_init();
    if (!easy) return NULL;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, print_body);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
    return easy;
}

static void show_status(const char *what, CURL *easy, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    printf("%s: %s %ld\n", what, curl_easy_strerror(rc), status);
}

static int multi_get(const char *url, struct curl_slist *headers)
{
    CURLM *multi = curl_multi_init();
    CURL *easy = new_get(url, headers);
    int running = 1, left;
    if (!multi || !easy || curl_multi_add_handle(multi, easy) != CURLM_OK) return 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) return 1;
        if (running) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    for (CURLMsg *m; (m = curl_multi_info_read(multi, &left)) != NULL;)
        if (m->msg == CURLMSG_DONE) show_status("multi", m->easy_handle, m->data.result);
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *headers = curl_slist_append(NULL, "X-App: kept");
    CURL *easy = new_get(argv[1], headers);
    if (!easy) return 1;
    CURLcode rc = curl_easy_perform(easy);
    show_status("easy", easy, rc);
    curl_easy_cleanup(easy);
    int failed = multi_get(argc > 2 ? argv[2] : argv[1], headers);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return failed || rc != CURLE_OK ? 1 : 0;
}
