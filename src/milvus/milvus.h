/* milvus.h - a client of Milvus's RESTful API, over libcurl and jansson.
 *
 * Two dialects, chosen at mv_open by asking the server:
 *   v2  /v2/vectordb/...  (Milvus 2.4 and later): full schemas, indexes,
 *       load, grouping search; answers {"code": 0, "data": ...}
 *   v1  /v1/vector/...    (Milvus 2.3): list, describe, a fixed-schema
 *       create (auto-id primary + one vector + dynamic fields), insert,
 *       delete by id, query, search; answers {"code": 200, "data": ...}
 * v2 is used whenever the server has it; v1 only where it has nothing else
 * (a 404 for the v2 route). Callers see one set of functions and one shape
 * of results whatever the dialect: ids are JSON integers (v1 sends int64 as
 * strings), a hit's similarity is "score" (Milvus calls it "distance"; with
 * COSINE larger is closer).
 *
 * Every call has a time limit (connect and total) and is retried with
 * jittered backoff when it may pass (no connection, a timeout, 429, 5xx:
 * src/net/net.h). A server that is down or slow gives DS_ENET naming
 * Milvus and its URI; an answer that is not Milvus's JSON gives
 * DS_EFORMAT; Milvus refusing a request gives DS_EIO (DS_ENOTFOUND for a
 * missing collection) with Milvus's own message. The token is sent as
 * "Authorization: Bearer TOKEN" and never appears in a message.
 *
 * Thread safety: a client may be used from any number of threads at once.
 */
#ifndef DS_MILVUS_H
#define DS_MILVUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum mv_dialect { MV_AUTO = 0, MV_V1 = 1, MV_V2 = 2 } mv_dialect;

typedef struct mv_config {
    const char *uri;          /* "http://127.0.0.1:19530" (required) */
    const char *token;        /* "user:password" or an API key; NULL: none */
    const char *db;           /* database; NULL: "default" */
    mv_dialect dialect;       /* MV_AUTO: ask the server */
    int timeout_ms;           /* one attempt; 0: 10000 */
    int connect_timeout_ms;   /* 0: 3000 */
    int retries;              /* further attempts of a retryable failure; 0: 3, -1: none */
} mv_config;

typedef struct mv_client mv_client;

/* Connect (one request: which dialect). *out is freed with mv_close. */
int mv_open(const mv_config *cfg, mv_client **out, ds_err *err);
void mv_close(mv_client *c);
mv_dialect mv_get_dialect(const mv_client *c);
const char *mv_uri(const mv_client *c);
/* The time limit of one request attempt (mv_config.timeout_ms, resolved). */
long mv_timeout_ms(const mv_client *c);

/* Whether the server answers now (one short request, no retries). */
int mv_ping(mv_client *c, ds_err *err);

/* ---- collections ------------------------------------------------------- */

#define MV_MAX_FIELDS 64
#define MV_NAME_MAX 256

typedef enum mv_type {
    MV_INT64 = 1, MV_INT32, MV_INT16, MV_INT8, MV_BOOL, MV_FLOAT, MV_DOUBLE, MV_VARCHAR,
    MV_FLOAT_VECTOR, MV_JSON, MV_OTHER
} mv_type;

typedef struct mv_field {
    char name[MV_NAME_MAX];
    mv_type type;
    int max_length;           /* VARCHAR */
    int dim;                  /* FLOAT_VECTOR */
    int primary, auto_id;
} mv_field;

typedef struct mv_schema {
    mv_field fields[MV_MAX_FIELDS];
    int n_fields;
    int dynamic;              /* fields beyond the schema are kept ($meta) */
    char primary[MV_NAME_MAX];
    char vector[MV_NAME_MAX]; /* the (one) float vector field */
    int dim;
    char metric[16];          /* "COSINE", "IP", "L2", or "" when not indexed */
    char index_type[32];      /* "IVF_FLAT", ...; "" when unknown (v1) */
    int nlist;                /* index build parameter, 0 when unknown (always:
                                 no documented answer of either dialect has it) */
} mv_schema;

/* The field called name, or NULL. */
const mv_field *mv_schema_field(const mv_schema *s, const char *name);

/* Describe a collection: DS_ENOTFOUND when there is none. */
int mv_describe(mv_client *c, const char *coll, mv_schema *out, ds_err *err);

/* Create a collection as want describes (primary, vector field, metric,
 * nlist for IVF_FLAT) and load it. v2 creates every field as given; v1 can
 * create only an auto-id INT64 primary and the vector, and keeps the other
 * fields as dynamic ones (same names, same values; see docs). */
int mv_create(mv_client *c, const char *coll, const mv_schema *want, ds_err *err);

/* The collections' names: *names a JSON array of strings. */
int mv_list(mv_client *c, json_t **names, ds_err *err);

/* Drop a collection (absent: 0). */
int mv_drop(mv_client *c, const char *coll, ds_err *err);

/* ---- entities ------------------------------------------------------------ */

/* Insert rows (a JSON array of objects, field name -> value; vectors as
 * arrays of numbers). *ids_out (may be NULL) receives the new primary keys,
 * a JSON array of integers in row order. Rows are sent in one request:
 * batch them (e.g. 32-256) at the caller. The one call that is never
 * retried, and sent once on a connection of its own (libcurl repeats a
 * request by itself when a kept-alive connection dies before the answer):
 * a lost answer may hide a done insert. */
int mv_insert(mv_client *c, const char *coll, json_t *rows, json_t **ids_out, ds_err *err);

/* mv_insert, saying on failure whether the rows may be stored all the same
 * (*maybe_done: the request left and no answer of Milvus's came back, e.g.
 * a timeout; it may still land later). 0 means surely not stored. */
int mv_insert_settled(mv_client *c, const char *coll, json_t *rows, json_t **ids_out,
                      int *maybe_done, ds_err *err);

/* Delete the rows with these primary keys. */
int mv_delete_ids(mv_client *c, const char *coll, const int64_t *ids, size_t n, ds_err *err);

/* Rows passing filter (a Milvus boolean expression; NULL or "": all), with
 * the given output fields (NULL-terminated; NULL: every field), at most
 * limit from offset (limit + offset <= 16384). *rows: a JSON array. */
int mv_query(mv_client *c, const char *coll, const char *filter, const char *const *fields,
             int limit, int offset, json_t **rows, ds_err *err);

/* The number of rows passing filter (NULL: all). */
int mv_count(mv_client *c, const char *coll, const char *filter, int64_t *n, ds_err *err);

/* A vector search. */
typedef struct mv_search_req {
    const float *vector;
    int dim;
    int limit, offset;        /* limit + offset <= 16384 */
    const char *filter;       /* NULL or "": none */
    const char *const *fields;/* output fields, NULL-terminated; NULL: none */
    int nprobe;               /* IVF cells to probe; 0: the server's default */
    const char *group_by;     /* v2 only: one hit per value of this field */
    /* v2 names the vector field searched (annsField, required) and, with
     * nprobe, the collection's metric (searchParams.metricType must match
     * it). NULL: read by describing the collection first (one more request
     * per search: callers that know them pass them). v1 needs neither. */
    const char *anns_field;
    const char *metric;
} mv_search_req;

/* The hits, best first: a JSON array of objects with "id" (integer),
 * "score" and the output fields. With group_by on a server without
 * grouping (v1), DS_EUNSUPPORTED: the caller over-fetches and groups. */
int mv_search(mv_client *c, const char *coll, const mv_search_req *req, json_t **hits,
              ds_err *err);

#endif
