/*
 * test_file_digest.c - SHA-256 of output files (cli/file_digest.c) against
 * the FIPS 180-4 / NIST example vectors, against coreutils' sha256sum on a
 * file larger than one read, and its errors for what is not a regular file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* The command's sources are not in the library: compile the one under test in. */
#include "../../cli/file_digest.c"

#ifdef OTELC_LIBCRYPTO_SONAME

/* A new temporary file holding len bytes of data; its path in path. */
static void write_temp(char path[32], const void *data, size_t len)
{
    strcpy(path, "/tmp/otelc-digest-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
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
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char path[32], hex[FILE_DIGEST_HEX_LEN + 1];
        uint64_t size = 99;
        write_temp(path, v[i].msg, strlen(v[i].msg));
        assert_int_equal(file_sha256(path, hex, &size), 0);
        assert_string_equal(hex, v[i].hex);
        assert_int_equal(size, strlen(v[i].msg));
        unlink(path);
    }
}

/* One million 'a' (the NIST long vector): many reads, and what sha256sum says of the same file. */
static void test_million_a_and_sha256sum(void **state)
{
    (void)state;
    size_t n = 1000000;
    char *data = malloc(n);
    assert_non_null(data);
    memset(data, 'a', n);
    char path[32], hex[FILE_DIGEST_HEX_LEN + 1];
    uint64_t size = 0;
    write_temp(path, data, n);
    free(data);
    assert_int_equal(file_sha256(path, hex, &size), 0);
    assert_int_equal(size, n);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    char cmd[96], line[128] = "";
    snprintf(cmd, sizeof cmd, "sha256sum %s", path);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (!fgets(line, sizeof line, p)) line[0] = '\0';
        if (pclose(p) == 0) assert_memory_equal(line, hex, FILE_DIGEST_HEX_LEN);
    }
    unlink(path);
}

static void test_not_regular_files(void **state)
{
    (void)state;
    char hex[FILE_DIGEST_HEX_LEN + 1];
    uint64_t size;
    assert_int_equal(file_sha256("/tmp/otelc-digest-no-such-file", hex, &size), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(file_sha256("/tmp", hex, &size), -1);
    assert_int_equal(errno, EISDIR);
    char fifo[] = "/tmp/otelc-digest-fifo-XXXXXX";
    int fd = mkstemp(fifo);
    assert_true(fd >= 0);
    close(fd);
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(file_sha256(fifo, hex, &size), -1); /* at once: nobody writes to it */
    assert_int_equal(errno, EINVAL);
    unlink(fifo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a_and_sha256sum),
        cmocka_unit_test(test_not_regular_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* built without OpenSSL's headers */

static void test_no_libcrypto(void **state)
{
    (void)state;
    char hex[FILE_DIGEST_HEX_LEN + 1];
    uint64_t size;
    assert_int_equal(file_sha256("/etc/hostname", hex, &size), -1);
    assert_int_equal(errno, ELIBACC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_libcrypto)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
