/* store_milvus.c - the Milvus store (store.h): the engine's collections on
 * Milvus (ENG_INDEX_MILVUS).
 *
 * Milvus holds what the catalog and the index hold in embedded mode: one
 * row per image with its vector and its patent's fields, in the seed
 * system's design_patents_full schema (field for field), so a collection
 * the seed's Python built is searched as it is, and one dinoseek built is
 * read by the seed's code. A collection is:
 *
 *   - found and used as it is: its fields are read at attach; only those
 *     it has are written or asked for (the seed's patent_images has no
 *     patent fields, a pymilvus-built one no dynamic fields);
 *   - or created: on REST v2 with the seed's schema plus dynamic fields, on
 *     v1 (Milvus 2.3, which can only make an auto-id primary and a vector)
 *     with the same fields stored as dynamic ones, under the same names.
 *
 * dinoseek adds "sha256" (the original's content hash, for "already
 * there?" by content) and "kind" where the collection takes dynamic fields.
 *
 * Visibility: Milvus answers a write before its searches see it (bounded
 * consistency, about a second). So that nobody stores an image twice in
 * that window, the engine remembers what it stored lately (recent[]); a
 * single add (an upload) is answered only once searches find it; an import
 * waits once, at its end (milvus_sync).
 *
 * Retries: Milvus calls are retried by the client (src/milvus) when they
 * may pass, but an insert is never repeated blindly, since a lost answer
 * may hide a done insert, even one that lands seconds after its client
 * gave up: after an insert that was sent and never answered, the batch
 * asks which of its names arrived until the insert can no longer land
 * (settle), and inserts only the rows proven absent (exactly once).
 */
#include "engine/store_milvus.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milvus/expr.h"


/* The seed's design_patents_full fields (SEED-API.md) and page_num from
 * its patent_images, with their types and sizes. */
static const seed_field seed_fields[] = {
    {"patent_id", MV_VARCHAR, 64},        {"image_index", MV_INT16, 0},
    {"file_name", MV_VARCHAR, 256},       {"file_path", MV_VARCHAR, 512},
    {"title", MV_VARCHAR, 500},           {"loc_class", MV_VARCHAR, 20},
    {"loc_edition", MV_VARCHAR, 10},      {"pub_date", MV_INT64, 0},
    {"filing_date", MV_INT64, 0},         {"grant_term", MV_INT16, 0},
    {"applicant_name", MV_VARCHAR, 256},  {"applicant_country", MV_VARCHAR, 10},
    {"inventor_names", MV_VARCHAR, 500},  {"assignee_name", MV_VARCHAR, 256},
    {"claim_text", MV_VARCHAR, 500},      {"image_count", MV_INT16, 0},
    {"created_at", MV_INT64, 0},
};
/* Kept where the collection takes dynamic fields. */
static const seed_field extra_fields[] = {
    {"page_num", MV_VARCHAR, 16}, {"sha256", MV_VARCHAR, 64}, {"kind", MV_VARCHAR, 16}};

#define SEED_N (sizeof seed_fields / sizeof *seed_fields)
#define EXTRA_N (sizeof extra_fields / sizeof *extra_fields)

/* ---- the collection --------------------------------------------------------- */

const seed_field *milvus_known_field(const char *name)
{
    for (size_t i = 0; i < SEED_N; i++)
        if (!strcmp(seed_fields[i].name, name))
            return &seed_fields[i];
    for (size_t i = 0; i < EXTRA_N; i++)
        if (!strcmp(extra_fields[i].name, name))
            return &extra_fields[i];
    return NULL;
}

/* Whether rows of this collection can hold a field (by schema, or as a
 * dynamic one). */
int milvus_holds(const milvus_store *m, const char *name)
{
    return mv_schema_field(&m->schema, name) != NULL || (m->schema.dynamic && milvus_known_field(name));
}

static void pick_fields(milvus_store *m)
{
    int n = 0;
    m->out_fields[n++] = m->schema.primary;
    for (size_t i = 0; i < SEED_N; i++)
        if (milvus_holds(m, seed_fields[i].name))
            m->out_fields[n++] = seed_fields[i].name;
    for (size_t i = 0; i < EXTRA_N; i++)
        if (milvus_holds(m, extra_fields[i].name))
            m->out_fields[n++] = extra_fields[i].name;
    m->out_fields[n] = NULL;
    m->has_sha256 = milvus_holds(m, "sha256");
}

/* The schema dinoseek creates: the seed's, plus dynamic fields. */
static void seed_schema(mv_schema *s, int dim)
{
    memset(s, 0, sizeof *s);
    mv_field *f = &s->fields[s->n_fields++];
    snprintf(f->name, sizeof f->name, "id");
    f->type = MV_INT64;
    f->primary = f->auto_id = 1;
    for (size_t i = 0; i < SEED_N; i++) {
        f = &s->fields[s->n_fields++];
        snprintf(f->name, sizeof f->name, "%s", seed_fields[i].name);
        f->type = seed_fields[i].type;
        f->max_length = seed_fields[i].max_length;
        if (i == 3) { /* the vector after file_path, where the seed has it */
            f = &s->fields[s->n_fields++];
            snprintf(f->name, sizeof f->name, "embedding");
            f->type = MV_FLOAT_VECTOR;
            f->dim = dim;
        }
    }
    s->dynamic = 1;
    s->dim = dim;
    s->nlist = 128;
    snprintf(s->primary, sizeof s->primary, "id");
    snprintf(s->vector, sizeof s->vector, "embedding");
    snprintf(s->metric, sizeof s->metric, "COSINE");
}

static const eng_store_methods milvus_methods;

static int milvus_attach(eng_backend *b, eng *e, eng_collection *c, eng_store **out,
                         ds_err *err)
{
    const milvus_backend *mb = (const milvus_backend *)b;
    milvus_store *m = calloc(1, sizeof *m);
    if (!m || !(m->recent = calloc(RECENT, sizeof *m->recent))) {
        free(m);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    m->base = (eng_store){.m = &milvus_methods, .e = e, .c = c};
    m->client = mb->client;
    if (snprintf(m->name, sizeof m->name, "%s%s", mb->prefix, c->name) >= (int)sizeof m->name) {
        free(m->recent);
        free(m);
        return ds_fail(err, DS_EINVAL, "collection %s: the Milvus name is too long", c->name);
    }
    ds_err why = {0};
    if (mv_describe(m->client, m->name, &m->schema, &why) != 0) {
        if (why.code != DS_ENOTFOUND) {
            *err = why;
            goto fail;
        }
        mv_schema want;
        seed_schema(&want, c->model->dim);
        if (mv_create(m->client, m->name, &want, err) != 0 ||
            mv_describe(m->client, m->name, &m->schema, err) != 0)
            goto fail;
        fprintf(stderr, "dinoseek: created the Milvus collection %s (%d-d, COSINE)\n", m->name,
                c->model->dim);
    }
    const mv_field *pk = mv_schema_field(&m->schema, m->schema.primary);
    if (m->schema.dim != c->model->dim) {
        ds_fail(err, DS_EINVAL, "Milvus collection %s holds %d-d vectors; the model makes %d-d",
                c->name, m->schema.dim, c->model->dim);
        goto fail;
    }
    if (!pk || pk->type != MV_INT64 || !pk->auto_id) {
        ds_fail(err, DS_EUNSUPPORTED, "Milvus collection %s: dinoseek needs an auto-id INT64 "
                "primary key (the seed's 'id')", c->name);
        goto fail;
    }
    /* Scores are cosine similarities (larger is closer): COSINE, or IP on
     * dinoseek's unit vectors. An L2 index answers distances (0 for the
     * same image, smaller is closer), which would be served as scores.
     * "": no metric reported (not indexed yet); Milvus refuses to search
     * such a collection itself. */
    if (*m->schema.metric && strcmp(m->schema.metric, "COSINE") != 0 &&
        strcmp(m->schema.metric, "IP") != 0) {
        ds_fail(err, DS_EUNSUPPORTED, "Milvus collection %s is indexed with metric %s: dinoseek "
                "needs COSINE (or IP) similarities; index it again with COSINE", c->name,
                m->schema.metric);
        goto fail;
    }
    if (!milvus_holds(m, "file_name")) {
        ds_fail(err, DS_EUNSUPPORTED, "Milvus collection %s has no file_name field", c->name);
        goto fail;
    }
    pick_fields(m);
    *out = &m->base;
    return 0;
fail:
    free(m->recent);
    free(m);
    return ds_wrap(err, "collection %s: ", c->name);
}

static void milvus_detach(eng_store *s)
{
    milvus_store *m = (milvus_store *)s;
    free(m->recent);
    free(m);
}

/* ---- reading rows ------------------------------------------------------------- */

/* An integer field as Milvus sent it (v1 writes INT64 as a string). */
int milvus_row_int(json_t *row, const char *key, json_int_t *out)
{
    json_t *v = json_object_get(row, key);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        *out = (json_int_t)json_real_value(v);
        return 1;
    }
    const char *s = json_string_value(v);
    char *end;
    if (!s || !*s)
        return 0;
    long long x = strtoll(s, &end, 10);
    if (*end)
        return 0;
    *out = x;
    return 1;
}

/* A string field; NULL when absent or empty (Milvus 2.3 has no NULL). */
const char *milvus_row_str(json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));
    return s && *s ? s : NULL;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* A YYYYMMDD integer field as the integer and as "yyyy-mm-dd". */
static void date_fields(json_t *o, json_t *row, const char *key)
{
    json_int_t d = 0;
    char iso_key[64], iso[16];
    snprintf(iso_key, sizeof iso_key, "%s_iso", key);
    if (milvus_row_int(row, key, &d) && d >= 10000101 && d <= 99991231) {
        snprintf(iso, sizeof iso, "%04d-%02d-%02d", (int)(d / 10000), (int)(d / 100 % 100),
                 (int)(d % 100));
        json_object_set_new(o, key, json_integer(d));
        json_object_set_new(o, iso_key, json_string(iso));
    } else {
        json_object_set_new(o, key, json_null());
        json_object_set_new(o, iso_key, json_null());
    }
}

static json_t *positive_or_null(json_t *row, const char *key)
{
    json_int_t v = 0;
    return milvus_row_int(row, key, &v) && v > 0 ? json_integer(v) : json_null();
}

/* A Milvus row as a result, with the keys (and their order) of embedded
 * mode's results (store_embedded_search.c). */
static json_t *row_json(json_t *row, int with_score, double score)
{
    const char *file = milvus_row_str(row, "file_name"), *pid = milvus_row_str(row, "patent_id");
    char page[16];
    json_int_t id = 0, index = 0;
    milvus_row_int(row, "id", &id);
    milvus_row_int(row, "image_index", &index);
    if (milvus_row_str(row, "page_num"))
        snprintf(page, sizeof page, "%s", milvus_row_str(row, "page_num"));
    else
        eng__page_num(file, page);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    if (with_score)
        json_object_set_new(o, "score", json_real(score));
    json_object_set_new(o, "file_name", json_string(file ? file : ""));
    /* "" for no patent, as the row holds it and the embedded catalog answers. */
    json_object_set_new(o, "patent_id", json_string(pid ? pid : ""));
    json_object_set_new(o, "page_num", json_string(page));
    json_object_set_new(o, "file_path", str_or_null(milvus_row_str(row, "file_path")));
    json_object_set_new(o, "image_index", json_integer(index));
    json_object_set_new(o, "image_url", eng__image_url(file ? file : "", 0));
    json_object_set_new(o, "thumbnail_url", eng__image_url(file ? file : "", 1));
    /* Every patent key, null where the row has none (a plain image too). */
    json_object_set_new(o, "title", str_or_null(milvus_row_str(row, "title")));
    json_object_set_new(o, "kind", str_or_null(milvus_row_str(row, "kind")));
    json_object_set_new(o, "loc_class", str_or_null(milvus_row_str(row, "loc_class")));
    json_object_set_new(o, "loc_edition", str_or_null(milvus_row_str(row, "loc_edition")));
    date_fields(o, row, "pub_date");
    date_fields(o, row, "filing_date");
    json_object_set_new(o, "grant_term", positive_or_null(row, "grant_term"));
    static const char *const names[] = {"applicant_name", "applicant_country", "inventor_names",
                                        "assignee_name", "claim_text"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        json_object_set_new(o, names[i], str_or_null(milvus_row_str(row, names[i])));
    json_object_set_new(o, "image_count", positive_or_null(row, "image_count"));
    return o;
}

/* The vector of a row (asked for with the vector field) into v. */
static int row_vector(const eng_collection *c, json_t *row, float *v, ds_err *err)
{
    json_t *a = json_object_get(row, MV(c)->schema.vector);
    int dim = c->model->dim;
    if (json_array_size(a) != (size_t)dim)
        return ds_fail(err, DS_EFORMAT, "Milvus: a row of %s without its %d-d vector", c->name,
                       dim);
    for (int i = 0; i < dim; i++)
        v[i] = (float)json_number_value(json_array_get(a, (size_t)i));
    return 0;
}

/* out_fields, with the vector too. */
static void fields_with_vector(const eng_collection *c, const char **out)
{
    int n = 0;
    while (MV(c)->out_fields[n]) {
        out[n] = MV(c)->out_fields[n];
        n++;
    }
    out[n++] = MV(c)->schema.vector;
    out[n] = NULL;
}

/* "name in [\"a\",\"b\"]": every value quoted by mv_quote, never pasted. */
char *milvus_in_list(const char *name, const char *const *values, size_t n,
                     ds_err *err)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        return NULL;
    }
    fprintf(f, "%s in [", name);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        mv_buf b = {0};
        rc = mv_quote(&b, values[i], err);
        if (rc == 0 && b.nomem)
            rc = ds_fail(err, DS_ENOMEM, "out of memory");
        if (rc == 0)
            fprintf(f, "%s%s", i ? "," : "", b.data);
        free(b.data);
    }
    fputc(']', f);
    if (fclose(f) != 0 && rc == 0)
        rc = ds_fail(err, DS_ENOMEM, "out of memory");
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* ---- searching ---------------------------------------------------------------- */

/* Hits of one vector: best first, passing the filter (the part Milvus runs,
 * then the residual here), at least min_score; over-fetching while the
 * residual drops rows, until k pass or none are left. With with_vec the
 * rows keep their vectors. */
static int search_rows(eng_collection *c, const float *v, const eng_query *q, int k,
                       int with_vec, json_t **out, int *exhausted, ds_err *err)
{
    char *expr = NULL;
    int residual = 0;
    *out = NULL;
    if (mv_expr_compile(&q->filter, MV(c)->schema.primary, NULL, 0, &expr, &residual, err) != 0)
        return -1;
    const char *fields[44];
    if (with_vec)
        fields_with_vector(c, fields);
    int want = residual ? k * 4 : k, rc = -1;
    for (;;) {
        if (want > WINDOW)
            want = WINDOW;
        /* The vector field and metric as attach read them: no describe
         * per search. */
        mv_search_req r = {.vector = v, .dim = c->model->dim, .limit = want, .filter = expr,
                           .fields = with_vec ? fields : MV(c)->out_fields, .nprobe = 16,
                           .anns_field = MV(c)->schema.vector,
                           .metric = *MV(c)->schema.metric ? MV(c)->schema.metric : NULL};
        json_t *hits = NULL;
        if (mv_search(MV(c)->client, MV(c)->name, &r, &hits, err) != 0) {
            ds_wrap(err, "search of %s: ", c->name);
            break;
        }
        size_t got = json_array_size(hits);
        for (size_t i = got; i-- > 0;) {
            json_t *h = json_array_get(hits, i);
            if (json_real_value(json_object_get(h, "score")) < q->min_score ||
                (residual && !mv_residual_allows(&q->filter, h)))
                json_array_remove(hits, i);
        }
        *exhausted = got < (size_t)want;
        /* Enough, or nothing more to get (fewer rows than asked, the
         * window's end, or the scores fell under min_score). */
        if ((int)json_array_size(hits) >= k || *exhausted || want == WINDOW || !residual) {
            while ((int)json_array_size(hits) > k)
                json_array_remove(hits, json_array_size(hits) - 1);
            *out = hits;
            rc = 0;
            break;
        }
        json_decref(hits);
        want *= 4;
    }
    free(expr);
    return rc;
}

static json_t *results_of(json_t *hits)
{
    json_t *flat = json_array();
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
        json_array_append_new(flat, row_json(h, 1, json_real_value(json_object_get(h, "score"))));
    return flat;
}

/* Grouped by patent: more images until k patents are found or none are
 * left (v1 has no grouping search; over-fetching is exact too). */
static int search_grouped(eng_collection *c, const float *v, const eng_query *q, int k,
                          json_t **out, ds_err *err)
{
    for (int want = k * 8;; want *= 4) {
        if (want > WINDOW)
            want = WINDOW;
        json_t *hits = NULL;
        int exhausted = 0;
        if (search_rows(c, v, q, want, 0, &hits, &exhausted, err) != 0)
            return -1;
        int n = (int)json_array_size(hits);
        json_t *flat = results_of(hits);
        json_decref(hits);
        json_t *groups = eng__group(flat, k);
        json_decref(flat);
        if ((int)json_array_size(groups) >= k || exhausted || n < want || want == WINDOW) {
            *out = groups;
            return 0;
        }
        json_decref(groups);
    }
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* A row scored against several views: each view's cosine, and the best. */
typedef struct scored {
    json_t *row;
    float score;
    float each[ENG_MAX_VIEWS];
} scored;

static int by_score(const void *a, const void *b)
{
    float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The rows of hits (each view's top, with vectors), deduplicated by id and
 * scored against every view. */
static int score_rows(const eng_collection *c, json_t *rows, const float *vecs, int n_views,
                      scored **out, size_t *n_out, ds_err *err)
{
    int dim = c->model->dim;
    size_t n = json_array_size(rows), m = 0;
    scored *s = calloc(n ? n : 1, sizeof *s);
    float *v = malloc(sizeof(float) * (size_t)dim);
    if (!s || !v) {
        free(s);
        free(v);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    json_t *seen = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(rows, i);
        char id[32];
        json_int_t x = 0;
        milvus_row_int(row, "id", &x);
        snprintf(id, sizeof id, "%lld", (long long)x);
        if (json_object_get(seen, id))
            continue;
        json_object_set_new(seen, id, json_true());
        if (row_vector(c, row, v, err) != 0) {
            json_decref(seen);
            free(s);
            free(v);
            return -1;
        }
        s[m].row = row;
        s[m].score = -2;
        for (int j = 0; j < n_views; j++) {
            s[m].each[j] = dot(vecs + (size_t)j * dim, v, dim);
            if (s[m].each[j] > s[m].score)
                s[m].score = s[m].each[j];
        }
        m++;
    }
    json_decref(seen);
    free(v);
    qsort(s, m, sizeof *s, by_score);
    *out = s;
    *n_out = m;
    return 0;
}

/* Each view's top k rows (filtered, with vectors), in one array. */
static int view_candidates(eng_collection *c, const float *vecs, int n_views,
                           const eng_query *q, int k, json_t **out, ds_err *err)
{
    eng_query loose = *q;
    loose.min_score = -2; /* min_score applies to the fused score */
    *out = json_array();
    for (int j = 0; j < n_views; j++) {
        json_t *hits = NULL;
        int exhausted;
        if (search_rows(c, vecs + (size_t)j * c->model->dim, &loose, k, 1, &hits, &exhausted,
                        err) != 0) {
            json_decref(*out);
            *out = NULL;
            return -1;
        }
        json_array_extend(*out, hits);
        json_decref(hits);
    }
    return 0;
}

/* How many groups (patents, plain images) the candidate rows make. */
static size_t count_groups(json_t *rows)
{
    json_t *seen = json_object(), *row;
    size_t i, n = 0;
    json_array_foreach(rows, i, row) {
        const char *pid = milvus_row_str(row, "patent_id");
        if (!pid || !json_object_get(seen, pid))
            n++;
        if (pid)
            json_object_set_new(seen, pid, json_true());
    }
    json_decref(seen);
    return n;
}

/* Each view's top 8·k rows, widened 4x (up to 32·k, as the embedded
 * index) while they make fewer than k groups and more rows are left: one
 * patent's many alike drawings must not hide the other patents. */
static int group_candidates(eng_collection *c, const float *vecs, int n_views,
                            const eng_query *q, int k, json_t **out, ds_err *err)
{
    int most = 32 * k < WINDOW ? 32 * k : WINDOW;
    for (int want = 8 * k < most ? 8 * k : most;; want = want * 4 < most ? want * 4 : most) {
        if (view_candidates(c, vecs, n_views, q, want, out, err) != 0)
            return -1;
        if (want == most || count_groups(*out) >= (size_t)k ||
            json_array_size(*out) < (size_t)want * (size_t)n_views)
            return 0;
        json_decref(*out);
        *out = NULL;
    }
}

static int fused_images(eng_collection *c, const float *vecs, int n_views,
                        const eng_query *q, int k, json_t **out, ds_err *err)
{
    json_t *rows = NULL;
    scored *s = NULL;
    size_t n = 0;
    if (view_candidates(c, vecs, n_views, q, k, &rows, err) != 0)
        return -1;
    if (score_rows(c, rows, vecs, n_views, &s, &n, err) != 0) {
        json_decref(rows);
        return -1;
    }
    *out = json_array();
    for (size_t i = 0; i < n && (int)json_array_size(*out) < k; i++)
        if (s[i].score >= q->min_score)
            json_array_append_new(*out, row_json(s[i].row, 1, s[i].score));
    free(s);
    json_decref(rows);
    return 0;
}

/* Patent groups: the patents of each view's top images, every one scored
 * over all its drawings (the mean over views of each view's best drawing),
 * as embedded mode does. Images without a patent are groups of their own. */
static int fused_groups(eng_collection *c, const float *vecs, int n_views,
                        const eng_query *q, int k, json_t **out, ds_err *err)
{
    json_t *cand = NULL, *rows = NULL;
    int rc = -1;
    if (group_candidates(c, vecs, n_views, q, k, &cand, err) != 0)
        return -1;
    /* The candidates' patents, then all their drawings. */
    const char **pids = malloc(sizeof *pids * (json_array_size(cand) + 1));
    size_t n_pids = 0;
    json_t *plain = json_array(), *seen = json_object();
    if (!pids) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    size_t i;
    json_t *row;
    json_array_foreach(cand, i, row) {
        const char *pid = milvus_row_str(row, "patent_id");
        if (!pid)
            json_array_append(plain, row);
        else if (!json_object_get(seen, pid)) {
            json_object_set_new(seen, pid, json_true());
            pids[n_pids++] = pid;
        }
    }
    rows = json_array();
    const char *fields[44];
    fields_with_vector(c, fields);
    for (size_t at = 0; at < n_pids; at += 64) {
        size_t m = n_pids - at < 64 ? n_pids - at : 64;
        char *expr = milvus_in_list("patent_id", pids + at, m, err);
        json_t *got = NULL;
        if (!expr || mv_query(MV(c)->client, MV(c)->name, expr, fields, WINDOW, 0, &got, err) != 0) {
            free(expr);
            goto out;
        }
        free(expr);
        json_array_extend(rows, got);
        json_decref(got);
    }
    json_array_extend(rows, plain);
    scored *s = NULL;
    size_t n = 0;
    if (score_rows(c, rows, vecs, n_views, &s, &n, err) != 0)
        goto out;
    /* Group the scored rows (best image first within each group). */
    typedef struct grp {
        const char *key;
        float best[ENG_MAX_VIEWS], score;
        json_t *images;
        json_t *first;
    } grp;
    grp *g = calloc(n ? n : 1, sizeof *g);
    size_t n_g = 0;
    json_t *index = json_object();
    for (size_t r = 0; g && r < n; r++) {
        const char *pid = milvus_row_str(s[r].row, "patent_id");
        char key[600];
        snprintf(key, sizeof key, "%s%s", pid ? "patent:" : "file:",
                 pid ? pid : milvus_row_str(s[r].row, "file_name") ? milvus_row_str(s[r].row, "file_name") : "");
        json_t *at = json_object_get(index, key);
        grp *x;
        if (at) {
            x = &g[json_integer_value(at)];
        } else {
            json_object_set_new(index, key, json_integer((json_int_t)n_g));
            x = &g[n_g++];
            x->images = json_array();
            x->first = s[r].row;
            for (int j = 0; j < n_views; j++)
                x->best[j] = -2;
        }
        for (int j = 0; j < n_views; j++)
            if (s[r].each[j] > x->best[j])
                x->best[j] = s[r].each[j];
        if (s[r].score >= q->min_score) {
            json_t *img = row_json(s[r].row, 1, s[r].score);
            static const char *const drop[] = {"title", "kind", "loc_class", "loc_edition",
                "pub_date", "pub_date_iso", "filing_date", "filing_date_iso", "grant_term",
                "applicant_name", "applicant_country", "inventor_names", "assignee_name",
                "claim_text", "image_count", "patent_id"};
            for (size_t d = 0; d < sizeof drop / sizeof *drop; d++)
                json_object_del(img, drop[d]);
            json_array_append_new(x->images, img);
        }
    }
    json_decref(index);
    if (!g) {
        free(s);
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t x = 0; x < n_g; x++) {
        float sum = 0;
        for (int j = 0; j < n_views; j++)
            sum += g[x].best[j];
        g[x].score = sum / (float)n_views;
    }
    /* By score, best first (a selection: k is small). */
    *out = json_array();
    for (int taken = 0; taken < k; taken++) {
        size_t best = n_g;
        for (size_t x = 0; x < n_g; x++)
            if (g[x].images && (best == n_g || g[x].score > g[best].score))
                best = x;
        if (best == n_g || g[best].score < q->min_score)
            break;
        json_t *o = row_json(g[best].first, 1, g[best].score);
        static const char *const image_keys[] = {"id", "file_name", "page_num", "file_path",
                                                 "image_index", "image_url", "thumbnail_url"};
        for (size_t d = 0; d < sizeof image_keys / sizeof *image_keys; d++)
            json_object_del(o, image_keys[d]);
        json_object_set_new(o, "images", g[best].images);
        g[best].images = NULL;
        json_array_append_new(*out, o);
    }
    for (size_t x = 0; x < n_g; x++)
        json_decref(g[x].images);
    free(g);
    free(s);
    rc = 0;
out:
    free(pids);
    json_decref(plain);
    json_decref(seen);
    json_decref(rows);
    json_decref(cand);
    return rc;
}

/* DS_EINVAL naming the first field a filter needs and the collection
 * lacks (the seed's patent_images has no patent fields): Milvus would
 * refuse the expression ("field loc_class not exist"), and a filter
 * checked on the rows would quietly match nothing. */
static int filter_fields_held(const eng_collection *c, const cat_filter *f, ds_err *err)
{
    const struct {
        int set;
        const char *field;
    } need[] = {
        {f->loc_class && *f->loc_class, "loc_class"},
        {(f->pub_date_from && *f->pub_date_from) || (f->pub_date_to && *f->pub_date_to),
         "pub_date"},
        {(f->filing_date_from && *f->filing_date_from) ||
             (f->filing_date_to && *f->filing_date_to), "filing_date"},
        {f->applicant_country && *f->applicant_country, "applicant_country"},
        {f->n_patent_ids > 0, "patent_id"},
        {f->applicant && *f->applicant, "applicant_name"},
        {f->assignee && *f->assignee, "assignee_name"},
        {f->inventor && *f->inventor, "inventor_names"},
    };
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (need[i].set && !milvus_holds(MV(c), need[i].field))
            return ds_fail(err, DS_EINVAL, "collection %s has no field %s: it cannot be "
                           "filtered by it", c->name, need[i].field);
    return 0;
}

/* The whole ranking [0, k): nothing is skipped before its JSON is made. */
static int milvus_search(eng_store *s, const float *vecs, int n_views, const eng_query *q,
                         int k, json_t **out, int *skipped, ds_err *err)
{
    eng_collection *c = s->c;
    *skipped = 0;
    if (k > WINDOW)
        return ds_fail(err, DS_EINVAL, "Milvus returns at most %d hits", WINDOW);
    if (filter_fields_held(c, &q->filter, err) != 0)
        return -1;
    if (n_views > 1)
        return q->group_by_patent ? fused_groups(c, vecs, n_views, q, k, out, err)
                                  : fused_images(c, vecs, n_views, q, k, out, err);
    if (q->group_by_patent)
        return search_grouped(c, vecs, q, k, out, err);
    json_t *hits = NULL;
    int exhausted;
    if (search_rows(c, vecs, q, k, 0, &hits, &exhausted, err) != 0)
        return -1;
    *out = results_of(hits);
    json_decref(hits);
    return 0;
}

/* With vec NULL: nothing checked (a query per view is not cheap here; an
 * image that is not stored is not found in the blob store either). */
static int milvus_stored_vector(eng_store *s, const char *file_name, float *vec, ds_err *err)
{
    eng_collection *c = s->c;
    if (!vec)
        return 0;
    char *q = milvus_in_list("file_name", &file_name, 1, err);
    const char *fields[44];
    fields_with_vector(c, fields);
    json_t *rows = NULL;
    if (!q || mv_query(MV(c)->client, MV(c)->name, q, fields, 1, 0, &rows, err) != 0) {
        free(q);
        return -1;
    }
    free(q);
    int rc = json_array_size(rows) == 0
                 ? ds_fail(err, DS_ENOTFOUND, "no image called '%s' in %s", file_name, c->name)
                 : row_vector(c, json_array_get(rows, 0), vec, err);
    json_decref(rows);
    return rc;
}

/* ---- describing ---------------------------------------------------------------- */

/* What Milvus cannot count (distinct patents, rows per Locarno class) is
 * counted by reading the rows' patent_id and loc_class, in pages by
 * primary key (Milvus answers a query in key order), up to SCAN_MAX rows;
 * beyond that the figures are null, never a guess. */
#define SCAN_MAX 262144

typedef struct scan {
    json_t *patents;   /* patent_id -> true */
    json_t *loc;       /* loc_class ("" for none) -> images */
    int complete;
} scan;

static int scan_rows(eng_collection *c, scan *sc, ds_err *err)
{
    const char *pk = MV(c)->schema.primary;
    const char *fields[4] = {pk, NULL, NULL, NULL};
    int nf = 1;
    if (milvus_holds(MV(c), "patent_id"))
        fields[nf++] = "patent_id";
    if (milvus_holds(MV(c), "loc_class"))
        fields[nf++] = "loc_class";
    sc->patents = json_object();
    sc->loc = json_object();
    sc->complete = 0;
    json_int_t last = 0;
    for (int64_t seen = 0; seen <= SCAN_MAX;) {
        char q[MV_NAME_MAX + 32];
        snprintf(q, sizeof q, "%s > %lld", pk, (long long)last);
        json_t *rows = NULL;
        if (mv_query(MV(c)->client, MV(c)->name, q, fields, WINDOW, 0, &rows, err) != 0) {
            json_decref(sc->patents);
            json_decref(sc->loc);
            sc->patents = sc->loc = NULL;
            return -1;
        }
        size_t i, n = json_array_size(rows);
        json_t *row;
        json_array_foreach(rows, i, row) {
            json_int_t id;
            if (milvus_row_int(row, "id", &id) && id > last)
                last = id;
            const char *pid = milvus_row_str(row, "patent_id"), *loc = milvus_row_str(row, "loc_class");
            if (pid)
                json_object_set_new(sc->patents, pid, json_true());
            json_t *k = json_object_get(sc->loc, loc ? loc : "");
            json_object_set_new(sc->loc, loc ? loc : "",
                                json_integer(json_integer_value(k) + 1));
        }
        json_decref(rows);
        seen += (int64_t)n;
        if (n < WINDOW) {
            sc->complete = 1;
            break;
        }
    }
    return 0;
}

static void scan_clear(scan *sc)
{
    json_decref(sc->patents);
    json_decref(sc->loc);
}

static int milvus_loc_counts(eng_store *s, cat_loc_fn fn, void *ctx, ds_err *err)
{
    eng_collection *c = s->c;
    scan sc;
    if (scan_rows(c, &sc, err) != 0)
        return -1;
    int rc = 0;
    if (sc.complete) {
        /* In class order: the keys sorted. */
        size_t n = json_object_size(sc.loc), m = 0;
        const char **keys = malloc(sizeof *keys * (n + 1));
        const char *k;
        json_t *v;
        if (!keys) {
            scan_clear(&sc);
            return ds_fail(err, DS_ENOMEM, "out of memory");
        }
        json_object_foreach(sc.loc, k, v)
            keys[m++] = k;
        qsort(keys, m, sizeof *keys, by_string);
        /* Images without a class ("") are in none, as the catalog counts. */
        for (size_t i = 0; i < m && rc == 0; i++)
            if (*keys[i] &&
                fn(ctx, keys[i], (int64_t)json_integer_value(json_object_get(sc.loc, keys[i]))) != 0)
                rc = ds_fail(err, DS_EINVAL, "stopped by the callback");
        free(keys);
    } else {
        /* Too many rows to read: one count per class (no subclasses). */
        for (int cls = 1; cls <= 99 && rc == 0; cls++) {
            char q[64], code[4];
            int64_t n = 0;
            snprintf(code, sizeof code, "%02d", cls % 100);
            snprintf(q, sizeof q, "loc_class like \"%s-%%\" or loc_class == \"%s\"", code, code);
            if (mv_count(MV(c)->client, MV(c)->name, q, &n, err) != 0)
                rc = -1;
            else if (n > 0 && fn(ctx, code, n) != 0)
                rc = ds_fail(err, DS_EINVAL, "stopped by the callback");
        }
    }
    scan_clear(&sc);
    return rc;
}

static int milvus_stats(eng_store *store, json_t **out, ds_err *err)
{
    eng_collection *c = store->c;
    int64_t n = 0;
    scan sc;
    if (mv_count(MV(c)->client, MV(c)->name, NULL, &n, err) != 0)
        return ds_wrap(err, "count of %s: ", c->name);
    if (scan_rows(c, &sc, err) != 0)
        return ds_wrap(err, "rows of %s: ", c->name);
    /* The most frequent classes first, as embedded mode lists them. */
    json_t *top = json_array();
    for (int i = 0; sc.complete && i < CAT_STATS_TOP; i++) {
        const char *best = NULL, *k;
        json_int_t most = 0;
        json_t *v;
        json_object_foreach(sc.loc, k, v)
            if (*k && (json_integer_value(v) > most ||
                       (json_integer_value(v) == most && best && strcmp(k, best) < 0))) {
                best = k;
                most = json_integer_value(v);
            }
        if (!best)
            break;
        json_array_append_new(top, json_pack("{s:s,s:I}", "loc_class", best, "images", most));
        json_object_del(sc.loc, best);
    }
    const mv_schema *s = &MV(c)->schema;
    *out = json_pack("{s:s,s:s,s:i,s:I,s:o,s:I,s:n,s:o,s:{s:s,s:I,s:s,s:s,s:s,s:s,s:b,s:s},s:b}",
                     "collection_name", c->name, "model", c->model->id, "dimension",
                     c->model->dim, "row_count", (json_int_t)n, "patents",
                     sc.complete ? json_integer((json_int_t)json_object_size(sc.patents))
                                 : json_null(),
                     "images", (json_int_t)n, "db_bytes", "top_loc_classes", top, "index",
                     "kind", "milvus", "count", (json_int_t)n, "uri", mv_uri(MV(c)->client),
                     "collection", MV(c)->name, "dialect",
                     mv_get_dialect(MV(c)->client) == MV_V2 ? "v2" : "v1", "metric",
                     *s->metric ? s->metric : "unknown", "dynamic_fields", s->dynamic,
                     "vector_field", s->vector, "generated_weights",
                     vit_get_config(c->model->vit)->generated);
    scan_clear(&sc);
    if (*out)
        json_object_set_new(*out, "precision",
                            json_string(gemm_precision_name(c->model->precision)));
    return *out ? 0 : ds_fail(err, DS_ENOMEM, "out of memory");
}

static int by_image_index(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "image_index"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "image_index"));
    return (x > y) - (x < y);
}

static int milvus_patent(eng_store *s, const char *patent_id, json_t **out, ds_err *err)
{
    eng_collection *c = s->c;
    if (!milvus_holds(MV(c), "patent_id"))
        return ds_fail(err, DS_ENOTFOUND, "no patent %.200s in collection %s", patent_id, c->name);
    char *q = milvus_in_list("patent_id", &patent_id, 1, err);
    json_t *rows = NULL;
    if (!q || mv_query(MV(c)->client, MV(c)->name, q, MV(c)->out_fields, 1000, 0, &rows, err) != 0) {
        free(q);
        return -1;
    }
    free(q);
    size_t n = json_array_size(rows);
    if (n == 0) {
        json_decref(rows);
        return ds_fail(err, DS_ENOTFOUND, "no patent %.200s in collection %s", patent_id, c->name);
    }
    /* The patent's fields are on every row; the first one's are used. */
    *out = row_json(json_array_get(rows, 0), 0, 0);
    static const char *const image_keys[] = {"id", "file_name", "page_num", "file_path",
                                             "image_index", "image_url", "thumbnail_url"};
    for (size_t d = 0; d < sizeof image_keys / sizeof *image_keys; d++)
        json_object_del(*out, image_keys[d]);
    json_t **imgs = malloc(sizeof *imgs * n);
    if (!imgs) {
        json_decref(rows);
        json_decref(*out);
        *out = NULL;
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *full = row_json(json_array_get(rows, i), 0, 0);
        imgs[i] = json_object();
        for (size_t d = 0; d < sizeof image_keys / sizeof *image_keys; d++)
            json_object_set(imgs[i], image_keys[d], json_object_get(full, image_keys[d]));
        json_object_set(imgs[i], "patent_id", json_object_get(full, "patent_id"));
        json_decref(full);
    }
    qsort(imgs, n, sizeof *imgs, by_image_index);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, imgs[i]);
    free(imgs);
    json_object_set_new(*out, "images", list);
    json_decref(rows);
    return 0;
}

/* ---- the rest of the store's operations --------------------------------------- */

/* Rows may lack a hash: the stored original's, read from the blob store
 * under the key derived from the name ("" when there is none). */
static int milvus_stored_hash(eng_store *s, const char *file_name,
                              char out[DS_SHA256_HEXLEN + 1], ds_err *err)
{
    char key[BLOB_KEY_MAX + 1], thumb[BLOB_KEY_MAX + 1];
    void *data = NULL;
    size_t len = 0;
    ds_err missing = {0};
    (void)err;
    if (eng__blob_keys(s->c, file_name, key, thumb, NULL) != 0 ||
        blob_get(s->e->blobs, key, &data, &len, NULL, &missing) != 0)
        return 0; /* no original under the derived key: cannot tell */
    uint8_t digest[DS_SHA256_LEN];
    ds_sha256_buf(data, len, digest);
    ds_sha256_hex(digest, out);
    free(data);
    return 0;
}

/* A patent is the fields of its images' rows: one without a stored image
 * has nowhere to go (the import reports its drawings). */
static int milvus_put_patents(eng_store *s, const cat_patent *const *patents, int n,
                              ds_err *err)
{
    (void)s, (void)patents, (void)n, (void)err;
    return 0;
}

static int milvus_attach_patent(eng_store *s, const char *file_name, const char *patent_id,
                                int image_index, ds_err *err)
{
    (void)s, (void)file_name, (void)patent_id, (void)image_index, (void)err;
    return 0;
}

static int milvus_image_name(eng_store *s, int64_t id, char *out, size_t n, ds_err *err)
{
    (void)s, (void)id, (void)out, (void)n;
    return ds_fail(err, DS_EUNSUPPORTED, "image names by id are not kept on Milvus");
}

static void milvus_health(eng_store *s, eng_health *h)
{
    ds_err down = {0};
    h->index_kind = "milvus";
    h->index = mv_ping(((milvus_store *)s)->client, &down) == 0;
    if (!h->index)
        snprintf(h->index_error, sizeof h->index_error, "%s", down.msg);
}

static const eng_store_methods milvus_methods = {
    .version = 1,
    .name = "milvus",
    .detach = milvus_detach,
    .known = milvus_known,
    .known_id = milvus_known_id,
    .stored_hash = milvus_stored_hash,
    .put_batch = milvus_put_batch,
    .put_patents = milvus_put_patents,
    .attach_patent = milvus_attach_patent,
    .sync = milvus_sync,
    .save = NULL, /* no file: sync */
    .search = milvus_search,
    .stored_vector = milvus_stored_vector,
    .image_name = milvus_image_name,
    .stats = milvus_stats,
    .loc_counts = milvus_loc_counts,
    .patent = milvus_patent,
    .health = milvus_health,
};

/* ---- the backend ----------------------------------------------------------------- */

/* Milvus's rule on the full name; the prefix alone was checked at open. */
static int milvus_check_name(const eng_backend *b, const char *name, ds_err *err)
{
    const milvus_backend *mb = (const milvus_backend *)b;
    size_t n = strlen(name);
    for (const char *q = name; *q; q++)
        if (!(isalnum((unsigned char)*q) || *q == '_') ||
            (q == name && !*mb->prefix && isdigit((unsigned char)*q)))
            return ds_fail(err, DS_EINVAL, "collection name '%.60s': on Milvus, letters, digits "
                           "and '_' only, not starting with a digit", name);
    if (strlen(mb->prefix) + n >= MV_NAME_MAX)
        return ds_fail(err, DS_EINVAL, "collection name '%.60s': with the Milvus prefix, over "
                       "%d bytes", name, MV_NAME_MAX - 1);
    return 0;
}

static void milvus_close(eng_backend *b)
{
    if (!b)
        return;
    mv_close(((milvus_backend *)b)->client);
    free(b);
}

static const eng_backend_methods milvus_backend_methods = {
    .version = 1,
    .name = "milvus",
    .check_name = milvus_check_name,
    .attach = milvus_attach,
    .close = milvus_close,
};

int eng__milvus_open(const mv_config *cfg, const char *prefix, eng_backend **out, ds_err *err)
{
    const char *p = prefix ? prefix : "";
    /* Milvus names: letters, digits and '_', not starting with a digit. */
    for (const char *q = p; *q; q++)
        if (!(isalnum((unsigned char)*q) || *q == '_') || (q == p && isdigit((unsigned char)*q)))
            return ds_fail(err, DS_EINVAL, "Milvus prefix '%s': letters, digits and '_' "
                           "only, not starting with a digit", p);
    milvus_backend *b = calloc(1, sizeof *b);
    if (!b)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    b->base.m = &milvus_backend_methods;
    if (strlen(p) >= sizeof b->prefix) {
        free(b);
        return ds_fail(err, DS_EINVAL, "Milvus prefix too long");
    }
    snprintf(b->prefix, sizeof b->prefix, "%s", p);
    if (mv_open(cfg, &b->client, err) != 0) {
        free(b);
        return -1;
    }
    *out = &b->base;
    return 0;
}
