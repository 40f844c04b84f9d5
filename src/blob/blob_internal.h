/* blob_internal.h - what an implementation of blob.h provides; not for
 * callers (they use blob.h).
 *
 *   blob.c   the public wrappers: check keys and arguments, then dispatch
 *   key.c    the one key check every store relies on
 *   dir.c    the directory store
 *
 * An implementation "subclasses" blob_store by putting it first in its own
 * struct, and fills a const blob_methods table. The wrappers have already
 * checked every key (and the prefix of list), content_type, and that the out
 * pointers are not NULL, so methods need not check them again. Methods may
 * be called from several threads at once (except free).
 */
#ifndef DS_BLOB_INTERNAL_H
#define DS_BLOB_INTERNAL_H

#include "blob/blob.h"

typedef struct blob_methods {
    int version; /* 1 */
    const char *name;
    int (*put)(blob_store *s, const char *key, const void *data, size_t len,
               const char *content_type, ds_err *err);
    /* info may be NULL. */
    int (*get)(blob_store *s, const char *key, void **data, size_t *len, blob_info *info,
               ds_err *err);
    int (*head)(blob_store *s, const char *key, blob_info *info, ds_err *err);
    int (*del)(blob_store *s, const char *key, ds_err *err);
    /* prefix is never NULL (the wrapper passes "" for NULL). */
    int (*list)(blob_store *s, const char *prefix, blob_list_fn fn, void *ctx, ds_err *err);
    void (*free)(blob_store *s);
    /* May be NULL: the store's puts leave nothing behind. dir is checked
     * as a key. */
    int (*sweep)(blob_store *s, const char *dir, size_t *removed, ds_err *err);
} blob_methods;

struct blob_store {
    const blob_methods *m;
};

#define BLOB_DEFAULT_CTYPE "application/octet-stream"

/* Check a list prefix: "" is fine; otherwise as a key, except that the last
 * segment may be empty (a trailing '/') or any printable partial name. */
int blob_prefix_check(const char *prefix, ds_err *err);

#endif
