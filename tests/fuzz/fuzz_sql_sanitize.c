/*
 * fuzz_sql_sanitize.c - the SQL sanitizer on arbitrary bytes with a roomy
 * and a tight output buffer, and the Redis sanitizer on the same bytes split
 * into arguments at newlines: no crash, no read past the input, output
 * bounded and NUL-terminated, summary within its limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/instrument/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sql(const char *sql, size_t size)
{
    otelc_sql_info info;
    char *out = malloc(size + 1);
    char tight[16];
    size_t n;
    if (!out) return;
    n = otelc_sql_sanitize(sql, size, out, size + 1, &info);
    if (n > size || out[n] != '\0' || strlen(out) != n) abort();
    if (strlen(info.summary) > OTELC_SQL_SUMMARY_MAX) abort();
    if (strlen(info.operation) >= sizeof(info.operation)) abort();
    if (info.literals > size || info.placeholders > size) abort();
    n = otelc_sql_sanitize(sql, size, tight, sizeof(tight), NULL);
    if (n >= sizeof(tight) || tight[n] != '\0') abort();
    free(out);
}

static void check_redis(const char *s, size_t size)
{
    const char *argv[64];
    size_t lens[64];
    int argc = 0;
    size_t start = 0;
    char out[256];
    for (size_t i = 0; i <= size && argc < 64; i++) {
        if (i == size || s[i] == '\n') {
            argv[argc] = s + start;
            lens[argc++] = i - start;
            start = i + 1;
        }
    }
    size_t n = otelc_redis_sanitize(argc, argv, lens, out, sizeof(out));
    if (n >= sizeof(out) || out[n] != '\0') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy: a read past the end is caught by ASan. */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    check_sql(copy, size);
    check_redis(copy, size);
    free(copy);
    return 0;
}
