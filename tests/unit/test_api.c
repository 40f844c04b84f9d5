/* test_api.c - `dinoseek serve` as users meet it: the real binary on a free
 * port of 127.0.0.1, spoken to over HTTP with libcurl. Every route and every
 * error of the API, searches while images are added, a clean SIGTERM. */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"
#include "base/file.h"
#include "image/image.h"

#define IMG "tests/fixtures/images/"

typedef ds_server server;
#define start ds_server_start
#define stop ds_server_stop
#define model_dir ds_test_model_dir

typedef ds_reply reply;
#define reply_free ds_reply_free

static reply call(const server *s, const char *method, const char *path, ds_form_fn form,
                  const char *content_type, const char *raw, size_t raw_len, const char *header)
{
    return ds_http(s->port, method, path, form, content_type, raw, raw_len, header);
}

static long code_of(const reply *r) { return json_integer_value(json_object_get(r->json, "code")); }
static const char *message_of(const reply *r)
{
    const char *m = json_string_value(json_object_get(r->json, "message"));
    return m ? m : "";
}

/* Forms. */
static curl_mime *file_part(CURL *c, const char *path, const char *name)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, path);
    if (name)
        curl_mime_filename(p, name);
    return m;
}

static void field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, name);
    curl_mime_data(p, value, CURL_ZERO_TERMINATED);
}

static curl_mime *add_drawing(CURL *c)
{
    curl_mime *m = file_part(c, IMG "drawing_g4.tif", "USD0701016-20140318-D00001.TIF");
    field(m, "patent_id", "D0701016");
    return m;
}
static curl_mime *add_photo(CURL *c) { return file_part(c, IMG "parity_photo.jpg", NULL); }
static curl_mime *add_tall(CURL *c) { return file_part(c, IMG "parity_tall.png", NULL); }
static curl_mime *add_sneaky(CURL *c) { return file_part(c, IMG "quad.png", "../../etc/quad.png"); }
static curl_mime *add_text(CURL *c) { return file_part(c, IMG "text.png", NULL); }
static curl_mime *search_photo(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "top_k", "2");
    return m;
}
static curl_mime *search_grouped(CURL *c)
{
    curl_mime *m = file_part(c, IMG "drawing_2page.tif", NULL);
    field(m, "top_k", "5");
    field(m, "group_by_patent", "true");
    field(m, "min_score", "-1"); /* every patent and plain image, however weak */
    return m;
}
static curl_mime *search_filtered(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "patent_ids", "D0701016");
    field(m, "min_score", "-1"); /* the patent's drawing is no near match of the photo */
    return m;
}
static curl_mime *search_many_ids(CURL *c)
{
    /* A long field (over 256 bytes) must still be read, not dropped. */
    char ids[2048] = "D0701016";
    for (int i = 0; i < 60; i++)
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), ",D99%05d", i);
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "patent_ids", ids);
    field(m, "min_score", "-1");
    return m;
}

static curl_mime *search_min_score(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "min_score", "0.999");
    return m;
}
static curl_mime *search_no_file(CURL *c)
{
    curl_mime *m = curl_mime_init(c);
    field(m, "top_k", "3");
    return m;
}
#define SEARCH_TOPK(v)                                                                  \
    static curl_mime *search_topk_##v(CURL *c)                                          \
    {                                                                                   \
        curl_mime *m = file_part(c, IMG "quad.png", NULL);                              \
        field(m, "top_k", #v);                                                          \
        return m;                                                                       \
    }
SEARCH_TOPK(0)
SEARCH_TOPK(100000)
SEARCH_TOPK(abc)
static curl_mime *search_text(CURL *c) { return file_part(c, IMG "text.png", NULL); }
/* The deepest grouped page costs every drawing of 10,000 patents: refused. */
static curl_mime *search_grouped_deep(CURL *c)
{
    curl_mime *m = file_part(c, IMG "quad.png", NULL);
    field(m, "group_by_patent", "true");
    field(m, "top_k", "1000");
    field(m, "offset", "9000");
    return m;
}
static curl_mime *search_bad_date(CURL *c)
{
    curl_mime *m = file_part(c, IMG "quad.png", NULL);
    field(m, "pub_date_from", "yesterday");
    return m;
}

static curl_mime *search_quad(CURL *c) { return file_part(c, IMG "quad.png", NULL); }

static void add_samples(const server *s)
{
    curl_mime *(*adds[])(CURL *) = {add_drawing, add_photo, add_tall};
    for (size_t i = 0; i < 3; i++) {
        reply r = call(s, "POST", "/api/images", adds[i], NULL, NULL, 0, "X-API-Key: k");
        CHECKF(r.status == 200 && code_of(&r) == 0, "%ld %s", r.status, r.body);
        reply_free(&r);
    }
}

static void test_search_routes(void)
{
    server s;
    if (start(&s, "search", "--api-key k --cors http://ui.example") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    reply r = call(&s, "POST", "/api/search", search_photo, NULL, NULL, 0, NULL);
    json_t *data = json_object_get(r.json, "data"), *results = json_object_get(data, "results");
    CHECKF(r.status == 200 && code_of(&r) == 0 && !strcmp(message_of(&r), "success"), "%s", r.body);
    CHECK(json_array_size(results) == 2);
    json_t *best = json_array_get(results, 0);
    CHECK(!strcmp(json_string_value(json_object_get(best, "file_name")), "parity_photo.jpg"));
    CHECK(json_real_value(json_object_get(best, "score")) > 0.99);
    static const char *const seed_keys[] = {"id", "score", "file_name", "patent_id", "page_num",
                                            "file_path"};
    for (size_t i = 0; i < 6; i++)
        CHECKF(json_object_get(best, seed_keys[i]) != NULL, "result lacks %s", seed_keys[i]);
    json_t *timing = json_object_get(data, "timing");
    static const char *const timing_keys[] = {"feature_extraction_ms", "milvus_search_ms",
                                              "total_ms", "decode_ms", "embed_ms", "search_ms"};
    for (size_t i = 0; i < 6; i++)
        CHECKF(json_is_number(json_object_get(timing, timing_keys[i])), "timing lacks %s",
               timing_keys[i]);
    reply_free(&r);
    /* Grouped: the drawing's patent first, with its page number. */
    r = call(&s, "POST", "/api/search", search_grouped, NULL, NULL, 0, NULL);
    results = json_object_get(json_object_get(r.json, "data"), "results");
    best = json_array_get(results, 0);
    CHECKF(r.status == 200 && !strcmp(json_string_value(json_object_get(best, "patent_id")),
                                      "D0701016"), "%s", r.body);
    json_t *img = json_array_get(json_object_get(best, "images"), 0);
    CHECK(img && !strcmp(json_string_value(json_object_get(img, "page_num")), "D00001"));
    CHECK(json_array_size(results) == 3); /* one patent, two plain images */
    reply_free(&r);
    /* A filter is applied before ranking: only the patent's image comes back. */
    r = call(&s, "POST", "/api/search", search_filtered, NULL, NULL, 0, NULL);
    results = json_object_get(json_object_get(r.json, "data"), "results");
    CHECKF(r.status == 200 && json_array_size(results) == 1, "%s", r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", search_many_ids, NULL, NULL, 0, NULL);
    results = json_object_get(json_object_get(r.json, "data"), "results");
    CHECKF(r.status == 200 && json_array_size(results) == 1, "%s", r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", search_min_score, NULL, NULL, 0, NULL);
    results = json_object_get(json_object_get(r.json, "data"), "results");
    CHECKF(r.status == 200 && json_array_size(results) == 1, "%s", r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

static void test_errors(void)
{
    server s;
    if (start(&s, "errors", "--api-key k --max-upload 1") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    const struct {
        curl_mime *(*form)(CURL *);
        long status;
        const char *text;
    } cases[] = {
        {search_no_file, 400, "'file'"},   {search_topk_0, 400, "top_k"},
        {search_topk_100000, 400, "top_k"}, {search_topk_abc, 400, "top_k"},
        {search_text, 415, "not an image"}, {search_bad_date, 400, "pub_date_from"},
        {search_grouped_deep, 400, "offset + top_k"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r = call(&s, "POST", "/api/search", cases[i].form, NULL, NULL, 0, NULL);
        CHECKF(r.status == cases[i].status && code_of(&r) == 1 && strstr(message_of(&r), cases[i].text),
               "case %zu: %ld %s", i, r.status, r.body);
        reply_free(&r);
    }
    /* A loc_class that is no Locarno class: 400 on both backends (the
     * embedded catalog answered 200 with no results, Milvus 400). */
    static const char *const classes[] = {"6", "123", "12-8", "12-08-1", "ab", "12%22"};
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
        char path[100];
        snprintf(path, sizeof path, "/api/search?loc_class=%s", classes[i]);
        reply r = call(&s, "POST", path, search_quad, NULL, NULL, 0, NULL);
        CHECKF(r.status == 400 && strstr(message_of(&r), "loc_class"), "loc_class=%s: %ld %s",
               classes[i], r.status, r.body);
        reply_free(&r);
    }
    reply r = call(&s, "POST", "/api/search?loc_class=06", search_quad, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "loc_class=06: %ld %s", r.status, r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", NULL, "multipart/form-data", "x", 1, NULL);
    CHECK(r.status == 400 && strstr(message_of(&r), "boundary"));
    reply_free(&r);
    const char *cut = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc";
    r = call(&s, "POST", "/api/search", NULL, "multipart/form-data; boundary=b", cut, strlen(cut), NULL);
    CHECK(r.status == 400 && strstr(message_of(&r), "truncated"));
    reply_free(&r);
    /* 10,000 parts. */
    size_t cap = 10000 * 64, pos = 0;
    char *many = malloc(cap);
    for (int i = 0; i < 10000; i++)
        pos += (size_t)snprintf(many + pos, cap - pos,
                                "--b\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nx\r\n", i);
    pos += (size_t)snprintf(many + pos, cap - pos, "--b--\r\n");
    r = call(&s, "POST", "/api/search", NULL, "multipart/form-data; boundary=b", many, pos, NULL);
    CHECKF(r.status == 413 && strstr(message_of(&r), "parts"), "%ld %s", r.status, r.body);
    reply_free(&r);
    /* Over --max-upload 1 (MB). */
    char *big = malloc(3 << 20);
    memset(big, 'x', 3 << 20);
    r = call(&s, "POST", "/api/search", NULL, "multipart/form-data; boundary=b", big, 3 << 20, NULL);
    CHECK(r.status == 413 && code_of(&r) == 1);
    reply_free(&r);
    free(big);
    free(many);
    /* Writes need the key; a client's path never reaches the store. */
    r = call(&s, "POST", "/api/images", add_photo, NULL, NULL, 0, NULL);
    CHECK(r.status == 401 && code_of(&r) == 1);
    reply_free(&r);
    r = call(&s, "POST", "/api/images", add_sneaky, NULL, NULL, 0, "Authorization: Bearer k");
    CHECKF(r.status == 200 && !strcmp(json_string_value(json_object_get(json_object_get(r.json, "data"),
                                                                         "file_name")), "quad.png"),
           "%s", r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/images", add_text, NULL, NULL, 0, "X-API-Key: k");
    CHECK(r.status == 415);
    reply_free(&r);
    r = call(&s, "GET", "/api/image/..%2F..%2Fcatalog.sqlite3", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 404 && code_of(&r) == 1);
    reply_free(&r);
    r = call(&s, "GET", "/api/image/nothing.png", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 404 && strstr(message_of(&r), "nothing.png"));
    reply_free(&r);
    r = call(&s, "GET", "/api/patent/D9999999", NULL, NULL, NULL, 0, NULL);
    /* named by the collection's name, not the catalog's number for it */
    CHECKF(r.status == 404 && strstr(message_of(&r), "in collection patent_images"), "%s",
           r.body);
    reply_free(&r);
    r = call(&s, "GET", "/api/collection/stats?collection=nope", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 404 && strstr(message_of(&r), "nope"));
    reply_free(&r);
    r = call(&s, "PUT", "/api/search", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 405 && strstr(r.headers, "Allow: OPTIONS, POST"));
    reply_free(&r);
    /* Bytes that are not UTF-8 in what is echoed back: still a JSON body. */
    r = call(&s, "GET", "/api/image/%FF%FE.png", NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 404 && code_of(&r) == 1 && strstr(message_of(&r), "?"), "%s", r.body);
    reply_free(&r);
    r = call(&s, "GET", "/no/such/thing", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 404 && code_of(&r) == 1);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

static void test_other_routes(void)
{
    server s;
    if (start(&s, "other", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    reply r = call(&s, "GET", "/health", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && !strcmp(json_string_value(json_object_get(r.json, "status")), "ok"));
    json_t *comp = json_object_get(r.json, "components");
    CHECK(json_object_get(comp, "milvus") && json_object_get(comp, "minio") &&
          json_object_get(r.json, "timestamp"));
    /* The seed's keys tell the truth: "disabled" for the embedded parts,
     * "ok" for the backend this run uses (the api-s3 suite: a real S3). */
    const char *blobs = getenv("DINOSEEK_BLOBS");
    int s3 = blobs && strncmp(blobs, "s3://", 5) == 0;
    const char *minio = json_string_value(json_object_get(comp, "minio"));
    CHECKF(minio && strcmp(minio, s3 ? "ok" : "disabled") == 0, "minio: %s", minio);
    const char *kind = json_string_value(json_object_get(json_object_get(r.json, "backends"), "blobs"));
    CHECKF(kind && strcmp(kind, s3 ? "s3" : "dir") == 0, "blobs backend: %s", kind);
    /* The api-milvus suite: rows and vectors in a real Milvus. */
    const char *index = getenv("DINOSEEK_INDEX");
    int on_milvus = index && strcmp(index, "milvus") == 0;
    const char *milvus = json_string_value(json_object_get(comp, "milvus"));
    CHECKF(milvus && strcmp(milvus, on_milvus ? "ok" : "disabled") == 0, "milvus: %s", milvus);
    kind = json_string_value(json_object_get(json_object_get(r.json, "backends"), "index"));
    CHECKF(kind && (on_milvus ? strcmp(kind, "milvus") == 0 : strcmp(kind, "milvus") != 0),
           "index backend: %s", kind);
    reply_free(&r);
    r = call(&s, "GET", "/api/collection/stats", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && json_integer_value(json_object_get(json_object_get(r.json, "data"),
                                                                "images")) == 3);
    reply_free(&r);
    r = call(&s, "GET", "/api/collections", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && json_array_size(json_object_get(json_object_get(r.json, "data"),
                                                             "collections")) == 1);
    reply_free(&r);
    r = call(&s, "GET", "/api/patent/D0701016", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && json_array_size(json_object_get(json_object_get(r.json, "data"),
                                                             "images")) == 1);
    reply_free(&r);
    /* Thumbnails: JPEG with an ETag; If-None-Match gives 304; originals as stored. */
    r = call(&s, "GET", "/api/image/USD0701016-20140318-D00001.TIF", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && r.len > 100 && (unsigned char)r.body[0] == 0xFF &&
          strstr(r.headers, "image/jpeg") && strstr(r.headers, "Cache-Control"));
    const char *etag = strstr(r.headers, "ETag: ");
    char inm[200] = "If-None-Match: ";
    if (etag)
        strncat(inm, etag + 6, strcspn(etag + 6, "\r\n"));
    reply_free(&r);
    r = call(&s, "GET", "/api/image/USD0701016-20140318-D00001.TIF", NULL, NULL, NULL, 0, inm);
    CHECK(r.status == 304);
    reply_free(&r);
    r = call(&s, "GET", "/api/image/parity_photo.jpg?size=full", NULL, NULL, NULL, 0, NULL);
    size_t orig_len = 0;
    char *orig = ds_test_read_file(IMG "parity_photo.jpg", &orig_len);
    CHECK(r.status == 200 && r.len == orig_len && orig && !memcmp(r.body, orig, orig_len));
    free(orig);
    reply_free(&r);
    r = call(&s, "GET", "/metrics", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 200 && strstr(r.body, "dinoseek_http_requests_total") &&
          strstr(r.body, "dinoseek_index_vectors 3"));
    reply_free(&r);
    /* No import roots configured: imports over HTTP are off, and say how. */
    r = call(&s, "POST", "/api/batch/start", NULL, NULL, NULL, 0, NULL);
    CHECK(r.status == 403 && code_of(&r) == 1 && strstr(message_of(&r), "--import-roots"));
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* The OpenAPI document lists every route, and every route it lists answers
 * (anything but 404/405 for the documented method). */
static void test_openapi(void)
{
    server s;
    if (start(&s, "openapi", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    reply doc = call(&s, "GET", "/api/openapi.json", NULL, NULL, NULL, 0, NULL);
    json_t *paths = json_object_get(doc.json, "paths");
    CHECK(doc.status == 200 && json_object_size(paths) >= 10);
    /* The handled errors are in the document, with the error body's shape
     * (it said only "200" for every route). */
    static const char *const errors[][3] = {
        {"/api/images", "post", "400 409 413 415 507"},
        {"/api/batch/start", "post", "400 403 404 409"},
        {"/api/search", "post", "400 413 415"},
        {"/api/image/{file_name}", "get", "404"},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        json_t *responses = json_object_get(
            json_object_get(json_object_get(paths, errors[i][0]), errors[i][1]), "responses");
        char want[32];
        for (const char *p = errors[i][2]; *p; p += p[3] ? 4 : 3) {
            snprintf(want, sizeof want, "%.3s", p);
            const char *to = json_string_value(json_object_get(json_object_get(json_object_get(
                json_object_get(json_object_get(responses, want), "content"), "application/json"),
                "schema"), "$ref"));
            CHECKF(to && !strcmp(to, "#/components/schemas/Error"), "%s %s: no %s", errors[i][1],
                   errors[i][0], want);
        }
    }
    CHECK(json_object_get(json_object_get(json_object_get(doc.json, "components"), "schemas"),
                          "Error"));
    /* The seed's min_score default, and the import's keys (no others). */
    json_t *form = json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(json_object_get(paths, "/api/search"), "post"), "requestBody"),
        "content"), "multipart/form-data"), "schema");
    double dflt = json_number_value(json_object_get(
        json_object_get(json_object_get(form, "properties"), "min_score"), "default"));
    CHECKF(dflt == 0.5, "min_score's default in the document: %g", dflt);
    json_t *body = json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(json_object_get(paths, "/api/batch/start"), "post"), "requestBody"),
        "content"), "application/json"), "schema");
    CHECKF(json_is_false(json_object_get(body, "additionalProperties")) &&
               json_object_size(json_object_get(body, "properties")) == 3,
           "batch/start's body schema: %s", body ? "" : "none");
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op) {
            char url[256], upper[8] = {0};
            snprintf(url, sizeof url, "%s", path);
            char *brace = strchr(url, '{');
            if (brace)
                snprintf(brace, sizeof url - (size_t)(brace - url), "x");
            for (int i = 0; method[i] && i < 7; i++)
                upper[i] = (char)(method[i] & ~0x20);
            reply r = call(&s, upper, url, NULL, NULL, NULL, 0, NULL);
            CHECKF(r.status != 405 && (r.status != 404 || json_object_get(r.json, "code")),
                   "%s %s answered %ld", upper, url, r.status);
            CHECKF(strstr(r.body ? r.body : "", "no such path") == NULL, "%s %s", upper, url);
            reply_free(&r);
        }
    }
    reply_free(&doc);
    CHECK(stop(&s) == 0);
}

/* Searches keep answering, correctly, while images are being added. */
typedef struct race {
    const server *s;
    int ok, failed;
} race;

static void *searcher(void *arg)
{
    race *r = arg;
    for (int i = 0; i < 8; i++) {
        reply x = call(r->s, "POST", "/api/search", search_photo, NULL, NULL, 0, NULL);
        if (x.status == 200 && code_of(&x) == 0)
            r->ok++;
        else
            r->failed++;
        reply_free(&x);
    }
    return NULL;
}

static curl_mime *add_numbered(CURL *c)
{
    static int n;
    char name[64];
    snprintf(name, sizeof name, "copy-%d.png", __atomic_fetch_add(&n, 1, __ATOMIC_SEQ_CST));
    return file_part(c, IMG "quad_gray.png", name);
}

static curl_mime *add_quad_plain(CURL *c) { return file_part(c, IMG "quad.png", "late.png"); }
static curl_mime *add_quad_patent(CURL *c)
{
    curl_mime *m = file_part(c, IMG "quad.png", "late.png");
    field(m, "patent_id", "D0999990");
    field(m, "image_index", "2");
    return m;
}
static curl_mime *search_quad_top1(CURL *c)
{
    curl_mime *m = file_part(c, IMG "quad.png", NULL);
    field(m, "top_k", "1");
    return m;
}

/* An upload naming a patent, of an image stored without one, gives it that
 * patent (as a --metadata rerun does) instead of answering "already there"
 * and dropping the patent_id. (Embedded catalog: Milvus rows are not
 * updated in place.) */
static void test_add_again_with_patent(void)
{
    const char *index = getenv("DINOSEEK_INDEX");
    if (index && strcmp(index, "milvus") == 0)
        SKIP("rows in Milvus are not updated in place");
    server s;
    if (start(&s, "late_patent", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    reply a = call(&s, "POST", "/api/images", add_quad_plain, NULL, NULL, 0, NULL);
    CHECKF(a.status == 200, "%ld %s", a.status, a.body);
    reply_free(&a);
    reply b = call(&s, "POST", "/api/images", add_quad_patent, NULL, NULL, 0, NULL);
    CHECKF(b.status == 200 &&
               !json_is_true(json_object_get(json_object_get(b.json, "data"), "added")),
           "%ld %s", b.status, b.body);
    reply_free(&b);
    reply r = call(&s, "POST", "/api/search", search_quad_top1, NULL, NULL, 0, NULL);
    json_t *hit = json_array_get(json_object_get(json_object_get(r.json, "data"), "results"), 0);
    const char *pid = json_string_value(json_object_get(hit, "patent_id"));
    CHECKF(pid && !strcmp(pid, "D0999990") &&
               json_integer_value(json_object_get(hit, "image_index")) == 2,
           "the stored image lacks the patent sent with it: %s", r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

static curl_mime *add_alpha_first(CURL *c) { return file_part(c, IMG "alpha.png", "first.png"); }
static curl_mime *add_alpha_second(CURL *c) { return file_part(c, IMG "alpha.png", "second.png"); }

/* The same content uploaded under another name is not stored again: the
 * answer names the image it is stored as (whose /api/image/ answers), not
 * the name sent, under which nothing is. (Embedded: on Milvus the name sent
 * is answered.) */
static void test_add_same_content_names_stored(void)
{
    const char *index = getenv("DINOSEEK_INDEX");
    if (index && strcmp(index, "milvus") == 0)
        SKIP("names by id are not kept on Milvus");
    server s;
    if (start(&s, "stored_name", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    reply a = call(&s, "POST", "/api/images", add_alpha_first, NULL, NULL, 0, NULL);
    CHECKF(a.status == 200, "%ld %s", a.status, a.body);
    reply_free(&a);
    reply b = call(&s, "POST", "/api/images", add_alpha_second, NULL, NULL, 0, NULL);
    json_t *data = json_object_get(b.json, "data");
    const char *name = json_string_value(json_object_get(data, "file_name"));
    CHECKF(b.status == 200 && !json_is_true(json_object_get(data, "added")) && name &&
               !strcmp(name, "first.png"),
           "%ld %s", b.status, b.body);
    reply_free(&b);
    reply r = call(&s, "GET", "/api/image/first.png", NULL, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "/api/image/first.png: %ld", r.status);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

static void test_search_while_adding(void)
{
    server s;
    if (start(&s, "race", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    race r = {.s = &s};
    pthread_t t;
    pthread_create(&t, NULL, searcher, &r);
    int added = 0;
    for (int i = 0; i < 6; i++) {
        /* Distinct names but identical content: the first is added, the
         * rest are recognised as already stored. */
        reply x = call(&s, "POST", "/api/images", add_numbered, NULL, NULL, 0, NULL);
        if (x.status == 200)
            added += json_is_true(json_object_get(json_object_get(x.json, "data"), "added"));
        reply_free(&x);
    }
    pthread_join(t, NULL);
    CHECKF(r.ok == 8 && r.failed == 0, "%d ok, %d failed", r.ok, r.failed);
    CHECK(added == 1);
    CHECK(stop(&s) == 0);
    /* Restarted on the same data, the index comes back with every image. */
    server again;
    if (start(&again, "race", NULL) == 0) {
        reply x = call(&again, "GET", "/api/collection/stats", NULL, NULL, NULL, 0, NULL);
        json_t *data = json_object_get(x.json, "data");
        CHECKF(json_integer_value(json_object_get(json_object_get(data, "index"), "count")) == 4,
               "%s", x.body);
        reply_free(&x);
        CHECK(stop(&again) == 0);
    }
}

static curl_mime *add_to_wide(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.jpg", NULL);
    field(m, "collection", "wide");
    return m;
}

static curl_mime *search_wide(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "collection", "wide");
    return m;
}

/* Two collections, each with its own model and dimension (ViT-S 384 and
 * ViT-B 768), in one server. */
static void test_two_models(void)
{
    char base[600], extra[700], cmd[1400];
    snprintf(base, sizeof base, "%s/base-model", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s model generate --arch base --seed 7 %s 2>/dev/null",
             ds_test_bin(), base);
    CHECK(system(cmd) == 0);
    snprintf(extra, sizeof extra, "--collection-model wide=%s", base);
    server s;
    if (start(&s, "two", extra) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    reply r = call(&s, "POST", "/api/images", add_to_wide, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "%s", r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", search_wide, NULL, NULL, 0, NULL);
    json_t *results = json_object_get(json_object_get(r.json, "data"), "results");
    CHECKF(r.status == 200 && json_array_size(results) == 1, "%s", r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", search_photo, NULL, NULL, 0, NULL);
    results = json_object_get(json_object_get(r.json, "data"), "results");
    CHECKF(r.status == 200 && json_array_size(results) == 0, "%s", r.body);
    reply_free(&r);
    r = call(&s, "GET", "/api/collections", NULL, NULL, NULL, 0, NULL);
    json_t *list = json_object_get(json_object_get(r.json, "data"), "collections");
    CHECK(json_array_size(list) == 2);
    int dims = 0;
    for (size_t i = 0; i < json_array_size(list); i++)
        dims += (int)json_integer_value(json_object_get(json_array_get(list, i), "dimension"));
    CHECKF(dims == 384 + 768, "%s", r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* Concurrent searches are batched through the model together: each must
 * still get the answer to its own image. */
static curl_mime *query_photo(CURL *c) { return file_part(c, IMG "parity_photo.png", NULL); }
static curl_mime *query_drawing(CURL *c) { return file_part(c, IMG "drawing_2page.tif", NULL); }
static curl_mime *query_tall(CURL *c) { return file_part(c, IMG "parity_tall.png", NULL); }

typedef struct asker {
    const server *s;
    int which, right, wrong;
} asker;

static void *ask(void *arg)
{
    asker *a = arg;
    static ds_form_fn const forms[3] = {query_photo, query_drawing, query_tall};
    static const char *const want[3] = {"parity_photo.jpg", "USD0701016-20140318-D00001.TIF",
                                        "parity_tall.png"};
    for (int i = 0; i < 6; i++) {
        int k = (a->which + i) % 3;
        reply r = call(a->s, "POST", "/api/search", forms[k], NULL, NULL, 0, NULL);
        json_t *best = json_array_get(json_object_get(json_object_get(r.json, "data"), "results"), 0);
        const char *name = json_string_value(json_object_get(best, "file_name"));
        if (r.status == 200 && name && !strcmp(name, want[k]))
            a->right++;
        else
            a->wrong++;
        reply_free(&r);
    }
    return NULL;
}

static void test_concurrent_searches(void)
{
    server s;
    if (start(&s, "batch", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    asker a[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (asker){.s = &s, .which = i % 3};
        pthread_create(&t[i], NULL, ask, &a[i]);
    }
    int right = 0, wrong = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        right += a[i].right;
        wrong += a[i].wrong;
    }
    CHECKF(right == 36 && wrong == 0, "%d right, %d wrong", right, wrong);
    CHECK(stop(&s) == 0);
}

/* Names whose blob key (originals/<collection>/<name>) is over the 1,024
 * bytes of a key: two that differ only past the limit once got one cut key,
 * the second overwriting the first's original; one whose bad tail (bytes
 * that no key may hold, "..", a header injection) was cut off was stored. */
static const char *g_long_name, *g_long_file;
static curl_mime *add_long_name(CURL *c)
{
    curl_mime *m = file_part(c, g_long_file, NULL);
    field(m, "file_name", g_long_name);
    return m;
}

static void test_long_names(void)
{
    server s;
    if (start(&s, "long-names", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    static char base[1001], names[3][1100];
    for (size_t i = 0; i < 1000; i++) /* segments of 99 'a' between '/' */
        base[i] = i % 100 == 50 ? '/' : 'a';
    snprintf(names[0], sizeof names[0], "%s%s", base, "-first.png");        /* 1,010 bytes */
    snprintf(names[1], sizeof names[1], "%s%s", base, "-second.png");       /* 1,011 bytes */
    snprintf(names[2], sizeof names[2], "%s%s", base, "\xff\x01" "/../../x\r\nSet-Cookie: a=b");
    const char *files[3] = {IMG "quad.png", IMG "parity_photo.jpg", IMG "parity_tall.png"};
    for (int i = 0; i < 3; i++) {
        g_long_name = names[i];
        g_long_file = files[i];
        reply r = call(&s, "POST", "/api/images", add_long_name, NULL, NULL, 0, NULL);
        CHECKF(r.status == 400 && strstr(message_of(&r), "over the limit of 1024"),
               "name %d (%zu bytes): %ld %s", i, strlen(names[i]), r.status, message_of(&r) + strlen(names[i]));
        reply_free(&r);
    }
    /* A bad byte in a name that fits is named as such. */
    g_long_name = "ok/\x01" "bad.png";
    g_long_file = IMG "drawing_g4.tif";
    reply r = call(&s, "POST", "/api/images", add_long_name, NULL, NULL, 0, NULL);
    CHECKF(r.status == 400 && strstr(message_of(&r), "non-printable byte 0x01"), "%ld %s",
           r.status, r.body);
    reply_free(&r);
    /* Nothing was stored. */
    r = call(&s, "GET", "/api/collection/stats", NULL, NULL, NULL, 0, NULL);
    CHECKF(json_integer_value(json_object_get(json_object_get(r.json, "data"), "images")) == 0,
           "%s", r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* Twenty drawings of one patent that all look alike (the same photo at
 * twenty sizes: distinct bytes, nearly one vector) and one other patent's
 * drawing. Forms take no argument: the next variant comes from a counter. */
#define ALIKE 20
static struct {
    void *jpeg[ALIKE];
    size_t len[ALIKE];
    int next;
} alike;

static int make_alike(void)
{
    alike.next = 0; /* the suite runs again on each backend (api-s3, api-milvus) */
    size_t n = 0;
    char *photo = ds_read_file(IMG "parity_photo.jpg", &n);
    ds_err err = {0};
    int ok = photo && img_init(NULL, &err) == 0;
    for (int i = 0; ok && i < ALIKE; i++)
        ok = img_thumbnail_buffer(photo, n, 200 + 7 * i, 90, &alike.jpeg[i], &alike.len[i],
                                  &err) == 0;
    free(photo);
    return ok ? 0 : -1;
}

static curl_mime *add_alike(CURL *c)
{
    int i = alike.next++;
    char name[32];
    snprintf(name, sizeof name, "alike-%02d.jpg", i);
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_data(p, alike.jpeg[i], alike.len[i]);
    curl_mime_filename(p, name);
    field(m, "patent_id", "D0000001");
    return m;
}

static curl_mime *add_other_patent(CURL *c)
{
    curl_mime *m = file_part(c, IMG "drawing_g4.tif", "USD0000002-20140318-D00001.TIF");
    field(m, "patent_id", "D0000002");
    return m;
}

/* The results of POST path (ids and scores) into ids[]/scores[] (up to
 * n); how many. */
static size_t hits_of(const server *s, const char *path, json_int_t *ids, double *scores,
                      size_t n)
{
    reply r = call(s, "POST", path, NULL, NULL, NULL, 0, NULL);
    json_t *results = ds_reply_results(&r);
    size_t m = json_array_size(results) < n ? json_array_size(results) : n;
    CHECKF(r.status == 200, "%s: %ld %.200s", path, r.status, r.body);
    for (size_t i = 0; i < m; i++) {
        ids[i] = json_integer_value(json_object_get(json_array_get(results, i), "id"));
        scores[i] = json_real_value(json_object_get(json_array_get(results, i), "score"));
    }
    reply_free(&r);
    return m;
}

/* Images over two views: each page is a slice of one fused ranking, and an
 * image's fused score is its best over the views' own scores. */
static void check_fused_pages(const server *s)
{
    enum { ALL = ALIKE + 1 };
    const char *both = "/api/search?image=alike-03.jpg&image=USD0000002-20140318-D00001.TIF"
                       "&min_score=-1";
    json_int_t ids[ALL], page_ids[ALL], view_ids[2][ALL];
    double scores[ALL], page_scores[ALL], view_scores[2][ALL];
    char path[256];
    snprintf(path, sizeof path, "%s&top_k=%d", both, ALL);
    CHECK(hits_of(s, path, ids, scores, ALL) == ALL);
    for (int offset = 0; offset < ALL; offset += 5) {
        snprintf(path, sizeof path, "%s&top_k=5&offset=%d", both, offset);
        size_t got = hits_of(s, path, page_ids, page_scores, ALL);
        size_t want = ALL - offset < 5 ? (size_t)(ALL - offset) : 5;
        CHECKF(got == want, "offset %d: %zu results", offset, got);
        for (size_t i = 0; i < got && i < want; i++)
            CHECKF(page_ids[i] == ids[offset + i] && page_scores[i] == scores[offset + i],
                   "offset %d, result %zu: id %lld, want %lld", offset, i,
                   (long long)page_ids[i], (long long)ids[offset + i]);
    }
    static const char *const views[2] = {"alike-03.jpg", "USD0000002-20140318-D00001.TIF"};
    for (int v = 0; v < 2; v++) {
        snprintf(path, sizeof path, "/api/search?image=%s&min_score=-1&top_k=%d", views[v], ALL);
        CHECK(hits_of(s, path, view_ids[v], view_scores[v], ALL) == ALL);
    }
    for (int i = 0; i < ALL; i++) {
        double best = -2;
        for (int v = 0; v < 2; v++)
            for (int j = 0; j < ALL; j++)
                if (view_ids[v][j] == ids[i] && view_scores[v][j] > best)
                    best = view_scores[v][j];
        CHECKF(fabs(best - scores[i]) < 1e-5, "image %lld: fused %f, best view %f",
               (long long)ids[i], scores[i], best);
    }
}

/* A grouped search over several views returns top_k patents whenever the
 * collection holds them, however many of one patent's drawings come first. */
static void test_grouped_views_fill_top_k(void)
{
    server s;
    if (make_alike() != 0 || start(&s, "alike", NULL) != 0) {
        CHECKF(0, "no variants, or the server did not start");
        return;
    }
    for (int i = 0; i <= ALIKE; i++) {
        reply r = call(&s, "POST", "/api/images", i < ALIKE ? add_alike : add_other_patent, NULL,
                       NULL, 0, NULL);
        CHECKF(r.status == 200 && json_is_true(json_object_get(ds_reply_data(&r), "added")),
               "image %d: %ld %s", i, r.status, r.body);
        reply_free(&r);
    }
    const char *views = "/api/search?image=alike-00.jpg&image=alike-01.jpg&group_by_patent=true"
                        "&min_score=-1";
    const struct {
        const char *page;
        const char *want[2];
    } pages[] = {
        {"&top_k=2", {"D0000001", "D0000002"}},
        {"&top_k=1&offset=1", {"D0000002", NULL}},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s%s", views, pages[i].page);
        reply r = call(&s, "POST", path, NULL, NULL, NULL, 0, NULL);
        json_t *results = ds_reply_results(&r);
        size_t want = pages[i].want[1] ? 2 : 1;
        CHECKF(r.status == 200 && json_array_size(results) == want, "%s: %.300s", path, r.body);
        for (size_t j = 0; j < want && j < json_array_size(results); j++) {
            const char *pid = json_string_value(
                json_object_get(json_array_get(results, j), "patent_id"));
            CHECKF(pid && !strcmp(pid, pages[i].want[j]), "%s: result %zu is %s", path, j, pid);
        }
        reply_free(&r);
    }
    check_fused_pages(&s);
    for (int i = 0; i < ALIKE; i++)
        free(alike.jpeg[i]);
    CHECK(stop(&s) == 0);
}

/* Forty drawings of twenty patents, two each, from ten pictures at four
 * sizes, mixed so that each patent has two different pictures (a picture
 * smaller than a size is the same at both: stored once, the patent keeps
 * one drawing). */
enum { MIXED = 40 };
static struct {
    void *jpeg[MIXED];
    size_t len[MIXED];
    int next;
} mixed;

static int make_mixed(void)
{
    static const char *const pictures[10] = {
        "parity_photo.jpg", "parity_tall.png", "drawing_g4.tif", "quad.png", "parity_small.png",
        "tall_ok.png", "alpha.png", "exif_rot6.jpg", "quad_gray.png", "drawing_2page.tif"};
    mixed.next = 0; /* the suite runs again on each backend (api-s3, api-milvus) */
    ds_err err = {0};
    int ok = img_init(NULL, &err) == 0;
    for (int i = 0; ok && i < MIXED; i++) {
        char path[256];
        size_t n = 0;
        snprintf(path, sizeof path, IMG "%s", pictures[i * 3 % 10]);
        char *picture = ds_read_file(path, &n);
        ok = picture && img_thumbnail_buffer(picture, n, 120 + 40 * (i / 10), 90, &mixed.jpeg[i],
                                             &mixed.len[i], &err) == 0;
        CHECKF(ok, "%s: %s", path, err.msg);
        free(picture);
    }
    return ok ? 0 : -1;
}

static curl_mime *add_mixed(CURL *c)
{
    int i = mixed.next++;
    char name[32], patent[32];
    snprintf(name, sizeof name, "mixed-%02d.jpg", i);
    snprintf(patent, sizeof patent, "D10000%02d", i / 2);
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_data(p, mixed.jpeg[i], mixed.len[i]);
    curl_mime_filename(p, name);
    field(m, "patent_id", patent);
    return m;
}

/* Each patent's fused score from single-view searches of every image:
 * the mean over the views of the view's best drawing of the patent. */
static void brute_patent_scores(const server *s, const char *const *views, int n_views,
                                double fused[MIXED / 2])
{
    for (int p = 0; p < MIXED / 2; p++)
        fused[p] = 0;
    for (int v = 0; v < n_views; v++) {
        double best[MIXED / 2];
        for (int p = 0; p < MIXED / 2; p++)
            best[p] = -2;
        char path[256];
        snprintf(path, sizeof path, "/api/search?image=%s&min_score=-1&top_k=%d", views[v],
                 MIXED);
        reply r = call(s, "POST", path, NULL, NULL, NULL, 0, NULL);
        size_t i;
        json_t *hit;
        json_array_foreach(ds_reply_results(&r), i, hit) {
            const char *pid = json_string_value(json_object_get(hit, "patent_id"));
            int p = pid ? atoi(pid + 5) : -1;
            double score = json_real_value(json_object_get(hit, "score"));
            if (p >= 0 && p < MIXED / 2 && score > best[p])
                best[p] = score;
        }
        /* Small pictures come out the same at every size: stored once. */
        CHECKF(json_array_size(ds_reply_results(&r)) >= MIXED / 2, "%s: %.200s", path, r.body);
        reply_free(&r);
        for (int p = 0; p < MIXED / 2; p++)
            fused[p] += best[p] / n_views;
    }
}

/* A grouped search over views scores only the patents that can make the
 * page: what it answers is still the true top k, each patent's score the
 * mean over the views of its best drawing. */
static void test_grouped_views_exact(void)
{
    server s;
    if (make_mixed() != 0 || start(&s, "mixed", NULL) != 0) {
        CHECKF(0, "no pictures, or the server did not start");
        return;
    }
    for (int i = 0; i < MIXED; i++) {
        reply r = call(&s, "POST", "/api/images", add_mixed, NULL, NULL, 0, "X-API-Key: k");
        CHECKF(r.status == 200, "image %d: %ld %s", i, r.status, r.body);
        reply_free(&r);
    }
    static const char *const view_sets[][3] = {{"mixed-00.jpg", "mixed-01.jpg", NULL},
                                               {"mixed-05.jpg", "mixed-12.jpg", "mixed-33.jpg"}};
    for (size_t set = 0; set < 2; set++) {
        int n_views = view_sets[set][2] ? 3 : 2;
        double fused[MIXED / 2], sorted[MIXED / 2];
        brute_patent_scores(&s, view_sets[set], n_views, fused);
        memcpy(sorted, fused, sizeof sorted);
        for (int i = 0; i < MIXED / 2; i++) /* best first */
            for (int j = i + 1; j < MIXED / 2; j++)
                if (sorted[j] > sorted[i]) {
                    double t = sorted[i];
                    sorted[i] = sorted[j];
                    sorted[j] = t;
                }
        for (int k = 1; k <= 7; k += 3) {
            char path[256];
            int at = snprintf(path, sizeof path, "/api/search?group_by_patent=true&min_score=-1"
                                                 "&top_k=%d", k);
            for (int v = 0; v < n_views; v++)
                at += snprintf(path + at, sizeof path - (size_t)at, "&image=%s",
                               view_sets[set][v]);
            reply r = call(&s, "POST", path, NULL, NULL, NULL, 0, NULL);
            json_t *results = ds_reply_results(&r);
            CHECKF(r.status == 200 && json_array_size(results) == (size_t)k, "%s: %.200s", path,
                   r.body);
            for (int i = 0; i < k && i < (int)json_array_size(results); i++) {
                json_t *g = json_array_get(results, (size_t)i);
                const char *pid = json_string_value(json_object_get(g, "patent_id"));
                int p = pid ? atoi(pid + 5) : 0;
                double score = json_real_value(json_object_get(g, "score"));
                CHECKF(fabs(score - fused[p]) < 1e-4 && fabs(score - sorted[i]) < 1e-4,
                       "%s: #%d is %s at %f; its fused score %f, the #%d best %f", path, i, pid,
                       score, fused[p], i, sorted[i]);
            }
            reply_free(&r);
        }
    }
    for (int i = 0; i < MIXED; i++)
        free(mixed.jpeg[i]);
    CHECK(stop(&s) == 0);
}

/* A crop of a view that is not there (crop_1 with one view, crop_01, crop_x)
 * is a 400 naming it: it was ignored, and the whole image searched as if
 * cropped. crop_0 of the one view still crops. */
static const char *crop_name;
static curl_mime *search_crop(CURL *c)
{
    curl_mime *m = file_part(c, IMG "quad.png", NULL);
    field(m, crop_name, "0,0,0.5,0.5");
    return m;
}

static void test_crop_of_missing_view(void)
{
    server s;
    if (start(&s, "crops", NULL) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    static const char *const bad[] = {"crop_1", "crop_7", "crop_01", "crop_x", "crop_-0",
                                      "crop_"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crop_name = bad[i];
        reply r = call(&s, "POST", "/api/search", search_crop, NULL, NULL, 0, NULL);
        CHECKF(r.status == 400 && code_of(&r) == 1 && strstr(message_of(&r), bad[i]),
               "%s: %ld %s", bad[i], r.status, r.body);
        reply_free(&r);
    }
    char path[64];
    snprintf(path, sizeof path, "/api/search?crop_3=0,0,1,1");
    crop_name = "crop_0";
    reply r = call(&s, "POST", path, search_crop, NULL, NULL, 0, NULL);
    CHECKF(r.status == 400 && strstr(message_of(&r), "crop_3"), "query crop_3: %ld %s", r.status,
           r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", search_crop, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "crop_0: %ld %s", r.status, r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* Results of a collection other than the default carry URLs that name it:
 * GET /api/image/ looks a bare name up in the default collection, so a
 * result of "other" pointed at the default's image of the same name
 * (another drawing). Both collections here hold "same.png", different. */
static curl_mime *same_in_default(CURL *c)
{
    curl_mime *m = file_part(c, IMG "quad.png", "same.png");
    field(m, "patent_id", "D0000077");
    return m;
}

static curl_mime *same_in_other(CURL *c)
{
    curl_mime *m = file_part(c, IMG "palette_trns.png", "same.png");
    field(m, "patent_id", "D0000077");
    field(m, "collection", "other");
    return m;
}

static curl_mime *search_other(CURL *c)
{
    curl_mime *m = file_part(c, IMG "palette_trns.png", NULL);
    field(m, "collection", "other");
    field(m, "top_k", "1");
    return m;
}

static curl_mime *search_other_grouped(CURL *c)
{
    curl_mime *m = search_other(c);
    field(m, "group_by_patent", "true");
    return m;
}

static void test_urls_name_their_collection(void)
{
    char other[600], extra[700], cmd[1400];
    snprintf(other, sizeof other, "%s/other-model", ds_test_tmpdir);
    snprintf(cmd, sizeof cmd, "%s model generate --arch small --seed 9 %s 2>/dev/null",
             ds_test_bin(), other);
    CHECK(system(cmd) == 0);
    snprintf(extra, sizeof extra, "--collection-model other=%s", other);
    server s;
    if (start(&s, "urls", extra) != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    reply r = call(&s, "POST", "/api/images", same_in_default, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "%s", r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/images", same_in_other, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "%s", r.body);
    reply_free(&r);
    size_t want_len = 0;
    char *want = ds_read_file(IMG "palette_trns.png", &want_len);
    ds_form_fn forms[2] = {search_other, search_other_grouped};
    for (int g = 0; g < 2; g++) {
        r = call(&s, "POST", "/api/search", forms[g], NULL, NULL, 0, NULL);
        json_t *hit = json_array_get(ds_reply_results(&r), 0);
        if (g)
            hit = json_array_get(json_object_get(hit, "images"), 0);
        const char *full = json_string_value(json_object_get(hit, "image_url"));
        const char *thumb = json_string_value(json_object_get(hit, "thumbnail_url"));
        CHECKF(full && thumb && strstr(full, "collection=other") && strstr(thumb, "?collection=other"),
               "grouped %d: %s", g, r.body);
        if (full) {
            reply img = call(&s, "GET", full, NULL, NULL, NULL, 0, NULL);
            CHECKF(img.status == 200 && want && img.len == want_len &&
                       memcmp(img.body, want, want_len) == 0,
                   "grouped %d: %s gave %ld, %zu bytes (want %zu)", g, full, img.status, img.len,
                   want_len);
            reply_free(&img);
        }
        reply_free(&r);
    }
    r = call(&s, "GET", "/api/patent/D0000077?collection=other", NULL, NULL, NULL, 0, NULL);
    const char *url = json_string_value(json_object_get(
        json_array_get(json_object_get(ds_reply_data(&r), "images"), 0), "image_url"));
    CHECKF(url && strstr(url, "collection=other"), "%s", r.body);
    reply_free(&r);
    free(want);
    CHECK(stop(&s) == 0);
}

/* ---- issue #17: the seed's contract ------------------------------------------ */

/* The scores of a search's results (at most 16) into out; their number. */
static size_t scores_of(const reply *r, double out[16])
{
    json_t *results = json_object_get(ds_reply_data(r), "results");
    size_t n = json_array_size(results) < 16 ? json_array_size(results) : 16;
    for (size_t i = 0; i < n; i++)
        out[i] = json_real_value(json_object_get(json_array_get(results, i), "score"));
    return n;
}

/* The seed's form: a file and top_k (and min_score -1: every hit). */
static curl_mime *search_photo_top3(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "top_k", "3");
    return m;
}
static curl_mime *search_photo_top3_all(CURL *c)
{
    curl_mime *m = search_photo_top3(c);
    field(m, "min_score", "-1");
    return m;
}

/* A form without min_score drops the hits under 0.5, as the seed's route
 * did (ours kept every hit down to -1: a seed client omitting it got ten
 * weak hits); a min_score sent is used as sent. */
static void test_min_score_seed_default(void)
{
    server s;
    if (start(&s, "minscore", "--api-key k") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    double all[16] = {0}, dflt[16] = {0};
    reply r = call(&s, "POST", "/api/search", search_photo_top3_all, NULL, NULL, 0, NULL);
    size_t n_all = scores_of(&r, all);
    CHECKF(r.status == 200 && n_all == 3, "min_score -1: %ld %s", r.status, r.body);
    reply_free(&r);
    size_t weak = 0;
    for (size_t i = 0; i < n_all; i++)
        weak += all[i] < 0.5;
    /* The fixture must hold a weak hit, or this test could not fail. */
    CHECKF(weak > 0, "no hit under 0.5: %.3f %.3f %.3f", all[0], all[1], all[2]);
    r = call(&s, "POST", "/api/search", search_photo_top3, NULL, NULL, 0, NULL);
    size_t n_dflt = scores_of(&r, dflt);
    CHECKF(r.status == 200 && n_dflt == n_all - weak, "no min_score: %zu results, want %zu: %s",
           n_dflt, n_all - weak, r.body);
    for (size_t i = 0; i < n_dflt; i++)
        CHECKF(dflt[i] >= 0.5, "no min_score: a hit at %.3f", dflt[i]);
    reply_free(&r);
    /* The same in the query string (a search by a stored image). */
    r = call(&s, "POST", "/api/search?image=parity_photo.jpg&top_k=3", NULL, NULL, NULL, 0, NULL);
    n_dflt = scores_of(&r, dflt);
    for (size_t i = 0; i < n_dflt; i++)
        CHECKF(dflt[i] >= 0.5, "by a stored image, no min_score: a hit at %.3f", dflt[i]);
    reply_free(&r);
    r = call(&s, "POST", "/api/search?image=parity_photo.jpg&top_k=3&min_score=0", NULL, NULL,
             NULL, 0, NULL);
    CHECKF(r.status == 200 && json_array_size(json_object_get(ds_reply_data(&r), "results")) >=
                                  n_dflt, "min_score=0: %s", r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* The seed's form with every setting field present but empty, as an HTML
 * form or a client that sends each field it knows sends them. */
static curl_mime *search_photo_empty_settings(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.png", NULL);
    field(m, "top_k", "");
    field(m, "min_score", "");
    field(m, "group_by_patent", "");
    field(m, "offset", "");
    field(m, "format", "");
    return m;
}

/* The seed's FastAPI form took an empty field as absent (its default):
 * min_score "" was 0.5, top_k "" 10. Ours answered 400 "min_score must be
 * a number" (and the same for top_k, group_by_patent, offset, format),
 * while the filters already took "" as no filter. */
static void test_empty_settings_are_defaults(void)
{
    server s;
    if (start(&s, "emptyset", "--api-key k") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    double want[16] = {0}, got[16] = {0};
    reply r = call(&s, "POST", "/api/search", search_photo_top3, NULL, NULL, 0, NULL);
    size_t n_want = scores_of(&r, want);
    CHECKF(r.status == 200, "no min_score: %ld %s", r.status, r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search", search_photo_empty_settings, NULL, NULL, 0, NULL);
    size_t n_got = scores_of(&r, got);
    CHECKF(r.status == 200 && n_got == n_want, "empty settings: %ld, %zu results (want %zu): %s",
           r.status, n_got, n_want, r.body);
    for (size_t i = 0; i < n_got; i++)
        CHECKF(got[i] >= 0.5, "min_score \"\": a hit at %.3f, under the default 0.5", got[i]);
    reply_free(&r);
    /* The same in the query string (a search by a stored image). */
    r = call(&s, "POST", "/api/search?image=parity_photo.jpg&top_k=&min_score=&group_by_patent="
             "&offset=&format=", NULL, NULL, NULL, 0, NULL);
    n_got = scores_of(&r, got);
    CHECKF(r.status == 200, "empty settings in the query: %ld %s", r.status, r.body);
    for (size_t i = 0; i < n_got; i++)
        CHECKF(got[i] >= 0.5, "query min_score=: a hit at %.3f", got[i]);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* group_by_patent as the seed's form (pydantic) read a bool: an HTML
 * checkbox sends "on"; "off", "t", "f", "y", "n" too. Ours took only
 * true/false, 1/0, yes/no, and answered 400 to the others. */
static void test_group_by_patent_words(void)
{
    server s;
    if (start(&s, "boolwords", "--api-key k") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s);
    static const struct {
        const char *word;
        int grouped;
    } words[] = {{"on", 1}, {"ON", 1}, {"t", 1}, {"y", 1}, {"off", 0}, {"f", 0}, {"n", 0}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        char path[160];
        snprintf(path, sizeof path, "/api/search?image=parity_photo.jpg&min_score=-1"
                 "&group_by_patent=%s", words[i].word);
        reply r = call(&s, "POST", path, NULL, NULL, NULL, 0, NULL);
        json_t *g = json_object_get(ds_reply_data(&r), "group_by_patent");
        CHECKF(r.status == 200 && json_is_boolean(g) && json_is_true(g) == words[i].grouped,
               "group_by_patent=%s: %ld %s", words[i].word, r.status, r.body);
        reply_free(&r);
    }
    CHECK(stop(&s) == 0);
}

/* An upload whose patent_id is "", what a result with no patent says. */
static curl_mime *add_photo_empty_patent(CURL *c)
{
    curl_mime *m = file_part(c, IMG "parity_photo.jpg", NULL);
    field(m, "patent_id", "");
    return m;
}

/* patent_id "" is how a result says "no patent"; sent back in an upload
 * (a client copying a result's keys, the seed's rows of plain images) it
 * was 400 "a patent needs a patent_id". It is no patent, as no field. */
static void test_upload_empty_patent_id(void)
{
    server s;
    if (start(&s, "emptypid", "--api-key k") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    reply r = call(&s, "POST", "/api/images", add_photo_empty_patent, NULL, NULL, 0,
                   "X-API-Key: k");
    CHECKF(r.status == 200, "upload with patent_id \"\": %ld %s", r.status, r.body);
    reply_free(&r);
    r = call(&s, "POST", "/api/search?image=parity_photo.jpg&top_k=1&min_score=-1", NULL, NULL,
             NULL, 0, NULL);
    json_t *hit = json_array_get(json_object_get(ds_reply_data(&r), "results"), 0);
    const char *pid = json_string_value(json_object_get(hit, "patent_id"));
    CHECKF(pid && !*pid && json_is_null(json_object_get(hit, "title")),
           "the image uploaded with patent_id \"\": %s", r.body);
    reply_free(&r);
    CHECK(stop(&s) == 0);
}

/* Every key docs/api.md lists, on every result: an image with no patent
 * (a plain upload) had patent_id null and none of the patent's keys. Now
 * patent_id is a string ("" for none: the seed's VARCHAR, and what Milvus
 * stores) and the patent's keys are there, null. Flat and grouped, on each
 * backend this suite runs on. */
static void test_results_every_key(void)
{
    static const char *const image_keys[] = {"id", "score", "file_name", "page_num",
                                             "file_path", "image_index", "image_url",
                                             "thumbnail_url"};
    static const char *const patent_keys[] = {
        "title", "loc_class", "loc_edition", "pub_date", "pub_date_iso", "filing_date",
        "filing_date_iso", "grant_term", "applicant_name", "applicant_country",
        "inventor_names", "assignee_name", "claim_text", "image_count"};
    server s;
    if (start(&s, "everykey", "--api-key k") != 0) {
        CHECKF(0, "server did not start");
        return;
    }
    add_samples(&s); /* one drawing of D0701016, two plain images */
    for (int grouped = 0; grouped < 2; grouped++) {
        char path[200];
        snprintf(path, sizeof path, "/api/search?image=parity_photo.jpg&top_k=3&min_score=-1%s",
                 grouped ? "&group_by_patent=true" : "");
        reply r = call(&s, "POST", path, NULL, NULL, NULL, 0, NULL);
        json_t *results = json_object_get(ds_reply_data(&r), "results");
        CHECKF(r.status == 200 && json_array_size(results) == 3, "%s: %s", path, r.body);
        size_t i, plain = 0;
        json_t *hit;
        json_array_foreach(results, i, hit) {
            const char *pid = json_string_value(json_object_get(hit, "patent_id"));
            CHECKF(pid != NULL, "%s: result %zu: patent_id is not a string: %s", path, i, r.body);
            int none = pid && !*pid;
            plain += none;
            CHECKF(none || (pid && !strcmp(pid, "D0701016")), "%s: patent_id %s", path, pid);
            for (size_t k = 0; k < sizeof patent_keys / sizeof *patent_keys; k++) {
                json_t *v = json_object_get(hit, patent_keys[k]);
                CHECKF(v != NULL, "%s: result %zu (patent \"%s\") lacks %s", path, i,
                       pid ? pid : "?", patent_keys[k]);
                CHECKF(!none || json_is_null(v), "%s: result %zu with no patent: %s is not null",
                       path, i, patent_keys[k]);
            }
            json_t *images = grouped ? json_object_get(hit, "images") : NULL;
            CHECKF(!grouped || json_array_size(images) >= 1, "%s: group %zu without images",
                   path, i);
            json_t *img = grouped ? json_array_get(images, 0) : hit;
            for (size_t k = 0; img && k < sizeof image_keys / sizeof *image_keys; k++)
                CHECKF(json_object_get(img, image_keys[k]) != NULL, "%s: result %zu lacks %s",
                       path, i, image_keys[k]);
        }
        CHECKF(plain == 2, "%s: %zu results with patent_id \"\", want 2: %s", path, plain,
               r.body);
        reply_free(&r);
    }
    CHECK(stop(&s) == 0);
}

const ds_test api_tests[] = {
    {"an image uploaded again with a patent_id gets it", test_add_again_with_patent},
    {"the same content under another name: the stored name answered", test_add_same_content_names_stored},
    {"concurrent searches, batched, each gets its own answer", test_concurrent_searches},
    {"two collections, each with its own model and dimension", test_two_models},
    {"image URLs of another collection's results name it", test_urls_name_their_collection},
    {"search: seed shapes, grouping, filters, min_score", test_search_routes},
    {"every error: 400, 401, 404, 405, 413, 415, multipart abuse", test_errors},
    {"a crop of a view that is not there: 400 naming it", test_crop_of_missing_view},
    {"health, stats, collections, patent, images + ETag, metrics", test_other_routes},
    {"every route in the OpenAPI document answers", test_openapi},
    {"searches while images are added; restart keeps the index", test_search_while_adding},
    {"a file name whose full blob key is too long: 400, nothing stored", test_long_names},
    {"grouped search over views: top_k patents, however alike one's drawings; image pages agree",
     test_grouped_views_fill_top_k},
    {"grouped search over views: the true top k, scored where they can make it",
     test_grouped_views_exact},
    {"no min_score: the seed's default 0.5; one sent is used as sent",
     test_min_score_seed_default},
    {"an empty top_k, min_score, group_by_patent, offset or format is its default, as the "
     "seed's form", test_empty_settings_are_defaults},
    {"an upload with patent_id \"\" (a result's \"no patent\") is an image with no patent",
     test_upload_empty_patent_id},
    {"group_by_patent takes the seed's words for a bool: on/off (a checkbox), t/f, y/n",
     test_group_by_patent_words},
    {"every result has every documented key; patent_id \"\" for none, patent keys null",
     test_results_every_key},
    {0},
};
