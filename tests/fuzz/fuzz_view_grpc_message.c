/*
 * fuzz_view_grpc_message.c - the gRPC request message reader of the viewer
 * (viewer/grpc_message.c) on arbitrary DATA bytes, cut into arbitrary
 * pieces. Beyond not crashing: it never holds more than max_message + 1
 * bytes, a message it accepts is at most max_message bytes, and every
 * outcome is one of the statuses its contract lists.
 *
 * Input: byte 0 picks the declared encoding (identity, gzip, other) and a
 * small max_message; byte 1 the piece size; the rest is the DATA stream.
 */
#include <stdint.h>
#include <stdlib.h>

#include "grpc_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_status(int st)
{
    if (st != VW_GRPC_OK && st != VW_GRPC_RESOURCE_EXHAUSTED && st != VW_GRPC_UNIMPLEMENTED &&
        st != VW_GRPC_INTERNAL && st != VW_GRPC_UNAVAILABLE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const vw_grpc_encoding encodings[] = {VW_GRPC_IDENTITY, VW_GRPC_GZIP,
                                                 VW_GRPC_UNSUPPORTED};
    vw_grpc_encoding enc = encodings[data[0] % 3];
    size_t max_message = (size_t)(data[0] / 3) * 512; /* 0 .. 42 kB */
    size_t piece = data[1] ? data[1] : 4096;
    data += 2, size -= 2;

    vw_grpc_message m;
    vw_grpc_message_init(&m, max_message, enc);
    int st = VW_GRPC_OK;
    for (size_t i = 0; i < size && st == VW_GRPC_OK; i += piece) {
        st = vw_grpc_message_feed(&m, data + i, size - i < piece ? size - i : piece);
        check_status(st);
        if (m.cap > max_message + 1) abort();
    }
    if (st == VW_GRPC_OK) {
        st = vw_grpc_message_end(&m);
        check_status(st);
        if (st == VW_GRPC_OK && m.len > max_message) abort();
    }
    if (st != VW_GRPC_OK && (m.cap != 0 || !m.error[0])) abort(); /* dropped, and explained */
    vw_grpc_message_free(&m);
    return 0;
}
