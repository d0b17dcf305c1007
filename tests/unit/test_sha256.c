/*
 * test_sha256.c - the otelc command's SHA-256 (cli/sha256.c) against the
 * FIPS 180-4 / NIST example vectors, chunked updates and file hashing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* The command's sources are not in the library: compile the one under test in. */
#include "../../cli/sha256.c"

static void hex_of(const void *data, size_t len, char out[65])
{
    uint8_t d[SHA256_DIGEST_LEN];
    sha256(data, len, d);
    sha256_hex(d, out);
}

static void test_fips_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
         "lmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        hex_of(v[i].msg, strlen(v[i].msg), hex);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_million_a(void **state)
{
    (void)state;
    char block[1000];
    memset(block, 'a', sizeof block);
    sha256_ctx ctx;
    sha256_init(&ctx);
    for (int i = 0; i < 1000; i++) sha256_update(&ctx, block, sizeof block);
    uint8_t d[SHA256_DIGEST_LEN];
    char hex[65];
    sha256_final(&ctx, d);
    sha256_hex(d, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Padding edges (55, 56, 63, 64, 65 bytes) and every split point give the one-shot digest. */
static void test_chunking(void **state)
{
    (void)state;
    uint8_t msg[200];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 1);
    static const size_t lens[] = {55, 56, 63, 64, 65, 119, 120, 128, 200};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        uint8_t whole[SHA256_DIGEST_LEN];
        sha256(msg, lens[l], whole);
        for (size_t split = 0; split <= lens[l]; split++) {
            sha256_ctx ctx;
            uint8_t parts[SHA256_DIGEST_LEN];
            sha256_init(&ctx);
            sha256_update(&ctx, msg, split);
            sha256_update(&ctx, msg + split, lens[l] - split);
            sha256_final(&ctx, parts);
            assert_memory_equal(whole, parts, SHA256_DIGEST_LEN);
        }
    }
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/otelc-sha256-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc", 3), 3);
    close(fd);
    uint8_t d[SHA256_DIGEST_LEN];
    uint64_t size = 0;
    char hex[65];
    assert_int_equal(sha256_file(path, d, &size), 0);
    sha256_hex(d, hex);
    assert_int_equal(size, 3);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    unlink(path);
    assert_int_equal(sha256_file(path, d, &size), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(sha256_file("/tmp", d, &size), -1);
    assert_int_equal(errno, EISDIR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
