/* store.c - the engine's calls into a collection's store (see store.h):
 * each checks that the store has the operation, then dispatches. */
#include "engine/store.h"

#include <stdio.h>
#include <string.h>

/* The answer of a store without the operation. */
static int unsupported(const eng_collection *c, const char *op, ds_err *err)
{
    return ds_fail(err, DS_EUNSUPPORTED, "collection %s: the %s store does not support %s",
                   c->name, c->store->m->name, op);
}

#define HAS(c, op) ((c)->store && (c)->store->m->op)

int eng__store_attach(eng *e, eng_collection *c, ds_err *err)
{
    return e->backend->m->attach(e->backend, e, c, &c->store, err);
}

void eng__store_detach(eng_collection *c)
{
    if (c->store)
        c->store->m->detach(c->store);
    c->store = NULL;
}

int eng__store_check_name(const eng *e, const char *name, ds_err *err)
{
    return e->backend->m->check_name ? e->backend->m->check_name(e->backend, name, err) : 0;
}

int eng__store_known(eng_collection *c, const char *file_name, const char *patent_id,
                     int image_index, const char *hash, cat_known *known, ds_err *err)
{
    if (!HAS(c, known))
        return unsupported(c, "looking up stored images", err);
    return c->store->m->known(c->store, file_name, patent_id, image_index, hash, known, err);
}

int eng__store_known_id(eng_collection *c, const eng_image_in *in, const char *hash,
                        int64_t *id, ds_err *err)
{
    if (!HAS(c, known_id))
        return unsupported(c, "looking up stored images", err);
    return c->store->m->known_id(c->store, in, hash, id, err);
}

int eng__store_stored_hash(eng_collection *c, const char *file_name,
                           char out[DS_SHA256_HEXLEN + 1], ds_err *err)
{
    out[0] = '\0';
    return HAS(c, stored_hash) ? c->store->m->stored_hash(c->store, file_name, out, err) : 0;
}

int eng__store_put_batch(eng_collection *c, eng_store_item *items, int n, ds_err *err)
{
    if (!HAS(c, put_batch))
        return unsupported(c, "storing images", err);
    return c->store->m->put_batch(c->store, items, n, err);
}

int eng__store_put_patents(eng_collection *c, const cat_patent *const *patents, int n,
                           ds_err *err)
{
    if (!HAS(c, put_patents))
        return unsupported(c, "storing patents", err);
    return c->store->m->put_patents(c->store, patents, n, err);
}

int eng__store_attach_patent(eng_collection *c, const char *file_name, const char *patent_id,
                             int image_index, ds_err *err)
{
    if (!HAS(c, attach_patent))
        return unsupported(c, "giving stored images a patent", err);
    return c->store->m->attach_patent(c->store, file_name, patent_id, image_index, err);
}

int eng__store_sync(eng_collection *c, ds_err *err)
{
    return HAS(c, sync) ? c->store->m->sync(c->store, err) : 0;
}

int eng__store_save(eng_collection *c, ds_err *err)
{
    return HAS(c, save) ? c->store->m->save(c->store, err) : eng__store_sync(c, err);
}

int eng__store_search(eng_collection *c, const float *vecs, int n_views, const eng_query *q,
                      int k, json_t **out, int *skipped, ds_err *err)
{
    *skipped = 0;
    if (!HAS(c, search))
        return unsupported(c, "searching by image", err);
    return c->store->m->search(c->store, vecs, n_views, q, k, out, skipped, err);
}

int eng__store_vector(eng_collection *c, const char *file_name, float *vec, ds_err *err)
{
    if (!HAS(c, stored_vector))
        return unsupported(c, "reading stored vectors", err);
    return c->store->m->stored_vector(c->store, file_name, vec, err);
}

int eng__store_image_name(eng_collection *c, int64_t id, char *out, size_t n, ds_err *err)
{
    if (!HAS(c, image_name))
        return unsupported(c, "image names by id", err);
    return c->store->m->image_name(c->store, id, out, n, err);
}

int eng__store_stats(eng_collection *c, json_t **out, ds_err *err)
{
    if (!HAS(c, stats))
        return unsupported(c, "statistics", err);
    return c->store->m->stats(c->store, out, err);
}

int eng__store_loc_counts(eng_collection *c, cat_loc_fn fn, void *ctx, ds_err *err)
{
    if (!HAS(c, loc_counts))
        return unsupported(c, "counts per Locarno class", err);
    return c->store->m->loc_counts(c->store, fn, ctx, err);
}

int eng__store_patent(eng_collection *c, const char *patent_id, json_t **out, ds_err *err)
{
    if (!HAS(c, patent))
        return unsupported(c, "reading patents", err);
    return c->store->m->patent(c->store, patent_id, out, err);
}

void eng__store_health(eng_collection *c, eng_health *h)
{
    if (HAS(c, health)) {
        c->store->m->health(c->store, h);
        return;
    }
    h->index = 0;
    h->index_kind = "none";
    snprintf(h->index_error, sizeof h->index_error, "no store");
}

int eng__store_text_search(eng_collection *c, const struct tq_query *q, const cat_filter *f,
                           size_t offset, size_t limit, cat_text_hit **out, size_t *n,
                           int64_t *total, ds_err *err)
{
    *out = NULL;
    *n = 0;
    if (!HAS(c, text_search))
        return unsupported(c, "search by words", err);
    return c->store->m->text_search(c->store, q, f, offset, limit, out, n, total, err);
}
