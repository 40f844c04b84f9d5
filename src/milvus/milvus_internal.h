/* milvus_internal.h - what the files of src/milvus/ share. */
#ifndef DS_MILVUS_INTERNAL_H
#define DS_MILVUS_INTERNAL_H

#include "milvus/milvus.h"
#include "net/net.h"

/* POST body (or GET when body is NULL) to path; on success *out is the
 * whole answer (envelope checked). *status: the HTTP status (0: none).
 * retries < 0: the client's. */
int mv__call(mv_client *c, const char *path, json_t *body, json_t **out, long *status,
             int retries, ds_err *err);

/* One POST sent once: on a connection of its own (libcurl would repeat a
 * request on its own on a reused connection that died) and never retried.
 * On failure *maybe_done says whether the server may have done it anyway
 * (the request left, and no answer of Milvus's came back). */
int mv__call_once(mv_client *c, const char *path, json_t *body, json_t **out, int *maybe_done,
                  ds_err *err);

/* The database name requests carry. */
const char *mv__db(const mv_client *c);

/* ---- reading answers ------------------------------------------------------
 * The parsing of Milvus's answers, apart from the requests that fetch them,
 * so that the fuzz target (fuzz/milvus_fuzzer.c) runs the code the client
 * runs. Each reads a document as mv__answer returns it, either dialect's. */

/* An answer body (text, len bytes, from the server at uri for path) as
 * JSON with its envelope checked: 0 and *out the whole document, or -1
 * with DS_EFORMAT (not JSON, no "code") or Milvus's refusal (see
 * milvus.h: DS_ENOTFOUND, DS_ENET, DS_EIO) and *out NULL. */
int mv__answer(const char *uri, const char *path, const char *text, size_t len, json_t **out,
               ds_err *err);

/* collections/list (both dialects): the names in "data", a new array of
 * strings (anything else is skipped). */
json_t *mv__parse_names(json_t *doc);

/* collections/describe (both dialects) as a schema; DS_EFORMAT or
 * DS_EUNSUPPORTED when it is not a collection dinoseek can use. */
int mv__parse_schema(const char *coll, json_t *doc, mv_schema *out, ds_err *err);

/* v2: the name of the index on field vector in a collections/describe
 * answer (NULL: not indexed; points into described). */
const char *mv__index_name(json_t *described, const char *vector);

/* v2 indexes/describe: the type of index name into s->index_type (left as
 * it was when the answer has none). "data" is an array of indexes in the
 * documented examples, an object in the documented schema: both are read. */
void mv__parse_index_type(json_t *doc, const char *name, mv_schema *s);

/* entities/query and entities/search (v1 query and search): "data" as the
 * rows milvus.h promises, changed in place ("id" an integer, v1's string
 * ids included; "distance" -> "score"); *rows a new reference. */
int mv__parse_rows(json_t *doc, json_t **rows, ds_err *err);

/* An insert's answer: n_rows ids in "data"."insertIds" (v1 sends strings)
 * as a new array of integers. */
int mv__parse_insert_ids(json_t *doc, const char *coll, size_t n_rows, json_t **ids_out,
                         ds_err *err);

/* A count(*) query's answer. */
int mv__parse_count(json_t *doc, const char *coll, int64_t *n, ds_err *err);

#endif
