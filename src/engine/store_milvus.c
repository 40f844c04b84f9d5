/* on_milvus.c - the engine's collections on Milvus (ENG_INDEX_MILVUS).
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
 * waits once, at its end (engm_sync).
 *
 * Retries: Milvus calls are retried by the client (src/milvus) when they
 * may pass, but an insert is never repeated blindly, since a lost answer
 * may hide a done insert, even one that lands seconds after its client
 * gave up: after an insert that was sent and never answered, the batch
 * asks which of its names arrived until the insert can no longer land
 * (settle), and inserts only the rows proven absent (exactly once).
 */
#include "engine/engine_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "milvus/expr.h"
#include "net/net.h"

#define RECENT 8192          /* rows this process stored, remembered */
#define WINDOW 16384         /* Milvus's most rows per search or query */
#define INSERT_TRIES 7       /* about 60 s of backoff: a restarting Milvus */

/* The seed's design_patents_full fields (SEED-API.md) and page_num from
 * its patent_images, with their types and sizes. */
typedef struct seed_field {
    const char *name;
    mv_type type;
    int max_length;
} seed_field;

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

typedef struct recent_row {
    char file_name[256];
    char sha256[65];
    int64_t id;
} recent_row;

struct eng_milvus_coll {
    char name[MV_NAME_MAX];       /* in Milvus: --milvus-prefix + the name */
    mv_schema schema;
    const char *out_fields[40];   /* what searches and queries ask for */
    int has_sha256;               /* content-hash dedupe is possible */
    recent_row *recent;           /* ring of RECENT, guarded by e->add_lock */
    size_t n_recent;
    int64_t last_ids[256];        /* the last batch stored, for engm_sync */
    int n_last;
};

#define SEED_N (sizeof seed_fields / sizeof *seed_fields)
#define EXTRA_N (sizeof extra_fields / sizeof *extra_fields)

/* ---- the collection --------------------------------------------------------- */

static const seed_field *known_field(const char *name)
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
static int holds(const eng_milvus_coll *m, const char *name)
{
    return mv_schema_field(&m->schema, name) != NULL || (m->schema.dynamic && known_field(name));
}

static void pick_fields(eng_milvus_coll *m)
{
    int n = 0;
    m->out_fields[n++] = m->schema.primary;
    for (size_t i = 0; i < SEED_N; i++)
        if (holds(m, seed_fields[i].name))
            m->out_fields[n++] = seed_fields[i].name;
    for (size_t i = 0; i < EXTRA_N; i++)
        if (holds(m, extra_fields[i].name))
            m->out_fields[n++] = extra_fields[i].name;
    m->out_fields[n] = NULL;
    m->has_sha256 = holds(m, "sha256");
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

int engm_attach(eng *e, eng_collection *c, ds_err *err)
{
    eng_milvus_coll *m = calloc(1, sizeof *m);
    if (!m || !(m->recent = calloc(RECENT, sizeof *m->recent))) {
        free(m);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    if (snprintf(m->name, sizeof m->name, "%s%s", e->mv_prefix, c->name) >= (int)sizeof m->name) {
        free(m->recent);
        free(m);
        return ds_fail(err, DS_EINVAL, "collection %s: the Milvus name is too long", c->name);
    }
    ds_err why = {0};
    if (mv_describe(e->mv, m->name, &m->schema, &why) != 0) {
        if (why.code != DS_ENOTFOUND) {
            *err = why;
            goto fail;
        }
        mv_schema want;
        seed_schema(&want, c->model->dim);
        if (mv_create(e->mv, m->name, &want, err) != 0 ||
            mv_describe(e->mv, m->name, &m->schema, err) != 0)
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
    if (!holds(m, "file_name")) {
        ds_fail(err, DS_EUNSUPPORTED, "Milvus collection %s has no file_name field", c->name);
        goto fail;
    }
    pick_fields(m);
    c->mv = m;
    return 0;
fail:
    free(m->recent);
    free(m);
    return ds_wrap(err, "collection %s: ", c->name);
}

void engm_detach(eng_collection *c)
{
    if (c->mv)
        free(c->mv->recent);
    free(c->mv);
    c->mv = NULL;
}

/* ---- reading rows ------------------------------------------------------------- */

/* An integer field as Milvus sent it (v1 writes INT64 as a string). */
static int row_int(json_t *row, const char *key, json_int_t *out)
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
static const char *row_str(json_t *row, const char *key)
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
    if (row_int(row, key, &d) && d >= 10000101 && d <= 99991231) {
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
    return row_int(row, key, &v) && v > 0 ? json_integer(v) : json_null();
}

/* A Milvus row as a result, with the keys (and their order) of embedded
 * mode's results (search.c). */
static json_t *row_json(json_t *row, int with_score, double score)
{
    const char *file = row_str(row, "file_name"), *pid = row_str(row, "patent_id");
    char page[16];
    json_int_t id = 0, index = 0;
    row_int(row, "id", &id);
    row_int(row, "image_index", &index);
    if (row_str(row, "page_num"))
        snprintf(page, sizeof page, "%s", row_str(row, "page_num"));
    else
        eng__page_num(file, page);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    if (with_score)
        json_object_set_new(o, "score", json_real(score));
    json_object_set_new(o, "file_name", json_string(file ? file : ""));
    json_object_set_new(o, "patent_id", str_or_null(pid));
    json_object_set_new(o, "page_num", json_string(page));
    json_object_set_new(o, "file_path", str_or_null(row_str(row, "file_path")));
    json_object_set_new(o, "image_index", json_integer(index));
    json_object_set_new(o, "image_url", eng__image_url(file ? file : "", 0));
    json_object_set_new(o, "thumbnail_url", eng__image_url(file ? file : "", 1));
    if (!pid)
        return o;
    json_object_set_new(o, "title", str_or_null(row_str(row, "title")));
    json_object_set_new(o, "kind", str_or_null(row_str(row, "kind")));
    json_object_set_new(o, "loc_class", str_or_null(row_str(row, "loc_class")));
    json_object_set_new(o, "loc_edition", str_or_null(row_str(row, "loc_edition")));
    date_fields(o, row, "pub_date");
    date_fields(o, row, "filing_date");
    json_object_set_new(o, "grant_term", positive_or_null(row, "grant_term"));
    static const char *const names[] = {"applicant_name", "applicant_country", "inventor_names",
                                        "assignee_name", "claim_text"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        json_object_set_new(o, names[i], str_or_null(row_str(row, names[i])));
    json_object_set_new(o, "image_count", positive_or_null(row, "image_count"));
    return o;
}

/* The vector of a row (asked for with the vector field) into v. */
static int row_vector(const eng_collection *c, json_t *row, float *v, ds_err *err)
{
    json_t *a = json_object_get(row, c->mv->schema.vector);
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
    while (c->mv->out_fields[n]) {
        out[n] = c->mv->out_fields[n];
        n++;
    }
    out[n++] = c->mv->schema.vector;
    out[n] = NULL;
}

/* "name in [\"a\",\"b\"]": every value quoted by mv_quote, never pasted. */
static char *in_list(const char *name, const char *const *values, size_t n, ds_err *err)
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

/* ---- "is it there already?" ------------------------------------------------------ */

static const recent_row *recent_find(const eng_milvus_coll *m, const char *file_name,
                                     const char *hash)
{
    size_t n = m->n_recent < RECENT ? m->n_recent : RECENT;
    for (size_t i = 0; i < n; i++) {
        const recent_row *r = &m->recent[i];
        if ((file_name && !strcmp(r->file_name, file_name)) || (hash && !strcmp(r->sha256, hash)))
            return r;
    }
    return NULL;
}

static void recent_add(eng_milvus_coll *m, const char *file_name, const char *hash, int64_t id)
{
    recent_row *r = &m->recent[m->n_recent++ % RECENT];
    snprintf(r->file_name, sizeof r->file_name, "%s", file_name);
    snprintf(r->sha256, sizeof r->sha256, "%s", hash ? hash : "");
    r->id = id;
}

int engm_known(eng *e, eng_collection *c, const char *file_name, const char *patent_id,
               int image_index, const char *hash, cat_known *known, int64_t *id, ds_err *err)
{
    eng_milvus_coll *m = c->mv;
    *known = CAT_KNOWN_NOT;
    if (id)
        *id = 0;
    pthread_mutex_lock(&e->add_lock);
    const recent_row *r = recent_find(m, file_name, m->has_sha256 ? hash : NULL);
    if (r) {
        *known = file_name && !strcmp(r->file_name, file_name) ? CAT_KNOWN_FILE_NAME
                                                                : CAT_KNOWN_CONTENT;
        if (id)
            *id = r->id;
    }
    pthread_mutex_unlock(&e->add_lock);
    if (r)
        return 0;
    /* One query: by name, by patent and drawing number, by content. */
    char *by_name = file_name ? in_list("file_name", &file_name, 1, err) : NULL;
    char *by_patent = patent_id && holds(m, "patent_id") && holds(m, "image_index")
                          ? in_list("patent_id", &patent_id, 1, err) : NULL;
    char *by_hash = hash && m->has_sha256 ? in_list("sha256", &hash, 1, err) : NULL;
    if ((file_name && !by_name) || (!by_patent && patent_id && holds(m, "patent_id") &&
                                    holds(m, "image_index")) || (!by_hash && hash && m->has_sha256)) {
        free(by_name);
        free(by_patent);
        free(by_hash);
        return -1;
    }
    char *q = NULL;
    size_t qlen = 0;
    FILE *f = open_memstream(&q, &qlen);
    int parts = 0;
    if (f) {
        if (by_name)
            fprintf(f, "%s", by_name), parts++;
        if (by_patent)
            fprintf(f, "%s(%s and image_index == %d)", parts++ ? " or " : "", by_patent,
                    image_index);
        if (by_hash)
            fprintf(f, "%s%s", parts++ ? " or " : "", by_hash);
        fclose(f);
    }
    free(by_name);
    free(by_patent);
    free(by_hash);
    if (!q)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    if (!parts) {
        free(q);
        return 0;
    }
    json_t *rows = NULL;
    int rc = mv_query(e->mv, c->mv->name, q, m->out_fields, 4, 0, &rows, err);
    free(q);
    if (rc != 0)
        return ds_wrap(err, "Milvus: ");
    /* The strongest reason first, as the catalog answers. */
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *fn = row_str(row, "file_name"), *pid = row_str(row, "patent_id");
        json_int_t idx = -1, rid = 0;
        row_int(row, "image_index", &idx);
        row_int(row, "id", &rid);
        cat_known k = file_name && fn && !strcmp(fn, file_name) ? CAT_KNOWN_FILE_NAME
                      : patent_id && pid && !strcmp(pid, patent_id) && idx == image_index
                          ? CAT_KNOWN_PATENT_INDEX
                          : CAT_KNOWN_CONTENT;
        if (*known == CAT_KNOWN_NOT || k < *known) {
            *known = k;
            if (id)
                *id = rid;
        }
    }
    json_decref(rows);
    return 0;
}

/* ---- storing ------------------------------------------------------------------- */

/* s cut to at most max bytes, on a UTF-8 character boundary (the seed
 * truncated claims to fit VARCHAR(500) too). */
static json_t *fitted(const char *s, int max)
{
    size_t n = strlen(s);
    if (max > 0 && n > (size_t)max) {
        n = (size_t)max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(s, n);
}

/* A dynamic field's longest text: the seed's VARCHAR lengths bind only
 * fields of a schema, and a cut text is missed by the substring filters
 * (a long inventor list); this bound keeps a row within Milvus's limits. */
#define DYNAMIC_TEXT_MAX 8192

/* The most bytes a text field of this collection's rows holds (0: no bound
 * known). */
static int text_max(const eng_milvus_coll *m, const char *key)
{
    const mv_field *f = mv_schema_field(&m->schema, key);
    const seed_field *s = known_field(key);
    return !f ? DYNAMIC_TEXT_MAX : f->max_length ? f->max_length : s ? s->max_length : 0;
}

static void put_str(json_t *row, const eng_milvus_coll *m, const char *key, const char *v)
{
    if (!holds(m, key))
        return;
    json_object_set_new(row, key, fitted(v ? v : "", text_max(m, key)));
}

/* The fields that name a row are never cut to fit (put_str cuts only
 * descriptive text): a cut file_name no longer finds its row, so a rerun
 * stores the image again and its links point at no blob, and two patent
 * ids cut to one merge two patents. A schema's VARCHAR sizes (the seed's
 * file_name 256, patent_id 64, file_path 512; also dinoseek's own
 * collections on REST v2) refuse such an image instead. */
static int names_fit(const eng_milvus_coll *m, const eng_store_item *it, const char *key,
                     ds_err *err)
{
    const cat_patent *p = it->in.patent;
    const struct {
        const char *field, *value;
    } names[] = {{"file_name", it->in.file_name},
                 {"file_path", key},
                 {"patent_id", p && p->patent_id ? p->patent_id : it->in.patent_id}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (!names[i].value || !holds(m, names[i].field))
            continue;
        int max = text_max(m, names[i].field);
        size_t len = strlen(names[i].value);
        if (max > 0 && len > (size_t)max)
            return ds_fail(err, DS_EINVAL, "%s \"%.60s...\" is %zu bytes: the Milvus "
                           "collection %s holds at most %d there", names[i].field,
                           names[i].value, len, m->name, max);
    }
    return 0;
}

static void put_int(json_t *row, const eng_milvus_coll *m, const char *key, json_int_t v)
{
    if (holds(m, key))
        json_object_set_new(row, key, json_integer(v));
}

/* The row of one item, with only the fields the collection holds, every one
 * of its schema's fields given (Milvus 2.3 has no defaults). */
static json_t *item_row(const eng_collection *c, const eng_store_item *it, const char *key)
{
    const eng_milvus_coll *m = c->mv;
    const eng_image_in *in = &it->in;
    const cat_patent *p = in->patent;
    cat_patent none = {.image_count = -1};
    if (!p)
        p = &none;
    char page[16];
    eng__page_num(in->file_name, page);
    json_t *row = json_object(), *vec = json_array();
    for (int d = 0; d < c->model->dim; d++)
        json_array_append_new(vec, json_real(it->vec[d]));
    json_object_set_new(row, m->schema.vector, vec);
    put_str(row, m, "patent_id", p->patent_id ? p->patent_id : in->patent_id);
    put_int(row, m, "image_index", in->image_index);
    put_str(row, m, "file_name", in->file_name);
    put_str(row, m, "file_path", key);
    put_str(row, m, "title", p->title);
    put_str(row, m, "loc_class", p->loc_class);
    put_str(row, m, "loc_edition", p->loc_edition);
    put_int(row, m, "pub_date", eng__yyyymmdd(p->pub_date));
    put_int(row, m, "filing_date", eng__yyyymmdd(p->filing_date));
    put_int(row, m, "grant_term", p->grant_term > 0 ? p->grant_term : 0);
    put_str(row, m, "applicant_name", p->applicant_name);
    put_str(row, m, "applicant_country", p->applicant_country);
    put_str(row, m, "inventor_names", p->inventor_names);
    put_str(row, m, "assignee_name", p->assignee_name);
    put_str(row, m, "claim_text", p->claim_text);
    put_int(row, m, "image_count", p->image_count > 0 ? p->image_count : 0);
    put_int(row, m, "created_at", (json_int_t)time(NULL));
    put_str(row, m, "page_num", page);
    put_str(row, m, "sha256", it->hash);
    put_str(row, m, "kind", p->kind);
    /* Any further field of the collection's own schema: its zero value. */
    for (int i = 0; i < m->schema.n_fields; i++) {
        const mv_field *f = &m->schema.fields[i];
        if (f->auto_id || json_object_get(row, f->name))
            continue;
        json_object_set_new(row, f->name, f->type == MV_VARCHAR ? json_string("")
                                          : f->type == MV_BOOL  ? json_false()
                                          : f->type == MV_JSON  ? json_object()
                                                                : json_integer(0));
    }
    return row;
}

/* Which of these names have rows now (a query after a failed insert). */
static int arrived(eng *e, eng_collection *c, const char *const *names, size_t n,
                   json_t **rows, ds_err *err)
{
    char *q = in_list("file_name", names, n, err);
    if (!q)
        return -1;
    int rc = mv_query(e->mv, c->mv->name, q, c->mv->out_fields, (int)(n * 2 + 8), 0, rows, err);
    free(q);
    return rc;
}

/* Items of todo whose rows are in Milvus now: their ids taken, and out of
 * todo (*n_todo shrinks). names: room for *n_todo names. */
static int take_arrived(eng *e, eng_collection *c, eng_store_item *items, int *todo,
                        int *n_todo, const char **names, ds_err *err)
{
    for (int t = 0; t < *n_todo; t++)
        names[t] = items[todo[t]].in.file_name;
    json_t *found = NULL;
    if (arrived(e, c, names, (size_t)*n_todo, &found, err) != 0)
        return -1;
    int keep = 0;
    for (int t = 0; t < *n_todo; t++) {
        size_t i;
        json_t *row;
        int got = 0;
        json_array_foreach(found, i, row) {
            json_int_t rid;
            if (!got && !strcmp(row_str(row, "file_name") ? row_str(row, "file_name") : "",
                                names[t]) && row_int(row, "id", &rid)) {
                items[todo[t]].id = rid;
                got = 1;
            }
        }
        if (!got)
            todo[keep++] = todo[t];
    }
    json_decref(found);
    *n_todo = keep;
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* How long after an insert was sent it may still land: Milvus keeps
 * working on a request whose client gave up, and a proxy on the way may
 * hold it; three time limits of a request, plus Milvus's bounded
 * staleness (5 s) before a query shows what landed. */
static double in_flight_ms(const eng *e) { return 3.0 * (double)mv_timeout_ms(e->mv) + 5000; }

/* After an insert that may have been done (sent, never answered): wait
 * until Milvus proves whether it was. Its rows found: done. Not found by a
 * query made when the insert can no longer land (sent_at + in_flight_ms):
 * lost, and the rows left in todo are inserted again. An insert is never
 * sent again while its first copy may still land: that is what makes an
 * insert land exactly once. -1 when Milvus cannot be asked for a minute
 * after that (the rows may or may not be there: the batch fails, and a
 * rerun finds what landed). */
static int settle(eng *e, eng_collection *c, eng_store_item *items, int *todo, int *n_todo,
                  const char **names, double sent_at, ds_err *err)
{
    double lands_by = sent_at + in_flight_ms(e);
    for (int asked = 1;; asked++) {
        net_sleep_ms(500);
        double at = now_ms();
        ds_err q = {0};
        if (take_arrived(e, c, items, todo, n_todo, names, &q) == 0) {
            if (*n_todo == 0 || at >= lands_by)
                return 0;
            continue;
        }
        if (at >= lands_by + 60000) {
            *err = q;
            return ds_wrap(err, "an insert that may have landed, unconfirmed: ");
        }
        net_sleep_ms(net_backoff_ms(asked, 500, 5000));
    }
}

/* Insert the rows of the added items; their ids into items[]. After a
 * failure that surely stored nothing (no connection): wait (longer each
 * time) and insert again. After one that may have stored the rows (no
 * answer): settle() first, then insert only the rows proven absent. */
static int insert_rows(eng *e, eng_collection *c, eng_store_item *items, int n,
                       char (*keys)[BLOB_KEY_MAX + 1], ds_err *err)
{
    int *todo = malloc(sizeof *todo * (size_t)n);
    const char **names = malloc(sizeof *names * (size_t)n);
    if (!todo || !names) {
        free(todo);
        free(names);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    int n_todo = 0, rc = 0; /* nothing to insert is done */
    for (int i = 0; i < n; i++)
        if (items[i].added)
            todo[n_todo++] = i;
    for (int attempt = 1; n_todo > 0; attempt++) {
        json_t *rows = json_array(), *ids = NULL;
        for (int t = 0; t < n_todo; t++)
            json_array_append_new(rows, item_row(c, &items[todo[t]], keys[todo[t]]));
        int maybe_done = 0;
        double sent_at = now_ms();
        rc = mv_insert_settled(e->mv, c->mv->name, rows, &ids, &maybe_done, err);
        json_decref(rows);
        if (rc == 0) {
            for (int t = 0; t < n_todo; t++)
                items[todo[t]].id = json_integer_value(json_array_get(ids, (size_t)t));
            json_decref(ids);
            break;
        }
        if (err->code != DS_ENET)
            break;
        if (maybe_done) {
            fprintf(stderr, "dinoseek: %s: insert unanswered (%s); waiting until Milvus shows "
                    "whether it landed\n", c->name, err->msg);
            if (settle(e, c, items, todo, &n_todo, names, sent_at, err) != 0)
                break;
            rc = 0;
            if (n_todo == 0 || attempt < INSERT_TRIES)
                continue;
            rc = ds_fail(err, DS_ENET, "Milvus: %s: insert lost %d times", c->name, attempt);
            break;
        }
        if (attempt == INSERT_TRIES)
            break;
        fprintf(stderr, "dinoseek: %s: insert failed (%s); retrying\n", c->name, err->msg);
        net_sleep_ms(net_backoff_ms(attempt, 2000, 20000));
        rc = 0;
    }
    free(todo);
    free(names);
    return rc;
}

/* Which items Milvus has already, by name or content: one query. */
static int known_batch(eng *e, eng_collection *c, eng_store_item *items, int n, ds_err *err)
{
    const char **names = malloc(sizeof *names * (size_t)(n + 1));
    const char **hashes = malloc(sizeof *hashes * (size_t)(n + 1));
    int m = 0, rc = -1;
    char *a = NULL, *b = NULL, *q = NULL;
    json_t *rows = NULL;
    if (!names || !hashes) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        if (!items[i].failed) {
            names[m] = items[i].in.file_name;
            hashes[m++] = items[i].hash ? items[i].hash : "";
        }
    if (m == 0) {
        rc = 0;
        goto out;
    }
    if (!(a = in_list("file_name", names, (size_t)m, err)) ||
        (c->mv->has_sha256 && !(b = in_list("sha256", hashes, (size_t)m, err))))
        goto out;
    if (!(q = malloc(strlen(a) + (b ? strlen(b) : 0) + 8))) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    sprintf(q, "%s%s%s", a, b ? " or " : "", b ? b : "");
    int limit = m * 4 + 8 > WINDOW ? WINDOW : m * 4 + 8;
    if (mv_query(e->mv, c->mv->name, q, c->mv->out_fields, limit, 0, &rows, err) != 0) {
        ds_wrap(err, "Milvus: ");
        goto out;
    }
    size_t r;
    json_t *row;
    json_array_foreach(rows, r, row) {
        const char *fn = row_str(row, "file_name"), *h = row_str(row, "sha256");
        for (int i = 0; i < n; i++) {
            eng_store_item *it = &items[i];
            if (it->failed)
                continue;
            if (fn && !strcmp(fn, it->in.file_name))
                it->known = CAT_KNOWN_FILE_NAME;
            else if (h && it->hash && !strcmp(h, it->hash) && it->known == CAT_KNOWN_NOT)
                it->known = CAT_KNOWN_CONTENT;
        }
    }
    rc = 0;
out:
    free(names);
    free(hashes);
    free(a);
    free(b);
    free(q);
    json_decref(rows);
    return rc;
}

int engm_store_batch(eng *e, eng_collection *c, eng_store_item *items, int n, ds_err *err)
{
    char(*keys)[BLOB_KEY_MAX + 1] = calloc((size_t)(n > 0 ? n : 1), sizeof *keys);
    if (!keys)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    int rc = -1;
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
    }
    if (known_batch(e, c, items, n, err) != 0)
        goto out;
    pthread_mutex_lock(&e->add_lock);
    for (int i = 0; i < n; i++) {
        eng_store_item *it = &items[i];
        if (it->failed)
            continue;
        /* Stored meanwhile by another thread of ours? */
        if (it->known == CAT_KNOWN_NOT) {
            const recent_row *r = recent_find(c->mv, it->in.file_name,
                                              c->mv->has_sha256 ? it->hash : NULL);
            if (r)
                it->known = !strcmp(r->file_name, it->in.file_name) ? CAT_KNOWN_FILE_NAME
                                                                    : CAT_KNOWN_CONTENT;
        }
        if (it->known == CAT_KNOWN_NOT)
            it->known = eng__repeats_earlier(items, i);
        if (it->known != CAT_KNOWN_NOT)
            continue;
        char thumb[BLOB_KEY_MAX + 1];
        if (eng__blob_keys(c, it->in.file_name, keys[i], thumb, &it->err) != 0 ||
            names_fit(c->mv, it, keys[i], &it->err) != 0) {
            it->failed = 1;
            continue;
        }
        /* The blobs first: a row never points at a missing original. A
         * batch that fails later leaves its blobs, under the keys the
         * rerun writes again. */
        if (blob_put(e->blobs, keys[i], it->in.data, it->in.len, NULL, &it->err) != 0 ||
            blob_put(e->blobs, thumb, it->thumb, it->thumb_len, "image/jpeg", &it->err) != 0) {
            it->failed = 1;
            continue;
        }
        it->added = 1;
    }
    if (insert_rows(e, c, items, n, keys, err) == 0) {
        /* last_ids are what engm_sync waits for: a batch that stored
         * nothing (all failed or known) keeps the previous batch's, else
         * an import ending with such a batch returned before its rows
         * were visible. */
        int any = 0;
        for (int i = 0; i < n; i++) {
            if (!items[i].added)
                continue;
            if (!any++)
                c->mv->n_last = 0;
            recent_add(c->mv, items[i].in.file_name, items[i].hash, items[i].id);
            if (c->mv->n_last < 256)
                c->mv->last_ids[c->mv->n_last++] = items[i].id;
        }
        rc = 0;
    } else {
        for (int i = 0; i < n; i++)
            items[i].added = 0;
    }
    pthread_mutex_unlock(&e->add_lock);
out:
    free(keys);
    return rc;
}

int engm_sync(eng *e, eng_collection *c, ds_err *err)
{
    pthread_mutex_lock(&e->add_lock);
    int n = c->mv->n_last;
    int64_t ids[256];
    memcpy(ids, c->mv->last_ids, sizeof ids[0] * (size_t)n);
    pthread_mutex_unlock(&e->add_lock);
    if (n == 0)
        return 0;
    char *q = malloc(32 + (size_t)n * 24);
    if (!q)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    size_t o = (size_t)sprintf(q, "%s in [", c->mv->schema.primary);
    for (int i = 0; i < n; i++)
        o += (size_t)sprintf(q + o, "%s%lld", i ? "," : "", (long long)ids[i]);
    strcpy(q + o, "]");
    /* Milvus shows writes in timestamp order: when the last batch is
     * visible, so is everything before it. */
    int rc = -1;
    for (int i = 0; i < 300; i++) { /* 30 s at most */
        int64_t seen = -1;
        if (mv_count(e->mv, c->mv->name, q, &seen, err) != 0)
            break;
        if (seen >= n) {
            rc = 0;
            break;
        }
        usleep(100000);
    }
    if (rc != 0 && err->code != DS_ENET)
        ds_fail(err, DS_ENET, "Milvus: %s: stored rows not visible after 30 s", c->name);
    free(q);
    return rc;
}

/* ---- searching ---------------------------------------------------------------- */

/* Hits of one vector: best first, passing the filter (the part Milvus runs,
 * then the residual here), at least min_score; over-fetching while the
 * residual drops rows, until k pass or none are left. With with_vec the
 * rows keep their vectors. */
static int search_rows(eng *e, eng_collection *c, const float *v, const eng_query *q, int k,
                       int with_vec, json_t **out, int *exhausted, ds_err *err)
{
    char *expr = NULL;
    int residual = 0;
    *out = NULL;
    if (mv_expr_compile(&q->filter, c->mv->schema.primary, NULL, 0, &expr, &residual, err) != 0)
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
                           .fields = with_vec ? fields : c->mv->out_fields, .nprobe = 16,
                           .anns_field = c->mv->schema.vector,
                           .metric = *c->mv->schema.metric ? c->mv->schema.metric : NULL};
        json_t *hits = NULL;
        if (mv_search(e->mv, c->mv->name, &r, &hits, err) != 0) {
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
static int search_grouped(eng *e, eng_collection *c, const float *v, const eng_query *q, int k,
                          json_t **out, ds_err *err)
{
    for (int want = k * 8;; want *= 4) {
        if (want > WINDOW)
            want = WINDOW;
        json_t *hits = NULL;
        int exhausted = 0;
        if (search_rows(e, c, v, q, want, 0, &hits, &exhausted, err) != 0)
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
        row_int(row, "id", &x);
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
static int view_candidates(eng *e, eng_collection *c, const float *vecs, int n_views,
                           const eng_query *q, int k, json_t **out, ds_err *err)
{
    eng_query loose = *q;
    loose.min_score = -2; /* min_score applies to the fused score */
    *out = json_array();
    for (int j = 0; j < n_views; j++) {
        json_t *hits = NULL;
        int exhausted;
        if (search_rows(e, c, vecs + (size_t)j * c->model->dim, &loose, k, 1, &hits, &exhausted,
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
        const char *pid = row_str(row, "patent_id");
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
static int group_candidates(eng *e, eng_collection *c, const float *vecs, int n_views,
                            const eng_query *q, int k, json_t **out, ds_err *err)
{
    int most = 32 * k < WINDOW ? 32 * k : WINDOW;
    for (int want = 8 * k < most ? 8 * k : most;; want = want * 4 < most ? want * 4 : most) {
        if (view_candidates(e, c, vecs, n_views, q, want, out, err) != 0)
            return -1;
        if (want == most || count_groups(*out) >= (size_t)k ||
            json_array_size(*out) < (size_t)want * (size_t)n_views)
            return 0;
        json_decref(*out);
        *out = NULL;
    }
}

static int fused_images(eng *e, eng_collection *c, const float *vecs, int n_views,
                        const eng_query *q, int k, json_t **out, ds_err *err)
{
    json_t *rows = NULL;
    scored *s = NULL;
    size_t n = 0;
    if (view_candidates(e, c, vecs, n_views, q, k, &rows, err) != 0)
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
static int fused_groups(eng *e, eng_collection *c, const float *vecs, int n_views,
                        const eng_query *q, int k, json_t **out, ds_err *err)
{
    json_t *cand = NULL, *rows = NULL;
    int rc = -1;
    if (group_candidates(e, c, vecs, n_views, q, k, &cand, err) != 0)
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
        const char *pid = row_str(row, "patent_id");
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
        char *expr = in_list("patent_id", pids + at, m, err);
        json_t *got = NULL;
        if (!expr || mv_query(e->mv, c->mv->name, expr, fields, WINDOW, 0, &got, err) != 0) {
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
        const char *pid = row_str(s[r].row, "patent_id");
        char key[600];
        snprintf(key, sizeof key, "%s%s", pid ? "patent:" : "file:",
                 pid ? pid : row_str(s[r].row, "file_name") ? row_str(s[r].row, "file_name") : "");
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
        if (need[i].set && !holds(c->mv, need[i].field))
            return ds_fail(err, DS_EINVAL, "collection %s has no field %s: it cannot be "
                           "filtered by it", c->name, need[i].field);
    return 0;
}

int engm_search(eng *e, eng_collection *c, const float *vecs, int n_views, const eng_query *q,
                int k, json_t **out, ds_err *err)
{
    if (k > WINDOW)
        return ds_fail(err, DS_EINVAL, "Milvus returns at most %d hits", WINDOW);
    if (filter_fields_held(c, &q->filter, err) != 0)
        return -1;
    if (n_views > 1)
        return q->group_by_patent ? fused_groups(e, c, vecs, n_views, q, k, out, err)
                                  : fused_images(e, c, vecs, n_views, q, k, out, err);
    if (q->group_by_patent)
        return search_grouped(e, c, vecs, q, k, out, err);
    json_t *hits = NULL;
    int exhausted;
    if (search_rows(e, c, vecs, q, k, 0, &hits, &exhausted, err) != 0)
        return -1;
    *out = results_of(hits);
    json_decref(hits);
    return 0;
}

int engm_stored_vector(eng *e, eng_collection *c, const char *file_name, float *vec,
                       ds_err *err)
{
    char *q = in_list("file_name", &file_name, 1, err);
    const char *fields[44];
    fields_with_vector(c, fields);
    json_t *rows = NULL;
    if (!q || mv_query(e->mv, c->mv->name, q, fields, 1, 0, &rows, err) != 0) {
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

static int scan_rows(eng *e, eng_collection *c, scan *sc, ds_err *err)
{
    const char *pk = c->mv->schema.primary;
    const char *fields[4] = {pk, NULL, NULL, NULL};
    int nf = 1;
    if (holds(c->mv, "patent_id"))
        fields[nf++] = "patent_id";
    if (holds(c->mv, "loc_class"))
        fields[nf++] = "loc_class";
    sc->patents = json_object();
    sc->loc = json_object();
    sc->complete = 0;
    json_int_t last = 0;
    for (int64_t seen = 0; seen <= SCAN_MAX;) {
        char q[MV_NAME_MAX + 32];
        snprintf(q, sizeof q, "%s > %lld", pk, (long long)last);
        json_t *rows = NULL;
        if (mv_query(e->mv, c->mv->name, q, fields, WINDOW, 0, &rows, err) != 0) {
            json_decref(sc->patents);
            json_decref(sc->loc);
            sc->patents = sc->loc = NULL;
            return -1;
        }
        size_t i, n = json_array_size(rows);
        json_t *row;
        json_array_foreach(rows, i, row) {
            json_int_t id;
            if (row_int(row, "id", &id) && id > last)
                last = id;
            const char *pid = row_str(row, "patent_id"), *loc = row_str(row, "loc_class");
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

int engm_loc_counts(eng *e, eng_collection *c, cat_loc_fn fn, void *ctx, ds_err *err)
{
    scan sc;
    if (scan_rows(e, c, &sc, err) != 0)
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
            if (mv_count(e->mv, c->mv->name, q, &n, err) != 0)
                rc = -1;
            else if (n > 0 && fn(ctx, code, n) != 0)
                rc = ds_fail(err, DS_EINVAL, "stopped by the callback");
        }
    }
    scan_clear(&sc);
    return rc;
}

int engm_stats(eng *e, eng_collection *c, json_t **out, ds_err *err)
{
    int64_t n = 0;
    scan sc;
    if (mv_count(e->mv, c->mv->name, NULL, &n, err) != 0)
        return ds_wrap(err, "count of %s: ", c->name);
    if (scan_rows(e, c, &sc, err) != 0)
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
    const mv_schema *s = &c->mv->schema;
    *out = json_pack("{s:s,s:s,s:i,s:I,s:o,s:I,s:n,s:o,s:{s:s,s:I,s:s,s:s,s:s,s:s,s:b,s:s},s:b}",
                     "collection_name", c->name, "model", c->model->id, "dimension",
                     c->model->dim, "row_count", (json_int_t)n, "patents",
                     sc.complete ? json_integer((json_int_t)json_object_size(sc.patents))
                                 : json_null(),
                     "images", (json_int_t)n, "db_bytes", "top_loc_classes", top, "index",
                     "kind", "milvus", "count", (json_int_t)n, "uri", mv_uri(e->mv),
                     "collection", c->mv->name, "dialect",
                     mv_get_dialect(e->mv) == MV_V2 ? "v2" : "v1", "metric",
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

int engm_patent(eng *e, eng_collection *c, const char *patent_id, json_t **out, ds_err *err)
{
    if (!holds(c->mv, "patent_id"))
        return ds_fail(err, DS_ENOTFOUND, "no patent %s", patent_id);
    char *q = in_list("patent_id", &patent_id, 1, err);
    json_t *rows = NULL;
    if (!q || mv_query(e->mv, c->mv->name, q, c->mv->out_fields, 1000, 0, &rows, err) != 0) {
        free(q);
        return -1;
    }
    free(q);
    size_t n = json_array_size(rows);
    if (n == 0) {
        json_decref(rows);
        return ds_fail(err, DS_ENOTFOUND, "no patent %s", patent_id);
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
