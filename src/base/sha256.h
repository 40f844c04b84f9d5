/* sha256.h - SHA-256 (FIPS 180-4), streaming.
 *
 * Used to check downloaded model files against the hub's published sha256.
 * Feed the data in pieces of any size with ds_sha256_update; the digest is
 * the same however it is split. No allocation; a ds_sha256 is ~110 bytes and
 * may live on the stack. Each context is independent, so threads may hash in
 * parallel with one context each. Costs O(n), roughly 200-400 MB/s.
 */
#ifndef DS_SHA256_H
#define DS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define DS_SHA256_LEN 32     /* digest bytes */
#define DS_SHA256_HEXLEN 64  /* hex characters, without the NUL */

typedef struct ds_sha256 {
    uint32_t h[8];      /* chaining state H0..H7 */
    uint64_t total;     /* bytes fed so far */
    uint8_t block[64];  /* the partial block not yet compressed */
    size_t fill;        /* bytes used in block, 0..63 */
} ds_sha256;

/* Start a new digest (also resets a used context). */
void ds_sha256_init(ds_sha256 *s);

/* Add n bytes (data may be NULL when n is 0). */
void ds_sha256_update(ds_sha256 *s, const void *data, size_t n);

/* Finish: write the 32-byte digest into out. The context must be
 * re-initialised before further use. */
void ds_sha256_final(ds_sha256 *s, uint8_t out[DS_SHA256_LEN]);

/* One-shot digest of a buffer. */
void ds_sha256_buf(const void *data, size_t n, uint8_t out[DS_SHA256_LEN]);

/* Lower-case hex of a digest: writes 64 characters and a NUL into hex. */
void ds_sha256_hex(const uint8_t digest[DS_SHA256_LEN], char hex[DS_SHA256_HEXLEN + 1]);

#endif
