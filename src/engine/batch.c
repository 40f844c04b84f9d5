/* batch.c - adding images in batches: the stages of eng_add taken apart so
 * that the import pipeline can run each where it is cheapest (see
 * engine.h). eng_add itself is a batch of one.
 *
 * Crash safety comes from the order of the writes: the blobs first (each an
 * atomic rename), then every row of the batch in one SQLite transaction,
 * then the in-memory index. Killed before the commit, a batch leaves at most
 * blob files that the rerun overwrites; killed after it, the index file is
 * stale and eng_open rebuilds it from the catalog.
 */
#include "engine/engine_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "base/sha256.h"
#include "base/str.h"

#define THUMB_SIDE 300    /* the seed's thumbnails: 300 x 300, JPEG q85 */
#define THUMB_QUALITY 85

cat_db *eng_catalog(eng *e) { return e->db; }
const char *eng_data_dir(const eng *e) { return e->data_dir; }

int64_t eng_collection_id(eng *e, const char *collection, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    return c ? c->id : -1;
}

int eng_collection_shape(eng *e, const char *collection, int *input_size, int *dim,
                         ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    *input_size = img_input_size(&c->model->img);
    *dim = c->model->dim;
    return 0;
}

void eng_prepared_clear(eng_prepared *p)
{
    if (!p)
        return;
    free(p->px);
    free(p->thumb);
    memset(p, 0, sizeof *p);
}

int eng_prepare(eng *e, const char *collection, const void *data, size_t len,
                eng_prepared *out, ds_err *err)
{
    memset(out, 0, sizeof *out);
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    int size = img_input_size(&c->model->img);
    out->px = malloc(sizeof(float) * 3 * (size_t)size * (size_t)size);
    if (!out->px)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    if (img_prepare_buffer(data, len, &c->model->img, out->px, THUMB_SIDE, THUMB_QUALITY,
                           &out->thumb, &out->thumb_len, err) != 0) {
        if (err->code == DS_EFORMAT || err->code == DS_EUNSUPPORTED)
            err->code = DS_EMEDIA; /* the input's fault, not ours */
        eng_prepared_clear(out);
        return -1;
    }
    return 0;
}

int eng_embed_tensors(eng *e, const char *collection, const float *px, int n, float *vecs,
                      ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    eng_model *m = c->model;
    /* Take the model as run_batch does, so searches queue behind us and
     * the first of them runs their batch when we are done. */
    pthread_mutex_lock(&m->lock);
    while (m->busy)
        pthread_cond_wait(&m->changed, &m->lock);
    m->busy = 1;
    pthread_mutex_unlock(&m->lock);
    int rc = vit_embed(m->vit, px, n, img_input_size(&m->img), vecs, err);
    pthread_mutex_lock(&m->lock);
    m->busy = 0;
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int eng_image_known(eng *e, const char *collection, const char *file_name,
                    const char *patent_id, int image_index, const char *hash,
                    cat_known *known, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    if (c->mv)
        return engm_known(e, c, file_name, patent_id, image_index, hash, known, NULL, err);
    return cat_image_known(e->db, c->id, file_name, patent_id, image_index, hash, known, err);
}

int eng__known_id(eng *e, const eng_collection *c, const char *file_name, const char *hash,
                  int64_t *id_out, ds_err *err)
{
    cat_image img = {0};
    ds_err missing = {0};
    int64_t id = 0;
    if (cat_image_by_file_name(e->db, c->id, file_name, &img, &missing) == 0) {
        id = img.id;
        cat_image_clear(&img);
    } else if (missing.code != DS_ENOTFOUND) {
        *err = missing;
        return -1;
    } else {
        int exists = 0;
        if (cat_image_exists_hash(e->db, c->id, hash, &exists, &id, err) != 0)
            return -1;
    }
    if (id_out)
        *id_out = id;
    return 0;
}

int eng__blob_keys(const eng_collection *c, const char *file_name, char *orig, char *thumb,
                   ds_err *err)
{
    size_t len = strlen(file_name);
    if (ds_snprintf(orig, BLOB_KEY_MAX + 1, err, "originals/%s/%s", c->name, file_name) != 0 ||
        ds_snprintf(thumb, BLOB_KEY_MAX + 1, err, "thumbnails/%s/%s.jpg", c->name,
                    file_name) != 0)
        ds_wrap(err, "blob key ");
    else if (blob_key_check(orig, err) == 0 && blob_key_check(thumb, err) == 0)
        return 0;
    /* The start of the name only: the reason must fit in the message. */
    return ds_wrap(err, "file name '%.60s%s' (%zu bytes): ", file_name, len > 60 ? "..." : "",
                   len);
}

/* Store one item's original and thumbnail; its keys go into orig. */
static int put_blobs(eng *e, const eng_collection *c, const eng_store_item *it, char *orig,
                     ds_err *err)
{
    char thumb[BLOB_KEY_MAX + 1];
    if (eng__blob_keys(c, it->in.file_name, orig, thumb, err) != 0)
        return -1;
    if (blob_put(e->blobs, orig, it->in.data, it->in.len, NULL, err) != 0)
        return -1;
    if (blob_put(e->blobs, thumb, it->thumb, it->thumb_len, "image/jpeg", err) != 0) {
        /* No row will name the original (the caller holds the add lock and
         * the image is not in the catalog): take it back rather than leave
         * an orphan on a disk that is probably full. */
        ds_err ignored;
        blob_delete(e->blobs, orig, &ignored);
        return -1;
    }
    return 0;
}

/* Whether an item repeats an earlier one of the same batch (same file name
 * or content): the catalog cannot tell, as neither is committed yet. */
cat_known eng__repeats_earlier(const eng_store_item *items, int i)
{
    for (int j = 0; j < i; j++) {
        if (!items[j].added)
            continue;
        if (strcmp(items[j].in.file_name, items[i].in.file_name) == 0)
            return CAT_KNOWN_FILE_NAME;
        if (strcmp(items[j].hash, items[i].hash) == 0)
            return CAT_KNOWN_CONTENT;
    }
    return CAT_KNOWN_NOT;
}

/* The rows of the batch, in the open transaction. */
static int insert_rows(eng *e, eng_collection *c, eng_store_item *items, int n,
                       char (*keys)[BLOB_KEY_MAX + 1], ds_err *err)
{
    for (int i = 0; i < n; i++) {
        eng_store_item *it = &items[i];
        if (!it->added)
            continue;
        const eng_image_in *in = &it->in;
        cat_image img = {.patent_id = in->patent ? in->patent->patent_id : (char *)in->patent_id,
                         .image_index = in->image_index, .file_name = (char *)in->file_name,
                         .object_key = keys[i], .content_hash = (char *)it->hash};
        if ((in->patent && cat_patent_upsert(e->db, c->id, in->patent, err) != 0) ||
            (!in->patent && in->patent_id && cat_patent_ensure(e->db, c->id, in->patent_id, err)) ||
            cat_image_add(e->db, c->id, &img, it->vec, (size_t)c->model->dim, &it->id, err) != 0)
            return ds_wrap(err, "%s: ", in->file_name);
    }
    return 0;
}

int eng__lock_stores(eng *e, ds_err *err)
{
    /* flock orders processes but not the threads of one (they share the
     * open file): the mutex orders those. */
    pthread_mutex_lock(&e->store_lock);
    while (flock(e->store_fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        int why = errno;
        pthread_mutex_unlock(&e->store_lock);
        return ds_fail(err, DS_EIO, "cannot lock %s/adds.lock: %s", e->data_dir, strerror(why));
    }
    return 0;
}

void eng__unlock_stores(eng *e)
{
    flock(e->store_fd, LOCK_UN);
    pthread_mutex_unlock(&e->store_lock);
}

int eng_store_batch(eng *e, const char *collection, eng_store_item *items, int n,
                    ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c || eng__lock_stores(e, err) != 0)
        return -1;
    int rc = eng__store_batch_locked(e, c, items, n, err);
    eng__unlock_stores(e);
    return rc;
}

int eng__store_batch_locked(eng *e, eng_collection *c, eng_store_item *items, int n,
                            ds_err *err)
{
    if (c->mv)
        return engm_store_batch(e, c, items, n, err);
    char(*keys)[BLOB_KEY_MAX + 1] = calloc((size_t)(n > 0 ? n : 1), sizeof *keys);
    if (!keys)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    int rc = -1;
    pthread_mutex_lock(&e->add_lock);
    /* Decide each item under the locks: from here to the commit no other
     * thread or process can store the same name or content. */
    for (int i = 0; i < n; i++) {
        eng_store_item *it = &items[i];
        it->added = it->failed = 0;
        it->id = 0;
        it->known = CAT_KNOWN_NOT;
        if (!it->in.file_name || !*it->in.file_name) {
            it->failed = 1;
            ds_fail(&it->err, DS_EINVAL, "an image needs a file name");
            continue;
        }
        if (cat_image_known(e->db, c->id, it->in.file_name, NULL, 0, it->hash, &it->known,
                            err) != 0)
            goto out;
        if (it->known == CAT_KNOWN_NOT)
            it->known = eng__repeats_earlier(items, i);
        if (it->known != CAT_KNOWN_NOT)
            continue;
        if (put_blobs(e, c, it, keys[i], &it->err) != 0) {
            it->failed = 1;
            continue;
        }
        it->added = 1;
    }
    if (cat_begin(e->db, err) != 0)
        goto out;
    if (insert_rows(e, c, items, n, keys, err) != 0 || cat_commit(e->db, err) != 0) {
        ds_err ignored;
        cat_rollback(e->db, &ignored);
        goto out;
    }
    /* Committed: now the index. Should it fail (out of memory), the rows
     * stay and the index is rebuilt from them at the next open; the row
     * would otherwise be "already there" yet never found by a search. */
    for (int i = 0; i < n; i++) {
        if (items[i].added && idx_add(c->index, &items[i].id, items[i].vec, 1, err) != 0) {
            fprintf(stderr, "dinoseek: %s: the index lacks %s until the next start: %s\n",
                    c->name, items[i].in.file_name, err->msg);
            break;
        }
        if (items[i].added && items[i].id > c->max_id)
            c->max_id = items[i].id;
    }
    rc = 0;
out:
    if (rc != 0)
        for (int i = 0; i < n; i++) {
            /* Rolled back: no row names the blobs this call put (keys[i]
             * set; `added` alone may be left from an earlier call), so
             * they go too (the transaction may have failed for want of
             * space). */
            char orig[BLOB_KEY_MAX + 1], thumb[BLOB_KEY_MAX + 1];
            ds_err ignored;
            if (items[i].added && keys[i][0] &&
                eng__blob_keys(c, items[i].in.file_name, orig, thumb, &ignored) == 0) {
                blob_delete(e->blobs, orig, &ignored);
                blob_delete(e->blobs, thumb, &ignored);
            }
            items[i].added = 0;
        }
    pthread_mutex_unlock(&e->add_lock);
    free(keys);
    return rc;
}

int eng_store_patents(eng *e, const char *collection, const cat_patent *const *patents,
                      int n, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    /* On Milvus a patent is the fields of its images' rows: one without a
     * stored image has nowhere to go (the import reports its drawings). */
    if (c->mv)
        return 0;
    pthread_mutex_lock(&e->add_lock);
    int rc = cat_begin(e->db, err);
    for (int i = 0; i < n && rc == 0; i++)
        rc = cat_patent_upsert(e->db, c->id, patents[i], err);
    if (rc == 0)
        rc = cat_commit(e->db, err);
    else {
        ds_err ignored;
        cat_rollback(e->db, &ignored);
    }
    pthread_mutex_unlock(&e->add_lock);
    return rc;
}

int eng_attach_patent(eng *e, const char *collection, const char *file_name,
                      const char *patent_id, int image_index, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    if (c->mv)
        return 0;
    pthread_mutex_lock(&e->add_lock);
    int rc = cat_image_set_patent(e->db, c->id, file_name, patent_id, image_index, err);
    pthread_mutex_unlock(&e->add_lock);
    return rc;
}

int eng_sweep_blobs(eng *e, const char *collection, size_t *removed, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    char dir[BLOB_KEY_MAX + 1];
    size_t n = 0, total = 0;
    static const char *const kinds[] = {"originals", "thumbnails"};
    for (int i = 0; i < 2; i++) {
        if (ds_snprintf(dir, sizeof dir, err, "%s/%s", kinds[i], c->name) != 0 ||
            blob_sweep(e->blobs, dir, &n, err) != 0)
            return -1;
        total += n;
    }
    *removed = total;
    return 0;
}

int eng_save_index(eng *e, const char *collection, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    if (c->mv) /* no file: wait until what was stored is searchable */
        return engm_sync(e, c, err);
    pthread_mutex_lock(&e->add_lock);
    int rc = eng__save_index(e, c, err);
    pthread_mutex_unlock(&e->add_lock);
    return rc;
}
