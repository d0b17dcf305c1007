/*
 * test_view_grpc_message.c - the request message reader of the gRPC
 * server (viewer/grpc_message.c): the 5-byte prefix split anywhere, the
 * unary rule (exactly one message), the bounds (announced length, inflated
 * length, checked while inflating), and every framing error with the
 * status gRPC assigns it (PROTOCOL-HTTP2.md and compression.md, grpc/grpc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zlib.h>

#include "grpc_message.h"

/* A framed message: prefix (flag, big-endian length) and the payload. */
static size_t frame(uint8_t *out, uint8_t flag, const void *payload, size_t n)
{
    out[0] = flag;
    out[1] = (uint8_t)(n >> 24), out[2] = (uint8_t)(n >> 16), out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    memcpy(out + 5, payload, n);
    return n + 5;
}

/* gzip (RFC 1952) of p[0..n) into out; returns the length. */
static size_t gzip_of(const void *p, size_t n, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static int feed_all(vw_grpc_message *m, const uint8_t *p, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        int st = vw_grpc_message_feed(m, p + i, n - i < step ? n - i : step);
        if (st) return st;
    }
    return vw_grpc_message_end(m);
}

static void test_identity_any_split(void **state)
{
    (void)state;
    static const char payload[] = "\x0a\x03"
                                  "abc";
    uint8_t wire[64];
    size_t n = frame(wire, 0, payload, sizeof payload - 1);
    /* Byte by byte, in twos, in threes, and whole. */
    for (size_t step = 1; step <= n; step++) {
        vw_grpc_message m;
        vw_grpc_message_init(&m, 1024, VW_GRPC_IDENTITY);
        assert_int_equal(feed_all(&m, wire, n, step), VW_GRPC_OK);
        assert_int_equal(m.len, sizeof payload - 1);
        assert_memory_equal(m.data, payload, m.len);
        vw_grpc_message_free(&m);
    }
}

static void test_empty_message(void **state)
{
    (void)state;
    /* An empty ExportTraceServiceRequest is a valid message of length 0. */
    uint8_t wire[5];
    vw_grpc_message m;
    vw_grpc_message_init(&m, 1024, VW_GRPC_IDENTITY);
    assert_int_equal(feed_all(&m, wire, frame(wire, 0, "", 0), 5), VW_GRPC_OK);
    assert_int_equal(m.len, 0);
    vw_grpc_message_free(&m);
}

static void test_unary_rules(void **state)
{
    (void)state;
    uint8_t wire[64];
    vw_grpc_message m;
    /* No message at all. */
    vw_grpc_message_init(&m, 1024, VW_GRPC_IDENTITY);
    assert_int_equal(vw_grpc_message_end(&m), VW_GRPC_INTERNAL);
    vw_grpc_message_free(&m);
    /* Two messages. */
    size_t n = frame(wire, 0, "ab", 2);
    n += frame(wire + n, 0, "cd", 2);
    vw_grpc_message_init(&m, 1024, VW_GRPC_IDENTITY);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    assert_non_null(strstr(m.error, "more than one"));
    vw_grpc_message_free(&m);
    /* Cut off inside the prefix, and inside the message. */
    n = frame(wire, 0, "abcdef", 6);
    for (size_t cut = 1; cut < n; cut++) {
        vw_grpc_message_init(&m, 1024, VW_GRPC_IDENTITY);
        assert_int_equal(feed_all(&m, wire, cut, 1), VW_GRPC_INTERNAL);
        assert_null(m.data); /* dropped at once */
        vw_grpc_message_free(&m);
    }
}

static void test_flags(void **state)
{
    (void)state;
    uint8_t wire[64];
    vw_grpc_message m;
    /* Compressed-Flag must be 0 or 1. */
    size_t n = frame(wire, 2, "ab", 2);
    vw_grpc_message_init(&m, 1024, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    vw_grpc_message_free(&m);
    /* Flag 1 without grpc-encoding: INTERNAL (compression.md, test case 6). */
    n = frame(wire, 1, "ab", 2);
    vw_grpc_message_init(&m, 1024, VW_GRPC_IDENTITY);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    vw_grpc_message_free(&m);
    /* Flag 1 in an encoding we lack: UNIMPLEMENTED (test case 4), told from the prefix alone. */
    vw_grpc_message_init(&m, 1024, VW_GRPC_UNSUPPORTED);
    assert_int_equal(vw_grpc_message_feed(&m, wire, 5), VW_GRPC_UNIMPLEMENTED);
    assert_non_null(strstr(m.error, VW_GRPC_ACCEPT_ENCODING));
    vw_grpc_message_free(&m);
    /* Flag 0 under any declared encoding is an uncompressed message. */
    vw_grpc_message_init(&m, 1024, VW_GRPC_UNSUPPORTED);
    n = frame(wire, 0, "ab", 2);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_OK);
    assert_memory_equal(m.data, "ab", 2);
    vw_grpc_message_free(&m);
}

static void test_encoding_names(void **state)
{
    (void)state;
    assert_int_equal(vw_grpc_encoding_of(NULL, 0), VW_GRPC_IDENTITY);
    assert_int_equal(vw_grpc_encoding_of("identity", 8), VW_GRPC_IDENTITY);
    assert_int_equal(vw_grpc_encoding_of("gzip", 4), VW_GRPC_GZIP);
    assert_int_equal(vw_grpc_encoding_of("deflate", 7), VW_GRPC_UNSUPPORTED);
    assert_int_equal(vw_grpc_encoding_of("gzip2", 5), VW_GRPC_UNSUPPORTED);
    assert_int_equal(vw_grpc_encoding_of("", 0), VW_GRPC_UNSUPPORTED);
}

static void test_announced_too_large(void **state)
{
    (void)state;
    /* The prefix alone decides: nothing of the message is read or allocated. */
    uint8_t prefix[5] = {0, 0, 0x10, 0, 1}; /* 1 MiB + 1 */
    vw_grpc_message m;
    vw_grpc_message_init(&m, 1 << 20, VW_GRPC_IDENTITY);
    assert_int_equal(vw_grpc_message_feed(&m, prefix, 5), VW_GRPC_RESOURCE_EXHAUSTED);
    assert_int_equal(m.cap, 0);
    /* And it stays failed, reading nothing more. */
    assert_int_equal(vw_grpc_message_feed(&m, prefix, 5), VW_GRPC_RESOURCE_EXHAUSTED);
    assert_int_equal(vw_grpc_message_end(&m), VW_GRPC_RESOURCE_EXHAUSTED);
    vw_grpc_message_free(&m);
    /* Exactly the limit is fine. */
    uint8_t *big = calloc(1, 5 + 4096);
    size_t n = frame(big, 0, big + 5, 4096);
    vw_grpc_message_init(&m, 4096, VW_GRPC_IDENTITY);
    assert_int_equal(feed_all(&m, big, n, 1000), VW_GRPC_OK);
    assert_int_equal(m.len, 4096);
    assert_int_equal(m.cap, 4096); /* grown towards the announced size, never past it */
    vw_grpc_message_free(&m);
    free(big);
}

static void test_gzip(void **state)
{
    (void)state;
    static uint8_t text[100000], zipped[120000], wire[120010];
    for (size_t i = 0; i < sizeof text; i++) text[i] = (uint8_t)(i * 7 / 13);
    size_t zn = gzip_of(text, sizeof text, zipped, sizeof zipped);
    size_t n = frame(wire, 1, zipped, zn);
    static const size_t steps[] = {1, 7, 4096, 1 << 20};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        vw_grpc_message m;
        vw_grpc_message_init(&m, sizeof text, VW_GRPC_GZIP);
        assert_int_equal(feed_all(&m, wire, n, steps[k]), VW_GRPC_OK);
        assert_int_equal(m.len, sizeof text);
        assert_memory_equal(m.data, text, sizeof text);
        vw_grpc_message_free(&m);
    }
}

static void test_gzip_bomb(void **state)
{
    (void)state;
    /* 64 MiB of zeros gzip to about 64 KiB; the limit is 1 MiB. */
    size_t big = (size_t)64 << 20;
    uint8_t *zeros = calloc(1, big), *zipped = malloc(big / 100), *wire = malloc(big / 100 + 5);
    size_t zn = gzip_of(zeros, big, zipped, big / 100);
    size_t n = frame(wire, 1, zipped, zn);
    vw_grpc_message m;
    vw_grpc_message_init(&m, 1 << 20, VW_GRPC_GZIP);
    int st = VW_GRPC_OK;
    size_t fed = 0;
    while (st == VW_GRPC_OK && fed < n) {
        size_t take = n - fed < 1024 ? n - fed : 1024;
        st = vw_grpc_message_feed(&m, wire + fed, take);
        fed += take;
        /* The output never grows past the limit plus the one byte that proves it too large. */
        assert_true(m.cap <= (1u << 20) + 1);
    }
    assert_int_equal(st, VW_GRPC_RESOURCE_EXHAUSTED);
    assert_true(fed < n / 8); /* refused early in the compressed stream, not at its end */
    assert_int_equal(m.cap, 0);
    vw_grpc_message_free(&m);
    free(zeros), free(zipped), free(wire);

    /* Decompressing to exactly the limit is fine. */
    static uint8_t exact[4096], z2[8192], w2[8200];
    memset(exact, 'x', sizeof exact);
    n = frame(w2, 1, z2, gzip_of(exact, sizeof exact, z2, sizeof z2));
    vw_grpc_message_init(&m, sizeof exact, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, w2, n, 3), VW_GRPC_OK);
    assert_int_equal(m.len, sizeof exact);
    vw_grpc_message_free(&m);
    vw_grpc_message_init(&m, sizeof exact - 1, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, w2, n, 3), VW_GRPC_RESOURCE_EXHAUSTED);
    vw_grpc_message_free(&m);
}

static void test_gzip_corrupt(void **state)
{
    (void)state;
    static const char text[] = "a gzip message of some length, some length, some length";
    uint8_t zipped[256], wire[300];
    size_t zn = gzip_of(text, sizeof text, zipped, sizeof zipped);
    if (zn < 20 || zn + 4 > sizeof zipped) abort(); /* a gzip stream has 18 bytes of framing */
    vw_grpc_message m;

    /* A flipped byte in the deflate data or the CRC. */
    for (size_t at = 10; at < zn; at += 5) {
        size_t n = frame(wire, 1, zipped, zn);
        wire[5 + at] ^= 0x55;
        vw_grpc_message_init(&m, 1024, VW_GRPC_GZIP);
        assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
        vw_grpc_message_free(&m);
    }
    /* The compressed stream cut short (the prefix says so). */
    size_t n = frame(wire, 1, zipped, zn - 4);
    vw_grpc_message_init(&m, 1024, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    assert_non_null(strstr(m.error, "cut off"));
    vw_grpc_message_free(&m);
    /* Bytes after the end of the gzip stream, inside the message. */
    memcpy(zipped + zn, "junk", 4);
    n = frame(wire, 1, zipped, zn + 4);
    vw_grpc_message_init(&m, 1024, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    vw_grpc_message_free(&m);
    /* Not gzip at all (zlib format). */
    n = frame(wire, 1, "\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
    vw_grpc_message_init(&m, 1024, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    vw_grpc_message_free(&m);
    /* An empty compressed message is not a gzip stream. */
    n = frame(wire, 1, "", 0);
    vw_grpc_message_init(&m, 1024, VW_GRPC_GZIP);
    assert_int_equal(feed_all(&m, wire, n, n), VW_GRPC_INTERNAL);
    vw_grpc_message_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_any_split),
        cmocka_unit_test(test_empty_message),
        cmocka_unit_test(test_unary_rules),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_encoding_names),
        cmocka_unit_test(test_announced_too_large),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_gzip_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
