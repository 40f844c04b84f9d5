/* test_store.c - the engine's store interface (src/engine/store.h) itself:
 * what the engine gets from a store that lacks an operation. The two real
 * stores are tested through the engine by the api, import and multiproc
 * suites, embedded and (api-milvus, import-milvus, multiproc-milvus) on a
 * real Milvus. */
#include <string.h>

#include "../suites.h"
#include "engine/store.h"

static void fake_detach(eng_store *s) { (void)s; }

/* A store with no operation but detach: what a new store (or an old one
 * meeting a new operation) looks like. */
static const eng_store_methods bare_methods = {.version = 1, .name = "bare",
                                               .detach = fake_detach};

static void test_missing_operation_unsupported(void)
{
    eng_store store = {.m = &bare_methods};
    eng_collection c = {.name = "designs", .store = &store};
    store.c = &c;
    ds_err err = {0};
    json_t *out = NULL;
    int skipped = -1;
    eng_query q = {.top_k = 1};
    float vec[4] = {1, 0, 0, 0};

    CHECK(eng__store_search(&c, vec, 1, &q, 1, &out, &skipped, &err) == -1);
    CHECKF(err.code == DS_EUNSUPPORTED, "code %d", err.code);
    CHECK_MSG(err, "bare");     /* which store */
    CHECK_MSG(err, "designs");  /* which collection */
    CHECK_MSG(err, "searching"); /* which operation */
    CHECK(out == NULL);

    char name[64];
    ds_err_clear(&err);
    CHECK(eng__store_image_name(&c, 1, name, sizeof name, &err) == -1);
    CHECKF(err.code == DS_EUNSUPPORTED, "code %d", err.code);
    ds_err_clear(&err);
    CHECK(eng__store_stats(&c, &out, &err) == -1 && err.code == DS_EUNSUPPORTED);
    ds_err_clear(&err);
    CHECK(eng__store_patent(&c, "USD1", &out, &err) == -1 && err.code == DS_EUNSUPPORTED);
    ds_err_clear(&err);
    cat_known known = CAT_KNOWN_NOT;
    CHECK(eng__store_known(&c, "a.png", NULL, 0, NULL, &known, &err) == -1 &&
          err.code == DS_EUNSUPPORTED);
}

/* What a store may leave out because there is nothing to do: sync (rows are
 * visible at once), save (falls back to sync), stored_hash (cannot tell). */
static void test_optional_operations_succeed(void)
{
    eng_store store = {.m = &bare_methods};
    eng_collection c = {.name = "designs", .store = &store};
    store.c = &c;
    ds_err err = {0};
    char hash[DS_SHA256_HEXLEN + 1] = "x";
    CHECK(eng__store_sync(&c, &err) == 0);
    CHECK(eng__store_save(&c, &err) == 0);
    CHECK(eng__store_stored_hash(&c, "a.png", hash, &err) == 0);
    CHECKF(hash[0] == '\0', "hash '%s'", hash);
}

const ds_test store_tests[] = {
    {"an operation a store lacks: not supported, naming store, collection and operation",
     test_missing_operation_unsupported},
    {"operations a store may leave out: sync, save, stored_hash", test_optional_operations_succeed},
    {0},
};
