/* engine_internal.h - what the files of src/engine/ share. */
#ifndef DS_ENGINE_INTERNAL_H
#define DS_ENGINE_INTERNAL_H

#include <pthread.h>

#include "engine/engine.h"
#include "index/index.h"
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

/* A collection this engine can search: its catalog row, its index and the
 * model its vectors come from. */
typedef struct eng_milvus_coll eng_milvus_coll; /* on_milvus.c */

typedef struct eng_collection {
    int64_t id;
    char name[128];
    idx_index *index;            /* embedded; NULL on Milvus */
    eng_milvus_coll *mv;         /* on Milvus; NULL embedded */
    eng_model *model;
    /* Freshness of the embedded index (guarded by e->add_lock). Other
     * processes commit rows too: a search first compares the catalog's
     * data_version with the one seen last, and when it moved, adds the
     * rows above seen_id (eng__catch_up). */
    int64_t max_id;              /* highest id the index holds: with its
                                    count, the tag its file is saved with */
    int64_t seen_id;             /* every catalog row up to here is in it */
    _Atomic int64_t data_version; /* cat_data_version when it last looked */
} eng_collection;

struct eng {
    char data_dir[2048];
    int index_kind;              /* ENG_INDEX_* */
    eng_model models[ENG_MAX_MODELS];
    int n_models;                /* models[0] is the default collection's */
    cat_db *db;
    blob_store *blobs;
    mv_client *mv;               /* ENG_INDEX_MILVUS */
    char mv_prefix[128];         /* before each collection's name in Milvus */
    pthread_mutex_t add_lock;    /* one add at a time: from "is it there?" to
                                    the index, so two uploads of one name
                                    cannot both write its files; guards the
                                    collections' freshness fields too */
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

/* The id of the stored image with this file name, or else this content. */
int eng__known_id(eng *e, const eng_collection *c, const char *file_name, const char *hash,
                  int64_t *id_out, ds_err *err);

double eng_now_ms(void);

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

/* eng_store_batch with eng__lock_stores held. */
int eng__store_batch_locked(eng *e, eng_collection *c, eng_store_item *items, int n,
                            ds_err *err);

/* Catch up, then write a collection's index file, tagged with what the
 * index holds (never with a catalog state it may lack). Call with
 * e->add_lock held (or alone, as eng_close). */
int eng__save_index(eng *e, eng_collection *c, ds_err *err);

/* Add to an embedded index the rows other processes committed since it
 * last looked; O(1) (one PRAGMA) when none did. Every search and stats
 * call does this first, so a search sees every row committed before it
 * started. No-op on Milvus (its index is shared). Takes e->add_lock. */
int eng__catch_up(eng *e, eng_collection *c, ds_err *err);

/* Shared by search.c and on_milvus.c: result JSON in the seed's shape. */
void eng__page_num(const char *file_name, char out[16]);
json_int_t eng__yyyymmdd(const char *iso);
json_t *eng__image_url(const char *file_name, int thumbnail);
json_t *eng__group(json_t *flat, int k);
/* Whether items[i] repeats an earlier added item of its batch. */
cat_known eng__repeats_earlier(const eng_store_item *items, int i);

/* ---- the engine on Milvus (on_milvus.c) ----------------------------------
 * Each function does for a collection on Milvus what its namesake does
 * for an embedded one. */
int engm_attach(eng *e, eng_collection *c, ds_err *err);
void engm_detach(eng_collection *c);
int engm_known(eng *e, eng_collection *c, const char *file_name, const char *patent_id,
               int image_index, const char *hash, cat_known *known, int64_t *id, ds_err *err);
int engm_store_batch(eng *e, eng_collection *c, eng_store_item *items, int n, ds_err *err);
/* Wait until what this process stored is visible to searches. */
int engm_sync(eng *e, eng_collection *c, ds_err *err);
int engm_search(eng *e, eng_collection *c, const float *vecs, int n_views, const eng_query *q,
                int k, json_t **out, ds_err *err);
int engm_stored_vector(eng *e, eng_collection *c, const char *file_name, float *vec,
                       ds_err *err);
int engm_stats(eng *e, eng_collection *c, json_t **out, ds_err *err);
int engm_loc_counts(eng *e, eng_collection *c, cat_loc_fn fn, void *ctx, ds_err *err);
int engm_patent(eng *e, eng_collection *c, const char *patent_id, json_t **out, ds_err *err);

#endif
