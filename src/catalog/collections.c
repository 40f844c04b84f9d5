/* collections.c - named collections, each with its model and vector
 * dimension (see catalog.h). */
#include "catalog/catalog_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLL_COLUMNS \
    "id, name, model, dimension, input_size, preprocess, created_at, precision"

void cat_collection_clear(cat_collection *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->model);
    free(c->preprocess);
    free(c->precision);
    memset(c, 0, sizeof *c);
}

void cat_collection_list_free(cat_collection *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        cat_collection_clear(&list[i]);
    free(list);
}

/* Fill *c from the current row (columns COLL_COLUMNS). */
static int read_row(sqlite3_stmt *st, cat_collection *c, ds_err *err)
{
    int oom = 0;
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->name = cat__col_text(st, 1, &oom);
    c->model = cat__col_text(st, 2, &oom);
    c->dimension = sqlite3_column_int(st, 3);
    c->input_size = sqlite3_column_int(st, 4);
    c->preprocess = cat__col_text(st, 5, &oom);
    c->created_at = sqlite3_column_int64(st, 6);
    c->precision = cat__col_text(st, 7, &oom);
    if (oom) {
        cat_collection_clear(c);
        return ds_fail(err, DS_ENOMEM, "catalog: out of memory");
    }
    return 0;
}

/* Look up by name or id (mutex held); DS_ENOTFOUND when absent. */
static int get_locked(cat_db *db, const char *name, int64_t id, cat_collection *out, ds_err *err)
{
    sqlite3_stmt *st;
    if (name) {
        st = cat__stmt(db, CS_COLL_GET_NAME,
                       "SELECT " COLL_COLUMNS " FROM collections WHERE name = ?1", err);
        if (!st)
            return -1;
        cat__bind_text(st, 1, name);
    } else {
        st = cat__stmt(db, CS_COLL_GET_ID,
                       "SELECT " COLL_COLUMNS " FROM collections WHERE id = ?1", err);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, id);
    }
    int rc = -1;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        rc = read_row(st, out, err);
    else if (step == SQLITE_DONE && name)
        ds_fail(err, DS_ENOTFOUND, "no collection named \"%s\"", name);
    else if (step == SQLITE_DONE)
        ds_fail(err, DS_ENOTFOUND, "no collection with id %lld", (long long)id);
    else
        cat__sqlfail(db, err, "catalog: reading a collection");
    sqlite3_reset(st);
    return rc;
}

int cat_collection_get(cat_db *db, const char *name, cat_collection *out, ds_err *err)
{
    if (!name)
        return ds_fail(err, DS_EINVAL, "catalog: no collection name");
    cat__lock(db);
    int rc = get_locked(db, name, 0, out, err);
    cat__unlock(db);
    return rc;
}

int cat_collection_get_id(cat_db *db, int64_t id, cat_collection *out, ds_err *err)
{
    cat__lock(db);
    int rc = get_locked(db, NULL, id, out, err);
    cat__unlock(db);
    return rc;
}

int cat__coll_dim(cat_db *db, int64_t coll, int *dim, ds_err *err)
{
    if (db->dim_coll == coll && coll != 0) {
        *dim = db->dim;
        return 0;
    }
    cat_collection c;
    if (get_locked(db, NULL, coll, &c, err) < 0)
        return -1;
    db->dim_coll = coll;
    db->dim = *dim = c.dimension;
    cat_collection_clear(&c);
    return 0;
}

/* An existing collection must match what the caller expects. */
static int check_match(const cat_collection *c, const char *model, int dimension,
                       int input_size, const char *preprocess, const char *precision,
                       ds_err *err)
{
    if (c->dimension != dimension)
        return ds_fail(err, DS_EINVAL,
                       "collection \"%s\" holds %d-dimensional vectors, not %d", c->name,
                       c->dimension, dimension);
    if (strcmp(c->model, model) != 0)
        return ds_fail(err, DS_EINVAL, "collection \"%s\" was made with model %s, not %s",
                       c->name, c->model, model);
    if (c->input_size != input_size)
        return ds_fail(err, DS_EINVAL, "collection \"%s\" uses input size %d, not %d",
                       c->name, c->input_size, input_size);
    if (strcmp(c->preprocess, preprocess) != 0)
        return ds_fail(err, DS_EINVAL,
                       "collection \"%s\" uses preprocessing \"%s\", not \"%s\"", c->name,
                       c->preprocess, preprocess);
    if (precision && strcmp(c->precision ? c->precision : "f32", precision) != 0)
        return ds_fail(err, DS_EINVAL,
                       "collection \"%s\" holds vectors made in %s, not %s (give --precision "
                       "%s, or auto)", c->name, c->precision, precision, c->precision);
    return 0;
}

int cat_collection_ensure(cat_db *db, const char *name, const char *model, int dimension,
                          int input_size, const char *preprocess, const char *precision,
                          int64_t *id_out, ds_err *err)
{
    if (!name || !*name || !model || !preprocess || dimension <= 0 || input_size <= 0)
        return ds_fail(err, DS_EINVAL,
                       "catalog: a collection needs a name, model, preprocessing, and a "
                       "positive dimension and input size");
    cat_collection c = {0};
    int ok = 0;
    cat__lock(db);
    if (cat__write_begin(db, err) < 0)
        goto out;
    ds_err look = {0};
    if (get_locked(db, name, 0, &c, &look) == 0) {
        if (check_match(&c, model, dimension, input_size, preprocess, precision, err) < 0)
            goto end;
        if (id_out)
            *id_out = c.id;
        ok = 1;
        goto end;
    }
    if (look.code != DS_ENOTFOUND) {
        if (err)
            *err = look;
        goto end;
    }
    sqlite3_stmt *st = cat__stmt(db, CS_COLL_INSERT,
                                 "INSERT INTO collections (name, model, dimension, "
                                 "input_size, preprocess, created_at, precision) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 err);
    if (!st)
        goto end;
    cat__bind_text(st, 1, name);
    cat__bind_text(st, 2, model);
    sqlite3_bind_int(st, 3, dimension);
    sqlite3_bind_int(st, 4, input_size);
    cat__bind_text(st, 5, preprocess);
    sqlite3_bind_int64(st, 6, (int64_t)time(NULL));
    cat__bind_text(st, 7, precision ? precision : "f32");
    if (sqlite3_step(st) != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: creating a collection");
        sqlite3_reset(st);
        goto end;
    }
    sqlite3_reset(st);
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(db->db);
    ok = 1;
end:
    if (cat__write_end(db, ok, err) < 0)
        ok = 0;
out:
    cat__unlock(db);
    cat_collection_clear(&c);
    return ok ? 0 : -1;
}

int cat_collection_rename_model(cat_db *db, const char *name, const char *from, const char *to,
                                ds_err *err)
{
    sqlite3_stmt *st = NULL;
    int changed = -1;
    cat__lock(db);
    if (sqlite3_prepare_v2(db->db, "UPDATE collections SET model = ?3 WHERE name = ?1 AND "
                           "model = ?2", -1, &st, NULL) != SQLITE_OK) {
        cat__sqlfail(db, err, "catalog: recording a collection's model");
        goto out;
    }
    cat__bind_text(st, 1, name);
    cat__bind_text(st, 2, from);
    cat__bind_text(st, 3, to);
    if (sqlite3_step(st) != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: recording a collection's model");
        goto out;
    }
    changed = sqlite3_changes(db->db);
out:
    sqlite3_finalize(st);
    cat__unlock(db);
    return changed;
}

int cat_collection_list(cat_db *db, cat_collection **out, size_t *n_out, ds_err *err)
{
    cat_collection *list = NULL;
    size_t n = 0, cap = 0;
    int rc = -1, step;
    *out = NULL;
    *n_out = 0;
    cat__lock(db);
    sqlite3_stmt *st = cat__stmt(
        db, CS_COLL_LIST, "SELECT " COLL_COLUMNS " FROM collections ORDER BY name", err);
    if (!st)
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cat_collection *grown = cat__grow(list, &cap, n, sizeof *list, 4, err);
        if (!grown)
            goto out;
        list = grown;
        if (read_row(st, &list[n], err) < 0)
            goto out;
        n++;
    }
    if (step != SQLITE_DONE) {
        cat__sqlfail(db, err, "catalog: listing collections");
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
    cat_collection_list_free(list, n);
    return rc;
}
