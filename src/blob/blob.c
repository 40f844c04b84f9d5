/* blob.c - the public face of the blob store: check, then dispatch to the
 * implementation's table. */
#include "blob/blob_internal.h"

#include <string.h>

static int ctype_check(const char *ct, ds_err *err)
{
    size_t n = strlen(ct);
    if (n == 0 || n >= BLOB_CTYPE_MAX)
        return ds_fail(err, DS_EINVAL, "content type must be 1 to %d bytes (got %zu)",
                       BLOB_CTYPE_MAX - 1, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)ct[i] < 0x20 || (unsigned char)ct[i] >= 0x7f)
            return ds_fail(err, DS_EINVAL,
                           "content type contains a non-printable byte 0x%02x at byte %zu",
                           (unsigned char)ct[i], i);
    return 0;
}

static int store_check(const blob_store *s, ds_err *err)
{
    if (!s || !s->m)
        return ds_fail(err, DS_EINVAL, "no blob store (NULL)");
    return 0;
}

int blob_open(const char *spec, const blob_s3_config *s3, blob_store **out, ds_err *err)
{
    if (out)
        *out = NULL;
    if (!spec || !*spec || !out)
        return ds_fail(err, DS_EINVAL, "blob store: no location given");
    if (strncmp(spec, "s3://", 5) == 0)
        return blob_s3_open(spec, s3, out, err);
    if (strncmp(spec, "dir:", 4) == 0)
        spec += 4;
    else if (strstr(spec, "://"))
        return ds_fail(err, DS_EINVAL, "blob store \"%s\": unknown scheme (expected a "
                       "directory, \"dir:PATH\" or \"s3://...\")", spec);
    return blob_dir_open(spec, out, err);
}

const char *blob_store_kind(const blob_store *s)
{
    return s && s->m && s->m->name ? s->m->name : "none";
}

void blob_free(blob_store *s)
{
    if (s && s->m)
        s->m->free(s);
}

int blob_put(blob_store *s, const char *key, const void *data, size_t len,
             const char *content_type, ds_err *err)
{
    if (store_check(s, err) != 0 || blob_key_check(key, err) != 0)
        return -1;
    if (!data && len > 0)
        return ds_fail(err, DS_EINVAL, "blob_put \"%s\": no data for %zu bytes", key, len);
    if (content_type && ctype_check(content_type, err) != 0)
        return -1;
    return s->m->put(s, key, data, len, content_type ? content_type : BLOB_DEFAULT_CTYPE, err);
}

int blob_get(blob_store *s, const char *key, void **data_out, size_t *len_out,
             blob_info *info_out, ds_err *err)
{
    if (data_out)
        *data_out = NULL;
    if (len_out)
        *len_out = 0;
    if (store_check(s, err) != 0 || blob_key_check(key, err) != 0)
        return -1;
    if (!data_out || !len_out)
        return ds_fail(err, DS_EINVAL, "blob_get: no place for the data");
    return s->m->get(s, key, data_out, len_out, info_out, err);
}

int blob_head(blob_store *s, const char *key, blob_info *info_out, ds_err *err)
{
    if (store_check(s, err) != 0 || blob_key_check(key, err) != 0)
        return -1;
    if (!info_out)
        return ds_fail(err, DS_EINVAL, "blob_head: no place for the info");
    return s->m->head(s, key, info_out, err);
}

int blob_delete(blob_store *s, const char *key, ds_err *err)
{
    if (store_check(s, err) != 0 || blob_key_check(key, err) != 0)
        return -1;
    return s->m->del(s, key, err);
}

int blob_sweep(blob_store *s, const char *dir, size_t *removed, ds_err *err)
{
    size_t n = 0;
    int rc = 0;
    if (store_check(s, err) != 0 || blob_key_check(dir, err) != 0)
        rc = -1;
    else if (s->m->sweep)
        rc = s->m->sweep(s, dir, &n, err);
    if (removed)
        *removed = n;
    return rc;
}

int blob_list(blob_store *s, const char *prefix, blob_list_fn fn, void *ctx, ds_err *err)
{
    if (store_check(s, err) != 0)
        return -1;
    if (!fn)
        return ds_fail(err, DS_EINVAL, "blob_list: no callback");
    if (!prefix)
        prefix = "";
    if (blob_prefix_check(prefix, err) != 0)
        return -1;
    return s->m->list(s, prefix, fn, ctx, err);
}
