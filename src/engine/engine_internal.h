/* engine_internal.h - what the files of src/engine/ share. */
#ifndef DS_ENGINE_INTERNAL_H
#define DS_ENGINE_INTERNAL_H

#include <pthread.h>

#include "engine/engine.h"
#include "index/index.h"
#include "model/vit.h"

#define ENG_MAX_COLLECTIONS 64

/* A collection this engine can search: its catalog row and its index. */
typedef struct eng_collection {
    int64_t id;
    char name[128];
    idx_index *index;
} eng_collection;

struct eng {
    char data_dir[2048];
    char model_id[256];
    img_opts img;
    int dim;
    int index_kind;              /* ENG_INDEX_* */
    vit_model *model;
    pthread_mutex_t model_lock;  /* the model's buffers are not shareable; */
    pthread_cond_t model_turn;   /* requests take turns in arrival order */
    unsigned long next_ticket, now_serving;
    cat_db *db;
    blob_store *blobs;
    pthread_mutex_t colls_lock;  /* guards colls[] and n_colls */
    eng_collection colls[ENG_MAX_COLLECTIONS];
    int n_colls;
    int default_coll;            /* index into colls */
};

/* The collection called name (NULL: the default), or NULL with DS_ENOTFOUND. */
eng_collection *eng_find(eng *e, const char *name, ds_err *err);

/* Preprocess and embed one image into vec[dim]. */
int eng_embed(eng *e, const void *data, size_t len, float *vec, double *decode_ms,
              double *embed_ms, ds_err *err);

double eng_now_ms(void);

#endif
