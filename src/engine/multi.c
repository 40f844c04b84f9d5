/* multi.c - one search over several collections at once (collection=a,b;
 * engine.h says what the caller sees).
 *
 *   names ─► collections ─► each upload embedded once per distinct model
 *         ─► each collection searched alone, offset + top_k deep
 *         ─► the lists merged (fusion.h): FUSE_SCORE for one model's
 *            pictures, else RRF ─► the page cut from the merged list
 *
 * A result of one collection is never the same result as one of another,
 * even for one patent: each list's entries get keys of their own (the list's
 * number and the place in it), so fusion only orders them.
 */
#include "engine/fusion.h"
#include "engine/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- which collections ------------------------------------------------------- */

static int is_space(char ch) { return ch == ' ' || ch == '\t'; }

int eng__resolve_collections(eng *e, const char *spec, eng_collection **out, int *n,
                             ds_err *err)
{
    ds_err whole = {0};
    *n = 0;
    eng_collection *c = eng_find(e, spec, &whole);
    if (c || !strchr(spec, ',')) {
        if (!c) {
            *err = whole;
            return -1;
        }
        out[(*n)++] = c;
        return 0;
    }
    int listed = 1;
    for (const char *p = spec; (p = strchr(p, ',')); p++)
        listed++;
    if (listed > ENG_MAX_SEARCHED)
        return ds_fail(err, DS_EINVAL, "collection: at most %d collections at once (%d listed)",
                       ENG_MAX_SEARCHED, listed);
    for (const char *p = spec;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a == b)
            return ds_fail(err, DS_EINVAL, "collection: an empty name in the list '%.200s'",
                           spec);
        char name[sizeof e->colls[0].name + 1];
        size_t len = (size_t)(b - a) < sizeof name - 1 ? (size_t)(b - a) : sizeof name - 1;
        memcpy(name, a, len); /* a name cut here is too long to exist: not found */
        name[len] = '\0';
        if (!(c = eng_find(e, name, err)))
            return -1;
        for (int i = 0; i < *n; i++)
            if (out[i] == c)
                return ds_fail(err, DS_EINVAL, "collection '%s' is listed twice", c->name);
        out[(*n)++] = c;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

int eng_search_collections(eng *e, const char *spec, eng_names *out, ds_err *err)
{
    eng_collection *cs[ENG_MAX_SEARCHED];
    if (eng__resolve_collections(e, spec, cs, &out->n, err) != 0)
        return -1;
    for (int i = 0; i < out->n; i++)
        out->name[i] = cs[i]->name;
    return 0;
}

/* ---- searching them ------------------------------------------------------------ */

typedef struct multi {
    float *vecs[ENG_MAX_SEARCHED];   /* each collection's query vectors */
    int owns[ENG_MAX_SEARCHED];      /* the first of its model: freed here */
    json_t *lists[ENG_MAX_SEARCHED]; /* each collection's results */
    fuse_hit *hits[ENG_MAX_SEARCHED];
    int n_hits[ENG_MAX_SEARCHED];
} multi;

static void multi_free(multi *m, int n)
{
    for (int i = 0; i < n; i++) {
        if (m->owns[i])
            free(m->vecs[i]);
        for (int j = 0; m->hits[i] && j < m->n_hits[i]; j++)
            free((char *)m->hits[i][j].key);
        free(m->hits[i]);
        json_decref(m->lists[i]);
    }
}

/* The views' vectors for every collection: one forward pass per view and
 * distinct model, shared by the collections of that model. */
static int vectors(eng *e, eng_collection *const *cs, int n, const eng_view *views,
                   int n_views, multi *m, eng_timing *t, ds_err *err)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i && !m->vecs[i]; j++)
            if (cs[j]->model == cs[i]->model)
                m->vecs[i] = m->vecs[j];
        if (m->vecs[i])
            continue;
        eng_model *model = cs[i]->model;
        if (!(m->vecs[i] = malloc(sizeof(float) * (size_t)model->dim * (size_t)n_views)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
        m->owns[i] = 1;
        for (int v = 0; v < n_views; v++)
            if (eng__view_vector(e, cs[0], model, &views[v],
                                 m->vecs[i] + (size_t)v * (size_t)model->dim, t, err) != 0)
                return n_views > 1 ? ds_wrap(err, "view %d: ", v + 1) : -1;
    }
    return 0;
}

/* Collection i searched alone, from its best result to offset + top_k. */
static int one_list(eng_collection *c, const eng_query *q, int i, int n_views, multi *m,
                    eng_timing *t, ds_err *err)
{
    eng_query iq = *q;
    int k = q->offset + q->top_k, rc;
    iq.collection = c->name;
    iq.offset = 0;
    iq.top_k = k;
    if (q->text && *q->text) {
        eng_timing ti = {.text_matches = -1};
        rc = eng__search_words(c, &iq, m->vecs[i], n_views, &m->lists[i], &ti, err);
        t->text_ms += ti.text_ms;
        if (ti.text_matches >= 0)
            t->text_matches = (t->text_matches > 0 ? t->text_matches : 0) + ti.text_matches;
    } else {
        int skipped = 0;
        rc = eng__store_search(c, m->vecs[i], n_views, &iq, k, &m->lists[i], &skipped, err);
    }
    if (rc != 0)
        return ds_wrap(err, "collection %s: ", c->name);
    int n = (int)json_array_size(m->lists[i]);
    if (!(m->hits[i] = calloc((size_t)n + 1, sizeof *m->hits[i])))
        return ds_fail(err, DS_ENOMEM, "out of memory");
    for (int r = 0; r < n; r++, m->n_hits[i]++) {
        char key[32];
        snprintf(key, sizeof key, "%d/%d", i, r);
        if (!(m->hits[i][r].key = strdup(key)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
        m->hits[i][r].score =
            json_number_value(json_object_get(json_array_get(m->lists[i], (size_t)r), "score"));
    }
    return 0;
}

int eng__search_multi(eng *e, eng_collection *const *cs, int n, const eng_query *q,
                      const eng_view *views, int n_views, json_t **results, eng_timing *t,
                      ds_err *err)
{
    multi m = {0};
    fuse_leg legs[ENG_MAX_SEARCHED];
    fuse_result *fused = NULL;
    int n_fused = 0, rc = -1, same_model = 1;
    for (int i = 1; i < n; i++)
        same_model &= cs[i]->model == cs[0]->model;
    /* Cosines of one model are one measure; anything else compares by rank. */
    fuse_method method = same_model && !(q->text && *q->text) ? FUSE_SCORE : FUSE_RRF;
    if (views && vectors(e, cs, n, views, n_views, &m, t, err) != 0)
        goto out;
    double t1 = eng_now_ms();
    for (int i = 0; i < n; i++) {
        if (one_list(cs[i], q, i, views ? n_views : 0, &m, t, err) != 0)
            goto out;
        legs[i] = (fuse_leg){m.hits[i], m.n_hits[i], 1.0};
    }
    if (fuse(legs, n, method, FUSE_DEFAULT_RRF_K, &fused, &n_fused, err) != 0)
        goto out;
    *results = json_array();
    for (int r = q->offset; r < n_fused && r < q->offset + q->top_k; r++) {
        int leg = fused[r].best_leg;
        json_t *item = json_array_get(m.lists[leg], (size_t)fused[r].index[leg]);
        json_object_set_new(item, "collection", json_string(cs[leg]->name));
        if (method == FUSE_RRF) {
            json_object_set(item, "collection_score", json_object_get(item, "score"));
            json_object_set_new(item, "collection_rank", json_integer(fused[r].rank[leg]));
            json_object_set_new(item, "score", json_real(fused[r].score));
        }
        json_array_append(*results, item);
    }
    t->merged_by = method == FUSE_RRF ? "rrf" : "score";
    t->search_ms = eng_now_ms() - t1;
    rc = 0;
out:
    free(fused);
    multi_free(&m, n);
    return rc;
}
