/*
 * fuzz_view_decode_zipkin.c - the viewer's Zipkin v2 decoder on arbitrary
 * bytes: no crash, no out-of-bounds read, no leak; a status among the four;
 * on success a batch that view_batch_check.h finds whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode_zipkin.h"
#include "view_batch_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that a read one past the end is caught. */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    vw_batch b;
    vw_batch_init(&b);
    check_batch(&b, vw_decode_zipkin_json(copy, size, &b));
    vw_batch_free(&b);
    free(copy);
    return 0;
}
