/* common.c - the idx_* wrappers, the top-k heap, the id map, the index file
 * (atomic write, checksum, validated load) and the filter helpers. */
#include "index/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"

/* ---- wrappers ------------------------------------------------------------ */

#define IDX_MAX_K 100000

static int check_search_args(idx_index *ix, const float *q, int nq, int k, idx_hit *hits,
                             int *n_out, ds_err *err)
{
    if (!ix || !q || !hits || !n_out)
        return ds_fail(err, DS_EINVAL, "index search: NULL argument");
    if (nq < 1)
        return ds_fail(err, DS_EINVAL, "index search: %d queries", nq);
    if (k < 1 || k > IDX_MAX_K)
        return ds_fail(err, DS_EINVAL, "index search: k = %d is outside 1..%d", k, IDX_MAX_K);
    return 0;
}

int idx_add(idx_index *ix, const int64_t *ids, const float *vecs, size_t n, ds_err *err)
{
    if (!ix || (n && (!ids || !vecs)))
        return ds_fail(err, DS_EINVAL, "index add: NULL argument");
    return n ? ix->vt->add(ix, ids, vecs, n, err) : 0;
}

int idx_remove(idx_index *ix, const int64_t *ids, size_t n, ds_err *err)
{
    if (!ix || (n && !ids))
        return ds_fail(err, DS_EINVAL, "index remove: NULL argument");
    return n ? ix->vt->remove(ix, ids, n, err) : 0;
}

/* The embedded kinds hold vectors only: field conditions reach them
 * compiled to an id list (index.h). */
static int where_check(const idx_index *ix, const idx_filter *filter, ds_err *err)
{
    if (filter && !ix->vt->takes_where && !ds_filter_is_empty(filter->where))
        return ds_fail(err, DS_EUNSUPPORTED, "the %s index takes field filters compiled to an "
                       "id list (cat_filter_ids)", ix->vt->name);
    return 0;
}

int idx_search(idx_index *ix, const float *query, int k, const idx_filter *filter, idx_hit *hits,
               int *n_out, ds_err *err)
{
    if (check_search_args(ix, query, 1, k, hits, n_out, err) || where_check(ix, filter, err))
        return -1;
    return ix->vt->search(ix, query, 1, k, filter, hits, n_out, err);
}

int idx_search_batch(idx_index *ix, const float *queries, int nq, int k,
                     const idx_filter *filter, idx_hit *hits, int *n_out, ds_err *err)
{
    if (check_search_args(ix, queries, nq, k, hits, n_out, err) || where_check(ix, filter, err))
        return -1;
    return ix->vt->search(ix, queries, nq, k, filter, hits, n_out, err);
}

int idx_save(idx_index *ix, const char *path, uint64_t tag, ds_err *err)
{
    if (!ix || !path)
        return ds_fail(err, DS_EINVAL, "index save: NULL argument");
    return ix->vt->save(ix, path, tag, err);
}

int idx_set_prescan(idx_index *ix, int on, ds_err *err)
{
    if (!ix)
        return ds_fail(err, DS_EINVAL, "index pre-scan: NULL index");
    ix->prescan_off = !on;
    return 0;
}

void idx_stats_get(idx_index *ix, idx_stats *out)
{
    memset(out, 0, sizeof *out);
    if (ix)
        ix->vt->stats(ix, out);
}

const char *idx_name(const idx_index *ix) { return ix ? ix->vt->name : "none"; }

void idx_free(idx_index *ix)
{
    if (ix)
        ix->vt->free(ix);
}

/* ---- top-k heap ---------------------------------------------------------- */

/* "a is worse than b": the heap keeps its worst at the root. */
static int worse(const idx_hit *a, const idx_hit *b)
{
    return idx_hit_better(b->score, b->id, a->score, a->id);
}

static void sift_down(idx_hit *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && worse(&h[l], &h[w]))
            w = l;
        if (r < n && worse(&h[r], &h[w]))
            w = r;
        if (w == i)
            return;
        idx_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

void idx_topk_push(idx_topk *t, int64_t id, float score)
{
    if (t->n < t->k) {
        int i = t->n++;
        t->h[i] = (idx_hit){id, score};
        while (i > 0) {
            int p = (i - 1) / 2;
            if (!worse(&t->h[i], &t->h[p]))
                break;
            idx_hit x = t->h[i];
            t->h[i] = t->h[p];
            t->h[p] = x;
            i = p;
        }
        return;
    }
    if (!idx_hit_better(score, id, t->h[0].score, t->h[0].id))
        return;
    t->h[0] = (idx_hit){id, score};
    sift_down(t->h, t->n, 0);
}

void idx_topk_sort(idx_topk *t)
{
    /* Heapsort: repeatedly move the worst to the end. */
    for (int n = t->n; n > 1; n--) {
        idx_hit x = t->h[0];
        t->h[0] = t->h[n - 1];
        t->h[n - 1] = x;
        sift_down(t->h, n - 1, 0);
    }
}

/* ---- id map -------------------------------------------------------------- */

static size_t hash_id(int64_t key, size_t mask)
{
    uint64_t z = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(z ^ (z >> 29)) & mask;
}

int idx_map_init(idx_map *m, size_t expect)
{
    size_t cap = 16;
    while (cap < expect * 2)
        cap *= 2;
    memset(m, 0, sizeof *m);
    m->keys = malloc(cap * sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->used = calloc(cap, 1);
    if (!m->keys || !m->vals || !m->used) {
        idx_map_free(m);
        return -1;
    }
    m->cap = cap;
    return 0;
}

void idx_map_free(idx_map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    memset(m, 0, sizeof *m);
}

uint64_t *idx_map_get(const idx_map *m, int64_t key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash_id(key, mask);; i = (i + 1) & mask) {
        if (!m->used[i])
            return NULL;
        if (m->keys[i] == key)
            return &m->vals[i];
    }
}

static int map_grow(idx_map *m)
{
    idx_map bigger;
    if (idx_map_init(&bigger, m->cap))
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            idx_map_put(&bigger, m->keys[i], m->vals[i]);
    idx_map_free(m);
    *m = bigger;
    return 0;
}

int idx_map_put(idx_map *m, int64_t key, uint64_t val)
{
    if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m))
        return -1;
    size_t mask = m->cap - 1;
    size_t i = hash_id(key, mask);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i]) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->n++;
    }
    m->vals[i] = val;
    return 0;
}

void idx_map_del(idx_map *m, int64_t key)
{
    size_t mask = m->cap - 1;
    size_t i = hash_id(key, mask);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i])
        return;
    /* Backward shift: pull later members of the run into the hole when
     * their home slot does not lie strictly between the hole and them. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        size_t home = hash_id(m->keys[j], mask);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->used[hole] = 0;
    m->n--;
}

size_t idx_map_bytes(const idx_map *m) { return m->cap * (sizeof(int64_t) + sizeof(uint64_t) + 1); }

/* ---- filters ------------------------------------------------------------- */

int idx_filter_has_id(const idx_filter *f, int64_t id)
{
    size_t lo = 0, hi = f->n_ids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->n_ids && f->ids[lo] == id;
}

int idx_filter_allows(const idx_filter *f, int64_t id)
{
    if (!f)
        return 1;
    return !f->ids || idx_filter_has_id(f, id);
}

/* ---- checksum ------------------------------------------------------------
 * FNV-1a over 64-bit little-endian words in 4 interleaved lanes (so the
 * multiplies overlap), the lanes and the length folded together at the end;
 * a trailing partial word is zero-padded. Detects corruption, not tampering. */

#define FNV_OFF 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

typedef struct hash_state {
    uint64_t lane[4];
    uint64_t bytes;
    unsigned char tail[32];
    size_t ntail;
} hash_state;

static void hash_init(hash_state *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 4; i++)
        s->lane[i] = FNV_OFF + (uint64_t)i;
}

static void hash_blocks(hash_state *s, const unsigned char *p, size_t nblocks)
{
    uint64_t a = s->lane[0], b = s->lane[1], c = s->lane[2], d = s->lane[3];
    for (size_t i = 0; i < nblocks; i++, p += 32) {
        uint64_t w[4];
        memcpy(w, p, 32);
        a = (a ^ w[0]) * FNV_PRIME;
        b = (b ^ w[1]) * FNV_PRIME;
        c = (c ^ w[2]) * FNV_PRIME;
        d = (d ^ w[3]) * FNV_PRIME;
    }
    s->lane[0] = a, s->lane[1] = b, s->lane[2] = c, s->lane[3] = d;
}

static void hash_update(hash_state *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->bytes += n;
    if (s->ntail) {
        size_t take = 32 - s->ntail < n ? 32 - s->ntail : n;
        memcpy(s->tail + s->ntail, p, take);
        s->ntail += take, p += take, n -= take;
        if (s->ntail < 32)
            return;
        hash_blocks(s, s->tail, 1);
        s->ntail = 0;
    }
    hash_blocks(s, p, n / 32);
    p += n / 32 * 32;
    n %= 32;
    memcpy(s->tail, p, n);
    s->ntail = n;
}

static uint64_t hash_final(hash_state *s)
{
    if (s->ntail) {
        memset(s->tail + s->ntail, 0, 32 - s->ntail);
        hash_blocks(s, s->tail, 1);
    }
    uint64_t h = FNV_OFF;
    uint64_t words[5] = {s->lane[0], s->lane[1], s->lane[2], s->lane[3], s->bytes};
    for (int i = 0; i < 5; i++)
        h = (h ^ words[i]) * FNV_PRIME, h ^= h >> 32;
    return h;
}

/* ---- writing ------------------------------------------------------------- */

_Static_assert(sizeof(idx_file_header) == 64, "index file header is 64 bytes");

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

/* The writer keeps a hash_state; idx_writer's fields mirror it. */
_Static_assert(sizeof(((idx_writer *)0)->lanes) + sizeof(((idx_writer *)0)->bytes) +
                       sizeof(((idx_writer *)0)->tail) + sizeof(((idx_writer *)0)->ntail) ==
                   sizeof(hash_state),
               "idx_writer mirrors hash_state");

static void writer_hash_load(const idx_writer *w, hash_state *s)
{
    memcpy(s->lane, w->lanes, sizeof s->lane);
    s->bytes = w->bytes;
    memcpy(s->tail, w->tail, sizeof s->tail);
    s->ntail = w->ntail;
}

static void writer_hash_store(idx_writer *w, const hash_state *s)
{
    memcpy(w->lanes, s->lane, sizeof s->lane);
    w->bytes = s->bytes;
    memcpy(w->tail, s->tail, sizeof s->tail);
    w->ntail = s->ntail;
}

int idx_writer_open(idx_writer *w, const char *path, ds_err *err)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->path = path;
    /* The temporary file is the process's own: two processes saving the
     * index of one data directory at once must not write into one file. */
    size_t len = strlen(path) + 32;
    w->tmp = malloc(len);
    if (!w->tmp)
        return ds_fail(err, DS_ENOMEM, "index save: out of memory");
    snprintf(w->tmp, len, "%s.%ld.tmp", path, (long)getpid());
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        ds_fail(err, DS_EIO, "index save: cannot create %s: %s", w->tmp, strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        return -1;
    }
    idx_file_header zero;
    memset(&zero, 0, sizeof zero);
    if (write_all(w->fd, &zero, sizeof zero))
        return ds_fail(err, DS_EIO, "index save: writing %s: %s", w->tmp, strerror(errno));
    hash_state s;
    hash_init(&s);
    writer_hash_store(w, &s);
    return 0;
}

int idx_writer_put(idx_writer *w, const void *p, size_t n, ds_err *err)
{
    if (n == 0)
        return 0;
    if (write_all(w->fd, p, n))
        return ds_fail(err, DS_EIO, "index save: writing %s: %s", w->tmp, strerror(errno));
    hash_state s;
    writer_hash_load(w, &s);
    hash_update(&s, p, n);
    writer_hash_store(w, &s);
    return 0;
}

int idx_writer_commit(idx_writer *w, idx_file_header *h, ds_err *err)
{
    /* Checksum = hash(payload ‖ header with checksum 0): the payload was
     * hashed as it was written, so the header comes last (file_checksum
     * validates in the same order). */
    memcpy(h->magic, IDX_MAGIC, 8);
    h->version = IDX_FILE_VERSION;
    h->payload_bytes = w->bytes;
    h->checksum = 0;
    hash_state s;
    writer_hash_load(w, &s);
    hash_update(&s, h, sizeof *h);
    h->checksum = hash_final(&s);
    if (pwrite(w->fd, h, sizeof *h, 0) != (ssize_t)sizeof *h)
        return ds_fail(err, DS_EIO, "index save: writing header of %s: %s", w->tmp,
                       strerror(errno));
    if (fsync(w->fd))
        return ds_fail(err, DS_EIO, "index save: fsync %s: %s", w->tmp, strerror(errno));
    close(w->fd);
    w->fd = -1;
    if (rename(w->tmp, w->path))
        return ds_fail(err, DS_EIO, "index save: rename %s: %s", w->tmp, strerror(errno));
    free(w->tmp);
    w->tmp = NULL;
    /* Make the rename durable: fsync the directory. */
    char dir[PATH_MAX];
    if (ds_snprintf(dir, sizeof dir, err, "%s", w->path) != 0)
        return ds_wrap(err, "index save: its directory: ");
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

void idx_writer_abort(idx_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp) {
        unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
    }
}

/* Validation hashes payload then header, as idx_writer_commit does. */
static uint64_t file_checksum(const idx_file_header *h, const void *payload, size_t n)
{
    idx_file_header copy = *h;
    copy.checksum = 0;
    hash_state s;
    hash_init(&s);
    hash_update(&s, payload, n);
    hash_update(&s, &copy, sizeof copy);
    return hash_final(&s);
}

/* ---- loading ------------------------------------------------------------- */

static int validate_header(const idx_file_header *h, size_t file_size, const char *path,
                           int expect_dim, uint64_t expect_tag, ds_err *err)
{
    if (memcmp(h->magic, IDX_MAGIC, 8))
        return ds_fail(err, DS_EFORMAT, "index file %s: not an index file (bad magic)", path);
    if (h->version != IDX_FILE_VERSION)
        return ds_fail(err, DS_EFORMAT, "index file %s: version %u, this build reads %u", path,
                       h->version, IDX_FILE_VERSION);
    if (h->payload_bytes != file_size - sizeof *h)
        return ds_fail(err, DS_EFORMAT,
                       "index file %s: truncated or padded: header says %llu payload bytes, "
                       "file has %zu",
                       path, (unsigned long long)h->payload_bytes, file_size - sizeof *h);
    if (h->dim < 1 || h->dim > 65536)
        return ds_fail(err, DS_EFORMAT, "index file %s: dimension %u out of range", path, h->dim);
    if (expect_dim > 0 && (int)h->dim != expect_dim)
        return ds_fail(err, DS_EINVAL, "index file %s: dimension %u, expected %d", path, h->dim,
                       expect_dim);
    if (h->tag != expect_tag)
        return ds_fail(err, DS_EINVAL, "index file %s: stale (tag %llu, catalog is at %llu)",
                       path, (unsigned long long)h->tag, (unsigned long long)expect_tag);
    return 0;
}

int idx_load(const char *path, int expect_dim, uint64_t expect_tag, idx_index **out, ds_err *err)
{
    int rc = -1, fd = -1;
    void *map = MAP_FAILED;
    size_t size = 0;
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "index file %s: %s", path,
                strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        ds_fail(err, DS_EIO, "index file %s: %s", path, strerror(errno));
        goto out;
    }
    size = (size_t)st.st_size;
    if (size < sizeof(idx_file_header)) {
        ds_fail(err, DS_EFORMAT, "index file %s: truncated (%zu bytes, header is %zu)", path,
                size, sizeof(idx_file_header));
        goto out;
    }
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        ds_fail(err, DS_EIO, "index file %s: mmap: %s", path, strerror(errno));
        goto out;
    }
    idx_file_header h;
    memcpy(&h, map, sizeof h);
    if (validate_header(&h, size, path, expect_dim, expect_tag, err))
        goto out;
    const unsigned char *payload = (const unsigned char *)map + sizeof h;
    if (file_checksum(&h, payload, h.payload_bytes) != h.checksum) {
        ds_fail(err, DS_ECHECKSUM, "index file %s: checksum mismatch (corrupt)", path);
        goto out;
    }
    idx_mapping m = {map, size, 0};
    if (h.kind == IDX_FLAT)
        rc = idx_flat_load(&h, payload, h.payload_bytes, &m, out, err);
    else if (h.kind == IDX_IVF)
        rc = idx_ivf_load(&h, payload, h.payload_bytes, &m, out, err);
    else
        ds_fail(err, DS_EFORMAT, "index file %s: unknown kind %u", path, h.kind);
    if (rc)
        ds_wrap(err, "index file %s: ", path);
    if (m.taken)
        map = MAP_FAILED; /* the index serves from it now */
out:
    if (map != MAP_FAILED)
        munmap(map, size);
    if (fd >= 0)
        close(fd);
    return rc;
}
