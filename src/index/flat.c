/* flat.c - the exact index: every candidate vector is scored.
 *
 * Storage is two parallel arrays, ids[n] and rows[n·dim] (float32 or
 * float16), kept dense: a removal moves the last row into the hole. An
 * id → slot map finds a row by id (for updates, removals and id-list
 * filters).
 *
 * A search without an id list splits the rows into one contiguous range per
 * OpenMP thread; each thread scores blocks of SCAN_BLOCK rows against every
 * query (the block stays in cache across queries) into its own top-k heaps,
 * and the heaps are merged at the end. A filter is tested on every row of a
 * block before scoring, and only the rows it keeps are scored (a selective
 * predicate then costs little more than its calls). With an id list
 * shorter than an eighth of the rows, only the listed rows are scored.
 *
 * From IDX_SQ8_MIN_ROWS vectors on, every row also has an 8-bit code and an
 * error bound (codes[n·dim], bounds[n]), and an unfiltered search scans the
 * codes and rescores exactly only the rows that can reach the top k (see
 * sq8.c): the same hits as the float scan, from a quarter of the bytes.
 * The scale is fitted on every row held and refitted when the count has
 * grown IDX_SQ8_REFIT_GROWTH× since; a row added in between that falls
 * outside the scale is clamped, and its larger bound keeps it exact.
 *
 * A loaded index serves ids, rows, codes and bounds from the mapped file
 * (f->map) and copies them into memory of its own before its first change.
 */
#include "index/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "model/ops.h"
#include "model/safetensors.h"

enum { SCAN_BLOCK = 256, PARALLEL_MIN_ROWS = 16384 };

typedef struct flat {
    idx_index base;
    int f16;
    pthread_rwlock_t lock;
    size_t n, cap;
    int64_t *ids;   /* [cap] */
    void *rows;     /* [cap·dim] float or uint16_t (float16) */
    idx_map slots;  /* id → slot */
    idx_sq8 sq;     /* the codes' scale; sq.trained_on == 0: no codes */
    uint8_t *codes; /* [cap·dim] while sq is trained */
    float *bounds;  /* [cap] */
    void *map;      /* the index file ids, rows, codes and bounds are served
                       from (read only), or NULL once they are our own */
    size_t map_len;
} flat;

static const idx_vtable flat_vtable;

static size_t elt_size(const flat *f) { return f->f16 ? sizeof(uint16_t) : sizeof(float); }

static void *row_ptr(const flat *f, size_t slot)
{
    return (char *)f->rows + slot * (size_t)f->base.dim * elt_size(f);
}

/* Score n consecutive rows from slot onwards against q into out[n]. */
static void score_rows(const flat *f, const float *q, size_t slot, size_t n, float *out)
{
    if (f->f16)
        idx_dot_rows_f16(q, row_ptr(f, slot), n, f->base.dim, out);
    else
        idx_dot_rows_f32(q, row_ptr(f, slot), n, f->base.dim, out);
}

void idx_scan_into(const float *scores, const int64_t *ids, size_t n, const idx_filter *filter,
                   idx_topk *t)
{
    for (size_t i = 0; i < n; i++)
        if (idx_topk_wants(t, ids[i], scores[i]) && idx_filter_allows(filter, ids[i]))
            idx_topk_push(t, ids[i], scores[i]);
}

idx_index *idx_flat_new(int dim, int use_f16, ds_err *err)
{
    if (dim < 1 || dim > 65536) {
        ds_fail(err, DS_EINVAL, "flat index: dimension %d out of range 1..65536", dim);
        return NULL;
    }
    flat *f = calloc(1, sizeof *f);
    if (!f || idx_map_init(&f->slots, 0)) {
        free(f);
        ds_fail(err, DS_ENOMEM, "flat index: out of memory");
        return NULL;
    }
    f->base.vt = &flat_vtable;
    f->base.dim = dim;
    f->f16 = use_f16 != 0;
    pthread_rwlock_init(&f->lock, NULL);
    return &f->base;
}

static int reserve(flat *f, size_t need, ds_err *err)
{
    if (need <= f->cap)
        return 0;
    size_t cap = f->cap ? f->cap : 1024;
    while (cap < need)
        cap *= 2;
    int64_t *ids = realloc(f->ids, cap * sizeof *ids);
    if (ids)
        f->ids = ids;
    void *rows = ids ? realloc(f->rows, cap * (size_t)f->base.dim * elt_size(f)) : NULL;
    if (!rows)
        return ds_fail(err, DS_ENOMEM, "flat index: out of memory growing to %zu vectors", cap);
    f->rows = rows;
    if (f->sq.trained_on) {
        uint8_t *codes = realloc(f->codes, cap * (size_t)f->base.dim);
        if (codes)
            f->codes = codes;
        float *bounds = codes ? realloc(f->bounds, cap * sizeof *bounds) : NULL;
        if (!bounds)
            return ds_fail(err, DS_ENOMEM, "flat index: out of memory growing to %zu vectors",
                           cap);
        f->bounds = bounds;
    }
    f->cap = cap;
    return 0;
}

/* Copy the arrays served from the mapped file into memory of our own and
 * unmap it: before any change. Caller holds the write lock. */
static int own_arrays(flat *f, ds_err *err)
{
    if (!f->map)
        return 0;
    size_t dim = (size_t)f->base.dim, cap = f->n > 1024 ? f->n : 1024;
    int codes = f->sq.trained_on != 0;
    int64_t *ids = malloc(cap * sizeof *ids);
    void *rows = malloc(cap * dim * elt_size(f));
    uint8_t *cd = codes ? malloc(cap * dim) : NULL;
    float *bd = codes ? malloc(cap * sizeof *bd) : NULL;
    if (!ids || !rows || (codes && (!cd || !bd))) {
        free(ids), free(rows), free(cd), free(bd);
        return ds_fail(err, DS_ENOMEM, "flat index: out of memory copying %zu vectors", f->n);
    }
    memcpy(ids, f->ids, f->n * sizeof *ids);
    memcpy(rows, f->rows, f->n * dim * elt_size(f));
    if (codes) {
        memcpy(cd, f->codes, f->n * dim);
        memcpy(bd, f->bounds, f->n * sizeof *bd);
    }
    munmap(f->map, f->map_len);
    f->map = NULL;
    f->ids = ids, f->rows = rows, f->codes = cd, f->bounds = bd;
    f->cap = cap;
    return 0;
}

/* Fit the codes' scale to every row held and encode them all. Out of
 * memory only turns the codes off: searches stay exact, just slower.
 * Caller holds the write lock. */
static void refit_codes(flat *f)
{
    int dim = f->base.dim;
    float *lo = malloc((size_t)dim * sizeof *lo), *hi = malloc((size_t)dim * sizeof *hi);
    uint8_t *codes = malloc(f->cap * (size_t)dim);
    float *bounds = malloc(f->cap * sizeof *bounds);
    if (!lo || !hi || !codes || !bounds)
        goto off;
    idx_sq8_range_init(lo, hi, dim);
    idx_sq8_range_add(lo, hi, dim, f->rows, f->f16, f->n);
    if (idx_sq8_fit(&f->sq, dim, lo, hi, f->n))
        goto off;
    idx_sq8_encode(&f->sq, f->rows, f->f16, f->n, codes, bounds);
    free(f->codes), free(f->bounds);
    f->codes = codes, f->bounds = bounds;
    free(lo), free(hi);
    return;
off:
    idx_sq8_free(&f->sq);
    free(f->codes), free(f->bounds);
    f->codes = NULL, f->bounds = NULL;
    free(lo), free(hi), free(codes), free(bounds);
}

static int codes_due(const flat *f)
{
    return f->n >= IDX_SQ8_MIN_ROWS &&
           (!f->sq.trained_on || f->n >= (size_t)IDX_SQ8_REFIT_GROWTH * f->sq.trained_on);
}

static void store_row(flat *f, size_t slot, const float *v)
{
    int dim = f->base.dim;
    if (!f->f16) {
        memcpy(row_ptr(f, slot), v, (size_t)dim * sizeof(float));
        return;
    }
    uint16_t *r = row_ptr(f, slot);
    for (int d = 0; d < dim; d++)
        r[d] = st_f32_to_f16(v[d]);
}

/* Store row slot and, when codes are kept, its code (from the stored row,
 * so that the bound is about what the exact kernel reads). */
static void store(flat *f, size_t slot, const float *v)
{
    store_row(f, slot, v);
    if (f->sq.trained_on)
        idx_sq8_encode(&f->sq, row_ptr(f, slot), f->f16, 1, f->codes + slot * (size_t)f->base.dim,
                       f->bounds + slot);
}

/* Caller holds the write lock. */
static int add_locked(flat *f, const int64_t *ids, const float *vecs, size_t n, ds_err *err)
{
    if (own_arrays(f, err) || reserve(f, f->n + n, err))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const float *v = vecs + i * (size_t)f->base.dim;
        uint64_t *slot = idx_map_get(&f->slots, ids[i]);
        if (slot) {
            store(f, *slot, v);
            continue;
        }
        if (idx_map_put(&f->slots, ids[i], f->n))
            return ds_fail(err, DS_ENOMEM, "flat index: out of memory adding id %lld",
                           (long long)ids[i]);
        f->ids[f->n] = ids[i];
        store(f, f->n, v);
        f->n++;
    }
    if (codes_due(f))
        refit_codes(f);
    return 0;
}

static int flat_add(idx_index *ix, const int64_t *ids, const float *vecs, size_t n, ds_err *err)
{
    flat *f = (flat *)ix;
    pthread_rwlock_wrlock(&f->lock);
    int rc = add_locked(f, ids, vecs, n, err);
    pthread_rwlock_unlock(&f->lock);
    return rc;
}

static int flat_remove(idx_index *ix, const int64_t *ids, size_t n, ds_err *err)
{
    flat *f = (flat *)ix;
    size_t rowbytes = (size_t)f->base.dim * elt_size(f);
    pthread_rwlock_wrlock(&f->lock);
    if (own_arrays(f, err)) {
        pthread_rwlock_unlock(&f->lock);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t *p = idx_map_get(&f->slots, ids[i]);
        if (!p)
            continue;
        size_t slot = *p, last = f->n - 1;
        idx_map_del(&f->slots, ids[i]);
        if (slot != last) {
            memcpy(row_ptr(f, slot), row_ptr(f, last), rowbytes);
            if (f->sq.trained_on) {
                memcpy(f->codes + slot * (size_t)f->base.dim,
                       f->codes + last * (size_t)f->base.dim, (size_t)f->base.dim);
                f->bounds[slot] = f->bounds[last];
            }
            f->ids[slot] = f->ids[last];
            *idx_map_get(&f->slots, f->ids[slot]) = slot;
        }
        f->n--;
    }
    pthread_rwlock_unlock(&f->lock);
    return 0;
}

/* Score only the rows named by the filter's id list, for each query. */
static void search_list(const flat *f, const float *qs, int nq, const idx_filter *filter,
                        idx_topk *heaps)
{
    for (size_t j = 0; j < filter->n_ids; j++) {
        int64_t id = filter->ids[j];
        if (j && id == filter->ids[j - 1])
            continue;
        const uint64_t *slot = idx_map_get(&f->slots, id);
        if (!slot)
            continue;
        for (int q = 0; q < nq; q++) {
            float s;
            score_rows(f, qs + (size_t)q * f->base.dim, *slot, 1, &s);
            if (idx_topk_wants(&heaps[q], id, s))
                idx_topk_push(&heaps[q], id, s);
        }
    }
}

/* Score rows [lo, hi) against every query into heaps[nq]. */
static void search_range(const flat *f, const float *qs, int nq, size_t lo, size_t hi,
                         const idx_filter *filter, idx_topk *heaps)
{
    float scores[SCAN_BLOCK];
    int keep[SCAN_BLOCK];
    for (size_t b = lo; b < hi; b += SCAN_BLOCK) {
        size_t n = hi - b < SCAN_BLOCK ? hi - b : SCAN_BLOCK;
        /* With a filter, test each row first (a bitmap lookup costs less
         * than a dot product) and score only the rows it keeps. */
        size_t nk = n;
        if (filter && filter->ids) {
            nk = 0;
            for (size_t i = 0; i < n; i++)
                if (idx_filter_allows(filter, f->ids[b + i]))
                    keep[nk++] = (int)i;
        }
        if (nk < n) {
            for (int q = 0; q < nq; q++)
                for (size_t j = 0; j < nk; j++) {
                    float s;
                    int64_t id = f->ids[b + (size_t)keep[j]];
                    score_rows(f, qs + (size_t)q * f->base.dim, b + (size_t)keep[j], 1, &s);
                    idx_topk_push(&heaps[q], id, s);
                }
            continue;
        }
        for (int q = 0; q < nq; q++) {
            score_rows(f, qs + (size_t)q * f->base.dim, b, n, scores);
            idx_scan_into(scores, f->ids + b, n, filter, &heaps[q]);
        }
    }
}

/* Parallel scan: per-thread heaps in part[t·nq + q], k slots each. */
static void search_scan(const flat *f, const float *qs, int nq, int k, const idx_filter *filter,
                        idx_topk *part, idx_hit *store, int nthreads)
{
    (void)nthreads; /* unused when built without OpenMP (the fuzz build) */
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        int t = ops_thread_index(), nt = ops_active_threads();
        idx_topk *mine = part + (size_t)t * nq;
        for (int q = 0; q < nq; q++)
            mine[q] = (idx_topk){store + ((size_t)t * nq + q) * k, k, 0};
        size_t lo = f->n * (size_t)t / (size_t)nt, hi = f->n * (size_t)(t + 1) / (size_t)nt;
        search_range(f, qs, nq, lo, hi, filter, mine);
    }
}

/* One unfiltered query through the codes (see sq8.c): each thread
 * pre-scans its range, then the candidates are rescored exactly. */
static int search_prescan(const flat *f, const float *q, int k, idx_hit *hits, int *n_out,
                          int nthreads)
{
    int dim = f->base.dim;
    size_t row_bytes = (size_t)dim * elt_size(f);
    idx_prescan_search ps;
    if (idx_prescan_begin(&ps, &f->sq, q, nthreads, k))
        return -1;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        int t = ops_thread_index(), nt = ops_active_threads();
        size_t lo = f->n * (size_t)t / (size_t)nt, hi = f->n * (size_t)(t + 1) / (size_t)nt;
        idx_prescan_rows(&ps.parts[t], &ps.q, dim, f->codes + lo * (size_t)dim, f->bounds + lo,
                         f->ids + lo, row_ptr(f, lo), row_bytes, hi - lo, NULL);
    }
    idx_topk best = {hits, k, 0};
    if (idx_prescan_end(&ps, q, dim, f->f16, &best))
        return -1;
    idx_topk_sort(&best);
    *n_out = best.n;
    return 0;
}

/* The codes serve searches with no filter; a filter is tested first on
 * every row by the float scan, which for a selective filter scores little. */
static int use_prescan(const flat *f, const idx_filter *filter)
{
    return !f->base.prescan_off && f->sq.trained_on && f->n >= IDX_SQ8_MIN_ROWS &&
           !(filter && filter->ids);
}

static int flat_search(idx_index *ix, const float *qs, int nq, int k, const idx_filter *filter,
                       idx_hit *hits, int *n_out, ds_err *err)
{
    flat *f = (flat *)ix;
    int rc = -1;
    int nthreads = ops_max_threads();
    idx_topk *part = NULL;
    idx_hit *store = NULL;
    pthread_rwlock_rdlock(&f->lock);
    int list = filter && filter->ids && filter->n_ids < f->n / 8 + 64;
    if (list || f->n < PARALLEL_MIN_ROWS)
        nthreads = 1;
    if (nthreads < 1)
        nthreads = 1;
    if (!list && use_prescan(f, filter)) {
        for (int q = 0; q < nq; q++)
            if (search_prescan(f, qs + (size_t)q * f->base.dim, k, hits + (size_t)q * k,
                               &n_out[q], nthreads)) {
                ds_fail(err, DS_ENOMEM, "flat search: out of memory");
                goto out;
            }
        rc = 0;
        goto out;
    }
    part = malloc((size_t)nthreads * nq * sizeof *part);
    store = malloc((size_t)nthreads * nq * k * sizeof *store);
    if (!part || !store) {
        ds_fail(err, DS_ENOMEM, "flat search: out of memory for %d×%d hits", nq, k);
        goto out;
    }
    if (list) {
        for (int q = 0; q < nq; q++)
            part[q] = (idx_topk){store + (size_t)q * k, k, 0};
        search_list(f, qs, nq, filter, part);
        nthreads = 1;
    } else {
        search_scan(f, qs, nq, k, filter, part, store, nthreads);
    }
    /* Merge each query's per-thread heaps into its row of hits. */
    for (int q = 0; q < nq; q++) {
        idx_topk best = {hits + (size_t)q * k, k, 0};
        for (int t = 0; t < nthreads; t++) {
            const idx_topk *p = &part[(size_t)t * nq + q];
            for (int i = 0; i < p->n; i++)
                idx_topk_push(&best, p->h[i].id, p->h[i].score);
        }
        idx_topk_sort(&best);
        n_out[q] = best.n;
    }
    rc = 0;
out:
    pthread_rwlock_unlock(&f->lock);
    free(part);
    free(store);
    return rc;
}

/* Payload: u64 codes_fitted_on (0: no codes), ids i64[n]; with codes
 * bounds f32[n], lo f32[dim], step f32[dim]; rows [n·dim] (float32 or
 * float16); with codes, codes u8[n·dim]. In this order every array is
 * aligned for its type in the mapped file (the header is 64 bytes). */
static int flat_save(idx_index *ix, const char *path, uint64_t tag, ds_err *err)
{
    flat *f = (flat *)ix;
    idx_writer w;
    idx_file_header h;
    memset(&h, 0, sizeof h);
    size_t dim = (size_t)f->base.dim;
    pthread_rwlock_rdlock(&f->lock);
    int rc = idx_writer_open(&w, path, err);
    if (rc)
        goto out;
    h.kind = IDX_FLAT;
    h.dim = (uint32_t)dim;
    h.flags = f->f16 ? 1u : 0u;
    h.count = f->n;
    h.tag = tag;
    uint64_t fitted = f->sq.trained_on;
    rc = idx_writer_put(&w, &fitted, sizeof fitted, err);
    if (!rc)
        rc = idx_writer_put(&w, f->ids, f->n * sizeof *f->ids, err);
    if (!rc && fitted) {
        rc = idx_writer_put(&w, f->bounds, f->n * sizeof *f->bounds, err);
        if (!rc)
            rc = idx_writer_put(&w, f->sq.lo, dim * sizeof(float), err);
        if (!rc)
            rc = idx_writer_put(&w, f->sq.step, dim * sizeof(float), err);
    }
    if (!rc)
        rc = idx_writer_put(&w, f->rows, f->n * dim * elt_size(f), err);
    if (!rc && fitted)
        rc = idx_writer_put(&w, f->codes, f->n * dim, err);
    if (!rc)
        rc = idx_writer_commit(&w, &h, err);
out:
    pthread_rwlock_unlock(&f->lock);
    if (rc)
        idx_writer_abort(&w);
    return rc;
}

int idx_flat_load(const idx_file_header *h, const unsigned char *p, size_t n, idx_mapping *m,
                  idx_index **out, ds_err *err)
{
    int use_f16 = (h->flags & 1u) != 0;
    uint64_t esz = use_f16 ? 2 : 4, dim = h->dim, count = h->count, fitted;
    if (n < 8)
        return ds_fail(err, DS_EFORMAT, "flat payload too short");
    memcpy(&fitted, p, 8);
    uint64_t per_row = 8 + dim * esz + (fitted ? 4 + dim : 0);
    uint64_t fixed = 8 + (fitted ? 8 * dim : 0);
    if (n < fixed || count > (n - fixed) / per_row || fixed + count * per_row != n)
        return ds_fail(err, DS_EFORMAT, "flat payload of %zu bytes does not hold %llu vectors",
                       n, (unsigned long long)count);
    idx_index *ix = idx_flat_new((int)dim, use_f16, err);
    if (!ix)
        return -1;
    flat *f = (flat *)ix;
    /* From here the arrays lie in the mapping (the failure path knows). */
    f->map = m->base;
    f->map_len = m->len;
    m->taken = 1;
    const unsigned char *at = p + 8;
    f->ids = (int64_t *)(uintptr_t)at;
    at += count * 8;
    if (fitted) {
        f->bounds = (float *)(uintptr_t)at;
        at += count * 4;
        if (idx_sq8_restore(&f->sq, (int)dim, at, fitted)) {
            ds_fail(err, DS_ENOMEM, "out of memory");
            goto fail;
        }
        at += 2 * dim * 4;
    }
    f->rows = (void *)(uintptr_t)at;
    at += count * dim * esz;
    if (fitted)
        f->codes = (uint8_t *)(uintptr_t)at;
    f->cap = f->n = count;
    for (size_t i = 0; i < count; i++) {
        if (idx_map_get(&f->slots, f->ids[i])) {
            ds_fail(err, DS_EFORMAT, "id %lld appears twice", (long long)f->ids[i]);
            goto fail;
        }
        if (idx_map_put(&f->slots, f->ids[i], i)) {
            ds_fail(err, DS_ENOMEM, "out of memory");
            goto fail;
        }
    }
    *out = ix;
    return 0;
fail:
    /* Leave the mapping to the caller, and free nothing that lies in it. */
    if (f->map) {
        m->taken = 0;
        f->map = NULL;
        f->ids = NULL, f->rows = NULL, f->codes = NULL, f->bounds = NULL;
    }
    idx_free(ix);
    return -1;
}

static void flat_stats(idx_index *ix, idx_stats *s)
{
    flat *f = (flat *)ix;
    pthread_rwlock_rdlock(&f->lock);
    s->kind = "flat";
    s->dim = f->base.dim;
    s->count = f->n;
    s->bytes = f->cap * (sizeof(int64_t) + (size_t)f->base.dim * elt_size(f)) +
               idx_map_bytes(&f->slots);
    if (f->sq.trained_on)
        s->bytes += f->cap * ((size_t)f->base.dim + sizeof(float)) + 2 * (size_t)f->base.dim * 4;
    s->prescan = !f->base.prescan_off && f->sq.trained_on;
    s->mapped = f->map != NULL;
    s->f16 = f->f16;
    s->trained = 1;
    s->trained_on = f->n;
    pthread_rwlock_unlock(&f->lock);
}

static void flat_free(idx_index *ix)
{
    flat *f = (flat *)ix;
    pthread_rwlock_destroy(&f->lock);
    idx_map_free(&f->slots);
    idx_sq8_free(&f->sq);
    if (f->map) {
        munmap(f->map, f->map_len);
    } else {
        free(f->codes);
        free(f->bounds);
        free(f->ids);
        free(f->rows);
    }
    free(f);
}

static const idx_vtable flat_vtable = {
    .version = 1,
    .name = "flat",
    .add = flat_add,
    .remove = flat_remove,
    .search = flat_search,
    .save = flat_save,
    .stats = flat_stats,
    .free = flat_free,
};
