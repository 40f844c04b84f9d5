/* test_index.c - the vector index: exact results against a naive brute
 * force, ties, filters, removal, float16, concurrency, files, IVF recall. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../suites.h"
#include "base/prng.h"
#include "index/index.h"
#include "index/internal.h"
#include "model/safetensors.h"

/* n random unit vectors of dim (deterministic). Caller frees. */
static float *random_unit(size_t n, int dim, uint64_t seed)
{
    ds_prng r;
    ds_prng_seed(&r, seed);
    float *v = malloc(n * (size_t)dim * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        double norm = 0;
        float *x = v + i * (size_t)dim;
        for (int d = 0; d < dim; d++) {
            x[d] = (float)ds_prng_normal(&r);
            norm += (double)x[d] * x[d];
        }
        for (int d = 0; d < dim; d++)
            x[d] = (float)(x[d] / sqrt(norm));
    }
    return v;
}

/* n unit vectors around `clusters` random centres (spread 0.3). */
static float *clustered_unit(size_t n, int dim, int clusters, uint64_t seed)
{
    float *c = random_unit((size_t)clusters, dim, seed);
    float *v = random_unit(n, dim, seed + 1);
    ds_prng r;
    ds_prng_seed(&r, seed + 2);
    for (size_t i = 0; i < n; i++) {
        const float *ci = c + (ds_prng_next(&r) % (uint64_t)clusters) * (size_t)dim;
        float *x = v + i * (size_t)dim;
        double norm = 0;
        for (int d = 0; d < dim; d++) {
            x[d] = ci[d] + 0.3f * x[d];
            norm += (double)x[d] * x[d];
        }
        for (int d = 0; d < dim; d++)
            x[d] = (float)(x[d] / sqrt(norm));
    }
    free(c);
    return v;
}

static double dot(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; d++)
        s += (double)a[d] * b[d];
    return s;
}

typedef struct ref_hit {
    int64_t id;
    double score;
} ref_hit;

static int ref_cmp(const void *pa, const void *pb)
{
    const ref_hit *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Naive ranking of every vector passing keep (NULL = all). Returns how many;
 * out must hold n. */
static size_t brute(const float *vecs, const int64_t *ids, size_t n, int dim, const float *q,
                    int (*keep)(int64_t, void *), void *ctx, ref_hit *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!keep || keep(ids[i], ctx))
            out[m++] = (ref_hit){ids[i], dot(q, vecs + i * (size_t)dim, dim)};
    qsort(out, m, sizeof *out, ref_cmp);
    return m;
}

/* hits[n] against the reference: same count, sorted, each score right, and
 * the same ids except where scores are within tol of each other. */
static int same_as_ref(const idx_hit *hits, int n, const ref_hit *ref, size_t nref, int k,
                       double tol)
{
    int want = (size_t)k < nref ? k : (int)nref;
    if (n != want) {
        fprintf(stderr, "    got %d hits, want %d\n", n, want);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (i && (hits[i].score > hits[i - 1].score ||
                  (hits[i].score == hits[i - 1].score && hits[i].id <= hits[i - 1].id))) {
            fprintf(stderr, "    hit %d out of order\n", i);
            return 0;
        }
        if (fabs(hits[i].score - ref[i].score) > tol) {
            fprintf(stderr, "    hit %d: score %f (id %lld), want %f (id %lld)\n", i,
                    hits[i].score, (long long)hits[i].id, ref[i].score, (long long)ref[i].id);
            return 0;
        }
        if (hits[i].id != ref[i].id && fabs(ref[i].score - ref[i + (i + 1 < n)].score) > tol &&
            (i == 0 || fabs(ref[i].score - ref[i - 1].score) > tol)) {
            fprintf(stderr, "    hit %d: id %lld, want %lld\n", i, (long long)hits[i].id,
                    (long long)ref[i].id);
            return 0;
        }
    }
    return 1;
}

enum { DIM = 48 };

/* Field by field: idx_hit has padding. */
static int same_hits(const idx_hit *a, const idx_hit *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].id != b[i].id || a[i].score != b[i].score)
            return 0;
    return 1;
}

static int64_t *seq_ids(size_t n, int64_t start, int64_t step)
{
    int64_t *ids = malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = start + (int64_t)i * step;
    return ids;
}

static void check_exact(int use_f16, double tol)
{
    ds_err err;
    size_t n = 20000; /* above the parallel threshold */
    float *v = random_unit(n, DIM, 1);
    int64_t *ids = seq_ids(n, 1000, 3);
    idx_index *ix = idx_flat_new(DIM, use_f16, &err);
    CHECK(ix != NULL);
    CHECK(idx_add(ix, ids, v, n / 2, &err) == 0);
    CHECK(idx_add(ix, ids + n / 2, v + n / 2 * DIM, n - n / 2, &err) == 0);
    float *q = random_unit(5, DIM, 2);
    ref_hit *ref = malloc(n * sizeof *ref);
    idx_hit hits[50];
    int k_values[] = {1, 10, 50};
    for (int qi = 0; qi < 5; qi++)
        for (int ki = 0; ki < 3; ki++) {
            int k = k_values[ki], got = -1;
            CHECK(idx_search(ix, q + qi * DIM, k, NULL, hits, &got, &err) == 0);
            size_t m = brute(v, ids, n, DIM, q + qi * DIM, NULL, NULL, ref);
            CHECKF(same_as_ref(hits, got, ref, m, k, tol), "query %d k %d f16 %d", qi, k,
                   use_f16);
        }
    /* Batch search gives the same rows as single searches. */
    idx_hit batch[5 * 10], one[10];
    int nb[5], n1;
    CHECK(idx_search_batch(ix, q, 5, 10, NULL, batch, nb, &err) == 0);
    for (int qi = 0; qi < 5; qi++) {
        CHECK(idx_search(ix, q + qi * DIM, 10, NULL, one, &n1, &err) == 0);
        CHECK(nb[qi] == n1 && same_hits(batch + qi * 10, one, n1));
    }
    idx_stats st;
    idx_stats_get(ix, &st);
    CHECK(st.count == n && st.dim == DIM && st.f16 == use_f16 && strcmp(st.kind, "flat") == 0);
    CHECK(st.bytes >= n * DIM * (use_f16 ? 2 : 4));
    idx_free(ix);
    free(v), free(ids), free(q), free(ref);
}

static void test_flat_exact(void) { check_exact(0, 1e-5); }
static void test_flat_f16(void) { check_exact(1, 1e-3); }

/* Equal scores come back by id ascending; k beyond count; empty index. */
static void test_flat_ties_and_edges(void)
{
    ds_err err;
    idx_index *ix = idx_flat_new(DIM, 0, &err);
    float *q = random_unit(1, DIM, 5);
    idx_hit hits[20];
    int n = -1;
    CHECK(idx_search(ix, q, 10, NULL, hits, &n, &err) == 0 && n == 0);
    /* 7 copies of one vector under shuffled ids, plus 3 others. */
    float *v = random_unit(10, DIM, 6);
    for (int i = 1; i < 7; i++)
        memcpy(v + i * DIM, v, DIM * sizeof *v);
    int64_t ids[10] = {50, 7, 33, 12, 99, 8, 41, 1, 2, 3};
    CHECK(idx_add(ix, ids, v, 10, &err) == 0);
    CHECK(idx_search(ix, v, 20, NULL, hits, &n, &err) == 0);
    CHECK(n == 10);
    int64_t want[7] = {7, 8, 12, 33, 41, 50, 99};
    for (int i = 0; i < 7; i++)
        CHECKF(hits[i].id == want[i] && hits[i].score == hits[0].score, "tie %d: id %lld", i,
               (long long)hits[i].id);
    /* k = 3 among the ties keeps the three lowest ids. */
    CHECK(idx_search(ix, v, 3, NULL, hits, &n, &err) == 0);
    CHECK(n == 3 && hits[0].id == 7 && hits[1].id == 8 && hits[2].id == 12);
    /* Bad arguments. */
    CHECK(idx_search(ix, q, 0, NULL, hits, &n, &err) == -1 && err.code == DS_EINVAL);
    CHECK(idx_flat_new(0, 0, &err) == NULL && err.code == DS_EINVAL);
    /* Re-adding an id replaces its vector. */
    CHECK(idx_add(ix, ids + 9, q, 1, &err) == 0);
    CHECK(idx_search(ix, q, 1, NULL, hits, &n, &err) == 0 && hits[0].id == 3);
    CHECK(hits[0].score > 0.9999f);
    idx_stats st;
    idx_stats_get(ix, &st);
    CHECK(st.count == 10);
    idx_free(ix);
    idx_free(NULL);
    free(v), free(q);
}

static void test_flat_remove(void)
{
    ds_err err;
    size_t n = 3000;
    float *v = random_unit(n, DIM, 7);
    int64_t *ids = seq_ids(n, 0, 1);
    idx_index *ix = idx_flat_new(DIM, 0, &err);
    CHECK(idx_add(ix, ids, v, n, &err) == 0);
    /* Remove every third id, plus some that were never there. */
    int64_t *gone = malloc(n * sizeof *gone);
    size_t ng = 0;
    for (size_t i = 0; i < n; i += 3)
        gone[ng++] = (int64_t)i;
    gone[ng++] = 123456789;
    CHECK(idx_remove(ix, gone, ng, &err) == 0);
    /* The reference keeps what is left, in its own order. */
    float *kv = malloc(n * DIM * sizeof *kv);
    int64_t *kid = malloc(n * sizeof *kid);
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (i % 3) {
            memcpy(kv + nk * DIM, v + i * DIM, DIM * sizeof *kv);
            kid[nk++] = (int64_t)i;
        }
    ref_hit *ref = malloc(n * sizeof *ref);
    idx_hit hits[30];
    int got;
    for (int qi = 0; qi < 10; qi++) {
        const float *q = v + (size_t)qi * 7 * DIM; /* some removed, some kept */
        CHECK(idx_search(ix, q, 30, NULL, hits, &got, &err) == 0);
        size_t m = brute(kv, kid, nk, DIM, q, NULL, NULL, ref);
        CHECKF(same_as_ref(hits, got, ref, m, 30, 1e-5), "query %d after removal", qi);
    }
    idx_stats st;
    idx_stats_get(ix, &st);
    CHECK(st.count == nk);
    /* Remove everything: empty again. */
    CHECK(idx_remove(ix, ids, n, &err) == 0);
    CHECK(idx_search(ix, v, 5, NULL, hits, &got, &err) == 0 && got == 0);
    idx_free(ix);
    free(v), free(ids), free(gone), free(kv), free(kid), free(ref);
}

/* Predicate: ids divisible by ctx's modulus. */
static int keep_mod(int64_t id, void *ctx) { return id % *(int64_t *)ctx == 0; }

typedef struct id_list {
    const int64_t *ids;
    size_t n;
} id_list;

static int keep_listed(int64_t id, void *ctx)
{
    const id_list *l = ctx;
    for (size_t i = 0; i < l->n; i++)
        if (l->ids[i] == id)
            return 1;
    return 0;
}

static int by_id_asc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The ids (of ids[n]) divisible by mod, sorted: a broad or narrow field
 * filter as the catalog compiles it (malloc'ed; *m its length). */
static int64_t *mod_list(const int64_t *ids, size_t n, int64_t mod, size_t *m)
{
    int64_t *l = malloc((n ? n : 1) * sizeof *l);
    *m = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] % mod == 0)
            l[(*m)++] = ids[i];
    qsort(l, *m, sizeof *l, by_id_asc);
    return l;
}

static void check_filters(idx_index *ix, const float *v, const int64_t *ids, size_t n,
                          const char *what)
{
    ds_err err;
    ref_hit *ref = malloc(n * sizeof *ref);
    idx_hit hits[40];
    int got;
    /* A selective id list (1%), sorted, with a duplicate and an unknown id. */
    int64_t sel[64];
    size_t ns = 0;
    for (size_t i = 5; i < n && ns < 60; i += n / 100)
        sel[ns++] = ids[i];
    sel[ns] = sel[ns - 1], ns++;
    sel[ns++] = INT64_MAX;
    id_list sl = {sel, ns};
    float *q = random_unit(3, DIM, 99);
    for (int qi = 0; qi < 3; qi++) {
        idx_filter f = {sel, ns, NULL};
        CHECK(idx_search(ix, q + qi * DIM, 40, &f, hits, &got, &err) == 0);
        size_t m = brute(v, ids, n, DIM, q + qi * DIM, keep_listed, &sl, ref);
        CHECKF(same_as_ref(hits, got, ref, m, 40, 1e-5), "%s: id list, query %d", what, qi);
        /* A broad list: every 2nd id; and a narrow one: every 97th. */
        int64_t mods[2] = {2, 97};
        for (int mi = 0; mi < 2; mi++) {
            size_t nm;
            int64_t *ml = mod_list(ids, n, mods[mi], &nm);
            idx_filter p = {ml, nm, NULL};
            CHECK(idx_search(ix, q + qi * DIM, 40, &p, hits, &got, &err) == 0);
            free(ml);
            m = brute(v, ids, n, DIM, q + qi * DIM, keep_mod, &mods[mi], ref);
            CHECKF(same_as_ref(hits, got, ref, m, 40, 1e-5), "%s: predicate mod %lld query %d",
                   what, (long long)mods[mi], qi);
            for (int i = 0; i < got; i++)
                CHECK(hits[i].id % mods[mi] == 0);
        }
    }
    /* An empty list allows nothing. */
    idx_filter none = {sel, 0, NULL};
    CHECK(idx_search(ix, q, 10, &none, hits, &got, &err) == 0 && got == 0);
    /* Field conditions reach an embedded index compiled to ids, never raw. */
    ds_filter where = {.loc_class = "12"};
    idx_filter raw = {NULL, 0, &where};
    CHECK(idx_search(ix, q, 10, &raw, hits, &got, &err) == -1 && err.code == DS_EUNSUPPORTED);
    ds_filter nothing = {0};
    idx_filter empty_where = {NULL, 0, &nothing};
    CHECK(idx_search(ix, q, 10, &empty_where, hits, &got, &err) == 0 && got == 10);
    free(ref), free(q);
}

static void test_flat_filters(void)
{
    ds_err err;
    size_t n = 20000;
    float *v = random_unit(n, DIM, 11);
    int64_t *ids = seq_ids(n, 1, 1);
    idx_index *ix = idx_flat_new(DIM, 0, &err);
    CHECK(idx_add(ix, ids, v, n, &err) == 0);
    check_filters(ix, v, ids, n, "flat");
    idx_free(ix);
    free(v), free(ids);
}

/* Searches on several threads while another thread adds and removes. */
typedef struct conc {
    idx_index *ix;
    const float *q;
    int failures, searches;
} conc;

static void *searcher(void *p)
{
    conc *c = p;
    idx_hit hits[10];
    int got;
    ds_err err;
    for (int i = 0; i < 200; i++) {
        if (idx_search(c->ix, c->q + (i % 4) * DIM, 10, NULL, hits, &got, &err) || got != 10) {
            c->failures++;
            continue;
        }
        for (int j = 1; j < got; j++)
            if (hits[j].score > hits[j - 1].score)
                c->failures++;
        c->searches++;
    }
    return NULL;
}

static void test_concurrent(void)
{
    ds_err err;
    size_t n = 8000;
    float *v = random_unit(n, DIM, 21);
    int64_t *ids = seq_ids(n, 0, 1);
    idx_index *ix = idx_flat_new(DIM, 0, &err);
    CHECK(idx_add(ix, ids, v, 1000, &err) == 0);
    float *q = random_unit(4, DIM, 22);
    conc c[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        c[t] = (conc){ix, q, 0, 0};
        pthread_create(&th[t], NULL, searcher, &c[t]);
    }
    for (size_t at = 1000; at < n; at += 500) {
        CHECK(idx_add(ix, ids + at, v + at * DIM, 500, &err) == 0);
        CHECK(idx_remove(ix, ids + at, 10, &err) == 0);
    }
    for (int t = 0; t < 3; t++) {
        pthread_join(th[t], NULL);
        CHECKF(c[t].failures == 0 && c[t].searches == 200, "thread %d: %d failures", t,
               c[t].failures);
    }
    idx_stats st;
    idx_stats_get(ix, &st);
    CHECK(st.count == n - 14 * 10);
    idx_free(ix);
    free(v), free(ids), free(q);
}

static void path_in_tmp(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", ds_test_tmpdir, name);
}

/* Do ix and back answer every query alike? */
static int agree(idx_index *ix, idx_index *back, const float *qs, int nq)
{
    ds_err err;
    for (int qi = 0; qi < nq; qi++) {
        idx_hit h1[20], h2[20];
        int n1 = -1, n2 = -2;
        if (idx_search(ix, qs + qi * DIM, 20, NULL, h1, &n1, &err) ||
            idx_search(back, qs + qi * DIM, 20, NULL, h2, &n2, &err) || n1 != n2 ||
            !same_hits(h1, h2, n1))
            return 0;
    }
    return 1;
}

/* Save, load (served from the mapped file), compare; then save the mapped
 * index again, and change both copies alike: the loaded one copies its
 * arrays out of the mapping first and must still agree. */
static void check_round_trip(idx_index *ix, const float *qs, int nq, const char *name)
{
    ds_err err;
    char path[512], again[600];
    path_in_tmp(path, sizeof path, name);
    snprintf(again, sizeof again, "%s.again", path);
    CHECK(idx_save(ix, path, 42, &err) == 0);
    idx_index *back = NULL, *back2 = NULL;
    CHECKF(idx_load(path, DIM, 42, &back, &err) == 0, "%s", err.msg);
    if (!back)
        return;
    CHECK(strcmp(idx_name(back), idx_name(ix)) == 0);
    idx_stats a, b;
    idx_stats_get(ix, &a);
    idx_stats_get(back, &b);
    CHECK(a.count == b.count && a.dim == b.dim && a.f16 == b.f16 && a.nlist == b.nlist &&
          a.trained == b.trained && a.prescan == b.prescan);
    CHECKF(b.mapped && !a.mapped, "%s: loaded index served from its file", name);
    CHECKF(agree(ix, back, qs, nq), "%s: loaded", name);
    CHECK(idx_save(back, again, 43, &err) == 0 && idx_load(again, DIM, 43, &back2, &err) == 0);
    CHECKF(back2 && agree(ix, back2, qs, nq), "%s: saved from the mapping", name);
    idx_free(back2);
    /* Change both: the first query's vector under a new id, one id gone. */
    idx_hit first[1];
    int got = 0;
    if (a.count && idx_search(ix, qs, 1, NULL, first, &got, &err) == 0 && got == 1) {
        int64_t fresh = 987654321;
        CHECK(idx_add(ix, &fresh, qs, 1, &err) == 0 && idx_add(back, &fresh, qs, 1, &err) == 0);
        CHECK(idx_remove(ix, &first[0].id, 1, &err) == 0 &&
              idx_remove(back, &first[0].id, 1, &err) == 0);
        idx_stats_get(back, &b);
        CHECKF(!b.mapped && b.count == a.count, "%s: changed copy owns its arrays", name);
        CHECKF(agree(ix, back, qs, nq), "%s: changed after loading", name);
        CHECK(idx_remove(ix, &fresh, 1, &err) == 0);
    }
    idx_free(back);
    unlink(again);
}

static void test_save_load(void)
{
    ds_err err;
    size_t n = 5000; /* with codes (from 4096) */
    float *v = random_unit(n, DIM, 31);
    int64_t *ids = seq_ids(n, 10, 2);
    float *q = random_unit(3, DIM, 32);
    for (int f16 = 0; f16 < 2; f16++) {
        idx_index *ix = idx_flat_new(DIM, f16, &err);
        CHECK(idx_add(ix, ids, v, n, &err) == 0);
        check_round_trip(ix, q, 3, f16 ? "flat16.idx" : "flat.idx");
        idx_free(ix);
    }
    /* An empty index round-trips too. */
    idx_index *empty = idx_flat_new(DIM, 0, &err);
    check_round_trip(empty, q, 1, "empty.idx");
    idx_free(empty);
    free(v), free(ids), free(q);
}

static void test_load_refuses_bad_files(void)
{
    ds_err err;
    size_t n = 500;
    float *v = random_unit(n, DIM, 41);
    int64_t *ids = seq_ids(n, 0, 1);
    idx_index *ix = idx_flat_new(DIM, 0, &err), *back = NULL;
    CHECK(idx_add(ix, ids, v, n, &err) == 0);
    char path[512], bad[512];
    path_in_tmp(path, sizeof path, "good.idx");
    path_in_tmp(bad, sizeof bad, "bad.idx");
    CHECK(idx_save(ix, path, 7, &err) == 0);
    size_t size;
    unsigned char *file = ds_test_read_file(path, &size);
    CHECK(file != NULL && size == 64 + 8 + n * 8 + n * DIM * 4);

    CHECK(idx_load(bad, DIM, 7, &back, &err) == -1 && err.code == DS_ENOTFOUND);
    CHECK(idx_load(path, DIM, 8, &back, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "stale");
    CHECK(idx_load(path, DIM + 1, 7, &back, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "dimension");
    /* Truncations: inside the header, inside the payload. */
    size_t cuts[] = {0, 10, 63, 64, 100, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        ds_test_write_file(bad, file, cuts[i]);
        CHECKF(idx_load(bad, DIM, 7, &back, &err) == -1 && back == NULL, "cut at %zu", cuts[i]);
        CHECK_MSG(err, "truncated");
    }
    /* Every single-byte flip at a spread of positions is caught. */
    ds_prng r;
    ds_prng_seed(&r, 43);
    for (int i = 0; i < 200; i++) {
        size_t at = i < 64 ? (size_t)i : (size_t)(ds_prng_next(&r) % size);
        file[at] ^= (unsigned char)(1u << (i % 8));
        ds_test_write_file(bad, file, size);
        int rc = idx_load(bad, 0, 7, &back, &err);
        CHECKF(rc == -1 && back == NULL, "flip at byte %zu accepted", at);
        if (at >= 64 && rc == -1)
            CHECK_MSG(err, "checksum");
        idx_free(back);
        back = NULL;
        file[at] ^= (unsigned char)(1u << (i % 8));
    }
    /* A file of another format version (as version 1 before the codes) is
     * refused by name, and the engine rebuilds it from the catalog. */
    {
        unsigned char old[64 + 8];
        memcpy(old, file, sizeof old);
        old[8] = 1;
        ds_test_write_file(bad, old, sizeof old);
        CHECK(idx_load(bad, DIM, 7, &back, &err) == -1 && err.code == DS_EFORMAT);
        CHECK_MSG(err, "version 1");
    }
    /* Not an index file at all. */
    char junk[100];
    memset(junk, '.', sizeof junk);
    memcpy(junk, "hello, this is not an index file", 32);
    ds_test_write_file(bad, junk, sizeof junk);
    CHECK(idx_load(bad, 0, 0, &back, &err) == -1 && err.code == DS_EFORMAT);
    CHECK_MSG(err, "magic");
    /* The intact file still loads, and no temporary file is left behind. */
    CHECK(idx_load(path, DIM, 7, &back, &err) == 0);
    idx_free(back);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()); /* this process's own */
    CHECK(ds_test_read_file(tmp, &size) == NULL);
    free(file);
    idx_free(ix);
    free(v), free(ids);
}

/* IVF: recall@10 against exact search on clustered data, filters (k hits
 * whenever k pass, through the exact fallback), removal, files. */
static void test_ivf(void)
{
    ds_err err;
    size_t n = 20000;
    float *v = clustered_unit(n, DIM, 200, 51);
    int64_t *ids = seq_ids(n, 1, 1);
    idx_index *ix = idx_ivf_new(DIM, 64, 16, &err), *exact = idx_flat_new(DIM, 0, &err);
    CHECK(ix && exact);
    /* Untrained below 32·nlist: exact. */
    CHECK(idx_add(ix, ids, v, 1000, &err) == 0);
    idx_stats st;
    idx_stats_get(ix, &st);
    CHECK(!st.trained && st.count == 1000 && st.nlist == 64 && st.nprobe == 16);
    CHECK(idx_add(ix, ids + 1000, v + 1000 * DIM, n - 1000, &err) == 0);
    CHECK(idx_add(exact, ids, v, n, &err) == 0);
    idx_stats_get(ix, &st);
    CHECK(st.trained && st.trained_on == n && st.count == n && strcmp(st.kind, "ivf") == 0);
    float *q = clustered_unit(100, DIM, 200, 51); /* same centres, new points */
    int found = 0, total = 0;
    for (int qi = 0; qi < 100; qi++) {
        idx_hit a[10], b[10];
        int na, nb;
        CHECK(idx_search(ix, q + qi * DIM, 10, NULL, a, &na, &err) == 0 && na == 10);
        CHECK(idx_search(exact, q + qi * DIM, 10, NULL, b, &nb, &err) == 0);
        for (int i = 0; i < nb; i++, total++)
            for (int j = 0; j < na; j++)
                found += a[j].id == b[i].id;
    }
    double recall = (double)found / total;
    CHECKF(recall >= 0.95, "recall@10 %.3f at nprobe 16", recall);
    CHECK(idx_ivf_set_nprobe(ix, 0, &err) == -1 && idx_ivf_set_nprobe(exact, 4, &err) == -1);
    /* Filters: exact answers even where the probed cells hold too few. */
    CHECK(idx_ivf_set_nprobe(ix, 64, &err) == 0); /* all cells: exact */
    check_filters(ix, v, ids, n, "ivf nprobe=all");
    CHECK(idx_ivf_set_nprobe(ix, 1, &err) == 0);
    {
        /* Ids of a single far cluster pass; probing 1 cell near the query finds none. */
        size_t nm;
        int64_t *ml = mod_list(ids, n, 997, &nm);
        idx_filter p = {ml, nm, NULL};
        idx_hit h[15];
        int got;
        CHECK(idx_search(ix, q, 15, &p, h, &got, &err) == 0);
        free(ml);
        CHECKF(got == 15, "filtered ivf search gave %d of 15", got);
        for (int i = 0; i < got; i++)
            CHECK(h[i].id % 997 == 0);
    }
    CHECK(idx_ivf_set_nprobe(ix, 16, &err) == 0);
    /* Removal. */
    CHECK(idx_remove(ix, ids, n / 2, &err) == 0);
    idx_stats_get(ix, &st);
    CHECK(st.count == n - n / 2);
    idx_hit h[10];
    int got;
    CHECK(idx_search(ix, v, 10, NULL, h, &got, &err) == 0 && got == 10);
    for (int i = 0; i < got; i++)
        CHECK(h[i].id > (int64_t)(n / 2));
    check_round_trip(ix, q, 5, "ivf.idx");
    idx_free(ix), idx_free(exact);
    free(v), free(ids), free(q);
}

/* Every page of an IVF query comes from one ranking: the best k hits are
 * the first k of the best 3000, whatever k, filtered or not (once the
 * probed cells' row count against k decided whether to rank exactly, so
 * pages overlapped and skipped). */
static void test_ivf_pages_agree(void)
{
    ds_err err;
    size_t n = 30000;
    float *v = clustered_unit(n, DIM, 200, 71), *q = random_unit(5, DIM, 72);
    int64_t *ids = seq_ids(n, 1, 1);
    idx_index *ix = idx_ivf_new(DIM, 64, 2, &err);
    CHECK(ix && idx_add(ix, ids, v, n, &err) == 0);
    size_t n_third;
    int64_t *third = mod_list(ids, n, 3, &n_third);
    idx_filter every_third = {third, n_third, NULL};
    const idx_filter *filters[] = {NULL, &every_third};
    enum { DEEP = 3000 };
    idx_hit *deep = malloc(DEEP * sizeof *deep), *page = malloc(DEEP * sizeof *page);
    static const int ks[] = {10, 100, 1000};
    for (size_t f = 0; f < 2; f++)
        for (int qi = 0; qi < 5; qi++) {
            int n_deep = 0;
            CHECK(idx_search(ix, q + qi * DIM, DEEP, filters[f], deep, &n_deep, &err) == 0 &&
                  n_deep == DEEP);
            for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
                int got = 0;
                CHECK(idx_search(ix, q + qi * DIM, ks[i], filters[f], page, &got, &err) == 0);
                CHECKF(got == ks[i] && same_hits(page, deep, got),
                       "filter %zu, query %d: top %d is not the top %d of %d", f, qi, ks[i],
                       ks[i], DEEP);
            }
        }
    free(deep), free(page), free(third);
    idx_free(ix);
    free(v), free(q), free(ids);
}

/* Search every query with the pre-scan on and off: the hits must be the
 * same, id for id and score for score (the pre-scan only skips rows). */
static int prescan_agrees(idx_index *ix, const float *q, int nq, int dim, int k,
                          const idx_filter *filter, const char *what)
{
    ds_err err;
    idx_hit *a = malloc((size_t)k * sizeof *a), *b = malloc((size_t)k * sizeof *b);
    int ok = 1;
    for (int qi = 0; qi < nq && ok; qi++) {
        int na = -1, nb = -2;
        ok = idx_set_prescan(ix, 1, &err) == 0 &&
             idx_search(ix, q + (size_t)qi * dim, k, filter, a, &na, &err) == 0 &&
             idx_set_prescan(ix, 0, &err) == 0 &&
             idx_search(ix, q + (size_t)qi * dim, k, filter, b, &nb, &err) == 0 && na == nb &&
             same_hits(a, b, na);
        if (!ok)
            fprintf(stderr, "    %s: query %d k %d: the pre-scan changed the hits\n", what, qi, k);
    }
    idx_set_prescan(ix, 1, &err);
    free(a), free(b);
    return ok;
}

/* The 8-bit pre-scan against the float scan, on data made to break its
 * bound if it were wrong: exact ties, vectors outside the fitted scale
 * (clamped codes), replaced and removed rows, non-unit queries and rows,
 * float16 rows, 384 dimensions, k from 1 to more than there are. */
static void test_prescan_is_exact(void)
{
    ds_err err;
    enum { D = 384, N = 6000 };
    for (int use_f16 = 0; use_f16 <= 1; use_f16++) {
        idx_index *ix = idx_flat_new(D, use_f16, &err);
        /* Fitted on vectors living in the first 64 dimensions... */
        float *v = random_unit(N, D, 90 + (uint64_t)use_f16);
        for (size_t i = 0; i < N; i++) {
            double norm = 0;
            for (int d = 0; d < D; d++)
                norm += d < 64 ? (double)v[i * D + d] * v[i * D + d] : 0;
            for (int d = 0; d < D; d++)
                v[i * D + d] = d < 64 ? (float)(v[i * D + d] / sqrt(norm)) : 0;
        }
        /* ...with 300 exact duplicates of one row under shuffled ids. */
        for (size_t i = 1; i <= 300; i++)
            memcpy(v + i * 17 * D, v, D * sizeof *v);
        int64_t *ids = seq_ids(N, 5, 7);
        for (size_t i = 0; i < N; i += 2)
            ids[i] = 100000 - (int64_t)i;
        CHECK(idx_add(ix, ids, v, N, &err) == 0);
        idx_stats st;
        idx_stats_get(ix, &st);
        CHECKF(st.prescan == 1, "codes in use after %d vectors", N);
        /* ...then rows the scale never saw, some replacing old ids, some
         * four times longer than unit, and some removed. */
        float *w = random_unit(800, D, 191);
        for (int i = 0; i < 100; i++)
            for (int d = 0; d < D; d++)
                w[i * D + d] *= 4;
        int64_t *wid = seq_ids(800, 1, 1);
        for (size_t i = 0; i < 400; i++)
            wid[i] = ids[i * 3];
        CHECK(idx_add(ix, wid, w, 800, &err) == 0);
        CHECK(idx_remove(ix, ids + 1, 500, &err) == 0);
        idx_stats_get(ix, &st);
        CHECK(st.prescan == 1);
        float *q = random_unit(12, D, 92);
        for (int d = 0; d < D; d++)
            q[D + d] = v[d] * 2.5f;          /* the duplicated row, scaled */
        memcpy(q + 2 * D, w + 5 * D, D * sizeof *q); /* an out-of-scale row */
        for (int d = 0; d < D; d++)
            q[3 * D + d] = (d < 64) ? q[3 * D + d] : 0; /* inside the fitted subspace */
        int ks[] = {1, 10, 57, 400, 20000};
        for (int ki = 0; ki < 5; ki++)
            CHECKF(prescan_agrees(ix, q, 12, D, ks[ki], NULL, "flat"), "f16 %d k %d", use_f16,
                   ks[ki]);
        /* The duplicates tie: the lowest ids win, as in the float scan. */
        idx_hit h[10];
        int got;
        CHECK(idx_search(ix, q + D, 10, NULL, h, &got, &err) == 0 && got == 10);
        for (int i = 1; i < 10; i++)
            CHECKF(h[i].score == h[0].score && h[i].id > h[i - 1].id, "f16 %d hit %d: id %lld %.9g", use_f16,
                   i, (long long)h[i].id, h[i].score);
        idx_free(ix);
        free(v), free(ids), free(w), free(wid), free(q);
    }
    /* IVF: probed cells, with and without a predicate. */
    size_t n = 12000;
    float *v = clustered_unit(n, DIM, 60, 93);
    int64_t *ids = seq_ids(n, 1, 1);
    idx_index *ix = idx_ivf_new(DIM, 32, 4, &err);
    CHECK(idx_add(ix, ids, v, n, &err) == 0);
    idx_stats st;
    idx_stats_get(ix, &st);
    CHECK(st.trained && st.prescan);
    float *q = clustered_unit(20, DIM, 60, 93);
    size_t nm;
    int64_t *ml = mod_list(ids, n, 3, &nm);
    idx_filter p = {ml, nm, NULL};
    CHECK(prescan_agrees(ix, q, 20, DIM, 10, NULL, "ivf"));
    CHECK(prescan_agrees(ix, q, 20, DIM, 100, &p, "ivf filtered"));
    /* After a file round trip, the codes are back and agree. */
    char file[512];
    path_in_tmp(file, sizeof file, "prescan.idx");
    idx_index *back = NULL;
    CHECK(idx_save(ix, file, 9, &err) == 0 && idx_load(file, DIM, 9, &back, &err) == 0);
    idx_stats_get(back, &st);
    CHECK(st.prescan);
    CHECK(prescan_agrees(back, q, 20, DIM, 10, NULL, "ivf loaded"));
    idx_free(back);
    idx_free(ix);
    free(v), free(ids), free(q), free(ml);
}

/* Every kernel set this CPU can run (AVX-512F, AVX2, portable) against a
 * double-precision reference, at dimensions around the vector widths and
 * row counts around the four-row unrolling. A set the CPU lacks is named
 * as not tested here. */
static void test_kernels(void)
{
    const char *names[] = {"avx512", "avx2", "portable"};
    const char *was = idx_kernel_name();
    int dims[] = {1, 7, 8, 9, 15, 16, 17, 33, 48, 384};
    ds_prng r;
    ds_prng_seed(&r, 77);
    float q[384], rows[9 * 384], out[9];
    uint16_t half[9 * 384];
    uint8_t codes[9 * 384];
    for (size_t i = 0; i < 9 * 384; i++) {
        rows[i] = (float)ds_prng_normal(&r) * 0.1f;
        half[i] = st_f32_to_f16(rows[i]);
        codes[i] = (uint8_t)(ds_prng_next(&r) & 0xff);
    }
    for (int d = 0; d < 384; d++)
        q[d] = (float)ds_prng_normal(&r) * 0.1f;
    for (int ki = 0; ki < 3; ki++) {
        if (idx_use_kernel(names[ki]) != 0) {
            fprintf(stderr, "    %s kernels: not tested, this CPU lacks them\n", names[ki]);
            continue;
        }
        for (int di = 0; di < 10; di++)
            for (int n = 1; n <= 9; n++) {
                int dim = dims[di];
                for (int kind = 0; kind < 3; kind++) {
                    if (kind == 0)
                        idx_dot_rows_f32(q, rows, (size_t)n, dim, out);
                    else if (kind == 1)
                        idx_dot_rows_f16(q, half, (size_t)n, dim, out);
                    else
                        idx_dot_rows_u8(q, codes, (size_t)n, dim, out);
                    for (int i = 0; i < n; i++) {
                        double want = 0, mag = 0;
                        for (int d = 0; d < dim; d++) {
                            size_t at = (size_t)i * dim + (size_t)d;
                            double x = kind == 0   ? rows[at]
                                       : kind == 1 ? st_f16_to_f32(half[at])
                                                   : codes[at];
                            want += (double)q[d] * x;
                            mag += fabs((double)q[d] * x);
                        }
                        /* The worst-case rounding of a float sum of dim terms. */
                        CHECKF(fabs(out[i] - want) <= (dim + 2) * 1.2e-7 * mag + 1e-30,
                               "%s kind %d dim %d n %d row %d: %.9g, want %.9g", names[ki], kind,
                               dim, n, i, out[i], want);
                    }
                }
            }
        /* And the pre-scan stays exact with these kernels. */
        ds_err err;
        size_t n = 5000;
        float *v = clustered_unit(n, DIM, 30, 78);
        int64_t *ids = seq_ids(n, 1, 1);
        idx_index *ix = idx_flat_new(DIM, 0, &err);
        CHECK(idx_add(ix, ids, v, n, &err) == 0);
        CHECKF(prescan_agrees(ix, v, 10, DIM, 10, NULL, names[ki]), "%s", names[ki]);
        idx_free(ix);
        free(v), free(ids);
    }
    CHECK(idx_use_kernel(was) == 0);
    CHECK(idx_use_kernel("sse9") == -1);
}

const ds_test index_tests[] = {
    {"flat_exact", test_flat_exact},
    {"flat_f16", test_flat_f16},
    {"flat_ties_and_edges", test_flat_ties_and_edges},
    {"flat_remove", test_flat_remove},
    {"flat_filters", test_flat_filters},
    {"concurrent", test_concurrent},
    {"save_load", test_save_load},
    {"load_refuses_bad_files", test_load_refuses_bad_files},
    {"ivf", test_ivf},
    {"ivf_pages_agree", test_ivf_pages_agree},
    {"prescan_is_exact", test_prescan_is_exact},
    {"kernels", test_kernels},
    {0},
};
