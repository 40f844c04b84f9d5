/* engine_internal.h - what the files of src/engine/ share. */
#ifndef DS_ENGINE_INTERNAL_H
#define DS_ENGINE_INTERNAL_H

#include <pthread.h>

#include "engine/engine.h"
#include "model/vit.h"

#define ENG_MAX_COLLECTIONS 64
#define ENG_MAX_MODELS 8
#define ENG_MAX_BATCH 8          /* images per forward pass when requests queue */

/* One image waiting for the model. */
typedef struct eng_job {
    const float *px;             /* its preprocessed tensor */
    float *vec;                  /* where its vector goes */
    int done, rc;
    ds_err err;
    struct eng_job *next;
} eng_job;

/* A loaded model and the queue in front of it. Its activation buffers are
 * not shareable, so one forward pass runs at a time; the requests that
 * arrived meanwhile go in the next pass together (up to ENG_MAX_BATCH, in
 * arrival order): under load the model runs batches, which cost less per
 * image than one image at a time. */
typedef struct eng_model {
    char id[256];                /* stored with each collection it embeds */
    vit_model *vit;
    img_opts img;                /* its preprocessing */
    int dim;
    gemm_precision precision;    /* of its forward pass (model/gemm.h) */
    pthread_mutex_t lock;        /* guards the queue and busy */
    pthread_cond_t changed;      /* a batch finished */
    eng_job *head, *tail;        /* waiting, oldest first */
    int busy;                    /* a thread is running a batch */
    float *batch_px;             /* [ENG_MAX_BATCH, 3, S, S] */
    float *batch_vec;            /* [ENG_MAX_BATCH, dim] */
} eng_model;

/* A collection this engine can search: its catalog row, the store of its
 * rows and vectors (store.h) and the model its vectors come from. */
typedef struct eng_store eng_store;     /* store.h */
typedef struct eng_backend eng_backend; /* store.h */

typedef struct eng_collection {
    int64_t id;
    char name[128];
    eng_store *store;            /* embedded or Milvus, chosen at attach */
    eng_model *model;
} eng_collection;

struct eng {
    char data_dir[2048];
    eng_model models[ENG_MAX_MODELS];
    int n_models;                /* models[0] is the default collection's */
    cat_db *db;
    blob_store *blobs;
    eng_backend *backend;        /* embedded or Milvus (store.h) */
    pthread_mutex_t add_lock;    /* one add at a time: from "is it there?" to
                                    the index, so two uploads of one name
                                    cannot both write its files; guards the
                                    stores' own state too (store.h) */
    pthread_mutex_t store_lock;  /* with an flock of store_fd: one store at a
                                    time across the processes sharing the
                                    data directory (eng__lock_stores) */
    int store_fd;                /* <data_dir>/adds.lock, or -1 */
    pthread_mutex_t colls_lock;  /* one attach of new collections at a time */
    eng_collection colls[ENG_MAX_COLLECTIONS];
    _Atomic int n_colls;         /* grows only: a collection another process
                                    made later is attached on first use (each
                                    slot is filled before n_colls counts it) */
    int default_coll;            /* index into colls */
};

/* The collection called name (NULL: the default), or NULL with DS_ENOTFOUND.
 * A name not attached yet is looked for in the catalog first (made by
 * another process since this one opened). */
eng_collection *eng_find(eng *e, const char *name, ds_err *err);

/* Attach the catalog's collections made since (eng_collections lists them). */
int eng__attach_new_collections(eng *e, ds_err *err);

/* Preprocess (with opts, or the model's own when NULL: a crop changes them)
 * and embed one image with model m into vec[m->dim]. */
int eng_embed(eng_model *m, const void *data, size_t len, const img_opts *opts, float *vec,
              double *decode_ms, double *embed_ms, ds_err *err);

/* Embed one preprocessed tensor through the model's queue. */
int eng__embed_px(eng_model *m, const float *px, float *vec, ds_err *err);

double eng_now_ms(void);

/* The collections collection=SPEC names (engine.h, eng_search_collections). */
int eng__resolve_collections(eng *e, const char *spec, eng_collection **out, int *n,
                             ds_err *err);

/* One view's vector by model m into vec[m->dim]: an upload embedded; a
 * stored image of collection src its stored vector (src of model m, not
 * cropped), or else its original embedded by m. */
int eng__view_vector(eng *e, eng_collection *src, eng_model *m, const eng_view *v, float *vec,
                     eng_timing *t, ds_err *err);

/* Search n (2..ENG_MAX_SEARCHED) collections and merge their lists
 * (multi.c); q's checks are done. */
int eng__search_multi(eng *e, eng_collection *const *cs, int n, const eng_query *q,
                      const eng_view *views, int n_views, json_t **results, eng_timing *t,
                      ds_err *err);

/* Search by words, alone (vecs NULL) or with the picture's n_views vectors
 * (words.c); q's other checks are done. */
int eng__search_words(eng_collection *c, const eng_query *q, const float *vecs, int n_views,
                      json_t **results, eng_timing *t, ds_err *err);

/* Take (and give back) the right to store images in this data directory:
 * from "is it there?" to the committed row, no other thread of this process
 * nor any other process on the data directory stores one, so two writers
 * of one file name never overwrite (or, failing, delete) each other's
 * blobs. Blocks while another process stores a batch. */
int eng__lock_stores(eng *e, ds_err *err);
void eng__unlock_stores(eng *e);

/* The blob keys of an image's original and thumbnail (buffers of
 * BLOB_KEY_MAX + 1). The whole keys are checked, never cut to fit: a cut key
 * is another name's (two long names overwrite one object) or hides a bad
 * tail. DS_EINVAL naming the file name (its start) and the reason. */
int eng__blob_keys(const eng_collection *c, const char *file_name, char *orig, char *thumb,
                   ds_err *err);

/* Shared by the stores: result JSON in the seed's shape (query.c). */
void eng__page_num(const char *file_name, char out[16]);
json_int_t eng__yyyymmdd(const char *iso);
json_t *eng__image_url(const char *file_name, int thumbnail);
json_t *eng__group(json_t *flat, int k);
/* Whether items[i] repeats an earlier added item of its batch. */
cat_known eng__repeats_earlier(const eng_store_item *items, int i);

#endif
