/* fingerprint.h - which weights a model directory holds.
 *
 * Two sets of weights of one architecture (facebook/dinov2-small and a
 * fine-tune of it) have the same config.json, so the catalog tells them
 * apart by the sha256 of model.safetensors. Hashing costs one pass over the
 * file (about 1 s per 300 MB), so the digest is kept beside it, in
 * "model.safetensors.fingerprint" ("<hex> <size> <mtime> <ctime> <inode>"),
 * and trusted while the file's size, times and inode are unchanged:
 * replacing or rewriting the file changes its ctime, which no tool can set
 * back. A directory that cannot be written costs the pass at every start.
 */
#ifndef DS_FINGERPRINT_H
#define DS_FINGERPRINT_H

#include "base/error.h"
#include "base/sha256.h"

/* The lower-case hex sha256 of DIR/model.safetensors into hex. Returns 0, or
 * -1 with err (the file cannot be read). */
int mdl_weights_sha256(const char *dir, char hex[DS_SHA256_HEXLEN + 1], ds_err *err);

#endif
