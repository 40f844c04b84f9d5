/* batch.c - adding images in batches: the stages of eng_add taken apart so
 * that the import pipeline can run each where it is cheapest (see
 * engine.h). eng_add itself is a batch of one. What is stored where, and
 * in which order (crash safety), is the collection's store's business
 * (store.h: put_batch).
 */
#include "engine/store.h"

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
    return eng__store_known(c, file_name, patent_id, image_index, hash, known, err);
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
    int rc = eng__store_put_batch(c, items, n, err);
    eng__unlock_stores(e);
    return rc;
}

int eng_store_patents(eng *e, const char *collection, const cat_patent *const *patents,
                      int n, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    return c ? eng__store_put_patents(c, patents, n, err) : -1;
}

int eng_attach_patent(eng *e, const char *collection, const char *file_name,
                      const char *patent_id, int image_index, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    return c ? eng__store_attach_patent(c, file_name, patent_id, image_index, err) : -1;
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
    return c ? eng__store_save(c, err) : -1;
}
