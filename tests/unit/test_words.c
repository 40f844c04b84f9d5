/* test_words.c - search by words and hybrid search (issue #18) as users
 * meet them: the real binary serving a generated USPTO week, spoken to over
 * HTTP, and `dinoseek search --q` from the shell. What the words find is
 * checked against the patents' own text, read back through /api/patent;
 * the fused order against Reciprocal Rank Fusion recomputed from what each
 * leg answered; hostile queries against "a result or a 400, never a 500".
 * On Milvus (suite words-milvus) search by words is not built yet: there
 * the same requests must answer 501 saying so, never a wrong result. */
#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"

/* The week every test searches: 12 generated patents, published 2022-10-25. */
static int import_week(const char *data_dir, const char *name, int seed, const char *date)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s sample generate %s/%s --patents 12 --seed %d --date %s --views-min 1 "
             "--views-max 2 >/dev/null 2>&1 && %s import %s/%s/I%s.tar --data %s --model %s "
             ">/dev/null 2>&1",
             ds_test_bin(), ds_test_tmpdir, name, seed, date, ds_test_bin(), ds_test_tmpdir, name,
             date, data_dir, ds_test_model_dir());
    return system(cmd) == 0 ? 0 : -1;
}

static int remote_backend(void) { return getenv("DINOSEEK_MILVUS_URI") != NULL; }

/* A server holding one imported week. */
static int start_with_week(ds_server *s, const char *name)
{
    char dir[600];
    if (!ds_test_model_dir())
        return -1;
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, name);
    if (import_week(dir, "week1", 3, "20221025") != 0)
        return -1;
    return ds_server_start(s, name, NULL);
}

static ds_reply get(const ds_server *s, const char *path)
{
    return ds_http(s->port, "GET", path, NULL, NULL, NULL, 0, NULL);
}

static char *escape(const char *q)
{
    CURL *c = curl_easy_init();
    char *e = curl_easy_escape(c, q, (int)strlen(q));
    char *out = strdup(e);
    curl_free(e);
    curl_easy_cleanup(c);
    return out;
}

static ds_reply words(const ds_server *s, const char *q, const char *more)
{
    char *e = escape(q);
    size_t n = strlen(e) + (more ? strlen(more) : 0) + 64;
    char *path = malloc(n);
    snprintf(path, n, "/api/search?q=%s%s", e, more ? more : "");
    ds_reply r = get(s, path);
    free(path);
    free(e);
    return r;
}

/* Every patent of the collection, with its text: id -> the /api/patent
 * object (found through a word every generated claim holds). */
static json_t *all_patents(const ds_server *s)
{
    json_t *all = json_object();
    ds_reply r = words(s, "ornamental", "&top_k=1000");
    size_t i;
    json_t *hit;
    json_array_foreach(ds_reply_results(&r), i, hit) {
        const char *id = json_string_value(json_object_get(hit, "patent_id"));
        char path[300];
        snprintf(path, sizeof path, "/api/patent/%s", id);
        ds_reply p = get(s, path);
        if (p.status == 200)
            json_object_set(all, id, ds_reply_data(&p));
        ds_reply_free(&p);
    }
    ds_reply_free(&r);
    return all;
}

/* Whether text holds word as a whole word, any case (the fixtures' words
 * are plain ASCII). */
static int has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; p && *p; p++)
        if (strncasecmp(p, word, n) == 0 && (p == text || !isalnum((unsigned char)p[-1])) &&
            !isalnum((unsigned char)p[n]))
            return 1;
    return 0;
}

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int in_results(json_t *results, const char *id)
{
    size_t i;
    json_t *hit;
    json_array_foreach(results, i, hit) if (strcmp(str(hit, "patent_id"), id) == 0) return 1;
    return 0;
}

/* A word of some title: the words find exactly the patents whose title or
 * claim or names hold it; title: only those whose title does; every result
 * has its first drawing, the word among "matched" and marked in the
 * snippet. */
static void test_words_find_what_the_text_holds(void)
{
    ds_server s;
    if (remote_backend()) {
        /* the other tests of this suite run there; this one needs answers */
        SKIP("search by words is not built on Milvus yet (the 501 test covers it)");
    }
    if (start_with_week(&s, "find") != 0) {
        CHECKF(0, "server with a week did not start");
        return;
    }
    json_t *all = all_patents(&s);
    CHECKF(json_object_size(all) == 12, "%zu patents hold \"ornamental\", want all 12",
           json_object_size(all));
    /* A title word: the last word of the first patent's title, lower case. */
    const char *key;
    json_t *p;
    char word[64] = "";
    json_object_foreach(all, key, p) {
        const char *title = str(p, "title"), *last = strrchr(title, ' ');
        snprintf(word, sizeof word, "%s", last ? last + 1 : title);
        break;
    }
    for (char *c = word; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    CHECK(word[0] != '\0');

    static const char *const fields[] = {"title", "claim_text", "applicant_name",
                                         "assignee_name", "inventor_names"};
    for (int titled = 0; titled < 2; titled++) {
        char q[100];
        snprintf(q, sizeof q, "%s%s", titled ? "title:" : "", word);
        ds_reply r = words(&s, q, "&top_k=100");
        json_t *res = ds_reply_results(&r), *data = ds_reply_data(&r);
        CHECKF(r.status == 200 && strcmp(str(data, "mode"), "words") == 0, "%s: %s", q, r.body);
        size_t want = 0;
        json_object_foreach(all, key, p) {
            int holds = 0;
            for (size_t f = 0; f < (titled ? 1 : sizeof fields / sizeof *fields); f++)
                holds |= has_word(str(p, fields[f]), word);
            want += holds;
            CHECKF(holds == in_results(res, key), "q=%s: patent %s (title \"%s\") %s", q, key,
                   str(p, "title"), holds ? "holds the word but was not found" : "was found "
                                                                                "without it");
        }
        CHECKF(json_array_size(res) == want && json_integer_value(json_object_get(
                                                   data, "text_matches")) == (json_int_t)want,
               "q=%s: %zu results, %zu patents hold it: %s", q, json_array_size(res), want,
               r.body);
        size_t i;
        json_t *hit;
        double last = INFINITY;
        json_array_foreach(res, i, hit) {
            json_t *text = json_object_get(hit, "text"), *imgs = json_object_get(hit, "images");
            double score = json_number_value(json_object_get(hit, "score"));
            CHECKF(score <= last, "q=%s: results not best first", q);
            last = score;
            CHECKF(json_array_size(imgs) == 1, "q=%s: %s has %zu drawings shown, want its first",
                   q, str(hit, "patent_id"), json_array_size(imgs));
            CHECK(json_integer_value(json_object_get(json_array_get(imgs, 0), "image_index")) ==
                  0);
            char *matched = json_dumps(json_object_get(text, "matched"), 0);
            CHECKF((matched && strstr(matched, word) != NULL) ||
                       json_array_size(json_object_get(text, "matched")) == 1,
                   "q=%s: matched lacks the word", q);
            free(matched);
            CHECKF(strstr(str(text, "snippet_html"), "<mark>") != NULL,
                   "q=%s: no highlight in %s", q, str(text, "snippet_html"));
            CHECK(strstr(str(text, "snippet"), "<mark>") == NULL);
            CHECK(json_object_get(hit, "title") && json_object_get(hit, "loc_class"));
        }
        ds_reply_free(&r);
    }
    /* English stemming: the plural finds the singular. */
    char plural[80];
    snprintf(plural, sizeof plural, "title:%ss", word);
    ds_reply a = words(&s, plural, NULL), b = words(&s, word + 0, NULL);
    CHECKF(json_array_size(ds_reply_results(&a)) > 0, "%s finds nothing: %s", plural, a.body);
    ds_reply_free(&a);
    ds_reply_free(&b);
    json_decref(all);
    CHECK(ds_server_stop(&s) == 0);
}

/* The filters apply before ranking: a word every patent holds, with a
 * Locarno class, an applicant or patent ids, finds exactly the patents
 * that pass; paging cuts one ranking. */
static void test_words_filters_and_pages(void)
{
    ds_server s;
    if (remote_backend())
        SKIP("search by words is not built on Milvus yet (the 501 test covers it)");
    if (start_with_week(&s, "filters") != 0) {
        CHECKF(0, "server with a week did not start");
        return;
    }
    json_t *all = all_patents(&s);
    const char *key, *first_id = NULL;
    json_t *p;
    char loc[16] = "";
    json_object_foreach(all, key, p) {
        if (!first_id) {
            first_id = key;
            snprintf(loc, sizeof loc, "%s", str(p, "loc_class"));
        }
    }
    char more[200];
    snprintf(more, sizeof more, "&top_k=100&loc_class=%s", loc);
    ds_reply r = words(&s, "ornamental", more);
    size_t want = 0;
    json_object_foreach(all, key, p) {
        int pass = strcmp(str(p, "loc_class"), loc) == 0;
        want += pass;
        CHECKF(pass == in_results(ds_reply_results(&r), key), "loc_class=%s: %s (%s) wrong", loc,
               key, str(p, "loc_class"));
    }
    CHECKF(want > 0 && json_array_size(ds_reply_results(&r)) == want, "%zu of %zu", want,
           json_array_size(ds_reply_results(&r)));
    ds_reply_free(&r);

    snprintf(more, sizeof more, "&patent_ids=%s", first_id);
    r = words(&s, "ornamental", more);
    CHECKF(json_array_size(ds_reply_results(&r)) == 1 &&
               in_results(ds_reply_results(&r), first_id), "patent_ids=%s: %s", first_id, r.body);
    ds_reply_free(&r);

    /* Pages of 5 put together are the page of 12. */
    ds_reply whole = words(&s, "ornamental", "&top_k=12");
    json_t *joined = json_array();
    for (int off = 0; off < 12; off += 5) {
        snprintf(more, sizeof more, "&top_k=5&offset=%d", off);
        ds_reply page = words(&s, "ornamental", more);
        json_array_extend(joined, ds_reply_results(&page));
        ds_reply_free(&page);
    }
    CHECK(json_array_size(joined) == 12);
    for (size_t i = 0; i < json_array_size(joined); i++)
        CHECKF(strcmp(str(json_array_get(joined, i), "patent_id"),
                      str(json_array_get(ds_reply_results(&whole), i), "patent_id")) == 0,
               "paged result %zu differs", i);
    json_decref(joined);
    ds_reply_free(&whole);
    /* Deeper than a grouped page may go. */
    r = words(&s, "ornamental", "&top_k=1000&offset=1");
    CHECKF(r.status == 400, "offset + top_k over 1000: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    json_decref(all);
    CHECK(ds_server_stop(&s) == 0);
}

/* Whatever a user types gets results or a 400 naming the problem. */
static void test_words_hostile_queries(void)
{
    ds_server s;
    if (remote_backend())
        SKIP("search by words is not built on Milvus yet (the 501 test covers it)");
    if (start_with_week(&s, "hostile") != 0) {
        CHECKF(0, "server with a week did not start");
        return;
    }
    char *long_q = malloc(10001);
    memset(long_q, 'a', 10000);
    for (int i = 7; i < 10000; i += 8)
        long_q[i] = ' ';
    long_q[10000] = '\0';
    const char *const queries[] = {
        "\"chair", "*", "NEAR(", "NEAR(chair lamp)", "-", "{title}: chair", "title:", "titel:chair",
        "((((chair", "chair)", "OR", "chair OR", "AND AND", "-chair", "NOT chair", "\xf0\x9f\xaa\x91",
        "\xd7\xa9\xd7\x95\xd7\x9c\xd7\x97\xd7\x9f chair", "chair*", "\"\"", "c*h", "loc:", "loc:99-99",
        "\xff\xfe", "chair\"", "title:(chair OR lamp)", "^chair", "chair NEAR/2 lamp", "col:x",
        long_q, "   ", "id:D0", "'; DROP TABLE patents; --",
    };
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        ds_reply r = words(&s, queries[i], NULL);
        int blank = strspn(queries[i], " ") == strlen(queries[i]);
        CHECKF(r.status == 200 || r.status == 400, "q=\"%.40s\": HTTP %ld %s", queries[i],
               r.status, r.body);
        if (r.status == 400 && !blank) {
            const char *m = json_string_value(json_object_get(r.json, "message"));
            CHECKF(m && strncmp(m, "query: ", 7) == 0 && !strstr(m, "fts5"),
                   "q=\"%.40s\": the message should name the query's problem: %s", queries[i],
                   r.body);
        }
        ds_reply_free(&r);
    }
    /* The catalog is still whole after them. */
    ds_reply r = words(&s, "ornamental", "&top_k=100");
    CHECK(r.status == 200 && json_array_size(ds_reply_results(&r)) == 12);
    ds_reply_free(&r);
    free(long_q);
    CHECK(ds_server_stop(&s) == 0);
}

/* Hybrid: the picture of one patent and a word of another. Each result's
 * fused score is RRF recomputed from its ranks in the two legs, which
 * agree with what each leg answers alone; weighted with alpha 1 is the
 * picture's order, with alpha 0 the words' first. */
static const char *g_file, *g_q, *g_extra_name, *g_extra_value;
static curl_mime *hybrid_form(CURL *c)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, g_file);
    const char *fields[][2] = {{"q", g_q}, {"explain", "true"}, {"top_k", "12"},
                               {"min_score", "-1"}, {g_extra_name, g_extra_value}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (!fields[i][0] || !fields[i][1])
            continue;
        p = curl_mime_addpart(m);
        curl_mime_name(p, fields[i][0]);
        curl_mime_data(p, fields[i][1], CURL_ZERO_TERMINATED);
    }
    return m;
}

static ds_reply hybrid_search(const ds_server *s, const char *name, const char *value)
{
    g_extra_name = name;
    g_extra_value = value;
    return ds_http(s->port, "POST", "/api/search", hybrid_form, NULL, NULL, 0, NULL);
}

static void test_hybrid_fuses_the_two_rankings(void)
{
    ds_server s;
    if (remote_backend())
        SKIP("search by words is not built on Milvus yet (the 501 test covers it)");
    if (start_with_week(&s, "hybrid") != 0) {
        CHECKF(0, "server with a week did not start");
        return;
    }
    char file[700];
    snprintf(file, sizeof file, "%s/week1/I20221025.tar", ds_test_tmpdir);
    /* A drawing of the first patent in the week's folder. */
    char cmd[900], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls %s/week1/USD*/*.TIF | head -1", ds_test_tmpdir);
    ds_test_run(cmd, &out, NULL);
    if (out)
        out[strcspn(out, "\n")] = '\0';
    g_file = out;
    g_q = "ornamental";
    ds_reply r = hybrid_search(&s, NULL, NULL);
    json_t *data = ds_reply_data(&r), *res = ds_reply_results(&r);
    CHECKF(r.status == 200 && strcmp(str(data, "mode"), "hybrid") == 0 &&
               json_array_size(res) == 12, "%s", r.body);
    size_t i;
    json_t *hit;
    double last = INFINITY;
    json_array_foreach(res, i, hit) {
        json_t *x = json_object_get(hit, "explain");
        json_int_t ri = json_integer_value(json_object_get(json_object_get(x, "image"), "rank"));
        json_int_t rt = json_integer_value(json_object_get(json_object_get(x, "text"), "rank"));
        double want = (ri ? 1.0 / (60 + ri) : 0) + (rt ? 1.0 / (60 + rt) : 0);
        double got = json_number_value(json_object_get(hit, "score"));
        CHECKF(fabs(got - want) < 1e-9, "result %zu: score %g, RRF of ranks %lld/%lld is %g", i,
               got, (long long)ri, (long long)rt, want);
        CHECK(got <= last + 1e-12);
        last = got;
        CHECKF(ri > 0 && rt > 0, "every patent holds the word and has drawings: ranks %lld/%lld",
               (long long)ri, (long long)rt);
        CHECK(json_object_get(hit, "text") && json_array_size(json_object_get(hit, "images")) > 0);
    }
    /* The picture's rank 1 is the picture's own patent. */
    ds_reply_free(&r);

    /* alpha with RRF means nothing: refused, not ignored. */
    ds_reply rrf = ds_http(s.port, "POST", "/api/search?fusion=rrf&alpha=0.3", hybrid_form, NULL,
                           NULL, 0, NULL);
    CHECKF(rrf.status == 400 && strstr(rrf.body, "alpha"), "%ld %s", rrf.status, rrf.body);
    ds_reply_free(&rrf);
    /* alpha 1: the picture alone decides; alpha 0: the words alone. */
    const char *alphas[] = {"1", "0"};
    for (int a = 0; a < 2; a++) {
        g_q = "ornamental";
        g_extra_name = a ? "fusion" : NULL; /* alpha alone implies weighted */
        g_extra_value = "weighted";
        char path[64];
        snprintf(path, sizeof path, "/api/search?alpha=%s", alphas[a]);
        ds_reply w = ds_http(s.port, "POST", path, hybrid_form, NULL, NULL, 0, NULL);
        CHECKF(w.status == 200, "%s", w.body);
        const char *leg = a == 0 ? "image" : "text";
        json_int_t prev = 0;
        json_array_foreach(ds_reply_results(&w), i, hit) {
            json_int_t rank = json_integer_value(
                json_object_get(json_object_get(json_object_get(hit, "explain"), leg), "rank"));
            CHECKF(rank == prev + 1, "alpha %s: result %zu has %s rank %lld", alphas[a], i, leg,
                   (long long)rank);
            prev = rank;
        }
        ds_reply_free(&w);
    }
    free(out);
    CHECK(ds_server_stop(&s) == 0);
}

/* A running server finds by words what another process imported since. */
static void test_words_see_other_imports(void)
{
    ds_server s;
    if (remote_backend())
        SKIP("search by words is not built on Milvus yet (the 501 test covers it)");
    if (start_with_week(&s, "fresh") != 0) {
        CHECKF(0, "server with a week did not start");
        return;
    }
    ds_reply before = words(&s, "ornamental", "&top_k=100");
    CHECK(json_array_size(ds_reply_results(&before)) == 12);
    ds_reply_free(&before);
    CHECK(import_week(s.dir, "week2", 11, "20221101") == 0);
    ds_reply after = words(&s, "ornamental", "&top_k=100&pub_date_from=2022-11-01");
    CHECKF(json_array_size(ds_reply_results(&after)) == 12,
           "the second week's 12 patents, found at once: %zu", json_array_size(ds_reply_results(&after)));
    ds_reply_free(&after);
    CHECK(ds_server_stop(&s) == 0);
}

/* The shell: --q alone, with an image, and a bad query. */
static void test_words_cli(void)
{
    if (remote_backend())
        SKIP("search by words is not built on Milvus yet (the 501 test covers it)");
    char dir[600], cmd[2048], *out = NULL, *err = NULL;
    snprintf(dir, sizeof dir, "%s/cli", ds_test_tmpdir);
    if (!ds_test_model_dir() || import_week(dir, "week1", 3, "20221025") != 0) {
        CHECKF(0, "could not import a week");
        return;
    }
    snprintf(cmd, sizeof cmd, "%s search --data %s --model %s --q ornamental --top-k 3",
             ds_test_bin(), dir, ds_test_model_dir());
    int st = ds_test_run(cmd, &out, &err);
    json_t *doc = out ? json_loads(out, 0, NULL) : NULL;
    CHECKF(st == 0 && doc && json_array_size(json_object_get(doc, "results")) == 3 &&
               strcmp(str(doc, "mode"), "words") == 0,
           "exit %d: %.300s %.300s", st, out, err);
    json_decref(doc);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd,
             "%s search --data %s --model %s --q ornamental --explain $(ls %s/week1/USD*/*.TIF | "
             "head -1)",
             ds_test_bin(), dir, ds_test_model_dir(), ds_test_tmpdir);
    st = ds_test_run(cmd, &out, &err);
    doc = out ? json_loads(out, 0, NULL) : NULL;
    CHECKF(st == 0 && doc && strcmp(str(doc, "mode"), "hybrid") == 0 &&
               json_object_get(json_array_get(json_object_get(doc, "results"), 0), "explain"),
           "exit %d: %.300s %.300s", st, out, err);
    json_decref(doc);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s search --data %s --model %s --q '\"chair'", ds_test_bin(), dir,
             ds_test_model_dir());
    st = ds_test_run(cmd, &out, &err);
    CHECKF(st == 1 && err && strstr(err, "unclosed quote"), "exit %d: %.300s", st, err);
    free(out);
    free(err);
}

/* On Milvus, not built yet: 501 saying so, for words alone and hybrid. */
static void test_words_on_milvus_not_built(void)
{
    if (!remote_backend())
        SKIP("embedded backend: the other tests search by words here");
    ds_server s;
    if (start_with_week(&s, "milvus") != 0) {
        CHECKF(0, "server with a week did not start");
        return;
    }
    ds_reply r = words(&s, "ornamental", NULL);
    CHECKF(r.status == 501 && strstr(r.body, "search by words"), "%ld %s", r.status, r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&s) == 0);
}

const ds_test words_tests[] = {
    {"words find the patents whose text holds them, title: only titles", test_words_find_what_the_text_holds},
    {"words: filters before ranking, pages of one ranking", test_words_filters_and_pages},
    {"words: hostile queries get results or a 400 naming the problem", test_words_hostile_queries},
    {"hybrid: RRF of the two legs' ranks; weighted alpha 1 and 0", test_hybrid_fuses_the_two_rankings},
    {"words: a running server finds another process's import", test_words_see_other_imports},
    {"dinoseek search --q, alone and with an image", test_words_cli},
    {"words on Milvus: 501 saying so", test_words_on_milvus_not_built},
    {0},
};
