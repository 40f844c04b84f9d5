/* imports.c - imports run by the server (see imports.h).
 *
 * Each import has an entry here while it runs and a while after (its last
 * snapshot: rate, ETA, the latest error); the catalog's job row is the
 * record that lasts. Status and events read both: the row for what is
 * stored, the entry for what only the running pipeline knows. A job run by
 * `dinoseek import` in another process has only the row, which its writer
 * updates after every batch, so it can be followed the same way.
 */
#include "http/imports.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "base/str.h"
#include "http/api.h"
#include "http/json_body.h"
#include "importer/importer.h"

#define MAX_ROOTS 16
#define KEEP_FINISHED 16         /* finished entries kept for their live figures */

typedef struct entry {
    api_imports *owner;
    char collection[128];
    char path[PATH_MAX];
    const char *paths[1];
    imp_options opt;
    pthread_t thread;
    volatile int cancel;
    int64_t job;                 /* 0 until the pipeline recorded it */
    int started, finished;
    time_t finished_at;          /* when finished: the catalog row may not say it */
    ds_err err;                  /* why it could not run */
    imp_progress prog;           /* the latest snapshot */
    char status[16];
    char last_error[512];
    struct entry *next;
} entry;

struct api_imports {
    eng *e;
    char *roots[MAX_ROOTS];
    int n_roots;
    pthread_mutex_t lock;
    pthread_cond_t changed;      /* an entry moved on, or closing */
    entry *list;                 /* newest first */
    int closing;
};

/* ---- the registry ------------------------------------------------------------- */

int api_imports_new(eng *e, const char *roots, api_imports **out, ds_err *err)
{
    api_imports *im = calloc(1, sizeof *im);
    if (!im)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    im->e = e;
    pthread_mutex_init(&im->lock, NULL);
    pthread_cond_init(&im->changed, NULL);
    for (const char *p = roots ? roots : ""; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0) {
            char dir[PATH_MAX], real[PATH_MAX];
            /* Cut short, a root could name one of its own parents. */
            if (ds_snprintf(dir, sizeof dir, NULL, "%.*s", (int)n, p) != 0) {
                api_imports_free(im);
                return ds_fail(err, DS_EINVAL, "an import root is %zu bytes long (at most %d)", n,
                               PATH_MAX - 1);
            }
            if (im->n_roots == MAX_ROOTS || !realpath(dir, real)) {
                ds_fail(err, DS_EINVAL, "import root %s: %s", dir,
                        im->n_roots == MAX_ROOTS ? "too many roots (16 at most)" : strerror(errno));
                api_imports_free(im);
                return -1;
            }
            if (!(im->roots[im->n_roots++] = strdup(real))) {
                api_imports_free(im);
                return ds_fail(err, DS_ENOMEM, "out of memory");
            }
        }
        p += n + (p[n] == ':');
    }
    *out = im;
    return 0;
}

void api_imports_close(api_imports *im)
{
    if (!im)
        return;
    pthread_mutex_lock(&im->lock);
    im->closing = 1;
    for (entry *e = im->list; e; e = e->next)
        e->cancel = 1;
    pthread_cond_broadcast(&im->changed);
    pthread_mutex_unlock(&im->lock);
    for (entry *e = im->list; e; e = e->next)
        if (e->thread) {
            pthread_join(e->thread, NULL);
            e->thread = 0;
        }
}

void api_imports_free(api_imports *im)
{
    if (!im)
        return;
    api_imports_close(im);
    while (im->list) {
        entry *e = im->list;
        im->list = e->next;
        free(e);
    }
    for (int i = 0; i < im->n_roots; i++)
        free(im->roots[i]);
    pthread_mutex_destroy(&im->lock);
    pthread_cond_destroy(&im->changed);
    free(im);
}

/* Drop the oldest finished entries beyond KEEP_FINISHED (lock held). */
static void prune(api_imports *im)
{
    int kept = 0;
    for (entry **pp = &im->list; *pp;) {
        entry *e = *pp;
        if (e->finished && ++kept > KEEP_FINISHED) {
            *pp = e->next;
            if (e->thread)
                pthread_join(e->thread, NULL); /* finished: returns at once */
            free(e);
        } else {
            pp = &e->next;
        }
    }
}

static entry *find_job(api_imports *im, int64_t job)
{
    for (entry *e = im->list; e; e = e->next)
        if (e->job == job)
            return e;
    return NULL;
}

/* ---- the import's thread ----------------------------------------------------- */

static void on_start(void *ctx, int64_t job)
{
    entry *e = ctx;
    pthread_mutex_lock(&e->owner->lock);
    e->job = job;
    e->prog.job = job;
    e->started = 1;
    pthread_cond_broadcast(&e->owner->changed);
    pthread_mutex_unlock(&e->owner->lock);
}

static void on_progress(void *ctx, const imp_progress *p)
{
    entry *e = ctx;
    pthread_mutex_lock(&e->owner->lock);
    e->prog = *p;
    snprintf(e->status, sizeof e->status, "%s", p->status ? p->status : "running");
    if (p->last_error)
        snprintf(e->last_error, sizeof e->last_error, "%s", p->last_error);
    e->prog.status = e->status;
    e->prog.last_error = e->last_error[0] ? e->last_error : NULL;
    pthread_cond_broadcast(&e->owner->changed);
    pthread_mutex_unlock(&e->owner->lock);
}

static void *run(void *arg)
{
    entry *e = arg;
    imp_progress sum;
    ds_err err = {0};
    int rc = imp_run(e->owner->e, &e->opt, &sum, &err);
    pthread_mutex_lock(&e->owner->lock);
    if (rc != 0) {
        e->err = err;
        /* Why it failed (a full disk) is its last error: the status said
         * "failed" with last_error null. */
        snprintf(e->last_error, sizeof e->last_error, "%.*s", (int)sizeof e->last_error - 1,
                 err.msg);
        e->prog.last_error = e->last_error;
    }
    if (rc != 0 && !e->started)
        snprintf(e->status, sizeof e->status, "failed");
    e->finished = 1;
    e->finished_at = time(NULL);
    pthread_cond_broadcast(&e->owner->changed);
    pthread_mutex_unlock(&e->owner->lock);
    return NULL;
}

/* ---- JSON --------------------------------------------------------------------- */

/* Whether this server runs the job now. */
static int runs_here(api_imports *im, int64_t job)
{
    pthread_mutex_lock(&im->lock);
    entry *e = find_job(im, job);
    int running = e && !e->finished;
    pthread_mutex_unlock(&im->lock);
    return running;
}

/* Whether the collection's "running" jobs were left by a dead process: they
 * are marked "interrupted" then (imp_mark_interrupted), so that status says
 * so and an event stream of such a job ends instead of waiting forever. */
static int interrupted(api_imports *im, const char *collection)
{
    int64_t n = 0;
    ds_err ignored;
    return imp_mark_interrupted(im->e, collection, &n, &ignored) == 0 && n > 0;
}

/* A job as the API shows it: the catalog's row, and the live figures when
 * this server runs it. failures: include the list of failures. */
static json_t *job_json(api_imports *im, int64_t id, int failures, ds_err *err)
{
    cat_job j = {0};
    cat_db *db = eng_catalog(im->e);
    if ((id > 0 ? cat_job_get(db, id, &j, err) : cat_job_latest(db, 0, &j, err)) != 0)
        return NULL;
    cat_collection c = {0};
    ds_err ignored;
    const char *coll = j.collection_id && cat_collection_get_id(db, j.collection_id, &c,
                                                                 &ignored) == 0
                           ? c.name
                           : NULL;
    if (coll && !strcmp(j.status, "running") && !strcmp(j.kind, "import") &&
        !runs_here(im, j.id) && interrupted(im, coll)) {
        free(j.status); /* its process died (a crash of this server, a killed import) */
        j.status = strdup("interrupted");
    }
    json_t *doc = json_pack("{s:I,s:s?,s:s,s:s,s:s?,s:I,s:I,s:I,s:I,s:I}", "job",
                            (json_int_t)j.id, "collection", coll, "kind", j.kind, "status",
                            j.status, "source", j.source, "done", (json_int_t)j.done, "skipped",
                            (json_int_t)j.skipped, "failed", (json_int_t)j.failed, "started_at",
                            (json_int_t)j.started_at, "finished_at", (json_int_t)j.finished_at);
    if (doc && failures) {
        json_t *list = j.failures ? json_loads(j.failures, 0, NULL) : NULL;
        json_object_set_new(doc, "failures", list ? list : json_array());
    }
    pthread_mutex_lock(&im->lock);
    entry *e = doc ? find_job(im, j.id) : NULL;
    if (e) {
        const imp_progress *p = &e->prog;
        /* By images done of the total the job counted; unknown (null, and
         * eta_s -1) until it has counted, never a guess from bytes read. */
        double progress = p->progress;
        json_object_update_new(
            doc, json_pack("{s:I,s:I,s:I,s:f,s:f,s:f,s:o,s:o,s:s?}", "done", (json_int_t)p->done,
                           "skipped", (json_int_t)p->skipped, "failed", (json_int_t)p->failed,
                           "items_per_s", p->items_per_s, "eta_s",
                           p->eta_s < 0 ? -1.0 : p->eta_s, "elapsed_s",
                           p->elapsed_s, "progress",
                           progress < 0 ? json_null() : json_real(progress), "total",
                           p->total < 0 ? json_null() : json_integer((json_int_t)p->total),
                           "last_error", p->last_error));
        /* How it ended, as this server saw it: the catalog row says
         * "running" when its end could not be written (a full disk), and
         * then its event stream never ended. */
        if (e->finished) {
            json_object_set_new(doc, "status", json_string(e->status));
            if (!j.finished_at)
                json_object_set_new(doc, "finished_at", json_integer(e->finished_at));
        }
        json_object_set_new(doc, "patents", json_integer(p->patents));
        json_object_set_new(doc, "drawings_absent", json_integer(p->absent));
    }
    pthread_mutex_unlock(&im->lock);
    cat_collection_clear(&c);
    cat_job_clear(&j);
    if (!doc)
        ds_fail(err, DS_ENOMEM, "out of memory");
    return doc;
}

/* ---- POST /api/batch/start --------------------------------------------------- */

/* The keys POST /api/batch/start takes, in the body or the query string;
 * any other, or one of another type, is 400 (http_json_body). */
static const http_json_key batch_keys[] = {
    {"path", HTTP_JSON_STRING},
    {"collection", HTTP_JSON_STRING},
    {"batch", HTTP_JSON_INTEGER},
};

json_t *api_batch_start_schema(void)
{
    return http_json_schema(batch_keys, sizeof batch_keys / sizeof batch_keys[0]);
}

/* A string field of the body (its type checked), else of the query string. */
static const char *field(json_t *body, const http_request *req, const char *name)
{
    json_t *v = json_object_get(body, name);
    return v ? json_string_value(v) : http_params_get(&req->query, name);
}

/* The optional "batch" (images per forward pass and per transaction, as
 * `dinoseek import --batch`): 0 when absent, -1 when not 1..256. */
static int batch_size(json_t *body, const http_request *req)
{
    json_t *v = json_object_get(body, "batch");
    const char *text = v ? NULL : http_params_get(&req->query, "batch");
    long long n;
    if (v) {
        n = json_integer_value(v);
    } else if (text) {
        char *end;
        errno = 0;
        n = strtoll(text, &end, 10);
        if (errno || end == text || *end)
            return -1;
    } else {
        return 0;
    }
    return n >= 1 && n <= 256 ? (int)n : -1;
}

static int under_a_root(const api_imports *im, const char *real)
{
    for (int i = 0; i < im->n_roots; i++)
        if (imp_path_inside(real, im->roots[i]))
            return 1;
    return 0;
}

/* Whether the nearest folder above path that exists lies under a root. A
 * path that cannot be resolved is answered 404 (or its error) only there:
 * elsewhere it gets the same 403 as a path that exists, so that a client
 * cannot learn which files exist outside the roots. */
static int parent_under_a_root(const api_imports *im, const char *path)
{
    char p[PATH_MAX], real[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *slash; (slash = strrchr(p, '/')) != NULL;) {
        if (slash == p) /* up to "/" itself */
            return realpath("/", real) && under_a_root(im, real);
        *slash = '\0';
        if (realpath(p, real))
            return under_a_root(im, real);
    }
    return 0;
}

/* The path to import: under a root, symlinks resolved. */
static int resolve(api_imports *im, const char *asked, char *out, size_t n, int *status,
                   char *why, size_t wn)
{
    char joined[PATH_MAX];
    if (!asked || !*asked)
        asked = im->roots[0]; /* the seed's route took no path: its configured folder */
    /* Cut short, a path could name one of its own parents (a root). */
    if ((size_t)(asked[0] == '/' ? snprintf(joined, sizeof joined, "%s", asked)
                                 : snprintf(joined, sizeof joined, "%s/%s", im->roots[0],
                                            asked)) >= sizeof joined) {
        *status = 400;
        snprintf(why, wn, "path too long");
        return -1;
    }
    char real[PATH_MAX];
    int resolved = realpath(joined, real) != NULL, why_not = errno;
    if (!resolved && parent_under_a_root(im, joined)) {
        *status = why_not == ENOENT ? 404 : 400;
        snprintf(why, wn, "%s: %s", asked, strerror(why_not));
        return -1;
    }
    if (resolved && under_a_root(im, real) && ds_snprintf(out, n, NULL, "%s", real) == 0)
        return 0;
    *status = 403;
    snprintf(why, wn, "%s is not under an import root", asked);
    return -1;
}

static int status_of_run(const ds_err *err)
{
    switch (err->code) {
    case DS_EBUSY: return 409;
    case DS_ENOSPACE: return 507; /* Insufficient Storage */
    case DS_ENOTFOUND: return 404;
    case DS_EINVAL: return 400;
    default: return 500;
    }
}

int api_h_batch_start(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    api_imports *im = app->imports;
    json_t *body = NULL;
    if (!im || im->n_roots == 0) {
        http_respond_error(resp, 403, "imports over HTTP are off: start the server with "
                                      "--import-roots DIR[:DIR...]");
        return 0;
    }
    ds_err err = {0};
    int dim, size, status = 0;
    char why[PATH_MAX + 64], real[PATH_MAX];
    if (http_json_body(req->body, req->body_len, &req->query, batch_keys,
                       sizeof batch_keys / sizeof batch_keys[0], &body, why, sizeof why) != 0) {
        http_respond_error(resp, 400, "%s", why);
        return 0;
    }
    const char *asked = field(body, req, "path"), *coll = field(body, req, "collection");
    int batch = batch_size(body, req);
    if (!coll || !*coll) /* "" is the default, as everywhere: under its one lock */
        coll = eng_default_collection(app->engine);
    if (batch < 0) {
        http_respond_error(resp, 400, "batch is the number of images per transaction, "
                                      "1 to 256");
        goto out;
    }
    if (eng_collection_shape(app->engine, coll, &size, &dim, &err) != 0) {
        http_respond_error(resp, 404, "no collection %s on this server", coll);
        goto out;
    }
    if (resolve(im, asked, real, sizeof real, &status, why, sizeof why) != 0) {
        http_respond_error(resp, status, "%s", why);
        goto out;
    }
    entry *e = calloc(1, sizeof *e);
    if (!e) {
        http_respond_error(resp, 500, "out of memory");
        goto out;
    }
    e->owner = im;
    snprintf(e->collection, sizeof e->collection, "%s", coll);
    snprintf(e->path, sizeof e->path, "%s", real);
    snprintf(e->status, sizeof e->status, "running");
    /* Before its first report the job's figures are unknown, not zero (an
     * ETA of 0 s said it was about to end). */
    e->prog.total = -1;
    e->prog.progress = -1;
    e->prog.eta_s = -1;
    e->paths[0] = e->path;
    e->opt = (imp_options){.paths = e->paths, .n_paths = 1, .collection = e->collection,
                           .progress = on_progress, .progress_ctx = e, .cancel = &e->cancel,
                           .on_start = on_start, .batch = batch};
    pthread_mutex_lock(&im->lock);
    for (entry *o = im->list; o; o = o->next)
        if (!o->finished && strcmp(o->collection, coll) == 0) {
            pthread_mutex_unlock(&im->lock);
            free(e);
            http_respond_error(resp, 409, "an import into collection %s is already running "
                                          "(job %lld)", coll, (long long)o->job);
            goto out;
        }
    if (im->closing || pthread_create(&e->thread, NULL, run, e) != 0) {
        pthread_mutex_unlock(&im->lock);
        free(e);
        http_respond_error(resp, 503, "the server is stopping");
        goto out;
    }
    e->next = im->list;
    im->list = e;
    prune(im);
    /* Answer once the job exists, or the run failed to start (busy, ...). */
    while (!e->started && !e->finished)
        pthread_cond_wait(&im->changed, &im->lock);
    int64_t job = e->job;
    int failed = !e->started;
    ds_err run_err = e->err;
    pthread_mutex_unlock(&im->lock);
    if (failed) {
        http_respond_error(resp, status_of_run(&run_err), "%s", run_err.msg);
        goto out;
    }
    char url[64];
    json_t *data = json_pack("{s:I,s:s,s:s,s:s}", "job", (json_int_t)job, "status", "running",
                             "collection", coll, "path", real);
    snprintf(url, sizeof url, "/api/batch/status/%lld", (long long)job);
    json_object_set_new(data, "status_url", json_string(url));
    snprintf(url, sizeof url, "/api/batch/events/%lld", (long long)job);
    json_object_set_new(data, "events_url", json_string(url));
    http_respond_ok(resp, data);
out:
    json_decref(body);
    return 0;
}

/* ---- GET /api/batch/status/{job} ---------------------------------------------- */

static int parse_job(const char *tail, int64_t *job)
{
    char *end;
    if (!tail || !*tail) {
        *job = 0; /* the latest */
        return 0;
    }
    errno = 0;
    long long v = strtoll(tail, &end, 10);
    if (*end || errno || v < 1)
        return -1;
    *job = v;
    return 0;
}

int api_h_batch_status(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    int64_t job;
    ds_err err = {0};
    if (parse_job(req->tail, &job) != 0) {
        http_respond_error(resp, 400, "a job id is a positive integer, not \"%s\"", req->tail);
        return 0;
    }
    json_t *doc = app->imports ? job_json(app->imports, job, 1, &err) : NULL;
    if (!doc)
        http_respond_error(resp, err.code == DS_ENOTFOUND ? 404 : 500, "%s",
                           err.code == DS_ENOTFOUND ? "no such job" : err.msg);
    else
        http_respond_ok(resp, doc);
    return 0;
}

/* ---- GET /api/batch/events/{job}: Server-Sent Events ---------------------------- */

#define HEARTBEAT_S 10           /* a comment line keeps proxies from closing */

typedef struct stream {
    api_imports *im;
    int64_t job;
    char *pending;               /* formatted, not yet sent */
    size_t len, off;
    char *last;                  /* the last state sent, to send changes only */
    time_t last_sent;
    int ended;
} stream;

static void stream_free(void *ctx)
{
    stream *s = ctx;
    free(s->pending);
    free(s->last);
    free(s);
}

/* Wait up to one second for news of the job (or the server closing). */
static void wait_news(stream *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_mutex_lock(&s->im->lock);
    if (!s->im->closing)
        pthread_cond_timedwait(&s->im->changed, &s->im->lock, &until);
    pthread_mutex_unlock(&s->im->lock);
}

static int closing(stream *s)
{
    pthread_mutex_lock(&s->im->lock);
    int c = s->im->closing;
    pthread_mutex_unlock(&s->im->lock);
    return c;
}

/* Format the next event into pending; 0 when there is one, 1 at the end. */
static int next_event(stream *s)
{
    for (;;) {
        ds_err err = {0};
        json_t *doc = job_json(s->im, s->job, 0, &err);
        if (!doc) {
            s->pending = NULL;
            if (asprintf(&s->pending, "event: error\ndata: {\"message\": \"no such job\"}\n\n") < 0)
                return 1;
            s->len = strlen(s->pending);
            s->ended = 1;
            return 0;
        }
        const char *st = json_string_value(json_object_get(doc, "status"));
        int over = !st || strcmp(st, "running") != 0;
        /* elapsed_s changes every call: leave it out of the comparison. */
        json_t *cmp = json_deep_copy(doc);
        json_object_del(cmp, "elapsed_s");
        json_object_del(cmp, "items_per_s");
        json_object_del(cmp, "eta_s");
        char *key = json_dumps(cmp, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(cmp);
        int changed = key && (!s->last || strcmp(key, s->last) != 0);
        if (changed || over) {
            char *data = json_dumps(doc, JSON_COMPACT);
            json_decref(doc);
            free(s->last);
            s->last = key;
            int n = data ? asprintf(&s->pending, "event: %s\ndata: %s\n\n",
                                    over ? "done" : "progress", data)
                         : -1;
            free(data);
            if (n < 0)
                return 1;
            s->len = (size_t)n;
            s->ended = over;
            s->last_sent = time(NULL);
            return 0;
        }
        free(key);
        json_decref(doc);
        if (time(NULL) - s->last_sent >= HEARTBEAT_S) {
            if (asprintf(&s->pending, ": keep-alive\n\n") < 0)
                return 1;
            s->len = strlen(s->pending);
            s->last_sent = time(NULL);
            return 0;
        }
        if (closing(s))
            return 1;
        wait_news(s);
    }
}

static long stream_read(void *ctx, char *buf, size_t max)
{
    stream *s = ctx;
    if (!s->pending) {
        if (s->ended || next_event(s) != 0)
            return 0;
        s->off = 0;
    }
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    if (s->off == s->len) {
        free(s->pending);
        s->pending = NULL;
    }
    return (long)n;
}

int api_h_batch_events(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    int64_t job;
    ds_err err = {0};
    if (parse_job(req->tail, &job) != 0 || job == 0) {
        http_respond_error(resp, 400, "a job id is a positive integer, not \"%s\"",
                           req->tail ? req->tail : "");
        return 0;
    }
    cat_job j = {0};
    if (!app->imports || cat_job_get(eng_catalog(app->engine), job, &j, &err) != 0) {
        http_respond_error(resp, 404, "no such job");
        return 0;
    }
    cat_job_clear(&j);
    stream *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->im = app->imports;
    s->job = job;
    resp->status = 200;
    resp->content_type = "text/event-stream";
    http_set_header(resp, "Cache-Control", "no-cache");
    resp->stream = stream_read;
    resp->stream_ctx = s;
    resp->stream_free = stream_free;
    return 0;
}

/* ---- GET /api/batch/jobs and /api/batch/roots ---------------------------------- */

int api_h_batch_jobs(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    long limit = 20;
    const char *v = http_params_get(&req->query, "limit");
    char *end;
    if (v && ((limit = strtol(v, &end, 10)) < 1 || limit > 200 || *end)) {
        http_respond_error(resp, 400, "limit must be an integer from 1 to 200");
        return 0;
    }
    int64_t ids[200];
    size_t n = 0;
    ds_err err = {0};
    if (cat_job_recent(eng_catalog(app->engine), 0, ids, (size_t)limit, &n, &err) != 0) {
        http_respond_error(resp, 500, "%s", err.msg);
        return 0;
    }
    json_t *jobs = json_array();
    for (size_t i = 0; i < n && app->imports; i++) {
        json_t *j = job_json(app->imports, ids[i], 0, &err);
        if (j)
            json_array_append_new(jobs, j);
    }
    http_respond_ok(resp, json_pack("{s:o}", "jobs", jobs));
    return 0;
}

static const char *entry_kind(const char *name, int is_dir)
{
    static const char *const names[] = {[IMP_OTHER] = NULL, [IMP_ARCHIVE] = "archive",
                                        [IMP_XML] = "xml", [IMP_IMAGE] = "image"};
    return is_dir ? "folder" : names[imp_kind_of(name)];
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* What can be imported at the top of a root: folders, archives, XML,
 * images (hidden files left out), sorted, at most 500. */
static json_t *root_entries(const char *root)
{
    json_t *list = json_array();
    DIR *d = opendir(root);
    struct dirent *de;
    while (d && (de = readdir(d)) && json_array_size(list) < 500) {
        if (de->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        struct stat st;
        /* A cut path would be another file's: such an entry is left out. */
        if (ds_snprintf(path, sizeof path, NULL, "%s/%s", root, de->d_name) != 0 ||
            stat(path, &st) != 0)
            continue;
        const char *kind = entry_kind(de->d_name, S_ISDIR(st.st_mode));
        if (kind && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
            json_array_append_new(list, json_pack("{s:s,s:s,s:I}", "name", de->d_name, "kind",
                                                  kind, "bytes", (json_int_t)st.st_size));
    }
    if (d)
        closedir(d);
    size_t n = json_array_size(list);
    json_t **items = malloc(sizeof *items * (n ? n : 1));
    for (size_t i = 0; items && i < n; i++)
        items[i] = json_incref(json_array_get(list, i));
    if (items) {
        qsort(items, n, sizeof *items, by_name);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, items[i]);
        free(items);
    }
    return list;
}

int api_h_batch_roots(void *app_, const http_request *req, http_response *resp)
{
    api_app *app = app_;
    (void)req;
    json_t *roots = json_array();
    for (int i = 0; app->imports && i < app->imports->n_roots; i++)
        json_array_append_new(roots, json_pack("{s:s,s:o}", "path", app->imports->roots[i],
                                               "entries", root_entries(app->imports->roots[i])));
    http_respond_ok(resp, json_pack("{s:o}", "roots", roots));
    return 0;
}
