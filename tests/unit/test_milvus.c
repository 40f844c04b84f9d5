/* test_milvus.c - the Milvus client against a real Milvus (2.3.5
 * standalone, started by tests/peers/peers.py), a collection built by the
 * seed system's own code path (pymilvus, tests/peers/seed_milvus.py), and
 * servers that misbehave on purpose.
 *
 * The first test starts the server, the last stops it; when it cannot be
 * started, the tests in between say why and skip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include "../http_client.h"
#include "../peers.h"
#include "../server_helper.h"
#include "../suites.h"
#include "milvus/expr.h"
#include "milvus/milvus.h"

static ds_peer peer;
static mv_client *client;
static int seeded;               /* the pymilvus collection exists */
#define SEED_COLL "design_patents_full"
#define SEED_ROWS 60
#define SEED_DIM 32

#define NEED_MILVUS()                                                                    \
    do {                                                                                 \
        if (!client)                                                                     \
            SKIP("no Milvus server: %s", peer.why[0] ? peer.why : "not started");        \
    } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_start(void)
{
    /* DINOSEEK_TEST_MILVUS_URI: a Milvus of your own (it must be 2.3 for
     * the dialect check below; collections it gets are dropped first). */
    const char *own = getenv("DINOSEEK_TEST_MILVUS_URI");
    if (own && *own) {
        snprintf(peer.endpoint, sizeof peer.endpoint, "%s", own);
    } else if (ds_peer_start(&peer, "milvus", "milvus") != 0) {
        SKIP("no Milvus server could be started here: %s", peer.why);
    }
    mv_config cfg = {.uri = peer.endpoint, .timeout_ms = 20000};
    ds_err err = {0};
    CHECKF(mv_open(&cfg, &client, &err) == 0, "%s", err.msg);
    if (!client)
        return;
    /* 2.3 serves REST v1 only: the client must have found that out. */
    CHECK(mv_get_dialect(client) == MV_V1);
    printf("    Milvus server: 2.3.5 standalone at %s (a real server, REST v1)\n", peer.endpoint);
}

/* Count with a deadline: Milvus's default consistency is bounded, so a
 * write shows in queries within about a second, not at once. */
static int64_t count_eventually(const char *coll, const char *filter, int64_t want)
{
    int64_t n = -1;
    double end = now_ms() + 15000;
    do {
        ds_err err = {0};
        if (mv_count(client, coll, filter, &n, &err) != 0)
            n = -1;
        if (n == want)
            break;
        usleep(200000);
    } while (now_ms() < end);
    return n;
}

static void test_seed_collection_described(void)
{
    NEED_MILVUS();
    char cmd[1024], *out = NULL, *errs = NULL;
    const char *py = ds_peer_python();
    if (!py)
        SKIP("no venv with pymilvus");
    snprintf(cmd, sizeof cmd, "%s tests/peers/seed_milvus.py %s create %s %d %d", py,
             peer.endpoint, SEED_COLL, SEED_DIM, SEED_ROWS);
    int rc = ds_test_run(cmd, &out, &errs);
    CHECKF(rc == 0, "pymilvus could not build the seed collection: %s", errs ? errs : "");
    free(out);
    free(errs);
    if (rc != 0)
        return;
    seeded = 1;
    mv_schema s;
    ds_err err = {0};
    CHECKF(mv_describe(client, SEED_COLL, &s, &err) == 0, "%s", err.msg);
    CHECK(strcmp(s.primary, "id") == 0 && mv_schema_field(&s, "id")->auto_id);
    CHECK(strcmp(s.vector, "embedding") == 0 && s.dim == SEED_DIM);
    CHECK(strcmp(s.metric, "COSINE") == 0);
    CHECK(s.n_fields == 19);
    const mv_field *f = mv_schema_field(&s, "title");
    CHECK(f && f->type == MV_VARCHAR && f->max_length == 500);
    f = mv_schema_field(&s, "image_index");
    CHECK(f && f->type == MV_INT16);
    CHECK(mv_describe(client, "no_such_collection", &s, &err) == -1 && err.code == DS_ENOTFOUND);
}

/* The vector of the seed's row with this file name (read back from Milvus). */
static int seed_vector(const char *file_name, float *v)
{
    char filter[300];
    snprintf(filter, sizeof filter, "file_name == \"%s\"", file_name);
    static const char *const fields[] = {"embedding", NULL};
    json_t *rows = NULL;
    ds_err err = {0};
    if (mv_query(client, SEED_COLL, filter, fields, 1, 0, &rows, &err) != 0) {
        CHECKF(0, "%s", err.msg);
        return -1;
    }
    json_t *e = json_object_get(json_array_get(rows, 0), "embedding");
    int ok = json_array_size(e) == SEED_DIM;
    for (int i = 0; ok && i < SEED_DIM; i++)
        v[i] = (float)json_number_value(json_array_get(e, (size_t)i));
    json_decref(rows);
    return ok ? 0 : -1;
}

static const char *const seed_fields[] = {
    "patent_id", "image_index", "file_name", "file_path", "title", "loc_class", "pub_date",
    "applicant_name", "applicant_country", "assignee_name", "image_count", NULL};

/* A search of the seed collection with a compiled filter; residual parts
 * applied here as the engine does. Returns the hits (caller decrefs). */
static json_t *search(const float *v, const cat_filter *f, int limit, ds_err *err)
{
    char *expr = NULL;
    int residual = 0;
    if (mv_expr_compile(f, "id", NULL, 0, &expr, &residual, err) != 0)
        return NULL;
    mv_search_req r = {.vector = v, .dim = SEED_DIM, .limit = limit, .filter = expr,
                       .fields = seed_fields};
    json_t *hits = NULL;
    int rc = mv_search(client, SEED_COLL, &r, &hits, err);
    free(expr);
    if (rc != 0)
        return NULL;
    for (size_t i = json_array_size(hits); residual && i-- > 0;)
        if (!mv_residual_allows(f, json_array_get(hits, i)))
            json_array_remove(hits, i);
    return hits;
}

static void test_seed_collection_searched(void)
{
    NEED_MILVUS();
    if (!seeded)
        SKIP("no seed collection");
    float v[SEED_DIM];
    if (seed_vector("USD1100001-20251230-D00002.TIF", v) != 0) {
        CHECK(!"no vector read back");
        return;
    }
    ds_err err = {0};
    json_t *hits = search(v, NULL, 10, &err);
    CHECKF(hits && json_array_size(hits) == 10, "%s", err.msg);
    json_t *top = json_array_get(hits, 0);
    if (getenv("DINOSEEK_TEST_VERBOSE")) {
        char *d = json_dumps(hits, JSON_COMPACT);
        fprintf(stderr, "%s\n", d);
        free(d);
    }
    CHECK(json_real_value(json_object_get(top, "score")) > 0.999);
    CHECK(json_is_integer(json_object_get(top, "id")));
    CHECK(!strcmp(json_string_value(json_object_get(top, "file_name")),
                  "USD1100001-20251230-D00002.TIF"));
    CHECK(!strcmp(json_string_value(json_object_get(top, "patent_id")), "D1100001"));
    /* Row 4: i % 4 == 0 -> "Chair"; the quotes and the é of other rows
     * came through too (checked below through filters). */
    CHECK(json_integer_value(json_object_get(top, "image_count")) == 3);
    double last = 2;
    int sorted = 1;
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h) {
        double s = json_real_value(json_object_get(h, "score"));
        sorted &= s <= last + 1e-6;
        last = s;
    }
    CHECK(sorted);
    json_decref(hits);
}

/* Each filter field, compiled and run on the real server: every hit
 * passes, and the count is what the seed's rows say it must be. */
static void test_filters_on_the_server(void)
{
    NEED_MILVUS();
    if (!seeded)
        SKIP("no seed collection");
    float v[SEED_DIM];
    if (seed_vector("USD1100000-20251230-D00001.TIF", v) != 0)
        return;
    ds_err err = {0};
    /* loc_class of row i is ["06-01","26-05","09-01","06-03"][i % 4]. */
    cat_filter f = {.loc_class = "06"};
    json_t *hits = search(v, &f, 100, &err);
    CHECKF(hits && json_array_size(hits) == SEED_ROWS / 2, "%zu hits for class 06: %s",
           json_array_size(hits), err.msg);
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
        CHECK(strncmp(json_string_value(json_object_get(h, "loc_class")), "06-", 3) == 0);
    json_decref(hits);
    f = (cat_filter){.loc_class = "26-05"};
    hits = search(v, &f, 100, &err);
    CHECK(hits && json_array_size(hits) == SEED_ROWS / 4);
    json_decref(hits);
    /* pub_date of row i is 20251230 - (i % 5) * 100. */
    f = (cat_filter){.pub_date_from = "2025-11-01", .pub_date_to = "2025-12-31"};
    hits = search(v, &f, 100, &err);
    CHECKF(hits && json_array_size(hits) == SEED_ROWS * 2 / 5, "%zu", json_array_size(hits));
    json_decref(hits);
    /* applicant_country ["US","DE","JP"][i % 3], given in lower case. */
    f = (cat_filter){.applicant_country = "de"};
    hits = search(v, &f, 100, &err);
    CHECK(hits && json_array_size(hits) == SEED_ROWS / 3);
    json_decref(hits);
    /* Case-insensitive substring: not expressible in Milvus 2.3, applied
     * to the returned rows. */
    f = (cat_filter){.applicant = "TOOLS"};
    hits = search(v, &f, 100, &err);
    CHECK(hits && json_array_size(hits) == SEED_ROWS / 3);
    json_decref(hits);
    const char *ids[] = {"D1100002", "D1100005"};
    f = (cat_filter){.patent_ids = ids, .n_patent_ids = 2};
    hits = search(v, &f, 100, &err);
    CHECK(hits && json_array_size(hits) == 6);
    json_decref(hits);
    int64_t n = -1;
    char *expr = NULL;
    int residual;
    f = (cat_filter){.loc_class = "09-01", .applicant_country = "JP"};
    CHECK(mv_expr_compile(&f, "id", NULL, 0, &expr, &residual, &err) == 0 && !residual);
    /* i % 4 == 2 and i % 3 == 2: i % 12 == 2: 5 of 60. */
    CHECKF(mv_count(client, SEED_COLL, expr, &n, &err) == 0 && n == 5, "%lld (%s)",
           (long long)n, err.msg);
    free(expr);
}

/* Injection through each filter field: a value is a value. */
static void test_injection(void)
{
    NEED_MILVUS();
    if (!seeded)
        SKIP("no seed collection");
    float v[SEED_DIM];
    if (seed_vector("USD1100000-20251230-D00001.TIF", v) != 0)
        return;
    ds_err err = {0};
    static const char *const attacks[] = {
        "x\" or id > 0 or patent_id == \"y", "x\\\" or id > 0 or \"\" == \"", "\" || true || \"",
        "D1100000\"] or id > 0 or patent_id in [\"",
    };
    for (size_t a = 0; a < sizeof attacks / sizeof *attacks; a++) {
        const char *ids[] = {attacks[a]};
        cat_filter f = {.patent_ids = ids, .n_patent_ids = 1};
        json_t *hits = search(v, &f, 100, &err);
        CHECKF(hits && json_array_size(hits) == 0, "patent_id attack %zu: %zu hits (%s)", a,
               json_array_size(hits), err.msg);
        json_decref(hits);
        /* A country longer than any country is refused before Milvus;
         * a shorter attack is a value that matches nothing. */
        f = (cat_filter){.applicant_country = attacks[a]};
        hits = search(v, &f, 100, &err);
        CHECKF(hits ? json_array_size(hits) == 0 : err.code == DS_EINVAL, "country attack %zu",
               a);
        json_decref(hits);
        f = (cat_filter){.applicant = attacks[a]};
        hits = search(v, &f, 100, &err);
        CHECKF(hits && json_array_size(hits) == 0, "applicant attack %zu", a);
        json_decref(hits);
        /* Fields with a shape refuse anything else. */
        f = (cat_filter){.loc_class = attacks[a]};
        CHECK(!search(v, &f, 10, &err) && err.code == DS_EINVAL);
        f = (cat_filter){.pub_date_from = attacks[a]};
        CHECK(!search(v, &f, 10, &err) && err.code == DS_EINVAL);
    }
    /* Bytes that are no text never reach the server. */
    const char *bad[] = {"\xff\xfe", "a\nb", "\xc0\xaf"};
    for (int i = 0; i < 3; i++) {
        const char *ids[] = {bad[i]};
        cat_filter f = {.patent_ids = ids, .n_patent_ids = 1};
        CHECK(!search(v, &f, 10, &err) && err.code == DS_EINVAL);
    }
    /* The quoting itself: what is escaped and how. */
    mv_buf b = {0};
    CHECK(mv_quote(&b, "a\"b\\c Café", &err) == 0 && strcmp(b.data, "\"a\\\"b\\\\c Café\"") == 0);
    free(b.data);
}

/* dinoseek's own collection (v1: auto-id primary, the vector, dynamic
 * fields under the seed's names), written in batches and read back by
 * pymilvus; then deleted by id. */
static void test_own_collection_read_by_pymilvus(void)
{
    NEED_MILVUS();
    const char *coll = "dinoseek_made";
    ds_err err = {0};
    CHECK(mv_drop(client, coll, &err) == 0);
    mv_schema w = {.dim = 8, .nlist = 128};
    snprintf(w.primary, sizeof w.primary, "id");
    snprintf(w.vector, sizeof w.vector, "embedding");
    snprintf(w.metric, sizeof w.metric, "COSINE");
    CHECKF(mv_create(client, coll, &w, &err) == 0, "%s", err.msg);
    json_t *all_ids = json_array();
    for (int batch = 0; batch < 3; batch++) {
        json_t *rows = json_array();
        for (int i = 0; i < 32; i++) {
            int n = batch * 32 + i;
            json_t *vec = json_array();
            for (int d = 0; d < 8; d++)
                json_array_append_new(vec, json_real(d == n % 8 ? 1.0 : 0.01 * d));
            char pid[32], file[64];
            snprintf(pid, sizeof pid, "D%07d", 2000000 + n);
            snprintf(file, sizeof file, "US%s-20221025-D00001.TIF", pid);
            json_array_append_new(rows, json_pack("{s:o,s:s,s:s,s:i,s:s,s:I}", "embedding", vec,
                                                  "patent_id", pid, "file_name", file,
                                                  "image_index", 0, "title",
                                                  n == 7 ? "Say \"hi\" \\ café" : "Widget",
                                                  "pub_date", (json_int_t)20221025));
        }
        json_t *ids = NULL;
        CHECKF(mv_insert(client, coll, rows, &ids, &err) == 0, "%s", err.msg);
        CHECK(json_array_size(ids) == 32 && json_is_integer(json_array_get(ids, 0)));
        json_array_extend(all_ids, ids);
        json_decref(ids);
        json_decref(rows);
    }
    CHECKF(count_eventually(coll, NULL, 96) == 96, "count after 96 inserts");
    /* The seed's code reads what dinoseek wrote. */
    char cmd[1024], *out = NULL;
    const char *py = ds_peer_python();
    snprintf(cmd, sizeof cmd, "%s tests/peers/seed_milvus.py %s read %s patent_id file_name "
             "title pub_date", py ? py : "false", peer.endpoint, coll);
    CHECK(ds_test_run(cmd, &out, NULL) == 0);
    int lines = 0;
    for (char *p = out; p && (p = strchr(p, '\n')); p++)
        lines++;
    CHECKF(lines == 96, "pymilvus read %d rows", lines);
    CHECK(out && strstr(out, "\"title\": \"Say \\\"hi\\\" \\\\ caf\\u00e9\""));
    CHECK(out && strstr(out, "\"pub_date\": 20221025") && strstr(out, "USD2000095-20221025"));
    free(out);
    /* A filter on a value with quotes finds exactly that row. */
    const char *pids[] = {"D2000007"};
    cat_filter f = {.patent_ids = pids, .n_patent_ids = 1};
    char *expr = NULL;
    int residual;
    CHECK(mv_expr_compile(&f, "id", NULL, 0, &expr, &residual, &err) == 0);
    json_t *rows = NULL;
    CHECK(mv_query(client, coll, expr, (const char *const[]){"title", NULL}, 10, 0, &rows, &err) == 0);
    CHECK(json_array_size(rows) == 1 &&
          !strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "title")),
                  "Say \"hi\" \\ café"));
    json_decref(rows);
    free(expr);
    /* Delete a batch by id. */
    int64_t del[32];
    for (int i = 0; i < 32; i++)
        del[i] = json_integer_value(json_array_get(all_ids, (size_t)i));
    CHECKF(mv_delete_ids(client, coll, del, 32, &err) == 0, "%s", err.msg);
    CHECKF(count_eventually(coll, NULL, 64) == 64, "count after deleting 32");
    json_decref(all_ids);
    CHECK(mv_drop(client, coll, &err) == 0);
}

static void test_faults(void)
{
    ds_fault f;
    ds_err err = {0};
    mv_client *c = NULL;
    /* Down: nothing listens. */
    CHECK(ds_fault_start(&f, "garbage") == 0);
    char url[64];
    snprintf(url, sizeof url, "%s", f.url);
    ds_fault_stop(&f);
    mv_config cfg = {.uri = url, .retries = 1, .timeout_ms = 1500};
    double t0 = now_ms();
    CHECK(mv_open(&cfg, &c, &err) == -1 && err.code == DS_ENET && !c);
    CHECK_MSG(err, "Milvus at http://127.0.0.1:");
    CHECKF(now_ms() - t0 < 5000, "%.0f ms", now_ms() - t0);
    /* Garbage: not Milvus's JSON. */
    CHECK(ds_fault_start(&f, "garbage") == 0);
    cfg.uri = f.url;
    CHECK(mv_open(&cfg, &c, &err) == -1 && err.code == DS_EFORMAT);
    ds_fault_stop(&f);
    /* Silent: each attempt ends at its limit. */
    CHECK(ds_fault_start(&f, "slow") == 0);
    cfg.uri = f.url;
    t0 = now_ms();
    CHECK(mv_open(&cfg, &c, &err) == -1 && err.code == DS_ENET);
    CHECKF(now_ms() - t0 < 8000, "%.0f ms against a silent server", now_ms() - t0);
    ds_fault_stop(&f);
    /* Refusing with 500: retried, then DS_ENET. */
    CHECK(ds_fault_start(&f, "status 500") == 0);
    cfg.uri = f.url;
    cfg.retries = 2;
    CHECK(mv_open(&cfg, &c, &err) == -1 && err.code == DS_ENET);
    CHECKF(ds_fault_count(&f) == 3, "%d attempts", ds_fault_count(&f));
    ds_fault_stop(&f);
    /* Flaky in front of the real server: passes after the 503s. */
    if (client) {
        char mode[300];
        snprintf(mode, sizeof mode, "flaky 2 %s", peer.endpoint);
        CHECK(ds_fault_start(&f, mode) == 0);
        mv_config ok = {.uri = f.url, .retries = 3};
        CHECKF(mv_open(&ok, &c, &err) == 0, "%s", err.msg);
        CHECK(c && mv_get_dialect(c) == MV_V1);
        mv_close(c);
        ds_fault_stop(&f);
    }
    /* Bad configurations. */
    mv_config bad = {.uri = "ftp://x"};
    CHECK(mv_open(&bad, &c, &err) == -1 && err.code == DS_EINVAL);
    bad.uri = "http://user:pw@host:19530";
    CHECK(mv_open(&bad, &c, &err) == -1 && err.code == DS_EINVAL);
    bad = (mv_config){.uri = "http://127.0.0.1:1", .token = "a\r\nX-Injected: 1"};
    CHECK(mv_open(&bad, &c, &err) == -1 && err.code == DS_EINVAL);
}

/* A v1 collection of 8-d vectors made afresh for a test. */
static int fresh_collection(const char *coll)
{
    ds_err err = {0};
    mv_schema w = {.dim = 8, .nlist = 128};
    snprintf(w.primary, sizeof w.primary, "id");
    snprintf(w.vector, sizeof w.vector, "embedding");
    snprintf(w.metric, sizeof w.metric, "COSINE");
    if (mv_drop(client, coll, &err) != 0 || mv_create(client, coll, &w, &err) != 0) {
        CHECKF(0, "collection %s: %s", coll, err.msg);
        return -1;
    }
    return 0;
}

/* n rows of 8-d vectors named file-0.png ... */
static json_t *small_rows(int n)
{
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        json_t *vec = json_array();
        for (int d = 0; d < 8; d++)
            json_array_append_new(vec, json_real(d == i % 8 ? 1.0 : 0.01 * d));
        char file[32];
        snprintf(file, sizeof file, "file-%d.png", i);
        json_array_append_new(rows, json_pack("{s:o,s:s}", "embedding", vec, "file_name", file));
    }
    return rows;
}

/* A kept-alive connection that dies after the insert went through, before
 * its answer: libcurl would send the POST again on a new connection (it
 * does so for a reused connection that dies before any byte of an
 * answer). An insert must reach Milvus once: the call fails instead, and
 * the collection holds the rows once. */
static void test_insert_never_resent(void)
{
    NEED_MILVUS();
    const char *coll = "insert_once";
    if (fresh_collection(coll) != 0)
        return;
    ds_fault f;
    char mode[300];
    snprintf(mode, sizeof mode, "drop-answer /v1/vector/insert %s", peer.endpoint);
    CHECK(ds_fault_start(&f, mode) == 0);
    mv_config cfg = {.uri = f.url, .timeout_ms = 5000};
    mv_client *c = NULL;
    ds_err err = {0};
    /* mv_open's requests leave a kept-alive connection for the insert. */
    CHECKF(mv_open(&cfg, &c, &err) == 0, "%s", err.msg);
    json_t *rows = small_rows(4), *ids = NULL;
    int rc = c ? mv_insert(c, coll, rows, &ids, &err) : 0;
    CHECKF(rc == -1 && err.code == DS_ENET && !ids, "the insert whose answer was lost: %d (%s)",
           rc, err.msg);
    int64_t n = count_eventually(coll, NULL, 4);
    usleep(1500000); /* a second copy would show by now too */
    CHECK(mv_count(client, coll, NULL, &n, &err) == 0);
    CHECKF(n == 4, "%lld rows for 4 inserted", (long long)n);
    json_decref(ids);
    json_decref(rows);
    mv_close(c);
    ds_fault_stop(&f);
    CHECK(mv_drop(client, coll, &err) == 0);
}


/* ---- the engine on Milvus: `dinoseek serve --index milvus` -------------- */

static ds_server srv;            /* serving the seed's collection */
#define SERVED "design_patents_full"
#define FIRST_LAMP "USD1100000-20251230-D00002.TIF" /* row 1: a lamp, 26-05 */


static ds_reply search_by_name(const char *query)
{
    char path[1200];
    /* min_score -1: the generated vectors are random, half the cosines
     * are below the default floor of 0. */
    snprintf(path, sizeof path,
             "/api/search?collection=" SERVED "&image=" FIRST_LAMP "&min_score=-1&%s", query);
    return ds_http(srv.port, "POST", path, NULL, NULL, NULL, 0, NULL);
}

/* A collection built by pymilvus with the seed's schema (768 fields for
 * dinov2-base in the seed; here 384-d for the test's ViT-S) is served by
 * dinoseek as it is: results, grouping, filters, the patent, the stats. */
static void test_seed_collection_served(void)
{
    NEED_MILVUS();
    const char *py = ds_peer_python();
    if (!py || !ds_test_model_dir())
        SKIP("no venv with pymilvus, or no model");
    char cmd[1024], extra[600];
    snprintf(cmd, sizeof cmd, "%s tests/peers/seed_milvus.py %s create " SERVED " 384 %d", py,
             peer.endpoint, SEED_ROWS);
    if (ds_test_run(cmd, NULL, NULL) != 0) {
        CHECK(!"pymilvus could not build the 384-d seed collection");
        return;
    }
    snprintf(extra, sizeof extra, "--index milvus --milvus-uri %s --collection " SERVED,
             peer.endpoint);
    if (ds_server_start(&srv, "served", extra) != 0) {
        CHECK(!"dinoseek serve --index milvus did not start on the seed's collection");
        return;
    }
    /* A stored image by name: itself first, with the seed's fields. */
    ds_reply r = search_by_name("top_k=5");
    json_t *top = json_array_get(ds_reply_results(&r), 0);
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == 5, "%ld %.300s", r.status,
           r.body);
    CHECK(top && !strcmp(json_string_value(json_object_get(top, "file_name")), FIRST_LAMP) &&
          json_real_value(json_object_get(top, "score")) > 0.999);
    CHECK(top && !strcmp(json_string_value(json_object_get(top, "title")), "Lamp \"Arc\" shade") &&
          !strcmp(json_string_value(json_object_get(top, "loc_class")), "26-05") &&
          json_integer_value(json_object_get(top, "pub_date")) == 20251130 &&
          !strcmp(json_string_value(json_object_get(top, "pub_date_iso")), "2025-11-30") &&
          !strcmp(json_string_value(json_object_get(top, "applicant_name")), "Lumen GmbH") &&
          !strcmp(json_string_value(json_object_get(top, "page_num")), "D00002") &&
          json_integer_value(json_object_get(top, "image_count")) == 3);
    ds_reply_free(&r);
    /* Grouped: k distinct patents, never fewer when that many exist. */
    r = search_by_name("top_k=7&group_by_patent=true");
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == 7, "grouped: %.300s", r.body);
    json_t *seen = json_object();
    size_t i;
    json_t *g;
    json_array_foreach(ds_reply_results(&r), i, g) {
        const char *pid = json_string_value(json_object_get(g, "patent_id"));
        CHECK(pid && !json_object_get(seen, pid) && json_array_size(json_object_get(g, "images")) >= 1);
        if (pid)
            json_object_set_new(seen, pid, json_true());
    }
    json_decref(seen);
    ds_reply_free(&r);
    /* Filters reach Milvus; the substring one is applied to the rows. */
    r = search_by_name("top_k=50&loc_class=06");
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == SEED_ROWS / 2, "class 06: %zu",
           json_array_size(ds_reply_results(&r)));
    json_array_foreach(ds_reply_results(&r), i, g)
        CHECK(!strncmp(json_string_value(json_object_get(g, "loc_class")), "06-", 3));
    ds_reply_free(&r);
    r = search_by_name("top_k=50&applicant=lumen");
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == SEED_ROWS / 3, "lumen: %zu",
           json_array_size(ds_reply_results(&r)));
    ds_reply_free(&r);
    /* The patent: every drawing, in order. */
    r = ds_http(srv.port, "GET", "/api/patent/D1100001?collection=" SERVED, NULL, NULL, NULL, 0,
                NULL);
    json_t *imgs = json_object_get(ds_reply_data(&r), "images");
    CHECKF(r.status == 200 && json_array_size(imgs) == 3 &&
               json_integer_value(json_object_get(json_array_get(imgs, 2), "image_index")) == 2,
           "patent: %.300s", r.body);
    ds_reply_free(&r);
    r = ds_http(srv.port, "GET", "/api/patent/D9999999?collection=" SERVED, NULL, NULL, NULL, 0,
                NULL);
    CHECK(r.status == 404);
    ds_reply_free(&r);
    /* Stats counted in Milvus. */
    r = ds_http(srv.port, "GET", "/api/collection/stats?collection=" SERVED, NULL, NULL, NULL, 0,
                NULL);
    CHECKF(r.status == 200 && json_integer_value(json_object_get(ds_reply_data(&r), "row_count")) ==
               SEED_ROWS && json_integer_value(json_object_get(ds_reply_data(&r), "patents")) ==
               SEED_ROWS / 3, "stats: %.300s", r.body);
    ds_reply_free(&r);
    r = ds_http(srv.port, "GET", "/health", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && !strcmp(json_string_value(json_object_get(
                                 json_object_get(r.json, "components"), "milvus")), "ok"));
    ds_reply_free(&r);
}

/* The upload of name_form: the image file, its file_name and patent_id
 * (either may be NULL), into SERVED. */
static const char *form_file, *form_name, *form_patent;

static curl_mime *name_form(CURL *c)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, form_file);
    const char *fields[][2] = {{"file_name", form_name}, {"patent_id", form_patent},
                               {"collection", SERVED}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (!fields[i][1])
            continue;
        p = curl_mime_addpart(m);
        curl_mime_name(p, fields[i][0]);
        curl_mime_data(p, fields[i][1], CURL_ZERO_TERMINATED);
    }
    return m;
}

/* The seed's schema holds file_name in VARCHAR(256) and patent_id in
 * VARCHAR(64). A longer one was cut to fit and stored: the row was then
 * not found by its name (a rerun stored it again; its thumbnail link
 * pointed at no blob) and two long patent ids became one patent. Such an
 * image is refused, by upload (400) and by import (a failure), and
 * nothing is stored; a name that fits is stored whole. */
static void test_seed_schema_names_not_cut(void)
{
    NEED_MILVUS();
    if (!srv.pid)
        SKIP("no server on the seed's collection");
    char cmd[4096], sample[600], dir[600], path[700];
    snprintf(sample, sizeof sample, "%s/cut-sample", ds_test_tmpdir);
    snprintf(dir, sizeof dir, "%s/cut-images", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s sample generate %s --patents 1 --seed 17 --size 425x550 "
             "--no-tar >/dev/null && mkdir -p %s && i=0 && for f in $(ls %s/USD*/*.TIF | "
             "head -4); do cp $f %s/c$i.tif; i=$((i+1)); done", ds_test_bin(), sample, dir,
             sample, dir);
    if (ds_test_run(cmd, NULL, NULL) != 0) {
        CHECK(!"no images");
        return;
    }
    char long_name[400], fits[400], long_id[80];
    /* Two path segments (each within the blob key's 240 bytes): 305 bytes. */
    snprintf(long_name, sizeof long_name, "%0150d/%0150d.tif", 0, 1);
    snprintf(fits, sizeof fits, "%0120d/%0120d.tif", 0, 2);
    snprintf(long_id, sizeof long_id, "D%070d", 7);
    snprintf(path, sizeof path, "%s/c0.tif", dir);
    form_file = path;
    form_name = long_name;
    form_patent = NULL;
    ds_reply r = ds_http(srv.port, "POST", "/api/images", name_form, NULL, NULL, 0, NULL);
    CHECKF(r.status == 400 && strstr(r.body, "file_name") && strstr(r.body, "256"),
           "a 305-byte name: %ld %.300s", r.status, r.body);
    ds_reply_free(&r);
    snprintf(path, sizeof path, "%s/c1.tif", dir);
    form_name = "cut-c1.tif";
    form_patent = long_id;
    r = ds_http(srv.port, "POST", "/api/images", name_form, NULL, NULL, 0, NULL);
    CHECKF(r.status == 400 && strstr(r.body, "patent_id") && strstr(r.body, "64"),
           "a 71-byte patent id: %ld %.300s", r.status, r.body);
    ds_reply_free(&r);
    snprintf(path, sizeof path, "%s/c2.tif", dir);
    form_name = fits;
    form_patent = NULL;
    r = ds_http(srv.port, "POST", "/api/images", name_form, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "a 245-byte name: %ld %.300s", r.status, r.body);
    ds_reply_free(&r);
    char q[600];
    snprintf(q, sizeof q, "/api/search?collection=" SERVED "&image=%s&top_k=1", fits);
    r = ds_http(srv.port, "POST", q, NULL, NULL, NULL, 0, NULL);
    const char *top = json_string_value(
        json_object_get(json_array_get(ds_reply_results(&r), 0), "file_name"));
    CHECKF(r.status == 200 && top && !strcmp(top, fits), "the stored name, whole: %ld %.300s",
           r.status, r.body);
    ds_reply_free(&r);
    /* An import: the image with the long patent id fails alone. */
    char csv[400], meta[700], data[600], *errs = NULL;
    snprintf(csv, sizeof csv, "file_name,patent_id,image_index\nc3.tif,%s,0\n"
             "c0.tif,D0770000,0\n", long_id);
    snprintf(meta, sizeof meta, "%s/cut.csv", ds_test_tmpdir);
    FILE *f = fopen(meta, "w");
    if (f) {
        fputs(csv, f);
        fclose(f);
    }
    snprintf(data, sizeof data, "%s/cut-data", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "rm %s/c1.tif %s/c2.tif && %s import %s --metadata %s --data %s "
             "--model %s --index milvus --milvus-uri %s --collection " SERVED, dir, dir,
             ds_test_bin(), dir, meta, data, ds_test_model_dir(), peer.endpoint);
    int rc = ds_test_run(cmd, NULL, &errs);
    CHECKF(rc != 0 && errs && strstr(errs, "1 stored") && strstr(errs, "1 failed") &&
               strstr(errs, "patent_id"), "import: %d %s", rc, errs ? errs : "");
    free(errs);
    int64_t n = -1;
    ds_err err = {0};
    CHECKF(mv_count(client, SERVED, "patent_id like \"D0000%\"", &n, &err) == 0 && n == 0,
           "rows with a cut patent id: %lld (%s)", (long long)n, err.msg);
    CHECKF(mv_count(client, SERVED, "file_name like \"000000%\"", &n, &err) == 0 && n == 1,
           "rows named by the long names: %lld (%s)", (long long)n, err.msg);
}

/* ---- filters on a collection dinoseek made, as embedded mode applies them */

#define OWN "own_filters"
static ds_server own;            /* serving OWN */

/* A search in OWN by a stored image, with a query's filters: the hits'
 * file names, sorted and joined by ',' (caller frees), or NULL. */
static char *own_hits(const char *filters, long *status)
{
    char path[2400];
    snprintf(path, sizeof path, "/api/search?collection=" OWN "&image=a0.tif&min_score=-1"
             "&top_k=50&%s", filters);
    ds_reply r = ds_http(own.port, "POST", path, NULL, NULL, NULL, 0, NULL);
    *status = r.status;
    char names[8][32];
    size_t n = 0, i;
    json_t *h;
    json_array_foreach(ds_reply_results(&r), i, h)
        if (n < 8)
            snprintf(names[n++], sizeof names[0], "%s",
                     json_string_value(json_object_get(h, "file_name")));
    qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    char *out = calloc(1, 8 * 33 + 1);
    for (i = 0; out && i < n; i++)
        strcat(strcat(out, i ? "," : ""), names[i]);
    if (r.status != 200)
        fprintf(stderr, "    %s: %ld %.300s\n", filters, r.status, r.body);
    ds_reply_free(&r);
    return out;
}

/* Six drawings imported into a collection dinoseek makes on Milvus (its
 * patent fields dynamic), then served: each filter finds what the
 * embedded index finds for the same rows. a2, a3 and a5 have no date and
 * no class; countries are written in mixed case; a0's inventor list is
 * longer than the seed's VARCHAR(500) and ends with the name asked for. */
static void test_own_collection_filters(void)
{
    NEED_MILVUS();
    if (!ds_test_model_dir())
        SKIP("no model");
    char cmd[4096], dir[600], sample[600];
    snprintf(sample, sizeof sample, "%s/own-sample", ds_test_tmpdir);
    snprintf(dir, sizeof dir, "%s/own-images", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s sample generate %s --patents 2 --size 425x550 --no-tar "
             ">/dev/null && mkdir -p %s && i=0 && for f in $(ls %s/USD*/*.TIF | head -6); do "
             "cp $f %s/a$i.tif; i=$((i+1)); done", ds_test_bin(), sample, dir, sample, dir);
    if (ds_test_run(cmd, NULL, NULL) != 0) {
        CHECK(!"no images");
        return;
    }
    char inventors[800] = "";
    while (strlen(inventors) < 670)
        strcat(inventors, "Jonathan P. Ive; ");
    strcat(inventors, "Steven P. Jobs");
    char csv[2000], path[700];
    snprintf(csv, sizeof csv,
             "file_name,patent_id,image_index,title,loc_class,pub_date,applicant_country,"
             "inventor_names\n"
             "a0.tif,D0900000,0,Chair,06-01,2020-01-07,US,\"%s\"\n"
             "a1.tif,D0900001,0,Lamp,26-05,2021-05-04,de,Ada Lovelace\n"
             "a2.tif,D0900002,0,Cup,,,jp,Alan Turing\n"
             "a3.tif,D0900003,0,Cup,,,JP,Grace Hopper\n"
             "a4.tif,D0900004,0,Watch,10-02,2022-03-01,De,Linus Torvalds\n",
             inventors);
    snprintf(path, sizeof path, "%s/metadata.csv", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(csv, f);
        fclose(f);
    }
    ds_err err = {0};
    CHECK(mv_drop(client, OWN, &err) == 0);
    char data[600], *errs = NULL;
    snprintf(data, sizeof data, "%s/own", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s import %s --data %s --model %s --index milvus --milvus-uri %s "
             "--collection " OWN, ds_test_bin(), dir, data, ds_test_model_dir(), peer.endpoint);
    int rc = ds_test_run(cmd, NULL, &errs);
    CHECKF(rc == 0 && errs && strstr(errs, "6 stored"), "import %d: %s", rc, errs ? errs : "");
    free(errs);
    char extra[600];
    snprintf(extra, sizeof extra, "--index milvus --milvus-uri %s --collection " OWN,
             peer.endpoint);
    if (rc != 0 || ds_server_start(&own, "own", extra) != 0) {
        CHECK(!"no server on " OWN);
        return;
    }
    static const struct {
        const char *filters, *want;
    } cases[] = {
        /* Undated images have no date to be before (#16 item 21). */
        {"pub_date_to=2022-12-31", "a0.tif,a1.tif,a4.tif"},
        {"pub_date_from=2021-01-01", "a1.tif,a4.tif"},
        /* Countries compare case-insensitively (item 22). */
        {"applicant_country=DE", "a1.tif,a4.tif"},
        {"applicant_country=jp", "a2.tif,a3.tif"},
        /* Text beyond the seed's VARCHAR lengths is searched (item 23). */
        {"inventor=jobs", "a0.tif"},
        {"inventor=ive", "a0.tif"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        long status = 0;
        char *got = own_hits(cases[i].filters, &status);
        CHECKF(status == 200 && got && !strcmp(got, cases[i].want), "%s: %s, not %s",
               cases[i].filters, got ? got : "-", cases[i].want);
        free(got);
    }
    /* Images without a class are in no class, "other" included (item 25). */
    ds_reply r = ds_http(own.port, "GET", "/api/locarno?collection=" OWN, NULL, NULL, NULL, 0,
                         NULL);
    CHECKF(r.status == 200 &&
               json_integer_value(json_object_get(ds_reply_data(&r), "other_images")) == 0 &&
               json_array_size(json_object_get(ds_reply_data(&r), "subclasses")) == 3,
           "locarno: %.400s", r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&own) == 0);
    own.pid = 0;
}

/* The seed's patent_images collection has no patent fields: a filter on
 * one is the caller's mistake (400 naming the field), not Milvus's "field
 * not exist" passed on as a 500; a filter on a field it has still works. */
static void test_filter_on_a_field_the_collection_lacks(void)
{
    NEED_MILVUS();
    const char *py = ds_peer_python();
    if (!py || !ds_test_model_dir())
        SKIP("no venv with pymilvus, or no model");
    char cmd[1024], extra[600];
    snprintf(cmd, sizeof cmd, "%s tests/peers/seed_milvus.py %s create-images patent_images 384 9",
             py, peer.endpoint);
    if (ds_test_run(cmd, NULL, NULL) != 0) {
        CHECK(!"pymilvus could not build patent_images");
        return;
    }
    ds_server s;
    snprintf(extra, sizeof extra, "--index milvus --milvus-uri %s --collection patent_images",
             peer.endpoint);
    if (ds_server_start(&s, "images", extra) != 0) {
        CHECK(!"no server on patent_images");
        return;
    }
    static const struct {
        const char *query, *field;
    } cases[] = {
        {"loc_class=06", "loc_class"},
        {"pub_date_to=2022-01-01", "pub_date"},
        {"filing_date_from=2022-01-01", "filing_date"},
        {"applicant_country=US", "applicant_country"},
        {"applicant=acme", "applicant_name"},
        {"assignee=acme", "assignee_name"},
        {"inventor=jobs", "inventor_names"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[600];
        snprintf(path, sizeof path, "/api/search?collection=patent_images&image="
                 "USD1200000-20251230-D00001.TIF&min_score=-1&%s", cases[i].query);
        ds_reply r = ds_http(s.port, "POST", path, NULL, NULL, NULL, 0, NULL);
        CHECKF(r.status == 400 && strstr(r.body, cases[i].field) && !strstr(r.body, "not exist"),
               "%s: %ld %.300s", cases[i].query, r.status, r.body);
        ds_reply_free(&r);
    }
    ds_reply r = ds_http(s.port, "POST", "/api/search?collection=patent_images&image="
                         "USD1200000-20251230-D00001.TIF&min_score=-1&patent_ids=D1200001",
                         NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == 3, "patent_ids: %ld %.300s",
           r.status, r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&s) == 0);
}

/* A collection indexed with L2 answers distances (0: the same image),
 * which dinoseek would serve as similarity scores: it refuses the
 * collection, naming the metric. */
static void test_l2_collection_refused(void)
{
    NEED_MILVUS();
    if (!ds_test_model_dir())
        SKIP("no model");
    ds_err err = {0};
    mv_schema w = {.dim = 384, .nlist = 128};
    snprintf(w.primary, sizeof w.primary, "id");
    snprintf(w.vector, sizeof w.vector, "embedding");
    snprintf(w.metric, sizeof w.metric, "L2");
    CHECK(mv_drop(client, "by_l2", &err) == 0);
    CHECKF(mv_create(client, "by_l2", &w, &err) == 0, "%s", err.msg);
    char cmd[2048], sample[600], *out = NULL, *errs = NULL;
    snprintf(sample, sizeof sample, "%s/l2-sample", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s sample generate %s --patents 1 --size 425x550 --no-tar "
             ">/dev/null && %s search $(ls %s/USD*/*.TIF | head -1) --data %s/l2 --model %s "
             "--index milvus --milvus-uri %s --collection by_l2", ds_test_bin(), sample,
             ds_test_bin(), sample, ds_test_tmpdir, ds_test_model_dir(), peer.endpoint);
    int rc = ds_test_run(cmd, &out, &errs);
    CHECKF(rc != 0 && errs && strstr(errs, "metric L2") && strstr(errs, "COSINE"),
           "search of an L2 collection: %d %s %s", rc, out ? out : "", errs ? errs : "");
    free(out);
    free(errs);
    CHECK(mv_drop(client, "by_l2", &err) == 0);
}

/* Milvus stopped under a running server: searches answer 503 naming
 * Milvus, /health says which part is down, nothing hangs; started again
 * (same port, same data), the same server answers again. */
static void test_down_and_back(void)
{
    NEED_MILVUS();
    if (!srv.pid)
        SKIP("no server on Milvus");
    CHECK(ds_peer_stop(&peer) == 0);
    double t0 = now_ms();
    ds_reply r = search_by_name("top_k=5");
    CHECKF(r.status == 503 && strstr(r.body, "Milvus"), "down: %ld %.300s", r.status, r.body);
    CHECKF(now_ms() - t0 < 30000, "the search took %.0f ms", now_ms() - t0);
    ds_reply_free(&r);
    r = ds_http(srv.port, "GET", "/health", NULL, NULL, NULL, 0, NULL);
    json_t *comp = json_object_get(r.json, "components");
    CHECKF(r.status == 503 && !strcmp(json_string_value(json_object_get(comp, "milvus")), "error") &&
               strstr(json_string_value(json_object_get(json_object_get(r.json, "errors"), "index")),
                      "Milvus"), "health: %.400s", r.body);
    ds_reply_free(&r);
    if (ds_peer_restart(&peer) != 0) {
        CHECKF(0, "Milvus did not start again: %s", peer.why);
        return;
    }
    /* Loading the collection again takes Milvus a moment. */
    for (int i = 0; i < 60; i++) {
        r = search_by_name("top_k=5");
        if (r.status == 200)
            break;
        ds_reply_free(&r);
        usleep(500000);
    }
    CHECKF(r.status == 200 && json_array_size(ds_reply_results(&r)) == 5, "back: %ld %.200s", r.status,
           r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&srv) == 0);
    srv.pid = 0;
}

/* An import while Milvus stops and starts again: the run that met the
 * outage waits for Milvus and finishes; a rerun stores nothing more. At the end every image is stored once, and every blob
 * belongs to a row. */
static void test_import_through_an_outage(void)
{
    NEED_MILVUS();
    if (!ds_test_model_dir())
        SKIP("no model");
    char cmd[4096], sample[600], data[600];
    snprintf(sample, sizeof sample, "%s/outage-sample", ds_test_tmpdir);
    snprintf(data, sizeof data, "%s/outage", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s sample generate %s --patents 12 --seed 3 --views-max 4",
             ds_test_bin(), sample);
    if (ds_test_run(cmd, NULL, NULL) != 0) {
        CHECK(!"no sample set");
        return;
    }
    snprintf(cmd, sizeof cmd, "exec %s import %s/I*.tar --data %s --model %s --index milvus "
             "--milvus-uri %s --collection outage --batch 4 >%s.log 2>&1",
             ds_test_bin(), sample, data, ds_test_model_dir(), peer.endpoint, data);
    pid_t pid = fork();
    if (pid == 0) {
        ds_test_tie_to_runner();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    usleep(2500000);             /* mid-import */
    CHECK(ds_peer_stop(&peer) == 0);
    usleep(2000000);
    CHECKF(ds_peer_restart(&peer) == 0, "Milvus did not start again: %s", peer.why);
    int status;
    waitpid(pid, &status, 0);
    fprintf(stderr, "    the run through the outage exited %d\n",
            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* It waits for Milvus (with backoff) instead of failing its items. */
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s.log", data);
    char *log = ds_test_read_file(logpath, NULL);
    fprintf(stderr, "    %s\n", log && strstr(log, "waiting for it") ? "it waited for Milvus"
                                                                    : "it met no outage");
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        fprintf(stderr, "%s\n", log ? log : "");
    free(log);
    /* The rerun: whatever failed is stored now, nothing twice. */
    char *out = NULL, *errs = NULL;
    snprintf(cmd, sizeof cmd, "%s import %s/I*.tar --data %s --model %s --index milvus "
             "--milvus-uri %s --collection outage --batch 4", ds_test_bin(), sample, data,
             ds_test_model_dir(), peer.endpoint);
    int rc = ds_test_run(cmd, &out, &errs);
    CHECKF(rc == 0 && errs && strstr(errs, " 0 failed"), "rerun %d: %s", rc, errs ? errs : "");
    free(out);
    free(errs);
    /* Count the drawings the sample has, and the rows Milvus has. */
    snprintf(cmd, sizeof cmd, "tar -tf %s/I*.tar | wc -l", sample);
    json_t *rows = NULL;
    ds_err err = {0};
    static const char *const fields[] = {"file_name", NULL};
    CHECKF(mv_query(client, "outage", "id > 0", fields, 16384, 0, &rows, &err) == 0, "%s",
           err.msg);
    json_t *names = json_object();
    size_t i;
    json_t *row;
    int dup = 0;
    json_array_foreach(rows, i, row) {
        const char *f = json_string_value(json_object_get(row, "file_name"));
        dup += f && json_object_get(names, f) != NULL;
        if (f)
            json_object_set_new(names, f, json_true());
    }
    CHECKF(dup == 0, "%d images stored twice", dup);
    /* Every original in the blob store belongs to a row, and back. */
    char blobs[800];
    snprintf(blobs, sizeof blobs, "%s/blobs/originals/outage", data);
    DIR *d = opendir(blobs);
    int orphans = 0, files = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        files++;
        orphans += json_object_get(names, de->d_name) == NULL;
    }
    if (d)
        closedir(d);
    CHECKF(orphans == 0 && files == (int)json_object_size(names) && files >= 12 * 1,
           "%d originals, %zu rows, %d orphans", files, json_object_size(names), orphans);
    fprintf(stderr, "    %zu images, stored once each, no orphan blobs\n", json_object_size(names));
    json_decref(names);
    json_decref(rows);
}

/* An import whose first insert meets a fault proxy (mode: its words
 * before the upstream): it reports each drawing stored, and Milvus holds
 * each once, also after the faulty insert lands late. */
static void import_through_fault(const char *mode, const char *coll, int timeout_ms)
{
    char cmd[4096], sample[600], data[600], full[600];
    snprintf(sample, sizeof sample, "%s/fault-sample", ds_test_tmpdir);
    snprintf(data, sizeof data, "%s/fault-%s", ds_test_tmpdir, coll);
    snprintf(cmd, sizeof cmd, "test -d %s || %s sample generate %s --patents 6 --size 425x550 "
             "--no-tar", sample, ds_test_bin(), sample);
    if (ds_test_run(cmd, NULL, NULL) != 0) {
        CHECK(!"no sample set");
        return;
    }
    ds_err err = {0};
    CHECK(mv_drop(client, coll, &err) == 0);
    ds_fault f;
    snprintf(full, sizeof full, "%s %s", mode, peer.endpoint);
    if (ds_fault_start(&f, full) != 0) {
        CHECK(!"no fault proxy");
        return;
    }
    snprintf(cmd, sizeof cmd, "%s import %s --data %s --model %s --index milvus --milvus-uri %s "
             "--milvus-timeout-ms %d --collection %s --batch 8", ds_test_bin(), sample, data,
             ds_test_model_dir(), f.url, timeout_ms, coll);
    char *out = NULL, *errs = NULL;
    double t0 = now_ms();
    int rc = ds_test_run(cmd, &out, &errs);
    CHECKF(rc == 0 && errs && strstr(errs, "27 stored") && strstr(errs, " 0 failed"),
           "import %d: %s", rc, errs ? errs : "");
    /* Whatever the proxy still holds lands by now. */
    double rest = 9000 - (now_ms() - t0);
    if (rest > 0)
        usleep((useconds_t)(rest * 1000));
    int64_t n = count_eventually(coll, NULL, 27);
    usleep(1500000);
    CHECK(mv_count(client, coll, NULL, &n, &err) == 0);
    CHECKF(n == 27, "%lld rows for 27 drawings", (long long)n);
    free(out);
    free(errs);
    ds_fault_stop(&f);
    CHECK(mv_drop(client, coll, &err) == 0);
}

/* An insert answered by nobody (the proxy passes it on, then drops the
 * connection): the engine finds its rows arrived and inserts none again. */
static void test_import_insert_answer_lost(void)
{
    NEED_MILVUS();
    if (!ds_test_model_dir())
        SKIP("no model");
    import_through_fault("drop-answer /v1/vector/insert", "answer_lost", 5000);
}

/* An insert held 6 s by a proxy, past the 1.5 s time limit: it lands
 * after the engine gave up on it, so the engine must not insert its rows
 * again while it may still land. */
static void test_import_insert_lands_late(void)
{
    NEED_MILVUS();
    if (!ds_test_model_dir())
        SKIP("no model");
    import_through_fault("hold 6000 /v1/vector/insert", "lands_late", 1500);
}

static void test_stop(void)
{
    if (srv.pid)
        ds_server_stop(&srv);
    if (own.pid)
        ds_server_stop(&own);
    mv_close(client);
    client = NULL;
    if (!peer.up)
        SKIP("no Milvus server was started");
    CHECK(ds_peer_stop(&peer) == 0);
}

const ds_test milvus_tests[] = {
    {"a real Milvus starts (2.3.5 standalone, by PID)", test_start},
    {"a pymilvus-built seed collection is described", test_seed_collection_described},
    {"dinoseek searches the seed's collection", test_seed_collection_searched},
    {"every filter field, compiled and run on Milvus", test_filters_on_the_server},
    {"injection through each filter field fails", test_injection},
    {"dinoseek's collection, read back by pymilvus", test_own_collection_read_by_pymilvus},
    {"down, garbage, silent, 500 and flaky servers", test_faults},
    {"an insert whose answer is lost is not sent again", test_insert_never_resent},
    {"dinoseek serve on the seed's own collection", test_seed_collection_served},
    {"names longer than the seed's VARCHARs are refused, not cut", test_seed_schema_names_not_cut},
    {"filters on dinoseek's own collection, as embedded", test_own_collection_filters},
    {"a filter on a field the collection lacks: 400", test_filter_on_a_field_the_collection_lacks},
    {"a collection indexed with L2 is refused", test_l2_collection_refused},
    {"Milvus stops under a server: 503, then back", test_down_and_back},
    {"import through a Milvus restart: once, no orphans", test_import_through_an_outage},
    {"an import's insert whose answer is lost: stored once", test_import_insert_answer_lost},
    {"an import's insert that lands late: stored once", test_import_insert_lands_late},
    {"the Milvus server stops (by PID)", test_stop},
    {0},
};
