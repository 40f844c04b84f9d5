/* http.c - `dinoseek serve` under load, as a client sees it.
 *
 *   build/bench/http [--seconds S] [--vectors N] [--precision P]
 *
 * Makes a data directory with N random vectors (default 10,000) plus the
 * sample images, all with generated ViT-S/14 weights; then, against the real
 * binary on 127.0.0.1:
 *   - cold start: process start to the first 200 from GET /health;
 *   - RSS when idle, and the most seen under load;
 *   - POST /api/search (a 320x240 JPEG, top_k 10) from 1, 2 and 8 concurrent
 *     connections for S seconds each: p50, p99 and requests per second.
 * --precision makes the collection in P and serves it so (default: the
 * server's auto on an f32 collection, i.e. f32).
 */
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/prng.h"
#include "catalog/catalog.h"
#include "harness.h"
#include "model/generate.h"

#define QUERY "tests/fixtures/images/parity_photo.jpg"

/* Random unit vectors as catalog images (the index is rebuilt from them at
 * start, as it would be after an import). */
static int fill_catalog(const char *data, int n, const char *precision, ds_err *err)
{
    cat_db *db;
    int64_t coll;
    if (cat_open(data, &db, err) != 0)
        return -1;
    int rc = cat_collection_ensure(db, "patent_images", "generated/dinov2-small-seed1", 384, 224,
                                   "native", precision, &coll, err);
    ds_prng r;
    ds_prng_seed(&r, 42);
    float v[384];
    for (int i = 0; i < n && rc == 0; i++) {
        if (i % 512 == 0 && (rc = cat_begin(db, err)) != 0)
            break;
        double norm = 0;
        for (int k = 0; k < 384; k++) {
            v[k] = (float)ds_prng_normal(&r);
            norm += (double)v[k] * v[k];
        }
        for (int k = 0; k < 384; k++)
            v[k] = (float)(v[k] / sqrt(norm));
        char name[64];
        snprintf(name, sizeof name, "random-%07d.png", i);
        cat_image img = {.file_name = name, .image_index = 0};
        rc = cat_image_add(db, coll, &img, v, 384, NULL, err);
        if (rc == 0 && (i % 512 == 511 || i == n - 1))
            rc = cat_commit(db, err);
    }
    cat_close(db);
    return rc;
}

typedef struct load {
    int port, stop;
    void *query;
    size_t query_len;
    double *lat;
    int n, cap, errors;
    pthread_mutex_t lock;
} load;

static void *client(void *arg)
{
    load *l = arg;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/search", l->port);
    CURL *c = curl_easy_init();
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_data(p, l->query, l->query_len);
    curl_mime_filename(p, "q.jpg");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bh_discard);
    while (!__atomic_load_n(&l->stop, __ATOMIC_SEQ_CST)) {
        double t0 = bh_now_ms();
        long status = 0;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        double ms = bh_now_ms() - t0;
        pthread_mutex_lock(&l->lock);
        if (status != 200)
            l->errors++;
        else if (l->n < l->cap)
            l->lat[l->n++] = ms;
        pthread_mutex_unlock(&l->lock);
    }
    curl_mime_free(m);
    curl_easy_cleanup(c);
    return NULL;
}

static void run_load(int port, pid_t pid, int conns, double seconds, void *q, size_t qlen,
                     long *peak_rss)
{
    load l = {.port = port, .query = q, .query_len = qlen, .cap = 100000};
    l.lat = malloc(sizeof(double) * (size_t)l.cap);
    pthread_mutex_init(&l.lock, NULL);
    pthread_t t[8];
    double t0 = bh_now_ms();
    for (int i = 0; i < conns; i++)
        pthread_create(&t[i], NULL, client, &l);
    while (bh_now_ms() - t0 < seconds * 1000) {
        usleep(100000);
        long kb = bh_rss_kb(pid);
        *peak_rss = kb > *peak_rss ? kb : *peak_rss;
    }
    __atomic_store_n(&l.stop, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < conns; i++)
        pthread_join(t[i], NULL);
    double elapsed = (bh_now_ms() - t0) / 1000.0;
    qsort(l.lat, (size_t)l.n, sizeof *l.lat, bh_cmp_double);
    printf("  %d connection%s: %5d requests, %6.2f req/s, p50 %7.1f ms, p99 %7.1f ms, %d errors\n",
           conns, conns > 1 ? "s" : " ", l.n, l.n / elapsed, bh_quantile(l.lat, (size_t)l.n, 0.5),
           bh_quantile(l.lat, (size_t)l.n, 0.99), l.errors);
    free(l.lat);
}

int main(int argc, char **argv)
{
    double seconds = 10;
    int vectors = 10000;
    const char *precision = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--vectors"))
            vectors = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--precision"))
            precision = argv[i + 1];
    }
    const char *bin = getenv("DINOSEEK_BIN") ? getenv("DINOSEEK_BIN") : "build/dinoseek";
    char dir[] = "/tmp/dinoseek-bench-http-XXXXXX", data[128], model[128], cmd[1024];
    if (!mkdtemp(dir))
        return 1;
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(model, sizeof model, "%s/model", dir);
    mkdir(data, 0755);
    ds_err err = {0};
    if (mdl_generate("small", 1, ST_F32, model, &err) != 0 ||
        fill_catalog(data, vectors, precision, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    snprintf(cmd, sizeof cmd, "%s add --data %s --model %s%s%s tests/fixtures/images/parity_*.png "
             "tests/fixtures/images/drawing_g4.tif 2>/dev/null", bin, data, model,
             precision ? " --precision " : "", precision ? precision : "");
    if (system(cmd) != 0)
        fprintf(stderr, "bench: adding sample images failed\n");
    FILE *f = fopen(QUERY, "rb");
    static char query[1 << 20];
    size_t qlen = f ? fread(query, 1, sizeof query, f) : 0;
    if (f)
        fclose(f);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port = bh_free_port();
    /* Twice: the first start rebuilds and saves the index; the second is a
     * cold start of a server whose data is in place. */
    for (int round = 0; round < 2; round++) {
        double cold;
        const char *extra[] = {"--precision", precision, NULL};
        pid_t pid = bh_serve(bin, data, model, port, precision ? extra : NULL, NULL, 60000, &cold);
        if (pid < 0) {
            fprintf(stderr, "bench: the server did not start\n");
            return 1;
        }
        usleep(300000);
        long idle = bh_rss_kb(pid), peak = idle;
        if (round == 0) {
            printf("first start (index rebuilt from %d vectors): %.0f ms\n", vectors + 5, cold);
        } else {
            printf("cold start (process start to /health 200): %.0f ms\n", cold);
            printf("RSS idle: %.1f MB\n", idle / 1024.0);
            printf("POST /api/search, %s (320x240 JPEG), top_k 10, precision %s, %.0f s per "
                   "run:\n", QUERY, precision ? precision : "auto (f32 collection)", seconds);
            for (int conns = 1; conns <= 8; conns *= (conns == 2 ? 4 : 2))
                run_load(port, pid, conns, seconds, query, qlen, &peak);
            printf("RSS peak under load: %.1f MB\n", peak / 1024.0);
        }
        bh_stop(pid, 60000);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
