/* key.c - the key rules of blob.h, in one function every store relies on. */
#include "blob/blob_internal.h"

#include <string.h>

/* Quote a short piece of a bad key for a message: printable bytes as they
 * are, others as \xNN; cut with "..." after about 60 bytes. */
static void quote(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    for (size_t i = 0; i < n && j + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 60) {
            memcpy(out + j, "...", 3);
            j += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[j++] = (char)c;
        } else {
            out[j++] = '\\', out[j++] = 'x';
            out[j++] = hex[c >> 4], out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
}

/* The rules on one segment s[0..n), which starts at byte offset at. last:
 * the final segment of a prefix, which may be empty or any printable text. */
static int segment_check(const char *what, const char *s, size_t n, size_t at, int partial,
                         ds_err *err)
{
    char q[96];
    if (n == 0 && !partial)
        return ds_fail(err, DS_EINVAL,
                       "%s has an empty path segment at byte %zu (\"//\", or a leading or "
                       "trailing '/')", what, at);
    if (n > BLOB_SEGMENT_MAX) {
        quote(s, n, q, sizeof q);
        return ds_fail(err, DS_EINVAL, "%s has a path segment of %zu bytes (\"%s\"), over the "
                       "limit of %d", what, n, q, BLOB_SEGMENT_MAX);
    }
    if (partial || n == 0 || s[0] != '.')
        return 0;
    if (n == 1 || (n == 2 && s[1] == '.'))
        return ds_fail(err, DS_EINVAL, "%s has a \"%.*s\" path segment at byte %zu (path "
                       "traversal is not allowed)", what, (int)n, s, at);
    quote(s, n, q, sizeof q);
    return ds_fail(err, DS_EINVAL, "%s has a segment starting with '.' (\"%s\") at byte %zu: "
                   "hidden names are reserved", what, q, at);
}

/* Shared by keys and prefixes. partial_last: the last segment is a prefix's
 * partial name (may be empty, or start with '.', matching nothing). */
static int check(const char *what, const char *key, size_t len, int partial_last, ds_err *err)
{
    if (len > BLOB_KEY_MAX)
        return ds_fail(err, DS_EINVAL, "%s is %zu bytes long, over the limit of %d", what, len,
                       BLOB_KEY_MAX);
    if (key[0] == '/')
        return ds_fail(err, DS_EINVAL, "%s starts with '/': absolute paths are not allowed",
                       what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '\0')
            return ds_fail(err, DS_EINVAL, "%s contains a NUL byte at byte %zu", what, i);
        if (c == '\\')
            return ds_fail(err, DS_EINVAL, "%s contains a backslash at byte %zu", what, i);
        if (c < 0x20 || c >= 0x7f)
            return ds_fail(err, DS_EINVAL, "%s contains a non-printable byte 0x%02x at byte "
                           "%zu (printable ASCII only)", what, c, i);
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && key[i] != '/')
            continue;
        int last = i == len;
        if (segment_check(what, key + start, i - start, start, last && partial_last, err) != 0)
            return -1;
        start = i + 1;
    }
    return 0;
}

int blob_key_check_n(const char *key, size_t len, ds_err *err)
{
    if (!key)
        return ds_fail(err, DS_EINVAL, "blob key is missing (NULL)");
    if (len == 0)
        return ds_fail(err, DS_EINVAL, "blob key is empty");
    return check("blob key", key, len, 0, err);
}

int blob_key_check(const char *key, ds_err *err)
{
    if (!key)
        return ds_fail(err, DS_EINVAL, "blob key is missing (NULL)");
    return blob_key_check_n(key, strlen(key), err);
}

int blob_prefix_check(const char *prefix, ds_err *err)
{
    size_t len = strlen(prefix);
    if (len == 0)
        return 0;
    return check("blob list prefix", prefix, len, 1, err);
}
