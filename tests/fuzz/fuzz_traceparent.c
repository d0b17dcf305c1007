/*
 * fuzz_traceparent.c - traceparent parsing: never crash, and whatever is
 * accepted formats back to a version-00 header that parses to the same ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_span_context sc, back;
    char out[56];

    if (otelc_traceparent_parse((const char *)data, size, &sc) != OTELC_OK) return 0;
    if (!otelc_span_context_is_valid(&sc) || !sc.is_remote) abort();
    if (otelc_traceparent_format(&sc, out) != OTELC_TRACEPARENT_LEN) abort();
    if (strlen(out) != OTELC_TRACEPARENT_LEN || memcmp(out, "00-", 3) != 0) abort();
    if (otelc_traceparent_parse(out, strlen(out), &back) != OTELC_OK) abort();
    if (memcmp(sc.trace_id, back.trace_id, 16) || memcmp(sc.span_id, back.span_id, 8)) abort();
    if (sc.trace_flags != back.trace_flags) abort();
    return 0;
}
