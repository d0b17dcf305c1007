/*
 * shim_curl.c - libcurl's transfer functions, interposed: every
 * curl_easy_perform() and every transfer of a multi handle runs through
 * the libcurl instrumentation (instrument/curl/curl.c).
 *
 * That instrumentation must be handed the application's own
 * CURLOPT_HTTPHEADER list, which libcurl cannot give back; so
 * curl_easy_setopt() is interposed too, and the lists set on each handle
 * are noted in a small table (dropped by curl_easy_reset() and
 * curl_easy_cleanup(), copied by curl_easy_duphandle()).
 */
/* The shim defines and forwards curl_easy_setopt: its type-checking macro is not wanted. */
#define CURL_DISABLE_TYPECHECK
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "auto.h"
#include "curl_calls.h"
#include "fork_lock.h"
#include "otelc/instrument/curl.h"

#define BUCKETS 64

curl_calls auto_curl;

/* clang-format off */
#define SHIM_CALLS(X) \
    X(curl_easy_cleanup) \
    X(curl_easy_reset) \
    X(curl_easy_duphandle) \
    X(curl_multi_info_read)
/* clang-format on */
static struct {
    SHIM_CALLS(REAL_CALL_SLOT)
} real;

#define RESOLVE(f)      &auto_resolve(&auto_curl.f, #f)
#define RESOLVE_SHIM(f) &auto_resolve(&real.f, #f)

static bool resolve(void)
{
    return true LIBCURL_CALLS(RESOLVE) SHIM_CALLS(RESOLVE_SHIM);
}

/* ---- The application's header lists, by handle ----------------------- */

typedef struct header_note {
    const CURL *easy;
    struct curl_slist *headers;
    struct header_note *next;
} header_note;

static pthread_mutex_t notes_lock = PTHREAD_MUTEX_INITIALIZER;
static header_note *notes[BUCKETS];

static header_note **note_slot(const CURL *easy)
{
    uintptr_t p = (uintptr_t)easy;
    header_note **pp = &notes[((p >> 4) ^ (p >> 12)) % BUCKETS];
    while (*pp && (*pp)->easy != easy) pp = &(*pp)->next;
    return pp;
}

/* Note headers as easy's list; NULL forgets it. */
static void note_headers(const CURL *easy, struct curl_slist *headers)
{
    header_note *gone = NULL, *fresh = headers ? malloc(sizeof *fresh) : NULL;
    fork_lock(&notes_lock);
    header_note **pp = note_slot(easy);
    if (*pp && headers) {
        (*pp)->headers = headers;
    } else if (*pp) {
        gone = *pp;
        *pp = gone->next;
    } else if (fresh) {
        *fresh = (header_note){easy, headers, NULL};
        *pp = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&notes_lock);
    free(gone);
    free(fresh);
}

static struct curl_slist *noted_headers(const CURL *easy)
{
    fork_lock(&notes_lock);
    header_note *n = *note_slot(easy);
    struct curl_slist *headers = n ? n->headers : NULL;
    pthread_mutex_unlock(&notes_lock);
    return headers;
}

/* ---- The shims ---------------------------------------------------------- */

/* Forwards the one argument by the type libcurl's option numbering gives it. */
AUTO_EXPORT CURLcode curl_easy_setopt(CURL *easy, CURLoption option, ...)
{
    va_list ap;
    CURLcode rc;
    va_start(ap, option);
    bool tracing = auto_tracing(AUTO_CURL, resolve);
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        rc = auto_curl.curl_easy_setopt(easy, option, va_arg(ap, long));
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        void *p = va_arg(ap, void *);
        rc = auto_curl.curl_easy_setopt(easy, option, p);
        if (tracing && option == CURLOPT_HTTPHEADER && rc == CURLE_OK) note_headers(easy, p);
    } else if (option < CURLOPTTYPE_OFF_T) {
        rc = auto_curl.curl_easy_setopt(easy, option, va_arg(ap, void (*)(void)));
    } else if (option < CURLOPTTYPE_OFF_T + 10000) {
        rc = auto_curl.curl_easy_setopt(easy, option, va_arg(ap, curl_off_t));
    } else { /* CURLOPTTYPE_BLOB: a struct curl_blob * */
        rc = auto_curl.curl_easy_setopt(easy, option, va_arg(ap, void *));
    }
    va_end(ap);
    return rc;
}

AUTO_EXPORT CURLcode curl_easy_perform(CURL *easy)
{
    if (!auto_begin(AUTO_CURL, resolve)) return auto_curl.curl_easy_perform(easy);
    CURLcode rc = otelc_curl_perform(easy, noted_headers(easy));
    auto_end(AUTO_CURL);
    return rc;
}

AUTO_EXPORT CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy)
{
    if (!auto_begin(AUTO_CURL, resolve)) return auto_curl.curl_multi_add_handle(multi, easy);
    CURLMcode rc = otelc_curl_multi_add(multi, easy, noted_headers(easy));
    auto_end(AUTO_CURL);
    return rc;
}

AUTO_EXPORT CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
    if (!auto_begin(AUTO_CURL, resolve)) return real.curl_multi_info_read(multi, msgs_in_queue);
    CURLMsg *msg = real.curl_multi_info_read(multi, msgs_in_queue);
    if (msg) otelc_curl_multi_done(msg);
    auto_end(AUTO_CURL);
    return msg;
}

AUTO_EXPORT void curl_easy_reset(CURL *easy)
{
    if (auto_tracing(AUTO_CURL, resolve)) note_headers(easy, NULL);
    real.curl_easy_reset(easy);
}

AUTO_EXPORT void curl_easy_cleanup(CURL *easy)
{
    if (auto_tracing(AUTO_CURL, resolve)) note_headers(easy, NULL);
    real.curl_easy_cleanup(easy);
}

AUTO_EXPORT CURL *curl_easy_duphandle(CURL *easy)
{
    bool tracing = auto_tracing(AUTO_CURL, resolve);
    CURL *copy = real.curl_easy_duphandle(easy);
    struct curl_slist *headers = copy && tracing ? noted_headers(easy) : NULL;
    if (headers) note_headers(copy, headers);
    return copy;
}
