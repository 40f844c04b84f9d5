/* gitsha1.h - the git blob id of a file's contents.
 *
 * The hub gives a file kept in git (not LFS: config.json and friends) an
 * ETag that is its git blob id, SHA-1("blob <size>\0" + contents); `model
 * fetch` compares it with the cached copy's to tell a changed file of the
 * same size. SHA-1 (FIPS 180-4) serves only as git's content address here,
 * never as a defence against a forger: the LFS weights are checked by sha256.
 */
#ifndef DS_GITSHA1_H
#define DS_GITSHA1_H

#include <stddef.h>

#define MDL_GIT_SHA1_HEXLEN 40

/* The lower-case hex git blob id of data[0..n) into hex. */
void mdl_git_blob_sha1(const void *data, size_t n, char hex[MDL_GIT_SHA1_HEXLEN + 1]);

#endif
