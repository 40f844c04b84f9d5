/* store_milvus.h - what the two files of the Milvus store share (see
 * store.h): store_milvus.c (the collection and its fields, reading rows,
 * searching, describing, the backend) and store_milvus_put.c (is it there
 * already?, storing, sync). */
#ifndef DS_ENGINE_STORE_MILVUS_H
#define DS_ENGINE_STORE_MILVUS_H

#include "engine/store.h"

#define RECENT 8192          /* rows this process stored, remembered */
#define WINDOW 16384         /* Milvus's most rows per search or query */

/* The seed's design_patents_full fields (SEED-API.md) and page_num from
 * its patent_images, with their types and sizes. */
typedef struct seed_field {
    const char *name;
    mv_type type;
    int max_length;
} seed_field;

typedef struct recent_row {
    char file_name[256];
    char sha256[65];
    int64_t id;
} recent_row;

/* The backend: the client and the prefix every collection shares. */
typedef struct milvus_backend {
    eng_backend base;
    mv_client *client;
    char prefix[128];             /* before each collection's name in Milvus */
} milvus_backend;

/* A collection on Milvus. */
typedef struct milvus_store {
    eng_store base;               /* first: an eng_store * points here */
    mv_client *client;            /* the backend's */
    char name[MV_NAME_MAX];       /* in Milvus: --milvus-prefix + the name */
    mv_schema schema;
    const char *out_fields[40];   /* what searches and queries ask for */
    int has_sha256;               /* content-hash dedupe is possible */
    recent_row *recent;           /* ring of RECENT, guarded by e->add_lock */
    size_t n_recent;
    int64_t last_ids[256];        /* the last batch stored, for milvus_sync */
    int n_last;
} milvus_store;

/* The Milvus store of a collection attached by this backend. */
#define MV(c) ((milvus_store *)(c)->store)

/* The seed's (or dinoseek's extra) field called name, or NULL. */
const seed_field *milvus_known_field(const char *name);

/* Whether rows of this collection can hold a field (by schema, or as a
 * dynamic one). */
int milvus_holds(const milvus_store *m, const char *name);

/* An integer field as Milvus sent it (v1 writes INT64 as a string);
 * 1 when there is one. */
int milvus_row_int(json_t *row, const char *key, json_int_t *out);

/* A string field; NULL when absent or empty (Milvus 2.3 has no NULL). */
const char *milvus_row_str(json_t *row, const char *key);

/* "name in [\"a\",\"b\"]": every value quoted by mv_quote, never pasted
 * (a new string; NULL with err). */
char *milvus_in_list(const char *name, const char *const *values, size_t n, ds_err *err);

/* The operations of store_milvus_put.c (store.h says what each promises). */
int milvus_known(eng_store *s, const char *file_name, const char *patent_id, int image_index,
                 const char *hash, cat_known *known, ds_err *err);
int milvus_known_id(eng_store *s, const eng_image_in *in, const char *hash, int64_t *id,
                    ds_err *err);
int milvus_put_batch(eng_store *s, eng_store_item *items, int n, ds_err *err);
int milvus_sync(eng_store *s, ds_err *err);

#endif
