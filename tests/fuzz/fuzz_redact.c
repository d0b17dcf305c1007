/*
 * fuzz_redact.c - URL and query redaction: never crash or overrun, honour
 * the snprintf contract for every buffer size, and be idempotent (redacting
 * a redacted URL changes nothing, so no secret can hide behind a first
 * pass's output).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/instrument/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef size_t (*redactor)(const char *, size_t, char *, size_t);

static void check(redactor fn, const char *in, size_t size)
{
    size_t n = fn(in, size, NULL, 0), cut = size % 7, again;
    char *full = malloc(n + 1), *twice, small[8];

    if (full == NULL) return;
    if (fn(in, size, full, n + 1) != n) abort();
    /* A short buffer gets the same prefix, NUL-terminated. */
    if (fn(in, size, small, cut + 1) != n) abort();
    if (memcmp(small, full, cut < n ? cut : n) != 0 || small[cut < n ? cut : n] != '\0') abort();
    again = fn(full, n, NULL, 0);
    twice = malloc(again + 1);
    if (twice == NULL) goto out;
    fn(full, n, twice, again + 1);
    if (again != n || memcmp(twice, full, n) != 0) abort();
    free(twice);
out:
    free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(otelc_redact_url, (const char *)data, size);
    check(otelc_redact_query, (const char *)data, size);
    otelc_redact_is_sensitive_key((const char *)data, size);
    return 0;
}
