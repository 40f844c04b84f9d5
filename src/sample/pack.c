/* pack.c - files, ZIPs built in memory, and the weekly tar, with libarchive.
 *
 * Every entry gets the same owner (0:0), mode (0644) and time (the issue
 * date at midnight UTC), so that archives depend on their content only.
 */
#include "sample/sample_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int pk_write_file(const char *path, const void *data, size_t len, ds_err *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return ds_fail(err, DS_EIO, "cannot write %s: %s", path, strerror(errno));
    int ok = fwrite(data, 1, len, f) == len;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (!ok)
        return ds_fail(err, DS_EIO, "cannot write %s: %s", path, strerror(e));
    return 0;
}

int pk_mkdirs(const char *path, ds_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return ds_fail(err, DS_EINVAL, "bad directory name '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        struct stat st;
        if (mkdir(buf, 0755) != 0 && (errno != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)))
            return ds_fail(err, DS_EIO, "cannot create directory %s: %s", buf,
                           errno == EEXIST ? "a file is in the way" : strerror(errno));
        buf[i] = c;
    }
    return 0;
}

static time_t midnight(int date) { return (time_t)sp_days(date) * 86400; }

static struct archive_entry *entry_for(const char *name, size_t len, int date)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return NULL;
    archive_entry_set_pathname(e, name);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, midnight(date), 0);
    return e;
}

/* Write one member: header and all its bytes. */
static int add_member(struct archive *a, const char *name, const void *data, size_t len,
                      int date, const char *what, ds_err *err)
{
    struct archive_entry *e = entry_for(name, len, date);
    if (!e)
        return ds_fail(err, DS_ENOMEM, "%s: out of memory", what);
    int rc = archive_write_header(a, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK)
        return ds_fail(err, DS_EIO, "%s: %s: %s", what, name, archive_error_string(a));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        la_ssize_t w = archive_write_data(a, p, left);
        if (w <= 0)
            return ds_fail(err, DS_EIO, "%s: %s: %s", what, name,
                           archive_error_string(a) ? archive_error_string(a) : "write failed");
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

/* ---- ZIP in memory ---------------------------------------------------------- */

typedef struct membuf {
    unsigned char *p;
    size_t n, cap;
} membuf;

static la_ssize_t membuf_write(struct archive *a, void *ctx, const void *data, size_t n)
{
    membuf *m = ctx;
    if (m->n + n > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap < m->n + n)
            cap *= 2;
        unsigned char *p = realloc(m->p, cap);
        if (!p) {
            archive_set_error(a, ENOMEM, "out of memory");
            return -1;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, data, n);
    m->n += n;
    return (la_ssize_t)n;
}

int pk_zip(const pk_member *m, int n, int date, void **zip, size_t *len, ds_err *err)
{
    membuf out = {0};
    int rc = -1;
    *zip = NULL;
    *len = 0;
    struct archive *a = archive_write_new();
    if (!a)
        return ds_fail(err, DS_ENOMEM, "zip: out of memory");
    /* Unblocked: a ZIP must not be padded the way tar blocks are. */
    if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
        archive_write_zip_set_compression_deflate(a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open(a, &out, NULL, membuf_write, NULL) != ARCHIVE_OK) {
        ds_fail(err, DS_EIO, "zip: %s", archive_error_string(a));
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (add_member(a, m[i].name, m[i].data, m[i].len, date, "zip", err) != 0)
            goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        ds_fail(err, DS_EIO, "zip: %s", archive_error_string(a));
        goto out;
    }
    *zip = out.p;
    *len = out.n;
    out.p = NULL;
    rc = 0;
out:
    archive_write_free(a);
    free(out.p);
    return rc;
}

/* ---- tar ------------------------------------------------------------------------ */

struct pk_tar {
    struct archive *a;
    char path[4096];
};

int pk_tar_open(const char *path, pk_tar **out, ds_err *err)
{
    *out = NULL;
    pk_tar *t = calloc(1, sizeof *t);
    if (!t || !(t->a = archive_write_new())) {
        free(t);
        return ds_fail(err, DS_ENOMEM, "tar: out of memory");
    }
    snprintf(t->path, sizeof t->path, "%s", path);
    if (archive_write_set_format_ustar(t->a) != ARCHIVE_OK ||
        archive_write_open_filename(t->a, path) != ARCHIVE_OK) {
        ds_fail(err, DS_EIO, "cannot write %s: %s", path, archive_error_string(t->a));
        archive_write_free(t->a);
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int pk_tar_add(pk_tar *t, const char *name, const void *data, size_t len, int date, ds_err *err)
{
    return add_member(t->a, name, data, len, date, t->path, err);
}

int pk_tar_close(pk_tar *t, uint64_t *bytes, ds_err *err)
{
    int rc = 0;
    if (!t)
        return 0;
    if (archive_write_close(t->a) != ARCHIVE_OK)
        rc = ds_fail(err, DS_EIO, "cannot write %s: %s", t->path, archive_error_string(t->a));
    struct stat st;
    if (bytes)
        *bytes = rc == 0 && stat(t->path, &st) == 0 ? (uint64_t)st.st_size : 0;
    archive_write_free(t->a);
    free(t);
    return rc;
}
