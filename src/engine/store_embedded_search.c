/* store_embedded_search.c - the embedded store's searching and describing
 * (store.h: search, stats, loc_counts, patent): the index ranks, the
 * catalog filters (before ranking, as an id list) and gives each hit's
 * image and patent fields.
 *
 * Result keys keep the seed system's names ("id", "score", "file_name",
 * "patent_id", "page_num", "file_path" and the patent's fields, dates as
 * YYYYMMDD integers as in its Milvus schema) and add "image_url",
 * "thumbnail_url", "image_index" and ISO dates beside them.
 */
#include "engine/store_embedded.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The index of an embedded collection. */
static idx_index *index_of(const eng_collection *c) { return embedded_of(c->store)->index; }

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }
static json_t *int_or_null(json_int_t v, int known) { return known ? json_integer(v) : json_null(); }

/* The patent's fields, with the seed's names, into obj. */
static void patent_fields(json_t *obj, const cat_patent *p)
{
    json_object_set_new(obj, "title", str_or_null(p->title));
    json_object_set_new(obj, "kind", str_or_null(p->kind));
    json_object_set_new(obj, "loc_class", str_or_null(p->loc_class));
    json_object_set_new(obj, "loc_edition", str_or_null(p->loc_edition));
    json_object_set_new(obj, "pub_date", int_or_null(eng__yyyymmdd(p->pub_date), p->pub_date != NULL));
    json_object_set_new(obj, "pub_date_iso", str_or_null(p->pub_date));
    json_object_set_new(obj, "filing_date",
                        int_or_null(eng__yyyymmdd(p->filing_date), p->filing_date != NULL));
    json_object_set_new(obj, "filing_date_iso", str_or_null(p->filing_date));
    json_object_set_new(obj, "grant_term", int_or_null(p->grant_term, p->grant_term > 0));
    json_object_set_new(obj, "applicant_name", str_or_null(p->applicant_name));
    json_object_set_new(obj, "applicant_country", str_or_null(p->applicant_country));
    json_object_set_new(obj, "inventor_names", str_or_null(p->inventor_names));
    json_object_set_new(obj, "assignee_name", str_or_null(p->assignee_name));
    json_object_set_new(obj, "claim_text", str_or_null(p->claim_text));
    json_object_set_new(obj, "image_count", int_or_null(p->image_count, p->image_count >= 0));
}

/* The patent's fields of a result with no patent (a plain image, or a
 * patent with no row): every key there, null, as docs/api.md promises, so
 * that a result has the same keys whatever it is. */
static void no_patent_fields(json_t *obj)
{
    cat_patent none = {.image_count = -1};
    patent_fields(obj, &none);
}

/* A result's patent_id: "" for an image with no patent, never null. The
 * seed's Milvus schema holds it as a VARCHAR (its rows, and ours on
 * Milvus, store ""), so its clients read a string; both backends answer
 * the same. */
static json_t *patent_id_json(const char *patent_id) { return json_string(patent_id ? patent_id : ""); }

/* One image as JSON: the seed's keys first. */
static json_t *image_json(const cat_image *img, float score, int with_score)
{
    char page[16];
    eng__page_num(img->file_name, page);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(img->id));
    if (with_score)
        json_object_set_new(o, "score", json_real(score));
    json_object_set_new(o, "file_name", json_string(img->file_name));
    json_object_set_new(o, "patent_id", patent_id_json(img->patent_id));
    json_object_set_new(o, "page_num", json_string(page));
    json_object_set_new(o, "file_path", str_or_null(img->object_key));
    json_object_set_new(o, "image_index", json_integer(img->image_index));
    json_object_set_new(o, "image_url", eng__image_url(img->file_name, 0));
    json_object_set_new(o, "thumbnail_url", eng__image_url(img->file_name, 1));
    return o;
}

/* A hit with its image and patent fields (the seed's flat result). The
 * patents' fields are looked up once per query: cache maps patent_id to
 * them (null for a patent with no row). */
static json_t *hit_json(eng *e, const eng_collection *c, const idx_hit *h, json_t *cache,
                        ds_err *err)
{
    cat_image img = {0};
    if (cat_image_get(e->db, h->id, &img, err) != 0)
        return NULL;
    json_t *o = image_json(&img, h->score, 1);
    json_t *fields = img.patent_id ? json_object_get(cache, img.patent_id) : NULL;
    if (img.patent_id && !fields) {
        cat_patent p = {0};
        ds_err missing = {0};
        fields = json_null();
        if (cat_patent_get(e->db, c->id, img.patent_id, &p, &missing) == 0) {
            fields = json_object();
            patent_fields(fields, &p);
        }
        cat_patent_clear(&p);
        json_object_set_new(cache, img.patent_id, fields);
    }
    if (json_is_object(fields))
        json_object_update(o, fields);
    else
        no_patent_fields(o);
    cat_image_clear(&img);
    return o;
}

/* Top k hits (after the filter and min_score) into hits[]; *n their number. */
static int ranked(eng *e, eng_collection *c, const float *vec, const eng_query *q, int k,
                  idx_hit *hits, int *n, ds_err *err)
{
    idx_filter f = {0};
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (!cat_filter_is_empty(&q->filter)) {
        if (cat_filter_ids(e->db, c->id, &q->filter, &ids, &n_ids, err) != 0)
            return -1;
        f.ids = ids ? ids : (const int64_t *)"";
        f.n_ids = n_ids;
    }
    int rc = idx_search(index_of(c), vec, k, &f, hits, n, err);
    free(ids);
    while (rc == 0 && *n > 0 && hits[*n - 1].score < q->min_score)
        (*n)--;
    return rc;
}

static json_t *hits_json(eng *e, eng_collection *c, const idx_hit *hits, int n, ds_err *err)
{
    json_t *flat = json_array(), *cache = json_object();
    for (int i = 0; i < n; i++) {
        json_t *h = hit_json(e, c, &hits[i], cache, err);
        if (!h) {
            json_decref(flat);
            flat = NULL;
            break;
        }
        json_array_append_new(flat, h);
    }
    json_decref(cache);
    return flat;
}

/* Grouped searches look at most this many images per patent asked for
 * (offset + top_k) in each view: GROUP_FIRST first, widened 4x while fewer
 * patents than asked for turn up, never beyond GROUP_MOST. This bounds a
 * request's work by what it asks for, and finds the patents that one
 * patent's many alike drawings would otherwise push out of a fixed window. */
enum { GROUP_FIRST = 8, GROUP_MOST = 32 };

/* Grouped: ask for more images until k patents are found or none are left. */
static int search_grouped(eng *e, eng_collection *c, const float *vec, const eng_query *q,
                          int k, json_t **out, ds_err *err)
{
    idx_stats st;
    idx_stats_get(index_of(c), &st);
    int want = k * GROUP_FIRST, most = k * GROUP_MOST;
    for (;;) {
        if (want > most)
            want = most; /* the work a request may ask for */
        if (want > (int)st.count)
            want = st.count ? (int)st.count : 1;
        if (want > 100000)
            want = 100000; /* the index's most per query */
        idx_hit *hits = malloc(sizeof *hits * (size_t)want);
        int n = 0;
        if (!hits)
            return ds_fail(err, DS_ENOMEM, "out of memory");
        json_t *flat = ranked(e, c, vec, q, want, hits, &n, err) == 0
                           ? hits_json(e, c, hits, n, err) : NULL;
        free(hits);
        if (!flat)
            return -1;
        json_t *groups = eng__group(flat, k);
        int enough = (int)json_array_size(groups) >= k || n < want || want == most ||
                     want >= (int)st.count || want == 100000;
        json_decref(flat);
        if (enough) {
            *out = groups;
            return 0;
        }
        json_decref(groups);
        want *= 4;
    }
}

/* ---- several views: fused scores ---------------------------------------- */

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Each view's score of a stored vector, and their best. */
static float view_scores(const float *vecs, int n_views, int dim, const float *v, float *each)
{
    float best = -2;
    for (int j = 0; j < n_views; j++) {
        each[j] = dot(vecs + (size_t)j * dim, v, dim);
        best = each[j] > best ? each[j] : best;
    }
    return best;
}

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const idx_hit *)a)->score, y = ((const idx_hit *)b)->score;
    if (x != y)
        return x < y ? 1 : -1;
    int64_t i = ((const idx_hit *)a)->id, j = ((const idx_hit *)b)->id;
    return (i > j) - (i < j);
}

/* By id, and an id's best score first. */
static int by_id_then_score(const void *a, const void *b)
{
    const idx_hit *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->score < y->score) - (x->score > y->score);
}

/* Each view's own top list, kept to bound the scores of patent groups. */
typedef struct view_lists {
    idx_hit *hits;          /* the views' lists one after another */
    int got[ENG_MAX_VIEWS]; /* each one's length */
    int want;               /* what was asked of each */
} view_lists;

/* Each view's top k hits (filtered), merged: an image once, with its best
 * score over the views whose top k hold it; best first. That is its fused
 * score wherever it matters: an image whose best view left it out scores
 * there at most that view's k-th score, and k images already score at
 * least that, so it is not among the fused top k (ties aside). The index's
 * scores, as a single view's search answers them: no vector is read again. */
static int candidates(eng *e, eng_collection *c, const float *vecs, int n_views,
                      const eng_query *q, int k, idx_hit **out, size_t *n, view_lists *lists,
                      ds_err *err)
{
    eng_query loose = *q;
    loose.min_score = -2; /* min_score applies to the fused score */
    idx_hit *all = malloc(sizeof *all * (size_t)k * (size_t)n_views);
    size_t m = 0;
    if (!all)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    for (int v = 0; v < n_views; v++) {
        int got = 0;
        if (ranked(e, c, vecs + (size_t)v * c->model->dim, &loose, k, all + m, &got, err) != 0) {
            free(all);
            return -1;
        }
        m += (size_t)got;
        if (lists)
            lists->got[v] = got;
    }
    if (lists) {
        lists->want = k;
        if (!(lists->hits = malloc(sizeof *all * (m ? m : 1)))) {
            free(all);
            return ds_fail(err, DS_ENOMEM, "out of memory");
        }
        memcpy(lists->hits, all, sizeof *all * m);
    }
    /* One entry per image, its best score: sort by id, best first, squeeze. */
    qsort(all, m, sizeof *all, by_id_then_score);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || all[u - 1].id != all[i].id)
            all[u++] = all[i];
    qsort(all, u, sizeof *all, by_score_desc);
    *out = all;
    *n = u;
    return 0;
}

/* Image hits, the page [offset, k) of the fused ranking. */
static int fused_images(eng *e, eng_collection *c, const float *vecs, int n_views,
                        const eng_query *q, int k, json_t **out, ds_err *err)
{
    idx_hit *hits = NULL;
    size_t n = 0, kept = 0;
    if (candidates(e, c, vecs, n_views, q, k, &hits, &n, NULL, err) != 0)
        return -1;
    while (kept < n && (int)kept < k && hits[kept].score >= q->min_score)
        kept++;
    size_t from = (size_t)q->offset < kept ? (size_t)q->offset : kept;
    *out = hits_json(e, c, hits + from, (int)(kept - from), err);
    free(hits);
    return *out ? 0 : -1;
}

/* One patent (or one image without a patent) scored against the views,
 * with its images and their scores kept for the answer: read once. */
typedef struct fused_group {
    char *patent_id;             /* NULL: a plain image, the group of its own */
    int64_t image_id;            /* for a plain image */
    float score;
    float bound;                 /* what score can be at most, from the views' lists */
    cat_image *imgs;             /* its images ... */
    size_t n_imgs;
    idx_hit *order;              /* ... as (position in imgs, best-view score), best first */
} fused_group;

static void free_groups(fused_group *groups, size_t n)
{
    for (size_t g = 0; groups && g < n; g++) {
        free(groups[g].patent_id);
        cat_image_list_free(groups[g].imgs, groups[g].n_imgs);
        free(groups[g].order);
    }
    free(groups);
}

/* Best score first; ties by patent then image, so that every page of a
 * query sees one order. */
static int by_group_score(const void *a, const void *b)
{
    const fused_group *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    if (x->patent_id && y->patent_id)
        return strcmp(x->patent_id, y->patent_id);
    if (x->patent_id || y->patent_id)
        return x->patent_id ? -1 : 1;
    return (x->image_id > y->image_id) - (x->image_id < y->image_id);
}

/* Score a group: the mean over views of each view's best image; each
 * image's own (best-view) score goes into g->order, best first. */
static int score_group(eng *e, eng_collection *c, const float *vecs, int n_views,
                       fused_group *g, ds_err *err)
{
    int dim = c->model->dim;
    float best[ENG_MAX_VIEWS], each[ENG_MAX_VIEWS];
    float *v = malloc(sizeof(float) * (size_t)dim);
    g->order = malloc(sizeof *g->order * (g->n_imgs ? g->n_imgs : 1));
    if (!v || !g->order) {
        free(v);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    for (int j = 0; j < n_views; j++)
        best[j] = -2;
    for (size_t i = 0; i < g->n_imgs; i++) {
        if (cat_image_vector(e->db, g->imgs[i].id, v, (size_t)dim, err) != 0) {
            free(v);
            return -1;
        }
        g->order[i] = (idx_hit){.id = (int64_t)i,
                                .score = view_scores(vecs, n_views, dim, v, each)};
        for (int j = 0; j < n_views; j++)
            best[j] = each[j] > best[j] ? each[j] : best[j];
    }
    float sum = 0;
    for (int j = 0; j < n_views; j++)
        sum += best[j];
    g->score = sum / (float)n_views;
    qsort(g->order, g->n_imgs, sizeof *g->order, by_score_desc);
    free(v);
    return 0;
}

/* The images of a group: the patent's drawings, or the one plain image. */
static int group_images(eng *e, eng_collection *c, fused_group *g, ds_err *err)
{
    if (g->patent_id)
        return cat_images_of_patent(e->db, c->id, g->patent_id, &g->imgs, &g->n_imgs, err);
    if (!(g->imgs = calloc(1, sizeof *g->imgs)))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    g->n_imgs = 1;
    return cat_image_get(e->db, g->image_id, g->imgs, err);
}

/* A candidate image and its group. */
typedef struct image_group {
    int64_t id;
    size_t group;
} image_group;

static int by_image(const void *a, const void *b)
{
    int64_t x = ((const image_group *)a)->id, y = ((const image_group *)b)->id;
    return (x > y) - (x < y);
}

/* The candidates' groups: one per patent (found through a hash of the
 * patent ids, not by comparing with every group so far) or plain image. */
static int group_candidates(eng *e, const idx_hit *hits, size_t n, fused_group **out,
                            size_t *n_out, image_group *member, ds_err *err)
{
    fused_group *groups = calloc(n ? n : 1, sizeof *groups);
    json_t *seen = json_object();
    size_t m = 0;
    int rc = 0;
    if (!groups || !seen)
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cat_image img = {0};
        if ((rc = cat_image_get(e->db, hits[i].id, &img, err)) != 0)
            break;
        json_t *at = img.patent_id ? json_object_get(seen, img.patent_id) : NULL;
        member[i] = (image_group){hits[i].id, at ? (size_t)json_integer_value(at) : m};
        if (!at) {
            if (img.patent_id)
                json_object_set_new(seen, img.patent_id, json_integer((json_int_t)m));
            groups[m].image_id = img.id;
            groups[m++].patent_id = img.patent_id;
            img.patent_id = NULL; /* moved */
        }
        cat_image_clear(&img);
    }
    json_decref(seen);
    if (rc != 0) {
        free_groups(groups, m);
        return -1;
    }
    *out = groups;
    *n_out = m;
    return 0;
}

/* The groups of each view's top images: GROUP_FIRST·k of them, more (up
 * to GROUP_MOST·k) while fewer than k groups turn up and more images are
 * left. */
static int find_groups(eng *e, eng_collection *c, const float *vecs, int n_views,
                       const eng_query *q, int k, fused_group **groups, size_t *n_groups,
                       view_lists *lists, image_group **member, size_t *n_members, ds_err *err)
{
    idx_stats st;
    idx_stats_get(index_of(c), &st);
    long long stored = st.count ? (long long)st.count : 1, most = (long long)GROUP_MOST * k;
    if (most > stored)
        most = stored;
    if (most > 100000)
        most = 100000; /* the index's most per query */
    for (long long want = (long long)GROUP_FIRST * k;; want *= 4) {
        want = want < most ? want : most;
        idx_hit *hits = NULL;
        size_t n = 0;
        if (candidates(e, c, vecs, n_views, q, (int)want, &hits, &n, lists, err) != 0)
            return -1;
        *member = malloc(sizeof **member * (n ? n : 1));
        int rc = *member ? group_candidates(e, hits, n, groups, n_groups, *member, err)
                         : ds_fail(err, DS_ENOMEM, "out of memory");
        free(hits);
        *n_members = n;
        if (rc == 0 && *n_groups < (size_t)k && want < most) {
            free_groups(*groups, *n_groups);
            *groups = NULL;
            rc = 1; /* widen */
        }
        if (rc != 1 && rc != 0) {
            free(lists->hits);
            free(*member);
            lists->hits = NULL;
            *member = NULL;
        }
        if (rc != 1)
            return rc;
        free(lists->hits);
        free(*member);
        lists->hits = NULL;
        *member = NULL;
    }
}

/* A scored group as a result: the patent's fields, its score, and its
 * images over min_score, best first. */
static json_t *group_json(eng *e, eng_collection *c, const fused_group *g, float min_score)
{
    json_t *o = json_object(), *list = json_array();
    json_object_set_new(o, "score", json_real(g->score));
    json_object_set_new(o, "patent_id", patent_id_json(g->patent_id));
    cat_patent p = {0};
    ds_err missing = {0};
    if (g->patent_id && cat_patent_get(e->db, c->id, g->patent_id, &p, &missing) == 0)
        patent_fields(o, &p);
    else
        no_patent_fields(o);
    cat_patent_clear(&p);
    for (size_t i = 0; i < g->n_imgs; i++)
        if (g->order[i].score >= min_score)
            json_array_append_new(list, image_json(&g->imgs[g->order[i].id], g->order[i].score, 1));
    json_object_set_new(o, "images", list);
    return o;
}

/* Room for the index's rounding (float16 storage) in the bounds. */
#define BOUND_SLACK 1e-3f

/* Each group's bound: over the views, the mean of its best image in the
 * view's list, or of the list's last score where none is (an image left
 * out scores at most that; nothing, when the list holds every image). */
static void bound_groups(fused_group *groups, size_t n_groups, const view_lists *lists,
                         int n_views, image_group *member, size_t n_members, float *known)
{
    qsort(member, n_members, sizeof *member, by_image);
    for (size_t g = 0; g < n_groups * (size_t)n_views; g++)
        known[g] = -2;
    const idx_hit *hit = lists->hits;
    for (int v = 0; v < n_views; hit += lists->got[v++])
        for (int i = 0; i < lists->got[v]; i++) {
            image_group key = {.id = hit[i].id};
            const image_group *m = bsearch(&key, member, n_members, sizeof *member, by_image);
            float *best = m ? &known[m->group * (size_t)n_views + (size_t)v] : NULL;
            if (best && hit[i].score > *best)
                *best = hit[i].score;
        }
    float last[ENG_MAX_VIEWS];
    hit = lists->hits;
    for (int v = 0; v < n_views; hit += lists->got[v++])
        last[v] = lists->got[v] == lists->want ? hit[lists->got[v] - 1].score : -2;
    for (size_t g = 0; g < n_groups; g++) {
        float sum = 0;
        for (int v = 0; v < n_views; v++) {
            float best = known[g * (size_t)n_views + (size_t)v];
            sum += best > last[v] ? best : last[v];
        }
        groups[g].bound = sum / (float)n_views + BOUND_SLACK;
    }
}

static int by_bound(const void *a, const void *b)
{
    float x = ((const fused_group *)a)->bound, y = ((const fused_group *)b)->bound;
    return (x < y) - (x > y);
}

static int by_float_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* The k-th best score of groups[0..n) (n >= k). */
static float kth_score(const fused_group *groups, size_t n, int k, float *scratch)
{
    for (size_t g = 0; g < n; g++)
        scratch[g] = groups[g].score;
    qsort(scratch, n, sizeof *scratch, by_float_desc);
    return scratch[k - 1];
}

/* Score groups, highest bound first, until no group left can beat the
 * k-th best score found (or reach min_score): how many were scored. */
static int score_best_groups(eng *e, eng_collection *c, const float *vecs, int n_views,
                             fused_group *groups, size_t n_groups, int k, float min_score,
                             size_t *scored, ds_err *err)
{
    float *scratch = malloc(sizeof *scratch * (n_groups ? n_groups : 1));
    size_t g = 0, step = (size_t)k; /* a check costs a sort of the scores so far */
    if (!scratch)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    qsort(groups, n_groups, sizeof *groups, by_bound);
    while (g < n_groups && groups[g].bound >= min_score) {
        if (g >= (size_t)k && g % step == 0 && kth_score(groups, g, k, scratch) > groups[g].bound)
            break;
        if (group_images(e, c, &groups[g], err) != 0 ||
            score_group(e, c, vecs, n_views, &groups[g], err) != 0) {
            free(scratch);
            return -1;
        }
        g++;
    }
    free(scratch);
    *scored = g;
    return 0;
}

/* Patent groups: the patents of each view's top images, scored over all
 * their drawings (each read once) where they can make the top k. */
static int fused_groups(eng *e, eng_collection *c, const float *vecs, int n_views,
                        const eng_query *q, int k, json_t **out, ds_err *err)
{
    fused_group *groups = NULL;
    size_t n_groups = 0, n_members = 0, scored = 0;
    view_lists lists = {0};
    image_group *member = NULL;
    if (find_groups(e, c, vecs, n_views, q, k, &groups, &n_groups, &lists, &member, &n_members,
                    err) != 0)
        return -1;
    float *known = malloc(sizeof *known * (n_groups ? n_groups : 1) * (size_t)n_views);
    int rc = known ? 0 : ds_fail(err, DS_ENOMEM, "out of memory");
    if (rc == 0) {
        bound_groups(groups, n_groups, &lists, n_views, member, n_members, known);
        rc = score_best_groups(e, c, vecs, n_views, groups, n_groups, k, q->min_score, &scored,
                               err);
    }
    if (rc == 0) {
        qsort(groups, scored, sizeof *groups, by_group_score);
        *out = json_array();
        for (size_t g = 0; g < scored && (int)g < k && groups[g].score >= q->min_score; g++)
            json_array_append_new(*out, group_json(e, c, &groups[g], q->min_score));
    }
    free(known);
    free(member);
    free(lists.hits);
    free_groups(groups, n_groups);
    return rc;
}

/* ---- the store's operations ------------------------------------------------- */

/* Image pages are cut before their hits become JSON (each a catalog read):
 * the skipped ones cost no more than their ranking (*skipped). */
int embedded_search(eng_store *s, const float *vecs, int n_views, const eng_query *q, int k,
                    json_t **out, int *skipped, ds_err *err)
{
    eng *e = s->e;
    eng_collection *c = s->c;
    *skipped = 0;
    if (embedded_catch_up(embedded_of(s), err) != 0) /* rows other processes committed */
        return -1;
    if (n_views > 1 && q->group_by_patent)
        return fused_groups(e, c, vecs, n_views, q, k, out, err);
    if (q->group_by_patent)
        return search_grouped(e, c, vecs, q, k, out, err);
    *skipped = q->offset;
    if (n_views > 1)
        return fused_images(e, c, vecs, n_views, q, k, out, err);
    idx_hit *hits = malloc(sizeof *hits * (size_t)k);
    int n = 0, rc = hits ? 0 : ds_fail(err, DS_ENOMEM, "out of memory");
    if (rc == 0 && (rc = ranked(e, c, vecs, q, k, hits, &n, err)) == 0) {
        int from = q->offset < n ? q->offset : n;
        rc = (*out = hits_json(e, c, hits + from, n - from, err)) ? 0 : -1;
    }
    free(hits);
    return rc;
}

int embedded_stats(eng_store *s, json_t **out, ds_err *err)
{
    eng *e = s->e;
    const eng_collection *c = s->c;
    cat_stats st;
    if (embedded_catch_up(embedded_of(s), err) != 0 ||
        cat_stats_get(e->db, c->id, &st, err) != 0)
        return -1;
    idx_stats is;
    idx_stats_get(index_of(c), &is);
    json_t *loc = json_array();
    for (size_t i = 0; i < st.n_loc; i++)
        json_array_append_new(loc, json_pack("{s:s,s:I}", "loc_class", st.loc[i].loc_class,
                                             "images", (json_int_t)st.loc[i].images));
    *out = json_pack("{s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:o,s:{s:s,s:I,s:I,s:b,s:b},s:b}",
                     "collection_name", c->name, "model", c->model->id, "dimension",
                     c->model->dim,
                     "row_count", (json_int_t)st.images, "patents", (json_int_t)st.patents,
                     "images", (json_int_t)st.images, "db_bytes", (json_int_t)st.db_bytes,
                     "top_loc_classes", loc, "index", "kind", is.kind, "count",
                     (json_int_t)is.count, "bytes", (json_int_t)is.bytes, "f16", is.f16,
                     "prescan", is.prescan, "generated_weights", vit_get_config(c->model->vit)->generated);
    if (*out)
        json_object_set_new(*out, "precision",
                            json_string(gemm_precision_name(c->model->precision)));
    return *out ? 0 : ds_fail(err, DS_ENOMEM, "out of memory");
}

int embedded_loc_counts(eng_store *s, cat_loc_fn fn, void *ctx, ds_err *err)
{
    return cat_loc_counts(s->e->db, s->c->id, fn, ctx, err);
}

int embedded_patent(eng_store *s, const char *patent_id, json_t **out, ds_err *err)
{
    eng *e = s->e;
    const eng_collection *c = s->c;
    cat_patent p = {0};
    cat_image *imgs = NULL;
    size_t n = 0;
    if (cat_patent_get(e->db, c->id, patent_id, &p, err) != 0) {
        /* The catalog knows collections by number; users by name. */
        if (err->code == DS_ENOTFOUND)
            ds_fail(err, DS_ENOTFOUND, "no patent %.200s in collection %s", patent_id, c->name);
        return -1;
    }
    if (cat_images_of_patent(e->db, c->id, patent_id, &imgs, &n, err) != 0) {
        cat_patent_clear(&p);
        return -1;
    }
    *out = json_object();
    json_object_set_new(*out, "patent_id", json_string(p.patent_id));
    patent_fields(*out, &p);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, image_json(&imgs[i], 0, 0));
    json_object_set_new(*out, "images", list);
    cat_image_list_free(imgs, n);
    cat_patent_clear(&p);
    return 0;
}

/* The catalog holds the patents' text and its full-text index, kept in step
 * by triggers: every committed row is there for the next query, whichever
 * process wrote it, with no index of our own to catch up. */
int embedded_text_search(eng_store *s, const struct tq_query *q, const cat_filter *f,
                         size_t offset, size_t limit, cat_text_hit **out, size_t *n,
                         int64_t *total, ds_err *err)
{
    return cat_text_search(s->e->db, s->c->id, q, f, offset, limit, out, n, total, err);
}
