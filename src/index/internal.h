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
 * AVX2+FMA(+F16C) when the CPU has it, portable C otherwise; chosen once. */
void idx_dot_rows_f32(const float *q, const float *rows, size_t n, int dim, float *out);
void idx_dot_rows_f16(const float *q, const uint16_t *rows, size_t n, int dim, float *out);
/* Which kernel runs ("avx2", "portable"). */
const char *idx_kernel_name(void);

/* ---- file format -----------------------------------------------------------
 * [header 64 bytes][payload]. All integers little-endian (native x86/ARM). */
#define IDX_MAGIC "DSIDX\r\n\032"
#define IDX_FILE_VERSION 1u

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

/* Implementation loaders, given the validated header and payload. */
int idx_flat_load(const idx_file_header *h, const unsigned char *p, size_t n, idx_index **out,
                  ds_err *err);
int idx_ivf_load(const idx_file_header *h, const unsigned char *p, size_t n, idx_index **out,
                 ds_err *err);

/* Does the filter allow id (id list, then predicate)? NULL allows all. */
int idx_filter_allows(const idx_filter *f, int64_t id);
/* Push the rows whose scores[n] and ids[n] are given into t, consulting the
 * filter only for rows that would be kept. */
void idx_scan_into(const float *scores, const int64_t *ids, size_t n, const idx_filter *filter,
                   idx_topk *t);
/* Is id in the filter's sorted id list (binary search)? */
int idx_filter_has_id(const idx_filter *f, int64_t id);

#endif
