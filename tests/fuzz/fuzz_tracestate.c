/*
 * fuzz_tracestate.c - tracestate normalisation is idempotent, stays within
 * 32 members, and set()/get() keep a normalised list normalised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t members(const char *s)
{
    size_t n = 1;
    for (; *s; s++) n += *s == ',';
    return n;
}

static void check_set(const char *norm, size_t len)
{
    size_t size = len + 16;
    char *set = malloc(size), *again = malloc(size), value[260];
    int n = otelc_tracestate_set(norm, "fz", "1", set, size);

    if (set == NULL || again == NULL) abort();
    if (n <= 0 || strncmp(set, "fz=1", 4) != 0 || members(set) > 32) abort();
    if (otelc_tracestate_normalize(set, (size_t)n, again, size) != n) abort();
    if (!otelc_tracestate_get(set, "fz", value, sizeof value) || strcmp(value, "1") != 0) abort();
    free(set);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1), *again = malloc(size + 1);
    int n, m;

    if (out == NULL || again == NULL) abort();
    n = otelc_tracestate_normalize((const char *)data, size, out, size + 1);
    if (n > 0) {
        if ((size_t)n != strlen(out) || members(out) > 32) abort();
        m = otelc_tracestate_normalize(out, (size_t)n, again, size + 1);
        if (m != n || strcmp(out, again) != 0) abort();
        check_set(out, (size_t)n);
    } else if (n != 0 && n != OTELC_ERR_PARSE) {
        abort();
    }
    free(out);
    free(again);
    return 0;
}
