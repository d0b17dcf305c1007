/*
 * fuzz_context_string.c - context strings: deserialising never crashes, and
 * an accepted string re-serialises to a canonical form that is stable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *serialize(const otelc_context *ctx)
{
    int n = otelc_context_serialize(ctx, NULL, 0);
    char *out;

    if (n < 0) abort();
    out = malloc((size_t)n + 1);
    if (out == NULL || otelc_context_serialize(ctx, out, (size_t)n + 1) != n) abort();
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *first, *second;
    otelc_context *ctx, *again;

    if (s == NULL) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    ctx = otelc_context_deserialize(s);
    free(s);
    if (ctx == NULL) return 0;
    first = serialize(ctx);
    again = otelc_context_deserialize(first);
    if (again == NULL) abort();
    second = serialize(again);
    if (strcmp(first, second) != 0) abort();
    free(first);
    free(second);
    otelc_context_release(ctx);
    otelc_context_release(again);
    return 0;
}
