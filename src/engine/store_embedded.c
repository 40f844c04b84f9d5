/* store_embedded.c - the embedded store (store.h): a collection's rows,
 * patents and vectors in the SQLite catalog (the truth), searched through
 * an in-process vector index (src/index) that is loaded from its file at
 * attach, or rebuilt from the catalog when the file is missing, stale or
 * corrupt, and kept up with the rows other processes commit.
 *
 * Crash safety comes from the order of the writes: the blobs first (each an
 * atomic rename), then every row of the batch in one SQLite transaction,
 * then the in-memory index. Killed before the commit, a batch leaves at most
 * blob files that the rerun overwrites; killed after it, the index file is
 * stale and the next attach rebuilds it from the catalog.
 *
 * Searching and describing: store_embedded_search.c.
 */
#include "engine/store_embedded.h"

#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backend: which index kind each collection gets. */
typedef struct embedded_backend {
    eng_backend base;
    int index_kind; /* ENG_INDEX_FLAT, _FLAT16 or _IVF */
} embedded_backend;

/* ---- indexes ------------------------------------------------------------ */

/* The tag that ties an index file to the rows it holds: their number and
 * the highest id. Rows are never deleted and ids only grow, so an index
 * whose tag equals the catalog's holds exactly the catalog's rows. */
static uint64_t tag_of(int64_t count, int64_t max_id)
{
    return ((uint64_t)count << 32) ^ (uint64_t)max_id ^ 0x64696e6fULL;
}

/* The tag an index holding every row of the catalog now would carry. */
static int catalog_tag(eng *e, int64_t coll, uint64_t *tag, int64_t *max_id, ds_err *err)
{
    int64_t count;
    if (cat_vector_count(e->db, coll, &count, max_id, err) != 0)
        return -1;
    *tag = tag_of(count, *max_id);
    return 0;
}

/* The tag of what the index really holds. */
static uint64_t index_tag(const embedded_store *es)
{
    idx_stats st;
    idx_stats_get(es->index, &st);
    return tag_of((int64_t)st.count, es->max_id);
}

typedef struct rebuild_ctx {
    idx_index *index;
    int64_t ids[256];
    float *vecs;
    size_t n;
    int dim;
    int64_t max_id;              /* highest id added */
    ds_err *err;
} rebuild_ctx;

static int flush_rebuild(rebuild_ctx *r)
{
    int rc = r->n ? idx_add(r->index, r->ids, r->vecs, r->n, r->err) : 0;
    r->n = 0;
    return rc;
}

static int on_vector(int64_t id, const float *v, void *ctx)
{
    rebuild_ctx *r = ctx;
    r->ids[r->n] = id;
    memcpy(r->vecs + r->n * (size_t)r->dim, v, sizeof(float) * (size_t)r->dim);
    if (id > r->max_id)
        r->max_id = id;
    if (++r->n == 256)
        return flush_rebuild(r);
    return 0;
}

/* Add the catalog's rows with id > after to r->index. */
static int add_rows_after(eng *e, const eng_collection *c, int64_t after, rebuild_ctx *r,
                          ds_err *err)
{
    r->dim = c->model->dim;
    r->err = err;
    r->max_id = after;
    r->vecs = malloc(sizeof(float) * 256 * (size_t)r->dim);
    if (!r->vecs)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    int rc = cat_vectors_iterate(e->db, c->id, after, on_vector, r, err) != 0 ||
                     flush_rebuild(r) != 0
                 ? -1
                 : 0;
    free(r->vecs);
    r->vecs = NULL;
    return rc;
}

/* embedded_catch_up with e->add_lock held; version: the data_version read
 * before the scan, so that a commit during it shows at the next check. */
static int catch_up_locked(embedded_store *es, int64_t version, ds_err *err)
{
    eng *e = es->base.e;
    const eng_collection *c = es->base.c;
    /* Rows this process added since seen_id are read again: adding an id
     * the index holds replaces its vector, and seen_id may only pass a row
     * that a scan has seen (another process may have committed below ours). */
    rebuild_ctx r = {.index = es->index};
    if (add_rows_after(e, c, es->seen_id, &r, err) != 0)
        return ds_wrap(err, "catching up with the catalog: ");
    es->seen_id = r.max_id;
    if (r.max_id > es->max_id)
        es->max_id = r.max_id;
    atomic_store(&es->data_version, version);
    return 0;
}

int embedded_catch_up(embedded_store *es, ds_err *err)
{
    eng *e = es->base.e;
    int64_t version;
    if (!es->index)
        return 0;
    if (cat_data_version(e->db, &version, err) != 0)
        return -1;
    if (version == atomic_load(&es->data_version))
        return 0; /* nobody else committed: nothing to read */
    pthread_mutex_lock(&e->add_lock);
    int rc = catch_up_locked(es, version, err);
    pthread_mutex_unlock(&e->add_lock);
    return rc;
}

/* Load the collection's index file, or rebuild it from the catalog when it is
 * missing, stale or corrupt (and write it back). */
static int load_index(embedded_store *es, int index_kind, ds_err *err)
{
    eng *e = es->base.e;
    const eng_collection *c = es->base.c;
    char path[4096];
    uint64_t tag;
    int64_t version, max_id;
    if (ds_snprintf(path, sizeof path, err, "%s/index/%s.idx", e->data_dir, c->name) != 0)
        return -1;
    /* The version first: whatever commits after it shows at the first
     * search's check. */
    if (cat_data_version(e->db, &version, err) != 0 ||
        catalog_tag(e, c->id, &tag, &max_id, err) != 0)
        return -1;
    atomic_store(&es->data_version, version);
    ds_err why = {0};
    int dim = c->model->dim;
    if (idx_load(path, dim, tag, &es->index, &why) == 0) {
        idx_stats st;
        idx_stats_get(es->index, &st);
        int kind = !strcmp(st.kind, "ivf") ? ENG_INDEX_IVF : st.f16 ? ENG_INDEX_FLAT16
                                                                   : ENG_INDEX_FLAT;
        if (kind == index_kind) {
            es->max_id = es->seen_id = max_id;
            return 0;
        }
        idx_free(es->index); /* another kind was asked for: rebuild */
        es->index = NULL;
        ds_fail(&why, DS_EINVAL, "the index kind changed");
    }
    if (why.code != DS_ENOTFOUND)
        fprintf(stderr, "dinoseek: rebuilding the index of %s from the catalog: %s\n", c->name,
                why.msg);
    rebuild_ctx r = {0};
    r.index = index_kind == ENG_INDEX_IVF ? idx_ivf_new(dim, 0, 0, err)
                                          : idx_flat_new(dim, index_kind == ENG_INDEX_FLAT16, err);
    if (!r.index || add_rows_after(e, c, 0, &r, err) != 0) {
        idx_free(r.index);
        return -1;
    }
    es->index = r.index;
    es->max_id = es->seen_id = r.max_id;
    if (idx_save(es->index, path, index_tag(es), &why) != 0)
        fprintf(stderr, "dinoseek: cannot save the index of %s: %s\n", c->name, why.msg);
    return 0;
}

/* Catch up, then write the index file, tagged with what the index holds
 * (never with a catalog state it may lack). Call with e->add_lock held (or
 * alone, as detach). */
static int save_index(embedded_store *es, ds_err *err)
{
    eng *e = es->base.e;
    const eng_collection *c = es->base.c;
    char path[4096];
    int64_t version;
    if (ds_snprintf(path, sizeof path, err, "%s/index/%s.idx", e->data_dir, c->name) != 0 ||
        cat_data_version(e->db, &version, err) != 0)
        return -1;
    /* What others committed goes in first, so the file is as fresh as it
     * can be; its tag says what it holds either way. */
    if (version != atomic_load(&es->data_version) && catch_up_locked(es, version, err) != 0)
        return -1;
    return idx_save(es->index, path, index_tag(es), err);
}

/* ---- is it there? ---------------------------------------------------------- */

static int embedded_known(eng_store *s, const char *file_name, const char *patent_id,
                          int image_index, const char *hash, cat_known *known, ds_err *err)
{
    return cat_image_known(s->e->db, s->c->id, file_name, patent_id, image_index, hash, known,
                           err);
}

/* The id of the stored image with this file name, or else this content. */
static int known_id(eng *e, const eng_collection *c, const char *file_name, const char *hash,
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

/* ---- storing ---------------------------------------------------------------- */

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

static int embedded_put_batch(eng_store *s, eng_store_item *items, int n, ds_err *err)
{
    embedded_store *es = embedded_of(s);
    eng *e = s->e;
    eng_collection *c = s->c;
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
        if (items[i].added && idx_add(es->index, &items[i].id, items[i].vec, 1, err) != 0) {
            fprintf(stderr, "dinoseek: %s: the index lacks %s until the next start: %s\n",
                    c->name, items[i].in.file_name, err->msg);
            break;
        }
        if (items[i].added && items[i].id > es->max_id)
            es->max_id = items[i].id;
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

static int embedded_put_patents(eng_store *s, const cat_patent *const *patents, int n,
                                ds_err *err)
{
    eng *e = s->e;
    pthread_mutex_lock(&e->add_lock);
    int rc = cat_begin(e->db, err);
    for (int i = 0; i < n && rc == 0; i++)
        rc = cat_patent_upsert(e->db, s->c->id, patents[i], err);
    if (rc == 0)
        rc = cat_commit(e->db, err);
    else {
        ds_err ignored;
        cat_rollback(e->db, &ignored);
    }
    pthread_mutex_unlock(&e->add_lock);
    return rc;
}

static int embedded_attach_patent(eng_store *s, const char *file_name, const char *patent_id,
                                  int image_index, ds_err *err)
{
    pthread_mutex_lock(&s->e->add_lock);
    int rc = cat_image_set_patent(s->e->db, s->c->id, file_name, patent_id, image_index, err);
    pthread_mutex_unlock(&s->e->add_lock);
    return rc;
}

static int embedded_known_id(eng_store *s, const eng_image_in *in, const char *hash,
                             int64_t *id_out, ds_err *err)
{
    eng *e = s->e;
    int64_t id = 0;
    if (known_id(e, s->c, in->file_name, hash, &id, err) != 0)
        return -1;
    if (id_out)
        *id_out = id;
    /* The image is there without a patent and this add names one: give it
     * (as a --metadata rerun does), rather than answer "already there" and
     * drop the patent_id the caller sent. A patent it has stays. */
    const char *pid = in->patent ? in->patent->patent_id : in->patent_id;
    if (!id || !pid || !*pid)
        return 0;
    cat_image img = {0};
    if (cat_image_get(e->db, id, &img, err) != 0)
        return -1;
    int rc = img.patent_id ? 0
                           : embedded_attach_patent(s, img.file_name, pid, in->image_index, err);
    cat_image_clear(&img);
    return rc;
}

/* The catalog row's hash (one of another length: not ours, cannot tell). */
static int embedded_stored_hash(eng_store *s, const char *file_name,
                                char out[DS_SHA256_HEXLEN + 1], ds_err *err)
{
    cat_image img = {0};
    if (cat_image_by_file_name(s->e->db, s->c->id, file_name, &img, err) != 0)
        return err->code == DS_ENOTFOUND ? 0 : -1;
    if (img.content_hash)
        ds_snprintf(out, DS_SHA256_HEXLEN + 1, NULL, "%s", img.content_hash);
    cat_image_clear(&img);
    return 0;
}

static int embedded_image_name(eng_store *s, int64_t id, char *out, size_t n, ds_err *err)
{
    cat_image img = {0};
    if (cat_image_get(s->e->db, id, &img, err) != 0)
        return -1;
    int rc = img.collection_id == s->c->id
                 ? ds_snprintf(out, n, err, "%s", img.file_name)
                 : ds_fail(err, DS_ENOTFOUND, "no image %lld in %s", (long long)id, s->c->name);
    cat_image_clear(&img);
    return rc;
}

static int embedded_stored_vector(eng_store *s, const char *file_name, float *vec, ds_err *err)
{
    cat_image img = {0};
    if (cat_image_by_file_name(s->e->db, s->c->id, file_name, &img, err) != 0)
        return err->code == DS_ENOTFOUND
                   ? ds_fail(err, DS_ENOTFOUND, "no image called '%s' in %s", file_name,
                             s->c->name)
                   : -1;
    int64_t id = img.id;
    cat_image_clear(&img);
    return vec ? cat_image_vector(s->e->db, id, vec, (size_t)s->c->model->dim, err) : 0;
}

/* ---- the store's life ------------------------------------------------------- */

static int embedded_save(eng_store *s, ds_err *err)
{
    pthread_mutex_lock(&s->e->add_lock);
    int rc = save_index(embedded_of(s), err);
    pthread_mutex_unlock(&s->e->add_lock);
    return rc;
}

static void embedded_health(eng_store *s, eng_health *h)
{
    idx_index *ix = embedded_of(s)->index;
    h->index_kind = ix ? idx_name(ix) : "none";
    h->index = ix != NULL;
}

static void embedded_detach(eng_store *s)
{
    embedded_store *es = embedded_of(s);
    ds_err err = {0};
    /* Save what the index holds now, so the next start loads it. */
    if (s->e->db && es->index && save_index(es, &err) != 0)
        fprintf(stderr, "dinoseek: cannot save the index of %s: %s\n", s->c->name, err.msg);
    idx_free(es->index);
    free(es);
}

static const eng_store_methods embedded_methods = {
    .version = 1,
    .name = "embedded",
    .detach = embedded_detach,
    .known = embedded_known,
    .known_id = embedded_known_id,
    .stored_hash = embedded_stored_hash,
    .put_batch = embedded_put_batch,
    .put_patents = embedded_put_patents,
    .attach_patent = embedded_attach_patent,
    .sync = NULL, /* a committed row is found at once */
    .save = embedded_save,
    .search = embedded_search,
    .stored_vector = embedded_stored_vector,
    .image_name = embedded_image_name,
    .stats = embedded_stats,
    .loc_counts = embedded_loc_counts,
    .patent = embedded_patent,
    .text_search = embedded_text_search,
    .health = embedded_health,
};

/* ---- the backend ------------------------------------------------------------- */

static int embedded_attach(eng_backend *b, eng *e, eng_collection *c, eng_store **out,
                           ds_err *err)
{
    embedded_store *es = calloc(1, sizeof *es);
    if (!es)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    es->base = (eng_store){.m = &embedded_methods, .e = e, .c = c};
    if (load_index(es, ((embedded_backend *)b)->index_kind, err) != 0) {
        idx_free(es->index);
        free(es);
        return -1;
    }
    *out = &es->base;
    return 0;
}

static void embedded_close(eng_backend *b) { free(b); }

static const eng_backend_methods embedded_backend_methods = {
    .version = 1,
    .name = "embedded",
    .check_name = NULL, /* any name the engine takes */
    .attach = embedded_attach,
    .close = embedded_close,
};

int eng__embedded_open(int index_kind, eng_backend **out, ds_err *err)
{
    embedded_backend *b = calloc(1, sizeof *b);
    if (!b)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    b->base.m = &embedded_backend_methods;
    b->index_kind = index_kind;
    *out = &b->base;
    return 0;
}
