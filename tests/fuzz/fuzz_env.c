/*
 * fuzz_env.c - the configuration parsers on arbitrary bytes: the
 * OTEL_RESOURCE_ATTRIBUTES list and the boolean and numeric value parsers.
 * Beyond not crashing, a parsed resource must hold only non-empty keys and
 * NUL-terminated string values of exact length.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_resource(const otelc_resource *r)
{
    size_t n;
    const otelc_attr *attrs = otelc_resource_attrs(r, &n);
    for (size_t i = 0; i < n; i++) {
        if (!attrs[i].key[0]) abort();
        if (attrs[i].value.type != OTELC_VALUE_STRING) abort();
        if (strlen(attrs[i].value.u.str.ptr) != attrs[i].value.u.str.len) abort();
        if (otelc_resource_get(r, attrs[i].key) != &attrs[i].value) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    bool b;
    uint32_t u;
    double d;
    (void)otelc__parse_bool(text, &b);
    if (otelc__parse_u32(text, &u) && strchr(text, '-')) abort();
    if (otelc__parse_double(text, &d) && d != d) abort();

    int bad = 0;
    otelc_resource *r = otelc__resource_parse_kv(text, &bad);
    if (r) {
        if (bad < 0) abort();
        check_resource(r);
        otelc_resource_free(r);
    }
    free(text);
    return 0;
}
