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

/* The database name requests carry. */
const char *mv__db(const mv_client *c);

#endif
