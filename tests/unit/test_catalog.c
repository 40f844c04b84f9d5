/* test_catalog.c - tests for the catalog module, on real SQLite files under
 * ds_test_tmpdir. */
#include "../suites.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "catalog/catalog.h"

/* A fresh data directory per test. */
static const char *fresh_dir(const char *name)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, name);
    mkdir(dir, 0755);
    return dir;
}

/* Run SQL on the catalog file directly, outside the module. */
static int raw_exec(const char *dir, const char *sql)
{
    char path[600];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, CAT_FILE_NAME);
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    sqlite3_close(db);
    return rc;
}

static cat_db *open_with_collection(const char *name, int dim, int64_t *coll)
{
    ds_err err = {0};
    cat_db *db = NULL;
    if (cat_open(fresh_dir(name), &db, &err) < 0) {
        fprintf(stderr, "    cat_open: %s\n", err.msg);
        return NULL;
    }
    if (cat_collection_ensure(db, "designs", "facebook/dinov2-small", dim, 224, "seed", NULL, coll,
                              &err) < 0) {
        fprintf(stderr, "    ensure: %s\n", err.msg);
        cat_close(db);
        return NULL;
    }
    return db;
}

static void fill_vector(float *v, int dim, int seed)
{
    for (int i = 0; i < dim; i++)
        v[i] = (float)(seed * 1000 + i) * 0.001f;
}

/* Add an image named file_name of patent_id with a vector made from seed. */
static int add_image(cat_db *db, int64_t coll, const char *patent_id, const char *file_name,
                     int dim, int seed, int64_t *id)
{
    float v[16];
    ds_err err = {0};
    cat_image img = {0};
    img.patent_id = (char *)patent_id;
    img.file_name = (char *)file_name;
    img.image_index = seed;
    fill_vector(v, dim, seed);
    int rc = cat_image_add(db, coll, &img, v, (size_t)dim, id, &err);
    if (rc < 0)
        fprintf(stderr, "    add %s: %s\n", file_name, err.msg);
    return rc;
}

static void test_migrate_and_reopen(void)
{
    ds_err err = {0};
    cat_db *db = NULL;
    const char *dir = fresh_dir("migrate");
    CHECK(cat_open(dir, &db, &err) == 0);
    if (!db)
        return;
    CHECK(cat_schema_version(db) == 0);
    CHECK(cat_check(db, &err) == 0);
    cat_close(db);
    db = NULL;
    CHECK(cat_open(dir, &db, &err) == 0);
    if (!db)
        return;
    CHECK(cat_schema_version(db) == CAT_SCHEMA_VERSION);
    cat_close(db);

    char path[600];
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, CAT_FILE_NAME);
    CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == CAT_SCHEMA_VERSION);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW &&
          strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0);
    sqlite3_finalize(st);
    sqlite3_close(raw);
}

static void test_refuse_newer_schema(void)
{
    ds_err err = {0};
    cat_db *db = NULL;
    const char *dir = fresh_dir("newer");
    CHECK(cat_open(dir, &db, &err) == 0);
    cat_close(db);
    CHECK(raw_exec(dir, "PRAGMA user_version = 99") == 0);
    db = NULL;
    CHECK(cat_open(dir, &db, &err) == -1);
    CHECK(db == NULL);
    CHECK(err.code == DS_EUNSUPPORTED);
    CHECK_MSG(err, "newer");
    CHECK_MSG(err, "99");
}

static void test_corrupt_and_foreign_files(void)
{
    ds_err err = {0};
    cat_db *db = NULL;
    char path[600], garbage[8192];
    const char *dir = fresh_dir("corrupt");
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 7 + 3);
    snprintf(path, sizeof path, "%s/%s", dir, CAT_FILE_NAME);
    CHECK(ds_test_write_file(path, garbage, sizeof garbage) == 0);
    CHECK(cat_open(dir, &db, &err) == -1);
    CHECK(db == NULL);
    CHECK(err.code == DS_EFORMAT);
    CHECK_MSG(err, "not a database");
    CHECK_MSG(err, CAT_FILE_NAME);

    dir = fresh_dir("foreign");
    CHECK(raw_exec(dir, "CREATE TABLE t(x); PRAGMA user_version = 3") == 0);
    CHECK(cat_open(dir, &db, &err) == -1);
    CHECK(err.code == DS_EFORMAT);
    CHECK_MSG(err, "another program");

    snprintf(path, sizeof path, "%s/no/such/dir", ds_test_tmpdir);
    CHECK(cat_open(path, &db, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);
}

static void test_collections(void)
{
    ds_err err = {0};
    int64_t id = 0, id2 = 0, id3 = 0;
    cat_db *db = open_with_collection("coll", 8, &id);
    if (!db)
        return;
    CHECK(id > 0);
    CHECK(cat_collection_ensure(db, "designs", "facebook/dinov2-small", 8, 224, "seed", NULL, &id2,
                                &err) == 0);
    CHECK(id2 == id);
    CHECK(cat_collection_ensure(db, "designs", "facebook/dinov2-small", 768, 224, "seed", NULL, NULL,
                                &err) == -1);
    CHECK(err.code == DS_EINVAL);
    CHECK_MSG(err, "768");
    CHECK(cat_collection_ensure(db, "designs", "facebook/dinov2-base", 8, 224, "seed", NULL, NULL,
                                &err) == -1);
    CHECK_MSG(err, "model");
    CHECK(cat_collection_ensure(db, "designs", "facebook/dinov2-small", 8, 224, "native", NULL, NULL,
                                &err) == -1);
    CHECK_MSG(err, "preprocessing");
    CHECK(cat_collection_ensure(db, "alpha", "m", 4, 518, "native", NULL, &id3, &err) == 0);
    CHECK(id3 != id);
    CHECK(cat_collection_ensure(db, "bad", "m", 0, 224, "native", NULL, NULL, &err) == -1);

    cat_collection c = {0};
    CHECK(cat_collection_get(db, "designs", &c, &err) == 0);
    CHECK(c.id == id && c.dimension == 8 && c.input_size == 224);
    CHECK(c.model && strcmp(c.model, "facebook/dinov2-small") == 0);
    CHECK(c.preprocess && strcmp(c.preprocess, "seed") == 0);
    CHECK(c.created_at > 0);
    cat_collection_clear(&c);
    CHECK(cat_collection_get_id(db, id3, &c, &err) == 0);
    CHECK(c.name && strcmp(c.name, "alpha") == 0);
    cat_collection_clear(&c);
    CHECK(cat_collection_get(db, "nope", &c, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);

    cat_collection *list = NULL;
    size_t n = 0;
    CHECK(cat_collection_list(db, &list, &n, &err) == 0);
    CHECK(n == 2);
    if (n == 2)
        CHECK(strcmp(list[0].name, "alpha") == 0 && strcmp(list[1].name, "designs") == 0);
    cat_collection_list_free(list, n);
    cat_close(db);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void test_patent_round_trip(void)
{
    ds_err err = {0};
    int64_t coll = 0;
    cat_db *db = open_with_collection("patents", 8, &coll);
    if (!db)
        return;
    cat_patent p = {0};
    p.patent_id = "D0701016";
    p.kind = "S1";
    p.title = "Chaise « longue » — 椅子 🪑";
    p.loc_class = "06-01";
    p.loc_edition = "13";
    p.pub_date = "2014-03-25";
    p.filing_date = "2012-09-10";
    p.grant_term = 14;
    p.applicant_name = "Müller GmbH";
    p.applicant_country = "DE";
    p.inventor_names = "Jürgen Müller, Zoë O'Brien";
    p.assignee_name = "Müller \"Design\" AG";
    p.claim_text = "The ornamental design for a chair, as shown.";
    p.image_count = 7;
    CHECK(cat_patent_upsert(db, coll, &p, &err) == 0);

    cat_patent got = {0};
    CHECK(cat_patent_get(db, coll, "D0701016", &got, &err) == 0);
    CHECK(same(got.patent_id, p.patent_id) && same(got.kind, p.kind));
    CHECK(same(got.title, p.title) && same(got.loc_class, p.loc_class));
    CHECK(same(got.loc_edition, p.loc_edition) && same(got.pub_date, p.pub_date));
    CHECK(same(got.filing_date, p.filing_date) && got.grant_term == 14);
    CHECK(same(got.applicant_name, p.applicant_name));
    CHECK(same(got.applicant_country, p.applicant_country));
    CHECK(same(got.inventor_names, p.inventor_names));
    CHECK(same(got.assignee_name, p.assignee_name) && same(got.claim_text, p.claim_text));
    CHECK(got.image_count == 7);
    cat_patent_clear(&got);

    /* An upsert replaces every field, NULLs included. */
    cat_patent q = {0};
    q.patent_id = "D0701016";
    q.title = "Chair";
    q.image_count = -1;
    CHECK(cat_patent_upsert(db, coll, &q, &err) == 0);
    CHECK(cat_patent_get(db, coll, "D0701016", &got, &err) == 0);
    CHECK(same(got.title, "Chair"));
    CHECK(got.kind == NULL && got.loc_class == NULL && got.pub_date == NULL);
    CHECK(got.applicant_name == NULL && got.claim_text == NULL);
    CHECK(got.grant_term == 0 && got.image_count == -1);
    cat_patent_clear(&got);

    q.pub_date = "2014-3-25";
    CHECK(cat_patent_upsert(db, coll, &q, &err) == -1);
    CHECK(err.code == DS_EINVAL);
    CHECK_MSG(err, "pub_date");
    q.pub_date = NULL;
    q.patent_id = NULL;
    CHECK(cat_patent_upsert(db, coll, &q, &err) == -1);
    CHECK(cat_patent_get(db, coll, "D9999999", &got, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);
    CHECK(cat_patent_get(db, coll + 100, "D0701016", &got, &err) == -1);
    cat_close(db);
}

static void test_images(void)
{
    ds_err err = {0};
    int64_t coll = 0, id1 = 0, id2 = 0, id3 = 0, found = 0;
    cat_db *db = open_with_collection("images", 4, &coll);
    if (!db)
        return;
    const char *hash = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    float v[4] = {0.5f, -0.25f, 1e-20f, 3.0e38f};
    cat_image img = {0};
    img.patent_id = "D1107392";
    img.image_index = 1;
    img.file_name = "USD1107392-20251230-D00002.TIF";
    img.object_key = "design_patents/D1107392/USD1107392-20251230-D00002.TIF";
    img.width = 2000;
    img.height = 3000;
    img.content_hash = (char *)hash;
    CHECK(cat_image_add(db, coll, &img, v, 4, &id1, &err) == 0);
    CHECK(add_image(db, coll, "D1107392", "USD1107392-20251230-D00001.TIF", 4, 0, &id2) == 0);
    CHECK(add_image(db, coll, NULL, "plain.png", 4, 5, &id3) == 0);
    CHECK(id1 > 0 && id2 > id1 && id3 > id2);

    cat_image got = {0};
    CHECK(cat_image_get(db, id1, &got, &err) == 0);
    CHECK(got.id == id1 && got.collection_id == coll && got.image_index == 1);
    CHECK(same(got.patent_id, "D1107392") && same(got.file_name, img.file_name));
    CHECK(same(got.object_key, img.object_key) && got.width == 2000 && got.height == 3000);
    CHECK(got.content_hash && strlen(got.content_hash) == 64 &&
          got.content_hash[0] == '9' && got.content_hash[1] == 'f'); /* stored lowercase */
    CHECK(got.created_at > 0);
    cat_image_clear(&got);

    float back[4];
    CHECK(cat_image_vector(db, id1, back, 4, &err) == 0);
    CHECK(memcmp(back, v, sizeof v) == 0);
    CHECK(cat_image_vector(db, id1, back, 3, &err) == -1);

    CHECK(cat_image_by_file_name(db, coll, "plain.png", &got, &err) == 0);
    CHECK(got.id == id3 && got.patent_id == NULL && got.content_hash == NULL);
    cat_image_clear(&got);
    CHECK(cat_image_by_file_name(db, coll, "missing.png", &got, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);

    int exists = 0;
    CHECK(cat_image_exists_hash(db, coll, hash, &exists, &found, &err) == 0);
    CHECK(exists == 1 && found == id1);
    CHECK(cat_image_exists_hash(db, coll,
                                "0000000000000000000000000000000000000000000000000000000000000000",
                                &exists, NULL, &err) == 0);
    CHECK(exists == 0);
    CHECK(cat_image_exists_hash(db, coll, "xyz", &exists, NULL, &err) == -1);
    CHECK(err.code == DS_EINVAL);

    cat_image *list = NULL;
    size_t n = 0;
    CHECK(cat_images_of_patent(db, coll, "D1107392", &list, &n, &err) == 0);
    CHECK(n == 2);
    if (n == 2)
        CHECK(list[0].id == id2 && list[1].id == id1); /* by image_index */
    cat_image_list_free(list, n);

    /* Refused: duplicate name, wrong dimension, bad hash, unknown collection. */
    CHECK(cat_image_add(db, coll, &img, v, 4, NULL, &err) == -1);
    CHECK(err.code == DS_EINVAL);
    CHECK_MSG(err, "already");
    img.file_name = "other.tif";
    CHECK(cat_image_add(db, coll, &img, v, 3, NULL, &err) == -1);
    CHECK(err.code == DS_EINVAL);
    CHECK_MSG(err, "3 dimensions");
    img.content_hash = "abc";
    CHECK(cat_image_add(db, coll, &img, v, 4, NULL, &err) == -1);
    img.content_hash = NULL;
    CHECK(cat_image_add(db, coll + 50, &img, v, 4, NULL, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);

    CHECK(cat_image_delete(db, id2, &err) == 0);
    CHECK(cat_image_get(db, id2, &got, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);
    CHECK(cat_image_delete(db, id2, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);
    int64_t count = 0, max_id = 0;
    CHECK(cat_vector_count(db, coll, &count, &max_id, &err) == 0);
    CHECK(count == 2 && max_id == id3);
    cat_close(db);
}

/* Four patents and some images for the filter tests. */
static cat_db *filter_fixture(int64_t *coll, int64_t ids[8])
{
    cat_db *db = open_with_collection("filters", 2, coll);
    if (!db)
        return NULL;
    ds_err err = {0};
    cat_patent p[5] = {{0}};
    p[0] = (cat_patent){.patent_id = "D0000001", .loc_class = "12-08", .pub_date = "2020-01-01",
                        .filing_date = "2018-05-05", .applicant_name = "100% Design_Co",
                        .applicant_country = "US", .assignee_name = "Acme Holdings",
                        .inventor_names = "Ann Lee, Bo Chen", .image_count = 2};
    p[1] = (cat_patent){.patent_id = "D0000002", .loc_class = "12-16", .pub_date = "2020-12-31",
                        .filing_date = "2019-01-01", .applicant_name = "100X DesignXCo",
                        .applicant_country = "us", .assignee_name = "acme corp",
                        .inventor_names = "Carl Diaz", .image_count = 1};
    p[2] = (cat_patent){.patent_id = "D0000003", .loc_class = "120-01", .pub_date = "2021-06-15",
                        .filing_date = "2019-12-31", .applicant_name = "Zeta Ltd",
                        .applicant_country = "JP", .image_count = 1};
    p[3] = (cat_patent){.patent_id = "D0000004", .loc_class = "02-03", .pub_date = "2019-12-31",
                        .filing_date = "2017-01-01", .applicant_name = "ÄBC Möbel",
                        .applicant_country = "DE", .inventor_names = "Dana 50%_off",
                        .image_count = 1};
    p[4] = (cat_patent){.patent_id = "D\"q'5", .loc_class = "12", .pub_date = "2022-02-02",
                        .image_count = 1};
    for (int i = 0; i < 5; i++)
        if (cat_patent_upsert(db, *coll, &p[i], &err) < 0) {
            fprintf(stderr, "    upsert: %s\n", err.msg);
            cat_close(db);
            return NULL;
        }
    const char *pat[7] = {"D0000001", "D0000001", "D0000002", "D0000003",
                          "D0000004", "D\"q'5",    NULL};
    const char *names[7] = {"a1", "a2", "b1", "c1", "d1", "e1", "plain"};
    for (int i = 0; i < 7; i++)
        if (add_image(db, *coll, pat[i], names[i], 2, i, &ids[i]) < 0) {
            cat_close(db);
            return NULL;
        }
    /* An image whose patent has no row. */
    if (add_image(db, *coll, "D7777777", "orphan", 2, 7, &ids[7]) < 0) {
        cat_close(db);
        return NULL;
    }
    return db;
}

/* Run the filter and compare with the expected image indexes (into ids). */
static int filter_is(cat_db *db, int64_t coll, const cat_filter *f, const int64_t ids[8],
                     const int *want, size_t n_want)
{
    ds_err err = {0};
    int64_t *got = NULL;
    size_t n = 0;
    if (cat_filter_ids(db, coll, f, &got, &n, &err) < 0) {
        fprintf(stderr, "    filter: %s\n", err.msg);
        return 0;
    }
    int ok = n == n_want;
    for (size_t i = 0; ok && i < n; i++)
        ok = got[i] == ids[want[i]];
    if (!ok) {
        fprintf(stderr, "    got %zu ids:", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %lld", (long long)got[i]);
        fprintf(stderr, "\n");
    }
    free(got);
    return ok;
}

#define WANT(...) (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int)

static void test_filters(void)
{
    int64_t coll = 0, ids[8];
    cat_db *db = filter_fixture(&coll, ids);
    if (!db)
        return;
    ds_err err = {0};

    cat_filter f = {0};
    CHECK(cat_filter_is_empty(NULL) && cat_filter_is_empty(&f));
    CHECK(filter_is(db, coll, NULL, ids, WANT(0, 1, 2, 3, 4, 5, 6, 7)));
    f.applicant = "";
    CHECK(cat_filter_is_empty(&f));
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1, 2, 3, 4, 5, 6, 7)));

    /* Locarno: exact, class prefix, never a longer number. */
    f = (cat_filter){.loc_class = "12-08"};
    CHECK(!cat_filter_is_empty(&f));
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f.loc_class = "12";
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1, 2, 5))); /* not "120-01" */
    f.loc_class = "1";
    CHECK(filter_is(db, coll, &f, ids, NULL, 0));
    f.loc_class = "120";
    CHECK(filter_is(db, coll, &f, ids, WANT(3)));
    f.loc_class = "12-0";
    CHECK(filter_is(db, coll, &f, ids, NULL, 0));
    f.loc_class = "12%";
    CHECK(filter_is(db, coll, &f, ids, NULL, 0));

    /* Dates, inclusive at both ends. */
    f = (cat_filter){.pub_date_from = "2020-01-01", .pub_date_to = "2020-12-31"};
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1, 2)));
    f = (cat_filter){.pub_date_from = "2020-01-02"};
    CHECK(filter_is(db, coll, &f, ids, WANT(2, 3, 5)));
    f = (cat_filter){.pub_date_to = "2019-12-31"};
    CHECK(filter_is(db, coll, &f, ids, WANT(4)));
    f = (cat_filter){.filing_date_from = "2019-01-01", .filing_date_to = "2019-12-31"};
    CHECK(filter_is(db, coll, &f, ids, WANT(2, 3)));
    f = (cat_filter){.pub_date_from = "2020"};
    CHECK(cat_filter_ids(db, coll, &f, &(int64_t *){NULL}, &(size_t){0}, &err) == -1);
    CHECK(err.code == DS_EINVAL);
    CHECK_MSG(err, "pub_date_from");

    /* Substrings: case-insensitive, '%' and '_' literal. */
    f = (cat_filter){.applicant = "100%"};
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f.applicant = "design_co";
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f.applicant = "_";
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f.applicant = "%";
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f.applicant = "DESIGNXCO";
    CHECK(filter_is(db, coll, &f, ids, WANT(2)));
    f.applicant = "möbel";
    CHECK(filter_is(db, coll, &f, ids, WANT(4)));
    f = (cat_filter){.assignee = "ACME"};
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1, 2)));
    f = (cat_filter){.inventor = "bo chen"};
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f.inventor = "%_";
    CHECK(filter_is(db, coll, &f, ids, WANT(4)));

    /* Country: exact, case-insensitive. */
    f = (cat_filter){.applicant_country = "US"};
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1, 2)));
    f.applicant_country = "u";
    CHECK(filter_is(db, coll, &f, ids, NULL, 0));

    /* Patent ids, including one that needs JSON escaping and one with no
     * patent row. */
    const char *pids[3] = {"D0000003", "D\"q'5", "D7777777"};
    f = (cat_filter){.patent_ids = pids, .n_patent_ids = 3};
    CHECK(filter_is(db, coll, &f, ids, WANT(3, 5, 7)));
    f.n_patent_ids = 1;
    CHECK(filter_is(db, coll, &f, ids, WANT(3)));

    /* Combinations are ANDed. */
    f = (cat_filter){.loc_class = "12", .applicant_country = "us", .pub_date_to = "2020-06-30"};
    CHECK(filter_is(db, coll, &f, ids, WANT(0, 1)));
    f = (cat_filter){.loc_class = "12", .patent_ids = pids, .n_patent_ids = 3};
    CHECK(filter_is(db, coll, &f, ids, WANT(5)));
    f = (cat_filter){.assignee = "acme", .inventor = "carl"};
    CHECK(filter_is(db, coll, &f, ids, WANT(2)));

    /* Another collection sees none of them. */
    int64_t other = 0;
    CHECK(cat_collection_ensure(db, "other", "m", 2, 224, "seed", NULL, &other, &err) == 0);
    CHECK(filter_is(db, other, NULL, ids, NULL, 0));
    cat_close(db);
}

typedef struct {
    int64_t ids[16];
    float first[16];
    size_t n;
    int stop_at;
} iter_ctx;

static int collect(int64_t id, const float *v, void *ctx)
{
    iter_ctx *c = ctx;
    if (c->n == 16 || (c->stop_at && (int)c->n == c->stop_at))
        return -1;
    c->ids[c->n] = id;
    c->first[c->n] = v[0] + v[2];
    c->n++;
    return 0;
}

static void test_iterate_vectors(void)
{
    ds_err err = {0};
    int64_t coll = 0, other = 0, ids[10];
    cat_db *db = open_with_collection("iterate", 3, &coll);
    if (!db)
        return;
    CHECK(cat_collection_ensure(db, "other", "m", 3, 224, "seed", NULL, &other, &err) == 0);
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "img%d", i);
        CHECK(add_image(db, i % 2 ? other : coll, "D1", name, 3, i, &ids[i]) == 0);
    }
    iter_ctx c = {0};
    CHECK(cat_vectors_iterate(db, coll, 0, collect, &c, &err) == 0);
    CHECK(c.n == 5);
    for (size_t i = 0; i < c.n && i < 5; i++) {
        float v[3];
        fill_vector(v, 3, (int)(2 * i));
        CHECK(c.ids[i] == ids[2 * i]);
        CHECK(c.first[i] == v[0] + v[2]);
    }
    memset(&c, 0, sizeof c);
    CHECK(cat_vectors_iterate(db, coll, ids[4], collect, &c, &err) == 0);
    CHECK(c.n == 2 && c.ids[0] == ids[6] && c.ids[1] == ids[8]);
    memset(&c, 0, sizeof c);
    c.stop_at = 2;
    CHECK(cat_vectors_iterate(db, coll, 0, collect, &c, &err) == -1);
    CHECK_MSG(err, "stopped");
    int64_t count = 0, max_id = 0;
    CHECK(cat_vector_count(db, other, &count, &max_id, &err) == 0);
    CHECK(count == 5 && max_id == ids[9]);
    CHECK(cat_vectors_iterate(db, 999, 0, collect, &c, &err) == -1);
    CHECK(err.code == DS_ENOTFOUND);

    /* A vector of the wrong length written behind the module's back. */
    cat_close(db);
    CHECK(raw_exec(fresh_dir("iterate"), "UPDATE images SET vector = x'0000' WHERE id = 1") == 0);
    db = NULL;
    CHECK(cat_open(fresh_dir("iterate"), &db, &err) == 0);
    if (!db)
        return;
    memset(&c, 0, sizeof c);
    CHECK(cat_vectors_iterate(db, coll, 0, collect, &c, &err) == -1);
    CHECK(err.code == DS_EFORMAT);
    cat_close(db);
}

static void test_batch_all_or_nothing(void)
{
    ds_err err = {0};
    int64_t coll = 0, count = -1;
    const char *dir = NULL;
    cat_db *db = open_with_collection("batch", 2, &coll);
    if (!db)
        return;
    dir = fresh_dir("batch");
    float good[2] = {1, 0}, bad[3] = {1, 0, 0};
    cat_image img = {.patent_id = "D5", .file_name = "first.png"};
    cat_patent p = {.patent_id = "D5", .title = "Lamp", .image_count = 2};

    /* Patent + first image, then an invalid second image: roll it all back. */
    CHECK(cat_begin(db, &err) == 0);
    CHECK(cat_begin(db, &err) == -1); /* no nesting */
    CHECK(cat_patent_upsert(db, coll, &p, &err) == 0);
    CHECK(cat_image_add(db, coll, &img, good, 2, NULL, &err) == 0);
    img.file_name = "second.png";
    CHECK(cat_image_add(db, coll, &img, bad, 3, NULL, &err) == -1);
    CHECK(cat_rollback(db, &err) == 0);
    CHECK(cat_vector_count(db, coll, &count, NULL, &err) == 0 && count == 0);
    cat_patent got = {0};
    CHECK(cat_patent_get(db, coll, "D5", &got, &err) == -1 && err.code == DS_ENOTFOUND);

    /* A failed call inside a batch undoes only itself; commit keeps the rest. */
    CHECK(cat_begin(db, &err) == 0);
    CHECK(cat_patent_upsert(db, coll, &p, &err) == 0);
    img.file_name = "first.png";
    CHECK(cat_image_add(db, coll, &img, good, 2, NULL, &err) == 0);
    CHECK(cat_image_add(db, coll, &img, good, 2, NULL, &err) == -1); /* duplicate */
    img.file_name = "second.png";
    CHECK(cat_image_add(db, coll, &img, good, 2, NULL, &err) == 0);
    CHECK(cat_commit(db, &err) == 0);
    CHECK(cat_commit(db, &err) == -1);
    CHECK(cat_vector_count(db, coll, &count, NULL, &err) == 0 && count == 2);

    /* Closing with a batch open stores nothing of it. */
    CHECK(cat_begin(db, &err) == 0);
    img.file_name = "third.png";
    CHECK(cat_image_add(db, coll, &img, good, 2, NULL, &err) == 0);
    cat_close(db);
    db = NULL;
    CHECK(cat_open(dir, &db, &err) == 0);
    if (!db)
        return;
    CHECK(cat_vector_count(db, coll, &count, NULL, &err) == 0 && count == 2);

    /* Deleting a patent takes its images with it, in one transaction. */
    CHECK(cat_patent_delete(db, coll, "D5", &err) == 0);
    CHECK(cat_vector_count(db, coll, &count, NULL, &err) == 0 && count == 0);
    cat_close(db);
}

static void test_jobs_and_stats(void)
{
    ds_err err = {0};
    int64_t coll = 0, job = 0, job2 = 0;
    cat_db *db = open_with_collection("jobs", 2, &coll);
    if (!db)
        return;
    CHECK(cat_job_start(db, coll, "import", "/data/USD*", &job, &err) == 0);
    CHECK(cat_job_update(db, job, 10, 2, 1, &err) == 0);
    CHECK(cat_job_add_failure(db, job, "bad \"file\".tif", "truncated\nTIFF", &err) == 0);
    CHECK(cat_job_update(db, job + 100, 1, 1, 1, &err) == -1 && err.code == DS_ENOTFOUND);
    cat_job j = {0};
    CHECK(cat_job_get(db, job, &j, &err) == 0);
    CHECK(same(j.status, "running") && same(j.kind, "import") && same(j.source, "/data/USD*"));
    CHECK(j.done == 10 && j.skipped == 2 && j.failed == 1 && j.finished_at == 0);
    CHECK(j.failures && strstr(j.failures, "\"item\":\"bad \\\"file\\\".tif\"") != NULL);
    CHECK(j.failures && strstr(j.failures, "truncated\\nTIFF") != NULL);
    cat_job_clear(&j);
    CHECK(cat_job_finish(db, job, "done", &err) == 0);
    CHECK(cat_job_start(db, 0, "scan", NULL, &job2, &err) == 0);
    CHECK(cat_job_latest(db, coll, &j, &err) == 0);
    CHECK(j.id == job && same(j.status, "done") && j.finished_at >= j.started_at);
    cat_job_clear(&j);
    CHECK(cat_job_latest(db, 0, &j, &err) == 0);
    CHECK(j.id == job2 && j.collection_id == 0 && j.source == NULL);
    cat_job_clear(&j);
    for (int i = 0; i < CAT_JOB_MAX_FAILURES + 5; i++)
        CHECK(cat_job_add_failure(db, job2, "x", "y", &err) == 0);
    CHECK(cat_job_get(db, job2, &j, &err) == 0);
    size_t entries = 0;
    for (const char *s = j.failures; s && (s = strstr(s, "\"item\"")); s++)
        entries++;
    CHECK(entries == CAT_JOB_MAX_FAILURES);
    cat_job_clear(&j);

    cat_patent p1 = {.patent_id = "D1", .loc_class = "12-08"};
    cat_patent p2 = {.patent_id = "D2", .loc_class = "06-01"};
    CHECK(cat_patent_upsert(db, coll, &p1, &err) == 0);
    CHECK(cat_patent_upsert(db, coll, &p2, &err) == 0);
    CHECK(add_image(db, coll, "D1", "a", 2, 1, NULL) == 0);
    CHECK(add_image(db, coll, "D1", "b", 2, 2, NULL) == 0);
    CHECK(add_image(db, coll, "D2", "c", 2, 3, NULL) == 0);
    CHECK(add_image(db, coll, NULL, "d", 2, 4, NULL) == 0);
    cat_stats s;
    CHECK(cat_stats_get(db, coll, &s, &err) == 0);
    CHECK(s.patents == 2 && s.images == 4 && s.jobs == 1 && s.db_bytes > 0);
    CHECK(s.n_loc == 2);
    CHECK(strcmp(s.loc[0].loc_class, "12-08") == 0 && s.loc[0].images == 2);
    CHECK(strcmp(s.loc[1].loc_class, "06-01") == 0 && s.loc[1].images == 1);
    cat_close(db);
}

/* Threads: writers on a shared cat_db, a reader on its own connection. */
typedef struct {
    cat_db *db;
    int64_t coll;
    int thread;
    int failures;
} thread_arg;

static void *writer(void *p)
{
    thread_arg *a = p;
    char name[64];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "t%d-%d", a->thread, i);
        if (add_image(a->db, a->coll, "D1", name, 2, i, NULL) < 0)
            a->failures++;
        if (i % 10 == 0) {
            int64_t *ids = NULL;
            size_t n = 0;
            ds_err err = {0};
            cat_filter f = {.inventor = "x"};
            if (cat_filter_ids(a->db, a->coll, &f, &ids, &n, &err) < 0)
                a->failures++;
            free(ids);
        }
    }
    return NULL;
}

static void *reader(void *p)
{
    thread_arg *a = p;
    int64_t last = 0, count = 0;
    for (int i = 0; i < 200; i++) {
        ds_err err = {0};
        if (cat_vector_count(a->db, a->coll, &count, NULL, &err) < 0 || count < last)
            a->failures++;
        last = count;
    }
    return NULL;
}

static void test_threads(void)
{
    ds_err err = {0};
    int64_t coll = 0, count = 0;
    cat_db *db = open_with_collection("threads", 2, &coll), *rdb = NULL;
    if (!db)
        return;
    CHECK(cat_open(fresh_dir("threads"), &rdb, &err) == 0);
    if (!rdb) {
        cat_close(db);
        return;
    }
    pthread_t t[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){.db = i < 3 ? db : rdb, .coll = coll, .thread = i};
        CHECK(pthread_create(&t[i], NULL, i < 3 ? writer : reader, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECKF(args[i].failures == 0, "thread %d: %d failures", i, args[i].failures);
    }
    CHECK(cat_vector_count(rdb, coll, &count, NULL, &err) == 0 && count == 300);
    cat_close(rdb);
    cat_close(db);
}

/* cat_patent_ensure creates a bare row, and never touches a stored one. */
static void test_patent_ensure(void)
{
    ds_err err = {0};
    int64_t coll = 0;
    cat_db *db = open_with_collection("ensure", 8, &coll);
    if (!db)
        return;
    cat_patent p = {.patent_id = "D0000001", .title = "Lamp", .loc_class = "26-05",
                    .image_count = 3};
    CHECK(cat_patent_upsert(db, coll, &p, &err) == 0);
    CHECK(cat_patent_ensure(db, coll, "D0000001", &err) == 0);
    CHECK(cat_patent_ensure(db, coll, "D0000002", &err) == 0);
    cat_patent got = {0};
    CHECK(cat_patent_get(db, coll, "D0000001", &got, &err) == 0);
    CHECK(got.title && !strcmp(got.title, "Lamp") && got.loc_class &&
          !strcmp(got.loc_class, "26-05") && got.image_count == 3);
    cat_patent_clear(&got);
    CHECK(cat_patent_get(db, coll, "D0000002", &got, &err) == 0 && !got.title);
    cat_patent_clear(&got);
    CHECK(cat_patent_ensure(db, coll, "", &err) != 0);
    cat_close(db);
}

const ds_test catalog_tests[] = {
    {"patents: ensure keeps stored data", test_patent_ensure},
    {"migrations from empty, reopen, user_version", test_migrate_and_reopen},
    {"a newer schema is refused", test_refuse_newer_schema},
    {"corrupt or foreign files give clear errors", test_corrupt_and_foreign_files},
    {"collections: ensure, mismatch, get, list", test_collections},
    {"patents: upsert/get round trip, NULLs, unicode", test_patent_round_trip},
    {"images: add, get, by name, hash, patent, delete", test_images},
    {"filters: Locarno, dates, substrings, ids, combos", test_filters},
    {"vectors: iterate in id order, after_id, count", test_iterate_vectors},
    {"batches: all or nothing", test_batch_all_or_nothing},
    {"jobs and stats", test_jobs_and_stats},
    {"threads: shared writers, separate reader", test_threads},
    {0},
};
