/* bench/search.c - the vector index against faiss-cpu on the same data.
 *
 *   build/bench/search [--quick] [--threads N] [--python PATH]
 *
 * For random and for clustered unit vectors (384-d) at 100k and 1M (--quick:
 * 100k only): p50/p99 of one-query flat search (k = 10, float32 and float16),
 * IVF (nlist 128) recall@10 against exact and latency at nprobe 8/16/32, and
 * a filtered query keeping 1% of the vectors (an id list: filters reach the
 * embedded index compiled to ids, see index.h). The same vectors go to a file that bench/faiss_search.py
 * reads for IndexFlatIP / IndexIVFFlat with the same thread count; ratios
 * are printed as faiss time / our time (> 1: we are faster).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/prng.h"
#include "index/index.h"
#include "index/internal.h" /* idx_kernel_name */
#include "model/ops.h"

enum { DIM = 384, NQ = 200, K = 10, NLIST = 128 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void normalise(float *x)
{
    double s = 0;
    for (int d = 0; d < DIM; d++)
        s += (double)x[d] * x[d];
    s = 1.0 / sqrt(s);
    for (int d = 0; d < DIM; d++)
        x[d] = (float)(x[d] * s);
}

/* n unit vectors: random directions, or around 1000 centres (spread 0.25).
 * Row i depends only on (seed, i), so generation is parallel. */
static float *make_vectors(size_t n, int clustered, uint64_t seed)
{
    float *v = malloc(n * DIM * sizeof *v);
    float *cent = malloc(1000 * DIM * sizeof *cent);
    if (!v || !cent) {
        free(v), free(cent);
        return NULL;
    }
    for (int c = 0; c < 1000; c++) {
        ds_prng r;
        ds_prng_seed(&r, 0xC0FFEE + (uint64_t)c);
        for (int d = 0; d < DIM; d++)
            cent[c * DIM + d] = (float)ds_prng_normal(&r);
        normalise(cent + c * DIM);
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        ds_prng r;
        ds_prng_seed(&r, seed * 0x9E3779B97F4A7C15ull + i);
        float *x = v + i * DIM;
        const float *c = cent + (ds_prng_next(&r) % 1000) * DIM;
        for (int d = 0; d < DIM; d++) {
            float g = (float)ds_prng_normal(&r);
            x[d] = clustered ? c[d] + 0.25f * g * (float)(1.0 / sqrt(DIM) * 4) : g;
        }
        normalise(x);
    }
    free(cent);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct lat {
    double p50, p99;
} lat;

static lat percentiles(double *ms, int n)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    lat l = {ms[n / 2], ms[(int)(n * 0.99) < n ? (int)(n * 0.99) : n - 1]};
    return l;
}

/* Time nq single-query searches; hits[nq·K] get the results. */
static lat time_search(idx_index *ix, const float *qs, int nq, const idx_filter *f, idx_hit *hits)
{
    double ms[NQ];
    ds_err err;
    for (int q = 0; q < nq; q++) {
        int got;
        double t = now_ms();
        if (idx_search(ix, qs + (size_t)q * DIM, K, f, hits + (size_t)q * K, &got, &err))
            fprintf(stderr, "search: %s\n", err.msg);
        ms[q] = now_ms() - t;
    }
    return percentiles(ms, nq);
}

static double recall(const idx_hit *got, const idx_hit *truth, int nq)
{
    int found = 0;
    for (int q = 0; q < nq; q++)
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                found += got[q * K + j].id == truth[q * K + i].id;
    return (double)found / (nq * K);
}

typedef struct faiss_res {
    int ok;
    lat flat, flat_filtered, ivf[3];
    double train_s, recall[3];
} faiss_res;

static faiss_res run_faiss(const char *python, const char *vpath, const char *qpath, size_t n,
                           int threads)
{
    faiss_res r;
    memset(&r, 0, sizeof r);
    char cmd[1024], line[256];
    snprintf(cmd, sizeof cmd, "%s bench/faiss_search.py %s %s %zu %d %d %d %d", python, vpath,
             qpath, n, NQ, DIM, threads, NLIST);
    FILE *p = popen(cmd, "r");
    if (!p)
        return r;
    while (fgets(line, sizeof line, p)) {
        int np;
        double a, b, c;
        if (sscanf(line, "flat_filtered %lf %lf", &a, &b) == 2)
            r.flat_filtered = (lat){a, b};
        else if (sscanf(line, "flat %lf %lf", &a, &b) == 2)
            r.flat = (lat){a, b}, r.ok = 1;
        else if (sscanf(line, "ivf_train %lf", &a) == 1)
            r.train_s = a;
        else if (sscanf(line, "ivf %d %lf %lf %lf", &np, &a, &b, &c) == 4) {
            int i = np == 8 ? 0 : np == 16 ? 1 : 2;
            r.ivf[i] = (lat){a, b}, r.recall[i] = c;
        }
    }
    pclose(p);
    return r;
}

/* Are the hits of nq queries identical (ids and scores)? */
static int same_hits(const idx_hit *a, const idx_hit *b, int nq)
{
    for (int i = 0; i < nq * K; i++)
        if (a[i].id != b[i].id || a[i].score != b[i].score)
            return 0;
    return 1;
}

static int write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int rc = fwrite(v, sizeof *v, n, f) == n ? 0 : -1;
    return fclose(f) || rc ? -1 : 0;
}

static int bench_one(size_t n, int clustered, int threads, const char *python)
{
    int rc = -1;
    ds_err err;
    const char *kind = clustered ? "clustered" : "random";
    printf("\n## %zu × %d, %s unit vectors, %d threads, k = %d\n", n, DIM, kind, threads, K);
    double t0 = now_ms();
    float *v = make_vectors(n, clustered, 1 + (uint64_t)clustered);
    float *qs = make_vectors(NQ, clustered, 1000 + (uint64_t)clustered);
    int64_t *ids = malloc(n * sizeof *ids);
    idx_hit *truth = malloc(NQ * K * sizeof *truth), *hits = malloc(NQ * K * sizeof *hits);
    int64_t *sel = malloc((n / 100 + 1) * sizeof *sel);
    idx_index *flat = NULL, *flat16 = NULL, *ivf = NULL;
    char vpath[64], qpath[64];
    snprintf(vpath, sizeof vpath, "/tmp/dinoseek-bench-v-%d.f32", (int)getpid());
    snprintf(qpath, sizeof qpath, "/tmp/dinoseek-bench-q-%d.f32", (int)getpid());
    if (!v || !qs || !ids || !truth || !hits || !sel)
        goto out;
    size_t nsel = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = (int64_t)i;
        if (i % 100 == 0)
            sel[nsel++] = (int64_t)i;
    }
    if (write_floats(vpath, v, n * DIM) || write_floats(qpath, qs, NQ * DIM)) {
        fprintf(stderr, "cannot write %s\n", vpath);
        goto out;
    }
    printf("data: %.1f s\n", (now_ms() - t0) / 1e3);
    int nflat = n <= 200000 ? 100 : 30;

    flat = idx_flat_new(DIM, 0, &err);
    flat16 = idx_flat_new(DIM, 1, &err);
    if (!flat || !flat16 || idx_add(flat, ids, v, n, &err) || idx_add(flat16, ids, v, n, &err))
        goto fail;
    /* Ground truth (and warm-up) from the plain float scan; then the
     * default, pre-scanned search, which must give the same hits. */
    idx_set_prescan(flat, 0, &err);
    time_search(flat, qs, NQ, NULL, truth);
    lat lf_plain = time_search(flat, qs, nflat, NULL, hits);
    idx_set_prescan(flat, 1, &err);
    lat lf = time_search(flat, qs, nflat, NULL, hits);
    int same = same_hits(hits, truth, nflat);
    idx_set_prescan(flat16, 0, &err);
    lat lh_plain = time_search(flat16, qs, nflat, NULL, hits);
    idx_set_prescan(flat16, 1, &err);
    lat lh = time_search(flat16, qs, nflat, NULL, hits);
    double r16 = recall(hits, truth, nflat);
    idx_filter byid = {sel, nsel, NULL};
    lat lfi = time_search(flat, qs, nflat, &byid, hits);

    t0 = now_ms();
    ivf = idx_ivf_new(DIM, NLIST, 16, &err);
    if (!ivf || idx_add(ivf, ids, v, n, &err))
        goto fail;
    double train_s = (now_ms() - t0) / 1e3;
    lat li[3];
    double rec[3];
    int probes[3] = {8, 16, 32};
    for (int i = 0; i < 3; i++) {
        idx_ivf_set_nprobe(ivf, probes[i], &err);
        li[i] = time_search(ivf, qs, NQ, NULL, hits);
        rec[i] = recall(hits, truth, NQ);
    }
    idx_ivf_set_nprobe(ivf, 16, &err);
    idx_set_prescan(ivf, 0, &err);
    lat li_plain = time_search(ivf, qs, NQ, NULL, hits);
    idx_set_prescan(ivf, 1, &err);
    lat lii = time_search(ivf, qs, NQ, &byid, hits);

    /* Free our copies before faiss loads its own. */
    idx_free(flat), idx_free(flat16), idx_free(ivf);
    flat = flat16 = ivf = NULL;
    faiss_res fr = {0};
    if (python)
        fr = run_faiss(python, vpath, qpath, n, threads);

    printf("| search | p50 ms | p99 ms | recall@10 | faiss p50 ms | faiss p99 ms | faiss recall | "
           "speed vs faiss (p50) |\n|---|---|---|---|---|---|---|---|\n");
#define ROW(name, l, rcl, fl, frcl)                                                              \
    printf("| %s | %.2f | %.2f | %s | %s | %s | %s | %s |\n", name, (l).p50, (l).p99, rcl, fl,  \
           fl##99, frcl, fr.ok ? ratio : "-")
    char rcl[32], frcl[32], fl[32], fl99[32], ratio[32];
    /* flat */
    snprintf(fl, sizeof fl, fr.ok ? "%.2f" : "-", fr.flat.p50);
    snprintf(fl99, sizeof fl99, fr.ok ? "%.2f" : "-", fr.flat.p99);
    snprintf(ratio, sizeof ratio, "%.2f×", fr.flat.p50 / lf_plain.p50);
    ROW("flat f32, plain float scan", lf_plain, "1 (exact)", fl, "1");
    snprintf(ratio, sizeof ratio, "%.2f×", fr.flat.p50 / lf.p50);
    ROW("flat f32 (8-bit pre-scan, default)", lf, same ? "1 (same hits)" : "DIFFERENT HITS", fl,
        "1");
    snprintf(rcl, sizeof rcl, "%.4f", r16);
    snprintf(ratio, sizeof ratio, "%.2f×", fr.flat.p50 / lh_plain.p50);
    ROW("flat f16, plain float scan", lh_plain, rcl, fl, "1");
    snprintf(ratio, sizeof ratio, "%.2f×", fr.flat.p50 / lh.p50);
    ROW("flat f16 (8-bit pre-scan, default)", lh, rcl, fl, "1");
    snprintf(fl, sizeof fl, fr.ok ? "%.2f" : "-", fr.flat_filtered.p50);
    snprintf(fl99, sizeof fl99, fr.ok ? "%.2f" : "-", fr.flat_filtered.p99);
    snprintf(ratio, sizeof ratio, "%.2f×", fr.flat_filtered.p50 / lfi.p50);
    ROW("flat, 1% id list", lfi, "exact", fl, "exact");
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "ivf nlist %d nprobe %d", NLIST, probes[i]);
        snprintf(rcl, sizeof rcl, "%.4f", rec[i]);
        snprintf(fl, sizeof fl, fr.ok ? "%.2f" : "-", fr.ivf[i].p50);
        snprintf(fl99, sizeof fl99, fr.ok ? "%.2f" : "-", fr.ivf[i].p99);
        snprintf(frcl, sizeof frcl, fr.ok ? "%.4f" : "-", fr.recall[i]);
        snprintf(ratio, sizeof ratio, "%.2f×", fr.ivf[i].p50 / li[i].p50);
        ROW(name, li[i], rcl, fl, frcl);
    }
    printf("| ivf nprobe 16, plain float scan | %.2f | %.2f | %.4f | | | | |\n", li_plain.p50,
           li_plain.p99, rec[1]);
    printf("| ivf nprobe 16, 1%% id list | %.2f | %.2f | exact | | | | |\n", lii.p50, lii.p99);
    printf("\nivf build (add + k-means + assignment): ours %.2f s", train_s);
    if (fr.ok)
        printf(", faiss train + add %.2f s", fr.train_s);
    printf("\n");
    fflush(stdout);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "bench: %s\n", err.msg);
out:
    unlink(vpath), unlink(qpath);
    idx_free(flat), idx_free(flat16), idx_free(ivf);
    free(v), free(qs), free(ids), free(truth), free(hits), free(sel);
    return rc;
}

int main(int argc, char **argv)
{
    int quick = 0, threads = 2;
    const char *python = access(".venv/bin/python", X_OK) == 0 ? ".venv/bin/python" : NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--python") && i + 1 < argc)
            python = argv[++i];
        else if (!strcmp(argv[i], "--no-faiss"))
            python = NULL;
        else {
            fprintf(stderr, "usage: %s [--quick] [--threads N] [--python PATH] [--no-faiss]\n",
                    argv[0]);
            return 2;
        }
    }
    ops_set_threads(threads);
    printf("# bench/search: %d threads, %s kernels%s\n", threads, idx_kernel_name(),
           python ? ", faiss-cpu beside" : "");
    size_t sizes[2] = {100000, 1000000};
    for (int s = 0; s < (quick ? 1 : 2); s++)
        for (int c = 0; c < 2; c++)
            if (bench_one(sizes[s], c, threads, python))
                return 1;
    return 0;
}
