/* test_multi.c - collection=a,b: several collections searched at once
 * (issue #18), as users meet it: the real binary serving generated weeks
 * imported into named collections, spoken to over HTTP, and `dinoseek
 * search --collection a,b` from the shell. Each merged answer is checked
 * against what each collection answers alone: one model's lists merged by
 * score are the union sorted by score; two models' (or words') lists by
 * Reciprocal Rank Fusion recomputed from the ranks. Suite multi-milvus
 * runs the same on Milvus and S3 (words there are not built yet). */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"

static int remote_backend(void) { return getenv("DINOSEEK_MILVUS_URI") != NULL; }

/* A second model: the same architecture, other generated weights (another
 * model id, so other vectors). */
static const char *other_model_dir(void)
{
    static char dir[600];
    /* One per suite: multi and multi-milvus each have their own temporary
     * directory, and the first's is gone when the second runs. */
    if (!dir[0] || strncmp(dir, ds_test_tmpdir, strlen(ds_test_tmpdir)) != 0) {
        char cmd[1400];
        snprintf(dir, sizeof dir, "%s/model-other", ds_test_tmpdir);
        snprintf(cmd, sizeof cmd, "%s model generate --arch small --seed 6 %s >/dev/null 2>&1",
                 ds_test_bin(), dir);
        if (system(cmd) != 0)
            dir[0] = '\0';
    }
    return dir[0] ? dir : NULL;
}

/* Generate a week of 8 patents and import it into collection coll of the
 * data directory dir with the model in model_dir. */
static int import_week(const char *dir, const char *week, int seed, const char *date,
                       const char *coll, const char *model_dir)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "(test -d %s/%s || %s sample generate %s/%s --patents 8 --seed %d --date %s "
             "--views-min 1 --views-max 2 >/dev/null 2>&1) && %s import %s/%s/I%s.tar --data %s "
             "--model %s --collection %s >/dev/null 2>&1",
             ds_test_tmpdir, week, ds_test_bin(), ds_test_tmpdir, week, seed, date, ds_test_bin(),
             ds_test_tmpdir, week, date, dir, model_dir, coll);
    return system(cmd) == 0 ? 0 : -1;
}

/* A server whose data directory holds alpha (week A) and beta (week B) of
 * the test model, and gamma (week A again) of the other model. */
static int start_three(ds_server *s, const char *name)
{
    char dir[600], extra[800];
    const char *model = ds_test_model_dir(), *other = other_model_dir();
    if (!model || !other)
        return -1;
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, name);
    if (import_week(dir, "weekA", 3, "20221025", "alpha", model) != 0 ||
        import_week(dir, "weekB", 11, "20221101", "beta", model) != 0 ||
        import_week(dir, "weekA", 3, "20221025", "gamma", other) != 0)
        return -1;
    snprintf(extra, sizeof extra, "--collection-model gamma=%s", other);
    return ds_server_start(s, name, extra);
}

/* A drawing of week A, the query picture. */
static char *a_drawing(void)
{
    char cmd[900], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls %s/weekA/USD*/*.TIF | head -1", ds_test_tmpdir);
    ds_test_run(cmd, &out, NULL);
    if (out)
        out[strcspn(out, "\n")] = '\0';
    return out;
}

static const char *g_file;
static curl_mime *file_form(CURL *c)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, g_file);
    return m;
}

/* POST /api/search with the query picture; the rest in the query string. */
static ds_reply search(const ds_server *s, const char *query)
{
    char path[600];
    snprintf(path, sizeof path, "/api/search?min_score=-1&%s", query);
    return ds_http(s->port, "POST", path, file_form, NULL, NULL, 0, NULL);
}

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* What identifies a result within its collection: its image, or its patent
 * when grouped (or searched by words). */
static const char *ident(json_t *hit)
{
    return json_object_get(hit, "file_name") ? str(hit, "file_name") : str(hit, "patent_id");
}

/* One collection's list as it answers alone, each hit tagged with its
 * collection, its rank and its leg (the order the request listed it). */
static json_t *alone(const ds_server *s, const char *coll, int leg, const char *more)
{
    char q[400];
    snprintf(q, sizeof q, "collection=%s&%s", coll, more);
    ds_reply r = search(s, q);
    CHECKF(r.status == 200, "%s alone: %s", coll, r.body);
    json_t *out = json_array();
    size_t i;
    json_t *hit;
    json_array_foreach(ds_reply_results(&r), i, hit) {
        json_t *h = json_pack("{s:s,s:s,s:O,s:i,s:i}", "collection", coll, "id", ident(hit),
                              "score", json_object_get(hit, "score"), "rank", (int)i + 1, "leg",
                              leg);
        json_array_append_new(out, h);
    }
    ds_reply_free(&r);
    return out;
}

/* fusion.h's order: the score, then the best rank, then the earlier leg. */
static int by_merged_order(const void *a_, const void *b_)
{
    json_t *a = *(json_t *const *)a_, *b = *(json_t *const *)b_;
    double sa = json_number_value(json_object_get(a, "merged")),
           sb = json_number_value(json_object_get(b, "merged"));
    if (sa != sb)
        return sa > sb ? -1 : 1;
    json_int_t ra = json_integer_value(json_object_get(a, "rank")),
               rb = json_integer_value(json_object_get(b, "rank"));
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return (int)(json_integer_value(json_object_get(a, "leg")) -
                 json_integer_value(json_object_get(b, "leg")));
}

/* The union of the lists, in the merged order: by score (rrf 0) or by
 * 1 / (60 + rank) (rrf 1). */
static json_t *expected(json_t *const *lists, int n, int rrf)
{
    json_t *all[200];
    size_t m = 0;
    for (int l = 0; l < n; l++) {
        size_t i;
        json_t *h;
        json_array_foreach(lists[l], i, h) {
            double v = rrf ? 1.0 / (60 + (double)json_integer_value(json_object_get(h, "rank")))
                           : json_number_value(json_object_get(h, "score"));
            json_object_set_new(h, "merged", json_real(v));
            if (m < 200)
                all[m++] = h;
        }
    }
    qsort(all, m, sizeof *all, by_merged_order);
    json_t *out = json_array();
    for (size_t i = 0; i < m; i++)
        json_array_append(out, all[i]);
    return out;
}

/* The merged answer's results, from `from`, are want's, in order: the same
 * collection, image or patent, and score. */
static void check_order(json_t *results, json_t *want, size_t from, int rrf, const char *what)
{
    size_t i;
    json_t *hit;
    CHECKF(json_array_size(results) > 0, "%s: no results", what);
    json_array_foreach(results, i, hit) {
        json_t *w = json_array_get(want, from + i);
        if (!w) {
            CHECKF(0, "%s: result %zu is beyond the union", what, i);
            break;
        }
        CHECKF(strcmp(str(hit, "collection"), str(w, "collection")) == 0 &&
                   strcmp(ident(hit), str(w, "id")) == 0,
               "%s: result %zu is %s of %s, want %s of %s", what, from + i, ident(hit),
               str(hit, "collection"), str(w, "id"), str(w, "collection"));
        double got = json_number_value(json_object_get(hit, "score"));
        double wanted = json_number_value(json_object_get(w, "merged"));
        CHECKF(fabs(got - wanted) < 1e-9, "%s: result %zu score %.9g, want %.9g", what, from + i,
               got, wanted);
        if (rrf)
            CHECKF(json_integer_value(json_object_get(hit, "collection_rank")) ==
                           json_integer_value(json_object_get(w, "rank")) &&
                       json_equal(json_object_get(hit, "collection_score"),
                                  json_object_get(w, "score")),
                   "%s: result %zu: collection_rank/score are not its own", what, from + i);
    }
}

/* Every result's URLs (and its images') name its collection. */
static void check_urls(json_t *results)
{
    size_t i, j;
    json_t *hit, *img;
    json_array_foreach(results, i, hit) {
        char want[160];
        snprintf(want, sizeof want, "collection=%s", str(hit, "collection"));
        json_t *images = json_object_get(hit, "images");
        if (!images) {
            CHECKF(strstr(str(hit, "thumbnail_url"), want) && strstr(str(hit, "image_url"), want),
                   "result %zu: %s / %s do not name %s", i, str(hit, "thumbnail_url"),
                   str(hit, "image_url"), want);
            continue;
        }
        json_array_foreach(images, j, img)
            CHECKF(strstr(str(img, "thumbnail_url"), want) != NULL,
                   "result %zu image %zu: %s does not name %s", i, j, str(img, "thumbnail_url"),
                   want);
    }
}

/* Two collections of one model, searched by a picture: merged by score,
 * pages cut from the merge, grouping by patent within each collection. */
static void test_multi_one_model_by_score(void)
{
    ds_server s;
    if (start_three(&s, "score") != 0) {
        CHECKF(0, "server with three collections did not start");
        return;
    }
    char *file = a_drawing();
    g_file = file;
    for (int grouped = 0; grouped < 2; grouped++) {
        const char *more = grouped ? "top_k=12&group_by_patent=true" : "top_k=12";
        json_t *lists[2] = {alone(&s, "alpha", 0, more), alone(&s, "beta", 1, more)};
        json_t *want = expected(lists, 2, 0);
        char q[300];
        snprintf(q, sizeof q, "collection=alpha,beta&%s", more);
        ds_reply r = search(&s, q);
        json_t *data = ds_reply_data(&r), *res = ds_reply_results(&r);
        CHECKF(r.status == 200 && json_array_size(res) == 12, "%s", r.body);
        json_t *both = json_pack("[ss]", "alpha", "beta");
        CHECKF(strcmp(str(data, "collection"), "alpha") == 0 &&
                   json_equal(json_object_get(data, "collections"), both) &&
                   strcmp(str(data, "collections_merged_by"), "score") == 0,
               "collection / collections / collections_merged_by: %.300s", r.body);
        json_decref(both);
        check_order(res, want, 0, 0, grouped ? "grouped, by score" : "by score");
        check_urls(res);
        /* Both collections contribute (week B's drawings score too). */
        int from_beta = 0;
        size_t i;
        json_t *hit;
        json_array_foreach(res, i, hit) from_beta |= strcmp(str(hit, "collection"), "beta") == 0;
        CHECKF(from_beta, "no result of beta among 12: %.300s", r.body);
        ds_reply_free(&r);
        /* The second page is the merge's, not each collection's. */
        snprintf(q, sizeof q, "collection=alpha,beta&offset=5&%s", grouped
                     ? "top_k=7&group_by_patent=true" : "top_k=7");
        ds_reply page = search(&s, q);
        CHECKF(page.status == 200 && json_array_size(ds_reply_results(&page)) == 7, "%s",
               page.body);
        check_order(ds_reply_results(&page), want, 5, 0, "page 2");
        ds_reply_free(&page);
        json_decref(want);
        json_decref(lists[0]);
        json_decref(lists[1]);
    }
    free(file);
    CHECK(ds_server_stop(&s) == 0);
}

/* Collections of different models: their cosines do not compare, so the
 * lists are merged by RRF (k 60) of their ranks. */
static void test_multi_two_models_by_rrf(void)
{
    ds_server s;
    if (start_three(&s, "rrf") != 0) {
        CHECKF(0, "server with three collections did not start");
        return;
    }
    char *file = a_drawing();
    g_file = file;
    json_t *lists[2] = {alone(&s, "gamma", 0, "top_k=10"), alone(&s, "alpha", 1, "top_k=10")};
    json_t *want = expected(lists, 2, 1);
    ds_reply r = search(&s, "collection=gamma,%20alpha&top_k=10");
    json_t *data = ds_reply_data(&r), *res = ds_reply_results(&r);
    CHECKF(r.status == 200 && json_array_size(res) == 10, "%s", r.body);
    CHECKF(strcmp(str(data, "collections_merged_by"), "rrf") == 0 &&
               strcmp(str(data, "collection"), "gamma") == 0,
           "%.300s", r.body);
    check_order(res, want, 0, 1, "two models, RRF");
    check_urls(res);
    ds_reply_free(&r);
    /* A stored image as the view is the first collection's; the other
     * model embeds its original, so gamma (week A again) finds the same
     * drawing first, as similar as can be. */
    const char *stored = json_string_value(json_object_get(json_array_get(lists[1], 0), "id"));
    char path[700];
    snprintf(path, sizeof path, "/api/search?min_score=-1&collection=alpha,gamma&image=%s",
             stored ? stored : "");
    ds_reply v = ds_http(s.port, "GET", path, NULL, NULL, NULL, 0, NULL);
    int found = 0;
    size_t i;
    json_t *hit;
    json_array_foreach(ds_reply_results(&v), i, hit)
        found |= strcmp(str(hit, "collection"), "gamma") == 0 &&
                 strcmp(str(hit, "file_name"), stored ? stored : "") == 0 &&
                 json_integer_value(json_object_get(hit, "collection_rank")) == 1 &&
                 json_number_value(json_object_get(hit, "collection_score")) > 0.999;
    CHECKF(v.status == 200 && found, "image=%s across two models: %.600s", stored, v.body);
    ds_reply_free(&v);
    json_decref(want);
    json_decref(lists[0]);
    json_decref(lists[1]);
    free(file);
    CHECK(ds_server_stop(&s) == 0);
}

/* Words across two collections: BM25 scores of two corpora do not compare,
 * so RRF; each result names its collection. */
static void test_multi_words(void)
{
    if (remote_backend())
        SKIP("search by words is not built on Milvus yet");
    ds_server s;
    if (start_three(&s, "words") != 0) {
        CHECKF(0, "server with three collections did not start");
        return;
    }
    json_t *lists[2];
    const char *colls[2] = {"alpha", "beta"};
    for (int l = 0; l < 2; l++) {
        char path[200];
        snprintf(path, sizeof path, "/api/search?q=ornamental&top_k=20&collection=%s", colls[l]);
        ds_reply r = ds_http(s.port, "GET", path, NULL, NULL, NULL, 0, NULL);
        CHECKF(r.status == 200, "%s", r.body);
        lists[l] = json_array();
        size_t i;
        json_t *hit;
        json_array_foreach(ds_reply_results(&r), i, hit)
            json_array_append_new(lists[l], json_pack("{s:s,s:s,s:O,s:i,s:i}", "collection",
                                                      colls[l], "id", str(hit, "patent_id"),
                                                      "score", json_object_get(hit, "score"),
                                                      "rank", (int)i + 1, "leg", l));
        ds_reply_free(&r);
    }
    json_t *want = expected(lists, 2, 1);
    ds_reply r = ds_http(s.port, "GET", "/api/search?q=ornamental&top_k=16&collection=alpha,beta",
                         NULL, NULL, NULL, 0, NULL);
    json_t *res = ds_reply_results(&r);
    CHECKF(r.status == 200 && json_array_size(res) == 16, "%s", r.body);
    CHECKF(strcmp(str(ds_reply_data(&r), "collections_merged_by"), "rrf") == 0, "%.300s",
           r.body);
    check_order(res, want, 0, 1, "words, RRF");
    check_urls(res);
    ds_reply_free(&r);
    json_decref(want);
    json_decref(lists[0]);
    json_decref(lists[1]);
    CHECK(ds_server_stop(&s) == 0);
}

/* Names: an unknown one is a 404 naming it, one listed twice a 400, more
 * than 16 a 400; a new collection's name cannot hold a comma. */
static void test_multi_bad_lists(void)
{
    if (remote_backend()) /* 13 s of imports into Milvus for code that is the same on both */
        SKIP("no backend's own code: the multi suite runs it embedded");
    ds_server s;
    if (start_three(&s, "names") != 0) {
        CHECKF(0, "server with three collections did not start");
        return;
    }
    char *file = a_drawing();
    g_file = file;
    ds_reply r = search(&s, "collection=alpha,nosuch");
    CHECKF(r.status == 404 && strstr(r.body, "nosuch"), "%ld %s", r.status, r.body);
    ds_reply_free(&r);
    r = search(&s, "collection=alpha,beta,alpha");
    CHECKF(r.status == 400 && strstr(r.body, "alpha") && strstr(r.body, "twice"), "%ld %s",
           r.status, r.body);
    ds_reply_free(&r);
    r = search(&s, "collection=alpha,,beta");
    CHECKF(r.status == 400 && strstr(r.body, "empty"), "%ld %s", r.status, r.body);
    ds_reply_free(&r);
    char q[400] = "collection=alpha";
    for (int i = 0; i < 16; i++)
        strcat(q, ",beta");
    r = search(&s, q);
    CHECKF(r.status == 400 && strstr(r.body, "16"), "%ld %s", r.status, r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&s) == 0);
    free(file);
    /* A comma in a new collection's name is refused, saying why. */
    char cmd[1400], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "%s stats --data %s/names --model %s --collection 'x,y'",
             ds_test_bin(), ds_test_tmpdir, ds_test_model_dir());
    int st = ds_test_run(cmd, &out, &err);
    CHECKF(st != 0 && err && strstr(err, "','") && strstr(err, "several collections"),
           "exit %d: %.300s", st, err);
    free(out);
    free(err);
}

/* The CSV export of a merged search names each row's collection. */
static void test_multi_csv(void)
{
    if (remote_backend()) /* 13 s of imports into Milvus for code that is the same on both */
        SKIP("no backend's own code: the multi suite runs it embedded");
    ds_server s;
    if (start_three(&s, "csv") != 0) {
        CHECKF(0, "server with three collections did not start");
        return;
    }
    char *file = a_drawing();
    g_file = file;
    ds_reply r = search(&s, "collection=alpha,beta&top_k=12&format=csv");
    CHECKF(r.status == 200, "%ld %s", r.status, r.body);
    char *eol = strstr(r.body, "\r\n");
    CHECKF(eol && eol - r.body > 11 && strncmp(eol - 11, ",collection", 11) == 0,
           "header: %.300s", r.body);
    int rows = 0, alpha = 0, beta = 0;
    for (char *line = eol ? eol + 2 : NULL; line && *line; rows++) {
        char *end = strstr(line, "\r\n");
        if (!end)
            break;
        alpha += end - line > 6 && strncmp(end - 6, ",alpha", 6) == 0;
        beta += end - line > 5 && strncmp(end - 5, ",beta", 5) == 0;
        line = end + 2;
    }
    CHECKF(rows == 12 && alpha + beta == 12 && alpha > 0 && beta > 0,
           "%d rows, %d of alpha, %d of beta: %.400s", rows, alpha, beta, r.body);
    ds_reply_free(&r);
    free(file);
    CHECK(ds_server_stop(&s) == 0);
}

/* dinoseek search --collection a,b: the same merge from the shell. */
static void test_multi_cli(void)
{
    if (remote_backend()) /* 13 s of imports into Milvus for code that is the same on both */
        SKIP("no backend's own code: the multi suite runs it embedded");
    char dir[600], cmd[2400], *out = NULL, *err = NULL;
    const char *model = ds_test_model_dir(), *other = other_model_dir();
    snprintf(dir, sizeof dir, "%s/cli", ds_test_tmpdir);
    if (!model || !other || import_week(dir, "weekA", 3, "20221025", "alpha", model) != 0 ||
        import_week(dir, "weekB", 11, "20221101", "beta", model) != 0 ||
        import_week(dir, "weekA", 3, "20221025", "gamma", other) != 0) {
        CHECKF(0, "could not import the weeks");
        return;
    }
    char *file = a_drawing();
    const char *lists[] = {"alpha,beta", "alpha,gamma"};
    for (int l = 0; l < 2; l++) {
        snprintf(cmd, sizeof cmd,
                 "%s search --data %s --model %s --collection-model gamma=%s --collection %s "
                 "--min-score -1 --top-k 12 %s",
                 ds_test_bin(), dir, model, other, lists[l], file);
        int st = ds_test_run(cmd, &out, &err);
        json_t *doc = out ? json_loads(out, 0, NULL) : NULL, *res = json_object_get(doc, "results");
        CHECKF(st == 0 && json_array_size(res) == 12, "exit %d: %.300s %.300s", st, out, err);
        CHECKF(strcmp(str(doc, "collections_merged_by"), l ? "rrf" : "score") == 0 &&
                   json_array_size(json_object_get(doc, "collections")) == 2,
               "%s: %.300s", lists[l], out);
        int seen[2] = {0, 0};
        size_t i;
        json_t *hit;
        double last = INFINITY;
        json_array_foreach(res, i, hit) {
            const char *c = str(hit, "collection");
            seen[0] |= strcmp(c, "alpha") == 0;
            seen[1] |= strcmp(c, l ? "gamma" : "beta") == 0;
            double score = json_number_value(json_object_get(hit, "score"));
            CHECKF(score <= last, "%s: result %zu not in merged order", lists[l], i);
            last = score;
        }
        CHECKF(seen[0] && seen[1], "%s: both collections should answer: %.300s", lists[l], out);
        json_decref(doc);
        free(out);
        free(err);
        out = err = NULL;
    }
    free(file);
}

const ds_test multi_tests[] = {
    {"collection=a,b of one model: the union sorted by score, pages of the merge",
     test_multi_one_model_by_score},
    {"collection=a,b of two models: RRF of the ranks", test_multi_two_models_by_rrf},
    {"collection=a,b by words: RRF, each result names its collection", test_multi_words},
    {"collection lists: unknown 404, twice / empty / over 16 400; no comma in new names",
     test_multi_bad_lists},
    {"collection=a,b as CSV: a collection column", test_multi_csv},
    {"dinoseek search --collection a,b", test_multi_cli},
    {0},
};
