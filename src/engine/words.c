/* words.c - search by words, alone or with a picture (see engine.h,
 * eng_query's text).
 *
 *   words alone:   the store ranks the patents that match (BM25, field
 *                  weights, the filter applied first); each result is the
 *                  patent with its first drawing.
 *   with a picture: two legs, each its `window` best patents under the
 *                  filter: the picture's (grouped by patent, as a grouped
 *                  image search ranks them) and the words'. fusion.h merges
 *                  them by rank (RRF) or by scaled score (weighted); a
 *                  patent found by the picture shows its best drawings
 *                  first, one found by the words alone its first drawing.
 *
 * Every result says what the words found in it ("text": the query's words
 * it holds, a snippet) and, asked to explain, its rank and score in each
 * leg. The page is cut from the fused list, so each leg goes at least as
 * deep as offset + top_k.
 */
#include "engine/fusion.h"
#include "engine/store.h"
#include "text/query.h"

#include <stdlib.h>
#include <string.h>

/* ---- what the words found --------------------------------------------------- */

static size_t mark_len(const char *p)
{
    size_t n = strlen(CAT_MARK_START);
    return strncmp(p, CAT_MARK_START, n) == 0 || strncmp(p, CAT_MARK_END, n) == 0 ? n : 0;
}

/* The snippet as plain text (markers dropped) or as HTML: escaped first,
 * then each marked word in <mark>, so no patent text becomes markup. */
static json_t *snippet_json(const char *s, int html)
{
    size_t cap = 6 * strlen(s) + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = s; *p;) {
        size_t m = mark_len(p);
        if (m) {
            const char *tag = strncmp(p, CAT_MARK_START, m) == 0 ? "<mark>" : "</mark>";
            if (html) {
                memcpy(out + n, tag, strlen(tag));
                n += strlen(tag);
            }
            p += m;
            continue;
        }
        const char *esc = !html ? NULL
                          : *p == '&' ? "&amp;"
                          : *p == '<' ? "&lt;"
                          : *p == '>' ? "&gt;"
                          : *p == '"' ? "&quot;"
                          : *p == '\'' ? "&#39;"
                                       : NULL;
        if (esc) {
            memcpy(out + n, esc, strlen(esc));
            n += strlen(esc);
        } else {
            out[n++] = *p;
        }
        p++;
    }
    out[n] = '\0';
    json_t *j = json_stringn(out, n);
    free(out);
    return j;
}

static json_t *text_json(const cat_text_hit *h)
{
    json_t *matched = json_array();
    for (size_t i = 0; i < h->n_matched; i++)
        json_array_append_new(matched, json_string(h->matched[i]));
    const char *snip = h->snippet ? h->snippet : "";
    return json_pack("{s:f,s:o,s:o*,s:o*}", "score", h->score, "matched", matched, "snippet",
                     snippet_json(snip, 0), "snippet_html", snippet_json(snip, 1));
}

/* A patent found by the words alone: its fields and its first drawing. */
static int patent_result(eng_collection *c, const char *patent_id, json_t **out, ds_err *err)
{
    if (eng__store_patent(c, patent_id, out, err) != 0)
        return -1;
    json_t *images = json_object_get(*out, "images");
    while (json_array_size(images) > 1)
        json_array_remove(images, json_array_size(images) - 1);
    json_t *first = json_array_get(images, 0);
    if (first)
        json_object_set_new(first, "score", json_null()); /* the picture did not score it */
    return 0;
}

static json_t *leg_explain(int rank, double score)
{
    return rank ? json_pack("{s:i,s:f}", "rank", rank, "score", score)
                : json_pack("{s:n,s:n}", "rank", "score");
}

/* ---- the checks and the two searches ---------------------------------------- */

static int check_words(const eng_query *q, ds_err *err)
{
    if (q->offset + q->top_k > ENG_MAX_GROUPED)
        return ds_fail(err, DS_EINVAL, "a search by words is grouped by patent: offset + top_k "
                       "must be at most %d", ENG_MAX_GROUPED);
    if (q->window < 0 || q->window > ENG_MAX_GROUPED)
        return ds_fail(err, DS_EINVAL, "window must be from 1 to %d", ENG_MAX_GROUPED);
    if (q->rrf_k < 0 || q->rrf_k > ENG_MAX_GROUPED)
        return ds_fail(err, DS_EINVAL, "rrf_k must be from 1 to %d", ENG_MAX_GROUPED);
    if (q->fusion != FUSE_RRF && q->fusion != FUSE_WEIGHTED)
        return ds_fail(err, DS_EINVAL, "fusion must be rrf or weighted");
    if (q->alpha_set && !(q->alpha >= 0 && q->alpha <= 1))
        return ds_fail(err, DS_EINVAL, "alpha must be a number from 0 to 1");
    return 0;
}

static int words_alone(eng_collection *c, const eng_query *q, const tq_query *tq,
                       json_t **results, eng_timing *t, ds_err *err)
{
    cat_text_hit *hits = NULL;
    size_t n = 0;
    double t0 = eng_now_ms();
    if (eng__store_text_search(c, tq, &q->filter, (size_t)q->offset, (size_t)q->top_k, &hits,
                               &n, &t->text_matches, err) != 0)
        return -1;
    t->text_ms = eng_now_ms() - t0;
    *results = json_array();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *r;
        if ((rc = patent_result(c, hits[i].patent_id, &r, err)) != 0)
            break;
        json_object_set_new(r, "score", json_real(hits[i].score));
        json_object_set_new(r, "text", text_json(&hits[i]));
        if (q->explain)
            json_object_set_new(r, "explain",
                                json_pack("{s:s,s:o}", "ranking", "bm25", "text",
                                          leg_explain(q->offset + (int)i + 1, hits[i].score)));
        json_array_append_new(*results, r);
    }
    cat_text_hits_free(hits, n);
    if (rc != 0) {
        json_decref(*results);
        *results = NULL;
    }
    return rc;
}

/* A picture's group's key: its patent, or its file for a drawing with
 * none; a patent of the words' leg has the same key as its group. */
static char *group_key(json_t *g)
{
    const char *pid = json_string_value(json_object_get(g, "patent_id"));
    const char *file =
        json_string_value(json_object_get(json_array_get(json_object_get(g, "images"), 0),
                                          "file_name"));
    const char *id = pid && *pid ? pid : file ? file : "";
    char *key = malloc(strlen(id) + 3);
    if (key) {
        key[0] = pid && *pid ? 'p' : 'f';
        key[1] = ':';
        strcpy(key + 2, id);
    }
    return key;
}

static char *patent_key(const char *patent_id)
{
    char *key = malloc(strlen(patent_id) + 3);
    if (key) {
        memcpy(key, "p:", 2);
        strcpy(key + 2, patent_id);
    }
    return key;
}

typedef struct legs {
    json_t *groups;            /* the picture's, grouped by patent */
    cat_text_hit *hits;        /* the words' */
    size_t n_hits;
    fuse_hit *image, *words;   /* the keys and scores fusion.h reads */
    int n_image;
} legs;

static void legs_free(legs *l)
{
    for (int i = 0; l->image && i < l->n_image; i++)
        free((char *)l->image[i].key);
    for (size_t i = 0; l->words && i < l->n_hits; i++)
        free((char *)l->words[i].key);
    free(l->image);
    free(l->words);
    cat_text_hits_free(l->hits, l->n_hits);
    json_decref(l->groups);
}

static int run_legs(eng_collection *c, const eng_query *q, const tq_query *tq,
                    const float *vecs, int n_views, int depth, legs *l, eng_timing *t,
                    ds_err *err)
{
    eng_query iq = *q;
    iq.text = NULL;
    iq.group_by_patent = 1;
    iq.offset = 0;
    iq.top_k = depth;
    int skipped = 0;
    if (eng__store_search(c, vecs, n_views, &iq, depth, &l->groups, &skipped, err) != 0)
        return -1;
    double t0 = eng_now_ms();
    if (eng__store_text_search(c, tq, &q->filter, 0, (size_t)depth, &l->hits, &l->n_hits,
                               &t->text_matches, err) != 0)
        return -1;
    t->text_ms = eng_now_ms() - t0;
    l->n_image = (int)json_array_size(l->groups);
    l->image = calloc((size_t)l->n_image + 1, sizeof *l->image);
    l->words = calloc(l->n_hits + 1, sizeof *l->words);
    if (!l->image || !l->words)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    for (int i = 0; i < l->n_image; i++) {
        json_t *g = json_array_get(l->groups, (size_t)i);
        l->image[i].score = json_number_value(json_object_get(g, "score"));
        if (!(l->image[i].key = group_key(g)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < l->n_hits; i++) {
        l->words[i].score = l->hits[i].score;
        if (!(l->words[i].key = patent_key(l->hits[i].patent_id)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    return 0;
}

static json_t *hybrid_explain(const eng_query *q, const fuse_result *r, const legs *l)
{
    json_t *x = json_pack("{s:s}", "fusion", fuse_method_name((fuse_method)q->fusion));
    if (q->fusion == FUSE_RRF)
        json_object_set_new(x, "rrf_k", json_integer(q->rrf_k ? q->rrf_k : FUSE_DEFAULT_RRF_K));
    else
        json_object_set_new(x, "alpha", json_real(q->alpha_set ? q->alpha : 0.5));
    json_object_set_new(x, "image", leg_explain(r->rank[0], r->rank[0]
                                                              ? l->image[r->index[0]].score : 0));
    json_object_set_new(x, "text", leg_explain(r->rank[1], r->rank[1]
                                                             ? l->words[r->index[1]].score : 0));
    return x;
}

static int hybrid(eng_collection *c, const eng_query *q, const tq_query *tq, const float *vecs,
                  int n_views, json_t **results, eng_timing *t, ds_err *err)
{
    int depth = q->window ? q->window : ENG_WINDOW;
    if (depth < q->offset + q->top_k)
        depth = q->offset + q->top_k;
    legs l = {0};
    fuse_result *fused = NULL;
    int n_fused = 0, rc = -1;
    double alpha = q->alpha_set ? q->alpha : 0.5;
    int weighted = q->fusion == FUSE_WEIGHTED;
    if (run_legs(c, q, tq, vecs, n_views, depth, &l, t, err) != 0)
        goto out;
    fuse_leg legs2[2] = {{l.image, l.n_image, weighted ? alpha : 1.0},
                         {l.words, (int)l.n_hits, weighted ? 1.0 - alpha : 1.0}};
    if (fuse(legs2, 2, (fuse_method)q->fusion, q->rrf_k ? q->rrf_k : FUSE_DEFAULT_RRF_K, &fused,
             &n_fused, err) != 0)
        goto out;
    *results = json_array();
    for (int i = q->offset; i < n_fused && i < q->offset + q->top_k; i++) {
        const fuse_result *r = &fused[i];
        json_t *item;
        if (r->index[0] >= 0) {
            item = json_deep_copy(json_array_get(l.groups, (size_t)r->index[0]));
        } else if (patent_result(c, l.hits[r->index[1]].patent_id, &item, err) != 0) {
            json_decref(*results);
            *results = NULL;
            goto out;
        }
        json_object_set_new(item, "score", json_real(r->score));
        json_object_set_new(item, "text", r->index[1] >= 0 ? text_json(&l.hits[r->index[1]])
                                                           : json_null());
        if (q->explain)
            json_object_set_new(item, "explain", hybrid_explain(q, r, &l));
        json_array_append_new(*results, item);
    }
    rc = 0;
out:
    free(fused);
    legs_free(&l);
    return rc;
}

int eng__search_words(eng_collection *c, const eng_query *q, const float *vecs, int n_views,
                      json_t **results, eng_timing *t, ds_err *err)
{
    tq_query *tq = NULL;
    if (check_words(q, err) != 0)
        return -1;
    if (tq_parse(q->text, strlen(q->text), &tq, NULL, err) != 0) {
        if (err->code == DS_ETOOBIG) /* a query over the limits is a bad request, not a big upload */
            err->code = DS_EINVAL;
        return -1;
    }
    int rc = vecs ? hybrid(c, q, tq, vecs, n_views, results, t, err)
                  : words_alone(c, q, tq, results, t, err);
    tq_free(tq);
    return rc;
}
