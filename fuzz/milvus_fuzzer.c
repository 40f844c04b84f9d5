/* milvus_fuzzer.c - fuzz target for the reading of Milvus's REST answers
 * (src/milvus/: milvus_internal.h's mv__answer and mv__parse_*, the very
 * functions the client runs on every answer body, either dialect).
 *
 * The input is one answer body. It goes through the envelope check, and,
 * when that passes, through every reader of a successful answer in turn
 * (each on a fresh document: reading rows changes them in place): list,
 * describe (+ v2's index name and type), query/search rows, insert ids,
 * count. What a caller relies on is asserted (a broken one aborts):
 *   - a refusal leaves no document and says why; Milvus's own message is
 *     cleaned to printable ASCII;
 *   - a schema has 1..MV_MAX_FIELDS fields with NUL-terminated names, a
 *     primary field and a float vector field of dim > 0 among them;
 *   - rows are an array of objects whose "id" is an integer (v1's strings
 *     converted), with "score" a real and no "distance" left;
 *   - insert ids are as many integers as rows; a count is >= 0;
 *   - an id v1 sent as a string becomes the very number it writes (one
 *     out of int64's range is refused, not clamped).
 * Replay with `make build/fuzz/milvus_fuzzer_replay &&
 * build/fuzz/milvus_fuzzer_replay fuzz/corpus/milvus_fuzzer`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milvus/milvus_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char URI[] = "http://127.0.0.1:19530";

static void require(int cond)
{
    if (!cond)
        abort();
}

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

/* s, which the reader took for an integer, denotes v exactly. */
static void same_number(const char *s, json_int_t v)
{
    const char *p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        p++; /* strtoll's leading blanks */
    int neg = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    while (*p == '0' && p[1])
        p++;
    char buf[32];
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    snprintf(buf, sizeof buf, "%llu", mag);
    require(strcmp(p, buf) == 0 && (v == 0 || (v < 0) == neg));
}

static int nul_within(const char *s, size_t n) { return memchr(s, '\0', n) != NULL; }

/* A failure: a known code and a message. */
static void failed(const ds_err *err)
{
    require(err->code != DS_OK && err->msg[0] != '\0' && nul_within(err->msg, sizeof err->msg));
}

/* The body as an answer to path; NULL when refused (checked). */
static json_t *answer(const char *path, const uint8_t *data, size_t size)
{
    ds_err err = {0};
    json_t *doc = (json_t *)1;
    if (mv__answer(URI, path, (const char *)data, size, &doc, &err) != 0) {
        require(doc == NULL);
        failed(&err);
        require(err.code == DS_EFORMAT || err.code == DS_ENOTFOUND || err.code == DS_ENET ||
                err.code == DS_EIO);
        /* Milvus's refusal: its message, cleaned (the "not JSON" one
         * quotes jansson, which the HTTP layer cleans in turn). */
        if (err.code != DS_EFORMAT)
            require(printable(err.msg));
        return NULL;
    }
    json_t *code = json_object_get(doc, "code");
    require(json_is_object(doc) && json_is_integer(code) &&
            (json_integer_value(code) == 0 || json_integer_value(code) == 200));
    return doc;
}

static void check_names(json_t *doc)
{
    json_t *names = mv__parse_names(doc), *v;
    size_t i;
    require(json_is_array(names));
    json_array_foreach(names, i, v)
        require(json_is_string(v));
    json_decref(names);
}

static void check_schema(json_t *doc)
{
    static mv_schema s;
    ds_err err = {0};
    memset(&s, 0x5a, sizeof s); /* nothing of the caller's may survive */
    if (mv__parse_schema("fuzz", doc, &s, &err) != 0) {
        failed(&err);
        return;
    }
    require(s.n_fields >= 1 && s.n_fields <= MV_MAX_FIELDS);
    require(nul_within(s.primary, sizeof s.primary) && nul_within(s.vector, sizeof s.vector) &&
            nul_within(s.metric, sizeof s.metric) &&
            nul_within(s.index_type, sizeof s.index_type));
    int primary = 0, vector = 0;
    for (int i = 0; i < s.n_fields; i++) {
        const mv_field *f = &s.fields[i];
        require(nul_within(f->name, sizeof f->name));
        require(f->type >= MV_INT64 && f->type <= MV_OTHER);
        if (f->primary && strcmp(f->name, s.primary) == 0)
            primary = 1;
        if (f->type == MV_FLOAT_VECTOR && strcmp(f->name, s.vector) == 0 && f->dim == s.dim)
            vector = 1;
    }
    require(primary && vector && s.dim > 0 && s.primary[0] && s.vector[0]);
    require(mv_schema_field(&s, s.primary) && mv_schema_field(&s, s.vector));
    /* v2 then asks for the type of the vector's index: the same body
     * stands for that answer too. */
    const char *name = mv__index_name(doc, s.vector);
    if (name) {
        mv__parse_index_type(doc, name, &s);
        require(nul_within(s.index_type, sizeof s.index_type));
    }
}

static void check_rows(json_t *doc)
{
    json_t *rows = (json_t *)1, *r;
    ds_err err = {0};
    enum { FIRST = 64 }; /* rows whose "id" and "distance" are followed */
    unsigned char had_distance[FIRST] = {0};
    char *string_id[FIRST] = {0};
    size_t i;
    json_array_foreach(json_object_get(doc, "data"), i, r) {
        if (i == FIRST)
            break;
        had_distance[i] = json_object_get(r, "distance") != NULL;
        const char *s = json_string_value(json_object_get(r, "id"));
        string_id[i] = s ? strdup(s) : NULL;
    }
    if (mv__parse_rows(doc, &rows, &err) != 0) {
        require(rows == NULL);
        failed(&err);
        for (i = 0; i < FIRST; i++)
            free(string_id[i]);
        return;
    }
    require(json_is_array(rows));
    json_array_foreach(rows, i, r) {
        json_t *id = json_object_get(r, "id");
        require(json_is_object(r) && !json_object_get(r, "distance"));
        require(!id || json_is_integer(id));
        if (i < FIRST && had_distance[i])
            require(json_is_real(json_object_get(r, "score")));
        if (i < FIRST && string_id[i])
            same_number(string_id[i], json_integer_value(id));
    }
    for (i = 0; i < FIRST; i++)
        free(string_id[i]);
    char *text = json_dumps(rows, JSON_COMPACT); /* callers answer with them */
    require(text != NULL);
    free(text);
    json_decref(rows);
}

static void check_insert(json_t *doc, size_t n, int must_fail)
{
    json_t *ids = (json_t *)1, *v;
    ds_err err = {0};
    if (mv__parse_insert_ids(doc, "fuzz", n, &ids, &err) != 0) {
        require(ids == NULL);
        failed(&err);
        return;
    }
    require(!must_fail);
    size_t i;
    json_t *sent = json_object_get(json_object_get(doc, "data"), "insertIds");
    require(json_is_array(ids) && json_array_size(ids) == n);
    json_array_foreach(ids, i, v) {
        require(json_is_integer(v));
        json_t *orig = json_array_get(sent, i);
        if (json_is_string(orig))
            same_number(json_string_value(orig), json_integer_value(v));
        else
            require(json_integer_value(orig) == json_integer_value(v));
    }
    json_decref(ids);
}

static void check_count(json_t *doc)
{
    int64_t n = -7;
    ds_err err = {0};
    if (mv__parse_count(doc, "fuzz", &n, &err) != 0) {
        require(n == -7);
        failed(&err);
        return;
    }
    require(n >= 0);
    json_t *sent = json_object_get(json_array_get(json_object_get(doc, "data"), 0), "count(*)");
    if (json_is_string(sent))
        same_number(json_string_value(sent), n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc;
    if (!(doc = answer("/v2/vectordb/collections/list", data, size)))
        return 0; /* refused: so would every other path be */
    check_names(doc);
    check_schema(doc);
    json_decref(doc);

    doc = answer("/v1/vector/query", data, size);
    check_rows(doc);
    json_decref(doc);

    doc = answer("/v2/vectordb/entities/insert", data, size);
    size_t n = json_array_size(json_object_get(json_object_get(doc, "data"), "insertIds"));
    check_insert(doc, n, 0);
    check_insert(doc, n + 1, 1); /* one row more than ids: refused */
    json_decref(doc);

    doc = answer("/v2/vectordb/entities/query", data, size);
    check_count(doc);
    json_decref(doc);
    return 0;
}
