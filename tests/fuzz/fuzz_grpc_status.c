/*
 * fuzz_grpc_status.c - the server-delay parsers of the retry policy on
 * arbitrary bytes: the grpc-status-details-bin decoder (base64
 * google.rpc.Status holding a google.rpc.RetryInfo), the Retry-After parser
 * and the OTLP headers list. Beyond not crashing, a delay must be clamped
 * and header keys must be non-empty and values free of line breaks.
 *
 * Every input goes to all three: each must cope with anything, and one
 * corpus then covers them all.
 */
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DELAY_MS (24ULL * 3600 * 1000)

static void check_pair(void *ctx, const char *key, const char *value)
{
    (void)ctx;
    if (!key[0] || strpbrk(value, "\r\n")) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    uint64_t ms = 0;
    if (otelc__grpc_retry_info(text, size, &ms) && ms > MAX_DELAY_MS) abort();
    ms = 0;
    if (otelc__parse_retry_after(text, 784111777, &ms) && ms > MAX_DELAY_MS) abort();
    (void)otelc__otlp_parse_headers(text, check_pair, NULL);
    free(text);
    return 0;
}
