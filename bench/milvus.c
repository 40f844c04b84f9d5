/* bench/milvus.c - the scale-out backends (Milvus + S3) against the embedded
 * ones (in-process index, SQLite, data directory), side by side in one run.
 *
 *   build/bench/milvus [--n N] [--queries Q] [--patents P] [--no-search]
 *                      [--no-import] [DINOSEEK_BIN]
 *
 * It starts the same real servers the tests use (tests/peers/peers.py:
 * Milvus 2.3.5 standalone and SeaweedFS, from PyPI, on 127.0.0.1) and stops
 * them at the end.
 *
 * Search: N (default 100000) clustered 384-d unit vectors go into Milvus as
 * the seed system put them (bench/milvus_load.py: pymilvus, the seed's
 * design_patents_full schema, IVF_FLAT nlist 128, COSINE) and into the
 * embedded exact and IVF (nlist 128) indexes. Q (200) queries from the same
 * distribution, one at a time, k = 10, nprobe 16 (the seed's), through:
 * dinoseek's Milvus client (REST), pymilvus (gRPC, the seed's client), the
 * embedded IVF and the embedded exact index. p50/p99 and recall@10 against
 * exact.
 *
 * Import: a synthetic USPTO week (`dinoseek sample generate`, P patents)
 * with generated ViT-S/14 weights, imported by the real binary with the
 * embedded defaults and again with --index milvus --blobs s3://...: images/s
 * and where the time went.
 *
 * The machine is shared and noisy: compare the ratios within one run.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/prng.h"
#include "index/index.h"
#include "milvus/milvus.h"

enum { DIM = 384, K = 10, NLIST = 128, NPROBE = 16, CENTRES = 1000 };
#define PEERS "/usr/bin/python3 tests/peers/peers.py"
#define COLL "bench_design_patents_full"

static char tmp[256];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench/milvus: %s\n", what);
    exit(1);
}

/* Run a shell command; its stdout (malloc'ed) or NULL when it failed. */
static char *capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    int st = pclose(p);
    if (!buf || st != 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The value of "key=" in peers.py's key=value line. */
static void field(const char *line, const char *key, char *out, size_t n)
{
    char pat[64];
    size_t kl = (size_t)snprintf(pat, sizeof pat, "%s=", key);
    const char *p = line;
    while ((p = strstr(p, pat)) && p != line && p[-1] != ' ')
        p++;
    out[0] = '\0';
    if (!p)
        return;
    p += kl;
    size_t l = strcspn(p, " \n");
    snprintf(out, n, "%.*s", (int)(l < n ? l : n - 1), p);
}

/* ---- vectors ----------------------------------------------------------------- */

static void normalise(float *x)
{
    double s = 0;
    for (int d = 0; d < DIM; d++)
        s += (double)x[d] * x[d];
    s = 1.0 / sqrt(s);
    for (int d = 0; d < DIM; d++)
        x[d] = (float)(x[d] * s);
}

/* n unit vectors around CENTRES fixed centres, as bench/search makes its
 * clustered set: image embeddings come in families, and an IVF's recall
 * depends on it. */
static float *clustered(size_t n, uint64_t seed)
{
    float *v = malloc(n * DIM * sizeof *v), *cent = malloc(CENTRES * DIM * sizeof *cent);
    if (!v || !cent)
        die("out of memory");
    ds_prng r;
    ds_prng_seed(&r, 0xC0FFEE);
    for (int i = 0; i < CENTRES * DIM; i++)
        cent[i] = (float)ds_prng_normal(&r);
    for (int c = 0; c < CENTRES; c++)
        normalise(cent + c * DIM);
    ds_prng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        const float *c = cent + (ds_prng_next(&r) % CENTRES) * DIM;
        for (int d = 0; d < DIM; d++)
            v[i * DIM + d] = c[d] + 0.25f * (float)ds_prng_normal(&r) * 4.0f / sqrtf(DIM);
        normalise(v + i * DIM);
    }
    free(cent);
    return v;
}

static void write_f32(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof *v, n * DIM, f) != n * DIM || fclose(f) != 0)
        die("cannot write the vectors");
}

/* ---- latencies and recall --------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *ms, int n, double p)
{
    qsort(ms, (size_t)n, sizeof *ms, by_value);
    int i = (int)ceil(p * n) - 1;
    return ms[i < 0 ? 0 : i];
}

/* Mean share of the exact top k found, over nq queries (rows as ids). */
static double recall(const int64_t *got, const int64_t *truth, int nq)
{
    double sum = 0;
    for (int q = 0; q < nq; q++) {
        int hit = 0;
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                hit += got[q * K + i] >= 0 && got[q * K + i] == truth[q * K + j];
        sum += (double)hit / K;
    }
    return sum / nq;
}

static void row(const char *name, double *ms, int nq, const int64_t *got, const int64_t *truth)
{
    double p50 = pct(ms, nq, 0.5), p99 = pct(ms, nq, 0.99);
    printf("  %-44s %8.2f %8.2f   %.3f\n", name, p50, p99, recall(got, truth, nq));
}

static void embedded(idx_index *ix, const float *q, int nq, int64_t *out, double *ms)
{
    idx_hit hits[K];
    for (int i = 0; i < nq; i++) {
        int got = 0;
        ds_err err = {0};
        double t0 = now_ms();
        if (idx_search(ix, q + (size_t)i * DIM, K, NULL, hits, &got, &err) != 0)
            die(err.msg);
        ms[i] = now_ms() - t0;
        for (int j = 0; j < K; j++)
            out[i * K + j] = j < got ? hits[j].id : -1;
    }
}

static void bench_search(const char *milvus_uri, const char *py, size_t n, int nq)
{
    char path[512], qpath[512], cmd[2048];
    printf("== search: %zu clustered 384-d unit vectors, %d queries one at a time, k = %d, "
           "nprobe %d\n", n, nq, K, NPROBE);
    float *v = clustered(n, 1), *q = clustered((size_t)nq, 2);
    snprintf(path, sizeof path, "%s/v.f32", tmp);
    snprintf(qpath, sizeof qpath, "%s/q.f32", tmp);
    write_f32(path, v, n);
    write_f32(qpath, q, (size_t)nq);

    snprintf(cmd, sizeof cmd, "%s bench/milvus_load.py %s load " COLL " %s %d", py, milvus_uri,
             path, DIM);
    char *out = capture(cmd);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    if (!j)
        die("loading Milvus through pymilvus failed");
    printf("  loaded into Milvus by pymilvus: insert %.1f s, index + load %.1f s\n",
           json_number_value(json_object_get(j, "insert_s")),
           json_number_value(json_object_get(j, "index_s")));
    json_decref(j);
    free(out);

    int64_t *ids = malloc(n * sizeof *ids), *truth = malloc((size_t)nq * K * sizeof *truth),
            *got = malloc((size_t)nq * K * sizeof *got);
    double *ms = malloc((size_t)nq * sizeof *ms);
    for (size_t i = 0; i < n; i++)
        ids[i] = (int64_t)i;
    ds_err err = {0};
    idx_index *flat = idx_flat_new(DIM, 0, &err), *ivf = idx_ivf_new(DIM, NLIST, NPROBE, &err);
    if (!flat || !ivf || idx_add(flat, ids, v, n, &err) || idx_add(ivf, ids, v, n, &err))
        die(err.msg);
    printf("  %-44s %8s %8s   %s\n", "", "p50 ms", "p99 ms", "recall@10");
    embedded(flat, q, nq, truth, ms);
    row("embedded exact (flat, 8-bit pre-scan)", ms, nq, truth, truth);
    embedded(ivf, q, nq, got, ms);
    row("embedded IVF nlist 128", ms, nq, got, truth);

    mv_config cfg = {.uri = milvus_uri, .timeout_ms = 20000};
    mv_client *c = NULL;
    if (mv_open(&cfg, &c, &err) != 0)
        die(err.msg);
    static const char *const fields[] = {"file_name", NULL};
    for (int i = 0; i < nq; i++) {
        mv_search_req req = {.vector = q + (size_t)i * DIM, .dim = DIM, .limit = K,
                             .fields = fields, .nprobe = NPROBE};
        json_t *hits = NULL;
        double t0 = now_ms();
        if (mv_search(c, COLL, &req, &hits, &err) != 0)
            die(err.msg);
        ms[i] = now_ms() - t0;
        for (int k = 0; k < K; k++) {
            const char *f = json_string_value(json_object_get(json_array_get(hits, (size_t)k),
                                                              "file_name"));
            got[i * K + k] = f && f[0] == 'v' ? strtoll(f + 1, NULL, 10) : -1;
        }
        json_decref(hits);
    }
    char name[96];
    snprintf(name, sizeof name, "Milvus IVF_FLAT, dinoseek's client (REST %s)",
             mv_get_dialect(c) == MV_V2 ? "v2" : "v1");
    mv_close(c);
    row(name, ms, nq, got, truth);

    snprintf(cmd, sizeof cmd, "%s bench/milvus_load.py %s search " COLL " %s %d %d %d", py,
             milvus_uri, qpath, DIM, K, NPROBE);
    out = capture(cmd);
    j = out ? json_loads(out, 0, NULL) : NULL;
    json_t *pms = json_object_get(j, "ms"), *phits = json_object_get(j, "hits");
    if (json_array_size(pms) != (size_t)nq)
        die("the pymilvus search failed");
    for (int i = 0; i < nq; i++) {
        ms[i] = json_number_value(json_array_get(pms, (size_t)i));
        json_t *h = json_array_get(phits, (size_t)i);
        for (int k = 0; k < K; k++)
            got[i * K + k] = k < (int)json_array_size(h)
                                 ? json_integer_value(json_array_get(h, (size_t)k)) : -1;
    }
    row("Milvus IVF_FLAT, pymilvus (gRPC, the seed's)", ms, nq, got, truth);
    json_decref(j);
    free(out);
    idx_free(flat);
    idx_free(ivf);
    free(v), free(q), free(ids), free(truth), free(got), free(ms);
}

/* ---- import ------------------------------------------------------------------ */

typedef struct import_figures {
    double rate, seconds, embed_s, write_s, write_pct;
    long stored;
} import_figures;

static import_figures run_import(const char *cmd)
{
    import_figures f = {0};
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    char *out = capture(full);
    const char *s = out ? strstr(out, ": done: ") : NULL;
    const char *t = out ? strstr(out, "write ") : NULL;
    const char *em = out ? strstr(out, "embed ") : NULL;
    if (!s) {
        fprintf(stderr, "%s\n", out ? out : "(no output)");
        die("an import failed");
    }
    f.stored = strtol(s + 8, NULL, 10);
    const char *r = strstr(s, " s, ");
    if (r) {
        const char *back = r;
        while (back > s && back[-1] != ' ')
            back--;
        f.seconds = strtod(back, NULL);
        f.rate = strtod(r + 4, NULL);
    }
    if (t)
        sscanf(t, "write %lf s (%lf%%)", &f.write_s, &f.write_pct);
    if (em)
        sscanf(em, "embed %lf s", &f.embed_s);
    free(out);
    return f;
}

static void bench_import(const char *bin, const char *milvus_uri, const char *s3, int patents)
{
    char cmd[4096];
    printf("\n== import: a synthetic USPTO week of %d design patents, generated ViT-S/14, "
           "2 workers\n", patents);
    snprintf(cmd, sizeof cmd, "%s model generate --arch small --seed 1 %s/model >/dev/null 2>&1 "
             "&& %s sample generate %s/sample --patents %d --seed 5 >/dev/null 2>&1",
             bin, tmp, bin, tmp, patents);
    if (system(cmd) != 0)
        die("cannot generate the model or the sample");
    const char *common = "--workers 2 --collection week";
    snprintf(cmd, sizeof cmd, "%s import %s/sample/I*.tar --data %s/embedded --model %s/model %s",
             bin, tmp, tmp, tmp, common);
    import_figures a = run_import(cmd);
    snprintf(cmd, sizeof cmd,
             "%s import %s/sample/I*.tar --data %s/scaled --model %s/model %s --index milvus "
             "--milvus-uri %s --blobs s3://bench/week --s3-endpoint %s",
             bin, tmp, tmp, tmp, common, milvus_uri, s3);
    import_figures b = run_import(cmd);
    printf("  %-36s %8s %8s %10s %8s %12s\n", "", "images", "s", "images/s", "embed s",
           "write s (%)");
    printf("  %-36s %8ld %8.1f %10.2f %8.1f %7.1f (%2.0f)\n", "embedded (SQLite + index + dir)",
           a.stored, a.seconds, a.rate, a.embed_s, a.write_s, a.write_pct);
    printf("  %-36s %8ld %8.1f %10.2f %8.1f %7.1f (%2.0f)\n", "Milvus + S3 (SeaweedFS)", b.stored,
           b.seconds, b.rate, b.embed_s, b.write_s, b.write_pct);
    if (a.rate > 0)
        printf("  Milvus + S3 / embedded: %.2fx the rate\n", b.rate / a.rate);
}

/* ---- main --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    size_t n = 100000;
    int nq = 200, patents = 40, do_search = 1, do_import = 1;
    const char *bin = "build/dinoseek";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            nq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--patents") && i + 1 < argc)
            patents = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-search"))
            do_search = 0;
        else if (!strcmp(argv[i], "--no-import"))
            do_import = 0;
        else if (argv[i][0] != '-')
            bin = argv[i];
        else
            die("usage: bench/milvus [--n N] [--queries Q] [--patents P] [--no-search] "
                "[--no-import] [DINOSEEK_BIN]");
    }
    if (n < 1000 || nq < 1 || patents < 1)
        die("--n is at least 1000, --queries and --patents at least 1");
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures as they come, also into a file */
    snprintf(tmp, sizeof tmp, "/tmp/dinoseek-bench-milvus-XXXXXX");
    if (!mkdtemp(tmp))
        die("mkdtemp");

    char cmd[1024], s3[256], milvus[256], key[128], secret[128];
    snprintf(cmd, sizeof cmd, PEERS " start s3 %s/s3", tmp);
    char *line = capture(cmd);
    snprintf(cmd, sizeof cmd, PEERS " start milvus %s/milvus", tmp);
    char *mline = line ? capture(cmd) : NULL;
    char *py = mline ? capture(PEERS " python") : NULL;
    if (!line || !mline || !py) {
        snprintf(cmd, sizeof cmd, PEERS " stop %s/s3; " PEERS " stop %s/milvus", tmp, tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "bench/milvus: the servers did not all stop\n");
        die("the servers did not start (see tests/peers/peers.py)");
    }
    py[strcspn(py, "\n")] = '\0';
    field(line, "endpoint", s3, sizeof s3);
    field(line, "access_key", key, sizeof key);
    field(line, "secret_key", secret, sizeof secret);
    field(mline, "endpoint", milvus, sizeof milvus);
    setenv("AWS_ACCESS_KEY_ID", key, 1);
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    printf("servers: Milvus 2.3.5 standalone at %s, SeaweedFS (S3) at %s\n", milvus, s3);

    if (do_search)
        bench_search(milvus, py, n, nq);
    if (do_import)
        bench_import(bin, milvus, s3, patents);

    snprintf(cmd, sizeof cmd, PEERS " stop %s/s3; " PEERS " stop %s/milvus; rm -rf %s", tmp,
             tmp, tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "bench/milvus: the servers did not all stop\n");
    free(line), free(mline), free(py);
    return 0;
}
