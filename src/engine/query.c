/* query.c - what a search and a description share whichever store holds
 * the rows (see engine.h, store.h): the arguments' checks, the query's
 * vectors, paging, grouping by patent, the JSON keys every result shape
 * uses, and images from the blob store.
 *
 * Result keys keep the seed system's names ("id", "score", "file_name",
 * "patent_id", "page_num", "file_path" and the patent's fields, dates as
 * YYYYMMDD integers as in its Milvus schema) and add "image_url",
 * "thumbnail_url", "image_index" and ISO dates beside them.
 */
#include "engine/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- result JSON ------------------------------------------------------------ */

/* "USD0701016-20140318-D00001.TIF" -> "D00001"; "" when there is none. */
void eng__page_num(const char *file_name, char out[16])
{
    out[0] = '\0';
    for (const char *p = file_name; p && (p = strchr(p, 'D')); p++) {
        int digits = 0;
        while (digits < 5 && isdigit((unsigned char)p[1 + digits]))
            digits++;
        if (digits == 5 && (p == file_name || p[-1] == '-' || p[-1] == '_') &&
            !isdigit((unsigned char)p[6])) {
            memcpy(out, p, 6);
            out[6] = '\0';
        }
    }
}

/* "2014-03-18" -> 20140318, the seed's INT64 dates; 0 when absent. */
json_int_t eng__yyyymmdd(const char *iso)
{
    if (!iso || strlen(iso) != 10)
        return 0;
    json_int_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (!isdigit((unsigned char)iso[i]))
            return 0;
        v = v * 10 + (iso[i] - '0');
    }
    return v;
}

/* URLs are built from the file name, percent-encoded. */
json_t *eng__image_url(const char *file_name, int thumbnail)
{
    char out[3 * 1024 + 64];
    size_t n = (size_t)snprintf(out, sizeof out, "/api/image/");
    for (const unsigned char *p = (const unsigned char *)file_name; *p && n + 4 < sizeof out; p++)
        n += (size_t)(isalnum(*p) || strchr("-._~", *p)
                          ? snprintf(out + n, sizeof out - n, "%c", *p)
                          : snprintf(out + n, sizeof out - n, "%%%02X", *p));
    if (!thumbnail)
        snprintf(out + n, sizeof out - n, "?size=full");
    return json_string(out);
}

/* Group image hits by patent, best first; each group lists its images.
 * Images without a patent form a group of their own. */
json_t *eng__group(json_t *flat, int k)
{
    json_t *groups = json_array(), *by_id = json_object();
    size_t i;
    json_t *hit;
    json_array_foreach(flat, i, hit) {
        const char *pid = json_string_value(json_object_get(hit, "patent_id"));
        if (pid && !*pid)
            pid = NULL; /* "": no patent, each such image its own group */
        char key[1200]; /* a patent and a file name never share a key */
        snprintf(key, sizeof key, "%s%s", pid ? "patent:" : "file:",
                 pid ? pid : json_string_value(json_object_get(hit, "file_name")));
        json_t *g = json_object_get(by_id, key);
        if (!g) {
            if ((int)json_array_size(groups) == k)
                continue;
            g = json_deep_copy(hit);
            json_object_set_new(g, "images", json_array());
            /* A group is a patent: image-only keys live in its images. */
            static const char *const image_keys[] = {"id", "file_name", "page_num", "file_path",
                                                     "image_index", "image_url", "thumbnail_url"};
            for (size_t j = 0; j < sizeof image_keys / sizeof image_keys[0]; j++)
                json_object_del(g, image_keys[j]);
            json_object_set(by_id, key, g);
            json_array_append_new(groups, g);
        }
        json_t *img = json_object();
        static const char *const keep[] = {"id", "score", "file_name", "page_num", "file_path",
                                           "image_index", "image_url", "thumbnail_url"};
        for (size_t j = 0; j < sizeof keep / sizeof keep[0]; j++)
            json_object_set(img, keep[j], json_object_get(hit, keep[j]));
        json_array_append_new(json_object_get(g, "images"), img);
    }
    json_decref(by_id);
    return groups;
}

/* ---- searching ------------------------------------------------------------ */

/* A view's vector: an upload embedded now; a stored image's own vector, or,
 * cropped (or for another model than its collection's), its original
 * embedded again. */
int eng__view_vector(eng *e, eng_collection *c, eng_model *m, const eng_view *v, float *vec,
                     eng_timing *t, ds_err *err)
{
    img_opts o = m->img;
    int again = v->crop_set || c->model != m; /* the stored vector will not do */
    if (v->crop_set) {
        if (img_crop_check(v->crop, err) != 0)
            return -1;
        o.crop_set = 1;
        memcpy(o.crop, v->crop, sizeof o.crop);
    }
    void *stored = NULL;
    size_t len = v->len;
    const void *data = v->data;
    if (v->file_name) {
        /* Cropped: only checked here (where the store can), and embedded
         * again from the original. */
        if (eng__store_vector(c, v->file_name, again ? NULL : vec, err) != 0)
            return -1;
        if (!again)
            return 0;
        blob_info info;
        if (eng_image_bytes(e, c->name, v->file_name, ENG_IMAGE_FULL, &stored, &len, &info,
                            err) != 0)
            return -1;
        data = stored;
    }
    double dms = 0, ems = 0;
    int rc = eng_embed(m, data, len, &o, vec, &dms, &ems, err);
    t->decode_ms += dms;
    t->embed_ms += ems;
    free(stored);
    return rc;
}

/* Drop the first `offset` elements of a JSON array (paging). */
static void skip(json_t *list, int offset)
{
    for (int i = 0; i < offset && json_array_size(list) > 0; i++)
        json_array_remove(list, 0);
}

int eng_search(eng *e, const eng_query *q, json_t **results, eng_timing *t, ds_err *err)
{
    double t0 = eng_now_ms();
    *results = NULL;
    memset(t, 0, sizeof *t);
    t->text_matches = -1;
    int words = q->text && *q->text;
    int picture = q->n_views > 0 || q->data != NULL;
    eng_collection *cs[ENG_MAX_SEARCHED];
    int n_colls = 0;
    if (eng__resolve_collections(e, q->collection, cs, &n_colls, err) != 0)
        return -1;
    eng_collection *c = cs[0];
    if (q->top_k < 1 || q->top_k > 1000)
        return ds_fail(err, DS_EINVAL, "top_k must be in [1, 1000]");
    if (q->offset < 0 || q->offset > 9000)
        return ds_fail(err, DS_EINVAL, "offset must be in [0, 9000]");
    if (q->n_views < 0 || q->n_views > ENG_MAX_VIEWS)
        return ds_fail(err, DS_EINVAL, "at most %d views", ENG_MAX_VIEWS);
    /* Each patent asked for costs all its drawings read and scored: the
     * deepest grouped page is bounded tighter than an image page. */
    if (!words && q->group_by_patent && q->offset + q->top_k > ENG_MAX_GROUPED)
        return ds_fail(err, DS_EINVAL, "with group_by_patent, offset + top_k must be at most %d",
                       ENG_MAX_GROUPED);
    eng_view single = {.data = q->data, .len = q->len};
    const eng_view *views = q->n_views ? q->views : &single;
    int n_views = q->n_views ? q->n_views : 1;
    if (n_colls > 1) {
        int rc = eng__search_multi(e, cs, n_colls, q, picture ? views : NULL,
                                   picture ? n_views : 0, results, t, err);
        t->total_ms = eng_now_ms() - t0;
        return rc;
    }
    if (words && !picture) {
        int rc = eng__search_words(c, q, NULL, 0, results, t, err);
        t->search_ms = t->text_ms;
        t->total_ms = eng_now_ms() - t0;
        return rc;
    }
    int k = q->offset + q->top_k, dim = c->model->dim;
    float *vecs = malloc(sizeof(float) * (size_t)dim * (size_t)n_views);
    int rc = -1, skipped = 0;
    if (!vecs) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    for (int v = 0; v < n_views; v++)
        if (eng__view_vector(e, c, c->model, &views[v], vecs + (size_t)v * dim, t, err) != 0) {
            if (n_views > 1)
                ds_wrap(err, "view %d: ", v + 1);
            goto out;
        }
    double t1 = eng_now_ms();
    /* The store may cut the page's start before making its JSON (store.h):
     * the rest of the offset goes here. */
    if (words) {
        rc = eng__search_words(c, q, vecs, n_views, results, t, err);
        t->search_ms = eng_now_ms() - t1;
        goto out;
    }
    rc = eng__store_search(c, vecs, n_views, q, k, results, &skipped, err);
    if (rc == 0 && skipped < q->offset)
        skip(*results, q->offset - skipped);
    t->search_ms = eng_now_ms() - t1;
out:
    t->total_ms = eng_now_ms() - t0;
    free(vecs);
    return rc;
}

/* ---- describing what is stored ------------------------------------------- */

int eng_loc_counts(eng *e, const char *collection, cat_loc_fn fn, void *ctx, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    return eng__store_loc_counts(c, fn, ctx, err);
}

int eng_stats(eng *e, const char *collection, json_t **out, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    return c ? eng__store_stats(c, out, err) : -1;
}

int eng_patent(eng *e, const char *collection, const char *patent_id, json_t **out, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    return c ? eng__store_patent(c, patent_id, out, err) : -1;
}

int eng_collections(eng *e, json_t **out, ds_err *err)
{
    if (eng__attach_new_collections(e, err) != 0)
        return -1;
    *out = json_array();
    for (int i = 0; i < e->n_colls; i++) {
        json_t *s;
        if (eng_stats(e, e->colls[i].name, &s, err) != 0) {
            json_decref(*out);
            return -1;
        }
        json_array_append_new(*out, s);
    }
    return 0;
}

/* The large rendition: made from the original on first request, then kept
 * in the blob store beside the thumbnail. */
static int large_image(eng *e, const eng_collection *c, const char *file_name, void **data,
                       size_t *len, blob_info *info, ds_err *err)
{
    char key[BLOB_KEY_MAX + 64], orig[BLOB_KEY_MAX + 64];
    snprintf(key, sizeof key, "large/%s/%s.jpg", c->name, file_name);
    snprintf(orig, sizeof orig, "originals/%s/%s", c->name, file_name);
    if (blob_key_check(key, err) != 0 || blob_key_check(orig, err) != 0)
        return ds_fail(err, DS_ENOTFOUND, "no image called '%s'", file_name);
    ds_err missing = {0};
    if (blob_get(e->blobs, key, data, len, info, &missing) == 0)
        return 0;
    void *src = NULL, *jpeg = NULL;
    size_t src_len = 0, jlen = 0;
    blob_info src_info;
    if (blob_get(e->blobs, orig, &src, &src_len, &src_info, err) != 0) {
        if (err->code == DS_ENOTFOUND)
            ds_fail(err, DS_ENOTFOUND, "no image called '%s'", file_name);
        return -1;
    }
    int rc = img_thumbnail_buffer(src, src_len, ENG_LARGE_SIDE, 88, &jpeg, &jlen, err);
    free(src);
    if (rc != 0)
        return -1;
    ds_err ignored;
    if (blob_put(e->blobs, key, jpeg, jlen, "image/jpeg", &ignored) == 0 &&
        blob_head(e->blobs, key, info, &ignored) == 0) {
        *data = jpeg;
        *len = jlen;
        return 0;
    }
    /* Not kept (read-only store?): still answer, with a content-derived tag. */
    memset(info, 0, sizeof *info);
    snprintf(info->etag, sizeof info->etag, "large-%.64s", src_info.etag);
    snprintf(info->content_type, sizeof info->content_type, "image/jpeg");
    *data = jpeg;
    *len = jlen;
    return 0;
}

int eng_image_bytes(eng *e, const char *collection, const char *file_name, int size,
                    void **data, size_t *len, blob_info *info, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    char key[BLOB_KEY_MAX + 64];
    if (!c)
        return -1;
    if (size == ENG_IMAGE_LARGE)
        return large_image(e, c, file_name, data, len, info, err);
    snprintf(key, sizeof key, size == ENG_IMAGE_FULL ? "originals/%s/%s" : "thumbnails/%s/%s.jpg",
             c->name, file_name);
    if (blob_key_check(key, err) != 0)
        return ds_fail(err, DS_ENOTFOUND, "no image called '%s'", file_name);
    if (blob_get(e->blobs, key, data, len, info, err) != 0) {
        if (err->code == DS_ENOTFOUND)
            ds_fail(err, DS_ENOTFOUND, "no image called '%s'", file_name);
        return -1;
    }
    return 0;
}
