/*
 * fuzz_view_body.c - the request body reader of the viewer (viewer/body.c)
 * on arbitrary bytes, identity or gzip, cut into arbitrary pieces, under a
 * shared budget. Beyond not crashing: it never holds more than its bound
 * and a byte (and the NUL), an accepted body is within the bound and
 * NUL-terminated (an identity one the very bytes sent), every outcome is
 * one of the statuses its contract lists, and the budget is whole again
 * once the body is freed. Each input is read twice on one budget, with
 * other bounds the second time, so that the second body may take the
 * buffer the budget kept from the first.
 *
 * Input: byte 0 picks the encoding and the bounds, byte 1 the piece size;
 * the rest is the body as it arrives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_status(unsigned st)
{
    if (st != 0 && st != 400 && st != 413 && st != 429 && st != 503) abort();
}

/* One body read from data in pieces, with every check; the budget whole again after. */
static void read_body(const uint8_t *data, size_t size, uint8_t how, size_t piece,
                      vw_body_budget *budget)
{
    static const char *const encodings[] = {NULL, "gzip", "identity", "x-gzip"};
    const char *enc = encodings[how & 3];
    size_t max_len = (size_t)((how >> 2) & 15) * 1024 + 1; /* 1 B .. 15 kB */
    size_t max_wire = (size_t)(how >> 6) * 8192 + 512;
    vw_body b;
    unsigned st = vw_body_begin(&b, enc, (how & 0x20) ? size : VW_BODY_LENGTH_UNKNOWN, max_wire,
                                max_len, budget);
    check_status(st);
    for (size_t i = 0; i < size; i += piece) {
        st = vw_body_feed(&b, data + i, size - i < piece ? size - i : piece);
        check_status(st);
        if (b.cap > b.max_len + 2) abort();
    }
    if (b.wire != size) abort();
    st = vw_body_end(&b);
    check_status(st);
    if (st == 0) {
        if (b.len > b.max_len || b.data[b.len] != '\0') abort();
        if ((!enc || enc[0] == 'i') && (b.len != size || memcmp(b.data, data, size) != 0)) abort();
    } else if (!b.error[0]) {
        abort(); /* refused, and explained */
    }
    vw_body_free(&b);
    if (atomic_load(&budget->held) != 0) abort();
}

/* The same bytes read twice on one budget: the second body may take the first one's buffer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    vw_body_budget budget = {.limit = (data[0] & 0x80) ? 4096 : 0};
    size_t piece = data[1] ? data[1] : 4096;
    read_body(data + 2, size - 2, data[0], piece, &budget);
    read_body(data + 2, size - 2, data[0] ^ 0x3c, piece, &budget); /* other bounds, same bytes */
    vw_body_budget_release(&budget);
    return 0;
}
