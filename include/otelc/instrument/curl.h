/*
 * otelc/instrument/curl.h - CLIENT spans for libcurl transfers
 * (libotelc-curl; link otelc and libcurl).
 *
 * Each traced transfer is one CLIENT span, a child of the context current
 * when it begins, named by the HTTP method as the semantic conventions say,
 * with http.request.method, url.full (credentials and sensitive query values
 * redacted), server.address, server.port, http.response.status_code,
 * network.protocol.version, http.request.resend_count (redirects libcurl
 * followed), http.request.body.size / http.response.body.size and, on
 * failure, error.type: the CURLcode name (CURLE_COULDNT_CONNECT) for a
 * transport failure, or the status code for a 4xx or 5xx response. Client
 * spans are ERROR for 4xx, 5xx and transport failures.
 *
 * Why a begin/end pair that takes the header list: the trace headers
 * (traceparent, tracestate, baggage) must be added to the request, and
 * libcurl has CURLOPT_HTTPHEADER but no way to read back the list an
 * application set. So the application hands its own list to
 * otelc_curl_begin() instead of setting CURLOPT_HTTPHEADER; the library
 * sends a copy of it plus the trace headers (dropping any stale trace
 * headers the list already had), and otelc_curl_end() puts the
 * application's list back on the handle and frees the copy. The
 * application keeps ownership of its list, which must stay valid until
 * otelc_curl_end(). Nothing else on the handle is touched: CURLOPT_PRIVATE
 * and the header and debug callbacks stay the application's, which is why
 * transfers are found by handle in a small internal table.
 *
 * The multi interface: add handles with otelc_curl_multi_add() (or call
 * otelc_curl_begin() before curl_multi_add_handle()), and pass each message
 * from curl_multi_info_read() to otelc_curl_multi_done(), which ends the
 * span of a finished transfer.
 *
 * The method is read from libcurl when the transfer begins (a custom
 * request or CURLOPT_NOBODY is known then) and again when it ends, and the
 * span is renamed if libcurl used another one (a POST set through
 * CURLOPT_POSTFIELDS is only known after the transfer). Redirects followed
 * by libcurl stay in the one span; url.full is then the final URL.
 */
#ifndef OTELC_INSTRUMENT_CURL_H
#define OTELC_INSTRUMENT_CURL_H

#include <stdbool.h>

#include <curl/curl.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Start tracing the next transfer of easy: start its CLIENT span and set
 * CURLOPT_HTTPHEADER to headers (the application's list, may be NULL) plus
 * the trace headers of the new span. Call after the URL and method options
 * are set. Beginning a handle that was already begun ends the earlier span
 * as abandoned first. Returns OTELC_OK, OTELC_ERR_INVALID_ARG for a NULL
 * handle, or OTELC_ERR_NOMEM (the transfer then runs untraced with the
 * application's headers). Every begun transfer must be ended, by
 * otelc_curl_end() or otelc_curl_multi_done(), before the handle is
 * cleaned up: the span and the header copy live until then.
 */
int otelc_curl_begin(CURL *easy, struct curl_slist *headers);

/*
 * End the span of easy's transfer with libcurl's result: read the status,
 * protocol version, sizes and final URL from the handle, set the status and
 * end the span; then restore the application's header list on the handle.
 * Does nothing for a handle that was not begun.
 */
void otelc_curl_end(CURL *easy, CURLcode result);

/*
 * otelc_curl_begin(), curl_easy_perform() and otelc_curl_end() in one call,
 * for the easy interface. Returns curl_easy_perform()'s result.
 */
CURLcode otelc_curl_perform(CURL *easy, struct curl_slist *headers);

/*
 * otelc_curl_begin() then curl_multi_add_handle(). If adding fails, the
 * span ends with the error and the failure is returned.
 */
CURLMcode otelc_curl_multi_add(CURLM *multi, CURL *easy, struct curl_slist *headers);

/*
 * Give every message from curl_multi_info_read() here: for CURLMSG_DONE of a
 * traced handle the span ends with the transfer's result (as
 * otelc_curl_end()) and true is returned. The handle itself stays the
 * application's to remove from the multi handle and reuse or clean up.
 */
bool otelc_curl_multi_done(const CURLMsg *msg);

/*
 * The CURLcode's enumerator name ("CURLE_OPERATION_TIMEDOUT"), as used for
 * error.type, or "_OTHER" for a code this library does not know.
 */
const char *otelc_curl_code_name(CURLcode code);

#ifdef __cplusplus
}
#endif
#endif
