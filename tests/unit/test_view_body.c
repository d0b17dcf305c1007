/*
 * test_view_body.c - request bodies read with bounds (viewer/body.c): what
 * arrives is what the receiver gets, in any chunking; gzip is inflated as
 * it arrives; a body past its bound, corrupt or cut short is refused with
 * the status a receiver answers; a decompression bomb is refused without
 * the memory it asks for; the budget shared by all requests is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "body.h"

#define KIB ((size_t)1024)
#define MIB (KIB * KIB)

/* gzip of p[0..n) in a malloc'd buffer (*out_len bytes). */
static unsigned char *gzip_of(const void *p, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/*
 * A gzip stream of total zero bytes produced piece by piece, never held
 * inflated: the compressed form of a bomb.
 */
static unsigned char *gzip_zeros(size_t total, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
    static unsigned char zeros[64 * 1024];
    size_t cap = total / 500 + 4096, len = 0;
    unsigned char *out = malloc(cap);
    for (size_t left = total; left;) {
        size_t n = left < sizeof zeros ? left : sizeof zeros;
        left -= n;
        z.next_in = zeros;
        z.avail_in = (uInt)n;
        do {
            z.next_out = out + len;
            z.avail_out = (uInt)(cap - len);
            int rc = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
            assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
            len = cap - z.avail_out;
        } while (z.avail_in || (!left && z.avail_out == 0));
    }
    deflateEnd(&z);
    *out_len = len;
    return out;
}

/* Feed p in pieces of chunk bytes; the first nonzero status, or 0. */
static unsigned feed_chunks(vw_body *b, const void *p, size_t n, size_t chunk)
{
    const unsigned char *c = p;
    unsigned st = 0;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        unsigned r = vw_body_feed(b, c + off, k);
        if (!st) st = r;
    }
    return st;
}

static void fill_text(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] = (char)('a' + i * 7 % 26);
}

/* ---- Identity ------------------------------------------------------------------------------ */

static void test_identity_any_chunking(void **state)
{
    (void)state;
    char text[10000];
    fill_text(text, sizeof text);
    static const size_t chunks[] = {1, 7, 4096, sizeof text};
    for (size_t i = 0; i < 4; i++) {
        vw_body b;
        assert_int_equal(vw_body_begin(&b, NULL, VW_BODY_LENGTH_UNKNOWN, MIB, MIB, NULL), 0);
        assert_int_equal(feed_chunks(&b, text, sizeof text, chunks[i]), 0);
        assert_int_equal(vw_body_end(&b), 0);
        assert_int_equal(b.len, sizeof text);
        assert_memory_equal(b.data, text, sizeof text);
        assert_int_equal(b.data[b.len], '\0');
        vw_body_free(&b);
    }
}

/* A body of announced length is held in exactly one allocation of that size. */
static void test_identity_known_length_one_allocation(void **state)
{
    (void)state;
    char text[3000];
    fill_text(text, sizeof text);
    vw_body b;
    assert_int_equal(vw_body_begin(&b, "identity", sizeof text, MIB, MIB, NULL), 0);
    assert_int_equal(b.cap, sizeof text + 1);
    const char *first = b.data;
    assert_int_equal(feed_chunks(&b, text, sizeof text, 100), 0);
    assert_int_equal(vw_body_end(&b), 0);
    assert_ptr_equal(b.data, first);
    assert_int_equal(b.cap, sizeof text + 1);
    vw_body_free(&b);
}

static void test_empty_bodies(void **state)
{
    (void)state;
    static const char *const encodings[] = {NULL, "gzip"};
    for (int i = 0; i < 2; i++) {
        vw_body b;
        assert_int_equal(vw_body_begin(&b, encodings[i], 0, MIB, MIB, NULL), 0);
        assert_int_equal(vw_body_end(&b), 0);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.data, "");
        vw_body_free(&b);
    }
}

static void test_identity_over_bound(void **state)
{
    (void)state;
    char text[2048];
    fill_text(text, sizeof text);
    vw_body b;
    /* Announced: refused before a byte is read. */
    assert_int_equal(vw_body_begin(&b, NULL, 1025, 1024, MIB, NULL), 413);
    assert_non_null(strstr(b.error, "1024"));
    vw_body_free(&b);
    /* Chunked: refused at the byte past the bound, nothing kept afterwards. */
    assert_int_equal(vw_body_begin(&b, NULL, VW_BODY_LENGTH_UNKNOWN, 1024, MIB, NULL), 0);
    assert_int_equal(vw_body_feed(&b, text, 1024), 0);
    assert_int_equal(vw_body_feed(&b, text, 1), 413);
    size_t cap = b.cap;
    assert_int_equal(vw_body_feed(&b, text, sizeof text), 413);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.wire, 1024 + 1 + sizeof text); /* what arrived is still counted */
    assert_int_equal(vw_body_end(&b), 413);
    vw_body_free(&b);
    /* The smaller of the two bounds holds for an identity body. */
    assert_int_equal(vw_body_begin(&b, NULL, 600, 1024, 512, NULL), 413);
    vw_body_free(&b);
}

static void test_encodings(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        unsigned status;
    } cases[] = {
        {"gzip", 0},
        {"GZIP", 0},
        {" gzip ", 0},
        {"x-gzip", 0},
        {"identity", 0},
        {"", 0},
        {"deflate", 415},
        {"br", 415},
        {"zstd", 415},
        {"gzip, gzip", 415},
        {"gzip;q=1", 415},
        {"gzipx", 415},
        {"identity, gzip", 415},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vw_body b;
        assert_int_equal(vw_body_begin(&b, cases[i].value, 10, MIB, MIB, NULL), cases[i].status);
        vw_body_free(&b);
    }
}

/* ---- gzip ---------------------------------------------------------------------------------- */

static void test_gzip_any_chunking(void **state)
{
    (void)state;
    static char text[200000];
    fill_text(text, sizeof text);
    size_t zlen;
    unsigned char *z = gzip_of(text, sizeof text, &zlen);
    static const size_t chunks[] = {1, 13, 65536};
    for (size_t i = 0; i < 3; i++) {
        vw_body b;
        assert_int_equal(vw_body_begin(&b, "gzip", zlen, MIB, MIB, NULL), 0);
        assert_int_equal(feed_chunks(&b, z, zlen, chunks[i]), 0);
        assert_int_equal(vw_body_end(&b), 0);
        assert_int_equal(b.len, sizeof text);
        assert_memory_equal(b.data, text, sizeof text);
        assert_int_equal(b.wire, zlen);
        vw_body_free(&b);
    }
    free(z);
}

/* RFC 1952: a gzip file may hold several members, read one after the other. */
static void test_gzip_members(void **state)
{
    (void)state;
    size_t la, lb;
    unsigned char *a = gzip_of("hello, ", 7, &la), *bz = gzip_of("world", 5, &lb);
    unsigned char *both = malloc(la + lb);
    memcpy(both, a, la);
    memcpy(both + la, bz, lb);
    vw_body b;
    assert_int_equal(vw_body_begin(&b, "gzip", la + lb, MIB, MIB, NULL), 0);
    assert_int_equal(vw_body_feed(&b, both, la + lb), 0);
    assert_int_equal(vw_body_end(&b), 0);
    assert_string_equal(b.data, "hello, world");
    vw_body_free(&b);
    free(a), free(bz), free(both);
}

static void test_gzip_corrupt_and_cut(void **state)
{
    (void)state;
    char text[5000];
    fill_text(text, sizeof text);
    size_t zlen;
    unsigned char *z = gzip_of(text, sizeof text, &zlen);
    vw_body b;
    /* Not gzip at all. */
    assert_int_equal(vw_body_begin(&b, "gzip", 11, MIB, MIB, NULL), 0);
    assert_int_equal(vw_body_feed(&b, "hello world", 11), 400);
    assert_int_equal(vw_body_end(&b), 400);
    vw_body_free(&b);
    /* A damaged byte inside the deflate data or the CRC. */
    unsigned char *bad = malloc(zlen);
    memcpy(bad, z, zlen);
    bad[zlen - 6] ^= 0xff; /* the CRC-32 */
    assert_int_equal(vw_body_begin(&b, "gzip", zlen, MIB, MIB, NULL), 0);
    assert_int_equal(feed_chunks(&b, bad, zlen, 100), 400);
    assert_non_null(strstr(b.error, "corrupt"));
    vw_body_free(&b);
    /* Cut short: every prefix is refused at the end, never accepted as the whole body. */
    for (size_t n = 1; n < zlen; n += 97) {
        assert_int_equal(vw_body_begin(&b, "gzip", n, MIB, MIB, NULL), 0);
        unsigned st = vw_body_feed(&b, z, n);
        assert_true(st == 0 || st == 400);
        assert_int_equal(vw_body_end(&b), 400);
        vw_body_free(&b);
    }
    /* Garbage after a whole member. */
    unsigned char *tail = malloc(zlen + 4);
    memcpy(tail, z, zlen);
    memcpy(tail + zlen, "junk", 4);
    assert_int_equal(vw_body_begin(&b, "gzip", zlen + 4, MIB, MIB, NULL), 0);
    assert_int_equal(vw_body_feed(&b, tail, zlen + 4), 400);
    vw_body_free(&b);
    free(z), free(bad), free(tail);
}

/*
 * A bomb: 1 GiB of zeros in about a megabyte. With a bound of 1 MiB it is
 * refused once its output passes the bound: the buffer never grows past
 * the bound and a byte, and the rest of the input is never inflated.
 */
static void test_gzip_bomb(void **state)
{
    (void)state;
    size_t zlen;
    unsigned char *z = gzip_zeros((size_t)1 << 30, &zlen);
    assert_true(zlen < 2 * MIB);
    vw_body b;
    assert_int_equal(vw_body_begin(&b, "gzip", zlen, 16 * MIB, MIB, NULL), 0);
    assert_int_equal(feed_chunks(&b, z, zlen, 16 * KIB), 413);
    assert_non_null(strstr(b.error, "inflates"));
    assert_true(b.cap <= MIB + 2);
    assert_true(b.len <= MIB + 1);
    assert_int_equal(b.wire, zlen);
    assert_int_equal(vw_body_end(&b), 413);
    vw_body_free(&b);
    /* Exactly at the bound is fine; a byte more is not. */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t n;
        unsigned char *zz = gzip_zeros(MIB + extra, &n);
        assert_int_equal(vw_body_begin(&b, "gzip", n, 16 * MIB, MIB, NULL), 0);
        assert_int_equal(vw_body_feed(&b, zz, n) | vw_body_end(&b), extra ? 413 : 0);
        if (!extra) assert_int_equal(b.len, MIB);
        vw_body_free(&b);
        free(zz);
    }
    free(z);
}

/* ---- The shared budget ----------------------------------------------------------------------- */

static void test_budget(void **state)
{
    (void)state;
    vw_body_budget budget = {.limit = 100 * KIB};
    char text[60 * KIB];
    fill_text(text, sizeof text);
    vw_body a, b, c;
    /* Two bodies of 60 KiB announced: the second does not fit beside the first. */
    assert_int_equal(vw_body_begin(&a, NULL, sizeof text, MIB, MIB, &budget), 0);
    assert_int_equal(atomic_load(&budget.held), sizeof text + 1);
    assert_int_equal(vw_body_begin(&b, NULL, sizeof text, MIB, MIB, &budget), 429);
    /* Chunked, it is refused when it grows past what is left. */
    assert_int_equal(vw_body_begin(&c, NULL, VW_BODY_LENGTH_UNKNOWN, MIB, MIB, &budget), 0);
    assert_int_equal(feed_chunks(&c, text, sizeof text, 4 * KIB), 429);
    assert_non_null(strstr(c.error, "retry"));
    vw_body_free(&c);
    vw_body_free(&b);
    assert_int_equal(atomic_load(&budget.held), sizeof text + 1);
    /* Once the first is gone, there is room again; in the end everything is given back. */
    vw_body_free(&a);
    assert_int_equal(atomic_load(&budget.held), 0);
    assert_int_equal(vw_body_begin(&b, NULL, sizeof text, MIB, MIB, &budget), 0);
    assert_int_equal(vw_body_feed(&b, text, sizeof text), 0);
    assert_int_equal(vw_body_end(&b), 0);
    vw_body_free(&b);
    assert_int_equal(atomic_load(&budget.held), 0);
    vw_body_budget_release(&budget);
}

/*
 * The budget keeps one freed body's buffer for the next body, which then
 * lands in memory already faulted in (grown when it is too small): not
 * charged while kept, charged again while used, and never one larger than
 * VW_BODY_SPARE_MAX.
 */
static void test_budget_keeps_a_buffer(void **state)
{
    (void)state;
    vw_body_budget budget = {.limit = 64 * MIB};
    static char text[60 * KIB];
    fill_text(text, sizeof text);
    vw_body a, b;
    assert_int_equal(vw_body_begin(&a, NULL, sizeof text, MIB, MIB, &budget), 0);
    assert_int_equal(vw_body_feed(&a, text, sizeof text) | vw_body_end(&a), 0);
    char *first = a.data;
    vw_body_free(&a);
    assert_int_equal(atomic_load(&budget.held), 0);
    assert_ptr_equal(atomic_load(&budget.spare), first);
    /* The next body, of unknown length, takes it and reads the same bytes into it. */
    assert_int_equal(vw_body_begin(&b, NULL, VW_BODY_LENGTH_UNKNOWN, MIB, MIB, &budget), 0);
    assert_int_equal(feed_chunks(&b, text, sizeof text, 4 * KIB), 0);
    assert_int_equal(vw_body_end(&b), 0);
    assert_ptr_equal(b.data, first);
    assert_null(atomic_load(&budget.spare));
    assert_int_equal(atomic_load(&budget.held), b.cap);
    assert_int_equal(b.len, sizeof text);
    assert_memory_equal(b.data, text, sizeof text);
    vw_body_free(&b);
    /* A larger body grows the buffer kept; over the bound, it is not kept afterwards. */
    size_t big = VW_BODY_SPARE_MAX + 1;
    char *bytes = malloc(big);
    assert_non_null(bytes);
    memset(bytes, 'x', big);
    assert_int_equal(vw_body_begin(&b, NULL, big, 16 * MIB, 16 * MIB, &budget), 0);
    assert_null(atomic_load(&budget.spare));
    assert_int_equal(vw_body_feed(&b, bytes, big) | vw_body_end(&b), 0);
    assert_memory_equal(b.data, bytes, big);
    vw_body_free(&b);
    free(bytes);
    assert_null(atomic_load(&budget.spare));
    assert_int_equal(atomic_load(&budget.held), 0);
    /* The next body allocates anew, and its buffer is kept again. */
    assert_int_equal(vw_body_begin(&a, NULL, sizeof text, MIB, MIB, &budget), 0);
    assert_int_equal(vw_body_feed(&a, text, sizeof text) | vw_body_end(&a), 0);
    vw_body_free(&a);
    assert_non_null(atomic_load(&budget.spare));
    vw_body_budget_release(&budget);
    assert_null(atomic_load(&budget.spare));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_any_chunking),
        cmocka_unit_test(test_identity_known_length_one_allocation),
        cmocka_unit_test(test_empty_bodies),
        cmocka_unit_test(test_identity_over_bound),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_gzip_any_chunking),
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_gzip_corrupt_and_cut),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_budget_keeps_a_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
