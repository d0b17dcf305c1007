/*
 * fuzz_otlp_response.c - both ExportTraceServiceResponse parsers on the same
 * bytes: no crash or out-of-bounds read, a NUL-terminated message, and on
 * rejection a zeroed result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc, const otelc_otlp_response *r)
{
    if (rc != OTELC_OK && rc != OTELC_ERR_PARSE) abort();
    if (!memchr(r->error_message, '\0', sizeof(r->error_message))) abort();
    if (rc == OTELC_ERR_PARSE && (r->rejected_spans || r->error_message[0])) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_otlp_response r;
    /* An exact-size copy, so that a read one past the end is caught. */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    check(otelc__otlp_parse_response_proto(copy, size, &r), &r);
    check(otelc__otlp_parse_response_json(copy, size, &r), &r);
    free(copy);
    return 0;
}
