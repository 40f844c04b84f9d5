/* kill_import.c - the crash-safety soak series (`make soak`, issue #12).
 *
 * SIGKILLs `dinoseek import` of a generated USPTO week at random moments,
 * reruns it after each kill, and checks that the data directory then holds
 * exactly what an uninterrupted import of the same week holds:
 *
 *   - the catalog, read straight from SQLite: the same image rows (name,
 *     patent, place, blob key, size, sha256), the same vectors (within
 *     1e-4: batches of another size may round differently), the same
 *     patents field by field, no content twice, integrity_check ok, every
 *     job finished (done, or interrupted for the killed ones);
 *   - the blobs: the same files with the same sha256, a sidecar for each,
 *     no temporary file left behind, no blob without its row;
 *   - the index: `dinoseek stats` loads the saved file as it is (no
 *     rebuild: the last run wrote a current one) and counts every row.
 *
 * Kills land uniformly within an uninterrupted run's time (model loading
 * included), so they hit start-up, decoding, embedding and commits. After
 * a run that finishes before its kill the import is complete: that round
 * is checked, and the next one starts again on an empty directory, until
 * the wanted number of kills is reached. A final rerun ends the last round.
 *
 *   kill_import [--bin PATH] [--kills N] [--patents N] [--seed S] [--keep]
 *
 * Prints each kill (moment, rows committed by then), the figures, and exits
 * 0 when every check held, 1 on any mismatch, 2 when it could not run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/prng.h"
#include "base/sha256.h"

#define DIM 384          /* the generated ViT-S model's vectors */
#define TOLERANCE 1e-4f

typedef struct options {
    const char *bin;
    int kills, patents, keep;
    unsigned long long seed;
    char work[512];      /* the temporary directory of the whole series */
} options;

static int mismatches;   /* checks that failed, over every round */

#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "kill_import: MISMATCH: " __VA_ARGS__);           \
            fputc('\n', stderr);                                              \
            mismatches++;                                                     \
        }                                                                     \
    } while (0)

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- running dinoseek --------------------------------------------------------- */

/* Start argv with stdout and stderr appended to log; the child's pid. */
static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Wait for pid: its exit status, or 128 + the signal that ended it. */
static int reap(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(char *const argv[], const char *log)
{
    pid_t pid = spawn(argv, log);
    return pid < 0 ? -1 : reap(pid);
}

/* `dinoseek import WEEK --data DATA` (batches of 4 when killed: more
 * commits to land in), started. */
static pid_t start_import(const options *o, const char *data, int small_batches,
                          const char *log)
{
    char week[700], model[700];
    snprintf(week, sizeof week, "%s/week", o->work);
    snprintf(model, sizeof model, "%s/model", o->work);
    char *argv[] = {(char *)o->bin, "import", week, "--data", (char *)data, "--model", model,
                    "--collection", "designs", "--batch", small_batches ? "4" : "32", NULL};
    return spawn(argv, log);
}

/* ---- what a data directory holds ------------------------------------------------- */

typedef struct image_row {
    char key[1024];      /* file_name|patent_id|image_index|object_key|w|h|hash */
    char hash[80];
    float vec[DIM];
} image_row;

typedef struct listing {
    char **lines;        /* "relative/path sha256", sorted */
    size_t n, cap;
} listing;

typedef struct snapshot {
    image_row *rows;
    size_t n;
    char *patents;       /* every patent's fields, one line each, sorted */
    char *jobs;          /* the statuses of the jobs, in order: "interrupted done" */
    char integrity[64];
    listing blobs, sidecars;
    size_t temporaries;  /* .tmp-* files a put left behind */
    long long index_count;
    int index_rebuilt;
} snapshot;

static int listing_add(listing *l, const char *line)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        char **p = realloc(l->lines, cap * sizeof *p);
        if (!p)
            return -1;
        l->lines = p;
        l->cap = cap;
    }
    if (!(l->lines[l->n] = strdup(line)))
        return -1;
    l->n++;
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing_free(listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
}

/* nftw has no context argument: the walk fills these. */
static snapshot *walk_into;
static size_t walk_root_len;

static int hash_file(const char *path, char hex[DS_SHA256_HEXLEN + 1])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    ds_sha256 s;
    unsigned char buf[65536], digest[DS_SHA256_LEN];
    size_t got;
    ds_sha256_init(&s);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        ds_sha256_update(&s, buf, got);
    fclose(f);
    ds_sha256_final(&s, digest);
    ds_sha256_hex(digest, hex);
    return 0;
}

static int on_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    if (type != FTW_F)
        return 0;
    const char *name = path + ftw->base, *rel = path + walk_root_len;
    char line[2048], hex[DS_SHA256_HEXLEN + 1];
    if (strncmp(name, ".tmp-", 5) == 0) {
        fprintf(stderr, "kill_import: a temporary file was left: %s\n", rel);
        walk_into->temporaries++;
        return 0;
    }
    if (name[0] == '.') /* a sidecar: its blob's name is enough */
        return listing_add(&walk_into->sidecars, rel);
    if (hash_file(path, hex) != 0)
        return -1;
    snprintf(line, sizeof line, "%s %s", rel, hex);
    return listing_add(&walk_into->blobs, line);
}

static int read_blobs(const char *data, snapshot *s)
{
    char root[700];
    snprintf(root, sizeof root, "%s/blobs", data);
    walk_into = s;
    walk_root_len = strlen(root) + 1;
    if (nftw(root, on_file, 32, FTW_PHYS) != 0)
        return -1;
    qsort(s->blobs.lines, s->blobs.n, sizeof *s->blobs.lines, by_string);
    qsort(s->sidecars.lines, s->sidecars.n, sizeof *s->sidecars.lines, by_string);
    return 0;
}

/* Every row of a query as text, one line per row (columns joined by '|'),
 * into a malloc'ed string. */
static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_str *out = sqlite3_str_new(db);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            sqlite3_str_appendf(out, "%s%s", c ? "|" : "", v ? (const char *)v : "NULL");
        }
        sqlite3_str_appendchar(out, 1, '\n');
    }
    sqlite3_finalize(st);
    char *text = sqlite3_str_finish(out);
    char *copy = strdup(text ? text : "");
    sqlite3_free(text);
    return copy;
}

static int read_images(sqlite3 *db, snapshot *s)
{
    const char *sql =
        "SELECT i.file_name, i.patent_id, i.image_index, i.object_key, i.width, i.height, "
        "i.content_hash, i.vector FROM images i JOIN collections c ON c.id = i.collection_id "
        "WHERE c.name = 'designs' ORDER BY i.file_name";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        image_row *r = realloc(s->rows, (s->n + 1) * sizeof *r);
        if (!r) {
            rc = -1;
            break;
        }
        s->rows = r;
        r += s->n++;
        const char *cols[7];
        for (int c = 0; c < 7; c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            cols[c] = v ? (const char *)v : "NULL";
        }
        snprintf(r->key, sizeof r->key, "%s|%s|%s|%s|%s|%s|%s", cols[0], cols[1], cols[2],
                 cols[3], cols[4], cols[5], cols[6]);
        snprintf(r->hash, sizeof r->hash, "%s", cols[6]);
        memset(r->vec, 0, sizeof r->vec);
        if (sqlite3_column_bytes(st, 7) == (int)sizeof r->vec)
            memcpy(r->vec, sqlite3_column_blob(st, 7), sizeof r->vec);
        else
            rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

static int read_catalog(const char *data, snapshot *s)
{
    char path[700];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/catalog.sqlite3", data);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    char *check = query_text(db, "PRAGMA integrity_check");
    snprintf(s->integrity, sizeof s->integrity, "%s", check ? check : "(none)");
    free(check);
    s->patents = query_text(db, "SELECT patent_id, kind, title, loc_class, loc_edition, "
                                "pub_date, filing_date, grant_term, applicant_name, "
                                "applicant_country, inventor_names, assignee_name, claim_text, "
                                "image_count FROM patents ORDER BY patent_id");
    s->jobs = query_text(db, "SELECT status FROM jobs ORDER BY id");
    int rc = s->patents && s->jobs ? read_images(db, s) : -1;
    sqlite3_close(db);
    return rc;
}

/* `dinoseek stats`: the index's count, and whether it had to be rebuilt. */
static int read_index(const options *o, const char *data, snapshot *s)
{
    char model[700], log[800], cmd[3000];
    snprintf(model, sizeof model, "%s/model", o->work);
    snprintf(log, sizeof log, "%s/stats.log", o->work);
    snprintf(cmd, sizeof cmd, "'%s' stats --data '%s' --model '%s' --collection designs 2>'%s'",
             o->bin, data, model, log);
    FILE *p = popen(cmd, "r");
    char line[512];
    int in_index = 0;
    s->index_count = -1;
    while (p && fgets(line, sizeof line, p)) {
        if (strstr(line, "\"index\""))
            in_index = 1;
        const char *count = in_index ? strstr(line, "\"count\":") : NULL;
        if (count && s->index_count < 0)
            s->index_count = atoll(count + 8);
    }
    if (!p || pclose(p) != 0)
        return -1;
    FILE *f = fopen(log, "r");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "rebuilding the index"))
            s->index_rebuilt = 1;
    if (f)
        fclose(f);
    return 0;
}

static int take_snapshot(const options *o, const char *data, snapshot *s)
{
    memset(s, 0, sizeof *s);
    if (read_catalog(data, s) != 0 || read_blobs(data, s) != 0 || read_index(o, data, s) != 0) {
        fprintf(stderr, "kill_import: cannot read %s\n", data);
        return -1;
    }
    return 0;
}

static void snapshot_free(snapshot *s)
{
    free(s->rows);
    free(s->patents);
    free(s->jobs);
    listing_free(&s->blobs);
    listing_free(&s->sidecars);
}

/* ---- the checks -------------------------------------------------------------------- */

static float max_diff(const float *a, const float *b)
{
    float worst = 0;
    for (int k = 0; k < DIM; k++) {
        float d = a[k] > b[k] ? a[k] - b[k] : b[k] - a[k];
        worst = d > worst ? d : worst;
    }
    return worst;
}

/* What a data directory must be on its own: whole, consistent, no debris. */
static void check_alone(const snapshot *s, const char *what)
{
    EXPECT(strcmp(s->integrity, "ok\n") == 0, "%s: integrity_check: %s", what, s->integrity);
    EXPECT(s->temporaries == 0, "%s: %zu temporary files left in the blob store", what,
           s->temporaries);
    /* An original and a thumbnail per row, a sidecar per blob. */
    EXPECT(s->blobs.n == 2 * s->n, "%s: %zu blobs for %zu rows (orphans or missing)", what,
           s->blobs.n, s->n);
    EXPECT(s->sidecars.n == s->blobs.n, "%s: %zu sidecars for %zu blobs", what, s->sidecars.n,
           s->blobs.n);
    EXPECT(s->index_count == (long long)s->n, "%s: the index counts %lld, the catalog %zu", what,
           s->index_count, s->n);
    EXPECT(!s->index_rebuilt, "%s: the last run left a stale or torn index file", what);
    EXPECT(!strstr(s->jobs, "running") && !strstr(s->jobs, "failed"), "%s: jobs:\n%s", what,
           s->jobs);
    for (size_t i = 1; i < s->n; i++)
        EXPECT(strcmp(s->rows[i - 1].hash, s->rows[i].hash) != 0 || !strcmp(s->rows[i].hash, "NULL"),
               "%s: %s and %s are the same content", what, s->rows[i - 1].key, s->rows[i].key);
}

/* What a killed-and-resumed directory must be next to the whole one. */
static void check_same(const snapshot *whole, const snapshot *got, const char *what)
{
    check_alone(got, what);
    EXPECT(whole->n == got->n, "%s: %zu rows, the uninterrupted import %zu", what, got->n,
           whole->n);
    for (size_t i = 0; i < whole->n && i < got->n; i++) {
        EXPECT(strcmp(whole->rows[i].key, got->rows[i].key) == 0, "%s: row %zu: %s, expected %s",
               what, i, got->rows[i].key, whole->rows[i].key);
        float d = max_diff(whole->rows[i].vec, got->rows[i].vec);
        EXPECT(d < TOLERANCE, "%s: %s: vectors differ by %g", what, got->rows[i].key, d);
    }
    EXPECT(strcmp(whole->patents, got->patents) == 0, "%s: the patents differ", what);
    EXPECT(whole->blobs.n == got->blobs.n, "%s: %zu blobs, expected %zu", what, got->blobs.n,
           whole->blobs.n);
    for (size_t i = 0; i < whole->blobs.n && i < got->blobs.n; i++)
        EXPECT(strcmp(whole->blobs.lines[i], got->blobs.lines[i]) == 0,
               "%s: blob %s, expected %s", what, got->blobs.lines[i], whole->blobs.lines[i]);
}

/* ---- the series ------------------------------------------------------------------------ */

static long long rows_now(const char *data)
{
    char path[700];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    snprintf(path, sizeof path, "%s/catalog.sqlite3", data);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM images", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n; /* -1 also before the catalog exists */
}

/* Check a finished round's directory against the whole import, then
 * remove it (unless --keep) so that the next round starts empty. */
static void close_round(const options *o, const snapshot *whole, const char *data, int round)
{
    snapshot got;
    char what[64], cmd[800];
    snprintf(what, sizeof what, "round %d", round);
    if (take_snapshot(o, data, &got) != 0) {
        mismatches++;
        return;
    }
    check_same(whole, &got, what);
    printf("  round %d checked: %zu rows, %zu blobs, index %lld: %s\n", round, got.n, got.blobs.n,
           got.index_count, mismatches ? "MISMATCH" : "same as uninterrupted");
    snapshot_free(&got);
    if (!o->keep) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", data);
        if (system(cmd) != 0)
            fprintf(stderr, "kill_import: could not remove %s\n", data);
    }
}

static int series(const options *o, const snapshot *whole, double whole_ms)
{
    ds_prng rng;
    ds_prng_seed(&rng, o->seed);
    char data[600], log[800];
    int kills = 0, round = 0, runs = 0, pending = 0;
    double t0 = now_ms();
    while (kills < o->kills) {
        snprintf(data, sizeof data, "%s/killed-%d", o->work, round);
        snprintf(log, sizeof log, "%s/killed-%d.log", o->work, round);
        /* Anywhere from the exec to the end of a whole run. */
        double at = (double)(ds_prng_next(&rng) % (unsigned long long)(whole_ms + 1));
        double start = now_ms();
        pid_t pid = start_import(o, data, 1, log);
        runs++;
        while (now_ms() - start < at && waitpid(pid, NULL, WNOHANG) == 0)
            usleep(2000);
        int killed = kill(pid, SIGKILL) == 0;
        int status = reap(pid);
        if (killed && status == 128 + SIGKILL) {
            kills++;
            pending = 1;
            printf("  kill %2d: round %d, run %d, at %6.0f ms: %lld rows committed\n", kills,
                   round, runs, now_ms() - start, rows_now(data));
            continue;
        }
        /* It finished first: the import is complete, the round is over. */
        EXPECT(status == 0, "round %d: an import exited %d (see %s)", round, status, log);
        printf("  run %d finished before its kill at %.0f ms (exit %d)\n", runs, at, status);
        close_round(o, whole, data, round++);
        pending = 0;
    }
    if (pending) { /* the final rerun */
        int status = reap(start_import(o, data, 1, log));
        runs++;
        EXPECT(status == 0, "the final rerun exited %d (see %s)", status, log);
        close_round(o, whole, data, round++);
    }
    printf("kill_import: %d kills in %d runs over %d rounds, %.1f s\n", kills, runs, round,
           (now_ms() - t0) / 1e3);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){.bin = getenv("DINOSEEK_BIN"), .kills = 20, .patents = 20,
                   .seed = (unsigned long long)time(NULL)};
    if (!o->bin)
        o->bin = "build/dinoseek";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep"))
            o->keep = 1;
        else if (v && !strcmp(a, "--bin"))
            o->bin = v, i++;
        else if (v && !strcmp(a, "--kills"))
            o->kills = atoi(v), i++;
        else if (v && !strcmp(a, "--patents"))
            o->patents = atoi(v), i++;
        else if (v && !strcmp(a, "--seed"))
            o->seed = strtoull(v, NULL, 10), i++;
        else
            return -1;
    }
    return o->kills > 0 && o->patents > 0 ? 0 : -1;
}

/* The model and the week every run imports. */
static int make_inputs(const options *o)
{
    char model[700], week[700], patents[32], log[800];
    snprintf(model, sizeof model, "%s/model", o->work);
    snprintf(week, sizeof week, "%s/week", o->work);
    snprintf(log, sizeof log, "%s/inputs.log", o->work);
    snprintf(patents, sizeof patents, "%d", o->patents);
    char *gen_model[] = {(char *)o->bin, "model", "generate", "--arch", "small", "--seed", "5",
                         model, NULL};
    char *gen_week[] = {(char *)o->bin, "sample", "generate", week, "--patents", patents,
                        "--seed", "3", NULL};
    return run(gen_model, log) == 0 && run(gen_week, log) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    options o;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each kill as it happens, also into a log */
    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: kill_import [--bin PATH] [--kills N] [--patents N] [--seed S] "
                        "[--keep]\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(o.work, sizeof o.work, "%s/dinoseek-kill-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(o.work) || access(o.bin, X_OK) != 0 || make_inputs(&o) != 0) {
        fprintf(stderr, "kill_import: cannot prepare %s with %s\n", o.work, o.bin);
        return 2;
    }
    printf("kill_import: %d patents, seed %llu, in %s\n", o.patents, o.seed, o.work);

    char data[600], log[800];
    snprintf(data, sizeof data, "%s/whole", o.work);
    snprintf(log, sizeof log, "%s/whole.log", o.work);
    double t0 = now_ms();
    int status = reap(start_import(&o, data, 0, log));
    double whole_ms = now_ms() - t0;
    snapshot whole;
    if (status != 0 || take_snapshot(&o, data, &whole) != 0) {
        fprintf(stderr, "kill_import: the uninterrupted import failed (exit %d, see %s)\n",
                status, log);
        return 2;
    }
    check_alone(&whole, "uninterrupted");
    printf("  uninterrupted: %zu images, %.1f s\n", whole.n, whole_ms / 1e3);

    series(&o, &whole, whole_ms);
    snapshot_free(&whole);
    printf("kill_import: %s\n", mismatches ? "FAILED" : "ok: nothing lost, nothing doubled, "
                                                        "no orphan blobs, index complete");
    if (!mismatches && !o.keep) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", o.work);
        if (system(cmd) != 0)
            fprintf(stderr, "kill_import: could not remove %s\n", o.work);
    }
    return mismatches ? 1 : 0;
}
