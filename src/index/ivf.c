/* ivf.c - the inverted-file index: vectors grouped into nlist cells by
 * k-means; a query scores the nlist centroids, then only the vectors of the
 * nprobe best cells.
 *
 * Until it holds TRAIN_PER_LIST·nlist vectors the index is untrained: one
 * cell, searched exactly. Training (k-means++ seeding from a fixed seed,
 * then LLOYD_ITERS Lloyd iterations of spherical k-means on a sample of at
 * most SAMPLE_PER_LIST·nlist vectors) runs at the end of the idx_add that
 * crosses the threshold, and again whenever the count has grown
 * RETRAIN_GROWTH× since the last training; every vector is then reassigned.
 *
 * Ranking depth: a query scores the nprobe nearest cells, and then the next
 * nearest until they hold IVF_RANK_DEPTH vectors that pass the filter (or k,
 * when k is larger), or every cell. Which cells a query ranks thus does not
 * depend on k up to that depth: the best k are the first k of the best
 * 10,000, so pages of one query neither overlap nor skip, and a filtered
 * query returns k hits whenever k pass the filter.
 *
 * Filters: an id list short enough is scored exactly (cheaper than probing);
 * otherwise the cells are scanned with the filter.
 *
 * The scan is cut into segments of at most SEGMENT rows spread over the
 * OpenMP threads, each thread with its own top-k heap.
 *
 * Once trained, every row also has an 8-bit code and an error bound, on a
 * scale fitted at each training, and the probed cells are pre-scanned
 * through the codes (see sq8.c): only the rows that can reach the top k are
 * rescored from their float32 rows, which gives the float scan's hits.
 *
 * A loaded index serves its cells' arrays from the mapped file (v->map) and
 * copies them into memory of its own before its first change.
 */
#include "index/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/prng.h"
#include "model/ops.h"

enum {
    TRAIN_PER_LIST = 32,
    SAMPLE_PER_LIST = 128,
    LLOYD_ITERS = 10,
    RETRAIN_GROWTH = 4,
    SEGMENT = 8192,
    SCORE_BLOCK = 256,
    /* The passing vectors a query ranks at least (the API's deepest page,
     * offset 9000 + top_k 1000): its pages are cut from one ranking. */
    IVF_RANK_DEPTH = 10000,
};

typedef struct ivf_list {
    int64_t *ids;   /* [cap] */
    float *rows;    /* [cap·dim] */
    uint8_t *codes; /* [cap·dim], filled once the index is trained */
    float *bounds;  /* [cap] */
    size_t n, cap;
} ivf_list;

typedef struct ivf {
    idx_index base;
    pthread_rwlock_t lock;
    int nlist, nprobe;
    int trained;
    size_t trained_on;
    float *centroids; /* [nlist·dim] once trained */
    ivf_list *lists;  /* [nl]: 1 untrained, nlist trained */
    int nl;
    size_t n;
    idx_map where;    /* id → (list << 32) | position */
    idx_sq8 sq;       /* the codes' scale, fitted at each training */
    void *map;        /* the index file the cells' arrays are served from
                         (read only), or NULL once they are our own */
    size_t map_len;
} ivf;

static const idx_vtable ivf_vtable;

static uint64_t pack(int list, size_t pos) { return (uint64_t)list << 32 | (uint64_t)pos; }

static void free_lists(ivf_list *l, int nl)
{
    for (int i = 0; l && i < nl; i++) {
        free(l[i].ids);
        free(l[i].rows);
        free(l[i].codes);
        free(l[i].bounds);
    }
    free(l);
}

idx_index *idx_ivf_new(int dim, int nlist, int nprobe, ds_err *err)
{
    if (nlist == 0)
        nlist = 128;
    if (nprobe == 0)
        nprobe = 16;
    if (dim < 1 || dim > 65536 || nlist < 1 || nlist > 65536 || nprobe < 1) {
        ds_fail(err, DS_EINVAL, "ivf index: bad parameters dim %d nlist %d nprobe %d", dim,
                nlist, nprobe);
        return NULL;
    }
    ivf *v = calloc(1, sizeof *v);
    if (!v || idx_map_init(&v->where, 0) || !(v->lists = calloc(1, sizeof *v->lists))) {
        if (v)
            idx_map_free(&v->where);
        free(v);
        ds_fail(err, DS_ENOMEM, "ivf index: out of memory");
        return NULL;
    }
    v->base.vt = &ivf_vtable;
    v->base.dim = dim;
    v->nlist = nlist;
    v->nprobe = nprobe < nlist ? nprobe : nlist;
    v->nl = 1;
    pthread_rwlock_init(&v->lock, NULL);
    return &v->base;
}

/* Append (id, row) to l, with its code when sq is fitted. */
static int list_append(ivf_list *l, int dim, int64_t id, const float *row, const idx_sq8 *sq)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *ids = realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        l->ids = ids;
        float *rows = realloc(l->rows, cap * (size_t)dim * sizeof *rows);
        if (!rows)
            return -1;
        l->rows = rows;
        uint8_t *codes = realloc(l->codes, cap * (size_t)dim);
        if (!codes)
            return -1;
        l->codes = codes;
        float *bounds = realloc(l->bounds, cap * sizeof *bounds);
        if (!bounds)
            return -1;
        l->bounds = bounds;
        l->cap = cap;
    }
    l->ids[l->n] = id;
    memcpy(l->rows + l->n * (size_t)dim, row, (size_t)dim * sizeof *row);
    if (sq->trained_on)
        idx_sq8_encode(sq, row, 0, 1, l->codes + l->n * (size_t)dim, l->bounds + l->n);
    l->n++;
    return 0;
}

/* The best centroid for row (ties to the lower cell). */
static int nearest(const float *centroids, int nlist, int dim, const float *row, float *scratch)
{
    idx_dot_rows_f32(row, centroids, (size_t)nlist, dim, scratch);
    int best = 0;
    for (int c = 1; c < nlist; c++)
        if (scratch[c] > scratch[best])
            best = c;
    return best;
}

static void remove_one(ivf *v, int64_t id)
{
    uint64_t *p = idx_map_get(&v->where, id);
    if (!p)
        return;
    int li = (int)(*p >> 32);
    size_t pos = (size_t)(*p & 0xffffffffu);
    ivf_list *l = &v->lists[li];
    size_t last = l->n - 1;
    int dim = v->base.dim;
    idx_map_del(&v->where, id);
    if (pos != last) {
        l->ids[pos] = l->ids[last];
        memcpy(l->rows + pos * (size_t)dim, l->rows + last * (size_t)dim,
               (size_t)dim * sizeof(float));
        memcpy(l->codes + pos * (size_t)dim, l->codes + last * (size_t)dim, (size_t)dim);
        l->bounds[pos] = l->bounds[last];
        *idx_map_get(&v->where, l->ids[pos]) = pack(li, pos);
    }
    l->n--;
    v->n--;
}

/* Copy the cells' arrays served from the mapped file into memory of our
 * own and unmap it: before any change. Caller holds the write lock. */
static int own_lists(ivf *v, ds_err *err)
{
    if (!v->map)
        return 0;
    size_t dim = (size_t)v->base.dim;
    ivf_list *own = calloc((size_t)v->nl, sizeof *own);
    for (int c = 0; own && c < v->nl; c++) {
        const ivf_list *l = &v->lists[c];
        ivf_list *o = &own[c];
        o->cap = l->n > 64 ? l->n : 64;
        o->n = l->n;
        o->ids = malloc(o->cap * sizeof *o->ids);
        o->rows = malloc(o->cap * dim * sizeof *o->rows);
        o->codes = malloc(o->cap * dim);
        o->bounds = malloc(o->cap * sizeof *o->bounds);
        if (!o->ids || !o->rows || !o->codes || !o->bounds) {
            free_lists(own, v->nl);
            own = NULL;
            break;
        }
        memcpy(o->ids, l->ids, l->n * sizeof *o->ids);
        memcpy(o->rows, l->rows, l->n * dim * sizeof *o->rows);
        if (l->codes) {
            memcpy(o->codes, l->codes, l->n * dim);
            memcpy(o->bounds, l->bounds, l->n * sizeof *o->bounds);
        }
    }
    if (!own)
        return ds_fail(err, DS_ENOMEM, "ivf index: out of memory copying %zu vectors", v->n);
    free(v->lists); /* the structs only: their arrays were in the mapping */
    v->lists = own;
    munmap(v->map, v->map_len);
    v->map = NULL;
    return 0;
}

/* Fit the codes' scale to every row held and encode them all. Out of
 * memory only turns the codes off (searches stay exact, just slower).
 * Caller holds the write lock. */
static void fit_codes(ivf *v)
{
    int dim = v->base.dim;
    float *lo = malloc((size_t)dim * sizeof *lo), *hi = malloc((size_t)dim * sizeof *hi);
    int ok = lo && hi;
    if (ok) {
        idx_sq8_range_init(lo, hi, dim);
        for (int li = 0; li < v->nl; li++)
            idx_sq8_range_add(lo, hi, dim, v->lists[li].rows, 0, v->lists[li].n);
        ok = !idx_sq8_fit(&v->sq, dim, lo, hi, v->n);
    }
    for (int li = 0; ok && li < v->nl; li++) {
        ivf_list *l = &v->lists[li];
        if (!l->codes || !l->bounds) { /* a cell never appended to has none */
            free(l->codes), free(l->bounds);
            l->codes = malloc(l->cap ? l->cap * (size_t)dim : 1);
            l->bounds = malloc(l->cap ? l->cap * sizeof *l->bounds : 1);
            ok = l->codes && l->bounds;
        }
        if (ok)
            idx_sq8_encode(&v->sq, l->rows, 0, l->n, l->codes, l->bounds);
    }
    if (!ok)
        idx_sq8_free(&v->sq);
    free(lo), free(hi);
}

/* ---- k-means -------------------------------------------------------------- */

/* k-means++ seeding on sample[m] (row pointers): each next centre drawn
 * with probability ∝ its distance² (2 − 2·cos) to the nearest chosen one. */
static void seed_centres(const float **sample, size_t m, int dim, int k, float *cent,
                         ds_prng *r)
{
    double *d2 = malloc(m * sizeof *d2);
    size_t first = (size_t)(ds_prng_next(r) % m);
    memcpy(cent, sample[first], (size_t)dim * sizeof *cent);
    for (size_t i = 0; i < m; i++)
        d2[i] = 4.0;
    for (int c = 1; c < k; c++) {
        const float *prev = cent + (size_t)(c - 1) * dim;
        double total = 0;
        for (size_t i = 0; i < m; i++) {
            float s;
            idx_dot_rows_f32(prev, sample[i], 1, dim, &s);
            double d = 2.0 - 2.0 * s;
            if (d < d2[i])
                d2[i] = d < 0 ? 0 : d;
            total += d2[i];
        }
        double x = (double)ds_prng_uniform(r) * total;
        size_t pick = m - 1;
        for (size_t i = 0; i < m; i++) {
            x -= d2[i];
            if (x < 0) {
                pick = i;
                break;
            }
        }
        memcpy(cent + (size_t)c * dim, sample[pick], (size_t)dim * sizeof *cent);
    }
    free(d2);
}

/* Lloyd iterations of spherical k-means: assign, average, normalise. An
 * empty cell takes a random sample point. */
static void lloyd(const float **sample, size_t m, int dim, int k, float *cent, ds_prng *r)
{
    int *assign = malloc(m * sizeof *assign);
    double *sum = malloc((size_t)k * dim * sizeof *sum);
    size_t *cnt = malloc((size_t)k * sizeof *cnt);
    int nthreads = ops_max_threads();
    float *scratch = malloc((size_t)nthreads * k * sizeof *scratch);
    for (int it = 0; it < LLOYD_ITERS; it++) {
#pragma omp parallel for schedule(static) num_threads(nthreads)
        for (size_t i = 0; i < m; i++)
            assign[i] = nearest(cent, k, dim, sample[i], scratch + (size_t)ops_thread_index() * k);
        memset(sum, 0, (size_t)k * dim * sizeof *sum);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        for (size_t i = 0; i < m; i++) {
            double *s = sum + (size_t)assign[i] * dim;
            for (int d = 0; d < dim; d++)
                s[d] += sample[i][d];
            cnt[assign[i]]++;
        }
        for (int c = 0; c < k; c++) {
            float *ce = cent + (size_t)c * dim;
            if (!cnt[c]) {
                memcpy(ce, sample[ds_prng_next(r) % m], (size_t)dim * sizeof *ce);
                continue;
            }
            double norm = 0;
            for (int d = 0; d < dim; d++)
                norm += sum[(size_t)c * dim + d] * sum[(size_t)c * dim + d];
            norm = norm > 0 ? 1.0 / __builtin_sqrt(norm) : 0;
            for (int d = 0; d < dim; d++)
                ce[d] = (float)(sum[(size_t)c * dim + d] * norm);
        }
    }
    free(assign), free(sum), free(cnt), free(scratch);
}

/* Train on a sample of every vector held and reassign them all. On failure
 * (out of memory) the index is left as it was. Caller holds the write lock. */
static int train(ivf *v, ds_err *err)
{
    int dim = v->base.dim, k = v->nlist, rc = -1;
    int nthreads = ops_max_threads();
    size_t n = v->n;
    const float **all = malloc(n * sizeof *all);
    int *assign = malloc(n * sizeof *assign);
    float *cent = malloc((size_t)k * dim * sizeof *cent);
    float *scratch = malloc((size_t)nthreads * k * sizeof *scratch);
    ivf_list *nw = calloc((size_t)k, sizeof *nw);
    const float **sample = NULL;
    const idx_sq8 no_codes = {0}; /* the moved rows are encoded afterwards */
    if (!all || !assign || !cent || !scratch || !nw)
        goto out;
    size_t at = 0;
    for (int li = 0; li < v->nl; li++)
        for (size_t i = 0; i < v->lists[li].n; i++)
            all[at++] = v->lists[li].rows + i * (size_t)dim;
    /* Sample without replacement: a partial Fisher-Yates over a copy. */
    size_t m = n < (size_t)SAMPLE_PER_LIST * k ? n : (size_t)SAMPLE_PER_LIST * k;
    sample = malloc(n * sizeof *sample);
    if (!sample)
        goto out;
    memcpy(sample, all, n * sizeof *sample);
    ds_prng r;
    ds_prng_seed(&r, 0x1d5eedu);
    for (size_t i = 0; i < m; i++) {
        size_t j = i + (size_t)(ds_prng_next(&r) % (n - i));
        const float *t = sample[i];
        sample[i] = sample[j];
        sample[j] = t;
    }
    seed_centres(sample, m, dim, k, cent, &r);
    lloyd(sample, m, dim, k, cent, &r);
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (size_t i = 0; i < n; i++)
        assign[i] = nearest(cent, k, dim, all[i], scratch + (size_t)ops_thread_index() * k);
    /* Move every vector into its new cell. */
    at = 0;
    for (int li = 0; li < v->nl; li++)
        for (size_t i = 0; i < v->lists[li].n; i++, at++)
            if (list_append(&nw[assign[at]], dim, v->lists[li].ids[i], all[at], &no_codes))
                goto out;
    for (int c = 0; c < k; c++)
        for (size_t i = 0; i < nw[c].n; i++)
            *idx_map_get(&v->where, nw[c].ids[i]) = pack(c, i);
    free_lists(v->lists, v->nl);
    v->lists = nw;
    nw = NULL;
    v->nl = k;
    free(v->centroids);
    v->centroids = cent;
    cent = NULL;
    v->trained = 1;
    v->trained_on = n;
    fit_codes(v);
    rc = 0;
out:
    if (rc)
        ds_fail(err, DS_ENOMEM, "ivf index: out of memory training on %zu vectors", n);
    free_lists(nw, k);
    free(all), free(assign), free(cent), free(scratch), free(sample);
    return rc;
}

static int need_training(const ivf *v)
{
    if (v->n < (size_t)TRAIN_PER_LIST * v->nlist)
        return 0;
    return !v->trained || v->n >= (size_t)RETRAIN_GROWTH * v->trained_on;
}

static int ivf_add(idx_index *ix, const int64_t *ids, const float *vecs, size_t n, ds_err *err)
{
    ivf *v = (ivf *)ix;
    int dim = v->base.dim, rc = 0;
    float *scratch = malloc((size_t)v->nlist * sizeof *scratch);
    if (!scratch)
        return ds_fail(err, DS_ENOMEM, "ivf index: out of memory");
    pthread_rwlock_wrlock(&v->lock);
    rc = own_lists(v, err);
    for (size_t i = 0; i < n && !rc; i++) {
        const float *row = vecs + i * (size_t)dim;
        remove_one(v, ids[i]);
        int li = v->trained ? nearest(v->centroids, v->nlist, dim, row, scratch) : 0;
        ivf_list *l = &v->lists[li];
        if (idx_map_put(&v->where, ids[i], pack(li, l->n)) ||
            list_append(l, dim, ids[i], row, &v->sq)) {
            idx_map_del(&v->where, ids[i]);
            rc = ds_fail(err, DS_ENOMEM, "ivf index: out of memory adding id %lld",
                         (long long)ids[i]);
            break;
        }
        v->n++;
    }
    if (!rc && need_training(v))
        rc = train(v, err);
    pthread_rwlock_unlock(&v->lock);
    free(scratch);
    return rc;
}

static int ivf_remove(idx_index *ix, const int64_t *ids, size_t n, ds_err *err)
{
    ivf *v = (ivf *)ix;
    pthread_rwlock_wrlock(&v->lock);
    int rc = own_lists(v, err);
    for (size_t i = 0; i < n && !rc; i++)
        remove_one(v, ids[i]);
    pthread_rwlock_unlock(&v->lock);
    return rc;
}

/* ---- search --------------------------------------------------------------- */

typedef struct segment {
    const ivf_list *l;
    size_t lo, hi;
} segment;

/* Cut the given cells into segments of at most SEGMENT rows. */
static size_t make_segments(const ivf *v, const int *cells, int ncells, segment *seg)
{
    size_t ns = 0;
    for (int c = 0; c < ncells; c++) {
        const ivf_list *l = &v->lists[cells[c]];
        for (size_t lo = 0; lo < l->n; lo += SEGMENT)
            seg[ns++] = (segment){l, lo, lo + SEGMENT < l->n ? lo + SEGMENT : l->n};
    }
    return ns;
}

/* Pre-scan the segments' codes against q, then rescore exactly the rows
 * that can reach the top k, into best. */
static int prescan_segments(const ivf *v, const float *q, const segment *seg, size_t ns, int k,
                            const idx_filter *filter, idx_topk *best)
{
    int dim = v->base.dim;
    int nthreads = ns > 1 ? ops_max_threads() : 1;
    idx_prescan_search ps;
    if (idx_prescan_begin(&ps, &v->sq, q, nthreads, k))
        return -1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nthreads > 1)
    for (size_t s = 0; s < ns; s++) {
        const ivf_list *l = seg[s].l;
        size_t lo = seg[s].lo;
        idx_prescan_rows(&ps.parts[ops_thread_index()], &ps.q, dim, l->codes + lo * (size_t)dim,
                         l->bounds + lo, l->ids + lo, l->rows + lo * (size_t)dim,
                         (size_t)dim * sizeof(float), seg[s].hi - lo, filter);
    }
    return idx_prescan_end(&ps, q, dim, 0, best);
}

/* Score the segments against q into best (which may already hold hits). */
static int scan_segments(const ivf *v, const float *q, const segment *seg, size_t ns, int k,
                         const idx_filter *filter, idx_topk *best)
{
    if (!v->base.prescan_off && v->sq.trained_on)
        return prescan_segments(v, q, seg, ns, k, filter, best);
    int dim = v->base.dim;
    int nthreads = ns > 1 ? ops_max_threads() : 1;
    idx_hit *store = malloc((size_t)nthreads * k * sizeof *store);
    int *counts = calloc((size_t)nthreads, sizeof *counts);
    if (!store || !counts) {
        free(store), free(counts);
        return -1;
    }
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        int t = ops_thread_index();
        idx_topk mine = {store + (size_t)t * k, k, 0};
        float scores[SCORE_BLOCK];
#pragma omp for schedule(dynamic, 1)
        for (size_t s = 0; s < ns; s++) {
            for (size_t b = seg[s].lo; b < seg[s].hi; b += SCORE_BLOCK) {
                size_t m = seg[s].hi - b < SCORE_BLOCK ? seg[s].hi - b : SCORE_BLOCK;
                idx_dot_rows_f32(q, seg[s].l->rows + b * (size_t)dim, m, dim, scores);
                idx_scan_into(scores, seg[s].l->ids + b, m, filter, &mine);
            }
        }
        counts[t] = mine.n;
    }
    for (int t = 0; t < nthreads; t++)
        for (int i = 0; i < counts[t]; i++)
            idx_topk_push(best, store[(size_t)t * k + i].id, store[(size_t)t * k + i].score);
    free(store), free(counts);
    return 0;
}

/* Score only the filter's listed ids. */
static void search_list(const ivf *v, const float *q, const idx_filter *filter, idx_topk *best)
{
    for (size_t j = 0; j < filter->n_ids; j++) {
        int64_t id = filter->ids[j];
        if (j && id == filter->ids[j - 1])
            continue;
        const uint64_t *p = idx_map_get(&v->where, id);
        if (!p)
            continue;
        const ivf_list *l = &v->lists[*p >> 32];
        float s;
        idx_dot_rows_f32(q, l->rows + (*p & 0xffffffffu) * (size_t)v->base.dim, 1,
                         v->base.dim, &s);
        if (idx_topk_wants(best, id, s))
            idx_topk_push(best, id, s);
    }
}

/* How many vectors of each cell pass the filter, into passing[nl]. */
static void count_passing(const ivf *v, const idx_filter *filter, size_t *passing)
{
    for (int c = 0; c < v->nl; c++)
        passing[c] = filter && filter->ids ? 0 : v->lists[c].n;
    for (size_t j = 0; filter && filter->ids && j < filter->n_ids; j++) {
        const uint64_t *p = idx_map_get(&v->where, filter->ids[j]);
        if (p && (j == 0 || filter->ids[j] != filter->ids[j - 1]))
            passing[*p >> 32]++;
    }
}

/* The cells a query ranks, into cells[]: the nprobe nearest, then the next
 * nearest until they hold `depth` vectors that pass the filter (or every
 * cell is in). depth is IVF_RANK_DEPTH whatever k up to it, so every page
 * of a query (offset + top_k up to it) is cut from one ranking. */
static int rank_cells(const ivf *v, const float *q, int k, const idx_filter *filter, int *cells,
                      int *ncells)
{
    if (!v->trained) {
        cells[0] = 0;
        *ncells = 1;
        return 0;
    }
    size_t depth = (size_t)k > IVF_RANK_DEPTH ? (size_t)k : IVF_RANK_DEPTH;
    float *cs = malloc((size_t)v->nlist * sizeof *cs);
    idx_hit *order = malloc((size_t)v->nlist * sizeof *order);
    size_t *passing = malloc((size_t)v->nl * sizeof *passing);
    if (!cs || !order || !passing) {
        free(cs), free(order), free(passing);
        return -1;
    }
    idx_dot_rows_f32(q, v->centroids, (size_t)v->nlist, v->base.dim, cs);
    idx_topk nearest = {order, v->nlist, 0};
    for (int c = 0; c < v->nlist; c++)
        idx_topk_push(&nearest, c, cs[c]);
    idx_topk_sort(&nearest);
    count_passing(v, filter, passing);
    size_t held = 0;
    int n = 0;
    while (n < nearest.n && (n < v->nprobe || held < depth)) {
        cells[n] = (int)order[n].id;
        held += passing[cells[n++]];
    }
    *ncells = n;
    free(cs), free(order), free(passing);
    return 0;
}

/* One query. cells[nlist], seg[...] are scratch sized by the caller. */
static int search_one(const ivf *v, const float *q, int k, const idx_filter *filter,
                      idx_hit *hits, int *n_out, int *cells, segment *seg)
{
    idx_topk best = {hits, k, 0};
    size_t probed_rows = v->trained ? v->n / (size_t)v->nlist * (size_t)v->nprobe : v->n;
    if (filter && filter->ids && filter->n_ids <= probed_rows) {
        search_list(v, q, filter, &best);
        goto done;
    }
    int ncells = 0;
    if (rank_cells(v, q, k, filter, cells, &ncells) ||
        scan_segments(v, q, seg, make_segments(v, cells, ncells, seg), k, filter, &best))
        return -1;
done:
    idx_topk_sort(&best);
    *n_out = best.n;
    return 0;
}

static int ivf_search(idx_index *ix, const float *qs, int nq, int k, const idx_filter *filter,
                      idx_hit *hits, int *n_out, ds_err *err)
{
    ivf *v = (ivf *)ix;
    int rc = 0;
    pthread_rwlock_rdlock(&v->lock);
    size_t maxseg = v->n / SEGMENT + (size_t)v->nl + 1;
    int *cells = malloc((size_t)v->nl * sizeof *cells);
    segment *seg = malloc(maxseg * sizeof *seg);
    if (!cells || !seg)
        rc = -1;
    for (int q = 0; q < nq && !rc; q++)
        rc = search_one(v, qs + (size_t)q * v->base.dim, k, filter, hits + (size_t)q * k,
                        &n_out[q], cells, seg);
    pthread_rwlock_unlock(&v->lock);
    free(cells), free(seg);
    if (rc)
        ds_fail(err, DS_ENOMEM, "ivf search: out of memory");
    return rc;
}

/* ---- files and the rest ----------------------------------------------------
 * Payload: u64 head[3] = {trained_on, cells, codes_fitted_on (0: none)},
 * u64 sizes[cells], each cell's ids (i64), centroids f32[nlist·dim] (when
 * trained); with codes each cell's bounds (f32), lo f32[dim], step f32[dim];
 * each cell's rows (f32); with codes each cell's codes (u8). In this order
 * every array is aligned for its type in the mapped file. */

static int ivf_save(idx_index *ix, const char *path, uint64_t tag, ds_err *err)
{
    ivf *v = (ivf *)ix;
    idx_writer w;
    idx_file_header h;
    memset(&h, 0, sizeof h);
    size_t dim = (size_t)v->base.dim;
    pthread_rwlock_rdlock(&v->lock);
    int rc = idx_writer_open(&w, path, err);
    if (rc)
        goto out;
    h.kind = IDX_IVF;
    h.dim = (uint32_t)dim;
    h.flags = v->trained ? 2u : 0u;
    h.count = v->n;
    h.nlist = (uint32_t)v->nlist;
    h.nprobe = (uint32_t)v->nprobe;
    h.tag = tag;
    uint64_t fitted = v->sq.trained_on;
    uint64_t head[3] = {v->trained_on, (uint64_t)v->nl, fitted};
    rc = idx_writer_put(&w, head, sizeof head, err);
    for (int c = 0; c < v->nl && !rc; c++) {
        uint64_t sz = v->lists[c].n;
        rc = idx_writer_put(&w, &sz, sizeof sz, err);
    }
    for (int c = 0; c < v->nl && !rc; c++)
        rc = idx_writer_put(&w, v->lists[c].ids, v->lists[c].n * sizeof(int64_t), err);
    if (!rc && v->trained)
        rc = idx_writer_put(&w, v->centroids, (size_t)v->nlist * dim * sizeof(float), err);
    for (int c = 0; fitted && c < v->nl && !rc; c++)
        rc = idx_writer_put(&w, v->lists[c].bounds, v->lists[c].n * sizeof(float), err);
    if (!rc && fitted)
        rc = idx_writer_put(&w, v->sq.lo, dim * sizeof(float), err);
    if (!rc && fitted)
        rc = idx_writer_put(&w, v->sq.step, dim * sizeof(float), err);
    for (int c = 0; c < v->nl && !rc; c++)
        rc = idx_writer_put(&w, v->lists[c].rows, v->lists[c].n * dim * sizeof(float), err);
    for (int c = 0; fitted && c < v->nl && !rc; c++)
        rc = idx_writer_put(&w, v->lists[c].codes, v->lists[c].n * dim, err);
    if (!rc)
        rc = idx_writer_commit(&w, &h, err);
out:
    pthread_rwlock_unlock(&v->lock);
    if (rc)
        idx_writer_abort(&w);
    return rc;
}

/* Check the payload's layout against the header: the cells' sizes, and
 * the total length. Fills head and returns 0, or fails. */
static int check_layout(const idx_file_header *h, const unsigned char *p, size_t n,
                        uint64_t head[3], ds_err *err)
{
    uint64_t dim = h->dim;
    int trained = (h->flags & 2u) != 0;
    if (n < 24)
        return ds_fail(err, DS_EFORMAT, "ivf payload too short");
    memcpy(head, p, 24);
    uint64_t nl = head[1], fitted = head[2];
    if (h->nlist < 1 || h->nlist > 65536 || nl != (trained ? h->nlist : 1u) || h->nprobe < 1 ||
        (fitted && !trained))
        return ds_fail(err, DS_EFORMAT, "ivf header: nlist %u, %llu cells, nprobe %u", h->nlist,
                       (unsigned long long)nl, h->nprobe);
    uint64_t per_row = 8 + dim * 4 + (fitted ? 4 + dim : 0);
    uint64_t fixed = 24 + nl * 8 + (trained ? (uint64_t)h->nlist * dim * 4 : 0) +
                     (fitted ? 2 * dim * 4 : 0);
    if (n < fixed || h->count > (n - fixed) / per_row || fixed + h->count * per_row != n)
        return ds_fail(err, DS_EFORMAT, "ivf payload of %zu bytes does not hold %llu vectors",
                       n, (unsigned long long)h->count);
    uint64_t total = 0;
    for (uint64_t c = 0; c < nl; c++) {
        uint64_t sz;
        memcpy(&sz, p + 24 + c * 8, 8);
        if (sz > h->count || sz > 0xffffffffu)
            return ds_fail(err, DS_EFORMAT, "ivf cell %llu has %llu vectors",
                           (unsigned long long)c, (unsigned long long)sz);
        total += sz;
    }
    if (total != h->count)
        return ds_fail(err, DS_EFORMAT, "ivf cells hold %llu vectors, header says %llu",
                       (unsigned long long)total, (unsigned long long)h->count);
    return 0;
}

int idx_ivf_load(const idx_file_header *h, const unsigned char *p, size_t n, idx_mapping *m,
                 idx_index **out, ds_err *err)
{
    size_t dim = h->dim;
    uint64_t head[3];
    if (check_layout(h, p, n, head, err))
        return -1;
    uint64_t nl = head[1], fitted = head[2];
    int trained = (h->flags & 2u) != 0;
    idx_index *ix = idx_ivf_new((int)dim, (int)h->nlist, (int)h->nprobe, err);
    if (!ix)
        return -1;
    ivf *v = (ivf *)ix;
    const unsigned char *sizes = p + 24, *at = sizes + nl * 8;
    const unsigned char *ids = at, *bounds, *rows, *codes;
    at += h->count * 8;
    if (trained) {
        free(v->lists);
        v->lists = calloc(nl, sizeof *v->lists);
        v->centroids = malloc((size_t)h->nlist * dim * 4);
        if (!v->lists || !v->centroids)
            goto nomem;
        memcpy(v->centroids, at, (size_t)h->nlist * dim * 4);
        at += (size_t)h->nlist * dim * 4;
        v->nl = (int)nl;
        v->trained = 1;
        v->trained_on = head[0];
    }
    bounds = at;
    if (fitted) {
        at += h->count * 4;
        if (idx_sq8_restore(&v->sq, (int)dim, at, fitted))
            goto nomem;
        at += 2 * dim * 4;
    }
    rows = at;
    codes = rows + h->count * dim * 4;
    /* The cells' arrays are served from the mapping from here on. */
    v->map = m->base;
    v->map_len = m->len;
    m->taken = 1;
    for (uint64_t c = 0; c < nl; c++) {
        uint64_t sz;
        memcpy(&sz, sizes + c * 8, 8);
        ivf_list *l = &v->lists[c];
        l->ids = (int64_t *)(uintptr_t)ids;
        l->rows = (float *)(uintptr_t)rows;
        if (fitted) {
            l->bounds = (float *)(uintptr_t)bounds;
            l->codes = (uint8_t *)(uintptr_t)codes;
        }
        l->cap = l->n = sz;
        ids += sz * 8, rows += sz * dim * 4, bounds += sz * 4, codes += sz * dim;
        for (size_t i = 0; i < sz; i++) {
            if (idx_map_get(&v->where, l->ids[i])) {
                ds_fail(err, DS_EFORMAT, "id %lld appears twice", (long long)l->ids[i]);
                goto fail;
            }
            if (idx_map_put(&v->where, l->ids[i], pack((int)c, i)))
                goto nomem;
        }
        v->n += sz;
    }
    *out = ix;
    return 0;
nomem:
    ds_fail(err, DS_ENOMEM, "out of memory");
fail:
    if (v->map) { /* leave the mapping to the caller, free nothing in it */
        m->taken = 0;
        v->map = NULL;
        memset(v->lists, 0, (size_t)v->nl * sizeof *v->lists);
    }
    idx_free(ix);
    return -1;
}

static void ivf_stats(idx_index *ix, idx_stats *s)
{
    ivf *v = (ivf *)ix;
    pthread_rwlock_rdlock(&v->lock);
    s->kind = "ivf";
    s->dim = v->base.dim;
    s->count = v->n;
    size_t bytes = idx_map_bytes(&v->where);
    for (int c = 0; c < v->nl; c++)
        bytes += v->lists[c].cap * (sizeof(int64_t) + (size_t)v->base.dim * (sizeof(float) + 1) +
                                    sizeof(float));
    if (v->trained)
        bytes += (size_t)v->nlist * v->base.dim * sizeof(float);
    s->bytes = bytes;
    s->nlist = v->nlist;
    s->nprobe = v->nprobe;
    s->trained = v->trained;
    s->trained_on = v->trained_on;
    s->prescan = !v->base.prescan_off && v->sq.trained_on;
    s->mapped = v->map != NULL;
    pthread_rwlock_unlock(&v->lock);
}

static void ivf_free(idx_index *ix)
{
    ivf *v = (ivf *)ix;
    pthread_rwlock_destroy(&v->lock);
    if (v->map) { /* the cells' arrays lie in the mapping */
        munmap(v->map, v->map_len);
        free(v->lists);
    } else {
        free_lists(v->lists, v->nl);
    }
    free(v->centroids);
    idx_map_free(&v->where);
    idx_sq8_free(&v->sq);
    free(v);
}

int idx_ivf_set_nprobe(idx_index *ix, int nprobe, ds_err *err)
{
    if (!ix || ix->vt != &ivf_vtable)
        return ds_fail(err, DS_EINVAL, "nprobe applies to an ivf index, not %s", idx_name(ix));
    ivf *v = (ivf *)ix;
    if (nprobe < 1 || nprobe > v->nlist)
        return ds_fail(err, DS_EINVAL, "nprobe %d is outside 1..%d", nprobe, v->nlist);
    pthread_rwlock_wrlock(&v->lock);
    v->nprobe = nprobe;
    pthread_rwlock_unlock(&v->lock);
    return 0;
}

static const idx_vtable ivf_vtable = {
    .version = 1,
    .name = "ivf",
    .add = ivf_add,
    .remove = ivf_remove,
    .search = ivf_search,
    .save = ivf_save,
    .stats = ivf_stats,
    .free = ivf_free,
};
