/*
 * fuzz_view_decode_json.c - the viewer's OTLP/JSON decoder on arbitrary
 * bytes: no crash, no out-of-bounds read, no leak; a status among the four;
 * on success a batch that view_batch_check.h finds whole, and the same
 * spans when the request is the member of an object
 * (vw_decode_otlp_json_in()).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"
#include "view_batch_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A request that decodes alone decodes the same as the member of an object. */
static void in_member(const char *data, size_t size, const vw_batch *alone)
{
    static const char head[] = "{\"a\":[{}],\"result\":", tail[] = ",\"z\":null}";
    size_t n = sizeof head - 1 + size + sizeof tail - 1;
    char *text = malloc(n);
    if (!text) return;
    memcpy(text, head, sizeof head - 1);
    memcpy(text + sizeof head - 1, data, size);
    memcpy(text + sizeof head - 1 + size, tail, sizeof tail - 1);
    vw_batch b;
    vw_batch_init(&b);
    vw_decode_status st = vw_decode_otlp_json_in(text, n, "result", &b);
    check_batch(&b, st);
    if (st != VW_DECODE_OK && st != VW_DECODE_NOMEM) abort();
    if (st == VW_DECODE_OK && (b.count != alone->count || b.rejected != alone->rejected)) abort();
    vw_batch_free(&b);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that a read one past the end is caught. */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    vw_batch b;
    vw_batch_init(&b);
    vw_decode_status st = vw_decode_otlp_json(copy, size, &b);
    check_batch(&b, st);
    /* A byte order mark may only start a text. */
    bool bom = size >= 3 && memcmp(copy, "\xEF\xBB\xBF", 3) == 0;
    if (st == VW_DECODE_OK && !bom) in_member(copy, size, &b);
    vw_batch_free(&b);
    free(copy);
    return 0;
}
