/* secret.h - comparing a secret that a client sends (the API key) without
 * telling the client, through the time the comparison takes, how much of
 * it was right.
 *
 * A plain strcmp stops at the first wrong byte, so its time grows with the
 * length of the matching prefix: a client that can time many requests
 * guesses the key a byte at a time. ds_secret_equal hashes both strings
 * with SHA-256 and compares the two digests with ds_ct_equal, which reads
 * every byte whatever they hold. Its time therefore depends only on the
 * two lengths (each is hashed whole), never on the contents, and the
 * hashing also hides how long the secret is: there is no separate length
 * check that answers early. */
#ifndef DS_SECRET_H
#define DS_SECRET_H

#include <stddef.h>

/* 1 when the n bytes at a and b are equal, else 0; always reads all n of
 * each and never branches on them. */
int ds_ct_equal(const void *a, const void *b, size_t n);

/* 1 when given equals secret (both NUL-terminated), else 0 (also when
 * either is NULL). */
int ds_secret_equal(const char *given, const char *secret);

#endif
