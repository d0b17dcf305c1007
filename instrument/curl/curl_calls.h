/*
 * curl_calls.h - the functions curl.c calls in the library it
 * instruments: directly in libotelc-curl, through libotelc-auto's table
 * of real functions there (see real_call.h).
 */
#ifndef OTELC_INSTRUMENT_CURL_CALLS_H
#define OTELC_INSTRUMENT_CURL_CALLS_H

#include <curl/curl.h>

#include "real_call.h"

/* clang-format off */
#define LIBCURL_CALLS(X) \
    X(curl_easy_getinfo) \
    X(curl_easy_perform) \
    X(curl_easy_setopt) \
    X(curl_easy_strerror) \
    X(curl_free) \
    X(curl_multi_add_handle) \
    X(curl_slist_append) \
    X(curl_slist_free_all) \
    X(curl_url) \
    X(curl_url_cleanup) \
    X(curl_url_get) \
    X(curl_url_set)
/* clang-format on */

REAL_CALL_TABLE(curl_calls, auto_curl, LIBCURL_CALLS);

#define LIBCURL(f) CALL(auto_curl, f)

#endif
