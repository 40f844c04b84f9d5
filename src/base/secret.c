/* secret.c - see secret.h. */
#include "base/secret.h"

#include <string.h>

#include "base/sha256.h"

int ds_ct_equal(const void *a, const void *b, size_t n)
{
    /* volatile: the compiler may not turn the loop into one that stops at
     * the first difference, or into a library memcmp that does. */
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}

int ds_secret_equal(const char *given, const char *secret)
{
    if (!given || !secret)
        return 0;
    /* Digests of equal length, compared whole: equal digests mean equal
     * strings (SHA-256 has no known collisions), and the work done does not
     * depend on how much of given matches. */
    unsigned char g[DS_SHA256_LEN], s[DS_SHA256_LEN];
    ds_sha256_buf(given, strlen(given), g);
    ds_sha256_buf(secret, strlen(secret), s);
    return ds_ct_equal(g, s, sizeof g);
}
