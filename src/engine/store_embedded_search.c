/* search.c - searching and describing what is stored, as JSON (see engine.h).
 *
 * Result keys keep the seed system's names ("id", "score", "file_name",
 * "patent_id", "page_num", "file_path" and the patent's fields, dates as
 * YYYYMMDD integers as in its Milvus schema) and add "image_url",
 * "thumbnail_url", "image_index" and ISO dates beside them.
 */
#include "engine/engine_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
    json_object_set_new(o, "patent_id", str_or_null(img->patent_id));
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
    int rc = idx_search(c->index, vec, k, &f, hits, n, err);
    free(ids);
    while (rc == 0 && *n > 0 && hits[*n - 1].score < q->min_score)
        (*n)--;
    return rc;
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
    idx_stats_get(c->index, &st);
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
    idx_stats_get(c->index, &st);
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
    json_object_set_new(o, "patent_id", str_or_null(g->patent_id));
    cat_patent p = {0};
    ds_err missing = {0};
    if (g->patent_id && cat_patent_get(e->db, c->id, g->patent_id, &p, &missing) == 0)
        patent_fields(o, &p);
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

/* ---- searching ------------------------------------------------------------ */

/* A view's vector: an upload embedded now; a stored image's own vector, or,
 * cropped, its original embedded again. */
static int view_vector(eng *e, eng_collection *c, const eng_view *v, float *vec,
                       eng_timing *t, ds_err *err)
{
    img_opts o = c->model->img;
    if (v->crop_set) {
        if (img_crop_check(v->crop, err) != 0)
            return -1;
        o.crop_set = 1;
        memcpy(o.crop, v->crop, sizeof o.crop);
    }
    void *stored = NULL;
    size_t len = v->len;
    const void *data = v->data;
    if (v->file_name && c->mv) {
        if (!v->crop_set)
            return engm_stored_vector(e, c, v->file_name, vec, err);
    } else if (v->file_name) {
        cat_image img = {0};
        if (cat_image_by_file_name(e->db, c->id, v->file_name, &img, err) != 0)
            return err->code == DS_ENOTFOUND
                       ? ds_fail(err, DS_ENOTFOUND, "no image called '%s' in %s", v->file_name,
                                 c->name)
                       : -1;
        int64_t id = img.id;
        cat_image_clear(&img);
        if (!v->crop_set)
            return cat_image_vector(e->db, id, vec, (size_t)c->model->dim, err);
    }
    if (v->file_name) {
        blob_info info;
        if (eng_image_bytes(e, c->name, v->file_name, ENG_IMAGE_FULL, &stored, &len, &info,
                            err) != 0)
            return -1;
        data = stored;
    }
    double dms = 0, ems = 0;
    int rc = eng_embed(c->model, data, len, &o, vec, &dms, &ems, err);
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
    eng_collection *c = eng_find(e, q->collection, err);
    if (!c)
        return -1;
    if (q->top_k < 1 || q->top_k > 1000)
        return ds_fail(err, DS_EINVAL, "top_k must be in [1, 1000]");
    if (q->offset < 0 || q->offset > 9000)
        return ds_fail(err, DS_EINVAL, "offset must be in [0, 9000]");
    if (q->n_views < 0 || q->n_views > ENG_MAX_VIEWS)
        return ds_fail(err, DS_EINVAL, "at most %d views", ENG_MAX_VIEWS);
    /* Each patent asked for costs all its drawings read and scored: the
     * deepest grouped page is bounded tighter than an image page. */
    if (q->group_by_patent && q->offset + q->top_k > ENG_MAX_GROUPED)
        return ds_fail(err, DS_EINVAL, "with group_by_patent, offset + top_k must be at most %d",
                       ENG_MAX_GROUPED);
    eng_view single = {.data = q->data, .len = q->len};
    const eng_view *views = q->n_views ? q->views : &single;
    int n_views = q->n_views ? q->n_views : 1, k = q->offset + q->top_k, dim = c->model->dim;
    float *vecs = malloc(sizeof(float) * (size_t)dim * (size_t)n_views);
    idx_hit *hits = malloc(sizeof *hits * (size_t)k);
    int rc = -1, n = 0;
    if (!vecs || !hits) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    for (int v = 0; v < n_views; v++)
        if (view_vector(e, c, &views[v], vecs + (size_t)v * dim, t, err) != 0) {
            if (n_views > 1)
                ds_wrap(err, "view %d: ", v + 1);
            goto out;
        }
    double t1 = eng_now_ms();
    if (eng__catch_up(e, c, err) != 0) /* rows other processes committed */
        goto out;
    /* Image pages are cut before their hits become JSON (each a catalog
     * read): the skipped ones cost no more than their ranking. */
    if (c->mv)
        rc = engm_search(e, c, vecs, n_views, q, k, results, err);
    else if (n_views > 1 && !q->group_by_patent)
        rc = fused_images(e, c, vecs, n_views, q, k, results, err);
    else if (n_views > 1)
        rc = fused_groups(e, c, vecs, n_views, q, k, results, err);
    else if (q->group_by_patent)
        rc = search_grouped(e, c, vecs, q, k, results, err);
    else if ((rc = ranked(e, c, vecs, q, k, hits, &n, err)) == 0) {
        int from = q->offset < n ? q->offset : n;
        rc = (*results = hits_json(e, c, hits + from, n - from, err)) ? 0 : -1;
    }
    if (rc == 0 && (c->mv || q->group_by_patent))
        skip(*results, q->offset);
    t->search_ms = eng_now_ms() - t1;
out:
    t->total_ms = eng_now_ms() - t0;
    free(vecs);
    free(hits);
    return rc;
}

/* ---- describing what is stored ------------------------------------------- */

int eng_stats(eng *e, const char *collection, json_t **out, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    cat_stats st;
    if (c && c->mv)
        return engm_stats(e, c, out, err);
    if (!c || eng__catch_up(e, c, err) != 0 || cat_stats_get(e->db, c->id, &st, err) != 0)
        return -1;
    idx_stats is;
    idx_stats_get(c->index, &is);
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

int eng_loc_counts(eng *e, const char *collection, cat_loc_fn fn, void *ctx, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    if (!c)
        return -1;
    return c->mv ? engm_loc_counts(e, c, fn, ctx, err) : cat_loc_counts(e->db, c->id, fn, ctx, err);
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

int eng_patent(eng *e, const char *collection, const char *patent_id, json_t **out, ds_err *err)
{
    eng_collection *c = eng_find(e, collection, err);
    cat_patent p = {0};
    cat_image *imgs = NULL;
    size_t n = 0;
    if (c && c->mv)
        return engm_patent(e, c, patent_id, out, err);
    if (!c || cat_patent_get(e->db, c->id, patent_id, &p, err) != 0)
        return -1;
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
