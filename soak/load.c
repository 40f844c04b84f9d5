/* load.c - `dinoseek serve` under a bounded mixed load: throughput, latency
 * by kind of request, errors, and whether the server's memory and open
 * descriptors stay flat (issue #12, "load and soak").
 *
 *   load --bin DINOSEEK [--prep-bin DINOSEEK] [--seconds S | --requests N]
 *        [--warmup S] [--clients N] [--patents N] [--search-percent P]
 *        [--rss-growth PCT] [--sanitized]
 *
 * Makes a data directory (a generated ViT-S model, a generated USPTO week of
 * --patents patents imported by --prep-bin, default --bin), starts --bin
 * serve on 127.0.0.1 and finds the drawings and patents it serves. Then
 * --clients threads (default 8) send a weighted mix of requests: searches by
 * upload and by stored image, thumbnails, large and full images, patents,
 * stats, health, metrics, and an unknown patent (404 is its right answer);
 * searches by upload are --search-percent of them (default 15).
 * Half the clients keep their connection, half open one per request, so
 * connection setup and teardown are exercised too.
 *
 * A warm-up (--warmup S, default 10) comes first; after it, with no client
 * connected, the server's VmRSS and open descriptors are read; again after
 * the measured run (--seconds S, default 60, or --requests N in all). Flat
 * means: the same number of descriptors (connections all closed), and RSS
 * under load grown by less than --rss-growth percent (default 5) from
 * half-time to the end. Last, SIGTERM: the server must exit 0. With --sanitized (an ASan build) its stderr must hold
 * no sanitizer report, LeakSanitizer's at exit included; RSS is reported but
 * not judged, ASan's quarantine holding freed memory on purpose.
 *
 * Exit status 0 when every request got its expected status and all of the
 * above holds, 1 otherwise, 2 for bad arguments.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bench/harness.h"
#include "base/prng.h"
#include "model/generate.h"

#define QUERY_IMAGE "tests/fixtures/images/parity_photo.jpg"
#define MAX_CLIENTS 64
#define MAX_TARGETS 256

typedef struct options {
    const char *bin, *prep_bin;
    double seconds, warmup;
    long requests;
    int clients, patents, sanitized, search_percent;
    double rss_growth;
} options;

/* ---- the kinds of request ------------------------------------------------ */

typedef enum {
    K_SEARCH, K_SEARCH_STORED, K_THUMB, K_LARGE, K_FULL, K_PATENT, K_STATS, K_HEALTH,
    K_METRICS, K_MISSING, N_KINDS
} kind;

/* weight: out of 100; --search-percent moves some of the uploads' share to
 * thumbnails (an upload is embedded by the model: seconds under ASan). */
static struct {
    const char *name;
    int weight;
    long expect;
} kinds[N_KINDS] = {
    [K_SEARCH] = {"search (upload)", 15, 200},
    [K_SEARCH_STORED] = {"search (stored image)", 10, 200},
    [K_THUMB] = {"image thumbnail", 20, 200},
    [K_LARGE] = {"image ?size=large", 5, 200},
    [K_FULL] = {"image ?size=full", 10, 200},
    [K_PATENT] = {"patent", 15, 200},
    [K_STATS] = {"collection stats", 5, 200},
    [K_HEALTH] = {"health", 10, 200},
    [K_METRICS] = {"metrics", 5, 200},
    [K_MISSING] = {"unknown patent (404)", 5, 404},
};

/* What the server holds, found through its own API. */
typedef struct targets {
    char *images[MAX_TARGETS], *patents[MAX_TARGETS];
    int n_images, n_patents;
} targets;

/* Latencies and errors of one kind. */
typedef struct tally {
    double *ms;
    size_t n, cap;
    long errors;
} tally;

typedef struct run {
    int port;
    const targets *t;
    const char *query;
    size_t query_len;
    long budget;           /* requests left to start (--requests), or < 0: by time */
    int stop;
    pthread_mutex_t lock;  /* guards budget, tallies and the error log */
    tally tallies[N_KINDS];
    int errors_shown;
} run;

static kind pick_kind(ds_prng *r)
{
    int x = (int)(ds_prng_next(r) % 100), sum = 0;
    for (int k = 0; k < N_KINDS; k++)
        if (x < (sum += kinds[k].weight))
            return (kind)k;
    return K_HEALTH;
}

/* The URL path of a request of kind k (a target picked at random). */
static void request_path(kind k, const targets *t, ds_prng *r, char *out, size_t n)
{
    const char *img = t->images[ds_prng_next(r) % (uint64_t)t->n_images];
    const char *pat = t->patents[ds_prng_next(r) % (uint64_t)t->n_patents];
    switch (k) {
    case K_SEARCH: snprintf(out, n, "/api/search?top_k=10"); break;
    case K_SEARCH_STORED: snprintf(out, n, "/api/search?top_k=10&image=%s", img); break;
    case K_THUMB: snprintf(out, n, "/api/image/%s", img); break;
    case K_LARGE: snprintf(out, n, "/api/image/%s?size=large", img); break;
    case K_FULL: snprintf(out, n, "/api/image/%s?size=full", img); break;
    case K_PATENT: snprintf(out, n, "/api/patent/%s", pat); break;
    case K_STATS: snprintf(out, n, "/api/collection/stats"); break;
    case K_HEALTH: snprintf(out, n, "/health"); break;
    case K_METRICS: snprintf(out, n, "/metrics"); break;
    default: snprintf(out, n, "/api/patent/D9999999"); break;
    }
}

/* ---- one client ----------------------------------------------------------- */

typedef struct client {
    run *run;
    int id;
} client;

/* Whether another request may start: by time, or from the shared budget. */
static int may_start(run *r)
{
    if (__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST))
        return 0;
    if (r->budget < 0)
        return 1;
    pthread_mutex_lock(&r->lock);
    int ok = r->budget > 0;
    r->budget -= ok;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void tally_add(run *r, kind k, long status, CURLcode rc, double ms, const char *path)
{
    pthread_mutex_lock(&r->lock);
    tally *t = &r->tallies[k];
    if (rc != CURLE_OK || status != kinds[k].expect) {
        t->errors++;
        if (r->errors_shown++ < 10)
            fprintf(stderr, "load: %s %s: %s, HTTP %ld (expected %ld)\n", kinds[k].name, path,
                    curl_easy_strerror(rc), status, kinds[k].expect);
    } else {
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 1024;
            double *grown = realloc(t->ms, cap * sizeof *grown);
            if (grown)
                t->ms = grown, t->cap = cap;
        }
        if (t->n < t->cap)
            t->ms[t->n++] = ms;
    }
    pthread_mutex_unlock(&r->lock);
}

/* One request of kind k on handle c; its status, or 0. */
static long send_one(run *r, CURL *c, kind k, const char *path, CURLcode *rc)
{
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", r->port, path);
    curl_mime *mime = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (k == K_SEARCH) {
        mime = curl_mime_init(c);
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_data(part, r->query, r->query_len);
        curl_mime_filename(part, "query.jpg");
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    } else if (k == K_SEARCH_STORED) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    long status = 0;
    *rc = curl_easy_perform(c);
    if (*rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(mime);
    return status;
}

static void *client_main(void *arg)
{
    client *cl = arg;
    run *r = cl->run;
    ds_prng rng;
    ds_prng_seed(&rng, 1000u + (uint64_t)cl->id);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bh_discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    /* Odd clients: a new connection for every request. */
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, (long)(cl->id & 1));
    while (may_start(r)) {
        kind k = pick_kind(&rng);
        char path[600];
        request_path(k, r->t, &rng, path, sizeof path);
        CURLcode rc;
        double t0 = bh_now_ms();
        long status = send_one(r, c, k, path, &rc);
        tally_add(r, k, status, rc, bh_now_ms() - t0, path);
    }
    curl_easy_cleanup(c); /* closes a kept connection: the server's fd goes too */
    return NULL;
}

/* Every tenth of a run: the server's RSS and descriptors, to see a trend. */
static void trace(run *r, pid_t pid, double t0, double *next, double step)
{
    double s = (bh_now_ms() - t0) / 1000;
    if (step <= 0 || s < *next)
        return;
    long n = 0;
    pthread_mutex_lock(&r->lock);
    for (int k = 0; k < N_KINDS; k++)
        n += (long)r->tallies[k].n + r->tallies[k].errors;
    pthread_mutex_unlock(&r->lock);
    printf("  %6.0f s: %7ld requests, RSS %.1f MB (anonymous %.1f, files %.1f), %d descriptors\n",
           s, n, bh_rss_kb(pid) / 1024.0, bh_status_kb(pid, "RssAnon") / 1024.0,
           bh_status_kb(pid, "RssFile") / 1024.0, bh_fd_count(pid));
    *next += step;
}

/* The server's RSS under load: the largest seen, at half-time (of the time,
 * or of the requests), and the last before the clients stop (KiB). */
typedef struct rss_marks {
    long peak, half, last;
} rss_marks;

/* Whether the run is over, and (*past_half) whether half of it is. */
static int run_over(run *r, double seconds, long requests, double t0, int *past_half)
{
    if (requests >= 0) {
        long left = __atomic_load_n(&r->budget, __ATOMIC_SEQ_CST);
        *past_half = left <= requests / 2;
        return left <= 0;
    }
    double ms = bh_now_ms() - t0;
    *past_half = ms >= seconds * 500;
    return ms >= seconds * 1000;
}

/* Run the clients until `seconds` pass (requests < 0) or `requests` have
 * been sent, tracing every trace_s seconds (0: not) and taking RSS marks.
 * Returns the wall time. */
static double drive(run *r, int clients, double seconds, long requests, pid_t pid,
                    rss_marks *m, double trace_s)
{
    double next = trace_s;
    pthread_t th[MAX_CLIENTS];
    client cl[MAX_CLIENTS];
    r->stop = 0;
    r->budget = requests;
    m->half = 0;
    double t0 = bh_now_ms();
    for (int i = 0; i < clients; i++) {
        cl[i] = (client){r, i};
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    for (int over = 0, past_half = 0; !over;) {
        usleep(100000);
        m->last = bh_rss_kb(pid);
        m->peak = m->last > m->peak ? m->last : m->peak;
        trace(r, pid, t0, &next, trace_s);
        over = run_over(r, seconds, requests, t0, &past_half);
        if (past_half && !m->half)
            m->half = m->last;
    }
    __atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    return (bh_now_ms() - t0) / 1000;
}

static void tallies_reset(run *r)
{
    for (int k = 0; k < N_KINDS; k++) {
        free(r->tallies[k].ms);
        r->tallies[k] = (tally){0};
    }
    r->errors_shown = 0;
}

/* ---- preparing the data, and finding what it holds ------------------------ */

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "load: failed (%d): %s\n", rc, cmd);
    return rc;
}

/* dir/model, and dir/data with a generated week imported. */
static int prepare(const options *o, const char *dir)
{
    char model[600], cmd[2400];
    ds_err err = {0};
    snprintf(model, sizeof model, "%s/model", dir);
    if (mdl_generate("small", 1, ST_F32, model, &err) != 0) {
        fprintf(stderr, "load: %s\n", err.msg);
        return -1;
    }
    snprintf(cmd, sizeof cmd,
             "%s sample generate %s/week --patents %d --seed 7 --views-min 2 --views-max 4 "
             "--size 600x800 --no-tar >/dev/null 2>&1 && "
             "%s import %s/week --data %s/data --model %s >/dev/null 2>&1",
             o->prep_bin, dir, o->patents, o->prep_bin, dir, dir, model);
    return sh(cmd) == 0 ? 0 : -1;
}

static size_t keep_body(char *p, size_t size, size_t n, void *ud)
{
    char **body = ud;
    size_t old = *body ? strlen(*body) : 0;
    char *grown = realloc(*body, old + size * n + 1);
    if (!grown)
        return 0;
    memcpy(grown + old, p, size * n);
    grown[old + size * n] = '\0';
    *body = grown;
    return size * n;
}

static void add_unique(char **list, int *n, const char *s)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(list[i], s) == 0)
            return;
    if (*n < MAX_TARGETS)
        list[(*n)++] = strdup(s);
}

/* The drawings and patents the server holds: every result of a search by
 * stored image for the first image a search by upload returned. */
static int find_targets(int port, targets *t)
{
    char *body = NULL, url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/search?top_k=%d", port, MAX_TARGETS);
    CURL *c = curl_easy_init();
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *part = curl_mime_addpart(mime);
    curl_mime_name(part, "file");
    curl_mime_filedata(part, QUERY_IMAGE);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(c);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    json_t *doc = rc == CURLE_OK && body ? json_loads(body, 0, NULL) : NULL;
    json_t *results = json_object_get(json_object_get(doc, "data"), "results");
    size_t i;
    json_t *hit;
    json_array_foreach(results, i, hit) {
        const char *name = json_string_value(json_object_get(hit, "file_name"));
        const char *patent = json_string_value(json_object_get(hit, "patent_id"));
        if (name)
            add_unique(t->images, &t->n_images, name);
        if (patent)
            add_unique(t->patents, &t->n_patents, patent);
    }
    json_decref(doc);
    free(body);
    return t->n_images > 0 && t->n_patents > 0 ? 0 : -1;
}

/* ---- the report ----------------------------------------------------------- */

static long report(run *r, double wall_s)
{
    long total = 0, errors = 0;
    printf("  %-22s %8s %8s %9s %9s %7s\n", "kind", "requests", "req/s", "p50 ms", "p99 ms",
           "errors");
    for (int k = 0; k < N_KINDS; k++) {
        tally *t = &r->tallies[k];
        qsort(t->ms, t->n, sizeof *t->ms, bh_cmp_double);
        printf("  %-22s %8zu %8.1f %9.1f %9.1f %7ld\n", kinds[k].name, t->n + (size_t)t->errors,
               (double)t->n / wall_s, bh_quantile(t->ms, t->n, 0.5),
               bh_quantile(t->ms, t->n, 0.99), t->errors);
        total += (long)t->n + t->errors;
        errors += t->errors;
    }
    printf("  %-22s %8ld %8.1f %9s %9s %7ld\n", "all", total, (double)total / wall_s, "", "",
           errors);
    return errors;
}

/* Descriptors once the closed connections are gone: the count, read until
 * it equals want or stops changing (up to 10 s). */
static int settled_fds(pid_t pid, int want)
{
    int last = -2, n = bh_fd_count(pid);
    for (double t0 = bh_now_ms(); n != want && bh_now_ms() - t0 < 10000;) {
        usleep(500000);
        last = n;
        n = bh_fd_count(pid);
        if (want < 0 && n == last)
            break;
    }
    return n;
}

/* A sanitizer's report in the server's stderr, if any: its first line. */
static int sanitizer_report(const char *log_path)
{
    FILE *f = fopen(log_path, "r");
    char line[1024];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "ERROR: LeakSanitizer") || strstr(line, "ERROR: AddressSanitizer") ||
            strstr(line, "runtime error:")) {
            if (!found++)
                fprintf(stderr, "load: sanitizer report in %s: %s", log_path, line);
        }
    if (f)
        fclose(f);
    return found;
}

/* ---- main ------------------------------------------------------------------ */

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.seconds = 60, .warmup = 10, .requests = -1, .clients = 8, .patents = 40,
                   .rss_growth = 5, .search_percent = 15};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--sanitized")) {
            o->sanitized = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(a, "--bin")) o->bin = v;
        else if (!strcmp(a, "--prep-bin")) o->prep_bin = v;
        else if (!strcmp(a, "--seconds")) o->seconds = atof(v);
        else if (!strcmp(a, "--requests")) o->requests = atol(v);
        else if (!strcmp(a, "--warmup")) o->warmup = atof(v);
        else if (!strcmp(a, "--clients")) o->clients = atoi(v);
        else if (!strcmp(a, "--patents")) o->patents = atoi(v);
        else if (!strcmp(a, "--rss-growth")) o->rss_growth = atof(v);
        else if (!strcmp(a, "--search-percent")) o->search_percent = atoi(v);
        else return -1;
    }
    if (!o->prep_bin)
        o->prep_bin = o->bin;
    if (o->search_percent < 0 || o->search_percent > kinds[K_SEARCH].weight)
        return -1;
    kinds[K_THUMB].weight += kinds[K_SEARCH].weight - o->search_percent;
    kinds[K_SEARCH].weight = o->search_percent;
    return o->bin && o->clients >= 1 && o->clients <= MAX_CLIENTS && o->patents >= 1 &&
                   o->seconds > 0 && o->warmup >= 0 ? 0 : -1;
}

static int read_query(run *r)
{
    static char buf[1 << 20];
    FILE *f = fopen(QUERY_IMAGE, "rb");
    r->query = buf;
    r->query_len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    return r->query_len ? 0 : -1;
}

/* Warm up, measure, judge. Returns the number of failed checks. */
static int soak(const options *o, run *r, pid_t pid)
{
    rss_marks warm = {0}, m = {0};
    drive(r, o->clients, o->warmup, o->warmup > 0 ? -1 : 0, pid, &warm, 0);
    long warm_errors = 0;
    for (int k = 0; k < N_KINDS; k++)
        warm_errors += r->tallies[k].errors;
    tallies_reset(r);
    int fd0 = settled_fds(pid, -1);
    long rss0 = bh_rss_kb(pid);
    printf("load: after warm-up, RSS %.1f MB (anonymous %.1f, files %.1f), %d descriptors; then:\n",
           rss0 / 1024.0, bh_status_kb(pid, "RssAnon") / 1024.0,
           bh_status_kb(pid, "RssFile") / 1024.0, fd0);
    double wall = drive(r, o->clients, o->seconds, o->requests, pid, &m,
                        o->requests < 0 ? o->seconds / 10 : 0);
    printf("load: %d clients, %.1f s%s:\n", o->clients, wall, o->requests >= 0 ? "" : " (timed)");
    long errors = report(r, wall) + warm_errors;
    int fd1 = settled_fds(pid, fd0);
    long rss1 = bh_rss_kb(pid);
    /* Judged under load at half-time and at the end: a leak keeps growing
     * with the requests, while the allocator's high-water mark (how many
     * searches happened to overlap) is reached early and stays. */
    double growth = m.half > 0 ? 100.0 * (double)(m.last - m.half) / (double)m.half : 0;
    printf("server RSS idle after warm-up %.1f MB, idle at the end %.1f MB (%+.1f%%)\n",
           rss0 / 1024.0, rss1 / 1024.0, rss0 > 0 ? 100.0 * (double)(rss1 - rss0) / rss0 : 0);
    printf("server RSS under load at half-time %.1f MB, at the end %.1f MB (%+.1f%%), "
           "peak %.1f MB\n", m.half / 1024.0, m.last / 1024.0, growth, m.peak / 1024.0);
    printf("server open descriptors after warm-up %d, at the end %d\n", fd0, fd1);
    int failed = 0;
    if (errors) {
        printf("FAIL: %ld requests had an unexpected answer (%ld in the warm-up)\n", errors,
               warm_errors);
        failed++;
    }
    if (fd1 != fd0) {
        printf("FAIL: open descriptors went from %d to %d\n", fd0, fd1);
        failed++;
    }
    if (!o->sanitized && growth >= o->rss_growth) {
        printf("FAIL: RSS grew %.1f%% over the second half (limit %.0f%%)\n", growth,
               o->rss_growth);
        failed++;
    }
    return failed;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows as it happens, even into a pipe */
    options o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: load --bin DINOSEEK [--prep-bin DINOSEEK] [--seconds S | "
                        "--requests N] [--warmup S] [--clients N] [--patents N] "
                        "[--search-percent P] [--rss-growth PCT] [--sanitized]\n");
        return 2;
    }
    run r = {.t = NULL};
    pthread_mutex_init(&r.lock, NULL);
    char dir[] = "/tmp/dinoseek-soak-load-XXXXXX", data[600], model[600], log[600], cmd[700];
    if (read_query(&r) != 0 || !mkdtemp(dir)) {
        fprintf(stderr, "load: run from the repository root (%s is needed)\n", QUERY_IMAGE);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(model, sizeof model, "%s/model", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);
    double t0 = bh_now_ms();
    int failed = prepare(&o, dir) != 0;
    printf("load: data prepared (%d patents imported) in %.1f s\n", o.patents,
           (bh_now_ms() - t0) / 1000);
    int port = bh_free_port();
    pid_t pid = failed ? -1 : bh_serve(o.bin, data, model, port, NULL, log, 120000, NULL);
    static targets t; /* 4 KiB of pointers: off the stack */
    if (pid < 0 || find_targets(port, &t) != 0) {
        fprintf(stderr, "load: the server did not start or serves nothing (log: %s)\n", log);
        failed = 1;
    }
    if (!failed) {
        printf("load: serving %d drawings of %d patents on port %d\n", t.n_images, t.n_patents,
               port);
        r.port = port;
        r.t = &t;
        failed = soak(&o, &r, pid);
    }
    if (pid > 0) {
        int status = bh_stop(pid, 120000);
        printf("server exit status after SIGTERM: %d\n", status);
        failed += status != 0;
    }
    if (o.sanitized && pid > 0) {
        int reports = sanitizer_report(log);
        printf("sanitizer reports (LeakSanitizer at exit included): %s\n",
               reports ? "FOUND" : "none");
        failed += reports != 0;
    }
    tallies_reset(&r);
    for (int i = 0; i < t.n_images; i++)
        free(t.images[i]);
    for (int i = 0; i < t.n_patents; i++)
        free(t.patents[i]);
    printf("%s\n", failed ? "load: FAILED" : "load: passed");
    if (!failed) { /* kept for a look when something failed */
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        sh(cmd);
    } else {
        fprintf(stderr, "load: kept %s\n", dir);
    }
    return failed ? 1 : 0;
}
