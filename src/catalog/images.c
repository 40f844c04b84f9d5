/* images.c - images, their vectors, and streaming the vectors back (see
 * catalog.h). Vectors are stored as float32 little-endian BLOBs. */
#include "catalog/catalog_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IMAGE_COLUMNS                                                                   \
    "id, collection_id, patent_id, image_index, file_name, object_key, width, height, " \
    "content_hash, created_at"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CAT_BIG_ENDIAN 1
#else
#define CAT_BIG_ENDIAN 0
#endif

/* Copy n floats between host order and the stored little-endian order (the
 * same operation both ways). */
static void copy_le(float *dst, const void *src, size_t n)
{
    memcpy(dst, src, n * sizeof(float));
#if CAT_BIG_ENDIAN
    unsigned char *b = (unsigned char *)dst;
    for (size_t i = 0; i < n; i++, b += 4) {
        unsigned char t0 = b[0], t1 = b[1];
        b[0] = b[3];
        b[1] = b[2];
        b[2] = t1;
        b[3] = t0;
    }
#endif
}

void cat_image_clear(cat_image *img)
{
    if (!img)
        return;
    free(img->patent_id);
    free(img->file_name);
    free(img->object_key);
    free(img->content_hash);
    memset(img, 0, sizeof *img);
}

void cat_image_list_free(cat_image *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        cat_image_clear(&list[i]);
    free(list);
}

/* A sha256 hex digest, lowered into out[65]; 0 if it is not one. */
static int normalise_hash(const char *hash, char out[65])
{
    if (strlen(hash) != 64)
        return 0;
    for (int i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)hash[i]))
            return 0;
        out[i] = (char)tolower((unsigned char)hash[i]);
    }
    out[64] = '\0';
    return 1;
}

/* Fill *img from the current row (columns IMAGE_COLUMNS). */
static int read_row(sqlite3_stmt *st, cat_image *img, ds_err *err)
{
    int oom = 0;
    memset(img, 0, sizeof *img);
    img->id = sqlite3_column_int64(st, 0);
    img->collection_id = sqlite3_column_int64(st, 1);
    img->patent_id = cat__col_text(st, 2, &oom);
    img->image_index = sqlite3_column_int(st, 3);
    img->file_name = cat__col_text(st, 4, &oom);
    img->object_key = cat__col_text(st, 5, &oom);
    img->width = sqlite3_column_int(st, 6);
    img->height = sqlite3_column_int(st, 7);
    img->content_hash = cat__col_text(st, 8, &oom);
    img->created_at = sqlite3_column_int64(st, 9);
    if (oom) {
        cat_image_clear(img);
        return ds_fail(err, DS_ENOMEM, "catalog: out of memory");
    }
    return 0;
}

/* Checks that need no database. */
static int check_image(const cat_image *img, const float *vector, char hash[65], ds_err *err)
{
    if (!img || !img->file_name || !*img->file_name)
        return ds_fail(err, DS_EINVAL, "catalog: an image needs a file_name");
    if (!vector)
        return ds_fail(err, DS_EINVAL, "image %s: no vector", img->file_name);
    if (img->content_hash && !normalise_hash(img->content_hash, hash))
        return ds_fail(err, DS_EINVAL, "image %s: content_hash \"%s\" is not 64 hex digits",
                       img->file_name, img->content_hash);
    return 0;
}

/* The INSERT itself (mutex held, inside a write bracket). */
static int insert_image(cat_db *db, int64_t coll, const cat_image *img, const char *hash,
                        const float *vector, size_t dimension, int64_t *id_out, ds_err *err)
{
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_INSERT,
                                 "INSERT INTO images (collection_id, patent_id, image_index, "
                                 "file_name, object_key, width, height, content_hash, "
                                 "created_at, vector) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                 err);
    if (!st)
        return -1;
    size_t bytes = dimension * sizeof(float);
    const void *blob = vector;
    float *swapped = NULL;
    if (CAT_BIG_ENDIAN) {
        swapped = malloc(bytes);
        if (!swapped)
            return ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        copy_le(swapped, vector, dimension);
        blob = swapped;
    }
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, img->patent_id);
    sqlite3_bind_int(st, 3, img->image_index);
    cat__bind_text(st, 4, img->file_name);
    cat__bind_text(st, 5, img->object_key);
    if (img->width > 0)
        sqlite3_bind_int(st, 6, img->width);
    if (img->height > 0)
        sqlite3_bind_int(st, 7, img->height);
    cat__bind_text(st, 8, img->content_hash ? hash : NULL);
    sqlite3_bind_int64(st, 9, (int64_t)time(NULL));
    sqlite3_bind_blob(st, 10, blob, (int)bytes, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    int rc = 0;
    if (step != SQLITE_DONE) {
        rc = cat__sqlfail(db, err, "catalog: storing an image");
        if ((sqlite3_extended_errcode(db->db)) == SQLITE_CONSTRAINT_UNIQUE)
            ds_fail(err, DS_EINVAL, "image %s is already in collection %lld", img->file_name,
                    (long long)coll);
        else
            ds_wrap(err, "image %s: ", img->file_name);
    } else if (id_out) {
        *id_out = sqlite3_last_insert_rowid(db->db);
    }
    sqlite3_reset(st);
    free(swapped);
    return rc;
}

int cat_image_add(cat_db *db, int64_t coll, const cat_image *img, const float *vector,
                  size_t dimension, int64_t *id_out, ds_err *err)
{
    char hash[65];
    int dim = 0, ok = 0;
    if (check_image(img, vector, hash, err) < 0)
        return -1;
    cat__lock(db);
    if (cat__coll_dim(db, coll, &dim, err) < 0) {
        ds_wrap(err, "image %s: ", img->file_name);
        goto out;
    }
    if ((size_t)dim != dimension) {
        ds_fail(err, DS_EINVAL, "image %s: vector has %zu dimensions; collection %lld holds %d",
                img->file_name, dimension, (long long)coll, dim);
        goto out;
    }
    if (cat__write_begin(db, err) < 0)
        goto out;
    ok = insert_image(db, coll, img, hash, vector, dimension, id_out, err) == 0;
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    return ok ? 0 : -1;
}

/* One image by a prepared lookup (mutex held). */
static int get_one(cat_db *db, sqlite3_stmt *st, const char *what, cat_image *out, ds_err *err)
{
    int step = sqlite3_step(st);
    int rc = -1;
    if (step == SQLITE_ROW)
        rc = read_row(st, out, err);
    else if (step == SQLITE_DONE)
        ds_fail(err, DS_ENOTFOUND, "no image %s", what);
    else
        cat__sqlfail(db, err, "catalog: reading an image");
    sqlite3_reset(st);
    return rc;
}

int cat_image_get(cat_db *db, int64_t id, cat_image *out, ds_err *err)
{
    int rc = -1;
    char what[32];
    memset(out, 0, sizeof *out);
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_GET,
                                 "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        snprintf(what, sizeof what, "with id %lld", (long long)id);
        rc = get_one(db, st, what, out, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_image_by_file_name(cat_db *db, int64_t coll, const char *file_name, cat_image *out,
                           ds_err *err)
{
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (!file_name)
        return ds_fail(err, DS_EINVAL, "catalog: no file name");
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_BY_NAME,
                                 "SELECT " IMAGE_COLUMNS " FROM images "
                                 "WHERE collection_id = ?1 AND file_name = ?2",
                                 err);
    if (st) {
        sqlite3_bind_int64(st, 1, coll);
        cat__bind_text(st, 2, file_name);
        rc = get_one(db, st, file_name, out, err);
    }
    cat__unlock(db);
    return rc;
}

int cat_image_vector(cat_db *db, int64_t id, float *out, size_t dimension, ds_err *err)
{
    int rc = -1;
    cat__lock(db);
    sqlite3_stmt *st =
        cat__stmt(db, CS_IMAGE_VECTOR, "SELECT vector FROM images WHERE id = ?1", err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        ds_fail(err, DS_ENOTFOUND, "no image with id %lld", (long long)id);
        goto out;
    }
    if (step != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: reading a vector");
        goto out;
    }
    const void *blob = sqlite3_column_blob(st, 0);
    size_t bytes = (size_t)sqlite3_column_bytes(st, 0);
    if (bytes != dimension * sizeof(float)) {
        ds_fail(err, DS_EINVAL, "image %lld: stored vector has %zu dimensions, not %zu",
                (long long)id, bytes / sizeof(float), dimension);
        goto out;
    }
    copy_le(out, blob, dimension);
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    return rc;
}

int cat_image_known(cat_db *db, int64_t coll, const char *file_name, const char *patent_id,
                    int image_index, const char *hash, cat_known *known, ds_err *err)
{
    char norm[65] = "";
    int rc = -1;
    *known = CAT_KNOWN_NOT;
    if (hash && !normalise_hash(hash, norm))
        return ds_fail(err, DS_EINVAL, "catalog: \"%s\" is not a sha256 hex digest", hash);
    cat__lock(db);
    /* Each alternative has its own index (the unique file name, the
     * patent's images, the content hash), so SQLite answers the OR as a
     * union of three index lookups. */
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_KNOWN,
                                 "SELECT CASE WHEN file_name = ?2 THEN 1 "
                                 "WHEN patent_id = ?3 AND image_index = ?4 THEN 2 ELSE 3 END "
                                 "FROM images WHERE collection_id = ?1 AND (file_name = ?2 "
                                 "OR (patent_id = ?3 AND image_index = ?4) "
                                 "OR content_hash = ?5) ORDER BY 1 LIMIT 1",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, file_name);
    cat__bind_text(st, 3, patent_id);
    sqlite3_bind_int(st, 4, image_index);
    cat__bind_text(st, 5, *norm ? norm : NULL);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *known = (cat_known)sqlite3_column_int(st, 0);
    else if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: looking up an image");
        goto out;
    }
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    return rc;
}

int cat_image_exists_hash(cat_db *db, int64_t coll, const char *hash, int *exists,
                          int64_t *id_out, ds_err *err)
{
    char norm[65];
    int rc = -1;
    *exists = 0;
    if (!hash || !normalise_hash(hash, norm))
        return ds_fail(err, DS_EINVAL, "catalog: \"%s\" is not a sha256 hex digest",
                       hash ? hash : "(null)");
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_HASH,
                                 "SELECT id FROM images WHERE content_hash = ?2 "
                                 "AND collection_id = ?1 ORDER BY id LIMIT 1",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, norm);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *exists = 1;
        if (id_out)
            *id_out = sqlite3_column_int64(st, 0);
    } else if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: looking up a content hash");
        goto out;
    }
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    return rc;
}

int cat_images_of_patent(cat_db *db, int64_t coll, const char *patent_id, cat_image **out,
                         size_t *n_out, ds_err *err)
{
    cat_image *list = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step;
    *out = NULL;
    *n_out = 0;
    if (!patent_id)
        return ds_fail(err, DS_EINVAL, "catalog: no patent_id");
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_OF_PATENT,
                                 "SELECT " IMAGE_COLUMNS " FROM images "
                                 "WHERE collection_id = ?1 AND patent_id = ?2 "
                                 "ORDER BY image_index, id",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, patent_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cat_image *grown = cat__grow(list, &cap, n, sizeof *list, 8, err);
        if (!grown)
            goto out;
        list = grown;
        if (read_row(st, &list[n], err) < 0)
            goto out;
        n++;
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: listing a patent's images");
        goto out;
    }
    *out = list;
    *n_out = n;
    list = NULL;
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    cat_image_list_free(list, n);
    return rc;
}

/* Whether the image named file_name has no patent (1), or has one (0: then
 * DS_EEXIST in err when it is not patent_id): read first, so that a rerun,
 * where nearly every image has its patent, writes nothing. */
static int lacks_patent(cat_db *db, int64_t coll, const char *file_name,
                        const char *patent_id, ds_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db->db,
                           "SELECT patent_id FROM images WHERE collection_id = ?1 AND "
                           "file_name = ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        cat__sqlfail(db, err, "catalog: looking up an image");
        return -1;
    }
    sqlite3_bind_int64(st, 1, coll);
    cat__bind_text(st, 2, file_name);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *stored = (const char *)sqlite3_column_text(st, 0);
        rc = stored == NULL;
        /* Another patent than the one asked for: said, not passed over, or
         * a corrected metadata file would be "already there" and vanish. */
        if (stored && strcmp(stored, patent_id) != 0) {
            ds_fail(err, DS_EEXIST, "%s is stored as a drawing of patent %s: patent_id %s is "
                    "not applied (a stored image's patent is not rewritten)", file_name, stored,
                    patent_id);
            rc = -1;
        }
    } else if (step == SQLITE_DONE)
        rc = 0;
    else
        cat__sqlfail(db, err, "catalog: looking up an image");
    sqlite3_finalize(st);
    return rc;
}

/* Run one statement of the two of cat_image_set_patent. */
static int set_patent_step(cat_db *db, const char *sql, int64_t coll, const char *file_name,
                           const char *patent_id, int image_index, ds_err *err)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int64(st, 1, coll);
        cat__bind_text(st, 2, file_name);
        cat__bind_text(st, 3, patent_id);
        sqlite3_bind_int(st, 4, image_index);
        sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    if (!ok)
        cat__sqlfail(db, err, "catalog: giving an image its patent");
    sqlite3_finalize(st); /* prepared each time: a metadata rerun's few images */
    return ok ? 0 : -1;
}

int cat_image_set_patent(cat_db *db, int64_t coll, const char *file_name,
                         const char *patent_id, int image_index, ds_err *err)
{
    if (!patent_id || !*patent_id)
        return ds_fail(err, DS_EINVAL, "catalog: a patent needs a patent_id");
    cat__lock(db);
    int lacks = lacks_patent(db, coll, file_name, patent_id, err), ok = 0;
    if (lacks <= 0) {
        cat__unlock(db);
        return lacks;
    }
    if (cat__write_begin(db, err) < 0)
        goto out;
    ok = set_patent_step(db,
                         "INSERT INTO patents (collection_id, patent_id, updated_at) VALUES "
                         "(?1, ?3, ?5) ON CONFLICT (collection_id, patent_id) DO NOTHING",
                         coll, file_name, patent_id, image_index, err) == 0 &&
         set_patent_step(db,
                         "UPDATE images SET patent_id = ?3, image_index = ?4 WHERE "
                         "collection_id = ?1 AND file_name = ?2 AND patent_id IS NULL",
                         coll, file_name, patent_id, image_index, err) == 0;
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    return ok ? 0 : -1;
}

int cat_image_delete(cat_db *db, int64_t id, ds_err *err)
{
    int ok = 0;
    cat__lock(db);
    if (cat__write_begin(db, err) < 0)
        goto out;
    sqlite3_stmt *st = cat__stmt(db, CS_IMAGE_DELETE, "DELETE FROM images WHERE id = ?1", err);
    if (!st)
        goto end;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: deleting an image");
        goto end;
    }
    if (sqlite3_changes(db->db) == 0) {
        ds_fail(err, DS_ENOTFOUND, "no image with id %lld", (long long)id);
        goto end;
    }
    ok = 1;
end:
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    return ok ? 0 : -1;
}

int cat_vectors_iterate(cat_db *db, int64_t coll, int64_t after_id, cat_vector_fn fn,
                        void *ctx, ds_err *err)
{
    int rc = -1, dim = 0, step;
    float *v = NULL;
    sqlite3_stmt *st = NULL;
    if (err)
        ds_err_clear(err); /* so that an error the callback records is seen */
    cat__lock(db);
    if (cat__coll_dim(db, coll, &dim, err) < 0)
        goto out;
    v = malloc((size_t)dim * sizeof *v);
    if (!v) {
        ds_fail(err, DS_ENOMEM, "catalog: out of memory");
        goto out;
    }
    st = cat__stmt(db, CS_VEC_ITER,
                   "SELECT id, vector FROM images WHERE collection_id = ?1 AND id > ?2 "
                   "ORDER BY id",
                   err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    sqlite3_bind_int64(st, 2, after_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const void *blob = sqlite3_column_blob(st, 1);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 1);
        if (bytes != (size_t)dim * sizeof *v) {
            ds_fail(err, DS_EFORMAT,
                    "catalog: image %lld has a vector of %zu bytes; collection %lld needs %zu",
                    (long long)id, bytes, (long long)coll, (size_t)dim * sizeof *v);
            goto out;
        }
        copy_le(v, blob, (size_t)dim);
        if (fn(id, v, ctx) != 0) {
            if (err && err->code == DS_OK)
                ds_fail(err, DS_EINVAL, "catalog: vector iteration stopped by the callback");
            goto out;
        }
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: reading vectors");
        goto out;
    }
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    free(v);
    return rc;
}

int cat_vector_count(cat_db *db, int64_t coll, int64_t *count, int64_t *max_id, ds_err *err)
{
    int rc = -1;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(db, CS_VEC_COUNT,
                                 "SELECT count(*), coalesce(max(id), 0) FROM images "
                                 "WHERE collection_id = ?1",
                                 err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, coll);
    if (sqlite3_step(st) != SQLITE_ROW) {
        cat__sqlfail(db, err, "catalog: counting vectors");
        goto out;
    }
    if (count)
        *count = sqlite3_column_int64(st, 0);
    if (max_id)
        *max_id = sqlite3_column_int64(st, 1);
    rc = 0;
out:
    if (st)
        sqlite3_reset(st);
    cat__unlock(db);
    return rc;
}
