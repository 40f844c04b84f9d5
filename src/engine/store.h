/* store.h - where a collection's rows, fields and vectors live: one
 * interface, two implementations, chosen once when the engine opens (as
 * SQLite chooses a VFS, and the engine a blob store and a vector index).
 *
 *   store_embedded.c          the SQLite catalog (rows, patents, vectors: the
 *   store_embedded_search.c   truth) and an in-process vector index (src/index)
 *                             rebuilt from it; one data directory
 *   store_milvus.c            Milvus holds one row per image with its vector
 *   store_milvus_put.c        and its patent's fields (the seed's schema); the
 *                             catalog keeps only the collections and jobs
 *
 * Two levels, as SQLite's sqlite3_vfs and sqlite3_io_methods:
 *
 *   eng_backend   one per engine, opened with it (the Milvus client and
 *                 prefix; the embedded index kind). It checks names and
 *                 attaches each collection's store.
 *   eng_store     one per attached collection: the operations below.
 *
 * The engine keeps what is common to both: finding collections and their
 * models, embedding, the blob store and blob keys, the data directory's
 * store lock (eng__lock_stores), the arguments' checks, paging, and
 * grouping hits by patent (eng__group). It calls a store through the
 * eng__store_* wrappers (store.c), never through the table, and never asks
 * which implementation it has.
 *
 * Adding an operation (full-text search, duplicates, watch lists): add a
 * member at the end of eng_store_methods and its wrapper in store.c. An
 * implementation that leaves it NULL answers DS_EUNSUPPORTED ("not
 * supported", HTTP 501) naming the store and the operation; one that
 * supports it only partly answers DS_EUNSUPPORTED itself, saying why.
 *
 * Errors: every int operation returns 0, or -1 with err filled. DS_ENET:
 * a server (Milvus) is down or not answering; DS_ENOTFOUND: the named
 * image or patent is not stored; DS_EINVAL: the query asks what this
 * collection cannot answer (a filter on a field it lacks); DS_EUNSUPPORTED:
 * the store cannot do this at all.
 *
 * Threads: the operations may be called from any thread at once, except
 * detach. A store serialises its writers with e->add_lock (and put_batch
 * is called with the data directory's store lock held: eng__lock_stores).
 */
#ifndef DS_ENGINE_STORE_H
#define DS_ENGINE_STORE_H

#include "base/sha256.h"
#include "engine/engine_internal.h"

typedef struct eng_store_methods {
    int version;      /* 1 */
    const char *name; /* "embedded", "milvus": in messages */

    /* Free the store (the embedded one first writes its index file, so the
     * next start loads it). Nothing may use it at the same time. */
    void (*detach)(eng_store *s);

    /* Whether an image is stored: by file name, else patent_id +
     * image_index (when patent_id is not NULL), else content hash (when
     * not NULL); *known the strongest reason (CAT_KNOWN_NOT: not stored).
     * Sees everything this process stored, even when a search would not
     * find it yet. */
    int (*known)(eng_store *s, const char *file_name, const char *patent_id, int image_index,
                 const char *hash, cat_known *known, ds_err *err);

    /* For an add of `in` that found its image stored: the stored image's id
     * (by file name, else by content; 0 when unknown), and, where the store
     * can update rows, the patent `in` names given to a stored image that
     * has none (as attach_patent). */
    int (*known_id)(eng_store *s, const eng_image_in *in, const char *hash, int64_t *id,
                    ds_err *err);

    /* The content hash (sha256 hex) of the image stored as file_name into
     * out, or "" when it cannot be told (not stored, no hash kept). */
    int (*stored_hash)(eng_store *s, const char *file_name, char out[DS_SHA256_HEXLEN + 1],
                       ds_err *err);

    /* Store a batch (eng_store_batch's promises): each item is decided
     * (added, known, failed) with every other writer kept out; the added
     * items' blobs are put first, then their rows, exactly once: a row is
     * never written twice, even when the answer to a write was lost. The
     * caller holds eng__lock_stores. -1: no row of the batch was written
     * (every added is 0 again). */
    int (*put_batch)(eng_store *s, eng_store_item *items, int n, ds_err *err);

    /* Store patents' fields alone, in one transaction. A store whose
     * patents exist only as fields of image rows keeps nothing (0). */
    int (*put_patents)(eng_store *s, const cat_patent *const *patents, int n, ds_err *err);

    /* Give the image stored as file_name, if it has no patent, this one.
     * A store whose rows are not updated in place does nothing (0). */
    int (*attach_patent)(eng_store *s, const char *file_name, const char *patent_id,
                         int image_index, ds_err *err);

    /* Return once every row this process stored is found by the searches
     * of any process (embedded: at once, a committed row is; Milvus: when
     * it shows the last batch, bounded at 30 s, else DS_ENET). */
    int (*sync)(eng_store *s, ds_err *err);

    /* As sync, and make what is stored quick to load at the next start
     * (embedded: write the index file). */
    int (*save)(eng_store *s, ds_err *err);

    /* Rank the collection for n_views query vectors (n_views x dim, unit
     * length) under q's filter (applied before ranking), min_score, views
     * fusion and grouping (engine.h, eng_query): the results ranked
     * [*skipped, k) as the JSON array eng_search answers (k = q->offset +
     * q->top_k, already checked). A store may leave out up to q->offset
     * leading results before making their JSON (*skipped says how many);
     * the engine drops the rest of the offset. Sees every row committed
     * (embedded) or synced (Milvus) before it started, by any process. */
    int (*search)(eng_store *s, const float *vecs, int n_views, const eng_query *q, int k,
                  json_t **out, int *skipped, ds_err *err);

    /* The stored vector of the image called file_name into vec[dim];
     * DS_ENOTFOUND "no image called ..." when absent. vec NULL: only
     * check, where the store can do so cheaply, that the image is stored
     * (a store that cannot answers 0). */
    int (*stored_vector)(eng_store *s, const char *file_name, float *vec, ds_err *err);

    /* The file name of the image with this id into out[n]. */
    int (*image_name)(eng_store *s, int64_t id, char *out, size_t n, ds_err *err);

    /* The collection's statistics (eng_stats), a new JSON object. */
    int (*stats)(eng_store *s, json_t **out, ds_err *err);

    /* Images per Locarno class, in class order (cat_loc_counts). */
    int (*loc_counts)(eng_store *s, cat_loc_fn fn, void *ctx, ds_err *err);

    /* A patent with its images (eng_patent), a new JSON object;
     * DS_ENOTFOUND when absent. */
    int (*patent)(eng_store *s, const char *patent_id, json_t **out, ds_err *err);

    /* The index part of /health: h->index, h->index_kind (static),
     * h->index_error. May ask a server (within its time limit). */
    void (*health)(eng_store *s, eng_health *h);

    /* Search by words: the patents matching a parsed query
     * (src/text/query.h) that pass f (applied before ranking), best first
     * by BM25 with field weights, ranks [offset, offset + limit); each hit
     * with the query's words it holds and a snippet (cat_text_search's
     * promises and markers). *total (may be NULL): the matches in all.
     * Sees every row committed before it started, by any process. */
    int (*text_search)(eng_store *s, const struct tq_query *q, const cat_filter *f,
                       size_t offset, size_t limit, cat_text_hit **out, size_t *n,
                       int64_t *total, ds_err *err);
} eng_store_methods;

/* A collection's store. Implementations put it first in their own struct. */
struct eng_store {
    const eng_store_methods *m;
    eng *e;            /* the engine: its catalog, blob store and locks */
    eng_collection *c; /* what it stores: name, catalog id, model */
};

typedef struct eng_backend_methods {
    int version;      /* 1 */
    const char *name; /* "embedded", "milvus" */

    /* Whether this backend can hold a collection called name, beyond the
     * engine's own checks (length, blob keys): DS_EINVAL saying why not. */
    int (*check_name)(const eng_backend *b, const char *name, ds_err *err);

    /* Open collection c's store into *out (creating on the server what a
     * new collection needs; loading or rebuilding an embedded index). */
    int (*attach)(eng_backend *b, eng *e, eng_collection *c, eng_store **out, ds_err *err);

    /* Free the backend, after every store it attached is detached. */
    void (*close)(eng_backend *b);
} eng_backend_methods;

struct eng_backend {
    const eng_backend_methods *m;
};

/* The embedded backend: index_kind is ENG_INDEX_FLAT, _FLAT16 or _IVF. */
int eng__embedded_open(int index_kind, eng_backend **out, ds_err *err);

/* The Milvus backend: reached with cfg; prefix goes before each
 * collection's name in Milvus (NULL: none; letters, digits and '_', not
 * starting with a digit, else DS_EINVAL). */
int eng__milvus_open(const mv_config *cfg, const char *prefix, eng_backend **out, ds_err *err);

/* ---- the wrappers the engine calls (store.c) -------------------------------
 * Each calls the operation of the same name, or answers DS_EUNSUPPORTED
 * where the store has none. */
int eng__store_attach(eng *e, eng_collection *c, ds_err *err);
void eng__store_detach(eng_collection *c);
int eng__store_check_name(const eng *e, const char *name, ds_err *err);
int eng__store_known(eng_collection *c, const char *file_name, const char *patent_id,
                     int image_index, const char *hash, cat_known *known, ds_err *err);
int eng__store_known_id(eng_collection *c, const eng_image_in *in, const char *hash,
                        int64_t *id, ds_err *err);
int eng__store_stored_hash(eng_collection *c, const char *file_name,
                           char out[DS_SHA256_HEXLEN + 1], ds_err *err);
int eng__store_put_batch(eng_collection *c, eng_store_item *items, int n, ds_err *err);
int eng__store_put_patents(eng_collection *c, const cat_patent *const *patents, int n,
                           ds_err *err);
int eng__store_attach_patent(eng_collection *c, const char *file_name, const char *patent_id,
                             int image_index, ds_err *err);
int eng__store_sync(eng_collection *c, ds_err *err);
int eng__store_save(eng_collection *c, ds_err *err);
int eng__store_search(eng_collection *c, const float *vecs, int n_views, const eng_query *q,
                      int k, json_t **out, int *skipped, ds_err *err);
int eng__store_vector(eng_collection *c, const char *file_name, float *vec, ds_err *err);
int eng__store_image_name(eng_collection *c, int64_t id, char *out, size_t n, ds_err *err);
int eng__store_stats(eng_collection *c, json_t **out, ds_err *err);
int eng__store_loc_counts(eng_collection *c, cat_loc_fn fn, void *ctx, ds_err *err);
int eng__store_patent(eng_collection *c, const char *patent_id, json_t **out, ds_err *err);
void eng__store_health(eng_collection *c, eng_health *h);
int eng__store_text_search(eng_collection *c, const struct tq_query *q, const cat_filter *f,
                           size_t offset, size_t limit, cat_text_hit **out, size_t *n,
                           int64_t *total, ds_err *err);

#endif
