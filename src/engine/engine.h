/* engine.h - the search engine: model + catalog + vector index + blob store,
 * put together for `dinoseek serve` and `dinoseek search`.
 *
 *   add:     image bytes ─► preprocess ─► DINOv2 ─► blob store (original +
 *            300x300 thumbnail) ─► catalog (patent, image, vector) ─► index
 *   search:  image bytes ─► preprocess ─► DINOv2 ─► catalog filter ─► index
 *            top-k ─► min_score ─► (group by patent) ─► JSON
 *
 * Embedded defaults: the data directory holds catalog.sqlite3, blobs/ and
 * index/<collection>.idx. The catalog is the truth: an index file that is
 * missing, stale or corrupt is rebuilt from the vectors in SQLite at open.
 *
 * Thread safety: every function may be called from any thread. The model runs
 * one batch at a time (a mutex; it uses every core itself); searches of the
 * index run concurrently with each other and with adds.
 */
#ifndef DS_ENGINE_H
#define DS_ENGINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "blob/blob.h"
#include "catalog/catalog.h"
#include "image/image.h"

#define ENG_DEFAULT_COLLECTION "patent_images" /* the seed's collection name */

/* A further collection served by its own model (any architecture, so any
 * dimension), beside the default one. */
typedef struct eng_extra {
    const char *collection;
    const char *model_dir;
    img_mode preprocess;
} eng_extra;

typedef struct eng_config {
    const char *data_dir;    /* default "./data"; created if missing */
    const char *model_dir;   /* a Hugging Face model directory (required) */
    const char *collection;  /* default ENG_DEFAULT_COLLECTION */
    img_mode preprocess;     /* IMG_NATIVE (default) or IMG_SEED */
    int input_size;          /* default 224 */
    int threads;             /* model threads; default: every core */
    int index;               /* ENG_INDEX_FLAT (default), _FLAT16 or _IVF */
    const eng_extra *extra;  /* more collections with their own models */
    int n_extra;
} eng_config;

enum { ENG_INDEX_FLAT = 0, ENG_INDEX_FLAT16 = 1, ENG_INDEX_IVF = 2 };

typedef struct eng eng;

/* Open the data directory, load the models, and load or rebuild the index of
 * every collection made with one of them. Returns 0, or -1 with err.
 * Cost: model load + one pass over the stored vectors when rebuilding. */
int eng_open(const eng_config *cfg, eng **out, ds_err *err);
void eng_close(eng *e);

/* The default collection's name (static for the engine's lifetime). */
const char *eng_default_collection(const eng *e);
/* Whether the default model's weights are generated (similarity not
 * meaningful). */
int eng_generated_weights(const eng *e);

/* One image to add. */
typedef struct eng_image_in {
    const void *data;           /* the original file's bytes */
    size_t len;
    const char *file_name;      /* unique within the collection; the API's key */
    const cat_patent *patent;   /* its bibliographic data, stored (replacing what
                                   was there); or NULL */
    const char *patent_id;      /* when patent is NULL: the patent the image
                                   belongs to, created bare if absent, its
                                   stored data left as it is; or NULL */
    int image_index;            /* 0-based position among the patent's drawings */
} eng_image_in;

/* Add one image to a collection (NULL: the default). An image whose content
 * (sha256) or file name is already there is skipped: *added = 0. Nothing is
 * half-written: the blobs are put first, then patent + image + vector in one
 * catalog transaction, then the index. Returns 0, or -1 with err. */
int eng_add(eng *e, const char *collection, const eng_image_in *in, int64_t *id_out, int *added,
            ds_err *err);

typedef struct eng_query {
    const char *collection;     /* NULL: the default */
    const void *data;           /* the query image's bytes */
    size_t len;
    int top_k;                  /* images, or patents when grouped (1..1000) */
    float min_score;            /* hits below are dropped */
    int group_by_patent;
    cat_filter filter;          /* applied before ranking */
} eng_query;

typedef struct eng_timing {
    double decode_ms, embed_ms, search_ms, total_ms;
} eng_timing;

/* Search. *results receives a new JSON array (image hits, or patent groups
 * with their images). DS_EFORMAT / DS_ETOOBIG for a bad image (the HTTP
 * layer answers 415 / 413), DS_ENOTFOUND for an unknown collection. */
int eng_search(eng *e, const eng_query *q, json_t **results, eng_timing *t, ds_err *err);

/* Statistics of a collection (NULL: default) as a JSON object. */
int eng_stats(eng *e, const char *collection, json_t **out, ds_err *err);
/* Every collection, as a JSON array. */
int eng_collections(eng *e, json_t **out, ds_err *err);
/* A patent with all its images, as a JSON object (DS_ENOTFOUND if absent). */
int eng_patent(eng *e, const char *collection, const char *patent_id, json_t **out, ds_err *err);

/* The original (full) or the thumbnail of an image by file name. *data is
 * freed by the caller; info has the etag. */
int eng_image_bytes(eng *e, const char *collection, const char *file_name, int full, void **data,
                    size_t *len, blob_info *info, ds_err *err);

/* Whether the parts are up: for /health. */
typedef struct eng_health {
    int model, catalog, blobs, index;
} eng_health;
void eng_health_get(eng *e, eng_health *h);

#endif
