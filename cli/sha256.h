/*
 * sha256.h - SHA-256 (FIPS 180-4) for recording pipeline outputs.
 *
 * The otelc command hashes the files a pipeline step declares as outputs;
 * a dependency on a crypto library for that alone is not worth it.
 */
#ifndef OTELC_CLI_SHA256_H
#define OTELC_CLI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN    64

typedef struct sha256_ctx {
    uint32_t state[8];
    uint64_t bytes; /* message length so far */
    uint8_t block[64];
    size_t fill; /* bytes waiting in block */
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(sha256_ctx *ctx, uint8_t digest[SHA256_DIGEST_LEN]);

/* One-shot digest of data[0..len). */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_LEN]);

/* Lower-case hex of a digest plus a NUL. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_LEN], char out[SHA256_HEX_LEN + 1]);

/*
 * Hash the regular file at path: fills digest and *size. Returns 0, or -1
 * with errno set (a directory or other non-regular file gives EISDIR/EINVAL).
 */
int sha256_file(const char *path, uint8_t digest[SHA256_DIGEST_LEN], uint64_t *size);

#endif
