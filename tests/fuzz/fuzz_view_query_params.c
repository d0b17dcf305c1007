/*
 * fuzz_view_query_params.c - the query API's parameter parsers
 * (viewer/query_params.h) on arbitrary text: each either refuses it or
 * gives a value within its bounds. A duration is below 2^63 ns; the
 * digits of an accepted integer read back as it; a trace id prints back
 * as the input's digits; tag filters are at most VW_MAX_TAGS, each key and
 * value NUL-terminated UTF-8 within the parser's one allocation (ASan
 * watches that), keys distinct.
 *
 * The input is split at its first 0x00 byte into two parameter values,
 * as a request carries several; the first byte picks which flags to use.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "query_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_duration(const char *s, bool days)
{
    uint64_t ns = 0;
    if (vw_parse_duration(s, days, &ns)) assert(ns < (1ull << 63));
}

static void check_uint(const char *s)
{
    uint64_t v = 0;
    if (!vw_parse_uint(s, UINT64_MAX, &v)) return;
    char back[32];
    snprintf(back, sizeof back, "%" PRIu64, v);
    /* Leading zeros are allowed: compare without them. */
    while (s[0] == '0' && s[1]) s++;
    assert(strcmp(back, s) == 0);
}

static void check_trace_id(const char *s)
{
    uint8_t id[16];
    if (!vw_parse_trace_id(s, id)) return;
    size_t n = strlen(s);
    assert(n >= 1 && n <= 32);
    char hex[33];
    otelc__hex_encode(id, 16, hex);
    hex[32] = '\0';
    for (size_t i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
        assert(hex[32 - n + i] == c);
    }
    for (size_t i = 0; i < 32 - n; i++) assert(hex[i] == '0');
}

static void check_tags(const char *s)
{
    vw_tags t;
    char err[128];
    memset(&t, 0, sizeof t);
    if (vw_parse_tags(s, &t, err, sizeof err) == 0) {
        assert(t.count <= VW_MAX_TAGS);
        for (size_t i = 0; i < t.count; i++) {
            assert(otelc__utf8_valid(t.items[i].key, strlen(t.items[i].key)));
            assert(otelc__utf8_valid(t.items[i].value, strlen(t.items[i].value)));
            for (size_t j = 0; j < i; j++) assert(strcmp(t.items[i].key, t.items[j].key) != 0);
        }
    } else {
        assert(t.count == 0);
        assert(strlen(err) > 0);
    }
    vw_tags_free(&t);
}

static void check_all(const char *s, bool days)
{
    check_duration(s, days);
    check_uint(s);
    check_trace_id(s);
    check_tags(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 8192) return 0;
    bool days = data[0] & 1;
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    check_all(text, days);
    size_t first = strlen(text);
    if (first + 1 < size - 1) check_all(text + first + 1, days); /* the second value */
    free(text);
    return 0;
}
