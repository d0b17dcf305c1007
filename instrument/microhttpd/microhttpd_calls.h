/*
 * microhttpd_calls.h - the functions microhttpd.c calls in libmicrohttpd:
 * directly in libotelc-microhttpd, through libotelc-auto's table of real
 * functions there (see real_call.h).
 */
#ifndef OTELC_INSTRUMENT_MICROHTTPD_CALLS_H
#define OTELC_INSTRUMENT_MICROHTTPD_CALLS_H

#include <microhttpd.h>

#include "real_call.h"

/* clang-format off */
#define MHD_CALLS(X) \
    X(MHD_add_response_header) \
    X(MHD_del_response_header) \
    X(MHD_get_connection_info) \
    X(MHD_get_connection_values) \
    X(MHD_get_connection_values_n) \
    X(MHD_get_daemon_info) \
    X(MHD_get_response_header) \
    X(MHD_lookup_connection_value) \
    X(MHD_queue_response)
/* clang-format on */

REAL_CALL_TABLE(microhttpd_calls, auto_microhttpd, MHD_CALLS);

#define MHD(f) CALL(auto_microhttpd, f)

#endif
