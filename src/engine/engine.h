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
#include "milvus/milvus.h"

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
    const char *precision;   /* the forward pass's: "f32", "bf16" or "auto"; NULL: auto,
                                but f32 (the HF-equal reference) with IMG_SEED. auto is
                                the precision the collection was made in, else the
                                fastest this CPU runs natively (model/gemm.h) */
    int index;               /* ENG_INDEX_FLAT (default), _FLAT16, _IVF or _MILVUS */
    mv_config milvus;        /* how Milvus is reached (ENG_INDEX_MILVUS) */
    const char *milvus_prefix; /* before each collection's name in Milvus (several
                                  deployments on one Milvus); NULL: none */
    const eng_extra *extra;  /* more collections with their own models */
    int n_extra;
    const char *blobs;       /* blob store: NULL (data_dir/blobs), a directory,
                                "dir:PATH" or "s3://bucket/prefix" */
    blob_s3_config s3;       /* how an s3:// store is reached */
} eng_config;

/* ENG_INDEX_MILVUS: Milvus holds each collection's rows (the image, its
 * vector and its patent's fields, in the seed's schema) and searches them;
 * the local catalog then keeps only the collections' models and the import
 * jobs (see docs/architecture.md), so any number of servers can share one
 * Milvus and one blob store. */
enum { ENG_INDEX_FLAT = 0, ENG_INDEX_FLAT16 = 1, ENG_INDEX_IVF = 2, ENG_INDEX_MILVUS = 3 };

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

/* The file name of the image with this id into out[n] (what an add that
 * found its content stored under another name answers with). Embedded
 * catalog only: DS_EUNSUPPORTED on Milvus. */
int eng_image_name(eng *e, const char *collection, int64_t id, char *out, size_t n,
                   ds_err *err);

/* One view of the queried product: an uploaded image, or an image of the
 * collection by file name; optionally only a region of it. */
typedef struct eng_view {
    const void *data;           /* the image's bytes, or NULL and: */
    size_t len;
    const char *file_name;      /* an image already in the collection */
    int crop_set;
    float crop[4];              /* x, y, w, h as fractions of the image */
} eng_view;

#define ENG_MAX_VIEWS 8
#define ENG_MAX_GROUPED 1000 /* offset + top_k of a search grouped by patent */

/* Several views are fused: an image's score is its best cosine over the
 * views; a patent's (grouped) the mean over the views of each view's best
 * match among the patent's drawings, so that patents matching every view
 * come first. Scores are exact (from the stored vectors). */
typedef struct eng_query {
    const char *collection;     /* NULL: the default; or several, "a,b" (below) */
    const void *data;           /* the query image's bytes (when n_views is 0) */
    size_t len;
    const eng_view *views;      /* or 1..ENG_MAX_VIEWS views */
    int n_views;
    int offset;                 /* skip this many results first (paging), 0..9000;
                                   grouped, offset + top_k <= ENG_MAX_GROUPED */
    int top_k;                  /* images, or patents when grouped (1..1000) */
    float min_score;            /* hits below are dropped */
    int group_by_patent;
    cat_filter filter;          /* applied before ranking */

    /* Search by words (src/text/query.h's language), alone or with the
     * picture. Words rank patents, so such a search is always grouped by
     * patent (group_by_patent is implied). With a picture too, each leg
     * ranks its `window` best patents under the filter (the picture's under
     * min_score too) and the two rankings are fused (engine/fusion.h). */
    const char *text;           /* NULL or "": no words */
    int fusion;                 /* FUSE_RRF (0) or FUSE_WEIGHTED */
    int rrf_k;                  /* RRF's k, 1..ENG_MAX_GROUPED; 0: FUSE_DEFAULT_RRF_K */
    int window;                 /* each leg's depth, 1..ENG_MAX_GROUPED; 0: ENG_WINDOW;
                                   raised to offset + top_k where that is deeper */
    float alpha;                /* weighted: the picture's weight, 0..1 (the words'
                                   1 - alpha); used when alpha_set, else 0.5 */
    int alpha_set;
    int explain;                /* each result gets its rank and score in each leg */
} eng_query;

#define ENG_WINDOW 100 /* a hybrid search's default depth per leg */

/* What a search measured. */
typedef struct eng_timing {
    double decode_ms, embed_ms, search_ms, total_ms;
    double text_ms;             /* the words' ranking (in search_ms too) */
    int64_t text_matches;       /* words: the patents matching them in all; -1 without words */
    const char *merged_by;      /* several collections: "score" or "rrf" (static); else NULL */
} eng_timing;

/* Several collections searched at once: q->collection "a,b". A name that
 * exists whole (commas and all: made before commas were refused) is that
 * one collection; otherwise the text is split on commas (spaces around a
 * name dropped). Each collection is searched as a single one would be (the
 * same parameters, its list as deep as offset + top_k; grouping by patent
 * stays within a collection), each upload embedded once per distinct model,
 * and the lists merged (engine/fusion.h): by score (FUSE_SCORE) when every
 * collection has the same model and the search is by picture alone, since
 * those cosines are one measure; otherwise by rank fusion (RRF, k
 * FUSE_DEFAULT_RRF_K), since two models' cosines, or BM25 scores and
 * fused ranks, do not compare across collections. The page is cut from the
 * merged list. Every result gets "collection": its collection's name; under
 * RRF its "score" is the fused one, and "collection_score" and
 * "collection_rank" keep its own. A stored image as a view (file_name) is
 * one of the first collection's. */
#define ENG_MAX_SEARCHED 16

typedef struct eng_names {
    const char *name[ENG_MAX_SEARCHED]; /* static for the engine's lifetime */
    int n;
} eng_names;

/* The collections q->collection names, in its order (NULL or "": the
 * default alone). DS_ENOTFOUND naming an unknown one; DS_EINVAL for a name
 * listed twice, an empty name or more than ENG_MAX_SEARCHED. */
int eng_search_collections(eng *e, const char *spec, eng_names *out, ds_err *err);

/* Search. *results receives a new JSON array (image hits, or patent groups
 * with their images). DS_EFORMAT / DS_ETOOBIG for a bad image (the HTTP
 * layer answers 415 / 413), DS_ENOTFOUND for an unknown collection. */
int eng_search(eng *e, const eng_query *q, json_t **results, eng_timing *t, ds_err *err);

/* Statistics of a collection (NULL: default) as a JSON object. */
int eng_stats(eng *e, const char *collection, json_t **out, ds_err *err);
/* Every collection, as a JSON array. */
int eng_collections(eng *e, json_t **out, ds_err *err);
/* The images per Locarno class of a collection, in class order (see
 * cat_loc_counts). */
int eng_loc_counts(eng *e, const char *collection, cat_loc_fn fn, void *ctx, ds_err *err);
/* A patent with all its images, as a JSON object (DS_ENOTFOUND if absent). */
int eng_patent(eng *e, const char *collection, const char *patent_id, json_t **out, ds_err *err);

/* An image by file name: its thumbnail (300 px JPEG), its original as
 * stored, or a large JPEG rendition (at most ENG_LARGE_SIDE px, for
 * browsers, which show no TIFF; made on first request and kept). *data is
 * freed by the caller; info has the etag and the content type. */
enum { ENG_IMAGE_THUMB = 0, ENG_IMAGE_FULL = 1, ENG_IMAGE_LARGE = 2 };
#define ENG_LARGE_SIDE 1600
int eng_image_bytes(eng *e, const char *collection, const char *file_name, int size,
                    void **data, size_t *len, blob_info *info, ds_err *err);

/* Whether the parts are up: for /health. Each remote part is asked (a
 * request with its own time limit), so a part that is down or answering
 * garbage shows as down, with why. */
typedef struct eng_health {
    int model, catalog, blobs, index;  /* 1: up */
    const char *blobs_kind;            /* "dir" or "s3" (static) */
    const char *index_kind;            /* "flat", "ivf", "milvus" (static) */
    char blobs_error[1024], index_error[1024]; /* why a part is down, or "" */
} eng_health;
void eng_health_get(eng *e, eng_health *h);

/* ---- adding in batches (the import pipeline) -----------------------------
 *
 * eng_add does everything for one image. An import splits the same work so
 * that each stage runs where it is cheapest: eng_prepare (decode, tensor,
 * thumbnail) on worker threads, eng_embed_tensors on a batch (one forward
 * pass), eng_store_batch for the batch (blobs, then one catalog
 * transaction, then the index). The result is the same as eng_add's. */

/* The model input side and vector dimension of a collection (NULL: default). */
int eng_collection_shape(eng *e, const char *collection, int *input_size, int *dim,
                         ds_err *err);

/* An image decoded for storing: its tensor and its thumbnail. */
typedef struct eng_prepared {
    float *px;              /* 3 x S x S, the collection's preprocessing */
    void *thumb;            /* the 300x300 JPEG thumbnail */
    size_t thumb_len;
} eng_prepared;

/* Decode an image for a collection. Thread-safe, uses no lock; one decode.
 * DS_EMEDIA for an image that cannot be read. *out is freed with
 * eng_prepared_clear. */
int eng_prepare(eng *e, const char *collection, const void *data, size_t len,
                eng_prepared *out, ds_err *err);
void eng_prepared_clear(eng_prepared *p);

/* Run the collection's model on n tensors stored back to back (n x 3 x S x
 * S) and write n L2-normalised vectors into vecs (n x dim). Waits its turn
 * with searches. */
int eng_embed_tensors(eng *e, const char *collection, const float *px, int n, float *vecs,
                      ds_err *err);

/* Whether an image is already stored (by file name, patent_id +
 * image_index, or content hash): *known != CAT_KNOWN_NOT. */
int eng_image_known(eng *e, const char *collection, const char *file_name,
                    const char *patent_id, int image_index, const char *hash,
                    cat_known *known, ds_err *err);

/* One embedded image for eng_store_batch. */
typedef struct eng_store_item {
    eng_image_in in;        /* bytes, file name, patent or patent_id, index */
    const char *hash;       /* sha256 hex of in.data */
    const void *thumb;      /* from eng_prepare */
    size_t thumb_len;
    const float *vec;       /* dim floats */
    /* out */
    int added;              /* 1 stored; 0 skipped or failed */
    cat_known known;        /* why skipped: it was already there */
    int failed;             /* 1: err says why (only this item) */
    ds_err err;
    int64_t id;
} eng_store_item;

/* Store a batch: originals and thumbnails first, then every image (and its
 * patent) in one catalog transaction, then the index. An item already
 * there is skipped; an item whose files cannot be written fails alone.
 * Returns 0, or -1 with err when the transaction failed (then nothing of
 * the batch is in the catalog). */
int eng_store_batch(eng *e, const char *collection, eng_store_item *items, int n,
                    ds_err *err);

/* Store patents' bibliographic data alone (patents none of whose drawings
 * could be stored), in one transaction. */
int eng_store_patents(eng *e, const char *collection, const cat_patent *const *patents,
                      int n, ds_err *err);

/* Give an image stored without a patent its patent (patent_id, made if
 * absent) and image_index (cat_image_set_patent: writes only then). On
 * Milvus rows are not updated in place: nothing is done there. */
int eng_attach_patent(eng *e, const char *collection, const char *file_name,
                      const char *patent_id, int image_index, ds_err *err);

/* Remove the temporary files that puts killed mid-way left among the
 * collection's originals and thumbnails (blob_sweep); *removed counts them.
 * The import calls it at its start, holding the collection's lock. */
int eng_sweep_blobs(eng *e, const char *collection, size_t *removed, ds_err *err);

/* Write the collection's index file now (the import does it at the end; a
 * crash before only costs a rebuild from the catalog at the next open). */
int eng_save_index(eng *e, const char *collection, ds_err *err);

/* The catalog the engine uses, for jobs and lookups; its data directory;
 * a collection's catalog id (-1 with err when unknown). */
cat_db *eng_catalog(eng *e);
const char *eng_data_dir(const eng *e);
int64_t eng_collection_id(eng *e, const char *collection, ds_err *err);

#endif
