/* api.c - the route table and its handlers (see api.h).
 *
 * Every handler: parse and check the parameters (400 naming the parameter),
 * call the engine, answer in the seed's envelope. Engine errors map to HTTP
 * statuses in one place (status_of).
 */
#include "http/api.h"
#include "engine/fusion.h"
#include "http/imports.h"
#include "http/ui.h"
#include "http/export.h"
#include "http/locarno.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MB (1024 * 1024)

/* The HTTP status for an engine error. */
static int status_of(const ds_err *err)
{
    switch (err->code) {
    case DS_EINVAL: return 400;
    case DS_ENOTFOUND: return 404;
    case DS_ETOOBIG: return 413;
    case DS_EMEDIA: return 415;
    case DS_ENET: return 503; /* a backend (Milvus, S3) is down or not answering */
    case DS_ENOSPACE: return 507; /* Insufficient Storage: the data directory is full */
    case DS_EEXIST: return 409; /* a file name already stored with other content */
    case DS_EUNSUPPORTED: return 501; /* the collection's store cannot do this (engine/store.h) */
    default: return 500; /* a corrupt catalog (DS_EFORMAT) is the server's problem */
    }
}

/* A parameter from the multipart form (text fields) or else the query. */
typedef struct params {
    const http_form *form;
    const http_params *query;
    char *copies[32]; /* NUL-terminated copies of form fields; freed by params_free */
    int used;
    int bad;          /* a field could not be read (NUL inside, too many) */
} params;

static const char *param(params *p, const char *name)
{
    const http_part *part = p->form ? http_form_get(p->form, name) : NULL;
    if (!part || part->filename)
        return http_params_get(p->query, name);
    if (p->used == 32 || memchr(part->data, '\0', part->len) ||
        !(p->copies[p->used] = strndup((const char *)part->data, part->len))) {
        p->bad = 1;
        return NULL;
    }
    return p->copies[p->used++];
}

/* A field whose empty value means absent (the search's top_k, min_score,
 * ...; an upload's patent_id): NULL when absent or empty. The seed's FastAPI form took an empty field as absent, so a
 * client that sends every field it knows, some left blank, got the
 * defaults (min_score 0.5), not a 400. */
static const char *setting(params *p, const char *name)
{
    const char *v = param(p, name);
    return v && *v ? v : NULL;
}

static void params_free(params *p)
{
    for (int i = 0; i < p->used; i++)
        free(p->copies[i]);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* The words the seed's form (pydantic) took for a bool, any case: an HTML
 * checkbox sends "on". */
static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "t", "y"},
                             *const no[] = {"false", "0", "no", "off", "f", "n"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
            *out = !strcasecmp(s, yes[i]);
            return 0;
        }
    return -1;
}

/* ISO date yyyy-mm-dd, or the seed's YYYYMMDD (rewritten into iso). */
static int parse_date(const char *s, char iso[11])
{
    int y, m, d;
    char tail;
    if (strlen(s) == 8 && sscanf(s, "%4d%2d%2d%c", &y, &m, &d, &tail) == 3) {
    } else if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10) {
        return -1;
    }
    if (y < 1790 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    snprintf(iso, 11, "%04d-%02d-%02d", y, m, d);
    return 0;
}

typedef struct search_args {
    eng_query q;
    char dates[4][11];
    char *ids_copy;
    const char *ids[1000];
} search_args;

/* Read the filters into a->q.filter; 0, or -1 with the message in err. */
static int parse_filters(params *p, search_args *a, ds_err *err)
{
    cat_filter *f = &a->q.filter;
    f->loc_class = param(p, "loc_class");
    /* The embedded catalog matched any other text against nothing (200,
     * no results: "6" for class 06 looked like an empty class) while
     * Milvus refused it; both backends answer this 400 now. */
    if (f->loc_class && *f->loc_class && !ds_loc_class_valid(f->loc_class))
        return ds_fail(err, DS_EINVAL, "loc_class must be a Locarno class, \"12\" or \"12-08\"");
    f->applicant = param(p, "applicant");
    f->assignee = param(p, "assignee");
    f->inventor = param(p, "inventor");
    f->applicant_country = param(p, "applicant_country");
    static const char *const date_names[4] = {"pub_date_from", "pub_date_to", "filing_date_from",
                                              "filing_date_to"};
    const char **date_dst[4] = {&f->pub_date_from, &f->pub_date_to, &f->filing_date_from,
                                &f->filing_date_to};
    for (int i = 0; i < 4; i++) {
        const char *v = param(p, date_names[i]);
        if (!v || !*v)
            continue;
        if (parse_date(v, a->dates[i]) != 0)
            return ds_fail(err, DS_EINVAL, "%s must be a date, yyyy-mm-dd or YYYYMMDD", date_names[i]);
        *date_dst[i] = a->dates[i];
    }
    const char *ids = param(p, "patent_ids");
    if (ids && *ids) {
        if (!(a->ids_copy = strdup(ids)))
            return ds_fail(err, DS_ENOMEM, "out of memory");
        for (char *save = NULL, *t = strtok_r(a->ids_copy, ", ", &save); t;
             t = strtok_r(NULL, ", ", &save)) {
            if (f->n_patent_ids == 1000)
                return ds_fail(err, DS_EINVAL, "patent_ids: at most 1000");
            a->ids[f->n_patent_ids++] = t;
        }
        f->patent_ids = a->ids;
    }
    return 0;
}

/* The seed's POST /api/search dropped hits under 0.5 when the form named no
 * min_score; its clients omit the field and expect that, not every weak
 * hit down to -1. A min_score sent is used as sent. */
#define SEED_MIN_SCORE 0.5

/* Search by words: q, and how a hybrid search fuses its two legs. */
static int parse_words(params *p, search_args *a, ds_err *err)
{
    const char *v;
    long n;
    double alpha;
    a->q.text = param(p, "q");
    if ((v = setting(p, "fusion"))) {
        fuse_method m;
        if (fuse_method_parse(v, &m) != 0 || m == FUSE_SCORE)
            return ds_fail(err, DS_EINVAL, "fusion must be rrf or weighted (got \"%.40s\")", v);
        a->q.fusion = (int)m;
    }
    if ((v = setting(p, "rrf_k"))) {
        if (parse_int(v, 1, ENG_MAX_GROUPED, &n) != 0)
            return ds_fail(err, DS_EINVAL, "rrf_k must be an integer from 1 to %d (got \"%.40s\")",
                           ENG_MAX_GROUPED, v);
        a->q.rrf_k = (int)n;
    }
    if ((v = setting(p, "window"))) {
        if (parse_int(v, 1, ENG_MAX_GROUPED, &n) != 0)
            return ds_fail(err, DS_EINVAL, "window must be an integer from 1 to %d (got \"%.40s\")",
                           ENG_MAX_GROUPED, v);
        a->q.window = (int)n;
    }
    if ((v = setting(p, "alpha"))) {
        if (parse_float(v, 0.0, 1.0, &alpha) != 0)
            return ds_fail(err, DS_EINVAL, "alpha must be a number from 0 to 1 (got \"%.40s\")", v);
        a->q.alpha = (float)alpha;
        a->q.alpha_set = 1;
        /* alpha weighs the legs: it asks for the weighted fusion, and
         * means nothing to RRF, which is refused rather than ignored. */
        if (setting(p, "fusion") && a->q.fusion != FUSE_WEIGHTED)
            return ds_fail(err, DS_EINVAL, "alpha weighs the picture against the words in "
                                           "fusion=weighted; rrf has no alpha");
        a->q.fusion = FUSE_WEIGHTED;
    }
    if ((v = setting(p, "explain")) && parse_bool(v, &a->q.explain) != 0)
        return ds_fail(err, DS_EINVAL, "explain must be true or false");
    return 0;
}

static int parse_search(params *p, search_args *a, ds_err *err)
{
    long top_k = 10;
    double min_score = SEED_MIN_SCORE;
    int group = 0;
    const char *v;
    if ((v = setting(p, "top_k")) && parse_int(v, 1, 1000, &top_k) != 0)
        return ds_fail(err, DS_EINVAL, "top_k must be an integer from 1 to 1000 (got \"%.40s\")", v);
    if ((v = setting(p, "min_score")) && parse_float(v, -1.0, 1.0, &min_score) != 0)
        return ds_fail(err, DS_EINVAL, "min_score must be a number from -1 to 1 (got \"%.40s\")", v);
    if ((v = setting(p, "group_by_patent")) && parse_bool(v, &group) != 0)
        return ds_fail(err, DS_EINVAL, "group_by_patent must be true or false (also "
                                        "1/0, yes/no, on/off, t/f, y/n)");
    a->q.top_k = (int)top_k;
    a->q.min_score = (float)min_score;
    a->q.group_by_patent = group;
    a->q.collection = param(p, "collection");
    if (parse_words(p, a, err) != 0 || parse_filters(p, a, err) != 0)
        return -1;
    return p->bad ? ds_fail(err, DS_EINVAL, "a form field holds a NUL byte, or there are too "
                                             "many fields") : 0;
}

/* A crop_<i> field must name a view that is there, as "crop_" and its
 * number in decimal: crop_1 with one view, or crop_01, was ignored, and
 * the whole image searched as if the crop had been applied. */
static int check_crop_names(const char *name, int n, ds_err *err)
{
    if (n == 0 || strncmp(name, "crop_", 5) != 0)
        return 0; /* no view at all is said next */
    char *end, canon[24];
    errno = 0;
    long i = strtol(name + 5, &end, 10);
    snprintf(canon, sizeof canon, "crop_%ld", i);
    if (errno || *end || i < 0 || strcmp(canon, name) != 0)
        return ds_fail(err, DS_EINVAL, "'%.40s': a crop is crop_<i>, i the view's number from 0",
                       name);
    if (i >= n)
        return ds_fail(err, DS_EINVAL, "%s: there is no view %ld (%d view%s, numbered from 0: "
                       "files first, then images)", name, i, n, n == 1 ? "" : "s");
    return 0;
}

/* The query's views: the 'file' parts in order, then the 'image' fields
 * (form, else query string) in order; crop_<i> crops view i. */
static int parse_views(const http_form *form, const http_request *req, params *p, eng_view *views,
                       int *n, ds_err *err)
{
    *n = 0;
    for (size_t i = 0; i < form->count; i++) {
        const http_part *part = &form->parts[i];
        if (strcmp(part->name, "file") != 0)
            continue;
        if (*n == ENG_MAX_VIEWS)
            return ds_fail(err, DS_EINVAL, "at most %d views (files and images)", ENG_MAX_VIEWS);
        if (part->len == 0)
            return ds_fail(err, DS_EINVAL, "file %d is empty", *n + 1);
        views[(*n)++] = (eng_view){.data = part->data, .len = part->len};
    }
    int from_form = http_form_get(form, "image") != NULL;
    size_t count = from_form ? form->count : req->query.count;
    for (size_t i = 0; i < count; i++) {
        const char *name = from_form ? form->parts[i].name : req->query.items[i].name;
        if (strcmp(name, "image") != 0)
            continue;
        const char *v;
        if (from_form) {
            const http_part *part = &form->parts[i];
            if (part->filename || memchr(part->data, 0, part->len) || p->used == 32 ||
                !(p->copies[p->used] = strndup((const char *)part->data, part->len)))
                return ds_fail(err, DS_EINVAL, "'image' must be a file name (text)");
            v = p->copies[p->used++];
        } else {
            v = req->query.items[i].value;
        }
        if (!*v)
            continue;
        if (*n == ENG_MAX_VIEWS)
            return ds_fail(err, DS_EINVAL, "at most %d views (files and images)", ENG_MAX_VIEWS);
        views[(*n)++] = (eng_view){.file_name = v};
    }
    for (size_t i = 0; i < form->count; i++)
        if (check_crop_names(form->parts[i].name, *n, err) != 0)
            return -1;
    for (size_t i = 0; i < req->query.count; i++)
        if (check_crop_names(req->query.items[i].name, *n, err) != 0)
            return -1;
    for (int i = 0; i < *n; i++) {
        char name[24];
        snprintf(name, sizeof name, "crop_%d", i);
        const char *c = param(p, name);
        if (!c || !*c)
            continue;
        float *r = views[i].crop;
        char tail;
        if (sscanf(c, "%f,%f,%f,%f%c", &r[0], &r[1], &r[2], &r[3], &tail) != 4 ||
            img_crop_check(r, err) != 0)
            return ds_fail(err, DS_EINVAL,
                           "%s must be x,y,w,h as fractions 0..1 of the image (got \"%.60s\")",
                           name, c);
        views[i].crop_set = 1;
    }
    return 0;
}

/* A search needs something to look for: a picture or words. */
static int check_something(const search_args *a, ds_err *err)
{
    if (a->q.n_views == 0 && !(a->q.text && *a->q.text))
        return ds_fail(err, DS_EINVAL, "the form needs a non-empty 'file' part (the image), an "
                                       "'image' field naming a stored image, or 'q' (words)");
    return 0;
}

/* The engine's image URLs name the image alone, and GET /api/image/ looks
 * a name up in the default collection: a result of another collection
 * pointed at the default's image of that name (another model's collection
 * of the same week: another drawing) or at a 404. Where a request names its
 * collection, the URLs of its results (and of their images) name it too. */
static void urls_in_collection(json_t *items, const char *collection)
{
    static const char *const keys[] = {"image_url", "thumbnail_url"};
    size_t i;
    json_t *item;
    const char *asked = collection;
    json_array_foreach(items, i, item) {
        /* Several collections searched: each result names its own. */
        const char *own = json_string_value(json_object_get(item, "collection"));
        collection = own ? own : asked;
        if (!collection || !*collection)
            continue;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *url = json_string_value(json_object_get(item, keys[k]));
            if (!url)
                continue;
            size_t cap = strlen(url) + 3 * strlen(collection) + 16, n;
            char *out = malloc(cap);
            if (!out)
                continue;
            n = (size_t)snprintf(out, cap, "%s%scollection=", url, strchr(url, '?') ? "&" : "?");
            for (const unsigned char *c = (const unsigned char *)collection; *c; c++)
                n += (size_t)snprintf(out + n, cap - n, isalnum(*c) || strchr("-._~", *c)
                                                            ? "%c" : "%%%02X", *c);
            json_object_set_new(item, keys[k], json_string(out));
            free(out);
        }
        urls_in_collection(json_object_get(item, "images"), collection);
    }
}

static int h_search(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    char boundary[80];
    http_form form = {0};
    ds_err err = {0};
    search_args a = {0};
    eng_view views[ENG_MAX_VIEWS];
    params p = {.form = &form, .query = &req->query};
    const char *ct = http_header(req, "Content-Type");
    /* A search by stored images alone may come as a bare query string. */
    if ((req->body_len > 0 || (ct && strncasecmp(ct, "multipart/", 10) == 0)) &&
        (http_multipart_boundary(ct, boundary, sizeof boundary, &err) != 0 ||
         http_parse_multipart(req->body, req->body_len, boundary, 64, &form, &err) != 0)) {
        http_respond_error(resp, err.code == DS_ETOOBIG ? 413 : 400, "%s", err.msg);
        goto out;
    }
    long offset = 0;
    const char *v, *format = setting(&p, "format");
    int csv = format && strcmp(format, "csv") == 0;
    if (parse_views(&form, req, &p, views, &a.q.n_views, &err) != 0 ||
        parse_search(&p, &a, &err) != 0 || check_something(&a, &err) != 0 ||
        ((v = setting(&p, "offset")) && parse_int(v, 0, 9000, &offset) != 0 &&
         ds_fail(&err, DS_EINVAL, "offset must be an integer from 0 to 9000")) ||
        (format && !csv && strcmp(format, "json") != 0 &&
         ds_fail(&err, DS_EINVAL, "format must be json or csv"))) {
        http_respond_error(resp, 400, "%s", err.msg);
        goto out;
    }
    a.q.views = views;
    a.q.offset = (int)offset;
    json_t *results;
    eng_timing t = {0};
    if (eng_search(app->engine, &a.q, &results, &t, &err) != 0) {
        http_respond_error(resp, status_of(&err), "%s", err.msg);
        goto out;
    }
    urls_in_collection(results, a.q.collection);
    int words = a.q.text && *a.q.text, grouped = a.q.group_by_patent || words;
    eng_names names = {0};
    if (eng_search_collections(app->engine, a.q.collection, &names, &err) != 0) {
        json_decref(results);
        http_respond_error(resp, status_of(&err), "%s", err.msg);
        goto out;
    }
    if (csv) {
        size_t len = 0;
        char *text = api_results_csv(results, grouped, a.q.offset, names.n > 1, &len);
        json_decref(results);
        if (!text)
            return -1;
        http_respond_bytes(resp, 200, "text/csv; charset=utf-8", text, len);
        http_set_header(resp, "Content-Disposition", "attachment; filename=\"dinoseek-results.csv\"");
        goto out;
    }
    json_t *data = json_pack(
        "{s:o,s:I,s:b,s:s,s:b,s:i,s:i,s:s,s:{s:f,s:f,s:f,s:f,s:f,s:f}}", "results", results,
        "total", (json_int_t)json_array_size(results), "group_by_patent", grouped,
        "collection", names.name[0],
        "generated_weights", eng_generated_weights(app->engine), "offset", a.q.offset, "views",
        a.q.n_views, "fusion",
        a.q.n_views < 2 ? "single view"
        : a.q.group_by_patent
            ? "patent score = mean over the views of each view's best drawing of the patent"
            : "image score = best cosine over the views",
        "timing", "feature_extraction_ms", t.decode_ms + t.embed_ms, "milvus_search_ms",
        t.search_ms, "total_ms", t.total_ms, "decode_ms", t.decode_ms, "embed_ms", t.embed_ms,
        "search_ms", t.search_ms);
    /* "collection" is the first searched (what seed clients read); all of
     * them, and how their lists were merged, beside it. */
    json_t *searched = json_array();
    for (int i = 0; i < names.n; i++)
        json_array_append_new(searched, json_string(names.name[i]));
    json_object_set_new(data, "collections", searched);
    if (t.merged_by)
        json_object_set_new(data, "collections_merged_by", json_string(t.merged_by));
    /* What was searched for: a picture, words, or both fused. */
    json_object_set_new(data, "mode", json_string(!words ? "image" : a.q.n_views ? "hybrid"
                                                                                 : "words"));
    if (words) {
        json_object_set_new(data, "q", json_string(a.q.text));
        json_object_set_new(data, "text_matches", json_integer(t.text_matches));
        json_object_set_new(json_object_get(data, "timing"), "text_ms", json_real(t.text_ms));
    }
    if (words && a.q.n_views) {
        json_t *h = json_pack("{s:s,s:i}", "fusion", fuse_method_name((fuse_method)a.q.fusion),
                              "window", a.q.window ? a.q.window : ENG_WINDOW);
        if (a.q.fusion == FUSE_WEIGHTED)
            json_object_set_new(h, "alpha", json_real(a.q.alpha_set ? a.q.alpha : 0.5));
        else
            json_object_set_new(h, "rrf_k", json_integer(a.q.rrf_k ? a.q.rrf_k : FUSE_DEFAULT_RRF_K));
        json_object_set_new(data, "hybrid", h);
    }
    http_respond_ok(resp, data);
out:
    free(a.ids_copy);
    params_free(&p);
    http_form_free(&form);
    return 0;
}

static int h_stats(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    ds_err err = {0};
    json_t *stats;
    if (eng_stats(app->engine, http_params_get(&req->query, "collection"), &stats, &err) != 0)
        http_respond_error(resp, status_of(&err), "%s", err.msg);
    else
        http_respond_ok(resp, stats);
    return 0;
}

static int h_collections(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    ds_err err = {0};
    json_t *list;
    (void)req;
    if (eng_collections(app->engine, &list, &err) != 0)
        http_respond_error(resp, status_of(&err), "%s", err.msg);
    else
        http_respond_ok(resp, json_pack("{s:o}", "collections", list));
    return 0;
}

static int h_image(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    ds_err err = {0};
    const char *size = http_params_get(&req->query, "size");
    int which = !size || !strcmp(size, "thumbnail") ? ENG_IMAGE_THUMB
                : !strcmp(size, "full")             ? ENG_IMAGE_FULL
                : !strcmp(size, "large")            ? ENG_IMAGE_LARGE
                                                    : -1;
    int full = which == ENG_IMAGE_FULL;
    if (which < 0) {
        http_respond_error(resp, 400, "size must be 'thumbnail', 'large' or 'full'");
        return 0;
    }
    void *data;
    size_t len;
    blob_info info;
    if (eng_image_bytes(app->engine, http_params_get(&req->query, "collection"), req->tail,
                        which, &data, &len, &info, &err) != 0) {
        http_respond_error(resp, status_of(&err), "%s", err.msg);
        return 0;
    }
    char etag[BLOB_ETAG_MAX + 4];
    snprintf(etag, sizeof etag, "\"%.64s\"", info.etag);
    const char *inm = http_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        free(data);
        http_respond_bytes(resp, 304, NULL, NULL, 0);
    } else {
        /* The content type is copied into a header: info lives on our stack. */
        http_respond_bytes(resp, 200, NULL, data, len);
        http_set_header(resp, "Content-Type", !full ? "image/jpeg"
                                              : info.content_type[0] ? info.content_type
                                                                     : "application/octet-stream");
    }
    http_set_header(resp, "ETag", etag);
    http_set_header(resp, "Cache-Control", "public, max-age=86400");
    return 0;
}

static int h_patent(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    ds_err err = {0};
    json_t *p;
    const char *collection = http_params_get(&req->query, "collection");
    if (eng_patent(app->engine, collection, req->tail, &p, &err)) {
        http_respond_error(resp, status_of(&err), "%s", err.msg);
    } else {
        urls_in_collection(json_object_get(p, "images"), collection);
        http_respond_ok(resp, p);
    }
    return 0;
}

/* The seed's /health shape. Its "milvus" and "minio" keys stay, and say
 * what is true: "ok" or "error" when that backend is in use, "disabled"
 * when the embedded index or the directory store plays its role. "index"
 * and "blobs" report whichever part is in use; "errors" says why a part is
 * down. */
static int h_health(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    eng_health h;
    (void)req;
    eng_health_get(app->engine, &h);
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int ok = h.model && h.catalog && h.blobs && h.index;
    int milvus = strcmp(h.index_kind, "milvus") == 0, s3 = strcmp(h.blobs_kind, "s3") == 0;
    json_t *errors = json_object();
    if (*h.blobs_error)
        json_object_set_new(errors, "blobs", json_string(h.blobs_error));
    if (*h.index_error)
        json_object_set_new(errors, "index", json_string(h.index_error));
    json_t *doc = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s},s:{s:s,s:s},s:o,s:b,s:I}", "status",
        ok ? "ok" : "degraded", "timestamp", ts, "components", "milvus",
        !milvus ? "disabled" : h.index ? "ok" : "error", "minio",
        !s3 ? "disabled" : h.blobs ? "ok" : "error", "index", h.index ? "ok" : "error", "blobs",
        h.blobs ? "ok" : "error", "catalog", h.catalog ? "ok" : "error", "model",
        h.model ? "ok" : "error", "backends", "index", h.index_kind, "blobs", h.blobs_kind,
        "errors", errors, "ready", ok, "uptime_s", (json_int_t)(now - app->started));
    http_respond_json(resp, ok ? 200 : 503, doc);
    return 0;
}

/* Add one image: multipart 'file', 'file_name' (default: the upload's file
 * name, without any directory), optional 'patent_id', 'image_index'. */
static int h_add_image(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    char boundary[80];
    http_form form = {0};
    ds_err err = {0};
    params p = {.form = &form, .query = &req->query};
    if (http_multipart_boundary(http_header(req, "Content-Type"), boundary, sizeof boundary,
                                &err) != 0 ||
        http_parse_multipart(req->body, req->body_len, boundary, 64, &form, &err) != 0) {
        http_respond_error(resp, err.code == DS_ETOOBIG ? 413 : 400, "%s", err.msg);
        goto out;
    }
    const http_part *file = http_form_get(&form, "file");
    const char *name = param(&p, "file_name");
    if (!name && file && file->filename) {
        const char *slash = strrchr(file->filename, '/');
        name = slash ? slash + 1 : file->filename; /* never a client's path */
    }
    long index = 0;
    const char *idx = param(&p, "image_index");
    if (!file || !file->len || !name || !*name ||
        (idx && parse_int(idx, 0, 10000, &index) != 0)) {
        http_respond_error(resp, 400, "needs a 'file' part with a file name (or 'file_name'), "
                                      "and 'image_index' from 0 to 10000 if given");
        goto out;
    }
    eng_image_in in = {.data = file->data, .len = file->len, .file_name = name,
                       /* "" is what a result with no patent says: no patent */
                       .patent_id = setting(&p, "patent_id"), .image_index = (int)index};
    int64_t id = 0;
    int added = 0;
    char stored[1024];
    ds_err no_name = {0};
    if (eng_add(app->engine, param(&p, "collection"), &in, &id, &added, &err) != 0) {
        http_respond_error(resp, status_of(&err), "%s", err.msg);
        goto out;
    }
    /* Content already stored under another name: answer with the name it
     * is stored (and shown, /api/image/NAME) under, not the one sent, under
     * which nothing is. On Milvus the name sent is answered. */
    if (!added && id && eng_image_name(app->engine, param(&p, "collection"), id, stored,
                                       sizeof stored, &no_name) == 0)
        name = stored;
    http_respond_ok(resp, json_pack("{s:I,s:b,s:s}", "id", (json_int_t)id, "added", added,
                                    "file_name", name));
out:
    params_free(&p);
    http_form_free(&form);
    return 0;
}

/* A browser shows no TIFF: the page sends an upload here to get a JPEG it
 * can preview and crop (at most 1600 px, the same as ?size=large). */
static int h_preview(void *app_, const http_request *req, http_response *resp)
{
    (void)app_;
    char boundary[80];
    http_form form = {0};
    ds_err err = {0};
    if (http_multipart_boundary(http_header(req, "Content-Type"), boundary, sizeof boundary,
                                &err) != 0 ||
        http_parse_multipart(req->body, req->body_len, boundary, 8, &form, &err) != 0) {
        http_respond_error(resp, err.code == DS_ETOOBIG ? 413 : 400, "%s", err.msg);
        goto out;
    }
    const http_part *file = http_form_get(&form, "file");
    void *jpeg = NULL;
    size_t len = 0;
    if (!file || !file->len) {
        http_respond_error(resp, 400, "the form needs a non-empty 'file' part (the image)");
    } else if (img_thumbnail_buffer(file->data, file->len, ENG_LARGE_SIDE, 88, &jpeg, &len,
                                    &err) != 0) {
        if (err.code == DS_EFORMAT || err.code == DS_EUNSUPPORTED)
            err.code = DS_EMEDIA;
        http_respond_error(resp, status_of(&err), "%s", err.msg);
    } else {
        http_respond_bytes(resp, 200, "image/jpeg", jpeg, len);
        http_set_header(resp, "Cache-Control", "no-store");
    }
out:
    http_form_free(&form);
    return 0;
}

static int h_metrics(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    (void)req;
    char *text = app->server ? http_metrics_text(app->server) : NULL;
    json_t *stats = NULL;
    ds_err err = {0};
    if (!text)
        return -1;
    size_t len = strlen(text), cap = len + 1024;
    char *out = realloc(text, cap);
    if (!out) {
        free(text);
        return -1;
    }
    if (eng_stats(app->engine, NULL, &stats, &err) == 0) {
        snprintf(out + len, cap - len,
                 "# HELP dinoseek_index_vectors Vectors in the default collection's index.\n"
                 "# TYPE dinoseek_index_vectors gauge\ndinoseek_index_vectors %lld\n"
                 "# HELP dinoseek_model_info The model that embeds images.\n"
                 "# TYPE dinoseek_model_info gauge\ndinoseek_model_info{model=\"%s\",dim=\"%lld\"} 1\n",
                 (long long)json_integer_value(json_object_get(json_object_get(stats, "index"), "count")),
                 json_string_value(json_object_get(stats, "model")),
                 (long long)json_integer_value(json_object_get(stats, "dimension")));
        json_decref(stats);
    }
    http_respond_bytes(resp, 200, "text/plain; version=0.0.4", out, strlen(out));
    return 0;
}

static int h_openapi(void *app_, const http_request *req, http_response *resp);

/* Every route, in one table. */
static const http_route routes[] = {
    {"POST", "/api/search", h_search, 0, 32 * MB,
     "Search by image (multipart 'file'): top_k 1-1000, offset 0-9000; grouped by patent, "
     "offset + top_k at most 1000 (400 beyond); min_score -1 to 1, default 0.5 (the seed's: "
     "send min_score=0 or -1 for the weaker hits too); collection=a,b searches several "
     "collections at once"},
    {"GET", "/api/search", h_search, 0, 0,
     "Search by words (q) and/or stored images (image=NAME), the same parameters as POST "
     "/api/search in the query string"},
    {"GET", "/api/collection/stats", h_stats, 0, 0, "Statistics of a collection"},
    {"GET", "/api/collections", h_collections, 0, 0, "Every collection"},
    {"GET", "/api/image/", h_image, HTTP_PREFIX, 0, "Thumbnail (or ?size=full original) by file name"},
    {"GET", "/api/patent/", h_patent, HTTP_PREFIX, 0, "A patent with all its images"},
    {"POST", "/api/images", h_add_image, HTTP_WRITE, 64 * MB,
     "Add one image (multipart 'file', optional 'file_name', 'patent_id', 'image_index', "
     "'collection'); the same content again: added false; a name stored with other content: "
     "409; a name whose blob key is invalid or over 1,024 bytes: 400"},
    {"POST", "/api/preview", h_preview, 0, 32 * MB,
     "A JPEG (at most 1600 px) of an uploaded image, for browsers that cannot show it (TIFF)"},
    {"POST", "/api/batch/start", api_h_batch_start, HTTP_WRITE, 64 * 1024,
     "Start an import of a folder or archive under the import roots (JSON {path, collection, "
     "batch}, strings but batch 1-256; any other key, in the body or the query string, or "
     "another type: 400 naming it); 400 for a path over PATH_MAX, 403 outside the roots, "
     "409 while one of the collection runs"},
    {"GET", "/api/batch/status", api_h_batch_status, 0, 0, "The latest import job"},
    {"GET", "/api/batch/status/", api_h_batch_status, HTTP_PREFIX, 0, "An import job"},
    {"GET", "/api/batch/events/", api_h_batch_events, HTTP_PREFIX, 0,
     "An import job's progress as Server-Sent Events"},
    {"GET", "/api/batch/jobs", api_h_batch_jobs, 0, 0, "The recent import jobs (?limit=20)"},
    {"GET", "/api/batch/roots", api_h_batch_roots, 0, 0,
     "The import roots and what can be imported at their top"},
    {"GET", "/api/locarno", api_h_locarno, 0, 0,
     "Locarno classes with their names and image counts in a collection"},
    {"GET", "/health", h_health, 0, 0, "Liveness and readiness"},
    {"GET", "/", ui_h_index, 0, 0, "The web UI"},
    {"GET", "/ui/", ui_h_file, HTTP_PREFIX, 0, "The web UI's files"},
    {"GET", "/metrics", h_metrics, 0, 0, "Prometheus metrics"},
    {"GET", "/api/openapi.json", h_openapi, 0, 0, "This API as OpenAPI 3.1"},
};

/* The handled errors each route can answer (docs/api.md, "The envelope"),
 * so that the OpenAPI document says them too, with the error body's shape:
 * a client generated from it learns of the 409 of a name stored with other
 * content or the 400 of a path too long without reading the prose. Routes
 * not listed answer only 404 and 405 of their own. */
static const struct {
    const char *method, *path, *statuses;
} route_errors[] = {
    {"POST", "/api/search", "400 404 413 415 503"},
    {"GET", "/api/collection/stats", "404 503"},
    {"GET", "/api/image/", "400 404 503"},
    {"GET", "/api/patent/", "404 503"},
    {"POST", "/api/images", "400 401 409 413 415 503 507"},
    {"POST", "/api/preview", "400 413 415"},
    {"POST", "/api/batch/start", "400 401 403 404 409 503 507"},
    {"GET", "/api/batch/status/", "400 404"},
    {"GET", "/api/batch/events/", "400 404"},
    {"GET", "/api/locarno", "404 503"},
};

static const char *status_text(int status)
{
    switch (status) {
    case 400: return "a missing or bad parameter (the message names it)";
    case 401: return "a write route without the API key";
    case 403: return "outside the import roots, or imports over HTTP off";
    case 404: return "an unknown collection, image, patent, job or path";
    case 409: return "a file name already stored with other content; an import of the "
                     "collection already running";
    case 413: return "over the upload, part or pixel limit";
    case 415: return "not a supported image";
    case 503: return "a backend (Milvus, S3) down or too slow; the server stopping";
    case 507: return "the data directory is full";
    default: return "error";
    }
}

static void add_error_responses(json_t *op, const char *method, const char *path)
{
    json_t *responses = json_object_get(op, "responses");
    for (size_t i = 0; i < sizeof route_errors / sizeof route_errors[0]; i++) {
        if (strcmp(route_errors[i].method, method) != 0 || strcmp(route_errors[i].path, path) != 0)
            continue;
        for (const char *p = route_errors[i].statuses; *p;) {
            char *end;
            long status = strtol(p, &end, 10);
            char key[8];
            snprintf(key, sizeof key, "%ld", status);
            json_object_set_new(responses, key, json_pack(
                "{s:s,s:{s:{s:{s:s}}}}", "description", status_text((int)status), "content",
                "application/json", "schema", "$ref", "#/components/schemas/Error"));
            p = *end ? end + 1 : end;
        }
    }
}

/* The request bodies a client generator needs to get right: the search
 * form's defaults (min_score's is the seed's 0.5, not 0) and the import's
 * JSON keys (no others). */
static void add_request_bodies(json_t *paths)
{
    json_t *search = json_object_get(json_object_get(paths, "/api/search"), "post");
    json_t *form = json_pack(
        "{s:s,s:{s:{s:s,s:s,s:s},s:{s:s,s:s},s:{s:s,s:i,s:i,s:i},s:{s:s,s:i,s:i,s:i},"
        "s:{s:s,s:i,s:i,s:f,s:s},s:{s:s,s:b},s:{s:s,s:s},s:{s:s,s:i,s:s},s:{s:s,s:[ss],s:s},"
        "s:{s:s,s:i,s:i,s:i},s:{s:s,s:i,s:i,s:i,s:s},s:{s:s,s:i,s:i,s:f,s:s},s:{s:s,s:b}}}",
        "type", "object", "properties",
        "file", "type", "string", "format", "binary", "description", "a view (repeatable)",
        "image", "type", "string", "description", "a stored image's file_name, as a view",
        "top_k", "type", "integer", "minimum", 1, "maximum", 1000, "default", 10,
        "offset", "type", "integer", "minimum", 0, "maximum", 9000, "default", 0,
        "min_score", "type", "number", "minimum", -1, "maximum", 1, "default", SEED_MIN_SCORE,
        "description", "hits under it are dropped; absent: the seed's 0.5",
        "group_by_patent", "type", "boolean", "default", 0,
        "collection", "type", "string", "description", "default patent_images; \"a,b\": "
        "several collections at once (at most 16), merged by score (one model, picture alone) "
        "or RRF k 60, each result naming its collection",
        "q", "type", "string", "maxLength", 2000,
        "description", "words (docs/api.md gives the language); with a file or image: hybrid",
        "fusion", "type", "string", "enum", "rrf", "weighted", "default", "rrf",
        "rrf_k", "type", "integer", "minimum", 1, "maximum", 1000, "default", 60,
        "window", "type", "integer", "minimum", 1, "maximum", 1000, "default", 100,
        "description", "each leg's depth in a hybrid search",
        "alpha", "type", "number", "minimum", 0, "maximum", 1, "default", 0.5,
        "description", "fusion=weighted: the picture's weight",
        "explain", "type", "boolean", "default", 0);
    json_object_set_new(search, "requestBody",
                        json_pack("{s:{s:{s:o}}}", "content", "multipart/form-data", "schema",
                                  form));
    json_t *start = json_object_get(json_object_get(paths, "/api/batch/start"), "post");
    json_object_set_new(start, "requestBody",
                        json_pack("{s:b,s:{s:{s:o}}}", "required", 0, "content",
                                  "application/json", "schema", api_batch_start_schema()));
}

static int h_openapi(void *app_, const http_request *req, http_response *resp)
{
    (void)app_, (void)req;
    json_t *paths = json_object();
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char path[128];
        const char *param_name = strstr(routes[i].path, "image")   ? "file_name"
                                 : strstr(routes[i].path, "batch") ? "job"
                                 : strstr(routes[i].path, "/ui/")  ? "path"
                                                                   : "patent_id";
        if (routes[i].flags & HTTP_PREFIX)
            snprintf(path, sizeof path, "%s{%s}", routes[i].path, param_name);
        else
            snprintf(path, sizeof path, "%s", routes[i].path);
        json_t *item = json_object_get(paths, path);
        if (!item)
            json_object_set_new(paths, path, item = json_object());
        char method[8];
        for (size_t k = 0; k < sizeof method - 1 && routes[i].method[k]; k++)
            method[k] = (char)(routes[i].method[k] | 0x20), method[k + 1] = '\0';
        json_t *op = json_pack("{s:s,s:{s:{s:s}}}", "summary", routes[i].summary, "responses",
                               "200", "description", "success");
        if (routes[i].flags & HTTP_PREFIX)
            json_object_set_new(op, "parameters",
                                json_pack("[{s:s,s:s,s:b,s:{s:s}}]", "name", param_name, "in",
                                          "path", "required", 1, "schema", "type", "string"));
        if (routes[i].flags & HTTP_WRITE)
            json_object_set_new(op, "security", json_pack("[{s:[]}]", "apiKey"));
        add_error_responses(op, routes[i].method, routes[i].path);
        json_object_set_new(item, method, op);
    }
    add_request_bodies(paths);
    json_t *doc = json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:{s:{s:s,s:s,s:s}}}}", "openapi", "3.1.0",
                            "info", "title", "dinoseek", "version", "1", "paths", paths,
                            "components", "securitySchemes", "apiKey", "type", "apiKey", "in",
                            "header", "name", "X-API-Key");
    /* The seed's error body: {"code": 1, "message": ..., "status": ...}. */
    json_object_set_new(json_object_get(doc, "components"), "schemas", json_pack(
        "{s:{s:s,s:[s,s],s:{s:{s:s},s:{s:s},s:{s:s}}}}", "Error", "type", "object", "required",
        "code", "message", "properties", "code", "type", "integer", "message", "type", "string",
        "status", "type", "integer"));
    http_respond_json(resp, 200, doc);
    return 0;
}

const http_route *api_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
