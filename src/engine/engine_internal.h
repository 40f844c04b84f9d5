/* engine_internal.h - what the files of src/engine/ share. */
#ifndef DS_ENGINE_INTERNAL_H
#define DS_ENGINE_INTERNAL_H

#include <pthread.h>

#include "engine/engine.h"
#include "index/index.h"
#include "model/vit.h"

#define ENG_MAX_COLLECTIONS 64
#define ENG_MAX_MODELS 8

/* A loaded model and the queue in front of it: its activation buffers are
 * not shareable, so requests take turns, in arrival order. */
typedef struct eng_model {
    char id[256];                /* stored with each collection it embeds */
    vit_model *vit;
    img_opts img;                /* its preprocessing */
    int dim;
    pthread_mutex_t lock;
    pthread_cond_t turn;
    unsigned long next_ticket, now_serving;
} eng_model;

/* A collection this engine can search: its catalog row, its index and the
 * model its vectors come from. */
typedef struct eng_collection {
    int64_t id;
    char name[128];
    idx_index *index;
    eng_model *model;
} eng_collection;

struct eng {
    char data_dir[2048];
    int index_kind;              /* ENG_INDEX_* */
    eng_model models[ENG_MAX_MODELS];
    int n_models;                /* models[0] is the default collection's */
    cat_db *db;
    blob_store *blobs;
    pthread_mutex_t add_lock;    /* one add at a time: from "is it there?" to
                                    the index, so two uploads of one name
                                    cannot both write its files */
    eng_collection colls[ENG_MAX_COLLECTIONS];
    int n_colls;                 /* fixed after eng_open */
    int default_coll;            /* index into colls */
};

/* The collection called name (NULL: the default), or NULL with DS_ENOTFOUND. */
eng_collection *eng_find(eng *e, const char *name, ds_err *err);

/* Preprocess and embed one image with model m into vec[m->dim]. */
int eng_embed(eng_model *m, const void *data, size_t len, float *vec, double *decode_ms,
              double *embed_ms, ds_err *err);

double eng_now_ms(void);

#endif
