/* bench/words.c - search by words over a catalog of synthetic patents.
 *
 *   build/bench/words [--patents N] [--queries Q] [--import-patents M]
 *                     [--threads T] [--dir DIR]
 *
 * Builds a catalog of N patents (default 1,000,000) whose titles, claims and
 * names are the sample generator's (sample_patent_text), written through
 * cat_patent_upsert in batches of 1000, so that the FTS5 index is kept by
 * the catalog's own triggers. Then, over Q queries of each kind (default
 * 200) whose words are drawn from random patents (so a word is asked about
 * as often as patents hold it):
 *
 *   - p50/p99 of cat_text_search (top 10, with the total count, as the
 *     engine asks) for one word, two words, a phrase, a prefix, a field
 *     query, and a word in every patent ("ornamental");
 *   - beside each, the same FTS5 MATCH issued straight to SQLite on its own
 *     connection (the ranked top 10 alone: the floor), and its count(*);
 *   - hybrid: one random unit vector per patent (384-d) in a flat index;
 *     image-only = the index's 100 best mapped to patents; hybrid = that
 *     plus the words' 100 best (cat_text_search) fused by RRF (fusion.h),
 *     as src/engine/words.c does, timed query by query side by side;
 *   - import: M patents (default 200,000) written into two fresh catalogs,
 *     one with the FTS triggers and one with them dropped, a batch to each
 *     in turn, so that the machine's other load falls on both alike.
 *
 * The catalog lives in DIR (default a new directory under /tmp, removed at
 * the end; a DIR given is kept, and a catalog found in DIR/catalog is
 * searched again without being rebuilt: --import-patents 0 --dir DIR reruns
 * the searches alone). Each search's wall time is printed, and the CPU
 * time of our search beside it: on a shared machine the difference is
 * time spent waiting for a core. SQLite answers a query on one thread; T (default 2) is the
 * index's OpenMP threads.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/prng.h"
#include "catalog/catalog.h"
#include "engine/fusion.h"
#include "index/index.h"
#include "sample/sample.h"
#include "text/query.h"

enum { DIM = 384, BATCH = 1000, TOP = 10, WINDOW = 100, WARM = 20 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* This thread's CPU time: the machine is shared, and a query waiting for a
 * core shows in the wall time but not here. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)ceil(q * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void die(const char *what, const ds_err *err)
{
    fprintf(stderr, "bench/words: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(buf, n, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
}

/* ---- writing patents ------------------------------------------------------- */

static void to_patent(const sample_text *t, cat_patent *p)
{
    memset(p, 0, sizeof *p);
    p->patent_id = (char *)t->patent_id;
    p->kind = "S1";
    p->title = (char *)t->title;
    p->loc_class = (char *)t->loc_class;
    p->loc_edition = "14";
    p->pub_date = "2022-10-25";
    p->grant_term = 15;
    p->applicant_name = (char *)t->applicant;
    p->applicant_country = "US";
    p->inventor_names = (char *)t->inventors;
    p->assignee_name = t->assignee[0] ? (char *)t->assignee : NULL;
    p->claim_text = (char *)t->claim;
    p->image_count = 1;
}

/* Patents first .. first + n - 1 of the week, in one batch. */
static void write_batch(cat_db *db, int64_t coll, const sample_opts *o, int first, int n)
{
    ds_err err = {0};
    sample_text t;
    cat_patent p;
    if (cat_begin(db, &err) != 0)
        die("begin", &err);
    for (int i = first; i < first + n; i++) {
        sample_patent_text(o, i, &t);
        to_patent(&t, &p);
        if (cat_patent_upsert(db, coll, &p, &err) != 0)
            die("upsert", &err);
    }
    if (cat_commit(db, &err) != 0)
        die("commit", &err);
}

static cat_db *open_catalog(const char *dir, int64_t *coll)
{
    ds_err err = {0};
    cat_db *db;
    if (cat_open(dir, &db, &err) != 0)
        die("cat_open", &err);
    if (cat_collection_ensure(db, "default", "bench/random", DIM, 224, "seed", NULL, coll,
                              &err) != 0)
        die("collection", &err);
    return db;
}

static void exec_sql(sqlite3 *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench/words: %s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

/* ---- import with and without the index -------------------------------------- */

static void bench_import(const char *root, const sample_opts *o, int m)
{
    char with_dir[1100], without_dir[1100], path[1200];
    snprintf(with_dir, sizeof with_dir, "%s/import-fts", root);
    snprintf(without_dir, sizeof without_dir, "%s/import-plain", root);
    if (mkdir(with_dir, 0755) != 0 || mkdir(without_dir, 0755) != 0) {
        perror("bench/words: mkdir");
        exit(1);
    }
    int64_t cw, cp;
    cat_db *with = open_catalog(with_dir, &cw);
    cat_db *plain = open_catalog(without_dir, &cp);
    /* The catalog without the text index: its triggers dropped on a
     * connection of our own (migrations only run on older files, so
     * cat_open leaves them dropped). */
    cat_close(plain);
    sqlite3 *s;
    snprintf(path, sizeof path, "%s/catalog.sqlite3", without_dir);
    if (sqlite3_open(path, &s) != SQLITE_OK)
        die("sqlite3_open", NULL);
    exec_sql(s, "DROP TRIGGER patents_fts_insert; DROP TRIGGER patents_fts_update; "
                "DROP TRIGGER patents_fts_delete;");
    sqlite3_close(s);
    plain = open_catalog(without_dir, &cp);
    double t_with = 0, t_plain = 0;
    for (int first = 0; first < m; first += BATCH) {
        int n = m - first < BATCH ? m - first : BATCH;
        /* Alternate which goes first, so neither always follows the other. */
        for (int k = 0; k < 2; k++) {
            int do_with = (k == 0) == ((first / BATCH) % 2 == 0);
            double t0 = now_ms();
            write_batch(do_with ? with : plain, do_with ? cw : cp, o, first, n);
            *(do_with ? &t_with : &t_plain) += now_ms() - t0;
        }
    }
    cat_close(with);
    cat_close(plain);
    printf("import, %d patents into a new catalog, batches of %d, side by side:\n", m, BATCH);
    printf("  with the text index     %8.0f patents/s  (%.1f s)\n", m / (t_with / 1e3),
           t_with / 1e3);
    printf("  without (triggers off)  %8.0f patents/s  (%.1f s)\n", m / (t_plain / 1e3),
           t_plain / 1e3);
    printf("  the index costs %+.1f%% of the patents' write time\n",
           (t_with / t_plain - 1) * 100);
}

/* ---- queries ----------------------------------------------------------------- */

enum { Q_WORD, Q_TWO, Q_PHRASE, Q_PREFIX, Q_FIELD, Q_COMMON, Q_KINDS };
static const char *const kind_names[Q_KINDS] = {
    "one word", "two words", "a phrase", "a prefix", "title:word", "common (every patent)"};

/* The words (letters, 3 or more) of s, appended to words[*n] (at most max). */
static void split_words(const char *s, char words[][64], int *n, int max)
{
    while (*s && *n < max) {
        while (*s && !isalpha((unsigned char)*s))
            s++;
        const char *b = s;
        while (*s && (isalpha((unsigned char)*s) || (unsigned char)*s >= 0x80))
            s++;
        if (s - b >= 3 && s - b < 64) {
            memcpy(words[*n], b, (size_t)(s - b));
            words[*n][s - b] = '\0';
            (*n)++;
        }
    }
}

/* A query of this kind, its words those of a random patent. */
static void make_query(int kind, const sample_opts *o, int n_patents, ds_prng *r, char *q,
                       size_t qn)
{
    sample_text t;
    char pool[24][64], title[8][64];
    int np = 0, nt = 0;
    sample_patent_text(o, (int)(ds_prng_next(r) % (uint64_t)n_patents), &t);
    split_words(t.title, pool, &np, 24);
    split_words(t.applicant, pool, &np, 24);
    split_words(t.inventors, pool, &np, 24);
    split_words(t.title, title, &nt, 8);
    const char *a = pool[ds_prng_next(r) % (uint64_t)np];
    const char *b = pool[ds_prng_next(r) % (uint64_t)np];
    switch (kind) {
    case Q_WORD:
        snprintf(q, qn, "%s", a);
        break;
    case Q_TWO:
        for (int tries = 0; strcmp(a, b) == 0 && tries < 8; tries++)
            b = pool[ds_prng_next(r) % (uint64_t)np];
        snprintf(q, qn, "%s %s", a, b);
        break;
    case Q_PHRASE: /* two adjacent words: the title's, else the applicant's */
    {
        char words[8][64];
        int nw = 0;
        split_words(t.title, words, &nw, 8);
        if (nw < 2) {
            nw = 0;
            split_words(t.applicant, words, &nw, 8);
        }
        if (nw < 2)
            snprintf(q, qn, "\"%s\"", words[0]);
        else {
            int i = (int)(ds_prng_next(r) % (uint64_t)(nw - 1));
            snprintf(q, qn, "\"%s %s\"", words[i], words[i + 1]);
        }
        break;
    }
    case Q_PREFIX: {
        int len = (int)strlen(a), keep = len - 2 < 3 ? 3 : len - 2;
        snprintf(q, qn, "%.*s*", keep, a);
        break;
    }
    case Q_FIELD:
        snprintf(q, qn, "title:%s", title[ds_prng_next(r) % (uint64_t)nt]);
        break;
    default:
        snprintf(q, qn, "ornamental");
        break;
    }
}

#define STR_(x) #x
#define STR(x) STR_(x)
static const char floor_sql[] =
    "SELECT rowid, bm25(patents_fts, " STR(CAT_WEIGHT_TITLE) ", " STR(CAT_WEIGHT_CLAIM) ", "
    STR(CAT_WEIGHT_NAMES) ", " STR(CAT_WEIGHT_NAMES) ", " STR(CAT_WEIGHT_NAMES) ", "
    STR(CAT_WEIGHT_IDS) ", " STR(CAT_WEIGHT_IDS) ") AS score FROM patents_fts "
    "WHERE patents_fts MATCH ?1 ORDER BY score, rowid LIMIT 10"; /* TOP */
static const char count_sql[] = "SELECT count(*) FROM patents_fts WHERE patents_fts MATCH ?1";

/* Rows of st for match; the time in ms. */
static double time_sql(sqlite3_stmt *st, const char *match, int64_t *rows)
{
    double t0 = now_ms();
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    *rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        (*rows)++;
    if (rc != SQLITE_DONE)
        die("floor query", NULL);
    sqlite3_reset(st);
    return now_ms() - t0;
}

static double time_ours(cat_db *db, int64_t coll, const char *q, size_t limit,
                        cat_text_hit **hits_out, size_t *n_out, int64_t *total)
{
    ds_err err = {0};
    tq_query *tq;
    cat_filter f;
    memset(&f, 0, sizeof f);
    double t0 = now_ms();
    if (tq_parse(q, strlen(q), &tq, NULL, &err) != 0)
        die(q, &err);
    cat_text_hit *hits;
    size_t n;
    if (cat_text_search(db, coll, tq, &f, 0, limit, &hits, &n, total, &err) != 0)
        die(q, &err);
    tq_free(tq);
    double ms = now_ms() - t0;
    if (hits_out) {
        *hits_out = hits;
        *n_out = n;
    } else {
        cat_text_hits_free(hits, n);
    }
    return ms;
}

static char *fts5_of(const char *q)
{
    ds_err err = {0};
    tq_query *tq;
    char *match;
    if (tq_parse(q, strlen(q), &tq, NULL, &err) != 0 || tq_to_fts5(tq, &match, &err) != 0)
        die(q, &err);
    tq_free(tq);
    return match;
}

static void bench_words(cat_db *db, int64_t coll, sqlite3 *s, const sample_opts *o, int n,
                        int nq)
{
    sqlite3_stmt *floor_st, *count_st;
    if (sqlite3_prepare_v2(s, floor_sql, -1, &floor_st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s, count_sql, -1, &count_st, NULL) != SQLITE_OK)
        die(sqlite3_errmsg(s), NULL);
    double *ours = malloc(sizeof(double) * (size_t)nq), *fl = malloc(sizeof(double) * (size_t)nq),
           *cnt = malloc(sizeof(double) * (size_t)nq), *matches = malloc(sizeof(double) * (size_t)nq),
           *cpu = malloc(sizeof(double) * (size_t)nq);
    printf("search by words, %d patents, %d queries each, top %d with the total count "
           "(as the engine asks); ms\n", n, nq, TOP);
    printf("  %-22s %8s %8s %8s   %8s %8s   %8s   %10s  %s\n", "query", "ours p50", "p99",
           "CPU p50", "floor p50", "p99", "count p50", "matches p50", "e.g.");
    ds_prng r;
    for (int kind = 0; kind < Q_KINDS; kind++) {
        ds_prng_seed(&r, 0x5EED0000u + (uint64_t)kind);
        char example[256] = "";
        /* The common word is one query, ranked over every patent: a few
         * runs tell its time. */
        int runs = kind == Q_COMMON && nq > 20 ? 20 : nq;
        for (int i = kind == Q_COMMON ? -2 : -WARM; i < runs; i++) {
            char q[256];
            make_query(kind, o, n, &r, q, sizeof q);
            if (i == 0)
                snprintf(example, sizeof example, "%s", q);
            char *match = fts5_of(q);
            int64_t total, rows, count;
            double c0 = cpu_ms();
            double a = time_ours(db, coll, q, TOP, NULL, NULL, &total);
            double a_cpu = cpu_ms() - c0;
            double b = time_sql(floor_st, match, &rows);
            double c = time_sql(count_st, match, &rows);
            sqlite3_bind_text(count_st, 1, match, -1, SQLITE_STATIC);
            sqlite3_step(count_st);
            count = sqlite3_column_int64(count_st, 0);
            sqlite3_reset(count_st);
            if (count != total) {
                fprintf(stderr, "bench/words: %s: %lld matches by count(*), %lld by the catalog\n",
                        q, (long long)count, (long long)total);
                exit(1);
            }
            free(match);
            if (i >= 0) {
                ours[i] = a, fl[i] = b, cnt[i] = c, matches[i] = (double)total, cpu[i] = a_cpu;
            }
        }
        double op50 = quantile(ours, runs, 0.5), op99 = quantile(ours, runs, 0.99);
        double fp50 = quantile(fl, runs, 0.5), fp99 = quantile(fl, runs, 0.99);
        printf("  %-22s %8.2f %8.2f %8.2f   %8.2f %8.2f   %8.2f   %10.0f  %s%s\n",
               kind_names[kind], op50, op99, quantile(cpu, runs, 0.5), fp50, fp99,
               quantile(cnt, runs, 0.5), quantile(matches, runs, 0.5), example,
               runs < nq ? "  (20 runs)" : "");
        fflush(stdout);
    }
    sqlite3_finalize(floor_st);
    sqlite3_finalize(count_st);
    free(ours), free(fl), free(cnt), free(matches), free(cpu);
}

/* ---- hybrid ------------------------------------------------------------------- */

static void random_unit(ds_prng *r, float *x)
{
    double s = 0;
    for (int d = 0; d < DIM; d++) {
        x[d] = (float)ds_prng_normal(r);
        s += (double)x[d] * x[d];
    }
    for (int d = 0; d < DIM; d++)
        x[d] = (float)(x[d] / sqrt(s));
}

static idx_index *make_index(int n)
{
    ds_err err = {0};
    idx_index *ix = idx_flat_new(DIM, 0, &err);
    if (!ix)
        die("index", &err);
    enum { CHUNK = 65536 };
    float *v = malloc(sizeof(float) * DIM * CHUNK);
    int64_t *ids = malloc(sizeof(int64_t) * CHUNK);
    for (int first = 0; first < n; first += CHUNK) {
        int m = n - first < CHUNK ? n - first : CHUNK;
#pragma omp parallel for schedule(static)
        for (int i = 0; i < m; i++) {
            ds_prng r;
            ds_prng_seed(&r, 0xABCDu * 0x9E3779B97F4A7C15ull + (uint64_t)(first + i));
            random_unit(&r, v + (size_t)i * DIM);
            ids[i] = first + i;
        }
        if (idx_add(ix, ids, v, (size_t)m, &err) != 0)
            die("idx_add", &err);
    }
    free(v);
    free(ids);
    return ix;
}

/* The image leg: the index's WINDOW best, each vector's patent as its key
 * (one vector a patent: grouping by patent changes nothing). */
static int image_leg(idx_index *ix, const float *q, char (*ids)[16], fuse_hit *leg)
{
    ds_err err = {0};
    idx_hit hits[WINDOW];
    int n;
    if (idx_search(ix, q, WINDOW, NULL, hits, &n, &err) != 0)
        die("idx_search", &err);
    for (int i = 0; i < n; i++) {
        leg[i].key = ids[hits[i].id];
        leg[i].score = hits[i].score;
    }
    return n;
}

static void bench_hybrid(cat_db *db, int64_t coll, idx_index *ix, char (*ids)[16],
                         const sample_opts *o, int n, int nq)
{
    double *img = malloc(sizeof(double) * (size_t)nq), *hyb = malloc(sizeof(double) * (size_t)nq);
    ds_prng r, vr;
    ds_prng_seed(&r, 0x4B1D);
    ds_prng_seed(&vr, 0xFACE);
    float q[DIM];
    fuse_hit ileg[WINDOW], wleg[WINDOW];
    for (int i = -WARM; i < nq; i++) {
        char words[256];
        make_query(Q_WORD, o, n, &r, words, sizeof words);
        random_unit(&vr, q);
        double t0 = now_ms();
        int ni = image_leg(ix, q, ids, ileg);
        double a = now_ms() - t0;

        t0 = now_ms();
        ni = image_leg(ix, q, ids, ileg);
        cat_text_hit *hits;
        size_t nh;
        int64_t total;
        time_ours(db, coll, words, WINDOW, &hits, &nh, &total);
        for (size_t k = 0; k < nh; k++) {
            wleg[k].key = hits[k].patent_id;
            wleg[k].score = hits[k].score;
        }
        fuse_leg legs[2] = {{ileg, ni, 1.0}, {wleg, (int)nh, 1.0}};
        fuse_result *fused;
        int nf;
        ds_err err = {0};
        if (fuse(legs, 2, FUSE_RRF, FUSE_DEFAULT_RRF_K, &fused, &nf, &err) != 0)
            die("fuse", &err);
        double b = now_ms() - t0;
        free(fused);
        cat_text_hits_free(hits, nh);
        if (i >= 0)
            img[i] = a, hyb[i] = b;
    }
    double ip50 = quantile(img, nq, 0.5), hp50 = quantile(hyb, nq, 0.5);
    printf("hybrid, %d patents, one random %d-d unit vector each (flat index, %d threads), "
           "one word, window %d, RRF; %d queries, ms:\n",
           n, DIM, omp_get_max_threads(), WINDOW, nq);
    printf("  image only  p50 %8.2f  p99 %8.2f\n", ip50, quantile(img, nq, 0.99));
    printf("  hybrid      p50 %8.2f  p99 %8.2f   (+%.2f ms over image only)\n", hp50,
           quantile(hyb, nq, 0.99), hp50 - ip50);
    free(img), free(hyb);
}

/* ---- main ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int n = 1000000, nq = 200, m = 200000, threads = 2;
    const char *dir_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--patents") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            nq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--import-patents") && i + 1 < argc)
            m = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir_arg = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--patents N] [--queries Q] [--import-patents M] "
                            "[--threads T] [--dir DIR]\n", argv[0]);
            return 2;
        }
    }
    if (n < 1 || n > SAMPLE_MAX_PATENTS || nq < 1 || m < 0 || m > SAMPLE_MAX_PATENTS ||
        threads < 1) {
        fprintf(stderr, "bench/words: --patents 1..%d, --queries >= 1, --import-patents "
                        "0..%d, --threads >= 1\n", SAMPLE_MAX_PATENTS, SAMPLE_MAX_PATENTS);
        return 2;
    }
    omp_set_num_threads(threads);
    char cpu[256], root[1024];
    cpu_model(cpu, sizeof cpu);
    if (dir_arg)
        snprintf(root, sizeof root, "%s", dir_arg);
    else {
        snprintf(root, sizeof root, "/tmp/dinoseek-bench-words-XXXXXX");
        if (!mkdtemp(root)) {
            perror("bench/words: mkdtemp");
            return 1;
        }
    }
    printf("# bench/words: %s, %ld cores online, %d threads, SQLite %s\n", cpu,
           sysconf(_SC_NPROCESSORS_ONLN), threads, sqlite3_libversion());
    sample_opts o;
    sample_opts_default(&o);

    if (m > 0)
        bench_import(root, &o, m);

    char main_dir[1100], path[1200];
    snprintf(main_dir, sizeof main_dir, "%s/catalog", root);
    if (mkdir(main_dir, 0755) != 0 && !(dir_arg && errno == EEXIST)) {
        perror("bench/words: mkdir");
        return 1;
    }
    /* A catalog left in --dir by an earlier run of the same --patents is
     * searched again as it is (to rerun the searches alone). */
    snprintf(path, sizeof path, "%s/catalog.sqlite3", main_dir);
    int reuse = dir_arg && access(path, F_OK) == 0;
    int64_t coll;
    cat_db *db = open_catalog(main_dir, &coll);
    if (reuse) {
        printf("catalog of %d patents: the one already in %s\n", n, main_dir);
    } else {
        double t0 = now_ms();
        for (int first = 0; first < n; first += BATCH)
            write_batch(db, coll, &o, first, n - first < BATCH ? n - first : BATCH);
        double build_s = (now_ms() - t0) / 1e3;
        printf("catalog of %d patents written (with the text index) in %.1f s: %.0f patents/s\n",
               n, build_s, n / build_s);
    }
    fflush(stdout);

    sqlite3 *s;
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("sqlite3_open", NULL);
    bench_words(db, coll, s, &o, n, nq);
    sqlite3_close(s);

    char(*ids)[16] = malloc(sizeof *ids * (size_t)n);
    sample_text t;
    for (int i = 0; i < n; i++) {
        sample_patent_text(&o, i, &t);
        memcpy(ids[i], t.patent_id, sizeof ids[i]);
    }
    idx_index *ix = make_index(n);
    bench_hybrid(db, coll, ix, ids, &o, n, nq);
    idx_free(ix);
    free(ids);
    cat_close(db);
    if (!dir_arg) {
        char cmd[1100];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "bench/words: could not remove %s\n", root);
    }
    return 0;
}
