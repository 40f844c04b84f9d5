/* ops.c - collections and entities in both dialects (see milvus.h).
 *
 * Each function builds the request of its dialect, and turns the answer into
 * the one shape milvus.h promises (integer ids, "score"). */
#include "milvus/milvus_internal.h"
#include "base/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WINDOW 16384 /* Milvus's limit on limit + offset */

const mv_field *mv_schema_field(const mv_schema *s, const char *name)
{
    for (int i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return &s->fields[i];
    return NULL;
}

/* ---- describing ----------------------------------------------------------- */

/* "VarChar(256)", "FloatVector(384)", "Int64", "VarChar" -> type and the
 * number in brackets (0 when none). */
static mv_type parse_type(const char *t, int *n)
{
    static const struct {
        const char *name;
        mv_type type;
    } names[] = {{"FloatVector", MV_FLOAT_VECTOR}, {"Int64", MV_INT64}, {"Int32", MV_INT32},
                 {"Int16", MV_INT16},   {"Int8", MV_INT8},     {"Bool", MV_BOOL},
                 {"Float", MV_FLOAT},   {"Double", MV_DOUBLE}, {"VarChar", MV_VARCHAR},
                 {"JSON", MV_JSON}};
    *n = 0;
    if (!t)
        return MV_OTHER;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t l = strlen(names[i].name);
        if (strncmp(t, names[i].name, l) == 0 && (t[l] == '\0' || t[l] == '(')) {
            if (t[l] == '(')
                *n = atoi(t + l + 1);
            return names[i].type;
        }
    }
    return MV_OTHER;
}

static int param_int(json_t *params, const char *key)
{
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p) {
        const char *k = json_string_value(json_object_get(p, "key"));
        json_t *v = json_object_get(p, "value");
        if (k && strcmp(k, key) == 0)
            return json_is_string(v) ? atoi(json_string_value(v)) : (int)json_integer_value(v);
    }
    return 0;
}

int mv__parse_schema(const char *coll, json_t *doc, mv_schema *s, ds_err *err)
{
    json_t *data = json_object_get(doc, "data");
    memset(s, 0, sizeof *s);
    json_t *fields = json_object_get(data, "fields");
    if (!json_is_array(fields))
        return ds_fail(err, DS_EFORMAT, "Milvus: describe %s: no fields", coll);
    s->dynamic = json_is_true(json_object_get(data, "enableDynamicField"));
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        if (s->n_fields == MV_MAX_FIELDS)
            return ds_fail(err, DS_EUNSUPPORTED, "Milvus: %s has more than %d fields", coll,
                           MV_MAX_FIELDS);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name || strlen(name) >= MV_NAME_MAX)
            return ds_fail(err, DS_EFORMAT, "Milvus: describe %s: a field without a name", coll);
        mv_field *m = &s->fields[s->n_fields++];
        int n;
        snprintf(m->name, sizeof m->name, "%s", name);
        m->type = parse_type(json_string_value(json_object_get(f, "type")), &n);
        m->primary = json_is_true(json_object_get(f, "primaryKey"));
        m->auto_id = json_is_true(json_object_get(f, "autoId"));
        json_t *params = json_object_get(f, "params");
        if (m->type == MV_FLOAT_VECTOR)
            m->dim = n ? n : param_int(params, "dim");
        if (m->type == MV_VARCHAR)
            m->max_length = n ? n : param_int(params, "max_length");
        if (m->primary)
            snprintf(s->primary, sizeof s->primary, "%s", m->name);
        if (m->type == MV_FLOAT_VECTOR && !*s->vector) {
            snprintf(s->vector, sizeof s->vector, "%s", m->name);
            s->dim = m->dim;
        }
    }
    json_t *ix;
    json_array_foreach(json_object_get(data, "indexes"), i, ix) {
        const char *field = json_string_value(json_object_get(ix, "fieldName"));
        const char *metric = json_string_value(json_object_get(ix, "metricType"));
        if (field && metric && strcmp(field, s->vector) == 0)
            snprintf(s->metric, sizeof s->metric, "%s", metric);
    }
    if (!*s->primary || !*s->vector || s->dim <= 0)
        return ds_fail(err, DS_EUNSUPPORTED, "Milvus: %s has no primary key or float vector "
                       "field dinoseek can use", coll);
    /* Milvus's own limit is 32768; callers size buffers from dim. */
    if (s->dim > 32768)
        return ds_fail(err, DS_EFORMAT, "Milvus: %s: a %d-dimensional vector field", coll,
                       s->dim);
    return 0;
}

const char *mv__index_name(json_t *described, const char *vector)
{
    const char *name = NULL;
    size_t i;
    json_t *ix;
    json_array_foreach(json_object_get(json_object_get(described, "data"), "indexes"), i, ix) {
        const char *field = json_string_value(json_object_get(ix, "fieldName"));
        if (field && strcmp(field, vector) == 0)
            name = json_string_value(json_object_get(ix, "indexName"));
    }
    return name;
}

void mv__parse_index_type(json_t *doc, const char *name, mv_schema *s)
{
    size_t i;
    json_t *ix, *data = json_object_get(doc, "data");
    json_array_foreach(data, i, ix) {
        const char *n = json_string_value(json_object_get(ix, "indexName"));
        if (n && strcmp(n, name) == 0)
            data = ix;
    }
    const char *type = json_string_value(json_object_get(data, "indexType"));
    if (type)
        snprintf(s->index_type, sizeof s->index_type, "%s", type);
}

/* v2: the vector index's type, from indexes/describe (collections/describe
 * names the index but not its type). */
static int index_type_v2(mv_client *c, const char *coll, json_t *described, mv_schema *s,
                         ds_err *err)
{
    const char *name = mv__index_name(described, s->vector);
    if (!name)
        return 0; /* not indexed: no type */
    json_t *body = json_pack("{s:s,s:s,s:s}", "dbName", mv__db(c), "collectionName", coll,
                             "indexName", name), *doc = NULL;
    long status;
    int rc = mv__call(c, "/v2/vectordb/indexes/describe", body, &doc, &status, -1, err);
    json_decref(body);
    if (rc != 0)
        return -1;
    mv__parse_index_type(doc, name, s);
    json_decref(doc);
    return 0;
}

/* with_index: also ask v2 for the index's type (mv_search's own look-up
 * needs only the field and the metric). */
static int describe(mv_client *c, const char *coll, mv_schema *out, int with_index,
                    ds_err *err)
{
    json_t *doc = NULL, *body = NULL;
    long status;
    int rc;
    if (mv_get_dialect(c) == MV_V2) {
        body = json_pack("{s:s,s:s}", "dbName", mv__db(c), "collectionName", coll);
        rc = mv__call(c, "/v2/vectordb/collections/describe", body, &doc, &status, -1, err);
    } else {
        char path[3 * MV_NAME_MAX + 64], enc[3 * MV_NAME_MAX];
        if (net_uri_encode(coll, 0, enc, sizeof enc) < 0)
            return ds_fail(err, DS_EINVAL, "Milvus: collection name too long");
        if (ds_snprintf(path, sizeof path, err, "/v1/vector/collections/describe?collectionName=%s",
                        enc) != 0)
            return -1;
        rc = mv__call(c, path, NULL, &doc, &status, -1, err);
    }
    if (rc == 0)
        rc = mv__parse_schema(coll, doc, out, err);
    if (rc == 0 && with_index && mv_get_dialect(c) == MV_V2)
        rc = index_type_v2(c, coll, doc, out, err);
    json_decref(body);
    json_decref(doc);
    return rc;
}

int mv_describe(mv_client *c, const char *coll, mv_schema *out, ds_err *err)
{
    return describe(c, coll, out, 1, err);
}

/* ---- creating ------------------------------------------------------------- */

static const char *type_name(mv_type t)
{
    switch (t) {
    case MV_INT64: return "Int64";
    case MV_INT32: return "Int32";
    case MV_INT16: return "Int16";
    case MV_INT8: return "Int8";
    case MV_BOOL: return "Bool";
    case MV_FLOAT: return "Float";
    case MV_DOUBLE: return "Double";
    case MV_VARCHAR: return "VarChar";
    case MV_FLOAT_VECTOR: return "FloatVector";
    case MV_JSON: return "JSON";
    default: return "VarChar";
    }
}

static int create_v2(mv_client *c, const char *coll, const mv_schema *w, ds_err *err)
{
    json_t *fields = json_array();
    for (int i = 0; i < w->n_fields; i++) {
        const mv_field *f = &w->fields[i];
        json_t *o = json_pack("{s:s,s:s}", "fieldName", f->name, "dataType", type_name(f->type));
        if (f->primary) {
            json_object_set_new(o, "isPrimary", json_true());
            json_object_set_new(o, "autoID", json_boolean(f->auto_id));
        }
        if (f->type == MV_VARCHAR)
            json_object_set_new(o, "elementTypeParams",
                                json_pack("{s:i}", "max_length", f->max_length ? f->max_length : 256));
        if (f->type == MV_FLOAT_VECTOR)
            json_object_set_new(o, "elementTypeParams", json_pack("{s:i}", "dim", f->dim));
        json_array_append_new(fields, o);
    }
    const mv_field *pk = mv_schema_field(w, w->primary);
    json_t *body = json_pack(
        "{s:s,s:s,s:{s:b,s:b,s:o},s:[{s:s,s:s,s:s,s:s,s:{s:s,s:i}}]}", "dbName", mv__db(c),
        "collectionName", coll, "schema", "autoId", pk && pk->auto_id, "enableDynamicField",
        w->dynamic, "fields", fields, "indexParams", "fieldName", w->vector, "indexName",
        w->vector, "metricType", *w->metric ? w->metric : "COSINE", "indexType", "IVF_FLAT",
        "params", "index_type", "IVF_FLAT", "nlist", w->nlist > 0 ? w->nlist : 128);
    json_t *doc = NULL;
    long status;
    int rc = mv__call(c, "/v2/vectordb/collections/create", body, &doc, &status, -1, err);
    json_decref(body);
    json_decref(doc);
    if (rc != 0)
        return -1;
    /* With indexParams the collection is loaded by create; ask anyway, it is
     * harmless and makes it searchable on servers that do not. */
    body = json_pack("{s:s,s:s}", "dbName", mv__db(c), "collectionName", coll);
    rc = mv__call(c, "/v2/vectordb/collections/load", body, &doc, &status, -1, err);
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* v1 makes an auto-id Int64 primary, the vector (indexed with the metric,
 * loaded) and dynamic fields: every other field is kept under its name. */
static int create_v1(mv_client *c, const char *coll, const mv_schema *w, ds_err *err)
{
    json_t *body = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "dbName", mv__db(c), "collectionName",
                             coll, "dimension", w->dim, "metricType",
                             *w->metric ? w->metric : "COSINE", "primaryField", w->primary,
                             "vectorField", w->vector);
    json_t *doc = NULL;
    long status;
    int rc = mv__call(c, "/v1/vector/collections/create", body, &doc, &status, -1, err);
    json_decref(body);
    json_decref(doc);
    return rc;
}

int mv_create(mv_client *c, const char *coll, const mv_schema *want, ds_err *err)
{
    if (!*want->primary || !*want->vector || want->dim <= 0)
        return ds_fail(err, DS_EINVAL, "Milvus: create %s: a primary key and a vector field "
                       "are needed", coll);
    return mv_get_dialect(c) == MV_V2 ? create_v2(c, coll, want, err)
                                      : create_v1(c, coll, want, err);
}

int mv_drop(mv_client *c, const char *coll, ds_err *err)
{
    json_t *body = json_pack("{s:s,s:s}", "dbName", mv__db(c), "collectionName", coll), *doc = NULL;
    long status;
    int rc = mv__call(c, mv_get_dialect(c) == MV_V2 ? "/v2/vectordb/collections/drop"
                                                     : "/v1/vector/collections/drop",
                      body, &doc, &status, -1, err);
    json_decref(body);
    json_decref(doc);
    if (rc != 0 && err && err->code == DS_ENOTFOUND)
        return 0;
    return rc;
}

/* ---- entities ------------------------------------------------------------- */

/* An id as v1 sends it (a string) or v2 (a number), as an integer; one
 * past int64's range is refused (strtoll would clamp it to another id). */
static int to_int64(json_t *v, json_int_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    *out = x;
    return 0;
}

/* Rows as milvus.h promises them: "id" an integer, "distance" -> "score";
 * other string-encoded int64 (v1 sends every INT64 field so) are left to
 * the caller, which knows the schema. */
static int normalise_rows(json_t *rows, const char *pk, ds_err *err)
{
    if (!json_is_array(rows))
        return ds_fail(err, DS_EFORMAT, "Milvus: rows are not an array");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if (!json_is_object(r))
            return ds_fail(err, DS_EFORMAT, "Milvus: a row is not an object");
        json_t *id = json_object_get(r, pk ? pk : "id");
        json_int_t v;
        if (id && !json_is_integer(id)) {
            if (to_int64(id, &v) != 0)
                return ds_fail(err, DS_EFORMAT, "Milvus: an id that is not an integer");
            json_object_set_new(r, pk ? pk : "id", json_integer(v));
        }
        json_t *d = json_object_get(r, "distance");
        if (d) {
            if (!json_is_number(d))
                return ds_fail(err, DS_EFORMAT, "Milvus: a distance that is not a number");
            /* A real always: Milvus writes an exact match as 1. */
            json_object_set_new(r, "score", json_real(json_number_value(d)));
            json_object_del(r, "distance");
        }
    }
    return 0;
}

int mv_insert(mv_client *c, const char *coll, json_t *rows, json_t **ids_out, ds_err *err)
{
    int maybe_done;
    return mv_insert_settled(c, coll, rows, ids_out, &maybe_done, err);
}

int mv_insert_settled(mv_client *c, const char *coll, json_t *rows, json_t **ids_out,
                      int *maybe_done, ds_err *err)
{
    if (ids_out)
        *ids_out = NULL;
    json_t *body = json_pack("{s:s,s:s,s:O}", "dbName", mv__db(c), "collectionName", coll,
                             "data", rows), *doc = NULL;
    /* Sent once, never repeated here (neither by us nor by libcurl): an
     * insert whose answer was lost may have been done, and a blind retry
     * would store the rows twice. The engine asks which rows arrived
     * before it inserts any again (src/engine/store_milvus_put.c). */
    int rc = mv__call_once(c, mv_get_dialect(c) == MV_V2 ? "/v2/vectordb/entities/insert"
                                                          : "/v1/vector/insert",
                           body, &doc, maybe_done, err);
    json_decref(body);
    if (rc != 0)
        return -1;
    json_t *out = NULL;
    rc = mv__parse_insert_ids(doc, coll, json_array_size(rows), &out, err);
    json_decref(doc);
    if (rc != 0)
        return -1;
    if (ids_out)
        *ids_out = out;
    else
        json_decref(out);
    return 0;
}

int mv__parse_insert_ids(json_t *doc, const char *coll, size_t n_rows, json_t **ids_out,
                         ds_err *err)
{
    *ids_out = NULL;
    json_t *ids = json_object_get(json_object_get(doc, "data"), "insertIds");
    if (!json_is_array(ids) || json_array_size(ids) != n_rows)
        return ds_fail(err, DS_EFORMAT, "Milvus: insert into %s: %zu ids for %zu rows", coll,
                       json_array_size(ids), n_rows);
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) {
        json_int_t x;
        if (to_int64(v, &x) != 0) {
            json_decref(out);
            return ds_fail(err, DS_EFORMAT, "Milvus: insert into %s: an id that is not an "
                           "integer", coll);
        }
        json_array_append_new(out, json_integer(x));
    }
    *ids_out = out;
    return 0;
}

int mv_delete_ids(mv_client *c, const char *coll, const int64_t *ids, size_t n, ds_err *err)
{
    if (n == 0)
        return 0;
    json_t *body, *doc = NULL, *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_integer(ids[i]));
    long status;
    int rc;
    if (mv_get_dialect(c) == MV_V2) {
        /* v2 deletes by expression; ids are integers we print ourselves. */
        size_t cap = 32 + n * 24;
        char *expr = malloc(cap);
        if (!expr) {
            json_decref(list);
            return ds_fail(err, DS_ENOMEM, "out of memory");
        }
        size_t o = (size_t)snprintf(expr, cap, "id in [");
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(expr + o, cap - o, "%s%lld", i ? "," : "", (long long)ids[i]);
        snprintf(expr + o, cap - o, "]");
        body = json_pack("{s:s,s:s,s:s}", "dbName", mv__db(c), "collectionName", coll,
                         "filter", expr);
        free(expr);
        json_decref(list);
        rc = mv__call(c, "/v2/vectordb/entities/delete", body, &doc, &status, -1, err);
    } else {
        body = json_pack("{s:s,s:s,s:o}", "dbName", mv__db(c), "collectionName", coll, "id",
                         list);
        rc = mv__call(c, "/v1/vector/delete", body, &doc, &status, -1, err);
    }
    json_decref(body);
    json_decref(doc);
    return rc;
}

static json_t *field_list(const char *const *fields)
{
    json_t *a = json_array();
    for (size_t i = 0; fields && fields[i]; i++)
        json_array_append_new(a, json_string(fields[i]));
    if (!fields)
        json_array_append_new(a, json_string("*"));
    return a;
}

int mv_query(mv_client *c, const char *coll, const char *filter, const char *const *fields,
             int limit, int offset, json_t **rows, ds_err *err)
{
    *rows = NULL;
    if (limit < 0 || offset < 0 || limit + offset > MAX_WINDOW)
        return ds_fail(err, DS_EINVAL, "Milvus: limit + offset must be at most %d", MAX_WINDOW);
    /* v1 refuses an empty filter; "id >= min" would need the primary's
     * name, so callers pass one (dinoseek's own always have one). */
    json_t *body = json_pack("{s:s,s:s,s:s,s:o,s:i,s:i}", "dbName", mv__db(c), "collectionName",
                             coll, "filter", filter && *filter ? filter : "", "outputFields",
                             field_list(fields), "limit", limit, "offset", offset), *doc = NULL;
    long status;
    int rc = mv__call(c, mv_get_dialect(c) == MV_V2 ? "/v2/vectordb/entities/query"
                                                     : "/v1/vector/query",
                      body, &doc, &status, -1, err);
    json_decref(body);
    if (rc != 0)
        return -1;
    rc = mv__parse_rows(doc, rows, err);
    json_decref(doc);
    return rc;
}

int mv__parse_rows(json_t *doc, json_t **rows, ds_err *err)
{
    *rows = NULL;
    json_t *data = json_object_get(doc, "data");
    if (normalise_rows(data, NULL, err) != 0)
        return -1;
    *rows = json_incref(data);
    return 0;
}

int mv_count(mv_client *c, const char *coll, const char *filter, int64_t *n, ds_err *err)
{
    static const char *const count[] = {"count(*)", NULL};
    json_t *body = json_pack("{s:s,s:s,s:s,s:o,s:i}", "dbName", mv__db(c), "collectionName",
                             coll, "filter", filter && *filter ? filter : "",
                             "outputFields", field_list(count), "limit", 0), *doc = NULL;
    /* An empty filter is refused by v1; every dinoseek and seed row has an
     * id above 0 (Milvus's auto ids are positive). */
    if (mv_get_dialect(c) == MV_V1 && !(filter && *filter))
        json_object_set_new(body, "filter", json_string("id > 0"));
    long status;
    int rc = mv__call(c, mv_get_dialect(c) == MV_V2 ? "/v2/vectordb/entities/query"
                                                     : "/v1/vector/query",
                      body, &doc, &status, -1, err);
    json_decref(body);
    if (rc != 0)
        return -1;
    rc = mv__parse_count(doc, coll, n, err);
    json_decref(doc);
    return rc;
}

int mv__parse_count(json_t *doc, const char *coll, int64_t *n, ds_err *err)
{
    json_t *row = json_array_get(json_object_get(doc, "data"), 0);
    json_int_t v = 0;
    if (to_int64(json_object_get(row, "count(*)"), &v) != 0 || v < 0)
        return ds_fail(err, DS_EFORMAT, "Milvus: count of %s: no count in the answer", coll);
    *n = v;
    return 0;
}

int mv_search(mv_client *c, const char *coll, const mv_search_req *r, json_t **hits,
              ds_err *err)
{
    *hits = NULL;
    if (r->limit < 1 || r->offset < 0 || r->limit + r->offset > MAX_WINDOW)
        return ds_fail(err, DS_EINVAL, "Milvus: limit + offset must be 1 to %d", MAX_WINDOW);
    if (r->group_by && mv_get_dialect(c) != MV_V2)
        return ds_fail(err, DS_EUNSUPPORTED, "Milvus at %s: no grouping search (REST v1)",
                       mv_uri(c));
    /* v2: annsField is required, and searchParams.metricType must be the
     * collection's; what the caller does not give is read from Milvus. */
    const char *anns = r->anns_field, *metric = r->metric;
    mv_schema *known = NULL;
    if (mv_get_dialect(c) == MV_V2 && (!anns || (r->nprobe > 0 && !metric))) {
        if (!(known = malloc(sizeof *known)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
        if (describe(c, coll, known, 0, err) != 0) {
            free(known);
            return -1;
        }
        anns = anns ? anns : known->vector;
        metric = metric ? metric : *known->metric ? known->metric : NULL;
    }
    json_t *vec = json_array();
    for (int i = 0; i < r->dim; i++)
        json_array_append_new(vec, json_real(r->vector[i]));
    json_t *body;
    if (mv_get_dialect(c) == MV_V2) {
        body = json_pack("{s:s,s:s,s:[o],s:s,s:i,s:i,s:o}", "dbName", mv__db(c),
                         "collectionName", coll, "data", vec, "annsField", anns, "limit",
                         r->limit, "offset", r->offset, "outputFields",
                         field_list(r->fields ? r->fields : (const char *const[]){NULL}));
        if (r->nprobe > 0)
            json_object_set_new(body, "searchParams",
                                json_pack("{s:s,s:{s:i}}", "metricType",
                                          metric ? metric : "COSINE", "params", "nprobe",
                                          r->nprobe));
        if (r->group_by)
            json_object_set_new(body, "groupingField", json_string(r->group_by));
    } else {
        body = json_pack("{s:s,s:s,s:o,s:i,s:i,s:o}", "dbName", mv__db(c), "collectionName",
                         coll, "vector", vec, "limit", r->limit, "offset", r->offset,
                         "outputFields", field_list(r->fields ? r->fields : (const char *const[]){NULL}));
    }
    free(known);
    if (r->filter && *r->filter)
        json_object_set_new(body, "filter", json_string(r->filter));
    json_t *doc = NULL;
    long status;
    int rc = mv__call(c, mv_get_dialect(c) == MV_V2 ? "/v2/vectordb/entities/search"
                                                     : "/v1/vector/search",
                      body, &doc, &status, -1, err);
    json_decref(body);
    if (rc != 0)
        return -1;
    rc = mv__parse_rows(doc, hits, err);
    json_decref(doc);
    return rc;
}
