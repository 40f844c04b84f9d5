/* test_multiproc.c - several real dinoseek processes on one data directory:
 * a server answering while `dinoseek import` runs beside it, two servers
 * adding at once, two imports of different collections at once, and two
 * uploads of one file name racing. The catalog is the truth: what one
 * process commits, the others' next search finds. The same tests run as
 * `multiproc-milvus` with rows and vectors in a real Milvus and blobs in
 * S3. */
#include <curl/curl.h>
#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"
#include "catalog/catalog.h"

#define IMG "tests/fixtures/images/"
#define N_PATENTS 6
#define MAX_IMAGES 64
#define RACE_ROUNDS 20

static int on_milvus(void)
{
    const char *index = getenv("DINOSEEK_INDEX");
    return index && strcmp(index, "milvus") == 0;
}

/* ---- the sample: generated USPTO folders, once per suite ----------------- */

static const char *sample_dir(void)
{
    static char dir[512];
    if (!dir[0] || strncmp(dir, ds_test_tmpdir, strlen(ds_test_tmpdir)) != 0) {
        char cmd[1400];
        snprintf(dir, sizeof dir, "%s/samp", ds_test_tmpdir);
        snprintf(cmd, sizeof cmd,
                 "%s sample generate %s --patents %d --seed 3 --size 425x550 --no-tar "
                 ">/dev/null 2>&1", ds_test_bin(), dir, N_PATENTS);
        if (system(cmd) != 0)
            dir[0] = '\0';
    }
    return dir[0] ? dir : NULL;
}

/* One drawing of the sample: its path, file name and patent. */
typedef struct drawing {
    char path[900];
    char name[256];
    char patent[16];
} drawing;

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The path of the sample's i-th patent folder (in name order), or -1. */
static int folder(int i, char *out, size_t n)
{
    const char *dir = sample_dir();
    struct dirent **list = NULL;
    int k = dir ? scandir(dir, &list, NULL, by_name) : -1, seen = 0, rc = -1;
    for (int j = 0; j < k; j++) {
        if (strncmp(list[j]->d_name, "USD", 3) == 0 && seen++ == i) {
            snprintf(out, n, "%s/%s", dir, list[j]->d_name);
            rc = 0;
        }
        free(list[j]);
    }
    free(list);
    return rc;
}

/* Append the drawings (.TIF) of folders [from, to) to d; returns the count. */
static int drawings(int from, int to, drawing *d, int n)
{
    for (int i = from; i < to; i++) {
        char dir[600];
        if (folder(i, dir, sizeof dir) != 0)
            return -1;
        struct dirent **list = NULL;
        int k = scandir(dir, &list, NULL, by_name);
        for (int j = 0; j < k; j++) {
            const char *nm = list[j]->d_name;
            size_t len = strlen(nm);
            if (len > 4 && strcmp(nm + len - 4, ".TIF") == 0 && n < MAX_IMAGES) {
                snprintf(d[n].path, sizeof d[n].path, "%s/%s", dir, nm);
                snprintf(d[n].name, sizeof d[n].name, "%s", nm);
                /* USD0967600-20221025-D00001.TIF: patent D0967600 */
                snprintf(d[n].patent, sizeof d[n].patent, "%.8s", nm + 2);
                n++;
            }
            free(list[j]);
        }
        free(list);
    }
    return n;
}

/* `dinoseek import` of folders [from, to) into <tmp>/data, as a shell
 * command line (collection NULL: the default one). */
static void import_cmd(const char *data, int from, int to, const char *collection, char *cmd,
                       size_t n)
{
    int used = snprintf(cmd, n, "%s import", ds_test_bin());
    for (int i = from; i < to; i++) {
        char dir[600];
        if (folder(i, dir, sizeof dir) == 0)
            used += snprintf(cmd + used, n - (size_t)used, " %s", dir);
    }
    snprintf(cmd + used, n - (size_t)used, " --data %s/%s --model %s%s%s", ds_test_tmpdir,
             data, ds_test_model_dir(), collection ? " --collection " : "",
             collection ? collection : "");
}

static int import(const char *data, int from, int to, const char *collection)
{
    char cmd[8192], *err = NULL;
    import_cmd(data, from, to, collection, cmd, sizeof cmd);
    int st = ds_test_run(cmd, NULL, &err);
    if (st != 0)
        fprintf(stderr, "    import failed (%d): %s\n", st, err ? err : "");
    free(err);
    return st;
}

/* A shell command in a child process: its pid, for waitpid. */
static pid_t in_background(const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t import_in_background(const char *data, int from, int to, const char *collection)
{
    char cmd[8192];
    import_cmd(data, from, to, collection, cmd, sizeof cmd);
    return in_background(cmd);
}

static int exit_status(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- HTTP --------------------------------------------------------------------
 * ds_http's forms take no argument: a search form reads these. */

static const char *g_query_file, *g_query_patent, *g_query_collection;

static void field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, name);
    curl_mime_data(p, value, CURL_ZERO_TERMINATED);
}

static curl_mime *query_form(CURL *c)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, g_query_file);
    field(m, "top_k", "1");
    if (g_query_patent)
        field(m, "patent_ids", g_query_patent);
    if (g_query_collection)
        field(m, "collection", g_query_collection);
    return m;
}

/* The file name of the best hit for the image at path (restricted to a
 * patent when given), into out ("" when none). Returns the HTTP status. */
static long best_hit(int port, const char *path, const char *patent, const char *collection,
                     char *out, size_t n)
{
    g_query_file = path;
    g_query_patent = patent;
    g_query_collection = collection;
    ds_reply r = ds_http(port, "POST", "/api/search", query_form, NULL, NULL, 0, NULL);
    const char *name = json_string_value(
        json_object_get(json_array_get(ds_reply_results(&r), 0), "file_name"));
    snprintf(out, n, "%s", name ? name : "");
    long status = r.status;
    ds_reply_free(&r);
    return status;
}

/* Whether the server's search by d's image finds d first. Embedded: the very
 * next search. On Milvus: within 10 s, its consistency wait for rows that
 * another process inserted (docs/operations.md). */
static int found(int port, const drawing *d, const char *collection)
{
    int tries = on_milvus() ? 50 : 1;
    char hit[256] = "";
    for (int i = 0; i < tries; i++) {
        if (i)
            usleep(200000);
        if (best_hit(port, d->path, d->patent[0] ? d->patent : NULL, collection, hit,
                     sizeof hit) == 200 &&
            strcmp(hit, d->name) == 0) {
            if (i)
                fprintf(stderr, "    (%s found after %d ms)\n", d->name, i * 200);
            return 1;
        }
    }
    fprintf(stderr, "    a search for %s (patent %s) found \"%s\"\n", d->name, d->patent, hit);
    return 0;
}

/* /api/collection/stats: images, and the index's count (-1 when the
 * backend reports none). */
static int stats(int port, const char *collection, long long *images, long long *index_count)
{
    char path[300];
    snprintf(path, sizeof path, "/api/collection/stats%s%s", collection ? "?collection=" : "",
             collection ? collection : "");
    ds_reply r = ds_http(port, "GET", path, NULL, NULL, NULL, 0, NULL);
    json_t *data = ds_reply_data(&r);
    json_t *count = json_object_get(json_object_get(data, "index"), "count");
    *images = json_integer_value(json_object_get(data, "images"));
    *index_count = count ? json_integer_value(count) : -1;
    int ok = r.status == 200;
    ds_reply_free(&r);
    return ok ? 0 : -1;
}

/* The catalog's own count of a collection's images, read from the SQLite
 * file (embedded only: on Milvus the rows live there). */
static long long catalog_images(const char *data, const char *collection)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, data);
    cat_db *db = NULL;
    cat_collection c = {0};
    ds_err err = {0};
    int64_t count = -1, max_id = 0;
    if (cat_open(dir, &db, &err) == 0 &&
        cat_collection_get(db, collection ? collection : "patent_images", &c, &err) == 0 &&
        cat_vector_count(db, c.id, &count, &max_id, &err) != 0)
        count = -1;
    cat_collection_clear(&c);
    cat_close(db);
    return count;
}

/* Stats of a collection agree with what was imported (and, embedded, with
 * the SQLite file and the in-memory index). */
static void check_stats(int port, const char *data, const char *collection, int expected)
{
    long long images = -1, index_count = -1;
    CHECK(stats(port, collection, &images, &index_count) == 0);
    CHECKF(images == expected, "stats: %lld images, %d imported", images, expected);
    if (!on_milvus()) {
        CHECKF(index_count == expected, "stats: the index holds %lld of %d", index_count,
               expected);
        long long in_sqlite = catalog_images(data, collection);
        CHECKF(in_sqlite == expected, "SQLite holds %lld of %d", in_sqlite, expected);
    }
}

/* ---- (a) a server while another process imports ----------------------------- */

static void test_server_sees_import(void)
{
    if (!sample_dir() || !ds_test_model_dir())
        SKIP("no sample or model");
    drawing d[MAX_IMAGES];
    int n_old = drawings(0, 2, d, 0);
    int n = drawings(2, 4, d, n_old);
    CHECK(n_old > 0 && n > n_old);
    CHECK(import("a", 0, 2, NULL) == 0);
    ds_server s;
    if (ds_server_start(&s, "a", NULL) != 0) {
        CHECK(!"server started");
        return;
    }
    /* The import runs in another process while the server answers. */
    pid_t pid = import_in_background("a", 2, 4, NULL);
    char hit[256];
    for (int i = 0; i < 5; i++)
        CHECK(best_hit(s.port, d[0].path, d[0].patent, NULL, hit, sizeof hit) == 200);
    CHECK(exit_status(pid) == 0);
    for (int i = 0; i < n; i++)
        CHECKF(found(s.port, &d[i], NULL), "the server finds %s", d[i].name);
    check_stats(s.port, "a", NULL, n);
    CHECK(ds_server_stop(&s) == 0);

    /* The index the server saved on exit is not stale: a new process finds
     * the rows the other one imported. */
    for (int i = n_old; i < n; i += n - n_old - 1) {
        char cmd[4096], *out = NULL;
        snprintf(cmd, sizeof cmd, "%s search %s --filter patent_id=%s --data %s/a --model %s",
                 ds_test_bin(), d[i].path, d[i].patent, ds_test_tmpdir, ds_test_model_dir());
        CHECK(ds_test_run(cmd, &out, NULL) == 0);
        CHECKF(out && strstr(out, d[i].name), "dinoseek search finds %s: %s", d[i].name,
               out ? out : "");
        free(out);
    }
}

/* A collection that another process makes while the server runs (`dinoseek
 * import --collection new`) is served at once: listed, searched, its images
 * shown, rather than 404 until a restart. */
static void test_server_sees_new_collection(void)
{
    if (!sample_dir() || !ds_test_model_dir())
        SKIP("no sample or model");
    drawing d[MAX_IMAGES];
    int n = drawings(0, 1, d, 0);
    CHECK(n > 0);
    CHECK(import("newcoll", 1, 2, NULL) == 0);
    ds_server s;
    if (ds_server_start(&s, "newcoll", NULL) != 0) {
        CHECK(!"server started");
        return;
    }
    CHECK(import("newcoll", 0, 1, "later") == 0);
    CHECKF(found(s.port, &d[0], "later"), "the server finds %s in collection later", d[0].name);
    check_stats(s.port, "newcoll", "later", n);
    char path[600];
    snprintf(path, sizeof path, "/api/image/%s?collection=later", d[0].name);
    ds_reply r = ds_http(s.port, "GET", path, NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "%s: %ld", path, r.status);
    ds_reply_free(&r);
    r = ds_http(s.port, "GET", "/api/collections", NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200 && strstr(r.body, "\"later\""), "/api/collections: %s", r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&s) == 0);
}

/* ---- (b) two servers, each adding ----------------------------------------- */

static const char *g_add_file[2], *g_add_name[2];

static curl_mime *add_form(CURL *c, int side)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, g_add_file[side]);
    field(m, "file_name", g_add_name[side]);
    return m;
}
static curl_mime *add_form_0(CURL *c) { return add_form(c, 0); }
static curl_mime *add_form_1(CURL *c) { return add_form(c, 1); }

static ds_reply add(int port, int side, const char *path, const char *name)
{
    g_add_file[side] = path;
    g_add_name[side] = name;
    return ds_http(port, "POST", "/api/images", side ? add_form_1 : add_form_0, NULL, NULL, 0,
                   NULL);
}

static void test_two_servers(void)
{
    ds_server s[2];
    if (ds_server_start(&s[0], "b", NULL) != 0) {
        CHECK(!"first server started");
        return;
    }
    if (ds_server_start(&s[1], "b", NULL) != 0) {
        CHECK(!"second server started");
        ds_server_stop(&s[0]);
        return;
    }
    drawing d[2] = {{IMG "quad.png", "from-one.png", ""},
                    {IMG "parity_photo.jpg", "from-two.jpg", ""}};
    for (int i = 0; i < 2; i++) {
        ds_reply r = add(s[i].port, i, d[i].path, d[i].name);
        CHECKF(r.status == 200, "%ld %s", r.status, r.body);
        ds_reply_free(&r);
    }
    for (int i = 0; i < 2; i++) {
        const drawing *other = &d[1 - i];
        CHECKF(found(s[i].port, other, NULL), "server %d finds %s", i, other->name);
        char path[300];
        snprintf(path, sizeof path, "/api/image/%s?size=full", other->name);
        ds_reply r = ds_http(s[i].port, "GET", path, NULL, NULL, NULL, 0, NULL);
        CHECKF(r.status == 200, "server %d serves %s: %ld", i, other->name, r.status);
        ds_reply_free(&r);
        check_stats(s[i].port, "b", NULL, 2);
    }
    CHECK(ds_server_stop(&s[0]) == 0);
    CHECK(ds_server_stop(&s[1]) == 0);
}

/* ---- (c) two imports of different collections at once ----------------------- */

static void test_two_imports(void)
{
    if (!sample_dir() || !ds_test_model_dir())
        SKIP("no sample or model");
    drawing left[MAX_IMAGES], right[MAX_IMAGES];
    int n_left = drawings(0, 3, left, 0), n_right = drawings(3, N_PATENTS, right, 0);
    pid_t a = import_in_background("c", 0, 3, "left");
    pid_t b = import_in_background("c", 3, N_PATENTS, "right");
    CHECK(exit_status(a) == 0);
    CHECK(exit_status(b) == 0);
    ds_server s;
    if (ds_server_start(&s, "c", NULL) != 0) {
        CHECK(!"server started");
        return;
    }
    for (int i = 0; i < n_left; i++)
        CHECKF(found(s.port, &left[i], "left"), "left has %s", left[i].name);
    for (int i = 0; i < n_right; i++)
        CHECKF(found(s.port, &right[i], "right"), "right has %s", right[i].name);
    check_stats(s.port, "c", "left", n_left);
    check_stats(s.port, "c", "right", n_right);
    CHECK(ds_server_stop(&s) == 0);
}

/* ---- processes opening a new data directory at once ------------------------- */

/* Both create the catalog: SQLite's switch to WAL mode refused the second
 * ("database is locked") about one time in three. */
static void test_open_at_once(void)
{
    if (!ds_test_model_dir())
        SKIP("no model");
    for (int round = 0; round < 8; round++) {
        pid_t pid[2];
        for (int i = 0; i < 2; i++) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd, "%s stats --data %s/open%d --model %s --collection %s "
                     ">/dev/null", ds_test_bin(), ds_test_tmpdir, round, ds_test_model_dir(),
                     i ? "right" : "left");
            pid[i] = in_background(cmd);
        }
        for (int i = 0; i < 2; i++)
            CHECKF(exit_status(pid[i]) == 0, "round %d: process %d failed", round, i);
    }
}

/* ---- (d) one file name, two contents, two servers, at once ------------------- */

typedef struct racer {
    int port, side;
    const char *path, *name;
    pthread_barrier_t *start;
    ds_reply reply;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->start);
    r->reply = add(r->port, r->side, r->path, r->name);
    return NULL;
}

/* A copy of a fixture with a trailer after its end, so that each round's
 * uploads are new content (content already stored is skipped). */
static int unique_copy(const char *fixture, int round, int side, char *out, size_t n)
{
    size_t len = 0;
    char *data = ds_test_read_file(fixture, &len);
    if (!data)
        return -1;
    char trailer[64];
    int tl = snprintf(trailer, sizeof trailer, "round %d side %d", round, side);
    char *both = realloc(data, len + (size_t)tl);
    if (!both) {
        free(data);
        return -1;
    }
    memcpy(both + len, trailer, (size_t)tl);
    snprintf(out, n, "%s/race-%d-%d.png", ds_test_tmpdir, round, side);
    int rc = ds_test_write_file(out, both, len + (size_t)tl);
    free(both);
    return rc;
}

/* Both servers serve the winner's original (its very bytes) and thumbnail. */
static void check_winner_served(const ds_server *s, const char *name, const char *winner_path)
{
    size_t len = 0;
    char *want = ds_test_read_file(winner_path, &len);
    for (int i = 0; i < 2; i++) {
        char path[300];
        snprintf(path, sizeof path, "/api/image/%s?size=full", name);
        ds_reply r = ds_http(s[i].port, "GET", path, NULL, NULL, NULL, 0, NULL);
        CHECKF(r.status == 200 && want && r.len == len && memcmp(r.body, want, len) == 0,
               "server %d: the original of %s: %ld, %zu bytes (the winner's: %zu)", i, name,
               r.status, r.len, len);
        ds_reply_free(&r);
        snprintf(path, sizeof path, "/api/image/%s", name);
        r = ds_http(s[i].port, "GET", path, NULL, NULL, NULL, 0, NULL);
        CHECKF(r.status == 200, "server %d: the thumbnail of %s: %ld", i, name, r.status);
        ds_reply_free(&r);
    }
    free(want);
}

static void test_racing_uploads(void)
{
    ds_server s[2];
    if (ds_server_start(&s[0], "d", NULL) != 0) {
        CHECK(!"first server started");
        return;
    }
    if (ds_server_start(&s[1], "d", NULL) != 0) {
        CHECK(!"second server started");
        ds_server_stop(&s[0]);
        return;
    }
    static const char *const fixtures[2] = {IMG "quad.png", IMG "parity_tall.png"};
    pthread_barrier_t start;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        char name[64], paths[2][600];
        snprintf(name, sizeof name, "race-%02d.png", round);
        racer r[2];
        pthread_t t[2];
        pthread_barrier_init(&start, NULL, 2);
        for (int i = 0; i < 2; i++) {
            CHECK(unique_copy(fixtures[i], round, i, paths[i], sizeof paths[i]) == 0);
            r[i] = (racer){.port = s[i].port, .side = i, .path = paths[i], .name = name,
                           .start = &start};
            pthread_create(&t[i], NULL, race, &r[i]);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        int winner = -1, winners = 0;
        for (int i = 0; i < 2; i++)
            if (r[i].reply.status == 200 &&
                json_is_true(json_object_get(ds_reply_data(&r[i].reply), "added"))) {
                winner = i;
                winners++;
            }
        CHECKF(winners == 1, "round %d: %d uploads won (%ld %s / %ld %s)", round, winners,
               r[0].reply.status, r[0].reply.body, r[1].reply.status, r[1].reply.body);
        if (winners == 1) {
            const ds_reply *lost = &r[1 - winner].reply;
            const char *msg = json_string_value(json_object_get(lost->json, "message"));
            CHECKF(lost->status == 409 && msg && strstr(msg, "already stored"),
                   "round %d: the loser got %ld %s", round, lost->status, lost->body);
            check_winner_served(s, name, paths[winner]);
        }
        for (int i = 0; i < 2; i++)
            ds_reply_free(&r[i].reply);
    }
    CHECK(ds_server_stop(&s[0]) == 0);
    CHECK(ds_server_stop(&s[1]) == 0);
}

const ds_test multiproc_tests[] = {
    {"a server finds what an import in another process commits", test_server_sees_import},
    {"a server serves a collection another process makes", test_server_sees_new_collection},
    {"two servers on one data directory find each other's images", test_two_servers},
    {"two processes create a data directory's catalog at once", test_open_at_once},
    {"two imports of different collections at once", test_two_imports},
    {"one file name uploaded to two servers at once: one wins", test_racing_uploads},
    {0},
};
