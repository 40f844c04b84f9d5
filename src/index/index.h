/* index.h - the vector index: one interface, implementations behind it.
 *
 * An index holds (id, vector) pairs: the id is the catalog's image row id,
 * the vector a unit-length float32[dim] embedding, so the inner product is
 * the cosine similarity. Implementations are tables of function pointers
 * (idx_vtable, as SQLite's VFS) chosen once at start-up:
 *
 *   idx_flat_new   exact search, every vector scored (float32 or float16 storage)
 *   idx_ivf_new    inverted file: k-means cells, nprobe cells scored per query
 *
 * and later a Milvus client behind the same table. Callers use the idx_*
 * wrappers below, never the table directly.
 *
 * Filters are applied BEFORE ranking: a filtered search returns k hits
 * whenever k vectors pass the filter (IVF scores cells, nearest first,
 * until they hold 10,000 passing vectors, or k if more: see ivf.c). One
 * query's results for any k up to 10,000 are prefixes of one ranking, so
 * pages cut from them agree.
 *
 * Thread safety: every function may be called from any thread. Searches,
 * stats and save take a shared (read) lock and run concurrently; add and
 * remove take the exclusive (write) lock. A search runs on up to
 * ops_max_threads() OpenMP threads. idx_free must not race with anything.
 *
 * Errors: functions return 0 on success, -1 on failure with err filled
 * (err may be NULL).
 */
#ifndef DS_INDEX_H
#define DS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/filter.h"

typedef struct idx_index idx_index;

/* One result: the item's id and its inner product with the query. */
typedef struct idx_hit {
    int64_t id;
    float score;
} idx_hit;

/* Which ids a search may return: a description, never a callback, so that
 * an index in another process (Milvus) can apply it as well as one in ours.
 * Both parts are optional and combine with AND; a NULL filter (or an
 * all-zero one) allows everything.
 *
 * - ids/n_ids: when ids != NULL only these ids are candidates, and only
 *   they are scored (O(n_ids·dim)). Must be sorted ascending; duplicates
 *   and ids not in the index are ignored. n_ids == 0 with ids != NULL
 *   allows nothing.
 * - where: field conditions (base/filter.h). The embedded kinds (flat,
 *   IVF) hold no fields: their caller compiles `where` into the id list
 *   through the catalog (cat_filter_ids) and they refuse a non-empty one
 *   (DS_EUNSUPPORTED); a kind that holds the fields compiles it itself.
 *
 * Owned by the caller; read only during the call. */
typedef struct idx_filter {
    const int64_t *ids;
    size_t n_ids;
    const ds_filter *where;
} idx_filter;

typedef enum idx_kind {
    IDX_FLAT = 1,
    IDX_IVF = 2,
} idx_kind;

typedef struct idx_stats {
    const char *kind;   /* "flat", "ivf" (static string) */
    int dim;
    size_t count;       /* vectors held */
    size_t bytes;       /* memory held by vectors, ids and tables */
    int f16;            /* vectors stored as float16 */
    int nlist, nprobe;  /* IVF cells and cells probed (0 for flat) */
    int trained;        /* IVF: centroids trained (flat: 1) */
    size_t trained_on;  /* IVF: count when last trained */
    int prescan;        /* searches pre-scan 8-bit codes (exact all the same) */
    int mapped;         /* vectors served from the mapped index file */
} idx_stats;

/* The implementation table. Version 1. Implementations embed
 * `struct idx_index` first in their own struct. */
typedef struct idx_vtable {
    int version;
    const char *name;
    int takes_where;        /* compiles idx_filter.where itself (holds fields) */
    int (*add)(idx_index *ix, const int64_t *ids, const float *vecs, size_t n, ds_err *err);
    int (*remove)(idx_index *ix, const int64_t *ids, size_t n, ds_err *err);
    int (*search)(idx_index *ix, const float *queries, int nq, int k, const idx_filter *filter,
                  idx_hit *hits, int *n_out, ds_err *err);
    int (*save)(idx_index *ix, const char *path, uint64_t tag, ds_err *err);
    void (*stats)(idx_index *ix, idx_stats *out);
    void (*free)(idx_index *ix);
} idx_vtable;

struct idx_index {
    const idx_vtable *vt;
    int dim;
    _Atomic int prescan_off; /* idx_set_prescan(ix, 0) (0 after calloc: on) */
};

/* A new empty exact index of dim-dimensional vectors; use_f16 stores them
 * as IEEE float16 (half the memory and bandwidth; scores within ~1e-3).
 * Returns NULL on failure. Caller frees with idx_free. */
idx_index *idx_flat_new(int dim, int use_f16, ds_err *err);

/* A new empty IVF index: nlist cells (0 = 128), nprobe probed per query
 * (0 = 16). Untrained, it searches exactly; it trains k-means (k-means++
 * seeding, fixed seed, Lloyd iterations on a sample) once it holds
 * 32·nlist vectors, and retrains when it has grown 4× since. Training runs
 * inside idx_add under the write lock: O(sample·nlist·dim·iters) plus one
 * assignment pass O(count·nlist·dim). Returns NULL on failure. */
idx_index *idx_ivf_new(int dim, int nlist, int nprobe, ds_err *err);

/* Change the IVF index's cells probed per query (1..nlist); -1 with
 * DS_EINVAL for another kind. Write lock. */
int idx_ivf_set_nprobe(idx_index *ix, int nprobe, ds_err *err);

/* Searches of flat and IVF indexes pre-scan 8-bit codes of the vectors and
 * rescore exactly only those that can reach the top k: the hits are those
 * of a float scan, bit for bit, from a quarter of the memory traffic (see
 * internal.h). on = 0 turns this off (to compare them; the codes are still
 * kept), for the searches that start after the call; no effect on a kind
 * without codes. -1 with DS_EINVAL only for a NULL index. */
int idx_set_prescan(idx_index *ix, int on, ds_err *err);

/* Add n vectors (float32[n·dim], unit length) under ids[n]. An id already
 * present has its vector replaced. Copies the data. O(n·dim) amortised
 * (plus training for IVF, see above). Write lock. */
int idx_add(idx_index *ix, const int64_t *ids, const float *vecs, size_t n, ds_err *err);

/* Remove ids[n]; ids not present are ignored. O(n·dim). Write lock. */
int idx_remove(idx_index *ix, const int64_t *ids, size_t n, ds_err *err);

/* The k best hits for one query (float32[dim]): hits[k] is filled with
 * *n_out = min(k, number passing the filter) entries, sorted by score
 * descending, ties by id ascending. filter may be NULL. Flat costs
 * O(count·dim) (O(n_ids·dim) with an id list); IVF O(nlist·log nlist +
 * nlist·dim + max(count·nprobe/nlist, 10000, k)·dim). k must be
 * 1..100000. Read lock. */
int idx_search(idx_index *ix, const float *query, int k, const idx_filter *filter, idx_hit *hits,
               int *n_out, ds_err *err);

/* nq queries at once (float32[nq·dim]): hits[nq·k], n_out[nq]; row q of
 * hits holds query q's results as idx_search would give them. The flat
 * index reads each vector once for all queries. Read lock. */
int idx_search_batch(idx_index *ix, const float *queries, int nq, int k,
                     const idx_filter *filter, idx_hit *hits, int *n_out, ds_err *err);

/* Write the index to path atomically: path.tmp, fsync, rename, fsync of the
 * directory. The file has a header (magic, version, kind, dim, count, tag)
 * and an FNV-1a-64 checksum over header and payload. tag is the caller's
 * (e.g. the catalog's change counter) and comes back from idx_load for the
 * staleness check. O(count·dim). Read lock. */
int idx_save(idx_index *ix, const char *path, uint64_t tag, ds_err *err);

/* Open an index file written by idx_save (of any kind): map it, validate
 * header, sizes and checksum, and serve a new index (*out, caller frees
 * with idx_free) from the mapping: the vectors and codes are read in place,
 * from the page cache, not copied (only the id map is built), and copied
 * into memory of their own at the index's first change. The file must not
 * be modified in place while mapped (idx_save replaces by rename, which is
 * safe). expect_dim > 0 must match the file's dim and expect_tag
 * the file's tag; otherwise, and when the file is missing, truncated or
 * corrupt, returns -1 with a message naming the problem (DS_ENOTFOUND,
 * DS_EFORMAT, DS_ECHECKSUM, DS_EINVAL for a stale tag) and the caller
 * rebuilds from the catalog. O(file size). */
int idx_load(const char *path, int expect_dim, uint64_t expect_tag, idx_index **out, ds_err *err);

/* Fill *out. O(1). Read lock. */
void idx_stats_get(idx_index *ix, idx_stats *out);

/* The implementation's name ("flat", "ivf"). */
const char *idx_name(const idx_index *ix);

/* Free the index and everything it holds. NULL is a no-op. */
void idx_free(idx_index *ix);

#endif
