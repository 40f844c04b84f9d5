/* internal.h - pieces shared by the index implementations (not public):
 * the top-k heap, the id → slot hash map, the dot-product kernels, and the
 * index file format.
 */
#ifndef DS_INDEX_INTERNAL_H
#define DS_INDEX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

/* ---- top-k heap ----------------------------------------------------------
 * A bounded min-heap of the k best hits seen: the root is the worst kept
 * hit, so a candidate is compared with one value. "Better" = higher score,
 * then lower id, which makes results deterministic. */
typedef struct idx_topk {
    idx_hit *h; /* k slots, caller-owned */
    int k, n;
} idx_topk;

static inline int idx_hit_better(float sa, int64_t ia, float sb, int64_t ib)
{
    return sa > sb || (sa == sb && ia < ib);
}

/* Offer (id, score); O(log k) when kept, O(1) when not. */
void idx_topk_push(idx_topk *t, int64_t id, float score);
/* Would (id, score) be kept? */
static inline int idx_topk_wants(const idx_topk *t, int64_t id, float score)
{
    return t->n < t->k || idx_hit_better(score, id, t->h[0].score, t->h[0].id);
}
/* Sort the kept hits best first, in place (the heap is spent). */
void idx_topk_sort(idx_topk *t);

/* ---- id → value map --------------------------------------------------------
 * Open addressing, linear probing, backward-shift deletion (no tombstones). */
typedef struct idx_map {
    int64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    size_t cap, n; /* cap is a power of two */
} idx_map;

int idx_map_init(idx_map *m, size_t expect);
void idx_map_free(idx_map *m);
/* Pointer to the value of key, or NULL. */
uint64_t *idx_map_get(const idx_map *m, int64_t key);
/* Insert or overwrite. -1 on out of memory. */
int idx_map_put(idx_map *m, int64_t key, uint64_t val);
/* Delete key if present. */
void idx_map_del(idx_map *m, int64_t key);
size_t idx_map_bytes(const idx_map *m);

/* ---- kernels ---------------------------------------------------------------
 * out[i] = <q, rows[i]> for n contiguous rows of dim floats (or float16).
 * AVX-512F, or AVX2+FMA(+F16C), when the CPU has it, portable C otherwise;
 * chosen once. */
void idx_dot_rows_f32(const float *q, const float *rows, size_t n, int dim, float *out);
void idx_dot_rows_f16(const float *q, const uint16_t *rows, size_t n, int dim, float *out);
/* out[i] = <q, codes[i]> for n rows of dim bytes (0..255), each widened to
 * float: the 8-bit pre-scan's kernel (see sq8 below). */
void idx_dot_rows_u8(const float *q, const uint8_t *rows, size_t n, int dim, float *out);
/* Which kernels run ("avx512", "avx2", "portable"). */
const char *idx_kernel_name(void);
/* Switch to the named kernels: 0, or -1 if unknown or the CPU lacks them.
 * Not while a search runs (tests and DINOSEEK_KERNEL use it). */
int idx_use_kernel(const char *name);

/* ---- the 8-bit pre-scan (sq8.c) ---------------------------------------------
 * Exact search reads every stored vector; at 384 float32 per vector that is
 * memory bandwidth, not arithmetic. So each vector also gets a code: one byte
 * per dimension on a per-dimension scale (lo[d] + step[d]·c), a quarter of
 * the float32 bytes, and a bound b ≥ |x − x̂| (plus rounding slack), so that
 * for any query q its exact score lies within ±|q|·b of the score of the
 * code (Cauchy–Schwarz). A search scans the codes, keeps the k best LOWER
 * bounds to get a threshold τ, and rescores exactly, from the stored rows,
 * only the vectors whose UPPER bound reaches τ: no vector under τ can be in
 * the top k. The result is the exact search's, hit for hit and bit for bit
 * (same kernel, same rows); only the work changes. */
typedef struct idx_sq8 {
    int dim;
    float *lo, *step;  /* [dim] each */
    double lo_norm;    /* |lo|, for the rounding slack */
    size_t trained_on; /* vectors held when the scale was fitted (0: untrained) */
} idx_sq8;

/* Below this many vectors a plain scan is as fast: no codes are kept. */
enum { IDX_SQ8_MIN_ROWS = 4096, IDX_SQ8_REFIT_GROWTH = 4 };

/* Running per-dimension minimum and maximum, to fit a scale from. */
void idx_sq8_range_init(float *lo, float *hi, int dim);
void idx_sq8_range_add(float *lo, float *hi, int dim, const void *rows, int f16, size_t n);
/* Fit z (dim already set, lo/step owned) to [lo, hi]. -1 on out of memory. */
int idx_sq8_fit(idx_sq8 *z, int dim, const float *lo, const float *hi, size_t count);
/* Set z from a saved scale: lo f32[dim] then step f32[dim] (unaligned). */
int idx_sq8_restore(idx_sq8 *z, int dim, const void *lo_step, size_t fitted_on);
void idx_sq8_free(idx_sq8 *z);
/* Encode n rows (float32, or float16 if f16) into codes[n·dim] and bounds[n]. */
void idx_sq8_encode(const idx_sq8 *z, const void *rows, int f16, size_t n, uint8_t *codes,
                    float *bounds);

/* A query prepared for the codes: qs[d] = q[d]·step[d], bias = Σ q[d]·lo[d],
 * qnorm = |q| rounded up. qs is caller-owned (dim floats). */
typedef struct idx_sq8_query {
    float *qs;
    float bias, qnorm;
} idx_sq8_query;
void idx_sq8_query_init(const idx_sq8 *z, const float *q, idx_sq8_query *out);

/* A vector that may be in the top k: where its exact row is, and its upper
 * bound. */
typedef struct idx_cand {
    const void *row;
    int64_t id;
    float upper;
} idx_cand;

/* One thread's pre-scan state: the k best lower bounds, and the candidates
 * whose upper bound reached the threshold when they were seen. */
typedef struct idx_prescan {
    _Alignas(64) idx_topk lower; /* a cache line of its own per thread */
    idx_cand *cand;
    size_t n, cap;
    int oom;
} idx_prescan;

/* lower_store holds k hits. */
void idx_prescan_init(idx_prescan *p, idx_hit *lower_store, int k);
void idx_prescan_free(idx_prescan *p);
/* Pre-scan n rows: codes[n·dim], bounds[n], ids[n], their exact rows at
 * rows + i·row_bytes. The filter is consulted only for rows that could
 * still be in the top k. */
void idx_prescan_rows(idx_prescan *p, const idx_sq8_query *q, int dim, const uint8_t *codes,
                      const float *bounds, const int64_t *ids, const void *rows,
                      size_t row_bytes, size_t n, const idx_filter *filter);
/* Merge the parts' thresholds, rescore their candidates exactly against q
 * (float32 rows, or float16 if f16) and push them into best. -1 if a part
 * ran out of memory (its candidates are incomplete). */
int idx_prescan_finish(idx_prescan *parts, int nparts, const float *q, int dim, int f16,
                       idx_topk *best);

/* One search's pre-scan: q prepared for the codes, and a part per thread,
 * each ready for k hits. begin: -1 on out of memory (nothing to end). end:
 * idx_prescan_finish into best (unless best is NULL), then frees; its
 * result is finish's. */
typedef struct idx_prescan_search {
    idx_sq8_query q;
    idx_prescan *parts;
    idx_hit *lower;
    int nparts;
} idx_prescan_search;
int idx_prescan_begin(idx_prescan_search *s, const idx_sq8 *z, const float *q, int nparts, int k);
int idx_prescan_end(idx_prescan_search *s, const float *q, int dim, int f16, idx_topk *best);

/* ---- file format -----------------------------------------------------------
 * [header 64 bytes][payload]. All integers little-endian (native x86/ARM). */
#define IDX_MAGIC "DSIDX\r\n\032"
#define IDX_FILE_VERSION 2u /* 2: the pre-scan's codes are stored; 1 is rebuilt */

typedef struct idx_file_header {
    char magic[8];
    uint32_t version;
    uint32_t kind;     /* idx_kind */
    uint32_t dim;
    uint32_t flags;    /* bit 0: float16 vectors */
    uint64_t count;
    uint32_t nlist, nprobe;
    uint64_t tag;
    uint64_t payload_bytes;
    uint64_t checksum; /* FNV-1a-64 (4 lanes of 64-bit words) of payload + header (this field 0) */
} idx_file_header;

/* A payload being written: pieces appended in order, hashed as they go. */
typedef struct idx_writer {
    int fd;
    uint64_t lanes[4];
    uint64_t bytes;
    unsigned char tail[32];
    size_t ntail;
    const char *path;
    char *tmp;
} idx_writer;

/* Open path.tmp and reserve the header. */
int idx_writer_open(idx_writer *w, const char *path, ds_err *err);
int idx_writer_put(idx_writer *w, const void *p, size_t n, ds_err *err);
/* Fill in the header (checksum, payload size), fsync, rename over path. */
int idx_writer_commit(idx_writer *w, idx_file_header *h, ds_err *err);
/* Remove the temporary file after a failure. Safe after commit. */
void idx_writer_abort(idx_writer *w);

/* A read-only mapping of a whole index file. A loader that serves its
 * arrays from it takes it (sets taken) and unmaps it when it frees the
 * index or copies them out before its first change. */
typedef struct idx_mapping {
    void *base;
    size_t len;
    int taken;
} idx_mapping;

/* Implementation loaders, given the validated header and payload (which
 * lies inside m). */
int idx_flat_load(const idx_file_header *h, const unsigned char *p, size_t n, idx_mapping *m,
                  idx_index **out, ds_err *err);
int idx_ivf_load(const idx_file_header *h, const unsigned char *p, size_t n, idx_mapping *m,
                 idx_index **out, ds_err *err);

/* Does the filter's id list allow id? NULL (or no list) allows all. */
int idx_filter_allows(const idx_filter *f, int64_t id);
/* Push the rows whose scores[n] and ids[n] are given into t, consulting the
 * filter only for rows that would be kept. */
void idx_scan_into(const float *scores, const int64_t *ids, size_t n, const idx_filter *filter,
                   idx_topk *t);
/* Is id in the filter's sorted id list (binary search)? */
int idx_filter_has_id(const idx_filter *f, int64_t id);

#endif
