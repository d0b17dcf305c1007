/*
 * fuzz_baggage.c - baggage header parsing respects the limits, and what it
 * accepts survives a format/parse round trip unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const otelc_baggage *bg)
{
    char out[8193];
    int n = otelc_baggage_format(bg, out, sizeof out);
    otelc_baggage *back;
    const char *k, *v, *m;

    if (n < 0 || n > 8192 || (size_t)n != strlen(out)) abort();
    back = otelc_baggage_parse(NULL, out, (size_t)n);
    if (otelc_baggage_count(back) > otelc_baggage_count(bg)) abort();
    for (size_t i = 0; otelc_baggage_entry(back, i, &k, &v, &m); i++) {
        const char *orig = otelc_baggage_get(bg, k);
        const char *om = otelc_baggage_get_metadata(bg, k);
        if (orig == NULL || strcmp(orig, v) != 0) abort();
        if ((om == NULL) != (m == NULL) || (om && strcmp(om, m) != 0)) abort();
    }
    otelc_baggage_release(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_baggage *bg = otelc_baggage_parse(NULL, (const char *)data, size);

    if (bg == NULL) return 0;
    if (otelc_baggage_count(bg) == 0 || otelc_baggage_count(bg) > 180) abort();
    check_round_trip(bg);
    otelc_baggage_release(bg);
    return 0;
}
