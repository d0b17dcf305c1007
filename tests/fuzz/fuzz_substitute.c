/*
 * fuzz_substitute.c - ${...} substitution on arbitrary bytes. Beyond not
 * crashing: the output is NUL-terminated at its length, text without '$'
 * comes back unchanged, and substituted values (which hold references and
 * escapes themselves) are never expanded again.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *name, void *user)
{
    (void)user;
    if (strcmp(name, "A") == 0) return "${A}$$";
    if (strcmp(name, "EMPTY") == 0) return "";
    if (strcmp(name, "LONG") == 0) return "0123456789abcdef0123456789abcdef";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *out = NULL, err[128];
    size_t len = 0;
    int rc = otelc__substitute(in, size, lookup, NULL, &out, &len, err, sizeof err);
    if (rc == OTELC_ERR_PARSE) {
        if (out || strncmp(err, "invalid substitution reference", 30) != 0) abort();
        return 0;
    }
    if (rc != OTELC_OK) return 0;
    if (out[len] != '\0') abort();
    if (!memchr(in, '$', size) && (len != size || memcmp(out, in, size) != 0)) abort();
    /* Each reference yields at most 32 bytes or its default, which came from the input. */
    if (len > size * 11 + 32) abort();
    free(out);
    return 0;
}
