/*
 * fuzz_view_endpoint.c - the reading of exporter endpoints by the viewer's
 * self-tracing guard (viewer/self_export.c) on arbitrary strings: never a
 * crash nor a read past the string, and an endpoint is never "self" for
 * an empty list of ports.
 *
 * Input: the endpoint (up to the first NUL), then the bind address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "self_export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t n = strlen(text);
    const char *bind = n < size ? text + n + 1 : NULL;
    static const unsigned ports[] = {80, 443, 4317, 4318, 16686};
    (void)vw_endpoint_is_self(text, bind, ports, 5);
    if (vw_endpoint_is_self(text, bind, ports, 0)) abort();
    free(text);
    return 0;
}
