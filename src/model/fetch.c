/* fetch.c - download official model files from the Hugging Face hub
 * (see fetch.h).
 *
 * For each file: a HEAD request to {endpoint}/{repo}/resolve/{rev}/{file},
 * not following redirects, tells the expected sha256 (X-Linked-Etag, or an
 * ETag that is 64 hex digits) and size (X-Linked-Size, or Content-Length of
 * a 200), and where the bytes are (the CDN Location of an LFS file). A file
 * already in the cache with a matching "<file>.sha256" sidecar is skipped.
 * Otherwise the bytes go into "<file>.part" (resumed with a Range request
 * when one is there), are hashed as they arrive, checked, fsync'ed and
 * renamed into place, and the sidecar is written.
 */
#include "model/fetch.h"

#include "base/sha256.h"
#include "model/gitsha1.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef DS_VERSION
#define DS_VERSION "unknown"
#endif

#define URL_MAX 4096
#define PATH_MAX_ 4096
#define DEFAULT_ENDPOINT "https://huggingface.co"

/* The files of a model repo, in download order. */
static const struct {
    const char *name;
    int optional; /* a 404 means "this repo has none": skip it */
} repo_files[] = {
    {"config.json", 0},
    {"model.safetensors", 0},
    {"preprocessor_config.json", 1},
};

/* One mdl_fetch call. One curl handle serves every request, so the
 * connection to the hub is reused. */
typedef struct fetcher {
    CURL *curl;
    const char *repo;
    char endpoint[URL_MAX];     /* hub base URL, no trailing '/' */
    char revision[512];         /* URL-escaped */
    char dir[PATH_MAX_];        /* <cache>/<owner>--<name> */
    int progress;
    long connect_timeout_s;
    struct curl_slist *auth;    /* "Authorization: Bearer $HF_TOKEN" or NULL */
    char errbuf[CURL_ERROR_SIZE];
    ds_err *err;
} fetcher;

/* Headers of one HEAD response. */
typedef struct head_info {
    char linked_etag[128], etag[128], error_code[64];
    char linked_size[32], content_length[32];
} head_info;

/* What the hub says about one file. */
typedef struct remote_file {
    char get_url[URL_MAX]; /* where to GET the bytes */
    int get_auth;          /* the GET goes to the hub itself: send the token */
    char sha256[DS_SHA256_HEXLEN + 1]; /* expected, "" when unknown */
    char git_sha1[MDL_GIT_SHA1_HEXLEN + 1]; /* a git-stored file's blob id, or "" */
    long long size;        /* expected, -1 when unknown */
} remote_file;

/* One file being downloaded into its .part. */
typedef struct download {
    fetcher *f;
    const char *name;
    int fd;              /* the .part, open read-write */
    long long pos;       /* bytes in the .part = bytes hashed */
    long long total;     /* expected size or -1 */
    ds_sha256 sha;       /* over bytes [0, pos) */
    char hex[DS_SHA256_HEXLEN + 1]; /* the final digest, once verified */
    int checked;         /* the status of this response was looked at */
    long bad_status;     /* an error status whose body we refused */
    int io_errno;        /* a write to the .part failed */
    long long resumed_at; /* offset the last request started from */
    /* progress */
    double t0, last_draw;
    long long start_pos;
    int last_decile, tty, drawn;
} download;

/* ---- small helpers ---------------------------------------------------- */

/* snprintf that reports truncation: 0, or -1 when out was too small. */
static int fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *out, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int w = vsnprintf(out, n, f, ap);
    va_end(ap);
    return (w < 0 || (size_t)w >= n) ? -1 : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int is_hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return i == DS_SHA256_HEXLEN;
}

/* An ETag ("W/\"abc\"" or "\"abc\"") as lower-case hex: into sha256 when it
 * is 64 hex digits (an LFS file's), into git_sha1 when 40 (the git blob id
 * of a file kept in git); each "" otherwise. */
static void etag_ids(const char *etag, char sha256[DS_SHA256_HEXLEN + 1],
                     char git_sha1[MDL_GIT_SHA1_HEXLEN + 1])
{
    char v[128];
    size_t n = 0;
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    for (; *etag && n + 1 < sizeof v; etag++)
        if (*etag != '"')
            v[n++] = (char)(*etag >= 'A' && *etag <= 'F' ? *etag + 32 : *etag);
    v[n] = '\0';
    sha256[0] = git_sha1[0] = '\0';
    if (is_hex64(v))
        memcpy(sha256, v, DS_SHA256_HEXLEN + 1);
    else if (n == MDL_GIT_SHA1_HEXLEN && strspn(v, "0123456789abcdef") == n)
        memcpy(git_sha1, v, MDL_GIT_SHA1_HEXLEN + 1);
}

static long long parse_size(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return (s[0] == '\0' || *end != '\0' || errno || v < 0) ? -1 : v;
}

/* "scheme://host" (with ":port" when with_port, default ports filled in)
 * of url into out. Returns 0, or -1 when url does not parse. */
static int url_origin(const char *url, int with_port, char *out, size_t n)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    CURLU *u = curl_url();
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    rc = with_port ? fmt(out, n, "%s://%s:%s", scheme, host, port)
                   : fmt(out, n, "%s://%s", scheme, host);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* Whether url is on the same scheme, host and port as the hub endpoint. */
static int same_origin(const fetcher *f, const char *url)
{
    char a[1024], b[1024];
    return url_origin(f->endpoint, 1, a, sizeof a) == 0 &&
           url_origin(url, 1, b, sizeof b) == 0 && strcasecmp(a, b) == 0;
}

/* mkdir -p. Returns 0 or -1 with errno set. */
static int mkdir_p(const char *path)
{
    char buf[PATH_MAX_];
    if (fmt(buf, sizeof buf, "%s", path) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return (mkdir(buf, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

/* ---- names and options ------------------------------------------------ */

static int valid_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* "owner/name": one '/', both parts 1..96 of [A-Za-z0-9._-], no "..". */
static int valid_repo(const char *repo)
{
    if (!repo || strstr(repo, ".."))
        return 0;
    const char *slash = strchr(repo, '/');
    if (!slash || strchr(slash + 1, '/'))
        return 0;
    size_t owner = (size_t)(slash - repo), name = strlen(slash + 1);
    if (owner == 0 || owner > 96 || name == 0 || name > 96)
        return 0;
    for (const char *p = repo; *p; p++)
        if (p != slash && !valid_name_char(*p))
            return 0;
    return 1;
}

/* A branch, tag or commit: [A-Za-z0-9._-/], no "..", '/' escaped as %2F
 * ("refs/pr/1" -> "refs%2Fpr%2F1") into out. */
static int escape_revision(const char *rev, char *out, size_t n, ds_err *err)
{
    size_t k = 0;
    if (!rev[0] || strstr(rev, ".."))
        goto bad;
    for (const char *p = rev; *p; p++) {
        if (!valid_name_char(*p) && *p != '/')
            goto bad;
        if (k + 4 >= n)
            goto bad;
        if (*p == '/') {
            memcpy(out + k, "%2F", 3);
            k += 3;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = '\0';
    return 0;
bad:
    return ds_fail(err, DS_EINVAL, "invalid revision \"%.100s\": expected a branch, tag or commit",
                   rev);
}

const char *mdl_cache_dir(void)
{
    static char path[PATH_MAX_];
    const char *env = getenv("DINOSEEK_MODEL_CACHE");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (env && *env)
        fmt(path, sizeof path, "%s", env);
    else if (xdg && *xdg)
        fmt(path, sizeof path, "%s/dinoseek/models", xdg);
    else
        fmt(path, sizeof path, "%s/.cache/dinoseek/models", home && *home ? home : ".");
    return path;
}

int mdl_repo_dir(const char *cache_dir, const char *repo, char *out, size_t n, ds_err *err)
{
    if (!valid_repo(repo))
        return ds_fail(err, DS_EINVAL,
                       "invalid repository \"%.200s\": expected owner/name made of letters, "
                       "digits, '.', '_' and '-' (e.g. facebook/dinov2-small)",
                       repo ? repo : "(null)");
    const char *slash = strchr(repo, '/');
    if (fmt(out, n, "%s/%.*s--%s", cache_dir, (int)(slash - repo), repo, slash + 1) != 0)
        return ds_fail(err, DS_EINVAL, "model directory path too long for %s", repo);
    return 0;
}

static const char *pick_endpoint(const mdl_fetch_opts *o)
{
    const char *e = o ? o->endpoint : NULL;
    if (!e || !*e)
        e = getenv("DINOSEEK_HF_ENDPOINT");
    if (!e || !*e)
        e = getenv("HF_ENDPOINT");
    return e && *e ? e : DEFAULT_ENDPOINT;
}

/* The HF_TOKEN header, if the variable is set. */
static int make_auth(fetcher *f)
{
    const char *tok = getenv("HF_TOKEN");
    char line[2048];
    if (!tok || !*tok)
        return 0;
    if (strpbrk(tok, "\r\n") || fmt(line, sizeof line, "Authorization: Bearer %s", tok) != 0)
        return ds_fail(f->err, DS_EINVAL, "HF_TOKEN is malformed (too long or has a newline)");
    f->auth = curl_slist_append(NULL, line);
    return f->auth ? 0 : ds_fail(f->err, DS_ENOMEM, "out of memory");
}

/* Fill f from the options. */
static int fetcher_setup(fetcher *f, const char *repo, const mdl_fetch_opts *o)
{
    const char *cache = o && o->cache_dir && *o->cache_dir ? o->cache_dir : mdl_cache_dir();
    const char *rev = o && o->revision && *o->revision ? o->revision : "main";
    f->repo = repo;
    f->progress = o ? o->progress : 0;
    f->connect_timeout_s = o && o->connect_timeout_s > 0 ? o->connect_timeout_s : 10;
    if (mdl_repo_dir(cache, repo, f->dir, sizeof f->dir, f->err) != 0 ||
        escape_revision(rev, f->revision, sizeof f->revision, f->err) != 0)
        return -1;
    /* Each revision but main (the directory caches made before used) has
     * its own directory, so that the files of two revisions never pair. */
    size_t used = strlen(f->dir);
    if (strcmp(rev, "main") != 0 &&
        fmt(f->dir + used, sizeof f->dir - used, "@%s", f->revision) != 0)
        return ds_fail(f->err, DS_EINVAL, "model directory path too long for %s", repo);
    if (fmt(f->endpoint, sizeof f->endpoint, "%s", pick_endpoint(o)) != 0)
        return ds_fail(f->err, DS_EINVAL, "hub endpoint URL too long");
    for (size_t n = strlen(f->endpoint); n > 0 && f->endpoint[n - 1] == '/'; n--)
        f->endpoint[n - 1] = '\0';
    if (strncmp(f->endpoint, "http://", 7) != 0 && strncmp(f->endpoint, "https://", 8) != 0)
        return ds_fail(f->err, DS_EINVAL, "hub endpoint \"%.200s\" is not an http(s) URL",
                       f->endpoint);
    if (mkdir_p(f->dir) != 0)
        return ds_fail(f->err, DS_EIO, "cannot create %s: %s", f->dir, strerror(errno));
    return make_auth(f);
}

/* ---- curl plumbing ---------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* Reset the handle and set what every request shares. */
static void common_opts(fetcher *f, const char *url)
{
    CURL *c = f->curl;
    curl_easy_reset(c);
    f->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "dinoseek/" DS_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, f->connect_timeout_s);
    /* A stalled transfer (under 1 byte/s for a minute) fails rather than
     * hanging forever; the .part stays for the next run to resume. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
}

/* A transport failure (no HTTP status) as a ds_err. */
static int curl_fail(fetcher *f, CURLcode rc, const char *url, const char *what)
{
    const char *detail = f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc);
    curl_off_t connect_us = 0;
    curl_easy_getinfo(f->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
    char origin[1024];
    if (url_origin(url, 0, origin, sizeof origin) != 0)
        fmt(origin, sizeof origin, "%s", f->endpoint);
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
        rc == CURLE_COULDNT_CONNECT || (rc == CURLE_OPERATION_TIMEDOUT && connect_us == 0))
        return ds_fail(f->err, DS_ENET,
                       "cannot reach %s (%s): model download needs network access; use "
                       "`dinoseek model generate` for offline test weights",
                       origin, detail);
    return ds_fail(f->err, DS_ENET, "%s from %s: %s", what, origin, detail);
}

/* An HTTP error status as a ds_err; x_error is the hub's X-Error-Code. */
static int http_fail(fetcher *f, long code, const char *url, const char *x_error)
{
    if (strcmp(x_error, "RepositoryNotFound") == 0)
        return ds_fail(f->err, DS_ENOTFOUND,
                       "repository %s not found (HTTP %ld for %.600s); if it is private or "
                       "gated, set HF_TOKEN",
                       f->repo, code, url);
    if (code == 404)
        return ds_fail(f->err, DS_ENOTFOUND, "not found (HTTP 404): %.800s", url);
    if (code == 401 || code == 403)
        return ds_fail(f->err, DS_ENET,
                       "access denied (HTTP %ld) for %.700s: the repository may be gated, "
                       "private or missing; set HF_TOKEN to a token that has access",
                       code, url);
    return ds_fail(f->err, DS_ENET, "HTTP %ld for %.800s%s", code, url,
                   code >= 500 ? " (server error; try again later)" : "");
}

/* Copy the value of header line `line` (n bytes) into out if it is `name`. */
static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
        return;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t len = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t on_head_header(char *line, size_t size, size_t nitems, void *ud)
{
    head_info *h = ud;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        memset(h, 0, sizeof *h); /* a new response starts */
        return n;
    }
    header_value(line, n, "X-Linked-Etag", h->linked_etag, sizeof h->linked_etag);
    header_value(line, n, "X-Linked-Size", h->linked_size, sizeof h->linked_size);
    header_value(line, n, "ETag", h->etag, sizeof h->etag);
    header_value(line, n, "Content-Length", h->content_length, sizeof h->content_length);
    header_value(line, n, "X-Error-Code", h->error_code, sizeof h->error_code);
    return n;
}

/* One HEAD request, redirects not followed. On success *code is the
 * status and redirect (size rn) the absolute Location, "" when none. */
static int head_once(fetcher *f, const char *url, head_info *h, long *code, char *redirect,
                     size_t rn)
{
    char *loc = NULL;
    memset(h, 0, sizeof *h);
    common_opts(f, url);
    curl_easy_setopt(f->curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_head_header);
    curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, h);
    /* The token goes only to the hub itself: this request is to the
     * endpoint (or a same-origin redirect of it) and follows nothing. */
    if (f->auth)
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, f->auth);
    CURLcode rc = curl_easy_perform(f->curl);
    if (rc != CURLE_OK)
        return curl_fail(f, rc, url, "asking");
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, code);
    curl_easy_getinfo(f->curl, CURLINFO_REDIRECT_URL, &loc);
    if (fmt(redirect, rn, "%s", loc ? loc : "") != 0)
        return ds_fail(f->err, DS_ENET, "redirect URL too long from %s", url);
    return 0;
}

/* HEAD a file: fill rf. *absent is set for an optional file the repo lacks.
 * Redirects within the hub (a renamed repo) are followed, up to 5. */
static int head_file(fetcher *f, const char *name, int optional, remote_file *rf, int *absent)
{
    char url[URL_MAX], redirect[URL_MAX];
    head_info h;
    long code = 0;
    *absent = 0;
    if (fmt(url, sizeof url, "%s/%s/resolve/%s/%s", f->endpoint, f->repo, f->revision, name))
        return ds_fail(f->err, DS_EINVAL, "URL too long for %s", name);
    for (int hop = 0;; hop++) {
        if (head_once(f, url, &h, &code, redirect, sizeof redirect) != 0)
            return -1;
        if (code < 300 || code >= 400 || h.linked_etag[0] || !redirect[0] ||
            !same_origin(f, redirect) || hop == 5)
            break;
        memcpy(url, redirect, sizeof url);
    }
    if (optional && code == 404) {
        *absent = 1;
        return 0;
    }
    if (code < 200 || code >= 400 || (code >= 300 && !redirect[0]))
        return http_fail(f, code, url, h.error_code);
    etag_ids(h.linked_etag[0] ? h.linked_etag : h.etag, rf->sha256, rf->git_sha1);
    rf->size = h.linked_size[0] ? parse_size(h.linked_size)
               : code == 200    ? parse_size(h.content_length)
                                : -1;
    /* The CDN of an LFS file is another host with a signed URL: it gets no
     * token. A 200 means the bytes come from the hub: the token goes along. */
    const char *get = code >= 300 ? redirect : url;
    rf->get_auth = same_origin(f, get);
    return fmt(rf->get_url, sizeof rf->get_url, "%s", get) == 0
               ? 0
               : ds_fail(f->err, DS_ENET, "URL too long for %s", name);
}

/* ---- the cache -------------------------------------------------------- */

/* Hash the first `len` bytes of fd (from offset 0) into s. Reads in 256 KiB
 * pieces; leaves the file offset at len. */
static int hash_fd(int fd, long long len, ds_sha256 *s)
{
    enum { CHUNK = 1 << 18 };
    unsigned char *buf = malloc(CHUNK);
    int rc = -1;
    if (!buf || lseek(fd, 0, SEEK_SET) != 0)
        goto out;
    for (long long done = 0; done < len;) {
        size_t want = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
        ssize_t got = read(fd, buf, want);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            goto out;
        }
        ds_sha256_update(s, buf, (size_t)got);
        done += got;
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

/* The sidecar "<dir>/<name>.sha256": "<hex> <size>\n". Returns 0 when read. */
static int read_sidecar(const fetcher *f, const char *name, char hex[65], long long *size)
{
    char path[PATH_MAX_], line[128], *sp;
    if (fmt(path, sizeof path, "%s/%s.sha256", f->dir, name) != 0)
        return -1;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    int ok = fgets(line, sizeof line, fp) != NULL;
    fclose(fp);
    if (!ok || !(sp = strchr(line, ' ')) || sp - line != DS_SHA256_HEXLEN)
        return -1;
    *sp = '\0';
    sp[1 + strcspn(sp + 1, "\n")] = '\0';
    memcpy(hex, line, DS_SHA256_HEXLEN + 1);
    *size = parse_size(sp + 1);
    return is_hex64(hex) && *size >= 0 ? 0 : -1;
}

/* Best effort: a missing sidecar only costs one rehash on the next run. */
static void write_sidecar(const fetcher *f, const char *name, const char *hex, long long size)
{
    char path[PATH_MAX_];
    if (fmt(path, sizeof path, "%s/%s.sha256", f->dir, name) != 0)
        return;
    FILE *fp = fopen(path, "w");
    if (!fp)
        return;
    fprintf(fp, "%s %lld\n", hex, size);
    fclose(fp);
}

/* Whether the file at path has this git blob id. Files kept in git are
 * small (the hub puts anything over 10 MB in LFS), so it is read whole. */
static int same_git_blob(const char *path, const char *want)
{
    enum { MAX_GIT_FILE = 64 << 20 };
    struct stat st;
    char got[MDL_GIT_SHA1_HEXLEN + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC), same = 0;
    if (fd < 0)
        return 0;
    unsigned char *buf = fstat(fd, &st) == 0 && st.st_size <= MAX_GIT_FILE
                             ? malloc((size_t)st.st_size + 1)
                             : NULL;
    size_t have = 0;
    while (buf && have < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + have, (size_t)st.st_size - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    if (buf && have == (size_t)st.st_size) {
        mdl_git_blob_sha1(buf, have, got);
        same = strcmp(got, want) == 0;
    }
    free(buf);
    close(fd);
    return same;
}

/* Whether the final file is already there and matches rf. With a sha256 and
 * a sidecar that agrees this costs a stat; without the sidecar, one pass over
 * the file (which then writes the sidecar). */
static int already_complete(const fetcher *f, const char *name, const remote_file *rf)
{
    char path[PATH_MAX_], side[DS_SHA256_HEXLEN + 1], hex[DS_SHA256_HEXLEN + 1];
    long long side_size = -1;
    struct stat st;
    if (fmt(path, sizeof path, "%s/%s", f->dir, name) != 0 || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode) || (rf->size >= 0 && st.st_size != rf->size))
        return 0;
    if (!rf->sha256[0] && rf->git_sha1[0])
        return same_git_blob(path, rf->git_sha1);
    if (!rf->sha256[0])
        return rf->size >= 0; /* no hash to go by: the size has to do */
    if (read_sidecar(f, name, side, &side_size) == 0 && side_size == st.st_size)
        return strcmp(side, rf->sha256) == 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ds_sha256 s;
    uint8_t d[DS_SHA256_LEN];
    ds_sha256_init(&s);
    int ok = fd >= 0 && hash_fd(fd, (long long)st.st_size, &s) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok)
        return 0;
    ds_sha256_final(&s, d);
    ds_sha256_hex(d, hex);
    if (strcmp(hex, rf->sha256) != 0)
        return 0;
    write_sidecar(f, name, hex, (long long)st.st_size);
    return 1;
}

/* ---- progress --------------------------------------------------------- */

static void fmt_eta(double s, char *out, size_t n)
{
    if (s < 0 || s > 360000) {
        fmt(out, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        fmt(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        fmt(out, n, "%ld:%02ld", t / 60, t % 60);
}

/* "12.3/27.0 MB", or "12.3 MB" when the size is unknown. */
static void fmt_amount(const download *d, char *out, size_t n)
{
    if (d->total >= 0)
        fmt(out, n, "%.1f/%.1f MB", (double)d->pos / 1e6, (double)d->total / 1e6);
    else
        fmt(out, n, "%.1f MB", (double)d->pos / 1e6);
}

/* Draw the bar (a TTY, at most 5 times a second) or print a line at each
 * further 10% (not a TTY). final: the transfer is over. */
static void progress_draw(download *d, int final)
{
    double t = now_s(), el = t - d->t0;
    double rate = el > 0 ? (double)(d->pos - d->start_pos) / el : 0;
    int pct = d->total > 0 ? (int)(100 * d->pos / d->total) : d->total == 0 ? 100 : 0;
    char eta[32], amount[64];
    if (d->tty && !final && t - d->last_draw < 0.2)
        return;
    if (!d->tty && pct / 10 <= d->last_decile && !(final && !d->drawn))
        return;
    fmt_eta(d->total > 0 && rate > 0 ? (double)(d->total - d->pos) / rate : -1, eta, sizeof eta);
    fmt_amount(d, amount, sizeof amount);
    if (d->tty) {
        char bar[31];
        for (int i = 0; i < 30; i++)
            bar[i] = i < pct * 30 / 100 ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%-26s [%s] %3d%% %s %6.1f MB/s ETA %s%s", d->name, bar, pct, amount,
                rate / 1e6, eta, final ? "\n" : "");
        d->last_draw = t;
    } else {
        fprintf(stderr, "%s: %3d%% %s %.1f MB/s ETA %s\n", d->name, pct, amount, rate / 1e6, eta);
        d->last_decile = pct / 10;
    }
    d->drawn = !final;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    progress_draw(ud, 0);
    return 0; /* never abort */
}

/* ---- the download ----------------------------------------------------- */

/* Empty the .part and the hash: the download starts over. */
static int part_reset(download *d)
{
    if (ftruncate(d->fd, 0) != 0 || lseek(d->fd, 0, SEEK_SET) != 0) {
        d->io_errno = errno;
        return -1;
    }
    ds_sha256_init(&d->sha);
    d->pos = d->start_pos = 0;
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    download *d = ud;
    size_t n = size * nmemb;
    if (!d->checked) {
        long code = 0;
        curl_easy_getinfo(d->f->curl, CURLINFO_RESPONSE_CODE, &code);
        d->checked = 1;
        if (code != 200 && code != 206) {
            d->bad_status = code; /* refuse an error page's body */
            return 0;
        }
        if (code == 200 && d->pos > 0 && part_reset(d) != 0)
            return 0; /* the range was ignored: the whole file follows */
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write(d->fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->io_errno = w < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)w;
    }
    ds_sha256_update(&d->sha, data, n);
    d->pos += (long long)n;
    return n;
}

/* Options of a GET from d->pos on, following redirects. */
static void get_opts(download *d, const remote_file *rf)
{
    fetcher *f = d->f;
    common_opts(f, rf->get_url);
    curl_easy_setopt(f->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(f->curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(f->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d->pos);
    curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, d);
    if (f->progress) {
        curl_easy_setopt(f->curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(f->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(f->curl, CURLOPT_XFERINFODATA, d);
    }
    /* The token is added only when this URL is the hub itself, never for a
     * CDN URL. Should the hub redirect this GET elsewhere, libcurl (>= 7.58)
     * drops a custom Authorization header on a change of host, and
     * UNRESTRICTED_AUTH 0 (the default, set to say so) keeps it that way. */
    curl_easy_setopt(f->curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
    if (rf->get_auth && f->auth)
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, f->auth);
}

/* One GET from d->pos on (a Range request when > 0), following redirects.
 * Returns 0 when the body is in, 1 when the server refused the range (the
 * caller starts over), -1 on error. */
static int get_once(download *d, const remote_file *rf)
{
    fetcher *f = d->f;
    get_opts(d, rf);
    d->checked = 0;
    d->bad_status = 0;
    d->io_errno = 0;
    d->resumed_at = d->pos;
    CURLcode rc = curl_easy_perform(f->curl);
    long code = 0;
    curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &code);
    long status = d->bad_status ? d->bad_status : code;
    if (d->io_errno)
        return ds_fail(f->err, DS_EIO, "writing %s/%s.part: %s", f->dir, d->name,
                       strerror(d->io_errno));
    if (d->resumed_at > 0 && (rc == CURLE_RANGE_ERROR || status == 416))
        return 1;
    if (d->bad_status || (rc == CURLE_OK && code != 200 && code != 206))
        return http_fail(f, status, rf->get_url, "");
    if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
        (rc == CURLE_OPERATION_TIMEDOUT && d->pos > d->resumed_at))
        return ds_fail(f->err, DS_ENET,
                       "downloading %s: %s after %lld of %lld bytes; run again to resume",
                       d->name, f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc), d->pos,
                       d->total);
    if (rc != CURLE_OK)
        return curl_fail(f, rc, rf->get_url, "downloading");
    return 0;
}

/* GET the rest of the file, starting over once if the range is refused. */
static int transfer(download *d, const remote_file *rf)
{
    d->t0 = now_s();
    d->start_pos = d->pos;
    d->last_decile = d->total > 0 ? (int)(10 * d->pos / d->total) : 0;
    for (int tries = 0; tries < 2; tries++) {
        int rc = get_once(d, rf);
        if (rc == 0 && d->f->progress)
            progress_draw(d, 1);
        else if (rc < 0 && d->tty && d->drawn)
            fputc('\n', stderr); /* end the bar before the error is shown */
        if (rc <= 0)
            return rc;
        if (part_reset(d) != 0)
            return ds_fail(d->f->err, DS_EIO, "truncating %s.part: %s", d->name,
                           strerror(d->io_errno));
    }
    return ds_fail(d->f->err, DS_ENET, "%s: the server refused a plain download", d->name);
}

/* Open the .part and hash what it already holds (to resume after it). */
static int part_open(download *d, const char *part)
{
    struct stat st;
    d->fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->fd < 0 || fstat(d->fd, &st) != 0)
        return ds_fail(d->f->err, DS_EIO, "opening %s: %s", part, strerror(errno));
    ds_sha256_init(&d->sha);
    d->pos = (long long)st.st_size;
    if (d->total >= 0 && d->pos > d->total && part_reset(d) != 0)
        return ds_fail(d->f->err, DS_EIO, "truncating %s: %s", part, strerror(d->io_errno));
    if (d->pos > 0 && hash_fd(d->fd, d->pos, &d->sha) != 0)
        return ds_fail(d->f->err, DS_EIO, "reading %s: %s", part, strerror(errno));
    return 0;
}

/* Compare size and sha256 with rf. Returns 0 when they match, else -1 with
 * DS_ECHECKSUM. Leaves the digest in d->hex. */
static int verify(download *d, const remote_file *rf)
{
    ds_sha256 copy = d->sha;
    uint8_t digest[DS_SHA256_LEN];
    ds_sha256_final(&copy, digest);
    ds_sha256_hex(digest, d->hex);
    if (rf->size >= 0 && d->pos != rf->size)
        return ds_fail(d->f->err, DS_ECHECKSUM, "%s: size mismatch: expected %lld bytes, got %lld",
                       d->name, rf->size, d->pos);
    if (rf->sha256[0] && strcmp(rf->sha256, d->hex) != 0)
        return ds_fail(d->f->err, DS_ECHECKSUM,
                       "%s: sha256 mismatch: expected %s, got %s (download deleted)", d->name,
                       rf->sha256, d->hex);
    return 0;
}

/* Make the verified .part durable, rename it into place, fsync the
 * directory, then write the sidecar. Closes d->fd. */
static int commit(download *d, const char *part, const char *final)
{
    int rc = -1, dfd = -1;
    int ok = fsync(d->fd) == 0;
    ok = close(d->fd) == 0 && ok;
    d->fd = -1;
    if (!ok || rename(part, final) != 0)
        goto out;
    dfd = open(d->f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        goto out;
    write_sidecar(d->f, d->name, d->hex, d->pos);
    rc = 0;
out:
    if (rc != 0)
        ds_fail(d->f->err, DS_EIO, "saving %s: %s", final, strerror(errno));
    if (dfd >= 0)
        close(dfd);
    return rc;
}

/* Download one file into place. A mismatch after resuming may come from a
 * stale .part (the file changed upstream): that case starts over once. */
static int download_file(fetcher *f, const char *name, const remote_file *rf)
{
    char part[PATH_MAX_], final[PATH_MAX_];
    download d = {.f = f, .name = name, .fd = -1, .total = rf->size};
    d.tty = isatty(STDERR_FILENO);
    int rc = -1;
    if (fmt(part, sizeof part, "%s/%s.part", f->dir, name) != 0 ||
        fmt(final, sizeof final, "%s/%s", f->dir, name) != 0) {
        ds_fail(f->err, DS_EINVAL, "path too long in %s", f->dir);
        goto out;
    }
    if (part_open(&d, part) != 0)
        goto out;
    for (int attempt = 0;; attempt++) {
        long long had = d.pos;
        if ((rf->size < 0 || d.pos < rf->size) && transfer(&d, rf) != 0)
            goto out;
        if (verify(&d, rf) == 0)
            break;
        if (attempt > 0 || had == 0 || part_reset(&d) != 0) {
            unlink(part);
            goto out;
        }
    }
    rc = commit(&d, part, final);
out:
    if (d.fd >= 0)
        close(d.fd);
    return rc;
}

/* HEAD, skip if cached, else download. */
static int fetch_one(fetcher *f, const char *name, int optional)
{
    remote_file rf;
    int absent = 0;
    if (head_file(f, name, optional, &rf, &absent) != 0)
        return -1; /* the message names the URL, hence the file */
    if (absent || already_complete(f, name, &rf))
        return 0;
    return download_file(f, name, &rf);
}

/* Whether every required file is in the cache, each with the sidecar that a
 * verified download leaves and the size it records: what lets a machine that
 * has gone offline keep using a model it fetched before. */
static int cached_copy_complete(const fetcher *f)
{
    for (size_t i = 0; i < sizeof repo_files / sizeof repo_files[0]; i++) {
        char hex[65], path[4200];
        long long size;
        struct stat st;
        if (repo_files[i].optional)
            continue;
        if (read_sidecar(f, repo_files[i].name, hex, &size) != 0 ||
            fmt(path, sizeof path, "%s/%s", f->dir, repo_files[i].name) != 0 ||
            stat(path, &st) != 0 || (long long)st.st_size != size)
            return 0;
    }
    return 1;
}

int mdl_fetch(const char *repo, const mdl_fetch_opts *o, char *dir_out, size_t n, ds_err *err)
{
    fetcher *f = calloc(1, sizeof *f);
    int rc = -1;
    if (!f)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    f->err = err;
    if (fetcher_setup(f, repo, o) != 0)
        goto out;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK || !(f->curl = curl_easy_init())) {
        ds_fail(err, DS_ENET, "cannot initialise libcurl");
        goto out;
    }
    for (size_t i = 0; i < sizeof repo_files / sizeof repo_files[0]; i++) {
        if (fetch_one(f, repo_files[i].name, repo_files[i].optional) == 0)
            continue;
        if (err->code != DS_ENET || !cached_copy_complete(f))
            goto out;
        /* Offline with a complete, verified copy: use it, and say so. */
        if (o && o->progress)
            fprintf(stderr, "dinoseek: %s\ndinoseek: offline: using the copy of %s already in "
                            "%s (not checked for updates)\n", err->msg, repo, f->dir);
        ds_err_clear(err);
        break;
    }
    if (dir_out && fmt(dir_out, n, "%s", f->dir) != 0) {
        ds_fail(err, DS_EINVAL, "model directory path does not fit in %zu bytes", n);
        goto out;
    }
    rc = 0;
out:
    if (f->curl)
        curl_easy_cleanup(f->curl);
    curl_slist_free_all(f->auth);
    free(f);
    return rc;
}
