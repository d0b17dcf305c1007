/*
 * file_digest.h - SHA-256 of the files a pipeline step declares as outputs.
 */
#ifndef OTELC_CLI_FILE_DIGEST_H
#define OTELC_CLI_FILE_DIGEST_H

#include <stdint.h>

#define FILE_DIGEST_HEX_LEN 64 /* lower-case hex of a SHA-256 digest */

/*
 * Hash the regular file at path with SHA-256 (OpenSSL's libcrypto, loaded
 * on the first call): its digest in lower-case hex (NUL-terminated) into
 * hex, its size into *size. Returns 0, or -1 with errno set: the open or
 * read error, EISDIR for a directory, EINVAL for another non-regular file
 * (a FIFO is never waited on), ELIBACC when libcrypto cannot be loaded.
 * Safe from any thread.
 */
int file_sha256(const char *path, char hex[FILE_DIGEST_HEX_LEN + 1], uint64_t *size);

#endif
