/* blob.h - the blob store: originals and thumbnails, by key.
 *
 * One interface, several implementations behind a const table of function
 * pointers (as SQLite's VFS), chosen once at start-up: a local directory
 * (blob_dir_open, src/blob/dir.c) or an S3 bucket (blob_s3_open,
 * src/blob/s3.c). Callers hold a blob_store * and never know which one it is.
 *
 * Keys are strings such as "originals/D0701016/D0701016-D00001.TIF" or
 * "thumbnails/D0701016/D0701016-D00001.jpg". Every key is checked by
 * blob_key_check_n() in the public wrappers below, before any implementation
 * sees it, so that every store accepts exactly the same set of keys and data
 * moves between them unchanged:
 *   - 1 to BLOB_KEY_MAX (1024) bytes, printable ASCII only (0x20..0x7e: no
 *     NUL, no control characters, no bytes >= 0x80);
 *   - segments separated by '/': no leading '/', no trailing '/', no empty
 *     segment ("a//b");
 *   - no '\\' anywhere;
 *   - no segment starting with '.', so never "." or ".." (path traversal) and
 *     never a hidden name: the directory store keeps its sidecars and
 *     temporary files under such names, where no key can reach them;
 *   - each segment at most BLOB_SEGMENT_MAX (240) bytes, so that a key always
 *     fits a file name (NAME_MAX 255) with the directory store's decorations.
 *
 * Errors: every function returns 0 on success and -1 on failure with the
 * caller's ds_err filled: DS_EINVAL for a bad key or argument, DS_ENOTFOUND
 * for a missing key, DS_EIO for the storage failing, DS_ENOMEM.
 *
 * Thread safety: after a store is opened, every function except blob_free may
 * be called from several threads at once on the same store. Concurrent puts
 * of one key leave one of the values, whole; a get never sees a partial blob.
 */
#ifndef DS_BLOB_H
#define DS_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define BLOB_KEY_MAX 1024      /* bytes in a key, without the NUL */
#define BLOB_SEGMENT_MAX 240   /* bytes in one '/'-separated segment */
#define BLOB_ETAG_MAX 80       /* room for an etag and its NUL */
#define BLOB_CTYPE_MAX 128     /* room for a content type and its NUL */

typedef struct blob_store blob_store;

/* What a store knows about one blob. */
typedef struct blob_info {
    uint64_t size;                       /* bytes */
    int64_t mtime;                       /* last written, Unix seconds */
    char etag[BLOB_ETAG_MAX];            /* directory store: lower-case hex
                                            sha256 of the content (64 chars);
                                            stable for the same content;
                                            "" in blob_list (call blob_head) */
    char content_type[BLOB_CTYPE_MAX];   /* as given to blob_put, or
                                            "application/octet-stream" */
} blob_info;

/* Called once per key by blob_list, in the store's order (below). info has size
 * and mtime (etag is ""; content_type may be ""). key and info are valid only
 * during the call. Return 0 to go on, non-zero to stop the listing (then
 * blob_list returns 0). */
typedef int (*blob_list_fn)(void *ctx, const char *key, const blob_info *info);

/* ---- keys ----------------------------------------------------------------- */

/* Check a key against the rules above. key need not be NUL-terminated: len
 * bytes are checked, so a NUL inside (from a URL's "%00") is refused rather
 * than cutting the key short. Returns 0, or -1 with DS_EINVAL and a message
 * naming the problem and where it is. O(len), no allocation, thread-safe. */
int blob_key_check_n(const char *key, size_t len, ds_err *err);

/* blob_key_check_n(key, strlen(key)); a NULL key is refused. */
int blob_key_check(const char *key, ds_err *err);

/* ---- opening -------------------------------------------------------------- */

/* Open (creating it and its parents if missing) a directory store rooted at
 * root. The blob "a/b.jpg" is the file root/a/b.jpg; see dir.c for the layout.
 * On success *out is a new store the caller frees with blob_free. Keeps one
 * open directory descriptor. Returns 0, or -1 (root is not a directory, not
 * writable, ...). */
int blob_dir_open(const char *root, blob_store **out, ds_err *err);

/* How an S3 store is reached. Every field may be left 0/NULL for its
 * default; credentials default to the usual AWS environment variables. */
typedef enum blob_s3_addressing {
    BLOB_S3_AUTO = 0,    /* path-style with an endpoint, virtual-host on AWS */
    BLOB_S3_PATH = 1,    /* http://host/bucket/key (MinIO, SeaweedFS) */
    BLOB_S3_VIRTUAL = 2, /* http://bucket.host/key (AWS) */
} blob_s3_addressing;

typedef struct blob_s3_config {
    const char *endpoint;      /* "http://127.0.0.1:9000"; NULL: AWS,
                                  https://s3.REGION.amazonaws.com */
    const char *region;        /* NULL: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1 */
    const char *access_key;    /* NULL: $AWS_ACCESS_KEY_ID (none: unsigned requests) */
    const char *secret_key;    /* NULL: $AWS_SECRET_ACCESS_KEY */
    const char *session_token; /* NULL: $AWS_SESSION_TOKEN, if set */
    blob_s3_addressing addressing;
    int timeout_ms;            /* one attempt, plus 1 ms per KB sent; 0: 10000 */
    int connect_timeout_ms;    /* 0: 5000 */
    int retries;               /* attempts after a retryable failure; 0: 3; -1: none */
} blob_s3_config;

/* Open an S3 store: url is "s3://bucket" or "s3://bucket/prefix" (keys are
 * stored as objects "prefix/key"). The bucket is created when missing, now
 * or, when the server cannot be reached, at the first put: a store opens
 * while S3 is down and its calls fail with DS_ENET until it is back. See
 * s3.c for signing, retries and integrity checks. */
int blob_s3_open(const char *url, const blob_s3_config *cfg, blob_store **out, ds_err *err);

/* Open the store a configuration string names, the one choice made at
 * start-up: "dir:PATH" or a plain PATH opens a directory store, "s3://..."
 * an S3 store with s3's settings (s3 may be NULL: every default). */
int blob_open(const char *spec, const blob_s3_config *s3, blob_store **out, ds_err *err);

/* The implementation's name ("dir"). Static; never NULL. */
const char *blob_store_kind(const blob_store *s);

/* Close the store and free it. NULL is a harmless no-op. Not to be called
 * while another thread is using the store. */
void blob_free(blob_store *s);

/* ---- operations ----------------------------------------------------------- */

/* Store len bytes (data may be NULL when len is 0) under key, replacing any
 * blob there. Atomic: readers see the old blob or the new one, never a part,
 * and after a crash the key holds one or the other. Durable when it returns
 * (data and directory entries are fsync'ed). content_type may be NULL
 * ("application/octet-stream"); otherwise printable ASCII, shorter than
 * BLOB_CTYPE_MAX. Copies data; keeps no pointer. Cost: O(len) to hash and
 * write, plus two fsyncs. */
int blob_put(blob_store *s, const char *key, const void *data, size_t len,
             const char *content_type, ds_err *err);

/* Read the whole blob. On success *data_out is a new malloc'ed buffer of
 * *len_out bytes plus a terminating NUL not counted in *len_out (so text can
 * be used as a string); the caller frees it with free(). info_out may be
 * NULL; when given it is filled as blob_head would. DS_ENOTFOUND when the key
 * is absent. Cost: O(size). */
int blob_get(blob_store *s, const char *key, void **data_out, size_t *len_out,
             blob_info *info_out, ds_err *err);

/* Size, mtime, etag and content type without reading the content (directory
 * store: O(1) when the sidecar written by blob_put matches the file; O(size)
 * to re-hash a file that was replaced by other means). DS_ENOTFOUND when
 * absent. */
int blob_head(blob_store *s, const char *key, blob_info *info_out, ds_err *err);

/* Remove the blob. DS_ENOTFOUND when it is absent (callers that do not care
 * may ignore that code). */
int blob_delete(blob_store *s, const char *key, ds_err *err);

/* Remove what puts cut short by a crash (SIGKILL, a power cut) left in the
 * directory dir (a key prefix without its trailing '/', such as
 * "originals/designs"): the directory store's temporary files of writers
 * that no longer run. A live writer's are kept, whichever process it is in.
 * Nothing to do for a store whose puts leave nothing (S3). *removed (may
 * be NULL) counts the files removed; a missing directory is no error.
 * Cost: one pass over the directory's entries. */
int blob_sweep(blob_store *s, const char *dir, size_t *removed, ds_err *err);

/* Call fn for every key starting with prefix (a plain string prefix, as S3's:
 * "thumbnails/D07" matches "thumbnails/D0701016/x.jpg"), each once, in the
 * store's order: byte order of the keys for the directory store, AWS S3 and
 * MinIO; SeaweedFS lists its tree a level at a time ("a/b" before "a-c"), so
 * callers must not depend on the order. prefix may be NULL or "" for every key; it is checked like a key,
 * except that it may be empty or end in '/' or in a partial segment. Cost:
 * O(entries under the prefix's directory). Blobs put or deleted during the
 * listing may or may not be seen. Returns 0 (also when fn stopped it), or -1. */
int blob_list(blob_store *s, const char *prefix, blob_list_fn fn, void *ctx, ds_err *err);

#endif
